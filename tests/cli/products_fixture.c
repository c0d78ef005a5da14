/*
 * A register for the products tests: seven sites 1 km apart whose
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
 * Image chips (tiny synthetic PNGs): sites 1 and 3 on their observation, site 2 on both
 * (the second scores higher: its chip is the site's), none on 4-7, so products show some
 * sites with a chip and some without.
 *
 *   usage: products_fixture REGISTER
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigia/raster.h"
#include "vigia/sites.h"
#include "test_obs.h"

/* A 12 x 8 RGB chip whose colours depend on (site, k), as PNG. */
static int chip(int site, int k, vg_buf *out)
{
  uint8_t pix[8][12][3];
  for (int r = 0; r < 8; r++)
    for (int c = 0; c < 12; c++) {
      pix[r][c][0] = (uint8_t)(40 * site + 10 * c);
      pix[r][c][1] = (uint8_t)(20 * r + 100 * k);
      pix[r][c][2] = (uint8_t)((r + c) % 2 ? 200 : 30);
    }
  return vg_raster_png_encode(&pix[0][0][0], 12, 8, 3, sizeof pix[0], out);
}

int main(int argc, char **argv)
{
  vg_register *r = NULL;
  int rc = VG_OK;
  if (argc != 2) {
    fprintf(stderr, "usage: products_fixture REGISTER\n");
    return 2;
  }
  if ((rc = vg_register_open(&r, argv[1])) == VG_OK)
    for (int s = 0; s < 7 && rc == VG_OK; s++)
      for (int k = 0; k < 2 && rc == VG_OK; k++) {
        vg_obs o;
        vg_buf png;
        if (!vg_test_markings[s][k])
          continue;
        o = vg_test_obs("products", s + 1, k, vg_test_markings[s][k]);
        vg_buf_init(&png, VG_SITES_CHIP_MAX);
        if (s + 1 <= 3) {
          o.score = 1 + k; /* site 2: the second observation's chip is the better one */
          if ((rc = chip(s + 1, k, &png)) != VG_OK)
            break;
          o.chip = png.data;
          o.chip_len = png.len;
        }
        rc = vg_register_ingest(r, &o, 1, NULL, NULL);
        vg_buf_free(&png);
      }
  if (rc != VG_OK)
    fprintf(stderr, "products_fixture: %s: %s\n", vg_err_name(rc), vg_error_last());
  vg_register_close(r);
  return rc == VG_OK ? 0 : 1;
}
