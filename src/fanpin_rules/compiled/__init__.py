"""Support code for the compiled evaluator (:mod:`fanpin_rules.compiler`).

``runtime`` holds the helpers the generated code calls where three-valued logic or an
absent input needs more than a Python operator; ``tracegen`` generates the code that
records a decision trace.  Both mirror :mod:`fanpin_rules.evaluator`, the ground truth.
"""
