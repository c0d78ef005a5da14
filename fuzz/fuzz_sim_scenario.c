/*
 * Fuzz harness: scenario files, lib/sim/scenario.c (DESIGN.md convention 10;
 * the format is docs/formats/scenario.md). The whole input is one scenario
 * file, parsed from memory by vg_sim_scenario_parse. Checked (abort on
 * failure):
 *  - on failure the code is VG_E_MALFORMED or VG_E_INVALID and the message
 *    names the file;
 *  - on success every member is within its documented range, the strings are
 *    NUL-terminated in their arrays, and the scenario written back as JSON
 *    (vg_sim_scenario_json) parses again to the same JSON, byte for byte.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_sim_scenario: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

static void check_ranges(const vg_sim_scenario *s)
{
  if (memchr(s->name, 0, sizeof s->name) == NULL || memchr(s->dem, 0, sizeof s->dem) == NULL ||
      memchr(s->classification, 0, sizeof s->classification) == NULL ||
      memchr(s->releasable, 0, sizeof s->releasable) == NULL)
    fail("a string without its NUL");
  if (!(s->size_m >= 200 && s->size_m <= 5000) || !(s->gsd_m >= 0.5 && s->gsd_m <= 10) || s->bands < 8 ||
      s->bands > 200 || s->sites < 0 || s->sites_new < 0 || s->sites_new > s->sites || s->npasses < 1 ||
      s->npasses > VG_SIM_MAX_PASSES || s->width % 2 || s->height % 2 || s->width < 64 || s->height < 64 ||
      s->fps < 1 || !(s->canopy_min <= s->canopy_max) || !(s->warm_min_k <= s->warm_max_k) ||
      !(s->lat0 >= -80 && s->lat0 <= 80) || !(s->speed_mps >= 5))
    fail("a member outside its range was accepted");
  for (int i = 0; i < s->npasses; i++)
    if (!(s->pass[i].hour >= 0 && s->pass[i].hour <= 24) || !isfinite(s->pass[i].day) ||
        !isfinite(s->pass[i].latency_s))
      fail("a pass member outside its range was accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vg_sim_scenario s, t;
  vg_buf a, b;
  int rc = vg_sim_scenario_parse((const char *)data, size, "fuzz.json", &s);
  if (rc != VG_OK) {
    if (rc != VG_E_MALFORMED && rc != VG_E_INVALID)
      fail("an unexpected error code");
    if (!strstr(vg_error_last(), "fuzz.json"))
      fail("the message does not name the file");
    return 0;
  }
  check_ranges(&s);
  vg_buf_init(&a, 1u << 20);
  vg_buf_init(&b, 1u << 20);
  if (vg_sim_scenario_json(&s, &a) != VG_OK)
    fail("the scenario cannot be written");
  if (vg_sim_scenario_parse((const char *)a.data, a.len, "again.json", &t) != VG_OK)
    fail("the scenario as written does not parse");
  if (vg_sim_scenario_json(&t, &b) != VG_OK || a.len != b.len || memcmp(a.data, b.data, a.len))
    fail("written, parsed and written again, the scenario changed");
  vg_buf_free(&a);
  vg_buf_free(&b);
  return 0;
}
