"""Helpers shared by the tests that run the command line."""

from __future__ import annotations

import contextlib
import io

import pytest

from fanpin_rules.cli import main as fanpin
from fanpin_rules.policy import Policy


def run(*argv: str) -> tuple[int, str, str]:
    """``fanpin ARGV…``: the exit code, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = fanpin(list(argv))
    return code, out.getvalue(), err.getvalue()


def serve_shipped_policy(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    """Let ``load_policy("ewenki_2024q2")`` return the already loaded ``policy`` (the
    commands load it by name; loading it afresh in every test is slow)."""
    import fanpin_rules.policy as policy_module

    real = policy_module.load_policy
    monkeypatch.setattr(
        policy_module,
        "load_policy",
        lambda name: policy if str(name) == "ewenki_2024q2" else real(name),
    )
