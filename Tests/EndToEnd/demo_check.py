#!/usr/bin/env python3
"""End-to-end checks of the demo server, run as a new user would run it.

usage: demo_check.py DEMO_BINARY

1. file:      100 curl requests from several consumers, SIGTERM, exit 0, and
              the NDJSON file holds exactly those 100 events, schema v1.
2. retries:   APIMETRICS_ENDPOINT at a collector that answers 503 to the
              first three batches: every event arrives exactly once.
3. spool:     the collector down past the retry budget with a disk spool:
              the demo is killed (SIGKILL) with the events on disk, a new
              demo on the same directory delivers every one exactly once
              when the collector is back.
4. dead:      a collector that never answers: the demo keeps serving at the
              same latency, the queue stays bounded, and the drops are
              reported in the first batch that gets through.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import http.client
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apimetrics-e2e-")
CONSUMERS = ["acme", "globex", "initech", None]


def log(message):
    print(f"demo_check: {message}", flush=True)


def fail(message):
    print(f"demo_check: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def start_demo(env, name):
    out = open(os.path.join(WORK, f"{name}.out"), "w+")
    err = open(os.path.join(WORK, f"{name}.err"), "w+")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("APIMETRICS_")}
    full_env.update(env)
    process = subprocess.Popen([DEMO, "--port", "0"], stdout=out, stderr=err, env=full_env, cwd=WORK)
    deadline = time.time() + 30
    while time.time() < deadline:
        out.seek(0)
        text = out.read()
        if "listening on http://" in text:
            port = int(text.split("listening on http://")[1].split()[0].rsplit(":", 1)[1])
            return process, port, err
        if process.poll() is not None:
            err.seek(0)
            fail(f"demo exited early: {err.read()}")
        time.sleep(0.05)
    fail("demo did not start")


def stop_demo(process, err):
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        fail("demo did not stop within 30 s of SIGTERM")
    err.seek(0)
    text = err.read()
    if status != 0:
        fail(f"demo exited with {status}: {text}")
    return text


def start_collector(*flags):
    port_file = os.path.join(WORK, "collector.port")
    batches = os.path.join(WORK, f"batches-{time.time_ns()}.ndjson")
    if os.path.exists(port_file):
        os.remove(port_file)
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "collector.py"), port_file, batches, *flags])
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read():
            return process, int(open(port_file).read()), batches
        time.sleep(0.05)
    fail("collector did not start")


def plan(count):
    """A varied list of requests: (method, path, body, consumer, route)."""
    requests = []
    for n in range(count):
        consumer = CONSUMERS[n % len(CONSUMERS)]
        kind = n % 9
        if kind == 0:
            requests.append(("GET", "/orders?sort=id", None, consumer, "/orders"))
        elif kind == 1:
            requests.append(("GET", f"/orders?page={n % 5 + 1}", None, consumer, "/orders"))
        elif kind == 2:
            requests.append(("GET", f"/orders/{n % 100 + 1}", None, consumer, "/orders/{id}"))
        elif kind == 3:
            requests.append(("GET", f"/orders/{1000 + n}", None, consumer, "/orders/{id}"))
        elif kind == 4:
            body = json.dumps({"item": f"thing-{n}", "quantity": n % 4 + 1})
            requests.append(("POST", "/orders", body, consumer, "/orders"))
        elif kind == 5:
            requests.append(("DELETE", f"/orders/{n % 100 + 1}", None, consumer, "/orders/{id}"))
        elif kind == 6:
            body = json.dumps({"username": f"user{n}", "password": "hunter2"})
            requests.append(("POST", "/login", body, consumer, "/login"))
        elif kind == 7:
            requests.append(("GET", "/slow?ms=5", None, consumer, "/slow"))
        else:
            requests.append(("GET", "/fail", None, consumer, "/fail"))
    return requests


def send_with_curl(port, requests):
    """Sends each request with curl; returns what the schema check expects."""
    expected = []
    for index, (method, path, body, consumer, route) in enumerate(requests):
        separator = "&" if "?" in path else "?"
        url_path = f"{path}{separator}req={index}"
        command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                   "-X", method, f"http://127.0.0.1:{port}{url_path}"]
        if consumer:
            command += ["-H", f"X-API-Key: demo-key-{consumer}"]
        if body is not None:
            command += ["-H", "Content-Type: application/json", "--data-binary", body]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        status, size = result.stdout.split()
        expected.append({"method": method, "url": url_path, "route": route, "status": int(status),
                         "request_size": len(body.encode()) if body else 0,
                         "response_size": int(size), "consumer": consumer})
    return expected


def validate(expected, files, batches=False):
    expected_file = os.path.join(WORK, f"expected-{time.time_ns()}.json")
    json.dump(expected, open(expected_file, "w"))
    command = [sys.executable, os.path.join(HERE, "validate_events.py"), expected_file, *files]
    if batches:
        command.append("--batches")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        fail(result.stderr.strip())
    log(result.stdout.strip())


def send_unlogged(port):
    """Health checks and probes: answered, never logged (privacy defaults)."""
    for path, agent in [("/health", "curl/8"), ("/healthz", "curl/8"), ("/robots.txt", "curl/8"),
                        ("/orders/1", "kube-probe/1.29"), ("/orders/2", "ELB-HealthChecker/2.0")]:
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-A", agent, f"http://127.0.0.1:{port}{path}"], check=True, timeout=30)


def check_file():
    events = os.path.join(WORK, "events.ndjson")
    process, port, err = start_demo({"APIMETRICS_FILE": events, "APIMETRICS_FLUSH_INTERVAL_MS": "200"}, "file")
    expected = send_with_curl(port, plan(100))
    send_unlogged(port)
    summary = stop_demo(process, err)
    log(f"file: demo stopped with exit 0; {summary.strip().splitlines()[-1]}")
    validate(expected, [events])


def check_retries():
    collector, collector_port, batches = start_collector("--fail-first", "3")
    try:
        process, port, err = start_demo({
            "APIMETRICS_ENDPOINT": f"http://127.0.0.1:{collector_port}/v1/events",
            "APIMETRICS_BATCH_SIZE": "10", "APIMETRICS_FLUSH_INTERVAL_MS": "100"}, "retries")
        expected = send_with_curl(port, plan(100))
        summary = stop_demo(process, err)
        log(f"retries: demo stopped with exit 0; {summary.strip().splitlines()[-1]}")
        validate(expected, [batches], batches=True)
    finally:
        collector.terminate()


def timed_requests(port, count):
    """Sends `count` GET /orders/{id} on one keep-alive connection; returns
    each request's latency in milliseconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = []
    for n in range(count):
        start = time.perf_counter()
        connection.request("GET", f"/orders/{n % 100 + 1}", headers={"X-API-Key": "demo-key-acme"})
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            fail(f"GET /orders/{n % 100 + 1} answered {response.status}")
    connection.close()
    return latencies


def check_dead_collector():
    total = 2000
    queue_size = 50
    batch_size = 10
    baseline_process, baseline_port, baseline_err = start_demo(
        {"APIMETRICS_FILE": os.path.join(WORK, "baseline.ndjson")}, "baseline")
    timed_requests(baseline_port, 200)  # warm up
    baseline = statistics.median(timed_requests(baseline_port, total))
    stop_demo(baseline_process, baseline_err)

    collector, collector_port, batches = start_collector("--hang")
    try:
        process, port, err = start_demo({
            "APIMETRICS_ENDPOINT": f"http://127.0.0.1:{collector_port}/v1/events",
            "APIMETRICS_QUEUE_SIZE": str(queue_size), "APIMETRICS_BATCH_SIZE": str(batch_size),
            "APIMETRICS_FLUSH_INTERVAL_MS": "50", "APIMETRICS_TIMEOUT_MS": "600000"}, "dead")
        timed_requests(port, 200)  # warm up; these are recorded too
        hung = statistics.median(timed_requests(port, total))
        log(f"dead: median latency {hung:.3f} ms with the collector hung, {baseline:.3f} ms writing to a file")
        # Timings are figures, not pass/fail (the machine is shared); only a
        # request path that waited on the hung collector (each POST may hang
        # for ten minutes) would take anywhere near this long.
        if hung > 50:
            fail(f"requests took {hung:.3f} ms at the median while the collector hung: the request path waits on it")
        sent = total + 200
        # Let the collector answer: the held batch gets a 503 and is retried.
        release = http.client.HTTPConnection("127.0.0.1", collector_port, timeout=5)
        release.request("GET", "/release")
        release.getresponse().read()
        release.close()
        summary = stop_demo(process, err)
        log(f"dead: demo stopped with exit 0; {summary.strip().splitlines()[-1]}")
        documents = [json.loads(line) for line in open(batches) if line.strip()]
        accepted = sum(len(d["events"]) for d in documents)
        dropped = sum(d["dropped"] for d in documents)
        first = documents[0] if documents else {}
        log(f"dead: {sent} requests, {accepted} events delivered, {dropped} reported dropped "
            f"(first batch that got through reported {first.get('dropped')})")
        # The queue, the batch being exported, and the next batch, processed
        # while that export waits.
        if accepted > queue_size + 2 * batch_size:
            fail(f"{accepted} events were held while the collector hung; the queue bound is {queue_size} "
                 f"(+{batch_size} in flight, +{batch_size} processed and waiting)")
        if accepted + dropped != sent:
            fail(f"delivered {accepted} + dropped {dropped} != sent {sent}: something was lost silently")
        if not first.get("dropped"):
            fail("the first batch that got through did not report the drops")
    finally:
        collector.terminate()


def check_privacy():
    """Bodies on, default redaction: secrets sent every way never reach the
    file; consumers come from the demo key table, a Bearer JWT from /login,
    and a hashed API key."""
    events = os.path.join(WORK, "privacy.ndjson")
    process, port, err = start_demo({"APIMETRICS_FILE": events, "APIMETRICS_LOG_BODY": "true"}, "privacy")
    base = f"http://127.0.0.1:{port}"

    def curl(*args):
        return subprocess.run(["curl", "-s", *args], capture_output=True, text=True, timeout=30, check=True).stdout

    login = json.loads(curl("-H", "Content-Type: application/json", "--data-binary",
                            '{"username":"alice","password":"SECRET-PW-1"}', f"{base}/login"))
    token = login["token"]
    curl("-H", f"Authorization: Bearer {token}", f"{base}/orders/1?api_key=SECRET-QUERY-1&page=2")
    curl("-H", "X-API-Key: SECRET-KEY-0123456789", "-H", "Cookie: sid=SECRET-COOKIE-1", f"{base}/orders/2")
    curl("-H", "X-API-Key: demo-key-bob", "-H", "Content-Type: application/json", "--data-binary",
         '{"item":"lamp","quantity":1,"card_number":"SECRET-CARD-1","shipping":{"cvv":"SECRET-CVV-1"}}', f"{base}/orders")
    curl("-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary",
         "username=carol&password=SECRET-PW-2", f"{base}/login")
    stop_demo(process, err)
    text = open(events).read()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if line.get("kind") not in ("startup", "metrics", "heartbeat")]
    for secret in ["SECRET-PW-1", "SECRET-PW-2", "SECRET-QUERY-1", "SECRET-KEY-0123456789", "SECRET-COOKIE-1",
                   "SECRET-CARD-1", "SECRET-CVV-1", token, token.split(".")[1]]:
        if secret in text:
            fail(f"privacy: {secret} reached the events file")
    for visible in ["alice", "lamp", "page=2", "shipping"]:
        if visible not in text:
            fail(f"privacy: {visible} is missing from the events file")
    consumers = [(e["request"]["url"], (e.get("consumer") or {}).get("id")) for e in lines]
    import hashlib
    hashed = "sha256:" + hashlib.sha256(b"SECRET-KEY-0123456789").hexdigest()
    wanted = {("/orders/1?api_key=[REDACTED]&page=2", "alice"), ("/orders/2", hashed), ("/orders", "bob")}
    if not wanted <= set(consumers):
        fail(f"privacy: consumers {consumers} lack {wanted - set(consumers)}")
    log(f"privacy: {len(lines)} events, no secret in the file, consumers from JWT, hashed key and key table")


def raw_exchange(port, chunks, delay=0.0, expect_close=False):
    """Sends byte chunks on one connection and reads until it goes quiet."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        for chunk in chunks:
            connection.sendall(chunk)
            if delay:
                time.sleep(delay)
    except OSError:
        pass  # the server answered and closed while we were still sending
    connection.settimeout(0.5)
    received = b""
    while True:
        try:
            data = connection.recv(65536)
        except (socket.timeout, OSError):
            break
        if not data:
            break
        received += data
    connection.close()
    return received


def check_wire():
    """Raw sockets through the demo's wire tap: every valid request appears
    once with the right method, route, status and sizes."""
    events = os.path.join(WORK, "wire.ndjson")
    process, port, err = start_demo({"APIMETRICS_FILE": events, "APIMETRICS_LOG_BODY": "true",
                                     "APIMETRICS_LOG_BODY_TYPES": "all", "APIMETRICS_MAX_BODY_BYTES": "1024"}, "wire")
    head = "Host: t\r\n"
    answers = []
    answers.append(raw_exchange(port, [(
        f"GET /orders/1?w=p1 HTTP/1.1\r\n{head}\r\nGET /orders/2?w=p2 HTTP/1.1\r\n{head}\r\n"
        f"POST /orders?w=p3 HTTP/1.1\r\n{head}Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{{\"item\":\"abc\"}}").encode()]))
    answers.append(raw_exchange(port, [bytes([b]) for b in f"GET /orders/3?w=bytewise HTTP/1.1\r\n{head}\r\n".encode()]))
    answers.append(raw_exchange(port, [
        f"POST /orders?w=chunked HTTP/1.1\r\n{head}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
        b"7\r\n{\"item\"\r\n", b"8;ext=1\r\n:\"lamp\"}\r\n", b"0\r\n\r\n"], delay=0.02))
    big = b"x" * (1 << 20)
    answers.append(raw_exchange(port, [f"POST /orders?w=big HTTP/1.1\r\n{head}Content-Type: text/plain\r\nContent-Length: {len(big)}\r\n\r\n".encode() + big]))
    binary = bytes(range(256)) * 4
    answers.append(raw_exchange(port, [f"POST /orders?w=binary HTTP/1.1\r\n{head}Content-Type: application/octet-stream\r\nContent-Length: {len(binary)}\r\n\r\n".encode() + binary]))
    answers.append(raw_exchange(port, [f"HEAD /orders/4?w=head HTTP/1.1\r\n{head}\r\n".encode(),
                                       f"GET /orders/4?w=get HTTP/1.1\r\n{head}\r\n".encode()], delay=0.05))
    answers.append(raw_exchange(port, [b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"]))
    answers.append(raw_exchange(port, [f"GET /orders/5?w=huge HTTP/1.1\r\n{head}X-Big: {'a' * 200_000}\r\n\r\n".encode()]))
    after = raw_exchange(port, [f"GET /orders/6?w=after HTTP/1.1\r\n{head}\r\n".encode()])
    if not after.startswith(b"HTTP/1.1 200"):
        fail(f"wire: the demo stopped answering after garbage: {after[:80]!r}")
    proxied = raw_exchange(port, [f"GET /proxy?to=/orders/9&w=proxy HTTP/1.1\r\n{head}\r\n".encode()])
    if not proxied.startswith(b"HTTP/1.1 200") or b'"id":9' not in proxied:
        fail(f"wire: /proxy did not answer with order 9: {proxied[:120]!r}")
    failed = raw_exchange(port, [f"GET /fail?w=fail HTTP/1.1\r\n{head}\r\n".encode()])
    if not failed.startswith(b"HTTP/1.1 500"):
        fail(f"wire: /fail did not answer 500: {failed[:80]!r}")
    stop_demo(process, err)
    lines = [json.loads(line) for line in open(events) if line.strip()]
    lines = [line for line in lines if line.get("kind") not in ("startup", "metrics", "heartbeat")]
    by_tag = {}
    for event in lines:
        tag = (event["request"].get("query") or {}).get("w")
        by_tag.setdefault(tag, []).append(event)
    wanted = {
        "p1": ("GET", "/orders/{id}", 200, 0), "p2": ("GET", "/orders/{id}", 200, 0),
        "p3": ("POST", "/orders", 201, 14), "bytewise": ("GET", "/orders/{id}", 200, 0),
        "chunked": ("POST", "/orders", 201, 15), "big": ("POST", "/orders", 400, 1 << 20),
        "binary": ("POST", "/orders", 400, 1024), "head": ("HEAD", "/orders/{id}", 200, 0),
        "get": ("GET", "/orders/{id}", 200, 0), "after": ("GET", "/orders/{id}", 200, 0),
    }
    for tag, (method, route, status, size) in wanted.items():
        found = by_tag.get(tag, [])
        if len(found) != 1:
            fail(f"wire: {tag} appears {len(found)} times")
        event = found[0]
        got = (event["request"]["method"], event["request"].get("route"), event["response"]["status"], event["request"]["size"])
        if got != (method, route, status, size):
            fail(f"wire: {tag} recorded as {got}, expected {(method, route, status, size)}")
    big_event = by_tag["big"][0]["request"]
    if len(big_event.get("body", "")) != 1024 or not big_event.get("body_truncated"):
        fail("wire: the 1 MiB upload's body was not capped at 1024 bytes")
    binary_event = by_tag["binary"][0]["request"]
    if binary_event.get("body_encoding") != "base64" or binary_event.get("body") != __import__("base64").b64encode(binary).decode():
        fail("wire: the binary body was not kept as base64")
    if by_tag["head"][0]["response"]["size"] != 0 or by_tag["get"][0]["response"]["size"] == 0:
        fail("wire: HEAD then GET sizes are wrong")
    incoming = by_tag["proxy"][0]
    outgoing = [e for e in lines if e["direction"] == "outgoing"]
    if len(outgoing) != 1 or outgoing[0].get("parent_id") != incoming["id"] or outgoing[0].get("trace_id") != incoming.get("trace_id"):
        fail(f"wire: /proxy's outgoing event is not linked to the incoming one: {outgoing}")
    downstream = [e for e in lines if e["request"]["url"] == "/orders/9" and e["direction"] == "incoming"]
    if len(downstream) != 1 or downstream[0].get("trace_id") != incoming.get("trace_id"):
        fail("wire: the call /proxy made did not carry the trace to the service it called")
    error = by_tag["fail"][0].get("error") or {}
    if error.get("type") != "HandlerError" or not error.get("location"):
        fail(f"wire: /fail's event does not carry its reported error: {error}")
    invalid = [e for e in lines if e["request"]["method"] == "INVALID" or (e.get("error") or {}).get("type") == "MalformedRequest"]
    log(f"wire: {len(lines)} events; pipelined, byte-at-a-time, chunked, 1 MiB, binary, HEAD+GET each once and right; "
        f"{len(invalid)} malformed inputs recorded with their error; the demo still answers; "
        f"/proxy gave an incoming and a linked outgoing event on trace {incoming.get('trace_id')}; /fail carries its error")


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def pipeline(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_apimetrics/api", timeout=10) as response:
        return json.load(response)["pipeline"]


def check_spool_survives_kill():
    collector_port = free_port()
    env = {"APIMETRICS_ENDPOINT": f"http://127.0.0.1:{collector_port}/v1/events",
           "APIMETRICS_SPOOL_DIR": os.path.join(WORK, "spool"), "APIMETRICS_SPOOL_SYNC_MS": "0",
           "APIMETRICS_RETRY_MAX_ATTEMPTS": "1", "APIMETRICS_BATCH_SIZE": "10", "APIMETRICS_FLUSH_INTERVAL_MS": "100",
           # The check's own polls of the pipeline are not events.
           "APIMETRICS_EXCLUDE_PATHS": "/_apimetrics*"}
    # Nothing listens on the collector's port: every batch is refused a connection and spooled.
    process, port, err = start_demo(env, "spool-1")
    expected = send_with_curl(port, plan(50))
    deadline = time.time() + 60
    while pipeline(port).get("spool_pending", 0) < 50:
        if time.time() > deadline:
            fail(f"spool: the events never reached the spool: {pipeline(port)}")
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=30)
    collector, _, batches = start_collector("--port", str(collector_port))
    try:
        process, port, err = start_demo(env, "spool-2")
        deadline = time.time() + 60
        while True:
            state = pipeline(port)
            if state.get("spool_pending", 1) == 0 and state.get("exported", 0) >= 50:
                break
            if time.time() > deadline:
                fail(f"spool: the new demo did not send the spool: {state}")
            time.sleep(0.1)
        summary = stop_demo(process, err)
        log(f"spool: killed with 50 events on disk; the next demo sent them: {summary.strip().splitlines()[-1]}")
        validate(expected, [batches], batches=True)
    finally:
        collector.terminate()


check_file()
check_spool_survives_kill()
check_wire()
check_privacy()
check_retries()
check_dead_collector()
log("all end-to-end checks passed")
