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

}  // namespace

void register_random_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{"random",
                     "random search (uniform samples, no repeats in finite spaces) or a random walk",
                     {{"mode", "search: independent samples; walk: each proposal mutates the previous one", "search",
                       std::make_shared<Categorical>(std::vector<std::string>{"search", "walk"})},
                      {"step", "walk: probability of changing each knob, and the std. dev. of continuous steps (unit scale)", 0.2,
                       std::make_shared<Box>(0.0, 1.0)}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<RandomAgent>(ctx, p); }});
}

}  // namespace dsegym
