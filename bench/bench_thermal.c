/*
 * bench_thermal: how many radiometric LWIR frames per second per core the
 * contextual hot-spot test takes (vg_thermal_detect, lib/detect/thermal.c),
 * against a straightforward implementation of the same test timed in the
 * same run (DESIGN.md convention 11).
 *
 *   usage: bench_thermal [REPS]   passes over the frames per timed run
 *                                 (default BENCH_REPS)
 *
 * Inputs (from VIGIA_DATA, else the VG_DATA_DIR the build was configured with):
 *   thermal/{sycan_00006..8, wilamette_00001..4}.tiff: FLAME 3 frames,
 *   640 x 512 float32 deg C (data/thermal/SOURCES.md), read with GDAL's C API.
 *
 * Passes, default options (vg_thermal_opts_default), one thread:
 *   vigia       vg_thermal_detect, mask only (score NULL), REPS x 7 frames
 *   vigia+score the same with the score map (every candidate's MAD summed)
 *   naive       peer: the same test written directly, without summed-area
 *               tables or deviation bounds: the reference level of each block
 *               summed over its 3x3 blocks, each candidate's window grown by
 *               counting its pixels, its mean and mean absolute deviation
 *               summed over them; 1 x 7 frames per run
 * Each timed best of BENCH_RUNS, on the thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID: "per core", unmoved by other processes on a
 * shared machine) and on the wall clock (CLOCK_MONOTONIC) beside it.
 *
 * Check (untimed): the naive masks must equal vg_thermal_detect's on every
 * frame, else the bench fails (exit 1).
 *
 * Target: >= 200 frames of 640 x 512 per second per core, mask only.
 * Exit status: 0 (whatever the speed), 1 on a mismatch or error, 77 when the
 * frames are absent.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gdal.h>

#include "vigia/detect.h"

#ifndef VG_BENCH_DATA_DIR
#define VG_BENCH_DATA_DIR "../shared/data"
#endif

/* Runs per measurement; the best one is reported. */
#define BENCH_RUNS 3
/* Passes over the seven frames per timed run of vg_thermal_detect (7 x 40 = 280 frames). */
#define BENCH_REPS 40
#define BENCH_MAX_REPS 100000
/* Exit status that tells a test runner "skipped". */
#define EXIT_SKIP 77
/* Target: frames per second per core. */
#define TARGET_FPS 200.0

#define FR 512
#define FC 640
#define NF 7
#define NPX ((size_t)FR * FC)

static const char *const frames[NF] = {"sycan_00006",     "sycan_00007",     "sycan_00008",
                                       "wilamette_00001", "wilamette_00002", "wilamette_00003",
                                       "wilamette_00004"};

static double clock_s(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the peer: the test written out directly ---- */

static void naive_detect(const float *t, int rows, int cols, const vg_thermal_opts *o, uint8_t *cand,
                         double *lvl, uint8_t *mask)
{
  const int bs = (o->win_max + 2) / 3, gr = (rows + bs - 1) / bs, gc = (cols + bs - 1) / bs;
  /* the reference level of each block: finite pixels <= t_abs of the 3x3 blocks around it */
  for (int bi = 0; bi < gr; bi++)
    for (int bj = 0; bj < gc; bj++) {
      double s = 0;
      long n = 0;
      for (int y = (bi - 1) * bs; y < (bi + 2) * bs; y++)
        for (int x = (bj - 1) * bs; x < (bj + 2) * bs; x++)
          if (y >= 0 && y < rows && x >= 0 && x < cols && isfinite(t[y * cols + x]) &&
              t[y * cols + x] <= o->t_abs_c) {
            s += t[y * cols + x];
            n++;
          }
      lvl[bi * gc + bj] = n ? s / (double)n : NAN;
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      float v = t[r * cols + c];
      cand[r * cols + c] = isfinite(v) && (v > o->t_abs_c || v > lvl[(r / bs) * gc + c / bs] + o->candidate_dt);
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      double v = t[r * cols + c];
      int found = 0;
      mask[r * cols + c] = 0;
      if (!cand[r * cols + c])
        continue;
      if (v > o->t_abs_c) {
        mask[r * cols + c] = 1;
        continue;
      }
      for (int w = o->win_min; w <= o->win_max && !found; w += 2) {
        int h = w / 2, y0 = r - h < 0 ? 0 : r - h, y1 = r + h + 1 > rows ? rows : r + h + 1,
            x0 = c - h < 0 ? 0 : c - h, x1 = c + h + 1 > cols ? cols : c + h + 1;
        long n = 0;
        double s = 0, mad = 0, mean;
        for (int y = y0; y < y1; y++)
          for (int x = x0; x < x1; x++)
            if (isfinite(t[y * cols + x]) && !cand[y * cols + x]) {
              s += t[y * cols + x];
              n++;
            }
        if (n < o->min_valid || (double)n < o->valid_frac * (double)((y1 - y0) * (x1 - x0)))
          continue;
        found = 1;
        mean = s / (double)n;
        for (int y = y0; y < y1; y++)
          for (int x = x0; x < x1; x++)
            if (isfinite(t[y * cols + x]) && !cand[y * cols + x])
              mad += fabs(t[y * cols + x] - mean);
        mad /= (double)n;
        if (mad < o->mad_floor)
          mad = o->mad_floor;
        mask[r * cols + c] = v - mean > fmax(o->k * mad, o->dt_min);
      }
    }
}

/* ---- timing ---- */

typedef struct timing {
  double cpu_s, wall_s; /* best run */
  size_t frames;        /* per run */
  int ok;
} timing;

enum { PASS_VIGIA, PASS_SCORE, PASS_NAIVE };

typedef struct work {
  const float *t;        /* NF frames */
  uint8_t *mask;         /* NF masks of the last pass */
  float *score;          /* one frame */
  uint8_t *cand;         /* naive scratch */
  double *lvl;
  const vg_thermal_opts *o;
} work;

static timing run(work *w, int pass, int reps)
{
  timing tm = {1e30, 1e30, (size_t)reps * NF, 1};
  for (int run_i = 0; run_i < BENCH_RUNS; run_i++) {
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), c1, w1;
    for (int rep = 0; rep < reps; rep++)
      for (int f = 0; f < NF; f++) {
        const float *t = w->t + (size_t)f * NPX;
        uint8_t *m = w->mask + (size_t)f * NPX;
        if (pass == PASS_NAIVE)
          naive_detect(t, FR, FC, w->o, w->cand, w->lvl, m);
        else if (vg_thermal_detect(t, FR, FC, w->o, m, pass == PASS_SCORE ? w->score : NULL) != VG_OK)
          tm.ok = 0;
      }
    c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    w1 = clock_s(CLOCK_MONOTONIC);
    if (c1 - c0 < tm.cpu_s)
      tm.cpu_s = c1 - c0;
    if (w1 - w0 < tm.wall_s)
      tm.wall_s = w1 - w0;
  }
  return tm;
}

static void row(const char *what, timing tm, const timing *peer)
{
  double fps = (double)tm.frames / tm.cpu_s, fpw = (double)tm.frames / tm.wall_s;
  char ratio[32];
  if (peer)
    snprintf(ratio, sizeof ratio, "%.1f", fps / ((double)peer->frames / peer->cpu_s));
  else
    snprintf(ratio, sizeof ratio, "-");
  printf("  %-12s %7zu %10.2f %10.1f %10.1f %8s\n", what, tm.frames, 1e3 * tm.cpu_s / (double)tm.frames,
         fps, fpw, ratio);
}

int main(int argc, char **argv)
{
  const char *dir = getenv("VIGIA_DATA");
  vg_thermal_opts o;
  float *t = NULL;
  uint8_t *mask = NULL, *naive = NULL;
  work w = {0};
  timing tv, ts, tn;
  int reps = BENCH_REPS, rc = 1;
  size_t hot = 0, cand = 0;

  if (argc > 1) {
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end || v < 1 || v > BENCH_MAX_REPS) {
      fprintf(stderr, "usage: bench_thermal [REPS (1..%d)]\n", BENCH_MAX_REPS);
      return 1;
    }
    reps = (int)v;
  }
  if (!dir || !*dir)
    dir = VG_BENCH_DATA_DIR;
  vg_thermal_opts_default(&o);
  GDALAllRegister();
  t = malloc(NF * NPX * sizeof *t);
  mask = malloc(NF * NPX);
  naive = malloc(NF * NPX);
  w.score = malloc(NPX * sizeof *w.score);
  w.cand = malloc(NPX);
  w.lvl = malloc(NPX * sizeof *w.lvl);
  if (!t || !mask || !naive || !w.score || !w.cand || !w.lvl) {
    fprintf(stderr, "bench_thermal: out of memory\n");
    goto done;
  }
  for (int f = 0; f < NF; f++) {
    char path[4096];
    GDALDatasetH ds;
    CPLErr e;
    snprintf(path, sizeof path, "%s/thermal/%s.tiff", dir, frames[f]);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    ds = GDALOpen(path, GA_ReadOnly);
    CPLPopErrorHandler();
    if (!ds) {
      printf("bench_thermal: DATA ABSENT: cannot open %s (set VIGIA_DATA to the shared/data folder)\n",
             path);
      rc = EXIT_SKIP;
      goto done;
    }
    if (GDALGetRasterXSize(ds) != FC || GDALGetRasterYSize(ds) != FR) {
      fprintf(stderr, "bench_thermal: %s is not %d x %d\n", path, FC, FR);
      GDALClose(ds);
      goto done;
    }
    e = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, FC, FR, t + (size_t)f * NPX, FC, FR,
                     GDT_Float32, 0, 0);
    GDALClose(ds);
    if (e != CE_None) {
      fprintf(stderr, "bench_thermal: cannot read %s\n", path);
      goto done;
    }
  }
  w.t = t;
  w.o = &o;

  /* the check, untimed */
  w.mask = mask;
  for (int f = 0; f < NF; f++) {
    if (vg_thermal_detect(t + (size_t)f * NPX, FR, FC, &o, mask + (size_t)f * NPX, NULL) != VG_OK) {
      fprintf(stderr, "bench_thermal: %s: %s\n", frames[f], vg_error_last());
      goto done;
    }
    naive_detect(t + (size_t)f * NPX, FR, FC, &o, w.cand, w.lvl, naive + (size_t)f * NPX);
    for (size_t i = 0; i < NPX; i++)
      cand += w.cand[i];
    if (memcmp(mask + (size_t)f * NPX, naive + (size_t)f * NPX, NPX) != 0) {
      size_t d = 0;
      for (size_t i = 0; i < NPX; i++)
        d += mask[(size_t)f * NPX + i] != naive[(size_t)f * NPX + i];
      fprintf(stderr, "bench_thermal: %s: the masks differ on %zu pixels\n", frames[f], d);
      goto done;
    }
    for (size_t i = 0; i < NPX; i++)
      hot += mask[(size_t)f * NPX + i];
  }

  printf("bench_thermal: vigia %s, GDAL %s; one thread, best of %d runs\n", vg_version(),
         GDALVersionInfo("RELEASE_NAME"), BENCH_RUNS);
  printf("  %d FLAME 3 frames of %d x %d deg C from %s/thermal; default options: t_abs %.0f C, "
         "candidates > ref + %.1f K, k %.1f, dt_min %.1f K, mad_floor %.1f K, windows %d..%d, "
         "%.0f %% and %d valid\n",
         NF, FC, FR, dir, o.t_abs_c, o.candidate_dt, o.k, o.dt_min, o.mad_floor, o.win_min, o.win_max,
         100 * o.valid_frac, o.min_valid);
  printf("  per frame: %.0f candidates, %.0f hot pixels; naive masks identical on all %d frames\n",
         (double)cand / NF, (double)hot / NF, NF);

  tv = run(&w, PASS_VIGIA, reps);
  ts = run(&w, PASS_SCORE, reps);
  w.mask = naive;
  tn = run(&w, PASS_NAIVE, 1);
  if (!tv.ok || !ts.ok) {
    fprintf(stderr, "bench_thermal: vg_thermal_detect failed: %s\n", vg_error_last());
    goto done;
  }
  if (memcmp(mask, naive, NF * NPX) != 0) {
    fprintf(stderr, "bench_thermal: the timed masks differ\n");
    goto done;
  }
  printf("\n  %-12s %7s %10s %10s %10s %8s\n", "pass", "frames", "ms/frame", "fps/core", "fps wall",
         "x naive");
  row("vigia", tv, &tn);
  row("vigia+score", ts, &tn);
  row("naive", tn, NULL);
  printf("\n  target >= %.0f frames/s per core (mask only): %.1f  %s\n", TARGET_FPS,
         (double)tv.frames / tv.cpu_s, (double)tv.frames / tv.cpu_s >= TARGET_FPS ? "MET" : "BELOW");
  rc = 0;

done:
  free(t);
  free(mask);
  free(naive);
  free(w.score);
  free(w.cand);
  free(w.lvl);
  return rc;
}
