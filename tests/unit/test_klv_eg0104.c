/*
 * EG 0104 (Predator UAV Basic Universal Set): packets assembled here, item
 * by item, from the keys as KWIVER, jMISB and klvdata print them (kept in
 * this file on purpose, apart from lib/klv/eg0104.c, so that a wrong key in
 * the library fails here) and from IEEE 754 encodings of known values.
 *
 * Covered: every key of the table with its tag and value (KWIVER's
 * tests/test_klv_0104.cxx packet, rebuilt byte for byte), float/double
 * widths, NaN / -0.0 / infinity, the version byte of keys, unknown keys
 * rewritten byte for byte, duplicates, bad lengths, truncation inside the
 * set (read on exact-size heap copies so the sanitizers see any overread),
 * the item-count limit, encoding of built items, and the pose record.
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "klv/klv_int.h"
#include "vigia/klv.h"

/* The pseudo-tag of unknown items (eg0104.c). */
#define TAG_UNKNOWN 0xFFFFFFFFu

/* EG 0104.5 §4.1 universal set key. */
static const uint8_t UL[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x01, 0x01, 0x01,
                               0x0E, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00};

/* ---- the keys (KWIVER klv_0104.cxx / test_klv_0104.cxx, jMISB PredatorMetadataConstants) ---- */

#define K(b7, b8, b9, b10, b11, b12, b13, b14, b15) \
  {0x06, 0x0E, 0x2B, 0x34, 0x01, 0x01, 0x01, b7, b8, b9, b10, b11, b12, b13, b14, b15}

enum wire { W_F32, W_F64, W_U64, W_STR, W_RAW };

typedef struct fixture {
  uint32_t tag;  /* the ST 0601 tag of the same meaning, or 1001.. */
  uint8_t key[16];
  enum wire w;
  double f;      /* W_F32 / W_F64 */
  uint64_t u;    /* W_U64 */
  const char *s; /* W_STR; W_RAW: the bytes, length in u */
} fixture;

/*
 * KWIVER's packet (tests/test_klv_0104.cxx, read_write_0104_packet) in its
 * order, with its values. Its header is 06 0E ... 82 02 E2: 738 value bytes.
 */
static const fixture KWIVER[] = {
    {10, K(0x01, 0x01, 0x01, 0x20, 0x01, 0x00, 0x00, 0x00, 0x00), W_STR, 0, 0, "MQ1-B"},
    {3, K(0x01, 0x01, 0x05, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00), W_STR, 0, 0, "42"},
    {11, K(0x01, 0x04, 0x20, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00), W_STR, 0, 0, "EO"},
    {16, K(0x02, 0x04, 0x20, 0x02, 0x01, 0x01, 0x08, 0x00, 0x00), W_F32, 144.571298f, 0, NULL},
    {17, K(0x07, 0x04, 0x20, 0x02, 0x01, 0x01, 0x0A, 0x01, 0x00), W_F32, 152.643626f, 0, NULL},
    {12, K(0x01, 0x07, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00), W_STR, 0, 0, "UTM"},
    {15, K(0x01, 0x07, 0x01, 0x02, 0x01, 0x02, 0x02, 0x00, 0x00), W_F32, 14190.7195f, 0, NULL},
    {13, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x02, 0x04, 0x02, 0x00), W_F64, 60.176822966978335, 0, NULL},
    {14, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x02, 0x06, 0x02, 0x00), W_F64, 128.42675904204452, 0, NULL},
    {23, K(0x01, 0x07, 0x01, 0x02, 0x01, 0x03, 0x02, 0x00, 0x00), W_F64, -10.542388633146132, 0, NULL},
    {24, K(0x01, 0x07, 0x01, 0x02, 0x01, 0x03, 0x04, 0x00, 0x00), W_F64, 29.157890122923014, 0, NULL},
    {82, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x07, 0x01, 0x00), W_F64, -10.5796380, 0, NULL},
    {84, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x08, 0x01, 0x00), W_F64, -10.5661816, 0, NULL},
    {86, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x09, 0x01, 0x00), W_F64, -10.5527275, 0, NULL},
    {88, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x0A, 0x01, 0x00), W_F64, -10.5392712, 0, NULL},
    {83, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x0B, 0x01, 0x00), W_F64, 29.1273678, 0, NULL},
    {85, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x0C, 0x01, 0x00), W_F64, 29.1408242, 0, NULL},
    {87, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x0D, 0x01, 0x00), W_F64, 29.1542783, 0, NULL},
    {89, K(0x03, 0x07, 0x01, 0x02, 0x01, 0x03, 0x0E, 0x01, 0x00), W_F64, 29.1677346, 0, NULL},
    {25, K(0x0A, 0x07, 0x01, 0x02, 0x01, 0x03, 0x16, 0x00, 0x00), W_F32, 3216.03723f, 0, NULL},
    {21, K(0x01, 0x07, 0x01, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00), W_F32, 68590.9832f, 0, NULL},
    {22, K(0x01, 0x07, 0x01, 0x09, 0x02, 0x01, 0x00, 0x00, 0x00), W_F32, 722.819867f, 0, NULL},
    {1001, K(0x01, 0x07, 0x01, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00), W_F32, 176.865437f, 0, NULL},
    {1002, K(0x01, 0x07, 0x01, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00), W_F32, 160.719211f, 0, NULL},
    {1003, K(0x01, 0x07, 0x01, 0x10, 0x01, 0x03, 0x00, 0x00, 0x00), W_F32, 348.792324f, 0, NULL},
    {7, K(0x07, 0x07, 0x01, 0x10, 0x01, 0x04, 0x00, 0x00, 0x00), W_F32, 3.40586566f, 0, NULL},
    {6, K(0x07, 0x07, 0x01, 0x10, 0x01, 0x05, 0x00, 0x00, 0x00), W_F32, -0.431531724f, 0, NULL},
    {5, K(0x07, 0x07, 0x01, 0x10, 0x01, 0x06, 0x00, 0x00, 0x00), W_F32, 159.974365f, 0, NULL},
    {2, K(0x03, 0x07, 0x02, 0x01, 0x01, 0x01, 0x05, 0x00, 0x00), W_U64, 0, 0x000459F4A6AA4AA8ull, NULL},
    {1004, K(0x01, 0x07, 0x02, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00), W_STR, 0, 0, "19950416T134454"},
    {1005, K(0x01, 0x07, 0x02, 0x01, 0x02, 0x07, 0x01, 0x00, 0x00), W_STR, 0, 0, "19950416T134454"},
    {48,
     {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x03, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x03, 0x02, 0x00, 0x00, 0x00},
     W_RAW, 0, 0, ""},
};
#define NKWIVER (sizeof KWIVER / sizeof KWIVER[0])

/* Index of @p tag in KWIVER[] (its key is the one to use for that tag). */
static const fixture *fx(uint32_t tag)
{
  for (size_t i = 0; i < NKWIVER; i++)
    if (KWIVER[i].tag == tag)
      return &KWIVER[i];
  fail_msg("no fixture for tag %u", tag);
  return NULL;
}

/* ---- byte assembly --------------------------------------------------------------- */

static void put(vg_buf *b, const void *p, size_t n) { assert_int_equal(vg_buf_append(b, p, n), VG_OK); }

static void put_be(vg_buf *b, uint64_t v, size_t n)
{
  uint8_t t[8];
  for (size_t i = 0; i < n; i++)
    t[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  put(b, t, n);
}

static void put_ber(vg_buf *b, size_t n)
{
  if (n < 0x80) {
    put_be(b, n, 1);
  } else if (n < 0x100) {
    put_be(b, 0x81, 1);
    put_be(b, n, 1);
  } else {
    put_be(b, 0x82, 1);
    put_be(b, n, 2);
  }
}

static uint32_t f32_bits(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static uint64_t f64_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* key | length | value of one fixture item. */
static void put_item(vg_buf *b, const fixture *f)
{
  put(b, f->key, 16);
  switch (f->w) {
  case W_F32:
    put_ber(b, 4);
    put_be(b, f32_bits((float)f->f), 4);
    break;
  case W_F64:
    put_ber(b, 8);
    put_be(b, f64_bits(f->f), 8);
    break;
  case W_U64:
    put_ber(b, 8);
    put_be(b, f->u, 8);
    break;
  case W_STR:
    put_ber(b, strlen(f->s));
    put(b, f->s, strlen(f->s));
    break;
  case W_RAW:
    put_ber(b, (size_t)f->u);
    put(b, f->s, (size_t)f->u);
    break;
  }
}

/* An item from its parts: key (with byte 7 replaced when ver >= 0), raw BER length bytes, value. */
static void put_raw_item(vg_buf *b, const uint8_t key[16], int ver, const uint8_t *len, size_t nlen,
                         const void *val, size_t nval)
{
  uint8_t k[16];
  memcpy(k, key, 16);
  if (ver >= 0)
    k[7] = (uint8_t)ver;
  put(b, k, 16);
  put(b, len, nlen);
  put(b, val, nval);
}

/* Wraps a set into a packet (UL, minimal BER length, value) in @p pkt. */
static void wrap(vg_buf *pkt, const vg_buf *set)
{
  vg_buf_reset(pkt);
  put(pkt, UL, 16);
  put_ber(pkt, set->len);
  put(pkt, set->data, set->len);
}

/* An exact-size heap copy, so that ASan reports any byte read past it. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
  uint8_t *c = malloc(n ? n : 1);
  assert_non_null(c);
  if (n)
    memcpy(c, p, n);
  return c;
}

static const vg_klv_item *must_find(const vg_klv_packet *p, uint32_t tag)
{
  const vg_klv_item *it = vg_klv_find(&p->set, tag);
  if (!it)
    fail_msg("tag %u missing", tag);
  return it;
}

/* Decodes @p n bytes (from an exact-size copy) and expects success over all of them. */
static const vg_klv_packet *decode_ok(vg_klv_decoder *d, uint8_t **copy, const uint8_t *p, size_t n)
{
  const vg_klv_packet *pkt = NULL;
  size_t used = 0;
  int rc;
  *copy = exact_copy(p, n);
  rc = vg_klv_decode(d, &pkt, *copy, n, &used);
  if (rc != VG_OK)
    fail_msg("decode: %s: %s", vg_err_name(rc), vg_error_last());
  assert_int_equal(used, n);
  assert_non_null(pkt);
  return pkt;
}

/* Encodes @p pkt and expects exactly @p want. */
static void expect_encode(const vg_klv_packet *pkt, const uint8_t *want, size_t n)
{
  vg_buf out;
  int rc;
  vg_buf_init(&out, 1 << 20);
  rc = vg_klv_encode(&out, pkt);
  if (rc != VG_OK)
    fail_msg("encode: %s: %s", vg_err_name(rc), vg_error_last());
  assert_int_equal(out.len, n);
  assert_memory_equal(out.data, want, n);
  vg_buf_free(&out);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_table(void **state)
{
  const vg__klv_setdef *sd = &vg__klv_eg0104;
  (void)state;
  assert_int_equal(sd->kind, VG_KLV_KIND_EG0104);
  assert_string_equal(sd->name, "EG 0104");
  assert_memory_equal(sd->key, UL, 16);
  assert_int_equal(sd->cksum_tag, 0);
  assert_int_equal(sd->version_tag, 0);
  assert_int_equal(sd->time_tag, 0);
  assert_non_null(sd->set_dec);
  assert_non_null(sd->set_enc);
  assert_int_equal(sd->ntags, NKWIVER); /* KWIVER's 32 keys, no more, no fewer */
  for (size_t i = 0; i < sd->ntags; i++) {
    const vg_klv_tagdef *td = &sd->tags[i];
    if (i)
      assert_true(td->tag > sd->tags[i - 1].tag); /* sorted, no duplicate */
    assert_non_null(td->key);
    assert_non_null(td->name);
    assert_non_null(td->units);
    assert_ptr_equal(vg_klv_tagdef_find(VG_KLV_KIND_EG0104, td->tag), td);
    fx(td->tag); /* every tag has a key in this file */
  }
  assert_ptr_equal(vg__klv_setdef_of(VG_KLV_KIND_EG0104), sd);
  assert_int_equal(vg_klv_key_kind(UL), VG_KLV_KIND_EG0104);
  assert_string_equal(vg_klv_kind_name(VG_KLV_KIND_EG0104), "EG 0104");
  /* Natural units: angles in degrees, distances in metres, time in microseconds. */
  assert_string_equal(vg_klv_tagdef_find(VG_KLV_KIND_EG0104, 13)->units, "deg");
  assert_string_equal(vg_klv_tagdef_find(VG_KLV_KIND_EG0104, 21)->units, "m");
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_EG0104, 2)->fmt, VG_KLV_FMT_TIME);
}

/* KWIVER's packet: every key, every value, and the same bytes back. */
static void test_kwiver_packet(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  static const uint8_t hdr[] = {0x82, 0x02, 0xE2};
  (void)state;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  for (size_t i = 0; i < NKWIVER; i++)
    put_item(&set, &KWIVER[i]);
  assert_int_equal(set.len, 0x2E2);
  wrap(&pkt, &set);
  assert_memory_equal(pkt.data + 16, hdr, 3);
  /* Spot checks of the assembly against KWIVER's printed bytes. */
  assert_int_equal(f32_bits(159.974365f), 0x431FF970u);
  assert_true(f64_bits(60.176822966978335) == 0x404E16A2228E2D44ull);
  assert_true(f64_bits(-10.542388633146132) == 0xC02515B3F6822B68ull);

  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->kind, VG_KLV_KIND_EG0104);
  assert_memory_equal(p->key, UL, 16);
  assert_int_equal(p->value_len, 0x2E2);
  assert_int_equal(p->total_len, pkt.len);
  assert_int_equal(p->cksum, VG_KLV_CK_NONE);
  assert_int_equal(p->flags, 0);
  assert_int_equal(p->set.kind, VG_KLV_KIND_EG0104);
  assert_int_equal(p->set.n, NKWIVER);
  for (size_t i = 0; i < NKWIVER; i++) {
    const fixture *f = &KWIVER[i];
    const vg_klv_item *it = &p->set.items[i];
    assert_int_equal(it->tag, f->tag);
    assert_int_equal(it->flags, 0);
    assert_int_equal(it->special, VG_KLV_SP_NONE);
    switch (f->w) {
    case W_F32:
      assert_int_equal(it->type, VG_KLV_T_REAL);
      assert_int_equal(it->len, 4);
      assert_true(it->v.f == (double)(float)f->f); /* exact: a float widens exactly */
      break;
    case W_F64:
      assert_int_equal(it->type, VG_KLV_T_REAL);
      assert_int_equal(it->len, 8);
      assert_true(it->v.f == f->f);
      break;
    case W_U64:
      assert_int_equal(it->type, VG_KLV_T_TIME);
      assert_true(it->v.u == f->u);
      break;
    case W_STR:
      assert_int_equal(it->type, VG_KLV_T_STRING);
      assert_int_equal(it->v.s.n, strlen(f->s));
      assert_memory_equal(it->v.s.p, f->s, strlen(f->s));
      break;
    case W_RAW:
      assert_int_equal(it->type, VG_KLV_T_SET);
      assert_non_null(it->child);
      assert_int_equal(it->child->kind, VG_KLV_KIND_ST0102);
      assert_int_equal(it->child->n, 0);
      break;
    }
    /* The item's offset points at its key in the packet. */
    assert_memory_equal(copy + it->offset, f->key, 16);
    if (f->w != W_RAW)
      assert_ptr_equal(it->raw, copy + it->offset + 17);
  }
  /* The MISB example time: 2008-10-24T00:13:29.913Z. */
  assert_true(must_find(p, 2)->v.u == 1224807209913000ull);
  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* A packet shaped like the AP Hill ones (23 items, their order, their kinds of value). */
static void test_pose(void **state)
{
  static const uint32_t order[] = {10, 2,  13, 14, 15, 7,  6,  5,  16, 17, 21, 1002,
                                   1003, 23, 24, 82, 83, 84, 85, 86, 87, 88, 89};
  static const double val[] = {0, 0, 38.15993, -77.356214, 1984.6, -4.768066, 0.807495,
                               97.959595, 0.8, 0.6, 3430.3745, -1.964837, -35.347736,
                               38.185089215, -77.358119805, 38.1853577, -77.3584159,
                               38.1853832, -77.3578661, 38.1848247, -77.3578281,
                               38.1847995, -77.3583698};
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  vg_klv_pose pose;
  (void)state;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    fixture f = *fx(order[i]);
    if (order[i] == 10) {
      f.s = "ABCD";
    } else if (order[i] == 2) {
      f.u = 1221665012027000ull; /* 2008-09-17T15:23:32.027Z */
    } else {
      f.f = val[i];
      f.w = (order[i] >= 13 && order[i] <= 14) || order[i] >= 23 ? W_F64 : W_F32;
      if (order[i] >= 1000)
        f.w = W_F32;
    }
    put_item(&set, &f);
  }
  wrap(&pkt, &set);
  assert_int_equal(pkt.len, 554); /* the size of every AP Hill packet */
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 23);
  assert_int_equal(vg_klv_pose_from_packet(&pose, p), VG_OK);
  assert_int_equal(pose.source, VG_KLV_KIND_EG0104);
  assert_true(vg_klv_pose_has(&pose, VG_POSE_TIME));
  assert_true(pose.time_us == 1221665012027000ull);
  assert_true(vg_klv_pose_has(&pose, VG_POSE_SENSOR_LAT));
  assert_true(pose.sensor_lat == 38.15993);
  assert_true(pose.sensor_lon == -77.356214);
  assert_true(pose.sensor_alt_msl == (double)1984.6f);
  assert_true(pose.platform_heading == (double)97.959595f);
  assert_true(pose.platform_pitch == (double)0.807495f);
  assert_true(pose.platform_roll == (double)-4.768066f);
  assert_true(pose.hfov == (double)0.8f && pose.vfov == (double)0.6f);
  assert_true(pose.slant_range == (double)3430.3745f);
  assert_true(pose.frame_center_lat == 38.185089215);
  assert_true(pose.frame_center_lon == -77.358119805);
  assert_true(vg_klv_pose_has(&pose, VG_POSE_CORNERS));
  assert_int_equal(pose.corners_full, 1);
  assert_true(pose.corner_lat[0] == 38.1853577 && pose.corner_lon[0] == -77.3584159);
  assert_true(pose.corner_lat[3] == 38.1847995 && pose.corner_lon[3] == -77.3583698);
  assert_string_equal(pose.platform_designation, "ABCD");
  /* Angle to North and Obliquity are earth-referenced: not the relative angles 18/19. */
  assert_false(vg_klv_pose_has(&pose, VG_POSE_SENSOR_REL_AZ));
  assert_false(vg_klv_pose_has(&pose, VG_POSE_SENSOR_REL_EL));
  assert_true(must_find(p, 1002)->v.f == (double)-1.964837f);
  assert_true(must_find(p, 1003)->v.f == (double)-35.347736f);
  /* ... but carried into the pose as the absolute pointing. */
  assert_true(vg_klv_pose_has(&pose, VG_POSE_SENSOR_ABS_AZ));
  assert_true(pose.sensor_abs_az == (double)-1.964837f);
  assert_true(vg_klv_pose_has(&pose, VG_POSE_SENSOR_ABS_EL));
  assert_true(pose.sensor_abs_el == (double)-35.347736f);
  assert_false(vg_klv_pose_has(&pose, VG_POSE_SENSOR_ABS_ROLL));
  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* Floats where doubles are usual and the reverse: both read, both written back as received. */
static void test_widths(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  fixture lat = *fx(13), hdg = *fx(5);
  (void)state;
  lat.w = W_F32;
  lat.f = 38.25f;
  hdg.w = W_F64;
  hdg.f = 359.99999999;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  put_item(&set, &lat);
  put_item(&set, &hdg);
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 2);
  assert_int_equal(p->set.items[0].len, 4);
  assert_true(p->set.items[0].v.f == 38.25);
  assert_int_equal(p->set.items[1].len, 8);
  assert_true(p->set.items[1].v.f == 359.99999999);
  assert_int_equal(p->set.items[0].flags | p->set.items[1].flags, 0);
  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* NaN is missing, -0.0 is zero (no hemisphere flip), infinities are specials; all rewritten exactly. */
static void test_nan_negzero_inf(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  double v = 1;
  /* NaNs as encoders make them: x86's default NaN is negative. */
  static const uint8_t nan64_neg[8] = {0xFF, 0xF8, 0, 0, 0, 0, 0, 0};
  static const uint8_t nan32[4] = {0x7F, 0xC0, 0x00, 0x00};
  static const uint8_t nan32_payload[4] = {0x7F, 0x80, 0x00, 0x01}; /* signalling, payload 1 */
  static const uint8_t negzero64[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t negzero32[4] = {0x80, 0, 0, 0};
  static const uint8_t inf32[4] = {0x7F, 0x80, 0, 0};
  static const uint8_t ninf64[8] = {0xFF, 0xF0, 0, 0, 0, 0, 0, 0};
  static const uint8_t l8[1] = {8}, l4[1] = {4};
  (void)state;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  put_raw_item(&set, fx(13)->key, -1, l8, 1, nan64_neg, 8);      /* sensor lat NaN */
  put_raw_item(&set, fx(5)->key, -1, l4, 1, nan32, 4);           /* heading NaN */
  put_raw_item(&set, fx(15)->key, -1, l4, 1, nan32_payload, 4);  /* altitude sNaN */
  put_raw_item(&set, fx(14)->key, -1, l8, 1, negzero64, 8);      /* sensor lon -0.0 */
  put_raw_item(&set, fx(23)->key, -1, l4, 1, negzero32, 4);      /* frame lat -0.0f */
  put_raw_item(&set, fx(16)->key, -1, l4, 1, negzero32, 4);      /* hfov -0.0f: range [0, 180] */
  put_raw_item(&set, fx(21)->key, -1, l4, 1, inf32, 4);          /* slant range +inf */
  put_raw_item(&set, fx(24)->key, -1, l8, 1, ninf64, 8);         /* frame lon -inf */
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 8);

  for (int i = 0; i < 3; i++) {
    it = &p->set.items[i];
    assert_int_equal(it->type, VG_KLV_T_NONE);
    assert_int_equal(it->special, VG_KLV_SP_NAN);
    assert_int_equal(it->flags, 0);
  }
  assert_int_equal(vg_klv_get_real(&p->set, 13, &v), VG_E_RANGE);
  assert_true(v == 1); /* untouched */

  it = must_find(p, 14);
  assert_int_equal(it->type, VG_KLV_T_REAL);
  assert_true(it->v.f == 0.0);
  assert_true(signbit(it->v.f)); /* kept for rewriting, and harmless: -0 == 0 */
  assert_int_equal(it->flags, 0);
  it = must_find(p, 23);
  assert_int_equal(it->type, VG_KLV_T_REAL);
  assert_true(it->v.f == 0.0);
  assert_int_equal(it->flags, 0);
  it = must_find(p, 16);
  assert_int_equal(it->flags, 0); /* -0.0 is inside [0, 180] */
  assert_int_equal(vg_klv_get_real(&p->set, 14, &v), VG_OK);
  assert_true(v == 0.0);

  it = must_find(p, 21);
  assert_int_equal(it->type, VG_KLV_T_NONE);
  assert_int_equal(it->special, VG_KLV_SP_POS_INF);
  assert_int_equal(it->flags, 0);
  it = must_find(p, 24);
  assert_int_equal(it->special, VG_KLV_SP_NEG_INF);
  assert_int_equal(vg_klv_get_real(&p->set, 24, &v), VG_E_RANGE);
  assert_int_equal(p->flags, 0);

  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* Unknown keys stay in place, whole, and go back byte for byte (even a non-minimal length). */
static void test_unknown_roundtrip(void **state)
{
  static const uint8_t ukey1[16] = {0x06, 0x0E, 0x2B, 0x34, 0x01, 0x01, 0x01, 0x01,
                                    0x0E, 0x01, 0x01, 0x03, 0x7F, 0x00, 0x00, 0x00};
  static const uint8_t ukey2[16] = {0x06, 0x0E, 0x2B, 0x34, 0x01, 0x01, 0x01, 0x03,
                                    0x07, 0x01, 0x02, 0x01, 0x02, 0x04, 0x03, 0x00};
  static const uint8_t val1[5] = {1, 2, 3, 4, 5};
  static const uint8_t len1[1] = {5}, len2[2] = {0x81, 0x03}, len0[1] = {0};
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  (void)state;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  put_item(&set, fx(2));
  put_raw_item(&set, ukey1, -1, len1, 1, val1, 5);
  put_item(&set, fx(13));
  put_raw_item(&set, ukey2, -1, len2, 2, "abc", 3); /* near a real key: differs in byte 14 */
  put_raw_item(&set, ukey1, -1, len0, 1, "", 0);     /* the same unknown key again, empty */
  put_item(&set, fx(14));
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 6);

  it = &p->set.items[1];
  assert_int_equal(it->tag, TAG_UNKNOWN);
  assert_true(it->flags & VG_KLV_F_UNKNOWN);
  assert_int_equal(it->type, VG_KLV_T_BYTES);
  assert_int_equal(it->len, 16 + 1 + 5); /* the whole item */
  assert_ptr_equal(it->raw, copy + it->offset);
  assert_memory_equal(it->raw, ukey1, 16);
  assert_memory_equal(it->raw + 17, val1, 5);

  it = &p->set.items[3];
  assert_int_equal(it->tag, TAG_UNKNOWN);
  assert_true(it->flags & VG_KLV_F_UNKNOWN);
  assert_int_equal(it->len, 16 + 2 + 3);
  assert_memory_equal(it->raw, ukey2, 16);

  it = &p->set.items[4];
  assert_true(it->flags & VG_KLV_F_UNKNOWN);
  assert_int_equal(it->len, 17);

  assert_int_equal(p->set.items[2].tag, 13);
  assert_int_equal(p->set.items[5].tag, 14);
  assert_null(vg_klv_tagdef_find(VG_KLV_KIND_EG0104, TAG_UNKNOWN));
  assert_false(p->flags & VG_KLV_P_DUPLICATE); /* unknown repeats are not duplicates of a tag */

  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* Byte 7 of an item key (version) takes no part in matching; the encoder writes the table's. */
static void test_version_byte(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt, canon;
  uint8_t *copy;
  const vg_klv_packet *p;
  uint8_t v8[8];
  static const uint8_t l8[1] = {8};
  (void)state;
  for (int i = 0; i < 8; i++)
    v8[i] = (uint8_t)(f64_bits(38.5) >> (56 - 8 * i));
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  vg_buf_init(&canon, 1 << 20);
  put_raw_item(&set, fx(13)->key, 0x01, l8, 1, v8, 8); /* table: 0x03 */
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 1);
  assert_int_equal(p->set.items[0].tag, 13);
  assert_true(p->set.items[0].v.f == 38.5);
  vg_buf_reset(&set);
  put_raw_item(&set, fx(13)->key, -1, l8, 1, v8, 8);
  wrap(&canon, &set);
  expect_encode(p, canon.data, canon.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
  vg_buf_free(&canon);
}

/* Duplicates, wrong lengths, out-of-range values, zero-length items, bad text: flagged, kept. */
static void test_flags(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  fixture lat1 = *fx(13), lat2 = *fx(13), lon = *fx(14);
  static const uint8_t l5[1] = {5}, l0[1] = {0}, l2[1] = {2}, l8nm[2] = {0x81, 0x08};
  static const uint8_t five[5] = {0x40, 0x49, 0x0F, 0xDB, 0x00};
  uint8_t v8[8];
  (void)state;
  lat1.f = 10.0;
  lat2.f = 20.0;
  lon.f = 190.0; /* out of [-180, 180] */
  for (int i = 0; i < 8; i++)
    v8[i] = (uint8_t)(f64_bits(-33.5) >> (56 - 8 * i));
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  put_item(&set, &lat1);
  put_item(&set, &lat2);                                   /* duplicate */
  put_item(&set, &lon);                                    /* range */
  put_raw_item(&set, fx(5)->key, -1, l5, 1, five, 5);      /* 5-byte float */
  put_raw_item(&set, fx(15)->key, -1, l0, 1, "", 0);       /* zero length */
  put_raw_item(&set, fx(11)->key, -1, l2, 1, "\xC3\x28", 2); /* not UTF-8 */
  put_raw_item(&set, fx(23)->key, -1, l8nm, 2, v8, 8);     /* long-form length 8 */
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  assert_int_equal(p->set.n, 7);
  assert_true(p->flags & VG_KLV_P_DUPLICATE);
  assert_true(p->flags & VG_KLV_P_ITEM_FLAGS);

  assert_int_equal(p->set.items[0].flags, 0);
  assert_true(p->set.items[1].flags & VG_KLV_F_DUPLICATE);
  assert_true(vg_klv_find(&p->set, 13)->v.f == 10.0); /* the first one wins */

  it = &p->set.items[2];
  assert_int_equal(it->type, VG_KLV_T_REAL);
  assert_true(it->v.f == 190.0);
  assert_true(it->flags & VG_KLV_F_RANGE);

  it = &p->set.items[3];
  assert_int_equal(it->tag, 5);
  assert_int_equal(it->type, VG_KLV_T_BYTES);
  assert_true(it->flags & VG_KLV_F_BAD_LENGTH);
  assert_int_equal(it->len, 5);

  it = &p->set.items[4];
  assert_int_equal(it->tag, 15);
  assert_int_equal(it->type, VG_KLV_T_NONE);
  assert_int_equal(it->special, VG_KLV_SP_NONE);
  assert_int_equal(it->len, 0);
  assert_int_equal(it->flags, 0);

  it = &p->set.items[5];
  assert_int_equal(it->type, VG_KLV_T_STRING);
  assert_true(it->flags & VG_KLV_F_BAD_TEXT);

  it = &p->set.items[6];
  assert_int_equal(it->tag, 23);
  assert_true(it->v.f == -33.5);
  assert_true(it->flags & VG_KLV_F_NONMIN_LEN);

  /* Written back as received, except the long-form length, which becomes minimal. */
  {
    vg_buf want;
    static const uint8_t l8[1] = {8};
    vg_buf_init(&want, 1 << 20);
    vg_buf_reset(&set);
    put_item(&set, &lat1);
    put_item(&set, &lat2);
    put_item(&set, &lon);
    put_raw_item(&set, fx(5)->key, -1, l5, 1, five, 5);
    put_raw_item(&set, fx(15)->key, -1, l0, 1, "", 0);
    put_raw_item(&set, fx(11)->key, -1, l2, 1, "\xC3\x28", 2);
    put_raw_item(&set, fx(23)->key, -1, l8, 1, v8, 8);
    wrap(&want, &set);
    expect_encode(p, want.data, want.len);
    vg_buf_free(&want);
  }
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* The ST 0102 security set inside: decoded as a nested local set, written back. */
static void test_security_set(void **state)
{
  fixture sec = *fx(48);
  vg_klv_decoder *d = NULL;
  vg_buf set, pkt;
  uint8_t *copy;
  const vg_klv_packet *p;
  const vg_klv_item *it;
  (void)state;
  sec.s = "\x01\x01\x01"; /* tag 1 Security Classification = 1 (UNCLASSIFIED) */
  sec.u = 3;
  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&pkt, 1 << 20);
  put_item(&set, fx(2));
  put_item(&set, &sec);
  wrap(&pkt, &set);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  p = decode_ok(d, &copy, pkt.data, pkt.len);
  it = must_find(p, 48);
  assert_int_equal(it->type, VG_KLV_T_SET);
  assert_non_null(it->child);
  assert_int_equal(it->child->kind, VG_KLV_KIND_ST0102);
  assert_int_equal(it->child->n, 1);
  assert_int_equal(it->child->items[0].tag, 1);
  assert_true(it->child->items[0].v.u == 1);
  expect_encode(p, pkt.data, pkt.len);
  free(copy);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
  vg_buf_free(&pkt);
}

/* One malformed case: decode must fail with @p want, consume the packet, leave *out alone. */
static void expect_bad(vg_klv_decoder *d, const vg_buf *set, int want)
{
  vg_buf pkt;
  uint8_t *copy;
  const vg_klv_packet *sentinel = (const vg_klv_packet *)&pkt, *p = sentinel;
  const vg_klv_set *s = (const vg_klv_set *)&pkt;
  size_t used = 12345;
  int rc;
  vg_buf_init(&pkt, 1 << 20);
  wrap(&pkt, set);
  copy = exact_copy(pkt.data, pkt.len);
  vg_error_clear();
  rc = vg_klv_decode(d, &p, copy, pkt.len, &used);
  if (rc != want)
    fail_msg("got %s, want %s (%s)", vg_err_name(rc), vg_err_name(want), vg_error_last());
  assert_ptr_equal(p, sentinel);
  assert_int_equal(used, pkt.len); /* the stream can go on past it */
  assert_true(vg_error_last()[0] != '\0');
  free(copy);
  /* The set alone, through vg_klv_decode_set, on an exact-size copy too. */
  copy = exact_copy(set->data, set->len);
  rc = vg_klv_decode_set(d, &s, VG_KLV_KIND_EG0104, copy, set->len);
  assert_int_equal(rc, want);
  assert_ptr_equal(s, (const vg_klv_set *)&pkt);
  free(copy);
  vg_buf_free(&pkt);
}

static void test_truncated(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set;
  static const uint8_t l8[1] = {8}, l9[1] = {9}, l82[3] = {0x82, 0x00, 0x08};
  static const uint8_t lindef[1] = {0x80}, llong[10] = {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 8};
  uint8_t v8[8] = {0x40, 0x43, 0x14, 0x78, 0x96, 0x13, 0xd3, 0x1c};
  (void)state;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  vg_buf_init(&set, 1 << 20);

  /* The last item's value runs one byte past the set. */
  put_item(&set, fx(2));
  put_raw_item(&set, fx(13)->key, -1, l9, 1, v8, 8);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* A key cut short: 10 of its 16 bytes. */
  vg_buf_reset(&set);
  put_item(&set, fx(2));
  put(&set, fx(13)->key, 10);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* A key with no length after it. */
  vg_buf_reset(&set);
  put(&set, fx(13)->key, 16);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* A long-form length cut after its first byte. */
  vg_buf_reset(&set);
  put(&set, fx(13)->key, 16);
  put(&set, l82, 2);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* Indefinite length (0x80), forbidden in KLV. */
  vg_buf_reset(&set);
  put_raw_item(&set, fx(13)->key, -1, lindef, 1, v8, 8);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* A 9-byte length field (more than VG_BER_MAX_LEN_BYTES). */
  vg_buf_reset(&set);
  put_raw_item(&set, fx(13)->key, -1, llong, 10, v8, 8);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* A sound item followed by a single stray byte. */
  vg_buf_reset(&set);
  put_raw_item(&set, fx(13)->key, -1, l8, 1, v8, 8);
  put(&set, "\x06", 1);
  expect_bad(d, &set, VG_E_MALFORMED);

  /* The packet's own length beyond the input: truncated, nothing consumed. */
  {
    vg_buf pkt;
    uint8_t *copy;
    const vg_klv_packet *p = NULL;
    size_t used = 99;
    vg_buf_init(&pkt, 1 << 20);
    vg_buf_reset(&set);
    put_raw_item(&set, fx(13)->key, -1, l8, 1, v8, 8);
    wrap(&pkt, &set);
    copy = exact_copy(pkt.data, pkt.len - 1);
    assert_int_equal(vg_klv_decode(d, &p, copy, pkt.len - 1, &used), VG_E_TRUNCATED);
    assert_null(p);
    assert_int_equal(used, 0);
    free(copy);
    vg_buf_free(&pkt);
  }

  /* An empty set is a valid packet with no items. */
  {
    vg_buf pkt;
    uint8_t *copy;
    const vg_klv_packet *p;
    vg_buf_init(&pkt, 64);
    vg_buf_reset(&set);
    wrap(&pkt, &set);
    p = decode_ok(d, &copy, pkt.data, pkt.len);
    assert_int_equal(p->kind, VG_KLV_KIND_EG0104);
    assert_int_equal(p->set.n, 0);
    expect_encode(p, pkt.data, pkt.len);
    free(copy);
    vg_buf_free(&pkt);
  }
  vg_buf_free(&set);
  vg_klv_decoder_free(d);
}

/* VG_KLV_MAX_ITEMS: as many zero-length items as allowed decode; one more is VG_E_LIMIT. */
static void test_item_limit(void **state)
{
  vg_klv_decoder *d = NULL;
  vg_buf set;
  const vg_klv_set *s = NULL;
  uint8_t item[17];
  (void)state;
  memcpy(item, fx(15)->key, 16);
  item[16] = 0;
  vg_buf_init(&set, (size_t)(VG_KLV_MAX_ITEMS + 1) * 17);
  for (size_t i = 0; i < VG_KLV_MAX_ITEMS; i++)
    put(&set, item, 17);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_EG0104, set.data, set.len), VG_OK);
  assert_int_equal(s->n, VG_KLV_MAX_ITEMS);
  assert_true(s->items[1].flags & VG_KLV_F_DUPLICATE);
  put(&set, item, 17);
  s = NULL;
  assert_int_equal(vg_klv_decode_set(d, &s, VG_KLV_KIND_EG0104, set.data, set.len), VG_E_LIMIT);
  assert_null(s);
  vg_klv_decoder_free(d);
  vg_buf_free(&set);
}

/* A packet built from items (no raw bytes): keys from the table, widths from deflen. */
static void test_encode_built(void **state)
{
  vg_klv_item items[6];
  vg_klv_packet pkt;
  vg_buf set, want;
  fixture f;
  (void)state;
  items[0] = vg_klv_item_time(2, 1221665012027000ull);
  items[1] = vg_klv_item_real(13, 38.15993);
  items[2] = vg_klv_item_real(14, -77.356214);
  items[3] = vg_klv_item_real(5, 97.9595947265625); /* float-exact */
  items[4] = vg_klv_item_str(10, "ABCD");
  items[5] = vg_klv_item_real(1002, -1.5);
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_EG0104;
  memcpy(pkt.key, UL, 16);
  pkt.version = -1;
  pkt.set.kind = VG_KLV_KIND_EG0104;
  pkt.set.items = items;
  pkt.set.n = 6;

  vg_buf_init(&set, 1 << 20);
  vg_buf_init(&want, 1 << 20);
  f = *fx(2);
  f.u = 1221665012027000ull;
  put_item(&set, &f);
  f = *fx(13);
  f.f = 38.15993;
  put_item(&set, &f); /* deflen 8: a double */
  f = *fx(14);
  f.f = -77.356214;
  put_item(&set, &f);
  f = *fx(5);
  f.f = 97.9595947265625;
  put_item(&set, &f); /* deflen 4: a float */
  f = *fx(10);
  f.s = "ABCD";
  put_item(&set, &f);
  f = *fx(1002);
  f.f = -1.5;
  put_item(&set, &f);
  wrap(&want, &set);
  expect_encode(&pkt, want.data, want.len);

  /* A double too large for the 4-byte float its tag is written as: refused, nothing written. */
  {
    vg_buf out;
    vg_buf_init(&out, 1 << 20);
    items[3] = vg_klv_item_real(5, 1e300);
    assert_int_equal(vg_klv_encode(&out, &pkt), VG_E_RANGE);
    assert_int_equal(out.len, 0);
    /* A tag EG 0104 has no key for. */
    items[3] = vg_klv_item_real(18, 10.0);
    assert_int_equal(vg_klv_encode(&out, &pkt), VG_E_INVALID);
    assert_int_equal(out.len, 0);
    vg_buf_free(&out);
  }
  vg_buf_free(&set);
  vg_buf_free(&want);
}

int test_klv_eg0104_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),        cmocka_unit_test(test_kwiver_packet),
      cmocka_unit_test(test_pose),         cmocka_unit_test(test_widths),
      cmocka_unit_test(test_nan_negzero_inf), cmocka_unit_test(test_unknown_roundtrip),
      cmocka_unit_test(test_version_byte), cmocka_unit_test(test_flags),
      cmocka_unit_test(test_security_set), cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_item_limit),   cmocka_unit_test(test_encode_built),
  };
  return cmocka_run_group_tests_name("klv.eg0104", tests, NULL, NULL);
}
