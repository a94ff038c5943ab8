"""Python hooks: what a target file cannot say (signed requests, a checkout in five steps).

A target file names a class with ``hooks: my_shop.hooks:ShopHooks``. simlive creates one
instance per identity (each Locust user, setup) and, before running an operation, calls the
hook's method of the same name if it has one::

    class ShopHooks:
        def order(self, client, args):
            # client: simlive.shops.client.OperationClient (its transport, tokens, context)
            # args: the operation's arguments (sku, quantity, key, ...)
            # return an OpResult, or None to run the file's mapping instead
            ...

A hook imports what it needs from this module alone (``OperationClient``, ``OpResult``,
``OK``, ``Request``, ``send``). :meth:`send` builds, signs and sends one request through
the client's transport (so Locust's statistics and the history see it) and reads its
outcome.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import partial
from pathlib import Path
from typing import Any

from simlive.errors import UsageError
from simlive.shops.client import OK, OperationClient, OpResult, Prepared, read_answer
from simlive.shops.target_file import Request

__all__ = ["OK", "OpResult", "OperationClient", "Request", "load_hooks", "send"]


def load_hooks(spec: str | None) -> Any:
    """An instance of the class ``module.path:ClassName``, or None."""
    if not spec:
        return None
    module, _, name = spec.rpartition(":")
    try:
        if module.endswith(".py"):
            loader = importlib.util.spec_from_file_location(Path(module).stem, module)
            if loader is None or loader.loader is None:
                raise ImportError(f"cannot load {module}")
            mod = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(mod)
        else:
            mod = importlib.import_module(module)
        cls = getattr(mod, name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"hooks(={spec!r}): cannot load it ({type(exc).__name__}: {exc})"
                         ) from None
    return cls()


def send(client: OperationClient, step: Request, name: str, args: dict[str, Any]) -> OpResult:
    """Send one request described like a target-file step; for hooks that compute headers
    (signatures) and then want the usual reading of the answer."""
    from simlive.shops.target_file import Operation

    ctx = client.context_for(name, args)
    req: Prepared = client.prepare(Operation(steps=[step]), step, name, ctx)
    ans = client.transport.send(req, partial(read_answer, step))
    reading = read_answer(step, ans)
    from simlive.shops.client import extract

    fields = extract(step, ans) if reading.outcome == "ok" else {}
    return OpResult(reading.outcome, fields, ans.status, reading.reason, [(req, ans, reading)])
