"""``fanpin replay``: run saved results again and say whether they reproduce exactly."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from fanpin_rules.commands import EXIT_FINDINGS, EXIT_OK, UsageError, load_or_report, msg, out
from fanpin_rules.replay import ReplayError, ReplayOutcome, find_policy_by_hash, replay


def read_results(path: str) -> list[tuple[int, Any]]:
    """The saved results of a file: one JSON document, or JSON Lines (a decisions file)."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: 文件不是 UTF-8 编码 / the file is not UTF-8 text") from None
    try:
        return [(1, json.loads(text, parse_float=Decimal))]
    except json.JSONDecodeError:
        pass
    docs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            docs.append((lineno, json.loads(line, parse_float=Decimal)))
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{path}:{lineno}: JSON 格式错误 / invalid JSON: {exc.msg} (col {exc.colno})"
            ) from None
    return docs


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def describe(o: ReplayOutcome, lang: str, where: str) -> list[str]:
    """The outcome of one replay as lines of text."""
    who = f"{where} {o.household_id or '?'}".strip()
    short = (o.saved_hash or "?")[:19]
    if o.status == "reproduced":
        lines = [
            msg(lang, f"{who}: 完全重现 (政策 {short})", f"{who}: reproduced exactly ({short})")
        ]
    elif o.status == "differs":
        lines = [
            msg(
                lang,
                f"{who}: 不一致, {len(o.differences)} 处不同 (同一政策 {short})",
                f"{who}: differs in {len(o.differences)} places (same policy {short})",
            )
        ]
        lines += [f"    {d.path}: {_short(d.saved)} → {_short(d.replayed)}" for d in o.differences]
    elif o.status == "policy_changed":
        now = (o.current_hash or "?")[:19]
        lines = [
            msg(
                lang,
                f"{who}: 政策已变更 — 保存时 {o.saved_hash}, "
                f"现在 {o.current_hash} ({o.policy_path})",
                f"{who}: the policy changed — saved {o.saved_hash}, now {o.current_hash} "
                f"({o.policy_path})",
            )
        ]
        if o.under_current is None:
            lines.append(
                msg(
                    lang,
                    "    没有重新评估; 加 --against-current 查看现行政策下的差异",
                    "    not re-evaluated; add --against-current to see what the current "
                    "policy decides",
                )
            )
        else:
            lines.append(
                msg(
                    lang,
                    f"    在现行政策 {now} 下 (这不是重现): {len(o.under_current)} 处不同",
                    f"    under the current policy {now} (not a reproduction): "
                    f"{len(o.under_current)} differences",
                )
            )
            lines += [
                f"    {d.path}: {_short(d.saved)} → {_short(d.replayed)}" for d in o.under_current
            ]
    elif o.status == "policy_not_found":
        lines = [
            msg(
                lang,
                f"{who}: 找不到内容指纹为 {o.saved_hash} 的政策; 用 --policy 指定那一版政策文件",
                f"{who}: no policy with content hash {o.saved_hash}; name that version "
                "with --policy",
            )
        ]
    elif o.status == "input_changed":
        lines = [msg(lang, f"{who}: 输入已改变, 无法重放", f"{who}: the input changed")]
    else:
        lines = [
            msg(
                lang,
                f"{who}: 结果里没有保存户数据, 无法重放 (用 fanpin explain --format json 保存)",
                f"{who}: the result does not carry its household (save it with "
                "fanpin explain --format json)",
            )
        ]
    lines += [f"    {n}" for n in o.notes if n]
    return lines


def cmd_replay(args: argparse.Namespace) -> int:
    policy = None
    if args.policy:
        policy = load_or_report(args.policy, args.lang)
        if policy is None:
            return EXIT_FINDINGS
    found: dict[str, Any] = {}
    outcomes: list[ReplayOutcome] = []
    for path in args.results:
        for lineno, doc in read_results(path):
            where = path if lineno == 1 and len(args.results) == 1 else f"{path}:{lineno}"
            chosen = policy
            if chosen is None and isinstance(doc, dict):
                info = doc.get("policy") or {}
                key = str(info.get("hash"))
                if key not in found:
                    found[key] = find_policy_by_hash(key, info.get("name"))
                chosen = found[key]
            try:
                if chosen is None:
                    o = replay(doc, None)
                else:
                    o = replay(doc, chosen, against_current=args.against_current)
            except ReplayError as exc:
                raise UsageError(f"{where}: {exc.message}") from None
            outcomes.append(o)
            if args.format == "json":
                out(json.dumps({"where": where, **o.to_json()}, ensure_ascii=False))
            else:
                for line in describe(
                    o, args.lang, where if len(args.results) > 1 or lineno > 1 else ""
                ):
                    out(line)
    counts = {
        s: sum(1 for o in outcomes if o.status == s)
        for s in (
            "reproduced",
            "differs",
            "policy_changed",
            "policy_not_found",
            "input_changed",
            "no_input",
        )
    }
    cannot = counts["policy_not_found"] + counts["input_changed"] + counts["no_input"]
    out(
        msg(
            args.lang,
            f"重放 {len(outcomes)} 个结果: 完全重现 {counts['reproduced']}, 不一致 "
            f"{counts['differs']}, 政策已变更 {counts['policy_changed']}, 无法重放 {cannot}",
            f"replayed {len(outcomes)}: reproduced {counts['reproduced']}, differ "
            f"{counts['differs']}, policy changed {counts['policy_changed']}, cannot replay "
            f"{cannot}",
        ),
        sys.stderr,
    )
    return EXIT_OK if outcomes and counts["reproduced"] == len(outcomes) else EXIT_FINDINGS


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="重放保存的判定结果 / re-run saved results and compare",
        description="用同一版政策 (按内容指纹)、同样的参数、评估日期和户数据重新判定, 说明是否完全"
        "重现; 政策已变更时只报告变更, 不静默重新评估。 / Re-run saved results with the same "
        "policy (by content hash), parameters, date and household; a changed policy is "
        "reported, not silently re-evaluated.",
    )
    p.add_argument(
        "results", nargs="+", help="保存的结果: explain --format json 的文件, 或 evaluate 的 JSONL"
    )
    p.add_argument("--policy", help="政策文件或内置政策名 (默认: 找内容指纹相同的内置政策)")
    p.add_argument(
        "--against-current",
        dest="against_current",
        action="store_true",
        help="政策已变更时, 列出现行政策下的差异 (不是重现) / show what the changed policy decides",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_replay)
