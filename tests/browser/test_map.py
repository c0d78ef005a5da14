#!/usr/bin/env python3
"""
browser.map: the analyst map page in headless Chromium, client certificate and all.

  test_map.py VIGIA MAP_FIXTURE WEB_DIR WORK

1. A throwaway PKI (certtool): a partners CA, the server's certificate (IP 127.0.0.1), and
   client certificates for an analyst (USA, TOP SECRET) and a partner (MEX, UNCLASSIFIED).
2. A register from tests/browser/map_fixture.c (7 confirmed sites, markings known in advance),
   an audit key, `vigia serve --web WEB_DIR` on a free loopback port.
3. For each viewer: a fresh HOME whose NSS database (certutil, pk12util) holds the viewer's
   client certificate and trusts the test CA (so the server certificate verifies: no
   --ignore-certificate-errors). Client authentication is never skipped: headless Chromium
   shows no certificate dialog and waits for ever, so the test writes the Chromium policy
   AutoSelectCertificateForUrls for https://127.0.0.1:PORT only, in
   /etc/chromium/policies/managed/vigia-browser-test-PORT.json (Chromium on Linux reads
   policies from there only), and removes it at the end; not writable (not root): skip.
   Chromium loads /map with --dump-dom and --log-net-log. Checked:
   - the banner (from /map/banner.json) in #banner-top and #banner-bottom;
   - the markers drawn (#vigia-status data-sites, data-ids) are the sites the OGC API route
     /collections/sites/items gives the same certificate (fetched with curl);
   - every request the page made (net log, by network isolation key) went to
     https://127.0.0.1:PORT; Chromium's own background requests are listed, not counted.
Exit 0 pass, 1 fail, 77 skip (no chromium / certutil / vendored files).
"""
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

SKIP = 77
# What map_fixture.c releases to each viewer: USA TOP SECRET every marked site but 4 (NOFORN),
# MEX UNCLASSIFIED the unclassified REL TO MEX ones.
EXPECT = {"analyst": ["1", "2", "3", "7"], "mex": ["1", "7"]}


def log(*a):
    print(*a, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def certtool(args, tmpl_text, work, name):
    t = os.path.join(work, name + ".tmpl")
    with open(t, "w") as f:
        f.write(tmpl_text)
    run(["certtool"] + args + ["--template", t])


def make_pki(work):
    p = lambda n: os.path.join(work, n)
    for n in ("ca", "server", "analyst", "mex"):
        run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--curve", "secp256r1",
             "--outfile", p(n + ".key")])
    certtool(["--generate-self-signed", "--load-privkey", p("ca.key"), "--outfile", p("ca.pem")],
             'cn = "vigia browser-test partners CA"\nca\ncert_signing_key\nexpiration_days = 2\n', work, "ca")
    certtool(["--generate-certificate", "--load-privkey", p("server.key"), "--load-ca-certificate", p("ca.pem"),
              "--load-ca-privkey", p("ca.key"), "--outfile", p("server.pem")],
             'cn = "127.0.0.1"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\nexpiration_days = 2\n',
             work, "server")
    fps = {}
    for n in ("analyst", "mex"):
        certtool(["--generate-certificate", "--load-privkey", p(n + ".key"), "--load-ca-certificate", p("ca.pem"),
                  "--load-ca-privkey", p("ca.key"), "--outfile", p(n + ".pem")],
                 'cn = "vigia %s"\ntls_www_client\nsigning_key\nexpiration_days = 2\n' % n, work, n)
        run(["certtool", "--to-p12", "--load-privkey", p(n + ".key"), "--load-certificate", p(n + ".pem"),
             "--p12-name", n, "--password", "", "--empty-password", "--outder", "--outfile", p(n + ".p12")])
        out = run(["certtool", "--certificate-info", "--infile", p(n + ".pem")]).stdout
        m = re.search(r"sha256:([0-9a-f]{64})", out)
        if not m:
            raise SystemExit("no sha256 fingerprint in certtool output")
        fps[n] = m.group(1)
    partners = [
        {"fingerprint": fps["analyst"], "name": "usa-analyst", "country": "USA", "cleared": "TOP SECRET",
         "role": "analyst", "revoked": False},
        {"fingerprint": fps["mex"], "name": "mex-ops", "country": "MEX", "cleared": "UNCLASSIFIED",
         "role": "partner", "revoked": False},
    ]
    with open(p("partners.json"), "w") as f:
        json.dump(partners, f)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def curl_json(work, who, port, path):
    out = run(["curl", "-sS", "--fail", "--cacert", os.path.join(work, "ca.pem"), "--cert",
               os.path.join(work, who + ".pem"), "--key", os.path.join(work, who + ".key"),
               "https://127.0.0.1:%d%s" % (port, path)]).stdout
    return json.loads(out)


def nss_home(work, who):
    home = os.path.join(work, "home-" + who)
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    run(["certutil", "-N", "-d", "sql:" + db, "--empty-password"])
    run(["certutil", "-A", "-d", "sql:" + db, "-n", "vigia-test-ca", "-t", "C,,", "-i",
         os.path.join(work, "ca.pem")])
    run(["pk12util", "-i", os.path.join(work, who + ".p12"), "-d", "sql:" + db, "-W", ""])
    return home


POLICY_DIR = "/etc/chromium/policies/managed"


def policy_write(port):
    """AutoSelectCertificateForUrls for this one origin: the certificate in the NSS db, no dialog."""
    path = os.path.join(POLICY_DIR, "vigia-browser-test-%d.json" % port)
    rule = json.dumps({"pattern": "https://127.0.0.1:%d" % port, "filter": {}})
    os.makedirs(POLICY_DIR, exist_ok=True)
    with open(path, "w") as f:
        # and Chromium's own traffic off (component updates, sign-in): the net log must hold only the page's
        json.dump({"AutoSelectCertificateForUrls": [rule], "ComponentUpdatesEnabled": False, "BrowserSignin": 0,
                   "SyncDisabled": True, "MetricsReportingEnabled": False, "SafeBrowsingProtectionLevel": 0,
                   "NetworkPredictionOptions": 2, "SearchSuggestEnabled": False}, f)
    return path


def chromium(work, who, port, chrome):
    home = nss_home(work, who)
    netlog = os.path.join(work, "netlog-%s.json" % who)
    profile = os.path.join(work, "profile-" + who)
    env = dict(os.environ, HOME=home)
    cmd = [chrome, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--disable-default-apps", "--metrics-recording-only",
           "--no-pings", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
           "--disable-breakpad", "--disable-features=OptimizationHints,MediaRouter,Translate,"
           "AutofillServerCommunication,NetworkTimeServiceQuerying,SigninInterceptBubble,AccountConsistency",
           "--user-data-dir=" + profile, "--log-net-log=" + netlog, "--net-log-capture-mode=Default",
           "--virtual-time-budget=10000", "--dump-dom", "https://127.0.0.1:%d/map" % port]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    with open(os.path.join(work, "chromium-%s.err" % who), "w") as f:
        f.write(r.stderr)
    with open(os.path.join(work, "dom-%s.html" % who), "w") as f:
        f.write(r.stdout)
    return r.stdout, netlog


def requests_in_netlog(path):
    """(page, browser): the URLs of every URL request in the net log, split by network isolation
    key. Whatever the page (its frames, scripts, styles, fetches, images) asks for carries the
    page's top-frame site "https://127.0.0.1" in its key, wherever it goes; Chromium's own
    background traffic (component updater, sign-in: "null null", "https://google.com ...") does
    not, and is reported but is not the page's doing."""
    with open(path) as f:
        text = f.read()
    try:
        j = json.loads(text)
    except ValueError:  # a log cut short (the browser killed): close it
        j = json.loads(text.rstrip().rstrip(",") + "]}")
    types = {v: k for k, v in j["constants"]["logEventTypes"].items()}
    page, browser, seen = [], [], set()
    for e in j.get("events", []):
        p = e.get("params") or {}
        if types.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        key = (e["source"]["id"], p["url"])
        if key in seen:
            continue
        seen.add(key)
        nik = p.get("network_isolation_key", "")
        (page if nik.split(" ")[0] == "https://127.0.0.1" else browser).append(p["url"])
    return page, browser


def attr(dom, elem_id, name):
    m = re.search(r'<[^>]*\bid="%s"[^>]*>' % re.escape(elem_id), dom)
    if not m:
        return None
    a = re.search(r'\b%s="([^"]*)"' % re.escape(name), m.group(0))
    return html.unescape(a.group(1)) if a else None


def text_of(dom, elem_id):
    m = re.search(r'<([a-z]+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(elem_id), dom, re.S)
    return html.unescape(m.group(2)).strip() if m else None


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    vigia, fixture, web, work = sys.argv[1:]
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    for tool, path in (("chromium", chrome), ("certutil", shutil.which("certutil")),
                       ("pk12util", shutil.which("pk12util")), ("certtool", shutil.which("certtool")),
                       ("curl", shutil.which("curl"))):
        if not path:
            log("SKIP: %s not installed (scripts/deps.sh)" % tool)
            return SKIP
    if not os.path.exists(os.path.join(web, "leaflet.js")):
        log("SKIP: %s has no vendored leaflet.js (npm ci --prefix web, then re-run cmake)" % web)
        return SKIP
    try:
        os.makedirs(POLICY_DIR, exist_ok=True)
        if not os.access(POLICY_DIR, os.W_OK):
            raise OSError("not writable")
    except OSError as e:
        log("SKIP: cannot write the Chromium policy in %s (%s): no client certificate without it" % (POLICY_DIR, e))
        return SKIP
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    make_pki(work)
    db = os.path.join(work, "register.db")
    run([fixture, db])  # map_fixture: every site confirmed
    key = os.path.join(work, "audit.key")
    run([vigia, "audit", "keygen", key])
    port = free_port()
    errf = open(os.path.join(work, "serve.log"), "w")
    srv = subprocess.Popen([vigia, "serve", "--db", db, "--cert", os.path.join(work, "server.pem"), "--key",
                            os.path.join(work, "server.key"), "--ca", os.path.join(work, "ca.pem"), "--partners",
                            os.path.join(work, "partners.json"), "--audit", os.path.join(work, "audit.log"),
                            "--audit-key", key, "--port", str(port), "--web", web], stderr=errf)
    failures = []
    policy = policy_write(port)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for who in ("analyst", "mex"):
            items = curl_json(work, who, port, "/collections/sites/items?limit=10000")
            want_ids = sorted(str(f["id"]) for f in items["features"])
            if want_ids != EXPECT[who]:
                failures.append("%s: OGC items give %s, the fixture says %s" % (who, want_ids, EXPECT[who]))
            want_banner = curl_json(work, who, port, "/map/banner.json")["banner"]
            dom, netlog = chromium(work, who, port, chrome)
            state = attr(dom, "vigia-status", "data-state")
            got_ids = sorted(i for i in (attr(dom, "vigia-status", "data-ids") or "").split(",") if i)
            nsites = attr(dom, "vigia-status", "data-sites")
            top, bottom = text_of(dom, "banner-top"), text_of(dom, "banner-bottom")
            page, browser = requests_in_netlog(netlog)
            log("%-8s state=%s markers=%s ids=%s (OGC items: %s)" % (who, state, nsites, ",".join(got_ids),
                                                                      ",".join(want_ids)))
            log("%-8s banner top=%r bottom=%r (banner.json: %r)" % (who, top, bottom, want_banner))
            log("%-8s page requests (%d):" % (who, len(page)))
            for u in page:
                log("           %s" % u)
            log("%-8s Chromium's own requests, not the page's (%d): %s" % (
                who, len(browser), sorted(set(re.sub(r"[?].*", "", u) for u in browser))))
            if state != "ready":
                failures.append("%s: page state %r (see %s)" % (who, state, os.path.join(work, "dom-%s.html" % who)))
            if got_ids != want_ids or nsites != str(len(want_ids)):
                failures.append("%s: markers %s/%s, released %s" % (who, nsites, got_ids, want_ids))
            if not want_ids:
                failures.append("%s: the fixture releases nothing to this viewer: the test proves nothing" % who)
            if top != want_banner or bottom != want_banner:
                failures.append("%s: banners %r / %r, want %r" % (who, top, bottom, want_banner))
            for need in ("/map", "/map/static/leaflet.js", "/map/static/countries-110m.json", "/map/sites.geojson",
                         "/map/banner.json"):
                if "https://127.0.0.1:%d%s" % (port, need) not in page:
                    failures.append("%s: the net log shows no page request for %s" % (who, need))
            for u in page:
                if not u.startswith("https://127.0.0.1:%d/" % port):
                    failures.append("%s: page request outside loopback: %s" % (who, u))
    finally:
        os.unlink(policy)
        srv.terminate()
        try:
            srv.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.kill()
        errf.close()
    for f in failures:
        log("FAIL: " + f)
    if failures:
        return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
