// One LINE user per browser; its conversation (what it said and what the bot sent) is kept in
// this browser's storage, so a reload shows it again, and what the bot pushed while the page was
// closed appears when it is opened again.
const userId = localStorage.simUser || (localStorage.simUser = "U" + [...crypto.getRandomValues(new Uint8Array(16))].map(b => b.toString(16).padStart(2, "0")).join(""));
let since = Number(localStorage.simSince || 0), lastInvoice = null;
let log = []; try { log = JSON.parse(localStorage.simLog || "[]"); } catch (e) { log = []; }
const LOG_KEPT = 300;  // entries: older ones are let go
function remember(entry) { log.push(entry); if (log.length > LOG_KEPT) log = log.slice(-LOG_KEPT); try { localStorage.simLog = JSON.stringify(log); } catch (e) {} }
function seen(seq) { since = Math.max(since, seq); localStorage.simSince = since; }
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
function mine(text) { chat.append(el("div", "me", text)); remember({me: text}); scroll(); }
function say(text) { mine(text); send("message", {text}); }
async function sendPhoto(body, label) {  // a photo as LINE's app sends it: the bot fetches it from LINE's content host
  mine("📷 " + label);
  const r = await fetch("/simulator/send", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({userId, kind: "image", ...body})});
  if (!r.ok) { const j = await r.json().catch(() => ({})); chat.append(el("div", "bot", "HTTP " + r.status + " " + (j.error || ""))); }
}
function photoButton(url, label) {  // "send this picture back to the bot"
  const b = el("button", "photo", label); const u = new URL(url, location.href);
  b.onclick = () => sendPhoto({from: u.pathname + u.search}, label); return b;
}
// Flex Messages drawn the way LINE lays them out (boxes, text sizes and weights, spacing and
// margins, separators, buttons, bubble sizes, carousels), so a card's layout can be judged here.
const TEXT_PX = {xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74};
const SPACE_PX = {none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20};
const BUBBLE_PX = {nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 500};
function len(v, table) { return v === undefined ? undefined : (v in table ? table[v] + "px" : v); }
function flexNode(n, parent) {
  let e;
  if (n.type === "box") {
    e = el("div", "fx-box fx-" + n.layout);
    if (n.backgroundColor) e.style.backgroundColor = n.backgroundColor;
    if (n.cornerRadius) e.style.borderRadius = len(n.cornerRadius, SPACE_PX);
    if (n.borderWidth) { e.style.borderStyle = "solid"; e.style.borderWidth = len(n.borderWidth, {light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4}); e.style.borderColor = n.borderColor || "#000"; }
    for (const side of ["All", "Top", "Bottom", "Start", "End"]) {
      const v = len(n["padding" + side], SPACE_PX); if (v === undefined) continue;
      if (side === "All") e.style.padding = v; else e.style["padding" + {Top: "Top", Bottom: "Bottom", Start: "Left", End: "Right"}[side]] = v;
    }
    if (n.justifyContent) e.style.justifyContent = n.justifyContent;
    if (n.alignItems) e.style.alignItems = n.alignItems;
    const gap = SPACE_PX[n.spacing] || 0;
    (n.contents || []).forEach((c, i) => {
      const child = flexNode(c, n.layout);
      const before = c.margin !== undefined ? len(c.margin, SPACE_PX) : (i > 0 ? gap + "px" : "0px");
      if (i > 0 || c.margin !== undefined) child.style[n.layout === "vertical" ? "marginTop" : "marginLeft"] = before;
      e.append(child);
    });
  } else if (n.type === "text") {
    e = el("div", "fx-text", n.text);
    e.style.fontSize = len(n.size || "md", TEXT_PX);
    if (n.weight === "bold") e.style.fontWeight = "700";
    if (n.color) e.style.color = n.color;
    if (n.align) e.style.textAlign = n.align === "end" ? "right" : n.align === "start" ? "left" : n.align;
    if (n.style === "italic") e.style.fontStyle = "italic";
    if (n.decoration && n.decoration !== "none") e.style.textDecoration = n.decoration;
    e.classList.add(n.wrap ? "fx-wrap" : "fx-nowrap");
  } else if (n.type === "separator") {
    e = el("div", "fx-separator"); if (n.color) e.style.borderColor = n.color;
    e.classList.add(parent === "vertical" ? "fx-hsep" : "fx-vsep");
  } else if (n.type === "button") {
    e = el("button", "fx-button fx-" + (n.style || "link") + " fx-h-" + (n.height || "md"), n.action.label);
    if (n.color) { if ((n.style || "link") === "link") e.style.color = n.color; else e.style.backgroundColor = n.color; }
    e.onclick = () => act(n.action);
  } else if (n.type === "image") {
    e = el("img", "fx-image"); e.src = n.url; e.alt = "";
    if (n.aspectRatio) e.style.aspectRatio = n.aspectRatio.replace(":", "/");
  } else if (n.type === "spacer") {
    e = el("div", "fx-spacer"); e.style.height = len(n.size || "md", SPACE_PX);
  } else {  // filler and anything newer: take the room, show nothing
    e = el("div", "fx-filler");
  }
  const grow = n.flex !== undefined ? n.flex : (parent === "vertical" ? 0 : 1);
  e.style.flex = grow + " " + grow + " " + (grow ? "0" : "auto");
  if (n.action && n.type !== "button") { e.classList.add("fx-tap"); e.onclick = () => act(n.action); }
  return e;
}
function bubble(b) {
  const card = el("div", "fx-bubble");
  card.style.width = (BUBBLE_PX[b.size || "mega"] || 300) + "px";
  const styles = b.styles || {};
  for (const part of ["header", "hero", "body", "footer"]) {
    if (!b[part]) continue;
    const block = el("div", "fx-" + part); block.append(flexNode(b[part], "vertical"));
    if ((styles[part] || {}).backgroundColor) block.style.backgroundColor = styles[part].backgroundColor;
    if (part !== "hero" && b[part].paddingAll === undefined) block.classList.add("fx-pad");
    if ((styles[part] || {}).separator) block.classList.add("fx-sepabove");
    card.append(block);
  }
  return card;
}
function showBank(entry) {  // what the simulated bank answered, and the e-slip its app shows
  chat.append(el("pre", "bank", entry.bank));
  if (entry.eslip) {
    const box = el("div", "eslip"); const img = el("img", "eslip-img"); img.src = entry.eslip; img.alt = "e-slip";
    box.append(img, photoButton(entry.eslip, "ส่งรูปสลิปนี้ให้บอท / send this e-slip as a photo")); chat.append(box);
  }
}
function render(item, away) {
  const push = item.kind === "push";
  if (push) chat.append(el("div", "tag", away ? "push · ขณะปิดหน้านี้ / while this page was closed" : "push"));
  for (const m of item.messages) {
    let node;
    if (m.type === "text") node = el("div", "bot", m.text);
    else if (m.type === "flex") {
      const c = m.contents; const found = (m.altText || "").match(/[0-9]{16}/); lastInvoice = found ? found[0] : lastInvoice;
      if (c.type === "carousel") { node = el("div", "fx-carousel"); c.contents.forEach(b => node.append(bubble(b))); }
      else node = bubble(c);
      node.title = m.altText || "";
    } else if (m.type === "image") {
      node = el("div"); const img = el("img", "qr"); img.src = m.originalContentUrl; node.append(img);
      const inv = lastInvoice; const b = el("button", "pay", "จ่าย (ธนาคารจำลอง) / pay as the bank");
      b.onclick = async () => {
        const r = await fetch("/simulator/pay", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({invoiceNo: inv, via: document.getElementById("soap").checked ? "soap" : "json"})});
        const j = await r.json(); const entry = {bank: "bank (" + (j.via || "json") + ") →\n" + JSON.stringify(j.answer || j, null, 1), eslip: j.eslip};
        showBank(entry); remember(entry); scroll();
      };
      node.append(b, photoButton(m.originalContentUrl, "ส่งรูป QR นี้ให้บอท / send this QR as a photo"));
    } else node = el("div", "bot", "[" + m.type + "]");
    if (push) node.classList.add("push");
    chat.append(node);
    quick.innerHTML = "";
    ((m.quickReply || {}).items || []).forEach(q => { const b = el("button", "", q.action.label); b.onclick = () => act(q.action); quick.append(b); });
  }
  scroll();
}
async function fetchFeed(away) {
  const r = await fetch("/simulator/feed?since=" + since); const j = await r.json();
  if (j.latest < since) { seen(0); since = 0; return fetchFeed(away); }  // the demo restarted: its numbering too
  for (const item of j.items) {
    seen(item.seq);
    if (item.userId === userId) { render(item, away); remember({item, away}); }
  }
}
async function poll() {
  try { await fetchFeed(false); } catch (e) {}
  setTimeout(poll, 700);
}
document.getElementById("f").onsubmit = e => { e.preventDefault(); const t = document.getElementById("t"); if (t.value.trim()) say(t.value); t.value = ""; };
document.getElementById("sticker").onclick = () => { chat.append(el("div", "me", "🙂 (sticker)")); send("sticker", {}); };
document.getElementById("photo").onchange = e => {  // a photo or a PDF from this computer
  const file = e.target.files[0]; if (!file) return;
  const reader = new FileReader();
  reader.onload = () => sendPhoto({data: String(reader.result).split(",")[1], contentType: file.type || "image/jpeg", fileName: file.name}, file.name);
  reader.readAsDataURL(file); e.target.value = "";
};
document.getElementById("restart").onclick = () => {  // a new user, an empty conversation
  ["simUser", "simSince", "simLog", "simFollowed"].forEach(k => localStorage.removeItem(k)); location.reload();
};
(async () => {
  for (const entry of log) {  // the conversation so far, as this browser kept it
    if (entry.me !== undefined) chat.append(el("div", "me", entry.me));
    else if (entry.bank !== undefined) showBank(entry);
    else if (entry.item) render(entry.item, entry.away);
  }
  if (!localStorage.simFollowed) {  // a new user adds the account as a friend, once
    const r = await fetch("/simulator/feed?since=0"); const j = await r.json(); j.items.forEach(i => seen(i.seq));
    localStorage.simFollowed = "1"; await send("follow", {});
  } else {
    try { await fetchFeed(true); } catch (e) {}  // what the bot pushed while this page was closed
  }
  const first = new URLSearchParams(location.search).get("say");  // /simulator?say=... types it for you
  if (first) say(first);
  scroll();
  poll();
  loadMenu();
})();
