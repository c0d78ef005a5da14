/*
 * bench_plan: planning speed and quality (issue 9), each against a peer in the same run
 * (DESIGN.md convention 11).
 *
 *   usage: bench_plan [REPS]   (default 3; the median of REPS runs is printed)
 *
 * 1. Coverage: a 100 km^2 area (a 12-vertex polygon about 11 x 9.5 km, one concave bay) with
 *    20 no-fly zones (5-7-vertex polygons of 200-700 m) scattered inside, a 30 x 20 deg nadir
 *    video at 500 m, 30 m/s, bank 30 deg, a 5 m/s wind, from a base outside. vigia plans it with
 *    the lane angle searched every degree; the peer is the same planner told the angle
 *    Mission Planner's Grid takes by default (the longest edge), so the ratio shows what
 *    the search costs in planning time and saves in flight time.
 * 2. Schedule: 30 areas of 1-6 km^2 scattered 10-60 km around a base, each planned as above for
 *    its coverage time (cover times 4-17 min at this sensor), periods 12 h - 3 days, priorities 1-5, one
 *    aircraft with 8 h endurance and 1 h turnaround, a week. vigia's scheduler against a
 *    naive one in the same run: each sortie launched at once takes the most overdue areas
 *    in order while they fit, flown in that order (no insertion heuristic, no 2-opt, no
 *    waiting). Figures: time to schedule, deadlines missed, worst gap over period.
 *
 * BENCH_PLAN_PNG=FILE draws vigia's plan of part 1.
 *
 * Exit status: 0 (whatever the speed), 1 when a run fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigia/plan.h"

#define PI 3.14159265358979323846
#define LAT0 17.90
#define LON0 (-99.90)
#define NOFLY 20
#define AREAS 30

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static double rnd(void)
{
  g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
  return (double)(g_rng >> 11) / 9007199254740992.0;
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_dbl);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A polygon of @p n vertices around (cx, cy) (plane metres) with radii in [r0, r1]. */
static void blob(const vg_plan_ltp *t, double cx, double cy, double r0, double r1, size_t n, vg_plan_ll *out)
{
  for (size_t i = 0; i < n; i++) {
    double a = 2 * PI * (double)i / (double)n, r = r0 + (r1 - r0) * rnd();
    out[i] = vg_plan_ltp_inv(t, (vg_plan_pt){cx + r * cos(a), cy + r * sin(a)});
  }
}

static vg_plan_opts opts(void)
{
  vg_plan_opts o;
  memset(&o, 0, sizeof o);
  o.version = VG_PLAN_OPTS_VERSION;
  o.sensor.hfov_deg = 30;
  o.sensor.vfov_deg = 20;
  o.sensor.depression_deg = 90;
  o.sensor.video = 1;
  o.sensor.frame_rate_hz = 30;
  o.sensor.side_overlap = 0.1;
  o.aircraft.alt_agl_m = 500;
  o.aircraft.airspeed_mps = 30;
  o.aircraft.bank_deg = 30;
  o.aircraft.wind_mps = 5;
  o.aircraft.wind_from_deg = 250;
  o.angle_deg = NAN;
  o.angle_step_deg = 1;
  o.nofly_margin_m = 50;
  return o;
}

/* ---- the naive scheduler (the peer) --------------------------------------------------------- */

static double dist(vg_plan_ll a, vg_plan_ll b)
{
  double k = PI / 180, x = (b.lon - a.lon) * k * cos(0.5 * (a.lat + b.lat) * k), y = (b.lat - a.lat) * k;
  return 6371008.8 * hypot(x, y);
}

/* Sorties back to back: the most overdue areas that still fit, in that order. Returns the
 * deadlines missed and the worst gap / period over the span. */
static size_t naive_schedule(const vg_sched_area *a, size_t n, const vg_sched_opts *o, double *worst_ratio)
{
  double t = 0, span = o->days * 86400, *last = calloc(n, sizeof *last), *dl = calloc(n, sizeof *dl);
  size_t missed = 0, *order = calloc(n, sizeof *order);
  *worst_ratio = 0;
  for (size_t i = 0; i < n; i++) {
    last[i] = isfinite(a[i].last_s) ? a[i].last_s : -a[i].period_s;
    dl[i] = last[i] + a[i].period_s;
  }
  while (t < span) {
    size_t k = 0;
    double clock = t, used = 0;
    vg_plan_ll at = o->base;
    for (size_t i = 0; i < n; i++)
      order[i] = i;
    for (size_t i = 0; i < n; i++) /* most overdue first: smallest deadline */
      for (size_t j = i + 1; j < n; j++)
        if (dl[order[j]] < dl[order[i]]) {
          size_t s = order[i];
          order[i] = order[j];
          order[j] = s;
        }
    for (size_t q = 0; q < n; q++) {
      size_t i = order[q];
      double leg = dist(at, a[i].entry) / o->speed_mps, home = dist(a[i].exit, o->base) / o->speed_mps;
      if (used + leg + a[i].cover_s + home > o->endurance_s)
        continue;
      used += leg + a[i].cover_s;
      clock = t + used;
      while (dl[i] < clock && dl[i] <= span) { /* deadlines passed before this coverage */
        missed++;
        dl[i] += a[i].period_s;
      }
      if ((clock - last[i]) / a[i].period_s > *worst_ratio)
        *worst_ratio = (clock - last[i]) / a[i].period_s;
      last[i] = clock;
      dl[i] = clock + a[i].period_s;
      at = a[i].exit;
      k++;
    }
    if (!k)
      break;
    used += dist(at, o->base) / o->speed_mps;
    t += used + o->turnaround_s;
  }
  for (size_t i = 0; i < n; i++) {
    while (dl[i] <= span) {
      missed++;
      dl[i] += a[i].period_s;
    }
    if ((span - last[i]) / a[i].period_s > *worst_ratio)
      *worst_ratio = (span - last[i]) / a[i].period_s;
  }
  free(last);
  free(dl);
  free(order);
  return missed;
}

int main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 3, rc = 0;
  vg_plan_ltp t;
  vg_plan_area aoi, nf[NOFLY];
  vg_plan_ll ring[12], nfv[NOFLY][7];
  double tv[16], tp[16], fly_v = 0, fly_p = 0, ang_p = 0, area = 0;
  vg_plan_result r;
  if (reps < 1 || reps > 16)
    reps = 3;
  vg_plan_ltp_init(&t, (vg_plan_ll){LAT0, LON0});
  /* the area: a 12-gon of radius ~5.6 km with a bay cut into its east side */
  memset(&aoi, 0, sizeof aoi);
  for (int i = 0; i < 12; i++) {
    double a = 2 * PI * i / 12, rr = (i == 0 ? 3000 : 5900 + 300 * rnd());
    ring[i] = vg_plan_ltp_inv(&t, (vg_plan_pt){rr * cos(a) * 1.08, rr * sin(a) * 0.95});
  }
  aoi.outer.v = ring;
  aoi.outer.n = 12;
  aoi.priority = 1;
  snprintf(aoi.name, sizeof aoi.name, "bench area");
  for (int z = 0; z < NOFLY; z++) {
    double a = 2 * PI * rnd(), rr = 4200 * sqrt(rnd());
    size_t nv = 5 + (size_t)(rnd() * 3);
    memset(&nf[z], 0, sizeof nf[z]);
    blob(&t, rr * cos(a), rr * sin(a), 200, 700, nv, nfv[z]);
    nf[z].outer.v = nfv[z];
    nf[z].outer.n = nv;
    nf[z].kind = VG_PLAN_NOFLY;
  }
  printf("bench_plan: %d runs each, the median\n", reps);
  /* ---- 1. coverage ---- */
  {
    vg_plan_opts o = opts();
    double longest = 0;
    o.nofly = nf;
    o.nnofly = NOFLY;
    o.has_base = 1;
    o.base = vg_plan_ltp_inv(&t, (vg_plan_pt){-8000, -6000});
    for (int i = 0; i < 12; i++) { /* the peer's angle: the longest edge */
      vg_plan_pt p = vg_plan_ltp_fwd(&t, ring[i]), q = vg_plan_ltp_fwd(&t, ring[(i + 1) % 12]);
      double len = hypot(q.x - p.x, q.y - p.y);
      if (len > longest) {
        longest = len;
        ang_p = fmod(atan2(q.x - p.x, q.y - p.y) * 180 / PI + 360, 180);
      }
    }
    for (int k = 0; k < reps; k++) {
      double t0 = now_s();
      if (vg_plan_coverage(&aoi, &o, &r) != VG_OK) {
        fprintf(stderr, "bench_plan: %s\n", vg_error_last());
        return 1;
      }
      tv[k] = now_s() - t0;
      fly_v = r.time_s;
      area = r.area_m2;
      if (k == reps - 1 && getenv("BENCH_PLAN_PNG") && vg_plan_draw_png(getenv("BENCH_PLAN_PNG"), &r, &aoi, nf, NOFLY,
                                                                      1600) != VG_OK)
        fprintf(stderr, "bench_plan: %s\n", vg_error_last());
      if (k == reps - 1)
        printf("\n1. coverage of %.1f km2 (no-fly zones out) with %d no-fly zones, from a base 10 km away\n"
               "   vigia (angle searched every 1 deg): angle %.0f deg, %zu lanes in %zu cells, %zu turns, %.1f km,\n"
               "     %.1f min, coverage %.2f %%, lane+turn length / lower bound %.3f, no-fly hits %zu\n",
               area / 1e6, NOFLY, r.angle_deg, r.lanes, r.cells, r.turns, r.length_m / 1000, r.time_s / 60,
               100 * r.coverage, (r.lane_m + r.turn_m) / r.lower_bound_m, r.nofly_hits);
      vg_plan_result_free(&r);
    }
    o.angle_deg = ang_p;
    for (int k = 0; k < reps; k++) {
      double t0 = now_s();
      if (vg_plan_coverage(&aoi, &o, &r) != VG_OK) {
        fprintf(stderr, "bench_plan: %s\n", vg_error_last());
        return 1;
      }
      tp[k] = now_s() - t0;
      fly_p = r.time_s;
      if (k == reps - 1)
        printf("   peer (the longest edge's angle, %.0f deg): %zu lanes in %zu cells, %.1f km, %.1f min, coverage "
               "%.2f %%\n",
               ang_p, r.lanes, r.cells, r.length_m / 1000, r.time_s / 60, 100 * r.coverage);
      vg_plan_result_free(&r);
    }
    {
      double mv = median(tv, reps), mp = median(tp, reps);
      printf("   time to plan: vigia %.3f s, peer %.3f s (ratio %.1f: the 180 directions searched)\n", mv, mp,
             mv / mp);
      printf("   flight time: vigia / peer %.3f\n", fly_v / fly_p);
    }
  }
  /* ---- 2. schedule ---- */
  {
    vg_sched_area sa[AREAS];
    vg_sched_opts so;
    vg_sched_result res;
    double ts[16], tplan, t0, worst = 0, naive_worst, cmin = INFINITY, cmax = 0;
    size_t naive_missed;
    vg_plan_opts o = opts();
    o.angle_step_deg = 5;
    memset(&so, 0, sizeof so);
    so.version = VG_SCHED_OPTS_VERSION;
    so.base = (vg_plan_ll){LAT0, LON0};
    so.speed_mps = 30;
    so.endurance_s = 8 * 3600;
    so.turnaround_s = 3600;
    so.days = 7;
    so.aircraft = 1;
    t0 = now_s();
    for (int i = 0; i < AREAS; i++) {
      vg_plan_area a;
      vg_plan_ll v[8];
      double ang = 2 * PI * rnd(), d = 10000 + 50000 * rnd(), rad = 600 + 800 * rnd();
      memset(&a, 0, sizeof a);
      blob(&t, d * cos(ang), d * sin(ang), rad * 0.8, rad * 1.2, 8, v);
      a.outer.v = v;
      a.outer.n = 8;
      a.priority = 1;
      if ((rc = vg_plan_coverage(&a, &o, &r)) != VG_OK) {
        fprintf(stderr, "bench_plan: area %d: %s\n", i, vg_error_last());
        return 1;
      }
      snprintf(sa[i].name, sizeof sa[i].name, "area %02d", i + 1);
      sa[i].entry = r.wp[0].ll;
      sa[i].exit = r.wp[r.nwp - 1].ll;
      sa[i].cover_s = r.time_s;
      cmin = fmin(cmin, r.time_s / 60);
      cmax = fmax(cmax, r.time_s / 60);
      sa[i].priority = 1 + floor(5 * rnd());
      sa[i].period_s = (12 + 60 * rnd()) * 3600;
      sa[i].last_s = -sa[i].period_s * rnd();
      vg_plan_result_free(&r);
    }
    tplan = now_s() - t0;
    for (int k = 0; k < reps; k++) {
      t0 = now_s();
      if (vg_sched_run(sa, AREAS, &so, &res) != VG_OK) {
        fprintf(stderr, "bench_plan: schedule: %s\n", vg_error_last());
        return 1;
      }
      ts[k] = now_s() - t0;
      if (k < reps - 1)
        vg_sched_result_free(&res);
    }
    for (int i = 0; i < AREAS; i++)
      if (res.stats[i].worst_gap_s / sa[i].period_s > worst)
        worst = res.stats[i].worst_gap_s / sa[i].period_s;
    t0 = now_s();
    naive_missed = naive_schedule(sa, AREAS, &so, &naive_worst);
    t0 = now_s() - t0;
    printf("\n2. a week of %d areas (planned in %.2f s: cover times %.0f-%.0f min), one aircraft, 8 h endurance\n",
           AREAS, tplan, cmin, cmax);
    printf("   vigia: %zu sorties, %zu visits, %zu of %zu deadlines missed, worst gap / period %.2f, load %.2f,\n"
           "     scheduled in %.4f s\n",
           res.nsorties, res.nvisits, res.missed, res.deadlines, worst, res.load, median(ts, reps));
    printf("   peer (most overdue first, no heuristic): %zu deadlines missed, worst gap / period %.2f, %.4f s\n",
           naive_missed, naive_worst, t0);
    vg_sched_result_free(&res);
  }
  return rc;
}
