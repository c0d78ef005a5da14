/*
 * The picture of a coverage plan (cairo, PNG): what an analyst checks before the flight --
 * the area, the no-fly zones, the lanes and the path with its turns, to scale, north up.
 */
#include <math.h>
#include <stdio.h>

#include <cairo.h>

#include "plan_int.h"

#define MARGIN 40
#define CAPTION 46

typedef struct view {
  double x0, y1, s; /* plane x of the left edge, y of the top edge, pixels per metre */
} view;

static void to_px(const view *v, vg_plan_pt p, double *px, double *py)
{
  *px = MARGIN + (p.x - v->x0) * v->s;
  *py = MARGIN + (v->y1 - p.y) * v->s;
}

static void ring_path(cairo_t *cr, const view *v, const vg_plan_ltp *t, const vg_plan_ring *r)
{
  for (size_t i = 0; i < r->n; i++) {
    double px, py;
    to_px(v, vg_plan_ltp_fwd(t, r->v[i]), &px, &py);
    if (i)
      cairo_line_to(cr, px, py);
    else
      cairo_move_to(cr, px, py);
  }
  cairo_close_path(cr);
}

int vg_plan_draw_png(const char *path, const vg_plan_result *r, const vg_plan_area *aoi, const vg_plan_area *nofly,
                     size_t nnofly, int width)
{
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY, bar = 1;
  int height, rc = VG_OK;
  view v;
  cairo_surface_t *sf;
  cairo_t *cr;
  char cap[256];
  if (!path || !r || !aoi || width < 200 || width > 8000)
    return vg_error_set(VG_E_INVALID, "plan picture: a path, a plan, an area and a width of 200 .. 8000 px");
  for (size_t i = 0; i < aoi->outer.n; i++) {
    vg_plan_pt p = vg_plan_ltp_fwd(&r->ltp, aoi->outer.v[i]);
    xlo = fmin(xlo, p.x), xhi = fmax(xhi, p.x), ylo = fmin(ylo, p.y), yhi = fmax(yhi, p.y);
  }
  for (size_t i = 0; i < r->npath; i++) {
    xlo = fmin(xlo, r->path[i].x), xhi = fmax(xhi, r->path[i].x);
    ylo = fmin(ylo, r->path[i].y), yhi = fmax(yhi, r->path[i].y);
  }
  if (!(xhi > xlo) || !(yhi > ylo))
    return vg_error_set(VG_E_INVALID, "plan picture: an empty extent");
  v.x0 = xlo;
  v.y1 = yhi;
  v.s = (width - 2 * MARGIN) / (xhi - xlo);
  height = (int)ceil((yhi - ylo) * v.s) + 2 * MARGIN + CAPTION;
  if (height > 8000) {
    v.s *= 8000.0 / height;
    height = 8000;
  }
  sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create(sf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  /* the area, its holes */
  cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
  ring_path(cr, &v, &r->ltp, &aoi->outer);
  for (size_t h = 0; h < aoi->nholes; h++)
    ring_path(cr, &v, &r->ltp, &aoi->holes[h]);
  cairo_set_source_rgb(cr, 0.86, 0.93, 0.84);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.2, 0.45, 0.2);
  cairo_set_line_width(cr, 1.5);
  cairo_stroke(cr);
  /* no-fly zones */
  for (size_t z = 0; z < nnofly; z++) {
    ring_path(cr, &v, &r->ltp, &nofly[z].outer);
    cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.35);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0, 0);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
  }
  /* the path, then the lanes over it */
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
  cairo_set_line_width(cr, 1);
  for (size_t i = 0; i < r->npath; i++) {
    double px, py;
    to_px(&v, r->path[i], &px, &py);
    if (i)
      cairo_line_to(cr, px, py);
    else
      cairo_move_to(cr, px, py);
  }
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0.1, 0.3, 0.8);
  cairo_set_line_width(cr, 2.5);
  for (size_t i = 0; i + 1 < r->nwp; i++)
    if (r->wp[i].kind == VG_WP_LANE_START && r->wp[i + 1].kind == VG_WP_LANE_END) {
      double ax, ay, bx, by;
      to_px(&v, r->wp[i].p, &ax, &ay);
      to_px(&v, r->wp[i + 1].p, &bx, &by);
      cairo_move_to(cr, ax, ay);
      cairo_line_to(cr, bx, by);
    }
  cairo_stroke(cr);
  if (r->nwp && r->wp[0].kind == VG_WP_TRANSIT) { /* the base */
    double px, py;
    to_px(&v, r->wp[0].p, &px, &py);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, px - 5, py - 5, 10, 10);
    cairo_fill(cr);
  }
  /* scale bar: the largest 1-2-5 length under a quarter of the width */
  while (bar * 10 * v.s < (width - 2 * MARGIN) / 4.0)
    bar *= 10;
  if (bar * 5 * v.s < (width - 2 * MARGIN) / 4.0)
    bar *= 5;
  else if (bar * 2 * v.s < (width - 2 * MARGIN) / 4.0)
    bar *= 2;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 3);
  cairo_move_to(cr, MARGIN, height - CAPTION + 8);
  cairo_line_to(cr, MARGIN + bar * v.s, height - CAPTION + 8);
  cairo_stroke(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);
  snprintf(cap, sizeof cap, "%g m", bar);
  cairo_move_to(cr, MARGIN + bar * v.s + 6, height - CAPTION + 12);
  cairo_show_text(cr, cap);
  snprintf(cap, sizeof cap, "N up   lanes %zu at %.0f deg, spacing %.0f m   coverage %.2f %%   %.1f km, %.0f min",
           r->lanes, r->angle_deg, r->spacing_m, 100 * r->coverage, r->length_m / 1000, r->time_s / 60);
  cairo_move_to(cr, MARGIN, height - CAPTION + 32);
  cairo_show_text(cr, cap);
  cairo_destroy(cr);
  if (cairo_surface_write_to_png(sf, path) != CAIRO_STATUS_SUCCESS)
    rc = vg_error_set(VG_E_IO, "plan picture: cannot write '%s'", path);
  cairo_surface_destroy(sf);
  return rc;
}

/* ---- the schedule's timeline ---------------------------------------------------------------- */

#define ROW 22
#define LABEL 170

int vg_sched_draw_png(const char *path, const vg_sched_area *a, size_t n, const vg_sched_result *r, int width)
{
  cairo_surface_t *sf;
  cairo_t *cr;
  int height, rc = VG_OK;
  double x0 = LABEL, x1, span;
  char t[160];
  if (!path || !a || !r || !n || width < 400 || width > 8000 || n > 2000 || !(r->span_s > 0))
    return vg_error_set(VG_E_INVALID, "schedule picture: a path, areas, a result and a width of 400 .. 8000 px");
  span = r->span_s;
  x1 = width - 20;
  height = (int)(MARGIN + ROW * (double)n + 50);
  sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create(sf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  /* days */
  for (int d = 0; d <= (int)ceil(span / 86400); d++) {
    double x = x0 + (x1 - x0) * d * 86400 / span;
    if (x > x1 + 0.5)
      break;
    cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, x, MARGIN - 10);
    cairo_line_to(cr, x, MARGIN + ROW * (double)n);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    snprintf(t, sizeof t, "day %d", d);
    cairo_move_to(cr, x + 2, MARGIN - 14);
    cairo_show_text(cr, t);
  }
  for (size_t i = 0; i < n; i++) {
    double y = MARGIN + ROW * (double)i, last = isfinite(a[i].last_s) ? a[i].last_s : -a[i].period_s;
    int feasible = r->stats ? r->stats[i].feasible : 1;
    cairo_set_source_rgb(cr, feasible ? 0 : 0.6, feasible ? 0 : 0.6, feasible ? 0 : 0.6);
    snprintf(t, sizeof t, "%.22s", a[i].name);
    cairo_move_to(cr, 8, y + 15);
    cairo_show_text(cr, t);
    /* the visits of this area in time order (visits are stored sortie by sortie) */
    for (int pass = 0; pass < 2; pass++) {
      double prev = last;
      for (size_t k = 0; k < r->nsorties; k++)
        for (size_t v = r->sortie[k].first; v < r->sortie[k].first + r->sortie[k].n; v++) {
          const vg_sched_visit *vi = &r->visit[v];
          double xa, xb;
          if (vi->area != i)
            continue;
          xa = x0 + (x1 - x0) * fmax(0, prev) / span;
          xb = x0 + (x1 - x0) * vi->end_s / span;
          if (pass == 0) { /* the gap before this coverage: green within the period, red beyond */
            int late = vi->end_s - prev > a[i].period_s + 1e-6;
            cairo_set_source_rgba(cr, late ? 0.85 : 0.3, late ? 0.15 : 0.7, late ? 0.1 : 0.3, 0.35);
            cairo_rectangle(cr, xa, y + 5, fmax(1, xb - xa), ROW - 10);
            cairo_fill(cr);
          } else {
            cairo_set_source_rgb(cr, 0.1, 0.2, 0.7);
            cairo_rectangle(cr, xb - 1, y + 3, 2.5, ROW - 6);
            cairo_fill(cr);
          }
          prev = vi->end_s;
        }
      if (pass == 0 && feasible) { /* the open gap to the end of the span */
        double xa = x0 + (x1 - x0) * fmax(0, prev) / span;
        int late = span - prev > a[i].period_s + 1e-6;
        cairo_set_source_rgba(cr, late ? 0.85 : 0.3, late ? 0.15 : 0.7, late ? 0.1 : 0.3, 0.35);
        cairo_rectangle(cr, xa, y + 5, fmax(1, x1 - xa), ROW - 10);
        cairo_fill(cr);
      }
    }
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  snprintf(t, sizeof t, "%zu sorties, %zu visits, %zu of %zu deadlines missed, load %.2f   (blue: coverage; green: gap "
           "within the period; red: beyond it)", r->nsorties, r->nvisits, r->missed, r->deadlines, r->load);
  cairo_move_to(cr, 8, height - 16);
  cairo_show_text(cr, t);
  cairo_destroy(cr);
  if (cairo_surface_write_to_png(sf, path) != CAIRO_STATUS_SUCCESS)
    rc = vg_error_set(VG_E_IO, "schedule picture: cannot write '%s'", path);
  cairo_surface_destroy(sf);
  return rc;
}
