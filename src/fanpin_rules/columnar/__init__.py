"""Columnar engines: a checked policy lowered to SQL over a table of households.

The lowering (:mod:`~fanpin_rules.columnar.lower`) turns every let, decision table and rule
into SQL expressions that carry SPEC §5's *unknown* (with the missing inputs) and §8's
*absent* beside each value, so the results equal the reference evaluator's ``fired``,
``undetermined`` and ``values``.  DuckDB runs it embedded
(:class:`~fanpin_rules.columnar.engine.ColumnarEngine`); :mod:`fanpin_rules.spark` runs the
same lowered expressions on Apache Spark.  See docs/engines.md.
"""

from __future__ import annotations

from fanpin_rules.columnar.engine import ColumnarEngine, Counts, evaluate_table
from fanpin_rules.columnar.lower import Lowered, LoweringError, lower_policy
from fanpin_rules.columnar.schema import InputSchemaError, arrow_schema, households_to_arrow

__all__ = [
    "ColumnarEngine",
    "Counts",
    "InputSchemaError",
    "Lowered",
    "LoweringError",
    "arrow_schema",
    "evaluate_table",
    "households_to_arrow",
    "lower_policy",
]
