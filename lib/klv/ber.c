/*
 * BER lengths and BER-OID tags on the writing side (SMPTE ST 336 §4.3,
 * X.690 §8.1.3 and §8.19). vigia reads non-minimal forms (rd.h) and always
 * writes the minimal one (libmisbklv decision 0030).
 */
#include "klv_int.h"

int vg_klv_put_ber_len(vg_buf *out, uint64_t len)
{
  uint8_t tmp[9];
  int n = 0;
  if (len < 0x80)
    return vg_buf_putc(out, (uint8_t)len);
  for (uint64_t v = len; v && n < 8; v >>= 8)
    n++;
  tmp[0] = (uint8_t)(0x80 | n);
  for (int i = 0; i < n; i++)
    tmp[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
  return vg_buf_append(out, tmp, (size_t)n + 1);
}

int vg_klv_put_ber_oid(vg_buf *out, uint32_t v)
{
  uint8_t tmp[5];
  int n = 1;
  for (uint32_t t = v >> 7; t && n < (int)sizeof tmp; t >>= 7) /* 32 bits need at most 5 */
    n++;
  for (int i = 0; i < n; i++) {
    uint8_t b = (uint8_t)((v >> (7 * (n - 1 - i))) & 0x7f);
    tmp[i] = (uint8_t)(i < n - 1 ? b | 0x80 : b);
  }
  return vg_buf_append(out, tmp, (size_t)n);
}
