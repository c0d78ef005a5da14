/*
 * Top-level KLV packets (SMPTE ST 336):
 *
 *   OFFSET  SIZE   DESCRIPTION
 *   0       16     universal label (key); 06 0E 2B 34 for every SMPTE label
 *   16      1..9   BER length L of the value (short form, or 0x8n + n bytes)
 *   16+k    L      value: a local set (ST 0601, 0102, 0903) or a universal set (EG 0104)
 *
 * After the set decodes, the checks that belong to the packet: the checksum
 * (ST 0601 tag 1, last item, running sum over key..checksum length byte), the
 * version item, the time stamp that must come first. These are reported in
 * the packet's flags; only strict mode turns a checksum failure into an error.
 */
#include <stdlib.h>
#include <string.h>

#include "klv_int.h"

/* Bytes of the SMPTE label prefix every KLV key starts with (ST 336 §5). */
#define KLV_KEY_PREFIX_LEN 4
static const uint8_t k_prefix[KLV_KEY_PREFIX_LEN] = {0x06, 0x0e, 0x2b, 0x34};

struct vg_klv_decoder {
  vg_klv_decoder_opts opts;
  vg__arena arena[2]; /* the packet handed out lives in one, the next decode uses the other */
  vg_klv_packet pkt[2];
  vg_klv_set set[2];
  int cur;            /* index of the slot handed out last */
};

int vg_klv_decoder_new(vg_klv_decoder **out, const vg_klv_decoder_opts *opts)
{
  vg_klv_decoder *d = calloc(1, sizeof *d);
  if (!d)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a KLV decoder");
  if (opts)
    d->opts = *opts;
  else
    d->opts = (vg_klv_decoder_opts)VG_KLV_DECODER_OPTS_INIT;
  vg__arena_init(&d->arena[0]);
  vg__arena_init(&d->arena[1]);
  d->cur = 1;
  *out = d;
  return VG_OK;
}

void vg_klv_decoder_free(vg_klv_decoder *d)
{
  if (!d)
    return;
  vg__arena_free(&d->arena[0]);
  vg__arena_free(&d->arena[1]);
  free(d);
}

vg_klv_kind vg_klv_key_kind(const uint8_t key[16])
{
  static const vg_klv_kind kinds[] = {VG_KLV_KIND_ST0601, VG_KLV_KIND_ST0102, VG_KLV_KIND_ST0903,
                                      VG_KLV_KIND_EG0104};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    const vg__klv_setdef *sd = vg__klv_setdef_of(kinds[i]);
    /* Byte 7 is the registry version; SMPTE ST 336 says a reader ignores it. */
    if (sd && sd->key && memcmp(sd->key, key, 7) == 0 && memcmp(sd->key + 8, key + 8, 8) == 0)
      return kinds[i];
  }
  return VG_KLV_KIND_UNKNOWN;
}

const uint8_t *vg_klv_kind_key(vg_klv_kind kind)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(kind);
  return sd ? sd->key : NULL;
}

const vg_klv_item *vg_klv_find(const vg_klv_set *set, uint32_t tag)
{
  if (!set)
    return NULL;
  for (size_t i = 0; i < set->n; i++)
    if (set->items[i].tag == tag)
      return &set->items[i];
  return NULL;
}

int vg__klv_item_real(const vg_klv_item *it, double *out)
{
  switch (it->type) {
  case VG_KLV_T_REAL:
    *out = it->v.f;
    return VG_OK;
  case VG_KLV_T_UINT:
  case VG_KLV_T_TIME:
    *out = (double)it->v.u;
    return VG_OK;
  case VG_KLV_T_INT:
    *out = (double)it->v.i;
    return VG_OK;
  default:
    return VG_E_RANGE;
  }
}

int vg_klv_get_real(const vg_klv_set *set, uint32_t tag, double *out)
{
  const vg_klv_item *it = vg_klv_find(set, tag);
  return it ? vg__klv_item_real(it, out) : VG_E_NOTFOUND;
}

/* Checksum, version and ordering checks of a decoded top-level set. */
static void packet_checks(vg_klv_packet *p, const vg__klv_setdef *sd, const uint8_t *value)
{
  const vg_klv_set *s = &p->set;
  if (sd->cksum_tag) {
    const vg_klv_item *ck = NULL;
    size_t idx = 0;
    for (size_t i = 0; i < s->n; i++)
      if (s->items[i].tag == sd->cksum_tag) {
        ck = &s->items[i];
        idx = i;
      }
    if (!ck) {
      p->cksum = VG_KLV_CK_MISSING;
      p->flags |= VG_KLV_P_CHECKSUM_MISSING;
    } else {
      /* The sum runs from the key through the checksum's tag and length bytes. */
      size_t upto = (size_t)(ck->raw - p->bytes);
      if (idx != s->n - 1)
        p->flags |= VG_KLV_P_CHECKSUM_NOT_LAST;
      p->cksum_computed = vg_klv_checksum16(p->bytes, upto);
      if (ck->len != 2) {
        p->cksum = VG_KLV_CK_INVALID;
        p->flags |= VG_KLV_P_CHECKSUM_BAD;
      } else {
        p->cksum_stored = (uint16_t)(ck->raw[0] << 8 | ck->raw[1]);
        if (p->cksum_stored == p->cksum_computed) {
          p->cksum = VG_KLV_CK_VALID;
        } else {
          p->cksum = VG_KLV_CK_INVALID;
          p->flags |= VG_KLV_P_CHECKSUM_BAD;
          /* KWIVER #1734: some encoders sum the value only (no key, no length). */
          if (vg_klv_checksum16(value, (size_t)(ck->raw - value)) == p->cksum_stored)
            p->flags |= VG_KLV_P_CHECKSUM_PAYLOAD;
        }
      }
    }
  }
  if (sd->version_tag) {
    const vg_klv_item *v = vg_klv_find(s, sd->version_tag);
    if (v && v->type == VG_KLV_T_UINT && v->v.u < 1000)
      p->version = (int)v->v.u;
    else if (!v && sd->kind == VG_KLV_KIND_ST0601)
      p->flags |= VG_KLV_P_NO_VERSION;
  }
  if (sd->time_tag && s->n > 0 && s->items[0].tag != sd->time_tag && vg_klv_find(s, sd->time_tag))
    p->flags |= VG_KLV_P_TIME_NOT_FIRST;
}

int vg_klv_decode(vg_klv_decoder *d, const vg_klv_packet **out, const uint8_t *buf, size_t len,
                  size_t *consumed)
{
  vg_rd r;
  uint64_t vlen;
  int nonmin = 0, rc, slot = d->cur ^ 1;
  vg_klv_packet *p = &d->pkt[slot];
  const vg__klv_setdef *sd;
  const uint8_t *value;
  size_t total;
  vg__klv_ctx c;

  if (consumed)
    *consumed = 0;
  rd_init(&r, buf, len);
  if (len < 16)
    return vg_error_set(VG_E_TRUNCATED, "KLV key needs 16 bytes, %zu available", len);
  if (memcmp(buf, k_prefix, KLV_KEY_PREFIX_LEN) != 0)
    return vg_error_set(VG_E_MALFORMED, "no SMPTE key (06 0E 2B 34) at the start of the packet");
  rd_skip(&r, 16);
  rc = rd_ber_len(&r, &vlen, &nonmin);
  if (rc == VG_E_TRUNCATED)
    return vg_error_set(rc, "KLV length truncated at offset 16");
  if (rc == VG_E_MALFORMED)
    return vg_error_set(rc, "KLV length at offset 16 uses the indefinite form (0x80), which KLV forbids");
  if (rc == VG_E_LIMIT)
    return vg_error_set(rc, "KLV length at offset 16 has more than %d bytes", VG_BER_MAX_LEN_BYTES);
  if (vlen > VG_KLV_MAX_VALUE)
    return vg_error_set(VG_E_LIMIT, "KLV length %llu exceeds VG_KLV_MAX_VALUE (%llu bytes)",
                        (unsigned long long)vlen, (unsigned long long)VG_KLV_MAX_VALUE);
  if (vlen > rd_left(&r))
    return vg_error_set(VG_E_TRUNCATED, "KLV value of %llu bytes, %zu available",
                        (unsigned long long)vlen, rd_left(&r));
  value = rd_ptr(&r);
  total = rd_pos(&r) + (size_t)vlen;

  vg__arena_reset(&d->arena[slot]);
  memset(p, 0, sizeof *p);
  memcpy(p->key, buf, 16);
  p->value_len = vlen;
  p->total_len = total;
  p->bytes = buf;
  p->version = -1;
  p->kind = vg_klv_key_kind(buf);
  if (nonmin)
    p->flags |= VG_KLV_P_NONMIN_LEN;

  if (p->kind == VG_KLV_KIND_UNKNOWN) {
    p->flags |= VG_KLV_P_UNKNOWN_KEY;
    p->set.kind = VG_KLV_KIND_UNKNOWN;
    goto done;
  }
  sd = vg__klv_setdef_of(p->kind);
  c.arena = &d->arena[slot];
  c.base = buf;
  c.depth = 0;
  c.pflags = 0;
  rc = vg__klv_set_decode(&c, p->kind, value, (size_t)vlen, &p->set);
  if (rc != VG_OK) {
    if (consumed && rc != VG_E_NOMEM)
      *consumed = total; /* the framing holds: a stream can go on past this packet */
    return rc;
  }
  p->flags |= c.pflags;
  packet_checks(p, sd, value);
  if (d->opts.strict && (p->cksum == VG_KLV_CK_INVALID || p->cksum == VG_KLV_CK_MISSING)) {
    if (consumed)
      *consumed = total;
    if (p->cksum == VG_KLV_CK_MISSING)
      return vg_error_set(VG_E_CHECKSUM, "%s packet has no checksum item (strict mode)", sd->name);
    return vg_error_set(VG_E_CHECKSUM, "%s checksum stored 0x%04X, computed 0x%04X (strict mode)",
                        sd->name, p->cksum_stored, p->cksum_computed);
  }
done:
  d->cur = slot;
  *out = p;
  if (consumed)
    *consumed = total;
  return VG_OK;
}

int vg_klv_decode_set(vg_klv_decoder *d, const vg_klv_set **out, vg_klv_kind kind,
                      const uint8_t *buf, size_t len)
{
  int slot = d->cur ^ 1, rc;
  vg__klv_ctx c;
  vg_klv_set tmp;
  c.arena = &d->arena[slot];
  c.base = buf;
  c.depth = 0;
  c.pflags = 0;
  vg__arena_reset(&d->arena[slot]);
  rc = vg__klv_set_decode(&c, kind, buf, len, &tmp);
  if (rc != VG_OK)
    return rc;
  d->set[slot] = tmp;
  memset(&d->pkt[slot], 0, sizeof d->pkt[slot]);
  d->cur = slot;
  *out = &d->set[slot];
  return VG_OK;
}
