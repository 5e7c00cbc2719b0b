"""The one search loop: any optimiser, any objective, serial or on an executor, with a journal.

``run(optimizer, objective, budget)`` asks the optimiser for graphs, evaluates
them and tells it the results until ``budget`` evaluations exist (failed ones
count). With ``executor`` (any ``concurrent.futures.Executor``: threads,
processes, Dask's ``Client.get_executor()``) it keeps up to ``workers`` evaluations in
flight. By default (``ordered=True``) results are told in the order the graphs were
asked, so a fixed seed gives the same trajectory however the evaluations' timings
fall; ``ordered=False`` tells each result as soon as it arrives (busier workers, a
trajectory that depends on timing). With ``journal`` (a path) every evaluation is
appended to a JSON-lines file when it is told; running again with the same journal
replays it into the optimiser and carries on, so a killed run loses no told evaluation.

Journal lines (after a header line ``{"format": "graphnas.journal", "version": 2}``)::

    {"index": 0, "dag": {...DAG JSON...}, "arch": "|nor_conv_3x3~0|+...", "value": 93.1, "seconds": 0.01,
     "status": "ok", "error": null, "info": {}}

``arch`` is the space's string for the graph (present when the optimiser's space has
``to_string``, e.g. NAS-Bench-201's arch strings); ``dag`` is what is read back. Version 1
journals (no ``arch``) are read as well.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphnas.dag import DAG

__all__ = ["Evaluation", "History", "run", "read_journal"]

log = logging.getLogger(__name__)

_JOURNAL_FORMAT = "graphnas.journal"
_JOURNAL_VERSION = 2
_JOURNAL_VERSIONS_READ = (1, 2)


@dataclass(frozen=True)
class Evaluation:
    """One evaluated graph: its value (NaN when it failed), wall-clock seconds and status."""

    dag: DAG
    value: float
    seconds: float
    status: str = "ok"  # "ok" or "failed"
    error: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

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
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Evaluation:
        """Read one journal line; a missing or malformed field raises KeyError, TypeError or ValueError."""
        status = doc.get("status", "ok")
        if status not in ("ok", "failed"):
            raise ValueError(f"status must be 'ok' or 'failed', got {status!r}")
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
        return cls(dag=DAG.from_dict(doc["dag"]), value=float("nan") if value is None else value,
                   seconds=seconds, status=status, error=error, info=dict(info))


class History:
    """The evaluations of a search, in the order they were told to the optimiser."""

    def __init__(self, evaluations: list[Evaluation] | None = None) -> None:
        self.evaluations: list[Evaluation] = list(evaluations or [])

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
        return [e for e in self.evaluations if not e.ok]

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
    """The evaluations recorded in a journal; a half-written last line (a killed run) is skipped.

    Raises:
        ValueError: naming the file and the line, for a line that is not an evaluation (bad JSON anywhere
            but on the last line, a missing or malformed field, another format, an unsupported version).
    """
    evals: list[Evaluation] = []
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
            evals.append(Evaluation.from_dict(doc))
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:
            what = f"missing field {err}" if isinstance(err, KeyError) else str(err)
            raise ValueError(f"{where}: not an evaluation: {what}") from None
    return History(evals)


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


def _evaluate(objective: Callable[[DAG], Any], dag: DAG) -> Evaluation:
    """Call the objective and turn whatever happens into an :class:`Evaluation` (runs in the worker)."""
    start = time.perf_counter()
    info: dict[str, Any] = {}
    try:
        result = objective(dag)
        if isinstance(result, Mapping):
            if "value" not in result:
                raise ValueError("the objective returned a mapping without a 'value' key")
            info = {k: v for k, v in result.items() if k != "value" and _jsonable(v)}
            result = result["value"]
        value = float(result)
    except Exception as err:  # noqa: BLE001 - a failing objective is recorded, not fatal
        return Evaluation(dag, float("nan"), time.perf_counter() - start, "failed", f"{type(err).__name__}: {err}")
    seconds = time.perf_counter() - start
    if not math.isfinite(value):
        return Evaluation(dag, float("nan"), seconds, "failed", f"the objective returned {value}", info)
    return Evaluation(dag, value, seconds, "ok", None, info)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _workers(executor: cf.Executor, workers: int | None) -> int:
    if workers is not None:
        return max(1, int(workers))
    for attr in ("_max_workers", "max_workers"):
        n = getattr(executor, attr, None)
        if isinstance(n, int) and n > 0:
            return n
    return os.cpu_count() or 1


def run(optimizer: Any, objective: Callable[[DAG], Any], budget: int, *, executor: cf.Executor | None = None,
        journal: str | os.PathLike | None = None, progress: Callable[[History, Evaluation], None] | None = None,
        workers: int | None = None, ordered: bool = True) -> History:
    """Search until ``budget`` evaluations (failed ones included) exist; return the :class:`History`.

    Args:
        optimizer: anything with ``ask(n) -> list[DAG]`` and ``tell(dag, value)``.
        objective: ``objective(dag)`` returns a float (higher is better) or a mapping with ``"value"``
            (other JSON-able keys are kept in ``Evaluation.info``). An exception or a NaN/inf marks
            the evaluation failed; the optimiser is told NaN and the search goes on.
        budget: the total number of evaluations, counting those already in ``journal``.
        executor: evaluate on this ``concurrent.futures.Executor``, ``workers`` at a time
            (default: the executor's ``_max_workers``). The objective must then be picklable
            for process pools.
        journal: a JSON-lines file; existing evaluations are replayed into the optimiser first.
            Records carry the graph's ``arch`` string when ``optimizer.space`` has ``to_string``.
        progress: called as ``progress(history, evaluation)`` after each evaluation.
        workers: evaluations kept in flight with an executor.
        ordered: with an executor, tell (and journal) results in the order the graphs were asked
            (default). A fixed seed then gives the same trajectory on any number of workers of the
            same count, whatever order the evaluations finish in; a slow evaluation holds the
            results behind it (and the asks that would follow them) until it is done. False tells
            each result as it arrives: workers never wait, but the trajectory depends on timing.
    """
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    history = History()
    fh = None
    if journal is not None:
        path = os.fspath(journal)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            history = read_journal(path)
            for e in history.evaluations:
                optimizer.tell(e.dag, e.value)
            log.info("resumed %d evaluations from %s", len(history), path)
            _repair_tail(path)
            fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in finally
        else:
            fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
            fh.write(json.dumps({"format": _JOURNAL_FORMAT, "version": _JOURNAL_VERSION}) + "\n")
            fh.flush()

    to_string = getattr(getattr(optimizer, "space", None), "to_string", None)

    def arch(dag: DAG) -> str | None:
        if to_string is None:
            return None
        try:
            return str(to_string(dag))
        except Exception:  # noqa: BLE001 - a graph the space cannot name is journalled without a string
            return None

    def record(e: Evaluation) -> None:
        index = len(history)
        history.evaluations.append(e)
        optimizer.tell(e.dag, e.value)
        if fh is not None:
            fh.write(json.dumps(e.to_dict(index, arch(e.dag))) + "\n")
            fh.flush()
        if progress is not None:
            progress(history, e)

    try:
        if executor is None:
            while len(history) < budget:
                asked = optimizer.ask(1)
                if not asked:
                    log.warning("the optimiser proposed nothing new; stopping after %d evaluations", len(history))
                    break
                record(_evaluate(objective, asked[0]))
        else:
            slots = _workers(executor, workers)
            in_flight: collections.deque[tuple[cf.Future, DAG]] = collections.deque()  # in ask order
            while len(history) + len(in_flight) < budget or in_flight:
                want = min(slots - len(in_flight), budget - len(history) - len(in_flight))
                if want > 0:
                    for dag in optimizer.ask(want):
                        in_flight.append((executor.submit(_evaluate, objective, dag), dag))
                if not in_flight:
                    log.warning("the optimiser proposed nothing new; stopping after %d evaluations", len(history))
                    break
                if ordered:
                    finished = [in_flight.popleft()]
                    cf.wait([finished[0][0]])
                else:
                    done, _ = cf.wait([f for f, _ in in_flight], return_when=cf.FIRST_COMPLETED)
                    finished = [item for item in in_flight if item[0] in done]  # ask order among the done
                    for item in finished:
                        in_flight.remove(item)
                for fut, dag in finished:
                    try:
                        e = fut.result()
                    except Exception as err:  # noqa: BLE001 - e.g. the objective could not be pickled
                        e = Evaluation(dag, float("nan"), 0.0, "failed", f"{type(err).__name__}: {err}")
                    record(e)
    finally:
        if fh is not None:
            fh.close()
    return history


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def _repair_tail(path: str) -> None:
    """Cut a half-written last line (one that does not parse, as :func:`read_journal` skips it), so that new
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
