/*
 * Revisit schedules (lib/plan/schedule.c):
 *   - feasible: six areas, periods 12-48 h, one aircraft with 6 h endurance and 1 h turnaround:
 *     a week with no deadline missed and every worst gap within its period;
 *   - an area too far for the endurance: not feasible, its figures in `why`, never visited,
 *     every deadline of it missed, and the others' schedule exactly as without it;
 *   - overloaded (load > 1): misses reported, and the priority-5 areas miss a smaller share of
 *     their deadlines than the priority-1 ones;
 *   - flying windows (06-18 h, and 20-04 h across midnight with the schedule starting at 10 h):
 *     every sortie, launch to landing, inside one opening;
 *   - two aircraft: never on one area at once, and together keeping every deadline of an
 *     instance one aircraft cannot;
 *   - never-covered areas (due at once), an empty instance, determinism, progress reports;
 *   - vg_sched_order: 2-opt / Or-opt never lengthen a tour, and untangle a crossing order to the
 *     optimum found by brute force;
 *   - sixty random instances (windows, fleets, turnarounds, never-covered and unreachable areas);
 *   - options and areas refused naming the field, limits at their boundary, *out untouched.
 * Every result goes through check(): sortie durations within endurance, transit recomputed
 * here from the coordinates (vg_geo_distance) and coverage times consistent, sorties of one
 * aircraft apart by the turnaround, visits inside their sortie, and the statistics recomputed
 * here from the visit list by the definitions of docs/formats/schedule.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "vigia/geo.h"
#include "vigia/plan.h"

int test_plan_schedule_run(void);

#define DEG (3.14159265358979323846 / 180.0)
#define R_SPHERE 6371008.8 /* only to place points; distances are measured on WGS84 */
#define H 3600.0
#define DAY 86400.0

static const vg_plan_ll BASE = {17.85, -99.95};

/* The point d metres from p on bearing b (degrees), on a sphere: good enough to lay out areas. */
static vg_plan_ll offset(vg_plan_ll p, double d, double b)
{
  vg_plan_ll q = {p.lat + d * cos(b * DEG) / R_SPHERE / DEG,
                  p.lon + d * sin(b * DEG) / (R_SPHERE * cos(p.lat * DEG)) / DEG};
  return q;
}

static double dist(vg_plan_ll a, vg_plan_ll b)
{
  vg_geo_llh x = {a.lat, a.lon, 0}, y = {b.lat, b.lon, 0};
  return vg_geo_distance(&x, &y);
}

/* An area km from the base on bearing brg; its exit 2 km from its entry. */
static vg_sched_area area(const char *name, double km, double brg, double cover_min, double prio, double period_h,
                          double last_h)
{
  vg_sched_area a;
  memset(&a, 0, sizeof a);
  snprintf(a.name, sizeof a.name, "%s", name);
  a.entry = offset(BASE, km * 1e3, brg);
  a.exit = offset(a.entry, 2e3, brg + 90);
  a.cover_s = cover_min * 60;
  a.priority = prio;
  a.period_s = period_h * H;
  a.last_s = isinf(last_h) ? last_h : last_h * H;
  return a;
}

static vg_sched_opts opts(size_t aircraft, double days)
{
  vg_sched_opts o;
  memset(&o, 0, sizeof o);
  o.version = VG_SCHED_OPTS_VERSION;
  o.base = BASE;
  o.speed_mps = 30;
  o.endurance_s = 6 * H;
  o.turnaround_s = 1 * H;
  o.days = days;
  o.aircraft = aircraft;
  return o;
}

/* ---- the invariants of every result ---------------------------------------------------------- */

/* The statistics of area j by the definitions, from the visit list. */
static void expect_stats(const vg_sched_area *a, const vg_sched_result *r, size_t j, double span)
{
  const double T = a->period_s;
  double prev_end = -INFINITY, c0 = isinf(a->last_s) ? 0.0 : a->last_s, sum = 0, worst = 0;
  double pos = isinf(a->last_s) ? -T : a->last_s;
  size_t ngap = 0, visits = 0, deadlines = 0, missed = 0;
  double ends[4096];
  size_t ne = 0;
  for (size_t v = 0; v < r->nvisits; v++) {
    if (r->visit[v].area != j)
      continue;
    /* one area's visits never overlap, and come in time order */
    assert_true(r->visit[v].start_s >= prev_end - 1e-9);
    prev_end = r->visit[v].end_s;
    assert_true(ne < sizeof ends / sizeof ends[0]);
    ends[ne++] = r->visit[v].end_s;
  }
  /* gaps between coverages, from the last coverage before the span (0 when never covered) */
  for (size_t i = 0; i < ne; i++) {
    double g = ends[i] - (i ? ends[i - 1] : c0);
    sum += g;
    worst = fmax(worst, g);
    ngap++;
    visits++;
  }
  if (span - (ne ? ends[ne - 1] : c0) > T) {
    double g = span - (ne ? ends[ne - 1] : c0);
    sum += g;
    worst = fmax(worst, g);
    ngap++;
  }
  /* deadlines: pos + T after each coverage pos; uncovered by then, missed, and the next one a
   * period later; counted when in (0, span] */
  for (size_t i = 0;;) {
    double d = pos + T;
    while (i < ne && ends[i] <= pos)
      i++;
    if (i < ne && ends[i] <= d) {
      if (d > 0 && d <= span)
        deadlines++;
      pos = ends[i];
      continue;
    }
    if (d > span)
      break;
    if (d > 0) {
      deadlines++;
      missed++;
    }
    pos = d;
  }
  assert_int_equal(r->stats[j].visits, visits);
  assert_int_equal(r->stats[j].deadlines, deadlines);
  assert_int_equal(r->stats[j].missed, missed);
  assert_true(fabs(r->stats[j].worst_gap_s - worst) < 1e-6);
  assert_true(fabs(r->stats[j].mean_gap_s - (ngap ? sum / (double)ngap : 0.0)) < 1e-6);
}

/* Inside one opening of the window [ws, we) (hours, maybe across midnight), t0 = start_h. */
static int in_window(const vg_sched_opts *o, double launch, double land)
{
  double ws = o->window_start_h * H, len = fmod(o->window_end_h - o->window_start_h + 24, 24) * H;
  double u = launch + o->start_h * H - ws, ph = fmod(u, DAY);
  if (ph < 0)
    ph += DAY;
  return ph < len && ph + (land - launch) <= len + 1e-6;
}

static void check(const vg_sched_area *a, size_t n, const vg_sched_opts *o, const vg_sched_result *r)
{
  const size_t na = o->aircraft ? o->aircraft : 1;
  const double span = o->days * DAY;
  const int win = fmod(o->window_end_h - o->window_start_h + 24, 24) > 0 &&
                  !(o->window_start_h == 0 && o->window_end_h == 24);
  double last_land[64], deadlines = 0, missed = 0, flight = 0;
  size_t next_first = 0, infeasible = 0;
  assert_true(na <= 64);
  for (size_t k = 0; k < na; k++)
    last_land[k] = -INFINITY;
  assert_true(fabs(r->span_s - span) < 1e-6);
  for (size_t i = 0; i < r->nsorties; i++) {
    const vg_sched_sortie *s = &r->sortie[i];
    double cover = 0, transit = 0, t;
    vg_plan_ll at = o->base;
    assert_true(s->aircraft < na);
    assert_true(s->n >= 1);
    assert_int_equal(s->first, next_first);
    next_first += s->n;
    assert_true(next_first <= r->nvisits);
    assert_true(s->launch_s >= 0 && s->launch_s < span);
    if (i)
      assert_true(s->launch_s >= r->sortie[i - 1].launch_s);
    /* within endurance; one aircraft's sorties apart by the turnaround */
    assert_true(s->land_s - s->launch_s <= o->endurance_s + 1e-6);
    assert_true(s->launch_s >= last_land[s->aircraft] + o->turnaround_s - 1e-6);
    last_land[s->aircraft] = s->land_s;
    if (win)
      assert_true(in_window(o, s->launch_s, s->land_s));
    /* each leg at the speed, each coverage its cover time, visits inside the sortie */
    t = s->launch_s;
    for (size_t v = s->first; v < s->first + s->n; v++) {
      const vg_sched_visit *vi = &r->visit[v];
      double leg = dist(at, a[vi->area].entry) / o->speed_mps;
      assert_true(vi->area < n);
      assert_true(r->stats[vi->area].feasible);
      assert_true(fabs(vi->start_s - (t + leg)) < 1e-6);
      assert_true(fabs(vi->end_s - vi->start_s - a[vi->area].cover_s) < 1e-6);
      assert_true(vi->start_s >= s->launch_s && vi->end_s <= s->land_s + 1e-9);
      for (size_t w = s->first; w < v; w++)
        assert_true(r->visit[w].area != vi->area);
      transit += leg;
      cover += a[vi->area].cover_s;
      t = vi->end_s;
      at = a[vi->area].exit;
    }
    transit += dist(at, o->base) / o->speed_mps;
    assert_true(fabs(s->land_s - (t + dist(at, o->base) / o->speed_mps)) < 1e-6);
    assert_true(fabs(s->cover_s - cover) < 1e-6);
    assert_true(fabs(s->transit_s - transit) < 1e-6);
    assert_true(fabs(s->land_s - s->launch_s - (s->transit_s + s->cover_s)) < 1e-6);
    flight += s->land_s - s->launch_s;
  }
  assert_int_equal(next_first, r->nvisits);
  assert_true(fabs(r->flight_s - flight) < 1e-3);
  for (size_t j = 0; j < n; j++) {
    double ded = (dist(o->base, a[j].entry) + dist(a[j].exit, o->base)) / o->speed_mps + a[j].cover_s;
    int ok = ded <= o->endurance_s &&
             (!win || ded <= fmod(o->window_end_h - o->window_start_h + 24, 24) * H);
    assert_int_equal(r->stats[j].feasible, ok);
    if (!ok) {
      infeasible++;
      assert_true(strlen(r->stats[j].why) > 0);
    }
    expect_stats(&a[j], r, j, span);
    deadlines += (double)r->stats[j].deadlines;
    missed += (double)r->stats[j].missed;
  }
  assert_int_equal(r->infeasible, infeasible);
  assert_int_equal(r->deadlines, (size_t)deadlines);
  assert_int_equal(r->missed, (size_t)missed);
}

static void run(const vg_sched_area *a, size_t n, const vg_sched_opts *o, vg_sched_result *r)
{
  int rc = vg_sched_run(a, n, o, r);
  if (rc != VG_OK)
    fail_msg("vg_sched_run: %s: %s", vg_err_name(rc), vg_error_last());
  check(a, n, o, r);
}

/* ---- (a) a feasible week ---------------------------------------------------------------------- */

static void six_areas(vg_sched_area *a)
{
  a[0] = area("ridge", 12, 20, 30, 3, 12, -4);
  a[1] = area("wadi", 25, 80, 40, 2, 18, -9);
  a[2] = area("farm", 35, 150, 25, 1, 24, -10);
  a[3] = area("pass", 40, 220, 45, 2, 30, -20);
  a[4] = area("village", 20, 300, 20, 1, 36, -5);
  a[5] = area("airstrip", 30, 340, 35, 3, 48, -30);
}

static void feasible_week(void **state)
{
  vg_sched_area a[6];
  vg_sched_opts o = opts(1, 7);
  vg_sched_result r;
  (void)state;
  six_areas(a);
  run(a, 6, &o, &r);
  print_message("feasible week: load %.3f, %zu sorties, %zu visits, %zu deadlines, %zu missed\n", r.load,
                r.nsorties, r.nvisits, r.deadlines, r.missed);
  assert_true(r.load > 0 && r.load < 1);
  assert_int_equal(r.missed, 0);
  assert_int_equal(r.infeasible, 0);
  assert_true(r.deadlines > 0);
  for (size_t j = 0; j < 6; j++) {
    assert_true(r.stats[j].visits >= 3);
    assert_true(r.stats[j].worst_gap_s <= a[j].period_s);
    assert_true(r.stats[j].mean_gap_s > 0 && r.stats[j].mean_gap_s <= r.stats[j].worst_gap_s);
  }
  vg_sched_result_free(&r);
}

/* ---- (b) an area beyond the endurance --------------------------------------------------------- */

static void too_far(void **state)
{
  vg_sched_area a[7];
  vg_sched_opts o = opts(1, 7);
  vg_sched_result r, r6;
  (void)state;
  six_areas(a);
  /* 350 km out: 3.2 h each way at 30 m/s, more than the 6 h endurance with the coverage */
  a[6] = a[5];
  a[5] = area("far", 350, 45, 20, 5, 24, -2);
  run(a, 7, &o, &r);
  assert_int_equal(r.infeasible, 1);
  assert_int_equal(r.stats[5].feasible, 0);
  print_message("not feasible: %s\n", r.stats[5].why);
  assert_non_null(strstr(r.stats[5].why, "endurance 6.00 h"));
  {
    char want[64];
    snprintf(want, sizeof want, "base->entry %.1f km", dist(BASE, a[5].entry) / 1e3);
    assert_non_null(strstr(r.stats[5].why, want));
  }
  assert_int_equal(r.stats[5].visits, 0);
  /* every deadline of it (22 h, then daily) falls uncovered */
  assert_int_equal(r.stats[5].deadlines, 7);
  assert_int_equal(r.stats[5].missed, 7);
  assert_int_equal(r.missed, 7);
  /* the others: the very schedule flown without it */
  six_areas(a);
  run(a, 6, &o, &r6);
  assert_int_equal(r.nsorties, r6.nsorties);
  assert_int_equal(r.nvisits, r6.nvisits);
  for (size_t v = 0; v < r.nvisits; v++) {
    size_t j = r.visit[v].area;
    assert_int_equal(j == 6 ? 5 : j, r6.visit[v].area);
    assert_true(r.visit[v].end_s == r6.visit[v].end_s);
  }
  for (size_t j = 0; j < 6; j++) {
    const vg_sched_stats *s = &r.stats[j == 5 ? 6 : j];
    assert_int_equal(s->missed, 0);
    assert_int_equal(s->visits, r6.stats[j].visits);
  }
  vg_sched_result_free(&r);
  vg_sched_result_free(&r6);
}

/* ---- (c) overloaded ---------------------------------------------------------------------------- */

static void overloaded(void **state)
{
  vg_sched_area a[10];
  vg_sched_opts o = opts(1, 7);
  vg_sched_result r;
  size_t dl[2] = {0, 0}, miss[2] = {0, 0};
  (void)state;
  /* ten areas of an hour each every 10 h, 30 km out: far more than one aircraft can fly */
  for (size_t j = 0; j < 10; j++) {
    char name[16];
    snprintf(name, sizeof name, "a%zu", j);
    a[j] = area(name, 30, 36.0 * (double)j, 60, j % 2 ? 5 : 1, 10, -(double)j);
  }
  run(a, 10, &o, &r);
  print_message("overloaded: load %.2f, %zu of %zu deadlines missed\n", r.load, r.missed, r.deadlines);
  assert_true(r.load > 1);
  assert_true(r.missed > 0);
  for (size_t j = 0; j < 10; j++) {
    dl[j % 2] += r.stats[j].deadlines;
    miss[j % 2] += r.stats[j].missed;
  }
  print_message("  priority 5: %zu of %zu missed; priority 1: %zu of %zu\n", miss[1], dl[1], miss[0], dl[0]);
  assert_true((double)miss[1] / (double)dl[1] < (double)miss[0] / (double)dl[0]);
  vg_sched_result_free(&r);
}

/* ---- (d) flying windows ------------------------------------------------------------------------ */

static void windows(void **state)
{
  vg_sched_area a[6];
  vg_sched_opts o = opts(1, 7);
  vg_sched_result r;
  size_t flown = 0;
  (void)state;
  six_areas(a);
  for (size_t j = 0; j < 6; j++)
    a[j].period_s = fmax(a[j].period_s, 24 * H);
  o.window_start_h = 6;
  o.window_end_h = 18;
  run(a, 6, &o, &r);
  for (size_t i = 0; i < r.nsorties; i++) {
    double day = floor(r.sortie[i].launch_s / DAY) * DAY;
    assert_true(r.sortie[i].launch_s >= day + 6 * H - 1e-6);
    assert_true(r.sortie[i].land_s <= day + 18 * H + 1e-6);
  }
  flown = r.nsorties;
  print_message("window 06-18: %zu sorties, %zu missed, load %.2f\n", r.nsorties, r.missed, r.load);
  assert_true(flown > 0);
  assert_int_equal(r.missed, 0);
  vg_sched_result_free(&r);

  /* across midnight, 20 to 04, the schedule starting at 10:00 */
  o.window_start_h = 20;
  o.window_end_h = 4;
  o.start_h = 10;
  run(a, 6, &o, &r);
  for (size_t i = 0; i < r.nsorties; i++) {
    double hod = fmod(r.sortie[i].launch_s / H + 10, 24);
    assert_true(hod >= 20 - 1e-9 || hod < 4);
  }
  assert_true(r.nsorties > 0);
  /* nothing flies before 20:00, ten hours in */
  assert_true(r.sortie[0].launch_s >= 10 * H - 1e-6);
  vg_sched_result_free(&r);

  /* a window shorter than an area's shortest sortie makes it infeasible */
  o.window_start_h = 6;
  o.window_end_h = 7;
  o.start_h = 0;
  run(a, 6, &o, &r);
  assert_int_equal(r.stats[3].feasible, 0);
  assert_non_null(strstr(r.stats[3].why, "window"));
  vg_sched_result_free(&r);
}

/* ---- (e) two aircraft ------------------------------------------------------------------------- */

static void two_aircraft(void **state)
{
  vg_sched_area a[8];
  vg_sched_opts o1 = opts(1, 7), o2 = opts(2, 7);
  vg_sched_result r1, r2;
  size_t used[2] = {0, 0};
  (void)state;
  for (size_t j = 0; j < 8; j++) {
    char name[16];
    snprintf(name, sizeof name, "b%zu", j);
    a[j] = area(name, 25 + 2.0 * (double)j, 45.0 * (double)j, 60, 1 + (double)(j % 3), 12, -1.5 * (double)j);
  }
  run(a, 8, &o1, &r1);
  run(a, 8, &o2, &r2);
  print_message("one aircraft: load %.2f, %zu missed; two: load %.2f, %zu missed\n", r1.load, r1.missed, r2.load,
                r2.missed);
  assert_true(r1.missed > 0);
  assert_int_equal(r2.missed, 0);
  assert_true(fabs(r2.load - r1.load / 2) < 1e-9);
  for (size_t i = 0; i < r2.nsorties; i++)
    used[r2.sortie[i].aircraft]++;
  assert_true(used[0] > 0 && used[1] > 0);
  /* never two aircraft over one area at once (check() also verifies each area's visits in order) */
  for (size_t v = 0; v < r2.nvisits; v++)
    for (size_t w = v + 1; w < r2.nvisits; w++)
      if (r2.visit[v].area == r2.visit[w].area)
        assert_true(r2.visit[w].start_s >= r2.visit[v].end_s || r2.visit[v].start_s >= r2.visit[w].end_s);
  vg_sched_result_free(&r1);
  vg_sched_result_free(&r2);
}

/* ---- never covered, empty, determinism, progress ---------------------------------------------- */

typedef struct prog {
  size_t calls;
  double last;
  int bad;
} prog;

static void on_progress(void *ud, const char *stage, double done)
{
  prog *p = ud;
  if (strcmp(stage, "schedule") || done < p->last || done > 1)
    p->bad = 1;
  p->last = done;
  p->calls++;
}

static void never_empty_progress(void **state)
{
  vg_sched_area a[6];
  vg_sched_opts o = opts(1, 3);
  vg_sched_result r, r2;
  prog p = {0, 0, 0};
  (void)state;
  six_areas(a);
  a[0].last_s = -INFINITY;
  a[4].last_s = -INFINITY;
  o.progress = on_progress;
  o.progress_ud = &p;
  run(a, 6, &o, &r);
  /* due at once: the first sortie launches at 0 and covers one of them */
  assert_true(r.nsorties > 0 && r.sortie[0].launch_s == 0);
  assert_true(r.visit[0].area == 0 || r.visit[0].area == 4 || r.visit[1].area == 0 || r.visit[1].area == 4);
  assert_int_equal(r.missed, 0);
  assert_true(r.stats[0].worst_gap_s <= a[0].period_s);
  /* progress: from 0 to 1, never backwards, at most once per simulated hour (plus both ends) */
  assert_int_equal(p.bad, 0);
  assert_true(p.calls >= 3 && p.calls <= 3 * 24 + 2);
  assert_true(p.last == 1.0);
  /* the same input, the same schedule */
  o.progress = NULL;
  run(a, 6, &o, &r2);
  assert_int_equal(r.nsorties, r2.nsorties);
  assert_int_equal(r.nvisits, r2.nvisits);
  assert_memory_equal(r.sortie, r2.sortie, r.nsorties * sizeof *r.sortie);
  assert_memory_equal(r.visit, r2.visit, r.nvisits * sizeof *r.visit);
  vg_sched_result_free(&r);
  vg_sched_result_free(&r2);

  /* no areas: nothing to fly */
  memset(&r, 0xab, sizeof r);
  assert_int_equal(vg_sched_run(NULL, 0, &o, &r), VG_OK);
  assert_int_equal(r.nsorties, 0);
  assert_int_equal(r.nvisits, 0);
  assert_null(r.stats);
  assert_true(r.load == 0 && r.missed == 0);
  vg_sched_result_free(&r);
  vg_sched_result_free(NULL);
}

/* ---- vg_sched_order ----------------------------------------------------------------------------- */

/* Flight time of an order, computed here. */
static double tour_s(const vg_sched_area *a, const size_t *ord, size_t k, const vg_sched_opts *o)
{
  vg_plan_ll at = o->base;
  double t = 0;
  for (size_t i = 0; i < k; i++) {
    t += dist(at, a[ord[i]].entry) / o->speed_mps + a[ord[i]].cover_s;
    at = a[ord[i]].exit;
  }
  return t + dist(at, o->base) / o->speed_mps;
}

/* The shortest order by trying them all (Heap's algorithm). */
static double brute(const vg_sched_area *a, size_t k, const vg_sched_opts *o)
{
  size_t p[8], c[8] = {0}, i = 1;
  double best;
  for (size_t j = 0; j < k; j++)
    p[j] = j;
  best = tour_s(a, p, k, o);
  while (i < k) {
    if (c[i] < i) {
      size_t x = i % 2 ? c[i] : 0, y = p[x];
      p[x] = p[i];
      p[i] = y;
      best = fmin(best, tour_s(a, p, k, o));
      c[i]++;
      i = 1;
    } else {
      c[i++] = 0;
    }
  }
  return best;
}

static uint64_t rnd(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void order_improves(void **state)
{
  vg_sched_opts o = opts(1, 1);
  vg_sched_area a[8];
  size_t ord[8] = {0, 2, 1, 3};
  double before, after, best;
  uint64_t seed = 0x5eed;
  (void)state;
  /* four point areas around the base at 20 km: N, E, S, W. N S E W crosses itself twice. */
  for (size_t j = 0; j < 4; j++) {
    a[j] = area("pt", 20, 90.0 * (double)j, 10, 1, 24, 0);
    a[j].exit = a[j].entry;
  }
  assert_int_equal(vg_sched_order(a, 4, &o, ord, 4, &before, &after), VG_OK);
  best = brute(a, 4, &o);
  print_message("crossing order: %.0f s, untangled %.0f s, optimum %.0f s\n", before, after, best);
  assert_true(fabs(before - tour_s(a, (size_t[]){0, 2, 1, 3}, 4, &o)) < 1e-6);
  assert_true(after < before - 600);
  assert_true(fabs(after - best) < 1e-6);
  assert_true(fabs(after - tour_s(a, ord, 4, &o)) < 1e-6);
  /* random areas and orders: never longer, never below the optimum, a permutation of the input */
  for (int trial = 0; trial < 40; trial++) {
    size_t k = 3 + (size_t)(rnd(&seed) % 5), seen = 0;
    for (size_t j = 0; j < k; j++) {
      a[j] = area("r", 5 + (double)(rnd(&seed) % 50), (double)(rnd(&seed) % 360), 5 + (double)(rnd(&seed) % 30),
                  1, 24, 0);
      a[j].exit = offset(a[j].entry, (double)(rnd(&seed) % 8000), (double)(rnd(&seed) % 360));
      ord[j] = j;
    }
    for (size_t j = k - 1; j > 0; j--) {
      size_t x = (size_t)(rnd(&seed) % (j + 1)), y = ord[j];
      ord[j] = ord[x];
      ord[x] = y;
    }
    assert_int_equal(vg_sched_order(a, k, &o, ord, k, &before, &after), VG_OK);
    assert_true(after <= before + 1e-9);
    assert_true(after >= brute(a, k, &o) - 1e-6);
    assert_true(fabs(after - tour_s(a, ord, k, &o)) < 1e-6);
    for (size_t j = 0; j < k; j++)
      seen |= (size_t)1 << ord[j];
    assert_int_equal(seen, ((size_t)1 << k) - 1);
  }
  /* bad orders refused, order untouched */
  ord[0] = 1;
  ord[1] = 1;
  assert_int_equal(vg_sched_order(a, 3, &o, ord, 2, NULL, NULL), VG_E_INVALID);
  assert_non_null(strstr(vg_error_last(), "repeat"));
  assert_true(ord[0] == 1 && ord[1] == 1);
  ord[1] = 3;
  assert_int_equal(vg_sched_order(a, 3, &o, ord, 2, NULL, NULL), VG_E_INVALID);
  assert_int_equal(vg_sched_order(a, 3, &o, ord, 0, &before, &after), VG_OK);
  assert_true(before == 0 && after == 0);
}

/* ---- random instances through every invariant ---------------------------------------------------- */

static double unif(uint64_t *s, double lo, double hi)
{
  return lo + (hi - lo) * (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static void random_invariants(void **state)
{
  uint64_t seed = 0xfeedface;
  vg_sched_area a[16];
  size_t total_sorties = 0;
  (void)state;
  for (int trial = 0; trial < 60; trial++) {
    size_t n = 1 + (size_t)(rnd(&seed) % 16);
    vg_sched_opts o = opts(1 + (size_t)(rnd(&seed) % 4), unif(&seed, 0.5, 4));
    vg_sched_result r;
    o.endurance_s = unif(&seed, 2, 10) * H;
    o.turnaround_s = rnd(&seed) % 4 ? unif(&seed, 0, 2) * H : 0;
    o.speed_mps = unif(&seed, 20, 60);
    o.start_h = floor(unif(&seed, 0, 24));
    switch (rnd(&seed) % 4) {
    case 0:
      o.window_start_h = 6;
      o.window_end_h = 18;
      break;
    case 1:
      o.window_start_h = 21;
      o.window_end_h = 5;
      break;
    default:
      break;
    }
    for (size_t j = 0; j < n; j++) {
      double period = unif(&seed, 4, 72), last = rnd(&seed) % 8 ? -unif(&seed, 0, 1.5) * period : -INFINITY;
      a[j] = area("x", unif(&seed, 1, rnd(&seed) % 6 ? 60 : 400), unif(&seed, 0, 360), unif(&seed, 0, 90),
                  1 + (double)(rnd(&seed) % 5), period, last);
    }
    run(a, n, &o, &r);
    total_sorties += r.nsorties;
    vg_sched_result_free(&r);
  }
  assert_true(total_sorties > 100);
}

/* ---- refusals and limits ------------------------------------------------------------------------ */

static void refuse(const vg_sched_area *a, size_t n, const vg_sched_opts *o, int code, const char *word)
{
  vg_sched_result r;
  unsigned char before[sizeof r];
  vg_error_clear();
  memset(&r, 0x5a, sizeof r);
  memcpy(before, &r, sizeof r);
  int rc = vg_sched_run(a, n, o, &r);
  if (rc != code)
    fail_msg("expected %s for '%s', got %s (%s)", vg_err_name(code), word, vg_err_name(rc), vg_error_last());
  if (!strstr(vg_error_last(), word))
    fail_msg("expected '%s' in '%s'", word, vg_error_last());
  assert_memory_equal(&r, before, sizeof r);
}

static void refusals(void **state)
{
  vg_sched_area a[6], *many;
  vg_sched_opts o;
  vg_sched_result r;
  (void)state;
  six_areas(a);
  refuse(a, 6, NULL, VG_E_INVALID, "options");
#define BAD_OPT(field, value, code, word) \
  do {                                    \
    o = opts(1, 7);                       \
    o.field = value;                      \
    refuse(a, 6, &o, code, word);         \
  } while (0)
  BAD_OPT(version, 2, VG_E_INVALID, "version");
  BAD_OPT(speed_mps, NAN, VG_E_INVALID, "speed_mps");
  BAD_OPT(speed_mps, 0, VG_E_INVALID, "speed_mps");
  BAD_OPT(speed_mps, -3, VG_E_INVALID, "speed_mps");
  BAD_OPT(endurance_s, 0, VG_E_INVALID, "endurance_s");
  BAD_OPT(endurance_s, INFINITY, VG_E_INVALID, "endurance_s");
  BAD_OPT(turnaround_s, -1, VG_E_INVALID, "turnaround_s");
  BAD_OPT(turnaround_s, NAN, VG_E_INVALID, "turnaround_s");
  BAD_OPT(days, 0, VG_E_INVALID, "days");
  BAD_OPT(days, NAN, VG_E_INVALID, "days");
  BAD_OPT(days, VG_SCHED_DAYS_MAX + 0.01, VG_E_LIMIT, "VG_SCHED_DAYS_MAX");
  BAD_OPT(window_start_h, 25, VG_E_INVALID, "window_start_h");
  BAD_OPT(window_end_h, -1, VG_E_INVALID, "window_end_h");
  BAD_OPT(start_h, 24, VG_E_INVALID, "start_h");
  BAD_OPT(aircraft, VG_SCHED_AIRCRAFT_MAX + 1, VG_E_LIMIT, "VG_SCHED_AIRCRAFT_MAX");
  BAD_OPT(base.lat, 91, VG_E_INVALID, "base");
#undef BAD_OPT
  o = opts(1, 7);
  refuse(NULL, 6, &o, VG_E_INVALID, "areas but no array");
  assert_int_equal(vg_sched_run(a, 6, &o, NULL), VG_E_INVALID);
#define BAD_AREA(field, value, word)     \
  do {                                   \
    six_areas(a);                        \
    a[2].field = value;                  \
    refuse(a, 6, &o, VG_E_INVALID, word); \
  } while (0)
  BAD_AREA(cover_s, NAN, "area 2 (farm): cover_s");
  BAD_AREA(cover_s, -1, "cover_s");
  BAD_AREA(priority, 0, "priority");
  BAD_AREA(period_s, 0, "period_s");
  BAD_AREA(period_s, INFINITY, "period_s");
  BAD_AREA(last_s, 1, "last_s");
  BAD_AREA(last_s, NAN, "last_s");
  BAD_AREA(entry.lon, 181, "entry");
  BAD_AREA(exit.lat, NAN, "exit");
#undef BAD_AREA
  six_areas(a);
  /* limits at the boundary: a year of days, 64 aircraft, 4096 areas pass; one more does not */
  o = opts(1, VG_SCHED_DAYS_MAX);
  run(a, 2, &o, &r);
  assert_int_equal(r.missed, 0);
  vg_sched_result_free(&r);
  o = opts(VG_SCHED_AIRCRAFT_MAX, 1);
  run(a, 6, &o, &r);
  vg_sched_result_free(&r);
  many = calloc(VG_SCHED_AREAS_MAX + 1, sizeof *many);
  assert_non_null(many);
  for (size_t j = 0; j <= VG_SCHED_AREAS_MAX; j++)
    many[j] = area("far", 400, (double)(j % 360), 10, 1, 24, 0); /* beyond the endurance: quick */
  o = opts(1, 1);
  run(many, VG_SCHED_AREAS_MAX, &o, &r);
  assert_int_equal(r.infeasible, VG_SCHED_AREAS_MAX);
  assert_int_equal(r.nsorties, 0);
  vg_sched_result_free(&r);
  refuse(many, VG_SCHED_AREAS_MAX + 1, &o, VG_E_LIMIT, "VG_SCHED_AREAS_MAX");
  free(many);
}

int test_plan_schedule_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(feasible_week),
    cmocka_unit_test(too_far),
    cmocka_unit_test(overloaded),
    cmocka_unit_test(windows),
    cmocka_unit_test(two_aircraft),
    cmocka_unit_test(never_empty_progress),
    cmocka_unit_test(order_improves),
    cmocka_unit_test(random_invariants),
    cmocka_unit_test(refusals),
  };
  return cmocka_run_group_tests_name("plan_schedule", tests, NULL, NULL);
}
