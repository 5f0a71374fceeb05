"""The fake LINE API behaves like LINE where our guarantees depend on it: single-use reply tokens
that expire, and content on its own host. Exercised through line-bot-sdk over HTTP, as the bot
calls LINE."""
from __future__ import annotations

import time

import pytest
from linebot.v3.messaging import ApiClient, Configuration, MessagingApiBlob
from linebot.v3.messaging.exceptions import ApiException

from bot.line.gateway import LineGateway
from tests.conftest import ACCESS_TOKEN

HELP = [{"type": "text", "text": "hi"}]


def test_a_reply_token_is_accepted_once(fake_line):
    gateway = LineGateway(fake_line.url, ACCESS_TOKEN)
    fake_line.issue_reply_token("tok-1")
    assert gateway.reply("tok-1", HELP).delivered
    again = gateway.reply("tok-1", HELP)
    assert (again.delivered, again.retry, again.status) == (False, False, 400)
    assert "Invalid reply token" in again.detail
    assert len(fake_line.replies()) == 1


def test_a_reply_token_is_refused_after_it_expired(fake_line):
    gateway = LineGateway(fake_line.url, ACCESS_TOKEN)
    fake_line.issue_reply_token("tok-old", at=time.time() - 61)
    late = gateway.reply("tok-old", HELP)
    assert late.status == 400 and "Invalid reply token" in late.detail and fake_line.replies() == []


def _blob(url: str) -> MessagingApiBlob:
    return MessagingApiBlob(ApiClient(Configuration(host=url, access_token=ACCESS_TOKEN)))


def test_message_content_lives_on_the_data_host_only(fake_line):
    fake_line.put_content("m-1", b"\xff\xd8jpeg", "image/jpeg")
    assert _blob(fake_line.data_url).get_message_content("m-1") == b"\xff\xd8jpeg"
    with pytest.raises(ApiException) as wrong_host:
        _blob(fake_line.url).get_message_content("m-1")
    assert wrong_host.value.status == 404
    fake_line.put_content("m-2", b"", status=410)  # the user unsent it
    with pytest.raises(ApiException) as gone:
        _blob(fake_line.data_url).get_message_content("m-2")
    assert gone.value.status == 410


def test_the_data_host_answers_nothing_else(fake_line):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{fake_line.data_url}/v2/bot/message/reply", method="POST", data=b"{}",
                                     headers={"Authorization": f"Bearer {ACCESS_TOKEN}",
                                              "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404


def test_a_rich_menu_image_sent_to_the_api_host_is_refused(fake_line):
    from bot.line.richmenu import deploy

    with pytest.raises(ApiException) as refused:  # LINE_DATA_API_URL set to the API host by mistake
        deploy(fake_line.url, fake_line.url, ACCESS_TOKEN)
    assert refused.value.status == 404
    assert fake_line.rich_menus == {} and fake_line.default_rich_menu is None  # nothing half made
    result = deploy(fake_line.url, fake_line.data_url, ACCESS_TOKEN)
    assert fake_line.default_rich_menu == result.rich_menu_id
