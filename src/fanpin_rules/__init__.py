"""fanpin_rules: a rules engine with a decision-table language for social-assistance
policy, producing explained decisions.

>>> import fanpin_rules
>>> policy = fanpin_rules.load_policy("examples/language_tour.policy")
>>> result = policy.evaluate({"household_id": "H-1", "size": 2, "income": "16000",
...                           "members": [{"age": 40, "able": True}]})
>>> result.values["per_capita"], "X-1" in result.fired
('8000.00', True)
"""

from __future__ import annotations

from fanpin_rules.batch import evaluate_batch
from fanpin_rules.errors import (
    Diagnostic,
    EvaluationError,
    FanpinError,
    HouseholdInputError,
    InputIssue,
    PolicyCheckError,
    PolicyLoadError,
    PolicySyntaxError,
)
from fanpin_rules.household import Household
from fanpin_rules.policy import (
    RESULT_SCHEMA_VERSION,
    ParameterError,
    Policy,
    PolicyInfo,
    Result,
    evaluate_all,
    load_policy,
    shipped_policies,
)
from fanpin_rules.trace import Trace

__version__ = "0.1.0"

__all__ = [
    "RESULT_SCHEMA_VERSION",
    "Diagnostic",
    "EvaluationError",
    "FanpinError",
    "Household",
    "HouseholdInputError",
    "InputIssue",
    "ParameterError",
    "Policy",
    "PolicyCheckError",
    "PolicyInfo",
    "PolicyLoadError",
    "PolicySyntaxError",
    "Result",
    "Trace",
    "__version__",
    "evaluate_all",
    "evaluate_batch",
    "load_policy",
    "shipped_policies",
]
