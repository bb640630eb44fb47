#pragma once
// Value: the one data type that crosses every boundary (actions, observations,
// info, options). A small variant tree that maps 1:1 to JSON and to the proto.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsegym {

using json = nlohmann::json;

class Value {
public:
  using List = std::vector<Value>;
  // Insertion-ordered: a Dict action keeps its space's knob order.
  using Dict = std::vector<std::pair<std::string, Value>>;
  using Real = std::vector<double>;
  enum class Type { Null, Bool, Int, Double, String, Real, List, Dict };

  Value() = default;
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}
  Value(std::int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Real r) : v_(std::move(r)) {}
  Value(List l) : v_(std::move(l)) {}
  Value(Dict d) : v_(std::move(d)) {}

  Type type() const { return static_cast<Type>(v_.index()); }
  static const char* type_name(Type t);
  const char* type_name() const { return type_name(type()); }

  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_int() const { return type() == Type::Int; }
  bool is_double() const { return type() == Type::Double; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type() == Type::String; }
  bool is_real() const { return type() == Type::Real; }
  bool is_list() const { return type() == Type::List; }
  bool is_dict() const { return type() == Type::Dict; }

  // Typed accessors; a wrong type throws InvalidArgument naming both types.
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_double() const;  // Int or Double
  const std::string& as_string() const;
  const Real& as_real() const;
  const List& as_list() const;
  List& as_list();
  const Dict& as_dict() const;
  Dict& as_dict();

  // Dict access. find() returns nullptr when absent; at() throws naming the
  // key and the keys present; set() replaces or appends.
  const Value* find(std::string_view key) const;
  const Value& at(std::string_view key) const;
  void set(std::string key, Value v);

  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // Compact JSON text, for messages and logs.
  std::string dump() const;

private:
  [[noreturn]] void type_error(Type wanted) const;
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Real, List, Dict> v_;
};

json to_json(const Value& v);
// JSON -> Value without a space to guide it: integers stay Int, arrays of
// numbers that contain a non-integer become Real, other arrays become List.
Value value_from_json(const json& j);

}  // namespace dsegym
