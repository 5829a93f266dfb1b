"""Starts the demo for an end-to-end check and sends it requests: shared by
otlp_demo_check.py and vendor_check.py."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def start_demo(demo, env, work, name, tool):
    """Starts DEMO on a port of its own with ENV over the process's
    environment (its APIMETRICS_ and OTEL_ variables left out), in WORK;
    returns (process, port, out, err), out and err being the open files
    its standard output and error go to. Exits naming TOOL when it does
    not start."""
    out = open(os.path.join(work, f"{name}.out"), "w+")
    err = open(os.path.join(work, f"{name}.err"), "w+")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("APIMETRICS_", "OTEL_"))}
    full_env.update(env)
    process = subprocess.Popen([demo, "--port", "0"], stdout=out, stderr=err, env=full_env, cwd=work)
    deadline = time.time() + 30
    while time.time() < deadline:
        out.seek(0)
        text = out.read()
        if "listening on http://" in text:
            return process, int(text.split("listening on http://")[1].split()[0].rsplit(":", 1)[1]), out, err
        if process.poll() is not None:
            err.seek(0)
            sys.exit(f"{tool}: demo exited early: {err.read()}")
        time.sleep(0.05)
    sys.exit(f"{tool}: demo did not start")


def call(port, method, path, headers=None, body=None):
    """One request to the demo; its status."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def exchange_raw(port, request, timeout=10, source="127.0.0.1"):
    """Sends REQUEST (bytes) to 127.0.0.1:PORT on a new connection from
    SOURCE (another loopback address, such as 127.0.0.2, is another peer)
    and returns every byte the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as sock:
        sock.settimeout(timeout)
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def rss_kib(pid):
    """The resident set of process PID, in KiB (0 when unknown)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
