/*
 * Polygons in the planner's plane: projection of an area's rings, areas, point in polygon,
 * the lane frame, cross-sections along a line of constant w, and interval sets.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"

/* Intervals in one set at most (a cross-section of a ring of VG_PLAN_RING_MAX vertices). */
#define IVALS_MAX (4u * VG_PLAN_RING_MAX * (VG_PLAN_HOLES_MAX + 1u))

int vg__plan_poly_from_area(const vg_plan_ltp *t, const vg_plan_area *a, vg__plan_poly *out)
{
  size_t nr = 1 + a->nholes;
  memset(out, 0, sizeof *out);
  if (!(out->ring = calloc(nr, sizeof *out->ring)) || !(out->n = calloc(nr, sizeof *out->n)))
    goto nomem;
  out->nrings = nr;
  for (size_t r = 0; r < nr; r++) {
    const vg_plan_ring *g = r ? &a->holes[r - 1] : &a->outer;
    if (!(out->ring[r] = malloc((g->n ? g->n : 1) * sizeof **out->ring)))
      goto nomem;
    out->n[r] = g->n;
    for (size_t i = 0; i < g->n; i++)
      out->ring[r][i] = vg_plan_ltp_fwd(t, g->v[i]);
  }
  return VG_OK;
nomem:
  vg__plan_poly_free(out);
  return vg_error_set(VG_E_NOMEM, "area '%s' in the plane", a->name);
}

void vg__plan_poly_free(vg__plan_poly *p)
{
  if (!p)
    return;
  for (size_t r = 0; r < p->nrings && p->ring; r++)
    free(p->ring[r]);
  free(p->ring);
  free(p->n);
  memset(p, 0, sizeof *p);
}

double vg__plan_ring_area(const vg_plan_pt *v, size_t n)
{
  double s = 0;
  for (size_t i = 0, j = n - 1; i < n; j = i++)
    s += (v[j].x - v[0].x) * (v[i].y - v[0].y) - (v[i].x - v[0].x) * (v[j].y - v[0].y);
  return 0.5 * s;
}

double vg__plan_poly_area(const vg__plan_poly *p)
{
  double s = 0;
  for (size_t r = 0; r < p->nrings; r++)
    s += (r ? -1 : 1) * fabs(vg__plan_ring_area(p->ring[r], p->n[r]));
  return s;
}

int vg__plan_poly_inside(const vg__plan_poly *p, vg_plan_pt q)
{
  int in = 0;
  for (size_t r = 0; r < p->nrings; r++) {
    const vg_plan_pt *v = p->ring[r];
    size_t n = p->n[r];
    for (size_t i = 0, j = n - 1; i < n; j = i++)
      if ((v[i].y > q.y) != (v[j].y > q.y) &&
          q.x < (v[j].x - v[i].x) * (q.y - v[i].y) / (v[j].y - v[i].y) + v[i].x)
        in = !in;
  }
  return in;
}

vg_plan_pt vg__plan_to_lane(vg_plan_pt p, double a)
{
  vg_plan_pt q;
  double s = sin(a), c = cos(a);
  q.x = p.x * s + p.y * c; /* u: along the lane */
  q.y = p.x * c - p.y * s; /* w: to its right */
  return q;
}

vg_plan_pt vg__plan_from_lane(vg_plan_pt q, double a)
{
  vg_plan_pt p;
  double s = sin(a), c = cos(a);
  p.x = q.x * s + q.y * c;
  p.y = q.x * c - q.y * s;
  return p;
}

int vg__plan_ivals_push(vg__plan_ivals *iv, double a, double b)
{
  if (iv->n + 1 > iv->cap) {
    size_t nc = iv->cap ? 2 * iv->cap : 16;
    double *nv;
    if (nc > IVALS_MAX)
      return vg_error_set(VG_E_LIMIT, "more than %u intervals on one line", IVALS_MAX);
    if (!(nv = realloc(iv->v, 2 * nc * sizeof *nv)))
      return vg_error_set(VG_E_NOMEM, "intervals");
    iv->v = nv;
    iv->cap = nc;
  }
  iv->v[2 * iv->n] = a < b ? a : b;
  iv->v[2 * iv->n + 1] = a < b ? b : a;
  iv->n++;
  return VG_OK;
}

void vg__plan_ivals_free(vg__plan_ivals *iv)
{
  free(iv->v);
  memset(iv, 0, sizeof *iv);
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmp_ival(const void *a, const void *b) { return cmp_dbl(a, b); }

int vg__plan_cross(const vg__plan_poly *p, double w, vg__plan_ivals *out)
{
  double *xs = NULL;
  size_t nx = 0, cap = 0;
  int rc = VG_OK;
  for (size_t r = 0; r < p->nrings; r++) {
    const vg_plan_pt *v = p->ring[r];
    size_t n = p->n[r];
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
      /* half-open rule on w so a vertex on the line counts once */
      if ((v[i].y > w) != (v[j].y > w)) {
        if (nx == cap) {
          size_t nc = cap ? 2 * cap : 32;
          double *t = realloc(xs, nc * sizeof *t);
          if (!t) {
            rc = vg_error_set(VG_E_NOMEM, "cross-section");
            goto done;
          }
          xs = t;
          cap = nc;
        }
        xs[nx++] = v[i].x + (w - v[i].y) * (v[j].x - v[i].x) / (v[j].y - v[i].y);
      }
    }
  }
  if (nx > 1)
    qsort(xs, nx, sizeof *xs, cmp_dbl);
  for (size_t i = 0; i + 1 < nx && rc == VG_OK; i += 2)
    if (xs[i + 1] > xs[i])
      rc = vg__plan_ivals_push(out, xs[i], xs[i + 1]);
done:
  free(xs);
  return rc;
}

void vg__plan_ivals_merge(vg__plan_ivals *iv)
{
  size_t k = 0;
  if (iv->n < 2)
    return;
  qsort(iv->v, iv->n, 2 * sizeof *iv->v, cmp_ival);
  for (size_t i = 1; i < iv->n; i++) {
    if (iv->v[2 * i] <= iv->v[2 * k + 1]) {
      if (iv->v[2 * i + 1] > iv->v[2 * k + 1])
        iv->v[2 * k + 1] = iv->v[2 * i + 1];
    } else {
      k++;
      iv->v[2 * k] = iv->v[2 * i];
      iv->v[2 * k + 1] = iv->v[2 * i + 1];
    }
  }
  iv->n = k + 1;
}

int vg__plan_ivals_sub(const vg__plan_ivals *a, const vg__plan_ivals *b, vg__plan_ivals *out)
{
  int rc = VG_OK;
  out->n = 0;
  for (size_t i = 0; i < a->n && rc == VG_OK; i++) {
    double lo = a->v[2 * i], hi = a->v[2 * i + 1];
    for (size_t j = 0; j < b->n && lo < hi; j++) {
      double blo = b->v[2 * j], bhi = b->v[2 * j + 1];
      if (bhi <= lo || blo >= hi)
        continue;
      if (blo > lo && (rc = vg__plan_ivals_push(out, lo, blo)) != VG_OK)
        break;
      lo = bhi;
    }
    if (rc == VG_OK && lo < hi)
      rc = vg__plan_ivals_push(out, lo, hi);
  }
  return rc;
}
