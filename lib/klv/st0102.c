/*
 * MISB ST 0102.12 Security Metadata Local Set: the tag table and the meaning
 * of its enumerated codes. Decoding and encoding are the generic local-set
 * engine's (set.c); this file only describes the set.
 *
 * Wire format (ST 0102.12 §6.2, Table 1). The set is found nested in ST 0601
 * tag 48 (no key, no checksum) or stand-alone under its own key:
 *
 *   key   06 0E 2B 34 02 03 01 01 0E 01 03 03 02 00 00 00   (16-byte UL)
 *   len   BER
 *   value { BER-OID tag, BER length, value }...
 *
 *   tag  item                                         format          length
 *     1  Security Classification                      uint8 enum      1
 *     2  Classifying Country and Releasing            uint8 enum      1
 *        Instructions Country Coding Method
 *     3  Classifying Country ("//" + code)            ISO 646 text    var
 *     4  SCI/SHI Information                          ISO 646 text    var (0 seen)
 *     5  Caveats                                      ISO 646 text    var (0 seen)
 *     6  Releasing Instructions                       ISO 646 text    var
 *     7  Classified By                                ISO 646 text    var
 *     8  Derived From                                 ISO 646 text    var
 *     9  Classification Reason                        ISO 646 text    var
 *    10  Declassification Date (YYYYMMDD)             ISO 646 text    8
 *    11  Classification and Marking System            ISO 646 text    var
 *    12  Object Country Coding Method                 uint8 enum      1
 *    13  Object Country Codes (";"-separated)         UTF-16BE text   var
 *    14  Classification Comments                      ISO 646 text    var
 *    15  UMID Video          (deprecated, RP 210)     bytes           32
 *    16  UMID Audio          (deprecated)             bytes           32
 *    17  UMID Data           (deprecated)             bytes           32
 *    18  UMID System         (deprecated)             bytes           32
 *    19  Stream ID           (deprecated)             uint8           1
 *    20  Transport Stream ID (deprecated)             uint16          2
 *    21  Item Designator ID  (deprecated, 16-byte UL) bytes           16
 *    22  Version (of ST 0102)                         uint16          2
 *    23  Classifying Country and Releasing            ISO 646 text    10
 *        Instructions Coding Method Version Date (YYYY-MM-DD)
 *    24  Object Country Coding Method Version Date    ISO 646 text    10
 *
 * Checked against KWIVER arrows/klv/klv_0102.{h,cxx} (tags, formats, fixed
 * lengths, key) and jMISB st0102 (SecurityMetadataKey, KlvConstants for the
 * key, CcMethod / OcMethod / CountryCodingMethodUtilities for the codes).
 * Neither implementation gives the stand-alone set a checksum, so none here.
 *
 * Free-text items carry no maximum length here: the standard's maxima could
 * not be checked against its text, and zero-length items occur in real data
 * (Cheyenne, ST 0102.5: tags 4 and 5 empty).
 */
#include "klv/klv_int.h"
#include "klv/st0102_int.h"

#include <stddef.h>

static const uint8_t st0102_key[16] = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x03, 0x01, 0x01,
                                       0x0E, 0x01, 0x03, 0x03, 0x02, 0x00, 0x00, 0x00};

/* Shorthands for the table below. */
#define TD(tag_, fmt_, mn, mx, def, lo_, hi_, key_, name_)                                   \
  {.tag = (tag_), .fmt = (fmt_), .minlen = (mn), .maxlen = (mx), .deflen = (def), .lo = (lo_), \
   .hi = (hi_), .scale = 0.0, .key = (key_), .name = (name_), .units = "",                    \
   .child = VG_KLV_KIND_UNKNOWN}
/* Fixed-length unsigned integer; lo..hi is the valid code range (0, 0: unchecked). */
#define T_U(tag, n, lo, hi, key, name) TD(tag, VG_KLV_FMT_UINT, n, n, n, lo, hi, key, name)
/* Text of mn..mx bytes (mx 0: unbounded). */
#define T_S(tag, mn, mx, key, name) TD(tag, VG_KLV_FMT_STRING, mn, mx, 0, 0.0, 0.0, key, name)
/* Opaque bytes of fixed length n. */
#define T_B(tag, n, key, name) TD(tag, VG_KLV_FMT_BYTES, n, n, n, 0.0, 0.0, key, name)

/* Sorted by tag (binary search in vg__klv_tag_lookup). */
static const vg_klv_tagdef st0102_tags[] = {
    /* Codes 1..5 (0 is not a classification: KWIVER's "unknown"). */
    T_U(1, 1, 1.0, 5.0, "security_classification", "Security Classification"),
    /* Codes 0x01..0x10 (ST 0102.12 Table 2). */
    T_U(2, 1, 1.0, 16.0, "cc_coding_method",
        "Classifying Country and Releasing Instructions Country Coding Method"),
    T_S(3, 0, 0, "classifying_country", "Classifying Country"),
    T_S(4, 0, 0, "sci_shi_information", "Security-SCI/SHI Information"),
    T_S(5, 0, 0, "caveats", "Caveats"),
    T_S(6, 0, 0, "releasing_instructions", "Releasing Instructions"),
    T_S(7, 0, 0, "classified_by", "Classified By"),
    T_S(8, 0, 0, "derived_from", "Derived From"),
    T_S(9, 0, 0, "classification_reason", "Classification Reason"),
    T_S(10, 8, 8, "declassification_date", "Declassification Date"),
    T_S(11, 0, 0, "classification_and_marking_system", "Classification and Marking System"),
    /* Codes 0x01..0x0F and 0x40 (ST 0102.12 Table 3). */
    T_U(12, 1, 1.0, 64.0, "oc_coding_method", "Object Country Coding Method"),
    TD(13, VG_KLV_FMT_UTF16, 0, 0, 0, 0.0, 0.0, "object_country_codes", "Object Country Codes"),
    T_S(14, 0, 0, "classification_comments", "Classification Comments"),
    T_B(15, 32, "umid_video", "UMID Video"),
    T_B(16, 32, "umid_audio", "UMID Audio"),
    T_B(17, 32, "umid_data", "UMID Data"),
    T_B(18, 32, "umid_system", "UMID System"),
    T_U(19, 1, 0.0, 0.0, "stream_id", "Stream ID"),
    T_U(20, 2, 0.0, 0.0, "transport_stream_id", "Transport Stream ID"),
    T_B(21, 16, "item_designator_id", "Item Designator ID"),
    T_U(22, 2, 0.0, 0.0, "version", "Version"),
    T_S(23, 10, 10, "cc_coding_method_version_date",
        "Classifying Country and Releasing Instructions Country Coding Method Version Date"),
    T_S(24, 10, 10, "oc_coding_method_version_date",
        "Object Country Coding Method Version Date"),
};

#undef TD
#undef T_U
#undef T_S
#undef T_B

const vg__klv_setdef vg__klv_st0102 = {
    .kind = VG_KLV_KIND_ST0102,
    .name = "ST 0102",
    .key = st0102_key,
    .tags = st0102_tags,
    .ntags = sizeof st0102_tags / sizeof st0102_tags[0],
    .cksum_tag = 0,    /* the stand-alone set has no checksum item */
    .version_tag = 22, /* Version */
    .time_tag = 0,     /* no time stamp item */
    .pack_dec = NULL,  /* no packs */
    .pack_enc = NULL,
    .set_dec = NULL, /* ordinary local-set framing */
    .set_enc = NULL,
};

/* ---- enumerations -------------------------------------------------------------- */

typedef struct code_name {
  uint8_t code;
  const char *name;
} code_name;

/* ST 0102.12 §6.1.1; the markings as written on a banner. */
static const char *const classification_names[] = {
    NULL, "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET",
};

/*
 * Tag 2 (ST 0102.12 Table 2), as jMISB CcMethod reads it. KWIVER uses this
 * same table for tag 12 too, which disagrees with jMISB for codes 3..5.
 */
static const code_name cc_methods[] = {
    {0x01, "ISO-3166 Two Letter"},  {0x02, "ISO-3166 Three Letter"},
    {0x03, "FIPS 10-4 Two Letter"}, {0x04, "FIPS 10-4 Four Letter"},
    {0x05, "ISO-3166 Numeric"},     {0x06, "1059 Two Letter"},
    {0x07, "1059 Three Letter"},    {0x08, "Omitted Value"},
    {0x09, "Omitted Value"},        {0x0A, "FIPS 10-4 Mixed"},
    {0x0B, "ISO-3166 Mixed"},       {0x0C, "STANAG 1059 Mixed"},
    {0x0D, "GENC Two Letter"},      {0x0E, "GENC Three Letter"},
    {0x0F, "GENC Numeric"},         {0x10, "GENC Mixed"},
};

/*
 * Tag 12 (ST 0102.12 Table 3), as jMISB OcMethod / CountryCodingMethodUtilities
 * read it: numeric ISO comes before FIPS, there are no mixed methods, and
 * 0x40 names GENC administrative subdivisions.
 */
static const code_name oc_methods[] = {
    {0x01, "ISO-3166 Two Letter"},  {0x02, "ISO-3166 Three Letter"},
    {0x03, "ISO-3166 Numeric"},     {0x04, "FIPS 10-4 Two Letter"},
    {0x05, "FIPS 10-4 Four Letter"}, {0x06, "1059 Two Letter"},
    {0x07, "1059 Three Letter"},    {0x08, "Omitted Value"},
    {0x09, "Omitted Value"},        {0x0A, "Omitted Value"},
    {0x0B, "Omitted Value"},        {0x0C, "Omitted Value"},
    {0x0D, "GENC Two Letter"},      {0x0E, "GENC Three Letter"},
    {0x0F, "GENC Numeric"},         {0x40, "GENC AdminSub"},
};

static const char *code_lookup(const code_name *t, size_t n, uint64_t code)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].code == code)
      return t[i].name;
  return NULL;
}

const char *vg__klv_st0102_enum_meaning(uint32_t tag, uint64_t code)
{
  switch (tag) {
  case 1:
    return code < sizeof classification_names / sizeof classification_names[0]
               ? classification_names[code]
               : NULL;
  case 2:
    return code_lookup(cc_methods, sizeof cc_methods / sizeof cc_methods[0], code);
  case 12:
    return code_lookup(oc_methods, sizeof oc_methods / sizeof oc_methods[0], code);
  default:
    return NULL;
  }
}
