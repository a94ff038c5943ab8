"""Targets: how simlive's operations map onto one shop's HTTP API (imports no locust).

:mod:`~simlive.target.operations` is the vocabulary, :mod:`~simlive.target.schema` the target
file, :mod:`~simlive.target.client` runs one operation, :mod:`~simlive.target.provision`
sets a run up and reads the final state. ``reference.yaml`` is simlive's own service.
"""
