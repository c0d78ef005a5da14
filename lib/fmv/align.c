/*
 * The pose time line of one metadata stream, and the pose of a frame.
 *
 * Three ways to put a KLV packet on the video clock, best first:
 *  - PTS: the PES that carries it has one (synchronous carriage, the AP Hill
 *    hybrid). The packet's time is its PTS, on the same 90 kHz clock as the
 *    frames.
 *  - timestamp: no PTS (asynchronous carriage), but the packet has a precision
 *    time stamp (ST 0601 tag 2, EG 0104). MISP time and video time differ by
 *    an offset; it is the median over the first VG_FMV_OFFSET_SAMPLES packets
 *    of (time stamp - multiplex time), where the multiplex time is the DTS of
 *    the video PES that follows the packet in the stream (an encoder muxes
 *    metadata ahead of the frame it describes), or the caller gives it. The
 *    offset is reported with every frame.
 *  - mux: neither; the multiplex time itself.
 *
 * ST 0601 senders may leave out items that did not change, so each packet's
 * pose is the last pose updated with the items it carries. A frame between two
 * packets gets the interpolation of the two (linear; angles and longitudes
 * through the shorter way round); outside, the nearest within max_age_s.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fmv_int.h"

typedef enum tl_mode { TL_UNSET = 0, TL_PTS, TL_TIMESTAMP, TL_MUX } tl_mode;

typedef struct tl_ent {
  int64_t key;     /* PTS ticks (PTS, mux) or MISP µs (timestamp) */
  uint64_t seq;
  vg_klv_pose pose;
} tl_ent;

struct vg_fmv_timeline {
  vg_fmv_timeline_opts opts;
  int pid;
  tl_mode mode;
  tl_ent *e;
  size_t n, cap;
  vg_klv_pose state;
  int have_state;
  /* offset estimation */
  int64_t samples[VG_FMV_OFFSET_SAMPLES];
  size_t nsamples;
  int offset_frozen;
  int64_t offset_us;
  size_t added; /* packets placed on the line */
};

/* How each double of the pose is interpolated. */
enum { LIN = 0, DEG360, DEG180 };
typedef struct fdesc {
  vg_klv_pose_field f;
  size_t off;
  int count;
  int wrap;
} fdesc;

#define F(field, member, cnt, wrap) {field, offsetof(vg_klv_pose, member), cnt, wrap}
static const fdesc k_fields[] = {
  F(VG_POSE_PLATFORM_HEADING, platform_heading, 1, DEG360),
  F(VG_POSE_PLATFORM_PITCH, platform_pitch, 1, DEG180),
  F(VG_POSE_PLATFORM_ROLL, platform_roll, 1, DEG180),
  F(VG_POSE_SENSOR_LAT, sensor_lat, 1, LIN),
  F(VG_POSE_SENSOR_LON, sensor_lon, 1, DEG180),
  F(VG_POSE_SENSOR_ALT_MSL, sensor_alt_msl, 1, LIN),
  F(VG_POSE_SENSOR_ALT_HAE, sensor_alt_hae, 1, LIN),
  F(VG_POSE_HFOV, hfov, 1, LIN),
  F(VG_POSE_VFOV, vfov, 1, LIN),
  F(VG_POSE_SENSOR_REL_AZ, sensor_rel_az, 1, DEG360),
  F(VG_POSE_SENSOR_REL_EL, sensor_rel_el, 1, DEG180),
  F(VG_POSE_SENSOR_REL_ROLL, sensor_rel_roll, 1, DEG360),
  F(VG_POSE_SLANT_RANGE, slant_range, 1, LIN),
  F(VG_POSE_TARGET_WIDTH, target_width, 1, LIN),
  F(VG_POSE_FRAME_CENTER_LAT, frame_center_lat, 1, LIN),
  F(VG_POSE_FRAME_CENTER_LON, frame_center_lon, 1, DEG180),
  F(VG_POSE_FRAME_CENTER_ELEV_MSL, frame_center_elev_msl, 1, LIN),
  F(VG_POSE_FRAME_CENTER_HAE, frame_center_hae, 1, LIN),
  F(VG_POSE_SENSOR_ABS_AZ, sensor_abs_az, 1, DEG360),
  F(VG_POSE_SENSOR_ABS_EL, sensor_abs_el, 1, DEG180),
  F(VG_POSE_SENSOR_ABS_ROLL, sensor_abs_roll, 1, DEG180),
};
#undef F
#define NFIELDS (sizeof k_fields / sizeof k_fields[0])

static double *dptr(vg_klv_pose *p, size_t off) { return (double *)(void *)((char *)p + off); }
static const double *cdptr(const vg_klv_pose *p, size_t off)
{
  return (const double *)(const void *)((const char *)p + off);
}

/* Copies into dst every field present in src (the rest of dst stays). */
static void pose_merge(vg_klv_pose *dst, const vg_klv_pose *src)
{
  for (size_t i = 0; i < NFIELDS; i++)
    if (vg_klv_pose_has(src, k_fields[i].f))
      *dptr(dst, k_fields[i].off) = *cdptr(src, k_fields[i].off);
  if (vg_klv_pose_has(src, VG_POSE_TIME))
    dst->time_us = src->time_us;
  if (vg_klv_pose_has(src, VG_POSE_CORNERS)) {
    memcpy(dst->corner_lat, src->corner_lat, sizeof dst->corner_lat);
    memcpy(dst->corner_lon, src->corner_lon, sizeof dst->corner_lon);
    dst->corners_full = src->corners_full;
  }
  if (vg_klv_pose_has(src, VG_POSE_PLATFORM_DESIGNATION))
    memcpy(dst->platform_designation, src->platform_designation, sizeof dst->platform_designation);
  if (vg_klv_pose_has(src, VG_POSE_SECURITY)) {
    dst->security_class = src->security_class;
    dst->security_method = src->security_method;
    memcpy(dst->security_rel, src->security_rel, sizeof dst->security_rel);
    memcpy(dst->security_caveats, src->security_caveats, sizeof dst->security_caveats);
  }
  dst->present |= src->present;
  dst->source = src->source;
  if (src->ls_version >= 0)
    dst->ls_version = src->ls_version;
}

static double wrap_to(double v, int wrap)
{
  if (wrap == DEG360) {
    v = fmod(v, 360.0);
    if (v < 0)
      v += 360.0;
  } else if (wrap == DEG180) {
    v = fmod(v + 180.0, 360.0);
    if (v < 0)
      v += 360.0;
    v -= 180.0;
  }
  return v;
}

static double lerp(double a, double b, double w, int wrap)
{
  double d = b - a;
  if (wrap != LIN) {
    d = fmod(d, 360.0);
    if (d > 180.0)
      d -= 360.0;
    else if (d < -180.0)
      d += 360.0;
    return wrap_to(a + w * d, wrap);
  }
  return a + w * d;
}

/* out = a + w (b - a), field by field; a field only one packet has comes from that packet. */
static void pose_lerp(vg_klv_pose *out, const vg_klv_pose *a, const vg_klv_pose *b, double w)
{
  const vg_klv_pose *near = w < 0.5 ? a : b, *far = w < 0.5 ? b : a;
  *out = *far;
  pose_merge(out, near); /* the nearer packet's fields win; the far one's fill the rest */
  for (size_t i = 0; i < NFIELDS; i++) {
    const fdesc *fd = &k_fields[i];
    if (vg_klv_pose_has(a, fd->f) && vg_klv_pose_has(b, fd->f))
      *dptr(out, fd->off) = lerp(*cdptr(a, fd->off), *cdptr(b, fd->off), w, fd->wrap);
  }
  if (vg_klv_pose_has(a, VG_POSE_TIME) && vg_klv_pose_has(b, VG_POSE_TIME))
    out->time_us = a->time_us + (uint64_t)llround(w * (double)(int64_t)(b->time_us - a->time_us));
  if (vg_klv_pose_has(a, VG_POSE_CORNERS) && vg_klv_pose_has(b, VG_POSE_CORNERS))
    for (int k = 0; k < 4; k++) {
      out->corner_lat[k] = lerp(a->corner_lat[k], b->corner_lat[k], w, LIN);
      out->corner_lon[k] = lerp(a->corner_lon[k], b->corner_lon[k], w, DEG180);
    }
  out->present = a->present | b->present;
}

/*
 * Time stamps vigia places on the line: below 2^60 µs (36,000 years). A corrupt
 * packet (lenient mode hands out packets whose checksum failed) can carry
 * anything; beyond this it is not placed, so key arithmetic cannot overflow.
 */
#define TL_MAX_TIME_US ((int64_t)1 << 60)
/* PTS beyond this (±2^52 ticks, 1600 years) are saturated before arithmetic. */
#define TL_MAX_PTS ((int64_t)1 << 52)
/*
 * A packet this much older than the newest one (µs) means the clock
 * restarted. Metadata comes in time order; a few ms of jitter is normal.
 */
#define TL_RESTART_US 100000

static int64_t clamp_pts(int64_t pts) { return pts > TL_MAX_PTS ? TL_MAX_PTS : pts < -TL_MAX_PTS ? -TL_MAX_PTS : pts; }
static int64_t pts_to_us(int64_t pts) { return (int64_t)llround((double)clamp_pts(pts) * (1e6 / 90000.0)); }

const char *vg_fmv_align_name(vg_fmv_align a)
{
  static const char *const n[] = {"none", "pts", "pts_hold", "timestamp", "timestamp_hold", "mux"};
  return (unsigned)a < VG_FMV_ALIGN__COUNT ? n[a] : "none";
}

int vg_fmv_timeline_new(vg_fmv_timeline **out, const vg_fmv_timeline_opts *opts)
{
  vg_fmv_timeline *t = calloc(1, sizeof *t);
  if (!t)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a time line");
  t->opts = opts ? *opts : (vg_fmv_timeline_opts)VG_FMV_TIMELINE_OPTS_INIT;
  if (t->opts.max_age_s <= 0)
    t->opts.max_age_s = VG_FMV_DEFAULT_MAX_AGE_S;
  t->pid = t->opts.pid;
  if (t->opts.have_offset) {
    t->offset_us = t->opts.offset_us > TL_MAX_TIME_US    ? TL_MAX_TIME_US
                   : t->opts.offset_us < -TL_MAX_TIME_US ? -TL_MAX_TIME_US
                                                         : t->opts.offset_us;
    t->offset_frozen = 1;
  }
  *out = t;
  return VG_OK;
}

void vg_fmv_timeline_free(vg_fmv_timeline *t)
{
  if (!t)
    return;
  free(t->e);
  free(t);
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void freeze_offset(vg_fmv_timeline *t)
{
  int64_t s[VG_FMV_OFFSET_SAMPLES];
  if (t->offset_frozen)
    return;
  t->offset_frozen = 1;
  if (!t->nsamples)
    return; /* nothing to go on: offset 0 (frames and packets cannot be related better) */
  memcpy(s, t->samples, t->nsamples * sizeof *s);
  qsort(s, t->nsamples, sizeof *s, cmp_i64);
  /* samples are bounded (plausible time stamps only), so the difference cannot overflow */
  t->offset_us = t->nsamples % 2 ? s[t->nsamples / 2]
                                 : s[t->nsamples / 2 - 1] + (s[t->nsamples / 2] - s[t->nsamples / 2 - 1]) / 2;
}


int vg_fmv_timeline_add(vg_fmv_timeline *t, const vg_fmv_klv *k)
{
  vg_klv_pose pose;
  tl_ent ent;
  size_t i;
  if (!k->pkt || vg_klv_pose_from_packet(&pose, k->pkt) != VG_OK) {
    vg_error_clear();
    return VG_OK;
  }
  if (t->pid < 0) {
    /* Follow the first stream whose packets place the sensor or the footprint. */
    if (!(vg_klv_pose_has(&pose, VG_POSE_SENSOR_LAT) || vg_klv_pose_has(&pose, VG_POSE_FRAME_CENTER_LAT)))
      return VG_OK;
    t->pid = k->pid;
  }
  if (k->pid != t->pid)
    return VG_OK;
  if (t->mode == TL_UNSET)
    t->mode = k->pts != VG_FMV_NOPTS ? TL_PTS : vg_klv_pose_has(&pose, VG_POSE_TIME) ? TL_TIMESTAMP : TL_MUX;
  if (!t->have_state) {
    memset(&t->state, 0, sizeof t->state);
    t->state.ls_version = -1;
    t->have_state = 1;
  }
  pose_merge(&t->state, &pose);
  memset(&ent, 0, sizeof ent);
  ent.pose = t->state;
  ent.seq = k->seq;
  switch (t->mode) {
  case TL_PTS:
    if (k->pts == VG_FMV_NOPTS)
      return VG_OK; /* a PES without PTS in a stream that has them: cannot be placed */
    ent.key = clamp_pts(k->pts);
    break;
  case TL_TIMESTAMP:
    if (!vg_klv_pose_has(&pose, VG_POSE_TIME) || pose.time_us > (uint64_t)TL_MAX_TIME_US)
      return VG_OK;
    ent.key = (int64_t)pose.time_us;
    if (!t->offset_frozen && k->mux_pts != VG_FMV_NOPTS && t->nsamples < VG_FMV_OFFSET_SAMPLES) {
      t->samples[t->nsamples++] = (int64_t)pose.time_us - pts_to_us(k->mux_pts);
      if (t->nsamples == VG_FMV_OFFSET_SAMPLES)
        freeze_offset(t);
    }
    break;
  default:
    if (k->mux_pts == VG_FMV_NOPTS)
      return VG_OK;
    ent.key = clamp_pts(k->mux_pts);
    break;
  }
  if (t->n && ent.key < t->e[t->n - 1].key - (t->mode == TL_TIMESTAMP ? TL_RESTART_US : TL_RESTART_US * 9 / 100)) {
    /*
     * Well back in time: the clock restarted (a looped or spliced
     * recording). What came before cannot be interpolated with what
     * follows, and keeping it would make every insertion a memmove.
     */
    t->n = 0;
  }
  if (t->n == VG_FMV_TIMELINE_MAX) {
    /* Frames are far behind the metadata: drop the oldest half. */
    memmove(t->e, t->e + t->n / 2, (t->n - t->n / 2) * sizeof *t->e);
    t->n -= t->n / 2;
  }
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 256;
    tl_ent *ne = realloc(t->e, nc * sizeof *ne);
    if (!ne)
      return vg_error_set(VG_E_NOMEM, "cannot grow the pose time line to %zu packets", nc);
    t->e = ne;
    t->cap = nc;
  }
  /* Keep keys sorted; packets almost always come in order, so this is an append. */
  for (i = t->n; i > 0 && t->e[i - 1].key > ent.key; i--)
    ;
  memmove(t->e + i + 1, t->e + i, (t->n - i) * sizeof *t->e);
  t->e[i] = ent;
  t->n++;
  t->added++;
  return VG_OK;
}

/* The frame's time in the key's units. */
static int64_t query_key(vg_fmv_timeline *t, int64_t pts)
{
  if (t->mode == TL_TIMESTAMP) {
    freeze_offset(t);
    return pts_to_us(pts) + t->offset_us;
  }
  return clamp_pts(pts);
}

static double key_seconds(const vg_fmv_timeline *t, int64_t dk)
{
  return t->mode == TL_TIMESTAMP ? (double)dk / 1e6 : (double)dk / 90000.0;
}

int vg_fmv_timeline_covers(const vg_fmv_timeline *t, int64_t pts)
{
  int64_t q;
  if (t->mode == TL_UNSET || !t->n)
    return 0;
  if (t->mode == TL_TIMESTAMP) {
    if (!t->offset_frozen && t->nsamples < VG_FMV_OFFSET_SAMPLES)
      return 0;
    q = pts_to_us(pts) + (t->offset_frozen ? t->offset_us : 0);
  } else {
    q = clamp_pts(pts);
  }
  return t->e[t->n - 1].key >= q;
}

int vg_fmv_timeline_at(vg_fmv_timeline *t, int64_t pts, vg_fmv_frame_meta *m)
{
  int64_t q, unit;
  size_t lo = 0, hi;
  double max_age;
  const tl_ent *a = NULL, *b = NULL;
  memset(m, 0, sizeof *m);
  m->align = VG_FMV_ALIGN_NONE;
  m->pose.ls_version = -1;
  if (t->mode == TL_UNSET || !t->n || pts == VG_FMV_NOPTS)
    return VG_OK;
  q = query_key(t, pts);
  unit = t->mode == TL_TIMESTAMP ? 1000000 : 90000;
  max_age = t->opts.max_age_s;
  m->pid = (uint16_t)t->pid;
  if (t->mode == TL_TIMESTAMP) {
    m->offset_us = t->offset_us;
    m->offset_estimated = !t->opts.have_offset;
  }
  /* last entry with key <= q */
  hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->e[mid].key <= q)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo > 0)
    a = &t->e[lo - 1];
  if (lo < t->n)
    b = &t->e[lo];
  /* On a packet (within a millisecond: PTS rounding, 1 µs time stamp steps): that packet, not a blend. */
  if (a && b && b->key - q <= unit / 1000 && b->key - q < q - a->key)
    a = NULL;
  else if (a && b && q - a->key <= unit / 1000)
    b = NULL;
  if (a && b) {
    double gap = key_seconds(t, b->key - a->key), da = key_seconds(t, q - a->key);
    if (gap <= max_age) {
      double w = gap > 0 ? da / gap : 0.0;
      pose_lerp(&m->pose, &a->pose, &b->pose, w);
      m->align = t->mode == TL_PTS ? VG_FMV_ALIGN_PTS : t->mode == TL_TIMESTAMP ? VG_FMV_ALIGN_TIMESTAMP
                                                                                 : VG_FMV_ALIGN_MUX;
      m->age_s = da;
      m->gap_s = gap;
      m->weight = w;
      m->seq0 = a->seq;
      m->seq1 = b->seq;
      return VG_OK;
    }
    /* A hole in the metadata: hold the nearer side if it is near enough. */
    if (da > key_seconds(t, b->key - q))
      a = NULL;
    else
      b = NULL;
  }
  {
    const tl_ent *e = a ? a : b;
    double age = key_seconds(t, q - e->key);
    if (fabs(age) > max_age)
      return VG_OK;
    m->pose = e->pose;
    m->age_s = age;
    m->seq0 = m->seq1 = e->seq;
    /* Exactly on a packet (within a millisecond) counts as aligned, not held. */
    if (llabs(q - e->key) <= unit / 1000)
      m->align = t->mode == TL_PTS ? VG_FMV_ALIGN_PTS : t->mode == TL_TIMESTAMP ? VG_FMV_ALIGN_TIMESTAMP
                                                                                 : VG_FMV_ALIGN_MUX;
    else
      m->align = t->mode == TL_PTS ? VG_FMV_ALIGN_PTS_HOLD
                 : t->mode == TL_TIMESTAMP ? VG_FMV_ALIGN_TIMESTAMP_HOLD
                                           : VG_FMV_ALIGN_MUX;
  }
  return VG_OK;
}

void vg_fmv_timeline_trim(vg_fmv_timeline *t, int64_t pts)
{
  int64_t q;
  size_t keep_from = 0;
  if (t->mode == TL_UNSET || !t->n || pts == VG_FMV_NOPTS || (t->mode == TL_TIMESTAMP && !t->offset_frozen))
    return;
  q = query_key(t, pts);
  /* keep the last entry at or before q, and everything after */
  while (keep_from + 1 < t->n && t->e[keep_from + 1].key <= q)
    keep_from++;
  if (keep_from) {
    memmove(t->e, t->e + keep_from, (t->n - keep_from) * sizeof *t->e);
    t->n -= keep_from;
  }
}

int vg_fmv_timeline_info(const vg_fmv_timeline *t, int64_t *offset_us, int *estimated, size_t *npackets)
{
  if (offset_us)
    *offset_us = t->mode == TL_TIMESTAMP ? t->offset_us : 0;
  if (estimated)
    *estimated = t->mode == TL_TIMESTAMP && !t->opts.have_offset;
  if (npackets)
    *npackets = t->added;
  return t->pid;
}
