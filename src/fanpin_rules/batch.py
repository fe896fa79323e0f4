"""Evaluate many households: results in input order, optionally across processes.

:func:`evaluate_batch` is what an integrator calls with an iterable of household records; it
yields one item per record, in the same order: a :class:`~fanpin_rules.policy.Result`, or the
:class:`~fanpin_rules.errors.HouseholdInputError` that rejects the record. A bad record never
stops the batch; a failure of the engine itself (:class:`~fanpin_rules.errors.EvaluationError`)
does, naming the record.

>>> from fanpin_rules import load_policy
>>> policy = load_policy("examples/language_tour.policy")
>>> records = [
...     {"household_id": "H-1", "size": 2, "income": "16000", "members": [{"age": 40}]},
...     {"household_id": "H-2", "size": 0, "income": "100", "members": [{"age": 40}]},
... ]
>>> for item in evaluate_batch(policy, records):
...     print(type(item).__name__, item.household_id)
Result H-1
HouseholdInputError H-2

With ``workers=2`` the records are sent in chunks to two worker processes (forked from the
caller, or, with ``spawn``, each loading the policy from its file and checking its content
hash); the results come back in input order, equal to evaluating the records one by one.

:func:`run_batch` is the same loop for the ``fanpin evaluate`` command: it also accepts
:class:`InputRecord` items (a record with where it came from and the problems a file reader
already found) and yields :class:`Outcome` items carrying :func:`input_digest` of each decided
record, the fingerprint an auditor uses to regenerate the explanation later (docs/batch.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any

import attrs

from fanpin_rules.errors import EvaluationError, HouseholdInputError, InputIssue

if TYPE_CHECKING:
    from fanpin_rules.evaluator import ParamBinding
    from fanpin_rules.household import Household
    from fanpin_rules.policy import Policy, Result

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "InputRecord",
    "LocatedIssue",
    "Origin",
    "Outcome",
    "evaluate_batch",
    "input_digest",
    "run_batch",
]

DEFAULT_CHUNK_SIZE = 256
"""Records per task sent to a worker process: large enough to amortise pickling."""


@attrs.frozen
class LocatedIssue(InputIssue):
    """An :class:`InputIssue` that also says where in a file the bad value is.

    ``source`` is the file (``hh.xlsx[家庭成员]`` for a sheet), ``row`` the 1-based row in
    it, ``column`` the column header as written in the file.
    """

    source: str | None = None
    row: int | None = None
    column: str | None = None

    def where(self) -> str:
        """``members.csv:7 [age]``: file, row and column, for messages.

        >>> LocatedIssue("members[0].age", "x", "x", source="m.csv", row=7, column="年龄").where()
        'm.csv:7 [年龄]'
        """
        text = self.source or ""
        if self.row is not None:
            text += f":{self.row}"
        if self.column:
            text += f" [{self.column}]"
        return text.strip()


@attrs.frozen
class Origin:
    """Where one part of a record came from in a tabular file.

    ``prefix`` is the JSON path of the part (``""`` for the household row itself,
    ``"members[2]"`` for a row of the members table); ``columns`` maps a JSON path below the
    prefix (``"monitoring.identified_on"``) to the column header that holds it.
    """

    prefix: str
    source: str
    row: int
    columns: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False)

    def covers(self, path: str) -> bool:
        if not self.prefix:
            return True
        return path == self.prefix or path.startswith((self.prefix + ".", self.prefix + "["))

    def locate(self, issue: InputIssue) -> LocatedIssue:
        rest = issue.path[len(self.prefix) :].lstrip(".") if self.prefix else issue.path
        column = self.columns.get(_strip_indexes(rest)) if rest else None
        return LocatedIssue(
            issue.path,
            issue.reason_zh,
            issue.reason_en,
            issue.hint_zh,
            issue.hint_en,
            self.source,
            self.row,
            column,
        )


def _strip_indexes(path: str) -> str:
    """``risk_types[1]`` -> ``risk_types``: a list lives in one cell."""
    out = []
    depth = 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


@attrs.frozen
class InputRecord:
    """One household record as a file reader found it.

    ``data`` is the JSON object; ``source`` and ``row`` say where it starts; ``issues`` are
    problems the reader already found (a cell that is not a number, ...), reported together
    with the schema's own; ``origins`` map the parts of a record assembled from several
    rows (a household row and its members rows) back to their rows and columns.
    """

    data: object
    source: str | None = None
    row: int | None = None
    issues: tuple[InputIssue, ...] = ()
    origins: tuple[Origin, ...] = ()

    def locate(self, issue: InputIssue) -> InputIssue:
        """The issue with the file, row and column it concerns, when known."""
        if isinstance(issue, LocatedIssue) or not self.origins:
            return issue
        best = max(
            (o for o in self.origins if o.covers(issue.path)),
            key=lambda o: len(o.prefix),
            default=None,
        )
        return issue if best is None else best.locate(issue)


@attrs.frozen
class Outcome:
    """What became of one input record: a decision, or the error that rejects it.

    ``digest`` is :func:`input_digest` of the validated record (``None`` when rejected).
    """

    value: Result | HouseholdInputError
    source: str | None
    row: int | None
    digest: str | None = None


def input_digest(household: Household) -> str:
    """A fingerprint of a validated household: ``sha256:`` + hex of its canonical JSON.

    Canonical JSON: the normalised values (defaults filled in, absent optional fields left
    out), keys sorted, no spaces, UTF-8; decimals without trailing zeros (``8300.00`` and
    ``8300`` are the same amount), dates ``YYYY-MM-DD``. The same household gives the same
    digest whether it came from JSON Lines, CSV, XLSX or Parquet.

    >>> from fanpin_rules import load_policy
    >>> policy = load_policy("examples/language_tour.policy")
    >>> a = policy.validate({"household_id": "H", "size": 2, "income": "8300.00",
    ...                      "members": [{"age": 40}]})
    >>> b = policy.validate({"household_id": "H", "size": 2, "income": 8300,
    ...                      "members": [{"age": 40}]})
    >>> input_digest(a) == input_digest(b), input_digest(a)[:7]
    (True, 'sha256:')
    """
    text = _CANONICAL.encode(household.data)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_scalar(v: object) -> str:
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v else "0"
    if isinstance(v, dt.date):
        return v.isoformat()
    raise TypeError(f"not a household value: {type(v).__name__}")


# the C encoder walks dicts, lists and tuples; only decimals and dates call back into Python
_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical_scalar
)


# ---------------------------------------------------------------- one record


class _Job:
    """Everything needed to decide one record; built once per process."""

    def __init__(
        self,
        policy: Policy,
        as_of: dt.date | str | None,
        params: Mapping[str, Any] | None,
        trace: bool,
        ignore_extra: bool,
    ) -> None:
        from fanpin_rules.policy import _as_date

        self.policy = policy
        self.as_of = _as_date(as_of) if as_of is not None else policy.default_as_of
        self.bindings: Mapping[str, ParamBinding] = policy.resolve_params(self.as_of, params)
        self.trace = trace
        self.ignore_extra = ignore_extra

    def decide(self, index: int, item: object) -> Outcome:
        if isinstance(item, HouseholdInputError):
            return Outcome(item, item.source, item.row)
        rec = item if isinstance(item, InputRecord) else InputRecord(item, None, index)
        try:
            hh = self.policy.validate(
                rec.data, source=rec.source, row=rec.row, ignore_extra=self.ignore_extra
            )
        except HouseholdInputError as err:
            issues = [rec.locate(i) for i in (*rec.issues, *err.issues)]
            return Outcome(
                HouseholdInputError(issues, err.household_id, rec.source, rec.row),
                rec.source,
                rec.row,
            )
        if rec.issues:
            issues = [rec.locate(i) for i in rec.issues]
            error = HouseholdInputError(issues, hh.household_id, rec.source, rec.row)
            return Outcome(error, rec.source, rec.row)
        try:
            result = self.policy.evaluate_validated(hh, self.as_of, self.bindings, trace=self.trace)
        except Exception as exc:  # an engine failure: stop the batch, naming the record
            where = f"{rec.source}:{rec.row}" if rec.source else f"record {rec.row}"
            who = hh.household_id or "?"
            message = exc.message if isinstance(exc, EvaluationError) else repr(exc)
            raise EvaluationError(
                f"{where} (户 {who}): 评估失败 / evaluation failed: {message}",
                exc.span if isinstance(exc, EvaluationError) else None,
            ) from exc
        return Outcome(result, rec.source, rec.row, input_digest(hh))


# ---------------------------------------------------------------- worker processes

_WORKER_JOB: _Job | None = None  # one per worker process, set by _init_worker


def _init_worker(
    path: str,
    content_hash: str,
    as_of: dt.date | str | None,
    params: Mapping[str, Any] | None,
    trace: bool,
    ignore_extra: bool,
) -> None:
    """Load the policy in a worker process; Ctrl-C is the parent's to handle."""
    global _WORKER_JOB
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from fanpin_rules.policy import load_policy

    policy = load_policy(path)
    if policy.content_hash != content_hash:
        raise EvaluationError(
            f"政策文件 {path} 在批量评估期间被修改 / the policy file {path} changed during the "
            f"batch ({policy.content_hash[:19]} != {content_hash[:19]})"
        )
    _WORKER_JOB = _Job(policy, as_of, params, trace, ignore_extra)


def _init_forked_worker(job: _Job) -> None:
    """A forked worker inherits the parent's loaded policy: nothing to load."""
    global _WORKER_JOB
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_JOB = job


def _context(start_method: str | None) -> tuple[BaseContext, bool]:
    """The multiprocessing context, and whether workers are forked.

    By default: ``fork`` where the platform has it and the parent runs a single thread (the
    workers then share the loaded policy, so they start at once), otherwise ``spawn`` (each
    worker loads the policy from its file).
    """
    if start_method is None:
        forkable = "fork" in multiprocessing.get_all_start_methods()
        start_method = "fork" if forkable and threading.active_count() == 1 else "spawn"
    if start_method not in ("fork", "spawn", "forkserver"):
        raise ValueError(f"start_method must be fork, spawn or forkserver, not {start_method!r}")
    return multiprocessing.get_context(start_method), start_method == "fork"


def _decide_chunk(chunk: list[tuple[int, object]]) -> list[Outcome]:
    job = _WORKER_JOB
    if job is None:  # pragma: no cover - the initializer always runs first
        raise EvaluationError("worker process not initialised")
    return [job.decide(i, item) for i, item in chunk]


def _parallel(
    job: _Job,
    items: Iterable[object],
    workers: int,
    chunk_size: int,
    as_of: dt.date | str | None,
    params: Mapping[str, Any] | None,
    start_method: str | None,
) -> Iterator[Outcome]:
    """Chunks to a process pool; at most two chunks per worker in flight; results in order."""
    policy = job.policy
    context, forked = _context(start_method)
    if forked:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_forked_worker,
            initargs=(job,),
        )
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(policy.path, policy.content_hash, as_of, params, job.trace, job.ignore_extra),
        )
    pending: deque[Future[list[Outcome]]] = deque()
    numbered = enumerate(items, 1)
    try:
        while True:
            chunk = list(itertools.islice(numbered, chunk_size))
            if chunk:
                pending.append(pool.submit(_decide_chunk, chunk))
            while pending and (not chunk or len(pending) >= 2 * workers):
                yield from pending.popleft().result()
            if not chunk:
                return
    except BrokenProcessPool as exc:
        raise EvaluationError(
            "一个工作进程意外退出 (内存不足?), 批量评估中止 / a worker process died "
            f"(out of memory?); the batch was stopped: {exc}"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- public entry points


def run_batch(
    policy: Policy,
    items: Iterable[InputRecord | Mapping[str, Any] | HouseholdInputError],
    as_of: dt.date | str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    trace: bool = False,
    ignore_extra: bool = False,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    start_method: str | None = None,
) -> Iterator[Outcome]:
    """Decide every item, yielding one :class:`Outcome` per item in input order.

    An item is a household record (a mapping), an :class:`InputRecord`, or a
    :class:`HouseholdInputError` a reader produced for an unreadable record, which is
    passed through at its position so that the counts reconcile. ``workers`` > 1 uses that
    many processes (0 means one per CPU), started with ``start_method`` (default: ``fork``
    where available in a single-threaded parent, else ``spawn``). Parameter overrides and
    ``as_of`` are checked before the first record is read
    (:class:`~fanpin_rules.policy.ParameterError`).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    job = _Job(policy, as_of, params, trace, ignore_extra)
    if workers == 0:
        workers = os.cpu_count() or 1
    if workers <= 1:
        return (job.decide(i, item) for i, item in enumerate(items, 1))
    return _parallel(job, items, workers, chunk_size, as_of, params, start_method)


def evaluate_batch(
    policy: Policy,
    records: Iterable[Mapping[str, Any] | InputRecord | HouseholdInputError],
    as_of: dt.date | str | None = None,
    params: Mapping[str, Any] | None = None,
    trace: bool = False,
    *,
    ignore_extra: bool = False,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    start_method: str | None = None,
) -> Iterator[Result | HouseholdInputError]:
    """Evaluate households in input order: a ``Result`` or a ``HouseholdInputError`` each.

    Each result equals ``policy.evaluate(record, as_of, params, trace=trace)``; a rejected
    record's error has ``row`` = its 1-based position in ``records`` (or the row of an
    :class:`InputRecord`). ``workers`` > 1 evaluates in that many processes, same order,
    same results; ``workers=0`` uses one per CPU. The iterator is lazy: records are read as
    results are consumed, so a batch of any size runs in bounded memory.
    """
    for outcome in run_batch(
        policy,
        records,
        as_of,
        params,
        trace=trace,
        ignore_extra=ignore_extra,
        workers=workers,
        chunk_size=chunk_size,
        start_method=start_method,
    ):
        yield outcome.value
