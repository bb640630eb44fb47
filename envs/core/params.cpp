#include "envs/core/params.hpp"

#include <cmath>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym {

namespace {

const char* json_kind(const json& j) {
  if (j.is_boolean()) return "boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "integer";
  if (j.is_number()) return "number";
  if (j.is_string()) return "string";
  if (j.is_array()) return "array";
  if (j.is_object()) return "object";
  return "null";
}

bool compatible(const json& def, const json& v) {
  if (def.is_null()) return true;
  if (def.is_boolean()) return v.is_boolean();
  if (def.is_number_integer() || def.is_number_unsigned()) return v.is_number_integer() || v.is_number_unsigned();
  if (def.is_number()) return v.is_number();
  if (def.is_string()) return v.is_string();
  if (def.is_array()) return v.is_array();
  if (def.is_object()) return v.is_object();
  return false;
}

}  // namespace

json ParamSpec::to_json() const {
  json j = {{"name", name}, {"description", description}, {"default", default_value},
            {"type", default_value.is_null() ? "required" : json_kind(default_value)}};
  if (range) j["range"] = range->to_json();
  return j;
}

std::string param_names(const std::vector<ParamSpec>& specs) {
  std::string s;
  for (const auto& p : specs) s += (s.empty() ? "" : ", ") + p.name;
  return s.empty() ? "(none)" : s;
}


Params::Params(const std::vector<ParamSpec>& specs, const json& given, std::string what) : what_(std::move(what)) {
  if (!given.is_null() && !given.is_object())
    throw InvalidArgument(what_ + "s must be a JSON object, got " + excerpt(given));
  if (given.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      bool known = false;
      for (const auto& s : specs) known = known || s.name == it.key();
      if (!known) throw InvalidArgument("unknown " + what_ + " '" + excerpt(it.key(), 100) + "'; valid: " + param_names(specs));
    }
    given_ = given;
  }
  for (const auto& s : specs) {
    const bool has = given_.contains(s.name);
    if (!has && s.default_value.is_null()) throw InvalidArgument(what_ + " '" + s.name + "' is required: " + s.description);
    json v = has ? given_.at(s.name) : s.default_value;
    // An integral float (3.0) is accepted for an integer parameter.
    if (has && (s.default_value.is_number_integer() || s.default_value.is_number_unsigned()) && v.is_number_float() &&
        v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9.0e15)
      v = static_cast<std::int64_t>(v.get<double>());
    if (has && !compatible(s.default_value, v))
      throw InvalidArgument(what_ + " '" + s.name + "': expected " + json_kind(s.default_value) + ", got " + excerpt(v));
    if (has && s.range) {
      // Normalise through the range's parser (3.0 -> 3 for integers) and check membership.
      try {
        v = dsegym::to_json(s.range->parse(v, s.name));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(what_ + " " + e.what());
      }
    }
    values_[s.name] = std::move(v);
  }
}

const json& Params::get(const std::string& name) const {
  if (!values_.contains(name)) throw Error("internal: " + what_ + " '" + name + "' is not declared");
  return values_.at(name);
}

bool Params::was_given(const std::string& name) const { return given_.contains(name); }

bool Params::get_bool(const std::string& name) const { return get(name).get<bool>(); }
std::int64_t Params::get_int(const std::string& name) const { return get(name).get<std::int64_t>(); }
double Params::get_double(const std::string& name) const { return get(name).get<double>(); }
std::string Params::get_string(const std::string& name) const { return get(name).get<std::string>(); }

}  // namespace dsegym
