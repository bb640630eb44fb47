#include "envs/nas/nas_eval.hpp"

#include "base/torch_bridge.hpp"
#include "base/error.hpp"

namespace dsegym::nn {

nlohmann::json nas_evaluate(const nlohmann::json& request) {
  using Fn = int (*)(const nlohmann::json*, nlohmann::json*, std::string*);
  static const auto fn = reinterpret_cast<Fn>(torch_symbol("dsegym_nas_evaluate"));
  nlohmann::json out;
  std::string error;
  const int rc = fn(&request, &out, &error);
  if (rc == 1) throw InvalidArgument(error);
  if (rc != 0) throw Error(error);
  return out;
}

}  // namespace dsegym::nn
