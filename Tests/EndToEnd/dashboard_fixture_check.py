#!/usr/bin/env python3
"""Drives headless Chromium over the dashboard app served by
dashboard_fixture.py: every page renders, figures equal the fixture's, the
range picker, sorting (click and Enter), the log's filters and paging, a
call's page and its cURL command (run through bash with a stand-in curl),
the token passed as a header and taken out of the address bar, the 503 "no
store" banner, answers of the wrong shape; no console message, no request outside the origin, no page
wider than the window; screenshots at 1280 and 390 px.

    python3 Tests/EndToEnd/dashboard_fixture_check.py [--page FILE] [--shots DIR]

Needs Debian's chromium and chromium-driver; pip-installs selenium when missing.
Exits non-zero with a "FAILED: reason" line on failure.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_fixture as fixture  # noqa: E402

try:
    from selenium import webdriver
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "selenium"], check=True)
    from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

DEADLINE = time.monotonic() + 240


def fail(reason):
    print(f"FAILED: {reason}", flush=True)
    sys.exit(1)


def check(condition, reason):
    if not condition:
        fail(reason)


def start(**kwargs):
    server = fixture.make_server(0, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    return driver


def wait(driver, condition, reason, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.05)
    fail(f"{reason} (at {driver.current_url})")


def loaded(driver):
    """The page finished its render: no request under way, no banner."""
    wait(driver, lambda: driver.execute_script(
        "const m=document.getElementById('main');return !m.hasAttribute('aria-busy') && m.querySelector('h1')!==null"),
        "the page did not render")
    banner = driver.find_element(By.ID, "banner")
    check(not banner.is_displayed(), f"an error banner: {banner.text!r}")


def open_hash(driver, origin, fragment):
    driver.execute_script("location.hash = arguments[0]", fragment)
    wait(driver, lambda: driver.execute_script("return location.hash") == fragment, "the hash did not change")
    loaded(driver)


def figure(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f"[data-figure={name}]").text


def column(driver, table, col):
    return [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, f"table[data-table={table}] tr[data-row] td[data-col={col}]")]


def console_and_network(driver, origin):
    messages = driver.get_log("browser")
    check(not messages, f"console messages: {messages}")
    import json
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            check(url.startswith(origin + "/") or url.startswith("data:"), f"a request outside the origin: {url}")


def no_overflow(driver, where):
    wide = driver.execute_script("""
        const w = document.documentElement.clientWidth; const out = [];
        if (document.documentElement.scrollWidth > w) out.push('document ' + document.documentElement.scrollWidth + ' > ' + w);
        for (const e of document.querySelectorAll('body *')) {
          if (e.closest('.scroll') || e.closest('pre') || e.closest('.skip')) continue;
          const r = e.getBoundingClientRect();
          if (r.width && r.right > w + 1) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
        }
        return out.slice(0, 5);""")
    check(not wide, f"{where}: wider than the window: {wide}")


def screenshot(driver, directory, name, width, rerender=True):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
    if rerender:  # the charts fit the width they are drawn at
        driver.execute_script("document.getElementById('refresh').click()")
        loaded(driver)
    height = driver.execute_script("return Math.max(document.documentElement.scrollHeight, 600)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(height, 6000), "deviceScaleFactor": 1, "mobile": width < 500})
    time.sleep(0.2)
    no_overflow(driver, f"{name} at {width} px")
    driver.save_screenshot(os.path.join(directory, f"{name}-{width}.png"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page", help="the page as DashboardAppTests wrote it (default: assembled from the Swift sources)")
    parser.add_argument("--shots", default="/work/dash-shots")
    args = parser.parse_args()
    page = open(args.page, encoding="utf-8").read() if args.page else None
    os.makedirs(args.shots, exist_ok=True)

    server, origin = start(page=page)
    data = server.data
    driver = browser()
    try:
        driver.get(origin + "/_apimetrics")
        loaded(driver)
        check(driver.execute_script("return location.hash") in ("", "#"), "the first load changed the hash")

        # Overview, each range: the tiles are the fixture's figures.
        for value, length in [("1h", 3600e3), ("7d", 7 * 86400e3), ("30d", 30 * 86400e3), ("24h", 86400e3)]:
            driver.find_element(By.CSS_SELECTOR, f"button[data-range='{value}']").click()
            wait(driver, lambda: f"range={value}" in driver.current_url, f"range {value} is not in the URL")
            loaded(driver)
            wait(driver, lambda: driver.find_element(By.CSS_SELECTOR, f"button[data-range='{value}']").get_attribute("aria-pressed") == "true", "range button not pressed")
            calls = [c for c in data.calls if c["direction"] == "incoming" and c["time_ms"] >= data.now - length]
            expected = fixture.figures(calls)
            check(figure(driver, "requests") == str(expected["requests"]), f"requests over {value}: {figure(driver, 'requests')} != {expected['requests']}")
            check(figure(driver, "server_errors") == str(expected["server_errors"]), f"5xx over {value}")
            check(figure(driver, "client_errors") == str(expected["client_errors"]), f"4xx over {value}")
            check(figure(driver, "p99_ms") == fixture_ms(expected["p99_ms"]), f"p99 over {value}: {figure(driver, 'p99_ms')} != {expected['p99_ms']}")
        check(figure(driver, "consumers") == "3", "consumers over 24h")
        check(len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect[data-gap]")) == 1, "the uptime bar shows no gap")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table[data-table=runs] tr[data-row]")) == 2, "the runs are not listed")
        screenshot(driver, args.shots, "overview", 1280)
        screenshot(driver, args.shots, "overview", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # Custom range from the two inputs.
        driver.execute_script("""
            const f = document.getElementById('range-from'), t = document.getElementById('range-to');
            const d = new Date(Date.now() - 3 * 3600e3), e = new Date();
            const p = (n) => String(n).padStart(2, '0');
            const v = (x) => x.getFullYear() + '-' + p(x.getMonth() + 1) + '-' + p(x.getDate()) + 'T' + p(x.getHours()) + ':' + p(x.getMinutes());
            f.value = v(d); t.value = v(e);""")
        driver.find_element(By.ID, "range-apply").click()
        wait(driver, lambda: "from=" in driver.current_url and "range=" not in driver.current_url, "the custom range is not in the URL")
        loaded(driver)
        check(all(b.get_attribute("aria-pressed") == "false" for b in driver.find_elements(By.CSS_SELECTOR, "button[data-range]")), "a preset stays pressed with a custom range")
        driver.find_element(By.CSS_SELECTOR, "button[data-range='24h']").click()
        wait(driver, lambda: "range=24h" in driver.current_url, "back to 24h")
        loaded(driver)

        # Endpoints: sort by p99 with a click, then reverse it with Enter.
        driver.find_element(By.CSS_SELECTOR, "nav a[data-page=endpoints]").click()
        wait(driver, lambda: "#/endpoints" in driver.current_url, "nav to endpoints")
        loaded(driver)
        check(len(column(driver, "endpoints", "requests")) == len(fixture.ENDPOINTS), "the endpoints table rows")
        driver.find_element(By.CSS_SELECTOR, "th[data-col=p99_ms] button").click()
        wait(driver, lambda: "sort=p99" in driver.current_url, "sort=p99 is not in the URL")
        loaded(driver)
        values = [float(v) for v in column(driver, "endpoints", "p99_ms")]
        check(values == sorted(values, reverse=True), f"p99 not descending: {values}")
        driver.find_element(By.CSS_SELECTOR, "th[data-col=p99_ms] button").send_keys(Keys.ENTER)
        wait(driver, lambda: "dir=asc" in driver.current_url, "Enter did not reverse the sort")
        loaded(driver)
        check(driver.execute_script("return document.activeElement.getAttribute('data-sort')") == "p99", "the focus left the header after sorting")
        values = [float(v) for v in column(driver, "endpoints", "p99_ms")]
        check(values == sorted(values), f"p99 not ascending: {values}")
        driver.find_element(By.CSS_SELECTOR, "th[data-col=route] button").click()
        wait(driver, lambda: "sort=route" in driver.current_url, "sort by route")
        loaded(driver)
        screenshot(driver, args.shots, "endpoints", 1280)
        screenshot(driver, args.shots, "endpoints", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.back()
        wait(driver, lambda: "dir=asc" in driver.current_url, "back did not restore the previous sort")
        loaded(driver)

        # One endpoint: its figures and tables; the hostile route renders as text.
        hostile = "/search/" + fixture.HOSTILE
        link = [a for a in driver.find_elements(By.CSS_SELECTOR, "table[data-table=endpoints] td[data-col=route] a") if a.text == "/orders/{id}"]
        check(link, "no link to GET /orders/{id}")
        driver.find_elements(By.CSS_SELECTOR, "table[data-table=endpoints] tr[data-row='GET /orders/{id}'] a")[0].click()
        wait(driver, lambda: "#/endpoint?" in driver.current_url, "the endpoint link")
        loaded(driver)
        check("route=%2Forders%2F%7Bid%7D" in driver.current_url, f"the endpoint's URL: {driver.current_url}")
        mine = [c for c in data.calls if c["method"] == "GET" and c["route"] == "/orders/{id}" and c["time_ms"] >= data.now - 86400e3]
        check(figure(driver, "requests") == str(len(mine)), "the endpoint's requests")
        statuses = dict(zip(column(driver, "statuses", "status"), column(driver, "statuses", "count")))
        check(sum(int(v) for v in statuses.values()) == len(mine), f"statuses do not add up: {statuses}")
        check(driver.find_elements(By.CSS_SELECTOR, "table[data-table=top-consumers] tr[data-row]"), "no top consumers")
        check(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.f-bar"), "no histogram bars")
        screenshot(driver, args.shots, "endpoint", 1280)
        screenshot(driver, args.shots, "endpoint", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        open_hash(driver, origin, "#/endpoint?method=GET&route=" + quote(hostile, safe="") + "&range=30d")
        check(driver.find_element(By.TAG_NAME, "h1").text == "GET " + hostile, "the hostile route is not shown as text")
        check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "markup from the API became elements")

        # Consumers and one consumer (a hostile id and name).
        driver.find_element(By.CSS_SELECTOR, "nav a[data-page=consumers]").click()
        wait(driver, lambda: "#/consumers" in driver.current_url, "nav to consumers")
        loaded(driver)
        check(set(column(driver, "consumers", "id")) == set(fixture.CONSUMERS), f"consumer ids: {column(driver, 'consumers', 'id')}")
        screenshot(driver, args.shots, "consumers", 1280)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.find_element(By.CSS_SELECTOR, "table[data-table=consumers] tr[data-row='evil<script>'] td[data-col=id] a").click()
        wait(driver, lambda: "#/consumer?" in driver.current_url, "the consumer link")
        loaded(driver)
        check(driver.find_element(By.CSS_SELECTOR, "[data-field=name]").text == fixture.CONSUMERS["evil<script>"]["name"], "the hostile name")
        open_hash(driver, origin, "#/consumer?id=acme&range=24h")
        acme = [c for c in data.calls if c["consumer"] == "acme" and c["direction"] == "incoming" and c["time_ms"] >= data.now - 86400e3]
        check(figure(driver, "requests") == str(len(acme)), "acme's requests")
        screenshot(driver, args.shots, "consumer", 1280)
        screenshot(driver, args.shots, "consumer", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # The log: filter by consumer and status class, then page with Older.
        driver.find_element(By.CSS_SELECTOR, "nav a[data-page=calls]").click()
        wait(driver, lambda: "#/calls" in driver.current_url, "nav to calls")
        loaded(driver)
        check(len(column(driver, "calls", "id") or driver.find_elements(By.CSS_SELECTOR, "table[data-table=calls] tr[data-row]")) == 50, "the first page is not 50 calls")
        driver.find_element(By.ID, "older").click()
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "table[data-table=calls] tr[data-row]")) == 100, "Older did not add a page")
        form = driver.find_element(By.CSS_SELECTOR, "form#filters")
        form.find_element(By.NAME, "consumer").send_keys("acme")
        form.find_element(By.NAME, "status").send_keys("4xx")
        form.find_element(By.NAME, "status").send_keys(Keys.ENTER)
        wait(driver, lambda: "consumer=acme" in driver.current_url and "status=4xx" in driver.current_url, "the filters are not in the URL")
        loaded(driver)
        consumers, codes = column(driver, "calls", "consumer"), column(driver, "calls", "status")
        expected = [c for c in data.calls if c["consumer"] == "acme" and 400 <= c["status"] < 500 and c["time_ms"] >= data.now - 86400e3]
        check(len(codes) == len(expected) and len(codes) > 0, f"filtered rows: {len(codes)} != {len(expected)}")
        check(set(consumers) == {"acme"} and all(code.startswith("4") for code in codes), "a filtered row does not match")
        check(driver.find_element(By.CSS_SELECTOR, "form#filters [name=consumer]").get_attribute("value") == "acme", "the form does not show the filter")
        screenshot(driver, args.shots, "calls", 1280)
        screenshot(driver, args.shots, "calls", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_script("location.hash = '#/calls?status=abc&range=24h'")
        wait(driver, lambda: driver.find_element(By.ID, "banner").is_displayed(), "a 400 shows no banner")
        check("status must be" in driver.find_element(By.ID, "banner").text, "the 400's error text")
        # Chromium logs the refused request itself; that is the only message allowed here.
        messages = [m for m in driver.get_log("browser") if "status=abc" not in m["message"] or "400" not in m["message"]]
        check(not messages, f"console messages: {messages}")

        # A POST call: head, headers, bodies, cURL.
        post = next(c for c in data.calls if c["method"] == "POST" and c["status"] == 201 and c["consumer"] == "acme")
        open_hash(driver, origin, "#/call?id=" + post["id"])
        for name, value in [("status", "201"), ("method", "POST"), ("path", post["path"]), ("consumer", "acme"), ("duration_ms", fixture_ms(post["duration_ms"]))]:
            shown = driver.find_element(By.CSS_SELECTOR, f"[data-field={name}]").text
            check(shown == value, f"call field {name}: {shown!r} != {value!r}")
        check(driver.find_elements(By.CSS_SELECTOR, "table[data-table=request-headers] tr[data-row=authorization]"), "no request headers")
        check("\n  \"item\": \"widget\"" in driver.find_element(By.CSS_SELECTOR, "pre[data-body=json]").text, "the JSON body is not indented")
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.find_element(By.ID, "copy-curl").click()
        wait(driver, lambda: driver.find_element(By.ID, "copy-state").text != "", "copy gave no answer")
        curl = driver.find_element(By.ID, "curl").text
        check("-X POST 'https://api.example.com" in curl and "\"$AUTHORIZATION\"" in curl and "\"$X_API_KEY\"" in curl and "\"$PASSWORD\"" in curl, f"the cURL command: {curl}")
        run_curl(curl, post)
        screenshot(driver, args.shots, "call", 1280)
        screenshot(driver, args.shots, "call", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # The call with an outgoing call; the child links back to it.
        parent = data.calls[1]
        open_hash(driver, origin, "#/call?id=" + parent["id"])
        driver.find_element(By.CSS_SELECTOR, "table[data-table=children] tr[data-row] td[data-col=time] a").click()
        wait(driver, lambda: "f" * 32 in driver.current_url, "the child's link")
        loaded(driver)
        check(driver.find_elements(By.CSS_SELECTOR, f"table[data-table=parent] tr[data-row='{parent['id']}']"), "the child does not link its parent")
        binary = next(c for c in data.calls if c["n"] % 3 == 1 and c["direction"] == "incoming")
        open_hash(driver, origin, "#/call?id=" + binary["id"])
        check(driver.find_elements(By.CSS_SELECTOR, "pre[data-body=base64]"), "the binary body is not shown as base64")

        for name in ["errors", "pipeline"]:
            driver.find_element(By.CSS_SELECTOR, f"nav a[data-page={name}]").click()
            wait(driver, lambda: f"#/{name}" in driver.current_url, f"nav to {name}")
            loaded(driver)
            screenshot(driver, args.shots, name, 1280)
            screenshot(driver, args.shots, name, 390)
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        check(driver.find_elements(By.CSS_SELECTOR, "table[data-table=pipeline] tr.hot[data-row=dropped]"), "the drops are not highlighted")
        open_hash(driver, origin, "#/errors?range=30d")
        check(driver.find_elements(By.CSS_SELECTOR, "table[data-table=errors] tr[data-row]"), "no server error groups")
        check(driver.find_elements(By.CSS_SELECTOR, "table[data-table=validation-errors] tr[data-row]"), "no validation groups")

        # The dark scheme, as the system setting asks for it.
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        open_hash(driver, origin, "#/overview?range=7d")
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        check(background == "rgb(15, 20, 25)", f"the dark scheme is not applied: {background}")
        screenshot(driver, args.shots, "overview-dark", 1280)
        open_hash(driver, origin, "#/call?id=" + post["id"])
        screenshot(driver, args.shots, "call-dark", 390)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # Keyboard: Tab reaches the navigation links and the range buttons.
        driver.get(origin + "/_apimetrics#/overview?range=24h")
        loaded(driver)
        driver.execute_script("document.querySelector('a.skip').focus()")
        focused = []
        for _ in range(14):
            driver.switch_to.active_element.send_keys(Keys.TAB)
            focused.append(driver.execute_script("const e=document.activeElement;return e.getAttribute('data-page')||e.getAttribute('data-range')||e.id||e.tagName"))
        check("endpoints" in focused and "7d" in focused, f"Tab order: {focused}")
        driver.save_screenshot(os.path.join(args.shots, "keyboard-focus-1280.png"))
        console_and_network(driver, origin)
        check(all(path.startswith("/_apimetrics") for path, _ in server.seen), f"unexpected paths: {[p for p, _ in server.seen if not p.startswith('/_apimetrics')]}")
    finally:
        driver.quit()
        server.shutdown()

    # With a token: every API request carries it as a header; a shared link leaves it out.
    server, origin = start(page=page, token="s3cret'<")
    driver = browser()
    try:
        driver.get(origin + "/_apimetrics?token=" + quote("s3cret'<") + "#/endpoints?range=7d")
        loaded(driver)
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.find_element(By.ID, "share-link").click()
        wait(driver, lambda: driver.find_element(By.ID, "share-state").text != "", "Copy link gave no answer")
        shared = driver.execute_script("return navigator.clipboard.readText()")
        check(shared == origin + "/_apimetrics#/endpoints?range=7d", f"the shared link: {shared!r}")
        api = [auth for path, auth in server.seen if "/api/v1/" in path]
        check(api and all(auth == "Bearer s3cret'<" for auth in api), f"API requests without the token: {api}")
        check(not any("token" in path for path, _ in server.seen if "/api/v1/" in path), "the token went into an API URL")
        hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
        check(not any("s3cret" in h for h in hrefs), "a link carries the token")
        driver.refresh()
        loaded(driver)
        console_and_network(driver, origin)
    finally:
        driver.quit()
        server.shutdown()

    # No store: the API's 503 text in the banner.
    server, origin = start(page=page, no_store=True)
    driver = browser()
    try:
        driver.get(origin + "/_apimetrics")
        wait(driver, lambda: driver.find_element(By.ID, "banner").is_displayed(), "no banner without a store")
        check(driver.find_element(By.ID, "banner").text == "no store: APIMETRICS_STORE is off", f"the banner: {driver.find_element(By.ID, 'banner').text!r}")
        screenshot(driver, args.shots, "no-store", 390, rerender=False)
        # Chromium logs the failed fetch (503) itself; that is the only message allowed here.
        messages = [m for m in driver.get_log("browser") if "503" not in m["message"]]
        check(not messages, f"console messages: {messages}")
    finally:
        driver.quit()
        server.shutdown()
    # Answers of the wrong shape: every page still renders and nothing throws.
    server, origin = start(page=page, junk=True)
    driver = browser()
    try:
        driver.get(origin + "/_apimetrics")
        loaded(driver)
        for fragment in ["#/endpoints?sort=p99", "#/endpoint?method=GET&route=%2Fx", "#/consumers?sort=requests", "#/consumer?id=x",
                         "#/calls", "#/call?id=" + "a" * 32, "#/errors", "#/alerts", "#/pipeline", "#/overview?range=30d"]:
            open_hash(driver, origin, fragment)
        check(not driver.find_elements(By.CSS_SELECTOR, "main b b, main i i, main img"), "markup from the API became elements")
        console_and_network(driver, origin)
    finally:
        driver.quit()
        server.shutdown()
    check(time.monotonic() < DEADLINE, "took longer than its bound")
    print("dashboard fixture check: OK; screenshots in " + args.shots)


def fixture_ms(value):
    """What the page shows for a duration: the shortest form of the number (JS String())."""
    text = repr(round(value * 1000) / 1000)
    return text[:-2] if text.endswith(".0") else text


def run_curl(command, call):
    """Runs the command through bash with `curl` a function that prints its
    arguments, so that the shell quoting is checked, not just the text."""
    script = ("curl() { for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }\n"
              "export AUTHORIZATION='Bearer t0k' X_API_KEY='k-1' PASSWORD=\"p'w\" TOKEN='tt'\n" + command + "\n")
    out = subprocess.run(["bash", "-c", script], capture_output=True, timeout=10)
    check(out.returncode == 0, f"bash could not run the cURL command: {out.stderr.decode()}")
    args = out.stdout.decode().split("\0")[:-1]
    check(args[:2] == ["-X", "POST"], f"curl arguments: {args[:3]}")
    check(args[2] == "https://api.example.com" + call["path"].replace("REDACTED", "tt"), f"curl URL: {args[2]}")
    headers = [args[i + 1] for i, a in enumerate(args) if a == "-H"]
    check("authorization: Bearer t0k" in headers and "x-api-key: k-1" in headers, f"curl headers: {headers}")
    check("x-note: it's <b>bold</b> \"quoted\"" in headers, f"the quoted header: {headers}")
    check(not any(h.lower().startswith(("host:", "content-length:")) for h in headers), "host or content-length passed on")
    body = args[args.index("--data-raw") + 1]
    check('"password": "p\'w"' in body and "it's <script>" in body, f"curl body: {body}")


if __name__ == "__main__":
    main()
