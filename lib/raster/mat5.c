/*
 * MATLAB Level 5 MAT-file reader: one numeric array as a cube. Follows
 * MathWorks, "MAT-File Format" (matfile_format.pdf, R2024), chapter 1,
 * "Level 5 MAT-File Format".
 *
 *   offset  size  field
 *   0       116   descriptive text ("MATLAB 5.0 MAT-file, ..."); its first 4
 *                 bytes are never 0 (a Level 4 file starts with an int32 type)
 *   116     8     subsystem data offset (0 or spaces when none)
 *   124     2     version, 0x0100 (0x0200: MAT 7.3, an HDF5 file)
 *   126     2     endian indicator: the bytes 'I' 'M' for little-endian,
 *                 'M' 'I' for big-endian; every later number is in that order
 *   128     ...   data elements, one per variable (or other data)
 *
 * A data element is a tag and its data:
 *
 *   form         offset  size  field
 *   normal       0       4     data type (mi*)
 *                4       4     number of bytes n
 *                8       n     data, then zero padding to a multiple of 8
 *   small        0       4     one 32-bit word in the file's order: data type
 *                              in the low half, n (1..4) in the high half
 *                              (so the bytes are type, n little-endian and
 *                              n, type big-endian); a word with a high half of
 *                              0 is the normal form
 *                4       4     data, zero-padded
 *
 * Data types: 1 miINT8, 2 miUINT8, 3 miINT16, 4 miUINT16, 5 miINT32,
 * 6 miUINT32, 7 miSINGLE, 9 miDOUBLE, 12 miINT64, 13 miUINT64, 14 miMATRIX,
 * 15 miCOMPRESSED, 16..18 miUTF8/16/32.
 *
 * miCOMPRESSED: n bytes of a zlib stream (RFC 1950) that inflates to one
 * whole data element (tag included), in practice a miMATRIX. MATLAB writes
 * no padding after a compressed element (seen in every file of
 * shared/data/hsi: the next element starts at 8 + n), so none is skipped.
 *
 * miMATRIX: sub-elements, each a data element as above:
 *
 *   array flags   miUINT32, 8 bytes: word 0 = class (low byte) | 0x0800 complex
 *                 | 0x0400 global | 0x0200 logical; word 1 = nzmax (sparse)
 *   dimensions    miINT32, 4 * ndims bytes (ndims >= 2)
 *   array name    miINT8 (often the small form)
 *   real part     numeric data, column-major; its storage type may differ
 *                 from the class (MATLAB stores a double array of small
 *                 integers as miUINT8 or miINT16, as the hsi files do)
 *   imag part     complex arrays only: ignored
 *
 * Classes: 1 cell, 2 struct, 3 object, 4 char, 5 sparse, 6 double,
 * 7 single, 8..15 int8, uint8, int16, uint16, int32, uint32, int64, uint64
 * (logical arrays are uint8 with the logical flag). Only classes 6..15 are
 * read; the others are skipped (named: VG_E_UNSUPPORTED).
 *
 * Element (r, c, b) of an R x C x B array lies at r + R*c + R*C*b in the
 * real part; the cube is BIP, at (r*C + c)*B + b.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/rd.h"
#include "vigia/raster.h"

#define MAT_HEADER 128
#define MAT_TAG 8
#define MAT_VERSION 0x0100
#define MAT_VERSION_73 0x0200

enum {
  MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6,
  MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14,
  MI_COMPRESSED = 15, MI_UTF8 = 16
};
enum { MX_CELL = 1, MX_STRUCT, MX_OBJECT, MX_CHAR, MX_SPARSE, MX_DOUBLE, MX_SINGLE, MX_INT8,
       MX_UINT8, MX_INT16, MX_UINT16, MX_INT32, MX_UINT32, MX_INT64, MX_UINT64 };
#define MAT_FLAG_COMPLEX 0x0800u

/*
 * Longest array name kept. MATLAB's namelengthmax is 63 (R2024); other
 * writers (scipy.io.savemat) write any length, so we allow four times that
 * and refuse longer names (VG_E_LIMIT) rather than compare a cut one.
 */
#define MAT_NAME_MAX 255
/*
 * Inflated bytes that hold any array head we accept: the inner tag, array
 * flags (8 + 8), dimensions (8 + 4 * VG_MAT_MAX_DIMS) and a name of
 * MAT_NAME_MAX bytes padded to 8 (8 + 256). Scanning inflates only this much
 * of a variable that is not the one asked for.
 */
#define MAT_HEAD_MAX (MAT_TAG + 16 + (8 + (4 * VG_MAT_MAX_DIMS + 7) / 8 * 8) + (8 + 256))
/*
 * Deflate's largest expansion is 1032:1 (a 258-byte match coded in 2 bits;
 * zlib.net/zlib_tech.html, "Maximum Compression Factor"); with slack for the
 * block headers of a tiny stream. A tag claiming more than its compressed
 * bytes could ever give is refused before anything is allocated.
 */
#define MAT_DEFLATE_MAX_RATIO 1032u
#define MAT_DEFLATE_SLACK 1024u
/*
 * Largest file read whole by vg_raster_mat_read: the largest cube
 * (VG_CUBE_MAX_VALUES) stored uncompressed as doubles, plus 64 MiB for the
 * header and other variables.
 */
#define MAT_MAX_FILE (8ull * VG_CUBE_MAX_VALUES + (64ull << 20))

typedef struct mat_file {
  const char *name; /* for messages */
  const uint8_t *buf;
  size_t len;
  int be;           /* big-endian file ('MI') */
} mat_file;

/* What the scan learns of one variable, and where to find it again. */
typedef struct mat_head {
  size_t off;              /* offset of its top-level element in the file */
  uint32_t flags;          /* array flags word 0 */
  unsigned cls;
  int ndims, rank;         /* rank: ndims less trailing singletons beyond the 2nd */
  int32_t dims[VG_MAT_MAX_DIMS];
  char name[MAT_NAME_MAX + 1]; /* unprintable bytes shown as '?' */
} mat_head;

typedef struct mat_tag {
  uint32_t type, nbytes;
  int small;
} mat_tag;

/* ---- messages ------------------------------------------------------------------------ */

static int mat_err(const mat_file *f, const mat_head *h, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "<file>: variable '<name>' at offset <n>: <what>" (or "element at offset" before the name). */
static int mat_err(const mat_file *f, const mat_head *h, int code, const char *fmt, ...)
{
  char what[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (!h)
    return vg_error_set(code, "%s: %s", f->name, what);
  if (h->name[0])
    return vg_error_set(code, "%s: variable '%s' at offset %zu: %s", f->name, h->name, h->off,
                        what);
  return vg_error_set(code, "%s: element at offset %zu: %s", f->name, h->off, what);
}

static const char *class_name(unsigned cls)
{
  static const char *const names[] = {"array of class 0", "cell array", "struct", "object",
                                      "char array", "sparse array", "double", "single", "int8",
                                      "uint8", "int16", "uint16", "int32", "uint32", "int64",
                                      "uint64", "function handle", "opaque object"};
  return cls < sizeof names / sizeof names[0] ? names[cls] : "array of an unknown class";
}

/* ---- byte order ---------------------------------------------------------------------- */

/* An n-byte (1..8) unsigned integer in the file's byte order. */
static uint64_t rd_uint_e(vg_rd *r, size_t n, int be)
{
  const uint8_t *p;
  uint64_t v = 0;
  if (be)
    return rd_uint_be(r, n);
  if (n > 8 || !(p = rd_bytes(r, n))) {
    rd_fail(r, n > 8 ? VG_E_LIMIT : VG_E_TRUNCATED);
    return 0;
  }
  for (size_t i = n; i-- > 0;)
    v = v << 8 | p[i];
  return v;
}

/* ---- elements ------------------------------------------------------------------------ */

/* Reads a tag (either form). Returns VG_OK or VG_E_TRUNCATED / VG_E_MALFORMED. */
static int tag_read(vg_rd *r, int be, mat_tag *t)
{
  uint32_t w;
  if (MAT_TAG > rd_left(r))
    return VG_E_TRUNCATED;
  w = (uint32_t)rd_uint_e(r, 4, be);
  if (w >> 16) {
    t->type = w & 0xffffu;
    t->nbytes = w >> 16;
    t->small = 1;
    return t->nbytes <= 4 ? VG_OK : VG_E_MALFORMED;
  }
  t->type = w;
  t->nbytes = (uint32_t)rd_uint_e(r, 4, be);
  t->small = 0;
  return VG_OK;
}

/*
 * Borrows the data of the element whose tag was just read into *body and
 * moves past it and, when @p pad, past its padding to 8 bytes (missing
 * padding at the very end is forgiven).
 */
static int tag_body(vg_rd *r, const mat_tag *t, int pad, vg_rd *body)
{
  const uint8_t *p;
  size_t skip;
  if (t->small) {
    p = rd_bytes(r, 4);
    rd_init(body, p, t->nbytes);
    return VG_OK; /* the 8-byte tag + data is its own padding */
  }
  if (!(p = rd_bytes(r, t->nbytes)))
    return VG_E_TRUNCATED;
  rd_init(body, p, t->nbytes);
  skip = pad ? (8 - t->nbytes % 8) % 8 : 0;
  if (skip > rd_left(r))
    skip = rd_left(r);
  rd_skip(r, skip);
  return VG_OK;
}

static int storage_size(uint32_t type)
{
  switch (type) {
  case MI_INT8:
  case MI_UINT8:
    return 1;
  case MI_INT16:
  case MI_UINT16:
    return 2;
  case MI_INT32:
  case MI_UINT32:
  case MI_SINGLE:
    return 4;
  case MI_DOUBLE:
  case MI_INT64:
  case MI_UINT64:
    return 8;
  default:
    return 0;
  }
}

static int is_numeric_class(unsigned cls) { return cls >= MX_DOUBLE && cls <= MX_UINT64; }

/*
 * The head of a miMATRIX (array flags, dimensions, name) from @p r, its
 * contents; leaves @p r at the real part. Fills h but h->off (the caller's).
 */
static int head_parse(const mat_file *f, vg_rd *r, mat_head *h)
{
  mat_tag t;
  vg_rd b;
  int rc;

  h->name[0] = '\0';
  h->ndims = h->rank = 0;
  if ((rc = tag_read(r, f->be, &t)) != VG_OK || (rc = tag_body(r, &t, 1, &b)) != VG_OK)
    return mat_err(f, h, rc, "array flags: %s", rc == VG_E_TRUNCATED
                                                    ? "the array ends inside them"
                                                    : "bad small element");
  if (t.type != MI_UINT32 || t.nbytes != 8)
    return mat_err(f, h, VG_E_MALFORMED, "array flags are type %u of %u bytes, not miUINT32 of 8",
                   (unsigned)t.type, (unsigned)t.nbytes);
  h->flags = (uint32_t)rd_uint_e(&b, 4, f->be);
  h->cls = h->flags & 0xffu;

  if ((rc = tag_read(r, f->be, &t)) != VG_OK)
    return mat_err(f, h, rc, "dimensions: %s",
                   rc == VG_E_TRUNCATED ? "the array ends before them" : "bad small element");
  if (t.type != MI_INT32 || t.nbytes % 4 || t.nbytes < 8)
    return mat_err(f, h, VG_E_MALFORMED,
                   "dimensions are type %u of %u bytes, not miINT32 with 2 or more",
                   (unsigned)t.type, (unsigned)t.nbytes);
  if (t.nbytes / 4 > VG_MAT_MAX_DIMS)
    return mat_err(f, h, VG_E_LIMIT, "%u dimensions exceed VG_MAT_MAX_DIMS (%d)",
                   (unsigned)(t.nbytes / 4), VG_MAT_MAX_DIMS);
  if (tag_body(r, &t, 1, &b) != VG_OK)
    return mat_err(f, h, VG_E_TRUNCATED, "dimensions of %u bytes, %zu remain",
                   (unsigned)t.nbytes, rd_left(r));
  h->ndims = (int)(t.nbytes / 4);
  for (int i = 0; i < h->ndims; i++) {
    h->dims[i] = (int32_t)(uint32_t)rd_uint_e(&b, 4, f->be);
    if (h->dims[i] < 0)
      return mat_err(f, h, VG_E_MALFORMED, "dimension %d is %ld", i + 1, (long)h->dims[i]);
  }
  h->rank = h->ndims;
  while (h->rank > 2 && h->dims[h->rank - 1] == 1)
    h->rank--;

  if ((rc = tag_read(r, f->be, &t)) != VG_OK)
    return mat_err(f, h, rc, "array name: %s",
                   rc == VG_E_TRUNCATED ? "the array ends before it" : "bad small element");
  if (t.type != MI_INT8 && t.type != MI_UINT8 && t.type != MI_UTF8)
    return mat_err(f, h, VG_E_MALFORMED, "array name is type %u, not miINT8", (unsigned)t.type);
  if (t.nbytes > MAT_NAME_MAX)
    return mat_err(f, h, VG_E_LIMIT, "array name of %u bytes exceeds %d", (unsigned)t.nbytes,
                   MAT_NAME_MAX);
  if (tag_body(r, &t, 1, &b) != VG_OK)
    return mat_err(f, h, VG_E_TRUNCATED, "array name of %u bytes, %zu remain",
                   (unsigned)t.nbytes, rd_left(r));
  for (uint32_t i = 0; i < t.nbytes; i++) {
    uint8_t c = rd_u8(&b);
    h->name[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
  }
  h->name[t.nbytes] = '\0';
  return VG_OK;
}

/* ---- zlib ---------------------------------------------------------------------------- */

/* A warning about variable @p h: a damaged checksum is reported, not fatal (convention 4). */
static void mat_warn(const mat_file *f, const mat_head *h, const char *what)
{
  vg_log(VG_LOG_WARN, "raster", "%s: %s%s%s at offset %zu: %s; data kept", f->name,
         h->name[0] ? "variable '" : "element", h->name, h->name[0] ? "'" : "", h->off, what);
}

/*
 * Inflates the zlib stream @p src (RFC 1950: 2-byte header, raw deflate,
 * big-endian Adler-32) of the compressed element @p h into @p dst, at most
 * @p cap bytes; *got is what came out. With @p whole, the stream must give
 * exactly @p cap bytes: more is VG_E_LIMIT (a bomb past its declared size),
 * fewer VG_E_TRUNCATED, and a bad or missing Adler-32 is logged and the
 * data kept. Without it (a head), stopping at cap is expected.
 */
static int zinflate(const mat_file *f, const mat_head *h, const uint8_t *src, size_t srclen,
                    uint8_t *dst, size_t cap, int whole, size_t *got)
{
  z_stream zs;
  vg_rd r;
  uint8_t cmf, flg, extra;
  int zrc, rc = VG_OK, end = 0, open = 0;

  *got = 0;
  rd_init(&r, src, srclen);
  cmf = rd_u8(&r);
  flg = rd_u8(&r);
  if (r.err)
    return mat_err(f, h, VG_E_TRUNCATED, "compressed element of %zu bytes has no zlib header",
                   srclen);
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || ((unsigned)cmf << 8 | flg) % 31 != 0)
    return mat_err(f, h, VG_E_MALFORMED, "compressed element is not a zlib stream (header "
                   "0x%02x 0x%02x, RFC 1950)", cmf, flg);
  if (flg & 0x20)
    return mat_err(f, h, VG_E_UNSUPPORTED, "zlib stream with a preset dictionary");
  if (rd_left(&r) > UINT_MAX || cap > UINT_MAX)
    return mat_err(f, h, VG_E_LIMIT, "compressed element of %zu bytes is more than zlib takes "
                   "in one call", srclen);
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -15) != Z_OK)
    return mat_err(f, h, VG_E_NOMEM, "zlib could not start");
  open = 1;
  zs.next_in = (Bytef *)(uintptr_t)rd_ptr(&r); /* zlib does not write through next_in */
  zs.avail_in = (uInt)rd_left(&r);
  zs.next_out = dst;
  zs.avail_out = (uInt)cap;
  /* inflate returns Z_OK only when it is out of input or of output room */
  while (zs.avail_out > 0) {
    zrc = inflate(&zs, Z_NO_FLUSH);
    if (zrc == Z_STREAM_END) {
      end = 1;
      break;
    }
    if (zrc == Z_BUF_ERROR || (zrc == Z_OK && zs.avail_in == 0))
      break; /* out of input */
    if (zrc != Z_OK) {
      rc = mat_err(f, h, zrc == Z_MEM_ERROR ? VG_E_NOMEM : VG_E_MALFORMED,
                   "corrupt deflate data after %zu inflated bytes (zlib: %s)",
                   cap - zs.avail_out, zs.msg ? zs.msg : "?");
      goto done;
    }
  }
  *got = cap - zs.avail_out;
  if (!whole)
    goto done;
  if (*got < cap) {
    rc = mat_err(f, h, VG_E_TRUNCATED, "compressed element %s after %zu of its declared %zu bytes",
                 end ? "ends" : "is cut", *got, cap);
    goto done;
  }
  if (!end) {
    /* all declared bytes are out: anything more is a bomb past its size */
    zs.next_out = &extra;
    zs.avail_out = 1;
    do
      zrc = inflate(&zs, Z_NO_FLUSH);
    while (zrc == Z_OK && zs.avail_out > 0 && zs.avail_in > 0);
    if (zs.avail_out == 0) {
      rc = mat_err(f, h, VG_E_LIMIT, "compressed element inflates past its declared %zu bytes",
                   cap);
      goto done;
    }
    if (zrc != Z_STREAM_END && zrc != Z_OK && zrc != Z_BUF_ERROR) {
      rc = mat_err(f, h, VG_E_MALFORMED, "corrupt deflate data after the declared %zu bytes "
                   "(zlib: %s)", cap, zs.msg ? zs.msg : "?");
      goto done;
    }
    end = zrc == Z_STREAM_END;
  }
  if (!end) {
    mat_warn(f, h, "zlib stream ends without its last block");
  } else {
    vg_rd t;
    uint32_t want, have = (uint32_t)adler32(adler32(0L, Z_NULL, 0), dst, (uInt)cap);
    char what[96];
    rd_init(&t, src, srclen);
    rd_skip(&t, srclen - zs.avail_in); /* the bytes inflate did not use: the trailer */
    want = rd_u32be(&t);
    if (t.err) {
      mat_warn(f, h, "zlib stream without its Adler-32");
    } else if (want != have) {
      snprintf(what, sizeof what, "zlib Adler-32 is %08lx, the data give %08lx",
               (unsigned long)want, (unsigned long)have);
      mat_warn(f, h, what);
    }
  }
done:
  if (open)
    inflateEnd(&zs);
  return rc;
}

/*
 * The inner tag of a compressed element (from its first inflated bytes) and
 * its whole inflated size, checked against VG_MAT_MAX_INFLATED and against
 * what its compressed bytes can give.
 */
static int inner_size(const mat_file *f, const mat_head *h, const uint8_t *pre, size_t npre,
                      size_t clen, mat_tag *t, size_t *total)
{
  vg_rd r;
  uint64_t n;
  int rc;
  rd_init(&r, pre, npre);
  if ((rc = tag_read(&r, f->be, t)) != VG_OK)
    return mat_err(f, h, rc, "compressed element: %s",
                   rc == VG_E_TRUNCATED ? "inflates to less than a tag" : "bad small element");
  n = t->small ? MAT_TAG : MAT_TAG + (uint64_t)t->nbytes;
  if (n > VG_MAT_MAX_INFLATED)
    return mat_err(f, h, VG_E_LIMIT,
                   "compressed element declares %llu inflated bytes, over VG_MAT_MAX_INFLATED",
                   (unsigned long long)n);
  if (n > (uint64_t)clen * MAT_DEFLATE_MAX_RATIO + MAT_DEFLATE_SLACK)
    return mat_err(f, h, VG_E_TRUNCATED,
                   "compressed element declares %llu inflated bytes, more than its %zu "
                   "compressed bytes can hold",
                   (unsigned long long)n, clen);
  *total = (size_t)n;
  return VG_OK;
}

/* ---- scan ---------------------------------------------------------------------------- */

/*
 * The head of the top-level element whose tag @p t was read at h->off, its
 * data in @p body. Sets *skip for elements that are not arrays.
 */
static int scan_head(const mat_file *f, const mat_tag *t, vg_rd *body, mat_head *h, int *skip)
{
  uint8_t pre[MAT_HEAD_MAX];
  mat_tag it;
  size_t got, total;
  vg_rd r;
  int rc;

  *skip = 0;
  if (t->type == MI_MATRIX) {
    if (t->nbytes == 0) { /* an empty matrix: MATLAB writes these inside cells */
      *skip = 1;
      return VG_OK;
    }
    return head_parse(f, body, h);
  }
  if (t->type != MI_COMPRESSED) {
    *skip = 1;
    return VG_OK;
  }
  if ((rc = zinflate(f, h, rd_ptr(body), rd_left(body), pre, sizeof pre, 0, &got)) != VG_OK)
    return rc;
  if ((rc = inner_size(f, h, pre, got, rd_left(body), &it, &total)) != VG_OK)
    return rc;
  if (it.type == MI_COMPRESSED)
    return mat_err(f, h, VG_E_MALFORMED, "compressed element inside a compressed element");
  if (it.type != MI_MATRIX || it.small || it.nbytes == 0) {
    *skip = 1;
    return VG_OK;
  }
  /* head_parse sees only the head's bytes: the rest is not inflated yet */
  rd_init(&r, pre + MAT_TAG, (got < total ? got : total) - MAT_TAG);
  return head_parse(f, &r, h);
}

/*
 * Walks the top-level elements and picks the variable to read: the one
 * named @p var, or the first 3-D numeric array, else the first 2-D one.
 */
static int scan(const mat_file *f, const char *var, mat_head *pick)
{
  mat_head h, two;
  mat_tag t;
  vg_rd r, body;
  int have_two = 0, skip, rc;

  memset(&two, 0, sizeof two);
  rd_init(&r, f->buf, f->len);
  rd_skip(&r, MAT_HEADER);
  while (rd_left(&r) > 0) {
    memset(&h, 0, sizeof h);
    h.off = rd_pos(&r);
    if ((rc = tag_read(&r, f->be, &t)) != VG_OK)
      return mat_err(f, &h, rc,
                     rc == VG_E_TRUNCATED ? "%zu bytes left, a tag needs 8"
                                          : "small element of more than 4 bytes (%zu left)",
                     rd_left(&r));
    if ((rc = tag_body(&r, &t, t.type != MI_COMPRESSED, &body)) != VG_OK)
      return mat_err(f, &h, rc, "element of type %u declares %u bytes, %zu remain",
                     (unsigned)t.type, (unsigned)t.nbytes, rd_left(&r));
    if ((rc = scan_head(f, &t, &body, &h, &skip)) != VG_OK)
      return rc;
    if (skip)
      continue;
    if (var) {
      if (strcmp(h.name, var) != 0)
        continue;
      if (!is_numeric_class(h.cls))
        return mat_err(f, &h, VG_E_UNSUPPORTED, "is a %s (class %u), not a numeric array",
                       class_name(h.cls), h.cls);
      if (h.rank > 3)
        return mat_err(f, &h, VG_E_UNSUPPORTED, "has %d dimensions, a cube has at most 3",
                       h.rank);
      *pick = h;
      return VG_OK;
    }
    /* default choice: named numeric arrays with elements (MATLAB writes its
     * subsystem data as a nameless uint8 array) */
    if (!is_numeric_class(h.cls) || !h.name[0] || h.rank > 3)
      continue;
    skip = 0;
    for (int i = 0; i < h.ndims; i++)
      skip |= h.dims[i] == 0;
    if (skip)
      continue;
    if (h.rank == 3) {
      *pick = h;
      return VG_OK;
    }
    if (!have_two) {
      two = h;
      have_two = 1;
    }
  }
  if (have_two) {
    *pick = two;
    return VG_OK;
  }
  if (var)
    return vg_error_set(VG_E_NOTFOUND, "%s: no variable '%s'", f->name, var);
  return vg_error_set(VG_E_NOTFOUND, "%s: no numeric 2-D or 3-D array", f->name);
}

/* ---- decode -------------------------------------------------------------------------- */

/* One value of storage type @p type (known numeric) as float. */
static float value(vg_rd *r, uint32_t type, int be)
{
  uint64_t u;
  double d;
  float fl;
  switch (type) {
  case MI_INT8:
    return (float)((int32_t)(rd_u8(r) ^ 0x80u) - 0x80);
  case MI_UINT8:
    return (float)rd_u8(r);
  case MI_INT16:
    return (float)((int32_t)(rd_uint_e(r, 2, be) ^ 0x8000u) - 0x8000);
  case MI_UINT16:
    return (float)rd_uint_e(r, 2, be);
  case MI_INT32:
    return (float)((int64_t)(rd_uint_e(r, 4, be) ^ 0x80000000u) - 0x80000000ll);
  case MI_UINT32:
    return (float)rd_uint_e(r, 4, be);
  case MI_INT64:
    return (float)(int64_t)rd_uint_e(r, 8, be); /* two's complement on every target */
  case MI_UINT64:
    return (float)rd_uint_e(r, 8, be);
  case MI_SINGLE:
    u = rd_uint_e(r, 4, be);
    {
      uint32_t w = (uint32_t)u;
      memcpy(&fl, &w, sizeof fl);
    }
    return fl;
  default: /* MI_DOUBLE */
    u = rd_uint_e(r, 8, be);
    memcpy(&d, &u, sizeof d);
    if (d > FLT_MAX)
      return INFINITY;
    if (d < -FLT_MAX)
      return -INFINITY;
    return (float)d;
  }
}

/* The real part of the array whose head @p h was just parsed from @p r, into a new cube. */
static int decode_real(const mat_file *f, const mat_head *h, vg_rd *r, vg_cube **out)
{
  vg_cube *c = NULL;
  mat_tag t;
  vg_rd b;
  size_t rows = (size_t)h->dims[0], cols = (size_t)h->dims[1], bands, n;
  uint64_t need;
  int size, rc;

  bands = h->rank == 3 ? (size_t)h->dims[2] : 1;
  if (vg_mul_size(&n, rows, cols) || vg_mul_size(&n, n, bands) ||
      (unsigned long long)n > VG_CUBE_MAX_VALUES)
    return mat_err(f, h, VG_E_LIMIT, "%zu x %zu x %zu values exceed VG_CUBE_MAX_VALUES", rows,
                   cols, bands);
  if (bands == 0)
    return mat_err(f, h, VG_E_UNSUPPORTED, "%zu x %zu x 0 array has no bands", rows, cols);
  if ((rc = tag_read(r, f->be, &t)) != VG_OK)
    return mat_err(f, h, rc, "real part: %s",
                   rc == VG_E_TRUNCATED ? "the array ends before it" : "bad small element");
  if (!(size = storage_size(t.type)))
    return mat_err(f, h, VG_E_MALFORMED, "real part stored as type %u, not a number type",
                   (unsigned)t.type);
  need = (uint64_t)n * (uint64_t)size;
  if (t.nbytes != need)
    return mat_err(f, h, VG_E_MALFORMED,
                   "real part has %u bytes, %zu x %zu x %zu of %d bytes need %llu",
                   (unsigned)t.nbytes, rows, cols, bands, size, (unsigned long long)need);
  if (tag_body(r, &t, 1, &b) != VG_OK)
    return mat_err(f, h, VG_E_TRUNCATED, "real part of %u bytes, %zu remain",
                   (unsigned)t.nbytes, rd_left(r));
  if ((rc = vg_cube_new(&c, (int)rows, (int)cols, (int)bands)) != VG_OK)
    return mat_err(f, h, rc, "%s", vg_error_last());
  /* n == 0: no loop at all, else 0 x 2^30 spins over the empty dimension (fuzzing found it) */
  for (size_t k = 0; k < bands && n > 0; k++)
    for (size_t j = 0; j < cols; j++)
      for (size_t i = 0; i < rows; i++)
        c->data[(i * cols + j) * bands + k] = value(&b, t.type, f->be);
  if (b.err) { /* cannot happen: the size was checked */
    vg_cube_free(c);
    return mat_err(f, h, VG_E_TRUNCATED, "real part ends early");
  }
  *out = c;
  return VG_OK;
}

/* Reads again the variable the scan picked and decodes it. */
static int decode(const mat_file *f, const mat_head *pick, vg_cube **out)
{
  uint8_t *ib = NULL, pre[MAT_TAG];
  mat_head h = *pick;
  mat_tag t, it;
  vg_rd r, body, ir;
  size_t got, total;
  int rc;

  rd_init(&r, f->buf, f->len);
  rd_skip(&r, h.off);
  if (tag_read(&r, f->be, &t) != VG_OK || tag_body(&r, &t, 0, &body) != VG_OK) {
    rc = mat_err(f, &h, VG_E_TRUNCATED, "element changed between scan and read");
    goto done;
  }
  if (t.type == MI_MATRIX) {
    if ((rc = head_parse(f, &body, &h)) == VG_OK)
      rc = decode_real(f, &h, &body, out);
    goto done;
  }
  /* compressed: the tag first, then everything it declares */
  if ((rc = zinflate(f, &h, rd_ptr(&body), rd_left(&body), pre, sizeof pre, 0, &got)) != VG_OK)
    goto done;
  if ((rc = inner_size(f, &h, pre, got, rd_left(&body), &it, &total)) != VG_OK)
    goto done;
  if (!(ib = malloc(total))) {
    rc = mat_err(f, &h, VG_E_NOMEM, "%zu inflated bytes", total);
    goto done;
  }
  if ((rc = zinflate(f, &h, rd_ptr(&body), rd_left(&body), ib, total, 1, &got)) != VG_OK)
    goto done;
  rd_init(&ir, ib, total);
  if (tag_read(&ir, f->be, &it) != VG_OK || tag_body(&ir, &it, 1, &body) != VG_OK) {
    rc = mat_err(f, &h, VG_E_TRUNCATED, "inflated element shorter than its tag");
    goto done;
  }
  if ((rc = head_parse(f, &body, &h)) == VG_OK)
    rc = decode_real(f, &h, &body, out);
done:
  free(ib);
  return rc;
}

/* ---- entry points -------------------------------------------------------------------- */

int vg_raster_mat_from_mem(vg_cube **out, const uint8_t *buf, size_t len, const char *var,
                           const char *name)
{
  mat_file f;
  mat_head pick;
  vg_cube *c = NULL;
  vg_rd r;
  const uint8_t *text, *ind;
  unsigned version;
  int rc;

  f.name = name ? name : "(memory)";
  f.buf = buf;
  f.len = buf ? len : 0;
  if (!out)
    return vg_error_set(VG_E_INVALID, "%s: no output cube", f.name);
  rd_init(&r, f.buf, f.len);
  text = rd_bytes(&r, 116);
  rd_skip(&r, 8); /* subsystem data offset: found again as a nameless array */
  rd_skip(&r, 2);
  ind = rd_bytes(&r, 2);
  if (r.err)
    return vg_error_set(VG_E_TRUNCATED, "%s: MAT header is %d bytes, the file has %zu", f.name,
                        MAT_HEADER, f.len);
  if (!text[0] || !text[1] || !text[2] || !text[3])
    return vg_error_set(VG_E_UNSUPPORTED, "%s: header text starts with a zero byte: a Level 4 "
                                          "MAT file, not Level 5", f.name);
  if (ind[0] == 'I' && ind[1] == 'M')
    f.be = 0;
  else if (ind[0] == 'M' && ind[1] == 'I')
    f.be = 1;
  else
    return vg_error_set(VG_E_MALFORMED,
                        "%s: endian indicator at offset 126 is 0x%02x 0x%02x, not 'IM' or 'MI'",
                        f.name, ind[0], ind[1]);
  rd_init(&r, f.buf, f.len);
  rd_skip(&r, 124);
  version = (unsigned)rd_uint_e(&r, 2, f.be);
  if (version != MAT_VERSION)
    return vg_error_set(VG_E_UNSUPPORTED, "%s: MAT version 0x%04x at offset 124, not 0x0100%s",
                        f.name, version,
                        version == MAT_VERSION_73 ? " (MAT 7.3 is HDF5: save with -v7)" : "");
  if ((rc = scan(&f, var, &pick)) != VG_OK)
    return rc;
  if ((rc = decode(&f, &pick, &c)) != VG_OK)
    goto done;
  *out = c;
  c = NULL;
done:
  vg_cube_free(c);
  return rc;
}

int vg_raster_mat_read(vg_cube **out, const char *path, const char *var)
{
  FILE *fp = NULL;
  uint8_t *buf = NULL;
  long n;
  int rc;

  if (!path)
    return vg_error_set(VG_E_INVALID, "MAT file: no path");
  if (!(fp = fopen(path, "rb"))) {
    rc = vg_error_set(VG_E_IO, "%s: cannot open", path);
    goto done;
  }
  if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
    rc = vg_error_set(VG_E_IO, "%s: cannot size", path);
    goto done;
  }
  if ((unsigned long long)n > MAT_MAX_FILE || (unsigned long long)n > SIZE_MAX - 1) {
    rc = vg_error_set(VG_E_LIMIT, "%s: %ld bytes is more than a MAT file read whole may be", path,
                      n);
    goto done;
  }
  if (!(buf = malloc((size_t)n + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "%s: %ld bytes", path, n);
    goto done;
  }
  if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
    rc = vg_error_set(VG_E_IO, "%s: short read", path);
    goto done;
  }
  rc = vg_raster_mat_from_mem(out, buf, (size_t)n, var, path);
done:
  if (fp)
    fclose(fp);
  free(buf);
  return rc;
}
