# The manager console's first view, drawn: a release queue-server with the
# demo hall and 300 tickets today, headless Chromium (WebDriver) signed in at
# 1920x1080, reloading /manager; the page records performance.now() when it
# first draws the live view (body data-first-view-ms). Run by
# scripts/bench-console, which installs selenium from PyPI.
# Usage: console_first_view.py target/release/queue-server
import json, os, socket, subprocess, sys, tempfile, time, urllib.request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BIN = sys.argv[1]
d = tempfile.mkdtemp()
db = os.path.join(d, "hall.db")
p = subprocess.run([BIN, "--db", db, "manager", "add", "m"], input=b"a long hall password\n", capture_output=True)
assert p.returncode == 0, p.stderr
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
srv = subprocess.Popen([BIN, "--db", db, "--listen", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz"); break
    except Exception:
        time.sleep(0.1)
def post(path, body, token):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    return urllib.request.urlopen(req).read()
for i in range(300):
    post("/api/v1/tickets", {"service": ["pay", "enquiry", "open"][i % 3], "idempotency_key": f"k{i}"}, "demo-kiosk")
for i in range(120):
    n = 1 + i % 5
    try:
        post(f"/api/v1/counters/{n}/call-next", {}, f"demo-counter-{n}")
        post(f"/api/v1/counters/{n}/complete", {}, f"demo-counter-{n}")
    except Exception:
        pass
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1920,1080", f"--user-data-dir={d}/profile"]:
    opts.add_argument(a)
b = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
b.get(base + "/manager")
time.sleep(0.5)
b.find_element(By.ID, "signin-name").send_keys("m")
b.find_element(By.ID, "signin-password").send_keys("a long hall password")
b.find_element(By.ID, "signin-button").click()
time.sleep(1.0)
times = []
for _ in range(7):
    b.get(base + "/manager")
    for _ in range(100):
        v = b.execute_script("return document.body.dataset.firstViewMs")
        if v: break
        time.sleep(0.05)
    times.append(int(v))
b.quit()
srv.kill()
times.sort()
print("console first view drawn after (ms, signed in, 7 reloads):", times, "median", times[len(times) // 2])
