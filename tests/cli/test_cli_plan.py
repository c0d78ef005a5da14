#!/usr/bin/python3
"""vigia plan and vigia schedule from the command line (issue 9).

usage: test_cli_plan.py VIGIA DATA_DIR WORK_DIR SOURCE_DIR

  - the two real parcels of the shared data (GeoJSON and GAOS GML) planned for a small drone's
    video: coverage >= 99.5 % (vigia's own footprint raster), exit 0, a picture (PNG);
  - the mission in all four formats: the .plan is QGC's layout (fileType Plan, a takeoff, one
    survey ComplexItem whose polygon is the parcel and whose Items hold a waypoint per lane end,
    a return to launch) with the same count of items as the WPL file's rows after home; the KML
    validates against OGC KML 2.2 and the GeoJSON against its schema and check-geojson
    (tests/products/validate.py);
  - a frame camera in a crosswind gets camera trigger items and a crab;
  - an area with a no-fly zone inside and one between it and the base: no path sample inside,
    the route has transit turn points;
  - bad input: a missing file (exit 1, named), a bad sensor (exit 2);
  - vigia schedule over generated areas: a feasible week misses no deadline; an area out of
    reach is reported not feasible and the rest still meet theirs; the timeline PNG is written.
Exits 1 on the first failure; says SKIPPED and exits 0 when the shared data is absent (not under CI).
"""
import json
import math
import os
import subprocess
import sys

VIGIA, DATA, WORK, SRC = sys.argv[1:5]
PARCELS = ["geo/aoi/fields2cover_test_parcel.geojson", "geo/aoi/fields2cover_test1_parcel.xml"]
LAT0, LON0 = 17.90, -99.90


def fail(msg):
    print(f"FAILED: {msg}")
    sys.exit(1)


def run(*args, want=0):
    r = subprocess.run([VIGIA, *args], capture_output=True, text=True)
    if want is not None and r.returncode != want:
        fail(f"vigia {' '.join(args)}: exit {r.returncode} (want {want})\n{r.stdout}\n{r.stderr}")
    return r


def validate(path):
    r = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests/products/validate.py"),
                        os.path.join(DATA, "formats"), WORK, path], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{path} does not validate: {r.stdout} {r.stderr}")


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def ring(cx, cy, r0, r1, n, seed):
    """A polygon around (cx, cy) metres east/north of (LAT0, LON0), as [lon, lat] closed."""
    out = []
    for k in range(n):
        a = 2 * math.pi * k / n
        rr = r0 + (r1 - r0) * ((math.sin(seed * 12.9898 + k * 78.233) * 43758.5453) % 1)
        x, y = cx + rr * math.cos(a), cy + rr * math.sin(a)
        out.append([LON0 + x / (111320 * math.cos(math.radians(LAT0))), LAT0 + y / 110574])
    return out + [out[0]]


def box(x0, y0, x1, y1):
    c = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return [[LON0 + x / (111320 * math.cos(math.radians(LAT0))), LAT0 + y / 110574] for x, y in c]


def feature(coords, **props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [coords]}}


def write_fc(path, feats):
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)


if not os.path.exists(os.path.join(DATA, PARCELS[0])):
    if os.environ.get("CI") == "true":
        fail(f"shared data absent ({DATA})")
    print(f"SKIPPED: shared data absent ({DATA})")
    sys.exit(0)
os.makedirs(WORK, exist_ok=True)
small = ["--alt", "60", "--speed", "15", "--bank", "35", "--sensor", "video:50,30"]

# ---- the parcels, four formats ----
for p in PARCELS:
    src = os.path.join(DATA, p)
    stem = os.path.join(WORK, os.path.basename(p).split(".")[0])
    fig = json.loads(run("plan", src, *small, "-o", stem + ".plan", "--json", "--png", stem + ".png").stdout)
    if fig["coverage"] < 0.995:
        fail(f"{p}: coverage {fig['coverage']}")
    if not is_png(stem + ".png"):
        fail(f"{p}: no PNG picture")
    plan = json.load(open(stem + ".plan"))
    if plan.get("fileType") != "Plan" or plan["mission"]["version"] != 2:
        fail(f"{p}: not a QGC plan")
    items = plan["mission"]["items"]
    kinds = [(i["type"], i.get("command"), i.get("complexItemType")) for i in items]
    if kinds[0][1] != 22 or kinds[-1][1] != 20 or [k for k in kinds if k[0] == "ComplexItem"] != [("ComplexItem", None, "survey")]:
        fail(f"{p}: items {kinds} (want takeoff, one survey, return to launch)")
    survey = next(i for i in items if i["type"] == "ComplexItem")
    wps = [i for i in survey["TransectStyleComplexItem"]["Items"] if i["command"] == 16]
    if len(wps) < 2 * fig["lanes"]:
        fail(f"{p}: {len(wps)} waypoints for {fig['lanes']} lanes")
    if abs(survey["angle"] - fig["angle_deg"]) > 1e-6:
        fail(f"{p}: survey angle {survey['angle']} vs plan {fig['angle_deg']}")
    run("plan", src, *small, "-o", stem + ".txt")
    rows = [l.split("\t") for l in open(stem + ".txt").read().splitlines()]
    if rows[0] != ["QGC WPL 110"] or any(len(r) != 12 for r in rows[1:]):
        fail(f"{p}: WPL layout")
    if [int(r[0]) for r in rows[1:]] != list(range(len(rows) - 1)) or len(rows) - 2 != fig["mission_items"]:
        fail(f"{p}: WPL rows {len(rows) - 2} after home, mission items {fig['mission_items']}")
    run("plan", src, *small, "-o", stem + ".kml")
    validate(stem + ".kml")
    run("plan", src, *small, "-o", stem + ".geojson")
    validate(stem + ".geojson")
    print(f"ok {p}: coverage {fig['coverage']:.4f}, {fig['lanes']} lanes, {fig['turns']} turns, "
          f"{fig['length_m']:.0f} m, {fig['mission_items']} items; .plan, WPL, KML, GeoJSON")

# ---- a frame camera in a crosswind ----
cam = os.path.join(WORK, "camera.plan")
fig = json.loads(run("plan", os.path.join(DATA, PARCELS[1]), "--alt", "80", "--speed", "18", "--sensor", "camera:60,45",
                     "--front-overlap", "0.7", "--wind", "5@270", "-o", cam, "--json").stdout)
survey = next(i for i in json.load(open(cam))["mission"]["items"] if i["type"] == "ComplexItem")
trig = [i for i in survey["TransectStyleComplexItem"]["Items"] if i["command"] == 206]
if len(trig) != 2 * fig["lanes"] or abs(fig["crab_deg"]) < 1 or fig["coverage"] < 0.995:
    fail(f"camera: {len(trig)} trigger items for {fig['lanes']} lanes, crab {fig['crab_deg']}, coverage {fig['coverage']}")
print(f"ok frame camera: {len(trig)} trigger items, crab {fig['crab_deg']:.1f} deg, coverage {fig['coverage']:.4f}")

# ---- no-fly zones: one inside the area (in its file), one on the way from the base (--nofly) ----
aoi = os.path.join(WORK, "area_nofly.geojson")
wall = os.path.join(WORK, "wall.geojson")
write_fc(aoi, [feature(box(0, 0, 5000, 3000), name="valley"),
               feature(ring(2500, 1500, 300, 500, 6, 1), name="village", kind="nofly")])
write_fc(wall, [feature(box(-2200, -1500, -1600, 4500), name="range")])
base = f"{LAT0 + 1500 / 110574:.6f},{LON0 - 4000 / (111320 * math.cos(math.radians(LAT0))):.6f}"
nf_plan = os.path.join(WORK, "nofly.geojson")
fig = json.loads(run("plan", aoi, "--nofly", wall, "--base", base, "--alt", "400", "--speed", "25",
                     "--sensor", "video:40,24", "-o", nf_plan, "--json", "--png", os.path.join(WORK, "nofly.png")).stdout)
if fig["nofly_zones"] != 2 or fig["nofly_hits"] != 0 or fig["cells"] < 2 or fig["coverage"] < 0.85:
    fail(f"no-fly: {fig}")
pts = [f for f in json.load(open(nf_plan))["features"] if f["geometry"]["type"] == "Point"]
if len(pts) <= 2 * fig["lanes"] + 1:
    fail(f"no-fly: {len(pts)} points: no transit turn points around the range")
validate(nf_plan)
print(f"ok no-fly: 2 zones, {fig['cells']} cells, 0 samples inside, coverage {fig['coverage']:.4f}, "
      f"transit {fig['transit_m']:.0f} m")

# ---- bad input ----
r = run("plan", os.path.join(WORK, "nothing.geojson"), *small, "-o", os.path.join(WORK, "x.plan"), want=1)
if "nothing.geojson" not in r.stderr:
    fail(f"a missing file is not named: {r.stderr}")
r = run("plan", aoi, "--alt", "60", "--speed", "15", "--sensor", "lidar:5", "-o", os.path.join(WORK, "x.plan"), want=2)
if "--sensor" not in r.stderr:
    fail(f"a bad sensor is not named: {r.stderr}")
print("ok bad input: a missing file (exit 1, named), a bad sensor (exit 2)")

# ---- vigia schedule ----
areas = os.path.join(WORK, "areas.geojson")
feats = [feature(ring(15000 * math.cos(k * 1.3), 15000 * math.sin(k * 1.3), 600, 900, 7, k), name=f"ridge {k + 1}",
                 priority=1 + k % 3, revisit_h=[24, 24, 48, 36, 24][k])
         for k in range(5)]
write_fc(areas, feats)
sched = ["--base", f"{LAT0},{LON0}", "--endurance", "5", "--alt", "500", "--speed", "30", "--sensor", "video:30,20",
         "--days", "7", "--start", "2026-11-29T00:00:00Z"]
s = json.loads(run("schedule", areas, *sched, "--json", "--png", os.path.join(WORK, "schedule.png")).stdout)
if s["missed"] != 0 or s["infeasible"] != 0 or s["areas"] != 5 or s["sorties"] < 7:
    fail(f"feasible week: {s}")
if any(a["worst_gap_h"] > a["period_h"] + 1e-6 for a in s["per_area"]):
    fail(f"feasible week: a gap longer than its period: {s['per_area']}")
if not is_png(os.path.join(WORK, "schedule.png")):
    fail("no schedule PNG")
print(f"ok schedule: {s['sorties']} sorties, {s['visits']} visits, 0 of {s['deadlines']} deadlines missed, "
      f"load {s['load']:.2f}")
feats.append(feature(ring(400000, 0, 600, 900, 7, 9), name="far away", revisit_h=24))
write_fc(areas, feats)
s = json.loads(run("schedule", areas, *sched, "--json").stdout)
far = [a for a in s["per_area"] if a["name"] == "far away"][0]
if s["infeasible"] != 1 or far["feasible"] or far["visits"] or far["missed"] != far["deadlines"] or \
        sum(a["missed"] for a in s["per_area"] if a["name"] != "far away"):
    fail(f"out of reach: {s}")
r = run("schedule", areas, *sched)
if "NOT FEASIBLE" not in r.stdout:
    fail(f"the table does not say which area cannot be reached:\n{r.stdout}")
print(f"ok schedule with an area out of reach: reported, {far['missed']} of its deadlines missed, the others none")
print("cli.plan: all passed")
