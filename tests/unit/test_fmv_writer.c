/*
 * The transport stream writer (lib/fmv/writer.c), checked with vigia's own
 * readers and, when it is installed, with ffprobe: 48 frames of a moving
 * smooth pattern at 24 fps, each with an ST 0601 packet made by vigia's
 * encoder (time stamp, sensor position, version), written to files under a
 * mkdtemp directory, then read back frame by frame (pose aligned to each
 * frame, pixels close to what went in), demultiplexed alone (carriage, packet
 * count, no damage), written twice (same bytes), in synchronous carriage,
 * with other frame rate, GOP, bit rate and encoder (libx264 when present),
 * with bad options, and onto a full device.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/fmv.h"
#include "vigia/klv.h"

#define W 320
#define H 240
#define NF 48
#define FPS 24
/* 90 kHz ticks per frame at 24 fps. */
#define TICKS (90000 / FPS)
/* MISP time of frame 0 (µs). */
#define T0 ((uint64_t)1700000000000000ull)
#define LS_VERSION 17
/* Resolution of tags 13 and 14 (4-byte SMAP over 180 and 360 degrees): tolerances of the checks. */
#define TOL_LAT 1e-7
#define TOL_LON 2e-7
/*
 * Mean absolute difference per channel between a decoded frame and its input,
 * on this smooth pattern, measured with FFmpeg 5.1: worst 3.48 (blue), means
 * over the frames 2.81 / 2.26 / 3.30 (R / G / B). The colour conversions and
 * 4:2:0 chroma alone (no codec) give 2.0 / 1.7 / 2.0, so MPEG-2 at qscale 4
 * adds about 1.3. Bound with margin; comparing with the next frame's pattern
 * gives 15.6, and 100 kbit/s instead of constant quality gives 7.2.
 */
#define MAX_MAD 5.0

static char g_dir[256];

static uint64_t time_of(int n) { return T0 + (uint64_t)(((int64_t)n * 1000000 + FPS / 2) / FPS); }
static double lat_of(int n) { return 35.25 + 0.0005 * n; }
static double lon_of(int n) { return -117.5 + 0.0007 * n; }

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

/* A smooth pattern that moves with n (no edges: the codec keeps it well). */
static void pattern(uint8_t *rgb, int n)
{
  const double tau = 6.283185307179586;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t *p = rgb + ((size_t)y * W + (size_t)x) * 3;
      p[0] = (uint8_t)lround(128 + 90 * sin(tau * (x + 4 * n) / 97.0));
      p[1] = (uint8_t)lround(128 + 90 * sin(tau * (y + 2 * n) / 71.0));
      p[2] = (uint8_t)lround(128 + 60 * sin(tau * (x + y + 3 * n) / 131.0));
    }
}

/* ST 0601: tags 2, 13, 14, 65 (and the checksum the encoder adds). */
static void klv_of(vg_buf *b, int n, double dlat)
{
  vg_klv_item it[4];
  vg_klv_packet pkt;
  size_t k = 0;
  it[k++] = vg_klv_item_time(2, time_of(n));
  it[k++] = vg_klv_item_real(13, lat_of(n) + dlat);
  it[k++] = vg_klv_item_real(14, lon_of(n));
  it[k++] = vg_klv_item_uint(65, LS_VERSION);
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_ST0601;
  pkt.set.kind = VG_KLV_KIND_ST0601;
  pkt.set.items = it;
  pkt.set.n = k;
  pkt.version = LS_VERSION;
  vg_buf_reset(b);
  assert_int_equal(vg_klv_encode(b, &pkt), VG_OK);
}

/* Writes NF frames with @p o (KLV on every frame when @p klv). @return the writer's first error. */
static int write_with(const char *path, const vg_fmv_writer_opts *o, int klv, double dlat)
{
  vg_fmv_writer *w = NULL;
  uint8_t *rgb = malloc((size_t)W * H * 3);
  vg_buf b;
  int rc;
  assert_non_null(rgb);
  if ((rc = vg_fmv_writer_open(&w, path, o)) != VG_OK) {
    free(rgb);
    return rc;
  }
  vg_buf_init(&b, 1 << 16);
  for (int n = 0; n < NF && rc == VG_OK; n++) {
    pattern(rgb, n);
    klv_of(&b, n, dlat);
    rc = vg_fmv_writer_frame(w, rgb, (size_t)W * 3, klv ? b.data : NULL, klv ? b.len : 0);
  }
  vg_buf_free(&b);
  free(rgb);
  if (rc != VG_OK) {
    vg_fmv_writer_close(w);
    return rc;
  }
  return vg_fmv_writer_close(w);
}

/* The fixture: W x H at FPS, default codec and quality; @p dlat shifts every latitude (a different input). */
static int write_fixture(const char *path, int sync, double dlat)
{
  vg_fmv_writer_opts o = VG_FMV_WRITER_OPTS_INIT;
  o.width = W;
  o.height = H;
  o.fps_num = FPS;
  o.fps_den = 1;
  o.klv_sync = sync;
  return write_with(path, &o, 1, dlat);
}

/*
 * Reads @p path back with the frame reader (RGB24): exactly NF frames, each at
 * PTS n/fps with the pose written for it and pixels close to the input.
 * @return the worst mean absolute difference over frames and channels.
 */
static double read_back(const char *path, vg_fmv_align want_align, const char *want_codec)
{
  vg_fmv_source *src = NULL;
  vg_fmv_reader *r = NULL;
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  const vg_fmv_frame *f;
  uint8_t *rgb = malloc((size_t)W * H * 3);
  double worst = 0;
  int n = 0, rc;
  const char *codec;
  int vw, vh;
  double fps;
  assert_non_null(rgb);
  ro.fmt = VG_FMV_RGB24;
  ro.threads = 1;
  assert_int_equal(vg_fmv_source_open(&src, path), VG_OK);
  assert_int_equal(vg_fmv_reader_new(&r, src, &ro), VG_OK);
  assert_int_equal(vg_fmv_reader_video(r, &codec, &vw, &vh, &fps), VG_OK);
  assert_string_equal(codec, want_codec);
  assert_int_equal(vw, W);
  assert_int_equal(vh, H);
  assert_true(fabs(fps - FPS) < 1e-9);
  while ((rc = vg_fmv_reader_next(r, &f)) == VG_OK) {
    double sum[3] = {0, 0, 0};
    assert_true(n < NF);
    assert_int_equal(f->index, n);
    assert_int_equal(f->pts, (int64_t)n * TICKS);
    assert_int_equal(f->width, W);
    assert_int_equal(f->height, H);
    assert_int_equal(f->fmt, VG_FMV_RGB24);
    assert_false(f->corrupt);
    if (n == 0)
      assert_true(f->key_frame);
    /* the pose written with this very frame */
    assert_int_not_equal(f->meta.align, VG_FMV_ALIGN_NONE);
    if (want_align != VG_FMV_ALIGN_NONE)
      assert_int_equal(f->meta.align, want_align);
    assert_true(fabs(f->meta.age_s) < 1e-3);
    assert_true(vg_klv_pose_has(&f->meta.pose, VG_POSE_TIME));
    assert_int_equal(f->meta.pose.time_us, time_of(n));
    assert_true(vg_klv_pose_has(&f->meta.pose, VG_POSE_SENSOR_LAT));
    assert_true(vg_klv_pose_has(&f->meta.pose, VG_POSE_SENSOR_LON));
    assert_true(fabs(f->meta.pose.sensor_lat - lat_of(n)) <= TOL_LAT);
    assert_true(fabs(f->meta.pose.sensor_lon - lon_of(n)) <= TOL_LON);
    assert_int_equal(f->meta.pose.ls_version, LS_VERSION);
    /* pixels */
    pattern(rgb, n);
    for (int y = 0; y < H; y++) {
      const uint8_t *a = f->pixels + (size_t)y * f->stride, *b = rgb + (size_t)y * W * 3;
      for (int x = 0; x < W * 3; x++)
        sum[x % 3] += abs((int)a[x] - (int)b[x]);
    }
    for (int c = 0; c < 3; c++) {
      double mad = sum[c] / ((double)W * H);
      if (mad > worst)
        worst = mad;
    }
    n++;
  }
  assert_int_equal(rc, VG_E_TRUNCATED);
  assert_int_equal(n, NF);
  assert_int_equal(vg_fmv_reader_decode_errors(r), 0);
  vg_fmv_reader_free(r);
  vg_fmv_source_free(src);
  free(rgb);
  assert_true(worst < MAX_MAD);
  return worst;
}

/* What `vigia probe` sees: the demultiplexer over the whole file, every KLV packet decoded. */
typedef struct klv_count {
  int n;
  vg_fmv_carriage carriage;
  int in_order;
} klv_count;

static int on_klv(void *ctx, const vg_fmv_klv *k)
{
  klv_count *c = ctx;
  vg_klv_pose p;
  if (k->pkt->kind != VG_KLV_KIND_ST0601 || k->pkt->cksum != VG_KLV_CK_VALID ||
      vg_klv_pose_from_packet(&p, k->pkt) != VG_OK || !vg_klv_pose_has(&p, VG_POSE_TIME) ||
      p.time_us != time_of(c->n))
    c->in_order = 0;
  c->carriage = k->carriage;
  c->n++;
  return VG_OK;
}

static void probe_check(const char *path, int sync)
{
  vg_fmv_source *src = NULL;
  vg_fmv_probe p;
  klv_count c = {0, VG_FMV_CARRIAGE_NONE, 1};
  const vg_fmv_stream *klv = NULL, *vid = NULL;
  vg_fmv_carriage want = sync ? VG_FMV_CARRIAGE_SYNC : VG_FMV_CARRIAGE_ASYNC;
  assert_int_equal(vg_fmv_source_open(&src, path), VG_OK);
  assert_int_equal(vg_fmv_probe_run(&p, src, NULL, on_klv, &c), VG_OK);
  vg_fmv_source_free(src);
  assert_int_equal(c.n, NF);
  assert_true(c.in_order);
  assert_int_equal(c.carriage, want);
  assert_string_equal(p.format, "mpegts");
  assert_int_equal(p.nstreams, 2);
  for (size_t i = 0; i < p.nstreams; i++) {
    if (p.streams[i].kind == VG_FMV_ES_KLV)
      klv = &p.streams[i];
    else if (p.streams[i].kind == VG_FMV_ES_VIDEO)
      vid = &p.streams[i];
  }
  assert_non_null(klv);
  assert_non_null(vid);
  assert_int_equal(klv->carriage, want);
  assert_string_equal(vg_fmv_carriage_name(klv->carriage), sync ? "sync" : "async");
  assert_true(klv->declared && klv->klva);
  assert_int_equal(klv->stream_type, sync ? 0x15 : 0x06);
  assert_int_equal(klv->pes_stream_id, sync ? 0xFC : 0xBD);
  assert_int_equal(klv->pes_packets, NF);
  assert_int_equal(klv->pes_with_pts, sync ? NF : 0);
  assert_int_equal(klv->au_cells, sync ? NF : 0);
  assert_int_equal(klv->klv_packets, NF);
  assert_int_equal(klv->kinds[VG_KLV_KIND_ST0601], NF);
  assert_int_equal(klv->cksum_ok, NF);
  assert_true(klv->cksum_bad == 0 && klv->klv_bad == 0 && klv->junk_bytes == 0 && klv->gap_bytes == 0);
  assert_int_equal(klv->time_first_us, time_of(0));
  assert_int_equal(klv->time_last_us, time_of(NF - 1));
  assert_int_equal(klv->nversions, 1);
  assert_int_equal(klv->versions[0], LS_VERSION);
  if (sync) {
    assert_int_equal(klv->pts_first, 0);
    assert_int_equal(klv->pts_last, (int64_t)(NF - 1) * TICKS);
  }
  assert_string_equal(vid->codec, "mpeg2video");
  assert_int_equal(vid->pes_packets, NF);
  assert_int_equal(vid->program, klv->program);
  /* no damage anywhere */
  assert_int_equal(p.stats.packet_size, 188);
  assert_int_equal(p.stats.bytes, (uint64_t)p.bytes);
  assert_int_equal(p.stats.bytes % 188, 0);
  assert_true(p.stats.sync_losses == 0 && p.stats.junk_bytes == 0 && p.stats.tei_packets == 0 &&
              p.stats.cc_errors == 0 && p.stats.psi_crc_errors == 0 && p.stats.psi_bad == 0 &&
              p.stats.pes_bad == 0 && p.stats.klv_bad == 0 && p.stats.cksum_bad == 0 &&
              p.stats.truncated_bytes == 0);
  assert_int_equal(p.stats.klv_packets, NF);
  assert_int_equal(p.nevents, 0);
  assert_int_equal(p.events_dropped, 0);
  /* libavformat's view */
  assert_string_equal(p.video_codec, "mpeg2video");
  assert_int_equal(p.width, W);
  assert_int_equal(p.height, H);
  assert_true(fabs(p.fps - FPS) < 1e-9);
  vg_fmv_probe_clear(&p);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void roundtrip_async(void **st)
{
  char path[512];
  double mad;
  (void)st;
  path_of(path, sizeof path, "async.ts");
  assert_int_equal(write_fixture(path, 0, 0), VG_OK);
  mad = read_back(path, VG_FMV_ALIGN_NONE, "mpeg2video");
  print_message("fmv.writer: 48 frames read back, worst mean |difference| per channel %.3f (bound %.1f)\n", mad,
                MAX_MAD);
}

static void demux_async(void **st)
{
  char path[512];
  (void)st;
  path_of(path, sizeof path, "demux.ts");
  assert_int_equal(write_fixture(path, 0, 0), VG_OK);
  probe_check(path, 0);
}

/* memmem is a GNU extension; the build is POSIX 2008. */
static int contains(const uint8_t *buf, size_t n, const char *s)
{
  size_t k = strlen(s);
  for (size_t i = 0; i + k <= n; i++)
    if (!memcmp(buf + i, s, k))
      return 1;
  return 0;
}

static void deterministic(void **st)
{
  char p1[512], p2[512], p3[512];
  uint8_t *a = NULL, *b = NULL, *c = NULL;
  size_t na = 0, nb = 0, nc = 0;
  (void)st;
  path_of(p1, sizeof p1, "det1.ts");
  path_of(p2, sizeof p2, "det2.ts");
  path_of(p3, sizeof p3, "det3.ts");
  assert_int_equal(write_fixture(p1, 0, 0), VG_OK);
  assert_int_equal(write_fixture(p2, 0, 0), VG_OK);
  /* a different input (latitudes a metre off) must give different bytes: the comparison sees content */
  assert_int_equal(write_fixture(p3, 0, 1e-5), VG_OK);
  assert_int_equal(vg_test_read_file(p1, &a, &na), 0);
  assert_int_equal(vg_test_read_file(p2, &b, &nb), 0);
  assert_int_equal(vg_test_read_file(p3, &c, &nc), 0);
  assert_true(na > 188 * 100 && na % 188 == 0);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  assert_true(nc != na || memcmp(a, c, na) != 0);
  /* the service names are vigia's (SDT), not libavformat's defaults */
  assert_true(contains(a, na, "vigia"));
  assert_false(contains(a, na, "FFmpeg"));
  free(a);
  free(b);
  free(c);
}

static void roundtrip_sync(void **st)
{
  char path[512];
  int rc;
  (void)st;
  path_of(path, sizeof path, "sync.ts");
  rc = write_fixture(path, 1, 0);
  if (rc == VG_E_UNSUPPORTED) {
    assert_non_null(strstr(vg_error_last(), "synchronous KLV"));
    assert_int_equal(access(path, F_OK), -1);
    print_message("fmv.writer: synchronous KLV unsupported here: %s\n", vg_error_last());
    return;
  }
  assert_int_equal(rc, VG_OK);
  read_back(path, VG_FMV_ALIGN_PTS, "mpeg2video");
  probe_check(path, 1);
  print_message("fmv.writer: synchronous KLV written (stream type 0x15, metadata AU cells, PTS)\n");
}

/* Counts the frames of @p path and the key frames among them; *keys gets a bit per key frame (first 64). */
static int count_frames(const char *path, int64_t ticks, uint64_t *keys, const char **codec_out)
{
  vg_fmv_source *src = NULL;
  vg_fmv_reader *r = NULL;
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  const vg_fmv_frame *f;
  int n = 0, rc;
  /* decoded (gray, cheap): in metadata-only mode lib/fmv/reader.c reports every frame as a key frame */
  ro.fmt = VG_FMV_GRAY8;
  ro.threads = 1;
  *keys = 0;
  assert_int_equal(vg_fmv_source_open(&src, path), VG_OK);
  assert_int_equal(vg_fmv_reader_new(&r, src, &ro), VG_OK);
  assert_int_equal(vg_fmv_reader_video(r, codec_out, NULL, NULL, NULL), VG_OK);
  while ((rc = vg_fmv_reader_next(r, &f)) == VG_OK) {
    assert_int_equal(f->pts, (int64_t)n * ticks);
    if (f->key_frame && n < 64)
      *keys |= (uint64_t)1 << n;
    n++;
  }
  assert_int_equal(rc, VG_E_TRUNCATED);
  vg_fmv_reader_free(r);
  vg_fmv_source_free(src);
  return n;
}

/* Frame rate, constant quality, gop, bit rate and codec reach the encoder. */
static void options_honoured(void **st)
{
  char pq[512], pg[512], pb[512], px[512], ph[512];
  vg_fmv_writer_opts o = VG_FMV_WRITER_OPTS_INIT;
  uint64_t keys, want = 0;
  const char *codec = NULL;
  struct stat sq, sb, sh;
  int rc;
  (void)st;
  o.width = W;
  o.height = H;
  o.fps_num = FPS;
  path_of(pq, sizeof pq, "opt_default.ts");
  path_of(pg, sizeof pg, "opt_gop.ts");
  path_of(pb, sizeof pb, "opt_rate.ts");
  path_of(px, sizeof px, "opt_x264.ts");
  path_of(ph, sizeof ph, "opt_12fps.ts");
  /* gop 0: one second (24 frames) */
  assert_int_equal(write_with(pq, &o, 0, 0), VG_OK);
  assert_int_equal(count_frames(pq, TICKS, &keys, &codec), NF);
  assert_string_equal(codec, "mpeg2video");
  assert_int_equal(keys, ((uint64_t)1 << 0) | ((uint64_t)1 << 24));
  /*
   * Constant quality: the same 48 pictures at 12 fps take about the same bytes
   * (measured: 4.8% more, the tables and PCR of a multiplex twice as long);
   * under a bit-rate target (libavcodec's default when no quality is set,
   * 200 kbit/s) they take 30% more.
   */
  o.fps_num = 12;
  o.gop = 24;
  assert_int_equal(write_with(ph, &o, 0, 0), VG_OK);
  assert_int_equal(count_frames(ph, 2 * TICKS, &keys, &codec), NF);
  assert_int_equal(keys, ((uint64_t)1 << 0) | ((uint64_t)1 << 24));
  assert_int_equal(stat(pq, &sq), 0);
  assert_int_equal(stat(ph, &sh), 0);
  assert_true(sh.st_size * 100 < sq.st_size * 110 && sh.st_size * 100 > sq.st_size * 90);
  o.fps_num = FPS;
  /* gop 12 */
  o.gop = 12;
  assert_int_equal(write_with(pg, &o, 0, 0), VG_OK);
  assert_int_equal(count_frames(pg, TICKS, &keys, &codec), NF);
  for (int n = 0; n < NF; n += 12)
    want |= (uint64_t)1 << n;
  assert_int_equal(keys, want);
  /*
   * A low bit rate instead of constant quality: a smaller file. (MPEG-2 rate
   * control does not reach 50 kbit/s in two seconds; measured: 0.7 of the
   * qscale-4 size, which is about 350 kbit/s with the TS overhead.)
   */
  o.gop = 0;
  o.bitrate = 50000;
  assert_int_equal(write_with(pb, &o, 0, 0), VG_OK);
  assert_int_equal(stat(pb, &sb), 0);
  assert_true(sb.st_size * 100 < sq.st_size * 85);
  /* another encoder by name, when this libavcodec has it */
  o.bitrate = 0;
  o.codec = "libx264";
  rc = write_with(px, &o, 1, 0);
  if (rc == VG_E_UNSUPPORTED) {
    print_message("fmv.writer: libx264 not in this libavcodec: %s\n", vg_error_last());
    return;
  }
  assert_int_equal(rc, VG_OK);
  read_back(px, VG_FMV_ALIGN_NONE, "h264");
}

static int open_rc(const char *path, const vg_fmv_writer_opts *o)
{
  vg_fmv_writer *w = (vg_fmv_writer *)(uintptr_t)1;
  int rc = vg_fmv_writer_open(&w, path, o);
  assert_int_not_equal(rc, VG_OK);
  assert_true(w == (vg_fmv_writer *)(uintptr_t)1); /* untouched on failure */
  return rc;
}

static void bad_options(void **st)
{
  char path[512], nodir[512];
  vg_fmv_writer_opts good = VG_FMV_WRITER_OPTS_INIT, o;
  vg_fmv_writer *w = NULL;
  uint8_t *rgb = calloc((size_t)W * H * 3, 1);
  uint8_t klv[4] = {0};
  struct stat sb;
  (void)st;
  assert_non_null(rgb);
  good.width = W;
  good.height = H;
  path_of(path, sizeof path, "bad.ts");
  path_of(nodir, sizeof nodir, "no/such/dir/x.ts");
#define BAD(field, val)                                                                                              \
  do {                                                                                                               \
    o = good;                                                                                                        \
    o.field = val;                                                                                                   \
    assert_int_equal(open_rc(path, &o), VG_E_INVALID);                                                               \
  } while (0)
  BAD(width, 321);
  BAD(height, 241);
  BAD(width, 0);
  BAD(height, -2);
  BAD(width, -320);
  BAD(fps_num, 0);
  BAD(fps_den, 0);
  BAD(fps_num, -24);
  BAD(bitrate, -1);
  BAD(gop, -1);
  BAD(klv_sync, 2);
  BAD(version, 99);
#undef BAD
  assert_int_equal(open_rc(NULL, &good), VG_E_INVALID);
  assert_int_equal(open_rc("", &good), VG_E_INVALID);
  assert_int_equal(open_rc("-", &good), VG_E_INVALID);
  assert_non_null(strstr(vg_error_last(), "'-'"));
  assert_int_equal(open_rc(path, NULL), VG_E_INVALID);
  assert_int_equal(vg_fmv_writer_open(NULL, path, &good), VG_E_INVALID);
  /* none of that created the file */
  assert_int_equal(access(path, F_OK), -1);
  /* an encoder libavcodec does not have */
  o = good;
  o.codec = "no-such-encoder";
  assert_int_equal(open_rc(path, &o), VG_E_UNSUPPORTED);
  assert_non_null(strstr(vg_error_last(), "no-such-encoder"));
  assert_int_equal(access(path, F_OK), -1);
  /* a libav failure: the message names the file, what failed and libav's reason */
  assert_int_equal(open_rc(nodir, &good), VG_E_IO);
  assert_non_null(strstr(vg_error_last(), nodir));
  assert_non_null(strstr(vg_error_last(), "No such file or directory"));
  /* bad frames are refused without stopping the writer (and a colon in the name is no protocol) */
  path_of(path, sizeof path, "with:colon.ts");
  assert_int_equal(vg_fmv_writer_open(&w, path, &good), VG_OK);
  assert_int_equal(vg_fmv_writer_frame(w, NULL, (size_t)W * 3, NULL, 0), VG_E_INVALID);
  assert_int_equal(vg_fmv_writer_frame(w, rgb, (size_t)W * 3 - 1, NULL, 0), VG_E_INVALID);
  assert_int_equal(vg_fmv_writer_frame(w, rgb, (size_t)W * 3, NULL, 4), VG_E_INVALID);
  assert_int_equal(vg_fmv_writer_frame(NULL, rgb, (size_t)W * 3, klv, 0), VG_E_INVALID);
  assert_int_equal(vg_fmv_writer_frame(w, rgb, (size_t)W * 3, NULL, 0), VG_OK); /* no KLV for this frame */
  assert_int_equal(vg_fmv_writer_close(w), VG_OK);
  assert_int_equal(stat(path, &sb), 0);
  assert_true(sb.st_size > 0 && sb.st_size % 188 == 0);
  assert_int_equal(vg_fmv_writer_close(NULL), VG_OK);
  free(rgb);
}

/*
 * A write error (/dev/full: ENOSPC) stops the writer at the frame that meets
 * it, not only at the trailer; close still frees everything (ASan checks).
 * The frames are noise (large) and carry no KLV, so this also checks that
 * frames without KLV are not held back in the interleaver.
 */
static void write_error(void **st)
{
  vg_fmv_writer_opts o = VG_FMV_WRITER_OPTS_INIT;
  vg_fmv_writer *w = NULL;
  uint8_t *rgb = malloc((size_t)W * H * 3);
  uint32_t seed = 12345;
  int rc, n;
  (void)st;
  assert_non_null(rgb);
  if (access("/dev/full", W_OK) != 0) {
    free(rgb);
    print_message("fmv.writer: skipped: /dev/full not writable\n");
    skip();
  }
  o.width = W;
  o.height = H;
  o.fps_num = FPS;
  assert_int_equal(vg_fmv_writer_open(&w, "/dev/full", &o), VG_OK);
  rc = VG_OK;
  for (n = 0; rc == VG_OK && n < 100; n++) {
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
      seed = seed * 1103515245u + 12345u;
      rgb[i] = (uint8_t)(seed >> 24);
    }
    rc = vg_fmv_writer_frame(w, rgb, (size_t)W * 3, NULL, 0);
  }
  if (rc != VG_E_IO)
    vg_fmv_writer_close(w);
  assert_int_equal(rc, VG_E_IO);
  assert_true(n < 100);
  assert_non_null(strstr(vg_error_last(), "fmv writer '/dev/full'"));
  assert_non_null(strstr(vg_error_last(), "No space left on device"));
  /* stopped: later frames are refused, close reports the failure and frees */
  assert_int_equal(vg_fmv_writer_frame(w, rgb, (size_t)W * 3, NULL, 0), VG_E_INVALID);
  assert_non_null(strstr(vg_error_last(), "earlier error"));
  free(rgb);
  assert_int_equal(vg_fmv_writer_close(w), VG_E_IO);
  assert_int_equal(access("/dev/full", F_OK), 0); /* a device is never removed */
}

static int on_path(const char *prog)
{
  const char *path = getenv("PATH");
  char buf[1024];
  while (path && *path) {
    size_t n = strcspn(path, ":");
    if (n && n + strlen(prog) + 2 <= sizeof buf) {
      snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
      if (access(buf, X_OK) == 0)
        return 1;
    }
    path += n + (path[n] == ':');
  }
  return 0;
}

static void ffprobe_agrees(void **st)
{
  char path[512], cmd[1024], line[512];
  FILE *p;
  int status, nvideo = 0, ndata = 0;
  char type[32] = "", name[32] = "";
  int width = -1, height = -1, frames = -1;
  (void)st;
  if (!on_path("ffprobe")) {
    print_message("fmv.writer: skipped: ffprobe not found\n");
    skip();
  }
  path_of(path, sizeof path, "ffprobe.ts");
  assert_int_equal(write_fixture(path, 0, 0), VG_OK);
  snprintf(cmd, sizeof cmd, "ffprobe -v error -show_streams -count_frames '%s' 2>&1", path);
  assert_non_null(p = popen(cmd, "r"));
  while (fgets(line, sizeof line, p)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!strcmp(line, "[STREAM]")) {
      type[0] = name[0] = 0;
      width = height = frames = -1;
    } else if (!strncmp(line, "codec_type=", 11)) {
      snprintf(type, sizeof type, "%.31s", line + 11);
    } else if (!strncmp(line, "codec_name=", 11)) {
      snprintf(name, sizeof name, "%.31s", line + 11);
    } else if (!strncmp(line, "width=", 6)) {
      width = atoi(line + 6);
    } else if (!strncmp(line, "height=", 7)) {
      height = atoi(line + 7);
    } else if (!strncmp(line, "nb_read_frames=", 15)) {
      frames = atoi(line + 15);
    } else if (!strcmp(line, "[/STREAM]")) {
      if (!strcmp(type, "video")) {
        nvideo++;
        assert_string_equal(name, "mpeg2video");
        assert_int_equal(width, W);
        assert_int_equal(height, H);
        assert_int_equal(frames, NF);
      } else if (!strcmp(type, "data")) {
        ndata++;
        assert_string_equal(name, "klv");
      } else {
        fail_msg("ffprobe reports an unexpected stream: %s %s", type, name);
      }
    } else if (line[0] && !strchr(line, '=') && line[0] != '[') {
      fail_msg("ffprobe says: %s", line); /* -v error: any message is an error */
    }
  }
  status = pclose(p);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(nvideo, 1);
  assert_int_equal(ndata, 1);
}

/* ---- temp directory ------------------------------------------------------------------- */

static int group_setup(void **st)
{
  const char *tmp = getenv("TMPDIR");
  (void)st;
  snprintf(g_dir, sizeof g_dir, "%s/vg_fmv_writer_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **st)
{
  DIR *d = opendir(g_dir);
  struct dirent *e;
  char path[512];
  (void)st;
  if (!d)
    return -1;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    path_of(path, sizeof path, e->d_name);
    remove(path);
  }
  closedir(d);
  return rmdir(g_dir) ? -1 : 0;
}

int test_fmv_writer_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(roundtrip_async), cmocka_unit_test(demux_async),  cmocka_unit_test(deterministic),
    cmocka_unit_test(roundtrip_sync),  cmocka_unit_test(options_honoured), cmocka_unit_test(bad_options),
    cmocka_unit_test(write_error),     cmocka_unit_test(ffprobe_agrees),
  };
  return cmocka_run_group_tests_name("fmv.writer", tests, group_setup, group_teardown);
}
