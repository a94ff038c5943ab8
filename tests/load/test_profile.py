"""The load profile from `simlive plan --emit-load-profile` becomes the load test's target."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simlive.cli import cli
from simlive.errors import UsageError
from simlive.load.profile import profile_rate

ROOT = Path(__file__).resolve().parents[2]


def test_profile_emitted_by_plan_is_read_back(tmp_path: Path) -> None:
    out = tmp_path / "profile.yaml"
    res = CliRunner().invoke(cli, ["plan", str(ROOT / "scenarios" / "boutique.yaml"),
                                   "--emit-load-profile", str(out)])
    assert res.exit_code == 0, res.output
    peak = yaml.safe_load(out.read_text())["peak"]
    expected = (peak["order_writes_per_s"] + peak["stock_reads_per_s"]
                + peak["ticket_operations_per_s"])
    assert profile_rate(out) == pytest.approx(expected)
    assert expected > 0


@pytest.mark.parametrize(("text", "message"), [
    ("peak: 3", "expected a 'peak' mapping"),
    ("peak: {order_writes_per_s: 1, stock_reads_per_s: -2, ticket_operations_per_s: 0}",
     "peak.stock_reads_per_s: expected a number >= 0; found -2"),
    ("peak: {order_writes_per_s: 0, stock_reads_per_s: 0, ticket_operations_per_s: 0}",
     "add up to 0"),
    ("[unclosed", "cannot read it"),
])
def test_bad_profiles_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(")):
        profile_rate(path)
    res = CliRunner().invoke(cli, ["load", str(ROOT / "scenarios" / "flash-sale.yaml"),
                                   "--serve", "--profile", str(path),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert message in res.stderr
