/*
 * KLV framing, checksum, flags and encoder: the 23 edge cases of
 * shared/data/klv/vectors/st0601_edge_cases.json, each with its stated outcome.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "klv/klv_int.h"
#include "vigia/klv.h"

typedef struct edge {
  uint8_t *b;
  size_t n;
} edge;

static json_t *g_edges;

static int setup(void **st)
{
  (void)st;
  return 0;
}

static edge get_edge(const char *name)
{
  edge e = {NULL, 0};
  json_t *v;
  size_t i;
  if (!g_edges)
    g_edges = vg_test_load_json("klv/vectors/st0601_edge_cases.json");
  json_array_foreach(json_object_get(g_edges, "vectors"), i, v)
  {
    if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
      assert_int_equal(vg_test_unhex(json_string_value(json_object_get(v, "packet_hex")), &e.b, &e.n), 0);
      assert_int_equal(e.n, (size_t)json_integer_value(json_object_get(v, "bytes")));
      return e;
    }
  }
  fail_msg("edge case %s not found", name);
  return e;
}

/* Decodes one edge case; returns the error code and the packet. */
static int dec(vg_klv_decoder *d, const edge *e, const vg_klv_packet **p, size_t *used)
{
  size_t u = 0;
  int rc = vg_klv_decode(d, p, e->b, e->n, &u);
  if (used)
    *used = u;
  return rc;
}

/* encode(decode(x)) must give @p expect (x itself when NULL). */
static void assert_roundtrip(const vg_klv_packet *p, const edge *expect)
{
  vg_buf b;
  vg_buf_init(&b, 1 << 20);
  assert_int_equal(vg_klv_encode(&b, p), VG_OK);
  assert_int_equal(b.len, expect->n);
  assert_memory_equal(b.data, expect->b, expect->n);
  vg_buf_free(&b);
}

static void edge_valid_and_checksums(void **st)
{
  vg_klv_decoder *d, *strict;
  vg_klv_decoder_opts so = VG_KLV_DECODER_OPTS_INIT;
  const vg_klv_packet *p = NULL;
  edge base = get_edge("valid_base"), bad = get_edge("bad_checksum_bitflip"),
       miss = get_edge("missing_checksum"), notlast = get_edge("checksum_not_last");
  size_t used;
  (void)st;
  so.strict = 1;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decoder_new(&strict, &so), VG_OK);

  assert_int_equal(dec(d, &base, &p, &used), VG_OK);
  assert_int_equal(used, base.n);
  assert_int_equal(p->kind, VG_KLV_KIND_ST0601);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_int_equal(p->cksum_stored, 0xC850);
  assert_int_equal(p->version, 6);
  assert_int_equal(p->flags, 0);
  assert_roundtrip(p, &base);

  /* The vector's note says the bit flip is in the Sensor Latitude value, but
   * its bytes flip the length of tag 13 (0D 04 -> 0D 05): the item framing
   * then breaks further on, and the packet is malformed, not merely flagged.
   * vigia says where; the stream can step over the packet. */
  assert_int_equal(bad.b[40], 0x05); /* tag 13 at offset 39 */
  assert_int_equal(dec(d, &bad, &p, &used), VG_E_MALFORMED);
  assert_int_equal(used, bad.n);
  assert_non_null(strstr(vg_error_last(), "overruns"));
  /* The case the vector meant: one bit of the latitude value flipped. */
  memcpy(bad.b, base.b, base.n);
  bad.b[41] ^= 0x10;
  assert_int_equal(dec(d, &bad, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_INVALID);
  assert_true(p->flags & VG_KLV_P_CHECKSUM_BAD);
  assert_int_equal(p->cksum_stored, 0xC850);
  assert_int_equal(dec(strict, &bad, &p, &used), VG_E_CHECKSUM);
  assert_int_equal(used, bad.n); /* the stream can step over it */

  assert_int_equal(dec(d, &miss, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_MISSING);
  assert_int_equal(dec(strict, &miss, &p, NULL), VG_E_CHECKSUM);

  assert_int_equal(dec(d, &notlast, &p, NULL), VG_OK);
  assert_true(p->flags & VG_KLV_P_CHECKSUM_NOT_LAST);
  /* Encoding puts a correct checksum last: the result is the valid base packet again. */
  assert_int_equal(p->set.items[p->set.n - 1].tag, 65);
  {
    vg_buf b;
    const vg_klv_packet *q;
    vg_buf_init(&b, 4096);
    assert_int_equal(vg_klv_encode(&b, p), VG_OK);
    assert_int_equal(vg_klv_decode(strict, &q, b.data, b.len, NULL), VG_OK);
    assert_int_equal(q->cksum, VG_KLV_CK_VALID);
    assert_int_equal(q->set.items[q->set.n - 1].tag, 1);
    vg_buf_free(&b);
  }
  free(base.b);
  free(bad.b);
  free(miss.b);
  free(notlast.b);
  vg_klv_decoder_free(d);
  vg_klv_decoder_free(strict);
}

static void edge_payload_only_checksum(void **st)
{
  /* An encoder that sums the value only (KWIVER #1734): rebuilt from the base packet. */
  edge base = get_edge("valid_base");
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  uint16_t ck;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  ck = vg_klv_checksum16(base.b + 17, base.n - 17 - 2);
  base.b[base.n - 2] = (uint8_t)(ck >> 8);
  base.b[base.n - 1] = (uint8_t)ck;
  assert_int_equal(vg_klv_decode(d, &p, base.b, base.n, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_INVALID);
  assert_true(p->flags & VG_KLV_P_CHECKSUM_PAYLOAD);
  free(base.b);
  vg_klv_decoder_free(d);
}

static void edge_framing_errors(void **st)
{
  vg_klv_decoder *d;
  const vg_klv_packet *p = NULL, *keep;
  edge base = get_edge("valid_base"), tr = get_edge("truncated_packet"),
       over = get_edge("inner_length_overrun"), absurd = get_edge("ber_length_absurd"),
       indef = get_edge("ber_indefinite_length");
  size_t used;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(dec(d, &base, &p, NULL), VG_OK);
  keep = p;

  p = NULL;
  assert_int_equal(dec(d, &tr, &p, &used), VG_E_TRUNCATED);
  assert_null(p); /* *out untouched on failure */
  assert_int_equal(used, 0);

  assert_int_equal(dec(d, &over, &p, &used), VG_E_MALFORMED);
  assert_null(p);
  assert_int_equal(used, over.n);
  assert_non_null(strstr(vg_error_last(), "tag 13"));
  assert_non_null(strstr(vg_error_last(), "overruns"));

  assert_int_equal(dec(d, &absurd, &p, &used), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_KLV_MAX_VALUE"));
  assert_int_equal(dec(d, &indef, &p, &used), VG_E_MALFORMED);
  assert_non_null(strstr(vg_error_last(), "indefinite"));
  assert_null(p);
  /* The last good packet is still intact after the failures. */
  assert_int_equal(keep->cksum, VG_KLV_CK_VALID);
  assert_int_equal(keep->set.n, 19);
  free(base.b);
  free(tr.b);
  free(over.b);
  free(absurd.b);
  free(indef.b);
  vg_klv_decoder_free(d);
}

static void edge_ber_forms(void **st)
{
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  edge base = get_edge("valid_base"), nm = get_edge("ber_long_form_nonminimal_outer_length"),
       four = get_edge("ber_long_form_4byte_length");
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(dec(d, &nm, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_true(p->flags & VG_KLV_P_NONMIN_LEN);
  assert_roundtrip(p, &base); /* written back in the minimal form */
  assert_int_equal(dec(d, &four, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_int_equal(p->value_len, base.n - 17); /* 97: the vector's note says 96 */
  assert_roundtrip(p, &base);
  free(base.b);
  free(nm.b);
  free(four.b);
  vg_klv_decoder_free(d);
}

static void edge_tags(void **st)
{
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  edge t143 = get_edge("ber_oid_tag_143"), t300 = get_edge("unknown_tag_300"),
       nmt = get_edge("ber_oid_nonminimal_tag"), dup = get_edge("duplicate_tag_5"),
       zl = get_edge("zero_length_string"), nover = get_edge("missing_version_tag_65"),
       tnf = get_edge("timestamp_not_first");
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);

  assert_int_equal(dec(d, &t143, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_non_null(it = vg_klv_find(&p->set, 143));
  assert_int_equal(it->len, 1);
  assert_int_equal(it->raw[0], 0x07);
  assert_false(it->flags & VG_KLV_F_UNKNOWN);
  assert_roundtrip(p, &t143);

  assert_int_equal(dec(d, &t300, &p, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_non_null(it = vg_klv_find(&p->set, 300));
  assert_true(it->flags & VG_KLV_F_UNKNOWN);
  assert_roundtrip(p, &t300); /* unknown items are rewritten byte for byte */

  assert_int_equal(dec(d, &nmt, &p, NULL), VG_OK);
  assert_non_null(it = vg_klv_find(&p->set, 5));
  assert_true(it->flags & VG_KLV_F_NONMIN_TAG);
  assert_true(p->flags & VG_KLV_P_ITEM_FLAGS);
  assert_true(fabs(it->v.f - 159.97436484321355) < 1e-9);

  assert_int_equal(dec(d, &dup, &p, NULL), VG_OK);
  assert_true(p->flags & VG_KLV_P_DUPLICATE);
  it = vg_klv_find(&p->set, 5); /* documented policy: the first one wins */
  assert_true(fabs(it->v.f - 159.97436484321355) < 1e-9);
  assert_false(it->flags & VG_KLV_F_DUPLICATE);

  assert_int_equal(dec(d, &zl, &p, NULL), VG_OK);
  assert_non_null(it = vg_klv_find(&p->set, 3));
  assert_int_equal(it->type, VG_KLV_T_STRING);
  assert_int_equal(it->v.s.n, 0);
  assert_roundtrip(p, &zl);

  assert_int_equal(dec(d, &nover, &p, NULL), VG_OK);
  assert_true(p->flags & VG_KLV_P_NO_VERSION);
  assert_int_equal(p->version, -1);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);

  assert_int_equal(dec(d, &tnf, &p, NULL), VG_OK);
  assert_true(p->flags & VG_KLV_P_TIME_NOT_FIRST);
  free(t143.b);
  free(t300.b);
  free(nmt.b);
  free(dup.b);
  free(zl.b);
  free(nover.b);
  free(tnf.b);
  vg_klv_decoder_free(d);
}

static void edge_values(void **st)
{
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  double v;
  edge pitch = get_edge("pitch_error_indicator"), lat = get_edge("sensor_lat_error_indicator"),
       u80 = get_edge("unsigned_field_0x80000000"), tw4 = get_edge("target_width_4_bytes");
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);

  assert_int_equal(dec(d, &pitch, &p, NULL), VG_OK);
  it = vg_klv_find(&p->set, 6);
  assert_int_equal(it->special, VG_KLV_SP_OUT_OF_RANGE);
  assert_int_equal(it->type, VG_KLV_T_NONE); /* never a number */
  assert_int_equal(vg_klv_get_real(&p->set, 6, &v), VG_E_RANGE);
  assert_roundtrip(p, &pitch);

  assert_int_equal(dec(d, &lat, &p, NULL), VG_OK);
  it = vg_klv_find(&p->set, 13);
  assert_int_equal(it->special, VG_KLV_SP_OUT_OF_RANGE);
  assert_int_equal(vg_klv_get_real(&p->set, 13, &v), VG_E_RANGE);
  {
    vg_klv_pose pose;
    assert_int_equal(vg_klv_pose_from_packet(&pose, p), VG_OK);
    assert_false(vg_klv_pose_has(&pose, VG_POSE_SENSOR_LAT));
    assert_true(vg_klv_pose_has(&pose, VG_POSE_SENSOR_LON));
  }
  assert_roundtrip(p, &lat);

  assert_int_equal(dec(d, &u80, &p, NULL), VG_OK);
  it = vg_klv_find(&p->set, 20);
  assert_true(it->flags & VG_KLV_F_SUSPICIOUS);
  assert_int_equal(it->type, VG_KLV_T_REAL);
  assert_true(fabs(it->v.f - 180.00000004190952) < 1e-9);
  assert_roundtrip(p, &u80);

  assert_int_equal(dec(d, &tw4, &p, NULL), VG_OK);
  it = vg_klv_find(&p->set, 22);
  assert_int_equal(it->len, 4);
  assert_true(it->flags & VG_KLV_F_BAD_LENGTH);
  assert_int_equal(it->type, VG_KLV_T_REAL);
  assert_true(it->v.f >= 0 && it->v.f <= 10000);
  {
    /* lenient: scaled by 2^32-1 */
    uint64_t x = (uint64_t)it->raw[0] << 24 | (uint64_t)it->raw[1] << 16 | (uint64_t)it->raw[2] << 8 | it->raw[3];
    assert_true(fabs(it->v.f - (double)x * 10000.0 / 4294967295.0) < 1e-9);
  }
  free(pitch.b);
  free(lat.b);
  free(u80.b);
  free(tw4.b);
  vg_klv_decoder_free(d);
}

static void edge_stream_cases(void **st)
{
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  edge two = get_edge("two_packets_concatenated");
  size_t used, off = 0;
  int n = 0;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  while (off < two.n) {
    assert_int_equal(vg_klv_decode(d, &p, two.b + off, two.n - off, &used), VG_OK);
    assert_int_equal(p->cksum, VG_KLV_CK_VALID);
    off += used;
    n++;
  }
  assert_int_equal(n, 2);
  assert_int_equal(off, two.n);
  free(two.b);
  vg_klv_decoder_free(d);
}

static void encoder_builds_packet(void **st)
{
  /* A packet built from typed values, encoded, decoded: the values come back. */
  vg_klv_item items[] = {
    vg_klv_item_time(2, 1224807209913000ull), vg_klv_item_str(3, "MISSION01"),
    vg_klv_item_real(5, 159.974), vg_klv_item_real(6, -0.4315), vg_klv_item_real(13, 60.176822967),
    vg_klv_item_real(14, 128.426759042), vg_klv_item_real(15, 14190.7), vg_klv_item_real(96, 13898.5),
    vg_klv_item_uint(65, 19), vg_klv_item_int(137, -5025678901ll),
  };
  vg_klv_packet pkt;
  vg_buf b;
  vg_klv_decoder *d;
  const vg_klv_packet *q;
  double v;
  (void)st;
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_ST0601;
  pkt.set.kind = VG_KLV_KIND_ST0601;
  pkt.set.items = items;
  pkt.set.n = sizeof items / sizeof items[0];
  vg_buf_init(&b, 4096);
  assert_int_equal(vg_klv_encode(&b, &pkt), VG_OK);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &q, b.data, b.len, NULL), VG_OK);
  assert_int_equal(q->cksum, VG_KLV_CK_VALID);
  assert_int_equal(q->version, 19);
  assert_int_equal(vg_klv_find(&q->set, 2)->v.u, 1224807209913000ull);
  assert_int_equal(vg_klv_get_real(&q->set, 13, &v), VG_OK);
  assert_true(fabs(v - 60.176822967) < 90.0 / 2147483647.0);
  assert_int_equal(vg_klv_get_real(&q->set, 5, &v), VG_OK);
  assert_true(fabs(v - 159.974) < 360.0 / 65535.0);
  assert_int_equal(vg_klv_find(&q->set, 96)->len, 3);
  assert_int_equal(vg_klv_get_real(&q->set, 96, &v), VG_OK);
  assert_true(fabs(v - 13898.5) < 0.5);
  assert_int_equal(vg_klv_find(&q->set, 137)->v.i, -5025678901ll);
  assert_int_equal(vg_klv_find(&q->set, 137)->len, 5); /* minimal two's complement */
  /* Out of range values are refused, not wrapped. */
  items[4] = vg_klv_item_real(13, 91.0);
  vg_buf_reset(&b);
  assert_int_equal(vg_klv_encode(&b, &pkt), VG_E_RANGE);
  assert_int_equal(b.len, 0);
  vg_buf_free(&b);
  vg_klv_decoder_free(d);
}

static void encoder_never_writes_66(void **st)
{
  /* Tag 66 (deprecated) is read, flagged, and dropped on encode. */
  static const uint8_t body[] = {0x02, 0x08, 0, 4, 0x59, 0xf4, 0xa6, 0xaa, 0x4a, 0xa8,
                                 0x42, 0x02, 0xab, 0xcd, 0x41, 0x01, 0x11};
  uint8_t pkt[64];
  size_t n = 0;
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  vg_buf b;
  uint16_t ck;
  (void)st;
  memcpy(pkt, vg_klv_kind_key(VG_KLV_KIND_ST0601), 16);
  n = 16;
  pkt[n++] = (uint8_t)(sizeof body + 4);
  memcpy(pkt + n, body, sizeof body);
  n += sizeof body;
  pkt[n++] = 1;
  pkt[n++] = 2;
  ck = vg_klv_checksum16(pkt, n);
  pkt[n++] = (uint8_t)(ck >> 8);
  pkt[n++] = (uint8_t)ck;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &p, pkt, n, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_true(vg_klv_find(&p->set, 66)->flags & VG_KLV_F_DEPRECATED);
  vg_buf_init(&b, 4096);
  assert_int_equal(vg_klv_encode(&b, p), VG_OK);
  assert_int_equal(b.len, n - 4);
  assert_int_equal(vg_klv_decode(d, &p, b.data, b.len, NULL), VG_OK);
  assert_null(vg_klv_find(&p->set, 66));
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  vg_buf_free(&b);
  vg_klv_decoder_free(d);
}

static void bad_length_written_back(void **st)
{
  /* Found by fuzzing: tag 9 (1 byte in the table) sent with 4 bytes and a value
   * that does not fit 1 byte. It decodes flagged, and encodes back unchanged. */
  static const char *hex =
    "060e2b34020b01010e0103010100000067020800046050584e0180090400000800050271c20602fd3d070208b8"
    "0d045595b66d0e045b5360c40f02c2211002cd9c1102d9171204724a0a20130487f84b8614040000000015040383"
    "0926160212811704f101a229180414bc082b190234f34101060102d261";
  edge e;
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  (void)st;
  assert_int_equal(vg_test_unhex(hex, &e.b, &e.n), 0);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &p, e.b, e.n, NULL), VG_OK);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  it = vg_klv_find(&p->set, 9);
  assert_true(it->flags & VG_KLV_F_BAD_LENGTH);
  assert_int_equal(it->v.u, 2048);
  assert_roundtrip(p, &e);
  free(e.b);
  vg_klv_decoder_free(d);
}

/* Named limits at their boundaries. */
static void limits_at_boundary(void **st)
{
  uint8_t hdr[16 + 9];
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  size_t used;
  uint64_t v;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  memcpy(hdr, vg_klv_kind_key(VG_KLV_KIND_ST0601), 16);
  /* VG_KLV_MAX_VALUE exactly: legal, so only more bytes are missing. */
  v = VG_KLV_MAX_VALUE;
  hdr[16] = 0x84;
  for (int i = 0; i < 4; i++)
    hdr[17 + i] = (uint8_t)(v >> (8 * (3 - i)));
  assert_int_equal(vg_klv_decode(d, &p, hdr, 21, &used), VG_E_TRUNCATED);
  /* One more: refused by name, nothing allocated. */
  v = VG_KLV_MAX_VALUE + 1;
  for (int i = 0; i < 4; i++)
    hdr[17 + i] = (uint8_t)(v >> (8 * (3 - i)));
  assert_int_equal(vg_klv_decode(d, &p, hdr, 21, &used), VG_E_LIMIT);
  assert_non_null(strstr(vg_error_last(), "VG_KLV_MAX_VALUE"));
  vg_klv_decoder_free(d);

  /* VG_KLV_MAX_DEPTH: a set at the maximum depth is refused. */
  {
    static const uint8_t set[] = {0x41, 0x01, 0x11};
    vg__arena a;
    vg__klv_ctx c;
    vg_klv_set out;
    vg__arena_init(&a);
    c.arena = &a;
    c.base = set;
    c.pflags = 0;
    c.depth = VG_KLV_MAX_DEPTH - 1;
    assert_int_equal(vg__klv_set_decode(&c, VG_KLV_KIND_ST0601, set, sizeof set, &out), VG_OK);
    c.depth = VG_KLV_MAX_DEPTH;
    assert_int_equal(vg__klv_set_decode(&c, VG_KLV_KIND_ST0601, set, sizeof set, &out), VG_E_LIMIT);
    vg__arena_free(&a);
  }

  /* VG_KLV_MAX_ITEMS: 65536 zero-length items decode, 65537 are refused. */
  {
    size_t n = (size_t)VG_KLV_MAX_ITEMS + 1;
    uint8_t *set = malloc(2 * n);
    vg_klv_decoder *d2;
    const vg_klv_set *out;
    for (size_t i = 0; i < n; i++) {
      set[2 * i] = 0x03; /* Mission ID, empty */
      set[2 * i + 1] = 0x00;
    }
    assert_int_equal(vg_klv_decoder_new(&d2, NULL), VG_OK);
    assert_int_equal(vg_klv_decode_set(d2, &out, VG_KLV_KIND_ST0601, set, 2 * (n - 1)), VG_OK);
    assert_int_equal(out->n, VG_KLV_MAX_ITEMS);
    assert_int_equal(vg_klv_decode_set(d2, &out, VG_KLV_KIND_ST0601, set, 2 * n), VG_E_LIMIT);
    vg_klv_decoder_free(d2);
    free(set);
  }
}

static void ber_writer(void **st)
{
  vg_buf b;
  (void)st;
  vg_buf_init(&b, 64);
  assert_int_equal(vg_klv_put_ber_len(&b, 127), VG_OK);
  assert_int_equal(vg_klv_put_ber_len(&b, 128), VG_OK);
  assert_int_equal(vg_klv_put_ber_len(&b, 2403), VG_OK);
  assert_int_equal(vg_klv_put_ber_oid(&b, 143), VG_OK);
  assert_int_equal(vg_klv_put_ber_oid(&b, 5), VG_OK);
  assert_int_equal(b.len, 1 + 2 + 3 + 2 + 1);
  assert_memory_equal(b.data, "\x7f\x81\x80\x82\x09\x63\x81\x0f\x05", 9);
  vg_buf_free(&b);
}

static void checksum_known(void **st)
{
  (void)st;
  /* CRC-16-CCITT (0xFFFF) check value of "123456789". */
  assert_int_equal(vg_klv_crc16_ccitt((const uint8_t *)"123456789", 9), 0x29B1);
  assert_int_equal(vg_klv_checksum16((const uint8_t *)"\x01\x02\x03", 3), 0x0102 + 0x0300);
}

static int teardown(void **st)
{
  (void)st;
  json_decref(g_edges);
  g_edges = NULL;
  return 0;
}

int test_klv_core_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(edge_valid_and_checksums), cmocka_unit_test(edge_payload_only_checksum),
    cmocka_unit_test(edge_framing_errors),      cmocka_unit_test(edge_ber_forms),
    cmocka_unit_test(edge_tags),                cmocka_unit_test(edge_values),
    cmocka_unit_test(edge_stream_cases),        cmocka_unit_test(encoder_builds_packet),
    cmocka_unit_test(encoder_never_writes_66),  cmocka_unit_test(ber_writer),
    cmocka_unit_test(bad_length_written_back), cmocka_unit_test(limits_at_boundary),
    cmocka_unit_test(checksum_known),
  };
  return cmocka_run_group_tests_name("klv.core", tests, setup, teardown);
}
