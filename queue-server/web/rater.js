// The satisfaction rater (好差评) facing the customer at one counter. It
// wakes when its counter completes a ticket, asks for one of five levels
// (with reasons for the two lowest), thanks, and goes back to idle after
// 30 s, or at once when the counter calls the next customer. Both
// languages at once, large, for a small tablet. Plain JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const counter = Number(location.pathname.split("/").pop());
const tokenKey = `raterToken:${counter}`;
const ASK_FOR_MS = 30000;
const THANKS_FOR_MS = 5000;
const HEARTBEAT_S = 15;
let token = localStorage.getItem(tokenKey);
let setup = null;
let hall = null;
let asking = null; // { id, number, at }
let chosen = new Set();
let timer = null;
let events = null;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

function show(screen) {
  ["setup", "idle", "ask", "thanks"].forEach((id) => $(id).classList.toggle("hidden", id !== screen));
  document.body.dataset.screen = screen;
}

function idle() {
  clearTimeout(timer);
  asking = null;
  show("idle");
}

function renderIdle() {
  if (!hall) return;
  const me = hall.counters.find((c) => c.number === counter);
  $("idle-hall").textContent = `${hall.hall.name.zh} · ${hall.hall.name.en}`;
  $("idle-counter").textContent = me ? `${me.name.zh} · ${me.name.en}` : `#${counter}`;
  $("idle-staff").textContent = me && me.staff ? `为您服务 · Served by: ${me.staff.name} (${me.staff.number})` : "";
}

function renderLevels() {
  Rating.levels($("levels"), setup, (choice, button) => {
    button.innerHTML = "<span></span><small></small>";
    button.children[0].textContent = choice.name.zh;
    button.children[1].textContent = choice.name.en;
  }, choose);
}

function renderReasons() {
  Rating.reasons($("reasons"), setup, chosen, (reason) => `${reason.name.zh} · ${reason.name.en}`, keepAsking);
}

function ask(ticket) {
  asking = ticket;
  chosen = new Set();
  $("ask-ticket").textContent = ticket.number;
  $("reasons-box").classList.add("hidden");
  Rating.pick($("levels"), null);
  renderReasons();
  show("ask");
  keepAsking();
}

// Every touch gives the customer another 30 s.
function keepAsking() {
  clearTimeout(timer);
  timer = setTimeout(idle, ASK_FOR_MS);
}

let badLevel = null;
function choose(choice) {
  if (!asking) return;
  if (choice.asks_reasons) {
    badLevel = choice.level;
    Rating.pick($("levels"), choice.level);
    $("reasons-box").classList.remove("hidden");
    keepAsking();
    return;
  }
  send(choice.level, []);
}

async function send(level, reasons) {
  const ticket = asking;
  if (!ticket) return;
  asking = null;
  clearTimeout(timer);
  try {
    await api("POST", `/api/v1/tickets/${ticket.id}/rating`, { level, reasons });
    $("thanks-note").textContent = "";
  } catch (error) {
    // Rated already, or too late: the customer is thanked all the same.
    $("thanks-note").textContent = error.message;
    if (error.status === 401) { forget(); return; }
  }
  show("thanks");
  timer = setTimeout(idle, THANKS_FOR_MS);
}

function forget() {
  localStorage.removeItem(tokenKey);
  token = null;
  if (events) events.close();
  show("setup");
}

async function refresh() {
  try {
    hall = await api("GET", "/api/v1/hall");
    renderIdle();
  } catch (error) {
    if (error.status === 401) forget();
  }
}

function onEvent(message) {
  const event = JSON.parse(message.data);
  if (event.counter !== counter) return;
  if (event.kind === "ticket.completed" && event.ticket) {
    // After a break the stream replays what was missed: ask only while the
    // rating can still be taken.
    if (Date.now() - Date.parse(event.at) < setup.rater_window_s * 1000) ask(event.ticket);
  } else if (event.kind === "ticket.called") {
    if (document.body.dataset.screen === "ask") idle();
  } else if (event.kind.startsWith("staff.")) {
    refresh();
  }
}

function connect() {
  if (events) events.close();
  events = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(token)}`);
  ["ticket.completed", "ticket.called", "staff.signed_in", "staff.signed_out"].forEach((kind) =>
    events.addEventListener(kind, onEvent));
  events.onopen = () => $("rater-link").classList.add("hidden");
  events.onerror = () => $("rater-link").classList.remove("hidden");
}

async function start() {
  setup = await (await fetch("/api/v1/public/rating-setup")).json();
  renderLevels();
  try {
    const who = await api("GET", "/api/v1/me");
    if (who.role !== "rater" || who.counter !== counter) {
      throw new Error(`这个令牌不属于 ${counter} 号窗口的评价器 · This token is not counter ${counter}'s rater`);
    }
  } catch (error) {
    $("setup-error").textContent = error.message;
    localStorage.removeItem(tokenKey);
    show("setup");
    return;
  }
  idle();
  await refresh();
  connect();
  beat();
  setInterval(beat, HEARTBEAT_S * 1000);
}

// So the manager learns when a rater is off or unplugged.
function beat() {
  api("POST", "/api/v1/devices/heartbeat", { health: "ok", interval_s: HEARTBEAT_S }).catch(() => {});
}

$("setup").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("setup-token").value.trim();
  localStorage.setItem(tokenKey, token);
  $("setup-error").textContent = "";
  start();
});
$("send-bad").addEventListener("click", () => send(badLevel, [...chosen]));

if (token) start(); else show("setup");
