/*
 * Byte sources (DESIGN.md convention 7): a file, standard input, memory, a
 * live URL through libavformat's protocol layer, or the caller's callbacks.
 * Everything above reads through vg_fmv_source_read(), so tests and fuzzers
 * feed memory and live input takes the same path as files.
 *
 * RTP (RFC 3550 §5.1) as it arrives on rtp:// URLs, one datagram per read:
 *
 *   byte 0     V(2)=2 P(1) X(1) CC(4)
 *   byte 1     M(1) PT(7)           PT 33 = MP2T (RFC 3551), dynamic 96-127 also seen
 *   bytes 2-3  sequence number      gaps = lost datagrams (counted)
 *   bytes 4-11 timestamp, SSRC
 *   then CC x 4 bytes CSRC, then if X: 2 bytes profile + 2 bytes length (32-bit words) + extension,
 *   then the payload (RFC 2250: whole 188-byte TS packets), then if P: padding whose
 *   count is the last byte.
 *
 * A datagram that is not RTP version 2 is passed on whole: some senders put bare
 * TS on an "rtp" address, and the demultiplexer finds its sync either way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

#include "fmv_int.h"
#include "util/rd.h"

struct vg_fmv_source {
  vg_fmv_source_ops ops;
  void *ctx;
  char name[512];
};

/* Largest datagram read from a packet protocol (UDP payload limit). */
#define SRC_DGRAM_MAX 65536

/* ---- memory ---- */
typedef struct mem_src {
  const uint8_t *buf;
  size_t len, pos;
} mem_src;

static ssize_t mem_read(void *ctx, uint8_t *buf, size_t n)
{
  mem_src *m = ctx;
  size_t k = m->len - m->pos;
  if (k > n)
    k = n;
  if (k)
    memcpy(buf, m->buf + m->pos, k);
  m->pos += k;
  return (ssize_t)k;
}
static int mem_seek(void *ctx, uint64_t off)
{
  mem_src *m = ctx;
  if (off > m->len)
    return vg_error_set(VG_E_RANGE, "seek to %llu past the end (%zu bytes)", (unsigned long long)off, m->len);
  m->pos = (size_t)off;
  return VG_OK;
}
static int64_t mem_size(void *ctx) { return (int64_t)((mem_src *)ctx)->len; }
static void mem_close(void *ctx) { free(ctx); }

/* ---- file descriptor ---- */
typedef struct fd_src {
  int fd;
  int own;
  int seekable;
  int64_t size;
} fd_src;

static ssize_t fd_read(void *ctx, uint8_t *buf, size_t n)
{
  fd_src *f = ctx;
  for (;;) {
    ssize_t k = read(f->fd, buf, n);
    if (k >= 0)
      return k;
    if (errno == EINTR)
      continue;
    return vg_error_set(VG_E_IO, "read: %s", strerror(errno));
  }
}
static int fd_seek(void *ctx, uint64_t off)
{
  fd_src *f = ctx;
  if (!f->seekable)
    return vg_error_set(VG_E_UNSUPPORTED, "input is not seekable");
  if (lseek(f->fd, (off_t)off, SEEK_SET) < 0)
    return vg_error_set(VG_E_IO, "seek to %llu: %s", (unsigned long long)off, strerror(errno));
  return VG_OK;
}
static int64_t fd_size(void *ctx) { return ((fd_src *)ctx)->size; }
static void fd_close(void *ctx)
{
  fd_src *f = ctx;
  if (f->own)
    close(f->fd);
  free(f);
}

/* ---- libavformat protocol (live URLs) ---- */
typedef struct av_src {
  AVIOContext *io;
  uint64_t got; /* bytes received so far */
  int rtp;
  int have_seq;
  uint16_t seq;
  uint64_t rtp_lost;
  uint8_t *dgram;
} av_src;

/* Strips an RTP header in place. @return payload offset and *plen, or -1 when it is not RTP. */
static long rtp_payload(const uint8_t *p, size_t n, size_t *plen, uint16_t *seq)
{
  vg_rd r;
  uint8_t b0;
  size_t cc, pad = 0;
  rd_init(&r, p, n);
  b0 = rd_u8(&r);
  if (r.err || (b0 >> 6) != 2 || n < 12)
    return -1;
  (void)rd_u8(&r);
  *seq = (uint16_t)rd_uint_be(&r, 2);
  (void)rd_bytes(&r, 8);
  cc = b0 & 0x0f;
  (void)rd_bytes(&r, cc * 4);
  if (b0 & 0x10) {
    size_t words;
    (void)rd_bytes(&r, 2);
    words = (size_t)rd_uint_be(&r, 2);
    (void)rd_bytes(&r, words * 4);
  }
  if (r.err)
    return -1;
  if (b0 & 0x20) {
    pad = p[n - 1];
    if (pad > rd_left(&r))
      return -1;
  }
  *plen = rd_left(&r) - pad;
  return (long)rd_pos(&r);
}

/*
 * A live feed has no end marker: once data has come, a read that times out
 * (the URL's timeout option) or fails is the end of the stream, said in the
 * log. Before any data it is an error.
 */
static ssize_t live_error(av_src *a, int k)
{
  char e[128];
  av_strerror(k, e, sizeof e);
  if (a->got) {
    vg_log(VG_LOG_INFO, "fmv", "live input ends after %llu bytes: %s", (unsigned long long)a->got, e);
    return 0;
  }
  return vg_error_set(VG_E_IO, "read: %s (nothing received)", e);
}

static ssize_t av_read(void *ctx, uint8_t *buf, size_t n)
{
  av_src *a = ctx;
  int k;
  if (!a->rtp) {
    k = avio_read_partial(a->io, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (k == AVERROR_EOF || k == 0)
      return 0;
    if (k < 0)
      return live_error(a, k);
    a->got += (uint64_t)k;
    return k;
  }
  for (;;) {
    size_t plen;
    uint16_t seq;
    long off;
    /* One datagram per read: the request is larger than the AVIOContext buffer. */
    k = avio_read_partial(a->io, a->dgram, SRC_DGRAM_MAX);
    if (k == AVERROR_EOF || k == 0)
      return 0;
    if (k < 0)
      return live_error(a, k);
    a->got += (uint64_t)k;
    off = rtp_payload(a->dgram, (size_t)k, &plen, &seq);
    if (off < 0) {
      off = 0;
      plen = (size_t)k;
    } else {
      if (a->have_seq && seq != (uint16_t)(a->seq + 1)) {
        a->rtp_lost += (uint16_t)(seq - a->seq - 1);
        vg_log(VG_LOG_WARN, "fmv", "rtp: sequence %u after %u: %u datagram(s) lost", seq, a->seq,
                    (unsigned)(uint16_t)(seq - a->seq - 1));
      }
      a->have_seq = 1;
      a->seq = seq;
    }
    if (plen == 0)
      continue;
    if (plen > n)
      plen = n; /* callers ask for >= 64 KiB; a datagram never exceeds it */
    memcpy(buf, a->dgram + off, plen);
    return (ssize_t)plen;
  }
}
static void av_close(void *ctx)
{
  av_src *a = ctx;
  avio_closep(&a->io);
  free(a->dgram);
  free(a);
}

/* ---- libav* messages ---- */

/*
 * libav* reports decode trouble on stderr by itself; vigia counts and reports
 * damage in its own words, so their messages go to the debug log (--log debug).
 */
static void av_log_sink(void *avcl, int level, const char *fmt, va_list vl)
{
  char line[1024];
  static __thread int prefix = 1;
  (void)avcl;
  if (level > AV_LOG_VERBOSE || vg_log_get_level() < VG_LOG_DEBUG)
    return;
  av_log_format_line(avcl, level, fmt, vl, line, (int)sizeof line, &prefix);
  line[strcspn(line, "\n")] = 0;
  if (line[0])
    vg_log(VG_LOG_DEBUG, "libav", "%s", line);
}

static pthread_once_t g_av_once = PTHREAD_ONCE_INIT;
static void av_init(void) { av_log_set_callback(av_log_sink); }
void vg__fmv_av_init(void) { pthread_once(&g_av_once, av_init); }

/* ---- public ---- */

int vg_fmv_source_custom(vg_fmv_source **out, const vg_fmv_source_ops *ops, void *ctx, const char *name)
{
  vg_fmv_source *s;
  if (!ops || !ops->read)
    return vg_error_set(VG_E_INVALID, "a source needs a read callback");
  if (!(s = calloc(1, sizeof *s)))
    return vg_error_set(VG_E_NOMEM, "cannot allocate a source");
  s->ops = *ops;
  s->ctx = ctx;
  snprintf(s->name, sizeof s->name, "%s", name ? name : "(source)");
  *out = s;
  return VG_OK;
}

int vg_fmv_source_mem(vg_fmv_source **out, const uint8_t *buf, size_t len)
{
  static const vg_fmv_source_ops ops = {mem_read, mem_seek, mem_size, mem_close};
  mem_src *m = calloc(1, sizeof *m);
  int rc;
  if (!m)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a memory source");
  m->buf = buf;
  m->len = buf ? len : 0;
  if ((rc = vg_fmv_source_custom(out, &ops, m, "(memory)")) != VG_OK)
    free(m);
  return rc;
}

/* Schemes read through libavformat's protocols rather than the file system. */
static int is_url(const char *what)
{
  const char *c = strstr(what, "://");
  if (!c || c == what)
    return 0;
  for (const char *p = what; p < c; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))
      return 0;
  return strncmp(what, "file://", 7) != 0;
}

int vg_fmv_source_open(vg_fmv_source **out, const char *what)
{
  static const vg_fmv_source_ops fd_ops = {fd_read, fd_seek, fd_size, fd_close};
  static const vg_fmv_source_ops av_ops = {av_read, NULL, NULL, av_close};
  int rc;
  if (!what || !*what)
    return vg_error_set(VG_E_INVALID, "no input named");
  vg__fmv_av_init();
  if (is_url(what)) {
    av_src *a = calloc(1, sizeof *a);
    AVDictionary *o = NULL;
    int e;
    if (!a)
      return vg_error_set(VG_E_NOMEM, "cannot allocate a URL source");
    a->rtp = strncmp(what, "rtp://", 6) == 0;
    if (a->rtp && !(a->dgram = malloc(SRC_DGRAM_MAX))) {
      free(a);
      return vg_error_set(VG_E_NOMEM, "cannot allocate a datagram buffer");
    }
    /* Live TS at tens of Mb/s: a large socket buffer so bursts are not dropped. */
    av_dict_set(&o, "buffer_size", "4194304", 0);
    av_dict_set(&o, "fifo_size", "1000000", 0);
    if (a->rtp) {
      /* libavformat's rtp protocol would expect RTCP on port+1; plain UDP gives the datagrams. */
      char url[1024];
      snprintf(url, sizeof url, "udp://%s", what + 6);
      e = avio_open2(&a->io, url, AVIO_FLAG_READ, NULL, &o);
    } else {
      e = avio_open2(&a->io, what, AVIO_FLAG_READ, NULL, &o);
    }
    av_dict_free(&o);
    if (e < 0) {
      char msg[128];
      av_strerror(e, msg, sizeof msg);
      free(a->dgram);
      free(a);
      return vg_error_set(VG_E_IO, "%s: %s", what, msg);
    }
    if ((rc = vg_fmv_source_custom(out, &av_ops, a, what)) != VG_OK)
      av_close(a);
    return rc;
  }
  {
    fd_src *f = calloc(1, sizeof *f);
    struct stat st;
    const char *path = strncmp(what, "file://", 7) == 0 ? what + 7 : what;
    if (!f)
      return vg_error_set(VG_E_NOMEM, "cannot allocate a file source");
    if (!strcmp(path, "-")) {
      f->fd = 0;
    } else if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
      int en = errno;
      free(f);
      return vg_error_set(en == ENOENT ? VG_E_NOTFOUND : VG_E_IO, "%s: %s", path, strerror(en));
    } else {
      f->own = 1;
    }
    f->size = -1;
    if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode)) {
      f->seekable = 1;
      f->size = (int64_t)st.st_size;
    }
    if ((rc = vg_fmv_source_custom(out, &fd_ops, f, what)) != VG_OK)
      fd_close(f);
    return rc;
  }
}

void vg_fmv_source_free(vg_fmv_source *s)
{
  if (!s)
    return;
  if (s->ops.close)
    s->ops.close(s->ctx);
  free(s);
}

ssize_t vg_fmv_source_read(vg_fmv_source *s, uint8_t *buf, size_t n) { return s->ops.read(s->ctx, buf, n); }

int vg_fmv_source_seek(vg_fmv_source *s, uint64_t off)
{
  if (!s->ops.seek)
    return vg_error_set(VG_E_UNSUPPORTED, "%s: live input cannot seek", s->name);
  return s->ops.seek(s->ctx, off);
}

int64_t vg_fmv_source_size(vg_fmv_source *s) { return s->ops.size ? s->ops.size(s->ctx) : -1; }

const char *vg_fmv_source_name(const vg_fmv_source *s) { return s->name; }

int vg_fmv_source_seekable(const vg_fmv_source *s)
{
  if (!s->ops.seek)
    return 0;
  if (s->ops.seek == fd_seek)
    return ((fd_src *)s->ctx)->seekable;
  return 1;
}
