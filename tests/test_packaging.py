"""The built wheel carries the grammar and the shipped policies, and loads them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("fanpin_rules-*.whl"))


def test_wheel_contains_grammar_and_policies(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "fanpin_rules/grammar/policy.lark" in names
    assert "fanpin_rules/policies/ewenki_2024q2.policy" in names
    assert any(n.startswith("fanpin_rules/policies/ewenki_2024q2/") for n in names)
    assert "fanpin_rules/py.typed" in names


def test_installed_wheel_loads_grammar_and_shipped_policy(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "import fanpin_rules, fanpin_rules.parser as p, pathlib;"
        f"assert pathlib.Path(fanpin_rules.__file__).is_relative_to(pathlib.Path(r'{target}'));"
        "assert 'policy_header' in p.grammar_text();"
        "pol = fanpin_rules.load_policy('ewenki_2024q2');"
        "print(pol.name, len(pol.rule_ids))"
    )
    # run from an empty folder with only the unpacked wheel first on the path, so the
    # source checkout cannot be what is found
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "鄂温克" in done.stdout


def test_grammar_is_strict() -> None:
    """No LALR conflicts and no terminal collisions (lark's strict mode)."""
    from lark import Lark

    from fanpin_rules.parser import LARK_OPTIONS, grammar_text

    Lark(grammar_text(), strict=True, **LARK_OPTIONS)  # type: ignore[arg-type]
