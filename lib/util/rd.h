/*
 * The checked byte reader. Every parser of outside bytes reads through it
 * (DESIGN.md convention 2): a cursor with an explicit remaining length, reads
 * byte by byte (no unaligned casts), a sticky error, and checks written as
 * length comparisons (`n > rd_left(r)`), never as `p + n > end`.
 *
 * A failed read returns 0 / NULL, sets r->err (first error wins) and leaves
 * the cursor where it was, so callers may test once after a run of reads.
 */
#ifndef VG_UTIL_RD_H
#define VG_UTIL_RD_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/util.h"

/*
 * BER length (SMPTE ST 336 §4.3 / X.690 §8.1.3): short form 0xxxxxxx, long
 * form 1nnnnnnn followed by n big-endian bytes. n = 0 (0x80) is the indefinite
 * form, which KLV forbids. ST 336 allows lengths of up to 2^64-1, but a size_t
 * and our buffers cannot hold more than 8 length bytes' worth, so more than 8
 * is VG_E_LIMIT. Whether the value fits the input is the caller's check.
 */
#define VG_BER_MAX_LEN_BYTES 8

/*
 * BER-OID (X.690 §8.19.2): 7 bits per byte, high bit set on all but the
 * last. ST 0601 tags fit in 2 bytes; we accept up to 4 bytes (28 bits) so
 * that no legal tag of any MISB local set is refused, and reject longer ones.
 */
#define VG_BER_OID_MAX_BYTES 4

typedef struct vg_rd {
  const uint8_t *base; /* first byte of the whole input, for offsets */
  size_t len;          /* whole input length */
  size_t pos;          /* bytes consumed */
  int err;             /* first error (VG_OK while none) */
} vg_rd;

static inline void rd_init(vg_rd *r, const uint8_t *buf, size_t len)
{
  r->base = buf;
  r->len = buf ? len : 0;
  r->pos = 0;
  r->err = VG_OK;
}

static inline size_t rd_left(const vg_rd *r) { return r->len - r->pos; }
static inline size_t rd_pos(const vg_rd *r) { return r->pos; }
static inline const uint8_t *rd_ptr(const vg_rd *r) { return r->base + r->pos; }

static inline int rd_fail(vg_rd *r, int e)
{
  if (r->err == VG_OK)
    r->err = e;
  return e;
}

static inline uint8_t rd_u8(vg_rd *r)
{
  if (1 > rd_left(r)) {
    rd_fail(r, VG_E_TRUNCATED);
    return 0;
  }
  return r->base[r->pos++];
}

static inline uint8_t rd_peek_u8(const vg_rd *r, size_t off)
{
  return off < rd_left(r) ? r->base[r->pos + off] : 0;
}

/* Reads an n-byte (0..8) big-endian unsigned integer. */
static inline uint64_t rd_uint_be(vg_rd *r, size_t n)
{
  uint64_t v = 0;
  if (n > 8) {
    rd_fail(r, VG_E_LIMIT);
    return 0;
  }
  if (n > rd_left(r)) {
    rd_fail(r, VG_E_TRUNCATED);
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    v = (v << 8) | r->base[r->pos + i];
  r->pos += n;
  return v;
}

/* Reads an n-byte (1..8) big-endian two's-complement integer. */
static inline int64_t rd_int_be(vg_rd *r, size_t n)
{
  uint64_t u;
  if (n == 0 || n > 8) {
    rd_fail(r, n ? VG_E_LIMIT : VG_E_MALFORMED);
    return 0;
  }
  u = rd_uint_be(r, n);
  if (n < 8 && (u >> (8 * n - 1)) & 1u)
    u |= ~(uint64_t)0 << (8 * n);
  return (int64_t)u; /* implementation-defined only for n == 8, two's complement on every target */
}

static inline uint16_t rd_u16be(vg_rd *r) { return (uint16_t)rd_uint_be(r, 2); }
static inline uint32_t rd_u32be(vg_rd *r) { return (uint32_t)rd_uint_be(r, 4); }
static inline uint64_t rd_u64be(vg_rd *r) { return rd_uint_be(r, 8); }

/* Borrows n bytes and advances, or returns NULL (and sets err) if fewer are left. */
static inline const uint8_t *rd_bytes(vg_rd *r, size_t n)
{
  const uint8_t *p;
  if (n > rd_left(r)) {
    rd_fail(r, VG_E_TRUNCATED);
    return NULL;
  }
  p = r->base + r->pos;
  r->pos += n;
  return p;
}

static inline int rd_skip(vg_rd *r, size_t n) { return rd_bytes(r, n) ? VG_OK : r->err; }

/*
 * Reads a BER length into *out. *nonminimal is set when the long form was
 * used where a shorter form would do (legal in KLV, reported). Returns VG_OK,
 * VG_E_TRUNCATED, VG_E_MALFORMED (indefinite form) or VG_E_LIMIT.
 */
static inline int rd_ber_len(vg_rd *r, uint64_t *out, int *nonminimal)
{
  size_t save = r->pos, n;
  uint8_t b0;
  uint64_t v;
  if (1 > rd_left(r))
    return rd_fail(r, VG_E_TRUNCATED);
  b0 = r->base[r->pos];
  if (b0 < 0x80) {
    r->pos++;
    *out = b0;
    if (nonminimal)
      *nonminimal = 0;
    return VG_OK;
  }
  n = b0 & 0x7fu;
  if (n == 0)
    return rd_fail(r, VG_E_MALFORMED);
  if (n > VG_BER_MAX_LEN_BYTES)
    return rd_fail(r, VG_E_LIMIT);
  if (1 + n > rd_left(r))
    return rd_fail(r, VG_E_TRUNCATED);
  r->pos++;
  v = rd_uint_be(r, n);
  if (r->err) {
    r->pos = save;
    return r->err;
  }
  *out = v;
  if (nonminimal)
    *nonminimal = v < 0x80 || (n > 1 && v < ((uint64_t)1 << (8 * (n - 1))));
  return VG_OK;
}

/*
 * Reads a BER-OID encoded unsigned integer (a local-set tag). *nonminimal is
 * set when it starts with a 0x80 byte (X.690 8.19.2: the first octet shall not
 * be 0x80). Returns VG_OK, VG_E_TRUNCATED or VG_E_LIMIT.
 */
static inline int rd_ber_oid(vg_rd *r, uint32_t *out, int *nonminimal)
{
  uint32_t v = 0;
  size_t i = 0;
  for (;;) {
    uint8_t b;
    if (i >= rd_left(r))
      return rd_fail(r, VG_E_TRUNCATED);
    if (i >= VG_BER_OID_MAX_BYTES)
      return rd_fail(r, VG_E_LIMIT);
    b = r->base[r->pos + i];
    v = (v << 7) | (b & 0x7fu);
    i++;
    if (!(b & 0x80))
      break;
  }
  if (nonminimal)
    *nonminimal = i > 1 && r->base[r->pos] == 0x80;
  r->pos += i;
  *out = v;
  return VG_OK;
}

#endif
