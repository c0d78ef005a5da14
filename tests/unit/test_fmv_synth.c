/*
 * The TS demultiplexer on transport streams this file writes itself: a small
 * muxer (PAT/PMT sections with their CRC-32/MPEG-2, registration and metadata
 * descriptors, PES with or without PTS/DTS, bounded or unbounded, metadata AU
 * cells, continuity counters, adaptation-field stuffing, PCR) and ST 0601
 * packets made by vigia's own encoder, so every expected output is known
 * exactly. Each fixture also goes through the demultiplexer in several chunk
 * sizes, which must not change what comes out. Last, the live source: the
 * same kind of stream sent as UDP and RTP datagrams to 127.0.0.1.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/fmv.h"
#include "vigia/klv.h"

/* ---- KLV packets made by vigia's encoder ------------------------------------------- */

/* MISP time of the test packets: each packet is told apart by its time stamp. */
#define T0 ((uint64_t)1700000000000000ull)
#define PTS_WRAP ((int64_t)1 << 33)
/* Raw tag 73 (RVT local set, opaque bytes, unbounded) pads packets to a chosen size. */
#define PAD_TAG 73

static void pad_pattern(uint8_t *p, size_t n)
{
  /* 0x20..0x5F: never a UL prefix (06 0E 2B 34), so a lost start cannot be found again inside. */
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(0x20 + (i * 7 + 3) % 64);
}

/* Appends one ST 0601 packet (tags 2, 13, 14, 65, [73], checksum); returns its size. */
static size_t klv_make_pad(vg_buf *out, uint64_t time_us, double lat, double lon, size_t pad)
{
  vg_klv_item it[5];
  vg_klv_packet pkt;
  uint8_t *raw = NULL;
  size_t n = 0, before = out->len;
  it[n++] = vg_klv_item_time(2, time_us);
  it[n++] = vg_klv_item_real(13, lat);
  it[n++] = vg_klv_item_real(14, lon);
  it[n++] = vg_klv_item_uint(65, 17);
  if (pad) {
    raw = malloc(pad);
    assert_non_null(raw);
    pad_pattern(raw, pad);
    memset(&it[n], 0, sizeof it[n]);
    it[n].tag = PAD_TAG;
    it[n].type = VG_KLV_T_BYTES;
    it[n].raw = raw;
    it[n].len = (uint32_t)pad;
    n++;
  }
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_ST0601;
  pkt.set.kind = VG_KLV_KIND_ST0601;
  pkt.set.items = it;
  pkt.set.n = n;
  pkt.version = 17;
  assert_int_equal(vg_klv_encode(out, &pkt), VG_OK);
  free(raw);
  return out->len - before;
}

/* A packet of exactly @p total bytes (>= 60), padded with tag 73. */
static size_t klv_make_size(vg_buf *out, uint64_t time_us, size_t total)
{
  vg_buf tmp;
  size_t pad = total - 60, got;
  vg_buf_init(&tmp, (size_t)64 << 20);
  /* The BER lengths grow with the pad: adjust until the size is met. */
  for (int i = 0; i < 4; i++) {
    vg_buf_reset(&tmp);
    got = klv_make_pad(&tmp, time_us, 10.0, 20.0, pad);
    if (got == total)
      break;
    pad = pad + total - got;
  }
  assert_int_equal(tmp.len, total);
  assert_int_equal(vg_buf_append(out, tmp.data, tmp.len), VG_OK);
  vg_buf_free(&tmp);
  return total;
}

static size_t klv_make(vg_buf *out, uint64_t time_us) { return klv_make_pad(out, time_us, 45.0, -3.5, 0); }

/* ---- the test muxer ----------------------------------------------------------------- */

typedef struct tsw {
  vg_buf b;
  uint8_t cc[8192];
  /* For the next TS packet only. */
  int64_t pcr;          /* -1: none */
  int disc, tei;
  size_t max_pl;        /* 0, or the most payload bytes the next packet takes (the rest is AF stuffing) */
  size_t pes_stuff;     /* stuffing bytes in the header of every PES written from now on */
  /* Optional hook: when the packet with this index is written, it carries
   * discontinuity_indicator and its PID's counter jumps to cc_jump. */
  long disc_at;
  uint8_t cc_jump;
} tsw;

static void tsw_init(tsw *w)
{
  memset(w, 0, sizeof *w);
  vg_buf_init(&w->b, (size_t)64 << 20);
  w->pcr = -1;
  w->disc_at = -1;
}

static size_t tsw_npkts(const tsw *w) { return w->b.len / 188; }

/* Writes one TS packet carrying up to 184 payload bytes; returns how many it took. */
static size_t ts_put(tsw *w, uint16_t pid, int pusi, const uint8_t *pl, size_t n)
{
  uint8_t p[188];
  size_t fixed = 0, af = 0, pos = 4;
  int afc, need_af;
  uint8_t cc;
  if (w->disc_at >= 0 && (size_t)w->disc_at == tsw_npkts(w)) {
    w->disc = 1;
    w->cc[pid] = w->cc_jump;
  }
  need_af = w->pcr >= 0 || w->disc;
  if (need_af)
    fixed = 2 + (w->pcr >= 0 ? 6 : 0);
  if (n > 184 - fixed)
    n = 184 - fixed;
  if (w->max_pl && n > w->max_pl)
    n = w->max_pl;
  if (n < 184)
    af = 184 - n; /* adaptation field bytes, its length byte included */
  afc = (af ? 2 : 0) | (n ? 1 : 0);
  if (n) {
    cc = w->cc[pid];
    w->cc[pid] = (uint8_t)((cc + 1) & 0x0F);
  } else {
    cc = (uint8_t)((w->cc[pid] + 15) & 0x0F); /* no payload: the counter does not move */
  }
  p[0] = 0x47;
  p[1] = (uint8_t)((w->tei ? 0x80 : 0) | (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1F));
  p[2] = (uint8_t)pid;
  p[3] = (uint8_t)((afc << 4) | cc);
  if (af) {
    size_t end = 4 + af;
    p[pos++] = (uint8_t)(af - 1);
    if (af >= 2) {
      p[pos++] = (uint8_t)((w->disc ? 0x80 : 0) | (w->pcr >= 0 ? 0x10 : 0));
      if (w->pcr >= 0) {
        uint64_t base = (uint64_t)w->pcr & ((1ull << 33) - 1), ext = 0;
        p[pos++] = (uint8_t)(base >> 25);
        p[pos++] = (uint8_t)(base >> 17);
        p[pos++] = (uint8_t)(base >> 9);
        p[pos++] = (uint8_t)(base >> 1);
        p[pos++] = (uint8_t)(((base & 1) << 7) | 0x7E | (ext >> 8));
        p[pos++] = (uint8_t)ext;
      }
    }
    while (pos < end)
      p[pos++] = 0xFF;
  }
  if (n)
    memcpy(p + pos, pl, n);
  assert_int_equal(pos + n, 188);
  assert_int_equal(vg_buf_append(&w->b, p, 188), VG_OK);
  w->pcr = -1;
  w->disc = w->tei = 0;
  w->max_pl = 0;
  return n;
}

/* A null packet (PID 0x1FFF). */
static void ts_null(tsw *w)
{
  uint8_t p[188];
  memset(p, 0xFF, sizeof p);
  p[0] = 0x47;
  p[1] = 0x1F;
  p[2] = 0xFF;
  p[3] = 0x10;
  assert_int_equal(vg_buf_append(&w->b, p, 188), VG_OK);
}

/* CRC-32/MPEG-2 written independently of the library's. */
static uint32_t crc32_mpeg2(const uint8_t *p, size_t n)
{
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= (uint32_t)p[i] << 24;
    for (int k = 0; k < 8; k++)
      c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
  }
  return c;
}

typedef struct bytes {
  uint8_t d[4096];
  size_t n;
} bytes;

static void b8(bytes *b, unsigned v) { b->d[b->n++] = (uint8_t)v; }
static void b16(bytes *b, unsigned v)
{
  b8(b, (v >> 8) & 0xFF);
  b8(b, v & 0xFF);
}
static void bn(bytes *b, const uint8_t *p, size_t n)
{
  memcpy(b->d + b->n, p, n);
  b->n += n;
}

/* Sets section_length over b[start..] and appends the CRC. */
static void section_close(bytes *b, size_t start)
{
  size_t len = b->n - start + 4 - 3;
  uint32_t crc;
  b->d[start + 1] = (uint8_t)(0xB0 | ((len >> 8) & 0x0F));
  b->d[start + 2] = (uint8_t)len;
  crc = crc32_mpeg2(b->d + start, b->n - start);
  b16(b, crc >> 16);
  b16(b, crc & 0xFFFF);
}

static void pat_section(bytes *b, const uint16_t *progs, const uint16_t *pmt_pids, size_t n)
{
  size_t start = b->n;
  b8(b, 0x00);
  b16(b, 0); /* length, set at the end */
  b16(b, 1); /* transport_stream_id */
  b8(b, 0xC1);
  b8(b, 0);
  b8(b, 0);
  for (size_t i = 0; i < n; i++) {
    b16(b, progs[i]);
    b16(b, 0xE000u | pmt_pids[i]);
  }
  section_close(b, start);
}

typedef struct es_def {
  uint8_t type;
  uint16_t pid;
  const uint8_t *desc;
  size_t ndesc;
} es_def;

static void pmt_section(bytes *b, uint16_t program, uint16_t pcr_pid, const es_def *es, size_t n)
{
  size_t start = b->n;
  b8(b, 0x02);
  b16(b, 0);
  b16(b, program);
  b8(b, 0xC1);
  b8(b, 0);
  b8(b, 0);
  b16(b, 0xE000u | pcr_pid);
  b16(b, 0xF000u); /* no program descriptors */
  for (size_t i = 0; i < n; i++) {
    b8(b, es[i].type);
    b16(b, 0xE000u | es[i].pid);
    b16(b, 0xF000u | (unsigned)es[i].ndesc);
    if (es[i].ndesc)
      bn(b, es[i].desc, es[i].ndesc);
  }
  section_close(b, start);
}

/* Writes sections (one or several back to back) on @p pid: pointer_field 0, 0xFF padding. */
static void ts_psi(tsw *w, uint16_t pid, const uint8_t *sec, size_t n)
{
  uint8_t pl[8192];
  size_t len = 0, off = 0;
  pl[len++] = 0;
  memcpy(pl + len, sec, n);
  len += n;
  while (len % 184)
    pl[len++] = 0xFF;
  while (off < len)
    off += ts_put(w, pid, off == 0, pl + off, 184);
}

static const uint8_t D_KLVA[] = {0x05, 4, 'K', 'L', 'V', 'A'};
/* metadata_descriptor (ST 1402): application format 0x0100, format 0xFF + "KLVA", service 0, flags;
 * then metadata_STD_descriptor. */
static const uint8_t D_META[] = {0x26, 9, 0x01, 0x00, 0xFF, 'K', 'L', 'V', 'A', 0x00, 0x0F,
                                 0x27, 9, 0xC0, 0x00, 0x00, 0xC0, 0x00, 0x00, 0xC0, 0x00, 0x00};

#define PMT_PID 0x1000

/* PAT naming program 1 on PMT_PID, then the PMT. */
static void ts_tables(tsw *w, uint16_t pcr_pid, const es_def *es, size_t n)
{
  bytes b;
  static const uint16_t prog = 1, pmt = PMT_PID;
  b.n = 0;
  pat_section(&b, &prog, &pmt, 1);
  ts_psi(w, 0, b.d, b.n);
  b.n = 0;
  pmt_section(&b, 1, pcr_pid, es, n);
  ts_psi(w, PMT_PID, b.d, b.n);
}

static void put_ts33(uint8_t *p, unsigned prefix, int64_t t)
{
  uint64_t v = (uint64_t)t & ((1ull << 33) - 1);
  p[0] = (uint8_t)((prefix << 4) | ((v >> 29) & 0x0E) | 1);
  p[1] = (uint8_t)(v >> 22);
  p[2] = (uint8_t)(((v >> 14) & 0xFE) | 1);
  p[3] = (uint8_t)(v >> 7);
  p[4] = (uint8_t)(((v << 1) & 0xFE) | 1);
}

#define NOTS (-1)

/* One PES (PTS/DTS when >= 0; PES_packet_length 0 when unbounded or too long) cut into TS packets. */
static void ts_pes(tsw *w, uint16_t pid, uint8_t sid, int64_t pts, int64_t dts, int unbounded, const uint8_t *data,
                   size_t n)
{
  uint8_t hdr[64];
  size_t hl = 0, hdl = w->pes_stuff, total, off = 0;
  uint8_t *pes;
  if (pts >= 0)
    hdl += 5;
  if (pts >= 0 && dts >= 0)
    hdl += 5;
  total = 3 + hdl + n;
  hdr[hl++] = 0;
  hdr[hl++] = 0;
  hdr[hl++] = 1;
  hdr[hl++] = sid;
  if (unbounded || total > 0xFFFF)
    total = 0;
  hdr[hl++] = (uint8_t)(total >> 8);
  hdr[hl++] = (uint8_t)total;
  hdr[hl++] = 0x80;
  hdr[hl++] = (uint8_t)((pts >= 0 ? 0x80 : 0) | (pts >= 0 && dts >= 0 ? 0x40 : 0));
  hdr[hl++] = (uint8_t)hdl;
  if (pts >= 0) {
    put_ts33(hdr + hl, dts >= 0 ? 3 : 2, pts);
    hl += 5;
  }
  if (pts >= 0 && dts >= 0) {
    put_ts33(hdr + hl, 1, dts);
    hl += 5;
  }
  memset(hdr + hl, 0xFF, w->pes_stuff);
  hl += w->pes_stuff;
  pes = malloc(hl + n);
  assert_non_null(pes);
  memcpy(pes, hdr, hl);
  if (n)
    memcpy(pes + hl, data, n);
  while (off < hl + n)
    off += ts_put(w, pid, off == 0, pes + off, hl + n - off);
  free(pes);
}

/* A metadata AU cell (13818-1 2.12.4): fragment indication 3 = whole, 2 = first, 0 = middle, 1 = last. */
static void au_cell(vg_buf *out, uint8_t seq, unsigned frag, const uint8_t *data, size_t n)
{
  uint8_t h[5] = {0x00, seq, (uint8_t)((frag << 6) | 0x0F), (uint8_t)(n >> 8), (uint8_t)n};
  assert_int_equal(vg_buf_append(out, h, 5), VG_OK);
  assert_int_equal(vg_buf_append(out, data, n), VG_OK);
}

/* Video PES: a few bytes of H.264 (access unit delimiter), DTS and PTS, PCR on its first packet. */
static void ts_video(tsw *w, uint16_t pid, int64_t dts, int with_pcr)
{
  static const uint8_t aud[] = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00};
  if (with_pcr)
    w->pcr = dts - 9000;
  ts_pes(w, pid, 0xE0, dts + 3003, dts, 0, aud, sizeof aud);
}

/* Rewrites 188-byte packets as 192 (4-byte time code first) or 204 (16 parity bytes after). */
static uint8_t *reframe(const uint8_t *in, size_t n, unsigned size, size_t *out_n)
{
  size_t np = n / 188;
  uint8_t *o = malloc(np * size), *q = o;
  assert_non_null(o);
  for (size_t i = 0; i < np; i++) {
    if (size == 192) {
      uint32_t tc = (uint32_t)(i * 1000 + 1);
      *q++ = (uint8_t)(tc >> 24 & 0x3F);
      *q++ = (uint8_t)(tc >> 16);
      *q++ = (uint8_t)(tc >> 8);
      *q++ = (uint8_t)(tc == 0x47 ? 0x48 : tc);
    }
    memcpy(q, in + i * 188, 188);
    q += 188;
    if (size == 204) {
      memset(q, 0x5A, 16);
      q += 16;
    }
  }
  *out_n = np * size;
  return o;
}

/* ---- running the demultiplexer ------------------------------------------------------ */

typedef struct got {
  uint64_t time;       /* tag 2 */
  uint16_t pid;
  int stream;
  vg_fmv_carriage carriage;
  int64_t pts, mux_pts;
  uint64_t ts_offset, seq;
  size_t len;
  vg_klv_kind kind;
  vg_klv_cksum_status cksum;
  int version;
  double lat;
  uint32_t pad_len;    /* length of tag 73, 0 if absent */
} got;

#define MAXGOT 4200
#define MAXEV 64

typedef struct drun {
  got g[MAXGOT];
  size_t n;
  vg_fmv_demux_stats st;
  vg_fmv_stream s[VG_FMV_MAX_STREAMS];
  size_t ns;
  vg_fmv_event ev[MAXEV];
  size_t nev;
  int damaged;
} drun;

static void drain(vg_fmv_demux *d, drun *r)
{
  vg_fmv_klv k;
  vg_fmv_event ev;
  while (vg_fmv_demux_next(d, &k) == VG_OK) {
    got *g;
    const vg_klv_item *it;
    assert_true(r->n < MAXGOT);
    g = &r->g[r->n++];
    memset(g, 0, sizeof *g);
    assert_non_null(k.pkt);
    g->pid = k.pid;
    g->stream = k.stream;
    g->carriage = k.carriage;
    g->pts = k.pts;
    g->mux_pts = k.mux_pts;
    g->ts_offset = k.ts_offset;
    g->seq = k.seq;
    g->len = k.pkt->total_len;
    g->kind = k.pkt->kind;
    g->cksum = k.pkt->cksum;
    g->version = k.pkt->version;
    if ((it = vg_klv_find(&k.pkt->set, 2)) && it->type == VG_KLV_T_TIME)
      g->time = it->v.u;
    (void)vg_klv_get_real(&k.pkt->set, 13, &g->lat);
    if ((it = vg_klv_find(&k.pkt->set, PAD_TAG)))
      g->pad_len = it->len;
  }
  while (vg_fmv_demux_event(d, &ev)) {
    if (r->nev < MAXEV)
      r->ev[r->nev++] = ev;
  }
}

/* Feeds @p b in chunks of @p chunk bytes, draining after each (unless @p no_drain), then finishes. calloc'd. */
static drun *demux_run_o(const uint8_t *b, size_t n, size_t chunk, const vg_fmv_demux_opts *o, int no_drain)
{
  vg_fmv_demux *d;
  drun *r = calloc(1, sizeof *r);
  const vg_fmv_stream *s;
  size_t off = 0;
  assert_non_null(r);
  assert_int_equal(vg_fmv_demux_new(&d, o), VG_OK);
  while (off < n) {
    size_t k = n - off < chunk ? n - off : chunk;
    assert_int_equal(vg_fmv_demux_feed(d, b + off, k), VG_OK);
    off += k;
    if (!no_drain)
      drain(d, r);
  }
  vg_fmv_demux_finish(d);
  drain(d, r);
  r->st = *vg_fmv_demux_stats_get(d);
  s = vg_fmv_demux_streams(d, &r->ns);
  assert_true(r->ns <= VG_FMV_MAX_STREAMS);
  memcpy(r->s, s, r->ns * sizeof *s);
  r->damaged = vg_fmv_demux_damaged(d);
  vg_fmv_demux_free(d);
  return r;
}

static drun *demux_run(const uint8_t *b, size_t n, size_t chunk) { return demux_run_o(b, n, chunk, NULL, 0); }

static void same_run(const drun *a, const drun *b, size_t chunk)
{
  if (a->n != b->n)
    fail_msg("chunk %zu: %zu packets, whole input: %zu", chunk, b->n, a->n);
  for (size_t i = 0; i < a->n; i++) {
    const got *x = &a->g[i], *y = &b->g[i];
    if (x->time != y->time || x->pid != y->pid || x->pts != y->pts || x->mux_pts != y->mux_pts ||
        x->len != y->len || x->cksum != y->cksum || x->carriage != y->carriage || x->seq != y->seq ||
        x->ts_offset != y->ts_offset)
      fail_msg("chunk %zu: packet %zu differs from the whole-input run", chunk, i);
  }
#define SAME(f) do { if (a->st.f != b->st.f) fail_msg("chunk %zu: " #f " %lld (whole) vs %lld", chunk, (long long)a->st.f, (long long)b->st.f); } while (0)
  SAME(bytes);
  SAME(ts_packets);
  SAME(packet_size);
  SAME(sync_losses);
  SAME(junk_bytes);
  SAME(tei_packets);
  SAME(cc_errors);
  SAME(psi_crc_errors);
  SAME(psi_bad);
  SAME(pes_bad);
  SAME(klv_packets);
  SAME(klv_bad);
  SAME(cksum_bad);
  SAME(cksum_missing);
  SAME(truncated_bytes);
  SAME(pcr_first);
  SAME(pcr_last);
#undef SAME
  assert_int_equal(a->ns, b->ns);
  for (size_t i = 0; i < a->ns; i++) {
    assert_int_equal(a->s[i].pid, b->s[i].pid);
    assert_int_equal(a->s[i].kind, b->s[i].kind);
    assert_int_equal(a->s[i].carriage, b->s[i].carriage);
    assert_int_equal(a->s[i].klv_packets, b->s[i].klv_packets);
    assert_int_equal(a->s[i].junk_bytes, b->s[i].junk_bytes);
    assert_int_equal(a->s[i].gap_bytes, b->s[i].gap_bytes);
    assert_int_equal(a->s[i].cc_errors, b->s[i].cc_errors);
  }
}

/* Runs the whole input at once and in several chunk sizes; all must agree. Returns the whole run. */
static drun *demux_all(const uint8_t *b, size_t n)
{
  static const size_t chunks[] = {1, 7, 188, 1000, 1316, 65536};
  drun *whole = demux_run(b, n, n ? n : 1);
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    drun *r;
    if (chunks[i] >= n)
      continue;
    if (chunks[i] == 1 && n > 400000)
      continue; /* byte by byte over large inputs: slow under the sanitizers, nothing new */
    r = demux_run(b, n, chunks[i]);
    same_run(whole, r, chunks[i]);
    free(r);
  }
  return whole;
}

static const vg_fmv_stream *stream_pid(const drun *r, uint16_t pid)
{
  for (size_t i = 0; i < r->ns; i++)
    if (r->s[i].pid == pid)
      return &r->s[i];
  return NULL;
}

static int has_event(const drun *r, uint16_t pid, int err)
{
  for (size_t i = 0; i < r->nev; i++)
    if (r->ev[i].pid == pid && r->ev[i].err == err)
      return 1;
  return 0;
}

/* Every output packet is a valid ST 0601 v17 packet. */
static void all_valid(const drun *r)
{
  for (size_t i = 0; i < r->n; i++) {
    assert_int_equal(r->g[i].kind, VG_KLV_KIND_ST0601);
    assert_int_equal(r->g[i].cksum, VG_KLV_CK_VALID);
    assert_int_equal(r->g[i].version, 17);
    assert_int_equal(r->g[i].seq, i);
  }
}

static void expect_times(const drun *r, const uint64_t *t, size_t n)
{
  if (r->n != n)
    fail_msg("%zu KLV packets out, %zu expected", r->n, n);
  for (size_t i = 0; i < n; i++)
    if (r->g[i].time != t[i])
      fail_msg("packet %zu: time %llu, expected %llu", i, (unsigned long long)r->g[i].time,
               (unsigned long long)t[i]);
}

static void no_damage(const drun *r)
{
  assert_int_equal(r->st.sync_losses, 0);
  assert_int_equal(r->st.junk_bytes, 0);
  assert_int_equal(r->st.tei_packets, 0);
  assert_int_equal(r->st.cc_errors, 0);
  assert_int_equal(r->st.psi_crc_errors, 0);
  assert_int_equal(r->st.psi_bad, 0);
  assert_int_equal(r->st.pes_bad, 0);
  assert_int_equal(r->st.klv_bad, 0);
  assert_int_equal(r->st.cksum_bad, 0);
  assert_int_equal(r->st.truncated_bytes, 0);
  assert_false(r->damaged);
}

/* ---- PES framing --------------------------------------------------------------------- */

#define KLV_PID 0x101
static const es_def ES_ASYNC[] = {{0x06, KLV_PID, D_KLVA, sizeof D_KLVA}};

static void pes_framing(void **st)
{
  tsw w;
  vg_buf k;
  size_t l1, l2, at1, at2, at3;
  drun *r;
  static const uint64_t want[] = {T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5};
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, KLV_PID, ES_ASYNC, 1);
  /* One packet split across two PES (with PTS: the packet takes the first's). */
  l1 = klv_make_size(&k, T0 + 1, 300);
  at1 = tsw_npkts(&w);
  ts_pes(&w, KLV_PID, 0xBD, 90000, NOTS, 0, k.data, 100);
  ts_pes(&w, KLV_PID, 0xBD, 93003, NOTS, 0, k.data + 100, l1 - 100);
  /* One packet split across three PES. */
  vg_buf_reset(&k);
  l2 = klv_make_size(&k, T0 + 2, 500);
  at2 = tsw_npkts(&w);
  ts_pes(&w, KLV_PID, 0xBD, 96006, NOTS, 0, k.data, 17);
  ts_pes(&w, KLV_PID, 0xBD, 99009, NOTS, 0, k.data + 17, 300);
  ts_pes(&w, KLV_PID, 0xBD, 102012, NOTS, 0, k.data + 317, l2 - 317);
  /* Three packets in one PES. */
  vg_buf_reset(&k);
  klv_make(&k, T0 + 3);
  klv_make_size(&k, T0 + 4, 250);
  klv_make(&k, T0 + 5);
  at3 = tsw_npkts(&w);
  ts_pes(&w, KLV_PID, 0xBD, 105015, NOTS, 0, k.data, k.len);
  r = demux_all(w.b.data, w.b.len);
  expect_times(r, want, 5);
  all_valid(r);
  no_damage(r);
  assert_int_equal(r->g[0].len, 300);
  assert_int_equal(r->g[1].len, 500);
  assert_int_equal(r->g[3].len, 250);
  assert_int_equal(r->g[0].pts, 90000);
  assert_int_equal(r->g[1].pts, 96006);
  for (int i = 2; i < 5; i++)
    assert_int_equal(r->g[i].pts, 105015);
  assert_int_equal(r->g[0].ts_offset, at1 * 188);
  assert_int_equal(r->g[1].ts_offset, at2 * 188);
  assert_int_equal(r->g[4].ts_offset, at3 * 188);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(r->g[i].pid, KLV_PID);
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_ASYNC); /* 0xBD with PTS stays async */
    assert_int_equal(r->g[i].mux_pts, VG_FMV_NOPTS);           /* no video in this multiplex */
    /* 45 deg from klv_make, 10 deg from klv_make_size */
    assert_true(fabs(r->g[i].lat - (i == 2 || i == 4 ? 45.0 : 10.0)) < 1e-6);
  }
  {
    const vg_fmv_stream *s = stream_pid(r, KLV_PID);
    assert_non_null(s);
    assert_int_equal(s->pes_packets, 6);
    assert_int_equal(s->pes_with_pts, 6);
    assert_int_equal(s->klv_packets, 5);
    assert_int_equal(s->cksum_ok, 5);
    assert_int_equal(s->size_max, 500);
    assert_int_equal(s->nversions, 1);
    assert_int_equal(s->versions[0], 17);
    assert_int_equal(s->version_count[0], 5);
    assert_int_equal(s->kinds[VG_KLV_KIND_ST0601], 5);
    assert_int_equal(s->time_first_us, T0 + 1);
    assert_int_equal(s->time_last_us, T0 + 5);
    assert_int_equal(s->pts_first, 90000);
    assert_int_equal(s->pts_last, 105015);
    assert_int_equal(s->junk_bytes, 0);
  }
  assert_int_equal(r->st.packet_size, 188);
  assert_int_equal(r->st.ts_packets, tsw_npkts(&w));
  assert_int_equal(r->st.klv_packets, 5);
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* A 70000-byte packet (more than a bounded PES can hold) in unbounded PES. */
static void big_packet_unbounded(void **st)
{
  tsw w;
  vg_buf k;
  drun *r;
  size_t big;
  static const uint64_t want[] = {T0 + 10, T0 + 11, T0 + 12, T0 + 13};
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, KLV_PID, ES_ASYNC, 1);
  big = klv_make_size(&k, T0 + 10, 70000);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 1, k.data, big);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 11);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 1, k.data, k.len);
  /* The same size again, split across two unbounded PES. */
  vg_buf_reset(&k);
  klv_make_size(&k, T0 + 12, 70000);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 1, k.data, 40000);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 1, k.data + 40000, 30000);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 13);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 1, k.data, k.len);
  r = demux_all(w.b.data, w.b.len);
  expect_times(r, want, 4);
  all_valid(r);
  no_damage(r);
  assert_int_equal(r->g[0].len, 70000);
  assert_int_equal(r->g[2].len, 70000);
  assert_true(r->g[0].pad_len > 69900 && r->g[0].pad_len < 70000);
  assert_int_equal(r->g[1].pad_len, 0);
  assert_int_equal(stream_pid(r, KLV_PID)->size_max, 70000);
  assert_int_equal(stream_pid(r, KLV_PID)->pes_packets, 5);
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- synchronous carriage ----------------------------------------------------------- */

#define SYNC_PID 0x102

static void sync_cells(void **st)
{
  static const es_def es[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
  static const uint64_t want[] = {T0 + 20, T0 + 21, T0 + 22, T0 + 23, T0 + 24, T0 + 25};
  static const int64_t want_pts[] = {900000, 903003, 903003, 906006, 909009, 912012};
  tsw w;
  vg_buf k, pl;
  size_t la, lb, lc, ld, le, lf;
  drun *r;
  const vg_fmv_stream *s;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  ts_tables(&w, SYNC_PID, es, 1);
  la = klv_make(&k, T0 + 20);
  lb = klv_make(&k, T0 + 21);
  lc = klv_make_size(&k, T0 + 22, 200);
  ld = klv_make_size(&k, T0 + 23, 333);
  le = klv_make_size(&k, T0 + 24, 400);
  lf = klv_make(&k, T0 + 25);
  {
    const uint8_t *a = k.data, *b = a + la, *c = b + lb, *d = c + lc, *e = d + ld, *f = e + le;
    /* One cell per PES. */
    au_cell(&pl, 0, 3, a, la);
    ts_pes(&w, SYNC_PID, 0xFC, 900000, NOTS, 0, pl.data, pl.len);
    /* Two cells in one PES. */
    vg_buf_reset(&pl);
    au_cell(&pl, 1, 3, b, lb);
    au_cell(&pl, 2, 3, c, lc);
    ts_pes(&w, SYNC_PID, 0xFC, 903003, NOTS, 0, pl.data, pl.len);
    /* A packet in a fragmented cell pair (first + last) inside one PES. */
    vg_buf_reset(&pl);
    au_cell(&pl, 3, 2, d, 100);
    au_cell(&pl, 3, 1, d + 100, ld - 100);
    ts_pes(&w, SYNC_PID, 0xFC, 906006, NOTS, 0, pl.data, pl.len);
    /* A packet whose cells fall in two PES, then a whole one after its last fragment. */
    vg_buf_reset(&pl);
    au_cell(&pl, 4, 2, e, 150);
    ts_pes(&w, SYNC_PID, 0xFC, 909009, NOTS, 0, pl.data, pl.len);
    vg_buf_reset(&pl);
    au_cell(&pl, 4, 1, e + 150, le - 150);
    au_cell(&pl, 5, 3, f, lf);
    ts_pes(&w, SYNC_PID, 0xFC, 912012, NOTS, 0, pl.data, pl.len);
  }
  r = demux_all(w.b.data, w.b.len);
  expect_times(r, want, 6);
  all_valid(r);
  no_damage(r);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(r->g[i].pts, want_pts[i]);
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_SYNC);
    assert_int_equal(r->g[i].pid, SYNC_PID);
  }
  assert_int_equal(r->g[3].len, 333);
  assert_int_equal(r->g[4].len, 400);
  s = stream_pid(r, SYNC_PID);
  assert_non_null(s);
  assert_int_equal(s->kind, VG_FMV_ES_KLV);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_SYNC);
  assert_string_equal(s->codec, "klv");
  assert_true(s->klva);
  assert_true(s->metadata_descriptor);
  assert_true(s->declared);
  assert_int_equal(s->stream_type, 0x15);
  assert_int_equal(s->pes_stream_id, 0xFC);
  assert_int_equal(s->au_cells, 8);
  assert_int_equal(s->pes_packets, 5);
  assert_int_equal(s->pes_with_pts, 5);
  assert_int_equal(s->junk_bytes, 0); /* the cell headers never reach the KLV scanner */
  assert_int_equal(s->pts_first, 900000);
  assert_int_equal(s->pts_last, 912012);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- asynchronous carriage without PTS: the multiplex time ----------------------------- */

static void async_mux_time(void **st)
{
  /* Two programs, each with video and KLV; PMTs on two PIDs. */
  static const es_def es1[] = {{0x1B, 0x100, NULL, 0}, {0x06, 0x101, D_KLVA, sizeof D_KLVA}};
  static const es_def es2[] = {{0x1B, 0x200, NULL, 0}, {0x06, 0x201, D_KLVA, sizeof D_KLVA}};
  static const uint16_t progs[] = {1, 2}, pmts[] = {0x1000, 0x1001};
  tsw w;
  vg_buf k;
  bytes b;
  drun *r;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  b.n = 0;
  pat_section(&b, progs, pmts, 2);
  ts_psi(&w, 0, b.d, b.n);
  b.n = 0;
  pmt_section(&b, 1, 0x100, es1, 2);
  ts_psi(&w, 0x1000, b.d, b.n);
  b.n = 0;
  pmt_section(&b, 2, 0x200, es2, 2);
  ts_psi(&w, 0x1001, b.d, b.n);
  /* program 1: A, video D1; B and C, video D2; D then end of input */
  klv_make(&k, T0 + 30);
  ts_pes(&w, 0x101, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  ts_video(&w, 0x100, 1000000, 1);
  /* program 2: E goes before a program 1 video PES, which must not give it its time */
  vg_buf_reset(&k);
  klv_make(&k, T0 + 40);
  ts_pes(&w, 0x201, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 31);
  klv_make(&k, T0 + 32);
  ts_pes(&w, 0x101, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  ts_video(&w, 0x100, 1003003, 1);
  ts_video(&w, 0x200, 5000000, 0);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 33);
  ts_pes(&w, 0x101, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  r = demux_all(w.b.data, w.b.len);
  {
    static const uint64_t want[] = {T0 + 30, T0 + 40, T0 + 31, T0 + 32, T0 + 33};
    expect_times(r, want, 5);
  }
  all_valid(r);
  no_damage(r);
  for (size_t i = 0; i < r->n; i++) {
    assert_int_equal(r->g[i].pts, VG_FMV_NOPTS);
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_ASYNC);
  }
  assert_int_equal(r->g[0].mux_pts, 1000000);
  assert_int_equal(r->g[1].pid, 0x201);
  assert_int_equal(r->g[1].mux_pts, 5000000); /* its own program's video, not program 1's */
  assert_int_equal(r->g[2].mux_pts, 1003003);
  assert_int_equal(r->g[3].mux_pts, 1003003);
  assert_int_equal(r->g[4].mux_pts, VG_FMV_NOPTS); /* no video after it: handed out at the end */
  assert_int_equal(stream_pid(r, 0x100)->kind, VG_FMV_ES_VIDEO);
  assert_string_equal(stream_pid(r, 0x100)->codec, "h264");
  assert_int_equal(stream_pid(r, 0x100)->program, 1);
  assert_int_equal(stream_pid(r, 0x201)->program, 2);
  assert_int_equal(stream_pid(r, 0x100)->pts_first, 1003003);
  assert_int_equal(r->st.pcr_first, 1000000 - 9000);
  assert_int_equal(r->st.pcr_last, 1003003 - 9000);
  free(r);

  /* While no video PES has come, the packet waits (it has no multiplex time yet). */
  {
    vg_fmv_demux *d;
    vg_fmv_klv kk;
    size_t first_video = 0;
    tsw w2;
    tsw_init(&w2);
    ts_tables(&w2, 0x100, es1, 2);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 50);
    ts_pes(&w2, 0x101, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    /* Null packets after each part: the demultiplexer may wait for the next sync byte
     * before it trusts the last packet it holds. */
    ts_null(&w2);
    ts_null(&w2);
    first_video = w2.b.len;
    ts_video(&w2, 0x100, 2000000, 0);
    ts_null(&w2);
    ts_null(&w2);
    assert_int_equal(vg_fmv_demux_new(&d, NULL), VG_OK);
    assert_int_equal(vg_fmv_demux_feed(d, w2.b.data, first_video), VG_OK);
    assert_int_equal(vg_fmv_demux_next(d, &kk), VG_E_TRUNCATED);
    assert_int_equal(vg_fmv_demux_feed(d, w2.b.data + first_video, w2.b.len - first_video), VG_OK);
    assert_int_equal(vg_fmv_demux_next(d, &kk), VG_OK);
    assert_int_equal(kk.mux_pts, 2000000);
    assert_int_equal(vg_fmv_demux_next(d, &kk), VG_E_TRUNCATED);
    vg_fmv_demux_free(d);
    vg_buf_free(&w2.b);
  }
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- signalling: several PIDs, empty, non-KLV data, no tables at all ---------------------- */

static void several_pids(void **st)
{
  static const uint8_t D_OTHER[] = {0x05, 4, 'A', 'B', 'C', 'D'};
  static const es_def es[] = {
    {0x1B, 0x100, NULL, 0},
    {0x06, 0x101, D_KLVA, sizeof D_KLVA},          /* async */
    {0x15, 0x102, D_META, sizeof D_META},          /* sync */
    {0x06, 0x103, D_KLVA, sizeof D_KLVA},          /* declared, never sent */
    {0x06, 0x104, D_OTHER, sizeof D_OTHER},        /* private data, not KLV */
    {0x06, 0x105, NULL, 0},                        /* private, no KLVA, but KLV inside */
    {0x06, 0x106, D_KLVA, sizeof D_KLVA},          /* hybrid: 0xFC with PTS */
  };
  tsw w;
  vg_buf k, pl;
  drun *r;
  const vg_fmv_stream *s;
  static const char text[] = "not KLV: subtitles, telemetry of another kind, anything";
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  ts_tables(&w, 0x100, es, sizeof es / sizeof es[0]);
  for (int f = 0; f < 3; f++) {
    int64_t p = 3000000 + f * 3003;
    vg_buf_reset(&k);
    klv_make(&k, T0 + 0x101 * 100 + (uint64_t)f);
    ts_pes(&w, 0x101, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    vg_buf_reset(&k);
    vg_buf_reset(&pl);
    klv_make(&k, T0 + 0x102 * 100 + (uint64_t)f);
    au_cell(&pl, (uint8_t)f, 3, k.data, k.len);
    ts_pes(&w, 0x102, 0xFC, p, NOTS, 0, pl.data, pl.len);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 0x105 * 100 + (uint64_t)f);
    ts_pes(&w, 0x105, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 0x106 * 100 + (uint64_t)f);
    ts_pes(&w, 0x106, 0xFC, p, NOTS, 0, k.data, k.len);
    ts_pes(&w, 0x104, 0xBD, NOTS, NOTS, 0, (const uint8_t *)text, sizeof text);
    ts_video(&w, 0x100, p, 1);
  }
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->n, 12);
  all_valid(r);
  no_damage(r);
  for (int f = 0; f < 3; f++) {
    const got *g = &r->g[4 * f];
    int64_t p = 3000000 + f * 3003;
    assert_int_equal(g[0].pid, 0x101);
    assert_int_equal(g[0].time, T0 + 0x101 * 100 + (uint64_t)f);
    assert_int_equal(g[0].carriage, VG_FMV_CARRIAGE_ASYNC);
    assert_int_equal(g[0].pts, VG_FMV_NOPTS);
    assert_int_equal(g[0].mux_pts, p);
    assert_int_equal(g[1].pid, 0x102);
    assert_int_equal(g[1].carriage, VG_FMV_CARRIAGE_SYNC);
    assert_int_equal(g[1].pts, p);
    assert_int_equal(g[2].pid, 0x105);
    assert_int_equal(g[2].time, T0 + 0x105 * 100 + (uint64_t)f);
    assert_int_equal(g[2].carriage, VG_FMV_CARRIAGE_PES_ID);
    assert_int_equal(g[2].mux_pts, p);
    assert_int_equal(g[3].pid, 0x106);
    assert_int_equal(g[3].carriage, VG_FMV_CARRIAGE_HYBRID);
    assert_int_equal(g[3].pts, p);
    for (int i = 0; i < 4; i++)
      assert_int_equal(r->s[g[i].stream].pid, g[i].pid);
  }
  s = stream_pid(r, 0x101);
  assert_int_equal(s->kind, VG_FMV_ES_KLV);
  assert_true(s->klva && s->declared && !s->metadata_descriptor);
  assert_int_equal(s->program, 1);
  assert_int_equal(s->klv_packets, 3);
  assert_int_equal(s->pes_stream_id, 0xBD);
  s = stream_pid(r, 0x103);
  assert_non_null(s);
  assert_int_equal(s->kind, VG_FMV_ES_KLV);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_ASYNC);
  assert_int_equal(s->ts_packets, 0);
  assert_int_equal(s->klv_packets, 0);
  assert_int_equal(s->pts_first, VG_FMV_NOPTS);
  s = stream_pid(r, 0x104);
  assert_int_equal(s->kind, VG_FMV_ES_DATA);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_NONE);
  assert_int_equal(s->klv_packets, 0);
  assert_int_equal(s->pes_packets, 3);
  assert_false(s->klva);
  s = stream_pid(r, 0x105);
  assert_int_equal(s->kind, VG_FMV_ES_KLV);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_PES_ID);
  assert_string_equal(s->codec, "klv");
  assert_int_equal(s->stream_type, 0x06);
  assert_false(s->klva);
  assert_int_equal(s->klv_packets, 3);
  s = stream_pid(r, 0x106);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_HYBRID);
  assert_int_equal(s->pes_stream_id, 0xFC);
  assert_int_equal(s->pes_with_pts, 3);
  s = stream_pid(r, 0x102);
  assert_int_equal(s->au_cells, 3);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* No PAT, no PMT: KLV found by the PES stream id and the UL in the payload. */
static void no_tables(void **st)
{
  tsw w;
  vg_buf k, pl;
  drun *r;
  const vg_fmv_stream *s;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  for (int f = 0; f < 2; f++) {
    vg_buf_reset(&k);
    klv_make(&k, T0 + 0x300 + (uint64_t)f);
    ts_pes(&w, 0x300, 0xFC, 450000 + f * 3003, NOTS, 0, k.data, k.len);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 0x310 + (uint64_t)f);
    ts_pes(&w, 0x310, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    /* 0xFC with metadata AU cells but no signalling at all */
    vg_buf_reset(&k);
    vg_buf_reset(&pl);
    klv_make(&k, T0 + 0x320 + (uint64_t)f);
    au_cell(&pl, (uint8_t)f, 3, k.data, k.len);
    ts_pes(&w, 0x320, 0xFC, 450000 + f * 3003, NOTS, 0, pl.data, pl.len);
  }
  r = demux_all(w.b.data, w.b.len);
  {
    static const uint64_t want[] = {T0 + 0x300, T0 + 0x310, T0 + 0x320, T0 + 0x301, T0 + 0x311, T0 + 0x321};
    expect_times(r, want, 6);
  }
  all_valid(r);
  no_damage(r);
  for (size_t i = 0; i < r->n; i++) {
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_PES_ID);
    assert_int_equal(r->g[i].mux_pts, VG_FMV_NOPTS);
  }
  assert_int_equal(r->g[0].pts, 450000);
  assert_int_equal(r->g[3].pts, 453003);
  assert_int_equal(r->g[1].pts, VG_FMV_NOPTS);
  assert_int_equal(r->g[5].pts, 453003);
  assert_int_equal(r->ns, 3);
  s = stream_pid(r, 0x300);
  assert_int_equal(s->kind, VG_FMV_ES_KLV);
  assert_false(s->declared);
  assert_int_equal(s->program, 0);
  assert_int_equal(s->stream_type, 0);
  assert_int_equal(s->pes_stream_id, 0xFC);
  s = stream_pid(r, 0x310);
  assert_int_equal(s->pes_stream_id, 0xBD);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_PES_ID);
  s = stream_pid(r, 0x320);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_PES_ID);
  assert_int_equal(s->au_cells, 2);
  assert_int_equal(s->junk_bytes, 0);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- damage ------------------------------------------------------------------------ */

/*
 * The damage fixture: five 400-byte packets K0..K4 on KLV_PID, each in its own
 * bounded PES without PTS: 3 TS packets per PES (175 + 184 + 41 bytes of KLV).
 * first[i] is the index of the first TS packet of K_i's PES.
 */
#define DMG_N 5
typedef struct dmg {
  tsw w;
  size_t first[DMG_N];
} dmg;

static void dmg_build(dmg *m, long disc_at, uint8_t cc_jump)
{
  vg_buf k;
  tsw_init(&m->w);
  m->w.disc_at = disc_at;
  m->w.cc_jump = cc_jump;
  vg_buf_init(&k, 1 << 20);
  ts_tables(&m->w, KLV_PID, ES_ASYNC, 1);
  for (int i = 0; i < DMG_N; i++) {
    vg_buf_reset(&k);
    klv_make_size(&k, T0 + 100 + (uint64_t)i, 400);
    m->first[i] = tsw_npkts(&m->w);
    ts_pes(&m->w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  }
  vg_buf_free(&k);
}

/* Copy of the fixture with TS packet @p idx removed (drop) or repeated (dup). */
static uint8_t *edit_packets(const tsw *w, size_t idx, int dup, size_t *n)
{
  uint8_t *o = malloc(w->b.len + 188);
  size_t head = idx * 188;
  assert_non_null(o);
  memcpy(o, w->b.data, head + (dup ? 188 : 0));
  if (dup) {
    memcpy(o + head + 188, w->b.data + head, w->b.len - head);
    *n = w->b.len + 188;
  } else {
    memcpy(o + head, w->b.data + head + 188, w->b.len - head - 188);
    *n = w->b.len - 188;
  }
  return o;
}

/* Inserts @p ins (len bytes) before TS packet @p idx. */
static uint8_t *insert_at(const tsw *w, size_t idx, const uint8_t *ins, size_t len, size_t *n)
{
  uint8_t *o = malloc(w->b.len + len);
  size_t head = idx * 188;
  assert_non_null(o);
  memcpy(o, w->b.data, head);
  memcpy(o + head, ins, len);
  memcpy(o + head + len, w->b.data + head, w->b.len - head);
  *n = w->b.len + len;
  return o;
}

static const uint64_t DMG_ALL[] = {T0 + 100, T0 + 101, T0 + 102, T0 + 103, T0 + 104};
static const uint64_t DMG_NO2[] = {T0 + 100, T0 + 101, T0 + 103, T0 + 104};

static void continuity(void **st)
{
  dmg m;
  uint8_t *b;
  size_t n;
  drun *r;
  const vg_fmv_stream *s;
  (void)st;
  dmg_build(&m, -1, 0);
  {
    /* intact */
    r = demux_all(m.w.b.data, m.w.b.len);
    expect_times(r, DMG_ALL, 5);
    all_valid(r);
    no_damage(r);
    free(r);
  }
  /* The middle TS packet of K2 lost: K2 is lost and counted, K3 comes out whole. */
  b = edit_packets(&m.w, m.first[2] + 1, 0, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_NO2, 4);
  all_valid(r);
  assert_int_equal(r->st.cc_errors, 1);
  s = stream_pid(r, KLV_PID);
  assert_int_equal(s->cc_errors, 1);
  assert_int_equal(s->gap_bytes, 175);  /* what K2 had delivered before the hole */
  assert_int_equal(s->junk_bytes, 41);  /* K2's tail after it, skipped while searching */
  assert_int_equal(s->klv_bad, 0);
  assert_int_equal(r->st.pes_bad, 0);   /* the PES cut short is the same damage, not counted twice */
  assert_true(r->damaged);
  assert_true(has_event(r, KLV_PID, VG_E_TRUNCATED));
  free(r);
  free(b);
  /* K2's last TS packet lost: the loss shows at K3's start; K2's 359 bytes dropped, K3 whole. */
  b = edit_packets(&m.w, m.first[2] + 2, 0, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_NO2, 4);
  all_valid(r);
  assert_int_equal(r->st.cc_errors, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->gap_bytes, 359);
  assert_int_equal(stream_pid(r, KLV_PID)->junk_bytes, 0);
  assert_int_equal(r->st.pes_bad, 0);
  free(r);
  free(b);
  /* K2's first TS packet (the PES start) lost: its two continuation packets are not KLV. */
  b = edit_packets(&m.w, m.first[2], 0, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_NO2, 4);
  all_valid(r);
  assert_int_equal(r->st.cc_errors, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->gap_bytes, 0);
  assert_int_equal(stream_pid(r, KLV_PID)->junk_bytes, 184 + 41);
  free(r);
  free(b);
  /* The same TS packet sent twice (same counter): ignored, no error. */
  b = edit_packets(&m.w, m.first[2] + 1, 1, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_ALL, 5);
  all_valid(r);
  no_damage(r);
  assert_int_equal(r->st.ts_packets, tsw_npkts(&m.w) + 1);
  free(r);
  free(b);
  vg_buf_free(&m.w.b);
  /* discontinuity_indicator with a counter jump in the middle of K2: no error, nothing lost. */
  dmg_build(&m, (long)(2 + 3 * 2 + 1), 9); /* PAT, PMT, then 3 TS packets per PES: K2's second */
  assert_int_equal(m.first[2] + 1, 2 + 3 * 2 + 1);
  r = demux_all(m.w.b.data, m.w.b.len);
  expect_times(r, DMG_ALL, 5);
  all_valid(r);
  no_damage(r);
  free(r);
  vg_buf_free(&m.w.b);
}

static void tei_skipped(void **st)
{
  dmg m;
  uint8_t *b, bad[188];
  size_t n;
  drun *r;
  tsw t;
  (void)st;
  dmg_build(&m, -1, 0);
  /* A packet flagged transport_error_indicator, on the KLV PID with a wrong counter, inside K2. */
  tsw_init(&t);
  t.tei = 1;
  t.cc[KLV_PID] = 13;
  memset(bad, 0x06, sizeof bad);
  ts_put(&t, KLV_PID, 1, bad, 184);
  b = insert_at(&m.w, m.first[2] + 1, t.b.data, 188, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_ALL, 5);
  all_valid(r);
  assert_int_equal(r->st.tei_packets, 1);
  assert_int_equal(r->st.cc_errors, 0);
  assert_int_equal(r->st.junk_bytes, 0);
  assert_int_equal(stream_pid(r, KLV_PID)->junk_bytes, 0);
  assert_true(r->damaged);
  free(r);
  free(b);
  vg_buf_free(&t.b);
  vg_buf_free(&m.w.b);
}


/* (With the uncommitted change to process() in lib/fmv/ts.c, a packet is parsed only when
 * another sync byte follows 1 or 2 packets on; a whole packet followed by junk fails that
 * test and is dropped as if it were a cut fragment: K2 is lost, 238 junk bytes, 1 CC error.) */
static void junk_between_packets(void **st)
{
  dmg m;
  uint8_t *b, junk[50];
  size_t n;
  drun *r;
  (void)st;
  dmg_build(&m, -1, 0);
  /* 50 junk bytes between two TS packets (inside K2's PES): nothing lost. */
  memset(junk, 0xAA, sizeof junk);
  b = insert_at(&m.w, m.first[2] + 1, junk, sizeof junk, &n);
  r = demux_all(b, n);
  vg_buf_free(&m.w.b);
  free(b);
  {
    /* copied out and freed before the checks, so that a failure leaks nothing */
    size_t np = r->n;
    uint64_t t2 = np > 2 ? r->g[2].time : 0, sync = r->st.sync_losses, jb = r->st.junk_bytes, cc = r->st.cc_errors;
    free(r);
    assert_int_equal(np, 5);
    assert_int_equal(t2, T0 + 102);
    assert_int_equal(sync, 1);
    assert_int_equal(jb, 50);
    assert_int_equal(cc, 0);
  }
}

static void sync_loss(void **st)
{
  dmg m;
  uint8_t *b, junk[1000];
  size_t n;
  drun *r;
  (void)st;
  dmg_build(&m, -1, 0);
  /* A null packet whose sync byte is damaged: skipped as one packet, nothing else lost. */
  {
    tsw t;
    tsw_init(&t);
    ts_null(&t);
    t.b.data[0] = 0x46;
    b = insert_at(&m.w, m.first[3], t.b.data, 188, &n);
    r = demux_all(b, n);
    expect_times(r, DMG_ALL, 5);
    all_valid(r);
    assert_int_equal(r->st.sync_losses, 1);
    assert_int_equal(r->st.junk_bytes, 188);
    assert_int_equal(r->st.cc_errors, 0);
    free(r);
    free(b);
    vg_buf_free(&t.b);
  }
  /* The sync byte of K2's middle TS packet damaged: that packet is skipped, so K2 is lost. */
  b = malloc(m.w.b.len);
  memcpy(b, m.w.b.data, m.w.b.len);
  b[(m.first[2] + 1) * 188] = 0x07;
  r = demux_all(b, m.w.b.len);
  expect_times(r, DMG_NO2, 4);
  all_valid(r);
  assert_int_equal(r->st.sync_losses, 1);
  assert_int_equal(r->st.junk_bytes, 188);
  assert_int_equal(r->st.cc_errors, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->gap_bytes, 175);
  free(r);
  free(b);
  /* Junk before the first packet, with stray 0x47 bytes that make no rhythm. */
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(0x80 + i % 13);
  junk[10] = junk[300] = junk[777] = 0x47;
  b = insert_at(&m.w, 0, junk, sizeof junk, &n);
  r = demux_all(b, n);
  expect_times(r, DMG_ALL, 5);
  all_valid(r);
  assert_int_equal(r->st.junk_bytes, sizeof junk);
  assert_int_equal(r->st.sync_losses, 0);
  assert_int_equal(r->st.packet_size, 188);
  assert_int_equal(r->g[0].ts_offset, sizeof junk + m.first[0] * 188);
  free(r);
  free(b);
  vg_buf_free(&m.w.b);
}

static void packet_size(unsigned size)
{
  dmg m;
  size_t n;
  uint8_t *b;
  drun *r;
  dmg_build(&m, -1, 0);
  b = reframe(m.w.b.data, m.w.b.len, size, &n);
  assert_true(vg_fmv_looks_like_ts(b, n));
  r = demux_all(b, n); /* also fed in chunks of 1, 7, 188, 1000, 1316 bytes: same result */
  expect_times(r, DMG_ALL, 5);
  all_valid(r);
  no_damage(r);
  assert_int_equal(r->st.packet_size, size);
  assert_int_equal(r->st.ts_packets, tsw_npkts(&m.w));
  /* the offset is that of the sync byte of the TS packet that starts the PES */
  assert_int_equal(r->g[1].ts_offset, m.first[1] * size + (size == 192 ? 4 : 0));
  free(r);
  free(b);
  vg_buf_free(&m.w.b);
}

static void packet_size_192(void **st)
{
  (void)st;
  packet_size(192);
}

/* A feed that ends inside the 16 parity bytes of a 204-byte packet must not lose sync. */
static void packet_size_204(void **st)
{
  (void)st;
  packet_size(204);
}

static void truncated_end(void **st)
{
  dmg m;
  drun *r;
  static const uint64_t want[] = {T0 + 100, T0 + 101, T0 + 102, T0 + 103};
  (void)st;
  dmg_build(&m, -1, 0);
  /* Cut inside K4's last TS packet: 88 bytes of it remain, K4 has 175 + 184 of its 400 bytes. */
  r = demux_all(m.w.b.data, m.w.b.len - 100);
  expect_times(r, want, 4);
  all_valid(r);
  assert_int_equal(r->st.truncated_bytes, 88 + 359);
  assert_int_equal(r->st.pes_bad, 1);
  assert_true(r->damaged);
  free(r);
  /* Input that ends before the first packet is whole. */
  r = demux_all(m.w.b.data, 100);
  assert_int_equal(r->n, 0);
  assert_int_equal(r->st.ts_packets, 0);
  assert_int_equal(r->st.truncated_bytes, 100);
  free(r);
  /* Nothing at all. */
  r = demux_run(m.w.b.data, 0, 1);
  assert_int_equal(r->n, 0);
  assert_int_equal(r->st.bytes, 0);
  assert_int_equal(r->st.packet_size, 0);
  assert_false(r->damaged);
  free(r);
  vg_buf_free(&m.w.b);
}

/* ---- PSI ------------------------------------------------------------------------- */

static void psi_sections(void **st)
{
  tsw w;
  vg_buf k;
  bytes b;
  drun *r;
  const vg_fmv_stream *s;
  (void)st;
  vg_buf_init(&k, 1 << 20);
  /* A PMT with a bad CRC (declaring 0x105) is ignored; the good one that follows counts. */
  {
    static const es_def bad_es[] = {{0x06, 0x105, D_KLVA, sizeof D_KLVA}};
    static const uint16_t prog = 1, pmt = PMT_PID;
    tsw_init(&w);
    b.n = 0;
    pat_section(&b, &prog, &pmt, 1);
    ts_psi(&w, 0, b.d, b.n);
    b.n = 0;
    pmt_section(&b, 1, 0x105, bad_es, 1);
    b.d[b.n - 1] ^= 0x01;
    ts_psi(&w, PMT_PID, b.d, b.n);
    b.n = 0;
    pmt_section(&b, 1, KLV_PID, ES_ASYNC, 1);
    ts_psi(&w, PMT_PID, b.d, b.n);
    for (int i = 0; i < 2; i++) {
      vg_buf_reset(&k);
      klv_make(&k, T0 + 200 + (uint64_t)i);
      ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    }
    r = demux_all(w.b.data, w.b.len);
    assert_int_equal(r->n, 2);
    all_valid(r);
    assert_int_equal(r->st.psi_crc_errors, 1);
    assert_int_equal(r->st.psi_bad, 0);
    assert_true(r->damaged);
    assert_true(has_event(r, PMT_PID, VG_E_CHECKSUM));
    assert_null(stream_pid(r, 0x105));
    s = stream_pid(r, KLV_PID);
    assert_true(s->declared && s->klva);
    assert_int_equal(s->carriage, VG_FMV_CARRIAGE_ASYNC);
    assert_int_equal(r->g[0].carriage, VG_FMV_CARRIAGE_ASYNC);
    free(r);
    vg_buf_free(&w.b);
  }
  /* A PMT longer than one TS packet (a 200-byte private descriptor before KLVA). */
  {
    static uint8_t long_desc[2 + 200 + sizeof D_KLVA];
    es_def es[2] = {{0x06, KLV_PID, long_desc, sizeof long_desc}, {0x1B, 0x100, NULL, 0}};
    long_desc[0] = 0xFE;
    long_desc[1] = 200;
    memset(long_desc + 2, 0x47, 200);
    memcpy(long_desc + 202, D_KLVA, sizeof D_KLVA);
    tsw_init(&w);
    ts_tables(&w, 0x100, es, 2);
    assert_int_equal(tsw_npkts(&w), 3); /* PAT + PMT in two packets */
    vg_buf_reset(&k);
    klv_make(&k, T0 + 210);
    ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    ts_video(&w, 0x100, 90000, 1);
    r = demux_all(w.b.data, w.b.len);
    assert_int_equal(r->n, 1);
    all_valid(r);
    no_damage(r);
    s = stream_pid(r, KLV_PID);
    assert_true(s->declared && s->klva);
    assert_int_equal(s->carriage, VG_FMV_CARRIAGE_ASYNC);
    assert_int_equal(stream_pid(r, 0x100)->kind, VG_FMV_ES_VIDEO);
    assert_int_equal(r->g[0].mux_pts, 90000);
    free(r);
    vg_buf_free(&w.b);
  }
  /* Two sections in one TS packet: the PMTs of programs 1 and 2 on one PID. */
  {
    static const es_def es1[] = {{0x06, KLV_PID, D_KLVA, sizeof D_KLVA}};
    static const es_def es2[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
    static const uint16_t progs[] = {1, 2}, pmts[] = {PMT_PID, PMT_PID};
    vg_buf pl;
    tsw_init(&w);
    vg_buf_init(&pl, 1 << 20);
    b.n = 0;
    pat_section(&b, progs, pmts, 2);
    ts_psi(&w, 0, b.d, b.n);
    b.n = 0;
    pmt_section(&b, 1, KLV_PID, es1, 1);
    pmt_section(&b, 2, SYNC_PID, es2, 1);
    assert_true(b.n < 183);
    ts_psi(&w, PMT_PID, b.d, b.n);
    assert_int_equal(tsw_npkts(&w), 2);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 220);
    ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    vg_buf_reset(&k);
    klv_make(&k, T0 + 221);
    au_cell(&pl, 0, 3, k.data, k.len);
    ts_pes(&w, SYNC_PID, 0xFC, 12345, NOTS, 0, pl.data, pl.len);
    r = demux_all(w.b.data, w.b.len);
    {
      static const uint64_t want[] = {T0 + 220, T0 + 221};
      expect_times(r, want, 2);
    }
    all_valid(r);
    no_damage(r);
    s = stream_pid(r, KLV_PID);
    assert_int_equal(s->program, 1);
    assert_int_equal(s->carriage, VG_FMV_CARRIAGE_ASYNC);
    s = stream_pid(r, SYNC_PID);
    assert_int_equal(s->program, 2);
    assert_int_equal(s->carriage, VG_FMV_CARRIAGE_SYNC);
    assert_int_equal(r->g[1].pts, 12345);
    free(r);
    vg_buf_free(&pl);
    vg_buf_free(&w.b);
  }
  vg_buf_free(&k);
}

/* ---- PTS wrap -------------------------------------------------------------------- */

static void pts_wrap(void **st)
{
  static const es_def es[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
  tsw w;
  vg_buf k, pl;
  drun *r;
  const int64_t start = PTS_WRAP - 3 * 3003;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  ts_tables(&w, SYNC_PID, es, 1);
  for (int i = 0; i < 6; i++) {
    int64_t p = (start + i * 3003) % PTS_WRAP; /* as on the wire: 33 bits */
    vg_buf_reset(&k);
    vg_buf_reset(&pl);
    klv_make(&k, T0 + 300 + (uint64_t)i);
    au_cell(&pl, (uint8_t)i, 3, k.data, k.len);
    w.pcr = (p - 9000 + PTS_WRAP) % PTS_WRAP;
    ts_pes(&w, SYNC_PID, 0xFC, p, NOTS, 0, pl.data, pl.len);
  }
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->n, 6);
  all_valid(r);
  no_damage(r);
  for (int i = 0; i < 6; i++)
    assert_int_equal(r->g[i].pts, start + i * 3003);
  assert_true(r->g[5].pts > PTS_WRAP);
  assert_int_equal(stream_pid(r, SYNC_PID)->pts_first, start);
  assert_int_equal(stream_pid(r, SYNC_PID)->pts_last, start + 5 * 3003);
  assert_int_equal(r->st.pcr_first, start - 9000);
  assert_int_equal(r->st.pcr_last, start + 5 * 3003 - 9000);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

static void looks_like_ts(void **st)
{
  dmg m;
  vg_buf k;
  size_t n;
  uint8_t *b;
  (void)st;
  dmg_build(&m, -1, 0);
  assert_true(vg_fmv_looks_like_ts(m.w.b.data, m.w.b.len));
  assert_true(vg_fmv_looks_like_ts(m.w.b.data, 188 * 3));
  b = reframe(m.w.b.data, m.w.b.len, 204, &n);
  assert_true(vg_fmv_looks_like_ts(b, n));
  free(b);
  vg_buf_init(&k, 1 << 20);
  for (int i = 0; i < 8; i++)
    klv_make(&k, T0 + (uint64_t)i);
  assert_false(vg_fmv_looks_like_ts(k.data, k.len));
  assert_false(vg_fmv_looks_like_ts(k.data, 0));
  assert_false(vg_fmv_looks_like_ts(NULL, 0));
  vg_buf_free(&k);
  vg_buf_free(&m.w.b);
}

/* ---- headers split across TS packets --------------------------------------------------- */

static void pes_header_split(void **st)
{
  /* 0x06 + KLVA on 0xFC with PTS: hybrid. Each PES header (14 bytes) is cut at a different place. */
  static const size_t cut[] = {3, 7, 9, 11, 13};
  tsw w;
  vg_buf k;
  drun *r;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, KLV_PID, ES_ASYNC, 1);
  for (int i = 0; i < 5; i++) {
    vg_buf_reset(&k);
    klv_make(&k, T0 + 500 + (uint64_t)i);
    w.max_pl = cut[i];
    ts_pes(&w, KLV_PID, 0xFC, 180000 + i * 3003, NOTS, 0, k.data, k.len);
  }
  /* PES header with stuffing bytes after the PTS (header_data_length 5 + 6). */
  w.pes_stuff = 6;
  vg_buf_reset(&k);
  klv_make(&k, T0 + 505);
  ts_pes(&w, KLV_PID, 0xFC, 200000, NOTS, 0, k.data, k.len);
  /* ... and with PTS + DTS, cut inside the DTS. */
  w.pes_stuff = 0;
  vg_buf_reset(&k);
  klv_make(&k, T0 + 506);
  w.max_pl = 16;
  ts_pes(&w, KLV_PID, 0xFC, 210000, 209000, 0, k.data, k.len);
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->n, 7);
  all_valid(r);
  no_damage(r);
  for (int i = 0; i < 7; i++) {
    assert_int_equal(r->g[i].time, T0 + 500 + (uint64_t)i);
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_HYBRID);
    assert_int_equal(r->g[i].pts, i < 5 ? 180000 + i * 3003 : i == 5 ? 200000 : 210000);
  }
  assert_int_equal(stream_pid(r, KLV_PID)->junk_bytes, 0);
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

static void cell_header_split(void **st)
{
  static const es_def es[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
  tsw w;
  vg_buf k, pl;
  drun *r;
  size_t l1;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  ts_tables(&w, SYNC_PID, es, 1);
  /* PES header 14 bytes + cell 1 (5 + 163) = 182: cell 2's header spans the TS packet boundary. */
  l1 = klv_make_size(&k, T0 + 600, 163);
  klv_make(&k, T0 + 601);
  au_cell(&pl, 0, 3, k.data, l1);
  au_cell(&pl, 1, 3, k.data + l1, k.len - l1);
  ts_pes(&w, SYNC_PID, 0xFC, 300000, NOTS, 0, pl.data, pl.len);
  /* The first cell header cut after 2 bytes. */
  vg_buf_reset(&k);
  vg_buf_reset(&pl);
  klv_make(&k, T0 + 602);
  au_cell(&pl, 2, 3, k.data, k.len);
  w.max_pl = 14 + 2;
  ts_pes(&w, SYNC_PID, 0xFC, 303003, NOTS, 0, pl.data, pl.len);
  /* An empty cell (length 0) before a whole one. */
  vg_buf_reset(&k);
  vg_buf_reset(&pl);
  klv_make(&k, T0 + 603);
  au_cell(&pl, 3, 3, k.data, 0);
  au_cell(&pl, 4, 3, k.data, k.len);
  ts_pes(&w, SYNC_PID, 0xFC, 306006, NOTS, 0, pl.data, pl.len);
  r = demux_all(w.b.data, w.b.len);
  {
    static const uint64_t want[] = {T0 + 600, T0 + 601, T0 + 602, T0 + 603};
    expect_times(r, want, 4);
  }
  all_valid(r);
  no_damage(r);
  assert_int_equal(r->g[1].pts, 300000);
  assert_int_equal(r->g[2].pts, 303003);
  assert_int_equal(r->g[3].pts, 306006);
  assert_int_equal(stream_pid(r, SYNC_PID)->au_cells, 5);
  assert_int_equal(stream_pid(r, SYNC_PID)->junk_bytes, 0);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/*
 * Sections cut by the rules: a TS packet in which a section starts has PUSI and
 * a pointer_field giving where, after the tail of the previous section.
 */
static void ts_psi_split(tsw *w, uint16_t pid, const uint8_t *cat, size_t total, const size_t *starts, size_t ns)
{
  size_t pos = 0;
  while (pos < total) {
    uint8_t pl[184];
    size_t len = 0, si, k;
    int pusi = 0;
    for (si = 0; si < ns; si++)
      if (starts[si] >= pos && starts[si] < pos + 183) {
        pusi = 1;
        break;
      }
    if (pusi)
      pl[len++] = (uint8_t)(starts[si] - pos);
    k = 184 - len < total - pos ? 184 - len : total - pos;
    memcpy(pl + len, cat + pos, k);
    len += k;
    pos += k;
    memset(pl + len, 0xFF, 184 - len);
    ts_put(w, pid, pusi, pl, 184);
  }
}

static void psi_pointer_field(void **st)
{
  static uint8_t long_desc[2 + 240];
  static const uint16_t progs[] = {1, 2}, pmts[] = {PMT_PID, PMT_PID};
  es_def es1[] = {{0x06, KLV_PID, long_desc, sizeof long_desc}, {0x06, KLV_PID + 0x10, D_KLVA, sizeof D_KLVA}};
  static const es_def es2[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
  tsw w;
  bytes b;
  vg_buf k, pl;
  size_t starts[2];
  drun *r;
  const vg_fmv_stream *s;
  (void)st;
  long_desc[0] = 0xFE;
  long_desc[1] = 240;
  memset(long_desc + 2, 0x02, 240);
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  b.n = 0;
  pat_section(&b, progs, pmts, 2);
  ts_psi(&w, 0, b.d, b.n);
  /* PMT 1 (about 280 bytes) then PMT 2, which starts in the second TS packet after PMT 1's tail. */
  b.n = 0;
  starts[0] = 0;
  pmt_section(&b, 1, KLV_PID, es1, 2);
  starts[1] = b.n;
  pmt_section(&b, 2, SYNC_PID, es2, 1);
  assert_true(starts[1] > 183 && b.n < 2 * 183);
  ts_psi_split(&w, PMT_PID, b.d, b.n, starts, 2);
  assert_int_equal(tsw_npkts(&w), 3);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 700);
  ts_pes(&w, KLV_PID + 0x10, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 701);
  au_cell(&pl, 0, 3, k.data, k.len);
  ts_pes(&w, SYNC_PID, 0xFC, 5000, NOTS, 0, pl.data, pl.len);
  r = demux_all(w.b.data, w.b.len);
  {
    static const uint64_t want[] = {T0 + 700, T0 + 701};
    expect_times(r, want, 2);
  }
  all_valid(r);
  no_damage(r);
  s = stream_pid(r, KLV_PID);
  assert_non_null(s);
  assert_true(s->declared);
  assert_false(s->klva); /* its only descriptor is the private one */
  assert_int_equal(s->kind, VG_FMV_ES_DATA);
  s = stream_pid(r, KLV_PID + 0x10);
  assert_true(s->declared && s->klva);
  assert_int_equal(s->program, 1);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_ASYNC);
  s = stream_pid(r, SYNC_PID);
  assert_non_null(s);
  assert_int_equal(s->program, 2);
  assert_int_equal(s->carriage, VG_FMV_CARRIAGE_SYNC);
  free(r);
  vg_buf_free(&pl);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- limits of the output queue ------------------------------------------------------- */

static void queue_limits(void **st)
{
  static const es_def es[] = {{0x1B, 0x100, NULL, 0}, {0x06, KLV_PID, D_KLVA, sizeof D_KLVA}};
  tsw w;
  vg_buf k;
  drun *r;
  (void)st;
  vg_buf_init(&k, 1 << 20);
  /* Packets waiting for a video PES that does not come: at half the queue (2048) they are
   * handed out without a multiplex time; the later ones get the video PES that finally comes. */
  tsw_init(&w);
  ts_tables(&w, 0x100, es, 2);
  for (int i = 0; i < 2100; i++) {
    vg_buf_reset(&k);
    klv_make(&k, T0 + 1000 + (uint64_t)i);
    ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  }
  ts_video(&w, 0x100, 7000000, 0);
  r = demux_run(w.b.data, w.b.len, 1316);
  assert_int_equal(r->n, 2100);
  for (int i = 0; i < 2100; i++) {
    assert_int_equal(r->g[i].time, T0 + 1000 + (uint64_t)i);
    if (r->g[i].mux_pts != (i < 2048 ? VG_FMV_NOPTS : 7000000))
      fail_msg("packet %d: mux_pts %lld", i, (long long)r->g[i].mux_pts);
  }
  assert_int_equal(r->st.klv_bad, 0);
  free(r);
  vg_buf_free(&w.b);
  /* A caller that does not drain: 4096 packets wait, the next one is dropped and counted. */
  for (int extra = 0; extra < 2; extra++) {
    int total = 4096 + extra;
    tsw_init(&w);
    ts_tables(&w, KLV_PID, ES_ASYNC, 1);
    for (int i = 0; i < total;) {
      vg_buf_reset(&k);
      for (int j = 0; j < 3 && i < total; j++, i++)
        klv_make(&k, T0 + 5000 + (uint64_t)i);
      ts_pes(&w, KLV_PID, 0xBD, 90000 + i, NOTS, 0, k.data, k.len);
    }
    r = demux_run_o(w.b.data, w.b.len, w.b.len, NULL, 1);
    assert_int_equal(r->n, 4096);
    assert_int_equal(r->st.klv_bad, (uint64_t)extra);
    /* klv_packets counts packets handed out (decoded once, on delivery); the dropped one is in klv_bad */
    assert_int_equal(r->st.klv_packets, 4096);
    assert_int_equal(r->g[4095].time, T0 + 5000 + 4095);
    if (extra)
      assert_true(has_event(r, KLV_PID, VG_E_LIMIT));
    free(r);
    vg_buf_free(&w.b);
  }
  vg_buf_free(&k);
}

/* VG_FMV_MAX_STREAMS: a PMT declaring 70 KLV PIDs, then 20 more PIDs found by PES id. */
static void stream_table_limit(void **st)
{
  es_def es[70];
  tsw w;
  vg_buf k;
  drun *r;
  (void)st;
  for (int i = 0; i < 70; i++) {
    es[i].type = 0x06;
    es[i].pid = (uint16_t)(0x200 + i);
    es[i].desc = D_KLVA;
    es[i].ndesc = sizeof D_KLVA;
  }
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, 0x200, es, 70);
  for (int i = 0; i < 90; i++) {
    vg_buf_reset(&k);
    klv_make(&k, T0 + 2000 + (uint64_t)i);
    ts_pes(&w, (uint16_t)(0x200 + i), i < 70 ? 0xBD : 0xFC, NOTS, NOTS, 0, k.data, k.len);
  }
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->ns, VG_FMV_MAX_STREAMS);
  assert_int_equal(r->n, VG_FMV_MAX_STREAMS);
  for (int i = 0; i < VG_FMV_MAX_STREAMS; i++) {
    assert_int_equal(r->s[i].pid, 0x200 + i);
    assert_int_equal(r->s[i].carriage, VG_FMV_CARRIAGE_ASYNC);
    assert_int_equal(r->g[i].pid, 0x200 + i);
    assert_int_equal(r->g[i].time, T0 + 2000 + (uint64_t)i);
  }
  all_valid(r);
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

/* ---- checksums, strict mode, unknown keys, broken PES starts ----------------------------- */

static void strict_and_unknown(void **st)
{
  static const uint8_t ukey[16] = {0x06, 0x0e, 0x2b, 0x34, 0x01, 0x01, 0x01, 0x01,
                                   0x99, 0x99, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00};
  tsw w;
  vg_buf k;
  drun *r;
  vg_fmv_demux_opts o = VG_FMV_DEMUX_OPTS_INIT;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, KLV_PID, ES_ASYNC, 1);
  for (int i = 0; i < 4; i++) {
    vg_buf_reset(&k);
    klv_make(&k, T0 + 800 + (uint64_t)i);
    if (i == 1)
      k.data[16 + 1 + 10 + 2] ^= 0x01; /* first byte of the latitude value: checksum now wrong */
    ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
    if (i == 2) {
      uint8_t u[21];
      memcpy(u, ukey, 16);
      u[16] = 4;
      memcpy(u + 17, "abcd", 4);
      ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, u, sizeof u);
    }
  }
  /* lenient: the bad checksum is returned and flagged; the unknown key is not returned */
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->n, 4);
  assert_int_equal(r->g[1].time, T0 + 801);
  assert_int_equal(r->g[1].cksum, VG_KLV_CK_INVALID);
  assert_int_equal(r->g[2].cksum, VG_KLV_CK_VALID);
  assert_int_equal(r->st.cksum_bad, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->cksum_bad, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->cksum_ok, 3);
  assert_true(r->damaged);
  free(r);
  /* strict: the packet with the bad checksum is counted but not returned */
  o.strict = 1;
  r = demux_run_o(w.b.data, w.b.len, 500, &o, 0);
  {
    static const uint64_t want[] = {T0 + 800, T0 + 802, T0 + 803};
    expect_times(r, want, 3);
  }
  assert_int_equal(r->st.cksum_bad, 1);
  free(r);
  /* keep_unknown: the unknown packet comes out raw */
  o.strict = 0;
  o.keep_unknown = 1;
  r = demux_run_o(w.b.data, w.b.len, 500, &o, 0);
  assert_int_equal(r->n, 5);
  assert_int_equal(r->g[3].kind, VG_KLV_KIND_UNKNOWN);
  assert_int_equal(r->g[3].len, 21);
  assert_int_equal(r->g[4].time, T0 + 803);
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}

static void pes_bad_start(void **st)
{
  tsw w;
  vg_buf k;
  uint8_t pl[184];
  drun *r;
  (void)st;
  tsw_init(&w);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, KLV_PID, ES_ASYNC, 1);
  klv_make(&k, T0 + 900);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  /* A payload unit start without the 00 00 01 start code, with a whole KLV packet inside:
   * the unit is skipped, not scanned. */
  vg_buf_reset(&k);
  klv_make(&k, T0 + 901);
  memset(pl, 0xFF, sizeof pl);
  pl[0] = 0x00;
  pl[1] = 0x00;
  pl[2] = 0x02;
  pl[3] = 0xBD;
  memcpy(pl + 9, k.data, k.len);
  ts_put(&w, KLV_PID, 1, pl, 184);
  vg_buf_reset(&k);
  klv_make(&k, T0 + 902);
  ts_pes(&w, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  r = demux_all(w.b.data, w.b.len);
  {
    static const uint64_t want[] = {T0 + 900, T0 + 902};
    expect_times(r, want, 2);
  }
  all_valid(r);
  assert_int_equal(r->st.pes_bad, 1);
  assert_int_equal(stream_pid(r, KLV_PID)->pes_bad, 1);
  assert_true(has_event(r, KLV_PID, VG_E_MALFORMED));
  free(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
}


/*
 * fmv.h: mux_pts is "the DTS (or PTS) of the first video PES of the same program
 * that starts after the packet's PES". Here the KLV PES (two TS packets) starts,
 * a video PES (DTS 1000000) starts between its two TS packets, then another
 * (DTS 1003003). lib/fmv/ts.c q_push() marks the packet as waiting only when it
 * is complete (after the first video PES started), so it gets 1003003: one frame
 * late for every KLV packet that spans a video PES start, which real muxers do.
 */
static void mux_time_interleaved(void **st)
{
  static const es_def es[] = {{0x1B, 0x100, NULL, 0}, {0x06, KLV_PID, D_KLVA, sizeof D_KLVA}};
  tsw w, v;
  vg_buf k;
  drun *r;
  (void)st;
  tsw_init(&w);
  tsw_init(&v);
  vg_buf_init(&k, 1 << 20);
  ts_tables(&w, 0x100, es, 2);
  klv_make_size(&k, T0 + 1, 300);
  ts_pes(&v, KLV_PID, 0xBD, NOTS, NOTS, 0, k.data, k.len);
  assert_int_equal(tsw_npkts(&v), 2);
  assert_int_equal(vg_buf_append(&w.b, v.b.data, 188), VG_OK);
  ts_video(&w, 0x100, 1000000, 0);
  assert_int_equal(vg_buf_append(&w.b, v.b.data + 188, 188), VG_OK);
  ts_video(&w, 0x100, 1003003, 0);
  r = demux_all(w.b.data, w.b.len);
  assert_int_equal(r->n, 1);
  all_valid(r);
  no_damage(r);
  vg_buf_free(&k);
  vg_buf_free(&w.b);
  vg_buf_free(&v.b);
  {
    int64_t mux = r->g[0].mux_pts;
    free(r);
    assert_int_equal(mux, 1000000);
  }
}

/* ---- live sources: UDP and RTP on the loopback ---------------------------------------- */

#define LIVE_N 40
#define DGRAM_TS 7

typedef struct sender {
  uint16_t port;
  const uint8_t *ts;
  size_t n;
  int rtp;
  int err;     /* errno of a failed send, 0 if all went */
  size_t sent; /* datagrams */
} sender;

static void *send_thread(void *arg)
{
  sender *s = arg;
  struct sockaddr_in to;
  uint8_t dg[12 + DGRAM_TS * 188];
  uint16_t seq = 0xFFF0; /* crosses the 16-bit wrap */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct timespec pause = {0, 2 * 1000 * 1000};
  if (fd < 0) {
    s->err = 1;
    return NULL;
  }
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(s->port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  nanosleep(&pause, NULL); /* the reader is bound already; let it start reading */
  for (size_t off = 0; off < s->n; off += DGRAM_TS * 188) {
    size_t k = s->n - off < DGRAM_TS * 188 ? s->n - off : DGRAM_TS * 188, h = 0;
    uint32_t ts90 = (uint32_t)(off / 188) * 300;
    if (s->rtp) {
      dg[0] = 0x80; /* V=2, no padding, no extension, no CSRC */
      dg[1] = 33;   /* MP2T */
      dg[2] = (uint8_t)(seq >> 8);
      dg[3] = (uint8_t)seq;
      dg[4] = (uint8_t)(ts90 >> 24);
      dg[5] = (uint8_t)(ts90 >> 16);
      dg[6] = (uint8_t)(ts90 >> 8);
      dg[7] = (uint8_t)ts90;
      dg[8] = 0x12;
      dg[9] = 0x34;
      dg[10] = 0x56;
      dg[11] = 0x78;
      seq++;
      h = 12;
    }
    memcpy(dg + h, s->ts + off, k);
    if (sendto(fd, dg, h + k, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)(h + k)) {
      s->err = 2;
      break;
    }
    s->sent++;
    {
      struct timespec gap = {0, 1000 * 1000};
      nanosleep(&gap, NULL);
    }
  }
  close(fd);
  return NULL;
}

/* A loopback UDP port nobody uses now, or 0 when sockets are not available. */
static uint16_t free_port(void)
{
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  uint16_t port = 0;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0)
    return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* The live fixture: LIVE_N sync packets with PTS (handed out at once), padded to whole datagrams. */
static void live_ts(tsw *w)
{
  static const es_def es[] = {{0x15, SYNC_PID, D_META, sizeof D_META}};
  vg_buf k, pl;
  tsw_init(w);
  vg_buf_init(&k, 1 << 20);
  vg_buf_init(&pl, 1 << 20);
  ts_tables(w, SYNC_PID, es, 1);
  for (int i = 0; i < LIVE_N; i++) {
    vg_buf_reset(&k);
    vg_buf_reset(&pl);
    klv_make_size(&k, T0 + 400 + (uint64_t)i, i % 3 ? 200 : 500);
    au_cell(&pl, (uint8_t)i, 3, k.data, k.len);
    ts_pes(w, SYNC_PID, 0xFC, 90000 + i * 3003, NOTS, 0, pl.data, pl.len);
  }
  while (tsw_npkts(w) % DGRAM_TS)
    ts_null(w);
  vg_buf_free(&pl);
  vg_buf_free(&k);
}

static void live(int rtp)
{
  tsw w;
  sender *snd;
  pthread_t th;
  vg_fmv_source *src = NULL;
  vg_fmv_demux *d;
  char url[128];
  uint8_t *buf;
  drun *r;
  ssize_t k;
  uint16_t port = free_port();
  int rc, feed_rc = VG_OK;
  if (!port) {
    print_message("SKIPPED: no loopback UDP socket available in this environment\n");
    skip();
  }
  live_ts(&w);
  snprintf(url, sizeof url, "%s://127.0.0.1:%u?timeout=2000000", rtp ? "rtp" : "udp", (unsigned)port);
  /* Open (bind) before the sender starts, so no datagram goes to a closed port. */
  rc = vg_fmv_source_open(&src, url);
  if (rc != VG_OK)
    fail_msg("%s: %s (%s)", url, vg_err_name(rc), vg_error_last());
  assert_false(vg_fmv_source_seekable(src));
  assert_int_equal(vg_fmv_source_size(src), -1);
  assert_int_equal(vg_fmv_source_seek(src, 0), VG_E_UNSUPPORTED);
  assert_string_equal(vg_fmv_source_name(src), url);
  buf = malloc(1 << 16);
  r = calloc(1, sizeof *r);
  snd = calloc(1, sizeof *snd); /* on the heap: nothing the thread uses goes away before the join */
  assert_non_null(buf);
  assert_non_null(r);
  assert_non_null(snd);
  assert_int_equal(vg_fmv_demux_new(&d, NULL), VG_OK);
  snd->port = port;
  snd->ts = w.b.data;
  snd->n = w.b.len;
  snd->rtp = rtp;
  assert_int_equal(pthread_create(&th, NULL, send_thread, snd), 0);
  /* Until the source ends or times out (2 s without a datagram after the sender stops).
   * No assertion until the join. */
  while ((k = vg_fmv_source_read(src, buf, 1 << 16)) > 0) {
    if (feed_rc == VG_OK)
      feed_rc = vg_fmv_demux_feed(d, buf, (size_t)k);
    if (r->n < LIVE_N)
      drain(d, r);
  }
  pthread_join(th, NULL);
  assert_int_equal(feed_rc, VG_OK);
  assert_true(k == 0 || k == VG_E_IO);
  vg_fmv_demux_finish(d);
  drain(d, r);
  r->st = *vg_fmv_demux_stats_get(d);
  if (snd->err)
    fail_msg("sender failed (%d) after %zu datagrams", snd->err, snd->sent);
  assert_int_equal(snd->sent, tsw_npkts(&w) / DGRAM_TS);
  if (r->n != LIVE_N)
    fail_msg("%s: %zu of %d KLV packets arrived (%llu bytes, %llu junk)", url, r->n, LIVE_N,
             (unsigned long long)r->st.bytes, (unsigned long long)r->st.junk_bytes);
  for (int i = 0; i < LIVE_N; i++) {
    assert_int_equal(r->g[i].time, T0 + 400 + (uint64_t)i);
    assert_int_equal(r->g[i].pts, 90000 + i * 3003);
    assert_int_equal(r->g[i].len, i % 3 ? 200 : 500);
    assert_int_equal(r->g[i].carriage, VG_FMV_CARRIAGE_SYNC);
  }
  all_valid(r);
  /* RTP headers are gone: the demultiplexer saw exactly the TS that was sent. */
  assert_int_equal(r->st.bytes, w.b.len);
  assert_int_equal(r->st.junk_bytes, 0);
  assert_int_equal(r->st.sync_losses, 0);
  assert_int_equal(r->st.cc_errors, 0);
  assert_int_equal(r->st.packet_size, 188);
  vg_fmv_demux_free(d);
  vg_fmv_source_free(src);
  free(snd);
  free(r);
  free(buf);
  vg_buf_free(&w.b);
}

static void live_udp(void **st)
{
  (void)st;
  live(0);
}

static void live_rtp(void **st)
{
  (void)st;
  live(1);
}

/* The memory source gives back what it holds, and seeks. */
static void mem_source(void **st)
{
  dmg m;
  vg_fmv_source *src;
  vg_fmv_demux *d;
  drun *r = calloc(1, sizeof *r);
  uint8_t buf[1000];
  ssize_t k;
  (void)st;
  dmg_build(&m, -1, 0);
  assert_non_null(r);
  assert_int_equal(vg_fmv_source_mem(&src, m.w.b.data, m.w.b.len), VG_OK);
  assert_true(vg_fmv_source_seekable(src));
  assert_int_equal(vg_fmv_source_size(src), (int64_t)m.w.b.len);
  assert_int_equal(vg_fmv_demux_new(&d, NULL), VG_OK);
  while ((k = vg_fmv_source_read(src, buf, sizeof buf)) > 0) {
    assert_int_equal(vg_fmv_demux_feed(d, buf, (size_t)k), VG_OK);
    drain(d, r);
  }
  assert_int_equal(k, 0);
  vg_fmv_demux_finish(d);
  drain(d, r);
  r->st = *vg_fmv_demux_stats_get(d);
  expect_times(r, DMG_ALL, 5);
  assert_int_equal(vg_fmv_source_seek(src, 188), VG_OK);
  assert_int_equal(vg_fmv_source_read(src, buf, 1), 1);
  assert_int_equal(buf[0], 0x47);
  assert_int_not_equal(vg_fmv_source_seek(src, m.w.b.len + 1), VG_OK);
  vg_fmv_demux_free(d);
  vg_fmv_source_free(src);
  free(r);
  vg_buf_free(&m.w.b);
}

int test_fmv_synth_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pes_framing),    cmocka_unit_test(big_packet_unbounded),
    cmocka_unit_test(sync_cells),     cmocka_unit_test(async_mux_time),
    cmocka_unit_test(several_pids),   cmocka_unit_test(no_tables),
    cmocka_unit_test(continuity),     cmocka_unit_test(tei_skipped),
    cmocka_unit_test(junk_between_packets), cmocka_unit_test(sync_loss),
    cmocka_unit_test(packet_size_192),
    cmocka_unit_test(packet_size_204),
    cmocka_unit_test(truncated_end),  cmocka_unit_test(psi_sections),
    cmocka_unit_test(pts_wrap),       cmocka_unit_test(looks_like_ts),
    cmocka_unit_test(pes_header_split), cmocka_unit_test(cell_header_split),
    cmocka_unit_test(psi_pointer_field), cmocka_unit_test(queue_limits),
    cmocka_unit_test(stream_table_limit),
    cmocka_unit_test(strict_and_unknown), cmocka_unit_test(pes_bad_start),
    cmocka_unit_test(mux_time_interleaved), cmocka_unit_test(mem_source),     cmocka_unit_test(live_udp),
    cmocka_unit_test(live_rtp),
  };
  return cmocka_run_group_tests_name("fmv.synth", tests, NULL, NULL);
}
