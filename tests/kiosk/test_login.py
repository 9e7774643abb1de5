"""Card login at the kiosk, the session it opens, idle logout and 退出系统."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from apps.cards.models import ServiceCard
from apps.core.models import AuditEvent
from apps.kiosk.session import SESSION_CARD, SESSION_SEEN
from tests.factories import CARD_PIN, unionpay_account
from tests.kiosk.conftest import login, track2


def page(response) -> str:
    return response.content.decode()


def test_login_page_has_the_manual_buttons_and_a_pin_pad_of_ten_digits(our_agent):
    response = Client().get("/")
    html = page(response)
    assert response.status_code == 200
    for text in ("点击此处后请刷卡", "输入密码请点此处", "进入"):
        assert text in html
    digits = re.findall(r'data-digit="(\d)"', html)
    assert sorted(digits) == list("0123456789")


def test_track2_swipe_and_pin_reach_home(our_agent):
    client = Client()
    response = client.post("/", {"card": track2(our_agent.card_number), "pin": CARD_PIN})
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert client.session[SESSION_CARD] == our_agent.card.pk
    home = client.get("/home/")
    assert home.status_code == 200
    assert our_agent.company.name in page(home)


def test_a_typed_card_number_works_too(our_agent):
    client = Client()
    spaced = " ".join(our_agent.card_number[i : i + 4] for i in range(0, 19, 4))
    assert client.post("/", {"card": spaced, "pin": CARD_PIN}).status_code == 302


def test_login_gives_a_new_session_id(our_agent):
    client = Client()
    client.get("/")
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    before = session.session_key
    login(client, our_agent)
    after = client.cookies["sessionid"].value
    assert after != before
    assert client.session[SESSION_CARD] == our_agent.card.pk


def test_wrong_pin_and_unknown_card_read_the_same(our_agent):
    wrong = page(Client().post("/", {"card": track2(our_agent.card_number), "pin": "000000"}))
    unknown = page(Client().post("/", {"card": track2(unionpay_account(123456)), "pin": CARD_PIN}))
    assert "卡号或密码错误" in wrong
    assert "卡号或密码错误" in unknown
    # The card number and the PIN are not echoed back into the page.
    assert our_agent.card_number not in wrong
    assert 'value="000000"' not in wrong


def test_three_wrong_pins_lock_the_card_and_it_stays_locked(our_agent):
    client = Client()
    for _ in range(2):
        assert "卡号或密码错误" in page(login(client, our_agent, pin="111111"))
    third = page(login(client, our_agent, pin="111111"))
    assert "此卡已锁定，请联系银行柜台解锁" in third
    card = ServiceCard.objects.get(pk=our_agent.card.pk)
    assert card.locked_at is not None
    assert card.failed_attempts == 3

    right_pin = login(Client(), our_agent)
    assert right_pin.status_code == 200
    assert "此卡已锁定" in page(right_pin)
    assert SESSION_CARD not in client.session


def test_the_message_is_in_english_after_the_switch(our_agent):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = page(client.post("/", {"card": track2(our_agent.card_number), "pin": "000000"}))
    assert "Card number or PIN is incorrect" in html
    assert "Click here, then swipe the card" in page(client.get("/"))


def test_an_empty_form_says_what_to_do(our_agent):
    html = page(Client().post("/", {"card": "", "pin": ""}))
    assert "请先刷卡" in html
    assert not AuditEvent.objects.filter(action__startswith="card_login").exists()


def test_pages_need_a_login(db):
    for url in ("/home/", "/payroll/", "/payroll/upload/", "/employees/", "/employees/upload/", "/returns/"):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/"


def test_home_lists_the_functions_in_the_manual_order(our_client):
    html = page(our_client.get("/home/"))
    names = ["提交员工信息", "查询员工文件", "提交代发工资", "查询工资文件", "回盘文件查询/下载"]
    positions = [html.index(name) for name in names]
    assert positions == sorted(positions)
    assert "退出系统" in html
    assert "**** **** **** " in html


def test_a_logged_in_agent_at_the_login_page_goes_home(our_client):
    response = our_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/home/"


def test_logout_ends_the_session(our_client):
    response = our_client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_CARD not in our_client.session
    assert our_client.get("/home/")["Location"] == "/"


def _age_session(client: Client, seconds: float) -> None:
    session = client.session
    session[SESSION_SEEN] = time.time() - seconds
    session.save()


def test_idle_session_is_logged_out_on_the_server(our_client, settings):
    settings.KIOSK_IDLE_SECONDS = 60
    _age_session(our_client, 61)
    response = our_client.get("/home/")
    assert response.status_code == 302
    assert response["Location"] == "/logged-out/"
    assert SESSION_CARD not in our_client.session
    assert "由于长时间未操作，系统已自动退出" in page(our_client.get("/logged-out/"))


def test_activity_within_the_idle_time_keeps_the_session(our_client, settings):
    settings.KIOSK_IDLE_SECONDS = 60
    _age_session(our_client, 50)
    assert our_client.get("/home/").status_code == 200
    assert time.time() - our_client.session[SESSION_SEEN] < 5


def test_the_page_refreshing_itself_is_not_activity(our_client, settings):
    settings.KIOSK_IDLE_SECONDS = 60
    _age_session(our_client, 50)
    assert our_client.get("/home/?auto=1").status_code == 200
    assert time.time() - our_client.session[SESSION_SEEN] >= 50


def test_the_page_carries_the_idle_settings_for_its_countdown(our_client, settings):
    settings.KIOSK_IDLE_SECONDS = 45
    html = page(our_client.get("/home/"))
    assert 'data-idle-seconds="45"' in html
    assert 'data-countdown-seconds="30"' in html
    assert 'id="idle-countdown"' in html


def test_a_ping_refreshes_the_idle_timer(our_client, settings):
    settings.KIOSK_IDLE_SECONDS = 60
    _age_session(our_client, 50)
    assert our_client.get("/ping/").status_code == 204
    assert time.time() - our_client.session[SESSION_SEEN] < 5


def test_the_countdown_reaching_zero_logs_out(our_client):
    response = our_client.post("/logout/", {"reason": "idle"})
    assert response["Location"] == "/logged-out/"
    assert SESSION_CARD not in our_client.session


def test_a_card_locked_by_staff_meanwhile_ends_the_session(our_client, our_agent):
    from apps.core import clock

    ServiceCard.objects.filter(pk=our_agent.card.pk).update(locked_at=clock.now())
    assert our_client.get("/home/")["Location"] == "/"


@pytest.mark.parametrize("url", ["/home/", "/payroll/", "/employees/", "/returns/"])
def test_other_company_pages_render_for_the_other_agent(other_client, url):
    assert other_client.get(url).status_code == 200
