"""The reference live-commerce HTTP service (``simlive serve``): the system under test.

Only this package imports FastAPI, and only when its submodules are imported; importing
``simlive.service`` itself, or :mod:`simlive.service.faults`, stays light so the CLI can
validate ``--fault`` names without loading the web stack. Start here:

- :mod:`~simlive.service.server` ``serve()``: what ``simlive serve`` runs;
- :mod:`~simlive.service.app` ``create_app(settings)``: the app factory;
- :mod:`~simlive.service.harness`: start the service and a throwaway PostgreSQL for tests,
  benchmarks and load tests;
- ``API.md`` beside this file: every endpoint, role and field.
"""
