#pragma once
#include <string>

#include "envs/core/env_registry.hpp"
#include "simulators/accel/mapper.hpp"

namespace dsegym {

// accel-v0 (architecture design, TimeloopGym-style) and accel-mapping-v0
// (mapping of one layer on a fixed architecture, MaestroGym/GAMMA-style) on
// the analytical accelerator model of simulators/accel.
void register_accel_envs(EnvRegistry& reg);

// accel-mapping-v0's action and the mapping it stands for.
DictSpace::Children accel_mapping_knobs(const accel::Layer& layer, const accel::Arch& arch);
accel::Mapping accel_action_mapping(const accel::Layer& layer, const accel::Arch& arch, const Value& action);
// A mapping (e.g. the built-in mapper's) written as an action of the env.
json accel_mapping_action(const accel::Layer& layer, const accel::Arch& arch, const accel::Mapping& m);
// The layer named (or indexed) by the env's `layer` option.
const accel::Layer& accel_mapping_layer(const accel::Workload& w, const std::string& name_or_index);

}  // namespace dsegym
