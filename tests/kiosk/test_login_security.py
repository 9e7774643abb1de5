"""Login that resists guessing (issue 12), with the production PIN hasher (PBKDF2) throughout.

In-process (Django's test client): tries left after a wrong PIN, the same for unknown numbers;
blocked (挂失) and withdrawn (注销) cards answer like unknown numbers; which address a request is
counted under; the per-kiosk limit, its countdown page, its end and the staff's alert; the deploy
check against a per-process cache.

Against gunicorn with 4 workers and the Redis cache (separate processes, real HTTP with CSRF):
a spray of wrong logins from one kiosk gets 429 after 5 while another kiosk logs in; 12 PINs at
once on one card, one of them right, never check more than 3 in a row and none logs in once the
card is locked; an unknown number locks exactly like a real card, same status and same page.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import global_settings
from django.test import Client, RequestFactory

from apps.cards.models import ServiceCard
from apps.core.models import AuditEvent
from tests.factories import CARD_PIN, unionpay_account
from tests.kiosk.conftest import track2

LOCKED = "此卡已锁定，请联系银行柜台解锁"
WAIT = "登录失败次数过多"


@pytest.fixture(autouse=True)
def production_hasher(settings):
    """Django's own hashers, PBKDF2 first, as production runs them (the suite's default is MD5)."""
    settings.PASSWORD_HASHERS = list(global_settings.PASSWORD_HASHERS)
    assert settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")


def normalized(html: str) -> str:
    """A page with what differs on every render taken out: the CSRF token and the shuffled PIN pad."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r'data-digit="\d">\d<', 'data-digit="#">#<', html)


def kiosk(address: str) -> Client:
    """A browser at one kiosk (its own address, so one test's tries never reach another's limit)."""
    return Client(REMOTE_ADDR=address)


def post_login(client: Client, number: str, pin: str, **extra):
    return client.post("/", {"card": track2(number), "pin": pin}, **extra)


# --- tries left, unknown numbers, blocked and withdrawn cards (in-process) -----------------------


def test_a_wrong_pin_says_how_many_tries_remain_and_an_unknown_number_reads_the_same(our_agent):
    unknown = unionpay_account(424242)
    for remaining in (2, 1, None):
        real = post_login(kiosk("10.6.0.1"), our_agent.card_number, "000000")
        fake = post_login(kiosk("10.6.0.2"), unknown, "000000")
        expected = f"卡号或密码错误，还可尝试 {remaining} 次" if remaining else LOCKED
        assert expected in real.content.decode()
        assert real.status_code == fake.status_code == 200
        assert normalized(real.content.decode()) == normalized(fake.content.decode())


def test_the_tries_left_in_english(our_agent):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = post_login(client, our_agent.card_number, "000000").content.decode()
    assert "Card number or PIN is incorrect. 2 tries left" in html
    html = post_login(client, unionpay_account(515151), "000000").content.decode()
    assert "Card number or PIN is incorrect. 2 tries left" in html


def test_an_unknown_number_stays_locked_and_its_counter_holds_no_number(our_agent):
    from apps.cards.models import UnknownCardAttempt
    from apps.cards.services import card_number_hash

    unknown = unionpay_account(626262)
    for _ in range(3):
        post_login(Client(), unknown, "000000")
    row = UnknownCardAttempt.objects.get()
    assert row.number_hash == card_number_hash(unknown)
    assert row.failed_attempts == 3
    assert row.locked_at is not None
    # No expiry, as a real lock has none; a later try is not even checked.
    assert LOCKED in post_login(Client(), unknown, CARD_PIN).content.decode()
    assert UnknownCardAttempt.objects.get().failed_attempts == 3
    assert unknown not in " ".join(f"{e.actor} {e.detail}" for e in AuditEvent.objects.all())


@pytest.mark.parametrize("service", ["card_block", "card_withdraw"])
def test_a_blocked_or_withdrawn_card_answers_exactly_like_an_unknown_number(our_agent, service):
    from apps.cards import services

    getattr(services, service)(card=our_agent.card, reason="遗失", actor="clerk01")
    unknown = unionpay_account(737373)
    pages = []
    for _ in range(4):
        # The right PIN on the blocked card, any PIN on the unknown number: the same answers.
        real = post_login(kiosk("10.6.1.1"), our_agent.card_number, CARD_PIN)
        fake = post_login(kiosk("10.6.1.2"), unknown, CARD_PIN)
        assert real.status_code == fake.status_code == 200
        assert normalized(real.content.decode()) == normalized(fake.content.decode())
        pages.append(real.content.decode())
    assert "还可尝试 2 次" in pages[0]
    assert "还可尝试 1 次" in pages[1]
    assert LOCKED in pages[2]
    assert LOCKED in pages[3]
    assert not AuditEvent.objects.filter(action="card_login").exists()
    # The card's own counter was never touched: it is the unknown-number counter that locked.
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert (card.failed_attempts, card.locked_at, card.last_login_at) == (0, None, None)


def test_a_card_found_again_logs_in_after_unblocking(our_agent):
    from apps.cards.services import card_block, card_unblock

    card_block(card=our_agent.card, reason="遗失", actor="clerk01")
    assert "还可尝试 2 次" in post_login(Client(), our_agent.card_number, CARD_PIN).content.decode()
    card_unblock(card=our_agent.card, reason="卡片已找回，核实身份", actor="clerk01")
    assert post_login(Client(), our_agent.card_number, CARD_PIN).status_code == 302


# --- which kiosk: the client address ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("10.1.2.3", "", [], "10.1.2.3"),
        # A client writing the header itself is not believed.
        ("10.1.2.3", "192.0.2.99", [], "10.1.2.3"),
        ("10.1.2.3", "192.0.2.99", ["127.0.0.1"], "10.1.2.3"),
        # Through the bank's proxy: the address the proxy added (the right-most), not one the client sent.
        ("127.0.0.1", "10.9.9.9", ["127.0.0.1"], "10.9.9.9"),
        ("127.0.0.1", "192.0.2.99, 10.9.9.9", ["127.0.0.1"], "10.9.9.9"),
        ("172.16.0.5", "10.9.9.9, 172.16.0.4", ["172.16.0.0/24"], "10.9.9.9"),
        ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
    ],
)
def test_the_kiosk_address_believes_forwarding_only_from_a_trusted_proxy(settings, remote, forwarded, trusted,
                                                                         expected):
    from apps.kiosk.client_address import kiosk_client_address

    settings.KIOSK_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert kiosk_client_address(request) == expected


# --- the per-kiosk limit (in-process) ------------------------------------------------------------------


def test_five_failures_from_one_kiosk_make_it_wait_and_staff_see_it(our_agent, other_agent, settings, admin_client):
    from apps.cards.models import KioskLockout

    settings.KIOSK_TRUSTED_PROXIES = []
    spray = kiosk("10.7.0.1")
    for n in range(5):
        response = post_login(spray, unionpay_account(880000 + n), "000000")
        assert response.status_code == 200
        assert "卡号或密码错误" in response.content.decode()
    events = AuditEvent.objects.count()

    # The sixth try, even the right PIN of a real card, is not checked: 429 and a countdown.
    waiting = post_login(spray, our_agent.card_number, CARD_PIN, HTTP_X_FORWARDED_FOR="10.99.0.1")
    html = waiting.content.decode()
    assert waiting.status_code == 429
    assert WAIT in html
    assert re.search(r"1[45]:\d\d", html)
    assert re.search(r'data-wait-seconds="(899|900)"', html)
    assert ServiceCard.objects.get(pk=our_agent.card.pk).last_login_at is None
    assert AuditEvent.objects.count() == events  # nothing checked, nothing recorded
    assert spray.get("/").status_code == 429  # the login screen waits too
    assert spray.post("/", {"card": "", "pin": ""}).status_code == 429

    # Another kiosk is not affected.
    assert post_login(kiosk("10.7.0.2"), other_agent.card_number, CARD_PIN).status_code == 302

    lockout = KioskLockout.objects.get()
    assert (lockout.address, lockout.failures) == ("10.7.0.1", 5)
    assert AuditEvent.objects.filter(action="kiosk_lockout", object_id=str(lockout.pk)).count() == 1
    page = admin_client.get("/admin/cards/kiosklockout/").content.decode()
    assert "10.7.0.1" in page
    # The alert on the admin index, for as long as the kiosk waits.
    index = admin_client.get("/admin/").content.decode()
    assert "自助终端 10.7.0.1 登录失败 5 次，须等待至" in index
    KioskLockout.objects.update(until=lockout.started_at)
    assert "自助终端 10.7.0.1" not in admin_client.get("/admin/").content.decode()


def test_staff_end_a_wait_early_and_only_with_the_card_permission(our_agent, admin_client, django_user_model):
    from django.contrib.auth.models import Permission

    from apps.cards.models import KioskLockout

    spray = kiosk("10.7.4.1")
    for n in range(5):
        post_login(spray, unionpay_account(883000 + n), "000000")
    lockout = KioskLockout.objects.get()
    changelist = "/admin/cards/kiosklockout/"
    action = {"action": "release_selected", "_selected_action": [lockout.pk], "index": 0}

    viewer = django_user_model.objects.create_user("viewer-kong", password="viewer-kong-pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_kiosklockout"))
    viewer_client = Client()
    viewer_client.force_login(viewer)
    events = AuditEvent.objects.count()
    viewer_client.post(changelist, action)
    assert KioskLockout.objects.get().until == lockout.until
    assert AuditEvent.objects.count() == events
    assert spray.get("/").status_code == 429

    assert admin_client.post(changelist, action).status_code == 302
    assert spray.get("/").status_code == 200
    assert post_login(spray, our_agent.card_number, CARD_PIN).status_code == 302
    assert AuditEvent.objects.filter(action="kiosk_lockout_release", object_id=str(lockout.pk)).count() == 1
    # Ending it again changes nothing.
    admin_client.post(changelist, action)
    assert AuditEvent.objects.filter(action="kiosk_lockout_release").count() == 1


def test_a_right_pin_gives_its_try_back_but_the_failures_still_count(our_agent):
    spray = kiosk("10.7.1.1")
    for _ in range(2):
        post_login(spray, our_agent.card_number, "000000")
    assert post_login(spray, our_agent.card_number, CARD_PIN).status_code == 302
    spray.post("/logout/")
    for n in range(3):
        assert post_login(spray, unionpay_account(881000 + n), "000000").status_code == 200
    assert post_login(spray, unionpay_account(881100), "000000").status_code == 429


def test_the_wait_ends_by_itself(our_agent, settings):
    import time

    settings.KIOSK_LOGIN_FAILURES = 2
    settings.KIOSK_LOGIN_WAIT_SECONDS = 1
    spray = kiosk("10.7.2.1")
    for n in range(2):
        post_login(spray, unionpay_account(882000 + n), "000000")
    assert spray.get("/").status_code == 429
    deadline = time.monotonic() + 15
    while spray.get("/").status_code == 429:  # the cache entry expires on Redis' own clock
        assert time.monotonic() < deadline, "the wait never ended"
        time.sleep(0.2)
    assert post_login(spray, our_agent.card_number, CARD_PIN).status_code == 302


def test_an_empty_form_counts_nothing(db):
    spray = kiosk("10.7.3.1")
    for _ in range(8):
        assert spray.post("/", {"card": "", "pin": ""}).status_code == 200
    assert spray.get("/").status_code == 200


def test_deploy_check_refuses_a_per_process_cache(settings):
    from apps.core.checks import check_shared_cache

    for backend in ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"):
        settings.CACHES = {"default": {"BACKEND": backend}}
        assert [e.id for e in check_shared_cache(None)] == ["core.E002"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/14"}}
    assert check_shared_cache(None) == []


def test_the_suite_counts_in_redis():
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)


# --- against gunicorn: 4 workers, Redis, PBKDF2, real HTTP ------------------------------------------------


@pytest.fixture(scope="module")
def login_server(django_db_setup, session_dir) -> Iterator[str]:
    """gunicorn with 4 workers on this run's test database and Redis cache, the production hasher,
    and 127.0.0.1 as the trusted proxy: each test kiosk is named by its X-Forwarded-For."""
    from tests.conftest import worker_env
    from tests.support.processes import PYTHON, free_port, process_start, wait_until

    port = free_port()
    env = worker_env() | {"PRODUCTION_PIN_HASHER": "1", "KIOSK_TRUSTED_PROXIES": "127.0.0.1"}
    argv = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "4", "--timeout", "120", "--access-logfile", "-"]
    server = process_start(name="login-web", argv=argv, env=env, log_dir=session_dir)

    def up() -> bool:
        if not server.alive():
            raise RuntimeError(f"web server exited early:\n{server.log()}")
        try:
            return HttpKiosk(f"http://127.0.0.1:{port}", "127.0.0.1").request("GET", "/healthz/")[0] == 200
        except OSError:
            return False

    wait_until(up, timeout=90, what="gunicorn")
    yield f"http://127.0.0.1:{port}"
    server.stop()


class HttpKiosk:
    """One kiosk speaking HTTP to the server: its own cookies, its own address (X-Forwarded-For)."""

    def __init__(self, url: str, address: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.address = parts.hostname, parts.port, address
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value
            return response.status, text
        finally:
            connection.close()

    def open(self) -> int:
        status, text = self.request("GET", "/")
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)[1]
        return status

    def login(self, number: str, pin: str) -> tuple[int, str]:
        return self.request("POST", "/", {"csrfmiddlewaretoken": self.token, "card": track2(number), "pin": pin})


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_gunicorn_spray_from_one_kiosk_gets_429_after_5_and_another_kiosk_is_unaffected(
    login_server, our_agent, other_agent
):
    spray = HttpKiosk(login_server, "10.30.0.1")
    assert spray.open() == 200
    numbers = [unionpay_account(990100 + n) for n in range(4)] + [other_agent.card_number]
    for number in numbers:
        status, html = spray.login(number, "000000")
        assert status == 200, html[-600:]
        assert "卡号或密码错误" in html

    # The sixth, with the right PIN of a real card: not checked, the kiosk waits (429, countdown).
    status, html = spray.login(our_agent.card_number, CARD_PIN)
    assert status == 429, f"the sixth login from one kiosk answered {status}"
    assert WAIT in html
    assert "data-wait-seconds" in html
    assert spray.request("GET", "/")[0] == 429
    assert not AuditEvent.objects.filter(action="card_login").exists()

    # Another kiosk, the same card, the right PIN: in.
    other = HttpKiosk(login_server, "10.30.0.2")
    other.open()
    assert other.login(our_agent.card_number, CARD_PIN)[0] == 302
    assert AuditEvent.objects.filter(action="card_login").count() == 1

    from apps.cards.models import KioskLockout

    assert list(KioskLockout.objects.values_list("address", flat=True)) == ["10.30.0.1"]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_gunicorn_twelve_parallel_pins_on_one_card_check_at_most_three_and_none_logs_in_once_locked(
    login_server, our_agent
):
    wrong = [f"{n:06d}" for n in range(100001, 100012)]  # 11 wrong PINs
    pins = [*wrong[:6], CARD_PIN, *wrong[6:]]
    kiosks = [HttpKiosk(login_server, f"10.40.0.{n + 1}") for n in range(len(pins))]  # 12 kiosks: no kiosk limit
    for one in kiosks:
        one.open()
    barrier = threading.Barrier(len(pins))
    answers: dict[str, tuple[int, str]] = {}

    def guess(one: HttpKiosk, pin: str) -> None:
        barrier.wait(timeout=60)
        answers[pin] = one.login(our_agent.card_number, pin)

    threads = [threading.Thread(target=guess, args=(one, pin)) for one, pin in zip(kiosks, pins, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(answers) == len(pins)

    card_id = str(our_agent.card.pk)
    events = list(AuditEvent.objects.filter(object_id=card_id, action__in=[
        "card_login_failed", "card_login", "card_lock"]).order_by("pk").values_list("action", flat=True))
    checked = [e for e in events if e != "card_lock"]
    logged_in = [pin for pin, (status, _) in answers.items() if status == 302]
    # At most 3 wrong PINs checked before the card locks (or before the right one logs in).
    run = longest = 0
    for action in checked:
        run = run + 1 if action == "card_login_failed" else 0
        longest = max(longest, run)
    assert longest <= 3, f"{longest} wrong PINs checked in a row: {events}"
    # None logs in once locked.
    if "card_lock" in events:
        assert "card_login" not in events[events.index("card_lock"):], events
    assert logged_in in ([], [CARD_PIN])
    assert events.count("card_login") == len(logged_in)
    if not logged_in:
        # The right PIN came after three wrong ones: exactly 3 checked, the card locked.
        assert checked == ["card_login_failed"] * 3, events
        card = ServiceCard.objects.get(pk=our_agent.card.pk)
        assert card.locked_at is not None
        assert card.failed_attempts == 3
    for pin, (status, html) in answers.items():
        if status != 302:
            assert status == 200, (pin, status, html[-400:])
            assert "还可尝试" in html or LOCKED in html, (pin, html[-400:])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_gunicorn_an_unknown_number_locks_like_a_real_card_same_status_same_page(login_server, our_agent):
    real = HttpKiosk(login_server, "10.50.0.1")
    fake = HttpKiosk(login_server, "10.50.0.2")
    real.open()
    fake.open()
    unknown = unionpay_account(991234)
    for pin in ("000000", "111111", "222222", CARD_PIN):
        real_status, real_html = real.login(our_agent.card_number, pin)
        fake_status, fake_html = fake.login(unknown, pin)
        assert real_status == fake_status == 200
        assert normalized(real_html) == normalized(fake_html), pin
    assert LOCKED in real_html
    assert ServiceCard.objects.get(pk=our_agent.card.pk).locked_at is not None
