"use strict";
// The booking page (预约): pick a service, a day and a slot, get a six-digit
// code and its QR code to check in with at the kiosk; the booking's own
// page (/booking/{code}) shows it and cancels it.
const TEXT = {
  zh: { title: "预约办理", lang: "English", free: "剩 {n} 个名额", full: "已约满", closed: "不可预约", book: "预约",
        code: "签到码", how: "请在 {from} 至 {until} 到厅，在取号机输入签到码或扫描二维码签到，签到后优先叫号；迟到按普通取号排队。",
        booked: "已预约", checked_in: "已签到，号码 {ticket}", cancelled: "已取消", no_show: "已过时未签到",
        cancel: "取消预约", none: "暂无可预约的时段", offline: "暂时连不上营业厅，请稍后再试。", refused: "无法预约：{why}",
        limit: "今天的预约次数已满，请先取消一个预约。", today: "今天", bring: "请携带：{items}", not_found: "找不到这个预约。", again: "重新预约", change: "改约时间", move: "改到这个时段" },
  en: { title: "Book an appointment", lang: "中文", free: "{n} left", full: "full", closed: "not bookable", book: "Book",
        code: "Check-in code", how: "Come between {from} and {until}; type the code at a kiosk or scan the QR code to check in, then you are called first. Late, you queue as a walk-in.",
        booked: "Booked", checked_in: "Checked in: number {ticket}", cancelled: "Cancelled", no_show: "Missed: not checked in in time",
        cancel: "Cancel the booking", none: "No slots to book", offline: "Cannot reach the hall right now; try again shortly.", refused: "Not booked: {why}",
        limit: "You hold as many bookings for that day as the hall allows; cancel one first.", today: "today", bring: "Please bring: {items}", not_found: "No booking has this code.", again: "Book again", change: "Change the time", move: "Move here" },
};
const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let setup = null;
let service = null;
let day = null;
let slots = [];
let booking = null;
let message = "";
// The page is /booking/CODE in the hall, /h/HALL/booking/CODE at head office.
const tracking = (location.pathname.match(/\/booking\/([^/]+)$/) || [])[1] || null;
const t = (key, vars = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);
const tz = () => (setup && setup.timezone) || (booking && booking.timezone) || undefined;
const locale = () => (lang === "zh" ? "zh-CN" : "en-GB");
const clock = (at) => new Date(at).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone: tz() });
const dayName = (at) => new Date(at).toLocaleDateString(locale(), { month: "short", day: "numeric", weekday: "short", timeZone: tz() });

function render() {
  document.documentElement.lang = lang;
  $("lang-toggle").textContent = t("lang");
  $("choose").classList.toggle("hidden", Boolean(tracking));
  $("booked").classList.toggle("hidden", !tracking);
  if (tracking) { renderBooking(); return; }
  if (!setup) return;
  $("hall").textContent = setup.hall_name[lang];
  $("title").textContent = t("title");
  $("message").textContent = message;
  const services = $("services");
  services.replaceChildren();
  for (const s of setup.services) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.dataset.value = s.id;
    b.setAttribute("aria-pressed", String(service === s.id));
    b.textContent = s.name[lang];
    b.addEventListener("click", () => { service = s.id; loadSlots(); });
    services.append(b);
  }
  const days = $("days");
  days.replaceChildren();
  const chosen = setup.services.find((s) => s.id === service);
  if (chosen) {
    for (let i = 0; i <= chosen.days_ahead; i++) {
      const d = addDays(setup.today, i);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.dataset.value = d;
      b.setAttribute("aria-pressed", String(day === d));
      b.textContent = i === 0 ? t("today") : dayName(`${d}T12:00:00Z`);
      b.addEventListener("click", () => { day = d; loadSlots(); });
      days.append(b);
    }
  }
  const list = $("slots");
  list.replaceChildren();
  if (service && slots.length === 0) {
    const li = document.createElement("li");
    li.textContent = t("none");
    list.append(li);
  }
  for (const s of slots) {
    const li = document.createElement("li");
    const text = document.createElement("div");
    const when = document.createElement("div");
    when.className = "name";
    when.textContent = clock(s.start);
    const info = document.createElement("div");
    info.className = "meta";
    info.textContent = !s.bookable ? t("closed") : s.free === 0 ? t("full") : t("free", { n: s.free });
    text.append(when, info);
    const b = document.createElement("button");
    b.type = "button";
    b.className = "take-button";
    b.dataset.start = s.start;
    b.textContent = t("book");
    b.disabled = !s.bookable || s.free === 0;
    b.addEventListener("click", () => book(s.start));
    li.append(text, b);
    list.append(li);
  }
}

function addDays(date, n) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function renderBooking() {
  if (!booking) return;
  $("hall").textContent = booking.hall_name[lang];
  $("booked-service").textContent = booking.service_name[lang];
  $("booked-when").textContent = `${dayName(booking.slot_start)} ${clock(booking.slot_start)}`;
  const status = booking.status === "checked_in" ? t("checked_in", { ticket: booking.ticket_number || "" }) : t(booking.status);
  $("booked-status").textContent = status;
  $("booked-status").className = `status ${booking.status}`;
  const open = booking.status === "booked";
  $("booked-box").classList.toggle("hidden", !open);
  $("booked-code-label").textContent = t("code");
  $("booked-code").textContent = booking.code;
  $("booked-qr").src = `api/v1/public/bookings/${booking.tracking_code}/qr`;
  $("booked-qr").alt = `QR ${booking.code}`;
  $("booked-how").textContent = t("how", { from: clock(booking.check_in_from), until: clock(booking.check_in_until) });
  const s = setup && setup.services.find((x) => x.id === booking.service);
  $("booked-bring").classList.toggle("hidden", !(open && s && s.bring));
  if (s && s.bring) $("booked-bring").textContent = t("bring", { items: s.bring[lang] });
  $("cancel").textContent = t("cancel");
  $("cancel").classList.toggle("hidden", !open);
  $("change").textContent = t("change");
  $("change").classList.toggle("hidden", !open);
  renderChangeSlots(open);
  $("again").textContent = t("again");
  $("again").classList.toggle("hidden", open);
  $("booked-message").textContent = message;
}

// Other slots of the same day for the booking, each with a button to move there.
let changeSlots = null;
function renderChangeSlots(open) {
  const list = $("change-slots");
  list.classList.toggle("hidden", !open || !changeSlots);
  list.replaceChildren();
  if (!open || !changeSlots) return;
  for (const s of changeSlots.filter((x) => x.start !== booking.slot_start)) {
    const li = document.createElement("li");
    const when = document.createElement("div");
    when.className = "name";
    when.textContent = clock(s.start);
    const b = document.createElement("button");
    b.type = "button";
    b.className = "take-button";
    b.dataset.start = s.start;
    b.textContent = t("move");
    b.disabled = !s.bookable || s.free === 0;
    b.addEventListener("click", () => moveTo(s.start));
    li.append(when, b);
    list.append(li);
  }
}

async function showChangeSlots() {
  const day = new Date(booking.slot_start).toLocaleDateString("en-CA", { timeZone: tz() });
  const r = await fetch(`api/v1/public/services/${encodeURIComponent(booking.service)}/slots?date=${day}`);
  changeSlots = r.ok ? await r.json() : [];
  render();
}

async function moveTo(start) {
  const r = await fetch(`api/v1/public/bookings/${encodeURIComponent(tracking)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ slot_start: start }),
  });
  const body = await r.json();
  message = r.ok ? "" : t("refused", { why: body.error ? body.error.message : r.statusText });
  if (r.ok) { booking = body; changeSlots = null; }
  render();
}

async function loadSlots() {
  message = "";
  if (!day) day = setup.today;
  try {
    const r = await fetch(`api/v1/public/services/${encodeURIComponent(service)}/slots?date=${day}`);
    slots = r.ok ? await r.json() : [];
  } catch (e) { message = t("offline"); }
  render();
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function book(start) {
  // One key per attempt, kept for its retries: a lost answer books once.
  const key = sessionStorage.getItem("book-key") || newKey();
  sessionStorage.setItem("book-key", key);
  try {
    const r = await fetch("api/v1/public/bookings", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service, slot_start: start, idempotency_key: key, lang }),
    });
    const body = await r.json();
    sessionStorage.removeItem("book-key");
    if (!r.ok) {
      const why = body.error ? body.error.message : r.statusText;
      message = r.status === 429 ? t("limit") : t("refused", { why });
      await loadSlots();
      return;
    }
    location.href = `booking/${body.tracking_code}`;
  } catch (e) {
    message = t("offline");
    render();
  }
}

async function loadBooking() {
  try {
    const r = await fetch(`api/v1/public/bookings/${encodeURIComponent(tracking)}`);
    if (r.status === 404) { message = t("not_found"); render(); return; }
    booking = await r.json();
  } catch (e) { message = t("offline"); }
  render();
}

$("cancel").addEventListener("click", async () => {
  const r = await fetch(`api/v1/public/bookings/${encodeURIComponent(tracking)}/cancel`, { method: "POST" });
  const body = await r.json();
  message = r.ok ? "" : t("refused", { why: body.error ? body.error.message : r.statusText });
  if (r.ok) booking = body;
  render();
});
$("change").addEventListener("click", showChangeSlots);
$("lang-toggle").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("lang", lang); render(); });
fetch("api/v1/public/booking-setup").then((r) => r.json()).then((s) => { setup = s; render(); }).catch(() => { message = t("offline"); render(); });
if (tracking) { loadBooking(); setInterval(loadBooking, 10000); }
render();
