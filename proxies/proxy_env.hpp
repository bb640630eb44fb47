#pragma once
// Proxy-backed envs: the "cost_model" option every env accepts.
//   "proxy:PATH"  every step is answered by the saved proxy model (one-shot
//                 envs only; the model must have been trained on this env,
//                 with these env options and this action space)
//   "hybrid"      active learning: the simulator answers until a model is
//                 trained on its results; then the proxy answers every design
//                 it is confident will not beat the best simulated one, the
//                 simulator all others, and the model is retrained
//                 periodically on the simulated results.
// Either way the env's metrics are the proxy's targets, and each step's
// info says {"cost_model": "proxy"} or {"cost_model": "simulator"}.
namespace dsegym {

// Called by app/builtin.cpp.
void register_proxy_cost_models();

}  // namespace dsegym
