/*
 * vigia — KLV metadata: SMPTE ST 336 framing, MISB ST 0601 (UAS Datalink
 * local set, through ST 0601.19), ST 0102 (security), ST 0903 (VMTI),
 * ST 1201 (IMAPA/IMAPB) and legacy EG 0104, decoded to typed values in
 * natural units, and encoded back.
 *
 * Ownership: a decoded packet borrows the bytes it was decoded from (its
 * strings and raw values point into them) and its items live in the decoder
 * that made it; both must outlive the use of the packet.
 */
#ifndef VIGIA_KLV_H
#define VIGIA_KLV_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits (each cited where it is defined in lib/klv) -------------------- */

/** Largest KLV value accepted (16 MiB). The largest real packet seen is 2.4 KB. */
#define VG_KLV_MAX_VALUE ((uint64_t)16 << 20)
/** Deepest nesting of local sets (0601 > 0903 > VTarget > pack). */
#define VG_KLV_MAX_DEPTH 6
/** Most items in one local set or series. */
#define VG_KLV_MAX_ITEMS 65536
/**
 * Input the scanner holds beyond one maximal packet: the most a caller may
 * feed between drains (vg_klv_scanner_feed fails with VG_E_LIMIT past it).
 * While resynchronising the scanner keeps only the last 3 bytes of garbage.
 */
#define VG_KLV_RESYNC_WINDOW ((size_t)1 << 20)

/* ---- what a packet is ---------------------------------------------------------- */

/** The family of a local set (top-level or nested). */
typedef enum vg_klv_kind {
  VG_KLV_KIND_UNKNOWN = 0, /**< a KLV packet whose key vigia does not know: kept raw */
  VG_KLV_KIND_ST0601,      /**< UAS Datalink Local Set */
  VG_KLV_KIND_ST0102,      /**< Security Metadata Local Set */
  VG_KLV_KIND_ST0903,      /**< VMTI Local Set */
  VG_KLV_KIND_EG0104,      /**< Predator UAV Basic Universal Set (16-byte keys) */
  VG_KLV_KIND_ST0903_VTARGET, /**< one VTarget pack of ST 0903 */
  VG_KLV_KIND_ST0903_ALGORITHM, /**< one Algorithm local set of ST 0903 */
  VG_KLV_KIND_ST0903_ONTOLOGY, /**< one Ontology local set of ST 0903 */
  VG_KLV_KIND_ST0903_VTRACKER, /**< VTracker local set of ST 0903 */
  VG_KLV_KIND_ST0903_VOBJECT, /**< VObject local set of ST 0903 */
  VG_KLV_KIND_ST0903_VFEATURE, /**< VFeature local set of ST 0903 */
  VG_KLV_KIND_ST0903_VCHIP, /**< VChip local set of ST 0903 */
  VG_KLV_KIND_PACK,        /**< the fields of a pack (DLP/VLP), with pseudo-tags 1.. */
  VG_KLV_KIND__COUNT
} vg_klv_kind;

/** The type of a decoded value. */
typedef enum vg_klv_type {
  VG_KLV_T_NONE = 0, /**< no value: a zero-length number, or a special (see vg_klv_item.special); an empty string is a STRING of length 0 */
  VG_KLV_T_UINT,     /**< v.u */
  VG_KLV_T_INT,      /**< v.i */
  VG_KLV_T_REAL,     /**< v.f in the item's units */
  VG_KLV_T_TIME,     /**< v.u microseconds since 1970-01-01 (MISP time, ST 0603) */
  VG_KLV_T_STRING,   /**< v.s: UTF-8 (or ISO 646) bytes, not NUL-terminated */
  VG_KLV_T_BYTES,    /**< only raw: opaque or not decoded */
  VG_KLV_T_SET       /**< child: a nested local set, series or pack */
} vg_klv_type;

/** Special values, from ST 1201 (IMAP) or from the reserved code of mapped integers. */
typedef enum vg_klv_special {
  VG_KLV_SP_NONE = 0,
  VG_KLV_SP_OUT_OF_RANGE, /**< reserved "out of range / not available" code (0x80..00) of a signed mapped item */
  VG_KLV_SP_POS_INF,      /**< ST 1201 +infinity (first byte 0xC8) */
  VG_KLV_SP_NEG_INF,      /**< ST 1201 -infinity (0xE8) */
  VG_KLV_SP_POS_QNAN,     /**< ST 1201 +quiet NaN (0xD0) */
  VG_KLV_SP_NEG_QNAN,     /**< ST 1201 -quiet NaN (0xF0) */
  VG_KLV_SP_POS_SNAN,     /**< ST 1201 +signalling NaN (0xD8) */
  VG_KLV_SP_NEG_SNAN,     /**< ST 1201 -signalling NaN (0xF8) */
  VG_KLV_SP_BELOW_RANGE,  /**< ST 1201 "below range" (MISB-defined block 1110 0xxx: 0xE0..) */
  VG_KLV_SP_ABOVE_RANGE,  /**< ST 1201 "above range" (0xE1..) */
  VG_KLV_SP_RESERVED,     /**< an ST 1201 special code vigia does not name (user-defined or reserved) */
  VG_KLV_SP_NAN           /**< an IEEE NaN (EG 0104 floats): missing */
} vg_klv_special;

/* Item flags (vg_klv_item.flags). */
#define VG_KLV_F_UNKNOWN      0x0001u /**< tag not in the table: kept raw */
#define VG_KLV_F_BAD_LENGTH   0x0002u /**< length not allowed for this tag; decoded leniently if possible */
#define VG_KLV_F_SUSPICIOUS   0x0004u /**< an unsigned item carrying 0x80..00, which some encoders mean as "N/A" */
#define VG_KLV_F_DUPLICATE    0x0008u /**< the tag appeared earlier in the same set */
#define VG_KLV_F_NONMIN_TAG   0x0010u /**< BER-OID tag with a leading 0x80 byte (X.690 8.19.2) */
#define VG_KLV_F_NONMIN_LEN   0x0020u /**< long-form BER length where a shorter one would do (legal) */
#define VG_KLV_F_DEPRECATED   0x0040u /**< deprecated tag (ST 0601 tag 66): read, never written */
#define VG_KLV_F_RANGE        0x0080u /**< decoded value outside the item's documented range */
#define VG_KLV_F_UNDECODED    0x0100u /**< a nested set or pack that did not parse: kept raw */
#define VG_KLV_F_BAD_TEXT     0x0200u /**< a string that is not valid UTF-8 */

/* Packet flags (vg_klv_packet.flags). */
#define VG_KLV_P_CHECKSUM_BAD     0x0001u /**< checksum item present, value wrong */
#define VG_KLV_P_CHECKSUM_MISSING 0x0002u /**< the set requires a checksum and has none */
#define VG_KLV_P_CHECKSUM_NOT_LAST 0x0004u /**< the checksum item is not the last item */
#define VG_KLV_P_CHECKSUM_PAYLOAD 0x0008u /**< wrong by the standard, right over the payload only (a known encoder bug) */
#define VG_KLV_P_NO_VERSION       0x0010u /**< mandatory version item (0601 tag 65) missing */
#define VG_KLV_P_TIME_NOT_FIRST   0x0020u /**< Precision Time Stamp is not the first item */
#define VG_KLV_P_NONMIN_LEN       0x0040u /**< outer BER length not minimal (legal) */
#define VG_KLV_P_ITEM_FLAGS       0x0080u /**< at least one item carries a warning flag */
#define VG_KLV_P_DUPLICATE        0x0100u /**< at least one tag appears twice (first one wins in vg_klv_find) */
#define VG_KLV_P_UNKNOWN_KEY      0x0200u /**< the packet's key is not one vigia decodes */

/** Checksum verdict of a packet. */
typedef enum vg_klv_cksum_status {
  VG_KLV_CK_NONE = 0, /**< the set has no checksum (EG 0104, nested sets, unknown keys) */
  VG_KLV_CK_VALID,
  VG_KLV_CK_INVALID,
  VG_KLV_CK_MISSING
} vg_klv_cksum_status;

struct vg_klv_set;

/** One item of a local set, decoded. */
typedef struct vg_klv_item {
  uint32_t tag;          /**< local tag (BER-OID); for EG 0104 the ST 0601 tag of the same meaning, pseudo-tags from 1000, 0xFFFFFFFF for unknown keys */
  uint16_t flags;        /**< VG_KLV_F_* */
  uint8_t type;          /**< vg_klv_type */
  uint8_t special;       /**< vg_klv_special */
  uint32_t len;          /**< value length on the wire (bytes) */
  size_t offset;         /**< offset of the item's tag from the start of the packet */
  const uint8_t *raw;    /**< borrowed: the value bytes (len of them); for an unknown EG 0104 key, the whole item (key, length, value) */
  union {
    uint64_t u;
    int64_t i;
    double f;
    struct {
      const char *p; /**< borrowed, not NUL-terminated */
      size_t n;
    } s;
  } v;
  const struct vg_klv_set *child; /**< borrowed: nested set, series or pack when type is VG_KLV_T_SET */
  uint32_t id;           /**< for members of a series that carry one (ST 0903 target id), else 0 */
} vg_klv_item;

/** A local set (or series, or pack): its items in wire order. */
typedef struct vg_klv_set {
  vg_klv_kind kind;
  const vg_klv_item *items; /**< borrowed */
  size_t n;
  int series;               /**< 1 when items are the members of a series (each a child set) */
} vg_klv_set;

/** A decoded KLV packet (top-level: key, length, value). */
typedef struct vg_klv_packet {
  vg_klv_kind kind;
  uint8_t key[16];          /**< the 16-byte universal label */
  uint64_t value_len;       /**< BER length of the value */
  size_t total_len;         /**< key + length + value bytes */
  size_t offset;            /**< where the packet starts in the stream (set by the scanner) */
  const uint8_t *bytes;     /**< borrowed: the whole packet */
  uint32_t flags;           /**< VG_KLV_P_* */
  vg_klv_cksum_status cksum;
  uint16_t cksum_stored, cksum_computed;
  int version;              /**< ST 0601 tag 65 / ST 0903 tag 4 / ST 0102 tag 22, or -1 */
  vg_klv_set set;           /**< top-level items */
} vg_klv_packet;

/* ---- describing tags -------------------------------------------------------------- */

/** How an item's value is coded on the wire. */
typedef enum vg_klv_fmt {
  VG_KLV_FMT_BYTES = 0,  /**< opaque bytes */
  VG_KLV_FMT_UINT,       /**< big-endian unsigned */
  VG_KLV_FMT_INT,        /**< big-endian two's complement */
  VG_KLV_FMT_UMAP,       /**< unsigned mapped linearly onto [lo, hi]: lo + x (hi-lo)/(2^n-1) */
  VG_KLV_FMT_SMAP,       /**< signed mapped symmetrically: x (hi-lo)/(2^n-2); 0x80.. reserved */
  VG_KLV_FMT_IMAPB,      /**< ST 1201 IMAPB(lo, hi, len) */
  VG_KLV_FMT_STRING,     /**< UTF-8 / ISO 646 text */
  VG_KLV_FMT_UTF16,      /**< UTF-16BE text (ST 0102 tag 13), decoded to UTF-8 */
  VG_KLV_FMT_TIME,       /**< unsigned microseconds since 1970 (MISP time) */
  VG_KLV_FMT_FLOAT,      /**< IEEE 754 big-endian, 4 or 8 bytes (EG 0104) */
  VG_KLV_FMT_SET,        /**< a nested local set */
  VG_KLV_FMT_SERIES,     /**< a series of BER-length-prefixed nested sets */
  VG_KLV_FMT_PACK        /**< a pack decoded by its own code into pseudo-tagged fields */
} vg_klv_fmt;

/** What vigia knows of one tag (ST 0601, 0102, 0903, EG 0104 tables). */
typedef struct vg_klv_tagdef {
  uint32_t tag;
  uint8_t fmt;        /**< vg_klv_fmt */
  uint8_t minlen;     /**< shortest legal value (bytes) */
  uint8_t maxlen;     /**< longest legal value (bytes); 0 = bounded only by VG_KLV_MAX_VALUE */
  uint8_t deflen;     /**< length the encoder writes (mapped, IMAPB and fixed items) */
  double lo, hi;      /**< range in natural units (mapped items: the mapping; others: validity) */
  double scale;       /**< natural = raw * scale for UINT/INT items (0 means 1) */
  const char *key;    /**< short identifier for JSON ("sensor_latitude") */
  const char *name;   /**< the standard's name ("Sensor Latitude") */
  const char *units;  /**< "deg", "m", "m/s", ... or "" */
  vg_klv_kind child;  /**< for SET / SERIES / PACK: the kind of the nested set */
} vg_klv_tagdef;

/** @return the definition of @p tag in the set @p kind, or NULL. Borrowed, static. */
const vg_klv_tagdef *vg_klv_tagdef_find(vg_klv_kind kind, uint32_t tag);
/** @return the name of @p kind ("ST 0601", ...). Static. */
const char *vg_klv_kind_name(vg_klv_kind kind);

/* ---- decoding ------------------------------------------------------------------------ */

/** Decoder handle: holds the memory of the last packet it decoded. */
typedef struct vg_klv_decoder vg_klv_decoder;

typedef struct vg_klv_decoder_opts {
  int version;      /**< set to VG_KLV_DECODER_OPTS_VERSION */
  int strict;       /**< nonzero: a bad or missing checksum is an error (VG_E_CHECKSUM) */
} vg_klv_decoder_opts;
#define VG_KLV_DECODER_OPTS_VERSION 1
#define VG_KLV_DECODER_OPTS_INIT {VG_KLV_DECODER_OPTS_VERSION, 0}

/** Creates a decoder. @p opts may be NULL (defaults). *out belongs to the caller. */
int vg_klv_decoder_new(vg_klv_decoder **out, const vg_klv_decoder_opts *opts);
/** Frees a decoder (accepts NULL). Packets it returned become invalid. */
void vg_klv_decoder_free(vg_klv_decoder *d);

/**
 * Decodes one KLV packet at the start of @p buf.
 *
 * @param[out] out       the packet, borrowed from @p d and from @p buf: valid
 *                       until the next decode on @p d, or until @p buf goes.
 *                       Not written on failure (the previous packet stays valid).
 * @param[out] consumed  bytes of the packet (set on success, and on failures
 *                       after which the stream can go on past the packet:
 *                       VG_E_MALFORMED, VG_E_CHECKSUM; 0 otherwise).
 * @return VG_OK; VG_E_TRUNCATED (need more bytes); VG_E_MALFORMED (the value
 *         does not parse; vg_error_last() says which tag and where);
 *         VG_E_LIMIT (a named limit); VG_E_CHECKSUM (strict mode only).
 */
int vg_klv_decode(vg_klv_decoder *d, const vg_klv_packet **out, const uint8_t *buf, size_t len,
                  size_t *consumed);

/**
 * Decodes a local set without key or checksum (the value of a nested item, or
 * a set found by other means) as @p kind.
 */
int vg_klv_decode_set(vg_klv_decoder *d, const vg_klv_set **out, vg_klv_kind kind,
                      const uint8_t *buf, size_t len);

/** @return the first item with @p tag in @p set, or NULL. Borrowed. */
const vg_klv_item *vg_klv_find(const vg_klv_set *set, uint32_t tag);
/**
 * Reads the item @p tag as a real in natural units.
 * @return VG_OK, VG_E_NOTFOUND (absent), VG_E_RANGE (present but a special value or out-of-range code).
 */
int vg_klv_get_real(const vg_klv_set *set, uint32_t tag, double *out);

/** @return the kind named by a 16-byte key, VG_KLV_KIND_UNKNOWN if none. */
vg_klv_kind vg_klv_key_kind(const uint8_t key[16]);
/** @return the 16-byte universal label of @p kind, or NULL if it has none. Static. */
const uint8_t *vg_klv_kind_key(vg_klv_kind kind);

/* ---- checksums ---------------------------------------------------------------------- */

/** ST 0601 checksum: 16-bit running sum, even offsets weighted 256 (big-endian words). */
uint16_t vg_klv_checksum16(const uint8_t *buf, size_t len);
/** CRC-16-CCITT (poly 0x1021, init 0xFFFF). Not used by ST 0601/0903 (running sum); kept for MISB sets that use it (ST 0806). */
uint16_t vg_klv_crc16_ccitt(const uint8_t *buf, size_t len);

/* ---- ST 1201 ---------------------------------------------------------------------- */

/**
 * IMAPB decode of @p n (1..8) bytes onto [a, b]. Sets *special (VG_KLV_SP_*;
 * @p special may be NULL) and returns the value: ±inf or NaN for specials,
 * NaN with VG_KLV_SP_RESERVED for a bad length or range.
 */
double vg_klv_imapb_decode(double a, double b, const uint8_t *buf, size_t n, int *special);
/** IMAPB encode of @p x (finite in [a, b], or ±inf / NaN) into @p n bytes. @return VG_OK, VG_E_RANGE (x outside [a, b]) or VG_E_INVALID (bad n or range). */
int vg_klv_imapb_encode(double a, double b, double x, uint8_t *out, size_t n);
/** Encodes a special value (VG_KLV_SP_*) into @p n bytes. @return VG_OK or VG_E_INVALID. */
int vg_klv_imap_encode_special(int special, uint8_t *out, size_t n);
/** IMAPA: the length in bytes for range [a, b] at precision @p g, or 0 if the arguments are invalid or need more than 8 bytes. */
size_t vg_klv_imapa_length(double a, double b, double g);

/* ---- stream scanning ------------------------------------------------------------------ */

/** Why the scanner skipped bytes. */
typedef struct vg_klv_scan_stats {
  uint64_t packets;          /**< packets returned (decoded, possibly flagged) */
  uint64_t packets_bad;      /**< packets framed but not decodable (value malformed): skipped */
  uint64_t cksum_bad;        /**< returned packets whose checksum failed */
  uint64_t cksum_missing;    /**< returned packets without the required checksum */
  uint64_t bytes_junk;       /**< bytes skipped while looking for a key */
  uint64_t resyncs;          /**< times the scanner lost and found the stream */
  uint64_t truncated_tail;   /**< bytes of an incomplete packet at end of input */
  uint64_t unknown_keys;     /**< packets with a key vigia does not decode (returned raw) */
  uint64_t gaps;             /**< discontinuities declared by the caller (vg_klv_scanner_gap) */
  uint64_t gap_bytes;        /**< bytes of unfinished packets dropped at those discontinuities */
} vg_klv_scan_stats;

/** One problem the scanner met, with its byte offset. */
typedef struct vg_klv_scan_event {
  uint64_t offset;   /**< stream offset of the problem */
  int err;           /**< VG_E_* */
  char what[160];    /**< one line: what went wrong */
} vg_klv_scan_event;

typedef struct vg_klv_scanner vg_klv_scanner;

typedef struct vg_klv_scanner_opts {
  int version;      /**< VG_KLV_SCANNER_OPTS_VERSION */
  int strict;       /**< nonzero: the first bad packet stops the scan with its error */
  int keep_unknown; /**< nonzero: packets with unknown keys are returned (kind UNKNOWN) */
  /**
   * nonzero: packets are framed, not decoded: key, BER length and (for sets
   * that have one) the checksum are checked, and the packet comes back with
   * its kind, lengths, bytes and checksum verdict but no items (version -1).
   * For callers that decode later (the TS demultiplexer decodes each packet
   * once, when it hands it out). A value that does not parse is then found
   * by that decode, not by the scanner.
   */
  int frame_only;
} vg_klv_scanner_opts;
#define VG_KLV_SCANNER_OPTS_VERSION 1
#define VG_KLV_SCANNER_OPTS_INIT {VG_KLV_SCANNER_OPTS_VERSION, 0, 1, 0}

/** Creates a scanner. *out belongs to the caller. */
int vg_klv_scanner_new(vg_klv_scanner **out, const vg_klv_scanner_opts *opts);
void vg_klv_scanner_free(vg_klv_scanner *s);
/** Appends stream bytes (copied; the scanner keeps at most one packet plus the resync window). */
int vg_klv_scanner_feed(vg_klv_scanner *s, const uint8_t *buf, size_t len);
/** Declares the end of the stream: a partial packet left is counted as truncated. */
void vg_klv_scanner_finish(vg_klv_scanner *s);
/**
 * Declares that bytes are missing at this point of the stream (a lost TS
 * packet, a PES cut short). Call after draining with vg_klv_scanner_next().
 * The unfinished packet held is dropped and counted (gap_bytes), and the
 * scanner searches for the next key instead of reading the bytes that follow
 * as the rest of that packet.
 */
void vg_klv_scanner_gap(vg_klv_scanner *s);
/**
 * Returns the next packet. @return VG_OK with *out set (borrowed until the next
 * call), VG_E_TRUNCATED when more bytes are needed (or, after finish, the
 * stream is over), or in strict mode the error of the first bad packet.
 */
int vg_klv_scanner_next(vg_klv_scanner *s, const vg_klv_packet **out);
/** @return running counts. Borrowed. */
const vg_klv_scan_stats *vg_klv_scanner_stats(const vg_klv_scanner *s);
/**
 * Pops the oldest problem the scanner recorded since the last call.
 * @return 1 and fills *ev, or 0 when none is waiting. At most
 * VG_KLV_SCAN_MAX_EVENTS are queued; older ones are dropped and counted.
 */
int vg_klv_scanner_event(vg_klv_scanner *s, vg_klv_scan_event *ev);
#define VG_KLV_SCAN_MAX_EVENTS 1024

/* ---- encoding ---------------------------------------------------------------------- */

/**
 * Encodes @p pkt (its kind, key and items) into @p out: minimal BER lengths,
 * typed items from their values, unknown items from their raw bytes, tag 66
 * never written, and for ST 0601 / standalone ST 0903 a correct checksum as
 * the last item (any checksum item in the set is ignored). Appends to @p out.
 */
int vg_klv_encode(vg_buf *out, const vg_klv_packet *pkt);
/** Encodes a local set's items without key, length or checksum (a nested value). */
int vg_klv_encode_set(vg_buf *out, const vg_klv_set *set);
/** Appends a minimal BER length. */
int vg_klv_put_ber_len(vg_buf *out, uint64_t len);
/** Appends a minimal BER-OID. */
int vg_klv_put_ber_oid(vg_buf *out, uint32_t v);

/** Builds a real-valued item for @p tag (for encoders building packets); its table gives the format. */
vg_klv_item vg_klv_item_real(uint32_t tag, double v);
vg_klv_item vg_klv_item_uint(uint32_t tag, uint64_t v);
vg_klv_item vg_klv_item_int(uint32_t tag, int64_t v);
vg_klv_item vg_klv_item_time(uint32_t tag, uint64_t us);
/** @p s is borrowed. */
vg_klv_item vg_klv_item_str(uint32_t tag, const char *s);

/* ---- the pose record ---------------------------------------------------------------- */

/** Which fields of vg_klv_pose are present (bit i = field i of the enum). */
typedef enum vg_klv_pose_field {
  VG_POSE_TIME = 0,        /**< time_us */
  VG_POSE_PLATFORM_HEADING, VG_POSE_PLATFORM_PITCH, VG_POSE_PLATFORM_ROLL,
  VG_POSE_SENSOR_LAT, VG_POSE_SENSOR_LON,
  VG_POSE_SENSOR_ALT_MSL,  /**< tag 15 */
  VG_POSE_SENSOR_ALT_HAE,  /**< tag 75 / 104 */
  VG_POSE_HFOV, VG_POSE_VFOV,
  VG_POSE_SENSOR_REL_AZ, VG_POSE_SENSOR_REL_EL, VG_POSE_SENSOR_REL_ROLL,
  VG_POSE_SLANT_RANGE, VG_POSE_TARGET_WIDTH,
  VG_POSE_FRAME_CENTER_LAT, VG_POSE_FRAME_CENTER_LON,
  VG_POSE_FRAME_CENTER_ELEV_MSL, VG_POSE_FRAME_CENTER_HAE,
  VG_POSE_CORNERS,         /**< corner_lat/lon, full (82-89) or frame centre + offsets (26-33) */
  VG_POSE_PLATFORM_DESIGNATION,
  VG_POSE_SENSOR_ABS_AZ,   /**< EG 0104 Angle to North */
  VG_POSE_SENSOR_ABS_EL,   /**< EG 0104 Obliquity Angle */
  VG_POSE_SENSOR_ABS_ROLL, /**< EG 0104 Sensor Roll Angle */
  VG_POSE_SECURITY,        /**< ST 0601 tag 48, the nested ST 0102 set: security_* */
  VG_POSE__COUNT
} vg_klv_pose_field;

/**
 * The sensor pose and footprint of one metadata packet in natural units
 * (degrees, metres, microseconds), whatever standard carried it: the record
 * the later stages (fmv alignment, geo) use.
 */
typedef struct vg_klv_pose {
  uint32_t present;            /**< bit (1u << VG_POSE_*) set when the field is valid */
  vg_klv_kind source;          /**< ST0601 or EG0104 */
  int ls_version;              /**< ST 0601 tag 65, or -1 */
  uint64_t time_us;
  double platform_heading, platform_pitch, platform_roll;   /**< deg */
  double sensor_lat, sensor_lon;                            /**< deg */
  double sensor_alt_msl, sensor_alt_hae;                    /**< m */
  double hfov, vfov;                                        /**< deg */
  double sensor_rel_az, sensor_rel_el, sensor_rel_roll;     /**< deg */
  double slant_range, target_width;                         /**< m */
  double frame_center_lat, frame_center_lon;                /**< deg */
  double frame_center_elev_msl, frame_center_hae;           /**< m */
  double corner_lat[4], corner_lon[4];                      /**< deg, points 1..4 */
  int corners_full;                                         /**< 1 from tags 82-89, 0 from offsets */
  char platform_designation[64];                            /**< NUL-terminated, cut if longer */
  /**
   * Line of sight against true north and the local horizontal, as EG 0104
   * carries it (Angle to North, Obliquity, Sensor Roll; deg). ST 0601 gives
   * the sensor relative to the platform instead (sensor_rel_*), and the
   * geometry module turns either into a ray.
   */
  double sensor_abs_az, sensor_abs_el, sensor_abs_roll;
  /**
   * The video's security marking as its ST 0102 set (ST 0601 tag 48) carries
   * it: classification (tag 1: 1 UNCLASSIFIED .. 5 TOP SECRET, 0 absent),
   * country coding method (tag 2, 0 absent), releasing instructions (tag 6)
   * and caveats (tag 5), NUL-terminated, cut if longer. lib/products makes a
   * marking of them (vg_marking_from_pose).
   */
  uint8_t security_class, security_method;
  char security_rel[128];
  char security_caveats[64];
} vg_klv_pose;

/** Fills @p out from a decoded ST 0601 or EG 0104 packet. @return VG_OK or VG_E_UNSUPPORTED. */
int vg_klv_pose_from_packet(vg_klv_pose *out, const vg_klv_packet *pkt);
/** @return nonzero when @p f is present in @p p. */
static inline int vg_klv_pose_has(const vg_klv_pose *p, vg_klv_pose_field f)
{
  return (p->present >> f) & 1u;
}

/* ---- JSON ------------------------------------------------------------------------ */

/** Writes @p pkt as one JSON object (tags, names, values with units, flags, checksum). */
int vg_klv_packet_to_json(vg_jw *w, const vg_klv_packet *pkt);
/** The members of that object without its braces, for callers that add their own (stream, PTS). */
int vg_klv_packet_json_fields(vg_jw *w, const vg_klv_packet *pkt);
/** Names of the set flags of an item, comma-separated into @p dst. */
size_t vg_klv_item_flag_names(char *dst, size_t cap, unsigned flags);
/** Name of a special value ("out_of_range", "+inf", ...). Static. */
const char *vg_klv_special_name(int special);

#ifdef __cplusplus
}
#endif
#endif
