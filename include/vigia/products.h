/*
 * vigia — products and their markings: what may leave, to whom, in which form.
 *
 * Every product carries a marking (classification, releasable-to set of GENC
 * alpha-3 codes, caveats, TLP). One function decides every release
 * (vg_release_allowed): pure, default-deny. Derived products take the highest
 * classification and the intersection of the releasable-to sets of their
 * inputs; anything unmarked is not releasable (research/sharing.md 4).
 */
#ifndef VIGIA_PRODUCTS_H
#define VIGIA_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/klv.h"
#include "vigia/sites.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- markings (lib/products/marking.c) --------------------------------------------------- */

/** Classification levels, ordered. UNMARKED ranks above TOP SECRET: nothing unmarked leaves. */
typedef enum vg_class {
  VG_CLASS_U = 1,  /**< UNCLASSIFIED */
  VG_CLASS_R,      /**< RESTRICTED */
  VG_CLASS_C,      /**< CONFIDENTIAL */
  VG_CLASS_S,      /**< SECRET */
  VG_CLASS_TS,     /**< TOP SECRET */
  VG_CLASS_UNMARKED /**< no marking at all (or one that did not parse) */
} vg_class;

/** Traffic Light Protocol 2.0 (what a recipient may pass on), ordered from least restrictive. */
typedef enum vg_tlp {
  VG_TLP_NONE = 0, /**< not stated */
  VG_TLP_CLEAR,
  VG_TLP_GREEN,
  VG_TLP_AMBER,
  VG_TLP_AMBER_STRICT,
  VG_TLP_RED
} vg_tlp;

#define VG_MARKING_MAX_REL 64     /**< countries in a releasable-to set */
#define VG_MARKING_MAX_CAVEATS 8  /**< dissemination caveats */
#define VG_MARKING_CAVEAT_LEN 16  /**< bytes of a caveat, NUL included */
#define VG_MARKING_BANNER_MAX 512 /**< bytes of a formatted banner, NUL included */

typedef struct vg_marking {
  vg_class cls;
  int nrel;                         /**< 0: releasable to nobody but the originator */
  char rel[VG_MARKING_MAX_REL][4];  /**< GENC alpha-3, upper case, sorted (USA first), unique */
  int noforn;                       /**< NOFORN: never released (exclusive with REL TO) */
  int ncaveats;
  char caveats[VG_MARKING_MAX_CAVEATS][VG_MARKING_CAVEAT_LEN]; /**< sorted, unique, e.g. "FOUO" */
  vg_tlp tlp;
} vg_marking;

/** The unmarked marking (nothing releasable). */
void vg_marking_unmarked(vg_marking *m);

/**
 * Strict parse of a banner: `CLASSIFICATION[//CAVEAT[/CAVEAT...]][//NOFORN | //REL TO USA, XXX, ...][//TLP:LEVEL]`,
 * e.g. "UNCLASSIFIED//REL TO USA, MEX", "SECRET//NOFORN", "CONFIDENTIAL//FOUO//REL TO USA, GBR//TLP:AMBER+STRICT".
 * Exact case and spacing; classification words spelled out; REL TO lists
 * known GENC alpha-3 codes, USA first, the rest in alphabetical order, no
 * duplicates, never empty; NOFORN and REL TO exclusive; known caveats only;
 * no empty block, no trailing separator. @return VG_OK, or VG_E_MALFORMED
 * naming the offending token and its byte offset (*out then unmarked).
 */
int vg_marking_parse(const char *banner, vg_marking *out);
/** The canonical banner of @p m (what vg_marking_parse reads back to the same marking). */
int vg_marking_format(const vg_marking *m, char *out, size_t cap);
/** Derives @p acc with @p in: highest classification, intersection of REL TO, union of caveats, NOFORN if either, most restrictive TLP. */
void vg_marking_derive(vg_marking *acc, const vg_marking *in);
/**
 * The marking of a video from its ST 0102 security set (ST 0601 tag 48, or
 * stand-alone): classification (tag 1), releasing instructions (tag 6, space
 * separated country codes; the coding method of tag 2 must be GENC or ISO
 * alpha-3), caveats (tag 5). VG_E_MALFORMED when anything is missing or
 * unknown; the caller then has an unmarked product.
 */
int vg_marking_from_st0102(const vg_klv_set *set, vg_marking *out);

/** Who asks: a partner (GENC alpha-3 code and the highest level it is cleared for). */
typedef struct vg_recipient {
  char country[4];   /**< GENC alpha-3 */
  vg_class cleared;  /**< the highest classification it may receive */
} vg_recipient;

/**
 * The one release decision: 1 when @p m may go to @p r, else 0. Default deny:
 * unmarked, NOFORN, a country not in REL TO, a level above the recipient's
 * clearance, TLP:RED all deny; @p why (may be NULL, at least 128 bytes) says
 * which rule decided.
 */
int vg_release_allowed(const vg_marking *m, const vg_recipient *r, char *why);
/** The version of the release rules above, recorded with every decision in the audit chain. */
#define VG_RELEASE_POLICY "vigia-release-1"

/** Whether @p code is a GENC alpha-3 country code vigia knows. */
int vg_genc3_known(const char *code);
/**
 * The marking of a video from its pose record's ST 0102 fields
 * (VG_POSE_SECURITY): the same rules as vg_marking_from_st0102.
 */
int vg_marking_from_pose(const vg_klv_pose *p, vg_marking *out);

/* ---- products of sites (lib/products/site.c, write.c) ------------------------------------ */

/** A site as a product holds it: the register's record and the marking derived from its sources. */
typedef struct vg_product_site {
  vg_site site;
  vg_marking marking;
  char banner[VG_MARKING_BANNER_MAX];
  double ce90_m; /**< vg_geo_ce90(site.cov_en), set by vg_products_collect (0: writers compute it) */
} vg_product_site;

/**
 * The marking of a site: vg_marking_derive over the markings of all its
 * observations (vg_register_site_markings); an unmarked or unparsable one
 * makes the site unmarked.
 */
int vg_site_marking(vg_register *reg, int64_t site_id, vg_marking *out);

/** One release decision taken while collecting (for the audit chain). */
typedef struct vg_release_event {
  int64_t site_id;
  int allowed;
  const char *banner;  /**< the site's marking */
  const char *why;     /**< vg_release_allowed's reason */
} vg_release_event;
typedef void (*vg_release_fn)(void *ud, const vg_release_event *e);

/**
 * The live sites (candidate or confirmed) in the box (deg: lat0, lat1, lon0,
 * lon1) released to @p r: each site's marking derived from its sources, then
 * vg_release_allowed. @p fn (may be NULL) hears every decision, denials
 * included. *out malloc'd (free()).
 */
int vg_products_collect(vg_register *reg, const double box[4], const vg_recipient *r, vg_release_fn fn,
                        void *ud, vg_product_site **out, size_t *n);

/**
 * A cache of derived site markings for repeated collections (a server): an entry holds while
 * the site's observation count is unchanged (a marking changes only when an observation
 * joins the site). Not thread-safe: serialise its users (as the register connection is).
 */
typedef struct vg_marking_cache vg_marking_cache;
int vg_marking_cache_new(vg_marking_cache **out);
void vg_marking_cache_free(vg_marking_cache *c);
/** Lookups answered from the cache and derived from the register, since it was made. */
void vg_marking_cache_stats(const vg_marking_cache *c, uint64_t *hits, uint64_t *misses);
/** vg_products_collect with @p cache (may be NULL: derive every site's marking). */
int vg_products_collect_cached(vg_register *reg, const double box[4], const vg_recipient *r, vg_release_fn fn,
                               void *ud, vg_marking_cache *cache, vg_product_site **out, size_t *n);

typedef enum vg_product_format {
  VG_PRODUCT_GEOJSON = 0, /**< RFC 7946 FeatureCollection, markings in the properties */
  VG_PRODUCT_KML,         /**< KML 2.2, the banner as the document name, markings in ExtendedData */
  VG_PRODUCT_COT,         /**< Cursor on Target 2.0 events back to back (TAK protocol v0 stream) */
  VG_PRODUCT_STIX,        /**< STIX 2.1 bundle: statement + TLP markings, identity, per site location,
                               infrastructure, relationship and sighting, one grouping */
  VG_PRODUCT_HTML,        /**< one self-contained HTML page (no external request): banner top and
                               bottom, table of sites with their markings and image chips (data:
                               URIs), inline SVG map; needs vg_product_write_reg */
  VG_PRODUCT_KMZ          /**< ZIP of doc.kml (the KML product, each Placemark's description showing
                               its chip) and files/site-ID.png; needs vg_product_write_reg */
} vg_product_format;

/** "geojson", "kml", "cot", "stix", "html", "kmz" -> format; VG_E_INVALID otherwise. */
int vg_product_format_parse(const char *s, vg_product_format *out);

typedef struct vg_product_opts {
  int version;         /**< VG_PRODUCT_OPTS_VERSION */
  const char *title;   /**< document title (NULL: "vigia sites") */
  int64_t now_us;      /**< generation time (0: the clock), for reproducible products */
  int64_t stale_s;     /**< CoT: stale this long after generation (0: 24 h) */
  int exercise;        /**< CoT: opex "e-" (exercise, test fixtures) instead of "o-" */
} vg_product_opts;
#define VG_PRODUCT_OPTS_VERSION 1
#define VG_PRODUCT_OPTS_INIT {VG_PRODUCT_OPTS_VERSION, NULL, 0, 0, 0}

/**
 * Writes @p n sites (already released to their recipient) as one product;
 * its own marking is the derivation of theirs, stated in the product
 * (banner, TLP). Appends to @p out.
 */
int vg_product_write(vg_buf *out, vg_product_format f, const vg_product_site *s, size_t n,
                     const vg_product_opts *o);
/**
 * vg_product_write for every format, the ones that show the sites' image
 * chips too (VG_PRODUCT_HTML, VG_PRODUCT_KMZ; vg_product_write refuses them
 * with VG_E_INVALID): each site's chip is vg_register_site_chip's (its
 * highest-score observation with one; only PNGs are shown), read from
 * @p reg, which those formats require (the others ignore it, may be NULL).
 */
int vg_product_write_reg(vg_buf *out, vg_product_format f, vg_register *reg, const vg_product_site *s, size_t n,
                         const vg_product_opts *o);

#ifdef __cplusplus
}
#endif
#endif
