/*
 * The raster module: the MATLAB v5 MAT-file reader (lib/raster/mat5.c).
 *
 * MAT files are written here by a small writer of the Level 5 layout
 * (MathWorks "MAT-File Format", R2024), in both byte orders, compressed
 * (zlib's compress2) or not, with the small data element form, storage types
 * that differ from the class, and several variables; the values expected
 * back are the ones written, converted to float here. The shared HSI scenes
 * are checked against their SOURCES.md (sizes, anomaly counts) and against a
 * few values that scipy.io.loadmat printed while the reader was written.
 */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "vigia/raster.h"

enum { MI_INT8 = 1, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32, MI_SINGLE,
       MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64, MI_MATRIX, MI_COMPRESSED, MI_UTF8 };
enum { MX_CELL = 1, MX_STRUCT, MX_OBJECT, MX_CHAR, MX_SPARSE, MX_DOUBLE, MX_SINGLE, MX_INT8,
       MX_UINT8, MX_INT16, MX_UINT16, MX_INT32, MX_UINT32, MX_INT64, MX_UINT64 };
#define FL_COMPLEX 0x0800u
#define FL_LOGICAL 0x0200u

/* ---- a MAT v5 writer ----------------------------------------------------------------- */

typedef struct mw {
  uint8_t *p;
  size_t n, cap;
  int be;
} mw;

static void w_bytes(mw *w, const void *src, size_t n)
{
  if (w->n + n > w->cap) {
    w->cap = (w->n + n) * 2 + 64;
    w->p = realloc(w->p, w->cap);
    assert_non_null(w->p);
  }
  if (n)
    memcpy(w->p + w->n, src, n);
  w->n += n;
}

static void w_uint(mw *w, uint64_t v, int n)
{
  uint8_t b[8];
  for (int i = 0; i < n; i++)
    b[w->be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
  w_bytes(w, b, (size_t)n);
}

static void w_pad8(mw *w)
{
  static const uint8_t z[8];
  w_bytes(w, z, (8 - w->n % 8) % 8);
}

static void w_tag(mw *w, uint32_t type, uint32_t n)
{
  w_uint(w, type, 4);
  w_uint(w, n, 4);
}

/* Small data element: one 32-bit word, n in the high half, then 4 data bytes. */
static void w_small(mw *w, uint32_t type, const uint8_t *data, uint32_t n)
{
  uint8_t d[4] = {0};
  memcpy(d, data, n);
  w_uint(w, n << 16 | type, 4);
  w_bytes(w, d, 4);
}

/* The 128-byte header: text, subsystem offset, version, endian indicator. */
static void w_header(mw *w, int be)
{
  char text[116];
  memset(text, ' ', sizeof text);
  memcpy(text, "MATLAB 5.0 MAT-file, written by vigia's tests", 45);
  w->be = be;
  w_bytes(w, text, sizeof text);
  w_bytes(w, "        ", 8);
  w_uint(w, 0x0100, 2);
  w_bytes(w, be ? "MI" : "IM", 2);
}

typedef struct mvar {
  const char *name;
  unsigned cls;
  uint32_t flags;      /* FL_* added to the class */
  uint32_t storage;    /* MI_* of the real part */
  int ndims;
  int32_t dims[10];
  const double *re;    /* column-major */
  const double *im;    /* complex only */
  int small_name;      /* name in the small form */
  int small_real;      /* real part in the small form */
  long real_delta;     /* added to the real part's byte count (bad files) */
} mvar;

static int st_size(uint32_t st)
{
  switch (st) {
  case MI_INT8: case MI_UINT8: return 1;
  case MI_INT16: case MI_UINT16: return 2;
  case MI_INT32: case MI_UINT32: case MI_SINGLE: return 4;
  default: return 8;
  }
}

static size_t count_of(const mvar *v)
{
  size_t n = 1;
  for (int i = 0; i < v->ndims; i++)
    n *= (size_t)v->dims[i];
  return n;
}

static void w_value(mw *w, uint32_t st, double d)
{
  float f;
  uint32_t u32;
  uint64_t u64;
  switch (st) {
  case MI_INT8: w_uint(w, (uint8_t)(int8_t)d, 1); break;
  case MI_UINT8: w_uint(w, (uint8_t)d, 1); break;
  case MI_INT16: w_uint(w, (uint16_t)(int16_t)d, 2); break;
  case MI_UINT16: w_uint(w, (uint16_t)d, 2); break;
  case MI_INT32: w_uint(w, (uint32_t)(int32_t)d, 4); break;
  case MI_UINT32: w_uint(w, (uint32_t)d, 4); break;
  case MI_INT64: w_uint(w, (uint64_t)(int64_t)d, 8); break;
  case MI_UINT64: w_uint(w, (uint64_t)d, 8); break;
  case MI_SINGLE:
    f = (float)d;
    memcpy(&u32, &f, 4);
    w_uint(w, u32, 4);
    break;
  default:
    memcpy(&u64, &d, 8);
    w_uint(w, u64, 8);
  }
}

static void w_part(mw *m, const mvar *v, const double *x, long delta)
{
  size_t n = count_of(v), bytes = n * (size_t)st_size(v->storage);
  if (v->small_real) {
    mw t = {NULL, 0, 0, m->be};
    for (size_t i = 0; i < n; i++)
      w_value(&t, v->storage, x[i]);
    assert_true(t.n <= 4);
    w_small(m, v->storage, t.p, (uint32_t)t.n);
    free(t.p);
    return;
  }
  w_tag(m, v->storage, (uint32_t)((long)bytes + delta));
  for (size_t i = 0; i < n; i++)
    w_value(m, v->storage, x[i]);
  w_pad8(m);
}

/* One miMATRIX element (tag and contents) appended to @p out. */
static void w_matrix(mw *out, const mvar *v)
{
  mw m = {NULL, 0, 0, out->be};
  size_t len = strlen(v->name);
  w_tag(&m, MI_UINT32, 8);
  w_uint(&m, v->cls | v->flags, 4);
  w_uint(&m, 0, 4);
  w_tag(&m, MI_INT32, (uint32_t)(4 * v->ndims));
  for (int i = 0; i < v->ndims; i++)
    w_uint(&m, (uint32_t)v->dims[i], 4);
  w_pad8(&m);
  if (v->small_name) {
    w_small(&m, MI_INT8, (const uint8_t *)v->name, (uint32_t)len);
  } else {
    w_tag(&m, MI_INT8, (uint32_t)len);
    w_bytes(&m, v->name, len);
    w_pad8(&m);
  }
  if (v->re)
    w_part(&m, v, v->re, v->real_delta);
  if (v->im)
    w_part(&m, v, v->im, 0);
  w_tag(out, MI_MATRIX, (uint32_t)m.n);
  w_bytes(out, m.p, m.n);
  free(m.p);
}

/* A miCOMPRESSED element holding @p elem (any bytes). */
static void w_compressed(mw *out, const uint8_t *elem, size_t n)
{
  uLongf clen = compressBound((uLong)n);
  uint8_t *z = malloc(clen);
  assert_non_null(z);
  assert_int_equal(compress2(z, &clen, elem, (uLong)n, 9), Z_OK);
  w_tag(out, MI_COMPRESSED, (uint32_t)clen);
  w_bytes(out, z, clen);
  free(z);
}

static void w_var(mw *out, const mvar *v, int compressed)
{
  mw e = {NULL, 0, 0, out->be};
  if (!compressed) {
    w_matrix(out, v);
    return;
  }
  w_matrix(&e, v);
  w_compressed(out, e.p, e.n);
  free(e.p);
}

/* ---- helpers ------------------------------------------------------------------------- */

static vg_cube *read_ok(const mw *w, const char *var)
{
  vg_cube *c = NULL;
  int rc = vg_raster_mat_from_mem(&c, w->p, w->n, var, "t.mat");
  if (rc != VG_OK)
    fail_msg("read '%s': %s (%s)", var ? var : "(first)", vg_err_name(rc), vg_error_last());
  assert_non_null(c);
  return c;
}

static int g_sentinel;
#define REJECT(buf, n, var, code)                                                           \
  do {                                                                                      \
    vg_cube *c_ = (vg_cube *)&g_sentinel;                                                   \
    int rc_ = vg_raster_mat_from_mem(&c_, buf, n, var, "bad.mat");                          \
    if (rc_ != (code))                                                                      \
      fail_msg("line %d: got %s (%s), expected %s", __LINE__, vg_err_name(rc_),             \
               vg_error_last(), vg_err_name(code));                                         \
    assert_ptr_equal(c_, (vg_cube *)&g_sentinel); /* *out untouched on failure */           \
  } while (0)

/* Bitwise equality, NaN equal to NaN. */
static void assert_same_float(float got, float want, const char *what, size_t i)
{
  if (isnan(want) ? !isnan(got) : (memcmp(&got, &want, sizeof got) != 0))
    fail_msg("%s: value %zu is %.9g, expected %.9g", what, i, (double)got, (double)want);
}

/* Checks cube @p c against column-major values @p x of an R x C x B array. */
static void assert_cube(const vg_cube *c, int R, int C, int B, const double *x, uint32_t st,
                        const char *what)
{
  assert_int_equal(c->rows, R);
  assert_int_equal(c->cols, C);
  assert_int_equal(c->bands, B);
  for (int b = 0; b < B; b++)
    for (int col = 0; col < C; col++)
      for (int r = 0; r < R; r++) {
        size_t i = (size_t)r + (size_t)R * col + (size_t)R * C * b;
        double d = x[i];
        float want = st == MI_SINGLE ? (float)d
                     : d > 3.5e38   ? INFINITY
                     : d < -3.5e38  ? -INFINITY
                                    : (float)d;
        assert_same_float(vg_cube_px(c, r, col)[b], want, what, i);
      }
}

/* Values of element idx that storage type @p st holds exactly (and spread its bytes). */
static double gen_value(uint32_t st, size_t idx)
{
  double k = (double)idx;
  switch (st) {
  case MI_INT8: return k * 4 - 120;
  case MI_UINT8: return k * 4 + 3;
  case MI_INT16: return k * 521 - 15000;
  case MI_UINT16: return k * 1000 + 7;
  case MI_INT32: return k * 30000001.0 - 900000000.0;
  case MI_UINT32: return k * 70000001.0 + 5;
  case MI_INT64: return k * 123456789012345.0 - 3e15;
  case MI_UINT64: return k * 3e17; /* above 2^63 from idx 31 */
  case MI_SINGLE: return k * 0.25 - 7.5;
  default: return k * 1.1 - 30.0;
  }
}

static unsigned class_of(uint32_t st)
{
  switch (st) {
  case MI_INT8: return MX_INT8;
  case MI_UINT8: return MX_UINT8;
  case MI_INT16: return MX_INT16;
  case MI_UINT16: return MX_UINT16;
  case MI_INT32: return MX_INT32;
  case MI_UINT32: return MX_UINT32;
  case MI_INT64: return MX_INT64;
  case MI_UINT64: return MX_UINT64;
  case MI_SINGLE: return MX_SINGLE;
  default: return MX_DOUBLE;
  }
}

/* ---- round trips --------------------------------------------------------------------- */

/*
 * Every storage type, both byte orders, compressed or not, 3-D and 2-D,
 * stored as its own class and as double (as MATLAB compresses storage).
 */
static void mat_round_trip_types(void **st)
{
  static const uint32_t types[] = {MI_INT8,   MI_UINT8, MI_INT16,  MI_UINT16, MI_INT32,
                                   MI_UINT32, MI_INT64, MI_UINT64, MI_SINGLE, MI_DOUBLE};
  double x[60];
  (void)st;
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    for (size_t i = 0; i < 60; i++)
      x[i] = gen_value(types[t], i);
    if (types[t] == MI_DOUBLE) { /* beyond float, NaN, negative zero */
      x[1] = 1e300;
      x[2] = -1e300;
      x[3] = NAN;
      x[4] = -0.0;
    }
    for (int mode = 0; mode < 8; mode++) {
      int be = mode & 1, z = (mode >> 1) & 1, as_double = (mode >> 2) & 1, three_d;
      for (three_d = 0; three_d < 2; three_d++) {
        mvar v = {"cube", as_double ? MX_DOUBLE : class_of(types[t]), 0, types[t],
                  three_d ? 3 : 2, {3, 4, 5}, x, NULL, 0, 0, 0};
        mw w = {0};
        vg_cube *c;
        char what[96];
        w_header(&w, be);
        w_var(&w, &v, z);
        snprintf(what, sizeof what, "type %u be %d z %d double %d 3d %d", (unsigned)types[t], be,
                 z, as_double, three_d);
        c = read_ok(&w, NULL);
        assert_cube(c, 3, 4, three_d ? 5 : 1, x, types[t], what);
        vg_cube_free(c);
        c = read_ok(&w, "cube");
        assert_cube(c, 3, 4, three_d ? 5 : 1, x, types[t], what);
        vg_cube_free(c);
        free(w.p);
      }
    }
  }
}

/* A cube written as single comes back bit for bit (BIP in, column-major on disk, BIP out). */
static void mat_round_trip_cube(void **st)
{
  enum { R = 7, C = 5, B = 3 };
  vg_cube *src = NULL, *back;
  double x[R * C * B];
  uint64_t s = 0x9e3779b97f4a7c15ull;
  (void)st;
  assert_int_equal(vg_cube_new(&src, R, C, B), VG_OK);
  for (size_t i = 0; i < (size_t)R * C * B; i++) {
    uint32_t u;
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    u = (uint32_t)(s >> 32) & 0x7f7fffffu; /* finite */
    memcpy(&src->data[i], &u, 4);
  }
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      for (int r = 0; r < R; r++)
        x[r + R * c + R * C * b] = vg_cube_px(src, r, c)[b];
  for (int mode = 0; mode < 4; mode++) {
    mvar v = {"x", MX_SINGLE, 0, MI_SINGLE, 3, {R, C, B}, x, NULL, 1, 0, 0};
    mw w = {0};
    w_header(&w, mode & 1);
    w_var(&w, &v, mode >> 1);
    back = read_ok(&w, "x");
    assert_int_equal(back->rows, R);
    assert_int_equal(back->cols, C);
    assert_int_equal(back->bands, B);
    assert_memory_equal(back->data, src->data, sizeof(float) * R * C * B);
    vg_cube_free(back);
    free(w.p);
  }
  vg_cube_free(src);
}

/* The small data element form: for the name and for real parts of up to 4 bytes. */
static void mat_small_elements(void **st)
{
  static const double i16[2] = {-2, 30000}, u8[3] = {1, 2, 255}, f1[1] = {0.1};
  (void)st;
  for (int mode = 0; mode < 4; mode++) {
    mvar a = {"a", MX_INT16, 0, MI_INT16, 2, {2, 1}, i16, NULL, 1, 1, 0};
    mvar b = {"bb", MX_DOUBLE, 0, MI_UINT8, 2, {1, 3}, u8, NULL, 1, 1, 0};
    mvar c = {"ccc", MX_SINGLE, 0, MI_SINGLE, 2, {1, 1}, f1, NULL, 1, 1, 0};
    mw w = {0};
    vg_cube *k;
    w_header(&w, mode & 1);
    w_var(&w, &a, mode >> 1);
    w_var(&w, &b, mode >> 1);
    w_var(&w, &c, mode >> 1);
    k = read_ok(&w, NULL); /* no 3-D: the first 2-D */
    assert_cube(k, 2, 1, 1, i16, MI_INT16, "a");
    vg_cube_free(k);
    k = read_ok(&w, "bb");
    assert_cube(k, 1, 3, 1, u8, MI_UINT8, "bb");
    vg_cube_free(k);
    k = read_ok(&w, "ccc");
    assert_cube(k, 1, 1, 1, f1, MI_SINGLE, "ccc");
    vg_cube_free(k);
    free(w.p);
  }
}

/*
 * Choosing the variable: by name; else the first 3-D numeric array, else the
 * first 2-D one, passing over chars, cells, nameless (subsystem) and empty
 * arrays and arrays of more than 3 dimensions.
 */
static void mat_selection(void **st)
{
  double map[12], cube[24], sq[4] = {1, 2, 3, 4}, h[16], chars[3] = {'a', 'b', 'c'};
  (void)st;
  for (int i = 0; i < 12; i++)
    map[i] = i % 3 == 0;
  for (int i = 0; i < 24; i++)
    cube[i] = 100 + i;
  for (int i = 0; i < 16; i++)
    h[i] = i;
  for (int mode = 0; mode < 4; mode++) {
    mvar vmap = {"map", MX_DOUBLE, 0, MI_UINT8, 2, {3, 4}, map, NULL, 1, 0, 0};
    mvar vdata = {"data", MX_DOUBLE, 0, MI_INT16, 3, {3, 4, 2}, cube, NULL, 0, 0, 0};
    mvar vtxt = {"txt", MX_CHAR, 0, MI_UINT16, 2, {1, 3}, chars, NULL, 1, 0, 0};
    mvar vsub = {"", MX_UINT8, 0, MI_UINT8, 2, {1, 4}, sq, NULL, 0, 0, 0};
    mvar vempty = {"e", MX_DOUBLE, 0, MI_DOUBLE, 2, {0, 0}, sq, NULL, 1, 0, 0};
    mvar vnoband = {"nb", MX_DOUBLE, 0, MI_DOUBLE, 3, {2, 3, 0}, sq, NULL, 1, 0, 0};
    /* 0 x 2^30: empty, read at once (fuzzing found a loop over the long dimension) */
    mvar vlong = {"lg", MX_DOUBLE, 0, MI_DOUBLE, 2, {0, 1 << 30}, sq, NULL, 1, 0, 0};
    mvar v4d = {"h", MX_DOUBLE, 0, MI_DOUBLE, 4, {2, 2, 2, 2}, h, NULL, 1, 0, 0};
    mvar vsq = {"sq", MX_DOUBLE, 0, MI_DOUBLE, 2, {2, 2}, sq, NULL, 0, 0, 0};
    mw w = {0}, w2 = {0}, w3 = {0};
    vg_cube *c;
    int z = mode >> 1;

    /* map (2-D) first, data (3-D) second: the cube wins */
    w_header(&w, mode & 1);
    w_var(&w, &vmap, z);
    w_var(&w, &vdata, z);
    c = read_ok(&w, NULL);
    assert_cube(c, 3, 4, 2, cube, MI_INT16, "data");
    vg_cube_free(c);
    c = read_ok(&w, "map");
    assert_cube(c, 3, 4, 1, map, MI_UINT8, "map");
    vg_cube_free(c);
    REJECT(w.p, w.n, "nope", VG_E_NOTFOUND);
    REJECT(w.p, w.n, "ma", VG_E_NOTFOUND);

    /* what is passed over */
    w_header(&w2, mode & 1);
    w_var(&w2, &vtxt, z);
    w_var(&w2, &vsub, z);
    w_var(&w2, &vempty, z);
    w_var(&w2, &vnoband, z);
    w_var(&w2, &vlong, z);
    w_var(&w2, &v4d, z);
    w_var(&w2, &vsq, z);
    w_var(&w2, &vmap, z);
    c = read_ok(&w2, NULL);
    assert_cube(c, 2, 2, 1, sq, MI_DOUBLE, "sq");
    vg_cube_free(c);
    REJECT(w2.p, w2.n, "txt", VG_E_UNSUPPORTED);
    REJECT(w2.p, w2.n, "h", VG_E_UNSUPPORTED);
    REJECT(w2.p, w2.n, "nb", VG_E_UNSUPPORTED);
    c = read_ok(&w2, "e"); /* asked for by name, an empty array is an empty cube */
    assert_int_equal(c->rows, 0);
    assert_int_equal(c->cols, 0);
    assert_int_equal(c->bands, 1);
    vg_cube_free(c);
    c = read_ok(&w2, "lg");
    assert_int_equal(c->rows, 0);
    assert_int_equal(c->cols, 1 << 30);
    assert_int_equal(c->bands, 1);
    vg_cube_free(c);
    c = read_ok(&w2, "");
    assert_cube(c, 1, 4, 1, sq, MI_UINT8, "nameless");
    vg_cube_free(c);

    /* nothing numeric to choose */
    w_header(&w3, mode & 1);
    w_var(&w3, &vtxt, z);
    w_var(&w3, &vsub, z);
    w_var(&w3, &vempty, z);
    w_var(&w3, &v4d, z);
    REJECT(w3.p, w3.n, NULL, VG_E_NOTFOUND);
    REJECT(w3.p, 128, NULL, VG_E_NOTFOUND); /* a header and no element */
    free(w.p);
    free(w2.p);
    free(w3.p);
  }
}

/* Complex arrays give their real part; logical arrays are uint8. */
static void mat_complex_logical(void **st)
{
  static const double re[6] = {1, -2, 3, -4, 5, -6}, im[6] = {9, 9, 9, 9, 9, 9},
                      lg[4] = {0, 1, 1, 0};
  (void)st;
  for (int mode = 0; mode < 4; mode++) {
    mvar vc = {"z", MX_DOUBLE, FL_COMPLEX, MI_INT8, 3, {1, 2, 3}, re, im, 1, 0, 0};
    mvar vl = {"m", MX_UINT8, FL_LOGICAL, MI_UINT8, 2, {2, 2}, lg, NULL, 1, 0, 0};
    mw w = {0};
    vg_cube *c;
    w_header(&w, mode & 1);
    w_var(&w, &vl, mode >> 1);
    w_var(&w, &vc, mode >> 1);
    c = read_ok(&w, NULL);
    assert_cube(c, 1, 2, 3, re, MI_INT8, "complex");
    vg_cube_free(c);
    c = read_ok(&w, "m");
    assert_cube(c, 2, 2, 1, lg, MI_UINT8, "logical");
    vg_cube_free(c);
    free(w.p);
  }
}

/* VG_MAT_MAX_DIMS and the name length at their boundaries. */
static void mat_limits_boundary(void **st)
{
  double x[24];
  char name[258];
  (void)st;
  for (int i = 0; i < 24; i++)
    x[i] = i;
  for (int z = 0; z < 2; z++) {
    /* 8 dimensions, trailing singletons: a 2 x 3 x 4 cube */
    mvar v8 = {"d8", MX_DOUBLE, 0, MI_UINT8, VG_MAT_MAX_DIMS, {2, 3, 4, 1, 1, 1, 1, 1}, x, NULL,
               0, 0, 0};
    mvar v9 = {"d9", MX_DOUBLE, 0, MI_UINT8, VG_MAT_MAX_DIMS + 1, {2, 3, 4, 1, 1, 1, 1, 1, 1}, x,
               NULL, 0, 0, 0};
    mvar vn = {name, MX_DOUBLE, 0, MI_UINT8, 2, {4, 6}, x, NULL, 0, 0, 0};
    mw w = {0}, w9 = {0}, wn = {0}, wl = {0};
    vg_cube *c;
    w_header(&w, 0);
    w_var(&w, &v8, z);
    c = read_ok(&w, NULL);
    assert_cube(c, 2, 3, 4, x, MI_UINT8, "8 dims");
    vg_cube_free(c);
    w_header(&w9, 1);
    w_var(&w9, &v9, z);
    REJECT(w9.p, w9.n, NULL, VG_E_LIMIT);
    /* a name of 255 bytes is read, 256 is refused */
    memset(name, 'n', sizeof name);
    name[255] = '\0';
    w_header(&wn, z);
    w_var(&wn, &vn, z);
    c = read_ok(&wn, name);
    assert_cube(c, 4, 6, 1, x, MI_UINT8, "long name");
    vg_cube_free(c);
    name[255] = 'n';
    name[256] = '\0';
    w_header(&wl, z);
    w_var(&wl, &vn, z);
    REJECT(wl.p, wl.n, NULL, VG_E_LIMIT);
    free(w.p);
    free(w9.p);
    free(wn.p);
    free(wl.p);
  }
}

/* ---- errors -------------------------------------------------------------------------- */

static void mat_bad_header(void **st)
{
  static const double x[4] = {1, 2, 3, 4};
  mvar v = {"x", MX_DOUBLE, 0, MI_DOUBLE, 2, {2, 2}, x, NULL, 1, 0, 0};
  mw w = {0};
  uint8_t *b;
  (void)st;
  w_header(&w, 0);
  w_var(&w, &v, 0);
  for (size_t n = 0; n < 128; n++)
    REJECT(w.p, n, NULL, VG_E_TRUNCATED);
  REJECT(NULL, 500, NULL, VG_E_TRUNCATED);
  b = malloc(w.n);
  assert_non_null(b);
  /* endian indicator */
  memcpy(b, w.p, w.n);
  memcpy(b + 126, "XX", 2);
  REJECT(b, w.n, NULL, VG_E_MALFORMED);
  memcpy(b + 126, "II", 2);
  REJECT(b, w.n, NULL, VG_E_MALFORMED);
  /* the other order's indicator with this order's numbers: version 0x0001 */
  memcpy(b + 126, "MI", 2);
  REJECT(b, w.n, NULL, VG_E_UNSUPPORTED);
  /* MAT 7.3 (HDF5) and Level 4 */
  memcpy(b, w.p, w.n);
  b[124] = 0x00;
  b[125] = 0x02;
  REJECT(b, w.n, NULL, VG_E_UNSUPPORTED);
  memcpy(b, w.p, w.n);
  memset(b, 0, 4);
  REJECT(b, w.n, NULL, VG_E_UNSUPPORTED);
  free(b);
  free(w.p);
}

/* Warnings captured: the last one. */
static char g_warning[512];
static void capture(vg_log_level lvl, const char *module, const char *msg, void *ud)
{
  (void)lvl;
  (void)module;
  (void)ud;
  snprintf(g_warning, sizeof g_warning, "%s", msg);
}

static void mat_truncated(void **st)
{
  double x[30];
  (void)st;
  for (int i = 0; i < 30; i++)
    x[i] = i * 3;
  for (int mode = 0; mode < 4; mode++) {
    mvar v = {"x", MX_DOUBLE, 0, MI_UINT16, 3, {2, 3, 5}, x, NULL, 1, 0, 0};
    mw w = {0};
    vg_cube *c;
    w_header(&w, mode & 1);
    w_var(&w, &v, mode >> 1);
    /* every cut after the header and before the end */
    for (size_t n = 129; n < w.n; n++)
      REJECT(w.p, n, NULL, VG_E_TRUNCATED);
    if (mode >> 1) {
      size_t clen = w.n - 136;
      uint8_t *b = malloc(w.n);
      assert_non_null(b);
      /* a compressed stream cut short while its tag says so: half of it, and no deflate data */
      memcpy(b, w.p, w.n);
      for (size_t keep = 0; keep < clen; keep += clen / 7 + 1) {
        if (keep + 8 >= clen) /* keep 4 deflate bytes out: more than an end-of-block code */
          break;
        mw t = {NULL, 0, 0, mode & 1};
        w_uint(&t, (uint32_t)keep, 4);
        memcpy(b + 132, t.p, 4);
        free(t.p);
        REJECT(b, 136 + keep, NULL, VG_E_TRUNCATED);
      }
      /* without its Adler-32, or with a wrong one: the data are kept (DESIGN.md convention 4) */
      {
        mw t = {NULL, 0, 0, mode & 1};
        vg_log_set_sink(capture, NULL);
        w_uint(&t, (uint32_t)(clen - 4), 4);
        memcpy(b + 132, t.p, 4);
        free(t.p);
        c = NULL;
        assert_int_equal(vg_raster_mat_from_mem(&c, b, w.n - 4, NULL, "noadler"), VG_OK);
        assert_cube(c, 2, 3, 5, x, MI_UINT16, "no adler");
        vg_cube_free(c);
        assert_string_equal(g_warning, "noadler: variable 'x' at offset 128: zlib stream without "
                                       "its Adler-32; data kept");
        memcpy(b, w.p, w.n);
        b[w.n - 1] ^= 0x5a;
        c = NULL;
        assert_int_equal(vg_raster_mat_from_mem(&c, b, w.n, NULL, "badadler"), VG_OK);
        assert_cube(c, 2, 3, 5, x, MI_UINT16, "bad adler");
        vg_cube_free(c);
        assert_non_null(
            strstr(g_warning, "badadler: variable 'x' at offset 128: zlib Adler-32 is "));
        vg_log_set_sink(NULL, NULL);
      }
      /* corrupt deflate: a reserved block type; and not a zlib header */
      memcpy(b, w.p, w.n);
      b[138] = 0x07;
      REJECT(b, w.n, NULL, VG_E_MALFORMED);
      memcpy(b, w.p, w.n);
      b[136] = 0x00;
      b[137] = 0x00;
      REJECT(b, w.n, NULL, VG_E_MALFORMED);
      free(b);
    }
    free(w.p);
  }
}

/* Inflate bombs: a stream giving more than its tag declares, tags declaring too much. */
static void mat_inflate_bomb(void **st)
{
  double x[64];
  (void)st;
  for (int i = 0; i < 64; i++)
    x[i] = 0;
  for (int be = 0; be < 2; be++) {
    mvar v = {"data", MX_DOUBLE, 0, MI_DOUBLE, 2, {8, 8}, x, NULL, 1, 0, 0};
    mw e = {NULL, 0, 0, be}, w = {0}, t = {NULL, 0, 0, be};
    uint32_t small = 40; /* flags, dims and name fit; the real part does not */
    w_matrix(&e, &v);
    /* 1. the inner tag declares 40 bytes, the stream gives 8 + 552 */
    w_uint(&t, small, 4);
    memcpy(e.p + 4, t.p, 4);
    w_header(&w, be);
    w_compressed(&w, e.p, e.n);
    REJECT(w.p, w.n, NULL, VG_E_LIMIT);
    REJECT(w.p, w.n, "data", VG_E_LIMIT);
    {
      char want[160];
      snprintf(want, sizeof want,
               "bad.mat: variable 'data' at offset 128: compressed element inflates past its "
               "declared %u bytes",
               (unsigned)(small + 8));
      assert_string_equal(vg_error_last(), want);
    }
    free(w.p);
    /* 2. the inner tag declares more than VG_MAT_MAX_INFLATED */
    memset(&w, 0, sizeof w);
    t.n = 0;
    w_uint(&t, (uint32_t)(VG_MAT_MAX_INFLATED - 8 + 1), 4);
    memcpy(e.p + 4, t.p, 4);
    w_header(&w, be);
    w_compressed(&w, e.p, e.n);
    REJECT(w.p, w.n, NULL, VG_E_LIMIT);
    free(w.p);
    /* 3. exactly VG_MAT_MAX_INFLATED: within the limit, but no 600 compressed bytes hold 2 GiB */
    memset(&w, 0, sizeof w);
    t.n = 0;
    w_uint(&t, (uint32_t)(VG_MAT_MAX_INFLATED - 8), 4);
    memcpy(e.p + 4, t.p, 4);
    w_header(&w, be);
    w_compressed(&w, e.p, e.n);
    REJECT(w.p, w.n, NULL, VG_E_TRUNCATED);
    free(w.p);
    /* 4. a compressed element inside a compressed element */
    memset(&w, 0, sizeof w);
    {
      mw inner = {NULL, 0, 0, be};
      e.n = 0; /* the element again, with its true size */
      w_matrix(&e, &v);
      w_compressed(&inner, e.p, e.n);
      w_header(&w, be);
      w_compressed(&w, inner.p, inner.n);
      free(inner.p);
    }
    REJECT(w.p, w.n, NULL, VG_E_MALFORMED);
    free(w.p);
    free(e.p);
    free(t.p);
  }
}

/* Dimensions: products past VG_CUBE_MAX_VALUES or size_t, negative, too few. */
static void mat_bad_dims(void **st)
{
  static const double one[1] = {7};
  (void)st;
  for (int mode = 0; mode < 4; mode++) {
    int z = mode >> 1;
    mvar big = {"big", MX_UINT8, 0, MI_UINT8, 3, {65536, 65536, 65536}, NULL, NULL, 1, 0, 0};
    mvar huge = {"huge", MX_UINT8, 0, MI_UINT8, 3, {INT32_MAX, INT32_MAX, INT32_MAX}, NULL, NULL,
                 1, 0, 0};
    mvar neg = {"neg", MX_UINT8, 0, MI_UINT8, 2, {-1, 1}, NULL, NULL, 1, 0, 0};
    mvar onedim = {"one", MX_UINT8, 0, MI_UINT8, 1, {1}, one, NULL, 1, 0, 0};
    mvar mism = {"mis", MX_DOUBLE, 0, MI_DOUBLE, 2, {1, 1}, one, NULL, 1, 0, -8};
    mvar strtype = {"str", MX_DOUBLE, 0, MI_UTF8, 2, {1, 1}, one, NULL, 1, 0, 0};
    const mvar *bad[] = {&big, &huge, &neg, &onedim, &mism, &strtype};
    const int code[] = {VG_E_LIMIT, VG_E_LIMIT, VG_E_MALFORMED, VG_E_MALFORMED, VG_E_MALFORMED,
                        VG_E_MALFORMED};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      mw w = {0};
      w_header(&w, mode & 1);
      w_var(&w, bad[i], z);
      REJECT(w.p, w.n, NULL, code[i]);
      REJECT(w.p, w.n, bad[i]->name, code[i]);
      free(w.p);
    }
  }
}

/* Malformed tags: a small element of more than 4 bytes, array flags of the wrong size. */
static void mat_bad_tags(void **st)
{
  static const double x[4] = {1, 2, 3, 4};
  mvar v = {"x", MX_DOUBLE, 0, MI_DOUBLE, 2, {2, 2}, x, NULL, 1, 0, 0};
  mw w = {0}, t = {0};
  uint8_t *b;
  (void)st;
  w_header(&w, 0);
  w_var(&w, &v, 0);
  b = malloc(w.n);
  assert_non_null(b);
  /* the name's small tag (at 128 + 8 + 16 + 16) claiming 5 bytes */
  memcpy(b, w.p, w.n);
  w_uint(&t, 5u << 16 | MI_INT8, 4);
  memcpy(b + 168, t.p, 4);
  REJECT(b, w.n, NULL, VG_E_MALFORMED);
  /* array flags of 4 bytes */
  memcpy(b, w.p, w.n);
  b[140] = 4;
  REJECT(b, w.n, NULL, VG_E_MALFORMED);
  /* dimensions stored as double */
  memcpy(b, w.p, w.n);
  b[152] = MI_DOUBLE;
  REJECT(b, w.n, NULL, VG_E_MALFORMED);
  /* an element claiming more bytes than the file has */
  memcpy(b, w.p, w.n);
  b[135] = 0x7f;
  REJECT(b, w.n, NULL, VG_E_TRUNCATED);
  free(b);
  free(t.p);
  free(w.p);
}

/* From a file: vg_raster_mat_read and the path in messages. */
static void mat_file_read(void **st)
{
  static const double x[6] = {1, 2, 3, 4, 5, 6};
  mvar v = {"x", MX_DOUBLE, 0, MI_INT16, 3, {1, 2, 3}, x, NULL, 1, 0, 0};
  mw w = {0};
  char path[] = "/tmp/vg_test_mat_XXXXXX";
  vg_cube *c = (vg_cube *)&g_sentinel;
  int fd;
  FILE *f;
  (void)st;
  w_header(&w, 1);
  w_var(&w, &v, 1);
  fd = mkstemp(path);
  assert_true(fd >= 0);
  f = fdopen(fd, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(w.p, 1, w.n, f), w.n);
  fclose(f);
  c = NULL;
  assert_int_equal(vg_raster_mat_read(&c, path, NULL), VG_OK);
  assert_cube(c, 1, 2, 3, x, MI_INT16, "file");
  vg_cube_free(c);
  c = (vg_cube *)&g_sentinel;
  assert_int_equal(vg_raster_mat_read(&c, path, "y"), VG_E_NOTFOUND);
  assert_non_null(strstr(vg_error_last(), path));
  assert_ptr_equal(c, (vg_cube *)&g_sentinel);
  unlink(path);
  assert_int_equal(vg_raster_mat_read(&c, path, NULL), VG_E_IO);
  assert_ptr_equal(c, (vg_cube *)&g_sentinel);
  free(w.p);
}

/* ---- the shared HSI scenes ----------------------------------------------------------- */

typedef struct scene {
  const char *file;
  int rows, cols, bands, anomalies;
} scene;

/* shared/data/hsi/SOURCES.md */
static const scene g_scenes[] = {
  {"abu-airport-1.mat", 100, 100, 205, 144}, {"abu-airport-2.mat", 100, 100, 205, 87},
  {"abu-airport-4.mat", 100, 100, 191, 60},  {"abu-beach-1.mat", 150, 150, 188, 19},
  {"abu-beach-3.mat", 100, 100, 188, 11},    {"abu-urban-1.mat", 100, 100, 204, 67},
  {"abu-urban-2.mat", 100, 100, 207, 155},   {"abu-urban-4.mat", 100, 100, 205, 272},
  {"abu-urban-5.mat", 100, 100, 205, 232},   {"pavia-lren.mat", 100, 100, 102, 68},
  {"sandiego-aviris2.mat", 100, 100, 189, 134},
};

static void hsi_scenes(void **st)
{
  (void)st;
  for (size_t i = 0; i < sizeof g_scenes / sizeof g_scenes[0]; i++) {
    const scene *s = &g_scenes[i];
    char rel[64], *path;
    vg_cube *c = NULL, *m = NULL;
    size_t ones = 0;
    snprintf(rel, sizeof rel, "hsi/%s", s->file);
    path = VG_REQUIRE_DATA(rel);
    if (vg_raster_mat_read(&c, path, NULL) != VG_OK)
      fail_msg("%s: %s", s->file, vg_error_last());
    assert_int_equal(c->rows, s->rows);
    assert_int_equal(c->cols, s->cols);
    assert_int_equal(c->bands, s->bands);
    if (vg_raster_mat_read(&m, path, "map") != VG_OK)
      fail_msg("%s map: %s", s->file, vg_error_last());
    assert_int_equal(m->rows, s->rows);
    assert_int_equal(m->cols, s->cols);
    assert_int_equal(m->bands, 1);
    for (size_t k = 0; k < (size_t)m->rows * m->cols; k++) {
      if (m->data[k] != 0.0f && m->data[k] != 1.0f)
        fail_msg("%s: map value %g at %zu", s->file, (double)m->data[k], k);
      ones += m->data[k] == 1.0f;
    }
    assert_int_equal(ones, s->anomalies);
    vg_cube_free(c);
    vg_cube_free(m);
    free(path);
  }
}

/* Values scipy.io.loadmat gave (d[r, c, b] and the first anomaly pixels of the maps). */
static void hsi_values(void **st)
{
  static const struct {
    const char *file;
    int r, c, b;
    float v;
  } pts[] = {
    {"abu-urban-1.mat", 0, 0, 0, 1000.0f},   {"abu-urban-1.mat", 99, 99, 203, 1.0f},
    {"abu-urban-1.mat", 3, 7, 100, 798.0f},  {"abu-urban-1.mat", 50, 20, 5, 2047.0f},
    {"pavia-lren.mat", 0, 0, 0, (float)0.04658050619278406},
    {"pavia-lren.mat", 99, 0, 101, (float)0.22731490072369642},
    {"pavia-lren.mat", 12, 34, 56, (float)0.14723626284037175},
    {"sandiego-aviris2.mat", 0, 0, 0, 790.0f}, {"sandiego-aviris2.mat", 99, 99, 188, 1521.0f},
    {"sandiego-aviris2.mat", 41, 17, 77, 1931.0f},
  };
  static const struct {
    const char *file;
    int r, c;
  } anomalies[] = {
    {"abu-urban-1.mat", 0, 56}, {"pavia-lren.mat", 13, 28}, {"sandiego-aviris2.mat", 28, 42}};
  (void)st;
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
    char rel[64], *path;
    vg_cube *c = NULL;
    snprintf(rel, sizeof rel, "hsi/%s", pts[i].file);
    path = VG_REQUIRE_DATA(rel);
    assert_int_equal(vg_raster_mat_read(&c, path, "data"), VG_OK);
    assert_same_float(vg_cube_px(c, pts[i].r, pts[i].c)[pts[i].b], pts[i].v, pts[i].file, i);
    vg_cube_free(c);
    free(path);
  }
  for (size_t i = 0; i < sizeof anomalies / sizeof anomalies[0]; i++) {
    char rel[64], *path;
    vg_cube *c = NULL;
    snprintf(rel, sizeof rel, "hsi/%s", anomalies[i].file);
    path = VG_REQUIRE_DATA(rel);
    assert_int_equal(vg_raster_mat_read(&c, path, "map"), VG_OK);
    assert_true(vg_cube_px(c, anomalies[i].r, anomalies[i].c)[0] == 1.0f);
    /* the pixel before it in row-major order is background (the first anomaly) */
    if (anomalies[i].c > 0)
      assert_true(vg_cube_px(c, anomalies[i].r, anomalies[i].c - 1)[0] == 0.0f);
    vg_cube_free(c);
    free(path);
  }
}

/* GeoTIFF round trip of the georeferencing, its stated accuracy (GEOREF_SIGMA_M), the
 * acquisition time (TIFF DateTime) and the wavelengths; a raster that states neither reads
 * back 0. */
static void tiff_georef_sigma(void **st)
{
  char dir[] = "/tmp/vg_raster_XXXXXX", a[64], b[64];
  vg_cube *c = NULL, *r = NULL;
  (void)st;
  assert_non_null(mkdtemp(dir));
  snprintf(a, sizeof a, "%s/a.tif", dir);
  snprintf(b, sizeof b, "%s/b.tif", dir);
  assert_int_equal(vg_cube_new(&c, 4, 5, 3), VG_OK);
  for (size_t i = 0; i < 4 * 5 * 3; i++)
    c->data[i] = (float)i * 0.25f;
  c->has_gt = 1;
  c->gt[0] = -99.9;
  c->gt[1] = 1e-5;
  c->gt[3] = 17.8;
  c->gt[5] = -1e-5;
  c->georef_sigma_m = 4.25;
  c->time_us = 1780300800000000LL + 3723000000LL; /* 2026-06-01T08:02:03Z */
  snprintf(c->marking, sizeof c->marking, "UNCLASSIFIED//REL TO USA, MEX");
  c->wavelength_um = malloc(3 * sizeof *c->wavelength_um);
  assert_non_null(c->wavelength_um);
  c->wavelength_um[0] = 0.45;
  c->wavelength_um[1] = 0.55;
  c->wavelength_um[2] = 2.2;
  assert_int_equal(vg_raster_write_cube(a, c), VG_OK);
  assert_int_equal(vg_raster_read(&r, a, NULL), VG_OK);
  assert_true(r->georef_sigma_m == 4.25);
  assert_int_equal(r->time_us, 1780300800000000LL + 3723000000LL);
  assert_string_equal(r->marking, "UNCLASSIFIED//REL TO USA, MEX");
  assert_true(r->has_gt && r->gt[0] == -99.9 && r->gt[5] == -1e-5);
  assert_non_null(r->wavelength_um);
  assert_true(fabs(r->wavelength_um[2] - 2.2) < 1e-9);
  assert_memory_equal(r->data, c->data, 4 * 5 * 3 * sizeof(float));
  vg_cube_free(r);
  r = NULL;
  /* one band through the other writer; then none stated */
  assert_int_equal(vg_raster_write_tiff(b, c, 1), VG_OK);
  assert_int_equal(vg_raster_read(&r, b, NULL), VG_OK);
  assert_true(r->georef_sigma_m == 4.25 && r->bands == 1 && r->data[1] == c->data[1 * 3 + 1]);
  vg_cube_free(r);
  r = NULL;
  c->georef_sigma_m = 0;
  c->time_us = 0;
  assert_int_equal(vg_raster_write_tiff(b, c, 0), VG_OK);
  assert_int_equal(vg_raster_read(&r, b, NULL), VG_OK);
  assert_true(r->georef_sigma_m == 0 && r->time_us == 0);
  vg_cube_free(r);
  vg_cube_free(c);
  unlink(a);
  unlink(b);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest mat[] = {
    cmocka_unit_test(mat_round_trip_types), cmocka_unit_test(mat_round_trip_cube),
    cmocka_unit_test(mat_small_elements),   cmocka_unit_test(mat_selection),
    cmocka_unit_test(mat_complex_logical),  cmocka_unit_test(mat_limits_boundary),
    cmocka_unit_test(mat_bad_header),       cmocka_unit_test(mat_truncated),
    cmocka_unit_test(mat_inflate_bomb),     cmocka_unit_test(mat_bad_dims),
    cmocka_unit_test(mat_bad_tags),         cmocka_unit_test(mat_file_read),
  };
  const struct CMUnitTest hsi[] = {
    cmocka_unit_test(hsi_scenes),
    cmocka_unit_test(hsi_values),
    cmocka_unit_test(tiff_georef_sigma),
  };
  int failed = 0;
  failed += cmocka_run_group_tests_name("raster.mat", mat, NULL, NULL);
  failed += cmocka_run_group_tests_name("raster.hsi", hsi, NULL, NULL);
  return failed ? 1 : 0;
}
