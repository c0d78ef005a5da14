/*
 * Fuzz harness: mission files, lib/plan/mission.c (DESIGN.md convention 10; the formats are
 * docs/formats/mission.md). The whole input goes to the .plan reader and to the WPL reader, from
 * memory. Checked (abort on failure):
 *  - on failure the code is one the reader documents and the message names the input;
 *  - a .plan that parsed, written back, is the same JSON as the input (members, values; numbers
 *    by value), and written, read and written again gives the same bytes;
 *  - a WPL that parsed, written back and read again, has the same rows field by field, and its
 *    second writing gives the same bytes;
 *  - either, converted (.plan -> WPL, WPL -> .plan) and read back, has the same MAVLink items;
 *  - the KML and GeoJSON writers succeed, and the GeoJSON parses.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/plan.h"
#include "test_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX (64u << 20)

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_plan_mission: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

static int same_item(const vg_mission_item *a, const vg_mission_item *b, int current)
{
  if (a->command != b->command || a->frame != b->frame || a->autocontinue != b->autocontinue ||
      (current && a->current != b->current))
    return 0;
  for (int k = 0; k < 7; k++)
    if (!((isnan(a->param[k]) && isnan(b->param[k])) || a->param[k] == b->param[k]))
      return 0;
  return 1;
}

/* The MAVLink items of @p a and @p b (home and the flattened items) are the same; @p current: the
 * CURRENT flags too (a .plan has none, and of home only its position). */
static int same_items(const vg_mission *a, const vg_mission *b, int current)
{
  size_t ia = 0, ka = 0, ib = 0, kb = 0;
  if (vg_mission_count(a) != vg_mission_count(b))
    return 0;
  if (current && !same_item(&a->home, &b->home, 1))
    return 0;
  for (int k = 4; k < 7; k++)
    if (!(isnan(a->home.param[k]) && isnan(b->home.param[k])) && a->home.param[k] != b->home.param[k])
      return 0;
  for (;;) {
    const vg_mission_item *x = NULL, *y = NULL;
    while (!x && ia < a->nentries) {
      const vg_mission_entry *e = &a->entries[ia];
      if (e->kind != VG_MISSION_SURVEY) {
        x = &e->item;
        ia++;
      } else if (ka < e->survey.nitems) {
        x = &e->survey.items[ka++];
      } else {
        ia++;
        ka = 0;
      }
    }
    while (!y && ib < b->nentries) {
      const vg_mission_entry *e = &b->entries[ib];
      if (e->kind != VG_MISSION_SURVEY) {
        y = &e->item;
        ib++;
      } else if (kb < e->survey.nitems) {
        y = &e->survey.items[kb++];
      } else {
        ib++;
        kb = 0;
      }
    }
    if (!x || !y)
      return !x && !y;
    if (!same_item(x, y, current))
      return 0;
  }
}

static void check_views(const vg_mission *m)
{
  vg_buf b;
  json_t *j;
  vg_buf_init(&b, OUT_MAX);
  if (vg_mission_write_kml(m, "fuzz <&>", &b) != VG_OK)
    fail("the KML writer failed");
  vg_buf_reset(&b);
  if (vg_mission_write_geojson(m, &b) != VG_OK)
    fail("the GeoJSON writer failed");
  if (!(j = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL)))
    fail("the GeoJSON does not parse");
  json_decref(j);
  vg_buf_free(&b);
}

static void check_failure(int rc, int wpl)
{
  int ok = rc == VG_E_MALFORMED || rc == VG_E_LIMIT || rc == VG_E_UNSUPPORTED || (!wpl && rc == VG_E_TRUNCATED);
  if (!ok)
    fail("an unexpected error code");
  if (strncmp(vg_error_last(), "fuzz", 4) != 0)
    fail("the message does not name the input");
}

static void fuzz_plan(const uint8_t *data, size_t size)
{
  vg_mission m, m2, w;
  vg_buf a, b;
  json_t *ji, *jo;
  size_t skip = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  int rc = vg_mission_read_plan(&m, data, size, "fuzz.plan");
  if (rc != VG_OK) {
    check_failure(rc, 0);
    return;
  }
  vg_buf_init(&a, OUT_MAX);
  vg_buf_init(&b, OUT_MAX);
  if (vg_mission_write_plan(&m, &a) != VG_OK)
    fail("a plan read cannot be written");
  ji = json_loadb((const char *)data + skip, size - skip, JSON_REJECT_DUPLICATES, NULL);
  jo = json_loadb((const char *)a.data, a.len, JSON_REJECT_DUPLICATES, NULL);
  if (!ji || !jo || !vg_test_json_num_equal(ji, jo))
    fail("the plan written back is not the JSON read");
  json_decref(ji);
  json_decref(jo);
  if (vg_mission_read_plan(&m2, a.data, a.len, "again.plan") != VG_OK)
    fail("the plan as written does not read");
  if (vg_mission_write_plan(&m2, &b) != VG_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
    fail("written, read and written again, the plan changed");
  vg_buf_reset(&a);
  if (vg_mission_write_wpl(&m, &a) != VG_OK)
    fail("a plan read cannot be written as WPL");
  if (vg_mission_read_wpl(&w, a.data, a.len, "converted.txt") != VG_OK)
    fail("the plan as WPL does not read");
  if (!same_items(&m, &w, 1))
    fail("the plan as WPL has other items");
  check_views(&m);
  vg_mission_free(&w);
  vg_mission_free(&m2);
  vg_mission_free(&m);
  vg_buf_free(&a);
  vg_buf_free(&b);
}

static void fuzz_wpl(const uint8_t *data, size_t size)
{
  vg_mission m, m2, p;
  vg_buf a, b;
  int rc = vg_mission_read_wpl(&m, data, size, "fuzz.txt");
  if (rc != VG_OK) {
    check_failure(rc, 1);
    return;
  }
  vg_buf_init(&a, OUT_MAX);
  vg_buf_init(&b, OUT_MAX);
  if (vg_mission_write_wpl(&m, &a) != VG_OK)
    fail("a WPL read cannot be written");
  if (vg_mission_read_wpl(&m2, a.data, a.len, "again.txt") != VG_OK)
    fail("the WPL as written does not read");
  if (!same_items(&m, &m2, 1))
    fail("the WPL written back has other rows");
  if (vg_mission_write_wpl(&m2, &b) != VG_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
    fail("written, read and written again, the WPL changed");
  /* to .plan: NaN and every finite number have a place there */
  vg_buf_reset(&a);
  if (vg_mission_write_plan(&m, &a) != VG_OK) {
    if (!isfinite(m.home.param[4]) || !isfinite(m.home.param[5]) || !isfinite(m.home.param[6]))
      goto views; /* plannedHomePosition needs numbers: refused, as documented */
    fail("a WPL read cannot be written as a plan");
  }
  if (vg_mission_read_plan(&p, a.data, a.len, "converted.plan") != VG_OK) {
    if (fabs(m.home.param[4]) > 90 || fabs(m.home.param[5]) > 180)
      goto views; /* a .plan's home must be a position */
    fail("the WPL as a plan does not read");
  }
  if (!same_items(&m, &p, 0))
    fail("the WPL as a plan has other items");
  vg_mission_free(&p);
views:
  check_views(&m);
  vg_mission_free(&m2);
  vg_mission_free(&m);
  vg_buf_free(&a);
  vg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_plan(data, size);
  fuzz_wpl(data, size);
  return 0;
}
