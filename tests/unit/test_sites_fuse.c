/*
 * Fusion math against hand-computed cases: two observations with known
 * covariances (position and covariance after inverse-covariance weighting),
 * the Mahalanobis gate at its boundary, correlated covariances, confidence up
 * with evidence and agreement and down with coverage, the state machine, the
 * covariance floor, heights, and the antimeridian.
 */
#include <math.h>
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

static void confidence_and_states(void **st)
{
  vg_fuse_params p;
  vg_site s;
  vg_obs t = obs_at(1, 1, 25, 0, 25, VG_EVID_THERMAL), sp = obs_at(1, 1, 25, 0, 25, VG_EVID_SPECTRAL);
  (void)st;
  vg_fuse_params_default(&p);
  vg_fuse_init(&s, &t, &p);
  assert_true(fabs(s.logodds - (p.prior + p.hit[VG_EVID_THERMAL])) < 1e-12); /* -0.5 */
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  assert_int_equal(s.kinds, 1u << VG_EVID_THERMAL);
  /* the same kind again: + hit only */
  vg_fuse_update(&s, &t, &p);
  assert_true(fabs(s.logodds - (p.prior + 2 * p.hit[VG_EVID_THERMAL])) < 1e-12); /* 1.0 */
  /* a new kind agreeing: + hit + agree -> 1 + 2 + 1 = 4 >= confirm (3) */
  vg_fuse_update(&s, &sp, &p);
  assert_true(fabs(s.logodds - 4.0) < 1e-12);
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  assert_true(fabs(vg_fuse_prob(s.logodds) - 1.0 / (1.0 + exp(-4.0))) < 1e-15);
  /* covered without detection: -0.7 each; confirmed holds until below inactive (-3) */
  for (int i = 0; i < 9; i++)
    vg_fuse_miss(&s, &p);
  assert_true(fabs(s.logodds - (4.0 - 9 * 0.7)) < 1e-9); /* -2.3 */
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  assert_int_equal(s.nmiss, 9);
  vg_fuse_miss(&s, &p); /* -3.0: not below */
  assert_int_equal(s.state, VG_SITE_CONFIRMED);
  vg_fuse_miss(&s, &p); /* -3.7 */
  assert_int_equal(s.state, VG_SITE_INACTIVE);
  /* seen again: back to candidate */
  vg_fuse_update(&s, &sp, &p); /* -3.7 + 2 = -1.7 */
  assert_int_equal(s.state, VG_SITE_CANDIDATE);
  /* an analyst's dismissal sticks through any evidence */
  s.state = VG_SITE_DISMISSED;
  for (int i = 0; i < 10; i++)
    vg_fuse_update(&s, &t, &p);
  assert_int_equal(s.state, VG_SITE_DISMISSED);
  assert_true(s.logodds == p.lo_max); /* clamped */
  for (int i = 0; i < 40; i++)
    vg_fuse_miss(&s, &p);
  assert_true(s.logodds == p.lo_min);
  assert_int_equal(s.state, VG_SITE_DISMISSED);
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
    cmocka_unit_test(confidence_and_states),
    cmocka_unit_test(floor_and_antimeridian),
  };
  return cmocka_run_group_tests_name("sites.fuse", tests, NULL, NULL);
}
