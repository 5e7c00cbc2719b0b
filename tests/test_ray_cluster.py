"""A real two-node Ray cluster on this machine: a search through `RayExecutor(address=...)` runs evaluations on
both nodes.

The nodes are started and addressed as 127.0.0.1 (Ray itself registers a loopback node under the machine's own
address, so that its processes can reach each other).

The nodes are ``ray start --block`` subprocesses in a process group of their own; the clean-up stops that group
(not ``ray stop``, which would stop every Ray on the machine, other test runs' included).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from graphnas import DAG
from graphnas.generators import NB201Space
from graphnas.search import RandomSearch, run

ray = pytest.importorskip("ray")

SPACE = NB201Space()
# A throwaway cluster: no token authentication (the nodes would otherwise read or write the user's token file).
# The raylet gets 60 s to register instead of Ray's 10: on a busy 2-core CI machine the second node once missed 10.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_raylet_start_wait_time_s": "60"}


def on_which_node(dag: DAG) -> dict:
    """Scores a cell and says which Ray node evaluated it (kept in `Evaluation.info`)."""
    import ray as ray_

    time.sleep(0.5)  # long enough that one node cannot take every evaluation
    return {"value": float(SPACE.to_ops(dag).count("nor_conv_3x3")), "node": ray_.get_runtime_context().get_node_id()}


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def ray_node(head_port: int, temp_dir: str, *, head: bool) -> subprocess.Popen:
    """``ray start --block`` for one node of one CPU, every port of its own so that it clashes with nothing."""
    ports = free_ports(7)
    cmd = [shutil.which("ray") or os.path.join(os.path.dirname(sys.executable), "ray"), "start", "--block",
           "--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats", "--include-log-monitor=false",
           f"--node-manager-port={ports[0]}", f"--object-manager-port={ports[1]}",
           f"--dashboard-agent-listen-port={ports[2]}", f"--dashboard-agent-grpc-port={ports[3]}",
           f"--runtime-env-agent-port={ports[4]}", f"--metrics-export-port={ports[5]}",
           "--object-store-memory=100000000"]
    if head:
        cmd += ["--head", f"--port={head_port}", "--include-dashboard=false",
                f"--temp-dir={temp_dir}"]
    else:
        cmd += [f"--address=127.0.0.1:{head_port}"]
    env = {**os.environ, **RAY_ENV}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """Stop a node: SIGTERM to its process group (``ray start --block`` stops what it started), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)  # its children leave the group a moment after it
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for_nodes(n: int, deadline: float, nodes: list[subprocess.Popen]) -> None:
    while time.monotonic() < deadline:
        alive = [x for x in ray.nodes() if x["Alive"]]
        if len(alive) >= n:
            return
        for p in nodes:
            if p.poll() is not None:
                raise AssertionError(f"a ray node exited ({p.returncode}): {p.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
    raise AssertionError(f"{n} Ray nodes did not join within the time allowed")


def test_a_search_runs_on_both_nodes_of_a_two_node_ray_cluster(monkeypatch):
    from graphnas.search import RayExecutor

    for k, v in RAY_ENV.items():
        monkeypatch.setenv(k, v)
    if ray.is_initialized():  # another test's local Ray
        ray.shutdown()
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the nodes cannot import this test file
    temp_dir = tempfile.mkdtemp(prefix="gnray")  # short: Ray's socket paths live under it
    port = free_ports(1)[0]
    nodes: list[subprocess.Popen] = []
    start = time.monotonic()
    try:
        nodes.append(ray_node(port, temp_dir, head=True))
        # The head answers on its port once its GCS is up; RayExecutor probes the address before connecting.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert nodes[0].poll() is None, nodes[0].stderr.read().decode()[-2000:]
                time.sleep(0.5)
        nodes.append(ray_node(port, temp_dir, head=False))
        pool = RayExecutor(f"127.0.0.1:{port}", num_cpus=1, connect_timeout=30)
        wait_for_nodes(2, time.monotonic() + 90, nodes)
        assert ray.cluster_resources().get("CPU") == 2
        node_ids = {x["NodeID"] for x in ray.nodes() if x["Alive"]}
        h = run(RandomSearch(SPACE, seed=0), on_which_node, 8, executor=pool, workers=2)
        pool.shutdown()
        assert len(h) == 8 and not h.failed
        assert [e.value for e in h.evaluations] == [SPACE.to_ops(e.dag).count("nor_conv_3x3") for e in h.evaluations]
        ran_on = {e.info["node"] for e in h.evaluations}
        assert ran_on == node_ids and len(ran_on) == 2, (ran_on, node_ids)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for p in reversed(nodes):
            stop(p)
        shutil.rmtree(temp_dir, ignore_errors=True)
    print(f"two-node Ray test: {time.monotonic() - start:.1f} s")

