"""``fanpin import-dmn``: DMN decision tables into a policy.

``tests/dmn/`` holds hand-written DMN files — one per hit policy and aggregation, one per
FEEL construct used in cells, a multi-decision DRG and files with unsupported constructs —
in the Camunda (default namespace), Drools (``dmn:``) and Trisotech (``semantic:``) XML
flavours.  Each imported policy is a golden file beside its DMN file
(``pytest --update-goldens`` rewrites them) and evaluates with the normal engine to the
outputs the DMN semantics give.
"""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import ast, load_policy
from fanpin_rules.cli import main as fanpin
from fanpin_rules.dmn import DmnError, DmnIssue, _Feel, _Unsupported, import_dmn
from fanpin_rules.exprfmt import to_text
from fanpin_rules.spreadsheet import cell_text

DMN = Path(__file__).resolve().parent / "dmn"
IMPORTED = sorted(p for p in DMN.glob("*.dmn") if not p.stem.startswith("unsupported"))
NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"

# DMN file -> [(input, {decision: expected value in the result's values})]
CASES: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "hit_unique": [
        ({"season": "Fall", "guestCount": 4}, {"Dish": "Spareribs"}),
        ({"season": "Winter", "guestCount": 8}, {"Dish": "Roastbeef"}),
        ({"season": "Spring", "guestCount": 3}, {"Dish": "Dry Aged Gourmet Steak"}),
        ({"season": "Spring", "guestCount": 6}, {"Dish": "Steak"}),
        ({"season": "Winter", "guestCount": 10}, {"Dish": "Stew"}),
        ({"season": "Summer", "guestCount": 20}, {"Dish": "Light Salad and a nice Steak"}),
        ({}, {"Dish": None}),  # DMN: no rule matches a null input: null
    ],
    "hit_any": [
        ({"age": 30, "employed": True}, {"Eligible": "eligible"}),  # two rules, one output
        ({"age": 16, "employed": True}, {"Eligible": "eligible"}),
        ({"age": 16, "employed": False}, {"Eligible": "not eligible"}),
    ],
    "hit_first": [
        ({"Credit Score": 450}, {"Risk_Category": "high"}),
        ({"Credit Score": 650}, {"Risk_Category": "medium"}),
        ({"Credit Score": 800}, {"Risk_Category": "low"}),
        ({}, {"Risk_Category": "low"}),  # - accepts a null input
    ],
    "hit_priority": [
        ({"age": 16, "score": 500}, {"Strategy": "DECLINE"}),  # three rules match
        ({"age": 30, "score": 500}, {"Strategy": "REFER"}),
        ({"age": 30, "score": 700}, {"Strategy": "ACCEPT"}),
    ],
    "hit_rule_order": [
        (
            {"medical": 12000, "unsafeHousing": True},
            {
                "Reminders": [
                    {"code": "M", "text": "核实大病自付费用"},
                    {"code": "H", "text": "核实住房安全"},
                ]
            },
        ),
        ({"medical": 0, "unsafeHousing": False}, {"Reminders": []}),
    ],
    "hit_output_order": [
        ({"medical": 12000, "unsafeHousing": True}, {"Tasks": ["urgent", "normal", "low"]}),
        ({"medical": 0}, {"Tasks": ["low"]}),
    ],
    "hit_collect": [
        (
            {"medical": 12000, "unsafeHousing": True, "size": 6},
            {"Aid": ["临时救助", "住房安全帮扶", "就业帮扶"]},
        ),
        ({"size": 2}, {"Aid": []}),
    ],
    "hit_collect_sum": [
        ({"medical": 12000, "unsafeHousing": True, "size": 6}, {"Aid": "4000"}),
        ({"medical": 12000}, {"Aid": "2000"}),
        ({}, {"Aid": "0"}),  # DMN gives null for an empty sum; the policy language 0
    ],
    "hit_collect_min": [
        ({"medical": 12000, "unsafeHousing": True, "size": 6}, {"Aid": "500"}),
        ({}, {"Aid": None}),
    ],
    "hit_collect_max": [
        ({"medical": 12000, "unsafeHousing": True, "size": 6}, {"Aid": "2000"}),
        ({"unsafeHousing": True}, {"Aid": "1500"}),
    ],
    "hit_collect_count": [
        ({"medical": 12000, "unsafeHousing": True, "size": 6}, {"Aid": 3}),
        ({"size": 5}, {"Aid": 1}),
        ({}, {"Aid": 0}),
    ],
    "feel_comparison": [
        ({"x": -1}, {"Result": "negative"}),
        ({"x": 0}, {"Result": "zero"}),
        ({"x": 10}, {"Result": "small"}),
        ({"x": 50}, {"Result": "medium"}),
        ({"x": 100}, {"Result": "large"}),
    ],
    "feel_range": [
        ({"x": 0}, {"Result": "[0..10]"}),
        ({"x": 10}, {"Result": "[0..10]"}),
        ({"x": 15}, {"Result": "]10..20["}),
        ({"x": 20}, {"Result": "[20..30)"}),
        ({"x": 30}, {"Result": None}),
        ({"x": 40}, {"Result": "(30..40]"}),
        ({"x": 45}, {"Result": "[40..50["}),
        ({"x": 50}, {"Result": None}),
        ({"x": 60}, {"Result": "]50..60]"}),
    ],
    "feel_list": [
        ({"x": 2}, {"Result": "one to three"}),
        ({"x": 4}, {"Result": "four or 10 to 20"}),
        ({"x": 15}, {"Result": "four or 10 to 20"}),
        ({"x": 7}, {"Result": "other"}),
    ],
    "feel_not": [
        ({"x": "c"}, {"Result": "neither a nor b"}),
        ({"x": "a"}, {"Result": "a"}),
        ({"x": "b"}, {"Result": "b"}),
    ],
    "feel_dash": [
        ({"x": -1}, {"Result": "negative"}),
        ({"x": 5}, {"Result": "not negative (empty entry)"}),
        ({}, {"Result": "not negative (empty entry)"}),
    ],
    "feel_string": [
        ({"x": 'say "hi"'}, {"Result": "quoted"}),
        ({"x": "a, b"}, {"Result": "comma"}),
        ({"x": "农村户籍"}, {"Result": "农村"}),
        ({"x": "a"}, {"Result": "other"}),
    ],
    "feel_number": [
        ({"x": -5}, {"Result": "minus five"}),
        ({"x": -11}, {"Result": "very negative"}),
        ({"x": "0.5"}, {"Result": "around one"}),
        ({"x": "1.5"}, {"Result": "around one"}),
        ({"x": "2.5"}, {"Result": "two and a half"}),
        ({"x": 3}, {"Result": "other"}),
    ],
    "feel_boolean": [
        ({"x": True}, {"Result": "yes"}),
        ({"x": False}, {"Result": "no"}),
        ({}, {"Result": "missing"}),
    ],
    "feel_date": [
        ({"x": "2023-12-31"}, {"Result": "before 2024"}),
        ({"x": "2024-06-30"}, {"Result": "first half"}),
        ({"x": "2024-07-01"}, {"Result": "July 1st"}),
        ({"x": "2024-08-01"}, {"Result": "later"}),
    ],
    "feel_names": [
        ({"applicant": {"age": 10}, "Monthly Income": 500}, {"Yearly_Income": "0"}),
        (
            {"applicant": {"age": 40}, "Monthly Income": 500, "Income Line": 8400},
            {"Yearly_Income": "6000"},
        ),
        (
            {"applicant": {"age": 40}, "Monthly Income": 1000, "Income Line": 8400},
            {"Yearly_Income": "8400"},
        ),
    ],
    "drg": [
        (
            {
                "Applicant": {"age": 40, "registry": "rural", "members": 4},
                "Net Income": 20000,
                "Income Line": 8300,
            },
            {
                "Per_Capita_Income": "5000",
                "Risk": {"level": "high", "reason": "农村户低于基准"},
                "Eligible_for_Aid": True,
                "Aid_Amount": "4000",
            },
        ),
        (
            {
                "Applicant": {"age": 40, "registry": "urban", "members": 2},
                "Net Income": 10000,
                "Income Line": 8300,
            },
            {"Risk": {"level": "medium", "reason": "城镇户低于基准"}, "Aid_Amount": "1000"},
        ),
        (
            {
                "Applicant": {"age": 17, "registry": "rural", "members": 2},
                "Net Income": 10000,
                "Income Line": 8300,
            },
            {"Eligible_for_Aid": False, "Aid_Amount": "0"},
        ),
    ],
}


def test_every_file_has_cases() -> None:
    assert sorted(CASES) == [p.stem for p in IMPORTED]


@pytest.mark.parametrize("path", IMPORTED, ids=[p.stem for p in IMPORTED])
def test_generated_policy_golden(path: Path, update_goldens: bool) -> None:
    text = import_dmn(path).text
    golden = path.with_suffix(".policy")
    if update_goldens:
        golden.write_text(text, "utf-8")
    assert golden.read_text("utf-8") == text, f"{golden} (run pytest --update-goldens)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_imported_policy_evaluates(name: str) -> None:
    policy = load_policy(DMN / f"{name}.policy")
    for data, expected in CASES[name]:
        for engine in ("compiled", "interpreter"):
            result = policy.evaluate(data, engine=engine)  # type: ignore[arg-type]
            got = {k: result.values[k] for k in expected}
            assert got == expected, (name, data, engine)


def test_decisions_and_inputs_reported() -> None:
    result = import_dmn(DMN / "drg.dmn")
    assert [(d.name, d.table, d.hit) for d in result.decisions] == [
        ("Per Capita Income", "Per_Capita_Income", None),
        ("Risk", "Risk", "UNIQUE"),
        ("Eligible for Aid", "Eligible_for_Aid", "FIRST"),
        ("Aid Amount", "Aid_Amount", "COLLECT SUM"),
    ]
    assert result.inputs == (
        ("Net Income", "number"),
        ("Applicant.age", "number"),
        ("Applicant.registry", "registry_values"),
        ("Applicant.members", "number"),
        ("Income Line", "number"),
    )


def test_checker_warnings_name_the_dmn_element() -> None:
    result = import_dmn(DMN / "hit_unique.dmn")
    assert {(w.element, w.element_id, w.code, w.severity) for w in result.warnings} == {
        ("decisionTable", "DecisionTable_dish", "F701", "warning")
    }


# ---------------------------------------------------------------- FEEL in cells


def _names(parts: list[str]) -> ast.Expr:
    expr: ast.Expr = ast.Name(parts[0].replace(" ", "_"))
    for p in parts[1:]:
        expr = ast.Attr(expr, p)
    return expr


@pytest.mark.parametrize(
    ("feel", "policy"),
    [
        ("", "-"),
        ("-", "-"),
        ("< 5", "< 5"),
        ("<=5", "<= 5"),
        (">= 8300", ">= 8300"),
        ("> -1.5", "> -1.5"),
        ("[1..10]", "[1..10]"),
        ("[1..10)", "[1..10)"),
        ("]1..10]", "(1..10]"),
        ("[1..10[", "[1..10)"),
        ("(1..10)", "(1..10)"),
        ('"a","b"', '"a", "b"'),
        ("1, [5..6]", "1, [5..6]"),
        ('not("a")', 'not("a")'),
        ("not(< 5, > 10)", "not(< 5, > 10)"),
        ('"a \\"b\\""', '"a \\"b\\""'),
        ('"\\u4e2d"', '"中"'),
        (".5", "0.5"),
        ("-5", "-5"),
        ("true", "true"),
        ("false", "false"),
        ('date("2024-01-01")', "2024-01-01"),
        ('[date("2024-01-01")..date("2024-12-31")]', "[2024-01-01..2024-12-31]"),
        ("applicant.age", "applicant.age"),
        ("<= Income Line", "<= Income_Line"),
        ("<= limit * 2", "<= limit * 2"),
        ("= 5", "5"),
        ("!= 5", "!= 5"),
    ],
)
def test_unary_tests(feel: str, policy: str) -> None:
    assert cell_text(_Feel(feel, _names, ["Income Line"]).unary_tests()) == policy


@pytest.mark.parametrize(
    ("feel", "policy"),
    [
        ('"x"', '"x"'),
        ("a + b * 2", "a + b * 2"),
        ("(a + b) * 2", "(a + b) * 2"),
        ("a > 1 and not(b)", "a > 1 and not b"),
        ('if a > 1 then "x" else "y"', 'if a > 1 then "x" else "y"'),
        ("a = 1 or b != 2", "a = 1 or b != 2"),
        ("-a", "-a"),
        ("Net Income / Applicant.members", "Net_Income / Applicant.members"),
    ],
)
def test_expressions(feel: str, policy: str) -> None:
    assert to_text(_Feel(feel, _names, ["Net Income"]).expression()) == policy


@pytest.mark.parametrize(
    ("feel", "message"),
    [
        ('contains(?, "x")', "FEEL function contains(…) is not supported"),
        ("? > 5", "tests with ? (DMN 1.3 generalised unary tests) are not supported"),
        ("null", "null is not supported (policies test presence with is missing / is present)"),
        ("{ a: 1 }", "FEEL contexts {…} are not supported"),
        ("[1, 2]", "unexpected ',' (character 3); expected '..'"),
        ("[1..", "it ends too early; expected a value"),
        ("1 2", "unexpected '2' (character 3)"),
        ("@", "unexpected character '@' in FEEL text (character 1)"),
        ('date("2024-02-30")', '"2024-02-30" is not a date (write YYYY-MM-DD)'),
        ("date(x)", 'date(…) takes a date text, as in date("2024-01-01")'),
        ("x in [1..2]", "unexpected 'in' (character 3)"),
    ],
)
def test_unsupported_feel_in_cells(feel: str, message: str) -> None:
    with pytest.raises(_Unsupported) as info:
        _Feel(feel, _names, ()).unary_tests()
    assert info.value.en == message


@pytest.mark.parametrize(
    ("feel", "message"),
    [
        ("for x in [1] return x", "FEEL 'for' expressions are not supported"),
        ("some x in y satisfies x", "FEEL 'some' expressions are not supported"),
        ("a between 1 and 2", "FEEL 'between' expressions are not supported"),
        ("a ** 2", "exponentiation ** is not supported"),
        ("sum(a)", "FEEL function sum(…) is not supported"),
    ],
)
def test_unsupported_feel_in_expressions(feel: str, message: str) -> None:
    with pytest.raises(_Unsupported) as info:
        _Feel(feel, _names, ()).expression()
    assert info.value.en == message


# ---------------------------------------------------------------- errors


def test_unsupported_constructs_in_cells() -> None:
    with pytest.raises(DmnError) as info:
        import_dmn(DMN / "unsupported_feel.dmn")
    assert info.value.render("zh") == (
        """\
unsupported_feel.dmn: 决策「Check」第 1 条规则: inputEntry id="entry_function": 不支持 FEEL 函数 contains(…)
  = 提示: 只支持 date("…") 和 not(…); 把计算放进上游决策或输入数据
unsupported_feel.dmn: 决策「Check」第 1 条规则: inputEntry id="entry_question": 不支持用 ? 的条件 (DMN 1.3 的广义一元测试)
  = 提示: 改写为简单条件: < 5、[1..10]、"a","b"、not(...)
unsupported_feel.dmn: 决策「Check」第 2 条规则: inputEntry id="entry_null": 不支持 null (政策里用 is missing / is present 判断有无)
unsupported_feel.dmn: 决策「Check」第 2 条规则: outputEntry id="out_context": 不支持 FEEL 上下文 {…}
4 个问题; 没有生成政策"""  # noqa: E501
    )
    assert info.value.render("en").splitlines()[0] == (
        "unsupported_feel.dmn: decision 'Check', rule 1: inputEntry id=\"entry_function\": "
        "FEEL function contains(…) is not supported"
    )


def test_unsupported_decision_logic() -> None:
    with pytest.raises(DmnError) as info:
        import_dmn(DMN / "unsupported_logic.dmn")
    assert [i.render("x.dmn", "en").splitlines()[0] for i in info.value.issues] == [
        "x.dmn: businessKnowledgeModel id=\"bkm_rate\": businessKnowledgeModel 'Rate' is not "
        "supported",
        "x.dmn: decision 'Boxed': knowledgeRequirement id=\"boxed_knowledge\": business "
        "knowledge models (knowledgeRequirement) are not supported",
        "x.dmn: decision 'Boxed': context id=\"boxed_context\": decision logic context is not "
        "supported",
        "x.dmn: decision 'Looping': literalExpression id=\"looping_expr\": FEEL 'for' "
        "expressions are not supported",
    ]


def _dmn(tmp_path: Path, body: str, extra: str = "", name: str = "t.dmn") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{NS}" id="d" name="T" '
        f'namespace="http://example.org/t">{extra}{body}</definitions>',
        "utf-8",
    )
    return path


def _table(
    hit: str = "",
    inputs: str = '<input id="i1"><inputExpression id="e1" typeRef="number">'
    "<text>x</text></inputExpression></input>",
    outputs: str = '<output id="o1" name="y" typeRef="string"/>',
    rules: str = '<rule id="r1"><inputEntry id="r1i"><text>-</text></inputEntry>'
    '<outputEntry id="r1o"><text>"a"</text></outputEntry></rule>',
    name: str = "D",
) -> str:
    return (
        f'<decision id="dec_{name}" name="{name}"><decisionTable id="t_{name}" {hit}>'
        f"{inputs}{outputs}{rules}</decisionTable></decision>"
    )


def _first_issue(path: Path) -> str:
    with pytest.raises(DmnError) as info:
        import_dmn(path)
    return info.value.issues[0].render("t.dmn", "en").splitlines()[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            _table('hitPolicy="SOMETIMES"'),
            "t.dmn: decision 'D': decisionTable id=\"t_D\": unknown hit policy 'SOMETIMES'",
        ),
        (
            _table('hitPolicy="FIRST" aggregation="SUM"'),
            "t.dmn: decision 'D': decisionTable id=\"t_D\": aggregation 'SUM' needs COLLECT and "
            "one of SUM, MIN, MAX, COUNT",
        ),
        (
            _table('hitPolicy="PRIORITY"'),
            "t.dmn: decision 'D': output id=\"o1\": PRIORITY ranks by the output's values, but "
            "output 'y' has no outputValues (or is not a string)",
        ),
        (
            _table(
                'hitPolicy="COLLECT" aggregation="SUM"',
                outputs='<output id="o1" name="a" typeRef="number"/>'
                '<output id="o2" name="b" typeRef="number"/>',
            ),
            "t.dmn: decision 'D': decisionTable id=\"t_D\": COLLECT SUM needs exactly one output",
        ),
        (
            _table(
                rules='<rule id="r1"><outputEntry id="r1o"><text>"a"</text></outputEntry></rule>'
            ),
            "t.dmn: decision 'D', rule 1: rule id=\"r1\": the rule has 0 input and 1 output "
            "entries; the table has 1 inputs and 1 outputs",
        ),
        (
            _table(
                rules='<rule id="r1"><inputEntry id="r1i"><text>-</text></inputEntry>'
                '<outputEntry id="r1o"><text></text></outputEntry></rule>'
            ),
            "t.dmn: decision 'D', rule 1: outputEntry id=\"r1o\": the output entry is empty "
            "(null in DMN)",
        ),
        (
            _table(
                inputs='<input id="i1"><inputExpression id="e1" typeRef="date and time">'
                "<text>x</text></inputExpression></input>"
            ),
            "t.dmn: decision 'D': inputExpression id=\"e1\": FEEL type 'date and time' is not "
            "supported",
        ),
        (
            _table(
                inputs='<input id="i1"><inputExpression id="e1" typeRef="tMoney">'
                "<text>x</text></inputExpression></input>"
            ),
            "t.dmn: decision 'D': inputExpression id=\"e1\": unknown type 'tMoney'",
        ),
        (
            _table(
                inputs='<input id="i1"><inputExpression id="e1">'
                "<text>x</text></inputExpression></input>"
            ),
            "t.dmn: decision 'D': inputExpression id=\"e1\": the type of input 'x' is not known",
        ),
        (
            _table(
                outputs='<output id="o1" name="y" typeRef="string"><defaultOutputEntry>'
                '<text>"z"</text></defaultOutputEntry></output>'
            ),
            "t.dmn: decision 'D': output id=\"o1\": default outputs (defaultOutputEntry) are not "
            "supported",
        ),
        (
            _table('preferredOrientation="CrossTable"'),
            "t.dmn: decision 'D': decisionTable id=\"t_D\": cross tables (CrossTable) are not "
            "supported",
        ),
        (
            _table(name="A")
            + _table(
                name="B",
                inputs='<input id="i2"><inputExpression id="e2" typeRef="string">'
                "<text>A.z</text></inputExpression></input>",
                rules="",
            ),
            "t.dmn: decision 'B': inputExpression id=\"e2\": decision 'A' has no output 'z'",
        ),
        (
            _table()
            + _table(
                name="E",
                inputs='<input id="i2"><inputExpression id="e2" typeRef="string">'
                "<text>x</text></inputExpression></input>",
                rules="",
            ),
            "t.dmn: decision 'E': inputExpression id=\"e2\": input 'x' has two types: number "
            "and text",
        ),
        (
            '<decision id="dd" name="R"><informationRequirement id="ir">'
            '<requiredDecision href="#nowhere"/></informationRequirement>'
            '<literalExpression id="le"><text>1</text></literalExpression></decision>',
            "t.dmn: decision 'R': informationRequirement id=\"ir\": requiredDecision points to "
            "#nowhere, which does not exist",
        ),
        (
            '<decision id="dd" name="Empty"/>',
            "t.dmn: decision 'Empty': decision id=\"dd\": the decision is empty",
        ),
    ],
)
def test_model_errors_name_their_element(tmp_path: Path, body: str, expected: str) -> None:
    assert _first_issue(_dmn(tmp_path, body)) == expected


def test_checker_errors_name_their_element(tmp_path: Path) -> None:
    """Errors only the policy checker finds (a value outside the outputValues, overlapping
    UNIQUE rules) are reported at the DMN element they came from."""
    rules = (
        '<rule id="r1"><inputEntry id="r1i"><text>&lt; 10</text></inputEntry>'
        '<outputEntry id="r1o"><text>"a"</text></outputEntry></rule>'
        '<rule id="r2"><inputEntry id="r2i"><text>&gt; 5</text></inputEntry>'
        '<outputEntry id="r2o"><text>"{}"</text></outputEntry></rule>'
    )
    enum = (
        '<output id="o1" name="y" typeRef="string">'
        '<outputValues id="ov"><text>"a","b"</text></outputValues></output>'
    )
    with pytest.raises(DmnError) as info:
        import_dmn(_dmn(tmp_path, _table(outputs=enum, rules=rules.format("c"))))
    assert info.value.render("en").splitlines()[:2] == [
        "t.dmn: decision 'D', rule 2: outputEntry id=\"r2o\": F308: 'c' is not a value of enum "
        "'D_y_values'",
        "  = hint: allowed values: a, b",
    ]
    with pytest.raises(DmnError) as info:
        import_dmn(_dmn(tmp_path, _table(outputs=enum, rules=rules.format("b"))))
    assert [(i.element, i.element_id, i.code) for i in info.value.issues] == [
        ("rule", "r2", "F702")
    ], info.value.render("en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<definitions",
            "t.dmn: line 1, column 1: definitions: not well-formed XML: unclosed token",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
            "t.dmn: definitions: a DMN file must not contain a DOCTYPE or ENTITY declaration "
            "(refused for safety)",
        ),
        (
            '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
            "t.dmn: definitions: not a DMN file: the root element is "
            "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions",
        ),
    ],
)
def test_not_a_dmn_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "t.dmn"
    path.write_text(text, "utf-8")
    assert _first_issue(path).startswith(expected)


def test_names_that_are_not_policy_names(tmp_path: Path) -> None:
    """Keywords, names that read as rule ids and names with punctuation get a policy name;
    the JSON key stays the DMN name."""
    body = _table(
        inputs='<input id="i1"><inputExpression id="e1" typeRef="number"><text>AGE</text>'
        '</inputExpression></input><input id="i2"><inputExpression id="e2" typeRef="boolean">'
        "<text>input</text></inputExpression></input>",
        rules='<rule id="r1"><inputEntry id="a"><text>&gt; 1</text></inputEntry><inputEntry '
        'id="b"><text>true</text></inputEntry><outputEntry id="c"><text>"x"</text>'
        "</outputEntry></rule>",
        name="table",
    )
    result = import_dmn(_dmn(tmp_path, body))
    assert '  "AGE" AGE_:     number\n  "input" input_: bool\n' in result.text
    assert "table table_ hit unique {" in result.text
    policy_file = tmp_path / "t.policy"
    policy_file.write_text(result.text, "utf-8")
    values = load_policy(policy_file).evaluate({"AGE": 5, "input": True}).values
    assert values == {"table_": "x"}


def test_errors_pickle() -> None:
    err = DmnError("t.dmn", [DmnIssue("rule", "r1", "决策", "decision", "坏", "bad")])
    again = pickle.loads(pickle.dumps(err))
    assert again.issues == err.issues and str(again) == str(err)


# ---------------------------------------------------------------- CLI


def test_cli_import_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drg.policy"
    assert fanpin(["import-dmn", str(DMN / "drg.dmn"), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "决策「Per Capita Income」→ Per_Capita_Income (定义, 字面表达式)",
        "决策「Risk」→ Risk (决策表, UNIQUE)",
        "决策「Eligible for Aid」→ Eligible_for_Aid (决策表, FIRST)",
        "决策「Aid Amount」→ Aid_Amount (决策表, COLLECT SUM)",
        "输入: Net Income: number, Applicant.age: number, Applicant.registry: registry_values, "
        "Applicant.members: number, Income Line: number",
        f"已写入 {out}",
    ]
    assert 'drg.dmn: 决策「Risk」: decisionTable id="risk_table": 警告: F701' in captured.err
    assert out.read_text("utf-8") == (DMN / "drg.policy").read_text("utf-8")

    households = tmp_path / "h.jsonl"
    rows = [c[0] for c in CASES["drg"]]
    households.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    decisions = tmp_path / "d.jsonl"
    assert fanpin(["evaluate", "--policy", str(out), str(households), "-o", str(decisions)]) == 0
    got = [
        json.loads(line, parse_float=Decimal)["values"]
        for line in decisions.read_text("utf-8").splitlines()
    ]
    assert [v["Aid_Amount"] for v in got] == ["4000", "1000", "0"]
    assert got[0]["Risk"] == {"level": "high", "reason": "农村户低于基准"}

    # a second import replaces a generated file; a hand-written one needs --force
    assert fanpin(["import-dmn", str(DMN / "drg.dmn"), "-o", str(out), "--lang", "en"]) == 0
    hand = tmp_path / "hand.policy"
    hand.write_text("# my policy\n", "utf-8")
    capsys.readouterr()
    assert fanpin(["import-dmn", str(DMN / "drg.dmn"), "-o", str(hand)]) == 2
    assert "--force" in capsys.readouterr().err
    assert hand.read_text("utf-8") == "# my policy\n"
    assert fanpin(["import-dmn", str(DMN / "drg.dmn"), "-o", str(hand), "--force"]) == 0


def test_cli_refuses_unsupported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "u.policy"
    assert fanpin(["import-dmn", str(DMN / "unsupported_feel.dmn"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert 'inputEntry id="entry_function"' in err and err.endswith("4 个问题; 没有生成政策\n")
    assert not out.exists()
    assert fanpin(["import-dmn", str(tmp_path / "none.dmn"), "-o", str(out)]) == 2


# ---------------------------------------------------------------- docs/spreadsheets-and-dmn.md


def test_docs_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_spreadsheet import doc_blocks

    monkeypatch.chdir(tmp_path)
    (tmp_path / "救助.dmn").write_text(doc_blocks("xml 救助.dmn")[0], "utf-8")
    command, _, expected = doc_blocks("console")[3].partition("\n")
    assert command == "$ fanpin import-dmn 救助.dmn -o 救助.policy"
    assert fanpin(["import-dmn", "救助.dmn", "-o", "救助.policy"]) == 0
    captured = capsys.readouterr()
    assert captured.out + captured.err == expected
    assert (tmp_path / "救助.policy").read_text("utf-8") == doc_blocks("policy 救助.policy")[0]
    result = load_policy(tmp_path / "救助.policy").evaluate(
        {"人均纯收入": 5000, "风险类型": "因病"}
    )
    assert result.values["救助等级"] == "一级" and result.fired == ("D1-1",)

    with pytest.raises(DmnError) as info:
        import_dmn(DMN / "unsupported_feel.dmn")
    shown = "\n".join(info.value.render("zh").splitlines()[:2]) + "\n"
    assert doc_blocks("text")[1] == shown
