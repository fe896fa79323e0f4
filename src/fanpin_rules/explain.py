"""Explanations of one decision for people: text, Markdown, HTML and JSON.

Every renderer reads the *document* of a result — :meth:`Result.to_json` plus, for an
explanation, the input record and the policy's list of personal fields (see
``docs/result.schema.json``) — never Python objects, so a result saved last year
renders exactly like a fresh one.  Personal data is masked unless the caller asks to
show it (:func:`explain_document` with ``show_pii=True``).

The explanation reads like an auditor's working paper, in Chinese by default:

* the conclusions that hold, each with its rule id, clause and the conditions with the
  actual values against the thresholds;
* the conclusions that are undetermined, with the missing inputs that block them;
* the derived values and how they were computed
  (``人均纯收入 = (9,600 + 21,500 + 800 + 5,120 − 12,300) ÷ 3 = 8,240.00``);
* why every other rule did not fire: the condition that failed, by how much, and for
  a numeric threshold the value at which it would hold; rows that were overridden or
  shadowed, and by which id;
* the parameters used, with their effective dates and sources.

>>> from fanpin_rules import load_policy
>>> policy = load_policy("examples/language_tour.policy")
>>> hh = {"household_id": "H-1", "size": 2, "income": "16900",
...       "members": [{"age": 40, "able": True, "name": "敖建国"}]}
>>> doc = explain_document(policy.evaluate(hh), household=hh, policy=policy)
>>> doc["household"]["members"][0]["name"], doc["pii_masked"]
('敖**', True)
>>> print(render_text(doc, rule="X-1"))  # doctest: +ELLIPSIS
户 H-1 的判定说明
...
X-1 低收入 〔示例 一(一)〕 — 不成立
...
    ✗ 人均纯收入 8,450.00 高于 收入基准 8,300.00, 差 150.00; 人均纯收入 为 8,300.00 或以下时成立
...
  人均纯收入 (per_capita) = 16,900 ÷ 2 = 8,450.00  〔INC-2〕
...
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fanpin_rules.check.typecheck import FUNCTION_ALIASES
from fanpin_rules.masking import mask_document
from fanpin_rules.trace import tokenize
from fanpin_rules.values import is_number_text, money_text

if TYPE_CHECKING:
    from fanpin_rules.policy import Policy, Result

__all__ = [
    "FORMATS",
    "explain_document",
    "html_fragment",
    "jsonable",
    "pii_fields",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]

Lang = Literal["zh", "en"]
FORMATS = ("text", "md", "html", "json")

# ---------------------------------------------------------------- documents


def pii_fields(policy: Policy) -> list[str]:
    """Paths of the input fields the policy declares personal (``pii``).

    >>> from fanpin_rules import load_policy
    >>> pii_fields(load_policy("ewenki_2024q2"))  # doctest: +NORMALIZE_WHITESPACE
    ['monitoring.contact_person', 'monitoring.contact_phone', 'members[].name',
     'members[].id_no']
    """
    model = policy.model
    out: list[str] = []

    def walk(record_name: str, prefix: str, seen: tuple[str, ...]) -> None:
        rec = model.records.get(record_name)
        if rec is None or rec.name in seen:
            return
        for f in rec.fields:
            if f.pii:
                out.append(prefix + f.key)
            inner = f.type.of if f.type.of is not None else f.type.name
            if inner in model.records:
                suffix = "[]." if f.type.of is not None else "."
                walk(inner, prefix + f.key + suffix, (*seen, rec.name))

    root = model.root_record
    if root is not None:
        walk(root.name, "", ())
    return out


def jsonable(value: Any) -> Any:
    """An input record parsed with ``parse_float=Decimal`` made JSON-ready again
    (decimals as JSON numbers, exactly as written).

    >>> jsonable({"a": Decimal("8599.98"), "b": [Decimal("12000")]})
    {'a': 8599.98, 'b': [12000]}
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def explain_document(
    result: Result,
    *,
    household: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
    show_pii: bool = False,
) -> dict[str, Any]:
    """The document an explanation renders: ``result.to_json()`` with its trace, plus
    the household record under ``household`` (so the result can be replayed) and the
    policy's personal fields under ``pii_fields``.

    Personal data is masked unless ``show_pii`` (``pii_masked`` says which).
    """
    doc = result.to_json(trace=True)
    if household is not None:
        doc["household"] = jsonable(household)
    if policy is not None:
        doc["pii_fields"] = pii_fields(policy)
    if show_pii:
        doc["pii_masked"] = False
        return doc
    return mask_document(doc)


# ---------------------------------------------------------------- words

_W: dict[str, tuple[str, str]] = {
    "title": ("户 {id} 的判定说明", "Decision for household {id}"),
    "policy": ("政策", "policy"),
    "version": ("版本", "version"),
    "as_of": ("评估日期", "as of"),
    "where": ("所在地", "location"),
    "fired_list": ("成立的结论", "conclusions that hold"),
    "undetermined_list": ("待定的结论", "undetermined"),
    "none": ("无", "none"),
    "masked": (
        "身份证号、电话、姓名等敏感信息已遮蔽 (显示原文: --show-pii)",
        "personal data (id numbers, phone numbers, names) is masked (show it: --show-pii)",
    ),
    "shown": ("注意: 本说明含未遮蔽的敏感信息", "note: this explanation shows personal data"),
    "s_fired": ("一、成立的结论", "1. Conclusions that hold"),
    "s_undetermined": ("二、因缺少输入而待定的结论", "2. Undetermined for missing inputs"),
    "s_values": ("三、计算值", "3. Derived values"),
    "s_whynot": ("四、未成立的规则及原因", "4. Why the other rules did not fire"),
    "s_params": ("五、使用的参数", "5. Parameters used"),
    "s_params_used": ("使用的参数", "Parameters used"),
    "s_data": ("六、输入数据", "6. Input data"),
    "s_rule": ("规则", "Rule"),
    "s_related": ("相关计算值", "Related derived values"),
    "constants": ("政策常量", "policy constants"),
    "formula": ("公式", "formula"),
    "rounded": ("四舍五入保留 {n} 位小数", "rounded half-up to {n} decimals"),
    "unknown_value": ("未知", "unknown"),
    "missing": ("缺少", "missing"),
    "missing_inputs": ("缺少的必填项", "missing required inputs"),
    "ignored_keys": ("忽略的未知字段", "ignored unknown keys"),
    "effective": ("{d} 起生效", "effective {d}"),
    "source": ("来源", "source"),
    "overridden_param": ("运行时覆盖", "overridden at run time"),
    "overridden": ("条件成立, 但被 {by} 覆盖 ({by} 优先于 {id})", "held, but {by} overrides it"),
    "shadowed": (
        "本行条件成立, 但决策表「{table}」按 {hit} 命中规则选了 {by}",
        "the row matched, but table '{table}' ({hit} hit policy) chose {by}",
    ),
    "undetermined_by": ("缺少输入, 无法判断", "undetermined: inputs missing"),
    "elements": ("逐项", "each"),
    "member": ("第{n}人", "#{n}"),
    "element": ("第{n}项", "#{n}"),
    "row": ("行", "row"),
    "cell_ok": ("{col} = {val}, 符合本行条件 {test}", "{col} = {val}, meets the cell {test}"),
    "cell_bad": ("{col} = {val}, 不符合本行条件 {test}", "{col} = {val}, fails the cell {test}"),
    "cell_unknown": ("{col} 缺失, 无法对照本行条件 {test}", "{col} is missing for the cell {test}"),
    "gap": (", 差 {g}", " by {g}"),
    "gap_days": (", 相差 {g} 天", " by {g} days"),
    "would_le": ("{l} 为 {w} 或以下时成立", "holds at {w} or below"),
    "would_ge": ("{l} 为 {w} 或以上时成立", "holds at {w} or above"),
    "would_eq": ("{l} 为 {w} 时成立", "holds at {w}"),
    "would_before": ("{l} 为 {w} 或更早时成立", "holds on {w} or earlier"),
    "would_after": ("{l} 为 {w} 或更晚时成立", "holds on {w} or later"),
    "is_not": ("{l} 为 {v}, 不是 {r}", "{l} is {v}, not {r}"),
    "is_equal": ("{l} 为 {v} (要求不为 {r})", "{l} is {v} (must not be {r})"),
    "cmp_unknown": ("{c}: 数据缺失, 无法判断", "{c}: data missing, cannot tell"),
    "cmp_absent": (
        "{c}: 缺少数值 (可选项未填写), 按规定视为不成立",
        "{c}: no value (optional input not given), counts as false",
    ),
    "fails": ("{c} 不成立", "{c} does not hold"),
    "hit": ("命中规则", "hit policy"),
    "catch_all": (
        "本行各列都是 “-”: 前面的行都不成立时由本行兜底",
        "every cell of this row is '-': it catches what the rows above leave",
    ),
    "back": ("返回", "back"),
}
_STATUS = {
    "fired": ("成立", "holds"),
    "not_fired": ("不成立", "does not hold"),
    "undetermined": ("待定", "undetermined"),
    "overridden": ("被覆盖", "overridden"),
    "shadowed": ("未被选中", "shadowed"),
}
_RULE_TRUTH = {
    "true": ("成立", "holds"),
    "false": ("不成立", "does not hold"),
    "unknown": ("待定", "undetermined"),
}
_SEVERITY = {
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "high": ("严重", "high"),
    "info": ("提示", "note"),
}
_MARK = {"true": "✓", "false": "✗", "unknown": "?"}
_SYM = {"<=": "≤", ">=": "≥", "!=": "≠", "=": "=", "<": "<", ">": ">"}
_OPS = {"<=": "≤", ">=": "≥", "!=": "≠", "*": "×", "/": "÷", "-": "−"}
_KEYWORDS_ZH = {
    "and": "且",
    "or": "或",
    "not": "非",
    "in": "属于",
    "where": "其中",
    "if": "如果",
    "then": "则",
    "else": "否则",
    "true": "是",
    "false": "否",
    "between": "介于",
    "it": "该项",
}
_IS_ZH = {
    ("not", "empty"): "不为空",
    ("empty",): "为空",
    ("present",): "已填写",
    ("not", "present"): "未填写",
    ("missing",): "缺失",
    ("not", "missing"): "未缺失",
}
_FUNCS_ZH = {canonical: zh for zh, canonical in FUNCTION_ALIASES.items()}
_BUILTINS = {"as_of": ("评估日期", "as_of")}
_LITERAL_KINDS = frozenset({"number", "date", "string"})
_ORDERED = frozenset({"money", "int", "number", "date"})
_ROUND = re.compile(r"^round\((?P<inner>.*), (?P<n>\d+)\)$", re.S)


def _group(number: str) -> str:
    """Thousands separators: ``-12300.5`` → ``-12,300.5``."""
    sign = "-" if number.startswith("-") else ""
    body = number.lstrip("+-")
    whole, dot, frac = body.partition(".")
    if whole.isdigit() and len(whole) > 3:
        whole = f"{int(whole):,}"
    return sign + whole + dot + frac


def _money(text: str) -> str:
    try:
        return _group(money_text(Decimal(text)))
    except InvalidOperation:
        return text


def _strip_round(text: str) -> tuple[str, int | None]:
    """``round(x, 2)`` → ``("x", 2)`` when the round is the whole text."""
    m = _ROUND.match(text)
    if m is None:
        return text, None
    inner = m["inner"]
    depth = 0
    for ch in inner:  # the parentheses inside must balance, or the round is not outermost
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return text, None
    return (inner, int(m["n"])) if depth == 0 else (text, None)


@attrs.frozen
class _Line:
    depth: int
    text: str
    mark: str | None = None


@attrs.frozen
class _Item:
    anchor: str | None
    head: str
    status: str | None = None
    lines: tuple[_Line, ...] = ()
    message: str | None = None


@attrs.frozen
class _Section:
    key: str
    title: str
    items: tuple[_Item, ...]
    empty: str | None = None


@attrs.frozen
class _View:
    title: str
    facts: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    sections: tuple[_Section, ...]


class _Explainer:
    """Turns a result document into language-specific lines (no markup)."""

    def __init__(self, doc: Mapping[str, Any], lang: str) -> None:
        self.doc = doc
        self.zh = lang != "en"
        trace = doc.get("trace") or {}
        self.terms: dict[str, Any] = dict(trace.get("terms") or {})
        self.values = {v["name"]: v for v in trace.get("values", [])}
        self.conclusions: list[dict[str, Any]] = list(trace.get("conclusions", []))
        self.ids = {c["rule_id"] for c in self.conclusions}
        self.tables = {t["name"]: t for t in trace.get("tables", [])}
        data = doc.get("household")
        self.input: dict[str, Any] | None = data if isinstance(data, dict) else None

    # ------------------------------------------------------------ words and values
    def w(self, key: str, **fmt: Any) -> str:
        zh, en = _W[key]
        return (zh if self.zh else en).format(**fmt)

    def pick(self, pair: tuple[str, str]) -> str:
        return pair[0] if self.zh else pair[1]

    def label(self, name: str) -> str:
        term = self.terms.get(name)
        if term is None:
            builtin = _BUILTINS.get(name)
            return self.pick(builtin) if builtin is not None else name
        return str(term["zh"] if self.zh else term["en"])

    def expr(self, text: str) -> str:
        """A condition or formula in the reader's words: labels, ×, ÷, ≤, separators."""
        toks = [t for t in tokenize(text)]
        out: list[str] = []
        i = 0

        def next_words(k: int, n: int) -> list[str]:
            words: list[str] = []
            j = k + 1
            while j < len(toks) and len(words) < n:
                if toks[j][0] != "space":
                    words.append(toks[j][1])
                j += 1
            return words

        def skip_words(k: int, n: int) -> int:
            j = k
            while n > 0:
                j += 1
                if toks[j][0] != "space":
                    n -= 1
            return j

        between = False
        while i < len(toks):
            kind, tok = toks[i]
            if kind == "name":
                nxt = next_words(i, 2)
                if tok in self.terms or tok in _BUILTINS:
                    out.append(self.label(tok))
                elif nxt[:1] == ["("] and tok in _FUNCS_ZH:
                    out.append(_FUNCS_ZH[tok] if self.zh else tok)
                elif self.zh and tok == "is":
                    for words, zh in _IS_ZH.items():
                        if nxt[: len(words)] == list(words):
                            out.append(zh)
                            i = skip_words(i, len(words))
                            break
                    else:
                        out.append(tok)
                elif self.zh and tok == "not" and nxt[:1] == ["in"]:
                    out.append("不属于")
                    i = skip_words(i, 1)
                elif self.zh and tok == "and" and between:
                    out.append("至")
                    between = False
                elif self.zh and tok in _KEYWORDS_ZH:
                    between = between or tok == "between"
                    out.append(_KEYWORDS_ZH[tok])
                else:
                    out.append(tok)
            elif kind == "string":
                out.append(self.string(tok))
            elif kind == "number":
                out.append(_group(tok))
            elif kind == "op":
                out.append(_OPS.get(tok, tok))
            elif kind == "other" and tok == "?":
                out.append("(缺失)" if self.zh else "(missing)")
            else:
                out.append(tok)
            i += 1
        return "".join(out)

    def string(self, quoted: str) -> str:
        term = self.terms.get(quoted)
        try:
            raw = json.loads(quoted)
        except json.JSONDecodeError:
            raw = quoted.strip('"')
        if not self.zh:
            return quoted
        return f"「{term['zh'] if term is not None else raw}」"

    def val(self, v: Any, kind: str | None = None) -> str:
        """A JSON value as a person reads it (money with two decimals and separators)."""
        if v is None:
            return "(缺失)" if self.zh else "(missing)"
        if isinstance(v, bool):
            return ("是" if v else "否") if self.zh else ("yes" if v else "no")
        if isinstance(v, int | float):
            v = str(v)
        if isinstance(v, str):
            if kind == "money" and is_number_text(v):
                return _money(v)
            if is_number_text(v):
                return _group(v)
            if self.zh and f'"{v}"' in self.terms:
                return str(self.terms[f'"{v}"']["zh"])
            return v
        if isinstance(v, list):
            if not v:
                return "(空)" if self.zh else "(empty)"
            sep = "、" if self.zh else ", "
            return "{" + sep.join(self.val(x) for x in v) + "}"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{self.label(k)}: {self.val(x)}" for k, x in v.items()) + "}"
        return str(v)

    def rule_truth(self, v: str) -> str:
        return self.pick(_RULE_TRUTH.get(v, (v, v)))

    def missing_text(self, paths: Sequence[str]) -> str:
        shown = []
        for p in paths:
            lab = self.label(p)
            shown.append(f"{lab} ({p})" if lab != p else p)
        return ", ".join(shown)

    # ------------------------------------------------------------ conditions
    @staticmethod
    def _literal(text: str) -> bool:
        toks = [t for t in tokenize(text) if t[0] != "space"]
        return len(toks) == 1 and (toks[0][0] in _LITERAL_KINDS or toks[0][1] in ("true", "false"))

    @staticmethod
    def _simple(text: str) -> bool:
        toks = [t for t in tokenize(text) if t[0] != "space"]
        return len(toks) == 1 and toks[0][0] in ("name", "rule")

    def side(self, text: str, value: Any, kind: str | None) -> str:
        shown = self.val(value, kind)
        if self._literal(text):
            return shown
        if self._simple(text) or value is None:  # (缺失) has its parentheses already
            return f"{self.expr(text)} {shown}"
        return f"{self.expr(text)} ({shown})"

    def comparison(self, c: Mapping[str, Any]) -> str:
        kind = c.get("kind")
        left = self.side(c["left"], c["left_value"], kind)
        right = self.side(c["right"], c["right_value"], kind)
        op, truth = c["op"], c["truth"]
        plain = f"{left} {_SYM.get(op, op)} {right}"
        if truth == "true":
            if op == "=" and kind not in _ORDERED and self._literal(c["right"]):
                return f"{self.expr(c['left'])} = {self.val(c['left_value'], kind)}"
            return plain
        if truth == "unknown":
            return self.w("cmp_unknown", c=plain)
        if c["left_value"] is None or c["right_value"] is None:
            return self.w("cmp_absent", c=plain)
        gap = c.get("gap")
        if gap is None:
            if op == "=":
                return self.w(
                    "is_not",
                    l=self.expr(c["left"]),
                    v=self.val(c["left_value"], kind),
                    r=self.val(c["right_value"], kind),
                )
            if op == "!=":
                return self.w(
                    "is_equal",
                    l=self.expr(c["left"]),
                    v=self.val(c["left_value"], kind),
                    r=self.val(c["right_value"], kind),
                )
            return self.w("fails", c=plain)
        g = Decimal(gap)
        date = kind == "date"
        if g < 0:
            rel = ("早于" if date else "低于") if self.zh else ("is before" if date else "is below")
        elif g > 0:
            rel = ("晚于" if date else "高于") if self.zh else ("is after" if date else "is above")
        else:
            rel = "等于" if self.zh else ("is the same day as" if date else "equals")
        text = f"{left} {rel} {right}"
        if g != 0:
            amount = str(abs(g)) if date else abs(g)
            if date:
                text += self.w("gap_days", g=amount)
            else:
                shown = _money(str(amount)) if kind == "money" else _group(str(amount))
                text += self.w("gap", g=shown)
        would = c.get("would_fire_at")
        if would is not None:
            w = self.val(would, kind)
            lab = self.expr(c["left"])
            if op in ("<", "<="):
                key = "would_before" if date else "would_le"
            elif op in (">", ">="):
                key = "would_after" if date else "would_ge"
            else:
                key = "would_eq"
            text += "; " + self.w(key, l=lab, w=w)
        return text

    def observation(self, o: Mapping[str, Any]) -> str:
        name = o["name"]
        if name in self.ids and o["value"] in _RULE_TRUTH:
            return f"{name} {self.rule_truth(o['value'])}"
        kind = (self.terms.get(name) or {}).get("type")
        return f"{self.expr(name)} = {self.val(o['value'], kind)}"

    def cell(self, cond: Mapping[str, Any]) -> str:
        column, test = cond["column"], cond["test"]
        col = self.expr(column)
        value: Any = None
        found = False
        for cmp in cond.get("comparisons", []):
            value, found = cmp["left_value"], True
            break
        if not found:
            for table in self.tables.values():
                for obs in table.get("inputs", []):
                    if obs["name"] == column:
                        value, found = obs["value"], True
        kind = (self.terms.get(column) or {}).get("type")
        shown = self.val(value, kind)
        test_text = self.expr(test)
        if cond["truth"] == "true":
            return self.w("cell_ok", col=col, val=shown, test=test_text)
        if cond["truth"] == "unknown":
            return self.w("cell_unknown", col=col, test=test_text)
        text = self.w("cell_bad", col=col, val=shown, test=test_text)
        for cmp in cond.get("comparisons", []):
            if cmp.get("would_fire_at") is not None and cmp.get("gap") is not None:
                return f"{text}; {self.comparison(cmp).split('; ', 1)[-1]}"
        return text

    def condition(self, cond: Mapping[str, Any]) -> str:
        if cond.get("column") is not None:
            return self.cell(cond)
        text = cond["text"]
        comps = cond.get("comparisons", [])
        obs = cond.get("observations", [])
        if len(comps) == 1 and not obs:
            c = comps[0]
            if text == f"{c['left']} {c['op']} {c['right']}":
                return self.comparison(c)
        if len(obs) == 1 and not comps and obs[0]["name"] == text:
            return self.observation(obs[0])
        base = self.expr(text)
        if cond.get("parts"):
            return base
        details = [self.comparison(c) for c in comps] + [self.observation(o) for o in obs]
        return f"{base}: {'; '.join(details)}" if details else base

    def element_line(self, elements: Sequence[Mapping[str, Any]]) -> str:
        shown = []
        for el in elements:
            path = str(el["path"])
            m = re.search(r"\[(\d+)\]$", path)
            n = int(m[1]) + 1 if m else 0
            who = self.w("member" if path.startswith("members[") else "element", n=n)
            name = self._input_at(path + ".name")
            extra = f" {name}" if isinstance(name, str) and name.strip() else ""
            shown.append(f"{who}{extra} {_MARK.get(el['truth'], '?')}")
        return f"{self.w('elements')}: " + (", " if not self.zh else "，").join(shown)

    def _input_at(self, path: str) -> Any:
        node: Any = self.input
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
            if node is None:
                return None
            if part.startswith("["):
                idx = int(part[1:-1])
                node = node[idx] if isinstance(node, list) and idx < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node

    def condition_lines(
        self,
        cond: Mapping[str, Any],
        depth: int,
        max_depth: int,
        said: Sequence[str] = (),
    ) -> Iterator[_Line]:
        """A condition and, below it, what it is missing (unless already said above),
        how each list element fared, and its parts."""
        yield _Line(depth, self.condition(cond), cond["truth"])
        missing = list(cond.get("missing") or [])
        if missing and missing != list(said):
            yield _Line(depth + 1, f"{self.w('missing')}: {self.missing_text(missing)}")
        if cond.get("elements"):
            yield _Line(depth + 1, self.element_line(cond["elements"]))
        if depth < max_depth:
            for part in cond.get("parts", []):
                yield from self.condition_lines(part, depth + 1, max_depth, missing or said)

    # ------------------------------------------------------------ conclusions
    def head(self, c: Mapping[str, Any]) -> str:
        parts = [c["rule_id"]]
        if c.get("table"):
            table = self.tables.get(c["table"]) or {}
            tlabel = table.get("label") or c["table"]
            parts.append(f"[{tlabel}]")
            if c.get("message"):
                parts.append(str(c["message"]))
        elif c.get("title"):
            parts.append(str(c["title"]))
        if c.get("cite"):
            parts.append(f"〔{c['cite']}〕")
        if c.get("severity") and c["severity"] in _SEVERITY:
            parts.append(f"[{self.pick(_SEVERITY[c['severity']])}]")
        return " ".join(parts)

    def conclusion_item(
        self, c: Mapping[str, Any], mode: str, *, prefix: str = "", location: bool = False
    ) -> _Item:
        lines: list[_Line] = []
        status = c["status"]
        message = str(c["message"]) if c.get("message") and not c.get("table") else None
        if mode == "full":
            if location and c.get("span"):
                span = c["span"]
                lines.append(_Line(1, f"{span['file']}:{span['line']}:{span['col']}"))
            if c.get("hit_policy"):
                lines.append(_Line(1, f"{self.w('hit')}: {c['hit_policy']}"))
            conds = c.get("conditions", [])
            depth = 99
        elif mode == "fired":
            conds = c.get("conditions", [])
            depth = 2
        elif mode == "undetermined":
            lines.append(_Line(1, f"{self.w('missing')}: {self.missing_text(c['missing'])}"))
            conds = [x for x in c.get("conditions", []) if x["truth"] == "unknown"]
            depth = 99
        else:  # why-not
            conds = []
            if status == "overridden":
                lines.append(_Line(1, self.w("overridden", by=c["overridden_by"], id=c["rule_id"])))
            elif status == "shadowed":
                table = self.tables.get(c.get("table") or "") or {}
                lines.append(
                    _Line(
                        1,
                        self.w(
                            "shadowed",
                            table=table.get("label") or c.get("table"),
                            hit=c.get("hit_policy"),
                            by=c["shadowed_by"],
                        ),
                    )
                )
            else:
                conds = [x for x in c.get("conditions", []) if x["truth"] == "false"]
            depth = 99
        said = (c.get("missing") or ()) if mode == "undetermined" else ()  # said above
        for cond in conds:
            lines.extend(self.condition_lines(cond, 1, depth, said))
        if mode in ("full", "fired") and c.get("table") and not c.get("conditions"):
            lines.append(_Line(1, self.w("catch_all")))
        head = self.head(c)
        if mode == "full":
            head += f" — {self.pick(_STATUS[status])}"
        if mode not in ("full", "fired"):
            message = None
        return _Item(f"{prefix}rule-{c['rule_id']}", head, status, tuple(lines), message)

    # ------------------------------------------------------------ values and parameters
    def value_item(self, v: Mapping[str, Any], prefix: str = "") -> _Item:
        label, name = v.get("label"), v["name"]
        zh_en = self.terms.get(name)
        shown_name = self.label(name) if zh_en else (label or name)
        other = name if shown_name != name else (label or "")
        title = f"{shown_name} ({other})" if other and other != shown_name else shown_name
        kind = v.get("type")
        lines: list[_Line] = []
        if v["value"] is None and v.get("missing"):
            result = f"{self.w('unknown_value')}, {self.w('missing')}: " + self.missing_text(
                v["missing"]
            )
        else:
            result = self.val(v["value"], kind)
        formula, places = _strip_round(v["formula"])
        shown_calc = v.get("expanded") or v["computed"]
        calc, _ = _strip_round(shown_calc)
        calc_text = self.expr(calc)
        head = f"{title} = "
        if kind in ("money", "int", "number") and calc != formula and calc_text != result:
            head += f"{calc_text} = {result}"
        else:
            head += result
        if v.get("cite"):
            head += f"  〔{v['cite']}〕"
        formula_text = self.expr(formula)
        if formula_text != result:
            extra = f", {self.w('rounded', n=places)}" if places is not None else ""
            lines.append(_Line(1, f"{self.w('formula')}: {formula_text}{extra}"))
        if kind not in ("money", "int", "number") and v["computed"] != v["formula"]:
            computed = self.expr(v["computed"])
            if computed != result and len(computed) <= 160:
                lines.append(_Line(1, f"= {computed}"))
        return _Item(f"{prefix}value-{name}", head, None, tuple(lines))

    def param_item(self, p: Mapping[str, Any]) -> _Item:
        zh_en = p["name"], p.get("label")
        name = zh_en[0] if self.zh else (zh_en[1] or zh_en[0])
        other = zh_en[1] if self.zh else zh_en[0]
        kind = (self.terms.get(p["name"]) or {}).get("type")
        value = self.val(p["value"], kind)
        head = f"{name}{f' ({other})' if other and other != name else ''} = {value}"
        if p.get("unit"):
            head += f" {p['unit']}"
        details = []
        if p.get("effective"):
            details.append(self.w("effective", d=p["effective"]))
        if p.get("source"):
            details.append(f"{self.w('source')}: {p['source']}")
        if p.get("overridden"):
            details.append(self.w("overridden_param"))
        lines = (_Line(1, "; ".join(details)),) if details else ()
        return _Item(None, head, None, lines)

    @staticmethod
    def _constant(v: Mapping[str, Any]) -> bool:
        return not any(k == "name" for k, _ in tokenize(v["formula"])) and not v.get("missing")

    # ------------------------------------------------------------ the view
    def header(
        self, notes: bool = True
    ) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
        doc = self.doc
        title = self.w("title", id=doc.get("household_id") or "?")
        policy = doc.get("policy") or {}
        facts: list[tuple[str, str]] = []
        shown = [str(policy.get("name", "?"))]
        if policy.get("version"):
            shown.append(f"{self.w('version')} {policy['version']}")
        if policy.get("hash"):
            shown.append(str(policy["hash"])[:19])
        facts.append((self.w("policy"), " · ".join(shown)))
        facts.append((self.w("as_of"), str(doc.get("as_of"))))
        if self.input is not None:
            place = " · ".join(str(self.input[k]) for k in ("sumu", "gacha") if self.input.get(k))
            if place:
                facts.append((self.w("where"), place))
        facts.append((self.w("fired_list"), ", ".join(doc.get("fired", [])) or self.w("none")))
        und = doc.get("undetermined") or {}
        facts.append((self.w("undetermined_list"), ", ".join(und) or self.w("none")))
        out_notes: list[str] = []
        if notes:
            out_notes.append(self.w("masked") if doc.get("pii_masked") else self.w("shown"))
        return title, tuple(facts), tuple(out_notes)

    def view(self, rule: str | None = None, *, compact: bool = False, prefix: str = "") -> _View:
        title, facts, notes = self.header(notes=not compact)
        if rule is not None:
            return self._rule_view(rule, title, facts, notes, prefix)
        by_status: dict[str, list[dict[str, Any]]] = {}
        for c in self.conclusions:
            by_status.setdefault(c["status"], []).append(c)
        sections = [
            _Section(
                "fired",
                self.w("s_fired") + f" ({len(by_status.get('fired', []))})",
                tuple(
                    self.conclusion_item(c, "fired", prefix=prefix)
                    for c in by_status.get("fired", [])
                ),
                self.w("none"),
            ),
            _Section(
                "undetermined",
                self.w("s_undetermined") + f" ({len(by_status.get('undetermined', []))})",
                tuple(
                    self.conclusion_item(c, "undetermined", prefix=prefix)
                    for c in by_status.get("undetermined", [])
                ),
                self.w("none"),
            ),
        ]
        values = list(self.values.values())
        shown = [
            v
            for v in values
            if not self._constant(v) and (not compact or v.get("type") in ("money", "number"))
        ]
        numeric = [v for v in shown if v.get("type") in ("money", "int", "number")]
        others = [v for v in shown if v.get("type") not in ("money", "int", "number")]
        value_items = [self.value_item(v, prefix) for v in numeric + others]
        constants = [v for v in values if self._constant(v)]
        if constants and not compact:
            lines = tuple(
                _Line(1, f"{self.label(v['name'])} = {self.val(v['value'])}") for v in constants
            )
            value_items.append(_Item(None, self.w("constants"), None, lines))
        sections.append(_Section("values", self.w("s_values"), tuple(value_items)))
        if compact:
            return _View(title, facts, notes, tuple(sections))
        whynot = [c for c in self.conclusions if c["status"] not in ("fired", "undetermined")]
        sections.append(
            _Section(
                "whynot",
                self.w("s_whynot") + f" ({len(whynot)})",
                tuple(self.conclusion_item(c, "whynot", prefix=prefix) for c in whynot),
                self.w("none"),
            )
        )
        sections.append(
            _Section(
                "params",
                self.w("s_params"),
                tuple(self.param_item(p) for p in self.doc.get("params", [])),
                self.w("none"),
            )
        )
        data_items = []
        if self.doc.get("missing_inputs"):
            data_items.append(
                _Item(
                    None,
                    f"{self.w('missing_inputs')}: " + self.missing_text(self.doc["missing_inputs"]),
                )
            )
        if self.doc.get("ignored_keys"):
            data_items.append(
                _Item(None, f"{self.w('ignored_keys')}: " + ", ".join(self.doc["ignored_keys"]))
            )
        if data_items:
            sections.append(_Section("data", self.w("s_data"), tuple(data_items)))
        return _View(title, facts, notes, tuple(sections))

    def _rule_view(
        self,
        rule: str,
        title: str,
        facts: tuple[tuple[str, str], ...],
        notes: tuple[str, ...],
        prefix: str,
    ) -> _View:
        found = [c for c in self.conclusions if c["rule_id"] == rule]
        if not found:
            raise KeyError(rule)
        c = found[0]
        item = self.conclusion_item(c, "full", prefix=prefix, location=True)
        names: list[str] = []

        def gather(cond: Mapping[str, Any]) -> None:
            for kind, tok in tokenize(cond["text"]):
                if kind == "name" and tok in self.values and tok not in names:
                    names.append(tok)
                elif kind == "name" and (self.terms.get(tok) or {}).get("kind") == "let":
                    for v in self.values.values():
                        if v.get("label") == tok and v["name"] not in names:
                            names.append(v["name"])
            for part in cond.get("parts", []):
                gather(part)

        for cond in c.get("conditions", []):
            gather(cond)
        related = tuple(self.value_item(self.values[n], prefix) for n in names)
        params = tuple(
            self.param_item(p)
            for p in self.doc.get("params", [])
            if any(
                p["name"] in cond_text or (p.get("label") or "\0") in cond_text
                for cond_text in _texts(c)
            )
        )
        sections = [
            _Section("rule", f"{self.w('s_rule')} {rule}", (item,)),
            _Section("values", self.w("s_related"), related, self.w("none")),
        ]
        if params:
            sections.append(_Section("params", self.w("s_params_used"), params))
        return _View(title, facts, notes, tuple(sections))


def _texts(c: Mapping[str, Any]) -> Iterator[str]:
    def walk(cond: Mapping[str, Any]) -> Iterator[str]:
        yield cond["text"]
        for part in cond.get("parts", []):
            yield from walk(part)

    for cond in c.get("conditions", []):
        yield from walk(cond)


# ---------------------------------------------------------------- text


def _check_doc(doc: Mapping[str, Any]) -> None:
    if not isinstance(doc, Mapping) or "fired" not in doc:
        raise ValueError("not a result document (no 'fired' key)")


def render_text(doc: Mapping[str, Any], lang: str = "zh", rule: str | None = None) -> str:
    """A plain-text explanation for the terminal (Chinese by default).

    ``rule`` shows one conclusion in full: every condition broken down, the derived
    values it reads, the parameters it uses and where it is written in the policy.
    """
    _check_doc(doc)
    view = _Explainer(doc, lang).view(rule)
    out = [view.title]
    out.extend(f"  {k}: {v}" for k, v in view.facts)
    out.extend(f"  {n}" for n in view.notes)
    for section in view.sections:
        out.append("")
        out.append(section.title)
        if not section.items and section.empty:
            out.append(f"  ({section.empty})")
        for item in section.items:
            out.append(f"  {item.head}" if section.key != "rule" else item.head)
            if item.message:
                out.append(("    " if section.key != "rule" else "  ") + item.message)
            for line in item.lines:
                pad = "  " * (line.depth + (0 if section.key == "rule" else 1))
                mark = f"{_MARK[line.mark]} " if line.mark else ""
                out.append(f"{pad}{mark}{line.text}")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("<", "&lt;")


def render_markdown(doc: Mapping[str, Any], lang: str = "zh", rule: str | None = None) -> str:
    """A Markdown explanation (headings, nested lists; anchors ``rule-ID``)."""
    _check_doc(doc)
    view = _Explainer(doc, lang).view(rule)
    out = [f"# {_md(view.title)}", ""]
    out.extend(f"- **{_md(k)}**: {_md(v)}" for k, v in view.facts)
    if view.notes:
        out.append("")
        out.extend(f"> {_md(n)}" for n in view.notes)
    for section in view.sections:
        out.extend(["", f"## {_md(section.title)}", ""])
        if not section.items and section.empty:
            out.append(f"_{_md(section.empty)}_")
        for item in section.items:
            if item.anchor is not None and section.key in (
                "fired",
                "undetermined",
                "whynot",
                "rule",
            ):
                out.append(f'### <a id="{item.anchor}"></a>{_md(item.head)}')
                out.append("")
                if item.message:
                    out.extend([_md(item.message), ""])
                for line in item.lines:
                    mark = f"{_MARK[line.mark]} " if line.mark else ""
                    out.append(f"{'  ' * (line.depth - 1)}- {mark}{_md(line.text)}")
                out.append("")
            else:
                out.append(f"- {_md(item.head)}")
                for line in item.lines:
                    mark = f"{_MARK[line.mark]} " if line.mark else ""
                    out.append(f"{'  ' * line.depth}- {mark}{_md(line.text)}")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- html

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
sans-serif;margin:0;background:#f6f7f9;color:#1d2330;line-height:1.5}
main{max-width:1100px;margin:0 auto;padding:1.2rem 1.5rem 3rem}
h1{font-size:1.45rem;margin:.4rem 0}h2{font-size:1.15rem;border-bottom:2px solid #c8ced8;
padding-bottom:.2rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.5rem 0}
.facts dt{color:#5b6475}.facts dd{margin:0}.note{color:#8a5a00;background:#fff6e0;
padding:.3rem .6rem;border-radius:4px;display:inline-block}
article{background:#fff;border:1px solid #dde2ea;border-left:4px solid #9aa4b5;
border-radius:4px;padding:.5rem .8rem;margin:.5rem 0}
article.fired{border-left-color:#2f8f46}article.undetermined{border-left-color:#c98a00}
article.not_fired{border-left-color:#b8bfcc}article.overridden,article.shadowed{
border-left-color:#7a5cc2}ul{margin:.2rem 0;padding-left:1.3rem}li{margin:.1rem 0}
article ul{list-style:none;padding-left:1.1rem}.msg{margin:.2rem 0 .3rem}
.m-true{color:#2f8f46}.m-false{color:#b3261e}.m-unknown{color:#c98a00}
.mark{font-weight:bold;margin-right:.3rem}.rid{font-family:ui-monospace,Menlo,monospace;
background:#eef1f6;padding:0 .3rem;border-radius:3px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #dde2ea;
padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#eef1f6}
.num{text-align:right;font-variant-numeric:tabular-nums}a{color:#1f5fbf}
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


_RULE_IN_TEXT = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]*-[0-9]+[a-z]?|EL)(?![\w-])")


def _linked(text: str, ids: set[str], prefix: str) -> str:
    """Escape and link every rule id that the document has a conclusion for."""

    def link(m: re.Match[str]) -> str:
        rid = m[1]
        if rid not in ids:
            return rid
        return f'<a href="#{prefix}rule-{rid}">{rid}</a>'

    return _RULE_IN_TEXT.sub(link, _esc(text))


def _html_lines(lines: Sequence[_Line], ids: set[str], prefix: str, base: int = 1) -> str:
    out: list[str] = []
    depth = base - 1
    for line in lines:
        while depth < line.depth:
            out.append("<ul>")
            depth += 1
        while depth > line.depth:
            out.append("</li></ul>")
            depth -= 1
        if out and not out[-1].endswith("<ul>"):
            out.append("</li>")
        mark = ""
        cls = ""
        if line.mark:
            cls = f' class="m-{line.mark}"'
            mark = f'<span class="mark">{_MARK[line.mark]}</span>'
        out.append(f"<li{cls}>{mark}{_linked(line.text, ids, prefix)}")
    while depth >= base:
        out.append("</li></ul>")
        depth -= 1
    return "".join(out)


def html_fragment(
    doc: Mapping[str, Any],
    lang: str = "zh",
    rule: str | None = None,
    *,
    compact: bool = False,
    anchor_prefix: str = "",
    heading_level: int = 1,
) -> str:
    """The explanation as an HTML fragment (no ``<html>``): the batch report embeds one
    per household, with ``anchor_prefix`` keeping the anchors apart."""
    _check_doc(doc)
    ex = _Explainer(doc, lang)
    view = ex.view(rule, compact=compact, prefix=anchor_prefix)
    # link only to the conclusions this view shows
    head = f"{anchor_prefix}rule-"
    ex.ids = {
        item.anchor[len(head) :]
        for section in view.sections
        for item in section.items
        if item.anchor is not None and item.anchor.startswith(head)
    }
    h1, h2 = f"h{heading_level}", f"h{heading_level + 1}"
    h3 = f"h{heading_level + 2}"
    out = [f"<{h1}>{_esc(view.title)}</{h1}>", '<dl class="facts">']
    for k, v in view.facts:
        out.append(f"<dt>{_esc(k)}</dt><dd>{_linked(v, ex.ids, anchor_prefix)}</dd>")
    out.append("</dl>")
    out.extend(f'<p class="note">{_esc(n)}</p>' for n in view.notes)
    for section in view.sections:
        out.append(f'<section class="s-{section.key}"><{h2}>{_esc(section.title)}</{h2}>')
        if not section.items and section.empty:
            out.append(f"<p>{_esc(section.empty)}</p>")
        if section.key in ("values", "params"):
            out.append("<ul>")
            for item in section.items:
                anchor = f' id="{_esc(item.anchor)}"' if item.anchor else ""
                out.append(f"<li{anchor}>{_linked(item.head, ex.ids, anchor_prefix)}")
                out.append(_html_lines(item.lines, ex.ids, anchor_prefix))
                out.append("</li>")
            out.append("</ul>")
        else:
            for item in section.items:
                anchor = f' id="{_esc(item.anchor)}"' if item.anchor else ""
                status = f" {item.status}" if item.status else ""
                out.append(f'<article class="c{status}"{anchor}>')
                out.append(f"<{h3}>{_linked(item.head, ex.ids, anchor_prefix)}</{h3}>")
                if item.message:
                    out.append(f'<p class="msg">{_esc(item.message)}</p>')
                out.append(_html_lines(item.lines, ex.ids, anchor_prefix))
                out.append("</article>")
        out.append("</section>")
    return "\n".join(out)


def render_html(doc: Mapping[str, Any], lang: str = "zh", rule: str | None = None) -> str:
    """A single self-contained HTML page (inline CSS, no script, no network)."""
    _check_doc(doc)
    title = _Explainer(doc, lang).header(notes=False)[0]
    body = html_fragment(doc, lang, rule)
    lang_attr = "en" if lang == "en" else "zh-CN"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang_attr}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- json and dispatch


def render_json(doc: Mapping[str, Any]) -> str:
    """The document as indented JSON (see ``docs/result.schema.json``)."""
    _check_doc(doc)
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def render(
    doc: Mapping[str, Any], fmt: str = "text", lang: str = "zh", rule: str | None = None
) -> str:
    """Render a result document as ``text``, ``md``, ``html`` or ``json``."""
    if fmt == "json":
        return render_json(doc)
    if fmt == "md":
        return render_markdown(doc, lang, rule)
    if fmt == "html":
        return render_html(doc, lang, rule)
    if fmt == "text":
        return render_text(doc, lang, rule)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
