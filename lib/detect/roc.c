/*
 * ROC evaluation: AUC as the Mann-Whitney statistic (ties counted half, so a
 * constant score gives 0.5 whatever the order) and the curve drawn as a PNG.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/detect.h"

typedef struct {
  float s;
  uint8_t t;
} st_pair;

static int cmp_pair(const void *a, const void *b)
{
  float x = ((const st_pair *)a)->s, y = ((const st_pair *)b)->s;
  return x < y ? -1 : x > y;
}

/* NANs sort first (lowest scores): a detector that says nothing finds nothing. */
static st_pair *sorted(const float *score, const uint8_t *truth, size_t n)
{
  st_pair *p = malloc((n ? n : 1) * sizeof *p);
  if (!p)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    p[i].s = isnan(score[i]) ? -INFINITY : score[i];
    p[i].t = truth[i] != 0;
  }
  qsort(p, n, sizeof *p, cmp_pair);
  return p;
}

double vg_roc_auc(const float *score, const uint8_t *truth, size_t n)
{
  st_pair *p = sorted(score, truth, n);
  double npos = 0, nneg = 0, u = 0;
  if (!p)
    return NAN;
  /* walk groups of equal scores: positives in a group beat every negative below it and half the group's */
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double gp = 0, gn = 0;
    while (j < n && p[j].s == p[i].s) {
      if (p[j].t)
        gp++;
      else
        gn++;
      j++;
    }
    u += gp * nneg + 0.5 * gp * gn;
    npos += gp;
    nneg += gn;
    i = j;
  }
  free(p);
  if (npos == 0 || nneg == 0)
    return NAN;
  return u / (npos * nneg);
}

size_t vg_roc_curve(const float *score, const uint8_t *truth, size_t n, double *pfa, double *pd,
                    size_t max_points)
{
  st_pair *p = sorted(score, truth, n);
  double npos = 0, nneg = 0, tp = 0, fp = 0;
  size_t k = 0, groups = 0, g = 0, every;
  if (!p || max_points < 2) {
    free(p);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    npos += p[i].t;
    if (i == 0 || p[i].s != p[i - 1].s)
      groups++;
  }
  nneg = (double)n - npos;
  if (npos == 0 || nneg == 0) {
    free(p);
    return 0;
  }
  every = groups / (max_points - 1) + 1;
  pfa[k] = 0;
  pd[k++] = 0;
  /* from the highest score down: one point after each group of equal scores */
  for (size_t i = n; i > 0;) {
    size_t j = i;
    while (j > 0 && p[j - 1].s == p[i - 1].s) {
      j--;
      if (p[j].t)
        tp++;
      else
        fp++;
    }
    i = j;
    g++;
    if ((g % every == 0 || i == 0) && k < max_points) {
      pfa[k] = fp / nneg;
      pd[k++] = tp / npos;
    }
  }
  free(p);
  return k;
}

/* ---- the picture (cairo) ------------------------------------------------------------ */

#include <cairo.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define ROC_W 720
#define ROC_H 560
#define ROC_L 70  /* plot margins */
#define ROC_R 230
#define ROC_T 30
#define ROC_B 60
#define ROC_LOG_MIN 1e-4

static double roc_x(double pfa, int log_pfa)
{
  double f;
  if (log_pfa) {
    double l = log10(pfa < ROC_LOG_MIN ? ROC_LOG_MIN : pfa);
    f = (l - log10(ROC_LOG_MIN)) / -log10(ROC_LOG_MIN);
  } else {
    f = pfa;
  }
  return ROC_L + f * (ROC_W - ROC_L - ROC_R);
}

static double roc_y(double pd)
{
  return ROC_H - ROC_B - pd * (ROC_H - ROC_T - ROC_B);
}

int vg_roc_png(const char *path, const double *const *pfa, const double *const *pd,
               const size_t *npoints, const char *const *labels, int ncurves, int log_pfa)
{
  static const double pal[12][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05},  {0.17, 0.63, 0.17},
                                    {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
                                    {0.89, 0.47, 0.76}, {0.5, 0.5, 0.5},    {0.74, 0.74, 0.13},
                                    {0.09, 0.75, 0.81}, {0.0, 0.0, 0.0},    {0.6, 0.9, 0.3}};
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, ROC_W, ROC_H);
  cairo_t *cr = cairo_create(s);
  cairo_status_t st;
  char txt[64];

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);
  /* grid and axes */
  cairo_set_line_width(cr, 1);
  for (int i = 0; i <= 10; i++) {
    double pdv = i / 10.0;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, ROC_L, roc_y(pdv));
    cairo_line_to(cr, ROC_W - ROC_R, roc_y(pdv));
    cairo_stroke(cr);
    if (i % 2 == 0) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      snprintf(txt, sizeof txt, "%.1f", pdv);
      cairo_move_to(cr, ROC_L - 30, roc_y(pdv) + 4);
      cairo_show_text(cr, txt);
    }
  }
  for (int i = 0; i <= (log_pfa ? 4 : 10); i++) {
    double v = log_pfa ? pow(10, -4 + i) : i / 10.0;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, roc_x(v, log_pfa), ROC_T);
    cairo_line_to(cr, roc_x(v, log_pfa), ROC_H - ROC_B);
    cairo_stroke(cr);
    if (log_pfa || i % 2 == 0) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      if (log_pfa)
        snprintf(txt, sizeof txt, "1e%d", -4 + i);
      else
        snprintf(txt, sizeof txt, "%.1f", v);
      cairo_move_to(cr, roc_x(v, log_pfa) - 12, ROC_H - ROC_B + 18);
      cairo_show_text(cr, txt);
    }
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, ROC_L, ROC_T, ROC_W - ROC_L - ROC_R, ROC_H - ROC_T - ROC_B);
  cairo_stroke(cr);
  cairo_move_to(cr, ROC_L + 120, ROC_H - 20);
  cairo_show_text(cr, log_pfa ? "false alarm rate (log)" : "false alarm rate");
  cairo_save(cr);
  cairo_move_to(cr, 18, ROC_T + 250);
  cairo_rotate(cr, -M_PI / 2);
  cairo_show_text(cr, "detection rate");
  cairo_restore(cr);
  /* curves and legend */
  cairo_set_line_width(cr, 1.6);
  for (int k = 0; k < ncurves; k++) {
    const double *c = pal[k % 12];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    for (size_t i = 0; i < npoints[k]; i++) {
      double x = roc_x(pfa[k][i], log_pfa), y = roc_y(pd[k][i]);
      if (i == 0)
        cairo_move_to(cr, x, y);
      else
        cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
    cairo_rectangle(cr, ROC_W - ROC_R + 12, ROC_T + 6 + 18 * k, 14, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, ROC_W - ROC_R + 32, ROC_T + 16 + 18 * k);
    cairo_show_text(cr, labels && labels[k] ? labels[k] : "");
  }
  cairo_destroy(cr);
  st = cairo_surface_write_to_png(s, path);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS)
    return vg_error_set(VG_E_IO, "cannot write %s: %s", path, cairo_status_to_string(st));
  return VG_OK;
}
