#pragma once
// Core types <-> their protocol messages, one to one.
#include "dsegym.pb.h"
#include "envs/core/env.hpp"

namespace dsegym::rpc_convert {

void to_proto(const Value& v, rpc::Value* out);
Value from_proto(const rpc::Value& v);

void to_proto(const Space& s, rpc::Space* out);
SpacePtr from_proto(const rpc::Space& s);

void to_proto(const StepResult& r, rpc::StepReply* out);
StepResult from_proto(const rpc::StepReply& r);

void to_proto(const EnvSpec& spec, rpc::GetSpacesReply* out);
// The spec as the server describes it.
std::shared_ptr<EnvSpec> from_proto(const rpc::GetSpacesReply& r);

}  // namespace dsegym::rpc_convert
