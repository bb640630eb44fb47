#include "agents/replay_agent.hpp"

#include <cmath>

#include "base/error.hpp"

namespace dsegym {

json trial_to_json(const Trial& t) {
  json m = json::object();
  for (const auto& [k, v] : t.metrics.items()) m[k] = std::isfinite(v) ? json(v) : json(nullptr);
  return {{"id", t.id},
          {"action", to_json(t.action)},
          {"metrics", m},
          {"reward", std::isfinite(t.reward) ? json(t.reward) : json(nullptr)},
          {"status", status_name(t.status.code)},
          {"reason", t.status.reason}};
}

Trial trial_from_json(const json& j) {
  Trial t;
  t.id = j.at("id").get<std::int64_t>();
  t.action = value_from_json(j.at("action"));
  for (auto it = j.at("metrics").begin(); it != j.at("metrics").end(); ++it)
    t.metrics.set(it.key(), it.value().is_null() ? std::nan("") : it.value().get<double>());
  t.reward = j.at("reward").is_null() ? std::nan("") : j.at("reward").get<double>();
  t.status = {status_from_name(j.at("status").get<std::string>()), j.at("reason").get<std::string>()};
  return t;
}

std::vector<Suggestion> ReplayAgent::ask(std::size_t n) {
  used_ = true;
  if (recording_) calls_.push_back(json{{"ask", n}}.dump());
  return do_ask(n);
}

void ReplayAgent::tell(const std::vector<Trial>& trials) {
  used_ = true;
  if (recording_) {
    json t = json::array();
    for (const auto& tr : trials) t.push_back(trial_to_json(tr));
    calls_.push_back(json{{"tell", std::move(t)}}.dump());
  }
  do_tell(trials);
}

json ReplayAgent::save() const {
  if (!recording_) throw Error("agent save(): this agent was told no checkpoint would be taken (set_checkpointing(false))");
  json calls = json::array();
  for (const auto& c : calls_) calls.push_back(json::parse(c));
  return {{"calls", std::move(calls)}};
}

void ReplayAgent::set_checkpointing(bool on) {
  if (on && !recording_ && used_) throw Error("agent set_checkpointing(true): the calls before it were not recorded");
  recording_ = on;
  if (!on) calls_ = {};
}

void ReplayAgent::load(const json& state) {
  if (used_) throw Error("agent load(): call it on a freshly made agent (this one has already been used)");
  if (!state.is_object() || !state.contains("calls") || !state.at("calls").is_array())
    throw InvalidArgument("agent load(): the state has no 'calls' array");
  for (const auto& call : state.at("calls")) {
    if (call.contains("ask")) {
      ask(call.at("ask").get<std::size_t>());
    } else if (call.contains("tell")) {
      std::vector<Trial> trials;
      for (const auto& t : call.at("tell")) trials.push_back(trial_from_json(t));
      tell(trials);
    } else {
      throw InvalidArgument("agent load(): a call is neither ask nor tell: " + call.dump());
    }
  }
}

}  // namespace dsegym
