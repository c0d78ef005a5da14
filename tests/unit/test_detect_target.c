/*
 * Known-target detection (lib/detect/target.c) and the spectral library
 * (lib/detect/speclib.c, docs/formats/speclib.md).
 *
 * Detectors: MF and ACE against a direct double-precision solve, MF 1 on the
 * target and 0 on the mean, ACE unchanged when x - mean is scaled, CEM 1 on
 * its target and against a direct solve; then the HaitiPixels blue tarps
 * (research/detection.md 4.2: MF 0.990, ACE 0.975 on a 50/50 split) with
 * alternate rows to fit and to test.
 *
 * Library: the two USGS polyethylene tarps, the plastic folder, the shared
 * index; resampling a flat and a linear spectrum; bands outside the valid
 * range or inside a gap; CR/LF/CRLF; the multi-spectrum form; malformed files
 * and every named limit at (or just past) its boundary.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "detect/detect_int.h"
#include "vigia/detect.h"


/* cmocka compares floats as float: this compares doubles. */
#define assert_near(a, b, tol)                                                                 \
  do {                                                                                         \
    double a_ = (a), b_ = (b), t_ = (tol);                                                     \
    if (!(fabs(a_ - b_) <= t_))                                                                \
      fail_msg("%s = %.17g, expected %.17g +- %g", #a, a_, b_, t_);                            \
  } while (0)

/* ---- helpers -------------------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

#define SB 6 /* synthetic bands */

/* n pixels of SB correlated bands around 100 + 10 k. */
static float *make_pixels(size_t n)
{
  float *x = malloc(n * SB * sizeof *x);
  double a[SB][SB];
  assert_non_null(x);
  for (int i = 0; i < SB; i++)
    for (int j = 0; j < SB; j++)
      a[i][j] = (i == j ? 3.0 : 0.0) + (urand() - 0.5);
  for (size_t p = 0; p < n; p++) {
    double g[SB];
    for (int j = 0; j < SB; j++)
      g[j] = (urand() + urand() + urand() - 1.5) * 2.0;
    for (int i = 0; i < SB; i++) {
      double v = 100.0 + 10.0 * i;
      for (int j = 0; j < SB; j++)
        v += a[i][j] * g[j];
      x[p * SB + (size_t)i] = (float)v;
    }
  }
  return x;
}

/* Solves (L L') y = v in place with a lower row-major factor (double). */
static void chol_solve(const double *l, int b, double *v)
{
  for (int i = 0; i < b; i++) {
    for (int j = 0; j < i; j++)
      v[i] -= l[i * b + j] * v[j];
    v[i] /= l[i * b + i];
  }
  for (int i = b - 1; i >= 0; i--) {
    for (int j = i + 1; j < b; j++)
      v[i] -= l[j * b + i] * v[j];
    v[i] /= l[i * b + i];
  }
}

/* Plain Cholesky of a (b x b, both triangles) into l; 0 or -1. */
static int chol(const double *a, int b, double *l)
{
  memset(l, 0, (size_t)(b * b) * sizeof *l);
  for (int i = 0; i < b; i++)
    for (int j = 0; j <= i; j++) {
      double s = a[i * b + j];
      for (int k = 0; k < j; k++)
        s -= l[i * b + k] * l[j * b + k];
      if (i == j) {
        if (!(s > 0))
          return -1;
        l[i * b + i] = sqrt(s);
      } else {
        l[i * b + j] = s / l[j * b + j];
      }
    }
  return 0;
}

/* Parses an in-memory library; fails the test on error. */
static vg_speclib *lib_mem(const char *text, const char *name)
{
  vg_speclib *l = NULL;
  int rc = vg__detect_speclib_from_mem(&l, (const uint8_t *)text, strlen(text), name);
  if (rc != VG_OK)
    fail_msg("library '%s' refused: %s: %s", name, vg_err_name(rc), vg_error_last());
  return l;
}

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
  char p[256];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
  assert_non_null(f = fopen(p, "wb"));
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  fclose(f);
}

static int rm_tree_setup(void **state)
{
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vg_speclib_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static void rm_rf(const char *rel)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
  unlink(p);
}

static int rm_tree_teardown(void **state)
{
  static const char *files[] = {"a/a.csv", "a/b.csv", "a/notes.txt", "b/index.csv", "b/sub/c.csv", "b/d.csv",
                                "c/index.csv", "c/x.csv", "c/y.csv", "c/bad.csv", "big.csv", "e/index.csv"};
  static const char *dirs[] = {"a", "b/sub", "b", "c", "e"};
  char p[256];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    rm_rf(files[i]);
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", tmpdir, dirs[i]);
    rmdir(p);
  }
  rmdir(tmpdir);
  return 0;
}

/* ---- detectors: synthetic ------------------------------------------------------------------- */

static void mf_ace_synthetic(void **state)
{
  const size_t n = 3000;
  float *x = make_pixels(n), *sc = malloc((n + 2) * sizeof *sc), *y = malloc((n + 2) * SB * sizeof *y);
  float *sa = malloc((n + 2) * sizeof *sa), target[SB];
  vg_stats *s = NULL;
  double q[SB], sw2 = 0, maxe_mf = 0, maxe_ace = 0;

  assert_non_null(sc);
  assert_non_null(y);
  assert_non_null(sa);
  assert_int_equal(vg_stats_compute(&s, x, n, SB, NULL, 0), VG_OK);
  for (int k = 0; k < SB; k++)
    target[k] = (float)(s->mean[k] + 8.0 + 2.0 * k * (k % 2 ? -1 : 1));

  /* pixels, then the target and the mean themselves */
  memcpy(y, x, n * SB * sizeof *y);
  memcpy(y + n * SB, target, sizeof target);
  memcpy(y + (n + 1) * SB, s->mean_f, SB * sizeof *y);
  assert_int_equal(vg_detect_target(y, n + 2, SB, s, target, VG_DETECT_MF, sc), VG_OK);
  assert_int_equal(vg_detect_target(y, n + 2, SB, s, target, VG_DETECT_ACE, sa), VG_OK);
  assert_near(sc[n], 1.0, 1e-5);
  assert_true(sc[n + 1] == 0.0f);
  assert_near(sa[n], 1.0, 1e-5);
  assert_true(sa[n + 1] == 0.0f);

  /* against (s~' S^-1 x~) / (s~' S^-1 s~) solved in double with the same loaded factor */
  for (int k = 0; k < SB; k++)
    q[k] = (double)target[k] - s->mean_f[k];
  {
    double st[SB];
    memcpy(st, q, sizeof st);
    chol_solve(s->l, SB, q);
    for (int k = 0; k < SB; k++)
      sw2 += st[k] * q[k];
  }
  for (size_t i = 0; i < n; i++) {
    double xt[SB], xs[SB], num = 0, xx = 0, mf, ace;
    for (int k = 0; k < SB; k++)
      xt[k] = xs[k] = (double)x[i * SB + (size_t)k] - s->mean_f[k];
    chol_solve(s->l, SB, xs);
    for (int k = 0; k < SB; k++) {
      num += q[k] * xt[k];
      xx += xs[k] * xt[k];
    }
    mf = num / sw2;
    ace = num * num / (sw2 * xx);
    maxe_mf = fmax(maxe_mf, fabs(sc[i] - mf) / fmax(1.0, fabs(mf)));
    maxe_ace = fmax(maxe_ace, fabs(sa[i] - ace));
  }
  print_message("synthetic %d bands: MF max error %.2e, ACE %.2e against double\n", SB, maxe_mf, maxe_ace);
  assert_true(maxe_mf < 1e-4);
  assert_true(maxe_ace < 1e-4);

  /* MF is linear along the target: mean + a s~ scores a */
  for (int a = -2; a <= 3; a++) {
    float p[SB], v;
    for (int k = 0; k < SB; k++)
      p[k] = s->mean_f[k] + (float)a * (target[k] - s->mean_f[k]);
    assert_int_equal(vg_detect_target(p, 1, SB, s, target, VG_DETECT_MF, &v), VG_OK);
    assert_near(v, a, 1e-4);
  }

  /* ACE is invariant to the scale of x - mean (and its sign) */
  {
    static const float scales[] = {0.25f, 3.0f, -2.0f, 17.5f};
    for (size_t j = 0; j < sizeof scales / sizeof scales[0]; j++) {
      double maxd = 0;
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < SB; k++)
          y[i * SB + (size_t)k] = s->mean_f[k] + scales[j] * (x[i * SB + (size_t)k] - s->mean_f[k]);
      assert_int_equal(vg_detect_target(y, n, SB, s, target, VG_DETECT_ACE, sc), VG_OK);
      for (size_t i = 0; i < n; i++)
        maxd = fmax(maxd, fabs(sc[i] - sa[i]));
      print_message("ACE of %g x~ vs x~: max difference %.2e\n", scales[j], maxd);
      assert_true(maxd < 1e-4); /* float rounding of mean + a (x - mean) itself */
    }
  }
  vg_stats_free(s);
  free(x);
  free(y);
  free(sc);
  free(sa);
}

static void cem_synthetic(void **state)
{
  const size_t n = 2000;
  float *x = make_pixels(n + 3), *sc = malloc((n + 3) * sizeof *sc), d[SB];
  double r[SB * SB], l[SB * SB], w[SB], tr = 0, dw = 0, maxe = 0;

  assert_non_null(sc);
  for (int k = 0; k < SB; k++)
    d[k] = (float)(120.0 + 5.0 * k * (k % 2 ? 1 : -1));
  /* the scene: n pixels, d, 2d and 0 */
  for (int k = 0; k < SB; k++) {
    x[n * SB + (size_t)k] = d[k];
    x[(n + 1) * SB + (size_t)k] = 2 * d[k];
    x[(n + 2) * SB + (size_t)k] = 0;
  }
  assert_int_equal(vg_detect_target(x, n + 3, SB, NULL, d, VG_DETECT_CEM, sc), VG_OK);
  assert_near(sc[n], 1.0, 1e-4);
  assert_near(sc[n + 1], 2.0, 2e-4);
  assert_true(sc[n + 2] == 0.0f);

  /* against R = X'X/n loaded by 1e-3 tr/B, solved in double here */
  memset(r, 0, sizeof r);
  for (size_t i = 0; i < n + 3; i++)
    for (int a = 0; a < SB; a++)
      for (int b = 0; b < SB; b++)
        r[a * SB + b] += (double)x[i * SB + (size_t)a] * x[i * SB + (size_t)b];
  for (int a = 0; a < SB * SB; a++)
    r[a] /= (double)(n + 3);
  for (int a = 0; a < SB; a++)
    tr += r[a * SB + a];
  for (int a = 0; a < SB; a++)
    r[a * SB + a] += VG_DETECT_LOADING * tr / SB;
  assert_int_equal(chol(r, SB, l), 0);
  for (int k = 0; k < SB; k++)
    w[k] = d[k];
  chol_solve(l, SB, w);
  for (int k = 0; k < SB; k++)
    dw += d[k] * w[k];
  for (size_t i = 0; i < n + 3; i++) {
    double v = 0;
    for (int k = 0; k < SB; k++)
      v += w[k] / dw * x[i * SB + (size_t)k];
    maxe = fmax(maxe, fabs(sc[i] - v) / fmax(1.0, fabs(v)));
  }
  print_message("synthetic CEM: max error %.2e against double\n", maxe);
  assert_true(maxe < 1e-4);
  free(x);
  free(sc);
}

static void target_errors(void **state)
{
  const size_t n = 200;
  float *x = make_pixels(n), sc[4], zero[SB] = {0};
  vg_stats *s = NULL, *s5 = NULL;
  float x5[5 * 10];

  assert_int_equal(vg_stats_compute(&s, x, n, SB, NULL, 0), VG_OK);
  for (int i = 0; i < 50; i++)
    x5[i] = (float)urand();
  assert_int_equal(vg_stats_compute(&s5, x5, 10, 5, NULL, 0), VG_OK);
  assert_int_equal(vg_detect_target(x, 4, SB, s, x, VG_DETECT_RX, sc), VG_E_INVALID);
  assert_int_equal(vg_detect_target(x, 4, SB, s, x, VG_DETECT__COUNT, sc), VG_E_INVALID);
  assert_int_equal(vg_detect_target(x, 4, SB, NULL, x, VG_DETECT_MF, sc), VG_E_INVALID);
  assert_int_equal(vg_detect_target(x, 4, SB, s5, x, VG_DETECT_ACE, sc), VG_E_INVALID);
  assert_int_equal(vg_detect_target(x, 4, SB, s, NULL, VG_DETECT_MF, sc), VG_E_INVALID);
  assert_int_equal(vg_detect_target(x, 4, 0, s, x, VG_DETECT_MF, sc), VG_E_INVALID);
  /* the target is the mean: no direction to match */
  assert_int_equal(vg_detect_target(x, 4, SB, s, s->mean_f, VG_DETECT_MF, sc), VG_E_RANGE);
  assert_int_equal(vg_detect_target(x, 4, SB, s, s->mean_f, VG_DETECT_ACE, sc), VG_E_RANGE);
  assert_int_equal(vg_detect_target(x, 4, SB, NULL, zero, VG_DETECT_CEM, sc), VG_E_RANGE);
  /* nothing to score is fine */
  assert_int_equal(vg_detect_target(NULL, 0, SB, s, x, VG_DETECT_MF, NULL), VG_OK);
  assert_int_equal(vg_detect_target(NULL, 0, SB, NULL, x, VG_DETECT_CEM, NULL), VG_OK);
  /* a non-finite pixel spoils only its own score */
  {
    float y[3 * SB];
    memcpy(y, x, sizeof y);
    y[SB + 2] = NAN;
    assert_int_equal(vg_detect_target(y, 3, SB, s, x + 10 * SB, VG_DETECT_ACE, sc), VG_OK);
    assert_true(isfinite(sc[0]) && isnan(sc[1]) && isfinite(sc[2]));
    assert_int_equal(vg_detect_target(y, 3, SB, NULL, x + 10 * SB, VG_DETECT_CEM, sc), VG_OK);
    assert_true(isfinite(sc[0]) && isnan(sc[1]) && isfinite(sc[2]));
  }
  vg_stats_free(s);
  vg_stats_free(s5);
  free(x);
}

/* ---- detectors: HaitiPixels ------------------------------------------------------------------ */

/*
 * Floors. The data and the split are fixed, so these AUCs are deterministic
 * (only float rounding of near-tied scores can move them, by < 1e-4); the
 * floors guard the implementation. Measured on this split: MF 0.9883, ACE
 * 0.9735, CEM 0.9880, RX 0.9640. The note's "MF 0.990" is a 50/50 random
 * split rounded to 3 decimals: other deterministic splits (odd rows, a hash
 * of the row) and variants (no loading, background from all fit rows) give MF
 * 0.9883-0.9895, and the split's own standard error (Hanley-McNeil, 1011 tarps
 * against 30609 others) is 0.0024; MF >= 0.99 does not hold on alternate rows.
 * Each floor sits about 0.003 below its measurement and above RX: a wrong
 * whitening or target falls to RX's level or lower and fails.
 */
#define HAITI_MF_MIN 0.985
#define HAITI_ACE_MIN 0.970
#define HAITI_CEM_MIN 0.985

static void haiti_tarps(void **state)
{
  char *path = VG_REQUIRE_DATA("tarp/HaitiPixels.csv");
  uint8_t *buf = NULL;
  size_t len = 0, nrow = 0, ntarp = 0, nfit = 0, ntest = 0, ntarp_fit = 0, at = 0;
  float *fit, *test, *score, tmean[3] = {0, 0, 0};
  uint8_t *fit_tarp, *truth;
  double sum[3] = {0, 0, 0}, auc_mf, auc_ace, auc_cem, auc_rx;
  vg_stats *s = NULL;
  int header = 1;

  assert_int_equal(vg_test_read_file(path, &buf, &len), 0);
  fit = malloc(len / 2 * sizeof *fit);
  test = malloc(len / 2 * sizeof *test);
  fit_tarp = malloc(len / 6);
  truth = malloc(len / 6);
  assert_true(fit && test && fit_tarp && truth);
  /* lines end with CR here; accept CR, LF and CRLF alike */
  while (at < len) {
    size_t e = at;
    char line[128], cls[64];
    int r, g, b, tarp;
    while (e < len && buf[e] != '\r' && buf[e] != '\n')
      e++;
    if (e > at) {
      assert_true(e - at < sizeof line);
      memcpy(line, buf + at, e - at);
      line[e - at] = '\0';
      if (header) {
        assert_string_equal(line, "Class,Red,Green,Blue");
        header = 0;
      } else {
        char *c = strchr(line, ',');
        assert_non_null(c);
        assert_true((size_t)(c - line) < sizeof cls);
        memcpy(cls, line, (size_t)(c - line));
        cls[c - line] = '\0';
        assert_int_equal(sscanf(c + 1, "%d,%d,%d", &r, &g, &b), 3);
        tarp = strcmp(cls, "Blue Tarp") == 0;
        if (nrow % 2 == 0) { /* alternate rows: even to fit, odd to test */
          fit[3 * nfit] = (float)r;
          fit[3 * nfit + 1] = (float)g;
          fit[3 * nfit + 2] = (float)b;
          fit_tarp[nfit++] = (uint8_t)tarp;
          if (tarp) {
            sum[0] += r;
            sum[1] += g;
            sum[2] += b;
            ntarp_fit++;
          }
        } else {
          test[3 * ntest] = (float)r;
          test[3 * ntest + 1] = (float)g;
          test[3 * ntest + 2] = (float)b;
          truth[ntest++] = (uint8_t)tarp;
        }
        nrow++;
        ntarp += (size_t)tarp;
      }
    }
    at = e;
    if (at < len)
      at++;
  }
  assert_int_equal(nrow, 63241);
  assert_int_equal(ntarp, 2022);
  for (int k = 0; k < 3; k++)
    tmean[k] = (float)(sum[k] / (double)ntarp_fit);

  /* background: the non-tarp fitting rows; target: the mean of the fitting tarps */
  assert_int_equal(vg_stats_compute(&s, fit, nfit, 3, fit_tarp, 0), VG_OK);
  assert_non_null(score = malloc(ntest * sizeof *score));
  assert_int_equal(vg_detect_target(test, ntest, 3, s, tmean, VG_DETECT_MF, score), VG_OK);
  auc_mf = vg_roc_auc(score, truth, ntest);
  assert_int_equal(vg_detect_target(test, ntest, 3, s, tmean, VG_DETECT_ACE, score), VG_OK);
  auc_ace = vg_roc_auc(score, truth, ntest);
  assert_int_equal(vg_detect_target(test, ntest, 3, NULL, tmean, VG_DETECT_CEM, score), VG_OK);
  auc_cem = vg_roc_auc(score, truth, ntest);
  assert_int_equal(vg_detect_mahalanobis(s, test, ntest, score), VG_OK);
  auc_rx = vg_roc_auc(score, truth, ntest);
  print_message("HaitiPixels (fit %zu rows, %zu tarps; test %zu rows): AUC MF %.4f, ACE %.4f, CEM %.4f, RX %.4f "
                "(note: MF 0.990, ACE 0.975, RX 0.937)\n",
                nfit, ntarp_fit, ntest, auc_mf, auc_ace, auc_cem, auc_rx);
  assert_true(auc_mf >= HAITI_MF_MIN);
  assert_true(auc_ace >= HAITI_ACE_MIN);
  assert_true(auc_cem >= HAITI_CEM_MIN);
  assert_true(auc_mf > auc_rx && auc_ace > auc_rx && auc_cem > auc_rx); /* knowing the target helps */
  vg_stats_free(s);
  s = NULL;
  /* The same on log(1 + DN) (vg_detect_log_dn): shading becomes an offset the covariance
   * absorbs. The bar, MF >= 0.99, holds here (measured 0.9974 in numpy). */
  vg_detect_log_dn(fit, 3 * nfit);
  vg_detect_log_dn(test, 3 * ntest);
  for (int k = 0; k < 3; k++)
    tmean[k] = 0;
  for (size_t i = 0; i < nfit; i++)
    if (fit_tarp[i])
      for (int k = 0; k < 3; k++)
        tmean[k] += fit[3 * i + k] / (float)ntarp_fit;
  assert_int_equal(vg_stats_compute(&s, fit, nfit, 3, fit_tarp, 0), VG_OK);
  assert_int_equal(vg_detect_target(test, ntest, 3, s, tmean, VG_DETECT_MF, score), VG_OK);
  auc_mf = vg_roc_auc(score, truth, ntest);
  assert_int_equal(vg_detect_target(test, ntest, 3, s, tmean, VG_DETECT_ACE, score), VG_OK);
  auc_ace = vg_roc_auc(score, truth, ntest);
  print_message("HaitiPixels on log(1 + DN): AUC MF %.4f, ACE %.4f\n", auc_mf, auc_ace);
  assert_true(auc_mf >= 0.99);
  assert_true(auc_ace >= HAITI_ACE_MIN);
  vg_stats_free(s);
  free(score);
  free(fit);
  free(test);
  free(fit_tarp);
  free(truth);
  free(buf);
  free(path);
}

/* ---- spectral library: USGS files ------------------------------------------------------------- */

static const vg__spectrum *spec(const vg_speclib *l, size_t i)
{
  assert_true(i < vg_speclib_count(l));
  return &l->s[i];
}

/* Resampled value at the band nearest @p um of a 10 nm grid from 0.40 um. */
static float at_um(const float *v, double um) { return v[(int)lround((um - 0.40) / 0.01)]; }

static void speclib_usgs_tarps(void **state)
{
  static const char *files[] = {"spectra/usgs/plastic/tarp_green_ripstop_GDS339.csv",
                                "spectra/usgs/plastic/tarp_blue_woven_GDS340.csv"};
  static const char *names[] = {"tarp_green_ripstop_GDS339", "tarp_blue_woven_GDS340"};
  double wl[206];
  float v[206];
  for (int k = 0; k < 206; k++)
    wl[k] = 0.40 + 0.01 * k; /* 0.40 .. 2.45 um, an AVIRIS-like grid */
  for (int f = 0; f < 2; f++) {
    char *p = VG_REQUIRE_DATA(files[f]);
    vg_speclib *l = NULL;
    const vg__spectrum *s;
    double lo = 1e9, hi = -1e9;
    assert_int_equal(vg_speclib_read(&l, p), VG_OK);
    assert_int_equal(vg_speclib_count(l), 1);
    assert_string_equal(vg_speclib_name(l, 0), names[f]);
    assert_int_equal(vg_speclib_find(l, "TARP"), 0);
    assert_int_equal(vg_speclib_find(l, "hdpe"), -1);
    s = spec(l, 0);
    assert_int_equal(s->nch, 2151);
    assert_int_equal(s->first, 0);
    assert_int_equal(s->last, 2150);
    assert_near(s->wl[0], 0.34999999, 1e-12);
    assert_near(s->wl[2150], 2.5, 1e-9);
    if (f == 0)
      assert_near(s->r[0], 5.2562568e-002, 1e-15);
    for (size_t i = 0; i < s->nch; i++) {
      lo = fmin(lo, s->r[i]);
      hi = fmax(hi, s->r[i]);
    }
    assert_int_equal(vg_speclib_resample(l, 0, wl, 206, v), VG_OK);
    for (int k = 0; k < 206; k++)
      assert_true(v[k] >= lo - 1e-6 && v[k] <= hi + 1e-6);
    /* polyethylene C-H absorptions (SOURCES.md: depths 0.43 and 0.58-0.71) */
    print_message("%s: R(1.66) %.3f R(1.73) %.3f, R(2.22) %.3f R(2.31) %.3f, R(0.46) %.3f R(0.55) %.3f R(0.65) %.3f\n",
                  names[f], at_um(v, 1.66), at_um(v, 1.73), at_um(v, 2.22), at_um(v, 2.31), at_um(v, 0.46),
                  at_um(v, 0.55), at_um(v, 0.65));
    assert_true(at_um(v, 1.73) < 0.8f * at_um(v, 1.66));
    assert_true(at_um(v, 2.31) < 0.6f * at_um(v, 2.22));
    if (f == 0)
      assert_true(at_um(v, 0.55) > at_um(v, 0.46) && at_um(v, 0.55) > at_um(v, 0.65)); /* green */
    else
      assert_true(at_um(v, 0.46) > at_um(v, 0.55) && at_um(v, 0.46) > at_um(v, 0.65)); /* blue */
    /* a 10 nm band on this smooth stretch is close to the channel at its centre (0.80 um: channel 450) */
    assert_near(at_um(v, 0.80), s->r[450], 0.01);
    vg_speclib_free(l);
    free(p);
  }
}

static void speclib_folders(void **state)
{
  char *plastic = VG_REQUIRE_DATA("spectra/usgs/plastic");
  char *root = VG_REQUIRE_DATA("spectra");
  char *index = VG_REQUIRE_DATA("spectra/index.csv");
  vg_speclib *a = NULL, *b = NULL, *c = NULL;
  long i;

  /* a folder without index.csv: every .csv in name order */
  assert_int_equal(vg_speclib_read(&a, plastic), VG_OK);
  assert_int_equal(vg_speclib_count(a), 14);
  for (size_t k = 1; k < vg_speclib_count(a); k++)
    assert_true(strcmp(vg_speclib_name(a, k - 1), vg_speclib_name(a, k)) < 0);
  assert_true((i = vg_speclib_find(a, "tarp_blue")) >= 0);
  assert_string_equal(vg_speclib_name(a, (size_t)i), "tarp_blue_woven_GDS340");
  assert_true(vg_speclib_find(a, "Tarp_Green") >= 0);
  assert_int_equal(vg_speclib_find(a, "nothing like it"), -1);
  assert_null(vg_speclib_name(a, 14));
  /* LDPE black has 66 deleted channels at the end: valid to 2.434 um */
  i = vg_speclib_find(a, "ldpe_black");
  assert_true(i >= 0);
  assert_near(a->s[i].wl[a->s[i].last], 2.434, 1e-6);

  /* the shared index lists 80 files; the folder holding it reads the same */
  assert_int_equal(vg_speclib_read(&b, index), VG_OK);
  assert_int_equal(vg_speclib_count(b), 80);
  assert_int_equal(vg_speclib_find(b, "tarp_green"), 0);
  assert_int_equal(vg_speclib_read(&c, root), VG_OK);
  assert_int_equal(vg_speclib_count(c), 80);
  for (size_t k = 0; k < 80; k++)
    assert_string_equal(vg_speclib_name(b, k), vg_speclib_name(c, k));
  vg_speclib_free(a);
  vg_speclib_free(b);
  vg_speclib_free(c);
  vg_speclib_free(NULL);
  assert_int_equal(vg_speclib_count(NULL), 0);
  assert_int_equal(vg_speclib_find(NULL, "x"), -1);
  free(plastic);
  free(root);
  free(index);
}

/* ---- spectral library: resampling --------------------------------------------------------------- */

static char *grid_text(const char *header, double w0, double dw, int n, double (*f)(double), const char *eol)
{
  size_t cap = 64 + (size_t)n * 48;
  char *t = malloc(cap);
  size_t at;
  assert_non_null(t);
  at = (size_t)snprintf(t, cap, "%s%s", header, eol);
  for (int i = 0; i < n; i++) {
    double w = w0 + dw * i, v = f(w);
    if (isnan(v))
      at += (size_t)snprintf(t + at, cap - at, "%.6f,NaN%s", w, eol);
    else
      at += (size_t)snprintf(t + at, cap - at, "%.6f,%.9g%s", w, v, eol);
  }
  return t;
}

static double flat(double w) { return 0.25 + 0 * w; }
static double linear(double w) { return w; }
static double gappy(double w) { return w > 1.3 && w < 1.5 ? NAN : 0.5; }

static void speclib_resample(void **state)
{
  char *t = grid_text("wavelength_um,flat", 0.3, 0.1, 28, flat, "\n"); /* 0.3 .. 3.0, coarse */
  vg_speclib *l = lib_mem(t, "flat.csv"), *lin, *gap;
  double wl[64];
  float v[64];
  int n = 0;

  /* a flat spectrum gives its value back: even, uneven, narrow and wide bands */
  for (double w = 0.40; w < 2.5; w += 0.05)
    wl[n++] = w;
  assert_int_equal(vg_speclib_resample(l, 0, wl, n, v), VG_OK);
  for (int k = 0; k < n; k++)
    assert_near(v[k], 0.25, 1e-6);
  {
    double odd[] = {0.3, 0.301, 0.31, 0.5, 1.5, 2.9, 3.0}, narrow[] = {1.0, 1.0001, 1.0002};
    assert_int_equal(vg_speclib_resample(l, 0, odd, 7, v), VG_OK);
    for (int k = 0; k < 7; k++)
      assert_near(v[k], 0.25, 1e-6);
    assert_int_equal(vg_speclib_resample(l, 0, narrow, 3, v), VG_OK);
    for (int k = 0; k < 3; k++)
      assert_near(v[k], 0.25, 1e-6);
  }
  /* outside the valid range: VG_E_RANGE, on either side, even by a hair */
  {
    double below[] = {0.2, 0.5}, above[] = {2.0, 3.01}, hair[] = {0.2999999, 0.5};
    assert_int_equal(vg_speclib_resample(l, 0, below, 2, v), VG_E_RANGE);
    assert_non_null(strstr(vg_error_last(), "outside the valid range"));
    assert_int_equal(vg_speclib_resample(l, 0, above, 2, v), VG_E_RANGE);
    assert_int_equal(vg_speclib_resample(l, 0, hair, 2, v), VG_E_RANGE);
  }
  /* bad arguments */
  {
    double one[] = {1.0}, down[] = {1.0, 0.9}, nanb[] = {1.0, NAN};
    assert_int_equal(vg_speclib_resample(l, 0, one, 1, v), VG_E_INVALID);
    assert_int_equal(vg_speclib_resample(l, 0, down, 2, v), VG_E_INVALID);
    assert_int_equal(vg_speclib_resample(l, 0, nanb, 2, v), VG_E_INVALID);
    assert_int_equal(vg_speclib_resample(l, 1, wl, n, v), VG_E_INVALID);
    assert_int_equal(vg_speclib_resample(NULL, 0, wl, n, v), VG_E_INVALID);
  }
  vg_speclib_free(l);
  free(t);

  /* a linear spectrum: a band whose response lies inside (8 sigma) gives its centre */
  t = grid_text("wavelength_um,linear", 0.1, 0.01, 291, linear, "\n");
  lin = lib_mem(t, "lin.csv");
  assert_int_equal(vg_speclib_resample(lin, 0, wl, n, v), VG_OK);
  for (int k = 0; k < n; k++)
    assert_near(v[k], wl[k], 2e-6);
  vg_speclib_free(lin);
  free(t);

  /* deleted channels 1.31-1.49: a narrow band inside the gap is out of range, a wide one is not */
  t = grid_text("wavelength_um,gappy", 0.3, 0.01, 221, gappy, "\n");
  gap = lib_mem(t, "gap.csv");
  {
    double in_gap[] = {1.39, 1.40, 1.41}, wide[] = {0.9, 1.4, 1.9}, edge[] = {0.3, 0.31};
    assert_int_equal(vg_speclib_resample(gap, 0, in_gap, 3, v), VG_E_RANGE);
    assert_non_null(strstr(vg_error_last(), "deleted channels"));
    assert_int_equal(vg_speclib_resample(gap, 0, wide, 3, v), VG_OK);
    for (int k = 0; k < 3; k++)
      assert_near(v[k], 0.5, 1e-6);
    /* a band centred on the first valid channel: half its response, allowed */
    assert_int_equal(vg_speclib_resample(gap, 0, edge, 2, v), VG_OK);
  }
  vg_speclib_free(gap);
  free(t);
}

/* ---- spectral library: syntax ------------------------------------------------------------------ */

static void speclib_line_ends(void **state)
{
  static const char *eols[] = {"\n", "\r\n", "\r"};
  vg_speclib *ref = NULL;
  for (int e = 0; e < 3; e++) {
    char *t = grid_text("wavelength_um,reflectance", 0.4, 0.01, 50, linear, eols[e]);
    vg_speclib *l = lib_mem(t, "some/dir/Line_Ends.CSV");
    const vg__spectrum *s = spec(l, 0);
    assert_string_equal(vg_speclib_name(l, 0), "Line_Ends");
    assert_int_equal(s->nch, 50);
    if (!ref) {
      ref = l;
    } else {
      assert_memory_equal(s->wl, ref->s[0].wl, 50 * sizeof(double));
      assert_memory_equal(s->r, ref->s[0].r, 50 * sizeof(double));
      vg_speclib_free(l);
    }
    free(t);
  }
  vg_speclib_free(ref);
}

static void speclib_multi(void **state)
{
  const char *t = "\xef\xbb\xbf# a comment before the header\r\n"
                  "\r\n"
                  "Wavelength_UM, green tarp ,\"blue, woven\",\"say \"\"hi\"\"\",reflectance\r\n"
                  "0.40,0.1,NaN,,-1.23e34\r\n"
                  "   \r\n"
                  "# comment between rows\r\n"
                  "0.50 , 0.2 ,0.3,5e-1,1\r\n"
                  "0.60,\"0.3\",nan,0.6,+2.5E+0\r\n"
                  "7e-1,.4,0.5,0.7,3.\r\n";
  vg_speclib *l = lib_mem(t, "multi.csv");
  const vg__spectrum *s;
  assert_int_equal(vg_speclib_count(l), 4);
  assert_string_equal(vg_speclib_name(l, 0), "green tarp");
  assert_string_equal(vg_speclib_name(l, 1), "blue, woven");
  assert_string_equal(vg_speclib_name(l, 2), "say \"hi\"");
  assert_string_equal(vg_speclib_name(l, 3), "reflectance"); /* only alone does it mean "named after the file" */
  assert_int_equal(vg_speclib_find(l, "BLUE"), 1);
  s = spec(l, 0);
  assert_int_equal(s->nch, 4);
  assert_near(s->wl[3], 0.7, 1e-15);
  assert_near(s->r[3], 0.4, 1e-15);
  s = spec(l, 1);
  assert_true(isnan(s->r[0]) && isnan(s->r[2]));
  assert_int_equal(s->first, 1);
  assert_int_equal(s->last, 3);
  s = spec(l, 2);
  assert_true(isnan(s->r[0]));
  assert_near(s->r[1], 0.5, 1e-15);
  s = spec(l, 3);
  assert_true(isnan(s->r[0])); /* the USGS deleted-channel marker */
  assert_near(s->r[2], 2.5, 1e-15);
  assert_near(s->r[3], 3.0, 1e-15);
  vg_speclib_free(l);
}

typedef struct bad_case {
  const char *text;
  int code;
  const char *says; /* part of the detail message */
  size_t len;       /* 0: strlen(text) */
} bad_case;

static void speclib_malformed(void **state)
{
  static const bad_case cases[] = {
    {"", VG_E_MALFORMED, "no header line", 0},
    {"# only a comment\n\n  \n", VG_E_MALFORMED, "no header line", 0},
    {"lambda,x\n0.4,1\n0.5,1\n", VG_E_MALFORMED, "line 1 (byte 0): header starts with 'lambda'", 0},
    {"wavelength_um\n0.4\n0.5\n", VG_E_MALFORMED, "names no spectrum", 0},
    {"wavelength_um,a,,b\n0.4,1,1,1\n", VG_E_MALFORMED, "header column 3 has no name", 0},
    {"wavelength_um,a\n0.4,1\n", VG_E_MALFORMED, "1 data rows", 0},
    {"wavelength_um,a\n0.4,1\n0.5,1,2\n", VG_E_MALFORMED, "line 3 (byte 28): more fields than the header's 2", 0},
    {"wavelength_um,a,b\n0.4,1,2\n0.5,1\n", VG_E_MALFORMED, "line 3 (byte 30): 2 fields, the header has 3", 0},
    {"wavelength_um,a\n0.4,1\n0.5,x1\n", VG_E_MALFORMED, "line 3 (byte 26): value 'x1' (column 2) is not a number", 0},
    {"wavelength_um,a\n0.4,1\n0.5,1e\n", VG_E_MALFORMED, "not a number", 0},
    {"wavelength_um,a\n0.4,1\n0.5,1.2.3\n", VG_E_MALFORMED, "not a number", 0},
    {"wavelength_um,a\n0.4,1\n0.5,inf\n", VG_E_MALFORMED, "not a number", 0},
    {"wavelength_um,a\n0.4,1\n0.5,1e400\n", VG_E_MALFORMED, "out of range", 0},
    {"wavelength_um,a\n0.4,1\n0.5,2e33\n", VG_E_MALFORMED, "out of range", 0},
    {"wavelength_um,a\n0.4,1\nNaN,1\n", VG_E_MALFORMED, "line 3 (byte 22): wavelength 'NaN' is not a number", 0},
    {"wavelength_um,a\n0.4,1\n,1\n", VG_E_MALFORMED, "wavelength '' is not a number", 0},
    {"wavelength_um,a\n0.4,1\n-0.5,1\n", VG_E_MALFORMED, "wavelength -0.5 um is not a positive finite number", 0},
    {"wavelength_um,a\n0.4,1\n1e999,1\n", VG_E_MALFORMED, "wavelength inf um is not a positive finite number", 0},
    {"wavelength_um,a\n0.5,1\n0.4,1\n", VG_E_MALFORMED, "line 3 (byte 22): wavelength 0.4 um does not increase", 0},
    {"wavelength_um,a\n0.5,1\n0.5,1\n", VG_E_MALFORMED, "does not increase", 0},
    {"wavelength_um,a\r0.5,1\r0.5,1\r", VG_E_MALFORMED, "line 3 (byte 22): wavelength 0.5 um does not increase", 0},
    {"wavelength_um,a\r\n900,1\r\n1500,1\r\n", VG_E_LIMIT, "line 3 (byte 24): wavelength 1500 um is beyond 1000 um", 0},
    {"wavelength_um,a\n0.4,NaN\n0.5,1\n", VG_E_MALFORMED, "spectrum 'a' has 1 valid channels", 0},
    {"wavelength_um,\"a\n0.4,1\n", VG_E_MALFORMED, "line 1 (byte 14): spectrum name: line end inside a quoted field",
     0},
    {"wavelength_um,\"a", VG_E_TRUNCATED, "not closed before the end", 0},
    {"wavelength_um,\"a\"b\n", VG_E_MALFORMED, "after the closing quote", 0},
    {"wavelength_um,a\"b\n", VG_E_MALFORMED, "a quote inside a bare field", 0},
    {"wavelength_um,a\x01\n", VG_E_MALFORMED, "control byte 0x01", 0},
    {"wavelength_um,a\n0.4,1\0\n0.5,1\n", VG_E_MALFORMED, "line 2 (byte 21): value: control byte 0x00", 29},
    {"wavelength_um,a\xff\n0.4,1\n0.5,1\n", VG_E_MALFORMED, "not UTF-8", 0},
    {"wavelength_um,a,A\n0.4,1,1\n0.5,1,1\n", VG_E_MALFORMED, "spectrum name 'A' is already in the library", 0},
    {"file,x\nsome.csv,1\n", VG_E_UNSUPPORTED, "can only be read from a path", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    static int sentinel;
    vg_speclib *l = (vg_speclib *)&sentinel;
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
    int rc = vg__detect_speclib_from_mem(&l, (const uint8_t *)cases[i].text, len, "bad.csv");
    if (rc != cases[i].code || !strstr(vg_error_last(), cases[i].says))
      fail_msg("case %zu: %s \"%s\", expected %s with \"%s\"", i, vg_err_name(rc), vg_error_last(),
               vg_err_name(cases[i].code), cases[i].says);
    assert_ptr_equal(l, &sentinel); /* *out untouched */
    assert_non_null(strstr(vg_error_last(), "bad.csv"));
  }
  assert_int_equal(vg__detect_speclib_from_mem(NULL, (const uint8_t *)"x", 1, "n"), VG_E_INVALID);
}

/* Builds "wavelength_um,<n names>\n" plus rows rows of n values. */
static char *wide_text(size_t n, size_t rows, size_t name_len)
{
  size_t cap = 32 + n * (name_len + 8) + rows * (24 + 2 * n), at;
  char *t = malloc(cap);
  assert_non_null(t);
  at = (size_t)snprintf(t, cap, "wavelength_um");
  for (size_t j = 0; j < n; j++) {
    at += (size_t)snprintf(t + at, cap - at, ",%05zu", j);
    for (size_t k = 5; k < name_len; k++)
      t[at++] = 'n';
  }
  t[at++] = '\n';
  for (size_t i = 0; i < rows; i++) {
    at += (size_t)snprintf(t + at, cap - at, "%.6f", 0.001 * (double)(i + 1));
    for (size_t j = 0; j < n; j++) {
      t[at++] = ',';
      t[at++] = '1';
    }
    t[at++] = '\n';
  }
  t[at] = '\0';
  return t;
}

static int parse_text(const char *t, vg_speclib **l)
{
  return vg__detect_speclib_from_mem(l, (const uint8_t *)t, strlen(t), "limits.csv");
}

static void speclib_limits(void **state)
{
  vg_speclib *l = NULL;
  char *t, num[VG_SPECLIB_MAX_NUMBER + 64];

  /* VG_SPECLIB_MAX_NAME */
  t = wide_text(1, 2, VG_SPECLIB_MAX_NAME);
  assert_int_equal(parse_text(t, &l), VG_OK);
  assert_int_equal(strlen(vg_speclib_name(l, 0)), VG_SPECLIB_MAX_NAME);
  vg_speclib_free(l);
  free(t);
  t = wide_text(1, 2, VG_SPECLIB_MAX_NAME + 1);
  assert_int_equal(parse_text(t, &l), VG_E_LIMIT);
  free(t);

  /* VG_SPECLIB_MAX_NUMBER: a value of exactly that many bytes, then one more */
  {
    char field[VG_SPECLIB_MAX_NUMBER + 2];
    memset(field, '0', sizeof field);
    field[1] = '.';
    field[VG_SPECLIB_MAX_NUMBER - 1] = '5';
    field[VG_SPECLIB_MAX_NUMBER] = '\0';
    snprintf(num, sizeof num, "wavelength_um,a\n0.4,%s\n0.5,1\n", field);
    l = NULL;
    assert_int_equal(parse_text(num, &l), VG_OK);
    assert_near(l->s[0].r[0], 5e-62, 1e-75);
    vg_speclib_free(l);
    field[VG_SPECLIB_MAX_NUMBER] = '5';
    field[VG_SPECLIB_MAX_NUMBER + 1] = '\0';
    snprintf(num, sizeof num, "wavelength_um,a\n0.4,%s\n0.5,1\n", field);
    assert_int_equal(parse_text(num, &l), VG_E_LIMIT);
  }

  /* VG_SPECLIB_MAX_SPECTRA columns */
  t = wide_text(VG_SPECLIB_MAX_SPECTRA, 2, 5);
  assert_int_equal(parse_text(t, &l), VG_OK);
  assert_int_equal(vg_speclib_count(l), VG_SPECLIB_MAX_SPECTRA);
  vg_speclib_free(l);
  free(t);
  t = wide_text(VG_SPECLIB_MAX_SPECTRA + 1, 2, 5);
  assert_int_equal(parse_text(t, &l), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MAX_SPECTRA"));
  free(t);

  /* VG_SPECLIB_MAX_CHANNELS rows */
  t = wide_text(1, VG_SPECLIB_MAX_CHANNELS, 5);
  assert_int_equal(parse_text(t, &l), VG_OK);
  assert_int_equal(l->s[0].nch, VG_SPECLIB_MAX_CHANNELS);
  vg_speclib_free(l);
  free(t);
  t = wide_text(1, VG_SPECLIB_MAX_CHANNELS + 1, 5);
  assert_int_equal(parse_text(t, &l), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MAX_CHANNELS"));
  free(t);

  /* VG_SPECLIB_MAX_VALUES: 4096 spectra of 2048 channels fill it; one row more does not fit */
  assert_int_equal((size_t)VG_SPECLIB_MAX_SPECTRA * 2048, VG_SPECLIB_MAX_VALUES);
  t = wide_text(VG_SPECLIB_MAX_SPECTRA, 2049, 5);
  assert_int_equal(parse_text(t, &l), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MAX_VALUES"));
  assert_non_null(strstr(vg_error_last(), "line 2050"));
  free(t);

  /* VG_SPECLIB_MAX_WL_UM: at the limit, and past it */
  l = NULL;
  assert_int_equal(parse_text("wavelength_um,a\n999,1\n1000,1\n", &l), VG_OK);
  vg_speclib_free(l);
  assert_int_equal(parse_text("wavelength_um,a\n999,1\n1000.001,1\n", &l), VG_E_LIMIT);

  /* VG_SPECLIB_MIN_WL_UM: at the limit, and below it */
  l = NULL;
  assert_int_equal(parse_text("wavelength_um,a\n0.001,1\n0.002,1\n", &l), VG_OK);
  vg_speclib_free(l);
  assert_int_equal(parse_text("wavelength_um,a\n0.00099,1\n0.002,1\n", &l), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MIN_WL_UM"));

  /* VG_SPECLIB_DELETED: the marker and below are deleted, just above is a (strange) value */
  l = NULL;
  assert_int_equal(parse_text("wavelength_um,a\n0.4,-1e33\n0.5,1\n0.6,1\n", &l), VG_OK);
  assert_true(isnan(l->s[0].r[0]));
  vg_speclib_free(l);
  l = NULL;
  assert_int_equal(parse_text("wavelength_um,a\n0.4,-9.9e32\n0.5,1\n0.6,1\n", &l), VG_OK);
  assert_near(l->s[0].r[0], -9.9e32, 1e18);
  vg_speclib_free(l);
}

/* ---- spectral library: folders, indexes, files --------------------------------------------------- */

static void speclib_paths(void **state)
{
  char p[512];
  vg_speclib *l = NULL;
  int rc;

  /* a folder without an index: its .csv files in name order, other files ignored */
  snprintf(p, sizeof p, "%s/a", tmpdir);
  assert_int_equal(mkdir(p, 0700), 0);
  write_file("a/b.csv", "wavelength_um,reflectance\n0.4,0.1\n0.5,0.2\n");
  write_file("a/a.csv", "wavelength_um,x,y\r0.4,0.1,0.3\r0.5,0.2,0.4\r");
  write_file("a/notes.txt", "not a spectrum");
  assert_int_equal(vg_speclib_read(&l, p), VG_OK);
  assert_int_equal(vg_speclib_count(l), 3);
  assert_string_equal(vg_speclib_name(l, 0), "x");
  assert_string_equal(vg_speclib_name(l, 1), "y");
  assert_string_equal(vg_speclib_name(l, 2), "b");
  vg_speclib_free(l);

  /* a folder with index.csv: only what it lists, relative to it */
  snprintf(p, sizeof p, "%s/b", tmpdir);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/b/sub", tmpdir);
  assert_int_equal(mkdir(p, 0700), 0);
  write_file("b/sub/c.csv", "wavelength_um,reflectance\n0.4,0.1\n0.5,0.2\n");
  write_file("b/d.csv", "wavelength_um,reflectance\n0.4,0.1\n0.5,0.2\n");
  write_file("b/index.csv", "file,material\nsub/c.csv,\"plastic, blue\"\n");
  snprintf(p, sizeof p, "%s/b", tmpdir);
  l = NULL;
  assert_int_equal(vg_speclib_read(&l, p), VG_OK);
  assert_int_equal(vg_speclib_count(l), 1);
  assert_string_equal(vg_speclib_name(l, 0), "c");
  vg_speclib_free(l);

  /* indexes that must be refused */
  {
    static const struct {
      const char *index;
      int code;
      const char *says;
    } bad[] = {
      {"file\n../a/b.csv\n", VG_E_MALFORMED, "line 2 (byte 5): file path '../a/b.csv' leaves the index's folder"},
      {"file\nx/../../y.csv\n", VG_E_MALFORMED, "leaves the index's folder"},
      {"file\n/etc/passwd\n", VG_E_MALFORMED, "is absolute"},
      {"file\n\"\"\n", VG_E_MALFORMED, "empty file path"},
      {"file,a\nx.csv\n", VG_E_MALFORMED, "line 2 (byte 7): 1 fields, the header has 2"},
      {"file\n", VG_E_MALFORMED, "lists no file"},
      {"file\nmissing.csv\n", VG_E_IO, "missing.csv: no such regular file (listed in"},
      {"file\nindex.csv\n", VG_E_MALFORMED, "is an index; an index lists spectra files only"},
      {"file\nx.csv\n\ny.csv\n", VG_E_MALFORMED,
       "is already in the library (names are compared ignoring case) (listed in"},
      {"file\nx.csv\nbad.csv\n", VG_E_MALFORMED, "bad.csv: line 3 (byte 24): wavelength 0.3 um does not increase"},
    };
    snprintf(p, sizeof p, "%s/c", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
    write_file("c/x.csv", "wavelength_um,same\n0.4,0.1\n0.5,0.2\n");
    write_file("c/y.csv", "wavelength_um,SAME\n0.4,0.1\n0.5,0.2\n");
    write_file("c/bad.csv", "wavelength_um,z\n0.4,0.1\n0.3,0.2\n");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      static int sentinel;
      write_file("c/index.csv", bad[i].index);
      snprintf(p, sizeof p, "%s/c/index.csv", tmpdir);
      l = (vg_speclib *)&sentinel;
      rc = vg_speclib_read(&l, p);
      if (rc != bad[i].code || !strstr(vg_error_last(), bad[i].says))
        fail_msg("index %zu: %s \"%s\", expected %s with \"%s\"", i, vg_err_name(rc), vg_error_last(),
                 vg_err_name(bad[i].code), bad[i].says);
      assert_ptr_equal(l, &sentinel);
    }
  }

  /* VG_SPECLIB_MAX_FILES: an index listing one more is refused before any file is opened */
  {
    size_t n = VG_SPECLIB_MAX_FILES + 1, cap = 16 + n * 16, at;
    char *t = malloc(cap);
    assert_non_null(t);
    at = (size_t)snprintf(t, cap, "file\n");
    for (size_t i = 0; i < n; i++)
      at += (size_t)snprintf(t + at, cap - at, "f%zu.csv\n", i);
    snprintf(p, sizeof p, "%s/e", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
    write_file("e/index.csv", t);
    snprintf(p, sizeof p, "%s/e/index.csv", tmpdir);
    assert_int_equal(vg_speclib_read(&l, p), VG_E_LIMIT);
    assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MAX_FILES"));
    free(t);
  }

  /* VG_SPECLIB_MAX_FILE_BYTES: a (sparse) file one byte over is refused unread */
  {
    FILE *f;
    snprintf(p, sizeof p, "%s/big.csv", tmpdir);
    assert_non_null(f = fopen(p, "wb"));
    assert_int_equal(fseek(f, (long)VG_SPECLIB_MAX_FILE_BYTES, SEEK_SET), 0);
    assert_int_equal(fputc('\n', f), '\n');
    fclose(f);
    assert_int_equal(vg_speclib_read(&l, p), VG_E_LIMIT);
    assert_non_null(strstr(vg_error_last(), "VG_SPECLIB_MAX_FILE_BYTES"));
  }

  /* no such path; an empty one */
  snprintf(p, sizeof p, "%s/nothing-here.csv", tmpdir);
  assert_int_equal(vg_speclib_read(&l, p), VG_E_IO);
  assert_int_equal(vg_speclib_read(&l, ""), VG_E_INVALID);
  assert_int_equal(vg_speclib_read(NULL, p), VG_E_INVALID);
}

int test_detect_target_run(void)
{
  const struct CMUnitTest det[] = {
    cmocka_unit_test(mf_ace_synthetic),
    cmocka_unit_test(cem_synthetic),
    cmocka_unit_test(target_errors),
    cmocka_unit_test(haiti_tarps),
  };
  const struct CMUnitTest lib[] = {
    cmocka_unit_test(speclib_usgs_tarps),
    cmocka_unit_test(speclib_folders),
    cmocka_unit_test(speclib_resample),
    cmocka_unit_test(speclib_line_ends),
    cmocka_unit_test(speclib_multi),
    cmocka_unit_test(speclib_malformed),
    cmocka_unit_test(speclib_limits),
    cmocka_unit_test_setup_teardown(speclib_paths, rm_tree_setup, rm_tree_teardown),
  };
  int failed = 0;
  failed += cmocka_run_group_tests_name("detect.target", det, NULL, NULL);
  failed += cmocka_run_group_tests_name("detect.speclib", lib, NULL, NULL);
  return failed;
}
