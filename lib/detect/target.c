/*
 * Known-target detectors (research/detection.md 4.2): the matched filter
 * (SMF/AMF), ACE and CEM. Statistics in double, scoring in float32 with BLAS.
 *
 * MF and ACE work in the background's whitened space (stats.c: W = L^-1,
 * Sigma + lambda I = L L'): z = W (x - mean), s_w = W (s - mean), and
 *   MF  = s_w'z / s_w's_w                 (1 on the target, 0 on the mean)
 *   ACE = (s_w'z)^2 / (s_w's_w  z'z)      (in [0, 1], invariant to the scale of x - mean)
 * s_w'z = (W's_w)'(x - mean) = (Sigma^-1 s~)'x~, so MF needs only q = W's_w / s_w's_w
 * and one dot product per pixel (B flops, not B^2); ACE needs z'z, the
 * Mahalanobis distance, so it whitens every pixel (BLAS strmm, as RX does).
 *
 * CEM (Harsanyi 1993) uses the uncentred correlation of the scored pixels
 * themselves, R = X'X / n, accumulated in double (dsyrk on tiles), loaded and
 * factored with the rule of stats.c (eps tr(R)/B, raised ten-fold while
 * dpotrf fails), w = R^-1 d / (d'R^-1 d); the score w'x is 1 on d.
 *
 * Per-pixel sums run in float in our own loops or in a BLAS product that
 * keeps each output's sum whole, so scores do not depend on the BLAS thread
 * count. Pixels with a non-finite value score NaN (MF, ACE: their own score
 * only); CEM leaves them out of R.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

/* Centres a tile of nt pixels: t = x - mean (float). */
static void centre(float *t, const float *x, size_t nt, size_t b, const float *mean)
{
  for (size_t i = 0; i < nt; i++) {
    const float *p = x + i * b;
    float *q = t + i * b;
    for (size_t k = 0; k < b; k++)
      q[k] = p[k] - mean[k];
  }
}

static int score_whitened(const float *x, size_t n, int bands, const vg_stats *bg, const float *target,
                          vg_detect_method m, float *score)
{
  size_t b = (size_t)bands;
  float *sw = NULL, *t = NULL;
  double dd = 0;
  int rc = VG_OK;

  if (!(sw = malloc(b * sizeof *sw)) || !(t = malloc(VG_DETECT_TILE * b * sizeof *t))) {
    rc = vg_error_set(VG_E_NOMEM, "target scoring of %d bands", bands);
    goto done;
  }
  for (size_t k = 0; k < b; k++)
    sw[k] = target[k] - bg->mean_f[k];
  /* s_w = W s~ (W lower triangular, row-major) */
  cblas_strmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, bands, bg->w, bands, sw, 1);
  for (size_t k = 0; k < b; k++)
    dd += (double)sw[k] * sw[k];
  if (!(dd > 0) || !isfinite(dd)) {
    rc = vg_error_set(VG_E_RANGE, "target is the background mean or not finite (s_w's_w = %g)", dd);
    goto done;
  }
  if (m == VG_DETECT_MF) {
    /* q = W' s_w / s_w's_w: MF = q'(x - mean) */
    cblas_strmv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, bands, bg->w, bands, sw, 1);
    for (size_t k = 0; k < b; k++)
      sw[k] = (float)(sw[k] / dd);
    for (size_t i0 = 0; i0 < n; i0 += VG_DETECT_TILE) {
      size_t nt = n - i0 < VG_DETECT_TILE ? n - i0 : VG_DETECT_TILE;
      centre(t, x + i0 * b, nt, b, bg->mean_f);
      cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nt, bands, 1.0f, t, bands, sw, 1, 0.0f, score + i0, 1);
    }
  } else {
    for (size_t i0 = 0; i0 < n; i0 += VG_DETECT_TILE) {
      size_t nt = n - i0 < VG_DETECT_TILE ? n - i0 : VG_DETECT_TILE;
      centre(t, x + i0 * b, nt, b, bg->mean_f);
      /* Z = Xc W': each row z = W (x - mean) */
      cblas_strmm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)nt, bands, 1.0f, bg->w,
                  bands, t, bands);
      for (size_t i = 0; i < nt; i++) {
        const float *z = t + i * b;
        float num = 0, zz = 0;
        for (size_t k = 0; k < b; k++) {
          num += z[k] * sw[k];
          zz += z[k] * z[k];
        }
        /* the mean itself has no direction: ACE 0 there */
        score[i0 + i] = zz > 0 ? (float)((double)num * num / (dd * zz)) : (isnan(zz) ? NAN : 0.0f);
      }
    }
  }
done:
  free(sw);
  free(t);
  return rc;
}

static int score_cem(const float *x, size_t n, int bands, const float *d, float *score)
{
  size_t b = (size_t)bands, nt = 0, used = 0;
  double *r = NULL, *l = NULL, *tile = NULL, *y = NULL;
  float *w = NULL;
  double tr = 0, eps = VG_DETECT_LOADING, dy = 0;
  int info = 1, rc = VG_OK;

  if (!(r = calloc(b * b, sizeof *r)) || !(l = malloc(b * b * sizeof *l)) ||
      !(tile = malloc(VG_DETECT_TILE * b * sizeof *tile)) || !(y = malloc(b * sizeof *y)) ||
      !(w = malloc(b * sizeof *w))) {
    rc = vg_error_set(VG_E_NOMEM, "CEM of %d bands", bands);
    goto done;
  }
  /* R = X'X / n over the finite pixels, lower triangle, tiles in a fixed order */
  for (size_t i = 0; i < n; i++) {
    const float *p = x + i * b;
    double *q = tile + nt * b;
    size_t k;
    for (k = 0; k < b && isfinite(p[k]); k++)
      q[k] = p[k];
    if (k < b)
      continue;
    used++;
    if (++nt == VG_DETECT_TILE) {
      cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, bands, (int)nt, 1.0, tile, bands, 1.0, r, bands);
      nt = 0;
    }
  }
  if (nt)
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, bands, (int)nt, 1.0, tile, bands, 1.0, r, bands);
  for (size_t k = 0; k < b; k++)
    tr += r[k * b + k];
  if (!used || !(tr > 0) || !isfinite(tr)) {
    rc = vg_error_set(VG_E_RANGE, "CEM: correlation of %zu finite pixels has trace %g", used, tr);
    goto done;
  }
  tr /= (double)used;
  for (; eps <= VG_DETECT_LOADING_MAX * (1 + 1e-9); eps *= 10) {
    double lam = eps * tr / (double)b;
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < b; j++)
        l[i * b + j] = j <= i ? r[i * b + j] / (double)used + (i == j ? lam : 0.0) : 0.0;
    info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)b, l, (lapack_int)b);
    if (info == 0)
      break;
  }
  if (info != 0) {
    rc = vg_error_set(VG_E_RANGE, "CEM: correlation is not positive definite even loaded by %g", eps / 10);
    goto done;
  }
  if (eps > VG_DETECT_LOADING * (1 + 1e-9))
    vg_log(VG_LOG_WARN, "detect", "CEM: correlation loading raised from %g to %g to factor it", VG_DETECT_LOADING,
           eps);
  for (size_t k = 0; k < b; k++)
    y[k] = d[k];
  info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)b, 1, l, (lapack_int)b, y, 1);
  if (info != 0) {
    rc = vg_error_set(VG_E_RANGE, "CEM: solve failed (dpotrs %d)", info);
    goto done;
  }
  for (size_t k = 0; k < b; k++)
    dy += (double)d[k] * y[k];
  if (!(dy > 0) || !isfinite(dy)) {
    rc = vg_error_set(VG_E_RANGE, "CEM: target is zero or not finite (d'R^-1 d = %g)", dy);
    goto done;
  }
  for (size_t k = 0; k < b; k++)
    w[k] = (float)(y[k] / dy);
  for (size_t i0 = 0; i0 < n; i0 += VG_DETECT_TILE) {
    size_t m = n - i0 < VG_DETECT_TILE ? n - i0 : VG_DETECT_TILE;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m, bands, 1.0f, x + i0 * b, bands, w, 1, 0.0f, score + i0, 1);
  }
done:
  free(r);
  free(l);
  free(tile);
  free(y);
  free(w);
  return rc;
}

int vg_detect_target(const float *x, size_t n, int bands, const vg_stats *bg, const float *target,
                     vg_detect_method m, float *score)
{
  if (bands <= 0 || bands > 100000 || !target || (n && (!x || !score)))
    return vg_error_set(VG_E_INVALID, "target detection: %d bands, %zu pixels, target %s", bands, n,
                        target ? "given" : "missing");
  for (int k = 0; k < bands; k++)
    if (!isfinite(target[k]))
      return vg_error_set(VG_E_INVALID, "target detection: target band %d is not finite", k);
  switch (m) {
  case VG_DETECT_MF:
  case VG_DETECT_ACE:
    if (!bg || bg->bands != bands || !bg->w || !bg->mean_f)
      return vg_error_set(VG_E_INVALID, "%s: background statistics of %d bands needed for %d-band pixels",
                          m == VG_DETECT_MF ? "MF" : "ACE", bg ? bg->bands : 0, bands);
    return n ? score_whitened(x, n, bands, bg, target, m, score) : VG_OK;
  case VG_DETECT_CEM:
    return n ? score_cem(x, n, bands, target, score) : VG_OK;
  default:
    return vg_error_set(VG_E_INVALID, "target detection: method %d is not MF, ACE or CEM", (int)m);
  }
}

void vg_detect_log_dn(float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] > 0 ? log1pf(x[i]) : 0.0f;
}
