/*
 * vigia plan: the coverage flight of one area of interest (lib/plan/coverage.c), written as a
 * mission (QGC .plan, QGC WPL 110, KML or GeoJSON: lib/plan/mission.c).
 * vigia schedule: sorties over several areas within endurance, simulated over days
 * (lib/plan/schedule.c), each area's coverage time from its own plan.
 *
 *   vigia plan AOI --alt M --speed MPS --sensor SPEC [options] -o MISSION [--png F] [--json]
 *   vigia schedule AOIS --base LAT,LON --endurance H --alt M --speed MPS --sensor SPEC [options]
 */
#define _DEFAULT_SOURCE /* timegm, gmtime_r, strtok_r */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigia/plan.h"

#define DEG (3.14159265358979323846 / 180.0)

static const char k_plan_opts_help[] =
  "aircraft and sensor:\n"
  "  --alt M              height above the ground flown (required)\n"
  "  --speed MPS          true airspeed (required)\n"
  "  --bank DEG           largest bank in turns (default 30): turn radius (V + W)^2 / (g tan bank)\n"
  "  --wind MPS@FROM      steady wind: speed and the direction it blows from, deg (default none)\n"
  "  --sensor SPEC        video:HFOV,VFOV[,DEPRESSION[,AZIMUTH]]  full-motion video (depression 90 =\n"
  "                       nadir, the default; azimuth from the nose, clockwise)\n"
  "                       camera:HFOV,VFOV[,DEPRESSION[,AZIMUTH]] a frame camera (trigger distance)\n"
  "                       fields of view in degrees (required)\n"
  "  --fps HZ             video frame rate (default 30)\n"
  "  --side-overlap F     between neighbouring lanes' usable swaths (default 0.1)\n"
  "  --front-overlap F    frame camera: between consecutive frames (default 0.6)\n"
  "planning:\n"
  "  --angle DEG          lane direction from north (default: searched for the least flight time)\n"
  "  --angle-step DEG     search step (default 1)\n"
  "  --nofly FILE         no-fly zones (GeoJSON/KML/GML polygons); polygons of kind \"nofly\" in the\n"
  "                       areas file count too. Repeatable\n"
  "  --margin M           standoff from no-fly zones beyond the turn radius (default 50)\n";

void vg_cmd_plan_help(void)
{
  printf("usage: vigia plan AOI [--area NAME] --alt M --speed MPS --sensor SPEC [options] -o MISSION\n"
         "                  [--base LAT,LON] [--home-amsl M] [--png FILE] [--json]\n"
         "\n"
         "Plans the coverage of one area of interest by a fixed-wing drone: lanes at the sensor's usable\n"
         "swath (footprint from the fields of view, depression and crosswind crab), the lane direction of\n"
         "least flight time, concave areas split into cells, no-fly zones kept out of, Dubins turns\n"
         "(lanes closer than twice the turn radius are not flown in a row). Prints coverage (footprints\n"
         "stamped on a raster of the area), overlap, lanes, turns, length and time, and writes the mission.\n"
         "\n"
         "  AOI                  GeoJSON, KML or GML polygons (docs/formats/plan.md); the first area of\n"
         "                       kind \"aoi\", or --area NAME\n"
         "  -o MISSION           .plan (QGroundControl), .txt or .waypoints (QGC WPL 110), .kml, .geojson\n"
         "  --base LAT,LON       take off from and land at the base (default: home at the first lane)\n"
         "  --home-amsl M        home's altitude above mean sea level in the mission (default 0)\n"
         "  --png FILE           a picture of the plan\n"
         "  --json               the figures as one JSON object on stdout\n"
         "\n%s",
         k_plan_opts_help);
}

void vg_cmd_schedule_help(void)
{
  printf("usage: vigia schedule AOIS --base LAT,LON --endurance H --alt M --speed MPS --sensor SPEC [options]\n"
         "                      [--days 7] [--turnaround H] [--window HH-HH] [--aircraft N] [--start TIME]\n"
         "                      [--period H] [--png FILE] [--json] [-v]\n"
         "\n"
         "Schedules sorties from a base over every area of interest in AOIS for --days, each sortie an\n"
         "orienteering tour within the endurance that covers the areas most due (priority, revisit\n"
         "period, last visit: the areas' properties priority, revisit_h, last_visit), then simulates the\n"
         "span and prints each area's visits, mean and worst revisit gap and missed deadlines, and the\n"
         "areas no sortie can reach. Each area's coverage time is its own plan's (as vigia plan).\n"
         "\n"
         "  --endurance H        sortie endurance in hours, reserve already taken off (required)\n"
         "  --days D             simulated span (default 7)\n"
         "  --turnaround H       on the ground between sorties (default 1)\n"
         "  --window HH-HH       hours of the day (UTC) flying is allowed (default any)\n"
         "  --aircraft N         aircraft flying in parallel (default 1)\n"
         "  --start TIME         RFC 3339 UTC start of the span (default now); last visits are read\n"
         "                       against it\n"
         "  --period H           revisit period of areas that give none (default: required of each)\n"
         "  --png FILE           a timeline of the visits and missed deadlines\n"
         "  -v                   every sortie\n"
         "\n%s",
         k_plan_opts_help);
}

static int usage_err(const char *cmd, const char *msg, const char *arg)
{
  fprintf(stderr, "vigia %s: %s%s%s (see `vigia help %s`)\n", cmd, msg, arg ? ": " : "", arg ? arg : "", cmd);
  return VG_EXIT_USAGE;
}

static int fail(const char *cmd, const char *what, int rc)
{
  fprintf(stderr, "vigia %s: %s: %s (%s)\n", cmd, what, vg_error_last(), vg_err_name(rc));
  return VG_EXIT_FAILED;
}

static int num(const char *s, double *v)
{
  char *e;
  errno = 0;
  *v = strtod(s, &e);
  return e != s && !*e && !errno && isfinite(*v) ? 0 : -1;
}

/* "a,b[,c[,d]]": returns how many numbers were read, -1 on a malformed list. */
static int nums(const char *s, double *v, int max)
{
  int n = 0;
  char buf[128], *tok, *save = NULL;
  if (strlen(s) >= sizeof buf)
    return -1;
  strcpy(buf, s);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == max || num(tok, &v[n]))
      return -1;
    n++;
  }
  return n;
}

/* What vigia plan and vigia schedule share: the options of vg_plan_coverage. */
typedef struct common {
  vg_plan_opts o;
  int have_alt, have_speed, have_sensor;
  vg_plan_areas nofly_files[8];
  size_t nnofly_files;
} common;

/* Consumes argv[*i] (and its value) when it is a common option: 1; not one: 0; bad: -1 (said). */
static int common_arg(const char *cmd, common *c, int argc, char **argv, int *i)
{
  const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
  double x[4];
  int n;
#define VAL()                                                                                                        \
  do {                                                                                                               \
    if (!v) {                                                                                                        \
      usage_err(cmd, "missing value", a);                                                                            \
      return -1;                                                                                                     \
    }                                                                                                                \
    (*i)++;                                                                                                          \
  } while (0)
  if (!strcmp(a, "--alt")) {
    VAL();
    if (num(v, &c->o.aircraft.alt_agl_m))
      return usage_err(cmd, "--alt wants metres", v), -1;
    c->have_alt = 1;
  } else if (!strcmp(a, "--speed")) {
    VAL();
    if (num(v, &c->o.aircraft.airspeed_mps))
      return usage_err(cmd, "--speed wants m/s", v), -1;
    c->have_speed = 1;
  } else if (!strcmp(a, "--bank")) {
    VAL();
    if (num(v, &c->o.aircraft.bank_deg))
      return usage_err(cmd, "--bank wants degrees", v), -1;
  } else if (!strcmp(a, "--wind")) {
    char buf[64], *at;
    VAL();
    snprintf(buf, sizeof buf, "%s", v);
    if (!(at = strchr(buf, '@')) || (*at = 0, num(buf, &c->o.aircraft.wind_mps)) ||
        num(at + 1, &c->o.aircraft.wind_from_deg))
      return usage_err(cmd, "--wind wants MPS@FROM_DEG, e.g. 6@270", v), -1;
  } else if (!strcmp(a, "--sensor")) {
    const char *colon;
    VAL();
    colon = strchr(v, ':');
    if (!colon || (strncmp(v, "video:", 6) && strncmp(v, "camera:", 7)) || (n = nums(colon + 1, x, 4)) < 2)
      return usage_err(cmd, "--sensor wants video:HFOV,VFOV[,DEPRESSION[,AZIMUTH]] or camera:...", v), -1;
    c->o.sensor.video = v[0] == 'v';
    c->o.sensor.hfov_deg = x[0];
    c->o.sensor.vfov_deg = x[1];
    c->o.sensor.depression_deg = n > 2 ? x[2] : 90;
    c->o.sensor.azimuth_deg = n > 3 ? x[3] : 0;
    c->have_sensor = 1;
  } else if (!strcmp(a, "--fps")) {
    VAL();
    if (num(v, &c->o.sensor.frame_rate_hz) || c->o.sensor.frame_rate_hz <= 0)
      return usage_err(cmd, "--fps wants a positive rate", v), -1;
  } else if (!strcmp(a, "--side-overlap")) {
    VAL();
    if (num(v, &c->o.sensor.side_overlap))
      return usage_err(cmd, "--side-overlap wants a fraction", v), -1;
  } else if (!strcmp(a, "--front-overlap")) {
    VAL();
    if (num(v, &c->o.sensor.front_overlap))
      return usage_err(cmd, "--front-overlap wants a fraction", v), -1;
  } else if (!strcmp(a, "--angle")) {
    VAL();
    if (num(v, &c->o.angle_deg))
      return usage_err(cmd, "--angle wants degrees", v), -1;
  } else if (!strcmp(a, "--angle-step")) {
    VAL();
    if (num(v, &c->o.angle_step_deg) || c->o.angle_step_deg <= 0)
      return usage_err(cmd, "--angle-step wants positive degrees", v), -1;
  } else if (!strcmp(a, "--margin")) {
    VAL();
    if (num(v, &c->o.nofly_margin_m))
      return usage_err(cmd, "--margin wants metres", v), -1;
  } else if (!strcmp(a, "--nofly")) {
    int rc;
    VAL();
    if (c->nnofly_files == sizeof c->nofly_files / sizeof *c->nofly_files)
      return usage_err(cmd, "at most 8 --nofly files", v), -1;
    if ((rc = vg_plan_areas_load(&c->nofly_files[c->nnofly_files], v)) != VG_OK) {
      fail(cmd, "no-fly zones", rc);
      return -1;
    }
    c->nnofly_files++;
  } else
    return 0;
#undef VAL
  return 1;
}

static void common_init(common *c)
{
  memset(c, 0, sizeof *c);
  c->o.version = VG_PLAN_OPTS_VERSION;
  c->o.angle_deg = NAN;
  c->o.angle_step_deg = 1;
  c->o.aircraft.bank_deg = 30;
  c->o.sensor.frame_rate_hz = 30;
  c->o.sensor.side_overlap = 0.1;
  c->o.sensor.front_overlap = 0.6;
  c->o.nofly_margin_m = 50;
}

static void common_free(common *c)
{
  for (size_t i = 0; i < c->nnofly_files; i++)
    vg_plan_areas_free(&c->nofly_files[i]);
}

/* The no-fly zones: the areas file's own and every --nofly file's, in one array (borrowed). */
static int collect_nofly(const vg_plan_areas *aois, const common *c, vg_plan_area **out, size_t *n)
{
  size_t k = 0, cap = 0;
  for (size_t i = 0; i < aois->n; i++)
    cap += aois->a[i].kind == VG_PLAN_NOFLY;
  for (size_t f = 0; f < c->nnofly_files; f++)
    cap += c->nofly_files[f].n;
  *out = NULL;
  *n = 0;
  if (!cap)
    return VG_OK;
  if (!(*out = malloc(cap * sizeof **out)))
    return vg_error_set(VG_E_NOMEM, "no-fly zones");
  for (size_t i = 0; i < aois->n; i++)
    if (aois->a[i].kind == VG_PLAN_NOFLY)
      (*out)[k++] = aois->a[i];
  for (size_t f = 0; f < c->nnofly_files; f++)
    for (size_t i = 0; i < c->nofly_files[f].n; i++)
      (*out)[k++] = c->nofly_files[f].a[i];
  *n = k;
  return VG_OK;
}

static void progress(void *ud, const char *stage, double done)
{
  int *last = ud;
  int pct = (int)(done * 100);
  if (pct / 10 != *last / 10 || done >= 1) {
    fprintf(stderr, "\r  %s %3d %%%s", stage, pct, done >= 1 ? "\n" : "");
    *last = pct;
  }
}

static int write_file(const char *path, const vg_buf *b)
{
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(b->data, 1, b->len, f) == b->len;
  if (f && fclose(f) != 0)
    ok = 0;
  return ok ? VG_OK : vg_error_set(VG_E_IO, "cannot write '%s': %s", path, strerror(errno));
}

static int ends_with(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcasecmp(s + a - b, suf);
}

/* ---- vigia plan ------------------------------------------------------------------------------ */

int vg_cmd_plan(int argc, char **argv)
{
  common c;
  const char *aoi_path = NULL, *out_path = NULL, *png = NULL, *name = NULL;
  int json = 0, rc, ret = VG_EXIT_FAILED, last = -1;
  double home_amsl = 0, b[2];
  vg_plan_areas aois = {0};
  vg_plan_area *nf = NULL, *aoi = NULL;
  size_t nnf = 0;
  vg_plan_result r;
  vg_mission m;
  vg_buf out;
  memset(&r, 0, sizeof r);
  vg_mission_init(&m);
  vg_buf_init(&out, VG_PLAN_FILE_MAX);
  common_init(&c);
  for (int i = 1; i < argc; i++) {
    int k = common_arg("plan", &c, argc, argv, &i);
    if (k < 0) {
      ret = VG_EXIT_USAGE;
      goto done;
    }
    if (k)
      continue;
    if (!strcmp(argv[i], "-o") && i + 1 < argc)
      out_path = argv[++i];
    else if (!strcmp(argv[i], "--png") && i + 1 < argc)
      png = argv[++i];
    else if (!strcmp(argv[i], "--area") && i + 1 < argc)
      name = argv[++i];
    else if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--home-amsl") && i + 1 < argc) {
      if (num(argv[++i], &home_amsl)) {
        ret = usage_err("plan", "--home-amsl wants metres", argv[i]);
        goto done;
      }
    } else if (!strcmp(argv[i], "--base") && i + 1 < argc) {
      if (nums(argv[++i], b, 2) != 2 || fabs(b[0]) > 90 || fabs(b[1]) > 180) {
        ret = usage_err("plan", "--base wants LAT,LON in degrees", argv[i]);
        goto done;
      }
      c.o.has_base = 1;
      c.o.base.lat = b[0];
      c.o.base.lon = b[1];
    } else if (argv[i][0] == '-') {
      ret = usage_err("plan", "unknown option or missing value", argv[i]);
      goto done;
    } else if (!aoi_path)
      aoi_path = argv[i];
    else {
      ret = usage_err("plan", "one areas file only", argv[i]);
      goto done;
    }
  }
  if (!aoi_path || !out_path || !c.have_alt || !c.have_speed || !c.have_sensor) {
    ret = usage_err("plan", "AOI, -o, --alt, --speed and --sensor are required", NULL);
    goto done;
  }
  if (!ends_with(out_path, ".plan") && !ends_with(out_path, ".txt") && !ends_with(out_path, ".waypoints") &&
      !ends_with(out_path, ".kml") && !ends_with(out_path, ".geojson")) {
    ret = usage_err("plan", "-o wants a .plan, .txt, .waypoints, .kml or .geojson file", out_path);
    goto done;
  }
  if ((rc = vg_plan_areas_load(&aois, aoi_path)) != VG_OK) {
    ret = fail("plan", "areas", rc);
    goto done;
  }
  for (size_t i = 0; i < aois.n && !aoi; i++)
    if (aois.a[i].kind == VG_PLAN_AOI && (!name || !strcmp(aois.a[i].name, name)))
      aoi = &aois.a[i];
  if (!aoi) {
    fprintf(stderr, "vigia plan: %s: no area of interest%s%s\n", aoi_path, name ? " named " : "", name ? name : "");
    goto done;
  }
  if ((rc = collect_nofly(&aois, &c, &nf, &nnf)) != VG_OK) {
    ret = fail("plan", "no-fly zones", rc);
    goto done;
  }
  c.o.nofly = nf;
  c.o.nnofly = nnf;
  c.o.progress = json || !isatty(2) ? NULL : progress;
  c.o.progress_ud = &last;
  if ((rc = vg_plan_coverage(aoi, &c.o, &r)) != VG_OK) {
    ret = fail("plan", aoi->name, rc);
    goto done;
  }
  {
    vg_mission_build_opts bo = VG_MISSION_BUILD_OPTS_INIT;
    bo.sensor = &c.o.sensor;
    bo.has_base = c.o.has_base;
    bo.base = c.o.base;
    bo.home_amsl_m = home_amsl;
    if ((rc = vg_mission_from_plan(&r, aoi, c.o.aircraft.alt_agl_m, c.o.aircraft.airspeed_mps, &bo, &m)) != VG_OK) {
      ret = fail("plan", "mission", rc);
      goto done;
    }
  }
  if (ends_with(out_path, ".plan"))
    rc = vg_mission_write_plan(&m, &out);
  else if (ends_with(out_path, ".kml"))
    rc = vg_mission_write_kml(&m, aoi->name, &out);
  else if (ends_with(out_path, ".geojson"))
    rc = vg_mission_write_geojson(&m, &out);
  else
    rc = vg_mission_write_wpl(&m, &out);
  if (rc != VG_OK || (rc = write_file(out_path, &out)) != VG_OK) {
    ret = fail("plan", out_path, rc);
    goto done;
  }
  if (png && (rc = vg_plan_draw_png(png, &r, aoi, nf, nnf, 1200)) != VG_OK) {
    ret = fail("plan", png, rc);
    goto done;
  }
  if (json) {
    printf("{\"area\":\"%s\",\"area_m2\":%.1f,\"coverage\":%.6f,\"overlap\":%.4f,\"angle_deg\":%.2f,"
           "\"turn_radius_m\":%.2f,\"crab_deg\":%.3f,\"swath_m\":%.2f,\"spacing_m\":%.2f,\"cells\":%zu,\"lanes\":%zu,"
           "\"turns\":%zu,\"lane_m\":%.1f,\"turn_m\":%.1f,\"transit_m\":%.1f,\"length_m\":%.1f,\"time_s\":%.1f,"
           "\"lower_bound_m\":%.1f,\"nofly_zones\":%zu,\"nofly_hits\":%zu,\"mission_items\":%zu}\n",
           aoi->name, r.area_m2, r.coverage, r.overlap, r.angle_deg, r.turn_radius_m, r.crab_deg, r.swath_m,
           r.spacing_m, r.cells, r.lanes, r.turns, r.lane_m, r.turn_m, r.transit_m, r.length_m, r.time_s,
           r.lower_bound_m, nnf, r.nofly_hits, vg_mission_count(&m));
  } else {
    printf("area        %s: %.3f km2%s\n", aoi->name, r.area_m2 / 1e6, nnf ? " (no-fly zones taken out)" : "");
    printf("coverage    %.2f %% of the area imaged, overlap %.0f %%\n", 100 * r.coverage, 100 * r.overlap);
    printf("lanes       %zu at %.1f deg from north, in %zu cell%s; swath %.1f m, spacing %.1f m\n", r.lanes,
           r.angle_deg, r.cells, r.cells == 1 ? "" : "s", r.swath_m, r.spacing_m);
    printf("turns       %zu, radius %.1f m%s\n", r.turns, r.turn_radius_m,
           r.spacing_m < 2 * r.turn_radius_m ? " (lanes closer than 2R: flown out of order)" : "");
    if (c.o.aircraft.wind_mps > 0)
      printf("wind        %.1f m/s from %.0f deg: crab %.1f deg on the lanes\n", c.o.aircraft.wind_mps,
             c.o.aircraft.wind_from_deg, r.crab_deg);
    printf("length      %.2f km: lanes %.2f, turns %.2f, transit %.2f (lower bound %.2f km, ratio %.3f)\n",
           r.length_m / 1000, r.lane_m / 1000, r.turn_m / 1000, r.transit_m / 1000, r.lower_bound_m / 1000,
           (r.lane_m + r.turn_m) / r.lower_bound_m);
    printf("time        %.1f min\n", r.time_s / 60);
    if (nnf)
      printf("no-fly      %zu zone%s, %zu path samples inside%s\n", nnf, nnf == 1 ? "" : "s", r.nofly_hits,
             r.nofly_hits ? ": CHECK THE PLAN" : "");
    printf("mission     %s: %zu items\n", out_path, vg_mission_count(&m));
    if (png)
      printf("picture     %s\n", png);
  }
  ret = r.nofly_hits ? VG_EXIT_PARTIAL : VG_EXIT_CLEAN;
done:
  vg_plan_result_free(&r);
  vg_mission_free(&m);
  vg_buf_free(&out);
  free(nf);
  vg_plan_areas_free(&aois);
  common_free(&c);
  return ret;
}

/* ---- vigia schedule -------------------------------------------------------------------------- */

static int parse_rfc3339(const char *s, time_t *out)
{
  struct tm tm;
  int n = 0;
  memset(&tm, 0, sizeof tm);
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec, &n) != 6 || s[n])
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *out = timegm(&tm);
  return 0;
}

int vg_cmd_schedule(int argc, char **argv)
{
  common c;
  const char *aoi_path = NULL, *png = NULL;
  int json = 0, verbose = 0, rc, ret = VG_EXIT_FAILED, have_base = 0;
  double b[2], endurance_h = 0, days = 7, turnaround_h = 1, period_h = 0, w[2] = {0, 24};
  size_t aircraft = 1, n = 0;
  time_t start = time(NULL);
  vg_plan_areas aois = {0};
  vg_plan_area *nf = NULL;
  size_t nnf = 0;
  vg_sched_area *sa = NULL;
  vg_sched_opts so;
  vg_sched_result res;
  memset(&res, 0, sizeof res);
  memset(&so, 0, sizeof so);
  common_init(&c);
  for (int i = 1; i < argc; i++) {
    int k = common_arg("schedule", &c, argc, argv, &i);
    double v;
    if (k < 0) {
      ret = VG_EXIT_USAGE;
      goto done;
    }
    if (k)
      continue;
#define NUMARG(flag, dst, cond)                                                                                      \
  else if (!strcmp(argv[i], flag) && i + 1 < argc)                                                                   \
  {                                                                                                                  \
    if (num(argv[++i], &v) || !(cond)) {                                                                             \
      ret = usage_err("schedule", flag " is out of range", argv[i]);                                                 \
      goto done;                                                                                                     \
    }                                                                                                                \
    dst = v;                                                                                                         \
  }
    if (0) {
    }
    NUMARG("--endurance", endurance_h, v > 0)
    NUMARG("--days", days, v > 0)
    NUMARG("--turnaround", turnaround_h, v >= 0)
    NUMARG("--period", period_h, v > 0)
#undef NUMARG
    else if (!strcmp(argv[i], "--aircraft") && i + 1 < argc)
    {
      double v2;
      if (num(argv[++i], &v2) || v2 < 1 || v2 > VG_SCHED_AIRCRAFT_MAX || v2 != floor(v2)) {
        ret = usage_err("schedule", "--aircraft wants a count", argv[i]);
        goto done;
      }
      aircraft = (size_t)v2;
    }
    else if (!strcmp(argv[i], "--window") && i + 1 < argc)
    {
      char buf[32], *dash;
      snprintf(buf, sizeof buf, "%s", argv[++i]);
      if (!(dash = strchr(buf, '-')) || (*dash = 0, num(buf, &w[0])) || num(dash + 1, &w[1]) || w[0] < 0 ||
          w[0] > 24 || w[1] < 0 || w[1] > 24) {
        ret = usage_err("schedule", "--window wants HH-HH (hours, UTC)", argv[i]);
        goto done;
      }
    }
    else if (!strcmp(argv[i], "--start") && i + 1 < argc)
    {
      if (parse_rfc3339(argv[++i], &start)) {
        ret = usage_err("schedule", "--start wants YYYY-MM-DDTHH:MM:SSZ", argv[i]);
        goto done;
      }
    }
    else if (!strcmp(argv[i], "--base") && i + 1 < argc)
    {
      if (nums(argv[++i], b, 2) != 2 || fabs(b[0]) > 90 || fabs(b[1]) > 180) {
        ret = usage_err("schedule", "--base wants LAT,LON in degrees", argv[i]);
        goto done;
      }
      have_base = 1;
    }
    else if (!strcmp(argv[i], "--png") && i + 1 < argc) png = argv[++i];
    else if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "-v")) verbose = 1;
    else if (argv[i][0] == '-')
    {
      ret = usage_err("schedule", "unknown option or missing value", argv[i]);
      goto done;
    }
    else if (!aoi_path) aoi_path = argv[i];
    else
    {
      ret = usage_err("schedule", "one areas file only", argv[i]);
      goto done;
    }
  }
  if (!aoi_path || !have_base || !(endurance_h > 0) || !c.have_alt || !c.have_speed || !c.have_sensor) {
    ret = usage_err("schedule", "AOIS, --base, --endurance, --alt, --speed and --sensor are required", NULL);
    goto done;
  }
  if ((rc = vg_plan_areas_load(&aois, aoi_path)) != VG_OK) {
    ret = fail("schedule", "areas", rc);
    goto done;
  }
  if ((rc = collect_nofly(&aois, &c, &nf, &nnf)) != VG_OK) {
    ret = fail("schedule", "no-fly zones", rc);
    goto done;
  }
  if (!(sa = calloc(aois.n, sizeof *sa))) {
    ret = fail("schedule", "areas", vg_error_set(VG_E_NOMEM, "areas"));
    goto done;
  }
  c.o.nofly = nf;
  c.o.nnofly = nnf;
  for (size_t i = 0; i < aois.n; i++) {
    const vg_plan_area *a = &aois.a[i];
    vg_plan_result r;
    if (a->kind != VG_PLAN_AOI)
      continue;
    if (!(a->revisit_s > 0) && !(period_h > 0)) {
      fprintf(stderr, "vigia schedule: area '%s' has no revisit_h and no --period was given\n", a->name);
      ret = VG_EXIT_USAGE;
      goto done;
    }
    if ((rc = vg_plan_coverage(a, &c.o, &r)) != VG_OK) {
      ret = fail("schedule", a->name, rc);
      goto done;
    }
    snprintf(sa[n].name, sizeof sa[n].name, "%s", a->name);
    sa[n].entry = r.wp[0].ll;
    sa[n].exit = r.wp[r.nwp - 1].ll;
    sa[n].cover_s = r.time_s;
    sa[n].priority = a->priority;
    sa[n].period_s = a->revisit_s > 0 ? a->revisit_s : period_h * 3600;
    sa[n].last_s = a->last_visit_us == VG_PLAN_NEVER ? -INFINITY
                                                    : ((double)a->last_visit_us / 1e6 - (double)start);
    if (sa[n].last_s > 0)
      sa[n].last_s = 0; /* a last visit after the start: covered at the start */
    if (!json)
      fprintf(stderr, "  planned %-24s %6.1f min, %zu lanes, coverage %.2f %%\n", a->name, r.time_s / 60, r.lanes,
              100 * r.coverage);
    vg_plan_result_free(&r);
    n++;
  }
  if (!n) {
    fprintf(stderr, "vigia schedule: %s: no area of interest\n", aoi_path);
    goto done;
  }
  so.version = VG_SCHED_OPTS_VERSION;
  so.base.lat = b[0];
  so.base.lon = b[1];
  so.speed_mps = c.o.aircraft.airspeed_mps;
  so.endurance_s = endurance_h * 3600;
  so.turnaround_s = turnaround_h * 3600;
  so.days = days;
  so.window_start_h = w[0];
  so.window_end_h = w[1];
  so.start_h = fmod((double)start / 3600.0, 24.0);
  so.aircraft = aircraft;
  {
    int last = -1;
    so.progress = json || !isatty(2) ? NULL : progress;
    so.progress_ud = &last;
    if ((rc = vg_sched_run(sa, n, &so, &res)) != VG_OK) {
      ret = fail("schedule", "schedule", rc);
      goto done;
    }
  }
  if (json) {
    printf("{\"areas\":%zu,\"sorties\":%zu,\"visits\":%zu,\"deadlines\":%zu,\"missed\":%zu,\"infeasible\":%zu,"
           "\"load\":%.4f,\"flight_h\":%.2f,\"per_area\":[",
           n, res.nsorties, res.nvisits, res.deadlines, res.missed, res.infeasible, res.load, res.flight_s / 3600);
    for (size_t i = 0; i < n; i++) {
      const vg_sched_stats *s = &res.stats[i];
      printf("%s{\"name\":\"%s\",\"cover_min\":%.2f,\"period_h\":%.2f,\"priority\":%g,\"visits\":%zu,"
             "\"mean_gap_h\":%.3f,\"worst_gap_h\":%.3f,\"deadlines\":%zu,\"missed\":%zu,\"feasible\":%s}",
             i ? "," : "", sa[i].name, sa[i].cover_s / 60, sa[i].period_s / 3600, sa[i].priority, s->visits,
             s->mean_gap_s / 3600, s->worst_gap_s / 3600, s->deadlines, s->missed, s->feasible ? "true" : "false");
    }
    printf("]}\n");
  } else {
    printf("schedule    %zu areas over %g days from %.5f, %.5f: %zu sorties, %zu visits, %.1f h airborne\n", n,
           days, b[0], b[1], res.nsorties, res.nvisits, res.flight_s / 3600);
    printf("load        %.2f of the flying time available%s\n", res.load,
           res.load > 1 ? ": more than one aircraft can fly: deadlines will be missed" : "");
    printf("deadlines   %zu in the span, %zu missed; %zu area%s no sortie can reach\n", res.deadlines, res.missed,
           res.infeasible, res.infeasible == 1 ? "" : "s");
    printf("\n%-24s %8s %8s %4s %6s %9s %9s %9s %6s\n", "area", "cover", "period", "prio", "visits", "mean gap",
           "worst gap", "deadlines", "missed");
    for (size_t i = 0; i < n; i++) {
      const vg_sched_stats *s = &res.stats[i];
      printf("%-24.24s %6.1f m %6.1f h %4g %6zu %7.1f h %7.1f h %9zu %6zu%s%s\n", sa[i].name, sa[i].cover_s / 60,
             sa[i].period_s / 3600, sa[i].priority, s->visits, s->mean_gap_s / 3600, s->worst_gap_s / 3600,
             s->deadlines, s->missed, s->feasible ? "" : "  NOT FEASIBLE: ", s->feasible ? "" : s->why);
    }
    printf("\n%s\n", verbose ? "sorties:" : "first sorties (-v: all):");
    for (size_t k = 0; k < res.nsorties && (verbose || k < 10); k++) {
      const vg_sched_sortie *s = &res.sortie[k];
      time_t t = start + (time_t)s->launch_s;
      struct tm tm;
      char when[32];
      gmtime_r(&t, &tm);
      strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
      printf("  %s  aircraft %zu  %5.1f h  ", when, s->aircraft + 1, (s->land_s - s->launch_s) / 3600);
      for (size_t v = 0; v < s->n; v++)
        printf("%s%s", v ? " > " : "", sa[res.visit[s->first + v].area].name);
      printf("\n");
    }
  }
  if (png && (rc = vg_sched_draw_png(png, sa, n, &res, 1200)) != VG_OK) {
    ret = fail("schedule", png, rc);
    goto done;
  }
  ret = VG_EXIT_CLEAN; /* missed deadlines are a finding, printed, not a failure */
done:
  vg_sched_result_free(&res);
  free(sa);
  free(nf);
  vg_plan_areas_free(&aois);
  common_free(&c);
  return ret;
}
