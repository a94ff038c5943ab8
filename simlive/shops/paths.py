"""JMESPath as target files use it, with three functions for shop answers.

JMESPath has no arithmetic, and shops often state stock as two numbers (in stock and
allocated) or leave a count ``null`` until the first sale. So target files may also call
``sub(a, b)`` and ``add(a, b)`` (a null counts as 0) and ``nz(x)`` (null -> 0), e.g.
``sub(stockrecords[0].num_in_stock, stockrecords[0].num_allocated)``.
"""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath import functions


class _Functions(functions.Functions):
    @functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_sub(self, a: Any, b: Any) -> Any:
        return (a or 0) - (b or 0)

    @functions.signature({"types": ["number", "null"]}, {"types": ["number", "null"]})
    def _func_add(self, a: Any, b: Any) -> Any:
        return (a or 0) + (b or 0)

    @functions.signature({"types": ["number", "null"]})
    def _func_nz(self, a: Any) -> Any:
        return a or 0


OPTIONS = jmespath.Options(custom_functions=_Functions())


def search(expr: str, data: Any) -> Any:
    """``expr`` over ``data``; an expression that cannot apply (a type error on a shop's
    odd answer) gives None rather than an exception."""
    try:
        return jmespath.search(expr, data, options=OPTIONS)
    except jmespath.exceptions.JMESPathError:
        return None


FUNCTIONS = frozenset(name.removeprefix("_func_") for name in dir(_Functions)
                      if name.startswith("_func_"))
