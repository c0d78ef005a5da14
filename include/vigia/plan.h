/*
 * vigia — planning the surveillance flights: areas of interest, coverage
 * lanes for a fixed-wing drone with its sensor footprint and Dubins turns,
 * revisit schedules of sorties within endurance, and mission files
 * (QGroundControl .plan, QGC WPL 110, KML, GeoJSON).
 *
 * Geometry is worked in a local tangent plane (east x, north y, metres) at
 * an origin near the area (vg_plan_ltp). Headings are degrees clockwise from
 * north unless a name says _rad.
 */
#ifndef VIGIA_PLAN_H
#define VIGIA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits ------------------------------------------------------------------------------ */

/** Bytes of an areas file (GeoJSON, KML, GML) or mission file read at most. */
#define VG_PLAN_FILE_MAX (64u << 20)
/** Areas in one file, vertices in one ring, holes in one polygon, at most. */
#define VG_PLAN_AREAS_MAX 4096
#define VG_PLAN_RING_MAX 100000
#define VG_PLAN_HOLES_MAX 1024
/** Longest area name kept (bytes, without the NUL; longer ones are cut at a UTF-8 boundary). */
#define VG_PLAN_NAME_MAX 63
/** Mission items in one file at most (QGC itself has no limit; MAVLink's seq is uint16). */
#define VG_PLAN_ITEMS_MAX 65535
/** Standard gravity (m/s^2), for the turn radius. */
#define VG_PLAN_G 9.80665

/** Progress of a long plan or schedule: @p stage names it, @p done in 0..1. */
typedef void (*vg_plan_progress_fn)(void *ud, const char *stage, double done);

/* ---- points and the local tangent plane --------------------------------------------------- */

typedef struct vg_plan_ll {
  double lat, lon; /**< degrees, WGS84 */
} vg_plan_ll;

typedef struct vg_plan_pt {
  double x, y; /**< metres east and north of the plane's origin */
} vg_plan_pt;

/**
 * A local tangent plane at @p origin (height 0 on the ellipsoid): the East-North plane of
 * the NED frame there (lib/geo), so lengths and angles are true to within d^2/(2 R_e) of
 * curvature (0.8 m at 100 km). Forward: geodetic -> ECEF -> NED; inverse: the ray along
 * down from the plane point back to the ellipsoid.
 */
typedef struct vg_plan_ltp {
  vg_plan_ll origin;
  double m[9];      /**< NED basis (vg_geo_ned_basis) */
  double o_ecef[3]; /**< the origin in ECEF */
} vg_plan_ltp;

void vg_plan_ltp_init(vg_plan_ltp *t, vg_plan_ll origin);
vg_plan_pt vg_plan_ltp_fwd(const vg_plan_ltp *t, vg_plan_ll p);
vg_plan_ll vg_plan_ltp_inv(const vg_plan_ltp *t, vg_plan_pt p);

/* ---- areas (lib/plan/areas.c) ------------------------------------------------------------- */

typedef enum vg_plan_area_kind {
  VG_PLAN_AOI = 0, /**< to be covered */
  VG_PLAN_NOFLY    /**< never to be entered (the path keeps out of it) */
} vg_plan_area_kind;

/** A ring: vertices in order, open (the closing vertex is not repeated), at least 3. */
typedef struct vg_plan_ring {
  vg_plan_ll *v;
  size_t n;
} vg_plan_ring;

/** One polygon with what the analyst said about it. */
typedef struct vg_plan_area {
  char name[VG_PLAN_NAME_MAX + 1];
  vg_plan_area_kind kind;
  vg_plan_ring outer;
  vg_plan_ring *holes; /**< parts of the polygon not to cover (may be flown over) */
  size_t nholes;
  double priority;        /**< > 0; 1 when not given */
  double revisit_s;       /**< wanted revisit period; 0 when not given */
  int64_t last_visit_us;  /**< UNIX microseconds of the last coverage; VG_PLAN_NEVER when never */
} vg_plan_area;

#define VG_PLAN_NEVER INT64_MIN

typedef struct vg_plan_areas {
  vg_plan_area *a;
  size_t n;
} vg_plan_areas;

/**
 * Reads areas from GeoJSON (FeatureCollection, Feature, Polygon or MultiPolygon; a
 * MultiPolygon gives one area per polygon), KML 2.2 (every Placemark's Polygon, also inside
 * MultiGeometry) or GML 2/3 polygons (gml:Polygon with outerBoundaryIs/exterior rings of
 * gml:coordinates or gml:posList, as the GAOS parcel files), told apart by their content.
 * Properties (GeoJSON properties, KML ExtendedData Data/SimpleData, GML attributes):
 * `name`, `kind` ("aoi" or "nofly"), `priority`, `revisit_h`, `last_visit` (RFC 3339 UTC).
 * Heights are dropped. @p what names the input in errors. On failure *out is untouched.
 * @return VG_OK, VG_E_MALFORMED (what and where), VG_E_LIMIT, VG_E_UNSUPPORTED, VG_E_NOMEM.
 */
int vg_plan_areas_read(vg_plan_areas *out, const uint8_t *buf, size_t len, const char *what);
/** vg_plan_areas_read of a file (at most VG_PLAN_FILE_MAX bytes). */
int vg_plan_areas_load(vg_plan_areas *out, const char *path);
void vg_plan_areas_free(vg_plan_areas *a);

/* ---- sensor, aircraft and turns (lib/plan/coverage.c, lib/plan/dubins.c) ------------------ */

/** The imaging sensor, as fields of view and pointing. */
typedef struct vg_plan_sensor {
  double hfov_deg, vfov_deg; /**< full angles across and along the image */
  double depression_deg;     /**< boresight below the horizon: 90 = nadir */
  double azimuth_deg;        /**< boresight relative to the nose, clockwise: 0 ahead, 90 right */
  int video;                 /**< 1: continuous full-motion video; 0: a frame camera */
  double frame_rate_hz;      /**< video frames per second (default 30) */
  double side_overlap;       /**< between neighbouring lanes' usable swaths, 0 .. 0.9 */
  double front_overlap;      /**< frame camera: between consecutive frames, 0 .. 0.95 */
} vg_plan_sensor;

typedef struct vg_plan_aircraft {
  double alt_agl_m;     /**< flying height above the ground (flat ground assumed) */
  double airspeed_mps;  /**< true airspeed */
  double bank_deg;      /**< largest bank angle in turns */
  double wind_mps;      /**< steady wind speed */
  double wind_from_deg; /**< direction the wind blows from, clockwise from north */
} vg_plan_aircraft;

/** Turn radius over the ground: (V_a + W)^2 / (g tan(bank)), the widest turn in the wind. */
double vg_plan_turn_radius(const vg_plan_aircraft *a);

/** A pose in the plane: position and heading (radians, clockwise from north, as the track). */
typedef struct vg_plan_pose {
  double x, y, hdg;
} vg_plan_pose;

/** Dubins words. */
typedef enum vg_plan_dubins_word {
  VG_DUBINS_LSL = 0, VG_DUBINS_LSR, VG_DUBINS_RSL, VG_DUBINS_RSR, VG_DUBINS_RLR, VG_DUBINS_LRL
} vg_plan_dubins_word;

typedef struct vg_plan_dubins {
  vg_plan_pose a;
  double R;
  vg_plan_dubins_word word;
  double seg[3]; /**< lengths (m) of the three segments */
  double length; /**< their sum */
} vg_plan_dubins;

/** The shortest Dubins path (six words) from @p a to @p b with radius @p R > 0. */
int vg_plan_dubins_shortest(const vg_plan_pose *a, const vg_plan_pose *b, double R, vg_plan_dubins *out);
/** The Dubins path of word @p w from @p a to @p b. @return VG_OK, VG_E_NOTFOUND (the word
 *  cannot join them), VG_E_INVALID. */
int vg_plan_dubins_word_path(const vg_plan_pose *a, const vg_plan_pose *b, double R, vg_plan_dubins_word w,
                             vg_plan_dubins *out);
/** The pose at arc length @p s (0 .. length) along @p d. */
vg_plan_pose vg_plan_dubins_at(const vg_plan_dubins *d, double s);
/** Closed form of the U-turn between parallel lanes @p d apart flown in opposite directions:
 *  pi R + d - 2R for d >= 2R, else the bulb R (pi + 4 acos((d + 2R) / (4R))). */
double vg_plan_uturn_length(double d, double R);

/* ---- coverage plans (lib/plan/coverage.c) ------------------------------------------------- */

typedef struct vg_plan_opts {
  int version;
  vg_plan_sensor sensor;
  vg_plan_aircraft aircraft;
  double angle_deg;            /**< lane direction (deg from north, 0..180); NAN: chosen to minimise time */
  double angle_step_deg;       /**< search step for the angle (default 1) */
  const vg_plan_area *nofly;   /**< no-fly zones (kind ignored), may be NULL */
  size_t nnofly;
  double nofly_margin_m;       /**< extra standoff from no-fly zones beyond the turn radius */
  int has_base;                /**< take off from and return to @p base (else start at the first lane) */
  vg_plan_ll base;
  double coverage_cell_m;      /**< raster cell for the coverage figure (0: swath / 20, >= 0.25 m) */
  vg_plan_progress_fn progress;     /**< may be NULL */
  void *progress_ud;
} vg_plan_opts;

#define VG_PLAN_OPTS_VERSION 1

typedef enum vg_plan_wp_kind {
  VG_WP_LANE_START = 0, /**< straight imaging leg begins (camera on) */
  VG_WP_LANE_END,       /**< it ends */
  VG_WP_TRANSIT         /**< a turn point of a transit around no-fly zones, or the base */
} vg_plan_wp_kind;

typedef struct vg_plan_wp {
  vg_plan_ll ll;
  vg_plan_pt p;
  vg_plan_wp_kind kind;
  size_t lane;  /**< index of the lane (LANE_START/END) */
} vg_plan_wp;

typedef struct vg_plan_result {
  vg_plan_ltp ltp;          /**< the plane the figures are in */
  double angle_deg;         /**< lane direction chosen, deg from north (0..180) */
  double turn_radius_m;
  double crab_deg;          /**< heading minus track on the lanes */
  double swath_m;           /**< usable swath across the lanes (after crab) */
  double spacing_m;         /**< lane spacing: swath x (1 - side overlap) */
  double band_offset_m;     /**< centre of the swath relative to the track (oblique sensors) */
  size_t cells, lanes, turns;
  double lane_m, turn_m, transit_m, length_m; /**< path lengths */
  double time_s;            /**< length over ground speed along each piece */
  double area_m2;           /**< the AOI minus holes and no-fly zones */
  double lower_bound_m;     /**< area / swath + (lanes - 1) x the cheapest turn */
  double coverage;          /**< fraction of the area imaged (rasterised footprints along the lanes) */
  double overlap;           /**< mean times each imaged cell is seen, minus 1 */
  size_t nofly_hits;        /**< path samples inside a no-fly zone (0 when the plan respects them) */
  vg_plan_wp *wp;           /**< waypoints in flight order */
  size_t nwp;
  vg_plan_pt *path;         /**< the flown path sampled every few metres (lanes, Dubins turns, transits) */
  size_t npath;
} vg_plan_result;

/** Plans the coverage of @p aoi. @return VG_OK, VG_E_INVALID (a bad option, named), VG_E_NOMEM. */
int vg_plan_coverage(const vg_plan_area *aoi, const vg_plan_opts *o, vg_plan_result *out);
void vg_plan_result_free(vg_plan_result *r);

/**
 * A picture of the plan as PNG (cairo): the area (holes white), no-fly zones in red, the
 * imaging lanes, the flown path with its turns, the base; north up, a scale bar and the
 * figures in a caption. @p width in pixels (the height follows the area's shape).
 */
int vg_plan_draw_png(const char *path, const vg_plan_result *r, const vg_plan_area *aoi, const vg_plan_area *nofly,
                     size_t nnofly, int width);

/* ---- revisit schedules (lib/plan/schedule.c; model and statistics: docs/formats/schedule.md) --- */

/** Areas in one schedule at most (as many as one areas file holds). */
#define VG_SCHED_AREAS_MAX VG_PLAN_AREAS_MAX
/** Aircraft flying in parallel at most (a large squadron; the planner is linear in it). */
#define VG_SCHED_AIRCRAFT_MAX 64
/** Longest simulated span, days (a year, leap or not). */
#define VG_SCHED_DAYS_MAX 366.0
/** Sorties and visits in one result at most: a year of 100 areas covered hourly is 876,600 visits. */
#define VG_SCHED_SORTIES_MAX 1000000u
#define VG_SCHED_VISITS_MAX 1000000u

typedef struct vg_sched_area {
  char name[VG_PLAN_NAME_MAX + 1];
  vg_plan_ll entry;   /**< where its coverage starts and ends (its plan's first / last waypoint) */
  vg_plan_ll exit;
  double cover_s;     /**< flight time of one coverage (vg_plan_result.time_s), >= 0 */
  double priority;    /**< > 0 */
  double period_s;    /**< wanted revisit period (> 0) */
  double last_s;      /**< last coverage, seconds relative to the schedule's start (<= 0);
                           -INFINITY: never covered (due at once: treated as covered at -period_s,
                           its gaps counted from 0) */
} vg_sched_area;

typedef struct vg_sched_opts {
  int version;
  vg_plan_ll base;
  double speed_mps;       /**< transit ground speed, > 0 */
  double endurance_s;     /**< sortie endurance (launch to landing), reserve already taken off, > 0 */
  double turnaround_s;    /**< on the ground between two sorties of one aircraft, >= 0 */
  double days;            /**< simulated span, 0 < days <= VG_SCHED_DAYS_MAX; no sortie launches after it */
  double window_start_h;  /**< flying allowed from (hours of the day, UTC, 0 .. 24) ... */
  double window_end_h;    /**< ... to; a window past midnight wraps (22 to 4); equal hours, or 0 and 24:
                               any time. Every sortie, launch to landing, lies inside one opening. */
  double start_h;         /**< hour of the day (UTC) at the schedule's start, 0 <= start_h < 24 */
  size_t aircraft;        /**< aircraft flying sorties in parallel (0: 1), <= VG_SCHED_AIRCRAFT_MAX */
  vg_plan_progress_fn progress; /**< may be NULL; stage "schedule", at most once per simulated hour */
  void *progress_ud;
} vg_sched_opts;

#define VG_SCHED_OPTS_VERSION 1

/** One coverage of an area: it starts at the entry and ends (is "covered") at end_s. */
typedef struct vg_sched_visit {
  size_t area;
  double start_s, end_s;
} vg_sched_visit;

typedef struct vg_sched_sortie {
  size_t aircraft;
  double launch_s, land_s;
  double transit_s, cover_s; /**< land_s - launch_s = transit_s + cover_s (sum of its areas' cover_s) */
  size_t first, n;           /**< its visits: visit[first .. first + n), in flight order, n >= 1 */
} vg_sched_sortie;

typedef struct vg_sched_stats {
  size_t visits;
  double mean_gap_s, worst_gap_s; /**< between consecutive coverages (visit ends), the first counted from
                                       last_s (from 0 when never covered), plus the open gap from the
                                       last coverage to the span's end when it exceeds period_s;
                                       0 when there is no gap */
  size_t deadlines, missed;       /**< revisit deadlines falling in (0, span], and those passed uncovered
                                       (an uncovered area misses one deadline per period; a coverage at c
                                       sets the next deadline at c + period_s) */
  int feasible;                   /**< 0: no sortie can cover it (base -> area -> base > endurance or window) */
  char why[128];                  /**< when not feasible: the figures */
} vg_sched_stats;

typedef struct vg_sched_result {
  vg_sched_sortie *sortie; /**< by launch time (then aircraft) */
  size_t nsorties;
  vg_sched_visit *visit;   /**< sortie by sortie */
  size_t nvisits;
  vg_sched_stats *stats;   /**< one per area */
  size_t deadlines;        /**< total deadlines in the span, infeasible areas included */
  size_t missed;           /**< total deadlines missed, infeasible areas included */
  size_t infeasible;       /**< areas no sortie can cover */
  double span_s;           /**< days x 86400 */
  double flight_s;         /**< total time airborne, all aircraft */
  double load;             /**< lower bound of the flying time the feasible areas need over the flying
                                time the aircraft have: sum of (cover_s + cheapest leg into the entry) /
                                period_s, over aircraft x the airborne share that endurance, turnaround
                                and window allow. > 1: no schedule can keep every deadline */
} vg_sched_result;

/**
 * Schedules sorties over opts.days so that every feasible area is covered again before its
 * deadline (last coverage + period) as far as the heuristic can: each sortie a prize-collecting
 * orienteering tour (greedy insertion, 2-opt, Or-opt), each launch as late as keeps the deadlines
 * the launch can keep (docs/formats/schedule.md). Deterministic. On failure *out is untouched.
 * @return VG_OK, VG_E_INVALID (a bad option or area, named), VG_E_LIMIT (areas, aircraft, days,
 *         sorties or visits beyond their VG_SCHED_*_MAX), VG_E_NOMEM. *out belongs to the caller:
 *         vg_sched_result_free.
 */
int vg_sched_run(const vg_sched_area *a, size_t n, const vg_sched_opts *o, vg_sched_result *out);
/**
 * A timeline of a schedule as PNG (cairo): one row per area, each coverage a tick at its end,
 * gaps longer than the area's period and missed deadlines in red, infeasible areas greyed.
 */
int vg_sched_draw_png(const char *path, const vg_sched_area *a, size_t n, const vg_sched_result *r, int width);
/** Frees what vg_sched_run allocated and zeroes @p r (accepts NULL). */
void vg_sched_result_free(vg_sched_result *r);

/**
 * Improves the flight order of one sortie: the areas order[0 .. k) (distinct indices into @p a)
 * flown from o->base and back at o->speed_mps (of @p o only these and the version are read);
 * 2-opt and Or-opt moves, each kept only when it shortens the flight. @p before_s and @p after_s
 * (may be NULL) get the flight time (transit and coverage) of the order given and of the order
 * returned (never longer).
 * @return VG_OK or VG_E_INVALID (base, speed, an area or an index); order is untouched on failure.
 */
int vg_sched_order(const vg_sched_area *a, size_t n, const vg_sched_opts *o, size_t *order, size_t k,
                   double *before_s, double *after_s);

/* ---- missions (lib/plan/mission.c) --------------------------------------------------------- */
/* The mission file model (docs/formats/mission.md): QGroundControl .plan files (JSON) and
 * QGC WPL 110 text files read into one model and written back, KML 2.2 and GeoJSON views of a
 * mission, and the mission of a coverage plan. A .plan read and written back is the same JSON
 * (same members, numbers equal by value); a WPL file read and written back has the same rows,
 * field by field. */

/** MAVLink commands and frames the builder writes (MAVLink common.xml MAV_CMD, MAV_FRAME). */
#define VG_MAV_CMD_NAV_WAYPOINT 16
#define VG_MAV_CMD_NAV_RETURN_TO_LAUNCH 20
#define VG_MAV_CMD_NAV_TAKEOFF 22
#define VG_MAV_CMD_DO_SET_CAM_TRIGG_DIST 206
#define VG_MAV_FRAME_GLOBAL 0              /**< altitude above mean sea level */
#define VG_MAV_FRAME_MISSION 2             /**< not a position (DO_ commands) */
#define VG_MAV_FRAME_GLOBAL_RELATIVE_ALT 3 /**< altitude above home */
/** MAV_AUTOPILOT and MAV_TYPE values the builder and the WPL reader use. */
#define VG_MAV_AUTOPILOT_ARDUPILOTMEGA 3
#define VG_MAV_AUTOPILOT_PX4 12
#define VG_MAV_TYPE_FIXED_WING 1

/** JSON nesting of a .plan file at most: the depth the project's JSON writer (vg_jw) can write
 *  back. QGC's own files nest 8 deep (plan, mission, items, survey, transects, Items, item, params). */
#define VG_MISSION_DEPTH_MAX VG_JW_MAX_DEPTH
/** Bytes of one field of a WPL row at most (a double printed in full takes 24). */
#define VG_MISSION_WPL_FIELD_MAX 64

/**
 * One MAVLink mission item: a QGC `SimpleItem` or a WPL row. Numbers as in MISSION_ITEM:
 * param[4..6] are x (latitude, deg), y (longitude, deg) and z (altitude, m, in @p frame).
 */
typedef struct vg_mission_item {
  uint16_t command;     /**< MAV_CMD */
  uint8_t frame;        /**< MAV_FRAME */
  uint8_t current;      /**< WPL CURRENT column, 0 or 1 (not in a .plan: 0 when read from one, 1 for its home) */
  uint8_t autocontinue; /**< 0 or 1 */
  int32_t do_jump_id;   /**< .plan doJumpId (>= 0); -1: absent. A WPL row's is its INDEX */
  double param[7];      /**< param1..4, x, y, z; NAN for a .plan null */
  char *extra;          /**< .plan members not modelled (AMSLAltAboveTerrain, Altitude, AltitudeMode, ...) as one
                             compact JSON object text, keys sorted; owned (malloc); NULL when none */
} vg_mission_item;

/**
 * A QGC survey (`ComplexItem` of complexItemType "survey", versions 4 and 5) with its
 * TransectStyleComplexItem (versions 1 and 2) and CameraCalc. Items holds the MAVLink items QGC
 * expanded the survey to; they are flown as they are (QGC itself takes them as-is).
 */
typedef struct vg_mission_survey {
  int version;                 /**< 4 or 5 */
  vg_plan_ll *polygon;         /**< `polygon` ([lat, lon] each), open, >= 3 vertices; owned */
  size_t npolygon;
  double angle_deg;            /**< `angle`: lane direction, deg from north */
  int entry_location;          /**< `entryLocation` (>= 0; QGC uses 0..3, the corner the survey starts at) */
  int fly_alternate_transects; /**< `flyAlternateTransects` (0 or 1) */
  int split_concave;           /**< `splitConcavePolygons` (0 or 1): version 5 only, ignored for 4 */
  int ts_version;              /**< TransectStyleComplexItem `version`: 1 or 2 */
  double turnaround_m;         /**< `TurnAroundDistance` */
  int trigger_in_turnaround;   /**< `CameraTriggerInTurnAround` (0 or 1) */
  int hover_and_capture;       /**< `HoverAndCapture` (0 or 1) */
  int refly_90;                /**< `Refly90Degrees` (0 or 1) */
  int camera_shots;            /**< `CameraShots` (>= 0); -1: absent (optional in version 1) */
  vg_mission_item *items;      /**< `Items`, the expanded mission items; owned */
  size_t nitems;
  vg_plan_ll *transect;        /**< `VisualTransectPoints` ([lat, lon] each); owned */
  size_t ntransect;
  double footprint_side_m;     /**< CameraCalc `AdjustedFootprintSide`: the lane spacing */
  double footprint_front_m;    /**< CameraCalc `AdjustedFootprintFrontal`: the trigger distance */
  double distance_m;           /**< CameraCalc `DistanceToSurface`: the height flown */
  char *extra;                 /**< members of the complex item not modelled; as vg_mission_item.extra */
  char *ts_extra;              /**< of TransectStyleComplexItem (FollowTerrain, terrain tolerances, ...) */
  char *camera_extra;          /**< of CameraCalc (version, CameraName, DistanceToSurfaceRelative, specs, ...) */
} vg_mission_survey;

typedef enum vg_mission_kind {
  VG_MISSION_SIMPLE = 0, /**< a `SimpleItem` (every WPL row) */
  VG_MISSION_SURVEY      /**< a survey `ComplexItem` */
} vg_mission_kind;

/** One entry of the mission's `items`: a simple item or a survey. */
typedef struct vg_mission_entry {
  vg_mission_kind kind;
  vg_mission_item item;     /**< VG_MISSION_SIMPLE */
  vg_mission_survey survey; /**< VG_MISSION_SURVEY (all zero for a simple item) */
} vg_mission_entry;

/**
 * A mission. `home` is the .plan's plannedHomePosition (param[4..6]: lat, lon, altitude AMSL)
 * and the WPL's row 0, whole. A .plan's `fileType` ("Plan") and the two `version`s (1 and 2)
 * are implied. Every pointer is owned; vg_mission_free frees them.
 */
typedef struct vg_mission {
  int firmware_type;         /**< mission `firmwareType` (MAV_AUTOPILOT) */
  int vehicle_type;          /**< mission `vehicleType` (MAV_TYPE); -1: absent */
  double cruise_mps;         /**< mission `cruiseSpeed`; NAN: absent */
  double hover_mps;          /**< mission `hoverSpeed`; NAN: absent */
  vg_mission_item home;
  vg_mission_entry *entries; /**< mission `items` in order */
  size_t nentries;
  char *extra;               /**< members of the plan not modelled (groundStation, geoFence, rallyPoints, ...) */
  char *mission_extra;       /**< members of `mission` not modelled (globalPlanAltitudeMode, ...) */
} vg_mission;

/** An empty mission: no entries, firmware PX4, the optional members absent, home a waypoint at
 *  0, 0, 0 (frame 0, current 1). Allocates nothing. */
void vg_mission_init(vg_mission *m);
/** Frees what @p m owns and leaves it as vg_mission_init does. Accepts NULL. */
void vg_mission_free(vg_mission *m);
/** @return the MAVLink items of @p m after home: the simple entries and each survey's Items, in
 *  order (the rows of its WPL file after row 0). */
size_t vg_mission_count(const vg_mission *m);

/**
 * Reads a QGC .plan (JSON). Required, as QGC requires them: fileType "Plan", version 1,
 * mission{version 2, firmwareType, plannedHomePosition [lat, lon, alt], items[]}; each item's
 * type, command, frame, params (7 numbers or null), autoContinue; a survey's members listed in
 * vg_mission_survey. Other members are kept verbatim in the `extra` texts. At most
 * VG_PLAN_FILE_MAX bytes, VG_PLAN_ITEMS_MAX items (simple and expanded together) and
 * VG_MISSION_DEPTH_MAX levels of nesting. @p what names the input in errors (NULL: "mission"),
 * which also say where: "x.plan: mission.items[3].params[2]: not a number or null".
 * On failure *out is untouched.
 * @return VG_OK, VG_E_TRUNCATED (the JSON ends early), VG_E_MALFORMED, VG_E_LIMIT,
 *         VG_E_UNSUPPORTED (another complex item, survey version or file version), VG_E_NOMEM.
 */
int vg_mission_read_plan(vg_mission *out, const uint8_t *buf, size_t len, const char *what);

/**
 * Reads a QGC WPL 110 file: the header line "QGC WPL 110", then one row per item, fields
 * separated by tabs (or spaces): INDEX CURRENT FRAME COMMAND P1 P2 P3 P4 LAT LON ALT
 * AUTOCONTINUE. Row 0 is home. INDEX must count 0, 1, 2, ...; CURRENT and AUTOCONTINUE are 0 or
 * 1; numbers are decimal (an exponent allowed) or "nan", at most VG_MISSION_WPL_FIELD_MAX bytes.
 * CRLF line ends, trailing white space, blank lines and a missing final newline are accepted.
 * Each row becomes a simple entry whose doJumpId is its INDEX. So that the mission can be written
 * as a .plan QGC loads, it gets firmwareType ArduPilot (WPL is its format) and the plan members
 * groundStation "vigia" and an empty geoFence and rallyPoints. Errors name the line.
 * On failure *out is untouched.
 * @return VG_OK, VG_E_MALFORMED, VG_E_UNSUPPORTED (another WPL version), VG_E_LIMIT, VG_E_NOMEM.
 */
int vg_mission_read_wpl(vg_mission *out, const uint8_t *buf, size_t len, const char *what);

/** Reads either format, told apart by the content ("QGC WPL" or a JSON object). */
int vg_mission_read(vg_mission *out, const uint8_t *buf, size_t len, const char *what);
/** vg_mission_read of a file (at most VG_PLAN_FILE_MAX bytes). @return also VG_E_IO. */
int vg_mission_load(vg_mission *out, const char *path);

/**
 * Appends @p m as a .plan (JSON, two-space indent, keys sorted as QGC sorts them) to @p out.
 * Modelled members are written with the kept ones merged in; NaN params as null.
 * @return VG_OK, VG_E_INVALID (a kept text that is not a JSON object or repeats a modelled
 *         member; a non-finite number where JSON needs one; a survey without 3 vertices),
 *         VG_E_LIMIT (@p out's maximum), VG_E_NOMEM.
 */
int vg_mission_write_plan(const vg_mission *m, vg_buf *out);

/**
 * Appends @p m as QGC WPL 110 to @p out: the header, home as row 0, then the items of
 * vg_mission_count in order (a survey's Items in its place: this is the .plan -> WPL
 * conversion), a line feed after every line. Latitude and longitude with the fewest decimals, at least
 * 7, that read back to the same double ("%.7f" .. "%.17f"); the other numbers with the fewest
 * significant digits that read back the same ("%.15g" .. "%.17g", then trailing zeros cut: 15,
 * 0.5, 1e-07); NaN as "nan". What a WPL row has no place for (doJumpId, kept members) is left out.
 * @return VG_OK, VG_E_INVALID (an infinite number), VG_E_LIMIT, VG_E_NOMEM.
 */
int vg_mission_write_wpl(const vg_mission *m, vg_buf *out);

/**
 * Appends @p m as a KML 2.2 document to @p out: a Placemark for home, a LineString of the
 * positioned items (navigation commands with a global frame and a latitude and longitude, not
 * both 0) in flight order, a Placemark for each of them (name its WPL index; ExtendedData seq,
 * command, frame) and each survey's polygon. Altitudes: relativeToGround when every positioned
 * item's frame is relative (3, 6, 10, 11); otherwise absolute, relative altitudes lifted by
 * home's. @p name (NULL: "vigia mission") is escaped as XML text.
 * @return VG_OK, VG_E_LIMIT, VG_E_NOMEM.
 */
int vg_mission_write_kml(const vg_mission *m, const char *name, vg_buf *out);

/**
 * Appends @p m as a GeoJSON FeatureCollection (RFC 7946) to @p out: a LineString Feature of the
 * positioned items' path (as for KML; when there are 2 or more), Point Features for home and
 * each positioned item (properties kind "home" or "waypoint", seq = WPL index, command, frame,
 * alt, and the frame's altitude reference) and each survey's polygon as a Polygon Feature
 * (closed ring, counter-clockwise). Positions are [lon, lat]: the altitudes are not heights
 * above the ellipsoid, so they stay in the properties.
 * @return VG_OK, VG_E_LIMIT, VG_E_NOMEM.
 */
int vg_mission_write_geojson(const vg_mission *m, vg_buf *out);

/** Options of vg_mission_from_plan. */
typedef struct vg_mission_build_opts {
  int version;                  /**< VG_MISSION_BUILD_OPTS_VERSION (another value is refused) */
  const vg_plan_sensor *sensor; /**< a frame camera (video 0) gets trigger items; NULL or video: none */
  double trigger_dist_m;        /**< frame camera: metres between exposures; 0: the nadir footprint along
                                     the track, 2 H tan(vfov / 2), x (1 - front_overlap) */
  int has_base;                 /**< home at @p base; else at the plan's first waypoint */
  vg_plan_ll base;
  double home_amsl_m;           /**< home's altitude above mean sea level (plannedHomePosition) */
  double takeoff_alt_m;         /**< takeoff altitude above home; 0: the survey's */
  double takeoff_pitch_deg;     /**< takeoff param1, the fixed wing's minimum climb pitch */
  int firmware_type;            /**< MAV_AUTOPILOT written as firmwareType */
  int vehicle_type;             /**< MAV_TYPE written as vehicleType */
} vg_mission_build_opts;

#define VG_MISSION_BUILD_OPTS_VERSION 1
#define VG_MISSION_BUILD_OPTS_INIT                                                                          \
  { VG_MISSION_BUILD_OPTS_VERSION, NULL, 0, 0, {0, 0}, 0, 0, 15, VG_MAV_AUTOPILOT_PX4, VG_MAV_TYPE_FIXED_WING }

/**
 * The mission flying coverage plan @p r of @p aoi: home (opts base or the plan's first
 * waypoint), a takeoff (22, frame 3, to the takeoff altitude above home), one survey whose
 * polygon is @p aoi's outer ring and angle r->angle_deg, and a return to launch (20). The
 * survey's Items are, for each of r's waypoints in order, a waypoint (16, frame 3, at
 * @p alt_agl_m above home), followed for a frame camera by a camera trigger distance (206) set to
 * the trigger distance after each lane start and to 0 after each lane end; its
 * VisualTransectPoints are the lane starts and ends; its CameraCalc is QGC's manual camera with
 * the lane spacing and trigger distance. Leading and trailing transit waypoints within 1 m of
 * home are left out (the takeoff and the return fly them). doJumpId counts 1, 2, ... in flight
 * order. The plan gets cruiseSpeed @p cruise_mps, groundStation "vigia", an empty geoFence and
 * rallyPoints. @p o may be NULL (VG_MISSION_BUILD_OPTS_INIT). On failure *out is untouched.
 * @return VG_OK, VG_E_INVALID (named), VG_E_LIMIT (more than VG_PLAN_ITEMS_MAX items), VG_E_NOMEM.
 */
int vg_mission_from_plan(const vg_plan_result *r, const vg_plan_area *aoi, double alt_agl_m, double cruise_mps,
                         const vg_mission_build_opts *o, vg_mission *out);

#ifdef __cplusplus
}
#endif

#endif
