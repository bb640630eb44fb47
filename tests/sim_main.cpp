// The simulators' test binary: doctest's main, nothing of the gym.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
