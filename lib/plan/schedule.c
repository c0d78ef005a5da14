/*
 * Revisit schedules: sorties of one or more aircraft from a base, each a tour of areas of
 * interest within the endurance, simulated over days so that every area is covered again
 * before its deadline (last coverage + revisit period) as far as the heuristic can
 * (research/geo-plan.md B5; docs/formats/schedule.md is the reference for users).
 *
 * Model
 *   An area j: entry E_j, exit X_j, coverage time c_j, priority w_j, period T_j, last
 *   coverage cov_j (never covered: cov_j = -T_j). Transit between points at the speed v, the
 *   distance being the straight ECEF chord of lib/geo (vg_geo_distance; within 1 m of the
 *   geodesic at 100 km). A sortie launched at t flies base -> E_a, covers a, X_a -> E_b, ...,
 *   X_z -> base; it must land within the endurance and, with a window, before the window closes.
 *   A coverage "happens" at the end of the visit.
 *
 * Deadlines (same recurrence as the statistics): the pending deadline of j at time t is the
 *   first of cov_j + T_j, cov_j + 2 T_j, ... after t. lambda_j, its latest launch, is the latest
 *   moment a sortie flying j alone can launch (inside the window) and finish covering j by it.
 *   j is "meetable" at a decision time t0 when lambda_j >= max(t0, cov_j), "late" when it is
 *   not, or when a deadline has already passed since its last coverage.
 *
 * One sortie (plan_at), launched at t with budget B = min(endurance, window left):
 *   due: the meetable areas with lambda_j < H = next opening after t + B + turnaround, the
 *     earliest this aircraft could launch again after the longest sortie it may fly now (only this
 *     sortie can keep their deadlines, unless another aircraft does);
 *   value = (miss, gain), compared lexicographically (miss first, lower is better):
 *     miss = weight (priority) of the due areas the tour does not cover by their deadline, plus
 *            that of meetable areas it covers late (a late visit would hold the area from a sortie
 *            that could keep the deadline, so leaving it out is always better);
 *     gain = sum over the tour of w_j (min(s_j, CAP) when s_j >= FILL_MIN, else 0) + OVERDUE w_j
 *            when j is late; s_j = (t - cov_j) / T_j its staleness.
 *   Greedy insertion of due areas by weight kept / time added; 2-opt and Or-opt (a move is kept
 *   only when it shortens the tour and loses no value); then prize areas one at a time by prize /
 *   time added, each followed by 2-opt, Or-opt and the due areas that then fit into the time
 *   saved, and undone when the whole misses more.
 *
 * Launch rule (simulate): an aircraft ready at t0 (window open) launches at once when some area
 *   is late; else at the latest moment, up to the earliest latest launch min lambda_j, whose
 *   tour misses no more weight than launching at t0 would (a bisection in open time to a
 *   minute); an empty tour is never flown (the aircraft looks again IDLE_STEP_S later). Committed
 *   visits hold their area: another aircraft can only take it after that visit ends, so two
 *   aircraft never cover one area at once. Aircraft decide in the order they become ready.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/geo.h"
#include "vigia/plan.h"

#define DAY_S 86400.0
/* Staleness counted in the prize at most: beyond 4 periods an area is simply "very stale". */
#define CAP 4.0
/* Staleness below which an area is not worth a detour unless a deadline forces it (half a
 * period: covering it earlier would more than double its coverage rate). */
#define FILL_MIN 0.5
/* Prize of a late area on top of its staleness, in units of its priority. */
#define OVERDUE 2.0
/* Margin kept under a deadline by the latest launch, so that rounding never turns a met
 * deadline into a missed one (seconds). */
#define MARGIN_S 1e-3
/* Resolution of the launch-time bisection (seconds of open time). */
#define LAUNCH_RES_S 60.0
/* An aircraft with nothing worth flying looks again this much later (seconds). */
#define IDLE_STEP_S 300.0
/* Runs moved by Or-opt, and improvement passes, at most. */
#define OROPT_MAX 3
#define PASSES_MAX 64
/* Progress reported at most once per simulated hour. */
#define PROGRESS_EVERY_S 3600.0
/* Shorter by less than this is not shorter (seconds). */
#define EPS_S 1e-6

/* ---- the flying window ------------------------------------------------------------------ */

typedef struct win {
  int on;
  double len;   /* seconds open a day */
  double shift; /* t + shift is the time since some opening, modulo a day */
} win;

static double win_phase(const win *w, double t)
{
  double u = fmod(t + w->shift, DAY_S);
  if (u < 0)
    u += DAY_S;
  return u >= DAY_S ? 0.0 : u;
}

/* The first open moment >= t. */
static double win_next(const win *w, double t)
{
  double ph;
  if (!w->on)
    return t;
  ph = win_phase(w, t);
  return ph < w->len ? t : t + (DAY_S - ph);
}

/* Seconds left before the window closes, from an open moment t (the endurance bounds it too). */
static double win_left(const win *w, double t)
{
  return w->on ? w->len - win_phase(w, t) : INFINITY;
}

/* Open time: a clock that runs only while the window is open (continuous, nondecreasing). */
static double win_tau(const win *w, double t)
{
  double u, ph;
  if (!w->on)
    return t;
  u = t + w->shift;
  ph = win_phase(w, t);
  return floor((u - ph) / DAY_S + 0.5) * w->len + fmin(ph, w->len);
}

/* The open moment at open time x. */
static double win_tau_inv(const win *w, double x)
{
  double day, rem;
  if (!w->on)
    return x;
  day = floor(x / w->len);
  rem = x - day * w->len;
  if (rem >= w->len) {
    day += 1;
    rem = 0;
  }
  return day * DAY_S + rem - w->shift;
}

/* The latest launch <= t1 whose sortie of length ded lies inside one opening (ded <= len). */
static double win_latest(const win *w, double t1, double ded)
{
  double ph, o, x;
  if (!w->on)
    return t1;
  ph = win_phase(w, t1);
  o = t1 - ph;
  x = fmin(t1, o + w->len - ded);
  return x >= o ? x : o - DAY_S + w->len - ded;
}

/* ---- the problem -------------------------------------------------------------------------- */

typedef struct sched {
  const vg_sched_area *a;
  size_t n;
  double speed, endurance, turnaround, span;
  win w;
  double base[3];
  double (*ent)[3], (*ext)[3]; /* ECEF of the entries and exits */
  double *ded;                 /* a sortie flying the area alone */
  double *reach;               /* launch to the end of its coverage when flown first */
  unsigned char *ok;           /* feasible */
  double *cov;                 /* last coverage (committed visits included) */
  /* one decision (prepare) */
  double *dl, *lam;
  unsigned char *meet;
  double wsum; /* priorities of the feasible areas (the comparison's tolerance) */
  /* one sortie (plan_at) */
  double *prize;
  unsigned char *cand, *in, *due;
  double due_w; /* priorities of the due areas */
} sched;

/* A tour and its figures. */
typedef struct tour {
  double t, budget;
  size_t k;
  size_t *r;  /* areas in flight order */
  double *f;  /* end of each coverage */
  size_t *tmp, *save;
  double dur;
  double miss, gain;
} tour;

static double chord(const double a[3], const double b[3])
{
  double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return sqrt(dx * dx + dy * dy + dz * dz);
}

static void ecef(vg_plan_ll p, double e[3])
{
  vg_geo_llh g = {p.lat, p.lon, 0.0};
  vg_geo_llh_to_ecef(&g, e);
}

static double leg(const sched *s, const double a[3], const double b[3])
{
  return chord(a, b) / s->speed;
}

static int bad_ll(vg_plan_ll p)
{
  return !isfinite(p.lat) || !isfinite(p.lon) || p.lat < -90 || p.lat > 90 || p.lon < -180 || p.lon > 180;
}

static int check_area(const vg_sched_area *a, size_t i)
{
  const int nl = (int)strnlen(a->name, sizeof a->name);
  if (bad_ll(a->entry))
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): entry (%g, %g) is not a latitude and longitude", i, nl,
                        a->name, a->entry.lat, a->entry.lon);
  if (bad_ll(a->exit))
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): exit (%g, %g) is not a latitude and longitude", i, nl,
                        a->name, a->exit.lat, a->exit.lon);
  if (!isfinite(a->cover_s) || a->cover_s < 0)
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): cover_s %g must be finite and >= 0", i, nl, a->name,
                        a->cover_s);
  if (!isfinite(a->priority) || a->priority <= 0)
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): priority %g must be finite and > 0", i, nl, a->name,
                        a->priority);
  if (!isfinite(a->period_s) || a->period_s <= 0)
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): period_s %g must be finite and > 0", i, nl, a->name,
                        a->period_s);
  if (isnan(a->last_s) || a->last_s > 0)
    return vg_error_set(VG_E_INVALID, "area %zu (%.*s): last_s %g must be <= 0 (or -INFINITY: never covered)", i,
                        nl, a->name, a->last_s);
  return VG_OK;
}

static int check_geom(const vg_sched_opts *o)
{
  if (!o)
    return vg_error_set(VG_E_INVALID, "schedule: no options");
  if (o->version != VG_SCHED_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "schedule: opts.version %d is not VG_SCHED_OPTS_VERSION (%d)", o->version,
                        VG_SCHED_OPTS_VERSION);
  if (bad_ll(o->base))
    return vg_error_set(VG_E_INVALID, "schedule: opts.base (%g, %g) is not a latitude and longitude", o->base.lat,
                        o->base.lon);
  if (!isfinite(o->speed_mps) || o->speed_mps <= 0)
    return vg_error_set(VG_E_INVALID, "schedule: opts.speed_mps %g must be finite and > 0", o->speed_mps);
  return VG_OK;
}

static int check_opts(const vg_sched_opts *o)
{
  int rc = check_geom(o);
  if (rc != VG_OK)
    return rc;
  if (!isfinite(o->endurance_s) || o->endurance_s <= 0)
    return vg_error_set(VG_E_INVALID, "schedule: opts.endurance_s %g must be finite and > 0", o->endurance_s);
  if (!isfinite(o->turnaround_s) || o->turnaround_s < 0)
    return vg_error_set(VG_E_INVALID, "schedule: opts.turnaround_s %g must be finite and >= 0", o->turnaround_s);
  if (!isfinite(o->days) || o->days <= 0)
    return vg_error_set(VG_E_INVALID, "schedule: opts.days %g must be finite and > 0", o->days);
  if (o->days > VG_SCHED_DAYS_MAX)
    return vg_error_set(VG_E_LIMIT, "schedule: opts.days %g is more than VG_SCHED_DAYS_MAX (%g)", o->days,
                        VG_SCHED_DAYS_MAX);
  if (!isfinite(o->window_start_h) || o->window_start_h < 0 || o->window_start_h > 24)
    return vg_error_set(VG_E_INVALID, "schedule: opts.window_start_h %g must be in [0, 24]", o->window_start_h);
  if (!isfinite(o->window_end_h) || o->window_end_h < 0 || o->window_end_h > 24)
    return vg_error_set(VG_E_INVALID, "schedule: opts.window_end_h %g must be in [0, 24]", o->window_end_h);
  if (!isfinite(o->start_h) || o->start_h < 0 || o->start_h >= 24)
    return vg_error_set(VG_E_INVALID, "schedule: opts.start_h %g must be in [0, 24)", o->start_h);
  if (o->aircraft > VG_SCHED_AIRCRAFT_MAX)
    return vg_error_set(VG_E_LIMIT, "schedule: opts.aircraft %zu is more than VG_SCHED_AIRCRAFT_MAX (%d)",
                        o->aircraft, VG_SCHED_AIRCRAFT_MAX);
  return VG_OK;
}

static void sched_free(sched *s)
{
  free(s->ent);
  free(s->ext);
  free(s->ded);
  free(s->reach);
  free(s->ok);
  free(s->cov);
  free(s->dl);
  free(s->lam);
  free(s->meet);
  free(s->prize);
  free(s->cand);
  free(s->in);
  free(s->due);
  memset(s, 0, sizeof *s);
}

/* The geometry: every point in ECEF. n >= 1. */
static int sched_geom(sched *s, const vg_sched_area *a, size_t n, const vg_sched_opts *o)
{
  int rc = VG_E_NOMEM;
  memset(s, 0, sizeof *s);
  s->a = a;
  s->n = n;
  s->speed = o->speed_mps;
  ecef(o->base, s->base);
  s->ent = malloc(n * sizeof *s->ent);
  s->ext = malloc(n * sizeof *s->ext);
  if (!s->ent || !s->ext) {
    rc = vg_error_set(VG_E_NOMEM, "schedule: %zu areas", n);
    goto done;
  }
  for (size_t j = 0; j < n; j++) {
    ecef(a[j].entry, s->ent[j]);
    ecef(a[j].exit, s->ext[j]);
  }
  rc = VG_OK;
done:
  if (rc != VG_OK)
    sched_free(s);
  return rc;
}

/* The rest of the state of a run. */
static int sched_state(sched *s, const vg_sched_opts *o)
{
  const size_t n = s->n;
  int rc = VG_E_NOMEM;
  double ws = o->window_start_h, we = o->window_end_h, len_h = fmod(we - ws + 24.0, 24.0);
  s->endurance = o->endurance_s;
  s->turnaround = o->turnaround_s;
  s->span = o->days * DAY_S;
  s->w.on = len_h > 0 && !(ws == 0 && we == 24) && !(ws == 24 && we == 0);
  s->w.len = len_h * 3600.0;
  s->w.shift = (o->start_h - ws) * 3600.0;
  s->ded = calloc(n, sizeof *s->ded);
  s->reach = calloc(n, sizeof *s->reach);
  s->ok = calloc(n, 1);
  s->cov = calloc(n, sizeof *s->cov);
  s->dl = calloc(n, sizeof *s->dl);
  s->lam = calloc(n, sizeof *s->lam);
  s->meet = calloc(n, 1);
  s->prize = calloc(n, sizeof *s->prize);
  s->cand = calloc(n, 1);
  s->in = calloc(n, 1);
  s->due = calloc(n, 1);
  if (!s->ded || !s->reach || !s->ok || !s->cov || !s->dl || !s->lam || !s->meet || !s->prize || !s->cand ||
      !s->in || !s->due) {
    rc = vg_error_set(VG_E_NOMEM, "schedule: state of %zu areas", n);
    goto done;
  }
  for (size_t j = 0; j < n; j++) {
    const vg_sched_area *a = &s->a[j];
    double tin = leg(s, s->base, s->ent[j]);
    s->reach[j] = tin + a->cover_s;
    s->ded[j] = s->reach[j] + leg(s, s->ext[j], s->base);
    s->cov[j] = isinf(a->last_s) ? -a->period_s : a->last_s;
    s->ok[j] = s->ded[j] <= s->endurance && (!s->w.on || s->ded[j] <= s->w.len);
  }
  rc = VG_OK;
done:
  return rc;
}

/* ---- one tour ----------------------------------------------------------------------------- */

/* Flies r[0 .. k) from t: the end of each coverage into f (may be NULL); returns the flight time. */
static double tour_time(const sched *s, const size_t *r, size_t k, double t, double *f)
{
  const double *prev = s->base;
  double x = t;
  for (size_t i = 0; i < k; i++) {
    x += leg(s, prev, s->ent[r[i]]) + s->a[r[i]].cover_s;
    if (f)
      f[i] = x;
    prev = s->ext[r[i]];
  }
  return x + leg(s, prev, s->base) - t;
}

/* Change of the missed weight when area j is covered at f: a due deadline kept; or a late visit to an
 * area whose deadline can still be kept, which would hold the area from a sortie (of this aircraft or
 * another) that keeps it: counted once more, so that leaving the area out is always better. */
static double miss_of(const sched *s, size_t j, double f)
{
  if (f <= s->dl[j])
    return s->due[j] ? -s->a[j].priority : 0.0;
  return s->meet[j] ? s->a[j].priority : 0.0;
}

/* Value of r[0 .. k) with its coverage ends f: the weight of deadlines it misses, and its prize. */
static void tour_value(const sched *s, const size_t *r, size_t k, const double *f, double *miss, double *gain)
{
  double m = s->due_w, g = 0;
  for (size_t i = 0; i < k; i++) {
    g += s->prize[r[i]];
    m += miss_of(s, r[i], f[i]);
  }
  *miss = m;
  *gain = g;
}

/* (m1, g1) better than (m2, g2): less weight missed, then more prize. */
static int better(const sched *s, double m1, double g1, double m2, double g2)
{
  double mt = 1e-9 * (1.0 + s->wsum);
  if (m1 < m2 - mt)
    return 1;
  if (m1 > m2 + mt)
    return 0;
  return g1 > g2 + 1e-9 * (1.0 + fabs(g2));
}

/* Recomputes the figures of @p u after a change of its areas or order. */
static void tour_eval(const sched *s, tour *u, int valued)
{
  u->dur = tour_time(s, u->r, u->k, u->t, u->f);
  if (valued)
    tour_value(s, u->r, u->k, u->f, &u->miss, &u->gain);
}

/* Keeps the order in u->tmp when it is shorter and loses no value; else leaves u as it was. */
static int try_order(const sched *s, tour *u, int valued)
{
  double dur = tour_time(s, u->tmp, u->k, u->t, NULL), m = 0, g = 0;
  if (dur >= u->dur - EPS_S)
    return 0;
  if (valued) {
    double *f = u->f;
    size_t *r = u->r;
    /* u->f is overwritten by the evaluation: recomputed from u->r when the move is refused */
    tour_time(s, u->tmp, u->k, u->t, f);
    tour_value(s, u->tmp, u->k, f, &m, &g);
    if (better(s, u->miss, u->gain, m, g)) {
      tour_time(s, r, u->k, u->t, f);
      return 0;
    }
  }
  memcpy(u->r, u->tmp, u->k * sizeof *u->r);
  tour_eval(s, u, valued);
  return 1;
}

/* 2-opt (reverse a run of areas) and Or-opt (move a run of 1 .. OROPT_MAX areas elsewhere, either way
 * round) until no move shortens the tour without losing value. Never lengthens it. */
static void improve(const sched *s, tour *u, int valued)
{
  const size_t k = u->k;
  for (int pass = 0; pass < PASSES_MAX && k >= 2; pass++) {
    int moved = 0;
    for (size_t i = 0; i + 1 < k; i++)
      for (size_t j = i + 1; j < k; j++) {
        memcpy(u->tmp, u->r, k * sizeof *u->r);
        for (size_t a = i, b = j; a < b; a++, b--) {
          size_t x = u->tmp[a];
          u->tmp[a] = u->tmp[b];
          u->tmp[b] = x;
        }
        moved |= try_order(s, u, valued);
      }
    for (size_t len = 1; len <= OROPT_MAX && len < k; len++)
      for (size_t i = 0; i + len <= k; i++)
        for (size_t q = 0; q + len <= k; q++) {
          /* the run r[i .. i+len) goes to position q of the tour without it */
          if (q == i)
            continue;
          for (int rev = 0; rev < (len > 1 ? 2 : 1); rev++) {
            size_t o = 0;
            for (size_t x = 0; x <= k - len; x++) {
              if (x == q)
                for (size_t y = 0; y < len; y++)
                  u->tmp[o++] = u->r[i + (rev ? len - 1 - y : y)];
              if (x < k - len)
                u->tmp[o++] = u->r[x < i ? x : x + len];
            }
            moved |= try_order(s, u, valued);
          }
        }
    if (!moved)
      break;
  }
}

/* Greedy insertion by value gained over time added: keeping a due deadline first (weight kept over
 * time added), then, with @p fill, prize (prize over time added) when no due deadline is lost. At
 * most @p max areas. @return the last area inserted, SIZE_MAX when none. */
static size_t insert_greedy(const sched *s, tour *u, int fill, size_t max)
{
  size_t last = SIZE_MAX;
  for (size_t added = 0; added < max; added++) {
    size_t bj = SIZE_MAX, bp = 0;
    int bclass = -1;
    double bscore = 0;
    for (size_t j = 0; j < s->n; j++) {
      if (!s->cand[j] || s->in[j] || (!fill && !s->due[j]))
        continue;
      for (size_t p = 0; p <= u->k; p++) {
        const double *prev = p ? s->ext[u->r[p - 1]] : s->base, *next = p < u->k ? s->ent[u->r[p]] : s->base;
        double din = leg(s, prev, s->ent[j]), dout = leg(s, s->ext[j], next);
        double delta = din + s->a[j].cover_s + dout - leg(s, prev, next), dur = u->dur + delta;
        double fj = (p ? u->f[p - 1] : u->t) + din + s->a[j].cover_s, m = s->due_w, g, dt, score;
        int cls;
        if (dur > u->budget)
          continue;
        g = u->gain + s->prize[j];
        for (size_t i = 0; i < u->k; i++)
          m += miss_of(s, u->r[i], u->f[i] + (i < p ? 0.0 : delta));
        m += miss_of(s, j, fj);
        if (!better(s, m, g, u->miss, u->gain))
          continue;
        dt = fmax(delta, 1.0);
        cls = m < u->miss - 1e-9 * (1.0 + s->wsum);
        if (!cls && !fill)
          continue;
        score = cls ? (u->miss - m) / dt : (g - u->gain) / dt;
        if (cls > bclass || (cls == bclass && score > bscore)) {
          bclass = cls;
          bscore = score;
          bj = j;
          bp = p;
        }
      }
    }
    if (bj == SIZE_MAX)
      break;
    memmove(u->r + bp + 1, u->r + bp, (u->k - bp) * sizeof *u->r);
    u->r[bp] = bj;
    u->k++;
    s->in[bj] = 1;
    tour_eval(s, u, 1);
    last = bj;
  }
  return last;
}

/* The due areas: meetable ones whose latest launch comes before @p h. */
static void set_due(sched *s, tour *u, double h)
{
  s->due_w = 0;
  for (size_t j = 0; j < s->n; j++) {
    s->due[j] = s->ok[j] && s->meet[j] && s->lam[j] < h;
    if (s->due[j])
      s->due_w += s->a[j].priority;
  }
  tour_eval(s, u, 1);
}

/* The tour of a sortie launched at t (open), for the decision last prepared. Due: the deadlines whose
 * latest launch comes before this aircraft could launch again after the longest sortie it may fly
 * now (a shorter horizon, or one grown with the tour, was measured worse: docs/formats/schedule.md).
 * First the due deadlines it can keep, then the most prize per time with no deadline lost: each
 * prize area tried, followed by the due areas that then fit, and the whole undone when it loses. */
static void plan_at(sched *s, tour *u, double t)
{
  u->t = t;
  u->budget = fmin(s->endurance, win_left(&s->w, t));
  u->k = 0;
  for (size_t j = 0; j < s->n; j++) {
    const vg_sched_area *a = &s->a[j];
    double st = (t - s->cov[j]) / a->period_s;
    int late = t - s->cov[j] >= a->period_s || !s->meet[j];
    s->in[j] = 0;
    s->prize[j] = a->priority * ((st >= FILL_MIN ? fmin(st, CAP) : 0.0) + (late ? OVERDUE : 0.0));
    s->cand[j] = s->ok[j] && s->cov[j] <= t && s->ded[j] <= u->budget;
  }
  set_due(s, u, win_next(&s->w, t + u->budget + s->turnaround));
  insert_greedy(s, u, 0, SIZE_MAX);
  improve(s, u, 1);
  for (size_t attempt = 0; attempt < s->n; attempt++) {
    size_t k = u->k, j;
    double miss = u->miss;
    memcpy(u->save, u->r, k * sizeof *u->r);
    j = insert_greedy(s, u, 1, 1);
    if (j == SIZE_MAX)
      break;
    improve(s, u, 1);
    insert_greedy(s, u, 0, SIZE_MAX);
    improve(s, u, 1);
    if (!better(s, miss, 0, u->miss, 0))
      continue;
    for (size_t i = 0; i < u->k; i++)
      s->in[u->r[i]] = 0;
    memcpy(u->r, u->save, k * sizeof *u->r);
    u->k = k;
    for (size_t i = 0; i < k; i++)
      s->in[u->r[i]] = 1;
    tour_eval(s, u, 1);
    s->cand[j] = 0;
  }
}

/* Pending deadlines, latest launches and meetable areas at decision time t0. @return the moment this
 * decision should launch by at the latest (t0 when some area is late; INFINITY: nothing to fly). */
static double prepare(sched *s, double t0)
{
  double wake = INFINITY;
  for (size_t j = 0; j < s->n; j++) {
    const vg_sched_area *a = &s->a[j];
    double cov = s->cov[j], m, w;
    s->meet[j] = 0;
    if (!s->ok[j])
      continue;
    m = fmax(1.0, floor((t0 - cov) / a->period_s) + 1.0);
    s->dl[j] = cov + m * a->period_s;
    while (s->dl[j] <= t0)
      s->dl[j] += a->period_s;
    s->lam[j] = win_latest(&s->w, s->dl[j] - s->reach[j] - MARGIN_S, s->ded[j]);
    s->meet[j] = s->lam[j] >= fmax(t0, cov);
    if (cov <= t0 && (t0 - cov >= a->period_s || !s->meet[j]))
      w = t0;
    else
      w = s->meet[j] ? s->lam[j] : fmax(cov, t0);
    wake = fmin(wake, w);
  }
  return wake;
}

/* ---- the simulation ---------------------------------------------------------------------- */

typedef struct out_t {
  vg_sched_sortie *so;
  size_t nso, cso;
  vg_sched_visit *vi;
  size_t nvi, cvi;
} out_t;

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t max, const char *what)
{
  size_t c = *cap;
  void *q;
  if (need <= c)
    return VG_OK;
  if (need > max)
    return vg_error_set(VG_E_LIMIT, "schedule: more than %zu %s", max, what);
  c = c ? c : 64;
  while (c < need)
    c = c > max / 2 ? max : 2 * c;
  q = realloc(*p, c * size);
  if (!q)
    return vg_error_set(VG_E_NOMEM, "schedule: %zu %s", c, what);
  *p = q;
  *cap = c;
  return VG_OK;
}

/* Records the tour of aircraft ac and commits its visits. */
static int fly(sched *s, out_t *o, size_t ac, const tour *u)
{
  vg_sched_sortie *so;
  double cover = 0;
  int rc = grow((void **)&o->so, &o->cso, o->nso + 1, sizeof *o->so, VG_SCHED_SORTIES_MAX, "sorties");
  if (rc == VG_OK)
    rc = grow((void **)&o->vi, &o->cvi, o->nvi + u->k, sizeof *o->vi, VG_SCHED_VISITS_MAX, "visits");
  if (rc != VG_OK)
    return rc;
  so = &o->so[o->nso++];
  so->aircraft = ac;
  so->launch_s = u->t;
  so->land_s = u->t + u->dur;
  so->first = o->nvi;
  so->n = u->k;
  for (size_t i = 0; i < u->k; i++) {
    size_t j = u->r[i];
    o->vi[o->nvi++] = (vg_sched_visit){j, u->f[i] - s->a[j].cover_s, u->f[i]};
    s->cov[j] = u->f[i];
    cover += s->a[j].cover_s;
  }
  so->cover_s = cover;
  so->transit_s = u->dur - cover;
  return VG_OK;
}

/* The launch of an aircraft ready at t0 whose latest launch is tj > t0: the latest open moment whose
 * tour misses no more weight than launching at t0 would (bisection in open time); its tour left in u. */
static void choose_launch(sched *s, tour *u, double t0, double tj)
{
  double ref, lo = win_tau(&s->w, t0), hi = win_tau(&s->w, tj), tlo = t0;
  plan_at(s, u, t0);
  ref = u->miss;
  plan_at(s, u, tj);
  if (!better(s, ref, 0, u->miss, 0))
    return;
  /* lo keeps the reference, hi misses more */
  while (hi - lo > LAUNCH_RES_S) {
    double mid = 0.5 * (lo + hi), t = win_tau_inv(&s->w, mid);
    plan_at(s, u, t);
    if (better(s, ref, 0, u->miss, 0)) {
      hi = mid;
    } else {
      lo = mid;
      tlo = t;
    }
  }
  plan_at(s, u, tlo);
}

static int simulate(sched *s, const vg_sched_opts *o, out_t *out)
{
  const size_t na = o->aircraft ? o->aircraft : 1;
  double ready[VG_SCHED_AIRCRAFT_MAX], next_progress = PROGRESS_EVERY_S;
  tour u = {0};
  int rc = VG_E_NOMEM;
  u.r = malloc(s->n * sizeof *u.r);
  u.f = malloc(s->n * sizeof *u.f);
  u.tmp = malloc(s->n * sizeof *u.tmp);
  u.save = malloc(s->n * sizeof *u.save);
  if (!u.r || !u.f || !u.tmp || !u.save) {
    rc = vg_error_set(VG_E_NOMEM, "schedule: tour of %zu areas", s->n);
    goto done;
  }
  for (size_t k = 0; k < na; k++)
    ready[k] = 0;
  if (o->progress)
    o->progress(o->progress_ud, "schedule", 0.0);
  for (;;) {
    size_t k = 0;
    double t0, tj;
    for (size_t i = 1; i < na; i++)
      if (ready[i] < ready[k])
        k = i;
    if (!(ready[k] < s->span))
      break;
    if (o->progress && ready[k] >= next_progress) {
      o->progress(o->progress_ud, "schedule", ready[k] / s->span);
      next_progress = (floor(ready[k] / PROGRESS_EVERY_S) + 1) * PROGRESS_EVERY_S;
    }
    t0 = win_next(&s->w, ready[k]);
    if (!(t0 < s->span)) {
      ready[k] = INFINITY;
      continue;
    }
    tj = prepare(s, t0);
    if (!(tj < s->span)) {
      /* nothing to launch for in the span; other aircraft only push deadlines later */
      ready[k] = INFINITY;
      continue;
    }
    if (tj <= t0)
      plan_at(s, &u, t0);
    else
      choose_launch(s, &u, t0, tj);
    if (u.k == 0 || !(u.t < s->span)) {
      ready[k] = u.t + IDLE_STEP_S;
      continue;
    }
    if ((rc = fly(s, out, k, &u)) != VG_OK)
      goto done;
    ready[k] = u.t + u.dur + s->turnaround;
  }
  if (o->progress)
    o->progress(o->progress_ud, "schedule", 1.0);
  rc = VG_OK;
done:
  free(u.r);
  free(u.f);
  free(u.tmp);
  free(u.save);
  return rc;
}

/* ---- statistics --------------------------------------------------------------------------- */

typedef struct acc {
  double c, d, sum, worst;
  size_t ngap;
} acc;

static void stats_init(const vg_sched_area *a, acc *x, vg_sched_stats *st)
{
  int never = isinf(a->last_s);
  x->c = never ? 0.0 : a->last_s;
  x->d = (never ? -a->period_s : a->last_s) + a->period_s;
  x->sum = x->worst = 0;
  x->ngap = 0;
  st->visits = st->deadlines = st->missed = 0;
}

static void stats_visit(const vg_sched_area *a, double span, acc *x, vg_sched_stats *st, double end)
{
  double g = end - x->c;
  while (x->d < end) {
    if (x->d > 0 && x->d <= span) {
      st->deadlines++;
      st->missed++;
    }
    x->d += a->period_s;
  }
  if (x->d > 0 && x->d <= span)
    st->deadlines++;
  x->d = end + a->period_s;
  x->sum += g;
  x->worst = fmax(x->worst, g);
  x->ngap++;
  x->c = end;
  st->visits++;
}

static void stats_end(const vg_sched_area *a, double span, acc *x, vg_sched_stats *st)
{
  double g = span - x->c;
  while (x->d <= span) {
    if (x->d > 0) {
      st->deadlines++;
      st->missed++;
    }
    x->d += a->period_s;
  }
  if (g > a->period_s) {
    x->sum += g;
    x->worst = fmax(x->worst, g);
    x->ngap++;
  }
  st->mean_gap_s = x->ngap ? x->sum / (double)x->ngap : 0.0;
  st->worst_gap_s = x->worst;
}

static int so_cmp(const void *x, const void *y)
{
  const vg_sched_sortie *a = x, *b = y;
  if (a->launch_s != b->launch_s)
    return a->launch_s < b->launch_s ? -1 : 1;
  return a->aircraft < b->aircraft ? -1 : a->aircraft > b->aircraft;
}

/* Sorts the sorties by launch and lays their visits out in that order. */
static int order_out(out_t *o)
{
  vg_sched_visit *vi = NULL;
  size_t nv = 0;
  int rc = VG_OK;
  if (!o->nso)
    goto done;
  qsort(o->so, o->nso, sizeof *o->so, so_cmp);
  vi = malloc(o->nvi * sizeof *vi);
  if (!vi) {
    rc = vg_error_set(VG_E_NOMEM, "schedule: %zu visits", o->nvi);
    goto done;
  }
  for (size_t i = 0; i < o->nso; i++) {
    memcpy(vi + nv, o->vi + o->so[i].first, o->so[i].n * sizeof *vi);
    o->so[i].first = nv;
    nv += o->so[i].n;
  }
  free(o->vi);
  o->vi = vi;
  o->cvi = o->nvi;
  vi = NULL;
done:
  free(vi);
  return rc;
}

/* The airborne share of an aircraft's time: endurance and turnaround, and the window. */
static double fly_share(const sched *s)
{
  double e = s->endurance, c = e + s->turnaround, q, r;
  if (!s->w.on)
    return e / c;
  q = floor(s->w.len / c);
  r = s->w.len - q * c;
  return (q * e + fmin(r, e)) / DAY_S;
}

static double load_of(const sched *s, size_t aircraft)
{
  double need = 0;
  for (size_t j = 0; j < s->n; j++) {
    double in;
    if (!s->ok[j])
      continue;
    in = leg(s, s->base, s->ent[j]);
    for (size_t i = 0; i < s->n; i++)
      if (i != j && s->ok[i])
        in = fmin(in, leg(s, s->ext[i], s->ent[j]));
    need += (s->a[j].cover_s + in) / s->a[j].period_s;
  }
  return need / ((double)aircraft * fly_share(s));
}

/* ---- public -------------------------------------------------------------------------------- */

int vg_sched_run(const vg_sched_area *a, size_t n, const vg_sched_opts *o, vg_sched_result *out)
{
  sched s = {0};
  out_t ob = {0};
  vg_sched_result r = {0};
  acc *x = NULL;
  int rc;
  if ((rc = check_opts(o)) != VG_OK)
    goto done;
  if (!out) {
    rc = vg_error_set(VG_E_INVALID, "schedule: no result");
    goto done;
  }
  if (n && !a) {
    rc = vg_error_set(VG_E_INVALID, "schedule: %zu areas but no array", n);
    goto done;
  }
  if (n > VG_SCHED_AREAS_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "schedule: %zu areas, more than VG_SCHED_AREAS_MAX (%d)", n, VG_SCHED_AREAS_MAX);
    goto done;
  }
  for (size_t j = 0; j < n; j++)
    if ((rc = check_area(&a[j], j)) != VG_OK)
      goto done;
  r.span_s = o->days * DAY_S;
  if (n) {
    r.stats = calloc(n, sizeof *r.stats);
    if (!r.stats) {
      rc = vg_error_set(VG_E_NOMEM, "schedule: statistics of %zu areas", n);
      goto done;
    }
    if ((rc = sched_geom(&s, a, n, o)) != VG_OK || (rc = sched_state(&s, o)) != VG_OK)
      goto done;
    for (size_t j = 0; j < n; j++) {
      vg_sched_stats *st = &r.stats[j];
      st->feasible = s.ok[j];
      if (s.ok[j]) {
        s.wsum += a[j].priority;
        continue;
      }
      r.infeasible++;
      if (s.ded[j] > s.endurance)
        snprintf(st->why, sizeof st->why, "base->entry %.1f km, cover %.0f min, exit->base %.1f km: %.2f h > "
                 "endurance %.2f h", chord(s.base, s.ent[j]) / 1e3, a[j].cover_s / 60.0,
                 chord(s.ext[j], s.base) / 1e3, s.ded[j] / 3600.0, s.endurance / 3600.0);
      else
        snprintf(st->why, sizeof st->why, "its shortest sortie, %.2f h, is longer than the %.2f h flying window",
                 s.ded[j] / 3600.0, s.w.len / 3600.0);
    }
    r.load = s.wsum > 0 ? load_of(&s, o->aircraft ? o->aircraft : 1) : 0.0;
    if ((rc = simulate(&s, o, &ob)) != VG_OK || (rc = order_out(&ob)) != VG_OK)
      goto done;
  } else if (o->progress) {
    o->progress(o->progress_ud, "schedule", 1.0);
  }
  if (n && !(x = malloc(n * sizeof *x))) {
    rc = vg_error_set(VG_E_NOMEM, "schedule: statistics of %zu areas", n);
    goto done;
  }
  for (size_t j = 0; j < n; j++)
    stats_init(&a[j], &x[j], &r.stats[j]);
  /* an area's visits are in time order: each starts after its previous one ended */
  for (size_t v = 0; v < ob.nvi; v++) {
    size_t j = ob.vi[v].area;
    stats_visit(&a[j], r.span_s, &x[j], &r.stats[j], ob.vi[v].end_s);
  }
  for (size_t j = 0; j < n; j++) {
    stats_end(&a[j], r.span_s, &x[j], &r.stats[j]);
    r.deadlines += r.stats[j].deadlines;
    r.missed += r.stats[j].missed;
  }
  for (size_t i = 0; i < ob.nso; i++)
    r.flight_s += ob.so[i].land_s - ob.so[i].launch_s;
  r.sortie = ob.so;
  r.nsorties = ob.nso;
  r.visit = ob.vi;
  r.nvisits = ob.nvi;
  ob.so = NULL;
  ob.vi = NULL;
  *out = r;
  r.stats = NULL;
  rc = VG_OK;
done:
  free(x);
  free(r.stats);
  free(ob.so);
  free(ob.vi);
  sched_free(&s);
  return rc;
}

void vg_sched_result_free(vg_sched_result *r)
{
  if (!r)
    return;
  free(r->sortie);
  free(r->visit);
  free(r->stats);
  memset(r, 0, sizeof *r);
}

int vg_sched_order(const vg_sched_area *a, size_t n, const vg_sched_opts *o, size_t *order, size_t k,
                   double *before_s, double *after_s)
{
  sched s = {0};
  tour u = {0};
  unsigned char *seen = NULL;
  int rc;
  if ((rc = check_geom(o)) != VG_OK)
    goto done;
  if (k && (!a || !order)) {
    rc = vg_error_set(VG_E_INVALID, "schedule order: %zu areas but no %s", k, a ? "order" : "areas");
    goto done;
  }
  if (k > n) {
    rc = vg_error_set(VG_E_INVALID, "schedule order: %zu areas in the order, only %zu given", k, n);
    goto done;
  }
  if (!k) {
    if (before_s)
      *before_s = 0;
    if (after_s)
      *after_s = 0;
    rc = VG_OK;
    goto done;
  }
  seen = calloc(n, 1);
  u.r = malloc(k * sizeof *u.r);
  u.f = malloc(k * sizeof *u.f);
  u.tmp = malloc(k * sizeof *u.tmp);
  if (!seen || !u.r || !u.f || !u.tmp) {
    rc = vg_error_set(VG_E_NOMEM, "schedule order: %zu areas", k);
    goto done;
  }
  for (size_t i = 0; i < k; i++) {
    if (order[i] >= n || seen[order[i]]) {
      rc = vg_error_set(VG_E_INVALID, "schedule order: order[%zu] = %zu is %s", i, order[i],
                        order[i] >= n ? "not an area" : "a repeat");
      goto done;
    }
    seen[order[i]] = 1;
    if ((rc = check_area(&a[order[i]], order[i])) != VG_OK)
      goto done;
  }
  if ((rc = sched_geom(&s, a, n, o)) != VG_OK)
    goto done;
  memcpy(u.r, order, k * sizeof *u.r);
  u.k = k;
  u.budget = INFINITY;
  tour_eval(&s, &u, 0);
  if (before_s)
    *before_s = u.dur;
  improve(&s, &u, 0);
  if (after_s)
    *after_s = u.dur;
  memcpy(order, u.r, k * sizeof *order);
  rc = VG_OK;
done:
  free(seen);
  free(u.r);
  free(u.f);
  free(u.tmp);
  sched_free(&s);
  return rc;
}
