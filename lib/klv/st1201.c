/*
 * MISB ST 1201.4 (Floating Point to Integer Mapping): IMAPB, IMAPA and the
 * special values.
 *
 * Wire format: one big-endian unsigned integer y of L bytes (1 <= L <= 8),
 * no tag or length of its own (the enclosing local set gives L).
 *
 *   bits of the first byte   meaning                       value returned
 *   ----------------------   ---------------------------   --------------
 *   0xxx xxxx                normal mapped value (§6)      sR*(y-zOffset)+a
 *   1000 0000, rest all 0    normal mapped value 2^dPow    (= b when b-a is 2^k)
 *   10xx xxxx  (otherwise)   reserved                      NaN, RESERVED
 *   1100 0xxx                user defined                  NaN, RESERVED
 *   1100 1000, rest all 0    +infinity                     +inf
 *   1101 0iii                +quiet NaN, i.. = identifier  +NaN
 *   1101 1iii                +signalling NaN               +NaN
 *   1110 0000, rest all 0    below range (MISB defined)    NaN, BELOW_RANGE
 *   1110 0001, rest all 0    above range (MISB defined)    NaN, ABOVE_RANGE
 *   1110 0xxx  (otherwise)   MISB defined, reserved        NaN, RESERVED
 *   1110 1000, rest all 0    -infinity                     -inf
 *   1111 0iii                -quiet NaN                    -NaN
 *   1111 1iii                -signalling NaN               -NaN
 *
 * The mapping (ST 1201.4 §6, IMAPB(a, b, L)):
 *
 *   bPow    = ceil(log2(b - a))
 *   dPow    = 8L - 1
 *   sF      = 2^(dPow - bPow)          sR = 2^(bPow - dPow)
 *   zOffset = sF*a - floor(sF*a)       when a < 0 < b, else 0
 *   encode:   y = floor(sF*(x - a) + zOffset)
 *   decode:   x = sR*(y - zOffset) + a
 *
 * IMAPA(a, b, g) picks L from the precision g (§6):
 *
 *   Lbits = ceil(log2(b - a)) - floor(log2(g)) + 1,   L = ceil(Lbits / 8)
 *
 * e.g. IMAPA(0, 100, 1e-5): 7 + 17 + 1 = 25 bits, L = 4 (Appendix A).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "klv/klv_int.h"

/* An IMAP value is at most 8 bytes: the integer y must fit a uint64_t (ST 1201.4 §6). */
#define VG_IMAP_MAX_LEN 8

/* The top five bits of the first byte name a special (ST 1201.4, special values). */
#define IMAP_HI_MASK 0xF8u
#define IMAP_HI_POS_INF 0xC8u
#define IMAP_HI_NEG_INF 0xE8u
#define IMAP_HI_POS_QNAN 0xD0u
#define IMAP_HI_NEG_QNAN 0xF0u
#define IMAP_HI_POS_SNAN 0xD8u
#define IMAP_HI_NEG_SNAN 0xF8u
#define IMAP_HI_MISB 0xE0u
/* Low three bits of a MISB-defined first byte: the codes jMISB and KWIVER write. */
#define IMAP_MISB_BELOW 0x0u
#define IMAP_MISB_ABOVE 0x1u

typedef struct imap_terms {
  double sf, sr, zoff;
  uint64_t top; /* 2^dPow: the MSB of the field, the largest normal value */
} imap_terms;

/*
 * ceil(log2(r)) for r > 0, exactly. log2() is only as good as its rounding:
 * for r a hair above a power of two it can return the integer itself, and then
 * b would map onto the MSB and read back as a special value. frexp is exact.
 */
static int ceil_log2(double r)
{
  int e;
  double m = frexp(r, &e); /* r = m * 2^e, 0.5 <= m < 1 */
  return m == 0.5 ? e - 1 : e;
}

/* Same, floor(log2(g)). */
static int floor_log2(double g)
{
  int e;
  (void)frexp(g, &e);
  return e - 1;
}

/*
 * The constants of IMAPB(a, b, n), or -1 when the range cannot be mapped
 * (not finite, empty, or so wide or so narrow that sF or sR leaves the range
 * of a double).
 */
static int imap_terms_get(imap_terms *t, double a, double b, size_t n)
{
  double range = b - a;
  int bpow, dpow;
  if (n == 0 || n > VG_IMAP_MAX_LEN || !isfinite(a) || !isfinite(b) || !(a < b) ||
      !isfinite(range))
    return -1;
  bpow = ceil_log2(range);
  dpow = (int)(8 * n) - 1;
  t->sf = ldexp(1.0, dpow - bpow);
  t->sr = ldexp(1.0, bpow - dpow);
  if (!isfinite(t->sf) || !isfinite(t->sr) || t->sf == 0.0 || t->sr == 0.0)
    return -1;
  /*
   * zOffset exists so that 0 maps onto an integer and decodes back to exactly
   * 0, so it only means something when 0 is inside the range. jMISB, KWIVER
   * and jtejido/st1201 all apply it only when a < 0 < b, and jMISB's 2128
   * generated vectors need that: with "a < 0" alone, IMAPB(-10000, -100, 1)
   * would encode -100 as 0x4e instead of 0x4d.
   */
  t->zoff = (a < 0.0 && b > 0.0) ? t->sf * a - floor(t->sf * a) : 0.0;
  t->top = (uint64_t)1 << dpow;
  return 0;
}

/*
 * True when every bit of the n-byte y outside @p first_mask (a mask of the
 * first byte's bits that name the kind) is zero: the "other bits" that the
 * standard wants zero for infinities and the range codes.
 */
static int imap_rest_zero(uint64_t y, size_t n, unsigned first_mask)
{
  uint64_t keep = (uint64_t)(0xFFu & ~first_mask) << (8 * (n - 1));
  uint64_t below = n > 1 ? ((uint64_t)1 << (8 * (n - 1))) - 1 : 0;
  return (y & (keep | below)) == 0;
}

/* Classifies a pattern with the MSB set (and not the lone MSB) into a special. */
static double imap_special(uint64_t y, size_t n, int *special)
{
  unsigned b0 = (unsigned)(y >> (8 * (n - 1))) & 0xFFu;
  switch (b0 & IMAP_HI_MASK) {
  /* KWIVER refuses an infinity with other bits set; we report it unnamed. */
  case IMAP_HI_POS_INF:
    if (imap_rest_zero(y, n, IMAP_HI_MASK)) {
      *special = VG_KLV_SP_POS_INF;
      return INFINITY;
    }
    break;
  case IMAP_HI_NEG_INF:
    if (imap_rest_zero(y, n, IMAP_HI_MASK)) {
      *special = VG_KLV_SP_NEG_INF;
      return -INFINITY;
    }
    break;
  /* The other bits of a NaN are its identifier, so any of them go. */
  case IMAP_HI_POS_QNAN:
    *special = VG_KLV_SP_POS_QNAN;
    return NAN;
  case IMAP_HI_NEG_QNAN:
    *special = VG_KLV_SP_NEG_QNAN;
    return copysign(NAN, -1.0);
  case IMAP_HI_POS_SNAN:
    *special = VG_KLV_SP_POS_SNAN;
    return NAN;
  case IMAP_HI_NEG_SNAN:
    *special = VG_KLV_SP_NEG_SNAN;
    return copysign(NAN, -1.0);
  case IMAP_HI_MISB:
    if (imap_rest_zero(y, n, 0xFFu)) {
      if ((b0 & 0x7u) == IMAP_MISB_BELOW) {
        *special = VG_KLV_SP_BELOW_RANGE;
        return NAN;
      }
      if ((b0 & 0x7u) == IMAP_MISB_ABOVE) {
        *special = VG_KLV_SP_ABOVE_RANGE;
        return NAN;
      }
    }
    break;
  default:
    break;
  }
  *special = VG_KLV_SP_RESERVED;
  return NAN;
}

static void imap_put(uint64_t y, uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(y >> (8 * (n - 1 - i)));
}

double vg_klv_imapb_decode(double a, double b, const uint8_t *buf, size_t n, int *special)
{
  imap_terms t;
  vg_rd r;
  uint64_t y;
  int sp_dummy;
  if (!special)
    special = &sp_dummy;
  /* No error channel here: a length or range we cannot read is an unnamed special. */
  if (!buf || imap_terms_get(&t, a, b, n) != 0) {
    *special = VG_KLV_SP_RESERVED;
    return NAN;
  }
  rd_init(&r, buf, n);
  y = rd_uint_be(&r, n);
  /*
   * The lone MSB is 2^dPow, the image of b when b - a is a power of two
   * (sF*(b-a) = 2^dPow exactly): a normal value, not a special. jMISB and
   * KWIVER read it so, and jMISB's generated vectors encode b that way.
   */
  if ((y & t.top) && y != t.top)
    return imap_special(y, n, special);
  *special = VG_KLV_SP_NONE;
  return t.sr * ((double)y - t.zoff) + a;
}

int vg_klv_imapb_encode(double a, double b, double x, uint8_t *out, size_t n)
{
  imap_terms t;
  double d;
  if (!out || imap_terms_get(&t, a, b, n) != 0)
    return vg_error_set(VG_E_INVALID, "IMAPB(%g, %g, %zu): no such mapping", a, b, n);
  if (isnan(x))
    return vg_klv_imap_encode_special(signbit(x) ? VG_KLV_SP_NEG_QNAN : VG_KLV_SP_POS_QNAN, out,
                                      n);
  if (isinf(x))
    return vg_klv_imap_encode_special(x > 0 ? VG_KLV_SP_POS_INF : VG_KLV_SP_NEG_INF, out, n);
  if (x < a || x > b)
    return vg_error_set(VG_E_RANGE, "IMAPB(%g, %g, %zu): %.17g is outside the range", a, b, n,
                        x);
  d = floor(t.sf * (x - a) + t.zoff);
  /*
   * In exact arithmetic 0 <= d <= 2^dPow (sF*(b-a) <= 2^dPow and zOffset < 1);
   * this only guards the conversion below against a rounding surprise.
   */
  if (!(d >= 0.0 && d <= (double)t.top))
    return vg_error_set(VG_E_RANGE, "IMAPB(%g, %g, %zu): %.17g maps outside the field", a, b,
                        n, x);
  imap_put((uint64_t)d, out, n);
  return VG_OK;
}

int vg_klv_imap_encode_special(int special, uint8_t *out, size_t n)
{
  unsigned b0;
  if (!out || n == 0 || n > VG_IMAP_MAX_LEN)
    return vg_error_set(VG_E_INVALID, "IMAP special: length %zu not in 1..8", n);
  switch (special) {
  case VG_KLV_SP_POS_INF: b0 = IMAP_HI_POS_INF; break;
  case VG_KLV_SP_NEG_INF: b0 = IMAP_HI_NEG_INF; break;
  /* An IEEE NaN of unknown sign or kind is sent as the plain quiet NaN, as for encode(NAN). */
  case VG_KLV_SP_NAN:
  case VG_KLV_SP_POS_QNAN: b0 = IMAP_HI_POS_QNAN; break;
  case VG_KLV_SP_NEG_QNAN: b0 = IMAP_HI_NEG_QNAN; break;
  case VG_KLV_SP_POS_SNAN: b0 = IMAP_HI_POS_SNAN; break;
  case VG_KLV_SP_NEG_SNAN: b0 = IMAP_HI_NEG_SNAN; break;
  case VG_KLV_SP_BELOW_RANGE: b0 = IMAP_HI_MISB | IMAP_MISB_BELOW; break;
  case VG_KLV_SP_ABOVE_RANGE: b0 = IMAP_HI_MISB | IMAP_MISB_ABOVE; break;
  default:
    return vg_error_set(VG_E_INVALID, "IMAP special %d has no ST 1201 code", special);
  }
  imap_put((uint64_t)b0 << (8 * (n - 1)), out, n);
  return VG_OK;
}

size_t vg_klv_imapa_length(double a, double b, double g)
{
  double range = b - a;
  long bits;
  if (!isfinite(a) || !isfinite(b) || !(a < b) || !isfinite(range) || !isfinite(g) ||
      !(g > 0.0))
    return 0;
  bits = (long)ceil_log2(range) - (long)floor_log2(g) + 1;
  /* A precision coarser than the range still needs one bit to say a or b. */
  if (bits < 1)
    bits = 1;
  if (bits > 8 * VG_IMAP_MAX_LEN)
    return 0;
  return (size_t)((bits + 7) / 8);
}
