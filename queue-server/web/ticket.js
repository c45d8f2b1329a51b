"use strict";
// Follows one ticket, by the code in its QR: it polls, so a phone that
// sleeps and wakes shows the truth again at once.
const TEXT = {
  zh: { waiting: "等候中", called: "请到 {counter} 办理", serving: "正在办理", held: "业务暂挂，请留在 {counter} 附近", done: "已办结", no_show: "已过号",
        cancelled: "已取消", transferred: "已转办", ahead: "前面还有", wait: "预计等候", people: "{n} 人",
        minutes: "约 {n} 分钟", soon: "马上", unknown: "暂无窗口办理", not_found: "找不到这张票，请核对二维码。",
        offline: "暂时无法更新，稍后自动重试。", unreachable: "营业厅暂时无法连接，您的号码仍然有效；稍后自动重试。", updated: "更新于 {time}", lang: "English",
        rate: "请对本次服务进行评价", why: "请告诉我们原因", send: "提交", rated: "感谢您的评价：{level}",
        bring: "请携带：{items}", on_the_way: "请到厅签到", expired: "已作废：未在 {time} 前签到",
        check_in_by: "请在 {time} 前到厅签到，签到码", check_in_how: "在取号机输入签到码，或扫描大厅门口的二维码。签到前不会叫到您的号，但位置为您保留。",
        checked_in: "已签到 {time}，请留意叫号", break: "午休暂停，{when} 继续办理", holiday: "{reason}休息，{when} 开始办理",
        closure: "暂停办理：{reason}，{when} 恢复", outside_hours: "现在不办理，{when} 开始办理", later: "稍后" },
  en: { waiting: "Waiting", called: "Please go to {counter}", serving: "Being served", held: "On hold: please stay near {counter}", done: "Done", no_show: "Missed",
        cancelled: "Cancelled", transferred: "Transferred", ahead: "Ahead of you", wait: "Estimated wait", people: "{n}",
        minutes: "about {n} min", soon: "very soon", unknown: "no counter open now", not_found: "No ticket has this code; check the QR code.",
        offline: "Cannot update right now; retrying.", unreachable: "The hall cannot be reached right now; your ticket is still valid. Retrying.", updated: "Updated {time}", lang: "中文",
        rate: "Please rate this service", why: "What went wrong?", send: "Send", rated: "Thank you for rating: {level}",
        bring: "Please bring: {items}", on_the_way: "Check in when you arrive", expired: "Expired: not checked in by {time}",
        check_in_by: "Check in at the hall by {time} with the code", check_in_how: "Type it at a kiosk, or scan the QR code at the entrance. Until you check in your number is not called, but it keeps its place.",
        checked_in: "Checked in at {time}; watch for your number", break: "Lunch break: service goes on at {when}", holiday: "Closed for {reason}: opens {when}",
        closure: "Closed: {reason}; opens again {when}", outside_hours: "Closed now: opens {when}", later: "later" },
};
const $ = (id) => document.getElementById(id);
const code = location.pathname.split("/").pop();
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let ticket = null;
let setup = null;
let bad = null;
const chosen = new Set();
const t = (key, vars = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function render() {
  $("lang-toggle").textContent = t("lang");
  document.documentElement.lang = lang;
  if (!ticket) return;
  $("hall").textContent = ticket.hall_name[lang];
  $("number").textContent = ticket.number;
  $("service").textContent = ticket.service[lang];
  const counter = ticket.counter_name ? ticket.counter_name[lang] : ticket.counter;
  const remote = ticket.remote;
  // In the hall's time zone, whatever the phone's is set to.
  const clock = (at) => new Date(at).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB",
    { hour: "2-digit", minute: "2-digit", timeZone: ticket.timezone || undefined });
  // A remote ticket not checked in yet is waiting for its holder, not for a counter.
  const state = remote && !remote.checked_in_at && ticket.status === "waiting" ? "on_the_way" : ticket.status;
  $("status").textContent = t(state, { counter, time: remote ? clock(remote.check_in_by) : "" });
  $("status").className = `status ${state}`;
  renderArrival(remote, clock);
  renderClosed(clock);
  const waiting = ticket.status === "waiting";
  $("details").classList.toggle("hidden", !waiting);
  // What to bring matters until the customer is at the counter.
  const bring = ticket.bring && ["waiting", "called", "held"].includes(ticket.status);
  $("bring").classList.toggle("hidden", !bring);
  $("bring").textContent = bring ? t("bring", { items: ticket.bring[lang] }) : "";
  $("ahead-label").textContent = t("ahead");
  $("ahead").textContent = t("people", { n: ticket.ahead });
  $("wait-label").textContent = t("wait");
  const s = ticket.estimated_wait_s;
  $("wait").textContent = s === null ? t("unknown") : s < 60 ? t("soon") : t("minutes", { n: Math.round(s / 60) });
  $("updated").textContent = t("updated", { time: new Date().toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB") });
  renderRating();
}

// While the service is closed by its calendar: why, and when it goes on.
function renderClosed(clock) {
  const why = ticket.unavailable;
  const show = ["break", "holiday", "closure", "outside_hours"].includes(why);
  $("closed").classList.toggle("hidden", !show);
  if (!show) return;
  const at = ticket.opens_at ? new Date(ticket.opens_at) : null;
  const locale = lang === "zh" ? "zh-CN" : "en-GB";
  const day = (d) => d.toLocaleDateString(locale, { month: "short", day: "numeric", timeZone: ticket.timezone || undefined });
  const sameDay = at && day(at) === day(new Date());
  const when = !at ? t("later") : sameDay ? clock(ticket.opens_at) : `${day(at)} ${clock(ticket.opens_at)}`;
  $("closed").textContent = t(why, { when, reason: ticket.closed_reason ? ticket.closed_reason[lang] : "" });
}

// A remote ticket: the code to check in with and until when, or when it was.
function renderArrival(remote, clock) {
  const show = remote && ["waiting", "called"].includes(ticket.status);
  $("arrival").classList.toggle("hidden", !show);
  if (!show) return;
  const checked = Boolean(remote.checked_in_at);
  $("arrival").classList.toggle("checked", checked);
  $("arrival-text").textContent = checked ? t("checked_in", { time: clock(remote.checked_in_at) }) : t("check_in_by", { time: clock(remote.check_in_by) });
  $("arrival-code").textContent = checked ? "" : remote.check_in_code;
  $("arrival-how").textContent = checked ? "" : t("check_in_how");
}

// Once completed, the page offers the rating (if the counter's rater took
// none), once, while the hall allows it.
function renderRating() {
  const offer = ticket.can_rate && setup;
  $("rate").classList.toggle("hidden", !offer);
  const rated = ticket.rated && setup && setup.levels.find((l) => l.level === ticket.rated);
  $("rated").classList.toggle("hidden", !rated);
  if (rated) $("rated").textContent = t("rated", { level: rated.name[lang] });
  if (!offer) return;
  $("rate-title").textContent = t("rate");
  $("rate-reasons-title").textContent = t("why");
  $("rate-send").textContent = t("send");
  const levels = $("rate-levels");
  if (levels.dataset.lang !== lang) {
    Rating.levels(levels, setup, (choice, button) => { button.textContent = choice.name[lang]; }, choose);
    Rating.reasons($("rate-reasons"), setup, chosen, (reason) => reason.name[lang]);
    levels.dataset.lang = lang;
  }
}

function choose(choice) {
  if (choice.asks_reasons) {
    bad = choice.level;
    Rating.pick($("rate-levels"), choice.level);
    $("rate-reasons-box").classList.remove("hidden");
    return;
  }
  send(choice.level, []);
}

async function send(level, reasons) {
  const response = await fetch(`api/v1/public/tickets/${encodeURIComponent(code)}/rating`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ level, reasons }),
  });
  if (!response.ok && response.status !== 409) {
    $("updated").textContent = t("offline");
    return;
  }
  await poll();
}

// The QR posted in the hall checks in the remote tickets this phone follows.
function remember(tracking) {
  const mine = JSON.parse(localStorage.getItem("remote-tickets") || "[]");
  if (mine.includes(tracking)) return;
  mine.push(tracking);
  localStorage.setItem("remote-tickets", JSON.stringify(mine.slice(-5)));
}

async function poll() {
  try {
    const response = await fetch(`api/v1/public/tickets/${encodeURIComponent(code)}`);
    if (response.status === 404) { $("number").textContent = "—"; $("status").textContent = t("not_found"); return; }
    // Head office relays this page; 503 is its word for a hall it cannot reach.
    if (response.status === 503) { $("updated").textContent = t("unreachable"); return; }
    if (!response.ok) throw new Error(response.statusText);
    ticket = await response.json();
    if (ticket.remote) remember(code);
    render();
  } catch (error) {
    $("updated").textContent = t("offline");
  }
}

$("lang-toggle").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("lang", lang); render(); });
$("rate-send").addEventListener("click", () => send(bad, [...chosen]));
render();
fetch("api/v1/public/rating-setup").then((r) => r.json()).then((s) => { setup = s; render(); }).catch(() => {});
poll();
setInterval(poll, 3000);
