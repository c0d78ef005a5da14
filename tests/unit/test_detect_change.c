/*
 * lib/detect change: IR-MAD (research/detection.md 4.4).
 *
 * Expected values come from the constructions themselves, not from the
 * library: synthetic passes built from latent variables with known canonical
 * correlations (their population MAD variates written out here), chi-square
 * tails in closed form (odd and even degrees of freedom), and the ABU urban-1
 * scene paired with a copy carrying implanted changes (30 patches of spectra
 * from distant, spectrally different pixels; fixed seed), a per-band affine
 * radiometric difference and noise.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "detect/detect_par.h"
#include "vigia/detect.h"
#include "vigia/raster.h"

void openblas_set_num_threads(int);

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- helpers ------------------------------------------------------------------------- */

/* xorshift64: deterministic data; reseeded by each test. */
static uint64_t rng;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}
static double nrand(void) /* Box-Muller */
{
  double u1 = urand(), u2 = urand();
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Chi-square survival in closed form: odd p = 3, and even p (Poisson sum). */
static double chi2_sf3(double x)
{
  return erfc(sqrt(0.5 * x)) + sqrt(2.0 * x / M_PI) * exp(-0.5 * x);
}
static double chi2_sf_even(double x, int p)
{
  double s = 0, h = 0.5 * x;
  for (int j = 0; j < p / 2; j++)
    s += exp(-h + j * log(h) - lgamma(j + 1.0));
  return s;
}
/* The CFAR threshold: x with P(chi2_p > x) = pfa, p even. */
static double chi2_isf_even(double pfa, int p)
{
  double lo = 0, hi = 10.0 * p + 200;
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (chi2_sf_even(mid, p) > pfa)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

static double corr(const double *a, const float *b, size_t n)
{
  double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
  for (size_t i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= (double)n;
  mb /= (double)n;
  for (size_t i = 0; i < n; i++) {
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
    sab += (a[i] - ma) * (b[i] - mb);
  }
  return sab / sqrt(saa * sbb);
}

/*
 * Two 3-band passes of rows x cols pixels from latent u ~ N(0, I) and
 * v_k = rho_k u_k + sqrt(1 - rho_k^2) e_k: x = A u + mx, y = B v + my with
 * fixed well-conditioned A, B. The canonical correlations are rho, and the
 * population MAD variates are u_k - v_k (variance 2(1 - rho_k)), so the
 * population Z is known per pixel (*zpop). A fraction @p frac_changed of the
 * pixels gets v shifted by 5 along a random direction (*changed).
 */
static const double RHO3[3] = {0.95, 0.7, 0.4};
static void make_three_band(vg_cube *ca, vg_cube *cb, double frac_changed, double *zpop,
                            uint8_t *changed)
{
  static const double A[3][3] = {{2.0, 0.5, 0.1}, {0.3, 1.5, -0.4}, {-0.2, 0.6, 1.1}};
  static const double B[3][3] = {{0.9, -0.3, 0.2}, {0.4, 1.2, 0.3}, {0.1, -0.5, 2.2}};
  size_t n = (size_t)ca->rows * (size_t)ca->cols;
  for (size_t i = 0; i < n; i++) {
    double u[3], v[3], z = 0;
    for (int k = 0; k < 3; k++) {
      u[k] = nrand();
      v[k] = RHO3[k] * u[k] + sqrt(1 - RHO3[k] * RHO3[k]) * nrand();
      z += (u[k] - v[k]) * (u[k] - v[k]) / (2 * (1 - RHO3[k]));
    }
    changed[i] = urand() < frac_changed;
    if (changed[i]) {
      double d[3], nd = 0;
      for (int k = 0; k < 3; k++) {
        d[k] = nrand();
        nd += d[k] * d[k];
      }
      for (int k = 0; k < 3; k++)
        v[k] += 5.0 * d[k] / sqrt(nd);
    }
    zpop[i] = z;
    for (int r = 0; r < 3; r++) {
      double x = 100.0 + 10.0 * r, y = 50.0 - 5.0 * r;
      for (int k = 0; k < 3; k++) {
        x += A[r][k] * u[k];
        y += B[r][k] * v[k];
      }
      ca->data[i * 3 + (size_t)r] = (float)x;
      cb->data[i * 3 + (size_t)r] = (float)y;
    }
  }
}

/* ---- synthetic ------------------------------------------------------------------------ */

/* Plain MAD (one iteration) on unchanged pixels: rho, Z against the population's, F(Z). */
static void three_bands_known_correlations(void **st)
{
  vg_cube *ca = NULL, *cb = NULL;
  vg_change_opts o = VG_CHANGE_OPTS_INIT;
  vg_change_info info;
  size_t n;
  double *zpop, zmean = 0;
  uint8_t *ch;
  float *z, *pc;
  (void)st;
  rng = 0x9e3779b97f4a7c15ull;
  assert_int_equal(vg_cube_new(&ca, 100, 120, 3), VG_OK);
  assert_int_equal(vg_cube_new(&cb, 100, 120, 3), VG_OK);
  n = 12000;
  zpop = malloc(n * sizeof *zpop);
  ch = malloc(n);
  z = malloc(n * sizeof *z);
  pc = malloc(n * sizeof *pc);
  make_three_band(ca, cb, 0.0, zpop, ch);
  o.max_iter = 1;
  assert_int_equal(vg_change_irmad(ca, cb, &o, z, pc, &info), VG_OK);
  assert_int_equal(info.iterations, 1);
  assert_int_equal(info.bands, 3);
  for (int k = 0; k < 3; k++) /* sorted from the largest; sampling error ~ (1 - rho^2) / sqrt(n) */
    if (fabs(info.rho[k] - RHO3[k]) > 0.02)
      fail_msg("rho[%d] = %.4f, built with %.2f", k, info.rho[k], RHO3[k]);
  for (size_t i = 0; i < n; i++) {
    assert_true(isfinite(z[i]) && z[i] >= 0);
    zmean += z[i] / (double)n;
    /* F(Z) is the chi-square(3) CDF of Z (float output) */
    assert_true(fabs((1.0 - chi2_sf3(z[i])) - pc[i]) < 2e-6);
  }
  /* in-sample weighted variances make mean Z = 3 exactly unless the median calibration widened them */
  assert_true(zmean <= 3.0 + 1e-6 && zmean > 2.8);
  if (corr(zpop, z, n) < 0.99)
    fail_msg("Z against the population Z: correlation %.4f", corr(zpop, z, n));
  free(zpop);
  free(ch);
  free(z);
  free(pc);
  vg_cube_free(ca);
  vg_cube_free(cb);
}

/*
 * IR-MAD with 3 % changed pixels on 160 x 160 pixels (more than the iteration
 * sample: the final Z is computed outside it): rho recovered from the
 * unchanged pixels, the changes found, the chi-square calibrated on the rest.
 */
static void three_bands_with_changes(void **st)
{
  vg_cube *ca = NULL, *cb = NULL;
  vg_change_info info;
  size_t n = 160 * 160, nu = 0, fa = 0;
  double *zpop;
  uint8_t *ch;
  float *z, *pc;
  double auc, frac;
  (void)st;
  rng = 0x2545f4914f6cdd1dull;
  assert_int_equal(vg_cube_new(&ca, 160, 160, 3), VG_OK);
  assert_int_equal(vg_cube_new(&cb, 160, 160, 3), VG_OK);
  zpop = malloc(n * sizeof *zpop);
  ch = malloc(n);
  z = malloc(n * sizeof *z);
  pc = malloc(n * sizeof *pc);
  make_three_band(ca, cb, 0.03, zpop, ch);
  /* plain MAD first: the changes drag rho down */
  {
    vg_change_opts o1 = VG_CHANGE_OPTS_INIT;
    vg_change_info i1;
    o1.max_iter = 1;
    assert_int_equal(vg_change_irmad(ca, cb, &o1, z, NULL, &i1), VG_OK);
    assert_true(i1.rho[0] < RHO3[0] - 0.02);
  }
  assert_int_equal(vg_change_irmad(ca, cb, NULL, z, pc, &info), VG_OK);
  assert_true(info.iterations > 1 && info.iterations <= 30);
  /*
   * The changes no longer drag rho down. The weights 1 - F(Z) favour the
   * unchanged pixels whose MAD variates happen to be small, so on Gaussian
   * data the weighted correlations come out above the built ones (by about
   * 0.02, 0.11, 0.19 here): a property of Nielsen's weighting, not of the CCA.
   */
  for (int k = 0; k < 3; k++)
    if (info.rho[k] < RHO3[k] - 0.02 || info.rho[k] > RHO3[k] + 0.25 || info.rho[k] > 0.995 ||
        (k && info.rho[k] >= info.rho[k - 1]))
      fail_msg("IR-MAD rho[%d] = %.4f, built with %.2f", k, info.rho[k], RHO3[k]);
  auc = vg_roc_auc(z, ch, n);
  if (!(auc > 0.99))
    fail_msg("AUC of Z against the changes %.4f", auc);
  for (size_t i = 0; i < n; i++) {
    assert_true(isfinite(z[i]));
    if (!ch[i]) {
      nu++;
      fa += pc[i] > 0.99f;
    }
  }
  frac = (double)fa / (double)nu; /* 1 % if Z is chi-square(3) on unchanged pixels */
  if (frac < 0.004 || frac > 0.025)
    fail_msg("unchanged pixels with P(change) > 0.99: %.4f (1 %% expected)", frac);
  print_message("3 bands, 3 %% changed: %d iterations, rho %.4f %.4f %.4f, AUC %.5f, P(change) > 0.99 "
                "on %.2f %% of the unchanged\n",
                info.iterations, info.rho[0], info.rho[1], info.rho[2], auc, 100 * frac);
  free(zpop);
  free(ch);
  free(z);
  free(pc);
  vg_cube_free(ca);
  vg_cube_free(cb);
}

/* Bad arguments; NAN pixels are left out; a constant or duplicated band does not break it. */
static void arguments_and_degenerate_bands(void **st)
{
  vg_cube *ca = NULL, *cb = NULL, *cc = NULL;
  vg_change_opts o = VG_CHANGE_OPTS_INIT;
  size_t n = 40 * 50;
  double *zpop = malloc(n * sizeof *zpop);
  uint8_t *ch = malloc(n);
  float *z = malloc(n * sizeof *z), *pc = malloc(n * sizeof *pc);
  (void)st;
  rng = 0xdeadbeefcafef00dull;
  assert_int_equal(vg_cube_new(&ca, 40, 50, 3), VG_OK);
  assert_int_equal(vg_cube_new(&cb, 40, 50, 3), VG_OK);
  assert_int_equal(vg_cube_new(&cc, 40, 49, 3), VG_OK);
  make_three_band(ca, cb, 0.0, zpop, ch);
  assert_int_equal(vg_change_irmad(NULL, cb, NULL, z, NULL, NULL), VG_E_INVALID);
  assert_int_equal(vg_change_irmad(ca, cb, NULL, NULL, NULL, NULL), VG_E_INVALID);
  assert_int_equal(vg_change_irmad(ca, cc, NULL, z, NULL, NULL), VG_E_INVALID);
  o.version = 99;
  assert_int_equal(vg_change_irmad(ca, cb, &o, z, NULL, NULL), VG_E_INVALID);
  o.version = VG_CHANGE_OPTS_VERSION;
  o.tol = -1;
  assert_int_equal(vg_change_irmad(ca, cb, &o, z, NULL, NULL), VG_E_INVALID);
  vg_cube_free(cc);
  cc = NULL;
  /* 2 x bands + 2 = 8 valid pixels at least: 7 are too few, 8 do */
  {
    vg_cube *sa = NULL, *sb = NULL;
    assert_int_equal(vg_cube_new(&sa, 1, 8, 3), VG_OK);
    assert_int_equal(vg_cube_new(&sb, 1, 8, 3), VG_OK);
    memcpy(sa->data, ca->data, 24 * sizeof(float));
    memcpy(sb->data, cb->data, 24 * sizeof(float));
    vg_log_set_level(VG_LOG_ERROR); /* it says that it stops: the weights cannot leave 8 pixels */
    assert_int_equal(vg_change_irmad(sa, sb, NULL, z, NULL, NULL), VG_OK);
    vg_log_set_level(VG_LOG_WARN);
    sb->data[5] = NAN;
    assert_int_equal(vg_change_irmad(sa, sb, NULL, z, NULL, NULL), VG_E_INVALID);
    vg_cube_free(sa);
    vg_cube_free(sb);
  }
  /* NAN and no-data pixels: NAN out, the rest finite */
  ca->data[7 * 3 + 1] = NAN;
  cb->data[11 * 3 + 0] = INFINITY;
  cb->has_nodata = 1;
  cb->nodata = -9999;
  for (int k = 0; k < 3; k++)
    cb->data[13 * 3 + k] = -9999.0f;
  assert_int_equal(vg_change_irmad(ca, cb, NULL, z, pc, NULL), VG_OK);
  for (size_t i = 0; i < n; i++) {
    if (i == 7 || i == 11 || i == 13)
      assert_true(isnan(z[i]) && isnan(pc[i]));
    else
      assert_true(isfinite(z[i]) && pc[i] >= 0 && pc[i] <= 1);
  }
  /* band 2 constant (zero) in both passes, then band 2 a copy of band 0 */
  for (size_t i = 0; i < n; i++)
    ca->data[i * 3 + 2] = cb->data[i * 3 + 2] = 0.0f;
  assert_int_equal(vg_change_irmad(ca, cb, NULL, z, pc, NULL), VG_OK);
  for (size_t i = 0; i < n; i++)
    if (i != 7 && i != 11 && i != 13)
      assert_true(isfinite(z[i]));
  for (size_t i = 0; i < n; i++) {
    ca->data[i * 3 + 2] = ca->data[i * 3 + 0];
    cb->data[i * 3 + 2] = cb->data[i * 3 + 0];
  }
  assert_int_equal(vg_change_irmad(ca, cb, NULL, z, pc, NULL), VG_OK);
  for (size_t i = 0; i < n; i++)
    if (i != 7 && i != 11 && i != 13)
      assert_true(isfinite(z[i]));
  free(zpop);
  free(ch);
  free(z);
  free(pc);
  vg_cube_free(ca);
  vg_cube_free(cb);
}

/* ---- the ABU urban-1 scene ---------------------------------------------------------------- */

/* Gains 0.7..1.3 and offsets -100..100 DN per band. */
static void affine_draw(int bands, double *g, double *off, double omax)
{
  for (int k = 0; k < bands; k++) {
    g[k] = 0.7 + 0.6 * urand();
    off[k] = omax * (2 * urand() - 1);
  }
}

static vg_cube *read_scene(char **path)
{
  vg_cube *c = NULL;
  *path = VG_REQUIRE_DATA("hsi/abu-urban-1.mat");
  assert_int_equal(vg_raster_mat_read(&c, *path, "data"), VG_OK);
  assert_true(c->rows == 100 && c->cols == 100 && c->bands == 204);
  return c;
}

/*
 * (1) implanted changes + affine + 1 % noise: AUC >= 0.98;
 * (3) Z of (a, b) and of (a, g b + o) agree.
 */
static void scene_implanted_changes(void **st)
{
  char *path = NULL;
  vg_cube *a = read_scene(&path), *b = NULL, *b2 = NULL;
  int R = a->rows, C = a->cols, B = a->bands;
  size_t n = (size_t)R * (size_t)C;
  uint8_t *mask = calloc(n, 1);
  float *z = malloc(n * sizeof *z), *z2 = malloc(n * sizeof *z2);
  double *sd = calloc((size_t)B, sizeof *sd), *mu = calloc((size_t)B, sizeof *mu);
  double *g = malloc((size_t)B * sizeof *g), *off = malloc((size_t)B * sizeof *off);
  vg_change_opts o = VG_CHANGE_OPTS_INIT;
  vg_change_info info, info2;
  double auc, worst = 0;
  size_t nmask = 0;
  (void)st;
  rng = 0x5eed0c4a06e5ull;
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < B; k++)
      mu[k] += a->data[i * (size_t)B + (size_t)k] / (double)n;
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < B; k++) {
      double d = a->data[i * (size_t)B + (size_t)k] - mu[k];
      sd[k] += d * d / (double)(n - 1);
    }
  for (int k = 0; k < B; k++)
    sd[k] = sqrt(sd[k]);
  assert_int_equal(vg_cube_new(&b, R, C, B), VG_OK);
  memcpy(b->data, a->data, n * (size_t)B * sizeof(float));
  /* 30 patches of 2x2..5x5, each filled with the spectrum of a pixel at least 30 px away whose
     RMS difference from the patch's corner is more than one band standard deviation */
  for (int p = 0; p < 30; p++) {
    int s = 2 + (int)(urand() * 4), r0 = (int)(urand() * (R - s)), c0 = (int)(urand() * (C - s));
    int dr, dc;
    for (;;) {
      double d2 = 0;
      dr = (int)(urand() * R);
      dc = (int)(urand() * C);
      if (abs(dr - r0) + abs(dc - c0) < 30)
        continue;
      for (int k = 0; k < B; k++) {
        double d = (vg_cube_px(a, dr, dc)[k] - vg_cube_px(a, r0, c0)[k]) / sd[k];
        d2 += d * d / B;
      }
      if (d2 > 1.0)
        break;
    }
    for (int r = r0; r < r0 + s; r++)
      for (int c = c0; c < c0 + s; c++) {
        memcpy(vg_cube_px(b, r, c), vg_cube_px(a, dr, dc), (size_t)B * sizeof(float));
        mask[(size_t)r * (size_t)C + (size_t)c] = 1;
      }
  }
  for (size_t i = 0; i < n; i++)
    nmask += mask[i];
  affine_draw(B, g, off, 100.0);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < B; k++) {
      float *v = b->data + i * (size_t)B + (size_t)k;
      *v = (float)(g[k] * (*v + 0.01 * sd[k] * nrand()) + off[k]);
    }
  assert_int_equal(vg_change_irmad(a, b, NULL, z, NULL, &info), VG_OK);
  auc = vg_roc_auc(z, mask, n);
  print_message("urban-1, %zu implanted pixels, affine + 1 %% noise: AUC %.5f, %d iterations, "
                "rho %.9f %.9f %.6f .. %.6f %.6f\n",
                nmask, auc, info.iterations, info.rho[0], info.rho[1], info.rho[2], info.rho[62],
                info.rho[63]);
  if (!(auc >= 0.98))
    fail_msg("AUC %.4f below 0.98", auc);
  for (int k = 0; k < 64; k++) {
    assert_true(info.rho[k] >= 0 && info.rho[k] <= 1);
    if (k)
      assert_true(info.rho[k] <= info.rho[k - 1]);
  }
  /* (3) a second affine map on b: the same Z (5 iterations each, to keep the test short) */
  assert_int_equal(vg_cube_new(&b2, R, C, B), VG_OK);
  affine_draw(B, g, off, 50.0);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < B; k++)
      b2->data[i * (size_t)B + (size_t)k] = (float)(g[k] * b->data[i * (size_t)B + (size_t)k] + off[k]);
  o.max_iter = 5;
  assert_int_equal(vg_change_irmad(a, b, &o, z, NULL, &info), VG_OK);
  assert_int_equal(vg_change_irmad(a, b2, &o, z2, NULL, &info2), VG_OK);
  assert_true(info.iterations == 5 && info2.iterations == 5);
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)z[i] - z2[i]) / (1.0 + z[i]);
    if (d > worst)
      worst = d;
  }
  print_message("invariance: worst |Z(a,b) - Z(a,gb+o)| / (1 + Z) = %.3g\n", worst);
  if (!(worst < 1e-3))
    fail_msg("Z changed by %.3g under an affine map of the second pass", worst);
  free(mask);
  free(z);
  free(z2);
  free(sd);
  free(mu);
  free(g);
  free(off);
  vg_cube_free(a);
  vg_cube_free(b);
  vg_cube_free(b2);
  free(path);
}

/* (2) a purely affine pair: no pixel above the chi-square(204) threshold for P(no change) = 1e-6. */
static void scene_pure_affine(void **st)
{
  char *path = NULL;
  vg_cube *a = read_scene(&path), *b = NULL;
  int B = a->bands;
  size_t n = (size_t)a->rows * (size_t)a->cols, det = 0;
  float *z = malloc(n * sizeof *z), *pc = malloc(n * sizeof *pc);
  double *g = malloc((size_t)B * sizeof *g), *off = malloc((size_t)B * sizeof *off);
  double thr = chi2_isf_even(1e-6, B), zmax = 0;
  vg_change_info info;
  (void)st;
  rng = 0xaff1e0000001ull;
  /* the closed form against the research note: 316.0 at B = 205, so a little less at 204 */
  assert_true(thr > 313 && thr < 316);
  assert_int_equal(vg_cube_new(&b, a->rows, a->cols, B), VG_OK);
  affine_draw(B, g, off, 100.0);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < B; k++)
      b->data[i * (size_t)B + (size_t)k] = (float)(g[k] * a->data[i * (size_t)B + (size_t)k] + off[k]);
  assert_int_equal(vg_change_irmad(a, b, NULL, z, pc, &info), VG_OK);
  for (size_t i = 0; i < n; i++) {
    assert_true(isfinite(z[i]));
    det += z[i] > thr;
    if (z[i] > zmax)
      zmax = z[i];
  }
  print_message("urban-1, pure affine: %zu of %zu above %.2f (Z max %.3g), %d iterations, rho %.9f .. "
                "%.6f\n",
                det, n, thr, zmax, info.iterations, info.rho[0], info.rho[63]);
  assert_int_equal(det, 0);
  /* the floored MAD variances leave Z far below its chi-square values, not just under the threshold */
  assert_true(zmax < 0.1 * thr);
  free(z);
  free(pc);
  free(g);
  free(off);
  vg_cube_free(a);
  vg_cube_free(b);
  free(path);
}

/* The same bits whatever the thread count (ours and OpenBLAS's). */
static void scene_threads(void **st)
{
  char *path = NULL;
  vg_cube *a = read_scene(&path), *b = NULL;
  int B = a->bands;
  size_t n = (size_t)a->rows * (size_t)a->cols;
  float *z1 = malloc(n * sizeof *z1), *p1 = malloc(n * sizeof *p1);
  float *z2 = malloc(n * sizeof *z2), *p2 = malloc(n * sizeof *p2);
  vg_change_opts o = VG_CHANGE_OPTS_INIT;
  vg_change_info i1, i2;
  (void)st;
  rng = 0x7412ab00ull;
  assert_int_equal(vg_cube_new(&b, a->rows, a->cols, B), VG_OK);
  for (size_t i = 0; i < n * (size_t)B; i++)
    b->data[i] = (float)(1.1 * a->data[i] + 3.0 * nrand());
  o.max_iter = 3;
  vg__detect_set_threads(1);
  assert_int_equal(vg_change_irmad(a, b, &o, z1, p1, &i1), VG_OK);
  vg__detect_set_threads(2);
  openblas_set_num_threads(2);
  assert_int_equal(vg_change_irmad(a, b, &o, z2, p2, &i2), VG_OK);
  assert_memory_equal(z1, z2, n * sizeof *z1);
  assert_memory_equal(p1, p2, n * sizeof *p1);
  assert_memory_equal(i1.rho, i2.rho, sizeof i1.rho);
  assert_int_equal(i1.iterations, 3);
  free(z1);
  free(p1);
  free(z2);
  free(p2);
  vg_cube_free(a);
  vg_cube_free(b);
  free(path);
}

int test_detect_change_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(three_bands_known_correlations),
    cmocka_unit_test(three_bands_with_changes),
    cmocka_unit_test(arguments_and_degenerate_bands),
    cmocka_unit_test(scene_implanted_changes),
    cmocka_unit_test(scene_pure_affine),
    cmocka_unit_test(scene_threads),
  };
  return cmocka_run_group_tests_name("detect.change", tests, NULL, NULL);
}
