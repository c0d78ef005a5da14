/*
 * lib/detect core: statistics against a naive double computation, the
 * Mahalanobis score against a direct solve, independence from the BLAS thread
 * count, loading raised when the covariance is singular, blobs on a drawn
 * map, AUC with ties against hand-counted values, and the benchmark scenes:
 * plain RX reproduces every published RX AUC, loaded RX the research note's
 * mean.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "detect/detect_par.h"
#include "vigia/detect.h"

void openblas_set_num_threads(int);

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* n pixels of b correlated bands: x = A g + offset, g standard normal-ish. */
static float *make_pixels(size_t n, int b)
{
  float *x = malloc(n * (size_t)b * sizeof *x);
  double a[16][16];
  assert_true(b <= 16);
  for (int i = 0; i < b; i++)
    for (int j = 0; j < b; j++)
      a[i][j] = (i == j ? 2.0 : 0.0) + 0.5 * (urand() - 0.5);
  for (size_t p = 0; p < n; p++) {
    double g[16];
    for (int j = 0; j < b; j++)
      g[j] = (urand() + urand() + urand() - 1.5) * 2.0;
    for (int i = 0; i < b; i++) {
      double v = 100.0 + 10.0 * i;
      for (int j = 0; j < b; j++)
        v += a[i][j] * g[j];
      x[p * (size_t)b + (size_t)i] = (float)v;
    }
  }
  return x;
}

static void stats_match_naive(void **st)
{
  size_t n = 5000;
  int b = 7;
  float *x = make_pixels(n, b);
  vg_stats *s = NULL;
  double mean[7] = {0}, cov[49] = {0};
  (void)st;
  assert_int_equal(vg_stats_compute(&s, x, n, b, NULL, 1e-3), VG_OK);
  for (size_t p = 0; p < n; p++)
    for (int i = 0; i < b; i++)
      mean[i] += x[p * b + i] / (double)n;
  for (size_t p = 0; p < n; p++)
    for (int i = 0; i < b; i++)
      for (int j = 0; j < b; j++)
        cov[i * b + j] += (x[p * b + i] - mean[i]) * (x[p * b + j] - mean[j]) / (double)(n - 1);
  for (int i = 0; i < b; i++) {
    assert_true(fabs(s->mean[i] - mean[i]) < 1e-9 * fabs(mean[i]));
    for (int j = 0; j < b; j++)
      assert_true(fabs(s->cov[i * b + j] - cov[i * b + j]) < 1e-9 * (fabs(cov[i * b + i]) + 1));
  }
  assert_int_equal(s->n, n);
  assert_false(s->raised);
  {
    double tr = 0;
    for (int i = 0; i < b; i++)
      tr += cov[i * b + i];
    assert_true(fabs(s->lambda - 1e-3 * tr / b) < 1e-12 * tr);
  }
  /* Mahalanobis against a direct solve of (cov + lambda I) y = x - mean */
  {
    float *score = malloc(n * sizeof *score);
    assert_int_equal(vg_detect_mahalanobis(s, x, n, score), VG_OK);
    for (size_t p = 0; p < n; p += 97) {
      double m[49], v[7], d2 = 0;
      for (int i = 0; i < b; i++) {
        v[i] = x[p * b + i] - mean[i];
        for (int j = 0; j < b; j++)
          m[i * b + j] = cov[i * b + j] + (i == j ? s->lambda : 0.0);
      }
      /* Gauss elimination */
      double y[7];
      memcpy(y, v, sizeof y);
      for (int k = 0; k < b; k++)
        for (int i = k + 1; i < b; i++) {
          double f = m[i * b + k] / m[k * b + k];
          for (int j = k; j < b; j++)
            m[i * b + j] -= f * m[k * b + j];
          y[i] -= f * y[k];
        }
      for (int i = b - 1; i >= 0; i--) {
        for (int j = i + 1; j < b; j++)
          y[i] -= m[i * b + j] * y[j];
        y[i] /= m[i * b + i];
      }
      for (int i = 0; i < b; i++)
        d2 += v[i] * y[i];
      assert_true(fabs(score[p] - d2) < 1e-3 * (d2 + 1));
    }
    free(score);
  }
  /* skipped pixels are not in the statistics */
  {
    uint8_t *skip = calloc(n, 1);
    vg_stats *s2 = NULL;
    for (size_t p = 0; p < n; p += 2)
      skip[p] = 1;
    assert_int_equal(vg_stats_compute(&s2, x, n, b, skip, 1e-3), VG_OK);
    assert_int_equal(s2->n, n / 2);
    vg_stats_free(s2);
    free(skip);
  }
  vg_stats_free(s);
  free(x);
}

static void singular_raises_loading(void **st)
{
  size_t n = 300;
  int b = 4;
  float *x = make_pixels(n, b);
  vg_stats *s = NULL;
  (void)st;
  for (size_t p = 0; p < n; p++) /* band 3 = band 0 exactly: singular */
    x[p * b + 3] = x[p * b + 0];
  /* a loading of 1e-300 cannot make it positive definite in double: raised */
  assert_int_equal(vg_stats_compute(&s, x, n, b, NULL, 1e-300), VG_OK);
  assert_true(s->raised);
  assert_true(s->eps > 1e-300);
  vg_stats_free(s);
  /* constant data has no covariance at all */
  for (size_t p = 0; p < n * b; p++)
    x[p] = 5.0f;
  assert_int_equal(vg_stats_compute(&s, x, n, b, NULL, 1e-3), VG_E_RANGE);
  free(x);
}

static void scores_do_not_depend_on_threads(void **st)
{
  vg_cube *c = NULL;
  size_t n;
  float *a, *b;
  vg_detect_opts o = VG_DETECT_OPTS_INIT;
  char *path = VG_REQUIRE_DATA("hsi/abu-urban-1.mat");
  (void)st;
  assert_int_equal(vg_raster_mat_read(&c, path, "data"), VG_OK);
  o.method = VG_DETECT_RX;
  /* a cube of 300 x 300 (tiled) so that the chunks are many */
  {
    vg_cube *big = NULL;
    assert_int_equal(vg_cube_new(&big, 300, 300, c->bands), VG_OK);
    for (int r = 0; r < 300; r++)
      for (int k = 0; k < 300; k++)
        memcpy(vg_cube_px(big, r, k), vg_cube_px(c, (r * 7) % c->rows, (k * 3) % c->cols),
               (size_t)c->bands * sizeof(float));
    vg_cube_free(c);
    c = big;
  }
  n = (size_t)c->rows * (size_t)c->cols;
  a = malloc(n * sizeof *a);
  b = malloc(n * sizeof *b);
  vg__detect_set_threads(1);
  assert_int_equal(vg_detect_anomaly(c, &o, a), VG_OK);
  for (int t = 2; t <= 3; t++) {
    vg__detect_set_threads(t);
    assert_int_equal(vg_detect_anomaly(c, &o, b), VG_OK);
    assert_memory_equal(a, b, n * sizeof *a);
  }
  /* and against OpenBLAS's own threads, which lib/detect turns off */
  openblas_set_num_threads(2);
  assert_int_equal(vg_detect_anomaly(c, &o, b), VG_OK);
  assert_memory_equal(a, b, n * sizeof *a);
  free(a);
  free(b);
  vg_cube_free(c);
  free(path);
}

/* A row source that counts the largest block asked for. */
typedef struct {
  const vg_cube *c;
  int max_rows;
} count_src;

static int count_rows(void *ctx, int row0, int nrows, float *buf)
{
  count_src *s = ctx;
  size_t per = (size_t)s->c->cols * (size_t)s->c->bands;
  if (nrows > s->max_rows)
    s->max_rows = nrows;
  memcpy(buf, s->c->data + (size_t)row0 * per, (size_t)nrows * per * sizeof *buf);
  return VG_OK;
}

static int gdal_rows(void *ctx, int row0, int nrows, float *buf)
{
  return vg_raster_read_rows(ctx, row0, nrows, buf);
}

/* A cube through a GeoTIFF and back; the detectors read by rows give the same
 * bits as on the cube in memory, asking for bounded blocks only. */
static void streamed_equals_memory(void **st)
{
  vg_cube *c = NULL, *big = NULL, *back = NULL;
  char *path = VG_REQUIRE_DATA("hsi/abu-urban-1.mat");
  char tif[] = "/tmp/vg_test_cube_XXXXXX";
  int fd;
  size_t n;
  float *a, *b;
  vg_raster *r = NULL;
  (void)st;
  assert_int_equal(vg_raster_mat_read(&c, path, "data"), VG_OK);
  /* 230 rows: several row blocks and strips, a short last one */
  assert_int_equal(vg_cube_new(&big, 230, c->cols, c->bands), VG_OK);
  for (int rr = 0; rr < 230; rr++)
    memcpy(vg_cube_px(big, rr, 0), vg_cube_px(c, rr % c->rows, 0),
           (size_t)c->cols * (size_t)c->bands * sizeof(float));
  big->has_gt = 1;
  big->gt[0] = 500000;
  big->gt[1] = 2;
  big->gt[3] = 4200000;
  big->gt[5] = -2;
  assert_non_null(big->wavelength_um = malloc((size_t)big->bands * sizeof(double)));
  for (int k = 0; k < big->bands; k++)
    big->wavelength_um[k] = 0.4 + 0.01 * k;
  assert_true((fd = mkstemp(tif)) >= 0);
  close(fd);
  assert_int_equal(vg_raster_write_cube(tif, big), VG_OK);
  assert_int_equal(vg_raster_read(&back, tif, NULL), VG_OK);
  assert_int_equal(back->rows, 230);
  assert_int_equal(back->bands, big->bands);
  assert_memory_equal(back->data, big->data, (size_t)230 * c->cols * c->bands * sizeof(float));
  assert_true(back->has_gt && back->gt[0] == 500000 && back->gt[5] == -2);
  assert_non_null(back->wavelength_um);
  assert_true(fabs(back->wavelength_um[10] - 0.5) < 1e-9);
  n = (size_t)230 * (size_t)c->cols;
  a = malloc(n * sizeof *a);
  b = malloc(n * sizeof *b);
  for (int m = 0; m < 2; m++) {
    vg_detect_opts o = VG_DETECT_OPTS_INIT;
    count_src cs = {big, 0};
    o.method = m ? VG_DETECT_RXP : VG_DETECT_RX;
    assert_int_equal(vg_detect_anomaly(big, &o, a), VG_OK);
    assert_int_equal(vg_detect_anomaly_rows(230, big->cols, big->bands, count_rows, &cs, &o, b), VG_OK);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_true(cs.max_rows <= VG_DETECT_ROW_BLOCK + 16);
    assert_int_equal(vg_raster_open(&r, tif), VG_OK);
    assert_int_equal(vg_detect_anomaly_rows(230, big->cols, big->bands, gdal_rows, r, &o, b), VG_OK);
    assert_memory_equal(a, b, n * sizeof *a);
    vg_raster_close(r);
  }
  unlink(tif);
  free(a);
  free(b);
  vg_cube_free(c);
  vg_cube_free(big);
  vg_cube_free(back);
  free(path);
}

static void auc_with_ties(void **st)
{
  /* the CFAR thresholds of research/detection.md 4.1, and closed forms for 2 dof */
  assert_true(fabs(vg_detect_chi2_quantile(205, 1e-4) - 289.0) < 0.5);
  assert_true(fabs(vg_detect_chi2_quantile(205, 1e-6) - 316.0) < 0.5);
  assert_true(fabs(vg_detect_chi2_quantile(2, 0.01) - (-2.0 * log(0.01))) < 1e-9);
  assert_true(isnan(vg_detect_chi2_quantile(0, 0.1)) && isnan(vg_detect_chi2_quantile(3, 1.5)));
  const float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
  const uint8_t t1[] = {0, 0, 1, 1};
  const float s2[] = {1, 1, 1, 1};
  const float s3[] = {0.5f, 0.5f, 0.2f, 0.9f};
  const uint8_t t3[] = {1, 0, 0, 1};
  (void)st;
  /* pairs (pos, neg): (0.35 > 0.1) (0.35 < 0.4) (0.8 > 0.1) (0.8 > 0.4) = 3/4 */
  assert_true(fabs(vg_roc_auc(s1, t1, 4) - 0.75) < 1e-12);
  assert_true(fabs(vg_roc_auc(s2, t1, 4) - 0.5) < 1e-12);
  /* pos {0.5, 0.9}, neg {0.5, 0.2}: 0.5 vs 0.5 tie (1/2), 0.5>0.2, 0.9>0.5, 0.9>0.2 = 3.5/4 */
  assert_true(fabs(vg_roc_auc(s3, t3, 4) - 0.875) < 1e-12);
  assert_true(isnan(vg_roc_auc(s1, (const uint8_t[]){0, 0, 0, 0}, 4)));
  {
    double pfa[16], pd[16];
    size_t k = vg_roc_curve(s1, t1, 4, pfa, pd, 16);
    assert_true(k >= 3);
    assert_true(pfa[0] == 0 && pd[0] == 0 && pfa[k - 1] == 1 && pd[k - 1] == 1);
    for (size_t i = 1; i < k; i++)
      assert_true(pfa[i] >= pfa[i - 1] && pd[i] >= pd[i - 1]);
  }
}

static void blobs_on_a_drawn_map(void **st)
{
  enum { R = 40, C = 50 };
  float m[R * C];
  uint8_t mask[R * C];
  vg_blob_opts o = {0, 1.0, 1, 0};
  vg_blob *b = NULL;
  size_t n = 0;
  double thr;
  (void)st;
  for (int i = 0; i < R * C; i++)
    m[i] = 0.0f;
  /* a 3x3 square of 5 (peak 9 at its centre), a diagonal pair of 3 (8-connected), a lone 2 */
  for (int r = 10; r < 13; r++)
    for (int c = 20; c < 23; c++)
      m[r * C + c] = 5.0f;
  m[11 * C + 21] = 9.0f;
  m[30 * C + 5] = 3.0f;
  m[31 * C + 6] = 3.0f;
  m[2 * C + 45] = 2.0f;
  assert_int_equal(vg_blobs_find(m, R, C, &o, &b, &n, mask, &thr), VG_OK);
  assert_int_equal(n, 3);
  assert_true(b[0].peak == 9.0f && b[0].area == 9);
  assert_true(b[0].r0 == 10 && b[0].c0 == 20 && b[0].r1 == 12 && b[0].c1 == 22);
  assert_true(fabs(b[0].row - 11.5) < 1e-9 && fabs(b[0].col - 21.5) < 1e-9); /* symmetric */
  assert_true(b[1].peak == 3.0f && b[1].area == 2);
  assert_true(b[2].peak == 2.0f && b[2].area == 1);
  {
    int on = 0;
    for (int i = 0; i < R * C; i++)
      on += mask[i];
    assert_int_equal(on, 12);
  }
  free(b);
  /* minimum area and maximum count */
  o.min_area = 2;
  o.max_count = 1;
  assert_int_equal(vg_blobs_find(m, R, C, &o, &b, &n, mask, NULL), VG_OK);
  assert_int_equal(n, 1);
  assert_true(b[0].area == 9);
  assert_int_equal(mask[30 * C + 5], 0);
  free(b);
  /* the quantile: 12 of 2000 pixels are above 0, so the 0.99 quantile is 0 */
  o.min_area = 1;
  o.max_count = 0;
  o.quantile = 0.99;
  assert_int_equal(vg_blobs_find(m, R, C, &o, &b, &n, NULL, &thr), VG_OK);
  assert_true(thr == 0.0);
  assert_int_equal(n, 3);
  free(b);
}

/* Published RX (Kang et al. 2017; GT-HAD's table) and the research note's loaded-RX mean. */
static void had_scenes_reproduce_published_rx(void **st)
{
  static const struct {
    const char *f;
    double rx;
  } pub[] = {{"abu-airport-1", 0.8221}, {"abu-airport-2", 0.8404}, {"abu-airport-4", 0.9526},
             {"abu-beach-1", 0.9807},   {"abu-beach-3", 0.9999},   {"abu-urban-1", 0.9907},
             {"abu-urban-2", 0.9946},   {"abu-urban-4", 0.9887},   {"abu-urban-5", 0.9692},
             {"sandiego-aviris2", 0.9403}, {"pavia-lren", NAN}};
  double sum_loaded = 0;
  (void)st;
  for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
    char rel[128], *path;
    vg_cube *c = NULL, *t = NULL;
    size_t n;
    float *s;
    uint8_t *tm;
    vg_detect_opts o = VG_DETECT_OPTS_INIT;
    double auc;
    snprintf(rel, sizeof rel, "hsi/%s.mat", pub[i].f);
    path = VG_REQUIRE_DATA(rel);
    assert_int_equal(vg_raster_mat_read(&c, path, "data"), VG_OK);
    assert_int_equal(vg_raster_mat_read(&t, path, "map"), VG_OK);
    n = (size_t)c->rows * (size_t)c->cols;
    s = malloc(n * sizeof *s);
    tm = malloc(n);
    for (size_t k = 0; k < n; k++)
      tm[k] = t->data[k] != 0;
    o.method = VG_DETECT_RX;
    o.eps = 1e-12;
    assert_int_equal(vg_detect_anomaly(c, &o, s), VG_OK);
    auc = vg_roc_auc(s, tm, n);
    if (!isnan(pub[i].rx) && fabs(auc - pub[i].rx) > 1.5e-4)
      fail_msg("%s: plain RX AUC %.4f, published %.4f", pub[i].f, auc, pub[i].rx);
    o.eps = 1e-3;
    assert_int_equal(vg_detect_anomaly(c, &o, s), VG_OK);
    sum_loaded += vg_roc_auc(s, tm, n);
    free(s);
    free(tm);
    vg_cube_free(c);
    vg_cube_free(t);
    free(path);
  }
  sum_loaded /= 11;
  if (fabs(sum_loaded - 0.9706) > 5e-4)
    fail_msg("loaded RX mean AUC %.4f, research note 0.9706", sum_loaded);
}

int test_detect_core_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(stats_match_naive),
    cmocka_unit_test(singular_raises_loading),
    cmocka_unit_test(scores_do_not_depend_on_threads),
    cmocka_unit_test(streamed_equals_memory),
    cmocka_unit_test(auc_with_ties),
    cmocka_unit_test(blobs_on_a_drawn_map),
    cmocka_unit_test(had_scenes_reproduce_published_rx),
  };
  return cmocka_run_group_tests_name("detect.core", tests, NULL, NULL);
}
