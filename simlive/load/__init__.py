"""Load tests with Locust: users, the scenario-driven shape, the history recorder, the runner.

Only this package imports locust (and only in ``users``, ``shape`` and ``locustfile``); the
setup, recorder and runner modules use httpx and plain files so they can be imported, and
tested, without gevent's monkey-patching.
"""
