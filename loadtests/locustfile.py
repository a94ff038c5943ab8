"""Locust's own entry point for simlive: users, weights and shape come from the scenario.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 \\
        --scenario scenarios/flash-sale.yaml --admin-token "$SIMLIVE_ADMIN_TOKEN"

Opens Locust's web UI; the service is prepared when the test starts, and when Locust quits
the broadcast is ended and every rule checked (history in --history-dir). For several
machines, start the master with ``--master`` and each machine's workers with ``--worker
--master-host HOST`` and the same arguments; copy every worker's --history-dir files into
one folder and run ``simlive check --history DIR --host URL``.
"""

from simlive.load.locustfile import *  # noqa: F403 - Locust collects the classes by name
