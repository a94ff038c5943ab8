"""What each optional part of simlive needs installed, and the error when it is not.

``pip install simlive`` simulates, plans, re-checks a stored load run and reports; the
reference service, Locust load tests and Dask clusters come as extras (pyproject.toml). A
command that needs one says which, with the command that installs it, instead of failing
on an import deep inside.
"""

from __future__ import annotations

import importlib.util

from simlive.errors import UsageError

_SERVICE = ("fastapi", "uvicorn", "sqlalchemy", "psycopg")
EXTRAS: dict[str, tuple[str, ...]] = {
    "service": _SERVICE,
    "load": ("locust", *_SERVICE),  # --serve starts the service
    "cluster": ("distributed",),
}


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (locust patches the process
    with gevent on import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent missing, or a module set to None
        return False


def require(extra: str, what: str) -> None:
    """Raise a usage error naming the extra ``what`` needs, if any of its modules is
    missing."""
    missing = [m for m in EXTRAS[extra] if not installed(m)]
    if missing:
        raise UsageError(f"{what} needs simlive's [{extra}] extra ({', '.join(missing)} not "
                         f"installed): pip install 'simlive[{extra}]'")
