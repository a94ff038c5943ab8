"""Helpers the tests (tests/) and the benchmarks (benchmarks/) share; not part of simlive.

Not installed with the package: pytest finds this folder from the repository's root
(``pythonpath`` in pyproject.toml) and each benchmark puts the root on ``sys.path``.

- :mod:`testing.postgres`: a throwaway PostgreSQL cluster that dies with its starter;
- :mod:`testing.shop`: clients on a running reference service, one per role, and helpers
  that set up data;
- :mod:`testing.ceiling`: the bare driver loop one stock row is held to;
- :mod:`testing.synthetic`: histories and final states made up for the checker.

The service itself is started with :class:`simlive.service.process.ServiceProcess`, which
``simlive load --serve`` uses too.
"""


class HarnessError(RuntimeError):
    """A helper process did not start, or the service refused a set-up step; the message
    carries its log or its answer."""
