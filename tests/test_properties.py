"""Property tests: the parser never crashes, layout never matters, evaluation is pure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from fanpin_rules import FanpinError, load_policy
from fanpin_rules.parser import _lark, grammar_text, parse

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "examples" / "language_tour.policy"

# A grammar-driven generator needs a lexer without the contextual tricks; build a
# plain LALR instance from the same grammar text for generation only.
_GEN = Lark(grammar_text(), parser="lalr", lexer="basic")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(from_lark(_GEN, start="start"))
def test_grammar_strings_parse_or_raise_our_errors(text: str) -> None:
    try:
        parse(text)
    except FanpinError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_only_our_errors(text: str) -> None:
    try:
        parse(text)
    except FanpinError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_policy_raises_only_our_errors(data: st.DataObject) -> None:
    text = TOUR.read_text("utf-8")
    pos = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.sampled_from(["", "(", ")", "|", "||", "{", "}", '"', "，", "and", "-"]))
    try:
        parse(text[:pos] + insert + text[pos + cut :])
    except FanpinError:
        pass


def _relayout(text: str, choices: list[int]) -> str:
    """Re-join the policy's tokens with other whitespace and comments between them."""
    seps = [" ", "  ", "\n", "\n\n  ", " # 注释 comment\n", "\t"]
    tokens = list(_lark().lex(text))
    out = []
    for i, tok in enumerate(tokens):
        if i:
            out.append(seps[choices[i % len(choices)] % len(seps)])
        out.append(str(tok))
    return "".join(out)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_layout_and_comments_never_change_the_tree(choices: list[int]) -> None:
    text = TOUR.read_text("utf-8")
    assert parse(_relayout(text, choices)).items == parse(text).items


HOUSEHOLD = st.fixed_dictionaries(
    {
        "household_id": st.just("H"),
        "size": st.integers(1, 6),
        "income": st.decimals(0, 100000, places=2).map(str),
        "medical": st.decimals(0, 20000, places=2).map(str),
        "members": st.lists(
            st.fixed_dictionaries({"age": st.integers(0, 99), "able": st.booleans()}),
            min_size=1,
            max_size=4,
        ),
    },
    optional={
        "since": st.dates().map(str),
        "risks": st.lists(st.sampled_from(["因病", "因学", "其他"]), max_size=3),
    },
)


@settings(max_examples=60, deadline=None)
@given(HOUSEHOLD, st.lists(st.integers(0, 5), min_size=1, max_size=10))
def test_evaluation_is_deterministic_and_layout_free(
    hh: dict[str, Any], choices: list[int]
) -> None:
    policy = load_policy(TOUR)
    first = json.dumps(policy.evaluate(hh).to_json(), sort_keys=True, ensure_ascii=False)
    again = json.dumps(policy.evaluate(hh).to_json(), sort_keys=True, ensure_ascii=False)
    assert first == again
    # the same policy laid out differently gives the same decision (hash aside)
    tmp = TOUR.with_name("_relayout_tour.policy")
    tmp.write_text(_relayout(TOUR.read_text("utf-8"), choices), "utf-8")
    try:
        other = load_policy(tmp).evaluate(hh).to_json(trace=False)
    finally:
        tmp.unlink()
    base = policy.evaluate(hh).to_json(trace=False)
    for key in ("values", "fired", "undetermined", "params"):
        assert other[key] == base[key]
