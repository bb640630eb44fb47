#pragma once
// Declared parameters: env options and agent hyperparameters share one
// description (name, description, default, optional range) and one strict
// validator, so a misspelt key or a value out of range is always an error
// naming the key and what is valid, never a silent default.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_io.hpp"
#include "envs/core/space.hpp"

namespace dsegym {

struct ParamSpec {
  std::string name;
  std::string description;
  json default_value;  // its JSON type is the parameter's type; null = required
  SpacePtr range;      // optional: the valid values (sweeps sample from it)

  json to_json() const;
};

// Options as given by a user, checked against their specs. `what` names the
// owner for messages, e.g. "env 'toy-v0' option".
class Params {
public:
  Params() = default;
  Params(const std::vector<ParamSpec>& specs, const json& given, std::string what);

  bool get_bool(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  std::string get_string(const std::string& name) const;
  const json& get(const std::string& name) const;
  bool was_given(const std::string& name) const;

  // Every parameter with defaults filled in.
  const json& resolved() const { return values_; }

private:
  json values_ = json::object();
  json given_ = json::object();
  std::string what_;
};

std::string param_names(const std::vector<ParamSpec>& specs);

}  // namespace dsegym
