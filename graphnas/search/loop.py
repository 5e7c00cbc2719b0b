"""The one search loop: any optimiser, any objective, serial or on an executor, with a journal.

``run(optimizer, objective, budget)`` asks the optimiser for graphs, evaluates
them and tells it the results until ``budget`` evaluations exist (failed ones
count). With ``executor`` (any ``concurrent.futures.Executor``: threads,
processes, Dask's ``Client.get_executor()``) it keeps up to ``workers`` evaluations in
flight. By default (``ordered=True``) results are told in the order the graphs were
asked, so a fixed seed gives the same trajectory however the evaluations' timings
fall; ``ordered=False`` tells each result as soon as it arrives (busier workers, a
trajectory that depends on timing). With ``journal`` (a path) every evaluation is
appended to a JSON-lines file as soon as its result arrives; running again with the same journal
replays it (in ask order) into the optimiser and carries on, so a killed run loses no finished evaluation
and repeats none. A lock file beside the journal (``<journal>.lock``) refuses a second driver.

Journal lines (after a header line ``{"format": "graphnas.journal", "version": 2, "search": {...}}``):

```python
{"index": 0, "dag": {...DAG JSON...}, "arch": "|nor_conv_3x3~0|+...", "value": 93.1, "seconds": 0.01,
 "status": "ok", "error": null, "info": {}}
```

The header's ``search`` names the optimiser, the space (its ``repr``, with its settings) and the objective that
wrote the journal; resuming it with another of any of them is refused, since it would mix two searches.
``arch`` is the space's string for the graph (present when the optimiser's space has
``to_string``, e.g. NAS-Bench-201's arch strings); ``dag`` is what is read back. Version 1
journals (no ``arch``) are read as well. An evaluation at a fidelity (a multi-fidelity optimiser's
`Trial`, see docs/multifidelity.md) adds ``"fidelity": {"epochs": 12}``; an objective that reports
its cost adds ``"cost": 12.0`` (in training epochs); both are read back on resume. ``status`` is
``"ok"``, ``"failed"`` or ``"stopped"`` (stopped early by the objective, e.g. a learning curve judged
hopeless: neither a failure nor a final result; its value is ``null``). ``index`` is the evaluation's
place in the ask order: with an executor, results are written as they arrive, so lines may be out of
order; reading sorts them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import itertools
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG

__all__ = ["Evaluation", "History", "Trial", "journal_lock", "run", "read_journal"]

log = logging.getLogger(__name__)

_JOURNAL_FORMAT = "graphnas.journal"
_JOURNAL_VERSION = 2
_JOURNAL_VERSIONS_READ = (1, 2)
_STATUSES = ("ok", "failed", "stopped")


@dataclass(frozen=True)
class Trial:
    """What a multi-fidelity optimiser asks for: a graph and the fidelity to evaluate it at.

    An optimiser with ``ask_trials(n) -> list[Trial]`` and ``tell_trial(trial, value, evaluation)`` gets
    its graphs evaluated as ``objective(dag, fidelity=trial.fidelity)`` by `run`, and each result told back
    with its trial (``fidelity=None`` calls ``objective(dag)``). Optimisers without these methods are driven
    by ``ask``/``tell`` as before.
    """

    dag: DAG
    fidelity: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Evaluation:
    """One evaluated graph: its value (NaN when it failed), wall-clock seconds and status."""

    dag: DAG
    value: float
    seconds: float
    status: str = "ok"  # "ok", "failed" or "stopped" (early, by the objective)
    error: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    fidelity: Mapping[str, Any] | None = None  # None: the objective's own (full) fidelity
    cost: float | None = None  # as the objective reports it (training epochs for the packaged ones)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self, index: int, arch: str | None = None) -> dict[str, Any]:
        """The journal record; ``arch`` (a space's string for the graph) is included when given."""
        doc: dict[str, Any] = {"index": index, "dag": self.dag.to_dict()}
        if arch is not None:
            doc["arch"] = arch
        doc.update({"value": self.value if self.ok else None, "seconds": self.seconds, "status": self.status,
                    "error": self.error, "info": dict(self.info)})
        if self.fidelity is not None:
            doc["fidelity"] = dict(self.fidelity)
        if self.cost is not None:
            doc["cost"] = self.cost
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Evaluation:
        """Read one journal line; a missing or malformed field raises KeyError, TypeError or ValueError."""
        status = doc.get("status", "ok")
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(repr, _STATUSES))}, got {status!r}")
        value = doc.get("value")
        if status == "ok" or value is not None:
            value = _number(value, "value")
            if status == "ok" and not math.isfinite(value):
                raise ValueError(f"an 'ok' evaluation needs a finite value, got {value}")
        seconds = _number(doc.get("seconds", 0.0), "seconds")
        error, info = doc.get("error"), doc.get("info") or {}
        if error is not None and not isinstance(error, str):
            raise TypeError(f"error must be a string or null, got {error!r}")
        if not isinstance(info, dict):
            raise TypeError(f"info must be an object, got {info!r}")
        fidelity, cost = doc.get("fidelity"), doc.get("cost")
        if fidelity is not None and not isinstance(fidelity, dict):
            raise TypeError(f"fidelity must be an object or null, got {fidelity!r}")
        return cls(dag=DAG.from_dict(doc["dag"]), value=float("nan") if value is None else value,
                   seconds=seconds, status=status, error=error, info=dict(info), fidelity=fidelity,
                   cost=None if cost is None else _number(cost, "cost"))


class History:
    """The evaluations of a search, in the order they were told to the optimiser.

    In a notebook it shows as a table (index, value, status, seconds, and the graph's string where
    ``space`` has one, e.g. a NAS-Bench-201 arch string); `to_pandas` gives a DataFrame and `plot`
    the best-so-far curve.

    Args:
        evaluations: the evaluations, in order.
        space: the search space (anything with ``to_string(dag)``, e.g. `graphnas.generators.NB201Space`)
            that names each graph in `rows`, `to_pandas` and the table; None: no names.
    """

    #: The most rows the notebook table shows (the first and last half of them, with a gap between).
    HTML_ROWS = 40

    def __init__(self, evaluations: list[Evaluation] | None = None, *, space: Any = None) -> None:
        self.evaluations: list[Evaluation] = list(evaluations or [])
        self.space = space

    def rows(self, space: Any = None) -> list[dict[str, Any]]:
        """One dict per evaluation: ``index``, ``value`` (NaN when it failed), ``status``, ``seconds``,
        ``best_so_far``, ``fidelity`` and ``cost`` (where any evaluation ran at a fidelity or reported a cost, as a
        multi-fidelity search's do; fidelity as ``"epochs=12"``), ``arch`` (the string ``space``, else the
        history's ``space``, gives the graph; only where there is such a space) and ``error``."""
        space = self.space if space is None else space
        named = callable(getattr(space, "to_string", None))
        graded = any(e.fidelity is not None or e.cost is not None for e in self.evaluations)
        out = []
        for i, (e, best) in enumerate(zip(self.evaluations, self.best_so_far)):
            row: dict[str, Any] = {"index": i, "value": e.value, "status": e.status, "seconds": e.seconds,
                                   "best_so_far": best}
            if graded:  # a multi-fidelity search: at what fidelity, for what cost
                row["fidelity"] = (None if e.fidelity is None else
                                   ", ".join(f"{k}={v}" for k, v in sorted(e.fidelity.items())))
                row["cost"] = float("nan") if e.cost is None else e.cost
            if named:
                row["arch"] = arch_string(space, e.dag)
            row["error"] = e.error
            out.append(row)
        return out

    def to_pandas(self, space: Any = None) -> Any:
        """The `rows` as a ``pandas.DataFrame`` indexed by ``index``.

        Raises:
            ImportError: pandas is not installed (``pip install pandas``).
        """
        from graphnas._tables import to_pandas

        return to_pandas(self.rows(space), "index", "History")

    def _repr_html_(self) -> str:
        from graphnas._tables import table

        rows = self.rows()
        best = self.best
        best_i = next((i for i, e in enumerate(self.evaluations) if e is best), None)
        extra = [k for k in ("fidelity", "cost", "arch") if rows and k in rows[0]]
        caption = (f"{len(self)} evaluations, {len(self.failed)} failed, best value "
                   f"{self.best_value:.4g}" + (f" (index {best_i}, in bold)" if best_i is not None else ""))
        return table(rows, ["index", "value", "status", "seconds", *extra], caption, bold=best_i,
                     max_rows=self.HTML_ROWS, title_key="error")

    def plot(self, ax: Any = None, *, label: str | None = None, x: str = "evaluations") -> Any:
        """Plot each evaluation's value (dots) and the best value so far (a step line) on ``ax``.

        Args:
            ax: the matplotlib ``Axes`` to draw on; None: a new pyplot figure (what a notebook shows).
            label: the legend's name for the best-so-far line (default: ``"best so far"``).
            x: ``"evaluations"`` (the count) or ``"cost"`` (the cumulative cost the objective reported, e.g.
                training epochs in a multi-fidelity search; an evaluation without a cost counts 0).

        Returns:
            the ``Axes``. Nothing else of matplotlib's state (backend, style) is changed.

        Raises:
            ImportError: matplotlib is not installed (``pip install matplotlib``).
            ValueError: ``x`` is neither, or ``"cost"`` where no evaluation reported a cost.
        """
        if x not in ("evaluations", "cost"):
            raise ValueError(f"x must be 'evaluations' or 'cost', got {x!r}")
        if x == "cost" and all(e.cost is None for e in self.evaluations):
            raise ValueError("x='cost': no evaluation of this history reported a cost (a multi-fidelity "
                             "objective does); plot against x='evaluations'")
        from graphnas._tables import new_axes

        ax = new_axes(ax, "History.plot")
        if x == "cost":
            steps = list(itertools.accumulate(e.cost or 0.0 for e in self.evaluations))
        else:
            steps = list(range(1, len(self) + 1))
        ok = [(k, e.value) for k, e in zip(steps, self.evaluations) if e.ok]
        if ok:
            ax.plot([k for k, _ in ok], [v for _, v in ok], ".", color="0.6", label="evaluation")
        ax.step(steps, self.best_so_far, where="post", label=label or "best so far")
        ax.set_xlabel("cumulative cost" if x == "cost" else "evaluations")
        ax.set_ylabel("value")
        ax.legend(loc="lower right")
        return ax

    def __len__(self) -> int:
        return len(self.evaluations)

    def __repr__(self) -> str:
        return f"History({len(self)} evaluations, {len(self.failed)} failed, best_value={self.best_value})"

    @property
    def values(self) -> list[float]:
        """Each evaluation's value (NaN for failed ones)."""
        return [e.value for e in self.evaluations]

    @property
    def failed(self) -> list[Evaluation]:
        return [e for e in self.evaluations if e.status == "failed"]

    @property
    def stopped(self) -> list[Evaluation]:
        """Evaluations the objective stopped early (status ``"stopped"``): neither failures nor results."""
        return [e for e in self.evaluations if e.status == "stopped"]

    @property
    def best(self) -> Evaluation | None:
        ok = [e for e in self.evaluations if e.ok]
        return max(ok, key=lambda e: e.value) if ok else None

    @property
    def best_value(self) -> float:
        """The highest value found (NaN if nothing succeeded)."""
        b = self.best
        return float("nan") if b is None else b.value

    @property
    def best_dag(self) -> DAG | None:
        b = self.best
        return None if b is None else b.dag

    @property
    def best_so_far(self) -> list[float]:
        """The best value after each evaluation (NaN until the first success)."""
        out, best = [], float("nan")
        for e in self.evaluations:
            if e.ok and (math.isnan(best) or e.value > best):
                best = e.value
            out.append(best)
        return out


def read_journal(path: str | os.PathLike) -> History:
    """The evaluations recorded in a journal, in the order they were asked (their ``index``).

    A half-written last line (a run killed while writing it) is skipped.

    Raises:
        ValueError: naming the file and the line, for a line that is not an evaluation (bad JSON anywhere
            but on the last line, a missing or malformed field, another format, an unsupported version).
    """
    return History([e for _, e in _read_indexed(path)])


def _read_indexed(path: str | os.PathLike) -> list[tuple[int, Evaluation]]:
    """``(index, evaluation)`` pairs sorted by index (a line without one gets its position)."""
    evals: list[tuple[int, Evaluation]] = []
    for n, doc in _journal_lines(path):
        where = f"journal {path}, line {n}"
        if not isinstance(doc, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        if "format" in doc:
            if doc["format"] != _JOURNAL_FORMAT:
                raise ValueError(f"{where}: a {doc['format']!r} document, not a graphnas journal")
            if doc.get("version") not in _JOURNAL_VERSIONS_READ:
                raise ValueError(f"journal {path}: unsupported version {doc.get('version')!r}")
            continue
        try:
            index = doc.get("index", len(evals))
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"index must be an integer >= 0, got {index!r}")
            evals.append((index, Evaluation.from_dict(doc)))
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:
            what = f"missing field {err}" if isinstance(err, KeyError) else str(err)
            raise ValueError(f"{where}: not an evaluation: {what}") from None
    evals.sort(key=lambda pair: pair[0])  # stable: lines of equal index keep their order
    return evals


def _journal_lines(path: str | os.PathLike) -> list[tuple[int, Any]]:
    """``(line number, parsed JSON)`` for each non-blank line; a last line that does not parse is skipped."""
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    numbered = [(n + 1, raw) for n, raw in enumerate(lines) if raw.strip()]
    out = []
    for k, (n, raw) in enumerate(numbered):
        try:
            out.append((n, json.loads(raw.decode("utf-8"))))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            if k == len(numbered) - 1:  # the last line, cut short when the run was killed
                log.warning("journal %s: ignoring a truncated last line", path)
                continue
            raise ValueError(f"journal {path}, line {n}: not valid JSON") from None
    return out


def arch_string(space: Any, dag: DAG) -> str | None:
    """The space's string for ``dag`` (e.g. a NAS-Bench-201 arch string), or None where it has none."""
    to_string = getattr(space, "to_string", None)
    if not callable(to_string):
        return None
    try:
        return str(to_string(dag))
    except Exception:  # noqa: BLE001 - a graph the space cannot name simply has no string
        return None


class _AtFidelity:
    """``objective`` called at one fidelity: ``objective(dag, fidelity=fidelity)`` (picklable for workers)."""

    def __init__(self, objective: Callable[..., Any], fidelity: Mapping[str, Any]) -> None:
        self.objective, self.fidelity = objective, dict(fidelity)

    def __call__(self, dag: DAG) -> Any:
        return self.objective(dag, fidelity=self.fidelity)


def _at(objective: Callable[..., Any], fidelity: Mapping[str, Any] | None) -> Callable[[DAG], Any]:
    return objective if fidelity is None else _AtFidelity(objective, fidelity)


def _evaluate(objective: Callable[[DAG], Any], dag: DAG) -> Evaluation:
    """Call the objective and turn whatever happens into an `Evaluation` (runs in the worker).

    A result mapping may carry ``"cost"`` (a number) and ``"status": "stopped"`` (stopped early: kept, not failed).
    """
    start = time.perf_counter()
    info: dict[str, Any] = {}
    fidelity = objective.fidelity if isinstance(objective, _AtFidelity) else None
    cost: float | None = None
    status = "ok"
    try:
        result = objective(dag)
        if isinstance(result, Mapping):
            if "value" not in result:
                raise ValueError("the objective returned a mapping without a 'value' key")
            info = {k: v for k, v in result.items() if k not in ("value", "cost", "status") and _jsonable(v)}
            if result.get("cost") is not None:
                cost = _number(result["cost"], "the objective's cost")
            status = result.get("status", "ok")
            if status not in ("ok", "stopped"):
                raise ValueError(f"the objective returned status {status!r}; it may say 'ok' or 'stopped'")
            result = result["value"]
        value = float(result)
    except Exception as err:  # noqa: BLE001 - a failing objective is recorded, not fatal
        return Evaluation(dag, float("nan"), time.perf_counter() - start, "failed", f"{type(err).__name__}: {err}",
                          fidelity=fidelity, cost=cost)
    seconds = time.perf_counter() - start
    if status == "stopped":
        return Evaluation(dag, float("nan"), seconds, "stopped", None, info, fidelity, cost)
    if not math.isfinite(value):
        return Evaluation(dag, float("nan"), seconds, "failed", f"the objective returned {value}", info, fidelity,
                          cost)
    return Evaluation(dag, value, seconds, "ok", None, info, fidelity, cost)


def _ask(optimizer: Any, n: int) -> list[Trial]:
    """``n`` trials from an optimiser: its ``ask_trials`` where it has one, else its graphs at no fidelity."""
    ask_trials = getattr(optimizer, "ask_trials", None)
    if callable(ask_trials):
        return list(ask_trials(n))
    return [Trial(dag) for dag in optimizer.ask(n)]


def _tell(optimizer: Any, e: Evaluation) -> None:
    """Tell ``optimizer`` an evaluation: with its trial where it has ``tell_trial``, else ``tell(dag, value)``."""
    tell_trial = getattr(optimizer, "tell_trial", None)
    if callable(tell_trial):
        tell_trial(Trial(e.dag, e.fidelity), e.value, e)
        return
    if e.fidelity is not None:
        raise ValueError(f"an evaluation at fidelity {dict(e.fidelity)} cannot be told to {type(optimizer).__name__}, "
                         "which takes no fidelities (it has no tell_trial); resume the journal with the "
                         "multi-fidelity optimiser that wrote it, or start a new journal")
    optimizer.tell(e.dag, e.value)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _workers(executor: cf.Executor, workers: int | None) -> int:
    if workers is not None:
        return int(workers)
    for attr in ("_max_workers", "max_workers"):
        n = getattr(executor, attr, None)
        if isinstance(n, int) and n > 0:
            return n
    return os.cpu_count() or 1


def run(optimizer: Any, objective: Callable[[DAG], Any], budget: int, *, executor: cf.Executor | None = None,
        journal: str | os.PathLike | None = None, progress: Callable[[History, Evaluation], None] | None = None,
        workers: int | None = None, ordered: bool = True, timeout: float | None = None,
        retries: int = 0) -> History:
    """Search until ``budget`` evaluations (failed ones included) exist; return the `History`.

    Args:
        optimizer: anything with ``ask(n) -> list[DAG]`` and ``tell(dag, value)``.
        objective: ``objective(dag)`` returns a float (higher is better) or a mapping with ``"value"``
            (other JSON-able keys are kept in ``Evaluation.info``). An exception or a NaN/inf marks
            the evaluation failed; the optimiser is told NaN and the search goes on.
        budget: the total number of evaluations, counting those already in ``journal``.
        executor: evaluate on this ``concurrent.futures.Executor`` (threads, processes, Dask's
            ``Client.get_executor(pure=False)``, `graphnas.search.RayExecutor`), ``workers`` at a
            time (default: the executor's ``_max_workers``). The objective must then be picklable for
            processes and clusters. A worker that dies (killed, out of memory, ``os._exit``) fails its
            evaluation, recorded with the reason; a broken process pool is replaced by a new one (which
            ``run`` shuts down when it returns).
        journal: a JSON-lines file; existing evaluations are replayed into the optimiser first.
            Records carry the graph's ``arch`` string when ``optimizer.space`` has ``to_string``.
            Each result is written as soon as it arrives, so a killed driver loses no finished
            evaluation. A lock file beside it (``<journal>.lock``) refuses a second driver (`journal_lock`
            holds it around more than the search). Its header names the optimiser, space and objective;
            resuming it with others is refused.
        progress: called as ``progress(history, evaluation)`` after each evaluation.
        workers: evaluations kept in flight with an executor.
        ordered: with an executor, tell results in the order the graphs were asked
            (default). A fixed seed then gives the same trajectory on any number of workers of the
            same count, whatever order the evaluations finish in; a slow evaluation holds the
            results behind it (and the asks that would follow them) until it is done. False tells
            each result as it arrives: workers never wait, but the trajectory depends on timing.
        timeout: with an executor, seconds an evaluation may take from its submission (keep
            ``workers`` at most the executor's workers, so that none waits in a queue); past it the
            evaluation is recorded failed and its worker freed where the engine allows (a process
            pool is replaced, the other evaluations in it resubmitted; a Ray task is killed; a thread
            cannot be stopped and runs on unseen).
        retries: times an evaluation is resubmitted after an infrastructure failure (its worker died,
            the pool broke, a cluster node was lost); never for an exception raised by the objective
            nor for a timeout. The evaluation records ``info["retries"]`` when it needed some.

    Raises:
        ValueError: ``budget`` < 0, ``workers`` < 1, ``timeout`` <= 0, ``retries`` < 0, a journal that is
            not one (naming the line), or one written by another search (another optimiser, space or objective).
        TypeError: ``executor`` is not a ``concurrent.futures.Executor`` (it has no ``submit``).
        RuntimeError: another search holds the journal's lock.
    """
    if not is_integer(budget, 0):
        raise ValueError(f"budget must be an integer >= 0 (the total number of evaluations), got {budget!r}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (with submit), got {type(executor).__name__}")
    if timeout is not None and executor is None:
        raise ValueError("timeout needs an executor: an evaluation in this process cannot be stopped")
    space = getattr(optimizer, "space", None)  # the history's table shows the space's strings (arch)
    history = History(space=space)
    fh = None
    lock = None
    next_index = 0
    try:
        if journal is not None:
            path = os.fspath(journal)
            lock = None if _holds(path) else _JournalLock(path)
            identity = search_identity(optimizer, objective)
            if os.path.exists(path) and os.path.getsize(path) > 0:
                _check_identity(path, identity)
                indexed = _read_indexed(path)
                history = History([e for _, e in indexed], space=space)
                next_index = indexed[-1][0] + 1 if indexed else 0
                # re-asked only if the search goes on (a journal that fills the budget is told as it is), and not
                # for optimisers of trials (multi-fidelity, NASH), whose tell_trial takes what they need
                replay = getattr(optimizer, "replay", None)
                if len(history) >= budget or callable(getattr(optimizer, "tell_trial", None)):
                    replay = None
                for index, e in indexed:
                    try:
                        if callable(replay) and e.fidelity is None:
                            replay(e.dag, e.value)  # re-asked first: the resumed search follows the interrupted one
                        else:
                            _tell(optimizer, e)
                    except ValueError as err:  # GraphError too: a hand-edited graph the optimiser refuses
                        message = f"journal {path}, the evaluation with index {index}: {err}"
                        try:
                            named = type(err)(message)
                        except Exception:  # noqa: BLE001 - an error class with a constructor of its own
                            named = ValueError(message)
                        raise named from err
                log.info("resumed %d evaluations from %s", len(history), path)
                _repair_tail(path)
                fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in finally
            else:
                fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
                fh.write(json.dumps({"format": _JOURNAL_FORMAT, "version": _JOURNAL_VERSION,
                                     "search": identity}) + "\n")
                fh.flush()
        loop = _Loop(optimizer, objective, history, fh, progress, next_index)
        if executor is None:
            loop.serial(budget)
        else:
            loop.parallel(budget, _Engine(executor), _workers(executor, workers), ordered, timeout, retries)
    finally:
        if fh is not None:
            fh.close()
        if lock is not None:
            lock.release()
    return history


class _JournalLock:
    """An exclusive lock on ``<journal>.lock`` (released by the OS when the process dies, even by SIGKILL)."""

    def __init__(self, journal: str) -> None:
        from filelock import FileLock, Timeout

        self.path = journal + ".lock"
        self._lock = FileLock(self.path, timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise RuntimeError(f"journal {journal} is in use by another running search (lock {self.path}); "
                               "wait for it to finish or use another journal") from None

    def release(self) -> None:
        self._lock.release()


_HELD: dict[str, int] = {}  # journals whose lock `journal_lock` holds: real path -> the holding thread


def _holds(path: str) -> bool:
    return _HELD.get(os.path.realpath(path)) == threading.get_ident()


@contextmanager
def journal_lock(journal: str | os.PathLike) -> Iterator[None]:
    """Hold a journal's lock around more than `run`, e.g. to start the journal over only once no other search uses it.

    `run` in the same thread uses the lock held here instead of taking it again; any other search (another
    process or thread) is refused while it is held.

    Raises:
        RuntimeError: another running search holds the lock.

    ```python
    with journal_lock("runs/j.jsonl"):
        os.remove("runs/j.jsonl")  # safe: no running search writes it
        run(optimizer, objective, 100, journal="runs/j.jsonl")
    ```
    """
    path = os.fspath(journal)
    if _holds(path):
        yield
        return
    lock = _JournalLock(path)
    key = os.path.realpath(path)
    _HELD[key] = threading.get_ident()
    try:
        yield
    finally:
        del _HELD[key]
        lock.release()


def _name(thing: Any) -> str:
    """A callable's or an object's stable name: a function's qualified name, else its class's."""
    while isinstance(thing, functools.partial):  # the function it wraps
        thing = thing.func
    name = getattr(thing, "__qualname__", None)
    return name if isinstance(name, str) else type(thing).__qualname__


def search_identity(optimizer: Any, objective: Callable[[DAG], Any]) -> dict[str, str]:
    """What a journal's header records of the search that writes it: optimiser, space and objective."""
    space = getattr(optimizer, "space", None)
    text = repr(space)
    if " at 0x" in text:  # a default repr changes from run to run: the class is all that is stable
        text = type(space).__qualname__
    return {"optimizer": type(optimizer).__qualname__, "space": text, "objective": _name(objective)}


def check_journal(journal: str | os.PathLike, optimizer: Any, objective: Callable[[DAG], Any]) -> History:
    """The evaluations of a journal that ``run(optimizer, objective, ..., journal=journal)`` would resume.

    Raises:
        ValueError: the journal was written by another search (another optimiser, space or objective), or a
            line is not an evaluation (naming the line; a half-written last line is skipped).
    """
    path = os.fspath(journal)
    _check_identity(path, search_identity(optimizer, objective))
    return read_journal(path)


def _check_identity(path: str, identity: Mapping[str, str]) -> None:
    """Refuse to resume a journal whose header names another optimiser, space or objective."""
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        header = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return  # not a header: _read_indexed names the problem
    recorded = header.get("search") if isinstance(header, dict) and "format" in header else None
    if not isinstance(recorded, dict):
        return  # written before journals recorded their search
    differ = [f"{k} {recorded.get(k)!r}, not {v!r}" for k, v in identity.items() if recorded.get(k) != v]
    if differ:
        raise ValueError(f"journal {path} was written by another search ({'; '.join(differ)}); resuming it would "
                         "mix two searches: use another journal, or delete this one to start over")


@dataclass
class _Task:
    """An evaluation in flight: its graph, its place in the ask order, its future and its tries."""

    dag: DAG
    index: int
    future: cf.Future | None = None
    generation: int = 0
    deadline: float = math.inf
    retries: int = 0
    suspected: bool = False  # was in a pool that broke under several evaluations: runs again, alone
    private: cf.Executor | None = None  # the one-worker pool a suspect runs in
    result: Evaluation | None = None  # arrived (and journalled) but not yet told, in ordered mode
    fidelity: Mapping[str, Any] | None = None  # the trial's fidelity (None: the objective's own)


# Exceptions (by class name, to need neither Ray nor Dask) that mean the infrastructure failed, not the objective.
_INFRASTRUCTURE = frozenset({
    "BrokenExecutor", "BrokenProcessPool", "BrokenThreadPool", "CancelledError",
    "WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError", "OutOfMemoryError",
    "LocalRayletDiedError", "RaySystemError", "ActorDiedError", "TaskCancelledError",
    "KilledWorker", "CommClosedError", "FutureCancelledError",
})


def _infrastructure(err: BaseException) -> bool:
    return any(c.__name__ in _INFRASTRUCTURE for c in type(err).__mro__) or isinstance(err, ConnectionError)


class _Engine:
    """The executor in use, replaced by a fresh process pool when the one in use broke or had to be killed."""

    def __init__(self, executor: cf.Executor) -> None:
        if type(executor).__name__ == "ClientExecutor" and hasattr(executor, "_client"):  # Dask's own: add kill
            from graphnas.search.executors import DaskExecutor

            executor = DaskExecutor(executor._client, **getattr(executor, "_kwargs", {}))
        self.executor = executor
        self.generation = 0
        self._owned: list[cf.Executor] = []

    def submit(self, objective: Callable[[DAG], Any], task: _Task, timeout: float | None) -> None:
        for attempt in (0, 1):
            try:
                task.future = self.executor.submit(_evaluate, objective, task.dag)
                _rewake(self.executor)
            except (cf.BrokenExecutor, OSError, ValueError) as err:  # broke before we saw it: replace it, submit again
                # (a pool that breaks while submit spawns a worker fails in the spawn, on its closed queue: OSError)
                broken = isinstance(err, cf.BrokenExecutor) or bool(getattr(self.executor, "_broken", False))
                if attempt or not broken or not self.replace(self.generation):
                    raise
                continue
            task.generation = self.generation
            task.deadline = time.monotonic() + timeout if timeout is not None else math.inf
            return

    def isolate(self, objective: Callable[[DAG], Any], task: _Task, timeout: float | None) -> None:
        """Run a suspect in a one-worker pool of its own, so that only the evaluation that kills its worker
        breaks it (a broken pool does not say whose worker died)."""
        task.private = cf.ProcessPoolExecutor(**_pool_kwargs(self.executor, 1))
        self._owned.append(task.private)
        task.future = task.private.submit(_evaluate, objective, task.dag)
        _rewake(task.private)
        task.deadline = time.monotonic() + timeout if timeout is not None else math.inf

    def replace(self, generation: int) -> bool:
        """Replace the executor of ``generation`` (if still in use) by a new process pool; False if impossible."""
        if generation != self.generation:
            return True
        old = self.executor
        if not isinstance(old, cf.ProcessPoolExecutor):
            return False
        kw = _pool_kwargs(old, getattr(old, "_max_workers", None))
        _kill_pool(old)
        self.executor = cf.ProcessPoolExecutor(**kw)
        self._owned.append(self.executor)
        self.generation += 1
        log.warning("the process pool broke or was stopped; replaced it by a new one")
        return True

    def stop(self, task: _Task) -> bool:
        """Free the worker running ``task`` (timed out); True if every other task of its pool must be resubmitted."""
        if task.future is None:
            return False
        kill = getattr(self.executor, "kill", None)
        if callable(kill) and task.generation == self.generation:  # Ray, Dask: kill that task's worker (their
            kill(task.future)  # futures cancel() while running, stopping nothing)
            return False
        if task.future.cancel():
            return False
        if isinstance(self.executor, cf.ProcessPoolExecutor) and task.generation == self.generation:
            return self.replace(task.generation)
        log.warning("cannot stop a timed-out evaluation on %s; it runs on, its result ignored",
                    type(self.executor).__name__)
        return False

    def close(self) -> None:
        for pool in self._owned:
            pool.shutdown(wait=True, cancel_futures=True)


def _pool_kwargs(pool: cf.Executor, max_workers: int | None) -> dict[str, Any]:
    """The settings of a new process pool like ``pool`` (its start method and initializer), of ``max_workers``."""
    return {"max_workers": max_workers, "mp_context": getattr(pool, "_mp_context", None),
            "initializer": getattr(pool, "_initializer", None), "initargs": getattr(pool, "_initargs", ())}


def _rewake(pool: cf.Executor) -> None:
    """Wake a process pool's manager thread once more after a submission.

    CPython (3.11 at least) wakes it in ``submit`` *before* spawning the worker that submission needs, so the
    manager may go back to waiting on the sentinels of the older workers only: a new worker that dies is then
    not seen, and its pool not marked broken, until something else wakes the manager (seen here: a killed
    worker's evaluation hung until its timeout). A second wakeup, once the worker is registered, makes the
    manager watch it too.
    """
    if not isinstance(pool, cf.ProcessPoolExecutor):
        return
    # under the lock CPython itself wakes and closes that pipe with (the manager closes it when the pool breaks)
    with getattr(pool, "_shutdown_lock", None) or contextlib.nullcontext():
        wake = getattr(getattr(pool, "_executor_manager_thread_wakeup", None), "wakeup", None)
        if callable(wake):
            try:
                wake()
            except (OSError, ValueError):  # closed: the pool shut down meanwhile; there is nothing to watch
                pass


def _kill_pool(pool: cf.ProcessPoolExecutor) -> None:
    processes = dict(getattr(pool, "_processes", None) or {})
    for proc in processes.values():
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except Exception:  # noqa: BLE001 - a broken pool may complain while shutting down; it is discarded anyway
        log.debug("shutting down a broken pool failed", exc_info=True)
    for proc in processes.values():
        try:
            proc.join(5)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


class _Loop:
    def __init__(self, optimizer: Any, objective: Callable[[DAG], Any], history: History, fh: Any,
                 progress: Callable[[History, Evaluation], None] | None, next_index: int) -> None:
        self.optimizer, self.objective, self.history = optimizer, objective, history
        self.fh, self.progress, self.next_index = fh, progress, next_index
        self.space = getattr(optimizer, "space", None)

    def arch(self, dag: DAG) -> str | None:
        return arch_string(self.space, dag)

    def write(self, index: int, e: Evaluation) -> None:
        if self.fh is not None:
            self.fh.write(json.dumps(e.to_dict(index, self.arch(e.dag))) + "\n")
            self.fh.flush()

    def tell(self, e: Evaluation) -> None:
        self.history.evaluations.append(e)
        _tell(self.optimizer, e)
        if self.progress is not None:
            self.progress(self.history, e)

    def serial(self, budget: int) -> None:
        while len(self.history) < budget:
            asked = _ask(self.optimizer, 1)
            if not asked:
                log.warning("the optimiser proposed nothing new; stopping after %d evaluations", len(self.history))
                break
            e = _evaluate(_at(self.objective, asked[0].fidelity), asked[0].dag)
            self.write(self.next_index, e)
            self.next_index += 1
            self.tell(e)

    def parallel(self, budget: int, engine: _Engine, slots: int, ordered: bool, timeout: float | None,
                 retries: int) -> None:
        pending: list[_Task] = []  # in ask order

        def submit(task: _Task) -> None:
            try:
                engine.submit(_at(self.objective, task.fidelity), task, timeout)
            except Exception as err:  # noqa: BLE001 - an engine that cannot take work fails the evaluation
                finish(task, Evaluation(task.dag, float("nan"), 0.0, "failed",
                                        f"could not submit: {type(err).__name__}: {err}"))

        def finish(task: _Task, e: Evaluation) -> None:
            if task.retries:
                e = replace(e, info={**e.info, "retries": task.retries})
            if e.fidelity is None and task.fidelity is not None:  # failed in the engine, not in _evaluate
                e = replace(e, fidelity=task.fidelity)
            task.result, task.future = e, None
            if task.private is not None:  # a suspect's own pool has done its one job
                task.private.shutdown(wait=False)
                task.private = None
            self.write(task.index, e)  # journalled on arrival: a killed driver loses no finished evaluation

        def fill() -> None:
            want = min(slots - len(pending), budget - len(self.history) - len(pending))
            if want > 0:
                for trial in _ask(self.optimizer, want):
                    task = _Task(trial.dag, self.next_index, fidelity=trial.fidelity)
                    self.next_index += 1
                    pending.append(task)
                    submit(task)

        try:
            while True:
                fill()
                if not pending:
                    if len(self.history) < budget:
                        log.warning("the optimiser proposed nothing new; stopping after %d evaluations",
                                    len(self.history))
                    break
                running = [t for t in pending if t.result is None]
                if running:
                    wait_for = None if timeout is None else max(0.0, min(t.deadline for t in running)
                                                               - time.monotonic())
                    futures = [t.future for t in running if t.future is not None]
                    cf.wait(futures, timeout=wait_for, return_when=cf.FIRST_COMPLETED)
                for task in running:
                    fut = task.future
                    if fut is None or task.result is not None:
                        continue
                    if fut.done():
                        shared = sum(1 for t in pending if t.result is None and t.generation == task.generation)
                        self._harvest(task, fut, engine, retries, timeout, shared, submit, finish)
                    elif time.monotonic() >= task.deadline:
                        private, task.private = task.private, None
                        if private is not None:  # a suspect alone in its pool: kill that pool only (before any
                            _kill_pool(private)  # type: ignore[arg-type]  # shutdown, which forgets its processes)
                            resubmit = False
                        else:
                            resubmit = engine.stop(task)  # frees the worker running it
                        finish(task, Evaluation(task.dag, float("nan"), float(timeout or 0.0), "failed",
                                                f"timed out after {timeout:g} s"))
                        if resubmit:
                            for other in pending:  # their pool was killed with it: innocent, submit again
                                if other.result is None and other.generation < engine.generation:
                                    submit(other)
                if ordered:  # one tell, then the asks it frees: the same trajectory whatever order results arrive
                    while pending and pending[0].result is not None:
                        self.tell(pending.pop(0).result)  # type: ignore[arg-type]
                        if pending and pending[0].result is not None:
                            fill()
                else:
                    for task in [t for t in pending if t.result is not None]:
                        pending.remove(task)
                        self.tell(task.result)  # type: ignore[arg-type]
        finally:
            for task in pending:
                if task.future is not None:
                    task.future.cancel()
            engine.close()

    def _harvest(self, task: _Task, fut: cf.Future, engine: _Engine, retries: int, timeout: float | None,
                 shared: int, submit: Callable[[_Task], None], finish: Callable[[_Task, Evaluation], None]) -> None:
        try:
            e = fut.result()
        except BaseException as err:  # noqa: BLE001 - any failure of the engine is recorded, not fatal
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            infra = _infrastructure(err)
            if isinstance(err, cf.BrokenExecutor) and task.private is None:
                engine.replace(task.generation)
                if shared > 1 and not task.suspected and isinstance(engine.executor, cf.ProcessPoolExecutor):
                    # A pool breaks for all its evaluations at once and does not say whose worker died: each
                    # runs once more, free and alone; the one that kills its worker breaks its own pool then.
                    task.suspected = True
                    engine.isolate(_at(self.objective, task.fidelity), task, timeout)
                    return
            reason = f"{type(err).__name__}: {err}".strip()
            if infra:
                reason = f"worker lost ({reason})"
            if infra and task.retries < retries:
                task.retries += 1
                log.warning("evaluation %d: %s; retry %d of %d", task.index, reason, task.retries, retries)
                submit(task)
                return
            e = Evaluation(task.dag, float("nan"), 0.0, "failed", reason)
        finish(task, e)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def _repair_tail(path: str) -> None:
    """Cut a half-written last line (one that does not parse, as `read_journal` skips it), so that new
    lines start on a line of their own and the skipped one never ends up in the middle of the journal."""
    with open(path, "rb+") as fh:
        data = fh.read()
        body = data.rstrip()
        start = body.rfind(b"\n") + 1
        try:
            json.loads(body[start:].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            fh.seek(start)
            fh.truncate()
            return
        if not data.endswith(b"\n"):
            fh.seek(len(data))
            fh.write(b"\n")
