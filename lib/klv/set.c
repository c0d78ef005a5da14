/*
 * The table-driven local-set engine (SMPTE ST 336 local sets, MISB ST 0107).
 *
 *   local set := item*
 *   item      := tag (BER-OID, 1..4 bytes) | length (BER, 1..9 bytes) | value (length bytes)
 *   series    := member*, member := length (BER) | [id (BER-OID)] | local set
 *
 * Each set is decoded in two passes over its bytes: the first checks the
 * framing (no item may run past the set) and counts the items, the second
 * decodes them into an exactly sized array in the packet's arena. Values are
 * decoded by the tag's format; a value that does not fit its format is kept
 * raw and flagged, never dropped, so the packet can be rewritten.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "klv_int.h"
#include "util/utf8.h"

/* ---- arena ------------------------------------------------------------------- */

/* Smallest block; a 2.4 KB ST 0601 packet needs about 10 KB of items. */
#define ARENA_MIN_BLOCK ((size_t)64 << 10)
#define ARENA_ALIGN 16u

void vg__arena_init(vg__arena *a)
{
  a->head = NULL;
  a->total = 0;
  a->err = VG_OK;
}

void vg__arena_free(vg__arena *a)
{
  vg__arena_blk *b = a->head;
  while (b) {
    vg__arena_blk *n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
  a->total = 0;
}

void vg__arena_reset(vg__arena *a)
{
  vg__arena_blk *keep = NULL, *b = a->head;
  /* Keep the biggest block so the next packet of the same size allocates nothing. */
  while (b) {
    vg__arena_blk *n = b->next;
    if (!keep || b->cap > keep->cap) {
      if (keep)
        free(keep);
      keep = b;
    } else {
      free(b);
    }
    b = n;
  }
  a->head = keep;
  a->total = 0;
  a->err = VG_OK;
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
    a->total = keep->cap;
  }
}

void *vg__arena_alloc(vg__arena *a, size_t n)
{
  vg__arena_blk *b = a->head;
  size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  size_t hdr = (sizeof(vg__arena_blk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  uint8_t *p;
  if (n > VG_KLV_ARENA_MAX) {
    a->err = vg_error_set(VG_E_LIMIT, "decoded packet needs more than VG_KLV_ARENA_MAX (%zu bytes)",
                          (size_t)VG_KLV_ARENA_MAX);
    return NULL;
  }
  if (!b || b->cap - b->used < need) {
    size_t cap = need > ARENA_MIN_BLOCK ? need : ARENA_MIN_BLOCK;
    if (b && cap < b->cap * 2 && b->cap * 2 <= VG_KLV_ARENA_MAX)
      cap = b->cap * 2;
    if (a->total + cap > VG_KLV_ARENA_MAX) {
      a->err = vg_error_set(VG_E_LIMIT, "decoded packet needs more than VG_KLV_ARENA_MAX (%zu bytes)",
                            (size_t)VG_KLV_ARENA_MAX);
      return NULL;
    }
    b = malloc(hdr + cap);
    if (!b) {
      a->err = vg_error_set(VG_E_NOMEM, "cannot allocate %zu bytes for a decoded packet", hdr + cap);
      return NULL;
    }
    b->cap = cap;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->total += cap;
  }
  p = (uint8_t *)b + hdr + b->used;
  b->used += need;
  memset(p, 0, n);
  return p;
}

/* ---- set descriptions ------------------------------------------------------------- */

const vg__klv_setdef *vg__klv_setdef_of(vg_klv_kind kind)
{
  switch (kind) {
  case VG_KLV_KIND_ST0601: return &vg__klv_st0601;
  case VG_KLV_KIND_ST0102: return &vg__klv_st0102;
  case VG_KLV_KIND_ST0903: return &vg__klv_st0903;
  case VG_KLV_KIND_EG0104: return &vg__klv_eg0104;
  case VG_KLV_KIND_ST0903_VTARGET: return &vg__klv_st0903_vtarget;
  case VG_KLV_KIND_ST0903_ALGORITHM: return &vg__klv_st0903_algorithm;
  case VG_KLV_KIND_ST0903_ONTOLOGY: return &vg__klv_st0903_ontology;
  case VG_KLV_KIND_ST0903_VTRACKER: return &vg__klv_st0903_vtracker;
  case VG_KLV_KIND_ST0903_VOBJECT: return &vg__klv_st0903_vobject;
  case VG_KLV_KIND_ST0903_VFEATURE: return &vg__klv_st0903_vfeature;
  case VG_KLV_KIND_ST0903_VCHIP: return &vg__klv_st0903_vchip;
  default: return NULL;
  }
}

const vg_klv_tagdef *vg__klv_tag_lookup(const vg__klv_setdef *sd, uint32_t tag)
{
  size_t lo = 0, hi = sd->ntags;
  /* Dense tables (ST 0601: tag i at index i-1) need no search; this branch
   * alone took a third of the decode time as a mispredicted binary search. */
  if (tag >= 1 && tag <= sd->ntags && sd->tags[tag - 1].tag == tag)
    return &sd->tags[tag - 1];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sd->tags[mid].tag == tag)
      return &sd->tags[mid];
    if (sd->tags[mid].tag < tag)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const vg_klv_tagdef *vg_klv_tagdef_find(vg_klv_kind kind, uint32_t tag)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(kind);
  return sd ? vg__klv_tag_lookup(sd, tag) : NULL;
}

const char *vg_klv_kind_name(vg_klv_kind kind)
{
  const vg__klv_setdef *sd;
  if (kind == VG_KLV_KIND_PACK)
    return "pack";
  sd = vg__klv_setdef_of(kind);
  return sd ? sd->name : "unknown";
}

/* ---- mapped integers (ST 0601.19 §6.3: "unsigned" and "signed symmetric" mappings) ---- */

/* 2^(8n) for n = 0..8, so decoding a mapped item calls no ldexp. */
static const double k_pow256[9] = {1.0, 256.0, 65536.0, 16777216.0, 4294967296.0,
                                   1099511627776.0, 281474976710656.0, 72057594037927936.0,
                                   18446744073709551616.0};

double vg__klv_umap_decode(double lo, double hi, uint64_t x, size_t n)
{
  return lo + (double)x * ((hi - lo) / (k_pow256[n] - 1.0));
}

double vg__klv_smap_decode(double lo, double hi, int64_t x, size_t n)
{
  return (double)x * ((hi - lo) / (k_pow256[n] - 2.0));
}

int vg__klv_umap_encode(double lo, double hi, double v, size_t n, uint64_t *x)
{
  double full = ldexp(1.0, (int)(8 * n)) - 1.0, r;
  if (!(v >= lo && v <= hi) || n == 0 || n > 8)
    return VG_E_RANGE;
  r = nearbyint((v - lo) * (full / (hi - lo)));
  if (r < 0)
    r = 0;
  if (r > full)
    r = full;
  *x = n == 8 && r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r;
  return VG_OK;
}

int vg__klv_smap_encode(double lo, double hi, double v, size_t n, int64_t *x)
{
  double full = ldexp(1.0, (int)(8 * n)) - 2.0, r, lim = full / 2;
  if (!(v >= lo && v <= hi) || n == 0 || n > 8)
    return VG_E_RANGE;
  r = nearbyint(v * (full / (hi - lo)));
  if (r > lim)
    r = lim;
  if (r < -lim)
    r = -lim;
  *x = (int64_t)r;
  return VG_OK;
}

/* ---- value decoding ---------------------------------------------------------------- */

static int utf8_valid(const uint8_t *s, size_t n)
{
  for (size_t i = 0, k; i < n; i += k)
    if ((k = vg__util_utf8_len(s + i, n - i)) == 0)
      return 0;
  return 1;
}

/* UTF-16BE (with surrogate pairs) to UTF-8 in the arena; 0 on success, -1 if malformed. */
static int utf16_to_utf8(vg__klv_ctx *c, vg_klv_item *it)
{
  vg_rd r;
  char *o;
  size_t k = 0;
  if (it->len % 2)
    return -1;
  o = vg__arena_alloc(c->arena, (size_t)it->len * 2 + 1); /* <= 3 bytes per 2-byte unit */
  if (!o)
    return -2;
  rd_init(&r, it->raw, it->len);
  while (rd_left(&r)) {
    uint32_t u = rd_u16be(&r);
    if (u >= 0xd800 && u <= 0xdbff) {
      uint32_t l;
      if (rd_left(&r) < 2)
        return -1;
      l = rd_u16be(&r);
      if (l < 0xdc00 || l > 0xdfff)
        return -1;
      u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return -1;
    }
    if (u < 0x80) {
      o[k++] = (char)u;
    } else if (u < 0x800) {
      o[k++] = (char)(0xc0 | u >> 6);
      o[k++] = (char)(0x80 | (u & 0x3f));
    } else if (u < 0x10000) {
      o[k++] = (char)(0xe0 | u >> 12);
      o[k++] = (char)(0x80 | ((u >> 6) & 0x3f));
      o[k++] = (char)(0x80 | (u & 0x3f));
    } else {
      o[k++] = (char)(0xf0 | u >> 18);
      o[k++] = (char)(0x80 | ((u >> 12) & 0x3f));
      o[k++] = (char)(0x80 | ((u >> 6) & 0x3f));
      o[k++] = (char)(0x80 | (u & 0x3f));
    }
  }
  it->v.s.p = o;
  it->v.s.n = k;
  return 0;
}

static void check_range(const vg_klv_tagdef *td, vg_klv_item *it, double v)
{
  if (td->hi > td->lo && (v < td->lo || v > td->hi))
    it->flags |= VG_KLV_F_RANGE;
}

static int len_ok(const vg_klv_tagdef *td, uint32_t len)
{
  if (len < td->minlen)
    return 0;
  if (td->maxlen && len > td->maxlen)
    return 0;
  return 1;
}

int vg__klv_value_decode(vg__klv_ctx *c, const vg__klv_setdef *sd, const vg_klv_tagdef *td,
                         vg_klv_item *it)
{
  vg_rd r;
  size_t n = it->len;
  rd_init(&r, it->raw, n);
  it->type = VG_KLV_T_BYTES;
  if (it->len != 0 && !len_ok(td, it->len))
    it->flags |= VG_KLV_F_BAD_LENGTH;
  switch ((vg_klv_fmt)td->fmt) {
  case VG_KLV_FMT_BYTES:
    return VG_OK;
  case VG_KLV_FMT_UINT:
  case VG_KLV_FMT_TIME:
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n > 8)
      return VG_OK;
    it->v.u = rd_uint_be(&r, n);
    if (td->fmt == VG_KLV_FMT_TIME) {
      it->type = VG_KLV_T_TIME;
    } else if (td->scale != 0) {
      it->type = VG_KLV_T_REAL;
      it->v.f = (double)it->v.u * td->scale;
      check_range(td, it, it->v.f);
    } else {
      it->type = VG_KLV_T_UINT;
      check_range(td, it, (double)it->v.u);
    }
    return VG_OK;
  case VG_KLV_FMT_INT:
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n > 8)
      return VG_OK;
    it->v.i = rd_int_be(&r, n);
    if (td->scale != 0) {
      it->type = VG_KLV_T_REAL;
      it->v.f = (double)it->v.i * td->scale;
      check_range(td, it, it->v.f);
    } else {
      it->type = VG_KLV_T_INT;
      check_range(td, it, (double)it->v.i);
    }
    return VG_OK;
  case VG_KLV_FMT_UMAP: {
    uint64_t x;
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n > 8)
      return VG_OK;
    /* A wrong length is decoded with the mapping of the length received, as
     * lenient decoders do for the 4-byte Target Width of "Day Flight". */
    x = rd_uint_be(&r, n);
    if (x == (uint64_t)1 << (8 * n - 1))
      it->flags |= VG_KLV_F_SUSPICIOUS;
    it->type = VG_KLV_T_REAL;
    it->v.f = vg__klv_umap_decode(td->lo, td->hi, x, n);
    return VG_OK;
  }
  case VG_KLV_FMT_SMAP: {
    int64_t x;
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n > 8)
      return VG_OK;
    x = rd_int_be(&r, n);
    if (n == 8 ? x == INT64_MIN : x == -((int64_t)1 << (8 * n - 1))) {
      it->type = VG_KLV_T_NONE;
      it->special = VG_KLV_SP_OUT_OF_RANGE;
      return VG_OK;
    }
    it->type = VG_KLV_T_REAL;
    it->v.f = vg__klv_smap_decode(td->lo, td->hi, x, n);
    return VG_OK;
  }
  case VG_KLV_FMT_IMAPB: {
    int sp = VG_KLV_SP_NONE;
    double v;
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n > 8)
      return VG_OK;
    v = vg_klv_imapb_decode(td->lo, td->hi, it->raw, n, &sp);
    if (sp != VG_KLV_SP_NONE) {
      it->type = VG_KLV_T_NONE;
      it->special = (uint8_t)sp;
    } else {
      it->type = VG_KLV_T_REAL;
      it->v.f = v;
      check_range(td, it, v);
    }
    return VG_OK;
  }
  case VG_KLV_FMT_STRING:
    it->type = VG_KLV_T_STRING;
    it->v.s.p = (const char *)it->raw;
    it->v.s.n = n;
    if (!utf8_valid(it->raw, n))
      it->flags |= VG_KLV_F_BAD_TEXT;
    return VG_OK;
  case VG_KLV_FMT_UTF16: {
    int rc = utf16_to_utf8(c, it);
    if (rc == -2)
      return c->arena->err;
    if (rc < 0) {
      it->flags |= VG_KLV_F_BAD_TEXT;
      return VG_OK;
    }
    it->type = VG_KLV_T_STRING;
    return VG_OK;
  }
  case VG_KLV_FMT_FLOAT: {
    uint64_t bits;
    double v;
    if (n == 0) {
      it->type = VG_KLV_T_NONE;
      return VG_OK;
    }
    if (n != 4 && n != 8) {
      it->flags |= VG_KLV_F_BAD_LENGTH;
      return VG_OK;
    }
    bits = rd_uint_be(&r, n);
    if (n == 4) {
      uint32_t b32 = (uint32_t)bits;
      float f;
      memcpy(&f, &b32, 4);
      v = f;
    } else {
      memcpy(&v, &bits, 8);
    }
    if (isnan(v) || isinf(v)) {
      it->type = VG_KLV_T_NONE;
      it->special = isnan(v) ? VG_KLV_SP_NAN : v > 0 ? VG_KLV_SP_POS_INF : VG_KLV_SP_NEG_INF;
      return VG_OK;
    }
    it->type = VG_KLV_T_REAL;
    it->v.f = v;
    check_range(td, it, v);
    return VG_OK;
  }
  case VG_KLV_FMT_SET:
  case VG_KLV_FMT_SERIES: {
    vg_klv_set *child = vg__arena_alloc(c->arena, sizeof *child);
    int rc;
    if (!child)
      return c->arena->err;
    c->depth++;
    if (td->fmt == VG_KLV_FMT_SET)
      rc = vg__klv_set_decode(c, td->child, it->raw, n, child);
    else
      rc = vg__klv_series_decode(c, td->child, td->child == VG_KLV_KIND_ST0903_VTARGET,
                                 it->raw, n, child);
    c->depth--;
    if (c->arena->err != VG_OK)
      return c->arena->err;
    if (rc != VG_OK) {
      /* A nested set that does not parse does not lose the packet: keep it raw. */
      it->flags |= VG_KLV_F_UNDECODED;
      return VG_OK;
    }
    it->type = VG_KLV_T_SET;
    it->child = child;
    return VG_OK;
  }
  case VG_KLV_FMT_PACK:
    if (sd && sd->pack_dec) {
      int rc = sd->pack_dec(c, td, it);
      if (c->arena->err != VG_OK)
        return c->arena->err;
      if (rc != VG_OK) {
        it->type = VG_KLV_T_BYTES;
        it->child = NULL;
        it->flags |= VG_KLV_F_UNDECODED;
      }
    }
    return VG_OK;
  }
  return VG_OK;
}

vg_klv_item *vg__klv_pack_items(vg__klv_ctx *c, vg_klv_item *parent, size_t n)
{
  vg_klv_set *set = vg__arena_alloc(c->arena, sizeof *set);
  vg_klv_item *items = n ? vg__arena_alloc(c->arena, n * sizeof *items) : NULL;
  if (!set || (n && !items))
    return NULL;
  set->kind = VG_KLV_KIND_PACK;
  set->items = items;
  set->n = n;
  parent->type = VG_KLV_T_SET;
  parent->child = set;
  return items;
}

/* ---- set decoding ------------------------------------------------------------------ */

/* Bit set of tags already seen in one set (tags >= 1024 use a linear scan). */
#define SEEN_BITS 1024

int vg__klv_set_decode(vg__klv_ctx *c, vg_klv_kind kind, const uint8_t *buf, size_t len,
                       vg_klv_set *out)
{
  const vg__klv_setdef *sd = vg__klv_setdef_of(kind);
  vg_rd r;
  size_t n = 0, i;
  vg_klv_item *items = NULL;
  uint64_t seen[SEEN_BITS / 64];
  size_t base_off = (size_t)(buf - c->base);

  if (!sd)
    return vg_error_set(VG_E_UNSUPPORTED, "no decoder for set kind %d", (int)kind);
  if (c->depth >= VG_KLV_MAX_DEPTH)
    return vg_error_set(VG_E_LIMIT, "%s set at offset %zu nested deeper than VG_KLV_MAX_DEPTH (%d)",
                        sd->name, base_off, VG_KLV_MAX_DEPTH);
  if (sd->set_dec)
    return sd->set_dec(c, sd, buf, len, out);

  /* Pass 1: framing and count. */
  rd_init(&r, buf, len);
  while (rd_left(&r)) {
    uint32_t tag;
    uint64_t vlen = 0;
    size_t at = rd_pos(&r);
    int rc = rd_ber_oid(&r, &tag, NULL);
    if (rc != VG_OK)
      return vg_error_set(VG_E_MALFORMED, "%s: item tag at offset %zu %s", sd->name,
                          base_off + at, rc == VG_E_LIMIT ? "longer than 4 bytes" : "truncated");
    rc = rd_ber_len(&r, &vlen, NULL);
    if (rc != VG_OK)
      return vg_error_set(VG_E_MALFORMED, "%s: tag %u at offset %zu: %s length", sd->name, tag,
                          base_off + at,
                          rc == VG_E_TRUNCATED   ? "truncated"
                          : rc == VG_E_MALFORMED ? "indefinite (0x80)"
                                                 : "over-long");
    if (vlen > rd_left(&r))
      return vg_error_set(VG_E_MALFORMED,
                          "%s: tag %u at offset %zu: length %llu overruns the set (%zu bytes left)",
                          sd->name, tag, base_off + at, (unsigned long long)vlen, rd_left(&r));
    rd_skip(&r, (size_t)vlen);
    if (++n > VG_KLV_MAX_ITEMS)
      return vg_error_set(VG_E_LIMIT, "%s set at offset %zu has more than VG_KLV_MAX_ITEMS (%d) items",
                          sd->name, base_off, VG_KLV_MAX_ITEMS);
  }
  if (n) {
    items = vg__arena_alloc(c->arena, n * sizeof *items);
    if (!items)
      return c->arena->err;
  }

  /* Pass 2: decode. */
  memset(seen, 0, sizeof seen);
  rd_init(&r, buf, len);
  for (i = 0; i < n; i++) {
    vg_klv_item *it = &items[i];
    const vg_klv_tagdef *td;
    uint64_t vlen = 0;
    int nmt = 0, nml = 0, rc;
    it->offset = base_off + rd_pos(&r);
    rd_ber_oid(&r, &it->tag, &nmt);
    rd_ber_len(&r, &vlen, &nml);
    it->len = (uint32_t)vlen;
    it->raw = rd_bytes(&r, (size_t)vlen);
    if (nmt)
      it->flags |= VG_KLV_F_NONMIN_TAG;
    if (nml)
      it->flags |= VG_KLV_F_NONMIN_LEN;
    if (it->tag < SEEN_BITS) {
      if (seen[it->tag / 64] >> (it->tag % 64) & 1u)
        it->flags |= VG_KLV_F_DUPLICATE;
      seen[it->tag / 64] |= (uint64_t)1 << (it->tag % 64);
    } else {
      for (size_t j = 0; j < i; j++)
        if (items[j].tag == it->tag) {
          it->flags |= VG_KLV_F_DUPLICATE;
          break;
        }
    }
    td = vg__klv_tag_lookup(sd, it->tag);
    if (kind == VG_KLV_KIND_ST0601 && it->tag == 66)
      it->flags |= VG_KLV_F_DEPRECATED; /* ST 0601.19: read, never written */
    if (!td) {
      it->flags |= VG_KLV_F_UNKNOWN;
      it->type = VG_KLV_T_BYTES;
    } else if ((rc = vg__klv_value_decode(c, sd, td, it)) != VG_OK) {
      return rc;
    }
    if (it->flags & VG_KLV_F_DUPLICATE)
      c->pflags |= VG_KLV_P_DUPLICATE;
    if (it->flags & (VG_KLV_F_BAD_LENGTH | VG_KLV_F_SUSPICIOUS | VG_KLV_F_DUPLICATE |
                     VG_KLV_F_NONMIN_TAG | VG_KLV_F_RANGE | VG_KLV_F_UNDECODED | VG_KLV_F_BAD_TEXT))
      c->pflags |= VG_KLV_P_ITEM_FLAGS;
  }
  out->kind = kind;
  out->items = items;
  out->n = n;
  out->series = 0;
  return VG_OK;
}

int vg__klv_series_decode(vg__klv_ctx *c, vg_klv_kind kind, int with_id, const uint8_t *buf,
                          size_t len, vg_klv_set *out)
{
  vg_rd r;
  size_t n = 0;
  vg_klv_item *items = NULL;
  size_t base_off = (size_t)(buf - c->base);

  rd_init(&r, buf, len);
  while (rd_left(&r)) {
    uint64_t vlen = 0;
    size_t at = rd_pos(&r);
    if (rd_ber_len(&r, &vlen, NULL) != VG_OK || vlen > rd_left(&r))
      return vg_error_set(VG_E_MALFORMED, "%s series member at offset %zu overruns the series",
                          vg_klv_kind_name(kind), base_off + at);
    rd_skip(&r, (size_t)vlen);
    if (++n > VG_KLV_MAX_ITEMS)
      return vg_error_set(VG_E_LIMIT, "series at offset %zu has more than VG_KLV_MAX_ITEMS members",
                          base_off);
  }
  if (n && !(items = vg__arena_alloc(c->arena, n * sizeof *items)))
    return c->arena->err;
  rd_init(&r, buf, len);
  for (size_t i = 0; i < n; i++) {
    vg_klv_item *it = &items[i];
    vg_klv_set *child;
    uint64_t vlen = 0;
    vg_rd m;
    int rc;
    it->offset = base_off + rd_pos(&r);
    rd_ber_len(&r, &vlen, NULL);
    it->tag = (uint32_t)(i + 1);
    it->len = (uint32_t)vlen;
    it->raw = rd_bytes(&r, (size_t)vlen);
    rd_init(&m, it->raw, it->len);
    if (with_id && rd_ber_oid(&m, &it->id, NULL) != VG_OK)
      return vg_error_set(VG_E_MALFORMED, "%s series member at offset %zu: bad id",
                          vg_klv_kind_name(kind), it->offset);
    if (!(child = vg__arena_alloc(c->arena, sizeof *child)))
      return c->arena->err;
    rc = vg__klv_set_decode(c, kind, rd_ptr(&m), rd_left(&m), child);
    if (c->arena->err != VG_OK)
      return c->arena->err;
    if (rc != VG_OK) {
      it->type = VG_KLV_T_BYTES;
      it->flags |= VG_KLV_F_UNDECODED;
      c->pflags |= VG_KLV_P_ITEM_FLAGS;
      continue;
    }
    it->type = VG_KLV_T_SET;
    it->child = child;
  }
  out->kind = kind;
  out->items = items;
  out->n = n;
  out->series = 1;
  return VG_OK;
}
