// An example plugin: "coordinate", a cyclic coordinate search. Starting from
// a random design, it tries every value of one knob at a time (continuous
// knobs: `levels` points), keeps the best, and moves to the next knob.
#include <limits>
#include <map>

#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"
#include "agents/plugin.hpp"

namespace {

using namespace dsegym;

class CoordinateAgent final : public ReplayAgent {
public:
  CoordinateAgent(const AgentContext& ctx, const Params& p) : space_(ctx.space), rng_(ctx.seed), levels_(p.get_int("levels")) {
    best_ = space_.random_point(rng_);
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      if (queue_.empty()) fill_queue();
      const auto id = next_id();
      pending_[id] = queue_.back();
      out.push_back({id, space_.decode(queue_.back())});
      queue_.pop_back();
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      if (t.status.ok() && t.reward > best_f_) {
        best_f_ = t.reward;
        best_ = it->second;
      }
      pending_.erase(it);
    }
  }

private:
  void fill_queue() {
    const std::size_t i = knob_++ % space_.dim();
    const std::int64_t n = space_.is_discrete(i) ? space_.cardinality(i) : levels_;
    for (std::int64_t v = n - 1; v >= 0; --v) {
      auto x = best_;
      if (space_.is_discrete(i))
        space_.set_index(x, i, v);
      else
        x[i] = (static_cast<double>(v) + 0.5) / static_cast<double>(n);
      queue_.push_back(x);
    }
  }

  SearchSpace space_;
  Rng rng_;
  std::int64_t levels_;
  std::vector<double> best_;
  double best_f_ = -std::numeric_limits<double>::infinity();
  std::size_t knob_ = 0;
  std::vector<std::vector<double>> queue_;
  std::map<std::int64_t, std::vector<double>> pending_;
};

}  // namespace

DSEGYM_PLUGIN(registrar) {
  registrar.agents.add(dsegym::AgentEntry{
      "coordinate",
      "cyclic coordinate search (example plugin)",
      {{"levels", "points tried per continuous knob", 8, std::make_shared<dsegym::Integer>(2, 1000)}},
      [](const dsegym::AgentContext& ctx, const dsegym::Params& p) -> dsegym::AgentPtr { return std::make_unique<CoordinateAgent>(ctx, p); }});
}
