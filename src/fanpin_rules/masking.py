"""Personal data masking: what every rendering shows unless asked to show it all.

Three sources of personal data are masked:

* the fields the policy schema declares ``pii`` (``name``, ``id_no``,
  ``contact_person``, ``contact_phone`` in the shipped policy), wherever they sit in the
  input record (``members[].id_no``);
* the same values wherever else they appear in the document (a judgement note that
  names the head of household, an observed ``contact_phone`` in a trace);
* anything shaped like a resident id number (18 or 15 digits) or a phone number,
  in any text, even when no field declared it.

A mask keeps what an auditor needs to tell records apart and to see that a value is
there: the surname (``敖**``), the region code and the last four characters of an id
number (``150724********1337``), the first three and last four digits of a mobile
number (``139****5678``).  Empty and blank values stay as they are, so a masked record
still reads as "filled in" or "empty" exactly like the original.

>>> mask_value("敖建国"), mask_value("15072419700318126X"), mask_value("13904701234")
('敖**', '150724********126X', '139****1234')
>>> mask_text("户主敖建国, 电话 13904701234", known=("敖建国",))
'户主敖**, 电话 139****1234'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "mask_document",
    "mask_text",
    "mask_value",
    "pii_values",
]

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<![0-9A-Za-z])(0\d{2,3})([- ])(\d{3,4})(\d{4})(?![0-9A-Za-z])")

# values under these keys are identifiers or places, never personal data, and are
# needed as they are (links, grouping, hashes)
_KEEP_KEYS = frozenset({"household_id", "sumu", "gacha", "hash", "schema_version", "file"})


def _mask_patterns(text: str) -> str:
    text = _ID18.sub(lambda m: m[1] + "*" * 8 + m[3], text)
    text = _ID15.sub(lambda m: m[1] + "*" * 6 + m[3], text)
    text = _MOBILE.sub(lambda m: m[1] + "****" + m[3], text)
    return _LANDLINE.sub(lambda m: m[1] + m[2] + "*" * len(m[3]) + m[4], text)


def mask_value(value: str) -> str:
    """The mask of one personal value, chosen by its shape.

    >>> mask_value("张三"), mask_value("0470-8821234"), mask_value("   "), mask_value("")
    ('张*', '0470-***1234', '   ', '')
    >>> mask_value(mask_value("15072419700318126X"))  # masking twice changes nothing
    '150724********126X'
    """
    stripped = value.strip()
    if not stripped or "*" in stripped:
        return value  # empty stays empty; a masked value stays as it is (idempotent)
    masked = _mask_patterns(stripped)
    if masked != stripped:
        return masked
    return stripped[0] + "*" * max(1, len(stripped) - 1)


def mask_text(text: str, known: Sequence[str] = ()) -> str:
    """``text`` with the ``known`` personal values and every id or phone number masked.

    Known values shorter than two characters are left alone (a one-character name
    would otherwise mask that character everywhere).
    """
    return _Masker(known).text(text)


# a text without a run of seven digits holds no id or phone number
_DIGIT_RUN = re.compile(r"\d{7}")


class _Masker:
    """Masks texts for one document: its known personal values and the patterns,
    each distinct text once."""

    def __init__(self, known: Iterable[str]) -> None:
        values = sorted(
            {k.strip() for k in known if len(k.strip()) >= 2 and "*" not in k},
            key=len,
            reverse=True,
        )
        self.known = re.compile("|".join(map(re.escape, values))) if values else None
        self.memo: dict[str, str] = {}

    def text(self, text: str) -> str:
        found = self.memo.get(text)
        if found is None:
            found = text
            if self.known is not None:
                found = self.known.sub(lambda m: mask_value(m[0]), found)
            if _DIGIT_RUN.search(found):
                found = _mask_patterns(found)
            self.memo[text] = found
        return found

    def copy(self, node: Any, key: str | None = None) -> Any:
        """A copy of a JSON value with every text masked (identifiers and places kept)."""
        if isinstance(node, str):
            return node if key in _KEEP_KEYS else self.text(node)
        if isinstance(node, list):
            return [self.copy(x, key) for x in node]
        if isinstance(node, dict):
            return {k: (v if k == "policy" else self.copy(v, k)) for k, v in node.items()}
        return node


def _at(data: Any, path: Sequence[str]) -> Iterable[tuple[Any, str]]:
    """(container, key) pairs that a path like ``members[].name`` reaches."""
    if not path or not isinstance(data, Mapping):
        return
    head, rest = path[0], path[1:]
    is_list = head.endswith("[]")
    key = head[:-2] if is_list else head
    if key not in data:
        return
    if not rest:
        if not is_list:
            yield data, key
        return
    children = data[key] if is_list else [data[key]]
    if not isinstance(children, list):
        return
    for child in children:
        yield from _at(child, rest)


def pii_values(data: Any, pii_fields: Iterable[str]) -> list[str]:
    """The personal values an input record holds under the declared pii paths.

    >>> pii_values({"members": [{"name": "敖建国"}, {"name": ""}]}, ["members[].name"])
    ['敖建国']
    """
    found: list[str] = []
    for path in pii_fields:
        for container, key in _at(data, path.split(".")):
            v = container[key]
            if isinstance(v, str) and v.strip():
                found.append(v)
    return found


def _pii_terms(doc: Mapping[str, Any]) -> set[str]:
    terms = (doc.get("trace") or {}).get("terms") or {}
    return {name for name, t in terms.items() if isinstance(t, Mapping) and t.get("pii")}


def _walk_trace_values(node: Any, pii: set[str], found: list[str], mask: bool) -> None:
    """Collect the values the trace observed for personal fields (and mask them)."""
    if isinstance(node, list):
        for x in node:
            _walk_trace_values(x, pii, found, mask)
        return
    if not isinstance(node, dict):
        return
    name = node.get("name")
    if isinstance(name, str) and name in pii and isinstance(node.get("value"), str):
        found.append(node["value"])
        if mask:
            node["value"] = mask_value(node["value"])
    if "left" in node and "left_value" in node:
        for side in ("left", "right"):
            if node.get(side) in pii and isinstance(node.get(f"{side}_value"), str):
                found.append(node[f"{side}_value"])
                if mask:
                    node[f"{side}_value"] = mask_value(node[f"{side}_value"])
    for v in node.values():
        if isinstance(v, dict | list):
            _walk_trace_values(v, pii, found, mask)


def mask_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a result document (``Result.to_json()``, an explain document) with
    personal data masked, marked ``"pii_masked": true``.

    ``pii_fields`` (paths such as ``members[].id_no``) say which fields of the
    ``household`` record the policy declares personal; trace ``terms`` marked ``pii``
    do the same for the values a trace observed.

    >>> doc = {"household_id": "1507240001", "pii_fields": ["members[].name"],
    ...        "household": {"members": [{"name": "敖建国"}], "judgement_note": "敖建国外出"}}
    >>> masked = mask_document(doc)
    >>> masked["household"], masked["pii_masked"], masked["household_id"]
    ({'members': [{'name': '敖**'}], 'judgement_note': '敖**外出'}, True, '1507240001')
    """
    known: list[str] = []
    fields = [str(f) for f in doc.get("pii_fields") or []]
    household = doc.get("household")
    if isinstance(household, Mapping):
        known.extend(pii_values(household, fields))
    pii = _pii_terms(doc)
    trace = doc.get("trace")
    if pii and isinstance(trace, dict):
        _walk_trace_values(trace, pii, known, mask=False)  # read only: the values to find
    out = _Masker(known).copy(dict(doc))
    assert isinstance(out, dict)
    if isinstance(out.get("household"), dict):
        for path in fields:
            for container, key in _at(out["household"], path.split(".")):
                if isinstance(container[key], str):
                    container[key] = mask_value(container[key])
    if pii and isinstance(out.get("trace"), dict):
        _walk_trace_values(out["trace"], pii, [], mask=True)
    out["pii_masked"] = True
    return out
