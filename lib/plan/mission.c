/*
 * Mission files (docs/formats/mission.md): QGroundControl .plan and QGC WPL 110 read into one
 * model (include/vigia/plan.h, "missions") and written back, KML 2.2 and GeoJSON views of a
 * mission, and the mission that flies a coverage plan.
 *
 * QGC .plan (JSON; QGC docs/en/qgc-dev-guide/file_formats/plan.md, and what QGC's loaders
 * require: PlanMasterController, MissionController, MissionItem, SurveyComplexItem,
 * TransectStyleComplexItem, CameraCalc):
 *
 *   plan         fileType "Plan", version 1, mission{}, [groundStation, geoFence, rallyPoints: kept]
 *   mission      version 2, firmwareType, [vehicleType, cruiseSpeed, hoverSpeed],
 *                plannedHomePosition [lat, lon, alt AMSL], items[]
 *   SimpleItem   type, command, frame, params[7] (null = NaN), autoContinue, [doJumpId]
 *   survey       type "ComplexItem", complexItemType "survey", version 4|5, polygon [[lat, lon]..],
 *                angle, entryLocation, flyAlternateTransects, splitConcavePolygons (5 only),
 *                TransectStyleComplexItem{}
 *   transects    version 1|2, TurnAroundDistance, CameraTriggerInTurnAround, HoverAndCapture,
 *                Refly90Degrees, [CameraShots], Items[SimpleItem..], VisualTransectPoints [[lat, lon]..],
 *                CameraCalc{AdjustedFootprintSide, AdjustedFootprintFrontal, DistanceToSurface}
 *
 * Every other member, at every level, is kept as it was: as a compact JSON object text with
 * sorted keys per object, merged back when writing. The writer builds the document as a jansson
 * tree and prints it through vg_jw with keys sorted (as QGC's QJsonObject does), so numbers
 * come out in their shortest round-trip form.
 *
 * QGC WPL 110 (ArduPilot, Mission Planner; QGC MissionItem::load(QTextStream&)):
 *
 *   line 1    QGC WPL 110
 *   line 2..  INDEX CURRENT FRAME COMMAND P1 P2 P3 P4 LAT    LON    ALT    AUTOCONTINUE  (tab separated)
 *             0,1.. 0|1     uint8 uint16  double..... double double double 0|1
 *   row 0 is home.
 */
#include <errno.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "vigia/plan.h"

#define DEG2RAD (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8 /* mean radius: only for "within 1 m of home" and lane lengths */
/* A kept-member text or a written document: numbers re-printed in shortest form grow by less than
 * 2x (e.g. "1e5" -> "100000"), so 4 times the largest input leaves room. */
#define KEEP_MAX ((size_t)VG_PLAN_FILE_MAX * 4)

/* What QGC's manual camera is called in CameraCalc (CameraCalc::canonicalManualCameraName). */
#define QGC_MANUAL_CAMERA "Manual (no camera specs)"
/* The plan members QGC requires besides the mission (PlanMasterController::loadFromFile). */
#define PLAN_DEFAULT_EXTRA                                                                                         \
  "{\"geoFence\":{\"circles\":[],\"polygons\":[],\"version\":2},\"groundStation\":\"vigia\","                    \
  "\"rallyPoints\":{\"points\":[],\"version\":2}}"

/* ---- the model ------------------------------------------------------------------------------ */

static void item_init(vg_mission_item *it)
{
  memset(it, 0, sizeof *it);
  it->command = VG_MAV_CMD_NAV_WAYPOINT;
  it->autocontinue = 1;
  it->do_jump_id = -1;
}

void vg_mission_init(vg_mission *m)
{
  memset(m, 0, sizeof *m);
  m->firmware_type = VG_MAV_AUTOPILOT_PX4;
  m->vehicle_type = -1;
  m->cruise_mps = NAN;
  m->hover_mps = NAN;
  item_init(&m->home);
  m->home.current = 1;
}

static void survey_free(vg_mission_survey *s)
{
  free(s->polygon);
  for (size_t i = 0; s->items && i < s->nitems; i++)
    free(s->items[i].extra);
  free(s->items);
  free(s->transect);
  free(s->extra);
  free(s->ts_extra);
  free(s->camera_extra);
  memset(s, 0, sizeof *s);
}

void vg_mission_free(vg_mission *m)
{
  if (!m)
    return;
  for (size_t i = 0; m->entries && i < m->nentries; i++) {
    free(m->entries[i].item.extra);
    survey_free(&m->entries[i].survey);
  }
  free(m->entries);
  free(m->home.extra);
  free(m->extra);
  free(m->mission_extra);
  vg_mission_init(m);
}

/* The MAVLink items after home, in flight order: simple entries and each survey's Items. */
typedef struct flat {
  const vg_mission *m;
  size_t e, k;
} flat;

static const vg_mission_item *flat_next(flat *f)
{
  const vg_mission_item *it = NULL;
  while (!it && f->e < f->m->nentries) {
    const vg_mission_entry *x = &f->m->entries[f->e];
    if (x->kind != VG_MISSION_SURVEY) {
      it = &x->item;
      f->e++;
    } else if (f->k < x->survey.nitems) {
      it = &x->survey.items[f->k++];
    } else {
      f->e++;
      f->k = 0;
    }
  }
  return it;
}

size_t vg_mission_count(const vg_mission *m)
{
  size_t n = 0;
  for (size_t i = 0; i < m->nentries; i++)
    n += m->entries[i].kind == VG_MISSION_SURVEY ? m->entries[i].survey.nitems : 1;
  return n;
}

/* ---- JSON helpers ---------------------------------------------------------------------------- */

static int cmp_key(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Prints @p v through @p w, object keys sorted. @p depth counts the containers already open. */
static int emit(vg_jw *w, json_t *v, int depth)
{
  const char **keys = NULL;
  int rc = VG_OK;
  if (depth >= VG_MISSION_DEPTH_MAX && (json_is_object(v) || json_is_array(v))) {
    rc = vg_error_set(VG_E_LIMIT, "JSON nesting deeper than VG_MISSION_DEPTH_MAX (%d)", VG_MISSION_DEPTH_MAX);
    goto done;
  }
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    size_t n = json_object_size(v), i = 0;
    const char *k;
    json_t *x;
    if (n && !(keys = malloc(n * sizeof *keys))) {
      rc = vg_error_set(VG_E_NOMEM, "mission: out of memory sorting %zu JSON members", n);
      goto done;
    }
    json_object_foreach(v, k, x) keys[i++] = k;
    if (n > 1) /* qsort wants a non-NULL base even for 0 elements */
      qsort(keys, n, sizeof *keys, cmp_key);
    vg_jw_obj_begin(w);
    for (i = 0; i < n && rc == VG_OK; i++) {
      vg_jw_key(w, keys[i]);
      rc = emit(w, json_object_get(v, keys[i]), depth + 1);
    }
    vg_jw_obj_end(w);
    break;
  }
  case JSON_ARRAY:
    vg_jw_arr_begin(w);
    for (size_t i = 0; i < json_array_size(v) && rc == VG_OK; i++)
      rc = emit(w, json_array_get(v, i), depth + 1);
    vg_jw_arr_end(w);
    break;
  case JSON_STRING: vg_jw_strn(w, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: vg_jw_int(w, (int64_t)json_integer_value(v)); break;
  case JSON_REAL: vg_jw_real(w, json_real_value(v)); break;
  case JSON_TRUE: vg_jw_bool(w, 1); break;
  case JSON_FALSE: vg_jw_bool(w, 0); break;
  default: vg_jw_null(w); break;
  }
  if (rc == VG_OK)
    rc = w->err;
done:
  free(keys);
  return rc;
}

/* @p v as compact JSON text, malloc'd and NUL-terminated, in *out. */
static int to_text(json_t *v, char **out)
{
  vg_buf b;
  vg_jw w;
  int rc;
  vg_buf_init(&b, KEEP_MAX);
  vg_jw_init(&w, &b, 0);
  rc = emit(&w, v, 0);
  if (rc == VG_OK)
    rc = vg_jw_finish(&w);
  if (rc == VG_OK)
    rc = vg_buf_putc(&b, 0);
  if (rc == VG_OK) {
    *out = (char *)b.data;
    b.data = NULL;
  }
  vg_buf_free(&b);
  return rc;
}

/* 1 when @p v nests at most VG_MISSION_DEPTH_MAX containers deep (@p depth: those around it). */
static int depth_ok(json_t *v, int depth)
{
  int ok = 1;
  if (!json_is_object(v) && !json_is_array(v))
    return 1;
  if (depth >= VG_MISSION_DEPTH_MAX)
    return 0;
  if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
      if (!(ok = depth_ok(x, depth + 1)))
        break;
    }
  } else {
    for (size_t i = 0; ok && i < json_array_size(v); i++)
      ok = depth_ok(json_array_get(v, i), depth + 1);
  }
  return ok;
}

/* A string shown in a message: at most 40 printable ASCII characters, the rest as '?'. */
static void show(char *dst, size_t cap, const char *s)
{
  size_t i = 0;
  for (; s[i] && i < 40 && i + 4 < cap; i++)
    dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  if (s[i] && i + 4 <= cap) {
    memcpy(dst + i, "...", 3);
    i += 3;
  }
  dst[i] = 0;
}

/* ---- reading a .plan -------------------------------------------------------------------------- */

typedef struct rctx {
  const char *what;
  size_t nitems; /* simple items so far, at every level */
} rctx;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int fail(const rctx *c, int code, const char *where, const char *key, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return vg_error_set(code, "%s: %s%s%s: %s", c->what, where, key ? "." : "", key ? key : "", msg);
}

static int need(const rctx *c, json_t *o, const char *where, const char *key, json_t **v)
{
  *v = json_object_get(o, key);
  return *v ? VG_OK : fail(c, VG_E_MALFORMED, where, key, "missing");
}

static int as_num(const rctx *c, json_t *v, const char *where, const char *key, double *out)
{
  if (!json_is_number(v))
    return fail(c, VG_E_MALFORMED, where, key, "not a number");
  *out = json_number_value(v);
  return VG_OK;
}

static int get_num(const rctx *c, json_t *o, const char *where, const char *key, double *out)
{
  json_t *v;
  int rc = need(c, o, where, key, &v);
  return rc == VG_OK ? as_num(c, v, where, key, out) : rc;
}

/* An integer lo..hi; a real with an integral value is one too (QGC's JSON numbers are doubles). */
static int as_int(const rctx *c, json_t *v, const char *where, const char *key, long long lo, long long hi,
                  long long *out)
{
  int ok = 0;
  long long x = 0;
  if (json_is_integer(v)) {
    x = json_integer_value(v);
    ok = 1;
  } else if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d >= (double)lo && d <= (double)hi && d == floor(d)) {
      x = (long long)d;
      ok = 1;
    }
  }
  if (!ok || x < lo || x > hi)
    return fail(c, VG_E_MALFORMED, where, key, "not an integer %lld..%lld", lo, hi);
  *out = x;
  return VG_OK;
}

static int get_int(const rctx *c, json_t *o, const char *where, const char *key, long long lo, long long hi,
                   long long *out)
{
  json_t *v;
  int rc = need(c, o, where, key, &v);
  return rc == VG_OK ? as_int(c, v, where, key, lo, hi, out) : rc;
}

static int get_bool(const rctx *c, json_t *o, const char *where, const char *key, int *out)
{
  json_t *v;
  int rc = need(c, o, where, key, &v);
  if (rc == VG_OK && !json_is_boolean(v))
    rc = fail(c, VG_E_MALFORMED, where, key, "not true or false");
  if (rc == VG_OK)
    *out = json_is_true(v);
  return rc;
}

/* The string member @p key must be @p want. */
static int get_str_is(const rctx *c, json_t *o, const char *where, const char *key, const char *want, int code)
{
  json_t *v;
  char got[48];
  int rc = need(c, o, where, key, &v);
  if (rc == VG_OK && !json_is_string(v))
    rc = fail(c, VG_E_MALFORMED, where, key, "not a string");
  if (rc == VG_OK && strcmp(json_string_value(v), want) != 0) {
    show(got, sizeof got, json_string_value(v));
    rc = fail(c, code, where, key, "\"%s\", expected \"%s\"", got, want);
  }
  return rc;
}

static int known(const char *k, const char *const *list)
{
  for (; *list; list++)
    if (strcmp(k, *list) == 0)
      return 1;
  return 0;
}

/* The members of @p o not in @p list as text in *out (NULL when there are none). */
static int keep(const rctx *c, json_t *o, const char *const *list, const char *where, char **out)
{
  json_t *ex = NULL, *v;
  const char *k;
  int rc = VG_OK;
  *out = NULL;
  json_object_foreach(o, k, v) {
    if (known(k, list))
      continue;
    if ((!ex && !(ex = json_object())) || json_object_set(ex, k, v) != 0) {
      rc = fail(c, VG_E_NOMEM, where, NULL, "out of memory keeping member %s", k);
      break;
    }
  }
  if (rc == VG_OK && ex)
    rc = to_text(ex, out);
  json_decref(ex);
  return rc;
}

/* An array of [lat, lon] pairs, @p lo .. @p hi of them. */
static int get_lls(const rctx *c, json_t *o, const char *where, const char *key, size_t lo, size_t hi,
                   vg_plan_ll **out, size_t *n)
{
  json_t *a;
  int rc = need(c, o, where, key, &a);
  size_t na = 0;
  if (rc == VG_OK && !json_is_array(a))
    rc = fail(c, VG_E_MALFORMED, where, key, "not an array");
  if (rc == VG_OK && ((na = json_array_size(a)) < lo || na > hi))
    rc = fail(c, na > hi ? VG_E_LIMIT : VG_E_MALFORMED, where, key, "%zu points, expected %zu..%zu", na, lo, hi);
  if (rc == VG_OK && na && !(*out = calloc(na, sizeof **out)))
    rc = fail(c, VG_E_NOMEM, where, key, "out of memory for %zu points", na);
  for (size_t i = 0; rc == VG_OK && i < na; i++) {
    json_t *p = json_array_get(a, i), *la, *lo_;
    if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_number(la = json_array_get(p, 0)) ||
        !json_is_number(lo_ = json_array_get(p, 1))) {
      rc = fail(c, VG_E_MALFORMED, where, key, "[%zu]: not a [latitude, longitude] pair of numbers", i);
      break;
    }
    (*out)[i].lat = json_number_value(la);
    (*out)[i].lon = json_number_value(lo_);
    if (fabs((*out)[i].lat) > 90 || fabs((*out)[i].lon) > 180)
      rc = fail(c, VG_E_MALFORMED, where, key, "[%zu]: latitude %g or longitude %g out of range", i, (*out)[i].lat,
                (*out)[i].lon);
  }
  if (rc == VG_OK)
    *n = na;
  return rc;
}

static const char *const k_simple[] = {"type", "command", "frame", "params", "autoContinue", "doJumpId", NULL};

static int rd_simple(rctx *c, json_t *o, const char *where, vg_mission_item *it)
{
  json_t *v, *params = NULL;
  long long x = 0;
  int rc = VG_OK, b = 0;
  if (!json_is_object(o)) {
    rc = fail(c, VG_E_MALFORMED, where, NULL, "not an object");
    goto done;
  }
  if (++c->nitems > VG_PLAN_ITEMS_MAX) {
    rc = fail(c, VG_E_LIMIT, where, NULL, "more than VG_PLAN_ITEMS_MAX (%d) items", VG_PLAN_ITEMS_MAX);
    goto done;
  }
  if ((rc = get_str_is(c, o, where, "type", "SimpleItem", VG_E_MALFORMED)) != VG_OK)
    goto done;
  if ((rc = get_int(c, o, where, "command", 0, 65535, &x)) != VG_OK)
    goto done;
  it->command = (uint16_t)x;
  if ((rc = get_int(c, o, where, "frame", 0, 255, &x)) != VG_OK)
    goto done;
  it->frame = (uint8_t)x;
  if ((rc = need(c, o, where, "params", &params)) != VG_OK)
    goto done;
  if (!json_is_array(params) || json_array_size(params) != 7) {
    rc = fail(c, VG_E_MALFORMED, where, "params", "not an array of 7 numbers or nulls");
    goto done;
  }
  for (size_t i = 0; i < 7; i++) {
    v = json_array_get(params, i);
    if (json_is_null(v)) {
      it->param[i] = NAN;
    } else if (json_is_number(v)) {
      it->param[i] = json_number_value(v);
    } else {
      char key[16];
      snprintf(key, sizeof key, "params[%zu]", i);
      rc = fail(c, VG_E_MALFORMED, where, key, "not a number or null");
      goto done;
    }
  }
  if ((rc = get_bool(c, o, where, "autoContinue", &b)) != VG_OK)
    goto done;
  it->autocontinue = (uint8_t)b;
  if ((v = json_object_get(o, "doJumpId")) != NULL) {
    if ((rc = as_int(c, v, where, "doJumpId", 0, INT32_MAX, &x)) != VG_OK)
      goto done;
    it->do_jump_id = (int32_t)x;
  }
  rc = keep(c, o, k_simple, where, &it->extra);
done:
  return rc;
}

static const char *const k_survey5[] = {"type",          "complexItemType",       "version",
                                        "polygon",       "angle",                 "entryLocation",
                                        "flyAlternateTransects", "splitConcavePolygons", "TransectStyleComplexItem",
                                        NULL};
static const char *const k_survey4[] = {"type",          "complexItemType",       "version",
                                        "polygon",       "angle",                 "entryLocation",
                                        "flyAlternateTransects", "TransectStyleComplexItem", NULL};
static const char *const k_ts[] = {"version",        "TurnAroundDistance", "CameraTriggerInTurnAround",
                                   "HoverAndCapture", "Refly90Degrees",     "CameraShots",
                                   "Items",          "VisualTransectPoints", "CameraCalc",
                                   NULL};
static const char *const k_cam[] = {"AdjustedFootprintSide", "AdjustedFootprintFrontal", "DistanceToSurface", NULL};

static int rd_survey(rctx *c, json_t *o, const char *where, vg_mission_survey *s)
{
  char tsw[256], cw[256], iw[256];
  json_t *ts = NULL, *cam = NULL, *items = NULL;
  long long x = 0;
  size_t n = 0;
  int rc;
  if ((rc = get_int(c, o, where, "version", 0, INT32_MAX, &x)) != VG_OK)
    goto done;
  if (x != 4 && x != 5) {
    rc = fail(c, VG_E_UNSUPPORTED, where, "version", "survey version %lld not supported (4 and 5 are)", x);
    goto done;
  }
  s->version = (int)x;
  if ((rc = get_lls(c, o, where, "polygon", 3, VG_PLAN_RING_MAX, &s->polygon, &s->npolygon)) != VG_OK ||
      (rc = get_num(c, o, where, "angle", &s->angle_deg)) != VG_OK ||
      (rc = get_int(c, o, where, "entryLocation", 0, INT32_MAX, &x)) != VG_OK)
    goto done;
  s->entry_location = (int)x;
  if ((rc = get_bool(c, o, where, "flyAlternateTransects", &s->fly_alternate_transects)) != VG_OK)
    goto done;
  if (s->version == 5 && (rc = get_bool(c, o, where, "splitConcavePolygons", &s->split_concave)) != VG_OK)
    goto done;
  if ((rc = need(c, o, where, "TransectStyleComplexItem", &ts)) != VG_OK)
    goto done;
  snprintf(tsw, sizeof tsw, "%.200s.TransectStyleComplexItem", where);
  if (!json_is_object(ts)) {
    rc = fail(c, VG_E_MALFORMED, tsw, NULL, "not an object");
    goto done;
  }
  if ((rc = get_int(c, ts, tsw, "version", 0, INT32_MAX, &x)) != VG_OK)
    goto done;
  if (x != 1 && x != 2) {
    rc = fail(c, VG_E_UNSUPPORTED, tsw, "version", "version %lld not supported (1 and 2 are)", x);
    goto done;
  }
  s->ts_version = (int)x;
  if ((rc = get_num(c, ts, tsw, "TurnAroundDistance", &s->turnaround_m)) != VG_OK ||
      (rc = get_bool(c, ts, tsw, "CameraTriggerInTurnAround", &s->trigger_in_turnaround)) != VG_OK ||
      (rc = get_bool(c, ts, tsw, "HoverAndCapture", &s->hover_and_capture)) != VG_OK ||
      (rc = get_bool(c, ts, tsw, "Refly90Degrees", &s->refly_90)) != VG_OK)
    goto done;
  s->camera_shots = -1;
  if (json_object_get(ts, "CameraShots")) {
    if ((rc = get_int(c, ts, tsw, "CameraShots", 0, INT32_MAX, &x)) != VG_OK)
      goto done;
    s->camera_shots = (int)x;
  }
  if ((rc = get_lls(c, ts, tsw, "VisualTransectPoints", 0, VG_PLAN_ITEMS_MAX, &s->transect, &s->ntransect)) != VG_OK)
    goto done;
  if ((rc = need(c, ts, tsw, "CameraCalc", &cam)) != VG_OK)
    goto done;
  snprintf(cw, sizeof cw, "%.200s.CameraCalc", tsw);
  if (!json_is_object(cam)) {
    rc = fail(c, VG_E_MALFORMED, cw, NULL, "not an object");
    goto done;
  }
  if ((rc = get_num(c, cam, cw, "AdjustedFootprintSide", &s->footprint_side_m)) != VG_OK ||
      (rc = get_num(c, cam, cw, "AdjustedFootprintFrontal", &s->footprint_front_m)) != VG_OK ||
      (rc = get_num(c, cam, cw, "DistanceToSurface", &s->distance_m)) != VG_OK)
    goto done;
  if ((rc = need(c, ts, tsw, "Items", &items)) != VG_OK)
    goto done;
  if (!json_is_array(items)) {
    rc = fail(c, VG_E_MALFORMED, tsw, "Items", "not an array");
    goto done;
  }
  if ((n = json_array_size(items)) > VG_PLAN_ITEMS_MAX) {
    rc = fail(c, VG_E_LIMIT, tsw, "Items", "%zu items, more than VG_PLAN_ITEMS_MAX (%d)", n, VG_PLAN_ITEMS_MAX);
    goto done;
  }
  if (n && !(s->items = calloc(n, sizeof *s->items))) {
    rc = fail(c, VG_E_NOMEM, tsw, "Items", "out of memory for %zu items", n);
    goto done;
  }
  s->nitems = n;
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    item_init(&s->items[i]);
    snprintf(iw, sizeof iw, "%.200s.Items[%zu]", tsw, i);
    rc = rd_simple(c, json_array_get(items, i), iw, &s->items[i]);
  }
  if (rc == VG_OK)
    rc = keep(c, cam, k_cam, cw, &s->camera_extra);
  if (rc == VG_OK)
    rc = keep(c, ts, k_ts, tsw, &s->ts_extra);
  if (rc == VG_OK)
    rc = keep(c, o, s->version == 5 ? k_survey5 : k_survey4, where, &s->extra);
done:
  return rc;
}

static int rd_entry(rctx *c, json_t *o, const char *where, vg_mission_entry *e)
{
  json_t *t;
  char got[48];
  int rc = VG_OK;
  item_init(&e->item);
  if (!json_is_object(o))
    return fail(c, VG_E_MALFORMED, where, NULL, "not an object");
  if ((rc = need(c, o, where, "type", &t)) != VG_OK)
    return rc;
  if (json_is_string(t) && strcmp(json_string_value(t), "SimpleItem") == 0) {
    e->kind = VG_MISSION_SIMPLE;
    rc = rd_simple(c, o, where, &e->item);
  } else if (json_is_string(t) && strcmp(json_string_value(t), "ComplexItem") == 0) {
    json_t *ct = json_object_get(o, "complexItemType");
    if (!json_is_string(ct)) {
      rc = fail(c, VG_E_MALFORMED, where, "complexItemType", "missing or not a string");
    } else if (strcmp(json_string_value(ct), "survey") != 0) {
      show(got, sizeof got, json_string_value(ct));
      rc = fail(c, VG_E_UNSUPPORTED, where, "complexItemType", "\"%s\" not supported (only \"survey\")", got);
    } else {
      e->kind = VG_MISSION_SURVEY;
      rc = rd_survey(c, o, where, &e->survey);
    }
  } else {
    rc = fail(c, VG_E_MALFORMED, where, "type", "not \"SimpleItem\" or \"ComplexItem\"");
  }
  return rc;
}

static const char *const k_plan[] = {"fileType", "version", "mission", NULL};
static const char *const k_mission[] = {"version",    "firmwareType",       "vehicleType", "cruiseSpeed",
                                        "hoverSpeed", "plannedHomePosition", "items",       NULL};

static int rd_plan(rctx *c, json_t *root, vg_mission *m)
{
  json_t *mi = NULL, *home = NULL, *items = NULL, *v;
  char where[64];
  long long x = 0;
  size_t n = 0;
  int rc;
  if (!json_is_object(root)) {
    rc = fail(c, VG_E_MALFORMED, "plan", NULL, "not a JSON object");
    goto done;
  }
  if (!depth_ok(root, 0)) {
    rc = fail(c, VG_E_LIMIT, "plan", NULL, "JSON nested deeper than VG_MISSION_DEPTH_MAX (%d)", VG_MISSION_DEPTH_MAX);
    goto done;
  }
  if ((rc = get_str_is(c, root, "plan", "fileType", "Plan", VG_E_MALFORMED)) != VG_OK ||
      (rc = get_int(c, root, "plan", "version", 0, INT32_MAX, &x)) != VG_OK)
    goto done;
  if (x != 1) {
    rc = fail(c, VG_E_UNSUPPORTED, "plan", "version", "%lld not supported (1 is)", x);
    goto done;
  }
  if ((rc = need(c, root, "plan", "mission", &mi)) != VG_OK)
    goto done;
  if (!json_is_object(mi)) {
    rc = fail(c, VG_E_MALFORMED, "mission", NULL, "not an object");
    goto done;
  }
  if ((rc = get_int(c, mi, "mission", "version", 0, INT32_MAX, &x)) != VG_OK)
    goto done;
  if (x != 2) {
    rc = fail(c, VG_E_UNSUPPORTED, "mission", "version", "%lld not supported (2 is)", x);
    goto done;
  }
  if ((rc = get_int(c, mi, "mission", "firmwareType", 0, 255, &x)) != VG_OK)
    goto done;
  m->firmware_type = (int)x;
  if ((v = json_object_get(mi, "vehicleType")) != NULL) {
    if ((rc = as_int(c, v, "mission", "vehicleType", 0, 255, &x)) != VG_OK)
      goto done;
    m->vehicle_type = (int)x;
  }
  if ((v = json_object_get(mi, "cruiseSpeed")) != NULL && (rc = as_num(c, v, "mission", "cruiseSpeed", &m->cruise_mps)))
    goto done;
  if ((v = json_object_get(mi, "hoverSpeed")) != NULL && (rc = as_num(c, v, "mission", "hoverSpeed", &m->hover_mps)))
    goto done;
  if ((rc = need(c, mi, "mission", "plannedHomePosition", &home)) != VG_OK)
    goto done;
  if (!json_is_array(home) || json_array_size(home) != 3 || !json_is_number(json_array_get(home, 0)) ||
      !json_is_number(json_array_get(home, 1)) || !json_is_number(json_array_get(home, 2))) {
    rc = fail(c, VG_E_MALFORMED, "mission", "plannedHomePosition", "not [latitude, longitude, altitude] numbers");
    goto done;
  }
  for (int i = 0; i < 3; i++)
    m->home.param[4 + i] = json_number_value(json_array_get(home, (size_t)i));
  if (fabs(m->home.param[4]) > 90 || fabs(m->home.param[5]) > 180) {
    rc = fail(c, VG_E_MALFORMED, "mission", "plannedHomePosition", "latitude %g or longitude %g out of range",
              m->home.param[4], m->home.param[5]);
    goto done;
  }
  if ((rc = need(c, mi, "mission", "items", &items)) != VG_OK)
    goto done;
  if (!json_is_array(items)) {
    rc = fail(c, VG_E_MALFORMED, "mission", "items", "not an array");
    goto done;
  }
  if ((n = json_array_size(items)) > VG_PLAN_ITEMS_MAX) {
    rc = fail(c, VG_E_LIMIT, "mission", "items", "%zu items, more than VG_PLAN_ITEMS_MAX (%d)", n, VG_PLAN_ITEMS_MAX);
    goto done;
  }
  if (n && !(m->entries = calloc(n, sizeof *m->entries))) {
    rc = fail(c, VG_E_NOMEM, "mission", "items", "out of memory for %zu items", n);
    goto done;
  }
  m->nentries = n;
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    snprintf(where, sizeof where, "mission.items[%zu]", i);
    rc = rd_entry(c, json_array_get(items, i), where, &m->entries[i]);
  }
  if (rc == VG_OK)
    rc = keep(c, mi, k_mission, "mission", &m->mission_extra);
  if (rc == VG_OK)
    rc = keep(c, root, k_plan, "plan", &m->extra);
done:
  return rc;
}

int vg_mission_read_plan(vg_mission *out, const uint8_t *buf, size_t len, const char *what)
{
  rctx c = {what ? what : "mission", 0};
  json_error_t je;
  json_t *root = NULL;
  vg_mission m;
  int rc;
  vg_mission_init(&m);
  if (len > VG_PLAN_FILE_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "%s: %zu bytes, more than VG_PLAN_FILE_MAX (%u)", c.what, len, VG_PLAN_FILE_MAX);
    goto done;
  }
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark, which QGC (Qt) skips too */
    buf += 3;
    len -= 3;
  }
  root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    rc = vg_error_set(json_error_code(&je) == json_error_premature_end_of_input ? VG_E_TRUNCATED : VG_E_MALFORMED,
                      "%s: line %d column %d: %s", c.what, je.line, je.column, je.text);
    goto done;
  }
  rc = rd_plan(&c, root, &m);
done:
  json_decref(root);
  if (rc == VG_OK)
    *out = m;
  else
    vg_mission_free(&m);
  return rc;
}

/* ---- reading WPL -------------------------------------------------------------------------------- */

static const char *const k_wpl_field[12] = {"INDEX", "CURRENT", "FRAME", "COMMAND", "P1",  "P2",
                                            "P3",    "P4",      "LAT",   "LON",     "ALT", "AUTOCONTINUE"};

static int is_blank(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int is_digit(char ch)
{
  return ch >= '0' && ch <= '9';
}

/* Decimal digits only, value <= @p max. @return 0 or -1. */
static int parse_uint(const char *p, size_t n, unsigned long max, unsigned long *out)
{
  unsigned long v = 0;
  if (n == 0 || n > 10)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(p[i]))
      return -1;
    v = v * 10 + (unsigned long)(p[i] - '0');
  }
  if (v > max)
    return -1;
  *out = v;
  return 0;
}

/* A decimal number ([+-] digits [. digits] [e [+-] digits]) or "nan" in any case; finite.
 * strtod reads it with the locale's decimal point put in place of '.'. @return 0 or -1. */
static int parse_real(const char *p, size_t n, double *out)
{
  char tmp[VG_MISSION_WPL_FIELD_MAX + 16];
  const char *dp = localeconv()->decimal_point;
  size_t i = 0, o = 0, dpn = (dp && *dp) ? strlen(dp) : 1;
  int mant = 0;
  char *end = NULL;
  double v;
  if (n == 0 || n > VG_MISSION_WPL_FIELD_MAX || dpn > 8)
    return -1;
  if (p[i] == '+' || p[i] == '-')
    i++;
  if (n - i == 3 && (p[i] | 0x20) == 'n' && (p[i + 1] | 0x20) == 'a' && (p[i + 2] | 0x20) == 'n') {
    *out = NAN;
    return 0;
  }
  for (; i < n && is_digit(p[i]); i++)
    mant = 1;
  if (i < n && p[i] == '.')
    for (i++; i < n && is_digit(p[i]); i++)
      mant = 1;
  if (!mant)
    return -1;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    int ed = 0;
    i++;
    if (i < n && (p[i] == '+' || p[i] == '-'))
      i++;
    for (; i < n && is_digit(p[i]); i++)
      ed = 1;
    if (!ed)
      return -1;
  }
  if (i != n)
    return -1;
  for (i = 0; i < n; i++) {
    if (p[i] == '.') {
      memcpy(tmp + o, (dp && *dp) ? dp : ".", dpn);
      o += dpn;
    } else {
      tmp[o++] = p[i];
    }
  }
  tmp[o] = 0;
  v = strtod(tmp, &end);
  if (end != tmp + o || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int wpl_fail(int code, const char *what, size_t line, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return vg_error_set(code, "%s: line %zu: %s", what, line, msg);
}

/* One row's 12 fields into @p it; @p index must be the row number. */
static int wpl_row(const char *what, size_t line, const char *const *f, const size_t *fn, size_t index,
                   vg_mission_item *it)
{
  static const unsigned long imax[] = {UINT32_MAX, 1, 255, 65535};
  unsigned long u[4] = {0}, ac = 0;
  char shown[48], tmp[VG_MISSION_WPL_FIELD_MAX + 1];
  int bad = -1, rc = VG_OK;
  for (int i = 0; i < 4 && bad < 0; i++)
    if (parse_uint(f[i], fn[i], imax[i], &u[i]) != 0)
      bad = i;
  for (int i = 4; i < 11 && bad < 0; i++)
    if (parse_real(f[i], fn[i], &it->param[i - 4]) != 0)
      bad = i;
  if (bad < 0 && parse_uint(f[11], fn[11], 1, &ac) != 0)
    bad = 11;
  if (bad >= 0) {
    size_t k = fn[bad] < VG_MISSION_WPL_FIELD_MAX ? fn[bad] : VG_MISSION_WPL_FIELD_MAX;
    memcpy(tmp, f[bad], k);
    tmp[k] = 0;
    show(shown, sizeof shown, tmp);
    if (bad == 1 || bad == 11)
      rc = wpl_fail(VG_E_MALFORMED, what, line, "field %d (%s) \"%s\" is not 0 or 1", bad + 1, k_wpl_field[bad], shown);
    else if (bad < 4)
      rc = wpl_fail(VG_E_MALFORMED, what, line, "field %d (%s) \"%s\" is not an integer 0..%lu", bad + 1,
                    k_wpl_field[bad], shown, imax[bad]);
    else
      rc = wpl_fail(VG_E_MALFORMED, what, line, "field %d (%s) \"%s\" is not a finite number or nan", bad + 1,
                    k_wpl_field[bad], shown);
    goto done;
  }
  if (u[0] != index) {
    rc = wpl_fail(VG_E_MALFORMED, what, line, "INDEX %lu, expected %zu (rows count 0, 1, 2, ...)", u[0], index);
    goto done;
  }
  it->current = (uint8_t)u[1];
  it->frame = (uint8_t)u[2];
  it->command = (uint16_t)u[3];
  it->autocontinue = (uint8_t)ac;
  it->do_jump_id = (int32_t)index;
done:
  return rc;
}

int vg_mission_read_wpl(vg_mission *out, const uint8_t *buf, size_t len, const char *what)
{
  vg_mission m;
  size_t pos = 0, line = 0, rows = 0, cap = 0;
  int rc = VG_OK;
  vg_mission_init(&m);
  if (!what)
    what = "mission";
  if (len > VG_PLAN_FILE_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "%s: %zu bytes, more than VG_PLAN_FILE_MAX (%u)", what, len, VG_PLAN_FILE_MAX);
    goto done;
  }
  while (rc == VG_OK && pos < len) {
    const char *s = (const char *)buf + pos, *f[13];
    const char *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos, fn[13], nf = 0, i = 0;
    pos += n + (nl ? 1 : 0);
    line++;
    while (n && is_blank(s[n - 1]))
      n--;
    if (line == 1) {
      if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark */
        s += 3;
        n -= 3;
      }
      if (n == 11 && memcmp(s, "QGC WPL 110", 11) == 0)
        continue;
      if (n > 8 && memcmp(s, "QGC WPL ", 8) == 0)
        rc = wpl_fail(VG_E_UNSUPPORTED, what, line, "QGC WPL version \"%.*s\" not supported (110 is)",
                      (int)(n - 8 < 16 ? n - 8 : 16), s + 8);
      else
        rc = wpl_fail(VG_E_MALFORMED, what, line, "not the header \"QGC WPL 110\"");
      continue;
    }
    while (i < n && nf < 13) { /* fields: runs of tabs or spaces separate them */
      while (i < n && is_blank(s[i]))
        i++;
      if (i == n)
        break;
      f[nf] = s + i;
      while (i < n && !is_blank(s[i]))
        i++;
      fn[nf] = (size_t)(s + i - f[nf]);
      nf++;
    }
    if (nf == 0) /* a blank line */
      continue;
    if (nf != 12) {
      rc = wpl_fail(VG_E_MALFORMED, what, line, "%s%zu fields, expected 12 (INDEX CURRENT FRAME COMMAND P1 P2 P3 P4 "
                    "LAT LON ALT AUTOCONTINUE)", nf == 13 ? "more than " : "", nf == 13 ? (size_t)12 : nf);
      continue;
    }
    if (rows == 0) {
      rc = wpl_row(what, line, f, fn, 0, &m.home);
    } else {
      if (rows > VG_PLAN_ITEMS_MAX) {
        rc = wpl_fail(VG_E_LIMIT, what, line, "more than VG_PLAN_ITEMS_MAX (%d) items after home", VG_PLAN_ITEMS_MAX);
        continue;
      }
      if (m.nentries == cap) {
        size_t nc = cap ? cap * 2 : 64;
        vg_mission_entry *ne;
        if (nc > VG_PLAN_ITEMS_MAX)
          nc = VG_PLAN_ITEMS_MAX;
        if (!(ne = realloc(m.entries, nc * sizeof *ne))) {
          rc = wpl_fail(VG_E_NOMEM, what, line, "out of memory for %zu items", nc);
          continue;
        }
        m.entries = ne;
        cap = nc;
      }
      memset(&m.entries[m.nentries], 0, sizeof m.entries[0]);
      item_init(&m.entries[m.nentries].item);
      m.entries[m.nentries].kind = VG_MISSION_SIMPLE;
      rc = wpl_row(what, line, f, fn, rows, &m.entries[m.nentries].item);
      m.nentries++;
    }
    rows++;
  }
  if (rc == VG_OK && line == 0)
    rc = vg_error_set(VG_E_MALFORMED, "%s: empty: no header \"QGC WPL 110\"", what);
  if (rc == VG_OK && rows == 0)
    rc = vg_error_set(VG_E_MALFORMED, "%s: no rows: row 0 (home) is required", what);
  m.firmware_type = VG_MAV_AUTOPILOT_ARDUPILOTMEGA;
  if (rc == VG_OK && !(m.extra = strdup(PLAN_DEFAULT_EXTRA)))
    rc = vg_error_set(VG_E_NOMEM, "%s: out of memory", what);
done:
  if (rc == VG_OK)
    *out = m;
  else
    vg_mission_free(&m);
  return rc;
}

/* ---- reading either, and files --------------------------------------------------------------- */

int vg_mission_read(vg_mission *out, const uint8_t *buf, size_t len, const char *what)
{
  size_t i = 0;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  if (len - i >= 7 && memcmp(buf + i, "QGC WPL", 7) == 0)
    return vg_mission_read_wpl(out, buf, len, what);
  while (i < len && (is_blank((char)buf[i]) || buf[i] == '\n'))
    i++;
  if (i < len && buf[i] == '{')
    return vg_mission_read_plan(out, buf, len, what);
  return vg_error_set(VG_E_MALFORMED, "%s: neither a QGC .plan (a JSON object) nor a QGC WPL file",
                      what ? what : "mission");
}

int vg_mission_load(vg_mission *out, const char *path)
{
  FILE *f = NULL;
  vg_buf b;
  uint8_t chunk[16384];
  size_t got;
  int rc = VG_OK;
  vg_buf_init(&b, VG_PLAN_FILE_MAX);
  if (!(f = fopen(path, "rb"))) {
    rc = vg_error_set(VG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    goto done;
  }
  while (rc == VG_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if ((rc = vg_buf_append(&b, chunk, got)) == VG_E_LIMIT)
      rc = vg_error_set(VG_E_LIMIT, "%s: larger than VG_PLAN_FILE_MAX (%u bytes)", path, VG_PLAN_FILE_MAX);
  if (rc == VG_OK && ferror(f))
    rc = vg_error_set(VG_E_IO, "%s: read error", path);
  if (rc == VG_OK)
    rc = vg_mission_read(out, b.data ? b.data : (const uint8_t *)"", b.len, path);
done:
  if (f)
    fclose(f);
  vg_buf_free(&b);
  return rc;
}

/* ---- writing a .plan ------------------------------------------------------------------------------ */

/* A writer's state: the first error sticks and later puts do nothing. */
typedef struct wctx {
  int rc;
} wctx;

/* The kept members of one object, parsed, as the object its modelled members are added to. */
static json_t *w_obj(wctx *w, const char *extra, const char *where)
{
  json_t *o = NULL;
  json_error_t je;
  if (w->rc != VG_OK)
    return NULL;
  if (!extra) {
    if (!(o = json_object()))
      w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
    return o;
  }
  o = json_loads(extra, JSON_REJECT_DUPLICATES, &je);
  if (!o || !json_is_object(o)) {
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s: kept members are not a JSON object%s%s", where, o ? "" : ": ",
                         o ? "" : je.text);
    json_decref(o);
    o = NULL;
  }
  return o;
}

/* Sets @p key of @p o to @p v (stolen). */
static void w_put(wctx *w, json_t *o, const char *where, const char *key, json_t *v)
{
  if (w->rc == VG_OK && !v)
    w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory writing %s.%s", where, key);
  if (w->rc == VG_OK && (!o || json_object_get(o, key)))
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s: kept member %s repeats a modelled one", where, key);
  if (w->rc == VG_OK && json_object_set_new(o, key, v) != 0)
    w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory writing %s.%s", where, key);
  else if (w->rc != VG_OK)
    json_decref(v);
}

static json_t *w_real(wctx *w, const char *where, const char *key, double x)
{
  if (w->rc == VG_OK && !isfinite(x))
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s.%s: %g is not a finite number", where, key, x);
  return w->rc == VG_OK ? json_real(x) : NULL;
}

static void w_num(wctx *w, json_t *o, const char *where, const char *key, double x)
{
  w_put(w, o, where, key, w_real(w, where, key, x));
}

static json_t *w_lls(wctx *w, const vg_plan_ll *p, size_t n, const char *where, const char *key)
{
  json_t *a = w->rc == VG_OK ? json_array() : NULL;
  if (w->rc == VG_OK && !a)
    w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  for (size_t i = 0; w->rc == VG_OK && i < n; i++) {
    json_t *pt = json_array();
    if (!pt || json_array_append_new(a, pt) != 0 || json_array_append_new(pt, w_real(w, where, key, p[i].lat)) != 0 ||
        json_array_append_new(pt, w_real(w, where, key, p[i].lon)) != 0) {
      if (w->rc == VG_OK)
        w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory writing %s.%s", where, key);
    }
  }
  if (w->rc != VG_OK) {
    json_decref(a);
    a = NULL;
  }
  return a;
}

static json_t *w_simple(wctx *w, const vg_mission_item *it, const char *where)
{
  json_t *o = w_obj(w, it->extra, where), *p = NULL;
  w_put(w, o, where, "type", json_string("SimpleItem"));
  w_put(w, o, where, "command", json_integer(it->command));
  w_put(w, o, where, "frame", json_integer(it->frame));
  if (w->rc == VG_OK && !(p = json_array()))
    w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  for (int i = 0; w->rc == VG_OK && i < 7; i++) {
    json_t *x = isnan(it->param[i]) ? json_null() : w_real(w, where, "params", it->param[i]);
    if (w->rc == VG_OK && (!x || json_array_append_new(p, x) != 0))
      w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  }
  w_put(w, o, where, "params", p);
  w_put(w, o, where, "autoContinue", json_boolean(it->autocontinue));
  if (it->do_jump_id >= 0)
    w_put(w, o, where, "doJumpId", json_integer(it->do_jump_id));
  if (w->rc != VG_OK) {
    json_decref(o);
    o = NULL;
  }
  return o;
}

static json_t *w_survey(wctx *w, const vg_mission_survey *s, const char *where)
{
  char tsw[256], iw[256];
  json_t *o = w_obj(w, s->extra, where), *ts, *cam, *items = NULL;
  snprintf(tsw, sizeof tsw, "%.200s.TransectStyleComplexItem", where);
  ts = w_obj(w, s->ts_extra, tsw);
  cam = w_obj(w, s->camera_extra, "CameraCalc");
  if (w->rc == VG_OK && (s->npolygon < 3 || !s->polygon))
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s: a survey polygon needs 3 vertices, has %zu", where, s->npolygon);
  if (w->rc == VG_OK && (s->version != 4 && s->version != 5))
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s: survey version %d (4 or 5)", where, s->version);
  if (w->rc == VG_OK && (s->ts_version != 1 && s->ts_version != 2))
    w->rc = vg_error_set(VG_E_INVALID, "mission: %s: transect version %d (1 or 2)", where, s->ts_version);
  w_put(w, o, where, "type", json_string("ComplexItem"));
  w_put(w, o, where, "complexItemType", json_string("survey"));
  w_put(w, o, where, "version", json_integer(s->version));
  w_put(w, o, where, "polygon", w_lls(w, s->polygon, s->npolygon, where, "polygon"));
  w_num(w, o, where, "angle", s->angle_deg);
  w_put(w, o, where, "entryLocation", json_integer(s->entry_location));
  w_put(w, o, where, "flyAlternateTransects", json_boolean(s->fly_alternate_transects));
  if (s->version == 5)
    w_put(w, o, where, "splitConcavePolygons", json_boolean(s->split_concave));
  w_put(w, ts, tsw, "version", json_integer(s->ts_version));
  w_num(w, ts, tsw, "TurnAroundDistance", s->turnaround_m);
  w_put(w, ts, tsw, "CameraTriggerInTurnAround", json_boolean(s->trigger_in_turnaround));
  w_put(w, ts, tsw, "HoverAndCapture", json_boolean(s->hover_and_capture));
  w_put(w, ts, tsw, "Refly90Degrees", json_boolean(s->refly_90));
  if (s->camera_shots >= 0)
    w_put(w, ts, tsw, "CameraShots", json_integer(s->camera_shots));
  w_put(w, ts, tsw, "VisualTransectPoints", w_lls(w, s->transect, s->ntransect, tsw, "VisualTransectPoints"));
  w_num(w, cam, "CameraCalc", "AdjustedFootprintSide", s->footprint_side_m);
  w_num(w, cam, "CameraCalc", "AdjustedFootprintFrontal", s->footprint_front_m);
  w_num(w, cam, "CameraCalc", "DistanceToSurface", s->distance_m);
  w_put(w, ts, tsw, "CameraCalc", cam);
  cam = NULL;
  if (w->rc == VG_OK && !(items = json_array()))
    w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  for (size_t i = 0; w->rc == VG_OK && i < s->nitems; i++) {
    json_t *x;
    snprintf(iw, sizeof iw, "%.200s.Items[%zu]", tsw, i);
    if ((x = w_simple(w, &s->items[i], iw)) && json_array_append_new(items, x) != 0)
      w->rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  }
  w_put(w, ts, tsw, "Items", items);
  w_put(w, o, where, "TransectStyleComplexItem", ts);
  if (w->rc != VG_OK) {
    json_decref(o);
    o = NULL;
  }
  return o;
}

int vg_mission_write_plan(const vg_mission *m, vg_buf *out)
{
  wctx w = {VG_OK};
  json_t *root = w_obj(&w, m->extra, "plan"), *mi = w_obj(&w, m->mission_extra, "mission"), *items = NULL, *home;
  char where[64];
  vg_jw jw;
  w_put(&w, root, "plan", "fileType", json_string("Plan"));
  w_put(&w, root, "plan", "version", json_integer(1));
  w_put(&w, mi, "mission", "version", json_integer(2));
  w_put(&w, mi, "mission", "firmwareType", json_integer(m->firmware_type));
  if (m->vehicle_type >= 0)
    w_put(&w, mi, "mission", "vehicleType", json_integer(m->vehicle_type));
  if (!isnan(m->cruise_mps))
    w_num(&w, mi, "mission", "cruiseSpeed", m->cruise_mps);
  if (!isnan(m->hover_mps))
    w_num(&w, mi, "mission", "hoverSpeed", m->hover_mps);
  home = w.rc == VG_OK ? json_array() : NULL;
  for (int i = 0; w.rc == VG_OK && i < 3; i++) {
    json_t *x = w_real(&w, "mission", "plannedHomePosition", m->home.param[4 + i]);
    if (w.rc == VG_OK && (!home || !x || json_array_append_new(home, x) != 0))
      w.rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  }
  w_put(&w, mi, "mission", "plannedHomePosition", home);
  if (w.rc == VG_OK && !(items = json_array()))
    w.rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  for (size_t i = 0; w.rc == VG_OK && i < m->nentries; i++) {
    const vg_mission_entry *e = &m->entries[i];
    json_t *x;
    snprintf(where, sizeof where, "mission.items[%zu]", i);
    x = e->kind == VG_MISSION_SURVEY ? w_survey(&w, &e->survey, where) : w_simple(&w, &e->item, where);
    if (x && json_array_append_new(items, x) != 0)
      w.rc = vg_error_set(VG_E_NOMEM, "mission: out of memory");
  }
  w_put(&w, mi, "mission", "items", items);
  w_put(&w, root, "plan", "mission", mi);
  mi = NULL;
  if (w.rc == VG_OK) {
    size_t len0 = out->len;
    vg_jw_init(&jw, out, 1);
    w.rc = emit(&jw, root, 0);
    if (w.rc == VG_OK)
      w.rc = vg_jw_finish(&jw);
    if (w.rc == VG_OK)
      w.rc = vg_buf_putc(out, '\n');
    if (w.rc != VG_OK)
      out->len = len0;
  }
  json_decref(root);
  json_decref(mi);
  return w.rc;
}

/* ---- writing WPL ------------------------------------------------------------------------------- */

/* Puts '.' in place of the locale's decimal point in @p s (n bytes). @return the new length. */
static size_t fix_dp(char *s, size_t n)
{
  const char *dp = localeconv()->decimal_point;
  size_t dn = (dp && *dp) ? strlen(dp) : 1, o = 0;
  if (!dp || !*dp || (dn == 1 && dp[0] == '.'))
    return n;
  for (size_t i = 0; i < n;) {
    if (i + dn <= n && memcmp(s + i, dp, dn) == 0) {
      s[o++] = '.';
      i += dn;
    } else {
      s[o++] = s[i++];
    }
  }
  s[o] = 0;
  return o;
}

/* A WPL number: NaN as "nan", others the shortest round trip (vg_fmt_real). */
static int fmt_num(char *dst, size_t cap, double v)
{
  if (isnan(v))
    return snprintf(dst, cap, "nan");
  if (!isfinite(v))
    return -1;
  return (int)vg_fmt_real(dst, cap, v);
}

/* A latitude or longitude: the fewest decimals from 7 that read back to @p v ("%.7f" .. "%.17f");
 * beyond 1e15 or when none does, as fmt_num. */
static int fmt_ll(char *dst, size_t cap, double v)
{
  char tmp[352]; /* "%.17f" of any double below 1e15 takes < 40 bytes; this is what gcc can prove */
  int n = -1;
  if (!isfinite(v) || fabs(v) >= 1e15)
    return fmt_num(dst, cap, v);
  for (int prec = 7; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*f", prec, v);
    if (n > 0 && (size_t)n < cap && strtod(tmp, NULL) == v) {
      n = (int)fix_dp(tmp, (size_t)n);
      memcpy(dst, tmp, (size_t)n + 1);
      return n;
    }
  }
  return fmt_num(dst, cap, v);
}

static int wpl_put_row(vg_buf *out, size_t index, const vg_mission_item *it)
{
  char num[7][64];
  int rc = VG_OK;
  for (int i = 0; i < 7 && rc == VG_OK; i++) {
    int n = (i == 4 || i == 5) ? fmt_ll(num[i], sizeof num[i], it->param[i])
                               : fmt_num(num[i], sizeof num[i], it->param[i]);
    if (n < 0)
      rc = vg_error_set(VG_E_INVALID, "mission: WPL row %zu: P%d is infinite", index, i + 1);
  }
  if (rc == VG_OK)
    rc = vg_buf_printf(out, "%zu\t%u\t%u\t%u\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%u\n", index, (unsigned)(it->current != 0),
                       (unsigned)it->frame, (unsigned)it->command, num[0], num[1], num[2], num[3], num[4], num[5],
                       num[6], (unsigned)(it->autocontinue != 0));
  return rc;
}

int vg_mission_write_wpl(const vg_mission *m, vg_buf *out)
{
  size_t len0 = out->len, index = 0;
  flat f = {m, 0, 0};
  const vg_mission_item *it;
  int rc = vg_buf_append(out, "QGC WPL 110\n", 12);
  if (rc == VG_OK)
    rc = wpl_put_row(out, index++, &m->home);
  while (rc == VG_OK && (it = flat_next(&f)) != NULL)
    rc = wpl_put_row(out, index++, it);
  if (rc != VG_OK)
    out->len = len0;
  return rc;
}

/* ---- KML and GeoJSON --------------------------------------------------------------------------- */

/* A navigation command with a position (MAV_CMD_NAV_*: waypoint, loiters, land, takeoff, loiter to
 * altitude, spline waypoint, VTOL takeoff and land). */
static int nav_cmd(uint16_t c)
{
  static const uint16_t nav[] = {16, 17, 18, 19, 21, 22, 31, 82, 84, 85};
  for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++)
    if (nav[i] == c)
      return 1;
  return 0;
}

/* Global frames: 0 AMSL, 3 relative to home, 10 above terrain, and their _INT aliases 5, 6, 11. */
static int frame_global(uint8_t f)
{
  return f == 0 || f == 3 || f == 5 || f == 6 || f == 10 || f == 11;
}

static int frame_relative(uint8_t f)
{
  return f == 3 || f == 6 || f == 10 || f == 11;
}

static int ll_ok(double lat, double lon)
{
  return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90 && fabs(lon) <= 180 && !(lat == 0 && lon == 0);
}

static int positioned(const vg_mission_item *it)
{
  return nav_cmd(it->command) && frame_global(it->frame) && ll_ok(it->param[4], it->param[5]);
}

static const char *frame_ref(uint8_t f)
{
  if (f == 3 || f == 6)
    return "home";
  if (f == 10 || f == 11)
    return "terrain";
  return "msl";
}

/* KML's altitude mode for the path and the waypoints, and whether relative altitudes are lifted by
 * home's. */
static int all_relative(const vg_mission *m)
{
  flat f = {m, 0, 0};
  const vg_mission_item *it;
  int any = 0;
  while ((it = flat_next(&f)) != NULL)
    if (positioned(it)) {
      if (!frame_relative(it->frame))
        return 0;
      any = 1;
    }
  return any;
}

static double kml_alt(const vg_mission *m, const vg_mission_item *it, int rel)
{
  double a = it->param[6];
  if (!rel && frame_relative(it->frame) && isfinite(m->home.param[6]))
    a += m->home.param[6];
  return a;
}

static int put_coord(vg_buf *b, double lon, double lat, double alt)
{
  char x[40], y[40], z[40];
  vg_fmt_real(x, sizeof x, lon);
  vg_fmt_real(y, sizeof y, lat);
  if (!isfinite(alt))
    return vg_buf_printf(b, "%s,%s ", x, y);
  vg_fmt_real(z, sizeof z, alt);
  return vg_buf_printf(b, "%s,%s,%s ", x, y, z);
}

/* XML text: the five special characters as entities, control characters other than tab and
 * newline and bytes that are not UTF-8 as '?' (neither has a place in XML 1.0). */
static int put_xml(vg_buf *b, const char *s)
{
  size_t n = strlen(s);
  int rc = VG_OK;
  for (size_t i = 0; i < n && rc == VG_OK;) {
    unsigned char ch = (unsigned char)s[i];
    size_t k;
    switch (ch) {
    case '&': rc = vg_buf_append(b, "&amp;", 5); i++; break;
    case '<': rc = vg_buf_append(b, "&lt;", 4); i++; break;
    case '>': rc = vg_buf_append(b, "&gt;", 4); i++; break;
    case '"': rc = vg_buf_append(b, "&quot;", 6); i++; break;
    case '\'': rc = vg_buf_append(b, "&apos;", 6); i++; break;
    default:
      if (ch < 0x20 && ch != '\t' && ch != '\n') {
        rc = vg_buf_putc(b, '?');
        i++;
      } else if (ch < 0x80) {
        rc = vg_buf_putc(b, ch);
        i++;
      } else if ((k = vg__util_utf8_len((const uint8_t *)s + i, n - i)) > 0) {
        rc = vg_buf_append(b, s + i, k);
        i += k;
      } else {
        rc = vg_buf_putc(b, '?');
        i++;
      }
    }
  }
  return rc;
}

static int kml_point(vg_buf *b, const char *name, size_t seq, const vg_mission_item *it, const char *mode,
                     double alt)
{
  int rc = vg_buf_printf(b, "<Placemark><name>%s</name><ExtendedData>"
                            "<Data name=\"seq\"><value>%zu</value></Data>"
                            "<Data name=\"command\"><value>%u</value></Data>"
                            "<Data name=\"frame\"><value>%u</value></Data>"
                            "</ExtendedData><Point><altitudeMode>%s</altitudeMode><coordinates>",
                         name, seq, (unsigned)it->command, (unsigned)it->frame, mode);
  if (rc == VG_OK)
    rc = put_coord(b, it->param[5], it->param[4], alt);
  if (rc == VG_OK) {
    b->len--; /* the tuple's trailing space */
    rc = vg_buf_printf(b, "</coordinates></Point></Placemark>\n");
  }
  return rc;
}

int vg_mission_write_kml(const vg_mission *m, const char *name, vg_buf *out)
{
  size_t len0 = out->len, seq = 0, npath = 0;
  int rel = all_relative(m), rc;
  const char *mode = rel ? "relativeToGround" : "absolute";
  const vg_mission_item *it;
  flat f = {m, 0, 0};
  char nm[32];
  rc = vg_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n"
                          "<Document>\n<name>");
  if (rc == VG_OK)
    rc = put_xml(out, name ? name : "vigia mission");
  if (rc == VG_OK)
    rc = vg_buf_printf(out, "</name>\n");
  if (rc == VG_OK && ll_ok(m->home.param[4], m->home.param[5]))
    rc = kml_point(out, "home", 0, &m->home, "absolute", m->home.param[6]);
  while (rc == VG_OK && (it = flat_next(&f)) != NULL)
    npath += positioned(it);
  if (rc == VG_OK && npath >= 2) {
    rc = vg_buf_printf(out, "<Placemark><name>path</name><LineString><altitudeMode>%s</altitudeMode><coordinates>",
                       mode);
    f.e = f.k = 0;
    while (rc == VG_OK && (it = flat_next(&f)) != NULL)
      if (positioned(it))
        rc = put_coord(out, it->param[5], it->param[4], kml_alt(m, it, rel));
    if (rc == VG_OK) {
      out->len--;
      rc = vg_buf_printf(out, "</coordinates></LineString></Placemark>\n");
    }
  }
  f.e = f.k = 0;
  while (rc == VG_OK && (it = flat_next(&f)) != NULL) {
    seq++;
    if (positioned(it)) {
      snprintf(nm, sizeof nm, "%zu", seq);
      rc = kml_point(out, nm, seq, it, mode, kml_alt(m, it, rel));
    }
  }
  for (size_t i = 0; rc == VG_OK && i < m->nentries; i++) {
    const vg_mission_survey *s = &m->entries[i].survey;
    if (m->entries[i].kind != VG_MISSION_SURVEY || s->npolygon < 3)
      continue;
    rc = vg_buf_printf(out, "<Placemark><name>survey %zu</name><Polygon><outerBoundaryIs><LinearRing><coordinates>",
                       i + 1);
    for (size_t k = 0; rc == VG_OK && k <= s->npolygon; k++) {
      const vg_plan_ll *p = &s->polygon[k % s->npolygon];
      rc = put_coord(out, p->lon, p->lat, NAN);
    }
    if (rc == VG_OK) {
      out->len--;
      rc = vg_buf_printf(out, "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>\n");
    }
  }
  if (rc == VG_OK)
    rc = vg_buf_printf(out, "</Document>\n</kml>\n");
  if (rc != VG_OK)
    out->len = len0;
  return rc;
}

static void gj_pos(vg_jw *w, double lon, double lat)
{
  vg_jw_arr_begin(w);
  vg_jw_real(w, lon);
  vg_jw_real(w, lat);
  vg_jw_arr_end(w);
}

static void gj_point(vg_jw *w, const char *kind, size_t seq, const vg_mission_item *it)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "type");
  vg_jw_str(w, "Feature");
  vg_jw_key(w, "properties");
  vg_jw_obj_begin(w);
  vg_jw_key(w, "kind");
  vg_jw_str(w, kind);
  vg_jw_key(w, "seq");
  vg_jw_uint(w, seq);
  vg_jw_key(w, "command");
  vg_jw_uint(w, it->command);
  vg_jw_key(w, "frame");
  vg_jw_uint(w, it->frame);
  vg_jw_key(w, "alt");
  vg_jw_real(w, it->param[6]);
  vg_jw_key(w, "alt_ref");
  vg_jw_str(w, frame_ref(it->frame));
  vg_jw_obj_end(w);
  vg_jw_key(w, "geometry");
  vg_jw_obj_begin(w);
  vg_jw_key(w, "type");
  vg_jw_str(w, "Point");
  vg_jw_key(w, "coordinates");
  gj_pos(w, it->param[5], it->param[4]);
  vg_jw_obj_end(w);
  vg_jw_obj_end(w);
}

int vg_mission_write_geojson(const vg_mission *m, vg_buf *out)
{
  size_t len0 = out->len, seq = 0, npath = 0;
  const vg_mission_item *it;
  flat f = {m, 0, 0};
  vg_jw w;
  int rc;
  vg_jw_init(&w, out, 1);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "type");
  vg_jw_str(&w, "FeatureCollection");
  vg_jw_key(&w, "features");
  vg_jw_arr_begin(&w);
  while ((it = flat_next(&f)) != NULL)
    npath += positioned(it);
  if (npath >= 2) {
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "Feature");
    vg_jw_key(&w, "properties");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "kind");
    vg_jw_str(&w, "path");
    vg_jw_obj_end(&w);
    vg_jw_key(&w, "geometry");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "LineString");
    vg_jw_key(&w, "coordinates");
    vg_jw_arr_begin(&w);
    f.e = f.k = 0;
    while ((it = flat_next(&f)) != NULL)
      if (positioned(it))
        gj_pos(&w, it->param[5], it->param[4]);
    vg_jw_arr_end(&w);
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
  }
  if (ll_ok(m->home.param[4], m->home.param[5]))
    gj_point(&w, "home", 0, &m->home);
  f.e = f.k = 0;
  while ((it = flat_next(&f)) != NULL) {
    seq++;
    if (positioned(it))
      gj_point(&w, "waypoint", seq, it);
  }
  for (size_t i = 0; i < m->nentries; i++) {
    const vg_mission_survey *s = &m->entries[i].survey;
    double area2 = 0;
    int ok = 1;
    if (m->entries[i].kind != VG_MISSION_SURVEY || s->npolygon < 3)
      continue;
    for (size_t k = 0; k < s->npolygon; k++) {
      const vg_plan_ll *a = &s->polygon[k], *b = &s->polygon[(k + 1) % s->npolygon];
      ok &= ll_ok(a->lat, a->lon) || (a->lat == 0 && a->lon == 0);
      area2 += a->lon * b->lat - b->lon * a->lat;
    }
    if (!ok)
      continue;
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "Feature");
    vg_jw_key(&w, "properties");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "kind");
    vg_jw_str(&w, "survey");
    vg_jw_key(&w, "item");
    vg_jw_uint(&w, i);
    vg_jw_key(&w, "angle_deg");
    vg_jw_real(&w, s->angle_deg);
    vg_jw_obj_end(&w);
    vg_jw_key(&w, "geometry");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "Polygon");
    vg_jw_key(&w, "coordinates");
    vg_jw_arr_begin(&w);
    vg_jw_arr_begin(&w);
    for (size_t k = 0; k <= s->npolygon; k++) { /* counter-clockwise (RFC 7946 3.1.6), closed */
      size_t j = area2 >= 0 ? k % s->npolygon : (s->npolygon - k % s->npolygon) % s->npolygon;
      gj_pos(&w, s->polygon[j].lon, s->polygon[j].lat);
    }
    vg_jw_arr_end(&w);
    vg_jw_arr_end(&w);
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
  }
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  rc = vg_jw_finish(&w);
  if (rc == VG_OK)
    rc = vg_buf_putc(out, '\n');
  if (rc != VG_OK)
    out->len = len0;
  return rc;
}

/* ---- the mission of a coverage plan ---------------------------------------------------------------- */

/* Ground distance (m) between two points a few km apart at most (equirectangular). */
static double ll_dist(vg_plan_ll a, vg_plan_ll b)
{
  double dx = (b.lon - a.lon) * DEG2RAD * cos(0.5 * (a.lat + b.lat) * DEG2RAD), dy = (b.lat - a.lat) * DEG2RAD;
  return R_EARTH * sqrt(dx * dx + dy * dy);
}

static void set_item(vg_mission_item *it, uint16_t cmd, uint8_t frame, int32_t jump, const double p[7])
{
  item_init(it);
  it->command = cmd;
  it->frame = frame;
  it->do_jump_id = jump;
  memcpy(it->param, p, sizeof it->param);
}

int vg_mission_from_plan(const vg_plan_result *r, const vg_plan_area *aoi, double alt_agl_m, double cruise_mps,
                         const vg_mission_build_opts *o, vg_mission *out)
{
  static const vg_mission_build_opts k_dflt = VG_MISSION_BUILD_OPTS_INIT;
  vg_mission m;
  vg_mission_survey *s;
  vg_plan_ll home;
  size_t first = 0, last = 0, nitems = 0, nlane = 0, k = 0, t = 0;
  double trig = 0, shots = 0, takeoff;
  int camera, rc = VG_OK;
  int32_t jump = 1;
  vg_mission_init(&m);
  if (!o)
    o = &k_dflt;
  if (o->version != VG_MISSION_BUILD_OPTS_VERSION) {
    rc = vg_error_set(VG_E_INVALID, "mission from plan: options version %d, expected %d", o->version,
                      VG_MISSION_BUILD_OPTS_VERSION);
    goto done;
  }
  if (!r || !r->wp || r->nwp < 1 || !isfinite(r->angle_deg)) {
    rc = vg_error_set(VG_E_INVALID, "mission from plan: the plan has no waypoints or no lane angle");
    goto done;
  }
  if (!aoi || !aoi->outer.v || aoi->outer.n < 3 || aoi->outer.n > VG_PLAN_RING_MAX) {
    rc = vg_error_set(VG_E_INVALID, "mission from plan: the area's outer ring needs 3..%d vertices", VG_PLAN_RING_MAX);
    goto done;
  }
  if (!(alt_agl_m > 0 && isfinite(alt_agl_m)) || !(cruise_mps > 0 && isfinite(cruise_mps))) {
    rc = vg_error_set(VG_E_INVALID, "mission from plan: altitude %g m and cruise speed %g m/s must be > 0", alt_agl_m,
                      cruise_mps);
    goto done;
  }
  if (!isfinite(o->home_amsl_m) || !(o->takeoff_alt_m >= 0 && isfinite(o->takeoff_alt_m)) ||
      !isfinite(o->takeoff_pitch_deg) || o->firmware_type < 0 || o->firmware_type > 255 || o->vehicle_type < -1 ||
      o->vehicle_type > 255 || !(o->trigger_dist_m >= 0 && isfinite(o->trigger_dist_m)) ||
      (o->has_base && !(fabs(o->base.lat) <= 90 && fabs(o->base.lon) <= 180))) {
    rc = vg_error_set(VG_E_INVALID, "mission from plan: an option out of range (home altitude, takeoff, firmware or "
                                    "vehicle type, trigger distance or base)");
    goto done;
  }
  for (size_t i = 0; i < aoi->outer.n; i++)
    if (!(fabs(aoi->outer.v[i].lat) <= 90 && fabs(aoi->outer.v[i].lon) <= 180)) {
      rc = vg_error_set(VG_E_INVALID, "mission from plan: area vertex %zu out of range", i);
      goto done;
    }
  for (size_t i = 0; i < r->nwp; i++)
    if (!(fabs(r->wp[i].ll.lat) <= 90 && fabs(r->wp[i].ll.lon) <= 180)) {
      rc = vg_error_set(VG_E_INVALID, "mission from plan: waypoint %zu out of range", i);
      goto done;
    }
  camera = o->sensor && !o->sensor->video;
  if (camera) {
    trig = o->trigger_dist_m;
    if (trig == 0 && o->sensor->vfov_deg > 0 && o->sensor->vfov_deg < 180 && o->sensor->front_overlap >= 0 &&
        o->sensor->front_overlap < 1)
      trig = 2 * alt_agl_m * tan(0.5 * o->sensor->vfov_deg * DEG2RAD) * (1 - o->sensor->front_overlap);
    if (!(trig > 0 && isfinite(trig))) {
      rc = vg_error_set(VG_E_INVALID, "mission from plan: no trigger distance for the frame camera (give "
                                      "trigger_dist_m, or vfov_deg in 0..180 and front_overlap in 0..1)");
      goto done;
    }
  }
  home = o->has_base ? o->base : r->wp[0].ll;
  last = r->nwp;
  while (first < last && r->wp[first].kind == VG_WP_TRANSIT && ll_dist(r->wp[first].ll, home) < 1)
    first++;
  while (last > first && r->wp[last - 1].kind == VG_WP_TRANSIT && ll_dist(r->wp[last - 1].ll, home) < 1)
    last--;
  for (size_t i = first; i < last; i++) {
    int lane = r->wp[i].kind == VG_WP_LANE_START || r->wp[i].kind == VG_WP_LANE_END;
    nitems += 1 + (size_t)(camera && lane);
    nlane += (size_t)lane;
  }
  if (nitems + 2 > VG_PLAN_ITEMS_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "mission from plan: %zu items, more than VG_PLAN_ITEMS_MAX (%d)", nitems + 2,
                      VG_PLAN_ITEMS_MAX);
    goto done;
  }
  m.firmware_type = o->firmware_type;
  m.vehicle_type = o->vehicle_type;
  m.cruise_mps = cruise_mps;
  m.home.frame = VG_MAV_FRAME_GLOBAL;
  m.home.param[4] = home.lat;
  m.home.param[5] = home.lon;
  m.home.param[6] = o->home_amsl_m;
  if (!(m.entries = calloc(3, sizeof *m.entries)) || !(m.extra = strdup(PLAN_DEFAULT_EXTRA))) {
    rc = vg_error_set(VG_E_NOMEM, "mission from plan: out of memory");
    goto done;
  }
  m.nentries = 3;
  takeoff = o->takeoff_alt_m > 0 ? o->takeoff_alt_m : alt_agl_m;
  set_item(&m.entries[0].item, VG_MAV_CMD_NAV_TAKEOFF, VG_MAV_FRAME_GLOBAL_RELATIVE_ALT, jump++,
           (const double[7]){o->takeoff_pitch_deg, 0, 0, NAN, home.lat, home.lon, takeoff});
  m.entries[1].kind = VG_MISSION_SURVEY;
  s = &m.entries[1].survey;
  s->version = 5;
  s->ts_version = 1;
  s->angle_deg = r->angle_deg;
  s->footprint_side_m = isfinite(r->spacing_m) && r->spacing_m > 0 ? r->spacing_m : 0;
  s->footprint_front_m = camera ? trig : s->footprint_side_m;
  s->distance_m = alt_agl_m;
  if (!(s->polygon = malloc(aoi->outer.n * sizeof *s->polygon)) ||
      (nitems && !(s->items = calloc(nitems, sizeof *s->items))) ||
      (nlane && !(s->transect = malloc(nlane * sizeof *s->transect))) ||
      !(s->ts_extra = strdup("{\"FollowTerrain\":false}")) ||
      !(s->camera_extra = strdup("{\"CameraName\":\"" QGC_MANUAL_CAMERA "\",\"DistanceToSurfaceRelative\":true,"
                                 "\"version\":1}"))) {
    rc = vg_error_set(VG_E_NOMEM, "mission from plan: out of memory for %zu items", nitems);
    goto done;
  }
  memcpy(s->polygon, aoi->outer.v, aoi->outer.n * sizeof *s->polygon);
  s->npolygon = aoi->outer.n;
  s->nitems = nitems;
  s->ntransect = nlane;
  for (size_t i = first; i < last; i++) {
    const vg_plan_wp *p = &r->wp[i];
    set_item(&s->items[k++], VG_MAV_CMD_NAV_WAYPOINT, VG_MAV_FRAME_GLOBAL_RELATIVE_ALT, jump++,
             (const double[7]){0, 0, 0, NAN, p->ll.lat, p->ll.lon, alt_agl_m});
    if (p->kind == VG_WP_TRANSIT)
      continue;
    s->transect[t++] = p->ll;
    if (camera) /* trigger every trig metres from here (param3 1: one exposure at once), or stop */
      set_item(&s->items[k++], VG_MAV_CMD_DO_SET_CAM_TRIGG_DIST, VG_MAV_FRAME_MISSION, jump++,
               (const double[7]){p->kind == VG_WP_LANE_START ? trig : 0, 0, 1, 0, 0, 0, 0});
    if (camera && p->kind == VG_WP_LANE_END && i > first && r->wp[i - 1].kind == VG_WP_LANE_START)
      shots += floor(ll_dist(r->wp[i - 1].ll, p->ll) / trig) + 1;
  }
  s->camera_shots = shots < INT32_MAX ? (int)shots : INT32_MAX;
  set_item(&m.entries[2].item, VG_MAV_CMD_NAV_RETURN_TO_LAUNCH, VG_MAV_FRAME_MISSION, jump++,
           (const double[7]){0, 0, 0, 0, 0, 0, 0});
done:
  if (rc == VG_OK)
    *out = m;
  else
    vg_mission_free(&m);
  return rc;
}
