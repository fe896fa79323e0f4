"""Static analysis of policies: gaps, overlaps, unreachable rows, dead rules, acknowledgements.

The package reasons exactly about comparisons of numbers, money and dates with constants
and parameters, about enums, booleans and sets; everything else is kept as an opaque
condition and said so in the output.  See :mod:`fanpin_rules.analysis.checker` for the
checker pass and ``docs/errors.md`` (F7xx) for the findings.
"""
