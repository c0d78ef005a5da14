/*
 * The RX family (research/detection.md 4.1).
 *
 *   RX   global: the loaded background statistics of the whole scene
 *        (stats.c), score ||W (x - mean)||^2.
 *   LRX  dual-window local RX on the leading principal components: per pixel,
 *        mean and covariance of the outer window minus the guard window,
 *        loaded, Cholesky, Mahalanobis distance of the centre. Windows from
 *        the ground sample distance and the target size when known.
 *   RXP  the default (see rxp below).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigia/detect.h"

static const char *const k_names[VG_DETECT__COUNT] = {"rx", "rxp", "lrx", "mf", "ace", "cem", "thermal"};

const char *vg_detect_method_name(vg_detect_method m)
{
  return (unsigned)m < VG_DETECT__COUNT ? k_names[m] : "?";
}

int vg_detect_method_parse(const char *s, vg_detect_method *m)
{
  for (int i = 0; i < VG_DETECT__COUNT; i++)
    if (!strcasecmp(s, k_names[i])) {
      *m = (vg_detect_method)i;
      return VG_OK;
    }
  return vg_error_set(VG_E_INVALID, "unknown method '%s' (rx, rxp, lrx, mf, ace, cem, thermal)", s);
}

/* A row source over a cube in memory. */
static int mem_rows(void *ctx, int row0, int nrows, float *buf)
{
  const vg_cube *c = ctx;
  size_t per = (size_t)c->cols * (size_t)c->bands;
  memcpy(buf, c->data + (size_t)row0 * per, (size_t)nrows * per * sizeof *buf);
  return VG_OK;
}

/* Image geometry and its row source. */
typedef struct {
  int rows, cols, bands;
  vg_rows_fn read;
  void *ctx;
} src_t;

/* Global statistics in two passes over blocks of rows. */
static int stats_rows(const src_t *im, double eps, vg_stats **out)
{
  vg_stats_acc *a = NULL;
  size_t per = (size_t)im->cols * (size_t)im->bands;
  float *buf = malloc((size_t)VG_DETECT_ROW_BLOCK * per * sizeof *buf);
  int rc = buf ? vg_stats_acc_new(&a, im->bands) : vg_error_set(VG_E_NOMEM, "row block");
  for (int pass = 0; pass < 2 && rc == VG_OK; pass++)
    for (int r0 = 0; r0 < im->rows && rc == VG_OK; r0 += VG_DETECT_ROW_BLOCK) {
      int nr = im->rows - r0 < VG_DETECT_ROW_BLOCK ? im->rows - r0 : VG_DETECT_ROW_BLOCK;
      size_t n = (size_t)nr * (size_t)im->cols;
      if ((rc = im->read(im->ctx, r0, nr, buf)) != VG_OK)
        break;
      rc = pass == 0 ? vg_stats_acc_mean(a, buf, n, NULL) : vg_stats_acc_cov(a, buf, n, NULL);
    }
  if (rc == VG_OK)
    rc = vg_stats_acc_finish(a, eps, out);
  vg_stats_acc_free(a);
  free(buf);
  return rc;
}

static int rx_global(const src_t *im, double eps, float *score)
{
  vg_stats *s = NULL;
  size_t per = (size_t)im->cols * (size_t)im->bands;
  float *buf = NULL;
  int rc = stats_rows(im, eps, &s);
  if (rc == VG_OK && !(buf = malloc((size_t)VG_DETECT_ROW_BLOCK * per * sizeof *buf)))
    rc = vg_error_set(VG_E_NOMEM, "row block");
  for (int r0 = 0; r0 < im->rows && rc == VG_OK; r0 += VG_DETECT_ROW_BLOCK) {
    int nr = im->rows - r0 < VG_DETECT_ROW_BLOCK ? im->rows - r0 : VG_DETECT_ROW_BLOCK;
    if ((rc = im->read(im->ctx, r0, nr, buf)) == VG_OK)
      rc = vg_detect_mahalanobis(s, buf, (size_t)nr * (size_t)im->cols,
                                 score + (size_t)r0 * (size_t)im->cols);
  }
  free(buf);
  vg_stats_free(s);
  return rc;
}

/* ---- LRX ---------------------------------------------------------------------------- */

/* The k leading principal components of the pixels, as an n x k float array. */
static int pca(const vg_cube *c, int k, float **out)
{
  vg_stats *s = NULL;
  size_t n = (size_t)c->rows * (size_t)c->cols, b = (size_t)c->bands;
  double *ev = NULL, *vec = NULL;
  float *p = NULL, *xc = NULL;
  int rc;
  if ((rc = vg_stats_compute(&s, c->data, n, c->bands, NULL, VG_DETECT_LOADING)) != VG_OK)
    return rc;
  ev = malloc(b * sizeof *ev);
  vec = malloc(b * b * sizeof *vec);
  p = malloc(n * (size_t)k * sizeof *p);
  xc = malloc(b * (size_t)k * sizeof *xc);
  if (!ev || !vec || !p || !xc) {
    rc = vg_error_set(VG_E_NOMEM, "PCA of %zu bands", b);
    goto done;
  }
  memcpy(vec, s->cov, b * b * sizeof *vec);
  if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)b, vec, (lapack_int)b, ev) != 0) {
    rc = vg_error_set(VG_E_RANGE, "PCA: eigen decomposition failed");
    goto done;
  }
  /* eigenvalues ascending: the last k columns, as a b x k float projection */
  for (size_t i = 0; i < b; i++)
    for (int j = 0; j < k; j++)
      xc[i * (size_t)k + (size_t)j] = (float)vec[i * b + (b - 1 - (size_t)j)];
  {
    float *t = malloc(VG_DETECT_TILE * b * sizeof *t);
    if (!t) {
      rc = vg_error_set(VG_E_NOMEM, "PCA tile");
      goto done;
    }
    for (size_t i0 = 0; i0 < n; i0 += VG_DETECT_TILE) {
      size_t nt = n - i0 < VG_DETECT_TILE ? n - i0 : VG_DETECT_TILE;
      for (size_t i = 0; i < nt; i++)
        for (size_t q = 0; q < b; q++)
          t[i * b + q] = c->data[(i0 + i) * b + q] - s->mean_f[q];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, k, (int)b, 1.0f, t, (int)b, xc,
                  k, 0.0f, p + i0 * (size_t)k, k);
    }
    free(t);
  }
  *out = p;
  p = NULL;
done:
  free(ev);
  free(vec);
  free(p);
  free(xc);
  vg_stats_free(s);
  return rc;
}

/* Window widths: the guard covers the target, the outer ring holds at least 4k samples. */
static void lrx_windows(const vg_detect_opts *o, int k, int *wi, int *wo)
{
  int in = o->lrx_inner, out = o->lrx_outer;
  if (in <= 0) {
    double px = o->gsd_m > 0 ? (o->target_m > 0 ? o->target_m : 10.0) / o->gsd_m : 5.0;
    in = 2 * (int)ceil(px / 2.0) + 1;
    if (in < 3)
      in = 3;
  }
  if (out <= in) {
    out = in + 6;
    while (out * out - in * in < 4 * k)
      out += 2;
  }
  *wi = in | 1;
  *wo = out | 1;
}

static int rx_local(const vg_cube *c, const vg_detect_opts *o, float *score)
{
  int k = o->pca_bands > 0 ? o->pca_bands : 30, wi, wo, rc;
  float *p = NULL;
  double *mu = NULL, *cov = NULL, *d = NULL;
  int rows = c->rows, cols = c->cols;
  if (k > c->bands)
    k = c->bands;
  lrx_windows(o, k, &wi, &wo);
  if ((rc = pca(c, k, &p)) != VG_OK)
    return rc;
  mu = malloc((size_t)k * sizeof *mu);
  cov = malloc((size_t)k * (size_t)k * sizeof *cov);
  d = malloc((size_t)k * sizeof *d);
  if (!mu || !cov || !d) {
    rc = vg_error_set(VG_E_NOMEM, "local RX");
    goto done;
  }
  for (int r = 0; r < rows; r++)
    for (int cc = 0; cc < cols; cc++) {
      int ro = wo / 2, ri = wi / 2, m = 0;
      /* windows shifted inside the image at its borders (as SPy) */
      int r0 = r - ro < 0 ? 0 : r - ro > rows - wo ? (rows - wo < 0 ? 0 : rows - wo) : r - ro;
      int c0 = cc - ro < 0 ? 0 : cc - ro > cols - wo ? (cols - wo < 0 ? 0 : cols - wo) : cc - ro;
      int r1 = r0 + wo < rows ? r0 + wo : rows, c1 = c0 + wo < cols ? c0 + wo : cols;
      double tr = 0, q = 0;
      memset(mu, 0, (size_t)k * sizeof *mu);
      memset(cov, 0, (size_t)k * (size_t)k * sizeof *cov);
      for (int y = r0; y < r1; y++)
        for (int x = c0; x < c1; x++) {
          if (abs(y - r) <= ri && abs(x - cc) <= ri)
            continue;
          const float *v = p + ((size_t)y * (size_t)cols + (size_t)x) * (size_t)k;
          for (int a = 0; a < k; a++)
            mu[a] += v[a];
          m++;
        }
      if (m < 2) {
        score[(size_t)r * (size_t)cols + (size_t)cc] = 0;
        continue;
      }
      for (int a = 0; a < k; a++)
        mu[a] /= m;
      for (int y = r0; y < r1; y++)
        for (int x = c0; x < c1; x++) {
          if (abs(y - r) <= ri && abs(x - cc) <= ri)
            continue;
          const float *v = p + ((size_t)y * (size_t)cols + (size_t)x) * (size_t)k;
          for (int a = 0; a < k; a++) {
            double da = v[a] - mu[a];
            for (int b2 = 0; b2 <= a; b2++)
              cov[a * k + b2] += da * (v[b2] - mu[b2]);
          }
        }
      for (int a = 0; a < k; a++) {
        for (int b2 = 0; b2 <= a; b2++)
          cov[a * k + b2] /= (m - 1);
        tr += cov[a * k + a];
      }
      {
        double eps = o->eps > 0 ? o->eps : VG_DETECT_LOADING, lam = eps * tr / k;
        for (int a = 0; a < k; a++)
          cov[a * k + a] += lam > 0 ? lam : 1e-12;
      }
      if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', k, cov, k) != 0) {
        score[(size_t)r * (size_t)cols + (size_t)cc] = NAN;
        continue;
      }
      {
        const float *v = p + ((size_t)r * (size_t)cols + (size_t)cc) * (size_t)k;
        for (int a = 0; a < k; a++)
          d[a] = v[a] - mu[a];
        /* solve L y = d; score = |y|^2 */
        for (int a = 0; a < k; a++) {
          double t = d[a];
          for (int b2 = 0; b2 < a; b2++)
            t -= cov[a * k + b2] * d[b2];
          d[a] = t / cov[a * k + a];
          q += d[a] * d[a];
        }
      }
      score[(size_t)r * (size_t)cols + (size_t)cc] = (float)q;
    }
done:
  free(p);
  free(mu);
  free(cov);
  free(d);
  return rc;
}

/* ---- RXP, the default --------------------------------------------------------------- */

/*
 * The default anomaly detector: a hybrid of global and local RX in the
 * whitened principal components of the scene (chosen on the 11 benchmark
 * scenes with one set of constants: mean AUC 0.982, worst 0.958, against
 * 0.971 and 0.898 for loaded global RX; research/detection.md, docs/decisions/0004).
 *
 *   1. global mean and covariance S (double), S = V diag(e) V', e descending;
 *   2. loading lambda = eps * tr(S) / B;
 *   3. z = diag(e + lambda)^-1/2 V' (x - mean) (sum of z^2 is loaded RX);
 *   4. tail, components K+1..B: the global covariance but a local mean, from
 *      the 7x7 window minus the central 3x3 (clipped at the image border):
 *      tail = |z_t - m_t|^2;
 *   5. head, components 1..K: local RX on the 17x17 ring outside a 7x7 guard:
 *      head = d' (C + 0.1 I)^-1 d, d = z_h - m_h, C the local covariance (/n);
 *   6. L = log(tail + head);
 *   7. L smoothed by the separable kernel [w, 1, w]/(1 + 2w), w = e^-2
 *      (a Gaussian of 0.5 px: targets cover several pixels), edges replicated.
 *
 * The few high-variance components carry the scene's non-stationary clutter,
 * which a local covariance in 10 dimensions models from 240 samples; the
 * many low-variance ones are noise-like, better modelled by the global loaded
 * covariance with only their local mean drifting. Computed in strips of rows
 * with a halo, so memory is bounded by the strip, not the image.
 */
#define RXP_K 10
#define RXP_TAIL_IN 1
#define RXP_TAIL_OUT 3
#define RXP_HEAD_IN 3
#define RXP_HEAD_OUT 8
#define RXP_HEAD_LOAD 0.1
#define RXP_STRIP 64

/* Sums over the (2h+1)^2 window clipped to rows [0, rows) x [0, cols) of a
 * rows x cols x ch array; tmp and out the same size. Separable running sums. */
static void box_sum(const double *in, int rows, int cols, int ch, int h, double *tmp, double *out)
{
  size_t C = (size_t)ch;
  for (int r = 0; r < rows; r++) {
    const double *row = in + (size_t)r * (size_t)cols * C;
    double *t = tmp + (size_t)r * (size_t)cols * C;
    for (int c = 0; c < cols; c++) {
      int a = c - h < 0 ? 0 : c - h, b = c + h >= cols ? cols - 1 : c + h;
      double *o = t + (size_t)c * C;
      for (size_t k = 0; k < C; k++)
        o[k] = 0;
      for (int x = a; x <= b; x++) {
        const double *v = row + (size_t)x * C;
        for (size_t k = 0; k < C; k++)
          o[k] += v[k];
      }
    }
  }
  for (int r = 0; r < rows; r++) {
    int a = r - h < 0 ? 0 : r - h, b = r + h >= rows ? rows - 1 : r + h;
    double *o = out + (size_t)r * (size_t)cols * C;
    for (size_t k = 0; k < (size_t)cols * C; k++)
      o[k] = 0;
    for (int y = a; y <= b; y++) {
      const double *t = tmp + (size_t)y * (size_t)cols * C;
      for (size_t k = 0; k < (size_t)cols * C; k++)
        o[k] += t[k];
    }
  }
}

static int rx_default(const src_t *im, const vg_detect_opts *o, float *score)
{
  size_t n = (size_t)im->rows * (size_t)im->cols, B = (size_t)im->bands;
  int rows = im->rows, cols = im->cols, K = im->bands > RXP_K ? RXP_K : im->bands - 1, rc;
  float *xs = NULL; /* the strip's rows with their halo */
  size_t T = B - (size_t)K, NH = (size_t)K + (size_t)K * (size_t)(K + 1) / 2;
  vg_stats *s = NULL;
  double *ev = NULL, *vec = NULL, *L = NULL;
  float *proj = NULL;
  double *zt = NULL, *zh = NULL, *tmp = NULL, *bt_out = NULL, *bt_in = NULL, *bh_out = NULL,
         *bh_in = NULL;
  float *xc = NULL, *z = NULL;
  if (K < 1)
    return rx_global(im, o->eps, score);
  if ((rc = stats_rows(im, o->eps, &s)) != VG_OK)
    return rc;
  ev = malloc(B * sizeof *ev);
  vec = malloc(B * B * sizeof *vec);
  proj = malloc(B * B * sizeof *proj);
  L = malloc(n * sizeof *L);
  if (!ev || !vec || !proj || !L) {
    rc = vg_error_set(VG_E_NOMEM, "detector of %zu bands", B);
    goto done;
  }
  memcpy(vec, s->cov, B * B * sizeof *vec);
  if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)B, vec, (lapack_int)B, ev) != 0) {
    rc = vg_error_set(VG_E_RANGE, "eigen decomposition of the background covariance failed");
    goto done;
  }
  /* proj[:, j] = v_j / sqrt(e_j + lambda), components in descending order */
  for (size_t j = 0; j < B; j++) {
    size_t src = B - 1 - j;
    double sc = 1.0 / sqrt((ev[src] > 0 ? ev[src] : 0) + s->lambda);
    for (size_t i = 0; i < B; i++)
      proj[i * B + j] = (float)(vec[i * B + src] * sc);
  }
  for (int r0 = 0; r0 < rows; r0 += RXP_STRIP) {
    int r1 = r0 + RXP_STRIP < rows ? r0 + RXP_STRIP : rows;
    int h0 = r0 - RXP_HEAD_OUT < 0 ? 0 : r0 - RXP_HEAD_OUT;
    int h1 = r1 + RXP_HEAD_OUT > rows ? rows : r1 + RXP_HEAD_OUT;
    int hr = h1 - h0;
    size_t m = (size_t)hr * (size_t)cols;
    if (!zt) { /* buffers sized for the largest strip */
      size_t mm = (size_t)(RXP_STRIP + 2 * RXP_HEAD_OUT) * (size_t)cols;
      size_t big = T > NH ? T : NH;
      zt = malloc(mm * T * sizeof *zt);
      zh = malloc(mm * NH * sizeof *zh);
      tmp = malloc(mm * big * sizeof *tmp);
      bt_out = malloc(mm * T * sizeof *bt_out);
      bt_in = malloc(mm * T * sizeof *bt_in);
      bh_out = malloc(mm * NH * sizeof *bh_out);
      bh_in = malloc(mm * NH * sizeof *bh_in);
      xc = malloc((size_t)VG_DETECT_TILE * B * sizeof *xc);
      xs = malloc(mm * B * sizeof *xs);
      z = malloc((size_t)VG_DETECT_TILE * B * sizeof *z);
      if (!zt || !zh || !tmp || !bt_out || !bt_in || !bh_out || !bh_in || !xc || !z || !xs) {
        rc = vg_error_set(VG_E_NOMEM, "detector strip of %zu pixels x %zu bands", mm, B);
        goto done;
      }
    }
    /* z of the strip's rows (with halo): tail in zt, head and head products in zh */
    if ((rc = im->read(im->ctx, h0, hr, xs)) != VG_OK)
      goto done;
    for (size_t i0 = 0; i0 < m; i0 += VG_DETECT_TILE) {
      size_t nt = m - i0 < VG_DETECT_TILE ? m - i0 : VG_DETECT_TILE;
      const float *x = xs + i0 * B;
      for (size_t i = 0; i < nt; i++)
        for (size_t q = 0; q < B; q++)
          xc[i * B + q] = x[i * B + q] - s->mean_f[q];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nt, (int)B, (int)B, 1.0f, xc,
                  (int)B, proj, (int)B, 0.0f, z, (int)B);
      for (size_t i = 0; i < nt; i++) {
        const float *zi = z + i * B;
        double *t = zt + (i0 + i) * T, *hh = zh + (i0 + i) * NH;
        size_t p = (size_t)K;
        for (size_t q = 0; q < T; q++)
          t[q] = zi[(size_t)K + q];
        for (int a = 0; a < K; a++)
          hh[a] = zi[a];
        for (int a = 0; a < K; a++)
          for (int b2 = 0; b2 <= a; b2++)
            hh[p++] = (double)zi[a] * zi[b2];
      }
    }
    box_sum(zt, hr, cols, (int)T, RXP_TAIL_OUT, tmp, bt_out);
    box_sum(zt, hr, cols, (int)T, RXP_TAIL_IN, tmp, bt_in);
    box_sum(zh, hr, cols, (int)NH, RXP_HEAD_OUT, tmp, bh_out);
    box_sum(zh, hr, cols, (int)NH, RXP_HEAD_IN, tmp, bh_in);
    /* per output pixel: the clipped window sizes, the two terms */
    for (int r = r0; r < r1; r++)
      for (int cc = 0; cc < cols; cc++) {
        size_t i = (size_t)(r - h0) * (size_t)cols + (size_t)cc;
        int ya, yb, xa, xb;
        double nt_out, nt_in, nh_out, nh_in, tail = 0, head = 0, mh[RXP_K], Cm[RXP_K * RXP_K],
               d[RXP_K];
        /* clipped window sizes */
        ya = r - RXP_TAIL_OUT < 0 ? 0 : r - RXP_TAIL_OUT;
        yb = r + RXP_TAIL_OUT >= rows ? rows - 1 : r + RXP_TAIL_OUT;
        xa = cc - RXP_TAIL_OUT < 0 ? 0 : cc - RXP_TAIL_OUT;
        xb = cc + RXP_TAIL_OUT >= cols ? cols - 1 : cc + RXP_TAIL_OUT;
        nt_out = (double)(yb - ya + 1) * (xb - xa + 1);
        ya = r - RXP_TAIL_IN < 0 ? 0 : r - RXP_TAIL_IN;
        yb = r + RXP_TAIL_IN >= rows ? rows - 1 : r + RXP_TAIL_IN;
        xa = cc - RXP_TAIL_IN < 0 ? 0 : cc - RXP_TAIL_IN;
        xb = cc + RXP_TAIL_IN >= cols ? cols - 1 : cc + RXP_TAIL_IN;
        nt_in = (double)(yb - ya + 1) * (xb - xa + 1);
        ya = r - RXP_HEAD_OUT < 0 ? 0 : r - RXP_HEAD_OUT;
        yb = r + RXP_HEAD_OUT >= rows ? rows - 1 : r + RXP_HEAD_OUT;
        xa = cc - RXP_HEAD_OUT < 0 ? 0 : cc - RXP_HEAD_OUT;
        xb = cc + RXP_HEAD_OUT >= cols ? cols - 1 : cc + RXP_HEAD_OUT;
        nh_out = (double)(yb - ya + 1) * (xb - xa + 1);
        ya = r - RXP_HEAD_IN < 0 ? 0 : r - RXP_HEAD_IN;
        yb = r + RXP_HEAD_IN >= rows ? rows - 1 : r + RXP_HEAD_IN;
        xa = cc - RXP_HEAD_IN < 0 ? 0 : cc - RXP_HEAD_IN;
        xb = cc + RXP_HEAD_IN >= cols ? cols - 1 : cc + RXP_HEAD_IN;
        nh_in = (double)(yb - ya + 1) * (xb - xa + 1);
        {
          double nn = nt_out - nt_in;
          const double *so = bt_out + i * T, *si = bt_in + i * T, *zz = zt + i * T;
          for (size_t q = 0; q < T; q++) {
            double mt = nn > 0 ? (so[q] - si[q]) / nn : 0.0, dd = zz[q] - mt;
            tail += dd * dd;
          }
        }
        {
          double nn = nh_out - nh_in;
          const double *so = bh_out + i * NH, *si = bh_in + i * NH, *zz = zh + i * NH;
          size_t p = (size_t)K;
          int ok = nn > 0;
          for (int a = 0; a < K; a++)
            mh[a] = ok ? (so[a] - si[a]) / nn : 0.0;
          for (int a = 0; a < K; a++)
            for (int b2 = 0; b2 <= a; b2++, p++)
              Cm[a * K + b2] = (ok ? (so[p] - si[p]) / nn : 0.0) - mh[a] * mh[b2] +
                               (a == b2 ? RXP_HEAD_LOAD : 0.0);
          /* Cholesky of the 10 x 10 (lower) and solve */
          for (int a = 0; a < K && ok; a++) {
            for (int b2 = 0; b2 <= a; b2++) {
              double v = Cm[a * K + b2];
              for (int q = 0; q < b2; q++)
                v -= Cm[a * K + q] * Cm[b2 * K + q];
              if (a == b2) {
                if (!(v > 0)) {
                  ok = 0;
                  break;
                }
                Cm[a * K + a] = sqrt(v);
              } else {
                Cm[a * K + b2] = v / Cm[b2 * K + b2];
              }
            }
          }
          if (ok) {
            for (int a = 0; a < K; a++) {
              double v = zz[a] - mh[a];
              for (int q = 0; q < a; q++)
                v -= Cm[a * K + q] * d[q];
              d[a] = v / Cm[a * K + a];
              head += d[a] * d[a];
            }
          } else {
            for (int a = 0; a < K; a++)
              head += zz[a] * zz[a];
          }
        }
        L[(size_t)r * (size_t)cols + (size_t)cc] = log(tail + head + 1e-300);
      }
  }
  /* 7. smoothing, separable, edges replicated */
  {
    const double w = exp(-2.0), k0 = w / (1 + 2 * w), k1 = 1.0 / (1 + 2 * w);
    double *t2 = malloc(n * sizeof *t2);
    if (!t2) {
      rc = vg_error_set(VG_E_NOMEM, "smoothing");
      goto done;
    }
    for (int r = 0; r < rows; r++) {
      int ra = r > 0 ? r - 1 : 0, rb = r + 1 < rows ? r + 1 : rows - 1;
      for (int cc = 0; cc < cols; cc++)
        t2[(size_t)r * cols + cc] = k0 * L[(size_t)ra * cols + cc] + k1 * L[(size_t)r * cols + cc] +
                                    k0 * L[(size_t)rb * cols + cc];
    }
    for (int r = 0; r < rows; r++)
      for (int cc = 0; cc < cols; cc++) {
        int ca = cc > 0 ? cc - 1 : 0, cb = cc + 1 < cols ? cc + 1 : cols - 1;
        score[(size_t)r * cols + cc] = (float)(k0 * t2[(size_t)r * cols + ca] +
                                               k1 * t2[(size_t)r * cols + cc] +
                                               k0 * t2[(size_t)r * cols + cb]);
      }
    free(t2);
  }
done:
  free(ev);
  free(vec);
  free(proj);
  free(L);
  free(zt);
  free(zh);
  free(tmp);
  free(bt_out);
  free(bt_in);
  free(bh_out);
  free(bh_in);
  free(xc);
  free(xs);
  free(z);
  vg_stats_free(s);
  return rc;
}

int vg_detect_anomaly_rows(int rows, int cols, int bands, vg_rows_fn read, void *ctx,
                           const vg_detect_opts *o_in, float *score)
{
  vg_detect_opts o = VG_DETECT_OPTS_INIT;
  src_t im = {rows, cols, bands, read, ctx};
  if (o_in)
    o = *o_in;
  if (rows <= 0 || cols <= 0 || bands <= 0 || (size_t)rows * (size_t)cols < 2)
    return vg_error_set(VG_E_INVALID, "a %d x %d x %d image has no background", rows, cols, bands);
  switch (o.method) {
  case VG_DETECT_RX: return rx_global(&im, o.eps, score);
  case VG_DETECT_RXP: return rx_default(&im, &o, score);
  case VG_DETECT_LRX:
    return vg_error_set(VG_E_UNSUPPORTED, "lrx needs the whole cube in memory");
  default:
    return vg_error_set(VG_E_INVALID, "%s is not an anomaly detector", vg_detect_method_name(o.method));
  }
}

int vg_detect_anomaly(const vg_cube *c, const vg_detect_opts *o_in, float *score)
{
  vg_detect_opts o = VG_DETECT_OPTS_INIT;
  if (o_in)
    o = *o_in;
  if (o.method == VG_DETECT_LRX) {
    if ((size_t)c->rows * (size_t)c->cols < 2)
      return vg_error_set(VG_E_INVALID, "a %d x %d image has no background", c->rows, c->cols);
    return rx_local(c, &o, score);
  }
  return vg_detect_anomaly_rows(c->rows, c->cols, c->bands, mem_rows, (void *)c, &o, score);
}
