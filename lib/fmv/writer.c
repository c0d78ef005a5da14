/*
 * The transport stream writer: RGB24 frames go through libswscale into the
 * encoder's pixel format, libavcodec encodes them, and libavformat's "mpegts"
 * muxer interleaves them with one KLV metadata stream (MISB ST 1402 /
 * STANAG 4609 carriage). It exists for the simulator and the test fixtures.
 *
 * Streams (PMT order; the muxer gives PIDs 0x100, 0x101):
 *
 *   index 0  data, KLV    AV_CODEC_ID_SMPTE_KLV, one packet per frame with the
 *                         frame's PTS; the muxer chooses the carriage from
 *                         codecpar->profile (FFmpeg 5.1, libavformat 59.27):
 *     asynchronous  FF_PROFILE_KLVA_ASYNC: stream_type 0x06 + registration
 *                   descriptor 'KLVA'. The muxer's PES stream_id for it is 0xFC
 *                   with a PTS (what vigia calls "hybrid") unless the packet
 *                   carries AV_PKT_DATA_MPEGTS_STREAM_ID 0xBD; with it the PES is
 *                   private_stream_1 without PTS (ST 1402 asynchronous), which
 *                   is what is written here.
 *     synchronous   FF_PROFILE_KLVA_SYNC: stream_type 0x15 + 'KLVA', PES
 *                   stream_id 0xFC with PTS. The muxer copies the payload as
 *                   it is, while 13818-1 §2.12.4 (and FFmpeg's own demuxer,
 *                   which strips 5 bytes) wants metadata AU cells, so each
 *                   packet gets its 5-byte cell header here:
 *                     metadata_service_id(8)=0 sequence_number(8)
 *                     cell_fragment_indication(2)=11 decoder_config_flag(1)=0
 *                     random_access_indicator(1)=1 reserved(4)=1111
 *                     AU_cell_data_length(16)
 *   index 1  video        libavcodec encoder (mpeg2video by default) without
 *                         B-frames (MPEG-2 in low-delay mode), so PTS = DTS =
 *                         frame number on a 1/fps time base.
 *
 * Each frame's KLV goes into the multiplex just before its picture, as
 * real-time encoders write it and as the reader's time line assumes when it
 * places PTS-less (asynchronous) packets by the video PES that follows them:
 * the KLV waits in a queue until the encoder (which may hold frames: libx264's
 * look-ahead) gives out that frame's packet, and the KLV stream comes first
 * because at equal DTS the interleaver puts the lower stream index first.
 * Frames sent without KLV wait at most one frame in the interleaver
 * (max_interleave_delta), not its default 10 s.
 *
 * Determinism (the same frames and KLV give the same bytes): bit-exact flags
 * on the muxer, the encoder and libswscale, one encoder thread, the service
 * names set here, and no wall-clock (the muxer's clock is the packets' DTS).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "fmv_int.h"

/* MPEG-2 constant quality: qscale 4 (ffmpeg -q:v 4, visually clean at any size). */
#define WR_QSCALE 4
/* Largest picture side accepted (libavcodec's own limit is higher; MPEG-2 stops at 16383). */
#define WR_MAX_SIDE 16384
/* AU_cell_data_length is 16 bits (13818-1 Table 2-97): larger KLV is refused in sync carriage. */
#define WR_AU_CELL_MAX 0xFFFF
#define WR_AU_CELL_HDR 5
/*
 * Frames of KLV held while the encoder holds their pictures: libx264's
 * look-ahead is at most 250 frames (--rc-lookahead), plus its thread and
 * B-frame delays.
 */
#define WR_KLV_QUEUE_MAX 1024
/* Name written as the DVB service provider and service (SDT). */
#define WR_SERVICE "vigia"

/*
 * Synchronous KLV (stream_type 0x15): the muxer chooses it from the KLVA
 * profile of the stream (AV_PROFILE_* since FFmpeg 6.1, FF_PROFILE_* before;
 * checked with FFmpeg 5.1). Without the profile there is no way to ask for it.
 * The AU cell header added below assumes the muxer writes none, as 5.1 does;
 * the unit test reads the cells back and fails if a later muxer adds its own.
 */
#if defined(AV_PROFILE_KLVA_SYNC)
#define WR_KLVA_SYNC AV_PROFILE_KLVA_SYNC
#define WR_KLVA_ASYNC AV_PROFILE_KLVA_ASYNC
#elif defined(FF_PROFILE_KLVA_SYNC)
#define WR_KLVA_SYNC FF_PROFILE_KLVA_SYNC
#define WR_KLVA_ASYNC FF_PROFILE_KLVA_ASYNC
#endif

struct vg_fmv_writer {
  vg_fmv_writer_opts o;
  char *path;
  AVFormatContext *fmt;
  AVCodecContext *enc;
  AVStream *vst, *kst;
  struct SwsContext *sws;
  AVFrame *frame;
  AVPacket *pkt;
  int64_t n;          /* frames sent so far: the next frame's PTS */
  uint8_t au_seq;     /* sync carriage: AU cell sequence_number */
  AVPacket **klvq;    /* KLV of frames whose picture the encoder still holds, in frame order */
  size_t klvq_n, klvq_cap;
  int header_done;    /* avformat_write_header succeeded: the trailer is owed */
  int failed;         /* an earlier call failed: later frames are refused */
};

static int av_code(int e)
{
  return e == AVERROR(ENOMEM) ? VG_E_NOMEM : e == AVERROR(EINVAL) ? VG_E_INVALID : VG_E_IO;
}

static int wr_err(const vg_fmv_writer *w, int e, const char *what)
{
  char msg[AV_ERROR_MAX_STRING_SIZE];
  av_strerror(e, msg, sizeof msg);
  return vg_error_set(av_code(e), "fmv writer '%s': %s: %s", w->path, what, msg);
}

static int check_opts(const char *path, const vg_fmv_writer_opts *o)
{
  if (!path || !path[0])
    return vg_error_set(VG_E_INVALID, "fmv writer: no output path");
  if (!strcmp(path, "-"))
    return vg_error_set(VG_E_INVALID, "fmv writer '-': standard output is not accepted, give a file");
  if (!o)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': no options", path);
  if (o->version != VG_FMV_WRITER_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': options version %d, expected %d", path, o->version,
                        VG_FMV_WRITER_OPTS_VERSION);
  if (o->width <= 0 || o->height <= 0 || (o->width & 1) || (o->height & 1) || o->width > WR_MAX_SIDE ||
      o->height > WR_MAX_SIDE)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': picture size %dx%d (both even, 2..%d)", path, o->width,
                        o->height, WR_MAX_SIDE);
  if (o->fps_num <= 0 || o->fps_den <= 0)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': frame rate %d/%d", path, o->fps_num, o->fps_den);
  if (o->bitrate < 0 || o->gop < 0)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': bit rate %lld, GOP %d", path, (long long)o->bitrate,
                        o->gop);
  if (o->klv_sync != 0 && o->klv_sync != 1)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': klv_sync %d (0 or 1)", path, o->klv_sync);
  return VG_OK;
}

/* The encoder's input format: YUV420P when it takes it, else its first. */
static enum AVPixelFormat pick_pix_fmt(const AVCodec *c)
{
  const enum AVPixelFormat *p = c->pix_fmts;
  if (!p)
    return AV_PIX_FMT_YUV420P;
  for (; *p != AV_PIX_FMT_NONE; p++)
    if (*p == AV_PIX_FMT_YUV420P)
      return AV_PIX_FMT_YUV420P;
  return c->pix_fmts[0];
}

static int open_encoder(vg_fmv_writer *w, const char *codec)
{
  const char *name = codec && codec[0] ? codec : "mpeg2video";
  const AVCodec *c = avcodec_find_encoder_by_name(name);
  AVCodecContext *e;
  int r;
  if (!c)
    return vg_error_set(VG_E_UNSUPPORTED, "fmv writer '%s': libavcodec has no encoder \"%s\"", w->path, name);
  if (c->type != AVMEDIA_TYPE_VIDEO)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': \"%s\" is not a video encoder", w->path, name);
  if (!(w->enc = e = avcodec_alloc_context3(c)))
    return vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate the %s encoder", w->path, name);
  e->width = w->o.width;
  e->height = w->o.height;
  e->pix_fmt = pick_pix_fmt(c);
  e->time_base = (AVRational){w->o.fps_den, w->o.fps_num};
  e->framerate = (AVRational){w->o.fps_num, w->o.fps_den};
  e->sample_aspect_ratio = (AVRational){1, 1};
  e->gop_size = w->o.gop ? w->o.gop : (int)((w->o.fps_num + w->o.fps_den / 2) / w->o.fps_den);
  if (e->gop_size < 1)
    e->gop_size = 1;
  /* No reordering: PTS = DTS, so each frame's KLV sits beside its picture in the multiplex. */
  e->max_b_frames = 0;
  if (c->id == AV_CODEC_ID_MPEG2VIDEO)
    e->flags |= AV_CODEC_FLAG_LOW_DELAY; /* DTS = PTS, not one frame earlier */
  e->thread_count = 1;
  e->flags |= AV_CODEC_FLAG_BITEXACT;
  /* What libswscale's RGB to Y'CbCr conversion gives (BT.601, limited range), said in the stream. */
  e->colorspace = AVCOL_SPC_SMPTE170M;
  e->color_range = AVCOL_RANGE_MPEG;
  if (w->o.bitrate > 0) {
    e->bit_rate = w->o.bitrate;
  } else if (c->id == AV_CODEC_ID_MPEG2VIDEO || c->id == AV_CODEC_ID_MPEG1VIDEO || c->id == AV_CODEC_ID_MPEG4) {
    e->flags |= AV_CODEC_FLAG_QSCALE;
    e->global_quality = FF_QP2LAMBDA * WR_QSCALE;
  } /* others (libx264: CRF 23) are constant quality by default */
  if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
    e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if ((r = avcodec_open2(e, c, NULL)) < 0) {
    char what[160];
    snprintf(what, sizeof what, "opening the %s encoder (%dx%d, %d/%d fps)", name, w->o.width, w->o.height,
             w->o.fps_num, w->o.fps_den);
    return wr_err(w, r, what);
  }
  return VG_OK;
}

int vg_fmv_writer_open(vg_fmv_writer **out, const char *path, const vg_fmv_writer_opts *o)
{
  vg_fmv_writer *w = NULL;
  char *url = NULL;
  int rc, r, created = 0;
  if (!out)
    return vg_error_set(VG_E_INVALID, "fmv writer: no handle to return");
  if ((rc = check_opts(path, o)) != VG_OK)
    return rc;
#ifndef WR_KLVA_SYNC
  if (o->klv_sync)
    return vg_error_set(VG_E_UNSUPPORTED,
                        "fmv writer '%s': synchronous KLV (stream type 0x15): this libavcodec (%s) has no KLVA "
                        "profile to ask the mpegts muxer for it",
                        path, AV_STRINGIFY(LIBAVCODEC_VERSION));
#endif
  vg__fmv_av_init();
  if (!(w = calloc(1, sizeof *w)) || !(w->path = strdup(path))) {
    free(w);
    return vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate the writer", path);
  }
  w->o = *o;
  w->o.codec = NULL; /* borrowed: used only while opening */
  if ((r = avformat_alloc_output_context2(&w->fmt, NULL, "mpegts", path)) < 0 || !w->fmt) {
    rc = r < 0 ? wr_err(w, r, "allocating the mpegts muxer")
               : vg_error_set(VG_E_UNSUPPORTED, "fmv writer '%s': libavformat has no mpegts muxer", path);
    goto done;
  }
  w->fmt->flags |= AVFMT_FLAG_BITEXACT;
  /*
   * The interleaver holds packets until every stream has one, or for
   * max_interleave_delta (10 s by default): frames sent without KLV would wait
   * there. One frame is enough, since each frame's KLV comes with it.
   */
  w->fmt->max_interleave_delta =
      av_rescale_q_rnd(1, (AVRational){o->fps_den, o->fps_num}, AV_TIME_BASE_Q, AV_ROUND_UP);
  if (av_dict_set(&w->fmt->metadata, "service_provider", WR_SERVICE, 0) < 0 ||
      av_dict_set(&w->fmt->metadata, "service_name", WR_SERVICE, 0) < 0) {
    rc = vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot set the service names", path);
    goto done;
  }
  if ((rc = open_encoder(w, o->codec)) != VG_OK)
    goto done;
  if (!(w->kst = avformat_new_stream(w->fmt, NULL)) || !(w->vst = avformat_new_stream(w->fmt, NULL))) {
    rc = vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot add the streams", path);
    goto done;
  }
  if ((r = avcodec_parameters_from_context(w->vst->codecpar, w->enc)) < 0) {
    rc = wr_err(w, r, "video stream parameters");
    goto done;
  }
  w->vst->time_base = w->enc->time_base;
  w->vst->avg_frame_rate = w->enc->framerate;
  w->kst->codecpar->codec_type = AVMEDIA_TYPE_DATA;
  w->kst->codecpar->codec_id = AV_CODEC_ID_SMPTE_KLV;
#ifdef WR_KLVA_SYNC
  w->kst->codecpar->profile = o->klv_sync ? WR_KLVA_SYNC : WR_KLVA_ASYNC;
#endif
  w->kst->time_base = w->enc->time_base;
  if (!(w->frame = av_frame_alloc()) || !(w->pkt = av_packet_alloc())) {
    rc = vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate a frame", path);
    goto done;
  }
  w->frame->format = w->enc->pix_fmt;
  w->frame->width = w->enc->width;
  w->frame->height = w->enc->height;
  if ((r = av_frame_get_buffer(w->frame, 0)) < 0) {
    rc = wr_err(w, r, "allocating the picture");
    goto done;
  }
  /* Bit-exact C paths: the same pixels on any CPU. */
  w->sws = sws_getContext(o->width, o->height, AV_PIX_FMT_RGB24, o->width, o->height, w->enc->pix_fmt,
                          SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
  if (!w->sws) {
    rc = vg_error_set(VG_E_UNSUPPORTED, "fmv writer '%s': libswscale cannot convert RGB24 to %s", path,
                      av_get_pix_fmt_name(w->enc->pix_fmt));
    goto done;
  }
  /* "file:" so that a name with a colon is not taken for a protocol (udp:, http:, ...) */
  if (!(url = av_asprintf("file:%s", path))) {
    rc = vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate the URL", path);
    goto done;
  }
  if ((r = avio_open(&w->fmt->pb, url, AVIO_FLAG_WRITE)) < 0) {
    rc = wr_err(w, r, "creating the file");
    goto done;
  }
  created = 1;
  if ((r = avformat_write_header(w->fmt, NULL)) < 0) {
    rc = wr_err(w, r, "writing the header");
    goto done;
  }
  w->header_done = 1;
  *out = w;
  w = NULL;
done:
  av_free(url);
  if (w) {
    struct stat sb;
    vg_fmv_writer_close(w);
    /* Leave no half-written file behind, but never remove a device (/dev/null, /dev/full). */
    if (created && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
      remove(path);
  }
  return rc;
}

/* Hands the KLV packets of frames up to @p pts (video time base; AV_NOPTS_VALUE: all) to the muxer. */
static int release_klv(vg_fmv_writer *w, int64_t pts)
{
  size_t k = 0;
  int rc = VG_OK, r;
  while (k < w->klvq_n &&
         (pts == AV_NOPTS_VALUE || av_compare_ts(w->klvq[k]->pts, w->kst->time_base, pts, w->vst->time_base) <= 0)) {
    r = av_interleaved_write_frame(w->fmt, w->klvq[k]); /* takes the packet's reference */
    av_packet_free(&w->klvq[k]);
    k++;
    if (r < 0) {
      rc = wr_err(w, r, "writing a KLV packet");
      break;
    }
  }
  if (k) {
    memmove(w->klvq, w->klvq + k, (w->klvq_n - k) * sizeof *w->klvq);
    w->klvq_n -= k;
  }
  return rc;
}

/* Takes the encoded packets out of the encoder into the muxer, each after its frame's KLV. */
static int drain(vg_fmv_writer *w)
{
  for (;;) {
    int rc, r = avcodec_receive_packet(w->enc, w->pkt);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
      return VG_OK;
    if (r < 0)
      return wr_err(w, r, "encoding");
    av_packet_rescale_ts(w->pkt, w->enc->time_base, w->vst->time_base);
    w->pkt->stream_index = w->vst->index;
    if ((rc = release_klv(w, w->pkt->pts)) != VG_OK) {
      av_packet_unref(w->pkt);
      return rc;
    }
    r = av_interleaved_write_frame(w->fmt, w->pkt); /* takes the packet's reference */
    if (r < 0)
      return wr_err(w, r, "writing a video packet");
  }
}

/* Queues frame @p n's KLV until the encoder gives out that frame's picture. */
static int queue_klv(vg_fmv_writer *w, int64_t n, const uint8_t *klv, size_t len)
{
  size_t hdr = w->o.klv_sync ? WR_AU_CELL_HDR : 0;
  AVPacket *pkt;
  uint8_t *d;
  int r;
  if (w->o.klv_sync && len > WR_AU_CELL_MAX)
    return vg_error_set(VG_E_LIMIT, "fmv writer '%s': frame %lld: %zu bytes of KLV exceed one metadata AU cell (%d)",
                        w->path, (long long)n, len, WR_AU_CELL_MAX);
  if (w->klvq_n == WR_KLV_QUEUE_MAX)
    return vg_error_set(VG_E_LIMIT, "fmv writer '%s': frame %lld: %d frames of KLV wait for the encoder", w->path,
                        (long long)n, WR_KLV_QUEUE_MAX);
  if (w->klvq_n == w->klvq_cap) {
    size_t cap = w->klvq_cap ? 2 * w->klvq_cap : 16;
    AVPacket **q = realloc(w->klvq, cap * sizeof *q);
    if (!q)
      return vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot grow the KLV queue", w->path);
    w->klvq = q;
    w->klvq_cap = cap;
  }
  if (!(pkt = av_packet_alloc()))
    return vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate a KLV packet", w->path);
  if ((r = av_new_packet(pkt, (int)(len + hdr))) < 0) {
    av_packet_free(&pkt);
    return wr_err(w, r, "allocating a KLV packet");
  }
  d = pkt->data;
  if (hdr) {
    d[0] = 0;
    d[1] = w->au_seq++;
    d[2] = 0xDF; /* complete cell, random access point */
    d[3] = (uint8_t)(len >> 8);
    d[4] = (uint8_t)len;
  }
  memcpy(d + hdr, klv, len);
  pkt->stream_index = w->kst->index;
  pkt->pts = pkt->dts = av_rescale_q(n, w->enc->time_base, w->kst->time_base);
  pkt->flags |= AV_PKT_FLAG_KEY;
  if (!w->o.klv_sync) {
    uint8_t *sid = av_packet_new_side_data(pkt, AV_PKT_DATA_MPEGTS_STREAM_ID, 1);
    if (!sid) {
      av_packet_free(&pkt);
      return vg_error_set(VG_E_NOMEM, "fmv writer '%s': cannot allocate packet side data", w->path);
    }
    *sid = 0xBD; /* private_stream_1: asynchronous */
  }
  w->klvq[w->klvq_n++] = pkt;
  return VG_OK;
}

int vg_fmv_writer_frame(vg_fmv_writer *w, const uint8_t *rgb, size_t stride, const uint8_t *klv, size_t klv_len)
{
  const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
  int sstride[4] = {0};
  int rc, r;
  if (!w)
    return vg_error_set(VG_E_INVALID, "fmv writer: no writer");
  if (w->failed)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': an earlier error stopped the writer", w->path);
  if (!rgb || stride < (size_t)w->o.width * 3 || stride > INT_MAX)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': frame %lld: no pixels or row stride %zu under %d", w->path,
                        (long long)w->n, stride, w->o.width * 3);
  if ((klv_len && !klv) || klv_len > (size_t)INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE - WR_AU_CELL_HDR)
    return vg_error_set(VG_E_INVALID, "fmv writer '%s': frame %lld: KLV of %zu bytes", w->path, (long long)w->n,
                        klv_len);
  sstride[0] = (int)stride;
  if ((r = av_frame_make_writable(w->frame)) < 0) {
    rc = wr_err(w, r, "making the picture writable");
    goto fail;
  }
  sws_scale(w->sws, src, sstride, 0, w->o.height, w->frame->data, w->frame->linesize);
  w->frame->pts = w->n;
  if (w->enc->flags & AV_CODEC_FLAG_QSCALE)
    w->frame->quality = w->enc->global_quality;
  if (klv_len && (rc = queue_klv(w, w->n, klv, klv_len)) != VG_OK)
    goto fail;
  if ((r = avcodec_send_frame(w->enc, w->frame)) < 0) {
    rc = wr_err(w, r, "sending a frame to the encoder");
    goto fail;
  }
  if ((rc = drain(w)) != VG_OK)
    goto fail;
  w->n++;
  return VG_OK;
fail:
  w->failed = 1;
  return rc;
}

int vg_fmv_writer_close(vg_fmv_writer *w)
{
  int rc = VG_OK, r;
  if (!w)
    return VG_OK;
  if (w->header_done) {
    /* Flush the encoder (even after an error: whatever it holds is still good) and end the file. */
    if ((r = avcodec_send_frame(w->enc, NULL)) < 0)
      rc = wr_err(w, r, "flushing the encoder");
    else
      rc = drain(w);
    if ((r = release_klv(w, AV_NOPTS_VALUE)) != VG_OK && rc == VG_OK)
      rc = r;
    if ((r = av_write_trailer(w->fmt)) < 0 && rc == VG_OK)
      rc = wr_err(w, r, "writing the trailer");
  }
  if (w->fmt && w->fmt->pb) {
    if ((r = avio_closep(&w->fmt->pb)) < 0 && rc == VG_OK)
      rc = wr_err(w, r, "closing the file");
  }
  avformat_free_context(w->fmt);
  avcodec_free_context(&w->enc);
  sws_freeContext(w->sws);
  av_frame_free(&w->frame);
  av_packet_free(&w->pkt);
  for (size_t i = 0; i < w->klvq_n; i++)
    av_packet_free(&w->klvq[i]);
  free(w->klvq);
  free(w->path);
  free(w);
  return rc;
}
