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
#include "test_obs.h"

int main(int argc, char **argv)
{
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
        if (!vg_test_markings[s][k])
          continue;
        o = vg_test_obs("products", s + 1, k, vg_test_markings[s][k]);
        rc = vg_register_ingest(r, &o, 1, &confirm_all, NULL);
      }
  if (rc != VG_OK)
    fprintf(stderr, "map_fixture: %s: %s\n", vg_err_name(rc), vg_error_last());
  vg_register_close(r);
  return rc == VG_OK ? 0 : 1;
}
