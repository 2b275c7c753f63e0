// The sandbox page: a small Telegram-like client over /api (no build step, no framework).
"use strict";

const S = { persona: null, chat: null, bot: null, personas: [], chats: [], clockOffset: 0,
  rendered: "", timer: null, busy: false };
const $ = (id) => document.getElementById(id);
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  let data = {};
  try { data = await response.json(); } catch (_) { data = { error: response.statusText }; }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v; // only server-sanitised message HTML comes here
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function avatar(name, id) {
  const letters = (name || "?").trim().split(/\s+/).map((w) => Array.from(w)[0]).slice(0, 2).join("");
  return el("div", { class: "avatar", style: `background:${COLORS[Math.abs(id) % COLORS.length]}`,
    text: letters.toUpperCase() });
}

function toast(text, kind = "") {
  const node = el("div", { class: `toast ${kind}`, text });
  $("toasts").append(node);
  setTimeout(() => node.remove(), kind === "error" ? 6000 : 3500);
}

function showAlert(text) {
  $("alert-text").textContent = text;
  $("alert").hidden = false;
  $("alert-ok").focus();
}

function money(amount, currency) {
  if (currency === "XTR") return `⭐ ${amount}`;
  try {
    const fmt = new Intl.NumberFormat(undefined, { style: "currency", currency });
    const digits = fmt.resolvedOptions().maximumFractionDigits;
    return fmt.format(amount / 10 ** digits);
  } catch (_) { return `${amount} ${currency}`; }
}

function clockText(seconds) {
  return new Date(seconds * 1000).toLocaleString(undefined, { weekday: "short", day: "numeric",
    month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
function hhmm(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}
function tick() { $("now").textContent = clockText(Date.now() / 1000 + S.clockOffset); }

// --- loading ---------------------------------------------------------------------------------
async function loadState() {
  const state = await api("/api/state");
  S.bot = state.bot;
  S.personas = state.personas;
  S.clockOffset = state.now - Date.now() / 1000;
  tick();
  if (!S.personas.some((p) => p.id === S.persona)) {
    const saved = Number(localStorage.getItem("sandbox.persona"));
    S.persona = S.personas.some((p) => p.id === saved) ? saved : (S.personas[0] || {}).id || null;
  }
  const select = $("persona");
  const wanted = S.personas.map((p) => `${p.id}:${p.name}`).join("|");
  if (select.dataset.list !== wanted) {
    select.replaceChildren(...S.personas.map((p) => el("option", { value: p.id,
      text: `${p.name}${p.leader ? " · leader" : ""}${p.language && p.language.startsWith("zh") ? " · 中文" : ""}` })));
    select.dataset.list = wanted;
  }
  if (S.persona) select.value = String(S.persona);
}

async function loadChats() {
  if (!S.persona) { S.chats = []; renderChats(); return; }
  S.chats = await api(`/api/chats?persona=${S.persona}`);
  if (!S.chats.some((c) => c.id === S.chat)) {
    const saved = Number(localStorage.getItem(`sandbox.chat.${S.persona}`));
    S.chat = S.chats.some((c) => c.id === saved) ? saved : (S.chats.find((c) => c.type !== "private") || S.chats[0] || {}).id || null;
  }
  renderChats();
}

function renderChats() {
  const list = $("chats");
  list.replaceChildren(...S.chats.map((c) => {
    const item = el("li", { class: c.id === S.chat ? "active" : "", "data-chat": c.id,
      "data-type": c.type, onclick: () => openChat(c.id) },
    avatar(c.title, c.id),
    el("div", { class: "meta" }, el("div", { class: "name", text: c.title }),
      el("div", { class: "last", text: c.last_text || (c.type === "private" ? "Say /start" : "") })),
    el("div", { class: "when", text: c.last_date ? hhmm(c.last_date) : "" }));
    return item;
  }));
  const chat = S.chats.find((c) => c.id === S.chat);
  $("chat-title").textContent = chat ? chat.title : "No chats yet";
  $("chat-sub").textContent = !chat ? "" : chat.type === "private" ? `bot · @${S.bot.username}` : `${chat.members} members`;
  $("chat-avatar").replaceWith(Object.assign(chat ? avatar(chat.title, chat.id) : el("div", { class: "avatar" }), { id: "chat-avatar" }));
  $("composer").classList.toggle("disabled", !chat);
  renderGroupActions(chat);
}

// What a group's admin can do to it, as in a real group: what Telegram does by itself past 200
// members, and removing or adding back the bot.
function renderGroupActions(chat) {
  const box = $("group-actions");
  box.replaceChildren();
  if (!chat || chat.type === "private" || !chat.admin) return;
  if (chat.type === "group") {
    box.append(el("button", { type: "button", "data-action": "upgrade", text: "⬆ Make supergroup",
      title: "What Telegram does by itself past 200 members, or when topics or a public link are turned on",
      onclick: (ev) => groupAction("upgrade", ev.currentTarget) }));
  }
  const action = chat.bot_in ? "remove_bot" : "add_bot";
  box.append(el("button", { type: "button", "data-action": action,
    text: chat.bot_in ? "Remove bot" : "Add bot back",
    onclick: (ev) => groupAction(action, ev.currentTarget) }));
}

const GROUP_DONE = { upgrade: "The group is a supergroup now", remove_bot: "The bot was removed from the group",
  add_bot: "The bot is back in the group" };

async function groupAction(action, button) {
  await withBusy(button, async () => {
    const r = await api("/api/group", { persona: S.persona, chat: S.chat, action });
    S.chat = r.chat;
    localStorage.setItem(`sandbox.chat.${S.persona}`, String(S.chat));
    toast(GROUP_DONE[action]);
    await refresh();
  });
}

async function loadMessages() {
  const box = $("messages");
  if (!S.persona || !S.chat) { box.replaceChildren(el("div", { class: "empty", text: "No chat selected" })); S.rendered = ""; return; }
  const data = await api(`/api/messages?persona=${S.persona}&chat=${S.chat}`);
  const key = `${S.persona}/${S.chat}/${JSON.stringify(data.messages)}`;
  if (key === S.rendered) return;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80 || !S.rendered.startsWith(`${S.persona}/${S.chat}/`);
  S.rendered = key;
  box.replaceChildren(...(data.messages.length ? withDays(data.messages)
    : [el("div", { class: "empty", text: "No messages here yet." })]));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

async function refresh() {
  try {
    await loadState();
    await loadChats();
    await loadMessages();
  } catch (e) { toast(e.message, "error"); }
}
function scheduleRefresh(delay = 60) {
  clearTimeout(S.timer);
  S.timer = setTimeout(refresh, delay);
}

// A separator before the first message of each day, as Telegram's apps show them.
function withDays(messages) {
  const nodes = [];
  let shown = "";
  for (const m of messages) {
    const day = dayText(m.date);
    if (day !== shown) nodes.push(el("div", { class: "day", "data-day": day, text: day }));
    shown = day;
    nodes.push(renderMessage(m));
  }
  return nodes;
}
function dayText(seconds) {
  const date = new Date(seconds * 1000);
  const today = new Date(Date.now() + S.clockOffset * 1000);
  const yesterday = new Date(today.getTime() - 86400000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "long" });
}

// --- one message -------------------------------------------------------------------------------
function renderMessage(m) {
  if (m.service) return el("div", { class: "service", "data-id": m.id, text: `${m.from_name} ${m.service}` });
  const out = m.from_id === S.persona;
  const chat = S.chats.find((c) => c.id === S.chat);
  const bubble = el("div", { class: "bubble" });
  if (!out && chat && chat.type !== "private") {
    bubble.append(el("div", { class: m.from_bot ? "sender bot" : "sender", text: m.from_name },
      m.from_bot ? el("span", { class: "tag", text: "bot" }) : null));
  }
  if (m.photo) bubble.append(el("img", { class: "photo", src: m.photo, alt: "photo", loading: "lazy" }));
  if (m.document) bubble.append(renderDocument(m.document));
  if (m.invoice) bubble.append(renderInvoice(m.invoice));
  if (m.payment) bubble.append(el("div", { class: "text payment", text: `💳 Paid ${money(m.payment.total_amount, m.payment.currency)}` }));
  const text = el("div", { class: "text", html: m.html });
  text.append(el("span", { class: "time", text: `${m.edited ? "edited " : ""}${hhmm(m.date)}` }));
  bubble.append(text);
  const node = el("div", { class: `msg ${out ? "out" : "in"}`, "data-id": m.id }, bubble);
  const rows = m.keyboard.slice();
  if (m.invoice && m.invoice.paid) {  // as Telegram's apps: a paid invoice shows its receipt
    rows.splice(0, rows.length, [{ kind: "receipt", text: "Receipt" }]);
  } else if (m.invoice && !rows.some((r) => r.some((b) => b.kind === "pay"))) {
    rows.unshift([{ kind: "pay", text: `Pay ${money(m.invoice.total_amount, m.invoice.currency)}` }]);
  }
  if (rows.length) node.append(renderKeyboard(m, rows));
  return node;
}

function renderDocument(doc) {
  const kb = doc.size < 1024 ? `${doc.size} B` : `${(doc.size / 1024).toFixed(1)} KB`;
  return el("div", { class: "doc" }, el("div", { class: "icon", text: "📄" }),
    el("div", {}, el("div", { class: "name", text: doc.name }),
      el("div", { class: "size", text: kb }),
      el("div", {}, el("a", { class: "doc-open", href: doc.url, target: "_blank", rel: "noopener", text: "Open" }),
        el("a", { class: "doc-download", href: doc.url, download: doc.name, text: "Download" }))));
}

function renderInvoice(inv) {
  const table = el("table");
  for (const p of inv.prices || []) {
    table.append(el("tr", {}, el("td", { text: p.label }), el("td", { text: money(p.amount, inv.currency) })));
  }
  table.append(el("tr", { class: "total" }, el("td", { text: "Total" }), el("td", { text: money(inv.total_amount, inv.currency) })));
  return el("div", { class: "invoice" }, el("div", { class: "inv-title", text: `🧾 ${inv.title}` }),
    el("div", { class: "inv-desc", text: inv.description }), table);
}

function renderKeyboard(m, rows) {
  return el("div", { class: "keyboard" }, ...rows.map((row) => el("div", { class: "kb-row" },
    ...row.map((b) => el("button", { type: "button", class: b.kind, title: b.url || b.text, text: b.text,
      onclick: (ev) => onButton(ev.currentTarget, m, b) })))));
}

// --- actions -------------------------------------------------------------------------------------
async function withBusy(button, work) {
  button.classList.add("busy");
  try { await work(); } catch (e) { toast(e.message, "error"); } finally { button.classList.remove("busy"); scheduleRefresh(0); }
}

function onButton(button, m, b) {
  if (b.kind === "callback") {
    return withBusy(button, async () => {
      const r = await api("/api/press", { persona: S.persona, chat: S.chat, message: m.id, data: b.data });
      const answer = r.answer;
      if (answer.text && answer.show_alert) showAlert(answer.text);
      else if (answer.text) toast(answer.text);
      if (r.open_chat) await openChat(r.open_chat);
    });
  }
  if (b.kind === "url") return openUrl(b.url, button);
  if (b.kind === "web_app") return openWebApp(b.url);
  if (b.kind === "receipt") {
    const paid = m.invoice.paid;
    return showAlert(`🧾 Receipt\n${m.invoice.title}\nPaid ${money(paid.total_amount, paid.currency)}`
      + ` · ${clockText(paid.date)}`);
  }
  if (b.kind === "pay") {
    return withBusy(button, async () => {
      toast("Paying… (the bot has 10 seconds to confirm)");
      const r = (await api("/api/pay", { persona: S.persona, chat: S.chat, message: m.id })).result;
      if (r.status === "paid") toast(`✅ Paid ${money(r.total_amount, r.currency)}`);
      else if (r.status === "declined") showAlert(`Payment declined by the bot:\n${r.error_message}`);
      else showAlert("The bot did not confirm the payment within 10 seconds. No money was taken.");
    });
  }
  return undefined;
}

// A Mini App opens as Telegram opens it: its page, with the init data after "#tgWebAppData="
// (signed by the sandbox with the bot's token). The window is opened at the click, filled after.
async function openWebApp(url) {
  const view = window.open("about:blank", "_blank");
  try {
    const r = await api("/api/webapp", { persona: S.persona });
    const hash = `#tgWebAppData=${encodeURIComponent(r.init_data)}&tgWebAppVersion=7.0&tgWebAppPlatform=sandbox`;
    view.location.href = url + hash;
  } catch (e) {
    if (view) view.close();
    toast(e.message, "error");
  }
}

async function openUrl(url, button) {
  let parsed = null;
  try { parsed = new URL(url); } catch (_) { return toast(`Bad link: ${url}`, "error"); }
  if (parsed.host === "t.me" && S.bot && parsed.pathname.slice(1).toLowerCase() === S.bot.username.toLowerCase()) {
    const work = async () => {
      const r = await api("/api/open_link", { persona: S.persona, url });
      await openChat(r.open_chat);
    };
    return button ? withBusy(button, work) : work().catch((e) => toast(e.message, "error"));
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") window.open(url, "_blank", "noopener");
  return undefined;
}

async function openChat(id) {
  $("app").classList.add("in-chat");  // on a phone, the chat replaces the list
  S.chat = id;
  localStorage.setItem(`sandbox.chat.${S.persona}`, String(id));
  renderChats();
  await loadChats();
  await loadMessages();
}

async function send(ev) {
  ev.preventDefault();
  const input = $("input");
  const text = input.value;
  if (!text.trim() || !S.chat) return;
  try {
    await api("/api/send", { persona: S.persona, chat: S.chat, text });
    input.value = "";
    autosize();
  } catch (e) { toast(e.message, "error"); }
  scheduleRefresh(0);
}

// A photo from the computer (a transfer screenshot, a collection code), with the text typed so far
// as its caption.
async function sendPhoto(ev) {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file || !S.chat) return;
  const input = $("input");
  try {
    const data = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
      reader.onerror = () => reject(new Error("Could not read the photo"));
      reader.readAsDataURL(file);
    });
    await api("/api/photo", { persona: S.persona, chat: S.chat, caption: input.value, data });
    input.value = "";
    autosize();
  } catch (e) { toast(e.message, "error"); }
  scheduleRefresh(0);
}

function autosize() {
  const input = $("input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

async function advance(seconds, button) {
  await withBusy(button, async () => {
    const r = await api("/api/advance", { seconds });
    S.clockOffset = r.now - Date.now() / 1000;
    tick();
    toast(`⏩ ${seconds >= 86400 ? `${seconds / 86400} day` : `${seconds / 3600} hour`} later`);
  });
}

async function addResident(ev) {
  ev.preventDefault();
  try {
    const r = await api("/api/personas", { name: $("add-name").value, language: $("add-language").value });
    $("add-dialog").hidden = true;
    $("add-name").value = "";
    S.persona = r.persona.id;
    localStorage.setItem("sandbox.persona", String(S.persona));
    S.chat = null;
    toast(`${r.persona.name} moved in`);
    await refresh();
  } catch (e) { toast(e.message, "error"); }
}

function wire() {
  $("persona").addEventListener("change", (ev) => {
    S.persona = Number(ev.target.value);
    localStorage.setItem("sandbox.persona", String(S.persona));
    S.chat = null;
    S.rendered = "";
    refresh();
  });
  $("composer").addEventListener("submit", send);
  $("back").addEventListener("click", () => $("app").classList.remove("in-chat"));
  $("attach").addEventListener("click", () => $("photo-file").click());
  $("photo-file").addEventListener("change", sendPhoto);
  $("input").addEventListener("input", autosize);
  $("input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) send(ev);
  });
  for (const b of document.querySelectorAll("[data-advance]")) {
    b.addEventListener("click", () => advance(Number(b.dataset.advance), b));
  }
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
  $("add-resident").addEventListener("click", () => { $("add-dialog").hidden = false; $("add-name").focus(); });
  $("add-cancel").addEventListener("click", () => { $("add-dialog").hidden = true; });
  $("add-form").addEventListener("submit", addResident);
  $("messages").addEventListener("click", (ev) => {
    const spoiler = ev.target.closest(".spoiler");
    if (spoiler) spoiler.classList.add("shown");
    const link = ev.target.closest(".text a");
    if (link) { ev.preventDefault(); openUrl(link.href, null); }
  });
  const events = new EventSource("/api/events");
  events.onmessage = (ev) => {
    const event = JSON.parse(ev.data);
    if (event.type === "clock") { S.clockOffset = event.now - Date.now() / 1000; tick(); }
    scheduleRefresh();
  };
  events.onopen = () => scheduleRefresh(0);
  setInterval(tick, 1000);
}

wire();
refresh();
