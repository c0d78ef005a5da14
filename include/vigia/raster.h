/*
 * vigia raster: imagery and terrain read through GDAL (lib/raster is the only
 * code that includes gdal.h).
 */
#ifndef VIGIA_RASTER_H
#define VIGIA_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/geo.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cube ---------------------------------------------------------------------------- */

/** Largest cube held in memory (values): 4e9 bytes of float32. */
#define VG_CUBE_MAX_VALUES (1000ull * 1000ull * 1000ull)

/**
 * An image cube: rows x cols x bands float32, band-interleaved by pixel (BIP):
 * band b of pixel (r, c) is data[((size_t)r * cols + c) * bands + b]. Rasters
 * larger than memory are read a block of rows at a time (vg_raster_open).
 */
typedef struct vg_cube {
  int rows, cols, bands;
  float *data;            /**< owned */
  int has_gt;             /**< geotransform known */
  double gt[6];           /**< GDAL geotransform of the full raster (pixel corners) */
  char *srs_wkt;          /**< owned, NULL when unknown */
  double *wavelength_um;  /**< bands entries, owned, NULL when unknown */
  int has_nodata;
  double nodata;
  /**
   * One-sigma error of the georeferencing per axis (m) as the product states
   * it (GeoTIFF metadata item GEOREF_SIGMA_M), 0 when it does not.
   */
  double georef_sigma_m;
  /** Acquisition time, UNIX microseconds (TIFF DateTime, UTC, whole seconds), 0 when unknown. */
  int64_t time_us;
  /** The product's security marking banner (GeoTIFF metadata item MARKING), "" when unmarked. */
  char marking[512];
} vg_cube;

/** A zeroed cube (no georeferencing). @p *out belongs to the caller (vg_cube_free). */
int vg_cube_new(vg_cube **out, int rows, int cols, int bands);
void vg_cube_free(vg_cube *c);
/** Copies georeferencing, projection and no-data of @p from (not wavelengths unless bands match). */
int vg_cube_copy_georef(vg_cube *to, const vg_cube *from);
/** Pixel (r, c): its bands. */
static inline float *vg_cube_px(const vg_cube *c, int r, int col)
{
  return c->data + ((size_t)r * (size_t)c->cols + (size_t)col) * (size_t)c->bands;
}

/**
 * Reads a whole raster into a cube: MATLAB v5 .mat (variable @p var, NULL:
 * the first 3-D numeric array, else the first 2-D one) or anything GDAL opens
 * (GeoTIFF, ENVI, ...; @p var ignored), keeping the georeferencing and the
 * ENVI wavelengths when GDAL reports them.
 */
int vg_raster_read(vg_cube **out, const char *path, const char *var);

/**
 * MATLAB v5 MAT file (little- or big-endian, miCOMPRESSED elements inflated
 * with zlib, numeric classes int8..uint64, single, double; real part only):
 * the array named @p var (NULL: the first 3-D numeric array, else the first
 * 2-D one) as a cube of rows x cols x (third dimension or 1). MATLAB stores
 * column-major; the cube is BIP.
 */
int vg_raster_mat_read(vg_cube **out, const char *path, const char *var);
/** The same from memory (fuzzing, tests); @p name for messages. */
int vg_raster_mat_from_mem(vg_cube **out, const uint8_t *buf, size_t len, const char *var,
                           const char *name);
/** Limits of the MAT reader: inflated element size, array rank. */
#define VG_MAT_MAX_INFLATED (2ull * 1024 * 1024 * 1024)
#define VG_MAT_MAX_DIMS 8

/** A raster opened for reading by blocks of rows (GDAL), for inputs larger than memory. */
typedef struct vg_raster vg_raster;
int vg_raster_open(vg_raster **out, const char *path);
void vg_raster_close(vg_raster *r);
/** Size, and a cube of 0 rows carrying the georeferencing and wavelengths (borrowed). */
const vg_cube *vg_raster_info(const vg_raster *r);
/** Reads rows [row0, row0 + nrows) into @p buf (nrows x cols x bands, BIP). */
int vg_raster_read_rows(vg_raster *r, int row0, int nrows, float *buf);

/**
 * Writes band @p band of @p c as a float32 GeoTIFF (georeferenced when the cube
 * is), deflate-compressed.
 */
int vg_raster_write_tiff(const char *path, const vg_cube *c, int band);
/**
 * Writes the whole cube as a float32 GeoTIFF of c->bands bands (pixel-
 * interleaved, deflate), georeferenced when the cube is, with the band
 * wavelengths in the ENVI-style band metadata ("wavelength", micrometres)
 * that vg_raster_open reads back.
 */
int vg_raster_write_cube(const char *path, const vg_cube *c);
/**
 * Writes a 2-D map (rows x cols, row-major) as an 8-bit PNG preview stretched
 * between the 2nd and 99.8th percentiles (NAN black); @p mask (may be NULL)
 * pixels drawn red on top.
 */
int vg_raster_write_png(const char *path, const float *v, int rows, int cols, const uint8_t *mask);

/**
 * WGS84 latitude and longitude (deg) of a position (row, col; pixel centres at
 * +0.5) of a georeferenced cube, through its geotransform and projection
 * (PROJ via OGR; no projection: taken as WGS84 lon/lat). VG_E_UNSUPPORTED
 * without a geotransform.
 */
int vg_raster_to_lonlat(const vg_cube *c, double row, double col, double *lat, double *lon);

/**
 * Encodes an 8-bit image (@p bands 1 = gray or 3 = RGB, interleaved, @p stride
 * bytes per row) as PNG into @p out (appended), through GDAL's PNG driver:
 * the image chips kept with observations.
 */
int vg_raster_png_encode(const uint8_t *pix, int w, int h, int bands, size_t stride, vg_buf *out);

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
