"""'Did you mean …?' suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], n: int = 1) -> list[str]:
    """Closest candidates to ``word``; works for Chinese and ASCII names alike.

    >>> closest("人均收入", ["人均纯收入", "家庭纯收入", "户编号"])
    ['人均纯收入']
    """
    pool = sorted(set(candidates))
    # Chinese names are short: one wrong character in two is still a likely typo.
    cutoff = 0.5 if len(word) <= 4 else 0.6
    found = difflib.get_close_matches(word, pool, n=n, cutoff=cutoff)
    if not found:
        # Chinese names are short; containment is a strong signal.
        found = [c for c in pool if word and (word in c or c in word)][:n]
    return found


def did_you_mean(word: str, candidates: Iterable[str]) -> tuple[str, str]:
    """Hint text in Chinese and English, or empty strings."""
    found = closest(word, candidates)
    if not found:
        return "", ""
    return f"是不是「{found[0]}」?", f"did you mean '{found[0]}'?"
