/*
 * Fuzz harness: decode / encode round trip (DESIGN.md convention 10).
 *
 * The input is a KLV packet (trailing bytes are ignored). When it decodes as
 * ST 0601, ST 0903 or EG 0104:
 *
 *   e1 = encode(decode(input))      may fail: not every decodable value is writable
 *   p2 = decode(e1)                 must succeed, same kind, checksum valid (0601, 0903)
 *   e2 = encode(p2)                 must succeed and equal e1 byte for byte
 *
 * that is encode(decode(encode(x))) == encode(x): the encoder's output is a
 * fixed point. A mismatch prints both encodings and aborts.
 * Set VIGIA_FUZZ_VERBOSE=1 to see why a first encoding was refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/klv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Output cap: an encoding is never much larger than the 16 MiB value limit. */
#define FUZZ_ENC_MAX ((size_t)VG_KLV_MAX_VALUE + 64)

static void hexdump(const char *label, const uint8_t *p, size_t n)
{
  fprintf(stderr, "%s (%zu bytes): ", label, n);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "%02x", p[i]);
  fputc('\n', stderr);
}

static void fail(const char *what, const vg_buf *e1, const vg_buf *e2)
{
  fprintf(stderr, "fuzz_klv_roundtrip: %s (%s)\n", what, vg_error_last());
  if (e1)
    hexdump("encode(decode(x))", e1->data, e1->len);
  if (e2)
    hexdump("encode(decode(encode(decode(x))))", e2->data, e2->len);
  abort();
}

/* Prints the first item that differs between two decodes of e1 / e2 (for the report). */
static void explain(const vg_klv_packet *a, const vg_klv_packet *b)
{
  size_t n = a->set.n < b->set.n ? a->set.n : b->set.n;
  fprintf(stderr, "items: %zu vs %zu\n", a->set.n, b->set.n);
  for (size_t i = 0; i < n; i++) {
    const vg_klv_item *x = &a->set.items[i], *y = &b->set.items[i];
    if (x->tag != y->tag || x->len != y->len || memcmp(x->raw, y->raw, x->len) != 0) {
      fprintf(stderr, "first differing item #%zu: tag %u len %u -> tag %u len %u\n", i, x->tag,
              x->len, y->tag, y->len);
      hexdump("  in e1", x->raw, x->len);
      hexdump("  in e2", y->raw, y->len);
      return;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vg_klv_decoder *d1 = NULL, *d2 = NULL, *d3 = NULL;
  const vg_klv_packet *p1 = NULL, *p2 = NULL;
  vg_buf e1, e2;
  size_t consumed = 0;
  int rc;

  vg_buf_init(&e1, FUZZ_ENC_MAX);
  vg_buf_init(&e2, FUZZ_ENC_MAX);
  if (vg_klv_decoder_new(&d1, NULL) != VG_OK || vg_klv_decoder_new(&d2, NULL) != VG_OK ||
      vg_klv_decoder_new(&d3, NULL) != VG_OK)
    fail("decoder_new", NULL, NULL);

  if (vg_klv_decode(d1, &p1, data, size, &consumed) != VG_OK)
    goto done;
  if (p1->kind != VG_KLV_KIND_ST0601 && p1->kind != VG_KLV_KIND_ST0903 &&
      p1->kind != VG_KLV_KIND_EG0104)
    goto done;

  rc = vg_klv_encode(&e1, p1);
  if (rc != VG_OK) {
    if (getenv("VIGIA_FUZZ_VERBOSE"))
      fprintf(stderr, "first encoding refused: %s: %s\n", vg_err_name(rc), vg_error_last());
    goto done;
  }

  consumed = 0;
  rc = vg_klv_decode(d2, &p2, e1.data, e1.len, &consumed);
  if (rc != VG_OK)
    fail("encode(decode(x)) does not decode", &e1, NULL);
  if (consumed != e1.len)
    fail("encode(decode(x)) decodes to a packet shorter than itself", &e1, NULL);
  if (p2->kind != p1->kind)
    fail("encode(decode(x)) decodes to another kind", &e1, NULL);
  if ((p2->kind == VG_KLV_KIND_ST0601 || p2->kind == VG_KLV_KIND_ST0903) &&
      p2->cksum != VG_KLV_CK_VALID)
    fail("encode(decode(x)) has no valid checksum", &e1, NULL);

  rc = vg_klv_encode(&e2, p2);
  if (rc != VG_OK)
    fail("encode(decode(encode(decode(x)))) refused", &e1, NULL);
  if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0) {
    const vg_klv_packet *p3 = NULL;
    fprintf(stderr, "fuzz_klv_roundtrip: kind %s, encodings differ\n", vg_klv_kind_name(p1->kind));
    if (vg_klv_decode(d3, &p3, e2.data, e2.len, NULL) == VG_OK)
      explain(p2, p3);
    fail("encode(decode(encode(x))) != encode(x)", &e1, &e2);
  }

done:
  vg_buf_free(&e2);
  vg_buf_free(&e1);
  vg_klv_decoder_free(d3);
  vg_klv_decoder_free(d2);
  vg_klv_decoder_free(d1);
  return 0;
}
