"use strict";
// The floor guide's handheld: sign in as a member of staff, then take a
// number for the customer in front of you (service, why they go first,
// account number) and have it printed at a kiosk, or show its QR code for
// the customer's phone.
const TEXT = {
  zh: { title: "引导员", staff: "工号", pin: "PIN", sign_in: "登录", sign_out: "退出", wrong: "工号或 PIN 不对",
        locked: "尝试次数过多，请稍后再试", service: "业务", reason: "优先原因", none: "无", account: "户号（可不填）",
        where: "号票", phone: "在本机显示二维码", kiosk: "在 {name} 打印", kiosk_fault: "{name}（{state}）", take: "取号",
        printing: "正在 {kiosk} 打印…", printed: "已在 {kiosk} 打印，请带客户取票", not_printed: "{kiosk} 未能打印：{why}。请换一台取号机或显示二维码。",
        scan: "请客户用手机扫码查看排队进度", next: "下一位客户", lang: "English", offline: "暂时连不上服务器，请重试",
        first: "优先：{reason}", fault: "故障", silent: "无响应", closed: "暂停", refused: "无法取号：{why}" },
  en: { title: "Floor guide", staff: "Staff number", pin: "PIN", sign_in: "Sign in", sign_out: "Sign out", wrong: "Wrong staff number or PIN",
        locked: "Too many attempts; try again later", service: "Service", reason: "Goes first because", none: "None", account: "Account number (optional)",
        where: "Ticket", phone: "Show the QR code here", kiosk: "Print at {name}", kiosk_fault: "{name} ({state})", take: "Take a number",
        printing: "Printing at {kiosk}…", printed: "Printed at {kiosk}: take the customer to the ticket", not_printed: "{kiosk} did not print it: {why}. Choose another kiosk or show the QR code.",
        scan: "Let the customer scan this to follow the queue", next: "Next customer", lang: "中文", offline: "Cannot reach the server; try again",
        first: "Goes first: {reason}", fault: "fault", silent: "not answering", closed: "closed", refused: "No number: {why}" },
};
const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let session = JSON.parse(sessionStorage.getItem("guide-session") || "null");
let hall = null;
let kiosks = [];
let chosenService = null;
let chosenReason = "";
// A kiosk's name, "" for this phone's QR code; null until the guide picks
// (then the first kiosk).
let chosenWhere = null;
let result = null;
let job = null;
let pollTimer = null;
const t = (key, vars = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${session ? session.token : ""}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && session) { signedOut(); throw new Error("signed out"); }
  return response;
}

function render() {
  document.documentElement.lang = lang;
  $("lang-toggle").textContent = t("lang");
  $("who").textContent = session ? `${t("title")} · ${session.staff.name} (${session.staff.number})` : t("title");
  $("sign-out").textContent = t("sign_out");
  $("sign-out").classList.toggle("hidden", !session);
  $("staff").placeholder = t("staff");
  $("pin").placeholder = t("pin");
  $("sign-in").textContent = t("sign_in");
  $("signin").classList.toggle("hidden", Boolean(session));
  $("issue").classList.toggle("hidden", !session || Boolean(result));
  $("result").classList.toggle("hidden", !session || !result);
  if (!session) return;
  $("service-title").textContent = t("service");
  $("reason-title").textContent = t("reason");
  $("account-title").textContent = t("account");
  $("where-title").textContent = t("where");
  $("take").textContent = t("take");
  $("next").textContent = t("next");
  renderChoices();
  renderResult();
}

function chip(group, value, label, chosen, enabled, onPick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chip";
  button.dataset.value = value;
  button.setAttribute("role", "radio");
  button.setAttribute("aria-pressed", String(chosen));
  button.setAttribute("aria-checked", String(chosen));
  button.disabled = !enabled;
  button.textContent = label;
  button.addEventListener("click", () => { onPick(value); render(); });
  group.append(button);
}

function renderChoices() {
  if (!hall) return;
  const services = $("services");
  services.replaceChildren();
  for (const s of hall.services) {
    const usable = !s.unavailable || s.unavailable === "no_counter_open";
    chip(services, s.id, s.name[lang], chosenService === s.id, usable, (v) => { chosenService = v; });
  }
  const reasons = $("reasons");
  reasons.replaceChildren();
  chip(reasons, "", t("none"), chosenReason === "", true, (v) => { chosenReason = v; });
  for (const r of hall.hall.priority_reasons) {
    chip(reasons, r.id, r.name[lang], chosenReason === r.id, true, (v) => { chosenReason = v; });
  }
  const where = $("where");
  where.replaceChildren();
  for (const k of kiosks) {
    const option = document.createElement("option");
    option.value = k.name;
    const state = !k.reachable ? t("silent") : k.last && k.last.health === "fault" ? t("fault") : null;
    option.textContent = state ? t("kiosk_fault", { name: t("kiosk", { name: k.name }), state }) : t("kiosk", { name: k.name });
    where.append(option);
  }
  const phone = document.createElement("option");
  phone.value = "";
  phone.textContent = t("phone");
  where.append(phone);
  const known = [...where.options].some((o) => o.value === chosenWhere);
  where.value = chosenWhere !== null && known ? chosenWhere : where.options[0].value;
  $("take").disabled = !chosenService;
}

function renderResult() {
  if (!result) return;
  $("result-number").textContent = result.number;
  const service = hall && hall.services.find((s) => s.id === result.service);
  $("result-service").textContent = service ? service.name[lang] : result.service;
  const reason = hall && hall.hall.priority_reasons.find((r) => r.id === result.priority_reason);
  $("result-reason").textContent = reason ? t("first", { reason: reason.name[lang] }) : "";
  const print = $("result-print");
  if (job) {
    const o = job.outcome;
    print.textContent = !o ? t("printing", { kiosk: job.kiosk })
      : o.printed ? t("printed", { kiosk: job.kiosk }) : t("not_printed", { kiosk: job.kiosk, why: o.problem || "" });
    print.className = `status ${!o ? "" : o.printed ? "printed" : "not-printed"}`;
  } else {
    print.textContent = "";
  }
  $("result-hint").textContent = $("result-qr").classList.contains("hidden") ? "" : t("scan");
}

async function loadHall() {
  try {
    const [h, d] = await Promise.all([api("GET", "/api/v1/hall"), api("GET", "/api/v1/devices")]);
    if (h.ok) hall = await h.json();
    if (d.ok) kiosks = (await d.json()).filter((x) => x.role === "kiosk");
  } catch (e) { /* shown at the next attempt */ }
  render();
}

// A fresh key per customer: a retry after a lost answer gets the same ticket.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
let key = newKey();

async function take() {
  $("message").textContent = "";
  $("take").disabled = true;
  const body = { service: chosenService, idempotency_key: key, lang };
  const account = $("account").value.trim();
  if (account) body.customer_ref = account;
  if (chosenReason) body.priority_reason = chosenReason;
  try {
    const response = await api("POST", "/api/v1/tickets", body);
    const answer = await response.json();
    if (!response.ok) {
      $("message").textContent = t("refused", { why: answer.error ? answer.error.message : response.statusText });
      $("take").disabled = false;
      return;
    }
    result = answer;
    job = null;
    const kiosk = $("where").value;
    $("result-qr").classList.toggle("hidden", Boolean(kiosk));
    if (kiosk) {
      const printing = await api("POST", `/api/v1/tickets/${result.id}/print`, { kiosk });
      if (printing.ok) { job = await printing.json(); followJob(); }
    } else {
      await showQr(result.id);
    }
    render();
  } catch (e) {
    $("message").textContent = t("offline");
    $("take").disabled = false;
  }
}

async function showQr(id) {
  const response = await api("GET", `/api/v1/tickets/${id}/qr`);
  const svg = await response.text();
  const bytes = new TextEncoder().encode(svg);
  $("result-qr").src = `data:image/svg+xml;base64,${btoa(String.fromCharCode(...bytes))}`;
  $("result-qr").alt = `QR ${result.number}`;
}

// Until the kiosk says what its printer did.
function followJob() {
  clearInterval(pollTimer);
  pollTimer = setInterval(async () => {
    if (!job || job.outcome) { clearInterval(pollTimer); return; }
    try {
      const response = await api("GET", `/api/v1/print-jobs/${job.id}`);
      if (response.ok) { job = await response.json(); render(); }
    } catch (e) { /* next round */ }
  }, 1000);
}

function next() {
  clearInterval(pollTimer);
  result = null;
  job = null;
  chosenService = null;
  chosenReason = "";
  $("account").value = "";
  $("result-qr").classList.add("hidden");
  key = newKey();
  render();
  loadHall();
}

function signedOut() {
  session = null;
  sessionStorage.removeItem("guide-session");
  result = null;
  render();
}

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("signin-error").textContent = "";
  try {
    const response = await fetch("/api/v1/guide/sign-in", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ staff: $("staff").value.trim(), pin: $("pin").value }),
    });
    if (!response.ok) {
      $("signin-error").textContent = response.status === 429 ? t("locked") : t("wrong");
      return;
    }
    session = await response.json();
    sessionStorage.setItem("guide-session", JSON.stringify(session));
    $("pin").value = "";
    render();
    loadHall();
  } catch (e) {
    $("signin-error").textContent = t("offline");
  }
});
$("sign-out").addEventListener("click", async () => {
  try { await api("POST", "/api/v1/guide/sign-out"); } catch (e) { /* signed out here anyway */ }
  signedOut();
});
$("lang-toggle").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("lang", lang); render(); });
$("where").addEventListener("change", () => { chosenWhere = $("where").value; });
$("take").addEventListener("click", take);
$("next").addEventListener("click", next);
render();
if (session) loadHall();
setInterval(() => { if (session && !result) loadHall(); }, 10000);
