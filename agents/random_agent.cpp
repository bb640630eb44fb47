#include "agents/builtin_agents.hpp"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"

namespace dsegym {

namespace {

// search: independent uniform samples; in a finite space no design repeats
// until all have been proposed. walk: each proposal mutates the previous one.
class RandomAgent final : public ReplayAgent {
public:
  RandomAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), walk_(p.get_string("mode") == "walk"), step_(p.get_double("step")) {}

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> x;
      if (walk_ && !last_.empty()) {
        x = last_;
        space_.mutate(x, rng_, step_, step_);
      } else {
        x = space_.random_point(rng_);
        const auto size = space_.size();
        if (size > 0) {  // a finite space: remember what was proposed (no memory spent on infinite ones)
          for (int tries = 0; tries < 64 && seen_.count(space_.key(x)); ++tries) x = space_.random_point(rng_);
          if (static_cast<std::int64_t>(seen_.size()) >= size) seen_.clear();  // all proposed once
          seen_.insert(space_.key(x));
        }
      }
      last_ = x;
      out.push_back({next_id(), space_.decode(x)});
    }
    return out;
  }
  void do_tell(const std::vector<Trial>&) override {}

private:
  SearchSpace space_;
  Rng rng_;
  bool walk_;
  double step_;
  std::vector<double> last_;
  std::unordered_set<std::string> seen_;
};

// On a sequential env: a random policy that plays whole episodes, choosing
// uniformly among the legal values when the observation has an
// "action_mask" for a single discrete action.
class RandomPolicy final : public PolicyAgent {
public:
  explicit RandomPolicy(const AgentContext& ctx) : space_(ctx.space), rng_(ctx.seed) {
    const auto& leaves = space_->leaves();
    if (leaves.size() == 1 && leaves[0].kind != LeafKind::Continuous) mask_n_ = leaves[0].cardinality;
  }

  Value act(const Value& obs) override {
    const Value* mask = obs.is_dict() ? obs.find("action_mask") : nullptr;
    if (!mask || mask_n_ == 0) return space_->sample(rng_);
    std::vector<std::int64_t> legal;
    const auto add = [&](std::size_t i, double m) {
      if (m > 0.5) legal.push_back(static_cast<std::int64_t>(i));
    };
    if (mask->is_real()) {
      const auto& m = mask->as_real();
      for (std::size_t i = 0; i < m.size() && i < static_cast<std::size_t>(mask_n_); ++i) add(i, m[i]);
    } else if (mask->is_list()) {
      const auto& m = mask->as_list();
      for (std::size_t i = 0; i < m.size() && i < static_cast<std::size_t>(mask_n_); ++i) add(i, m[i].is_number() ? m[i].as_double() : 0.0);
    } else {
      throw InvalidArgument("random: the observation's action_mask must be a list of 0/1, got " + mask->dump());
    }
    if (legal.empty()) return space_->sample(rng_);  // an ended episode may allow nothing
    return space_->from_indices({legal[rng_.below(legal.size())]});
  }
  Value greedy(const Value& obs) override { return act(obs); }
  void observe(const Transition&) override {}
  json save() const override {
    const auto s = rng_.state();
    return {{"rng", std::vector<std::uint64_t>(s.begin(), s.end())}};
  }
  void load(const json& state) override {
    if (!state.is_object() || !state.contains("rng") || !state.at("rng").is_array() || state.at("rng").size() != 4)
      throw InvalidArgument("random policy load(): the state has no 4-word 'rng'");
    const auto v = state.at("rng").get<std::vector<std::uint64_t>>();
    rng_.set_state({v[0], v[1], v[2], v[3]});
  }

private:
  SpacePtr space_;
  Rng rng_;
  std::int64_t mask_n_ = 0;
};

}  // namespace

void register_random_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{"random",
                     "random search (uniform samples, no repeats in finite spaces) or a random walk",
                     {{"mode", "search: independent samples; walk: each proposal mutates the previous one", "search",
                       std::make_shared<Categorical>(std::vector<std::string>{"search", "walk"})},
                      {"step", "walk: probability of changing each knob, and the std. dev. of continuous steps (unit scale)", 0.2,
                       std::make_shared<Box>(0.0, 1.0)}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<RandomAgent>(ctx, p); },
                     [](const AgentContext& ctx, const Params&) -> PolicyAgentPtr { return std::make_unique<RandomPolicy>(ctx); }});
}

}  // namespace dsegym
