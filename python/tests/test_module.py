"""The in-process `dsegym` module (python/dsegym_module.cpp), run by ctest
with Debian's python3-pytest: PYTHONPATH holds build/python, DSEGYM_BIN the
dsegym program (for the remote test)."""
import math
import os
import subprocess
import tempfile
import threading
import time

import numpy as np
import pytest

import dsegym



def test_spaces_have_gymnasiums_names_and_behaviour():
    env = dsegym.make("dram-v0")
    space = env.action_space
    assert isinstance(space, dsegym.Dict)
    assert "PagePolicy" in space.keys()
    page = space["PagePolicy"]
    assert isinstance(page, dsegym.Categorical)
    assert page.n == 4 and page.labels == ["Open", "OpenAdaptive", "Closed", "ClosedAdaptive"]
    mat = space["MaxActiveTransactions"]
    assert isinstance(mat, dsegym.Integer)
    assert (mat.low, mat.high) == (1, 128) and mat.values == [1, 2, 4, 8, 16, 32, 64, 128] and mat.n == 8
    assert mat.shape == () and mat.dtype == np.int64
    # sample() draws members from the space's own stream, which seed() resets.
    space.seed(7)
    a = [space.sample() for _ in range(5)]
    space.seed(7)
    assert [space.sample() for _ in range(5)] == a
    assert all(space.contains(x) and x in space for x in a)
    bad = dict(a[0], PagePolicy="Sideways")
    assert not space.contains(bad)
    assert not mat.contains(3) and mat.contains(np.int64(4))

    d = dsegym.Discrete(5)
    assert d.n == 5 and d.shape == () and d.dtype == np.int64
    assert all(0 <= d.sample() < 5 for _ in range(20))
    assert d.contains(4) and not d.contains(5) and not d.contains("4")
    md = dsegym.MultiDiscrete([3, 4])
    assert md.shape == (2,) and list(md.nvec) == [3, 4]
    assert md.contains(np.array([2, 3])) and not md.contains([3, 0])
    box = dsegym.Box(-1.0, 2.0)
    assert box.shape == () and box.dtype == np.float64 and float(box.low) == -1.0 and float(box.high) == 2.0
    assert box.contains(0.5) and not box.contains(2.5)
    # A vector observation comes back as a numpy array.
    obs, _ = env.reset(seed=1)
    _, _, _, _, _ = env.step(space.sample())
    assert isinstance(env.observation_space, dsegym.Box)
    assert env.observation_space.shape == (len(env.metrics),)


@pytest.mark.parametrize("env_id", [e for e in dsegym.list_envs()])
def test_every_env_resets_steps_and_evaluates(env_id):
    with dsegym.make(env_id) as env:
        obs, info = env.reset(seed=3)
        assert isinstance(info, dict)
        env.action_space.seed(3)
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
        assert info["status"] in ("ok", "infeasible", "sim_error", "timeout")
        assert set(info["units"]) <= set(info["metrics"])
        if info["status"] == "ok":
            assert info["metrics"], env_id
        if env.max_episode_steps == 1:
            assert terminated
            # evaluate() is a reset with the seed then the step: the same result.
            [r] = env.evaluate([action], seeds=[3])
            assert r["status"] == info["status"]
            assert r["metrics"] == pytest.approx(info["metrics"], nan_ok=True)


def test_seeds_reproduce_and_evaluate_equals_step():
    env = dsegym.make("toy-v0")
    env.action_space.seed(1)
    actions = [env.action_space.sample() for _ in range(20)]
    results = env.evaluate(actions, seeds=list(range(20)), threads=2)
    again = env.evaluate(actions, seeds=list(range(20)), threads=1)
    assert [r["reward"] for r in results] == pytest.approx([r["reward"] for r in again], nan_ok=True)
    for i in (0, 7, 19):
        env.reset(seed=i)
        _, reward, _, _, info = env.step(actions[i])
        assert reward == pytest.approx(results[i]["reward"], nan_ok=True)
        assert info["metrics"] == pytest.approx(results[i]["metrics"], nan_ok=True)


def test_bad_input_is_a_value_error_naming_the_knob_and_the_valid_values():
    env = dsegym.make("dram-v0")
    env.reset(seed=1)
    action = env.action_space.sample()
    action["PagePolicy"] = "Sideways"
    with pytest.raises(ValueError, match=r"PagePolicy.*Sideways.*Open, OpenAdaptive, Closed, ClosedAdaptive"):
        env.step(action)
    with pytest.raises(ValueError, match="dram-v1"):
        dsegym.make("dram-v1")
    with pytest.raises(ValueError, match="memspec"):
        dsegym.make("dram-v0", {"memspec": "ddr9"})
    with pytest.raises(ValueError, match="actions\\[1\\]"):
        env.evaluate([env.action_space.sample(), {"PagePolicy": "Open"}])
    with pytest.raises(ValueError):
        dsegym.make("toy-v0", "{not json")
    fresh = dsegym.make("toy-v0")
    with pytest.raises(RuntimeError, match="reset"):
        fresh.step(fresh.action_space.sample())  # as Gymnasium: reset first
    env.close()
    with pytest.raises(ValueError, match="closed"):
        env.reset()


def test_rewards_follow_the_reward_argument():
    env = dsegym.make("dram-v0", reward="energy_nj")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == pytest.approx(-info["metrics"]["energy_nj"])  # a metric to minimise: its negative
    assert info["units"]["energy_nj"] == "nJ"


def test_the_gil_is_released_while_cpp_works():
    # A Python thread counts while the main thread evaluates dram-v0 designs
    # in C++: it can only count during the evaluation if the GIL is released
    # (a held GIL would freeze it until evaluate returns). Not a timing race:
    # the evaluation takes ~100 ms, Python switches threads every 5 ms.
    env = dsegym.make("dram-v0")
    env.action_space.seed(5)
    batch = [env.action_space.sample() for _ in range(20)]
    env.evaluate(batch[:1], threads=1)  # warm up
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.01)
    before = count[0]
    env.evaluate(batch, threads=1)
    during = count[0] - before
    stop.set()
    t.join()
    assert during > 1000, during


def test_cpp_agents_drive_a_python_objective():
    x = dsegym.Integer(-20, 20)
    agent = dsegym.make_agent("bo", x, {"init_points": 8}, seed=1)
    best = None
    for _ in range(25):
        [s] = agent.ask(1)
        assert x.contains(s["action"])
        value = (s["action"] - 3) ** 2
        best = value if best is None else min(best, value)
        agent.tell([{"id": s["id"], "reward": -value}])
    assert best == 0

    # save/load: a fresh copy that loads the state continues exactly as the original.
    env = dsegym.make("toy-v0")
    ga = dsegym.make_agent("ga", env, None, seed=4)
    for _ in range(3):
        asked = ga.ask(4)
        ga.tell([{"id": s["id"], "reward": float(i)} for i, s in enumerate(asked)])
    state = ga.save()
    copy = dsegym.make_agent("ga", env, None, seed=4)  # same id, space, hyperparameters and seed
    copy.load(state)
    assert [s["action"] for s in copy.ask(4)] == [s["action"] for s in ga.ask(4)]
    with pytest.raises(ValueError, match="was not asked"):
        ga.tell([{"id": 12345, "reward": 1.0}])
    with pytest.raises(ValueError, match="agent"):
        dsegym.make_agent("no-such-agent", env)


def test_remote_envs_through_the_same_make():
    binary = os.environ.get("DSEGYM_BIN")
    if not binary:
        pytest.skip("DSEGYM_BIN not set")
    with tempfile.TemporaryDirectory() as d:
        port_file = os.path.join(d, "port")
        server = subprocess.Popen([binary, "serve", "--port", "0", "--port-file", port_file], stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(port_file) and open(port_file).read().strip():
                    break
                time.sleep(0.05)
            port = open(port_file).read().strip()
            remote = dsegym.make(f"remote://127.0.0.1:{port}/toy-v0")
            local = dsegym.make("toy-v0")
            local.action_space.seed(2)
            for i in range(5):
                a = local.action_space.sample()
                remote.reset(seed=i)
                local.reset(seed=i)
                r1 = remote.step(a)
                r2 = local.step(a)
                assert r1[1] == pytest.approx(r2[1], nan_ok=True)
                assert r1[4]["metrics"] == pytest.approx(r2[4]["metrics"], nan_ok=True)
            remote.close()
        finally:
            server.terminate()
            server.wait(10)


def test_module_lists_envs_and_agents():
    assert {"dram-v0", "accel-v0", "toy-v0"} <= set(dsegym.list_envs())
    assert {"random", "bo", "ga", "nsga2"} <= set(dsegym.list_agents())
    assert dsegym.__version__
    assert not math.isnan(dsegym.make("toy-v0").evaluate([dsegym.make("toy-v0").action_space.sample()])[0]["reward"])


def test_register_gymnasium_maps_spaces_and_steps(monkeypatch):
    # gymnasium is not a dependency (nor in Debian 12): a minimal stand-in
    # with its register/Env/spaces names checks the adapter.
    import sys
    import types

    registry = {}
    gym = types.ModuleType("gymnasium")
    spaces = types.ModuleType("gymnasium.spaces")

    class Space:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    spaces.Discrete = lambda n: Space(kind="Discrete", n=n)
    spaces.Box = lambda low, high, shape, dtype: Space(kind="Box", low=low, high=high, shape=shape)
    spaces.MultiDiscrete = lambda nvec: Space(kind="MultiDiscrete", nvec=nvec)
    spaces.Dict = lambda d: Space(kind="Dict", spaces=d)

    class Env:
        def reset(self, *, seed=None, options=None):
            pass

    gym.Env = Env
    gym.spaces = spaces
    gym.register = lambda id, entry_point: registry.__setitem__(id, entry_point)
    monkeypatch.setitem(sys.modules, "gymnasium", gym)
    monkeypatch.setitem(sys.modules, "gymnasium.spaces", spaces)

    dsegym.register_gymnasium()
    assert "dsegym/dram-v0" in registry and "dsegym/toy-v0" in registry
    env = registry["dsegym/dram-v0"](options={"workload": "cloud-2"})
    assert env.action_space.kind == "Dict"
    page = env.action_space.spaces["PagePolicy"]
    assert page.kind == "Discrete" and page.n == 4
    assert env.observation_space.kind == "Box"
    env.reset(seed=1)
    # Indices for the categorical and ordinal knobs, as an RL library sends them.
    action = {k: 0 for k in env.action_space.spaces}
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["status"] == "ok" and terminated
    env.close()


def test_a_declared_constraint_is_visible_and_reported_on_designs_over_it():
    # soc-design-v0's power budget: by default the peak power of DS3's own
    # design, 8.3029 W (tests/envs/test_soc_env.cpp derives it).
    with dsegym.make("soc-design-v0") as env:
        limits = {m["name"]: m["upper_limit"] for m in env.metrics if "upper_limit" in m}
        assert list(limits) == ["peak_power_w"]
        assert limits["peak_power_w"] == pytest.approx(8.3029, rel=1e-4)
        env.reset(seed=0)
        big = {"A7_count": 8, "A7_mhz": 1400, "A15_count": 8, "A15_mhz": 2000, "MM_count": 1, "FFT_count": 1, "VIT_count": 1}
        _, reward, _, _, info = env.step(big)
        assert info["status"] == "infeasible"
        assert info["metrics"]["peak_power_w"] > limits["peak_power_w"]
        assert "avg_latency_us" not in info["metrics"]
