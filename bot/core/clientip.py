"""Who is calling: the peer's address, or the client named in X-Forwarded-For when (and only
when) the peer is a reverse proxy we trust. Pure."""
from __future__ import annotations

import ipaddress
from typing import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (or single addresses); ValueError naming the bad one."""
    out = []
    for item in (part.strip() for part in (text or "").split(",")):
        if item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR") from None
    return tuple(out)


def _address(text: str | None) -> Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _within(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> Address | None:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy; the first
    untrusted hop is the client. A header from an untrusted peer is ignored: anyone can send one."""
    current = _address(peer)
    if current is None or not forwarded_for or not _within(current, trusted):
        return current
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        current = _address(hop)
        if current is None:
            return None  # a mangled chain: nobody can say who the client is
        if not _within(current, trusted):
            return current
    return current


def allowed(address: Address | None, networks: tuple[Network, ...]) -> bool:
    """No networks configured: anyone; otherwise only addresses inside one."""
    if not networks:
        return True
    return address is not None and _within(address, networks)
