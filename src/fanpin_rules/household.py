"""Household input: validate one JSON record against the records a policy declares.

The policy's ``record`` declarations are turned into pydantic models once (one model per
record, in a ``extra="forbid"`` and an ``extra="ignore"`` variant); :meth:`HouseholdSchema.validate`
runs a record through them and returns a :class:`Household` with normalised values, or raises
:class:`~fanpin_rules.errors.HouseholdInputError` listing every bad field, in Chinese and
English, for the clerk who has to fix the record (SPEC §2, §8).

Valid records take a fast path: plain-Python code generated once per schema from the same
declarations (one function per record, straight-line code per field) returns the same
:class:`Household` as the pydantic models, and hands the record to them at the first thing it
does not handle (any invalid or unusual value, an unknown key). Error messages therefore
always come from the pydantic path; ``tests/test_household.py`` proves the two paths equal.

Values after validation: ``money`` and ``number`` are :class:`~decimal.Decimal` (never float),
``int`` is :class:`int`, ``date`` is :class:`datetime.date`, ``text`` and enum values are
:class:`str`, a record is a :class:`dict` and a list is a :class:`tuple`. A JSON ``null`` is the
same as an absent key. A missing *required* field is not an error: it is listed in
:attr:`Household.missing` and the rules that need it are undetermined.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal, NoReturn

import attrs
import pydantic
from pydantic import BeforeValidator, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from fanpin_rules import ast
from fanpin_rules.errors import Diagnostic, HouseholdInputError, InputIssue, PolicyCheckError
from fanpin_rules.model import PolicyModel
from fanpin_rules.source import Span
from fanpin_rules.suggest import closest
from fanpin_rules.types import BUILTIN_TYPES

__all__ = ["Household", "HouseholdSchema"]


@attrs.frozen
class Household:
    """One validated household.

    ``data`` holds the normalised values under their JSON keys (defaults filled in, absent
    optional fields left out); ``missing`` the paths of absent *required* inputs, in the order
    the policy declares them; ``ignored_keys`` the unknown keys dropped under ``ignore_extra``.
    """

    data: dict[str, Any]
    missing: tuple[str, ...]
    ignored_keys: tuple[str, ...]
    household_id: str | None


# ---------------------------------------------------------------- declared types, resolved

_SCALARS = frozenset({"money", "int", "number", "bool", "date", "text"})


@attrs.frozen
class _Type:
    """A resolved field type: a builtin kind, ``enum``, ``record`` or ``list``."""

    kind: str
    enum_values: tuple[str, ...] = ()
    enum_labels: tuple[tuple[str, str], ...] = ()  # (label, value) pairs
    record: str | None = None
    elem: _Type | None = None


@attrs.frozen
class _FieldSpec:
    key: str
    label: str | None
    type: _Type
    required: bool
    default: Any  # ast.JSON, or NO_DEFAULT
    bounds: tuple[tuple[str, Decimal], ...]
    pii: bool
    cite: str | None


@attrs.frozen
class _RecordSpec:
    name: str
    label: str | None
    fields: dict[str, _FieldSpec]  # by JSON key, in declaration order
    labels: dict[str, str]  # label -> key, for "did you mean"


# A walk plan for ``missing``: (key, required, child plan, child is a list), in field order.
_Plan = tuple[tuple[str, bool, "_Plan | None", bool], ...]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_OP_ZH = {">=": "不能小于", "<=": "不能大于", ">": "必须大于", "<": "必须小于"}
_OP_EN = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}

_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LOOSE_DATE_RE = re.compile(
    r"\s*([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?\s*"
)
_CENT = Decimal("0.01")


def _check_error(
    code: str, span: Span | None, zh: str, en: str, hint_zh: str, hint_en: str
) -> NoReturn:
    """The policy cannot describe an input (the checker reports these too)."""
    raise PolicyCheckError([Diagnostic(code, "error", zh, en, span, hint_zh, hint_en)])


# ---------------------------------------------------------------- value validators
#
# Each returns the normalised value or raises PydanticCustomError(code, ..., ctx); the code is
# turned into a bilingual message by _issue() below, which sees the offending input value.


def _fail(code: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, code, ctx or None)


def _decimal(v: Any, places: int | None, code: str) -> Decimal:
    t = type(v)
    if t is int:
        return Decimal(v)
    if t is str:
        m = _DECIMAL_RE.fullmatch(v)
        if m is None:
            raise _fail(code)
        frac = m.group(1)
        if places is not None and frac is not None and len(frac) > places:
            raise _fail("too_many_decimals", places=len(frac))
        return Decimal(v)
    if t is bool:
        raise _fail(code)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _fail("not_finite")
        d = Decimal(repr(float(v)))
    elif isinstance(v, Decimal):
        if not v.is_finite():
            raise _fail("not_finite")
        d = v
    elif isinstance(v, int):
        return Decimal(int(v))
    else:
        raise _fail(code)
    exp = d.as_tuple().exponent
    if places is not None and isinstance(exp, int) and -exp > places:
        raise _fail("too_many_decimals", places=-exp)
    return d


def _integer(v: Any) -> int:
    t = type(v)
    if t is int:
        return v  # type: ignore[no-any-return]
    if t is bool:
        raise _fail("int_type")
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _fail("not_finite")
        if not v.is_integer():
            raise _fail("int_fraction")
        return int(v)
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise _fail("not_finite")
        if v != v.to_integral_value():
            raise _fail("int_fraction")
        return int(v)
    if isinstance(v, int):
        return int(v)
    raise _fail("int_type")


def _date(v: Any) -> dt.date:
    if type(v) is str:
        if _DATE_RE.fullmatch(v) is None:
            raise _fail("date_format")
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise _fail("date_invalid") from None
    if type(v) is dt.date:
        return v
    raise _fail("date_type")


@attrs.frozen
class _Plain:
    """A plain validator function with a fixed JSON Schema.

    Unlike ``pydantic.PlainValidator`` it adds no Python serializer, so dumping the value
    stays in pydantic-core (a large share of the time on a batch).
    """

    func: Callable[[Any], Any]
    schema: dict[str, Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.func)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return copy.deepcopy(self.schema)


def _checks(bounds: tuple[tuple[str, Decimal], ...]) -> tuple[tuple[Any, str, Decimal], ...]:
    return tuple((_OPS[op], op, limit) for op, limit in bounds)


def _decimal_validator(
    places: int | None, code: str, bounds: tuple[tuple[str, Decimal], ...]
) -> Callable[[Any], Decimal]:
    """One flat function per field: the common JSON shapes are handled inline (hot path)."""
    checks = _checks(bounds)

    def validate(v: Any) -> Decimal:
        t = type(v)
        if t is int:
            d = Decimal(v)
        elif t is float:
            r = repr(v)
            dot = r.find(".")
            if dot >= 0 and "e" not in r and (places is None or len(r) - dot - 1 <= places):
                d = Decimal(r)
            else:
                d = _decimal(v, places, code)
        else:
            d = _decimal(v, places, code)
        for test, op, limit in checks:
            if not test(d, limit):
                raise _fail("bound", op=op, limit=str(limit))
        return d

    return validate


def _integer_validator(bounds: tuple[tuple[str, Decimal], ...]) -> Callable[[Any], int]:
    checks = _checks(bounds)

    def validate(v: Any) -> int:
        i: int = v if type(v) is int else _integer(v)
        for test, op, limit in checks:
            if not test(i, limit):
                raise _fail("bound", op=op, limit=str(limit))
        return i

    return validate


_MONEY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$"},
    ],
    "description": "金额 (元), 最多两位小数 / amount in yuan, at most 2 decimals",
}
_NUMBER_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}]
}


def _json_number(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _numeric_schema(
    base: dict[str, Any], bounds: tuple[tuple[str, Decimal], ...]
) -> dict[str, Any]:
    if not bounds:
        return base
    words = {">=": "minimum", "<=": "maximum", ">": "exclusiveMinimum", "<": "exclusiveMaximum"}
    limits = {words[op]: _json_number(limit) for op, limit in bounds}
    if "anyOf" in base:
        return {**base, "anyOf": [{**base["anyOf"][0], **limits}, *base["anyOf"][1:]]}
    return {**base, **limits}


def _length_limits(bounds: tuple[tuple[str, Decimal], ...]) -> tuple[int | None, int | None]:
    low: int | None = None
    high: int | None = None
    for op, limit in bounds:
        if op in (">=", ">"):
            n = math.ceil(limit) if op == ">=" else math.floor(limit) + 1
            low = max(n, 0) if low is None else max(low, n)
        else:
            n = math.floor(limit) if op == "<=" else math.ceil(limit) - 1
            high = max(n, 0) if high is None else min(high, n)
    return low, high


def _strip_nulls(known: frozenset[str]) -> Callable[[Any], Any]:
    """``null`` is the same as an absent key: drop nulls of known keys before validation."""

    def strip(data: Any) -> Any:
        if isinstance(data, dict) and None in data.values():
            return {k: v for k, v in data.items() if v is not None or k not in known}
        return data

    return strip


# ---------------------------------------------------------------- the schema


class HouseholdSchema:
    """Validator for one policy's household input, built once and shared across threads.

    >>> from fanpin_rules.parser import parse
    >>> from fanpin_rules.model import build_model
    >>> text = '''
    ... enum 技能 { 普通劳动力, 无劳动力 }
    ... record member { age: int required >= 0  skill: 技能 }
    ... record household { household_id: text required  wage_income: money >= 0
    ...   housing_unsafe: bool = false  members: list of member required >= 1 }
    ... input household key household_id'''
    >>> schema = HouseholdSchema(build_model([parse(text)])[0])
    >>> schema.json_schema()["required"]
    ['household_id', 'members']
    """

    def __init__(self, model: PolicyModel) -> None:
        if model.input is None:
            _check_error(
                "F132",
                None,
                "政策没有声明输入 (input)",
                "the policy declares no input record",
                "加一行 input household key household_id",
                "add a line: input household key household_id",
            )
        root = model.records.get(model.input.record)
        if root is None:
            _check_error(
                "F208",
                model.input.span,
                f"未知记录「{model.input.record}」",
                f"unknown record '{model.input.record}'",
                "",
                "",
            )
        self._policy = model
        self._key_field = model.input.key_field
        self._root_name = root.name
        # the records reachable from the root, by name
        self._specs: dict[str, _RecordSpec] = {}
        pending = [root.name]
        while pending:
            name = pending.pop()
            if name not in self._specs:
                spec = self._specs[name] = self._record_spec(model.records[name])
                for f in spec.fields.values():
                    t = f.type.elem if f.type.elem is not None else f.type
                    if t.record is not None:
                        pending.append(t.record)
        self._root_spec = self._specs[root.name]
        self._plans: dict[str, _Plan | None] = {}
        self._plan = self._missing_plan(root.name, ())
        # (record name, ignore_extra) -> model; both variants are built now, never later.
        self._models: dict[tuple[str, bool], type[pydantic.BaseModel]] = {}
        for ignore in (False, True):
            self._build(root.name, ignore, ())
        self._strip_root = _strip_nulls(frozenset(self._root_spec.fields))
        self._root_validators = {
            ignore: self._models[(root.name, ignore)].__pydantic_validator__
            for ignore in (False, True)
        }
        # the fast path for valid records; None: always the pydantic path
        self._fast: Callable[[dict[Any, Any], list[str], str], dict[str, Any]] | None = (
            self._fast_path()
        )

    # ------------------------------------------------------------ public API

    def validate(
        self,
        data: object,
        *,
        source: str | None = None,
        row: int | None = None,
        ignore_extra: bool = False,
    ) -> Household:
        """Validate one household record (a parsed JSON object).

        Raises :class:`HouseholdInputError` with one issue per bad field; absent required
        fields are not errors but are listed in :attr:`Household.missing`.

        >>> from fanpin_rules.parser import parse
        >>> from fanpin_rules.model import build_model
        >>> text = '''
        ... record member { age: int required >= 0 }
        ... record household { household_id: text required  wage_income: money >= 0
        ...   housing_unsafe: bool = false  members: list of member required >= 1 }
        ... input household key household_id'''
        >>> schema = HouseholdSchema(build_model([parse(text)])[0])
        >>> h = schema.validate({"household_id": "H1", "wage_income": "8300.00", "members": [{}]})
        >>> h.data["wage_income"], h.data["housing_unsafe"], h.data["members"]
        (Decimal('8300.00'), False, ({},))
        >>> h.missing
        ('members[0].age',)
        >>> try:
        ...     schema.validate({"household_id": "H2", "wage_income": -5, "housing_unsfe": True})
        ... except HouseholdInputError as e:
        ...     for issue in e.issues:
        ...         print(f"{issue.path}: {issue.reason_en}; {issue.hint_en}")
        wage_income: 'wage_income': -5 must be at least 0; it cannot be negative, check the figure
        housing_unsfe: unknown key 'housing_unsfe'; did you mean 'housing_unsafe'?
        """
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                raise HouseholdInputError([_not_an_object(data)], None, source, row)
            data = dict(data)
        fast = self._fast
        if fast is not None:
            missing: list[str] = []
            try:
                out = fast(data, missing, "")
            except Exception:  # anything unusual: the pydantic path decides and explains
                pass
            else:
                hid = out.get(self._key_field) if self._key_field is not None else None
                return Household(out, tuple(missing), (), hid if isinstance(hid, str) else None)
        return self._validate_pydantic(data, source, row, ignore_extra)

    def _validate_pydantic(
        self, data: dict[Any, Any], source: str | None, row: int | None, ignore_extra: bool
    ) -> Household:
        """The pydantic path: every record the fast path does not vouch for, and all errors."""
        try:
            instance = self._root_validators[ignore_extra].validate_python(self._strip_root(data))
        except pydantic.ValidationError as exc:
            raise HouseholdInputError(self._issues(exc), self._raw_id(data), source, row) from None
        out: dict[str, Any] = instance.model_dump(by_alias=True, exclude_none=True)
        missing: list[str] = []
        if self._plan is not None:
            _collect_missing(self._plan, out, "", missing)
        ignored: list[str] = []
        if ignore_extra:
            self._collect_extra(self._root_spec, data, "", ignored)
        hid = out.get(self._key_field) if self._key_field is not None else None
        return Household(out, tuple(missing), tuple(ignored), hid if isinstance(hid, str) else None)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the input record, for documentation and integrators.

        Keys listed under ``required`` must be supplied for a complete record; ``validate``
        still accepts a record without them and reports them in ``Household.missing``.
        A JSON ``null`` is accepted everywhere and means the key is absent.
        """
        model = self._models[(self._root_name, False)]
        return model.model_json_schema(by_alias=True, mode="validation")

    # ------------------------------------------------------------ building

    def _resolve(self, ref: ast.TypeRef) -> _Type:
        model = self._policy
        if ref.of is not None:
            if ref.name not in ("list", "列表"):
                self._unknown_type(ref)
            elem = self._resolve(ast.TypeRef(ref.of, span=ref.span))
            if elem.kind == "list":
                self._unknown_type(ref)
            return _Type("list", elem=elem)
        builtin = BUILTIN_TYPES.get(ref.name)
        if builtin is not None and builtin.kind in _SCALARS:
            return _Type(builtin.kind)
        enum = model.enums.get(ref.name)
        if enum is not None:
            return _Type(
                "enum",
                enum_values=tuple(m.value for m in enum.members),
                enum_labels=tuple((m.label, m.value) for m in enum.members if m.label),
            )
        rec = model.records.get(ref.name)
        if rec is not None:
            return _Type("record", record=rec.name)
        self._unknown_type(ref)

    def _unknown_type(self, ref: ast.TypeRef) -> NoReturn:
        shown = ref.name if ref.of is None else f"{ref.name} of {ref.of}"
        _check_error(
            "F208",
            ref.span,
            f"未知类型「{shown}」",
            f"unknown type '{shown}'",
            "可用: money int number bool date text, 枚举名, 记录名, list of 记录名",
            "use money, int, number, bool, date, text, an enum or record name, list of X",
        )

    def _record_spec(self, rec: ast.RecordDecl) -> _RecordSpec:
        fields: dict[str, _FieldSpec] = {}
        labels: dict[str, str] = {}
        for f in rec.fields:
            default: Any = f.default
            if isinstance(default, ast._NoDefault) or default is None or f.required:
                default = ast.NO_DEFAULT
            fields[f.key] = _FieldSpec(
                f.key,
                f.label,
                self._resolve(f.type),
                f.required,
                default,
                tuple((b.op, b.value) for b in f.bounds),
                f.pii,
                f.cite,
            )
            if f.label:
                labels[f.label] = f.key
        return _RecordSpec(rec.name, rec.label, fields, labels)

    def _missing_plan(self, name: str, stack: tuple[str, ...]) -> _Plan | None:
        """The walk for ``missing`` through ``name``, or None if nothing there is required."""
        if name in stack:
            return None
        if name in self._plans:
            return self._plans[name]
        entries: list[tuple[str, bool, _Plan | None, bool]] = []
        for f in self._specs[name].fields.values():
            t = f.type.elem if f.type.kind == "list" else f.type
            child = None
            if t is not None and t.kind == "record" and t.record is not None:
                child = self._missing_plan(t.record, (*stack, name))
            if f.required or child is not None:
                entries.append((f.key, f.required, child, f.type.kind == "list"))
        plan = tuple(entries) or None
        self._plans[name] = plan
        return plan

    def _build(self, name: str, ignore: bool, stack: tuple[str, ...]) -> type[pydantic.BaseModel]:
        key = (name, ignore)
        if key in self._models:
            return self._models[key]
        spec = self._specs[name]
        if name in stack:
            _check_error(
                "F134",
                None,
                f"记录「{name}」直接或间接包含了它自己: {' → '.join((*stack, name))}",
                f"record '{name}' contains itself: {' -> '.join((*stack, name))}",
                "输入记录不能递归嵌套",
                "input records cannot nest recursively",
            )
        fields: dict[str, Any] = {}
        for i, f in enumerate(spec.fields.values()):
            annotation = self._annotation(f.type, f.bounds, ignore, (*stack, name))
            extra: dict[str, Any] = {}
            if f.type.kind == "list":
                low, high = _length_limits(f.bounds)
                if low is not None:
                    extra["min_length"] = low
                if high is not None:
                    extra["max_length"] = high
            default: Any = None
            if f.default is not ast.NO_DEFAULT:
                default = self._default(f, annotation)
            fields[f"f{i}"] = (
                annotation,
                pydantic.Field(
                    default,
                    alias=f.key,
                    title=f.label or f.key,
                    description=f.cite,
                    **extra,
                ),
            )
        model_name = (
            name if name.isascii() and name.isidentifier() else f"Record{len(self._models)}"
        )
        config = ConfigDict(
            extra="ignore" if ignore else "forbid",
            title=spec.label or spec.name,
            json_schema_extra=_schema_fixer(spec),
        )
        model: type[pydantic.BaseModel] = pydantic.create_model(
            model_name, __config__=config, **fields
        )
        self._models[key] = model
        return model

    def _annotation(
        self,
        t: _Type,
        bounds: tuple[tuple[str, Decimal], ...],
        ignore: bool,
        stack: tuple[str, ...],
    ) -> Any:
        kind = t.kind
        if kind == "money":
            money = _decimal_validator(2, "money_type", bounds)
            return Annotated[Any, _Plain(money, _numeric_schema(_MONEY_SCHEMA, bounds))]
        if kind == "number":
            number = _decimal_validator(None, "number_type", bounds)
            return Annotated[Any, _Plain(number, _numeric_schema(_NUMBER_SCHEMA, bounds))]
        if kind == "int":
            integer = _integer_validator(bounds)
            return Annotated[Any, _Plain(integer, _numeric_schema({"type": "integer"}, bounds))]
        if kind == "bool":
            return Annotated[bool, Strict()]
        if kind == "text":
            return Annotated[str, Strict()]
        if kind == "date":
            return Annotated[Any, _Plain(_date, {"type": "string", "format": "date"})]
        if kind == "enum":
            return Literal.__getitem__(t.enum_values)
        if kind == "record":
            assert t.record is not None
            sub = self._build(t.record, ignore, stack)
            strip = _strip_nulls(frozenset(self._specs[t.record].fields))
            return Annotated[sub, BeforeValidator(strip)]
        assert kind == "list" and t.elem is not None
        return tuple[self._annotation(t.elem, (), ignore, stack), ...]  # type: ignore[misc]

    def _default(self, f: _FieldSpec, annotation: Any) -> Any:
        """The declared JSON default converted to the field's type, checked once."""
        value = f.default
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
        try:
            converted = adapter.validate_python(value)
            if f.type.kind == "list":
                low, high = _length_limits(f.bounds)
                if (low is not None and len(converted) < low) or (
                    high is not None and len(converted) > high
                ):
                    raise ValueError
        except (pydantic.ValidationError, ValueError):
            _check_error(
                "F301",
                None,
                f"字段「{f.key}」的默认值与类型或范围不符",
                f"the default of field '{f.key}' does not fit its type or bounds",
                "默认值要是该类型的值, 例如 = false、= 0、= []",
                "the default must be a value of the type, e.g. = false, = 0, = []",
            )
        return converted

    def _fast_path(self) -> Callable[[dict[Any, Any], list[str], str], dict[str, Any]]:
        """Generate and compile the fast path (one function per record reachable)."""
        defaults: dict[str, dict[str, Any]] = {}
        for name, spec in self._specs.items():
            model_fields = self._models[(name, False)].model_fields
            defaults[name] = {
                key: _dumped(model_fields[f"f{i}"].default)
                for i, (key, f) in enumerate(spec.fields.items())
                if f.default is not ast.NO_DEFAULT
            }
        gen = _FastGen(self._specs, defaults)
        root = gen.record(self._root_name)
        source = "\n".join(gen.lines)
        self._fast_source = source
        exec(compile(source, f"<fast path of {self._root_name}>", "exec"), gen.ns)
        fn: Callable[[dict[Any, Any], list[str], str], dict[str, Any]] = gen.ns[root]
        return fn

    # ------------------------------------------------------------ walking the input

    def _raw_id(self, data: dict[Any, Any]) -> str | None:
        if self._key_field is None:
            return None
        hid = data.get(self._key_field)
        return hid if isinstance(hid, str) else None

    def _collect_extra(
        self, spec: _RecordSpec, data: dict[Any, Any], prefix: str, out: list[str]
    ) -> None:
        for k, v in data.items():
            f = spec.fields.get(k) if isinstance(k, str) else None
            if f is None:
                out.append(f"{prefix}{k}")
                continue
            t = f.type
            if t.kind == "record" and isinstance(v, dict) and t.record is not None:
                self._collect_extra(self._specs[t.record], v, f"{prefix}{k}.", out)
            elif (
                t.kind == "list"
                and t.elem is not None
                and t.elem.record is not None
                and isinstance(v, list | tuple)
            ):
                sub = self._specs[t.elem.record]
                for i, e in enumerate(v):
                    if isinstance(e, dict):
                        self._collect_extra(sub, e, f"{prefix}{k}[{i}].", out)

    # ------------------------------------------------------------ errors

    def _issues(self, exc: pydantic.ValidationError) -> list[InputIssue]:
        issues: list[InputIssue] = []
        seen: set[str] = set()
        for err in exc.errors(include_url=False):
            issue = self._issue(err)
            if issue is not None and issue.path not in seen:
                seen.add(issue.path)
                issues.append(issue)
        return issues

    def _issue(self, err: Any) -> InputIssue | None:
        """One pydantic error as an issue on the JSON path it concerns."""
        rec = self._root_spec
        field: _FieldSpec | None = None
        t: _Type | None = None  # the type at the current position; None: inside ``rec``
        path = ""
        for item in err["loc"]:
            if t is not None and t.kind == "list" and isinstance(item, int):
                path += f"[{item}]"
                t = t.elem
                continue
            if t is not None and t.kind == "record" and t.record is not None:
                rec, t = self._specs[t.record], None
            if t is not None:  # pragma: no cover - scalars have no inner positions
                break
            path = f"{path}.{item}" if path else str(item)
            f = rec.fields.get(item) if isinstance(item, str) else None
            if f is None:
                return _unknown_key(path, item, rec, err["type"])
            field, t = f, f.type
        if field is None or t is None:
            return InputIssue(path, f"数据不符合要求: {err['msg']}", str(err["msg"]))
        record = self._specs[t.record] if t.record is not None else None
        return _value_issue(path, field, t, record, err)


# ---------------------------------------------------------------- fast path for valid records
#
# Generated once per schema: one plain-Python function per record, straight-line code per
# field. It returns the same data as the pydantic models for a valid record and raises (any
# exception, usually _Fallback) at the first thing it does not handle; the caller then runs
# the pydantic path, which stays the only source of error messages.


class _Fallback(Exception):
    """The fast path cannot vouch for this record: use the pydantic path."""


def _dumped(value: Any) -> Any:
    """A converted default as ``model_dump(by_alias=True, exclude_none=True)`` gives it."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, tuple):
        return tuple(_dumped(v) for v in value)
    return value


def _has_dict(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, tuple) and any(_has_dict(v) for v in value)


def _limit(limit: Decimal, integral: bool) -> Decimal | int:
    """A bound as a constant: an int for int fields when it is whole (same comparisons)."""
    if integral and limit == limit.to_integral_value():
        return int(limit)
    return limit


class _FastGen:
    """Writes the source of the fast path for one schema."""

    def __init__(self, specs: dict[str, _RecordSpec], defaults: dict[str, dict[str, Any]]) -> None:
        self.specs = specs
        self.defaults = defaults
        self.ns: dict[str, Any] = {
            "_Fallback": _Fallback,
            "_D": Decimal,
            "_DRE": _DECIMAL_RE.fullmatch,
            "_DTRE": _DATE_RE.fullmatch,
            "_fromiso": dt.date.fromisoformat,
            "_date": dt.date,
        }
        self.funcs: dict[str, str] = {}  # record name -> function name
        self.lines: list[str] = []
        self.n = 0

    def const(self, value: Any) -> str:
        self.n += 1
        name = f"C{self.n}"
        self.ns[name] = value
        return name

    def var(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def record(self, name: str) -> str:
        """The name of the function for record ``name``, written on first use.

        Two functions per record: ``_rN`` handles absent required fields (listing them in
        ``miss``), and the entry point ``_rNq`` assumes they are all there — it reads them
        with ``d[key]``, and a ``KeyError`` (one is absent) hands the record to ``_rN``,
        after taking back what nested records added to ``miss`` meanwhile.
        """
        if name in self.funcs:
            return self.funcs[name]
        spec = self.specs[name]
        defaults = self.defaults[name]
        fn = f"_r{len(self.funcs)}"
        self.funcs[name] = fn + "q"
        known = self.const(frozenset(spec.fields))
        for quick in (False, True):
            body: list[str] = []
            ind = "        " if quick else "    "
            if quick:
                body.append("    n = len(miss)")
                body.append("    try:")
            body.append(f"{ind}if not {known}.issuperset(d):")
            body.append(f"{ind}    raise _Fallback")
            body.append(f"{ind}g = d.get")
            body.append(f"{ind}o = {{}}")
            for key, f in spec.fields.items():
                k = repr(key)
                if quick and f.required:
                    body.append(f"{ind}v = d[{k}]")
                    body.append(f"{ind}if v is None:")
                    body.append(f"{ind}    raise KeyError")
                    x = self.value(f.type, f.bounds, "v", key, body, ind)
                    body.append(f"{ind}o[{k}] = {x}")
                    continue
                body.append(f"{ind}v = g({k})")
                body.append(f"{ind}if v is None:")
                if f.required:
                    body.append(f"{ind}    miss.append(pre + {k})")
                elif key in defaults:
                    default = defaults[key]
                    if _has_dict(default):
                        body.append(f"{ind}    raise _Fallback")
                    else:
                        body.append(f"{ind}    o[{k}] = {self.const(default)}")
                else:
                    body.append(f"{ind}    pass")
                body.append(f"{ind}else:")
                x = self.value(f.type, f.bounds, "v", key, body, ind + "    ")
                body.append(f"{ind}    o[{k}] = {x}")
            body.append(f"{ind}return o")
            if quick:
                body.append("    except KeyError:")
                body.append("        del miss[n:]")
                body.append(f"        return {fn}(d, miss, pre)")
            self.lines.append(f"def {fn}{'q' if quick else ''}(d, miss, pre):")
            self.lines.extend(body)
            self.lines.append("")
        return fn + "q"

    def value(
        self,
        t: _Type,
        bounds: tuple[tuple[str, Decimal], ...],
        v: str,
        key: str,
        out: list[str],
        ind: str,
    ) -> str:
        """Lines checking ``v``; returns the expression of the normalised value."""
        kind = t.kind
        x = self.var("x")
        if kind in ("money", "number"):
            places = 2 if kind == "money" else None
            tv, m, r, i = self.var("t"), self.var("m"), self.var("r"), self.var("i")
            out.append(f"{ind}{tv} = type({v})")
            out.append(f"{ind}if {tv} is int:")
            out.append(f"{ind}    {x} = _D({v})")
            out.append(f"{ind}elif {tv} is str:")
            out.append(f"{ind}    {m} = _DRE({v})")
            out.append(f"{ind}    if {m} is None:")
            out.append(f"{ind}        raise _Fallback")
            if places is not None:
                out.append(f"{ind}    {m} = {m}.group(1)")
                out.append(f"{ind}    if {m} is not None and len({m}) > {places}:")
                out.append(f"{ind}        raise _Fallback")
            out.append(f"{ind}    {x} = _D({v})")
            out.append(f"{ind}elif {tv} is float:")
            out.append(f"{ind}    {r} = repr({v})")
            out.append(f"{ind}    {i} = {r}.find('.')")
            cond = f"{i} < 0 or 'e' in {r}"
            if places is not None:
                cond += f" or len({r}) - {i} - 1 > {places}"
            out.append(f"{ind}    if {cond}:")
            out.append(f"{ind}        raise _Fallback")
            out.append(f"{ind}    {x} = _D({r})")
            out.append(f"{ind}elif {tv} is _D:")
            out.append(f"{ind}    if not {v}.is_finite():")
            out.append(f"{ind}        raise _Fallback")
            if places is not None:
                out.append(f"{ind}    if {v}.as_tuple().exponent < -{places}:")
                out.append(f"{ind}        raise _Fallback")
            out.append(f"{ind}    {x} = {v}")
            out.append(f"{ind}else:")
            out.append(f"{ind}    raise _Fallback")
            self.bounds(x, bounds, False, out, ind)
        elif kind == "int":
            out.append(f"{ind}if type({v}) is int:")
            out.append(f"{ind}    {x} = {v}")
            out.append(f"{ind}elif type({v}) is float and {v}.is_integer():")
            out.append(f"{ind}    {x} = int({v})")
            out.append(
                f"{ind}elif type({v}) is _D and {v}.is_finite() and {v} == {v}.to_integral_value():"
            )
            out.append(f"{ind}    {x} = int({v})")
            out.append(f"{ind}else:")
            out.append(f"{ind}    raise _Fallback")
            self.bounds(x, bounds, True, out, ind)
        elif kind == "bool":
            out.append(f"{ind}if {v} is not True and {v} is not False:")
            out.append(f"{ind}    raise _Fallback")
            return v
        elif kind == "text":
            out.append(f"{ind}if {v}.__class__ is not str:")
            out.append(f"{ind}    raise _Fallback")
            return v
        elif kind == "date":
            out.append(f"{ind}if type({v}) is str:")
            out.append(f"{ind}    if _DTRE({v}) is None:")
            out.append(f"{ind}        raise _Fallback")
            out.append(f"{ind}    {x} = _fromiso({v})")
            out.append(f"{ind}elif type({v}) is _date:")
            out.append(f"{ind}    {x} = {v}")
            out.append(f"{ind}else:")
            out.append(f"{ind}    raise _Fallback")
        elif kind == "enum":
            values = self.const(frozenset(t.enum_values))
            out.append(f"{ind}if type({v}) is not str or {v} not in {values}:")
            out.append(f"{ind}    raise _Fallback")
            out.append(f"{ind}{x} = {v}")
        elif kind == "record":
            assert t.record is not None
            fn = self.record(t.record)
            out.append(f"{ind}if type({v}) is not dict:")
            out.append(f"{ind}    raise _Fallback")
            out.append(f"{ind}{x} = {fn}({v}, miss, pre + {key + '.'!r})")
        else:
            assert kind == "list" and t.elem is not None
            low, high = _length_limits(bounds)
            out.append(f"{ind}if type({v}) is not list and type({v}) is not tuple:")
            out.append(f"{ind}    raise _Fallback")
            checks = []
            if low is not None:
                checks.append(f"len({v}) < {low}")
            if high is not None:
                checks.append(f"len({v}) > {high}")
            if checks:
                out.append(f"{ind}if {' or '.join(checks)}:")
                out.append(f"{ind}    raise _Fallback")
            elem = t.elem
            e, idx, acc = self.var("e"), self.var("j"), self.var("a")
            if elem.kind == "record":
                assert elem.record is not None
                fn = self.record(elem.record)
                k = self.const(key)
                out.append(f"{ind}{acc} = []")
                out.append(f"{ind}for {idx}, {e} in enumerate({v}):")
                out.append(f"{ind}    if type({e}) is not dict:")
                out.append(f"{ind}        raise _Fallback")
                out.append(f"{ind}    {acc}.append({fn}({e}, miss, f'{{pre}}{{{k}}}[{{{idx}}}].'))")
                out.append(f"{ind}{x} = tuple({acc})")
            elif elem.kind in ("enum", "text", "bool"):
                # elements are kept as they are: check them all, then copy the list once
                out.append(f"{ind}for {e} in {v}:")
                self.value(elem, (), e, key, out, ind + "    ")
                out.append(f"{ind}{x} = tuple({v})")
            else:
                out.append(f"{ind}{acc} = []")
                out.append(f"{ind}for {e} in {v}:")
                y = self.value(elem, (), e, key, out, ind + "    ")
                out.append(f"{ind}    {acc}.append({y})")
                out.append(f"{ind}{x} = tuple({acc})")
        return x

    def bounds(
        self,
        x: str,
        bounds: tuple[tuple[str, Decimal], ...],
        integral: bool,
        out: list[str],
        ind: str,
    ) -> None:
        for op, limit in bounds:
            c = self.const(_limit(limit, integral))
            out.append(f"{ind}if not {x} {op} {c}:")
            out.append(f"{ind}    raise _Fallback")


def _schema_fixer(spec: _RecordSpec) -> Callable[[dict[str, Any]], None]:
    """Make the generated JSON Schema say what the policy declares."""

    def fix(schema: dict[str, Any]) -> None:
        props: dict[str, Any] = schema.get("properties", {})
        for key, f in spec.fields.items():
            prop = props.get(key)
            if prop is None:
                continue
            if f.default is ast.NO_DEFAULT:
                prop.pop("default", None)
            else:
                prop["default"] = _jsonable(f.default)
            if f.label:
                prop["title"] = f.label
            if f.pii:
                prop["x-pii"] = True
        required = [k for k, f in spec.fields.items() if f.required]
        if required:
            schema["required"] = required
        if spec.label:
            schema["description"] = f"{spec.name} {spec.label}"

    return fix


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _collect_missing(plan: _Plan, data: dict[str, Any], prefix: str, out: list[str]) -> None:
    for key, required, child, is_list in plan:
        value = data.get(key)
        if value is None:
            if required:
                out.append(prefix + key)
        elif child is not None:
            if is_list:
                for i, element in enumerate(value):
                    _collect_missing(child, element, f"{prefix}{key}[{i}].", out)
            else:
                _collect_missing(child, value, f"{prefix}{key}.", out)


# ---------------------------------------------------------------- messages for the clerk


def _kind(v: Any) -> tuple[str, str]:
    if v is None:
        return "空值", "null"
    if isinstance(v, bool):
        return "是/否值", "the true/false value"
    if isinstance(v, str):
        return "文字", "the text"
    if isinstance(v, int | float | Decimal):
        return "数字", "the number"
    if isinstance(v, list | tuple):
        return "列表", "a list"
    if isinstance(v, dict):
        return "对象", "an object"
    return "值", "the value"


def _show(v: Any, pii: bool = False) -> tuple[str, str]:
    """The offending value as the clerk typed it (never for PII fields)."""
    if pii:
        return "(敏感信息, 不显示)", "(sensitive, not shown)"
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:40] + "…"
        return f"「{s}」", f"'{s}'"
    if v is None or isinstance(v, bool):
        s = json.dumps(v)
    elif isinstance(v, int | float | Decimal):
        s = str(v)
    else:
        try:
            s = json.dumps(v, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            s = repr(v)
        if len(s) > 40:
            s = s[:40] + "…"
    return s, s


def _found(v: Any, pii: bool) -> tuple[str, str]:
    """What was found: its kind and the value, e.g. 文字「是」 / the text '是'."""
    if v is None:
        return "空值 null", "null"
    kz, ke = _kind(v)
    sz, se = _show(v, pii)
    return f"{kz}{sz}" if sz.startswith("「") else f"{kz} {sz}", f"{ke} {se}"


def _who(path: str, label: str | None) -> tuple[str, str]:
    if label:
        return f"「{path}」({label})", f"'{path}' ({label})"
    return f"「{path}」", f"'{path}'"


def _not_an_object(data: object) -> InputIssue:
    kz, ke = _found(data, False)
    return InputIssue(
        "",
        f"一户的数据应是一个 JSON 对象 {{…}}, 实际是{kz}",
        f"a household must be a JSON object {{…}}, found {ke}",
        '每户写成一个对象, 例如 {"household_id": "H001", …}',
        'write each household as one object, e.g. {"household_id": "H001", …}',
    )


def _unknown_key(path: str, key: object, rec: _RecordSpec, err_type: str) -> InputIssue:
    if not isinstance(key, str) or err_type == "invalid_key":
        return InputIssue(
            path,
            f"字段名「{key}」不是文字",
            f"the key {key!r} is not text",
            "字段名要用双引号括起来",
            "write every key in double quotes",
        )
    prefix = path[: len(path) - len(key)]
    found = _suggest(key, [*rec.fields, *rec.labels])
    if found is not None:
        best = rec.labels.get(found, found)
        label = rec.fields[best].label
        shown_zh = f"「{prefix}{best}」" + (f"({label})" if label else "")
        hint_zh = f"是不是{shown_zh}?"
        hint_en = f"did you mean '{prefix}{best}'?"
    else:
        keys = list(rec.fields)
        listed = "、".join(keys) if len(keys) <= 15 else "见本政策的输入字段说明"
        listed_en = ", ".join(keys) if len(keys) <= 15 else "see the input fields of the policy"
        hint_zh = f"请核对字段名, 可用的字段: {listed}"
        hint_en = f"check the spelling; known keys: {listed_en}"
    where_zh = f"记录「{rec.label or rec.name}」" if prefix else "本政策的输入"
    where_en = f"record '{rec.name}'"
    return InputIssue(
        path,
        f"未知字段「{path}」: 不是{where_zh}中的字段",
        f"unknown key '{path}'" + (f" in {where_en}" if prefix else ""),
        hint_zh,
        hint_en,
    )


def _suggest(word: str, candidates: list[str]) -> str | None:
    """The most likely meant candidate: same but for case, containing it, or closest."""
    folded = word.casefold()
    for c in candidates:
        if c.casefold() == folded:
            return c
    if len(word) >= 2:
        inside = [c for c in candidates if word in c]
        if inside:
            return min(inside, key=len)  # 半劳动力 -> 弱劳动力或半劳动力
        around = [c for c in candidates if len(c) >= 2 and c in word]
        if around:
            return max(around, key=len)  # 普通劳动力人员 -> 普通劳动力
    found = closest(word, candidates)
    return found[0] if found else None


def _rounded(v: Any) -> str:
    try:
        return str(Decimal(str(v)).quantize(_CENT, rounding=ROUND_HALF_UP))
    except ArithmeticError:  # pragma: no cover - only finite numbers reach here
        return "8300.00"


def _enum_hint(value: Any, t: _Type) -> tuple[str, str]:
    if isinstance(value, str):
        labels = dict(t.enum_labels)
        found = _suggest(value, [*t.enum_values, *labels])
        if found is not None:
            best = labels.get(found, found)
            return f"是不是「{best}」?", f"did you mean '{best}'?"
    return "请从允许的取值中选一个, 原样填写", "use one of the allowed values exactly as written"


def _value_issue(
    path: str, f: _FieldSpec, t: _Type, record: _RecordSpec | None, err: Any
) -> InputIssue | None:
    code: str = err["type"]
    value: Any = err.get("input")
    ctx: dict[str, Any] = err.get("ctx") or {}
    wz, we = _who(path, f.label)
    fz, fe = _found(value, f.pii)
    sz, se = _show(value, f.pii)

    def issue(rz: str, re_: str, hz: str = "", he: str = "") -> InputIssue:
        return InputIssue(path, rz, re_, hz, he)

    if code == "money_type":
        return issue(
            f'{wz}应填金额 (数字, 或 "8300.00" 这样的数字文字, 最多两位小数), 实际是{fz}',
            f"{we} must be an amount in yuan (a number, or a decimal string such as "
            f'"8300.00", at most 2 decimals); found {fe}',
            '例如 8300 或 "8300.00"; 不要加单位、千分位逗号或其他文字',
            'write e.g. 8300 or "8300.00", without units, thousands separators or words',
        )
    if code == "number_type":
        return issue(
            f"{wz}应填数字, 实际是{fz}",
            f"{we} must be a number; found {fe}",
            '例如 12.5 或 "12.5"; 不要加单位或其他文字',
            'write e.g. 12.5 or "12.5", without units or words',
        )
    if code == "too_many_decimals":
        places = ctx.get("places")
        return issue(
            f"{wz}的值 {sz} 有 {places} 位小数, 金额最多保留两位小数 (到分)",
            f"{we}: {se} has {places} decimals; money has at most 2 (to the fen)",
            f"请四舍五入到分, 例如 {_rounded(value)}",
            f"round to the fen, e.g. {_rounded(value)}",
        )
    if code == "not_finite":
        return issue(
            f"{wz}的值 {sz} 不是有效的数字",
            f"{we}: {se} is not a valid number",
            "请填写具体的数值",
            "write an actual number",
        )
    if code == "int_type":
        if isinstance(value, str) and _DECIMAL_RE.fullmatch(value.strip()):
            hz, he = f"去掉引号, 写成 {value.strip()}", f"drop the quotes: {value.strip()}"
        else:
            hz, he = "填写不带引号的整数, 例如 4", "write a whole number without quotes, e.g. 4"
        return issue(
            f"{wz}应填整数, 实际是{fz}", f"{we} must be a whole number; found {fe}", hz, he
        )
    if code == "int_fraction":
        return issue(
            f"{wz}应填整数, 但 {sz} 带有小数",
            f"{we} must be a whole number, but {se} has a fraction",
            "请核实后填写整数, 例如 4",
            "check the value and write a whole number, e.g. 4",
        )
    if code == "bool_type":
        yes = {"是", "true", "True", "TRUE", "1", "yes", "有", "Y", "y"}
        no = {"否", "false", "False", "FALSE", "0", "no", "无", "N", "n"}
        if not f.pii and isinstance(value, str | int) and str(value) in yes:
            hz, he = "改为 true (不加引号)", "write true (without quotes)"
        elif not f.pii and isinstance(value, str | int) and str(value) in no:
            hz, he = "改为 false (不加引号)", "write false (without quotes)"
        else:
            hz, he = "是填 true, 否填 false, 不加引号", "write true or false, without quotes"
        return issue(
            f"{wz}应填 true 或 false, 实际是{fz}", f"{we} must be true or false; found {fe}", hz, he
        )
    if code == "string_type":
        return issue(
            f"{wz}应填文字, 实际是{fz}",
            f"{we} must be text; found {fe}",
            "用双引号括起来",
            "put the value in double quotes",
        )
    if code in ("date_type", "date_format", "date_invalid"):
        example, guessed = "2024-01-05", False
        if isinstance(value, str) and (m := _LOOSE_DATE_RE.fullmatch(value)):
            example = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            guessed = True
        if code == "date_invalid":
            return issue(
                f"{wz}的日期{sz}不存在",
                f"{we}: {se} is not a real date",
                "请核对年、月、日 (例如该月的天数)",
                "check the year, month and day (e.g. the days in that month)",
            )
        if code == "date_format":
            return issue(
                f"{wz}的日期{sz}格式不对, 应写成 YYYY-MM-DD",
                f"{we}: {se} is not a date in the form YYYY-MM-DD",
                f'是不是 "{example}"?' if guessed else f'例如 "{example}"',
                f'did you mean "{example}"?' if guessed else f'e.g. "{example}"',
            )
        return issue(
            f"{wz}应填日期 (YYYY-MM-DD 格式的文字), 实际是{fz}",
            f"{we} must be a date written as text YYYY-MM-DD; found {fe}",
            f'例如 "{example}"',
            f'e.g. "{example}"',
        )
    if code == "literal_error":
        allowed_zh = "、".join(t.enum_values)
        allowed_en = ", ".join(t.enum_values)
        hz, he = _enum_hint(None if f.pii else value, t)
        if isinstance(value, str):
            return issue(
                f"{wz}的值{sz}不在允许的取值中; 允许的取值: {allowed_zh}",
                f"{we}: {se} is not one of the allowed values: {allowed_en}",
                hz,
                he,
            )
        return issue(
            f"{wz}应填以下取值之一: {allowed_zh}; 实际是{fz}",
            f"{we} must be one of: {allowed_en}; found {fe}",
            hz,
            he,
        )
    if code in ("model_type", "model_attributes_type", "dict_type"):
        keys = "、".join(record.fields) if record is not None else "…"
        return issue(
            f"{wz}应填一个对象 {{…}}, 实际是{fz}",
            f"{we} must be an object {{…}}; found {fe}",
            f'写成 {{"键": 值, …}}, 可用的键: {keys}',
            f'write {{"key": value, …}}; keys: {keys.replace("、", ", ")}',
        )
    if code in ("tuple_type", "list_type", "iterable_type"):
        elem = t.elem
        if elem is not None and elem.kind == "enum" and elem.enum_values:
            ex = f'["{elem.enum_values[0]}"]'
        else:
            ex = "[{…}]" if elem is not None and elem.kind == "record" else "[…]"
        return issue(
            f"{wz}应填一个列表 […], 实际是{fz}",
            f"{we} must be a list […]; found {fe}",
            f"即使只有一项也要写成列表, 例如 {ex}",
            f"write a list even for one entry, e.g. {ex}",
        )
    if code == "bound":
        op, limit = ctx.get("op", ">="), ctx.get("limit", "")
        if op == ">=" and limit == "0":
            hz, he = "不能为负数, 请核实后填写", "it cannot be negative, check the figure"
        else:
            hz = f"请核实; 该项{_OP_ZH.get(op, op)} {limit}"
            he = f"check the value; it must be {_OP_EN.get(op, op)} {limit}"
        return issue(
            f"{wz}的值 {sz} 不符合要求: {_OP_ZH.get(op, op)} {limit}",
            f"{we}: {se} must be {_OP_EN.get(op, op)} {limit}",
            hz,
            he,
        )
    if code in ("too_short", "too_long"):
        n = len(value) if isinstance(value, list | tuple) else None
        low, high = _length_limits(f.bounds)
        if code == "too_short":
            if n is not None and low is not None and n >= low:
                return None  # entries failed validation: those errors say why
            return issue(
                f"{wz}有 {n} 项, 至少要有 {low} 项",
                f"{we} has {n} entries; at least {low} required",
                f"请至少填写 {low} 项",
                f"enter at least {low}",
            )
        if n is not None and high is not None and n <= high:
            return None
        return issue(
            f"{wz}有 {n} 项, 最多只能有 {high} 项",
            f"{we} has {n} entries; at most {high} allowed",
            f"删去多余的项, 最多保留 {high} 项",
            f"remove entries; keep at most {high}",
        )
    return issue(f"{wz}的值 {sz} 不符合要求: {err.get('msg', code)}", f"{we}: {err.get('msg')}")
