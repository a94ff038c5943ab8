"""simlive hooks for django-oscar: what the target file cannot say.

Oscar keeps one basket per buyer. A purchase that was refused or whose outcome is unknown
can leave a line in it, and the buyer's next checkout would then buy that line too. Before
each ``order`` this hook empties the buyer's basket (read it, list its lines, delete each),
then lets the target file's own ``order`` steps run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from simlive.shops.hooks import OperationClient, Request, send


def _path(url: Any) -> str | None:
    return urlsplit(url).path if isinstance(url, str) and url else None


class OscarHooks:
    def order(self, client: OperationClient, args: dict[str, Any]) -> None:
        basket = send(client, Request(method="GET", url="/api/basket/", role="buyer",
                                      extract={"lines": "lines"}), "order", args)
        lines = _path(basket.fields.get("lines"))
        if basket.ok and lines:
            got = send(client, Request(method="GET", url="{{ lines }}", role="buyer",
                                       extract={"urls": "[].url"}), "order",
                       {**args, "lines": lines})
            for url in got.fields.get("urls") or []:
                if _path(url):
                    send(client, Request(method="DELETE", url="{{ line }}", role="buyer"),
                         "order", {**args, "line": _path(url)})
        return None  # then the file's own steps: add to basket, check out
