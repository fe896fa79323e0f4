"""The public face of a policy: load, check, evaluate.

>>> policy = load_policy("examples/language_tour.policy")
>>> policy.name, policy.version, policy.content_hash[:7]
('语言导览', '1.0', 'sha256:')
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs

from fanpin_rules import ast
from fanpin_rules.check import CheckResult, run_checks
from fanpin_rules.check.declarations import default_as_of
from fanpin_rules.check.typecheck import type_of_ref
from fanpin_rules.compiler import CompiledEngine, Lane, TraceRecord
from fanpin_rules.errors import (
    Diagnostic,
    FanpinError,
    MessageError,
    PolicyCheckError,
    PolicyLoadError,
)
from fanpin_rules.evaluator import Evaluation, ParamBinding, Plan
from fanpin_rules.household import Household, HouseholdSchema
from fanpin_rules.model import PolicyModel, build_model
from fanpin_rules.parser import load_modules
from fanpin_rules.suggest import did_you_mean
from fanpin_rules.trace import ParamUse, Trace

__all__ = [
    "RESULT_SCHEMA_VERSION",
    "ParameterError",
    "Policy",
    "PolicyInfo",
    "Result",
    "evaluate_all",
    "find_policy",
    "load_policy",
    "shipped_policies",
]

RESULT_SCHEMA_VERSION = "1.1"

Engine = Literal["compiled", "interpreter"]
ENGINES: tuple[Engine, ...] = ("compiled", "interpreter")


class ParameterError(MessageError):
    """A parameter override names an unknown parameter or has a value of the wrong type."""


@attrs.frozen
class PolicyInfo:
    name: str
    version: str | None
    hash: str
    path: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hash": self.hash}


def _built(x: Any, i: int) -> Any:
    return x.build()[i] if isinstance(x, TraceRecord) else x


def _same_params(a: Any, b: Any) -> bool:
    return bool(_built(a, 1) == _built(b, 1))


def _same_trace(a: Any, b: Any) -> bool:
    return bool(_built(a, 0) == _built(b, 0))


@attrs.frozen(repr=False)
class Result:
    """One household's decision under one policy: frozen and JSON-serialisable.

    ``values`` holds every derived value and table output by name (money as strings
    with two decimals), ``fired`` the sorted ids of the conclusions that hold and
    ``undetermined`` the ids whose conclusion depends on missing inputs, each with
    those inputs.
    """

    household_id: str | None
    policy: PolicyInfo
    as_of: dt.date
    values: dict[str, Any]
    fired: tuple[str, ...]
    undetermined: dict[str, tuple[str, ...]]
    _params: tuple[ParamUse, ...] | TraceRecord = attrs.field(
        alias="params",
        eq=attrs.cmp_using(eq=_same_params, require_same_type=False),
    )
    missing_inputs: tuple[str, ...] = ()
    ignored_keys: tuple[str, ...] = ()
    _trace: Trace | TraceRecord | None = attrs.field(
        default=None, alias="trace", eq=attrs.cmp_using(eq=_same_trace, require_same_type=False)
    )

    @property
    def params(self) -> tuple[ParamUse, ...]:
        """The parameters used, each with its value, effective date and source (with a
        trace: every parameter the trace shows)."""
        p = self._params
        return p if type(p) is tuple else p.build()[1]  # type: ignore[union-attr]

    @property
    def trace(self) -> Trace | None:
        """The full explanation, or None when evaluated with ``trace=False``.

        The compiled engine records the trace (every value, truth and override it
        computed) and builds this object from the record when it is first read.
        """
        t = self._trace
        if t is None or type(t) is Trace:
            return t
        return t.build()[0]  # type: ignore[union-attr,no-any-return]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _RESULT_FIELDS)
        return f"Result({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        # a pickled Result carries its built trace, never the record behind it
        return (
            Result,
            (
                self.household_id,
                self.policy,
                self.as_of,
                self.values,
                self.fired,
                self.undetermined,
                self.params,
                self.missing_inputs,
                self.ignored_keys,
                self.trace,
            ),
        )

    def to_json(self, *, trace: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": RESULT_SCHEMA_VERSION,
            "household_id": self.household_id,
            "policy": self.policy.to_json(),
            "as_of": self.as_of.isoformat(),
            "values": self.values,
            "fired": list(self.fired),
            "undetermined": {k: list(v) for k, v in self.undetermined.items()},
            "params": [p.to_json() for p in self.params],
            "missing_inputs": list(self.missing_inputs),
            "ignored_keys": list(self.ignored_keys),
        }
        if trace and self.trace is not None:
            out["trace"] = self.trace.to_json()
        return out


_NO_LANE: Any = object()
_RESULT_FIELDS = tuple(f.name.lstrip("_") for f in attrs.fields(Result))


class Policy:
    """A loaded and checked policy.  Immutable after construction and thread-safe:
    every evaluation builds its own state.

    Load one with :func:`load_policy`.
    """

    def __init__(
        self,
        model: PolicyModel,
        checked: CheckResult,
        texts: Mapping[str, str],
        path: str,
    ) -> None:
        self.model = model
        self.checked = checked
        self.path = path
        self.plan = Plan(model, checked)
        # generated on first use; the interpreter (Evaluation) stays the ground truth
        self.compiled = CompiledEngine(self.plan)
        self._params_cache: dict[dt.date, Mapping[str, ParamBinding]] = {}
        # per evaluation date (no overrides): validator and compiled decision, back to back
        self._lanes: dict[dt.date, Lane | None] = {}
        self.schema = HouseholdSchema(model)
        root_dir = Path(path).parent
        digest = hashlib.sha256()
        for p, text in texts.items():
            try:
                rel = Path(p).relative_to(root_dir).as_posix()
            except ValueError:
                rel = Path(p).name
            digest.update(rel.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
        header = model.header
        version = model.meta("version")
        self.info = PolicyInfo(
            header.title if header is not None else Path(path).stem,
            str(version.value) if version is not None else None,
            "sha256:" + digest.hexdigest(),
            path,
        )
        self.default_as_of = default_as_of(model) or dt.date.today()

    # ------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str | None:
        return self.info.version

    @property
    def content_hash(self) -> str:
        return self.info.hash

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Warnings and notes the checker left (errors would have stopped loading)."""
        return self.checked.diagnostics

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return self.model.conclusion_ids

    def __repr__(self) -> str:
        return f"<Policy {self.name!r} {self.version or ''} {self.content_hash[:15]}>"

    # ------------------------------------------------------------ parameters
    def resolve_params(
        self, as_of: dt.date, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, ParamBinding]:
        """Each parameter's value in force on ``as_of``, with run-time overrides applied.

        An override is a plain value (``"8700"``, ``Decimal("8700")``) or a mapping
        ``{"value": …, "source": …, "effective": "2024-01-01"}``; keys are parameter
        names or labels.
        """
        bindings: dict[str, ParamBinding] = {}
        for name, decl in self.model.params.items():
            chosen = None
            for v in decl.values:
                if v.effective <= as_of:
                    chosen = v
            if chosen is None:
                bindings[name] = ParamBinding(name, None, None, decl.cite)
            else:
                bindings[name] = ParamBinding(
                    name, chosen.value.value, chosen.effective, chosen.cite or decl.cite
                )
        for key, raw in (overrides or {}).items():
            alias = self.model.aliases.get(key)
            if alias is None or alias[0] != "param":
                params = [n for n, k in self.model.aliases.items() if k[0] == "param"]
                hz, he = did_you_mean(key, params)
                raise ParameterError(
                    f"未知参数「{key}」{hz} / unknown parameter '{key}' {he}".strip()
                )
            name = alias[1]
            decl = self.model.params[name]
            source = "运行时覆盖 (run-time override)"
            effective: dt.date | None = as_of
            value = raw
            if isinstance(raw, Mapping):
                value = raw.get("value")
                source = str(raw.get("source") or source)
                if raw.get("effective"):
                    effective = _parse_date(str(raw["effective"]), name)
            bindings[name] = ParamBinding(
                name, _convert_param(self.model, decl, value), effective, source, True
            )
        unset = [n for n, b in bindings.items() if b.effective is None and not b.overridden]
        if unset:
            first = ", ".join(
                f"{n} ({self.model.params[n].values[0].effective})"
                for n in unset
                if self.model.params[n].values
            )
            raise ParameterError(
                f"评估日期 {as_of} 时以下参数还没有生效的取值: {first}; "
                "请换一个评估日期或用 --param 给出取值 / "
                f"on {as_of} these parameters have no value in force yet: {first}; "
                "choose another date or supply them with --param"
            )
        return bindings

    # ------------------------------------------------------------ evaluation
    def validate(
        self,
        data: object,
        *,
        source: str | None = None,
        row: int | None = None,
        ignore_extra: bool = False,
    ) -> Household:
        """Validate one household record against the declared input schema."""
        return self.schema.validate(data, source=source, row=row, ignore_extra=ignore_extra)

    def evaluate(
        self,
        household: Mapping[str, Any] | Household,
        as_of: dt.date | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        trace: bool = True,
        ignore_extra: bool = False,
        engine: Engine = "compiled",
    ) -> Result:
        """Evaluate one household.

        Raises :class:`~fanpin_rules.errors.HouseholdInputError` when the record breaks
        the schema; missing required inputs are not errors but make the conclusions
        that need them *undetermined*.  ``engine="interpreter"`` evaluates with the
        reference interpreter instead of the compiled code; the results are equal.
        """
        when = _as_date(as_of) if as_of is not None else self.default_as_of
        if type(household) is dict and not params and not ignore_extra and engine == "compiled":
            lane = self._lanes.get(when, _NO_LANE)
            if lane is _NO_LANE:
                lane = self._lane(when)
            if lane is not None:
                found = lane.run(household, trace)
                if found is not None:
                    hid, missing, out = found
                    return Result(
                        hid,
                        self.info,
                        when,
                        out.values,
                        out.fired,
                        out.undetermined,
                        out.params,
                        missing,
                        (),
                        out.trace,
                    )
        hh = (
            household
            if isinstance(household, Household)
            else self.schema.validate(household, ignore_extra=ignore_extra)
        )
        # the parameters in force on a date never change: each date is resolved once
        bindings = self.resolve_params(when, params) if params else self._bindings(when)
        return self.evaluate_validated(hh, when, bindings, trace=trace, engine=engine)

    def _lane(self, when: dt.date) -> Lane | None:
        """The lane for ``when`` (None: the ordinary path decides, e.g. a parameter has no
        value in force on that date and the ordinary path reports it)."""
        try:
            bindings = self._bindings(when)
        except FanpinError:
            return None
        lane = self.compiled.lane(when, bindings, self.schema._fast, self.schema._key_field)
        if len(self._lanes) >= 16:
            self._lanes.clear()
        self._lanes[when] = lane
        return lane

    def _bindings(self, when: dt.date) -> Mapping[str, ParamBinding]:
        """The parameters in force on ``when`` (resolved once per date)."""
        found = self._params_cache.get(when)
        if found is None:
            if len(self._params_cache) >= 64:
                self._params_cache.clear()
            found = self._params_cache[when] = MappingProxyType(self.resolve_params(when))
        return found

    def evaluate_validated(
        self,
        hh: Household,
        as_of: dt.date,
        bindings: Mapping[str, ParamBinding],
        *,
        trace: bool = True,
        engine: Engine = "compiled",
    ) -> Result:
        """Evaluate a validated household with resolved parameters (see :meth:`evaluate`)."""
        if engine == "compiled":
            out = self.compiled.run(hh, as_of, bindings, trace=trace)
            if out is not None:
                return Result(
                    hh.household_id,
                    self.info,
                    as_of,
                    out.values,
                    out.fired,
                    out.undetermined,
                    out.params,
                    tuple(hh.missing),
                    tuple(hh.ignored_keys),
                    out.trace,
                )
        elif engine != "interpreter":
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        ev = Evaluation(self.plan, hh, as_of, bindings)
        fired = ev.fired()
        undetermined = ev.undetermined()
        values = ev.values()
        tr = ev.trace() if trace else None
        return Result(
            hh.household_id,
            self.info,
            as_of,
            values,
            fired,
            undetermined,
            ev.param_uses(),
            tuple(hh.missing),
            tuple(hh.ignored_keys),
            tr,
        )


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(
            f"日期「{value}」格式不对, 应为 YYYY-MM-DD / bad date '{value}', use YYYY-MM-DD"
        ) from None


def _parse_date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"参数「{name}」的日期「{text}」格式不对, 应为 YYYY-MM-DD / "
            f"parameter '{name}': bad date '{text}', use YYYY-MM-DD"
        ) from None


def _convert_param(model: PolicyModel, decl: ast.ParamDecl, value: Any) -> Any:
    t = type_of_ref(model, decl.type)
    kind = t.kind if t is not None else "text"
    try:
        if kind in ("money", "number"):
            if isinstance(value, bool):
                raise InvalidOperation
            d = Decimal(str(value))
            if not d.is_finite() or (kind == "money" and d != d.quantize(Decimal("0.01"))):
                raise InvalidOperation
            return d
        if kind == "int":
            d = Decimal(str(value))
            if d != d.to_integral_value():
                raise InvalidOperation
            return int(d)
        if kind == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "是", "1"):
                return True
            if str(value).lower() in ("false", "否", "0"):
                return False
            raise ValueError
        return str(value)
    except (InvalidOperation, ValueError):
        shown = t.show() if t is not None else kind
        raise ParameterError(
            f"参数「{decl.name}」的值「{value}」不是{shown} / "
            f"parameter '{decl.name}': '{value}' is not a {t.show('en') if t else kind}"
        ) from None


# ---------------------------------------------------------------- loading


def _shipped_dirs() -> list[Path]:
    dirs: list[Path] = []
    try:
        packaged = resources.files("fanpin_rules") / "policies"
        if packaged.is_dir():
            dirs.append(Path(str(packaged)))
    except (FileNotFoundError, NotADirectoryError):
        pass
    here = Path(__file__).resolve().parents[2] / "policies"
    if here.is_dir():
        dirs.append(here)
    return dirs


def shipped_policies() -> list[str]:
    """Names of the policies shipped with the package (loadable by name)."""
    names: set[str] = set()
    for d in _shipped_dirs():
        names.update(p.stem for p in d.glob("*.policy"))
    return sorted(names)


def find_policy(path_or_name: str | Path) -> Path:
    """A policy file path, or the shipped policy of that name."""
    p = Path(path_or_name)
    if p.is_file():
        return p
    for d in _shipped_dirs():
        candidate = d / f"{path_or_name}.policy"
        if candidate.is_file():
            return candidate
    hz, he = did_you_mean(str(path_or_name), shipped_policies())
    raise PolicyLoadError(
        f"找不到政策「{path_or_name}」(既不是文件, 也不是内置政策){hz} / "
        f"policy '{path_or_name}' not found (neither a file nor a shipped policy) {he}".strip()
    )


def load_policy(path_or_name: str | Path) -> Policy:
    """Load, check and prepare a policy for evaluation.

    Raises :class:`PolicySyntaxError`, :class:`PolicyCheckError` (all findings at
    once) or :class:`PolicyLoadError`.
    """
    path = find_policy(path_or_name)
    modules, texts = load_modules(path)
    model, prior = build_model(modules)
    checked = run_checks(model, prior)
    if model.input is None:
        raise PolicyCheckError(
            [
                Diagnostic(
                    "F132",
                    "error",
                    "政策没有声明输入 (input)",
                    "the policy declares no input record",
                    None,
                    "加一行 input household key household_id",
                    "add a line: input household key household_id",
                )
            ]
        )
    return Policy(model, checked, texts, str(path))


def evaluate_all(
    policies: Sequence[Policy] | Iterable[Policy],
    household: Mapping[str, Any],
    as_of: dt.date | str | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    trace: bool = True,
    ignore_extra: bool = False,
) -> dict[str, Result]:
    """Evaluate several policies over one household record in one call.

    Each policy validates the record against its own schema and keeps its own
    results ("分别监测、分别管理"); ``params`` maps a policy name to its overrides.
    Two policies with the same name would overwrite each other's result, so that is
    refused.  A record that one policy rejects raises that policy's
    :class:`~fanpin_rules.errors.HouseholdInputError`.
    """
    out: dict[str, Result] = {}
    for policy in policies:
        if policy.name in out:
            raise ParameterError(
                f"两个政策同名「{policy.name}」, 结果会互相覆盖 / "
                f"two policies are named '{policy.name}'; their results would collide"
            )
        overrides = (params or {}).get(policy.name)
        out[policy.name] = policy.evaluate(
            household, as_of, overrides, trace=trace, ignore_extra=ignore_extra
        )
    return out
