"""The load-test checker: a recorded history plus the service's final state -> measure
records, judged by the rulebook's judges (:mod:`simlive.judge.rulebook`), the simulator's.

No Locust and no FastAPI here: :func:`simlive.check.checker.check` is a pure function over
plain data, :mod:`simlive.check.history` reads and writes the JSON-lines history, and
:mod:`simlive.check.needs` says what each rule needs, :mod:`simlive.check.stored` reads a
stored run. The final state is read through a target file (:mod:`simlive.shops`).
"""
