/*
 * A DEM through GDAL: open, warp to WGS84 geographic when the raster is in
 * another CRS (GDALAutoCreateWarpedVRT, bilinear), read the band as float32
 * into a vg_geo_dem (sample centres, heights to HAE with the geoid).
 *
 * GDAL geotransforms describe pixel corners (GT[0], GT[3] the top-left corner
 * of the top-left pixel); vg_geo_dem wants sample centres, hence the half
 * pixel. SRTM .hgt files are the exception that proves it: their samples sit
 * on whole degrees, and GDAL's SRTMHGT driver reports the corner half a
 * sample beyond, so the same half pixel puts them back.
 */
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "raster_int.h"

void vg__raster_gdal_init(void)
{
  static int done;
  if (!done) {
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);
    done = 1;
  }
}

/* 1 when the dataset's CRS is geographic WGS84 (or has none, taken as such). */
static int is_wgs84_geographic(GDALDatasetH ds)
{
  const char *wkt = GDALGetProjectionRef(ds);
  OGRSpatialReferenceH s, w;
  int same;
  if (!wkt || !*wkt)
    return 1;
  s = OSRNewSpatialReference(wkt);
  w = OSRNewSpatialReference(NULL);
  OSRImportFromEPSG(w, 4326);
  same = s && OSRIsGeographic(s) && OSRIsSameGeogCS(s, w);
  OSRDestroySpatialReference(s);
  OSRDestroySpatialReference(w);
  return same;
}

int vg_raster_dem_open(vg_geo_dem **out, const char *path, const vg_raster_dem_opts *opts,
                       const vg_geo_geoid *geoid)
{
  vg_raster_dem_opts o = VG_RASTER_DEM_OPTS_INIT;
  GDALDatasetH ds = NULL, warped = NULL, use;
  GDALRasterBandH band;
  double gt[6], nodata;
  int has_nodata = 0, x0 = 0, y0 = 0, w, h, rc = VG_OK;
  float *z = NULL;

  if (opts)
    o = *opts;
  if (o.band <= 0)
    o.band = 1;
  vg__raster_gdal_init();
  ds = GDALOpen(path, GA_ReadOnly);
  if (!ds) {
    rc = vg_error_set(VG_E_IO, "DEM %s: GDAL cannot open it (%s)", path, CPLGetLastErrorMsg());
    goto done;
  }
  use = ds;
  if (!is_wgs84_geographic(ds)) {
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    OSRImportFromEPSG(srs, 4326);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    OSRExportToWkt(srs, &wkt);
    warped = GDALAutoCreateWarpedVRT(ds, NULL, wkt, GRA_Bilinear, 0.0, NULL);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    if (!warped) {
      rc = vg_error_set(VG_E_UNSUPPORTED, "DEM %s: cannot warp it to WGS84 (%s)", path,
                        CPLGetLastErrorMsg());
      goto done;
    }
    use = warped;
  }
  if (GDALGetGeoTransform(use, gt) != CE_None || gt[2] != 0.0 || gt[4] != 0.0 || gt[1] <= 0 ||
      gt[5] == 0) {
    rc = vg_error_set(VG_E_UNSUPPORTED, "DEM %s: no north-up geotransform", path);
    goto done;
  }
  if (o.band > GDALGetRasterCount(use)) {
    rc = vg_error_set(VG_E_INVALID, "DEM %s: band %d of %d", path, o.band, GDALGetRasterCount(use));
    goto done;
  }
  band = GDALGetRasterBand(use, o.band);
  w = GDALGetRasterXSize(use);
  h = GDALGetRasterYSize(use);
  if (o.lat_max > o.lat_min && o.lon_max > o.lon_min) {
    /* window in pixels, one sample of margin */
    double xa = (o.lon_min - gt[0]) / gt[1], xb = (o.lon_max - gt[0]) / gt[1];
    double ya = (o.lat_max - gt[3]) / gt[5], yb = (o.lat_min - gt[3]) / gt[5];
    int ia = (int)floor(fmin(xa, xb)) - 1, ib = (int)ceil(fmax(xa, xb)) + 1;
    int ja = (int)floor(fmin(ya, yb)) - 1, jb = (int)ceil(fmax(ya, yb)) + 1;
    ia = ia < 0 ? 0 : ia;
    ja = ja < 0 ? 0 : ja;
    ib = ib > w ? w : ib;
    jb = jb > h ? h : jb;
    if (ib - ia < 2 || jb - ja < 2) {
      rc = vg_error_set(VG_E_RANGE, "DEM %s does not cover lat %g..%g, lon %g..%g", path,
                        o.lat_min, o.lat_max, o.lon_min, o.lon_max);
      goto done;
    }
    x0 = ia;
    y0 = ja;
    w = ib - ia;
    h = jb - ja;
  }
  if ((size_t)w * (size_t)h > VG_GEO_DEM_MAX_SAMPLES) {
    rc = vg_error_set(VG_E_LIMIT, "DEM %s: %d x %d samples exceed VG_GEO_DEM_MAX_SAMPLES; give a window",
                      path, w, h);
    goto done;
  }
  z = malloc((size_t)w * (size_t)h * sizeof *z);
  if (!z) {
    rc = vg_error_set(VG_E_NOMEM, "DEM %s: %d x %d samples", path, w, h);
    goto done;
  }
  if (GDALRasterIO(band, GF_Read, x0, y0, w, h, z, w, h, GDT_Float32, 0, 0) != CE_None) {
    rc = vg_error_set(VG_E_IO, "DEM %s: read failed (%s)", path, CPLGetLastErrorMsg());
    goto done;
  }
  nodata = GDALGetRasterNoDataValue(band, &has_nodata);
  rc = vg_geo_dem_new(out, w, h, gt[0] + (x0 + 0.5) * gt[1], gt[3] + (y0 + 0.5) * gt[5], gt[1],
                      gt[5], z, has_nodata ? nodata : NAN, o.vdatum, geoid, path);
done:
  free(z);
  if (warped)
    GDALClose(warped);
  if (ds)
    GDALClose(ds);
  return rc;
}
