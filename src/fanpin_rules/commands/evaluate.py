"""``fanpin evaluate``: a batch of households in, one decision per record out.

Inputs are JSON Lines, CSV (with ``--members``), XLSX or Parquet; the decisions file is
written in the format of the ``-o`` suffix, the rejected records beside it. Every record read
ends as a decision or a rejected record, and the closing line reconciles the counts. Nothing
is renamed into place until the whole batch is done: Ctrl-C or an error leaves the previous
output untouched. Formats, columns and exit codes: docs/batch.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from fanpin_rules.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    load_or_report,
    msg,
    out,
    parse_params,
    policy_opts,
)
from fanpin_rules.errors import HouseholdInputError, InputIssue

SHOWN_REJECTIONS = 20
"""Rejected records printed on stderr (the rejected file holds them all)."""


class Progress:
    """A one-line progress bar on a terminal; nothing at all in a pipe or a log file."""

    WIDTH = 24

    def __init__(self, stream: TextIO, enabled: bool, lang: str) -> None:
        self.stream = stream
        self.enabled = enabled
        self.lang = lang
        self.shown = False
        self._next = 0.0

    def update(self, count: int, fraction: float, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + 0.2
        filled = round(self.WIDTH * fraction)
        bar = "█" * filled + "░" * (self.WIDTH - filled)
        unit = "records" if self.lang == "en" else "户"
        self.stream.write(f"\r{bar} {fraction:4.0%}  {count:,} {unit}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def _shown(err: HouseholdInputError) -> HouseholdInputError:
    """The error for the terminal: each issue's field followed by its cell, when known."""
    from fanpin_rules.batch import LocatedIssue

    issues = []
    for i in err.issues:
        path = i.path
        if isinstance(i, LocatedIssue):
            if (i.source, i.row) != (err.source, err.row):
                path = f"{path} ({i.where()})"
            elif i.column and i.column != i.path.split("[", 1)[0]:
                path = f"{path} [{i.column}]"  # the column spelt another way (a label)
        issues.append(InputIssue(path, i.reason_zh, i.reason_en, i.hint_zh, i.hint_en))
    return HouseholdInputError(issues, err.household_id, err.source, err.row)


def _same_file(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def default_rejected_path(output: str) -> str:
    """``out/decisions.xlsx`` -> ``out/decisions.rejected.xlsx`` (same format as the output).

    >>> default_rejected_path("out/decisions.jsonl")
    'out/decisions.rejected.jsonl'
    """
    p = Path(output)
    return str(p.with_name(f"{p.stem}.rejected{p.suffix}"))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from fanpin_rules.batch import run_batch
    from fanpin_rules.batchio import (
        BatchIOError,
        DecisionWriter,
        RejectedWriter,
        file_format,
        open_inputs,
        reject_duplicates,
    )
    from fanpin_rules.policy import ParameterError
    from fanpin_rules.render import render_input_error

    lang = args.lang
    policy = load_or_report(args.policy, lang)
    if policy is None:
        return EXIT_FINDINGS
    params = parse_params(args)
    rejected_path = args.rejected or default_rejected_path(args.output)
    if args.jobs < 0:
        raise UsageError("--jobs: 进程数不能为负 / must be 0 (one per CPU) or more")
    try:
        file_format(args.output)
        file_format(rejected_path)
        for path in (args.output, rejected_path):
            for src in [*args.inputs, *([args.members] if args.members else [])]:
                if Path(src).exists() and _same_file(path, src):
                    raise UsageError(
                        f"{path}: 输出文件不能是输入文件 / the output would overwrite an input"
                    )
        if _same_file(args.output, rejected_path):
            raise UsageError(f"--rejected {rejected_path}: 与 -o 是同一个文件 / same file as -o")
        stream = open_inputs(
            policy,
            args.inputs,
            members=args.members,
            ignore_extra=args.ignore_extra,
            encoding=args.encoding,
        )
        decided_or_not = run_batch(
            policy,
            stream,
            args.as_of,
            params,
            trace=args.trace,
            ignore_extra=args.ignore_extra,
            workers=args.jobs,
        )
        outcomes = reject_duplicates(decided_or_not, stream.layout.key)
        results = DecisionWriter(args.output, policy, trace=args.trace)
    except (BatchIOError, ParameterError) as exc:
        raise UsageError(str(exc)) from None
    try:
        rejects = RejectedWriter(rejected_path, lang)
    except BatchIOError as exc:
        results.abort()
        raise UsageError(str(exc)) from None

    progress = Progress(sys.stderr, sys.stderr.isatty() and not args.quiet, lang)
    read = decided = rejected = ignored = 0
    try:
        for outcome in outcomes:
            read += 1
            value = outcome.value
            if isinstance(value, HouseholdInputError):
                rejected += 1
                rejects.write(value)
                if not args.quiet and rejected <= SHOWN_REJECTIONS:
                    progress.clear()
                    out(render_input_error(_shown(value), lang), sys.stderr)
            else:
                decided += 1
                ignored += len(value.ignored_keys)
                results.write(value, outcome)
            progress.update(read, stream.fraction)
    except BaseException as exc:
        progress.clear()
        close = getattr(decided_or_not, "close", None)
        if close is not None:
            close()  # stops worker processes, if any
        results.abort()
        rejects.abort()
        if isinstance(exc, BatchIOError):
            raise UsageError(exc.message) from None
        raise
    progress.update(read, 1.0, force=True)
    progress.clear()
    results.commit()
    rejects.commit()
    if not args.quiet and rejected > SHOWN_REJECTIONS:
        more = rejected - SHOWN_REJECTIONS
        out(
            msg(
                lang,
                f"… 另有 {more} 条拒收记录未逐条显示, 见 {rejected_path}",
                f"… {more} more rejected records not shown; see {rejected_path}",
            ),
            sys.stderr,
        )
    out(_summary(lang, read, decided, rejected, stream.orphan_rows, ignored, args), sys.stderr)
    return EXIT_FINDINGS if rejected and args.strict else EXIT_OK


def _summary(
    lang: str,
    read: int,
    decided: int,
    rejected: int,
    orphans: int,
    ignored: int,
    args: argparse.Namespace,
) -> str:
    rejected_path = args.rejected or default_rejected_path(args.output)
    if orphans:
        head_zh = f"读取 {read} 条 ({read - orphans} 户 + {orphans} 条找不到所属户的成员行)"
        head_en = f"read {read} ({read - orphans} households + {orphans} orphan member rows)"
    else:
        head_zh, head_en = f"读取 {read} 户", f"read {read}"
    zh = f"{head_zh} = 已判定 {decided} + 拒收 {rejected}; 结果: {args.output}"
    en = f"{head_en} = decided {decided} + rejected {rejected}; results: {args.output}"
    if rejected:
        zh += f"; 拒收记录: {rejected_path}"
        en += f"; rejected records: {rejected_path}"
    if ignored:
        zh += f"; 忽略未知字段 {ignored} 个"
        en += f"; {ignored} unknown keys ignored"
    return msg(lang, zh, en)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="批量评估 / evaluate households (JSON Lines, CSV, XLSX, Parquet)",
        description="批量评估: 每条输入记录要么得到一条判定, 要么写进拒收文件 / evaluate a batch: "
        "every record becomes a decision or a rejected record. See docs/batch.md.",
    )
    policy_opts(p)
    p.add_argument(
        "inputs", nargs="+", help="输入文件 .jsonl .csv .xlsx .parquet / input files (by suffix)"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="结果文件, 格式按后缀 / decisions file; format by suffix (.jsonl .csv .xlsx .parquet)",
    )
    p.add_argument(
        "--rejected",
        help="拒收记录文件 (默认: 结果文件名.rejected.后缀) / rejected records "
        "(default: OUTPUT-STEM.rejected.SUFFIX)",
    )
    p.add_argument(
        "--members",
        metavar="FILE",
        help="CSV 输入的家庭成员表 (按户编号关联) / the members table of CSV input, joined by "
        "household key",
    )
    p.add_argument(
        "--encoding",
        default="utf-8",
        help="CSV 文字编码, 如 gb18030 (默认 utf-8) / CSV text encoding (default utf-8)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="并行进程数, 0 = 每个 CPU 一个 (默认 1) / worker processes; 0 = one per CPU",
    )
    p.add_argument("--trace", action="store_true", help="输出完整追踪 / include full traces")
    p.add_argument("--ignore-extra", action="store_true", help="忽略未知字段 / ignore unknown keys")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="不显示进度和拒收明细 / no progress, no details"
    )
    p.add_argument("--strict", action="store_true", help="有拒收记录时退出码为 1")
    p.set_defaults(func=cmd_evaluate)
