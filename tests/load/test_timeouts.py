"""One timeout rule, observed in the Locust process: ``load.request_timeout`` when the
scenario sets it, else the target's ``timeout``, in the closed model and under --profile.

It once reached neither: --profile cut every request at 5.00 s whatever the settings, the
closed model used the target's and ignored the scenario's. The shop (racy_shop.py) answers
each checkout after 5.5 s; what the history records says which limit the process applied.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from load.racy_shop import TARGET, racy_shop
from simlive.check.history import pair, read_jsonl

FLASH = Path(__file__).parents[2] / "scenarios" / "flash-sale.yaml"


def load(out: Path, timeout: str | None, target_timeout: int, profile: bool) -> None:
    """One load in ``out`` against its own shop: the scenario's request timeout (if any),
    the target's, and --profile or the closed model."""
    out.mkdir()
    scenario = FLASH.read_text()
    scenario += "load:\n  flash_sale_buyers: 4\n"
    if timeout is not None:
        scenario += f"  request_timeout: {timeout}\n"
    (out / "s.yaml").write_text(scenario)
    target = TARGET.read_text().replace("timeout: 10", f"timeout: {target_timeout}")
    (out / "t.yaml").write_text(target)
    extra = []
    if profile:
        (out / "p.yaml").write_text("operations: {order: 2}\n")
        extra = ["--profile", str(out / "p.yaml")]
    with racy_shop(pause=5.5) as shop:
        done = subprocess.run([sys.executable, "-m", "simlive.cli", "load",
                               str(out / "s.yaml"), "--target", str(out / "t.yaml"),
                               "--host", shop.url, "--users", "20", "--run-time", "10s",
                               "--out", str(out / "out"), *extra],
                              capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL)
    assert (out / "out" / "history.jsonl").exists(), done.stderr[-3000:]


# The three loads run side by side, once per test run (each waits on a shop that answers
# after 5.5 s: wall time, little CPU), and each test reads its own history.
LOADS = {"closed": ("8s", 2, False), "profile": ("8s", 2, True), "targets": (None, 2, False)}


@pytest.fixture(scope="session")
def timeout_loads(once_per_run: Callable[..., Path]) -> Path:
    def make(folder: Path) -> None:
        with ThreadPoolExecutor(len(LOADS)) as pool:
            for run in [pool.submit(load, folder / name, *args)
                        for name, args in LOADS.items()]:
                run.result()

    return once_per_run("timeout-loads", make)


def checkouts(folder: Path) -> list:
    # (a flash-sale buyer's order counts from its preparation, seconds before its commit)
    return [o for o in pair(list(read_jsonl(folder / "out" / "history.jsonl")))
            if o.f == "order" and o.process != "setup" and o.end != float("inf")
            and not (o.value or {}).get("interrupted")]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["closed", "profile"])
def test_the_scenarios_timeout_wins_over_the_targets(timeout_loads: Path, model: str) -> None:
    # the scenario allows 8 s, the target 2 s: the 5.5 s checkouts are answered (a
    # profile once cut them at 5 s)
    ops = checkouts(timeout_loads / model)
    answered = [o for o in ops if o.type != "info"]
    assert answered and max(o.end - o.start for o in answered) > 5.4
    assert not [o for o in ops if o.type == "info"], [o.value for o in ops][:3]


def test_without_the_scenarios_timeout_the_targets_applies(timeout_loads: Path) -> None:
    # no scenario setting: the target's 2 s cuts the 5.5 s checkouts (unknown outcome)
    ops = checkouts(timeout_loads / "targets")
    cut = [o for o in ops if o.type == "info" and "-flash" not in o.process]  # no waiting
    assert cut and all(1.9 < o.end - o.start < 3.4 for o in cut), \
        [(o.type, o.end - o.start) for o in ops][:5]
