"""Loading a scenario file: YAML with line numbers, then validation, then cross-checks.

Every problem is reported as ``file:line: key.path: expected X; found Y`` (all of them, not
just the first), so a user fixes a file in one pass. The YAML is composed once to learn
where each key sits, then validated by the pydantic schema; pydantic's error locations are
mapped back onto the document to find the line.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from simlive.errors import FileProblem, InputFileError
from simlive.scenario.schema import Scenario
from simlive.scenario.units import Mismatch

Loc = tuple[Any, ...]
M = TypeVar("M", bound=BaseModel)


def format_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# --- reading YAML without letting a file exhaust the stack or the memory --------------------

MAX_DEPTH = 64
"""Nesting levels a YAML file may have, aliases followed. A scenario needs 6, a target
file's body template a few more; PyYAML's composer and pydantic recurse once per level, and
Python's stack ends near 1000 frames."""

MAX_ALIAS_NODES = 100_000
"""Nodes that aliases may add to a document when expanded. Aliases are shared while the
YAML is composed, but every walk over the data (line numbers, validation) visits each copy:
a 400-byte file of nested aliases (a "billion laughs") expands to a billion nodes."""


def _int_limit() -> int:
    return getattr(sys, "get_int_max_str_digits", lambda: 0)()


def _start(event: yaml.Event) -> yaml.error.Mark:
    """Where ``event`` starts: the pure-Python parser under ``SafeLoader`` marks every event
    (the stubs allow None, and the C parser's marks, for other loaders)."""
    mark = event.start_mark
    assert isinstance(mark, yaml.error.Mark)
    return mark


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than MAX_DEPTH and an alias inside its
    own anchor (a cyclic document, which no scenario needs) while it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._open: set[str] = set()
        self.first_alias: int | None = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            mark = _start(event)
            if self.first_alias is None:
                self.first_alias = mark.line + 1
            if event.anchor in self._open:
                raise yaml.composer.ComposerError(
                    None, None, f"found the alias *{event.anchor} inside its own anchor "
                    f"&{event.anchor} (a cycle)", mark)
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"found level {MAX_DEPTH + 1} of nesting", _start(event))
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # a date 2024-13-45, an int too long
            raise _Unreadable(None, None, str(exc), node.start_mark) from None


class _Unreadable(yaml.constructor.ConstructorError):
    """A scalar PyYAML recognises but Python cannot build."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded(root: yaml.Node) -> tuple[int, int, int]:
    """(nodes written, nodes with every alias expanded, depth with aliases followed), by one
    pass over the node graph that counts a shared node once (no expansion happens)."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        kids = _children(node)
        if not done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            continue
        size[id(node)] = 1 + sum(size[id(k)] for k in kids)
        height[id(node)] = 1 + max((height[id(k)] for k in kids), default=0)
    return len(size), size[id(root)], height[id(root)]


def _lines(node: yaml.Node, path: Loc, table: dict[Loc, int],
           problems: list[FileProblem]) -> None:
    """Record the line of every key and list item; flag duplicate keys (YAML allows them),
    keys that are not plain names, and integers too long for Python to read."""
    table.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        digits = sum(c.isdigit() for c in node.value)
        if _int_limit() and digits > _int_limit():
            problems.append(FileProblem(
                format_path(path), f"a whole number of at most {_int_limit()} digits",
                f"one of {digits} digits", node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(FileProblem(
                    format_path(path), "keys that are names",
                    f"a {'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'} "
                    "as a key", key_node.start_mark.line + 1))
                continue
            key: Any = key_node.value
            if key_node.tag.endswith(":int"):
                try:
                    key = int(key)
                except ValueError:
                    pass
            if key in seen:
                problems.append(FileProblem(
                    format_path(path + (key,)), "each key once", "a duplicate key",
                    key_node.start_mark.line + 1))
            seen.add(key)
            table[path + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, path + (key,), table, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            table[path + (i,)] = item.start_mark.line + 1
            _lines(item, path + (i,), table, problems)


def _resolve(data: Any, loc: Loc) -> tuple[Loc, bool]:
    """The part of pydantic's ``loc`` that exists in ``data`` and whether all of it does.

    pydantic inserts union tags (``lognormal``) and validator names into locations; those
    are skipped, so the path printed is the path the user wrote.
    """
    path: list[Any] = []
    cur = data
    inline = False  # a target operation written inline: its steps[0] is the mapping itself
    for part in loc:
        if inline and part == 0:
            inline = False
            continue
        if isinstance(cur, dict) and part == "steps" and "steps" not in cur and "method" in cur:
            inline = True
            continue
        if isinstance(cur, dict) and part in cur:
            path.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part.isdigit() \
                and int(part) in cur:
            path.append(int(part))
            cur = cur[int(part)]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            path.append(part)
            cur = cur[part]
        elif isinstance(part, str) and (part in _TAGS or part.startswith("function-")
                                        or part == "[key]"):
            continue
        else:
            return tuple(path) + (part,), False
    return tuple(path), True


_TAGS = {"exponential", "lognormal", "gamma", "uniform", "fixed", "empirical", "int", "str",
         "float", "bool", "list[...]", "dict[...]", "none", "is-instance[Fixed]"}


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed at ``loc`` in the schema, for a did-you-mean suggestion. A key of a
    mapping (an operation's name) is stepped over; a target operation written inline
    also allows a request's keys."""
    import typing

    def models_in(ann: Any) -> tuple[Any, bool]:
        found, mapping = None, typing.get_origin(ann) is dict
        for cand in [ann, *typing.get_args(ann)] + [
                a for arg in typing.get_args(ann) for a in typing.get_args(arg)]:
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                return cand, mapping
        return found, mapping

    cur: Any = model
    skip_key = False
    for part in loc:
        if isinstance(part, int) or skip_key:
            skip_key = False
            continue
        fields = getattr(cur, "model_fields", None)
        if not fields or part not in {f.alias or n for n, f in fields.items()}:
            return []
        name = next(n for n, f in fields.items() if (f.alias or n) == part)
        cur, skip_key = models_in(fields[name].annotation)
        if cur is None:
            return []
    keys = [f.alias or n for n, f in getattr(cur, "model_fields", {}).items()]
    if "steps" in keys:  # an operation: its single request may be written inline
        steps = cur.model_fields["steps"].annotation
        inner, _ = models_in(steps)
        keys += [f.alias or n for n, f in getattr(inner, "model_fields", {}).items()]
    return keys


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(err: ErrorDetails, data: Any, lines: dict[Loc, int],
             model: type[BaseModel] = Scenario) -> FileProblem:
    loc = tuple(err["loc"])
    path, complete = _resolve(data, loc)
    kind = err["type"]
    found = _short(err.get("input"))
    ctx = err.get("ctx") or {}
    expected = err["msg"]
    if kind == "missing":
        expected, found = "a value (this key is required)", "nothing"
    elif kind == "extra_forbidden":
        allowed = _fields_at(model, path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "one of " + ", ".join(allowed)
        expected, found = f"a known key ({hint})", f"unknown key '{path[-1]}'"
    elif kind == "value_error" and isinstance(ctx.get("error"), Mismatch):
        expected, found = ctx["error"].expected, ctx["error"].found
    elif kind == "value_error":
        expected = expected.removeprefix("Value error, ")
    elif kind == "union_tag_invalid":
        expected = "dist: one of " + ctx.get("expected_tags", "").replace("'", "")
        found = _short(ctx.get("tag"))
        path = path + ("dist",) if complete else path
    elif kind == "union_tag_not_found":
        expected = "a 'dist' key (exponential, lognormal, gamma, uniform, fixed, empirical)"
        found = "no 'dist' key"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        expected = f"a number {op} {bound}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        expected = "a whole number"
    elif kind in ("float_parsing", "float_type"):
        expected = "a number"
    elif kind == "finite_number":
        expected = "a finite number"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        expected = "a mapping of keys"
    elif kind == "list_type":
        expected = "a list"
    elif kind in ("string_type",):
        expected = "a string"
    elif kind in ("bool_type", "bool_parsing"):
        expected = "true or false"
    elif kind == "literal_error" and loc and loc[-1] == "[key]":
        allowed = [a.strip(" '") for a in ctx.get("expected", "").replace(" or ", ", ")
                   .split(",")]
        close = difflib.get_close_matches(str(err.get("input")), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "one of " + ", ".join(allowed)
        expected = f"a known key ({hint})"
        found = f"unknown key {str(err.get('input'))!r}"
    elif kind == "literal_error":
        expected = "one of " + ctx.get("expected", "").replace("'", "")
    elif kind == "too_short":
        expected = f"at least {ctx.get('min_length')} item(s)"
        found = f"{ctx.get('actual_length')}"
    elif kind == "string_pattern_mismatch":
        expected = "letters, digits, '.', '_' or '-' only"
    line = _line_for(path, lines)
    return FileProblem(format_path(path), expected, found, line)


def _line_for(path: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def parse_model(text: str, file: str, model: type[M], what: str) -> M:
    """Validate YAML ``text`` against ``model``; raise InputFileError listing every problem
    with its line. Shared by every YAML file simlive reads (scenarios, target files)."""
    model_obj, _ = _parse_model(text, file, model, what)
    return model_obj


def _yaml_problem(exc: yaml.YAMLError, text: str) -> FileProblem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, _Unreadable):
        return FileProblem("", "values YAML can read", f"one it cannot ({problem})", line)
    if " of nesting" in problem:
        return FileProblem("", f"YAML nested at most {MAX_DEPTH} levels deep",
                               problem.removeprefix("found "), line)
    if "(a cycle)" in problem:
        return FileProblem("", "YAML without cyclic aliases",
                               problem.removeprefix("found "), line)
    return FileProblem("", "valid YAML", f"a syntax error ({problem})", line)


def _compose(text: str, file: str) -> tuple[Any, dict[Loc, int]]:
    """The data in YAML ``text`` and the line of every key path; InputFileError for a file
    that is not YAML, or that would exhaust the stack or the memory of what reads it."""
    try:
        loader = _Loader(text)  # reads the whole text for control characters
        node = loader.get_single_node()
        loader.dispose()
    except yaml.YAMLError as exc:
        raise InputFileError(file, [_yaml_problem(exc, text)]) from None
    if node is None:
        return None, {}
    written, expanded, depth = _expanded(node)
    if expanded - written > MAX_ALIAS_NODES:
        raise InputFileError(file, [FileProblem(
            "", f"aliases that add at most {MAX_ALIAS_NODES:,} nodes when expanded",
            f"{written:,} nodes that aliases expand to {expanded:.3g}", loader.first_alias)])
    if depth > MAX_DEPTH:
        raise InputFileError(file, [FileProblem(
            "", f"YAML nested at most {MAX_DEPTH} levels deep, aliases followed",
            f"{depth} levels", loader.first_alias)])
    lines: dict[Loc, int] = {}
    problems: list[FileProblem] = []
    _lines(node, (), lines, problems)
    if problems:
        raise InputFileError(file, problems)
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputFileError(file, [_yaml_problem(exc, text)]) from None
    return data, lines


def _parse_model(text: str, file: str, model: type[M], what: str) -> tuple[M, dict[Loc, int]]:
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise InputFileError(file, [FileProblem(
            "", f"a mapping of {what}",
            "an empty file" if data is None else type(data).__name__, 1)])
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        raise InputFileError(file, [_problem(e, data, lines, model) for e in exc.errors(
            include_url=False)]) from None


def line_of(text: str, path: Loc) -> int | None:
    """The line of ``path`` (or of its nearest existing parent) in YAML ``text``."""
    try:
        _, lines = _compose(text, "<text>")
    except InputFileError:
        return None
    return _line_for(path, lines)


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Validate scenario text; raise InputFileError listing every problem with its line."""
    scenario, lines = _parse_model(text, file, Scenario,
                                   "scenario keys (name, duration, audience, ...)")
    from simlive.scenario.checks import cross_check

    problems = [FileProblem(format_path(p), exp, found, _line_for(tuple(p), lines))
                for p, exp, found in cross_check(scenario)]
    if problems:
        raise InputFileError(file, problems)
    return scenario


def read_text(path: str | Path) -> str:
    """A YAML file's text; a missing or unreadable file is a InputFileError naming it."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(p), [FileProblem("", "an existing file",
                                                     "no such file")]) from None
    except OSError as exc:
        raise InputFileError(str(p), [FileProblem("", "a readable UTF-8 text file",
                                                     type(exc).__name__)]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputFileError(str(p), [FileProblem(
            "", "a UTF-8 text file", f"byte 0x{raw[exc.start]:02x} at column {column}, not "
            "UTF-8 (saved as Latin-1 or another encoding?)", line)]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a missing or unreadable file is a InputFileError."""
    return parse_scenario(read_text(path), str(path))
