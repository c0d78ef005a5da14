/* Bounded growable buffers (every buffer has a maximum: DESIGN.md convention 3). */
#include <stdlib.h>
#include <string.h>

#include "vigia/util.h"

int vg_mul_size(size_t *out, size_t a, size_t b)
{
  if (a != 0 && b > SIZE_MAX / a)
    return -1;
  *out = a * b;
  return 0;
}

int vg_add_size(size_t *out, size_t a, size_t b)
{
  if (b > SIZE_MAX - a)
    return -1;
  *out = a + b;
  return 0;
}

void vg_buf_init(vg_buf *b, size_t max)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void vg_buf_free(vg_buf *b)
{
  if (!b)
    return;
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void vg_buf_reset(vg_buf *b) { b->len = 0; }

int vg_buf_reserve(vg_buf *b, size_t extra)
{
  size_t need, ncap;
  uint8_t *p;
  if (vg_add_size(&need, b->len, extra) || need > b->max)
    return vg_error_set(VG_E_LIMIT, "buffer would grow past its maximum of %zu bytes", b->max);
  /* +1 keeps room for a NUL so text buffers can be handed to C strings. */
  if (need + 1 <= b->cap)
    return VG_OK;
  ncap = b->cap ? b->cap : 64;
  while (ncap < need + 1)
    ncap = ncap > SIZE_MAX / 2 ? need + 1 : ncap * 2;
  p = realloc(b->data, ncap);
  if (!p)
    return vg_error_set(VG_E_NOMEM, "cannot grow a buffer to %zu bytes", ncap);
  b->data = p;
  b->cap = ncap;
  return VG_OK;
}

int vg_buf_append(vg_buf *b, const void *p, size_t n)
{
  int rc;
  if (n == 0)
    return VG_OK;
  if ((rc = vg_buf_reserve(b, n)) != VG_OK)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return VG_OK;
}

int vg_buf_putc(vg_buf *b, uint8_t c) { return vg_buf_append(b, &c, 1); }

int vg_buf_printf(vg_buf *b, const char *fmt, ...)
{
  va_list ap, ap2;
  int n, rc;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    va_end(ap2);
    return vg_error_set(VG_E_INVALID, "bad format string");
  }
  if ((rc = vg_buf_reserve(b, (size_t)n)) != VG_OK) {
    va_end(ap2);
    return rc;
  }
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
  return VG_OK;
}
