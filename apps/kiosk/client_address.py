"""Which kiosk a request comes from: its client address.

REMOTE_ADDR, unless the request comes from a proxy listed in ``KIOSK_TRUSTED_PROXIES``: then the
X-Forwarded-For entry that proxy added — read from the right, skipping trusted proxies, so an
address a client wrote into the header itself is never believed. A header from anyone else is
ignored: otherwise every guess could name a new "kiosk".
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted() -> list[Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.KIOSK_TRUSTED_PROXIES]


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def kiosk_client_address(request: HttpRequest) -> str:
    remote = _parse(request.META.get("REMOTE_ADDR", "")) or ipaddress.ip_address("0.0.0.0")  # noqa: S104
    trusted = _trusted()

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    if not is_trusted(remote):
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:  # a malformed entry: nothing left of it can be believed
            break
        if not is_trusted(address):
            return str(address)
    return str(remote)
