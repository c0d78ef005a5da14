/*
 * Streaming JSON writer (RFC 8259). Commas, nesting and escaping are handled
 * here so no caller concatenates JSON by hand. Numbers never depend on the
 * process locale: reals are formatted, then the locale's decimal point is
 * replaced by '.'; NaN and infinities (not representable in JSON) are null.
 */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "vigia/util.h"

static void put(vg_jw *w, const void *p, size_t n)
{
  if (w->err == VG_OK) {
    int rc = vg_buf_append(w->out, p, n);
    if (rc != VG_OK)
      w->err = rc;
  }
}

static void puts_(vg_jw *w, const char *s) { put(w, s, strlen(s)); }

static void indent(vg_jw *w)
{
  if (!w->pretty)
    return;
  put(w, "\n", 1);
  for (int i = 0; i < w->depth; i++)
    put(w, "  ", 2);
}

/* Called before every value or key: writes the separating comma. */
static void pre_value(vg_jw *w)
{
  if (w->after_key) {
    w->after_key = 0;
    return;
  }
  if (w->depth > 0) {
    if (!w->first[w->depth])
      put(w, ",", 1);
    w->first[w->depth] = 0;
    indent(w);
  }
}

void vg_jw_init(vg_jw *w, vg_buf *out, int pretty)
{
  memset(w, 0, sizeof *w);
  w->out = out;
  w->pretty = pretty;
}

static void open_(vg_jw *w, char c)
{
  pre_value(w);
  if (w->depth >= VG_JW_MAX_DEPTH) {
    if (w->err == VG_OK)
      w->err = vg_error_set(VG_E_LIMIT, "JSON nesting deeper than %d", VG_JW_MAX_DEPTH);
    return;
  }
  put(w, &c, 1);
  w->depth++;
  w->first[w->depth] = 1;
}

static void close_(vg_jw *w, char c)
{
  int empty;
  if (w->depth <= 0) {
    if (w->err == VG_OK)
      w->err = vg_error_set(VG_E_INVALID, "JSON container closed twice");
    return;
  }
  empty = w->first[w->depth];
  w->depth--;
  if (!empty)
    indent(w);
  put(w, &c, 1);
}

void vg_jw_obj_begin(vg_jw *w) { open_(w, '{'); }
void vg_jw_obj_end(vg_jw *w) { close_(w, '}'); }
void vg_jw_arr_begin(vg_jw *w) { open_(w, '['); }
void vg_jw_arr_end(vg_jw *w) { close_(w, ']'); }

size_t vg__util_utf8_len(const uint8_t *s, size_t n)
{
  uint8_t c = s[0];
  size_t need;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (need > n)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return need;
}

static void write_string(vg_jw *w, const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0;
  put(w, "\"", 1);
  while (i < n) {
    unsigned char c = p[i];
    const char *esc = NULL;
    char tmp[8];
    size_t l;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') { /* printable ASCII: as is */
      i++;
      continue;
    }
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    default:
      if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, sizeof tmp, "\\u%04x", c);
        esc = tmp;
      }
    }
    if (esc) {
      put(w, p + run, i - run);
      puts_(w, esc);
      i++;
      run = i;
      continue;
    }
    l = vg__util_utf8_len(p + i, n - i);
    if (l == 0) {
      put(w, p + run, i - run);
      puts_(w, "\xef\xbf\xbd"); /* U+FFFD replacement character */
      i++;
      run = i;
      continue;
    }
    i += l;
  }
  put(w, p + run, n - run);
  put(w, "\"", 1);
}

void vg_jw_key(vg_jw *w, const char *k)
{
  pre_value(w);
  write_string(w, k, strlen(k));
  put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
  w->after_key = 1;
}

void vg_jw_strn(vg_jw *w, const char *s, size_t n)
{
  pre_value(w);
  write_string(w, s ? s : "", s ? n : 0);
}

void vg_jw_str(vg_jw *w, const char *s) { vg_jw_strn(w, s, s ? strlen(s) : 0); }

/* Decimal digits of @p v, right-aligned ending at @p end; returns the first. */
static char *udigits(char *end, uint64_t v)
{
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return end;
}

void vg_jw_int(vg_jw *w, int64_t v)
{
  char tmp[24], *end = tmp + sizeof tmp, *p;
  p = udigits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
  if (v < 0)
    *--p = '-';
  pre_value(w);
  put(w, p, (size_t)(end - p));
}

void vg_jw_uint(vg_jw *w, uint64_t v)
{
  char tmp[24], *end = tmp + sizeof tmp, *p = udigits(end, v);
  pre_value(w);
  put(w, p, (size_t)(end - p));
}

/*
 * What vg_fmt_real's printf loop would write, for the values most products carry (a
 * coordinate rounded to 1e-7 degrees, a confidence to 1e-3): v = K / 10^d exactly as a double
 * for the fewest decimals d <= 9, with |K| < 10^15 and 1e-4 <= |v| < 1e15. Such a decimal has
 * at most 15 significant digits and reads back as v, so %.15g (which prints plain notation in
 * that range and drops trailing zeros) writes the same digits. @return 0 when v is not such
 * a value (the caller takes the printf loop), else the length written to @p dst (>= 32 bytes).
 */
static size_t fmt_fixed(char *dst, double v)
{
  static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  double a = fabs(v);
  if (!(a >= 1e-4 && a < 1e15))
    return 0;
  for (int d = 0; d <= 9; d++) {
    double sc = a * p10[d], r;
    uint64_t k, ip, fp;
    char t[24], *e = t + sizeof t, *q = e;
    size_t o = 0;
    if (sc >= 1e15)
      return 0;
    r = floor(sc + 0.5);
    if (r / p10[d] != a)
      continue;
    k = (uint64_t)r;
    ip = k / (uint64_t)p10[d];
    fp = k % (uint64_t)p10[d];
    if (v < 0)
      dst[o++] = '-';
    do {
      *--q = (char)('0' + ip % 10);
      ip /= 10;
    } while (ip);
    memcpy(dst + o, q, (size_t)(e - q));
    o += (size_t)(e - q);
    if (d > 0 && fp) {
      int nd = d;
      while (fp % 10 == 0) { /* not expected at the fewest decimals; kept exact anyway */
        fp /= 10;
        nd--;
      }
      dst[o++] = '.';
      for (int j = nd - 1; j >= 0; j--) {
        dst[o + (size_t)j] = (char)('0' + fp % 10);
        fp /= 10;
      }
      o += (size_t)nd;
    }
    dst[o] = 0;
    return o;
  }
  return 0;
}

size_t vg_fmt_real(char *dst, size_t cap, double v)
{
  const char *dp;
  char dpc;
  int n = 0;
  if (cap < 32) {
    if (cap)
      dst[0] = 0;
    return 0;
  }
  if (!isfinite(v)) {
    n = snprintf(dst, cap, "null");
    return (size_t)n;
  }
  if (v == 0) { /* keep the sign of -0.0 out of JSON: it means nothing to a reader */
    n = snprintf(dst, cap, "0");
    return (size_t)n;
  }
  if ((n = (int)fmt_fixed(dst, v)) > 0) /* the common case, without printf */
    return (size_t)n;
  dp = localeconv()->decimal_point;
  dpc = (dp && dp[0]) ? dp[0] : '.';
  /* Shortest of %.15g .. %.17g that reads back exactly. strtod and snprintf use
   * the same locale, so the round-trip test is consistent; '.' is fixed after. */
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(dst, cap, "%.*g", prec, v);
    if (prec == 17 || strtod(dst, NULL) == v)
      break;
  }
  if (dpc != '.')
    for (int i = 0; i < n; i++)
      if (dst[i] == dpc)
        dst[i] = '.';
  return (size_t)n;
}

void vg_jw_real(vg_jw *w, double v)
{
  char tmp[40];
  size_t n = vg_fmt_real(tmp, sizeof tmp, v);
  pre_value(w);
  put(w, tmp, n);
}

void vg_jw_bool(vg_jw *w, int v)
{
  pre_value(w);
  puts_(w, v ? "true" : "false");
}

void vg_jw_null(vg_jw *w)
{
  pre_value(w);
  puts_(w, "null");
}

void vg_jw_hex(vg_jw *w, const uint8_t *p, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  char tmp[128];
  pre_value(w);
  put(w, "\"", 1);
  while (n) { /* 64 bytes a put */
    size_t k = n < 64 ? n : 64;
    for (size_t i = 0; i < k; i++) {
      tmp[2 * i] = hx[p[i] >> 4];
      tmp[2 * i + 1] = hx[p[i] & 15];
    }
    put(w, tmp, 2 * k);
    p += k;
    n -= k;
  }
  put(w, "\"", 1);
}

int vg_jw_finish(vg_jw *w)
{
  if (w->err == VG_OK && (w->depth != 0 || w->after_key))
    w->err = vg_error_set(VG_E_INVALID, "JSON document left open at depth %d", w->depth);
  return w->err;
}
