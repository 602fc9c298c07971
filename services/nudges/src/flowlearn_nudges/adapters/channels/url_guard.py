"""Outgoing URLs are user input: keep them from reaching into our own network (SSRF).

In production a URL is refused when its host is, or resolves to, a loopback, link-local,
private, shared (CGNAT), multicast, reserved or unspecified address. *Every* A/AAAA record
is checked, IPv4 inside IPv6 (mapped, 6to4, Teredo) is unwrapped, and the check runs when
the URL is saved *and* at each send. At send time the request then goes to the addresses
just checked (the connection is pinned, with the original Host header and TLS server name),
so a DNS answer that changes between check and connect (rebinding) cannot slip through.
Redirects are never followed. In dev and test every address is allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedUrl(Exception):
    """The URL may not be called; the message says why, for the person who set it."""


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return refusal(address.ipv4_mapped)
        if address.sixtofour is not None:
            return refusal(address.sixtofour)
        if address.teredo is not None:
            return refusal(address.teredo[1])
    checks = (  # most telling name first: Python also counts most of these as private
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, applies in checks:
        if applies:
            return name
    return None if address.is_global else "non-public"


def parse_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def is_literal(self) -> bool:
        return parse_address(self.host) is not None


def split_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise RefusedUrl("only http and https URLs are accepted")
    if "@" in parts.netloc:
        raise RefusedUrl("a URL must not carry a user name or password")
    host = parts.hostname
    if not host:
        raise RefusedUrl("the URL needs a host")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise RefusedUrl("the URL's port is not valid") from None
    return scheme, host, port


class UrlGuard:
    def __init__(self, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolver = resolver

    async def check(self, url: str, *, resolve: bool = True) -> Target:
        """The URL's target after the checks; raises RefusedUrl. ``resolve=False`` skips
        the lookup where every address is allowed anyway (dev and test, at save time)."""
        scheme, host, port = split_url(url)
        literal = parse_address(host)
        if literal is not None:
            addresses = [str(literal)]
        elif not resolve and self.allow_private:
            return Target(url, scheme, host, port, ())
        else:
            addresses = await self._resolve(host, port)
        if not self.allow_private:
            for text in addresses:
                address = parse_address(text)
                reason = "unparseable" if address is None else refusal(address)
                if reason is not None:
                    shown = host if literal is not None else f"{host} resolves to {text}, which"
                    raise RefusedUrl(
                        f"{shown} is a {reason} address; only public addresses are allowed"
                    )
        return Target(url, scheme, host, port, tuple(addresses))

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                addresses = await self.resolver(host, port)
        except (OSError, TimeoutError, UnicodeError):
            raise RefusedUrl(f"the host {host} cannot be resolved") from None
        if not addresses:
            raise RefusedUrl(f"the host {host} has no address")
        return addresses
