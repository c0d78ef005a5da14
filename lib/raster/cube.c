/* The cube type: rows x cols x bands float32, band-interleaved by pixel. */
#include <stdlib.h>
#include <string.h>

#include "vigia/raster.h"

int vg_cube_new(vg_cube **out, int rows, int cols, int bands)
{
  vg_cube *c;
  size_t n;
  if (rows < 0 || cols < 0 || bands <= 0)
    return vg_error_set(VG_E_INVALID, "cube of %d x %d x %d", rows, cols, bands);
  n = (size_t)rows * (size_t)cols * (size_t)bands;
  if ((unsigned long long)n > VG_CUBE_MAX_VALUES)
    return vg_error_set(VG_E_LIMIT, "cube of %d x %d x %d exceeds VG_CUBE_MAX_VALUES", rows, cols,
                        bands);
  c = calloc(1, sizeof *c);
  if (!c || !(c->data = calloc(n ? n : 1, sizeof *c->data))) {
    free(c);
    return vg_error_set(VG_E_NOMEM, "cube of %d x %d x %d", rows, cols, bands);
  }
  c->rows = rows;
  c->cols = cols;
  c->bands = bands;
  *out = c;
  return VG_OK;
}

void vg_cube_free(vg_cube *c)
{
  if (!c)
    return;
  free(c->data);
  free(c->srs_wkt);
  free(c->wavelength_um);
  free(c);
}

int vg_cube_copy_georef(vg_cube *to, const vg_cube *from)
{
  to->has_gt = from->has_gt;
  memcpy(to->gt, from->gt, sizeof to->gt);
  to->has_nodata = from->has_nodata;
  to->nodata = from->nodata;
  to->georef_sigma_m = from->georef_sigma_m;
  to->time_us = from->time_us;
  memcpy(to->marking, from->marking, sizeof to->marking);
  free(to->srs_wkt);
  to->srs_wkt = NULL;
  if (from->srs_wkt && !(to->srs_wkt = strdup(from->srs_wkt)))
    return vg_error_set(VG_E_NOMEM, "projection text");
  free(to->wavelength_um);
  to->wavelength_um = NULL;
  if (from->wavelength_um && from->bands == to->bands) {
    if (!(to->wavelength_um = malloc((size_t)to->bands * sizeof *to->wavelength_um)))
      return vg_error_set(VG_E_NOMEM, "wavelengths");
    memcpy(to->wavelength_um, from->wavelength_um, (size_t)to->bands * sizeof *to->wavelength_um);
  }
  return VG_OK;
}
