/*
 * Rasters through GDAL: whole cubes or blocks of rows (BIP float32), with the
 * georeferencing, projection, no-data value and ENVI wavelengths; score maps
 * written as deflated float32 GeoTIFF and 8-bit PNG previews. MAT v5 files go
 * to mat5.c (GDAL does not read them).
 */
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "raster_int.h"

struct vg_raster {
  GDALDatasetH ds;
  vg_cube info; /* rows, cols, bands and georeferencing; data NULL */
  char path[1024];
};

static int ends_with(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcasecmp(s + a - b, suf);
}

/* ENVI (and some other drivers) put the band centre in the band metadata. */
/* TIFF DateTime "YYYY:MM:DD HH:MM:SS" (taken as UTC) in UNIX microseconds; 0 when absent or malformed. */
static int64_t tiff_time(const char *v)
{
  int y, mo, d, h, mi, se;
  char extra;
  int64_t days;
  if (!v || sscanf(v, "%4d:%2d:%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &extra) != 6 || y < 1970 ||
      y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 ||
      se < 0)
    return 0;
  /* days from the civil date (Howard Hinnant's algorithm) */
  {
    int yy = y - (mo <= 2);
    int era = yy / 400, yoe = yy - era * 400, doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = (int64_t)era * 146097 + doe - 719468;
  }
  return ((days * 24 + h) * 60 + mi) * 60000000LL + (int64_t)se * 1000000LL;
}

static double *wavelengths(GDALDatasetH ds, int bands)
{
  double *w = malloc((size_t)bands * sizeof *w);
  if (!w)
    return NULL;
  for (int b = 0; b < bands; b++) {
    GDALRasterBandH h = GDALGetRasterBand(ds, b + 1);
    const char *v = GDALGetMetadataItem(h, "wavelength", NULL);
    const char *u = GDALGetMetadataItem(h, "wavelength_units", NULL);
    char *end;
    double x;
    if (!v) {
      free(w);
      return NULL;
    }
    x = strtod(v, &end);
    if (end == v || !isfinite(x) || x <= 0) {
      free(w);
      return NULL;
    }
    /* nanometres by name, or by size when the unit is missing */
    if ((u && (!strncasecmp(u, "nan", 3) || !strcasecmp(u, "nm"))) || (!u && x > 100.0))
      x /= 1000.0;
    w[b] = x;
  }
  return w;
}

int vg_raster_open(vg_raster **out, const char *path)
{
  vg_raster *r;
  vg__raster_gdal_init();
  r = calloc(1, sizeof *r);
  if (!r)
    return vg_error_set(VG_E_NOMEM, "raster %s", path);
  r->ds = GDALOpen(path, GA_ReadOnly);
  if (!r->ds) {
    free(r);
    return vg_error_set(VG_E_IO, "raster %s: GDAL cannot open it (%s)", path, CPLGetLastErrorMsg());
  }
  r->info.rows = GDALGetRasterYSize(r->ds);
  r->info.cols = GDALGetRasterXSize(r->ds);
  r->info.bands = GDALGetRasterCount(r->ds);
  if (r->info.bands <= 0 || r->info.rows <= 0 || r->info.cols <= 0) {
    GDALClose(r->ds);
    free(r);
    return vg_error_set(VG_E_UNSUPPORTED, "raster %s has no pixel band", path);
  }
  r->info.has_gt = GDALGetGeoTransform(r->ds, r->info.gt) == CE_None;
  {
    const char *wkt = GDALGetProjectionRef(r->ds);
    if (wkt && *wkt)
      r->info.srs_wkt = strdup(wkt);
  }
  {
    int ok = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(r->ds, 1), &ok);
    r->info.has_nodata = ok;
    r->info.nodata = nd;
  }
  r->info.wavelength_um = wavelengths(r->ds, r->info.bands);
  {
    const char *g = GDALGetMetadataItem(r->ds, "GEOREF_SIGMA_M", NULL);
    char *end = NULL;
    double v = g ? strtod(g, &end) : 0;
    r->info.georef_sigma_m = g && end != g && !*end && v > 0 && isfinite(v) ? v : 0;
  }
  r->info.time_us = tiff_time(GDALGetMetadataItem(r->ds, "TIFFTAG_DATETIME", NULL));
  {
    const char *m = GDALGetMetadataItem(r->ds, "MARKING", NULL);
    if (m && strlen(m) < sizeof r->info.marking)
      memcpy(r->info.marking, m, strlen(m) + 1);
  }
  snprintf(r->path, sizeof r->path, "%s", path);
  *out = r;
  return VG_OK;
}

void vg_raster_close(vg_raster *r)
{
  if (!r)
    return;
  if (r->ds)
    GDALClose(r->ds);
  free(r->info.srs_wkt);
  free(r->info.wavelength_um);
  free(r);
}

const vg_cube *vg_raster_info(const vg_raster *r)
{
  return &r->info;
}

int vg_raster_read_rows(vg_raster *r, int row0, int nrows, float *buf)
{
  int b = r->info.bands, cols = r->info.cols;
  if (row0 < 0 || nrows < 0 || row0 + nrows > r->info.rows)
    return vg_error_set(VG_E_RANGE, "raster %s: rows %d..%d of %d", r->path, row0, row0 + nrows,
                        r->info.rows);
  if (!nrows)
    return VG_OK;
  /* pixel-interleaved float32 in one call: pixel space b*4, line space cols*b*4, band space 4 */
  if (GDALDatasetRasterIO(r->ds, GF_Read, 0, row0, cols, nrows, buf, cols, nrows, GDT_Float32, b,
                          NULL, (GSpacing)b * 4, (GSpacing)cols * b * 4, 4) != CE_None)
    return vg_error_set(VG_E_IO, "raster %s: reading rows %d..%d: %s", r->path, row0,
                        row0 + nrows, CPLGetLastErrorMsg());
  return VG_OK;
}

int vg_raster_read(vg_cube **out, const char *path, const char *var)
{
  vg_raster *r = NULL;
  vg_cube *c = NULL;
  int rc;
  if (ends_with(path, ".mat"))
    return vg_raster_mat_read(out, path, var);
  if ((rc = vg_raster_open(&r, path)) != VG_OK)
    return rc;
  if ((rc = vg_cube_new(&c, r->info.rows, r->info.cols, r->info.bands)) != VG_OK ||
      (rc = vg_raster_read_rows(r, 0, r->info.rows, c->data)) != VG_OK ||
      (rc = vg_cube_copy_georef(c, &r->info)) != VG_OK) {
    vg_cube_free(c);
    vg_raster_close(r);
    return rc;
  }
  vg_raster_close(r);
  *out = c;
  return VG_OK;
}

/* The stated georeferencing accuracy and the acquisition time as dataset metadata (read back
 * into georef_sigma_m and time_us). */
static void set_georef_sigma(GDALDatasetH ds, const vg_cube *c)
{
  if (c->georef_sigma_m > 0) {
    char v[64];
    snprintf(v, sizeof v, "%.6g", c->georef_sigma_m);
    GDALSetMetadataItem(ds, "GEOREF_SIGMA_M", v, NULL);
  }
  if (c->marking[0])
    GDALSetMetadataItem(ds, "MARKING", c->marking, NULL);
  if (c->time_us > 0) {
    char v[32];
    time_t t = (time_t)(c->time_us / 1000000);
    struct tm tm;
    if (gmtime_r(&t, &tm) && strftime(v, sizeof v, "%Y:%m:%d %H:%M:%S", &tm))
      GDALSetMetadataItem(ds, "TIFFTAG_DATETIME", v, NULL);
  }
}

int vg_raster_write_tiff(const char *path, const vg_cube *c, int band)
{
  GDALDriverH drv;
  GDALDatasetH ds;
  char **opts = NULL;
  float *row;
  int rc = VG_OK;
  vg__raster_gdal_init();
  if (band < 0 || band >= c->bands)
    return vg_error_set(VG_E_INVALID, "band %d of %d", band, c->bands);
  drv = GDALGetDriverByName("GTiff");
  opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
  opts = CSLSetNameValue(opts, "PREDICTOR", "3");
  opts = CSLSetNameValue(opts, "TILED", "YES");
  ds = drv ? GDALCreate(drv, path, c->cols, c->rows, 1, GDT_Float32, opts) : NULL;
  CSLDestroy(opts);
  if (!ds)
    return vg_error_set(VG_E_IO, "cannot create %s: %s", path, CPLGetLastErrorMsg());
  if (c->has_gt)
    GDALSetGeoTransform(ds, (double *)c->gt);
  if (c->srs_wkt)
    GDALSetProjection(ds, c->srs_wkt);
  set_georef_sigma(ds, c);
  GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), NAN);
  row = malloc((size_t)c->cols * sizeof *row);
  if (!row) {
    rc = vg_error_set(VG_E_NOMEM, "row of %d", c->cols);
    goto done;
  }
  for (int r = 0; r < c->rows; r++) {
    for (int k = 0; k < c->cols; k++)
      row[k] = vg_cube_px(c, r, k)[band];
    if (GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, r, c->cols, 1, row, c->cols, 1,
                     GDT_Float32, 0, 0) != CE_None) {
      rc = vg_error_set(VG_E_IO, "writing %s: %s", path, CPLGetLastErrorMsg());
      break;
    }
  }
done:
  free(row);
  GDALClose(ds);
  return rc;
}

int vg_raster_write_cube(const char *path, const vg_cube *c)
{
  GDALDriverH drv;
  GDALDatasetH ds;
  char **opts = NULL;
  int rc = VG_OK;
  vg__raster_gdal_init();
  drv = GDALGetDriverByName("GTiff");
  opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
  opts = CSLSetNameValue(opts, "INTERLEAVE", "PIXEL");
  opts = CSLSetNameValue(opts, "TILED", "YES");
  if (c->bands > 1000)
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
  ds = drv ? GDALCreate(drv, path, c->cols, c->rows, c->bands, GDT_Float32, opts) : NULL;
  CSLDestroy(opts);
  if (!ds)
    return vg_error_set(VG_E_IO, "cannot create %s: %s", path, CPLGetLastErrorMsg());
  if (c->has_gt)
    GDALSetGeoTransform(ds, (double *)c->gt);
  if (c->srs_wkt)
    GDALSetProjection(ds, c->srs_wkt);
  set_georef_sigma(ds, c);
  for (int b = 0; c->wavelength_um && b < c->bands; b++) {
    char v[64];
    GDALRasterBandH h = GDALGetRasterBand(ds, b + 1);
    snprintf(v, sizeof v, "%.9g", c->wavelength_um[b]);
    GDALSetMetadataItem(h, "wavelength", v, NULL);
    GDALSetMetadataItem(h, "wavelength_units", "Micrometers", NULL);
  }
  if (c->rows && GDALDatasetRasterIO(ds, GF_Write, 0, 0, c->cols, c->rows, c->data, c->cols, c->rows,
                                     GDT_Float32, c->bands, NULL, (GSpacing)c->bands * 4,
                                     (GSpacing)c->cols * c->bands * 4, 4) != CE_None)
    rc = vg_error_set(VG_E_IO, "writing %s: %s", path, CPLGetLastErrorMsg());
  GDALClose(ds);
  return rc;
}

static int cmp_f(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

int vg_raster_write_png(const char *path, const float *v, int rows, int cols, const uint8_t *mask)
{
  size_t n = (size_t)rows * (size_t)cols, m = 0;
  float *tmp = NULL, lo = 0, hi = 1;
  uint8_t *rgb = NULL;
  GDALDriverH mem, png;
  GDALDatasetH ds = NULL, out = NULL;
  int rc = VG_OK;
  vg__raster_gdal_init();
  if (rows <= 0 || cols <= 0)
    return vg_error_set(VG_E_INVALID, "preview of %d x %d", rows, cols);
  tmp = malloc(n * sizeof *tmp);
  rgb = malloc(3 * n);
  if (!tmp || !rgb) {
    rc = vg_error_set(VG_E_NOMEM, "preview of %d x %d", rows, cols);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i]))
      tmp[m++] = v[i];
  if (m) {
    qsort(tmp, m, sizeof *tmp, cmp_f);
    lo = tmp[(size_t)(0.02 * (double)(m - 1))];
    hi = tmp[(size_t)(0.998 * (double)(m - 1))];
    if (!(hi > lo))
      hi = lo + 1;
  }
  for (size_t i = 0; i < n; i++) {
    double g = isfinite(v[i]) ? (v[i] - lo) / (hi - lo) : 0.0;
    uint8_t q = (uint8_t)(g <= 0 ? 0 : g >= 1 ? 255 : lround(g * 255.0));
    int red = mask && mask[i];
    rgb[i] = red ? 255 : q;
    rgb[n + i] = red ? 0 : q;
    rgb[2 * n + i] = red ? 0 : q;
  }
  mem = GDALGetDriverByName("MEM");
  png = GDALGetDriverByName("PNG");
  if (!mem || !png || !(ds = GDALCreate(mem, "", cols, rows, 3, GDT_Byte, NULL))) {
    rc = vg_error_set(VG_E_UNSUPPORTED, "GDAL's MEM or PNG driver is missing");
    goto done;
  }
  if (GDALDatasetRasterIO(ds, GF_Write, 0, 0, cols, rows, rgb, cols, rows, GDT_Byte, 3, NULL, 1,
                          cols, (GSpacing)n) != CE_None) {
    rc = vg_error_set(VG_E_IO, "preview: %s", CPLGetLastErrorMsg());
    goto done;
  }
  out = GDALCreateCopy(png, path, ds, FALSE, NULL, NULL, NULL);
  if (!out)
    rc = vg_error_set(VG_E_IO, "cannot write %s: %s", path, CPLGetLastErrorMsg());
done:
  if (out)
    GDALClose(out);
  if (ds)
    GDALClose(ds);
  free(tmp);
  free(rgb);
  return rc;
}

int vg_raster_to_lonlat(const vg_cube *c, double row, double col, double *lat, double *lon)
{
  double x, y, z = 0;
  OGRSpatialReferenceH src, dst;
  OGRCoordinateTransformationH t;
  int ok;
  if (!c->has_gt)
    return vg_error_set(VG_E_UNSUPPORTED, "the raster has no georeferencing");
  x = c->gt[0] + col * c->gt[1] + row * c->gt[2];
  y = c->gt[3] + col * c->gt[4] + row * c->gt[5];
  if (!c->srs_wkt || !*c->srs_wkt) {
    *lon = x;
    *lat = y;
    return VG_OK;
  }
  vg__raster_gdal_init();
  src = OSRNewSpatialReference(c->srs_wkt);
  dst = OSRNewSpatialReference(NULL);
  OSRImportFromEPSG(dst, 4326);
  OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
  OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
  t = src ? OCTNewCoordinateTransformation(src, dst) : NULL;
  ok = t && OCTTransform(t, 1, &x, &y, &z);
  if (t)
    OCTDestroyCoordinateTransformation(t);
  OSRDestroySpatialReference(src);
  OSRDestroySpatialReference(dst);
  if (!ok)
    return vg_error_set(VG_E_RANGE, "cannot take pixel (%g, %g) to WGS84: %s", row, col, CPLGetLastErrorMsg());
  *lon = x;
  *lat = y;
  return VG_OK;
}

int vg_raster_png_encode(const uint8_t *pix, int w, int h, int bands, size_t stride, vg_buf *out)
{
  static unsigned seq;
  char name[64];
  GDALDriverH mem, png;
  GDALDatasetH ds = NULL, o = NULL;
  vsi_l_offset len = 0;
  GByte *data;
  int rc = VG_OK;
  vg__raster_gdal_init();
  if (w <= 0 || h <= 0 || (bands != 1 && bands != 3) || stride < (size_t)w * (size_t)bands)
    return vg_error_set(VG_E_INVALID, "PNG of %d x %d x %d", w, h, bands);
  mem = GDALGetDriverByName("MEM");
  png = GDALGetDriverByName("PNG");
  if (!mem || !png || !(ds = GDALCreate(mem, "", w, h, bands, GDT_Byte, NULL)))
    return vg_error_set(VG_E_UNSUPPORTED, "GDAL's MEM or PNG driver is missing");
  if (GDALDatasetRasterIO(ds, GF_Write, 0, 0, w, h, (void *)pix, w, h, GDT_Byte, bands, NULL, bands,
                          (GSpacing)stride, 1) != CE_None) {
    rc = vg_error_set(VG_E_IO, "PNG chip: %s", CPLGetLastErrorMsg());
    goto done;
  }
  snprintf(name, sizeof name, "/vsimem/vigia_chip_%u_%p.png", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED), (void *)&seq);
  if (!(o = GDALCreateCopy(png, name, ds, FALSE, NULL, NULL, NULL))) {
    rc = vg_error_set(VG_E_IO, "PNG chip: %s", CPLGetLastErrorMsg());
    goto done;
  }
  GDALClose(o);
  o = NULL;
  data = VSIGetMemFileBuffer(name, &len, FALSE);
  if (!data || vg_buf_append(out, data, (size_t)len) != VG_OK)
    rc = vg_error_set(VG_E_NOMEM, "PNG chip of %llu bytes", (unsigned long long)len);
  VSIUnlink(name);
done:
  if (o)
    GDALClose(o);
  GDALClose(ds);
  return rc;
}
