// The manager console: sign in with a name and password (an HttpOnly
// session cookie the server sets), then the hall now (live over the event
// stream), reports over any period with charts and exports, the kept daily
// reports, accounts and the audit log. Plain JS, no build step; the figures
// and tables come from the server, this page only lays them out.
"use strict";

const TEXT = {
  zh: {
    view_now: "现在", view_reports: "报表", view_daily: "日报", view_accounts: "账号", view_audit: "审计",
    sign_out: "退出", signin_title: "大厅管理登录", name: "用户名", password: "密码", sign_in: "登录",
    password_min: "密码（至少 10 个字符）", pin: "PIN（4–8 位数字）",
    alerts: "需要处理", no_alerts: "一切正常", today: "今日", close_today: "今日停办", reopen_today: "恢复办理",
    closed_today: "今日已停办", board_notice: "叫号屏通知", notice_zh: "中文通知", notice_en: "英文通知",
    closures: "暂停营业（停电、停业）", closures_note: "在这段时间内全厅不取号，取号机和叫号屏显示原因和恢复时间；已在等候的客户照常办理。",
    break: "午休", holiday: "节假日", closure: "暂停营业", reason_zh: "中文原因", reason_en: "英文原因", add_closure: "设定暂停", lift: "提前恢复", no_closures: "没有已设定的暂停",
    set_notice: "发布通知", clear_notice: "撤下通知", notice_own: "叫号屏显示各自的通知", notice_is: "现在显示：", services_now: "各业务现在", counters_now: "各窗口现在",
    service: "业务", waiting: "等候", longest: "最长等候", level_today: "今日达标率", estimate: "现在取号预计",
    below: "低于目标", target: "目标", level_note: "达标率 = 目标时间内叫号 ÷（已叫号 + 超时仍在等候）；目标 {p}",
    open: "营业", paused: "暂停", closed: "关闭", serving_for: "在窗口", min: "分", nobody: "空闲", signed_in: "在岗",
    day: "日", week: "周", month: "月", range: "自选", show: "查看", csv: "CSV", xlsx: "Excel", print: "打印日报",
    print_range: "打印报表",
    chart_waits: "等候时长分布", chart_hours: "每小时到达与办结", chart_levels: "各业务每日达标率",
    heatmap: "到达热力图（星期 × 小时）", customers: "人数", arrivals: "到达", served: "办结",
    f_issued: "取号", f_done: "办结", f_mean_wait: "平均等候(分)", f_median_wait: "等候中位数(分)", f_p90_wait: "等候P90(分)",
    f_service_time: "平均办理(分)", f_service_level: "服务达标率", f_no_show_rate: "过号率", f_transfer_rate: "转办率",
    f_cancel_rate: "取消率", f_utilisation: "窗口利用率", f_completed_per_open_hour: "每开放小时办结",
    before: "上期", report_of: "报表", days: "天",
    daily_reports: "每日日报", daily_note: "每天营业结束时，系统关闭仍开着的窗口，生成日报并保存。", today_so_far: "今天（截至现在）",
    view_page: "查看 / 打印", workbook: "Excel", made_at: "生成于",
    managers: "管理员账号", created: "创建", status: "状态", active: "正常", disabled: "已停用", locked: "已锁定至",
    add_manager: "添加管理员", disable: "停用", new_password: "重设密码", added: "已添加", password_set: "密码已重设",
    counter_pins: "窗口 PIN", set_pin: "设置 PIN", pin_set: "PIN 已设置", staff: "员工", staff_number: "工号",
    audit: "审计记录", when: "时间", who: "操作人", what: "操作", detail: "内容",
    offline: "连接中断，正在重连…", lang: "English", weekday: "星期",
    a_over_target: "{s}：最长已等 {m} 分，超过目标 {t} 分",
    a_level: "{s}：今日达标率 {l}，低于目标 {p}",
    a_paper_out: "{d}：打印机缺纸，请装新纸卷", a_paper_near_end: "{d}：打印纸将用完",
    a_printer: "{d}：打印机故障（{x}）", a_silent: "{d}：无响应，请检查电源和网络", a_display: "{d}：显示屏无响应",
    a_fault: "{d}：报告故障 {x}", a_webhook: "推送 {w}：{n} 条未送达，最久 {m} 分",
    disconnected: "未连接",
    a_head_office: "总部连不上：{n} 条事件待传（{x}）", shipping: "传送总部 {h}：已传至事件 {s}，待传 {n}",
    set_by_office: "总部设定（代替本厅配置）：", set_holidays: "{o} 年节假日安排", set_hours: "{o} 营业时间", set_service: "{o} 名称、承诺等候与材料", set_who: "（{b}，{a}）",
    locked_msg: "账号已锁定：", wrong: "用户名或密码错误",
  },
  en: {
    view_now: "Now", view_reports: "Reports", view_daily: "Daily", view_accounts: "Accounts", view_audit: "Audit",
    sign_out: "Sign out", signin_title: "Hall manager sign-in", name: "Name", password: "Password", sign_in: "Sign in",
    password_min: "Password (at least 10 characters)", pin: "PIN (4–8 digits)",
    alerts: "Needs attention", no_alerts: "All is well", today: "Today", close_today: "Close for today", reopen_today: "Open again",
    closed_today: "closed for today", board_notice: "Boards' notice", notice_zh: "Notice in Chinese", notice_en: "Notice in English",
    closures: "Closures (power cut, closed)", closures_note: "No tickets for the whole hall in this time; kiosks and boards show the reason and when it opens again; those already waiting are still served.",
    break: "lunch break", holiday: "holiday", closure: "closed", reason_zh: "Reason in Chinese", reason_en: "Reason in English", add_closure: "Set the closure", lift: "Lift now", no_closures: "No closures set",
    set_notice: "Show on boards", clear_notice: "Take down", notice_own: "The boards show their own notice", notice_is: "Now showing: ", services_now: "Services now", counters_now: "Counters now",
    service: "Service", waiting: "Waiting", longest: "Longest wait", level_today: "Level today", estimate: "Estimate now",
    below: "below target", target: "target", level_note: "Service level = called within the target ÷ (called + still waiting past it); target {p}",
    open: "Open", paused: "Paused", closed: "Closed", serving_for: "at the counter for", min: "min", nobody: "idle", signed_in: "signed in",
    day: "Day", week: "Week", month: "Month", range: "Range", show: "Show", csv: "CSV", xlsx: "Excel", print: "Print daily",
    print_range: "Print report",
    chart_waits: "Wait distribution", chart_hours: "Arrivals and served per hour", chart_levels: "Service level per service per day",
    heatmap: "Arrivals heatmap (weekday × hour)", customers: "Customers", arrivals: "Arrivals", served: "Served",
    f_issued: "Issued", f_done: "Served", f_mean_wait: "Mean wait (min)", f_median_wait: "Median wait (min)", f_p90_wait: "P90 wait (min)",
    f_service_time: "Mean service (min)", f_service_level: "Service level", f_no_show_rate: "No-show rate", f_transfer_rate: "Transfer rate",
    f_cancel_rate: "Cancel rate", f_utilisation: "Utilisation", f_completed_per_open_hour: "Served per open hour",
    before: "before", report_of: "Report", days: "days",
    daily_reports: "Daily reports", daily_note: "At closing time the server closes counters left open, makes the day's report and keeps it.", today_so_far: "Today (so far)",
    view_page: "View / print", workbook: "Excel", made_at: "made",
    managers: "Manager accounts", created: "Created", status: "Status", active: "active", disabled: "disabled", locked: "locked until",
    add_manager: "Add manager", disable: "Disable", new_password: "New password", added: "added", password_set: "password set",
    counter_pins: "Counter PINs", set_pin: "Set PIN", pin_set: "PIN set", staff: "Staff", staff_number: "Number",
    audit: "Audit log", when: "When", who: "Who", what: "What", detail: "Detail",
    offline: "Connection lost, reconnecting…", lang: "中文", weekday: "Weekday",
    a_over_target: "{s}: longest wait {m} min, over the {t}-min target",
    a_level: "{s}: today's service level {l}, below the {p} target",
    a_paper_out: "{d}: printer out of paper, load a new roll", a_paper_near_end: "{d}: printer paper nearly used up",
    a_printer: "{d}: printer fault ({x})", a_silent: "{d}: not answering, check its power and network", a_display: "{d}: display not answering",
    a_fault: "{d}: reports a fault {x}", a_webhook: "webhook {w}: {n} undelivered, oldest {m} min",
    disconnected: "not connected",
    a_head_office: "head office unreachable: {n} events wait ({x})", shipping: "shipping to head office as {h}: through event {s}, {n} waiting",
    set_by_office: "Set by head office (in place of this hall's configuration): ", set_holidays: "{o} holidays", set_hours: "{o} hours", set_service: "{o} name, target and papers", set_who: " ({b}, {a})",
    locked_msg: "Account locked: ", wrong: "Wrong name or password",
  },
};

const WEEKDAYS = { zh: ["周一", "周二", "周三", "周四", "周五", "周六", "周日"], en: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] };
const FIGURES = [
  ["issued", (s) => s.hall.issued, "int"],
  ["done", (s) => s.hall.done, "int"],
  ["mean_wait", (s) => s.hall.wait.mean_s, "min"],
  ["median_wait", (s) => s.hall.wait.median_s, "min"],
  ["p90_wait", (s) => s.hall.wait.p90_s, "min"],
  ["service_time", (s) => s.hall.service_time.mean_s, "min"],
  ["service_level", (s) => s.hall.service_level, "share"],
  ["no_show_rate", (s) => s.hall.no_show_rate, "share"],
  ["transfer_rate", (s) => s.hall.transfer_rate, "share"],
  ["cancel_rate", (s) => s.hall.cancel_rate, "share"],
  ["utilisation", (s) => s.utilisation, "share"],
  ["completed_per_open_hour", (s) => s.completed_per_open_hour, "num"],
];

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let view = "now";
let hall = null; // the snapshot
let today = null; // today's statistics
let devices = [];
let webhooks = [];
// Shipping to head office (null: the hall stands alone).
let shipping = null;
let fetchedAt = Date.now();
let events = null;
let refreshTimer = null;
let charts = {};
let lastReport = null;

const t = (key) => TEXT[lang][key] || key;
const fill = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, k) => values[k]);
const name = (i18n) => (i18n ? i18n[lang] : "");
const dash = "—";

function fmt(value, kind) {
  if (value === null || value === undefined) return dash;
  switch (kind) {
    case "min": return (value / 60).toFixed(1);
    case "share": return `${(value * 100).toFixed(1)}%`;
    case "num": return String(value);
    default: return String(value);
  }
}

// A time as the hall's clock shows it, whatever the browser's zone.
function hallTime(isoTime) {
  const options = { hour12: false, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  if (hall) options.timeZone = hall.hall.timezone;
  return new Date(isoTime).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", options);
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (method !== "GET") headers["x-hall-console"] = "1";
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll("[data-p]")) node.placeholder = t(node.dataset.p);
  $("lang-toggle").textContent = t("lang");
  $("link-state").textContent = t("offline");
  if (hall) {
    document.title = `${name(hall.hall.name)} · ${t("view_" + view)}`;
    $("title").textContent = name(hall.hall.name);
    drawNow();
  }
  if (lastReport) drawReport(lastReport);
  if (view === "daily") loadDaily();
  if (view === "accounts") loadAccounts();
}

// ---- signing in and out ----

function showSignIn(message) {
  if (events) events.close();
  events = null;
  for (const v of document.querySelectorAll(".view")) v.classList.add("hidden");
  $("nav").classList.add("hidden");
  $("sign-out").classList.add("hidden");
  $("who").textContent = "";
  $("signin").classList.remove("hidden");
  $("signin-error").textContent = message || "";
  $("signin-name").focus();
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  $("signin-button").disabled = true;
  try {
    await api("POST", "/api/v1/manager/sign-in", { name: $("signin-name").value.trim(), password: $("signin-password").value });
    $("signin-password").value = "";
    await start();
  } catch (e) {
    const text = e.status === 429 ? t("locked_msg") + e.message : e.status === 401 ? t("wrong") : e.message;
    $("signin-error").textContent = text;
    $("signin-error").dataset.status = String(e.status || "");
  } finally {
    $("signin-button").disabled = false;
  }
}

async function signOut() {
  await api("POST", "/api/v1/manager/sign-out").catch(() => {});
  showSignIn("");
}

async function start() {
  let session;
  try {
    session = await api("GET", "/api/v1/manager/session");
  } catch (e) {
    showSignIn("");
    return;
  }
  $("signin").classList.add("hidden");
  $("nav").classList.remove("hidden");
  $("sign-out").classList.remove("hidden");
  $("who").textContent = session.name;
  await Promise.all([refreshNow(), refreshDevices()]);
  connect();
  show(location.hash.slice(1) || "now");
}

function show(next) {
  view = ["now", "reports", "daily", "accounts", "audit"].includes(next) ? next : "now";
  for (const v of document.querySelectorAll(".view")) v.classList.toggle("hidden", v.id !== `view-${view}`);
  for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.view === view);
  if (location.hash.slice(1) !== view) history.replaceState(null, "", `#${view}`);
  if (hall) document.title = `${name(hall.hall.name)} · ${t("view_" + view)}`;
  if (view === "reports" && !lastReport) loadReport();
  if (view === "daily") loadDaily();
  if (view === "accounts") loadAccounts();
  if (view === "audit") loadAudit();
}

// ---- now: live over the event stream ----

function connect() {
  if (events) events.close();
  events = new EventSource("/api/v1/events");
  events.onopen = () => $("link-state").classList.add("hidden");
  events.onerror = () => {
    $("link-state").classList.remove("hidden");
    if (events.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
  };
  const changed = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshNow, 300);
  };
  events.onmessage = changed;
  for (const kind of ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.completed",
    "ticket.no_show", "ticket.cancelled", "ticket.transferred", "counter.opened", "counter.closed",
    "counter.paused", "counter.resumed", "ticket.held", "ticket.resumed", "staff.signed_in",
    "staff.signed_out", "ticket.rated", "day.reported", "service.closed", "service.reopened", "notice.changed", "closures.changed", "service.changed"]) {
    events.addEventListener(kind, changed);
  }
  events.addEventListener("closures.changed", refreshClosures);
}

async function refreshNow() {
  try {
    const [snapshot, stats] = await Promise.all([api("GET", "/api/v1/hall"), api("GET", "/api/v1/stats/day")]);
    hall = snapshot; today = stats; fetchedAt = Date.now();
    $("title").textContent = name(hall.hall.name);
    drawNow();
    // Its times are the hall's: drawn again once the hall's zone is known.
    drawShipping();
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
  }
}

// Devices report by heartbeat and webhooks deliver in the background, not
// by event: asked for every few seconds.
async function refreshDevices() {
  try {
    [devices, webhooks, shipping] = await Promise.all([
      api("GET", "/api/v1/devices"), api("GET", "/api/v1/webhooks"), api("GET", "/api/v1/head-office"),
    ]);
    drawShipping();
    if (hall) drawAlerts();
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
  }
}

function serviceLevel(id) {
  const s = today && today.services.find((x) => x.service === id);
  return s ? s.service_level : null;
}

function alerts() {
  const out = [];
  const target = hall.hall.service_level_target;
  const since = (Date.now() - fetchedAt) / 1000;
  for (const s of hall.services) {
    const longest = s.longest_wait_s === null || s.longest_wait_s === undefined ? null : s.longest_wait_s + since;
    if (longest !== null && longest > s.target_wait_min * 60) {
      out.push(["over_target", fill("a_over_target", { s: name(s.name), m: Math.floor(longest / 60), t: s.target_wait_min })]);
    }
    const level = serviceLevel(s.id);
    if (level !== null && level < target) {
      out.push(["level", fill("a_level", { s: name(s.name), l: fmt(level, "share"), p: fmt(target, "share") })]);
    }
  }
  for (const d of devices) {
    if (d.role !== "kiosk" && d.role !== "display") continue;
    if (!d.reachable) {
      out.push(["silent", fill(d.role === "display" ? "a_display" : "a_silent", { d: d.name })]);
      continue;
    }
    const last = d.last || {};
    if (last.printer === "paper_out") out.push(["paper_out", fill("a_paper_out", { d: d.name })]);
    else if (last.printer === "paper_near_end") out.push(["paper_near_end", fill("a_paper_near_end", { d: d.name })]);
    else if (["cover_open", "not_answering", "error"].includes(last.printer)) out.push(["printer", fill("a_printer", { d: d.name, x: last.message || last.printer })]);
    else if (last.health === "fault") out.push(["fault", fill("a_fault", { d: d.name, x: last.message || "" })]);
  }
  if (shipping && shipping.backlog > 0 && (!shipping.connected || shipping.last_error)) {
    out.push(["head_office", fill("a_head_office", { n: shipping.backlog, x: shipping.last_error || t("disconnected") })]);
  }
  for (const w of webhooks) {
    if (w.overdue) out.push(["webhook", fill("a_webhook", { w: w.name, n: w.pending, m: Math.floor((w.oldest_pending_s || 0) / 60) })]);
  }
  return out;
}

// Close a service for the rest of today, or open it again.
function todayCell(s) {
  const closed = s.unavailable === "closed_today";
  const button = el("button", { type: "button", class: closed ? "reopen" : "danger close", text: t(closed ? "reopen_today" : "close_today") });
  button.onclick = async () => {
    try {
      await api("POST", `/api/v1/services/${encodeURIComponent(s.id)}/${closed ? "reopen-today" : "close-today"}`);
      refreshNow();
    } catch (e) {
      $("now-message").textContent = e.message;
    }
  };
  return el("td", { "data-k": "today" }, button);
}

async function setNotice(event) {
  event.preventDefault();
  try {
    await api("PUT", "/api/v1/notice", { zh: $("notice-zh").value.trim(), en: $("notice-en").value.trim() });
    refreshNow();
  } catch (e) {
    $("now-message").textContent = e.message;
  }
}

// The hall's time zone's "YYYY-MM-DDTHH:MM" (a datetime-local input) as an instant.
function hallInstant(local) {
  const tz = (snapshotTz || undefined);
  // The offset the hall's zone has at that local time, found by formatting.
  const guess = new Date(`${local}:00Z`);
  const shown = new Date(guess.toLocaleString("en-US", { timeZone: tz }));
  const utc = new Date(guess.toLocaleString("en-US", { timeZone: "UTC" }));
  return new Date(guess.getTime() - (shown - utc)).toISOString();
}
let snapshotTz = null;

async function refreshClosures() {
  try {
    const list = await api("GET", "/api/v1/closures");
    const ul = $("closure-list");
    ul.replaceChildren();
    if (list.length === 0) ul.append(el("li", { class: "note", text: t("no_closures") }));
    const when = (at) => new Date(at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB",
      { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: snapshotTz || undefined });
    for (const c of list) {
      const lift = el("button", { type: "button", "data-closure": String(c.id), text: t("lift") });
      lift.addEventListener("click", async () => {
        try { await api("POST", `/api/v1/closures/${c.id}/lift`); refreshClosures(); refreshNow(); }
        catch (e) { $("closure-message").textContent = e.message; }
      });
      ul.append(el("li", { "data-closure": String(c.id) },
        el("span", { text: `${when(c.from)} – ${when(c.until)} · ${c.reason.zh} · ${c.reason.en} ` }), lift));
    }
  } catch (e) {
    $("closure-message").textContent = e.message;
  }
}

async function addClosure(event) {
  event.preventDefault();
  $("closure-message").textContent = "";
  try {
    await api("POST", "/api/v1/closures", {
      from: hallInstant($("closure-from").value),
      until: hallInstant($("closure-until").value),
      reason: { zh: $("closure-zh").value.trim(), en: $("closure-en").value.trim() },
    });
    $("closure-form").reset();
    refreshClosures();
    refreshNow();
  } catch (e) {
    $("closure-message").textContent = e.message;
  }
}

async function clearNotice() {
  try {
    await api("DELETE", "/api/v1/notice");
    refreshNow();
  } catch (e) {
    $("now-message").textContent = e.message;
  }
}

// How far the hall's events have gone to head office, under the alerts.
function drawShipping() {
  const line = $("shipping");
  line.hidden = !shipping;
  if (shipping) line.textContent = fill("shipping", { h: shipping.hall_id, s: shipping.shipped_through, n: shipping.backlog });
  // What head office set of the calendar: why a service's hours or a
  // holiday are not what this hall's configuration says.
  const set = $("set-by-office");
  const items = shipping ? shipping.set_by_office || [] : [];
  set.hidden = items.length === 0;
  set.textContent = items.length === 0 ? "" : t("set_by_office") + items
    .map((s) => fill("set_" + s.kind, { o: s.of }) + fill("set_who", { b: s.by, a: hallTime(s.at) }))
    .join(lang === "zh" ? "；" : "; ");
}

function drawAlerts() {
  const found = alerts();
  const key = JSON.stringify(found);
  const list = $("alerts");
  if (list.dataset.key === key) return; // unchanged: leave the list be
  list.dataset.key = key;
  list.replaceChildren();
  if (!found.length) list.append(el("li", { class: "ok", text: t("no_alerts") }));
  for (const [kind, text] of found) list.append(el("li", { class: "alert", "data-kind": kind, text }));
}

// What moves between events: waiting times, serving clocks, alerts over a target.
function tickNow() {
  if (!hall) return;
  drawAlerts();
  const since = (Date.now() - fetchedAt) / 1000;
  for (const s of hall.services) {
    const cell = document.querySelector(`#now-services tr[data-service="${s.id}"] td[data-k="longest"]`);
    if (!cell || s.longest_wait_s === null || s.longest_wait_s === undefined) continue;
    const longest = s.longest_wait_s + since;
    cell.textContent = clock(longest);
    cell.classList.toggle("below", longest > s.target_wait_min * 60);
  }
  for (const c of hall.counters) {
    const cell = document.querySelector(`#now-counters [data-counter="${c.number}"] [data-k="since"]`);
    if (cell && c.current && c.current_since) cell.textContent = `${t("serving_for")} ${clock((Date.now() - Date.parse(c.current_since)) / 1000)}`;
  }
}

function drawNow() {
  if (!hall) return;
  // When the first view was drawn, after the page began to load (for the README's figure).
  if (!document.body.dataset.firstViewMs) document.body.dataset.firstViewMs = String(Math.round(performance.now()));
  $("alerts").dataset.key = "";
  drawAlerts();

  const since = (Date.now() - fetchedAt) / 1000;
  const target = hall.hall.service_level_target;
  const body = $("now-services").querySelector("tbody");
  body.replaceChildren();
  for (const s of hall.services) {
    const level = serviceLevel(s.id);
    const longest = s.longest_wait_s === null || s.longest_wait_s === undefined ? null : s.longest_wait_s + since;
    const levelCell = el("td", { "data-k": "level", class: "n" }, fmt(level, "share"));
    if (level !== null && level < target) {
      levelCell.classList.add("below");
      levelCell.append(el("span", { class: "mark", text: ` ▼ ${t("below")}` }));
    }
    const nameCell = el("td", { text: `${s.prefix} ${name(s.name)} ` });
    if (s.unavailable === "closed_today") nameCell.append(el("span", { class: "badge closed", "data-k": "closed", text: t("closed_today") }));
    if (["break", "holiday", "closure"].includes(s.unavailable)) {
      const why = s.closed_reason ? name(s.closed_reason) : t(s.unavailable);
      nameCell.append(el("span", { class: "badge closed", "data-k": "calendar", text: why }));
    }
    body.append(el("tr", { "data-service": s.id },
      nameCell,
      el("td", { "data-k": "waiting", class: "n", text: String(s.waiting) }),
      el("td", { "data-k": "longest", class: `n${longest !== null && longest > s.target_wait_min * 60 ? " below" : ""}`, text: longest === null ? dash : clock(longest) }),
      levelCell,
      el("td", { "data-k": "estimate", class: "n", text: s.estimated_wait_s === null || s.estimated_wait_s === undefined ? dash : `${Math.round(s.estimated_wait_s / 60)} ${t("min")}` }),
      todayCell(s),
    ));
  }
  if (snapshotTz !== hall.hall.timezone) { snapshotTz = hall.hall.timezone; refreshClosures(); }
  $("notice-now").textContent = hall.notice ? `${t("notice_is")}${hall.notice.zh} · ${hall.notice.en}` : t("notice_own");
  $("level-note").textContent = fill("level_note", { p: fmt(target, "share") });

  const grid = $("now-counters");
  grid.replaceChildren();
  for (const c of hall.counters) {
    const card = el("div", { class: `counter ${c.state}`, "data-counter": String(c.number) },
      el("div", { class: "head" }, el("strong", { text: name(c.name) }), el("span", { class: `badge ${c.state}`, "data-k": "state", text: t(c.state) })),
      el("div", { "data-k": "staff", class: "muted", text: c.staff ? `${t("signed_in")}: ${c.staff.number} ${c.staff.name}` : "" }),
      el("div", { "data-k": "current", class: "current", text: c.current ? c.current.number : t("nobody") }),
      el("div", { "data-k": "since", class: "muted", text: c.current && c.current_since ? `${t("serving_for")} ${clock((Date.now() - Date.parse(c.current_since)) / 1000)}` : "" }),
    );
    grid.append(card);
  }
}

// ---- reports ----

function iso(d) {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
}
function parseDay(s) {
  const [y, m, d] = s.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}
function addDays(d, n) {
  return new Date(d.getTime() + n * 86400000);
}

function periodAround(kind, day) {
  if (kind === "week") {
    const monday = addDays(day, -((day.getUTCDay() + 6) % 7));
    return [monday, addDays(monday, 6)];
  }
  if (kind === "month") {
    const first = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
    const last = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0));
    return [first, last];
  }
  return [day, day];
}

function setPeriod(from, to) {
  $("period-from").value = iso(from);
  $("period-to").value = iso(to);
}

function shiftPeriod(direction) {
  const kind = $("period-kind").value;
  const from = parseDay($("period-from").value);
  const to = parseDay($("period-to").value);
  if (kind === "month") {
    const moved = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + direction, 1));
    setPeriod(...periodAround("month", moved));
  } else {
    const days = Math.round((to - from) / 86400000) + 1;
    setPeriod(addDays(from, direction * days), addDays(to, direction * days));
  }
  loadReport();
}

function periodQuery() {
  return `from=${$("period-from").value}&to=${$("period-to").value}`;
}

async function loadReport() {
  if (!$("period-from").value) {
    const day = parseDay(hall ? hall.hall.business_day : iso(new Date()));
    setPeriod(...periodAround($("period-kind").value, day));
  }
  try {
    const data = await api("GET", `/api/v1/reports/export?${periodQuery()}&format=json&lang=${lang}`);
    lastReport = data;
    drawReport(data);
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
    else $("report-title").textContent = e.message;
  }
}

function drawReport(data) {
  const r = data.report;
  const s = r.summary;
  const single = s.from === s.to;
  $("report-title").textContent = single ? `${t("report_of")} ${s.from}` : `${t("report_of")} ${s.from} – ${s.to} (${r.days} ${t("days")})`;
  const figures = $("figures");
  figures.replaceChildren();
  for (const [key, get, kind] of FIGURES) {
    const now = get(s);
    const before = get(r.previous);
    let delta = "";
    if (now !== null && before !== null && now !== undefined && before !== undefined && now !== before) delta = now > before ? " ▲" : " ▼";
    figures.append(el("div", { class: "figure", "data-figure": key },
      el("div", { class: "label", text: t(`f_${key}`) }),
      el("div", { class: "value", text: fmt(now, kind) }),
      el("div", { class: "before", text: `${t("before")} ${r.previous.from === r.previous.to ? r.previous.from : `${r.previous.from} – ${r.previous.to}`}: ${fmt(before, kind)}${delta}` }),
    ));
  }
  drawCharts(r);
  drawHeatmap(r);
  drawTables(data.tables);
  const table = $("export-table");
  const chosen = table.value;
  table.replaceChildren(...data.tables.map((x) => el("option", { value: x.id, text: x.title })));
  if (chosen) table.value = chosen;
  updateExports();
  $("export-print").textContent = single ? t("print") : t("print_range");
}

function updateExports() {
  const q = periodQuery();
  $("export-csv").href = `/api/v1/reports/export?${q}&format=csv&table=${$("export-table").value || "services"}&lang=${lang}`;
  $("export-xlsx").href = `/api/v1/reports/export?${q}&format=xlsx&lang=${lang}`;
  const from = $("period-from").value;
  $("export-print").href = from === $("period-to").value ? `/manager/daily/${from}` : `/manager/print?${q}`;
}

function chart(id, config) {
  if (typeof Chart === "undefined") return;
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
  charts[id] = new Chart($(id), config);
}

const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];

function drawCharts(r) {
  chart("chart-waits", {
    type: "bar",
    data: {
      labels: r.wait_histogram.map((b) => (b.up_to_min === null ? "> 90" : `≤ ${b.up_to_min}`)),
      datasets: [{ label: t("customers"), data: r.wait_histogram.map((b) => b.count), backgroundColor: "#2563eb" }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: lang === "zh" ? "分钟" : "minutes" } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  const hours = r.stats.hours;
  chart("chart-hours", {
    type: "bar",
    data: {
      labels: hours.map((h) => `${String(h.hour).padStart(2, "0")}:00`),
      datasets: [
        { label: t("arrivals"), data: hours.map((h) => h.issued), backgroundColor: "#60a5fa" },
        { label: t("served"), data: hours.map((h) => h.done), backgroundColor: "#16a34a" },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const target = hall ? hall.hall.service_level_target * 100 : 80;
  const services = r.summary.services.map((s) => s.service);
  const serviceName = (id) => {
    const v = hall && hall.services.find((x) => x.id === id);
    return v ? name(v.name) : id;
  };
  const levelAxis = { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } };
  if (r.daily.length === 1) {
    // One day: a bar per service says more than a line of one point.
    const day = r.daily[0];
    chart("chart-levels", {
      type: "bar",
      data: {
        labels: services.map(serviceName),
        datasets: [{
          label: day.date,
          data: services.map((id) => {
            const x = day.services.find((y) => y.service === id);
            return x && x.service_level !== null ? Math.round(x.service_level * 1000) / 10 : null;
          }),
          backgroundColor: services.map((id) => {
            const x = day.services.find((y) => y.service === id);
            return x && x.service_level !== null && x.service_level * 100 < target ? "#dc2626" : "#16a34a";
          }),
        }],
      },
      options: { plugins: { legend: { display: false } }, scales: levelAxis },
    });
    return;
  }
  chart("chart-levels", {
    type: "line",
    data: {
      labels: r.daily.map((d) => d.date.slice(5)),
      datasets: services.map((id, i) => ({
        label: serviceName(id),
        data: r.daily.map((d) => {
          const x = d.services.find((y) => y.service === id);
          return x && x.service_level !== null ? Math.round(x.service_level * 1000) / 10 : null;
        }),
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true,
      })).concat([{ label: `${t("target")} ${target}%`, data: r.daily.map(() => target), borderColor: "#dc2626", borderDash: [6, 4], pointRadius: 0 }]),
    },
    options: { scales: levelAxis },
  });
}

function drawHeatmap(r) {
  const table = $("heatmap");
  table.replaceChildren();
  const max = Math.max(1, ...r.arrivals.flat());
  const head = el("tr", {}, el("th", { text: t("weekday") }));
  for (let h = 0; h < 24; h += 1) head.append(el("th", { text: String(h).padStart(2, "0") }));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  r.arrivals.forEach((hours, i) => {
    const row = el("tr", {}, el("th", { text: WEEKDAYS[lang][i] }));
    hours.forEach((n, h) => {
      const cell = el("td", { "data-wd": String(i + 1), "data-h": String(h), text: n ? String(n) : "" });
      const a = n / max;
      cell.style.background = n ? `rgba(37, 99, 235, ${0.12 + 0.88 * a})` : "transparent";
      cell.style.color = a > 0.55 ? "#fff" : "#0f172a";
      row.append(cell);
    });
    body.append(row);
  });
  table.append(body);
}

function cellText(c) {
  switch (c.kind) {
    case "share": return c.value === null ? dash : `${(c.value * 100).toFixed(1)}%`;
    case "num": return c.value === null ? dash : String(c.value);
    default: return String(c.value);
  }
}

function drawTables(tables) {
  const box = $("report-tables");
  box.replaceChildren();
  for (const tb of tables) {
    if (tb.id === "arrivals" || tb.id === "waits") continue; // drawn above as the heatmap and a chart
    const head = el("tr", {}, ...tb.columns.map((c) => el("th", { text: c })));
    const body = el("tbody");
    for (const row of tb.rows) {
      body.append(el("tr", {}, ...row.map((c, i) => el("td", { "data-col": String(i), class: c.kind === "text" ? "" : "n", text: cellText(c) }))));
    }
    box.append(el("section", { class: "panel", "data-table": tb.id }, el("h2", { text: tb.title }),
      el("div", { class: "scroll" }, el("table", {}, el("thead", {}, head), body))));
  }
}

// ---- daily reports ----

async function loadDaily() {
  try {
    const kept = await api("GET", "/api/v1/reports/kept");
    const list = $("kept-list");
    list.replaceChildren();
    const day = hall ? hall.hall.business_day : null;
    if (day && !kept.some((k) => k.date === day)) {
      list.append(el("li", { "data-date": day }, el("span", { class: "date", text: `${day} · ${t("today_so_far")}` }),
        el("a", { class: "button print", href: `/manager/daily/${day}`, target: "_blank", text: t("view_page") })));
    }
    for (const k of kept) {
      const made = hallTime(k.made_at);
      list.append(el("li", { "data-date": k.date },
        el("span", { class: "date", text: `${k.date} · ${WEEKDAYS[lang][(parseDay(k.date).getUTCDay() + 6) % 7]}` }),
        el("span", { class: "muted", text: `${t("made_at")} ${made}` }),
        el("a", { class: "button print", href: `/manager/daily/${k.date}`, target: "_blank", text: t("view_page") }),
        el("a", { class: "button workbook", href: `/api/v1/reports/kept/${k.date}/workbook`, download: "", text: t("workbook") })));
    }
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
  }
}

// ---- accounts ----

function message(text) {
  $("accounts-message").textContent = text;
}

async function loadAccounts() {
  try {
    const [managers, staff] = await Promise.all([api("GET", "/api/v1/managers"), api("GET", "/api/v1/staff")]);
    const body = $("managers").querySelector("tbody");
    body.replaceChildren();
    for (const m of managers) {
      const locked = m.locked_until && Date.parse(m.locked_until) > Date.now();
      const status = m.disabled ? t("disabled") : locked ? `${t("locked")} ${hallTime(m.locked_until)}` : t("active");
      const actions = el("td", { class: "actions" });
      if (!m.disabled) {
        const reset = el("button", { type: "button", text: t("new_password") });
        reset.onclick = async () => {
          const password = prompt(`${t("new_password")}: ${m.name}`);
          if (!password) return;
          try { await api("PUT", `/api/v1/managers/${encodeURIComponent(m.name)}/password`, { password }); message(`${m.name}: ${t("password_set")}`); loadAccounts(); } catch (e) { message(e.message); }
        };
        const disable = el("button", { type: "button", class: "danger", text: t("disable") });
        disable.onclick = async () => {
          try { await api("POST", `/api/v1/managers/${encodeURIComponent(m.name)}/disable`); loadAccounts(); } catch (e) { message(e.message); }
        };
        actions.append(reset, disable);
      }
      body.append(el("tr", { "data-manager": m.name }, el("td", { text: m.name }),
        el("td", { text: `${hallTime(m.created_at)} · ${m.created_by}` }), el("td", { text: status }), actions));
    }
    const staffBody = $("staff").querySelector("tbody");
    staffBody.replaceChildren(...staff.map((s) => el("tr", {}, el("td", { text: s.number }), el("td", { text: s.name }),
      el("td", { text: s.disabled ? t("disabled") : s.signed_in_at ? `${t("signed_in")} · ${s.signed_in_at}` : t("active") }))));
    const select = $("pin-counter");
    if (hall && !select.options.length) {
      select.replaceChildren(...hall.counters.map((c) => el("option", { value: String(c.number), text: name(c.name) })));
    }
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
    else message(e.message);
  }
}

async function addManager(event) {
  event.preventDefault();
  const nameValue = $("new-manager-name").value.trim();
  try {
    await api("POST", "/api/v1/managers", { name: nameValue, password: $("new-manager-password").value });
    $("new-manager-name").value = "";
    $("new-manager-password").value = "";
    message(`${nameValue}: ${t("added")}`);
    loadAccounts();
  } catch (e) {
    message(e.message);
  }
}

async function setPin(event) {
  event.preventDefault();
  try {
    await api("PUT", `/api/v1/counters/${$("pin-counter").value}/pin`, { pin: $("pin-value").value });
    $("pin-value").value = "";
    message(t("pin_set"));
  } catch (e) {
    message(e.message);
  }
}

// ---- audit ----

async function loadAudit() {
  if (!$("audit-to").value && hall) {
    const day = parseDay(hall.hall.business_day);
    $("audit-to").value = iso(day);
    $("audit-from").value = iso(addDays(day, -6));
  }
  try {
    const entries = await api("GET", `/api/v1/audit?from=${$("audit-from").value}&to=${$("audit-to").value}`);
    const body = $("audit").querySelector("tbody");
    body.replaceChildren(...entries.map((a) => el("tr", { "data-action": a.action },
      el("td", { text: hallTime(a.at) }),
      el("td", { text: a.who }), el("td", { text: a.action }), el("td", { text: a.detail }))));
  } catch (e) {
    if (e.status === 401) showSignIn(e.message);
  }
}

// ---- wiring ----

// A script error is shown, so a manager can say what broke instead of
// looking at a page that silently stopped.
window.addEventListener("error", (e) => {
  const bar = $("page-error");
  if (bar) {
    bar.textContent = `${e.message} (${(e.filename || "").split("/").pop()}:${e.lineno})`;
    bar.classList.remove("hidden");
  }
});
window.addEventListener("unhandledrejection", (e) => {
  const bar = $("page-error");
  if (bar) {
    bar.textContent = String(e.reason && e.reason.message ? e.reason.message : e.reason);
    bar.classList.remove("hidden");
  }
});

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("lang-toggle").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lang", lang);
    applyLanguage();
    if (view === "reports") loadReport();
  });
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => show(b.dataset.view));
  $("period-kind").addEventListener("change", () => {
    const from = $("period-from").value ? parseDay($("period-from").value) : parseDay(hall.hall.business_day);
    if ($("period-kind").value !== "range") setPeriod(...periodAround($("period-kind").value, from));
    loadReport();
  });
  $("period-prev").addEventListener("click", () => shiftPeriod(-1));
  $("period-next").addEventListener("click", () => shiftPeriod(1));
  $("period-apply").addEventListener("click", loadReport);
  $("export-table").addEventListener("change", updateExports);
  $("add-manager").addEventListener("submit", addManager);
  $("set-pin").addEventListener("submit", setPin);
  $("audit-apply").addEventListener("click", loadAudit);
  $("notice-form").addEventListener("submit", setNotice);
  $("closure-form").addEventListener("submit", addClosure);
  $("notice-clear").addEventListener("click", clearNotice);
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  // Waiting times and serving clocks move on between events.
  setInterval(() => { if (view === "now") tickNow(); }, 1000);
  setInterval(() => { if (hall) refreshDevices(); }, 5000);
  applyLanguage();
  start();
});
