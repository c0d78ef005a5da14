/*
 * Background statistics for the detectors (research/detection.md 4.1, "stable
 * recipe"): mean and covariance accumulated in double (two passes, centred
 * products through BLAS dsyrk on tiles converted to double), diagonal loading
 * eps*tr(Sigma)/B, Cholesky with LAPACK dpotrf (eps raised ten-fold while it
 * fails, and said), W = L^-1 with dtrtri, cast to float32 for scoring.
 *
 * AVIRIS covariances have condition numbers of 1e7-8e8: a float32 covariance
 * is not positive definite on 10 of the 11 benchmark scenes, hence double.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_par.h"
#include "vigia/detect.h"

struct vg_stats_acc {
  int bands;
  size_t n_mean, n_cov;
  double *sum;   /* pass 1 */
  double *mean;  /* after pass 1 */
  double *cov;   /* pass 2, lower triangle accumulated */
};

int vg_stats_acc_new(vg_stats_acc **out, int bands)
{
  vg_stats_acc *a;
  size_t b = (size_t)bands;
  if (bands <= 0 || bands > 100000)
    return vg_error_set(VG_E_INVALID, "statistics of %d bands", bands);
  a = calloc(1, sizeof *a);
  if (!a || !(a->sum = calloc(b, sizeof *a->sum)) || !(a->mean = calloc(b, sizeof *a->mean)) ||
      !(a->cov = calloc(b * b, sizeof *a->cov))) {
    vg_stats_acc_free(a);
    return vg_error_set(VG_E_NOMEM, "statistics of %d bands", bands);
  }
  a->bands = bands;
  *out = a;
  return VG_OK;
}

void vg_stats_acc_free(vg_stats_acc *a)
{
  if (!a)
    return;
  free(a->sum);
  free(a->mean);
  free(a->cov);
  free(a);
}

/* Pixels per chunk: each is summed whole by one thread, partials added in chunk order. */
#define CHUNK ((size_t)VG_DETECT_TILE * 16)
/* Chunks whose partial covariances are held at once. */
#define WAVE 32

typedef struct {
  const float *x;
  const uint8_t *skip;
  size_t n, b;
  const double *mean;
  double *part;     /* per chunk: b (mean pass) or b*b (covariance pass) */
  size_t *count;    /* per chunk */
  size_t first;     /* first chunk of this wave */
  int err;
} chunk_job;

static void mean_chunk(void *ctx, size_t k)
{
  chunk_job *j = ctx;
  size_t i0 = (j->first + k) * CHUNK, i1 = i0 + CHUNK < j->n ? i0 + CHUNK : j->n, b = j->b;
  double *sum = j->part + k * b;
  size_t m = 0;
  for (size_t q = 0; q < b; q++)
    sum[q] = 0;
  for (size_t i = i0; i < i1; i++) {
    const float *p = j->x + i * b;
    if (j->skip && j->skip[i])
      continue;
    for (size_t q = 0; q < b; q++)
      sum[q] += p[q];
    m++;
  }
  j->count[k] = m;
}

int vg_stats_acc_mean(vg_stats_acc *a, const float *x, size_t n, const uint8_t *skip)
{
  size_t b = (size_t)a->bands, nch = (n + CHUNK - 1) / CHUNK;
  chunk_job j = {x, skip, n, b, NULL, NULL, NULL, 0, 0};
  if (!n)
    return VG_OK;
  j.part = malloc(nch * b * sizeof *j.part);
  j.count = malloc(nch * sizeof *j.count);
  if (!j.part || !j.count) {
    free(j.part);
    free(j.count);
    return vg_error_set(VG_E_NOMEM, "mean of %zu pixels", n);
  }
  vg__detect_par(nch, mean_chunk, &j);
  for (size_t k = 0; k < nch; k++) {
    for (size_t q = 0; q < b; q++)
      a->sum[q] += j.part[k * b + q];
    a->n_mean += j.count[k];
  }
  free(j.part);
  free(j.count);
  return VG_OK;
}

static void cov_chunk(void *ctx, size_t k)
{
  chunk_job *j = ctx;
  size_t i0 = (j->first + k) * CHUNK, i1 = i0 + CHUNK < j->n ? i0 + CHUNK : j->n, b = j->b, nt = 0, m = 0;
  double *cov = j->part + k * b * b;
  double *tile = malloc(VG_DETECT_TILE * b * sizeof *tile);
  if (!tile) {
    j->err = 1;
    return;
  }
  for (size_t q = 0; q < b * b; q++)
    cov[q] = 0;
  for (size_t i = i0; i < i1; i++) {
    const float *p = j->x + i * b;
    double *t;
    if (j->skip && j->skip[i])
      continue;
    t = tile + nt * b;
    for (size_t q = 0; q < b; q++)
      t[q] = (double)p[q] - j->mean[q];
    m++;
    if (++nt == VG_DETECT_TILE || i + 1 == i1) {
      cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)b, (int)nt, 1.0, tile, (int)b, 1.0,
                  cov, (int)b);
      nt = 0;
    }
  }
  if (nt)
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)b, (int)nt, 1.0, tile, (int)b, 1.0, cov,
                (int)b);
  j->count[k] = m;
  free(tile);
}

int vg_stats_acc_cov(vg_stats_acc *a, const float *x, size_t n, const uint8_t *skip)
{
  size_t b = (size_t)a->bands, nch = (n + CHUNK - 1) / CHUNK;
  chunk_job j = {x, skip, n, b, a->mean, NULL, NULL, 0, 0};
  if (!a->n_mean)
    return vg_error_set(VG_E_INVALID, "covariance pass before any mean pass");
  if (!a->n_cov) /* first block of pass 2: fix the mean */
    for (size_t k = 0; k < b; k++)
      a->mean[k] = a->sum[k] / (double)a->n_mean;
  if (!n)
    return VG_OK;
  j.part = malloc((nch < WAVE ? nch : WAVE) * b * b * sizeof *j.part);
  j.count = malloc(WAVE * sizeof *j.count);
  if (!j.part || !j.count) {
    free(j.part);
    free(j.count);
    return vg_error_set(VG_E_NOMEM, "covariance of %zu bands", b);
  }
  for (j.first = 0; j.first < nch; j.first += WAVE) {
    size_t w = nch - j.first < WAVE ? nch - j.first : WAVE;
    vg__detect_par(w, cov_chunk, &j);
    if (j.err)
      break;
    for (size_t k = 0; k < w; k++) {
      const double *c = j.part + k * b * b;
      for (size_t q = 0; q < b; q++) /* lower triangle */
        for (size_t r = 0; r <= q; r++)
          a->cov[q * b + r] += c[q * b + r];
      a->n_cov += j.count[k];
    }
  }
  free(j.part);
  free(j.count);
  return j.err ? vg_error_set(VG_E_NOMEM, "covariance tile") : VG_OK;
}

void vg_stats_free(vg_stats *s)
{
  if (!s)
    return;
  free(s->mean);
  free(s->cov);
  free(s->mean_f);
  free(s->w);
  free(s->l);
  free(s);
}

int vg_stats_factor(vg_stats *s, double eps)
{
  size_t b = (size_t)s->bands;
  double tr = 0, asked;
  int info = 1;
  double *w = NULL;

  if (eps <= 0)
    eps = VG_DETECT_LOADING;
  asked = eps;
  for (size_t k = 0; k < b; k++)
    tr += s->cov[k * b + k];
  if (!(tr > 0) || !isfinite(tr))
    return vg_error_set(VG_E_RANGE, "background covariance has trace %g: constant or broken data", tr);
  for (; eps <= VG_DETECT_LOADING_MAX * (1 + 1e-9); eps *= 10) {
    double lam = eps * tr / (double)b;
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < b; j++)
        s->l[i * b + j] = j <= i ? s->cov[i * b + j] + (i == j ? lam : 0.0) : 0.0;
    info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)b, s->l, (lapack_int)b);
    if (info == 0) {
      s->eps = eps;
      s->lambda = lam;
      break;
    }
  }
  if (info != 0)
    return vg_error_set(VG_E_RANGE,
                        "background covariance is not positive definite even loaded by %g", eps / 10);
  s->raised = eps > asked * (1 + 1e-9);
  if (s->raised)
    vg_log(VG_LOG_WARN, "detect", "covariance loading raised from %g to %g to factor it", asked, eps);
  for (size_t i = 0; i < b; i++) /* dpotrf leaves the upper triangle alone: zero it */
    for (size_t j = i + 1; j < b; j++)
      s->l[i * b + j] = 0.0;
  if (!(w = malloc(b * b * sizeof *w)))
    return vg_error_set(VG_E_NOMEM, "whitening of %zu bands", b);
  memcpy(w, s->l, b * b * sizeof *w);
  info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', (lapack_int)b, w, (lapack_int)b);
  if (info != 0) {
    free(w);
    return vg_error_set(VG_E_RANGE, "Cholesky factor is singular (dtrtri %d)", info);
  }
  for (size_t i = 0; i < b * b; i++)
    s->w[i] = (float)w[i];
  free(w);
  return VG_OK;
}

int vg_stats_acc_finish(vg_stats_acc *a, double eps, vg_stats **out)
{
  vg_stats *s;
  size_t b = (size_t)a->bands;
  int rc;
  if (a->n_cov < 2 || a->n_cov != a->n_mean)
    return vg_error_set(VG_E_INVALID, "statistics from %zu pixels (mean pass %zu): need 2 or more, the same in both passes",
                        a->n_cov, a->n_mean);
  s = calloc(1, sizeof *s);
  if (!s || !(s->mean = malloc(b * sizeof *s->mean)) || !(s->cov = malloc(b * b * sizeof *s->cov)) ||
      !(s->mean_f = malloc(b * sizeof *s->mean_f)) || !(s->w = malloc(b * b * sizeof *s->w)) ||
      !(s->l = malloc(b * b * sizeof *s->l))) {
    vg_stats_free(s);
    return vg_error_set(VG_E_NOMEM, "statistics of %zu bands", b);
  }
  s->bands = a->bands;
  s->n = a->n_cov;
  for (size_t k = 0; k < b; k++) {
    s->mean[k] = a->mean[k];
    s->mean_f[k] = (float)a->mean[k];
  }
  for (size_t i = 0; i < b; i++)
    for (size_t j = 0; j <= i; j++)
      s->cov[i * b + j] = s->cov[j * b + i] = a->cov[i * b + j] / (double)(a->n_cov - 1);
  if ((rc = vg_stats_factor(s, eps)) != VG_OK) {
    vg_stats_free(s);
    return rc;
  }
  *out = s;
  return VG_OK;
}

int vg_stats_compute(vg_stats **out, const float *x, size_t n, int bands, const uint8_t *skip,
                     double eps)
{
  vg_stats_acc *a = NULL;
  int rc;
  if ((rc = vg_stats_acc_new(&a, bands)) != VG_OK)
    return rc;
  if ((rc = vg_stats_acc_mean(a, x, n, skip)) == VG_OK && (rc = vg_stats_acc_cov(a, x, n, skip)) == VG_OK)
    rc = vg_stats_acc_finish(a, eps, out);
  vg_stats_acc_free(a);
  return rc;
}

typedef struct {
  const vg_stats *s;
  const float *x;
  size_t n;
  float *score;
  int err;
} score_job;

static void score_chunk(void *ctx, size_t k)
{
  score_job *j = ctx;
  size_t b = (size_t)j->s->bands, i0 = k * CHUNK, i1 = i0 + CHUNK < j->n ? i0 + CHUNK : j->n;
  float *t = malloc(VG_DETECT_TILE * b * sizeof *t);
  if (!t) {
    j->err = 1;
    return;
  }
  for (size_t a = i0; a < i1; a += VG_DETECT_TILE) {
    size_t nt = i1 - a < VG_DETECT_TILE ? i1 - a : VG_DETECT_TILE;
    for (size_t i = 0; i < nt; i++) {
      const float *p = j->x + (a + i) * b;
      float *q = t + i * b;
      for (size_t m = 0; m < b; m++)
        q[m] = p[m] - j->s->mean_f[m];
    }
    /* Z = Xc W^T: each row z = W (x - mean) */
    cblas_strmm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)nt, (int)b,
                1.0f, j->s->w, (int)b, t, (int)b);
    for (size_t i = 0; i < nt; i++) {
      const float *z = t + i * b;
      float acc = 0;
      for (size_t m = 0; m < b; m++)
        acc += z[m] * z[m];
      j->score[a + i] = acc;
    }
  }
  free(t);
}

int vg_detect_mahalanobis(const vg_stats *s, const float *x, size_t n, float *score)
{
  score_job j = {s, x, n, score, 0};
  vg__detect_par((n + CHUNK - 1) / CHUNK, score_chunk, &j);
  return j.err ? vg_error_set(VG_E_NOMEM, "scoring tile") : VG_OK;
}
