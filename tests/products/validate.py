#!/usr/bin/python3
"""Validates vigia's products against the published schemas of the shared data.

usage: validate.py FORMATS_DIR WORK_DIR FILE...

  *.geojson   GeoJSON FeatureCollection schema (draft-07), then RFC 7946 rules the
              schema leaves out: WGS84 ranges, no "crs" member; then GeoJSON semantics
              with check-geojson (check_geojson.js beside this file, node; run
              `npm ci --prefix tests/products` first: without it this fails)
  *.kml       OGC KML 2.2 schema (xmllint, the folder's catalog for its imports)
  *.cot       each <event> of the stream alone, against MITRE's Event-PUBLIC.xsd with
              an overlay adding TAK's caveat and releasableTo root attributes (the
              overlay is made here in WORK_DIR from the MITRE file: never copied into
              the repository)
  *.json      a STIX 2.1 bundle: every object against the schema of its type
              (draft 2020-12, refs resolved in the folder; per object, because the
              upstream bundle schema rejects valid location and grouping objects)
  *.kmz       a ZIP (CRCs checked with zipfile.testzip) holding doc.kml first, which is
              extracted to WORK_DIR and validated as *.kml; every files/ entry its
              Placemarks' descriptions reference exists and is a PNG, and so is every
              files/ entry; no absolute or ../ entry names
  *.html      a self-contained report: html.parser finds every element closed in order
              (void elements aside); no "http://" or "https://" anywhere (nothing is
              fetched), no script, link, iframe or url(); every src/href is a data: URI or
              a #fragment, every <img> a data:image/png base64 PNG; the banner twice, as
              the first and the last element of the body, with the same text

Offline: no network access (xmllint --nonet, local $ref resolution only).
Prints one line per file and exits 1 on the first invalid one.
"""
import base64
import html.parser
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import jsonschema

FORMATS, WORK = sys.argv[1], sys.argv[2]


def fail(path, why):
    print(f"INVALID {path}: {why}")
    sys.exit(1)


def local_resolver(schema_path, schema):
    """A resolver that maps every http(s) $id of the folder to its local file."""
    store = {}
    root = os.path.dirname(os.path.dirname(schema_path)) if "stix21" in schema_path else os.path.dirname(schema_path)
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".json"):
                p = os.path.join(d, f)
                try:
                    s = json.load(open(p))
                except Exception:
                    continue
                if isinstance(s, dict) and "$id" in s:
                    store[s["$id"]] = s
                store["file://" + p] = s
    return jsonschema.RefResolver(base_uri=schema.get("$id", "file://" + schema_path), referrer=schema, store=store)


def validate_geojson(path):
    schema_path = os.path.join(FORMATS, "geojson", "FeatureCollection.json")
    schema = json.load(open(schema_path))
    doc = json.load(open(path))
    v = jsonschema.Draft7Validator(schema, resolver=local_resolver(schema_path, schema))
    errs = sorted(v.iter_errors(doc), key=lambda e: e.path)
    if errs:
        fail(path, errs[0].message)
    if "crs" in doc:
        fail(path, "a crs member (RFC 7946 removed it)")
    def positions(c):
        if c and isinstance(c[0], (int, float)):
            yield c
        else:
            for x in c:
                yield from positions(x)

    for i, f in enumerate(doc["features"]):
        g = f.get("geometry") or {}
        for pos in positions(g.get("coordinates", [])):
            lon, lat = pos[0], pos[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                fail(path, f"feature {i}: [{lon}, {lat}] outside WGS84")
        if g.get("type") == "Polygon":  # rings closed (RFC 7946 3.1.6)
            for ring in g["coordinates"]:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    fail(path, f"feature {i}: a polygon ring is not closed")
    check_geojson(path)
    return len(doc["features"])


CHECKED_CHECKER = False


def check_geojson(path):
    """check-geojson (npm) on the file; its self-test once first, so a checker that finds
    nothing cannot pass a file."""
    global CHECKED_CHECKER
    js = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_geojson.js")
    runs = ([["node", js, "--self-test"]] if not CHECKED_CHECKER else []) + [["node", js, path]]
    for cmd in runs:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError:
            fail(path, "node is not installed (scripts/deps.sh installs it)")
        if r.returncode != 0:
            fail(path, (r.stdout + r.stderr).strip())
    CHECKED_CHECKER = True


def xmllint(path, xsd, env=None):
    r = subprocess.run(["xmllint", "--nonet", "--noout", "--schema", xsd, path], capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        fail(path, r.stderr.strip().splitlines()[0] if r.stderr.strip() else f"xmllint exit {r.returncode}")


def validate_kml(path):
    env = dict(os.environ, XML_CATALOG_FILES=os.path.join(FORMATS, "kml", "catalog.xml"))
    xmllint(path, os.path.join(FORMATS, "kml", "ogckml22.xsd"), env)
    return open(path).read().count("<Placemark")


def cot_overlay():
    """MITRE's event schema with TAK's two root attributes added to the event element."""
    src = os.path.join(FORMATS, "cot", "mitre", "Event-PUBLIC.xsd")
    text = open(src).read()
    at = text.index('<xs:element name="detail">')
    end = text.rindex("</xs:complexType>", 0, at)
    extra = ('<xs:attribute name="caveat" type="xs:string" use="optional"/>'
             '<xs:attribute name="releasableTo" use="optional"><xs:simpleType><xs:restriction base="xs:string">'
             '<xs:pattern value="([A-Z]{3}( [A-Z]{3})*)?"/></xs:restriction></xs:simpleType></xs:attribute>')
    out = os.path.join(WORK, "Event-TAK-overlay.xsd")
    open(out, "w").write(text[:end] + extra + text[end:])
    return out


def validate_cot(path):
    xsd = cot_overlay()
    text = open(path).read()
    events = re.findall(r"<event\b.*?</event>", text, re.S)
    rest = re.sub(r"<event\b.*?</event>", "", text, flags=re.S)
    rest = re.sub(r"<\?xml[^>]*\?>", "", rest).strip()
    if rest:
        fail(path, f"text outside events: {rest[:60]!r}")
    for i, e in enumerate(events):
        one = os.path.join(WORK, f"event-{i}.xml")
        open(one, "w").write('<?xml version="1.0" encoding="UTF-8"?>\n' + e + "\n")
        xmllint(one, xsd)
    return len(events)


STIX_SCHEMA = {
    "identity": "sdos/identity.json", "location": "sdos/location.json", "infrastructure": "sdos/infrastructure.json",
    "grouping": "sdos/grouping.json", "relationship": "sros/relationship.json", "sighting": "sros/sighting.json",
    "marking-definition": "common/marking-definition.json", "note": "sdos/note.json", "report": "sdos/report.json",
}


def validate_stix(path):
    doc = json.load(open(path))
    if doc.get("type") != "bundle" or not re.match(r"^bundle--[0-9a-f-]{36}$", doc.get("id", "")):
        fail(path, "not a STIX bundle")
    ids = set()
    for i, o in enumerate(doc["objects"]):
        rel = STIX_SCHEMA.get(o.get("type"))
        if not rel:
            fail(path, f"object {i}: type {o.get('type')} has no schema here")
        sp = os.path.join(FORMATS, "stix21", "schemas", rel)
        schema = json.load(open(sp))
        v = jsonschema.Draft202012Validator(schema, resolver=local_resolver(sp, schema),
                                            format_checker=jsonschema.FormatChecker())
        errs = list(v.iter_errors(o))
        if errs:
            fail(path, f"object {i} ({o['id']}): {errs[0].message[:200]}")
        ids.add(o["id"])
    # every reference resolves inside the bundle (TLP definitions are included too)
    for o in doc["objects"]:
        for k, v in o.items():
            refs = v if k.endswith("_refs") else [v] if k.endswith("_ref") else []
            for r in refs:
                if r not in ids:
                    fail(path, f"{o['id']}: {k} -> {r} not in the bundle")
    return len(doc["objects"])


PNG_SIG = b"\x89PNG\r\n\x1a\n"
KML_NS = "{http://www.opengis.net/kml/2.2}"


def validate_kmz(path):
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        fail(path, f"not a ZIP: {e}")
    bad = z.testzip()
    if bad is not None:
        fail(path, f"entry {bad}: CRC or data error")
    names = z.namelist()
    if not names or names[0] != "doc.kml":
        fail(path, f"doc.kml is not the first entry ({names[:3]})")
    if len(set(names)) != len(names):
        fail(path, "duplicate entry names")
    for n in names:
        if n.startswith("/") or ".." in n.split("/") or "\\" in n:
            fail(path, f"entry name {n!r} leaves the archive")
        if n != "doc.kml" and not re.fullmatch(r"files/site-[0-9]+\.png", n):
            fail(path, f"unexpected entry {n!r}")
        if n.startswith("files/") and not z.read(n).startswith(PNG_SIG):
            fail(path, f"{n} is not a PNG")
    kml = os.path.join(WORK, os.path.basename(path) + ".doc.kml")
    open(kml, "wb").write(z.read("doc.kml"))
    validate_kml(kml)
    root = ET.parse(kml).getroot()
    for pm in root.iter(KML_NS + "Placemark"):
        d = pm.find(KML_NS + "description")
        for ref in re.findall(r'src="([^"]*)"', d.text or "") if d is not None else []:
            if ref not in names:
                fail(path, f"{pm.get('id')}: description references {ref!r}, not in the archive")
            if ref != f"files/{pm.get('id')}.png":
                fail(path, f"{pm.get('id')}: description shows another site's chip {ref!r}")
    return len(list(root.iter(KML_NS + "Placemark")))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Report(html.parser.HTMLParser):
    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.path, self.stack, self.body = path, [], []  # body: (kind, text) of the body's children
        self.banner = None  # text of the banner div being read
        self.imgs = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "iframe", "object", "embed", "base", "frame", "form"):
            fail(self.path, f"<{tag}> in a self-contained report")
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "poster", "srcset", "data") and v is not None:
                if not (v.startswith("data:") or v.startswith("#")):
                    fail(self.path, f"<{tag} {k}={v[:60]!r}>: not a data: URI")
            if k.startswith("on"):
                fail(self.path, f"<{tag} {k}>: an event handler")
        if tag == "img":
            src = a.get("src") or ""
            m = re.fullmatch(r"data:image/png;base64,([A-Za-z0-9+/=]+)", src)
            if not m or not base64.b64decode(m.group(1), validate=True).startswith(PNG_SIG):
                fail(self.path, f"<img src={src[:60]!r}>: not a data: URI of a PNG")
            self.imgs += 1
        if self.stack == ["html", "body"]:
            self.body.append([tag, a.get("class", ""), ""])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            fail(self.path, f"</{tag}> closes <{self.stack[-1] if self.stack else None}> (line {self.getpos()[0]})")
        self.stack.pop()

    def handle_data(self, data):
        if len(self.stack) >= 3 and self.stack[:2] == ["html", "body"] and self.body:
            self.body[-1][2] += data


def validate_html(path):
    text = open(path, encoding="utf-8").read()
    if not text.startswith("<!DOCTYPE html>"):
        fail(path, "no <!DOCTYPE html>")
    low = text.lower()
    for bad in ("http://", "https://", "url(", "@import"):
        if bad in low:
            fail(path, f"{bad!r}: an external request")
    p = Report(path)
    p.feed(text)
    p.close()
    if p.stack:
        fail(path, f"unclosed elements at the end: {p.stack}")
    banners = [b for b in p.body if b[0] == "div" and "banner" in b[1].split()]
    if len(banners) != 2 or banners[0] is not p.body[0] or banners[1] is not p.body[-1]:
        fail(path, "the banner is not the first and the last element of the body")
    if not banners[0][2].strip() or banners[0][2] != banners[1][2]:
        fail(path, f"top and bottom banners differ: {banners[0][2]!r} / {banners[1][2]!r}")
    return len(re.findall(r"<tr data-site=", text))


for f in sys.argv[3:]:
    if f.endswith(".geojson"):
        n = validate_geojson(f)
    elif f.endswith(".kml"):
        n = validate_kml(f)
    elif f.endswith(".cot"):
        n = validate_cot(f)
    elif f.endswith(".json"):
        n = validate_stix(f)
    elif f.endswith(".kmz"):
        n = validate_kmz(f)
    elif f.endswith(".html"):
        n = validate_html(f)
    else:
        fail(f, "unknown product kind")
    print(f"valid {f}: {n} items")
