/* The stream scanner: chunked input, garbage, corruption, truncation, strict mode. */
#include <string.h>

#include "testutil.h"
#include "vigia/klv.h"

typedef struct scan_result {
  int packets, valid, invalid, unknown;
  vg_klv_scan_stats st;
  int events;
} scan_result;

static int g_frame_only; /* scan() option: frame packets without decoding them */

static scan_result scan(const uint8_t *b, size_t n, size_t chunk, int strict, int *rc_out)
{
  vg_klv_scanner *s;
  vg_klv_scanner_opts o = VG_KLV_SCANNER_OPTS_INIT;
  o.frame_only = g_frame_only;
  scan_result r;
  size_t off = 0;
  int rc = VG_E_TRUNCATED;
  vg_klv_scan_event ev;
  memset(&r, 0, sizeof r);
  o.strict = strict;
  assert_int_equal(vg_klv_scanner_new(&s, &o), VG_OK);
  for (;;) {
    const vg_klv_packet *p;
    size_t k = n - off < chunk ? n - off : chunk;
    if (k) {
      assert_int_equal(vg_klv_scanner_feed(s, b + off, k), VG_OK);
      off += k;
    } else {
      vg_klv_scanner_finish(s);
    }
    while ((rc = vg_klv_scanner_next(s, &p)) == VG_OK) {
      r.packets++;
      r.valid += p->cksum == VG_KLV_CK_VALID;
      r.invalid += p->cksum == VG_KLV_CK_INVALID;
      r.unknown += p->kind == VG_KLV_KIND_UNKNOWN;
      assert_true(p->offset + p->total_len <= n);
    }
    while (vg_klv_scanner_event(s, &ev))
      r.events++;
    if (rc != VG_E_TRUNCATED || k == 0)
      break;
  }
  r.st = *vg_klv_scanner_stats(s);
  if (rc_out)
    *rc_out = rc;
  vg_klv_scanner_free(s);
  return r;
}

static uint8_t *load_cheyenne(size_t *n)
{
  char *path = VG_REQUIRE_DATA("klv/streams/cheyenne_st0601v1.klv");
  uint8_t *b;
  assert_int_equal(vg_test_read_file(path, &b, n), 0);
  free(path);
  return b;
}

static void chunk_sizes(void **st)
{
  size_t n;
  uint8_t *b = load_cheyenne(&n);
  static const size_t chunks[] = {1, 7, 16, 17, 259, 4096, 1 << 20};
  (void)st;
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    scan_result r = scan(b, n, chunks[i], 0, NULL);
    assert_int_equal(r.packets, 407);
    assert_int_equal(r.valid, 407);
    assert_int_equal(r.st.bytes_junk, 0);
    assert_int_equal(r.st.packets_bad, 0);
    assert_int_equal(r.st.truncated_tail, 0);
  }
  free(b);
}

static void garbage_then_packet(void **st)
{
  json_t *j = vg_test_load_json("klv/vectors/st0601_edge_cases.json"), *v;
  size_t i;
  int found = 0;
  (void)st;
  json_array_foreach(json_object_get(j, "vectors"), i, v)
  {
    uint8_t *b;
    size_t n;
    scan_result r;
    if (strcmp(json_string_value(json_object_get(v, "name")), "garbage_then_packet") != 0)
      continue;
    assert_int_equal(vg_test_unhex(json_string_value(json_object_get(v, "packet_hex")), &b, &n), 0);
    r = scan(b, n, n, 0, NULL);
    assert_int_equal(r.packets, 1);
    assert_int_equal(r.valid, 1);
    assert_int_equal(r.st.bytes_junk, 3);
    assert_int_equal(r.st.resyncs, 1);
    r = scan(b, n, 1, 0, NULL); /* the same byte by byte */
    assert_int_equal(r.packets, 1);
    assert_int_equal(r.st.bytes_junk, 3);
    free(b);
    found = 1;
  }
  assert_true(found);
  json_decref(j);
}

/* xorshift: deterministic damage, no hard-coded outcome. */
static uint32_t rnd(uint32_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void corruption_recovery(void **st)
{
  size_t n, off = 0, used, np = 0, m = 0;
  uint8_t *b = load_cheyenne(&n), *dmg;
  size_t starts[512], lens[512];
  int damaged[512];
  int intact = 0;
  uint32_t seed = 0x9e3779b9u;
  vg_klv_decoder *d;
  scan_result r;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  while (off < n) {
    const vg_klv_packet *p;
    assert_int_equal(vg_klv_decode(d, &p, b + off, n - off, &used), VG_OK);
    starts[np] = off;
    lens[np++] = used;
    off += used;
  }
  vg_klv_decoder_free(d);
  /* Damage about 1 packet in 10 (a bit flip anywhere in it), and put junk
   * before about 1 in 10; copy the stream. */
  dmg = malloc(n * 2);
  for (size_t i = 0; i < np; i++) {
    if (rnd(&seed) % 10 == 0) {
      size_t g = 1 + rnd(&seed) % 40;
      for (size_t k = 0; k < g; k++)
        dmg[m++] = (uint8_t)rnd(&seed);
    }
    memcpy(dmg + m, b + starts[i], lens[i]);
    damaged[i] = rnd(&seed) % 10 == 0;
    if (damaged[i]) {
      size_t at = rnd(&seed) % lens[i];
      dmg[m + at] ^= (uint8_t)(1u << (rnd(&seed) % 8));
    }
    intact += !damaged[i];
    m += lens[i];
  }
  r = scan(dmg, m, 4096, 0, NULL);
  /* Every intact packet comes out with a valid checksum; damage is counted. */
  assert_true(r.valid >= intact);
  assert_true(r.st.bytes_junk > 0);
  assert_true(r.st.cksum_bad + r.st.packets_bad + (uint64_t)(np - (size_t)r.packets) > 0);
  assert_true(r.events > 0);
  print_message("corruption: %d intact of %zu, %d valid out, %llu junk bytes, %llu bad checksums, %llu bad packets\n",
                intact, np, r.valid, (unsigned long long)r.st.bytes_junk,
                (unsigned long long)r.st.cksum_bad, (unsigned long long)r.st.packets_bad);
  free(dmg);
  free(b);
}

static void truncated_tail(void **st)
{
  size_t n;
  uint8_t *b = load_cheyenne(&n);
  scan_result r;
  (void)st;
  r = scan(b, n - 10, 4096, 0, NULL);
  assert_int_equal(r.packets, 406);
  assert_true(r.st.truncated_tail > 0 && r.st.truncated_tail < 300);
  free(b);
}

static void strict_stops(void **st)
{
  size_t n;
  uint8_t *b = load_cheyenne(&n);
  scan_result r;
  int rc;
  (void)st;
  b[1000] ^= 0x01; /* inside packet 4 (259-byte packets) */
  r = scan(b, n, n, 1, &rc);
  assert_int_equal(rc, VG_E_CHECKSUM);
  assert_true(r.packets < 10);
  r = scan(b, n, n, 0, &rc);
  assert_int_equal(rc, VG_E_TRUNCATED);
  assert_int_equal(r.packets, 407);
  assert_int_equal(r.invalid, 1);
  free(b);
}

static void empty_stream(void **st)
{
  vg_klv_scanner *s;
  const vg_klv_packet *p = NULL;
  (void)st;
  assert_int_equal(vg_klv_scanner_new(&s, NULL), VG_OK);
  assert_int_equal(vg_klv_scanner_next(s, &p), VG_E_TRUNCATED); /* before any feed */
  vg_klv_scanner_finish(s);
  assert_int_equal(vg_klv_scanner_next(s, &p), VG_E_TRUNCATED);
  assert_null(p);
  assert_int_equal(vg_klv_scanner_stats(s)->packets, 0);
  vg_klv_scanner_free(s);
}

static void feed_limit(void **st)
{
  /* The scanner holds one maximal packet plus VG_KLV_RESYNC_WINDOW of input. */
  size_t cap = (size_t)VG_KLV_MAX_VALUE + 32 + VG_KLV_RESYNC_WINDOW;
  uint8_t *zeros = calloc(1, cap + 1);
  vg_klv_scanner *s;
  (void)st;
  assert_int_equal(vg_klv_scanner_new(&s, NULL), VG_OK);
  assert_int_equal(vg_klv_scanner_feed(s, zeros, cap), VG_OK);
  assert_int_equal(vg_klv_scanner_feed(s, zeros, 1), VG_E_LIMIT);
  vg_klv_scanner_free(s);
  free(zeros);
}

static void unknown_keys_kept(void **st)
{
  uint8_t b[64];
  scan_result r;
  static const uint8_t key[16] = {0x06, 0x0e, 0x2b, 0x34, 0x01, 0x01, 0x01, 0x01,
                                  0x99, 0x99, 0x99, 0x99, 0x00, 0x00, 0x00, 0x00};
  (void)st;
  memcpy(b, key, 16);
  b[16] = 4;
  memcpy(b + 17, "abcd", 4);
  memcpy(b + 21, key, 16);
  b[37] = 1;
  b[38] = 'z';
  r = scan(b, 39, 39, 0, NULL);
  assert_int_equal(r.packets, 2);
  assert_int_equal(r.unknown, 2);
  assert_int_equal(r.st.unknown_keys, 2);
  assert_int_equal(r.st.bytes_junk, 0);
}

/*
 * frame_only (what the TS demultiplexer uses): on the real stream, the same
 * packets and checksum verdicts as full decoding, in any chunking; a packet
 * whose framing holds but whose items do not parse comes out (the caller's
 * decode will refuse it) instead of being counted bad.
 */
static void frame_only_mode(void **st)
{
  size_t n;
  uint8_t *b = load_cheyenne(&n);
  static const uint8_t bad[] = {0x06, 0x0e, 0x2b, 0x34, 0x02, 0x0b, 0x01, 0x01, 0x0e, 0x01, 0x03, 0x01, 0x01,
                                0x00, 0x00, 0x00, 14,   0x02, 0x08, 0,    0,    0,    0,    0,    0,    0,
                                1,    0x0d, 0x05, 0x00, 0x00};
  scan_result full, fr;
  (void)st;
  full = scan(b, n, 4096, 0, NULL);
  g_frame_only = 1;
  fr = scan(b, n, 4096, 0, NULL);
  assert_int_equal(fr.packets, full.packets);
  assert_int_equal(fr.valid, full.valid);
  assert_int_equal(fr.invalid, full.invalid);
  fr = scan(b, n, 7, 0, NULL);
  assert_int_equal(fr.packets, full.packets);
  assert_int_equal(fr.valid, full.valid);
  fr = scan(bad, sizeof bad, sizeof bad, 0, NULL);
  g_frame_only = 0;
  full = scan(bad, sizeof bad, sizeof bad, 0, NULL);
  assert_int_equal(full.packets, 0);
  assert_int_equal(full.st.packets_bad, 1);
  assert_int_equal(fr.packets, 1);
  assert_int_equal(fr.st.packets_bad, 0);
  assert_int_equal(fr.st.cksum_missing, 1);
  free(b);
}

int test_klv_scan_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(chunk_sizes),    cmocka_unit_test(garbage_then_packet),
    cmocka_unit_test(corruption_recovery), cmocka_unit_test(truncated_tail),
    cmocka_unit_test(strict_stops),   cmocka_unit_test(unknown_keys_kept),
    cmocka_unit_test(empty_stream),   cmocka_unit_test(feed_limit),
    cmocka_unit_test(frame_only_mode),
  };
  return cmocka_run_group_tests_name("klv.scan", tests, NULL, NULL);
}
