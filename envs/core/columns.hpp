#pragma once
// An action as table columns: one column per leaf of the action space
// (dict knobs by name, nested ones as "a.b", vector elements in order), as
// dataset export writes them and proxy models read them.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/core/space.hpp"

namespace dsegym {

struct ParamColumn {
  std::string name;
  // {"name", "role": "parameter", "kind", "space": the leaf's space, "element"
  // (index inside a vector space), "cardinality" (discrete leaves)}
  json schema;
};

std::vector<ParamColumn> param_columns(const Space& space);

// The action's leaf values as JSON scalars, in column order.
void param_values(const Space& space, const Value& action, std::vector<json>& out);

}  // namespace dsegym
