"use strict";
// The page behind the QR posted in the hall: checks in the numbers this
// phone took before arriving, then shows the first one's page.
const TEXT = {
  zh: { working: "正在签到…", none: "这部手机上没有线上取的号。请在取号机取号，或打开号票页面后再扫码。",
        failed: "签到失败：{why}", offline: "暂时连不上营业厅，请到取号机输入签到码。", take: "线上取号" },
  en: { working: "Checking in…", none: "This phone took no number before arriving. Take one at the kiosk, or open your ticket's page and scan again.",
        failed: "Not checked in: {why}", offline: "Cannot reach the hall; type your check-in code at a kiosk.", take: "Take a number" },
};
const lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
const t = (key, vars = {}) => TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);
const place = location.pathname.split("/").pop();
const status = document.getElementById("status");
document.documentElement.lang = lang;

async function checkIn() {
  const mine = JSON.parse(localStorage.getItem("remote-tickets") || "[]");
  if (mine.length === 0) {
    status.textContent = t("none");
    const take = document.getElementById("take");
    take.textContent = t("take");
    take.classList.remove("hidden");
    return;
  }
  status.textContent = t("working");
  let first = null;
  let why = null;
  for (const code of mine) {
    try {
      const response = await fetch(`api/v1/public/tickets/${encodeURIComponent(code)}/check-in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ place }),
      });
      const body = await response.json();
      if (response.ok) {
        if (!first && ["waiting", "called"].includes(body.status)) first = code;
      } else {
        why = body.error ? body.error.message : response.statusText;
      }
    } catch (e) {
      status.textContent = t("offline");
      return;
    }
  }
  if (first) {
    location.replace(`t/${first}`);
  } else {
    status.textContent = t("failed", { why: why || "" });
  }
}
checkIn();
