#pragma once
// `dsegym serve` (the server is in the gRPC module: envs/remote/server.hpp).
#include "envs/remote/server.hpp"

namespace dsegym {

// Runs until SIGTERM/SIGINT. Throws InvalidArgument for bad options.
void serve(const ServeOptions& opt);

}  // namespace dsegym
