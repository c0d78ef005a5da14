/*
 * vigia sites: the register of persistent sites. Ground detections
 * (observations) are gated to sites by Mahalanobis distance with both
 * covariances, fused by inverse-covariance weighting, and carry a confidence
 * as log-odds that grows with evidence and agreement between detector kinds
 * and shrinks when a pass covered the site without a detection.
 *
 * Evidence is counted per pass, not per frame: the frames of one flight (a
 * video pass) show the same object under the same light to the same
 * detectors, so they are not independent. A site remembers the flight whose
 * evidence last reached it (vg_site.flight and its per-pass state): each
 * evidence kind adds its likelihood ratio once per flight, a flight that
 * covers the site without any detection adds one miss (taken back if a later
 * frame of that flight detects it), and detectors looking at the same image
 * (same flight and frame) fuse its position once, since they share its
 * georeferencing error (lib/sites/fuse.c, docs/decisions/0005).
 *
 * Two stores behind one API: SQLite (a file path; the embedded default: WAL,
 * versioned migrations, R*Tree index) and PostgreSQL + PostGIS
 * ("postgresql://..." URIs). Ingest is idempotent: an observation is keyed by
 * (flight, frame, detector, seq), and a batch is one transaction, so the same
 * flight twice adds nothing and a killed ingest leaves the register as it was
 * before the batch.
 *
 * Positions are WGS84 lat/lon (deg) and ellipsoid height (m); covariances are
 * 2x2 east/north in m^2 (as vg_geo_point gives them).
 */
#ifndef VIGIA_SITES_H
#define VIGIA_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What kind of evidence a detector gives (agreement between kinds counts). */
typedef enum vg_evidence {
  VG_EVID_ANOMALY = 0,  /**< spectral anomaly (RX family) */
  VG_EVID_SPECTRAL,     /**< known signature (MF/ACE/CEM: plastic, tarp) */
  VG_EVID_THERMAL,      /**< warm spot */
  VG_EVID_CHANGE,       /**< change between passes */
  VG_EVID__COUNT
} vg_evidence;

const char *vg_evidence_name(vg_evidence e);
int vg_evidence_parse(const char *s, vg_evidence *e);

/** Site states. Dismissed is an analyst's word and sticks; the others follow the evidence. */
typedef enum vg_site_state {
  VG_SITE_CANDIDATE = 0,
  VG_SITE_CONFIRMED,   /**< by an analyst, or log-odds above fuse params' confirm level */
  VG_SITE_DISMISSED,   /**< by an analyst */
  VG_SITE_INACTIVE     /**< log-odds fell below the inactive level (covered, not seen) */
} vg_site_state;

const char *vg_site_state_name(vg_site_state s);

/** Longest flight / detector name kept (bytes, without the NUL). */
#define VG_SITES_NAME_MAX 63
/** Longest marking banner kept with an observation (bytes). */
#define VG_SITES_MARKING_MAX 511
/** Longest analyst note. */
#define VG_SITES_NOTE_MAX 1023
/** Largest image chip stored with an observation (bytes). */
#define VG_SITES_CHIP_MAX (1u << 20)

/** A ground detection. */
typedef struct vg_obs {
  char flight[VG_SITES_NAME_MAX + 1];
  int64_t frame;            /**< frame or raster index within the flight */
  char detector[VG_SITES_NAME_MAX + 1]; /**< e.g. "rxp", "thermal", "mf:tarp" */
  int seq;                  /**< detection number within (flight, frame, detector) */
  vg_evidence kind;
  int64_t time_us;          /**< UNIX microseconds */
  double lat, lon, hae;
  double cov_en[4];         /**< m^2, row-major */
  double sigma_up;          /**< m; 0 when the height is unknown (hae is then 0 and not fused) */
  double score;
  int r0, c0, r1, c1;       /**< pixel box in the frame */
  const uint8_t *chip;      /**< PNG image chip (borrowed), may be NULL */
  size_t chip_len;
  /**
   * The security marking of the source the detection came from, as a banner
   * (e.g. "UNCLASSIFIED//REL TO USA, MEX"; lib/products parses it); borrowed,
   * NULL or "" for an unmarked source, whose sites are then not releasable.
   * Not loaded by vg_register_history.
   */
  const char *marking;
} vg_obs;

/** A site as the register holds it. */
typedef struct vg_site {
  int64_t id;
  vg_site_state state;
  double lat, lon, hae;
  double cov_en[4];         /**< m^2 */
  double sigma_up;
  double logodds;           /**< confidence: p = 1 / (1 + exp(-logodds)) */
  int64_t first_us, last_us;
  int64_t nobs, nmiss;      /**< observations fused, passes that missed it */
  uint32_t kinds;           /**< bit (1u << vg_evidence) per kind seen */
  char note[VG_SITES_NOTE_MAX + 1];
  /* Per-pass state (the evidence of one flight counts once; see fuse.c). Two
   * flights fused into one site at the same time (two workers) switch it back
   * and forth: the cost is at most evidence counted again, never lost. */
  char flight[VG_SITES_NAME_MAX + 1]; /**< the flight whose evidence last reached the site ("" none) */
  int64_t frame;            /**< frame of that flight whose position was last fused (VG_FUSE_NO_FRAME: none) */
  uint32_t flight_kinds;    /**< bit (1u << vg_evidence) per kind already counted for that flight */
  int flight_missed;        /**< 1 when that flight already counted a miss (no detection yet) */
} vg_site;

/* ---- fusion (pure; lib/sites/fuse.c) ---------------------------------------------------- */

/** The fusion constants (vg_fuse_params_default documents each). */
typedef struct vg_fuse_params {
  double gate;              /**< Mahalanobis distance^2 gate (chi-square 2 dof) */
  double prior;             /**< log-odds of a new site before its first detection */
  double hit[VG_EVID__COUNT]; /**< log-likelihood ratio of one detection of each kind */
  double agree;             /**< extra when a kind not seen before at the site confirms it */
  double miss;              /**< log-likelihood ratio of a covering pass without detection (< 0) */
  double confirm;           /**< log-odds at which a candidate becomes confirmed */
  double inactive;          /**< log-odds below which it becomes inactive */
  double lo_min, lo_max;    /**< clamps */
  double floor_m;           /**< smallest position sigma kept (m): fusion never claims better */
  double repeat;            /**< share of hit[kind] a kind adds when an earlier flight already showed it here */
} vg_fuse_params;

void vg_fuse_params_default(vg_fuse_params *p);

/** vg_site.frame of a site whose current flight has fused no position yet. */
#define VG_FUSE_NO_FRAME INT64_MIN

/** East/north offset (m) of (lat, lon) from (lat0, lon0) on the local tangent plane. */
void vg_fuse_en(double lat0, double lon0, double lat, double lon, double en[2]);
/**
 * Squared Mahalanobis distance of @p o from @p s with S = P_site + R_obs.
 * @return VG_OK and *d2, or VG_E_RANGE when S is not positive definite.
 */
int vg_fuse_distance(const vg_site *s, const vg_obs *o, double *d2);
/**
 * A new site from its first observation; its pass state is @p o's flight and
 * frame with @p o's kind counted.
 */
void vg_fuse_init(vg_site *s, const vg_obs *o, const vg_fuse_params *p);
/**
 * Fuses @p o into @p s. When @p o comes from another flight than the site's,
 * the site first switches to it (flight_kinds 0, flight_missed 0, frame
 * VG_FUSE_NO_FRAME). Then:
 * - position by inverse-covariance weighting (m' = m + P S^-1 d,
 *   P' = P - P S^-1 P) and height by inverse variance, unless the same image
 *   (same flight and frame) already gave the site a position: another
 *   detector on that image shares its georeferencing error, so nothing moves;
 * - log-odds += hit[kind] (+ agree for a kind new to the site) only the first
 *   time the flight shows this kind; a miss that the flight counted earlier
 *   (flight_missed) is taken back (log-odds -= miss, nmiss - 1);
 * - nobs, kinds, first/last times and state updated.
 */
void vg_fuse_update(vg_site *s, const vg_obs *o, const vg_fuse_params *p);
/**
 * @p flight covered the site without detecting it. After switching to
 * @p flight (as vg_fuse_update does), a flight that has neither detected the
 * site nor already counted a miss adds one: log-odds += miss, nmiss + 1,
 * flight_missed 1, state updated. Otherwise nothing changes (nmiss tells).
 * @p flight: at most VG_SITES_NAME_MAX bytes are used; NULL is "".
 */
void vg_fuse_miss(vg_site *s, const char *flight, const vg_fuse_params *p);
/** Probability from log-odds. */
double vg_fuse_prob(double logodds);

/* ---- the register ----------------------------------------------------------------------- */

typedef struct vg_register vg_register;

/**
 * Opens (creating and migrating as needed) a register: a file path for
 * SQLite, "postgresql://..." (or "postgres://") for PostgreSQL. @p *out
 * belongs to the caller (vg_register_close).
 */
int vg_register_open(vg_register **out, const char *uri);
void vg_register_close(vg_register *r);
/** "sqlite" or "postgresql". */
const char *vg_register_kind(const vg_register *r);

/** What an ingest did. */
typedef struct vg_ingest_stats {
  size_t obs_new, obs_dup;      /**< inserted / already present (skipped) */
  size_t sites_new, sites_updated;
  size_t misses;                /**< misses counted (at most one per site and flight) */
} vg_ingest_stats;

/**
 * Ingests @p n observations in one transaction: each one not already in the
 * register (same flight, frame, detector, seq) is gated to the nearest site
 * within the gate (smallest d2) and fused, or starts a new site. @p st
 * (may be NULL) is added to.
 */
int vg_register_ingest(vg_register *r, const vg_obs *obs, size_t n, const vg_fuse_params *p,
                       vg_ingest_stats *st);

/**
 * Negative evidence: frame @p frame of @p flight covered the polygon
 * @p lat/@p lon (@p npts vertices, the frame's footprint) with detector kinds
 * @p kinds (bits of vg_evidence); every site inside it (with a kind among
 * @p kinds) that @p flight has neither detected nor already missed gets a
 * miss (vg_fuse_miss): one per site and flight however many frames cover it.
 * Give a frame's coverage after its detections. Idempotent per (flight,
 * frame).
 */
int vg_register_coverage(vg_register *r, const char *flight, int64_t frame, int64_t time_us,
                         const double *lat, const double *lon, int npts, uint32_t kinds,
                         const vg_fuse_params *p, vg_ingest_stats *st);

/** One site. VG_E_NOTFOUND when there is none with that id. */
int vg_register_site(vg_register *r, int64_t id, vg_site *out);
/**
 * Sites whose position lies in the box (deg), at most @p max (0: no limit),
 * ordered by id. *out (free()) holds *n sites.
 */
int vg_register_box(vg_register *r, double lat_min, double lat_max, double lon_min, double lon_max,
                    size_t max, vg_site **out, size_t *n);
/** Sites within @p radius_m of (lat, lon), nearest first. */
int vg_register_near(vg_register *r, double lat, double lon, double radius_m, size_t max,
                     vg_site **out, size_t *n);
/** The observations fused into a site, oldest first (chips not loaded). *out: free(). */
int vg_register_history(vg_register *r, int64_t id, vg_obs **out, size_t *n);
/**
 * The distinct markings of a site's observations (banners, "" for unmarked
 * sources), sorted: what a product of the site derives its own marking from.
 * @p *out is an array of @p *n malloc'd strings (vg_register_markings_free).
 */
int vg_register_site_markings(vg_register *r, int64_t id, char ***out, size_t *n);
void vg_register_markings_free(char **m, size_t n);
/**
 * The image chip (PNG, appended to @p out) of the site's highest-score
 * observation that has one (ties: the lowest observation id), and that
 * observation's id in @p *obs_id (may be NULL): what a product shows of the
 * site. VG_E_NOTFOUND when none of its observations has a chip.
 */
int vg_register_site_chip(vg_register *r, int64_t site_id, vg_buf *out, int64_t *obs_id);
/** An analyst's decision (CONFIRMED or DISMISSED, or back to CANDIDATE) with a note (may be NULL). */
int vg_register_set_state(vg_register *r, int64_t id, vg_site_state st, const char *note);
/** Replaces a site's note. */
int vg_register_note(vg_register *r, int64_t id, const char *note);
/** Counts of sites and observations. */
int vg_register_counts(vg_register *r, int64_t *sites, int64_t *obs);

#ifdef __cplusplus
}
#endif
#endif
