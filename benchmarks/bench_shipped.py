#!/usr/bin/env python3
"""The shipped policy (ewenki_2024q2) over 10,000 and 100,000 generated households.

For each size, every configuration runs in a fresh process (so that its peak memory is its
own) and streams the households from a JSON Lines file: read a line, ``json.loads`` (decimals
exact), ``policy.evaluate(record)``, ``json.dumps(result.to_json())``, write a line — the
work of ``fanpin evaluate`` without its file formats.  Printed: households per second end
to end and the peak resident memory of the process.  The households come from
``examples/generate_households.py``: one generated banner holds at most a few thousand
households (its villages' counts of 脱贫户 and monitored households cap a roster), so N
households are N / 2,000 rosters with seeds 20240605, 20240606, … (like the banners of a
province), generated once into ``WORK/data``.

Configurations: the compiled engine without trace (every size), the reference interpreter
without trace and both engines with the full trace (on the first ``--sample`` households,
since they are slow), and an in-memory breakdown on the first 10,000 households (validation,
compiled decision, Result).

Usage::

    python benchmarks/bench_shipped.py --work /tmp/fanpin-bench [--sizes 10000,100000]

The 1,000,000-household Parquet end-to-end figure belongs to the columnar engine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


ROSTER = 2_000  # households of one generated banner (its villages cap a roster's size)


def data_file(work: Path, n: int) -> Path:
    """``n`` households: rosters of 2,000 with seeds DEFAULT_SEED, +1, …, ids made unique."""
    path = work / "data" / f"ewenki_{n}.jsonl"
    if not path.exists():
        sys.path.insert(0, str(REPO / "examples"))
        import generate_households as gen

        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for k in range((n + ROSTER - 1) // ROSTER):
                records = gen.generate(min(ROSTER, n - k * ROSTER), gen.DEFAULT_SEED + k)
                if k:
                    for r in records:
                        r["household_id"] = f"{r['household_id']}-{k}"
                f.write(gen.dumps_jsonl(records))
        tmp.replace(path)
        print(f"  generated {n:,} households in {time.perf_counter() - t0:.0f} s → {path}")
    return path


# ---------------------------------------------------------------- child: one configuration


def child(path: Path, out: Path, engine: str, trace: bool, limit: int | None) -> dict[str, Any]:
    from fanpin_rules import HouseholdInputError, load_policy

    t0 = time.perf_counter()
    policy = load_policy("ewenki_2024q2")
    if engine == "compiled":  # code generation counts as loading
        as_of = policy.default_as_of
        assert policy.compiled.bound(as_of, policy.resolve_params(as_of)) is not None
    t1 = time.perf_counter()
    n = rejected = 0
    with path.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            if limit is not None and n + rejected >= limit:
                break
            record = json.loads(line, parse_float=Decimal)
            try:
                result = policy.evaluate(record, trace=trace, engine=engine)  # type: ignore[arg-type]
            except HouseholdInputError:
                rejected += 1
                continue
            dst.write(json.dumps(result.to_json(trace=trace), ensure_ascii=False) + "\n")
            n += 1
    t2 = time.perf_counter()
    return {
        "engine": engine,
        "trace": trace,
        "n": n + rejected,
        "rejected": rejected,
        "load_s": round(t1 - t0, 3),
        "run_s": round(t2 - t1, 3),
        "hh_per_s": round((n + rejected) / (t2 - t1), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def breakdown(path: Path, limit: int) -> dict[str, Any]:
    """Where the time of one household goes (in memory, first ``limit`` households)."""
    from fanpin_rules import load_policy

    policy = load_policy("ewenki_2024q2")
    with path.open(encoding="utf-8") as f:
        records = [
            json.loads(line, parse_float=Decimal) for _, line in zip(range(limit), f, strict=False)
        ]
    as_of = policy.default_as_of
    bindings = policy.resolve_params(as_of)
    bound = policy.compiled.bound(as_of, bindings)
    assert bound is not None

    def per_hh(fn: Any, items: list[Any]) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            fn(items)
            best = min(best, time.perf_counter() - t0)
        return round(best / len(items) * 1e6, 1)

    validated = [policy.validate(r) for r in records]
    few = validated[: max(1, limit // 10)]
    return {
        "n": len(records),
        "validate_us": per_hh(lambda xs: [policy.validate(r) for r in xs], records),
        "compiled_decision_us": per_hh(lambda xs: [bound.decide(h) for h in xs], validated),
        "compiled_result_us": per_hh(
            lambda xs: [policy.evaluate_validated(h, as_of, bindings, trace=False) for h in xs],
            validated,
        ),
        "interpreter_result_us": per_hh(
            lambda xs: [
                policy.evaluate_validated(h, as_of, bindings, trace=False, engine="interpreter")
                for h in xs
            ],
            few,
        ),
        "to_json_dumps_us": per_hh(
            lambda xs: [json.dumps(r.to_json(trace=False), ensure_ascii=False) for r in xs],
            [policy.evaluate_validated(h, as_of, bindings, trace=False) for h in validated],
        ),
    }


# ---------------------------------------------------------------- parent


def run_child(args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--no-venv", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode != 0 or not lines:
        raise SystemExit(f"child failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--sample", type=int, default=1_000, help="households for the slow runs")
    ap.add_argument("--no-venv", action="store_true", help="run in the current interpreter")
    ap.add_argument("--child", nargs=4, metavar=("FILE", "ENGINE", "TRACE", "LIMIT"))
    ap.add_argument("--breakdown", nargs=2, metavar=("FILE", "LIMIT"))
    args = ap.parse_args(argv)
    work = args.work.resolve()
    if args.child:
        path, engine, trace, limit = args.child
        out = work / "out" / f"decisions_{Path(path).stem}_{engine}_{trace}.jsonl"
        lim = int(limit) or None
        print(json.dumps(child(Path(path), out, engine, trace == "trace", lim)))
        return 0
    if args.breakdown:
        print(json.dumps(breakdown(Path(args.breakdown[0]), int(args.breakdown[1]))))
        return 0
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_venv:
        sys.path.insert(0, str(HERE))
        from _venv import ensure_venv

        ensure_venv(work, [str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
    (work / "out").mkdir(exist_ok=True)
    print(f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()}")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    for n in sizes:
        path = data_file(work, n)
        plan = [("compiled", "plain", 0)]
        if n == min(sizes):
            plan += [
                ("interpreter", "plain", args.sample),
                ("compiled", "trace", args.sample),
                ("interpreter", "trace", args.sample),
            ]
        for engine, trace, limit in plan:
            r = run_child(["--work", str(work), "--child", str(path), engine, trace, str(limit)])
            r["file_n"] = n
            rows.append(r)
            print(
                f"  N={n:>7,} {engine:<11} {'trace' if r['trace'] else 'no trace':<8} "
                f"{r['n']:>7,} hh {r['hh_per_s']:>9,.0f} hh/s  peak {r['peak_rss_mb']:>6,.0f} MB "
                f"(load {r['load_s']} s, rejected {r['rejected']})",
                flush=True,
            )
    first = data_file(work, min(sizes))
    b = run_child(["--work", str(work), "--breakdown", str(first), str(min(10_000, min(sizes)))])
    print("\nper household, in memory (µs, best of 3):", json.dumps(b))
    print("\n| N | engine | trace | households timed | hh/s end to end | peak RSS MB |")
    print("|---:|---|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['file_n']:,} | {r['engine']} | {'yes' if r['trace'] else 'no'} | {r['n']:,} "
            f"| {r['hh_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )
    with (work / "out" / "bench_shipped.jsonl").open("a", encoding="utf-8") as f:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        for r in [*rows, {"breakdown": b}]:
            f.write(json.dumps({"at": stamp, **r}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
