"""What the command modules share: usage errors, output, policy loading, parameters."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from fanpin_rules.errors import PolicyCheckError, PolicyLoadError, PolicySyntaxError
from fanpin_rules.render import render_diagnostics

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad option or a missing file: exit status 2, message on stderr."""


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` all at once (a temporary file renamed into place, so an
    interrupted run never leaves half a file); an existing file keeps its permissions, a
    new one gets the usual ones (0666 less the umask)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def policy_opts(
    p: argparse.ArgumentParser,
    *,
    required: bool = True,
    policy_help: str = "政策文件或内置政策名 / path or shipped name",
) -> None:
    """--policy, --as-of, --param, --params-file."""
    p.add_argument("--policy", required=required, help=policy_help)
    p.add_argument("--as-of", dest="as_of", help="评估日期 YYYY-MM-DD / evaluation date")
    p.add_argument("--param", action="append", help="覆盖参数 名称=值 / override NAME=VALUE")
    p.add_argument("--params-file", dest="params_file", help="参数覆盖文件 (JSON)")


def load_or_report(name: str, lang: str) -> Any:
    """The loaded policy, or None after printing its diagnostics."""
    from fanpin_rules.policy import load_policy

    try:
        return load_policy(name)
    except PolicyLoadError as exc:
        raise UsageError(exc.message) from None
    except (PolicySyntaxError, PolicyCheckError) as exc:
        out(render_diagnostics(exc.diagnostics, None, lang), sys.stderr)
        return None


def parse_params(args: argparse.Namespace) -> dict[str, Any]:
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
