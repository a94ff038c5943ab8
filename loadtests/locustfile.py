"""Locust's own entry point for simlive: users, weights and shape come from the scenario,
requests from the target file.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 \\
        --scenario scenarios/flash-sale.yaml --admin-token "$SIMLIVE_ADMIN_TOKEN"
    locust -f loadtests/locustfile.py --host https://shop.test --target shop.yaml \\
        --scenario scenarios/flash-sale.yaml --token-file tokens.json --headless -t 60s

Opens Locust's web UI (or runs headless). Each swarm is a run of its own: the shop is set up
when the test starts (products named with the run's id), and when it stops the broadcast is
ended, every rule checked and the verdicts printed; Locust's exit code is 0 when every rule
passes, 1 when one fails or is unknown, 3 when a threshold fails, 2 for bad input or a
failed setup. Output per swarm: <--simlive-out>/<run id>/ (history, state, verdicts,
report.html). -t/--run-time is the compressed broadcast's length, -u/--users its peak. For
several machines, start the master with ``--master`` and each machine's workers with
``--worker --master-host HOST`` and the same arguments: the master sends the whole run to the
workers; copy every worker's history files into one folder and run ``simlive check``.
"""

from simlive.load.locustfile import *  # noqa: F403 - Locust collects the classes by name
