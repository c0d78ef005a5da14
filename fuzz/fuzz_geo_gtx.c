/*
 * Fuzz harness: the GTX geoid grid parser and its lookup, lib/geo/geoid.c
 * (DESIGN.md convention 10).
 *
 *   OFFSET          SIZE  DESCRIPTION
 *   0               40    GTX header (big-endian): lat0, lon0, dlat, dlon as
 *                         doubles, rows, cols as int32
 *   40              4*rc  rows x cols float32 undulations, from the south
 *   40 + 4*rc       n     bytes after the grid, which the parser ignores: read
 *                         here as big-endian (lat, lon) double pairs to look up
 *
 * The whole input goes to vg_geo_geoid_from_mem. On failure *out must be
 * untouched (convention 2). On success vg_geo_geoid_n is asked at: fixed
 * awkward points (NaN, infinities, +-DBL_MAX, huge, denormal, beyond the
 * poles, longitudes far outside -180..360); the grid's own edges, exactly,
 * half a cell and one cell beyond, and a hair beyond one cell; points spread
 * over the grid by bytes of the input; and the pairs after the grid.
 * Checked (abort on failure):
 *  - every undulation is NaN or within the parser's +-1000 m (bilinear
 *    weights stay in [0, 1]);
 *  - on a grid without voids, a point inside the grid is a number: a
 *    latitude inside the rows, and any finite longitude on a grid that wraps
 *    in longitude, else one whose offset from lon0 lies inside the columns;
 *  - vg_geo_geoid_n(NULL, ...) is NaN and the name is the one given.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The layout of lib/geo/geoid.c: header size, no-data value, largest |N| kept. */
#define GTX_HEADER 40
#define GTX_NODATA -88.8888f
#define GTX_MAX_ABS 1000.0f
/* Slack on the +-1000 m bound: rounding of the weights at a clamped edge. */
#define FUZZ_N_SLACK 1e-3
/* Points spread over the grid by input bytes, and pairs read after the grid. */
#define FUZZ_SPREAD 16
#define FUZZ_TAIL_PAIRS 64

static void fail(const char *what, double lat, double lon, double n)
{
  fprintf(stderr, "fuzz_geo_gtx: invariant broken: %s at lat %.17g lon %.17g: N = %.17g (%s)\n",
          what, lat, lon, n, vg_error_last());
  abort();
}

static uint64_t be64(const uint8_t *p)
{
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u = u << 8 | p[i];
  return u;
}

static double bed(const uint8_t *p)
{
  uint64_t u = be64(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static int32_t bei32(const uint8_t *p)
{
  uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  return (int32_t)u;
}

/* The header again, read here: the parser accepted it, so it is a sane grid. */
typedef struct grid {
  double lat0, lon0, dlat, dlon;
  int rows, cols;
  double top, right;  /* lat0 + (rows-1) dlat, lon0 + (cols-1) dlon */
  int wraps;          /* cols * dlon covers 360 degrees (the parser's rule) */
  int all_valid;      /* no cell is a void */
  size_t end;         /* offset of the first byte after the grid */
} grid;

static double look(const vg_geo_geoid *g, double lat, double lon)
{
  double n = vg_geo_geoid_n(g, lat, lon);
  if (!isnan(n) && !(fabs(n) <= GTX_MAX_ABS + FUZZ_N_SLACK))
    fail("undulation outside +-1000 m", lat, lon, n);
  return n;
}

/* A point inside the grid of a grid without voids must be a number. */
static void look_inside(const vg_geo_geoid *g, const grid *gr, double lat, double lon)
{
  double n = look(g, lat, lon), x = lon - gr->lon0, y = (lat - gr->lat0) / gr->dlat;
  int inside;
  if (!gr->all_valid || !isfinite(lat) || !isfinite(lon))
    return;
  inside = y >= 0 && y <= gr->rows - 1 &&
           (gr->wraps || (x >= 0 && x <= (gr->cols - 1) * gr->dlon));
  if (inside && isnan(n))
    fail("no undulation inside a grid without voids", lat, lon, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const double special[] = {NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, 1e300, -1e300,
                                   1e18, -1e18, 4.9e-324, -0.0, 0.0, 90.0, -90.0, 90.000001,
                                   -90.000001, 91.0, -91.0, 180.0, -180.0, 360.0, -360.0,
                                   540.0, -540.0, 720.0, -720.0, 1080.5, -1080.5, 3600.25};
  const size_t nspecial = sizeof special / sizeof special[0];
  static int sentinel;
  vg_geo_geoid *g = (vg_geo_geoid *)&sentinel;
  grid gr;
  int rc;

  rc = vg_geo_geoid_from_mem(&g, data, size, "fuzz");
  if (rc != VG_OK) {
    if (g != (vg_geo_geoid *)&sentinel)
      fail("*out written on failure", 0, 0, 0);
    return 0;
  }
  if (!g || g == (vg_geo_geoid *)&sentinel)
    fail("success without a grid", 0, 0, 0);
  if (strcmp(vg_geo_geoid_name(g), "fuzz") != 0)
    fail("name not kept", 0, 0, 0);
  if (size < GTX_HEADER)
    fail("a grid out of fewer bytes than the header", 0, 0, (double)size);
  if (!isnan(vg_geo_geoid_n(NULL, 0, 0)))
    fail("a number from no grid", 0, 0, vg_geo_geoid_n(NULL, 0, 0));

  gr.lat0 = bed(data);
  gr.lon0 = bed(data + 8);
  gr.dlat = bed(data + 16);
  gr.dlon = bed(data + 24);
  gr.rows = bei32(data + 32);
  gr.cols = bei32(data + 36);
  gr.top = gr.lat0 + (gr.rows - 1) * gr.dlat;
  gr.right = gr.lon0 + (gr.cols - 1) * gr.dlon;
  gr.wraps = (double)gr.cols * gr.dlon >= 360.0 - 1e-6;
  gr.end = GTX_HEADER + (size_t)gr.rows * (size_t)gr.cols * 4;
  if (gr.rows < 2 || gr.cols < 2 || gr.end > size)
    fail("accepted a grid the bytes do not hold", gr.rows, gr.cols, (double)size);
  gr.all_valid = 1;
  for (size_t i = GTX_HEADER; i < gr.end && gr.all_valid; i += 4) {
    uint32_t u = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
                 (uint32_t)data[i + 2] << 8 | data[i + 3];
    float f;
    memcpy(&f, &u, sizeof f);
    if (f == GTX_NODATA || !isfinite(f) || fabsf(f) > GTX_MAX_ABS)
      gr.all_valid = 0;
  }

  /* 1. Awkward values, each against each. */
  for (size_t i = 0; i < nspecial; i++)
    for (size_t j = 0; j < nspecial; j++)
      look(g, special[i], special[j]);

  /* 2. The edges of the grid, on them and beyond. */
  {
    const double lats[] = {gr.lat0 - gr.dlat * 1.0000001, gr.lat0 - gr.dlat,
                           gr.lat0 - 0.5 * gr.dlat,       gr.lat0,
                           gr.lat0 + 0.5 * gr.dlat,       gr.top - 0.5 * gr.dlat,
                           gr.top,                        gr.top + 0.5 * gr.dlat,
                           gr.top + gr.dlat,              gr.top + gr.dlat * 1.0000001};
    const double lons[] = {gr.lon0 - gr.dlon,        gr.lon0 - 0.5 * gr.dlon, gr.lon0,
                           gr.lon0 + 0.5 * gr.dlon,  gr.right - 0.5 * gr.dlon, gr.right,
                           gr.right + 0.5 * gr.dlon, gr.right + gr.dlon,      gr.lon0 + 360.0,
                           gr.lon0 - 360.0,          gr.right + 360.0,        gr.right - 360.0,
                           gr.lon0 + 180.0,          gr.lon0 - 180.0};
    for (size_t i = 0; i < sizeof lats / sizeof lats[0]; i++)
      for (size_t j = 0; j < sizeof lons / sizeof lons[0]; j++)
        look(g, lats[i], lons[j]);
  }

  /* 3. Points spread over the grid by the input's bytes (the first cells). */
  for (size_t k = 0; k < FUZZ_SPREAD; k++) {
    const uint8_t *b = data + GTX_HEADER + (k * 2) % (gr.end - GTX_HEADER - 1);
    double fy = 0.001 + 0.998 * b[0] / 255.0, fx = 0.001 + 0.998 * b[1] / 255.0;
    double lat = gr.lat0 + fy * (gr.rows - 1) * gr.dlat;
    double lon = gr.lon0 + fx * (gr.cols - 1) * gr.dlon;
    look_inside(g, &gr, lat, lon);
    /* the same latitude at every awkward longitude: a number on a wrapping grid */
    if (gr.wraps)
      for (size_t j = 0; j < nspecial; j++)
        look_inside(g, &gr, lat, special[j]);
  }

  /* 4. (lat, lon) pairs after the grid, as doubles. */
  for (size_t at = gr.end, k = 0; size - at >= 16 && k < FUZZ_TAIL_PAIRS; at += 16, k++)
    look_inside(g, &gr, bed(data + at), bed(data + at + 8));

  vg_geo_geoid_free(g);
  return 0;
}
