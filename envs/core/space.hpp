#pragma once
// Spaces: typed descriptions of actions and observations. Every space can
// check membership (with an error naming the path and what is valid), sample
// with a seeded Rng, round-trip through JSON, and encode a point to a flat
// vector in [0,1]^d and to integer indices. Black-box agents work on those
// encodings and never special-case an env.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.hpp"
#include "envs/core/value.hpp"

namespace dsegym {

// A location inside a value, built on the stack while descending and turned
// into text ("action.timing[2]") only when an error is reported.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // dict key, or empty for a list index
  std::int64_t index = -1;
  std::string str() const;
  Path child(std::string_view k) const { return Path{this, k, -1}; }
  Path item(std::int64_t i) const { return Path{this, {}, i}; }
};

// How one dimension of the flat encoding behaves.
enum class LeafKind { Continuous, Ordinal, Categorical };
const char* leaf_kind_name(LeafKind k);

struct Leaf {
  std::string name;             // "page_policy", "timing.cl", "weights[3]"
  LeafKind kind;
  std::int64_t cardinality = 0; // number of values; 0 for Continuous
};

class Space;
using SpacePtr = std::shared_ptr<const Space>;

class Space {
public:
  virtual ~Space() = default;
  virtual const char* kind() const = 0;

  // Throws InvalidArgument naming the path, the value and what is valid.
  virtual void check(const Value& v, const Path& path) const = 0;
  void check(const Value& v, std::string_view root) const { check(v, Path{nullptr, root, -1}); }
  bool contains(const Value& v) const;

  virtual Value sample(Rng& rng) const = 0;

  virtual json to_json() const = 0;
  static SpacePtr from_json(const json& j, const std::string& where = "space");

  // JSON -> Value of this space, coercing numbers where exact (3.0 -> 3 for an
  // integer knob) and checking membership.
  virtual Value parse(const json& j, const Path& path) const = 0;
  Value parse(const json& j, std::string_view root) const { return parse(j, Path{nullptr, root, -1}); }

  // Flat encoding: one dimension per leaf.
  const std::vector<Leaf>& leaves() const { return leaves_; }
  std::size_t dim() const { return leaves_.size(); }
  bool is_discrete() const;
  // Product of cardinalities (saturates at INT64_MAX); 0 when not discrete.
  std::int64_t cardinality() const;

  // [0,1]^d: discrete leaves map value index i of n to (i + 0.5) / n and back
  // by floor(x * n) (clamped), so decode(encode(v)) == v on every discrete
  // space. Continuous leaves map affinely (or logarithmically) from bounds.
  std::vector<double> encode(const Value& v) const;
  Value decode(const std::vector<double>& x) const;
  virtual void encode_to(const Value& v, double* out) const = 0;
  virtual Value decode_from(const double* in) const = 0;

  // Integer indices, one per leaf (discrete spaces only).
  std::vector<std::int64_t> to_indices(const Value& v) const;
  Value from_indices(const std::vector<std::int64_t>& idx) const;
  virtual void indices_to(const Value& v, std::int64_t* out) const = 0;
  virtual Value indices_from(const std::int64_t* in) const = 0;

protected:
  std::vector<Leaf> leaves_;
};

// Integers 0..n-1, each a choice without order (gym's Discrete).
class Discrete final : public Space {
public:
  explicit Discrete(std::int64_t n);
  std::int64_t n() const { return n_; }
  const char* kind() const override { return "discrete"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  std::int64_t n_;
};

// One of a list of string labels.
class Categorical final : public Space {
public:
  explicit Categorical(std::vector<std::string> labels);
  const std::vector<std::string>& labels() const { return labels_; }
  // Index of a label, or -1.
  std::int64_t index_of(std::string_view label) const;
  const char* kind() const override { return "categorical"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  std::string valid_list() const;
  std::vector<std::string> labels_;
};

// Ordered integers: lo, lo+step, ..., hi; or the powers of two from lo to hi.
class Integer final : public Space {
public:
  Integer(std::int64_t lo, std::int64_t hi, std::int64_t step = 1);
  static std::shared_ptr<Integer> pow2(std::int64_t lo, std::int64_t hi);
  std::int64_t lo() const { return lo_; }
  std::int64_t hi() const { return hi_; }
  bool is_pow2() const { return pow2_; }
  std::int64_t count() const { return count_; }
  std::int64_t value_at(std::int64_t index) const;
  std::int64_t index_of(std::int64_t value) const;  // -1 when not a member
  const char* kind() const override { return "integer"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  struct Pow2Tag {};
  Integer(Pow2Tag, std::int64_t lo, std::int64_t hi);
  std::string describe() const;
  std::int64_t lo_, hi_, step_;
  bool pow2_ = false;
  std::int64_t count_;
};

// Real numbers in [lo, hi] per element. An empty shape holds one scalar
// (Value double); otherwise a Real vector of prod(shape) elements. With
// log = true the [0,1] encoding is logarithmic (needs lo > 0).
class Box final : public Space {
public:
  Box(double lo, double hi, bool log = false);
  Box(std::vector<double> lo, std::vector<double> hi, std::vector<std::int64_t> shape, bool log = false);
  const std::vector<double>& lo() const { return lo_; }
  const std::vector<double>& hi() const { return hi_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  bool is_scalar() const { return shape_.empty(); }
  std::size_t size() const { return lo_.size(); }
  const char* kind() const override { return "box"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  void init();
  void check_element(double x, std::size_t i, const Path& path) const;
  std::vector<double> lo_, hi_;
  std::vector<std::int64_t> shape_;
  bool log_;
};

// A list of choices, element i in 0..nvec[i]-1.
class MultiDiscrete final : public Space {
public:
  explicit MultiDiscrete(std::vector<std::int64_t> nvec);
  const std::vector<std::int64_t>& nvec() const { return nvec_; }
  const char* kind() const override { return "multi_discrete"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  std::vector<std::int64_t> nvec_;
};

// Named children, in a fixed order. A value must have exactly these keys.
class DictSpace final : public Space {
public:
  using Children = std::vector<std::pair<std::string, SpacePtr>>;
  explicit DictSpace(Children children);
  const Children& children() const { return children_; }
  const SpacePtr& child(std::string_view name) const;  // throws naming valid keys
  const char* kind() const override { return "dict"; }
  void check(const Value& v, const Path& path) const override;
  using Space::check;
  Value sample(Rng& rng) const override;
  json to_json() const override;
  Value parse(const json& j, const Path& path) const override;
  using Space::parse;
  void encode_to(const Value& v, double* out) const override;
  Value decode_from(const double* in) const override;
  void indices_to(const Value& v, std::int64_t* out) const override;
  Value indices_from(const std::int64_t* in) const override;

private:
  std::string key_list() const;
  Children children_;
  std::vector<std::size_t> offsets_;  // first leaf of each child
};

// Index of the discrete bin that x in [0,1] falls into, for n bins.
std::int64_t unit_to_index(double x, std::int64_t n);
inline double index_to_unit(std::int64_t i, std::int64_t n) {
  return (static_cast<double>(i) + 0.5) / static_cast<double>(n);
}

}  // namespace dsegym
