"""The first hour, as a new user lives it: a fresh package outside the
repository (in a folder named unlike `apimetrics`), whose Package.swift and
main.swift are the README's and the manual's blocks for a framework verbatim (the package's
paths pointed at this checkout), built, run, called, and stopped with SIGTERM.

Checks: the APIMetrics glue is at most 10 lines; routes are templates;
consumers come from a JWT, an API key and an opaque bearer token (never the
token itself); a 422 and a thrown error are recorded; the dashboard and
/metrics answer and nothing is recorded for the view's own paths; SIGTERM
exits 0 and the last heartbeat's totals equal the calls sent.

usage: first_hour_check.py FRAMEWORK [SCRATCH_PATH]
"""
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
FRAMEWORK = sys.argv[1]
SCRATCH = sys.argv[2] if len(sys.argv) > 2 else None


def log(message):
    print(f"first_hour_check[{FRAMEWORK}]: {message}", flush=True)


def fail(message):
    log(f"FAILED: {message}")
    sys.exit(1)


def block(name):
    """The block marked `<!-- first-hour NAME -->`: in the README (the
    programs) or the manual's Frameworks article (the package manifests)."""
    pattern = r"<!-- first-hour " + re.escape(name) + r" -->\n```\w*\n(.*?)```"
    for page in [ROOT / "README.md", ROOT / "Sources/APIMetrics/APIMetrics.docc/Frameworks.md"]:
        found = re.search(pattern, page.read_text(), re.S)
        if found:
            return found.group(1)
    fail(f"neither the README nor the Frameworks article has a block marked <!-- first-hour {name} -->")


def glue_lines(source):
    """Lines of APIMetrics glue: those naming it, and the rest of a statement one of them opens."""
    count, depth = 0, 0
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if depth > 0 or re.search(r"metrics", stripped, re.I):
            count += 1
            depth += stripped.count("(") - stripped.count(")")
            depth = max(depth, 0)
    return count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(port, method, path, headers=None, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="apimetrics-first-hour-"))
    os.chmod(work, 0o700)
    package = work / "users-server"
    (package / "Sources" / "UsersServer").mkdir(parents=True)
    manifest = block(f"{FRAMEWORK}-package").replace("../apimetrics", str(ROOT))
    (package / "Package.swift").write_text(manifest)
    source = block(f"{FRAMEWORK}-main")
    (package / "Sources" / "UsersServer" / "main.swift").write_text(source)
    glue = glue_lines(source)
    if glue > 10:
        fail(f"the README's {FRAMEWORK} setup has {glue} lines of glue, more than 10")
    log(f"a fresh package in {package}: the README's Package.swift and main.swift, {glue} lines of APIMetrics glue")
    where = ["--package-path", str(package)] + (["--scratch-path", SCRATCH] if SCRATCH else [])
    build = ["swift", "build", *where, "--product", "UsersServer"]
    started = time.time()
    built = subprocess.run(build, capture_output=True, text=True)
    if built.returncode != 0:
        fail(f"swift build: {built.stdout[-3000:]}{built.stderr[-3000:]}")
    binary = subprocess.run(["swift", "build", *where, "--show-bin-path"], capture_output=True, text=True).stdout.strip() + "/UsersServer"
    log(f"built in {time.time() - started:.0f} s")

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIMETRICS_")}
    env.update({"PORT": str(port), "APIMETRICS_STORE": "off", "APIMETRICS_FILE": str(work / "events.ndjson")})
    out = open(work / "server.out", "w+")
    err = open(work / "server.err", "w+")
    process = subprocess.Popen([binary], cwd=work, env=env, stdout=out, stderr=err)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    err.seek(0)
                    fail(f"the server exited: {err.read()[-2000:]}")
                time.sleep(0.2)
        else:
            fail("the server did not listen")
        def jwt(sub):
            part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
            return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': sub, 'name': 'Ada Lovelace'})}.sig"
        opaque = "opaque-token-5b2c9f1e7d3a"
        sent = [
            ("GET", "/users/7", {"Authorization": f"Bearer {jwt('ada')}"}, None, 200),
            ("GET", "/users/8", {"X-API-Key": "key-grace-0123456789"}, None, 200),
            ("GET", "/users/9", {"Authorization": f"Bearer {opaque}"}, None, 200),
            ("POST", "/users", {"Content-Type": "application/json"}, b'{"name":""}', 422),
            ("GET", "/fail", {}, None, 500),
        ]
        for method, path, headers, body, expected in sent:
            status, _ = call(port, method, path, headers, body)
            if status != expected:
                fail(f"{method} {path} answered {status}, expected {expected}")
        for path in ["/_apimetrics", "/_apimetrics/api", "/metrics"]:
            status, body = call(port, "GET", path)
            if status != 200:
                fail(f"the view's {path} answered {status}: {body[:200]!r}")
        status, text = call(port, "GET", "/metrics")
        text = text.decode()
        if 'route="/users/{id}"' not in text or "_apimetrics" in text.split("# HELP apimetrics")[0] or 'route="/metrics"' in text:
            fail(f"/metrics: {text[:1500]}")
        log("routes, consumers, a 422 and a thrown error sent; the dashboard, its API and /metrics answer, and /metrics holds no call of the view's")
        time.sleep(1.5)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            fail("SIGTERM did not stop the server within 30 s")
    err.seek(0)
    said = err.read()
    if code != 0:
        fail(f"exit {code} after SIGTERM: {said[-2000:]}")
    if "apimetrics info: recording users-api" not in said:
        fail(f"no start line on standard error: {said[-1000:]}")
    lines = [json.loads(line) for line in open(work / "events.ndjson") if line.strip()]
    calls = [line for line in lines if "request" in line]
    if len(calls) != len(sent):
        fail(f"{len(calls)} calls recorded, {len(sent)} sent: {[c['request'].get('path') for c in calls]}")
    by_path = {c["request"]["path"]: c for c in calls}
    if by_path["/users/7"]["request"].get("route") != "/users/{id}":
        fail(f"the route is {by_path['/users/7']['request'].get('route')}")
    if (by_path["/users/7"].get("consumer") or {}).get("id") != "ada":
        fail(f"the JWT's consumer: {by_path['/users/7'].get('consumer')}")
    for path, what in [("/users/8", "the API key"), ("/users/9", "the opaque token")]:
        consumer = by_path[path].get("consumer") or {}
        if not str(consumer.get("id", "")).startswith("sha256:"):
            fail(f"{what}'s consumer: {consumer}")
    raw = (work / "events.ndjson").read_text()
    if opaque in raw or "key-grace-0123456789" in raw:
        fail("a token or key is in the events")
    if by_path["/users"]["response"]["status"] != 422:
        fail("the 422 was not recorded")
    failed = by_path["/fail"]
    error = failed.get("error") or {}
    if failed["response"]["status"] != 500 or error.get("type") != "Broken" or "location" in error:
        fail(f"the thrown error (recorded with no location, the middleware's line being no help): {failed.get('response')} {error}")
    heartbeat = lines[-1]
    if heartbeat.get("kind") != "heartbeat":
        fail(f"the last line is {heartbeat.get('kind')}, not the final heartbeat")
    pipeline = heartbeat["pipeline"]
    if pipeline["recorded"] != len(sent) or pipeline["exported"] != len(sent):
        fail(f"the final heartbeat says recorded {pipeline['recorded']}, exported {pipeline['exported']}; {len(sent)} were sent")
    log(f"SIGTERM: exit 0; {len(sent)} calls recorded and exported, the view's calls not among them; consumers from a JWT, "
        "an API key and an opaque token (hashed); the final heartbeat is the last line with the final totals")
    shutil.rmtree(work, ignore_errors=True)


main()
