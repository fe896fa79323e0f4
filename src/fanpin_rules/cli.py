"""The ``fanpin`` command: wiring, renderer choice and exit codes only.

Exit status: 0 clean, 1 findings (diagnostics, failed examples; rejected records
with ``evaluate --strict``), 2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fanpin_rules.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    load_or_report,
    msg,
    out,
)
from fanpin_rules.errors import (
    Diagnostic,
    FanpinError,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
)
from fanpin_rules.render import render_diagnostics

_out = out
_msg = msg
_load_or_report = load_or_report


# ---------------------------------------------------------------- check


def _load_for_check(path: str) -> tuple[list[Diagnostic], dict[str, str]]:
    from fanpin_rules.check import run_checks
    from fanpin_rules.model import build_model
    from fanpin_rules.parser import load_modules
    from fanpin_rules.policy import find_policy

    try:
        modules, texts = load_modules(find_policy(path))
    except (PolicySyntaxError, PolicyCheckError) as exc:
        return list(exc.diagnostics), {}
    model, prior = build_model(modules)
    try:
        checked = run_checks(model, prior, texts=texts)
    except PolicyCheckError as exc:
        return list(exc.diagnostics), texts
    return list(checked.diagnostics), texts


def cmd_check(args: argparse.Namespace) -> int:
    all_diags: list[Diagnostic] = []
    json_out: list[dict[str, Any]] = []
    for path in args.files:
        try:
            diags, texts = _load_for_check(path)
        except PolicyLoadError as exc:
            raise UsageError(exc.message) from None
        shown = [d for d in diags if d.severity != "info" or args.verbose]
        all_diags.extend(diags)
        if args.format == "json":
            json_out.append({"file": path, "diagnostics": [d.to_json(args.lang) for d in shown]})
        elif shown:
            _out(render_diagnostics(shown, texts, args.lang))
            _out("")
    counted = [d for d in all_diags if d.severity in ("error", "warning")]
    if args.format == "json":
        _out(json.dumps(json_out, ensure_ascii=False, indent=2))
    else:
        errors = sum(1 for d in counted if d.severity == "error")
        warnings = len(counted) - errors
        if counted:
            _out(
                _msg(
                    args.lang,
                    f"{errors} 个错误, {warnings} 个警告",
                    f"{errors} error(s), {warnings} warning(s)",
                ),
                sys.stderr,
            )
        else:
            _out(_msg(args.lang, "检查通过, 没有发现问题", "clean: no problems found"), sys.stderr)
    return EXIT_FINDINGS if counted else EXIT_OK


# ---------------------------------------------------------------- test


def _policy_roots(paths: Sequence[str]) -> list[Path]:
    roots: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.policy")):
                text = f.read_text("utf-8-sig")
                if any(
                    line.lstrip().startswith(("policy ", "政策 ")) for line in text.splitlines()
                ):
                    roots.append(f)
        elif p.is_file():
            roots.append(p)
        else:
            raise UsageError(f"{p}: 找不到文件或文件夹 / no such file or folder")
    return roots


def cmd_test(args: argparse.Namespace) -> int:
    from fanpin_rules.testing import run_examples

    total_pass = total_fail = 0
    bad = False
    for root in _policy_roots(args.paths):
        policy = _load_or_report(str(root), args.lang)
        if policy is None:
            bad = True
            continue
        report = run_examples(policy)
        for o in report.outcomes:
            if not o.passed:
                failed = _msg(args.lang, "示例失败", "example failed")
                _out(f"{o.span.where()}: {failed} 「{o.title}」")
                for f in o.failures:
                    _out(f"    {f}")
        total_pass += report.passed
        total_fail += report.failed
        _out(
            _msg(
                args.lang,
                f"{root}: {len(report.outcomes)} 个示例, "
                f"{report.passed} 通过, {report.failed} 失败",
                f"{root}: {len(report.outcomes)} examples, {report.passed} passed, "
                f"{report.failed} failed",
            )
        )
        nf = report.never_fired()
        nn = report.never_not_fired()
        _out(
            _msg(args.lang, "  规则覆盖: ", "  rule coverage: ")
            + f"{len(policy.rule_ids) - len(nf)}/{len(policy.rule_ids)}"
            + _msg(args.lang, " 个规则编号在示例中成立过", " rule ids fired in some example")
        )
        if nf:
            _out(_msg(args.lang, "  从未成立: ", "  never fired: ") + ", ".join(nf))
        if nn:
            _out(_msg(args.lang, "  从未不成立: ", "  never not fired: ") + ", ".join(nn))
        if args.coverage:
            for rid in policy.rule_ids:
                _out(
                    f"    {rid}: "
                    + _msg(args.lang, "成立 ", "fired ")
                    + str(len(report.fired_in.get(rid, ())))
                    + _msg(args.lang, ", 不成立 ", ", not fired ")
                    + str(len(report.not_fired_in.get(rid, ())))
                )
    _out(f"{total_pass} passed, {total_fail} failed")
    return EXIT_FINDINGS if (total_fail or bad) else EXIT_OK


# ---------------------------------------------------------------- explain / schema / policies


def cmd_schema(args: argparse.Namespace) -> int:
    policy = _load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    _out(json.dumps(policy.schema.json_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_policies(args: argparse.Namespace) -> int:
    from fanpin_rules.policy import shipped_policies

    for name in shipped_policies():
        _out(name)
    return EXIT_OK


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fanpin",
        description="fanpin_rules: 防止返贫监测政策规则引擎 / "
        "a rules engine with explained decisions",
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="消息语言 / language")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="检查政策文件 / check policy files")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--verbose", "-v", action="store_true", help="也显示提示 / show notes too")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("test", help="运行政策里的示例 / run a policy's examples")
    p.add_argument("paths", nargs="+")
    p.add_argument("--coverage", action="store_true", help="列出每个规则的覆盖次数")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("schema", help="输出输入数据的 JSON Schema")
    p.add_argument("--policy", required=True)
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("policies", help="列出内置政策 / list shipped policies")
    p.set_defaults(func=cmd_policies)

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(sub)
    # every subcommand also accepts --lang after its name (fanpin check --lang en …)
    for choice in sub.choices.values():
        choice.add_argument(
            "--lang", choices=("zh", "en"), default=argparse.SUPPRESS, help="消息语言 / language"
        )
    return parser


# Commands that live in their own modules: each module has ``register(subparsers)``
# which adds its parser and sets ``func``.  One line per module.
COMMAND_MODULES: tuple[str, ...] = (
    "fanpin_rules.commands.evaluate",
    "fanpin_rules.commands.explain",
    "fanpin_rules.commands.batch_columnar",
    "fanpin_rules.commands.doc",
    "fanpin_rules.commands.xlsx",
    "fanpin_rules.commands.import_dmn",
    "fanpin_rules.commands.report",
    "fanpin_rules.commands.replay",
    "fanpin_rules.commands.fmt",
    "fanpin_rules.commands.diff",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    for name in ("lang",):
        if not hasattr(args, name):
            setattr(args, name, "zh")
    try:
        return int(args.func(args))
    except UsageError as exc:
        _out(f"fanpin: {exc}", sys.stderr)
        return EXIT_USAGE
    except FanpinError as exc:
        _out(f"fanpin: {exc}", sys.stderr)
        return EXIT_FINDINGS
    except KeyboardInterrupt:
        _out(
            _msg(args.lang, "已中断; 没有写出不完整的文件", "interrupted; no partial output"),
            sys.stderr,
        )
        return 130
