/*
 * KLV encoder: typed items back to bytes. Lengths and tags are written in
 * their minimal BER form, mapped values with the length the table fixes,
 * IMAPB values with the length they were read with (ST 1201 lets producers
 * choose it), unknown and undecoded items from their raw bytes, so that a
 * canonical packet decodes and encodes to the same bytes. ST 0601 tag 66 is
 * deprecated and never written. The checksum of a top-level set is computed
 * here and always written last.
 */
#include <math.h>
#include <string.h>

#include "klv_int.h"

/* Bytes needed for an unsigned value (at least 1). */
static size_t uint_len(uint64_t v)
{
  size_t n = 1;
  while (n < 8 && (v >> (8 * n)))
    n++;
  return n;
}

/* Bytes needed for a two's-complement value (at least 1). */
static size_t int_len(int64_t v)
{
  size_t n = 1;
  while (n < 8) {
    int64_t lim = (int64_t)1 << (8 * n - 1);
    if (v >= -lim && v < lim)
      break;
    n++;
  }
  return n;
}

static int put_be(vg_buf *out, uint64_t v, size_t n)
{
  uint8_t tmp[8];
  for (size_t i = 0; i < n; i++)
    tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return vg_buf_append(out, tmp, n);
}

/* Length for a variable-length integer item: minimal, but no shorter than the
 * table's minimum and no longer than its maximum when it fixes one. */
static size_t var_len(const vg_klv_tagdef *td, size_t minimal)
{
  if (td->minlen == td->maxlen && td->minlen)
    return td->minlen;
  if (minimal < td->minlen)
    minimal = td->minlen;
  return minimal;
}

static int utf8_to_utf16be(vg_buf *out, const char *s, size_t n)
{
  size_t i = 0;
  const uint8_t *p = (const uint8_t *)s;
  while (i < n) {
    uint32_t cp;
    size_t k;
    int rc;
    if (p[i] < 0x80) {
      cp = p[i];
      k = 0;
    } else if ((p[i] & 0xe0) == 0xc0) {
      cp = p[i] & 0x1f;
      k = 1;
    } else if ((p[i] & 0xf0) == 0xe0) {
      cp = p[i] & 0x0f;
      k = 2;
    } else {
      cp = p[i] & 0x07;
      k = 3;
    }
    if (k > n - i - 1)
      return vg_error_set(VG_E_INVALID, "string is not valid UTF-8");
    for (size_t j = 1; j <= k; j++)
      cp = cp << 6 | (p[i + j] & 0x3f);
    i += k + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      if ((rc = put_be(out, 0xd800 + (cp >> 10), 2)) || (rc = put_be(out, 0xdc00 + (cp & 0x3ff), 2)))
        return rc;
    } else if ((rc = put_be(out, cp, 2)) != VG_OK) {
      return rc;
    }
  }
  return VG_OK;
}

static int encode_series(vg_buf *out, const vg_klv_tagdef *td, const vg_klv_set *s)
{
  const vg__klv_setdef *csd = vg__klv_setdef_of(td->child);
  int with_id = td->child == VG_KLV_KIND_ST0903_VTARGET;
  vg_buf tmp;
  int rc = VG_OK;
  if (!csd)
    return vg_error_set(VG_E_UNSUPPORTED, "no encoder for series of kind %d", (int)td->child);
  vg_buf_init(&tmp, out->max);
  for (size_t i = 0; i < s->n && rc == VG_OK; i++) {
    const vg_klv_item *m = &s->items[i];
    vg_buf_reset(&tmp);
    if (m->type != VG_KLV_T_SET || !m->child) {
      rc = vg_buf_append(&tmp, m->raw, m->len);
    } else {
      if (with_id)
        rc = vg_klv_put_ber_oid(&tmp, m->id);
      if (rc == VG_OK)
        rc = vg__klv_set_encode(&tmp, csd, m->child, 0);
    }
    if (rc == VG_OK)
      rc = vg_klv_put_ber_len(out, tmp.len);
    if (rc == VG_OK)
      rc = vg_buf_append(out, tmp.data, tmp.len);
  }
  vg_buf_free(&tmp);
  return rc;
}

int vg__klv_value_encode(vg_buf *out, const vg__klv_setdef *sd, const vg_klv_tagdef *td,
                         const vg_klv_item *it)
{
  size_t n;
  /* Values that could not be read as their format, or came with a length the
   * table does not allow, are written back as they came: nothing is lost, and
   * a value too wide for the table's length is not forced into it. */
  if (it->type == VG_KLV_T_BYTES ||
      (it->flags & (VG_KLV_F_UNKNOWN | VG_KLV_F_UNDECODED)) ||
      ((it->flags & VG_KLV_F_BAD_LENGTH) && it->raw))
    return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
  if (it->type == VG_KLV_T_NONE && it->special == VG_KLV_SP_NONE)
    return VG_OK; /* zero-length item */
  switch ((vg_klv_fmt)td->fmt) {
  case VG_KLV_FMT_BYTES:
    return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
  case VG_KLV_FMT_UINT:
  case VG_KLV_FMT_TIME: {
    uint64_t v = it->v.u;
    if (it->type == VG_KLV_T_REAL) {
      double s = td->scale != 0 ? td->scale : 1;
      if (!(it->v.f >= 0) || it->v.f / s > 18446744073709549568.0)
        return vg_error_set(VG_E_RANGE, "tag %u: %g cannot be written as unsigned", it->tag, it->v.f);
      v = (uint64_t)nearbyint(it->v.f / s);
    } else if (it->type == VG_KLV_T_INT) {
      if (it->v.i < 0)
        return vg_error_set(VG_E_RANGE, "tag %u: negative value for an unsigned item", it->tag);
      v = (uint64_t)it->v.i;
    }
    /* Keep the length the value was read with when it is legal and fits (as
     * for IMAPB): ST 0903.4+ time stamps are 8 bytes, older ones 7. */
    if (it->len >= 1 && it->len <= 8 && it->len >= td->minlen &&
        (!td->maxlen || it->len <= td->maxlen) && (it->len == 8 || !(v >> (8 * it->len))))
      n = it->len;
    else if (td->deflen && (td->deflen >= 8 || !(v >> (8 * td->deflen))))
      n = td->deflen;
    else
      n = var_len(td, uint_len(v));
    if (n < 8 && (v >> (8 * n)))
      return vg_error_set(VG_E_RANGE, "tag %u: value %llu does not fit %zu bytes", it->tag,
                          (unsigned long long)v, n);
    return put_be(out, v, n);
  }
  case VG_KLV_FMT_INT: {
    int64_t v = it->v.i;
    if (it->type == VG_KLV_T_REAL) {
      double s = td->scale != 0 ? td->scale : 1;
      if (!(fabs(it->v.f / s) < 9.2e18))
        return vg_error_set(VG_E_RANGE, "tag %u: %g cannot be written as an integer", it->tag, it->v.f);
      v = (int64_t)nearbyint(it->v.f / s);
    } else if (it->type == VG_KLV_T_UINT) {
      if (it->v.u > INT64_MAX)
        return vg_error_set(VG_E_RANGE, "tag %u: value too large", it->tag);
      v = (int64_t)it->v.u;
    }
    n = var_len(td, int_len(v));
    return put_be(out, (uint64_t)v, n);
  }
  case VG_KLV_FMT_UMAP: {
    uint64_t x;
    n = td->deflen;
    if (it->type != VG_KLV_T_REAL || vg__klv_umap_encode(td->lo, td->hi, it->v.f, n, &x) != VG_OK)
      return vg_error_set(VG_E_RANGE, "tag %u (%s): value outside [%g, %g]", it->tag, td->name,
                          td->lo, td->hi);
    return put_be(out, x, n);
  }
  case VG_KLV_FMT_SMAP: {
    int64_t x;
    n = td->deflen;
    if (it->special == VG_KLV_SP_OUT_OF_RANGE)
      return put_be(out, (uint64_t)1 << (8 * n - 1), n);
    if (it->type != VG_KLV_T_REAL || vg__klv_smap_encode(td->lo, td->hi, it->v.f, n, &x) != VG_OK)
      return vg_error_set(VG_E_RANGE, "tag %u (%s): value outside [%g, %g]", it->tag, td->name,
                          td->lo, td->hi);
    return put_be(out, (uint64_t)x, n);
  }
  case VG_KLV_FMT_IMAPB: {
    uint8_t tmp[8];
    int rc;
    n = (it->len >= 1 && it->len <= 8) ? it->len : td->deflen;
    if (it->special != VG_KLV_SP_NONE && it->raw && it->len == n)
      return vg_buf_append(out, it->raw, n); /* keeps NaN identifiers and reserved codes */
    if (it->special != VG_KLV_SP_NONE)
      rc = vg_klv_imap_encode_special(it->special, tmp, n);
    else if (it->type == VG_KLV_T_REAL)
      rc = vg_klv_imapb_encode(td->lo, td->hi, it->v.f, tmp, n);
    else
      rc = VG_E_INVALID;
    if (rc != VG_OK)
      return vg_error_set(rc, "tag %u (%s): cannot be written as IMAPB(%g, %g, %zu)", it->tag,
                          td->name, td->lo, td->hi, n);
    return vg_buf_append(out, tmp, n);
  }
  case VG_KLV_FMT_STRING:
    return vg_buf_append(out, it->v.s.p, it->v.s.n);
  case VG_KLV_FMT_UTF16:
    return utf8_to_utf16be(out, it->v.s.p, it->v.s.n);
  case VG_KLV_FMT_FLOAT: {
    n = (it->len == 4 || it->len == 8) ? it->len : (td->deflen ? td->deflen : 8);
    if (it->special != VG_KLV_SP_NONE && it->raw && it->len == n) {
      return vg_buf_append(out, it->raw, n); /* keeps a NaN's sign and payload */
    } else if (it->special == VG_KLV_SP_NAN || it->special == VG_KLV_SP_POS_QNAN) {
      return put_be(out, n == 4 ? 0x7fc00000u : 0x7ff8000000000000ull, n);
    } else if (it->special == VG_KLV_SP_POS_INF || it->special == VG_KLV_SP_NEG_INF) {
      int neg = it->special == VG_KLV_SP_NEG_INF;
      return put_be(out, n == 4 ? (neg ? 0xff800000u : 0x7f800000u)
                                : (neg ? 0xfff0000000000000ull : 0x7ff0000000000000ull), n);
    } else if (n == 4) {
      float f;
      uint32_t b;
      if (!(fabs(it->v.f) <= 3.4028234663852886e38)) /* FLT_MAX: the cast would be undefined */
        return vg_error_set(VG_E_RANGE, "tag %u: %g does not fit a 4-byte float", it->tag, it->v.f);
      f = (float)it->v.f;
      memcpy(&b, &f, 4);
      return put_be(out, b, 4);
    } else {
      uint64_t b;
      memcpy(&b, &it->v.f, 8);
      return put_be(out, b, 8);
    }
  }
  case VG_KLV_FMT_SET: {
    const vg__klv_setdef *csd = vg__klv_setdef_of(td->child);
    if (!csd || !it->child)
      return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
    return vg__klv_set_encode(out, csd, it->child, 0);
  }
  case VG_KLV_FMT_SERIES:
    if (!it->child)
      return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
    return encode_series(out, td, it->child);
  case VG_KLV_FMT_PACK:
    if (sd && sd->pack_enc && it->child)
      return sd->pack_enc(out, td, it);
    return vg_buf_append(out, it->raw, it->raw ? it->len : 0);
  }
  return vg_error_set(VG_E_INVALID, "tag %u: unknown format %d", it->tag, td->fmt);
}

/* Writes a BER length in front of the n bytes that start at out->data + at. */
static int insert_len(vg_buf *out, size_t at)
{
  uint8_t tmp[9];
  size_t vlen = out->len - at, k = 0;
  int rc;
  if (vlen < 0x80) {
    tmp[k++] = (uint8_t)vlen;
  } else {
    int nb = 0;
    for (uint64_t v = vlen; v; v >>= 8)
      nb++;
    tmp[k++] = (uint8_t)(0x80 | nb);
    for (int i = 0; i < nb; i++)
      tmp[k++] = (uint8_t)(vlen >> (8 * (nb - 1 - i)));
  }
  if ((rc = vg_buf_reserve(out, k)) != VG_OK)
    return rc;
  memmove(out->data + at + k, out->data + at, vlen);
  memcpy(out->data + at, tmp, k);
  out->len += k;
  return VG_OK;
}

int vg__klv_set_encode(vg_buf *out, const vg__klv_setdef *sd, const vg_klv_set *set,
                       uint32_t skip_tag)
{
  if (sd->set_enc)
    return sd->set_enc(out, sd, set);
  for (size_t i = 0; i < set->n; i++) {
    const vg_klv_item *it = &set->items[i];
    const vg_klv_tagdef *td;
    size_t at;
    int rc;
    if ((skip_tag && it->tag == skip_tag) || (it->flags & VG_KLV_F_DEPRECATED))
      continue;
    if ((rc = vg_klv_put_ber_oid(out, it->tag)) != VG_OK)
      return rc;
    at = out->len;
    td = vg__klv_tag_lookup(sd, it->tag);
    if (!td || (it->flags & VG_KLV_F_UNKNOWN))
      rc = vg_buf_append(out, it->raw, it->raw ? it->len : 0);
    else
      rc = vg__klv_value_encode(out, sd, td, it);
    if (rc != VG_OK)
      return rc;
    if ((rc = insert_len(out, at)) != VG_OK)
      return rc;
  }
  return VG_OK;
}

int vg_klv_encode_set(vg_buf *out, const vg_klv_set *set)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(set->kind);
  if (!sd)
    return vg_error_set(VG_E_UNSUPPORTED, "no encoder for set kind %d", (int)set->kind);
  return vg__klv_set_encode(out, sd, set, sd->cksum_tag);
}

int vg_klv_encode(vg_buf *out, const vg_klv_packet *pkt)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(pkt->kind);
  vg_buf val;
  size_t start = out->len;
  int rc;
  if (pkt->kind == VG_KLV_KIND_UNKNOWN) {
    if (!pkt->bytes)
      return vg_error_set(VG_E_INVALID, "packet of unknown kind without bytes");
    return vg_buf_append(out, pkt->bytes, pkt->total_len);
  }
  if (!sd || !sd->key)
    return vg_error_set(VG_E_UNSUPPORTED, "%s has no top-level packet form",
                        vg_klv_kind_name(pkt->kind));
  vg_buf_init(&val, VG_KLV_MAX_VALUE);
  rc = vg__klv_set_encode(&val, sd, &pkt->set, sd->cksum_tag);
  if (rc == VG_OK && sd->cksum_tag) {
    /* Room for the checksum item: tag, length 2, value. */
    rc = vg_klv_put_ber_oid(&val, sd->cksum_tag);
    if (rc == VG_OK)
      rc = vg_buf_putc(&val, 2);
  }
  if (rc == VG_OK)
    rc = vg_buf_append(out, sd->key, 16);
  if (rc == VG_OK)
    rc = vg_klv_put_ber_len(out, val.len + (sd->cksum_tag ? 2 : 0));
  if (rc == VG_OK)
    rc = vg_buf_append(out, val.data, val.len);
  if (rc == VG_OK && sd->cksum_tag) {
    uint16_t ck = vg_klv_checksum16(out->data + start, out->len - start);
    uint8_t two[2] = {(uint8_t)(ck >> 8), (uint8_t)ck};
    rc = vg_buf_append(out, two, 2);
  }
  vg_buf_free(&val);
  if (rc != VG_OK)
    out->len = start;
  return rc;
}

/* ---- building items ------------------------------------------------------------ */

vg_klv_item vg_klv_item_real(uint32_t tag, double v)
{
  vg_klv_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.type = VG_KLV_T_REAL;
  it.v.f = v;
  return it;
}

vg_klv_item vg_klv_item_uint(uint32_t tag, uint64_t v)
{
  vg_klv_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.type = VG_KLV_T_UINT;
  it.v.u = v;
  return it;
}

vg_klv_item vg_klv_item_int(uint32_t tag, int64_t v)
{
  vg_klv_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.type = VG_KLV_T_INT;
  it.v.i = v;
  return it;
}

vg_klv_item vg_klv_item_time(uint32_t tag, uint64_t us)
{
  vg_klv_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.type = VG_KLV_T_TIME;
  it.v.u = us;
  return it;
}

vg_klv_item vg_klv_item_str(uint32_t tag, const char *s)
{
  vg_klv_item it;
  memset(&it, 0, sizeof it);
  it.tag = tag;
  it.type = VG_KLV_T_STRING;
  it.v.s.p = s;
  it.v.s.n = s ? strlen(s) : 0;
  return it;
}
