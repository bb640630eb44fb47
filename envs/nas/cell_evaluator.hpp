#pragma once
// Evaluation of NAS-Bench-201 cells for the NAS envs: trained accuracy or
// zero-cost scores (envs/nas/nas_eval.hpp), once per isomorphism class and
// setting, remembered in memory and optionally in a JSONL file shared by
// runs.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/core/params.hpp"
#include "simulators/nn/cell_space.hpp"
#include "simulators/nn/macro_space.hpp"

namespace dsegym::nn {

struct CellEvalOptions {
  std::string evaluator = "zero_cost";  // or "train"
  NetConfig net;
  nlohmann::json train = nlohmann::json::object();  // images, epochs, batch, lr, test_images
  std::vector<std::int64_t> classes;               // empty: all ten
  std::int64_t seed = 0, threads = 1;
  std::int64_t zero_cost_batch = 64;                // images for naswot and grad_norm
  std::string cache;                                // JSONL file; empty: memory only
};

class CellEvaluator {
public:
  explicit CellEvaluator(CellEvalOptions o);
  // {"accuracy_pct"} (train) or {"naswot", "synflow", "grad_norm"} (zero_cost),
  // of the cell's isomorphism class representative.
  nlohmann::json evaluate(const Cell& cell);
  // The same for a network of the MobileNet-style macro space.
  nlohmann::json evaluate(const MacroArch& arch);
  const CellEvalOptions& options() const { return opt_; }

private:
  nlohmann::json evaluate_request(nlohmann::json req);

  CellEvalOptions opt_;
  nlohmann::json request_;
  std::string path_;
  std::mutex mutex_;
  std::map<std::string, nlohmann::json> mem_;
};

// The lowest-index cell isomorphic to c.
Cell representative(const Cell& c);

// The env options that configure the evaluation (evaluator, score, channels,
// cells_per_stage, train, zero_cost_batch, seed, threads, cache), shared by
// the NAS envs, and the settings they give; `env_id` names the env in errors.
std::vector<ParamSpec> cell_eval_param_specs();
CellEvalOptions cell_eval_options(const Params& p, const std::string& env_id);

}  // namespace dsegym::nn
