"""Kiosk test helpers on top of the suite's personas (tests/factories.py: our_agent, other_agent, bank_staff)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CARD_PIN, CHECK_CODE


@pytest.fixture(autouse=True)
def kiosk_clock(business_clock):
    # Tuesday 1 December 2026, 10:00 Shanghai: a working day, inside service hours.
    return business_clock


def track2(pan: str) -> str:
    return f";{pan}=28121010000000000000?"


def login(client: Client, party, pin: str = CARD_PIN):
    return client.post("/", {"card": track2(party.card_number), "pin": pin})


def checklist_typed(client: Client, batch, code: str = CHECK_CODE) -> None:
    """核对清单核对 as the agent does it before 确认入库: the 核对码 printed on the checklist typed in
    (the factory's files carry CHECK_CODE, as the current client's carry theirs)."""
    response = client.post(f"/payroll/{batch.pk}/checklist/", {"checklist": code})
    assert response.status_code == 302, response.content.decode()[:300]


@pytest.fixture
def our_client(our_agent) -> Client:
    """Our company's agent, logged in at the kiosk."""
    client = Client()
    response = login(client, our_agent)
    assert response.status_code == 302, response.content.decode()[:300]
    return client


@pytest.fixture
def other_client(other_agent) -> Client:
    """Another company's agent, logged in at another kiosk."""
    client = Client()
    assert login(client, other_agent).status_code == 302
    return client


# The browser modules' Chromium (one per module) and a kiosk tab on the live server; a module that
# needs another window size defines its own ``page``.
@pytest.fixture(scope="module")
def browser():
    from tests.support.browser import chromium  # it imports this module's track2

    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, live_server):
    from tests.support.browser import kiosk_page

    with kiosk_page(browser, live_server.url) as tab:
        yield tab
