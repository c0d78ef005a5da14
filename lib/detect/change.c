/*
 * IR-MAD change detection between two co-registered passes
 * (research/detection.md 4.4): MAD after Nielsen, Conradsen & Simpson 1998
 * (RSE 64:1-19), iteratively re-weighted after Nielsen 2007 (IEEE TIP
 * 16(2):463-478).
 *
 * One iteration, with weights w (1 at the start) on a sample of pixels:
 *   1. weighted means mx, my and the joint covariance of z = [x; y] (2B x 2B)
 *      in double: dsyrk on tiles of sqrt(w)(z - m), partial sums per chunk of
 *      pixels added in chunk order (as lib/detect/stats.c);
 *   2. loading: eps times each band's own variance added to its diagonal
 *      (loading by a multiple of the identity, as stats.c does, would not
 *      commute with per-band gains and would break the affine invariance);
 *   3. canonical correlation analysis as the SVD of the whitened cross
 *      covariance K = Lx^-1 Sxy Ly^-T (Lx, Ly Cholesky factors, dpotrf): the
 *      singular values are the canonical correlations rho_i, sorted from the
 *      largest, and a_i = Lx^-T u_i, b_i = Ly^-T v_i come together with
 *      consistent signs (a_i'x and b_i'y positively correlated). This is the
 *      generalized symmetric eigenproblem Sxy Syy^-1 Syx a = rho^2 Sxx a solved
 *      through Cholesky factors (Bjorck & Golub 1973), without the division
 *      b = Syy^-1 Syx a / rho that fails as rho -> 0;
 *   4. MAD variates M_i = a_i'(x - mx) - b_i'(y - my) and their variances
 *      sigma_i^2 measured as the weighted mean of M_i^2 on the sample. For the
 *      exact unloaded problem this is Nielsen's 2(1 - rho_i); measured, it stays
 *      right where loading or rounding bends that relation, which is where
 *      rho -> 1 (see "rho -> 1" below);
 *   5. Z = sum_i M_i^2 / sigma_i^2 and the new weights w = 1 - F_chi2_B(Z),
 *      the probability of no change (regularized upper incomplete gamma, below);
 *   6. stop when no canonical correlation moved more than tol, or at max_iter.
 * Then Z and F_chi2_B(Z) for every pixel with the last iteration's vectors.
 *
 * rho -> 1. When the passes differ by an affine map per band and nothing else,
 * every rho is 1 up to rounding and every M_i is rounding noise: measured
 * sigma_i^2 fall to 1e-16 of the projections' unit variance, and dividing the
 * rounding of a bright pixel by them makes everything "changed" (Z of 1e30
 * once the weights collapse, on ABU urban-1). So sigma_i^2 is floored at the
 * variance that float32 storage of the inputs alone could give M_i:
 *   sigma_i^2 >= (VG_CHANGE_FLOOR_ULPS * 2^-24)^2 * sum_k (a_ik^2 E_w[x_k^2] + b_ik^2 E_w[y_k^2])
 * (E_w of the raw, uncentred values: float32 rounding scales with the value).
 * A component whose measured variance lies below the floor carries no change
 * information; its terms in Z stay far below 1, Z stays far below its
 * chi-square quantiles, and a purely affine pair gives no pixel above a CFAR
 * threshold (Z at most 1.6 on urban-1, against 314.8 for 1e-6). A component
 * that does not vary at all on the sample (a band constant in both passes,
 * floor 0) adds nothing to Z.
 *
 * Calibration. The weights 1 - F(Z) of unchanged pixels are spread evenly
 * over (0, 1), and a variance weighted by them is smaller than the variance
 * of the unchanged pixels: for Z ~ chi2_B by the factor
 * 2 P(chi2_B > chi2_{B+2}) (0.58 at B = 3, 0.94 at B = 204). The next Z are
 * then too large, the next weights too small, and Nielsen's iteration drifts
 * until most unchanged pixels are "changed" (half of them on a Gaussian
 * 3-band case, nearly all on ABU urban-1 with 1 % noise). So each iteration
 * scales the sigma_i^2 by c = max(1, median(Z) / median(chi2_B)), the median
 * over the sample: unchanged pixels are the majority (the method's premise),
 * so the median of Z is theirs and c puts it back on the chi-square's. c is
 * never below 1, so floored components are not blown back up. The weights
 * still favour unchanged pixels whose MAD variates happen to be small, so on
 * Gaussian data IR-MAD's rho come out above the population's (0.95, 0.7, 0.4
 * give about 0.97, 0.81, 0.59); plain MAD (max_iter = 1) on unchanged pixels
 * recovers them.
 *
 * Sample. The iterations run on at most VG_CHANGE_SAMPLE valid pixels, taken
 * by a fixed hash of the pixel index (no aliasing with the raster's rows);
 * the final Z covers every pixel with the sample's vectors and variances
 * (outside the sample the CCA's fit is a little worse: Z larger by about
 * 2B / VG_CHANGE_SAMPLE, 2.5 % at B = 204). Pixels with a non-finite value in either
 * pass, or all bands at the cube's no-data value, are left out and get NAN.
 *
 * Options and results: max_iter counts CCA solves (1 is plain MAD, <= 0 the
 * default 30), tol <= 0 and eps <= 0 take the defaults (1e-5, 1e-6); the
 * loading is raised ten-fold (and said) while a Cholesky fails.
 * info->iterations is the number of CCA solves run, info->rho the canonical
 * correlations of the last one, largest first. At B = 204 the smallest,
 * noise-level correlations keep moving by about 1e-4 from one iteration to
 * the next, so tol = 1e-5 runs to max_iter; the large ones settle within
 * about 10 iterations.
 *
 * Determinism: pixels are cut into chunks fixed by the data alone, each chunk
 * computed whole by one thread with single-threaded BLAS, partial sums added
 * in chunk order (detect_par.h); everything else runs in our own loops.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_par.h"
#include "vigia/detect.h"

/* Iteration sample: 16384 pixels keep 40 pixels per variable of the CCA at B = 204 (2B = 408). */
#define VG_CHANGE_SAMPLE ((size_t)16384)
/* Floor of the MAD standard deviations, in float32 unit roundoffs (2^-24) of the inputs. */
#define VG_CHANGE_FLOOR_ULPS 8.0
#define VG_CHANGE_U32 (1.0 / 16777216.0)
/* Bands whose variance is below this fraction of the mean band variance are loaded as if they had it. */
#define VG_CHANGE_TINY_VAR 1e-12
/* Defaults (VG_CHANGE_OPTS_INIT). */
#define VG_CHANGE_MAX_ITER 30
#define VG_CHANGE_TOL 1e-5
#define VG_CHANGE_EPS 1e-6
/* Pixels per chunk of work (one thread, one BLAS call at a time). */
#define CHUNK ((size_t)VG_DETECT_TILE)

/* ---- chi-square ------------------------------------------------------------------------- */

/* log Gamma(p/2) for an integer p >= 1, summed exactly: Gamma(1) = 1, Gamma(1/2) = sqrt(pi). */
static double lgamma_half(int p)
{
  double a = (p % 2) ? 0.5 : 1.0, s = (p % 2) ? 0.5 * log(3.14159265358979323846) : 0.0;
  for (; a < 0.5 * p - 0.25; a += 1.0)
    s += log(a);
  return s;
}

/*
 * Regularized incomplete gamma of a > 0, x >= 0: P(a, x) into *p and Q = 1 - P
 * into *q, each computed directly where it is small (series for x < a + 1,
 * Lentz's continued fraction otherwise; Numerical Recipes 6.2), so Q keeps its
 * relative precision far into the tail. lga = log Gamma(a).
 */
static void gamma_pq(double a, double x, double lga, double *p, double *q)
{
  double lead;
  if (!(x > 0)) {
    *p = 0;
    *q = 1;
    return;
  }
  if (isinf(x)) {
    *p = 1;
    *q = 0;
    return;
  }
  lead = -x + a * log(x) - lga;
  if (x < a + 1) {
    double ap = a, del = 1.0 / a, sum = del;
    for (int n = 0; n < 100000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (fabs(del) < fabs(sum) * 1e-16)
        break;
    }
    *p = sum * exp(lead);
    if (*p > 1)
      *p = 1;
    *q = 1 - *p;
  } else {
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 100000; i++) {
      double an = -i * (i - a), del;
      b += 2;
      d = an * d + b;
      if (fabs(d) < tiny)
        d = tiny;
      c = b + an / c;
      if (fabs(c) < tiny)
        c = tiny;
      d = 1 / d;
      del = d * c;
      h *= del;
      if (fabs(del - 1) < 1e-16)
        break;
    }
    *q = exp(lead) * h;
    if (*q > 1)
      *q = 1;
    *p = 1 - *q;
  }
}

/* Median of chi-square with p degrees of freedom: bisection on P(p/2, x/2) = 1/2. */
static double chi2_median(int p, double lga)
{
  double lo = 0, hi = p + 20.0 * sqrt(2.0 * p) + 20.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    double mid = 0.5 * (lo + hi), pp, qq;
    gamma_pq(0.5 * p, 0.5 * mid, lga, &pp, &qq);
    if (pp < 0.5)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

double vg_detect_chi2_quantile(int dof, double pfa)
{
  double lga, lo = 0, hi;
  if (dof < 1 || !(pfa > 0 && pfa < 1))
    return NAN;
  lga = lgamma_half(dof);
  hi = dof + 10.0;
  for (;;) { /* grow until the tail is below pfa */
    double pp, qq;
    gamma_pq(0.5 * dof, 0.5 * hi, lga, &pp, &qq);
    if (qq < pfa || hi > 1e9)
      break;
    hi *= 2;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    double mid = 0.5 * (lo + hi), pp, qq;
    gamma_pq(0.5 * dof, 0.5 * mid, lga, &pp, &qq);
    if (qq > pfa)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- state ------------------------------------------------------------------------------ */

typedef struct {
  size_t p, p2;       /* bands, 2 * bands */
  /* the iteration sample: ns rows of [x y] as float, their weights */
  size_t ns;
  float *zs;
  double *w;
  /* per iteration */
  double sw;          /* sum of weights */
  double *mean;       /* 2p: weighted means of [x y] */
  double *msq;        /* 2p: weighted mean squares of the raw values (floor) */
  double *cov;        /* 2p x 2p, lower triangle */
  double *cm;         /* 2p x p: [A; -B], column i gives M_i */
  double *inv;        /* p: 1 / sigma_i^2 (0: the component never varies) */
  double *m;          /* ns x p: MAD variates of the sample */
  /* chunked work */
  size_t nch;
  double *part;       /* nch x (2p)^2 or nch x p partial sums */
  int err;
  /* final pass */
  const float *xa, *xb;
  const uint8_t *valid;
  size_t n;
  float *chi2, *pchange;
  double lga;
} irmad;

/* Centred (and, for the covariance, weight-scaled) rows [x - mx, y - my] of sample pixels [i0, i1). */
static void fill_tile(const irmad *s, size_t i0, size_t i1, int scaled, double *t)
{
  for (size_t i = i0; i < i1; i++) {
    const float *z = s->zs + i * s->p2;
    double *r = t + (i - i0) * s->p2, f = scaled ? sqrt(s->w[i]) : 1.0;
    for (size_t k = 0; k < s->p2; k++)
      r[k] = f * ((double)z[k] - s->mean[k]);
  }
}

static void cov_chunk(void *ctx, size_t k)
{
  irmad *s = ctx;
  size_t i0 = k * CHUNK, i1 = i0 + CHUNK < s->ns ? i0 + CHUNK : s->ns, p2 = s->p2;
  double *c = s->part + k * p2 * p2;
  double *t = malloc(CHUNK * p2 * sizeof *t);
  if (!t) {
    s->err = 1;
    return;
  }
  memset(c, 0, p2 * p2 * sizeof *c);
  fill_tile(s, i0, i1, 1, t);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)p2, (int)(i1 - i0), 1.0, t, (int)p2, 0.0,
              c, (int)p2);
  free(t);
}

static void mad_chunk(void *ctx, size_t k)
{
  irmad *s = ctx;
  size_t i0 = k * CHUNK, i1 = i0 + CHUNK < s->ns ? i0 + CHUNK : s->ns, p = s->p, p2 = s->p2;
  double *acc = s->part + k * p;
  double *t = malloc(CHUNK * p2 * sizeof *t);
  memset(acc, 0, p * sizeof *acc);
  if (!t) {
    s->err = 1;
    return;
  }
  if (i1 <= i0 || !p) { /* never: chunks are not empty (and it tells gcc the tile is filled) */
    free(t);
    return;
  }
  fill_tile(s, i0, i1, 0, t);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(i1 - i0), (int)p, (int)p2, 1.0, t,
              (int)p2, s->cm, (int)p, 0.0, s->m + i0 * p, (int)p);
  for (size_t i = i0; i < i1; i++) {
    const double *mi = s->m + i * p;
    double w = s->w[i];
    for (size_t q = 0; q < p; q++)
      acc[q] += w * mi[q] * mi[q];
  }
  free(t);
}

/* Final pass: Z and F(Z) for every pixel of chunk k of the image. */
static void final_chunk(void *ctx, size_t k)
{
  irmad *s = ctx;
  size_t i0 = k * CHUNK, i1 = i0 + CHUNK < s->n ? i0 + CHUNK : s->n, p = s->p, p2 = s->p2, nt = 0;
  double *t = malloc(CHUNK * p2 * sizeof *t), *mt = malloc(CHUNK * p * sizeof *mt);
  size_t *idx = malloc(CHUNK * sizeof *idx);
  if (!t || !mt || !idx) {
    s->err = 1;
    goto done;
  }
  for (size_t i = i0; i < i1; i++) {
    const float *xa = s->xa + i * p, *xb = s->xb + i * p;
    double *r;
    if (!s->valid[i]) {
      s->chi2[i] = NAN;
      if (s->pchange)
        s->pchange[i] = NAN;
      continue;
    }
    r = t + nt * p2;
    for (size_t q = 0; q < p; q++) {
      r[q] = (double)xa[q] - s->mean[q];
      r[p + q] = (double)xb[q] - s->mean[p + q];
    }
    idx[nt++] = i;
  }
  if (nt)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)p, (int)p2, 1.0, t, (int)p2,
                s->cm, (int)p, 0.0, mt, (int)p);
  for (size_t j = 0; j < nt; j++) {
    const double *mj = mt + j * p;
    double z = 0, pp, qq;
    for (size_t q = 0; q < p; q++)
      z += mj[q] * mj[q] * s->inv[q];
    s->chi2[idx[j]] = z < FLT_MAX ? (float)z : FLT_MAX;
    if (s->pchange) {
      gamma_pq(0.5 * (double)p, 0.5 * z, s->lga, &pp, &qq);
      s->pchange[idx[j]] = (float)pp;
    }
  }
done:
  free(t);
  free(mt);
  free(idx);
}

/* splitmix64: the sample's fixed hash of a pixel index. */
static uint64_t mix64(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Cholesky of the covariance block at (off, off) with per-band loading eps * var_k into l (p x p, lower). */
static int factor_block(const irmad *s, size_t off, double eps, double *l)
{
  size_t p = s->p, p2 = s->p2;
  double mvar = 0;
  for (size_t k = 0; k < p; k++)
    mvar += s->cov[(off + k) * p2 + off + k];
  mvar /= (double)p;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      l[i * p + j] = j <= i ? s->cov[(off + i) * p2 + off + j] : 0.0;
  for (size_t k = 0; k < p; k++) {
    double v = l[k * p + k];
    l[k * p + k] = v + eps * (v > VG_CHANGE_TINY_VAR * mvar ? v : VG_CHANGE_TINY_VAR * mvar);
  }
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, l, (lapack_int)p) != 0)
    return -1;
  for (size_t i = 0; i < p; i++) /* dpotrf leaves the upper triangle alone: zero it */
    for (size_t j = i + 1; j < p; j++)
      l[i * p + j] = 0.0;
  return 0;
}

/* ---- entry point ------------------------------------------------------------------------ */

int vg_change_irmad(const vg_cube *a, const vg_cube *b, const vg_change_opts *o, float *chi2,
                    float *pchange, vg_change_info *info)
{
  vg_change_opts def = VG_CHANGE_OPTS_INIT;
  irmad s;
  uint8_t *valid = NULL;
  double *lx = NULL, *ly = NULL, *kk = NULL, *u = NULL, *vt = NULL, *sv = NULL, *sup = NULL;
  double *rho = NULL, *rho_prev = NULL, *wn = NULL, *zs = NULL;
  size_t n, nvalid = 0, p, p2;
  int rc = VG_OK, iter = 0, max_iter;
  double tol, eps, med_chi2;

  memset(&s, 0, sizeof s);
  if (!o)
    o = &def;
  if (!a || !b || !chi2 || !a->data || !b->data)
    return vg_error_set(VG_E_INVALID, "IR-MAD: NULL cube or output");
  if (o->version != VG_CHANGE_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "IR-MAD: options version %d, expected %d", o->version,
                        VG_CHANGE_OPTS_VERSION);
  if (a->rows != b->rows || a->cols != b->cols || a->bands != b->bands || a->rows <= 0 ||
      a->cols <= 0 || a->bands <= 0)
    return vg_error_set(VG_E_INVALID, "IR-MAD: passes of %dx%dx%d and %dx%dx%d", a->rows, a->cols,
                        a->bands, b->rows, b->cols, b->bands);
  if (o->tol < 0 || !isfinite(o->tol) || o->eps < 0 || !isfinite(o->eps))
    return vg_error_set(VG_E_INVALID, "IR-MAD: tol %g, eps %g", o->tol, o->eps);
  max_iter = o->max_iter > 0 ? o->max_iter : VG_CHANGE_MAX_ITER;
  tol = o->tol > 0 ? o->tol : VG_CHANGE_TOL;
  eps = o->eps > 0 ? o->eps : VG_CHANGE_EPS;
  n = (size_t)a->rows * (size_t)a->cols;
  p = (size_t)a->bands;
  p2 = 2 * p;
  s.p = p;
  s.p2 = p2;
  s.lga = lgamma_half(a->bands);
  med_chi2 = chi2_median(a->bands, s.lga);
  vg__detect_threads(); /* OpenBLAS to one thread before the first LAPACK call */

  /* valid pixels and the sample */
  if (!(valid = malloc(n))) {
    rc = vg_error_set(VG_E_NOMEM, "IR-MAD: mask of %zu pixels", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const float *x = a->data + i * p, *y = b->data + i * p;
    int ok = 1, nda = a->has_nodata, ndb = b->has_nodata;
    for (size_t k = 0; k < p && ok; k++) {
      ok = isfinite(x[k]) && isfinite(y[k]);
      nda = nda && x[k] == (float)a->nodata;
      ndb = ndb && y[k] == (float)b->nodata;
    }
    valid[i] = (uint8_t)(ok && !nda && !ndb);
    nvalid += valid[i];
  }
  if (nvalid < p2 + 2) {
    rc = vg_error_set(VG_E_INVALID,
                      "IR-MAD: %zu valid pixels for %zu bands: need at least 2 x bands + 2", nvalid, p);
    goto done;
  }
  {
    size_t cap = nvalid <= VG_CHANGE_SAMPLE ? nvalid : VG_CHANGE_SAMPLE + VG_CHANGE_SAMPLE / 8;
    if (!(s.zs = malloc(cap * p2 * sizeof *s.zs))) {
      rc = vg_error_set(VG_E_NOMEM, "IR-MAD: sample of %zu pixels", cap);
      goto done;
    }
    for (size_t i = 0; i < n && s.ns < cap; i++) {
      if (!valid[i])
        continue;
      if (nvalid > VG_CHANGE_SAMPLE && mix64(i) % nvalid >= VG_CHANGE_SAMPLE)
        continue;
      memcpy(s.zs + s.ns * p2, a->data + i * p, p * sizeof *s.zs);
      memcpy(s.zs + s.ns * p2 + p, b->data + i * p, p * sizeof *s.zs);
      s.ns++;
    }
    if (s.ns < p2 + 2) {
      rc = vg_error_set(VG_E_INVALID, "IR-MAD: sample of %zu pixels for %zu bands", s.ns, p);
      goto done;
    }
  }
  s.nch = (s.ns + CHUNK - 1) / CHUNK;
  s.w = malloc(s.ns * sizeof *s.w);
  wn = malloc(s.ns * sizeof *wn);
  zs = malloc(s.ns * sizeof *zs);
  s.mean = malloc(p2 * sizeof *s.mean);
  s.msq = malloc(p2 * sizeof *s.msq);
  s.cov = malloc(p2 * p2 * sizeof *s.cov);
  s.cm = malloc(p2 * p * sizeof *s.cm);
  s.inv = malloc(p * sizeof *s.inv);
  s.m = malloc(s.ns * p * sizeof *s.m);
  s.part = malloc(s.nch * p2 * p2 * sizeof *s.part);
  lx = malloc(p * p * sizeof *lx);
  ly = malloc(p * p * sizeof *ly);
  kk = malloc(p * p * sizeof *kk);
  u = malloc(p * p * sizeof *u);
  vt = malloc(p * p * sizeof *vt);
  sv = malloc(p * sizeof *sv);
  sup = malloc(p * sizeof *sup);
  rho = malloc(p * sizeof *rho);
  rho_prev = malloc(p * sizeof *rho_prev);
  if (!s.w || !wn || !zs || !s.mean || !s.msq || !s.cov || !s.cm || !s.inv || !s.m || !s.part ||
      !lx || !ly || !kk || !u || !vt || !sv || !sup || !rho || !rho_prev) {
    rc = vg_error_set(VG_E_NOMEM, "IR-MAD: %zu bands, sample of %zu pixels", p, s.ns);
    goto done;
  }
  for (size_t i = 0; i < s.ns; i++)
    s.w[i] = 1.0;

  for (;;) {
    double e = eps, scale, dmax = 0, swn = 0;
    /* 1. weighted means and mean squares (our loop, fixed order) */
    s.sw = 0;
    memset(s.mean, 0, p2 * sizeof *s.mean);
    memset(s.msq, 0, p2 * sizeof *s.msq);
    for (size_t i = 0; i < s.ns; i++) {
      const float *z = s.zs + i * p2;
      double w = s.w[i];
      s.sw += w;
      for (size_t k = 0; k < p2; k++) {
        s.mean[k] += w * z[k];
        s.msq[k] += w * (double)z[k] * z[k];
      }
    }
    for (size_t k = 0; k < p2; k++) {
      s.mean[k] /= s.sw;
      s.msq[k] /= s.sw;
    }
    /* joint covariance: per-chunk dsyrk, chunks added in order */
    vg__detect_par(s.nch, cov_chunk, &s);
    if (s.err) {
      rc = vg_error_set(VG_E_NOMEM, "IR-MAD: covariance tile");
      goto done;
    }
    for (size_t q = 0; q < p2; q++)
      for (size_t r = 0; r <= q; r++) {
        double v = 0;
        for (size_t k = 0; k < s.nch; k++)
          v += s.part[k * p2 * p2 + q * p2 + r];
        s.cov[q * p2 + r] = v / s.sw;
      }
    /* 2. loaded Cholesky factors (loading raised ten-fold while either fails) */
    for (; e <= VG_DETECT_LOADING_MAX * (1 + 1e-9); e *= 10)
      if (factor_block(&s, 0, e, lx) == 0 && factor_block(&s, p, e, ly) == 0)
        break;
    if (e > VG_DETECT_LOADING_MAX * (1 + 1e-9)) {
      rc = vg_error_set(VG_E_RANGE, "IR-MAD: covariances not positive definite even loaded by %g",
                        VG_DETECT_LOADING_MAX);
      goto done;
    }
    if (e > eps * (1 + 1e-9))
      vg_log(VG_LOG_WARN, "detect", "IR-MAD: covariance loading raised from %g to %g to factor it",
             eps, e);
    /* 3. K = Lx^-1 Sxy Ly^-T, Sxy[i][j] = cov(x_i, y_j) = cov[(p + j) * 2p + i] */
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++)
        kk[i * p + j] = s.cov[(p + j) * p2 + i];
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)p, (int)p,
                1.0, lx, (int)p, kk, (int)p);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)p, (int)p, 1.0,
                ly, (int)p, kk, (int)p);
    if (LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', (lapack_int)p, (lapack_int)p, kk, (lapack_int)p,
                       sv, u, (lapack_int)p, vt, (lapack_int)p, sup) != 0) {
      rc = vg_error_set(VG_E_RANGE, "IR-MAD: SVD of the whitened cross covariance did not converge");
      goto done;
    }
    /* A = Lx^-T U, B = Ly^-T V: cm = [A; -B] */
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)p, (int)p, 1.0,
                lx, (int)p, u, (int)p);
    for (size_t i = 0; i < p; i++) /* V = VT' into kk */
      for (size_t j = 0; j < p; j++)
        kk[i * p + j] = vt[j * p + i];
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)p, (int)p, 1.0,
                ly, (int)p, kk, (int)p);
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) {
        s.cm[i * p + j] = u[i * p + j];
        s.cm[(p + i) * p + j] = -kk[i * p + j];
      }
    iter++;
    for (size_t i = 0; i < p; i++) {
      rho[i] = sv[i] < 1 ? sv[i] : 1.0;
      if (iter > 1 && fabs(rho[i] - rho_prev[i]) > dmax)
        dmax = fabs(rho[i] - rho_prev[i]);
    }
    /* 4. MAD variates of the sample and their weighted variances, floored */
    vg__detect_par(s.nch, mad_chunk, &s);
    if (s.err) {
      rc = vg_error_set(VG_E_NOMEM, "IR-MAD: MAD tile");
      goto done;
    }
    for (size_t q = 0; q < p; q++) {
      double v = 0, fl = 0, f = VG_CHANGE_FLOOR_ULPS * VG_CHANGE_U32;
      for (size_t k = 0; k < s.nch; k++)
        v += s.part[k * p + q];
      v /= s.sw;
      for (size_t k = 0; k < p; k++)
        fl += s.cm[k * p + q] * s.cm[k * p + q] * s.msq[k] +
              s.cm[(p + k) * p + q] * s.cm[(p + k) * p + q] * s.msq[p + k];
      fl *= f * f;
      if (v < fl)
        v = fl;
      s.inv[q] = v > 0 && isfinite(v) ? 1.0 / v : 0.0;
    }
    /* 5. Z of the sample, calibrated on the chi-square median, and the new weights */
    for (size_t i = 0; i < s.ns; i++) {
      const double *mi = s.m + i * p;
      double z = 0;
      for (size_t q = 0; q < p; q++)
        z += mi[q] * mi[q] * s.inv[q];
      zs[i] = z;
    }
    memcpy(wn, zs, s.ns * sizeof *wn);
    qsort(wn, s.ns, sizeof *wn, cmp_double);
    scale = s.ns % 2 ? wn[s.ns / 2] : 0.5 * (wn[s.ns / 2 - 1] + wn[s.ns / 2]);
    scale /= med_chi2;
    if (!(scale > 1))
      scale = 1;
    for (size_t q = 0; q < p; q++)
      s.inv[q] /= scale;
    for (size_t i = 0; i < s.ns; i++) {
      double pp;
      gamma_pq(0.5 * (double)p, 0.5 * zs[i] / scale, s.lga, &pp, &wn[i]);
      swn += wn[i];
    }
    vg_log(VG_LOG_DEBUG, "detect",
           "IR-MAD iteration %d: rho %.9f .. %.9f, max change %.3g, scale %.4f, weight %.1f of %zu",
           iter, rho[0], rho[p - 1], dmax, scale, swn, s.ns);
    /* 6. done? */
    if (iter >= max_iter || (iter > 1 && dmax < tol))
      break;
    if (!(swn >= (double)(p2 + 2))) {
      vg_log(VG_LOG_WARN, "detect",
             "IR-MAD: stopped at iteration %d: weights of no change sum to %.3g, too few for %zu bands",
             iter, swn, p);
      break;
    }
    memcpy(s.w, wn, s.ns * sizeof *wn);
    memcpy(rho_prev, rho, p * sizeof *rho);
  }

  /* Z and F(Z) for every pixel */
  s.xa = a->data;
  s.xb = b->data;
  s.valid = valid;
  s.n = n;
  s.chi2 = chi2;
  s.pchange = pchange;
  vg__detect_par((n + CHUNK - 1) / CHUNK, final_chunk, &s);
  if (s.err) {
    rc = vg_error_set(VG_E_NOMEM, "IR-MAD: scoring tile");
    goto done;
  }
  if (info) {
    memset(info, 0, sizeof *info);
    info->iterations = iter;
    info->bands = a->bands;
    for (size_t i = 0; i < p && i < sizeof info->rho / sizeof info->rho[0]; i++)
      info->rho[i] = rho[i];
  }

done:
  free(valid);
  free(s.zs);
  free(s.w);
  free(s.mean);
  free(s.msq);
  free(s.cov);
  free(s.cm);
  free(s.inv);
  free(s.m);
  free(s.part);
  free(lx);
  free(ly);
  free(kk);
  free(u);
  free(vt);
  free(sv);
  free(sup);
  free(rho);
  free(rho_prev);
  free(wn);
  free(zs);
  return rc;
}
