/*
 * Internals of lib/sim: the world (terrain, land cover, objects) as functions
 * of the local east/north position, shared by the raster renderers (scene.c)
 * and the video renderer (video.c).
 *
 * Frame: a local plane at the scene centre, e east and n north in metres,
 * mapped to latitude/longitude exactly as vg_fuse_en maps back
 * (lat = lat0 + n / R, lon = lon0 + e / (R cos lat0), R = 6371008.8 m), so
 * truth, rasters and video agree to the millimetre.
 */
#ifndef VG_SIM_INT_H
#define VG_SIM_INT_H

#include "vigia/detect.h"
#include "vigia/geo.h"
#include "vigia/sim.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define SIM_R_EARTH 6371008.8
#define SIM_DEG (3.14159265358979323846 / 180.0)

/* ---- deterministic randomness --------------------------------------------------------- */

typedef struct {
  uint64_t s;
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_u64(sim_rng *r);
double sim_rng_uniform(sim_rng *r);               /* [0, 1) */
double sim_rng_range(sim_rng *r, double a, double b);
double sim_rng_normal(sim_rng *r);                /* N(0, 1) */
/* Value noise in [0, 1] on a lattice of @p scale metres, @p oct octaves. */
double sim_fbm(uint64_t seed, double e, double n, double scale, int oct);
/* A normal deviate that is a pure function of (seed, a, b, c): pixel noise independent of order. */
double sim_hash_normal(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* ---- materials ------------------------------------------------------------------------ */

/* Endmembers of the land cover and the objects, from the USGS library. */
enum {
  M_OAK, M_MANZANITA, M_CHAMISE, M_GRASS_DRY, M_RANGELAND, M_SOIL, M_SOIL_RED, M_LIMESTONE,
  M_RHYOLITE, M_TUFF, M_SAND, M_BASALT,
  M_TARP_BLUE, M_TARP_GREEN, M_HDPE_BLACK, M_HDPE_WHITE, M_VISQUEEN, M_HDPE_BLUEGREEN,
  M_GALVANIZED, M_SHINGLE, M_FIBERGLASS, M_PAINTED_AL, M_TIN_RUST,
  M__COUNT
};
#define M_FIRST_TARP M_TARP_BLUE
#define M_NTARPS 6

/* Where the video's RGB bands sit (um). */
#define SIM_RGB_R 0.645
#define SIM_RGB_G 0.555
#define SIM_RGB_B 0.465

typedef enum { O_SITE, O_VEHICLE, O_ROOF, O_ROCK, O_WARM_ROCK } sim_otype;

typedef struct {
  sim_otype t;
  char id[32];
  int material;
  double e, n;          /* centre (m) */
  double a, b, ang;     /* half length, half width (m), angle of the length from east (rad) */
  double canopy;        /* sites: share hidden under foliage */
  double warm_k;        /* sites: heat of the lab; vehicles: engine */
  int from_pass;        /* 1-based: present from this pass on (sites appearing later) */
  int only_pass;        /* vehicles: present in this pass only (0: every pass) */
  double clear_r;       /* sites appearing later: radius of the fresh clearing (m) */
  double facing;        /* warm rock faces: how squarely the face meets the noon sun (0..1) */
} sim_obj;

typedef struct sim_world {
  const vg_sim_scenario *sc;
  int bands;
  double wl[256];                 /* band centres (um) */
  float spec[M__COUNT][256];      /* endmembers resampled to the bands */
  float rgb[M__COUNT][3];         /* and to R, G, B */
  /* terrain: generated hills, or a DEM (heights MSL) */
  int nhills;
  double hill[24][4];             /* e, n, sigma, height */
  const vg_geo_dem *dem_file;     /* borrowed, HAE */
  const vg_geo_geoid *geoid;      /* borrowed */
  double road_a, road_w, road_n0; /* the dirt road: n = n0 + a sin(e / w) */
  sim_obj *obj;
  size_t nobj;
  /* the terrain and the land-cover fields sampled on a grid of FIELD_STEP metres over the
   * world square (bilinear between), computed once: height, vegetation, rock, mixing */
  int nf;                         /* samples per side */
  float *fld[4];
  /* objects binned on a grid of OBJ_CELL metres over the world square */
  double half_world;              /* the world is [-half_world, half_world]^2 */
  int ncell;
  int32_t *cell_head, *cell_next; /* chains of object indices (an object in every cell it touches) */
  int32_t *cell_obj;
  size_t ncell_links;
} sim_world;

#define OBJ_CELL 25.0
#define FIELD_STEP 2.5
enum { F_HEIGHT, F_VEG, F_ROCK, F_MIX };

/* The library file of material m (relative to spectra/usgs). */
const char *sim_material_file(int m);

/* The world of a scenario; @p dem (HAE, with its @p geoid; both borrowed, may be NULL)
 * gives the terrain instead of generated relief. */
int sim_world_new(sim_world **out, const vg_sim_scenario *sc, const char *data_dir, const vg_geo_dem *dem,
                  const vg_geo_geoid *geoid);
void sim_world_free(sim_world *w);

/* Terrain height (MSL, m) at (e, n). */
double sim_height(const sim_world *w, double e, double n);
/* Unit normal (east, north, up) of the terrain. */
void sim_normal(const sim_world *w, double e, double n, double nrm[3]);
/* Sun direction (east, north, up) at a local solar hour, and the heating factor 0..1. */
void sim_sun(double hour, double sun[3], double *heat);

/*
 * What the ground is at (e, n) during pass p (1-based): up to SIM_MIX
 * endmembers and their weights (summing to 1), and the kelvin added by heat
 * sources (sites, engines) and by the sun on roofs and rock faces.
 */
#define SIM_MIX 6
typedef struct {
  int m[SIM_MIX];
  float w[SIM_MIX];
  int n;
  double dT;          /* heat of objects (K) */
  int cover;          /* background class: 0 canopy, 1 shrub, 2 grass, 3 soil, 4 rock, 5 road */
  double sun_k;       /* solar heating (K at full sun on a surface facing it); NAN: the class's */
} sim_sample;

void sim_sample_at(const sim_world *w, double e, double n, int pass, double hour, sim_sample *s);
/* Whether an object may touch the square of half side r around (e, n). */
int sim_objects_near(const sim_world *w, double e, double n, double r);

/* (e, n) <-> (lat, lon) */
void sim_en_to_ll(const vg_sim_scenario *sc, double e, double n, double *lat, double *lon);
void sim_ll_to_en(const vg_sim_scenario *sc, double lat, double lon, double *e, double *n);

/* Background surface temperature (deg C) at (e, n) for a pass (no objects, no noise). */
double sim_surface_temp(const sim_world *w, const sim_sample *s, double e, double n, double hour);

/* ---- video ----------------------------------------------------------------------------- */

/* UNIX microseconds of pass p's local solar hour (1-based p). */
int64_t sim_pass_time_us(const vg_sim_scenario *sc, int p);

/* Renders pass p's video into @p path with its KLV. */
int sim_video(const sim_world *w, int p, const vg_geo_dem *dem, const char *path,
              vg_sim_progress_fn fn, void *ud);

#endif
