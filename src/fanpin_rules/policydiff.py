"""What a change to a policy does: to its text, and to real households.

* :func:`compare_texts` lists the declarations (parameters, rules, tables, derived
  values, types) added, removed or changed between two policies, each with a
  line diff of its canonical text (so a change of layout or of comments is never a
  change);
* :func:`compare_households` evaluates every household under both policies and
  groups the households whose conclusions change by *transition*: the conclusions
  that no longer hold (left of the arrow) and the ones that now hold (right), e.g.
  ``ID-2 → 无`` for households that lose ``ID-2`` and gain nothing;
* :func:`sweep` evaluates the households for each value of one parameter and counts
  the households per conclusion; :func:`sweep_svg` draws those counts.

Conclusions are the ids of the rules and table rows that fire; an id whose outcome
depends on missing inputs is written with a question mark (``ID-1?``, undetermined).

>>> from fanpin_rules import load_policy
>>> tour = load_policy("examples/language_tour.policy")
>>> hh = {"household_id": "H-1", "size": 2, "income": "16000", "members": [{"age": 40}]}
>>> s = sweep(tour, [hh], "收入基准", parse_values("7000..9000:1000"))
>>> [c.get("X-1", 0) for c in s.counts]
[0, 1, 1]
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import attrs

from fanpin_rules import ast
from fanpin_rules.errors import FanpinError, HouseholdInputError, InputIssue, MessageError
from fanpin_rules.formatter import format_text
from fanpin_rules.household import Household
from fanpin_rules.policy import ParameterError, Policy, Result
from fanpin_rules.render import display_width
from fanpin_rules.source import Source, Span

__all__ = [
    "MAX_SWEEP_VALUES",
    "DeclChange",
    "HouseholdImpact",
    "Record",
    "Sweep",
    "SweepError",
    "Transition",
    "Unreadable",
    "compare_households",
    "compare_texts",
    "parse_sweep",
    "parse_values",
    "read_records",
    "render_impact",
    "render_sweep",
    "render_text_changes",
    "sweep",
    "sweep_svg",
]

#: The most values one sweep may evaluate (each value evaluates every household).
MAX_SWEEP_VALUES = 500
_EXAMPLE_RULES = 3  # conclusions explained per example household


class SweepError(MessageError):
    """A ``--sweep`` specification that cannot be read."""


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# ---------------------------------------------------------------- text changes

Change = Literal["added", "removed", "changed"]
_KIND_ORDER = ("header", "param", "rule", "table", "let", "enum", "record", "input")
_KIND_ZH = {
    "header": "政策标题",
    "param": "参数",
    "rule": "规则",
    "table": "决策表",
    "let": "定义",
    "enum": "枚举",
    "record": "记录",
    "input": "输入",
}
_CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "修改"}


@attrs.frozen
class DeclChange:
    """One declaration added, removed or changed, with its canonical text before and
    after (``None`` on the side where it does not exist)."""

    kind: str
    name: str
    change: Change
    old_text: str | None
    new_text: str | None

    def diff_lines(self) -> list[str]:
        """The text as a line diff: ``-`` removed, ``+`` added, `` `` unchanged.

        Lines are matched with their spaces collapsed, so a table row that only moved
        because its column grew is not reported as changed (it is shown as it is now).

        >>> DeclChange("let", "a", "changed", "let a = 1\\n", "let a = 2\\n").diff_lines()
        ['-let a = 1', '+let a = 2']
        """
        old = (self.old_text or "").splitlines()
        new = (self.new_text or "").splitlines()
        matcher = difflib.SequenceMatcher(
            None, [_squash(ln) for ln in old], [_squash(ln) for ln in new], autojunk=False
        )
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                lines.extend(" " + ln for ln in new[j1:j2])
            else:
                lines.extend("-" + ln for ln in old[i1:i2])
                lines.extend("+" + ln for ln in new[j1:j2])
        return lines


def _squash(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def _declarations(policy: Policy) -> dict[tuple[str, str], ast.Item]:
    """The policy's declarations (all its files) by (kind, name)."""
    found: dict[tuple[str, str], ast.Item] = {}
    for item in policy.model.items():
        key: tuple[str, str] | None = None
        if isinstance(item, ast.PolicyHeader):
            key = ("header", item.title)
        elif isinstance(item, ast.ParamDecl):
            key = ("param", item.name)
        elif isinstance(item, ast.RuleDecl):
            key = ("rule", item.rule_id)
        elif isinstance(item, ast.TableDecl):
            key = ("table", item.name)
        elif isinstance(item, ast.LetDecl):
            key = ("let", item.name)
        elif isinstance(item, ast.EnumDecl):
            key = ("enum", item.name)
        elif isinstance(item, ast.RecordDecl):
            key = ("record", item.name)
        elif isinstance(item, ast.InputDecl):
            key = ("input", item.record)
        if key is not None and key not in found:
            found[key] = item
    return found


class _Texts:
    """Policy files read once each, to cut declarations out of them."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def declaration(self, item: ast.Item) -> str:
        span: Span = item.span
        if span.path not in self.cache:
            self.cache[span.path] = Source.from_path(span.path).text
        text = self.cache[span.path]
        starts = [0]
        for line in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        start = starts[span.line - 1] + span.col - 1
        end = starts[span.end_line - 1] + span.end_col - 1
        piece = text[start:end]
        try:
            return format_text(piece, span.path)
        except FanpinError:  # pragma: no cover - a declaration of a loaded policy parses
            return piece.rstrip("\n") + "\n"


def compare_texts(old: Policy, new: Policy) -> tuple[DeclChange, ...]:
    """The declarations that differ between two policies (layout and comments aside).

    Header changes count only when a setting changes (a new ``version`` alone is
    reported, since it is part of every result).
    """
    before, after = _declarations(old), _declarations(new)
    # the header is matched by position (there is one), not by title
    for decls in (before, after):
        for key in [k for k in decls if k[0] == "header"]:
            decls[("header", "")] = decls.pop(key)
    texts = _Texts()
    changes: list[DeclChange] = []
    for key, item in after.items():
        kind, name = key
        if key not in before:
            changes.append(DeclChange(kind, name, "added", None, texts.declaration(item)))
        elif before[key] != item:
            old_text, new_text = texts.declaration(before[key]), texts.declaration(item)
            changes.append(DeclChange(kind, _name(item) or name, "changed", old_text, new_text))
    for key, item in before.items():
        if key not in after:
            kind, name = key
            changes.append(DeclChange(kind, name, "removed", texts.declaration(item), None))
    order = {k: i for i, k in enumerate(_KIND_ORDER)}
    return tuple(sorted(changes, key=lambda c: order[c.kind]))


def _name(item: ast.Item) -> str | None:
    return item.title if isinstance(item, ast.PolicyHeader) else None


def render_text_changes(changes: Sequence[DeclChange], lang: str = "zh") -> str:
    """The declaration changes as text: a heading per declaration, then its diff."""
    if not changes:
        return _msg(
            lang, "政策文本: 规则和参数没有变化", "policy text: no rule or parameter changed"
        )
    out = [_msg(lang, "政策文本的变化 (旧 → 新):", "policy text changes (old → new):")]
    for c in changes:
        what = _KIND_ZH[c.kind] if lang != "en" else c.kind
        how = _CHANGE_ZH[c.change] if lang != "en" else c.change
        out.append(f"  {what} {c.name}: {how}" if c.name else f"  {what}: {how}")
        out.extend(f"    {ln}" for ln in c.diff_lines())
    return "\n".join(out)


# ---------------------------------------------------------------- households


@attrs.frozen
class Record:
    """One household record and where it was read (``file:line``)."""

    data: Any
    where: str


@attrs.frozen
class Unreadable:
    """A record the file reader could not read: every policy rejects it for ``issue``."""

    issue: InputIssue


def conclusions(result: Result, only: Sequence[str] = ()) -> frozenset[str]:
    """The ids that fire, and the undetermined ids with ``?``, filtered by prefix.

    >>> from fanpin_rules import load_policy
    >>> r = load_policy("examples/language_tour.policy").evaluate(
    ...     {"household_id": "H", "size": 1, "members": [{"age": 3}]})
    >>> sorted(conclusions(r, only=["X-"]))
    ['X-1?', 'X-2?', 'X-3']
    """
    ids = set(result.fired) | {f"{rid}?" for rid in result.undetermined}
    if only:
        ids = {i for i in ids if any(i.startswith(p) for p in only)}
    return frozenset(ids)


@attrs.frozen
class Example:
    """The first household of a transition, decided under both policies."""

    where: str
    household_id: str | None
    old: Result
    new: Result
    data: Any


@attrs.frozen
class Transition:
    """Households whose conclusions change the same way."""

    lost: tuple[str, ...]
    gained: tuple[str, ...]
    count: int
    example: Example

    def label(self, lang: str = "zh") -> str:
        """``ID-2 → 无`` (``ID-2 → none``): what no longer holds → what now holds.

        >>> t = Transition(("ID-2",), (), 37, None)  # type: ignore[arg-type]
        >>> t.label(), t.label("en")
        ('ID-2 → 无', 'ID-2 → none')
        """
        nothing = _msg(lang, "无", "none")
        return f"{', '.join(self.lost) or nothing} → {', '.join(self.gained) or nothing}"


@attrs.frozen
class HouseholdImpact:
    """Every household decided under both policies, summarised."""

    read: int
    compared: int
    unchanged: int
    rejected_old: tuple[tuple[str, InputIssue], ...]  # (where, first reason)
    rejected_new: tuple[tuple[str, InputIssue], ...]
    transitions: tuple[Transition, ...]
    counts_old: Mapping[str, int]
    counts_new: Mapping[str, int]
    as_of_old: dt.date
    as_of_new: dt.date


def _id_order(rid: str) -> tuple[str, int, str]:
    m = re.match(r"^([A-Z]+)-?(\d*)(.*)$", rid)
    if m is None:
        return (rid, 0, "")
    return (m.group(1), int(m.group(2) or 0), m.group(3))


def _validate(policy: Policy, rec: Record) -> Household | InputIssue:
    """The validated household, or the first reason the policy rejects the record."""
    if isinstance(rec.data, Unreadable):
        return rec.data.issue
    try:
        return policy.validate(rec.data)
    except HouseholdInputError as err:
        if err.issues:
            return err.issues[0]
        return InputIssue("", str(err), str(err))  # pragma: no cover - errors name an issue


def compare_households(
    old: Policy,
    new: Policy,
    records: Iterable[Record],
    *,
    as_of: dt.date | None = None,
    only: Sequence[str] = (),
) -> HouseholdImpact:
    """Decide every record under both policies and group the changes by transition.

    Each policy runs on ``as_of`` (default: the evaluation date of its own header).
    A record either policy rejects is counted apart, with the first reason.
    """
    when_old = as_of or old.default_as_of
    when_new = as_of or new.default_as_of
    params_old = old.resolve_params(when_old)
    params_new = new.resolve_params(when_new)
    read = compared = 0
    rejected_old: list[tuple[str, InputIssue]] = []
    rejected_new: list[tuple[str, InputIssue]] = []
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Record]] = {}
    counts_old: Counter[str] = Counter()
    counts_new: Counter[str] = Counter()
    for rec in records:
        read += 1
        hh_old, hh_new = _validate(old, rec), _validate(new, rec)
        if isinstance(hh_old, InputIssue):
            rejected_old.append((rec.where, hh_old))
        if isinstance(hh_new, InputIssue):
            rejected_new.append((rec.where, hh_new))
        if isinstance(hh_old, InputIssue) or isinstance(hh_new, InputIssue):
            continue
        compared += 1
        a = conclusions(old.evaluate_validated(hh_old, when_old, params_old, trace=False), only)
        b = conclusions(new.evaluate_validated(hh_new, when_new, params_new, trace=False), only)
        counts_old.update(a)
        counts_new.update(b)
        if a != b:
            key = (tuple(sorted(a - b, key=_id_order)), tuple(sorted(b - a, key=_id_order)))
            groups.setdefault(key, []).append(rec)
    transitions = []
    for (lost, gained), recs in groups.items():
        first = recs[0]
        r_old = old.evaluate(first.data, when_old)
        r_new = new.evaluate(first.data, when_new)
        example = Example(first.where, r_new.household_id, r_old, r_new, first.data)
        transitions.append(Transition(lost, gained, len(recs), example))
    transitions.sort(key=lambda t: (-t.count, t.label("en")))
    unchanged = compared - sum(t.count for t in transitions)
    return HouseholdImpact(
        read,
        compared,
        unchanged,
        tuple(rejected_old),
        tuple(rejected_new),
        tuple(transitions),
        dict(counts_old),
        dict(counts_new),
        when_old,
        when_new,
    )


def _rule_lines(result: Result, policy: Policy, data: Any, rid: str, lang: str) -> list[str]:
    """The explanation of one conclusion: its heading and its top-level conditions
    (nothing when the policy has no such rule id)."""
    from fanpin_rules.explain import explain_document, render_text

    if rid not in policy.rule_ids:
        return []
    doc = explain_document(result, household=data, policy=policy)
    text = render_text(doc, lang, rule=rid)
    blocks = text.split("\n\n")
    section = blocks[1].splitlines()[1:] if len(blocks) > 1 else text.splitlines()
    if not section:
        return []
    conditions = [ln for ln in section[1:] if re.match(r"^  [✓✗?] ", ln)]
    return [section[0], *conditions]


def render_impact(
    impact: HouseholdImpact,
    old: Policy,
    new: Policy,
    *,
    lang: str = "zh",
    max_groups: int = 20,
) -> str:
    """The household changes as text: each transition with its count and an example
    household explained under the old and the new policy."""
    zh = lang != "en"
    out = []
    rejected = {w for w, _ in impact.rejected_old} | {w for w, _ in impact.rejected_new}
    out.append(
        f"判定的变化: 读取 {impact.read} 户, 比较 {impact.compared} 户"
        + (f", 拒收 {len(rejected)} 户" if rejected else "")
        + f", 评估日期 {_dates(impact)}"
        if zh
        else f"changes in decisions: read {impact.read}, compared {impact.compared}"
        + (f", rejected {len(rejected)}" if rejected else "")
        + f", as of {_dates(impact)}"
    )
    if not impact.transitions:
        out.append(_msg(lang, "  没有一户的结论发生变化", "  no household changes conclusion"))
    for t in impact.transitions[:max_groups]:
        unit = f"{t.count} 户" if zh else f"{t.count} household{'s' if t.count != 1 else ''}"
        out.append("")
        out.append(f"  {t.label(lang)}: {unit}")
        ex = t.example
        who = ex.household_id or ex.where
        out.append(
            f"    例: 户 {who} ({ex.where})"
            if zh
            else f"    for example household {who} ({ex.where})"
        )
        rules = {*old.model.rules, *new.model.rules}
        ids = sorted(
            {i.rstrip("?") for i in (*t.lost, *t.gained)},
            key=lambda i: (i not in rules, _id_order(i)),
        )
        for rid in ids[:_EXAMPLE_RULES]:
            for side, policy, result in (("旧", old, ex.old), ("新", new, ex.new)):
                label = side if zh else ("old" if side == "旧" else "new")
                lines = _rule_lines(result, policy, ex.data, rid, lang)
                if not lines:
                    note = "(此版本没有这条规则)" if zh else "(no such rule in this version)"
                    out.append(f"      {label}: {rid} {note}")
                    continue
                out.append(f"      {label}: {lines[0]}")
                out.extend(f"        {ln.strip()}" for ln in lines[1:])
        if len(ids) > _EXAMPLE_RULES:
            more = ", ".join(ids[_EXAMPLE_RULES:])
            out.append(
                f"      … {more}: 用 fanpin explain 查看"
                if zh
                else f"      … {more}: see fanpin explain"
            )
    hidden = impact.transitions[max_groups:]
    if hidden:
        n = sum(t.count for t in hidden)
        out.append("")
        out.append(
            f"  另有 {len(hidden)} 种变化, 共 {n} 户 (用 --max-groups 显示更多)"
            if zh
            else f"  {len(hidden)} more kinds of change, {n} households (see --max-groups)"
        )
    out.append("")
    out.append(
        f"  结论不变: {impact.unchanged} 户"
        if zh
        else f"  unchanged: {impact.unchanged} households"
    )
    changed = sorted(
        {
            i
            for i in (*impact.counts_old, *impact.counts_new)
            if impact.counts_old.get(i, 0) != impact.counts_new.get(i, 0)
        },
        key=_id_order,
    )
    if changed:
        out.append("")
        out.append(_msg(lang, "各结论的户数 (旧 → 新):", "households per conclusion (old → new):"))
        width = max(display_width(i) for i in changed)
        for i in changed:
            a, b = impact.counts_old.get(i, 0), impact.counts_new.get(i, 0)
            sign = "+" if b > a else "−"
            out.append(f"  {i}{' ' * (width - display_width(i))}  {a} → {b} ({sign}{abs(b - a)})")
    if rejected:
        out.append("")
        out.append(_msg(lang, "拒收的记录 (前 5 条):", "rejected records (first 5):"))
        seen: set[str] = set()
        for where, issue in [*impact.rejected_old, *impact.rejected_new]:
            if where in seen:
                continue
            seen.add(where)
            field = f"{issue.path}: " if issue.path else ""
            out.append(f"  {where}: {field}{issue.reason(lang)}")
            if len(seen) == 5:
                break
    return "\n".join(out)


def _dates(impact: HouseholdImpact) -> str:
    if impact.as_of_old == impact.as_of_new:
        return impact.as_of_new.isoformat()
    return f"{impact.as_of_old.isoformat()} → {impact.as_of_new.isoformat()}"


# ---------------------------------------------------------------- sweep


def parse_values(spec: str) -> tuple[Decimal, ...]:
    """The values of a sweep: ``LOW..HIGH:STEP`` (both ends included) or ``a,b,c``.

    >>> parse_values("7800..8100:100")
    (Decimal('7800'), Decimal('7900'), Decimal('8000'), Decimal('8100'))
    >>> parse_values("8300, 8500")
    (Decimal('8300'), Decimal('8500'))
    >>> parse_values("1..2:0")
    Traceback (most recent call last):
    ...
    fanpin_rules.policydiff.SweepError: 步长必须大于 0 / the step must be greater than 0: 1..2:0
    """
    text = spec.strip()
    m = re.fullmatch(r"(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?::\s*([\d.]+))?", text)
    try:
        if m is None:
            values = tuple(Decimal(v.strip()) for v in text.split(",") if v.strip())
            if not values:
                raise InvalidOperation
            return values
        low, high = Decimal(m.group(1)), Decimal(m.group(2))
        step = Decimal(m.group(3)) if m.group(3) else Decimal(1)
    except InvalidOperation:
        raise SweepError(
            f"看不懂取值「{spec}」, 写作 最小..最大:步长 (如 7800..9000:100) 或 值,值,值 / "
            f"cannot read the values '{spec}'; write LOW..HIGH:STEP (e.g. 7800..9000:100) "
            "or a,b,c"
        ) from None
    if step <= 0:
        raise SweepError(f"步长必须大于 0 / the step must be greater than 0: {spec}")
    if high < low:
        raise SweepError(f"最大值小于最小值 / the high end is below the low end: {spec}")
    count = int((high - low) / step) + 1
    if count > MAX_SWEEP_VALUES:
        raise SweepError(
            f"取值太多 ({count} 个, 最多 {MAX_SWEEP_VALUES} 个), 请加大步长 / "
            f"too many values ({count}, at most {MAX_SWEEP_VALUES}); use a larger step"
        )
    return tuple(low + step * i for i in range(count))


def parse_sweep(spec: str) -> tuple[str, tuple[Decimal, ...]]:
    """``NAME=VALUES``, e.g. ``监测收入基准=7800..9000:100``.

    >>> name, values = parse_sweep("监测收入基准=7800..9000:100")
    >>> name, len(values), values[-1]
    ('监测收入基准', 13, Decimal('9000'))
    """
    if "=" not in spec:
        raise SweepError(f"--sweep {spec}: 写作 参数名=最小..最大:步长 / write NAME=LOW..HIGH:STEP")
    name, values = spec.split("=", 1)
    if not name.strip():
        raise SweepError(f"--sweep {spec}: 缺少参数名 / the parameter name is missing")
    return name.strip(), parse_values(values)


@attrs.frozen
class Sweep:
    """Households per conclusion for each value of one parameter."""

    param: str
    values: tuple[Decimal, ...]
    counts: tuple[Mapping[str, int], ...]
    households: int
    rejected: int
    as_of: dt.date
    current: Decimal | None = None  # the parameter's value in force, without the sweep

    def varying(self) -> list[str]:
        """The conclusions whose count changes along the sweep (in id order)."""
        ids = {i for c in self.counts for i in c}
        return sorted(
            (i for i in ids if len({c.get(i, 0) for c in self.counts}) > 1), key=_id_order
        )

    def steady(self) -> list[tuple[str, int]]:
        """The conclusions with the same count for every value."""
        varying = set(self.varying())
        ids = sorted({i for c in self.counts for i in c} - varying, key=_id_order)
        return [(i, self.counts[0].get(i, 0)) for i in ids]


def sweep(
    policy: Policy,
    records: Iterable[Record | Mapping[str, Any]],
    param: str,
    values: Sequence[Decimal],
    *,
    as_of: dt.date | None = None,
    only: Sequence[str] = (),
) -> Sweep:
    """Decide every household for each value of ``param`` (a name or a label)."""
    when = as_of or policy.default_as_of
    if param not in policy.model.aliases or policy.model.aliases[param][0] != "param":
        try:
            policy.resolve_params(when, {param: values[0]})  # names the closest parameter
        except ParameterError as exc:
            raise SweepError(exc.message) from None
    bindings = []
    for v in values:
        try:
            bindings.append(policy.resolve_params(when, {param: str(v)}))
        except ParameterError as exc:
            raise SweepError(exc.message) from None
    valid = []
    rejected = 0
    for rec in records:
        hh = _validate(policy, rec if isinstance(rec, Record) else Record(rec, ""))
        if isinstance(hh, InputIssue):
            rejected += 1
        else:
            valid.append(hh)
    counts = []
    for b in bindings:
        counter: Counter[str] = Counter()
        for hh in valid:
            counter.update(conclusions(policy.evaluate_validated(hh, when, b, trace=False), only))
        counts.append(dict(counter))
    canonical = policy.model.aliases[param][1]
    in_force = policy.resolve_params(when)[canonical].value
    current = Decimal(str(in_force)) if isinstance(in_force, int | Decimal) else None
    return Sweep(param, tuple(values), tuple(counts), len(valid), rejected, when, current)


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def render_sweep(s: Sweep, lang: str = "zh") -> str:
    """The sweep as a table: one row per value, one column per conclusion that varies."""
    zh = lang != "en"
    head = (
        f"参数扫描: {s.param} = {_num(s.values[0])} … {_num(s.values[-1])}, "
        f"{len(s.values)} 个取值; {s.households} 户, 评估日期 {s.as_of}"
        if zh
        else f"sweep: {s.param} = {_num(s.values[0])} … {_num(s.values[-1])}, "
        f"{len(s.values)} values; {s.households} households, as of {s.as_of}"
    )
    if s.rejected:
        head += f" (拒收 {s.rejected} 户)" if zh else f" ({s.rejected} rejected)"
    cols = s.varying()
    mark = " ←当前" if zh else " ← in force"
    rows = [[s.param, *cols]] + [
        [_num(v) + (mark if v == s.current else ""), *(str(c.get(i, 0)) for i in cols)]
        for v, c in zip(s.values, s.counts, strict=True)
    ]
    widths = [max(display_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    out = [head]
    for k, r in enumerate(rows):
        cells = [
            (cell + " " * (w - display_width(cell)))
            if j == 0
            else (" " * (w - display_width(cell)) + cell)
            for j, (cell, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  " + " | ".join(cells).rstrip())
        if k == 0:
            out.append("  " + "-+-".join("-" * w for w in widths))
    if not cols:
        out.append(_msg(lang, "  没有结论的户数随参数变化", "  no conclusion's count changes"))
    steady = s.steady()
    if steady:
        listed = ", ".join(f"{i} ({n})" for i, n in steady)
        out.append(_msg(lang, f"  户数不变的结论: {listed}", f"  unchanged counts: {listed}"))
    return "\n".join(out)


_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)
_DASHES = ("", "6 3", "2 3", "8 3 2 3")


def _nice_step(span: float, ticks: int = 6) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) giving about ``ticks`` intervals over ``span``.

    >>> _nice_step(137), _nice_step(1), _nice_step(0)
    (20.0, 0.2, 1.0)
    """
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    return min((m * mag for m in (1, 2, 5, 10)), key=lambda step: abs(math.log(step / raw)))


def sweep_svg(s: Sweep, lang: str = "zh") -> str:
    """A line chart of the sweep (one line per conclusion that varies) as SVG text.

    The chart is self-contained: no script, no external font or stylesheet.
    """
    zh = lang != "en"
    cols = s.varying() or [i for i, _ in s.steady()][:1]
    width, height = 860, 480
    left, right, top, bottom = 70, 170, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [float(v) for v in s.values]
    x0, x1 = min(xs), max(xs)
    ymax = max([c.get(i, 0) for c in s.counts for i in cols] + [1])
    ystep = max(1.0, _nice_step(ymax))
    ytop = ystep * (int(ymax / ystep) + (0 if ymax % ystep == 0 else 1))

    def px(x: float) -> float:
        return left + (plot_w * (x - x0) / (x1 - x0) if x1 > x0 else plot_w / 2)

    def py(y: float) -> float:
        return top + plot_h - plot_h * y / ytop

    title = (
        f"参数扫描: {s.param} — 各结论的户数 ({s.households} 户, {s.as_of})"
        if zh
        else f"Sweep of {s.param}: households per conclusion ({s.households}, as of {s.as_of})"
    )
    font = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif\""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {font} font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="28" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    # grid and y axis
    k = 0
    while k * ystep <= ytop + 1e-9:
        y = py(k * ystep)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e0e0e0"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{int(k * ystep)}</text>'
        )
        k += 1
    # x axis ticks: at most about 12 labels
    every = max(1, (len(xs) + 11) // 12)
    for j, (x, v) in enumerate(zip(xs, s.values, strict=True)):
        if j % every and j != len(xs) - 1:
            continue
        out.append(
            f'<line x1="{px(x):.1f}" y1="{top + plot_h}" x2="{px(x):.1f}" '
            f'y2="{top + plot_h + 5}" stroke="#333333"/>'
        )
        out.append(
            f'<text x="{px(x):.1f}" y="{top + plot_h + 20}" text-anchor="middle">'
            f"{escape(_num(v))}</text>"
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#333333"/>'
    )
    if s.current is not None and x0 <= float(s.current) <= x1:
        cx = px(float(s.current))
        now = f"当前值 {_num(s.current)}" if zh else f"in force: {_num(s.current)}"
        out.append(
            f'<line x1="{cx:.1f}" y1="{top}" x2="{cx:.1f}" y2="{top + plot_h}" '
            'stroke="#555555" stroke-dasharray="4 4"/>'
        )
        out.append(f'<text x="{cx + 4:.1f}" y="{top + 14}" fill="#555555">{escape(now)}</text>')
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 15}" text-anchor="middle">'
        f"{escape(s.param)}</text>"
    )
    label = "户数" if zh else "households"
    out.append(
        f'<text x="18" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 18 {top + plot_h / 2:.1f})">{label}</text>'
    )
    # one line per conclusion, with a legend entry
    for n, rid in enumerate(cols):
        color = _PALETTE[n % len(_PALETTE)]
        dash = _DASHES[(n // len(_PALETTE)) % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = " ".join(
            f"{px(x):.1f},{py(c.get(rid, 0)):.1f}" for x, c in zip(xs, s.counts, strict=True)
        )
        out.append(f"<g><title>{escape(rid)}</title>")
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"'
            f"{dash_attr}/>"
        )
        for x, v, c in zip(xs, s.values, s.counts, strict=True):
            tip = f"{rid}: {s.param} = {_num(v)} → {c.get(rid, 0)}"
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(c.get(rid, 0)):.1f}" r="3" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        out.append("</g>")
        ly = top + 10 + 20 * n
        lx = left + plot_w + 15
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{color}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(rid)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def read_records(path: str | Path, policy: Policy) -> list[Record]:
    """The household records of a file, in any format ``fanpin evaluate`` reads.

    A record the reader cannot make sense of (bad JSON, a cell that is not a number)
    is kept as :class:`Unreadable`, so every policy rejects it and the counts reconcile.
    """
    from fanpin_rules.batch import InputRecord
    from fanpin_rules.batchio import open_inputs

    records = []
    for item in open_inputs(policy, [str(path)]):
        where = f"{item.source}:{item.row}" if item.row is not None else str(item.source)
        if isinstance(item, InputRecord) and not item.issues:
            records.append(Record(item.data, where))
            continue
        issue = item.issues[0] if item.issues else InputIssue("", str(item), str(item))
        records.append(Record(Unreadable(issue), where))
    return records
