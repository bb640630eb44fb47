// JSON from users (actions, env options, rewards) through the one JSON entry
// point, against real envs' spaces and options.
#include <map>
#include <string>

#include "app/builtin.hpp"
#include "base/json_io.hpp"
#include "envs/core/reward.hpp"
#include "fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] {
    const nlohmann::json j = parse_json(fuzz::text(data, size), "--action");
    for (const char* id : {"toy-v0", "dram-v0", "accel-v0"}) {
      static thread_local std::map<std::string, EnvPtr> envs;
      auto& env = envs[id];
      if (!env) env = make_env(env_registry(), id);
      try {
        const Value a = env->spec().action_space->parse(j, "action");
        (void)env->spec().action_space->encode(a);
      } catch (const std::exception&) {
      }
      try {
        Reward(j, env->spec());
      } catch (const std::exception&) {
      }
    }
    make_env(env_registry(), "toy-v0", j);
  });
}
