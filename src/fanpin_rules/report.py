"""The batch audit report: one self-contained HTML file for a 苏木 or a whole 旗.

The report reads the decisions of a batch — computed on the fly from household records,
or read back from a decisions file written by ``fanpin evaluate --trace`` — and shows,
for the auditor who signs off the screening:

* how many households each conclusion holds for, overall and per 嘎查;
* the violations (一兜了之 AS-6, 应消未消 EL-7, 应标未标 AS-7, 疑似应纳未纳 ID-7) and the
  identification, elimination and look-back recommendations, each household linked to
  its explanation further down the same file;
* the data-quality findings (DQ-*), undetermined decisions and rejected records;
* two charts drawn as inline SVG: the distribution of 人均纯收入 against the income
  line, and the conclusions per 嘎查.

The file needs nothing else: CSS and SVG are inline, the one small script (jump to a
household) is optional, nothing is fetched from a network.  Personal data is masked
unless asked otherwise.

>>> from fanpin_rules import load_policy
>>> policy = load_policy("ewenki_2024q2")
>>> one = "examples/households/06-有劳动能力只享受低保（一兜了之）.json"
>>> report = report_from_households(policy, [one])
>>> report.read, len(report.entries), [e.household_id for e in report.violating("AS-6")]
(1, 1, ['EX-06'])
>>> page = render_report(report)
>>> 'data-violation="AS-6" data-count="1"' in page
True
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from fanpin_rules.errors import EvaluationError, HouseholdInputError, MessageError
from fanpin_rules.explain import CSS, explain_document, html_fragment, jsonable, pii_fields
from fanpin_rules.masking import mask_document, mask_text, pii_values
from fanpin_rules.render import render_input_error

if TYPE_CHECKING:
    from fanpin_rules.policy import Policy

__all__ = [
    "CANDIDATES",
    "VIOLATIONS",
    "AuditReport",
    "Entry",
    "Rejected",
    "ReportError",
    "render_report",
    "report_from_decisions",
    "report_from_households",
]

VIOLATIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("AS-6", "一兜了之", "safety net only", ("labour_class",)),
    ("EL-7", "应消未消", "due for elimination", ("监测月数", "应消未消严重程度")),
    ("AS-7", "应标未标", "mark not set", ("labour_class",)),
    ("ID-7", "疑似应纳未纳", "possibly missed", ("pcni",)),
)
"""The violations of the shipped policy: rule id, Chinese and English name, and the
derived values shown beside each household."""

CANDIDATES: tuple[str, ...] = ("ID-1", "ID-2", "ID-3", "ID-6", "RB-3", "RB-1", "RB-2", "EL")
"""Recommendations listed with links: identification, green channel, look-back, elimination."""

DEFAULT_PII_FIELDS = (
    "members[].name",
    "members[].id_no",
    "monitoring.contact_person",
    "monitoring.contact_phone",
)
"""Personal fields assumed when the deciding policy is not at hand (the shipped schema's)."""

SCOPE_ID = "SC-1"
PCNI = "pcni"
BASELINE_PARAM = "监测收入基准"
UNKNOWN_PLACE = ("(未填苏木)", "(no sumu)"), ("(未填嘎查)", "(no gacha)")


class ReportError(MessageError):
    """A report cannot be made from these inputs (a decisions file that is not one)."""


@attrs.frozen
class Entry:
    """One decided household as the report shows it."""

    household_id: str | None
    sumu: str | None
    gacha: str | None
    fired: tuple[str, ...]
    undetermined: tuple[str, ...]
    values: Mapping[str, Any]
    anchor: str
    doc: Mapping[str, Any] | None = None


@attrs.frozen
class Rejected:
    """A record that could not be decided, with the reasons (personal data masked)."""

    source: str | None
    row: int | None
    household_id: str | None
    text: str


@attrs.frozen
class AuditReport:
    """Everything :func:`render_report` draws, computed once."""

    policy: Mapping[str, Any]
    as_of: tuple[str, ...]
    params: tuple[Mapping[str, Any], ...]
    catalog: Mapping[str, tuple[str | None, str | None]]
    entries: tuple[Entry, ...]
    rejected: tuple[Rejected, ...]
    read: int
    sources: tuple[str, ...]
    sumu: str | None = None
    gacha: str | None = None
    pii_masked: bool = True

    def violating(self, rule_id: str) -> list[Entry]:
        return [e for e in self.entries if rule_id in e.fired]

    def count(self, rule_id: str) -> int:
        return sum(1 for e in self.entries if rule_id in e.fired)

    def count_undetermined(self, rule_id: str) -> int:
        return sum(1 for e in self.entries if rule_id in e.undetermined)

    def severity(self, rule_id: str) -> str | None:
        return self.catalog.get(rule_id, (None, None))[1]

    def dq_ids(self) -> list[str]:
        return [r for r in self.catalog if r.startswith("DQ-")]

    def has_dq_error(self, e: Entry) -> bool:
        return any(r.startswith("DQ-") and self.severity(r) == "error" for r in e.fired)


# ---------------------------------------------------------------- reading


def _read_json_records(path: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line, record or None, error) for a JSON Lines file, or a file with one object."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: 文件不是 UTF-8 编码 / the file is not UTF-8 text") from None
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" not in stripped:
        try:
            yield 1, json.loads(stripped, parse_float=Decimal), None
            return
        except json.JSONDecodeError:
            pass
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line, parse_float=Decimal), None
        except json.JSONDecodeError as exc:
            yield lineno, None, f"JSON 格式错误 / invalid JSON: {exc.msg} (col {exc.colno})"


def _place(record: Mapping[str, Any] | None, key: str) -> str | None:
    if record is None:
        return None
    v = record.get(key)
    return str(v).strip() or None if v is not None else None


def _keep(record: Mapping[str, Any] | None, sumu: str | None, gacha: str | None) -> bool:
    if sumu is not None and _place(record, "sumu") != sumu:
        return False
    return not (gacha is not None and _place(record, "gacha") != gacha)


class _Anchors:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, household_id: str | None) -> str:
        base = "hh-" + re.sub(r"[\s\"'<>#%&?/\\]", "_", household_id or "unknown")
        anchor, n = base, 1
        while anchor in self.used:
            n += 1
            anchor = f"{base}-{n}"
        self.used.add(anchor)
        return anchor


def _explained(fired: Iterable[str], undetermined: Iterable[str]) -> bool:
    """Whether the report lists (and so explains) this household."""
    ids = set(fired)
    listed = {v[0] for v in VIOLATIONS} | set(CANDIDATES)
    return bool(undetermined) or bool(ids & listed) or any(r.startswith("DQ-") for r in ids)


def _catalog(policy: Policy) -> dict[str, tuple[str | None, str | None]]:
    model = policy.model
    out: dict[str, tuple[str | None, str | None]] = {}
    for rid in model.conclusion_ids:
        if rid in model.rules:
            rule = model.rules[rid]
            out[rid] = (rule.title, rule.severity)
        else:
            table, row = model.rows[rid]
            out[rid] = (row.message or table.label or table.name, None)
    return out


def _check_place(names: Iterable[str | None], wanted: str | None, what: tuple[str, str]) -> None:
    if wanted is None:
        return
    known = sorted({n for n in names if n})
    if wanted in known:
        return
    from fanpin_rules.suggest import did_you_mean

    hz, he = did_you_mean(wanted, known)
    raise ReportError(
        f"输入中没有{what[0]}「{wanted}」{hz} / no {what[1]} '{wanted}' in the input {he}".strip()
    )


def report_from_households(
    policy: Policy,
    paths: Sequence[str],
    *,
    as_of: dt.date | str | None = None,
    params: Mapping[str, Any] | None = None,
    sumu: str | None = None,
    gacha: str | None = None,
    show_pii: bool = False,
    ignore_extra: bool = False,
    lang: str = "zh",
) -> AuditReport:
    """Decide every household of the files (JSON Lines, or one JSON object a file) and
    collect the report; the households the report lists are evaluated again with their
    trace, for their explanations.  ``sumu``/``gacha`` keep only that 苏木 or 嘎查."""
    when = _date(as_of) if as_of is not None else policy.default_as_of
    fields = pii_fields(policy)
    bindings = policy.resolve_params(when, params)
    anchors = _Anchors()
    entries: list[Entry] = []
    rejected: list[Rejected] = []
    places: list[tuple[str | None, str | None]] = []
    param_uses: dict[str, Mapping[str, Any]] = {}
    seen: dict[str, str] = {}  # SPEC §2: a household id is unique within a batch
    read = 0
    for path in paths:
        for lineno, record, error in _read_json_records(path):
            places.append((_place(record, "sumu"), _place(record, "gacha")))
            if not _keep(record if isinstance(record, Mapping) else None, sumu, gacha):
                continue
            read += 1
            try:
                if error is not None:
                    raise ReportError(error)
                hh = policy.validate(record, source=path, row=lineno, ignore_extra=ignore_extra)
                result = policy.evaluate_validated(hh, when, bindings, trace=False)
            except HouseholdInputError as err:
                if err.source is None:
                    err = HouseholdInputError(err.issues, err.household_id, path, lineno)
                rejected.append(_rejected(err, record, lang, show_pii, fields))
                continue
            except (EvaluationError, ReportError) as err:
                hid = record.get("household_id") if isinstance(record, Mapping) else None
                text = _mask(str(err), record, show_pii, fields)
                rejected.append(Rejected(path, lineno, _str(hid), text))
                continue
            if result.household_id is not None and result.household_id in seen:
                first = seen[result.household_id]
                text = (
                    f"{path}:{lineno}: 户编号「{result.household_id}」在本批中重复, 第一次出现在 "
                    f"{first} / household key '{result.household_id}' occurs twice in the "
                    f"batch; first at {first}"
                )
                rejected.append(Rejected(path, lineno, result.household_id, text))
                continue
            if result.household_id is not None:
                seen[result.household_id] = f"{path}:{lineno}"
            for p in result.params:
                param_uses[p.name] = p.to_json()
            doc = None
            if _explained(result.fired, result.undetermined):
                traced = policy.evaluate_validated(hh, when, bindings, trace=True)
                doc = explain_document(traced, household=record, policy=policy, show_pii=show_pii)
            entries.append(
                Entry(
                    result.household_id,
                    _place(record, "sumu"),
                    _place(record, "gacha"),
                    tuple(result.fired),
                    tuple(result.undetermined),
                    dict(result.values),
                    anchors.make(result.household_id),
                    doc,
                )
            )
    _check_place((s for s, _ in places), sumu, ("苏木", "sumu"))
    _check_place((g for _, g in places), gacha, ("嘎查", "gacha"))
    return AuditReport(
        policy.info.to_json(),
        (when.isoformat(),),
        tuple(param_uses[k] for k in sorted(param_uses)),
        _catalog(policy),
        tuple(entries),
        tuple(rejected),
        read,
        tuple(paths),
        sumu,
        gacha,
        not show_pii,
    )


def _date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReportError(
            f"日期「{value}」格式不对, 应为 YYYY-MM-DD / bad date '{value}', use YYYY-MM-DD"
        ) from None


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _mask(text: str, record: Any, show_pii: bool, fields: Sequence[str] = ()) -> str:
    if show_pii:
        return text
    known = pii_values(record, fields) if isinstance(record, Mapping) else []
    return mask_text(text, known)


def _rejected(
    err: HouseholdInputError, record: Any, lang: str, show_pii: bool, fields: Sequence[str]
) -> Rejected:
    text = render_input_error(err, lang)
    return Rejected(err.source, err.row, err.household_id, _mask(text, record, show_pii, fields))


def _provenance_record(
    decision: Mapping[str, Any], cache: dict[str, dict[int, Any]]
) -> Mapping[str, Any] | None:
    """The household record a decision of ``fanpin evaluate`` came from (JSON Lines)."""
    origin = decision.get("input")
    if not isinstance(origin, Mapping) or not origin.get("source") or not origin.get("row"):
        return None
    source = str(origin["source"])
    if source not in cache:
        cache[source] = {}
        if Path(source).is_file():
            try:
                cache[source] = {n: r for n, r, e in _read_json_records(source) if e is None}
            except ReportError:
                pass
    record = cache[source].get(int(origin["row"]))
    if isinstance(record, Mapping) and record.get("household_id") == decision.get("household_id"):
        return record
    return None


def report_from_decisions(
    paths: Sequence[str],
    *,
    households: Sequence[str] = (),
    policy: Policy | None = None,
    sumu: str | None = None,
    gacha: str | None = None,
    show_pii: bool = False,
) -> AuditReport:
    """Collect the report from decisions files (``fanpin evaluate`` output, or explain
    documents).  苏木 and 嘎查 come from the household records: those in ``households``
    files (joined by household id), or those the decisions name as their source.  A
    ``policy`` must be the one that decided (same hash); without one, the shipped policy
    with that hash is used.  The households the report explains use the saved trace
    (``fanpin evaluate --trace``) or, without one, are evaluated again with it — and must
    reach the same conclusions."""
    by_id: dict[str, Mapping[str, Any]] = {}
    for path in households:
        for _, record, _error in _read_json_records(path):
            if isinstance(record, Mapping) and record.get("household_id") is not None:
                by_id[str(record["household_id"])] = record
    anchors = _Anchors()
    entries: list[Entry] = []
    policy_info: Mapping[str, Any] | None = None
    dates: set[str] = set()
    param_uses: dict[str, Mapping[str, Any]] = {}
    catalog: dict[str, tuple[str | None, str | None]] = {}
    sources_cache: dict[str, dict[int, Any]] = {}
    places: list[tuple[str | None, str | None]] = []
    read = 0
    for path in paths:
        for lineno, decision, error in _read_json_records(path):
            if error is not None or not isinstance(decision, Mapping) or "fired" not in decision:
                raise ReportError(
                    f"{path}:{lineno}: 不是判定结果 (没有 fired) / not a decision (no 'fired'): "
                    "用 fanpin evaluate --trace 生成 / write it with fanpin evaluate --trace"
                )
            decision = json.loads(json.dumps(jsonable(decision)))
            hid = _str(decision.get("household_id"))
            record = decision.get("household")
            if not isinstance(record, Mapping):
                record = by_id.get(hid or "") or _provenance_record(decision, sources_cache)
            places.append((_place(record, "sumu"), _place(record, "gacha")))
            if not _keep(record, sumu, gacha):
                continue
            read += 1
            info = decision.get("policy") or {}
            if policy_info is None:
                policy_info = info
                if policy is None:
                    from fanpin_rules.replay import find_policy_by_hash

                    policy = find_policy_by_hash(str(info.get("hash")))
                elif info.get("hash") != policy.content_hash:
                    raise ReportError(
                        f"{path}:{lineno}: 判定所用政策 {info.get('hash')} 与 --policy "
                        f"({policy.content_hash}) 不同 / the decisions were made by another "
                        "policy than --policy"
                    )
            elif info.get("hash") != policy_info.get("hash"):
                raise ReportError(
                    f"{path}:{lineno}: 判定来自另一版政策 ({info.get('hash')}, 前面的是 "
                    f"{policy_info.get('hash')}) / decisions from two policies"
                )
            dates.add(str(decision.get("as_of")))
            for p in decision.get("params") or []:
                param_uses[p["name"]] = p
            fired = tuple(decision.get("fired") or ())
            undetermined = tuple(decision.get("undetermined") or {})
            trace = decision.get("trace")
            if isinstance(trace, Mapping):
                for c in trace.get("conclusions", []):
                    catalog.setdefault(
                        c["rule_id"],
                        (c.get("title") or c.get("message") or c.get("table"), c.get("severity")),
                    )
            doc = None
            if _explained(fired, undetermined) and not isinstance(trace, Mapping):
                doc = _traced_again(decision, record, policy, show_pii, f"{path}:{lineno}")
            elif isinstance(trace, Mapping) and _explained(fired, undetermined):
                doc = dict(decision)
                doc.pop("input", None)
                if record is not None:
                    doc["household"] = jsonable(record)
                    doc["pii_fields"] = (
                        pii_fields(policy) if policy is not None else list(DEFAULT_PII_FIELDS)
                    )
                if show_pii:
                    doc["pii_masked"] = False
                else:
                    doc = mask_document(doc)
            entries.append(
                Entry(
                    hid,
                    _place(record, "sumu"),
                    _place(record, "gacha"),
                    fired,
                    undetermined,
                    decision.get("values") or {},
                    anchors.make(hid),
                    doc,
                )
            )
    _check_place((s for s, _ in places), sumu, ("苏木", "sumu"))
    _check_place((g for _, g in places), gacha, ("嘎查", "gacha"))
    if policy is not None:
        catalog = {**_catalog(policy), **catalog}
    return AuditReport(
        policy_info or {},
        tuple(sorted(dates)),
        tuple(param_uses[k] for k in sorted(param_uses)),
        catalog,
        tuple(entries),
        (),
        read,
        tuple(paths),
        sumu,
        gacha,
        not show_pii,
    )


def _traced_again(
    decision: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    policy: Policy | None,
    show_pii: bool,
    where: str,
) -> dict[str, Any] | None:
    """A decision saved without its trace, evaluated again with it for the explanation:
    same policy (hash), date and run-time parameters; the conclusions must come out the
    same, or the report stops."""
    if record is None or policy is None:
        return None
    overrides = {
        p["name"]: {"value": p["value"], "effective": p.get("effective"), "source": p.get("source")}
        for p in decision.get("params") or []
        if p.get("overridden")
    }
    data = json.loads(json.dumps(jsonable(record), ensure_ascii=False), parse_float=Decimal)
    try:
        result = policy.evaluate(data, decision.get("as_of"), overrides, ignore_extra=True)
    except HouseholdInputError as err:
        raise ReportError(
            f"{where}: 判定对应的户数据已不合规, 无法重新判定 / the decision's household "
            f"record no longer validates:\n{render_input_error(err)}"
        ) from None
    if list(result.fired) != list(decision.get("fired") or []):
        raise ReportError(
            f"{where}: 重新判定的结论 {list(result.fired)} 与判定文件中的 "
            f"{decision.get('fired')} 不同: 户数据在判定之后改过? 用 fanpin replay 核对 / "
            "the decision does not reproduce from its record; check it with fanpin replay"
        )
    return explain_document(result, household=data, policy=policy, show_pii=show_pii)


# ---------------------------------------------------------------- drawing

_REPORT_CSS = """
nav.toc{background:#fff;border:1px solid #dde2ea;border-radius:4px;padding:.4rem .8rem;
margin:.8rem 0}nav.toc a{margin-right:1rem}.kpi{display:flex;flex-wrap:wrap;gap:.6rem}
.kpi div{background:#fff;border:1px solid #dde2ea;border-radius:4px;padding:.4rem .8rem;
min-width:9rem}.kpi b{display:block;font-size:1.4rem}.links a{margin-right:.5rem;
white-space:nowrap}svg{background:#fff;border:1px solid #dde2ea;border-radius:4px;
max-width:100%;height:auto}.hh{background:#fbfcfd;border:1px solid #c8ced8;
border-radius:6px;padding:.3rem 1rem;margin:1rem 0}.back{font-size:.9rem}
.sev-error{color:#b3261e}.sev-warning{color:#8a5a00}.legend span{display:inline-block;
margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;
vertical-align:middle}#jump{margin-left:1rem}.rid,td.sev-error,td.sev-warning{
white-space:nowrap}pre{white-space:pre-wrap;margin:0}.js-only{display:none}
.js .js-only{display:inline}
"""

_JUMP_SCRIPT = """
document.documentElement.classList.add('js');
document.getElementById('jump').addEventListener('change', function (ev) {
  var id = 'hh-' + ev.target.value.trim().replace(/[\\s"'<>#%&?\\/\\\\]/g, '_');
  var el = document.getElementById(id);
  if (el) { el.scrollIntoView(); } else { ev.target.setCustomValidity('?'); }
});
"""

_CATEGORIES = (
    ("violation", ("违规", "violation"), "#b3261e"),
    ("candidate", ("识别/回头看建议", "recommendation"), "#e08a00"),
    ("dq_error", ("数据质量错误", "data error"), "#7a5cc2"),
    ("ok", ("其他在范围内", "other in scope"), "#2f8f46"),
    ("out", ("不在范围", "out of scope"), "#9aa4b5"),
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def _category(report: AuditReport, e: Entry) -> str:
    """Each household counts once, in its most urgent category."""
    if any(v[0] in e.fired for v in VIOLATIONS):
        return "violation"
    if any(c in e.fired for c in CANDIDATES):
        return "candidate"
    if report.has_dq_error(e):
        return "dq_error"
    return "ok" if SCOPE_ID in e.fired else "out"


def _decimal(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def _baseline(report: AuditReport) -> Decimal | None:
    for p in report.params:
        if p.get("name") == BASELINE_PARAM or p.get("label") == "income_line":
            return _decimal(p.get("value"))
    return None


def histogram_svg(values: Sequence[Decimal], baseline: Decimal | None, lang: str = "zh") -> str:
    """A histogram of per-capita income with the income line drawn across it.

    >>> svg = histogram_svg([Decimal(x) for x in (500, 7950, 8450, 21000)], Decimal(8300))
    >>> sum(int(n) for n in re.findall(r'class="bar".*? data-count="([0-9]+)"', svg))
    4
    >>> 'data-below="2"' in svg
    True
    """
    zh = lang != "en"
    if not values:
        return ""
    width, height = 760, 280
    left, right, top, bottom = 56, 16, 30, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    span = max(p95, baseline or Decimal(0), Decimal(1))
    step = Decimal(1000) if span <= 40000 else Decimal(2000) if span <= 80000 else Decimal(5000)
    lo = min(Decimal(0), (ordered[0] / step).to_integral_value(rounding="ROUND_FLOOR") * step)
    hi = (span / step).to_integral_value(rounding="ROUND_CEILING") * step
    if baseline is not None and hi <= baseline:
        hi = baseline + step
    n = int((hi - lo) / step)
    counts = [0] * (n + 1)  # the last bin holds everything at or above hi
    for v in ordered:
        counts[min(n, int((v - lo) // step))] += 1
    peak = max(counts) or 1
    bw = plot_w / (n + 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart histogram" '
        'font-family="sans-serif">',
        f"<title>{_esc('人均纯收入分布' if zh else 'per-capita net income')}</title>",
    ]
    for i in range(3):  # y grid
        y = top + plot_h - plot_h * i / 2
        label = round(peak * i / 2)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e7ee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label}</text>'
        )
    below = sum(1 for v in ordered if baseline is not None and v <= baseline)
    for i, c in enumerate(counts):
        start = lo + step * i
        end = start + step
        h = plot_h * c / peak
        x = left + bw * i
        if baseline is None:
            color = "#5b7bb5"
        elif end <= baseline:
            color = "#c0392b"
        elif start <= baseline:
            color = "#e08a00"
        else:
            color = "#8b97ab"
        span_text = (
            f"≥ {_fmt_int(int(start))}"
            if i == n
            else f"{_fmt_int(int(start))}–{_fmt_int(int(end))}"
        )
        tip = f"{span_text} 元: {c} 户" if zh else f"{span_text} yuan: {c} households"
        out.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" '
            f'height="{h:.1f}" fill="{color}" data-from="{start}" data-count="{c}">'
            f"<title>{_esc(tip)}</title></rect>"
        )
        if i % max(1, (n + 1) // 10) == 0 or i == n:
            text = f"≥{int(start) // 1000}k" if i == n else f"{int(start) // 1000}k"
            out.append(
                f'<text x="{x + bw / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'font-size="11">{text}</text>'
            )
    if baseline is not None:
        bx = left + bw * float((baseline - lo) / step)
        name = "监测收入基准" if zh else "income line"
        out.append(
            f'<line class="baseline" x1="{bx:.1f}" y1="{top - 6}" x2="{bx:.1f}" '
            f'y2="{top + plot_h}" stroke="#b3261e" stroke-width="2" stroke-dasharray="5,4"/>'
            f'<text x="{bx + 4:.1f}" y="{top + 6}" font-size="12" fill="#b3261e">'
            f"{_esc(name)} {_fmt_int(int(baseline))}</text>"
        )
    axis = "人均纯收入 (元/人/年)" if zh else "per-capita net income (yuan a person a year)"
    summary = (
        f"不高于基准 {below} 户 / 共 {len(ordered)} 户"
        if zh
        else f"{below} of {len(ordered)} at or below the line"
    )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle" '
        f'font-size="12">{_esc(axis)}</text>'
        f'<text class="below" x="{width - right}" y="{top - 12}" text-anchor="end" '
        f'font-size="12" data-below="{below}">{_esc(summary)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def gacha_svg(rows: Sequence[tuple[str, Mapping[str, int]]], lang: str = "zh") -> str:
    """Horizontal stacked bars: per 嘎查, the households of each category.

    >>> svg = gacha_svg([("A嘎查", {"violation": 1, "ok": 3}), ("B嘎查", {"out": 2})])
    >>> svg.count('class="seg"'), 'data-total="4"' in svg
    (3, True)
    """
    zh = lang != "en"
    if not rows:
        return ""
    bar_h, gap, label_w, legend_h = 18, 6, 210, 28
    width = 760
    plot_w = width - label_w - 60
    height = legend_h + len(rows) * (bar_h + gap) + 10
    peak = max(sum(c.values()) for _, c in rows) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart gacha" '
        'font-family="sans-serif">',
        f"<title>{_esc('各嘎查结论' if zh else 'conclusions per gacha')}</title>",
    ]
    x = 8
    for _key, names, color in _CATEGORIES:
        name = names[0] if zh else names[1]
        out.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="18" font-size="12">{_esc(name)}</text>'
        )
        x += 16 + 14 * len(name) + 18
    for i, (label, counts) in enumerate(rows):
        y = legend_h + i * (bar_h + gap)
        total = sum(counts.values())
        out.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{_esc(label)}</text>"
        )
        x0 = float(label_w)
        for key, names, color in _CATEGORIES:
            c = counts.get(key, 0)
            if not c:
                continue
            w = plot_w * c / peak
            name = names[0] if zh else names[1]
            out.append(
                f'<rect class="seg" x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{color}" data-category="{key}" data-count="{c}">'
                f"<title>{_esc(label)} {_esc(name)}: {c}</title></rect>"
            )
            x0 += w
        out.append(
            f'<text x="{x0 + 4:.1f}" y="{y + 13}" font-size="11" data-total="{total}">'
            f"{total}</text>"
        )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- the page


def _w(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _link(e: Entry) -> str:
    text = _esc(e.household_id or "?")
    return f'<a href="#{_esc(e.anchor)}">{text}</a>' if e.doc is not None else text


def _where(e: Entry, lang: str) -> tuple[str, str]:
    return (
        e.sumu or UNKNOWN_PLACE[0][0 if lang != "en" else 1],
        e.gacha or UNKNOWN_PLACE[1][0 if lang != "en" else 1],
    )


def _value(v: Any) -> str:
    if v is None:
        return "—"
    d = _decimal(v)
    if d is not None and isinstance(v, str) and "." in v:
        return f"{d:,.2f}"
    return _esc(v)


def render_report(report: AuditReport, lang: str = "zh") -> str:
    """The report as one self-contained HTML page."""
    return _Page(report, lang).render()


_HEADS_GACHA = (
    ("苏木乡镇", "sumu"),
    ("嘎查村", "gacha"),
    ("户数", "households"),
    ("纳入范围", "in scope"),
    ("识别候选", "candidates"),
    ("违规", "violations"),
    ("数据质量错误", "data errors"),
    ("待定", "undetermined"),
)
_KEYS_GACHA = ("households", "in_scope", "candidates", "violations", "dq_errors", "undetermined")
_SECTIONS = (
    ("summary", "总体情况", "summary"),
    ("conclusions", "各结论户数", "conclusions"),
    ("gacha", "各嘎查", "per gacha"),
    ("income", "收入分布", "income"),
    ("violations", "违规情形", "violations"),
    ("recommendations", "建议事项", "recommendations"),
    ("quality", "数据质量", "data quality"),
    ("households", "逐户说明", "households"),
)


class _Page:
    """Builds the report page section by section."""

    def __init__(self, report: AuditReport, lang: str) -> None:
        self.r = report
        self.lang = lang
        self.out: list[str] = []
        self.scope = report.gacha or report.sumu or self.w("全旗", "whole banner")

    def w(self, zh: str, en: str) -> str:
        return _w(self.lang, zh, en)

    def add(self, text: str) -> None:
        self.out.append(text)

    def heading(self, anchor: str, zh: str, en: str) -> None:
        self.add(f'<section id="{anchor}"><h2>{_esc(self.w(zh, en))}</h2>')

    def table_head(self, heads: Iterable[str]) -> None:
        self.add("<table><thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in heads))
        self.add("</tr></thead><tbody>")

    def severity(self, sev: str | None) -> str:
        text = {"error": self.w("错误", "error"), "warning": self.w("警告", "warning")}
        return f'<td class="sev-{_esc(sev or "")}">{_esc(text.get(sev or "", ""))}</td>'

    def links(self, entries: Sequence[Entry]) -> str:
        return " ".join(_link(e) for e in entries) or _esc(self.w("无", "none"))

    def render(self) -> str:
        title = self.w(
            f"防止返贫动态监测审计报告 — {self.scope}", f"Monitoring audit report — {self.scope}"
        )
        lang_attr = "en" if self.lang == "en" else "zh-CN"
        self.add(f'<!DOCTYPE html>\n<html lang="{lang_attr}">\n<head>\n<meta charset="utf-8">')
        self.add('<meta name="viewport" content="width=device-width, initial-scale=1">')
        self.add(f"<title>{_esc(title)}</title>\n<style>{CSS}{_REPORT_CSS}</style>\n</head>")
        self.add(f'<body>\n<main id="top">\n<h1>{_esc(title)}</h1>')
        self.facts()
        self.summary()
        self.conclusions()
        self.per_gacha()
        self.income()
        self.violations()
        self.recommendations()
        self.quality()
        self.households()
        self.add(f"<footer><p>fanpin_rules · {_esc(self.r.policy.get('hash', ''))}</p></footer>")
        self.add(f"</main>\n<script>{_JUMP_SCRIPT}</script>\n</body>\n</html>\n")
        return "\n".join(self.out)

    def facts(self) -> None:
        r, policy = self.r, self.r.policy
        shown = [str(policy.get("name", "?"))]
        if policy.get("version"):
            shown.append(f"{self.w('版本', 'version')} {policy['version']}")
        if policy.get("hash"):
            shown.append(str(policy["hash"]))
        facts = [
            (self.w("政策", "policy"), " · ".join(shown)),
            (self.w("评估日期", "as of"), ", ".join(r.as_of) or "—"),
            (self.w("数据来源", "sources"), ", ".join(r.sources)),
            (self.w("范围", "scope"), self.scope),
        ]
        overridden = [p for p in r.params if p.get("overridden")]
        if overridden:
            facts.append(
                (
                    self.w("运行时覆盖的参数", "parameters overridden"),
                    "; ".join(
                        f"{p['name']} = {p['value']} ({p.get('source') or ''})" for p in overridden
                    ),
                )
            )
        self.add('<dl class="facts">')
        for k, v in facts:
            self.add(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>")
        self.add("</dl>")
        note = (
            self.w("身份证号、电话、姓名等敏感信息已遮蔽", "personal data is masked")
            if r.pii_masked
            else self.w("注意: 本报告含未遮蔽的敏感信息", "note: this report shows personal data")
        )
        self.add(f'<p class="note">{_esc(note)}</p>\n<nav class="toc">')
        for anchor, zh, en in _SECTIONS:
            self.add(f'<a href="#{anchor}">{_esc(self.w(zh, en))}</a>')
        label = self.w("查户编号", "household id")
        self.add(
            f'<label class="js-only">{_esc(label)}'
            '<input id="jump" type="search" autocomplete="off"></label>'
        )
        self.add("</nav>")

    def summary(self) -> None:
        r, entries = self.r, self.r.entries
        decided, rejected = len(entries), len(r.rejected)
        kpis = (
            ("read", self.w("读取", "read"), r.read),
            ("decided", self.w("已判定", "decided"), decided),
            ("rejected", self.w("拒收", "rejected"), rejected),
            ("in_scope", self.w("纳入排查范围", "in scope"), _count(entries, _in_scope)),
            (
                "candidates",
                self.w("识别候选 (ID-1/2/3)", "candidates"),
                _count(entries, _candidate),
            ),
            (
                "violations",
                self.w("有违规情形", "with a violation"),
                sum(1 for e in entries if _category(r, e) == "violation"),
            ),
            ("dq", self.w("有数据质量问题", "with data findings"), _count(entries, _dq)),
            ("undetermined", self.w("有待定结论", "with undetermined"), _count(entries, _und)),
        )
        self.heading("summary", "一、总体情况", "1. Summary")
        self.add('<div class="kpi">')
        for key, label, n in kpis:
            self.add(
                f'<div data-kpi="{key}" data-count="{n}"><b>{_fmt_int(n)}</b>{_esc(label)}</div>'
            )
        line = self.w(
            f"读取 {r.read} 户 = 已判定 {decided} 户 + 拒收 {rejected} 户",
            f"read {r.read} = decided {decided} + rejected {rejected}",
        )
        self.add(f"</div><p>{_esc(line)}</p></section>")

    def conclusions(self) -> None:
        r = self.r
        decided = len(r.entries)
        self.heading("conclusions", "二、各结论户数", "2. Households per conclusion")
        self.table_head(
            (
                self.w("编号", "id"),
                self.w("结论", "conclusion"),
                self.w("级别", "severity"),
                self.w("成立户数", "holds"),
                self.w("占已判定", "share"),
                self.w("待定户数", "undetermined"),
            )
        )
        for rid, (rtitle, sev) in r.catalog.items():
            n, u = r.count(rid), r.count_undetermined(rid)
            share = f"{100 * n / decided:.1f}%" if decided else "—"
            self.add(
                f'<tr><td><span class="rid">{_esc(rid)}</span></td><td>{_esc(rtitle or "")}</td>'
                + self.severity(sev)
                + f'<td class="num" data-rule="{_esc(rid)}" data-count="{n}">{_fmt_int(n)}</td>'
                + f'<td class="num">{share}</td><td class="num" data-undetermined="{_esc(rid)}" '
                + f'data-count="{u}">{_fmt_int(u)}</td></tr>'
            )
        self.add("</tbody></table></section>")

    def per_gacha(self) -> None:
        r = self.r
        groups: dict[tuple[str, str], list[Entry]] = {}
        for e in r.entries:
            groups.setdefault(_where(e, self.lang), []).append(e)
        ordered = sorted(groups.items())
        bars = [(f"{s} · {g}", Counter(_category(r, e) for e in m)) for (s, g), m in ordered]
        self.heading("gacha", "三、各嘎查情况", "3. Per gacha")
        rule = self.w(
            "每户只计入最紧要的一类: 违规 > 识别/回头看建议 > 数据质量错误 > 其他。",
            "each household counts once, in its most urgent category.",
        )
        self.add(f"<p>{_esc(rule)}</p>{gacha_svg(bars, self.lang)}")
        self.table_head(self.w(zh, en) for zh, en in _HEADS_GACHA)
        for (s, g), members in ordered:
            cells = (
                len(members),
                _count(members, _in_scope),
                _count(members, _candidate),
                sum(1 for e in members if _category(r, e) == "violation"),
                sum(1 for e in members if r.has_dq_error(e)),
                _count(members, _und),
            )
            self.add(
                f'<tr data-gacha="{_esc(g)}" data-sumu="{_esc(s)}"><td>{_esc(s)}</td>'
                f"<td>{_esc(g)}</td>"
                + "".join(
                    f'<td class="num" data-key="{k}" data-count="{c}">{_fmt_int(c)}</td>'
                    for k, c in zip(_KEYS_GACHA, cells, strict=True)
                )
                + "</tr>"
            )
        self.add("</tbody></table></section>")

    def income(self) -> None:
        entries = self.r.entries
        pcnis = [d for d in (_decimal(e.values.get(PCNI)) for e in entries) if d is not None]
        missing = len(entries) - len(pcnis)
        self.heading("income", "四、人均纯收入分布", "4. Per-capita net income")
        if pcnis:
            self.add(histogram_svg(pcnis, _baseline(self.r), self.lang))
            note = self.w(
                "红色: 不超过监测收入基准的区间; 橙色: 跨越基准的区间。"
                f"人均纯收入未知 {missing} 户。",
                "red: bins at or below the income line; orange: the bin across it. "
                f"{missing} households without a value.",
            )
            self.add(f"<p>{_esc(note)}</p>")
        else:
            self.add(f"<p>{_esc(self.w('没有人均纯收入数值', 'no per-capita income values'))}</p>")
        self.add("</section>")

    def violations(self) -> None:
        r = self.r
        self.heading("violations", "五、违规情形", "5. Violations")
        for rid, zh_name, en_name, extra in VIOLATIONS:
            if rid not in r.catalog:
                continue
            hits = r.violating(rid)
            name = self.w(zh_name, en_name)
            self.add(
                f'<h3 id="v-{rid}">{_esc(rid)} {_esc(name)} '
                f'<span data-violation="{rid}" data-count="{len(hits)}">({len(hits)})</span></h3>'
            )
            if not hits:
                self.add(f"<p>{_esc(self.w('无', 'none'))}</p>")
                continue
            heads = (self.w("户编号", "household"), self.w("苏木乡镇", "sumu"))
            self.table_head((*heads, self.w("嘎查村", "gacha"), *extra))
            for e in hits:
                s, g = _where(e, self.lang)
                self.add(
                    f"<tr><td>{_link(e)}</td><td>{_esc(s)}</td><td>{_esc(g)}</td>"
                    + "".join(f'<td class="num">{_value(e.values.get(x))}</td>' for x in extra)
                    + "</tr>"
                )
            self.add("</tbody></table>")
        self.add("</section>")

    def recommendations(self) -> None:
        r = self.r
        self.heading("recommendations", "六、识别、回头看与风险消除建议", "6. Recommendations")
        for rid in CANDIDATES:
            if rid not in r.catalog:
                continue
            hits = r.violating(rid)
            rtitle = r.catalog[rid][0] or ""
            self.add(
                f'<h3>{_esc(rid)} {_esc(rtitle)} <span data-candidate="{rid}" '
                f'data-count="{len(hits)}">({len(hits)})</span></h3>'
            )
            self.add(f'<p class="links">{self.links(hits)}</p>')
        self.add("</section>")

    def quality(self) -> None:
        r = self.r
        self.heading("quality", "七、数据质量", "7. Data quality")
        self.table_head(
            (
                self.w("编号", "id"),
                self.w("问题", "finding"),
                self.w("级别", "severity"),
                self.w("户数", "households"),
                self.w("户编号", "households"),
            )
        )
        for rid in r.dq_ids():
            hits = r.violating(rid)
            if not hits:
                continue
            rtitle, sev = r.catalog[rid]
            self.add(
                f'<tr><td><span class="rid">{_esc(rid)}</span></td><td>{_esc(rtitle or "")}</td>'
                + self.severity(sev)
                + f'<td class="num" data-dq="{rid}" data-count="{len(hits)}">{len(hits)}</td>'
                + f'<td class="links">{self.links(hits)}</td></tr>'
            )
        self.add("</tbody></table>")
        und = [e for e in r.entries if e.undetermined]
        title = self.w("有待定结论的户 (缺少必填项)", "Households with undetermined conclusions")
        self.add(
            f'<h3>{_esc(title)} <span data-kpi-list="undetermined" data-count="{len(und)}">'
            f"({len(und)})</span></h3>"
        )
        self.add(f'<p class="links">{self.links(und)}</p>')
        n = len(r.rejected)
        self.add(
            f"<h3>{_esc(self.w('拒收的记录', 'Rejected records'))} "
            f'<span data-kpi-list="rejected" data-count="{n}">({n})</span></h3>'
        )
        if r.rejected:
            self.add("<table><tbody>")
            for rej in r.rejected:
                self.add(f"<tr><td><pre>{_esc(rej.text)}</pre></td></tr>")
            self.add("</tbody></table>")
        else:
            self.add(f"<p>{_esc(self.w('无', 'none'))}</p>")
        self.add("</section>")

    def households(self) -> None:
        explained = [e for e in self.r.entries if e.doc is not None]
        self.add(
            f'<section id="households"><h2>{_esc(self.w("八、逐户说明", "8. Households"))} '
            f"({len(explained)})</h2>"
        )
        intro = self.w(
            "上文列出的每一户: 成立和待定的结论及依据、计算值。完整说明 (含未成立规则的原因): "
            "fanpin explain --policy 政策 户.json",
            "every household listed above: conclusions with their grounds and values. "
            "The full explanation: fanpin explain",
        )
        self.add(f"<p>{_esc(intro)}</p>")
        back = _esc(self.w("返回顶部", "back to top"))
        for e in explained:
            assert e.doc is not None
            self.add(f'<article class="hh" id="{_esc(e.anchor)}">')
            self.add(
                html_fragment(
                    e.doc, self.lang, compact=True, anchor_prefix=f"{e.anchor}-", heading_level=3
                )
            )
            self.add(f'<p class="back"><a href="#top">{back}</a></p></article>')
        self.add("</section>")


def _count(entries: Iterable[Entry], test: Any) -> int:
    return sum(1 for e in entries if test(e))


def _in_scope(e: Entry) -> bool:
    return SCOPE_ID in e.fired


def _candidate(e: Entry) -> bool:
    return any(c in e.fired for c in ("ID-1", "ID-2", "ID-3"))


def _dq(e: Entry) -> bool:
    return any(r.startswith("DQ-") for r in e.fired)


def _und(e: Entry) -> bool:
    return bool(e.undetermined)
