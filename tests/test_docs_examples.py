"""Every example in the documentation runs as written.

* Each fenced block with the info string ``policy`` in ``docs/language.md`` and
  ``docs/api.md`` parses on its own with :func:`fanpin_rules.parser.parse`.
* A block whose first line is ``# check`` is a complete policy: it is written to a
  temporary file, loaded with :func:`fanpin_rules.load_policy` (so the checker runs),
  must leave no warnings, and its ``example``s must pass.
* A block whose first line is ``# 片段`` (a fragment) is also checked: it is appended to
  the complete block that declares itself ``# 共用声明`` (shared declarations) — the
  nearest one above it, else the first one in the document — and the whole is loaded,
  with the same requirements: no warnings, passing examples.
* The ``python`` blocks of each document form one doctest session (``>>>``), run from
  the repository root, in document order.
* Blocks can be files: a ``policy`` block with a line ``# 文件: NAME`` among its first
  two lines, or a block whose info string is ``LANG NAME`` (```` ```json 一户.json ````).
* The ``console`` blocks list ``$ fanpin …`` commands with their output; each command is
  run through :func:`fanpin_rules.cli.main` in a temporary folder holding the document's
  files and must print exactly that output (stdout and stderr together, in order;
  trailing spaces ignored).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from fanpin_rules import load_policy
from fanpin_rules.cli import main as fanpin
from fanpin_rules.parser import parse
from fanpin_rules.policy import Policy
from fanpin_rules.testing import run_examples

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "language.md", ROOT / "docs" / "api.md")

CHECK = "# check"
FRAGMENT = "# 片段"
SHARED = "# 共用声明"
_FILE_MARK = re.compile(r"^#\s*文件\s*[:：]\s*(\S+)\s*$")

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # 1-based line of the first line inside the fence
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def lang(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def shared(self) -> bool:
        return any(ln.strip().startswith(SHARED) for ln in self.text.splitlines()[:2])

    @property
    def file_name(self) -> str | None:
        """The name the block is saved under for console examples, if it is a file."""
        words = self.info.split()
        if len(words) == 2:
            return words[1]
        if self.lang == "policy":
            for ln in self.text.splitlines()[:2]:
                m = _FILE_MARK.match(ln.strip())
                if m:
                    return m.group(1)
        return None


def blocks(doc: Path, info: str | None = None) -> list[Block]:
    text = doc.read_text("utf-8")
    found = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start("body")) + 1
        block = Block(doc, line, m.group("info").strip(), m.group("body"))
        if info is None or block.lang == info:
            found.append(block)
    return found


def _all(info: str) -> list[Block]:
    return [b for doc in DOCS if doc.is_file() for b in blocks(doc, info)]


POLICY_BLOCKS = _all("policy")
CHECKED = [b for b in POLICY_BLOCKS if b.first_line == CHECK]
FRAGMENTS = [b for b in POLICY_BLOCKS if b.first_line.startswith(FRAGMENT)]


def _ids(bs: list[Block]) -> list[str]:
    return [b.where for b in bs]


def test_documents_exist() -> None:
    for doc in (*DOCS, ROOT / "docs" / "index.md"):
        assert doc.is_file(), f"missing {doc}"
    assert POLICY_BLOCKS, "no ```policy blocks found"
    assert CHECKED, "no complete (# check) policy in the docs"


@pytest.mark.parametrize("block", POLICY_BLOCKS, ids=_ids(POLICY_BLOCKS))
def test_policy_block_parses(block: Block) -> None:
    module = parse(block.text, path=block.where)
    assert module.items, f"{block.where}: the block declares nothing"


def _load_and_run(path: Path, text: str, where: str) -> Policy:
    """Load (so the checker runs), require no warnings, and run the examples."""
    path.write_text(text, "utf-8")
    policy = load_policy(path)
    warnings = [f"{d.code} {d.message_zh}" for d in policy.diagnostics if d.severity != "info"]
    assert not warnings, f"{where}: warnings: {warnings}"
    report = run_examples(policy)
    failures = [f"{o.title}: {f}" for o in report.outcomes for f in o.failures]
    assert not failures, f"{where}: examples fail:\n" + "\n".join(failures)
    return policy


@pytest.mark.parametrize("block", CHECKED, ids=_ids(CHECKED))
def test_complete_policy_checks(block: Block, tmp_path: Path) -> None:
    _load_and_run(tmp_path / "snippet.policy", block.text, block.where)


def _shared_for(block: Block) -> Block:
    shared = [b for b in POLICY_BLOCKS if b.doc == block.doc and b.shared and b.first_line == CHECK]
    assert shared, f"{block.where}: a # 片段 block needs a complete # 共用声明 block"
    above = [b for b in shared if b.line < block.line]
    return above[-1] if above else shared[0]


@pytest.mark.parametrize("block", FRAGMENTS, ids=_ids(FRAGMENTS))
def test_fragment_checks_with_shared_declarations(block: Block, tmp_path: Path) -> None:
    shared = _shared_for(block)
    _load_and_run(tmp_path / "fragment.policy", shared.text + "\n" + block.text, block.where)


def _session(doc: Path) -> str:
    """The doc's python blocks, other lines blanked, so line numbers match the file."""
    lines = [""] * (doc.read_text("utf-8").count("\n") + 1)
    for b in blocks(doc, "python"):
        for i, ln in enumerate(b.text.split("\n")):
            lines[b.line - 1 + i] = ln
    return "\n".join(lines)


PYTHON_DOCS = [d for d in DOCS if d.is_file() and blocks(d, "python")]


def test_api_has_python_sessions() -> None:
    assert ROOT / "docs" / "api.md" in PYTHON_DOCS


@pytest.mark.parametrize("doc", PYTHON_DOCS, ids=[d.name for d in PYTHON_DOCS])
def test_python_sessions(doc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    name = doc.relative_to(ROOT).as_posix()
    test = doctest.DocTestParser().get_doctest(_session(doc), {}, name, name, 0)
    assert test.examples, f"{name}: python blocks hold no >>> examples"
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()


@dataclass(frozen=True)
class Command:
    doc: Path
    where: str
    argv: list[str]
    expected: str


def _commands() -> list[Command]:
    cmds = []
    for b in _all("console"):
        current: tuple[int, list[str]] | None = None
        output: list[str] = []
        for i, ln in enumerate([*b.text.rstrip("\n").split("\n"), "$ "]):
            if ln.startswith("$ "):
                if current is not None:
                    where = f"{b.where}+{current[0]}"
                    cmds.append(Command(b.doc, where, current[1], "\n".join(output)))
                words = shlex.split(ln[2:])
                current = (i, words[1:]) if words[:1] == ["fanpin"] else None
                output = []
            else:
                output.append(ln)
    return cmds


COMMANDS = _commands()


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.where for c in COMMANDS])
def test_console_output(cmd: Command, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for b in blocks(cmd.doc):
        if b.file_name is not None:
            (tmp_path / b.file_name).write_text(b.text, "utf-8")
    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        fanpin(cmd.argv)

    def norm(text: str) -> str:
        return "\n".join(ln.rstrip() for ln in text.strip("\n").splitlines())

    assert norm(buf.getvalue()) == norm(cmd.expected), buf.getvalue()
