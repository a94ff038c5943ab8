"""Reading target files and token files, with the scenario loader's file:line messages.

``reference`` names the shipped target of simlive's own service. A token file is JSON:
``{"admin": "t0", "buyer": ["t1", "t2"], ...}`` (a string or a list per key); the reference
service's ``--tokens`` file is one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from simlive.errors import FileProblem, InputFileError, UsageError
from simlive.operations import COMMON, OPERATIONS
from simlive.scenario.loader import line_of, parse_model, read_text
from simlive.shops.target_file import Target
from simlive.shops.template import names

REFERENCE = Path(__file__).with_name("reference.yaml")
SHIPPED = {"reference": REFERENCE}


def target_path(name: str | Path) -> Path:
    return SHIPPED.get(str(name), Path(name))


def parse_target(text: str, file: str = "<target>") -> Target:
    target = parse_model(text, file, Target, "target keys (name, auth, operations, state)")
    problems = [FileProblem(path, expected, found, line_of(text, tuple(
        int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "")
        .split(".")))) for path, expected, found in cross_check(target)]
    if problems:
        raise InputFileError(file, problems)
    return target


def load_target(name: str | Path) -> Target:
    """A target file by path, or ``reference``; errors name the file, line and key."""
    path = target_path(name)
    if not path.exists():
        import difflib

        close = difflib.get_close_matches(str(name), list(SHIPPED), n=1)
        if close:
            raise UsageError(f"--target(={str(name)!r}): no such file; did you mean the "
                             f"shipped target {close[0]!r}?")
    target = parse_target(read_text(path), str(path))
    if target.hooks and target.hooks.split(":")[0].endswith(".py"):
        file, _, cls = target.hooks.rpartition(":")
        where = (path.parent / file).resolve()
        if not where.exists():
            raise InputFileError(str(path), [FileProblem(
                "hooks", "a Python file beside the target file", f"no file {where}",
                line_of(read_text(path), ("hooks",)))])
        target = target.model_copy(update={"hooks": f"{where}:{cls}"})
    return target


def cross_check(target: Target) -> list[tuple[str, str, str]]:
    """What the schema cannot see: placeholders an operation has no value for, credentials
    minted by an operation the file does not map."""
    out: list[tuple[str, str, str]] = []
    for name, op in target.operations.items():
        if op is None:
            continue
        known = set(OPERATIONS[name].uses) | set(COMMON) | {"product", "sku", "product_id"}
        for i, step in enumerate(op.steps):
            used = names([step.url, step.headers, step.query, step.json_body, step.form])
            for u in sorted(used):
                root = u.split(".")[0]
                if root not in known:
                    out.append((f"operations.{name}.steps[{i}]" if len(op.steps) > 1
                                else f"operations.{name}.url",
                                f"placeholders from: {', '.join(sorted(known))}",
                                f"{{{{ {u} }}}}"))
            known |= set(step.extract)
    for role, cred in target.auth.items():
        if cred.source in ("create_users", "start_session", "login") and not target.supports(
                cred.source):
            out.append((f"auth.{role}.from", f"an operation the file maps ({cred.source} is "
                        "not in operations)", cred.source))
    return out


def read_tokens(path: str | Path | None, admin_token: str | None = None) -> dict[str, list[str]]:
    """Tokens by role from a token file, plus ``admin_token`` (``--admin-token``)."""
    tokens: dict[str, list[str]] = {}
    if path is not None:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"--token-file {p}: no such file") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"--token-file {p}: expected a JSON object of tokens by role; "
                             f"cannot read it ({type(exc).__name__})") from None
        if not isinstance(data, Mapping):
            raise UsageError(f"--token-file {p}: expected a JSON object of tokens by role; "
                             f"found {type(data).__name__}")
        for key, value in data.items():
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not all(isinstance(v, str) and v
                                                       for v in values):
                raise UsageError(f"--token-file {p}: {key}: expected a token or a list of "
                                 f"tokens; found {value!r:.60}")
            tokens[str(key)] = list(values)
    if admin_token:
        tokens["admin"] = [admin_token]
    return tokens


def env_tokens(variable: str) -> list[str]:
    raw = os.environ.get(variable, "")
    return [t.strip() for t in raw.split(",") if t.strip()]
