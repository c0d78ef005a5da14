/*
 * ST 0903 VMTI: jMISB's five stand-alone messages (checksum, top-level tags,
 * VTarget series with ids, centroids, confidence, byte-exact re-encoding,
 * corrupted checksum in lenient and strict mode), KWIVER's VMTI set nested
 * at tag 74 of the ST 0601 reference packet (every field down to VTracker
 * track history and velocity), the Target Location and boundary-series packs
 * with their optional sigma/rho parts and bad lengths, and the tag tables.
 *
 * Every expected number was worked out from the bytes by hand (python, with
 * the ST 1201 IMAPB formulas), not taken from vigia's output; the location-
 * pack numbers also agree with KWIVER test_klv_0903.cxx.
 */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "klv/klv_int.h"
#include "vigia/klv.h"

static const uint8_t st0903_ul[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01,
                                      0x0E, 0x01, 0x03, 0x03, 0x06, 0x00, 0x00, 0x00};

/* ---- helpers ---------------------------------------------------------------------- */

/* Decoders of one test: vg_test_decoders_setup/teardown (testutil.h). */
typedef vg_test_decoders fixture;
#define setup vg_test_decoders_setup
#define teardown vg_test_decoders_teardown
#define unhex vg_test_unhex_or_fail

/* The item @p tag of @p set, which must be there. */
static const vg_klv_item *need(const vg_klv_set *set, uint32_t tag)
{
  const vg_klv_item *it = vg_klv_find(set, tag);
  if (!it)
    fail_msg("tag %u missing from a %s set", (unsigned)tag, vg_klv_kind_name(set->kind));
  return it;
}

static void check_uint(const vg_klv_set *set, uint32_t tag, uint64_t want)
{
  const vg_klv_item *it = need(set, tag);
  if (it->type != VG_KLV_T_UINT || it->v.u != want)
    fail_msg("%s tag %u: type %u value %llu, want UINT %llu", vg_klv_kind_name(set->kind),
             (unsigned)tag, it->type, (unsigned long long)it->v.u, (unsigned long long)want);
}

static void check_real(const vg_klv_set *set, uint32_t tag, double want, double tol)
{
  const vg_klv_item *it = need(set, tag);
  if (it->type != VG_KLV_T_REAL || !(fabs(it->v.f - want) <= tol))
    fail_msg("%s tag %u: type %u value %.17g, want REAL %.17g", vg_klv_kind_name(set->kind),
             (unsigned)tag, it->type, it->v.f, want);
}

static void check_text(const vg_klv_set *set, uint32_t tag, const char *want)
{
  const vg_klv_item *it = need(set, tag);
  size_t n = strlen(want);
  if (it->type != VG_KLV_T_STRING || it->v.s.n != n || memcmp(it->v.s.p, want, n) != 0)
    fail_msg("%s tag %u: \"%.*s\", want \"%s\"", vg_klv_kind_name(set->kind), (unsigned)tag,
             it->type == VG_KLV_T_STRING ? (int)it->v.s.n : 0,
             it->type == VG_KLV_T_STRING ? it->v.s.p : "", want);
}

static void check_time(const vg_klv_set *set, uint32_t tag, uint64_t want)
{
  const vg_klv_item *it = need(set, tag);
  assert_int_equal(it->type, VG_KLV_T_TIME);
  assert_int_equal(it->v.u, want);
}

/* The child set of item @p tag, of kind @p kind. */
static const vg_klv_set *child_of(const vg_klv_set *set, uint32_t tag, vg_klv_kind kind,
                                  int series, size_t n)
{
  const vg_klv_item *it = need(set, tag);
  if (it->type != VG_KLV_T_SET || !it->child)
    fail_msg("%s tag %u: type %u flags 0x%x, want a decoded set", vg_klv_kind_name(set->kind),
             (unsigned)tag, it->type, it->flags);
  assert_int_equal(it->child->kind, kind);
  assert_int_equal(it->child->series, series);
  assert_int_equal(it->child->n, n);
  return it->child;
}

/* Member @p i of a series: a decoded set of @p kind with @p n items. */
static const vg_klv_set *member(const vg_klv_set *series, size_t i, vg_klv_kind kind, size_t n)
{
  const vg_klv_item *m = &series->items[i];
  if (m->type != VG_KLV_T_SET || !m->child)
    fail_msg("series member %zu: type %u flags 0x%x", i, m->type, m->flags);
  assert_int_equal(m->child->kind, kind);
  assert_int_equal(m->child->n, n);
  return m->child;
}

/*
 * A zero-length item: present, no value. klv.h says T_NONE; an empty series
 * may also come as an empty set, and opaque bytes as BYTES of length 0 (the
 * contract itself is tested in klv.st0102).
 */
static void check_empty(const vg_klv_set *set, uint32_t tag)
{
  const vg_klv_item *it = need(set, tag);
  assert_int_equal(it->len, 0);
  assert_true(it->type == VG_KLV_T_NONE || it->type == VG_KLV_T_BYTES ||
              (it->type == VG_KLV_T_SET && it->child && it->child->n == 0));
}

static void check_tags(const vg_klv_set *set, const uint32_t *tags, size_t n)
{
  assert_int_equal(set->n, n);
  for (size_t i = 0; i < n; i++)
    if (set->items[i].tag != tags[i])
      fail_msg("%s item %zu: tag %u, want %u", vg_klv_kind_name(set->kind), i,
               (unsigned)set->items[i].tag, (unsigned)tags[i]);
}

static void assert_set_encodes(const vg_klv_set *set, const uint8_t *want, size_t n)
{
  vg_buf b;
  vg_buf_init(&b, 1 << 20);
  assert_int_equal(vg_klv_encode_set(&b, set), VG_OK);
  if (b.len != n || memcmp(b.data, want, n) != 0) {
    size_t i = 0;
    while (i < n && i < b.len && b.data[i] == want[i])
      i++;
    fail_msg("re-encoding: %zu bytes, want %zu; first difference at byte %zu", b.len, n, i);
  }
  vg_buf_free(&b);
}

/* ---- jMISB 0903.bin ------------------------------------------------------------------ */

/* Per message: time stamp, then per target: id, centroid, top left, bottom right, confidence. */
static const struct {
  uint64_t time;
  struct {
    uint32_t id;
    uint64_t centroid, top_left, bottom_right, confidence;
  } t[2];
} jmisb_expect[5] = {
    {1664769469971288u, {{0, 387602, 529018, 409558, 15}, {1, 352205, 455636, 394955, 84}}},
    {1664769469971600u, {{2, 525196, 432938, 261173, 77}, {3, 245221, 87404, 509509, 14}}},
    {1664769469971836u, {{4, 72677, 190165, 389463, 88}, {5, 194409, 443421, 261360, 86}}},
    {1664769469972045u, {{6, 343812, 96568, 464439, 88}, {7, 137293, 351340, 82242, 84}}},
    {1664769469972253u, {{8, 368810, 160872, 135880, 94}, {9, 170578, 325283, 362075, 26}}},
};

static void test_jmisb_messages(void **state)
{
  char *path = VG_REQUIRE_DATA("klv/vectors/st0903_jmisb_5_messages.klv");
  json_t *root = vg_test_load_json("klv/vectors/st0903_jmisb_5_messages.json");
  json_t *msgs = json_object_get(root, "messages");
  vg_klv_decoder *d = ((fixture *)*state)->strict; /* strict: a bad checksum would be an error */
  uint8_t *file = NULL;
  size_t flen = 0, off = 0, i;
  json_t *m;

  assert_int_equal(vg_test_read_file(path, &file, &flen), 0);
  assert_int_equal(flen, 650);
  assert_int_equal(json_array_size(msgs), 5);
  json_array_foreach(msgs, i, m) {
    const vg_klv_packet *p = NULL;
    size_t consumed = 0, k;
    const json_t *tags = json_object_get(m, "top_level_tags"), *t;
    const vg_klv_set *ts;
    unsigned stored = 0;
    vg_buf b;

    assert_int_equal(vg_klv_decode(d, &p, file + off, flen - off, &consumed), VG_OK);
    assert_int_equal(consumed, (size_t)json_integer_value(json_object_get(m, "bytes")));
    assert_int_equal(p->kind, VG_KLV_KIND_ST0903);
    assert_memory_equal(p->key, st0903_ul, 16);
    assert_int_equal(p->value_len, 113);
    assert_int_equal(p->cksum, VG_KLV_CK_VALID);
    sscanf(json_string_value(json_object_get(json_object_get(m, "checksum"), "stored")), "%x",
           &stored);
    assert_int_equal(p->cksum_stored, stored);
    assert_int_equal(p->cksum_computed, stored);
    assert_int_equal(p->version, 4);
    assert_int_equal(p->flags & (VG_KLV_P_CHECKSUM_BAD | VG_KLV_P_CHECKSUM_MISSING |
                                 VG_KLV_P_CHECKSUM_NOT_LAST | VG_KLV_P_TIME_NOT_FIRST |
                                 VG_KLV_P_ITEM_FLAGS),
                     0);

    /* Top-level tags exactly as listed, in order. */
    assert_int_equal(p->set.n, json_array_size(tags));
    json_array_foreach(tags, k, t) assert_int_equal(p->set.items[k].tag,
                                                    (uint32_t)json_integer_value(t));

    check_time(&p->set, 2, jmisb_expect[i].time);
    check_text(&p->set, 3, "Example Targeting System");
    check_uint(&p->set, 4, 4);
    check_uint(&p->set, 7, 1);
    check_uint(&p->set, 8, 1000);
    check_uint(&p->set, 9, 600);
    check_text(&p->set, 10, "EO Nose");
    check_empty(&p->set, 102);
    check_empty(&p->set, 103);

    ts = child_of(&p->set, 101, VG_KLV_KIND_ST0903_VTARGET, 1, 2);
    for (size_t j = 0; j < 2; j++) {
      const vg_klv_set *vt = member(ts, j, VG_KLV_KIND_ST0903_VTARGET, 5);
      static const uint32_t vt_tags[] = {1, 2, 3, 5, 107};
      assert_int_equal(ts->items[j].id, jmisb_expect[i].t[j].id);
      assert_int_equal(ts->items[j].len, 21);
      check_tags(vt, vt_tags, 5);
      check_uint(vt, 1, jmisb_expect[i].t[j].centroid);
      check_uint(vt, 2, jmisb_expect[i].t[j].top_left);
      check_uint(vt, 3, jmisb_expect[i].t[j].bottom_right);
      check_uint(vt, 5, jmisb_expect[i].t[j].confidence);
      check_empty(vt, 107); /* empty VObject series */
    }

    /* Encoded again: the same 130 bytes, checksum included. */
    vg_buf_init(&b, 1 << 20);
    assert_int_equal(vg_klv_encode(&b, p), VG_OK);
    assert_int_equal(b.len, consumed);
    assert_memory_equal(b.data, file + off, consumed);
    vg_buf_free(&b);
    off += consumed;
  }
  assert_int_equal(off, flen);
  free(file);
  free(path);
  json_decref(root);
}

/* A changed byte: flagged when lenient, an error when strict. */
static void test_jmisb_bad_checksum(void **state)
{
  char *path = VG_REQUIRE_DATA("klv/vectors/st0903_jmisb_5_messages.klv");
  vg_klv_decoder *lenient = ((fixture *)*state)->lenient, *strict = ((fixture *)*state)->strict;
  uint8_t *file = NULL;
  size_t flen = 0, consumed = 0;
  const vg_klv_packet *p = NULL;

  assert_int_equal(vg_test_read_file(path, &file, &flen), 0);
  /* key 16 | len 1 | 02 08 + 8 | 03 18: the name starts at byte 29. */
  assert_int_equal(file[29], 'E');
  file[29] ^= 0x20; /* "Example Targeting System" becomes "example ..." */
  assert_int_equal(vg_klv_decode(lenient, &p, file, 130, &consumed), VG_OK);
  assert_int_equal(consumed, 130);
  assert_int_equal(p->cksum, VG_KLV_CK_INVALID);
  assert_true(p->flags & VG_KLV_P_CHECKSUM_BAD);
  assert_int_equal(p->cksum_stored, 0x182d);
  assert_int_not_equal(p->cksum_computed, 0x182d);
  check_text(&p->set, 3, "example Targeting System");
  assert_int_equal(vg_klv_decode(strict, &p, file, 130, &consumed), VG_E_CHECKSUM);
  free(file);
  free(path);
}

/* ---- KWIVER's VMTI set at tag 74 of the ST 0601 reference packet ---------------------- */

static void check_location(const vg_klv_set *loc, double lat, double lon, double hae)
{
  assert_int_equal(loc->kind, VG_KLV_KIND_PACK);
  check_real(loc, 1, lat, 1e-9);
  check_real(loc, 2, lon, 1e-9);
  check_real(loc, 3, hae, 1e-9);
}

static void test_nested_reference(void **state)
{
  json_t *root = vg_test_load_json("klv/vectors/st0601_reference_packet_v17.json");
  json_t *items = json_object_get(root, "items"), *it;
  const char *hex = NULL;
  uint8_t *buf;
  size_t n = 0, i;
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *s, *ser, *vt, *sub;

  json_array_foreach(items, i, it) if (json_integer_value(json_object_get(it, "tag")) == 74) hex =
      json_string_value(json_object_get(it, "value_hex"));
  assert_non_null(hex);
  buf = unhex(hex, &n);
  assert_int_equal(n, 512);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903, buf, n), VG_OK);
  {
    static const uint32_t tags[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 101, 102, 103};
    check_tags(s, tags, sizeof tags / sizeof tags[0]);
  }
  /* 02 07 03824430f6ce40: 7 bytes where ST 0903.4+ writes 8; accepted as KWIVER does. */
  check_time(s, 2, 987654321000000u);
  assert_int_equal(need(s, 2)->len, 7);
  assert_int_equal(need(s, 2)->flags, 0);
  check_text(s, 3, "DSTO_ADSS_VMTI");
  check_uint(s, 4, 5);
  check_uint(s, 5, 28);
  check_uint(s, 6, 2);
  check_uint(s, 7, 78000);
  check_uint(s, 8, 1920);
  check_uint(s, 9, 1080);
  check_text(s, 10, "EO Nose");
  check_real(s, 11, 12.5, 0); /* IMAPB(0, 180, 2) of 0x0640: 1600 / 128 */
  check_real(s, 12, 10.0, 0); /* 0x0500: 1280 / 128 */
  check_empty(s, 13);

  /* VTarget series: id 1 with a centroid only, id 1234 (BER-OID 89 52) with everything. */
  ser = child_of(s, 101, VG_KLV_KIND_ST0903_VTARGET, 1, 2);
  assert_int_equal(ser->items[0].id, 1);
  assert_int_equal(ser->items[1].id, 1234);
  assert_int_equal(ser->items[1].len, 365); /* BER long form 82 01 6d */
  vt = member(ser, 0, VG_KLV_KIND_ST0903_VTARGET, 1);
  check_uint(vt, 1, 409600);
  vt = member(ser, 1, VG_KLV_KIND_ST0903_VTARGET, 28);
  check_uint(vt, 2, 409600);
  check_uint(vt, 3, 409600);
  check_uint(vt, 4, 27);
  check_uint(vt, 5, 80);
  check_uint(vt, 6, 2765);
  check_uint(vt, 7, 50);
  check_uint(vt, 8, 0xDAA520);
  check_uint(vt, 9, 13140);
  check_real(vt, 10, 10.0, 1e-12); /* IMAPB(-19.2, 19.2, 3) of 3a6667 */
  check_real(vt, 11, 12.0, 1e-12); /* 3e6667 */
  check_real(vt, 12, 10000.0, 0);  /* IMAPB(-900, 19000, 2) of 2a94 */
  for (uint32_t t = 13; t <= 16; t++)
    check_real(vt, t, 10.0, 1e-12);
  check_empty(vt, 17);
  check_empty(vt, 18);
  assert_int_equal(need(vt, 17)->flags, 0); /* an empty pack is not a bad one */
  check_uint(vt, 19, 872);
  check_uint(vt, 20, 1137);
  sub = child_of(vt, 21, VG_KLV_KIND_PACK, 0, 2);
  check_uint(sub, 1, 2);
  check_uint(sub, 2, 3);
  check_uint(vt, 22, 3);
  /* VMask stays raw: 01 09 (polygon 14762 14783 15115) 02 0c (3 pixel runs). */
  assert_int_equal(need(vt, 101)->type, VG_KLV_T_BYTES);
  assert_int_equal(need(vt, 101)->len, 25);
  assert_int_equal(need(vt, 101)->raw[0], 0x01);

  sub = child_of(vt, 102, VG_KLV_KIND_ST0903_VOBJECT, 0, 4);
  check_text(sub, 1, "URI");
  check_text(sub, 2, "class");
  check_uint(sub, 3, 7);
  check_real(sub, 4, 32.0, 0); /* IMAPB(0, 100, 3) of 200000 */
  sub = child_of(vt, 103, VG_KLV_KIND_ST0903_VFEATURE, 0, 2);
  check_text(sub, 1, "A");
  check_text(sub, 2, "B");

  sub = child_of(vt, 104, VG_KLV_KIND_ST0903_VTRACKER, 0, 12);
  {
    static const uint8_t uuid[16] = {0xF8, 0x1D, 0x4F, 0xAE, 0x7D, 0xEC, 0x11, 0xD0,
                                     0xA7, 0x65, 0x00, 0xA0, 0xC9, 0x1E, 0x6B, 0xF6};
    const vg_klv_set *hist, *v;
    assert_int_equal(need(sub, 1)->type, VG_KLV_T_BYTES);
    assert_int_equal(need(sub, 1)->len, 16);
    assert_memory_equal(need(sub, 1)->raw, uuid, 16);
    check_uint(sub, 2, 2); /* dropped */
    check_time(sub, 3, 987654321000000u);
    check_time(sub, 4, 987654321000000u);
    check_empty(sub, 5);
    check_text(sub, 6, "test");
    check_uint(sub, 7, 50);
    check_uint(sub, 8, 3);
    /* Track history: 3 × (0a | lat 4 | lon 4 | hae 2). */
    hist = child_of(sub, 9, VG_KLV_KIND_PACK, 1, 3);
    check_location(member(hist, 0, VG_KLV_KIND_PACK, 3), 72.0, 73.0, 900.0);
    check_location(member(hist, 1, VG_KLV_KIND_PACK, 3), 73.0, 72.0, 1000.0);
    check_location(member(hist, 2, VG_KLV_KIND_PACK, 3), 73.0, 73.0, 1100.0);
    assert_int_equal(hist->items[2].len, 10);
    /* Velocity 1234 2334 4545 and acceleration 4234 4334 4545, IMAPB(-900, 900, 2). */
    v = child_of(sub, 10, VG_KLV_KIND_PACK, 0, 3);
    check_real(v, 1, -608.75, 0);
    check_real(v, 2, -336.75, 0);
    check_real(v, 3, 208.3125, 0);
    v = child_of(sub, 11, VG_KLV_KIND_PACK, 0, 3);
    check_real(v, 1, 159.25, 0);
    check_real(v, 2, 175.25, 0);
    check_real(v, 3, 208.3125, 0);
    check_uint(sub, 12, 3);
  }

  sub = child_of(vt, 105, VG_KLV_KIND_ST0903_VCHIP, 0, 3);
  check_text(sub, 1, "png");
  check_text(sub, 2, "URI0");
  assert_int_equal(need(sub, 3)->type, VG_KLV_T_BYTES);
  assert_int_equal(need(sub, 3)->len, 67);
  assert_memory_equal(need(sub, 3)->raw, "\x89PNG\r\n\x1a\n", 8);
  sub = child_of(vt, 106, VG_KLV_KIND_ST0903_VCHIP, 1, 2);
  check_text(member(sub, 0, VG_KLV_KIND_ST0903_VCHIP, 2), 2, "URI1");
  check_text(member(sub, 1, VG_KLV_KIND_ST0903_VCHIP, 2), 2, "URI2");
  assert_int_equal(sub->items[1].id, 0); /* VChip series members carry no id */
  check_empty(vt, 107);

  /* Algorithm and ontology series: members without ids. */
  sub = member(child_of(s, 102, VG_KLV_KIND_ST0903_ALGORITHM, 1, 1), 0,
               VG_KLV_KIND_ST0903_ALGORITHM, 5);
  check_uint(sub, 1, 9);
  check_text(sub, 2, "k6_yolo_9000_tracker");
  check_text(sub, 3, "2.6a");
  check_text(sub, 4, "kalmann");
  check_uint(sub, 5, 10);
  sub = member(child_of(s, 103, VG_KLV_KIND_ST0903_ONTOLOGY, 1, 1), 0,
               VG_KLV_KIND_ST0903_ONTOLOGY, 4);
  check_uint(sub, 1, 17);
  check_uint(sub, 2, 12);
  check_text(sub, 3, "URI");
  check_text(sub, 4, "class");

  /* Encoded again: the same 512 bytes. */
  assert_set_encodes(s, buf, n);

  free(buf);
  json_decref(root);
}

/* ---- packs ------------------------------------------------------------------------ */

/* KWIVER test_klv_0903.cxx location pack: lat, lon, hae, sigmas, rhos. */
static const uint8_t loc22[22] = {0x01, 0x02, 0x03, 0x04, 0x10, 0x20, 0x30, 0x40,
                                  0x0A, 0x0B, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                  0x10, 0x20, 0x30, 0x40, 0x50, 0x60};
static const double loc22_want[9] = {
    -87.984282970428467, /* IMAPB(-90, 90, 4) of 01020304 */
    -115.49705505371094, /* IMAPB(-180, 180, 4) of 10203040 */
    1671.0,              /* IMAPB(-900, 19000, 2) of 0a0b */
    8.0625,    24.125,   40.1875,   /* IMAPB(0, 650, 2) */
    -0.748046875, -0.24609375, 0.255859375, /* IMAPB(-1, 1, 2) */
};

/* A VTarget set holding item 17 of @p n bytes of loc22. */
static size_t vtarget_with_location(uint8_t *out, size_t n)
{
  out[0] = 0x11;
  out[1] = (uint8_t)n;
  memcpy(out + 2, loc22, n);
  return n + 2;
}

static void test_target_location(void **state)
{
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *s, *loc;
  uint8_t buf[64];
  size_t n;

  /* Full pack: 9 fields. */
  n = vtarget_with_location(buf, 22);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  loc = child_of(s, 17, VG_KLV_KIND_PACK, 0, 9);
  for (uint32_t t = 1; t <= 9; t++) {
    check_real(loc, t, loc22_want[t - 1], 1e-12);
    assert_int_equal(need(loc, t)->flags, 0);
  }
  assert_int_equal(need(loc, 1)->len, 4);
  assert_int_equal(need(loc, 3)->len, 2);
  assert_ptr_equal(need(loc, 4)->raw, need(s, 17)->raw + 10);
  assert_set_encodes(s, buf, n);
  {
    double lat = 0;
    assert_int_equal(vg_klv_get_real(loc, 1, &lat), VG_OK);
    assert_true(fabs(lat - loc22_want[0]) < 1e-12);
  }

  /* Without correlations, and without sigmas. */
  n = vtarget_with_location(buf, 16);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  loc = child_of(s, 17, VG_KLV_KIND_PACK, 0, 6);
  check_real(loc, 6, 40.1875, 0);
  assert_null(vg_klv_find(loc, 7));
  assert_set_encodes(s, buf, n);
  n = vtarget_with_location(buf, 10);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  loc = child_of(s, 17, VG_KLV_KIND_PACK, 0, 3);
  check_real(loc, 3, 1671.0, 0);
  assert_set_encodes(s, buf, n);

  /* 11 bytes is no location pack: kept raw, flagged, rewritten as it came. */
  n = vtarget_with_location(buf, 11);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  assert_int_equal(need(s, 17)->type, VG_KLV_T_BYTES);
  assert_null(need(s, 17)->child);
  assert_true(need(s, 17)->flags & VG_KLV_F_BAD_LENGTH);
  assert_set_encodes(s, buf, n);

  /* Latitude +infinity (ST 1201 C8 00 00 00): a special, kept through encoding. */
  n = vtarget_with_location(buf, 10);
  buf[2] = 0xC8;
  buf[3] = buf[4] = buf[5] = 0;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  loc = child_of(s, 17, VG_KLV_KIND_PACK, 0, 3);
  assert_int_equal(need(loc, 1)->type, VG_KLV_T_NONE);
  assert_int_equal(need(loc, 1)->special, VG_KLV_SP_POS_INF);
  check_real(loc, 2, loc22_want[1], 1e-12);
  assert_set_encodes(s, buf, n);

  /* Latitude code 7fffffff: legal bits, 166 degrees: flagged out of range, kept. */
  n = vtarget_with_location(buf, 10);
  buf[2] = 0x7F;
  buf[3] = buf[4] = buf[5] = 0xFF;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  loc = child_of(s, 17, VG_KLV_KIND_PACK, 0, 3);
  check_real(loc, 1, 166.0, 1e-6);
  assert_true(need(loc, 1)->flags & VG_KLV_F_RANGE);
  assert_set_encodes(s, buf, n);
}

/* Target Boundary Series (18) and FPA index (21). */
static void test_boundary_series_and_fpa(void **state)
{
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *s, *ser;
  uint8_t buf[96];
  size_t n = 0;

  /* 18 | 0x2a | 16 <22 bytes> | 0a <10 bytes> | 0f <15 bytes: bad>  -> kept raw;
   * first without the bad member. */
  buf[n++] = 0x12;
  buf[n++] = 1 + 22 + 1 + 10;
  buf[n++] = 22;
  memcpy(buf + n, loc22, 22);
  n += 22;
  buf[n++] = 10;
  memcpy(buf + n, loc22, 10);
  n += 10;
  buf[n++] = 0x15; /* FPA index: row 7, column 250 */
  buf[n++] = 2;
  buf[n++] = 7;
  buf[n++] = 250;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  ser = child_of(s, 18, VG_KLV_KIND_PACK, 1, 2);
  assert_int_equal(ser->items[0].tag, 1);
  assert_int_equal(ser->items[1].tag, 2);
  {
    const vg_klv_set *a = member(ser, 0, VG_KLV_KIND_PACK, 9);
    const vg_klv_set *b = member(ser, 1, VG_KLV_KIND_PACK, 3);
    for (uint32_t t = 1; t <= 9; t++)
      check_real(a, t, loc22_want[t - 1], 1e-12);
    check_real(b, 3, 1671.0, 0);
  }
  ser = child_of(s, 21, VG_KLV_KIND_PACK, 0, 2);
  check_uint(ser, 1, 7);
  check_uint(ser, 2, 250);
  assert_set_encodes(s, buf, n);

  /* A third member of 15 bytes: the series is kept raw and rewritten as it came. */
  assert_int_equal(n, 40); /* 18 at 0..35, FPA index at 36..39 */
  buf[1] = 34 + 1 + 15;
  memmove(buf + 52, buf + 36, 4); /* the FPA item goes after the new member */
  buf[36] = 15;
  memcpy(buf + 37, loc22, 15);
  n = 56;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, buf, n), VG_OK);
  assert_int_equal(s->n, 2);
  assert_int_equal(need(s, 18)->type, VG_KLV_T_BYTES);
  assert_true(need(s, 18)->flags & VG_KLV_F_UNDECODED);
  check_uint(child_of(s, 21, VG_KLV_KIND_PACK, 0, 2), 2, 250);
  assert_set_encodes(s, buf, n);

  /* An FPA index of 3 bytes is flagged and kept raw. */
  {
    static const uint8_t fpa3[] = {0x15, 0x03, 0x01, 0x02, 0x03};
    assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903_VTARGET, fpa3, sizeof fpa3),
                     VG_OK);
    assert_int_equal(s->items[0].type, VG_KLV_T_BYTES);
    assert_true(s->items[0].flags & VG_KLV_F_BAD_LENGTH);
    assert_set_encodes(s, fpa3, sizeof fpa3);
  }
}

/* A VTarget series member that overruns the series: the item is kept raw. */
static void test_bad_series(void **state)
{
  /* 101 (65) | len 6 | member len 9 (> 5 left) ... */
  static const uint8_t bad[] = {0x04, 0x01, 0x05, 0x65, 0x06, 0x09, 0x01, 0x01, 0x03, 0x06, 0x40};
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *s;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_ST0903, bad, sizeof bad), VG_OK);
  assert_int_equal(s->n, 2);
  check_uint(s, 4, 5);
  assert_int_equal(need(s, 101)->type, VG_KLV_T_BYTES);
  assert_true(need(s, 101)->flags & VG_KLV_F_UNDECODED);
  assert_set_encodes(s, bad, sizeof bad);
}

/* ---- tables ------------------------------------------------------------------------ */

static void test_tables(void **state)
{
  static const vg_klv_kind kinds[] = {
      VG_KLV_KIND_ST0903,          VG_KLV_KIND_ST0903_VTARGET,  VG_KLV_KIND_ST0903_ALGORITHM,
      VG_KLV_KIND_ST0903_ONTOLOGY, VG_KLV_KIND_ST0903_VTRACKER, VG_KLV_KIND_ST0903_VOBJECT,
      VG_KLV_KIND_ST0903_VFEATURE, VG_KLV_KIND_ST0903_VCHIP,
  };
  static const size_t ntags[] = {16, 29, 5, 6, 12, 4, 2, 3};
  const vg__klv_setdef *sd;
  (void)state;

  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    sd = vg__klv_setdef_of(kinds[k]);
    assert_non_null(sd);
    assert_int_equal(sd->kind, kinds[k]);
    assert_int_equal(sd->ntags, ntags[k]);
    for (size_t i = 0; i < sd->ntags; i++) {
      const vg_klv_tagdef *td = &sd->tags[i];
      if (i)
        assert_true(td->tag > sd->tags[i - 1].tag);
      assert_non_null(td->key);
      assert_non_null(td->name);
      assert_non_null(td->units);
      assert_ptr_equal(vg_klv_tagdef_find(kinds[k], td->tag), td);
      if (td->fmt == VG_KLV_FMT_SET || td->fmt == VG_KLV_FMT_SERIES)
        assert_non_null(vg__klv_setdef_of(td->child));
      if (td->fmt == VG_KLV_FMT_PACK) {
        assert_int_equal(td->child, VG_KLV_KIND_PACK);
        assert_non_null(sd->pack_dec);
        assert_non_null(sd->pack_enc);
      }
      if (td->fmt == VG_KLV_FMT_IMAPB)
        assert_true(td->hi > td->lo && td->deflen >= 1);
    }
    if (k) {
      assert_null(sd->key); /* nested sets have no key and no checksum */
      assert_int_equal(sd->cksum_tag, 0);
      assert_null(vg_klv_kind_key(kinds[k]));
    }
  }
  sd = vg__klv_setdef_of(VG_KLV_KIND_ST0903);
  assert_memory_equal(sd->key, st0903_ul, 16);
  assert_int_equal(vg_klv_key_kind(st0903_ul), VG_KLV_KIND_ST0903);
  assert_int_equal(sd->cksum_tag, 1);
  assert_int_equal(sd->version_tag, 4);
  assert_int_equal(sd->time_tag, 2);
  assert_string_equal(vg_klv_kind_name(VG_KLV_KIND_ST0903), "ST 0903");

  /* Formats that matter: the series, their children, the packs, the IMAPB ranges. */
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903, 101)->child, VG_KLV_KIND_ST0903_VTARGET);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903, 102)->fmt, VG_KLV_FMT_SERIES);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903, 11)->fmt, VG_KLV_FMT_IMAPB);
  assert_true(vg_klv_tagdef_find(VG_KLV_KIND_ST0903, 11)->hi == 180.0);
  assert_true(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTARGET, 10)->lo == -19.2);
  assert_true(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTARGET, 12)->hi == 19000.0);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTARGET, 17)->fmt, VG_KLV_FMT_PACK);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTARGET, 107)->child,
                   VG_KLV_KIND_ST0903_VOBJECT);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTRACKER, 10)->fmt, VG_KLV_FMT_PACK);
  assert_null(vg_klv_tagdef_find(VG_KLV_KIND_ST0903_VTARGET, 23));
  assert_null(vg_klv_tagdef_find(VG_KLV_KIND_ST0903, 14));
}

int test_klv_st0903_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_jmisb_messages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_jmisb_bad_checksum, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nested_reference, setup, teardown),
      cmocka_unit_test_setup_teardown(test_target_location, setup, teardown),
      cmocka_unit_test_setup_teardown(test_boundary_series_and_fpa, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_series, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
  };
  return cmocka_run_group_tests_name("klv.st0903", tests, NULL, NULL);
}
