#include "agents/search_space.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/error.hpp"

namespace dsegym {

SearchSpace::SearchSpace(SpacePtr space) : space_(std::move(space)), leaves_(space_->leaves()) {
  if (leaves_.empty()) throw InvalidArgument("agent: the action space has no dimensions");
  // Agents need a finite [0,1] encoding; this throws for unbounded boxes.
  Rng rng(0);
  space_->encode(space_->sample(rng));
}

std::vector<double> SearchSpace::random_point(Rng& rng) const {
  std::vector<double> x(dim());
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = is_discrete(i) ? index_to_unit(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(cardinality(i)))), cardinality(i))
                          : rng.uniform();
  return x;
}

void SearchSpace::snap(std::vector<double>& x) const {
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = std::clamp(x[i], 0.0, 1.0);
    if (is_discrete(i)) x[i] = index_to_unit(unit_to_index(x[i], cardinality(i)), cardinality(i));
  }
}

std::int64_t SearchSpace::index(const std::vector<double>& x, std::size_t i) const { return unit_to_index(x[i], cardinality(i)); }

void SearchSpace::set_index(std::vector<double>& x, std::size_t i, std::int64_t k) const { x[i] = index_to_unit(k, cardinality(i)); }

std::string SearchSpace::key(const std::vector<double>& x) const {
  std::string k;
  char buf[32];
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (is_discrete(i))
      std::snprintf(buf, sizeof buf, "%lld,", static_cast<long long>(index(x, i)));
    else
      std::snprintf(buf, sizeof buf, "%.12g,", x[i]);
    k += buf;
  }
  return k;
}

void SearchSpace::mutate(std::vector<double>& x, Rng& rng, double prob, double sigma) const {
  bool changed = false;
  auto change = [&](std::size_t i) {
    const auto n = cardinality(i);
    if (is_discrete(i) && n < 2) return;
    if (leaf(i).kind == LeafKind::Categorical) {
      auto k = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - 1)));
      if (k >= index(x, i)) ++k;
      set_index(x, i, k);
    } else if (is_discrete(i)) {
      // An ordered knob moves by a rounded Gaussian step of sigma on the unit
      // scale, at least one value, kept in range.
      const auto k = index(x, i);
      auto d = static_cast<std::int64_t>(std::llround(sigma * static_cast<double>(n - 1) * rng.normal()));
      if (d == 0) d = rng.bernoulli(0.5) ? 1 : -1;
      auto to = std::clamp<std::int64_t>(k + d, 0, n - 1);
      if (to == k) to = std::clamp<std::int64_t>(k - d, 0, n - 1);
      set_index(x, i, to);
    } else {
      x[i] = std::clamp(x[i] + sigma * rng.normal(), 0.0, 1.0);
    }
    changed = true;
  };
  for (std::size_t i = 0; i < x.size(); ++i)
    if (rng.uniform() < prob) change(i);
  if (!changed) change(rng.below(x.size()));
}

void SearchSpace::make_unseen(std::vector<double>& x, std::unordered_set<std::string>& seen, Rng& rng, double prob, double sigma,
                              int tries) const {
  for (int k = 0; k < tries && seen.count(key(x)); ++k) mutate(x, rng, prob, sigma);
  seen.insert(key(x));
}

}  // namespace dsegym
