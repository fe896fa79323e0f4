"""Replay a saved result: the same policy, parameters, date and input, run again.

A saved result (``fanpin explain --format json``, or a line of ``fanpin evaluate``
output) carries what is needed to run it again:

* the policy's content hash — replay finds the policy with exactly that hash (the one
  given, or a shipped one) and **refuses to re-evaluate under a changed policy**: it
  reports the change, and only with ``against_current`` shows what the current policy
  would decide instead, labelled as such;
* ``as_of`` and every parameter used — those overridden at run time are overridden
  again, with their value, effective date and source;
* the household — the record itself (``household``, explain documents), or where it
  came from (``input``: file, row and the fingerprint of the validated record, written
  by ``fanpin evaluate``), read back and checked against the fingerprint.

The outcome says whether the decision, its values, parameters and trace reproduce
exactly, and lists every difference otherwise.  Amounts compare by value: a parameter
given as ``8700`` is saved as ``8700.00`` and replayed as such.

>>> from fanpin_rules import load_policy
>>> from fanpin_rules.explain import explain_document
>>> policy = load_policy("examples/language_tour.policy")
>>> hh = {"household_id": "H-1", "size": 2, "income": "16900", "members": [{"age": 40}]}
>>> saved = explain_document(policy.evaluate(hh, params={"收入基准": "8700"}),
...                          household=hh, policy=policy)
>>> replay(saved, policy).status
'reproduced'
>>> saved["values"]["per_capita"] = "8400.00"
>>> [(d.path, d.saved, d.replayed) for d in replay(saved, policy).differences]
[('values.per_capita', '8400.00', '8450.00')]
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from fanpin_rules.errors import HouseholdInputError, MessageError

if TYPE_CHECKING:
    from fanpin_rules.policy import Policy

__all__ = [
    "COMPARED_KEYS",
    "Difference",
    "ReplayError",
    "ReplayOutcome",
    "find_policy_by_hash",
    "replay",
]

ReplayStatus = Literal[
    "reproduced", "differs", "policy_changed", "policy_not_found", "input_changed", "no_input"
]

COMPARED_KEYS = (
    "household_id",
    "policy",
    "as_of",
    "values",
    "fired",
    "undetermined",
    "params",
    "missing_inputs",
    "ignored_keys",
    "trace",
)
"""The keys of a saved result a replay must reproduce (those the saved result has)."""

MAX_DIFFERENCES = 200


class ReplayError(MessageError):
    """A file that is not a saved result, or a result that cannot be read back."""


@attrs.frozen
class Difference:
    """One place where the replay differs from the saved result (``values.pcni``)."""

    path: str
    saved: Any
    replayed: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "saved": self.saved, "replayed": self.replayed}


@attrs.frozen
class ReplayOutcome:
    """What a replay found.

    ``status``: ``reproduced`` (identical), ``differs`` (see ``differences``),
    ``policy_changed`` (the policy at hand has another hash: not re-evaluated unless
    asked, and then ``under_current`` holds the differences), ``policy_not_found``,
    ``input_changed`` (the source record no longer matches its fingerprint) or
    ``no_input`` (the result does not carry its household).
    """

    household_id: str | None
    status: ReplayStatus
    saved_hash: str | None
    current_hash: str | None = None
    policy_path: str | None = None
    differences: tuple[Difference, ...] = ()
    under_current: tuple[Difference, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def reproduced(self) -> bool:
        return self.status == "reproduced"

    def to_json(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "status": self.status,
            "saved_hash": self.saved_hash,
            "current_hash": self.current_hash,
            "policy_path": self.policy_path,
            "differences": [d.to_json() for d in self.differences],
            "under_current": (
                None if self.under_current is None else [d.to_json() for d in self.under_current]
            ),
            "notes": list(self.notes),
        }


def find_policy_by_hash(content_hash: str, name: str | None = None) -> Policy | None:
    """The shipped policy whose content hash is ``content_hash`` (None if none is).

    With ``name``, a shipped policy of that title is returned when no hash matches, so
    the caller can report the change; compare its ``content_hash``.
    """
    from fanpin_rules.errors import PolicyCheckError, PolicyLoadError, PolicySyntaxError
    from fanpin_rules.policy import load_policy, shipped_policies

    same_name: Policy | None = None
    for shipped in shipped_policies():
        try:
            candidate = load_policy(shipped)
        except (PolicyLoadError, PolicySyntaxError, PolicyCheckError):
            continue
        if candidate.content_hash == content_hash:
            return candidate
        if name is not None and candidate.name == name and same_name is None:
            same_name = candidate
    return same_name


def _diff(saved: Any, replayed: Any, path: str) -> Iterator[Difference]:
    if isinstance(saved, dict) and isinstance(replayed, dict):
        for key in list(saved) + [k for k in replayed if k not in saved]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in replayed:
                yield Difference(sub, saved[key], None)
            elif key not in saved:
                yield Difference(sub, None, replayed[key])
            else:
                yield from _diff(saved[key], replayed[key], sub)
        return
    if (
        isinstance(saved, list)
        and isinstance(replayed, list)
        and len(saved) == len(replayed)
        and any(isinstance(x, dict | list) for x in saved)
    ):
        for i, (a, b) in enumerate(zip(saved, replayed, strict=True)):
            yield from _diff(a, b, f"{path}[{i}]")
        return
    if saved != replayed and not _same_number(saved, replayed):
        yield Difference(path, saved, replayed)


def _same_number(a: Any, b: Any) -> bool:
    """``"8700"`` and ``"8700.00"``: the same amount written two ways (a parameter given
    as ``--param 监测收入基准=8700`` is saved as ``8700.00``)."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    try:
        return Decimal(a) == Decimal(b)
    except (ArithmeticError, ValueError):
        return False


def _differences(saved: Mapping[str, Any], replayed: Mapping[str, Any]) -> tuple[Difference, ...]:
    found: list[Difference] = []
    for key in COMPARED_KEYS:
        if key not in saved:
            continue
        for d in _diff(saved[key], replayed.get(key), key):
            found.append(d)
            if len(found) >= MAX_DIFFERENCES:
                return tuple(found)
    return tuple(found)


def _plain(doc: Any) -> Any:
    """The JSON value as it would be read back from a file (decimals as numbers)."""
    from fanpin_rules.explain import jsonable

    return json.loads(json.dumps(jsonable(doc), ensure_ascii=False))


def _record_from_source(
    doc: Mapping[str, Any], policy: Policy
) -> tuple[dict[str, Any] | None, str | None]:
    """The household a ``fanpin evaluate`` decision names as its source, checked against
    the fingerprint it saved: (record, None), or (None, why not)."""
    origin = doc.get("input")
    if not isinstance(origin, Mapping) or not origin.get("source") or not origin.get("row"):
        return None, None
    source, row = str(origin["source"]), int(origin["row"])
    try:
        lines = Path(source).read_text("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None, f"找不到输入文件 {source} / cannot read the input file {source}"
    if not 1 <= row <= len(lines):
        return None, f"{source} 没有第 {row} 行 / {source} has no line {row}"
    try:
        record = json.loads(lines[row - 1], parse_float=Decimal)
    except json.JSONDecodeError:
        return None, f"{source}:{row} 不是 JSON / is not JSON"
    if not isinstance(record, dict):
        return None, f"{source}:{row} 不是一户 / is not a household"
    expected = origin.get("sha256")
    if expected:
        from fanpin_rules.batch import input_digest

        try:
            found = input_digest(
                policy.validate(record, ignore_extra=bool(doc.get("ignored_keys")))
            )
        except HouseholdInputError:
            found = None
        if found != expected:
            return None, (
                f"{source}:{row} 的记录已改变 (指纹 {found}, 保存时 {expected}) / the record "
                f"at {source}:{row} changed since (fingerprint {found}, saved {expected})"
            )
    return record, None


def replay(
    doc: Mapping[str, Any],
    policy: Policy | None = None,
    *,
    against_current: bool = False,
) -> ReplayOutcome:
    """Run a saved result again and compare.

    ``policy`` is the policy to use; without it, the shipped policy with the saved
    hash.  A policy with another hash is never used silently: the outcome is
    ``policy_changed`` and, only when ``against_current``, ``under_current`` lists how
    the current policy's decision differs from the saved one.
    """
    if not isinstance(doc, Mapping) or "fired" not in doc or "policy" not in doc:
        raise ReplayError(
            "不是保存的判定结果 (缺少 fired 或 policy) / "
            "not a saved result (no 'fired' or 'policy')"
        )
    hid = doc.get("household_id")
    saved_hash = (doc.get("policy") or {}).get("hash")
    name = (doc.get("policy") or {}).get("name")
    if policy is None:
        policy = find_policy_by_hash(str(saved_hash), name)
        if policy is None:
            return ReplayOutcome(hid, "policy_not_found", saved_hash)
    notes: list[str] = []
    changed = policy.content_hash != saved_hash
    record = doc.get("household")
    if not isinstance(record, Mapping):
        record, why = _record_from_source(doc, policy)
        if record is None:
            status: ReplayStatus = "input_changed" if why else "no_input"
            return ReplayOutcome(
                hid, status, saved_hash, policy.content_hash, policy.path, notes=(why or "",)
            )
    if doc.get("pii_masked"):
        notes.append(
            "输入中的敏感信息已遮蔽, 重放用的是遮蔽后的数据 / the saved input was masked; "
            "the replay ran on the masked record"
        )
    if changed and not against_current:
        return ReplayOutcome(
            hid, "policy_changed", saved_hash, policy.content_hash, policy.path, notes=tuple(notes)
        )
    try:
        replayed = _run(doc, record, policy)
    except HouseholdInputError as err:
        from fanpin_rules.render import render_input_error

        why = render_input_error(err, "zh") + "\n" + render_input_error(err, "en")
        return ReplayOutcome(
            hid, "input_changed", saved_hash, policy.content_hash, policy.path, notes=(why,)
        )
    if doc.get("schema_version") is not None and doc.get("schema_version") != replayed.get(
        "schema_version"
    ):
        replayed.pop("trace", None)
        notes.append(
            f"结果格式版本不同 ({doc.get('schema_version')} → {replayed.get('schema_version')}), "
            f"未比较追踪 / schema version differs: the trace was not compared"
        )
        doc = {k: v for k, v in doc.items() if k != "trace"}
    differences = _differences(_plain(doc), _plain(replayed))
    if changed:
        return ReplayOutcome(
            hid,
            "policy_changed",
            saved_hash,
            policy.content_hash,
            policy.path,
            under_current=differences,
            notes=tuple(notes),
        )
    return ReplayOutcome(
        hid,
        "reproduced" if not differences else "differs",
        saved_hash,
        policy.content_hash,
        policy.path,
        differences,
        notes=tuple(notes),
    )


def _run(doc: Mapping[str, Any], record: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    from fanpin_rules.explain import explain_document, jsonable

    overrides = {
        p["name"]: {"value": p["value"], "effective": p.get("effective"), "source": p.get("source")}
        for p in doc.get("params") or []
        if p.get("overridden")
    }
    data = json.loads(json.dumps(jsonable(record), ensure_ascii=False), parse_float=Decimal)
    result = policy.evaluate(
        data,
        doc.get("as_of"),
        overrides,
        trace="trace" in doc,
        ignore_extra=bool(doc.get("ignored_keys")),
    )
    replayed = explain_document(
        result,
        household=data,
        policy=policy,
        show_pii=not doc.get("pii_masked"),
    )
    if "trace" not in doc:
        replayed.pop("trace", None)
    return replayed
