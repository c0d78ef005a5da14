/*
 * lib/klv internals shared by the files of the module: the arena that holds a
 * decoded packet, the decoding context, and the description of each kind of
 * local set (its tag table and the hooks for its packs).
 */
#ifndef VG_KLV_INT_H
#define VG_KLV_INT_H

#include "util/rd.h"
#include "vigia/klv.h"

/* ---- arena ------------------------------------------------------------------ */

/*
 * Memory of one decoded packet. It only grows while a packet is decoded and
 * is reset (keeping its biggest block) before the next, so a steady stream
 * allocates nothing. Capped: a hostile packet cannot make it grow past
 * VG_KLV_ARENA_MAX (items are at most 2 bytes each on the wire, so 16 MiB of
 * value is at most 8 M items; a real packet needs a few KB).
 */
#define VG_KLV_ARENA_MAX ((size_t)256 << 20)

typedef struct vg__arena_blk {
  struct vg__arena_blk *next;
  size_t cap, used;
  /* data follows, max_align_t aligned */
} vg__arena_blk;

typedef struct vg__arena {
  vg__arena_blk *head;
  size_t total; /* bytes allocated in blocks */
  int err;      /* VG_E_NOMEM or VG_E_LIMIT after a failed allocation, until reset */
} vg__arena;

void vg__arena_init(vg__arena *a);
void vg__arena_reset(vg__arena *a);
void vg__arena_free(vg__arena *a);
/* Zeroed memory of n bytes, or NULL with a->err set to VG_E_LIMIT (VG_KLV_ARENA_MAX) or VG_E_NOMEM. */
void *vg__arena_alloc(vg__arena *a, size_t n);

/* ---- decoding ---------------------------------------------------------------- */

typedef struct vg__klv_ctx {
  vg__arena *arena;
  const uint8_t *base; /* start of the packet, for item offsets */
  int depth;           /* nesting depth of the set being decoded */
  uint32_t pflags;     /* VG_KLV_P_* gathered while decoding */
} vg__klv_ctx;

struct vg__klv_setdef;

/*
 * Decodes the value of one item (it->tag, it->raw, it->len, it->offset set)
 * by its definition @p td into it->type / v / special / flags / child.
 * A value that cannot be read as its definition says (wrong length for a
 * fixed format, nested set that does not parse) is kept raw with a flag:
 * never an error. Errors are only VG_E_NOMEM / VG_E_LIMIT.
 */
typedef int (*vg__klv_pack_dec_fn)(vg__klv_ctx *c, const vg_klv_tagdef *td, vg_klv_item *it);
/* Appends the value bytes of @p it (a PACK item) to @p out. */
typedef int (*vg__klv_pack_enc_fn)(vg_buf *out, const vg_klv_tagdef *td, const vg_klv_item *it);
/* Decodes a whole set whose framing is not tag/BER-length/value (EG 0104: 16-byte keys). */
typedef int (*vg__klv_set_dec_fn)(vg__klv_ctx *c, const struct vg__klv_setdef *sd,
                                  const uint8_t *buf, size_t len, vg_klv_set *out);
typedef int (*vg__klv_set_enc_fn)(vg_buf *out, const struct vg__klv_setdef *sd,
                                  const vg_klv_set *set);
/* Name (and *units) of field @p field of the pack decoded from item @p parent_tag, or NULL. */
typedef const char *(*vg__klv_pack_field_fn)(uint32_t parent_tag, uint32_t field, const char **units);

/* Everything vigia knows of one kind of set. */
typedef struct vg__klv_setdef {
  vg_klv_kind kind;
  const char *name;           /* "ST 0601" */
  const uint8_t *key;         /* 16-byte UL when it exists as a top-level packet, else NULL */
  const vg_klv_tagdef *tags;  /* sorted by tag */
  size_t ntags;
  uint32_t cksum_tag;         /* tag of the 16-bit running-sum checksum at top level, 0 if none */
  uint32_t version_tag;       /* tag of the version item, 0 if none */
  uint32_t time_tag;          /* tag of the precision time stamp that must come first, 0 if none */
  vg__klv_pack_dec_fn pack_dec;  /* decoder of this set's FMT_PACK items, or NULL (kept raw) */
  vg__klv_pack_enc_fn pack_enc;  /* encoder of this set's FMT_PACK items, or NULL (raw written) */
  vg__klv_set_dec_fn set_dec;    /* whole-set decoder when the framing is not local-set, or NULL */
  vg__klv_set_enc_fn set_enc;
  vg__klv_pack_field_fn pack_field; /* names of pack fields for JSON, or NULL */
} vg__klv_setdef;

/* @return the set description of @p kind, or NULL. */
const vg__klv_setdef *vg__klv_setdef_of(vg_klv_kind kind);
/* Binary search in a sorted tag table. */
const vg_klv_tagdef *vg__klv_tag_lookup(const vg__klv_setdef *sd, uint32_t tag);

/* The set descriptions, one per file (st0601.c, st0102.c, st0903.c, eg0104.c). */
extern const vg__klv_setdef vg__klv_st0601;
extern const vg__klv_setdef vg__klv_st0102;
extern const vg__klv_setdef vg__klv_st0903;
extern const vg__klv_setdef vg__klv_st0903_vtarget;
extern const vg__klv_setdef vg__klv_st0903_algorithm;
extern const vg__klv_setdef vg__klv_st0903_ontology;
extern const vg__klv_setdef vg__klv_st0903_vtracker;
extern const vg__klv_setdef vg__klv_st0903_vobject;
extern const vg__klv_setdef vg__klv_st0903_vfeature;
extern const vg__klv_setdef vg__klv_st0903_vchip;
extern const vg__klv_setdef vg__klv_eg0104;

/*
 * Decodes a local set (BER-OID tag, BER length, value, repeated) of @p kind
 * from @p buf into @p out (items allocated in the arena). An item whose
 * length runs past the set is VG_E_MALFORMED with the tag and offset in
 * vg_error_last(); nothing is read outside @p buf. Depth is limited by
 * VG_KLV_MAX_DEPTH.
 */
int vg__klv_set_decode(vg__klv_ctx *c, vg_klv_kind kind, const uint8_t *buf, size_t len,
                       vg_klv_set *out);
/* Decodes a series: repeated (BER length, [BER-OID id if with_id], set of @p kind). */
int vg__klv_series_decode(vg__klv_ctx *c, vg_klv_kind kind, int with_id, const uint8_t *buf,
                          size_t len, vg_klv_set *out);
/* Decodes one item's value by the generic formats (see vg__klv_pack_dec_fn). */
int vg__klv_value_decode(vg__klv_ctx *c, const vg__klv_setdef *sd, const vg_klv_tagdef *td,
                         vg_klv_item *it);
/* Appends the value bytes of one item by the generic formats. */
int vg__klv_value_encode(vg_buf *out, const vg__klv_setdef *sd, const vg_klv_tagdef *td,
                         const vg_klv_item *it);
/* Appends tag (BER-OID), minimal BER length and value of every item of @p set. */
int vg__klv_set_encode(vg_buf *out, const vg__klv_setdef *sd, const vg_klv_set *set,
                       uint32_t skip_tag);

/* A numeric item as a double (packet.c): VG_E_RANGE for non-numeric types. */
int vg__klv_item_real(const vg_klv_item *it, double *out);

/* Mapped-integer helpers shared by the tables (ST 0601 §6, ST 0903 §8). */
double vg__klv_umap_decode(double lo, double hi, uint64_t x, size_t n);
double vg__klv_smap_decode(double lo, double hi, int64_t x, size_t n);
int vg__klv_umap_encode(double lo, double hi, double v, size_t n, uint64_t *x);
int vg__klv_smap_encode(double lo, double hi, double v, size_t n, int64_t *x);

/* Allocates a pack's child set of @p n pseudo-tagged items in the arena. */
vg_klv_item *vg__klv_pack_items(vg__klv_ctx *c, vg_klv_item *parent, size_t n);

#endif
