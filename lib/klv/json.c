/*
 * A decoded packet as JSON: one object with the packet's framing, checksum
 * verdict and flags, and its items in wire order with tag, name, value in
 * natural units, units, and flags. Specials are never numbers: their value
 * is null and "special" names them. Times carry their UTC rendering too.
 */
#include <string.h>
#include <time.h>

#include "klv_int.h"
#include "st0102_int.h"

static const struct {
  unsigned bit;
  const char *name;
} k_item_flags[] = {
  {VG_KLV_F_UNKNOWN, "unknown_tag"},     {VG_KLV_F_BAD_LENGTH, "bad_length"},
  {VG_KLV_F_SUSPICIOUS, "suspicious"},   {VG_KLV_F_DUPLICATE, "duplicate"},
  {VG_KLV_F_NONMIN_TAG, "nonminimal_tag"}, {VG_KLV_F_NONMIN_LEN, "nonminimal_length"},
  {VG_KLV_F_DEPRECATED, "deprecated"},   {VG_KLV_F_RANGE, "out_of_documented_range"},
  {VG_KLV_F_UNDECODED, "undecoded"},     {VG_KLV_F_BAD_TEXT, "bad_text"},
};

static const struct {
  unsigned bit;
  const char *name;
} k_pkt_flags[] = {
  {VG_KLV_P_CHECKSUM_BAD, "checksum_bad"},
  {VG_KLV_P_CHECKSUM_MISSING, "checksum_missing"},
  {VG_KLV_P_CHECKSUM_NOT_LAST, "checksum_not_last"},
  {VG_KLV_P_CHECKSUM_PAYLOAD, "checksum_payload_only"},
  {VG_KLV_P_NO_VERSION, "no_version"},
  {VG_KLV_P_TIME_NOT_FIRST, "time_not_first"},
  {VG_KLV_P_NONMIN_LEN, "nonminimal_length"},
  {VG_KLV_P_ITEM_FLAGS, "item_warnings"},
  {VG_KLV_P_DUPLICATE, "duplicate_tag"},
  {VG_KLV_P_UNKNOWN_KEY, "unknown_key"},
};

size_t vg_klv_item_flag_names(char *dst, size_t cap, unsigned flags)
{
  size_t n = 0;
  if (cap)
    dst[0] = 0;
  for (size_t i = 0; i < sizeof k_item_flags / sizeof k_item_flags[0]; i++) {
    if (flags & k_item_flags[i].bit) {
      int w = snprintf(dst + n, cap > n ? cap - n : 0, "%s%s", n ? "," : "", k_item_flags[i].name);
      if (w > 0)
        n += (size_t)w;
      if (n >= cap) {
        n = cap ? cap - 1 : 0;
        break;
      }
    }
  }
  return n;
}

const char *vg_klv_special_name(int special)
{
  switch (special) {
  case VG_KLV_SP_NONE: return "none";
  case VG_KLV_SP_OUT_OF_RANGE: return "out_of_range";
  case VG_KLV_SP_POS_INF: return "+inf";
  case VG_KLV_SP_NEG_INF: return "-inf";
  case VG_KLV_SP_POS_QNAN: return "+qnan";
  case VG_KLV_SP_NEG_QNAN: return "-qnan";
  case VG_KLV_SP_POS_SNAN: return "+snan";
  case VG_KLV_SP_NEG_SNAN: return "-snan";
  case VG_KLV_SP_BELOW_RANGE: return "below_range";
  case VG_KLV_SP_ABOVE_RANGE: return "above_range";
  case VG_KLV_SP_RESERVED: return "reserved";
  case VG_KLV_SP_NAN: return "nan";
  }
  return "unknown";
}

/* "2008-10-24T00:13:29.913000Z" from microseconds since 1970 (MISP time, no leap seconds). */
static void fmt_utc(char *dst, size_t cap, uint64_t us)
{
  time_t t = (time_t)(us / 1000000u);
  struct tm tmv;
  char tmp[32];
  if (!gmtime_r(&t, &tmv) || !strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tmv)) {
    snprintf(dst, cap, "invalid");
    return;
  }
  snprintf(dst, cap, "%s.%06uZ", tmp, (unsigned)(us % 1000000u));
}

/* Where a pack came from, to name its fields: the set that holds the pack item, and its tag. */
typedef struct pack_ctx {
  const vg__klv_setdef *sd;
  uint32_t tag;
  int member; /* the item is a member of a series of packs: it has no field name */
} pack_ctx;

static void write_set(vg_jw *w, const vg_klv_set *set, int depth, pack_ctx pc);

static void write_item(vg_jw *w, vg_klv_kind kind, const vg_klv_item *it, int depth, pack_ctx pc)
{
  const vg_klv_tagdef *td = kind == VG_KLV_KIND_PACK ? NULL : vg_klv_tagdef_find(kind, it->tag);
  const char *field = NULL, *field_units = "";
  char tmp[64];
  if (kind == VG_KLV_KIND_PACK && !pc.member && pc.sd && pc.sd->pack_field)
    field = pc.sd->pack_field(pc.tag, it->tag, &field_units);
  vg_jw_obj_begin(w);
  vg_jw_key(w, "tag");
  vg_jw_uint(w, it->tag);
  if (field) {
    vg_jw_key(w, "key");
    vg_jw_str(w, field);
  }
  if (td) {
    vg_jw_key(w, "key");
    vg_jw_str(w, td->key);
    vg_jw_key(w, "name");
    vg_jw_str(w, td->name);
  }
  vg_jw_key(w, "len");
  vg_jw_uint(w, it->len);
  vg_jw_key(w, "value");
  switch ((vg_klv_type)it->type) {
  case VG_KLV_T_NONE: vg_jw_null(w); break;
  case VG_KLV_T_UINT: vg_jw_uint(w, it->v.u); break;
  case VG_KLV_T_INT: vg_jw_int(w, it->v.i); break;
  case VG_KLV_T_REAL: vg_jw_real(w, it->v.f); break;
  case VG_KLV_T_TIME: vg_jw_uint(w, it->v.u); break;
  case VG_KLV_T_STRING: vg_jw_strn(w, it->v.s.p, it->v.s.n); break;
  case VG_KLV_T_BYTES: vg_jw_hex(w, it->raw, it->raw ? it->len : 0); break;
  case VG_KLV_T_SET:
    if (depth >= VG_KLV_MAX_DEPTH + 1 || !it->child) {
      vg_jw_null(w);
    } else {
      pack_ctx cc = {NULL, 0, 0};
      if (it->child->kind == VG_KLV_KIND_PACK) /* a pack, or a series of packs */
        cc = kind == VG_KLV_KIND_PACK ? (pack_ctx){pc.sd, pc.tag, 0}
                                       : (pack_ctx){vg__klv_setdef_of(kind), it->tag, 0};
      write_set(w, it->child, depth + 1, cc);
    }
    break;
  }
  if (it->type == VG_KLV_T_TIME) {
    fmt_utc(tmp, sizeof tmp, it->v.u);
    vg_jw_key(w, "utc");
    vg_jw_str(w, tmp);
  }
  if (td && td->units && td->units[0] && it->type != VG_KLV_T_BYTES) {
    vg_jw_key(w, "units");
    vg_jw_str(w, td->units);
  } else if (field && field_units[0] && it->type == VG_KLV_T_REAL) {
    vg_jw_key(w, "units");
    vg_jw_str(w, field_units);
  }
  if (kind == VG_KLV_KIND_ST0102 && it->type == VG_KLV_T_UINT) {
    const char *m = vg__klv_st0102_enum_meaning(it->tag, it->v.u);
    if (m) {
      vg_jw_key(w, "meaning");
      vg_jw_str(w, m);
    }
  }
  if (it->special != VG_KLV_SP_NONE) {
    vg_jw_key(w, "special");
    vg_jw_str(w, vg_klv_special_name(it->special));
  }
  if (it->id) {
    vg_jw_key(w, "id");
    vg_jw_uint(w, it->id);
  }
  if (it->flags) {
    vg_jw_key(w, "flags");
    vg_jw_arr_begin(w);
    for (size_t i = 0; i < sizeof k_item_flags / sizeof k_item_flags[0]; i++)
      if (it->flags & k_item_flags[i].bit)
        vg_jw_str(w, k_item_flags[i].name);
    vg_jw_arr_end(w);
    if (it->type != VG_KLV_T_BYTES && it->raw) {
      vg_jw_key(w, "raw");
      vg_jw_hex(w, it->raw, it->len);
    }
  }
  vg_jw_obj_end(w);
}

static void write_set(vg_jw *w, const vg_klv_set *set, int depth, pack_ctx pc)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "kind");
  vg_jw_str(w, vg_klv_kind_name(set->kind));
  vg_jw_key(w, set->series ? "members" : "items");
  vg_jw_arr_begin(w);
  for (size_t i = 0; i < set->n; i++)
    write_item(w, set->series ? VG_KLV_KIND_PACK : set->kind, &set->items[i], depth,
               set->kind == VG_KLV_KIND_PACK ? (pack_ctx){pc.sd, pc.tag, set->series}
                                             : (pack_ctx){NULL, 0, 0});
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
}

int vg_klv_packet_json_fields(vg_jw *w, const vg_klv_packet *pkt)
{
  static const char *const ck[] = {"none", "valid", "invalid", "missing"};
  char tmp[16];
  vg_jw_key(w, "offset");
  vg_jw_uint(w, pkt->offset);
  vg_jw_key(w, "bytes");
  vg_jw_uint(w, pkt->total_len);
  vg_jw_key(w, "kind");
  vg_jw_str(w, vg_klv_kind_name(pkt->kind));
  vg_jw_key(w, "key");
  vg_jw_hex(w, pkt->key, 16);
  if (pkt->version >= 0) {
    vg_jw_key(w, "version");
    vg_jw_int(w, pkt->version);
  }
  vg_jw_key(w, "checksum");
  vg_jw_obj_begin(w);
  vg_jw_key(w, "status");
  vg_jw_str(w, ck[pkt->cksum <= VG_KLV_CK_MISSING ? pkt->cksum : 0]);
  if (pkt->cksum == VG_KLV_CK_VALID || pkt->cksum == VG_KLV_CK_INVALID) {
    snprintf(tmp, sizeof tmp, "0x%04X", pkt->cksum_stored);
    vg_jw_key(w, "stored");
    vg_jw_str(w, tmp);
    snprintf(tmp, sizeof tmp, "0x%04X", pkt->cksum_computed);
    vg_jw_key(w, "computed");
    vg_jw_str(w, tmp);
  }
  vg_jw_obj_end(w);
  vg_jw_key(w, "flags");
  vg_jw_arr_begin(w);
  for (size_t i = 0; i < sizeof k_pkt_flags / sizeof k_pkt_flags[0]; i++)
    if (pkt->flags & k_pkt_flags[i].bit)
      vg_jw_str(w, k_pkt_flags[i].name);
  vg_jw_arr_end(w);
  vg_jw_key(w, "items");
  vg_jw_arr_begin(w);
  if (pkt->kind == VG_KLV_KIND_UNKNOWN) {
    vg_jw_arr_end(w);
    vg_jw_key(w, "value");
    vg_jw_hex(w, pkt->bytes + (pkt->total_len - pkt->value_len), (size_t)pkt->value_len);
  } else {
    for (size_t i = 0; i < pkt->set.n; i++)
      write_item(w, pkt->set.kind, &pkt->set.items[i], 0, (pack_ctx){NULL, 0, 0});
    vg_jw_arr_end(w);
  }
  return w->err;
}

int vg_klv_packet_to_json(vg_jw *w, const vg_klv_packet *pkt)
{
  int rc;
  vg_jw_obj_begin(w);
  rc = vg_klv_packet_json_fields(w, pkt);
  vg_jw_obj_end(w);
  return rc;
}
