#!/usr/bin/env python3
"""Households per second with the full trace, interpreter and compiled engine.

Times ``policy.evaluate(record, trace=True)`` one household at a time (validation,
evaluation, trace, ``Result``) on the reference ruleset (``benchmarks/reference_ruleset.policy``,
households from ``shared/bench/gen_households.py``, seed 20240601) and on the shipped policy
``ewenki_2024q2`` (``examples/households.jsonl``), for both engines, and prints the median of
``--reps`` repetitions.  Traces are built lazily (``Result.trace`` builds the ``Trace`` from
what the compiled code recorded when it is first read), so each engine is timed three ways:

* ``no``: ``trace=False``;
* ``recorded``: ``trace=True`` alone (the compiled engine only records its values);
* ``built``: ``trace=True`` and ``result.trace`` read (recorded and built: the full cost of
  a trace).  The interpreter builds its trace the same way, so its two figures are close.

Runs in the project's own environment (no peer engines)::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_trace.py [--n 2000] [--reps 3]
    PYTHONPATH=src .venv/bin/python benchmarks/bench_trace.py --profile reference

``--profile reference|shipped`` prints a cProfile of the compiled engine with the trace
recorded and built instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_BENCH = Path(os.environ.get("FANPIN_SHARED_BENCH", REPO.parent / "shared" / "bench"))
sys.path.insert(0, str(REPO / "src"))


def reference_households(n: int) -> list[dict[str, Any]]:
    """``shared/bench/gen_households.py`` when numpy is there, else a pure-Python draw
    of the same shape (thresholds hit exactly now and then)."""
    sys.path.insert(0, str(SHARED_BENCH))
    try:
        import gen_households  # shared/bench (needs numpy)

        return list(gen_households.to_records(gen_households.generate(n)))[:n]
    except ImportError:
        pass
    rng = random.Random(20240601)
    rows = []
    for i in range(n):
        size = rng.choices(range(1, 9), [10, 17, 22, 22, 14, 8, 4, 3])[0]
        net = rng.lognormvariate(9.723, 0.5) * size
        expense = int(rng.uniform(0.10, 0.45) * net) if rng.random() < 0.55 else 0
        gross = net + expense
        shares = [rng.gammavariate(a, 1) for a in (2.0, 4.0, 0.4, 1.2)]
        total = sum(shares)
        inc = [int(gross * s / total) for s in shares]
        if rng.random() < 0.01:  # per-capita net exactly on the line
            inc[1] = max(0, 8300 * size + expense - inc[0] - inc[2] - inc[3])
        labor = sum(rng.random() < 0.55 for _ in range(size))
        monitored = rng.random() < 0.10
        rows.append(
            {
                "household_id": f"H{i:07d}",
                "village": f"村{rng.randrange(200):03d}",
                "size": size,
                "income_production": inc[0],
                "income_wage": inc[1],
                "income_property": inc[2],
                "income_transfer": inc[3],
                "expense_production": expense,
                "medical_selfpaid": 10000
                if rng.random() < 0.01
                else int(rng.lognormvariate(7.313, 1.1)),
                "labor_capable_count": 0 if rng.random() < 0.10 else labor,
                "weak_labor_count": rng.randrange(0, 2),
                "has_willingness": rng.random() < 0.92,
                "housing_safe": rng.random() >= 0.015,
                "drinking_water_safe": rng.random() >= 0.010,
                "compulsory_education_ok": rng.random() >= 0.010,
                "basic_medical_insured": rng.random() >= 0.005,
                "is_poverty_alleviated": rng.random() < 0.30,
                "is_monitored": monitored,
                "risk_eliminated": monitored and rng.random() < 0.5,
                "income_drop_ratio": (
                    0.3 if rng.random() < 0.01 else round(rng.betavariate(1.2, 8), 3)
                ),
                "severe_disability_count": rng.randrange(1, 3) if rng.random() < 0.04 else 0,
                "on_dibao": rng.random() < 0.06,
            }
        )
    return rows


def shipped_households(n: int) -> list[dict[str, Any]]:
    with open(REPO / "examples" / "households.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:n]


def time_one(
    policy: Any, rows: list[dict[str, Any]], *, trace: bool, engine: str, build: bool = False
) -> float:
    """Households per second; ``build``: read ``result.trace`` (builds the Trace)."""
    evaluate = policy.evaluate
    for hh in rows[:20]:  # warm up (code generation, bindings, per-policy trace caches)
        r = evaluate(hh, trace=trace, engine=engine)
        if build:
            _ = r.trace
    if build:
        t0 = time.perf_counter()
        for hh in rows:
            _ = evaluate(hh, trace=True, engine=engine).trace
        return len(rows) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for hh in rows:
        evaluate(hh, trace=trace, engine=engine)
    return len(rows) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="households per policy")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--profile", choices=("reference", "shipped"))
    args = ap.parse_args(argv)

    from fanpin_rules import load_policy

    cases = {
        "reference": (HERE / "reference_ruleset.policy", reference_households),
        "shipped": ("ewenki_2024q2", shipped_households),
    }
    if args.profile:
        path, gen = cases[args.profile]
        policy = load_policy(path)
        rows = gen(args.n)
        time_one(policy, rows[:50], trace=True, engine="compiled", build=True)
        prof = cProfile.Profile()
        prof.enable()
        for hh in rows:
            _ = policy.evaluate(hh, trace=True).trace
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        return 0

    print(f"{'policy':<10} {'engine':<12} {'trace':<9} {'hh/s':>10} {'µs/hh':>9}")
    modes = (("built", True, True), ("recorded", True, False), ("no", False, False))
    for label, (path, gen) in cases.items():
        policy = load_policy(path)
        rows = gen(args.n)
        for engine in ("compiled", "interpreter"):
            for mode, trace, build in modes:
                rates = [
                    time_one(policy, rows, trace=trace, engine=engine, build=build)
                    for _ in range(args.reps)
                ]
                rate = statistics.median(rates)
                print(
                    f"{label:<10} {engine:<12} {mode:<9} {rate:>10,.0f} {1e6 / rate:>9.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
