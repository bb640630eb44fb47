#include "envs/nas/nas_env.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <map>
#include <mutex>

#include "envs/core/error.hpp"
#include "envs/core/params.hpp"
#include "envs/nas/nas_eval.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/nn/cell_space.hpp"

namespace dsegym {

namespace {

using nn::Cell;

// Action keys, one per edge: "e<from>_<to>".
std::string edge_key(int e) { return "e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e)); }

// The lowest-index cell of each isomorphism class: every cell is evaluated
// as its representative, so isomorphic cells get the same results whatever
// order they come in.
std::int64_t representative(const Cell& c) {
  static const std::map<std::string, std::int64_t> first = [] {
    std::map<std::string, std::int64_t> m;
    for (std::int64_t i = nn::kCells - 1; i >= 0; --i) m[Cell::from_index(i).canonical()] = i;
    return m;
  }();
  return first.at(c.canonical());
}

// Results of (task, settings, representative cell), in memory and, with the
// `cache` option, in a JSONL file shared by runs.
class ResultCache {
public:
  explicit ResultCache(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    std::ifstream in(path_);
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      json row;
      try {
        row = json::parse(line);
        mem_[row.at("key").get<std::string>()] = row.at("result");
      } catch (const std::exception&) {
        // A cut-short last line (a run killed mid-write) is skipped; anything else is an error.
        if (in.peek() != EOF) throw InvalidArgument("NAS cache " + path_ + " line " + std::to_string(n) + ": not a {\"key\", \"result\"} JSON row");
      }
    }
  }
  const json* find(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = mem_.find(key);
    return it == mem_.end() ? nullptr : &it->second;
  }
  void put(const std::string& key, const json& result) {
    std::lock_guard<std::mutex> lock(mutex_);
    mem_[key] = result;
    if (path_.empty()) return;
    const std::string line = json{{"key", key}, {"result", result}}.dump() + "\n";
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("NAS cache " + path_ + ": cannot open for appending");
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) throw Error("NAS cache " + path_ + ": write failed");
  }

private:
  std::string path_;
  mutable std::mutex mutex_;
  std::map<std::string, json> mem_;
};

std::vector<ParamSpec> nas_options() {
  return {
      {"evaluator", "zero_cost (scores at initialisation, ~0.1 s) or train (SGD on Fashion-MNIST, seconds to minutes)", "zero_cost",
       std::make_shared<Categorical>(std::vector<std::string>{"zero_cost", "train"})},
      {"score", "zero_cost: the score the default reward maximises: naswot, synflow or grad_norm", "naswot",
       std::make_shared<Categorical>(std::vector<std::string>{"naswot", "synflow", "grad_norm"})},
      {"channels", "channels of the first stage (doubled per stage; NAS-Bench-201: 16)", 8, std::make_shared<Integer>(1, 256)},
      {"cells_per_stage", "cells per stage (NAS-Bench-201: 5)", 1, std::make_shared<Integer>(1, 10)},
      {"train", "train: {images (10000), epochs (2), batch (128), lr (0.1), test_images (10000)}", json::object(), nullptr},
      {"seed", "initialisation and data-order seed (fixed, so a cell always gets the same result)", 0, std::make_shared<Integer>(0, 1 << 30)},
      {"threads", "torch threads per evaluation", 1, std::make_shared<Integer>(1, 64)},
      {"arch", "accelerator for latency and energy, as JSON (see `dsegym sim accel --arch`); default Eyeriss-like", json::object(), nullptr},
      {"dataflow", "accelerator dataflow: ws, os, rs or is", "rs", std::make_shared<Categorical>(accel::dataflow_names())},
      {"cache", "JSONL file of results shared by runs (empty: in memory only)", "", nullptr},
  };
}

class NasEnv final : public Env {
public:
  NasEnv(std::shared_ptr<const EnvSpec> spec, const Params& p)
      : Env(std::move(spec)),
        evaluator_(p.get_string("evaluator")),
        arch_(accel::parse_arch(p.get("arch"), "env 'nas-v0' option 'arch'")),
        dataflow_(accel::dataflow_from_name(p.get_string("dataflow"))),
        cache_(p.get_string("cache")) {
    net_.channels = static_cast<int>(p.get_int("channels"));
    net_.cells_per_stage = static_cast<int>(p.get_int("cells_per_stage"));
    const json& t = p.get("train");
    check_keys(t, {"images", "epochs", "batch", "lr", "test_images"}, "env 'nas-v0' option 'train'");
    for (const auto& [k, v] : t.items())
      if (!v.is_number() || v.get<double>() <= 0)
        throw InvalidArgument("env 'nas-v0' option 'train." + k + "': expected a positive number, got " + v.dump());
    request_ = {{"task", evaluator_},
                {"net", {{"channels", net_.channels}, {"cells_per_stage", net_.cells_per_stage}}},
                {"options", evaluator_ == "train" ? t : json::object()},
                {"seed", p.get_int("seed")},
                {"threads", p.get_int("threads")}};
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }

  StepResult do_step(const Value& act) override {
    Cell cell;
    for (int e = 0; e < nn::kEdges; ++e) cell.ops[static_cast<std::size_t>(e)] = nn::op_from_name(act.at(edge_key(e)).as_string());
    const Cell rep = Cell::from_index(representative(cell));
    json req = request_;
    req["cell"] = rep.str();
    json settings = req;
    settings.erase("threads");
    const std::string key = settings.dump();
    json result;
    if (const json* hit = cache_.find(key)) {
      result = *hit;
    } else {
      result = nn::nas_evaluate(req);
      result.erase("seconds");
      result.erase("params");  // counted for the cell itself below
      cache_.put(key, result);
    }
    StepResult r;
    r.terminated = true;
    if (evaluator_ == "train") {
      r.metrics.set("accuracy_pct", result.at("accuracy_pct").get<double>());
    } else {
      for (const char* k : {"naswot", "synflow", "grad_norm"}) r.metrics.set(k, result.at(k).get<double>());
    }
    r.metrics.set("params", static_cast<double>(nn::parameter_count(cell, net_)));
    r.metrics.set("macs", static_cast<double>(nn::mac_count(cell, net_)));
    accel::Workload w;
    w.name = "nas-bench-201 network";
    w.layers = nn::accel_layers(cell, net_);
    const accel::WorkloadResult hw = accel::run_workload(w, arch_, dataflow_);
    if (hw.valid) {
      r.metrics.set("latency_us", hw.latency_ns / 1000);
      r.metrics.set("energy_uj", hw.energy_pj / 1e6);
    }
    std::vector<double> obs;
    for (const auto& m : spec().metrics) {
      const double* v = r.metrics.find(m.name);
      obs.push_back(v ? *v : 0.0);
    }
    r.obs = Value(std::move(obs));
    r.info = Value(Value::Dict{{"cell", cell.str()}, {"evaluated_as", rep.str()}});
    if (!hw.valid) r.status = EvalStatus::infeasible("the accelerator cannot run the network: " + hw.reason);
    return r;
  }

private:
  std::string evaluator_;
  nn::NetConfig net_;
  accel::Arch arch_;
  accel::Dataflow dataflow_;
  ResultCache cache_;
  json request_;
};

}  // namespace

void register_nas_envs(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "nas-v0",
      "neural architecture search over NAS-Bench-201 cells on Fashion-MNIST; accuracy (trained) or zero-cost scores, params, MACs, accelerator latency and energy",
      nas_options(),
      [](const Params& p) -> EnvPtr {
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "nas-v0";
        spec->description = "NAS-Bench-201 cell for Fashion-MNIST";
        DictSpace::Children knobs;
        const std::vector<std::string> ops(nn::op_names().begin(), nn::op_names().end());
        for (int e = 0; e < nn::kEdges; ++e) knobs.emplace_back(edge_key(e), std::make_shared<Categorical>(ops));
        spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
        const bool train = p.get_string("evaluator") == "train";
        if (train) {
          spec->metrics.push_back({"accuracy_pct", "%", Goal::Maximize, "Fashion-MNIST test accuracy after the training budget"});
        } else {
          spec->metrics.push_back({"naswot", "1", Goal::Maximize, "log|det(K + I)| of ReLU activation codes at initialisation (Mellor et al., ICML 2021)"});
          spec->metrics.push_back({"synflow", "1", Goal::Maximize, "synaptic flow at initialisation (Tanaka et al., 2020; Abdelfattah et al., ICLR 2021)"});
          spec->metrics.push_back({"grad_norm", "1", Goal::Maximize, "sum of per-parameter gradient L2 norms at initialisation"});
        }
        spec->metrics.push_back({"params", "1", Goal::Minimize, "trainable parameters"});
        spec->metrics.push_back({"macs", "1", Goal::Minimize, "multiply-accumulates per image (live ops)"});
        spec->metrics.push_back({"latency_us", "us", Goal::Minimize, "one image on the accelerator (simulators/accel, mapped layer by layer)"});
        spec->metrics.push_back({"energy_uj", "uJ", Goal::Minimize, "one image on the accelerator"});
        const auto n = static_cast<std::int64_t>(spec->metrics.size());
        spec->observation_space = std::make_shared<Box>(std::vector<double>(static_cast<std::size_t>(n), -std::numeric_limits<double>::infinity()),
                                                        std::vector<double>(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity()),
                                                        std::vector<std::int64_t>{n});
        spec->options = nas_options();
        spec->default_reward = {{"type", "metric"}, {"metric", train ? "accuracy_pct" : p.get_string("score")}};
        spec->resolved_options = p.resolved();
        spec->max_episode_steps = 1;
        return std::make_unique<NasEnv>(std::move(spec), p);
      }});
}

}  // namespace dsegym
