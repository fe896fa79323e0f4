"""``fanpin evaluate``: a batch of households in, one decision per record out."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from fanpin_rules.render import render_input_error


def read_records(path: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed record or None, error) for each non-blank line of a JSONL file."""
    try:
        handle = open(path, encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line, parse_float=Decimal), None
            except json.JSONDecodeError as exc:
                yield lineno, None, f"JSON 格式错误 / invalid JSON: {exc.msg} (col {exc.colno})"


class AtomicWriter:
    """Write to a temporary file beside the target; rename into place on success."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        self.tmp = Path(tmp)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def write_json(self, obj: Any) -> None:
        self.handle.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def cmd_evaluate(args: argparse.Namespace) -> int:

    policy = load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    params = parse_params(args)
    as_of = args.as_of
    results = AtomicWriter(args.output)
    rejected_path = args.rejected or str(Path(args.output).with_suffix("")) + ".rejected.jsonl"
    rej = AtomicWriter(rejected_path)
    read = decided = rejected = 0
    try:
        from fanpin_rules.policy import _as_date

        when = _as_date(as_of) if as_of else policy.default_as_of
        bindings = policy.resolve_params(when, params)
        for src in args.inputs:
            for lineno, record, error in read_records(src):
                read += 1
                try:
                    if error is not None:
                        raise HouseholdInputError([InputIssue("", error, error)], None, src, lineno)
                    hh = policy.validate(
                        record, source=src, row=lineno, ignore_extra=args.ignore_extra
                    )
                    result = policy.evaluate_validated(hh, when, bindings, trace=args.trace)
                except HouseholdInputError as err:
                    rejected += 1
                    if err.source is None:
                        err = HouseholdInputError(err.issues, err.household_id, src, lineno)
                    rej.write_json(err.to_json(args.lang))
                    if not args.quiet:
                        out(render_input_error(err, args.lang), sys.stderr)
                    continue
                decided += 1
                data = result.to_json(trace=args.trace)
                if not args.trace:
                    data = {
                        "household_id": data["household_id"],
                        "values": data["values"],
                        "fired": data["fired"],
                        "undetermined": data["undetermined"],
                        "as_of": data["as_of"],
                        "policy": data["policy"],
                        "params": data["params"],
                    }
                results.write_json(data)
    except BaseException:
        results.abort()
        rej.abort()
        raise
    results.commit()
    rej.commit()
    out(
        msg(
            args.lang,
            f"读取 {read} 户 = 已判定 {decided} + 拒收 {rejected}; 结果: {args.output}"
            + (f"; 拒收记录: {rejected_path}" if rejected else ""),
            f"read {read} = decided {decided} + rejected {rejected}; results: {args.output}"
            + (f"; rejected records: {rejected_path}" if rejected else ""),
        ),
        sys.stderr,
    )
    return EXIT_FINDINGS if rejected and args.strict else EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="批量评估 / evaluate households (JSON Lines)")
    policy_opts(p)
    p.add_argument("inputs", nargs="+", help="输入 JSONL 文件 / input files")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--rejected", help="拒收记录文件 / where rejected records go")
    p.add_argument("--trace", action="store_true", help="输出完整追踪 / include full traces")
    p.add_argument("--ignore-extra", action="store_true", help="忽略未知字段 / ignore unknown keys")
    p.add_argument("--quiet", "-q", action="store_true")
    p.add_argument("--strict", action="store_true", help="有拒收记录时退出码为 1")
    p.set_defaults(func=cmd_evaluate)
