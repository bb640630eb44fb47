#include "experiments/runner.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "agents/agent.hpp"
#include "agents/pareto.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/files.hpp"
#include "envs/core/reward.hpp"
#include "base/rng.hpp"
#include "envs/core/trace.hpp"
#include "envs/core/vector_env.hpp"
#include "envs/core/wrappers.hpp"
#include "experiments/progress.hpp"

namespace dsegym {

std::uint64_t evaluation_seed(std::uint64_t seed, std::int64_t step) {
  return derive_seed(seed, static_cast<std::uint64_t>(step));
}

json RunResult::to_json() const {
  json j = {{"run", run_id}, {"evaluations", evaluations}, {"status_counts", status_counts},
            {"wall_time_s", wall_time_s}, {"evaluations_to_target", evaluations_to_target >= 0 ? json(evaluations_to_target) : json(nullptr)}};
  if (!stopped.empty()) j["stopped"] = stopped;
  if (has_best) {
    json metrics = json::object();
    for (const auto& [k, v] : best_metrics.items()) metrics[k] = v;
    j["best"] = {{"step", best_step}, {"reward", best_reward}, {"action", dsegym::to_json(best_action)}, {"metrics", metrics}};
  } else {
    j["best"] = nullptr;
  }
  if (!trace_path.empty()) j["trace"] = trace_path;
  j["pareto"] = pareto;
  return j;
}

namespace {

// Objectives as (name, sign) with sign +1 to minimise and -1 to maximise:
// --objectives, else the env's defaults.
std::vector<std::pair<std::string, double>> objectives_for(const RunConfig& cfg, const EnvSpec& spec) {
  std::string valid;
  for (const auto& m : spec.metrics)
    if (m.goal != Goal::None) valid += (valid.empty() ? "" : ", ") + m.name;
  const std::vector<std::string> names = cfg.objectives.empty() ? spec.default_objectives() : cfg.objectives;
  if (!cfg.hv_reference.is_null() && !cfg.hv_reference.is_object())
    throw InvalidArgument("hypervolume reference: expected {metric: number}, got " + excerpt(cfg.hv_reference));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& name : names) {
    const MetricSpec* m = spec.find_metric(name);
    if (!m || m->goal == Goal::None) throw InvalidArgument("objective '" + name + "': env '" + spec.id + "' has no such metric with a goal; valid: " + valid);
    out.emplace_back(name, m->goal == Goal::Maximize ? -1.0 : 1.0);
  }
  for (auto it = cfg.hv_reference.begin(); it != cfg.hv_reference.end(); ++it) {
    bool known = false;
    for (const auto& o : out) known = known || o.first == it.key();
    if (!known || !it.value().is_number())
      throw InvalidArgument("hypervolume reference '" + excerpt(it.key(), 80) + "': give a number for each objective (" + valid + ")");
  }
  return out;
}

// The Pareto front of a run, kept as it goes: only non-dominated points
// (the first of equal ones) and the worst value seen per objective, so the
// memory does not grow with the run (the same front and hypervolume as over
// all points).
class ParetoTracker {
public:
  explicit ParetoTracker(std::vector<std::pair<std::string, double>> objectives)
      : objectives_(std::move(objectives)), worst_(objectives_.size(), -std::numeric_limits<double>::infinity()) {}

  void add(std::int64_t step, const Metrics& m) {
    if (objectives_.empty()) return;
    Point p;
    for (const auto& [name, sign] : objectives_) {
      const double* v = m.find(name);
      if (!v || !std::isfinite(*v)) return;
      p.push_back(sign * *v);
    }
    ++count_;
    for (std::size_t i = 0; i < p.size(); ++i) worst_[i] = std::max(worst_[i], p[i]);
    for (const auto& f : front_)
      if (dominates(f.point, p) || f.point == p) return;
    std::erase_if(front_, [&](const Entry& f) { return dominates(p, f.point); });
    front_.push_back({step, std::move(p)});
  }

  json summary(const json& reference) const {
    if (objectives_.empty()) return nullptr;
    Point ref = worst_;
    json ref_json = json::object();
    for (std::size_t i = 0; i < objectives_.size(); ++i) {
      const auto& [name, sign] = objectives_[i];
      if (reference.contains(name)) ref[i] = sign * reference.at(name).get<double>();
      ref_json[name] = std::isfinite(ref[i]) ? json(sign * ref[i]) : json(nullptr);
    }
    json front = json::array();
    std::vector<Point> pts;
    for (const auto& f : front_) {
      json metrics = json::object();
      for (std::size_t i = 0; i < objectives_.size(); ++i) metrics[objectives_[i].first] = objectives_[i].second * f.point[i];
      front.push_back({{"step", f.step}, {"metrics", metrics}});
      pts.push_back(f.point);
    }
    json names = json::array();
    for (const auto& o : objectives_) names.push_back(o.first);
    return {{"objectives", names}, {"reference", ref_json}, {"front", front}, {"hypervolume", count_ == 0 ? 0.0 : hypervolume(pts, ref)}};
  }

private:
  struct Entry {
    std::int64_t step;
    Point point;
  };
  std::vector<std::pair<std::string, double>> objectives_;
  std::vector<Entry> front_;
  Point worst_;
  std::int64_t count_ = 0;
};

}  // namespace

namespace {

// Target: {"metric": name, "value": x}, reached when the metric is at least
// as good as x in its goal's direction.
struct Target {
  std::string metric;
  double value = 0;
  Goal goal = Goal::Minimize;
};

Target parse_target(const json& target, const EnvSpec& spec) {
  Target t;
  if (target.is_null() || target.empty()) return t;
  if (!target.is_object() || !target.contains("metric") || !target.at("metric").is_string() || !target.contains("value") ||
      !target.at("value").is_number())
    throw InvalidArgument("target: expected {\"metric\": name, \"value\": number}, got " + target.dump().substr(0, 200));
  t.metric = target.at("metric").get<std::string>();
  const MetricSpec* m = spec.find_metric(t.metric);
  if (!m) {
    std::string valid;
    for (const auto& x : spec.metrics) valid += (valid.empty() ? "" : ", ") + x.name;
    throw InvalidArgument("target.metric: env '" + spec.id + "' has no metric '" + t.metric + "'; valid: " + valid);
  }
  t.value = target.at("value").get<double>();
  t.goal = m->goal;
  return t;
}

}  // namespace

void check_run_config(const RunConfig& cfg, const EnvSpec& spec) {
  if (cfg.budget < 1) throw InvalidArgument("budget must be at least 1, got " + std::to_string(cfg.budget));
  if (cfg.batch < 1) throw InvalidArgument("batch must be at least 1, got " + std::to_string(cfg.batch));
  const AgentEntry& entry = agent_registry().get(cfg.agent_id);
  if (entry.acts_in_episodes(spec) && cfg.batch != 1)
    throw InvalidArgument("agent '" + cfg.agent_id + "' acts on one env step at a time; use batch 1 (got " + std::to_string(cfg.batch) + ")");
  // A search agent proposes designs without seeing observations, so it
  // cannot keep to a sequential env's per-step action mask.
  if (!entry.acts_in_episodes(spec) && spec.max_episode_steps != 1)
    if (const auto* obs = dynamic_cast<const DictSpace*>(spec.observation_space.get()))
      for (const auto& [name, child] : obs->children())
        if (name == "action_mask") {
          std::string policies;
          for (const auto& id : agent_registry().ids())
            if (agent_registry().get(id).policy_factory) policies += (policies.empty() ? "" : ", ") + id;
          throw InvalidArgument("agent '" + cfg.agent_id + "' searches over one-shot designs and cannot follow the action_mask of env '" +
                                cfg.env_id + "', which is sequential; use a policy agent: " + policies);
        }
  const json reward_spec = cfg.reward.is_null() ? spec.default_reward : cfg.reward;
  if (reward_spec.is_null()) throw InvalidArgument("env '" + cfg.env_id + "' has no default reward; give one (--reward)");
  Reward(reward_spec, spec);  // throws naming a bad reward spec
  objectives_for(cfg, spec);
  parse_target(cfg.target, spec);
  if (!(cfg.wall_time_s >= 0)) throw InvalidArgument("wall_time_s must be positive (0: no limit), got " + std::to_string(cfg.wall_time_s));
}

RunResult run_experiment(const RunConfig& cfg) {
  // Build one env first so that option and reward errors surface here.
  EnvPtr probe = make_env(env_registry(), cfg.env_id, cfg.env_options);
  check_run_config(cfg, probe->spec());
  const json reward_spec = cfg.reward.is_null() ? probe->spec().default_reward : cfg.reward;
  auto make_one = [&]() -> EnvPtr {
    EnvPtr e = probe ? std::move(probe) : make_env(env_registry(), cfg.env_id, cfg.env_options);
    return std::make_unique<RewardWrapper>(std::move(e), reward_spec);
  };
  const AgentEntry& entry = agent_registry().get(cfg.agent_id);
  EnvPtr single;                     // policy agents: one env, stepped in episodes
  std::unique_ptr<VectorEnv> batch;  // black-box agents: independent evaluations
  if (entry.acts_in_episodes(probe->spec())) single = make_one();
  else batch = std::make_unique<VectorEnv>(make_one, cfg.batch, cfg.threads);
  const EnvSpec& spec = single ? single->spec() : batch->spec();

  const auto objectives = objectives_for(cfg, spec);
  const Target target = parse_target(cfg.target, spec);
  const std::string& target_metric = target.metric;
  const double target_value = target.value;
  const Goal target_goal = target.goal;
  ParetoTracker pareto(objectives);
  AgentContext ctx{spec.action_space, spec.metrics, derive_seed(cfg.seed, 0xA6E47ULL), spec.observation_space, spec.max_episode_steps};
  for (const auto& o : objectives) ctx.objectives.push_back(o.first);
  AgentPtr agent;
  PolicyAgentPtr policy;
  if (entry.acts_in_episodes(spec)) policy = make_policy_agent(cfg.agent_id, ctx, cfg.agent_options);
  else agent = make_agent(cfg.agent_id, ctx, cfg.agent_options);
  if (agent) agent->set_checkpointing(!cfg.save_agent.empty());  // no call log kept unless a checkpoint is wanted
  if (cfg.greedy && !policy) throw InvalidArgument("greedy runs are for policy agents (ppo, dqn, ippo, mappo); '" + cfg.agent_id + "' is not one");
  if (!cfg.load_agent.empty()) {
    const json state = read_json_file(cfg.load_agent, "agent checkpoint");
    try {
      policy ? policy->load(state) : agent->load(state);
    } catch (const json::exception& e) {
      throw InvalidArgument("agent checkpoint " + cfg.load_agent + ": not a checkpoint of agent '" + cfg.agent_id + "' (" + e.what() + ")");
    }
  }
  auto save_agent = [&]() {
    if (cfg.save_agent.empty()) return;
    write_file_atomically(cfg.save_agent, (policy ? policy->save() : agent->save()).dump() + "\n");
  };

  RunResult result;
  result.run_id = cfg.run_id.empty() ? cfg.env_id + "-" + cfg.agent_id + "-s" + std::to_string(cfg.seed) : cfg.run_id;

  std::unique_ptr<TraceWriter> trace;
  std::unique_ptr<FolderLock> lock;  // one writer per run folder
  std::vector<TraceRow> recorded;  // rows of an interrupted run, replayed on resume
  if (!cfg.out_dir.empty()) {
    namespace fs = std::filesystem;
    const fs::path dir(cfg.out_dir);
    lock = std::make_unique<FolderLock>(dir / ".lock", "run folder " + cfg.out_dir, "another run");
    const fs::path trace_path = dir / "trace.jsonl";
    const json meta = {{"format", "dsegym-run"},
                       {"version", 1},
                       {"run", result.run_id},
                       {"env", spec.id},
                       {"env_options", spec.resolved_options},
                       {"env_spec", spec.to_json()},
                       {"agent", cfg.agent_id},
                       {"hyperparameters", Params(agent_registry().get(cfg.agent_id).hyperparameters, cfg.agent_options,
                                                  "agent hyperparameter")
                                               .resolved()},
                       {"objectives", ctx.objectives},
                       {"seed", cfg.seed},
                       {"budget", cfg.budget},
                       {"batch", cfg.batch},
                       {"reward", reward_spec},
                       {"greedy", cfg.greedy},
                       {"load_agent", cfg.load_agent}};
    if (fs::exists(trace_path)) {
      if (!cfg.resume) throw InvalidArgument(trace_path.string() + " already exists; resume it with --resume, or choose another --out folder");
      const json old_meta = read_json(dir / "run.json");
      for (const char* key : {"env", "env_options", "agent", "hyperparameters", "seed", "batch", "reward", "greedy", "load_agent"})
        if (old_meta.is_null() || old_meta.value(key, json()) != meta.at(key))
          throw InvalidArgument((dir / "run.json").string() + ": the run there differs in '" + key + "'; cannot resume it as this run");
      recorded = resume_trace(trace_path.string()).rows;
    }
    write_json_atomically(dir / "run.json", meta);
    trace = std::make_unique<TraceWriter>(trace_path.string());
    result.trace_path = trace_path.string();
  }

  Progress progress(cfg.budget, result.run_id, cfg.progress);
  const auto start = std::chrono::steady_clock::now();
  // The end of either loop: the agent's checkpoint, the Pareto summary, the time.
  auto finish = [&]() {
    progress.finish();
    save_agent();
    result.pareto = pareto.summary(cfg.hv_reference);
    result.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  std::vector<Value> actions;
  std::vector<std::uint64_t> seeds;
  std::vector<double> times;
  std::vector<Trial> trials;
  TraceRow row;
  row.run = result.run_id;
  row.env = spec.id;
  row.agent = cfg.agent_id;
  row.seed = cfg.seed;
  // Accounts one evaluation: counts, best, target, Pareto candidates, trace row.
  auto record = [&](std::int64_t episode, const Value& action, const StepResult& r, double wall, bool write) {
    const std::int64_t step = result.evaluations;
    ++result.evaluations;
    ++result.status_counts[status_name(r.status.code)];
    if (r.status.ok() && std::isfinite(r.reward) && (!result.has_best || r.reward > result.best_reward)) {
      result.has_best = true;
      result.best_step = step;
      result.best_reward = r.reward;
      result.best_action = action;
      result.best_metrics = r.metrics;
    }
    if (r.status.ok() && !target_metric.empty() && result.evaluations_to_target < 0) {
      const double* v = r.metrics.find(target_metric);
      if (v && (target_goal == Goal::Maximize ? *v >= target_value : *v <= target_value)) result.evaluations_to_target = step + 1;
    }
    if (r.status.ok()) pareto.add(step, r.metrics);
    if (trace && write) {
      row.episode = episode;
      row.step = step;
      row.action = action;
      row.metrics = r.metrics;
      row.reward = r.reward;
      row.status = r.status;
      row.wall_time_s = wall;
      const Value* src = r.info.is_dict() ? r.info.find("cost_model") : nullptr;
      row.source = src && src->is_string() && src->as_string() == "proxy" ? "proxy" : "";
      trace->write(row);
    }
  };
  auto out_of_time = [&]() {
    if (cfg.wall_time_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= cfg.wall_time_s) {
      result.stopped = "wall time budget of " + std::to_string(cfg.wall_time_s) + " s reached";
      return true;
    }
    return false;
  };
  auto show = [&]() {
    progress.update(result.evaluations,
                    result.has_best ? "best reward " + std::to_string(result.best_reward) : std::string("no feasible design yet"));
  };

  if (policy) {
    // Episodes of env steps; the agent sees each observation and learns from
    // each transition. On a one-shot env the next action is chosen from the
    // last step's observation (its metrics), as in ArchGym's RL envs. A
    // resumed run re-simulates the recorded steps (the env's state depends on
    // them) and checks that the agent makes the same choices.
    const bool one_shot = spec.max_episode_steps == 1;
    std::int64_t episode = 0, in_episode = 0;
    Value obs = single->reset(evaluation_seed(cfg.seed, episode)).first;
    while (result.evaluations < cfg.budget && !out_of_time()) {
      const std::int64_t step = result.evaluations;
      Value action = cfg.greedy ? policy->greedy(obs) : policy->act(obs);
      const bool replay = step < static_cast<std::int64_t>(recorded.size());
      if (replay) {
        const Value old_action = spec.action_space->parse(to_json(recorded[static_cast<std::size_t>(step)].action), "action");
        if (old_action != action)
          throw Error("cannot resume " + result.trace_path + ": at step " + std::to_string(step) + " the agent now chooses " + action.dump() +
                      ", the trace has " + old_action.dump() + "; remove the trace to restart");
      }
      const auto t0 = std::chrono::steady_clock::now();
      StepResult r = single->step(action);
      const double wall = replay ? recorded[static_cast<std::size_t>(step)].wall_time_s
                                 : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++in_episode;
      const bool limit = spec.max_episode_steps > 0 && in_episode >= spec.max_episode_steps;
      record(episode, action, r, wall, !replay);
      if (!cfg.greedy) policy->observe({obs, action, r.reward, r.obs, r.terminated, r.truncated || (limit && !r.terminated), r.status});
      if (r.terminated || r.truncated || limit) {
        ++episode;
        in_episode = 0;
        Value first = single->reset(evaluation_seed(cfg.seed, episode)).first;
        obs = one_shot ? std::move(r.obs) : std::move(first);
      } else {
        obs = std::move(r.obs);
      }
      show();
    }
    return finish();
  }

  std::vector<char> replayed;
  std::vector<std::size_t> todo;
  while (result.evaluations < cfg.budget) {
    if (out_of_time()) break;
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(cfg.batch), cfg.budget - result.evaluations));
    auto suggestions = agent->ask(n);
    if (suggestions.size() != n)
      throw Error("agent '" + cfg.agent_id + "' returned " + std::to_string(suggestions.size()) + " suggestions for ask(" +
                  std::to_string(n) + ")");
    // Evaluations already in the trace (a resumed run) are replayed, not redone;
    // the agent must propose what it proposed then.
    actions.clear();
    seeds.clear();
    replayed.assign(n, 0);
    todo.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const auto step = static_cast<std::size_t>(result.evaluations) + i;
      if (step < recorded.size()) {
        const Value old_action = spec.action_space->parse(to_json(recorded[step].action), "action");
        if (old_action != suggestions[i].action)
          throw Error("cannot resume " + result.trace_path + ": at step " + std::to_string(step) + " the agent now proposes " +
                      suggestions[i].action.dump() + ", the trace has " + old_action.dump() + "; remove the trace to restart");
        replayed[i] = 1;
      } else {
        todo.push_back(i);
        actions.push_back(suggestions[i].action);
        seeds.push_back(evaluation_seed(cfg.seed, result.evaluations + static_cast<std::int64_t>(i)));
      }
    }
    auto evaluated = batch->evaluate(actions, seeds, &times);
    std::vector<StepResult> results(n);
    std::vector<double> wall(n, 0.0);
    for (std::size_t k = 0; k < todo.size(); ++k) {
      results[todo[k]] = std::move(evaluated[k]);
      wall[todo[k]] = times[k];
    }
    trials.clear();
    for (std::size_t i = 0; i < n; ++i) {
      StepResult& r = results[i];
      const std::int64_t step = result.evaluations;
      if (replayed[i]) {
        const TraceRow& old = recorded[static_cast<std::size_t>(step)];
        r.metrics = old.metrics;
        r.reward = old.reward;
        r.status = old.status;
        wall[i] = old.wall_time_s;
      }
      record(step, suggestions[i].action, r, wall[i], !replayed[i]);
      trials.push_back({suggestions[i].id, std::move(suggestions[i].action), std::move(r.metrics), r.reward, std::move(r.status)});
    }
    agent->tell(trials);
    show();
  }
  return finish();
}

}  // namespace dsegym
