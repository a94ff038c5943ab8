"""Load tests with Locust: users, the scenario-driven shape, the history recorder, the runner.

Only this package imports locust: the modules that run inside a Locust process (``users``,
``crowd``, ``arrivals``, ``release``, ``relay``, ``shape``, ``locustfile``). The setup,
recorder and runner modules use httpx and plain files so they can be imported, and tested,
without gevent's monkey-patching.
"""
