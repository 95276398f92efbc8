"""Refuse every network connection that does not stay on this machine, so no test can reach the internet."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkAccessDenied(RuntimeError):
    """A test tried to open a connection off this machine."""


def _check(address: Any) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    host = address[0]
    if host in ("localhost", ""):
        return
    try:
        ip = ipaddress.ip_address(host)
    except ValueError as exc:
        raise NetworkAccessDenied(f"tests may not resolve or reach {host!r}") from exc
    if not ip.is_loopback:
        raise NetworkAccessDenied(f"tests may not reach {host}: only loopback addresses are allowed")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def install() -> None:
    """Patch socket connections process-wide (tests and the servers they start in threads)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
