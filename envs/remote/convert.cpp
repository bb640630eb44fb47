#include "envs/remote/convert.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym::rpc_convert {

void to_proto(const Value& v, rpc::Value* out) {
  switch (v.type()) {
    case Value::Type::Null: out->set_null_value(true); break;
    case Value::Type::Bool: out->set_bool_value(v.as_bool()); break;
    case Value::Type::Int: out->set_int_value(v.as_int()); break;
    case Value::Type::Double: out->set_double_value(v.as_double()); break;
    case Value::Type::String: out->set_string_value(v.as_string()); break;
    case Value::Type::Real: {
      auto* r = out->mutable_real_value();
      for (double d : v.as_real()) r->add_values(d);
      break;
    }
    case Value::Type::List: {
      auto* l = out->mutable_list_value();
      for (const auto& e : v.as_list()) to_proto(e, l->add_values());
      break;
    }
    case Value::Type::Dict: {
      auto* d = out->mutable_dict_value();
      for (const auto& [k, e] : v.as_dict()) {
        auto* n = d->add_entries();
        n->set_name(k);
        to_proto(e, n->mutable_value());
      }
      break;
    }
  }
}

namespace {
// Values nest at most this deep (a dict in a list in ...): deeper is an
// error, never a deep recursion.
constexpr int kMaxValueDepth = 32;

Value from_proto_at(const rpc::Value& v, int depth) {
  if (depth > kMaxValueDepth) throw InvalidArgument("rpc: a value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  switch (v.kind_case()) {
    case rpc::Value::kNullValue:
    case rpc::Value::KIND_NOT_SET: return Value();
    case rpc::Value::kBoolValue: return Value(v.bool_value());
    case rpc::Value::kIntValue: return Value(static_cast<std::int64_t>(v.int_value()));
    case rpc::Value::kDoubleValue: return Value(v.double_value());
    case rpc::Value::kStringValue: return Value(v.string_value());
    case rpc::Value::kRealValue: return Value(std::vector<double>(v.real_value().values().begin(), v.real_value().values().end()));
    case rpc::Value::kListValue: {
      Value::List l;
      for (const auto& e : v.list_value().values()) l.push_back(from_proto_at(e, depth + 1));
      return Value(std::move(l));
    }
    case rpc::Value::kDictValue: {
      Value::Dict d;
      for (const auto& e : v.dict_value().entries()) d.emplace_back(e.name(), from_proto_at(e.value(), depth + 1));
      return Value(std::move(d));
    }
  }
  return Value();
}
}  // namespace

Value from_proto(const rpc::Value& v) { return from_proto_at(v, 0); }

void to_proto(const Space& s, rpc::Space* out) {
  if (const auto* d = dynamic_cast<const Discrete*>(&s)) {
    out->mutable_discrete()->set_n(d->n());
  } else if (const auto* c = dynamic_cast<const Categorical*>(&s)) {
    for (const auto& l : c->labels()) out->mutable_categorical()->add_labels(l);
  } else if (const auto* i = dynamic_cast<const Integer*>(&s)) {
    auto* m = out->mutable_integer();
    m->set_low(i->lo());
    m->set_high(i->hi());
    m->set_pow2(i->is_pow2());
    m->set_step(i->is_pow2() ? 0 : (i->count() > 1 ? (i->hi() - i->lo()) / (i->count() - 1) : 1));
  } else if (const auto* b = dynamic_cast<const Box*>(&s)) {
    auto* m = out->mutable_box();
    for (double x : b->lo()) m->add_low(x);
    for (double x : b->hi()) m->add_high(x);
    for (auto x : b->shape()) m->add_shape(x);
    m->set_log(s.to_json().value("log", false));
  } else if (const auto* md = dynamic_cast<const MultiDiscrete*>(&s)) {
    for (auto n : md->nvec()) out->mutable_multi_discrete()->add_nvec(n);
  } else if (const auto* ds = dynamic_cast<const DictSpace*>(&s)) {
    for (const auto& [name, child] : ds->children()) {
      auto* n = out->mutable_dict()->add_children();
      n->set_name(name);
      to_proto(*child, n->mutable_space());
    }
  } else {
    throw Error(std::string("rpc: no protocol mapping for a ") + s.kind() + " space");
  }
}

SpacePtr from_proto(const rpc::Space& s) {
  switch (s.kind_case()) {
    case rpc::Space::kDiscrete: return std::make_shared<Discrete>(s.discrete().n());
    case rpc::Space::kCategorical:
      return std::make_shared<Categorical>(std::vector<std::string>(s.categorical().labels().begin(), s.categorical().labels().end()));
    case rpc::Space::kInteger:
      if (s.integer().pow2()) return Integer::pow2(s.integer().low(), s.integer().high());
      return std::make_shared<Integer>(s.integer().low(), s.integer().high(), s.integer().step());
    case rpc::Space::kBox: {
      const auto& b = s.box();
      if (b.shape().empty()) {
        if (b.low_size() != 1 || b.high_size() != 1) throw InvalidArgument("rpc: a scalar box needs one low and one high");
        return std::make_shared<Box>(b.low(0), b.high(0), b.log());
      }
      return std::make_shared<Box>(std::vector<double>(b.low().begin(), b.low().end()), std::vector<double>(b.high().begin(), b.high().end()),
                                   std::vector<std::int64_t>(b.shape().begin(), b.shape().end()), b.log());
    }
    case rpc::Space::kMultiDiscrete:
      return std::make_shared<MultiDiscrete>(std::vector<std::int64_t>(s.multi_discrete().nvec().begin(), s.multi_discrete().nvec().end()));
    case rpc::Space::kDict: {
      DictSpace::Children c;
      for (const auto& n : s.dict().children()) c.emplace_back(n.name(), from_proto(n.space()));
      return std::make_shared<DictSpace>(std::move(c));
    }
    case rpc::Space::KIND_NOT_SET: break;
  }
  throw InvalidArgument("rpc: a space message has no kind");
}

void to_proto(const StepResult& r, rpc::StepReply* out) {
  to_proto(r.obs, out->mutable_observation());
  for (const auto& [k, v] : r.metrics.items()) {
    auto* m = out->add_metrics();
    m->set_name(k);
    m->set_value(v);
  }
  out->set_reward(r.reward);
  out->set_terminated(r.terminated);
  out->set_truncated(r.truncated);
  out->set_status(static_cast<rpc::StatusCode>(r.status.code));
  out->set_reason(r.status.reason);
  to_proto(r.info, out->mutable_info());
}

StepResult from_proto(const rpc::StepReply& r) {
  StepResult s;
  s.obs = from_proto(r.observation());
  for (const auto& m : r.metrics()) s.metrics.set(m.name(), m.value());
  s.reward = r.reward();
  s.terminated = r.terminated();
  s.truncated = r.truncated();
  s.status = {static_cast<Status>(r.status()), r.reason()};
  s.info = from_proto(r.info());
  return s;
}

void to_proto(const EnvSpec& spec, rpc::GetSpacesReply* out) {
  to_proto(*spec.action_space, out->mutable_action_space());
  to_proto(*spec.observation_space, out->mutable_observation_space());
  for (const auto& m : spec.metrics) {
    auto* p = out->add_metrics();
    p->set_name(m.name);
    p->set_unit(m.unit);
    p->set_goal(goal_name(m.goal));
    p->set_description(m.description);
  }
  out->set_spec_json(spec.to_json().dump());
}

std::shared_ptr<EnvSpec> from_proto(const rpc::GetSpacesReply& r) {
  auto spec = std::make_shared<EnvSpec>();
  const json j = parse_json(r.spec_json(), "rpc: the server's env spec");
  if (!j.is_object()) throw InvalidArgument("rpc: the server sent an unreadable env spec");
  spec->id = j.value("id", "");
  spec->description = j.value("description", "");
  spec->action_space = from_proto(r.action_space());
  spec->observation_space = from_proto(r.observation_space());
  for (const auto& m : r.metrics())
    spec->metrics.push_back({m.name(), m.unit(), m.goal() == "max" ? Goal::Maximize : m.goal() == "none" ? Goal::None : Goal::Minimize, m.description()});
  // A declared constraint travels in the spec's JSON (a number, else ignored).
  if (j.contains("metrics") && j["metrics"].is_array())
    for (const auto& jm : j["metrics"])
      if (jm.is_object() && jm.contains("name") && jm["name"].is_string() && jm.contains("upper_limit") && jm["upper_limit"].is_number())
        for (auto& m : spec->metrics)
          if (m.name == jm["name"].get<std::string>()) m.upper_limit = jm["upper_limit"].get<double>();
  spec->max_episode_steps = j.value("max_episode_steps", std::int64_t{1});
  spec->default_reward = j.value("default_reward", json());
  spec->objectives = j.value("objectives", std::vector<std::string>{});
  spec->resolved_options = j.value("resolved_options", json::object());
  return spec;
}

}  // namespace dsegym::rpc_convert
