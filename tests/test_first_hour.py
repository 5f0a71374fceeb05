"""What a new user reads in the chat in the first hour: the card of each invoice state, statuses
that say what they mean, examples that work in the demo, and subscriptions that show their state."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.dates import today_bangkok
from bot.core.textparse import normalize_license, parse_message
from tests.conftest import API_TOKEN, invoice_row, past

ROOT = Path(__file__).resolve().parents[1]
INV = "2568110400012345"


def card_text(messages: list[dict]) -> str:
    """Every string a person sees in the flex bubbles of a reply, in order."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "text" and "text" in node:
                out.append(node["text"])
            for key, value in node.items():
                if key not in ("action", "quickReply"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([m["contents"] for m in messages if m["type"] == "flex"])
    return "\n".join(out)


def amount_line(text: str) -> str:
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if "บาท" in line)
    return lines[index - 1] + " " + lines[index]


def test_unpaid_card_says_amount_to_pay_and_awaiting(line, seed):
    seed(invoice_row(12345, invoice_no=INV))
    text = card_text(line.say(f"ขอชำระ {INV}"))
    assert "ยอดที่ต้องชำระ 1,000.00 บาท" == amount_line(text)
    assert "รอชำระ" in text and "ค้างชำระ" not in text


def test_paid_card_says_paid_with_the_date_not_amount_to_pay(line, seed, bank):
    rows = seed(invoice_row(12345, invoice_no=INV))
    assert bank.post(bank.body("payment", rows[0])).get_json()["respCode"] == "0000"
    text = card_text(line.say(f"ขอชำระ {INV}"))
    assert amount_line(text) == "ชำระแล้ว 1,000.00 บาท"
    assert "ยอดที่ต้องชำระ" not in text
    assert re.search(r"ชำระแล้วเมื่อ .*25[0-9]{2}", text), text  # the date of payment, Buddhist era


def test_expired_card_shows_invoice_amount_and_what_to_do(line, seed):
    seed(invoice_row(12345, invoice_no=INV, due_date=past(3)))
    text = card_text(line.say(f"ขอชำระ {INV}"))
    assert amount_line(text) == "ยอดตามใบแจ้งหนี้ 1,000.00 บาท"
    assert "เกินกำหนดชำระ" in text and "ยอดที่ต้องชำระ" not in text
    assert "ติดต่อ" in text  # what to do: ask TISI for a new invoice


def test_cancelled_card_shows_invoice_amount(line, seed, client):
    seed(invoice_row(12345, invoice_no=INV))
    cancelled = client.post(f"/api/v1/invoices/{INV}/cancel", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert cancelled.status_code == 200, cancelled.data
    text = card_text(line.say(f"ขอชำระ {INV}"))
    assert amount_line(text) == "ยอดตามใบแจ้งหนี้ 1,000.00 บาท"
    assert "ยกเลิก" in text and "ยอดที่ต้องชำระ" not in text


def test_english_cards_say_the_same(line, seed, bank):
    rows = seed(invoice_row(12345, invoice_no=INV), invoice_row(12346, due_date=past(2)))
    assert "Amount due" in card_text(line.say(f"pay {INV}"))
    bank.post(bank.body("payment", rows[0]))
    paid = card_text(line.say(f"pay {INV}"))
    assert "Paid\n1,000.00 baht" in paid and "Amount due" not in paid
    assert "Invoice amount" in card_text(line.say(f"pay {rows[1]['invoice_no']}"))


def test_my_licenses_when_empty_explains_the_list(line):
    answer = " ".join(m.get("text", "") for m in line.say("ใบอนุญาตของฉัน"))
    assert "ท่านยังไม่ได้เปิดการแจ้งเตือนใบอนุญาตใด" in answer and "แจ้งเตือน ท 5137-2/10" in answer


def _quick_labels(messages: list[dict]) -> list[str]:
    return [item["action"]["label"] for item in messages[-1].get("quickReply", {}).get("items", [])]


def test_a_subscribed_user_is_offered_to_stop_not_to_subscribe_again(line, seed):
    seed(invoice_row(12345, invoice_no=INV))
    assert "🔔 แจ้งเตือน" in _quick_labels(line.say(INV))
    line.say("แจ้งเตือน ท 5137-2/10")
    labels = _quick_labels(line.say(INV))
    assert "ยกเลิกแจ้งเตือน" in labels and "🔔 แจ้งเตือน" not in labels
    # The quick reply itself stops them.
    stop = next(item["action"] for item in line.say(INV)[-1]["quickReply"]["items"]
                if item["action"]["label"] == "ยกเลิกแจ้งเตือน")
    from tests.conftest import fresh, sample_event
    postback = fresh(sample_event("postback"))
    postback["postback"] = {"data": stop["data"]}
    assert line.post([postback]).status_code == 200
    assert "ปิดการแจ้งเตือน" in line.reply_to(postback["replyToken"])[0]["text"] or \
        "หยุด" in line.reply_to(postback["replyToken"])[0]["text"]
    assert "🔔 แจ้งเตือน" in _quick_labels(line.say(INV))


# -- every example shown anywhere is a demo invoice ------------------------------------------------
def _examples() -> list[tuple[str, str]]:
    """(where, text) of each example a person is shown: the chat's sentences in both catalogs,
    the README and the simulator page."""
    from babel.messages.pofile import read_po

    found = []
    for lang in ("th", "en"):
        with open(ROOT / "locale" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    strings = message.string if isinstance(message.string, tuple) else (message.string,)
                    found += [(f"locale/{lang}: {str(message.id)[:40]}", s) for s in strings]
    found.append(("README.md", (ROOT / "README.md").read_text()))
    found.append(("simulator.html", (ROOT / "templates/html/simulator.html").read_text()))
    return found


def test_every_example_number_is_a_payable_demo_invoice_or_license():
    from bot.dev.demo import demo_invoice_rows

    rows = demo_invoice_rows()
    payable_invoices = {r["invoice_no"] for r in rows if r["due_date"] >= past(0)}
    licenses = {normalize_license(r["license_no"]) for r in rows if r["license_no"] and r["due_date"] >= past(0)}
    seen_invoices, seen_licenses = set(), set()
    for where, text in _examples():
        for piece in re.split(r"[\n•`|]", text):
            parsed = parse_message(piece)
            for number in parsed.invoice_numbers:
                assert number in payable_invoices, f"{where}: example {number} is not a payable demo invoice"
                seen_invoices.add(number)
            for license_no in parsed.license_numbers:
                if license_no.startswith("ท9999"):
                    continue  # README's example of a license that has nothing to pay
                assert license_no in licenses, f"{where}: example {license_no} is not a demo license"
                seen_licenses.add(license_no)
    assert INV in seen_invoices and "ท5137-2/10" in seen_licenses  # the check did read the examples


# -- an operator's commands on the demo (./.env) ------------------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

from tests.conftest import free_port, wait_until_answers  # noqa: E402

EXE = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
# A shell with none of the bot's variables, as a new operator's.
BARE = {k: v for k, v in os.environ.items()
        if not k.startswith(("LINE_", "BILLER", "SECRET", "PUBLIC", "DATABASE", "BANK_", "KTB_", "UPSTREAM"))}


def tisi(*args, cwd, env=None):
    return subprocess.run([EXE, *args], cwd=cwd, env=env or BARE, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_demo_folder_runs_every_operator_command(tmp_path):
    port = free_port()
    demo = subprocess.Popen([EXE, "demo", "--port", str(port)], cwd=tmp_path, env=BARE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{base}/healthz", demo)
        request = urllib.request.Request(f"{base}/simulator/send", method="POST",
                                         data=json.dumps({"userId": "U" + "a" * 32, "text": INV}).encode(),
                                         headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request, timeout=30).status == 200
        time.sleep(1.5)  # the inline worker handles it and reports its heartbeat
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    env_file = (tmp_path / ".env").read_text()
    assert "DATABASE_URL=sqlite:///" in env_file and "BANK_WEBHOOK_SECRET=" in env_file

    health = tisi("health", cwd=tmp_path)
    assert health.returncode == 0 and health.stdout.startswith("ok"), health.stdout + health.stderr
    soon = today_bangkok() + timedelta(days=14)  # a morning two weeks from the tests' clock
    remind = tisi("remind", "--at", f"{soon.isoformat()}T09:00", cwd=tmp_path)
    assert remind.returncode == 0, remind.stderr
    assert remind.stdout.startswith(f"{soon.isoformat()} 09:00 Bangkok time: queued")
    verify = tisi("audit", "verify", cwd=tmp_path)
    assert verify.returncode == 0 and verify.stdout.startswith("intact"), verify.stdout + verify.stderr
    assert "not checked" not in verify.stdout  # the bank secret came from ./.env

    # A second run never writes over ./.env; a variable set in the shell wins over it.
    (tmp_path / ".env").write_text(env_file + "# kept\n")
    assert tisi("demo", "--no-serve", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".env").read_text().endswith("# kept\n")
    other = tmp_path / "elsewhere.db"
    shell = tisi("health", cwd=tmp_path, env={**BARE, "DATABASE_URL": f"sqlite:///{other}"})
    assert str(other) in shell.stdout and not other.exists()


def test_remind_refuses_a_buddhist_era_year_and_reads_bangkok_time(tmp_path, database_url, fake_line):
    from tests.conftest import make_env

    env = {**BARE, **make_env(database_url, fake_line.url)}
    day = today_bangkok() + timedelta(days=14)  # a day two weeks from the tests' clock
    buddhist = f"{day.year + 543}{day.isoformat()[4:]}"
    refused = tisi("remind", "--at", f"{buddhist}T09:00", cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "Buddhist-era" in refused.stderr and f"{day.isoformat()}T09:00" in refused.stderr
    assert tisi("remind", "--at", f"{day.isoformat()}T02:00Z", cwd=tmp_path, env=env).stdout.startswith(
        f"{day.isoformat()} 09:00 Bangkok time")


@pytest.mark.parametrize("command", [["health"], ["audit", "verify"], ["audit", "digest"], ["remind"],
                                     ["reconcile", "statement.txt"]])
def test_commands_never_create_a_database(tmp_path, command, fake_line):
    from datetime import date

    from bot.core.statement import build_statement
    from tests.conftest import make_env

    (tmp_path / "statement.txt").write_bytes(build_statement("1234567890", "TISI", date(2026, 11, 25), []))
    env = {**BARE, **make_env("sqlite:///instance/tisi_pay.db", fake_line.url)}
    ran = tisi(*command, cwd=tmp_path, env=env)
    assert ran.returncode in (1, 2)
    assert f"{tmp_path}/instance/tisi_pay.db does not exist" in ran.stdout + ran.stderr
    assert not (tmp_path / "instance").exists()


def test_a_postgresql_database_that_does_not_exist_is_named_not_unanswered(tmp_path):
    from tests.conftest import _pg_available

    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("needs PostgreSQL")
    env = {**BARE, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/tisi_no_such_database"}
    verify = tisi("audit", "verify", cwd=tmp_path, env=env)
    assert verify.returncode == 2 and "no such database" in verify.stderr and "did not answer" not in verify.stderr
    health = tisi("health", cwd=tmp_path, env=env)
    assert health.returncode == 1 and 'database "tisi_no_such_database" does not exist' in health.stdout
