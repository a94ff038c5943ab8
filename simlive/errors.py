"""The errors simlive raises on purpose, and the exit code each one carries.

Library code raises these and never calls ``sys.exit``; only ``simlive.cli`` turns them into
an exit code and a message. Exit codes are shared by every command:

- 0: success and every compliance rule passes
- 1: a compliance rule fails (or a plan meets no target)
- 2: bad input or usage
- 3: a load-test performance threshold fails
- 4: undecided: no rule fails, but the replications simulated do not establish that every
  rule holds at the stated risk (run more, or ``--until-decided``)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RULE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_THRESHOLD_FAILED = 3
EXIT_UNDECIDED = 4


class SimliveError(Exception):
    """Base class: a failure the user can act on, shown without a traceback."""

    exit_code = EXIT_BAD_INPUT


class UsageError(SimliveError):
    """A bad option or argument on the command line or in an API call."""

    exit_code = EXIT_BAD_INPUT


class FileProblem:
    """One problem in an input file (a scenario, a target file, a tokens file, a stored
    run): where it is and what was wrong.

    Kept as plain data so that a loader can collect every problem in a file before it
    reports, the way a compiler lists all errors rather than the first one.
    """

    __slots__ = ("line", "path", "expected", "found")

    def __init__(self, path: str, expected: str, found: str, line: int | None = None) -> None:
        self.path = path
        self.expected = expected
        self.found = found
        self.line = line

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        key = self.path or "(top level)"
        return f"{where}: {key}: expected {self.expected}; found {self.found}"

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"FileProblem({self.path!r}, {self.expected!r}, {self.found!r}, {self.line})"


class InputFileError(SimliveError):
    """An input file that cannot be used (a scenario, a target file, a tokens file): names
    the file, line, key path and the mismatch."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, file: str, problems: list[FileProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


class ServiceError(SimliveError):
    """The service under test could not be reached or answered nonsense."""

    exit_code = EXIT_BAD_INPUT


class StoredRunError(SimliveError):
    """A stored run that cannot be re-checked: a history line or a state.json that is not
    what a load run writes.

    Rendered like :class:`InputFileError`, one line per problem,
    ``file:line: key.path: expected X; found Y``; the key is left out when the whole line or
    file is wrong (``history.jsonl:3: expected a JSON object (an event); found ...``).
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, file: str, problems: list[FileProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(self.render(p, file) for p in problems))

    @staticmethod
    def render(problem: FileProblem, file: str) -> str:
        where = f"{file}:{problem.line}" if problem.line is not None else file
        key = f" {problem.path}:" if problem.path else ""
        return f"{where}:{key} expected {problem.expected}; found {problem.found}"
