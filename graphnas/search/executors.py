"""Executors for `graphnas.search.run` beyond one machine: Ray (`RayExecutor`) and Dask.

Dask's ``Client(...).get_executor(pure=False)`` is already a ``concurrent.futures.Executor``;
`DaskExecutor` is the same plus ``kill`` (a timed-out evaluation's worker is restarted) and
per-evaluation ``resources``. Ray has none, so `RayExecutor` adapts ``ray.remote`` tasks (each
evaluation asks for ``num_cpus``/``num_gpus``) and ``ObjectRef.future()``. `make_executor` builds any of
``thread``, ``process``, ``ray`` or ``dask`` by name (what ``graphnas search --executor`` uses),
checking first that a cluster ``address`` answers, so that a wrong address fails in bounded time.

Ray and Dask are optional: ``pip install graphnas[ray]`` or ``graphnas[dask]``.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import math
import multiprocessing as mp
import os
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["EXECUTORS", "DaskExecutor", "RayExecutor", "make_executor"]

log = logging.getLogger(__name__)

EXECUTORS = ("thread", "process", "ray", "dask")


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """The body of every Ray task (module level, so Ray's workers import it rather than unpickle it)."""
    return fn(*args, **kwargs)


class RayExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` that runs each call as a Ray task.

    Args:
        address: a running cluster (``"HOST:6379"``, ``"ray://HOST:10001"`` or ``"auto"``); ``None``
            starts a local Ray with ``num_workers`` CPUs, unless Ray is already initialised in this
            process (then that one is used, and left running by `shutdown`).
        num_cpus: CPUs each evaluation reserves (Ray schedules no more tasks than fit).
        num_gpus: GPUs each evaluation reserves (fractions share a GPU).
        max_workers: evaluations the search keeps in flight (``run`` reads it); default: the
            cluster's CPUs divided by ``num_cpus``.
        max_retries: Ray's own retries of a task whose worker died (default 0: the search loop
            records the failure, and retries it with ``run(..., retries=)``).
        connect_timeout: seconds to wait for ``address`` to answer before ``ConnectionError``.
        init_kwargs: more arguments for ``ray.init``.

    `kill` stops the worker running a call (``run``'s ``timeout`` uses it to free the worker).
    """

    def __init__(self, address: str | None = None, *, num_cpus: float = 1, num_gpus: float = 0,
                 max_workers: int | None = None, max_retries: int = 0, connect_timeout: float = 10.0,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError("the Ray executor needs Ray: pip install 'graphnas[ray]'") from None
        if num_cpus < 0 or num_gpus < 0:
            raise ValueError(f"num_cpus and num_gpus must be >= 0, got {num_cpus} and {num_gpus}")
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False, **(init_kwargs or {})}
            if address is None:
                kw.setdefault("num_cpus", max_workers)
            else:
                _probe(address, "ray", connect_timeout)
            ray.init(address=address, **kw)
            self._owns = True
        if max_workers is None:
            cpus = float(ray.cluster_resources().get("CPU", 1))
            max_workers = max(1, int(cpus // num_cpus) if num_cpus > 0 else int(cpus))
        self._max_workers = max_workers
        self._remote = ray.remote(_call).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries)
        self._refs: dict[cf.Future, Any] = {}
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        ref = self._remote.remote(fn, args, kwargs)
        fut = ref.future()
        with self._lock:
            self._refs[fut] = ref
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: cf.Future) -> None:
        with self._lock:
            self._refs.pop(fut, None)

    def kill(self, future: cf.Future) -> None:
        """Stop the call behind ``future``, killing its worker process if it is running."""
        with self._lock:
            ref = self._refs.pop(future, None)
        if ref is not None:
            self._ray.cancel(ref, force=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        if cancel_futures:
            with self._lock:
                refs = list(self._refs.values())
            for ref in refs:
                self._ray.cancel(ref, force=True)
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
            self._owns = False


class DaskExecutor(cf.Executor):
    """Dask's ``Client.get_executor(pure=False)``, plus `kill`: what ``run``'s ``timeout`` uses to free a worker.

    A running Dask task cannot be interrupted; `kill` cancels it and restarts the worker process running it
    (through its nanny, as ``dask worker`` and ``LocalCluster(processes=True)`` start them). ``run`` wraps a
    plain ``Client.get_executor()`` in one of these by itself.

    Args:
        client: a ``distributed.Client``.
        restart_timeout: seconds `kill` waits for the worker to restart.
        **options: for each ``client.submit`` (``resources={"GPU": 1}``, ``workers=``, ``retries=``, ...).
    """

    def __init__(self, client: Any, *, restart_timeout: float = 60.0, **options: Any) -> None:
        self._client = client
        self._options = {"pure": False, **options}
        self._restart_timeout = restart_timeout
        self._tasks: dict[cf.Future, Any] = {}
        self._lock = threading.Lock()
        self._shutdown = False
        self._max_workers = max(1, sum(client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        task = self._client.submit(_call, fn, args, kwargs, **self._options)
        fut: cf.Future = cf.Future()
        with self._lock:
            self._tasks[fut] = task

        def settle(done: Any) -> None:
            with self._lock:
                self._tasks.pop(fut, None)
            if fut.done():
                return
            try:
                if done.status == "finished":
                    fut.set_result(done.result())
                elif done.status == "cancelled":
                    fut.cancel()
                    fut.set_running_or_notify_cancel()
                else:
                    fut.set_exception(done.exception())
            except (cf.InvalidStateError, RuntimeError):  # cancelled by the caller meanwhile
                pass

        def forward_cancel(f: cf.Future) -> None:
            if f.cancelled():
                task.cancel()

        fut.add_done_callback(forward_cancel)
        task.add_done_callback(settle)
        return fut

    def kill(self, future: cf.Future) -> None:
        """Stop the call behind ``future``: cancel its task and restart the worker running it."""
        with self._lock:
            task = self._tasks.pop(future, None)
        if task is None:
            return
        where = [w for w, keys in self._client.processing().items() if task.key in keys]
        if where:  # restart first: cancelled first, the task would free its worker's slot for the next task,
            # which the restart would then kill
            status = self._client.restart_workers(where, timeout=self._restart_timeout, raise_for_error=False)
            if any(v != "OK" for v in status.values()):
                log.warning("could not restart the Dask worker of a timed-out evaluation (%s); it runs on, "
                            "its result ignored", status)
        task.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        if cancel_futures:
            with self._lock:
                tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()


def make_executor(kind: str, workers: int, address: str | None = None, *, connect_timeout: float = 10.0,
                  num_cpus: float | None = None, num_gpus: float | None = None,
                  ) -> tuple[cf.Executor, Callable[[], None]]:
    """An executor by name and the function that closes it (and the local cluster it started).

    Args:
        kind: ``thread``, ``process`` (spawned processes), ``ray`` or ``dask``.
        workers: evaluations run at once (for a local pool or cluster; a running cluster has its own).
        address: a running Ray or Dask cluster (``None``: start a local one on this machine).
        connect_timeout: seconds to wait for ``address`` to answer.
        num_cpus: CPUs each evaluation reserves on a Ray cluster (default 1).
        num_gpus: GPUs each evaluation reserves on a Ray cluster (default 0; fractions share a GPU).

    Raises:
        ValueError: an unknown ``kind``, ``workers < 1``, an ``address`` for threads or processes, or
            per-evaluation resources for an executor other than Ray.
        ImportError: Ray or Dask is not installed (naming the extra to install).
        ConnectionError: nothing answers at ``address`` within ``connect_timeout`` seconds.
    """
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if address is not None and kind in ("thread", "process"):
        raise ValueError(f"an address is for a ray or dask cluster, not for the {kind} executor")
    if (num_cpus is not None or num_gpus is not None) and kind != "ray":
        raise ValueError(f"per-evaluation CPUs and GPUs are reserved by the ray executor, not by {kind}; use "
                         f"--executor ray, or give each {kind} worker what one evaluation needs")
    if kind == "thread":
        pool: cf.Executor = cf.ThreadPoolExecutor(max_workers=workers)
        return pool, pool.shutdown
    if kind == "process":
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        return pool, pool.shutdown
    if kind == "ray":
        cpus = 1 if num_cpus is None else num_cpus
        # A local Ray gets the CPUs that `workers` evaluations reserve, so that all of them run at once.
        local = {"num_cpus": math.ceil(workers * cpus)} if address is None and cpus > 1 else None
        ray_pool = RayExecutor(address, max_workers=workers if address is None else None,
                               connect_timeout=connect_timeout, num_cpus=cpus,
                               num_gpus=0 if num_gpus is None else num_gpus, init_kwargs=local)
        return ray_pool, ray_pool.shutdown
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("the Dask executor needs Dask: pip install 'graphnas[dask]'") from None
    if address is None:
        import dask

        # A task whose worker died fails at once (the search loop records it, and retries it with run(retries=)):
        # Dask's default reruns it on up to 3 more workers, each killed in turn by an evaluation that kills its own.
        # And a worker gets one task at a time (saturation 1.0, not 1.1): a task queued behind one that kills its
        # worker would fail with it.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                              "distributed.scheduler.worker-saturation": 1.0}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()
    else:
        _probe(address, "dask", connect_timeout)
        try:
            client = Client(address, timeout=connect_timeout)
        except (OSError, TimeoutError) as err:
            raise ConnectionError(f"no Dask scheduler answers at {address}: {err}") from None
        close = client.close
    return DaskExecutor(client), close


_DEFAULT_PORTS = {"ray": 6379, "ray-client": 10001, "dask": 8786}


def _probe(address: str, kind: str, timeout: float) -> None:
    """Raise ConnectionError unless something accepts a TCP connection at ``address`` within ``timeout``."""
    if kind == "ray" and address in ("auto", "local"):
        return
    text = address if "://" in address else f"tcp://{address}"
    parts = urlsplit(text)
    default = _DEFAULT_PORTS["ray-client" if parts.scheme == "ray" else kind]
    try:
        host, port = parts.hostname, parts.port or default
    except ValueError:
        raise ValueError(f"not a cluster address: {address!r} (expected HOST:PORT)") from None
    if not host:
        raise ValueError(f"not a cluster address: {address!r} (expected HOST:PORT)")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        raise ConnectionError(f"no {kind} cluster answers at {address} ({host}:{port}) within {timeout:g} s: "
                              f"{err.strerror or err}") from None
    if kind == "ray" and os.environ.get("RAY_USE_TLS", "0").lower() not in ("1", "true"):
        _probe_grpc(address, host, port, timeout)
    elif kind == "dask" and parts.scheme == "tcp":
        _probe_dask(address, host, port, timeout)


def _probe_dask(address: str, host: str, port: int, timeout: float) -> None:
    """Raise ConnectionError unless ``host:port`` greets a new connection as a Dask scheduler does (its handshake
    comes first) within ``timeout``: ``Client(address, timeout=...)`` waits minutes where something else listens."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            greeting = conn.recv(1)
    except OSError:  # a timeout included
        greeting = b""
    if not greeting:
        raise ConnectionError(f"no dask cluster answers at {address} ({host}:{port}) within {timeout:g} s: "
                              "something listens there, but does not answer as a Dask scheduler does")


def _probe_grpc(address: str, host: str, port: int, timeout: float) -> None:
    """Raise ConnectionError unless ``host:port`` answers an HTTP/2 greeting as a gRPC server does (with its
    SETTINGS frame) within ``timeout``: ``ray.init`` waits minutes on a port where something else listens."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + empty SETTINGS
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(preface)
            head = b""
            while len(head) < 9:
                chunk = conn.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
    except OSError:  # a timeout included
        head = b""
    if len(head) < 9 or head[3] != 4:  # frame type 4: SETTINGS
        raise ConnectionError(f"no ray cluster answers at {address} ({host}:{port}) within {timeout:g} s: "
                              "something listens there, but does not answer as Ray does (gRPC)")
