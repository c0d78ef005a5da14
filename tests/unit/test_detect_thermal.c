/*
 * The contextual thermal detector (lib/detect/thermal.c, research/detection.md
 * 4.3, drone LWIR adaptation of MODIS MOD14).
 *
 * Expected values come from a reference written here without summed-area
 * tables or deviation bounds: every candidate's window is grown by counting
 * its pixels, its mean and mean absolute deviation summed directly; masks must
 * be identical and scores agree to 1e-4 on random frames with NaN, borders,
 * absolute pixels and several option sets. Small hand-built frames check a
 * flat frame, one hot pixel (and its score from a known MAD), NaN pixels,
 * window growth at borders and inside warm blocks, and the option limits.
 *
 * Real frames (FLAME 3, data/thermal/SOURCES.md, read with GDAL directly):
 *  - Willamette: the four label maps are a threshold near 100 C (measured
 *    here: 99.3-104.2 C). At least 99 % of the labelled pixels must be in the
 *    mask, and the absolute test alone (contextual test off) must give
 *    IoU >= 0.9 with the labels. The full mask's IoU (about 0.5) is printed,
 *    not asserted: the contextual test rightly adds the fire's warm fringe
 *    (about 5000 pixels per frame at 50-100 C within 5 px of the >= 100 C
 *    fire, 15-65 K above the 35 C ground), which a 100 C threshold map does
 *    not hold; IoU >= 0.9 would allow some 530 such pixels.
 *  - All seven frames: 20 warm spots each (2x2 to 4x4, flat or with a
 *    Gaussian edge, 2-5 K above the 21x21 median of the place, on ordinary
 *    ground at least 15 px from the fire or from anything 10 K above its
 *    surroundings; fixed seed). At least 90 % must be found. False alarms
 *    (8-connected components touching no spot and no labelled or >= t_abs
 *    pixel) are printed per frame; what is asserted is that the spots add at
 *    most one per frame on average to those of the frame without them: the
 *    frames themselves hold hundreds of natural warm patches 2-5 K above
 *    their surroundings (sun-warmed ground, tree-line edges, sensor speckle),
 *    which any test that finds 2 K spots also finds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "testutil.h"
#include "vigia/detect.h"


/* ---- helpers -------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x7e57ab1e5eed0001ull;
static uint64_t rng_u64(void)
{
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}
static double urand(void) { return (double)(rng_u64() >> 11) / 9007199254740992.0; }

static float *frame_const(int rows, int cols, float v)
{
  float *t = malloc((size_t)rows * (size_t)cols * sizeof *t);
  assert_non_null(t);
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    t[i] = v;
  return t;
}

/* v + uniform noise of +-amp. */
static float *frame_noise(int rows, int cols, float v, double amp)
{
  float *t = frame_const(rows, cols, v);
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    t[i] += (float)(amp * (2 * urand() - 1));
  return t;
}

static size_t count_mask(const uint8_t *m, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += m[i] != 0;
  return k;
}

/* ---- the reference: the same test, written out directly --------------------------------------- */

static void ref_detect(const float *t, int rows, int cols, const vg_thermal_opts *o, uint8_t *mask,
                       float *score)
{
  size_t n = (size_t)rows * (size_t)cols;
  int bs = (o->win_max + 2) / 3;
  uint8_t *cand = calloc(n, 1);
  double *lvl = malloc(n * sizeof *lvl);
  assert_non_null(cand);
  assert_non_null(lvl);
  /* reference level: mean of the finite pixels <= t_abs of the 3x3 blocks around the pixel's block */
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      int bi = r / bs, bj = c / bs;
      double s = 0;
      long k = 0;
      for (int y = (bi - 1) * bs; y < (bi + 2) * bs; y++)
        for (int x = (bj - 1) * bs; x < (bj + 2) * bs; x++)
          if (y >= 0 && y < rows && x >= 0 && x < cols && isfinite(t[y * cols + x]) &&
              t[y * cols + x] <= o->t_abs_c) {
            s += t[y * cols + x];
            k++;
          }
      lvl[r * cols + c] = k ? s / (double)k : NAN;
    }
  for (size_t i = 0; i < n; i++)
    cand[i] = isfinite(t[i]) && (t[i] > o->t_abs_c || t[i] > lvl[i] + o->candidate_dt);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      size_t i = (size_t)r * (size_t)cols + (size_t)c;
      double v = t[i], mean = 0, mad = 0, dev, d;
      int found = 0, absolute = v > o->t_abs_c;
      long k = 0;
      mask[i] = 0;
      if (score)
        score[i] = 0;
      if (!cand[i])
        continue;
      for (int w = o->win_min; w <= o->win_max && !found; w += 2) {
        int h = w / 2;
        long area = 0;
        double s = 0;
        k = 0;
        for (int y = r - h; y <= r + h; y++)
          for (int x = c - h; x <= c + h; x++) {
            if (y < 0 || y >= rows || x < 0 || x >= cols)
              continue;
            area++;
            if (isfinite(t[y * cols + x]) && !cand[y * cols + x]) {
              s += t[y * cols + x];
              k++;
            }
          }
        if (k >= o->min_valid && (double)k >= o->valid_frac * (double)area) {
          found = 1;
          mean = s / (double)k;
          for (int y = r - h; y <= r + h; y++)
            for (int x = c - h; x <= c + h; x++)
              if (y >= 0 && y < rows && x >= 0 && x < cols && isfinite(t[y * cols + x]) &&
                  !cand[y * cols + x])
                mad += fabs(t[y * cols + x] - mean);
          mad /= (double)k;
        }
      }
      if (!found) {
        mask[i] = (uint8_t)absolute;
        if (score && absolute)
          score[i] = (float)((v - (isfinite(lvl[i]) ? lvl[i] : o->t_abs_c)) / o->mad_floor);
        continue;
      }
      dev = mad > o->mad_floor ? mad : o->mad_floor;
      d = v - mean;
      mask[i] = (uint8_t)(absolute || d > fmax(o->k * dev, o->dt_min));
      if (score)
        score[i] = (float)(d / dev);
    }
  free(cand);
  free(lvl);
}

/* ---- synthetic frames ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
  vg_thermal_opts o;
  (void)state;
  memset(&o, 0xff, sizeof o);
  vg_thermal_opts_default(&o);
  assert_int_equal(o.version, VG_THERMAL_OPTS_VERSION);
  assert_true(o.t_abs_c == 100.0);
  assert_true(o.k == 3.0);
  assert_true(o.dt_min >= 1.5 && o.dt_min <= 2.0);
  assert_true(o.mad_floor == 0.5);
  assert_int_equal(o.win_min, 3);
  assert_int_equal(o.win_max, 21);
  assert_true(o.valid_frac == 0.25);
  assert_int_equal(o.min_valid, 8);
  assert_true(o.candidate_dt > 0 && o.candidate_dt <= o.dt_min);
}

static void test_flat(void **state)
{
  const int R = 48, C = 64;
  float *t = frame_const(R, C, 20.0f), *s = malloc(R * C * sizeof *s);
  uint8_t *m = malloc(R * C);
  (void)state;
  assert_non_null(s);
  assert_non_null(m);
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 0);
  for (int i = 0; i < R * C; i++)
    assert_true(s[i] == 0.0f);
  /* a little noise (+-0.3 K) is no hot spot either */
  free(t);
  t = frame_noise(R, C, 20.0f, 0.3);
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 0);
  /* a frame all above t_abs is all hot, by the absolute test */
  free(t);
  t = frame_const(R, C, 150.0f);
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), R * C);
  for (int i = 0; i < R * C; i++) /* no background anywhere: (T - t_abs) / mad_floor */
    assert_float_equal(s[i], (150.0f - 100.0f) / 0.5f, 1e-4);
  free(t);
  free(s);
  free(m);
}

static void test_single_hot_pixel(void **state)
{
  const int R = 40, C = 50;
  float *t = frame_noise(R, C, 20.0f, 0.3), *s = malloc(R * C * sizeof *s);
  uint8_t *m = malloc(R * C);
  vg_thermal_opts o;
  (void)state;
  assert_non_null(s);
  assert_non_null(m);
  vg_thermal_opts_default(&o);
  t[17 * C + 23] = 24.0f;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 1);
  assert_int_equal(m[17 * C + 23], 1);
  assert_true(s[17 * C + 23] > o.k);
  /* 1.5 K is under dt_min: not hot */
  t[17 * C + 23] = 21.5f;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 0);
  free(t);

  /*
   * Known score: a checkerboard of 19.5 / 20.5 has mean 20 and MAD 0.5 in a
   * 3x3 window around a centre pixel; a pixel at 23 scores (23 - 20) / 0.5.
   */
  t = frame_const(R, C, 0);
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++)
      t[r * C + c] = (r + c) & 1 ? 20.5f : 19.5f;
  t[20 * C + 20] = 23.0f;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 1);
  assert_float_equal(s[20 * C + 20], 6.0f, 1e-5);
  /* with k = 7 the threshold is 3.5 K: 3 K is not enough; the score is the same */
  o.k = 7;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 0);
  assert_float_equal(s[20 * C + 20], 6.0f, 1e-5);
  free(t);
  free(s);
  free(m);
}

static void test_nan(void **state)
{
  const int R = 40, C = 50;
  float *t = frame_noise(R, C, 20.0f, 0.3), *s = malloc(R * C * sizeof *s);
  uint8_t *m = malloc(R * C), *m2 = malloc(R * C);
  (void)state;
  assert_non_null(s);
  assert_non_null(m);
  assert_non_null(m2);
  /* 10 % NaN and infinities scattered; a hot pixel ringed by NaN (its 3x3 holds no background) */
  for (int i = 0; i < R * C; i++)
    if (urand() < 0.1)
      t[i] = urand() < 0.8 ? NAN : (urand() < 0.5 ? INFINITY : -INFINITY);
  for (int dr = -1; dr <= 1; dr++)
    for (int dc = -1; dc <= 1; dc++)
      t[(20 + dr) * C + 25 + dc] = NAN;
  t[20 * C + 25] = 25.0f;
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 1);
  assert_int_equal(m[20 * C + 25], 1);
  for (int i = 0; i < R * C; i++)
    if (!isfinite(t[i]))
      assert_true(m[i] == 0 && s[i] == 0.0f);
  /* a frame of NaN only */
  for (int i = 0; i < R * C; i++)
    t[i] = NAN;
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, s), VG_OK);
  assert_int_equal(count_mask(m, R * C), 0);
  /* a NaN hot spot among valid pixels is not hot; the others are unchanged */
  free(t);
  t = frame_noise(R, C, 20.0f, 0.3);
  t[5 * C + 5] = 26.0f;
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m2, NULL), VG_OK);
  t[30 * C + 30] = NAN;
  assert_int_equal(vg_thermal_detect(t, R, C, NULL, m, NULL), VG_OK);
  assert_memory_equal(m, m2, (size_t)R * C);
  assert_int_equal(m[5 * C + 5], 1);
  free(t);
  free(s);
  free(m);
  free(m2);
}

static void test_border_growth(void **state)
{
  const int R = 40, C = 50;
  float *t = frame_noise(R, C, 20.0f, 0.3);
  uint8_t *m = malloc(R * C);
  vg_thermal_opts o;
  const int px[4][2] = {{0, 0}, {0, C - 1}, {R - 1, 0}, {R - 1, C - 1}};
  (void)state;
  assert_non_null(m);
  vg_thermal_opts_default(&o);
  /* corners: the 3x3 window holds 3 pixels of background (< min_valid 8), the 5x5 holds 8 */
  for (int k = 0; k < 4; k++)
    t[px[k][0] * C + px[k][1]] = 25.0f;
  t[0 * C + 20] = 25.0f; /* an edge: 5 in the 3x3, 14 in the 5x5 */
  t[20 * C + 20] = 25.0f;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, NULL), VG_OK);
  assert_int_equal(count_mask(m, R * C), 6);
  for (int k = 0; k < 4; k++)
    assert_int_equal(m[px[k][0] * C + px[k][1]], 1);
  /* without growth (3x3 only) the corners and the edge have no background: only the middle is hot */
  o.win_max = 3;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, NULL), VG_OK);
  assert_int_equal(count_mask(m, R * C), 1);
  assert_int_equal(m[20 * C + 20], 1);
  /* min_valid 3 lets the corners use their 3x3 (3 of 4 in-frame pixels, >= 25 %) */
  o.min_valid = 3;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, NULL), VG_OK);
  assert_int_equal(count_mask(m, R * C), 6);
  free(t);

  /*
   * A warm 9x9 block (+6 K) over the ground: up to 9x9 its centre's windows
   * hold only candidates; the 11x11 has 40 background pixels of 121 (>= 25 %),
   * so the whole block is hot with win_max 21, and its centre is not with
   * win_max 9 (no window qualifies; at that size the reference level, 9x9
   * blocks, also sits inside the warm block).
   */
  t = frame_noise(R, C, 20.0f, 0.3);
  for (int r = 16; r < 25; r++)
    for (int c = 21; c < 30; c++)
      t[r * C + c] = 26.0f;
  vg_thermal_opts_default(&o);
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, NULL), VG_OK);
  assert_int_equal(m[20 * C + 25], 1);
  assert_int_equal(count_mask(m, R * C), 81);
  o.win_max = 9;
  assert_int_equal(vg_thermal_detect(t, R, C, &o, m, NULL), VG_OK);
  assert_int_equal(m[20 * C + 25], 0);
  free(t);
  free(m);
}

static void test_options(void **state)
{
  float t[16] = {0}, s[16];
  uint8_t m[16];
  vg_thermal_opts o, d;
  (void)state;
  vg_thermal_opts_default(&d);
  o = d;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_OK);
  o.version = VG_THERMAL_OPTS_VERSION + 1;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.win_min = 4;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.win_min = 1;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.win_max = 2;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.win_max = 63; /* the widest window (TH_WIN_LIMIT) */
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_OK);
  o = d, o.win_max = 65;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.mad_floor = 0;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.k = NAN;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.dt_min = -1;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.t_abs_c = NAN;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.t_abs_c = INFINITY; /* no absolute test */
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_OK);
  o = d, o.valid_frac = 1.5;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  o = d, o.min_valid = 0;
  assert_int_equal(vg_thermal_detect(t, 4, 4, &o, m, s), VG_E_INVALID);
  assert_int_equal(vg_thermal_detect(NULL, 4, 4, &d, m, s), VG_E_INVALID);
  assert_int_equal(vg_thermal_detect(t, 4, 4, &d, NULL, s), VG_E_INVALID);
  assert_int_equal(vg_thermal_detect(t, 0, 4, &d, m, s), VG_E_INVALID);
  /* the frame limit (TH_MAX_PIXELS, 2^25) is checked before the data is read */
  assert_int_equal(vg_thermal_detect(t, 8192, 4097, &d, m, s), VG_E_LIMIT);
  assert_int_equal(vg_thermal_detect(t, 1, 1, &d, m, s), VG_OK);
}

/* Random frames against the reference, for several option sets. */
static void test_against_reference(void **state)
{
  const int R = 37, C = 53;
  vg_thermal_opts sets[6];
  float *s1 = malloc(R * C * sizeof *s1), *s2 = malloc(R * C * sizeof *s2);
  uint8_t *m1 = malloc(R * C), *m2 = malloc(R * C);
  long hot = 0;
  (void)state;
  assert_non_null(s1);
  assert_non_null(s2);
  assert_non_null(m1);
  assert_non_null(m2);
  for (int k = 0; k < 6; k++)
    vg_thermal_opts_default(&sets[k]);
  sets[1].win_min = 5, sets[1].win_max = 9, sets[1].valid_frac = 0.5, sets[1].min_valid = 4;
  sets[2].win_max = 3;
  sets[3].t_abs_c = INFINITY, sets[3].k = 0, sets[3].candidate_dt = 0.3;
  sets[4].k = 2, sets[4].dt_min = 0.5, sets[4].mad_floor = 0.1, sets[4].win_max = 31;
  sets[5].t_abs_c = 40, sets[5].valid_frac = 0, sets[5].min_valid = 1, sets[5].candidate_dt = -0.2;
  for (int trial = 0; trial < 60; trial++) {
    const vg_thermal_opts *o = &sets[trial % 6];
    float *t = frame_noise(R, C, 20.0f, 0.2 + 1.5 * urand());
    for (int r = 0; r < R; r++) /* a gradient, warm spots, fire pixels, NaN */
      for (int c = 0; c < C; c++)
        t[r * C + c] += (float)(0.05 * r - 0.03 * c);
    for (int k = 0; k < 12; k++)
      t[(int)(urand() * R) * C + (int)(urand() * C)] += (float)(2 + 8 * urand());
    for (int k = 0; k < 4; k++)
      t[(int)(urand() * R) * C + (int)(urand() * C)] = (float)(90 + 100 * urand());
    for (int k = 0; k < 30; k++)
      t[(int)(urand() * R) * C + (int)(urand() * C)] = NAN;
    assert_int_equal(vg_thermal_detect(t, R, C, o, m1, NULL), VG_OK);
    assert_int_equal(vg_thermal_detect(t, R, C, o, m2, s1), VG_OK);
    assert_memory_equal(m1, m2, (size_t)R * C); /* with or without a score: the same mask */
    ref_detect(t, R, C, o, m2, s2);
    for (int i = 0; i < R * C; i++) {
      if (m1[i] != m2[i])
        fail_msg("trial %d pixel (%d, %d) T %g: mask %d, reference %d", trial, i / C, i % C,
                 (double)t[i], m1[i], m2[i]);
      if (!(fabsf(s1[i] - s2[i]) <= 1e-4f * (1 + fabsf(s2[i]))))
        fail_msg("trial %d pixel (%d, %d): score %g, reference %g", trial, i / C, i % C,
                 (double)s1[i], (double)s2[i]);
      hot += m1[i];
    }
    free(t);
  }
  assert_true(hot > 100);
  free(s1);
  free(s2);
  free(m1);
  free(m2);
}

/* ---- FLAME 3 frames -------------------------------------------------------------------------- */

#define FR 512
#define FC 640
#define NPX ((size_t)FR * FC)

static const char *const frames[7] = {"sycan_00006",     "sycan_00007",     "sycan_00008",
                                      "wilamette_00001", "wilamette_00002", "wilamette_00003",
                                      "wilamette_00004"};

/* Band 1 of a FLAME 3 file (640 x 512) as @p type; the test ends (or skips) if absent. */
static void read_frame(const char *name, const char *suffix, GDALDataType type, void *buf)
{
  char rel[128];
  char *path;
  GDALDatasetH ds;
  snprintf(rel, sizeof rel, "thermal/%s%s", name, suffix);
  path = VG_REQUIRE_DATA(rel);
  GDALAllRegister();
  ds = GDALOpen(path, GA_ReadOnly);
  if (!ds)
    fail_msg("GDAL cannot open %s", path);
  assert_int_equal(GDALGetRasterXSize(ds), FC);
  assert_int_equal(GDALGetRasterYSize(ds), FR);
  assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, FC, FR, buf, FC, FR, type,
                                0, 0),
                   CE_None);
  GDALClose(ds);
  free(path);
}

/* Skips (or fails under CI) before anything is allocated when a frame is absent. */
static void require_frames(int from, int labels)
{
  for (int f = from; f < 7; f++) {
    char rel[128];
    snprintf(rel, sizeof rel, "thermal/%s.tiff", frames[f]);
    free(VG_REQUIRE_DATA(rel));
    if (labels) {
      snprintf(rel, sizeof rel, "thermal/%s_labels.png", frames[f]);
      free(VG_REQUIRE_DATA(rel));
    }
  }
}

/* 8-connected components of @p m into @p lab (1..n); @return n. */
static int label8(const uint8_t *m, int32_t *lab)
{
  int32_t *stack = malloc(NPX * sizeof *stack);
  int n = 0;
  assert_non_null(stack);
  memset(lab, 0, NPX * sizeof *lab);
  for (size_t i = 0; i < NPX; i++) {
    size_t sp = 0;
    if (!m[i] || lab[i])
      continue;
    lab[i] = ++n;
    stack[sp++] = (int32_t)i;
    while (sp) {
      int j = stack[--sp], y = j / FC, x = j % FC;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int yy = y + dy, xx = x + dx, k;
          if (yy < 0 || yy >= FR || xx < 0 || xx >= FC)
            continue;
          k = yy * FC + xx;
          if (m[k] && !lab[k]) {
            lab[k] = n;
            stack[sp++] = k;
          }
        }
    }
  }
  free(stack);
  return n;
}

/* Components of @p m holding no pixel of @p explained. */
static int false_alarms(const uint8_t *m, const uint8_t *explained, int32_t *lab)
{
  int n = label8(m, lab), fa = 0;
  uint8_t *ok = calloc((size_t)n + 1, 1);
  assert_non_null(ok);
  for (size_t i = 0; i < NPX; i++)
    if (lab[i] && explained[i])
      ok[lab[i]] = 1;
  for (int k = 1; k <= n; k++)
    fa += !ok[k];
  free(ok);
  return fa;
}

static int cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Median of the (2h+1)^2 window centred on (r, c), clipped to the frame. */
static double median_win(const float *t, int r, int c, int h, float *buf)
{
  int n = 0;
  for (int y = r - h; y <= r + h; y++)
    for (int x = c - h; x <= c + h; x++)
      if (y >= 0 && y < FR && x >= 0 && x < FC)
        buf[n++] = t[y * FC + x];
  qsort(buf, (size_t)n, sizeof *buf, cmp_float);
  return buf[n / 2];
}

static void test_flame_labels(void **state)
{
  float *t;
  uint8_t *lab, *m;
  vg_thermal_opts o, abs_only;
  (void)state;
  require_frames(3, 1);
  t = malloc(NPX * sizeof *t);
  lab = malloc(NPX);
  m = malloc(NPX);
  assert_non_null(t);
  assert_non_null(lab);
  assert_non_null(m);
  vg_thermal_opts_default(&o);
  abs_only = o;
  abs_only.dt_min = 1e6; /* the contextual test can never pass */
  for (int f = 3; f < 7; f++) {
    size_t inter = 0, uni = 0, nl = 0, nm = 0, ia = 0, ua = 0;
    float lo = INFINITY, hi = -INFINITY;
    read_frame(frames[f], ".tiff", GDT_Float32, t);
    read_frame(frames[f], "_labels.png", GDT_Byte, lab);
    for (size_t i = 0; i < NPX; i++) { /* the labels' threshold: between these two */
      if (lab[i] && t[i] < lo)
        lo = t[i];
      if (!lab[i] && t[i] > hi)
        hi = t[i];
    }
    assert_true(hi < lo);
    assert_true(lo >= 99.0f && lo <= 105.0f);
    assert_int_equal(vg_thermal_detect(t, FR, FC, &abs_only, m, NULL), VG_OK);
    for (size_t i = 0; i < NPX; i++) {
      ia += m[i] && lab[i];
      ua += m[i] || lab[i];
    }
    assert_int_equal(vg_thermal_detect(t, FR, FC, &o, m, NULL), VG_OK);
    for (size_t i = 0; i < NPX; i++) {
      inter += m[i] && lab[i];
      uni += m[i] || lab[i];
      nl += lab[i] != 0;
      nm += m[i];
    }
    print_message("%s: labels %zu px (threshold %.2f..%.2f C); absolute test IoU %.4f; "
                  "full mask %zu px, IoU %.4f, labels in mask %zu/%zu\n",
                  frames[f], nl, (double)hi, (double)lo, (double)ia / (double)ua, nm,
                  (double)inter / (double)uni, inter, nl);
    assert_true((double)ia / (double)ua >= 0.9);
    /* labelled pixels can be below t_abs (99.3 C in 00004) deep in the fire, where no window qualifies */
    assert_true(inter * 100 >= nl * 99);
  }
  free(t);
  free(lab);
  free(m);
}

/* Implanted spots: see the file's header. */
#define SPOTS 20
#define SPOT_SEP 24      /* spots this far apart (px, Chebyshev): no spot in another's window */
#define SPOT_CLEAR 15    /* no fire, label or > median + SPOT_HOT_K within this many px */
#define SPOT_HOT_K 10.0  /* K above the 31x31 median: "a hot area" */
#define SPOT_EDGE_SIGMA 0.6

typedef struct spot {
  int r, c, s, gauss;
  double lm, dt;
} spot;

static void test_flame_implants(void **state)
{
  float *t0, *t, buf[31 * 31];
  uint8_t *lab, *id, *m, *expl;
  int32_t *cl;
  vg_thermal_opts o;
  int found_all = 0, spots_all = 0, fa_all = 0, fa0_all = 0, miss_by[3] = {0}, n_by[3] = {0};
  (void)state;
  require_frames(0, 0);
  require_frames(3, 1);
  t0 = malloc(NPX * sizeof *t0);
  t = malloc(NPX * sizeof *t);
  lab = calloc(NPX, 1);
  id = malloc(NPX);
  m = malloc(NPX);
  expl = malloc(NPX);
  cl = malloc(NPX * sizeof *cl);
  assert_non_null(t0);
  assert_non_null(t);
  assert_non_null(lab);
  assert_non_null(id);
  assert_non_null(m);
  assert_non_null(expl);
  assert_non_null(cl);
  vg_thermal_opts_default(&o);
  for (int f = 0; f < 7; f++) {
    spot sp[SPOTS];
    int n = 0, found = 0, fa, fa0;
    long tries = 0;
    read_frame(frames[f], ".tiff", GDT_Float32, t0);
    memset(lab, 0, NPX);
    if (f >= 3)
      read_frame(frames[f], "_labels.png", GDT_Byte, lab);
    memcpy(t, t0, NPX * sizeof *t);
    memset(id, 0, NPX);
    rng_state = 0x5eed000000000000ull + (uint64_t)f * 0x9e3779b97f4a7c15ull;
    while (n < SPOTS && tries++ < 200000) {
      int s = 2 + (int)(rng_u64() % 3), r = (int)(rng_u64() % (uint64_t)(FR - s + 1)),
          c = (int)(rng_u64() % (uint64_t)(FC - s + 1)), ok = 1;
      double lm31;
      for (int k = 0; k < n && ok; k++)
        ok = abs(sp[k].r - r) >= SPOT_SEP || abs(sp[k].c - c) >= SPOT_SEP;
      if (!ok)
        continue;
      lm31 = median_win(t0, r + s / 2, c + s / 2, 15, buf);
      for (int y = r - SPOT_CLEAR; y < r + s + SPOT_CLEAR && ok; y++)
        for (int x = c - SPOT_CLEAR; x < c + s + SPOT_CLEAR && ok; x++)
          if (y >= 0 && y < FR && x >= 0 && x < FC)
            ok = !(t0[y * FC + x] > o.t_abs_c || lab[y * FC + x] || t0[y * FC + x] > lm31 + SPOT_HOT_K);
      if (!ok)
        continue;
      sp[n].r = r, sp[n].c = c, sp[n].s = s;
      sp[n].lm = median_win(t0, r + s / 2, c + s / 2, 10, buf);
      sp[n].dt = 2 + 3 * urand();
      sp[n].gauss = (int)(rng_u64() & 1);
      for (int y = r - 1; y <= r + s; y++)
        for (int x = c - 1; x <= c + s; x++) {
          double dy, dx, g, v;
          if (y < 0 || y >= FR || x < 0 || x >= FC)
            continue;
          dy = y < r ? r - y : y >= r + s ? y - (r + s - 1) : 0;
          dx = x < c ? c - x : x >= c + s ? x - (c + s - 1) : 0;
          if (dy == 0 && dx == 0) { /* the core */
            t[y * FC + x] = (float)(sp[n].lm + sp[n].dt);
          } else if (sp[n].gauss) { /* the edge blends towards the spot */
            g = exp(-(dx * dx + dy * dy) / (2 * SPOT_EDGE_SIGMA * SPOT_EDGE_SIGMA));
            v = t0[y * FC + x] + (sp[n].lm + sp[n].dt - t0[y * FC + x]) * g;
            if (v > t[y * FC + x])
              t[y * FC + x] = (float)v;
          } else {
            continue;
          }
          id[y * FC + x] = (uint8_t)(n + 1);
        }
      n++;
    }
    assert_int_equal(n, SPOTS);
    assert_int_equal(vg_thermal_detect(t, FR, FC, &o, m, NULL), VG_OK);
    for (int k = 0; k < n; k++) {
      int hit = 0, b = sp[k].dt < 3 ? 0 : sp[k].dt < 4 ? 1 : 2;
      for (int y = sp[k].r - 1; y <= sp[k].r + sp[k].s && !hit; y++)
        for (int x = sp[k].c - 1; x <= sp[k].c + sp[k].s && !hit; x++)
          if (y >= 0 && y < FR && x >= 0 && x < FC && id[y * FC + x] == k + 1 && m[y * FC + x])
            hit = 1;
      found += hit;
      n_by[b]++;
      miss_by[b] += !hit;
    }
    for (size_t i = 0; i < NPX; i++)
      expl[i] = id[i] || lab[i] || t0[i] > o.t_abs_c;
    fa = false_alarms(m, expl, cl);
    assert_int_equal(vg_thermal_detect(t0, FR, FC, &o, m, NULL), VG_OK);
    fa0 = false_alarms(m, expl, cl);
    print_message("%s: spots found %d/%d; false alarms %d (frame without spots: %d) in %ld draws\n",
                  frames[f], found, n, fa, fa0, tries);
    found_all += found;
    spots_all += n;
    fa_all += fa;
    fa0_all += fa0;
  }
  print_message("implanted spots found %d/%d = %.1f %% (missed by contrast 2-3 K %d/%d, 3-4 K %d/%d, "
                "4-5 K %d/%d); false alarms %.1f per frame, %.1f without the spots, added %+.2f per frame\n",
                found_all, spots_all, 100.0 * found_all / spots_all, miss_by[0], n_by[0], miss_by[1],
                n_by[1], miss_by[2], n_by[2], fa_all / 7.0, fa0_all / 7.0, (fa_all - fa0_all) / 7.0);
  assert_true(found_all * 10 >= spots_all * 9);
  assert_true(fa_all - fa0_all <= 7);
  free(t0);
  free(t);
  free(lab);
  free(id);
  free(m);
  free(expl);
  free(cl);
}

int test_detect_thermal_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_flat),
      cmocka_unit_test(test_single_hot_pixel),
      cmocka_unit_test(test_nan),
      cmocka_unit_test(test_border_growth),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_against_reference),
      cmocka_unit_test(test_flame_labels),
      cmocka_unit_test(test_flame_implants),
  };
  return cmocka_run_group_tests_name("detect_thermal", tests, NULL, NULL);
}
