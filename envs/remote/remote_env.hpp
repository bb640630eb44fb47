#pragma once
// RemoteEnv: an Env whose steps run in a `dsegym serve` process, reached over
// gRPC. Made by make_env for ids "remote://host:port[,host:port...]/ENV-ID";
// with several servers, sessions are spread over them round-robin and a dead
// one is skipped. Calls have deadlines and retry with backoff while a server
// is UNAVAILABLE; a server lost mid-episode ends the episode with a
// sim_error status instead of hanging or throwing. DSEGYM_TOKEN, when set,
// is sent as the shared secret.
#include <string>
#include <vector>

#include "envs/core/env_registry.hpp"

namespace dsegym {

struct RemoteTarget {
  std::vector<std::string> servers;  // host:port
  std::string env_id;
};

// Parses "remote://host:port[,host:port...]/env-id" (errors name the id).
RemoteTarget parse_remote_id(const std::string& id);

void register_remote_scheme();

}  // namespace dsegym
