#include "envs/core/columns.hpp"

namespace dsegym {

namespace {

void columns(const Space& s, const std::string& prefix, std::vector<ParamColumn>& out) {
  if (const auto* d = dynamic_cast<const DictSpace*>(&s)) {
    for (const auto& [name, child] : d->children()) columns(*child, prefix.empty() ? name : prefix + "." + name, out);
    return;
  }
  const auto& leaves = s.leaves();
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    std::string name = prefix + leaves[i].name;
    if (name.empty()) name = "action";
    json c = {{"name", name}, {"role", "parameter"}, {"kind", leaf_kind_name(leaves[i].kind)}, {"space", s.to_json()}};
    if (leaves.size() > 1) c["element"] = i;
    if (leaves[i].cardinality > 0) c["cardinality"] = leaves[i].cardinality;
    out.push_back({name, c});
  }
}

}  // namespace

std::vector<ParamColumn> param_columns(const Space& space) {
  std::vector<ParamColumn> out;
  columns(space, "", out);
  return out;
}

void param_values(const Space& s, const Value& v, std::vector<json>& out) {
  if (const auto* d = dynamic_cast<const DictSpace*>(&s)) {
    for (const auto& [name, child] : d->children()) param_values(*child, v.at(name), out);
    return;
  }
  if (v.is_real()) {
    for (double x : v.as_real()) out.push_back(x);
  } else if (v.is_list()) {
    for (const auto& e : v.as_list()) out.push_back(to_json(e));
  } else {
    out.push_back(to_json(v));
  }
}

}  // namespace dsegym
