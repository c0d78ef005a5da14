/*
 * vigia — the simulator and its score: a surveillance flight over hidden
 * sites rendered from a scenario file (terrain, land cover from real library
 * spectra, sites and distractors, passes with pose noise, attitude bias and
 * metadata latency) into what the sensors would have recorded, with the truth
 * beside it; and the score of a register against that truth.
 */
#ifndef VIGIA_SIM_H
#define VIGIA_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/sites.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the scenario (lib/sim/scenario.c; docs/formats/scenario.md) ------------------------ */

#define VG_SIM_MAX_PASSES 8
/** Largest cube a scenario may ask for (values; float32, so 1 GB). */
#define VG_SIM_MAX_CUBE_VALUES 250000000.0

/** One pass: when it flew and what its sensors got wrong. */
typedef struct vg_sim_pass {
  double day;             /**< days after the scenario's start date */
  double hour;            /**< local solar hour of the pass (sun and heat) */
  double heading_deg;     /**< direction of the first survey leg (deg from north) */
  double att_bias_deg[3]; /**< heading, pitch, roll bias of the reported platform attitude */
  double latency_s;       /**< the KLV pose is this old when its frame is taken */
} vg_sim_pass;

typedef struct vg_sim_scenario {
  char name[64];
  uint64_t seed;
  double lat0, lon0;      /**< scene centre */
  int64_t start_us;       /**< UNIX microseconds of day 0, 00:00 local solar time */
  double size_m;          /**< the scene square's side */
  double gsd_m;           /**< ground sample of the cube and thermal rasters */
  char dem[512];          /**< a DEM file (MSL) to take the terrain from; "" = generated relief */
  double base_msl_m, relief_m; /**< generated relief: base height and hill amplitude */
  int bands;              /**< spectral bands over the atmospheric windows 0.45-2.35 um */
  double snr;             /**< cube noise: mean signal / noise */
  double netd_k;          /**< thermal noise (K) */
  double georeg_m;        /**< one-sigma georegistration error of each raster, per axis */
  int sites, sites_new;   /**< hidden sites; of them, appearing (with a clearing) in a later pass */
  int new_from_pass;      /**< the 1-based pass the new sites appear in */
  double canopy_min, canopy_max; /**< share of a tarp hidden under foliage */
  double warm_min_k, warm_max_k; /**< a site's heat over its surroundings */
  int vehicles, roofs, rocks, warm_rocks; /**< distractors */
  /* the video */
  double alt_agl_m, speed_mps, depression_deg, hfov_deg;
  int width, height, fps;
  double leg_sep_m;       /**< distance between the two survey legs */
  double pos_noise_m, att_noise_deg; /**< per-frame noise of the reported pose */
  char classification[64]; /**< ST 0102 marking of the video, e.g. "UNCLASSIFIED" */
  char releasable[64];     /**< ST 0102 releasing instructions, e.g. "USA MEX" */
  int npasses;
  vg_sim_pass pass[VG_SIM_MAX_PASSES];
} vg_sim_scenario;

/** The default scenario: three passes over ten hidden sites in scrubland hills. */
void vg_sim_scenario_default(vg_sim_scenario *s);
/**
 * Reads a scenario file: every member optional (the default's value), unknown
 * members refused, ranges checked; errors name the file and the member.
 */
int vg_sim_scenario_read(const char *path, vg_sim_scenario *out);
/** The same from @p len bytes in memory; @p name stands for the file in messages. */
int vg_sim_scenario_parse(const char *text, size_t len, const char *name, vg_sim_scenario *out);
/** The scenario as JSON (every member), as written beside the outputs. */
int vg_sim_scenario_json(const vg_sim_scenario *s, vg_buf *out);

/* ---- the simulation (lib/sim/scene.c, video.c, simulate.c) ------------------------------- */

/** Progress: @p stage ("scene", "cube", "thermal", "video"), pass (1-based, 0 none), done in [0, 1]. */
typedef void (*vg_sim_progress_fn)(void *ud, const char *stage, int pass, double done);

/**
 * Renders the scenario into @p out_dir (created): scenario.json, dem.tif
 * (MSL), truth.geojson, and per pass passN/cube.tif (reflectance, ENVI
 * wavelengths), passN/thermal.tif (deg C) and passN/video.ts (MPEG-2 with
 * ST 0601 + ST 0102 KLV). @p data_dir holds spectra/ (the USGS library).
 * The same scenario gives the same bytes.
 */
int vg_sim_run(const vg_sim_scenario *s, const char *data_dir, const char *out_dir,
               vg_sim_progress_fn fn, void *ud);

/* ---- the score (lib/sim/score.c) --------------------------------------------------------- */

/*
 * truth.geojson (docs/formats/scenario.md): a FeatureCollection of Points
 * [lon, lat] or [lon, lat, h], each with properties "id" (string), "role"
 * ("site" or "distractor"), "type" (e.g. "tarp", "vehicle") and optionally
 * "pass" (the 1-based pass a moving object was at this place in).
 */
typedef struct vg_truth_item {
  char id[64];
  char role[16];  /**< "site", "distractor" */
  char type[32];
  int pass;       /**< 0: every pass */
  double lat, lon;
} vg_truth_item;

/** Reads a truth file. *out malloc'd (free()). Errors name the file and the feature. */
int vg_truth_read(const char *path, vg_truth_item **out, size_t *n);
/** The same from @p len bytes in memory; @p name stands for the file in messages. */
int vg_truth_parse(const char *text, size_t len, const char *name, vg_truth_item **out, size_t *n);

typedef struct vg_score_opts {
  int version;           /**< VG_SCORE_OPTS_VERSION */
  double tolerance_m;    /**< a register site within this of a truth site finds it (default 25) */
  int any_state;         /**< 0: confirmed sites only (default); 1: candidates too (never dismissed) */
  double margin_m;       /**< register sites farther than this from every truth item are outside
                              the scene and not scored (default 500) */
} vg_score_opts;
#define VG_SCORE_OPTS_VERSION 1
#define VG_SCORE_OPTS_INIT {VG_SCORE_OPTS_VERSION, 25.0, 0, 500.0}

/** One register site scored, or one truth site missed (site_id 0). */
typedef struct vg_score_row {
  int64_t site_id;       /**< 0: a truth site nobody found */
  vg_site_state state;
  double p;              /**< the site's probability */
  int truth;             /**< index into the truth, -1: matches no truth site */
  int distractor;        /**< index of the nearest distractor within tolerance, -1 */
  double error_m;        /**< distance to the matched truth site (NAN when unmatched) */
  double ce50_m, ce90_m; /**< stated by the site's covariance */
} vg_score_row;

typedef struct vg_score {
  size_t truth_sites;    /**< role "site" */
  size_t scored;         /**< register sites scored (state and margin) */
  size_t found;          /**< truth sites matched (one register site each, nearest first) */
  size_t false_pos;      /**< scored sites matching no truth site (duplicates included) */
  size_t on_distractor;  /**< of those, within tolerance of a distractor */
  double recall, precision;
  double err_median_m, err_p90_m, err_max_m;
  double ce50_median_m;  /**< median stated CE50 of the matched sites */
  double err_over_ce50;  /**< err_median_m / ce50_median_m */
  double within_ce90;    /**< share of matched sites whose error is within their CE90 */
  vg_score_row *rows;    /**< scored sites, then the missed truth sites; malloc'd */
  size_t nrows;
} vg_score;

/**
 * Scores the register's sites near the truth: one-to-one matching of scored
 * sites to truth sites by distance (nearest pairs first, within tolerance),
 * recall = found / truth_sites, precision = found / scored, the location
 * error distribution, and how the stated uncertainty matches the real error.
 */
int vg_score_register(vg_register *reg, const vg_truth_item *truth, size_t n, const vg_score_opts *o,
                      vg_score *out);
void vg_score_free(vg_score *s);

#ifdef __cplusplus
}
#endif
#endif
