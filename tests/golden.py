"""Golden files: input and expected output side by side, refreshed by a flag.

A golden ``.policy`` case holds the policy text, then a line ``# expected`` followed by
the expected rendering, every line prefixed with ``# `` (so the file stays a valid
policy for editors).  ``pytest --update-goldens`` rewrites the block; review the diff.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "# expected"


def split(path: Path) -> tuple[str, str | None]:
    text = path.read_text("utf-8")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.rstrip("\n") == MARKER:
            body = "".join(lines[:i])
            expected = "".join(
                ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines[i + 1 :]
            )
            return body, expected.rstrip("\n") + "\n"
    return text, None


def check(path: Path, actual: str, update: bool) -> None:
    body, expected = split(path)
    actual = actual.rstrip("\n") + "\n"
    if update:
        block = "".join(
            ("# " + ln if ln.strip() else "#") + "\n" for ln in actual.rstrip("\n").split("\n")
        )
        if not body.endswith("\n"):
            body += "\n"
        path.write_text(body + MARKER + "\n" + block, "utf-8")
        return
    assert expected is not None, f"{path} has no '{MARKER}' block; run pytest --update-goldens"
    assert actual == expected, f"golden mismatch in {path} (run pytest --update-goldens)"
