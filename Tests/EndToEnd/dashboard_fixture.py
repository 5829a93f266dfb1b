#!/usr/bin/env python3
"""A stand-in for the view while the store is being written: serves the
dashboard app (DashboardApp.page) at /_apimetrics with its CSP and canned
answers of the JSON API v1 (/work/api-v1-spec.md) under /_apimetrics/api/v1/,
computed from a fixed set of generated calls, hostile strings included.

    python3 Tests/EndToEnd/dashboard_fixture.py [--port 8099] [--page FILE] [--token T] [--no-store]

Without --page, the page is assembled from the Swift literals in
Sources/APIMetrics/View/DashboardApp*.swift exactly as DashboardApp.page joins
them (so the page can be tried without a build); with --page, it is the file a
`APIMETRICS_WRITE_DASHBOARD=FILE swift test --filter DashboardAppTests` wrote.
Listens on 127.0.0.1 only. Standard library only.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIEW = os.path.join(ROOT, "Sources", "APIMetrics", "View")
BASE = "/_apimetrics"


# ---------------------------------------------------------------- the page

def swift_literals():
    """Every `static let NAME = #\"\"\"…\"\"\"#` in the DashboardApp files, by name,
    with Swift's indentation stripping; and the `script = a + b` order."""
    literals, order = {}, None
    for name in sorted(os.listdir(VIEW)):
        if not name.startswith("DashboardApp"):
            continue
        text = open(os.path.join(VIEW, name), encoding="utf-8").read()
        for match in re.finditer(r'static let (\w+) = #"""\n(.*?)\n([ \t]*)"""#', text, re.S):
            indent = match.group(3)
            lines = []
            for line in match.group(2).split("\n"):
                if line.strip() == "":
                    lines.append("")
                elif line.startswith(indent):
                    lines.append(line[len(indent):])
                else:
                    raise SystemExit(f"FAILED: {name}: a line of {match.group(1)} is indented less than its closing delimiter")
            literals[match.group(1)] = "\n".join(lines)
        found = re.search(r"static let script = ([\w +]+)\n", text)
        if found:
            order = [part.strip() for part in found.group(1).split("+")]
    if not order:
        raise SystemExit("FAILED: no `static let script = …` in DashboardApp.swift")
    return literals, order


def assemble_page():
    literals, order = swift_literals()
    script = "".join(literals[name] for name in order)
    return (literals["shellHead"] + "<style>" + literals["style"] + "</style>\n" + literals["shellBody"]
            + "<script>" + script + "</script>\n</body></html>\n")


def csp_for(page):
    """The policy DashboardApp.contentSecurityPolicy() states, from the page's own text."""
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    digest = lambda text: "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    return (f"default-src 'none'; script-src {digest(script)}; style-src {digest(style)}; img-src data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


# ---------------------------------------------------------------- the data

HOSTILE = '<img src=x onerror="alert(1)">'
CONSUMERS = {
    "acme": {"id": "acme", "name": "Acme Corp", "email": "ops@acme.example", "company": "Acme", "group": "customers", "metadata": {"plan": "pro", "seats": 12}},
    "globex": {"id": "globex", "name": "Globex", "email": "api@globex.example", "company": "Globex", "group": "trial", "metadata": {"plan": "free"}},
    "evil<script>": {"id": "evil<script>", "name": "<script>alert('name')</script>", "email": "x@example.com", "company": HOSTILE, "group": None, "metadata": {"<b>k</b>": "<i>v</i>"}},
}
ENDPOINTS = [("GET", "/orders/{id}"), ("POST", "/orders"), ("GET", "/users/{id}"), ("DELETE", "/orders/{id}"), ("GET", "/search/" + HOSTILE)]


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def make_calls(now_ms):
    rng = random.Random(27)
    calls = []
    for n in range(420):
        # Most calls in the last day, some over the month.
        age = rng.uniform(0, 3600e3) if n < 120 else rng.uniform(0, 86400e3) if n < 360 else rng.uniform(0, 30 * 86400e3)
        t = int(now_ms - age)
        method, route = ENDPOINTS[n % len(ENDPOINTS)]
        consumer = [None, "acme", "acme", "globex", "evil<script>"][(n // 3) % 5]
        status = 500 if n % 23 == 0 else 404 if n % 11 == 0 else 422 if (method == "POST" and n % 7 == 0) else 201 if method == "POST" else 204 if method == "DELETE" else 200
        duration = round(rng.lognormvariate(1.5, 0.8), 3)
        path = route.replace("{id}", str(1000 + n)) + ("?token=REDACTED&page=2" if n % 4 == 0 else "")
        calls.append({"id": hashlib.md5(str(n).encode()).hexdigest(), "time_ms": t, "method": method, "route": route,
                      "path": path, "status": status, "duration_ms": duration, "consumer": consumer,
                      "request_bytes": 48 if method == "POST" else 0, "response_bytes": 0 if status == 204 else 512 + n,
                      "direction": "incoming", "error": "OrderError: the <b>database</b> said no" if status == 500 else None,
                      "n": n})
    calls.sort(key=lambda c: -c["time_ms"])
    # One outgoing call made while serving the newest call.
    parent = calls[0]
    child = dict(parent, id="f" * 32, direction="outgoing", method="GET", route=None, path="/v1/charges?id=REDACTED",
                 status=200, duration_ms=1.5, time_ms=parent["time_ms"] + 1, parent=parent["id"], error=None, n=-1)
    calls.insert(0, child)
    return calls


def row(call):
    return {k: (iso(call["time_ms"]) if k == "time" else call[k]) for k in
            ["id", "time", "method", "route", "path", "status", "duration_ms", "consumer", "request_bytes", "response_bytes", "direction", "error"]}


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))], 3)


def figures(calls):
    durations = [c["duration_ms"] for c in calls]
    return {"requests": len(calls), "client_errors": sum(400 <= c["status"] < 500 for c in calls),
            "server_errors": sum(c["status"] >= 500 for c in calls),
            "p50_ms": percentile(durations, 0.5), "p95_ms": percentile(durations, 0.95), "p99_ms": percentile(durations, 0.99),
            "mean_ms": round(sum(durations) / len(durations), 3) if durations else None}


class Data:
    def __init__(self):
        self.now = int(time.time() * 1000)
        self.calls = make_calls(self.now)
        self.by_id = {c["id"]: c for c in self.calls}
        h = 3600e3
        self.runs = [{"instance": "host-a/1", "started_at": self.now - 26 * h, "last_seen": self.now - 3 * h, "version": "1.2"},
                     {"instance": "host-a/2", "started_at": self.now - 2.5 * h, "last_seen": self.now, "version": "1.3"}]

    def span(self, q):
        def when(value):
            if value.isdigit():
                return int(value)
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        rng = q.get("range", "24h")
        lengths = {"1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3}
        if rng not in lengths:
            raise BadParameter("range must be 1h, 24h, 7d or 30d", "range")
        try:
            to = when(q["to"]) if "to" in q else self.now
            start = when(q["from"]) if "from" in q else int(to - lengths[rng])
        except ValueError:
            raise BadParameter("from and to must be RFC 3339 or milliseconds", "from")
        if start >= to:
            raise BadParameter("from must be before to", "from")
        return start, int(to)

    def series(self, calls, start, end, counts_only=False):
        length = end - start
        res = 60 if length <= 2 * 3600e3 else 300 if length <= 2 * 86400e3 else 3600 if length <= 8 * 86400e3 else 21600
        buckets = {}
        for c in calls:
            buckets.setdefault(int((c["time_ms"] - start) // (res * 1000)), []).append(c)
        points = []
        for i in range(int(-(-length // (res * 1000)))):
            f = figures(buckets.get(i, []))
            point = {"t": iso(start + i * res * 1000), "requests": f["requests"], "client_errors": f["client_errors"], "server_errors": f["server_errors"],
                     "p50_ms": None if counts_only else f["p50_ms"], "p95_ms": None if counts_only else f["p95_ms"], "p99_ms": None if counts_only else f["p99_ms"]}
            points.append(point)
        return points, res

    def within(self, start, end):
        return [c for c in self.calls if start <= c["time_ms"] < end and c["direction"] == "incoming"]

    def error_groups(self, calls):
        groups = {}
        for c in calls:
            if c["status"] >= 500:
                g = groups.setdefault((c["method"], c["route"]), {"method": c["method"], "route": c["route"], "type": "OrderError",
                                      "message": "the <b>database</b> said no", "location": "Sources/Demo/Orders.swift:42", "count": 0,
                                      "first": c["time_ms"], "last": c["time_ms"], "consumers": set()})
                g["count"] += 1
                g["first"], g["last"] = min(g["first"], c["time_ms"]), max(g["last"], c["time_ms"])
                if c["consumer"]:
                    g["consumers"].add(c["consumer"])
        return [{"method": g["method"], "route": g["route"], "type": g["type"], "message": g["message"], "location": g["location"],
                 "count": g["count"], "first_seen": iso(g["first"]), "last_seen": iso(g["last"]), "consumers_affected": len(g["consumers"])}
                for g in sorted(groups.values(), key=lambda g: -g["count"])]

    def answer(self, name, q):
        if name == "pipeline":
            return {"recorded": len(self.calls), "exported": len(self.calls) - 3, "dropped": 3, "dropped_queue_full": 3, "dropped_shed": 0,
                    "failed": 0, "queued": 0, "skipped": 12, "retried": 0, "spooled": 0, "spool_pending": 0,
                    "store": {"path": "apimetrics.sqlite", "bytes": 183_500_800, "max_bytes": 1_073_741_824, "retention_days": 30,
                              "calls": len(self.calls), "oldest_call": iso(self.calls[-1]["time_ms"]), "schema_version": 1,
                              "dropped": 0, "last_error": None, "written_calls": len(self.calls)}}
        if name == "call":
            call = self.by_id.get(q.get("id", ""))
            if not re.fullmatch(r"[0-9a-f]{32}", q.get("id", "")):
                raise BadParameter("id must be 32 hex digits", "id")
            if call is None:
                raise NotFound("no such call")
            return self.call_detail(call)
        start, end = self.span(q)
        calls = self.within(start, end)
        cover = {"from": iso(start), "to": iso(end)}
        if name == "alerts":
            # None firing (the line every page shows stays hidden); one told and resolved, with markup in its text.
            told = iso(end - 600_000)
            return dict(cover, firing=[], events=[
                {"id": "0" * 32, "time": iso(end - 300_000), "rule": "errors", "state": "resolved", "value": 0.01, "threshold": 0.05,
                 "scope": "all", "instance": "", "summary": "server errors 1% of 400 calls over 1m <b>ok</b>", "firing_since": told, "repeat": False},
                {"id": "1" * 32, "time": told, "rule": "errors", "state": "firing", "value": 0.12, "threshold": 0.05,
                 "scope": "all", "instance": "", "summary": "server errors 12% of 400 calls over 1m", "firing_since": told, "repeat": False}])
        if name == "overview":
            series, res = self.series(calls, start, end)
            first = min(r["started_at"] for r in self.runs)
            gap_from, gap_to = max(start, self.runs[0]["last_seen"]), min(end, self.runs[1]["started_at"])
            gaps = [{"from": iso(gap_from), "to": iso(gap_to)}] if gap_from < gap_to else []
            covered_from = max(start, first)
            down = sum(gap_to - gap_from for _ in gaps)
            ratio = round((end - covered_from - down) / (end - covered_from), 4) if end > covered_from else None
            runs = [{"instance": r["instance"], "started_at": iso(r["started_at"]), "last_seen": iso(r["last_seen"]), "version": r["version"]}
                    for r in self.runs if r["last_seen"] >= start]
            return dict(cover, service="demo", env="dev", resolution_s=res, **figures(calls),
                        consumers=len({c["consumer"] for c in calls if c["consumer"]}), series=series,
                        uptime={"ratio": ratio, "gaps": gaps, "runs": runs})
        if name == "endpoints":
            rows = []
            for method, route in ENDPOINTS:
                mine = [c for c in calls if c["method"] == method and c["route"] == route]
                if mine:
                    rows.append(dict(method=method, route=route, **figures(mine),
                                     mean_request_bytes=sum(c["request_bytes"] for c in mine) // len(mine),
                                     mean_response_bytes=sum(c["response_bytes"] for c in mine) // len(mine)))
            return dict(cover, endpoints=sorted(rows, key=lambda r: -r["requests"]))
        if name == "endpoint":
            method, route = q.get("method"), q.get("route")
            if not method or route is None:
                raise BadParameter("method and route are needed", "route")
            mine = [c for c in calls if c["method"] == method and c["route"] == route]
            statuses = {}
            for c in mine:
                statuses[str(c["status"])] = statuses.get(str(c["status"]), 0) + 1
            edges = [0.5 * 1.5 ** i for i in range(16)]
            histogram = [{"from_ms": round(a, 3), "to_ms": round(b, 3), "count": sum(a <= c["duration_ms"] < b for c in mine)} for a, b in zip(edges, edges[1:])]
            tops = {}
            for c in mine:
                if c["consumer"]:
                    tops[c["consumer"]] = tops.get(c["consumer"], 0) + 1
            series, res = self.series(mine, start, end)
            return dict(cover, method=method, route=route, **figures(mine),
                        mean_request_bytes=0, mean_response_bytes=512, statuses=statuses, latency_histogram=histogram,
                        series=series, resolution_s=res,
                        top_consumers=[{"consumer": k, "name": CONSUMERS[k]["name"], "calls": v} for k, v in sorted(tops.items(), key=lambda kv: -kv[1])],
                        errors=self.error_groups(mine), recent=[row(c) for c in mine[:20]])
        if name == "consumers":
            rows = []
            for cid, profile in CONSUMERS.items():
                mine = [c for c in calls if c["consumer"] == cid]
                if mine:
                    f = figures(mine)
                    rows.append({"id": cid, "name": profile["name"], "requests": f["requests"], "client_errors": f["client_errors"],
                                 "server_errors": f["server_errors"], "first_seen": iso(mine[-1]["time_ms"]), "last_seen": iso(mine[0]["time_ms"])})
            return dict(cover, anonymous=sum(c["consumer"] is None for c in calls), excluded=0, unattributed=0, consumers=sorted(rows, key=lambda r: -r["requests"]))
        if name == "consumer":
            cid = q.get("id", "")
            if cid not in CONSUMERS:
                raise NotFound("no such consumer")
            mine = [c for c in calls if c["consumer"] == cid]
            f = figures(mine)
            used = {}
            for c in mine:
                used[(c["method"], c["route"])] = used.get((c["method"], c["route"]), 0) + 1
            series, res = self.series(mine, start, end, counts_only=True)
            return dict(cover, **CONSUMERS[cid], requests=f["requests"], client_errors=f["client_errors"], server_errors=f["server_errors"],
                        first_seen=iso(mine[-1]["time_ms"]) if mine else None, last_seen=iso(mine[0]["time_ms"]) if mine else None,
                        series=series, resolution_s=res,
                        endpoints=[{"method": m, "route": r, "calls": n} for (m, r), n in sorted(used.items(), key=lambda kv: -kv[1])],
                        recent=[row(c) for c in mine[:20]])
        if name == "calls":
            selected = [c for c in self.calls if start <= c["time_ms"] < end]
            if q.get("method"):
                selected = [c for c in selected if c["method"] == q["method"]]
            if q.get("route"):
                selected = [c for c in selected if c["route"] == q["route"]]
            if q.get("status"):
                s = q["status"].lower()
                if re.fullmatch(r"[1-5]xx", s):
                    selected = [c for c in selected if c["status"] // 100 == int(s[0])]
                elif s.isdigit():
                    selected = [c for c in selected if c["status"] == int(s)]
                else:
                    raise BadParameter("status must be a code such as 404 or a class such as 5xx", "status")
            if q.get("consumer"):
                selected = [c for c in selected if c["consumer"] == q["consumer"]]
            if q.get("min_ms"):
                try:
                    least = float(q["min_ms"])
                except ValueError:
                    raise BadParameter("min_ms must be a number", "min_ms")
                selected = [c for c in selected if c["duration_ms"] >= least]
            if q.get("path"):
                selected = [c for c in selected if q["path"] in c["path"]]
            offset = int(q["cursor"]) if q.get("cursor", "").isdigit() else 0
            limit = int(q.get("limit", "50"))
            page = selected[offset:offset + limit]
            more = offset + limit < len(selected)
            return dict(cover, calls=[row(c) for c in page], next_cursor=str(offset + limit) if more else None)
        if name == "errors":
            validation = {}
            for c in calls:
                if c["status"] == 422:
                    g = validation.setdefault((c["method"], c["route"]), {"method": c["method"], "route": c["route"], "field": "$.quantity",
                                              "type": "minimum", "message": "must be at least 1, got -2 <script>", "count": 0,
                                              "first_seen": iso(c["time_ms"]), "last_seen": iso(c["time_ms"])})
                    g["count"] += 1
                    g["first_seen"] = iso(c["time_ms"])
            return dict(cover, server_errors=self.error_groups(calls), validation_errors=list(validation.values()))
        raise NotFound("no such endpoint")

    def call_detail(self, call):
        json_body = json.dumps({"item": "widget", "quantity": 2, "password": "[REDACTED]", "note": "it's <script>alert(1)</script>"})
        request = {"http_version": "1.1", "headers": [["host", "api.example.com"], ["content-type", "application/json"],
                                                      ["authorization", "REDACTED"], ["x-api-key", "[REDACTED]"],
                                                      ["x-note", "it's <b>bold</b> \"quoted\""], ["accept-encoding", "gzip"]],
                   "body": None}
        if call["method"] == "POST":
            request["body"] = {"size": len(json_body), "truncated": False, "content_type": "application/json", "encoding": "utf8",
                               "text": json_body, "decoded_from": None}
        response_body = ({"size": 6, "truncated": False, "content_type": "application/octet-stream", "encoding": "base64",
                          "text": base64.b64encode(b"\x00\x01<b>\xff").decode(), "decoded_from": None} if call["n"] % 3 == 1 else
                         {"size": 61, "truncated": call["n"] % 3 == 2, "content_type": "application/json", "encoding": "utf8",
                          "text": json.dumps({"id": call["n"], "html": HOSTILE, "items": [1, 2, 3]}), "decoded_from": "gzip"})
        detail = dict(row(call), url="https://api.example.com" + call["path"], trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
                      span_id="00f067aa0ba902b7", parent_id=None, client_address="203.0.113.7",
                      consumer=({k: CONSUMERS[call["consumer"]][k] for k in ("id", "name", "email", "company")} if call["consumer"] else None),
                      request=request,
                      response={"headers": [["content-type", "application/json"], ["set-cookie", "REDACTED"]], "body": response_body},
                      errors=[{"type": "OrderError", "message": "the <b>database</b> said no", "location": "Orders.swift:42",
                               "causes": [{"type": "SQLError", "message": "locked", "location": None, "causes": []}]}] if call["status"] >= 500 else [],
                      validation_errors=[{"field": "$.quantity", "type": "minimum", "message": "must be at least 1"}] if call["status"] == 422 else [],
                      parent=row(self.by_id[call["parent"]]) if call.get("parent") else None,
                      children=[row(c) for c in self.calls if c.get("parent") == call["id"]])
        return detail


class BadParameter(Exception):
    def __init__(self, reason, field):
        super().__init__(reason)
        self.field = field


class NotFound(Exception):
    pass


# Every field of every answer in a wrong shape or type, for --junk: the page
# must show what it can and never throw.
JUNK_ROW = {"id": "<b>x</b>", "method": {"a": 1}, "route": ["<i>"], "path": 5, "status": "5xx", "duration_ms": "slow",
            "consumer": ["acme"], "requests": "12", "client_errors": None, "server_errors": -1, "p50_ms": float("1e308"),
            "time": 12, "first_seen": "not a time", "count": {}, "name": HOSTILE, "calls": [1]}
JUNK = {"from": 5, "to": {}, "service": ["<b>"], "env": None, "resolution_s": "x", "requests": "12", "p99_ms": "fast",
        "consumers": [None, 1, "x", JUNK_ROW], "endpoints": [None, 1, "x", JUNK_ROW], "calls": [None, JUNK_ROW], "recent": "none",
        "series": [None, 5, {"t": 5, "requests": "a", "p50_ms": "b"}, {"t": "2026-12-06T15:00:00Z", "requests": 1e6, "p99_ms": -4}],
        "uptime": {"ratio": "all", "gaps": [{"from": "x"}, None, {"from": "2026-12-06T15:00:00Z", "to": "2026-12-06T14:00:00Z"}], "runs": "no"},
        "statuses": [1, 2], "latency_histogram": [None, {"from_ms": "a", "count": 3}, {"count": -5}], "top_consumers": {"a": 1},
        "errors": [JUNK_ROW], "server_errors": [JUNK_ROW, None], "validation_errors": "x", "metadata": [1, 2], "anonymous": "many",
        "next_cursor": 5, "request": {"headers": [["a"], "b", None, [1, {}]], "body": {"size": "x", "encoding": "base64", "text": None}},
        "response": [], "parent": "x", "children": {"a": 1}, "store": [1], "dropped": "lots", "url": {"x": 1}}


# ---------------------------------------------------------------- the server

SECURITY = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]


def make_server(port=0, page=None, token=None, no_store=False, junk=False):
    page = page if page is not None else assemble_page()
    csp = csp_for(page)
    data = Data()
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body, content_type, extra=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            for name, value in list(SECURITY) + list(extra):
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def send_json(self, status, value):
            self.send(status, json.dumps(value).encode(), "application/json")

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            seen.append((self.path, self.headers.get("Authorization")))
            if token is not None:
                offered = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or q.get("token")
                if offered != token:
                    return self.send(401, b"a bearer token is needed\n", "text/plain; charset=utf-8", [("WWW-Authenticate", 'Bearer realm="apimetrics"')])
            if url.path in (BASE, BASE + "/"):
                return self.send(200, page.encode(), "text/html; charset=utf-8")
            if url.path.startswith(BASE + "/api/v1/"):
                if no_store:
                    return self.send_json(503, {"error": "no store: APIMETRICS_STORE is off"})
                if junk:
                    return self.send(200, json.dumps(JUNK).replace("1e+308", "1e308").encode(), "application/json")
                try:
                    return self.send_json(200, data.answer(url.path[len(BASE + "/api/v1/"):], q))
                except BadParameter as error:
                    return self.send_json(400, {"error": str(error), "field": error.field})
                except NotFound as error:
                    return self.send_json(404, {"error": str(error)})
            self.send(404, b"not found\n", "text/plain; charset=utf-8")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.seen = seen
    server.data = data
    server.csp = csp
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--page", help="the page as DashboardAppTests wrote it")
    parser.add_argument("--token")
    parser.add_argument("--no-store", action="store_true")
    parser.add_argument("--junk", action="store_true", help="answer every API request with fields of the wrong shape")
    args = parser.parse_args()
    page = open(args.page, encoding="utf-8").read() if args.page else None
    server = make_server(args.port, page, args.token, args.no_store, args.junk)
    print(f"http://127.0.0.1:{server.server_address[1]}{BASE}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
