"""The scenario contract: schema, units, distributions, loading with line numbers."""

from simlive.scenario.loader import load_scenario, parse_scenario
from simlive.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_scenario"]
