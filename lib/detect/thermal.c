/*
 * Contextual hot-spot test for radiometric LWIR frames (deg C), after MODIS
 * MOD14 (Giglio et al. 2003, RSE 87:273-282; research/detection.md 4.3,
 * "drone LWIR adaptation"). A drone camera has one thermal band, so of the
 * MOD14 tests only the absolute one and contextual test (3) survive:
 *
 *   hot  <=>  T > t_abs                                          (absolute)
 *         or  T is a candidate and T - mean_bg > max(k * d_bg, dt_min)
 *             with d_bg = max(mean absolute deviation of the background, mad_floor)
 *
 * Background: the non-candidate finite pixels of a window centred on the
 * pixel, grown from win_min to win_max (odd widths, step 2) until it holds at
 * least min_valid of them and at least valid_frac of the window's pixels that
 * lie inside the frame (MOD14: 3x3 to 21x21, 25 % and 8 pixels; pixels beyond
 * the frame's edge are neither valid nor counted, so a border pixel grows its
 * window like any other). A candidate without such a window is hot only by
 * the absolute test (MOD14 calls it unclassified).
 *
 * Candidates (tested, and left out of every background, like MOD14's
 * background fires):  T > t_abs  or  T > ref + candidate_dt,  where ref is a
 * LOCAL level: the mean of the finite pixels at or below t_abs in the 3x3
 * blocks around the pixel's block, blocks of b = (win_max + 2) / 3 pixels, so
 * the reference spans about the largest window (21 px by default). Not the
 * frame median: on the FLAME 3 frames 16-31 % of 21x21 windows have a local
 * median more than 2 K below the frame median (cold sky in Sycan, cooler
 * ground in Willamette), so a warm spot of 2-5 K there would never be tested.
 *
 * Speed (target >= 200 frames of 640x512 per second per core; bench/
 * bench_thermal.c measures about 300 against 60-75 for the same test written
 * directly): O(N) passes and O(1) work per candidate, no per-pixel window loops.
 *  1. Block sums of the reference level (one pass over the frame).
 *  2. Pixel states in the caller's mask (background, candidate, invalid;
 *     turned into 0/1 at the end) and summed-area tables of the background:
 *     count (int32, apart, for the window growth), sum and sum of squares of
 *     T - off (double; off = the frame's mean level keeps the squares small,
 *     the corner differences exact to ~1e-10 K). Rows are made hmax + 1 rows
 *     ahead of the candidates' row into a ring of win_max + 1 table rows
 *     (all a window reaches: 280 KB for 640 columns), which stays in cache.
 *  3. Each candidate: window growth by four count look-ups per size; mean
 *     from the sums. The decision needs the mean absolute deviation, which a
 *     summed-area table cannot give; it is bounded instead by the standard
 *     deviation s from the sums of squares (MAD <= s, Jensen), so
 *       d = T - mean <= max(dt_min, k * mad_floor)      -> not hot (exact),
 *       d >  max(dt_min, k * max(s, mad_floor))         -> hot (exact),
 *     and only the candidates in between (about 1 in 5 on FLAME 3 frames)
 *     have their MAD summed over the window. The result is MOD14's mean
 *     absolute deviation, not a Gaussian approximation of it (MAD ~ 0.8 s
 *     would misjudge heavy-tailed or two-valued backgrounds, common in
 *     quantised radiometric frames); s carries a margin of 1e-6 relative
 *     and 1e-6 K so that rounding never turns the bound into a decision.
 *     With @p score, every candidate with a background has its MAD summed
 *     (about half the speed).
 *
 * The score is (T - mean_bg) / d_bg for candidates with a background; for an
 * absolute pixel without one (deep inside a fire) it is (T - ref) / mad_floor
 * (ref = t_abs when its blocks hold nothing below t_abs); 0 elsewhere.
 *
 * NAN (any non-finite value) is invalid: never hot, never background.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/detect.h"

/*
 * Largest frame (pixels): 32 Mi = 8192 x 4096, 40 times any radiometric LWIR
 * core (FLIR Boson+/Tau 2 640x512, DJI H20T/M30T 640x512; cooled cores
 * 1280x1024). The background counts are int32 running sums over the frame,
 * so 2^31 would be the hard ceiling. Mosaics beyond this are to be tiled.
 */
#define TH_MAX_PIXELS ((size_t)1 << 25)
/*
 * Widest window: 63 px, three times MOD14's 21x21. A candidate whose MAD
 * must be summed reads up to 63^2 pixels.
 */
#define TH_WIN_LIMIT 63
/* Margin of the deviation bound (relative and in K): see pass 3 above. */
#define TH_SD_REL 1e-6
#define TH_SD_ABS 1e-6

/* Pixel states, kept in the caller's mask until the last pass. */
enum { ST_BG = 0, ST_CAND = 1, ST_INVALID = 2, ST_HOT = 0x80 };

/* Sums of the summed-area table (the count lives in its own table). */
typedef struct th_sums {
  double s, s2;
} th_sums;

void vg_thermal_opts_default(vg_thermal_opts *o)
{
  o->version = VG_THERMAL_OPTS_VERSION;
  /* FLAME 3 fire labels are a threshold: measured 99.3-104.2 C on the four Willamette frames */
  o->t_abs_c = 100.0;
  /*
   * dt_min - 0.5 K: a window's background mean sits up to ~0.5 K below the
   * reference level (candidates are taken out of it), so a pixel that can
   * pass dt_min is still a candidate. On the implanted FLAME 3 spots, 1.0
   * finds no more spots and makes 50 % more false alarms; 2.0 loses 2-3 K spots.
   */
  o->candidate_dt = 1.5;
  /* MOD14 contextual test (3): T4 > mean + 3 delta */
  o->k = 3.0;
  /* at least this contrast: the Willamette frames step by 0.71 K, so 2 K is three steps */
  o->dt_min = 2.0;
  /* MAD of a uniform background is 0: without a floor one quantisation step would do */
  o->mad_floor = 0.5;
  /* MOD14 window growth, 25 % and 8 valid pixels */
  o->win_min = 3;
  o->win_max = 21;
  o->valid_frac = 0.25;
  o->min_valid = 8;
}

static int check_opts(const vg_thermal_opts *o)
{
  if (o->version != VG_THERMAL_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "thermal options version %d (this library knows %d)",
                        o->version, VG_THERMAL_OPTS_VERSION);
  if (o->win_min < 3 || o->win_max < o->win_min || o->win_max > TH_WIN_LIMIT || !(o->win_min & 1) ||
      !(o->win_max & 1))
    return vg_error_set(VG_E_INVALID, "thermal windows %d..%d: odd widths 3..%d, min <= max",
                        o->win_min, o->win_max, TH_WIN_LIMIT);
  if (isnan(o->t_abs_c) || !isfinite(o->candidate_dt) || !(o->k >= 0) || !isfinite(o->k) ||
      !(o->dt_min >= 0) || !isfinite(o->dt_min) || !(o->mad_floor > 0) || !isfinite(o->mad_floor))
    return vg_error_set(VG_E_INVALID,
                        "thermal thresholds: t_abs %g, candidate_dt %g, k %g, dt_min %g, mad_floor %g "
                        "(need k, dt_min >= 0, mad_floor > 0, all finite but t_abs)",
                        o->t_abs_c, o->candidate_dt, o->k, o->dt_min, o->mad_floor);
  if (!(o->valid_frac >= 0 && o->valid_frac <= 1) || o->min_valid < 1)
    return vg_error_set(VG_E_INVALID, "thermal background: valid_frac %g (0..1), min_valid %d (>= 1)",
                        o->valid_frac, o->min_valid);
  return VG_OK;
}

/* Mean absolute deviation about @p mean of the background pixels of a window. */
static double window_mad(const float *t, const uint8_t *st, int cols, int r0, int r1, int c0, int c1,
                         double mean, int n)
{
  double acc = 0;
  for (int r = r0; r < r1; r++) {
    const float *tr = t + (size_t)r * (size_t)cols;
    const uint8_t *sr = st + (size_t)r * (size_t)cols;
    for (int c = c0; c < c1; c++) /* branch-free (NaN is never ST_BG) */
      acc += sr[c] == ST_BG ? fabs((double)tr[c] - mean) : 0.0;
  }
  return acc / n;
}

/*
 * States of pixel row @p r (into @p st) and table row r + 1 of the background
 * (count @p kdn, sums @p sdn) from table row r (@p kup, @p sup).
 */
static void table_row(const float *t, uint8_t *st, int cols, int r, const double *refr, int bs, int gc,
                      double cand_dt, double tabs, double off, const int32_t *kup, int32_t *kdn,
                      const th_sums *sup, th_sums *sdn)
{
  const float *tr = t + (size_t)r * (size_t)cols;
  uint8_t *sr = st + (size_t)r * (size_t)cols;
  double rs = 0, rs2 = 0;
  int32_t rn = 0;
  kdn[0] = 0;
  sdn[0].s = sdn[0].s2 = 0;
  for (int bj = 0; bj < gc; bj++) {
    int c1 = (bj + 1) * bs < cols ? (bj + 1) * bs : cols;
    double thr = refr[bj] + cand_dt; /* NAN when the blocks hold only hot pixels: then so is this one */
    for (int c = bj * bs; c < c1; c++) { /* branch-free: candidates fall at random */
      float v = tr[c];
      int fin = isfinite(v), bg = fin && !(v > tabs) && !((double)v > thr);
      double d = bg ? (double)v - off : 0.0;
      sr[c] = (uint8_t)(bg ? ST_BG : fin ? ST_CAND : ST_INVALID);
      rs += d;
      rs2 += d * d;
      rn += bg;
      kdn[c + 1] = kup[c + 1] + rn;
      sdn[c + 1].s = sup[c + 1].s + rs;
      sdn[c + 1].s2 = sup[c + 1].s2 + rs2;
    }
  }
}

int vg_thermal_detect(const float *t, int rows, int cols, const vg_thermal_opts *o, uint8_t *mask,
                      float *score)
{
  vg_thermal_opts def;
  int rc = VG_OK;
  size_t npx, W, nb, nslot;
  int bs, gr, gc;
  double *bsum = NULL, *ref = NULL, off = 0, tabs;
  int32_t *bcnt = NULL, *cnt = NULL;
  th_sums *sum = NULL;

  if (!o) {
    vg_thermal_opts_default(&def);
    o = &def;
  }
  if (!t || !mask || rows <= 0 || cols <= 0)
    return vg_error_set(VG_E_INVALID, "thermal frame %d x %d (data %p, mask %p)", rows, cols,
                        (const void *)t, (void *)mask);
  if ((size_t)rows * (size_t)cols > TH_MAX_PIXELS)
    return vg_error_set(VG_E_LIMIT, "thermal frame %d x %d is over %zu pixels", rows, cols,
                        (size_t)TH_MAX_PIXELS);
  if ((rc = check_opts(o)) != VG_OK)
    return rc;
  npx = (size_t)rows * (size_t)cols;
  W = (size_t)cols + 1;
  tabs = o->t_abs_c;

  /* ---- 1. reference level: block sums of the finite pixels at or below t_abs ---- */
  bs = (o->win_max + 2) / 3;
  gr = (rows + bs - 1) / bs;
  gc = (cols + bs - 1) / bs;
  nb = (size_t)gr * (size_t)gc;
  bsum = calloc(nb, sizeof *bsum);
  bcnt = calloc(nb, sizeof *bcnt);
  ref = malloc(nb * sizeof *ref);
  nslot = (size_t)o->win_max + 1;
  cnt = malloc(nslot * W * sizeof *cnt);
  sum = malloc(nslot * W * sizeof *sum);
  if (!bsum || !bcnt || !ref || !cnt || !sum) {
    rc = vg_error_set(VG_E_NOMEM, "thermal tables of a %d x %d frame", rows, cols);
    goto done;
  }
  {
    double all = 0;
    long long nall = 0;
    for (int r = 0; r < rows; r++) {
      const float *tr = t + (size_t)r * (size_t)cols;
      double *bsr = bsum + (size_t)(r / bs) * (size_t)gc;
      int32_t *bcr = bcnt + (size_t)(r / bs) * (size_t)gc;
      for (int bj = 0; bj < gc; bj++) {
        int c1 = (bj + 1) * bs < cols ? (bj + 1) * bs : cols;
        double s = 0;
        int32_t n = 0;
        for (int c = bj * bs; c < c1; c++) {
          float v = tr[c];
          if (isfinite(v) && v <= tabs) { /* a NaN t_abs was refused; +inf keeps every finite value */
            s += v;
            n++;
          }
        }
        bsr[bj] += s;
        bcr[bj] += n;
      }
    }
    for (int bi = 0; bi < gr; bi++)
      for (int bj = 0; bj < gc; bj++) {
        double s = 0;
        long long n = 0;
        for (int i = bi - 1; i <= bi + 1; i++)
          for (int j = bj - 1; j <= bj + 1; j++)
            if (i >= 0 && i < gr && j >= 0 && j < gc) {
              s += bsum[(size_t)i * (size_t)gc + (size_t)j];
              n += bcnt[(size_t)i * (size_t)gc + (size_t)j];
            }
        ref[(size_t)bi * (size_t)gc + (size_t)bj] = n ? s / (double)n : NAN;
        all += bsum[(size_t)bi * (size_t)gc + (size_t)bj];
        nall += bcnt[(size_t)bi * (size_t)gc + (size_t)bj];
      }
    off = nall ? all / (double)nall : 0;
  }

  /*
   * ---- 2 and 3, row by row: states and summed-area rows of the background are
   * computed hmax + 1 rows ahead of the candidates being decided, into a ring
   * of win_max + 1 table rows (all a window reaches), which stays in cache.
   */
  memset(cnt, 0, W * sizeof *cnt);
  memset(sum, 0, W * sizeof *sum);
  {
    const int hmax = o->win_max / 2;
    const double kk = o->k, dtm = o->dt_min, fl = o->mad_floor;
    const double no_hot = dtm > kk * fl ? dtm : kk * fl; /* d at or below: never hot */
    int done_rows = 0; /* table rows 0..done_rows made; the ring keeps the last win_max + 1 */
    for (int r = 0; r < rows; r++) {
      uint8_t *sr = mask + (size_t)r * (size_t)cols;
      const float *tr = t + (size_t)r * (size_t)cols;
      int need = r + hmax + 1 < rows ? r + hmax + 1 : rows;
      /* the table rows of each half-width h: top r0 = r - h, bottom r1 = r + h + 1 (clipped) */
      int rt[TH_WIN_LIMIT / 2 + 1], rb[TH_WIN_LIMIT / 2 + 1];
      const int32_t *kt[TH_WIN_LIMIT / 2 + 1], *kb[TH_WIN_LIMIT / 2 + 1];
      const th_sums *sumt[TH_WIN_LIMIT / 2 + 1], *sumb[TH_WIN_LIMIT / 2 + 1];
      for (; done_rows < need; done_rows++)
        table_row(t, mask, cols, done_rows, ref + (size_t)(done_rows / bs) * (size_t)gc, bs, gc,
                  o->candidate_dt, tabs, off, cnt + (size_t)(done_rows % nslot) * W,
                  cnt + (size_t)((done_rows + 1) % nslot) * W, sum + (size_t)(done_rows % nslot) * W,
                  sum + (size_t)((done_rows + 1) % nslot) * W);
      for (int h = o->win_min / 2; h <= hmax; h++) {
        rt[h] = r - h > 0 ? r - h : 0;
        rb[h] = r + h + 1 < rows ? r + h + 1 : rows;
        kt[h] = cnt + (size_t)rt[h] % nslot * W;
        kb[h] = cnt + (size_t)rb[h] % nslot * W;
        sumt[h] = sum + (size_t)rt[h] % nslot * W;
        sumb[h] = sum + (size_t)rb[h] % nslot * W;
      }
      for (int c = 0; c < cols; c++) {
        int h = 0, c0 = 0, c1 = 0, n = 0, found = 0, absolute, hot;
        double v, mean, m1, var, sd, d, dev;
        if (sr[c] != ST_CAND)
          continue;
        v = tr[c];
        absolute = v > tabs;
        if (absolute && !score) {
          sr[c] = ST_CAND | ST_HOT;
          continue;
        }
        for (h = o->win_min / 2; h <= hmax; h++) {
          long area;
          c0 = c - h > 0 ? c - h : 0;
          c1 = c + h + 1 < cols ? c + h + 1 : cols;
          n = kb[h][c1] - kt[h][c1] - kb[h][c0] + kt[h][c0];
          area = (long)(rb[h] - rt[h]) * (long)(c1 - c0);
          if (n >= o->min_valid && (double)n >= o->valid_frac * (double)area) {
            found = 1;
            break;
          }
        }
        if (!found) {
          if (absolute) {
            double base = ref[(size_t)(r / bs) * (size_t)gc + (size_t)(c / bs)];
            sr[c] = ST_CAND | ST_HOT;
            score[(size_t)r * (size_t)cols + (size_t)c] =
                (float)((v - (isfinite(base) ? base : tabs)) / fl);
          } else if (score) {
            score[(size_t)r * (size_t)cols + (size_t)c] = 0.0f;
          }
          continue;
        }
        {
          const th_sums *s0 = sumt[h], *s1 = sumb[h];
          m1 = (s1[c1].s - s0[c1].s - s1[c0].s + s0[c0].s) / n;
          mean = off + m1;
          d = v - mean;
          if (!score) {
            if (d <= no_hot)
              continue; /* stays ST_CAND: not hot */
            var = (s1[c1].s2 - s0[c1].s2 - s1[c0].s2 + s0[c0].s2) / n - m1 * m1;
            sd = sqrt(var > 0 ? var : 0) * (1 + TH_SD_REL) + TH_SD_ABS;
            if (d > kk * (sd > fl ? sd : fl)) {
              sr[c] = ST_CAND | ST_HOT;
              continue;
            }
          }
        }
        dev = window_mad(t, mask, cols, rt[h], rb[h], c0, c1, mean, n);
        if (dev < fl)
          dev = fl;
        hot = absolute || d > (kk * dev > dtm ? kk * dev : dtm);
        if (hot)
          sr[c] = ST_CAND | ST_HOT;
        if (score)
          score[(size_t)r * (size_t)cols + (size_t)c] = (float)(d / dev);
      }
    }
  }

  /* ---- 4. states to the mask (and zero scores off the candidates) ---- */
  for (size_t i = 0; i < npx; i++) {
    if (score && mask[i] != ST_CAND && !(mask[i] & ST_HOT))
      score[i] = 0.0f;
    mask[i] = (uint8_t)(mask[i] >> 7);
  }

done:
  free(bsum);
  free(bcnt);
  free(ref);
  free(cnt);
  free(sum);
  return rc;
}
