"""The terminal output follows the width it prints to: COLUMNS, else 160 when piped; a
narrow one gets the verdicts as a list (evidence under each rule) instead of a table whose
evidence column breaks words mid-way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simlive.cli import cli

BOUTIQUE = str(Path(__file__).resolve().parents[2] / "scenarios" / "boutique.yaml")


@pytest.fixture(scope="module")
def runs() -> dict[str, str]:
    out = {}
    for cols in ("100", "200"):
        res = CliRunner().invoke(cli, ["run", BOUTIQUE, "-r", "2"], env={"COLUMNS": cols})
        assert res.exit_code in (0, 4), res.output
        out[cols] = res.stdout
    return out


def test_a_narrow_terminal_gets_the_verdicts_as_a_list(runs: dict[str, str]) -> None:
    text = runs["100"]
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "    evidence: every paid order has a receipt" in text
    assert "    measured (mean [95% CI]): " in text
    assert "oversol\n" not in text and "│" not in text.split("Compliance")[1].split("\n")[1]


def test_a_wide_terminal_gets_the_table_saying_what_measured_is(runs: dict[str, str]) -> None:
    text = runs["200"]
    assert max(len(line) for line in text.splitlines()) <= 200
    assert "measured: mean [95% CI]" in text
    assert "    evidence:" not in text


def test_a_piped_run_says_how_far_it_got(tmp_path: Path) -> None:
    """No bar in a log, but a line every few seconds (SIMLIVE_LOG_EVERY, read by the run's
    own process) once the run has taken that long, and one when the last replication is in;
    a short run prints none; a bad interval is refused."""
    import os
    import re
    import subprocess
    import sys

    def run(n: str, every: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "SIMLIVE_LOG_EVERY"}
        if every is not None:
            env["SIMLIVE_LOG_EVERY"] = every
        return subprocess.run([sys.executable, "-m", "simlive.cli", "run", BOUTIQUE, "-r", n],
                              capture_output=True, text=True, timeout=300, env=env,
                              stdin=subprocess.DEVNULL)

    short = run("3")
    assert short.returncode in (0, 4), short.stderr
    assert "replications\n" not in short.stderr  # well under the default 5 s
    long = run("100", every="0.2")  # about 2.5 s on this machine
    assert long.returncode in (0, 4), long.stderr
    lines = re.findall(r"  boutique: (\d+) of 100 replications", long.stderr)
    assert len(lines) >= 2 and lines[-1] == "100", lines
    assert [int(n) for n in lines] == sorted(int(n) for n in lines)
    bad = run("3", every="soon")
    assert bad.returncode == 2 and "SIMLIVE_LOG_EVERY(='soon')" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr


def test_until_decided_counts_against_the_replications_it_likely_needs() -> None:
    from simlive.judge.odds import Confidence
    from simlive.report.progress import expected_replications

    # risk 5 %, indifference 50 %: no rule broken decides a pass after 56 replications
    assert expected_replications(Confidence()) == 56
    assert expected_replications(Confidence(risk=0.01)) > 56
