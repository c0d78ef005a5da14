/*
 * vigia geo: a pixel of a frame on the ground, with its uncertainty.
 *
 * WGS84 geodetic <-> ECEF <-> local NED; the ST 0601 rotation chain (platform
 * heading, pitch, roll, then sensor relative azimuth, elevation, roll, each an
 * aerospace Z-Y-X triple) or EG 0104's absolute pointing; a pinhole camera
 * from the fields of view; a ray intersected with the ellipsoid at a height or
 * with a DEM (first crossing, so occluded ground is never returned); the
 * inverse, ground -> pixel; the EGM96 geoid; a 2x2 ground covariance with
 * CE90/LE90; and the check of a stream's own frame centre and corners.
 *
 * Heights are WGS84 ellipsoid heights (HAE) everywhere inside: MSL inputs are
 * converted with the geoid at the edge. Angles are degrees in the public
 * structs, lengths metres.
 *
 * Pixel coordinates are continuous: u to the right, v down, (0,0) the top-left
 * corner of the image and (W,H) the bottom-right one, so the centre of pixel
 * (i, j) is (i + 0.5, j + 0.5) and the image centre is (W/2, H/2).
 */
#ifndef VIGIA_GEO_H
#define VIGIA_GEO_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/klv.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- WGS84 ------------------------------------------------------------------------- */

#define VG_WGS84_A 6378137.0                 /**< semi-major axis, m */
#define VG_WGS84_F (1.0 / 298.257223563)     /**< flattening */

/** A geodetic position: latitude, longitude (deg), height above the ellipsoid (m). */
typedef struct vg_geo_llh {
  double lat, lon, h;
} vg_geo_llh;

void vg_geo_llh_to_ecef(const vg_geo_llh *g, double ecef[3]);
/** Exact to 1e-9 m at any height above -6000 km (Vermeille 2011, closed form). */
void vg_geo_ecef_to_llh(const double ecef[3], vg_geo_llh *g);
/**
 * The local North-East-Down basis at (lat, lon), as the ECEF coordinates of
 * its three unit vectors: rows 0, 1, 2 of @p m (row-major 3x3) are N, E, D.
 * So ned = m * d_ecef and d_ecef = m^T * ned.
 */
void vg_geo_ned_basis(double lat, double lon, double m[9]);
/** @p ecef of a point as NED metres from @p origin. */
void vg_geo_ecef_to_ned(const vg_geo_llh *origin, const double ecef[3], double ned[3]);
/** Geodesic distance is not needed at these ranges: straight-line ECEF distance in m. */
double vg_geo_distance(const vg_geo_llh *a, const vg_geo_llh *b);

/* ---- geoid --------------------------------------------------------------------------- */

/** A geoid undulation grid (EGM96 from a GTX file). Opaque. */
typedef struct vg_geo_geoid vg_geo_geoid;

/**
 * Where the geoid is looked for when no path is given: $VIGIA_GEOID, then
 * Debian's proj-data grid.
 */
#define VG_GEO_GEOID_DEFAULT "/usr/share/proj/egm96_15.gtx"
/** Largest GTX grid accepted (cells): 1' global is 2.3e8; EGM2008 1' fits. */
#define VG_GEO_GEOID_MAX_CELLS (240u * 1000u * 1000u)

/**
 * Reads a GTX grid (NOAA VDatum layout: a 40-byte big-endian header, lat0,
 * lon0, dlat, dlon as doubles, rows, cols as int32, then rows x cols float32
 * rows from the south, -88.8888 for no data). @p path NULL: the default above.
 * @p *out belongs to the caller (vg_geo_geoid_free).
 */
int vg_geo_geoid_open(vg_geo_geoid **out, const char *path);
/** The same from memory (@p buf is copied); @p name is for messages. */
int vg_geo_geoid_from_mem(vg_geo_geoid **out, const uint8_t *buf, size_t len, const char *name);
void vg_geo_geoid_free(vg_geo_geoid *g);
/**
 * Undulation N (m) at (lat, lon) by bilinear interpolation; longitude any
 * value (wrapped). HAE = MSL + N. @return NAN outside the grid (half a cell
 * beyond the first and last rows is clamped to them: the poles of resampled
 * grids) or on no data.
 */
double vg_geo_geoid_n(const vg_geo_geoid *g, double lat, double lon);
/** The file it was read from (borrowed). */
const char *vg_geo_geoid_name(const vg_geo_geoid *g);

/* ---- DEM ----------------------------------------------------------------------------- */

/**
 * A terrain grid in geographic coordinates, heights HAE in memory. Opaque.
 * Built from a grid here (tests, synthetic terrain) or read through GDAL by
 * vg_raster_dem_open (vigia/raster.h), which warps any projection to WGS84.
 */
typedef struct vg_geo_dem vg_geo_dem;

/** Vertical datum of the heights handed to vg_geo_dem_new. */
typedef enum vg_geo_vdatum {
  VG_GEO_VDATUM_MSL = 0, /**< EGM96 orthometric (SRTM, DTED, most DEMs): a geoid is needed */
  VG_GEO_VDATUM_HAE = 1  /**< already ellipsoid heights */
} vg_geo_vdatum;

/** Largest DEM held in memory (samples): a 1° SRTM1 tile is 1.3e7. */
#define VG_GEO_DEM_MAX_SAMPLES (400u * 1000u * 1000u)

/**
 * A DEM of @p w x @p h samples: sample (i, j) (column i, row j) is at
 * lon = lon0 + i*dlon, lat = lat0 + j*dlat (sample centres; dlat is negative
 * for north-up grids), value z[j*w + i]; NAN (or @p nodata, unless it is NAN)
 * is a void. @p z is copied. Heights @p vd are converted to HAE with @p geoid
 * (required for MSL). @p *out belongs to the caller.
 */
int vg_geo_dem_new(vg_geo_dem **out, int w, int h, double lon0, double lat0, double dlon,
                   double dlat, const float *z, double nodata, vg_geo_vdatum vd,
                   const vg_geo_geoid *geoid, const char *name);
void vg_geo_dem_free(vg_geo_dem *d);
/** HAE (m) at (lat, lon) by bilinear interpolation; NAN outside or next to a void. */
double vg_geo_dem_h(const vg_geo_dem *d, double lat, double lon);
/** Extent and height range (HAE) of the DEM. Any pointer may be NULL. */
void vg_geo_dem_info(const vg_geo_dem *d, double *lat_min, double *lat_max, double *lon_min,
                     double *lon_max, double *h_min, double *h_max, double *posting_m);
const char *vg_geo_dem_name(const vg_geo_dem *d);

/* ---- ground and rays ----------------------------------------------------------------- */

/** What a ray is intersected with: a DEM, else the ellipsoid raised by @p h. */
typedef struct vg_geo_ground {
  const vg_geo_dem *dem; /**< borrowed; NULL for the ellipsoid */
  double h;              /**< HAE of the ellipsoid surface when dem is NULL (m) */
} vg_geo_ground;

/** Longest ray followed through a DEM (m): past it the ray is said to miss. */
#define VG_GEO_MAX_RANGE_M 200000.0
/** A DEM crossing is bisected down to this length along the ray (m). */
#define VG_GEO_DEM_TOL_M 0.01

/**
 * Intersects the ray from @p p (ECEF) along @p d (ECEF, any length) with the
 * ground. With a DEM the ray is marched at half the posting between the
 * ellipsoid hits at the DEM's highest and lowest heights and the first
 * crossing is refined, so a hill in front hides the ground behind it.
 * @return VG_OK with *hit and *range (m, may be NULL), or VG_E_NOHIT when the
 * ray misses (points above the horizon, starts below the ground, or leaves
 * the DEM first; the detail says which).
 */
int vg_geo_ray_ground(const vg_geo_ground *g, const double p[3], const double d[3], vg_geo_llh *hit,
                      double *range);

/* ---- sensor model -------------------------------------------------------------------- */

/**
 * How the camera was placed and pointed: ST 0601 style (platform attitude,
 * then the sensor relative to it) or absolute (EG 0104: azimuth from true
 * north, elevation from the horizontal, roll about the line of sight).
 */
typedef struct vg_geo_view {
  vg_geo_llh pos;                 /**< sensor position, HAE */
  int absolute;                   /**< 1: use abs_*; 0: platform then sensor-relative */
  double heading, pitch, roll;    /**< platform (deg): ST 0601 tags 5, 6/90, 7/91 */
  double rel_az, rel_el, rel_roll;/**< sensor relative (deg): tags 18, 19, 20 */
  double abs_az, abs_el, abs_roll;/**< absolute pointing (deg) */
  double hfov, vfov;              /**< full fields of view (deg), 0 < fov < 180 */
  int width, height;              /**< image size in pixels */
  /**
   * Rates (per s) of the quantities above, for the timing term of the
   * uncertainty: position in m/s north, east, down, then heading, pitch, roll,
   * rel_az, rel_el, rel_roll (deg/s; abs_az, abs_el, abs_roll when absolute).
   * Zero when unknown.
   */
  double rate[9];
} vg_geo_view;

/** Where the ground sits when a stream gives no DEM and no frame-centre elevation. */
typedef enum vg_geo_height_src {
  VG_GEO_H_HAE = 0,     /**< ST 0601 ellipsoid tag (75/104) */
  VG_GEO_H_MSL_GEOID,   /**< MSL tag (15) + EGM96 undulation */
  VG_GEO_H_MSL_AS_HAE   /**< MSL tag used as HAE: no geoid was given (reported) */
} vg_geo_height_src;

/**
 * Fills @p v from a pose record: sensor HAE from tag 75/104 when present,
 * else MSL (tag 15) + N from @p geoid (NULL geoid: MSL used as is and
 * *hsrc says so); absolute pointing when the record has EG 0104's angles.
 * @return VG_OK or VG_E_NOTFOUND naming the first missing field.
 */
int vg_geo_view_from_pose(vg_geo_view *v, const vg_klv_pose *p, const vg_geo_geoid *geoid,
                          int width, int height, vg_geo_height_src *hsrc);

/**
 * The ground for a pose when the caller gives none: @p dem when not NULL;
 * else the KLV frame-centre HAE (tag 78), else its elevation (tag 25) + N,
 * else sea level (the geoid; the ellipsoid without one). *desc (static)
 * says which.
 */
void vg_geo_ground_for_pose(vg_geo_ground *g, const vg_klv_pose *p, const vg_geo_dem *dem,
                            const vg_geo_geoid *geoid, const char **desc);

/**
 * Fills v->rate from the views of the neighbouring frames (either may be
 * NULL) @p dt_prev and @p dt_next seconds away; angles the short way round.
 */
void vg_geo_view_rates(vg_geo_view *v, const vg_geo_view *prev, double dt_prev,
                       const vg_geo_view *next, double dt_next);

/**
 * The camera of a view: position in ECEF and the camera-to-ECEF rotation,
 * computed once per frame. Camera axes: x along the line of sight, y to the
 * image right, z to the image bottom.
 */
typedef struct vg_geo_camera {
  double pos[3];      /**< ECEF */
  double r[9];        /**< camera -> ECEF, row-major */
  double fx, fy;      /**< focal lengths in pixels */
  double cx, cy;      /**< principal point (W/2, H/2) */
  vg_geo_llh llh;
} vg_geo_camera;

/** @return VG_OK or VG_E_INVALID (fields of view or image size out of range). */
int vg_geo_camera_init(vg_geo_camera *c, const vg_geo_view *v);
/** The camera-to-NED rotation of a view (row-major), the ZYX chain. */
void vg_geo_view_rotation(const vg_geo_view *v, double r_ned[9]);
/** Unit ray (ECEF) through pixel (@p u, @p v). */
void vg_geo_camera_ray(const vg_geo_camera *c, double u, double v, double d[3]);
/**
 * Pixel of an ECEF point. @return VG_OK, or VG_E_RANGE when the point is
 * behind the camera. The pixel may lie outside the image: callers check.
 */
int vg_geo_camera_project(const vg_geo_camera *c, const double ecef[3], double *u, double *v);
/** Pixel -> ground in one call. @return as vg_geo_ray_ground. */
int vg_geo_camera_ground(const vg_geo_camera *c, const vg_geo_ground *g, double u, double v,
                         vg_geo_llh *hit, double *range);

/* ---- uncertainty --------------------------------------------------------------------- */

/**
 * One-sigma errors of the inputs. Defaults (vg_geo_sigmas_default) are those
 * of a small or medium UAS with SPS GNSS and a MEMS INS, research/geo-plan.md
 * A5: 3 m horizontal and 6 m vertical position, 0.3 deg attitude per axis,
 * 0.3 deg gimbal pointing per axis, 50 ms KLV-to-frame timing, 8 m DEM
 * (SRTM's 16 m LE90 / 1.645 ~ 10 m, less on flat ground; 8 m taken).
 */
typedef struct vg_geo_sigmas {
  double pos_h_m, pos_v_m;
  double attitude_deg;
  double pointing_deg;
  double timing_s;
  double ground_m;
} vg_geo_sigmas;
void vg_geo_sigmas_default(vg_geo_sigmas *s);

/** A ground point with its uncertainty. */
typedef struct vg_geo_point {
  vg_geo_llh llh;       /**< HAE */
  double msl;           /**< orthometric height when a geoid was given, else NAN */
  double range;         /**< slant range from the sensor (m) */
  double cov_en[4];     /**< 2x2 covariance of east, north (m^2), row-major */
  double sigma_up;      /**< 1-sigma height (m) */
  double ce90, le90;    /**< circular / linear error at 90% (m) */
} vg_geo_point;

/**
 * Locates pixel (@p u, @p v) of @p view on @p g and propagates @p s (NULL:
 * defaults) by a numerical Jacobian over the 12 inputs (position 3, attitude
 * 3, pointing 3, timing, ground height). @p geoid (may be NULL) gives msl.
 * @return as vg_geo_ray_ground.
 */
int vg_geo_locate(const vg_geo_view *view, const vg_geo_ground *g, const vg_geo_sigmas *s,
                  const vg_geo_geoid *geoid, double u, double v, vg_geo_point *out);

/**
 * Radius of the circle, centred on the mean, holding 90% of a zero-mean
 * bivariate normal of covariance @p cov (2x2 row-major): integral over the
 * angle, bisection on the radius; to 1e-9 relative while the variance ratio
 * is above 1e-4, and within 2e-5 below it, where the 1-D value 1.6449 sigma
 * is returned.
 */
double vg_geo_ce90(const double cov[4]);
/** The same at probability @p p in (0, 1) (CE50: p = 0.5); NAN for p outside. */
double vg_geo_ce(const double cov[4], double p);
/** 1.6449 sigma. */
double vg_geo_le90(double sigma);

/* ---- footprints --------------------------------------------------------------------- */

/** Points sampled along each image edge for a footprint outline. */
#define VG_GEO_FP_EDGE 4

/** A frame on the ground. */
typedef struct vg_geo_footprint {
  int64_t frame;                    /**< frame index (or packet index) */
  double time_s;                    /**< seconds from the first frame */
  vg_geo_llh sensor;                /**< HAE */
  int have_centre;                  /**< the image centre reached the ground */
  vg_geo_point centre;              /**< with its uncertainty */
  /** Outline: the image border (corners first of each edge, UL, UR, LR, LL
   * order) where it reaches the ground; fewer than 4 points: no polygon. */
  int n;
  vg_geo_llh outline[4 * VG_GEO_FP_EDGE];
  int corner_ok[4];                 /**< the four image corners reached the ground */
  vg_geo_llh corner[4];
} vg_geo_footprint;

/**
 * Puts a frame on the ground: centre with uncertainty (@p s NULL: defaults),
 * border, corners. @return VG_OK, or VG_E_NOHIT when no part of the image
 * reaches the ground, or the camera's error.
 */
int vg_geo_footprint_compute(const vg_geo_view *v, const vg_geo_ground *g, const vg_geo_sigmas *s,
                             const vg_geo_geoid *geoid, vg_geo_footprint *out);

/**
 * Writes the track, footprints and centres as a GeoJSON FeatureCollection
 * (RFC 7946: lon, lat, HAE; exterior rings counter-clockwise) into @p out.
 */
int vg_geo_footprints_geojson(vg_buf *out, const vg_geo_footprint *fp, size_t n, const char *title);
/**
 * The same as KML 2.2 (altitudes above sea level as KML wants them, from
 * @p geoid; NULL geoid: clamped to the ground).
 */
int vg_geo_footprints_kml(vg_buf *out, const vg_geo_footprint *fp, size_t n, const char *title,
                          const vg_geo_geoid *geoid);

/* ---- check against the stream's own footprint --------------------------------------- */

/** A diagnosis of what the encoder of a stream did differently. */
typedef enum vg_geo_finding {
  VG_GEO_FIND_NONE = 0,        /**< nothing systematic */
  VG_GEO_FIND_AZ_BIAS,         /**< constant azimuth offset */
  VG_GEO_FIND_EL_BIAS,         /**< constant elevation offset */
  VG_GEO_FIND_HEIGHT,          /**< constant height offset (MSL/HAE when it is the geoid) */
  VG_GEO_FIND_TIMING,          /**< residual follows the footprint's motion: time offset */
  /** The KLV footprint is nowhere near the pose's line of sight (synthetic or
   * corrupt metadata, a different sensor): no bias is looked for. */
  VG_GEO_FIND_INCONSISTENT
} vg_geo_finding;

/** Per-packet residuals of the computed frame centre against the KLV one. */
typedef struct vg_geo_check_sample {
  uint64_t time_us;         /**< packet time (0 when it has none) */
  double ground_h;          /**< HAE of the ground used (m) */
  vg_geo_llh centre;        /**< computed frame centre */
  double centre_err_m;      /**< horizontal distance computed - KLV centre */
  double corner_err_m[4];   /**< same for the corners; NAN when the packet has none */
  double d_az, d_el;        /**< KLV centre seen from the sensor minus the computed line of sight (deg) */
  double range;             /**< computed slant range (m) */
  double range_err_m;       /**< KLV slant range (tag 21) minus computed; NAN if absent */
  /** Ground height change (m) that would put the KLV centre on the computed line of sight. */
  double dh_m;
  double az_rate, el_rate;  /**< line-of-sight rates (deg/s), from neighbouring packets */
  double geoid_n;           /**< undulation at the frame centre (NAN without geoid) */
  double corr_centre_err_m; /**< after the findings are removed (NAN until result_get) */
  double corr_corner_err_m[4];
} vg_geo_check_sample;

typedef struct vg_geo_check vg_geo_check;

typedef struct vg_geo_check_opts {
  vg_geo_ground ground;           /**< dem or, without it, see ground_from_klv */
  /**
   * 1 (default): without a DEM the ground is the KLV frame-centre elevation
   * (tag 78, else 25 + N), else the geoid (MSL 0); 0: ground.h as given.
   */
  int ground_from_klv;
  const vg_geo_geoid *geoid;      /**< borrowed, may be NULL (MSL then taken as HAE) */
} vg_geo_check_opts;

int vg_geo_check_new(vg_geo_check **out, const vg_geo_check_opts *o);
void vg_geo_check_free(vg_geo_check *c);
/**
 * Adds one pose (a KLV packet). Packets without a frame centre or without
 * the fields to build a ray are counted and skipped. @return VG_OK.
 */
int vg_geo_check_add(vg_geo_check *c, const vg_klv_pose *p);

/** The diagnosis. */
typedef struct vg_geo_check_result {
  size_t n, skipped;
  double centre_med_m, centre_max_m;    /**< raw residuals */
  double corner_med_m;                  /**< all corners, raw; NAN without corners */
  double az_bias, az_sd;                /**< median and robust sd of d_az (deg) */
  double el_bias, el_sd;
  double dh_m, dh_sd_m;                 /**< median and robust sd of dh_m */
  double range_err_med_m;               /**< median KLV slant range minus computed; NAN if absent */
  double geoid_n;                       /**< median undulation at the centres (NAN without geoid) */
  /** Fitted delay (s) of the KLV centre behind the pose (positive: the KLV
   * footprint is that of an earlier pose), and the fraction of the residual
   * variance it explains (timing_r2); NAN without times or motion. */
  double timing_s, timing_r2;
  /** Findings in order of size (up to 4), and what each is taken to be. */
  int nfind;
  vg_geo_finding find[4];
  double find_value[4];                 /**< deg, m or s */
  char find_cause[4][160];
  /** Convergence of the UTM zone at the median centre (deg) and the zone. */
  double convergence_deg;
  int utm_zone;
  /** Residuals with the findings removed (bias, height, delay applied to every packet). */
  double corrected_centre_med_m, corrected_centre_max_m, corrected_corner_med_m;
  const char *ground_desc;              /**< how the ground height was chosen (static) */
} vg_geo_check_result;

/** Thresholds of a finding: constant part against the scatter and an absolute floor. */
#define VG_GEO_CHECK_MIN_AZ_DEG 0.05
#define VG_GEO_CHECK_MIN_EL_DEG 0.05
#define VG_GEO_CHECK_MIN_H_M 3.0
#define VG_GEO_CHECK_MIN_TIMING_S 0.02
/** Median centre residual beyond max(this, half the slant range) is VG_GEO_FIND_INCONSISTENT. */
#define VG_GEO_CHECK_INCONSISTENT_M 2000.0
#define VG_GEO_CHECK_MIN_TIMING_R2 0.5
/** A bias within this of the UTM convergence (deg) is named grid north. */
#define VG_GEO_CHECK_CONVERGENCE_TOL_DEG 0.05

/** Computes the result (may be called again after more samples). */
int vg_geo_check_result_get(vg_geo_check *c, vg_geo_check_result *r);
/** The samples added so far (borrowed). */
const vg_geo_check_sample *vg_geo_check_samples(const vg_geo_check *c, size_t *n);
const char *vg_geo_finding_name(vg_geo_finding f);

/**
 * Meridian convergence (deg) of UTM zone @p zone (0: the point's own zone) at
 * (lat, lon) through PROJ: the angle from true north to grid north, positive
 * when grid north is east of true north.
 */
double vg_geo_utm_convergence(double lat, double lon, int zone, int *zone_out);

#ifdef __cplusplus
}
#endif
#endif
