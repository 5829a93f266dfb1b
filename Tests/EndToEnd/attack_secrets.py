#!/usr/bin/env python3
"""Secrets past redaction (issue 25, finding 5), tried against the demo.

    python3 attack_secrets.py DEMO_BINARY

Starts the demo with body capture on for every type (APIMETRICS_LOG_BODY,
APIMETRICS_LOG_BODY_TYPES=all) and APIMETRICS_DEBUG, its event file in a
temporary directory; sends every secret of the finding, each a unique random
value, in headers, queries, URL forms, JSON, forms, NDJSON, XML, GraphQL,
CSV, multipart and text, gzip'd, deflated, under a transfer coding, in
UTF-16 and UTF-32; stops the demo with
SIGTERM; and fails if any value appears in the event file (bodies stored as
base64 are decoded, inflated and read as UTF-16/32 too) or on stderr. A gzip
bomb and a body coded `br` must be the marker. About 110 requests, 127.0.0.1
only, bounded at 60 s.
"""
import base64
import codecs
import http.client
import json
import os
import random
import secrets
import signal
import socket
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import start_demo  # noqa: E402

MARKER = "[REDACTED: body could not be parsed]"
DEADLINE = time.time() + 60


def fail(reason):
    print(f"FAILED: {reason}")
    sys.exit(1)


def secret():
    return "S" + secrets.token_hex(10)


def card():
    """A random 16-digit number passing the Luhn check."""
    digits = [4] + [random.randrange(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


SECRETS = []
SENT = []


def new(value=None):
    value = value or secret()
    SECRETS.append(value)
    return value


def send(port, method, target, headers=None, body=None):
    if time.time() > DEADLINE:
        fail("the attack ran past 60 s")
    SENT.append(target)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for name, value in headers or []:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        connection.getresponse().read()
    finally:
        connection.close()


def send_chunked(port, target, headers, body):
    """A request framed by hand: `Transfer-Encoding` as given (ending in
    chunked), the body in two chunks."""
    if time.time() > DEADLINE:
        fail("the attack ran past 60 s")
    SENT.append(target)
    head = f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in (body[:half], body[half:]) if piece)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode() + chunks + b"0\r\n\r\n")
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            data = connection.recv(65536)
            if not data:
                break
            received += data
    if not received.startswith(b"HTTP/1.1 "):
        fail(f"{target}: no answer to a chunked request")


def multipart(boundary, parts):
    body = b""
    for headers, content in parts:
        body += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def attack(port):
    for name in ["X-Api_Key", "Private-Key", "X-Access-Key", "X-Passwd", "X-Pwd", "X-Api-Pass", "X-Client-Key",
                 "X-Credentials", "X-Signature", "X-Hub-Signature-256", "X-Amz-Credential", "Ocp-Apim-Subscription-Key",
                 "Authorization", "Cookie", "X-API-Key", "X-Auth-Token"]:
        send(port, "GET", f"/attack/header/{name}", [(name, new())])
    for name in ["accessToken", "refreshToken", "clientSecret", "newPassword", "auth_token", "pw", "key", "sig",
                 "signature", "code", "session_id", "jsessionid", "sessionid", "password[]", "user[password]",
                 "X-Amz-Security-Token", "X-Amz-Signature", "AWSAccessKeyId", "X-Goog-Signature"]:
        send(port, "GET", f"/attack/query?page=1&{name}={new()}&sort=asc")
    send(port, "GET", f"/attack/query?card={new(card())}")
    # URL forms.
    send(port, "GET", f"/attack/url?x=1;password={new()}")
    send(port, "GET", f"/attack/url#access_token={new()}")
    send(port, "GET", f"/attack/url;jsessionid={new()}/next")
    send(port, "GET", f"http://ann:{new()}@127.0.0.1:{port}/attack/url/absolute")
    send(port, "GET", "/attack/url/referer", [("Referer", f"http://127.0.0.1/login?token={new()}")])
    send(port, "GET", "/attack/url/original", [("X-Original-URL", f"/admin?api_key={new()}")])
    send(port, "GET", "/attack/url/rewrite", [("X-Rewrite-URL", f"/a;jsessionid={new()}")])
    send(port, "GET", "/attack/url/original-uri", [("X-Original-URI", f"/a?token={new()}"),
                                                   ("X-Forwarded-Uri", f"/b?x=1&api_key={new()}"),
                                                   ("X-Envoy-Original-Path", f"/c;jsessionid={new()}")])
    # Run-together key names.
    for name in ["X-Functions-Key", "X-Application-Key", "X-ClientKey", "AppKey"]:
        send(port, "GET", f"/attack/header/{name}", [(name, new())])
    for name in ["clientkey", "appkey", "authkey", "sessionkey", "subscriptionkey", "masterkey"]:
        send(port, "GET", f"/attack/query?{name}={new()}&page=1")
    # JSON fields.
    for name in ["newPassword", "new_password", "currentPassword", "oldPassword", "password_confirmation", "accessToken",
                 "refreshToken", "clientSecret", "privateKey", "pin", "otp", "cvv2", "security_code", "passphrase",
                 "mfa_code", "passwordHash", "secretAnswer"]:
        body = json.dumps({"user": "ann", "outer": {name: new()}}).encode()
        send(port, "POST", f"/attack/json/{name}", [("Content-Type", "application/json")], body)
    send(port, "POST", "/attack/json/card", [("Content-Type", "application/json")],
         json.dumps({"card": {"number": new(card())}, "pan": new(card()), "n": int(new(card()))}).encode())
    send(port, "POST", "/attack/json/padded-card", [("Content-Type", "application/json")],
         json.dumps({"a": " " + new(card()) + " ", "b": "  " + " ".join(new(card())[i:i + 4] for i in (0, 4, 8, 12))}).encode())
    # Forms.
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    send(port, "POST", "/attack/form/brackets", form, f"user=ann&user[password]={new()}".encode())
    send(port, "POST", "/attack/form/semicolons", form, f"user=ann;password={new()};x=1".encode())
    send(port, "POST", "/attack/form/card", form, f"user=ann&number={new(card())}".encode())

    def login():
        return json.dumps({"user": "ann", "password": new(), "accessToken": new()})

    # Codings and Unicode forms.
    send(port, "POST", "/attack/gzip", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
         gzip_bytes(login().encode()))
    send(port, "POST", "/attack/deflate", [("Content-Type", "application/json"), ("Content-Encoding", "deflate")],
         zlib.compress(login().encode()))
    raw = zlib.compressobj(wbits=-15)
    send(port, "POST", "/attack/deflate/raw", [("Content-Type", "application/json"), ("Content-Encoding", "deflate")],
         raw.compress(login().encode()) + raw.flush())
    for encoding, bom in [("utf-16-le", b""), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", b""),
                          ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", b""), ("utf-32-be", codecs.BOM_UTF32_BE)]:
        send(port, "POST", f"/attack/unicode/{encoding}/{len(bom)}", [("Content-Type", "application/json")],
             bom + login().encode(encoding))
    # UTF-16 without a byte order mark, holding something other than JSON.
    send(port, "POST", "/attack/unicode/form", [("Content-Type", "application/x-www-form-urlencoded")],
         f"user=ann&password={new()}".encode("utf-16-le"))
    send(port, "POST", "/attack/unicode/soap", [("Content-Type", "application/soap+xml")],
         f"<Envelope><Password>{new()}</Password></Envelope>".encode("utf-16-be"))
    # A transfer coding other than chunked: the capture undoes the chunking only.
    send_chunked(port, "/attack/transfer/gzip", [("Content-Type", "application/json"), ("Transfer-Encoding", "gzip, chunked")],
                 gzip_bytes(login().encode()))
    send_chunked(port, "/attack/transfer/both", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip"),
                                                  ("Transfer-Encoding", "gzip, chunked")],
                 gzip_bytes(gzip_bytes(f"password={new()}&x=1".encode())))
    # Multipart.
    boundary = b"----attack" + secrets.token_hex(6).encode()
    send(port, "POST", "/attack/multipart", [("Content-Type", "multipart/form-data; boundary=" + boundary.decode())],
         multipart(boundary, [
             (b'Content-Disposition: form-data; name="user"', b"ann"),
             (b'Content-Disposition: form-data; name="password"', new().encode()),
             (b'Content-Disposition: form-data; name="user[password]"', new().encode()),
             (b"Content-Disposition: form-data; name*=UTF-8''pass%77ord", new().encode()),
             (b'Content-Disposition: form-data; name="meta"\r\nContent-Type: application/json', login().encode()),
             (b'Content-Disposition: form-data; name="note"; filename="n.txt"', f"api_key={new()}".encode()),
         ]))
    send(port, "POST", "/attack/multipart/unsplittable", [("Content-Type", "multipart/form-data; boundary=nothere")],
         multipart(boundary, [(b'Content-Disposition: form-data; name="password"', new().encode())]))
    # XML namespaces and CDATA.
    send(port, "POST", "/attack/xml/namespaces", [("Content-Type", "text/xml")],
         f'<wsse:Security><wsse:UsernameToken><wsse:Username>ann</wsse:Username><wsse:Password Type="t">{new()}'
         f'</wsse:Password></wsse:UsernameToken></wsse:Security>'.encode())
    send(port, "POST", "/attack/xml/cdata", [("Content-Type", "application/xml")],
         f"<login><password><![CDATA[{new()}]]></password><ns:token>\n<![CDATA[{new()}]]>\n</ns:token></login>".encode())
    # Declared types that are not what the body is, and types with no structure.
    send(port, "POST", "/attack/textplain", [("Content-Type", "text/plain")], login().encode())
    send(port, "POST", "/attack/ndjson", [("Content-Type", "application/x-ndjson")],
         (login() + "\n" + login() + "\n").encode())
    send(port, "POST", "/attack/twotypes", [("Content-Type", "text/plain"), ("Content-Type", "application/json")],
         login().encode())
    send(port, "POST", "/attack/xml", [("Content-Type", "application/xml")],
         f"<login><user>ann</user><password>{new()}</password><token kind='a'>{new()}</token></login>".encode())
    send(port, "POST", "/attack/soap", [("Content-Type", "application/soap+xml")],
         f'<Auth ApiKey="{new()}" user="ann"/>'.encode())
    send(port, "POST", "/attack/graphql", [("Content-Type", "application/graphql")],
         f'mutation {{ login(user: "ann", password: "{new()}") {{ token }} }}'.encode())
    send(port, "POST", "/attack/csv", [("Content-Type", "text/csv")],
         f"user,password,note\nann,{new()},hi\nbob,{new()},x\n".encode())
    send(port, "POST", "/attack/text", [("Content-Type", "text/plain")],
         f"client_secret: {new()}\napi_key={new()}\ncard {new(card())}\n".encode())
    # Unreadable bodies: the marker.
    bomb = b'{"a":"' + b"0" * (8 * 1024 * 1024) + b'","password":"' + new().encode() + b'"}'
    send(port, "POST", "/attack/bomb", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
         gzip_bytes(bomb))
    send(port, "POST", "/attack/br", [("Content-Type", "application/json"), ("Content-Encoding", "br")], login().encode())
    send(port, "POST", "/attack/stacked", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip, gzip, gzip")],
         gzip_bytes(gzip_bytes(gzip_bytes(login().encode()))))


def gzip_bytes(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def readings(text):
    """Every way a stored body could hold a secret: as written, and for
    base64, its bytes inflated and read as UTF-16/32."""
    found = [text]
    try:
        data = base64.b64decode(text, validate=True)
    except Exception:
        return found
    candidates = [data]
    for wbits in (31, 15, -15):
        try:
            candidates.append(zlib.decompressobj(wbits).decompress(data, 64 * 1024 * 1024))
        except Exception:
            pass
    for candidate in candidates:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "latin-1"):
            try:
                found.append(candidate.decode(encoding))
            except Exception:
                pass
    return found


def main():
    if len(sys.argv) != 2:
        fail("usage: attack_secrets.py DEMO_BINARY")
    demo = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="apimetrics-attack-secrets-")
    events_path = os.path.join(work, "events.ndjson")
    env = {"APIMETRICS_FILE": events_path, "APIMETRICS_LOG_BODY": "true", "APIMETRICS_LOG_BODY_TYPES": "all",
           "APIMETRICS_DEBUG": "true", "APIMETRICS_FLUSH_INTERVAL_MS": "100"}
    process, port, out, err = start_demo(demo, env, work, "demo", "attack_secrets")
    try:
        attack(port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except Exception:
            process.kill()
            fail("demo did not stop within 30 s of SIGTERM")
    err.seek(0)
    stderr = err.read()
    out.seek(0)
    stdout = out.read()
    if not os.path.exists(events_path):
        fail("no event file")
    with open(events_path, encoding="utf-8") as handle:
        lines = [line for line in handle.read().split("\n") if line.strip()]
    events = [json.loads(line) for line in lines]
    attacks = [event for event in events if event.get("request", {}).get("path", "").startswith("/attack")
               or "/attack" in event.get("request", {}).get("url", "")]
    if len(attacks) != len(SENT):
        fail(f"{len(attacks)} attack events in the file for {len(SENT)} requests")
    texts = ["\n".join(lines), stderr, stdout]
    for event in events:
        for part in ("request", "response"):
            body = event.get(part, {}).get("body")
            if isinstance(body, str):
                texts.extend(readings(body))
    for value in SECRETS:
        for text in texts:
            if value in text:
                fail(f"secret {value} reached the event file or stderr")

    def body_of(path):
        for event in attacks:
            if event["request"].get("path") == path:
                return event["request"].get("body")
        fail(f"no event for {path}")

    for path in ("/attack/bomb", "/attack/br", "/attack/stacked", "/attack/multipart/unsplittable"):
        if body_of(path) != MARKER:
            fail(f"{path} body is not the marker: {str(body_of(path))[:80]}")
    for path in ("/attack/transfer/gzip", "/attack/multipart"):
        body = body_of(path)
        if not body or body == MARKER or "[REDACTED]" not in body or "ann" not in body:
            fail(f"{path} was not decoded and redacted: {str(body)[:80]}")
    for path in ("/attack/gzip", "/attack/deflate", "/attack/unicode/utf-16-le/2"):
        body = body_of(path)
        if not body or "[REDACTED]" not in body or '"user":"ann"' not in body.replace(" ", ""):
            fail(f"{path} was not decoded and redacted: {str(body)[:80]}")
    print(f"attack_secrets: {len(SECRETS)} secrets in {len(attacks)} calls, none reached the event file or stderr")


if __name__ == "__main__":
    main()
