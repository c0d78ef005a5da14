/*
 * The frame reader: libavformat demultiplexes and libavcodec decodes the video
 * from a vg_fmv_source while every byte read also goes, once and in order,
 * through vg_fmv_demux (the "tee"), whose KLV packets fill the pose time line.
 * A decoded frame is handed out once the time line holds metadata at or after
 * its time (so the pose will not change with more input), at the end of
 * input, or when VG_FMV_READER_MAX_QUEUE frames wait.
 *
 * libavformat sees the KLV PIDs too but is told to discard them: vigia's own
 * demultiplexer knows every carriage, counts continuity errors and keeps the
 * PES time of each packet, which libavformat does not expose.
 */
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "fmv_int.h"

/* AVIOContext buffer. */
#define RD_IO_BUF ((size_t)256 << 10)
/* Live sources: probe at most this much before handing out frames. */
#define RD_LIVE_PROBESIZE (64 * 1024)
#define RD_LIVE_ANALYZE_US 500000
/* Bytes after the last pixel row that libswscale may write. */
#define RD_PIX_PAD 64
/* Frames keep their pose within this many 90 kHz ticks behind the newest frame (B-frame reordering). */
#define RD_TRIM_SLACK (2 * 90000)

struct vg_fmv_reader {
  vg_fmv_reader_opts opts;
  vg_fmv_source *src;
  uint64_t io_pos, fed_upto;
  int src_eof;
  int io_err;
  AVIOContext *io;
  AVFormatContext *fmt;
  AVCodecContext *dec;
  struct SwsContext *sws;
  int vidx;
  AVPacket *pkt;
  AVFrame *q[VG_FMV_READER_MAX_QUEUE];
  size_t q_head, q_n;
  AVFrame *cur;
  uint8_t *pix;
  size_t pix_cap;
  vg_fmv_frame out;
  int64_t index;
  int64_t first_pts;
  int eof;        /* libavformat reached the end */
  int flushed;    /* decoder drained */
  vg_fmv_demux *demux;
  vg_fmv_timeline *tl;
  uint64_t decode_errors;
};

static int av_err(int e, const char *what)
{
  char msg[128];
  av_strerror(e, msg, sizeof msg);
  return vg_error_set(e == AVERROR(ENOMEM) ? VG_E_NOMEM : VG_E_IO, "%s: %s", what, msg);
}

/* AVIOContext read: from the source; bytes not seen before go to the demultiplexer too. */
static int io_read(void *opaque, uint8_t *buf, int size)
{
  vg_fmv_reader *r = opaque;
  ssize_t n = vg_fmv_source_read(r->src, buf, (size_t)size);
  if (n < 0) {
    r->io_err = (int)n;
    return AVERROR(EIO);
  }
  if (n == 0) {
    r->src_eof = 1;
    return AVERROR_EOF;
  }
  if (r->io_pos <= r->fed_upto && r->io_pos + (uint64_t)n > r->fed_upto) {
    size_t skip = (size_t)(r->fed_upto - r->io_pos);
    if (vg_fmv_demux_feed(r->demux, buf + skip, (size_t)n - skip) != VG_OK)
      r->io_err = VG_E_NOMEM;
    r->fed_upto = r->io_pos + (uint64_t)n;
  }
  r->io_pos += (uint64_t)n;
  return (int)n;
}

static int64_t io_seek(void *opaque, int64_t off, int whence)
{
  vg_fmv_reader *r = opaque;
  int64_t size = vg_fmv_source_size(r->src), to;
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE)
    return size >= 0 ? size : AVERROR(ENOSYS);
  if (whence == SEEK_SET)
    to = off;
  else if (whence == SEEK_CUR)
    to = (int64_t)r->io_pos + off;
  else if (whence == SEEK_END && size >= 0)
    to = size + off;
  else
    return AVERROR(EINVAL);
  if (to < 0 || vg_fmv_source_seek(r->src, (uint64_t)to) != VG_OK)
    return AVERROR(EIO);
  r->io_pos = (uint64_t)to;
  r->src_eof = 0;
  return to;
}

static void drain_klv(vg_fmv_reader *r)
{
  vg_fmv_klv k;
  while (vg_fmv_demux_next(r->demux, &k) == VG_OK)
    vg_fmv_timeline_add(r->tl, &k);
}

int vg_fmv_reader_new(vg_fmv_reader **out, vg_fmv_source *src, const vg_fmv_reader_opts *opts)
{
  vg_fmv_reader *r = calloc(1, sizeof *r);
  uint8_t *iobuf = NULL;
  int rc = VG_OK, e;
  if (!r)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a frame reader");
  vg__fmv_av_init();
  r->opts = opts ? *opts : (vg_fmv_reader_opts)VG_FMV_READER_OPTS_INIT;
  r->src = src;
  r->first_pts = VG_FMV_NOPTS;
  r->vidx = -1;
  if ((rc = vg_fmv_demux_new(&r->demux, &r->opts.demux)) != VG_OK ||
      (rc = vg_fmv_timeline_new(&r->tl, &r->opts.timeline)) != VG_OK)
    goto done;
  if (!(iobuf = av_malloc(RD_IO_BUF)) || !(r->pkt = av_packet_alloc()) || !(r->fmt = avformat_alloc_context())) {
    rc = vg_error_set(VG_E_NOMEM, "cannot allocate libavformat state");
    goto done;
  }
  r->io = avio_alloc_context(iobuf, (int)RD_IO_BUF, 0, r, io_read, NULL,
                             vg_fmv_source_seekable(src) ? io_seek : NULL);
  if (!r->io) {
    av_free(iobuf);
    rc = vg_error_set(VG_E_NOMEM, "cannot allocate an AVIOContext");
    goto done;
  }
  r->io->seekable = vg_fmv_source_seekable(src) ? AVIO_SEEKABLE_NORMAL : 0;
  r->fmt->pb = r->io;
  r->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (!vg_fmv_source_seekable(src)) {
    /* Live input: libavformat's defaults (5 MB / 5 s of probing, and a frame
     * rate estimated over many frames) hold the first frames back for
     * seconds; a feed must reach the register within about a second. */
    r->fmt->probesize = RD_LIVE_PROBESIZE;
    r->fmt->max_analyze_duration = RD_LIVE_ANALYZE_US;
    r->fmt->fps_probe_size = 1;
    /* No libavformat parser: it ends a picture only at the next picture's
     * start code, which arrives one PES later, so each frame waited one more
     * frame interval (a second at 1 fps). Without it each PES (one access
     * unit, as STANAG 4609 encoders write them) goes to the decoder when the
     * demultiplexer closes it; the decoders find the picture in it. */
    r->fmt->flags |= AVFMT_FLAG_NOPARSE | AVFMT_FLAG_NOFILLIN;
  }
  if ((e = avformat_open_input(&r->fmt, vg_fmv_source_name(src), NULL, NULL)) < 0) {
    r->fmt = NULL; /* freed by avformat_open_input on failure */
    rc = av_err(e, vg_fmv_source_name(src));
    goto done;
  }
  if ((e = avformat_find_stream_info(r->fmt, NULL)) < 0) {
    rc = av_err(e, "reading stream information");
    goto done;
  }
  r->vidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (r->vidx < 0) {
    rc = vg_error_set(VG_E_NOTFOUND, "%s: no video stream", vg_fmv_source_name(src));
    goto done;
  }
  for (unsigned i = 0; i < r->fmt->nb_streams; i++)
    if ((int)i != r->vidx)
      r->fmt->streams[i]->discard = AVDISCARD_ALL;
  if (r->opts.decode) {
    AVStream *st = r->fmt->streams[r->vidx];
    const AVCodec *c = avcodec_find_decoder(st->codecpar->codec_id);
    if (!c) {
      rc = vg_error_set(VG_E_UNSUPPORTED, "no decoder for %s", avcodec_get_name(st->codecpar->codec_id));
      goto done;
    }
    if (!(r->dec = avcodec_alloc_context3(c))) {
      rc = vg_error_set(VG_E_NOMEM, "cannot allocate a decoder");
      goto done;
    }
    if ((e = avcodec_parameters_to_context(r->dec, st->codecpar)) < 0) {
      rc = av_err(e, "decoder parameters");
      goto done;
    }
    r->dec->pkt_timebase = st->time_base;
    r->dec->thread_count = r->opts.threads;
    if ((e = avcodec_open2(r->dec, c, NULL)) < 0) {
      rc = av_err(e, "opening the decoder");
      goto done;
    }
  }
  drain_klv(r);
  *out = r;
  r = NULL;
done:
  vg_fmv_reader_free(r);
  return rc;
}

void vg_fmv_reader_free(vg_fmv_reader *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->q_n; i++)
    av_frame_free(&r->q[(r->q_head + i) % VG_FMV_READER_MAX_QUEUE]);
  av_frame_free(&r->cur);
  av_packet_free(&r->pkt);
  avcodec_free_context(&r->dec);
  sws_freeContext(r->sws);
  if (r->fmt)
    avformat_close_input(&r->fmt);
  if (r->io) {
    av_freep(&r->io->buffer);
    avio_context_free(&r->io);
  }
  free(r->pix);
  vg_fmv_timeline_free(r->tl);
  vg_fmv_demux_free(r->demux);
  free(r);
}

vg_fmv_demux *vg_fmv_reader_demux(vg_fmv_reader *r) { return r->demux; }
vg_fmv_timeline *vg_fmv_reader_timeline(vg_fmv_reader *r) { return r->tl; }
uint64_t vg_fmv_reader_decode_errors(const vg_fmv_reader *r) { return r->decode_errors; }

int vg_fmv_reader_video(const vg_fmv_reader *r, const char **codec, int *width, int *height, double *fps)
{
  const AVStream *st = r->fmt->streams[r->vidx];
  if (codec)
    *codec = avcodec_get_name(st->codecpar->codec_id);
  if (width)
    *width = st->codecpar->width;
  if (height)
    *height = st->codecpar->height;
  if (fps)
    *fps = st->avg_frame_rate.den ? av_q2d(st->avg_frame_rate)
           : st->r_frame_rate.den  ? av_q2d(st->r_frame_rate)
                                   : 0.0;
  return VG_OK;
}

static int64_t to90k(const vg_fmv_reader *r, int64_t ts)
{
  if (ts == AV_NOPTS_VALUE)
    return VG_FMV_NOPTS;
  return av_rescale_q(ts, r->fmt->streams[r->vidx]->time_base, (AVRational){1, 90000});
}

static int q_put(vg_fmv_reader *r, AVFrame *f)
{
  if (r->q_n == VG_FMV_READER_MAX_QUEUE)
    return VG_E_LIMIT;
  r->q[(r->q_head + r->q_n) % VG_FMV_READER_MAX_QUEUE] = f;
  r->q_n++;
  return VG_OK;
}

/* Takes decoded frames out of the decoder into the queue. */
static int receive(vg_fmv_reader *r)
{
  for (;;) {
    AVFrame *f;
    int e;
    if (r->q_n == VG_FMV_READER_MAX_QUEUE)
      return VG_OK;
    if (!(f = av_frame_alloc()))
      return vg_error_set(VG_E_NOMEM, "cannot allocate a frame");
    e = avcodec_receive_frame(r->dec, f);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) {
      av_frame_free(&f);
      if (e == AVERROR_EOF)
        r->flushed = 1;
      return VG_OK;
    }
    if (e < 0) {
      av_frame_free(&f);
      r->decode_errors++;
      return VG_OK;
    }
    if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
      r->decode_errors++;
    q_put(r, f);
  }
}

/* Reads one more packet (or finishes the input); decoded frames go to the queue. */
static int pump(vg_fmv_reader *r)
{
  int e;
  if (r->eof) {
    if (r->dec && !r->flushed) {
      avcodec_send_packet(r->dec, NULL);
      return receive(r);
    }
    r->flushed = 1;
    return VG_OK;
  }
  e = av_read_frame(r->fmt, r->pkt);
  drain_klv(r);
  if (e < 0) {
    if (e != AVERROR_EOF && !r->src_eof && r->io_err == VG_OK) {
      /* libavformat gives up on some damage; the demultiplexer keeps the rest. */
      vg_log(VG_LOG_WARN, "fmv", "%s: %s", vg_fmv_source_name(r->src), av_err2str(e));
    }
    if (r->io_err != VG_OK && r->io_err != VG_E_NOMEM)
      vg_log(VG_LOG_WARN, "fmv", "%s: read error: %s", vg_fmv_source_name(r->src), vg_error_last());
    /* Whatever stopped libavformat, the rest of the bytes still go through the demultiplexer. */
    if (!r->src_eof && r->io_err == VG_OK) {
      uint8_t *buf = malloc(RD_IO_BUF);
      ssize_t n;
      if (buf) {
        if (vg_fmv_source_seekable(r->src) && r->fed_upto != r->io_pos &&
            vg_fmv_source_seek(r->src, r->fed_upto) == VG_OK)
          r->io_pos = r->fed_upto;
        while (r->io_pos == r->fed_upto && (n = vg_fmv_source_read(r->src, buf, RD_IO_BUF)) > 0) {
          vg_fmv_demux_feed(r->demux, buf, (size_t)n);
          r->io_pos += (uint64_t)n;
          r->fed_upto = r->io_pos;
        }
        free(buf);
      }
    }
    vg_fmv_demux_finish(r->demux);
    drain_klv(r);
    r->eof = 1;
    return r->io_err == VG_E_NOMEM ? VG_E_NOMEM : VG_OK;
  }
  if (r->pkt->stream_index == r->vidx) {
    if (r->dec) {
      e = avcodec_send_packet(r->dec, r->pkt);
      if (e == AVERROR(EAGAIN)) {
        /* Queue full upstream: make room by receiving first, then retry once. */
        receive(r);
        e = avcodec_send_packet(r->dec, r->pkt);
      }
      if (e < 0 && e != AVERROR(EAGAIN))
        r->decode_errors++;
      av_packet_unref(r->pkt);
      return receive(r);
    } else {
      /* Metadata only: one entry per video packet, timed by its PTS. */
      AVFrame *f = av_frame_alloc();
      if (!f) {
        av_packet_unref(r->pkt);
        return vg_error_set(VG_E_NOMEM, "cannot allocate a frame");
      }
      f->pts = r->pkt->pts != AV_NOPTS_VALUE ? r->pkt->pts : r->pkt->dts;
      f->best_effort_timestamp = f->pts;
      if (r->pkt->flags & AV_PKT_FLAG_KEY)
        f->key_frame = 1;
      if (r->pkt->flags & AV_PKT_FLAG_CORRUPT)
        f->flags |= AV_FRAME_FLAG_CORRUPT;
      q_put(r, f);
    }
  }
  av_packet_unref(r->pkt);
  return VG_OK;
}

static int64_t frame_pts(const vg_fmv_reader *r, const AVFrame *f)
{
  return to90k(r, f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts);
}

/* 8-bit formats whose first plane is the luma. */
static int gray_direct(enum AVPixelFormat fmt, enum AVColorRange range)
{
  (void)range;
  switch (fmt) {
  case AV_PIX_FMT_YUV420P: case AV_PIX_FMT_YUV422P: case AV_PIX_FMT_YUV444P: case AV_PIX_FMT_YUV411P:
  case AV_PIX_FMT_YUV440P: case AV_PIX_FMT_YUVJ420P: case AV_PIX_FMT_YUVJ422P: case AV_PIX_FMT_YUVJ444P:
  case AV_PIX_FMT_NV12: case AV_PIX_FMT_NV21: case AV_PIX_FMT_GRAY8:
    return 1;
  default:
    return 0;
  }
}

/*
 * One row of Y' 16..235 stretched to 0..255, rounded and clamped (ITU-R
 * BT.601/709 limited range): (y - 16) * 255/219 in 14-bit fixed point. The
 * constants give exactly round((y - 16) * 255 / 219) for all 256 inputs, which
 * is also what libswscale gives; the loop is plain arithmetic so the compiler
 * vectorises it.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* 8 lanes of 32 bits with AVX2 where the CPU has it, SSE2 otherwise (chosen at load time). */
__attribute__((target_clones("avx2", "default")))
#endif
static void limited_to_full_row(uint8_t *dst, const uint8_t *src, int n)
{
  for (int x = 0; x < n; x++) {
    int t = ((int)src[x] - 16) * 19077 + 8136;
    t = t < 0 ? 0 : t >> 14;
    dst[x] = (uint8_t)(t > 255 ? 255 : t);
  }
}

static int convert(vg_fmv_reader *r, AVFrame *f)
{
  enum AVPixelFormat dst = r->opts.fmt == VG_FMV_RGB24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8;
  int bpp = r->opts.fmt == VG_FMV_RGB24 ? 3 : 1;
  size_t stride = ((size_t)f->width * (size_t)bpp + 31) & ~(size_t)31;
  /* libswscale's SIMD stores run up to a vector past the last row: pad (valgrind found 8 bytes). */
  size_t need = stride * (size_t)f->height + RD_PIX_PAD;
  uint8_t *planes[4] = {0};
  int strides[4] = {0};
  if (f->width <= 0 || f->height <= 0)
    return vg_error_set(VG_E_MALFORMED, "decoded frame of %dx%d", f->width, f->height);
  if (need > r->pix_cap) {
    uint8_t *np = realloc(r->pix, need);
    if (!np)
      return vg_error_set(VG_E_NOMEM, "cannot allocate %zu bytes of pixels", need);
    r->pix = np;
    r->pix_cap = need;
  }
  if (dst == AV_PIX_FMT_GRAY8 && gray_direct((enum AVPixelFormat)f->format, f->color_range)) {
    /*
     * 8-bit Y'CbCr: the gray picture is the luma plane, stretched from the
     * limited range (16-235) to 0-255, which gives exactly what libswscale
     * gives (checked on AP Hill), many times faster.
     */
    int full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_GRAY8 ||
               f->format == AV_PIX_FMT_YUVJ420P || f->format == AV_PIX_FMT_YUVJ422P ||
               f->format == AV_PIX_FMT_YUVJ444P;
    for (int y = 0; y < f->height; y++) {
      const uint8_t *src = f->data[0] + (ptrdiff_t)y * f->linesize[0];
      uint8_t *dp = r->pix + (size_t)y * stride;
      if (full)
        memcpy(dp, src, (size_t)f->width);
      else
        limited_to_full_row(dp, src, f->width);
    }
    goto out;
  }
  r->sws = sws_getCachedContext(r->sws, f->width, f->height, (enum AVPixelFormat)f->format, f->width, f->height,
                                dst, dst == AV_PIX_FMT_RGB24 ? SWS_FAST_BILINEAR : SWS_BICUBIC, NULL, NULL, NULL);
  if (!r->sws)
    return vg_error_set(VG_E_UNSUPPORTED, "cannot convert %s frames", av_get_pix_fmt_name((enum AVPixelFormat)f->format));
  planes[0] = r->pix;
  strides[0] = (int)stride;
  sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes, strides);
out:
  r->out.pixels = r->pix;
  r->out.stride = stride;
  r->out.width = f->width;
  r->out.height = f->height;
  r->out.fmt = r->opts.fmt;
  return VG_OK;
}

int vg_fmv_reader_next(vg_fmv_reader *r, const vg_fmv_frame **out)
{
  int rc;
  for (;;) {
    if (r->q_n) {
      AVFrame *f = r->q[r->q_head];
      int64_t pts = frame_pts(r, f);
      size_t nklv = 0;
      const vg_fmv_stream *ss = vg_fmv_demux_streams(r->demux, &nklv);
      int any_klv = 0;
      for (size_t i = 0; i < nklv; i++)
        any_klv |= ss[i].kind == VG_FMV_ES_KLV;
      if (r->eof || r->q_n == VG_FMV_READER_MAX_QUEUE || pts == VG_FMV_NOPTS || !any_klv ||
          vg_fmv_timeline_covers(r->tl, pts)) {
        r->q_head = (r->q_head + 1) % VG_FMV_READER_MAX_QUEUE;
        r->q_n--;
        av_frame_free(&r->cur);
        r->cur = f;
        memset(&r->out, 0, sizeof r->out);
        r->out.index = r->index++;
        r->out.pts = pts;
        if (pts != VG_FMV_NOPTS && r->first_pts == VG_FMV_NOPTS)
          r->first_pts = pts;
        r->out.time_s = pts != VG_FMV_NOPTS && r->first_pts != VG_FMV_NOPTS ? (double)(pts - r->first_pts) / 90000.0 : 0;
        r->out.key_frame = f->key_frame;
        r->out.corrupt = f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT);
        r->out.fmt = r->opts.fmt;
        if (r->dec && (rc = convert(r, f)) != VG_OK)
          return rc;
        if (!r->dec) /* no pixels: the stream's declared size, for geometry */
          vg_fmv_reader_video(r, NULL, &r->out.width, &r->out.height, NULL);
        vg_fmv_timeline_at(r->tl, pts, &r->out.meta);
        if (pts != VG_FMV_NOPTS)
          vg_fmv_timeline_trim(r->tl, pts - RD_TRIM_SLACK);
        *out = &r->out;
        return VG_OK;
      }
    } else if (r->eof && r->flushed) {
      return VG_E_TRUNCATED;
    }
    if ((rc = pump(r)) != VG_OK)
      return rc;
    if (r->eof && r->flushed && !r->q_n)
      return VG_E_TRUNCATED;
  }
}

/* ---- PNG and JSON of a frame ---- */

int vg_fmv_frame_png(const vg_fmv_frame *f, vg_buf *out)
{
  const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_PNG);
  AVCodecContext *ctx = NULL;
  AVFrame *fr = NULL;
  AVPacket *pkt = NULL;
  int rc = VG_OK, e;
  if (!f->pixels)
    return vg_error_set(VG_E_INVALID, "frame %lld has no pixels (metadata-only reader)", (long long)f->index);
  if (!c)
    return vg_error_set(VG_E_UNSUPPORTED, "libavcodec has no PNG encoder");
  if (!(ctx = avcodec_alloc_context3(c)) || !(fr = av_frame_alloc()) || !(pkt = av_packet_alloc())) {
    rc = vg_error_set(VG_E_NOMEM, "cannot allocate a PNG encoder");
    goto done;
  }
  ctx->width = f->width;
  ctx->height = f->height;
  ctx->pix_fmt = f->fmt == VG_FMV_RGB24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8;
  ctx->time_base = (AVRational){1, 25};
  if ((e = avcodec_open2(ctx, c, NULL)) < 0) {
    rc = av_err(e, "opening the PNG encoder");
    goto done;
  }
  fr->width = f->width;
  fr->height = f->height;
  fr->format = ctx->pix_fmt;
  fr->data[0] = (uint8_t *)(uintptr_t)f->pixels;
  fr->linesize[0] = (int)f->stride;
  if ((e = avcodec_send_frame(ctx, fr)) < 0 || (e = avcodec_receive_packet(ctx, pkt)) < 0) {
    rc = av_err(e, "encoding PNG");
    goto done;
  }
  rc = vg_buf_append(out, pkt->data, (size_t)pkt->size);
done:
  av_packet_free(&pkt);
  if (fr)
    fr->data[0] = NULL;
  av_frame_free(&fr);
  avcodec_free_context(&ctx);
  return rc;
}
