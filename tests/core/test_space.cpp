#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "envs/core/space.hpp"

using namespace dsegym;

namespace {

SpacePtr mixed_discrete() {
  return std::make_shared<DictSpace>(DictSpace::Children{
      {"policy", std::make_shared<Categorical>(std::vector<std::string>{"Open", "Closed", "OpenAdaptive"})},
      {"buffer", Integer::pow2(1, 16)},
      {"depth", std::make_shared<Integer>(2, 10, 4)},
      {"choice", std::make_shared<Discrete>(2)},
      {"pair", std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{2, 3})},
  });
}

std::vector<SpacePtr> all_kinds() {
  return {
      std::make_shared<Discrete>(5),
      std::make_shared<Categorical>(std::vector<std::string>{"a", "b", "c"}),
      std::make_shared<Integer>(-3, 9, 3),
      Integer::pow2(4, 256),
      std::make_shared<Box>(-1.0, 2.5),
      std::make_shared<Box>(1e-3, 1e3, true),
      std::make_shared<Box>(std::vector<double>{0, -1, 5}, std::vector<double>{1, 1, 6}, std::vector<std::int64_t>{3}),
      std::make_shared<MultiDiscrete>(std::vector<std::int64_t>{2, 4, 3}),
      mixed_discrete(),
      std::make_shared<DictSpace>(DictSpace::Children{
          {"inner", mixed_discrete()}, {"x", std::make_shared<Box>(0.0, 1.0)}}),
  };
}

}  // namespace

TEST_CASE("samples stay in their space and are reproducible per seed") {
  for (const auto& s : all_kinds()) {
    INFO(s->to_json().dump());
    Rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 500; ++i) {
      const Value v = s->sample(a);
      CHECK(s->contains(v));
      CHECK(v == s->sample(b));
      differs = differs || !(v == s->sample(c));
    }
    CHECK(differs);
  }
}

TEST_CASE("spaces and values round-trip through JSON") {
  for (const auto& s : all_kinds()) {
    const json j = s->to_json();
    INFO(j.dump());
    const SpacePtr back = Space::from_json(j);
    CHECK(back->to_json() == j);
    Rng rng(3);
    for (int i = 0; i < 100; ++i) {
      const Value v = s->sample(rng);
      // Through text, as a trace or an RPC would carry it.
      const Value parsed = back->parse(json::parse(to_json(v).dump()), "v");
      CHECK(parsed == v);
    }
  }
}

TEST_CASE("encoding is a bijection on a discrete space") {
  const SpacePtr s = mixed_discrete();
  REQUIRE(s->is_discrete());
  REQUIRE(s->dim() == 6);
  // 3 policies x 5 buffers (1..16 pow2) x 3 depths (2, 6, 10) x 2 x (2 x 3)
  REQUIRE(s->cardinality() == 3 * 5 * 3 * 2 * 6);
  std::set<std::string> seen;
  std::vector<std::int64_t> idx(s->dim(), 0);
  const auto& leaves = s->leaves();
  for (std::int64_t count = 0; count < s->cardinality(); ++count) {
    const Value v = s->from_indices(idx);
    CHECK(s->contains(v));
    CHECK(s->to_indices(v) == idx);
    const auto x = s->encode(v);
    for (double e : x) CHECK((e > 0.0 && e < 1.0));
    CHECK(s->decode(x) == v);
    seen.insert(v.dump());
    // next index tuple (odometer)
    for (std::size_t d = 0; d < idx.size(); ++d) {
      if (++idx[d] < leaves[d].cardinality) break;
      idx[d] = 0;
    }
  }
  CHECK(static_cast<std::int64_t>(seen.size()) == s->cardinality());
}

TEST_CASE("decode maps every point of [0,1]^d into the space") {
  Rng rng(11);
  for (const auto& s : all_kinds()) {
    for (int i = 0; i < 200; ++i) {
      std::vector<double> x(s->dim());
      for (auto& e : x) e = rng.uniform(-0.2, 1.2);  // out-of-range inputs are clamped
      CHECK(s->contains(s->decode(x)));
    }
  }
}

TEST_CASE("box encoding is affine, or logarithmic when asked") {
  Box lin(-1.0, 3.0);
  CHECK(lin.encode(Value(1.0))[0] == doctest::Approx(0.5));
  CHECK(lin.decode({0.25}).as_double() == doctest::Approx(0.0));
  Box lg(1.0, 1e4, true);
  CHECK(lg.encode(Value(100.0))[0] == doctest::Approx(0.5));
  CHECK(lg.decode({0.75}).as_double() == doctest::Approx(1000.0));
  CHECK_THROWS_AS(lin.to_indices(Value(0.0)), InvalidArgument);
}

TEST_CASE("integer spaces enumerate their values") {
  auto p = Integer::pow2(1, 64);
  CHECK(p->count() == 7);
  CHECK(p->value_at(3) == 8);
  CHECK(p->index_of(64) == 6);
  CHECK(p->index_of(48) == -1);
  Integer lin(2, 10, 4);
  CHECK(lin.count() == 3);
  CHECK(lin.index_of(6) == 1);
  CHECK(lin.index_of(7) == -1);
  CHECK_THROWS_AS(Integer(0, 10, 3), InvalidArgument);
  CHECK_THROWS_AS(Integer::pow2(3, 64), InvalidArgument);
}

TEST_CASE("membership errors name the path, the value and what is valid") {
  const SpacePtr s = mixed_discrete();
  Rng rng(1);
  Value v = s->sample(rng);
  v.set("policy", Value("Opne"));
  try {
    s->check(v, "action");
    FAIL("no error");
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    CHECK(m.find("action.policy") != std::string::npos);
    CHECK(m.find("Opne") != std::string::npos);
    CHECK(m.find("Open, Closed, OpenAdaptive") != std::string::npos);
  }
  v = s->sample(rng);
  v.set("buffer", Value(3));
  CHECK_THROWS_WITH_AS(s->check(v, "action"), doctest::Contains("powers of two 1..16"), InvalidArgument);
  v = s->sample(rng);
  v.set("extra", Value(1));
  CHECK_THROWS_WITH_AS(s->check(v, "action"), doctest::Contains("unknown key 'extra'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(s->parse(json::parse(R"({"policy": "Open"})"), "action"), doctest::Contains("missing key"),
                       InvalidArgument);
  Box b(std::vector<double>{0, 0}, std::vector<double>{1, 1}, std::vector<std::int64_t>{2});
  CHECK_THROWS_WITH_AS(b.check(Value(std::vector<double>{0.5, 2.0}), "obs"), doctest::Contains("obs[1]"), InvalidArgument);
}

TEST_CASE("parse coerces exact numbers and rejects the rest") {
  Integer i(0, 10);
  CHECK(i.parse(json(4.0), "n") == Value(4));
  CHECK_THROWS_AS(i.parse(json(4.5), "n"), InvalidArgument);
  Box b(0.0, 1.0);
  CHECK(b.parse(json(1), "x") == Value(1.0));
  CHECK_THROWS_AS(b.parse(json("0.5"), "x"), InvalidArgument);
}

TEST_CASE("space JSON errors name the problem") {
  CHECK_THROWS_WITH_AS(Space::from_json(json::parse(R"({"type": "cube"})")), doctest::Contains("choices: discrete"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(Space::from_json(json::parse(R"({"type": "discrete", "n": 3, "m": 1})")),
                       doctest::Contains("unknown key 'm'"), InvalidArgument);
  CHECK_THROWS_AS(Space::from_json(json::parse(R"({"type": "box", "low": 2, "high": 1})")), InvalidArgument);
}
