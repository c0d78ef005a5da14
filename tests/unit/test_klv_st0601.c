/*
 * ST 0601 against real vectors: every value of the ST 0601.17 reference
 * packet, the 30 packets of h264_klv.ts, the 60 minimal packets of
 * h265_tricky_klv.ts, the ST 0902 examples (stale printed checksum flagged),
 * and the 407 packets of the real Cheyenne stream.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "vigia/klv.h"

static int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b)); }

/* Checks one decoded item against an expected JSON value of the vectors. */
static void check_value(const vg_klv_item *it, json_t *exp, const char *name)
{
  if (json_is_number(exp)) {
    double want = json_number_value(exp), got;
    if (it->type == VG_KLV_T_REAL)
      got = it->v.f;
    else if (it->type == VG_KLV_T_UINT)
      got = (double)it->v.u;
    else if (it->type == VG_KLV_T_INT)
      got = (double)it->v.i;
    else
      fail_msg("tag %u (%s): type %d, expected a number %g", it->tag, name, it->type, want);
    if (!close_to(got, want))
      fail_msg("tag %u (%s): got %.17g, expected %.17g", it->tag, name, got, want);
  } else if (json_is_string(exp)) {
    const char *want = json_string_value(exp);
    assert_int_equal(it->type, VG_KLV_T_STRING);
    if (it->v.s.n != strlen(want) || memcmp(it->v.s.p, want, it->v.s.n) != 0)
      fail_msg("tag %u (%s): got '%.*s', expected '%s'", it->tag, name, (int)it->v.s.n, it->v.s.p, want);
  } else if (json_is_object(exp) && json_object_get(exp, "microseconds")) {
    assert_int_equal(it->type, VG_KLV_T_TIME);
    assert_int_equal(it->v.u, (uint64_t)json_integer_value(json_object_get(exp, "microseconds")));
  }
}

static void reference_packet(void **st)
{
  json_t *j = vg_test_load_json("klv/vectors/st0601_reference_packet_v17.json"), *it;
  uint8_t *b;
  size_t n, used, i, checked = 0;
  vg_klv_decoder *d;
  const vg_klv_packet *p;
  vg_buf out;
  (void)st;
  assert_int_equal(vg_test_unhex(json_string_value(json_object_get(j, "packet_hex")), &b, &n), 0);
  assert_int_equal(n, 2422);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  assert_int_equal(vg_klv_decode(d, &p, b, n, &used), VG_OK);
  assert_int_equal(used, n);
  assert_int_equal(p->version, 17);
  assert_int_equal(p->cksum, VG_KLV_CK_VALID);
  assert_int_equal(p->cksum_stored, 0x81F7);
  assert_int_equal(p->value_len, 2403);
  /* 140 items: tags 2..143 without 66, plus the checksum; nothing flagged. */
  assert_int_equal(p->set.n, json_array_size(json_object_get(j, "items")));
  json_array_foreach(json_object_get(j, "items"), i, it)
  {
    uint32_t tag = (uint32_t)json_integer_value(json_object_get(it, "tag"));
    const vg_klv_item *g = &p->set.items[i]; /* wire order, 13/14/5 out of place included */
    const vg_klv_tagdef *td = vg_klv_tagdef_find(VG_KLV_KIND_ST0601, tag);
    assert_int_equal(g->tag, tag);
    assert_int_equal(g->len, json_integer_value(json_object_get(it, "length")));
    assert_non_null(td);
    assert_false(g->flags & (VG_KLV_F_UNKNOWN | VG_KLV_F_BAD_LENGTH | VG_KLV_F_UNDECODED));
    check_value(g, json_object_get(it, "value"), json_string_value(json_object_get(it, "name")));
    checked++;
  }
  assert_int_equal(checked, 140);
  /* Nested sets are decoded, not raw. */
  assert_int_equal(vg_klv_find(&p->set, 48)->type, VG_KLV_T_SET);
  assert_int_equal(vg_klv_find(&p->set, 48)->child->kind, VG_KLV_KIND_ST0102);
  assert_int_equal(vg_klv_find(&p->set, 74)->type, VG_KLV_T_SET);
  assert_int_equal(vg_klv_find(&p->set, 74)->child->kind, VG_KLV_KIND_ST0903);
  /* Sensor Frame Rate Pack 83 D4 60 87 69 = 60000/1001. */
  {
    const vg_klv_item *fr = vg_klv_find(&p->set, 127);
    assert_int_equal(fr->type, VG_KLV_T_SET);
    assert_int_equal(vg_klv_find(fr->child, 1)->v.u, 60000);
    assert_int_equal(vg_klv_find(fr->child, 2)->v.u, 1001);
  }
  /* Canonical packet: decode then encode gives the same bytes. */
  vg_buf_init(&out, 1 << 20);
  assert_int_equal(vg_klv_encode(&out, p), VG_OK);
  assert_int_equal(out.len, n);
  assert_memory_equal(out.data, b, n);
  /* The pose record. */
  {
    vg_klv_pose pose;
    assert_int_equal(vg_klv_pose_from_packet(&pose, p), VG_OK);
    assert_true(close_to(pose.sensor_lat, 60.176822966978335));
    assert_true(close_to(pose.sensor_lon, 128.42675904204452));
    assert_true(close_to(pose.platform_heading, 159.97436484321355));
    assert_true(close_to(pose.platform_pitch, -0.4315251020861441)); /* full-range tag 90 preferred */
    assert_true(pose.corners_full);
    assert_true(close_to(pose.corner_lat[0], -10.528728394084018));
    assert_true(close_to(pose.sensor_alt_hae, 23456.234375)); /* tag 104 over 75 */
    assert_string_equal(pose.platform_designation, "MQ1-B");
    assert_int_equal(pose.time_us, 1224807209913000ull);
  }
  /* The JSON of the packet parses and carries the values. */
  {
    vg_buf jb;
    vg_jw w;
    json_error_t e;
    json_t *doc;
    vg_buf_init(&jb, 1 << 20);
    vg_jw_init(&w, &jb, 0);
    assert_int_equal(vg_klv_packet_to_json(&w, p), VG_OK);
    assert_int_equal(vg_jw_finish(&w), VG_OK);
    doc = json_loads((const char *)jb.data, 0, &e);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "checksum"), "status")), "valid");
    assert_int_equal(json_array_size(json_object_get(doc, "items")), 140);
    {
      /* Pack fields and ST 0102 codes are named. */
      json_t *items = json_object_get(doc, "items"), *fr = NULL, *sec = NULL, *x;
      size_t k;
      json_array_foreach(items, k, x)
      {
        json_int_t t = json_integer_value(json_object_get(x, "tag"));
        if (t == 127)
          fr = json_object_get(x, "value");
        if (t == 48)
          sec = json_object_get(x, "value");
      }
      assert_non_null(fr);
      assert_non_null(sec);
      assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fr, "items"), 0), "key")),
                          "numerator");
      assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(fr, "items"), 1), "value")),
                       1001);
      assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(sec, "items"), 0), "meaning")),
                          "UNCLASSIFIED");
    }
    json_decref(doc);
    vg_buf_free(&jb);
  }
  vg_buf_free(&out);
  free(b);
  vg_klv_decoder_free(d);
  json_decref(j);
}

static void h264_30_packets(void **st)
{
  json_t *j = vg_test_load_json("klv/vectors/st0601_h264_klv_30_packets.json"), *pk;
  vg_klv_decoder *d;
  size_t i, count = 0;
  vg_buf out;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  vg_buf_init(&out, 1 << 20);
  json_array_foreach(json_object_get(j, "packets"), i, pk)
  {
    uint8_t *b;
    size_t n;
    const vg_klv_packet *p;
    vg_klv_pose pose;
    assert_int_equal(vg_test_unhex(json_string_value(json_object_get(pk, "packet_hex")), &b, &n), 0);
    assert_int_equal(vg_klv_decode(d, &p, b, n, NULL), VG_OK);
    assert_int_equal(p->cksum == VG_KLV_CK_VALID, json_is_true(json_object_get(pk, "checksum_ok")));
    assert_int_equal(vg_klv_pose_from_packet(&pose, p), VG_OK);
    assert_int_equal(pose.time_us, (uint64_t)json_integer_value(json_object_get(pk, "precision_time_stamp_us")));
    assert_true(close_to(pose.sensor_lat, json_number_value(json_object_get(pk, "sensor_lat"))));
    assert_true(close_to(pose.sensor_lon, json_number_value(json_object_get(pk, "sensor_lon"))));
    assert_true(close_to(pose.platform_heading, json_number_value(json_object_get(pk, "platform_heading"))));
    assert_true(close_to(pose.frame_center_lat, json_number_value(json_object_get(pk, "frame_center_lat"))));
    assert_true(close_to(pose.frame_center_lon, json_number_value(json_object_get(pk, "frame_center_lon"))));
    vg_buf_reset(&out);
    assert_int_equal(vg_klv_encode(&out, p), VG_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, b, n);
    free(b);
    count++;
  }
  assert_int_equal(count, 30);
  vg_buf_free(&out);
  vg_klv_decoder_free(d);
  json_decref(j);
}

static void tricky_minimal_packets(void **st)
{
  json_t *j = vg_test_load_json("klv/vectors/st0601_minimal_packets_tricky.json"), *pk;
  vg_klv_decoder *d;
  size_t i, count = 0;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  json_array_foreach(json_object_get(j, "packets"), i, pk)
  {
    uint8_t *b;
    size_t n;
    const vg_klv_packet *p;
    json_t *dec = json_object_get(pk, "decoded");
    const vg_klv_item *it;
    assert_int_equal(vg_test_unhex(json_string_value(json_object_get(pk, "packet_hex")), &b, &n), 0);
    assert_int_equal(vg_klv_decode(d, &p, b, n, NULL), VG_OK);
    assert_int_equal(p->cksum == VG_KLV_CK_VALID, json_is_true(json_object_get(pk, "checksum_ok")));
    check_value(vg_klv_find(&p->set, 2), json_object_get(dec, "Precision Time Stamp"), "time");
    check_value(vg_klv_find(&p->set, 10), json_object_get(dec, "Platform Designation"), "designation");
    assert_non_null(it = vg_klv_find(&p->set, 65));
    assert_int_equal(it->v.u, json_integer_value(json_object_get(dec, "UAS Datalink LS Version Number")));
    free(b);
    count++;
  }
  assert_int_equal(count, 60);
  vg_klv_decoder_free(d);
  json_decref(j);
}

static void st0902_examples(void **st)
{
  json_t *j = vg_test_load_json("klv/vectors/st0902_examples.json"), *pk;
  vg_klv_decoder *d;
  size_t i, count = 0;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  json_array_foreach(json_object_get(j, "packets"), i, pk)
  {
    char rel[256];
    char *path;
    uint8_t *b;
    size_t n, k;
    const vg_klv_packet *p;
    json_t *ck = json_object_get(pk, "checksum"), *it;
    snprintf(rel, sizeof rel, "klv/vectors/%s", json_string_value(json_object_get(pk, "file")));
    path = VG_REQUIRE_DATA(rel);
    assert_int_equal(vg_test_read_file(path, &b, &n), 0);
    assert_int_equal(vg_klv_decode(d, &p, b, n, NULL), VG_OK);
    assert_int_equal(p->cksum_stored, strtoul(json_string_value(json_object_get(ck, "stored")), NULL, 16));
    assert_int_equal(p->cksum_computed, strtoul(json_string_value(json_object_get(ck, "computed")), NULL, 16));
    /* The "as printed" packet of ST 0902.5 Table 5 carries a stale checksum: flagged, not lost. */
    assert_int_equal(p->cksum == VG_KLV_CK_VALID, json_is_true(json_object_get(ck, "valid")));
    if (!json_is_true(json_object_get(ck, "valid")))
      assert_true(p->flags & VG_KLV_P_CHECKSUM_BAD);
    json_array_foreach(json_object_get(pk, "items"), k, it)
    {
      uint32_t tag = (uint32_t)json_integer_value(json_object_get(it, "tag"));
      const vg_klv_item *g = vg_klv_find(&p->set, tag);
      assert_non_null(g);
      check_value(g, json_object_get(it, "value"), json_string_value(json_object_get(it, "name")));
    }
    free(b);
    free(path);
    count++;
  }
  assert_int_equal(count, 3);
  vg_klv_decoder_free(d);
  json_decref(j);
}

static void cheyenne_stream(void **st)
{
  char *path = VG_REQUIRE_DATA("klv/streams/cheyenne_st0601v1.klv");
  json_t *sum = vg_test_load_json("klv/streams/cheyenne_st0601v1.summary.json");
  uint8_t *b;
  size_t n, off = 0, used;
  vg_klv_decoder *d;
  int count = 0, valid = 0;
  uint64_t first = 0, last = 0;
  double latmin = 1e9, latmax = -1e9;
  (void)st;
  assert_int_equal(vg_test_read_file(path, &b, &n), 0);
  assert_int_equal(vg_klv_decoder_new(&d, NULL), VG_OK);
  while (off < n) {
    const vg_klv_packet *p;
    vg_klv_pose pose;
    assert_int_equal(vg_klv_decode(d, &p, b + off, n - off, &used), VG_OK);
    assert_int_equal(p->version, 1);
    valid += p->cksum == VG_KLV_CK_VALID;
    assert_int_equal(vg_klv_pose_from_packet(&pose, p), VG_OK);
    if (!count)
      first = pose.time_us;
    last = pose.time_us;
    latmin = fmin(latmin, pose.sensor_lat);
    latmax = fmax(latmax, pose.sensor_lat);
    assert_true(vg_klv_pose_has(&pose, VG_POSE_CORNERS)); /* v1: offset corners */
    assert_false(pose.corners_full);
    off += used;
    count++;
  }
  assert_int_equal(count, json_integer_value(json_object_get(sum, "klv_packets")));
  assert_int_equal(count, 407);
  assert_int_equal(valid, 407);
  assert_int_equal(first, (uint64_t)json_integer_value(json_object_get(sum, "first_time_us")));
  assert_int_equal(last, (uint64_t)json_integer_value(json_object_get(sum, "last_time_us")));
  assert_true(close_to(latmin, json_number_value(json_array_get(json_object_get(sum, "sensor_lat_range"), 0))));
  assert_true(close_to(latmax, json_number_value(json_array_get(json_object_get(sum, "sensor_lat_range"), 1))));
  free(b);
  free(path);
  vg_klv_decoder_free(d);
  json_decref(sum);
}

int test_klv_st0601_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(reference_packet), cmocka_unit_test(h264_30_packets),
    cmocka_unit_test(tricky_minimal_packets), cmocka_unit_test(st0902_examples),
    cmocka_unit_test(cheyenne_stream),
  };
  return cmocka_run_group_tests_name("klv.st0601", tests, NULL, NULL);
}
