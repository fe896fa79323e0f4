"""The batch audit report: counts, links, charts, masking — checked in a real browser.

The report of a small batch (the eight hand-written households, forty bundled ones and
two broken records) is opened in headless Chromium; the counts the browser's DOM shows
must equal those computed here from the policy's own decisions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fanpin_rules import HouseholdInputError, load_policy
from fanpin_rules.policy import Policy
from fanpin_rules.report import VIOLATIONS, gacha_svg, histogram_svg
from tests.cli import run as _run
from tests.cli import serve_shipped_policy

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("ewenki_2024q2")


@pytest.fixture(autouse=True)
def cached_policy(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    serve_shipped_policy(monkeypatch, policy)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = []
    for path in sorted((ROOT / "examples" / "households").glob("*.json")):
        lines.append(json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False))
    with open(ROOT / "examples" / "households.jsonl", encoding="utf-8") as f:
        lines.extend(line.rstrip("\n") for _, line in zip(range(40), f, strict=False))
    with open(ROOT / "examples" / "households_with_errors.jsonl", encoding="utf-8") as f:
        broken = f.read().splitlines()
    lines.extend(broken[i] for i in (0, 2, 5))  # a duplicate id, negative money, bad enum
    target = tmp_path_factory.mktemp("batch") / "households.jsonl"
    target.write_text("\n".join(lines) + "\n", "utf-8")
    return target


def _expected(policy: Policy, path: Path, sumu: str | None = None) -> dict[str, Any]:
    fired: Counter[str] = Counter()
    gacha: Counter[str] = Counter()
    read = decided = rejected = 0
    dq_households = 0
    seen: set[str] = set()
    for line in path.read_text("utf-8").splitlines():
        record = json.loads(line, parse_float=Decimal)
        if sumu is not None and record.get("sumu") != sumu:
            continue
        read += 1
        try:
            result = policy.evaluate(record, trace=False)
        except HouseholdInputError:
            rejected += 1
            continue
        if result.household_id in seen:  # a household id is unique within a batch
            rejected += 1
            continue
        seen.add(str(result.household_id))
        decided += 1
        fired.update(result.fired)
        gacha[str(record.get("gacha") or "(未填嘎查)")] += 1
        dq_households += any(r.startswith("DQ-") for r in result.fired)
    return {
        "fired": fired,
        "gacha": gacha,
        "read": read,
        "decided": decided,
        "rejected": rejected,
        "dq": dq_households,
    }


class _Dom(HTMLParser):
    """What the tests read back from the DOM: data attributes, ids and links."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[tuple[str, str], int] = {}
        self.gacha: dict[str, int] = {}
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.external: list[str] = []
        self.html_class = ""
        self.tags: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        if tag == "html":
            self.html_class = a.get("class", "")
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("data-rule", "data-violation", "data-dq", "data-kpi", "data-candidate"):
            if key in a and "data-count" in a:
                self.counts[(key, a[key])] = int(a["data-count"])
        if a.get("data-key") == "households" and "data-count" in a:
            self.gacha[self._row_gacha] = int(a["data-count"])
        if tag == "tr" and "data-gacha" in a:
            self._row_gacha = a["data-gacha"]
        for key in ("href", "src"):
            if a.get(key):
                (self.links if a[key].startswith("#") else self.external).append(a[key])


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "headless Chromium is needed for the report test: "
            "apt-get install -y chromium (.ci/run installs it)"
        )
    return found


def _browser_dom(page: Path, profile: Path) -> _Dom:
    proc = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "</html>" in proc.stdout
    dom = _Dom()
    dom.feed(proc.stdout)
    return dom


def test_report_in_headless_chromium(policy: Policy, batch: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, _, err = _run("report", "--policy", "ewenki_2024q2", str(batch), "-o", str(page))
    assert code == 0, err
    expected = _expected(policy, batch)
    assert f"读取 {expected['read']} 户" in err
    dom = _browser_dom(page, tmp_path / "profile")
    assert "js" in dom.html_class.split()  # the page ran in the browser
    for rid, n in expected["fired"].items():
        assert dom.counts[("data-rule", rid)] == n, rid
    for rid in policy.rule_ids:
        assert dom.counts[("data-rule", rid)] == expected["fired"].get(rid, 0), rid
    for rid, *_ in VIOLATIONS:
        assert dom.counts[("data-violation", rid)] == expected["fired"].get(rid, 0), rid
    for rid in (r for r in policy.rule_ids if r.startswith("DQ-") and expected["fired"][r]):
        assert dom.counts[("data-dq", rid)] == expected["fired"][rid], rid
    assert dom.counts[("data-kpi", "read")] == expected["read"] == 51
    assert dom.counts[("data-kpi", "decided")] == expected["decided"]
    assert dom.counts[("data-kpi", "rejected")] == expected["rejected"] == 3
    assert dom.counts[("data-kpi", "dq")] == expected["dq"]
    assert dom.gacha == dict(expected["gacha"])
    assert dom.tags["svg"] == 2
    assert not dom.external, dom.external
    missing = {link[1:] for link in dom.links} - dom.ids
    assert not missing, sorted(missing)[:5]
    # every violating household is linked to its explanation
    assert "hh-EX-06" in dom.ids and "#hh-EX-06" in dom.links


def test_report_of_one_sumu_and_bad_filters(policy: Policy, batch: Path, tmp_path: Path) -> None:
    page = tmp_path / "sumu.html"
    sumu = "巴彦塔拉达斡尔民族乡"
    code, _, err = _run(
        "report", "--policy", "ewenki_2024q2", str(batch), "-o", str(page), "--sumu", sumu
    )
    assert code == 0, err
    expected = _expected(policy, batch, sumu)
    text = page.read_text("utf-8")
    assert f"<title>防止返贫动态监测审计报告 — {sumu}</title>" in text
    assert f'data-kpi="read" data-count="{expected["read"]}"' in text
    assert f'data-rule="SC-1" data-count="{expected["fired"]["SC-1"]}"' in text
    code, _, err = _run(
        "report", "--policy", "ewenki_2024q2", str(batch), "-o", str(page), "--sumu", "巴彦塔拉"
    )
    assert code == 2 and "巴彦塔拉达斡尔民族乡" in err  # did you mean
    code, _, err = _run("report", str(batch), "-o", str(page))
    assert code == 2 and "--policy" in err


@pytest.mark.parametrize("trace", [("--trace",), ()], ids=["with-trace", "without-trace"])
def test_report_from_decisions_matches_the_report_from_households(
    policy: Policy, batch: Path, tmp_path: Path, trace: tuple[str, ...]
) -> None:
    decisions = tmp_path / "decisions.jsonl"
    code, _, err = _run(
        "evaluate",
        "--policy",
        "ewenki_2024q2",
        str(batch),
        "-o",
        str(decisions),
        "--quiet",
        *trace,
    )
    assert code == 0, err
    from_decisions = tmp_path / "from-decisions.html"
    code, _, err = _run("report", "--decisions", str(decisions), "-o", str(from_decisions))
    assert code == 0, err
    from_households = tmp_path / "from-households.html"
    code, _, _ = _run("report", "--policy", "ewenki_2024q2", str(batch), "-o", str(from_households))
    assert code == 0
    a, b = _Dom(), _Dom()
    a.feed(from_decisions.read_text("utf-8"))
    b.feed(from_households.read_text("utf-8"))
    rules = {
        k: v for k, v in a.counts.items() if k[0] in ("data-rule", "data-violation", "data-dq")
    }
    assert rules == {k: v for k, v in b.counts.items() if k in rules}
    assert a.gacha == b.gacha  # 嘎查 read back from the records the decisions name
    assert "hh-EX-06" in a.ids and a.ids == b.ids  # the same households explained
    code, _, err = _run("report", "--decisions", str(batch), "-o", str(tmp_path / "x.html"))
    assert code == 2 and "fired" in err


def test_report_masks_personal_data(batch: Path, tmp_path: Path) -> None:
    page = tmp_path / "masked.html"
    assert _run("report", "--policy", "ewenki_2024q2", str(batch), "-o", str(page))[0] == 0
    text = page.read_text("utf-8")
    raw = json.loads(
        (ROOT / "examples/households/06-有劳动能力只享受低保（一兜了之）.json").read_text()
    )
    for member in raw["members"]:
        assert member["name"] not in text and member["id_no"] not in text
    assert raw["monitoring"]["contact_phone"] not in text
    shown = tmp_path / "shown.html"
    assert (
        _run("report", "--policy", "ewenki_2024q2", str(batch), "-o", str(shown), "--show-pii")[0]
        == 0
    )
    assert raw["members"][0]["name"] in shown.read_text("utf-8")


def test_charts() -> None:
    values = [Decimal(v) for v in (-500, 100, 8299.99, 8300, 8300.01, 12000, 95000)]
    svg = histogram_svg(values, Decimal(8300))
    assert 'data-below="4"' in svg and 'class="baseline"' in svg
    counts = [int(c) for c in __import__("re").findall(r'data-count="(\d+)"', svg)]
    assert sum(counts) == len(values)
    assert histogram_svg([], Decimal(8300)) == ""
    bars = gacha_svg([("甲嘎查", {"violation": 2, "ok": 5, "out": 1})], "en")
    assert 'data-total="8"' in bars and "violation" in bars
