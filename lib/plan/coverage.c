/*
 * Coverage plans for a fixed-wing drone (docs/formats/plan.md; research/geo-plan.md B1-B4).
 *
 *  1. The plane: a local tangent plane at the area's first vertex (vg_plan_ltp); the area,
 *     its holes and the no-fly zones projected into it.
 *  2. The footprint: the four corner rays of the sensor (fields of view, depression,
 *     azimuth from the nose) cut with flat ground at the flying height, in the frame of the
 *     track (u ahead, v right), turned by the crab angle the crosswind asks on that track.
 *  3. The usable swath: the range of v over which the footprint's chord along the track is
 *     at least the distance between two frames (the trigger distance of a frame camera, the
 *     distance flown in one video frame): for a crabbed w x l rectangle at zero front
 *     overlap this is w cos(b) - l sin(b). Spacing = swath x (1 - side overlap).
 *  4. For each lane direction (every angle_step from 0 to 180 deg unless one is given):
 *     strips of the swath across the area, evenly spread; on each, the intervals to image
 *     (the union of the area's cross-sections over the strip's width), less what a track
 *     must keep out of (no-fly zones grown by the turn radius, the margin and the
 *     footprint's reach ahead or behind); intervals of consecutive strips that overlap one
 *     to one form a cell (a boustrophedon decomposition: concave areas, holes and no-fly
 *     zones give several); within a cell the lanes are flown in the cheapest of the
 *     interleaved orders (skip j lanes: lanes closer than 2R are not flown in a row) with
 *     Dubins turns; cells are chained nearest first, each entered by the cheapest of its four
 *     corners. The direction with the least flight time wins.
 *  5. The figures: lengths and times, the lower bound (area / spacing + the cheapest turn
 *     per turn), and the coverage of the area measured independently of 3-4: every frame
 *     position along the lanes stamps its footprint quadrilateral on a raster of the area.
 *
 * Wind: ground speed on a track of course c is V_a cos(b) + W cos(c - w_to), crab
 * b = asin(W sin(w_to - c) / V_a); turns and transits are timed at the airspeed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"

#define DEG (M_PI / 180.0)
/* Samples of the footprint's chord across the track (usable swath). */
#define BAND_SAMPLES 400
/* Strips and lanes of one plan at most (a 100 km wide area at 10 m spacing). */
#define STRIPS_MAX 20000u
/* Samples of w per strip between the critical ones (cross-sections). */
#define STRIP_SUBSAMPLES 8
/* Coverage raster cells at most. */
#define RASTER_MAX (64u * 1024u * 1024u)
/* Path sample spacing as a fraction of the turn radius. */
#define PATH_STEP_R 0.1

/* ---- the footprint ------------------------------------------------------------------------ */

/* One direction of flight along the lanes. */
typedef struct dirfig {
  double crab;         /* heading minus track, rad */
  double vg;           /* ground speed along the track */
  double vlo, vhi;     /* usable band, right of the track */
  double ulo_max;      /* over the band: the largest rear edge of the footprint (ahead +) */
  double uhi_min;      /* and the smallest front edge */
  double chord;        /* chord at the band's middle */
  double step;         /* distance between two frames */
  vg_plan_pt quad[4];  /* footprint in the track frame (u ahead, v right) */
} dirfig;

/* The footprint corners in the body frame (x ahead, y right), flat ground H below. */
static int footprint_body(const vg_plan_sensor *s, double H, vg_plan_pt q[4])
{
  double th = -s->depression_deg * DEG, az = s->azimuth_deg * DEG;
  double th_[2] = {-1, 1}, ct = cos(th), st = sin(th), ca = cos(az), sa = sin(az);
  double th2 = tan(s->hfov_deg * DEG / 2), tv2 = tan(s->vfov_deg * DEG / 2);
  int k = 0;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      /* camera frame: x boresight, y right, z down; corners in ring order */
      double cy = th_[i] * th2, cz = th_[i == 0 ? j : 1 - j] * tv2;
      double x = 1, y = cy, z = cz, x1, z1, x2, y2, t;
      /* pitch by th (elevation: negative looks down): x1 = x cos - z sin ... R_y(th) */
      x1 = ct * x + st * z;
      z1 = -st * x + ct * z;
      /* yaw by az */
      x2 = ca * x1 - sa * y;
      y2 = sa * x1 + ca * y;
      if (z1 <= 1e-9)
        return vg_error_set(VG_E_INVALID, "plan: the sensor's footprint reaches the horizon (depression %g deg "
                            "minus half the vertical field of view %g deg must be > 0)", s->depression_deg,
                            s->vfov_deg / 2);
      t = H / z1;
      q[k].x = x2 * t;
      q[k].y = y2 * t;
      k++;
    }
  return VG_OK;
}

/* Chord of the convex quadrilateral @p q (u along, v across) at v: [lo, hi]; 0 if none. */
static int chord_at(const vg_plan_pt *q, double v, double *lo, double *hi)
{
  int n = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0, j = 3; i < 4; j = i++) {
    double a = q[j].y, b = q[i].y;
    if ((a <= v && v <= b) || (b <= v && v <= a)) {
      double u = a == b ? q[i].x : q[j].x + (v - a) * (q[i].x - q[j].x) / (b - a);
      if (a == b) {
        *lo = fmin(*lo, fmin(q[i].x, q[j].x));
        *hi = fmax(*hi, fmax(q[i].x, q[j].x));
      } else {
        *lo = fmin(*lo, u);
        *hi = fmax(*hi, u);
      }
      n++;
    }
  }
  return n > 0 && *hi >= *lo;
}

/* The figures of one direction of flight: track course @p course (rad, from north). */
static int dir_figures(const vg_plan_opts *o, double course, dirfig *f)
{
  const vg_plan_aircraft *ac = &o->aircraft;
  double wto = (ac->wind_from_deg + 180) * DEG, W = ac->wind_mps, Va = ac->airspeed_mps, sb, vmin = INFINITY,
         vmax = -INFINITY, best = -1, vbest = 0, lo, hi;
  vg_plan_pt body[4];
  int rc, ib = 0;
  double cl[BAND_SAMPLES + 1], ch[BAND_SAMPLES + 1], vs[BAND_SAMPLES + 1];
  sb = W * sin(wto - course) / Va;
  if (fabs(sb) >= 1)
    return vg_error_set(VG_E_INVALID, "plan: a %g m/s wind cannot be flown across at %g m/s", W, Va);
  f->crab = asin(sb);
  f->vg = Va * cos(f->crab) + W * cos(wto - course);
  if (f->vg <= 0.5)
    return vg_error_set(VG_E_INVALID, "plan: a %g m/s wind leaves no ground speed into it at %g m/s", W, Va);
  if ((rc = footprint_body(&o->sensor, ac->alt_agl_m, body)) != VG_OK)
    return rc;
  /* body (ahead, right) -> track (u, v): the nose is turned clockwise by the crab */
  for (int i = 0; i < 4; i++) {
    double c = cos(f->crab), s = sin(f->crab);
    f->quad[i].x = body[i].x * c - body[i].y * s;
    f->quad[i].y = body[i].x * s + body[i].y * c;
    vmin = fmin(vmin, f->quad[i].y);
    vmax = fmax(vmax, f->quad[i].y);
  }
  for (int i = 0; i <= BAND_SAMPLES; i++) {
    vs[i] = vmin + (vmax - vmin) * i / BAND_SAMPLES;
    if (!chord_at(f->quad, vs[i], &cl[i], &ch[i]))
      cl[i] = ch[i] = 0;
    if (ch[i] - cl[i] > best) {
      best = ch[i] - cl[i];
      ib = i;
      vbest = vs[i];
    }
  }
  (void)vbest;
  /* the distance between two frames */
  {
    double mid = 0.5 * (vmin + vmax);
    if (!chord_at(f->quad, mid, &lo, &hi))
      lo = hi = 0;
    f->chord = hi - lo;
    if (o->sensor.video)
      f->step = f->vg / (o->sensor.frame_rate_hz > 0 ? o->sensor.frame_rate_hz : 30);
    else
      f->step = f->chord * (1 - o->sensor.front_overlap);
  }
  /* the contiguous band around the longest chord where the chord reaches a frame step */
  {
    int a = ib, b = ib;
    while (a > 0 && ch[a - 1] - cl[a - 1] >= f->step)
      a--;
    while (b < BAND_SAMPLES && ch[b + 1] - cl[b + 1] >= f->step)
      b++;
    if (ch[ib] - cl[ib] < f->step || b == a)
      return vg_error_set(VG_E_INVALID, "plan: the footprint is shorter along the track (%.1f m) than the distance "
                          "between two frames (%.1f m): no usable swath", best, f->step);
    f->vlo = vs[a];
    f->vhi = vs[b];
    f->ulo_max = -INFINITY;
    f->uhi_min = INFINITY;
    for (int i = a; i <= b; i++) {
      f->ulo_max = fmax(f->ulo_max, cl[i]);
      f->uhi_min = fmin(f->uhi_min, ch[i]);
    }
  }
  return VG_OK;
}

/* ---- one candidate plan --------------------------------------------------------------------- */

typedef struct seg {
  double u0, u1; /* imaging interval along the lane */
  size_t strip;
} seg;

typedef struct lane {
  size_t seg;
  int dir;           /* 0: +u, 1: -u */
  vg_plan_pose a, b; /* track start and end (plane, heading) */
} lane;

typedef struct cand {
  double ang; /* lane direction, rad from north */
  dirfig f[2];
  double swath, spacing, band_c[2]; /* band centre in lane w for each direction */
  size_t nstrips;
  double *wk; /* strip centres */
  seg *s;
  size_t ns;
  size_t *cell_of; /* per seg */
  size_t ncells;
  lane *l; /* in flight order */
  size_t nl;
  double lane_m, turn_m, transit_m, time_s, lower_turn;
  size_t turns;
} cand;

static void cand_free(cand *c)
{
  free(c->wk);
  free(c->s);
  free(c->cell_of);
  free(c->l);
  memset(c, 0, sizeof *c);
}

typedef struct ctx {
  const vg_plan_opts *o;
  vg_plan_ltp ltp;
  vg__plan_poly aoi;     /* plane */
  vg__plan_poly *nf;     /* no-fly zones, plane */
  size_t nnf;
  double R, B;           /* turn radius, standoff from no-fly zones */
  vg_plan_pt base;
  double (*nfbox)[4];    /* each zone's xmin, xmax, ymin, ymax */
} ctx;


/* Does Dubins path @p d pass over a no-fly zone? Samples every R/8 against the zones whose box
 * meets the path's (within 3R of the chord's box). */
static int dubins_hits(const ctx *x, const vg_plan_dubins *d, const vg_plan_pose *b)
{
  const vg_plan_pose *a = &d->a;
  double xlo = fmin(a->x, b->x) - 3 * x->R, xhi = fmax(a->x, b->x) + 3 * x->R;
  double ylo = fmin(a->y, b->y) - 3 * x->R, yhi = fmax(a->y, b->y) + 3 * x->R;
  for (size_t z = 0; z < x->nnf; z++) {
    if (x->nfbox[z][1] < xlo || x->nfbox[z][0] > xhi || x->nfbox[z][3] < ylo || x->nfbox[z][2] > yhi)
      continue;
    for (double s = 0; s <= d->length; s += 0.125 * x->R) {
      vg_plan_pose q = vg_plan_dubins_at(d, s);
      if (vg__plan_poly_inside(&x->nf[z], (vg_plan_pt){q.x, q.y}))
        return 1;
    }
  }
  return 0;
}

/* The shortest Dubins path from @p a to @p b that keeps out of the no-fly zones: the shortest
 * word when it does, else the shortest of the other five that does (a turn away from a zone
 * the shortest one would cut). @return 0, or -1 when every word passes over a zone (*out: the
 * shortest). */
static int dubins_clear(const ctx *x, const vg_plan_pose *a, const vg_plan_pose *b, vg_plan_dubins *out)
{
  vg_plan_dubins best, d;
  int found = 0;
  if (vg_plan_dubins_shortest(a, b, x->R, out) != VG_OK)
    return -1;
  if (!x->nnf || !dubins_hits(x, out, b))
    return 0;
  for (int w = VG_DUBINS_LSL; w <= VG_DUBINS_LRL; w++)
    if (vg_plan_dubins_word_path(a, b, x->R, (vg_plan_dubins_word)w, &d) == VG_OK &&
        (!found || d.length < best.length) && !dubins_hits(x, &d, b)) {
      best = d;
      found = 1;
    }
  if (!found)
    return -1;
  *out = best;
  return 0;
}

/* @p p rotated into lane coordinates (x = u, y = w). */
static int poly_to_lane(const vg__plan_poly *p, double ang, vg__plan_poly *out)
{
  memset(out, 0, sizeof *out);
  if (!(out->ring = calloc(p->nrings, sizeof *out->ring)) || !(out->n = calloc(p->nrings, sizeof *out->n)))
    goto nomem;
  out->nrings = p->nrings;
  for (size_t r = 0; r < p->nrings; r++) {
    if (!(out->ring[r] = malloc(p->n[r] * sizeof **out->ring)))
      goto nomem;
    out->n[r] = p->n[r];
    for (size_t i = 0; i < p->n[r]; i++)
      out->ring[r][i] = vg__plan_to_lane(p->ring[r][i], ang);
  }
  return VG_OK;
nomem:
  vg__plan_poly_free(out);
  return vg_error_set(VG_E_NOMEM, "polygon");
}

static void poly_wrange(const vg__plan_poly *p, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < p->n[0]; i++) {
    *lo = fmin(*lo, p->ring[0][i].y);
    *hi = fmax(*hi, p->ring[0][i].y);
  }
}

/* The union over w in [w0, w1] of @p p's cross-sections, sampled at the edges, every vertex
 * inside and STRIP_SUBSAMPLES between; each interval grown by @p grow. */
static int strip_union(const vg__plan_poly *p, double w0, double w1, double grow, vg__plan_ivals *out)
{
  int rc = VG_OK;
  double eps = 1e-6 * (1 + fabs(w0) + fabs(w1));
  size_t before = out->n;
  for (int k = 0; k <= STRIP_SUBSAMPLES && rc == VG_OK; k++)
    rc = vg__plan_cross(p, w0 + eps + (w1 - w0 - 2 * eps) * k / STRIP_SUBSAMPLES, out);
  for (size_t r = 0; r < p->nrings && rc == VG_OK; r++)
    for (size_t i = 0; i < p->n[r] && rc == VG_OK; i++) {
      double w = p->ring[r][i].y;
      if (w > w0 && w < w1) {
        if ((rc = vg__plan_cross(p, fmax(w0 + eps, w - eps), out)) == VG_OK)
          rc = vg__plan_cross(p, fmin(w1 - eps, w + eps), out);
      }
    }
  for (size_t i = before; i < out->n; i++) {
    out->v[2 * i] -= grow;
    out->v[2 * i + 1] += grow;
  }
  return rc;
}

/* The track of seg @p s flown in direction @p dir: start and end poses in the plane. */
static void track_of(const ctx *x, const cand *c, const seg *s, int dir, vg_plan_pose *a, vg_plan_pose *b)
{
  const dirfig *f = &c->f[dir];
  double w = c->wk[s->strip] - c->band_c[dir], ua, ub;
  vg_plan_pt pa, pb;
  (void)x;
  if (dir == 0) {
    ua = s->u0 - f->ulo_max;
    ub = s->u1 - f->uhi_min;
    if (ub < ua)
      ua = ub = 0.5 * (ua + ub);
  } else {
    ua = s->u1 + f->ulo_max;
    ub = s->u0 + f->uhi_min;
    if (ub > ua)
      ua = ub = 0.5 * (ua + ub);
  }
  pa = vg__plan_from_lane((vg_plan_pt){ua, w}, c->ang);
  pb = vg__plan_from_lane((vg_plan_pt){ub, w}, c->ang);
  a->x = pa.x;
  a->y = pa.y;
  b->x = pb.x;
  b->y = pb.y;
  a->hdg = b->hdg = dir == 0 ? c->ang : c->ang + M_PI;
}

static double dubins_len(double R, const vg_plan_pose *a, const vg_plan_pose *b)
{
  vg_plan_dubins d;
  if (vg_plan_dubins_shortest(a, b, R, &d) != VG_OK)
    return INFINITY;
  return d.length;
}

/* The cost (s) and lane list of flying @p idx (segs of one cell in strip order, @p m of them)
 * in the order given, starting in direction @p dir0 and alternating, from pose @p from
 * (NULL: no lead-in). */
static double order_cost(const ctx *x, const cand *c, const size_t *idx, size_t m, int dir0,
                         const vg_plan_pose *from, lane *out, double *turn_m, size_t *turns)
{
  double t = 0, Va = x->o->aircraft.airspeed_mps;
  vg_plan_pose prev;
  int have = from != NULL;
  if (from)
    prev = *from;
  for (size_t i = 0; i < m; i++) {
    int dir = (dir0 + (int)i) & 1;
    lane L;
    L.seg = idx[i];
    L.dir = dir;
    track_of(x, c, &c->s[idx[i]], dir, &L.a, &L.b);
    if (have) {
      double d = dubins_len(x->R, &prev, &L.a);
      t += d / Va;
      if (turn_m && i > 0) {
        *turn_m += d;
        (*turns)++;
      }
    }
    t += hypot(L.b.x - L.a.x, L.b.y - L.a.y) / c->f[dir].vg;
    prev = L.b;
    have = 1;
    if (out)
      out[i] = L;
  }
  return t;
}

/* The interleaved order skipping @p j - 1 lanes: passes r = 0..j-1 over lanes r, r+j, ...,
 * alternately up and down. */
static void interleave(const size_t *in, size_t m, size_t j, int mirror, size_t *out)
{
  size_t k = 0;
  for (size_t r = 0; r < j; r++) {
    size_t cnt = r < m ? (m - 1 - r) / j + 1 : 0;
    for (size_t q = 0; q < cnt; q++) {
      size_t pos = (r & 1) ? r + (cnt - 1 - q) * j : r + q * j;
      out[k++] = in[mirror ? m - 1 - pos : pos];
    }
  }
}

/* Strips, segments and cells of candidate direction @p ang. */
static int build_cand(const ctx *x, double ang, cand *c)
{
  const vg_plan_opts *o = x->o;
  vg__plan_poly la = {0}, *lnf = NULL;
  vg__plan_ivals iv = {0}, fb = {0}, res = {0}, turn = {0};
  double wlo, whi, E, reach = 0, cmax;
  int rc;
  size_t n, cap = 0;
  memset(c, 0, sizeof *c);
  c->ang = ang;
  if ((rc = dir_figures(o, ang, &c->f[0])) != VG_OK || (rc = dir_figures(o, ang + M_PI, &c->f[1])) != VG_OK)
    goto done;
  c->swath = fmin(c->f[0].vhi - c->f[0].vlo, c->f[1].vhi - c->f[1].vlo);
  c->spacing = c->swath * (1 - o->sensor.side_overlap);
  c->band_c[0] = 0.5 * (c->f[0].vlo + c->f[0].vhi);
  c->band_c[1] = -0.5 * (c->f[1].vlo + c->f[1].vhi);
  for (int d = 0; d < 2; d++)
    reach = fmax(reach, fmax(fmax(0, c->f[d].ulo_max), fmax(0, -c->f[d].uhi_min)));
  cmax = fmax(fabs(c->band_c[0]), fabs(c->band_c[1]));
  if ((rc = poly_to_lane(&x->aoi, ang, &la)) != VG_OK)
    goto done;
  if (x->nnf && !(lnf = calloc(x->nnf, sizeof *lnf))) {
    rc = vg_error_set(VG_E_NOMEM, "no-fly zones");
    goto done;
  }
  for (size_t i = 0; i < x->nnf; i++)
    if ((rc = poly_to_lane(&x->nf[i], ang, &lnf[i])) != VG_OK)
      goto done;
  poly_wrange(&la, &wlo, &whi);
  E = whi - wlo;
  n = E <= c->swath ? 1 : (size_t)ceil((E - c->swath) / c->spacing - 1e-9) + 1;
  if (n > STRIPS_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "plan: %zu lanes (more than %u): the swath is too small for the area", n,
                      STRIPS_MAX);
    goto done;
  }
  if (!(c->wk = malloc(n * sizeof *c->wk))) {
    rc = vg_error_set(VG_E_NOMEM, "lanes");
    goto done;
  }
  c->nstrips = n;
  for (size_t k = 0; k < n; k++)
    c->wk[k] = n == 1 ? 0.5 * (wlo + whi) : wlo + c->swath / 2 + (E - c->swath) * (double)k / (double)(n - 1);
  for (size_t k = 0; k < n; k++) {
    double w0 = c->wk[k] - c->swath / 2, w1 = c->wk[k] + c->swath / 2;
    iv.n = fb.n = 0;
    if ((rc = strip_union(&la, w0, w1, 0, &iv)) != VG_OK)
      goto done;
    vg__plan_ivals_merge(&iv);
    for (size_t z = 0; z < x->nnf; z++)
      if ((rc = strip_union(&lnf[z], c->wk[k] - cmax - x->B, c->wk[k] + cmax + x->B, x->B + reach, &fb)) != VG_OK)
        goto done;
    vg__plan_ivals_merge(&fb);
    if ((rc = vg__plan_ivals_sub(&iv, &fb, &res)) != VG_OK)
      goto done;
    /* room to turn at each end: a fixed wing reverses its course within a corridor 2R wide at
     * the least, so an end with a zone within 2R + margin across the track (and B + reach
     * ahead) is pulled back to where that zone no longer is */
    if (x->nnf) {
      double lat = cmax + 2 * x->R + o->nofly_margin_m;
      turn.n = 0;
      for (size_t z = 0; z < x->nnf; z++)
        if ((rc = strip_union(&lnf[z], c->wk[k] - lat, c->wk[k] + lat, x->B + reach, &turn)) != VG_OK)
          goto done;
      vg__plan_ivals_merge(&turn);
      for (size_t i = 0; i < res.n; i++) {
        double *u0 = &res.v[2 * i], *u1 = &res.v[2 * i + 1];
        for (size_t j = 0; j < turn.n; j++)
          if (turn.v[2 * j] < *u1 && *u1 <= turn.v[2 * j + 1])
            *u1 = turn.v[2 * j];
        for (size_t j = turn.n; j-- > 0;)
          if (turn.v[2 * j] <= *u0 && *u0 < turn.v[2 * j + 1])
            *u0 = turn.v[2 * j + 1];
      }
    }
    for (size_t i = 0; i < res.n; i++) {
      if (res.v[2 * i + 1] - res.v[2 * i] < 1e-3)
        continue;
      if (c->ns == cap) {
        size_t nc = cap ? 2 * cap : 64;
        seg *t = realloc(c->s, nc * sizeof *t);
        if (!t) {
          rc = vg_error_set(VG_E_NOMEM, "segments");
          goto done;
        }
        c->s = t;
        cap = nc;
      }
      c->s[c->ns].u0 = res.v[2 * i];
      c->s[c->ns].u1 = res.v[2 * i + 1];
      c->s[c->ns].strip = k;
      c->ns++;
    }
  }
  /* cells: a segment continues the cell of the one segment of the previous strip it
   * overlaps, when that one overlaps no other */
  if (c->ns && !(c->cell_of = malloc(c->ns * sizeof *c->cell_of))) {
    rc = vg_error_set(VG_E_NOMEM, "cells");
    goto done;
  }
  {
    size_t prev0 = 0, prev1 = 0, cur0 = 0; /* [prev0, prev1): the previous strip's segments */
    for (size_t i = 0; i < c->ns;) {
      size_t k = c->s[i].strip, cur1 = i;
      while (cur1 < c->ns && c->s[cur1].strip == k)
        cur1++;
      cur0 = i;
      if (prev1 > prev0 && c->s[prev0].strip + 1 != k)
        prev0 = prev1; /* a strip without segments between: no continuation */
      for (size_t a = cur0; a < cur1; a++) {
        size_t hits = 0, which = 0;
        for (size_t b = prev0; b < prev1; b++)
          if (c->s[b].u0 < c->s[a].u1 && c->s[a].u0 < c->s[b].u1) {
            hits++;
            which = b;
          }
        if (hits == 1) {
          size_t back = 0;
          for (size_t a2 = cur0; a2 < cur1; a2++)
            if (c->s[which].u0 < c->s[a2].u1 && c->s[a2].u0 < c->s[which].u1)
              back++;
          if (back == 1) {
            c->cell_of[a] = c->cell_of[which];
            continue;
          }
        }
        c->cell_of[a] = c->ncells++;
      }
      prev0 = cur0;
      prev1 = cur1;
      i = cur1;
    }
  }
done:
  vg__plan_poly_free(&la);
  for (size_t i = 0; lnf && i < x->nnf; i++)
    vg__plan_poly_free(&lnf[i]);
  free(lnf);
  vg__plan_ivals_free(&iv);
  vg__plan_ivals_free(&fb);
  vg__plan_ivals_free(&res);
  vg__plan_ivals_free(&turn);
  if (rc != VG_OK)
    cand_free(c);
  return rc;
}

/* Orders the lanes: the cheapest interleaving within each cell, cells nearest first. */
static int order_cand(const ctx *x, cand *c)
{
  size_t *idx = NULL, *tmp = NULL, *start = NULL, *cnt = NULL, ncells = c->ncells;
  unsigned char *done_cell = NULL;
  lane *buf = NULL;
  vg_plan_pose cur;
  int have = x->o->has_base, rc = VG_OK;
  size_t jmax;
  c->nl = 0;
  c->lane_m = c->turn_m = c->transit_m = c->time_s = 0;
  c->turns = 0;
  if (!c->ns)
    return VG_OK;
  if (!(idx = malloc(c->ns * sizeof *idx)) || !(tmp = malloc(c->ns * sizeof *tmp)) ||
      !(start = calloc(ncells + 1, sizeof *start)) || !(cnt = calloc(ncells, sizeof *cnt)) ||
      !(done_cell = calloc(ncells, 1)) || !(buf = malloc(c->ns * sizeof *buf)) ||
      !(c->l = malloc(c->ns * sizeof *c->l))) {
    rc = vg_error_set(VG_E_NOMEM, "lane order");
    goto done;
  }
  /* segments grouped by cell, in strip order (counting sort) */
  for (size_t i = 0; i < c->ns; i++)
    cnt[c->cell_of[i]]++;
  for (size_t k = 0; k < ncells; k++)
    start[k + 1] = start[k] + cnt[k];
  memset(cnt, 0, ncells * sizeof *cnt);
  for (size_t i = 0; i < c->ns; i++)
    idx[start[c->cell_of[i]] + cnt[c->cell_of[i]]++] = i;
  jmax = (size_t)ceil(2 * x->R / c->spacing) + 1;
  if (have) {
    cur.x = x->base.x;
    cur.y = x->base.y;
    cur.hdg = c->ang;
  }
  for (size_t step = 0; step < ncells; step++) {
    double best = INFINITY;
    size_t bk = 0, bj = 1;
    int bm = 0, bd = 0;
    for (size_t k = 0; k < ncells; k++) {
      size_t m = start[k + 1] - start[k];
      if (done_cell[k])
        continue;
      for (size_t j = 1; j <= (jmax < m ? jmax : m); j++)
        for (int mir = 0; mir < 2; mir++)
          for (int d0 = 0; d0 < 2; d0++) {
            double t;
            interleave(idx + start[k], m, j, mir, tmp);
            t = order_cost(x, c, tmp, m, d0, have ? &cur : NULL, NULL, NULL, NULL);
            if (t < best) {
              best = t;
              bk = k;
              bj = j;
              bm = mir;
              bd = d0;
            }
          }
    }
    {
      size_t m = start[bk + 1] - start[bk], turns = 0;
      double tm = 0;
      interleave(idx + start[bk], m, bj, bm, tmp);
      order_cost(x, c, tmp, m, bd, NULL, buf, &tm, &turns);
      if (have) { /* the way in from the previous cell or the base */
        double d = dubins_len(x->R, &cur, &buf[0].a);
        if (c->nl)
          c->transit_m += d;
        else
          c->transit_m += d; /* from the base */
        c->time_s += d / x->o->aircraft.airspeed_mps;
      }
      for (size_t i = 0; i < m; i++) {
        c->l[c->nl++] = buf[i];
        c->lane_m += hypot(buf[i].b.x - buf[i].a.x, buf[i].b.y - buf[i].a.y);
        c->time_s += hypot(buf[i].b.x - buf[i].a.x, buf[i].b.y - buf[i].a.y) / c->f[buf[i].dir].vg;
      }
      c->turn_m += tm;
      c->turns += turns;
      c->time_s += tm / x->o->aircraft.airspeed_mps;
      cur = buf[m - 1].b;
      have = 1;
      done_cell[bk] = 1;
    }
  }
  if (x->o->has_base) {
    vg_plan_pose home = {x->base.x, x->base.y, 0};
    double d = INFINITY;
    for (int h = 0; h < 8; h++) { /* arrive over the base in any heading: the cheapest of eight */
      home.hdg = h * M_PI / 4;
      d = fmin(d, dubins_len(x->R, &cur, &home));
    }
    c->transit_m += d;
    c->time_s += d / x->o->aircraft.airspeed_mps;
  }
done:
  free(idx);
  free(tmp);
  free(start);
  free(cnt);
  free(done_cell);
  free(buf);
  return rc;
}

/* ---- the figures of the chosen plan --------------------------------------------------------- */

/* Marks the raster cells whose centre lies in the convex quadrilateral @p q (plane). */
typedef struct raster {
  double x0, y0, cell;
  size_t nx, ny;
  unsigned char *in;   /* cell is part of the area */
  uint32_t *lanes;     /* lanes that imaged it */
  uint32_t *last;      /* last lane that stamped it (+1) */
} raster;

static size_t convex_hull(vg_plan_pt *p, size_t n, vg_plan_pt *out);

static void stamp(raster *r, const vg_plan_pt *q, int nq, uint32_t lane_id)
{
  double ylo = INFINITY, yhi = -INFINITY;
  long j0, j1;
  for (int i = 0; i < nq; i++) {
    ylo = fmin(ylo, q[i].y);
    yhi = fmax(yhi, q[i].y);
  }
  j0 = (long)ceil((ylo - r->y0) / r->cell - 0.5);
  j1 = (long)floor((yhi - r->y0) / r->cell - 0.5);
  if (j0 < 0)
    j0 = 0;
  if (j1 >= (long)r->ny)
    j1 = (long)r->ny - 1;
  for (long j = j0; j <= j1; j++) {
    double y = r->y0 + (j + 0.5) * r->cell, xlo = INFINITY, xhi = -INFINITY;
    long i0, i1;
    for (int a = 0, b = nq - 1; a < nq; b = a++) {
      double ya = q[b].y, yb = q[a].y;
      if ((ya <= y && y <= yb) || (yb <= y && y <= ya)) {
        double xx = ya == yb ? q[a].x : q[b].x + (y - ya) * (q[a].x - q[b].x) / (yb - ya);
        xlo = fmin(xlo, ya == yb ? fmin(q[a].x, q[b].x) : xx);
        xhi = fmax(xhi, ya == yb ? fmax(q[a].x, q[b].x) : xx);
      }
    }
    if (!(xhi >= xlo))
      continue;
    i0 = (long)ceil((xlo - r->x0) / r->cell - 0.5);
    i1 = (long)floor((xhi - r->x0) / r->cell - 0.5);
    if (i0 < 0)
      i0 = 0;
    if (i1 >= (long)r->nx)
      i1 = (long)r->nx - 1;
    for (long i = i0; i <= i1; i++) {
      size_t k = (size_t)j * r->nx + (size_t)i;
      if (r->last[k] != lane_id + 1) {
        r->last[k] = lane_id + 1;
        r->lanes[k]++;
      }
    }
  }
}

static int coverage_figures(const ctx *x, const cand *c, vg_plan_result *out)
{
  raster r = {0};
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  size_t ncell = 0, covered = 0, seen = 0;
  int rc = VG_OK;
  for (size_t i = 0; i < x->aoi.n[0]; i++) {
    xlo = fmin(xlo, x->aoi.ring[0][i].x);
    xhi = fmax(xhi, x->aoi.ring[0][i].x);
    ylo = fmin(ylo, x->aoi.ring[0][i].y);
    yhi = fmax(yhi, x->aoi.ring[0][i].y);
  }
  r.cell = x->o->coverage_cell_m > 0 ? x->o->coverage_cell_m : c->swath / 20;
  if (r.cell < 0.25)
    r.cell = 0.25;
  while ((xhi - xlo) / r.cell * (yhi - ylo) / r.cell > RASTER_MAX)
    r.cell *= 1.25;
  r.x0 = xlo;
  r.y0 = ylo;
  r.nx = (size_t)ceil((xhi - xlo) / r.cell) + 1;
  r.ny = (size_t)ceil((yhi - ylo) / r.cell) + 1;
  if (!(r.in = calloc(r.nx * r.ny, 1)) || !(r.lanes = calloc(r.nx * r.ny, sizeof *r.lanes)) ||
      !(r.last = calloc(r.nx * r.ny, sizeof *r.last))) {
    rc = vg_error_set(VG_E_NOMEM, "coverage raster of %zu x %zu", r.nx, r.ny);
    goto done;
  }
  for (size_t j = 0; j < r.ny; j++)
    for (size_t i = 0; i < r.nx; i++) {
      vg_plan_pt p = {r.x0 + (i + 0.5) * r.cell, r.y0 + (j + 0.5) * r.cell};
      int in = vg__plan_poly_inside(&x->aoi, p);
      for (size_t z = 0; in && z < x->nnf; z++)
        if (vg__plan_poly_inside(&x->nf[z], p))
          in = 0;
      r.in[j * r.nx + i] = (unsigned char)in;
      ncell += (size_t)in;
    }
  for (size_t li = 0; li < c->nl; li++) {
    const lane *L = &c->l[li];
    const dirfig *f = &c->f[L->dir];
    double len = hypot(L->b.x - L->a.x, L->b.y - L->a.y), step = f->step;
    size_t ns = step > 0 ? (size_t)floor(len / step) + 1 : 1;
    double th = L->a.hdg; /* track course */
    if (!f->vg)
      continue;
    /* a video is stamped as swept: between two samples a raster cell apart, the convex hull of
     * the footprint at both (a convex set translated sweeps exactly that hull) */
    if (x->o->sensor.video && step < r.cell) {
      step = r.cell;
      ns = (size_t)floor(len / step) + 1;
    }
    for (size_t k = 0; k <= ns; k++) {
      double s = k < ns ? k * step : len, ux = sin(th), uy = cos(th), s0 = k ? (k < ns ? s - step : (ns - 1) * step) : s;
      vg_plan_pt q[8], hq[9];
      int nq = 4;
      for (int i = 0; i < 4; i++) {
        /* track frame (u ahead, v right) -> plane */
        double u = f->quad[i].x, v = f->quad[i].y;
        q[i].x = L->a.x + (s + u) * ux + v * uy;
        q[i].y = L->a.y + (s + u) * uy - v * ux;
        q[4 + i].x = L->a.x + (s0 + u) * ux + v * uy;
        q[4 + i].y = L->a.y + (s0 + u) * uy - v * ux;
      }
      if (x->o->sensor.video && k > 0) {
        nq = (int)convex_hull(q, 8, hq);
        memcpy(q, hq, (size_t)nq * sizeof *q);
      }
      stamp(&r, q, nq, (uint32_t)li);
      if (k == ns)
        break;
    }
  }
  for (size_t k = 0; k < r.nx * r.ny; k++)
    if (r.in[k] && r.lanes[k]) {
      covered++;
      seen += r.lanes[k];
    }
  out->area_m2 = (double)ncell * r.cell * r.cell;
  out->coverage = ncell ? (double)covered / (double)ncell : 0;
  out->overlap = covered ? (double)seen / (double)covered - 1 : 0;
done:
  free(r.in);
  free(r.lanes);
  free(r.last);
  return rc;
}

/* ---- the flown path, waypoints and the no-fly check ------------------------------------------ */

typedef struct pathbuf {
  vg_plan_pt *p;
  size_t n, cap;
} pathbuf;

static int path_push(pathbuf *b, double x, double y)
{
  if (b->n == b->cap) {
    size_t nc = b->cap ? 2 * b->cap : 1024;
    vg_plan_pt *t;
    if (nc > ((size_t)1 << 28))
      return vg_error_set(VG_E_LIMIT, "plan: path of more than 2^28 samples");
    if (!(t = realloc(b->p, nc * sizeof *t)))
      return vg_error_set(VG_E_NOMEM, "path");
    b->p = t;
    b->cap = nc;
  }
  b->p[b->n].x = x;
  b->p[b->n].y = y;
  b->n++;
  return VG_OK;
}

static int path_of(pathbuf *b, const vg_plan_dubins *dp)
{
  vg_plan_dubins d = *dp;
  int rc = VG_OK;
  double step = PATH_STEP_R * d.R;
  for (double s = 0; s < d.length && rc == VG_OK; s += step) {
    vg_plan_pose q = vg_plan_dubins_at(&d, s);
    rc = path_push(b, q.x, q.y);
  }
  return rc;
}

static int path_line(pathbuf *b, double R, const vg_plan_pose *a, const vg_plan_pose *z)
{
  double len = hypot(z->x - a->x, z->y - a->y), step = 0.5 * R;
  size_t n = (size_t)ceil(len / step);
  int rc = VG_OK;
  for (size_t i = 0; i <= n && rc == VG_OK; i++) {
    double t = n ? (double)i / (double)n : 0;
    rc = path_push(b, a->x + t * (z->x - a->x), a->y + t * (z->y - a->y));
  }
  return rc;
}

/* ---- transits around no-fly zones ------------------------------------------------------------- */

/*
 * Obstacles for transits: each no-fly zone's convex hull grown by the standoff B, as the hull of
 * octagons of circumradius B / cos(pi/8) around the zone's vertices (so it holds every point
 * within B of the zone). Routes are shortest paths in the visibility graph of their vertices
 * (Dijkstra); a segment is blocked when it passes through a hull's interior.
 */
typedef struct hull {
  vg_plan_pt *v; /* counter-clockwise */
  size_t n;
} hull;

static int cmp_pt(const void *a, const void *b)
{
  const vg_plan_pt *p = a, *q = b;
  return p->x < q->x ? -1 : p->x > q->x ? 1 : (p->y < q->y ? -1 : p->y > q->y);
}

static double cross3(vg_plan_pt o, vg_plan_pt a, vg_plan_pt b)
{
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* Andrew's monotone chain over @p p (sorted in place); the hull into @p out (n + 1 room). */
static size_t convex_hull(vg_plan_pt *p, size_t n, vg_plan_pt *out)
{
  size_t k = 0;
  qsort(p, n, sizeof *p, cmp_pt);
  for (size_t i = 0; i < n; i++) {
    while (k >= 2 && cross3(out[k - 2], out[k - 1], p[i]) <= 0)
      k--;
    out[k++] = p[i];
  }
  for (size_t i = n - 1, t = k + 1; i-- > 0;) {
    while (k >= t && cross3(out[k - 2], out[k - 1], p[i]) <= 0)
      k--;
    out[k++] = p[i];
  }
  return k > 1 ? k - 1 : k;
}

/* 2 nnf hulls: [0, nnf) grown by 0.9 B, [nnf, 2 nnf) by 1 m (for an end inside the first). */
static int make_hulls(const ctx *x, hull **out)
{
  hull *h;
  *out = NULL;
  if (!x->nnf)
    return VG_OK;
  if (!(h = calloc(2 * x->nnf, sizeof *h)))
    return vg_error_set(VG_E_NOMEM, "no-fly hulls");
  for (size_t q = 0; q < 2 * x->nnf; q++) {
    size_t z = q % x->nnf, n = x->nf[z].n[0], m = 8 * n;
    /* lane ends lie B from the zones: outside the grown hull unless a zone is concave there */
    double rad = (q < x->nnf ? 0.9 * x->B : 1.0) / cos(M_PI / 8);
    vg_plan_pt *pts = malloc(m * sizeof *pts);
    if (!pts || !(h[q].v = malloc((m + 1) * sizeof *h[q].v))) {
      free(pts);
      for (size_t k = 0; k <= q; k++)
        free(h[k].v);
      free(h);
      return vg_error_set(VG_E_NOMEM, "no-fly hulls");
    }
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 8; k++) {
        double a = (k + 0.5) * M_PI / 4;
        pts[8 * i + (size_t)k].x = x->nf[z].ring[0][i].x + rad * cos(a);
        pts[8 * i + (size_t)k].y = x->nf[z].ring[0][i].y + rad * sin(a);
      }
    h[q].n = convex_hull(pts, m, h[q].v);
    free(pts);
  }
  *out = h;
  return VG_OK;
}

static int in_hull(const hull *h, vg_plan_pt p)
{
  for (size_t i = 0; i < h->n; i++)
    if (cross3(h->v[i], h->v[(i + 1) % h->n], p) < 0)
      return 0;
  return 1;
}

/* Does segment a-b pass through the interior of @p h (Cyrus-Beck against its half-planes)? */
static int seg_blocked(const hull *h, vg_plan_pt a, vg_plan_pt b)
{
  double t0 = 0, t1 = 1, dx = b.x - a.x, dy = b.y - a.y, len = hypot(dx, dy), eps = 1e-6;
  for (size_t i = 0; i < h->n; i++) {
    vg_plan_pt p = h->v[i], q = h->v[(i + 1) % h->n];
    /* inside: cross(q - p, x - p) > 0; f(t) = num + t den */
    double ex = q.x - p.x, ey = q.y - p.y, el = hypot(ex, ey);
    double num = (ex * (a.y - p.y) - ey * (a.x - p.x)) / el, den = (ex * dy - ey * dx) / el;
    if (fabs(den) < 1e-12) {
      if (num <= eps)
        return 0;
      continue;
    }
    {
      double t = (eps - num) / den; /* where f = eps */
      if (den > 0)
        t0 = fmax(t0, t);
      else
        t1 = fmin(t1, t);
    }
    if (t0 >= t1)
      return 0;
  }
  return (t1 - t0) * len > 1e-3;
}

/* Zones a route goes around at most (more: no route, flown direct and checked). */
#define VIA_ZONES_MAX 4096u

/* The shortest route from @p a to @p b around the hulls (the ones holding a or b ignored):
 * its inner vertices into @p via (at most @p cap), their count, or (size_t)-1 when none. */
static size_t route(const hull *hh, size_t nh, vg_plan_pt a, vg_plan_pt b, vg_plan_pt *via, size_t cap)
{
  hull h[VIA_ZONES_MAX];
  size_t nv = 2, *prev = NULL, *node_h = NULL, k = (size_t)-1;
  vg_plan_pt *v = NULL;
  double *dist = NULL;
  unsigned char *skip = NULL, *done = NULL;
  int blocked = 0;
  if (!nh)
    return 0;
  if (nh > VIA_ZONES_MAX || !(skip = calloc(nh, 1)))
    return (size_t)-1;
  for (size_t z = 0; z < nh; z++) {
    h[z] = hh[z];
    if (in_hull(&h[z], a) || in_hull(&h[z], b))
      h[z] = hh[nh + z]; /* an end inside the grown hull: the zone's own hull */
    skip[z] = (unsigned char)(in_hull(&h[z], a) || in_hull(&h[z], b));
    if (!skip[z] && seg_blocked(&h[z], a, b))
      blocked = 1;
  }
  if (!blocked) {
    free(skip);
    return 0;
  }
  for (size_t z = 0; z < nh; z++)
    nv += skip[z] ? 0 : h[z].n;
  if (!(v = malloc(nv * sizeof *v)) || !(node_h = malloc(nv * sizeof *node_h)) || !(dist = malloc(nv * sizeof *dist)) ||
      !(prev = malloc(nv * sizeof *prev)) || !(done = calloc(nv, 1)))
    goto out;
  v[0] = a;
  v[1] = b;
  node_h[0] = node_h[1] = (size_t)-1;
  {
    size_t q = 2;
    for (size_t z = 0; z < nh; z++)
      for (size_t i = 0; !skip[z] && i < h[z].n; i++) {
        v[q] = h[z].v[i];
        node_h[q++] = z;
      }
  }
  for (size_t i = 0; i < nv; i++) {
    dist[i] = INFINITY;
    prev[i] = (size_t)-1;
  }
  dist[0] = 0;
  for (;;) { /* Dijkstra, O(V^2) with the visibility test on demand */
    size_t u = (size_t)-1;
    for (size_t i = 0; i < nv; i++)
      if (!done[i] && isfinite(dist[i]) && (u == (size_t)-1 || dist[i] < dist[u]))
        u = i;
    if (u == (size_t)-1 || u == 1)
      break;
    done[u] = 1;
    for (size_t w = 0; w < nv; w++) {
      double d;
      int ok = 1;
      if (done[w] || w == u)
        continue;
      d = dist[u] + hypot(v[w].x - v[u].x, v[w].y - v[u].y);
      if (d >= dist[w])
        continue;
      for (size_t z = 0; z < nh && ok; z++)
        if (!skip[z] && seg_blocked(&h[z], v[u], v[w]))
          ok = 0;
      if (ok) {
        dist[w] = d;
        prev[w] = u;
      }
    }
  }
  if (isfinite(dist[1])) {
    size_t n = 0;
    for (size_t i = prev[1]; i != 0 && i != (size_t)-1; i = prev[i])
      n++;
    if (n <= cap) {
      size_t i = prev[1];
      for (size_t q = n; q-- > 0; i = prev[i])
        via[q] = v[i];
      k = n;
    }
  }
out:
  free(v);
  free(node_h);
  free(dist);
  free(prev);
  free(skip);
  free(done);
  return k;
}

/* The transit from pose @p from to pose @p to: Dubins when nothing is in the way, else Dubins
 * to the first vertex of the route, straight legs between its vertices, Dubins to the goal.
 * Samples to @p pb, waypoints to @p wp (room for VIA_MAX), the length to *len. */
#define VIA_MAX 64
static int transit(const ctx *x, const hull *h, pathbuf *pb, const vg_plan_pose *from, const vg_plan_pose *to,
                   vg_plan_wp *wp, size_t *nwp, double *len)
{
  vg_plan_pt via[VIA_MAX];
  size_t n = route(h, x->nnf, (vg_plan_pt){from->x, from->y}, (vg_plan_pt){to->x, to->y}, via, VIA_MAX);
  vg_plan_pose cur = *from;
  int rc = VG_OK;
  *len = 0;
  *nwp = 0;
  if (n == (size_t)-1)
    n = 0; /* no route around: fly it direct (the no-fly check will say) */
  if (n == 0 && h) {
    /* nothing between the two ends, but every Dubins word between them cuts a zone beside
     * (a turn between lanes staggered by it): one turn point on a hull, the shortest pair of
     * clear Dubins paths through it over eight headings */
    vg_plan_dubins d1, d2, b1, b2;
    double best = INFINITY;
    size_t bz = 0, bi = 0;
    if (dubins_clear(x, from, to, &d1) == 0) {
      *len = d1.length;
      return path_of(pb, &d1);
    }
    for (size_t z = 0; z < x->nnf; z++)
      for (size_t i = 0; i < h[z].n; i++) {
        vg_plan_pt v = h[z].v[i];
        if (hypot(v.x - from->x, v.y - from->y) > 4 * x->R + hypot(to->x - from->x, to->y - from->y))
          continue;
        for (int hd = 0; hd < 8; hd++) {
          vg_plan_pose p = {v.x, v.y, hd * M_PI / 4};
          if (dubins_clear(x, from, &p, &d1) || dubins_clear(x, &p, to, &d2) || d1.length + d2.length >= best)
            continue;
          best = d1.length + d2.length;
          b1 = d1;
          b2 = d2;
          bz = z;
          bi = i;
        }
      }
    if (isfinite(best)) {
      *len = best;
      wp[0].p = h[bz].v[bi];
      wp[0].kind = VG_WP_TRANSIT;
      *nwp = 1;
      rc = path_of(pb, &b1);
      return rc == VG_OK ? path_of(pb, &b2) : rc;
    }
  }
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    vg_plan_pt nx = i + 1 < n ? via[i + 1] : (vg_plan_pt){to->x, to->y};
    vg_plan_pose p = {via[i].x, via[i].y, atan2(nx.x - via[i].x, nx.y - via[i].y)};
    if (i == 0) {
      vg_plan_dubins d;
      dubins_clear(x, &cur, &p, &d);
      *len += d.length;
      rc = path_of(pb, &d);
    } else {
      *len += hypot(p.x - cur.x, p.y - cur.y);
      rc = path_line(pb, x->R, &cur, &p);
    }
    wp[*nwp].p = via[i];
    wp[*nwp].kind = VG_WP_TRANSIT;
    (*nwp)++;
    cur = p;
  }
  if (rc == VG_OK) {
    vg_plan_dubins d;
    dubins_clear(x, &cur, to, &d);
    *len += d.length;
    rc = path_of(pb, &d);
  }
  return rc;
}

/* Room in out->wp for @p need waypoints (grown by doubling; at most VG_PLAN_ITEMS_MAX). */
static int wp_reserve(vg_plan_result *out, size_t *cap, size_t need)
{
  vg_plan_wp *t;
  size_t nc = *cap;
  if (need <= *cap)
    return VG_OK;
  while (nc < need)
    nc = nc ? 2 * nc : 64;
  if (need > VG_PLAN_ITEMS_MAX)
    return vg_error_set(VG_E_LIMIT, "plan: more than %u waypoints", VG_PLAN_ITEMS_MAX);
  if (!(t = realloc(out->wp, nc * sizeof *t)))
    return vg_error_set(VG_E_NOMEM, "waypoints");
  memset(t + *cap, 0, (nc - *cap) * sizeof *t);
  out->wp = t;
  *cap = nc;
  return VG_OK;
}

static int result_path(const ctx *x, const cand *c, vg_plan_result *out)
{
  pathbuf pb = {0};
  vg_plan_pose cur;
  hull *h = NULL;
  int have = x->o->has_base, rc = VG_OK;
  size_t cap = 0, k = 0;
  double routed = 0, direct = 0;
  if ((rc = make_hulls(x, &h)) != VG_OK)
    return rc;
  /* every lane's two ends, the base twice; transits reserve their own room below */
  if ((rc = wp_reserve(out, &cap, 2 * c->nl + 2)) != VG_OK)
    goto done;
  if (have) {
    cur.x = x->base.x;
    cur.y = x->base.y;
    cur.hdg = c->ang;
    out->wp[k].p = x->base;
    out->wp[k].kind = VG_WP_TRANSIT;
    k++;
  }
  for (size_t i = 0; i < c->nl && rc == VG_OK; i++) {
    const lane *L = &c->l[i];
    if (have) {
      int between = i == 0 || c->cell_of[L->seg] != c->cell_of[c->l[i - 1].seg];
      vg_plan_dubins d;
      /* a turn whose shortest path would cut a zone (lane ends staggered by it) takes the
       * shortest word that keeps out; when none does, it is routed around as a transit */
      if (!between && dubins_clear(x, &cur, &L->a, &d) == 0) {
        double l0 = dubins_len(x->R, &cur, &L->a);
        out->turn_m += d.length - l0;
        out->length_m += d.length - l0;
        out->time_s += (d.length - l0) / x->o->aircraft.airspeed_mps;
        rc = path_of(&pb, &d);
      } else { /* from the base or another cell, or a turn no word keeps out: around the zones */
        size_t nw = 0;
        double len;
        if ((rc = wp_reserve(out, &cap, k + VIA_MAX + 2 * (c->nl - i) + 2)) != VG_OK)
          break;
        rc = transit(x, h, &pb, &cur, &L->a, out->wp + k, &nw, &len);
        k += nw;
        routed += len;
        direct += dubins_len(x->R, &cur, &L->a);
      }
    }
    if (rc == VG_OK)
      rc = path_line(&pb, x->R, &L->a, &L->b);
    out->wp[k].p = (vg_plan_pt){L->a.x, L->a.y};
    out->wp[k].kind = VG_WP_LANE_START;
    out->wp[k].lane = i;
    k++;
    out->wp[k].p = (vg_plan_pt){L->b.x, L->b.y};
    out->wp[k].kind = VG_WP_LANE_END;
    out->wp[k].lane = i;
    k++;
    cur = L->b;
    have = 1;
  }
  if (rc == VG_OK && x->o->has_base && c->nl) {
    vg_plan_pose home = {x->base.x, x->base.y, 0}, best = home;
    double d = INFINITY, len;
    size_t nw = 0;
    for (int hh = 0; hh < 8; hh++) {
      double l;
      home.hdg = hh * M_PI / 4;
      l = dubins_len(x->R, &cur, &home);
      if (l < d) {
        d = l;
        best = home;
      }
    }
    if ((rc = wp_reserve(out, &cap, k + VIA_MAX + 1)) != VG_OK)
      goto done;
    rc = transit(x, h, &pb, &cur, &best, out->wp + k, &nw, &len);
    k += nw;
    routed += len;
    direct += d;
    if (rc == VG_OK)
      rc = path_push(&pb, best.x, best.y);
    out->wp[k].p = x->base;
    out->wp[k].kind = VG_WP_TRANSIT;
    k++;
  }
  /* the detours the routes add to what the search counted */
  out->transit_m += routed - direct;
  out->length_m += routed - direct;
  out->time_s += (routed - direct) / x->o->aircraft.airspeed_mps;
  out->nwp = k;
  for (size_t i = 0; i < k; i++)
    out->wp[i].ll = vg_plan_ltp_inv(&x->ltp, out->wp[i].p);
  out->path = pb.p;
  pb.p = NULL;
  out->npath = pb.n;
  out->nofly_hits = 0;
  for (size_t i = 0; i < out->npath; i++)
    for (size_t z = 0; z < x->nnf; z++)
      if (vg__plan_poly_inside(&x->nf[z], out->path[i])) {
        out->nofly_hits++;
        break;
      }
done:
  free(pb.p);
  for (size_t z = 0; h && z < 2 * x->nnf; z++)
    free(h[z].v);
  free(h);
  return rc;
}

/* ---- the entry point ------------------------------------------------------------------------- */

static int check_opts(const vg_plan_area *aoi, const vg_plan_opts *o)
{
  const vg_plan_sensor *s = &o->sensor;
  const vg_plan_aircraft *a = &o->aircraft;
  if (!aoi || !o || o->version != VG_PLAN_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "plan: no area, or options of another version");
  if (aoi->outer.n < 3)
    return vg_error_set(VG_E_INVALID, "plan: area '%s' has %zu vertices (at least 3)", aoi->name, aoi->outer.n);
#define NEED(cond, ...)                                                                                              \
  do {                                                                                                               \
    if (!(cond))                                                                                                     \
      return vg_error_set(VG_E_INVALID, __VA_ARGS__);                                                                \
  } while (0)
  NEED(s->hfov_deg > 0 && s->hfov_deg < 170, "plan: sensor hfov %g deg (0 .. 170)", s->hfov_deg);
  NEED(s->vfov_deg > 0 && s->vfov_deg < 170, "plan: sensor vfov %g deg (0 .. 170)", s->vfov_deg);
  NEED(s->depression_deg > 0 && s->depression_deg <= 90, "plan: sensor depression %g deg (0 .. 90]",
       s->depression_deg);
  NEED(isfinite(s->azimuth_deg), "plan: sensor azimuth %g deg", s->azimuth_deg);
  NEED(s->side_overlap >= 0 && s->side_overlap <= 0.9, "plan: side overlap %g (0 .. 0.9)", s->side_overlap);
  NEED(s->front_overlap >= 0 && s->front_overlap <= 0.95, "plan: front overlap %g (0 .. 0.95)", s->front_overlap);
  NEED(!s->video || s->frame_rate_hz >= 0, "plan: frame rate %g", s->frame_rate_hz);
  NEED(a->alt_agl_m > 0 && a->alt_agl_m < 30000, "plan: altitude %g m above ground (0 .. 30000)", a->alt_agl_m);
  NEED(a->airspeed_mps > 1 && a->airspeed_mps < 400, "plan: airspeed %g m/s (1 .. 400)", a->airspeed_mps);
  NEED(a->bank_deg >= 5 && a->bank_deg <= 75, "plan: bank %g deg (5 .. 75)", a->bank_deg);
  NEED(a->wind_mps >= 0 && a->wind_mps < a->airspeed_mps, "plan: wind %g m/s (0 .. below the airspeed %g)",
       a->wind_mps, a->airspeed_mps);
  NEED(isfinite(a->wind_from_deg), "plan: wind direction %g deg", a->wind_from_deg);
  NEED(isnan(o->angle_deg) || isfinite(o->angle_deg), "plan: angle %g", o->angle_deg);
  NEED(o->angle_step_deg >= 0 && o->angle_step_deg <= 90, "plan: angle step %g deg (0: 1 deg)", o->angle_step_deg);
  NEED(o->nofly_margin_m >= 0 && isfinite(o->nofly_margin_m), "plan: no-fly margin %g m", o->nofly_margin_m);
  NEED(o->coverage_cell_m >= 0 && isfinite(o->coverage_cell_m), "plan: coverage cell %g m", o->coverage_cell_m);
  NEED(!o->nnofly || o->nofly, "plan: %zu no-fly zones but none given", o->nnofly);
#undef NEED
  return VG_OK;
}

int vg_plan_coverage(const vg_plan_area *aoi, const vg_plan_opts *o, vg_plan_result *out)
{
  ctx x;
  cand best = {0}, c;
  vg_plan_ll org = {0, 0};
  double step, a0, a1;
  int rc;
  size_t nang;
  memset(&x, 0, sizeof x);
  memset(out, 0, sizeof *out);
  if ((rc = check_opts(aoi, o)) != VG_OK)
    return rc;
  x.o = o;
  for (size_t i = 0; i < aoi->outer.n; i++) {
    org.lat += aoi->outer.v[i].lat / (double)aoi->outer.n;
    org.lon += aoi->outer.v[i].lon / (double)aoi->outer.n;
  }
  vg_plan_ltp_init(&x.ltp, org);
  if ((rc = vg__plan_poly_from_area(&x.ltp, aoi, &x.aoi)) != VG_OK)
    goto done;
  if (!(vg__plan_poly_area(&x.aoi) > 0)) {
    rc = vg_error_set(VG_E_INVALID, "plan: area '%s' has no surface", aoi->name);
    goto done;
  }
  if (o->nnofly && !(x.nf = calloc(o->nnofly, sizeof *x.nf))) {
    rc = vg_error_set(VG_E_NOMEM, "no-fly zones");
    goto done;
  }
  x.nnf = o->nnofly;
  for (size_t i = 0; i < o->nnofly; i++)
    if ((rc = vg__plan_poly_from_area(&x.ltp, &o->nofly[i], &x.nf[i])) != VG_OK)
      goto done;
  if (x.nnf && !(x.nfbox = malloc(x.nnf * sizeof *x.nfbox))) {
    rc = vg_error_set(VG_E_NOMEM, "no-fly zones");
    goto done;
  }
  for (size_t z = 0; z < x.nnf; z++) {
    x.nfbox[z][0] = x.nfbox[z][2] = INFINITY;
    x.nfbox[z][1] = x.nfbox[z][3] = -INFINITY;
    for (size_t i = 0; i < x.nf[z].n[0]; i++) {
      x.nfbox[z][0] = fmin(x.nfbox[z][0], x.nf[z].ring[0][i].x);
      x.nfbox[z][1] = fmax(x.nfbox[z][1], x.nf[z].ring[0][i].x);
      x.nfbox[z][2] = fmin(x.nfbox[z][2], x.nf[z].ring[0][i].y);
      x.nfbox[z][3] = fmax(x.nfbox[z][3], x.nf[z].ring[0][i].y);
    }
  }
  x.R = vg_plan_turn_radius(&o->aircraft);
  x.B = x.R + o->nofly_margin_m;
  if (o->has_base)
    x.base = vg_plan_ltp_fwd(&x.ltp, o->base);
  step = (o->angle_step_deg > 0 ? o->angle_step_deg : 1) * DEG;
  if (isnan(o->angle_deg)) {
    a0 = 0;
    a1 = M_PI - 1e-9;
  } else {
    a0 = a1 = fmod(fmod(o->angle_deg, 180) + 180, 180) * DEG;
  }
  nang = (size_t)floor((a1 - a0) / step) + 1;
  best.time_s = INFINITY;
  for (size_t i = 0; i < nang; i++) {
    double ang = a0 + (double)i * step;
    if ((rc = build_cand(&x, ang, &c)) != VG_OK)
      goto done;
    if ((rc = order_cand(&x, &c)) != VG_OK) {
      cand_free(&c);
      goto done;
    }
    if (c.nl && c.time_s < best.time_s) {
      cand_free(&best);
      best = c;
    } else
      cand_free(&c);
    if (o->progress)
      o->progress(o->progress_ud, "lane angle", (double)(i + 1) / (double)nang);
  }
  if (!best.nl) {
    rc = vg_error_set(VG_E_INVALID, "plan: nothing of area '%s' can be flown (no-fly zones and their %.0f m "
                      "standoff cover it)", aoi->name, x.B);
    goto done;
  }
  out->ltp = x.ltp;
  out->angle_deg = best.ang / DEG;
  out->turn_radius_m = x.R;
  out->crab_deg = best.f[0].crab / DEG;
  out->swath_m = best.swath;
  out->spacing_m = best.spacing;
  out->band_offset_m = best.band_c[0];
  out->cells = best.ncells;
  out->lanes = best.nl;
  out->turns = best.turns;
  out->lane_m = best.lane_m;
  out->turn_m = best.turn_m;
  out->transit_m = best.transit_m;
  out->length_m = best.lane_m + best.turn_m + best.transit_m;
  out->time_s = best.time_s;
  if ((rc = coverage_figures(&x, &best, out)) != VG_OK)
    goto done;
  {
    double d = best.spacing, R = x.R, tmin = d >= 2 * R ? vg_plan_uturn_length(d, R) : M_PI * R;
    out->lower_bound_m = out->area_m2 / best.spacing + (double)(best.nl ? best.nl - 1 : 0) * tmin;
  }
  if (o->progress)
    o->progress(o->progress_ud, "coverage", 1);
  rc = result_path(&x, &best, out);
done:
  cand_free(&best);
  vg__plan_poly_free(&x.aoi);
  for (size_t i = 0; x.nf && i < x.nnf; i++)
    vg__plan_poly_free(&x.nf[i]);
  free(x.nf);
  free(x.nfbox);
  if (rc != VG_OK)
    vg_plan_result_free(out);
  return rc;
}

void vg_plan_result_free(vg_plan_result *r)
{
  if (!r)
    return;
  free(r->wp);
  free(r->path);
  r->wp = NULL;
  r->path = NULL;
  r->nwp = r->npath = 0;
}
