/*
 * Mission files (lib/plan/mission.c):
 *   - the shared QGC plans (with and without a survey) read and written back equal as JSON
 *     (numbers by value), and written, read and written again byte for byte;
 *   - the shared WPL file read and written back: rows equal field by field, and the bytes equal
 *     but for the final newline the file lacks;
 *   - .plan -> WPL (a survey's Items flattened in place, home as row 0) and WPL -> .plan;
 *   - WPL leniency: CRLF, trailing white space, blank lines, a byte order mark, no final newline,
 *     "nan" and exponents;
 *   - kept members of every JSON kind (empty containers, escapes, integers past 2^53) kept;
 *   - wrong inputs, each with its code and the message saying what and where; *out untouched;
 *   - VG_PLAN_ITEMS_MAX at the boundary, in both formats;
 *   - KML parsed back with libxml2 (escaped name included); GeoJSON through
 *     tests/products/check_geojson.js (skipped with a message without node or check-geojson);
 *   - the mission of a hand-made coverage plan: items, numbering, triggers for a frame camera
 *     and none for video, and every member of QGC's own survey layout.
 */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "testutil.h"
#include "vigia/plan.h"
#include "test_json.h"

int test_plan_mission_run(void);

#define PLAN_SIMPLE "geo/plans/mavsdk_qgroundcontrol_sample.plan"
#define PLAN_SURVEY "geo/plans/mavsdk_qgroundcontrol_sample_with_survey.plan"
#define WPL_SAMPLE "geo/plans/mavsdk_mission_planner_sample_wpl110.txt"

/* ---- helpers ---------------------------------------------------------------------------------- */

static json_t *parse_json(const uint8_t *p, size_t n)
{
  json_error_t e;
  json_t *j = json_loadb((const char *)p, n, 0, &e);
  if (!j)
    fail_msg("JSON does not parse: line %d: %s", e.line, e.text);
  return j;
}

static int same_num(double a, double b)
{
  return (isnan(a) && isnan(b)) || a == b;
}

static void assert_item_eq(const vg_mission_item *a, const vg_mission_item *b, int current, const char *ctx, size_t i)
{
  if (a->command != b->command || a->frame != b->frame || a->autocontinue != b->autocontinue ||
      (current && a->current != b->current))
    fail_msg("%s: row %zu: command/frame/current/autocontinue %u/%u/%u/%u vs %u/%u/%u/%u", ctx, i, a->command, a->frame,
             a->current, a->autocontinue, b->command, b->frame, b->current, b->autocontinue);
  for (int k = 0; k < 7; k++)
    if (!same_num(a->param[k], b->param[k]))
      fail_msg("%s: row %zu: param %d: %.17g vs %.17g", ctx, i, k + 1, a->param[k], b->param[k]);
}

/* The items after home in flight order (a survey's Items in place). */
static const vg_mission_item *nth_item(const vg_mission *m, size_t n)
{
  for (size_t i = 0; i < m->nentries; i++) {
    const vg_mission_entry *e = &m->entries[i];
    size_t k = e->kind == VG_MISSION_SURVEY ? e->survey.nitems : 1;
    if (n < k)
      return e->kind == VG_MISSION_SURVEY ? &e->survey.items[n] : &e->item;
    n -= k;
  }
  return NULL;
}

static void assert_flat_eq(const vg_mission *a, const vg_mission *b, int current, const char *ctx)
{
  size_t n = vg_mission_count(a);
  assert_int_equal(n, vg_mission_count(b));
  assert_item_eq(&a->home, &b->home, current, ctx, 0);
  for (size_t i = 0; i < n; i++)
    assert_item_eq(nth_item(a, i), nth_item(b, i), current, ctx, i + 1);
}

static void read_data(const char *rel, uint8_t **buf, size_t *len)
{
  char *p = VG_REQUIRE_DATA(rel);
  if (vg_test_read_file(p, buf, len) != 0)
    fail_msg("cannot read %s", p);
  free(p);
}

static void load_data(const char *rel, vg_mission *m)
{
  char *p = VG_REQUIRE_DATA(rel);
  int rc = vg_mission_load(m, p);
  if (rc != VG_OK)
    fail_msg("%s: %s (%s)", p, vg_err_name(rc), vg_error_last());
  free(p);
}

static void write_file(const char *path, const vg_buf *b)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
  assert_int_equal(fclose(f), 0);
}

/* ---- the shared files --------------------------------------------------------------------------- */

static void plan_roundtrip(const char *rel)
{
  uint8_t *in = NULL;
  size_t n = 0;
  vg_mission m, m2;
  vg_buf a, b;
  json_t *ji, *jo;
  read_data(rel, &in, &n);
  assert_int_equal(vg_mission_read_plan(&m, in, n, rel), VG_OK);
  vg_buf_init(&a, 1u << 24);
  vg_buf_init(&b, 1u << 24);
  assert_int_equal(vg_mission_write_plan(&m, &a), VG_OK);
  ji = parse_json(in, n);
  jo = parse_json(a.data, a.len);
  if (!vg_test_json_num_equal(ji, jo))
    fail_msg("%s: written back, not the same JSON:\n%.*s", rel, (int)a.len, (const char *)a.data);
  /* written, read and written again: the same bytes */
  assert_int_equal(vg_mission_read_plan(&m2, a.data, a.len, "again"), VG_OK);
  assert_int_equal(vg_mission_write_plan(&m2, &b), VG_OK);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  json_decref(ji);
  json_decref(jo);
  vg_buf_free(&a);
  vg_buf_free(&b);
  vg_mission_free(&m);
  vg_mission_free(&m2);
  free(in);
}

static void test_plan_shared(void **state)
{
  vg_mission m;
  plan_roundtrip(PLAN_SIMPLE);
  plan_roundtrip(PLAN_SURVEY);
  /* the model holds what the files say */
  load_data(PLAN_SIMPLE, &m);
  assert_int_equal(m.nentries, 6);
  assert_int_equal(m.firmware_type, 12);
  assert_int_equal(m.vehicle_type, 2);
  assert_true(m.cruise_mps == 15 && m.hover_mps == 5);
  assert_true(m.home.param[4] == 47.3977507 && m.home.param[6] == 488.93101752001763);
  assert_int_equal(m.entries[0].item.command, 22);
  assert_true(isnan(m.entries[0].item.param[3]) && m.entries[0].item.param[0] == 15);
  assert_int_equal(m.entries[2].item.command, 2000);
  assert_int_equal(m.entries[5].item.do_jump_id, 6);
  assert_string_equal(m.entries[0].item.extra, "{\"AMSLAltAboveTerrain\":null,\"Altitude\":50,\"AltitudeMode\":1}");
  assert_null(m.entries[2].item.extra);
  assert_non_null(strstr(m.extra, "\"groundStation\":\"QGroundControl\""));
  assert_string_equal(m.mission_extra, "{\"globalPlanAltitudeMode\":1}");
  vg_mission_free(&m);
  load_data(PLAN_SURVEY, &m);
  assert_int_equal(m.nentries, 2);
  assert_int_equal(m.entries[1].kind, VG_MISSION_SURVEY);
  {
    const vg_mission_survey *s = &m.entries[1].survey;
    assert_int_equal(s->version, 5);
    assert_int_equal(s->npolygon, 4);
    assert_int_equal(s->nitems, 12);
    assert_int_equal(s->ntransect, 8);
    assert_int_equal(s->camera_shots, 6);
    assert_true(s->angle_deg == 90 && s->turnaround_m == 10 && s->footprint_side_m == 25 && s->distance_m == 50);
    assert_true(s->trigger_in_turnaround && !s->hover_and_capture && !s->split_concave);
    assert_string_equal(s->ts_extra, "{\"FollowTerrain\":false}");
    assert_non_null(strstr(s->camera_extra, "\"CameraName\":\"Manual (no camera specs)\""));
    assert_int_equal(s->items[1].command, 206);
    assert_int_equal(s->items[11].do_jump_id, 13);
  }
  assert_int_equal(vg_mission_count(&m), 13);
  vg_mission_free(&m);
  (void)state;
}

static void test_wpl_shared(void **state)
{
  uint8_t *in = NULL;
  size_t n = 0;
  vg_mission m, m2;
  vg_buf a;
  read_data(WPL_SAMPLE, &in, &n);
  assert_int_equal(vg_mission_read(&m, in, n, WPL_SAMPLE), VG_OK);
  assert_int_equal(m.nentries, 3);
  assert_int_equal(m.home.command, 22);
  assert_int_equal(m.home.frame, 5);
  assert_int_equal(m.home.current, 1);
  assert_true(m.home.param[4] == 47.3978101 && m.home.param[5] == 8.5455380 && m.home.param[6] == 15);
  assert_int_equal(m.entries[2].item.command, 20);
  assert_int_equal(m.entries[2].item.do_jump_id, 3);
  vg_buf_init(&a, 1u << 20);
  assert_int_equal(vg_mission_write_wpl(&m, &a), VG_OK);
  /* the same bytes but the final newline, which the file lacks and the writer always puts */
  assert_true(n > 0 && in[n - 1] != '\n');
  assert_int_equal(a.len, n + 1);
  assert_memory_equal(a.data, in, n);
  assert_int_equal(a.data[n], '\n');
  assert_int_equal(vg_mission_read_wpl(&m2, a.data, a.len, "again"), VG_OK);
  assert_flat_eq(&m, &m2, 1, "wpl round trip");
  vg_mission_free(&m);
  vg_mission_free(&m2);
  vg_buf_free(&a);
  free(in);
  (void)state;
}

/* .plan -> WPL -> model: the flattened items; WPL -> .plan -> model: the same items. */
static void test_convert(void **state)
{
  vg_mission p, w, p2;
  vg_buf a, b;
  json_t *j;
  load_data(PLAN_SURVEY, &p);
  vg_buf_init(&a, 1u << 20);
  vg_buf_init(&b, 1u << 20);
  assert_int_equal(vg_mission_write_wpl(&p, &a), VG_OK);
  assert_int_equal(vg_mission_read_wpl(&w, a.data, a.len, "converted"), VG_OK);
  assert_int_equal(w.nentries, 13); /* the 530 (camera mode), then the survey's 12 Items */
  assert_flat_eq(&p, &w, 1, "plan -> wpl");
  assert_int_equal(w.home.command, 16);
  assert_int_equal(w.home.current, 1);
  assert_true(w.home.param[6] == 483.4261075265049);
  /* first rows as text: home with the plan's altitude, the survey's first waypoint at full precision */
  assert_non_null(strstr((const char *)a.data, "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t47.39801775617688\t"
                                               "8.545149580000002\t483.4261075265049\t1\n"));
  assert_non_null(
    strstr((const char *)a.data, "\n2\t0\t3\t16\t0\t0\t0\tnan\t47.397705960554916\t8.546339694155481\t50\t1\n"));
  /* WPL -> .plan: loads in QGC (the members it requires), and reads back to the same items */
  assert_int_equal(vg_mission_write_plan(&w, &b), VG_OK);
  j = parse_json(b.data, b.len);
  assert_non_null(json_object_get(j, "geoFence"));
  assert_non_null(json_object_get(j, "rallyPoints"));
  assert_string_equal(json_string_value(json_object_get(j, "groundStation")), "vigia");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "mission"), "firmwareType")), 3);
  json_decref(j);
  assert_int_equal(vg_mission_read_plan(&p2, b.data, b.len, "converted.plan"), VG_OK);
  assert_flat_eq(&w, &p2, 0, "wpl -> plan");
  assert_int_equal(p2.entries[12].item.do_jump_id, 13);
  vg_mission_free(&p);
  vg_mission_free(&w);
  vg_mission_free(&p2);
  vg_buf_free(&a);
  vg_buf_free(&b);
  (void)state;
}

static void test_wpl_lenient(void **state)
{
  static const char strict[] = "QGC WPL 110\n"
                               "0\t1\t0\t16\t0\t0\t0\t0\t-35.3632621\t149.1652374\t584.09\t1\n"
                               "1\t0\t3\t22\t15\t0\t0\tnan\t-35.3632621\t149.1652374\t20\t1\n"
                               "2\t0\t3\t16\t0.5\t1e-07\t-2.5e+20\t0\t-35.3623000\t149.1644000\t100\t0\n";
  static const char lenient[] = "\xEF\xBB\xBFQGC WPL 110  \r\n"
                                "0 1 0 16 0 0 0 0 -35.3632621 149.1652374 584.090 1\r\n"
                                "\r\n"
                                "1\t0\t3\t22\t15.0\t0\t0\tNaN\t-35.36326210\t149.1652374\t2E1\t1 \t\r\n"
                                "   \t\n"
                                "2\t0\t3\t16\t.5\t0.0000001\t-25e19\t-0\t-35.3623\t149.1644\t+100\t0";
  vg_mission a, b;
  vg_buf out;
  assert_int_equal(vg_mission_read_wpl(&a, (const uint8_t *)strict, strlen(strict), "strict"), VG_OK);
  assert_int_equal(vg_mission_read_wpl(&b, (const uint8_t *)lenient, strlen(lenient), "lenient"), VG_OK);
  assert_flat_eq(&a, &b, 1, "lenient");
  vg_buf_init(&out, 1u << 16);
  assert_int_equal(vg_mission_write_wpl(&b, &out), VG_OK);
  assert_int_equal(out.len, strlen(strict));
  assert_memory_equal(out.data, strict, out.len);
  vg_mission_free(&a);
  vg_mission_free(&b);
  vg_buf_free(&out);
  (void)state;
}

/* ---- wrong inputs ------------------------------------------------------------------------------- */

#define HEAD                                                                                                       \
  "{\"fileType\":\"Plan\",\"version\":1,\"groundStation\":\"t\",\"mission\":{\"version\":2,\"firmwareType\":12,"     \
  "\"plannedHomePosition\":[47.1,8.5,400],\"items\":"
#define ITEM(cmd, params, ac)                                                                                      \
  "{\"type\":\"SimpleItem\",\"command\":" cmd ",\"frame\":3,\"params\":" params ",\"autoContinue\":" ac "}"
#define GOOD_ITEM ITEM("16", "[0,0,0,null,47.2,8.6,50]", "true")
#define SURVEY(polygon, items)                                                                                      \
  "{\"type\":\"ComplexItem\",\"complexItemType\":\"survey\",\"version\":5,\"polygon\":" polygon ",\"angle\":0,"      \
  "\"entryLocation\":0,\"flyAlternateTransects\":false,\"splitConcavePolygons\":false,\"TransectStyleComplexItem\":{" \
  "\"version\":1,\"TurnAroundDistance\":0,\"CameraTriggerInTurnAround\":false,\"HoverAndCapture\":false,"            \
  "\"Refly90Degrees\":false,\"VisualTransectPoints\":[],\"CameraCalc\":{\"AdjustedFootprintSide\":1,"               \
  "\"AdjustedFootprintFrontal\":1,\"DistanceToSurface\":1},\"Items\":" items "}}"
#define POLY3 "[[47.1,8.5],[47.2,8.5],[47.2,8.6]]"

typedef struct bad_case {
  const char *text;
  int code;
  const char *msg; /* a part of the message */
} bad_case;

static const bad_case k_bad_plan[] = {
  {HEAD "[" GOOD_ITEM "]}", VG_E_TRUNCATED, "bad: line 1"},
  {"{\"fileType\":\"Mission\",\"version\":1}", VG_E_MALFORMED, "bad: plan.fileType: \"Mission\", expected \"Plan\""},
  {"{\"fileType\":\"Plan\",\"version\":2}", VG_E_UNSUPPORTED, "bad: plan.version: 2 not supported"},
  {"[1,2]", VG_E_MALFORMED, "bad: plan: not a JSON object"},
  {HEAD "[" ITEM("16", "[0,0,0,null,47.2,8.6]", "true") "]}}", VG_E_MALFORMED,
   "bad: mission.items[0].params: not an array of 7 numbers or nulls"},
  {HEAD "[" GOOD_ITEM "," ITEM("\"16\"", "[0,0,0,0,0,0,0]", "true") "]}}", VG_E_MALFORMED,
   "bad: mission.items[1].command: not an integer 0..65535"},
  {HEAD "[" ITEM("70000", "[0,0,0,0,0,0,0]", "true") "]}}", VG_E_MALFORMED, "mission.items[0].command: not an integer"},
  {HEAD "[" ITEM("16.5", "[0,0,0,0,0,0,0]", "true") "]}}", VG_E_MALFORMED, "mission.items[0].command: not an integer"},
  {HEAD "{}}}", VG_E_MALFORMED, "bad: mission.items: not an array"},
  {HEAD "[" ITEM("16", "[0,0,\"x\",0,0,0,0]", "true") "]}}", VG_E_MALFORMED,
   "bad: mission.items[0].params[2]: not a number or null"},
  {HEAD "[" ITEM("16", "[0,0,0,0,0,0,0]", "1") "]}}", VG_E_MALFORMED,
   "mission.items[0].autoContinue: not true or false"},
  {HEAD "[{\"type\":\"Waypoint\"}]}}", VG_E_MALFORMED, "mission.items[0].type: not \"SimpleItem\" or \"ComplexItem\""},
  {HEAD "[{\"type\":\"ComplexItem\",\"complexItemType\":\"CorridorScan\"}]}}", VG_E_UNSUPPORTED,
   "mission.items[0].complexItemType: \"CorridorScan\" not supported"},
  {HEAD "[" SURVEY("[[47.1,8.5],[47.2,8.5]]", "[]") "]}}", VG_E_MALFORMED,
   "mission.items[0].polygon: 2 points, expected 3..100000"},
  {HEAD "[" SURVEY(POLY3, "[" GOOD_ITEM ",{\"type\":\"SimpleItem\",\"command\":16,\"frame\":3,\"autoContinue\":true}]")
   "]}}", VG_E_MALFORMED, "bad: mission.items[0].TransectStyleComplexItem.Items[1].params: missing"},
  {"{\"fileType\":\"Plan\",\"version\":1,\"mission\":{\"version\":2,\"plannedHomePosition\":[0,0,0],\"items\":[]}}",
   VG_E_MALFORMED, "bad: mission.firmwareType: missing"},
  {"{\"fileType\":\"Plan\",\"version\":1,\"mission\":{\"version\":2,\"firmwareType\":3,"
   "\"plannedHomePosition\":[95,0,0],\"items\":[]}}", VG_E_MALFORMED, "mission.plannedHomePosition: latitude 95"},
  {"{\"fileType\":\"Plan\",\"fileType\":\"Plan\"}", VG_E_MALFORMED, "duplicate"},
  {"{\"fileType\":\"Plan\",\"version\":1,\"mission\":{\"version\":3}}", VG_E_UNSUPPORTED,
   "mission.version: 3 not supported"},
  /* 33 nested containers with the root: more than the JSON writer can write back */
  {"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", VG_E_LIMIT, "VG_MISSION_DEPTH_MAX"},
};

static const bad_case k_bad_wpl[] = {
  {"", VG_E_MALFORMED, "bad: empty"},
  {"QGC WPL 110\n", VG_E_MALFORMED, "bad: no rows"},
  {"QGC WP 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED, "bad: line 1: not the header"},
  {"QGC WPL 120\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_UNSUPPORTED, "bad: line 1: QGC WPL version \"120\""},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n1\t0\t3\t16\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED,
   "bad: line 3: 11 fields, expected 12"},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\t7\n", VG_E_MALFORMED, "bad: line 2: more than 12 fields"},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t4x.1\t2\t3\t1\n", VG_E_MALFORMED,
   "bad: line 2: field 9 (LAT) \"4x.1\" is not a finite number or nan"},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\tinf\t1\n", VG_E_MALFORMED, "field 11 (ALT) \"inf\" is not a finite"},
  {"QGC WPL 110\n0\t1\t0\t16\t0x10\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED, "field 5 (P1) \"0x10\""},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t1e999\t1\n", VG_E_MALFORMED, "field 11 (ALT)"},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n2\t0\t3\t16\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED,
   "bad: line 3: INDEX 2, expected 1"},
  {"QGC WPL 110\n0\t2\t0\t16\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED,
   "line 2: field 2 (CURRENT) \"2\" is not 0 or 1"},
  {"QGC WPL 110\n0\t1\t0\t70000\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED,
   "field 4 (COMMAND) \"70000\" is not an integer 0..65535"},
  {"QGC WPL 110\n0\t1\t0\t16.0\t0\t0\t0\t0\t1\t2\t3\t1\n", VG_E_MALFORMED, "field 4 (COMMAND)"},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t3\tyes\n", VG_E_MALFORMED, "field 12 (AUTOCONTINUE) \"yes\""},
  {"QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t1\t2\t"
   "1.00000000000000000000000000000000000000000000000000000000000000000\t1\n", VG_E_MALFORMED, "field 11 (ALT)"},
};

static void check_bad(const bad_case *b, int wpl)
{
  vg_mission m;
  unsigned char before[sizeof m];
  int rc;
  memset(&m, 0x5a, sizeof m);
  memcpy(before, &m, sizeof m);
  vg_error_clear();
  /* wpl: 0 the .plan reader, 1 the WPL reader, 2 either by content */
  rc = wpl == 2   ? vg_mission_read(&m, (const uint8_t *)b->text, strlen(b->text), "bad")
       : wpl == 1 ? vg_mission_read_wpl(&m, (const uint8_t *)b->text, strlen(b->text), "bad")
                  : vg_mission_read_plan(&m, (const uint8_t *)b->text, strlen(b->text), "bad");
  if (rc != b->code || !strstr(vg_error_last(), b->msg))
    fail_msg("input %.60s: got %s \"%s\", expected %s with \"%s\"", b->text, vg_err_name(rc), vg_error_last(),
             vg_err_name(b->code), b->msg);
  assert_memory_equal(&m, before, sizeof m); /* *out untouched */
}

static void test_bad(void **state)
{
  for (size_t i = 0; i < sizeof k_bad_plan / sizeof k_bad_plan[0]; i++)
    check_bad(&k_bad_plan[i], 0);
  for (size_t i = 0; i < sizeof k_bad_wpl / sizeof k_bad_wpl[0]; i++)
    check_bad(&k_bad_wpl[i], 1);
  check_bad(&(bad_case){"hello", VG_E_MALFORMED, "bad: neither a QGC .plan"}, 2);
  check_bad(&(bad_case){"\xEF\xBB\xBF  {\"fileType\":1}", VG_E_MALFORMED, "bad: plan.fileType: not a string"}, 2);
  (void)state;
}

/* VG_PLAN_ITEMS_MAX items after home read; one more refused, in both formats. */
static void test_limits(void **state)
{
  vg_buf b;
  vg_mission m;
  int rc;
  vg_buf_init(&b, 1u << 26);
  for (int extra = 0; extra <= 1; extra++) {
    size_t n = VG_PLAN_ITEMS_MAX + (size_t)extra;
    vg_buf_reset(&b);
    assert_int_equal(vg_buf_printf(&b, "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t47\t8\t400\t1\n"), VG_OK);
    for (size_t i = 1; i <= n; i++)
      assert_int_equal(vg_buf_printf(&b, "%zu\t0\t3\t16\t0\t0\t0\t0\t47.001\t8.001\t50\t1\n", i), VG_OK);
    rc = vg_mission_read_wpl(&m, b.data, b.len, "big.txt");
    if (!extra) {
      assert_int_equal(rc, VG_OK);
      assert_int_equal(vg_mission_count(&m), VG_PLAN_ITEMS_MAX);
      vg_mission_free(&m);
    } else {
      assert_int_equal(rc, VG_E_LIMIT);
      assert_non_null(strstr(vg_error_last(), "big.txt: line 65538: more than VG_PLAN_ITEMS_MAX"));
    }
    vg_buf_reset(&b);
    assert_int_equal(vg_buf_printf(&b, HEAD "["), VG_OK);
    for (size_t i = 0; i < n; i++)
      assert_int_equal(vg_buf_printf(&b, "%s" GOOD_ITEM, i ? "," : ""), VG_OK);
    assert_int_equal(vg_buf_printf(&b, "]}}"), VG_OK);
    rc = vg_mission_read_plan(&m, b.data, b.len, "big.plan");
    if (!extra) {
      assert_int_equal(rc, VG_OK);
      assert_int_equal(vg_mission_count(&m), VG_PLAN_ITEMS_MAX);
      vg_mission_free(&m);
    } else {
      assert_int_equal(rc, VG_E_LIMIT);
      assert_non_null(strstr(vg_error_last(), "big.plan: mission.items: 65536 items, more than VG_PLAN_ITEMS_MAX"));
    }
  }
  /* a survey's Items count with the simple items */
  vg_buf_reset(&b);
  assert_int_equal(vg_buf_printf(&b, HEAD "["), VG_OK);
  for (size_t i = 0; i < VG_PLAN_ITEMS_MAX - 1; i++) /* 65534 + 2 Items */
    assert_int_equal(vg_buf_printf(&b, GOOD_ITEM ","), VG_OK);
  assert_int_equal(vg_buf_printf(&b, SURVEY(POLY3, "[" GOOD_ITEM "," GOOD_ITEM "]") "]}}"), VG_OK);
  assert_int_equal(vg_mission_read_plan(&m, b.data, b.len, "big.plan"), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "Items[1]: more than VG_PLAN_ITEMS_MAX"));
  /* nesting: VG_MISSION_DEPTH_MAX containers read and written back, one more refused */
  for (int extra = 0; extra <= 1; extra++) {
    int arrays = VG_MISSION_DEPTH_MAX - 2 + extra; /* inside the root and mission objects */
    vg_buf out;
    vg_buf_reset(&b);
    assert_int_equal(vg_buf_printf(&b, HEAD "[], \"x\":"), VG_OK);
    for (int i = 0; i < arrays; i++)
      assert_int_equal(vg_buf_putc(&b, '['), VG_OK);
    for (int i = 0; i < arrays; i++)
      assert_int_equal(vg_buf_putc(&b, ']'), VG_OK);
    assert_int_equal(vg_buf_printf(&b, "}}"), VG_OK);
    rc = vg_mission_read_plan(&m, b.data, b.len, "deep.plan");
    if (extra) {
      assert_int_equal(rc, VG_E_LIMIT);
      continue;
    }
    assert_int_equal(rc, VG_OK);
    vg_buf_init(&out, 1u << 16);
    assert_int_equal(vg_mission_write_plan(&m, &out), VG_OK);
    vg_buf_free(&out);
    vg_mission_free(&m);
  }
  vg_buf_free(&b);
  (void)state;
}

/* Kept members of every JSON kind survive a round trip: empty containers, nesting, escapes and
 * non-ASCII text, integers beyond 2^53, reals, null and booleans; in every kind of object. */
static void test_kept(void **state)
{
  static const char text[] =
    "{\"fileType\":\"Plan\",\"version\":1,\"e\":{},\"a\":[],"
    "\"s\":\"tab\\t quote\\\" \\u00e9 \xe2\x82\xac \\ud83d\\ude00\","
    "\"n\":[9007199254740993,-9223372036854775807,1e-300,1.7976931348623157e308,0.1,-0.0,null,true,false,[[{}]]],"
    "\"mission\":{\"version\":2,\"firmwareType\":0,\"plannedHomePosition\":[0,0,0],\"m\":{\"x\":[1]},\"items\":["
    "{\"type\":\"SimpleItem\",\"command\":16.0,\"frame\":3,\"params\":[0,0,0,null,1,2,3],\"autoContinue\":false,"
    "\"i\":{\"\":\"empty key\"}}," SURVEY(POLY3, "[]") "]}}";
  vg_mission m, m2;
  vg_buf a, b;
  json_t *ji, *jo;
  assert_int_equal(vg_mission_read_plan(&m, (const uint8_t *)text, strlen(text), "kept"), VG_OK);
  assert_int_equal(m.entries[0].item.command, 16);
  assert_string_equal(m.entries[0].item.extra, "{\"i\":{\"\":\"empty key\"}}");
  assert_string_equal(m.mission_extra, "{\"m\":{\"x\":[1]}}");
  vg_buf_init(&a, 1u << 20);
  vg_buf_init(&b, 1u << 20);
  assert_int_equal(vg_mission_write_plan(&m, &a), VG_OK);
  ji = parse_json((const uint8_t *)text, strlen(text));
  jo = parse_json(a.data, a.len);
  if (!vg_test_json_num_equal(ji, jo))
    fail_msg("kept members changed:\n%.*s", (int)a.len, (const char *)a.data);
  /* integers stay integers, exactly */
  assert_true(json_integer_value(json_array_get(json_object_get(jo, "n"), 0)) == 9007199254740993LL);
  assert_int_equal(vg_mission_read_plan(&m2, a.data, a.len, "again"), VG_OK);
  assert_int_equal(vg_mission_write_plan(&m2, &b), VG_OK);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  json_decref(ji);
  json_decref(jo);
  vg_mission_free(&m);
  vg_mission_free(&m2);
  vg_buf_free(&a);
  vg_buf_free(&b);
  (void)state;
}

/* What the writers refuse in a mission made by hand. */
static void test_write_invalid(void **state)
{
  vg_mission m;
  vg_mission_entry e[1];
  char dup[] = "{\"command\":5}", arr[] = "[1]";
  vg_buf b;
  vg_mission_init(&m);
  vg_buf_init(&b, 1u << 16);
  memset(e, 0, sizeof e);
  e[0].kind = VG_MISSION_SIMPLE;
  e[0].item.autocontinue = 1;
  e[0].item.do_jump_id = -1;
  m.entries = e;
  m.nentries = 1;
  e[0].item.extra = dup;
  assert_int_equal(vg_mission_write_plan(&m, &b), VG_E_INVALID);
  assert_non_null(strstr(vg_error_last(), "kept member command repeats a modelled one"));
  e[0].item.extra = arr;
  assert_int_equal(vg_mission_write_plan(&m, &b), VG_E_INVALID);
  e[0].item.extra = NULL;
  e[0].item.param[2] = INFINITY;
  assert_int_equal(vg_mission_write_plan(&m, &b), VG_E_INVALID);
  assert_int_equal(vg_mission_write_wpl(&m, &b), VG_E_INVALID);
  assert_int_equal(b.len, 0); /* nothing left behind */
  e[0].item.param[2] = NAN;
  assert_int_equal(vg_mission_write_plan(&m, &b), VG_OK);
  assert_non_null(strstr((const char *)b.data, "null"));
  vg_buf_free(&b);
  (void)state;
}

/* ---- KML and GeoJSON ------------------------------------------------------------------------------ */

static size_t count_elems(xmlNode *n, const char *name)
{
  size_t c = 0;
  for (; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      c += (strcmp((const char *)n->name, name) == 0) + count_elems(n->children, name);
  return c;
}

static xmlNode *first_elem(xmlNode *n, const char *name)
{
  for (; n; n = n->next) {
    xmlNode *x;
    if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
      return n;
    if ((x = first_elem(n->children, name)) != NULL)
      return x;
  }
  return NULL;
}

static void kml_check(const vg_mission *m, const char *name, const char *want_name, size_t placemarks,
                      const char *mode)
{
  vg_buf b;
  xmlDoc *doc;
  xmlNode *root, *nm;
  xmlChar *txt;
  vg_buf_init(&b, 1u << 22);
  assert_int_equal(vg_mission_write_kml(m, name, &b), VG_OK);
  doc = xmlReadMemory((const char *)b.data, (int)b.len, "mission.kml", NULL, XML_PARSE_NONET);
  if (!doc)
    fail_msg("KML not well formed:\n%.*s", (int)b.len, (const char *)b.data);
  root = xmlDocGetRootElement(doc);
  assert_string_equal((const char *)root->name, "kml");
  assert_non_null(root->ns);
  assert_string_equal((const char *)root->ns->href, "http://www.opengis.net/kml/2.2");
  assert_int_equal(count_elems(root, "Placemark"), placemarks);
  assert_int_equal(count_elems(root, "LineString"), 1);
  assert_int_equal(count_elems(root, "Polygon"), 1);
  nm = first_elem(root, "name");
  txt = xmlNodeGetContent(nm);
  assert_string_equal((const char *)txt, want_name);
  xmlFree(txt);
  txt = xmlNodeGetContent(first_elem(first_elem(root, "LineString"), "altitudeMode"));
  assert_string_equal((const char *)txt, mode);
  xmlFree(txt);
  xmlFreeDoc(doc);
  vg_buf_free(&b);
}

static void test_kml(void **state)
{
  vg_mission m;
  load_data(PLAN_SURVEY, &m);
  /* home, path, 8 survey waypoints (the 206s and the 530 have no position), the polygon */
  kml_check(&m, "a <b> & 'c' \"d\"\x01 \xff\xfe \xc3\xa9", "a <b> & 'c' \"d\"? ?? \xc3\xa9", 1 + 1 + 8 + 1,
            "relativeToGround");
  vg_mission_free(&m);
  (void)state;
}

/* Runs check_geojson.js on @p path: 0 passed, 1 failed, -1 skipped (no node or no check-geojson). */
static int run_check_geojson(const char *path)
{
  char script[1024], cmd[2300];
  const char *src = getenv("VIGIA_SRC");
  int st;
  if (src && *src) {
    snprintf(script, sizeof script, "%s/tests/products/check_geojson.js", src);
  } else { /* beside this file: tests/unit/ -> tests/products/ */
    const char *f = __FILE__, *slash = strrchr(f, '/');
    snprintf(script, sizeof script, "%.*s/../products/check_geojson.js", slash ? (int)(slash - f) : 1,
             slash ? f : ".");
  }
  if (access(script, R_OK) != 0) {
    print_message("GEOJSON CHECK SKIPPED: %s is absent (set VIGIA_SRC to the source tree)\n", script);
    return -1;
  }
  if (system("node --version > /dev/null 2>&1") != 0) {
    print_message("GEOJSON CHECK SKIPPED: node is not installed\n");
    return -1;
  }
  snprintf(cmd, sizeof cmd, "node '%s' '%s'", script, path);
  st = system(cmd);
  if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2) {
    print_message("GEOJSON CHECK SKIPPED: check-geojson is not installed (npm ci --prefix tests/products)\n");
    return -1;
  }
  return (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : 1;
}

static void geojson_check(const vg_mission *m, size_t points, size_t polygons)
{
  char dir[] = "/tmp/vg_mission_XXXXXX", path[64];
  vg_buf b;
  json_t *j, *fs;
  size_t np = 0, npoly = 0, nline = 0;
  vg_buf_init(&b, 1u << 22);
  assert_int_equal(vg_mission_write_geojson(m, &b), VG_OK);
  j = parse_json(b.data, b.len);
  fs = json_object_get(j, "features");
  for (size_t i = 0; i < json_array_size(fs); i++) {
    json_t *ft = json_array_get(fs, i), *g = json_object_get(ft, "geometry"), *pr = json_object_get(ft, "properties");
    const char *t = json_string_value(json_object_get(g, "type"));
    assert_non_null(pr);
    if (strcmp(t, "Point") == 0) {
      np++;
      assert_true(json_is_integer(json_object_get(pr, "seq")) && json_is_integer(json_object_get(pr, "command")) &&
                  json_is_integer(json_object_get(pr, "frame")));
    } else if (strcmp(t, "Polygon") == 0) {
      json_t *ring = json_array_get(json_object_get(g, "coordinates"), 0);
      size_t n = json_array_size(ring);
      double a2 = 0;
      npoly++;
      assert_true(n >= 4);
      assert_true(vg_test_json_num_equal(json_array_get(ring, 0), json_array_get(ring, n - 1))); /* closed */
      for (size_t k = 0; k + 1 < n; k++) {
        json_t *p = json_array_get(ring, k), *q = json_array_get(ring, k + 1);
        a2 += json_number_value(json_array_get(p, 0)) * json_number_value(json_array_get(q, 1)) -
              json_number_value(json_array_get(q, 0)) * json_number_value(json_array_get(p, 1));
      }
      assert_true(a2 > 0); /* counter-clockwise */
    } else {
      assert_string_equal(t, "LineString");
      nline++;
    }
  }
  assert_int_equal(np, points);
  assert_int_equal(npoly, polygons);
  assert_int_equal(nline, 1);
  json_decref(j);
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/mission.geojson", dir);
  write_file(path, &b);
  if (run_check_geojson(path) == 1)
    fail_msg("check_geojson.js refuses %s", path);
  unlink(path);
  rmdir(dir);
  vg_buf_free(&b);
}

static void test_geojson(void **state)
{
  vg_mission m;
  load_data(PLAN_SURVEY, &m);
  geojson_check(&m, 1 + 8, 1);
  vg_mission_free(&m);
  load_data(PLAN_SIMPLE, &m);
  {
    vg_buf b;
    vg_buf_init(&b, 1u << 20);
    assert_int_equal(vg_mission_write_kml(&m, NULL, &b), VG_OK);
    assert_non_null(strstr((const char *)b.data, "<name>vigia mission</name>"));
    vg_buf_free(&b);
  }
  vg_mission_free(&m);
  (void)state;
}

/* ---- the mission of a coverage plan ---------------------------------------------------------------- */

typedef struct build_fx {
  vg_plan_wp wp[6];
  vg_plan_result r;
  vg_plan_ll ring[4];
  vg_plan_area aoi;
  vg_plan_sensor cam, video;
} build_fx;

/* Two north-south lanes of 500 m, 100 m apart, flown from and back to a base. */
static void build_fixture(build_fx *f)
{
  static const vg_plan_ll ll[6] = {{46.999, 7.999}, {47.0, 8.0},        {47.0045, 8.0},
                                   {47.0045, 8.00132}, {47.0, 8.00132}, {46.999, 7.999}};
  static const vg_plan_wp_kind kind[6] = {VG_WP_TRANSIT,    VG_WP_LANE_START, VG_WP_LANE_END,
                                          VG_WP_LANE_START, VG_WP_LANE_END,   VG_WP_TRANSIT};
  memset(f, 0, sizeof *f);
  for (int i = 0; i < 6; i++) {
    f->wp[i].ll = ll[i];
    f->wp[i].kind = kind[i];
    f->wp[i].lane = (size_t)(i - 1) / 2;
  }
  f->r.wp = f->wp;
  f->r.nwp = 6;
  f->r.angle_deg = 0;
  f->r.spacing_m = 100;
  f->ring[0] = (vg_plan_ll){46.9995, 7.9995};
  f->ring[1] = (vg_plan_ll){46.9995, 8.0018};
  f->ring[2] = (vg_plan_ll){47.005, 8.0018};
  f->ring[3] = (vg_plan_ll){47.005, 7.9995};
  f->aoi.outer.v = f->ring;
  f->aoi.outer.n = 4;
  snprintf(f->aoi.name, sizeof f->aoi.name, "field");
  /* tan(vfov / 2) = 0.5: at 100 m the frame is 100 m long, 40 m with 60 % front overlap */
  f->cam.hfov_deg = 60;
  f->cam.vfov_deg = 2 * atan(0.5) / (3.14159265358979323846 / 180);
  f->cam.depression_deg = 90;
  f->cam.front_overlap = 0.6;
  f->video = f->cam;
  f->video.video = 1;
}

/* Every member of QGC's own survey layout (the shared sample's, written by QGC 4) is present. */
static void assert_has_keys(json_t *o, const char *const *keys, const char *where)
{
  for (; *keys; keys++)
    if (!json_object_get(o, *keys))
      fail_msg("%s: member %s missing", where, *keys);
}

static void test_builder(void **state)
{
  static const char *const k_root[] = {"fileType",    "geoFence", "groundStation", "mission",
                                       "rallyPoints", "version",  NULL};
  static const char *const k_mission[] = {"cruiseSpeed", "firmwareType", "items", "plannedHomePosition", "vehicleType",
                                          "version", NULL};
  static const char *const k_survey[] = {"TransectStyleComplexItem", "angle", "complexItemType", "entryLocation",
                                         "flyAlternateTransects", "polygon", "splitConcavePolygons", "type", "version",
                                         NULL};
  static const char *const k_ts[] = {"CameraCalc", "CameraShots", "CameraTriggerInTurnAround", "FollowTerrain",
                                     "HoverAndCapture", "Items", "Refly90Degrees", "TurnAroundDistance",
                                     "VisualTransectPoints", "version", NULL};
  static const char *const k_cam[] = {"AdjustedFootprintFrontal", "AdjustedFootprintSide", "CameraName",
                                      "DistanceToSurface", "DistanceToSurfaceRelative", "version", NULL};
  build_fx f;
  vg_mission_build_opts o = VG_MISSION_BUILD_OPTS_INIT;
  vg_mission m, m2;
  vg_buf b;
  json_t *j, *sv, *ts;
  const vg_mission_survey *s;
  build_fixture(&f);
  o.sensor = &f.cam;
  o.has_base = 1;
  o.base = f.wp[0].ll;
  o.home_amsl_m = 420;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, &o, &m), VG_OK);
  assert_int_equal(m.nentries, 3);
  assert_true(m.home.param[4] == 46.999 && m.home.param[5] == 7.999 && m.home.param[6] == 420);
  assert_int_equal(m.home.frame, 0);
  assert_int_equal(m.entries[0].item.command, VG_MAV_CMD_NAV_TAKEOFF);
  assert_int_equal(m.entries[0].item.frame, VG_MAV_FRAME_GLOBAL_RELATIVE_ALT);
  assert_true(m.entries[0].item.param[6] == 100 && m.entries[0].item.param[0] == 15);
  assert_int_equal(m.entries[0].item.do_jump_id, 1);
  assert_int_equal(m.entries[1].kind, VG_MISSION_SURVEY);
  s = &m.entries[1].survey;
  assert_int_equal(s->npolygon, 4);
  assert_true(s->polygon[2].lat == 47.005 && s->angle_deg == 0);
  /* the base transits are the takeoff and the return: 4 lane waypoints, each with its trigger */
  assert_int_equal(s->nitems, 8);
  for (size_t i = 0; i < 8; i++) {
    const vg_mission_item *it = &s->items[i];
    assert_int_equal(it->do_jump_id, (int)i + 2);
    if (i % 2 == 0) {
      assert_int_equal(it->command, VG_MAV_CMD_NAV_WAYPOINT);
      assert_int_equal(it->frame, VG_MAV_FRAME_GLOBAL_RELATIVE_ALT);
      assert_true(it->param[4] == f.wp[1 + i / 2].ll.lat && it->param[5] == f.wp[1 + i / 2].ll.lon &&
                  it->param[6] == 100 && isnan(it->param[3]));
    } else {
      assert_int_equal(it->command, VG_MAV_CMD_DO_SET_CAM_TRIGG_DIST);
      assert_int_equal(it->frame, VG_MAV_FRAME_MISSION);
      assert_true(fabs(it->param[0] - ((i / 2) % 2 == 0 ? 40 : 0)) < 1e-9 && it->param[2] == 1);
    }
  }
  assert_int_equal(s->ntransect, 4);
  assert_true(s->transect[3].lat == 47.0 && s->transect[3].lon == 8.00132);
  assert_true(fabs(s->footprint_front_m - 40) < 1e-9 && s->footprint_side_m == 100 && s->distance_m == 100);
  assert_int_equal(s->camera_shots, 2 * 13); /* 500.4 m / 40 m: 13 exposures a lane */
  assert_int_equal(m.entries[2].item.command, VG_MAV_CMD_NAV_RETURN_TO_LAUNCH);
  assert_int_equal(m.entries[2].item.do_jump_id, 10);
  assert_true(m.cruise_mps == 25 && isnan(m.hover_mps));
  assert_int_equal(m.firmware_type, VG_MAV_AUTOPILOT_PX4);
  assert_int_equal(m.vehicle_type, VG_MAV_TYPE_FIXED_WING);
  /* written: the layout QGC writes, and read back the same */
  vg_buf_init(&b, 1u << 22);
  assert_int_equal(vg_mission_write_plan(&m, &b), VG_OK);
  j = parse_json(b.data, b.len);
  assert_has_keys(j, k_root, "plan");
  assert_has_keys(json_object_get(j, "mission"), k_mission, "mission");
  sv = json_array_get(json_object_get(json_object_get(j, "mission"), "items"), 1);
  assert_has_keys(sv, k_survey, "survey");
  ts = json_object_get(sv, "TransectStyleComplexItem");
  assert_has_keys(ts, k_ts, "TransectStyleComplexItem");
  assert_has_keys(json_object_get(ts, "CameraCalc"), k_cam, "CameraCalc");
  json_decref(j);
  assert_int_equal(vg_mission_read_plan(&m2, b.data, b.len, "built.plan"), VG_OK);
  assert_flat_eq(&m, &m2, 0, "built");
  vg_mission_free(&m2);
  /* KML: takeoff and lanes relative to home: relativeToGround; home, path, 5 waypoints, the polygon */
  kml_check(&m, "built", "built", 1 + 1 + 5 + 1, "relativeToGround");
  geojson_check(&m, 1 + 5, 1);
  vg_mission_free(&m);

  /* video: no trigger items; home at the plan's first waypoint, which is then kept as the first
   * waypoint only if it is not a transit at home */
  o.sensor = &f.video;
  o.has_base = 0;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 120, 25, &o, &m), VG_OK);
  s = &m.entries[1].survey;
  assert_int_equal(s->nitems, 4);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(s->items[i].command, VG_MAV_CMD_NAV_WAYPOINT);
  assert_int_equal(s->camera_shots, 0);
  assert_int_equal(m.entries[2].item.do_jump_id, 6);
  vg_mission_free(&m);
  /* no sensor (NULL options): no triggers either */
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 120, 25, NULL, &m), VG_OK);
  assert_int_equal(m.entries[1].survey.nitems, 4);
  vg_mission_free(&m);

  /* wrong arguments */
  memset(&m, 0x5a, sizeof m);
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 0, 25, NULL, &m), VG_E_INVALID);
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, NAN, NULL, &m), VG_E_INVALID);
  f.aoi.outer.n = 2;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, NULL, &m), VG_E_INVALID);
  f.aoi.outer.n = 4;
  f.r.nwp = 0;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, NULL, &m), VG_E_INVALID);
  f.r.nwp = 6;
  o.version = 99;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, &o, &m), VG_E_INVALID);
  o.version = VG_MISSION_BUILD_OPTS_VERSION;
  f.cam.vfov_deg = 0;
  o.sensor = &f.cam;
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, &o, &m), VG_E_INVALID);
  assert_non_null(strstr(vg_error_last(), "trigger distance"));
  o.trigger_dist_m = 30; /* given: no need of the field of view */
  assert_int_equal(vg_mission_from_plan(&f.r, &f.aoi, 100, 25, &o, &m), VG_OK);
  assert_true(m.entries[1].survey.items[1].param[0] == 30);
  vg_mission_free(&m);
  vg_buf_free(&b);
  (void)state;
}

int test_plan_mission_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plan_shared), cmocka_unit_test(test_wpl_shared),    cmocka_unit_test(test_convert),
    cmocka_unit_test(test_wpl_lenient), cmocka_unit_test(test_bad),           cmocka_unit_test(test_limits),
    cmocka_unit_test(test_kept),        cmocka_unit_test(test_write_invalid), cmocka_unit_test(test_kml),
    cmocka_unit_test(test_geojson),     cmocka_unit_test(test_builder),
  };
  return cmocka_run_group_tests_name("plan_mission", tests, NULL, NULL);
}
