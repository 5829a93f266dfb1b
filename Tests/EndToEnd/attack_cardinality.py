#!/usr/bin/env python3
"""The cardinality attacks of issue 25 (findings 3 and 4) against the demo,
127.0.0.1 only, bounded in count and time.

    python3 attack_cardinality.py DEMO_BINARY [--burst]

Starts the demo with the view on its own port too (APIMETRICS_METRICS_ADDR)
behind a token, then sends: 1,500 requests with methods M00000…; 700 with
4 KB methods; 100 malformed requests with unique 7 KB paths (answered 400);
3,000 X-API-Key values; 500 keys of 8 characters each carrying 2,000
combining marks. Then checks, on the demo's port and on the view's own:
RSS grew by at most 20 MB besides the store's page cache, and that cache
stays within its stated bound; `/metrics` and `/_apimetrics/api` are each under
1 MB and answer in under 100 ms (best of 3); the fold counters show the
folds. Prints the figures; exits non-zero with a "FAILED: reason" line.

Every 100 requests the attacks wait (at most 10 s) for the event queue to
drain: the queue holds what events are waiting for the sender, a backlog
bounded by its own limit (`queue.maxBytes`, 64 MB), and the memory the
allocator keeps after it would hide what the attacks leave behind, which is
what the RSS check is about. The store's writer keeps a page cache that
grows with any traffic to a stated bound (16 MiB, reported in the pipeline's
`store.cache_bytes` and `cache_max_bytes`): its growth is checked against
that bound and left out of the 20 MB. `--burst` sends without waiting (the RSS check
then measures the backlog too, and is only reported).
"""
import json
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import start_demo  # noqa: E402

TOOL = "attack_cardinality"
TOKEN = "attack-check-token"
MAX_RSS_GROWTH_KB = 20 * 1024
MAX_BYTES = 1 << 20
MAX_SECONDS = 0.100
DEADLINE = time.time() + 600


def fail(reason):
    print(f"FAILED: {reason}")
    sys.exit(1)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("no VmRSS in /proc")


class Connection:
    """A keep-alive connection that sends raw requests and reads answers
    framed by Content-Length (the demo's), reconnecting when closed."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buffer = b""

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.buffer = b""

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def _read_response(self):
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        closes = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                closes = True
        while len(self.buffer) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if closes:
            self.close()
        return status, body

    def send(self, raw):
        """Sends one request; its status (0 when the server closed without one)."""
        if time.time() > DEADLINE:
            fail("the attacks ran past their time budget")
        for attempt in range(2):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._read_response()[0]
            except (ConnectionError, OSError):
                self.close()
                if attempt == 1:
                    return 0
        return 0


def request(method, path, headers=()):
    lines = [f"{method} {path} HTTP/1.1".encode("utf-8"), b"Host: 127.0.0.1"]
    lines += [f"{name}: {value}".encode("utf-8") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def fetch(port, path):
    """GET with the token on a fresh connection: (status, body, seconds)."""
    conn = Connection(port)
    started = time.perf_counter()
    conn._connect()
    conn.sock.sendall(request("GET", path, [("Authorization", f"Bearer {TOKEN}"), ("Connection", "close")]))
    status, body = conn._read_response()
    elapsed = time.perf_counter() - started
    conn.close()
    return status, body, elapsed


def best_of_three(port, path):
    tries = [fetch(port, path) for _ in range(3)]
    for status, _, _ in tries:
        if status != 200:
            fail(f"{path} on port {port} answered {status}")
    return min(t[2] for t in tries), len(tries[-1][1]), tries[-1][1]


def sample(exposition, name):
    match = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return float(match.group(1)) if match else None


def store_cache(view_port):
    """The store writer's page cache: (bytes now, stated bound)."""
    status, body, _ = fetch(view_port, "/_apimetrics/api/v1/pipeline")
    if status != 200:
        fail(f"/_apimetrics/api/v1/pipeline answered {status}")
    store = json.loads(body).get("store", {})
    if "cache_bytes" not in store or "cache_max_bytes" not in store:
        fail("the pipeline's store object has no cache_bytes or cache_max_bytes")
    return store["cache_bytes"], store["cache_max_bytes"]


def queued(view_port):
    _, body, _ = fetch(view_port, "/_apimetrics/api")
    return json.loads(body).get("pipeline", {}).get("queued", 0)


def attacks(port, pace):
    """Findings 3 and 4; returns how many requests each got answered.
    `pace(n)` runs before the n-th request of each attack."""
    conn = Connection(port)
    answered = {}

    def each(count, make):
        total = 0
        for n in range(count):
            pace(n)
            total += conn.send(make(n)) != 0
        return total

    answered["methods"] = each(1_500, lambda n: request(f"M{n:05d}", "/orders"))
    answered["long_methods"] = each(700, lambda n: request("X" * 4_090 + f"{n:06d}", "/orders"))
    malformed = 0
    for n in range(100):
        # A unique 7 KB path, and a header line with no colon: malformed.
        raw = f"GET /{'p' * 7_000}{n:05d} HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n".encode()
        conn.close()
        status = conn.send(raw)
        malformed += status == 400
        conn.close()
    answered["malformed_400"] = malformed
    answered["api_keys"] = each(3_000, lambda n: request("GET", "/orders", [("X-API-Key", f"attack-key-{n:06d}")]))
    marks = "\u0300" * 2_000
    answered["marked_keys"] = each(500, lambda n: request(
        "GET", "/orders", [("X-API-Key", "demo-key-" + "".join(ch + marks for ch in f"{n:08d}"))]))
    conn.close()
    return answered


def main():
    arguments = sys.argv[1:]
    burst = "--burst" in arguments
    arguments = [a for a in arguments if a != "--burst"]
    if len(arguments) != 1:
        sys.exit("usage: attack_cardinality.py DEMO_BINARY [--burst]")
    demo = os.path.abspath(arguments[0])
    with tempfile.TemporaryDirectory() as work:
        env = {
            "APIMETRICS_FILE": os.path.join(work, "events.ndjson"),
            "APIMETRICS_METRICS_ADDR": "127.0.0.1:0",
            "APIMETRICS_DASHBOARD_TOKEN": TOKEN,
            "APIMETRICS_DASHBOARD": "1",
            "APIMETRICS_PROMETHEUS": "1",
        }
        process, port, out, err = start_demo(demo, env, work, "demo", TOOL)
        try:
            view_port = None
            for _ in range(100):
                out.seek(0)
                found = re.search(r"metrics view also on port (\d+)", out.read())
                if found:
                    view_port = int(found.group(1))
                    break
                time.sleep(0.05)
            if view_port is None:
                fail("the demo did not report its view's own port")
            # Warm up, so that the baseline holds what any traffic costs.
            warm = Connection(port)
            for n in range(200):
                warm.send(request("GET", "/orders", [("X-API-Key", "demo-key-alice")]))
            warm.close()
            for target in (port, view_port):
                fetch(target, "/metrics")
                fetch(target, "/_apimetrics/api")
            time.sleep(1)
            cache_before, _ = store_cache(view_port)
            before = rss_kb(process.pid)
            started = time.time()
            def pace(n):
                if burst or n % 100 != 99:
                    return
                until = time.time() + 10
                while queued(view_port) > 0 and time.time() < until:
                    time.sleep(0.02)

            answered = attacks(port, pace)
            attack_seconds = time.time() - started
            # Wait for the sender to identify every event.
            folded = 0
            while time.time() < DEADLINE:
                _, body, _ = fetch(view_port, "/_apimetrics/api")
                document = json.loads(body)
                folded = document.get("folded_consumers", 0)
                if folded >= 3_000 - 500 and document.get("pipeline", {}).get("queued", 1) == 0:
                    break
                time.sleep(0.5)
            after = rss_kb(process.pid)
            cache_after, cache_bound = store_cache(view_port)
            cache_growth_kb = (cache_after - cache_before) // 1024
            grown_kb = after - before - max(cache_growth_kb, 0)
            print(f"attacks: {answered} in {attack_seconds:.1f} s")
            print(f"RSS: {before / 1024:.1f} MB before, {after / 1024:.1f} MB after (+{(after - before) / 1024:.1f} MB); "
                  f"the store's page cache {cache_before / 2**20:.1f} -> {cache_after / 2**20:.1f} MiB "
                  f"(bound {cache_bound / 2**20:.0f} MiB); besides it +{grown_kb / 1024:.1f} MB")
            problems = []
            if process.poll() is not None:
                fail("the demo died during the attacks")
            if answered["malformed_400"] < 100:
                problems.append(f"only {answered['malformed_400']} of 100 malformed requests were answered 400")
            if grown_kb > MAX_RSS_GROWTH_KB and not burst:
                problems.append(f"RSS grew by {grown_kb / 1024:.1f} MB besides the store's page cache (at most 20 MB)")
            # SQLite counts each page's header too: a tenth over the pages' bound.
            if cache_after > cache_bound * 1.1:
                problems.append(f"the store's page cache holds {cache_after} bytes (bound {cache_bound})")
            for name, target in (("demo", port), ("view", view_port)):
                for path in ("/metrics", "/_apimetrics/api"):
                    seconds, size, body = best_of_three(target, path)
                    print(f"{name} port {path}: {size / 1024:.1f} KB, best of 3 {seconds * 1000:.1f} ms")
                    if size >= MAX_BYTES:
                        problems.append(f"{path} on the {name} port is {size} bytes (under {MAX_BYTES})")
                    if seconds >= MAX_SECONDS:
                        problems.append(f"{path} on the {name} port took {seconds * 1000:.0f} ms (under 100)")
                    if path == "/metrics":
                        text = body.decode()
                        methods = sample(text, "apimetrics_methods_folded_total")
                        consumers = sample(text, "apimetrics_consumers_folded_total")
                        series = len(set(re.findall(r'^http_server_request_duration_seconds_count\{([^}]*)\}', text, re.MULTILINE)))
                        print(f"  methods folded {methods}, consumers folded {consumers}, series {series}")
                        if methods is None or methods < 2_200:
                            problems.append(f"apimetrics_methods_folded_total is {methods} (at least 2200)")
                        if consumers is None or consumers < 2_000:
                            problems.append(f"apimetrics_consumers_folded_total is {consumers} (at least 2000)")
                        if series > 100:
                            problems.append(f"{series} series after the attacks")
                    else:
                        document = json.loads(body)
                        ids = [c["id"] for c in document["consumers"]]
                        print(f"  folded_methods {document.get('folded_methods')}, folded_consumers "
                              f"{document.get('folded_consumers')}, consumers {len(ids)}, "
                              f"longest id {max((len(i.encode()) for i in ids), default=0)} bytes")
                        if "(other consumers)" not in ids:
                            problems.append("no (other consumers) row in /_apimetrics/api")
                        if (document.get("folded_methods") or 0) < 2_200:
                            problems.append(f"folded_methods is {document.get('folded_methods')} (at least 2200)")
                        if any(len(i.encode()) > 256 for i in ids):
                            problems.append("a consumer id over 256 bytes")
            if problems:
                fail("; ".join(problems))
            print("attack_cardinality: passed")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except Exception:
                process.kill()


if __name__ == "__main__":
    main()
