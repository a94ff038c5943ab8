"""Shops simlive did not write: a target file maps its operations onto one shop's HTTP API.

:mod:`simlive.operations` is the vocabulary (beside :mod:`simlive.rules`); this package reads
a target file (:mod:`~simlive.shops.target_file`, :mod:`~simlive.shops.files`), runs one
operation through it (:mod:`~simlive.shops.client`), checks it against a live shop
(:mod:`~simlive.shops.preflight`), sets a run up and reads the final state
(:mod:`~simlive.shops.provision`). Hooks import their helpers from
:mod:`simlive.shops.hooks`. ``reference.yaml`` maps simlive's own service. Imports no
locust.
"""
