// The `dsegym` Python module: every registered env in the Python process with
// the Gymnasium API, batches of evaluations on the C++ thread pool with the
// GIL released, and the C++ agents through ask/tell. Built into build/python
// (next to the generated gRPC Python code) with pybind11.
#include <pybind11/eval.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agents/agent.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/rng.hpp"
#include "envs/core/vector_env.hpp"
#include "envs/core/wrappers.hpp"
#include "envs/external/external_env.hpp"
#include "experiments/plugin.hpp"

namespace py = pybind11;
using namespace dsegym;

namespace {

// ------------------------------------------------------------ values

py::object to_py(const Value& v) {
  switch (v.type()) {
    case Value::Type::Null: return py::none();
    case Value::Type::Bool: return py::bool_(v.as_bool());
    case Value::Type::Int: return py::int_(v.as_int());
    case Value::Type::Double: return py::float_(v.as_double());
    case Value::Type::String: return py::str(v.as_string());
    case Value::Type::Real: {
      const auto& r = v.as_real();
      py::array_t<double> a(static_cast<py::ssize_t>(r.size()));
      std::copy(r.begin(), r.end(), a.mutable_data());
      return a;
    }
    case Value::Type::List: {
      py::list l;
      for (const auto& x : v.as_list()) l.append(to_py(x));
      return l;
    }
    case Value::Type::Dict: {
      py::dict d;
      for (const auto& [k, x] : v.as_dict()) d[py::str(k)] = to_py(x);
      return d;
    }
  }
  return py::none();
}

// numpy's scalar types and asarray, looked up once (an import per value
// would cost microseconds per step).
struct Numpy {
  py::object integer, floating, bool_, asarray;
};
const Numpy& np() {
  static const Numpy* n = [] {
    py::module_ m = py::module_::import("numpy");
    return new Numpy{m.attr("integer"), m.attr("floating"), m.attr("bool_"), m.attr("asarray")};  // never freed: outlives the interpreter's teardown
  }();
  return *n;
}

bool is_integer(const py::handle& o) {
  if (py::isinstance<py::int_>(o)) return !py::isinstance<py::bool_>(o);
  return py::isinstance(o, np().integer);
}

// A Python object as a Value, without a space: numbers, strings, sequences
// (numeric ones as Real), dicts.
Value from_py(const py::handle& o) {
  if (o.is_none()) return Value();
  if (py::isinstance<py::str>(o)) return Value(o.cast<std::string>());
  if (py::isinstance<py::float_>(o)) return Value(o.cast<double>());
  if (py::isinstance<py::bool_>(o)) return Value(o.cast<bool>());
  if (py::isinstance<py::int_>(o)) return Value(o.cast<std::int64_t>());
  if (py::isinstance(o, np().bool_)) return Value(o.cast<bool>());
  if (py::isinstance(o, np().integer)) return Value(o.cast<std::int64_t>());
  if (py::isinstance(o, np().floating)) return Value(o.cast<double>());
  if (py::isinstance<py::dict>(o)) {
    Value::Dict d;
    for (const auto& [k, x] : o.cast<py::dict>()) d.emplace_back(py::str(k).cast<std::string>(), from_py(x));
    return Value(std::move(d));
  }
  if (py::isinstance<py::array>(o)) {
    py::array a = py::reinterpret_borrow<py::array>(o);
    if (a.dtype().kind() == 'f') return Value(py::cast<std::vector<double>>(a.attr("ravel")().attr("tolist")()));
    return from_py(a.attr("tolist")());
  }
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    Value::List l;
    for (const auto& x : o) l.push_back(from_py(x));
    return Value(std::move(l));
  }
  throw InvalidArgument("cannot pass a Python " + py::str(o.get_type().attr("__name__")).cast<std::string>() + " to dsegym");
}

// A Python object as a member of `space` (an action): a dict in the space's
// key order, sequences as the space's list or vector, numbers as the leaf
// wants them. Membership is then checked by the space (the error names the
// knob and the valid values).
Value from_py(const py::handle& o, const Space& space) {
  if (const auto* d = dynamic_cast<const DictSpace*>(&space)) {
    if (!py::isinstance<py::dict>(o)) return from_py(o);
    Value::Dict out;
    const py::dict pd = py::reinterpret_borrow<py::dict>(o);
    for (const auto& [k, x] : pd) {
      const std::string key = py::str(k).cast<std::string>();
      const auto& children = d->children();
      const auto it = std::find_if(children.begin(), children.end(), [&](const auto& c) { return c.first == key; });
      out.emplace_back(key, it == children.end() ? from_py(x) : from_py(x, *it->second));
    }
    return Value(std::move(out));
  }
  if (const auto* b = dynamic_cast<const Box*>(&space)) {
    if (!b->is_scalar()) {
      if (py::isinstance<py::array>(o) || py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o))
        return Value(py::cast<std::vector<double>>(np().asarray(o, "float64").attr("ravel")().attr("tolist")()));
      return from_py(o);
    }
    if (is_integer(o)) return Value(static_cast<double>(o.cast<std::int64_t>()));
    if (py::isinstance<py::array>(o) && py::reinterpret_borrow<py::array>(o).size() == 1) return Value(o.attr("item")().cast<double>());
    return from_py(o);
  }
  if (dynamic_cast<const MultiDiscrete*>(&space) && py::isinstance<py::array>(o)) return from_py(o.attr("tolist")());
  if ((dynamic_cast<const Discrete*>(&space) || dynamic_cast<const Integer*>(&space)) && py::isinstance<py::array>(o) &&
      py::reinterpret_borrow<py::array>(o).size() == 1)
    return from_py(o.attr("item")());
  return from_py(o);
}

// ------------------------------------------------------------ spaces

// A space with its own random stream (seed()), as Gymnasium's.
struct PySpace {
  SpacePtr space;
  Rng rng{0};

  explicit PySpace(SpacePtr s) : space(std::move(s)) {}
  virtual ~PySpace() = default;

  py::object sample() { return to_py(space->sample(rng)); }
  bool contains(const py::handle& x) const {
    try {
      return space->contains(from_py(x, *space));
    } catch (const InvalidArgument&) {
      return false;
    }
  }
  std::uint64_t seed(std::optional<std::uint64_t> s) {
    const std::uint64_t v = s ? *s : std::random_device{}();
    rng.reseed(v);
    return v;
  }
};

struct PyDiscrete : PySpace {
  using PySpace::PySpace;
};
struct PyCategorical : PySpace {
  using PySpace::PySpace;
};
struct PyInteger : PySpace {
  using PySpace::PySpace;
};
struct PyBox : PySpace {
  using PySpace::PySpace;
};
struct PyMultiDiscrete : PySpace {
  using PySpace::PySpace;
};
struct PyDict : PySpace {
  using PySpace::PySpace;
};

std::shared_ptr<PySpace> wrap_space(const SpacePtr& s) {
  if (dynamic_cast<const Discrete*>(s.get())) return std::make_shared<PyDiscrete>(s);
  if (dynamic_cast<const Categorical*>(s.get())) return std::make_shared<PyCategorical>(s);
  if (dynamic_cast<const Integer*>(s.get())) return std::make_shared<PyInteger>(s);
  if (dynamic_cast<const Box*>(s.get())) return std::make_shared<PyBox>(s);
  if (dynamic_cast<const MultiDiscrete*>(s.get())) return std::make_shared<PyMultiDiscrete>(s);
  if (dynamic_cast<const DictSpace*>(s.get())) return std::make_shared<PyDict>(s);
  return std::make_shared<PySpace>(s);
}

template <class T>
const T& as(const PySpace& p) {
  return dynamic_cast<const T&>(*p.space);
}

py::array_t<double> doubles(const std::vector<double>& v, const std::vector<std::int64_t>& shape) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  py::array_t<double> a(dims);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// ------------------------------------------------------------ envs

py::dict info_dict(const EnvSpec& spec, const StepResult& r) {
  py::dict info = r.info.is_dict() ? to_py(r.info).cast<py::dict>() : py::dict();
  py::dict metrics, units;
  for (const auto& [name, value] : r.metrics.items()) {
    metrics[py::str(name)] = value;
    if (const MetricSpec* m = spec.find_metric(name)) units[py::str(name)] = m->unit;
  }
  info["metrics"] = metrics;
  info["units"] = units;
  info["status"] = status_name(r.status.code);
  if (!r.status.reason.empty()) info["reason"] = r.status.reason;
  return info;
}

py::tuple step_tuple(const EnvSpec& spec, const StepResult& r) {
  return py::make_tuple(to_py(r.obs), r.reward, r.terminated, r.truncated, info_dict(spec, r));
}

json json_of(const py::object& o, const char* what) {
  if (o.is_none()) return json::object();
  if (py::isinstance<py::str>(o)) return parse_json(o.cast<std::string>(), what);
  const Value v = from_py(o);
  if (!v.is_dict()) throw InvalidArgument(std::string(what) + ": expected a dict or a JSON string");
  return to_json(v);
}

struct PyEnv {
  std::string id;
  json options, reward;
  EnvPtr env;
  std::shared_ptr<PySpace> action_space, observation_space;
  // evaluate(): envs for the thread pool, made on first use.
  std::unique_ptr<VectorEnv> pool;
  std::uint64_t next_seed = 0;

  EnvPtr build() const {
    EnvPtr e = make_env(env_registry(), id, options);
    const json r = reward.is_null() ? e->spec().default_reward : reward;
    if (!r.is_null()) e = std::make_unique<RewardWrapper>(std::move(e), r);
    return e;
  }

  PyEnv(std::string env_id, const py::object& opts, const py::object& rew) : id(std::move(env_id)), options(json_of(opts, "options")) {
    reward = rew.is_none() ? json() : (py::isinstance<py::str>(rew) && rew.cast<std::string>().find('{') == std::string::npos
                                           ? json{{"type", "metric"}, {"metric", rew.cast<std::string>()}}
                                           : json_of(rew, "reward"));
    env = build();
    action_space = wrap_space(env->spec().action_space);
    observation_space = wrap_space(env->spec().observation_space);
  }

  Env& get() {
    if (!env) throw InvalidArgument("env '" + id + "' is closed");
    return *env;
  }

  py::tuple reset(std::optional<std::uint64_t> seed, const py::object& opts) {
    Env& e = get();
    const Value o = opts.is_none() ? Value() : from_py(opts);
    std::pair<Value, Value> r;
    {
      py::gil_scoped_release nogil;
      r = e.reset(seed, o);
    }
    return py::make_tuple(to_py(r.first), r.second.is_null() ? py::dict() : to_py(r.second));
  }

  py::tuple step(const py::handle& action) {
    Env& e = get();
    const Value a = from_py(action, *e.spec().action_space);
    StepResult r;
    {
      py::gil_scoped_release nogil;
      r = e.step(a);
    }
    return step_tuple(e.spec(), r);
  }

  // One-shot evaluations: action i after a reset with seeds[i] (default: a
  // fresh seed per evaluation, counting from 0), `threads` at a time.
  py::list evaluate(const py::list& actions, const std::optional<std::vector<std::uint64_t>>& seeds, std::size_t threads) {
    Env& e = get();
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<Value> acts;
    for (std::size_t i = 0; i < actions.size(); ++i) {
      acts.push_back(from_py(actions[i], *e.spec().action_space));
      e.spec().action_space->check(acts.back(), "actions[" + std::to_string(i) + "]");
    }
    std::vector<std::uint64_t> s;
    if (seeds) {
      if (seeds->size() != acts.size())
        throw InvalidArgument("evaluate: " + std::to_string(seeds->size()) + " seeds for " + std::to_string(acts.size()) + " actions");
      s = *seeds;
    } else {
      for (std::size_t i = 0; i < acts.size(); ++i) s.push_back(next_seed++);
    }
    std::vector<StepResult> results;
    {
      py::gil_scoped_release nogil;
      if (!pool || pool->size() != threads) pool = std::make_unique<VectorEnv>([this] { return build(); }, threads, threads);
      for (std::size_t at = 0; at < acts.size(); at += threads) {
        const std::size_t n = std::min(threads, acts.size() - at);
        auto part = pool->evaluate(std::vector<Value>(acts.begin() + static_cast<std::ptrdiff_t>(at), acts.begin() + static_cast<std::ptrdiff_t>(at + n)),
                                   std::vector<std::uint64_t>(s.begin() + static_cast<std::ptrdiff_t>(at), s.begin() + static_cast<std::ptrdiff_t>(at + n)));
        for (auto& r : part) results.push_back(std::move(r));
      }
    }
    py::list out;
    for (const auto& r : results) {
      py::dict d = info_dict(e.spec(), r);
      d["reward"] = r.reward;
      d["obs"] = to_py(r.obs);
      out.append(d);
    }
    return out;
  }

  void close() {
    pool.reset();
    env.reset();
  }
};

// ------------------------------------------------------------ agents

struct PyAgent {
  AgentPtr agent;
  SpacePtr space;
  std::map<std::int64_t, Value> asked;

  py::list ask(std::size_t n) {
    std::vector<Suggestion> s;
    {
      py::gil_scoped_release nogil;
      s = agent->ask(n);
    }
    py::list out;
    for (auto& x : s) {
      asked[x.id] = x.action;
      py::dict d;
      d["id"] = x.id;
      d["action"] = to_py(x.action);
      out.append(d);
    }
    return out;
  }

  // trials: dicts with "id" (from ask), "reward" (NaN or None: failed), and
  // optionally "metrics" (dict), "status" ("ok", "infeasible", "sim_error",
  // "timeout") and "action" (default: the one asked).
  void tell(const py::list& trials) {
    std::vector<Trial> ts;
    for (const auto& item : trials) {
      if (!py::isinstance<py::dict>(item)) throw InvalidArgument("tell: each trial must be a dict with 'id' and 'reward'");
      const py::dict d = py::reinterpret_borrow<py::dict>(item);
      Trial t;
      if (!d.contains("id")) throw InvalidArgument("tell: a trial has no 'id' (give the id ask() returned)");
      t.id = d["id"].cast<std::int64_t>();
      const auto it = asked.find(t.id);
      if (d.contains("action"))
        t.action = from_py(d["action"], *space);
      else if (it != asked.end())
        t.action = it->second;
      else
        throw InvalidArgument("tell: trial " + std::to_string(t.id) + " was not asked and has no 'action'");
      space->check(t.action, "trial " + std::to_string(t.id) + " action");
      t.reward = d.contains("reward") && !d["reward"].is_none() ? d["reward"].cast<double>() : std::numeric_limits<double>::quiet_NaN();
      if (d.contains("metrics"))
        for (const auto& [k, v] : d["metrics"].cast<py::dict>()) t.metrics.set(py::str(k).cast<std::string>(), v.cast<double>());
      const std::string status = d.contains("status") ? d["status"].cast<std::string>() : (std::isnan(t.reward) ? "sim_error" : "ok");
      if (status == "ok")
        t.status = {};
      else if (status == "infeasible")
        t.status = EvalStatus::infeasible("reported by the caller");
      else if (status == "sim_error")
        t.status = EvalStatus::sim_error("reported by the caller");
      else if (status == "timeout")
        t.status = EvalStatus::timeout("reported by the caller");
      else
        throw InvalidArgument("tell: status '" + status + "' is not valid; choices: ok, infeasible, sim_error, timeout");
      if (it != asked.end()) asked.erase(it);
      ts.push_back(std::move(t));
    }
    py::gil_scoped_release nogil;
    agent->tell(ts);
  }
};

}  // namespace

PYBIND11_MODULE(dsegym, m) {
  register_builtins();
  m.doc() = "dsegym: design-space exploration environments and agents, in process (see the README's Python section)";
  m.attr("__version__") = DSEGYM_VERSION;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  // Spaces, with Gymnasium's names.
  py::class_<PySpace, std::shared_ptr<PySpace>>(m, "Space")
      .def("sample", &PySpace::sample, "A random member, from this space's own random stream (see seed()).")
      .def("contains", &PySpace::contains, py::arg("x"))
      .def("__contains__", &PySpace::contains)
      .def("seed", &PySpace::seed, py::arg("seed") = py::none(), "Seeds sample(); returns the seed.")
      .def("to_json", [](const PySpace& s) { return s.space->to_json().dump(); })
      .def("__repr__", [](const PySpace& s) { return std::string(s.space->kind()) + "(" + s.space->to_json().dump() + ")"; });
  py::class_<PyDiscrete, PySpace, std::shared_ptr<PyDiscrete>>(m, "Discrete")
      .def(py::init([](std::int64_t n) { return std::make_shared<PyDiscrete>(std::make_shared<Discrete>(n)); }), py::arg("n"))
      .def_property_readonly("n", [](const PyDiscrete& s) { return as<Discrete>(s).n(); })
      .def_property_readonly("shape", [](const PySpace&) { return py::tuple(); })
      .def_property_readonly("dtype", [](const PySpace&) { return py::dtype::of<std::int64_t>(); });
  py::class_<PyCategorical, PySpace, std::shared_ptr<PyCategorical>>(m, "Categorical", "One of a list of labels (strings).")
      .def(py::init([](std::vector<std::string> labels) { return std::make_shared<PyCategorical>(std::make_shared<Categorical>(std::move(labels))); }),
           py::arg("labels"))
      .def_property_readonly("n", [](const PyCategorical& s) { return static_cast<std::int64_t>(as<Categorical>(s).labels().size()); })
      .def_property_readonly("labels", [](const PyCategorical& s) { return as<Categorical>(s).labels(); })
      .def_property_readonly("shape", [](const PySpace&) { return py::tuple(); })
      .def_property_readonly("dtype", [](const PySpace&) { return py::dtype("O"); });
  py::class_<PyInteger, PySpace, std::shared_ptr<PyInteger>>(m, "Integer", "An ordered integer range (step, or powers of two).")
      .def(py::init([](std::int64_t lo, std::int64_t hi, std::int64_t step) { return std::make_shared<PyInteger>(std::make_shared<Integer>(lo, hi, step)); }),
           py::arg("low"), py::arg("high"), py::arg("step") = 1)
      .def_property_readonly("low", [](const PyInteger& s) { return as<Integer>(s).lo(); })
      .def_property_readonly("high", [](const PyInteger& s) { return as<Integer>(s).hi(); })
      .def_property_readonly("n", [](const PyInteger& s) { return as<Integer>(s).count(); })
      .def_property_readonly("values", [](const PyInteger& s) {
        const Integer& i = as<Integer>(s);
        std::vector<std::int64_t> v;
        for (std::int64_t k = 0; k < i.count(); ++k) v.push_back(i.value_at(k));
        return v;
      })
      .def_property_readonly("shape", [](const PySpace&) { return py::tuple(); })
      .def_property_readonly("dtype", [](const PySpace&) { return py::dtype::of<std::int64_t>(); });
  py::class_<PyBox, PySpace, std::shared_ptr<PyBox>>(m, "Box", "Reals in [low, high]; a scalar box's members are floats.")
      .def(py::init([](double lo, double hi, bool log) { return std::make_shared<PyBox>(std::make_shared<Box>(lo, hi, log)); }), py::arg("low"),
           py::arg("high"), py::arg("log") = false)
      .def_property_readonly("low", [](const PyBox& s) { return doubles(as<Box>(s).lo(), as<Box>(s).shape()); })
      .def_property_readonly("high", [](const PyBox& s) { return doubles(as<Box>(s).hi(), as<Box>(s).shape()); })
      .def_property_readonly("shape", [](const PyBox& s) {
        py::list l;
        for (auto d : as<Box>(s).shape()) l.append(d);
        return py::tuple(l);
      })
      .def_property_readonly("dtype", [](const PySpace&) { return py::dtype::of<double>(); });
  py::class_<PyMultiDiscrete, PySpace, std::shared_ptr<PyMultiDiscrete>>(m, "MultiDiscrete")
      .def(py::init([](std::vector<std::int64_t> nvec) { return std::make_shared<PyMultiDiscrete>(std::make_shared<MultiDiscrete>(std::move(nvec))); }),
           py::arg("nvec"))
      .def_property_readonly("nvec", [](const PyMultiDiscrete& s) { return py::array_t<std::int64_t>(py::cast(as<MultiDiscrete>(s).nvec())); })
      .def_property_readonly("shape", [](const PyMultiDiscrete& s) { return py::make_tuple(as<MultiDiscrete>(s).nvec().size()); })
      .def_property_readonly("dtype", [](const PySpace&) { return py::dtype::of<std::int64_t>(); });
  py::class_<PyDict, PySpace, std::shared_ptr<PyDict>>(m, "Dict")
      .def(py::init([](const py::dict& spaces) {
             DictSpace::Children c;
             for (const auto& [k, v] : spaces) {
               if (!py::isinstance<PySpace>(v)) throw InvalidArgument("Dict: '" + py::str(k).cast<std::string>() + "' is not a dsegym space");
               c.emplace_back(py::str(k).cast<std::string>(), v.cast<PySpace&>().space);
             }
             return std::make_shared<PyDict>(std::make_shared<DictSpace>(std::move(c)));
           }),
           py::arg("spaces"))
      .def_property_readonly("spaces",
                             [](const PyDict& s) {
                               py::dict d;
                               for (const auto& [k, c] : as<DictSpace>(s).children()) d[py::str(k)] = wrap_space(c);
                               return d;
                             })
      .def("__getitem__", [](const PyDict& s, const std::string& k) { return wrap_space(as<DictSpace>(s).child(k)); })
      .def("keys", [](const PyDict& s) {
        std::vector<std::string> k;
        for (const auto& c : as<DictSpace>(s).children()) k.push_back(c.first);
        return k;
      })
      .def_property_readonly("shape", [](const PySpace&) { return py::none(); })
      .def_property_readonly("dtype", [](const PySpace&) { return py::none(); });

  py::class_<PyEnv>(m, "Env")
      .def("reset", &PyEnv::reset, py::arg("seed") = py::none(), py::arg("options") = py::none(),
           "Starts an episode: (observation, info).")
      .def("step", &PyEnv::step, py::arg("action"),
           "(observation, reward, terminated, truncated, info); info has 'metrics', 'units' and 'status' ('ok', 'infeasible', "
           "'sim_error', 'timeout') and 'reason' when not ok.")
      .def("evaluate", &PyEnv::evaluate, py::arg("actions"), py::arg("seeds") = py::none(), py::arg("threads") = 1,
           "One-shot evaluations on `threads` C++ threads (0: one per core) with the GIL released: one dict per action with "
           "'reward', 'metrics', 'units', 'status' and 'obs'.")
      .def("close", &PyEnv::close)
      .def("__enter__", [](PyEnv& e) -> PyEnv& { return e; })
      .def("__exit__", [](PyEnv& e, const py::args&) { e.close(); })
      .def_readonly("action_space", &PyEnv::action_space)
      .def_readonly("observation_space", &PyEnv::observation_space)
      .def_property_readonly("id", [](const PyEnv& e) { return e.id; })
      .def_property_readonly("max_episode_steps", [](PyEnv& e) { return e.get().spec().max_episode_steps; })
      .def_property_readonly("metrics", [](PyEnv& e) {
        py::list l;
        for (const auto& mt : e.get().spec().metrics) {
          py::dict d;
          d["name"] = mt.name;
          d["unit"] = mt.unit;
          d["goal"] = goal_name(mt.goal);
          d["description"] = mt.description;
          if (std::isfinite(mt.upper_limit)) d["upper_limit"] = mt.upper_limit;  // a constraint
          l.append(d);
        }
        return l;
      })
      .def("__repr__", [](const PyEnv& e) { return "<dsegym.Env " + e.id + ">"; });

  m.def(
      "make", [](const std::string& id, const py::object& options, const py::object& reward) { return std::make_unique<PyEnv>(id, options, reward); },
      py::arg("id"), py::arg("options") = py::none(), py::arg("reward") = py::none(),
      "An env by id (see list_envs(); also remote://host:port/ID). options: dict or JSON string; reward: a metric name, a "
      "reward dict ({'type': 'metric', 'metric': 'latency_ns'}, ...) or None for the env's default.");
  m.def("list_envs", [] { return env_registry().ids(); });
  m.def("list_agents", [] { return agent_registry().ids(); });
  m.def("load_plugin", &load_plugin, py::arg("path"), "Loads an agent or env plugin (a shared library built with DSEGYM_PLUGIN).");
  m.def(
      "register_env_spec", [](const std::string& path) { return register_external_env(env_registry(), path); }, py::arg("path"),
      "Registers an external simulator from its JSON spec; returns the env id.");

  py::class_<PyAgent>(m, "Agent")
      .def("ask", &PyAgent::ask, py::arg("n") = 1, "n suggestions: dicts with 'id' and 'action'.")
      .def("tell", &PyAgent::tell, py::arg("trials"),
           "Results: dicts with 'id' and 'reward' (higher is better; None or NaN: failed), optionally 'metrics', 'status', 'action'.")
      .def("save", [](const PyAgent& a) { return a.agent->save().dump(); }, "The agent's state as a JSON string.")
      .def("load", [](PyAgent& a, const std::string& state) { a.agent->load(parse_json(state, "agent state")); }, py::arg("state"),
           "Restores a saved state into a freshly made agent (same id, space, hyperparameters and seed).");
  m.def(
      "make_agent",
      [](const std::string& id, const py::object& target, const py::object& hyperparameters, std::uint64_t seed) {
        AgentContext ctx;
        ctx.seed = seed;
        if (py::isinstance<PyEnv>(target)) {
          PyEnv& e = target.cast<PyEnv&>();
          const EnvSpec& spec = e.get().spec();
          ctx.space = spec.action_space;
          ctx.metrics = spec.metrics;
          ctx.observation_space = spec.observation_space;
          ctx.max_episode_steps = spec.max_episode_steps;
          ctx.objectives = spec.default_objectives();
        } else if (py::isinstance<PySpace>(target)) {
          ctx.space = target.cast<PySpace&>().space;
        } else {
          throw InvalidArgument("make_agent: the second argument must be a dsegym Env or Space");
        }
        auto a = std::make_unique<PyAgent>();
        a->agent = make_agent(id, ctx, json_of(hyperparameters, "hyperparameters"));
        a->space = ctx.space;
        return a;
      },
      py::arg("id"), py::arg("env_or_space"), py::arg("hyperparameters") = py::none(), py::arg("seed") = 0,
      "A C++ search agent (random, grid, ga, sa, aco, bo, nsga2, ...) over an env's action space or a Space, driven with ask/tell.");

  // Gymnasium registration, in Python: gymnasium is imported only here (it is
  // not a dependency). Categorical and Integer knobs become Discrete indices.
  py::exec(R"PY(
def register_gymnasium():
    """Registers every env as gymnasium id 'dsegym/<id>' (gymnasium.make("dsegym/dram-v0", options=..., reward=...)).
    Categorical and Integer knobs appear as gymnasium Discrete spaces of indices."""
    import gymnasium
    import numpy as np
    from gymnasium import spaces as gs

    def to_gym(space):
        if isinstance(space, (Discrete, Categorical, Integer)):
            return gs.Discrete(space.n)
        if isinstance(space, Box):
            return gs.Box(low=np.asarray(space.low, dtype=np.float64), high=np.asarray(space.high, dtype=np.float64),
                          shape=space.shape, dtype=np.float64)
        if isinstance(space, MultiDiscrete):
            return gs.MultiDiscrete(np.asarray(space.nvec))
        if isinstance(space, Dict):
            return gs.Dict({k: to_gym(v) for k, v in space.spaces.items()})
        raise ValueError(f"no gymnasium space for {space!r}")

    def from_gym(space, x):
        if isinstance(space, Categorical):
            return space.labels[int(x)]
        if isinstance(space, Integer):
            return space.values[int(x)]
        if isinstance(space, Discrete):
            return int(x)
        if isinstance(space, Box) and space.shape == ():
            return float(np.asarray(x).reshape(()))
        if isinstance(space, Dict):
            return {k: from_gym(space[k], v) for k, v in x.items()}
        return x

    class GymnasiumEnv(gymnasium.Env):
        metadata = {"render_modes": []}

        def __init__(self, env_id, options=None, reward=None):
            self.env = make(env_id, options, reward)
            self.action_space = to_gym(self.env.action_space)
            self.observation_space = to_gym(self.env.observation_space)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return self.env.reset(seed=seed, options=options)

        def step(self, action):
            return self.env.step(from_gym(self.env.action_space, action))

        def close(self):
            self.env.close()

    for env_id in list_envs():
        gymnasium.register(id=f"dsegym/{env_id}", entry_point=lambda env_id=env_id, **kw: GymnasiumEnv(env_id, **kw))
)PY",
           m.attr("__dict__"));
}
