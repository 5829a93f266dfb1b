#!/usr/bin/env python3
"""The view's defaults, configured secrets and the files the demo writes,
tried as an attacker would, on 127.0.0.1.

usage: attack_view.py DEMO_BINARY

1. token:    a blank or all-space APIMETRICS_DASHBOARD_TOKEN stops the demo
             with an error naming the variable (it used to mean "no token").
2. loopback: without a token, the view answers a loopback Host only: a page
             reaching it through DNS rebinding (Host: evil.example) gets 403
             with how to set a token, on the demo's port and on the listener;
             every answer carries the security headers.
3. secrets:  APIMETRICS_ENDPOINT=http://user:PW@127.0.0.1:1/collect?api_key=Q
             with nothing listening, a spool and APIMETRICS_DEBUG: neither PW
             nor Q reaches the startup line, stderr, /_apimetrics/api or the
             spool.
4. files:    as root, in a world-writable directory where another user
             planted `lock` and the event file as links to a root-only file:
             the demo refuses to start and the file is untouched; a fresh
             spool is 0700 with 0600 files, the event file 0600.
5. U+2028:   a request target holding U+2028 is one line of the event file
             for Python's splitlines.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

from demo_process import exchange_raw, start_demo

DEMO = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apimetrics-attack-view-")
SECURITY_HEADERS = ["content-security-policy", "x-content-type-options", "referrer-policy", "cache-control"]


def log(message):
    print(f"attack_view: {message}", flush=True)


def fail(message):
    print(f"attack_view: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def raw(port, request):
    """Sends REQUEST (bytes) and reads until the server closes; (status, headers, body)."""
    data = exchange_raw(port, request)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def get(port, path, host, extra=""):
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode())


def run_demo_expecting_failure(env, name):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("APIMETRICS_", "OTEL_"))}
    full_env.update(env)
    process = subprocess.Popen([DEMO, "--port", "0"], env=full_env, cwd=WORK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        fail(f"{name}: the demo started and served")
    if process.returncode == 0 or "listening on" in stdout:
        fail(f"{name}: the demo started: {stdout[-500:]}")
    return stderr


def stop(process, err):
    process.terminate()
    code = process.wait(timeout=30)
    if code != 0:
        err.seek(0)
        fail(f"the demo exited {code}: {err.read()[-2000:]}")


def check_blank_token():
    for blank in ["", "   "]:
        message = run_demo_expecting_failure({"APIMETRICS_DASHBOARD_TOKEN": blank}, "blank token")
        if "APIMETRICS_DASHBOARD_TOKEN" not in message or "blank" not in message:
            fail(f"a blank token's error does not name the variable: {message}")
    log("token: a blank or all-space APIMETRICS_DASHBOARD_TOKEN stops the demo, naming the variable")


def check_loopback_only():
    events = os.path.join(WORK, "loopback.ndjson")
    process, port, out, err = start_demo(DEMO, {"APIMETRICS_FILE": events, "APIMETRICS_METRICS_ADDR": "127.0.0.1:0"},
                                         WORK, "loopback", "attack_view")
    out.seek(0)
    banner = out.read()
    if "this machine only" not in banner:
        fail(f"the demo's startup does not say the view is for this machine only: {banner}")
    listener = int(banner.split("metrics view also on port ")[1].split()[0])
    try:
        for target, label in [(port, "demo"), (listener, "listener")]:
            for path in ["/_apimetrics", "/_apimetrics/api", "/metrics"]:
                for host in ["evil.example", f"evil.example:{target}", "localhost.evil.example", "127.0.0.1.nip.example"]:
                    status, headers, body = get(target, path, host)
                    if status != 403 or b"APIMETRICS_DASHBOARD_TOKEN" not in body:
                        fail(f"{label} {path} with Host {host}: {status} {body[:200]!r}")
                    missing = [h for h in SECURITY_HEADERS if h not in headers]
                    if missing:
                        fail(f"{label} {path}: the 403 lacks {missing}")
                for host in ["localhost", f"127.0.0.1:{target}", f"[::1]:{target}"]:
                    status, headers, body = get(target, path, host)
                    if status != 200:
                        fail(f"{label} {path} with Host {host}: {status}")
                    missing = [h for h in SECURITY_HEADERS if h not in headers]
                    if missing:
                        fail(f"{label} {path}: the answer lacks {missing}")
                    policy = headers["content-security-policy"]
                    if "default-src 'none'" not in policy or "frame-ancestors 'none'" not in policy:
                        fail(f"{label} {path}: weak policy {policy}")
                    if headers["x-content-type-options"] != "nosniff" or headers["referrer-policy"] != "no-referrer":
                        fail(f"{label} {path}: headers {headers}")
            status, _, _ = raw(target, b"POST /_apimetrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            if status != 405:
                fail(f"{label}: POST to the view got {status}")
    finally:
        stop(process, err)
    log("loopback: without a token, 403 (with how to set one) for a rebinding Host on both ports, 200 for a loopback Host; "
        "CSP, nosniff, no-referrer, no-store on every answer; POST 405")


def check_configured_secrets():
    spool = os.path.join(WORK, "secrets-spool")
    env = {
        "APIMETRICS_ENDPOINT": "http://admin:PW-9f3k2@127.0.0.1:1/collect?api_key=QKEY-5521",
        "APIMETRICS_SPOOL_DIR": spool,
        "APIMETRICS_DEBUG": "true",
        "APIMETRICS_RETRY_MAX_ATTEMPTS": "1",
        "APIMETRICS_FLUSH_INTERVAL_MS": "50",
        "APIMETRICS_TIMEOUT_MS": "500",
    }
    process, port, out, err = start_demo(DEMO, env, WORK, "secrets", "attack_view")
    texts = {}
    try:
        for n in range(5):
            get(port, f"/orders/{n + 1}", "localhost")
        deadline = time.time() + 30
        api = {}
        while time.time() < deadline:
            _, _, body = get(port, "/_apimetrics/api", "localhost")
            api = json.loads(body)
            if "last_export_error" in json.dumps(api) and os.path.isdir(spool) and len(os.listdir(spool)) > 1:
                break
            time.sleep(0.2)
        texts["/_apimetrics/api"] = json.dumps(api)
        if "last_export_error" not in texts["/_apimetrics/api"]:
            fail(f"no export error was reported: {texts['/_apimetrics/api'][:500]}")
    finally:
        stop(process, err)
    out.seek(0)
    err.seek(0)
    texts["stdout"], texts["stderr"] = out.read(), err.read()
    for name in os.listdir(spool):
        with open(os.path.join(spool, name), "rb") as spooled:
            texts[f"spool/{name}"] = spooled.read().decode("latin-1")
    for where, text in texts.items():
        for secret in ["PW-9f3k2", "QKEY-5521", "admin:"]:
            if secret in text:
                fail(f"{secret} reached {where}")
    if "REDACTED@127.0.0.1:1" not in texts["stdout"]:
        fail(f"the startup line does not show the endpoint redacted: {texts['stdout']}")
    log(f"secrets: the endpoint's password and api_key reached none of {', '.join(sorted(texts))}")


def check_files():
    if os.geteuid() != 0:
        log("files: skipped (needs root, as CI runs)")
        return
    attacker = "apimetrics-attacker"
    try:
        pwd.getpwnam(attacker)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", attacker], check=True)
    uid = pwd.getpwnam(attacker).pw_uid
    os.chmod(WORK, 0o755)  # so that the other user reaches the shared directory
    shared = os.path.join(WORK, "shared")
    os.mkdir(shared)
    # World-writable without the sticky bit, where the kernel's protected_symlinks
    # does not stand in: only O_NOFOLLOW stops the open.
    os.chmod(shared, 0o777)
    victim = os.path.join(WORK, "root-only")
    with open(victim, "w") as file:
        file.write("root's secret\n")
    os.chmod(victim, 0o600)

    def as_attacker(*command):
        subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command], check=True)

    # Another user makes the spool directory, world-writable, and plants the lock.
    planted = os.path.join(shared, "spool")
    as_attacker("mkdir", "-m", "0777", planted)
    as_attacker("ln", "-s", victim, os.path.join(planted, "lock"))
    message = run_demo_expecting_failure({"APIMETRICS_SPOOL_DIR": planted}, "planted spool")
    if "APIMETRICS_SPOOL_DIR" not in message and "spool.directory" not in message:
        fail(f"the planted spool's error names no field: {message}")
    # The event file planted as a link.
    link = os.path.join(shared, "events.ndjson")
    as_attacker("ln", "-s", victim, link)
    message = run_demo_expecting_failure({"APIMETRICS_FILE": link}, "planted event file")
    if "symbolic link" not in message:
        fail(f"the planted event file's error does not say why: {message}")
    with open(victim) as file:
        if file.read() != "root's secret\n":
            fail("the root-only file was written through a planted link")
    # A spool directory of root's own that another user may write: refused too.
    open_dir = os.path.join(WORK, "open-spool")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o777)
    message = run_demo_expecting_failure({"APIMETRICS_SPOOL_DIR": open_dir}, "world-writable spool")
    if "writable by other users" not in message:
        fail(f"a world-writable spool directory's error does not say why: {message}")
    # Fresh: 0700 and 0600.
    spool = os.path.join(WORK, "fresh", "spool")
    events = os.path.join(WORK, "fresh-events.ndjson")
    process, port, out, err = start_demo(DEMO, {"APIMETRICS_SPOOL_DIR": spool, "APIMETRICS_FILE": events,
                                                "APIMETRICS_ENDPOINT": "http://127.0.0.1:1/x", "APIMETRICS_RETRY_MAX_ATTEMPTS": "1",
                                                "APIMETRICS_FLUSH_INTERVAL_MS": "50", "APIMETRICS_TIMEOUT_MS": "300"},
                                         WORK, "fresh", "attack_view")
    try:
        get(port, "/orders/1", "localhost")
        deadline = time.time() + 20
        while time.time() < deadline and len(os.listdir(spool)) < 2:
            time.sleep(0.1)
    finally:
        stop(process, err)
    modes = {name: oct(os.lstat(os.path.join(spool, name)).st_mode & 0o777) for name in os.listdir(spool)}
    if oct(os.lstat(spool).st_mode & 0o777) != "0o700" or len(modes) < 2 or any(m != "0o600" for m in modes.values()):
        fail(f"spool {oct(os.lstat(spool).st_mode & 0o777)} with files {modes}")
    if os.lstat(events).st_mode & 0o777 != 0o600:
        fail(f"the event file is {oct(os.lstat(events).st_mode & 0o777)}")
    log(f"files: planted lock and event-file links refused, the root-only file untouched, a world-writable spool refused; "
        f"a fresh spool 0700 with {len(modes)} files 0600, the event file 0600")


def check_line_separators():
    events = os.path.join(WORK, "separators.ndjson")
    process, port, out, err = start_demo(DEMO, {"APIMETRICS_FILE": events}, WORK, "separators", "attack_view")
    try:
        raw(port, "GET /orders/1?note=a\u2028b\u2029c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        raw(port, b"GET /orders/2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    finally:
        stop(process, err)
    with open(events, encoding="utf-8") as file:
        text = file.read()
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        records = [json.loads(line) for line in lines]
    except ValueError as error:
        fail(f"the event file splits on U+2028: a line is not JSON for splitlines() ({error})")
    calls = [record for record in records if "kind" not in record and "/orders/" in json.dumps(record)]
    if "\u2028" in text or "\u2029" in text or len(calls) != 2:
        fail(f"the event file splits on U+2028: {len(calls)} calls among {len(lines)} lines")
    log("U+2028: a target holding U+2028 and U+2029 stays one line for splitlines(), escaped as \\u2028")


def main():
    try:
        check_blank_token()
        check_loopback_only()
        check_configured_secrets()
        check_files()
        check_line_separators()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    log("passed")


if __name__ == "__main__":
    main()
