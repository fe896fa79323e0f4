"""Every diagnostic code has a golden case: policy text and its rendered report."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanpin_rules.check import run_checks
from fanpin_rules.errors import Diagnostic, PolicyCheckError, PolicySyntaxError
from fanpin_rules.model import build_model
from fanpin_rules.parser import load_modules
from fanpin_rules.render import render_diagnostics
from tests.golden import MARKER, check, split

CASES = Path(__file__).resolve().parent / "cases"
FILES = sorted(p for d in ("syntax", "check") for p in (CASES / d).glob("*.policy"))


def diagnostics_for(path: Path) -> tuple[list[Diagnostic], dict[str, str]]:
    """Parse and check a case file, its expected block cut off (includes resolved)."""
    body, _ = split(path)
    tmp = path.with_name("_golden_input_" + path.name)
    # The case is checked under its own name so spans point into the case file.
    rel = path.relative_to(CASES.parent.parent).as_posix()
    tmp.write_text(body, "utf-8")
    try:
        try:
            modules, texts = load_modules(tmp)
        except (PolicySyntaxError, PolicyCheckError) as exc:
            return list(exc.diagnostics), {}
        model, prior = build_model(modules)
        try:
            result = run_checks(model, prior)
            diags = list(result.diagnostics)
        except PolicyCheckError as exc:
            diags = list(exc.diagnostics)
        return diags, texts
    finally:
        tmp.unlink()
        del rel


def render_case(path: Path) -> str:
    diags, _ = diagnostics_for(path)
    code = path.stem.split("_")[0]
    # notes are shown only in the cases about them, to keep each golden on its topic
    diags = [d for d in diags if d.severity != "info" or d.code == code]
    body, _ = split(path)
    tmp_name = "_golden_input_" + path.name
    rel = path.relative_to(CASES.parent.parent).as_posix()
    sources = {str(path.with_name(tmp_name)): body}
    parts = []
    for lang in ("zh", "en"):
        text = render_diagnostics(diags, sources, lang)
        text = text.replace(str(path.with_name(tmp_name)), rel)
        # other files (includes) are shown relative to the repository too
        parts.append(text.replace(str(CASES.parent.parent) + "/", ""))
    return "\n\n".join(parts) if diags else "(no diagnostics)"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_golden(path: Path, update_goldens: bool) -> None:
    check(path, render_case(path), update_goldens)


def test_every_code_has_a_case() -> None:
    """The file name of a case starts with the code it demonstrates (F201_unknown_name)."""
    from fanpin_rules.syntax_errors import LEXICAL, SYNTAX_ERRORS, SYNTAX_VARIANTS

    codes = {p.stem.split("_")[0] for p in FILES}
    for label in SYNTAX_ERRORS:
        assert label.code in codes, f"no golden case for {label.code}"
    for v in (*SYNTAX_VARIANTS.values(), *LEXICAL.values()):
        assert v.code in codes, f"no golden case for {v.code}"
    documented = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text("utf-8")
    for code in codes:
        assert f"## {code}" in documented, f"{code} is not in docs/errors.md"


def test_marker_constant() -> None:
    assert MARKER == "# expected"


def _syntax_examples() -> list[tuple[str, str]]:
    from fanpin_rules.syntax_errors import SYNTAX_ERRORS, SYNTAX_VARIANTS

    found = [(label.code, text) for label in SYNTAX_ERRORS for text in label.examples]
    found += [(v.code, text) for v in SYNTAX_VARIANTS.values() for text in v.examples]
    return found


@pytest.mark.parametrize(("code", "text"), _syntax_examples())
def test_syntax_example_names_its_code(code: str, text: str) -> None:
    """Every example snippet of a syntax error is reported with its own code."""
    from fanpin_rules.parser import parse

    with pytest.raises(PolicySyntaxError) as info:
        parse(text)
    assert info.value.diagnostics[0].code == code


def test_every_terminal_has_a_name() -> None:
    """Hints never show internal token names such as add_op or lbrace."""
    from fanpin_rules.parser import _lark
    from fanpin_rules.syntax_errors import TERMINAL_NAMES_EN, TERMINAL_NAMES_ZH

    names = {t.name for t in _lark().terminals} - set(_lark().lexer_conf.ignore) | {"$END"}
    assert names - set(TERMINAL_NAMES_ZH) == set()
    assert names - set(TERMINAL_NAMES_EN) == set()
