/*
 * vigia raster: imagery and terrain read through GDAL (lib/raster is the only
 * code that includes gdal.h).
 */
#ifndef VIGIA_RASTER_H
#define VIGIA_RASTER_H

#include "vigia/geo.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of vg_raster_dem_open. */
typedef struct vg_raster_dem_opts {
  int version;                /**< VG_RASTER_DEM_OPTS_VERSION */
  int band;                   /**< 1-based band (0: 1) */
  /**
   * Vertical datum of the file's heights. GDAL seldom knows it: SRTM, DTED
   * and most national DEMs are EGM96/MSL (the default); say HAE for
   * ellipsoid-height products.
   */
  vg_geo_vdatum vdatum;
  /** Read only this window (deg; all zero: the whole raster), with a margin of one sample. */
  double lat_min, lat_max, lon_min, lon_max;
} vg_raster_dem_opts;
#define VG_RASTER_DEM_OPTS_VERSION 1
#define VG_RASTER_DEM_OPTS_INIT {VG_RASTER_DEM_OPTS_VERSION, 1, VG_GEO_VDATUM_MSL, 0, 0, 0, 0}

/**
 * Reads a DEM (SRTM .hgt, GeoTIFF, DTED, any GDAL raster) into memory as
 * WGS84 geographic samples with HAE heights: a raster in another CRS is
 * warped to EPSG:4326 (bilinear) through a GDAL warped VRT first. The
 * raster's no-data value marks voids. @p geoid is needed for MSL heights.
 * @p *out belongs to the caller (vg_geo_dem_free).
 */
int vg_raster_dem_open(vg_geo_dem **out, const char *path, const vg_raster_dem_opts *opts,
                       const vg_geo_geoid *geoid);

#ifdef __cplusplus
}
#endif
#endif
