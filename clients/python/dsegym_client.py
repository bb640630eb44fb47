"""A Gymnasium-style client for dsegym environments served by `dsegym serve`.

Needs only Debian's python3-grpcio and python3-protobuf, and the stubs that
the build generates from proto/dsegym.proto into build/python (add that
folder to sys.path or PYTHONPATH).

    from dsegym_client import RemoteEnv
    env = RemoteEnv("127.0.0.1:50051", "dram-v0", options={"workload": "cloud-1"})
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    print(info["metrics"], info["status"])
"""

import math
import os
import random

import grpc

import dsegym_pb2 as pb
import dsegym_pb2_grpc as pb_grpc

STATUS = {pb.OK: "ok", pb.INFEASIBLE: "infeasible", pb.SIM_ERROR: "sim_error", pb.TIMEOUT: "timeout"}


def to_value(x, out=None):
    """Python value -> protocol Value (bool, int, float, str, list of floats, list, dict)."""
    v = out if out is not None else pb.Value()
    if x is None:
        v.null_value = True
    elif isinstance(x, bool):
        v.bool_value = x
    elif isinstance(x, int):
        v.int_value = x
    elif isinstance(x, float):
        v.double_value = x
    elif isinstance(x, str):
        v.string_value = x
    elif isinstance(x, dict):
        v.dict_value.SetInParent()
        for k, e in x.items():
            entry = v.dict_value.entries.add()
            entry.name = k
            to_value(e, entry.value)
    elif isinstance(x, (list, tuple)):
        if x and all(isinstance(e, float) for e in x):
            v.real_value.values.extend(x)
        else:
            v.list_value.SetInParent()
            for e in x:
                to_value(e, v.list_value.values.add())
    else:
        raise TypeError(f"cannot send a {type(x).__name__} as an action value")
    return v


def from_value(v):
    kind = v.WhichOneof("kind")
    if kind in (None, "null_value"):
        return None
    if kind == "real_value":
        return list(v.real_value.values)
    if kind == "list_value":
        return [from_value(e) for e in v.list_value.values]
    if kind == "dict_value":
        return {e.name: from_value(e.value) for e in v.dict_value.entries}
    return getattr(v, kind)


class Space:
    """A space as the server describes it, with membership-free sampling."""

    def __init__(self, msg):
        self.kind = msg.WhichOneof("kind")
        self.msg = getattr(msg, self.kind)
        if self.kind == "dict":
            self.children = {c.name: Space(c.space) for c in self.msg.children}

    def values(self):
        """All values of a discrete space (None for continuous ones)."""
        m = self.msg
        if self.kind == "discrete":
            return list(range(m.n))
        if self.kind == "categorical":
            return list(m.labels)
        if self.kind == "integer":
            if m.pow2:
                out, x = [], m.low
                while x <= m.high:
                    out.append(x)
                    x *= 2
                return out
            return list(range(m.low, m.high + 1, m.step))
        return None

    def sample(self, rng=random):
        if self.kind == "dict":
            return {k: c.sample(rng) for k, c in self.children.items()}
        if self.kind == "box":
            xs = [rng.uniform(lo, hi) for lo, hi in zip(self.msg.low, self.msg.high)]
            return xs[0] if not self.msg.shape else xs
        if self.kind == "multi_discrete":
            return [rng.randrange(n) for n in self.msg.nvec]
        return rng.choice(self.values())

    def __repr__(self):
        if self.kind == "dict":
            return "Dict(" + ", ".join(f"{k}={c!r}" for k, c in self.children.items()) + ")"
        return f"{self.kind}({str(self.msg).strip()})".replace("\n", ", ")


class RemoteEnv:
    """One session on a dsegym server: reset/step as in Gymnasium.

    step() returns (observation, reward, terminated, truncated, info) with
    info = {"metrics": {name: value}, "units": {name: unit}, "status": ...,
    "reason": ...}. The reward is computed by the server when `reward` (a
    dsegym reward spec as a dict) is given, else it is the env's default
    reward; a failed evaluation has reward None.
    """

    def __init__(self, address, env_id, options=None, seed=None, reward=None, timeout=600.0, token=None):
        import json

        self.timeout = timeout
        token = token or os.environ.get("DSEGYM_TOKEN")
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.EnvServiceStub(self._channel)
        req = pb.StartSessionRequest(env_id=env_id, options_json=json.dumps(options or {}))
        spaces = self._stub.GetSpaces(pb.GetSpacesRequest(env_id=env_id, options_json=req.options_json),
                                      timeout=timeout, metadata=self._metadata)
        spec = json.loads(spaces.spec_json)
        req.reward_json = json.dumps(reward if reward is not None else spec.get("default_reward"))
        if seed is not None:
            req.seed, req.has_seed = seed, True
        reply = self._stub.StartSession(req, timeout=timeout, metadata=self._metadata)
        self.session = reply.session_id
        self.spec = spec
        self.action_space = Space(reply.spaces.action_space)
        self.observation_space = Space(reply.spaces.observation_space)
        self.units = {m.name: m.unit for m in reply.spaces.metrics}

    def reset(self, seed=None, options=None):
        req = pb.ResetRequest(session_id=self.session)
        if seed is not None:
            req.seed, req.has_seed = seed, True
        rep = self._stub.Reset(req, timeout=self.timeout, metadata=self._metadata)
        return from_value(rep.observation), from_value(rep.info) or {}

    def _result(self, r):
        info = {"metrics": {m.name: m.value for m in r.metrics}, "units": self.units,
                "status": STATUS[r.status], "reason": r.reason}
        reward = None if math.isnan(r.reward) else r.reward
        return from_value(r.observation), reward, r.terminated, r.truncated, info

    def step(self, action):
        req = pb.StepRequest(session_id=self.session)
        to_value(action, req.action)
        return self._result(self._stub.Step(req, timeout=self.timeout, metadata=self._metadata))

    def evaluate_one(self, action, seed=None):
        """A one-shot evaluation in one call: a Step that resets first (with the seed when given)."""
        req = pb.StepRequest(session_id=self.session, reset=True)
        if seed is not None:
            req.seed, req.has_seed = seed, True
        to_value(action, req.action)
        return self._result(self._stub.Step(req, timeout=self.timeout, metadata=self._metadata))

    def evaluate(self, actions, seeds=None):
        """Many designs in one call (BatchStep); each with its seed when given."""
        req = pb.BatchStepRequest(session_id=self.session, seeds=seeds or [])
        for a in actions:
            to_value(a, req.actions.add())
        rep = self._stub.BatchStep(req, timeout=self.timeout, metadata=self._metadata)
        return [self._result(r) for r in rep.results]

    def close(self):
        try:
            self._stub.EndSession(pb.EndSessionRequest(session_id=self.session), timeout=5, metadata=self._metadata)
        except grpc.RpcError:
            pass
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
