#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "app/builtin.hpp"
#include "envs/remote/grpc_module.hpp"

int main(int argc, char** argv) {
  // The tests link the gRPC code (envs/remote/grpc_entry.cpp) to talk to
  // servers directly; remote:// envs use it too instead of the module.
  dsegym::use_linked_grpc(&dsegym_grpc_serve, &dsegym_grpc_remote_env);
  dsegym::register_builtins();
  return doctest::Context(argc, argv).run();
}
