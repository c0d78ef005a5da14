/*
 * ST 1201 (IMAPB / IMAPA / special values): the Appendix A examples, the
 * IMAPB items of the ST 0601 reference packet, jMISB's 2128 generated cases,
 * and the boundaries (lengths, range ends, IMAPA).
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "vigia/klv.h"

/* Rows whose mismatch is printed before the test fails; the rest are only counted. */
#define SHOW_MAX 10

/*
 * Rounding allowed around IMAPB(a, b) beyond its own grid step: x - a and the
 * decoded sR*(y - zOffset) + a are each rounded at the scale of max(|a|, |b|),
 * whatever the size of x (0.1 in [-10000, 0.1] is off by ~1e-13).
 */
static double fp_slack(double a, double b)
{
  return 4 * DBL_EPSILON * fmax(fabs(a), fabs(b));
}

static int close_to(double got, double want, double rel, double abs_tol)
{
  double d = fabs(got - want);
  return d <= abs_tol || d <= rel * fabs(want);
}

static void hexstr(char *dst, const uint8_t *p, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = digits[p[i] >> 4];
    dst[2 * i + 1] = digits[p[i] & 15];
  }
  dst[2 * n] = '\0';
}

/* The value a special should decode to, by its kind. */
static int special_value_ok(int sp, double v)
{
  switch (sp) {
  case VG_KLV_SP_POS_INF: return isinf(v) && v > 0;
  case VG_KLV_SP_NEG_INF: return isinf(v) && v < 0;
  case VG_KLV_SP_POS_QNAN:
  case VG_KLV_SP_POS_SNAN: return isnan(v) && !signbit(v);
  case VG_KLV_SP_NEG_QNAN:
  case VG_KLV_SP_NEG_SNAN: return isnan(v) && signbit(v);
  default: return isnan(v);
  }
}

/*
 * A special named by a string of the vector files, with the double that
 * stands for it. Returns 0 for an unknown name, so a new kind in a file
 * fails the test instead of being skipped.
 */
static int special_from_name(const char *s, int *sp, double *x)
{
  static const struct {
    const char *name;
    int sp;
    int sign; /* +1 / -1; 2 / -2 for NaNs */
  } names[] = {
      {"Infinity", VG_KLV_SP_POS_INF, 1}, {"+Infinity", VG_KLV_SP_POS_INF, 1},
      {"+inf", VG_KLV_SP_POS_INF, 1},     {"-Infinity", VG_KLV_SP_NEG_INF, -1},
      {"-inf", VG_KLV_SP_NEG_INF, -1},    {"NaN", VG_KLV_SP_POS_QNAN, 2},
      {"+QNaN", VG_KLV_SP_POS_QNAN, 2},   {"+qnan", VG_KLV_SP_POS_QNAN, 2},
      {"-QNaN", VG_KLV_SP_NEG_QNAN, -2},  {"-qnan", VG_KLV_SP_NEG_QNAN, -2},
      {"+SNaN", VG_KLV_SP_POS_SNAN, 2},   {"+snan", VG_KLV_SP_POS_SNAN, 2},
      {"-SNaN", VG_KLV_SP_NEG_SNAN, -2},  {"-snan", VG_KLV_SP_NEG_SNAN, -2},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(s, names[i].name) == 0) {
      int sg = names[i].sign;
      *sp = names[i].sp;
      if (sg == 1 || sg == -1)
        *x = sg > 0 ? INFINITY : -INFINITY;
      else
        *x = sg > 0 ? NAN : copysign(NAN, -1.0);
      return 1;
    }
  }
  return 0;
}

/* A number, or a special by name. *sp is VG_KLV_SP_NONE for numbers. */
static int json_value(const json_t *j, double *x, int *sp)
{
  if (json_is_number(j)) {
    *x = json_number_value(j);
    *sp = VG_KLV_SP_NONE;
    return 1;
  }
  if (json_is_string(j))
    return special_from_name(json_string_value(j), sp, x);
  return 0;
}

static double num(const json_t *row, const char *key)
{
  const json_t *j = json_object_get(row, key);
  if (!json_is_number(j))
    fail_msg("field '%s' missing or not a number", key);
  return json_number_value(j);
}

static const char *str(const json_t *row, const char *key)
{
  const json_t *j = json_object_get(row, key);
  if (!json_is_string(j))
    fail_msg("field '%s' missing or not a string", key);
  return json_string_value(j);
}

/* ---- ST 1201.4 Appendix A (as jMISB encodes it, re-decoded independently) ---- */

static void test_annex_a(void **state)
{
  json_t *root = vg_test_load_json("klv/vectors/st1201_imapb_vectors.json");
  const json_t *rows = json_object_get(root, "annex_a");
  size_t checked = 0, imapa_rows = 0, bad = 0, i;
  const json_t *row;
  (void)state;
  assert_true(json_is_array(rows));
  assert_true(json_array_size(rows) > 0);
  json_array_foreach(rows, i, row)
  {
    double a = num(row, "a"), b = num(row, "b"), x, want, got, g;
    size_t len = (size_t)num(row, "length"), n;
    int xsp, wsp, sp = -1, rc;
    uint8_t *bytes, out[8];
    const char *mapping = str(row, "mapping");
    char h1[17], h2[17];
    assert_true(json_value(json_object_get(row, "input"), &x, &xsp));
    assert_true(json_value(json_object_get(row, "independent_decode"), &want, &wsp));
    assert_int_equal(vg_test_unhex(str(row, "encoded_hex"), &bytes, &n), 0);
    assert_int_equal(n, len);

    got = vg_klv_imapb_decode(a, b, bytes, n, &sp);
    if (sp != wsp || (wsp == VG_KLV_SP_NONE ? !close_to(got, want, 1e-9, 0.0)
                                             : !special_value_ok(sp, got))) {
      if (bad++ < SHOW_MAX)
        print_message("annex_a[%zu] %s %s: decoded %.17g (special %d), want %.17g (special %d)\n",
                      i, mapping, str(row, "encoded_hex"), got, sp, want, wsp);
    }

    memset(out, 0xAA, sizeof out);
    rc = vg_klv_imapb_encode(a, b, x, out, n);
    if (rc != VG_OK || memcmp(out, bytes, n) != 0) {
      hexstr(h1, out, n);
      hexstr(h2, bytes, n);
      if (bad++ < SHOW_MAX)
        print_message("annex_a[%zu] %s encode(%.17g): rc %d, %s, want %s\n", i, mapping, x, rc,
                      h1, h2);
    }

    /* The IMAPA rows carry the precision the length comes from. */
    if (sscanf(mapping, "IMAPA(%*f,%*f,%lf)", &g) == 1) {
      assert_int_equal(vg_klv_imapa_length(a, b, g), len);
      imapa_rows++;
    }
    free(bytes);
    checked++;
  }
  print_message("annex_a: %zu rows checked (%zu IMAPA)\n", checked, imapa_rows);
  assert_int_equal(bad, 0);
  assert_int_equal(checked, json_array_size(rows));
  assert_true(imapa_rows > 0);
  json_decref(root);
}

/* ---- the IMAPB items of the ST 0601 reference packet ---------------------------- */

static void test_st0601_items(void **state)
{
  json_t *root = vg_test_load_json("klv/vectors/st1201_imapb_vectors.json");
  const json_t *rows = json_object_get(root, "st0601_imapb_items");
  size_t checked = 0, i;
  const json_t *row;
  (void)state;
  assert_true(json_is_array(rows));
  assert_true(json_array_size(rows) > 0);
  json_array_foreach(rows, i, row)
  {
    double a = num(row, "a"), b = num(row, "b"), want = num(row, "decoded"), got;
    size_t len = (size_t)num(row, "length"), n;
    int sp = -1;
    uint8_t *bytes, out[8];
    assert_int_equal(vg_test_unhex(str(row, "encoded_hex"), &bytes, &n), 0);
    assert_int_equal(n, len);
    got = vg_klv_imapb_decode(a, b, bytes, n, &sp);
    if (sp != VG_KLV_SP_NONE || !close_to(got, want, 1e-9, 1e-12))
      fail_msg("tag %d (%s): %s decodes to %.17g (special %d), want %.17g",
               (int)num(row, "tag"), str(row, "name"), str(row, "encoded_hex"), got, sp, want);
    memset(out, 0xAA, sizeof out);
    assert_int_equal(vg_klv_imapb_encode(a, b, want, out, n), VG_OK);
    assert_memory_equal(out, bytes, n);
    free(bytes);
    checked++;
  }
  print_message("st0601_imapb_items: %zu rows checked\n", checked);
  assert_int_equal(checked, json_array_size(rows));
  json_decref(root);
}

/* ---- jMISB's generated cases --------------------------------------------------- */

static void test_jmisb_generated(void **state)
{
  /*
   * Not vg_test_load_json: the file holds forwardResult integers up to 2^64-1
   * (0xf000000000000000 and the like), which jansson refuses as "too big
   * integer" unless integers are read as reals. Nothing below needs
   * forwardResult exactly: the bytes come from forwardResultHex.
   */
  char *path = VG_REQUIRE_DATA("klv/vectors/st1201_jmisb_generated_vectors.json");
  json_error_t err;
  json_t *rows = json_load_file(path, JSON_DECODE_INT_AS_REAL, &err);
  size_t checked = 0, finite = 0, specials = 0, bad = 0, i;
  const json_t *row;
  (void)state;
  if (!rows)
    fail_msg("%s: %s at line %d", path, err.text, err.line);
  free(path);
  assert_true(json_is_array(rows));
  assert_true(json_array_size(rows) > 0);
  json_array_foreach(rows, i, row)
  {
    double a = num(row, "a"), b = num(row, "b"), sr = num(row, "sR"), x, want, got;
    double lf = num(row, "L");
    size_t len = (size_t)lf, n;
    int xsp, wsp, sp = -1, rc;
    uint8_t *bytes, out[8];
    char h1[17], h2[17];
    assert_true(lf >= 1 && lf <= 8 && lf == (double)len);
    if (!json_value(json_object_get(row, "x"), &x, &xsp))
      fail_msg("row %zu: x is neither a number nor a known special", i);
    if (!json_value(json_object_get(row, "reverseResult"), &want, &wsp))
      fail_msg("row %zu: reverseResult is neither a number nor a known special", i);
    assert_int_equal(xsp, wsp);
    assert_int_equal(vg_test_unhex(str(row, "forwardResultHex"), &bytes, &n), 0);
    assert_int_equal(n, len);

    /* forward */
    memset(out, 0xAA, sizeof out);
    rc = vg_klv_imapb_encode(a, b, x, out, n);
    if (rc != VG_OK || memcmp(out, bytes, n) != 0) {
      hexstr(h1, out, n);
      hexstr(h2, bytes, n);
      if (bad++ < SHOW_MAX)
        print_message("jmisb[%zu] IMAPB(%.17g,%.17g,%zu) encode(%.17g): rc %d, %s, want %s\n", i,
                      a, b, n, x, rc, h1, h2);
    }
    if (xsp != VG_KLV_SP_NONE) {
      memset(out, 0xAA, sizeof out);
      rc = vg_klv_imap_encode_special(xsp, out, n);
      if (rc != VG_OK || memcmp(out, bytes, n) != 0) {
        if (bad++ < SHOW_MAX)
          print_message("jmisb[%zu] encode_special(%d, %zu): rc %d\n", i, xsp, n, rc);
      }
    }

    /* reverse */
    got = vg_klv_imapb_decode(a, b, bytes, n, &sp);
    if (wsp == VG_KLV_SP_NONE) {
      /*
       * Besides agreeing with jMISB, the decoded value must be the floor of x
       * on the grid: at most one step (sR) below x, never above it.
       */
      int ok = sp == VG_KLV_SP_NONE && close_to(got, want, 1e-9, 1e-12) &&
               got - x <= fp_slack(a, b) && x - got <= sr + fp_slack(a, b);
      if (!ok && bad++ < SHOW_MAX)
        print_message("jmisb[%zu] IMAPB(%.17g,%.17g,%zu) decode(%s) = %.17g (special %d), want "
                      "%.17g, x %.17g, sR %g\n",
                      i, a, b, n, str(row, "forwardResultHex"), got, sp, want, x, sr);
      finite++;
    } else {
      if ((sp != wsp || !special_value_ok(sp, got)) && bad++ < SHOW_MAX)
        print_message("jmisb[%zu] decode(%s): special %d, want %d\n", i,
                      str(row, "forwardResultHex"), sp, wsp);
      specials++;
    }
    free(bytes);
    checked++;
  }
  print_message("jmisb generated: %zu rows checked (%zu finite, %zu special), %zu mismatches\n",
                checked, finite, specials, bad);
  assert_int_equal(bad, 0);
  assert_int_equal(checked, json_array_size(rows));
  assert_int_equal(finite + specials, checked);
  json_decref(rows);
}

/* ---- boundaries ------------------------------------------------------------------- */

static void test_lengths_rejected(void **state)
{
  uint8_t buf[9] = {0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12};
  uint8_t out[9], sentinel[9];
  int sp = VG_KLV_SP_NONE;
  double v;
  (void)state;
  memset(sentinel, 0xAA, sizeof sentinel);

  v = vg_klv_imapb_decode(0, 100, buf, 0, &sp);
  assert_true(isnan(v));
  assert_int_equal(sp, VG_KLV_SP_RESERVED);
  sp = VG_KLV_SP_NONE;
  v = vg_klv_imapb_decode(0, 100, buf, 9, &sp);
  assert_true(isnan(v));
  assert_int_equal(sp, VG_KLV_SP_RESERVED);

  memcpy(out, sentinel, sizeof out);
  assert_int_equal(vg_klv_imapb_encode(0, 100, 50, out, 0), VG_E_INVALID);
  assert_int_equal(vg_klv_imapb_encode(0, 100, 50, out, 9), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_POS_INF, out, 0), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_POS_INF, out, 9), VG_E_INVALID);
  assert_memory_equal(out, sentinel, sizeof out);

  /* The ends of the allowed range work. */
  v = vg_klv_imapb_decode(0, 100, buf, 1, &sp);
  assert_int_equal(sp, VG_KLV_SP_NONE);
  assert_true(v >= 0 && v <= 100);
  v = vg_klv_imapb_decode(0, 100, buf, 8, &sp);
  assert_int_equal(sp, VG_KLV_SP_NONE);
  assert_true(v >= 0 && v <= 100);
  assert_int_equal(vg_klv_imapb_encode(0, 100, 50, out, 1), VG_OK);
  assert_int_equal(vg_klv_imapb_encode(0, 100, 50, out, 8), VG_OK);
  assert_memory_equal(out + 8, sentinel + 8, 1);

  /* An empty or reversed range is no mapping. */
  assert_int_equal(vg_klv_imapb_encode(5, 5, 5, out, 2), VG_E_INVALID);
  assert_int_equal(vg_klv_imapb_encode(10, 0, 5, out, 2), VG_E_INVALID);
  v = vg_klv_imapb_decode(10, 0, buf, 2, &sp);
  assert_true(isnan(v));
  assert_int_equal(sp, VG_KLV_SP_RESERVED);
}

static void expect_range(double a, double b, double x, size_t n)
{
  uint8_t out[8], sentinel[8];
  memset(sentinel, 0xAA, sizeof sentinel);
  memcpy(out, sentinel, sizeof out);
  assert_int_equal(vg_klv_imapb_encode(a, b, x, out, n), VG_E_RANGE);
  assert_memory_equal(out, sentinel, sizeof out);
}

static void test_out_of_range(void **state)
{
  static const struct {
    double a, b;
    size_t n;
  } maps[] = {{0, 100, 3}, {-9.9, 110, 3}, {0.1, 0.9, 2}, {-900, 40000, 3}, {-1, 1, 8},
              {1500000, 1500000.1, 4}, {0, 0, 8}};
  (void)state;
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
    double a = maps[i].a, b = maps[i].b;
    /*
     * b - a one ulp above 2^10: log2() rounds to exactly 10, so a bPow taken
     * from ceil(log2()) is one too small and b no longer fits the 8 bytes.
     */
    if (b == a)
      b = nextafter(1024.0, INFINITY);
    uint8_t out[8];
    int sp;
    expect_range(a, b, nextafter(a, -INFINITY), maps[i].n);
    expect_range(a, b, nextafter(b, INFINITY), maps[i].n);
    /* The ends themselves are in range and come back as normal values near them. */
    assert_int_equal(vg_klv_imapb_encode(a, b, a, out, maps[i].n), VG_OK);
    assert_true(fabs(vg_klv_imapb_decode(a, b, out, maps[i].n, &sp) - a) <= (b - a) * 1e-2);
    assert_int_equal(sp, VG_KLV_SP_NONE);
    assert_int_equal(vg_klv_imapb_encode(a, b, b, out, maps[i].n), VG_OK);
    assert_true(fabs(vg_klv_imapb_decode(a, b, out, maps[i].n, &sp) - b) <= (b - a) * 1e-2);
    assert_int_equal(sp, VG_KLV_SP_NONE);
  }
}

/*
 * One grid step of IMAPB(0, b, n): the value of the integer 1 (a = 0, so no
 * offset and no cancellation). IMAPB(a, a + b, n) has the same step.
 */
static double step_of(double b, size_t n)
{
  uint8_t one[8] = {0};
  int sp;
  double v;
  one[n - 1] = 1;
  v = vg_klv_imapb_decode(0, b, one, n, &sp);
  assert_int_equal(sp, VG_KLV_SP_NONE);
  return v;
}

static void test_imapa_length(void **state)
{
  static const double spans[] = {0.1, 1, 1.001, 100, 360, 1500000, 1048576};
  static const double precs[] = {4, 1, 0.5, 0.1, 1e-3, 1e-5, 0.0009765625, 1e-9, 1e-12};
  (void)state;
  /* The example of ST 1201.4 Appendix A. */
  assert_int_equal(vg_klv_imapa_length(0, 100, 1e-5), 4);

  /*
   * What IMAPA means: the fewest bytes whose IMAPB grid step is no coarser
   * than g. Checked against the steps IMAPB itself decodes.
   */
  for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
    for (size_t j = 0; j < sizeof precs / sizeof precs[0]; j++) {
      double b = spans[i], g = precs[j];
      size_t len = vg_klv_imapa_length(0, b, g);
      if (len == 0) {
        /* Only when even 8 bytes are too coarse. */
        if (!(step_of(b, 8) > g))
          fail_msg("IMAPA(0, %g, %g) = 0 but 8 bytes give step %g", b, g, step_of(b, 8));
        continue;
      }
      assert_true(len >= 1 && len <= 8);
      if (!(step_of(b, len) <= g))
        fail_msg("IMAPA(0, %g, %g) = %zu: step %g is coarser", b, g, len, step_of(b, len));
      if (len > 1 && !(step_of(b, len - 1) > g))
        fail_msg("IMAPA(0, %g, %g) = %zu: %zu bytes would do (step %g)", b, g, len, len - 1,
                 step_of(b, len - 1));
    }
  }
  assert_int_equal(vg_klv_imapa_length(0, 1e6, 1e-20), 0);
  assert_int_equal(vg_klv_imapa_length(1, 1, 0.1), 0);
  assert_int_equal(vg_klv_imapa_length(0, 1, 0), 0);
  assert_int_equal(vg_klv_imapa_length(0, 1, -1), 0);
  assert_int_equal(vg_klv_imapa_length(0, INFINITY, 1), 0);
}

/* ---- special values ----------------------------------------------------------------- */

static void test_specials(void **state)
{
  static const int named[] = {VG_KLV_SP_POS_INF,  VG_KLV_SP_NEG_INF,  VG_KLV_SP_POS_QNAN,
                              VG_KLV_SP_NEG_QNAN, VG_KLV_SP_POS_SNAN, VG_KLV_SP_NEG_SNAN,
                              VG_KLV_SP_BELOW_RANGE, VG_KLV_SP_ABOVE_RANGE};
  /* Patterns with the MSB set that name no special vigia knows, or break the rules of one. */
  static const struct {
    uint8_t b[3];
    size_t n;
    int sp;
  } pats[] = {
      {{0xD0, 0x00, 0x01}, 3, VG_KLV_SP_POS_QNAN}, /* NaN identifier in the other bits */
      {{0xD7, 0xFF, 0xFF}, 3, VG_KLV_SP_POS_QNAN},
      {{0xF5, 0x00, 0x00}, 3, VG_KLV_SP_NEG_QNAN},
      {{0xDB, 0x00, 0x00}, 3, VG_KLV_SP_POS_SNAN},
      {{0xF9, 0x12, 0x00}, 3, VG_KLV_SP_NEG_SNAN},
      {{0xC8, 0x00, 0x01}, 3, VG_KLV_SP_RESERVED}, /* infinity with other bits set */
      {{0xE9, 0x00, 0x00}, 3, VG_KLV_SP_RESERVED},
      {{0xE0, 0x00, 0x01}, 3, VG_KLV_SP_RESERVED}, /* below range with other bits set */
      {{0xE2, 0x00, 0x00}, 3, VG_KLV_SP_RESERVED}, /* MISB-defined, unassigned */
      {{0xE7, 0x00, 0x00}, 3, VG_KLV_SP_RESERVED},
      {{0xC0, 0x00, 0x00}, 3, VG_KLV_SP_RESERVED}, /* user defined */
      {{0xC7, 0xFF, 0xFF}, 3, VG_KLV_SP_RESERVED},
      {{0x80, 0x00, 0x01}, 3, VG_KLV_SP_RESERVED}, /* 10xx xxxx: reserved */
      {{0xBF, 0xFF, 0xFF}, 3, VG_KLV_SP_RESERVED},
      {{0xE0, 0, 0}, 1, VG_KLV_SP_BELOW_RANGE},
      {{0xE1, 0, 0}, 1, VG_KLV_SP_ABOVE_RANGE},
      {{0xD3, 0, 0}, 1, VG_KLV_SP_POS_QNAN},
      {{0x81, 0, 0}, 1, VG_KLV_SP_RESERVED},
  };
  uint8_t out[8], again[8];
  int sp;
  double v;
  (void)state;

  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    for (size_t n = 1; n <= 8; n++) {
      memset(out, 0xAA, sizeof out);
      assert_int_equal(vg_klv_imap_encode_special(named[i], out, n), VG_OK);
      assert_true(out[0] & 0x80);
      for (size_t k = 1; k < n; k++)
        assert_int_equal(out[k], 0);
      if (n < 8)
        assert_int_equal(out[n], 0xAA); /* nothing written past n */
      v = vg_klv_imapb_decode(-9.9, 110, out, n, &sp);
      assert_int_equal(sp, named[i]);
      assert_true(special_value_ok(sp, v));
      /* Decoding does not depend on the mapping. */
      v = vg_klv_imapb_decode(0, 1, out, n, &sp);
      assert_int_equal(sp, named[i]);
    }
  }
  /* An IEEE NaN (EG 0104's kind) has no sign or kind to keep: it goes as +quiet NaN. */
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_NAN, out, 2), VG_OK);
  v = vg_klv_imapb_decode(0, 1, out, 2, &sp);
  assert_int_equal(sp, VG_KLV_SP_POS_QNAN);
  assert_true(isnan(v));
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_NONE, out, 2), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_OUT_OF_RANGE, out, 2), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_RESERVED, out, 2), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(-1, out, 2), VG_E_INVALID);
  assert_int_equal(vg_klv_imap_encode_special(1000, out, 2), VG_E_INVALID);

  /* encode() of non-finite x agrees with encode_special(), NaN's sign included. */
  assert_int_equal(vg_klv_imapb_encode(0, 100, INFINITY, out, 3), VG_OK);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_POS_INF, again, 3), VG_OK);
  assert_memory_equal(out, again, 3);
  assert_int_equal(vg_klv_imapb_encode(0, 100, -INFINITY, out, 3), VG_OK);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_NEG_INF, again, 3), VG_OK);
  assert_memory_equal(out, again, 3);
  assert_int_equal(vg_klv_imapb_encode(0, 100, NAN, out, 3), VG_OK);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_POS_QNAN, again, 3), VG_OK);
  assert_memory_equal(out, again, 3);
  assert_int_equal(vg_klv_imapb_encode(0, 100, copysign(NAN, -1.0), out, 3), VG_OK);
  assert_int_equal(vg_klv_imap_encode_special(VG_KLV_SP_NEG_QNAN, again, 3), VG_OK);
  assert_memory_equal(out, again, 3);

  for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
    sp = -1;
    v = vg_klv_imapb_decode(0, 100, pats[i].b, pats[i].n, &sp);
    if (sp != pats[i].sp)
      fail_msg("pattern %zu (%02x.., %zu bytes): special %d, want %d", i, pats[i].b[0], pats[i].n,
               sp, pats[i].sp);
    assert_true(special_value_ok(sp, v));
  }

  /*
   * The lone MSB is not a special: it is 2^dPow, the image of b when b - a
   * is a power of two (here 1), for every length.
   */
  for (size_t n = 1; n <= 8; n++) {
    memset(out, 0, sizeof out);
    out[0] = 0x80;
    v = vg_klv_imapb_decode(0, 1, out, n, &sp);
    assert_int_equal(sp, VG_KLV_SP_NONE);
    assert_true(v == 1.0);
    memset(again, 0xAA, sizeof again);
    assert_int_equal(vg_klv_imapb_encode(0, 1, 1.0, again, n), VG_OK);
    assert_memory_equal(again, out, n);
  }

  /* A NULL special pointer is allowed. */
  out[0] = 0x10;
  out[1] = 0x00;
  v = vg_klv_imapb_decode(0, 100, out, 2, NULL);
  assert_true(v > 0 && v < 100);
}

/* ---- properties of the mapping ------------------------------------------------------- */

static void test_round_trip(void **state)
{
  static const struct {
    double a, b;
  } maps[] = {{-9.9, 110}, {-900, 40000}, {-1000, 1000}, {0, 1500000}, {-180, 180},
              {-90, 90},   {-0.1, 0.9},   {-10000, -100}, {1.001, 1500000.1}};
  uint64_t s = 0x9E3779B97F4A7C15u; /* fixed seed: the same cases every run */
  (void)state;
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
    double a = maps[i].a, b = maps[i].b;
    for (size_t n = 1; n <= 8; n++) {
      uint8_t out[8];
      int sp;
      double step;
      step = step_of(b - a, n);
      assert_true(step > 0);
      for (int k = 0; k < 200; k++) {
        double u, x, y;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        u = (double)(s >> 11) / 9007199254740992.0; /* [0, 1) */
        x = a + u * (b - a);
        assert_int_equal(vg_klv_imapb_encode(a, b, x, out, n), VG_OK);
        y = vg_klv_imapb_decode(a, b, out, n, &sp);
        assert_int_equal(sp, VG_KLV_SP_NONE);
        /* Encoding floors: the value read back is at most one step below x. */
        if (!(y <= x + fp_slack(a, b) && x - y <= step + fp_slack(a, b)))
          fail_msg("IMAPB(%g, %g, %zu): %.17g came back as %.17g (step %g)", a, b, n, x, y,
                   step);
      }
      /* zOffset exists so that 0, when inside the range, comes back exactly. */
      if (a < 0 && b > 0) {
        assert_int_equal(vg_klv_imapb_encode(a, b, 0.0, out, n), VG_OK);
        if (vg_klv_imapb_decode(a, b, out, n, &sp) != 0.0)
          fail_msg("IMAPB(%g, %g, %zu): 0 came back as %.17g", a, b, n,
                   vg_klv_imapb_decode(a, b, out, n, &sp));
      }
    }
  }
}

int test_klv_st1201_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_annex_a),         cmocka_unit_test(test_st0601_items),
      cmocka_unit_test(test_jmisb_generated), cmocka_unit_test(test_lengths_rejected),
      cmocka_unit_test(test_out_of_range),    cmocka_unit_test(test_imapa_length),
      cmocka_unit_test(test_specials),        cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests_name("klv.st1201", tests, NULL, NULL);
}
