"""`tisi-pay demo`: SQLite under ./instance, demo invoices, the simulator through the real /callback."""
import json
import os
import subprocess
import sys
import time
import urllib.request


def _post(url, data):
    req = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.status, resp.headers.get_content_type(), resp.read()


def test_demo_prepares_instance_database(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run([exe, "demo", "--no-serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "tisi_pay.db").exists()
    assert "/simulator" in result.stdout
    again = subprocess.run([exe, "demo", "--no-serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr  # idempotent


def _feed_until(base, user, predicate, since=0, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        items = [i for i in json.loads(_get(f"{base}/simulator/feed?since={since}")[2])["items"] if i["userId"] == user]
        if predicate(items):
            return items
        time.sleep(0.05)
    raise AssertionError("the simulator did not show the expected messages")


def test_simulator_round_trip_with_qr_and_pay_button(demo_server):
    base, rows, _ = demo_server
    status, ctype, page = _get(f"{base}/simulator")
    assert status == 200 and ctype == "text/html" and b'src="/assets/simulator.js"' in page
    status, ctype, script = _get(f"{base}/assets/simulator.js")  # CSP: no inline script, a file
    assert status == 200 and ctype == "text/javascript" and b"/simulator/send" in script
    user = "U" + "e" * 32
    invoice_no = rows[0]["invoice_no"]
    assert _post(f"{base}/simulator/send", {"userId": user, "text": f"ขอชำระใบแจ้งหนี้ {invoice_no} ครับ"})["status"] == 200
    items = _feed_until(base, user, lambda items: any(m["type"] == "image" for i in items for m in i["messages"]))
    image = next(m for i in items for m in i["messages"] if m["type"] == "image")
    status, ctype, png = _get(image["originalContentUrl"])
    assert status == 200 and ctype == "image/png" and png.startswith(b"\x89PNG")
    since = max(i["seq"] for i in items)
    paid = _post(f"{base}/simulator/pay", {"invoiceNo": invoice_no})
    assert paid["status"] == 200 and paid["answer"]["respCode"] == "0000"
    pushes = _feed_until(base, user, lambda items: any(i["kind"] == "push" for i in items), since=since)
    assert "ได้รับชำระเงินแล้ว" in json.dumps(pushes, ensure_ascii=False)


def test_simulator_sticker_and_follow(demo_server):
    base, _, _ = demo_server
    user = "U" + "f" * 32
    _post(f"{base}/simulator/send", {"userId": user, "kind": "follow"})
    _post(f"{base}/simulator/send", {"userId": user, "kind": "sticker"})
    items = _feed_until(base, user, lambda items: len(items) >= 2)
    text = json.dumps(items, ensure_ascii=False)
    assert "ยินดีต้อนรับ" in text and "อ่านได้เฉพาะข้อความ" in text


def test_demo_uses_the_test_biller(demo_server):
    _, _, app = demo_server
    assert app.extensions["tisi"].settings.biller_id == "099999999999990"


def test_simulator_pays_by_krungthai_direct_link_too(demo_server):
    base, rows, _ = demo_server
    user = "U" + "9" * 32
    invoice_no = rows[1]["invoice_no"]
    assert _post(f"{base}/simulator/send", {"userId": user, "text": invoice_no})["status"] == 200
    items = _feed_until(base, user, lambda items: any(m["type"] == "image" for i in items for m in i["messages"]))
    since = max(i["seq"] for i in items)
    paid = _post(f"{base}/simulator/pay", {"invoiceNo": invoice_no, "via": "soap"})
    assert paid["via"] == "soap" and paid["status"] == 200
    assert paid["answer"]["respcode"] == "0000" and paid["answer"]["bankref"].startswith("SIM")
    pushes = _feed_until(base, user, lambda items: any(i["kind"] == "push" for i in items), since=since)
    assert "ได้รับชำระเงินแล้ว" in json.dumps(pushes, ensure_ascii=False)


def test_the_demo_front_door_leads_to_the_simulator(demo_server):
    base, _, _ = demo_server
    with urllib.request.urlopen(f"{base}/", timeout=30) as resp:  # follows the redirect
        assert resp.url.endswith("/simulator") and resp.headers.get_content_type() == "text/html"


def test_demo_receipt_from_the_paid_push_verifies_in_the_demo_folder(demo_server, tmp_path):
    """The demo issues receipts (a self-signed test certificate, named as one); an operator in the
    demo's folder checks one with `tisi-pay receipt verify`, which reads ./.env like every command."""
    from bot.dev.demo import write_env_file

    base, rows, _ = demo_server
    port = int(base.rsplit(":", 1)[1])
    assert write_env_file("127.0.0.1", port)  # what `tisi-pay demo` writes on its first run
    user = "U" + "7" * 32
    invoice_no = rows[2]["invoice_no"]
    _post(f"{base}/simulator/send", {"userId": user, "text": invoice_no})
    items = _feed_until(base, user, lambda items: any(m["type"] == "image" for i in items for m in i["messages"]))
    paid = _post(f"{base}/simulator/pay", {"invoiceNo": invoice_no})
    assert paid["answer"]["respCode"] == "0000"
    pushes = _feed_until(base, user, lambda items: any(i["kind"] == "push" for i in items),
                         since=max(i["seq"] for i in items))
    footer = next(i for i in pushes if i["kind"] == "push")["messages"][0]["contents"]["footer"]
    link = footer["contents"][0]["action"]["uri"]
    status, ctype, pdf = _get(link)
    assert status == 200 and ctype == "application/pdf"
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIPT_", "DATABASE_"))}
    result = subprocess.run([exe, "receipt", "verify", "receipt.pdf"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT the Institute's certificate" in result.stdout and "VALID: receipt TISI-" in result.stdout


def test_the_demo_has_a_staff_account_an_operator_can_sign_in_with(demo_server):
    """`tisi-pay demo` makes an administrator account and shows its password and current code at
    /simulator/staff, so the console can be tried without a phone."""
    import re

    _, _, app = demo_server
    client = app.test_client()
    shown = client.get("/simulator/staff").get_data(as_text=True)
    name = re.search(r'id="demo-name">([^<]+)<', shown).group(1)
    password = re.search(r'id="demo-password">([^<]+)<', shown).group(1)
    code = re.search(r'id="demo-code">(\d{6})<', shown).group(1)
    assert name == "demo-admin"
    page = client.get("/staff/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/staff/sign-in", data={"csrf_token": token, "name": name, "password": password, "code": code})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/")
    assert client.get("/staff/accounts").status_code == 200  # an administrator
    assert 'href="/simulator/staff"' in client.get("/simulator").get_data(as_text=True)


def test_the_demo_folder_holds_a_statement_with_one_difference(demo_server, tmp_path):
    """`tisi-pay demo` pays one invoice through the bank's endpoint and writes the day's statement
    file: reconciled (here as the console's upload does), it finds the one difference."""
    from bot.ledger.reconcile import reconcile_file

    _, rows, app = demo_server
    [path] = (tmp_path / "instance").glob("demo-statement-*.txt")
    with app.extensions["tisi"].db.transaction() as session:
        report = reconcile_file(session, path.read_bytes())
    assert {k: v for k, v in report.counts.items() if v} == {"matched": 1, "in_file_not_online": 1}
    [difference] = [line for line in report.lines if line["outcome"] == "in_file_not_online"]
    assert difference["ref1"] == rows[2]["invoice_no"] and difference["amount"] == "36000.00"
