#include "envs/nas/cell_evaluator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "envs/core/params.hpp"
#include "envs/nas/nas_eval.hpp"

namespace dsegym::nn {

using nlohmann::json;

Cell representative(const Cell& c) {
  static const std::map<std::string, std::int64_t> first = [] {
    std::map<std::string, std::int64_t> m;
    for (std::int64_t i = kCells - 1; i >= 0; --i) m[Cell::from_index(i).canonical()] = i;
    return m;
  }();
  return Cell::from_index(first.at(c.canonical()));
}

std::vector<ParamSpec> cell_eval_param_specs() {
  return {
      {"evaluator", "zero_cost (scores at initialisation, ~0.1 s per cell) or train (SGD on Fashion-MNIST, seconds to minutes)", "zero_cost",
       std::make_shared<Categorical>(std::vector<std::string>{"zero_cost", "train"})},
      {"score", "zero_cost: the score the default reward maximises: naswot, synflow or grad_norm", "naswot",
       std::make_shared<Categorical>(std::vector<std::string>{"naswot", "synflow", "grad_norm"})},
      {"channels", "channels of a cell network's first stage (doubled per stage; NAS-Bench-201: 16)", 8, std::make_shared<Integer>(1, 256)},
      {"cells_per_stage", "cells per stage (NAS-Bench-201: 5)", 1, std::make_shared<Integer>(1, 10)},
      {"train", "train: {images (10000), epochs (2), batch (128), lr (0.1), test_images (10000)}", json::object(), nullptr},
      {"zero_cost_batch", "zero_cost: training images for naswot and grad_norm", 64, std::make_shared<Integer>(2, 1024)},
      {"seed", "initialisation and data-order seed (fixed, so a network always gets the same result)", 0, std::make_shared<Integer>(0, 1 << 30)},
      {"threads", "torch threads per evaluation", 1, std::make_shared<Integer>(1, 64)},
      {"cache", "JSONL file of results shared by runs (empty: in memory only)", "", nullptr},
  };
}

CellEvalOptions cell_eval_options(const Params& p, const std::string& env_id) {
  CellEvalOptions o;
  o.evaluator = p.get_string("evaluator");
  o.net.channels = static_cast<int>(p.get_int("channels"));
  o.net.cells_per_stage = static_cast<int>(p.get_int("cells_per_stage"));
  o.train = p.get("train");
  const std::string what = "env '" + env_id + "' option 'train'";
  check_keys(o.train, {"images", "epochs", "batch", "lr", "test_images"}, what);
  for (const auto& [k, v] : o.train.items())
    if (!v.is_number() || v.get<double>() <= 0) throw InvalidArgument(what + "." + k + ": expected a positive number, got " + v.dump());
  o.zero_cost_batch = p.get_int("zero_cost_batch");
  o.seed = p.get_int("seed");
  o.threads = p.get_int("threads");
  o.cache = p.get_string("cache");
  return o;
}

CellEvaluator::CellEvaluator(CellEvalOptions o)
    : opt_(std::move(o)), path_(opt_.cache.empty() ? std::string() : user_file(opt_.cache, "option 'cache'")) {
  json options = opt_.evaluator == "train" ? opt_.train : json{{"batch", opt_.zero_cost_batch}};
  if (!opt_.classes.empty()) options["classes"] = opt_.classes;
  request_ = {{"task", opt_.evaluator},
              {"net", {{"channels", opt_.net.channels}, {"cells_per_stage", opt_.net.cells_per_stage}}},
              {"options", options},
              {"seed", opt_.seed},
              {"threads", opt_.threads}};
  if (path_.empty()) return;
  std::ifstream in(path_);
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      const json row = parse_json(line, "NAS cache " + path_);
      mem_[row.at("key").get<std::string>()] = row.at("result");
    } catch (const std::exception&) {
      // A cut-short last line (a run killed mid-write) is skipped; anything else is an error.
      if (in.peek() != EOF) throw InvalidArgument("NAS cache " + path_ + " line " + std::to_string(n) + ": not a {\"key\", \"result\"} JSON row");
    }
  }
}

json CellEvaluator::evaluate(const Cell& cell) {
  json req = request_;
  req["cell"] = representative(cell).str();
  return evaluate_request(std::move(req));
}

json CellEvaluator::evaluate(const MacroArch& arch) {
  json req = request_;
  req["macro"] = arch.str();
  req["net"].erase("channels");  // the macro space sets its own widths
  req["net"].erase("cells_per_stage");
  return evaluate_request(std::move(req));
}

json CellEvaluator::evaluate_request(json req) {
  json settings = req;
  settings.erase("threads");
  const std::string key = settings.dump();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = mem_.find(key);
    if (it != mem_.end()) return it->second;
  }
  json result = nas_evaluate(req);
  result.erase("seconds");
  result.erase("params");  // the envs count the cell's own
  std::lock_guard<std::mutex> lock(mutex_);
  mem_[key] = result;
  if (!path_.empty()) {
    const std::string row = json{{"key", key}, {"result", result}}.dump() + "\n";
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("NAS cache " + path_ + ": cannot open for appending");
    const bool ok = ::write(fd, row.data(), row.size()) == static_cast<ssize_t>(row.size());
    ::close(fd);
    if (!ok) throw Error("NAS cache " + path_ + ": write failed");
  }
  return result;
}

}  // namespace dsegym::nn
