#pragma once
// Network addresses.
#include <string>

namespace dsegym {

// Whether a server bound to `host` is reachable from this machine only
// (servers on other addresses require a shared secret).
inline bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace dsegym
