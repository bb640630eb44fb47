#include "envs/core/space.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "envs/core/params.hpp"

namespace dsegym {

namespace {

[[noreturn]] void invalid(const Path& path, const std::string& what) {
  throw InvalidArgument(excerpt(path.str(), 200) + ": " + what);
}

std::string num(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

// Exact integer from a JSON number (3 or 3.0), or nullopt-like flag.
bool json_integer(const json& j, std::int64_t& out) {
  if (j.is_number_integer()) {
    out = j.get<std::int64_t>();
    return true;
  }
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      out = static_cast<std::int64_t>(d);
      return true;
    }
  }
  return false;
}

std::int64_t checked_index(std::int64_t i, std::int64_t n, const char* what) {
  if (i < 0 || i >= n)
    throw InvalidArgument(std::string(what) + ": index " + std::to_string(i) + " out of range 0.." +
                          std::to_string(n - 1));
  return i;
}

bool power_of_two(std::int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

template <class T>
T need(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw InvalidArgument(where + ": missing key '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw InvalidArgument(where + "." + key + ": wrong type: " + excerpt(j.at(key)));
  }
}

}  // namespace

std::string Path::str() const {
  std::vector<const Path*> chain;
  for (const Path* p = this; p; p = p->parent) chain.push_back(p);
  std::string s;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path* p = *it;
    if (p->index >= 0) {
      s += "[" + std::to_string(p->index) + "]";
    } else if (!p->key.empty()) {
      if (!s.empty()) s += ".";
      s += p->key;
    }
  }
  return s.empty() ? "value" : s;
}

const char* leaf_kind_name(LeafKind k) {
  switch (k) {
    case LeafKind::Continuous: return "continuous";
    case LeafKind::Ordinal: return "ordinal";
    case LeafKind::Categorical: return "categorical";
  }
  return "?";
}

std::int64_t unit_to_index(double x, std::int64_t n) {
  if (!(x > 0.0)) return 0;  // also maps NaN to 0
  if (x >= 1.0) return n - 1;
  return std::min<std::int64_t>(static_cast<std::int64_t>(x * static_cast<double>(n)), n - 1);
}

// ---------------------------------------------------------------- Space

bool Space::contains(const Value& v) const {
  try {
    check(v, Path{});
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

bool Space::is_discrete() const {
  return std::all_of(leaves_.begin(), leaves_.end(), [](const Leaf& l) { return l.cardinality > 0; });
}

std::int64_t Space::cardinality() const {
  if (!is_discrete()) return 0;
  std::int64_t c = 1;
  for (const auto& l : leaves_) {
    if (c > std::numeric_limits<std::int64_t>::max() / l.cardinality) return std::numeric_limits<std::int64_t>::max();
    c *= l.cardinality;
  }
  return c;
}

std::vector<double> Space::encode(const Value& v) const {
  check(v, "value");
  std::vector<double> x(dim());
  encode_to(v, x.data());
  return x;
}

Value Space::decode(const std::vector<double>& x) const {
  if (x.size() != dim())
    throw InvalidArgument("decode: vector has " + std::to_string(x.size()) + " elements, space has " +
                          std::to_string(dim()) + " dimensions");
  return decode_from(x.data());
}

std::vector<std::int64_t> Space::to_indices(const Value& v) const {
  if (!is_discrete()) throw InvalidArgument(std::string("to_indices: a ") + kind() + " space with continuous dimensions has no integer indices");
  check(v, "value");
  std::vector<std::int64_t> idx(dim());
  indices_to(v, idx.data());
  return idx;
}

Value Space::from_indices(const std::vector<std::int64_t>& idx) const {
  if (!is_discrete()) throw InvalidArgument(std::string("from_indices: a ") + kind() + " space with continuous dimensions has no integer indices");
  if (idx.size() != dim())
    throw InvalidArgument("from_indices: " + std::to_string(idx.size()) + " indices given, space has " +
                          std::to_string(dim()) + " dimensions");
  return indices_from(idx.data());
}

SpacePtr Space::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgument(where + ": a space must be a JSON object, got " + excerpt(j));
  const auto type = need<std::string>(j, "type", where);
  if (type == "discrete") {
    check_keys(j, {"type", "n"}, where);
    return std::make_shared<Discrete>(need<std::int64_t>(j, "n", where));
  }
  if (type == "categorical") {
    check_keys(j, {"type", "labels"}, where);
    return std::make_shared<Categorical>(need<std::vector<std::string>>(j, "labels", where));
  }
  if (type == "integer") {
    check_keys(j, {"type", "low", "high", "step", "scale"}, where);
    const auto lo = need<std::int64_t>(j, "low", where);
    const auto hi = need<std::int64_t>(j, "high", where);
    const std::string scale = j.contains("scale") ? need<std::string>(j, "scale", where) : "linear";
    if (scale == "pow2") return Integer::pow2(lo, hi);
    if (scale != "linear") throw InvalidArgument(where + ".scale: '" + scale + "' is not valid; choices: linear, pow2");
    return std::make_shared<Integer>(lo, hi, j.contains("step") ? need<std::int64_t>(j, "step", where) : 1);
  }
  if (type == "box") {
    check_keys(j, {"type", "low", "high", "shape", "log"}, where);
    const bool log = j.contains("log") && need<bool>(j, "log", where);
    auto bound = [&](const char* key) {
      if (!j.contains(key)) throw InvalidArgument(where + ": missing key '" + key + "'");
      const json& b = j.at(key);
      std::vector<double> out;
      auto one = [&](const json& e) {
        if (e.is_null()) return key[0] == 'l' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        if (e.is_string()) {
          const auto s = e.get<std::string>();
          if (s == "inf") return std::numeric_limits<double>::infinity();
          if (s == "-inf") return -std::numeric_limits<double>::infinity();
        }
        if (!e.is_number()) throw InvalidArgument(where + "." + key + ": not a number: " + excerpt(e));
        return e.get<double>();
      };
      if (b.is_array())
        for (const auto& e : b) out.push_back(one(e));
      else
        out.push_back(one(b));
      return out;
    };
    auto lo = bound("low");
    auto hi = bound("high");
    if (!j.contains("shape")) {
      if (lo.size() != 1 || hi.size() != 1) throw InvalidArgument(where + ": array bounds need a 'shape'");
      return std::make_shared<Box>(lo[0], hi[0], log);
    }
    auto shape = need<std::vector<std::int64_t>>(j, "shape", where);
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    if (lo.size() == 1) lo.assign(static_cast<std::size_t>(n), lo[0]);
    if (hi.size() == 1) hi.assign(static_cast<std::size_t>(n), hi[0]);
    return std::make_shared<Box>(std::move(lo), std::move(hi), std::move(shape), log);
  }
  if (type == "multi_discrete") {
    check_keys(j, {"type", "nvec"}, where);
    return std::make_shared<MultiDiscrete>(need<std::vector<std::int64_t>>(j, "nvec", where));
  }
  if (type == "dict") {
    check_keys(j, {"type", "spaces"}, where);
    if (!j.contains("spaces") || !j.at("spaces").is_array())
      throw InvalidArgument(where + ".spaces: must be an array of {\"name\": ..., \"space\": {...}}");
    DictSpace::Children children;
    for (const auto& c : j.at("spaces")) {
      const auto name = need<std::string>(c, "name", where + ".spaces");
      if (!c.contains("space")) throw InvalidArgument(where + ".spaces." + name + ": missing key 'space'");
      children.emplace_back(name, from_json(c.at("space"), where + "." + name));
    }
    return std::make_shared<DictSpace>(std::move(children));
  }
  throw InvalidArgument(where + ".type: '" + type +
                        "' is not valid; choices: discrete, categorical, integer, box, multi_discrete, dict");
}

// ---------------------------------------------------------------- Discrete

Discrete::Discrete(std::int64_t n) : n_(n) {
  if (n < 1) throw InvalidArgument("Discrete: n must be at least 1, got " + std::to_string(n));
  leaves_.push_back({"", LeafKind::Categorical, n});
}

void Discrete::check(const Value& v, const Path& path) const {
  if (!v.is_int()) invalid(path, "expected an integer in 0.." + std::to_string(n_ - 1) + ", got " + excerpt(v.dump()));
  const auto i = v.as_int();
  if (i < 0 || i >= n_) invalid(path, std::to_string(i) + " is not valid; valid: integers 0.." + std::to_string(n_ - 1));
}

Value Discrete::sample(Rng& rng) const { return Value(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n_)))); }

json Discrete::to_json() const { return {{"type", "discrete"}, {"n", n_}}; }

Value Discrete::parse(const json& j, const Path& path) const {
  std::int64_t i;
  if (!json_integer(j, i)) invalid(path, "expected an integer in 0.." + std::to_string(n_ - 1) + ", got " + excerpt(j));
  Value v(i);
  check(v, path);
  return v;
}

void Discrete::encode_to(const Value& v, double* out) const { out[0] = index_to_unit(v.as_int(), n_); }
Value Discrete::decode_from(const double* in) const { return Value(unit_to_index(in[0], n_)); }
void Discrete::indices_to(const Value& v, std::int64_t* out) const { out[0] = v.as_int(); }
Value Discrete::indices_from(const std::int64_t* in) const { return Value(checked_index(in[0], n_, "discrete")); }

// ---------------------------------------------------------------- Categorical

Categorical::Categorical(std::vector<std::string> labels) : labels_(std::move(labels)) {
  if (labels_.empty()) throw InvalidArgument("Categorical: needs at least one label");
  for (std::size_t i = 0; i < labels_.size(); ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (labels_[i] == labels_[k]) throw InvalidArgument("Categorical: label '" + labels_[i] + "' appears twice");
  leaves_.push_back({"", LeafKind::Categorical, static_cast<std::int64_t>(labels_.size())});
}

std::int64_t Categorical::index_of(std::string_view label) const {
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == label) return static_cast<std::int64_t>(i);
  return -1;
}

std::string Categorical::valid_list() const {
  std::string s;
  for (const auto& l : labels_) s += (s.empty() ? "" : ", ") + l;
  return s;
}

void Categorical::check(const Value& v, const Path& path) const {
  if (!v.is_string()) invalid(path, "expected one of " + valid_list() + ", got " + excerpt(v.dump()));
  if (index_of(v.as_string()) < 0) invalid(path, excerpt(v.dump()) + " is not valid; choices: " + valid_list());
}

Value Categorical::sample(Rng& rng) const { return Value(labels_[rng.below(labels_.size())]); }

json Categorical::to_json() const { return {{"type", "categorical"}, {"labels", labels_}}; }

Value Categorical::parse(const json& j, const Path& path) const {
  if (!j.is_string()) invalid(path, "expected one of " + valid_list() + ", got " + excerpt(j));
  Value v(j.get<std::string>());
  check(v, path);
  return v;
}

void Categorical::encode_to(const Value& v, double* out) const {
  out[0] = index_to_unit(index_of(v.as_string()), static_cast<std::int64_t>(labels_.size()));
}
Value Categorical::decode_from(const double* in) const {
  return Value(labels_[static_cast<std::size_t>(unit_to_index(in[0], static_cast<std::int64_t>(labels_.size())))]);
}
void Categorical::indices_to(const Value& v, std::int64_t* out) const { out[0] = index_of(v.as_string()); }
Value Categorical::indices_from(const std::int64_t* in) const {
  return Value(labels_[static_cast<std::size_t>(checked_index(in[0], static_cast<std::int64_t>(labels_.size()), "categorical"))]);
}

// ---------------------------------------------------------------- Integer

Integer::Integer(std::int64_t lo, std::int64_t hi, std::int64_t step) : lo_(lo), hi_(hi), step_(step) {
  if (step < 1) throw InvalidArgument("Integer: step must be at least 1, got " + std::to_string(step));
  if (hi < lo) throw InvalidArgument("Integer: high " + std::to_string(hi) + " is below low " + std::to_string(lo));
  if ((hi - lo) % step != 0)
    throw InvalidArgument("Integer: high - low (" + std::to_string(hi - lo) + ") is not a multiple of step " + std::to_string(step));
  count_ = (hi - lo) / step + 1;
  leaves_.push_back({"", LeafKind::Ordinal, count_});
}

Integer::Integer(Pow2Tag, std::int64_t lo, std::int64_t hi) : lo_(lo), hi_(hi), step_(0), pow2_(true) {
  if (!power_of_two(lo) || !power_of_two(hi) || hi < lo)
    throw InvalidArgument("Integer (pow2): low and high must be powers of two with low <= high, got " +
                          std::to_string(lo) + ".." + std::to_string(hi));
  count_ = 1;
  for (std::int64_t x = lo; x < hi; x *= 2) ++count_;
  leaves_.push_back({"", LeafKind::Ordinal, count_});
}

std::shared_ptr<Integer> Integer::pow2(std::int64_t lo, std::int64_t hi) {
  return std::shared_ptr<Integer>(new Integer(Pow2Tag{}, lo, hi));
}

std::int64_t Integer::value_at(std::int64_t index) const {
  return pow2_ ? (lo_ << index) : lo_ + index * step_;
}

std::int64_t Integer::index_of(std::int64_t v) const {
  if (v < lo_ || v > hi_) return -1;
  if (pow2_) {
    if (!power_of_two(v)) return -1;
    std::int64_t i = 0;
    for (std::int64_t x = lo_; x < v; x *= 2) ++i;
    return i;
  }
  if ((v - lo_) % step_ != 0) return -1;
  return (v - lo_) / step_;
}

std::string Integer::describe() const {
  if (pow2_) return "powers of two " + std::to_string(lo_) + ".." + std::to_string(hi_);
  if (step_ == 1) return "integers " + std::to_string(lo_) + ".." + std::to_string(hi_);
  return "integers " + std::to_string(lo_) + ".." + std::to_string(hi_) + " in steps of " + std::to_string(step_);
}

void Integer::check(const Value& v, const Path& path) const {
  if (!v.is_int()) invalid(path, "expected an integer (" + describe() + "), got " + excerpt(v.dump()));
  if (index_of(v.as_int()) < 0) invalid(path, std::to_string(v.as_int()) + " is not valid; valid: " + describe());
}

Value Integer::sample(Rng& rng) const {
  return Value(value_at(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(count_)))));
}

json Integer::to_json() const {
  json j = {{"type", "integer"}, {"low", lo_}, {"high", hi_}};
  if (pow2_)
    j["scale"] = "pow2";
  else
    j["step"] = step_;
  return j;
}

Value Integer::parse(const json& j, const Path& path) const {
  std::int64_t i;
  if (!json_integer(j, i)) invalid(path, "expected an integer (" + describe() + "), got " + excerpt(j));
  Value v(i);
  check(v, path);
  return v;
}

void Integer::encode_to(const Value& v, double* out) const { out[0] = index_to_unit(index_of(v.as_int()), count_); }
Value Integer::decode_from(const double* in) const { return Value(value_at(unit_to_index(in[0], count_))); }
void Integer::indices_to(const Value& v, std::int64_t* out) const { out[0] = index_of(v.as_int()); }
Value Integer::indices_from(const std::int64_t* in) const { return Value(value_at(checked_index(in[0], count_, "integer"))); }

// ---------------------------------------------------------------- Box

Box::Box(double lo, double hi, bool log) : lo_{lo}, hi_{hi}, log_(log) { init(); }

Box::Box(std::vector<double> lo, std::vector<double> hi, std::vector<std::int64_t> shape, bool log)
    : lo_(std::move(lo)), hi_(std::move(hi)), shape_(std::move(shape)), log_(log) {
  std::int64_t n = 1;
  for (auto s : shape_) {
    if (s < 1) throw InvalidArgument("Box: shape entries must be at least 1");
    n *= s;
  }
  if (shape_.empty() || static_cast<std::int64_t>(lo_.size()) != n || static_cast<std::int64_t>(hi_.size()) != n)
    throw InvalidArgument("Box: low/high must have prod(shape) = " + std::to_string(n) + " elements");
  init();
}

void Box::init() {
  for (std::size_t i = 0; i < lo_.size(); ++i) {
    if (std::isnan(lo_[i]) || std::isnan(hi_[i]) || hi_[i] < lo_[i])
      throw InvalidArgument("Box: bounds [" + num(lo_[i]) + ", " + num(hi_[i]) + "] are not an interval");
    if (log_ && !(lo_[i] > 0.0)) throw InvalidArgument("Box: a log-scaled box needs low > 0, got " + num(lo_[i]));
    leaves_.push_back({is_scalar() ? "" : "[" + std::to_string(i) + "]", LeafKind::Continuous, 0});
  }
}

void Box::check_element(double x, std::size_t i, const Path& path) const {
  if (!(x >= lo_[i] && x <= hi_[i])) {
    const Path p = is_scalar() ? path : path.item(static_cast<std::int64_t>(i));
    invalid(p, num(x) + " is not valid; valid: reals in [" + num(lo_[i]) + ", " + num(hi_[i]) + "]");
  }
}

void Box::check(const Value& v, const Path& path) const {
  if (is_scalar()) {
    if (!v.is_number()) invalid(path, "expected a real number in [" + num(lo_[0]) + ", " + num(hi_[0]) + "], got " + excerpt(v.dump()));
    check_element(v.as_double(), 0, path);
    return;
  }
  if (!v.is_real() || v.as_real().size() != lo_.size())
    invalid(path, "expected a vector of " + std::to_string(lo_.size()) + " reals, got " + excerpt(v.dump()));
  const auto& r = v.as_real();
  for (std::size_t i = 0; i < r.size(); ++i) check_element(r[i], i, path);
}

Value Box::sample(Rng& rng) const {
  std::vector<double> x(lo_.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(lo_[i]) && std::isfinite(hi_[i])) {
      x[i] = log_ ? std::exp(rng.uniform(std::log(lo_[i]), std::log(hi_[i]))) : rng.uniform(lo_[i], hi_[i]);
      x[i] = std::clamp(x[i], lo_[i], hi_[i]);
    } else if (std::isfinite(lo_[i])) {
      x[i] = lo_[i] - std::log1p(-rng.uniform());  // exponential tail above lo
    } else if (std::isfinite(hi_[i])) {
      x[i] = hi_[i] + std::log1p(-rng.uniform());
    } else {
      x[i] = rng.normal();
    }
  }
  if (is_scalar()) return Value(x[0]);
  return Value(std::move(x));
}

json Box::to_json() const {
  auto bound = [](double x) { return std::isfinite(x) ? json(x) : json(x > 0 ? "inf" : "-inf"); };
  json j = {{"type", "box"}};
  if (is_scalar()) {
    j["low"] = bound(lo_[0]);
    j["high"] = bound(hi_[0]);
  } else {
    json lo = json::array(), hi = json::array();
    for (std::size_t i = 0; i < lo_.size(); ++i) {
      lo.push_back(bound(lo_[i]));
      hi.push_back(bound(hi_[i]));
    }
    j["low"] = lo;
    j["high"] = hi;
    j["shape"] = shape_;
  }
  if (log_) j["log"] = true;
  return j;
}

Value Box::parse(const json& j, const Path& path) const {
  Value v;
  if (is_scalar()) {
    if (!j.is_number()) invalid(path, "expected a real number in [" + num(lo_[0]) + ", " + num(hi_[0]) + "], got " + excerpt(j));
    v = Value(j.get<double>());
  } else {
    if (!j.is_array() || j.size() != lo_.size())
      invalid(path, "expected an array of " + std::to_string(lo_.size()) + " reals, got " + excerpt(j));
    std::vector<double> r;
    r.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_number()) invalid(path.item(static_cast<std::int64_t>(i)), "expected a real number, got " + excerpt(j[i]));
      r.push_back(j[i].get<double>());
    }
    v = Value(std::move(r));
  }
  check(v, path);
  return v;
}

void Box::encode_to(const Value& v, double* out) const {
  for (std::size_t i = 0; i < lo_.size(); ++i) {
    if (!std::isfinite(lo_[i]) || !std::isfinite(hi_[i]))
      throw InvalidArgument("encode: a box with infinite bounds has no [0,1] encoding");
    const double x = is_scalar() ? v.as_double() : v.as_real()[i];
    const double width = log_ ? std::log(hi_[i] / lo_[i]) : hi_[i] - lo_[i];
    out[i] = width > 0 ? (log_ ? std::log(x / lo_[i]) : x - lo_[i]) / width : 0.5;
  }
}

Value Box::decode_from(const double* in) const {
  std::vector<double> x(lo_.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(lo_[i]) || !std::isfinite(hi_[i]))
      throw InvalidArgument("decode: a box with infinite bounds has no [0,1] encoding");
    const double u = std::clamp(std::isnan(in[i]) ? 0.5 : in[i], 0.0, 1.0);
    x[i] = log_ ? lo_[i] * std::exp(u * std::log(hi_[i] / lo_[i])) : lo_[i] + u * (hi_[i] - lo_[i]);
    x[i] = std::clamp(x[i], lo_[i], hi_[i]);
  }
  if (is_scalar()) return Value(x[0]);
  return Value(std::move(x));
}

void Box::indices_to(const Value&, std::int64_t*) const {
  throw InvalidArgument("a box space has no integer indices");
}
Value Box::indices_from(const std::int64_t*) const { throw InvalidArgument("a box space has no integer indices"); }

// ---------------------------------------------------------------- MultiDiscrete

MultiDiscrete::MultiDiscrete(std::vector<std::int64_t> nvec) : nvec_(std::move(nvec)) {
  if (nvec_.empty()) throw InvalidArgument("MultiDiscrete: nvec must not be empty");
  for (std::size_t i = 0; i < nvec_.size(); ++i) {
    if (nvec_[i] < 1) throw InvalidArgument("MultiDiscrete: nvec[" + std::to_string(i) + "] must be at least 1");
    leaves_.push_back({"[" + std::to_string(i) + "]", LeafKind::Categorical, nvec_[i]});
  }
}

void MultiDiscrete::check(const Value& v, const Path& path) const {
  if (!v.is_list() || v.as_list().size() != nvec_.size())
    invalid(path, "expected a list of " + std::to_string(nvec_.size()) + " integers, got " + excerpt(v.dump()));
  const auto& l = v.as_list();
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (!l[i].is_int() || l[i].as_int() < 0 || l[i].as_int() >= nvec_[i])
      invalid(path.item(static_cast<std::int64_t>(i)),
              excerpt(l[i].dump()) + " is not valid; valid: integers 0.." + std::to_string(nvec_[i] - 1));
  }
}

Value MultiDiscrete::sample(Rng& rng) const {
  Value::List l;
  l.reserve(nvec_.size());
  for (auto n : nvec_) l.emplace_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n))));
  return Value(std::move(l));
}

json MultiDiscrete::to_json() const { return {{"type", "multi_discrete"}, {"nvec", nvec_}}; }

Value MultiDiscrete::parse(const json& j, const Path& path) const {
  if (!j.is_array() || j.size() != nvec_.size())
    invalid(path, "expected an array of " + std::to_string(nvec_.size()) + " integers, got " + excerpt(j));
  Value::List l;
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::int64_t x;
    if (!json_integer(j[i], x)) invalid(path.item(static_cast<std::int64_t>(i)), "expected an integer, got " + excerpt(j[i]));
    l.emplace_back(x);
  }
  Value v(std::move(l));
  check(v, path);
  return v;
}

void MultiDiscrete::encode_to(const Value& v, double* out) const {
  const auto& l = v.as_list();
  for (std::size_t i = 0; i < nvec_.size(); ++i) out[i] = index_to_unit(l[i].as_int(), nvec_[i]);
}
Value MultiDiscrete::decode_from(const double* in) const {
  Value::List l;
  for (std::size_t i = 0; i < nvec_.size(); ++i) l.emplace_back(unit_to_index(in[i], nvec_[i]));
  return Value(std::move(l));
}
void MultiDiscrete::indices_to(const Value& v, std::int64_t* out) const {
  const auto& l = v.as_list();
  for (std::size_t i = 0; i < nvec_.size(); ++i) out[i] = l[i].as_int();
}
Value MultiDiscrete::indices_from(const std::int64_t* in) const {
  Value::List l;
  for (std::size_t i = 0; i < nvec_.size(); ++i) l.emplace_back(checked_index(in[i], nvec_[i], "multi_discrete"));
  return Value(std::move(l));
}

// ---------------------------------------------------------------- DictSpace

DictSpace::DictSpace(Children children) : children_(std::move(children)) {
  if (children_.empty()) throw InvalidArgument("Dict space: needs at least one child");
  for (std::size_t i = 0; i < children_.size(); ++i) {
    const auto& [name, space] = children_[i];
    if (name.empty()) throw InvalidArgument("Dict space: child names must not be empty");
    if (!space) throw InvalidArgument("Dict space: child '" + name + "' has no space");
    for (std::size_t k = 0; k < i; ++k)
      if (children_[k].first == name) throw InvalidArgument("Dict space: child '" + name + "' appears twice");
    offsets_.push_back(leaves_.size());
    for (const auto& leaf : space->leaves()) {
      std::string leaf_name = name;
      if (!leaf.name.empty()) leaf_name += leaf.name[0] == '[' ? leaf.name : "." + leaf.name;
      leaves_.push_back({leaf_name, leaf.kind, leaf.cardinality});
    }
  }
}

std::string DictSpace::key_list() const {
  std::string s;
  for (const auto& c : children_) s += (s.empty() ? "" : ", ") + c.first;
  return s;
}

const SpacePtr& DictSpace::child(std::string_view name) const {
  for (const auto& c : children_)
    if (c.first == name) return c.second;
  throw InvalidArgument("no knob '" + std::string(name) + "'; valid: " + key_list());
}

void DictSpace::check(const Value& v, const Path& path) const {
  if (!v.is_dict()) invalid(path, "expected a dict with keys " + key_list() + ", got " + excerpt(v.dump()));
  const auto& d = v.as_dict();
  for (const auto& [name, space] : children_) {
    const Value* e = v.find(name);
    if (!e) invalid(path, "missing key '" + name + "'; expected keys: " + key_list());
    space->check(*e, path.child(name));
  }
  if (d.size() != children_.size()) {
    for (const auto& kv : d) {
      bool known = false;
      for (const auto& c : children_) known = known || c.first == kv.first;
      if (!known) invalid(path, "unknown key '" + excerpt(kv.first, 100) + "'; valid keys: " + key_list());
    }
    invalid(path, "duplicate keys in " + excerpt(v.dump()));
  }
}

Value DictSpace::sample(Rng& rng) const {
  Value::Dict d;
  d.reserve(children_.size());
  for (const auto& [name, space] : children_) d.emplace_back(name, space->sample(rng));
  return Value(std::move(d));
}

json DictSpace::to_json() const {
  json spaces = json::array();
  for (const auto& [name, space] : children_) spaces.push_back({{"name", name}, {"space", space->to_json()}});
  return {{"type", "dict"}, {"spaces", spaces}};
}

Value DictSpace::parse(const json& j, const Path& path) const {
  if (!j.is_object()) invalid(path, "expected an object with keys " + key_list() + ", got " + excerpt(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const auto& c : children_) known = known || c.first == it.key();
    if (!known) invalid(path, "unknown key '" + excerpt(it.key(), 100) + "'; valid keys: " + key_list());
  }
  Value::Dict d;
  d.reserve(children_.size());
  for (const auto& [name, space] : children_) {
    if (!j.contains(name)) invalid(path, "missing key '" + name + "'; expected keys: " + key_list());
    d.emplace_back(name, space->parse(j.at(name), path.child(name)));
  }
  return Value(std::move(d));
}

void DictSpace::encode_to(const Value& v, double* out) const {
  for (std::size_t i = 0; i < children_.size(); ++i)
    children_[i].second->encode_to(v.at(children_[i].first), out + offsets_[i]);
}

Value DictSpace::decode_from(const double* in) const {
  Value::Dict d;
  d.reserve(children_.size());
  for (std::size_t i = 0; i < children_.size(); ++i)
    d.emplace_back(children_[i].first, children_[i].second->decode_from(in + offsets_[i]));
  return Value(std::move(d));
}

void DictSpace::indices_to(const Value& v, std::int64_t* out) const {
  for (std::size_t i = 0; i < children_.size(); ++i)
    children_[i].second->indices_to(v.at(children_[i].first), out + offsets_[i]);
}

Value DictSpace::indices_from(const std::int64_t* in) const {
  Value::Dict d;
  d.reserve(children_.size());
  for (std::size_t i = 0; i < children_.size(); ++i)
    d.emplace_back(children_[i].first, children_[i].second->indices_from(in + offsets_[i]));
  return Value(std::move(d));
}

}  // namespace dsegym
