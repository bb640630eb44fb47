#pragma once
// The view of an action space that black-box agents work on: points in
// [0,1]^d (the space's flat encoding) whose discrete dimensions sit at bin
// centres, so that every point decodes to exactly one design.
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/rng.hpp"
#include "envs/core/space.hpp"

namespace dsegym {

class SearchSpace {
public:
  explicit SearchSpace(SpacePtr space);

  const Space& space() const { return *space_; }
  std::size_t dim() const { return leaves_.size(); }
  const Leaf& leaf(std::size_t i) const { return leaves_[i]; }
  bool is_discrete(std::size_t i) const { return leaves_[i].cardinality > 0; }
  // Number of values of dimension i (0 for continuous).
  std::int64_t cardinality(std::size_t i) const { return leaves_[i].cardinality; }
  // Number of designs; 0 when some dimension is continuous.
  std::int64_t size() const { return space_->cardinality(); }

  std::vector<double> random_point(Rng& rng) const;
  // Clamps to [0,1] and moves discrete dimensions to their bin centre.
  void snap(std::vector<double>& x) const;
  std::int64_t index(const std::vector<double>& x, std::size_t i) const;
  void set_index(std::vector<double>& x, std::size_t i, std::int64_t k) const;

  Value decode(const std::vector<double>& x) const { return space_->decode(x); }
  std::vector<double> encode(const Value& v) const { return space_->encode(v); }
  // A canonical text for a point (discrete indices, continuous values), for
  // detecting duplicates.
  std::string key(const std::vector<double>& x) const;

  // Changes each dimension with probability `prob`: a categorical one to
  // another value drawn uniformly, an ordered one (integers, powers of two)
  // and a continuous one by Gaussian noise of standard deviation `sigma` on
  // the unit scale (an ordered one by at least one value; clamped). At least
  // one dimension changes.
  void mutate(std::vector<double>& x, Rng& rng, double prob, double sigma) const;
  // A design not in `seen` where one is found by at most `tries` mutations
  // (else the last one), recorded in `seen`.
  void make_unseen(std::vector<double>& x, std::unordered_set<std::string>& seen, Rng& rng, double prob, double sigma, int tries) const;

private:
  SpacePtr space_;
  std::vector<Leaf> leaves_;
};

}  // namespace dsegym
