"""``fanpin explain``: one household's decision, explained."""

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
from fanpin_rules.render import render_input_error, render_result_text


def cmd_explain(args: argparse.Namespace) -> int:
    policy = load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    try:
        data = json.loads(Path(args.household).read_text("utf-8-sig"), parse_float=Decimal)
    except OSError as exc:
        raise UsageError(f"{args.household}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.household}: JSON 格式错误 / invalid JSON: {exc}") from None
    try:
        result = policy.evaluate(data, args.as_of, parse_params(args))
    except HouseholdInputError as err:
        if err.source is None:
            err = HouseholdInputError(err.issues, err.household_id, args.household, None)
        out(render_input_error(err, args.lang), sys.stderr)
        return EXIT_FINDINGS
    if args.rule and args.rule not in policy.rule_ids:
        from fanpin_rules.suggest import did_you_mean

        hz, he = did_you_mean(args.rule, policy.rule_ids)
        raise UsageError(
            msg(args.lang, f"没有规则 {args.rule}. {hz}", f"no rule {args.rule}. {he}")
        )
    if args.format == "json":
        out(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        out(render_result_text(result, args.lang, args.rule))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="解释一户的判定 / explain one household")
    policy_opts(p)
    p.add_argument("household")
    p.add_argument("--rule")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)
