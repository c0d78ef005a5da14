/*
 * MISB EG 0104 "Predator UAV Basic Universal Metadata Set" (EG 0104.5), the
 * legacy universal set that ST 0601 replaced. Still found in archives (the
 * VIRAT AP Hill collection, 2008).
 *
 *   packet := UL (16) | BER length | item*
 *   UL     := 06 0E 2B 34 02 01 01 01 0E 01 01 02 01 01 00 00
 *   item   := SMPTE key (16) | BER length | value
 *
 * Values: IEEE 754 big-endian float (4 bytes) or double (8 bytes), text, the
 * User Defined Time Stamp as a uint64 of microseconds since 1970 (the ST 0603
 * MISP count, as ST 0601 tag 2), and the ST 0102 security local set. There is
 * no checksum and no version item. Keys and formats follow KWIVER
 * (arrows/klv/klv_0104.cxx, with its byte vector tests/test_klv_0104.cxx),
 * jMISB (api/.../klv/eg0104/PredatorMetadataConstants.java) and klvdata
 * (klvdata/misbEG0104.py), which agree on every key below.
 *
 * Tags. Each item takes the tag of the ST 0601 item of the same meaning, in
 * the same natural units, so that one pose extraction serves both kinds:
 *
 *   EG 0104 key (bytes 8..15)  EG 0104 name             tag  wire
 *   07 02 01 01 01 05 00 00    User Defined Time Stamp    2  uint64 us
 *   01 05 05 00 00 00 00 00    Episode Number             3  text
 *   07 01 10 01 06 00 00 00    Platform Heading Angle     5  float, deg
 *   07 01 10 01 05 00 00 00    Platform Pitch Angle       6  float, deg
 *   07 01 10 01 04 00 00 00    Platform Roll Angle        7  float, deg
 *   01 01 20 01 00 00 00 00    Device Designation        10  text
 *   04 20 01 02 01 01 00 00    Image Source Device       11  text
 *   07 01 01 01 00 00 00 00    Image Coordinate System   12  text
 *   07 01 02 01 02 04 02 00    Device Latitude           13  double, deg
 *   07 01 02 01 02 06 02 00    Device Longitude          14  double, deg
 *   07 01 02 01 02 02 00 00    Device Altitude           15  float, m MSL
 *   04 20 02 01 01 08 00 00    Field of View (Horiz.)    16  float, deg
 *   04 20 02 01 01 0A 01 00    Field of View (Vert.)     17  float, deg
 *   07 01 08 01 01 00 00 00    Slant Range               21  float, m
 *   07 01 09 02 01 00 00 00    Target Width              22  float, m
 *   07 01 02 01 03 02 00 00    Frame Center Latitude     23  double, deg
 *   07 01 02 01 03 04 00 00    Frame Center Longitude    24  double, deg
 *   07 01 02 01 03 16 00 00    Frame Center Elevation    25  float, m MSL
 *   0E 01 03 03 02 00 00 00    Security Local Set        48  ST 0102 local set
 *   07 01 02 01 03 07..0E 01   Corner Lat/Lon Point 1-4  82..89 double, deg
 *                              (lat 1 = 82, lon 1 = 83, ..., lon 4 = 89;
 *                               full coordinates, not ST 0601 26-33 offsets)
 *
 * Private pseudo-tags (no ST 0601 item has the same meaning):
 *
 *   07 01 10 01 01 00 00 00    Sensor Roll Angle       1001  float, deg
 *   07 01 10 01 02 00 00 00    Angle to North          1002  float, deg
 *   07 01 10 01 03 00 00 00    Obliquity Angle         1003  float, deg
 *   07 02 01 02 01 01 00 00    Start Date Time - UTC   1004  text "YYYYMMDDThhmmss"
 *   07 02 01 02 07 01 00 00    Event Start Date Time   1005  text "YYYYMMDDThhmmss"
 *
 *   ST 0601 reuses the keys of 1001-1003 for its *relative* sensor angles
 *   (tags 20, 18, 19), but in EG 0104 they are referred to the earth: on the
 *   AP Hill packets Angle to North follows the bearing from the sensor to
 *   the frame centre (about -2 deg while the platform heads 98 deg) and
 *   Obliquity equals -asin(altitude / slant range), an elevation below the
 *   horizon. Giving them tags 18/19 would turn the camera by the platform
 *   heading. 1004/1005 are text where ST 0601 tag 72 is a uint64 of us.
 *
 * Key matching ignores byte 7 (0-based; the registry version byte), as
 * SMPTE ST 336 and KWIVER (klv_key.cxx operator==) do. Encoding writes the
 * table's key, so a rewrite normalises that byte.
 *
 * Unknown keys are kept: such an item has tag VG__EG0104_TAG_UNKNOWN, flag
 * VG_KLV_F_UNKNOWN, type BYTES, and, unlike other items, its raw/len cover
 * the WHOLE item (16-byte key, BER length as received, value), so that the
 * key stays reachable and the encoder writes the item back byte for byte.
 *
 * IEEE specials: NaN is VG_KLV_T_NONE with VG_KLV_SP_NAN (missing); its wire
 * bytes are written back as received (the sign and payload of a NaN are not
 * canonical). +-inf is VG_KLV_T_NONE with VG_KLV_SP_POS_INF / NEG_INF (v.f
 * keeps the infinity). -0.0 is the real 0 with its sign bit kept for
 * rewriting; nothing here tests that sign, so it never flips a hemisphere.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "klv_int.h"

/* The pseudo-tag of an item whose key is not in the table. */
#define VG__EG0104_TAG_UNKNOWN 0xFFFFFFFFu

/* Byte 7 of a SMPTE UL is the version of the registry that defined it;
 * ST 336 says it takes no part in the key's identity. */
#define KEY_VERSION_BYTE 7

/* EG 0104.5 §4.1 (KWIVER klv_0104_key(), jMISB PredatorUavMessage). */
static const uint8_t eg0104_ul[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x01, 0x01, 0x01,
                                      0x0E, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00};

/*
 * The table, sorted by tag: X(tag, fmt, minlen, maxlen, deflen, lo, hi, key,
 * name, units, child, key bytes 0-7, key bytes 8-15). lo < hi enables the
 * range check (F_RANGE): geometric validity only, EG 0104 gives no ranges.
 * minlen 0 for floats: zero length is "no value", other lengths than 4 / 8
 * are flagged by the float decoder.
 */
#define F VG_KLV_FMT_FLOAT
#define S VG_KLV_FMT_STRING
#define NOK VG_KLV_KIND_UNKNOWN
#define EG0104_TABLE(X)                                                                          \
  X(2, VG_KLV_FMT_TIME, 8, 8, 8, 0, 0, "precision_time_stamp", "User Defined Time Stamp", "us",  \
    NOK, 0x060E2B3401010103ull, 0x0702010101050000ull)                                          \
  X(3, S, 0, 0, 0, 0, 0, "mission_id", "Episode Number", "", NOK, 0x060E2B3401010101ull,         \
    0x0105050000000000ull)                                                                       \
  X(5, F, 0, 8, 4, 0, 360, "platform_heading_angle", "Platform Heading Angle", "deg", NOK,       \
    0x060E2B3401010107ull, 0x0701100106000000ull)                                               \
  X(6, F, 0, 8, 4, -90, 90, "platform_pitch_angle", "Platform Pitch Angle", "deg", NOK,          \
    0x060E2B3401010107ull, 0x0701100105000000ull)                                               \
  X(7, F, 0, 8, 4, -180, 180, "platform_roll_angle", "Platform Roll Angle", "deg", NOK,          \
    0x060E2B3401010107ull, 0x0701100104000000ull)                                               \
  X(10, S, 0, 0, 0, 0, 0, "platform_designation", "Device Designation", "", NOK,                 \
    0x060E2B3401010101ull, 0x0101200100000000ull)                                               \
  X(11, S, 0, 0, 0, 0, 0, "image_source_sensor", "Image Source Device", "", NOK,                 \
    0x060E2B3401010101ull, 0x0420010201010000ull)                                               \
  X(12, S, 0, 0, 0, 0, 0, "image_coordinate_system", "Image Coordinate System", "", NOK,         \
    0x060E2B3401010101ull, 0x0701010100000000ull)                                               \
  X(13, F, 0, 8, 8, -90, 90, "sensor_latitude", "Device Latitude", "deg", NOK,                   \
    0x060E2B3401010103ull, 0x0701020102040200ull)                                               \
  X(14, F, 0, 8, 8, -180, 180, "sensor_longitude", "Device Longitude", "deg", NOK,               \
    0x060E2B3401010103ull, 0x0701020102060200ull)                                               \
  X(15, F, 0, 8, 4, 0, 0, "sensor_true_altitude", "Device Altitude", "m", NOK,                   \
    0x060E2B3401010101ull, 0x0701020102020000ull)                                               \
  X(16, F, 0, 8, 4, 0, 180, "sensor_horizontal_fov", "Field of View (Horizontal)", "deg", NOK,   \
    0x060E2B3401010102ull, 0x0420020101080000ull)                                               \
  X(17, F, 0, 8, 4, 0, 180, "sensor_vertical_fov", "Field of View (Vertical)", "deg", NOK,       \
    0x060E2B3401010107ull, 0x04200201010A0100ull)                                               \
  X(21, F, 0, 8, 4, 0, DBL_MAX, "slant_range", "Slant Range", "m", NOK, 0x060E2B3401010101ull,   \
    0x0701080101000000ull)                                                                       \
  X(22, F, 0, 8, 4, 0, DBL_MAX, "target_width", "Target Width", "m", NOK,                        \
    0x060E2B3401010101ull, 0x0701090201000000ull)                                               \
  X(23, F, 0, 8, 8, -90, 90, "frame_center_latitude", "Frame Center Latitude", "deg", NOK,       \
    0x060E2B3401010101ull, 0x0701020103020000ull)                                               \
  X(24, F, 0, 8, 8, -180, 180, "frame_center_longitude", "Frame Center Longitude", "deg", NOK,   \
    0x060E2B3401010101ull, 0x0701020103040000ull)                                               \
  X(25, F, 0, 8, 4, 0, 0, "frame_center_elevation", "Frame Center Elevation", "m", NOK,          \
    0x060E2B340101010Aull, 0x0701020103160000ull)                                               \
  X(48, VG_KLV_FMT_SET, 0, 0, 0, 0, 0, "security_local_set", "Security Local Set", "",           \
    VG_KLV_KIND_ST0102, 0x060E2B3402030101ull, 0x0E01030302000000ull)                          \
  X(82, F, 0, 8, 8, -90, 90, "corner_latitude_point_1", "Corner Latitude Point 1", "deg", NOK,   \
    0x060E2B3401010103ull, 0x0701020103070100ull)                                               \
  X(83, F, 0, 8, 8, -180, 180, "corner_longitude_point_1", "Corner Longitude Point 1", "deg",    \
    NOK, 0x060E2B3401010103ull, 0x07010201030B0100ull)                                          \
  X(84, F, 0, 8, 8, -90, 90, "corner_latitude_point_2", "Corner Latitude Point 2", "deg", NOK,   \
    0x060E2B3401010103ull, 0x0701020103080100ull)                                               \
  X(85, F, 0, 8, 8, -180, 180, "corner_longitude_point_2", "Corner Longitude Point 2", "deg",    \
    NOK, 0x060E2B3401010103ull, 0x07010201030C0100ull)                                          \
  X(86, F, 0, 8, 8, -90, 90, "corner_latitude_point_3", "Corner Latitude Point 3", "deg", NOK,   \
    0x060E2B3401010103ull, 0x0701020103090100ull)                                               \
  X(87, F, 0, 8, 8, -180, 180, "corner_longitude_point_3", "Corner Longitude Point 3", "deg",    \
    NOK, 0x060E2B3401010103ull, 0x07010201030D0100ull)                                          \
  X(88, F, 0, 8, 8, -90, 90, "corner_latitude_point_4", "Corner Latitude Point 4", "deg", NOK,   \
    0x060E2B3401010103ull, 0x07010201030A0100ull)                                               \
  X(89, F, 0, 8, 8, -180, 180, "corner_longitude_point_4", "Corner Longitude Point 4", "deg",    \
    NOK, 0x060E2B3401010103ull, 0x07010201030E0100ull)                                          \
  X(1001, F, 0, 8, 4, -360, 360, "sensor_roll_angle", "Sensor Roll Angle", "deg", NOK,           \
    0x060E2B3401010101ull, 0x0701100101000000ull)                                               \
  X(1002, F, 0, 8, 4, -360, 360, "angle_to_north", "Angle to North", "deg", NOK,                \
    0x060E2B3401010101ull, 0x0701100102000000ull)                                               \
  X(1003, F, 0, 8, 4, -360, 360, "obliquity_angle", "Obliquity Angle", "deg", NOK,              \
    0x060E2B3401010101ull, 0x0701100103000000ull)                                               \
  X(1004, S, 0, 0, 0, 0, 0, "start_date_time", "Start Date Time - UTC", "", NOK,                 \
    0x060E2B3401010101ull, 0x0702010201010000ull)                                               \
  X(1005, S, 0, 0, 0, 0, 0, "event_start_date_time", "Event Start Date Time - UTC", "", NOK,    \
    0x060E2B3401010101ull, 0x0702010207010000ull)

#define X_TAGDEF(tag, fmt, mn, mx, dl, lo, hi, key, name, units, child, k0, k1) \
  {tag, fmt, mn, mx, dl, lo, hi, 0, key, name, units, child},
static const vg_klv_tagdef eg0104_tags[] = {EG0104_TABLE(X_TAGDEF)};
#undef X_TAGDEF

/* The 16-byte keys, as two big-endian words, parallel to eg0104_tags. */
typedef struct eg_key {
  uint64_t hi, lo;
} eg_key;
#define X_KEY(tag, fmt, mn, mx, dl, lo, hi, key, name, units, child, k0, k1) {k0, k1},
static const eg_key eg0104_keys[] = {EG0104_TABLE(X_KEY)};
#undef X_KEY
#undef F
#undef S
#undef NOK

#define NTAGS (sizeof eg0104_tags / sizeof eg0104_tags[0])
_Static_assert(sizeof eg0104_keys / sizeof eg0104_keys[0] == NTAGS, "parallel tables");
/* Duplicate detection keeps one bit per table entry. */
_Static_assert(NTAGS <= 64, "seen mask is 64 bits");
/* Floats are IEEE 754 binary32 / binary64 on every target vigia builds for. */
_Static_assert(sizeof(float) == 4 && FLT_MANT_DIG == 24 && DBL_MANT_DIG == 53, "IEEE 754");

static uint64_t be64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* Index of the table entry whose key is @p k (16 bytes), byte 7 ignored; -1 if none. */
static int key_index(const uint8_t *k)
{
  uint64_t hi = be64(k), lo = be64(k + 8);
  const uint64_t vmask = ~((uint64_t)0xFF << (8 * (7 - KEY_VERSION_BYTE)));
  for (size_t i = 0; i < NTAGS; i++)
    if (eg0104_keys[i].lo == lo && ((eg0104_keys[i].hi ^ hi) & vmask) == 0)
      return (int)i;
  return -1;
}

/* Index of @p tag in the table (sorted), or -1. */
static int tag_index(uint32_t tag)
{
  size_t lo = 0, hi = NTAGS;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (eg0104_tags[mid].tag == tag)
      return (int)mid;
    if (eg0104_tags[mid].tag < tag)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* Item flags that make the packet carry VG_KLV_P_ITEM_FLAGS (as set.c). */
#define WARN_FLAGS                                                                            \
  (VG_KLV_F_BAD_LENGTH | VG_KLV_F_SUSPICIOUS | VG_KLV_F_DUPLICATE | VG_KLV_F_NONMIN_TAG |      \
   VG_KLV_F_RANGE | VG_KLV_F_UNDECODED | VG_KLV_F_BAD_TEXT)

static int eg0104_dec(vg__klv_ctx *c, const vg__klv_setdef *sd, const uint8_t *buf, size_t len,
                      vg_klv_set *out)
{
  vg_rd r;
  size_t n = 0, i;
  size_t base_off = c->base ? (size_t)(buf - c->base) : 0;
  vg_klv_item *items = NULL;
  uint64_t seen = 0;

  /* Pass 1: framing and count; no item may run past the set. */
  rd_init(&r, buf, len);
  while (rd_left(&r)) {
    size_t at = rd_pos(&r);
    uint64_t vlen = 0;
    int rc;
    if (16 > rd_left(&r))
      return vg_error_set(VG_E_MALFORMED, "%s: item key at offset %zu truncated (%zu of 16 bytes)",
                          sd->name, base_off + at, rd_left(&r));
    rd_skip(&r, 16);
    rc = rd_ber_len(&r, &vlen, NULL);
    if (rc != VG_OK)
      return vg_error_set(VG_E_MALFORMED, "%s: item at offset %zu: %s length", sd->name,
                          base_off + at,
                          rc == VG_E_TRUNCATED   ? "truncated"
                          : rc == VG_E_MALFORMED ? "indefinite (0x80)"
                                                 : "over-long");
    if (vlen > rd_left(&r))
      return vg_error_set(VG_E_MALFORMED,
                          "%s: item at offset %zu: length %llu overruns the set (%zu bytes left)",
                          sd->name, base_off + at, (unsigned long long)vlen, rd_left(&r));
    if (vlen > VG_KLV_MAX_VALUE)
      return vg_error_set(VG_E_LIMIT, "%s: item at offset %zu: length %llu over VG_KLV_MAX_VALUE",
                          sd->name, base_off + at, (unsigned long long)vlen);
    rd_skip(&r, (size_t)vlen);
    if (++n > VG_KLV_MAX_ITEMS)
      return vg_error_set(VG_E_LIMIT, "%s set at offset %zu has more than VG_KLV_MAX_ITEMS (%d) items",
                          sd->name, base_off, VG_KLV_MAX_ITEMS);
  }
  if (n && !(items = vg__arena_alloc(c->arena, n * sizeof *items)))
    return c->arena->err;

  /* Pass 2: decode (the framing is known to be sound). */
  rd_init(&r, buf, len);
  for (i = 0; i < n; i++) {
    vg_klv_item *it = &items[i];
    const uint8_t *key;
    uint64_t vlen = 0;
    int nml = 0, k, rc;
    size_t at = rd_pos(&r);
    it->offset = base_off + at;
    key = rd_bytes(&r, 16);
    rd_ber_len(&r, &vlen, &nml);
    it->len = (uint32_t)vlen;
    it->raw = rd_bytes(&r, (size_t)vlen);
    if (nml)
      it->flags |= VG_KLV_F_NONMIN_LEN;
    k = key_index(key);
    if (k < 0) {
      /* Kept whole (key, length, value) for rewriting; see the header comment. */
      it->tag = VG__EG0104_TAG_UNKNOWN;
      it->flags |= VG_KLV_F_UNKNOWN;
      it->type = VG_KLV_T_BYTES;
      it->raw = key;
      it->len = (uint32_t)(rd_pos(&r) - at);
      continue;
    }
    it->tag = eg0104_tags[k].tag;
    if (seen >> k & 1u) {
      it->flags |= VG_KLV_F_DUPLICATE;
      c->pflags |= VG_KLV_P_DUPLICATE;
    }
    seen |= (uint64_t)1 << k;
    if ((rc = vg__klv_value_decode(c, sd, &eg0104_tags[k], it)) != VG_OK)
      return rc;
    if (it->type == VG_KLV_T_REAL && isinf(it->v.f)) {
      /* An IEEE infinity is a special value, not a position. */
      it->type = VG_KLV_T_NONE;
      it->special = it->v.f > 0 ? VG_KLV_SP_POS_INF : VG_KLV_SP_NEG_INF;
      it->flags &= (uint16_t)~VG_KLV_F_RANGE;
    }
    if (it->flags & WARN_FLAGS)
      c->pflags |= VG_KLV_P_ITEM_FLAGS;
  }
  out->kind = VG_KLV_KIND_EG0104;
  out->items = items;
  out->n = n;
  out->series = 0;
  return VG_OK;
}

static int put_key(vg_buf *out, const eg_key *k)
{
  uint8_t b[16];
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(k->hi >> (56 - 8 * i));
    b[8 + i] = (uint8_t)(k->lo >> (56 - 8 * i));
  }
  return vg_buf_append(out, b, 16);
}

/* Width the float encoder writes: as received, else the table's (encode.c). */
static size_t float_width(const vg_klv_tagdef *td, const vg_klv_item *it)
{
  if (it->len == 4 || it->len == 8)
    return it->len;
  return td->deflen ? td->deflen : 8;
}

static int eg0104_enc(vg_buf *out, const vg__klv_setdef *sd, const vg_klv_set *set)
{
  vg_buf val;
  size_t start = out->len;
  int rc = VG_OK;

  vg_buf_init(&val, VG_KLV_MAX_VALUE);
  for (size_t i = 0; i < set->n && rc == VG_OK; i++) {
    const vg_klv_item *it = &set->items[i];
    const vg_klv_tagdef *td;
    int k;
    if (it->flags & VG_KLV_F_UNKNOWN) {
      /* raw is the whole item as received. */
      if (!it->raw || it->len < 17) {
        rc = vg_error_set(VG_E_INVALID, "%s: unknown item %zu does not hold a whole KLV item",
                          sd->name, i);
        break;
      }
      rc = vg_buf_append(out, it->raw, it->len);
      continue;
    }
    if ((k = tag_index(it->tag)) < 0) {
      rc = vg_error_set(VG_E_INVALID, "%s: no key for tag %u", sd->name, it->tag);
      break;
    }
    td = &eg0104_tags[k];
    vg_buf_reset(&val);
    if (td->fmt == VG_KLV_FMT_FLOAT && it->type == VG_KLV_T_NONE && it->special == VG_KLV_SP_NAN &&
        it->raw && (it->len == 4 || it->len == 8) && !(it->flags & VG_KLV_F_UNDECODED)) {
      /* A NaN goes back with the sign and payload it came with. */
      rc = vg_buf_append(&val, it->raw, it->len);
    } else if (td->fmt == VG_KLV_FMT_FLOAT && it->type == VG_KLV_T_REAL &&
               float_width(td, it) == 4 && isfinite(it->v.f) && fabs(it->v.f) > FLT_MAX) {
      /* Converting such a double to float is undefined (C11 6.3.1.5). */
      rc = vg_error_set(VG_E_RANGE, "%s tag %u (%s): %g does not fit a 4-byte float", sd->name,
                        it->tag, td->name, it->v.f);
    } else {
      rc = vg__klv_value_encode(&val, sd, td, it);
    }
    if (rc == VG_OK)
      rc = put_key(out, &eg0104_keys[k]);
    if (rc == VG_OK)
      rc = vg_klv_put_ber_len(out, val.len);
    if (rc == VG_OK)
      rc = vg_buf_append(out, val.data, val.len);
  }
  vg_buf_free(&val);
  if (rc != VG_OK)
    out->len = start;
  return rc;
}

const vg__klv_setdef vg__klv_eg0104 = {
    .kind = VG_KLV_KIND_EG0104,
    .name = "EG 0104",
    .key = eg0104_ul,
    .tags = eg0104_tags,
    .ntags = NTAGS,
    .cksum_tag = 0,   /* no checksum */
    .version_tag = 0, /* no version item */
    .time_tag = 0,    /* the time stamp may come anywhere (second on AP Hill) */
    .set_dec = eg0104_dec,
    .set_enc = eg0104_enc,
};
