/*
 * vigia detect: candidate sites in imagery. Background statistics in double
 * precision (BLAS dsyrk), diagonal loading and a LAPACK Cholesky, whitening
 * cast to float32 and scoring in float32 with BLAS; the RX family, matched
 * filters against a spectral library, a contextual thermal detector, IR-MAD
 * change; blobs from a score map; ROC evaluation.
 *
 * Pixels are handed over as n x bands float32 rows (a vg_cube's data, or a
 * block of its rows). Nothing here depends on the BLAS thread count: every
 * reduction runs in a fixed order in our own loops, BLAS only does products
 * whose sums it keeps whole.
 */
#ifndef VIGIA_DETECT_H
#define VIGIA_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/raster.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- background statistics ------------------------------------------------------------ */

/** Diagonal loading default: eps * tr(Sigma) / B (research/detection.md Table C). */
#define VG_DETECT_LOADING 1e-3
/** The loading is raised ten-fold when the Cholesky fails, up to this. */
#define VG_DETECT_LOADING_MAX 1.0
/** Pixels converted to double per dsyrk call. */
#define VG_DETECT_TILE 4096

/** Mean, covariance and whitening of a background. */
typedef struct vg_stats {
  int bands;
  size_t n;          /**< pixels used */
  double *mean;      /**< bands */
  double *cov;       /**< bands x bands, row-major, both triangles (N-1 normalised) */
  double eps;        /**< loading actually used (raised from the asked one if needed) */
  double lambda;     /**< eps * tr(cov) / bands, added to the diagonal */
  int raised;        /**< the asked loading was raised to factor the matrix */
  float *mean_f;     /**< mean as float */
  float *w;          /**< whitening W = L^-1 (lower triangular, row-major) as float: z = W (x - mean) */
  double *l;         /**< the Cholesky factor L (lower, row-major), double */
} vg_stats;

/** Accumulates pixels block by block (two passes: mean, then centred products). */
typedef struct vg_stats_acc vg_stats_acc;

/**
 * Statistics of @p n pixels of @p bands bands (@p x: n x bands), skipping
 * pixels whose @p skip byte is nonzero (@p skip may be NULL), loaded by
 * @p eps (<= 0: VG_DETECT_LOADING) and factored. @p *out belongs to the caller.
 */
int vg_stats_compute(vg_stats **out, const float *x, size_t n, int bands, const uint8_t *skip,
                     double eps);
void vg_stats_free(vg_stats *s);

/** Two-pass accumulation for data read in blocks: pass 1 adds blocks for the mean, pass 2 the products. */
int vg_stats_acc_new(vg_stats_acc **out, int bands);
void vg_stats_acc_free(vg_stats_acc *a);
/** Pass 1 (mean). */
int vg_stats_acc_mean(vg_stats_acc *a, const float *x, size_t n, const uint8_t *skip);
/** Pass 2 (covariance about the pass-1 mean). */
int vg_stats_acc_cov(vg_stats_acc *a, const float *x, size_t n, const uint8_t *skip);
/** Loads, factors and hands the statistics out. */
int vg_stats_acc_finish(vg_stats_acc *a, double eps, vg_stats **out);

/**
 * (Re)factors @p s with loading @p eps: Cholesky of cov + eps*tr/B*I with
 * LAPACK dpotrf, raising eps ten-fold on failure (logged); W = L^-1 (dtrtri).
 */
int vg_stats_factor(vg_stats *s, double eps);

/** Mahalanobis distance ||W (x - mean)||^2 of @p n pixels into @p score (float32, BLAS strmm). */
int vg_detect_mahalanobis(const vg_stats *s, const float *x, size_t n, float *score);

/* ---- anomaly detectors ------------------------------------------------------------------ */

typedef enum vg_detect_method {
  VG_DETECT_RX = 0,      /**< global RX, loaded */
  VG_DETECT_RXP,         /**< the default: see vg_detect_anomaly */
  VG_DETECT_LRX,         /**< dual-window local RX on PCA bands */
  VG_DETECT_MF,          /**< matched filter against a target */
  VG_DETECT_ACE,
  VG_DETECT_CEM,
  VG_DETECT_THERMAL,
  VG_DETECT__COUNT
} vg_detect_method;

const char *vg_detect_method_name(vg_detect_method m);
/** @return VG_OK and *m for "rx", "rxp", "lrx", "mf", "ace", "cem", "thermal". */
int vg_detect_method_parse(const char *s, vg_detect_method *m);

typedef struct vg_detect_opts {
  int version;            /**< VG_DETECT_OPTS_VERSION */
  vg_detect_method method;
  double eps;             /**< loading (0: VG_DETECT_LOADING) */
  /* local RX */
  int lrx_inner, lrx_outer; /**< guard and outer window widths in pixels (0: from gsd/target) */
  double gsd_m;           /**< ground sample distance (0: unknown) */
  double target_m;        /**< largest target size (m), default 10 */
  int pca_bands;          /**< bands kept for LRX (0: 30) */
} vg_detect_opts;
#define VG_DETECT_OPTS_VERSION 1
#define VG_DETECT_OPTS_INIT {VG_DETECT_OPTS_VERSION, VG_DETECT_RXP, 0, 0, 0, 0, 10.0, 0}

/**
 * Anomaly score map (rows x cols, row-major) of a cube by @p o->method
 * (RX, RXP or LRX). @p score must hold rows*cols floats. Bigger is more
 * anomalous.
 */
int vg_detect_anomaly(const vg_cube *c, const vg_detect_opts *o, float *score);

/* ---- known targets (lib/detect/target.c, speclib.c) ------------------------------------ */

/** A spectral library: named reflectance spectra with their wavelengths (docs/formats/speclib.md). */
typedef struct vg_speclib vg_speclib;
/** Reads a library file (format in docs/formats/speclib.md). */
int vg_speclib_read(vg_speclib **out, const char *path);
void vg_speclib_free(vg_speclib *l);
size_t vg_speclib_count(const vg_speclib *l);
/** Name of spectrum @p i (borrowed). */
const char *vg_speclib_name(const vg_speclib *l, size_t i);
/** @return the index of the first spectrum whose name contains @p part (case-insensitive), or -1. */
long vg_speclib_find(const vg_speclib *l, const char *part);
/**
 * Spectrum @p i resampled to @p bands sensor bands centred at @p wl_um
 * (Gaussian response of the bands' own spacing as FWHM); VG_E_RANGE when a
 * band lies outside the spectrum's valid range.
 */
int vg_speclib_resample(const vg_speclib *l, size_t i, const double *wl_um, int bands, float *out);

/**
 * Known-target score of @p n pixels (x: n x bands) against @p target:
 * MF (s~' S^-1 x~ / s~' S^-1 s~, 1 on the target, 0 on the mean), ACE
 * ((s~' S^-1 x~)^2 / (s~' S^-1 s~ x~' S^-1 x~)) with the background @p bg;
 * CEM (w = R^-1 d / d' R^-1 d, R the uncentred correlation of the pixels
 * themselves; @p bg ignored). research/detection.md 4.2.
 */
int vg_detect_target(const float *x, size_t n, int bands, const vg_stats *bg, const float *target,
                     vg_detect_method m, float *score);
/**
 * Camera digital numbers to log(1 + DN), in place (negative values to 0). Shading
 * and exposure multiply every band of a pixel alike; in logs they become an
 * offset along (1, ..., 1) that the background covariance absorbs, so the
 * matched filter sees material, not light: on HaitiPixels' RGB, MF 0.9883 ->
 * 0.997 AUC. For radiance or reflectance cubes it is not needed.
 */
void vg_detect_log_dn(float *x, size_t n);

/* ---- thermal (lib/detect/thermal.c) ---------------------------------------------------- */

/**
 * Contextual hot-spot test for radiometric LWIR frames (deg C), after MODIS
 * MOD14 (research/detection.md 4.3, drone adaptation): a pixel is hot when
 * T > t_abs, or when T > mean_bg + max(k * mad_bg, dt_min) with the
 * background from a window grown from win_min to win_max until enough valid
 * (non-candidate) pixels.
 */
typedef struct vg_thermal_opts {
  int version;            /**< VG_THERMAL_OPTS_VERSION */
  double t_abs_c;         /**< absolute test (deg C) */
  double candidate_dt;    /**< candidates: T > frame median + this (K) */
  double k;               /**< contextual: mean + k * mean absolute deviation */
  double dt_min;          /**< contextual: at least this above the background mean (K) */
  double mad_floor;       /**< floor of the background deviation (K) */
  int win_min, win_max;   /**< odd window widths */
  double valid_frac;      /**< fraction of the window that must be valid background */
  int min_valid;          /**< and at least this many pixels */
} vg_thermal_opts;
#define VG_THERMAL_OPTS_VERSION 1

void vg_thermal_opts_default(vg_thermal_opts *o);
/**
 * Hot-spot mask (1 hot) and score (contrast over the background deviation;
 * may be NULL) of a rows x cols frame of temperatures @p t (NAN = invalid).
 */
int vg_thermal_detect(const float *t, int rows, int cols, const vg_thermal_opts *o, uint8_t *mask,
                      float *score);

/* ---- change (lib/detect/change.c) ------------------------------------------------------ */

/** IR-MAD between two co-registered passes (research/detection.md 4.4). */
typedef struct vg_change_opts {
  int version;            /**< VG_CHANGE_OPTS_VERSION (another value is refused) */
  int max_iter;           /**< CCA solves, 1 = plain MAD (<= 0: 30) */
  /** Stop when the canonical correlations move less (<= 0: 1e-5; at ~200 bands the
   * noise-level ones keep moving ~1e-4, so it runs to max_iter). */
  double tol;
  /** Loading of each band's variance, relative to that band's own variance so that
   * gains per band do not matter (unlike vg_stats' eps*tr/B; <= 0: 1e-6). */
  double eps;
} vg_change_opts;
#define VG_CHANGE_OPTS_VERSION 1
#define VG_CHANGE_OPTS_INIT {VG_CHANGE_OPTS_VERSION, 30, 1e-5, 0}

/** What IR-MAD found. */
typedef struct vg_change_info {
  int iterations;
  int bands;
  double rho[64];         /**< canonical correlations, largest first, first min(bands, 64) */
} vg_change_info;

/**
 * Change score of every pixel: Z = sum_i (M_i / sigma_i)^2, about chi-square
 * with @p a->bands degrees of freedom for unchanged pixels (MAD variances are
 * floored at float32 resolution and scaled so that the median Z is the
 * chi-square median: approximate); invariant to an affine radiometric
 * difference between the passes. @p a and @p b same size. Iterations use at
 * most 16384 pixels (a fixed hash), Z covers all. @p chi2 holds rows*cols
 * floats (NAN for invalid pixels); @p pchange (may be NULL) the chi-square CDF
 * of Z (probability of change); @p info may be NULL.
 */
int vg_change_irmad(const vg_cube *a, const vg_cube *b, const vg_change_opts *o, float *chi2,
                    float *pchange, vg_change_info *info);

/**
 * A source of image rows: fills @p buf with rows [row0, row0 + nrows) as
 * nrows x cols x bands float32 (BIP). vg_raster_read_rows fits it.
 */
typedef int (*vg_rows_fn)(void *ctx, int row0, int nrows, float *buf);
/** Rows read at a time by the streaming detectors. */
#define VG_DETECT_ROW_BLOCK 64

/**
 * vg_detect_anomaly for an image read by rows, so that a raster larger than
 * memory runs (RX and RXP; memory follows a block of rows plus the detector's
 * halo). Two passes for the statistics, one (RX) or one with halos (RXP) for
 * the scores. Results are bit-identical to vg_detect_anomaly on the same
 * image. LRX needs the whole cube (VG_E_UNSUPPORTED here).
 */
int vg_detect_anomaly_rows(int rows, int cols, int bands, vg_rows_fn read, void *ctx,
                           const vg_detect_opts *o, float *score);

/**
 * CFAR threshold: x with P(chi-square(@p dof) > x) = @p pfa (global RX scores
 * of a Gaussian background are chi-square with B degrees of freedom; B = 205:
 * 289.0 at 1e-4, 316.0 at 1e-6). NAN for bad arguments.
 */
double vg_detect_chi2_quantile(int dof, double pfa);

/* ---- detections --------------------------------------------------------------------------- */

/** How a score map is cut. */
typedef struct vg_blob_opts {
  double quantile;        /**< keep scores above this empirical quantile (e.g. 0.999), or */
  double threshold;       /**< an absolute threshold when quantile is 0 */
  int min_area;           /**< pixels (default 1) */
  int max_count;          /**< keep the strongest (by peak) this many (0: all) */
} vg_blob_opts;

/** One detection: a connected (8-neighbour) blob of the thresholded map. */
typedef struct vg_blob {
  double row, col;        /**< score-weighted centroid (pixel centres at +0.5) */
  int area;
  float peak, mean;
  int r0, c0, r1, c1;     /**< bounding box, inclusive */
} vg_blob;

/**
 * Thresholds @p score (rows x cols) and labels 8-connected components; the
 * blobs are sorted by peak, strongest first. *out (caller frees with free())
 * holds *n blobs; @p mask (may be NULL, rows*cols) receives 1 on kept pixels.
 * @p thr_out (may be NULL) the threshold used.
 */
int vg_blobs_find(const float *score, int rows, int cols, const vg_blob_opts *o, vg_blob **out,
                  size_t *n, uint8_t *mask, double *thr_out);

/* ---- evaluation --------------------------------------------------------------------------- */

/**
 * ROC AUC of @p score against @p truth (nonzero = target) over @p n pixels:
 * the Mann-Whitney statistic with ties counted half. NAN when a class is empty.
 */
double vg_roc_auc(const float *score, const uint8_t *truth, size_t n);
/**
 * The ROC curve as (pfa, pd) points at every distinct score (at most
 * @p max_points, evenly thinned), into caller arrays; @return the count.
 */
size_t vg_roc_curve(const float *score, const uint8_t *truth, size_t n, double *pfa, double *pd,
                    size_t max_points);
/** Draws ROC curves (one per entry, log or linear Pfa axis) as a PNG file. */
int vg_roc_png(const char *path, const double *const *pfa, const double *const *pd,
               const size_t *npoints, const char *const *labels, int ncurves, int log_pfa);

#ifdef __cplusplus
}
#endif
#endif
