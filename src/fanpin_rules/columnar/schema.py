"""The columnar input layout of a policy's households, as an Arrow schema.

One row per household; a nested record is a struct column, a list of records (``members``) a
list-of-struct column, a list of values a list column.  Types: ``money`` → ``decimal(18, 2)``,
``number`` → ``decimal(38, 10)``, ``int`` → ``int64``, ``bool``, ``date32``, text and enums
→ ``string``.  A missing value is ``NULL``: for a required input that is SPEC §5's *unknown*,
for an optional one its default or SPEC §8's *absent*, exactly as a JSON ``null``.

>>> import fanpin_rules
>>> schema = arrow_schema(fanpin_rules.load_policy("examples/language_tour.policy"))
>>> str(schema.field("income").type), str(schema.field("members").type.value_type.field("age").type)
('decimal128(18, 2)', 'int64')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from fanpin_rules import ast
from fanpin_rules.check.typecheck import type_of_ref
from fanpin_rules.errors import MessageError
from fanpin_rules.household import Household
from fanpin_rules.model import PolicyModel
from fanpin_rules.types import T

__all__ = ["InputSchemaError", "arrow_schema", "households_to_arrow"]

MONEY = pa.decimal128(18, 2)
NUMBER = pa.decimal128(38, 10)


class InputSchemaError(MessageError):
    """An input table does not fit the policy's columnar layout."""


def _arrow_type(model: PolicyModel, t: T) -> pa.DataType:
    k = t.kind
    if k == "money":
        return MONEY
    if k == "number":
        return NUMBER
    if k == "int":
        return pa.int64()
    if k == "bool":
        return pa.bool_()
    if k == "date":
        return pa.date32()
    if k in ("text", "enum"):
        return pa.string()
    if k == "record":
        return _struct(model, model.records[t.name or ""])
    if k == "list":
        return pa.list_(_arrow_type(model, t.elem or T("text")))
    raise InputSchemaError(f"no columnar type for {t.show('en')}")


def _struct(model: PolicyModel, rec: ast.RecordDecl) -> pa.StructType:
    return pa.struct([_field(model, f) for f in rec.fields])


def _field(model: PolicyModel, f: ast.Field) -> pa.Field:
    t = type_of_ref(model, f.type) or T("text")
    return pa.field(f.key, _arrow_type(model, t))


def arrow_schema(policy: Any) -> pa.Schema:
    """The Arrow schema of a policy's input table (one column per household field)."""
    model: PolicyModel = policy.model
    root = model.root_record
    if root is None:
        raise InputSchemaError("the policy declares no input record")
    return pa.schema([_field(model, f) for f in root.fields])


def households_to_arrow(policy: Any, households: Iterable[Household]) -> pa.Table:
    """Validated households (``Policy.validate``) as a table in the columnar layout.

    Raises :class:`InputSchemaError` when a value cannot be stored exactly (a ``number``
    with more than 10 decimals).
    """
    schema = arrow_schema(policy)
    rows = [_plain(h.data) for h in households]
    columns = {name: [r.get(name) for r in rows] for name in schema.names}
    try:
        return pa.table(
            {f.name: pa.array(columns[f.name], type=f.type) for f in schema}, schema=schema
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputSchemaError(
            f"输入值无法按列式布局精确保存 / a value does not fit the columnar layout: {exc}"
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | bool | int | str) or value is None:
        return value
    return value
