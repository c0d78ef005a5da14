/*
 * bench_sites: the SQLite register's ingest rate and its box query over a
 * million sites, against a plain scan in the same run (DESIGN.md convention 11).
 *
 *   usage: bench_sites [SITES [DIR]]   SITES for the query part (default BENCH_SITES),
 *                                      DIR for the temporary registers (default /tmp)
 *
 * 1. Ingest: BENCH_INGEST_OBS synthetic detections, BENCH_BATCH per
 *    vg_register_ingest (one transaction each), into a new register: each
 *    detection lies within ~10 m of one of BENCH_INGEST_SITES true sites on a
 *    grid of 400 m (so most fuse into an existing site: gate, R*Tree search,
 *    update), with covariances of 20..50 m^2. Like a flight, a batch sees a
 *    strip: batch b draws its detections among BENCH_WINDOW consecutive sites
 *    starting at b * 100 (each site is in view during 5 batches, ~10
 *    detections in all). Fixed-seed xorshift: the same flight on every run. Figure: detections per second, wall clock.
 * 2. Box query: SITES well-separated detections (a square grid of 0.01 deg,
 *    about 1.1 km) ingested in batches of BENCH_BULK_BATCH, each making a site.
 *    Then BENCH_QUERIES random boxes of BENCH_BOX_DEG x BENCH_BOX_DEG (about
 *    25 sites each) through vg_register_box (R*Tree, rows read into vg_site),
 *    each timed alone: p50 / p99 / max.
 *    Peer: the same boxes (the first BENCH_PEER_QUERIES of them) as a plain
 *    `SELECT ... FROM sites WHERE lat BETWEEN .. AND lon BETWEEN .. ORDER BY id`
 *    on the same file without the R*Tree (a table scan), through sqlite3
 *    directly; both must return the same ids.
 *
 * 3. With $VIGIA_PG_URI: the ingest and box queries on PostgreSQL + PostGIS.
 *
 * Targets: ingest >= 100 000 detections/s; box query p99 < 2 ms over 1 M sites.
 * Exit status: 0 (whatever the speed), 1 when something fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vigia/sites.h"

/* Part 1: detections, per batch, true sites. */
#define BENCH_INGEST_OBS 200000
#define BENCH_BATCH 1000
#define BENCH_INGEST_SITES 20000
/* Sites in view during one batch (a flight sees a strip of the ground, not the whole area). */
#define BENCH_WINDOW 500
/* Part 2: default number of sites, bulk batch, queries, box side (deg), peer queries. */
#define BENCH_SITES 1000000
#define BENCH_BULK_BATCH 10000
#define BENCH_QUERIES 20000
#define BENCH_BOX_DEG 0.05
#define BENCH_PEER_QUERIES 30
/* Grid spacing of part 2 (deg): far beyond the gate search radius (~0.8 km). */
#define BENCH_GRID_DEG 0.01
/* Largest SITES accepted (a grid side of 4000). */
#define BENCH_SITES_MAX 16000000
/* Targets. */
#define TARGET_INGEST 100000.0
#define TARGET_P99_MS 2.0

static uint64_t g_s = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
  g_s ^= g_s << 13;
  g_s ^= g_s >> 7;
  g_s ^= g_s << 17;
  return g_s;
}

static double urand(void)
{
  return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void rm_db(const char *p)
{
  char q[600];
  unlink(p);
  snprintf(q, sizeof q, "%s-wal", p);
  unlink(q);
  snprintf(q, sizeof q, "%s-shm", p);
  unlink(q);
}

static void base_obs(vg_obs *o, const char *flight, int64_t frame, int seq)
{
  memset(o, 0, sizeof *o);
  snprintf(o->flight, sizeof o->flight, "%s", flight);
  o->frame = frame;
  snprintf(o->detector, sizeof o->detector, "rxp");
  o->seq = seq;
  o->kind = (vg_evidence)(seq % VG_EVID__COUNT);
  o->time_us = 1700000000000000LL + frame * 40000 + seq;
  o->hae = 500;
  o->sigma_up = 5;
  o->score = 20;
  o->r1 = o->c1 = 4;
}

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int fail(const char *what, int rc)
{
  fprintf(stderr, "bench_sites: %s: %s: %s\n", what, vg_err_name(rc), vg_error_last());
  return 1;
}

/*
 * The PostgreSQL figures beside SQLite's ($VIGIA_PG_URI, e.g. from
 * scripts/pg.sh): the same ingest (a flight named after this process, so the
 * shared database's earlier runs do not count as duplicates) and box queries
 * over the sites it made.
 */
static int pg_part(const char *uri, vg_obs *o)
{
  vg_register *r = NULL;
  vg_ingest_stats st;
  char flight[64];
  double dt = 0, t0, lat_ms[2000];
  int rc;
  snprintf(flight, sizeof flight, "ingest-%d-%ld", (int)getpid(), (long)time(NULL));
  if ((rc = vg_register_open(&r, uri)) != VG_OK)
    return fail("PostgreSQL open", rc);
  memset(&st, 0, sizeof st);
  g_s = 0x9e3779b97f4a7c15ull;
  for (int b = 0; b < BENCH_INGEST_OBS / BENCH_BATCH; b++) {
    for (int i = 0; i < BENCH_BATCH; i++) {
      int stride = BENCH_INGEST_SITES / (BENCH_INGEST_OBS / BENCH_BATCH), gs = 141;
      int site = (int)(((long)b * stride + (long)(rnd() % BENCH_WINDOW)) % BENCH_INGEST_SITES);
      base_obs(&o[i], flight, b, i);
      /* a region of its own per run: earlier runs' sites do not gate these */
      o[i].lat = -40.0 + (getpid() % 100) * 0.6 + (site / gs) * 0.0036 + (urand() - 0.5) * 2e-4;
      o[i].lon = 100.0 + (site % gs) * 0.0036 + (urand() - 0.5) * 2e-4;
      o[i].cov_en[0] = 20 + 30 * urand();
      o[i].cov_en[3] = 20 + 30 * urand();
      o[i].cov_en[1] = o[i].cov_en[2] = (urand() - 0.5) * 10;
    }
    t0 = now_s();
    if ((rc = vg_register_ingest(r, o, BENCH_BATCH, NULL, &st)) != VG_OK) {
      vg_register_close(r);
      return fail("PostgreSQL ingest", rc);
    }
    dt += now_s() - t0;
  }
  printf("PostgreSQL ingest: %d detections in batches of %d: %.3f s, %.0f detections/s  (%zu new sites, %zu updates)\n",
         BENCH_INGEST_OBS, BENCH_BATCH, dt, BENCH_INGEST_OBS / dt, st.sites_new, st.sites_updated);
  for (int q = 0; q < 2000; q++) {
    double la = -40.0 + (getpid() % 100) * 0.6 + urand() * (142 * 0.0036 - BENCH_BOX_DEG);
    double lo = 100.0 + urand() * (141 * 0.0036 - BENCH_BOX_DEG);
    vg_site *v = NULL;
    size_t n = 0;
    t0 = now_s();
    rc = vg_register_box(r, la, la + BENCH_BOX_DEG, lo, lo + BENCH_BOX_DEG, 0, &v, &n);
    lat_ms[q] = (now_s() - t0) * 1e3;
    free(v);
    if (rc != VG_OK) {
      vg_register_close(r);
      return fail("PostgreSQL box", rc);
    }
  }
  qsort(lat_ms, 2000, sizeof *lat_ms, cmp_d);
  printf("PostgreSQL box (PostGIS GiST): 2000 queries of %.2f x %.2f deg over the %zu sites just made: "
         "p50 %.3f ms, p99 %.3f ms\n", BENCH_BOX_DEG, BENCH_BOX_DEG, st.sites_new, lat_ms[1000], lat_ms[1980]);
  vg_register_close(r);
  return 0;
}

int main(int argc, char **argv)
{
  long nsites = argc > 1 ? atol(argv[1]) : BENCH_SITES;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  char path[512];
  vg_register *r = NULL;
  vg_obs *o = NULL;
  vg_ingest_stats st;
  double t0, dt, rate, *lat_ms = NULL, *box = NULL;
  int side, rc, status = 1;
  int64_t ns, no;
  if (nsites < 100 || nsites > BENCH_SITES_MAX) {
    fprintf(stderr, "usage: bench_sites [SITES (100..%d)] [DIR]\n", BENCH_SITES_MAX);
    return 2;
  }
  o = calloc(BENCH_BULK_BATCH, sizeof *o);
  lat_ms = malloc(BENCH_QUERIES * sizeof *lat_ms);
  box = malloc(BENCH_QUERIES * 4 * sizeof *box);
  if (!o || !lat_ms || !box)
    goto done;

  /* ---- 1. ingest rate ---- */
  snprintf(path, sizeof path, "%s/bench_sites_ingest_%d.db", dir, (int)getpid());
  rm_db(path);
  if ((rc = vg_register_open(&r, path)) != VG_OK) {
    status = fail("open", rc);
    goto done;
  }
  memset(&st, 0, sizeof st);
  dt = 0;
  for (int b = 0; b < BENCH_INGEST_OBS / BENCH_BATCH; b++) {
    for (int i = 0; i < BENCH_BATCH; i++) {
      /* the flight moves along the grid: batch b sees the BENCH_WINDOW sites from b * stride */
      int stride = BENCH_INGEST_SITES / (BENCH_INGEST_OBS / BENCH_BATCH), gs = 141; /* 141 x 142 grid */
      int site = (int)(((long)b * stride + (long)(rnd() % BENCH_WINDOW)) % BENCH_INGEST_SITES);
      base_obs(&o[i], "ingest", b, i);
      o[i].lat = 10.0 + (site / gs) * 0.0036 + (urand() - 0.5) * 2e-4;
      o[i].lon = 20.0 + (site % gs) * 0.0036 + (urand() - 0.5) * 2e-4;
      o[i].cov_en[0] = 20 + 30 * urand();
      o[i].cov_en[3] = 20 + 30 * urand();
      o[i].cov_en[1] = o[i].cov_en[2] = (urand() - 0.5) * 10;
    }
    t0 = now_s();
    if ((rc = vg_register_ingest(r, o, BENCH_BATCH, NULL, &st)) != VG_OK) {
      status = fail("ingest", rc);
      goto done;
    }
    dt += now_s() - t0;
  }
  rate = BENCH_INGEST_OBS / dt;
  vg_register_counts(r, &ns, &no);
  printf("ingest: %d detections in batches of %d: %.3f s, %.0f detections/s  (%zu new sites, %zu updates; "
         "register %lld sites, %lld obs)  target >= %.0f/s: %s\n",
         BENCH_INGEST_OBS, BENCH_BATCH, dt, rate, st.sites_new, st.sites_updated, (long long)ns, (long long)no,
         TARGET_INGEST, rate >= TARGET_INGEST ? "MET" : "BELOW");
  vg_register_close(r);
  r = NULL;
  rm_db(path);

  /* ---- 2. a register of nsites sites ---- */
  side = (int)ceil(sqrt((double)nsites));
  snprintf(path, sizeof path, "%s/bench_sites_box_%d.db", dir, (int)getpid());
  rm_db(path);
  if ((rc = vg_register_open(&r, path)) != VG_OK) {
    status = fail("open", rc);
    goto done;
  }
  memset(&st, 0, sizeof st);
  t0 = now_s();
  for (long k = 0; k < nsites;) {
    int m = 0;
    for (; m < BENCH_BULK_BATCH && k < nsites; m++, k++) {
      base_obs(&o[m], "bulk", k / BENCH_BULK_BATCH, m);
      o[m].lat = 1.0 + (double)(k / side) * BENCH_GRID_DEG;
      o[m].lon = 1.0 + (double)(k % side) * BENCH_GRID_DEG;
      o[m].cov_en[0] = o[m].cov_en[3] = 25;
    }
    if ((rc = vg_register_ingest(r, o, (size_t)m, NULL, &st)) != VG_OK) {
      status = fail("bulk ingest", rc);
      goto done;
    }
  }
  dt = now_s() - t0;
  printf("bulk: %ld well-separated detections (each a new site): %.2f s, %.0f detections/s  (%zu sites made)\n",
         nsites, dt, nsites / dt, st.sites_new);
  if ((long)st.sites_new != nsites) {
    fprintf(stderr, "bench_sites: expected %ld sites\n", nsites);
    goto done;
  }
  {
    double ext = (side - 1) * BENCH_GRID_DEG, sum = 0;
    size_t tot = 0;
    for (int q = 0; q < BENCH_QUERIES; q++) {
      double la = 1.0 + urand() * (ext - BENCH_BOX_DEG), lo = 1.0 + urand() * (ext - BENCH_BOX_DEG);
      vg_site *v = NULL;
      size_t n = 0;
      box[4 * q] = la;
      box[4 * q + 1] = la + BENCH_BOX_DEG;
      box[4 * q + 2] = lo;
      box[4 * q + 3] = lo + BENCH_BOX_DEG;
      t0 = now_s();
      rc = vg_register_box(r, la, la + BENCH_BOX_DEG, lo, lo + BENCH_BOX_DEG, 0, &v, &n);
      lat_ms[q] = (now_s() - t0) * 1e3;
      free(v);
      if (rc != VG_OK) {
        status = fail("box", rc);
        goto done;
      }
      tot += n;
      sum += lat_ms[q];
    }
    qsort(lat_ms, BENCH_QUERIES, sizeof *lat_ms, cmp_d);
    {
      double p50 = lat_ms[BENCH_QUERIES / 2], p99 = lat_ms[(size_t)(BENCH_QUERIES * 0.99)];
      printf("box (R*Tree, vg_register_box): %d queries of %.2f x %.2f deg over %ld sites, %.1f sites each: "
             "p50 %.3f ms, p99 %.3f ms, max %.3f ms, mean %.3f ms  target p99 < %.1f ms: %s\n",
             BENCH_QUERIES, BENCH_BOX_DEG, BENCH_BOX_DEG, nsites, (double)tot / BENCH_QUERIES, p50, p99,
             lat_ms[BENCH_QUERIES - 1], sum / BENCH_QUERIES, TARGET_P99_MS, p99 < TARGET_P99_MS ? "MET" : "BELOW");
      /* peer: a plain scan on the same file */
      {
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        double *pl = malloc(BENCH_PEER_QUERIES * sizeof *pl);
        int mismatch = 0;
        if (!pl || sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db,
                               "SELECT id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds,"
                               " first_us, last_us, nobs, nmiss, kinds, note FROM sites"
                               " WHERE lat BETWEEN ?1 AND ?2 AND lon BETWEEN ?3 AND ?4 ORDER BY id",
                               -1, &q, NULL) != SQLITE_OK) {
          fprintf(stderr, "bench_sites: peer: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
          free(pl);
          sqlite3_close(db);
          goto done;
        }
        for (int k = 0; k < BENCH_PEER_QUERIES; k++) {
          vg_site *v = NULL;
          size_t n = 0, i = 0;
          for (int j = 0; j < 4; j++)
            sqlite3_bind_double(q, j + 1, box[4 * k + j]);
          t0 = now_s();
          while (sqlite3_step(q) == SQLITE_ROW) {
            for (int c = 0; c < 16; c++)
              (void)sqlite3_column_value(q, c);
            i++;
          }
          pl[k] = (now_s() - t0) * 1e3;
          sqlite3_reset(q);
          vg_register_box(r, box[4 * k], box[4 * k + 1], box[4 * k + 2], box[4 * k + 3], 0, &v, &n);
          if (n != i)
            mismatch++;
          free(v);
        }
        qsort(pl, BENCH_PEER_QUERIES, sizeof *pl, cmp_d);
        printf("peer (plain SELECT ... WHERE lat BETWEEN .. AND lon BETWEEN .., no R*Tree): %d queries: "
               "p50 %.3f ms, p99 %.3f ms  (%s)\n",
               BENCH_PEER_QUERIES, pl[BENCH_PEER_QUERIES / 2], pl[BENCH_PEER_QUERIES - 1],
               mismatch ? "RESULTS DIFFER" : "same results");
        printf("ratio: the R*Tree query is %.0fx faster at p50\n", pl[BENCH_PEER_QUERIES / 2] / p50);
        sqlite3_finalize(q);
        sqlite3_close(db);
        free(pl);
        if (mismatch)
          goto done;
      }
    }
  }
  status = 0;
  if (getenv("VIGIA_PG_URI") && *getenv("VIGIA_PG_URI"))
    status = pg_part(getenv("VIGIA_PG_URI"), o);
  else
    printf("PostgreSQL: set VIGIA_PG_URI (eval \"$(bash scripts/pg.sh start)\") for its figures beside these\n");
done:
  vg_register_close(r);
  if (r)
    rm_db(path);
  free(o);
  free(lat_ms);
  free(box);
  return status;
}
