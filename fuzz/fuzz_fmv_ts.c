/*
 * Fuzz harness: the transport stream demultiplexer and the pose time line
 * (DESIGN.md convention 10), fed in chunks whose sizes come from the input,
 * as FFmpeg's target_dem_fuzzer picks its I/O sizes.
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     options: bit 0 strict, bit 1 keep_unknown, bits 2-3 chunking
 *                 mode (below), bits 4-7 o: the second time line is given the
 *                 offset (o - 8) s
 *   1       2     chunking, big-endian c; the mode picks the chunk sizes:
 *                 0: every chunk 1 + (c % 1500) bytes
 *                 1: sizes drawn in 1 .. 1 + (c & 0xff) * 4 by an LCG seeded with c
 *                 2: whole units: 188, 192 or 204 (c >> 14) bytes times 1 + (c & 0x3f)
 *                 3: every chunk 1 + (c % 16384) bytes
 *   3       n     the stream
 *
 * The stream goes through the demultiplexer twice: in those chunks, and in
 * FUZZ_REF_CHUNK-byte chunks with the same options. Each run drains
 * vg_fmv_demux_next (every item of every packet walked, the packet
 * re-encoded with vg_klv_encode) and the events after every feed, then
 * finishes and drains again. The packets of the first run go onto two pose
 * time lines (one estimating the MISP offset, one given it), which are asked
 * for the pose at the packets' times and between them. Checked (abort on
 * failure):
 *  - every delivered packet names a stream of the table with its PID and kind
 *    KLV at delivery (for now: a KLV carriage, see FUZZ_KIND_AT_DELIVERY), its
 *    bytes lie within what was fed, seq strictly increases;
 *  - in strict mode, no ST 0601 packet with a bad or missing checksum comes out;
 *  - counts agree: stats.klv_packets >= packets delivered, per-stream counts
 *    add up to at most the whole-multiplex ones, per-kind counts to the
 *    stream's packets, TS packets and skipped bytes fit in the bytes fed;
 *  - events are NUL-terminated and point inside the input;
 *  - chunking changes nothing: the same packets (PID, stream, carriage, PTS,
 *    offset, bytes) in the same order, the same counts and stream table
 *    (for now only when sync was not lost: FUZZ_COMPARE_AFTER_SYNC_LOSS);
 *  - a pose's interpolation weight lies in [0, 1] and its age within max_age_s.
 * Set VIGIA_FUZZ_VERBOSE=1 to see what each input went through.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/fmv.h"
#include "vigia/klv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Packets remembered per run for the comparison between runs. */
#define FUZZ_MAX_PKTS 8192
/* Chunk size of the reference run: small enough that no feed fills the demultiplexer's queue. */
#define FUZZ_REF_CHUNK 4096
/* Output cap of the re-encoding (inputs are at most a few hundred KB). */
#define FUZZ_ENC_MAX ((size_t)4 << 20)
/* Deepest nested set walked (the decoder's own limit is lower). */
#define FUZZ_MAX_DEPTH 32
/* Packet times (and midpoints) at which the time lines are asked for a pose. */
#define FUZZ_MAX_QUERIES 24
/* 1: a delivered packet's stream must be of kind KLV even after a PMT re-declared it (see take_packet). */
#ifndef FUZZ_KIND_AT_DELIVERY
#define FUZZ_KIND_AT_DELIVERY 0
#endif
/* 1: compare the chunked and reference runs even when sync was lost (see LLVMFuzzerTestOneInput). */
#ifndef FUZZ_COMPARE_AFTER_SYNC_LOSS
#define FUZZ_COMPARE_AFTER_SYNC_LOSS 0
#endif

typedef struct pkt_rec {
  uint64_t seq, ts_offset, hash;
  int64_t pts;
  size_t total_len;
  int stream;
  uint16_t pid;
  uint8_t carriage, kind;
} pkt_rec;

typedef struct run_result {
  size_t n;                     /* packets delivered */
  pkt_rec p[FUZZ_MAX_PKTS];
  vg_fmv_demux_stats st;
  vg_fmv_stream streams[VG_FMV_MAX_STREAMS];
  size_t nstreams;
  uint64_t per_stream[VG_FMV_MAX_STREAMS]; /* packets delivered per stream */
  uint64_t events;
  int64_t times[FUZZ_MAX_QUERIES];         /* query times for the time lines */
  size_t ntimes;
} run_result;

static void fail(const char *what, const run_result *r, uint64_t a, uint64_t b)
{
  fprintf(stderr, "fuzz_fmv_ts: invariant broken: %s (%llu, %llu) after %zu packets\n", what,
          (unsigned long long)a, (unsigned long long)b, r ? r->n : 0);
  abort();
}

/* Sizes of the chunks, from the option byte and the two selector bytes. */
typedef struct chunker {
  int mode;    /* 0..3, or -1: FUZZ_REF_CHUNK */
  uint16_t sel;
  uint32_t state;
} chunker;

static size_t next_chunk(chunker *c)
{
  static const size_t unit[4] = {188, 192, 204, 188};
  switch (c->mode) {
  case 0:
    return 1 + (size_t)(c->sel % 1500);
  case 1:
    c->state = c->state * 1103515245u + 12345u;
    return 1 + (size_t)((c->state >> 16) % (1 + (uint32_t)(c->sel & 0xff) * 4));
  case 2:
    return unit[c->sel >> 14] * (1 + (size_t)(c->sel & 0x3f));
  case 3:
    return 1 + (size_t)(c->sel % 16384);
  default:
    return FUZZ_REF_CHUNK;
  }
}

/* FNV-1a over a packet's bytes. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Touches every item of a set and of its nested sets; returns a sum the compiler must keep. */
static uint64_t walk_set(const vg_klv_set *s, int depth, const run_result *r)
{
  uint64_t acc = 0;
  if (depth > FUZZ_MAX_DEPTH)
    fail("nested sets deeper than the walk allows (depth)", r, (uint64_t)depth, 0);
  if (s->n && !s->items)
    fail("set with items but no item array (n)", r, s->n, 0);
  for (size_t i = 0; i < s->n; i++) {
    const vg_klv_item *it = &s->items[i];
    acc += it->tag + it->flags + it->type + it->special + it->id + it->offset;
    if (it->len && it->raw)
      acc += it->raw[0] + it->raw[it->len - 1];
    switch (it->type) {
    case VG_KLV_T_STRING:
      if (it->v.s.n)
        acc += (uint8_t)it->v.s.p[0] + (uint8_t)it->v.s.p[it->v.s.n - 1];
      break;
    case VG_KLV_T_SET:
      if (it->child)
        acc += walk_set(it->child, depth + 1, r);
      break;
    default:
      acc += it->v.u;
      break;
    }
  }
  return acc;
}

static volatile uint64_t g_sink;

/* Checks and records one delivered packet. */
static void take_packet(vg_fmv_demux *d, const vg_fmv_klv *k, int strict, vg_buf *enc,
                        run_result *r)
{
  const vg_fmv_demux_stats *st = vg_fmv_demux_stats_get(d);
  size_t ns;
  const vg_fmv_stream *ss = vg_fmv_demux_streams(d, &ns);
  const vg_klv_packet *p = k->pkt;
  pkt_rec *rec;

  if (!p || !p->bytes || p->total_len == 0)
    fail("packet without bytes (total_len)", r, p ? p->total_len : 0, 0);
  if (p->total_len > st->bytes)
    fail("packet longer than the input fed (total_len, bytes)", r, p->total_len, st->bytes);
  if (k->ts_offset >= st->bytes)
    fail("packet starts past the input fed (ts_offset, bytes)", r, k->ts_offset, st->bytes);
  if (p->offset != k->ts_offset)
    fail("pkt->offset differs from ts_offset", r, p->offset, k->ts_offset);
  if (k->stream < 0 || (size_t)k->stream >= ns)
    fail("packet names a stream outside the table (stream, nstreams)", r, (uint64_t)k->stream, ns);
  if (ss[k->stream].pid != k->pid)
    fail("packet PID differs from its stream's (pid, stream pid)", r, k->pid, ss[k->stream].pid);
  /*
   * Known (reported, lib/fmv/ts.c pmt_section): a PMT that declares a KLV PID
   * again with another stream_type turns its kind to video, audio or data,
   * and packets queued before still come out. Until then: the stream must
   * have been KLV (carriage set, packets counted).
   */
  if (ss[k->stream].kind != VG_FMV_ES_KLV &&
      (FUZZ_KIND_AT_DELIVERY || ss[k->stream].carriage == VG_FMV_CARRIAGE_NONE ||
       ss[k->stream].klv_packets == 0))
    fail("packet delivered from a stream that is not KLV (pid, kind)", r, k->pid,
         (uint64_t)ss[k->stream].kind);
  if ((unsigned)k->carriage >= VG_FMV_CARRIAGE__COUNT || k->carriage == VG_FMV_CARRIAGE_NONE)
    fail("packet without a KLV carriage (carriage)", r, (uint64_t)k->carriage, 0);
  if (r->n > 0 && k->seq <= r->p[(r->n - 1) % FUZZ_MAX_PKTS].seq)
    fail("seq does not increase (seq, previous)", r, k->seq, r->p[(r->n - 1) % FUZZ_MAX_PKTS].seq);
  if ((unsigned)p->kind >= VG_KLV_KIND__COUNT)
    fail("packet kind out of range", r, (uint64_t)p->kind, 0);
  if (strict && p->kind == VG_KLV_KIND_ST0601 && p->cksum != VG_KLV_CK_VALID)
    fail("strict demux delivered an ST 0601 packet without a valid checksum (cksum)", r,
         (uint64_t)p->cksum, 0);
  if (vg_fmv_carriage_name(k->carriage) == NULL)
    fail("carriage without a name", r, (uint64_t)k->carriage, 0);

  g_sink += walk_set(&p->set, 0, r) + p->flags + (uint64_t)p->version + p->value_len +
            p->key[15] + p->cksum_stored + p->cksum_computed + (uint64_t)k->mux_pts;
  vg_buf_reset(enc);
  if (vg_klv_encode(enc, p) != VG_OK)
    vg_error_clear();
  g_sink += enc->len;

  r->per_stream[k->stream]++;
  if (r->n < FUZZ_MAX_PKTS) {
    rec = &r->p[r->n];
    rec->seq = k->seq;
    rec->ts_offset = k->ts_offset;
    rec->hash = hash_bytes(p->bytes, p->total_len);
    rec->pts = k->pts;
    rec->total_len = p->total_len;
    rec->stream = k->stream;
    rec->pid = k->pid;
    rec->carriage = (uint8_t)k->carriage;
    rec->kind = (uint8_t)p->kind;
  } else {
    r->p[r->n % FUZZ_MAX_PKTS].seq = k->seq; /* keeps the seq check going */
  }
  r->n++;
}

/* Takes every packet and event the demultiplexer has ready; packets also go onto the time lines. */
static void drain(vg_fmv_demux *d, int strict, vg_buf *enc, vg_fmv_timeline *t1,
                  vg_fmv_timeline *t2, run_result *r)
{
  vg_fmv_klv k;
  vg_fmv_event ev;
  while (vg_fmv_demux_next(d, &k) == VG_OK) {
    take_packet(d, &k, strict, enc, r);
    if (t1 && vg_fmv_timeline_add(t1, &k) != VG_OK)
      fail("timeline_add failed on a small input", r, k.seq, 0);
    if (t2 && vg_fmv_timeline_add(t2, &k) != VG_OK)
      fail("timeline_add failed on a small input", r, k.seq, 0);
    if (r->ntimes < FUZZ_MAX_QUERIES && k.pts != VG_FMV_NOPTS)
      r->times[r->ntimes++] = k.pts;
    if (r->ntimes < FUZZ_MAX_QUERIES && k.mux_pts != VG_FMV_NOPTS)
      r->times[r->ntimes++] = k.mux_pts;
  }
  while (vg_fmv_demux_event(d, &ev)) {
    if (memchr(ev.what, 0, sizeof ev.what) == NULL)
      fail("event text not terminated", r, ev.offset, 0);
    if (ev.offset > vg_fmv_demux_stats_get(d)->bytes)
      fail("event offset past the input fed (offset, bytes)", r, ev.offset,
           vg_fmv_demux_stats_get(d)->bytes);
    r->events++;
  }
}

/* The counts of the stream table against each other and against the whole multiplex. */
static void check_counts(const run_result *r)
{
  const vg_fmv_demux_stats *st = &r->st;
  uint64_t klv = 0, cc = 0, ts = 0, pes_bad = 0, ck_bad = 0, ck_missing = 0, klv_bad = 0;
  if (r->nstreams > VG_FMV_MAX_STREAMS)
    fail("stream table larger than its maximum", r, r->nstreams, VG_FMV_MAX_STREAMS);
  if (st->klv_packets < r->n)
    fail("stats.klv_packets below the packets delivered", r, st->klv_packets, r->n);
  if (st->packet_size != 0 && st->packet_size != 188 && st->packet_size != 192 &&
      st->packet_size != 204)
    fail("packet size not 188, 192 or 204", r, st->packet_size, 0);
  if (st->ts_packets * 188 + st->junk_bytes > st->bytes)
    fail("TS packets and skipped bytes exceed the input (ts_packets, junk)", r, st->ts_packets,
         st->junk_bytes);
  if ((st->pcr_first == VG_FMV_NOPTS) != (st->pcr_last == VG_FMV_NOPTS))
    fail("only one of pcr_first and pcr_last is set", r, 0, 0);
  for (size_t i = 0; i < r->nstreams; i++) {
    const vg_fmv_stream *s = &r->streams[i];
    uint64_t kinds = 0, versions = 0;
    for (size_t j = 0; j < i; j++)
      if (r->streams[j].pid == s->pid)
        fail("PID twice in the stream table", r, s->pid, j);
    if (s->pid >= 0x1FFF)
      fail("stream PID out of range", r, s->pid, 0);
    if (!s->codec)
      fail("stream without a codec name", r, s->pid, 0);
    if ((unsigned)s->carriage >= VG_FMV_CARRIAGE__COUNT || (unsigned)s->kind > VG_FMV_ES_DATA)
      fail("stream carriage or kind out of range", r, (uint64_t)s->carriage, (uint64_t)s->kind);
    if (s->klv_packets < r->per_stream[i])
      fail("stream klv_packets below the packets delivered from it", r, s->klv_packets,
           r->per_stream[i]);
    for (size_t k = 0; k < VG_KLV_KIND__COUNT; k++)
      kinds += s->kinds[k];
    if (kinds != s->klv_packets)
      fail("per-kind counts do not add up to the stream's packets", r, kinds, s->klv_packets);
    if (s->cksum_ok + s->cksum_bad + s->cksum_missing > s->klv_packets)
      fail("checksum verdicts exceed the stream's packets", r,
           s->cksum_ok + s->cksum_bad + s->cksum_missing, s->klv_packets);
    if (s->nversions < 0 || s->nversions > VG_FMV_MAX_VERSIONS)
      fail("nversions out of range", r, (uint64_t)s->nversions, 0);
    for (int v = 0; v < s->nversions; v++)
      versions += s->version_count[v];
    if (versions > s->klv_packets)
      fail("version counts exceed the stream's packets", r, versions, s->klv_packets);
    if (s->klv_packets && s->size_min > s->size_max)
      fail("size_min above size_max", r, s->size_min, s->size_max);
    if (s->pes_with_pts > s->pes_packets)
      fail("PES with PTS exceed the PES", r, s->pes_with_pts, s->pes_packets);
    if (s->ts_packets > st->ts_packets)
      fail("stream TS packets exceed the multiplex's", r, s->ts_packets, st->ts_packets);
    if ((s->pts_first == VG_FMV_NOPTS) != (s->pts_last == VG_FMV_NOPTS))
      fail("only one of pts_first and pts_last is set", r, s->pid, 0);
    klv += s->klv_packets;
    cc += s->cc_errors;
    ts += s->ts_packets;
    pes_bad += s->pes_bad;
    ck_bad += s->cksum_bad;
    ck_missing += s->cksum_missing;
    klv_bad += s->klv_bad;
  }
  if (klv > st->klv_packets)
    fail("streams' KLV packets exceed the multiplex's", r, klv, st->klv_packets);
  if (cc > st->cc_errors)
    fail("streams' CC errors exceed the multiplex's", r, cc, st->cc_errors);
  if (ts > st->ts_packets)
    fail("streams' TS packets exceed the multiplex's", r, ts, st->ts_packets);
  if (pes_bad > st->pes_bad)
    fail("streams' bad PES exceed the multiplex's", r, pes_bad, st->pes_bad);
  if (ck_bad > st->cksum_bad || ck_missing > st->cksum_missing)
    fail("streams' checksum failures exceed the multiplex's", r, ck_bad, st->cksum_bad);
  if (klv_bad > st->klv_bad)
    fail("streams' bad KLV packets exceed the multiplex's", r, klv_bad, st->klv_bad);
}

/* Asks a time line for the pose at the recorded times, between them and just off them. */
static void query(vg_fmv_timeline *t, const run_result *r, double max_age)
{
  size_t np = 0;
  int64_t off = 0;
  int est = 0;
  (void)vg_fmv_timeline_info(t, &off, &est, &np);
  for (size_t i = 0; i < r->ntimes; i++) {
    int64_t q[4];
    q[0] = r->times[i];
    q[1] = r->times[i] - 1;
    q[2] = r->times[i] + 3003; /* a frame later at 29.97 Hz */
    q[3] = i + 1 < r->ntimes ? r->times[i] / 2 + r->times[i + 1] / 2 : VG_FMV_NOPTS;
    for (size_t j = 0; j < 4; j++) {
      vg_fmv_frame_meta m;
      if (vg_fmv_timeline_at(t, q[j], &m) != VG_OK)
        fail("timeline_at failed", r, (uint64_t)q[j], 0);
      if ((unsigned)m.align >= VG_FMV_ALIGN__COUNT || !vg_fmv_align_name(m.align))
        fail("alignment out of range", r, (uint64_t)m.align, 0);
      if (m.align != VG_FMV_ALIGN_NONE) {
        if (!(m.weight >= 0.0 && m.weight <= 1.0))
          fail("interpolation weight outside [0, 1] (weight * 1e6)", r,
               (uint64_t)(int64_t)(m.weight * 1e6), 0);
        if (!(fabs(m.age_s) <= max_age * (1 + 1e-9)) || !(m.gap_s >= 0.0 && m.gap_s <= max_age * (1 + 1e-9)))
          fail("pose older than max_age_s (age * 1e3, gap * 1e3)", r,
               (uint64_t)(int64_t)(m.age_s * 1e3), (uint64_t)(int64_t)(m.gap_s * 1e3));
        if (m.gap_s == 0.0 && m.seq0 != m.seq1)
          fail("held pose names two packets (seq0, seq1)", r, m.seq0, m.seq1);
      }
      g_sink += (uint64_t)m.align + (uint64_t)vg_fmv_timeline_covers(t, q[j]);
    }
  }
  if (r->ntimes)
    vg_fmv_timeline_trim(t, r->times[r->ntimes / 2]);
}

/* One pass of in[0..n) through a demultiplexer with the given options and chunking. */
static void run(const uint8_t *in, size_t n, chunker *ch, const vg_fmv_demux_opts *o, vg_buf *enc,
                vg_fmv_timeline *t1, vg_fmv_timeline *t2, run_result *r)
{
  vg_fmv_demux *d = NULL;
  const vg_fmv_stream *ss;
  size_t at = 0;
  r->n = 0;
  r->events = 0;
  r->ntimes = 0;
  memset(r->per_stream, 0, sizeof r->per_stream);
  if (vg_fmv_demux_new(&d, o) != VG_OK)
    fail("demux_new", NULL, 0, 0);
  while (at < n) {
    size_t k = next_chunk(ch);
    if (k > n - at)
      k = n - at;
    if (vg_fmv_demux_feed(d, in + at, k) != VG_OK)
      fail("demux_feed refused a small input (at, k)", r, at, k);
    at += k;
    drain(d, o->strict, enc, t1, t2, r);
  }
  vg_fmv_demux_finish(d);
  drain(d, o->strict, enc, t1, t2, r);
  vg_fmv_demux_finish(d); /* a second finish is harmless */
  drain(d, o->strict, enc, t1, t2, r);
  r->st = *vg_fmv_demux_stats_get(d);
  if (r->st.bytes != n)
    fail("stats.bytes differs from the bytes fed", r, r->st.bytes, n);
  ss = vg_fmv_demux_streams(d, &r->nstreams);
  if (r->nstreams > VG_FMV_MAX_STREAMS)
    fail("stream table larger than its maximum", r, r->nstreams, VG_FMV_MAX_STREAMS);
  memcpy(r->streams, ss, r->nstreams * sizeof *ss);
  g_sink += (uint64_t)vg_fmv_demux_damaged(d);
  check_counts(r);
  vg_fmv_demux_free(d);
}

#define SAME(field) (a->field == b->field)

static int same_stats(const vg_fmv_demux_stats *a, const vg_fmv_demux_stats *b)
{
  return SAME(bytes) && SAME(ts_packets) && SAME(packet_size) && SAME(sync_losses) &&
         SAME(junk_bytes) && SAME(tei_packets) && SAME(cc_errors) && SAME(psi_crc_errors) &&
         SAME(psi_bad) && SAME(pes_bad) && SAME(klv_packets) && SAME(klv_bad) && SAME(cksum_bad) &&
         SAME(cksum_missing) && SAME(truncated_bytes) && SAME(pcr_first) && SAME(pcr_last);
}

static int same_stream(const vg_fmv_stream *a, const vg_fmv_stream *b)
{
  return SAME(pid) && SAME(program) && SAME(stream_type) && SAME(pes_stream_id) && SAME(kind) &&
         SAME(carriage) && strcmp(a->codec, b->codec) == 0 && SAME(klva) &&
         SAME(metadata_descriptor) && SAME(declared) && SAME(ts_packets) && SAME(pes_packets) &&
         SAME(pes_with_pts) && SAME(au_cells) && SAME(cc_errors) && SAME(pes_bad) &&
         SAME(klv_packets) && SAME(klv_bad) && SAME(cksum_ok) && SAME(cksum_bad) &&
         SAME(cksum_missing) && SAME(junk_bytes) && SAME(gap_bytes) && SAME(size_min) &&
         SAME(size_max) && SAME(pts_first) && SAME(pts_last) && SAME(time_first_us) &&
         SAME(time_last_us) && SAME(nversions);
}

static int same_rec(const pkt_rec *a, const pkt_rec *b)
{
  return SAME(seq) && SAME(ts_offset) && SAME(hash) && SAME(pts) && SAME(total_len) &&
         SAME(stream) && SAME(pid) && SAME(carriage) && SAME(kind);
}

#undef SAME

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static run_result chunked, ref;
  vg_fmv_demux_opts o = VG_FMV_DEMUX_OPTS_INIT;
  vg_fmv_timeline_opts to1 = VG_FMV_TIMELINE_OPTS_INIT, to2 = VG_FMV_TIMELINE_OPTS_INIT;
  vg_fmv_timeline *t1 = NULL, *t2 = NULL;
  chunker ch, rch = {-1, 0, 0};
  vg_buf enc;
  const uint8_t *in;
  size_t n;

  if (size < 3)
    return 0;
  o.strict = data[0] & 1;
  o.keep_unknown = (data[0] >> 1) & 1;
  ch.mode = (data[0] >> 2) & 3;
  ch.sel = (uint16_t)(data[1] << 8 | data[2]);
  ch.state = ch.sel;
  to2.have_offset = 1;
  to2.offset_us = ((int64_t)(data[0] >> 4) - 8) * 1000000;
  to2.max_age_s = 1.0;
  in = data + 3;
  n = size - 3;
  g_sink += (uint64_t)vg_fmv_looks_like_ts(in, n);

  vg_buf_init(&enc, FUZZ_ENC_MAX);
  if (vg_fmv_timeline_new(&t1, &to1) != VG_OK || vg_fmv_timeline_new(&t2, &to2) != VG_OK)
    fail("timeline_new", NULL, 0, 0);

  run(in, n, &ch, &o, &enc, t1, t2, &chunked);
  query(t1, &chunked, VG_FMV_DEFAULT_MAX_AGE_S);
  query(t2, &chunked, to2.max_age_s);
  run(in, n, &rch, &o, &enc, NULL, NULL, &ref);

  /*
   * Chunking must not change what the demultiplexer finds. Known exception
   * (reported, not yet fixed in lib/fmv/ts.c): after a loss of sync, a
   * candidate sync byte that could not be judged yet when its read ended is
   * taken as a packet on the next feed without its rhythm being confirmed, so
   * resynchronisation depends on read boundaries. Until that is fixed the
   * comparison covers inputs on which neither run lost sync.
   */
  if (!FUZZ_COMPARE_AFTER_SYNC_LOSS && (chunked.st.sync_losses || ref.st.sync_losses))
    goto done;
  if (chunked.n != ref.n)
    fail("chunked and reference runs deliver different packet counts", &chunked, chunked.n, ref.n);
  for (size_t i = 0; i < chunked.n && i < FUZZ_MAX_PKTS; i++)
    if (!same_rec(&chunked.p[i], &ref.p[i]))
      fail("chunked and reference runs deliver different packets (index, ts_offset)", &chunked, i,
           chunked.p[i].ts_offset);
  if (!same_stats(&chunked.st, &ref.st))
    fail("chunked and reference runs count differently (junk chunked, reference)", &chunked,
         chunked.st.junk_bytes, ref.st.junk_bytes);
  if (chunked.nstreams != ref.nstreams)
    fail("chunked and reference runs have different stream tables", &chunked, chunked.nstreams,
         ref.nstreams);
  for (size_t i = 0; i < chunked.nstreams; i++)
    if (!same_stream(&chunked.streams[i], &ref.streams[i]))
      fail("chunked and reference runs describe a stream differently (index, pid)", &chunked, i,
           chunked.streams[i].pid);

done:
  if (getenv("VIGIA_FUZZ_VERBOSE"))
    fprintf(stderr,
            "fuzz_fmv_ts: strict %d keep_unknown %d mode %d: %zu bytes, %llu TS packets of %u, "
            "%zu streams, %zu KLV packets delivered (%llu counted, %llu bad), %llu events, "
            "%zu times, sync losses %llu, cc %llu, pes_bad %llu, psi_bad %llu, psi_crc %llu\n",
            o.strict, o.keep_unknown, ch.mode, n, (unsigned long long)chunked.st.ts_packets,
            chunked.st.packet_size, chunked.nstreams, chunked.n,
            (unsigned long long)chunked.st.klv_packets, (unsigned long long)chunked.st.klv_bad,
            (unsigned long long)chunked.events, chunked.ntimes,
            (unsigned long long)chunked.st.sync_losses, (unsigned long long)chunked.st.cc_errors,
            (unsigned long long)chunked.st.pes_bad, (unsigned long long)chunked.st.psi_bad,
            (unsigned long long)chunked.st.psi_crc_errors);

  vg_fmv_timeline_free(t1);
  vg_fmv_timeline_free(t2);
  vg_buf_free(&enc);
  return 0;
}
