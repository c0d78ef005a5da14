/*
 * The pose time line (vg_fmv_timeline): KLV records whose packets are encoded
 * here with vigia's encoder and decoded back, placed by PTS, by precision time
 * stamp (estimated or given offset) or by multiplex position, then queried at
 * frame times: interpolation, wrap-aware angles, holds, age limits, holes,
 * items that ST 0601 leaves out, stream choice, covers() and trim().
 */
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "vigia/fmv.h"
#include "vigia/klv.h"

/* Which items a test packet carries. */
enum { H_TIME = 1, H_HEAD = 2, H_POS = 4, H_RELAZ = 8, H_FC = 16 };

typedef struct pk {
  unsigned has;
  uint64_t time;                    /* tag 2 */
  double head;                      /* tag 5 */
  double lat, lon;                  /* tags 13, 14 */
  double relaz;                     /* tag 18 */
  double fclat, fclon;              /* tags 23, 24 */
} pk;

#define T0 ((uint64_t)1700000000000000ull)
#define KPID 0x101

/* Resolution of the mapped items (ST 0601 tables): tolerances of the checks. */
#define TOL_LAT 1e-7   /* 4-byte SMAP over 180 deg */
#define TOL_LON 2e-7   /* 4-byte SMAP over 360 deg */
#define TOL_HEAD 6e-3  /* 2-byte UMAP over 360 deg */
#define TOL_AZ 2e-7    /* 4-byte UMAP over 360 deg */

static void encode_pk(vg_buf *b, const pk *p)
{
  vg_klv_item it[10];
  vg_klv_packet pkt;
  size_t n = 0;
  if (p->has & H_TIME)
    it[n++] = vg_klv_item_time(2, p->time);
  if (p->has & H_HEAD)
    it[n++] = vg_klv_item_real(5, p->head);
  if (p->has & H_POS) {
    it[n++] = vg_klv_item_real(13, p->lat);
    it[n++] = vg_klv_item_real(14, p->lon);
  }
  if (p->has & H_RELAZ)
    it[n++] = vg_klv_item_real(18, p->relaz);
  if (p->has & H_FC) {
    it[n++] = vg_klv_item_real(23, p->fclat);
    it[n++] = vg_klv_item_real(24, p->fclon);
  }
  it[n++] = vg_klv_item_uint(65, 17);
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_ST0601;
  pkt.set.kind = VG_KLV_KIND_ST0601;
  pkt.set.items = it;
  pkt.set.n = n;
  assert_int_equal(vg_klv_encode(b, &pkt), VG_OK);
}

/* Adds the packet described by @p p as a demultiplexer record would carry it. */
static void tl_add(vg_fmv_timeline *t, uint16_t pid, int64_t pts, int64_t mux, uint64_t seq, const pk *p)
{
  vg_buf b;
  vg_klv_decoder *d;
  const vg_klv_packet *dp;
  size_t used;
  vg_fmv_klv k;
  vg_buf_init(&b, 1 << 16);
  encode_pk(&b, p);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &dp, b.data, b.len, &used), VG_OK);
  assert_int_equal(used, b.len);
  assert_int_equal(dp->cksum, VG_KLV_CK_VALID);
  memset(&k, 0, sizeof k);
  k.pkt = dp;
  k.pid = pid;
  k.carriage = pts != VG_FMV_NOPTS ? VG_FMV_CARRIAGE_SYNC : VG_FMV_CARRIAGE_ASYNC;
  k.pts = pts;
  k.mux_pts = mux;
  k.seq = seq;
  assert_int_equal(vg_fmv_timeline_add(t, &k), VG_OK);
  vg_klv_decoder_free(d);
  vg_buf_free(&b);
}

static vg_fmv_timeline *tl_new(int pid, double max_age, int have_offset, int64_t offset)
{
  vg_fmv_timeline *t;
  vg_fmv_timeline_opts o = VG_FMV_TIMELINE_OPTS_INIT;
  o.pid = pid;
  o.max_age_s = max_age;
  o.have_offset = have_offset;
  o.offset_us = offset;
  assert_int_equal(vg_fmv_timeline_new(&t, &o), VG_OK);
  return t;
}

static vg_fmv_frame_meta at(vg_fmv_timeline *t, int64_t pts)
{
  vg_fmv_frame_meta m;
  memset(&m, 0x5A, sizeof m); /* everything must be written */
  assert_int_equal(vg_fmv_timeline_at(t, pts, &m), VG_OK);
  return m;
}

static pk full(uint64_t time, double head, double lat, double lon, double relaz)
{
  pk p;
  memset(&p, 0, sizeof p);
  p.has = H_TIME | H_HEAD | H_POS | H_RELAZ | H_FC;
  p.time = time;
  p.head = head;
  p.lat = lat;
  p.lon = lon;
  p.relaz = relaz;
  p.fclat = lat + 0.01;
  p.fclon = lon + 0.01;
  return p;
}

static int has(const vg_fmv_frame_meta *m, vg_klv_pose_field f) { return vg_klv_pose_has(&m->pose, f); }

/* Distance on the circle, in degrees. */
static double circ(double a, double b)
{
  double d = fmod(fabs(a - b), 360.0);
  return d > 180.0 ? 360.0 - d : d;
}

#define NEAR(x, y, tol) assert_true(fabs((double)(x) - (double)(y)) <= (tol))

/* ---- PTS mode --------------------------------------------------------------------- */

static void pts_interpolation(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 100, 10.0, 20.0, 30), p1 = full(T0 + 100000, 110, 10.1, 20.2, 40),
     p2 = full(T0 + 200000, 120, 10.2, 20.4, 50);
  int64_t off;
  int est;
  size_t np;
  (void)st;
  /* nothing yet */
  m = at(t, 900000);
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  assert_int_equal(vg_fmv_timeline_info(t, NULL, NULL, &np), -1);
  assert_int_equal(np, 0);
  tl_add(t, KPID, 900000, VG_FMV_NOPTS, 0, &p0);
  tl_add(t, KPID, 909000, VG_FMV_NOPTS, 1, &p1);
  tl_add(t, KPID, 918000, VG_FMV_NOPTS, 2, &p2);
  /* half-way */
  m = at(t, 904500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.pid, KPID);
  NEAR(m.weight, 0.5, 1e-12);
  NEAR(m.age_s, 0.05, 1e-12);
  NEAR(m.gap_s, 0.1, 1e-12);
  assert_int_equal(m.seq0, 0);
  assert_int_equal(m.seq1, 1);
  assert_int_equal(m.offset_us, 0);
  assert_int_equal(m.offset_estimated, 0);
  assert_true(has(&m, VG_POSE_SENSOR_LAT) && has(&m, VG_POSE_PLATFORM_HEADING) && has(&m, VG_POSE_TIME) &&
              has(&m, VG_POSE_SENSOR_REL_AZ) && has(&m, VG_POSE_FRAME_CENTER_LON));
  NEAR(m.pose.sensor_lat, 10.05, TOL_LAT);
  NEAR(m.pose.sensor_lon, 20.1, TOL_LON);
  NEAR(m.pose.platform_heading, 105, TOL_HEAD);
  NEAR(m.pose.sensor_rel_az, 35, TOL_AZ);
  NEAR(m.pose.frame_center_lat, 10.06, TOL_LAT);
  NEAR(m.pose.frame_center_lon, 20.11, TOL_LON);
  assert_int_equal(m.pose.time_us, T0 + 50000);
  assert_int_equal(m.pose.ls_version, 17);
  /* a sixth of the way */
  m = at(t, 901500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  NEAR(m.weight, 1.0 / 6, 1e-12);
  NEAR(m.age_s, 1500 / 90000.0, 1e-12);
  NEAR(m.pose.sensor_lat, 10.0 + 0.1 / 6, TOL_LAT);
  /* exactly on a packet: that packet, not a blend */
  m = at(t, 909000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 1);
  assert_true(m.weight == 0.0 && m.gap_s == 0.0 && m.age_s == 0.0);
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);
  assert_int_equal(m.pose.time_us, T0 + 100000);
  /* within a millisecond after it: snapped, aligned (not held), age reported */
  m = at(t, 909050);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 1);
  NEAR(m.age_s, 50 / 90000.0, 1e-12);
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);
  /* within a millisecond before it: snapped to the later packet */
  m = at(t, 908950);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 1);
  NEAR(m.age_s, -50 / 90000.0, 1e-12);
  /* just over a millisecond: interpolated again */
  m = at(t, 909091);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 2);
  NEAR(m.weight, 91 / 9000.0, 1e-12);
  /* no time, no pose */
  m = at(t, VG_FMV_NOPTS);
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  assert_int_equal(vg_fmv_timeline_info(t, &off, &est, &np), KPID);
  assert_int_equal(off, 0);
  assert_int_equal(est, 0);
  assert_int_equal(np, 3);
  /* names */
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_NONE), "none");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_PTS), "pts");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_PTS_HOLD), "pts_hold");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_TIMESTAMP), "timestamp");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_TIMESTAMP_HOLD), "timestamp_hold");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN_MUX), "mux");
  assert_string_equal(vg_fmv_align_name(VG_FMV_ALIGN__COUNT), "none");
  vg_fmv_timeline_free(t);
  vg_fmv_timeline_free(NULL);
}

/* Packets that arrive out of order are placed by time; a packet without PTS in a PTS line is not placed. */
static void pts_order(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 10, 1.0, 2.0, 3), p1 = full(T0 + 1, 20, 2.0, 3.0, 4), p2 = full(T0 + 2, 30, 5.0, 5.0, 5);
  size_t np;
  (void)st;
  tl_add(t, KPID, 18000, VG_FMV_NOPTS, 0, &p1);
  tl_add(t, KPID, 9000, VG_FMV_NOPTS, 1, &p0);
  tl_add(t, KPID, VG_FMV_NOPTS, 27000, 2, &p2);
  vg_fmv_timeline_info(t, NULL, NULL, &np);
  assert_int_equal(np, 2);
  m = at(t, 13500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 0);
  NEAR(m.weight, 0.5, 1e-12);
  m = at(t, 27000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 0);
  vg_fmv_timeline_free(t);
}

static void wrap_angles(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 359, 0.0, 179.9, 350), p1 = full(T0 + 100000, 1, 0.0, -179.9, 10);
  (void)st;
  p0.fclon = 179.95;
  p1.fclon = -179.95;
  tl_add(t, KPID, 0, VG_FMV_NOPTS, 0, &p0);
  tl_add(t, KPID, 9000, VG_FMV_NOPTS, 1, &p1);
  /* the midpoint is north / the antimeridian, not 180 deg / 0 deg longitude */
  m = at(t, 4500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_true(m.pose.platform_heading >= 0 && m.pose.platform_heading < 360);
  assert_true(circ(m.pose.platform_heading, 0) < TOL_HEAD);
  assert_true(m.pose.sensor_lon >= -180 && m.pose.sensor_lon <= 180);
  NEAR(fabs(m.pose.sensor_lon), 180, TOL_LON);
  NEAR(fabs(m.pose.frame_center_lon), 180, TOL_LON);
  assert_true(m.pose.sensor_rel_az >= 0 && m.pose.sensor_rel_az < 360);
  assert_true(circ(m.pose.sensor_rel_az, 0) < TOL_AZ);
  /* a quarter: still on the first side */
  m = at(t, 2250);
  NEAR(m.pose.platform_heading, 359.5, TOL_HEAD);
  NEAR(m.pose.sensor_lon, 179.95, TOL_LON);
  NEAR(m.pose.frame_center_lon, 179.975, TOL_LON);
  NEAR(m.pose.sensor_rel_az, 355, TOL_AZ);
  /* three quarters: across */
  m = at(t, 6750);
  NEAR(m.pose.platform_heading, 0.5, TOL_HEAD);
  NEAR(m.pose.sensor_lon, -179.95, TOL_LON);
  NEAR(m.pose.sensor_rel_az, 5, TOL_AZ);
  vg_fmv_timeline_free(t);
}

/* ---- holds, max_age, holes ----------------------------------------------------------- */

static void hold_and_max_age(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 1.0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 100, 10.0, 20.0, 30), p1 = full(T0 + 100000, 110, 10.1, 20.2, 40);
  (void)st;
  tl_add(t, KPID, 900000, VG_FMV_NOPTS, 7, &p0);
  tl_add(t, KPID, 909000, VG_FMV_NOPTS, 8, &p1);
  /* before the first packet: held, negative age */
  m = at(t, 900000 - 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  NEAR(m.age_s, -0.5, 1e-12);
  assert_int_equal(m.seq0, 7);
  assert_int_equal(m.seq1, 7);
  assert_true(m.gap_s == 0.0 && m.weight == 0.0);
  NEAR(m.pose.sensor_lat, 10.0, TOL_LAT);
  /* after the last: held, positive age */
  m = at(t, 909000 + 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  NEAR(m.age_s, 0.5, 1e-12);
  assert_int_equal(m.seq0, 8);
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);
  /* just inside and beyond max_age (1 s) */
  m = at(t, 909000 + 89000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  m = at(t, 909000 + 90000 + 90);
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  assert_false(has(&m, VG_POSE_SENSOR_LAT));
  m = at(t, 900000 - 2 * 90000);
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  vg_fmv_timeline_free(t);
  /* the default max_age (VG_FMV_DEFAULT_MAX_AGE_S = 10 s) */
  t = tl_new(-1, 0, 0, 0);
  tl_add(t, KPID, 900000, VG_FMV_NOPTS, 0, &p0);
  m = at(t, 900000 + (int64_t)(9.5 * 90000));
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  m = at(t, 900000 + (int64_t)(10.5 * 90000));
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  m = at(t, 900000 - (int64_t)(10.5 * 90000));
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  vg_fmv_timeline_free(t);
}

static void hole(void **st)
{
  /* Two packets 10 s apart, max_age 2 s: no interpolation across the hole; the nearer side is held. */
  vg_fmv_timeline *t = tl_new(-1, 2.0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 100, 10.0, 20.0, 30), p1 = full(T0 + 10000000, 110, 11.0, 21.0, 40);
  (void)st;
  tl_add(t, KPID, 0, VG_FMV_NOPTS, 0, &p0);
  tl_add(t, KPID, 900000, VG_FMV_NOPTS, 1, &p1);
  m = at(t, 90000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 0);
  NEAR(m.age_s, 1.0, 1e-12);
  NEAR(m.pose.sensor_lat, 10.0, TOL_LAT);
  m = at(t, 810000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 1);
  NEAR(m.age_s, -1.0, 1e-12);
  NEAR(m.pose.sensor_lat, 11.0, TOL_LAT);
  m = at(t, 450000);
  assert_int_equal(m.align, VG_FMV_ALIGN_NONE);
  vg_fmv_timeline_free(t);
}

/* ST 0601 sends changes only: a packet's pose is the previous one updated with its items. */
static void missing_items_kept(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  pk p0 = full(T0, 100, 10.0, 20.0, 30), p1, p2;
  (void)st;
  memset(&p1, 0, sizeof p1);
  p1.has = H_TIME | H_POS;
  p1.time = T0 + 100000;
  p1.lat = 10.1;
  p1.lon = 20.1;
  memset(&p2, 0, sizeof p2);
  p2.has = H_TIME | H_HEAD;
  p2.time = T0 + 200000;
  p2.head = 120;
  tl_add(t, KPID, 0, VG_FMV_NOPTS, 0, &p0);
  tl_add(t, KPID, 9000, VG_FMV_NOPTS, 1, &p1);
  tl_add(t, KPID, 18000, VG_FMV_NOPTS, 2, &p2);
  m = at(t, 9000);
  assert_int_equal(m.seq0, 1);
  assert_true(has(&m, VG_POSE_PLATFORM_HEADING) && has(&m, VG_POSE_SENSOR_REL_AZ) && has(&m, VG_POSE_FRAME_CENTER_LAT));
  NEAR(m.pose.platform_heading, 100, TOL_HEAD);  /* kept from packet 0 */
  NEAR(m.pose.sensor_rel_az, 30, TOL_AZ);        /* kept */
  NEAR(m.pose.frame_center_lat, 10.01, TOL_LAT); /* kept */
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);        /* new */
  m = at(t, 13500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  NEAR(m.pose.platform_heading, 110, TOL_HEAD);  /* 100 (kept) to 120 */
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);        /* 10.1 on both sides */
  NEAR(m.pose.sensor_lon, 20.1, TOL_LON);
  m = at(t, 18000);
  NEAR(m.pose.sensor_lat, 10.1, TOL_LAT);
  NEAR(m.pose.platform_heading, 120, TOL_HEAD);
  assert_int_equal(m.pose.time_us, T0 + 200000);
  vg_fmv_timeline_free(t);
}

/* ---- timestamp mode ------------------------------------------------------------------ */

#define NTS 33
/* MISP time minus video time, in µs (even: see offset_median_odd). */
#define OFFSET ((int64_t)1690000000000000ll)

static int64_t us_of(int64_t pts) { return llround((double)pts * (1e6 / 90000.0)); }
static int64_t mux_of(int i) { return 900000 + (int64_t)i * 3000; }

/* Packets without PTS: time stamps, and the multiplex time of the video PES after each. */
static void add_ts_packets(vg_fmv_timeline *t, int n, int with_mux, int outlier)
{
  for (int i = 0; i < n; i++) {
    pk p = full((uint64_t)(OFFSET + us_of(mux_of(i))), 100 + i, 10.0 + 0.01 * i, 20.0, 30);
    int64_t mux = mux_of(i) + (i == outlier ? 5 * 90000 : 0); /* 5 s off: one bad sample */
    tl_add(t, KPID, VG_FMV_NOPTS, with_mux ? mux : VG_FMV_NOPTS, (uint64_t)i, &p);
  }
}

static void check_ts_queries(vg_fmv_timeline *t, int estimated)
{
  vg_fmv_frame_meta m = at(t, mux_of(10) + 1500);
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP);
  assert_int_equal(m.offset_us, OFFSET);
  assert_int_equal(m.offset_estimated, estimated);
  assert_int_equal(m.seq0, 10);
  assert_int_equal(m.seq1, 11);
  NEAR(m.weight, 0.5, 1e-4);
  NEAR(m.gap_s, 3000 / 90000.0, 2e-6);
  NEAR(m.age_s, 1500 / 90000.0, 2e-6);
  NEAR(m.pose.sensor_lat, 10.105, TOL_LAT + 1e-6);
  m = at(t, mux_of(5));
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP);
  assert_int_equal(m.seq0, 5);
  assert_int_equal(m.seq1, 5);
  m = at(t, mux_of(0) - 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP_HOLD);
  NEAR(m.age_s, -0.5, 2e-6);
  assert_int_equal(m.seq0, 0);
  m = at(t, mux_of(NTS - 1) + 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP_HOLD);
  NEAR(m.age_s, 0.5, 2e-6);
  assert_int_equal(m.seq0, NTS - 1);
}

static void timestamp_estimated(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  int64_t off = 0;
  int est = -1;
  size_t np;
  (void)st;
  /* Before VG_FMV_OFFSET_SAMPLES samples the offset is not settled: covers() says no. */
  add_ts_packets(t, 5, 1, 2);
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(0)), 0);
  vg_fmv_timeline_free(t);
  /* 33 packets; the 8th has a multiplex time 5 s off. The median of the first 32 ignores it. */
  t = tl_new(-1, 0, 0, 0);
  assert_true(NTS > VG_FMV_OFFSET_SAMPLES);
  add_ts_packets(t, NTS, 1, 7);
  assert_int_equal(vg_fmv_timeline_info(t, &off, &est, &np), KPID);
  assert_int_equal(off, OFFSET);
  assert_int_equal(est, 1);
  assert_int_equal(np, NTS);
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(NTS - 1)), 1);
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(NTS - 1) + 90), 0);
  check_ts_queries(t, 1);
  vg_fmv_timeline_free(t);
}

/* With fewer samples, the first query settles the offset; later packets do not move it. */
static void timestamp_early_query(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  int64_t off = 0;
  static const int64_t d[] = {0, 2000, 1000000}; /* offsets OFFSET + d: median OFFSET + 2000 */
  (void)st;
  for (int i = 0; i < 3; i++) {
    pk p = full((uint64_t)(OFFSET + d[i] + us_of(mux_of(i))), 100, 10.0, 20.0, 30);
    tl_add(t, KPID, VG_FMV_NOPTS, mux_of(i), (uint64_t)i, &p);
  }
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(0)), 0);
  m = at(t, mux_of(1));
  assert_int_equal(m.offset_us, OFFSET + 2000);
  assert_int_equal(m.offset_estimated, 1);
  for (int i = 3; i < 8; i++) {
    pk p = full((uint64_t)(OFFSET + 500000 + us_of(mux_of(i))), 100, 10.0, 20.0, 30);
    tl_add(t, KPID, VG_FMV_NOPTS, mux_of(i), (uint64_t)i, &p);
  }
  vg_fmv_timeline_info(t, &off, NULL, NULL);
  assert_int_equal(off, OFFSET + 2000);
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(1)), 1);
  vg_fmv_timeline_free(t);
}


/* (lib/fmv/align.c freeze_offset(): with an even number of samples the median is
 * s[n/2-1]/2 + s[n/2]/2, which truncates both halves: two samples equal to an odd
 * offset give that offset minus 1 µs.) */
static void offset_median_odd(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  const int64_t odd = OFFSET + 1;
  (void)st;
  for (int i = 0; i < 2; i++) {
    pk p = full((uint64_t)(odd + us_of(mux_of(i))), 100, 10.0, 20.0, 30);
    tl_add(t, KPID, VG_FMV_NOPTS, mux_of(i), (uint64_t)i, &p);
  }
  m = at(t, mux_of(0));
  vg_fmv_timeline_free(t);
  assert_int_equal(m.offset_us, odd);
}

static void timestamp_given(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 1, OFFSET);
  int64_t off = 0;
  int est = -1;
  (void)st;
  /* No multiplex times at all: the given offset is all it needs, at once. */
  add_ts_packets(t, NTS, 0, -1);
  assert_int_equal(vg_fmv_timeline_info(t, &off, &est, NULL), KPID);
  assert_int_equal(off, OFFSET);
  assert_int_equal(est, 0);
  assert_int_equal(vg_fmv_timeline_covers(t, mux_of(2)), 1);
  check_ts_queries(t, 0);
  vg_fmv_timeline_free(t);
  /* A given offset wins over the multiplex times, even the bad ones. */
  t = tl_new(-1, 0, 1, OFFSET);
  add_ts_packets(t, NTS, 1, 3);
  check_ts_queries(t, 0);
  vg_fmv_timeline_free(t);
}

/* ---- mux mode ------------------------------------------------------------------------ */

static void mux_mode(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  size_t np;
  (void)st;
  for (int i = 0; i < 3; i++) {
    pk p = full(0, 100 + 10 * i, 10.0 + 0.1 * i, 20.0, 30);
    p.has &= ~(unsigned)H_TIME; /* neither PTS nor time stamp */
    tl_add(t, KPID, VG_FMV_NOPTS, 900000 + i * 9000, (uint64_t)i, &p);
  }
  {
    pk p = full(0, 0, 50.0, 50.0, 0);
    p.has &= ~(unsigned)H_TIME;
    tl_add(t, KPID, VG_FMV_NOPTS, VG_FMV_NOPTS, 3, &p); /* no place in the multiplex: not used */
  }
  vg_fmv_timeline_info(t, NULL, NULL, &np);
  assert_int_equal(np, 3);
  m = at(t, 904500);
  assert_int_equal(m.align, VG_FMV_ALIGN_MUX);
  NEAR(m.weight, 0.5, 1e-12);
  NEAR(m.pose.sensor_lat, 10.05, TOL_LAT);
  NEAR(m.pose.platform_heading, 105, TOL_HEAD);
  assert_false(has(&m, VG_POSE_TIME));
  assert_int_equal(m.offset_us, 0);
  m = at(t, 900000 - 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_MUX);
  NEAR(m.age_s, -0.5, 1e-12);
  m = at(t, 918000 + 45000);
  assert_int_equal(m.align, VG_FMV_ALIGN_MUX);
  NEAR(m.pose.sensor_lat, 10.2, TOL_LAT);
  assert_int_equal(vg_fmv_timeline_covers(t, 918000), 1);
  assert_int_equal(vg_fmv_timeline_covers(t, 918001), 0);
  vg_fmv_timeline_free(t);
}

/* ---- which stream is followed ---------------------------------------------------------- */

static void pid_selection(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  vg_fmv_klv k;
  pk head_only, pa = full(T0, 100, 10.0, 20.0, 30), pb = full(T0, 200, 40.0, 50.0, 60), fc_only;
  size_t np;
  (void)st;
  memset(&head_only, 0, sizeof head_only);
  head_only.has = H_HEAD;
  head_only.head = 45;
  memset(&fc_only, 0, sizeof fc_only);
  fc_only.has = H_FC;
  fc_only.fclat = 1.0;
  fc_only.fclon = 2.0;
  /* records without a packet, and packets without a pose, are ignored */
  memset(&k, 0, sizeof k);
  k.pid = 0x1FF;
  k.pts = 0;
  assert_int_equal(vg_fmv_timeline_add(t, &k), VG_OK);
  /* the first stream that places the sensor or the footprint is followed */
  tl_add(t, 0x102, 0, VG_FMV_NOPTS, 0, &head_only);
  assert_int_equal(vg_fmv_timeline_info(t, NULL, NULL, &np), -1);
  assert_int_equal(np, 0);
  tl_add(t, 0x101, 9000, VG_FMV_NOPTS, 1, &pa);
  assert_int_equal(vg_fmv_timeline_info(t, NULL, NULL, NULL), 0x101);
  tl_add(t, 0x102, 9000, VG_FMV_NOPTS, 2, &pb);
  tl_add(t, 0x102, 18000, VG_FMV_NOPTS, 3, &pb);
  m = at(t, 13500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.pid, 0x101);
  assert_int_equal(m.seq0, 1);
  NEAR(m.pose.sensor_lat, 10.0, TOL_LAT);
  vg_fmv_timeline_free(t);
  /* the frame centre alone is enough to choose a stream */
  t = tl_new(-1, 0, 0, 0);
  tl_add(t, 0x103, 0, VG_FMV_NOPTS, 0, &fc_only);
  assert_int_equal(vg_fmv_timeline_info(t, NULL, NULL, NULL), 0x103);
  vg_fmv_timeline_free(t);
  /* an explicit PID is followed even when another has a pose first, and even without a position */
  t = tl_new(0x102, 0, 0, 0);
  tl_add(t, 0x101, 0, VG_FMV_NOPTS, 0, &pa);
  tl_add(t, 0x102, 0, VG_FMV_NOPTS, 1, &head_only);
  tl_add(t, 0x102, 9000, VG_FMV_NOPTS, 2, &pb);
  assert_int_equal(vg_fmv_timeline_info(t, NULL, NULL, &np), 0x102);
  assert_int_equal(np, 2);
  m = at(t, 4500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.pid, 0x102);
  assert_int_equal(m.seq0, 1);
  assert_int_equal(m.seq1, 2);
  NEAR(m.pose.platform_heading, 122.5, TOL_HEAD); /* 45 to 200 */
  /* position only in the later packet: taken from the nearer side, which has it */
  assert_true(has(&m, VG_POSE_SENSOR_LAT));
  NEAR(m.pose.sensor_lat, 40.0, TOL_LAT);
  vg_fmv_timeline_free(t);
}

/* ---- covers() and trim() ----------------------------------------------------------------- */

static void covers_semantics(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  pk p = full(T0, 100, 10.0, 20.0, 30);
  (void)st;
  assert_int_equal(vg_fmv_timeline_covers(t, 0), 0);
  tl_add(t, KPID, 9000, VG_FMV_NOPTS, 0, &p);
  tl_add(t, KPID, 18000, VG_FMV_NOPTS, 1, &p);
  assert_int_equal(vg_fmv_timeline_covers(t, -5), 1);
  assert_int_equal(vg_fmv_timeline_covers(t, 9000), 1);
  assert_int_equal(vg_fmv_timeline_covers(t, 18000), 1);
  assert_int_equal(vg_fmv_timeline_covers(t, 18001), 0);
  tl_add(t, KPID, 27000, VG_FMV_NOPTS, 2, &p);
  assert_int_equal(vg_fmv_timeline_covers(t, 18001), 1);
  vg_fmv_timeline_free(t);
}

static void trim_keeps_previous(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  (void)st;
  for (int i = 0; i < 4; i++) {
    pk p = full(T0 + (uint64_t)i, 100, 10.0 + i, 20.0, 30);
    tl_add(t, KPID, i * 9000, VG_FMV_NOPTS, (uint64_t)i, &p);
  }
  vg_fmv_timeline_trim(t, -1000); /* before everything: nothing goes */
  m = at(t, 0);
  assert_int_equal(m.seq0, 0);
  vg_fmv_timeline_trim(t, 20000);
  /* the packet just before the trim point stays, so frames from there still interpolate */
  m = at(t, 22500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 2);
  assert_int_equal(m.seq1, 3);
  NEAR(m.pose.sensor_lat, 12.5, TOL_LAT);
  m = at(t, 20000);
  assert_int_equal(m.seq0, 2);
  /* what went before is gone */
  m = at(t, 4500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 2);
  NEAR(m.age_s, -13500 / 90000.0, 1e-12);
  /* trim exactly on a packet keeps it */
  vg_fmv_timeline_trim(t, 27000);
  m = at(t, 27000);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 3);
  m = at(t, 22500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 3);
  vg_fmv_timeline_trim(t, VG_FMV_NOPTS); /* ignored */
  m = at(t, 27000 + 4500);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, 3);
  NEAR(m.age_s, 0.05, 1e-12);
  vg_fmv_timeline_free(t);
  /* timestamp mode before the offset is settled: trim does nothing yet */
  t = tl_new(-1, 0, 0, 0);
  add_ts_packets(t, 4, 1, -1);
  vg_fmv_timeline_trim(t, mux_of(3));
  m = at(t, mux_of(0)); /* this query settles the offset */
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP);
  assert_int_equal(m.seq0, 0);
  vg_fmv_timeline_trim(t, mux_of(2));
  m = at(t, mux_of(0));
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP_HOLD);
  assert_int_equal(m.seq0, 2);
  vg_fmv_timeline_free(t);
}

/* VG_FMV_TIMELINE_MAX: one more packet drops the older half. */
static void timeline_limit(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 0, 0);
  vg_fmv_frame_meta m;
  vg_buf b;
  vg_klv_decoder *d;
  const vg_klv_packet *dp;
  vg_fmv_klv k;
  pk p = full(T0, 100, 10.0, 20.0, 30);
  size_t used, np;
  const int64_t step = 3000, half = VG_FMV_TIMELINE_MAX / 2;
  (void)st;
  vg_buf_init(&b, 1 << 16);
  encode_pk(&b, &p);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &dp, b.data, b.len, &used), VG_OK);
  memset(&k, 0, sizeof k);
  k.pkt = dp;
  k.pid = KPID;
  k.mux_pts = VG_FMV_NOPTS;
  for (int64_t i = 0; i < VG_FMV_TIMELINE_MAX; i++) {
    k.pts = i * step;
    k.seq = (uint64_t)i;
    assert_int_equal(vg_fmv_timeline_add(t, &k), VG_OK);
  }
  m = at(t, 0);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, 0);
  k.pts = VG_FMV_TIMELINE_MAX * step;
  k.seq = VG_FMV_TIMELINE_MAX;
  assert_int_equal(vg_fmv_timeline_add(t, &k), VG_OK);
  vg_fmv_timeline_info(t, NULL, NULL, &np);
  assert_int_equal(np, VG_FMV_TIMELINE_MAX + 1);
  m = at(t, half * step);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  assert_int_equal(m.seq0, half);
  m = at(t, (half - 1) * step);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS_HOLD);
  assert_int_equal(m.seq0, half);
  m = at(t, VG_FMV_TIMELINE_MAX * step);
  assert_int_equal(m.seq0, VG_FMV_TIMELINE_MAX);
  vg_klv_decoder_free(d);
  vg_buf_free(&b);
  vg_fmv_timeline_free(t);
}


/* (lib/fmv/align.c pose_lerp(): a field that only the farther packet has is flagged present
 * but takes the nearer packet's value, which was never set.) */
static void field_in_far_packet_only(void **st)
{
  vg_fmv_timeline *t = tl_new(0x102, 0, 0, 0);
  vg_fmv_frame_meta m;
  pk head_only, pb = full(T0, 200, 40.0, 50.0, 60);
  (void)st;
  memset(&head_only, 0, sizeof head_only);
  head_only.has = H_HEAD;
  head_only.head = 45;
  tl_add(t, 0x102, 0, VG_FMV_NOPTS, 1, &head_only);
  tl_add(t, 0x102, 9000, VG_FMV_NOPTS, 2, &pb);
  m = at(t, 2250); /* nearer to the packet without a position */
  vg_fmv_timeline_free(t);
  assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
  NEAR(m.pose.platform_heading, 45 + 0.25 * 155, TOL_HEAD);
  if (has(&m, VG_POSE_SENSOR_LAT))
    NEAR(m.pose.sensor_lat, 40.0, TOL_LAT);
  if (has(&m, VG_POSE_TIME))
    assert_int_equal(m.pose.time_us, T0);
}


/*
 * A corrupt time stamp (top bit set: 2^63 + T µs; lenient mode hands out packets
 * whose checksum failed) among good ones, in timestamp mode. lib/fmv/align.c keys
 * it as a negative int64 and then computes (q - a->key) * 1000 in
 * vg_fmv_timeline_at (line 355): signed overflow (UBSan aborts the dev build
 * here); in release the wrapped value makes the frame before the first good
 * packet come out with no pose instead of holding that packet.
 */
static void corrupt_time_stamp(void **st)
{
  vg_fmv_timeline *t = tl_new(-1, 0, 1, OFFSET);
  vg_fmv_frame_meta m;
  (void)st;
  {
    pk bad = full((uint64_t)(OFFSET + us_of(mux_of(0))) | (1ull << 63), 100, 10.0, 20.0, 30);
    tl_add(t, KPID, VG_FMV_NOPTS, VG_FMV_NOPTS, 99, &bad);
  }
  add_ts_packets(t, 4, 0, -1);
  m = at(t, mux_of(0) - 45000); /* half a second before the first good packet */
  vg_fmv_timeline_free(t);
  assert_int_equal(m.align, VG_FMV_ALIGN_TIMESTAMP_HOLD);
  assert_int_equal(m.seq0, 0);
  NEAR(m.age_s, -0.5, 2e-6);
}

int test_fmv_align_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pts_interpolation),   cmocka_unit_test(pts_order),
    cmocka_unit_test(wrap_angles),         cmocka_unit_test(hold_and_max_age),
    cmocka_unit_test(hole),                cmocka_unit_test(missing_items_kept),
    cmocka_unit_test(timestamp_estimated), cmocka_unit_test(timestamp_early_query),
    cmocka_unit_test(offset_median_odd),   cmocka_unit_test(timestamp_given),
    cmocka_unit_test(mux_mode),            cmocka_unit_test(pid_selection),
    cmocka_unit_test(covers_semantics),    cmocka_unit_test(trim_keeps_previous),
    cmocka_unit_test(timeline_limit),      cmocka_unit_test(field_in_far_packet_only),
    cmocka_unit_test(corrupt_time_stamp),
  };
  return cmocka_run_group_tests_name("fmv.align", tests, NULL, NULL);
}
