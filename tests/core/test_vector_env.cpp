#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>

#include "base/thread_pool.hpp"
#include "envs/core/vector_env.hpp"
#include "fake_env.hpp"

using namespace dsegym;
using dsegym::testing::FakeEnv;

TEST_CASE("parallel_for visits every index once and rethrows the first error") {
  ThreadPool pool(3);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::atomic<int>> hits(1000);
    pool.parallel_for(hits.size(), [&](std::size_t i) { hits[i]++; });
    for (auto& h : hits) CHECK(h.load() == 1);
  }
  CHECK_THROWS_WITH(pool.parallel_for(50, [](std::size_t i) {
    if (i == 17) throw std::runtime_error("boom 17");
  }), "boom 17");
  // The pool still works after an error.
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](std::size_t) { n++; });
  CHECK(n == 10);
}

TEST_CASE("a vector env turns exceptions into SimError statuses and keeps the rest") {
  VectorEnv v([] { return std::make_unique<FakeEnv>(); }, 4, 3);
  v.reset(1);
  const auto r = v.step({Value(1), Value(7), Value(8), Value(3)});
  REQUIRE(r.size() == 4);
  CHECK(r[0].status.ok());
  CHECK(r[0].metrics.at("a") == 1.0);
  CHECK(r[1].status.code == Status::SimError);
  CHECK(r[1].status.reason.find("simulator crashed on x = 7") != std::string::npos);
  CHECK(r[2].status.code == Status::Infeasible);
  CHECK(r[3].metrics.at("b") == 7.0);
  // An out-of-space action is that env's error, not the batch's.
  const auto r2 = v.step({Value(2), Value(42)});
  CHECK(r2[0].status.ok());
  CHECK(r2[1].status.code == Status::SimError);
  CHECK(r2[1].status.reason.find("action: 42 is not valid") != std::string::npos);
}

TEST_CASE("vector evaluation equals sequential evaluation") {
  VectorEnv par([] { return std::make_unique<FakeEnv>(); }, 5, 2);
  VectorEnv seq([] { return std::make_unique<FakeEnv>(); }, 1, 0);
  std::vector<Value> actions;
  for (int i = 0; i < 5; ++i) actions.emplace_back(i * 2);
  std::vector<double> times;
  const auto p = par.evaluate(actions, {1, 2, 3, 4, 5}, &times);
  REQUIRE(times.size() == 5);
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto s = seq.evaluate({actions[i]}, {i + 1});
    CHECK(s[0].status.code == p[i].status.code);
    CHECK(s[0].metrics.items() == p[i].metrics.items());
    CHECK(times[i] >= 0.0);
  }
}
