/* lib/util: error table, checked reader, bounded buffers, JSON writer. */
#include <locale.h>
#include <math.h>
#include <string.h>

#include "testutil.h"
#include "util/rd.h"
#include "vigia/util.h"

static void errors_table(void **st)
{
  (void)st;
  assert_int_equal(VG_OK, 0);
  assert_true(VG_E_TRUNCATED < 0 && VG_E_LIMIT < 0 && VG_E_DENIED < 0);
  assert_string_equal(vg_err_name(VG_E_CHECKSUM), "E_CHECKSUM");
  assert_string_equal(vg_err_name(12345), "E_UNKNOWN");
  assert_string_equal(vg_strerror(VG_OK), "success");
  assert_int_equal(vg_error_set(VG_E_MALFORMED, "tag %u at %d", 13u, 42), VG_E_MALFORMED);
  assert_string_equal(vg_error_last(), "tag 13 at 42");
  vg_error_clear();
  assert_string_equal(vg_error_last(), "");
}

static void reader_bounds(void **st)
{
  static const uint8_t b[] = {0x01, 0x02, 0x03, 0xff};
  vg_rd r;
  (void)st;
  rd_init(&r, b, sizeof b);
  assert_int_equal(rd_u16be(&r), 0x0102);
  assert_int_equal(rd_left(&r), 2);
  assert_int_equal(rd_u32be(&r), 0); /* 2 left: fails, cursor stays */
  assert_int_equal(r.err, VG_E_TRUNCATED);
  assert_int_equal(rd_left(&r), 2);
  rd_init(&r, b + 3, 1);
  assert_int_equal(rd_int_be(&r, 1), -1);
  rd_init(&r, b, 4);
  assert_null(rd_bytes(&r, 5));
  assert_non_null(rd_bytes(&r, 4));
  assert_int_equal(rd_left(&r), 0);
}

static void reader_ber(void **st)
{
  uint64_t v;
  int nm;
  vg_rd r;
  static const uint8_t shortf[] = {0x7f}, longf[] = {0x82, 0x09, 0x63}, nonmin[] = {0x82, 0x00, 0x60},
                       indef[] = {0x80}, nine[] = {0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                       eight[] = {0x88, 0, 0, 0, 1, 0, 0, 0, 0}, trunc[] = {0x83, 0x01};
  (void)st;
  rd_init(&r, shortf, 1);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 127);
  assert_int_equal(nm, 0);
  rd_init(&r, longf, 3);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 2403);
  assert_int_equal(nm, 0);
  rd_init(&r, nonmin, 3);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 0x60);
  assert_int_equal(nm, 1);
  rd_init(&r, indef, 1);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_E_MALFORMED);
  /* VG_BER_MAX_LEN_BYTES boundary: 8 length bytes read, 9 refused. */
  rd_init(&r, eight, sizeof eight);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_OK);
  assert_int_equal(v, (uint64_t)1 << 32);
  rd_init(&r, nine, sizeof nine);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_E_LIMIT);
  rd_init(&r, trunc, sizeof trunc);
  assert_int_equal(rd_ber_len(&r, &v, &nm), VG_E_TRUNCATED);
  assert_int_equal(rd_pos(&r), 0);
}

static void reader_oid(void **st)
{
  uint32_t v;
  int nm;
  vg_rd r;
  static const uint8_t t143[] = {0x81, 0x0f}, t300[] = {0x82, 0x2c}, nonmin[] = {0x80, 0x05},
                       four[] = {0xff, 0xff, 0xff, 0x7f}, five[] = {0x81, 0x80, 0x80, 0x80, 0x00},
                       open_[] = {0x81};
  (void)st;
  rd_init(&r, t143, 2);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 143);
  assert_int_equal(nm, 0);
  rd_init(&r, t300, 2);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 300);
  rd_init(&r, nonmin, 2);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 5);
  assert_int_equal(nm, 1);
  /* VG_BER_OID_MAX_BYTES boundary. */
  rd_init(&r, four, 4);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_OK);
  assert_int_equal(v, 0x0fffffff);
  rd_init(&r, five, 5);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_E_LIMIT);
  rd_init(&r, open_, 1);
  assert_int_equal(rd_ber_oid(&r, &v, &nm), VG_E_TRUNCATED);
}

static void buffers_bounded(void **st)
{
  vg_buf b;
  size_t z;
  (void)st;
  vg_buf_init(&b, 8);
  assert_int_equal(vg_buf_append(&b, "12345678", 8), VG_OK);
  assert_int_equal(vg_buf_putc(&b, '9'), VG_E_LIMIT);
  assert_int_equal(b.len, 8);
  vg_buf_reset(&b);
  assert_int_equal(vg_buf_printf(&b, "%d-%s", 42, "ab"), VG_OK);
  assert_string_equal((char *)b.data, "42-ab");
  vg_buf_free(&b);
  vg_buf_free(NULL);
  assert_int_equal(vg_mul_size(&z, SIZE_MAX / 2 + 1, 2), -1);
  assert_int_equal(vg_mul_size(&z, 3, 4), 0);
  assert_int_equal(z, 12);
  assert_int_equal(vg_add_size(&z, SIZE_MAX, 1), -1);
}

static void json_writer(void **st)
{
  vg_buf b;
  vg_jw w;
  (void)st;
  vg_buf_init(&b, 4096);
  vg_jw_init(&w, &b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "s");
  vg_jw_str(&w, "a\"b\\c\n\x01\xff\xc3\xa9");
  vg_jw_key(&w, "n");
  vg_jw_arr_begin(&w);
  vg_jw_real(&w, 0.1);
  vg_jw_real(&w, -1.5e-300);
  vg_jw_real(&w, NAN);
  vg_jw_real(&w, 60.176822966978335);
  vg_jw_int(&w, -7);
  vg_jw_uint(&w, UINT64_MAX);
  vg_jw_bool(&w, 1);
  vg_jw_arr_end(&w);
  vg_jw_key(&w, "e");
  vg_jw_obj_begin(&w);
  vg_jw_obj_end(&w);
  vg_jw_obj_end(&w);
  assert_int_equal(vg_jw_finish(&w), VG_OK);
  assert_string_equal((char *)b.data,
                      "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\",\"n\":[0.1,-1.5e-300,null,"
                      "60.176822966978335,-7,18446744073709551615,true],\"e\":{}}");
  /* The document parses and the real reads back exactly. */
  {
    json_error_t e;
    json_t *j = json_loads((char *)b.data, JSON_DECODE_INT_AS_REAL, &e);
    assert_non_null(j);
    assert_true(json_real_value(json_array_get(json_object_get(j, "n"), 3)) == 60.176822966978335);
    json_decref(j);
  }
  vg_buf_free(&b);
}

static void json_unbalanced(void **st)
{
  vg_buf b;
  vg_jw w;
  (void)st;
  vg_buf_init(&b, 64);
  vg_jw_init(&w, &b, 0);
  vg_jw_obj_begin(&w);
  assert_int_not_equal(vg_jw_finish(&w), VG_OK);
  vg_buf_free(&b);
  vg_buf_init(&b, 4); /* too small: the error is sticky, not a crash */
  vg_jw_init(&w, &b, 0);
  vg_jw_arr_begin(&w);
  vg_jw_str(&w, "longer than four");
  vg_jw_arr_end(&w);
  assert_int_equal(vg_jw_finish(&w), VG_E_LIMIT);
  vg_buf_free(&b);
}

static void json_locale(void **st)
{
  char tmp[40];
  (void)st;
  /* A decimal-comma locale must not leak into JSON; skip if none is installed. */
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
    vg_fmt_real(tmp, sizeof tmp, 2.5);
    assert_string_equal(tmp, "2.5");
    print_message("no decimal-comma locale installed: checked in the C locale only\n");
    return;
  }
  vg_fmt_real(tmp, sizeof tmp, 2.5);
  setlocale(LC_NUMERIC, "C");
  assert_string_equal(tmp, "2.5");
}

/* The printf loop vg_fmt_real documents, as the reference its fast path must equal. */
static void ref_real(char *dst, size_t cap, double v)
{
  if (v == 0) {
    snprintf(dst, cap, "0");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(dst, cap, "%.*g", prec, v);
    if (prec == 17 || strtod(dst, NULL) == v)
      break;
  }
}

/* Coordinates, confidences and metres as the products round them, and arbitrary doubles:
 * vg_fmt_real writes what the printf loop writes, byte for byte. */
static void json_reals_exact(void **st)
{
  static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
  uint64_t x = 0x9E3779B97F4A7C15ull;
  char got[48], want[48];
  size_t mismatches = 0, n = 0;
  (void)st;
  for (int i = 0; i < 400000; i++) {
    double v;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    switch (i % 4) {
    case 0: v = round(((double)(x % 3600000000ull) / 1e7 - 180.0) * 1e7) / 1e7; break; /* lon, 1e-7 */
    case 1: v = round((double)(x % 100000ull) / 100.0 * 10) / 10; break;               /* metres, 0.1 */
    case 2: v = (double)(int64_t)(x % 2000000000001ull - 1000000000000ull) / p10[x % 11]; break;
    default: { /* any finite double */
      double d;
      memcpy(&d, &x, sizeof d);
      v = isfinite(d) ? d : (double)x;
    }
    }
    vg_fmt_real(got, sizeof got, v);
    ref_real(want, sizeof want, v);
    n++;
    if (strcmp(got, want)) {
      if (mismatches++ < 5)
        print_message("%.17g: vg_fmt_real '%s', printf loop '%s'\n", v, got, want);
    }
  }
  assert_int_equal(mismatches, 0);
  assert_true(n == 400000);
  /* edges of the fast path's range */
  {
    static const double e[] = {1e-4, -1e-4, 9.99e-5, 1e15, 999999999999999.0, 0.1, -0.3, 123456789.123456789, 5e-324};
    for (size_t i = 0; i < sizeof e / sizeof *e; i++) {
      vg_fmt_real(got, sizeof got, e[i]);
      ref_real(want, sizeof want, e[i]);
      assert_string_equal(got, want);
    }
  }
}

int test_util_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(errors_table),  cmocka_unit_test(reader_bounds),
    cmocka_unit_test(reader_ber),    cmocka_unit_test(reader_oid),
    cmocka_unit_test(buffers_bounded), cmocka_unit_test(json_writer),
    cmocka_unit_test(json_unbalanced), cmocka_unit_test(json_locale),
    cmocka_unit_test(json_reals_exact),
  };
  return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
