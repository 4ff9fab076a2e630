"""A minimal HTTP/1.1 client, blocking and asyncio, on the standard library only.

One connection per call (``Connection: close``): the client makes few calls, long-polls
hold their connection for a minute anyway, and a fresh connection keeps the failure modes
simple (a server restart never leaves a stale keep-alive socket behind). Every failure to
get a complete answer becomes :class:`~countersign.errors.TransportError`; any HTTP status,
4xx and 5xx included, is a successful :class:`HttpResponse` for the caller to judge.
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
from dataclasses import dataclass
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

from .errors import TransportError

USER_AGENT = "countersign-python/0.1"
_MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Dict[str, str]  # names lower-cased
    body: bytes


class Endpoint:
    """Where the server is: ``http(s)://host[:port][/prefix]``. Immutable; thread-safe."""

    def __init__(self, url: str, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid countersign URL {url!r}: expected http(s)://HOST[:PORT]")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"invalid countersign URL {url!r}: no query, fragment or user info")
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"invalid countersign URL {url!r}: {exc}") from None
        self.port = port or (443 if self.tls else 80)
        self.host_header = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.ssl_context = (ssl_context or ssl.create_default_context()) if self.tls else None

    # -- blocking --------------------------------------------------------------------------
    def call(self, method: str, target: str, body: Optional[bytes], headers: Dict[str, str],
             timeout: float) -> HttpResponse:
        """One exchange. ``timeout`` bounds connecting and each read or write."""
        if self.tls:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            all_headers = {"Host": self.host_header, "User-Agent": USER_AGENT,
                           "Accept": "application/json", "Connection": "close", **headers}
            conn.request(method, self.prefix + target, body=body, headers=all_headers)
            resp = conn.getresponse()
            data = resp.read()
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(self._describe(exc)) from exc
        finally:
            conn.close()

    # -- asyncio ---------------------------------------------------------------------------
    async def call_async(self, method: str, target: str, body: Optional[bytes],
                         headers: Dict[str, str], timeout: float) -> HttpResponse:
        """One exchange on the running event loop; ``timeout`` bounds the whole of it.

        Cancelling the awaiting task closes the connection at once.
        """
        try:
            return await asyncio.wait_for(self._exchange(method, target, body, headers),
                                          timeout)
        except asyncio.TimeoutError as exc:
            raise TransportError(f"no answer from countersign at {self.url} within "
                                 f"{timeout:g} s") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            raise TransportError(self._describe(exc)) from exc

    async def _exchange(self, method: str, target: str, body: Optional[bytes],
                        headers: Dict[str, str]) -> HttpResponse:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.ssl_context,
            server_hostname=self.host if self.tls else None, limit=_MAX_HEAD_BYTES)
        try:
            lines = [f"{method} {self.prefix}{target} HTTP/1.1", f"Host: {self.host_header}",
                     f"User-Agent: {USER_AGENT}", "Accept: application/json",
                     "Connection: close"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            if body is not None:
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
            await writer.drain()
            status, response_headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            data = await _read_body(reader, response_headers)
            return HttpResponse(status, response_headers, data)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, asyncio.CancelledError):
                pass

    def _describe(self, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        return f"cannot reach countersign at {self.url}: {reason}"


def _parse_head(head: bytes) -> Tuple[int, Dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {lines[0][:80]!r}")
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: Dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()
