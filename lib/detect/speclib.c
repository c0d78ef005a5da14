/*
 * The spectral library reader (docs/formats/speclib.md): reflectance spectra
 * as CSV text, the way shared/data/spectra holds the USGS Spectral Library
 * Version 7 (Kokaly et al. 2017, USGS Data Series 1035), and their
 * resampling to a sensor's bands.
 *
 *   element          syntax (RFC 4180 CSV, any of CR, LF, CRLF ends a line)
 *   file             [UTF-8 BOM] { blank line | comment line } header { row | blank | comment }
 *   blank line       only spaces and tabs
 *   comment line     first non-blank byte '#'
 *   field            blanks, then "quoted" (with "" for ") or bare bytes without , " CR LF,
 *                    then blanks; control bytes (< 0x20 but tab, and 0x7f) are refused
 *   spectra header   wavelength_um , name1 [, name2 ...]          (case-insensitive first field)
 *     single         exactly "wavelength_um,reflectance": one spectrum, named after the
 *                    file (its base name without .csv) -- the USGS files of shared/data
 *     multi          any other names: one spectrum per column, named by its header
 *   spectra row      wavelength , value [, value ...]   (as many fields as the header)
 *     wavelength     decimal number in um, VG_SPECLIB_MIN_WL_UM..VG_SPECLIB_MAX_WL_UM, strictly increasing
 *     value          decimal number; "NaN" (any case), an empty field or a number at or below
 *                    VG_SPECLIB_DELETED (the USGS marker -1.23e34) is a deleted channel
 *   index header     file [, other columns ...]                   (case-insensitive first field)
 *   index row        relative path of a spectra file [, ignored ...]  (as many fields as the header)
 *
 * Numbers are read here, not with strtod: the library never depends on the
 * process locale (cmake/warnings.cmake). Up to 19 significant digits are kept;
 * a value of at most 15 digits with a decimal exponent within +-22 is exact
 * (Clinger's fast path), any other within a few ulp.
 *
 * Every byte is read through the checked cursor of util/rd.h; errors name the
 * file, the line (every CR, LF or CRLF counts one) and the byte offset.
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect_int.h"
#include "util/rd.h"
#include "util/utf8.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- library storage ------------------------------------------------------------------ */

static void spectrum_clear(vg__spectrum *s)
{
  free(s->name);
  free(s->wl);
  free(s->r);
  memset(s, 0, sizeof *s);
}

void vg_speclib_free(vg_speclib *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    spectrum_clear(&l->s[i]);
  free(l->s);
  free(l);
}

size_t vg_speclib_count(const vg_speclib *l) { return l ? l->n : 0; }

const char *vg_speclib_name(const vg_speclib *l, size_t i)
{
  return l && i < l->n ? l->s[i].name : NULL;
}

static int lower_ascii(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static int equal_ci(const char *a, const char *b)
{
  for (; *a && *b; a++, b++)
    if (lower_ascii((unsigned char)*a) != lower_ascii((unsigned char)*b))
      return 0;
  return *a == *b;
}

long vg_speclib_find(const vg_speclib *l, const char *part)
{
  size_t m;
  if (!l || !part)
    return -1;
  m = strlen(part);
  for (size_t i = 0; i < l->n; i++) {
    const char *h = l->s[i].name;
    size_t hn = strlen(h);
    for (size_t at = 0; m <= hn && at <= hn - m; at++) {
      size_t k = 0;
      while (k < m && lower_ascii((unsigned char)h[at + k]) == lower_ascii((unsigned char)part[k]))
        k++;
      if (k == m)
        return (long)i;
    }
  }
  return -1;
}

/* Moves *s into l (l owns it then, *s is cleared), refusing a name already there. */
static int lib_take(vg_speclib *l, vg__spectrum *s, const char *src)
{
  if (l->n >= VG_SPECLIB_MAX_SPECTRA)
    return vg_error_set(VG_E_LIMIT, "%s: more than %d spectra in one library (VG_SPECLIB_MAX_SPECTRA)",
                        src, VG_SPECLIB_MAX_SPECTRA);
  if (s->nch > VG_SPECLIB_MAX_VALUES - l->values)
    return vg_error_set(VG_E_LIMIT, "%s: more than %zu channel values in one library (VG_SPECLIB_MAX_VALUES)",
                        src, VG_SPECLIB_MAX_VALUES);
  for (size_t i = 0; i < l->n; i++)
    if (equal_ci(l->s[i].name, s->name))
      return vg_error_set(VG_E_MALFORMED,
                          "%s: spectrum name '%s' is already in the library (names are compared ignoring case)",
                          src, s->name);
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    vg__spectrum *ns;
    if (cap > VG_SPECLIB_MAX_SPECTRA)
      cap = VG_SPECLIB_MAX_SPECTRA;
    if (!(ns = realloc(l->s, cap * sizeof *ns)))
      return vg_error_set(VG_E_NOMEM, "%s: library of %zu spectra", src, cap);
    l->s = ns;
    l->cap = cap;
  }
  l->s[l->n++] = *s;
  l->values += s->nch;
  memset(s, 0, sizeof *s);
  return VG_OK;
}

/* Moves every spectrum of *from into l; *from is freed either way. */
static int lib_merge(vg_speclib *l, vg_speclib *from, const char *src)
{
  int rc = VG_OK;
  for (size_t i = 0; i < from->n && rc == VG_OK; i++)
    rc = lib_take(l, &from->s[i], src);
  vg_speclib_free(from);
  return rc;
}

/* ---- CSV through the checked reader ----------------------------------------------------- */

typedef struct csv {
  vg_rd r;
  const char *src;  /* file name for messages */
  size_t line;      /* 1-based line of the cursor */
} csv;

/* What follows a field: another field of the same line, or the end of the line (or input). */
enum { CSV_MORE = 1, CSV_EOL = 2 };

/* An error at byte @p off of line @p line of the file being read. */
static int csv_err(const csv *c, size_t line, int code, size_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int csv_err(const csv *c, size_t line, int code, size_t off, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return vg_error_set(code, "%s: line %zu (byte %zu): %s", c->src, line, off, msg);
}

static int is_blank(uint8_t b) { return b == ' ' || b == '\t'; }
static int is_eol(uint8_t b) { return b == '\r' || b == '\n'; }
static int is_control(uint8_t b) { return (b < 0x20 && b != '\t') || b == 0x7f; }

static void skip_blanks(csv *c)
{
  while (rd_left(&c->r) && is_blank(rd_peek_u8(&c->r, 0)))
    rd_u8(&c->r);
}

/* Consumes one line end (CR, LF or CRLF) at the cursor. */
static void eat_eol(csv *c)
{
  if (rd_u8(&c->r) == '\r' && rd_left(&c->r) && rd_peek_u8(&c->r, 0) == '\n')
    rd_u8(&c->r);
  c->line++;
}

/*
 * Steps over blank and comment lines. @return 1 when a row starts at the
 * cursor (leading blanks skipped), 0 at the end of the input.
 */
static int csv_next_row(csv *c)
{
  for (;;) {
    uint8_t b;
    skip_blanks(c);
    if (!rd_left(&c->r))
      return 0;
    b = rd_peek_u8(&c->r, 0);
    if (is_eol(b)) {
      eat_eol(c);
      continue;
    }
    if (b != '#')
      return 1;
    while (rd_left(&c->r) && !is_eol(rd_peek_u8(&c->r, 0)))
      rd_u8(&c->r);
  }
}

/*
 * Reads one field into dst (cap bytes with the NUL; dst NULL: read and drop
 * it, any length). @p what names it in messages. *off is the field's byte
 * offset, *len its length. @return CSV_MORE, CSV_EOL or a negative error.
 */
static int csv_field(csv *c, char *dst, size_t cap, size_t *len, size_t *off, const char *what)
{
  size_t n = 0, keep = 0;
  uint8_t b;

  skip_blanks(c);
  *off = rd_pos(&c->r);
  if (rd_left(&c->r) && rd_peek_u8(&c->r, 0) == '"') {
    rd_u8(&c->r);
    for (;;) {
      if (!rd_left(&c->r))
        return csv_err(c, c->line, VG_E_TRUNCATED, *off, "%s: the quoted field is not closed before the end", what);
      b = rd_u8(&c->r);
      if (b == '"') {
        if (!rd_left(&c->r) || rd_peek_u8(&c->r, 0) != '"')
          break;
        rd_u8(&c->r);
      } else if (is_eol(b)) {
        return csv_err(c, c->line, VG_E_MALFORMED, *off, "%s: line end inside a quoted field", what);
      } else if (is_control(b)) {
        return csv_err(c, c->line, VG_E_MALFORMED, rd_pos(&c->r) - 1, "%s: control byte 0x%02x", what, b);
      }
      if (dst) {
        if (n + 1 >= cap)
          return csv_err(c, c->line, VG_E_LIMIT, *off, "%s longer than %zu bytes", what, cap - 1);
        dst[n] = (char)b;
      }
      n++;
    }
    keep = n;
    skip_blanks(c);
    if (rd_left(&c->r) && rd_peek_u8(&c->r, 0) != ',' && !is_eol(rd_peek_u8(&c->r, 0)))
      return csv_err(c, c->line, VG_E_MALFORMED, rd_pos(&c->r), "%s: byte 0x%02x after the closing quote", what,
                     rd_peek_u8(&c->r, 0));
  } else {
    while (rd_left(&c->r) && (b = rd_peek_u8(&c->r, 0)) != ',' && !is_eol(b)) {
      if (b == '"')
        return csv_err(c, c->line, VG_E_MALFORMED, rd_pos(&c->r), "%s: a quote inside a bare field", what);
      if (is_control(b))
        return csv_err(c, c->line, VG_E_MALFORMED, rd_pos(&c->r), "%s: control byte 0x%02x", what, b);
      if (dst) {
        if (n + 1 >= cap)
          return csv_err(c, c->line, VG_E_LIMIT, *off, "%s longer than %zu bytes", what, cap - 1);
        dst[n] = (char)b;
      }
      rd_u8(&c->r);
      n++;
      if (!is_blank(b))
        keep = n; /* trailing blanks are not part of a bare field */
    }
  }
  if (dst)
    dst[keep] = '\0';
  *len = keep;
  if (!rd_left(&c->r))
    return CSV_EOL;
  if (rd_peek_u8(&c->r, 0) == ',') {
    rd_u8(&c->r);
    return CSV_MORE;
  }
  eat_eol(c);
  return CSV_EOL;
}

/* ---- numbers --------------------------------------------------------------------------- */

/* Powers of ten exact in a double (10^22 < 2^53 * 2^22). */
static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/*
 * [+-] digits [. digits] [(e|E) [+-] digits], with at least one mantissa
 * digit, all of s[0..n). @return 0 and *v, or -1.
 */
static int parse_number(const char *s, size_t n, double *v)
{
  size_t i = 0;
  int neg = 0, kept = 0, digits = 0;
  uint64_t m = 0;
  long e10 = 0;
  double x;

  if (i < n && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  for (; i < n && is_digit(s[i]); i++, digits++) {
    if (m == 0 && s[i] == '0')
      continue;
    if (kept < 19) {
      m = m * 10 + (uint64_t)(s[i] - '0');
      kept++;
    } else {
      e10++;
    }
  }
  if (i < n && s[i] == '.')
    for (i++; i < n && is_digit(s[i]); i++, digits++) {
      if (m == 0 && s[i] == '0') {
        e10--;
      } else if (kept < 19) {
        m = m * 10 + (uint64_t)(s[i] - '0');
        kept++;
        e10--;
      }
    }
  if (!digits)
    return -1;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    int eneg = 0, ed = 0;
    long ex = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      eneg = s[i++] == '-';
    for (; i < n && is_digit(s[i]); i++, ed++)
      if (ex < 100000)
        ex = ex * 10 + (s[i] - '0');
    if (!ed)
      return -1;
    e10 += eneg ? -ex : ex;
  }
  if (i != n)
    return -1;
  if (m == 0)
    x = 0.0;
  else if (m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22)
    x = e10 >= 0 ? (double)m * p10[e10] : (double)m / p10[-e10];
  else if (e10 < -300)
    x = (double)m * 1e-300 * pow(10.0, (double)(e10 + 300));
  else
    x = (double)m * pow(10.0, (double)e10);
  *v = neg ? -x : x;
  return 0;
}

/* ---- one file ----------------------------------------------------------------------------- */

/* What a file turned out to be. */
enum { KIND_SPECTRA = 1, KIND_INDEX = 2 };

/* The paths an index lists, with their lines. */
typedef struct idx_list {
  size_t n;
  char **path;
  size_t *line;
} idx_list;

static void idx_free(idx_list *x)
{
  for (size_t i = 0; i < x->n; i++)
    free(x->path[i]);
  free(x->path);
  free(x->line);
  memset(x, 0, sizeof *x);
}

static char *dup_str(const char *s, size_t n)
{
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* A spectrum name must be well-formed UTF-8 (it goes to JSON and reports). */
static int utf8_ok(const char *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    size_t k = vg__util_utf8_len((const uint8_t *)s + i, n - i);
    if (!k)
      return 0;
    i += k;
  }
  return 1;
}

/* The spectrum name of a single-spectrum file: its base name without ".csv". */
static int name_from_path(const char *src, char *out, size_t cap)
{
  const char *b = strrchr(src, '/');
  size_t n;
  b = b ? b + 1 : src;
  n = strlen(b);
  if (n >= 4 && equal_ci(b + n - 4, ".csv"))
    n -= 4;
  if (n == 0) {
    b = "spectrum";
    n = strlen(b);
  }
  if (n >= cap || n > VG_SPECLIB_MAX_NAME)
    return vg_error_set(VG_E_LIMIT, "%s: file name longer than %d bytes (VG_SPECLIB_MAX_NAME) to name its spectrum",
                        src, VG_SPECLIB_MAX_NAME);
  if (!utf8_ok(b, n))
    return vg_error_set(VG_E_MALFORMED, "%s: file name is not UTF-8 and cannot name its spectrum", src);
  memcpy(out, b, n);
  out[n] = '\0';
  return VG_OK;
}

/* Grows a double array to hold need elements (need bounded by the caller's limits). */
static int grow(double **a, size_t *cap, size_t need)
{
  size_t c = *cap ? *cap : 256;
  double *na;
  if (need <= *cap)
    return 0;
  while (c < need)
    c *= 2;
  if (!(na = realloc(*a, c * sizeof *na)))
    return -1;
  *a = na;
  *cap = c;
  return 0;
}

/* Parser state of one spectra file. */
typedef struct sfile {
  size_t k;              /* spectrum columns */
  char **names;          /* k names */
  size_t rows;
  double *wl, *val;      /* rows; rows x k (row-major) */
  size_t wl_cap, val_cap;
} sfile;

static void sfile_free(sfile *f)
{
  if (f->names)
    for (size_t j = 0; j < f->k; j++)
      free(f->names[j]);
  free(f->names);
  free(f->wl);
  free(f->val);
}

/* Header of a spectra file; the first field (wavelength_um) is already read and it said CSV_MORE. */
static int spectra_header(csv *c, sfile *f, size_t budget, size_t line)
{
  char buf[VG_SPECLIB_MAX_NAME + 1];
  size_t cap = 0, len, off;
  int st = CSV_MORE;

  while (st == CSV_MORE) {
    st = csv_field(c, buf, sizeof buf, &len, &off, "spectrum name");
    if (st < 0)
      return st;
    if (f->k >= VG_SPECLIB_MAX_SPECTRA)
      return csv_err(c, line, VG_E_LIMIT, off, "more than %d spectrum columns (VG_SPECLIB_MAX_SPECTRA)",
                     VG_SPECLIB_MAX_SPECTRA);
    if (f->k + 1 > budget)
      return csv_err(c, line, VG_E_LIMIT, off, "the library would hold more than %d spectra (VG_SPECLIB_MAX_SPECTRA)",
                     VG_SPECLIB_MAX_SPECTRA);
    if (len == 0)
      return csv_err(c, line, VG_E_MALFORMED, off, "header column %zu has no name", f->k + 2);
    if (!utf8_ok(buf, len))
      return csv_err(c, line, VG_E_MALFORMED, off, "header column %zu: name is not UTF-8", f->k + 2);
    if (f->k == cap) {
      size_t nc = cap ? 2 * cap : 8;
      char **nn = realloc(f->names, nc * sizeof *nn);
      if (!nn)
        return vg_error_set(VG_E_NOMEM, "%s: %zu header names", c->src, nc);
      f->names = nn;
      cap = nc;
    }
    if (!(f->names[f->k] = dup_str(buf, len)))
      return vg_error_set(VG_E_NOMEM, "%s: header name", c->src);
    f->k++;
  }
  return VG_OK;
}

/* The data rows of a spectra file. */
static int spectra_rows(csv *c, sfile *f, size_t value_budget)
{
  char buf[VG_SPECLIB_MAX_NUMBER + 1];
  size_t len, off, ncol = f->k + 1;

  while (csv_next_row(c)) {
    size_t line = c->line, need;
    double *vrow;
    if (f->rows >= VG_SPECLIB_MAX_CHANNELS)
      return csv_err(c, line, VG_E_LIMIT, rd_pos(&c->r), "more than %d channels (VG_SPECLIB_MAX_CHANNELS)",
                     VG_SPECLIB_MAX_CHANNELS);
    need = (f->rows + 1) * f->k; /* <= 65536 * 4096: no overflow */
    if (need > value_budget)
      return csv_err(c, line, VG_E_LIMIT, rd_pos(&c->r),
                     "more than %zu channel values in the library (VG_SPECLIB_MAX_VALUES)", VG_SPECLIB_MAX_VALUES);
    if (grow(&f->wl, &f->wl_cap, f->rows + 1) || grow(&f->val, &f->val_cap, need))
      return vg_error_set(VG_E_NOMEM, "%s: %zu channels", c->src, f->rows + 1);
    vrow = f->val + f->rows * f->k;
    for (size_t j = 0; j < ncol; j++) {
      double v;
      int st = csv_field(c, buf, sizeof buf, &len, &off, j ? "value" : "wavelength");
      if (st < 0)
        return st;
      if (j == 0) {
        if (parse_number(buf, len, &v) != 0)
          return csv_err(c, line, VG_E_MALFORMED, off, "wavelength '%s' is not a number", buf);
        if (!isfinite(v) || !(v > 0))
          return csv_err(c, line, VG_E_MALFORMED, off, "wavelength %g um is not a positive finite number", v);
        if (v < VG_SPECLIB_MIN_WL_UM)
          return csv_err(c, line, VG_E_LIMIT, off, "wavelength %g um is below %g um (VG_SPECLIB_MIN_WL_UM)", v,
                         VG_SPECLIB_MIN_WL_UM);
        if (v > VG_SPECLIB_MAX_WL_UM)
          return csv_err(c, line, VG_E_LIMIT, off,
                         "wavelength %g um is beyond %g um (VG_SPECLIB_MAX_WL_UM; the column is in micrometres, "
                         "not nanometres)",
                         v, VG_SPECLIB_MAX_WL_UM);
        if (f->rows && !(v > f->wl[f->rows - 1]))
          return csv_err(c, line, VG_E_MALFORMED, off, "wavelength %.9g um does not increase (previous %.9g um)", v,
                         f->wl[f->rows - 1]);
        f->wl[f->rows] = v;
      } else if (len == 0 || (len == 3 && equal_ci(buf, "nan"))) {
        vrow[j - 1] = NAN;
      } else {
        if (parse_number(buf, len, &v) != 0)
          return csv_err(c, line, VG_E_MALFORMED, off, "value '%s' (column %zu) is not a number", buf, j + 1);
        if (v <= VG_SPECLIB_DELETED)
          v = NAN;
        else if (!(fabs(v) <= VG_SPECLIB_MAX_ABS_VALUE))
          return csv_err(c, line, VG_E_MALFORMED, off, "value %g (column %zu) is out of range", v, j + 1);
        vrow[j - 1] = v;
      }
      if (j + 1 < ncol && st == CSV_EOL)
        return vg_error_set(VG_E_MALFORMED, "%s: line %zu (byte %zu): %zu fields, the header has %zu", c->src, line,
                            off, j + 1, ncol);
      if (j + 1 == ncol && st == CSV_MORE)
        return vg_error_set(VG_E_MALFORMED, "%s: line %zu (byte %zu): more fields than the header's %zu", c->src,
                            line, rd_pos(&c->r), ncol);
    }
    f->rows++;
  }
  return VG_OK;
}

/* Turns the columns of a parsed spectra file into spectra of lib. */
static int spectra_build(const csv *c, sfile *f, vg_speclib *lib)
{
  if (f->rows < 2)
    return vg_error_set(VG_E_MALFORMED, "%s: %zu data rows: a spectrum needs at least 2 channels", c->src,
                        f->rows);
  for (size_t j = 0; j < f->k; j++) {
    vg__spectrum s;
    size_t nvalid = 0;
    int rc;
    memset(&s, 0, sizeof s);
    s.nch = f->rows;
    s.first = f->rows;
    for (size_t i = 0; i < f->rows; i++)
      if (!isnan(f->val[i * f->k + j])) {
        if (s.first == f->rows)
          s.first = i;
        s.last = i;
        nvalid++;
      }
    if (nvalid < 2)
      return vg_error_set(VG_E_MALFORMED, "%s: spectrum '%s' has %zu valid channels, at least 2 are needed",
                          c->src, f->names[j], nvalid);
    if (!(s.wl = malloc(f->rows * sizeof *s.wl)) || !(s.r = malloc(f->rows * sizeof *s.r))) {
      spectrum_clear(&s);
      return vg_error_set(VG_E_NOMEM, "%s: spectrum of %zu channels", c->src, f->rows);
    }
    memcpy(s.wl, f->wl, f->rows * sizeof *s.wl);
    for (size_t i = 0; i < f->rows; i++)
      s.r[i] = f->val[i * f->k + j];
    s.name = f->names[j];
    f->names[j] = NULL;
    rc = lib_take(lib, &s, c->src);
    spectrum_clear(&s);
    if (rc != VG_OK)
      return rc;
  }
  return VG_OK;
}

/* The rows of an index; the header (first field "file") is read up to the end of its line. */
static int index_rows(csv *c, size_t ncol, idx_list *x)
{
  char buf[VG_SPECLIB_MAX_PATH + 1];
  size_t len, off, cap = 0;

  while (csv_next_row(c)) {
    size_t line = c->line;
    for (size_t j = 0; j < ncol; j++) {
      int st = csv_field(c, j ? NULL : buf, sizeof buf, &len, &off, j ? "index column" : "file path");
      if (st < 0)
        return st;
      if (j == 0) {
        const char *p = buf;
        if (x->n >= VG_SPECLIB_MAX_FILES)
          return csv_err(c, line, VG_E_LIMIT, off, "more than %d files listed (VG_SPECLIB_MAX_FILES)",
                         VG_SPECLIB_MAX_FILES);
        if (len == 0)
          return csv_err(c, line, VG_E_MALFORMED, off, "empty file path");
        if (buf[0] == '/')
          return csv_err(c, line, VG_E_MALFORMED, off,
                         "file path '%s' is absolute: an index lists paths relative to its folder", buf);
        for (;;) { /* no ".." component: a library stays inside its folder */
          const char *e = strchr(p, '/');
          size_t cl = e ? (size_t)(e - p) : strlen(p);
          if (cl == 2 && p[0] == '.' && p[1] == '.')
            return csv_err(c, line, VG_E_MALFORMED, off, "file path '%s' leaves the index's folder (..)", buf);
          if (!e)
            break;
          p = e + 1;
        }
        if (x->n == cap) {
          size_t nc = cap ? 2 * cap : 32;
          char **np = realloc(x->path, nc * sizeof *np);
          size_t *nl;
          if (!np)
            return vg_error_set(VG_E_NOMEM, "%s: index of %zu files", c->src, nc);
          x->path = np;
          if (!(nl = realloc(x->line, nc * sizeof *nl)))
            return vg_error_set(VG_E_NOMEM, "%s: index of %zu files", c->src, nc);
          x->line = nl;
          cap = nc;
        }
        if (!(x->path[x->n] = dup_str(buf, len)))
          return vg_error_set(VG_E_NOMEM, "%s: index path", c->src);
        x->line[x->n++] = line;
      }
      if (j + 1 < ncol && st == CSV_EOL)
        return vg_error_set(VG_E_MALFORMED, "%s: line %zu (byte %zu): %zu fields, the header has %zu", c->src, line,
                            off, j + 1, ncol);
      if (j + 1 == ncol && st == CSV_MORE)
        return vg_error_set(VG_E_MALFORMED, "%s: line %zu (byte %zu): more fields than the header's %zu", c->src,
                            line, rd_pos(&c->r), ncol);
    }
  }
  if (!x->n)
    return vg_error_set(VG_E_MALFORMED, "%s: the index lists no file", c->src);
  return VG_OK;
}

/*
 * Parses one file. A spectra file adds its spectra to a new library *lib
 * (KIND_SPECTRA); an index fills *x (KIND_INDEX), or is refused when x is
 * NULL. @p budget_spectra / @p budget_values: what the library may still take.
 */
static int parse_file(const uint8_t *buf, size_t len, const char *src, vg_speclib **lib, idx_list *x,
                      int *kind, size_t budget_spectra, size_t budget_values)
{
  csv c;
  sfile f;
  char first[VG_SPECLIB_MAX_NAME + 1];
  size_t flen, off, hline;
  int st, rc;
  vg_speclib *l = NULL;

  memset(&f, 0, sizeof f);
  rd_init(&c.r, buf, len);
  c.src = src;
  c.line = 1;
  if (len > VG_SPECLIB_MAX_FILE_BYTES)
    return vg_error_set(VG_E_LIMIT, "%s: %zu bytes, more than VG_SPECLIB_MAX_FILE_BYTES (%zu)", src, len,
                        VG_SPECLIB_MAX_FILE_BYTES);
  if (rd_left(&c.r) >= 3 && rd_peek_u8(&c.r, 0) == 0xef && rd_peek_u8(&c.r, 1) == 0xbb &&
      rd_peek_u8(&c.r, 2) == 0xbf)
    rd_skip(&c.r, 3);
  if (!csv_next_row(&c))
    return vg_error_set(VG_E_MALFORMED, "%s: no header line (empty, blank or comments only)", src);
  hline = c.line;
  if ((st = csv_field(&c, first, sizeof first, &flen, &off, "header")) < 0)
    return st;
  if (equal_ci(first, "file")) {
    size_t ncol = 1;
    *kind = KIND_INDEX;
    if (!x)
      return vg_error_set(VG_E_UNSUPPORTED, "%s: an index of files can only be read from a path", src);
    while (st == CSV_MORE) /* the other columns are named but not used */
      if ((st = csv_field(&c, NULL, 0, &flen, &off, "index header")) < 0)
        return st;
      else
        ncol++;
    return index_rows(&c, ncol, x);
  }
  if (!equal_ci(first, "wavelength_um"))
    return csv_err(&c, hline, VG_E_MALFORMED, off,
                   "header starts with '%s': expected 'wavelength_um' (spectra) or 'file' (index)", first);
  *kind = KIND_SPECTRA;
  if (st != CSV_MORE)
    return csv_err(&c, hline, VG_E_MALFORMED, off, "the header names no spectrum after wavelength_um");
  if ((rc = spectra_header(&c, &f, budget_spectra, hline)) != VG_OK)
    goto done;
  if (f.k == 1 && equal_ci(f.names[0], "reflectance")) { /* USGS single spectrum: named after the file */
    char nm[VG_SPECLIB_MAX_NAME + 1];
    char *d;
    if ((rc = name_from_path(src, nm, sizeof nm)) != VG_OK)
      goto done;
    if (!(d = dup_str(nm, strlen(nm)))) {
      rc = vg_error_set(VG_E_NOMEM, "%s: name", src);
      goto done;
    }
    free(f.names[0]);
    f.names[0] = d;
  }
  if ((rc = spectra_rows(&c, &f, budget_values)) != VG_OK)
    goto done;
  if (!(l = calloc(1, sizeof *l))) {
    rc = vg_error_set(VG_E_NOMEM, "%s: library", src);
    goto done;
  }
  if ((rc = spectra_build(&c, &f, l)) != VG_OK)
    goto done;
  *lib = l;
  l = NULL;
done:
  vg_speclib_free(l);
  sfile_free(&f);
  return rc;
}

int vg__detect_speclib_from_mem(vg_speclib **out, const uint8_t *buf, size_t len, const char *name)
{
  vg_speclib *l = NULL;
  int kind = 0, rc;
  if (!out || (!buf && len))
    return vg_error_set(VG_E_INVALID, "spectral library from memory: no buffer");
  if (!name)
    name = "(memory)";
  rc = parse_file(buf, len, name, &l, NULL, &kind, VG_SPECLIB_MAX_SPECTRA, VG_SPECLIB_MAX_VALUES);
  if (rc == VG_OK)
    *out = l;
  return rc;
}

/* ---- files, indexes, directories ------------------------------------------------------------ */

/* Reads a whole regular file of at most max bytes. */
static int read_all(const char *path, size_t max, uint8_t **buf, size_t *len)
{
  FILE *f = NULL;
  uint8_t *b = NULL;
  struct stat st;
  long n;
  int rc = VG_OK;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = vg_error_set(VG_E_IO, "%s: no such regular file", path);
    goto done;
  }
  if (!(f = fopen(path, "rb"))) {
    rc = vg_error_set(VG_E_IO, "%s: cannot open", path);
    goto done;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    rc = vg_error_set(VG_E_IO, "%s: cannot size", path);
    goto done;
  }
  if ((unsigned long)n > max) {
    rc = vg_error_set(VG_E_LIMIT,
                      "%s: %ld bytes, more than %zu (VG_SPECLIB_MAX_FILE_BYTES, VG_SPECLIB_MAX_LIBRARY_BYTES)",
                      path, n, max);
    goto done;
  }
  if (!(b = malloc((size_t)n + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "%s: %ld bytes", path, n);
    goto done;
  }
  if (fread(b, 1, (size_t)n, f) != (size_t)n) {
    rc = vg_error_set(VG_E_IO, "%s: short read", path);
    goto done;
  }
  *buf = b;
  *len = (size_t)n;
  b = NULL;
done:
  if (f)
    fclose(f);
  free(b);
  return rc;
}

/* Loading state: the library being built and the bytes read so far. */
typedef struct loader {
  vg_speclib *lib;
  size_t bytes;
} loader;

/* Reads one file; a spectra file is merged into ld->lib, an index into *x (NULL: refused). */
static int load_file(loader *ld, const char *path, idx_list *x, int *kind)
{
  uint8_t *buf = NULL;
  size_t len = 0, max = VG_SPECLIB_MAX_LIBRARY_BYTES - ld->bytes;
  vg_speclib *part = NULL;
  int rc;
  if (max > VG_SPECLIB_MAX_FILE_BYTES)
    max = VG_SPECLIB_MAX_FILE_BYTES;
  if ((rc = read_all(path, max, &buf, &len)) != VG_OK)
    return rc;
  ld->bytes += len;
  rc = parse_file(buf, len, path, &part, x, kind, VG_SPECLIB_MAX_SPECTRA - ld->lib->n,
                  VG_SPECLIB_MAX_VALUES - ld->lib->values);
  free(buf);
  if (rc == VG_OK && *kind == KIND_SPECTRA)
    rc = lib_merge(ld->lib, part, path);
  return rc;
}

static int join(char *out, size_t cap, const char *dir, const char *rel)
{
  int n = snprintf(out, cap, "%s/%s", dir, rel);
  if (n < 0 || (size_t)n >= cap)
    return vg_error_set(VG_E_LIMIT, "path %s/%s longer than %d bytes (VG_SPECLIB_MAX_PATH)", dir, rel,
                        VG_SPECLIB_MAX_PATH);
  return VG_OK;
}

/* Loads every file an index lists, relative to the index's folder @p dir. */
static int load_listed(loader *ld, const char *index_path, const char *dir, const idx_list *x)
{
  char path[VG_SPECLIB_MAX_PATH + 1];
  for (size_t i = 0; i < x->n; i++) {
    int kind = 0, rc;
    if ((rc = join(path, sizeof path, dir, x->path[i])) != VG_OK)
      return rc;
    rc = load_file(ld, path, NULL, &kind);
    if (rc == VG_E_UNSUPPORTED && kind == KIND_INDEX)
      rc = vg_error_set(VG_E_MALFORMED, "%s: is an index; an index lists spectra files only", path);
    if (rc != VG_OK) {
      char msg[768];
      snprintf(msg, sizeof msg, "%s", vg_error_last());
      return vg_error_set(rc, "%s (listed in %s line %zu)", msg, index_path, x->line[i]);
    }
  }
  return VG_OK;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.csv of a folder without index.csv, in name order. */
static int load_dir(loader *ld, const char *dir)
{
  char path[VG_SPECLIB_MAX_PATH + 1];
  DIR *d = NULL;
  struct dirent *e;
  idx_list x;
  size_t cap = 0;
  int rc = VG_OK;

  memset(&x, 0, sizeof x);
  if (!(d = opendir(dir))) {
    rc = vg_error_set(VG_E_IO, "%s: cannot list the folder", dir);
    goto done;
  }
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    struct stat st;
    if (e->d_name[0] == '.' || n < 5 || !equal_ci(e->d_name + n - 4, ".csv"))
      continue;
    if ((rc = join(path, sizeof path, dir, e->d_name)) != VG_OK)
      goto done;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (x.n >= VG_SPECLIB_MAX_FILES) {
      rc = vg_error_set(VG_E_LIMIT, "%s: more than %d .csv files (VG_SPECLIB_MAX_FILES)", dir, VG_SPECLIB_MAX_FILES);
      goto done;
    }
    if (x.n == cap) {
      size_t nc = cap ? 2 * cap : 32;
      char **np = realloc(x.path, nc * sizeof *np);
      if (!np) {
        rc = vg_error_set(VG_E_NOMEM, "%s: folder listing", dir);
        goto done;
      }
      x.path = np;
      cap = nc;
    }
    if (!(x.path[x.n] = dup_str(e->d_name, n))) {
      rc = vg_error_set(VG_E_NOMEM, "%s: folder listing", dir);
      goto done;
    }
    x.n++;
  }
  if (!x.n) {
    rc = vg_error_set(VG_E_NOTFOUND, "%s: no index.csv and no .csv spectra file in the folder", dir);
    goto done;
  }
  qsort(x.path, x.n, sizeof *x.path, cmp_str);
  for (size_t i = 0; i < x.n && rc == VG_OK; i++) {
    int kind = 0;
    if ((rc = join(path, sizeof path, dir, x.path[i])) != VG_OK)
      break;
    rc = load_file(ld, path, NULL, &kind);
    if (rc == VG_E_UNSUPPORTED && kind == KIND_INDEX)
      rc = vg_error_set(VG_E_MALFORMED, "%s: is an index; in a folder only index.csv is read as one", path);
  }
done:
  if (d)
    closedir(d);
  idx_free(&x);
  return rc;
}

int vg_speclib_read(vg_speclib **out, const char *path)
{
  char dir[VG_SPECLIB_MAX_PATH + 1], idx[VG_SPECLIB_MAX_PATH + 1];
  struct stat st;
  loader ld;
  idx_list x;
  int rc = VG_OK, kind = 0;

  memset(&x, 0, sizeof x);
  ld.bytes = 0;
  if (!out || !path || !*path)
    return vg_error_set(VG_E_INVALID, "spectral library: no path");
  if (strlen(path) > VG_SPECLIB_MAX_PATH - 16)
    return vg_error_set(VG_E_LIMIT, "spectral library path longer than %d bytes (VG_SPECLIB_MAX_PATH)",
                        VG_SPECLIB_MAX_PATH - 16);
  if (stat(path, &st) != 0)
    return vg_error_set(VG_E_IO, "%s: no such file or folder", path);
  if (!(ld.lib = calloc(1, sizeof *ld.lib)))
    return vg_error_set(VG_E_NOMEM, "spectral library");
  if (S_ISDIR(st.st_mode)) {
    struct stat si;
    snprintf(dir, sizeof dir, "%s", path);
    snprintf(idx, sizeof idx, "%s/index.csv", path);
    if (stat(idx, &si) != 0 || !S_ISREG(si.st_mode)) {
      rc = load_dir(&ld, dir);
      goto done;
    }
  } else {
    const char *slash = strrchr(path, '/');
    snprintf(idx, sizeof idx, "%s", path);
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == path)
      snprintf(dir, sizeof dir, "/");
    else
      snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  }
  if ((rc = load_file(&ld, idx, &x, &kind)) != VG_OK)
    goto done;
  if (kind == KIND_INDEX)
    rc = load_listed(&ld, idx, dir, &x);
done:
  idx_free(&x);
  if (rc == VG_OK) {
    *out = ld.lib;
    return VG_OK;
  }
  vg_speclib_free(ld.lib);
  return rc;
}

/* ---- resampling --------------------------------------------------------------------------- */

/*
 * Band k of a sensor: a Gaussian response g centred at c with FWHM the local
 * band spacing, integrated exactly against the spectrum taken as linear
 * between valid channels. With t = (lambda - c) / (sigma sqrt 2), over a
 * segment [a, b]:
 *   G0 = int g             = sigma sqrt(pi/2) (erf(tb) - erf(ta))
 *   G1 = int (lambda-c) g  = sigma^2 (exp(-ta^2) - exp(-tb^2))
 *   int r g = ra Wa + rb Wb, Wb = int (lambda-a)/(b-a) g = (G1 + (c-a) G0) / (b-a), Wa = G0 - Wb
 * Wb is clamped to [0, G0] (rounding, on a segment short and far from c), so
 * each band is a convex combination of valid channel values: never outside
 * their range. The band value is sum(int r g) / sum(G0) over valid segments:
 * a flat spectrum gives back its value, a linear one the band centre, and
 * narrow bands on a coarse grid still see the interpolated spectrum.
 * Segments with a deleted end are a gap.
 */
int vg_speclib_resample(const vg_speclib *l, size_t i, const double *wl_um, int bands, float *out)
{
  const vg__spectrum *s;
  const double k_sigma = 1.0 / (2.0 * sqrt(2.0 * log(2.0)));
  float *tmp = NULL;
  int rc = VG_OK;

  if (!l || i >= l->n || !wl_um || !out)
    return vg_error_set(VG_E_INVALID, "resample: no library, spectrum %zu of %zu, or no band arrays", i,
                        l ? l->n : 0);
  if (bands < 2)
    return vg_error_set(VG_E_INVALID,
                        "resample: %d band(s): the FWHM is taken from the band spacing, 2 or more are needed",
                        bands);
  for (int k = 0; k < bands; k++)
    if (!isfinite(wl_um[k]) || !(wl_um[k] > 0) || (k && !(wl_um[k] > wl_um[k - 1])))
      return vg_error_set(VG_E_INVALID, "resample: band %d centre %g um: centres must be positive and increasing", k,
                          wl_um[k]);
  s = &l->s[i];
  if (!(tmp = malloc((size_t)bands * sizeof *tmp)))
    return vg_error_set(VG_E_NOMEM, "resample: %d bands", bands);
  for (int k = 0; k < bands; k++) {
    double c = wl_um[k], fwhm, sigma, lo, hi, num = 0, den = 0, total;
    size_t a, b;
    if (k == 0)
      fwhm = wl_um[1] - wl_um[0];
    else if (k == bands - 1)
      fwhm = wl_um[k] - wl_um[k - 1];
    else
      fwhm = 0.5 * (wl_um[k + 1] - wl_um[k - 1]);
    if (c < s->wl[s->first] || c > s->wl[s->last]) {
      rc = vg_error_set(VG_E_RANGE, "resample: band %d at %.6g um lies outside the valid range %.6g-%.6g um of '%s'", k,
                        c, s->wl[s->first], s->wl[s->last], s->name);
      goto done;
    }
    sigma = fwhm * k_sigma;
    lo = c - VG_SPECLIB_GAUSS_CUT * sigma;
    hi = c + VG_SPECLIB_GAUSS_CUT * sigma;
    /* first segment [wl[a], wl[a+1]] with wl[a+1] > lo */
    a = 0;
    b = s->nch - 1;
    while (a + 1 < b) {
      size_t m = a + (b - a) / 2;
      if (s->wl[m] > lo)
        b = m;
      else
        a = m;
    }
    for (; a + 1 < s->nch && s->wl[a] < hi; a++) {
      double wa = s->wl[a], wb = s->wl[a + 1], ra = s->r[a], rb = s->r[a + 1], ta, tb, g0, g1, w1;
      if (isnan(ra) || isnan(rb) || wb <= lo)
        continue;
      ta = (wa - c) / (sigma * sqrt(2.0));
      tb = (wb - c) / (sigma * sqrt(2.0));
      g0 = sigma * sqrt(M_PI / 2.0) * (erf(tb) - erf(ta));
      g1 = sigma * sigma * (exp(-ta * ta) - exp(-tb * tb));
      if (!(g0 > 0))
        continue;
      w1 = (g1 + (c - wa) * g0) / (wb - wa);
      w1 = w1 < 0 ? 0 : w1 > g0 ? g0 : w1;
      num += ra * (g0 - w1) + rb * w1;
      den += g0;
    }
    total = sigma * sqrt(2.0 * M_PI);
    if (!(den >= VG_SPECLIB_MIN_COVER * total)) {
      rc = vg_error_set(VG_E_RANGE,
                        "resample: band %d at %.6g um (FWHM %.3g um) falls on deleted channels of '%s' "
                        "(%.0f%% of its response on valid ones, %.0f%% needed)",
                        k, c, fwhm, s->name, 100.0 * den / total, 100.0 * VG_SPECLIB_MIN_COVER);
      goto done;
    }
    tmp[k] = (float)(num / den);
  }
  memcpy(out, tmp, (size_t)bands * sizeof *out);
done:
  free(tmp);
  return rc;
}
