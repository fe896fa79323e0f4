#!/usr/bin/env python3
"""Input validation, µs per household: the pydantic path against the generated fast path.

``HouseholdSchema.validate`` answers a valid record with plain-Python code generated from the
policy's records and hands anything unusual to the pydantic models (the only source of error
messages). This times both on the same records, in one process, median of ``--reps``:

* the shipped policy ``ewenki_2024q2`` on ``examples/households.jsonl`` read with ``json.loads``
  (money as float) and with ``parse_float=Decimal`` (as ``fanpin evaluate`` reads JSON Lines);
* the reference ruleset (``benchmarks/reference_ruleset.policy``, households as in
  ``bench_trace.py``);

and ``policy.evaluate(record, trace=False)`` end to end with each path::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_validation.py [--n 2000] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(HERE))


def shipped(n: int, decimals: bool) -> list[dict[str, Any]]:
    with open(REPO / "examples" / "households.jsonl", encoding="utf-8") as f:
        lines = [line for line in f if line.strip()][:n]
    if decimals:
        return [json.loads(line, parse_float=Decimal) for line in lines]
    return [json.loads(line) for line in lines]


def per_household(run: Callable[[dict[str, Any]], object], rows: list[dict[str, Any]]) -> float:
    for hh in rows[:20]:
        run(hh)
    t0 = time.perf_counter()
    for hh in rows:
        run(hh)
    return (time.perf_counter() - t0) / len(rows) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="households per case")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)

    from bench_trace import reference_households

    from fanpin_rules import load_policy

    ewenki = load_policy("ewenki_2024q2")
    reference = load_policy(HERE / "reference_ruleset.policy")
    cases = [
        ("ewenki_2024q2, households.jsonl (json.loads)", ewenki, shipped(args.n, False)),
        ("ewenki_2024q2, households.jsonl (parse_float=Decimal)", ewenki, shipped(args.n, True)),
        ("reference ruleset", reference, reference_households(args.n)),
    ]
    print(f"{args.n} households per case, median of {args.reps}; µs per household")
    print(f"{'case':<56} {'stage':<22} {'pydantic':>9} {'fast':>9} {'×':>6}")
    for name, policy, rows in cases:
        schema = policy.schema
        fast = schema._fast
        for stage, run in (
            ("validate", schema.validate),
            ("evaluate, no trace", lambda hh, p=policy: p.evaluate(hh, trace=False)),
        ):
            times: dict[str, list[float]] = {"pydantic": [], "fast": []}
            for _ in range(args.reps):
                for path in ("pydantic", "fast"):
                    schema._fast = None if path == "pydantic" else fast
                    try:
                        times[path].append(per_household(run, rows))
                    finally:
                        schema._fast = fast
            before = statistics.median(times["pydantic"])
            after = statistics.median(times["fast"])
            print(f"{name:<56} {stage:<22} {before:9.1f} {after:9.1f} {before / after:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
