/*
 * geocheck's diagnosis against a simulated encoder: a flight whose KLV frame
 * centre and corners are written by the sensor model itself, with one known
 * mistake at a time (an azimuth bias, the UTM convergence, a delay, a wrong
 * ground height, an elevation bias). The check must name that mistake, give
 * its size, and find the residual gone once it is removed; a clean encoder
 * must give no finding at all.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "vigia/geo.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

int test_geo_check_run(void); /* called by test_geo.c's main */

#define NPKT 600    /* 20 s at 30 Hz */
#define GROUND_H 100.0

typedef struct enc {
  double lat0, lon0;      /* start of the track */
  double az_bias, el_bias, delay_s, dh;
} enc;

/* The true view at time t: flying east at 40 m/s, 1500 m HAE, the gimbal
 * sweeping in azimuth (up to 6 deg/s) and nodding in elevation. */
static void true_view(const enc *e, double t, vg_geo_view *v)
{
  memset(v, 0, sizeof *v);
  v->pos.lat = e->lat0;
  v->pos.lon = e->lon0 + 40.0 * t / (111320.0 * cos(e->lat0 * M_PI / 180));
  v->pos.h = 1500.0;
  v->absolute = 1;
  v->abs_az = 20.0 + 15.0 * sin(0.4 * t);
  v->abs_el = -40.0 + 5.0 * sin(0.3 * t);
  v->abs_roll = 0.0;
  v->hfov = 4.0;
  v->vfov = 3.0;
  v->width = 1280;
  v->height = 960;
}

/* One KLV packet as the encoder writes it at time t. */
static void encode(const enc *e, double t, vg_klv_pose *p)
{
  vg_geo_view tv, fv; /* pose sent, footprint computed from */
  vg_geo_camera cam;
  vg_geo_ground g = {NULL, GROUND_H + e->dh};
  vg_geo_llh hit;
  static const double cu[4] = {0, 1280, 1280, 0}, cv[4] = {0, 0, 960, 960};

  true_view(e, t, &tv);
  true_view(e, t - e->delay_s, &fv);
  fv.abs_az += e->az_bias;
  fv.abs_el += e->el_bias;
  memset(p, 0, sizeof *p);
  p->source = VG_KLV_KIND_EG0104;
  p->time_us = 1700000000000000ull + (uint64_t)llround(t * 1e6);
  p->sensor_lat = tv.pos.lat;
  p->sensor_lon = tv.pos.lon;
  p->sensor_alt_hae = tv.pos.h;
  p->sensor_abs_az = tv.abs_az;
  p->sensor_abs_el = tv.abs_el;
  p->sensor_abs_roll = tv.abs_roll;
  p->hfov = tv.hfov;
  p->vfov = tv.vfov;
  p->frame_center_hae = GROUND_H; /* what the encoder says the ground is */
  assert_int_equal(vg_geo_camera_init(&cam, &fv), VG_OK);
  assert_int_equal(vg_geo_camera_ground(&cam, &g, 640, 480, &hit, NULL), VG_OK);
  p->frame_center_lat = hit.lat;
  p->frame_center_lon = hit.lon;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(vg_geo_camera_ground(&cam, &g, cu[i], cv[i], &hit, NULL), VG_OK);
    p->corner_lat[i] = hit.lat;
    p->corner_lon[i] = hit.lon;
  }
  p->corners_full = 1;
  p->present = 1u << VG_POSE_TIME | 1u << VG_POSE_SENSOR_LAT | 1u << VG_POSE_SENSOR_LON |
               1u << VG_POSE_SENSOR_ALT_HAE | 1u << VG_POSE_HFOV | 1u << VG_POSE_VFOV |
               1u << VG_POSE_SENSOR_ABS_AZ | 1u << VG_POSE_SENSOR_ABS_EL |
               1u << VG_POSE_SENSOR_ABS_ROLL | 1u << VG_POSE_FRAME_CENTER_LAT |
               1u << VG_POSE_FRAME_CENTER_LON | 1u << VG_POSE_FRAME_CENTER_HAE |
               1u << VG_POSE_CORNERS;
}

static void run(const enc *e, vg_geo_check_result *r)
{
  vg_geo_check *c = NULL;
  vg_geo_check_opts o;
  memset(&o, 0, sizeof o);
  o.ground_from_klv = 1;
  assert_int_equal(vg_geo_check_new(&c, &o), VG_OK);
  for (int i = 0; i < NPKT; i++) {
    vg_klv_pose p;
    encode(e, i / 30.0, &p);
    assert_int_equal(vg_geo_check_add(c, &p), VG_OK);
  }
  assert_int_equal(vg_geo_check_result_get(c, r), VG_OK);
  assert_int_equal(r->n, NPKT);
  vg_geo_check_free(c);
}

/* On a central meridian (9E, zone 32) the convergence is ~0. */
static const enc k_clean = {45.0, 9.0, 0, 0, 0, 0};

static void clean_encoder_no_finding(void **state)
{
  vg_geo_check_result r;
  (void)state;
  run(&k_clean, &r);
  assert_int_equal(r.nfind, 0);
  assert_true(r.centre_med_m < 0.01);
  assert_true(r.corner_med_m < 0.01);
  assert_true(fabs(r.az_bias) < 1e-4 && fabs(r.el_bias) < 1e-4 && fabs(r.dh_m) < 0.01);
}

static void azimuth_bias_not_convergence(void **state)
{
  enc e = k_clean;
  vg_geo_check_result r;
  (void)state;
  e.az_bias = 0.7;
  run(&e, &r);
  assert_int_equal(r.nfind, 1);
  assert_int_equal(r.find[0], VG_GEO_FIND_AZ_BIAS);
  assert_true(fabs(r.find_value[0] - 0.7) < 0.01);
  assert_non_null(strstr(r.find_cause[0], "not the UTM convergence"));
  assert_true(r.centre_med_m > 10.0);
  assert_true(r.corrected_centre_med_m < 0.2);
}

static void azimuth_bias_grid_north(void **state)
{
  enc e = {38.16, -77.36, 0, 0, 0, 0};
  vg_geo_check_result r;
  int zone;
  double g = vg_geo_utm_convergence(38.18, -77.36, 0, &zone);
  (void)state;
  assert_int_equal(zone, 18);
  /* transverse Mercator: gamma = atan(tan(lon - lon0) sin(lat)), to 0.01 deg */
  assert_true(fabs(g - atan(tan((-77.36 + 75.0) * M_PI / 180) * sin(38.18 * M_PI / 180)) * 180 / M_PI) < 0.01);
  e.az_bias = g;
  run(&e, &r);
  assert_int_equal(r.nfind, 1);
  assert_int_equal(r.find[0], VG_GEO_FIND_AZ_BIAS);
  assert_true(fabs(r.find_value[0] - g) < 0.01);
  assert_non_null(strstr(r.find_cause[0], "grid north"));
  assert_int_equal(r.utm_zone, 18);
  assert_true(r.corrected_centre_med_m < 0.3);
}

static void delay_is_a_timing_offset(void **state)
{
  enc e = k_clean;
  vg_geo_check_result r;
  (void)state;
  e.delay_s = 0.2;
  run(&e, &r);
  assert_true(r.nfind >= 1);
  assert_int_equal(r.find[r.nfind - 1], VG_GEO_FIND_TIMING);
  assert_true(fabs(r.find_value[r.nfind - 1] - 0.2) < 0.02);
  assert_true(r.timing_r2 > 0.9);
  assert_true(r.corrected_centre_med_m < 0.25 * r.centre_med_m);
}

static void wrong_ground_height(void **state)
{
  enc e = k_clean;
  vg_geo_check_result r;
  (void)state;
  e.dh = 25.0;
  run(&e, &r);
  assert_int_equal(r.nfind, 1);
  assert_int_equal(r.find[0], VG_GEO_FIND_HEIGHT);
  assert_true(fabs(r.find_value[0] - 25.0) < 0.5);
  assert_non_null(strstr(r.find_cause[0], "not the geoid"));
  assert_true(r.corrected_centre_med_m < 0.2);
}

static void elevation_bias(void **state)
{
  enc e = k_clean;
  vg_geo_check_result r;
  (void)state;
  e.el_bias = 0.5;
  run(&e, &r);
  /* an elevation bias moves the point along the look like a height change,
   * but by an amount that varies with the depression: it is named as such */
  assert_int_equal(r.nfind, 1);
  assert_int_equal(r.find[0], VG_GEO_FIND_EL_BIAS);
  assert_true(fabs(r.find_value[0] - 0.5) < 0.02);
  assert_true(r.corrected_centre_med_m < 0.5);
}

int test_geo_check_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(clean_encoder_no_finding),  cmocka_unit_test(azimuth_bias_not_convergence),
    cmocka_unit_test(azimuth_bias_grid_north),   cmocka_unit_test(delay_is_a_timing_offset),
    cmocka_unit_test(wrong_ground_height),       cmocka_unit_test(elevation_bias),
  };
  return cmocka_run_group_tests_name("geo.check", tests, NULL, NULL);
}
