#!/usr/bin/env python3
"""Checks events against schema version 1 (see README, "Event schema").

usage: validate_events.py EXPECTED_JSON EVENTS...
EVENTS are NDJSON files of events, or (with --batches) NDJSON files of HTTP
batches whose events are checked. EXPECTED_JSON lists the requests sent, one
object each: method, url, route, status, request_size, response_size,
consumer (or null). Every expected request must appear exactly once.
"""
import json
import re
import sys
from collections import Counter

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ID = re.compile(r"^[0-9a-f]{32}$")


METRICS_KINDS = {"startup", "metrics", "heartbeat"}


def fail(message):
    print(f"validate_events: {message}", file=sys.stderr)
    sys.exit(1)


def check_schema(event):
    required = {"v": int, "id": str, "ts": str, "direction": str, "service": str,
                "env": str, "request": dict, "duration_ms": (int, float)}
    for key, kind in required.items():
        if not isinstance(event.get(key), kind):
            fail(f"event {event.get('id')} lacks {key} of the right type: {event}")
    if event["v"] != 1 or not ID.match(event["id"]) or not TS.match(event["ts"]):
        fail(f"bad v/id/ts: {event}")
    if event["direction"] not in ("incoming", "outgoing") or event["duration_ms"] < 0:
        fail(f"bad direction or duration: {event}")
    for value in event.values():
        if value is None:
            fail(f"null value (absent values are omitted): {event}")
    request = event["request"]
    for key in ("method", "url", "path"):
        if not isinstance(request.get(key), str):
            fail(f"request.{key} missing: {event}")
    if not isinstance(request.get("size"), int):
        fail(f"request.size missing: {event}")
    response = event.get("response")
    if response is not None and (not isinstance(response.get("status"), int) or not isinstance(response.get("size"), int)):
        fail(f"bad response: {event}")


def main():
    args = sys.argv[1:]
    batches = "--batches" in args
    args = [a for a in args if a != "--batches"]
    expected = json.load(open(args[0]))
    events = []
    dropped = 0
    for path in args[1:]:
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            document = json.loads(line)
            if batches:
                if document.get("v") != 1 or not isinstance(document.get("events"), list):
                    fail(f"bad batch envelope: {line[:200]}")
                dropped += document.get("dropped", 0)
                events.extend(document["events"])
            elif document.get("kind") in METRICS_KINDS:
                # The metrics records (windows, heartbeats, the startup
                # record) share the file; they are checked elsewhere.
                continue
            else:
                events.append(document)
    for event in events:
        check_schema(event)
    ids = Counter(event["id"] for event in events)
    duplicates = [i for i, n in ids.items() if n > 1]
    if duplicates:
        fail(f"{len(duplicates)} events arrived more than once")
    if len(events) != len(expected):
        fail(f"expected {len(expected)} events, found {len(events)}")

    def key(method, url, consumer):
        return (method, url, consumer)

    wanted = Counter(key(e["method"], e["url"], e["consumer"]) for e in expected)
    found = Counter(key(e["request"]["method"], e["request"]["url"], (e.get("consumer") or {}).get("id")) for e in events)
    if wanted != found:
        fail(f"events differ from the requests sent: missing {wanted - found}, unexpected {found - wanted}")
    by_key = {}
    for e in expected:
        by_key[key(e["method"], e["url"], e["consumer"])] = e
    for event in events:
        e = by_key[key(event["request"]["method"], event["request"]["url"], (event.get("consumer") or {}).get("id"))]
        if event["request"].get("route") != e["route"]:
            fail(f"route {event['request'].get('route')} != {e['route']} for {e['url']}")
        if event["response"]["status"] != e["status"]:
            fail(f"status {event['response']['status']} != {e['status']} for {e['method']} {e['url']}")
        if event["request"]["size"] != e["request_size"]:
            fail(f"request size {event['request']['size']} != {e['request_size']} for {e['url']}")
        if e["response_size"] is not None and event["response"]["size"] != e["response_size"]:
            fail(f"response size {event['response']['size']} != {e['response_size']} for {e['url']}")
    print(f"validate_events: {len(events)} events, all schema v1, each request exactly once"
          + (f", {dropped} reported dropped" if batches else ""))


main()
