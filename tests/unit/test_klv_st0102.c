/*
 * ST 0102 Security Metadata Local Set: the three nested sets of
 * st0102_examples.json item by item (tag, length, raw bytes, typed value,
 * enum meanings, UTF-16 object country codes), the byte-exact re-encoding
 * of each, the stand-alone packet under its own key, the tag table, the
 * coding-method tables (tags 2 and 12 differ), and malformed sets.
 */
#include "testutil.h"

#include <string.h>

#include "klv/klv_int.h"
#include "klv/st0102_int.h"
#include "vigia/klv.h"

/* The key of the stand-alone set (KWIVER klv_0102_key, jMISB KlvConstants). */
static const uint8_t st0102_ul[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x03, 0x01, 0x01,
                                      0x0E, 0x01, 0x03, 0x03, 0x02, 0x00, 0x00, 0x00};

/* Decoders of one test: vg_test_decoders_setup/teardown (testutil.h). */
typedef vg_test_decoders fixture;
#define setup vg_test_decoders_setup
#define teardown vg_test_decoders_teardown
#define unhex vg_test_unhex_or_fail

/* Asserts that item @p it holds the text @p want (UTF-8). */
static void assert_text(const vg_klv_item *it, const char *want)
{
  size_t n = strlen(want);
  if (it->type != VG_KLV_T_STRING)
    fail_msg("tag %u: type %u, want STRING \"%s\"", (unsigned)it->tag, it->type, want);
  if (it->v.s.n != n || memcmp(it->v.s.p, want, n) != 0)
    fail_msg("tag %u: \"%.*s\", want \"%s\"", (unsigned)it->tag, (int)it->v.s.n, it->v.s.p, want);
}

/* The encoding of a set equals @p want. */
static void assert_reencodes(const vg_klv_set *set, const uint8_t *want, size_t n)
{
  vg_buf b;
  vg_buf_init(&b, 1 << 20);
  assert_int_equal(vg_klv_encode_set(&b, set), VG_OK);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, want, n);
  vg_buf_free(&b);
}

/* Checks one decoded item against its description in the JSON file. */
static void check_item(const vg_klv_item *it, const json_t *want)
{
  uint32_t tag = (uint32_t)json_integer_value(json_object_get(want, "tag"));
  size_t len = (size_t)json_integer_value(json_object_get(want, "length"));
  const json_t *val = json_object_get(want, "value");
  uint8_t *raw = NULL;
  size_t rawn = 0;

  assert_int_equal(it->tag, tag);
  assert_int_equal(it->len, len);
  raw = unhex(json_string_value(json_object_get(want, "value_hex")), &rawn);
  assert_int_equal(rawn, len);
  if (len)
    assert_memory_equal(it->raw, raw, len);
  free(raw);

  if (len == 0) {
    /* Cheyenne tags 4 and 5: empty text. */
    assert_text(it, "");
    assert_int_equal(it->flags, 0);
    return;
  }
  switch (tag) {
  case 1:
  case 2:
  case 12: {
    uint64_t code = (uint64_t)json_integer_value(json_object_get(val, "code"));
    const char *meaning = json_string_value(json_object_get(val, "meaning"));
    const char *got;
    assert_int_equal(it->type, VG_KLV_T_UINT);
    assert_int_equal(it->v.u, code);
    got = vg__klv_st0102_enum_meaning(tag, it->v.u);
    assert_non_null(got);
    assert_string_equal(got, meaning);
    break;
  }
  case 22:
    assert_int_equal(it->type, VG_KLV_T_UINT);
    assert_int_equal(it->v.u, (uint64_t)json_integer_value(val));
    break;
  case 15:
  case 16:
  case 17:
  case 18:
  case 21:
    /* Opaque identifiers: the raw bytes checked above are the value. */
    assert_int_equal(it->type, VG_KLV_T_BYTES);
    break;
  default: /* text, tag 13 decoded from UTF-16BE */
    assert_text(it, json_string_value(val));
    break;
  }
  assert_int_equal(it->flags, 0);
}

/* Every set of the file, item by item, then re-encoded byte for byte. */
static void test_examples(void **state)
{
  json_t *root = vg_test_load_json("klv/vectors/st0102_examples.json");
  json_t *sets = json_object_get(root, "sets");
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  size_t i;
  json_t *s;

  assert_int_equal(json_array_size(sets), 3);
  json_array_foreach(sets, i, s) {
    const json_t *items = json_object_get(s, "items");
    size_t n = 0, k;
    uint8_t *buf = unhex(json_string_value(json_object_get(s, "tag48_value_hex")), &n);
    const vg_klv_set *set = NULL;
    const json_t *w;

    assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, buf, n), VG_OK);
    assert_non_null(set);
    assert_int_equal(set->kind, VG_KLV_KIND_ST0102);
    assert_int_equal(set->series, 0);
    assert_int_equal(set->n, json_array_size(items));
    json_array_foreach(items, k, w) check_item(&set->items[k], w);

    /* Derived by hand from the bytes: each set's country fields. */
    if (i == 0) {
      assert_text(vg_klv_find(set, 3), "//USA");
      assert_text(vg_klv_find(set, 13), "USA");
      assert_int_equal(vg_klv_find(set, 22)->v.u, 10);
    } else if (i == 1) {
      assert_text(vg_klv_find(set, 13), "US");
      assert_int_equal(vg_klv_find(set, 2)->v.u, 13);
      assert_text(vg_klv_find(set, 24), "1970-01-01");
    } else {
      assert_text(vg_klv_find(set, 3), "//CA");
      assert_null(vg_klv_find(set, 13));
      assert_int_equal(vg_klv_find(set, 21)->len, 16);
    }
    assert_reencodes(set, buf, n);
    free(buf);
  }
  json_decref(root);
}

/* The same set stand-alone: key, BER length, value; no checksum item. */
static void test_standalone_packet(void **state)
{
  static const char *set_hex =
      "01010102010d03042f2f555304022f2f050b544553542d4341564541540602555307074b69747761726508"
      "04544553540904544553540a0831393730303130310b012e0c010d0d04005500530e04544553541602000c"
      "170a313937302d30312d3031180a313937302d30312d3031";
  vg_klv_decoder *d = ((fixture *)*state)->strict; /* strict: a checksum demand would fail */
  size_t n = 0, consumed = 0;
  uint8_t *val = unhex(set_hex, &n);
  uint8_t pkt[256];
  const vg_klv_packet *p = NULL;
  vg_buf b;

  assert_int_equal(n, 110);
  memcpy(pkt, st0102_ul, 16);
  pkt[16] = (uint8_t)n;
  memcpy(pkt + 17, val, n);
  assert_int_equal(vg_klv_decode(d, &p, pkt, 17 + n, &consumed), VG_OK);
  assert_int_equal(consumed, 17 + n);
  assert_int_equal(p->kind, VG_KLV_KIND_ST0102);
  assert_memory_equal(p->key, st0102_ul, 16);
  assert_int_equal(p->value_len, n);
  assert_int_equal(p->cksum, VG_KLV_CK_NONE);
  assert_int_equal(p->version, 12);
  assert_int_equal(p->set.n, 17);
  assert_int_equal(p->flags & (VG_KLV_P_CHECKSUM_MISSING | VG_KLV_P_CHECKSUM_BAD), 0);
  assert_text(vg_klv_find(&p->set, 7), "Kitware");

  vg_buf_init(&b, 1 << 20);
  assert_int_equal(vg_klv_encode(&b, p), VG_OK);
  assert_int_equal(b.len, 17 + n);
  assert_memory_equal(b.data, pkt, 17 + n);
  vg_buf_free(&b);
  free(val);
}

/* The key, the kind, the name and the tag table. */
static void test_table(void **state)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(VG_KLV_KIND_ST0102);
  const vg_klv_tagdef *td;
  (void)state;

  assert_ptr_equal(sd, &vg__klv_st0102);
  assert_string_equal(vg_klv_kind_name(VG_KLV_KIND_ST0102), "ST 0102");
  assert_non_null(vg_klv_kind_key(VG_KLV_KIND_ST0102));
  assert_memory_equal(vg_klv_kind_key(VG_KLV_KIND_ST0102), st0102_ul, 16);
  assert_int_equal(vg_klv_key_kind(st0102_ul), VG_KLV_KIND_ST0102);
  assert_int_equal(sd->cksum_tag, 0);
  assert_int_equal(sd->version_tag, 22);
  assert_int_equal(sd->time_tag, 0);

  /* Exactly tags 1..24 (ST 0102.12), sorted, each named. */
  assert_int_equal(sd->ntags, 24);
  for (size_t i = 0; i < sd->ntags; i++) {
    assert_int_equal(sd->tags[i].tag, i + 1);
    assert_non_null(sd->tags[i].key);
    assert_non_null(sd->tags[i].name);
    assert_non_null(sd->tags[i].units);
    assert_ptr_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, (uint32_t)(i + 1)), &sd->tags[i]);
  }
  assert_null(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 0));
  assert_null(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 25));

  td = vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 13);
  assert_int_equal(td->fmt, VG_KLV_FMT_UTF16);
  td = vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 1);
  assert_int_equal(td->fmt, VG_KLV_FMT_UINT);
  assert_int_equal(td->maxlen, 1);
  /* KWIVER and jMISB: 15..18 are 32-byte UMIDs, 19 the stream id, 20 the TS id. */
  for (uint32_t t = 15; t <= 18; t++) {
    td = vg_klv_tagdef_find(VG_KLV_KIND_ST0102, t);
    assert_int_equal(td->fmt, VG_KLV_FMT_BYTES);
    assert_int_equal(td->minlen, 32);
    assert_int_equal(td->maxlen, 32);
  }
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 19)->maxlen, 1);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 20)->maxlen, 2);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 21)->maxlen, 16);
  assert_int_equal(vg_klv_tagdef_find(VG_KLV_KIND_ST0102, 22)->deflen, 2);
}

/* Classification and the two coding-method tables. */
static void test_enum_meanings(void **state)
{
  (void)state;
  assert_null(vg__klv_st0102_enum_meaning(1, 0));
  assert_string_equal(vg__klv_st0102_enum_meaning(1, 1), "UNCLASSIFIED");
  assert_string_equal(vg__klv_st0102_enum_meaning(1, 2), "RESTRICTED");
  assert_string_equal(vg__klv_st0102_enum_meaning(1, 3), "CONFIDENTIAL");
  assert_string_equal(vg__klv_st0102_enum_meaning(1, 4), "SECRET");
  assert_string_equal(vg__klv_st0102_enum_meaning(1, 5), "TOP SECRET");
  assert_null(vg__klv_st0102_enum_meaning(1, 6));
  assert_null(vg__klv_st0102_enum_meaning(1, UINT64_MAX));

  /* Tag 2 (Table 2) and tag 12 (Table 3) share codes 1, 2, 6, 7, 13..15 ... */
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 1), "ISO-3166 Two Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 1), "ISO-3166 Two Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 7), "1059 Three Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 7), "1059 Three Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 13), "GENC Two Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 13), "GENC Two Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 15), "GENC Numeric");
  /* ... but not 3..5, and only tag 2 has mixed methods, only tag 12 AdminSub. */
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 3), "FIPS 10-4 Two Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 3), "ISO-3166 Numeric");
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 5), "ISO-3166 Numeric");
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 5), "FIPS 10-4 Four Letter");
  assert_string_equal(vg__klv_st0102_enum_meaning(2, 0x10), "GENC Mixed");
  assert_null(vg__klv_st0102_enum_meaning(12, 0x10));
  assert_string_equal(vg__klv_st0102_enum_meaning(12, 0x40), "GENC AdminSub");
  assert_null(vg__klv_st0102_enum_meaning(2, 0x40));
  assert_null(vg__klv_st0102_enum_meaning(2, 0));
  assert_null(vg__klv_st0102_enum_meaning(2, 0x11));
  assert_null(vg__klv_st0102_enum_meaning(12, 0x3F));
  assert_null(vg__klv_st0102_enum_meaning(12, 0x140)); /* not truncated to a byte */
  /* Not an enumerated item. */
  assert_null(vg__klv_st0102_enum_meaning(3, 1));
  assert_null(vg__klv_st0102_enum_meaning(22, 1));
}

/* UTF-16BE object country codes: several codes, a non-ASCII letter, re-encoding. */
static void test_utf16(void **state)
{
  /* Tag 13 = "USA;CAN" (7 UTF-16BE units), then tag 22 = 12. */
  static const uint8_t multi[] = {0x0d, 0x0e, 0x00, 0x55, 0x00, 0x53, 0x00, 0x41, 0x00, 0x3b,
                                  0x00, 0x43, 0x00, 0x41, 0x00, 0x4e, 0x16, 0x02, 0x00, 0x0c};
  /* Tag 13 = U+0055 U+00FC ("U" and u-umlaut): UTF-8 55 c3 bc. */
  static const uint8_t umlaut[] = {0x0d, 0x04, 0x00, 0x55, 0x00, 0xFC};
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *set = NULL;

  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, multi, sizeof multi), VG_OK);
  assert_int_equal(set->n, 2);
  assert_int_equal(set->items[0].len, 14);
  assert_text(&set->items[0], "USA;CAN");
  assert_int_equal(set->items[1].v.u, 12);
  assert_reencodes(set, multi, sizeof multi);

  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, umlaut, sizeof umlaut), VG_OK);
  assert_text(&set->items[0], "U\xc3\xbc");
  assert_reencodes(set, umlaut, sizeof umlaut);
}

/* Lengths the table forbids are flagged, not fatal; an overrun is malformed. */
static void test_malformed(void **state)
{
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *set = NULL, *sentinel = (const vg_klv_set *)&set;
  /* Classification in 2 bytes, then a good version. */
  static const uint8_t badlen[] = {0x01, 0x02, 0x00, 0x01, 0x16, 0x02, 0x00, 0x0c};
  /* Caveats announces 5 bytes, 1 follows. */
  static const uint8_t overrun[] = {0x01, 0x01, 0x01, 0x05, 0x05, 0x41};
  /* Object country codes in an odd number of bytes: not UTF-16. */
  static const uint8_t odd16[] = {0x0d, 0x03, 0x00, 0x55, 0x00};

  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, badlen, sizeof badlen), VG_OK);
  assert_int_equal(set->n, 2);
  assert_true(set->items[0].flags & VG_KLV_F_BAD_LENGTH);
  assert_int_equal(set->items[1].flags & VG_KLV_F_BAD_LENGTH, 0);
  assert_int_equal(set->items[0].type, VG_KLV_T_UINT);
  assert_int_equal(set->items[0].v.u, 1); /* read leniently */
  assert_int_equal(set->items[1].v.u, 12);
  /* Written back as it came (docs/formats/klv.md): nothing is lost or forced. */
  assert_reencodes(set, badlen, sizeof badlen);

  set = sentinel;
  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, overrun, sizeof overrun),
                   VG_E_MALFORMED);
  assert_ptr_equal(set, sentinel); /* *out untouched on failure */

  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, odd16, sizeof odd16), VG_OK);
  assert_int_equal(set->n, 1);
  assert_int_equal(set->items[0].len, 3);
  assert_int_not_equal(set->items[0].type, VG_KLV_T_STRING);
  assert_int_not_equal(set->items[0].flags, 0);
  assert_reencodes(set, odd16, sizeof odd16);
}

/*
 * Empty items of every format of the set, as the engine decodes them
 * (test_klv_core: an empty text is an empty STRING): text (4, 5) and UTF-16
 * (13) give empty strings, bytes (21) empty bytes, an integer (22) no value;
 * a zero length means "no value" and is not flagged (docs/formats/klv.md);
 * all are written back empty.
 */
static void test_zero_length(void **state)
{
  static const uint8_t empty[] = {0x04, 0x00, 0x05, 0x00, 0x0d, 0x00, 0x15, 0x00, 0x16, 0x00};
  vg_klv_decoder *d = ((fixture *)*state)->lenient;
  const vg_klv_set *set = NULL;
  assert_int_equal(vg_klv_decode_set(d, &set, VG_KLV_KIND_ST0102, empty, sizeof empty), VG_OK);
  assert_int_equal(set->n, 5);
  assert_text(&set->items[0], "");
  assert_text(&set->items[1], "");
  assert_text(&set->items[2], "");
  assert_int_equal(set->items[0].flags | set->items[1].flags | set->items[2].flags, 0);
  assert_int_equal(set->items[3].type, VG_KLV_T_BYTES);
  assert_int_equal(set->items[3].flags, 0); /* 16 bytes when present */
  assert_int_equal(set->items[4].type, VG_KLV_T_NONE);
  assert_int_equal(set->items[4].flags, 0); /* 2 bytes when present */
  assert_reencodes(set, empty, sizeof empty);
}

int test_klv_st0102_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_examples, setup, teardown),   cmocka_unit_test_setup_teardown(test_standalone_packet, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, teardown),      cmocka_unit_test_setup_teardown(test_enum_meanings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_utf16, setup, teardown),      cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
  };
  return cmocka_run_group_tests_name("klv.st0102", tests, NULL, NULL);
}
