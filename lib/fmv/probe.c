/*
 * Probe: one pass of the whole input through the demultiplexer (every KLV
 * packet decoded and counted), then libavformat's view of the video for the
 * facts the TS layer does not have (codec, picture size, frame rate). And the
 * JSON of probes, poses and frame metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "fmv_int.h"

/* Read size of the metadata pass. */
#define PROBE_CHUNK ((size_t)256 << 10)

typedef struct mem_io {
  vg_fmv_source *src;
} mem_io;

static int pr_read(void *opaque, uint8_t *buf, int size)
{
  ssize_t n = vg_fmv_source_read(((mem_io *)opaque)->src, buf, (size_t)size);
  return n > 0 ? (int)n : n == 0 ? AVERROR_EOF : AVERROR(EIO);
}

static int64_t pr_seek(void *opaque, int64_t off, int whence)
{
  vg_fmv_source *s = ((mem_io *)opaque)->src;
  int64_t size = vg_fmv_source_size(s);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE)
    return size >= 0 ? size : AVERROR(ENOSYS);
  if (whence == SEEK_END && size >= 0)
    off += size;
  else if (whence != SEEK_SET)
    return AVERROR(EINVAL);
  return off >= 0 && vg_fmv_source_seek(s, (uint64_t)off) == VG_OK ? off : AVERROR(EIO);
}

/* libavformat's description of the video (best effort: the probe stands without it). */
static void video_facts(vg_fmv_probe *p, vg_fmv_source *src)
{
  mem_io mio = {src};
  uint8_t *iobuf;
  AVIOContext *io;
  AVFormatContext *fmt = avformat_alloc_context();
  int v;
  if (!fmt || vg_fmv_source_seek(src, 0) != VG_OK || !(iobuf = av_malloc(65536))) {
    avformat_free_context(fmt);
    return;
  }
  if (!(io = avio_alloc_context(iobuf, 65536, 0, &mio, pr_read, NULL, pr_seek))) {
    av_free(iobuf);
    avformat_free_context(fmt);
    return;
  }
  fmt->pb = io;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (avformat_open_input(&fmt, vg_fmv_source_name(src), NULL, NULL) < 0) {
    fmt = NULL;
    goto done;
  }
  if (avformat_find_stream_info(fmt, NULL) < 0)
    goto done;
  if (!p->format[0] || strcmp(p->format, "mpegts"))
    snprintf(p->format, sizeof p->format, "%s", fmt->iformat->name);
  if ((v = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) >= 0) {
    const AVStream *st = fmt->streams[v];
    snprintf(p->video_codec, sizeof p->video_codec, "%s", avcodec_get_name(st->codecpar->codec_id));
    p->width = st->codecpar->width;
    p->height = st->codecpar->height;
    p->fps = st->avg_frame_rate.den && st->avg_frame_rate.num ? av_q2d(st->avg_frame_rate)
             : st->r_frame_rate.den                           ? av_q2d(st->r_frame_rate)
                                                              : 0;
  }
  if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0 && p->duration_s <= 0)
    p->duration_s = (double)fmt->duration / AV_TIME_BASE;
done:
  if (fmt)
    avformat_close_input(&fmt);
  av_freep(&io->buffer);
  avio_context_free(&io);
}

int vg_fmv_probe_run(vg_fmv_probe *out, vg_fmv_source *src, const vg_fmv_demux_opts *opts,
                     int (*on_klv)(void *ctx, const vg_fmv_klv *k), void *ctx)
{
  vg_fmv_demux *d = NULL;
  uint8_t *buf = NULL;
  vg_fmv_probe p;
  vg_fmv_klv k;
  vg_fmv_event ev;
  int rc;
  ssize_t n;
  const vg_fmv_stream *ss;
  size_t ns;
  memset(&p, 0, sizeof p);
  vg__fmv_av_init();
  p.video_frames = -1;
  p.bytes = vg_fmv_source_size(src);
  if ((rc = vg_fmv_demux_new(&d, opts)) != VG_OK)
    return rc;
  if (!(buf = malloc(PROBE_CHUNK)) ||
      !(p.events = calloc(VG_FMV_MAX_EVENTS, sizeof *p.events))) {
    rc = vg_error_set(VG_E_NOMEM, "cannot allocate probe buffers");
    goto done;
  }
  for (;;) {
    n = vg_fmv_source_read(src, buf, PROBE_CHUNK);
    if (n < 0) {
      rc = (int)n;
      goto done;
    }
    if (n == 0)
      vg_fmv_demux_finish(d);
    else if ((rc = vg_fmv_demux_feed(d, buf, (size_t)n)) != VG_OK)
      goto done;
    while (vg_fmv_demux_next(d, &k) == VG_OK)
      if (on_klv && (rc = on_klv(ctx, &k)) != VG_OK)
        goto done;
    while (vg_fmv_demux_event(d, &ev)) {
      if (p.nevents < VG_FMV_MAX_EVENTS)
        p.events[p.nevents++] = ev;
      else
        p.events_dropped++;
    }
    if (n == 0)
      break;
  }
  ss = vg_fmv_demux_streams(d, &ns);
  if (ns && !(p.streams = malloc(ns * sizeof *p.streams))) {
    rc = vg_error_set(VG_E_NOMEM, "cannot copy the stream table");
    goto done;
  }
  if (ns)
    memcpy(p.streams, ss, ns * sizeof *ss);
  p.nstreams = ns;
  p.stats = *vg_fmv_demux_stats_get(d);
  if (p.bytes < 0) /* live input: what was read */
    p.bytes = (int64_t)p.stats.bytes;
  if (p.stats.packet_size)
    snprintf(p.format, sizeof p.format, "mpegts");
  for (size_t i = 0; i < ns; i++) {
    size_t j;
    if (!p.streams[i].program)
      continue;
    for (j = 0; j < p.nprograms && p.programs[j] != p.streams[i].program; j++)
      ;
    if (j == p.nprograms && p.nprograms < sizeof p.programs / sizeof p.programs[0])
      p.programs[p.nprograms++] = p.streams[i].program;
  }
  /* Duration from the first video stream's PTS span plus one frame, else the PCR span. */
  for (size_t i = 0; i < ns; i++) {
    const vg_fmv_stream *s = &p.streams[i];
    if (s->kind == VG_FMV_ES_VIDEO && s->pts_first != VG_FMV_NOPTS) {
      p.video_frames = (int64_t)s->pes_packets;
      p.duration_s = (double)(s->pts_last - s->pts_first) / 90000.0;
      if (s->pes_packets > 1)
        p.duration_s *= (double)s->pes_packets / (double)(s->pes_packets - 1);
      break;
    }
  }
  if (p.duration_s <= 0 && p.stats.pcr_first != VG_FMV_NOPTS)
    p.duration_s = (double)(p.stats.pcr_last - p.stats.pcr_first) / 90000.0;
  if (vg_fmv_source_seekable(src))
    video_facts(&p, src);
  *out = p;
  memset(&p, 0, sizeof p);
  rc = VG_OK;
done:
  vg_fmv_probe_clear(&p);
  free(buf);
  vg_fmv_demux_free(d);
  return rc;
}

void vg_fmv_probe_clear(vg_fmv_probe *p)
{
  if (!p)
    return;
  free(p->streams);
  free(p->events);
  memset(p, 0, sizeof *p);
}

/* ---- JSON ---- */

/* One "key": value member. */
static void kv_uint(vg_jw *w, const char *k, uint64_t v)
{
  vg_jw_key(w, k);
  vg_jw_uint(w, v);
}
static void kv_int(vg_jw *w, const char *k, int64_t v)
{
  vg_jw_key(w, k);
  vg_jw_int(w, v);
}
static void kv_real(vg_jw *w, const char *k, double v)
{
  vg_jw_key(w, k);
  vg_jw_real(w, v);
}
static void kv_bool(vg_jw *w, const char *k, int v)
{
  vg_jw_key(w, k);
  vg_jw_bool(w, v);
}
static void kv_str(vg_jw *w, const char *k, const char *v)
{
  vg_jw_key(w, k);
  vg_jw_str(w, v);
}

static void jw_time_iso(vg_jw *w, uint64_t us)
{
  char s[96];
  time_t t = (time_t)(us / 1000000u);
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    vg_jw_null(w);
    return;
  }
  snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000u));
  vg_jw_str(w, s);
}

static void jw_hex8(vg_jw *w, unsigned v)
{
  char s[8];
  snprintf(s, sizeof s, "0x%02X", v & 0xFF);
  vg_jw_str(w, s);
}

static void jw_pid(vg_jw *w, unsigned v)
{
  char s[8];
  snprintf(s, sizeof s, "0x%04X", v & 0x1FFF);
  vg_jw_str(w, s);
}

static void jw_pts(vg_jw *w, const char *key, int64_t pts)
{
  vg_jw_key(w, key);
  if (pts == VG_FMV_NOPTS)
    vg_jw_null(w);
  else
    vg_jw_real(w, (double)pts / 90000.0);
}

static const char *es_kind_name(vg_fmv_es_kind k)
{
  static const char *const n[] = {"unknown", "video", "audio", "klv", "data"};
  return (unsigned)k <= VG_FMV_ES_DATA ? n[k] : "unknown";
}

int vg_fmv_probe_to_json(vg_jw *w, const vg_fmv_probe *p, const char *name)
{
  const vg_fmv_demux_stats *st = &p->stats;
  uint64_t klv_total = 0;
  vg_jw_obj_begin(w);
  kv_str(w, "file", name);
  kv_str(w, "format", p->format[0] ? p->format : "unknown");
  vg_jw_key(w, "bytes");
  if (p->bytes >= 0)
    vg_jw_int(w, p->bytes);
  else
    vg_jw_uint(w, st->bytes);
  kv_uint(w, "packet_size", st->packet_size);
  kv_real(w, "duration_s", p->duration_s);
  vg_jw_key(w, "programs");
  vg_jw_arr_begin(w);
  for (size_t i = 0; i < p->nprograms; i++)
    vg_jw_uint(w, p->programs[i]);
  vg_jw_arr_end(w);
  vg_jw_key(w, "video");
  if (p->video_codec[0]) {
    vg_jw_obj_begin(w);
    kv_str(w, "codec", p->video_codec);
    kv_int(w, "width", p->width);
    kv_int(w, "height", p->height);
    kv_real(w, "fps", p->fps);
    kv_int(w, "frames", p->video_frames);
    vg_jw_obj_end(w);
  } else {
    vg_jw_null(w);
  }
  vg_jw_key(w, "streams");
  vg_jw_arr_begin(w);
  for (size_t i = 0; i < p->nstreams; i++) {
    const vg_fmv_stream *s = &p->streams[i];
    vg_jw_obj_begin(w);
    vg_jw_key(w, "pid");
    jw_pid(w, s->pid);
    kv_uint(w, "program", s->program);
    kv_bool(w, "declared", s->declared);
    vg_jw_key(w, "stream_type");
    jw_hex8(w, s->stream_type);
    kv_str(w, "kind", es_kind_name(s->kind));
    kv_str(w, "codec", s->codec);
    vg_jw_key(w, "pes_stream_id");
    if (s->pes_stream_id)
      jw_hex8(w, s->pes_stream_id);
    else
      vg_jw_null(w);
    kv_uint(w, "ts_packets", s->ts_packets);
    kv_uint(w, "pes_packets", s->pes_packets);
    kv_uint(w, "pes_with_pts", s->pes_with_pts);
    jw_pts(w, "pts_first_s", s->pts_first);
    jw_pts(w, "pts_last_s", s->pts_last);
    kv_uint(w, "cc_errors", s->cc_errors);
    kv_uint(w, "pes_bad", s->pes_bad);
    if (s->kind == VG_FMV_ES_KLV) {
      klv_total += s->klv_packets;
      vg_jw_key(w, "klv");
      vg_jw_obj_begin(w);
      kv_str(w, "carriage", vg_fmv_carriage_name(s->carriage));
      kv_bool(w, "klva", s->klva);
      kv_bool(w, "metadata_descriptor", s->metadata_descriptor);
      kv_uint(w, "au_cells", s->au_cells);
      kv_uint(w, "packets", s->klv_packets);
      vg_jw_key(w, "kinds");
      vg_jw_obj_begin(w);
      for (int kk = 0; kk < VG_KLV_KIND__COUNT; kk++)
        if (s->kinds[kk]) {
          vg_jw_key(w, vg_klv_kind_name((vg_klv_kind)kk));
          vg_jw_uint(w, s->kinds[kk]);
        }
      vg_jw_obj_end(w);
      vg_jw_key(w, "ls_versions");
      vg_jw_obj_begin(w);
      for (int kv = 0; kv < s->nversions; kv++) {
        char vs[16];
        snprintf(vs, sizeof vs, "%d", s->versions[kv]);
        vg_jw_key(w, vs);
        vg_jw_uint(w, s->version_count[kv]);
      }
      vg_jw_obj_end(w);
      kv_uint(w, "checksum_ok", s->cksum_ok);
      kv_uint(w, "checksum_bad", s->cksum_bad);
      kv_uint(w, "checksum_missing", s->cksum_missing);
      kv_uint(w, "undecodable", s->klv_bad);
      kv_uint(w, "junk_bytes", s->junk_bytes);
      kv_uint(w, "gap_bytes", s->gap_bytes);
      kv_uint(w, "size_min", s->size_min);
      kv_uint(w, "size_max", s->size_max);
      vg_jw_key(w, "time_first");
      if (s->time_first_us)
        jw_time_iso(w, s->time_first_us);
      else
        vg_jw_null(w);
      vg_jw_key(w, "time_last");
      if (s->time_last_us)
        jw_time_iso(w, s->time_last_us);
      else
        vg_jw_null(w);
      vg_jw_obj_end(w);
    }
    vg_jw_obj_end(w);
  }
  vg_jw_arr_end(w);
  kv_uint(w, "klv_packets", klv_total);
  vg_jw_key(w, "damage");
  vg_jw_obj_begin(w);
  kv_uint(w, "ts_packets", st->ts_packets);
  kv_uint(w, "sync_losses", st->sync_losses);
  kv_uint(w, "junk_bytes", st->junk_bytes);
  kv_uint(w, "transport_errors", st->tei_packets);
  kv_uint(w, "cc_errors", st->cc_errors);
  kv_uint(w, "psi_crc_errors", st->psi_crc_errors);
  kv_uint(w, "psi_bad", st->psi_bad);
  kv_uint(w, "pes_bad", st->pes_bad);
  kv_uint(w, "klv_undecodable", st->klv_bad);
  kv_uint(w, "klv_checksum_bad", st->cksum_bad);
  kv_uint(w, "truncated_bytes", st->truncated_bytes);
  vg_jw_obj_end(w);
  vg_jw_key(w, "events");
  vg_jw_arr_begin(w);
  for (size_t i = 0; i < p->nevents; i++) {
    vg_jw_obj_begin(w);
    kv_uint(w, "offset", p->events[i].offset);
    vg_jw_key(w, "pid");
    if (p->events[i].pid == 0x1FFF)
      vg_jw_null(w);
    else
      jw_pid(w, p->events[i].pid);
    kv_str(w, "error", vg_err_name(p->events[i].err));
    kv_str(w, "what", p->events[i].what);
    vg_jw_obj_end(w);
  }
  vg_jw_arr_end(w);
  kv_uint(w, "events_dropped", p->events_dropped);
  vg_jw_obj_end(w);
  return VG_OK;
}

int vg_fmv_pose_to_json(vg_jw *w, const vg_klv_pose *p)
{
#define R(field, key, member)                                                                                      \
  if (vg_klv_pose_has(p, field)) {                                                                                 \
    vg_jw_key(w, key);                                                                                             \
    vg_jw_real(w, p->member);                                                                                      \
  }
  vg_jw_obj_begin(w);
  kv_str(w, "source", vg_klv_kind_name(p->source));
  if (p->ls_version >= 0) {
    kv_int(w, "ls_version", p->ls_version);
  }
  if (vg_klv_pose_has(p, VG_POSE_TIME)) {
    kv_uint(w, "time_us", p->time_us);
    vg_jw_key(w, "time");
    jw_time_iso(w, p->time_us);
  }
  R(VG_POSE_PLATFORM_HEADING, "platform_heading", platform_heading)
  R(VG_POSE_PLATFORM_PITCH, "platform_pitch", platform_pitch)
  R(VG_POSE_PLATFORM_ROLL, "platform_roll", platform_roll)
  R(VG_POSE_SENSOR_LAT, "sensor_lat", sensor_lat)
  R(VG_POSE_SENSOR_LON, "sensor_lon", sensor_lon)
  R(VG_POSE_SENSOR_ALT_MSL, "sensor_alt_msl", sensor_alt_msl)
  R(VG_POSE_SENSOR_ALT_HAE, "sensor_alt_hae", sensor_alt_hae)
  R(VG_POSE_HFOV, "hfov", hfov)
  R(VG_POSE_VFOV, "vfov", vfov)
  R(VG_POSE_SENSOR_REL_AZ, "sensor_rel_az", sensor_rel_az)
  R(VG_POSE_SENSOR_REL_EL, "sensor_rel_el", sensor_rel_el)
  R(VG_POSE_SENSOR_REL_ROLL, "sensor_rel_roll", sensor_rel_roll)
  R(VG_POSE_SENSOR_ABS_AZ, "sensor_abs_az", sensor_abs_az)
  R(VG_POSE_SENSOR_ABS_EL, "sensor_abs_el", sensor_abs_el)
  R(VG_POSE_SENSOR_ABS_ROLL, "sensor_abs_roll", sensor_abs_roll)
  R(VG_POSE_SLANT_RANGE, "slant_range", slant_range)
  R(VG_POSE_TARGET_WIDTH, "target_width", target_width)
  R(VG_POSE_FRAME_CENTER_LAT, "frame_center_lat", frame_center_lat)
  R(VG_POSE_FRAME_CENTER_LON, "frame_center_lon", frame_center_lon)
  R(VG_POSE_FRAME_CENTER_ELEV_MSL, "frame_center_elev_msl", frame_center_elev_msl)
  R(VG_POSE_FRAME_CENTER_HAE, "frame_center_hae", frame_center_hae)
#undef R
  if (vg_klv_pose_has(p, VG_POSE_CORNERS)) {
    vg_jw_key(w, "corners");
    vg_jw_arr_begin(w);
    for (int k = 0; k < 4; k++) {
      vg_jw_arr_begin(w);
      vg_jw_real(w, p->corner_lat[k]);
      vg_jw_real(w, p->corner_lon[k]);
      vg_jw_arr_end(w);
    }
    vg_jw_arr_end(w);
    kv_bool(w, "corners_full", p->corners_full);
  }
  if (vg_klv_pose_has(p, VG_POSE_PLATFORM_DESIGNATION)) {
    kv_str(w, "platform_designation", p->platform_designation);
  }
  if (vg_klv_pose_has(p, VG_POSE_SECURITY)) {
    vg_jw_key(w, "security");
    vg_jw_obj_begin(w);
    vg_jw_key(w, "classification");
    vg_jw_uint(w, p->security_class);
    vg_jw_key(w, "coding_method");
    vg_jw_uint(w, p->security_method);
    kv_str(w, "releasing_instructions", p->security_rel);
    kv_str(w, "caveats", p->security_caveats);
    vg_jw_obj_end(w);
  }
  vg_jw_obj_end(w);
  return VG_OK;
}

int vg_fmv_frame_meta_to_json(vg_jw *w, const vg_fmv_frame *f)
{
  const vg_fmv_frame_meta *m = &f->meta;
  vg_jw_obj_begin(w);
  kv_int(w, "frame", f->index);
  jw_pts(w, "pts_s", f->pts);
  kv_real(w, "time_s", f->time_s);
  kv_int(w, "width", f->width);
  kv_int(w, "height", f->height);
  kv_bool(w, "key_frame", f->key_frame);
  kv_bool(w, "corrupt", f->corrupt);
  kv_str(w, "align", vg_fmv_align_name(m->align));
  if (m->align != VG_FMV_ALIGN_NONE) {
    vg_jw_key(w, "klv_pid");
    jw_pid(w, m->pid);
    kv_real(w, "age_s", m->age_s);
    kv_real(w, "gap_s", m->gap_s);
    kv_real(w, "weight", m->weight);
    if (m->align == VG_FMV_ALIGN_TIMESTAMP || m->align == VG_FMV_ALIGN_TIMESTAMP_HOLD) {
      kv_int(w, "offset_us", m->offset_us);
      kv_bool(w, "offset_estimated", m->offset_estimated);
    }
    vg_jw_key(w, "pose");
    vg_fmv_pose_to_json(w, &m->pose);
  }
  vg_jw_obj_end(w);
  return VG_OK;
}
