#include "agents/random_agent.hpp"

#include <nlohmann/json.hpp>

#include "envs/core/rng.hpp"

namespace dsegym {

namespace {

class RandomAgent final : public Agent {
public:
  explicit RandomAgent(const AgentContext& ctx) : space_(ctx.space), rng_(ctx.seed) {}

  std::vector<Suggestion> ask(std::size_t n) override {
    std::vector<Suggestion> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back({next_id_++, space_->sample(rng_)});
    return out;
  }

  void tell(const std::vector<Trial>&) override {}

  json save() const override {
    return {{"next_id", next_id_}, {"rng", rng_.state()}};
  }

  void load(const json& state) override {
    next_id_ = state.at("next_id").get<std::int64_t>();
    rng_.set_state(state.at("rng").get<std::array<std::uint64_t, 4>>());
  }

private:
  SpacePtr space_;
  Rng rng_;
  std::int64_t next_id_ = 0;
};

}  // namespace

void register_random_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{"random",
                     "random search: independent uniform samples of the action space",
                     {},
                     [](const AgentContext& ctx, const Params&) -> AgentPtr { return std::make_unique<RandomAgent>(ctx); }});
}

}  // namespace dsegym
