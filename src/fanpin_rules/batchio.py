"""Batch input and output files: JSON Lines, CSV, XLSX and Parquet.

Reading turns each file into the JSON objects the household schema validates, one
:class:`~fanpin_rules.batch.InputRecord` per household (or a
:class:`~fanpin_rules.errors.HouseholdInputError` for a record that cannot even be read), in
file order, with the file, row and column of every value:

* **JSON Lines** (``.jsonl``, ``.ndjson``, ``.json``): one object a line; the row is the line.
* **Parquet** (``.parquet``): one household a row, nested records as structs and members as a
  list of structs; the row is the 1-based record number.
* **CSV** (``.csv``) and **XLSX** (``.xlsx``): one household a row, one column per field.
  Fields of nested records are dotted columns (``monitoring.identified_on``); each part may
  be the JSON key or the Chinese label (``监测信息.识别日期``). A list of values sits in one
  cell, separated by ``、`` or ``;`` (``因病、因学``); ``[]`` is an empty list, an empty cell
  an absent value. A list of records (``members``) is a second table joined by the household
  key: ``--members FILE`` for CSV, a sheet named ``members`` or ``家庭成员`` in the workbook.

Writing goes through :class:`AtomicFile`: a temporary file beside the target, renamed over it
only when everything was written, so an interrupted run never leaves half a file.

Layout, cell rules and the columns of the result files: ``docs/batch.md``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import importlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

import attrs

from fanpin_rules import ast
from fanpin_rules.batch import InputRecord, LocatedIssue, Origin, Outcome
from fanpin_rules.check.typecheck import type_of_ref
from fanpin_rules.errors import HouseholdInputError, InputIssue, MessageError
from fanpin_rules.suggest import closest
from fanpin_rules.types import T

if TYPE_CHECKING:
    from fanpin_rules.model import PolicyModel
    from fanpin_rules.policy import Policy, Result

__all__ = [
    "LIST_SEPARATORS",
    "AtomicFile",
    "BatchIOError",
    "DecisionWriter",
    "InputLayout",
    "InputStream",
    "RejectedWriter",
    "file_format",
    "open_inputs",
    "read_decisions",
    "reject_duplicates",
    "rejected_json",
    "write_households",
]

FORMATS = ("jsonl", "csv", "xlsx", "parquet")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
LIST_SEPARATORS = "、;；"
_SPLIT = re.compile(f"[{LIST_SEPARATORS}]")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_YES = frozenset({"true", "是", "1", "yes", "y", "有"})
_NO = frozenset({"false", "否", "0", "no", "n", "无"})
_LIST_JOIN = "、"
XLSX_MAX_ROWS = 1_048_576
"""Rows in one worksheet, the header included (Excel's limit)."""


class BatchIOError(MessageError):
    """A whole input or output file cannot be used: missing, unreadable, bad header, wrong
    encoding, or a format whose library is not installed. Nothing is written."""


def file_format(path: str | os.PathLike[str]) -> str:
    """The batch format of a file, from its suffix.

    >>> file_format("out/decisions.parquet"), file_format("户表.CSV")
    ('parquet', 'csv')
    """
    suffix = Path(path).suffix.lower()
    fmt = _SUFFIXES.get(suffix)
    if fmt is None:
        known = ", ".join(sorted(_SUFFIXES))
        raise BatchIOError(
            f"{path}: 不认识的文件类型「{suffix or '(无后缀)'}」, 可用: {known} / "
            f"unknown file type '{suffix or '(no suffix)'}'; use one of: {known}"
        )
    return fmt


def _require(module: str, extra: str, what: str) -> ModuleType:
    """An optional dependency, or a clear error saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BatchIOError(
            f"读写 {what} 文件需要 {module.split('.')[0]}: pip install 'fanpin_rules[{extra}]' / "
            f"{what} files need {module.split('.')[0]}: pip install 'fanpin_rules[{extra}]'"
        ) from None


def _pyarrow() -> tuple[Any, Any]:
    pa = _require("pyarrow", "parquet", "Parquet")
    pq = _require("pyarrow.parquet", "parquet", "Parquet")
    return pa, pq


def _openpyxl() -> Any:
    return _require("openpyxl", "xlsx", "XLSX")


# ================================================================ the input layout


@attrs.frozen
class Leaf:
    """One column of a flat table: a scalar field, or a list of scalars, possibly nested.

    ``path`` holds the JSON keys (``("monitoring", "identified_on")``); ``kind`` is the
    value type (money, int, number, bool, date, text, enum, list) and ``elem`` the element
    type of a list.
    """

    path: tuple[str, ...]
    kind: str
    elem: str | None = None

    @property
    def name(self) -> str:
        return ".".join(self.path)


@attrs.frozen
class _FieldRef:
    key: str
    label: str | None
    type: T
    record: str | None  # record name for a record or a list of records


class TableLayout:
    """How the records of one type map to flat columns."""

    def __init__(self, model: PolicyModel, record: str) -> None:
        self.model = model
        self.record = record
        decl = model.records[record]
        self.label = decl.label
        self.leaves: list[Leaf] = []
        self.lists: dict[str, _FieldRef] = {}  # list-of-record fields of this record
        self._walk(record, (), ())

    def _fields(self, record: str) -> list[_FieldRef]:
        out = []
        for f in self.model.records[record].fields:
            t = type_of_ref(self.model, f.type)
            if t is None:  # pragma: no cover - the checker rejects unknown types
                continue
            rec = t.name if t.kind == "record" else None
            if t.kind == "list" and t.elem is not None and t.elem.kind == "record":
                rec = t.elem.name
            out.append(_FieldRef(f.key, f.label, t, rec))
        return out

    def _walk(self, record: str, prefix: tuple[str, ...], stack: tuple[str, ...]) -> None:
        for f in self._fields(record):
            path = (*prefix, f.key)
            if f.type.kind == "record" and f.record is not None:
                if f.record not in stack:
                    self._walk(f.record, path, (*stack, record))
            elif f.type.kind == "list" and f.record is not None:
                if not prefix:
                    self.lists[f.key] = f
            elif f.type.kind == "list":
                elem = f.type.elem.kind if f.type.elem is not None else "text"
                self.leaves.append(Leaf(path, "list", "text" if elem == "strlit" else elem))
            else:
                self.leaves.append(Leaf(path, f.type.kind))

    def resolve(self, header: str) -> Leaf | _FieldRef:
        """The leaf a column header names (keys or labels, dotted), or the list field.

        Raises ``LookupError`` with a bilingual message and hint.
        """
        parts = [p.strip() for p in header.split(".")]
        record = self.record
        path: list[str] = []
        for i, part in enumerate(parts):
            fields = self._fields(record)
            found = next((f for f in fields if part in (f.key, f.label)), None)
            if found is None:
                names = [f.key for f in fields] + [f.label for f in fields if f.label]
                best = _suggest(part, names)
                prefix = ".".join(path)
                shown = f"{prefix}.{best}" if prefix and best else best
                raise LookupError(
                    f"未知列「{header}」"
                    + (f": 记录「{prefix}」中没有「{part}」" if prefix else ""),
                    f"unknown column '{header}'"
                    + (f": no '{part}' in '{prefix}'" if prefix else ""),
                    f"是不是「{shown}」?" if best else "请对照 docs/batch.md 的列名",
                    f"did you mean '{shown}'?" if best else "see the column names in docs/batch.md",
                )
            path.append(found.key)
            last = i == len(parts) - 1
            if found.type.kind == "record" and found.record is not None:
                if last:
                    first = next(iter(self._fields(found.record)), None)
                    example = f"{header}.{first.key}" if first else header
                    raise LookupError(
                        f"列「{header}」是一个记录, 不能写在一个单元格里",
                        f"column '{header}' is a record and cannot sit in one cell",
                        f"每个字段一列, 例如「{example}」",
                        f"use one column per field, e.g. '{example}'",
                    )
                record = found.record
                continue
            if not last:
                raise LookupError(
                    f"未知列「{header}」:「{'.'.join(path)}」不是记录",
                    f"unknown column '{header}': '{'.'.join(path)}' is not a record",
                    f"写成「{'.'.join(path)}」",
                    f"write '{'.'.join(path)}'",
                )
            if found.type.kind == "list" and found.record is not None:
                if len(path) == 1 and found.key in self.lists:
                    return found
                raise LookupError(
                    f"列「{header}」是记录的列表, 表格输入不支持",
                    f"column '{header}' is a list of records, which a table cannot hold",
                    "改用 JSON Lines 或 Parquet 输入",
                    "use JSON Lines or Parquet input",
                )
            leaf = next(lf for lf in self.leaves if lf.path == tuple(path))
            return leaf
        raise LookupError("空列名", "empty column name", "", "")  # pragma: no cover

    def child_names(self, key: str) -> tuple[str, ...]:
        """The names a table of the list field ``key`` may have (key, label)."""
        f = self.lists[key]
        return tuple(n for n in (f.key, f.label) if n)


def _suggest(word: str, candidates: list[str]) -> str | None:
    folded = word.casefold()
    for c in candidates:
        if c.casefold() == folded:
            return c
    found = closest(word, candidates)
    return found[0] if found else None


class InputLayout:
    """The flat-table view of a policy's household input: the household table, the tables of
    its lists of records (``members``) and the key joining them.

    >>> from fanpin_rules import load_policy
    >>> layout = InputLayout(load_policy("ewenki_2024q2"))
    >>> layout.key, list(layout.children), layout.root.resolve("监测信息.识别日期").name
    ('household_id', ['members'], 'monitoring.identified_on')
    """

    def __init__(self, policy: Policy) -> None:
        model = policy.model
        if model.input is None:  # pragma: no cover - load_policy requires an input
            raise BatchIOError("the policy declares no input record")
        self.root = TableLayout(model, model.input.record)
        self.key = model.input.key_field
        self.key_label: str | None = next(
            (f.label for f in model.records[model.input.record].fields if f.key == self.key),
            None,
        )
        self.children: dict[str, TableLayout] = {
            key: TableLayout(model, f.record) for key, f in self.root.lists.items() if f.record
        }
        self.required_lists = tuple(
            f.key
            for f in model.records[model.input.record].fields
            if f.required and f.key in self.children
        )

    def child_for_sheet(self, name: str) -> str | None:
        """The list field whose table a sheet of this name holds (``家庭成员`` -> members)."""
        folded = name.strip().casefold()
        for key in self.children:
            if folded in (n.casefold() for n in self.root.child_names(key)):
                return key
        return None

    def is_key(self, header: str) -> bool:
        return self.key is not None and header.strip() in (self.key, self.key_label)


# ================================================================ cells


class _CellError(Exception):
    def __init__(self, zh: str, en: str, hint_zh: str = "", hint_en: str = "") -> None:
        super().__init__(en)
        self.args_ = (zh, en, hint_zh, hint_en)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell(v: Any, kind: str, elem: str | None = None) -> Any:
    """A cell's value as the JSON the schema validates (``None`` = absent).

    Text cells (CSV, or text in a workbook) are converted by the field's type; typed workbook
    cells (numbers, dates, true/false) are passed on as JSON would carry them.
    """
    if _blank(v):
        return None
    if isinstance(v, str):
        v = v.strip()
    if kind == "list":
        return _list_cell(v, elem or "text")
    if kind in ("money", "number"):
        if isinstance(v, dt.date):
            raise _CellError(
                "应填数字, 实际是日期",
                "must be a number; found a date",
                "把该列设为数字或文本格式",
                "format the column as number or text",
            )
        return v  # text such as "8300.00" is a JSON decimal string; the schema checks it
    if kind == "int":
        if isinstance(v, str):
            if _DECIMAL.fullmatch(v) is None:
                raise _CellError(
                    f"应填整数, 实际是「{_short(v)}」",
                    f"must be a whole number; found '{_short(v)}'",
                    "只写数字, 例如 4",
                    "write digits only, e.g. 4",
                )
            return Decimal(v)  # the schema accepts 4 and 4.0, rejects 4.5 with a clear message
        if isinstance(v, dt.date):
            raise _CellError("应填整数, 实际是日期", "must be a whole number; found a date")
        return v
    if kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, int | float) and v in (0, 1):
            return bool(v)
        text = str(v).strip().casefold()
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise _CellError(
            f"应填 是/否, 实际是「{_short(str(v))}」",
            f"must be yes/no; found '{_short(str(v))}'",
            "是: true、是、1; 否: false、否、0",
            "yes: true, 是, 1; no: false, 否, 0",
        )
    if kind == "date":
        if isinstance(v, dt.datetime):
            if v.time() != dt.time(0, 0):
                raise _CellError(
                    f"应填日期, 实际是带时刻的 {v.isoformat(' ')}",
                    f"must be a date; found the date and time {v.isoformat(' ')}",
                    f'只写日期, 例如 "{v.date().isoformat()}"',
                    f'write the date only, e.g. "{v.date().isoformat()}"',
                )
            return v.date().isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
            raise _CellError(
                f"应填日期, 实际是数字 {v} (可能是 Excel 的日期序号)",
                f"must be a date; found the number {v} (an Excel date serial?)",
                '把该列设为日期格式, 或写成 "2024-01-05"',
                'format the column as a date, or write "2024-01-05"',
            )
        return v  # text: the schema names the format and suggests the fix
    # text and enum
    if isinstance(v, bool):
        return v  # the schema says: must be text
    if isinstance(v, int | float) and abs(v) < 1e15:
        return str(int(v)) if float(v).is_integer() else repr(v)
    if isinstance(v, int | float):  # Excel keeps 15 digits: a long ID typed as a number is lost
        raise _CellError(
            f"应填文字, 实际是数字 {v!r}",
            f"must be text; found the number {v!r}",
            "把该列设为文本格式后重新填写 (长数字会被 Excel 改掉末几位)",
            "format the column as text and re-enter it (Excel alters long numbers)",
        )
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _list_cell(v: Any, elem: str) -> list[Any]:
    if isinstance(v, str) and v.startswith("["):
        try:
            loaded = json.loads(v, parse_float=Decimal)
        except json.JSONDecodeError:
            loaded = None
        if not isinstance(loaded, list):
            raise _CellError(
                f"列表写法不对:「{_short(v)}」",
                f"not a list: '{_short(v)}'",
                "用「、」或「;」分隔各项, 例如 因病、因学; 空列表写 []",
                "separate entries with 、 or ; e.g. 因病;因学; an empty list is []",
            )
        return loaded
    parts = _SPLIT.split(v) if isinstance(v, str) else [v]
    return [_cell(p, elem) for p in parts if not _blank(p)]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


# ================================================================ tables (CSV, XLSX)


@attrs.frozen
class _Table:
    """Rows of one CSV file or one worksheet: the header and (row number, cells)."""

    source: str
    header: tuple[str, ...]
    rows: Iterator[tuple[int, Sequence[Any]]]


@attrs.frozen
class _Binding:
    """What each column of a table feeds."""

    leaves: tuple[tuple[int, Leaf | None, str], ...]  # (index, leaf or None = extra, header)
    key_index: int | None
    columns: Mapping[str, str]  # json path -> header, for error locations
    width: int


def _bind(
    table: _Table,
    layout: TableLayout,
    input_layout: InputLayout,
    *,
    child: bool,
    ignore_extra: bool,
) -> _Binding:
    leaves: list[tuple[int, Leaf | None, str]] = []
    columns: dict[str, str] = {}
    key_index: int | None = None
    seen: dict[str, str] = {}
    width = len(table.header)
    while width and _blank(table.header[width - 1]):
        width -= 1
    for i, raw in enumerate(table.header[:width]):
        header = "" if raw is None else str(raw).strip()
        where = f"{table.source}: 第 {i + 1} 列 / column {i + 1}"
        if not header:
            raise BatchIOError(
                f"{where}: 表头为空; 每列都要有列名 (表头在第 1 行) / the header is empty; every "
                "column needs a name (headers are in row 1)"
            )
        if child and input_layout.is_key(header):
            key_index = i
            continue
        try:
            target = layout.resolve(header)
        except LookupError as exc:
            if ignore_extra and str(exc.args[0]).startswith("未知列"):
                leaves.append((i, None, header))
                continue
            zh, en, hz, he = exc.args
            fix_zh = f"{hz}; 或加 --ignore-extra 忽略未知列" if "未知列" in zh else hz
            fix_en = (
                f"{he}; or add --ignore-extra to skip unknown columns" if "unknown" in en else he
            )
            raise BatchIOError(
                f"{table.source}: {zh} ({fix_zh}) / {en} ({fix_en})".replace("()", "")
            ) from None
        if isinstance(target, _FieldRef):
            names = " 或 ".join(f"「{n}」" for n in layout.child_names(target.key))
            raise BatchIOError(
                f"{table.source}: 列「{header}」是记录的列表, 不能写在一列里; 放在单独的表里: "
                f"CSV 用 --{target.key} 文件, XLSX 用名为{names}的工作表 / column '{header}' is "
                f"a list of records: put it in its own table (--{target.key} FILE for CSV, a "
                f"sheet named {' or '.join(layout.child_names(target.key))} in a workbook)"
            )
        if target.name in seen:
            raise BatchIOError(
                f"{table.source}: 列「{header}」与列「{seen[target.name]}」是同一字段 "
                f"{target.name} / columns '{header}' and '{seen[target.name]}' are the same "
                f"field {target.name}"
            )
        seen[target.name] = header
        columns[target.name] = header
        leaves.append((i, target, header))
    if child and key_index is None:
        names = " 或 ".join(f"「{n}」" for n in (input_layout.key, input_layout.key_label) if n)
        raise BatchIOError(
            f"{table.source}: 没有户编号列; 加一列{names}, 写明每一行属于哪一户 / no household "
            f"key column; add a column '{input_layout.key}' saying which household each row "
            "belongs to"
        )
    return _Binding(tuple(leaves), key_index, columns, width)


def _row_record(
    cells: Sequence[Any],
    binding: _Binding,
    source: str,
    row: int,
    prefix: str,
) -> tuple[dict[str, Any], list[InputIssue]]:
    """A table row as a JSON object, and the issues of cells that could not be read."""
    data: dict[str, Any] = {}
    issues: list[InputIssue] = []
    for index, leaf, header in binding.leaves:
        raw = cells[index] if index < len(cells) else None
        if leaf is None:  # an ignored extra column: kept, so the schema counts it
            if not _blank(raw):
                data[header] = raw if not isinstance(raw, str) else raw.strip()
            continue
        try:
            value = _cell(raw, leaf.kind, leaf.elem)
        except _CellError as exc:
            zh, en, hz, he = exc.args_
            path = f"{prefix}{leaf.name}"
            issues.append(
                LocatedIssue(path, f"「{path}」{zh}", f"'{path}' {en}", hz, he, source, row, header)
            )
            continue
        if value is not None:
            _set_path(data, leaf.path, value)
    extra = [c for c in cells[binding.width :] if not _blank(c)]
    if extra:
        issues.append(
            LocatedIssue(
                prefix.rstrip("."),
                f"这一行在表头之外还有 {len(extra)} 个单元格有内容",
                f"the row has {len(extra)} non-empty cells beyond the header",
                "删去多余的单元格, 或补上列名",
                "remove the extra cells or give the column a name",
                source,
                row,
            )
        )
    return data, issues


class _ChildPool:
    """The rows of the tables of lists of records (members), by household key."""

    def __init__(self, key: str | None) -> None:
        self.key = key or "household_id"  # the JSON key the rows are joined on
        self.rows: dict[str, list[tuple[str, _Table, _Binding, int, Sequence[Any]]]] = {}
        self.orphans: list[HouseholdInputError] = []

    def load(self, key: str, table: _Table, binding: _Binding) -> None:
        assert binding.key_index is not None
        column = table.header[binding.key_index]
        for row, cells in table.rows:
            if all(_blank(c) for c in cells):
                continue
            raw = cells[binding.key_index] if binding.key_index < len(cells) else None
            try:
                hid = None if _blank(raw) else _cell(raw, "text")
            except _CellError as exc:  # a key Excel turned into a long number
                zh, en, hz, he = exc.args_
                issue = LocatedIssue(self.key, zh, en, hz, he, table.source, row, column)
                self.orphans.append(HouseholdInputError([issue], None, table.source, row))
                continue
            if hid is None:
                self.orphans.append(_orphan(self.key, None, table.source, row, column))
                continue
            self.rows.setdefault(str(hid), []).append((key, table, binding, row, cells))

    def take(self, hid: str | None) -> list[tuple[str, _Table, _Binding, int, Sequence[Any]]]:
        if hid is None:
            return []
        return self.rows.pop(hid, [])

    def leftovers(self) -> Iterator[HouseholdInputError]:
        yield from self.orphans
        self.orphans = []
        for hid, entries in self.rows.items():
            for _key, table, binding, row, _cells in entries:
                header = table.header[binding.key_index] if binding.key_index is not None else ""
                yield _orphan(self.key, hid, table.source, row, str(header))
        self.rows = {}


def _orphan(key: str, hid: str | None, source: str, row: int, column: str) -> HouseholdInputError:
    if hid is None:
        issue = LocatedIssue(
            key,
            "这一行没有填户编号, 不知道属于哪一户",
            "the row has no household key, so it belongs to no household",
            "填上所属户的户编号",
            "enter the key of the household it belongs to",
            source,
            row,
            column,
        )
    else:
        issue = LocatedIssue(
            key,
            f"户编号「{hid}」在户表中找不到, 这一行不属于任何一户",
            f"household key '{hid}' matches no household, so the row belongs to none",
            "核对户编号, 或在户表中补上这一户",
            "check the key, or add the household to the household table",
            source,
            row,
            column,
        )
    return HouseholdInputError([issue], hid, source, row)


def _tabular_records(
    table: _Table,
    layout: InputLayout,
    pool: _ChildPool,
    ignore_extra: bool,
) -> Iterator[InputRecord]:
    binding = _bind(table, layout.root, layout, child=False, ignore_extra=ignore_extra)
    key_path = (layout.key,) if layout.key else None
    for row, cells in table.rows:
        if all(_blank(c) for c in cells):
            continue
        data, issues = _row_record(cells, binding, table.source, row, "")
        origins = [Origin("", table.source, row, binding.columns)]
        hid = data.get(key_path[0]) if key_path else None
        counters: dict[str, int] = {}
        for key, ctable, cbinding, crow, ccells in pool.take(hid if isinstance(hid, str) else None):
            i = counters.get(key, 0)
            counters[key] = i + 1
            prefix = f"{key}[{i}]."
            member, member_issues = _row_record(ccells, cbinding, ctable.source, crow, prefix)
            data.setdefault(key, []).append(member)
            issues.extend(member_issues)
            origins.append(Origin(prefix[:-1], ctable.source, crow, cbinding.columns))
        yield InputRecord(data, table.source, row, tuple(issues), tuple(origins))


# ------------------------------------------------ CSV


class _ByteCounter:
    """Lines of a binary file decoded one at a time, counting the bytes read (progress)."""

    def __init__(self, path: str, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.done = 0
        self.line = 0

    def raw_lines(self) -> Iterator[bytes]:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise BatchIOError(f"{self.path}: {exc.strerror} / cannot open") from None
        with handle:
            for raw in handle:
                self.line += 1
                self.done += len(raw)
                yield raw

    def lines(self) -> Iterator[str]:
        """Decoded lines; a line that cannot be decoded stops the file (a table's rows
        are not independent of its header)."""
        codec = (
            "utf-8-sig"
            if self.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
            else self.encoding
        )
        decoder = _decoder(codec)
        for raw in self.raw_lines():
            try:
                yield decoder(raw, self.line == 1)
            except UnicodeDecodeError as exc:
                raise BatchIOError(
                    f"{self.path}:{self.line}: 不是 {self.encoding} 编码的文字 (第 "
                    f"{exc.start + 1} 个字节); 用 WPS/Excel 另存为「CSV UTF-8」, 或加 "
                    f"--encoding gb18030 / line {self.line} is not {self.encoding} text; save "
                    "as 'CSV UTF-8', or pass --encoding gb18030"
                ) from None


def _decoder(codec: str) -> Callable[[bytes, bool], str]:
    try:
        codecs.lookup(codec)
    except LookupError:
        raise BatchIOError(
            f"不认识的编码「{codec}」/ unknown encoding '{codec}' (utf-8, gb18030, …)"
        ) from None

    def decode(raw: bytes, first: bool) -> str:
        return raw.decode(codec if first else codec.replace("utf-8-sig", "utf-8"))

    return decode


def _csv_table(path: str, encoding: str, counter: _ByteCounter | None = None) -> _Table:
    reader_lines = (counter or _ByteCounter(path, encoding)).lines()
    reader = csv.reader(reader_lines)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BatchIOError(f"{path}:1: CSV 格式错误 / bad CSV: {exc}") from None
    if header is None:
        raise BatchIOError(f"{path}: 文件是空的, 第 1 行应是表头 / the file is empty")

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        n = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise BatchIOError(
                    f"{path}:{n + 1}: CSV 格式错误 (引号不配对?) / bad CSV (unbalanced quotes?): "
                    f"{exc}"
                ) from None
            n += 1
            yield n, cells

    return _Table(path, tuple(header), rows())


# ------------------------------------------------ XLSX


def _open_workbook(path: str) -> Any:
    openpyxl = _openpyxl()
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise BatchIOError(f"{path}: 找不到文件 / no such file") from None
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, ...
        raise BatchIOError(
            f"{path}: 不是可读的 XLSX 工作簿 ({type(exc).__name__}); 用 Excel/WPS 另存为 .xlsx / "
            f"not a readable .xlsx workbook; save it again as .xlsx"
        ) from None


def _sheet_table(path: str, sheet: Any) -> _Table:
    source = f"{path}[{sheet.title}]"
    rows = sheet.iter_rows(min_row=1, values_only=True)
    header = next(rows, None)
    if header is None:
        raise BatchIOError(f"{source}: 工作表是空的, 第 1 行应是表头 / the sheet is empty")

    def numbered() -> Iterator[tuple[int, Sequence[Any]]]:
        yield from enumerate(rows, 2)

    return _Table(source, tuple("" if h is None else str(h) for h in header), numbered())


def _pick_sheets(wb: Any, path: str, layout: InputLayout) -> tuple[Any, dict[str, Any]]:
    children: dict[str, Any] = {}
    others = []
    for ws in wb.worksheets:
        key = layout.child_for_sheet(ws.title)
        if key is not None:
            if key in children:
                raise BatchIOError(
                    f"{path}: 工作表「{children[key].title}」和「{ws.title}」都是 {key} 表 / two "
                    f"sheets hold {key}: '{children[key].title}' and '{ws.title}'"
                )
            children[key] = ws
        else:
            others.append(ws)
    names = {layout.root.record.casefold(), "households"}
    if layout.root.label:
        names.add(layout.root.label.casefold())
    main = next((ws for ws in others if ws.title.strip().casefold() in names), None)
    if main is None and others:
        main = others[0]
    if main is None:
        raise BatchIOError(f"{path}: 没有户表工作表 / the workbook has no household sheet")
    return main, children


# ================================================================ the input stream


class InputStream:
    """The records of several input files, in order, with progress and counts.

    Iterate it for :class:`InputRecord` and :class:`HouseholdInputError` items. ``fraction``
    is the share of the input read so far (0..1), for a progress bar; ``orphan_rows`` counts
    rows of members tables that matched no household (each is also a rejected item).
    """

    def __init__(
        self,
        policy: Policy,
        paths: Sequence[str],
        *,
        members: str | None = None,
        ignore_extra: bool = False,
        encoding: str = "utf-8",
    ) -> None:
        self.layout = InputLayout(policy)
        self.paths = list(paths)
        self.members = members
        self.ignore_extra = ignore_extra
        self.encoding = encoding
        self.orphan_rows = 0
        self._formats = [file_format(p) for p in self.paths]
        for p in self.paths:
            if not Path(p).is_file():
                raise BatchIOError(f"{p}: 找不到文件 / no such file")
        tabular = [p for p, f in zip(self.paths, self._formats, strict=True) if f == "csv"]
        if members is not None:
            if file_format(members) not in ("csv", "xlsx"):
                raise BatchIOError(
                    f"--members {members}: 成员表要是 .csv 或 .xlsx / the members table must be "
                    ".csv or .xlsx"
                )
            if not Path(members).is_file():
                raise BatchIOError(f"--members {members}: 找不到文件 / no such file")
            if "members" not in self.layout.children:
                raise BatchIOError(
                    "--members: 本政策的输入没有 members 列表 / the policy's input has no "
                    "members list"
                )
            if not any(f in ("csv", "xlsx") for f in self._formats):
                raise BatchIOError(
                    "--members 只用于 CSV/XLSX 输入; JSON Lines 和 Parquet 的成员嵌在每户里 / "
                    "--members is for CSV/XLSX input; JSON Lines and Parquet nest the members"
                )
        elif tabular and self.layout.required_lists:
            need = self.layout.required_lists[0]
            raise BatchIOError(
                f"{tabular[0]}: CSV 输入的「{need}」在单独的文件里, 用 --{need} 文件 指定 / "
                f"CSV input keeps '{need}' in a separate file: pass --{need} FILE"
            )
        self._sizes = [max(os.path.getsize(p), 1) for p in self.paths]
        self._done = 0.0
        self._current: Callable[[], float] = lambda: 0.0
        self._index = 0

    @property
    def fraction(self) -> float:
        total = sum(self._sizes)
        if self._index >= len(self.paths):
            return 1.0
        done = sum(self._sizes[: self._index]) + self._sizes[self._index] * self._current()
        return min(done / total, 1.0)

    def __iter__(self) -> Iterator[InputRecord | HouseholdInputError]:
        shared = _ChildPool(self.layout.key)
        if self.members is not None:
            table = self._members_table(self.members)
            key = "members"
            binding = _bind(
                table,
                self.layout.children[key],
                self.layout,
                child=True,
                ignore_extra=self.ignore_extra,
            )
            shared.load(key, table, binding)
        for index, (path, fmt) in enumerate(zip(self.paths, self._formats, strict=True)):
            self._index = index
            if fmt == "jsonl":
                yield from self._jsonl(path)
            elif fmt == "parquet":
                yield from self._parquet(path)
            elif fmt == "csv":
                counter = _ByteCounter(path, self.encoding)
                self._current = lambda c=counter, s=self._sizes[index]: c.done / s  # type: ignore[misc]
                yield from _tabular_records(
                    _csv_table(path, self.encoding, counter), self.layout, shared, self.ignore_extra
                )
            else:
                yield from self._xlsx(path, shared)
        self._index = len(self.paths)
        for err in shared.leftovers():
            self.orphan_rows += 1
            yield err

    def _members_table(self, path: str) -> _Table:
        if file_format(path) == "csv":
            return _csv_table(path, self.encoding)
        wb = _open_workbook(path)
        sheets = wb.worksheets
        named = [ws for ws in sheets if self.layout.child_for_sheet(ws.title) == "members"]
        return _sheet_table(path, (named or sheets)[0])

    def _jsonl(self, path: str) -> Iterator[InputRecord | HouseholdInputError]:
        """One record per line; a line that is not UTF-8 JSON is a rejected record, the
        batch goes on (the lines are independent)."""
        counter = _ByteCounter(path, "utf-8")
        size = self._sizes[self._index]
        self._current = lambda: counter.done / size
        for raw in counter.raw_lines():
            try:
                text = raw.decode("utf-8-sig" if counter.line == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                issue = InputIssue(
                    "",
                    f"这一行不是 UTF-8 编码的文字 (第 {exc.start + 1} 个字节)",
                    f"the line is not UTF-8 text (byte {exc.start + 1})",
                    "把文件另存为 UTF-8 编码",
                    "save the file as UTF-8",
                )
                yield HouseholdInputError([issue], None, path, counter.line)
                continue
            if not text.strip():
                continue
            try:
                data = json.loads(text, parse_float=Decimal)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                col = exc.colno if isinstance(exc, json.JSONDecodeError) else 1
                issue = InputIssue(
                    "",
                    f"JSON 格式错误: {msg} (第 {col} 列)",
                    f"invalid JSON: {msg} (col {col})",
                    "每行写一个完整的 JSON 对象; 检查引号、逗号和括号",
                    "write one complete JSON object per line; check quotes, commas, brackets",
                )
                yield HouseholdInputError([issue], None, path, counter.line)
                continue
            yield InputRecord(data, path, counter.line)

    def _parquet(self, path: str) -> Iterator[InputRecord]:
        _, pq = _pyarrow()
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # ArrowInvalid, OSError
            raise BatchIOError(
                f"{path}: 不是可读的 Parquet 文件 / not a readable Parquet file: {exc}"
            ) from None
        if not self.ignore_extra:
            _check_arrow_names(path, pf.schema_arrow, self.layout)
        total = max(pf.metadata.num_rows, 1)
        done = 0
        self._current = lambda: done / total
        fix = _needs_fixing(pf.schema_arrow)
        row = 0
        for batch in pf.iter_batches(batch_size=4096):
            for data in batch.to_pylist():
                row += 1
                yield InputRecord(_arrow_json(data) if fix else data, path, row)
            done = row

    def _xlsx(self, path: str, shared: _ChildPool) -> Iterator[InputRecord | HouseholdInputError]:
        wb = _open_workbook(path)
        try:
            main, children = _pick_sheets(wb, path, self.layout)
            missing = [k for k in self.layout.required_lists if k not in children]
            if missing and self.members is None:
                names = " 或 ".join(f"「{n}」" for n in self.layout.root.child_names(missing[0]))
                raise BatchIOError(
                    f"{path}: 没有{names}工作表 (每户的{missing[0]}); 加上这张表, 或用 --members "
                    f"指定成员文件 / no sheet named "
                    f"{' or '.join(self.layout.root.child_names(missing[0]))}; add it or pass "
                    "--members FILE"
                )
            pool = _ChildPool(self.layout.key) if children else shared
            for key, ws in children.items():
                table = _sheet_table(path, ws)
                binding = _bind(
                    table,
                    self.layout.children[key],
                    self.layout,
                    child=True,
                    ignore_extra=self.ignore_extra,
                )
                pool.load(key, table, binding)
            total = max(main.max_row or 1, 1)
            table = _sheet_table(path, main)
            state = {"row": 0}

            def rows() -> Iterator[tuple[int, Sequence[Any]]]:
                for n, cells in table.rows:
                    state["row"] = n
                    yield n, cells

            self._current = lambda: state["row"] / total
            yield from _tabular_records(
                _Table(table.source, table.header, rows()), self.layout, pool, self.ignore_extra
            )
            if pool is not shared:
                for err in pool.leftovers():
                    self.orphan_rows += 1
                    yield err
        finally:
            wb.close()


def open_inputs(
    policy: Policy,
    paths: Sequence[str],
    *,
    members: str | None = None,
    ignore_extra: bool = False,
    encoding: str = "utf-8",
) -> InputStream:
    """The records of ``paths`` (any mix of formats), checked up front: every file exists,
    has a known suffix and the libraries its format needs. Headers are checked when a file
    is reached; a problem with a whole file raises :class:`BatchIOError`."""
    stream = InputStream(
        policy, paths, members=members, ignore_extra=ignore_extra, encoding=encoding
    )
    for fmt in set(stream._formats) | ({file_format(members)} if members else set()):
        if fmt == "parquet":
            _pyarrow()
        elif fmt == "xlsx":
            _openpyxl()
    return stream


def reject_duplicates(outcomes: Iterable[Outcome], key: str | None) -> Iterator[Outcome]:
    """Pass outcomes on, rejecting a household whose key was already seen in the batch
    (SPEC §2: ``household_id`` is unique within a batch). A later decided record becomes a
    rejected one; a later rejected record gets one more issue. The first record stays."""
    if key is None:
        yield from outcomes
        return
    seen: dict[str, tuple[str | None, int | None]] = {}
    for outcome in outcomes:
        hid = outcome.value.household_id
        if hid is None:
            yield outcome
            continue
        first = seen.get(hid)
        if first is None:
            seen[hid] = (outcome.source, outcome.row)
            yield outcome
            continue
        where = f"{first[0]}:{first[1]}" if first[0] else f"#{first[1]}"
        issue = LocatedIssue(
            key,
            f"户编号「{hid}」在本批中重复, 第一次出现在 {where}",
            f"household key '{hid}' occurs twice in the batch; first at {where}",
            "每户只保留一条记录; 核对户编号",
            "keep one record per household; check the key",
            outcome.source,
            outcome.row,
        )
        value = outcome.value
        issues = (*value.issues, issue) if isinstance(value, HouseholdInputError) else (issue,)
        error = HouseholdInputError(issues, hid, outcome.source, outcome.row)
        yield Outcome(error, outcome.source, outcome.row)


# ------------------------------------------------ Parquet input helpers


def _check_arrow_names(path: str, schema: Any, layout: InputLayout) -> None:
    """Unknown column names of a Parquet file, before reading a row."""
    pa = _require("pyarrow", "parquet", "Parquet")

    def walk(fields: Iterable[Any], record: str, prefix: str) -> None:
        known = {f.key: f for f in layout.root._fields(record)}
        for field in fields:
            name = f"{prefix}{field.name}"
            ref = known.get(field.name)
            if ref is None:
                best = _suggest(field.name, list(known))
                hz = f"是不是「{prefix}{best}」?" if best else ""
                he = f"did you mean '{prefix}{best}'?" if best else ""
                raise BatchIOError(
                    f"{path}: 未知列「{name}」{hz} (或加 --ignore-extra 忽略) / unknown column "
                    f"'{name}' {he} (or add --ignore-extra)".replace("  ", " ")
                )
            t = field.type
            if ref.record is None:
                continue
            if pa.types.is_struct(t):
                walk([t.field(i) for i in range(t.num_fields)], ref.record, name + ".")
            elif (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_struct(
                t.value_type
            ):
                vt = t.value_type
                walk([vt.field(i) for i in range(vt.num_fields)], ref.record, name + "[].")

    walk(schema, layout.root.record, "")


def _needs_fixing(schema: Any) -> bool:
    """Whether rows hold values JSON would not: timestamps or maps."""
    pa = _require("pyarrow", "parquet", "Parquet")

    def bad(t: Any) -> bool:
        if pa.types.is_timestamp(t) or pa.types.is_map(t):
            return True
        if pa.types.is_struct(t):
            return any(bad(t.field(i).type) for i in range(t.num_fields))
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return bool(bad(t.value_type))
        return False

    return any(bad(f.type) for f in schema)


def _arrow_json(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0, 0) else v.isoformat()
    if isinstance(v, dict):
        return {k: _arrow_json(x) for k, x in v.items()}
    if isinstance(v, list):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            return {str(k): _arrow_json(x) for k, x in v}
        return [_arrow_json(x) for x in v]
    return v


# ================================================================ writing


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFile:
    """A temporary file beside ``path``, renamed over it by :meth:`commit`.

    :meth:`abort` removes it, so an interrupted or failed run leaves neither half a file nor a
    changed old one. The folder is created if needed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError as exc:
            raise BatchIOError(f"{self.path}: 无法写入 / cannot write: {exc.strerror}") from None
        os.close(fd)
        self.tmp = Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        try:
            mode = self.path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(self.tmp, mode)
        self.closed = False

    def commit(self) -> None:
        os.replace(self.tmp, self.path)
        self.closed = True

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)
        self.closed = True


class _Sink:
    """Rows of one output table in one format."""

    def __init__(self, path: str, columns: Sequence[tuple[str, str]], arrow_schema: Any) -> None:
        self.format = file_format(path)
        if self.format == "xlsx":
            _openpyxl()
        elif self.format == "parquet":
            _pyarrow()
        self.file = AtomicFile(path)
        self.columns = list(columns)  # (name, kind) of the flat columns
        self.arrow_schema = arrow_schema
        self._text: IO[str] | None = None
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        self._pq: Any = None
        self._batch: list[dict[str, Any]] = []
        self._rows = 0
        if self.format == "jsonl":
            self._text = open(self.file.tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        elif self.format == "csv":
            # UTF-8 with a byte-order mark: Excel and WPS then read the Chinese text correctly
            self._text = open(self.file.tmp, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._text)
            self._csv.writerow([name for name, _ in self.columns])
        elif self.format == "xlsx":
            openpyxl = _openpyxl()
            self._wb = openpyxl.Workbook(write_only=True)
            self._ws = self._wb.create_sheet(Path(path).stem[:31] or "sheet")
            self._ws.append([name for name, _ in self.columns])
        else:
            _, pq = _pyarrow()
            self._pq = pq.ParquetWriter(str(self.file.tmp), arrow_schema)

    def write_json(self, obj: Mapping[str, Any]) -> None:
        assert self._text is not None
        self._text.write(json.dumps(obj, ensure_ascii=False, default=_json_default) + "\n")

    def write_flat(self, row: Mapping[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow([_csv_text(row.get(name), kind) for name, kind in self.columns])
        else:
            self._rows += 1
            if self._rows >= XLSX_MAX_ROWS:
                raise BatchIOError(
                    f"{self.file.path}: XLSX 工作表最多 {XLSX_MAX_ROWS:,} 行, 请用 csv 或 parquet "
                    "/ "
                    f"an XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows; write .csv or .parquet"
                )
            self._ws.append(
                [_xlsx_cell(self._ws, row.get(name), kind) for name, kind in self.columns]
            )

    def write_typed(self, row: dict[str, Any]) -> None:
        self._batch.append(row)
        if len(self._batch) >= 8192:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            pa, _ = _pyarrow()
            self._pq.write_table(pa.Table.from_pylist(self._batch, schema=self.arrow_schema))
            self._batch = []

    def commit(self) -> None:
        if self._text is not None:
            self._text.close()
        elif self._wb is not None:
            self._wb.save(str(self.file.tmp))
        elif self._pq is not None:
            self._flush()
            self._pq.close()
        self.file.commit()

    def abort(self) -> None:
        try:
            if self._text is not None:
                self._text.close()
            elif self._pq is not None:
                self._pq.close()
            elif self._ws is not None:
                _discard_sheet(self._ws)
        finally:
            self.file.abort()


def _discard_sheet(ws: Any) -> None:
    """Close a write-only worksheet that will not be saved and remove its temporary file
    (openpyxl keeps the rows in one until the workbook is saved)."""
    ws.close()
    writer = getattr(ws, "_writer", None)
    cleanup = getattr(writer, "cleanup", None)
    if cleanup is not None:
        try:
            cleanup()
        except (OSError, ValueError):  # pragma: no cover - already gone
            pass


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    raise TypeError(f"not JSON: {type(v).__name__}")


def _csv_text(v: Any, kind: str = "text") -> str:
    if v is None:
        return ""
    if kind == "json":
        return json.dumps(v, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return _LIST_JOIN.join(_csv_text(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


_ILLEGAL_XLSX = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _xlsx_cell(ws: Any, v: Any, kind: str) -> Any:
    if v is None or isinstance(v, bool | int | Decimal | dt.date):
        return v
    if kind == "money" and isinstance(v, str):
        return Decimal(v)
    if kind == "date" and isinstance(v, str):
        return dt.date.fromisoformat(v)
    text = _csv_text(v, kind) if not isinstance(v, str) else v
    text = _ILLEGAL_XLSX.sub("\ufffd", text)
    if text.startswith("="):  # text, never a formula
        cell = _require("openpyxl.cell", "xlsx", "XLSX").WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        return cell
    return text


# ------------------------------------------------ decisions


def _value_kind(t: T | None) -> tuple[str, str | None]:
    """(kind, element kind) of a result value for tabular output."""
    if t is None:
        return "json", None
    if t.kind in ("money", "int", "number", "bool", "date"):
        return t.kind, None
    if t.kind in ("text", "strlit", "enum"):
        return "text", None
    if t.kind in ("list", "set") and t.elem is not None:
        inner, _ = _value_kind(t.elem)
        if inner not in ("json",):
            return "list", inner
    return "json", None


def _arrow_type(pa: Any, kind: str, elem: str | None = None) -> Any:
    if kind == "money":
        return pa.decimal128(38, 2)
    if kind == "int":
        return pa.int64()
    if kind == "bool":
        return pa.bool_()
    if kind == "date":
        return pa.date32()
    if kind == "list":
        return pa.list_(_arrow_type(pa, elem or "text"))
    return pa.string()  # text, number (exact), json


def _typed(v: Any, kind: str, elem: str | None = None) -> Any:
    """A JSON result value as the Arrow column of its kind expects."""
    if v is None:
        return None
    if kind == "money":
        return Decimal(v)
    if kind == "date":
        return dt.date.fromisoformat(v)
    if kind == "list":
        return [_typed(x, elem or "text") for x in v]
    if kind == "json":
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    if kind in ("text", "number"):
        return str(v)
    return v


class DecisionWriter:
    """The decisions file: one row per decided household, in input order.

    JSON Lines keeps the result objects (``--trace``: the full ``Result.to_json()``); CSV and
    XLSX have one column per item (``values.pcni``); Parquet nests them (``values`` struct).
    Every row carries the reason record: policy name/version/hash, ``as_of``, the parameter
    overrides and the input's source, row and digest (docs/batch.md).
    """

    def __init__(self, path: str, policy: Policy, *, trace: bool = False) -> None:
        self.format = file_format(path)
        if trace and self.format in ("csv", "xlsx"):
            raise BatchIOError(
                f"{path}: --trace 的追踪放不进表格单元格; 用 .jsonl 或 .parquet 输出 / traces do "
                "not fit a spreadsheet cell; write .jsonl or .parquet"
            )
        self.trace = trace
        plan = policy.plan
        types = policy.checked.types
        self.values = [
            (n, *_value_kind(types.get(n))) for n in (*plan.let_names, *plan.table_names)
        ]
        schema = None
        if self.format == "parquet":
            pa, _ = _pyarrow()
            fields = [
                pa.field("household_id", pa.string()),
                pa.field("fired", pa.list_(pa.string())),
                pa.field("undetermined", pa.map_(pa.string(), pa.list_(pa.string()))),
                pa.field("missing_inputs", pa.list_(pa.string())),
                pa.field("ignored_keys", pa.list_(pa.string())),
                pa.field(
                    "values",
                    pa.struct([pa.field(n, _arrow_type(pa, k, e)) for n, k, e in self.values]),
                ),
                pa.field("as_of", pa.date32()),
                pa.field(
                    "policy",
                    pa.struct(
                        [("name", pa.string()), ("version", pa.string()), ("hash", pa.string())]
                    ),
                ),
                pa.field("params", pa.string()),
                pa.field(
                    "input",
                    pa.struct(
                        [("source", pa.string()), ("row", pa.int64()), ("sha256", pa.string())]
                    ),
                ),
            ]
            if trace:
                fields.append(pa.field("trace", pa.string()))
            schema = pa.schema(fields)
        columns = [
            ("household_id", "text"),
            ("fired", "list"),
            ("undetermined", "json"),
            ("missing_inputs", "list"),
            ("ignored_keys", "list"),
            *[(f"values.{n}", k) for n, k, _ in self.values],
            ("as_of", "date"),
            ("policy.name", "text"),
            ("policy.version", "text"),
            ("policy.hash", "text"),
            ("params", "json"),
            ("input.source", "text"),
            ("input.row", "int"),
            ("input.sha256", "text"),
        ]
        self.sink = _Sink(path, columns, schema)
        self.path = path

    def write(self, result: Result, outcome: Outcome) -> None:
        data = result.to_json(trace=self.trace)
        overrides = {
            p["name"]: {"value": p["value"], "effective": p["effective"], "source": p["source"]}
            for p in data["params"]
            if p.get("overridden")
        }
        reason = {"source": outcome.source, "row": outcome.row, "sha256": outcome.digest}
        if self.format == "jsonl":
            if self.trace:
                self.sink.write_json({**data, "input": reason})
            else:
                self.sink.write_json(
                    {
                        "household_id": data["household_id"],
                        "values": data["values"],
                        "fired": data["fired"],
                        "undetermined": data["undetermined"],
                        "as_of": data["as_of"],
                        "policy": data["policy"],
                        "params": data["params"],
                        "input": reason,
                    }
                )
            return
        if self.format == "parquet":
            row: dict[str, Any] = {
                "household_id": data["household_id"],
                "fired": data["fired"],
                "undetermined": list(data["undetermined"].items()),
                "missing_inputs": data["missing_inputs"],
                "ignored_keys": data["ignored_keys"],
                "values": {n: _typed(data["values"].get(n), k, e) for n, k, e in self.values},
                "as_of": result.as_of,
                "policy": data["policy"],
                "params": _typed(overrides, "json") if overrides else None,
                "input": reason,
            }
            if self.trace:
                row["trace"] = _typed(data.get("trace"), "json")
            self.sink.write_typed(row)
            return
        flat: dict[str, Any] = {
            "household_id": data["household_id"],
            "fired": data["fired"],
            "undetermined": data["undetermined"] or None,
            "missing_inputs": data["missing_inputs"],
            "ignored_keys": data["ignored_keys"],
            "as_of": result.as_of,
            "policy.name": data["policy"]["name"],
            "policy.version": data["policy"]["version"],
            "policy.hash": data["policy"]["hash"],
            "params": overrides or None,
            "input.source": outcome.source,
            "input.row": outcome.row,
            "input.sha256": outcome.digest,
        }
        for n, _k, _e in self.values:
            flat[f"values.{n}"] = data["values"].get(n)
        self.sink.write_flat(flat)

    def commit(self) -> None:
        self.sink.commit()

    def abort(self) -> None:
        self.sink.abort()


class RejectedWriter:
    """The rejected-records file.

    JSON Lines: one object per rejected record (``household_id``, ``source``, ``row``,
    ``issues`` with ``field``, ``reason``, ``hint`` and, for tables, the ``source``/``row``/
    ``column`` of the cell). CSV, XLSX, Parquet: one row per issue, with ``record`` numbering
    the rejected records 1, 2, … so that several issues of one record can be told apart.
    """

    COLUMNS = (
        ("record", "int"),
        ("household_id", "text"),
        ("source", "text"),
        ("row", "int"),
        ("column", "text"),
        ("field", "text"),
        ("reason", "text"),
        ("hint", "text"),
    )

    def __init__(self, path: str, lang: str = "zh") -> None:
        self.format = file_format(path)
        self.lang = lang
        self.count = 0
        schema = None
        if self.format == "parquet":
            pa, _ = _pyarrow()
            schema = pa.schema([(n, _arrow_type(pa, k)) for n, k in self.COLUMNS])
        self.sink = _Sink(path, self.COLUMNS, schema)
        self.path = path

    def write(self, err: HouseholdInputError) -> None:
        self.count += 1
        if self.format == "jsonl":
            self.sink.write_json(rejected_json(err, self.lang))
            return
        for issue in err.issues or (InputIssue("", "", ""),):
            row = {
                "record": self.count,
                "household_id": err.household_id,
                "source": issue.source if isinstance(issue, LocatedIssue) else err.source,
                "row": issue.row if isinstance(issue, LocatedIssue) else err.row,
                "column": issue.column if isinstance(issue, LocatedIssue) else None,
                "field": issue.path or None,
                "reason": issue.reason(self.lang) or None,
                "hint": (issue.hint_en if self.lang == "en" else issue.hint_zh) or None,
            }
            if self.format == "parquet":
                self.sink.write_typed(row)
            else:
                self.sink.write_flat(row)

    def commit(self) -> None:
        self.sink.commit()

    def abort(self) -> None:
        self.sink.abort()


def rejected_json(err: HouseholdInputError, lang: str = "zh") -> dict[str, Any]:
    """A rejected record as JSON: ``HouseholdInputError.to_json`` plus, for an issue found in
    a table, the ``source``, ``row`` and ``column`` of its cell."""
    out = err.to_json(lang)
    issues = []
    for issue in err.issues:
        entry: dict[str, Any] = dict(issue.to_json(lang))
        if isinstance(issue, LocatedIssue):
            entry.update(source=issue.source, row=issue.row, column=issue.column)
        issues.append(entry)
    out["issues"] = issues
    return out


def read_decisions(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a decisions or rejected file as dicts (JSON objects; table rows by column),
    for checking a run or loading it elsewhere."""
    fmt = file_format(path)
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "xlsx":
        wb = _open_workbook(str(path))
        try:
            rows = wb.worksheets[0].iter_rows(values_only=True)
            header = next(rows, ())
            # read-only sheets drop trailing empty cells: pad each row to the header
            return [dict(zip(header, (*r, *[None] * len(header)), strict=False)) for r in rows]
        finally:
            wb.close()
    _, pq = _pyarrow()
    return list(pq.read_table(str(path)).to_pylist())


# ================================================================ households to files


def _flatten(
    data: Mapping[str, Any], layout: TableLayout, prefix: tuple[str, ...] = ()
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for leaf in layout.leaves:
        v: Any = data
        for key in leaf.path:
            v = v.get(key) if isinstance(v, Mapping) else None
        if v is None:
            continue
        if leaf.kind == "list":
            v = "[]" if not v else _LIST_JOIN.join(_csv_text(x) for x in v)
        row[leaf.name] = v
    return row


def write_households(
    records: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    policy: Policy,
    *,
    members: str | os.PathLike[str] | None = None,
) -> None:
    """Write household JSON objects as a batch input file of the suffix's format.

    CSV: the households to ``path`` and the members to ``members`` (required); XLSX: a
    ``households`` sheet and one sheet per list of records (``members``); JSON Lines and
    Parquet: nested. Reading the file back gives the same records (an empty nested record
    reads back as absent). Values are written as given; for Parquet they must fit the
    types of the schema (money as decimal(38,2), numbers as text).
    """
    layout = InputLayout(policy)
    fmt = file_format(path)
    records = list(records)
    if fmt == "jsonl":
        sink = _Sink(str(path), [], None)
        try:
            for r in records:
                sink.write_json(r)
        except BaseException:
            sink.abort()
            raise
        sink.commit()
        return
    if fmt == "parquet":
        pa, pq = _pyarrow()
        schema = _input_arrow_schema(pa, layout)
        table = pa.Table.from_pylist([_arrow_ready(r, layout) for r in records], schema=schema)
        target = AtomicFile(path)
        try:
            pq.write_table(table, str(target.tmp))
        except BaseException:
            target.abort()
            raise
        target.commit()
        return
    main_cols = [(lf.name, lf.kind) for lf in layout.root.leaves]
    key = layout.key or "household_id"
    tables: dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]] = {}
    for child, child_layout in layout.children.items():
        cols = [(key, "text"), *[(lf.name, lf.kind) for lf in child_layout.leaves]]
        rows = []
        for r in records:
            for m in r.get(child) or ():
                rows.append({key: r.get(key), **_flatten(m, child_layout)})
        tables[child] = (cols, rows)
    main_rows = [_flatten(r, layout.root) for r in records]
    if fmt == "csv":
        if tables and members is None:
            raise BatchIOError("CSV: 成员要写到单独的文件, 请给出 members= / pass members=PATH")
        sinks = [(_Sink(str(path), main_cols, None), main_rows)]
        if members is not None and "members" in tables:
            cols, rows = tables["members"]
            sinks.append((_Sink(str(members), cols, None), rows))
        try:
            for s, rows in sinks:
                for row in rows:
                    s.write_flat(row)
        except BaseException:
            for s, _ in sinks:
                s.abort()
            raise
        for s, _ in sinks:
            s.commit()
        return
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook(write_only=True)
    sheets = [("households", main_cols, main_rows)]
    sheets += [(child, cols, rows) for child, (cols, rows) in tables.items()]
    for title, cols, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append([n for n, _ in cols])
        for row in rows:
            ws.append([_xlsx_cell(ws, row.get(n), "text") for n, _ in cols])
    target = AtomicFile(path)
    try:
        wb.save(str(target.tmp))
    except BaseException:
        target.abort()
        raise
    target.commit()


def _input_arrow_schema(pa: Any, layout: InputLayout) -> Any:
    model = layout.root.model

    def field_type(t: T) -> Any:
        if t.kind == "record" and t.name is not None:
            return pa.struct(
                [pa.field(f.key, field_type(_tref(model, f))) for f in model.records[t.name].fields]
            )
        if t.kind == "list" and t.elem is not None:
            return pa.list_(field_type(t.elem))
        return _arrow_type(pa, {"number": "text", "enum": "text"}.get(t.kind, t.kind))

    root = model.records[layout.root.record]
    return pa.schema([pa.field(f.key, field_type(_tref(model, f))) for f in root.fields])


def _tref(model: PolicyModel, f: ast.Field) -> T:
    t = type_of_ref(model, f.type)
    assert t is not None
    return t


def _arrow_ready(v: Any, layout: InputLayout) -> Any:
    """JSON values as Arrow accepts them for the input schema (money as Decimal, …)."""
    model = layout.root.model

    def conv(value: Any, t: T) -> Any:
        if value is None:
            return None
        if t.kind == "record" and t.name is not None and isinstance(value, Mapping):
            fields = {f.key: _tref(model, f) for f in model.records[t.name].fields}
            return {k: conv(value.get(k), ft) for k, ft in fields.items()}
        if t.kind == "list" and t.elem is not None and isinstance(value, list | tuple):
            return [conv(x, t.elem) for x in value]
        if t.kind == "money":
            try:
                return Decimal(str(value))
            except InvalidOperation:
                raise BatchIOError(f"Parquet: {value!r} is not an amount") from None
        if t.kind == "date":
            return dt.date.fromisoformat(str(value))
        if t.kind == "number":
            return str(value)
        if t.kind == "int":
            return int(value)
        return value

    root = T("record", layout.root.record)
    return conv(v, root)
