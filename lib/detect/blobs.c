/*
 * Detections from a score map: a threshold (empirical quantile or absolute),
 * 8-connected components by a two-pass union-find labelling, one blob per
 * component with its score-weighted centroid, area, peak and mean, bounding
 * box; blobs under the minimum area dropped, the strongest kept.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/detect.h"

static int cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static uint32_t find_root(uint32_t *par, uint32_t x)
{
  while (par[x] != x) {
    par[x] = par[par[x]];
    x = par[x];
  }
  return x;
}

typedef struct {
  vg_blob b;
  uint32_t root;
} kept;

static int cmp_kept(const void *a, const void *b)
{
  float x = ((const kept *)a)->b.peak, y = ((const kept *)b)->b.peak;
  return x > y ? -1 : x < y;
}

int vg_blobs_find(const float *score, int rows, int cols, const vg_blob_opts *o, vg_blob **out,
                  size_t *nout, uint8_t *mask, double *thr_out)
{
  size_t n = (size_t)rows * (size_t)cols, nb = 0;
  uint32_t *lab = NULL, *par = NULL, next = 1;
  double thr;
  vg_blob *b = NULL;
  double *acc = NULL; /* per root: sum w, sum w*r, sum w*c */
  int rc = VG_OK, min_area = o->min_area > 0 ? o->min_area : 1;

  *out = NULL;
  *nout = 0;
  if (rows <= 0 || cols <= 0)
    return vg_error_set(VG_E_INVALID, "score map of %d x %d", rows, cols);
  if (o->quantile > 0) {
    float *tmp = malloc(n * sizeof *tmp);
    size_t m = 0, k;
    if (!tmp)
      return vg_error_set(VG_E_NOMEM, "quantile of %zu scores", n);
    for (size_t i = 0; i < n; i++)
      if (!isnan(score[i]))
        tmp[m++] = score[i];
    if (!m) {
      free(tmp);
      return vg_error_set(VG_E_INVALID, "score map has no number");
    }
    qsort(tmp, m, sizeof *tmp, cmp_float);
    k = (size_t)floor(o->quantile * (double)(m - 1));
    thr = tmp[k < m ? k : m - 1];
    free(tmp);
  } else {
    thr = o->threshold;
  }
  if (thr_out)
    *thr_out = thr;
  lab = calloc(n, sizeof *lab);
  par = malloc((n / 2 + 2) * sizeof *par);
  if (!lab || !par) {
    rc = vg_error_set(VG_E_NOMEM, "labels of %zu pixels", n);
    goto done;
  }
  par[0] = 0;
  /* pass 1: provisional labels from the already-seen neighbours (W, NW, N, NE) */
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      size_t i = (size_t)r * (size_t)cols + (size_t)c;
      uint32_t best = 0;
      const int dr[4] = {0, -1, -1, -1}, dc[4] = {-1, -1, 0, 1};
      if (!(score[i] > thr))
        continue;
      for (int k = 0; k < 4; k++) {
        int rr = r + dr[k], cc = c + dc[k];
        uint32_t l;
        if (rr < 0 || cc < 0 || cc >= cols)
          continue;
        l = lab[(size_t)rr * (size_t)cols + (size_t)cc];
        if (!l)
          continue;
        l = find_root(par, l);
        if (!best)
          best = l;
        else if (l != best) {
          uint32_t a = l < best ? l : best, z = l < best ? best : l;
          par[z] = a;
          best = a;
        }
      }
      if (!best) {
        if (next >= n / 2 + 2) { /* cannot happen with 8-connectivity, kept as a guard */
          rc = vg_error_set(VG_E_LIMIT, "too many components");
          goto done;
        }
        par[next] = next;
        best = next++;
      }
      lab[i] = best;
    }
  /* pass 2: statistics per root */
  b = calloc(next, sizeof *b);
  acc = calloc((size_t)next * 3, sizeof *acc);
  if (!b || !acc) {
    rc = vg_error_set(VG_E_NOMEM, "%u components", next);
    goto done;
  }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      size_t i = (size_t)r * (size_t)cols + (size_t)c;
      uint32_t l;
      vg_blob *q;
      double w;
      if (!lab[i])
        continue;
      l = find_root(par, lab[i]);
      lab[i] = l;
      q = &b[l];
      if (!q->area) {
        q->r0 = q->r1 = r;
        q->c0 = q->c1 = c;
        q->peak = score[i];
      }
      q->area++;
      q->mean += score[i];
      if (score[i] > q->peak)
        q->peak = score[i];
      q->r0 = r < q->r0 ? r : q->r0;
      q->r1 = r > q->r1 ? r : q->r1;
      q->c0 = c < q->c0 ? c : q->c0;
      q->c1 = c > q->c1 ? c : q->c1;
      w = score[i] - thr > 0 ? score[i] - thr : 1e-30;
      acc[3 * l] += w;
      acc[3 * l + 1] += w * (r + 0.5);
      acc[3 * l + 2] += w * (c + 0.5);
    }
  {
    kept *k = malloc((next ? next : 1) * sizeof *k);
    if (!k) {
      rc = vg_error_set(VG_E_NOMEM, "%u components", next);
      goto done;
    }
    for (uint32_t l = 1; l < next; l++) {
      if (b[l].area < min_area)
        continue;
      k[nb].b = b[l];
      k[nb].b.mean /= (float)b[l].area;
      k[nb].b.row = acc[3 * l + 1] / acc[3 * l];
      k[nb].b.col = acc[3 * l + 2] / acc[3 * l];
      k[nb].root = l;
      nb++;
    }
    qsort(k, nb, sizeof *k, cmp_kept);
    if (o->max_count > 0 && nb > (size_t)o->max_count)
      nb = (size_t)o->max_count;
    if (mask) {
      memset(mask, 0, n);
      for (size_t j = 0; j < nb; j++)
        for (int r = k[j].b.r0; r <= k[j].b.r1; r++)
          for (int c = k[j].b.c0; c <= k[j].b.c1; c++) {
            size_t i = (size_t)r * (size_t)cols + (size_t)c;
            if (lab[i] == k[j].root)
              mask[i] = 1;
          }
    }
    for (size_t j = 0; j < nb; j++)
      b[j] = k[j].b;
    free(k);

  }
  *out = b;
  *nout = nb;
  b = NULL;
done:
  free(b);
  free(acc);
  free(lab);
  free(par);
  return rc;
}
