/* lib/plan internals shared by its files (not part of the public face). */
#ifndef VG_PLAN_INT_H
#define VG_PLAN_INT_H

#include <stddef.h>

#include "vigia/plan.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A polygon in the plane: rings[0] outer, the rest holes; each ring open, >= 3 vertices. */
typedef struct vg__plan_poly {
  vg_plan_pt **ring;
  size_t *n;
  size_t nrings;
} vg__plan_poly;

/* Projects an area's rings into @p t's plane. */
int vg__plan_poly_from_area(const vg_plan_ltp *t, const vg_plan_area *a, vg__plan_poly *out);
void vg__plan_poly_free(vg__plan_poly *p);
/* Signed area of one ring (counter-clockwise positive), and of a polygon (outer minus holes). */
double vg__plan_ring_area(const vg_plan_pt *v, size_t n);
double vg__plan_poly_area(const vg__plan_poly *p);
/* Point in polygon (even-odd over every ring: inside the outer and outside the holes). */
int vg__plan_poly_inside(const vg__plan_poly *p, vg_plan_pt q);
/* The polygon's vertices rotated so that the lane direction @p ang_rad (clockwise from north)
 * is +u and w is to its right: u = x sin a + y cos a, w = x cos a - y sin a. */
vg_plan_pt vg__plan_to_lane(vg_plan_pt p, double ang_rad);
vg_plan_pt vg__plan_from_lane(vg_plan_pt q, double ang_rad);

/* Intervals [a, b] on a line, sorted, disjoint. */
typedef struct vg__plan_ivals {
  double *v; /* 2 per interval */
  size_t n, cap;
} vg__plan_ivals;

/* The cross-section of @p p (already in lane coordinates: x = u, y = w) at w: intervals of u
 * inside (even-odd). Appends to @p out (not merged). */
int vg__plan_cross(const vg__plan_poly *p, double w, vg__plan_ivals *out);
/* Sorts and merges overlapping intervals. */
void vg__plan_ivals_merge(vg__plan_ivals *iv);
/* @p a minus @p b (both merged) into @p out. */
int vg__plan_ivals_sub(const vg__plan_ivals *a, const vg__plan_ivals *b, vg__plan_ivals *out);
int vg__plan_ivals_push(vg__plan_ivals *iv, double a, double b);
void vg__plan_ivals_free(vg__plan_ivals *iv);

#endif
