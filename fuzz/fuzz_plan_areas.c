/*
 * Fuzz harness: areas of interest and no-fly zones, lib/plan/areas.c (DESIGN.md convention
 * 10; the format is docs/formats/plan.md). The whole input is one areas file (GeoJSON, KML or
 * GML), parsed from memory by vg_plan_areas_read. Checked (abort on failure):
 *  - on failure the code is one of the documented ones, the message names the input, and
 *    *out is untouched;
 *  - on success every area has a NUL-terminated name, an outer ring of 3 .. VG_PLAN_RING_MAX
 *    vertices without a closing repeat, holes of 3 or more, positions inside WGS84, a positive
 *    priority and a non-negative revisit period;
 *  - when the first area is small enough (under 0.1 deg across), its coverage plan with a fixed angle either succeeds
 *    with a coverage in [0, 1] or fails with VG_E_INVALID or VG_E_LIMIT (never a crash).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_plan_areas: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

static void check_ring(const vg_plan_ring *r)
{
  if (r->n < 3 || r->n > VG_PLAN_RING_MAX)
    fail("a ring of fewer than 3 or too many vertices");
  if (r->v[0].lat == r->v[r->n - 1].lat && r->v[0].lon == r->v[r->n - 1].lon)
    fail("a ring still closed");
  for (size_t i = 0; i < r->n; i++)
    if (!(r->v[i].lat >= -90 && r->v[i].lat <= 90 && r->v[i].lon >= -180 && r->v[i].lon <= 180))
      fail("a position outside WGS84");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vg_plan_areas a = {(vg_plan_area *)&a, 12345};
  int rc = vg_plan_areas_read(&a, data, size, "fuzz.input");
  if (rc != VG_OK) {
    if (rc != VG_E_MALFORMED && rc != VG_E_LIMIT && rc != VG_E_UNSUPPORTED && rc != VG_E_NOMEM)
      fail("an undocumented error code");
    if (!strstr(vg_error_last(), "fuzz.input"))
      fail("an error that does not name the input");
    if (a.a != (vg_plan_area *)&a || a.n != 12345)
      fail("*out touched on failure");
    return 0;
  }
  if (!a.n)
    fail("success without an area");
  for (size_t i = 0; i < a.n; i++) {
    const vg_plan_area *x = &a.a[i];
    if (!memchr(x->name, 0, sizeof x->name))
      fail("a name without its NUL");
    if (!(x->priority > 0) || !(x->revisit_s >= 0) || (x->kind != VG_PLAN_AOI && x->kind != VG_PLAN_NOFLY))
      fail("a property outside its range");
    check_ring(&x->outer);
    for (size_t h = 0; h < x->nholes; h++)
      check_ring(&x->holes[h]);
  }
  if (a.a[0].outer.n <= 64 && a.a[0].nholes <= 4) {
    double lo[2] = {90, 180}, hi[2] = {-90, -180};
    for (size_t i = 0; i < a.a[0].outer.n; i++) {
      lo[0] = fmin(lo[0], a.a[0].outer.v[i].lat), hi[0] = fmax(hi[0], a.a[0].outer.v[i].lat);
      lo[1] = fmin(lo[1], a.a[0].outer.v[i].lon), hi[1] = fmax(hi[1], a.a[0].outer.v[i].lon);
    }
    if (hi[0] - lo[0] > 0.1 || hi[1] - lo[1] > 0.1 || fabs(lo[0]) > 80)
      goto done; /* plans of areas up to about 10 km across: the fuzzer's time goes to the parser */
    vg_plan_opts o;
    vg_plan_result r;
    memset(&o, 0, sizeof o);
    o.version = VG_PLAN_OPTS_VERSION;
    o.sensor.hfov_deg = 40;
    o.sensor.vfov_deg = 30;
    o.sensor.depression_deg = 90;
    o.sensor.video = 1;
    o.aircraft.alt_agl_m = 300;
    o.aircraft.airspeed_mps = 25;
    o.aircraft.bank_deg = 30;
    o.angle_deg = 45;
    o.coverage_cell_m = 50;
    rc = vg_plan_coverage(&a.a[0], &o, &r);
    if (rc == VG_OK) {
      if (!(r.coverage >= 0 && r.coverage <= 1) || !(r.length_m >= 0))
        fail("a plan with figures out of range");
      vg_plan_result_free(&r);
    } else if (rc != VG_E_INVALID && rc != VG_E_LIMIT && rc != VG_E_NOMEM)
      fail("a plan failing with an undocumented code");
  }
done:
  vg_plan_areas_free(&a);
  return 0;
}
