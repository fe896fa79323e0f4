"""The shipped policy's reference page is generated and kept current."""

from __future__ import annotations

from pathlib import Path

from fanpin_rules import load_policy
from fanpin_rules.cli import main
from fanpin_rules.policydoc import policy_markdown

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "policy-ewenki_2024q2.md"


def test_reference_page_is_current(update_goldens: bool) -> None:
    page = policy_markdown(load_policy("ewenki_2024q2"))
    if update_goldens:
        PAGE.write_text(page, "utf-8")
    assert PAGE.read_text("utf-8") == page, "run: fanpin doc --policy ewenki_2024q2 -o " + str(
        PAGE.relative_to(ROOT)
    )


def test_page_lists_every_rule_and_parameter() -> None:
    policy = load_policy("ewenki_2024q2")
    page = policy_markdown(policy)
    for rid in policy.rule_ids:
        assert f"### {rid}" in page or f"| {rid} |" in page, rid
    for name in policy.model.params:
        assert f"| {name} |" in page, name


def test_doc_command_writes_file(tmp_path: Path) -> None:
    target = tmp_path / "tour.md"
    assert main(["doc", "--policy", "examples/language_tour.policy", "-o", str(target)]) == 0
    assert target.read_text("utf-8").startswith("# 语言导览")
