"""Static analysis (F7xx) and acknowledgements: golden cases, the shipped policy, properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fanpin_rules.check import run_checks
from fanpin_rules.errors import Diagnostic, PolicyCheckError
from fanpin_rules.model import build_model
from fanpin_rules.parser import load_modules
from fanpin_rules.render import render_diagnostics
from tests.golden import check, split

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "cases" / "analysis"
FILES = sorted(CASES.glob("*.policy"))


def _diagnostics(path: Path, body: str) -> tuple[list[Diagnostic], str]:
    """Check ``body`` as if it were the file ``path`` (spans point into the case file)."""
    tmp = path.with_name("_golden_input_" + path.name)
    tmp.write_text(body, "utf-8")
    try:
        modules, _texts = load_modules(tmp)
        model, prior = build_model(modules)
        try:
            diags = list(run_checks(model, prior).diagnostics)
        except PolicyCheckError as exc:
            diags = list(exc.diagnostics)
    finally:
        tmp.unlink()
    return diags, str(tmp)


def _shown(d: Diagnostic) -> bool:
    """Warnings and errors, the analysis' own notes and acknowledged findings."""
    return d.severity != "info" or d.code.startswith("F7") or "(acknowledged:" in d.message_en


def render_case(path: Path) -> str:
    body, _ = split(path)
    diags, tmp = _diagnostics(path, body)
    diags = [d for d in diags if _shown(d)]
    rel = path.relative_to(ROOT).as_posix()
    parts = [
        render_diagnostics(diags, {tmp: body}, lang).replace(tmp, rel) for lang in ("zh", "en")
    ]
    return "\n\n".join(parts) if diags else "(no diagnostics)"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden(path: Path, update_goldens: bool) -> None:
    check(path, render_case(path), update_goldens)


def test_every_analysis_code_has_a_case_and_a_doc_section() -> None:
    docs = (ROOT / "docs" / "errors.md").read_text("utf-8")
    documented = set(re.findall(r"^## (F7\d\d)", docs, re.M))
    with_case = {p.stem.split("_")[0] for p in FILES if re.match(r"F7\d\d_", p.name)}
    assert documented == with_case
    sources = "".join(p.read_text("utf-8") for p in (ROOT / "src/fanpin_rules").rglob("*.py"))
    assert set(re.findall(r'"(F7\d\d)"', sources)) == documented
