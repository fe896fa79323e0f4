"""``fanpin doc``: a policy's reference page (rules, parameters, input contract)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fanpin_rules.commands import EXIT_FINDINGS, EXIT_OK, load_or_report, out


def cmd_doc(args: argparse.Namespace) -> int:
    from fanpin_rules.policydoc import policy_markdown

    policy = load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    page = policy_markdown(policy)
    if args.output:
        Path(args.output).write_text(page, "utf-8")
    else:
        out(page.rstrip("\n"))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("doc", help="生成政策说明页 (Markdown) / a policy's reference page")
    p.add_argument("--policy", required=True, help="政策文件或内置政策名 / path or shipped name")
    p.add_argument("-o", "--output", help="写入文件 / write to this file")
    p.set_defaults(func=cmd_doc)
