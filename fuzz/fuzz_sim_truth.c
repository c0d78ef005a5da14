/*
 * Fuzz harness: truth files, lib/sim/score.c (DESIGN.md convention 10; the
 * format is docs/formats/scenario.md). The whole input is one truth file,
 * parsed from memory by vg_truth_parse. Checked (abort on failure):
 *  - on failure *out is untouched, the code is VG_E_MALFORMED or VG_E_LIMIT
 *    and the message names the file;
 *  - on success every item has a non-empty NUL-terminated id and type, a role
 *    of "site" or "distractor", a pass >= 0, latitude in [-90, 90] and
 *    longitude in [-180, 180].
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, size_t i)
{
  fprintf(stderr, "fuzz_sim_truth: invariant broken: %s (item %zu; %s)\n", what, i, vg_error_last());
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vg_truth_item *t = (vg_truth_item *)&size; /* a sentinel: failures must not touch it */
  size_t n = 12345;
  int rc = vg_truth_parse((const char *)data, size, "fuzz.geojson", &t, &n);
  if (rc != VG_OK) {
    if (t != (vg_truth_item *)&size || n != 12345)
      fail("a failure wrote its outputs", 0);
    if (rc != VG_E_MALFORMED && rc != VG_E_LIMIT)
      fail("an unexpected error code", 0);
    if (!strstr(vg_error_last(), "fuzz.geojson"))
      fail("the message does not name the file", 0);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!memchr(t[i].id, 0, sizeof t[i].id) || !t[i].id[0] || !memchr(t[i].type, 0, sizeof t[i].type) ||
        !t[i].type[0])
      fail("an empty or unterminated id or type", i);
    if (strcmp(t[i].role, "site") && strcmp(t[i].role, "distractor"))
      fail("a role other than site or distractor", i);
    if (t[i].pass < 0 || !(t[i].lat >= -90 && t[i].lat <= 90) || !(t[i].lon >= -180 && t[i].lon <= 180))
      fail("a pass, latitude or longitude out of range", i);
  }
  free(t);
  return 0;
}
