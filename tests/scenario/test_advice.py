"""validate's warnings: valid scenarios that are rarely meant (exit 0, on stderr), and the
flash sale that would be cut short by the end of its slot (refused)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from simlive.cli import cli

ROOT = Path(__file__).resolve().parents[2]

FIRST = """\
name: my-first
seed: 1
duration: 2h
audience:
  arrivals: [{at: 0s, rate: 2/s}]
products:
  skus: [{sku: A, price: 10, stock: 500}]
  schedule: [{sku: A, from: 0s, to: 2h, propensity: 0.01/min}]
aftersales:
  consultations: {per_viewer: 2/h}
  agents: [{from: 0s, to: 2h, agents: 3}]
"""


def validate(tmp_path: Path, text: str):  # noqa: ANN201
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path, CliRunner().invoke(cli, ["validate", str(path)])


def test_a_first_scenario_is_warned_of_inherited_tickets_and_overload(tmp_path: Path) -> None:
    """Agents for the 2 h broadcast only, returns, refunds and complaints on by default:
    30 days of requests nobody answers, and 2 chats an hour per viewer for 3 agents."""
    path, res = validate(tmp_path, FIRST)
    assert res.exit_code == 0, res.output
    assert f"{path}: ok" in res.stdout
    assert ("returns, refunds and complaints can arrive from 0s to 30d2h but the desk "
            "(aftersales.agents) has nobody on duty 2h to 30d2h") in res.stderr
    assert "x the 6 agent-hours on duty" in res.stderr and "most will wait" in res.stderr


def test_a_scenario_staffed_for_its_tickets_is_not_warned(tmp_path: Path) -> None:
    text = FIRST.replace("per_viewer: 2/h}", "per_viewer: 0.02/h}\n  returns: {fraction: 0}\n"
                         "  replacements: {fraction: 0}\n  refunds: {fraction: 0}\n"
                         "  complaints: {fraction: 0}")
    _, res = validate(tmp_path, text)
    assert res.exit_code == 0 and res.stderr == "", res.output


def test_the_bundled_scenarios_validate_without_warnings() -> None:
    paths = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    res = CliRunner().invoke(cli, ["validate", *paths])
    assert res.exit_code == 0 and res.stderr == "", res.output


def test_a_live_chat_gap_is_warned(tmp_path: Path) -> None:
    text = FIRST.replace("agents: [{from: 0s, to: 2h, agents: 3}]",
                         "agents: [{from: 0s, to: 1h, agents: 30}, {from: 1.5h, to: 31d, "
                         "agents: 30}]")
    _, res = validate(tmp_path, text)
    assert "live chats can arrive from 0s to 2h but the desk (aftersales.agents) has nobody "\
        "on duty 1h to 1.5h" in res.stderr, res.output


def test_a_flash_sale_past_the_end_of_its_slot_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "flash-sale.yaml").read_text().replace(
        "at: 10m, duration: 3m", "at: 19m, duration: 3m")
    path, res = validate(tmp_path, text)
    assert res.exit_code == 2
    assert (f"{path}:25: products.flash_sales[0].duration: expected a sale that ends inside "
            "its slot (0s to 20m: at most 1m from 19m); found 3m") in res.stderr


def test_a_flash_sale_shorter_than_a_floats_step_does_not_crash_validate(tmp_path: Path) -> None:
    """at + duration == at in floating point (a mutated scenario found it: the sweep of
    boosts removed a sale before adding it)."""
    text = (ROOT / "scenarios" / "flash-sale.yaml").read_text().replace(
        "at: 10m, duration: 3m", "at: 10m, duration: 1e-300s")
    _, res = validate(tmp_path, text)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code in (0, 2) and "Traceback" not in res.output


def test_a_sku_whose_orders_would_not_fit_in_memory_is_refused(tmp_path: Path) -> None:
    """864M orders of one SKU pass the orders count (1e9) but its draws are kept while its
    stock is run (~33 B each): a scenario that validated then died with numpy's
    ArrayMemoryError in the run. Now validate refuses it at the propensity, with the sum."""
    text = """\
name: huge-one-sku
seed: 1
duration: 1h
audience:
  arrivals: [{at: 0s, rate: 100000/s}]
  dwell: {dist: fixed, value: 1h}
products:
  skus: [{sku: A, price: 1, stock: 1000000000}]
  schedule: [{sku: A, from: 0s, to: 1h, propensity: 0.04/min}]
aftersales:
  agents: [{from: 0s, to: 31d, agents: 1}]
"""
    path, res = validate(tmp_path, text)
    assert res.exit_code == 2
    assert (f"{path}:9: products.schedule[0].propensity: expected a simulation that fits the "
            "memory budget of 4.0 GiB per replication") in res.stderr
    assert "864,000,000 orders of the SKU that sells most" in res.stderr


def test_a_desk_of_many_planned_shifts_is_not_counted_twice() -> None:
    """A planned roster writes hundreds of shifts per desk; the estimate counted a desk's
    shifts twice (slots x shifts x shifts) and refused the presale plan's own written
    scenario for gigabytes. A desk's roster is slots x shifts, as the pooled desk's."""
    import yaml

    from simlive.scenario.estimate import ROSTER_BYTES, estimate
    from simlive.scenario.schema import Scenario

    doc = yaml.safe_load((ROOT / "tests" / "plan" / "desks.yaml").read_text())
    shifts = [{"from": f"{m}m", "to": f"{m + 1}m", "agents": 500} for m in range(400)]
    doc["aftersales"]["desks"][0]["agents"] = shifts
    part = next(p for p in estimate(Scenario.model_validate(doc)).parts
                if "desk slots" in p.text)
    # the desk's 500 slots x 400 shifts, plus the pooled desk's few (not 500 x 400 x 400)
    assert ROSTER_BYTES * 500 * 400 <= part.bytes < ROSTER_BYTES * (500 * 400 + 100)
