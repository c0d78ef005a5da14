/*
 * A register for the browser test (tests/browser/test_map.py), as tests/cli/products_fixture.c
 * but every site confirmed from its first detection (the map shows confirmed sites only): seven sites 1 km apart whose
 * observations carry the markings below (each site's derived marking in
 * brackets), so that what each partner receives is known independently of
 * the code under test:
 *   1  U//REL TO USA, MEX                                   [U REL USA MEX]
 *   2  U//REL TO USA, MEX + CONFIDENTIAL//REL TO USA, MEX    [C REL USA MEX]
 *   3  U//REL TO USA, GBR                                   [U REL USA GBR]
 *   4  SECRET//NOFORN                                       [S NOFORN]
 *   5  (unmarked)                                           [unmarked]
 *   6  U//REL TO USA, MEX + (unmarked)                      [unmarked]
 *   7  U//REL TO USA, GBR, MEX + U//REL TO USA, MEX         [U REL USA MEX]
 *
 *   usage: map_fixture REGISTER
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigia/sites.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8

static vg_obs mk(int site, int k, const char *marking)
{
  vg_obs o;
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "products-%d", k); /* one pass per observation */
  snprintf(o.detector, sizeof o.detector, "%s", vg_evidence_name(k ? VG_EVID_THERMAL : VG_EVID_SPECTRAL));
  o.frame = site;
  o.kind = k ? VG_EVID_THERMAL : VG_EVID_SPECTRAL;
  o.time_us = 1780300800000000LL + site * 60000000LL + k * 1000000LL;
  o.lat = 17.85 + site * 1000.0 / (R_EARTH * DEG);
  o.lon = -99.95;
  o.hae = 950;
  o.cov_en[0] = o.cov_en[3] = 16;
  o.sigma_up = 5;
  o.score = 1;
  o.marking = marking;
  return o;
}

int main(int argc, char **argv)
{
  static const char *const m[7][2] = {
    {"UNCLASSIFIED//REL TO USA, MEX", NULL},
    {"UNCLASSIFIED//REL TO USA, MEX", "CONFIDENTIAL//REL TO USA, MEX"},
    {"UNCLASSIFIED//REL TO USA, GBR", NULL},
    {"SECRET//NOFORN", NULL},
    {"", NULL},
    {"UNCLASSIFIED//REL TO USA, MEX", ""},
    {"UNCLASSIFIED//REL TO USA, GBR, MEX", "UNCLASSIFIED//REL TO USA, MEX"},
  };
  vg_register *r = NULL;
  vg_fuse_params confirm_all;
  int rc = VG_OK;
  vg_fuse_params_default(&confirm_all);
  confirm_all.confirm = -100; /* confirmed from the first detection, as tests/unit/test_server_serve.c */
  if (argc != 2) {
    fprintf(stderr, "usage: map_fixture REGISTER\n");
    return 2;
  }
  if ((rc = vg_register_open(&r, argv[1])) == VG_OK)
    for (int s = 0; s < 7 && rc == VG_OK; s++)
      for (int k = 0; k < 2 && rc == VG_OK; k++) {
        vg_obs o;
        if (!m[s][k])
          continue;
        o = mk(s + 1, k, m[s][k]);
        rc = vg_register_ingest(r, &o, 1, &confirm_all, NULL);
      }
  if (rc != VG_OK)
    fprintf(stderr, "map_fixture: %s: %s\n", vg_err_name(rc), vg_error_last());
  vg_register_close(r);
  return rc == VG_OK ? 0 : 1;
}
