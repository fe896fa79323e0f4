"""The ``fanpin`` command: wiring, renderer choice and exit codes only.

Exit status: 0 clean, 1 findings (diagnostics, failed examples, rejected records),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from fanpin_rules.errors import (
    Diagnostic,
    FanpinError,
    HouseholdInputError,
    InputIssue,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
)
from fanpin_rules.render import render_diagnostics, render_input_error, render_result_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


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
        checked = run_checks(model, prior)
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


# ---------------------------------------------------------------- evaluate


def _parse_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if getattr(args, "params_file", None):
        try:
            loaded = json.loads(Path(args.params_file).read_text("utf-8"), parse_float=Decimal)
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"--params-file {args.params_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError(
                f"--params-file {args.params_file}: 需要一个 JSON 对象 / a JSON object"
            )
        source = loaded.pop("_source", f"参数文件 {args.params_file}")
        for k, v in loaded.items():
            params[k] = v if isinstance(v, dict) else {"value": v, "source": source}
    for item in getattr(args, "param", None) or []:
        if "=" not in item:
            raise UsageError(f"--param {item}: 写作 名称=值 / write NAME=VALUE")
        k, v = item.split("=", 1)
        params[k.strip()] = {"value": v.strip(), "source": f"命令行 --param {item}"}
    return params


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

    policy = _load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    params = _parse_params(args)
    as_of = args.as_of
    out = AtomicWriter(args.output)
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
                        _out(render_input_error(err, args.lang), sys.stderr)
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
                out.write_json(data)
    except BaseException:
        out.abort()
        rej.abort()
        raise
    out.commit()
    rej.commit()
    _out(
        _msg(
            args.lang,
            f"读取 {read} 户 = 已判定 {decided} + 拒收 {rejected}; 结果: {args.output}"
            + (f"; 拒收记录: {rejected_path}" if rejected else ""),
            f"read {read} = decided {decided} + rejected {rejected}; results: {args.output}"
            + (f"; rejected records: {rejected_path}" if rejected else ""),
        ),
        sys.stderr,
    )
    return EXIT_FINDINGS if rejected and args.strict else EXIT_OK


def _load_or_report(name: str, lang: str) -> Any:
    from fanpin_rules.policy import load_policy

    try:
        return load_policy(name)
    except PolicyLoadError as exc:
        raise UsageError(exc.message) from None
    except (PolicySyntaxError, PolicyCheckError) as exc:
        _out(render_diagnostics(exc.diagnostics, None, lang), sys.stderr)
        return None


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


def cmd_explain(args: argparse.Namespace) -> int:
    policy = _load_or_report(args.policy, args.lang)
    if policy is None:
        return EXIT_FINDINGS
    try:
        data = json.loads(Path(args.household).read_text("utf-8-sig"), parse_float=Decimal)
    except OSError as exc:
        raise UsageError(f"{args.household}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.household}: JSON 格式错误 / invalid JSON: {exc}") from None
    try:
        result = policy.evaluate(data, args.as_of, _parse_params(args))
    except HouseholdInputError as err:
        if err.source is None:
            err = HouseholdInputError(err.issues, err.household_id, args.household, None)
        _out(render_input_error(err, args.lang), sys.stderr)
        return EXIT_FINDINGS
    if args.rule and args.rule not in policy.rule_ids:
        from fanpin_rules.suggest import did_you_mean

        hz, he = did_you_mean(args.rule, policy.rule_ids)
        raise UsageError(
            _msg(args.lang, f"没有规则 {args.rule}. {hz}", f"no rule {args.rule}. {he}")
        )
    if args.format == "json":
        _out(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _out(render_result_text(result, args.lang, args.rule))
    return EXIT_OK


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

    def policy_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--policy", required=True, help="政策文件或内置政策名 / path or shipped name"
        )
        p.add_argument("--as-of", dest="as_of", help="评估日期 YYYY-MM-DD / evaluation date")
        p.add_argument("--param", action="append", help="覆盖参数 名称=值 / override NAME=VALUE")
        p.add_argument("--params-file", dest="params_file", help="参数覆盖文件 (JSON)")

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

    p = sub.add_parser("test", help="运行政策里的示例 / run a policy's examples")
    p.add_argument("paths", nargs="+")
    p.add_argument("--coverage", action="store_true", help="列出每个规则的覆盖次数")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("explain", help="解释一户的判定 / explain one household")
    policy_opts(p)
    p.add_argument("household")
    p.add_argument("--rule")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("schema", help="输出输入数据的 JSON Schema")
    p.add_argument("--policy", required=True)
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("policies", help="列出内置政策 / list shipped policies")
    p.set_defaults(func=cmd_policies)
    return parser


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
