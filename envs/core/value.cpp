#include "envs/core/value.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace dsegym {

const char* Value::type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Double: return "double";
    case Type::String: return "string";
    case Type::Real: return "real vector";
    case Type::List: return "list";
    case Type::Dict: return "dict";
  }
  return "?";
}

void Value::type_error(Type wanted) const {
  throw InvalidArgument(std::string("expected a ") + type_name(wanted) + ", got " + type_name() +
                        " " + dump());
}

bool Value::as_bool() const {
  if (!is_bool()) type_error(Type::Bool);
  return std::get<bool>(v_);
}
std::int64_t Value::as_int() const {
  if (!is_int()) type_error(Type::Int);
  return std::get<std::int64_t>(v_);
}
double Value::as_double() const {
  if (is_double()) return std::get<double>(v_);
  if (is_int()) return static_cast<double>(std::get<std::int64_t>(v_));
  type_error(Type::Double);
}
const std::string& Value::as_string() const {
  if (!is_string()) type_error(Type::String);
  return std::get<std::string>(v_);
}
const Value::Real& Value::as_real() const {
  if (!is_real()) type_error(Type::Real);
  return std::get<Real>(v_);
}
const Value::List& Value::as_list() const {
  if (!is_list()) type_error(Type::List);
  return std::get<List>(v_);
}
Value::List& Value::as_list() {
  if (!is_list()) type_error(Type::List);
  return std::get<List>(v_);
}
const Value::Dict& Value::as_dict() const {
  if (!is_dict()) type_error(Type::Dict);
  return std::get<Dict>(v_);
}
Value::Dict& Value::as_dict() {
  if (!is_dict()) type_error(Type::Dict);
  return std::get<Dict>(v_);
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_dict())
    if (k == key) return &v;
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  if (const Value* v = find(key)) return *v;
  std::string keys;
  for (const auto& kv : as_dict()) keys += (keys.empty() ? "" : ", ") + kv.first;
  throw InvalidArgument("missing key '" + std::string(key) + "' (present: " +
                        (keys.empty() ? "none" : keys) + ")");
}

void Value::set(std::string key, Value v) {
  if (is_null()) v_ = Dict{};
  auto& d = as_dict();
  for (auto& kv : d)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  d.emplace_back(std::move(key), std::move(v));
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::Null: return true;
    case Value::Type::Bool: return a.as_bool() == b.as_bool();
    case Value::Type::Int: return a.as_int() == b.as_int();
    case Value::Type::Double: return a.as_double() == b.as_double();
    case Value::Type::String: return a.as_string() == b.as_string();
    case Value::Type::Real: return a.as_real() == b.as_real();
    case Value::Type::List: return a.as_list() == b.as_list();
    case Value::Type::Dict: {
      const auto& x = a.as_dict();
      const auto& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* o = b.find(k);
        if (!o || *o != v) return false;
      }
      return true;
    }
  }
  return false;
}

std::string Value::dump() const { return to_json(*this).dump(); }

json to_json(const Value& v) {
  switch (v.type()) {
    case Value::Type::Null: return nullptr;
    case Value::Type::Bool: return v.as_bool();
    case Value::Type::Int: return v.as_int();
    case Value::Type::Double: {
      const double d = v.as_double();
      // JSON has no NaN/inf; null marks a missing number.
      if (!std::isfinite(d)) return nullptr;
      return d;
    }
    case Value::Type::String: return v.as_string();
    case Value::Type::Real: {
      json a = json::array();
      for (double d : v.as_real()) a.push_back(std::isfinite(d) ? json(d) : json(nullptr));
      return a;
    }
    case Value::Type::List: {
      json a = json::array();
      for (const auto& e : v.as_list()) a.push_back(to_json(e));
      return a;
    }
    case Value::Type::Dict: {
      json o = json::object();
      for (const auto& [k, e] : v.as_dict()) o[k] = to_json(e);
      return o;
    }
  }
  return nullptr;
}

Value value_from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return Value();
    case json::value_t::boolean: return Value(j.get<bool>());
    case json::value_t::number_integer: return Value(j.get<std::int64_t>());
    case json::value_t::number_unsigned: return Value(static_cast<std::int64_t>(j.get<std::uint64_t>()));
    case json::value_t::number_float: return Value(j.get<double>());
    case json::value_t::string: return Value(j.get<std::string>());
    case json::value_t::array: {
      bool all_numbers = !j.empty();
      bool any_float = false;
      for (const auto& e : j) {
        all_numbers = all_numbers && e.is_number();
        any_float = any_float || e.is_number_float();
      }
      if (all_numbers && any_float) return Value(j.get<std::vector<double>>());
      Value::List l;
      l.reserve(j.size());
      for (const auto& e : j) l.push_back(value_from_json(e));
      return Value(std::move(l));
    }
    case json::value_t::object: {
      Value::Dict d;
      d.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) d.emplace_back(it.key(), value_from_json(it.value()));
      return Value(std::move(d));
    }
    default: break;
  }
  throw InvalidArgument("unsupported JSON value: " + j.dump());
}

}  // namespace dsegym
