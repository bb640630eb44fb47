#pragma once
// `dsegym serve`: the EnvService over gRPC. Sessions are independent envs
// held in a mutex-guarded map; any exception becomes a gRPC status with its
// message (INVALID_ARGUMENT for bad input), never a crash. Sessions idle for
// longer than the idle timeout are reclaimed. SIGTERM or SIGINT shuts the
// server down gracefully. Clients are untrusted: files they name in env
// options are refused unless the server has a data folder, and then must be
// inside it; requests and error messages are size-capped.
#include <cstddef>
#include <string>

namespace dsegym {

struct ServeOptions {
  std::string bind = "127.0.0.1";
  int port = 0;               // 0: any free port
  std::string port_file;      // receives the chosen port
  std::size_t max_sessions = 1024;
  double idle_timeout_s = 3600;
  std::string token;          // shared secret; required when binding a non-loopback address
  std::string data_dir;       // files clients may name (env options such as a workload file) live here; empty: none
};

// The largest request the server takes, and the longest error message it
// sends back.
inline constexpr int kMaxRequestBytes = 16 << 20;
inline constexpr std::size_t kMaxStatusMessage = 1024;

}  // namespace dsegym
