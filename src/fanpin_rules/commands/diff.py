"""``fanpin diff``: what a new version of a policy changes, in its text and for real
households; ``--sweep`` counts the households per conclusion for each value of one
parameter and draws a chart.

    fanpin diff OLD.policy NEW.policy --households H.jsonl
    fanpin diff OLD.policy NEW.policy --households H.jsonl --sweep 监测收入基准=7800..9000:100
    fanpin diff POLICY --households H.jsonl --sweep 监测收入基准=7800..9000:100

With ``--sweep`` the sweep runs on the last policy named (NEW, or the only one).
Exit status: 0 (the report is information, not findings), 1 when a policy does not
load, 2 for bad options or missing files.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from fanpin_rules.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    load_or_report,
    msg,
    out,
    write_atomic,
)


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--as-of {text}: 日期写作 YYYY-MM-DD / write the date as YYYY-MM-DD"
        ) from None


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(
            f"--chart {path}: 无法写入图表 / cannot write the chart: {exc.strerror}"
        ) from None


def cmd_diff(args: argparse.Namespace) -> int:
    from fanpin_rules.batchio import BatchIOError
    from fanpin_rules.policy import ParameterError
    from fanpin_rules.policydiff import (
        SweepError,
        compare_households,
        compare_texts,
        parse_sweep,
        read_records,
        render_impact,
        render_sweep,
        render_text_changes,
        sweep,
        sweep_svg,
    )

    lang = args.lang
    names = args.policies
    if len(names) > 2:
        raise UsageError("最多两个政策: 旧的和新的 / at most two policies: the old and the new")
    if len(names) == 1 and not args.sweep:
        raise UsageError(
            "比较需要两个政策 (旧的和新的); 只给一个政策时要用 --sweep / "
            "a comparison needs two policies (old and new); with one, use --sweep"
        )
    if args.max_groups < 1:
        raise UsageError("--max-groups: 至少为 1 / must be at least 1")
    as_of = _as_of(args.as_of)
    only = tuple(p.strip() for p in (args.only or "").split(",") if p.strip())
    sweep_spec = None
    if args.sweep and Path(args.chart).is_dir():
        raise UsageError(
            f"--chart {args.chart}: 这是文件夹, 请写图表的文件名 / a folder; name the chart file"
        )
    if args.sweep:
        try:
            sweep_spec = parse_sweep(args.sweep)
        except SweepError as exc:
            raise UsageError(exc.message) from None
    policies = []
    for name in names:
        policy = load_or_report(name, lang)
        if policy is None:
            return EXIT_FINDINGS
        policies.append(policy)
    try:
        records = read_records(args.households, policies[-1])
    except (BatchIOError, OSError) as exc:
        raise UsageError(f"--households {args.households}: {exc}") from None
    if len(policies) == 2:
        old, new = policies
        out(render_text_changes(compare_texts(old, new), lang))
        out("")
        impact = compare_households(old, new, records, as_of=as_of, only=only)
        out(render_impact(impact, old, new, lang=lang, max_groups=args.max_groups))
        later = _later_values(new, impact.as_of_new)
        if later:
            out("")
            out(
                msg(
                    lang,
                    f"注意: 新政策有评估日期 {impact.as_of_new} 之后才生效的参数值 "
                    f"({later}); 用 --as-of 查看它们的影响",
                    f"note: the new policy has parameter values that take effect after "
                    f"{impact.as_of_new} ({later}); use --as-of to see their effect",
                )
            )
    if sweep_spec is not None:
        name, values = sweep_spec
        try:
            result = sweep(policies[-1], records, name, values, as_of=as_of, only=only)
        except (SweepError, ParameterError) as exc:
            raise UsageError(str(exc)) from None
        if len(policies) == 2:
            out("")
        out(render_sweep(result, lang))
        chart = Path(args.chart)
        _write(chart, sweep_svg(result, lang))
        out(msg(lang, f"图表: {chart}", f"chart: {chart}"))
    return EXIT_OK


def _later_values(policy: Any, as_of: dt.date) -> str:
    found = []
    for name, decl in policy.model.params.items():
        for v in decl.values:
            if v.effective > as_of:
                found.append(f"{name} {v.effective}")
    return ", ".join(found[:5]) + (" …" if len(found) > 5 else "")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help="比较两个政策版本对各户判定的影响 / what a policy change does to households",
        description="比较两个政策版本: 规则和参数的文字变化, 以及哪些户的结论变了 (按变化分组, "
        "每组举一户说明原因); --sweep 对一个参数的一系列取值统计各结论的户数并画图。 / "
        "Compare two versions of a policy on real households; --sweep one parameter.",
    )
    p.add_argument(
        "policies",
        nargs="+",
        metavar="POLICY",
        help="旧政策 新政策 (只做 --sweep 时可只给一个) / OLD NEW (one is enough for --sweep)",
    )
    p.add_argument(
        "--households",
        required=True,
        metavar="FILE",
        help="各户数据 (与 fanpin evaluate 相同的格式) / household records",
    )
    p.add_argument(
        "--as-of",
        dest="as_of",
        metavar="YYYY-MM-DD",
        help="评估日期 (默认: 各政策标题里的日期) / evaluation date (default: each header's)",
    )
    p.add_argument(
        "--sweep",
        metavar="NAME=LOW..HIGH:STEP",
        help="参数扫描, 例如 监测收入基准=7800..9000:100 / sweep one parameter",
    )
    p.add_argument(
        "--chart",
        default="fanpin-sweep.svg",
        metavar="FILE.svg",
        help="参数扫描图表写到哪里 (默认 fanpin-sweep.svg) / where the sweep chart goes",
    )
    p.add_argument(
        "--only",
        metavar="PREFIX,…",
        help="只看这些编号开头的结论, 例如 ID-,RB- / only conclusions with these id prefixes",
    )
    p.add_argument(
        "--max-groups",
        type=int,
        default=20,
        metavar="N",
        help="最多显示多少种变化 (默认 20) / how many kinds of change to show",
    )
    p.set_defaults(func=cmd_diff)
