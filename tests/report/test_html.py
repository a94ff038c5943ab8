"""The HTML report renders in a real browser: verdicts first, plots present and drawn."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _report(tmp_path: Path, scenario: str, *args: str) -> Path:
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "simlive.cli", "run", str(ROOT / scenario),
                           "-q", "--html", str(out), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode in (0, 1, 4), proc.stderr
    return out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium)"
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90)


@pytest.mark.slow
def test_report_is_self_contained_and_deterministic(until_decided) -> None:
    # the noncompliant scenario until decided on two processes and on one (runs shared
    # with the tests that read their JSON and JUnit)
    a = until_decided("noncompliant", 2, reports=True).dir / "report.html"
    b = until_decided("noncompliant", 1, reports=True).dir / "report.html"
    text = a.read_text()
    assert text == b.read_text()
    # nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    assert "<script" not in text and "<link" not in text and "<img" not in text
    assert "url(http" not in text and 'href="http' not in text and "src=" not in text
    # verdicts come before the first plot, and the broken rules are named up top
    assert text.index("id='verdicts'") < text.index("<svg")
    for rule in ("stock.display-matches", "replay.available", "reviews.not-deleted",
                 "returns.seven-day"):
        assert rule in text[: text.index("<h2>Compliance")]
    # each rule's P(broken) with its interval, in the table and in a plot
    assert "<th>P(broken) [95% CI]</th>" in text
    assert "<td class='num'>3/3 (SPRT)</td>" in text  # reviews deleted in every broadcast
    assert "<h2>P(broken) per rule against its risk</h2>" in text
    # beside each bar, how the verdict was reached: a pass whose interval still crosses
    # the risk line was decided by Wald's test, and the plot says so
    assert "by Wald's test: " in text and "decides P(broken) within the risk" in text
    assert "measured (worst replication)" in text


@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    report = _report(tmp_path, "scenarios/boutique.yaml")
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert html.count("<svg") >= 5, "P(broken), viewers, stock, backlog, first-reply plots"
    assert html.count("<path") > 50, "the plots have drawn lines"
    assert "boutique" in html and "stock.no-oversell" in html
    shot = tmp_path / "shot.png"
    res = _chromium(tmp_path, "--window-size=1200,2600", f"--screenshot={shot}",
                    report.as_uri())
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)[..., :3]
    # not blank: many distinct colours, and a fair share of non-white pixels (each colour
    # counted as one 24-bit number: np.unique over rows of 3 took 6.5 s of 3 million pixels)
    rgb = (pixels * 255).astype(np.uint32)
    assert len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])) > 50
    assert (pixels.mean(axis=2) < 0.9).mean() > 0.02


@pytest.mark.parametrize("scenario", ["scenarios/flash-sale.yaml"])
def test_report_plots_stock_real_and_displayed(tmp_path: Path, scenario: str) -> None:
    text = _report(tmp_path, scenario).read_text()
    assert "Stock per SKU" in text
    assert "HOT-1" in text and "displayed" in text and "real" in text


def test_text_from_a_shop_is_escaped_and_the_plots_are_not() -> None:
    """Evidence, names and ids can carry what a shop answered: the template escapes every
    value; only the report's own SVG goes in as markup."""
    from simlive.report.html import render_html

    hostile = "<script>alert('x')</script> & \"quoted\""
    page = render_html({"scenario": hostile, "rules": [
        {"id": "stock.no-oversell", "name": "No oversell", "status": "fail",
         "measured": {"sku": hostile}, "limit": 0, "evidence": hostile}],
        "warnings": [hostile], "meta": hostile}, None,
        extra_figures=[("a plot", "<svg id='mine'><g/></svg>")])
    assert "<script" not in page
    # the title, the heading, the meta line, the measured cell, the evidence, the warning
    assert page.count("&lt;script&gt;alert(") == 6
    assert "<svg id='mine'><g/></svg>" in page  # the figure as drawn
