"""Judging: one judge per rule over typed measure records, and what many broadcasts establish.

The simulator (:mod:`simlive.sim`) produces measure records from its arrays; the judges here
(:mod:`~simlive.judge.rulebook`) say whether a rule broke and why, the odds over replications
(:mod:`~simlive.judge.odds`: the exact interval, Wald's test in
:mod:`~simlive.judge.sequential`, what the model decides outright in
:mod:`~simlive.judge.certainty`). Nothing here simulates, as Ciw keeps its statistics apart
from its simulation.
"""
