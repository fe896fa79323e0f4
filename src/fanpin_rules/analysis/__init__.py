"""Static analysis of policies: gaps, overlaps, unreachable rows, dead rules, acknowledgements.

The analysis is exact for comparisons of numbers, money and dates with constants and
parameters, for enums, booleans and sets, and for ``any``/``all`` over a list of records
whose condition reads only the element; everything else is kept as an opaque condition and
said so in the output (F709).  It runs once per period of parameter values.

Modules, from the bottom up:

* :mod:`~fanpin_rules.analysis.values` — sets of values of one variable (intervals, enums, text);
* :mod:`~fanpin_rules.analysis.logic` — formulas over such variables and an exact solver;
* :mod:`~fanpin_rules.analysis.translate` — policy expressions to formulas, per period;
* :mod:`~fanpin_rules.analysis.findings` — the analyses of tables, rules and conditions;
* :mod:`~fanpin_rules.analysis.checker` — the checker pass, periods, diagnostics;
* :mod:`~fanpin_rules.analysis.acknowledge` — ``# 已确认 Fxxx: 理由`` comments.

The findings are documented in ``docs/errors.md`` (F701–F712).
"""
