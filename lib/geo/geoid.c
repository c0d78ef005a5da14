/*
 * The EGM96 geoid from a GTX grid (NOAA VDatum format, as PROJ ships it in
 * Debian's proj-data: /usr/share/proj/egm96_15.gtx, 15' global).
 *
 *   offset  size  field (big-endian)
 *   0       8     lat0: latitude of the first row (deg, south edge row)
 *   8       8     lon0: longitude of the first column (deg, 0..360 or -180..180)
 *   16      8     dlat: row spacing (deg, > 0)
 *   24      8     dlon: column spacing (deg, > 0)
 *   32      4     rows (int32)
 *   36      4     cols (int32)
 *   40      4*rows*cols  float32 values, row by row from the south, west to east;
 *                 -88.8888 means no data.
 *
 * Lookup is bilinear, which matches NGA's EGM96 check points to 0.06 m on
 * the 15' grid (research/geo-plan.md A recommendation 2); a grid that spans
 * 360 degrees wraps in longitude.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo_int.h"
#include "util/rd.h"

#define GTX_HEADER 40
#define GTX_NODATA -88.8888f

struct vg_geo_geoid {
  double lat0, lon0, dlat, dlon;
  int rows, cols;
  int wraps;      /* cols * dlon covers 360 degrees */
  float *v;       /* rows * cols, NAN = no data */
  char name[256];
};

static double rd_f64be(vg_rd *r)
{
  uint64_t u = rd_u64be(r);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

int vg_geo_geoid_from_mem(vg_geo_geoid **out, const uint8_t *buf, size_t len, const char *name)
{
  vg_rd r;
  vg_geo_geoid *g = NULL;
  double lat0, lon0, dlat, dlon;
  int32_t rows, cols;
  size_t cells, need;
  int rc = VG_OK;

  if (!name)
    name = "(memory)";
  rd_init(&r, buf, len);
  lat0 = rd_f64be(&r);
  lon0 = rd_f64be(&r);
  dlat = rd_f64be(&r);
  dlon = rd_f64be(&r);
  rows = (int32_t)rd_u32be(&r);
  cols = (int32_t)rd_u32be(&r);
  if (r.err)
    return vg_error_set(VG_E_TRUNCATED, "%s: GTX header is %d bytes, the file has %zu", name,
                        GTX_HEADER, len);
  if (!isfinite(lat0) || !isfinite(lon0) || !isfinite(dlat) || !isfinite(dlon) || dlat <= 0 ||
      dlon <= 0 || lat0 < -90.0 - dlat || lat0 > 90.0 || fabs(lon0) > 360.0 || dlat > 180 ||
      dlon > 360)
    return vg_error_set(VG_E_MALFORMED,
                        "%s: GTX header has lat0 %g, lon0 %g, dlat %g, dlon %g: not a grid", name,
                        lat0, lon0, dlat, dlon);
  if (rows < 2 || cols < 2)
    return vg_error_set(VG_E_MALFORMED, "%s: GTX grid of %d x %d cells cannot be interpolated",
                        name, (int)rows, (int)cols);
  cells = (size_t)rows * (size_t)cols;
  if (cells > VG_GEO_GEOID_MAX_CELLS)
    return vg_error_set(VG_E_LIMIT, "%s: GTX grid of %d x %d cells exceeds VG_GEO_GEOID_MAX_CELLS",
                        name, (int)rows, (int)cols);
  need = cells * 4;
  if (need > rd_left(&r))
    return vg_error_set(VG_E_TRUNCATED, "%s: GTX grid of %d x %d needs %zu data bytes, %zu remain",
                        name, (int)rows, (int)cols, need, rd_left(&r));
  g = calloc(1, sizeof *g);
  if (!g || !(g->v = malloc(cells * sizeof *g->v))) {
    rc = vg_error_set(VG_E_NOMEM, "%s: geoid grid of %zu cells", name, cells);
    goto done;
  }
  for (size_t i = 0; i < cells; i++) {
    uint32_t u = rd_u32be(&r);
    float f;
    memcpy(&f, &u, sizeof f);
    g->v[i] = (f == GTX_NODATA || !isfinite(f) || fabsf(f) > 1000.0f) ? NAN : f;
  }
  g->lat0 = lat0;
  g->lon0 = lon0;
  g->dlat = dlat;
  g->dlon = dlon;
  g->rows = rows;
  g->cols = cols;
  g->wraps = (double)cols * dlon >= 360.0 - 1e-6;
  snprintf(g->name, sizeof g->name, "%s", name);
  *out = g;
  g = NULL;
done:
  vg_geo_geoid_free(g);
  return rc;
}

int vg_geo_geoid_open(vg_geo_geoid **out, const char *path)
{
  FILE *f = NULL;
  uint8_t *buf = NULL;
  long n;
  int rc;

  if (!path)
    path = getenv("VIGIA_GEOID");
  if (!path || !*path)
    path = VG_GEO_GEOID_DEFAULT;
  if (!(f = fopen(path, "rb"))) {
    rc = vg_error_set(VG_E_IO, "geoid grid %s: cannot open (Debian: apt-get install proj-data)",
                      path);
    goto done;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    rc = vg_error_set(VG_E_IO, "geoid grid %s: cannot size", path);
    goto done;
  }
  if ((size_t)n > GTX_HEADER + (size_t)VG_GEO_GEOID_MAX_CELLS * 4) {
    rc = vg_error_set(VG_E_LIMIT, "geoid grid %s: %ld bytes exceeds VG_GEO_GEOID_MAX_CELLS", path, n);
    goto done;
  }
  if (!(buf = malloc((size_t)n + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "geoid grid %s: %ld bytes", path, n);
    goto done;
  }
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
    rc = vg_error_set(VG_E_IO, "geoid grid %s: short read", path);
    goto done;
  }
  rc = vg_geo_geoid_from_mem(out, buf, (size_t)n, path);
done:
  if (f)
    fclose(f);
  free(buf);
  return rc;
}

void vg_geo_geoid_free(vg_geo_geoid *g)
{
  if (!g)
    return;
  free(g->v);
  free(g);
}

const char *vg_geo_geoid_name(const vg_geo_geoid *g)
{
  return g ? g->name : "";
}

double vg_geo_geoid_n(const vg_geo_geoid *g, double lat, double lon)
{
  double y, x, fy, fx, v00, v01, v10, v11;
  long i0, j0, i1, j1;

  if (!g || !isfinite(lat) || !isfinite(lon))
    return NAN;
  y = (lat - g->lat0) / g->dlat;
  /* Rows cover [lat0, lat0 + (rows-1) dlat]; a pole half a cell beyond the
   * first or last row of a resampled grid is clamped to it. */
  if (y < 0) {
    if (y < -0.5)
      return NAN;
    y = 0;
  }
  if (y > g->rows - 1) {
    if (y > g->rows - 0.5)
      return NAN;
    y = g->rows - 1;
  }
  /* any longitude: into [0, 360) from the first column (a 0..360 grid asked
   * with -180..180, or the reverse, or several turns away) */
  x = fmod(lon - g->lon0, 360.0);
  if (x < 0)
    x += 360.0;
  if (!g->wraps && x > (g->cols - 1) * g->dlon)
    return NAN;
  x /= g->dlon;
  j0 = (long)floor(y);
  if (j0 >= g->rows - 1)
    j0 = g->rows - 2;
  fy = y - (double)j0;
  j1 = j0 + 1;
  i0 = (long)floor(x);
  fx = x - (double)i0;
  if (g->wraps) {
    i0 %= g->cols;
    i1 = (i0 + 1) % g->cols;
  } else {
    if (i0 >= g->cols - 1) {
      i0 = g->cols - 2;
      fx = x - (double)i0;
    }
    i1 = i0 + 1;
  }
  v00 = g->v[j0 * g->cols + i0];
  v01 = g->v[j0 * g->cols + i1];
  v10 = g->v[j1 * g->cols + i0];
  v11 = g->v[j1 * g->cols + i1];
  return (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
}
