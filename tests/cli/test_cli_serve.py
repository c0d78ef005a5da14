#!/usr/bin/python3
"""vigia serve from the command line: HTTPS and the CoT stream, wired as a user starts them.

usage: test_cli_serve.py VIGIA PRODUCTS_FIXTURE SERVE_PKI WORK_DIR

  - a register of seven sites with known markings (products_fixture), all confirmed with
    `vigia sites confirm`; a PKI and partners file (serve_pki); an audit key;
  - `vigia serve --port P --cot-port Q --publish 1` started as a process;
  - over HTTPS with client certificates (Python's ssl): MEX gets sites 1 and 7, GBR site 3,
    a request without a certificate 403;
  - over the CoT port (mutual TLS): MEX receives events for sites 1 and 7 only, GBR for 3;
  - the analyst revokes mex-ops through /admin: MEX's open CoT connection is closed and its next
    HTTPS request is 403;
  - SIGTERM stops the server (exit 0) and `vigia audit verify` finds the chain valid.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

VIGIA, FIXTURE, PKI, WORK = sys.argv[1:5]


def fail(msg):
    print(f"FAILED: {msg}")
    if server and server.poll() is None:
        server.kill()
    sys.exit(1)


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def context(who):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(WORK, "ca.pem"))
    if who:
        ctx.load_cert_chain(os.path.join(WORK, who + ".pem"), os.path.join(WORK, who + ".key"))
    return ctx


def https(who, path, method="GET"):
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, context=context(who), timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def cot_connect(who):
    raw = socket.create_connection(("127.0.0.1", cot_port), timeout=15)
    return context(who).wrap_socket(raw, server_hostname="localhost")


def cot_events(sock, want, seconds=15):
    """Reads events until @p want distinct site ids arrived (or the time is up)."""
    buf, seen, end = b"", set(), time.time() + seconds
    while time.time() < end and len(seen) < want:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        seen = {int(x) for x in re.findall(rb'<event [^>]*uid="vigia-site-(\d+)"', buf)}
    return seen, buf


server = None
os.makedirs(WORK, exist_ok=True)
for f in os.listdir(WORK):
    os.remove(os.path.join(WORK, f))
db = os.path.join(WORK, "register.db")
run(FIXTURE, db)
for i in range(1, 8):
    run(VIGIA, "sites", "--db", db, "confirm", str(i))
run(PKI, WORK)
run(VIGIA, "audit", "keygen", os.path.join(WORK, "audit.key"))
port, cot_port = free_port(), free_port()
log = open(os.path.join(WORK, "serve.log"), "w")
server = subprocess.Popen([VIGIA, "serve", "--db", db, "--cert", os.path.join(WORK, "server.pem"),
                           "--key", os.path.join(WORK, "server.key"), "--ca", os.path.join(WORK, "ca.pem"),
                           "--partners", os.path.join(WORK, "partners.json"), "--audit", os.path.join(WORK, "audit.log"),
                           "--audit-key", os.path.join(WORK, "audit.key"), "--port", str(port), "--cot-port",
                           str(cot_port), "--publish", "1"], stdout=log, stderr=subprocess.STDOUT)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        socket.create_connection(("127.0.0.1", cot_port), timeout=1).close()
        break
    except OSError:
        if server.poll() is not None:
            fail(f"vigia serve exited {server.returncode}: {open(os.path.join(WORK, 'serve.log')).read()}")
        time.sleep(0.1)
else:
    fail("vigia serve does not listen")

# HTTPS
for who, want in (("mex-ops", [1, 7]), ("gbr-ops", [3])):
    st, body = https(who, "/collections/sites/items")
    got = sorted(f["id"] for f in json.loads(body)["features"]) if st == 200 else None
    if st != 200 or got != want:
        fail(f"HTTPS items as {who}: {st} {got} (want {want})")
st, _ = https(None, "/collections/sites/items")
if st != 403:
    fail(f"HTTPS without a certificate: {st}")
print("ok HTTPS: mex-ops 1 7, gbr-ops 3, no certificate 403")

# CoT
mex = cot_connect("mex-ops")
gbr = cot_connect("gbr-ops")
seen_m, _ = cot_events(mex, 2)
seen_g, _ = cot_events(gbr, 1)
if seen_m != {1, 7} or seen_g != {3}:
    fail(f"CoT: mex-ops {sorted(seen_m)} (want 1 7), gbr-ops {sorted(seen_g)} (want 3)")
# nothing else follows for either within two publish rounds
mex.settimeout(2.5)
more, _ = cot_events(mex, 3, seconds=2.5)
if more - {1, 7}:
    fail(f"CoT: mex-ops got more: {sorted(more)}")
print("ok CoT: mex-ops events for 1 7, gbr-ops for 3")

# revocation through /admin reaches the stream and the HTTPS side
st, body = https("usa-analyst", "/admin/partners/mex-ops/revoke", method="POST")
if st != 200:
    fail(f"revoke: {st} {body}")
mex.settimeout(10)
closed = False
end = time.time() + 10
while time.time() < end:
    try:
        if not mex.recv(65536):
            closed = True
            break
    except (ssl.SSLError, ConnectionResetError, OSError):
        closed = True
        break
if not closed:
    fail("the revoked partner's CoT connection stays open")
st, _ = https("mex-ops", "/collections/sites/items")
if st != 403:
    fail(f"HTTPS as the revoked mex-ops: {st}")
gbr.close()
print("ok revocation: mex-ops' CoT connection closed, its HTTPS request 403")

server.send_signal(signal.SIGTERM)
try:
    rc = server.wait(timeout=20)
except subprocess.TimeoutExpired:
    fail("vigia serve does not stop on SIGTERM")
if rc != 0:
    fail(f"vigia serve exited {rc} on SIGTERM")
r = run(VIGIA, "audit", "verify", os.path.join(WORK, "audit.log"), "--pub", os.path.join(WORK, "audit.key.pub"))
if "valid" not in r.stdout:
    fail(f"audit verify: {r.stdout}")
print("ok stop: exit 0, audit chain valid")
print("cli.serve: all passed")
