/*
 * Fusion math against hand-computed cases: two observations with known
 * covariances (position and covariance after inverse-covariance weighting),
 * the Mahalanobis gate at its boundary, correlated covariances, confidence up
 * with evidence and agreement and down with coverage, the state machine, the
 * covariance floor, heights, and the antimeridian.
 *
 * Evidence per pass (fuse.c): a kind counts once per flight, a flight's
 * coverage misses once and a later detection in it takes the miss back, and
 * detectors on the same image (flight, frame) fuse its position once.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "vigia/sites.h"

static vg_obs obs_at(double lat, double lon, double cee, double cen, double cnn, vg_evidence k)
{
  vg_obs o;
  memset(&o, 0, sizeof o);
  strcpy(o.flight, "f1");
  strcpy(o.detector, "test");
  o.kind = k;
  o.lat = lat;
  o.lon = lon;
  o.hae = 100;
  o.cov_en[0] = cee;
  o.cov_en[1] = o.cov_en[2] = cen;
  o.cov_en[3] = cnn;
  o.sigma_up = 4;
  o.time_us = 1700000000000000;
  return o;
}

/* The same, in flight @p flight, frame @p frame. */
static vg_obs obs_in(const char *flight, int64_t frame, double lat, double lon, double cee, double cnn,
                     vg_evidence k)
{
  vg_obs o = obs_at(lat, lon, cee, 0, cnn, k);
  snprintf(o.flight, sizeof o.flight, "%s", flight);
  o.frame = frame;
  return o;
}

/* (lat, lon) moved by (east, north) metres on the tangent plane used by vg_fuse_en */
static void moved(double lat, double lon, double e, double n, double *la, double *lo)
{
  const double R = 6371008.8, D = 3.14159265358979323846 / 180.0;
  *la = lat + n / (R * D);
  *lo = lon + e / (R * D * cos(lat * D));
}

static void two_observations(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs a = obs_at(10.0, 20.0, 100, 0, 400, VG_EVID_THERMAL), b;
  double la, lo, en[2];
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &a, &p);
  assert_true(s.lat == 10.0 && s.lon == 20.0 && s.cov_en[0] == 100 && s.cov_en[3] == 400);
  /* the second one 10 m east and 20 m north, sigma 10 m each way:
   * S = diag(200, 500), K = P S^-1 = diag(0.5, 0.8): moves (5, 16) m;
   * P' = diag((1/100 + 1/100)^-1, (1/400 + 1/100)^-1) = diag(50, 80) */
  moved(10.0, 20.0, 10, 20, &la, &lo);
  b = obs_at(la, lo, 100, 0, 100, VG_EVID_THERMAL);
  strcpy(b.flight, "f2"); /* another pass: its own image and its own systematic errors */
  vg_fuse_update(&s, &b, &p);
  vg_fuse_en(10.0, 20.0, s.lat, s.lon, en);
  assert_true(fabs(en[0] - 5.0) < 1e-3 && fabs(en[1] - 16.0) < 1e-3);
  assert_true(fabs(s.cov_en[0] - 50.0) < 1e-9 && fabs(s.cov_en[3] - 80.0) < 1e-9);
  assert_true(fabs(s.cov_en[1]) < 1e-12 && s.cov_en[1] == s.cov_en[2]);
  assert_int_equal(s.nobs, 2);
  /* heights: equal sigmas 4 m average, sigma 4/sqrt(2) */
  assert_true(fabs(s.hae - 100.0) < 1e-12 && fabs(s.sigma_up - 4.0 / sqrt(2.0)) < 1e-12);
}

static void gate_boundary(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs a = obs_at(45.0, 7.0, 100, 0, 400, VG_EVID_ANOMALY), b;
  double la, lo, d2, e;
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &a, &p);
  /* S = diag(200, 500): east offset e gives d2 = e^2 / 200 */
  e = sqrt(p.gate * 200.0);
  moved(45.0, 7.0, e, 0, &la, &lo);
  b = obs_at(la, lo, 100, 0, 100, VG_EVID_ANOMALY);
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_OK);
  assert_true(fabs(d2 - p.gate) < 1e-6 * p.gate);
  moved(45.0, 7.0, 0.999 * e, 0, &la, &lo);
  b = obs_at(la, lo, 100, 0, 100, VG_EVID_ANOMALY);
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_OK);
  assert_true(d2 < p.gate);
  moved(45.0, 7.0, 1.001 * e, 0, &la, &lo);
  b = obs_at(la, lo, 100, 0, 100, VG_EVID_ANOMALY);
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_OK);
  assert_true(d2 > p.gate);
  /* correlated: S = [[4, 1], [1, 2]] (site 3,1,1 + obs 1,0,1), d = (1, 1) m:
   * S^-1 = [[2, -1], [-1, 4]] / 7, d2 = 4/7 */
  p.floor_m = 0.1;
  a = obs_at(45.0, 7.0, 3, 1, 1, VG_EVID_ANOMALY);
  vg_fuse_init(&s, &a, &p);
  moved(45.0, 7.0, 1, 1, &la, &lo);
  b = obs_at(la, lo, 1, 0, 1, VG_EVID_ANOMALY);
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_OK);
  assert_true(fabs(d2 - 4.0 / 7.0) < 1e-6);
  /* no joint covariance */
  s.cov_en[0] = s.cov_en[3] = 0;
  b.cov_en[0] = b.cov_en[3] = 0;
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_E_RANGE);
}

/*
 * (a) Hits per pass. Defaults: prior -2, anomaly +1, thermal +1.5, agree +1.
 *   f1, anomaly in frames 0..4:        -2 + 1                 = -1    (once, not 5 times)
 *   f1, thermal in frames 5..7:        -1 + 1.5 + 1 (agree)   =  1.5  (once)
 *   f2, anomaly in frames 0..2:        1.5 + 0.25 x 1 (repeat) =  1.75
 *   f2, thermal in frame 3:            1.75 + 0.25 x 1.5       =  2.125 (a candidate still:
 *                                      what two passes showed of the same kinds)
 *   f3, spectral:                      2.125 + 2 + 1 (agree)   =  5.125 -> confirmed
 * nobs counts every observation: 5 + 3 + 3 + 1 = 12.
 */
static void per_pass_hits(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs o;
  (void)st;
  vg_fuse_params_default(&p);
  o = obs_in("f1", 0, 1, 1, 25, 25, VG_EVID_ANOMALY);
  vg_fuse_init(&s, &o, &p);
  assert_string_equal(s.flight, "f1");
  assert_int_equal(s.frame, 0);
  assert_int_equal(s.flight_kinds, 1u << VG_EVID_ANOMALY);
  assert_int_equal(s.flight_missed, 0);
  for (int f = 1; f < 5; f++) {
    o = obs_in("f1", f, 1, 1, 25, 25, VG_EVID_ANOMALY);
    vg_fuse_update(&s, &o, &p);
  }
  assert_true(s.logodds == p.prior + p.hit[VG_EVID_ANOMALY]); /* exactly -1 */
  assert_int_equal(s.nobs, 5);
  assert_int_equal(s.frame, 0); /* the flight's first anomaly gave the position, the rest none */
  for (int f = 5; f < 8; f++) {
    o = obs_in("f1", f, 1, 1, 25, 25, VG_EVID_THERMAL);
    vg_fuse_update(&s, &o, &p);
    assert_true(fabs(s.logodds - 1.5) < 1e-12);
  }
  assert_int_equal(s.flight_kinds, (1u << VG_EVID_ANOMALY) | (1u << VG_EVID_THERMAL));
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  for (int f = 0; f < 3; f++) {
    o = obs_in("f2", f, 1, 1, 25, 25, VG_EVID_ANOMALY);
    vg_fuse_update(&s, &o, &p);
    assert_true(fabs(s.logodds - 1.75) < 1e-12);
    assert_string_equal(s.flight, "f2");
    assert_int_equal(s.flight_kinds, 1u << VG_EVID_ANOMALY);
  }
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  o = obs_in("f2", 3, 1, 1, 25, 25, VG_EVID_THERMAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 2.125) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  o = obs_in("f3", 0, 1, 1, 25, 25, VG_EVID_SPECTRAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 5.125) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  assert_int_equal(s.nobs, 13);
  assert_int_equal(s.kinds, (1u << VG_EVID_ANOMALY) | (1u << VG_EVID_THERMAL) | (1u << VG_EVID_SPECTRAL));
  assert_int_equal(s.nmiss, 0);
}

/*
 * (b) One image, one position. Site from f1 frame 7 (anomaly): P = diag(100, 400) at the
 * origin. A thermal detection of the same image (f1, 7), 10 m E and 20 m N with
 * R = diag(100, 100): position, covariance and height stay bit for bit, the evidence counts
 * (-2 + 1, then + 1.5 + 1 = 1.5). Thermal again in frame 8: that kind has had its say in
 * f1 (one position per flight and kind: a pass's detections of a kind share its
 * systematic errors): nothing moves. A spectral detection in frame 8, another image and a
 * kind new to the flight: the information form, P'^-1 = P^-1 + R^-1 =
 * diag(1/100 + 1/100, 1/400 + 1/100) -> P' = diag(50, 80), and m' = m + P S^-1 d with
 * S = diag(200, 500): (10 * 100/200, 20 * 400/500) = (5, 16) m. A change detection on
 * frame 8 moves nothing again; flight f2's frame 8 is another image:
 * P'' = diag((1/50 + 1/100)^-1, (1/80 + 1/100)^-1) = diag(100/3, 400/9).
 */
static void same_image_position(void **st)
{
  vg_fuse_params p;
  vg_site s, s1;
  vg_obs a = obs_in("f1", 7, 10.0, 20.0, 100, 400, VG_EVID_ANOMALY), b;
  double la, lo, en[2];
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &a, &p);
  s1 = s;
  moved(10.0, 20.0, 10, 20, &la, &lo);
  b = obs_in("f1", 7, la, lo, 100, 100, VG_EVID_THERMAL);
  b.hae = 130;
  vg_fuse_update(&s, &b, &p);
  assert_memory_equal(&s.lat, &s1.lat, sizeof s.lat);
  assert_memory_equal(&s.lon, &s1.lon, sizeof s.lon);
  assert_memory_equal(s.cov_en, s1.cov_en, sizeof s.cov_en);
  assert_memory_equal(&s.hae, &s1.hae, sizeof s.hae);
  assert_memory_equal(&s.sigma_up, &s1.sigma_up, sizeof s.sigma_up);
  assert_true(fabs(s.logodds - 1.5) < 1e-12);
  assert_int_equal(s.nobs, 2);
  assert_int_equal(s.frame, 7);
  /* the same kind in another frame of the flight: no position again */
  b.frame = 8;
  b.hae = 100;
  vg_fuse_update(&s, &b, &p);
  assert_memory_equal(&s.lat, &s1.lat, sizeof s.lat);
  assert_memory_equal(s.cov_en, s1.cov_en, sizeof s.cov_en);
  assert_true(fabs(s.logodds - 1.5) < 1e-12); /* thermal already counted for f1 */
  /* another kind in another frame: fused */
  b.kind = VG_EVID_SPECTRAL;
  vg_fuse_update(&s, &b, &p);
  vg_fuse_en(10.0, 20.0, s.lat, s.lon, en);
  assert_true(fabs(en[0] - 5.0) < 1e-3 && fabs(en[1] - 16.0) < 1e-3);
  assert_true(fabs(s.cov_en[0] - 50.0) < 1e-9 && fabs(s.cov_en[3] - 80.0) < 1e-9);
  assert_true(fabs(1.0 / s.cov_en[0] - (1.0 / 100 + 1.0 / 100)) < 1e-12);
  assert_true(fabs(1.0 / s.cov_en[3] - (1.0 / 400 + 1.0 / 100)) < 1e-12);
  assert_true(fabs(s.sigma_up - 4.0 / sqrt(2.0)) < 1e-12);
  assert_true(fabs(s.logodds - (1.5 + 2.0 + 1.0)) < 1e-12);
  assert_int_equal(s.frame, 8);
  /* a third detector on frame 8 */
  s1 = s;
  b.kind = VG_EVID_CHANGE;
  vg_fuse_update(&s, &b, &p);
  assert_memory_equal(&s.lat, &s1.lat, sizeof s.lat);
  assert_memory_equal(&s.lon, &s1.lon, sizeof s.lon);
  assert_memory_equal(s.cov_en, s1.cov_en, sizeof s.cov_en);
  assert_true(fabs(s.logodds - (1.5 + 2.0 + 1.0 + 1.0 + 1.0)) < 1e-12);
  /* flight f2, frame 8: another image (the frame number is the flight's own) */
  b = obs_in("f2", 8, s.lat, s.lon, 100, 100, VG_EVID_THERMAL);
  vg_fuse_update(&s, &b, &p);
  assert_true(fabs(s.cov_en[0] - 100.0 / 3.0) < 1e-9 && fabs(s.cov_en[3] - 400.0 / 9.0) < 1e-9);
  assert_int_equal(s.frame, 8);
  assert_string_equal(s.flight, "f2");
}

/*
 * (c) Misses per pass. A site from f1 (anomaly): -2 + 1 = -1.
 *   f1 covers it again (it detected it):          -1, nmiss 0
 *   f2 covers it in 10 frames, no detection:      -1 - 0.7 = -1.7, nmiss 1 (once)
 *   f2 then detects it (anomaly) in frame 11:     -1.7 + 0.25 (repeat) + 0.7 = -0.75, nmiss 0
 *                                                  (miss taken back)
 *   f2 covers it in frame 12:                      -0.75, nmiss 0 (the pass saw it)
 *   f3 covers it:                                  -1.45, nmiss 1
 */
static void per_pass_misses(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs o = obs_in("f1", 0, 1, 1, 25, 25, VG_EVID_ANOMALY);
  char longname[VG_SITES_NAME_MAX + 20];
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &o, &p);
  vg_fuse_miss(&s, "f1", &p);
  assert_true(s.logodds == p.prior + p.hit[VG_EVID_ANOMALY]);
  assert_int_equal(s.nmiss, 0);
  assert_int_equal(s.flight_missed, 0);
  for (int f = 1; f <= 10; f++)
    vg_fuse_miss(&s, "f2", &p);
  assert_true(s.logodds == p.prior + p.hit[VG_EVID_ANOMALY] + p.miss); /* -1.7 */
  assert_int_equal(s.nmiss, 1);
  assert_int_equal(s.flight_missed, 1);
  assert_int_equal(s.flight_kinds, 0);
  assert_string_equal(s.flight, "f2");
  assert_int_equal(s.frame, VG_FUSE_NO_FRAME);
  o = obs_in("f2", 11, 1, 1, 25, 25, VG_EVID_ANOMALY);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds + 0.75) < 1e-12);
  assert_int_equal(s.nmiss, 0);
  assert_int_equal(s.flight_missed, 0);
  assert_int_equal(s.nobs, 2);
  assert_int_equal(s.frame, 11);
  vg_fuse_miss(&s, "f2", &p);
  assert_true(fabs(s.logodds + 0.75) < 1e-12);
  assert_int_equal(s.nmiss, 0);
  vg_fuse_miss(&s, "f3", &p);
  assert_true(fabs(s.logodds - (-0.75 + p.miss)) < 1e-12);
  assert_int_equal(s.nmiss, 1);
  assert_int_equal(s.flight_missed, 1);
  /* names: at most VG_SITES_NAME_MAX bytes count; NULL is "" */
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  vg_fuse_miss(&s, longname, &p);
  assert_int_equal(s.nmiss, 2);
  assert_int_equal(strlen(s.flight), VG_SITES_NAME_MAX);
  longname[VG_SITES_NAME_MAX + 5] = 0; /* another name with the same first 63 bytes: the same flight */
  vg_fuse_miss(&s, longname, &p);
  assert_int_equal(s.nmiss, 2);
  vg_fuse_miss(&s, NULL, &p);
  assert_int_equal(s.nmiss, 3);
  assert_string_equal(s.flight, "");
  assert_true(fabs(s.logodds - (-0.75 + 3 * p.miss)) < 1e-12);
}

/*
 * (d) States across flights. From -1 (f1 anomaly) + spectral 2 + agree 1 = 2 (f1), then f2
 * spectral + 2 = 4 >= confirm (3). Misses of flights m1..m9: 4 - 9 * 0.7 = -2.3, still
 * confirmed (each flight's coverage repeated 5 times changes nothing); m10: -3.0, not below
 * inactive; m11: -3.7, inactive. Seen again in g (spectral): -1.7, candidate. Dismissed
 * sticks: 10 flights of thermal clamp at lo_max, 40 flights of misses at lo_min. Here every
 * pass counts in full (repeat 1), to reach the states with few flights.
 */
static void states_across_flights(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs o = obs_in("f1", 0, 1, 1, 25, 25, VG_EVID_ANOMALY);
  char fl[16];
  (void)st;
  vg_fuse_params_default(&p);
  p.repeat = 1.0;
  vg_fuse_init(&s, &o, &p);
  o = obs_in("f1", 1, 1, 1, 25, 25, VG_EVID_SPECTRAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 2.0) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  o = obs_in("f2", 0, 1, 1, 25, 25, VG_EVID_SPECTRAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 4.0) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  assert_true(fabs(vg_fuse_prob(s.logodds) - 1.0 / (1.0 + exp(-4.0))) < 1e-15);
  for (int i = 1; i <= 9; i++) {
    snprintf(fl, sizeof fl, "m%d", i);
    for (int k = 0; k < 5; k++)
      vg_fuse_miss(&s, fl, &p);
  }
  assert_true(fabs(s.logodds - (4.0 - 9 * 0.7)) < 1e-9); /* -2.3 */
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  assert_int_equal(s.nmiss, 9);
  vg_fuse_miss(&s, "m10", &p); /* -3.0: not below */
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  vg_fuse_miss(&s, "m11", &p); /* -3.7 */
  assert_int_equal(s.state, VG_SITE_INACTIVE);
  vg_fuse_miss(&s, "m11", &p);
  assert_int_equal(s.nmiss, 11);
  /* seen again: back to candidate */
  o = obs_in("g", 0, 1, 1, 25, 25, VG_EVID_SPECTRAL);
  vg_fuse_update(&s, &o, &p); /* -3.7 + 2 = -1.7 */
  assert_true(fabs(s.logodds + 1.7) < 1e-9);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  /* a detection taking back a miss can also lift a site out of inactive: m12 misses
   * (-2.4), m13 misses (-3.1, inactive), m13 then sees it (thermal, new kind:
   * -3.1 + 1.5 + 1 + 0.7 = 0.1), candidate */
  vg_fuse_miss(&s, "m12", &p);
  vg_fuse_miss(&s, "m13", &p);
  assert_int_equal(s.state, VG_SITE_INACTIVE);
  o = obs_in("m13", 4, 1, 1, 25, 25, VG_EVID_THERMAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 0.1) < 1e-9);
  assert_int_equal(s.nmiss, 12);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  /* an analyst's dismissal sticks through any evidence */
  s.state = VG_SITE_DISMISSED;
  for (int i = 0; i < 10; i++) {
    snprintf(fl, sizeof fl, "h%d", i);
    o = obs_in(fl, 0, 1, 1, 25, 25, VG_EVID_THERMAL);
    vg_fuse_update(&s, &o, &p);
  }
  assert_int_equal(s.state, VG_SITE_DISMISSED);
  assert_true(s.logodds == p.lo_max); /* clamped */
  for (int i = 0; i < 40; i++) {
    snprintf(fl, sizeof fl, "n%d", i);
    vg_fuse_miss(&s, fl, &p);
  }
  assert_true(s.logodds == p.lo_min);
  assert_int_equal(s.state, VG_SITE_DISMISSED);
}

/*
 * (e) Repeats and one position per flight and kind, defaults (repeat 0.25). A roof seen by
 * the anomaly detector in every pass: f1 -2 + 1 = -1, f2 -0.75, f3 -0.5, ... ten passes
 * -1 + 9 x 0.25 = 1.25: never confirmed by persistence alone. Thermal in f10 (new kind):
 * 1.25 + 1.5 + 1 = 3.75 -> confirmed. Position: f1 frame 0 at the origin, P = diag(25, 25);
 * f1 frame 1 (same kind, same pass) 6 m east: nothing moves; f2 frame 0 6 m east:
 * S = diag(50, 50), moves 3 m east, P' = diag(12.5, 12.5).
 */
static void repeats_and_pass_position(void **st)
{
  vg_fuse_params p;
  vg_site s, s1;
  vg_obs o = obs_in("f1", 0, 1, 1, 25, 25, VG_EVID_ANOMALY);
  double la, lo, en[2];
  char fl[16];
  (void)st;
  vg_fuse_params_default(&p);
  assert_true(p.repeat == 0.25);
  vg_fuse_init(&s, &o, &p);
  s1 = s;
  moved(1, 1, 6, 0, &la, &lo);
  o = obs_in("f1", 1, la, lo, 25, 25, VG_EVID_ANOMALY);
  vg_fuse_update(&s, &o, &p);
  assert_memory_equal(&s.lat, &s1.lat, sizeof s.lat);
  assert_memory_equal(&s.lon, &s1.lon, sizeof s.lon);
  assert_memory_equal(s.cov_en, s1.cov_en, sizeof s.cov_en);
  assert_true(s.logodds == -1.0);
  o = obs_in("f2", 0, la, lo, 25, 25, VG_EVID_ANOMALY);
  vg_fuse_update(&s, &o, &p);
  vg_fuse_en(1, 1, s.lat, s.lon, en);
  assert_true(fabs(en[0] - 3.0) < 1e-6 && fabs(en[1]) < 1e-6);
  assert_true(fabs(s.cov_en[0] - 12.5) < 1e-9 && fabs(s.cov_en[3] - 12.5) < 1e-9);
  assert_true(fabs(s.logodds + 0.75) < 1e-12);
  for (int i = 3; i <= 10; i++) {
    snprintf(fl, sizeof fl, "f%d", i);
    o = obs_in(fl, 0, 1, 1, 25, 25, VG_EVID_ANOMALY);
    vg_fuse_update(&s, &o, &p);
  }
  assert_true(fabs(s.logodds - 1.25) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  o = obs_in("f10", 1, 1, 1, 25, 25, VG_EVID_THERMAL);
  vg_fuse_update(&s, &o, &p);
  assert_true(fabs(s.logodds - 3.75) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  /* a raster's detection has no height (sigma_up 0); a later video detection of the same kind
   * in the same pass gives no position but the site's first height */
  o = obs_in("r1", -5, 1, 1, 25, 25, VG_EVID_ANOMALY);
  o.sigma_up = 0;
  o.hae = 0;
  vg_fuse_init(&s, &o, &p);
  assert_true(s.sigma_up == 0);
  s1 = s;
  o = obs_in("r1", 3, 1.00001, 1, 25, 25, VG_EVID_ANOMALY);
  o.hae = 950;
  o.sigma_up = 7;
  vg_fuse_update(&s, &o, &p);
  assert_memory_equal(&s.lat, &s1.lat, sizeof s.lat);
  assert_memory_equal(s.cov_en, s1.cov_en, sizeof s.cov_en);
  assert_true(s.hae == 950 && s.sigma_up == 7);
}

static void floor_and_antimeridian(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs a = obs_at(0, 179.9999, 0.01, 0, 0.01, VG_EVID_CHANGE), b;
  double en[2], d2;
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &a, &p);
  assert_true(s.cov_en[0] == 1.0 && s.cov_en[3] == 1.0); /* floored at 1 m */
  /* 0.0002 deg of longitude across the antimeridian is 22 m east, not 40000 km west */
  vg_fuse_en(0, 179.9999, 0, -179.9999, en);
  assert_true(fabs(en[0] - 0.0002 * 6371008.8 * 3.14159265358979323846 / 180.0) < 1e-3);
  b = obs_at(0, -179.9999, 400, 0, 400, VG_EVID_CHANGE);
  assert_int_equal(vg_fuse_distance(&s, &b, &d2), VG_OK);
  assert_true(d2 < 2.0);
  /* names */
  assert_string_equal(vg_evidence_name(VG_EVID_SPECTRAL), "spectral");
  assert_string_equal(vg_site_state_name(VG_SITE_INACTIVE), "inactive");
  {
    vg_evidence e;
    assert_int_equal(vg_evidence_parse("Thermal", &e), VG_OK);
    assert_int_equal(e, VG_EVID_THERMAL);
    assert_int_equal(vg_evidence_parse("smell", &e), VG_E_INVALID);
  }
}

int test_sites_fuse_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(two_observations),
    cmocka_unit_test(gate_boundary),
    cmocka_unit_test(per_pass_hits),
    cmocka_unit_test(same_image_position),
    cmocka_unit_test(per_pass_misses),
    cmocka_unit_test(states_across_flights),
    cmocka_unit_test(repeats_and_pass_position),
    cmocka_unit_test(floor_and_antimeridian),
  };
  return cmocka_run_group_tests_name("sites.fuse", tests, NULL, NULL);
}
