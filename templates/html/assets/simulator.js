const userId = localStorage.simUser || (localStorage.simUser = "U" + [...crypto.getRandomValues(new Uint8Array(16))].map(b => b.toString(16).padStart(2, "0")).join(""));
let since = 0, lastInvoice = null;
const chat = document.getElementById("chat"), quick = document.getElementById("quick");
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function scroll() { chat.scrollTop = chat.scrollHeight; window.scrollTo(0, document.body.scrollHeight); }
async function send(kind, body) {
  const r = await fetch("/simulator/send", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({userId, kind, ...body})});
  if (!r.ok) chat.append(el("div", "bot", "HTTP " + r.status));
}
function act(a) {  // what LINE's app does with a message or postback action
  if (a.type === "postback") { chat.append(el("div", "me", a.displayText || a.label)); scroll(); send("postback", {data: a.data}); }
  else if (a.type === "uri") window.open(a.uri);
  else say(a.text);
}
async function loadMenu() {  // the channel's default rich menu, as deployed by `tisi-pay richmenu deploy`
  const r = await fetch("/simulator/richmenu"); if (!r.ok) return;
  const menu = await r.json(); const box = document.getElementById("menu-areas");
  document.getElementById("menu-img").src = menu.image;
  menu.areas.forEach(a => {
    const b = el("button", "area", a.action.label); b.title = a.action.label; b.setAttribute("aria-label", a.action.label);
    b.style.left = (100 * a.bounds.x / menu.size.width) + "%"; b.style.top = (100 * a.bounds.y / menu.size.height) + "%";
    b.style.width = (100 * a.bounds.width / menu.size.width) + "%"; b.style.height = (100 * a.bounds.height / menu.size.height) + "%";
    b.onclick = () => act(a.action); box.append(b);
  });
  document.getElementById("menu").hidden = false;
}
function say(text) { chat.append(el("div", "me", text)); scroll(); send("message", {text}); }
function flexTexts(node, out) {
  if (!node || typeof node !== "object") return out;
  if (node.type === "text") out.push({text: node.text, size: node.size});
  if (node.type === "button") out.push({button: node.action});
  if (node.type === "box" && node.layout === "baseline") { out.push({row: node.contents.map(c => c.text)}); return out; }
  for (const k of ["header", "hero", "body", "footer"]) flexTexts(node[k], out);
  (node.contents || []).forEach(c => flexTexts(c, out));
  return out;
}
function bubble(b) {
  const card = el("div", "card"), bd = el("div", "bd");
  if (b.header) { const hd = el("div", "hd"); flexTexts(b.header, []).forEach(x => hd.append(el("div", "", x.text))); card.append(hd); }
  const parts = flexTexts({body: b.body, footer: b.footer}, []);
  for (const p of parts) {
    if (p.row) { const r = el("div", "row"); p.row.forEach(t => r.append(el("span", "", t))); bd.append(r); }
    else if (p.button) {
      const btn = el("button", "", p.button.label);
      btn.onclick = () => p.button.type === "uri" ? window.open(p.button.uri) :
        p.button.type === "postback" ? (chat.append(el("div", "me", p.button.displayText || p.button.label)), send("postback", {data: p.button.data})) : say(p.button.text);
      bd.append(btn);
    } else { const d = el("div", "", p.text); if (p.size === "xxl" || p.size === "xl") d.style.fontSize = "1.5rem"; bd.append(d); }
  }
  card.append(bd); return card;
}
function render(item) {
  const push = item.kind === "push";
  if (push) chat.append(el("div", "tag", "push"));
  for (const m of item.messages) {
    let node;
    if (m.type === "text") node = el("div", "bot", m.text);
    else if (m.type === "flex") {
      const c = m.contents; const found = (m.altText || "").match(/[0-9]{16}/); lastInvoice = found ? found[0] : lastInvoice;
      if (c.type === "carousel") { node = el("div", "carousel"); c.contents.forEach(b => node.append(bubble(b))); }
      else node = bubble(c);
    } else if (m.type === "image") {
      node = el("div"); const img = el("img", "qr"); img.src = m.originalContentUrl; node.append(img);
      const inv = lastInvoice; const b = el("button", "pay", "จ่าย (ธนาคารจำลอง) / pay as the bank");
      b.onclick = async () => { const r = await fetch("/simulator/pay", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({invoiceNo: inv, via: document.getElementById("soap").checked ? "soap" : "json"})}); const j = await r.json(); chat.append(el("div", "tag", "bank (" + (j.via || "json") + ") → " + JSON.stringify(j.answer || j))); scroll(); };
      node.append(b);
    } else node = el("div", "bot", "[" + m.type + "]");
    if (push) node.classList.add("push");
    chat.append(node);
    quick.innerHTML = "";
    ((m.quickReply || {}).items || []).forEach(q => { const b = el("button", "", q.action.label); b.onclick = () => act(q.action); quick.append(b); });
  }
  scroll();
}
async function poll() {
  try {
    const r = await fetch("/simulator/feed?since=" + since); const j = await r.json();
    for (const item of j.items) { since = Math.max(since, item.seq); if (item.userId === userId) render(item); }
  } catch (e) {}
  setTimeout(poll, 700);
}
document.getElementById("f").onsubmit = e => { e.preventDefault(); const t = document.getElementById("t"); if (t.value.trim()) say(t.value); t.value = ""; };
document.getElementById("sticker").onclick = () => { chat.append(el("div", "me", "🙂 (sticker)")); send("sticker", {}); };
fetch("/simulator/feed?since=0").then(r => r.json()).then(async j => {
  j.items.forEach(i => since = Math.max(since, i.seq));
  await send("follow", {});
  const first = new URLSearchParams(location.search).get("say");  // /simulator?say=... types it for you
  if (first) say(first);
  poll();
  loadMenu();
});
