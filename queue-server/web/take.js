"use strict";
// Takes a number before arriving: pick a service, get a ticket and its
// six-digit check-in code, then follow it on the ticket's own page.
const TEXT = {
  zh: { title: "线上取号", how: "取号后请在 {min} 分钟内到厅签到：在取号机输入签到码{qr}。未签到的号不会被叫到，超时作废。",
        qr: "，或扫描大厅门口的二维码", waiting: "{n} 人等候", wait: "约 {n} 分钟", soon: "几乎无需等候", noest: "暂无预计",
        take: "取号", lang: "English", closed: "暂停取号", outside_hours: "不在办理时间（{hours}）", no_counter_open: "暂无窗口办理",
        closed_today: "今日暂停办理", break: "午休暂停", holiday: "{reason}", closure: "暂停办理：{reason}", opens: "{when} 开始办理", none: "本厅暂不提供线上取号，请到厅内取号机取号。", offline: "暂时连不上营业厅，请稍后再试。",
        busy: "正在取号…", limit: "今天线上取号次数已用完，请到厅内取号机取号。", refused: "无法取号：{why}" },
  en: { title: "Take a number before you come", how: "Check in within {min} minutes of taking it: type the check-in code at a kiosk{qr}. A number not checked in is not called, and expires.",
        qr: ", or scan the QR code at the entrance", waiting: "{n} waiting", wait: "about {n} min", soon: "almost no wait", noest: "no estimate yet",
        take: "Take", lang: "中文", closed: "not taking numbers", outside_hours: "closed now (hours {hours})", no_counter_open: "no counter open now",
        closed_today: "closed for today", break: "lunch break", holiday: "{reason}", closure: "closed: {reason}", opens: "opens {when}", none: "This hall does not take numbers before arrival; take one at the kiosk in the hall.", offline: "Cannot reach the hall right now; try again shortly.",
        busy: "Taking a number…", limit: "You have taken as many numbers before arriving as the hall allows today; take one at the kiosk.", refused: "No number: {why}" },
};
const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let setup = null;
let error = null;
const t = (key, vars = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function render() {
  $("lang-toggle").textContent = t("lang");
  document.documentElement.lang = lang;
  $("title").textContent = t("title");
  $("message").textContent = error ? (typeof error === "string" ? t(error) : error[lang]) : "";
  if (!setup) return;
  $("hall").textContent = setup.hall_name[lang];
  $("how").textContent = t("how", { min: setup.check_in_within_min, qr: setup.place_check_in ? t("qr") : "" });
  const list = $("services");
  list.replaceChildren();
  for (const s of setup.services) {
    const li = document.createElement("li");
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = s.name[lang];
    const info = document.createElement("div");
    info.className = "meta";
    const est = s.estimated_wait_s;
    const closed = s.unavailable && t(s.unavailable, { hours: s.hours || "", reason: s.closed_reason ? s.closed_reason[lang] : "" });
    const opens = s.opens_at ? t("opens", { when: when(s.opens_at) }) : "";
    info.textContent = s.unavailable
      ? [closed, opens].filter(Boolean).join(" · ")
      : `${t("waiting", { n: s.waiting })} · ${est === null ? t("noest") : est < 60 ? t("soon") : t("wait", { n: Math.round(est / 60) })}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "take-button";
    button.dataset.service = s.id;
    button.textContent = t("take");
    // Closed by the calendar or for today, the server would refuse it.
    button.disabled = ["outside_hours", "closed_today", "break", "holiday", "closure"].includes(s.unavailable);
    button.addEventListener("click", () => take(s.id));
    const text = document.createElement("div");
    text.append(name, info);
    li.append(text, button);
    list.append(li);
  }
}

// "13:30" today, else the date too.
function when(at) {
  const d = new Date(at);
  const locale = lang === "zh" ? "zh-CN" : "en-GB";
  // In the hall's time zone, whatever the phone's is set to.
  const timeZone = setup.timezone || undefined;
  const time = d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone });
  const day = (x) => x.toLocaleDateString(locale, { month: "short", day: "numeric", timeZone });
  return day(d) === day(new Date()) ? time : `${day(d)} ${time}`;
}

// One key per service and attempt, kept until it worked: a retry after a
// lost answer gets the same ticket, not a second one.
function keyFor(service) {
  const name = `take-key-${service}`;
  let key = sessionStorage.getItem(name);
  if (!key) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(name, key);
  }
  return key;
}

async function take(service) {
  error = "busy";
  render();
  try {
    const response = await fetch("api/v1/public/remote-tickets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service, idempotency_key: keyFor(service), lang }),
    });
    const body = await response.json();
    if (!response.ok) {
      sessionStorage.removeItem(`take-key-${service}`);
      const why = body.error ? body.error.message : response.statusText;
      error = response.status === 429 ? "limit"
        : { zh: TEXT.zh.refused.replace("{why}", why), en: TEXT.en.refused.replace("{why}", why) };
      render();
      return;
    }
    sessionStorage.removeItem(`take-key-${service}`);
    // The QR posted in the hall checks in the tickets this phone took.
    const mine = JSON.parse(localStorage.getItem("remote-tickets") || "[]");
    if (!mine.includes(body.tracking_code)) mine.push(body.tracking_code);
    localStorage.setItem("remote-tickets", JSON.stringify(mine.slice(-5)));
    location.href = `t/${body.tracking_code}`;
  } catch (e) {
    error = "offline";
    render();
  }
}

async function load() {
  try {
    const response = await fetch("api/v1/public/remote-setup");
    if (response.status === 404) { error = "none"; render(); return; }
    if (!response.ok) throw new Error(response.statusText);
    setup = await response.json();
    if (error === "offline") error = null;
  } catch (e) {
    error = "offline";
  }
  render();
}

$("lang-toggle").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("lang", lang); render(); });
render();
load();
setInterval(load, 15000);
