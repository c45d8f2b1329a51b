// The counter station: sign in as a member of staff (staff number and PIN),
// with the counter's PIN, or with a device token; then act with one press
// or one key, while the hall updates live over the event stream. Plain JS,
// no build step.
"use strict";

const TEXT = {
  zh: {
    counter_number: "窗口号", staff_number: "工号（无个人账号可不填）", pin_or_token: "PIN 或设备令牌", sign_in: "登录", sign_out: "退出",
    hold: "挂起", held_here: "本窗口挂起", resume_held: "恢复办理", pause_why: "暂停原因：", state_paused: "暂停服务",
    state_closed: "暂停服务", state_paused_en: "Paused", state_closed_en: "Closed",
    call_next: "叫下一位", recall: "重呼", start: "开始办理", complete: "办结", no_show: "过号",
    transfer: "转办", pause: "暂停", resume: "恢复", waiting_here: "本窗口等候", hall: "大厅",
    nobody: "暂无客户", waited: "已等", account: "户号", offline: "连接中断，正在重连…",
    key_account: "大客户", first_because: "优先：", due: "待缴", nothing_due: "无欠费",
    billing_silent: "计费系统未应答，欠费未核查", no_such_account: "计费系统无此户号",
    open: "营业", paused: "暂停", closed: "关闭", waiting: "等候", called: "已呼叫", serving: "办理中", held: "挂起",
    nobody_waits: "没有等候的客户", transfer_to: "转到…", signin_failed: "登录失败：",
    wrong_counter: "此令牌不能操作该窗口", lang: "English", none_waiting: "无人等候", idle: "空闲",
    device_silent: "无响应，请检查电源和网络", device_fault: "故障，请检查",
    paper_out: "打印机缺纸，请装新纸卷", paper_near_end: "打印纸将用完，请备好新纸卷",
    cover_open: "打印机盖未关好", not_answering: "打印机无响应，请检查电源和连线", error: "打印机故障，请检查卡纸",
  },
  en: {
    counter_number: "Counter number", staff_number: "Staff number (leave empty without an account)", pin_or_token: "PIN or device token", sign_in: "Sign in", sign_out: "Sign out",
    hold: "Hold", held_here: "Held at this counter", resume_held: "Resume", pause_why: "Pause for:", state_paused: "暂停服务",
    state_closed: "暂停服务", state_paused_en: "Paused", state_closed_en: "Closed",
    call_next: "Call next", recall: "Recall", start: "Start", complete: "Complete", no_show: "No-show",
    transfer: "Transfer", pause: "Pause", resume: "Resume", waiting_here: "Waiting for this counter", hall: "Hall",
    nobody: "No customer", waited: "Waited", account: "Account", offline: "Connection lost, reconnecting…",
    key_account: "Key account", first_because: "First because:", due: "Amount due", nothing_due: "nothing due",
    billing_silent: "the billing system did not answer: arrears not checked", no_such_account: "the billing system knows no such account",
    open: "Open", paused: "Paused", closed: "Closed", waiting: "waiting", called: "called", serving: "serving", held: "held",
    nobody_waits: "Nobody is waiting", transfer_to: "Transfer to…", signin_failed: "Sign-in failed: ",
    wrong_counter: "This token cannot act on that counter", lang: "中文", none_waiting: "Nobody waiting", idle: "idle",
    device_silent: "not answering: check its power and network", device_fault: "reports a fault",
    paper_out: "printer out of paper: load a new roll", paper_near_end: "printer paper nearly used up: have a new roll ready",
    cover_open: "printer cover open: close it", not_answering: "printer not answering: check its power and cable",
    error: "printer error: clear any jam",
  },
};

const EVENT_KINDS = [
  "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.completed",
  "ticket.no_show", "ticket.cancelled", "ticket.transferred",
  "counter.opened", "counter.closed", "counter.paused", "counter.resumed",
  "ticket.held", "ticket.resumed", "staff.signed_in", "staff.signed_out",
];

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let session = JSON.parse(localStorage.getItem("counterSession") || "null");
let hall = null;
let me = null; // this counter's view
let current = null; // full current ticket
let events = null;
let refreshTimer = null;

const t = (key) => TEXT[lang][key] || key;

// Why a ticket goes first: a key account, or one of the hall's priority reasons.
function priorityName(id) {
  if (id === "key_account") return t("key_account");
  const reason = hall && (hall.hall.priority_reasons || []).find((r) => r.id === id);
  return reason ? name(reason.name) : id;
}
const name = (i18n) => (i18n ? i18n[lang] : "");

function minutes(fromIso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(fromIso)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

async function api(method, path, body, token) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token || session.token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang-toggle").textContent = t("lang");
  $("sign-out").textContent = t("sign_out");
  render();
  checkDevices();
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  const counter = Number($("signin-counter").value);
  const staff = $("signin-staff").value.trim();
  const secret = $("signin-secret").value.trim();
  try {
    let token = secret;
    if (staff || /^\d{4,8}$/.test(secret)) {
      const body = staff ? { staff, pin: secret } : { pin: secret };
      const opened = await api("POST", `/api/v1/counters/${counter}/sign-in`, body, "none");
      token = opened.token;
    } else {
      const who = await api("GET", "/api/v1/me", null, token);
      const allowed = who.role === "billing" || who.role === "manager" || (who.role === "counter" && who.counter === counter);
      if (!allowed) throw new Error(t("wrong_counter"));
    }
    session = { token, counter };
    localStorage.setItem("counterSession", JSON.stringify(session));
    $("signin-secret").value = "";
    start();
  } catch (error) {
    $("signin-error").textContent = t("signin_failed") + error.message;
  }
}

// Ends the session on the server too (a member of staff's attendance
// ends with it), then forgets it here.
async function signOutNow() {
  if (session) await api("POST", "/api/v1/sign-out").catch(() => {});
  signOut();
}

function signOut() {
  localStorage.removeItem("counterSession");
  session = null;
  if (events) events.close();
  $("station").classList.add("hidden");
  $("signin").classList.remove("hidden");
  $("sign-out").classList.add("hidden");
}

function start() {
  $("signin").classList.add("hidden");
  $("station").classList.remove("hidden");
  $("sign-out").classList.remove("hidden");
  connect();
  refresh();
  checkDevices();
}

// The event stream tells us something changed; the snapshot says what.
// EventSource reconnects by itself and resumes with Last-Event-ID.
function connect() {
  if (events) events.close();
  events = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(session.token)}`);
  EVENT_KINDS.forEach((kind) => events.addEventListener(kind, scheduleRefresh));
  events.onopen = () => { $("link-state").classList.add("hidden"); refresh(); };
  events.onerror = () => {
    $("link-state").textContent = t("offline");
    $("link-state").classList.remove("hidden");
  };
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 30);
}

async function refresh() {
  if (!session) return;
  try {
    const [snapshot, queue] = await Promise.all([
      api("GET", "/api/v1/hall"),
      api("GET", `/api/v1/counters/${session.counter}/queue`),
    ]);
    hall = snapshot;
    hall.queue = queue;
    me = hall.counters.find((c) => c.number === session.counter) || null;
    current = me && me.current ? await api("GET", `/api/v1/tickets/${me.current.id}`) : null;
    render();
  } catch (error) {
    if (error.status === 401) signOut();
    else say(error.message);
  }
}

// The billing system's word on the customer's account (核查欠费): the
// masked name and the amount due, asked once per ticket; the ticket is
// served the same when the billing system does not answer.
const accounts = new Map();
async function showAccount(ticket) {
  const box = $("current-arrears");
  let info = accounts.get(ticket.id);
  if (!info) {
    try {
      info = await api("GET", `/api/v1/accounts/${encodeURIComponent(ticket.customer_ref)}`);
    } catch (error) {
      info = { failed: error.status === 404 ? t("no_such_account") : t("billing_silent") };
    }
    accounts.set(ticket.id, info);
  }
  if (!current || current.id !== ticket.id) return;
  box.classList.remove("hidden");
  if (info.failed) {
    box.textContent = info.failed;
    box.dataset.due = "";
    return;
  }
  const amount = (info.amount_due_minor / 100).toFixed(2);
  const currency = info.currency === "CNY" ? "¥" : `${info.currency} `;
  box.dataset.due = String(info.amount_due_minor);
  box.classList.toggle("owing", info.amount_due_minor > 0);
  box.textContent = `${info.name_masked} · ${info.amount_due_minor > 0 ? `${t("due")} ${currency}${amount}` : t("nothing_due")}`
    + (info.key_account ? ` · ${t("key_account")}` : "");
}

// Kiosks (and boards) that need a person: out of paper, silent, faulty.
// Only devices that have reported since the server started are judged.
async function checkDevices() {
  if (!session) return;
  let devices;
  try {
    devices = await api("GET", "/api/v1/devices");
  } catch (error) {
    return;
  }
  const alerts = devices
    .filter((d) => d.last && (!d.reachable || d.last.health !== "ok"))
    .map((d) => {
      const what = !d.reachable ? t("device_silent")
        : (d.last.printer && TEXT[lang][d.last.printer]) || d.last.message || t("device_fault");
      return `${d.name}: ${what}`;
    });
  $("device-alerts").textContent = alerts.join(" · ");
  $("device-alerts").classList.toggle("hidden", alerts.length === 0);
}

function say(text) {
  $("message").textContent = text;
}

function render() {
  if (!hall || !session) return;
  const counterName = me ? name(me.name) : `#${session.counter}`;
  const who = me && me.staff ? ` · ${me.staff.name} (${me.staff.number})` : "";
  $("title").textContent = `${name(hall.hall.name)} · ${counterName}${who}`;
  const state = me ? me.state : "closed";
  const reason = me && me.pause_reason ? reasonName(me.pause_reason) : "";
  $("counter-state").textContent = t(state) + (reason ? ` · ${reason}` : "");
  $("counter-state").className = `badge ${state}`;
  // What the customer across the desk sees too: the counter is not serving.
  // Both languages at once, as on the hall's signs.
  const banner = $("state-banner");
  banner.className = state === "open" ? "hidden" : `banner ${state}`;
  const why = (l) => (me && me.pause_reason ? ` · ${reasonName(me.pause_reason, l)}` : "");
  $("state-banner-zh").textContent = state === "open" ? "" : `${TEXT.zh[`state_${state}`]}${why("zh")}`;
  $("state-banner-en").textContent = state === "open" ? "" : `${TEXT.en[`state_${state}_en`]}${why("en")}`;

  const number = $("current-number");
  if (current) {
    number.textContent = current.number;
    number.classList.remove("none");
    const service = hall.services.find((s) => s.id === current.service);
    $("current-service").textContent = service ? name(service.name) : current.service;
    $("current-status").textContent = `· ${t(current.status)}`;
    $("current-waited").textContent = `${t("waited")} ${minutes(current.issued_at)}`;
    $("current-account").textContent = current.customer_ref ? `· ${t("account")} ${current.customer_ref}` : "";
    $("current-priority").textContent = current.priority_reason ? `${t("first_because")} ${priorityName(current.priority_reason)}` : "";
    if (current.customer_ref) showAccount(current);
    else $("current-arrears").classList.add("hidden");
  } else {
    $("current-arrears").classList.add("hidden");
    number.textContent = t("nobody");
    number.classList.add("none");
    ["current-service", "current-status", "current-waited", "current-account", "current-priority"].forEach((id) => { $(id).textContent = ""; });
  }
  number.dataset.number = current ? current.number : "";

  const status = current ? current.status : null;
  $("btn-call-next").disabled = state !== "open";
  $("btn-recall").disabled = status !== "called";
  $("btn-start").disabled = status !== "called";
  $("btn-no-show").disabled = status !== "called";
  $("btn-complete").disabled = status !== "serving";
  $("btn-transfer").disabled = status !== "serving";
  $("btn-hold").disabled = status !== "serving";
  $("pause-label").textContent = state === "paused" ? t("resume") : t("pause");
  $("btn-pause").disabled = state === "closed";
  if (state !== "open") $("pause-reasons").classList.add("hidden");
  renderReasons();

  const held = me ? me.held : [];
  $("held-section").classList.toggle("hidden", held.length === 0);
  // Rebuilt only when the held tickets change, so a press never lands
  // on a button being replaced.
  const heldList = $("held-list");
  const heldKey = lang + held.map((h) => h.number).join(",");
  if (heldList.dataset.key !== heldKey) {
    heldList.innerHTML = "";
    held.forEach((ticket) => {
      const li = document.createElement("li");
      li.dataset.number = ticket.number;
      li.innerHTML = `<span class="num"></span><button type="button" class="resume-held"></button>`;
      li.children[0].textContent = ticket.number;
      li.children[1].textContent = t("resume_held");
      li.children[1].addEventListener("click", () => act("resume-held", { number: ticket.number }));
      heldList.append(li);
    });
    heldList.dataset.key = heldKey;
  }
  heldList.querySelectorAll("button").forEach((button) => {
    button.disabled = state !== "open" || Boolean(current);
  });

  // Rebuilt only when the choice changes, so a refresh never pulls the
  // list from under a finger that is choosing.
  const select = $("transfer-service");
  const targets = hall.services.filter((s) => !current || s.id !== current.service);
  const key = lang + targets.map((s) => s.id).join(",");
  if (select.dataset.key !== key) {
    const chosen = select.value;
    select.innerHTML = "";
    select.append(new Option(t("transfer_to"), ""));
    targets.forEach((s) => select.append(new Option(name(s.name), s.id)));
    select.value = chosen;
    select.dataset.key = key;
  }

  const queue = $("queue-list");
  queue.innerHTML = "";
  if (hall.queue.length === 0) {
    const li = document.createElement("li");
    li.textContent = t("none_waiting");
    queue.append(li);
  }
  hall.queue.forEach((ticket) => {
    const li = document.createElement("li");
    li.dataset.number = ticket.number;
    const service = hall.services.find((s) => s.id === ticket.service);
    li.innerHTML = `<span class="num"></span><span></span><span></span>`;
    li.children[0].textContent = ticket.number;
    li.children[1].textContent = service ? name(service.name) : ticket.service;
    if (ticket.priority_reason) {
      const mark = document.createElement("span");
      mark.className = "priority";
      mark.dataset.reason = ticket.priority_reason;
      mark.textContent = priorityName(ticket.priority_reason);
      li.children[1].append(" ", mark);
    }
    li.children[2].textContent = minutes(ticket.issued_at);
    queue.append(li);
  });

  const counters = $("hall-counters");
  counters.innerHTML = "";
  hall.counters.forEach((c) => {
    const li = document.createElement("li");
    li.dataset.counter = String(c.number);
    li.innerHTML = `<span></span><span class="num"></span><span></span>`;
    li.children[0].textContent = name(c.name) + (c.staff ? ` · ${c.staff.name}` : "");
    li.children[1].textContent = c.current ? c.current.number : "—";
    li.children[2].textContent = t(c.state) + (c.pause_reason ? ` · ${reasonName(c.pause_reason)}` : "");
    counters.append(li);
  });
}

async function act(action, body) {
  // Marks the press for the browser's performance timeline (devtools, benchmarks).
  performance.mark("press");
  say("");
  try {
    const answer = await api("POST", `/api/v1/counters/${session.counter}/${action}`, body || {});
    if (action === "call-next" && answer === null) say(t("nobody_waits"));
    await refresh();
  } catch (error) {
    say(error.message);
    if (error.status === 401) signOut();
  }
}

async function transfer() {
  const select = $("transfer-service");
  if (!select.value) { select.focus(); return; }
  const service = select.value;
  select.value = "";
  await act("transfer", { service });
}

function reasonName(id, l = lang) {
  const reason = hall && hall.hall.pause_reasons.find((r) => r.id === id);
  return reason ? reason.name[l] : id;
}

// One button per reason the hall configured, rebuilt only when they or
// the language change.
function renderReasons() {
  const box = $("pause-reasons");
  const key = lang + hall.hall.pause_reasons.map((r) => r.id).join(",");
  if (box.dataset.key === key) return;
  box.querySelectorAll("button").forEach((b) => b.remove());
  hall.hall.pause_reasons.forEach((r, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.reason = r.id;
    button.innerHTML = `<span></span><kbd>${i + 1}</kbd>`;
    button.children[0].textContent = name(r.name);
    button.addEventListener("click", () => pauseFor(r.id));
    box.append(button);
  });
  box.dataset.key = key;
}

function pauseFor(reason) {
  $("pause-reasons").classList.add("hidden");
  act("pause", { reason });
}

// Pause asks why first; resume needs no answer.
function pauseOrResume() {
  if (me && me.state === "paused") { act("resume"); return; }
  const box = $("pause-reasons");
  box.classList.toggle("hidden");
  const first = box.querySelector("button");
  if (!box.classList.contains("hidden") && first) first.focus();
}

const BUTTONS = {
  "btn-call-next": () => act("call-next"),
  "btn-recall": () => act("recall"),
  "btn-start": () => act("start"),
  "btn-complete": () => act("complete"),
  "btn-no-show": () => act("no-show"),
  "btn-transfer": transfer,
  "btn-hold": () => act("hold"),
  "btn-pause": pauseOrResume,
};
// One key per action, like a hardware caller.
const KEYS = { n: "btn-call-next", r: "btn-recall", s: "btn-start", c: "btn-complete", x: "btn-no-show", t: "btn-transfer", h: "btn-hold", p: "btn-pause" };

Object.entries(BUTTONS).forEach(([id, run]) => $(id).addEventListener("click", run));
document.addEventListener("keydown", (event) => {
  if (!session || event.ctrlKey || event.altKey || event.metaKey) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
  // While the reasons are open, their numbers choose one.
  const reasons = $("pause-reasons");
  if (!reasons.classList.contains("hidden") && /^[1-9]$/.test(event.key)) {
    const button = reasons.querySelectorAll("button")[Number(event.key) - 1];
    if (button) { event.preventDefault(); button.click(); }
    return;
  }
  const id = KEYS[event.key.toLowerCase()];
  if (id && !$(id).disabled) { event.preventDefault(); BUTTONS[id](); }
});
$("signin").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOutNow);
$("lang-toggle").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("lang", lang);
  applyLanguage();
});
setInterval(checkDevices, 5000);
setInterval(() => { if (current) $("current-waited").textContent = `${t("waited")} ${minutes(current.issued_at)}`; }, 1000);

applyLanguage();
if (session) start();
