"""Every shipped policy file under policies/ parses without a syntax error."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanpin_rules.parser import parse_file

POLICIES = Path(__file__).resolve().parents[1] / "policies"
FILES = sorted(POLICIES.rglob("*.policy"))


def test_policies_are_shipped() -> None:
    assert FILES, f"no .policy files under {POLICIES}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(POLICIES)))
def test_shipped_policy_parses(path: Path) -> None:
    module = parse_file(path)  # raises PolicySyntaxError (file:line:col) on a problem
    assert module.items, f"{path} declares nothing"
