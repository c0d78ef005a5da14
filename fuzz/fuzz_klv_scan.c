/*
 * Fuzz harness: the KLV stream scanner (DESIGN.md convention 10), fed in
 * chunks whose sizes come from the input, as FFmpeg's target_dem_fuzzer
 * picks its I/O sizes.
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       2     chunking, big-endian c: bit 15 clear: every chunk is
 *                 1 + (c % 1500) bytes; bit 15 set: chunk sizes drawn in
 *                 1 .. 1 + (c & 0xff) * 4 by an LCG seeded with c
 *   2       n     the stream
 *
 * The stream is scanned three times: chunked, in one piece, and in one piece
 * in strict mode. Each run drains vg_klv_scanner_next and the events after
 * every feed, then finishes and drains again. Checked (abort on failure):
 *  - every returned packet lies inside the stream (offset + total_len <= n),
 *    packets come in stream order and do not overlap, and their bytes are
 *    the stream's bytes at their offset;
 *  - junk + returned packet bytes + truncated tail never exceed n;
 *  - the counters agree with what was returned (packets, checksum verdicts);
 *  - in lenient mode, chunking changes nothing: the same packets at the same
 *    offsets and the same counters as the scan in one piece;
 *  - in strict mode, no packet with a bad or missing checksum is returned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/klv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Packets remembered per run for the comparison between runs. */
#define FUZZ_MAX_PKTS 4096

typedef struct run_result {
  size_t n;                          /* packets returned */
  uint64_t off[FUZZ_MAX_PKTS];       /* their offsets */
  uint64_t len[FUZZ_MAX_PKTS];       /* their total lengths */
  uint64_t pkt_bytes;                /* sum of total_len of returned packets */
  uint64_t ck_bad, ck_missing, unknown;
  vg_klv_scan_stats st;
  int err;                           /* first hard error (strict mode), VG_OK if none */
  uint64_t events;
} run_result;

static void fail(const char *what, const run_result *r, uint64_t a, uint64_t b)
{
  fprintf(stderr, "fuzz_klv_scan: invariant broken: %s (%llu, %llu) after %zu packets\n", what,
          (unsigned long long)a, (unsigned long long)b, r ? r->n : 0);
  abort();
}

/* Sizes of the chunks, from the two selector bytes. */
typedef struct chunker {
  uint16_t sel;
  uint32_t state;
} chunker;

static size_t next_chunk(chunker *c)
{
  if (!(c->sel & 0x8000))
    return 1 + (size_t)(c->sel % 1500);
  c->state = c->state * 1103515245u + 12345u;
  return 1 + (size_t)((c->state >> 16) % (1 + (uint32_t)(c->sel & 0xff) * 4));
}

/* Takes every packet and event the scanner has ready. Returns 0, or the strict error. */
static int drain(vg_klv_scanner *s, const uint8_t *in, size_t n, run_result *r)
{
  vg_klv_scan_event ev;
  int rc;
  for (;;) {
    const vg_klv_packet *p = NULL;
    rc = vg_klv_scanner_next(s, &p);
    if (rc != VG_OK)
      break;
    if (!p)
      fail("VG_OK without a packet", r, 0, 0);
    if (p->total_len == 0 || p->offset > n || p->total_len > n - p->offset)
      fail("packet outside the stream (offset, total_len)", r, p->offset, p->total_len);
    if (r->n > 0 && p->offset < r->off[r->n - 1] + r->len[r->n - 1])
      fail("packets overlap or go backwards (offset, previous end)", r, p->offset,
           r->off[r->n - 1] + r->len[r->n - 1]);
    if (memcmp(p->bytes, in + p->offset, p->total_len) != 0)
      fail("packet bytes differ from the stream at its offset", r, p->offset, p->total_len);
    if (p->cksum == VG_KLV_CK_INVALID)
      r->ck_bad++;
    if (p->cksum == VG_KLV_CK_MISSING)
      r->ck_missing++;
    if (p->kind == VG_KLV_KIND_UNKNOWN)
      r->unknown++;
    if (r->n < FUZZ_MAX_PKTS) {
      r->off[r->n] = p->offset;
      r->len[r->n] = p->total_len;
    }
    r->n++;
    r->pkt_bytes += p->total_len;
  }
  while (vg_klv_scanner_event(s, &ev)) {
    if (memchr(ev.what, 0, sizeof ev.what) == NULL)
      fail("event text not terminated", r, ev.offset, 0);
    if (ev.offset > n)
      fail("event offset past the stream", r, ev.offset, n);
    r->events++;
  }
  return rc == VG_E_TRUNCATED ? VG_OK : rc;
}

static void check_counts(const run_result *r, size_t n, int strict)
{
  const vg_klv_scan_stats *st = &r->st;
  uint64_t acc = st->bytes_junk + r->pkt_bytes + st->truncated_tail;
  if (st->bytes_junk > n || r->pkt_bytes > n || st->truncated_tail > n || acc > n)
    fail("junk + packet bytes + truncated tail exceed the stream", r, acc, n);
  if (st->packets != r->n)
    fail("stats.packets differs from packets returned", r, st->packets, r->n);
  if (st->cksum_bad != r->ck_bad)
    fail("stats.cksum_bad differs from returned packets with a bad checksum", r, st->cksum_bad,
         r->ck_bad);
  if (st->cksum_missing != r->ck_missing)
    fail("stats.cksum_missing differs from returned packets without checksum", r,
         st->cksum_missing, r->ck_missing);
  if (st->unknown_keys < r->unknown)
    fail("stats.unknown_keys below the unknown packets returned", r, st->unknown_keys, r->unknown);
  if (strict && (r->ck_bad || r->ck_missing))
    fail("strict scanner returned a packet with a bad or missing checksum", r, r->ck_bad,
         r->ck_missing);
}

/* One scan of in[0..n): fed in chunks (ch != NULL) or whole. */
static void scan(const uint8_t *in, size_t n, chunker *ch, int strict, run_result *r)
{
  vg_klv_scanner_opts o = VG_KLV_SCANNER_OPTS_INIT;
  vg_klv_scanner *s = NULL;
  size_t at = 0;
  memset(r, 0, sizeof *r);
  o.strict = strict;
  if (vg_klv_scanner_new(&s, &o) != VG_OK)
    fail("scanner_new", NULL, 0, 0);
  while (at < n && r->err == VG_OK) {
    size_t k = ch ? next_chunk(ch) : n;
    if (k > n - at)
      k = n - at;
    if (vg_klv_scanner_feed(s, in + at, k) != VG_OK)
      fail("scanner_feed refused a small input", r, at, k);
    at += k;
    r->err = drain(s, in, n, r);
  }
  if (r->err == VG_OK) {
    vg_klv_scanner_finish(s);
    r->err = drain(s, in, n, r);
  }
  if (!strict && r->err != VG_OK)
    fail("lenient scanner returned an error other than TRUNCATED", r, (uint64_t)-r->err, 0);
  if (strict && r->err == VG_E_NOMEM)
    fail("scanner out of memory on a small input", r, 0, 0);
  r->st = *vg_klv_scanner_stats(s);
  check_counts(r, n, strict);
  vg_klv_scanner_free(s);
}

static int same_stats(const vg_klv_scan_stats *a, const vg_klv_scan_stats *b)
{
  return a->packets == b->packets && a->packets_bad == b->packets_bad &&
         a->cksum_bad == b->cksum_bad && a->cksum_missing == b->cksum_missing &&
         a->bytes_junk == b->bytes_junk && a->truncated_tail == b->truncated_tail &&
         a->unknown_keys == b->unknown_keys && a->resyncs == b->resyncs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static run_result chunked, whole, strict;
  chunker ch;
  const uint8_t *in;
  size_t n;

  if (size < 2)
    return 0;
  ch.sel = (uint16_t)(data[0] << 8 | data[1]);
  ch.state = ch.sel;
  in = data + 2;
  n = size - 2;

  scan(in, n, &ch, 0, &chunked);
  scan(in, n, NULL, 0, &whole);
  scan(in, n, NULL, 1, &strict);

  /* Chunking must not change what a lenient scan finds. */
  if (chunked.n != whole.n)
    fail("chunked and whole scans return different packet counts", &chunked, chunked.n, whole.n);
  for (size_t i = 0; i < chunked.n && i < FUZZ_MAX_PKTS; i++)
    if (chunked.off[i] != whole.off[i] || chunked.len[i] != whole.len[i])
      fail("chunked and whole scans return different packets (offset chunked, whole)", &chunked,
           chunked.off[i], whole.off[i]);
  if (!same_stats(&chunked.st, &whole.st))
    fail("chunked and whole scans count differently (junk chunked, whole)", &chunked,
         chunked.st.bytes_junk, whole.st.bytes_junk);
  /* Strict mode stops at the first bad packet: what it returned first, lenient returned too. */
  if (strict.n > whole.n)
    fail("strict scan returned more packets than lenient", &strict, strict.n, whole.n);
  for (size_t i = 0; i < strict.n && i < FUZZ_MAX_PKTS; i++)
    if (strict.off[i] != whole.off[i] || strict.len[i] != whole.len[i])
      fail("strict scan is not a prefix of the lenient scan (offset strict, lenient)", &strict,
           strict.off[i], whole.off[i]);
  return 0;
}
