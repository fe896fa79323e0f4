"""``fanpin report``: the batch audit report, one self-contained HTML file."""

from __future__ import annotations

import argparse
import sys
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
    write_atomic,
)
from fanpin_rules.report import (
    VIOLATIONS,
    ReportError,
    render_report,
    report_from_decisions,
    report_from_households,
)


def _write(path: str, text: str) -> None:
    """Never a half-written report."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def cmd_report(args: argparse.Namespace) -> int:
    policy = None
    if args.policy:
        policy = load_or_report(args.policy, args.lang)
        if policy is None:
            return EXIT_FINDINGS
    for path in [*args.inputs, *(args.households or [])]:
        if not Path(path).is_file():
            raise UsageError(msg(args.lang, f"{path}: 找不到文件", f"{path}: no such file"))
    try:
        if args.decisions:
            if args.as_of or args.param or args.params_file:
                raise UsageError(
                    msg(
                        args.lang,
                        "--decisions 读取已有的判定: 评估日期和参数已定, 不能再用 --as-of/--param",
                        "--decisions reads decisions already made: --as-of/--param do not apply",
                    )
                )
            report = report_from_decisions(
                args.inputs,
                households=args.households or (),
                policy=policy,
                sumu=args.sumu,
                gacha=args.gacha,
                show_pii=args.show_pii,
            )
        else:
            if policy is None:
                raise UsageError(
                    msg(
                        args.lang,
                        "需要 --policy (或用 --decisions 读取 fanpin evaluate --trace 的结果)",
                        "--policy is required (or read fanpin evaluate --trace output with "
                        "--decisions)",
                    )
                )
            report = report_from_households(
                policy,
                args.inputs,
                as_of=args.as_of,
                params=parse_params(args),
                sumu=args.sumu,
                gacha=args.gacha,
                show_pii=args.show_pii,
                ignore_extra=args.ignore_extra,
                lang=args.lang,
            )
    except ReportError as exc:
        raise UsageError(exc.message) from None
    _write(args.output, render_report(report, args.lang))
    violations = sum(1 for e in report.entries if any(v[0] in e.fired for v in VIOLATIONS))
    out(
        msg(
            args.lang,
            f"审计报告: {args.output} (读取 {report.read} 户 = 已判定 {len(report.entries)} + "
            f"拒收 {len(report.rejected)}; 有违规情形 {violations} 户)",
            f"audit report: {args.output} (read {report.read} = decided "
            f"{len(report.entries)} + rejected {len(report.rejected)}; {violations} with a "
            "violation)",
        ),
        sys.stderr,
    )
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="批量审计报告 (单个 HTML 文件) / batch audit report (one HTML file)",
        description="一个苏木或全旗的审计报告: 各结论和各嘎查户数、违规情形、建议事项、数据质量、"
        "收入分布和各嘎查图表, 每户链接到说明。 / The audit report of a sumu or the whole "
        "banner, as one self-contained HTML file.",
    )
    p.add_argument("inputs", nargs="+", help="户数据 JSONL (或 --decisions: 判定结果 JSONL)")
    p.add_argument("-o", "--output", required=True, help="报告文件 (.html)")
    policy_opts(p, required=False, policy_help="政策文件或内置政策名 (读户数据时必填)")
    p.add_argument(
        "--decisions",
        action="store_true",
        help="输入是 fanpin evaluate --trace 写出的判定结果 / inputs are decisions",
    )
    p.add_argument(
        "--households",
        action="append",
        help="判定对应的户数据 (取苏木、嘎查; 可重复) / household records for the decisions",
    )
    p.add_argument("--sumu", help="只报告这个苏木乡镇 / only this sumu")
    p.add_argument("--gacha", help="只报告这个嘎查村 / only this gacha")
    p.add_argument(
        "--show-pii",
        dest="show_pii",
        action="store_true",
        help="显示身份证号、电话、姓名原文 (默认遮蔽) / show personal data unmasked",
    )
    p.add_argument("--ignore-extra", action="store_true", help="忽略未知字段 / ignore unknown keys")
    p.set_defaults(func=cmd_report)
