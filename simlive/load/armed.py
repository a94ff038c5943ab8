"""A request held back by its last byte, sent the instant a flash sale is released.

Buyers released together only overlap at the shop if their requests arrive together. A
Locust user sends a request when its greenlet gets to it, and a thousand greenlets building
and writing a thousand requests spread them over hundreds of milliseconds. So each buyer's
commit request is written ahead on its own connection, all but its last byte: the shop has
read the headers and most of the body and is waiting for the rest. At the release the crowd
writes one byte on each connection, a few microseconds each, and every request is complete
at the shop within milliseconds (the last-byte synchronisation of race-condition testing).

Runs under gevent (Locust patches the socket module); the answer is parsed by the standard
library's HTTP response reader. No locust import: the crowd reports to Locust's statistics.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urlsplit
from urllib.request import Request as UrlRequest

from simlive.shops.client import Answer, Prepared

USER_AGENT = "simlive flash-sale buyer"


def encode(request: Prepared, host: str, cookies: CookieJar | None = None) -> bytes:
    """The request's bytes on the wire (HTTP/1.1, one request, then the connection closes)."""
    parts = urlsplit(host)
    path = (parts.path.rstrip("/") + request.url) or "/"
    if request.params:
        path += "?" + urlencode(request.params)
    headers = {"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
               "Connection": "close"}
    body = b""
    if request.json_body is not None:
        body = json.dumps(request.json_body).encode()
        headers["Content-Type"] = "application/json"
    elif request.form is not None:
        body = urlencode(request.form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.update(request.headers)
    if cookies is not None:
        probe = UrlRequest(host.rstrip("/") + path)
        cookies.add_cookie_header(probe)
        cookie = probe.get_header("Cookie")
        if cookie and "Cookie" not in headers:
            headers["Cookie"] = cookie
    if body or request.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    head = f"{request.method} {path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


class ArmedRequest:
    """One connection holding one request but its last byte."""

    def __init__(self, host: str, request: Prepared, timeout: float,
                 cookies: CookieJar | None = None) -> None:
        self.request = request
        self.data = encode(request, host, cookies)
        self.timeout = timeout
        parts = urlsplit(host)
        self.address = (parts.hostname or "127.0.0.1",
                        parts.port or (443 if parts.scheme == "https" else 80))
        self.tls = parts.scheme == "https"
        self.sock: socket.socket | None = None
        self.sent: float | None = None  # time.time() when the last byte left
        self.error: str | None = None

    def arm(self) -> bool:
        """Connect and write all but the last byte; False (``error`` says why) if not."""
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # as Locust
                sock = ctx.wrap_socket(sock, server_hostname=self.address[0])
            sock.sendall(self.data[:-1])
            self.sock = sock
            return True
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return False

    def fire(self) -> None:
        """Write the last byte (the request is now complete at the shop); nothing if the
        connection was never made (``sent`` stays None)."""
        if self.sock is None:
            return
        try:
            self.sock.sendall(self.data[-1:])
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        self.sent = time.time()

    def answer(self) -> Answer:
        """Read the shop's answer (blocking this greenlet only); the connection closes."""
        sock = self.sock
        if sock is None or self.error is not None:
            self.close()
            return Answer(0, error=self.error or "not armed",
                          refused="refused" in (self.error or "").lower())
        try:
            resp = http.client.HTTPResponse(sock, method=self.request.method)
            resp.begin()
            body = resp.read()
            headers: dict[str, str] = {}
            for k, v in resp.getheaders():
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
            return Answer(resp.status, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            return Answer(0, error=f"{type(exc).__name__}: {exc}")
        finally:
            self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
