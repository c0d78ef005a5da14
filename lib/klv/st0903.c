/*
 * MISB ST 0903.6 Video Moving Target Indicator (VMTI) Local Set and the sets
 * nested in it: tag tables, and the decoders/encoders of its packs (Target
 * Location, Boundary / Track History series, Velocity, Acceleration, FPA
 * index). Local sets and series themselves are the generic engine's (set.c).
 *
 * Wire format. Stand-alone, the VMTI LS is a KLV packet with a 16-bit running
 * sum (as ST 0601: big-endian words over key .. checksum length byte) as tag 1:
 *
 *   key   06 0E 2B 34 02 0B 01 01 0E 01 03 03 06 00 00 00
 *   len   BER
 *   value { BER-OID tag, BER length, value }...   ending with 01 02 cc cc
 *
 * Nested in ST 0601 tag 74 it has neither key nor checksum.
 *
 * VMTI LS                                                 format            length
 *     1  Checksum                                         uint16            2
 *     2  Precision Time Stamp                             MISP time, µs     8 (1..7 accepted)
 *     3  VMTI System Name                                 UTF-8             ..32
 *     4  VMTI LS Version                                  uint              1..2
 *     5  Total Number of Targets Detected                 uint              1..3
 *     6  Number of Reported Targets                       uint              1..3
 *     7  Motion Imagery Frame Number (deprecated)         uint              1..3
 *     8  Frame Width (pixels)                             uint              1..3
 *     9  Frame Height (pixels)                            uint              1..3
 *    10  VMTI Source Sensor                               UTF-8             ..128
 *    11  VMTI Horizontal FOV                              IMAPB(0, 180, 2)  2
 *    12  VMTI Vertical FOV                                IMAPB(0, 180, 2)  2
 *    13  MIIS ID (ST 1204 core identifier)                bytes, kept raw   var
 *   101  VTarget Series    { BER len, BER-OID target id, VTarget LS }...
 *   102  Algorithm Series  { BER len, Algorithm LS }...       (no id)
 *   103  Ontology Series   { BER len, Ontology LS }...        (no id)
 *
 * VTarget LS (the set after the target id)
 *   1..3  Target Centroid / Boundary Top Left / Bottom Right pixel number
 *         ((row-1) * width + column)                      uint              1..8
 *     4  Target Priority                                  uint8             1
 *     5  Target Confidence Level (%)                      uint8 0..100      1
 *     6  Target History (previous detections)             uint              1..8
 *     7  Percentage of Target Pixels                      uint8 0..100      1
 *     8  Target Color (RGB)                               uint24            3
 *     9  Target Intensity                                 uint              1..3
 *    10  Target Location Offset Latitude (deg)            IMAPB(-19.2, 19.2, 3)
 *    11  Target Location Offset Longitude (deg)           IMAPB(-19.2, 19.2, 3)
 *    12  Target Height Above Ellipsoid (m)                IMAPB(-900, 19000, 2)
 * 13..16 Boundary TL lat/lon, BR lat/lon offsets (deg)    IMAPB(-19.2, 19.2, 3)
 *    17  Target Location                                  Location pack     10/16/22
 *    18  Target Boundary Series                           { BER len, Location pack }...
 *    19  Centroid Pixel Row                               uint              1..8
 *    20  Centroid Pixel Column                            uint              1..8
 *    21  FPA Index (row, column)                          2 × uint8         2
 *    22  Algorithm ID                                     uint              1..8
 *   101  VMask                                            kept raw (see below)
 *   102  VObject LS        103  VFeature LS        104  VTracker LS
 *   105  VChip LS          106  VChip Series       107  VObject Series
 *        (series: { BER len, LS }..., no id)
 *
 * Location pack:  lat IMAPB(-90, 90, 4), lon IMAPB(-180, 180, 4),
 *                 HAE IMAPB(-900, 19000, 2), then optionally
 *                 σ east/north/up 3 × IMAPB(0, 650, 2) and then optionally
 *                 ρ east-north/east-up/north-up 3 × IMAPB(-1, 1, 2).
 * Velocity and Acceleration packs: east/north/up 3 × IMAPB(-900, 900, 2),
 *                 then the same optional σ and ρ.
 *
 * Decoded packs are child sets of kind VG_KLV_KIND_PACK with pseudo-tags:
 *   Location  1 lat (deg), 2 lon (deg), 3 hae (m), 4 sigma_east, 5 sigma_north,
 *             6 sigma_up (m), 7 rho_east_north, 8 rho_east_up, 9 rho_north_up;
 *   Velocity / Acceleration  1 east, 2 north, 3 up (m/s, m/s²), 4..9 as above;
 *   FPA index 1 row, 2 column.
 * A location series is a child set of kind PACK with series = 1 whose members
 * (tag = position 1.., type SET) each hold one Location pack.
 *
 * Algorithm LS: 1 ID (uint), 2 Name, 3 Version, 4 Class (text), 5 Number of Frames (uint).
 * Ontology LS:  1 ID, 2 Parent ID (uint), 3 IRI, 4 Entity, 5 Version, 6 Label (UTF-8).
 * VObject LS:   1 Ontology (URI), 2 Ontology Class, 3 Ontology ID (uint),
 *               4 Confidence IMAPB(0, 100, length of the item).
 * VFeature LS:  1 Schema (URI), 2 Schema Feature (UTF-8).
 * VTracker LS:  1 Track ID (UUID, 16 bytes raw), 2 Detection Status (uint8
 *               0 inactive, 1 active, 2 dropped, 3 stopped), 3 Start Time,
 *               4 End Time (MISP µs, 8), 5 Boundary Series, 6 Algorithm (UTF-8),
 *               7 Confidence (uint8 %), 8 Number of Track Points (uint 1..2),
 *               9 Track History Series, 10 Velocity, 11 Acceleration,
 *               12 Algorithm ID (uint 1..3).
 * VChip LS:     1 Image Type ("jpeg" / "png"), 2 Image URI, 3 Embedded Image (raw).
 *
 * Checked against KWIVER arrows/klv/klv_0903*.{h,cxx} (tags, IMAPB ranges,
 * length constraints, series with and without ids, pack layouts) and jMISB
 * st0903 (VTargetMetadataKey, fixed 3-byte offsets and 2-byte HAE since
 * ST 0903.4). The running-sum checksum is KWIVER's (klv_0903.h) and
 * validates on all five messages of jMISB's 0903.bin.
 *
 * Kept raw (VG_KLV_FMT_BYTES), on purpose:
 *   - VTarget 101 VMask: a local set of a polygon (series of BER-length-
 *     prefixed pixel numbers) and a bitmask series of pixel-run packs; klv.h
 *     has no kind for it, so it stays opaque and is rewritten byte for byte;
 *   - VMTI 13 MIIS ID: an ST 1204 structure (version, UUIDs), not decoded here;
 *   - VTracker 1 Track ID and VChip 3 Embedded Image: opaque by nature.
 *
 * Versions before ST 0903.4 coded tags 10..16 and the FOVs as linearly
 * mapped integers; this table decodes by tag, not by version, so such old
 * values come out as IMAPB (wrong). No such data has been seen.
 */
#include "klv/klv_int.h"

#include <stddef.h>

static const uint8_t st0903_key[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01,
                                       0x0E, 0x01, 0x03, 0x03, 0x06, 0x00, 0x00, 0x00};

/* ---- table shorthands ----------------------------------------------------------- */

#define TD(tag_, fmt_, mn, mx, def, lo_, hi_, key_, name_, units_, child_)                   \
  {.tag = (tag_), .fmt = (fmt_), .minlen = (mn), .maxlen = (mx), .deflen = (def), .lo = (lo_), \
   .hi = (hi_), .scale = 0.0, .key = (key_), .name = (name_), .units = (units_),              \
   .child = (child_)}
/* Unsigned integer of mn..mx bytes; lo..hi the valid range (0, 0: unchecked). */
#define T_U(tag, mn, mx, lo, hi, key, name, units)                                           \
  TD(tag, VG_KLV_FMT_UINT, mn, mx, (mn) == (mx) ? (mx) : 0, lo, hi, key, name, units,       \
     VG_KLV_KIND_UNKNOWN)
/* Text of at most mx bytes (0: unbounded). */
#define T_S(tag, mx, key, name)                                                              \
  TD(tag, VG_KLV_FMT_STRING, 0, mx, 0, 0.0, 0.0, key, name, "", VG_KLV_KIND_UNKNOWN)
/* Opaque bytes of mn..mx bytes. */
#define T_B(tag, mn, mx, key, name)                                                          \
  TD(tag, VG_KLV_FMT_BYTES, mn, mx, 0, 0.0, 0.0, key, name, "", VG_KLV_KIND_UNKNOWN)
/* IMAPB(lo, hi, n) of mn..mx bytes (mx 0: any length), written with n bytes. */
#define T_I(tag, mn, mx, n, lo, hi, key, name, units)                                        \
  TD(tag, VG_KLV_FMT_IMAPB, mn, mx, n, lo, hi, key, name, units, VG_KLV_KIND_UNKNOWN)
/* MISP time stamp of mn..8 bytes, 8 for a new item (deflen). */
#define T_T(tag, mn, key, name)                                                              \
  TD(tag, VG_KLV_FMT_TIME, mn, 8, 8, 0.0, 0.0, key, name, "us", VG_KLV_KIND_UNKNOWN)
#define T_SET(tag, kind, key, name) TD(tag, VG_KLV_FMT_SET, 0, 0, 0, 0.0, 0.0, key, name, "", kind)
#define T_SER(tag, kind, key, name)                                                          \
  TD(tag, VG_KLV_FMT_SERIES, 0, 0, 0, 0.0, 0.0, key, name, "", kind)
/*
 * Pack of at most mx bytes. The minimum is 0 because empty packs occur (KWIVER's
 * sample has empty tags 17 and 18); the pack decoder flags every other bad length.
 */
#define T_P(tag, mn, mx, key, name)                                                          \
  TD(tag, VG_KLV_FMT_PACK, mn, mx, 0, 0.0, 0.0, key, name, "", VG_KLV_KIND_PACK)

/* ---- VMTI LS ------------------------------------------------------------------------ */

static const vg_klv_tagdef vmti_tags[] = {
    T_U(1, 2, 2, 0.0, 0.0, "checksum", "Checksum", ""),
    /*
     * ST 0903.4+ writes 8 bytes (jMISB PrecisionTimeStamp, which tolerates
     * fewer as earlier versions allowed); KWIVER accepts any length and its
     * sample (version 5) has 7. Accepted 1..8 unflagged, 8 for new items.
     */
    T_T(2, 1, "precision_time_stamp", "Precision Time Stamp"),
    T_S(3, 32, "vmti_system_name", "VMTI System Name"),
    T_U(4, 1, 2, 0.0, 0.0, "vmti_ls_version", "VMTI LS Version Number", ""),
    T_U(5, 1, 3, 0.0, 0.0, "total_targets_detected", "Total Number of Targets Detected", ""),
    T_U(6, 1, 3, 0.0, 0.0, "targets_reported", "Number of Reported Targets", ""),
    T_U(7, 1, 3, 0.0, 0.0, "frame_number", "Motion Imagery Frame Number", ""),
    T_U(8, 1, 3, 0.0, 0.0, "frame_width", "Frame Width", "px"),
    T_U(9, 1, 3, 0.0, 0.0, "frame_height", "Frame Height", "px"),
    T_S(10, 128, "vmti_source_sensor", "VMTI Source Sensor"),
    T_I(11, 2, 2, 2, 0.0, 180.0, "vmti_hfov", "VMTI Horizontal Field of View", "deg"),
    T_I(12, 2, 2, 2, 0.0, 180.0, "vmti_vfov", "VMTI Vertical Field of View", "deg"),
    /* ST 1204 MIIS Core Identifier: not decoded (see the header). */
    T_B(13, 0, 0, "miis_id", "MIIS ID"),
    T_SER(101, VG_KLV_KIND_ST0903_VTARGET, "vtarget_series", "VTarget Series"),
    T_SER(102, VG_KLV_KIND_ST0903_ALGORITHM, "algorithm_series", "Algorithm Series"),
    T_SER(103, VG_KLV_KIND_ST0903_ONTOLOGY, "ontology_series", "Ontology Series"),
};

const vg__klv_setdef vg__klv_st0903 = {
    .kind = VG_KLV_KIND_ST0903,
    .name = "ST 0903",
    .key = st0903_key,
    .tags = vmti_tags,
    .ntags = sizeof vmti_tags / sizeof vmti_tags[0],
    .cksum_tag = 1,   /* 16-bit running sum, as ST 0601 */
    .version_tag = 4, /* VMTI LS Version Number */
    .time_tag = 2,    /* Precision Time Stamp */
    .pack_dec = NULL, /* no packs at this level */
    .pack_enc = NULL,
    .set_dec = NULL,
    .set_enc = NULL,
};

/* ---- packs ------------------------------------------------------------------------- */

/* One IMAPB field of a pack. */
typedef struct pack_field {
  double lo, hi;
  uint8_t n;
} pack_field;

/* Location pack (ST 0903.6 §8.1.2; KWIVER klv_0903_location_pack.cxx). */
static const pack_field location_fields[9] = {
    {-90.0, 90.0, 4},    {-180.0, 180.0, 4}, {-900.0, 19000.0, 2},
    {0.0, 650.0, 2},     {0.0, 650.0, 2},    {0.0, 650.0, 2},
    {-1.0, 1.0, 2},      {-1.0, 1.0, 2},     {-1.0, 1.0, 2},
};

/* Velocity and Acceleration packs (ST 0903.6 §8.1.3; KWIVER: same ranges for both). */
static const pack_field velocity_fields[9] = {
    {-900.0, 900.0, 2}, {-900.0, 900.0, 2}, {-900.0, 900.0, 2},
    {0.0, 650.0, 2},    {0.0, 650.0, 2},    {0.0, 650.0, 2},
    {-1.0, 1.0, 2},     {-1.0, 1.0, 2},     {-1.0, 1.0, 2},
};

/*
 * Lengths a pack of @p f may have: the three mandatory fields, then the
 * 3 sigmas, then the 3 correlations. @return the number of fields, 0 if
 * @p len is none of them.
 */
static size_t pack_nfields(const pack_field *f, size_t len)
{
  size_t base = (size_t)f[0].n + f[1].n + f[2].n;
  size_t sig = (size_t)f[3].n + f[4].n + f[5].n;
  size_t rho = (size_t)f[6].n + f[7].n + f[8].n;
  if (len == base)
    return 3;
  if (len == base + sig)
    return 6;
  if (len == base + sig + rho)
    return 9;
  return 0;
}

static void item_keep_raw(vg_klv_item *it, uint16_t why)
{
  it->type = it->len ? VG_KLV_T_BYTES : VG_KLV_T_NONE;
  it->child = NULL;
  it->flags |= why;
}

/* Decodes @p nf IMAPB fields from @p p into a PACK child of @p it. */
static int imap_pack_decode(vg__klv_ctx *c, vg_klv_item *it, const pack_field *f, size_t nf,
                            const uint8_t *p)
{
  vg_klv_item *fi = vg__klv_pack_items(c, it, nf);
  size_t off = 0;
  if (!fi)
    return c->arena->err;
  for (size_t i = 0; i < nf; i++) {
    int sp = VG_KLV_SP_NONE;
    double v = vg_klv_imapb_decode(f[i].lo, f[i].hi, p + off, f[i].n, &sp);
    fi[i].tag = (uint32_t)(i + 1);
    fi[i].len = f[i].n;
    fi[i].raw = p + off;
    fi[i].offset = it->offset; /* pack fields have no tag of their own */
    fi[i].special = (uint8_t)sp;
    fi[i].v.f = v;
    if (sp != VG_KLV_SP_NONE) {
      fi[i].type = VG_KLV_T_NONE;
    } else {
      fi[i].type = VG_KLV_T_REAL;
      /* IMAPB codes reach past hi (up to lo + 2^bPow): legal bits, invalid value. */
      if (v < f[i].lo || v > f[i].hi)
        fi[i].flags |= VG_KLV_F_RANGE;
    }
    off += f[i].n;
  }
  it->type = VG_KLV_T_SET;
  return VG_OK;
}

static int location_decode(vg__klv_ctx *c, vg_klv_item *it)
{
  size_t nf = pack_nfields(location_fields, it->len);
  if (!nf) {
    item_keep_raw(it, VG_KLV_F_BAD_LENGTH | VG_KLV_F_UNDECODED);
    return VG_OK;
  }
  return imap_pack_decode(c, it, location_fields, nf, it->raw);
}

static int velocity_decode(vg__klv_ctx *c, vg_klv_item *it)
{
  size_t nf = pack_nfields(velocity_fields, it->len);
  if (!nf) {
    item_keep_raw(it, VG_KLV_F_BAD_LENGTH | VG_KLV_F_UNDECODED);
    return VG_OK;
  }
  return imap_pack_decode(c, it, velocity_fields, nf, it->raw);
}

/* FPA index: row and column, one byte each. */
static int fpa_decode(vg__klv_ctx *c, vg_klv_item *it)
{
  vg_klv_item *fi;
  if (it->len != 2) {
    item_keep_raw(it, VG_KLV_F_BAD_LENGTH | VG_KLV_F_UNDECODED);
    return VG_OK;
  }
  fi = vg__klv_pack_items(c, it, 2);
  if (!fi)
    return c->arena->err;
  for (size_t i = 0; i < 2; i++) {
    fi[i].tag = (uint32_t)(i + 1);
    fi[i].len = 1;
    fi[i].raw = it->raw + i;
    fi[i].offset = it->offset;
    fi[i].type = VG_KLV_T_UINT;
    fi[i].v.u = it->raw[i];
  }
  it->type = VG_KLV_T_SET;
  return VG_OK;
}

/*
 * Location series (Target Boundary, Boundary, Track History): repeated BER
 * length + location pack. Every member must frame and have a location pack
 * length, else the whole item is kept raw.
 */
static int location_series_decode(vg__klv_ctx *c, vg_klv_item *it)
{
  vg_rd r;
  size_t n = 0, i;
  vg_klv_set *set;
  vg_klv_item *mem;

  /* Pass 1: frame and count. */
  rd_init(&r, it->raw, it->len);
  while (rd_left(&r) > 0) {
    uint64_t ml;
    if (rd_ber_len(&r, &ml, NULL) != VG_OK || ml > rd_left(&r) ||
        !pack_nfields(location_fields, (size_t)ml)) {
      item_keep_raw(it, VG_KLV_F_UNDECODED);
      return VG_OK;
    }
    rd_skip(&r, (size_t)ml);
    if (++n > VG_KLV_MAX_ITEMS)
      return vg_error_set(VG_E_LIMIT, "st0903: tag %u: more than %d members in a series",
                          (unsigned)it->tag, VG_KLV_MAX_ITEMS);
  }
  if (n == 0) {
    item_keep_raw(it, 0);
    return VG_OK;
  }

  /* Pass 2: the series set, then one location pack under each member. */
  set = vg__arena_alloc(c->arena, sizeof *set);
  mem = set ? vg__arena_alloc(c->arena, n * sizeof *mem) : NULL; /* n <= 65536: no overflow */
  if (!set || !mem)
    return c->arena->err;
  set->kind = VG_KLV_KIND_PACK;
  set->items = mem;
  set->n = n;
  set->series = 1;

  rd_init(&r, it->raw, it->len);
  for (i = 0; i < n; i++) {
    uint64_t ml = 0;
    int rc;
    rd_ber_len(&r, &ml, NULL); /* framed in pass 1 */
    mem[i].tag = (uint32_t)(i + 1);
    mem[i].len = (uint32_t)ml;
    mem[i].raw = rd_bytes(&r, (size_t)ml);
    mem[i].offset = it->offset;
    rc = imap_pack_decode(c, &mem[i], location_fields, pack_nfields(location_fields, (size_t)ml),
                          mem[i].raw);
    if (rc != VG_OK)
      return rc;
  }
  it->child = set;
  it->type = VG_KLV_T_SET;
  return VG_OK;
}

static int vtarget_pack_dec(vg__klv_ctx *c, const vg_klv_tagdef *td, vg_klv_item *it)
{
  if (it->len == 0) {
    item_keep_raw(it, 0);
    return VG_OK;
  }
  switch (td->tag) {
  case 17:
    return location_decode(c, it);
  case 18:
    return location_series_decode(c, it);
  case 21:
    return fpa_decode(c, it);
  default:
    item_keep_raw(it, VG_KLV_F_UNDECODED);
    return VG_OK;
  }
}

static int vtracker_pack_dec(vg__klv_ctx *c, const vg_klv_tagdef *td, vg_klv_item *it)
{
  if (it->len == 0) {
    item_keep_raw(it, 0);
    return VG_OK;
  }
  switch (td->tag) {
  case 5:
  case 9:
    return location_series_decode(c, it);
  case 10:
  case 11:
    return velocity_decode(c, it);
  default:
    item_keep_raw(it, VG_KLV_F_UNDECODED);
    return VG_OK;
  }
}

/* ---- pack encoding ------------------------------------------------------------------- */

static const vg_klv_item *pack_field_find(const vg_klv_set *s, uint32_t tag)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->items[i].tag == tag)
      return &s->items[i];
  return NULL;
}

/*
 * Appends one IMAPB field. A field whose raw bytes still decode to its value
 * is copied (so legal codes past the range, which the encoder would refuse,
 * survive a round trip); otherwise it is encoded from its value.
 */
static int put_imap_field(vg_buf *out, const pack_field *f, const vg_klv_item *fi)
{
  uint8_t b[8];
  int rc;
  if (fi->raw && fi->len == f->n) {
    int sp = VG_KLV_SP_NONE;
    double v = vg_klv_imapb_decode(f->lo, f->hi, fi->raw, f->n, &sp);
    if (sp == fi->special &&
        (sp != VG_KLV_SP_NONE || (fi->type == VG_KLV_T_REAL && v == fi->v.f)))
      return vg_buf_append(out, fi->raw, f->n);
  }
  if (fi->special != VG_KLV_SP_NONE)
    rc = vg_klv_imap_encode_special(fi->special, b, f->n);
  else if (fi->type == VG_KLV_T_REAL)
    rc = vg_klv_imapb_encode(f->lo, f->hi, fi->v.f, b, f->n);
  else
    return vg_error_set(VG_E_INVALID, "st0903: pack field %u has no real value",
                        (unsigned)fi->tag);
  if (rc != VG_OK)
    return rc;
  return vg_buf_append(out, b, f->n);
}

/* How many fields of an IMAP pack to write: 3, 6 or 9 by which are present. */
static int imap_pack_count(const vg_klv_set *s, size_t *nf)
{
  int have[10] = {0};
  for (size_t i = 0; i < s->n; i++)
    if (s->items[i].tag >= 1 && s->items[i].tag <= 9)
      have[s->items[i].tag] = 1;
  if (!have[1] || !have[2] || !have[3])
    return vg_error_set(VG_E_INVALID, "st0903: pack lacks one of fields 1..3");
  if (have[4] && have[5] && have[6]) {
    *nf = (have[7] && have[8] && have[9]) ? 9 : 6;
    if (*nf == 6 && (have[7] || have[8] || have[9]))
      return vg_error_set(VG_E_INVALID, "st0903: pack has part of the correlations 7..9");
  } else {
    if (have[4] || have[5] || have[6] || have[7] || have[8] || have[9])
      return vg_error_set(VG_E_INVALID,
                          "st0903: pack has sigmas or correlations without all three sigmas");
    *nf = 3;
  }
  return VG_OK;
}

static size_t imap_pack_len(const pack_field *f, size_t nf)
{
  size_t n = 0;
  for (size_t i = 0; i < nf; i++)
    n += f[i].n;
  return n;
}

static int imap_pack_encode(vg_buf *out, const pack_field *f, const vg_klv_set *s)
{
  size_t nf = 0;
  int rc = imap_pack_count(s, &nf);
  for (size_t i = 0; rc == VG_OK && i < nf; i++)
    rc = put_imap_field(out, &f[i], pack_field_find(s, (uint32_t)(i + 1)));
  return rc;
}

static int location_series_encode(vg_buf *out, const vg_klv_set *s)
{
  int rc = VG_OK;
  for (size_t i = 0; rc == VG_OK && i < s->n; i++) {
    const vg_klv_item *m = &s->items[i];
    size_t nf = 0;
    if (m->type != VG_KLV_T_SET || !m->child)
      return vg_error_set(VG_E_INVALID, "st0903: location series member %zu is not a pack", i);
    rc = imap_pack_count(m->child, &nf);
    if (rc == VG_OK)
      rc = vg_klv_put_ber_len(out, imap_pack_len(location_fields, nf));
    if (rc == VG_OK)
      rc = imap_pack_encode(out, location_fields, m->child);
  }
  return rc;
}

static int fpa_encode(vg_buf *out, const vg_klv_set *s)
{
  for (uint32_t t = 1; t <= 2; t++) {
    const vg_klv_item *fi = pack_field_find(s, t);
    int rc;
    if (!fi || fi->type != VG_KLV_T_UINT || fi->v.u > 255)
      return vg_error_set(VG_E_INVALID, "st0903: FPA index field %u missing or over 255",
                          (unsigned)t);
    rc = vg_buf_putc(out, (uint8_t)fi->v.u);
    if (rc != VG_OK)
      return rc;
  }
  return VG_OK;
}

/* Items that were not decoded (or are empty) are written back as they came. */
static int pack_is_raw(const vg_klv_item *it)
{
  return it->type != VG_KLV_T_SET || !it->child;
}

static int vtarget_pack_enc(vg_buf *out, const vg_klv_tagdef *td, const vg_klv_item *it)
{
  if (pack_is_raw(it))
    return it->len ? vg_buf_append(out, it->raw, it->len) : VG_OK;
  switch (td->tag) {
  case 17:
    return imap_pack_encode(out, location_fields, it->child);
  case 18:
    return location_series_encode(out, it->child);
  case 21:
    return fpa_encode(out, it->child);
  default:
    return vg_error_set(VG_E_INVALID, "st0903: VTarget tag %u is not a pack", (unsigned)td->tag);
  }
}

static int vtracker_pack_enc(vg_buf *out, const vg_klv_tagdef *td, const vg_klv_item *it)
{
  if (pack_is_raw(it))
    return it->len ? vg_buf_append(out, it->raw, it->len) : VG_OK;
  switch (td->tag) {
  case 5:
  case 9:
    return location_series_encode(out, it->child);
  case 10:
  case 11:
    return imap_pack_encode(out, velocity_fields, it->child);
  default:
    return vg_error_set(VG_E_INVALID, "st0903: VTracker tag %u is not a pack",
                        (unsigned)td->tag);
  }
}

/* ---- VTarget LS ----------------------------------------------------------------------- */

static const vg_klv_tagdef vtarget_tags[] = {
    T_U(1, 1, 8, 0.0, 0.0, "target_centroid", "Target Centroid Pixel Number", ""),
    T_U(2, 1, 8, 0.0, 0.0, "boundary_top_left", "Boundary Top Left Pixel Number", ""),
    T_U(3, 1, 8, 0.0, 0.0, "boundary_bottom_right", "Boundary Bottom Right Pixel Number", ""),
    T_U(4, 1, 1, 0.0, 0.0, "target_priority", "Target Priority", ""),
    T_U(5, 1, 1, 0.0, 100.0, "target_confidence_level", "Target Confidence Level", "%"),
    T_U(6, 1, 8, 0.0, 0.0, "target_history", "Target History", ""),
    T_U(7, 1, 1, 0.0, 100.0, "percentage_of_target_pixels", "Percentage of Target Pixels", "%"),
    T_U(8, 3, 3, 0.0, 0.0, "target_color", "Target Color", ""),
    T_U(9, 1, 3, 0.0, 0.0, "target_intensity", "Target Intensity", ""),
    T_I(10, 3, 3, 3, -19.2, 19.2, "target_location_offset_lat", "Target Location Offset Latitude",
        "deg"),
    T_I(11, 3, 3, 3, -19.2, 19.2, "target_location_offset_lon",
        "Target Location Offset Longitude", "deg"),
    T_I(12, 2, 2, 2, -900.0, 19000.0, "target_hae", "Target Height Above Ellipsoid", "m"),
    T_I(13, 3, 3, 3, -19.2, 19.2, "boundary_top_left_lat_offset",
        "Boundary Top Left Latitude Offset", "deg"),
    T_I(14, 3, 3, 3, -19.2, 19.2, "boundary_top_left_lon_offset",
        "Boundary Top Left Longitude Offset", "deg"),
    T_I(15, 3, 3, 3, -19.2, 19.2, "boundary_bottom_right_lat_offset",
        "Boundary Bottom Right Latitude Offset", "deg"),
    T_I(16, 3, 3, 3, -19.2, 19.2, "boundary_bottom_right_lon_offset",
        "Boundary Bottom Right Longitude Offset", "deg"),
    T_P(17, 0, 22, "target_location", "Target Location"),
    T_P(18, 0, 0, "target_boundary_series", "Target Boundary Series"),
    T_U(19, 1, 8, 0.0, 0.0, "centroid_pixel_row", "Centroid Pixel Row", ""),
    T_U(20, 1, 8, 0.0, 0.0, "centroid_pixel_column", "Centroid Pixel Column", ""),
    T_P(21, 0, 2, "fpa_index", "FPA Index"),
    T_U(22, 1, 8, 0.0, 0.0, "algorithm_id", "Algorithm ID", ""),
    /* VMask: polygon and pixel-run series; klv.h has no kind for it (see the header). */
    T_B(101, 0, 0, "vmask", "VMask"),
    T_SET(102, VG_KLV_KIND_ST0903_VOBJECT, "vobject", "VObject"),
    T_SET(103, VG_KLV_KIND_ST0903_VFEATURE, "vfeature", "VFeature"),
    T_SET(104, VG_KLV_KIND_ST0903_VTRACKER, "vtracker", "VTracker"),
    T_SET(105, VG_KLV_KIND_ST0903_VCHIP, "vchip", "VChip"),
    T_SER(106, VG_KLV_KIND_ST0903_VCHIP, "vchip_series", "VChip Series"),
    T_SER(107, VG_KLV_KIND_ST0903_VOBJECT, "vobject_series", "VObject Series"),
};

/* Field names of the packs (pseudo-tags as in the header comment of this file). */
static const char *pack_field_0903(uint32_t parent_tag, uint32_t field, const char **units, int velocity)
{
  static const char *const loc[] = {"lat", "lon", "hae", "sigma_east", "sigma_north", "sigma_up",
                                    "rho_east_north", "rho_east_up", "rho_north_up"};
  static const char *const vel[] = {"east", "north", "up"};
  if (field < 1 || field > 9)
    return NULL;
  if (field >= 7)
    *units = "";
  else if (field >= 4)
    *units = velocity == 2 ? "m/s^2" : velocity ? "m/s" : "m";
  else if (velocity)
    *units = velocity == 2 ? "m/s^2" : "m/s";
  else
    *units = field == 3 ? "m" : "deg";
  (void)parent_tag;
  return velocity && field <= 3 ? vel[field - 1] : loc[field - 1];
}

static const char *vtarget_pack_field(uint32_t parent_tag, uint32_t field, const char **units)
{
  *units = "";
  if (parent_tag == 21)
    return field == 1 ? "row" : field == 2 ? "column" : NULL;
  if (parent_tag == 17 || parent_tag == 18) /* location, boundary series of locations */
    return pack_field_0903(parent_tag, field, units, 0);
  return NULL;
}

static const char *vtracker_pack_field(uint32_t parent_tag, uint32_t field, const char **units)
{
  *units = "";
  if (parent_tag == 5 || parent_tag == 9) /* boundary, track history: locations */
    return pack_field_0903(parent_tag, field, units, 0);
  if (parent_tag == 10 || parent_tag == 11)
    return pack_field_0903(parent_tag, field, units, parent_tag == 10 ? 1 : 2);
  return NULL;
}

/* A set nested in VMTI: no key, no checksum, no version or time item. */
#define NESTED_SET(var, kind_, name_, tags_, pdec, penc, pfield)            \
  const vg__klv_setdef var = {.kind = kind_, .name = name_, .tags = tags_,   \
                              .ntags = sizeof tags_ / sizeof tags_[0],      \
                              .pack_dec = pdec, .pack_enc = penc, .pack_field = pfield}

NESTED_SET(vg__klv_st0903_vtarget, VG_KLV_KIND_ST0903_VTARGET, "ST 0903 VTarget", vtarget_tags, vtarget_pack_dec, vtarget_pack_enc, vtarget_pack_field);

/* ---- Algorithm LS ---------------------------------------------------------------------- */

static const vg_klv_tagdef algorithm_tags[] = {
    T_U(1, 1, 8, 0.0, 0.0, "id", "Algorithm ID", ""),
    T_S(2, 0, "name", "Algorithm Name"),
    T_S(3, 0, "version", "Algorithm Version"),
    T_S(4, 0, "class", "Algorithm Class"),
    T_U(5, 1, 8, 0.0, 0.0, "num_frames", "Number of Frames", ""),
};

NESTED_SET(vg__klv_st0903_algorithm, VG_KLV_KIND_ST0903_ALGORITHM, "ST 0903 Algorithm", algorithm_tags, NULL, NULL, NULL);

/* ---- Ontology LS ----------------------------------------------------------------------- */

static const vg_klv_tagdef ontology_tags[] = {
    T_U(1, 1, 8, 0.0, 0.0, "id", "Ontology ID", ""),
    T_U(2, 1, 8, 0.0, 0.0, "parent_id", "Parent ID", ""),
    T_S(3, 0, "iri", "Ontology IRI"),
    T_S(4, 0, "entity", "Entity IRI"),
    T_S(5, 0, "version", "Version"),
    T_S(6, 0, "label", "Label"),
};

NESTED_SET(vg__klv_st0903_ontology, VG_KLV_KIND_ST0903_ONTOLOGY, "ST 0903 Ontology", ontology_tags, NULL, NULL, NULL);

/* ---- VTracker LS ----------------------------------------------------------------------- */

static const vg_klv_tagdef vtracker_tags[] = {
    T_B(1, 16, 16, "track_id", "Track ID"),
    /* 0 inactive, 1 active, 2 dropped, 3 stopped. */
    T_U(2, 1, 1, 0.0, 3.0, "detection_status", "Detection Status", ""),
    T_T(3, 8, "start_time", "Start Time"),
    T_T(4, 8, "end_time", "End Time"),
    T_P(5, 0, 0, "boundary_series", "Boundary Series"),
    T_S(6, 0, "algorithm", "Algorithm"),
    T_U(7, 1, 1, 0.0, 100.0, "confidence_level", "Confidence Level", "%"),
    T_U(8, 1, 2, 0.0, 0.0, "num_track_points", "Number of Track Points", ""),
    T_P(9, 0, 0, "track_history_series", "Track History Series"),
    T_P(10, 0, 18, "velocity", "Velocity"),
    T_P(11, 0, 18, "acceleration", "Acceleration"),
    T_U(12, 1, 3, 0.0, 0.0, "algorithm_id", "Algorithm ID", ""),
};

NESTED_SET(vg__klv_st0903_vtracker, VG_KLV_KIND_ST0903_VTRACKER, "ST 0903 VTracker", vtracker_tags, vtracker_pack_dec, vtracker_pack_enc, vtracker_pack_field);

/* ---- VObject LS ------------------------------------------------------------------------ */

static const vg_klv_tagdef vobject_tags[] = {
    T_S(1, 0, "ontology", "Ontology"),
    T_S(2, 0, "ontology_class", "Ontology Class"),
    T_U(3, 1, 8, 0.0, 0.0, "ontology_id", "Ontology ID", ""),
    /* IMAPB(0, 100, length of the item): any length from 1; jMISB writes 2. */
    T_I(4, 1, 0, 2, 0.0, 100.0, "confidence", "Confidence", "%"),
};

NESTED_SET(vg__klv_st0903_vobject, VG_KLV_KIND_ST0903_VOBJECT, "ST 0903 VObject", vobject_tags, NULL, NULL, NULL);

/* ---- VFeature LS ----------------------------------------------------------------------- */

static const vg_klv_tagdef vfeature_tags[] = {
    T_S(1, 0, "schema", "Schema"),
    T_S(2, 0, "schema_feature", "Schema Feature"),
};

NESTED_SET(vg__klv_st0903_vfeature, VG_KLV_KIND_ST0903_VFEATURE, "ST 0903 VFeature", vfeature_tags, NULL, NULL, NULL);

/* ---- VChip LS -------------------------------------------------------------------------- */

static const vg_klv_tagdef vchip_tags[] = {
    T_S(1, 0, "image_type", "Image Type"),
    T_S(2, 0, "image_uri", "Image URI"),
    T_B(3, 0, 0, "embedded_image", "Embedded Image"),
};

NESTED_SET(vg__klv_st0903_vchip, VG_KLV_KIND_ST0903_VCHIP, "ST 0903 VChip", vchip_tags, NULL, NULL, NULL);
