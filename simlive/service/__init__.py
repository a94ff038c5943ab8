"""The reference live-commerce HTTP service (``simlive serve``): the system under test.

Only this package imports FastAPI, and only when its submodules are imported; importing
``simlive.service`` itself, or :mod:`simlive.service.faults`, stays light so the CLI can
validate ``--fault`` names without loading the web stack. Start here:

- :mod:`~simlive.service.server` ``serve()``: what ``simlive serve`` runs;
- :mod:`~simlive.service.app` ``create_app(settings)``: the app factory;
- :mod:`~simlive.service.process`: the service in a subprocess that dies with its starter,
  for ``simlive load --serve`` (and the tests; their other helpers live in ``testing/``,
  outside the package);
- ``API.md`` beside this file: every endpoint, role and field.
"""
