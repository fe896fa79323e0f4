#!/usr/bin/env python3
"""fanpin_rules against hand-written Python and the peer engines, side by side, in one process.

The reference ruleset of ``shared/bench/RULESET.md`` is written as a policy
(``benchmarks/reference_ruleset.policy``).  This script

1. creates (once) a virtual environment ``WORK/.venv`` with the peer engines of
   ``benchmarks/requirements.txt`` and this repository, and re-runs itself in it;
2. generates the households with ``shared/bench/gen_households.py`` (seed 20240601);
3. checks that every engine, fanpin included, gives the canonical answer of
   ``shared/bench/engines/plain_python.py`` on every household — and stops if one does not;
4. times every configuration ``--reps`` times in this one process, rotating the order between
   repetitions so that drift of the machine is shared, and prints the median households per
   second and the ratio to hand-written Python; the raw figures go to
   ``WORK/out/bench_reference.jsonl``.  Loading (``load()``) is timed apart and ends with a
   garbage collection, so that collecting what loading allocated is not paid inside the
   timed evaluation.

fanpin is timed as an integrator would call it, one household at a time through the public
API (``policy.evaluate(record)``: validation, evaluation, the ``Result``), with the full trace
and without it; the reference interpreter and the evaluation of already validated households
are shown for comparison.

Usage::

    python benchmarks/bench_reference.py --work /tmp/fanpin-bench [--n 10000] [--reps 5]

``--quick`` (1,000 households, 2 repetitions, no pyDMNrules) is a smoke test.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_BENCH = Path(os.environ.get("FANPIN_SHARED_BENCH", REPO.parent / "shared" / "bench"))
POLICY = HERE / "reference_ruleset.policy"


# ---------------------------------------------------------------- fanpin as an "engine"


class Fanpin:
    """fanpin_rules with the interface of ``shared/bench/engines`` (load / evaluate / canonical)."""

    KIND = "row"

    def __init__(
        self,
        name: str,
        *,
        trace: bool,
        engine: str,
        prevalidated: bool = False,
        read_trace: bool = False,
    ) -> None:
        self.NAME = name
        self.HAS_TRACE = trace
        self.trace = trace
        self.engine = engine
        self.prevalidated = prevalidated
        self.read_trace = read_trace  # build the Trace object of every result, too

    def load(self, trace: bool = False) -> Any:
        from fanpin_rules import load_policy

        policy = load_policy(POLICY)
        as_of = policy.default_as_of
        bindings = policy.resolve_params(as_of)
        if self.engine == "compiled":  # generate the code now: loading is timed apart
            assert policy.compiled.bound(as_of, bindings) is not None
        return policy, as_of, bindings

    def evaluate(self, state: Any, data: Sequence[Any]) -> list[Any]:
        policy, as_of, bindings = state
        trace, engine = self.trace, self.engine
        if self.prevalidated:
            run = policy.evaluate_validated
            return [run(hh, as_of, bindings, trace=trace, engine=engine) for hh in data]
        evaluate = policy.evaluate
        if self.read_trace:
            out = [evaluate(h, trace=trace, engine=engine) for h in data]
            for r in out:
                assert r.trace is not None
            return out
        return [evaluate(h, trace=trace, engine=engine) for h in data]

    @staticmethod
    def canonical(raw: Sequence[Any]) -> list[tuple[Any, ...]]:
        out = []
        for r in raw:
            v = r.values
            out.append(
                (
                    v["identify"],
                    tuple(v["reasons"]),
                    v["classification"],
                    "C-1" in r.fired,
                    "D-1" in r.fired,
                )
            )
        return out


FANPIN = {
    "fanpin.trace": Fanpin("fanpin (public API, trace recorded)", trace=True, engine="compiled"),
    "fanpin.trace.built": Fanpin(
        "fanpin (public API, trace recorded and built)",
        trace=True,
        engine="compiled",
        read_trace=True,
    ),
    "fanpin": Fanpin("fanpin (public API, no trace)", trace=False, engine="compiled"),
    "fanpin.validated": Fanpin(
        "fanpin (validated households, no trace)",
        trace=False,
        engine="compiled",
        prevalidated=True,
    ),
    "fanpin.interpreter": Fanpin(
        "fanpin interpreter (public API, no trace)", trace=False, engine="interpreter"
    ),
    "fanpin.interpreter.trace": Fanpin(
        "fanpin interpreter (public API, full trace)", trace=True, engine="interpreter"
    ),
}

PEERS = [
    "plain_python",
    "numpy_vec",
    "polars_vec",
    "openfisca",
    "zen",
    "zen_engine",
    "zen_batch",
    "business_rules",
    "rule_engine",
    "json_logic",
    "pydmnrules",
]


# ---------------------------------------------------------------- configurations


class Config:
    def __init__(self, key: str, module: Any, trace: bool, limit: int | None) -> None:
        self.key = key
        self.module = module
        self.trace = trace
        self.limit = limit  # time only the first ``limit`` households (the slow engines)

    @property
    def label(self) -> str:
        name = str(self.module.NAME)
        if self.trace and not name.startswith("fanpin"):
            name += " + trace"
        return name


def configurations(args: argparse.Namespace) -> list[Config]:
    out: list[Config] = []
    for key in PEERS:
        if key == "pydmnrules" and args.dmn == 0:
            continue
        module = importlib.import_module("engines." + key)
        limit = args.dmn if key == "pydmnrules" else None
        out.append(Config(key, module, False, limit))
        if module.HAS_TRACE:
            out.append(Config(key + ".trace", module, True, limit))
    import handwritten_exact  # benchmarks/: the same work as fanpin, written by hand

    out.append(Config("handwritten_exact", handwritten_exact, False, None))
    for key, engine in FANPIN.items():
        limit = args.interpreter_n if engine.engine == "interpreter" and engine.trace else None
        out.append(Config(key, engine, engine.trace, limit))
    return out


# ---------------------------------------------------------------- data


def households(n: int) -> dict[str, Any]:
    """The data in each engine's input form: rows (dicts), numpy columns, a polars frame."""
    import gen_households  # shared/bench

    cols = gen_households.generate(n)
    rows = gen_households.to_records(cols)
    data: dict[str, Any] = {"row": rows, "numpy": cols}
    try:
        import polars

        data["polars"] = polars.DataFrame(cols)
    except ImportError:  # pragma: no cover - the benchmark venv has polars
        pass
    return data


def engine_input(config: Config, data: dict[str, Any], validated: list[Any] | None) -> Any:
    module = config.module
    rows = validated if isinstance(module, Fanpin) and module.prevalidated else data[module.KIND]
    if config.limit is not None:
        if module.KIND != "row":
            raise ValueError("a limit applies to row engines only")
        rows = rows[: config.limit]  # type: ignore[index]
    return rows


def size_of(rows: Any) -> int:
    if isinstance(rows, dict):
        return len(next(iter(rows.values())))
    return len(rows)


# ---------------------------------------------------------------- run


def check(configs: Sequence[Config], data: dict[str, Any], validated: list[Any]) -> None:
    from engines import plain_python

    reference = [plain_python.decide(h) for h in data["row"]]
    print(f"agreement with hand-written Python on {len(reference):,} households:", flush=True)
    for config in configs:
        rows = engine_input(config, data, validated)
        n = size_of(rows)
        state = config.module.load(config.trace)
        got = config.module.canonical(config.module.evaluate(state, rows))
        bad = [i for i, (g, r) in enumerate(zip(got, reference, strict=False)) if g != r]
        status = "ok" if not bad and len(got) == n else f"{len(bad)} DISAGREE, e.g. #{bad[:3]}"
        print(f"  {config.label:<48} {n:>9,} {status}", flush=True)
        if bad or len(got) != n:
            i = bad[0] if bad else 0
            print(f"    household {i}: got {got[i]!r}, expected {reference[i]!r}")
            raise SystemExit("an engine disagrees: no timing")


def time_all(
    configs: Sequence[Config], data: dict[str, Any], validated: list[Any], reps: int
) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {c.key: [] for c in configs}
    for rep in range(reps):
        k = rep % len(configs)
        for config in [*configs[k:], *configs[:k]]:
            rows = engine_input(config, data, validated)
            gc.collect()
            t0 = time.perf_counter()
            state = config.module.load(config.trace)
            # what loading allocated is collected now and charged to loading: otherwise the
            # collector's first full passes over it fall inside the timed evaluation
            gc.collect()
            t1 = time.perf_counter()
            config.module.evaluate(state, rows)
            t2 = time.perf_counter()
            n = size_of(rows)
            runs[config.key].append({"n": n, "load_s": t1 - t0, "eval_s": t2 - t1})
            print(
                f"  rep {rep + 1}/{reps} {config.label:<48} {n / (t2 - t1):>12,.0f} hh/s",
                flush=True,
            )
    return runs


def report(
    configs: Sequence[Config], runs: dict[str, list[dict[str, float]]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    def rate(key: str) -> float:
        return statistics.median(r["n"] / r["eval_s"] for r in runs[key])

    plain = rate("plain_python")
    rows = []
    for config in configs:
        rs = runs[config.key]
        rates = [r["n"] / r["eval_s"] for r in rs]
        rows.append(
            {
                "key": config.key,
                "engine": config.label,
                "n": rs[0]["n"],
                "hh_per_s": statistics.median(rates),
                "min": min(rates),
                "max": max(rates),
                "ratio_vs_plain": statistics.median(rates) / plain,
                "us_per_hh": 1e6 / statistics.median(rates),
                "load_s": statistics.median(r["load_s"] for r in rs),
                "reps": len(rs),
            }
        )
    rows.sort(key=lambda r: -r["hh_per_s"])
    print()
    print("| engine | N | hh/s (median) | × plain Python | µs/hh | min–max hh/s | load s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['n']:,} | {r['hh_per_s']:,.0f} | {r['ratio_vs_plain']:.3g} "
            f"| {r['us_per_hh']:.1f} | {r['min']:,.0f}–{r['max']:,.0f} | {r['load_s']:.3g} |"
        )
    by_key = {r["key"]: r for r in rows}
    fan_trace = by_key["fanpin.trace"]["hh_per_s"]
    fan_built = by_key["fanpin.trace.built"]["hh_per_s"]
    fan = by_key["fanpin"]["hh_per_s"]
    exact = by_key["handwritten_exact"]["hh_per_s"]
    row_peers = [
        r
        for r in rows
        if not r["key"].startswith(("fanpin", "plain_python", "handwritten"))
        and importlib.import_module("engines." + r["key"].split(".")[0]).KIND == "row"
    ]
    print()
    for label, v in (
        ("fanpin, trace recorded:          ", fan_trace),
        ("fanpin, trace recorded and built:", fan_built),
        ("fanpin, without trace:           ", fan),
    ):
        print(
            f"{label} {v:,.0f} hh/s = plain Python ÷ {plain / v:.1f} "
            f"= hand-written validated+exact ÷ {exact / v:.2f}"
        )
    if row_peers:
        best = max(row_peers, key=lambda r: r["hh_per_s"])
        print(
            f"fastest one-at-a-time peer: {best['engine']} {best['hh_per_s']:,.0f} hh/s; "
            f"fanpin with trace recorded is ×{fan_trace / best['hh_per_s']:.2f} of it, "
            f"with trace built ×{fan_built / best['hh_per_s']:.2f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MB; Python {platform.python_version()}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="work directory (venv, outputs)")
    ap.add_argument("--n", type=int, default=10_000, help="households (default 10,000)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5)")
    ap.add_argument("--dmn", type=int, default=300, help="households for pyDMNrules (0: skip)")
    ap.add_argument(
        "--interpreter-n", type=int, default=2_000, help="households for the traced interpreter"
    )
    ap.add_argument("--quick", action="store_true", help="1,000 households, 2 repetitions")
    ap.add_argument("--no-venv", action="store_true", help="run in the current interpreter")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_venv:
        from _venv import ensure_venv

        ensure_venv(work, [str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
    if args.quick:
        args.n, args.reps, args.dmn, args.interpreter_n = 1_000, 2, 0, 500
    os.environ["BENCH_WORK"] = str(work)  # where the peers write their rule files
    (work / "rules").mkdir(exist_ok=True)
    sys.path.insert(0, str(SHARED_BENCH))
    print(f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()}")
    data = households(args.n)
    configs = configurations(args)
    from fanpin_rules import load_policy

    policy = load_policy(POLICY)
    validated = [policy.validate(h) for h in data["row"]]
    check(configs, data, validated)
    print(f"\ntiming {len(configs)} configurations × {args.reps} repetitions:", flush=True)
    runs = time_all(configs, data, validated, args.reps)
    rows = report(configs, runs, args)
    out = work / "out"
    out.mkdir(exist_ok=True)
    with (out / "bench_reference.jsonl").open("a", encoding="utf-8") as f:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        for r in rows:
            f.write(json.dumps({"at": stamp, **r}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
