/*
 * Fuzz harness: local-set and packet decoding (DESIGN.md convention 10).
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     selector: bits 0-1 pick the kind of the set (ST 0601, ST 0102,
 *                 ST 0903, EG 0104); bit 2 makes the packet decoder strict
 *   1       n     the bytes: decoded as a local set of that kind
 *                 (vg_klv_decode_set) and as a whole KLV packet (vg_klv_decode)
 *
 * Whatever decodes is written as JSON and turned into a pose, and the set is
 * encoded back, so that those paths see every shape the decoder accepts.
 * Nothing is asserted beyond what the sanitizers check, except that the
 * decoder's reported sizes stay inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/klv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Output caps: far above what a 1 MB input can produce as JSON. */
#define FUZZ_JSON_MAX ((size_t)64 << 20)
#define FUZZ_ENC_MAX ((size_t)32 << 20)

static const vg_klv_kind k_kinds[4] = {VG_KLV_KIND_ST0601, VG_KLV_KIND_ST0102,
                                       VG_KLV_KIND_ST0903, VG_KLV_KIND_EG0104};

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_klv_set: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

/* JSON and pose of a packet: both must succeed on anything the decoder returns. */
static void exercise_packet(const vg_klv_packet *pkt)
{
  vg_buf out;
  vg_jw w;
  vg_klv_pose pose;
  int rc;

  vg_buf_init(&out, FUZZ_JSON_MAX);
  vg_jw_init(&w, &out, (int)(pkt->total_len & 1));
  rc = vg_klv_packet_to_json(&w, pkt);
  if (rc == VG_OK)
    rc = vg_jw_finish(&w);
  if (rc != VG_OK)
    fail("vg_klv_packet_to_json failed on a decoded packet");
  vg_buf_free(&out);

  rc = vg_klv_pose_from_packet(&pose, pkt);
  if (pkt->kind == VG_KLV_KIND_ST0601 || pkt->kind == VG_KLV_KIND_EG0104) {
    if (rc != VG_OK)
      fail("vg_klv_pose_from_packet refused an ST 0601 / EG 0104 packet");
    if (vg_klv_pose_has(&pose, VG_POSE_PLATFORM_DESIGNATION) &&
        strlen(pose.platform_designation) >= sizeof pose.platform_designation)
      fail("platform designation not terminated");
  } else if (rc == VG_OK) {
    fail("vg_klv_pose_from_packet accepted a packet without a pose");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vg_klv_decoder *d = NULL, *ds = NULL;
  vg_klv_decoder_opts strict = VG_KLV_DECODER_OPTS_INIT;
  const vg_klv_set *set = NULL;
  const vg_klv_packet *pkt = NULL;
  vg_klv_kind kind;
  const uint8_t *body;
  size_t n, consumed = 0;
  int rc;

  if (size < 1)
    return 0;
  kind = k_kinds[data[0] & 3];
  body = data + 1;
  n = size - 1;
  strict.strict = 1;
  if (vg_klv_decoder_new(&d, NULL) != VG_OK || vg_klv_decoder_new(&ds, &strict) != VG_OK)
    fail("decoder_new");

  /* 1. The bytes as a local set of the chosen kind. */
  rc = vg_klv_decode_set(d, &set, kind, body, n);
  if (rc == VG_OK) {
    vg_klv_packet fake;
    vg_buf enc;
    if (set->kind != kind)
      fail("decode_set returned another kind");
    /* A packet around the set, so JSON and pose walk the set as they would a packet. */
    memset(&fake, 0, sizeof fake);
    fake.kind = kind;
    fake.version = -1;
    fake.set = *set;
    fake.bytes = body;
    fake.total_len = n;
    fake.value_len = n;
    if (vg_klv_kind_key(kind))
      memcpy(fake.key, vg_klv_kind_key(kind), 16);
    exercise_packet(&fake);
    vg_buf_init(&enc, FUZZ_ENC_MAX);
    (void)vg_klv_encode_set(&enc, set); /* may refuse values it cannot write: no crash */
    vg_buf_free(&enc);
  }

  /* 2. The bytes as a whole packet, lenient then (if asked) strict. */
  rc = vg_klv_decode(d, &pkt, body, n, &consumed);
  if (rc == VG_OK) {
    if (consumed != pkt->total_len || pkt->total_len > n || pkt->value_len > pkt->total_len)
      fail("packet sizes outside the input");
    if (pkt->bytes != body)
      fail("packet does not point at its bytes");
    exercise_packet(pkt);
  } else if (consumed > n) {
    fail("consumed past the input on failure");
  }
  if (data[0] & 4) {
    consumed = 0;
    rc = vg_klv_decode(ds, &pkt, body, n, &consumed);
    if (rc == VG_OK) {
      if (pkt->cksum == VG_KLV_CK_INVALID || pkt->cksum == VG_KLV_CK_MISSING)
        fail("strict decoder returned a packet with a bad or missing checksum");
      exercise_packet(pkt);
    } else if (consumed > n) {
      fail("strict: consumed past the input on failure");
    }
  }

  vg_klv_decoder_free(ds);
  vg_klv_decoder_free(d);
  return 0;
}
