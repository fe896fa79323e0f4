"""Run a benchmark script inside its own virtual environment under the work directory.

The peer engines and their dependencies (numpy, polars, zen-engine, OpenFisca …) are
benchmark-only: they never enter the project's dependencies.  ``ensure_venv`` creates
``WORK/.venv`` once, installs ``benchmarks/requirements.txt`` and this repository
(editable) into it, and re-executes the calling script with that interpreter.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in (HERE / "requirements.txt", REPO / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(work: Path, argv: list[str]) -> None:
    """Re-execute ``argv`` with ``WORK/.venv/bin/python`` (created on first use)."""
    venv = work / ".venv"
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    stamp = venv / ".fanpin-bench-stamp"
    if not python.exists() or not stamp.exists() or stamp.read_text() != _stamp():
        print(f"setting up the benchmark environment in {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-r", str(HERE / "requirements.txt")], check=True)
        subprocess.run([*pip, "-e", str(REPO)], check=True)
        stamp.write_text(_stamp())
    os.execv(str(python), [str(python), *argv])
