// grid: every combination of discrete values x `levels` points per continuous
// knob, in order or in a seeded random order; it starts over when done.
// quasirandom: a scrambled Halton sequence (random digit permutation per
// dimension, seeded), which covers [0,1]^d more evenly than random samples.
#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"
#include "base/error.hpp"

namespace dsegym {

namespace {

class GridAgent final : public ReplayAgent {
public:
  GridAgent(const AgentContext& ctx, const Params& p) : space_(ctx.space), levels_(p.get_int("levels")), shuffle_(p.get_bool("shuffle")) {
    total_ = 1;
    for (std::size_t i = 0; i < space_.dim(); ++i) {
      const std::int64_t n = space_.is_discrete(i) ? space_.cardinality(i) : levels_;
      radix_.push_back(n);
      total_ = total_ > (std::int64_t{1} << 62) / n ? (std::int64_t{1} << 62) : total_ * n;
    }
    bits_ = 2;
    while ((std::uint64_t{1} << bits_) < static_cast<std::uint64_t>(total_)) bits_ += 2;
    key_ = ctx.seed;
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      std::uint64_t idx = static_cast<std::uint64_t>(cursor_++ % total_);
      if (shuffle_) idx = permute(idx);
      std::vector<double> x(space_.dim());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto digit = static_cast<std::int64_t>(idx % static_cast<std::uint64_t>(radix_[i]));
        idx /= static_cast<std::uint64_t>(radix_[i]);
        if (space_.is_discrete(i))
          space_.set_index(x, i, digit);
        else
          x[i] = levels_ == 1 ? 0.5 : static_cast<double>(digit) / static_cast<double>(levels_ - 1);
      }
      out.push_back({next_id(), space_.decode(x)});
    }
    return out;
  }
  void do_tell(const std::vector<Trial>&) override {}

private:
  // A seeded bijection of [0, total): a Feistel network on the enclosing
  // power of two, walked until the value falls inside.
  std::uint64_t permute(std::uint64_t v) const {
    const int half = bits_ / 2;
    const std::uint64_t mask = (std::uint64_t{1} << half) - 1;
    do {
      std::uint64_t l = v >> half, r = v & mask;
      for (std::uint64_t round = 0; round < 4; ++round) {
        const std::uint64_t f = splitmix64(r ^ derive_seed(key_, round)) & mask;
        const std::uint64_t t = r;
        r = l ^ f;
        l = t;
      }
      v = (l << half) | r;
    } while (v >= static_cast<std::uint64_t>(total_));
    return v;
  }

  SearchSpace space_;
  std::int64_t levels_;
  bool shuffle_;
  std::vector<std::int64_t> radix_;
  std::int64_t total_ = 1;
  int bits_ = 2;
  std::uint64_t key_;
  std::int64_t cursor_ = 0;
};

class QuasiRandomAgent final : public ReplayAgent {
public:
  QuasiRandomAgent(const AgentContext& ctx, const Params& p) : space_(ctx.space) {
    Rng rng(ctx.seed);
    const bool scramble = p.get_bool("scramble");
    for (std::size_t i = 0, cand = 2; i < space_.dim(); ++cand) {
      bool prime = true;
      for (std::size_t q = 2; q * q <= cand && prime; ++q) prime = cand % q != 0;
      if (!prime) continue;
      primes_.push_back(static_cast<int>(cand));
      std::vector<int> perm(cand);
      for (std::size_t k = 0; k < cand; ++k) perm[k] = static_cast<int>(k);
      if (scramble)
        for (std::size_t k = cand - 1; k > 0; --k) std::swap(perm[k], perm[rng.below(k + 1)]);
      perms_.push_back(perm);
      ++i;
    }
    index_ = scramble ? 1 + static_cast<std::int64_t>(rng.below(1000)) : 1;  // seeded starting offset
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k, ++index_) {
      std::vector<double> x(space_.dim());
      for (std::size_t i = 0; i < x.size(); ++i) {
        // Radical inverse of index_ in base p with permuted digits.
        const int p = primes_[i];
        double f = 1.0, v = 0.0;
        for (std::int64_t m = index_; m > 0; m /= p) {
          f /= p;
          v += f * perms_[i][static_cast<std::size_t>(m % p)];
        }
        x[i] = v;
      }
      space_.snap(x);
      out.push_back({next_id(), space_.decode(x)});
    }
    return out;
  }
  void do_tell(const std::vector<Trial>&) override {}

private:
  SearchSpace space_;
  std::vector<int> primes_;
  std::vector<std::vector<int>> perms_;
  std::int64_t index_;
};

}  // namespace

void register_grid_agents(AgentRegistry& reg) {
  reg.add(AgentEntry{"grid",
                     "grid search over all discrete values and `levels` points per continuous knob, in order or shuffled",
                     {{"levels", "points per continuous knob (bounds included)", 5, std::make_shared<Integer>(1, 1000)},
                      {"shuffle", "visit the grid in a seeded random order", false, nullptr}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<GridAgent>(ctx, p); }});
  reg.add(AgentEntry{"quasirandom",
                     "quasi-random sampling: a scrambled Halton sequence",
                     {{"scramble", "seeded digit permutations per dimension (false: the plain Halton sequence)", true, nullptr}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<QuasiRandomAgent>(ctx, p); }});
}

}  // namespace dsegym
