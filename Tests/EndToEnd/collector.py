#!/usr/bin/env python3
"""A test collector for the end-to-end checks: accepts APIMetrics HTTP batches
on 127.0.0.1 and appends each accepted batch, as one JSON line, to a file.

usage: collector.py PORT_FILE BATCHES_FILE [--fail-first N] [--hang] [--port N] [--discard]

--fail-first N  answers 503 to the first N batches, then 200.
--hang          holds every batch without answering until GET /release,
                then answers 503 to those held and 200 to later ones.
--port N        listens on N instead of a port of its own choosing.
--discard       answers 200 to every batch without reading it as JSON or
                storing it (the load test: the collector's CPU stays small).
"""
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, batches_file = sys.argv[1], sys.argv[2]
fail_first = int(sys.argv[sys.argv.index("--fail-first") + 1]) if "--fail-first" in sys.argv else 0
hang = "--hang" in sys.argv
discard = "--discard" in sys.argv
released = threading.Event()
lock = threading.Lock()
state = {"posts": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body of an answer go out in two writes: with Nagle's
    # algorithm the body waits for the client's delayed ACK, 40 ms a batch.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body=b'{"ok":true}'):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/release":
            released.set()
        self.reply(200)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if discard:
            self.reply(200)
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with lock:
            state["posts"] += 1
            number = state["posts"]
        if hang and not released.is_set():
            released.wait()
            self.reply(503)
            return
        if number <= fail_first:
            self.reply(503)
            return
        batch = json.loads(body)
        with lock:
            with open(batches_file, "a") as out:
                out.write(json.dumps(batch) + "\n")
        self.reply(200)


listen_port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", listen_port), Handler)
server.daemon_threads = True
with open(port_file, "w") as out:
    out.write(str(server.server_address[1]))
server.serve_forever()
