"""``fanpin explain``: one household's decision, explained.

Text for the terminal (Chinese by default), Markdown, a single-file HTML page, or the
JSON document (the result with its trace and its input, replayable with
``fanpin replay``).  Personal data is masked unless ``--show-pii``.
"""

from __future__ import annotations

import argparse
import json
import sys
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
from fanpin_rules.errors import HouseholdInputError
from fanpin_rules.explain import FORMATS, explain_document, render
from fanpin_rules.render import render_input_error


def read_household(path: str, household_id: str | None, lang: str) -> dict[str, Any]:
    """One household record from a JSON file, or from a JSON Lines file by ``--id``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(
            msg(lang, f"{path}: 文件不是 UTF-8 编码", f"{path}: the file is not UTF-8 text")
        ) from None
    records: list[Any] = []
    try:
        records = [json.loads(text, parse_float=Decimal)]
    except json.JSONDecodeError as whole:
        try:
            records = [
                json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()
            ]
        except json.JSONDecodeError:
            raise UsageError(
                f"{path}: JSON 格式错误 / invalid JSON: {whole.msg} "
                f"(line {whole.lineno}, col {whole.colno})"
            ) from None
    if household_id is not None:
        found = [
            r for r in records if isinstance(r, dict) and r.get("household_id") == household_id
        ]
        if not found:
            raise UsageError(
                msg(
                    lang,
                    f"{path} 里没有户编号为 {household_id} 的记录",
                    f"{path} has no record with household_id {household_id}",
                )
            )
        return dict(found[0])
    if len(records) != 1:
        raise UsageError(
            msg(
                lang,
                f"{path} 有 {len(records)} 条记录: 用 --id 户编号 选一户",
                f"{path} holds {len(records)} records: pick one with --id HOUSEHOLD_ID",
            )
        )
    if not isinstance(records[0], dict):
        raise UsageError(
            msg(lang, f"{path}: 需要一个 JSON 对象 (一户)", f"{path}: expected a JSON object")
        )
    return dict(records[0])


def cmd_explain(args: argparse.Namespace) -> int:
    policy = load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    data = read_household(args.household, args.id, args.lang)
    if args.rule and args.rule not in policy.rule_ids:
        from fanpin_rules.suggest import did_you_mean

        hz, he = did_you_mean(args.rule, policy.rule_ids)
        raise UsageError(
            msg(args.lang, f"没有规则 {args.rule}. {hz}", f"no rule {args.rule}. {he}").strip()
        )
    try:
        result = policy.evaluate(
            data, args.as_of, parse_params(args), ignore_extra=args.ignore_extra
        )
    except HouseholdInputError as err:
        if err.source is None:
            err = HouseholdInputError(err.issues, err.household_id, args.household, None)
        out(render_input_error(err, args.lang), sys.stderr)
        return EXIT_FINDINGS
    doc = explain_document(result, household=data, policy=policy, show_pii=args.show_pii)
    text = render(doc, args.format, args.lang, args.rule)
    if args.output:
        try:
            Path(args.output).write_text(text, "utf-8")
        except OSError as exc:
            raise UsageError(f"{args.output}: {exc.strerror}") from None
        out(msg(args.lang, f"已写出 {args.output}", f"wrote {args.output}"), sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help="解释一户的判定 / explain one household's decision",
        description="解释一户的判定: 成立的结论及依据、待定的结论及缺少的输入、计算过程、"
        "未成立的规则及原因、使用的参数。敏感信息默认遮蔽。 / Explain one household's "
        "decision; personal data is masked unless --show-pii.",
    )
    policy_opts(p)
    p.add_argument("household", help="户数据 JSON 文件 (或 JSONL 加 --id; - 为标准输入)")
    p.add_argument("--id", help="从 JSONL 文件中按户编号选一户 / pick a household by id")
    p.add_argument("--rule", help="只详细说明这一条规则 / explain one rule in full")
    p.add_argument(
        "--format", choices=FORMATS, default="text", help="text | md | html | json (可重放)"
    )
    p.add_argument(
        "--show-pii",
        dest="show_pii",
        action="store_true",
        help="显示身份证号、电话、姓名原文 (默认遮蔽) / show personal data unmasked",
    )
    p.add_argument("-o", "--output", help="写到文件 / write to a file")
    p.add_argument("--ignore-extra", action="store_true", help="忽略未知字段 / ignore unknown keys")
    p.set_defaults(func=cmd_explain)
