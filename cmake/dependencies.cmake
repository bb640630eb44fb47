# Every dependency comes from a Debian 12 package installed by
# scripts/setup.sh (see ../shared/DEPENDENCIES.md for the pitfalls).
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(doctest REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
# libtorch and XGBoost are linked only by the few targets that need them
# (RL agents, MLP and tree proxies); they are located here so a missing
# package fails at configure time, not halfway through a build.
if(DSEGYM_TORCH)
  find_package(Torch REQUIRED)
endif()
find_path(XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
find_library(XGBOOST_LIBRARY xgboost REQUIRED)
