/*
 * Markings: vigia's strict banner grammar, the derive rule, the release
 * decision and the marking of a video from its MISB ST 0102 security set
 * (include/vigia/products.h; docs/formats/markings.md; research/sharing.md 4).
 *
 * Banner grammar. This is vigia's own strict subset of a CAPCO-style banner,
 * not CAPCO: one spelling per marking, so that the text a partner reads and
 * the struct the release check decides on cannot disagree. The canonical form
 * is exactly what vg_marking_format writes, and nothing else parses:
 *
 *   banner  = class [ "//" caveats ] [ "//" dissem ] [ "//TLP:" level ]
 *   class   = "UNCLASSIFIED" | "RESTRICTED" | "CONFIDENTIAL" | "SECRET" | "TOP SECRET"
 *   caveats = caveat *( "/" caveat )      known caveats, strictly ascending (strcmp)
 *   caveat  = "FOUO" | "IMCON" | "LES" | "ORCON" | "PROPIN" | "RELIDO"
 *   dissem  = "NOFORN" | "REL TO " code *( ", " code )
 *             codes: known GENC alpha-3, "USA" first when present, the others
 *             strictly ascending: no duplicates, never empty
 *   level   = "CLEAR" | "GREEN" | "AMBER" | "AMBER+STRICT" | "RED"
 *
 * A whole banner is at most VG_MARKING_BANNER_MAX - 1 bytes. Real CAPCO also
 * has portion marks ("U", "S//REL"), SCI and SAP blocks, FGI, joint and
 * non-US classifications, tetragraphs (FVEY, NATO), and NOFORN and REL TO in
 * the same "/" category as ORCON; vigia refuses everything outside the grammar
 * above. Unlike CAPCO, a REL TO list need not hold USA: the intersection of a
 * derived marking may drop it, and must still be written.
 *
 * ST 0102 mapping (ST 0102.12; tags in lib/klv/st0102.c):
 *   tag 1 classification 1..5    -> cls (same numbering as vg_class); required
 *   tag 2 country coding method  -> 0x0E GENC three-letter or 0x02 ISO-3166
 *                                   three-letter only; required
 *   tag 4 SCI/SHI                -> must be absent or empty (vigia cannot carry it)
 *   tag 5 caveats                -> known caveats separated by '/' or ' '
 *   tag 6 releasing instructions -> space-separated trigraphs ("USA MEX"), or
 *                                   "NOFORN" alone; absent or empty: REL TO nobody
 * Each of those tags at most once. Anything else is refused: the product is
 * then unmarked, and an unmarked product never leaves.
 */
#include "vigia/products.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "why" buffer of vg_release_allowed (products.h: at least 128 bytes). */
#define WHY_MAX 128
/* Longest token quoted in an error message (the rest elided). */
#define TOK_SHOW_MAX 40

/* Banner words, indexed by vg_class / vg_tlp. */
static const char *const class_names[] = {
    NULL, "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET",
};
static const char *const tlp_names[] = {
    NULL, "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED",
};

/*
 * The one table of caveats vigia knows, in strcmp order: the order of the
 * banner, of vg_marking.caveats, and of the union in vg_marking_derive.
 */
static const char *const caveat_names[] = {"FOUO", "IMCON", "LES", "ORCON", "PROPIN", "RELIDO"};
#define N_CAVEATS (sizeof caveat_names / sizeof caveat_names[0])
/* The union of any two markings' caveats fits: derive never runs out of room. */
_Static_assert(N_CAVEATS <= VG_MARKING_MAX_CAVEATS, "known caveats exceed VG_MARKING_MAX_CAVEATS");

/*
 * Country trigraphs, sorted (binary search in vg_genc3_known). Generated once
 * from iso-codes 4.15.0 /usr/share/iso-codes/json/iso_3166-1.json (all 249
 * ISO 3166-1 alpha-3 codes) and committed here: never read at run time. GENC
 * uses the same trigraphs for these countries; the few GENC-only entities
 * (e.g. XKS Kosovo) are not in the list, so vigia refuses them.
 */
static const char genc3[][4] = {
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
};
#define N_GENC3 (sizeof genc3 / sizeof genc3[0])

/* ---- small helpers -------------------------------------------------------------- */

/* Copies token [p, p+n) for a message: printable ASCII, others as '?', long ones elided. */
static const char *tok_show(char *dst, const char *p, size_t n)
{
  size_t k = n > TOK_SHOW_MAX ? TOK_SHOW_MAX : n, i;
  for (i = 0; i < k; i++)
    dst[i] = (p[i] >= 0x20 && p[i] < 0x7F) ? p[i] : '?';
  if (k < n) {
    memcpy(dst + k, "...", 3);
    k += 3;
  }
  dst[k] = '\0';
  return dst;
}

static int is_upper3(const char *p)
{
  return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z' && p[2] >= 'A' && p[2] <= 'Z';
}

static int cmp3(const void *a, const void *b)
{
  return memcmp(a, b, 3);
}

/* Whether the 3 bytes at @p p are a known trigraph (upper case checked by the caller). */
static int genc3_has(const char *p)
{
  return bsearch(p, genc3, N_GENC3, sizeof genc3[0], cmp3) != NULL;
}

int vg_genc3_known(const char *code)
{
  if (!code || !(code[0] >= 'A' && code[0] <= 'Z') || !(code[1] >= 'A' && code[1] <= 'Z') ||
      !(code[2] >= 'A' && code[2] <= 'Z') || code[3] != '\0')
    return 0;
  return genc3_has(code);
}

/* Canonical REL TO order: "USA" first, the others by strcmp. */
static int rel_cmp(const char *a, const char *b)
{
  int ua = memcmp(a, "USA", 3) == 0, ub = memcmp(b, "USA", 3) == 0;
  if (ua || ub)
    return ub - ua;
  return memcmp(a, b, 3);
}

/* Index of the caveat spelled [p, p+n), or -1. */
static int caveat_index(const char *p, size_t n)
{
  for (size_t i = 0; i < N_CAVEATS; i++)
    if (strlen(caveat_names[i]) == n && memcmp(caveat_names[i], p, n) == 0)
      return (int)i;
  return -1;
}

/* Index of the word [p, p+n) in a NULL-first name table, or 0. */
static int name_index(const char *const *names, size_t count, const char *p, size_t n)
{
  for (size_t i = 1; i < count; i++)
    if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0)
      return (int)i;
  return 0;
}

static int in_rel(const vg_marking *m, const char *code)
{
  for (int i = 0; i < m->nrel; i++)
    if (memcmp(m->rel[i], code, 3) == 0)
      return 1;
  return 0;
}

/*
 * Whether @p m is a well-formed marked marking (the struct contract of
 * products.h): NULL when it is, else what is wrong. Unmarked is not.
 */
static const char *marking_invalid(const vg_marking *m)
{
  if (m->cls == VG_CLASS_UNMARKED)
    return "unmarked";
  if (m->cls < VG_CLASS_U || m->cls > VG_CLASS_TS)
    return "classification out of range";
  if (m->nrel < 0 || m->nrel > VG_MARKING_MAX_REL)
    return "nrel out of range";
  if (m->noforn != 0 && m->noforn != 1)
    return "noforn is not 0 or 1";
  if (m->noforn && m->nrel)
    return "NOFORN together with REL TO";
  for (int i = 0; i < m->nrel; i++) {
    if (!vg_genc3_known(m->rel[i]))
      return "unknown country code in rel";
    if (i > 0 && rel_cmp(m->rel[i - 1], m->rel[i]) >= 0)
      return "rel not in canonical order (USA first, then ascending, unique)";
  }
  if (m->ncaveats < 0 || m->ncaveats > VG_MARKING_MAX_CAVEATS)
    return "ncaveats out of range";
  for (int i = 0; i < m->ncaveats; i++) {
    const char *c = m->caveats[i];
    if (!memchr(c, 0, VG_MARKING_CAVEAT_LEN) || caveat_index(c, strlen(c)) < 0)
      return "unknown caveat";
    if (i > 0 && strcmp(m->caveats[i - 1], c) >= 0)
      return "caveats not ascending and unique";
  }
  if (m->tlp < VG_TLP_NONE || m->tlp > VG_TLP_RED)
    return "TLP out of range";
  return NULL;
}

void vg_marking_unmarked(vg_marking *m)
{
  if (!m)
    return;
  memset(m, 0, sizeof *m);
  m->cls = VG_CLASS_UNMARKED;
  m->tlp = VG_TLP_NONE;
}

/* ---- parse ---------------------------------------------------------------------- */

/* After the classification, the earliest block still allowed: blocks come in this order, each once. */
enum { ST_CAVEATS = 1, ST_DISSEM, ST_TLP };

/* Fails the parse: "marking: <what> '<token>' at byte <off>". */
static int bad(const char *what, const char *banner, size_t off, size_t n)
{
  char t[TOK_SHOW_MAX + 4];
  return vg_error_set(VG_E_MALFORMED, "marking: %s '%s' at byte %zu", what, tok_show(t, banner + off, n),
                      off);
}

static int parse_caveats(const char *b, size_t s, size_t e, vg_marking *m)
{
  size_t p = s;
  for (;;) {
    size_t q = p;
    int k;
    while (q < e && b[q] != '/')
      q++;
    if (q == p)
      return bad("empty caveat", b, p, q < e ? 1 : 0);
    if ((k = caveat_index(b + p, q - p)) < 0) {
      if ((q - p == 6 && memcmp(b + p, "NOFORN", 6) == 0) || (q - p >= 6 && memcmp(b + p, "REL TO", 6) == 0))
        return bad("NOFORN and REL TO need their own '//' block, not a caveat", b, p, q - p);
      return bad("unknown caveat", b, p, q - p);
    }
    if (m->ncaveats > 0) {
      int c = strcmp(m->caveats[m->ncaveats - 1], caveat_names[k]);
      if (c == 0)
        return bad("duplicate caveat", b, p, q - p);
      if (c > 0)
        return bad("caveat out of alphabetical order", b, p, q - p);
    }
    /* at most N_CAVEATS distinct ascending ones: fits (static assert above) */
    memcpy(m->caveats[m->ncaveats], caveat_names[k], strlen(caveat_names[k])); /* zeroed: NUL stays */
    m->ncaveats++;
    if (q == e)
      return VG_OK;
    p = q + 1;
    if (p == e)
      return bad("trailing '/' after caveat", b, q, 1);
  }
}

/* [s, e) is "REL TO " plus at least one byte. */
static int parse_rel(const char *b, size_t s, size_t e, vg_marking *m)
{
  size_t p = s;
  for (;;) {
    size_t q = p;
    while (q < e && b[q] != ',')
      q++;
    if (q - p != 3 || !is_upper3(b + p))
      return bad("not a country trigraph (upper case, separated by ', ')", b, p, q - p);
    if (!genc3_has(b + p))
      return bad("unknown country code", b, p, 3);
    if (m->nrel >= VG_MARKING_MAX_REL)
      return bad("country beyond VG_MARKING_MAX_REL (64) in REL TO", b, p, 3);
    if (m->nrel > 0) {
      int c = rel_cmp(m->rel[m->nrel - 1], b + p);
      if (c == 0)
        return bad("duplicate country code", b, p, 3);
      if (c > 0)
        return bad(memcmp(b + p, "USA", 3) == 0 ? "USA not first in REL TO"
                                                : "country code out of alphabetical order",
                   b, p, 3);
    }
    memcpy(m->rel[m->nrel], b + p, 3);
    m->rel[m->nrel][3] = '\0';
    m->nrel++;
    if (q == e)
      return VG_OK;
    if (q + 1 >= e || b[q + 1] != ' ')
      return bad("expected ', ' between country codes", b, q, 1);
    p = q + 2;
    if (p == e)
      return bad("trailing ', ' in REL TO", b, q, 2);
  }
}

int vg_marking_parse(const char *banner, vg_marking *out)
{
  vg_marking m;
  const char *d;
  size_t len = 0, s, e;
  int stage = ST_CAVEATS, prev_noforn = 0, rc, c;
  if (!out)
    return vg_error_set(VG_E_INVALID, "vg_marking_parse: out is NULL");
  vg_marking_unmarked(out);
  if (!banner)
    return vg_error_set(VG_E_MALFORMED, "marking: banner is NULL");
  while (len < VG_MARKING_BANNER_MAX && banner[len])
    len++;
  if (len >= VG_MARKING_BANNER_MAX) {
    char t[TOK_SHOW_MAX + 4];
    return vg_error_set(VG_E_MALFORMED,
                        "marking: banner '%s' longer than VG_MARKING_BANNER_MAX - 1 (%d) bytes at byte %d",
                        tok_show(t, banner, 16), VG_MARKING_BANNER_MAX - 1, VG_MARKING_BANNER_MAX - 1);
  }
  vg_marking_unmarked(&m);
  /* the first block, up to the first "//" or the end, is the classification */
  d = strstr(banner, "//");
  e = d ? (size_t)(d - banner) : len;
  if (e == 0)
    return bad("missing classification before", banner, 0, d ? 2 : 0);
  if (!(c = name_index(class_names, sizeof class_names / sizeof class_names[0], banner, e)))
    return bad("unknown classification (spelled out, upper case)", banner, 0, e);
  m.cls = (vg_class)c;
  /* then each block [s, e) runs to the next "//" or the end */
  while (d) {
    const char *b;
    size_t n;
    s = e + 2;
    d = strstr(banner + s, "//");
    e = d ? (size_t)(d - banner) : len;
    n = e - s;
    b = banner + s;
    if (n == 0)
      return d ? bad("empty block", banner, s - 2, 4) : bad("trailing", banner, s - 2, 2);
    if (n >= 4 && memcmp(b, "TLP:", 4) == 0) {
      int t;
      if (stage > ST_TLP)
        return bad("duplicate TLP block", banner, s, n);
      if (!(t = name_index(tlp_names, sizeof tlp_names / sizeof tlp_names[0], b + 4, n - 4)))
        return bad("unknown TLP level", banner, s + 4, n - 4);
      m.tlp = (vg_tlp)t;
      stage = ST_TLP + 1;
    } else if ((n == 6 && memcmp(b, "NOFORN", 6) == 0) || (n >= 6 && memcmp(b, "REL TO", 6) == 0)) {
      int nf = b[0] == 'N';
      if (stage > ST_TLP)
        return bad("dissemination block after the TLP block", banner, s, n);
      if (stage > ST_DISSEM) {
        if (nf == prev_noforn)
          return bad(nf ? "duplicate NOFORN" : "duplicate REL TO block", banner, s, n);
        return bad(nf ? "NOFORN together with REL TO" : "REL TO together with NOFORN", banner, s, n);
      }
      if (nf) {
        m.noforn = 1;
      } else {
        if (n == 6 || (n == 7 && b[6] == ' '))
          return bad("empty REL TO", banner, s, n);
        if (b[6] != ' ')
          return bad("expected one space after REL TO", banner, s, n);
        if ((rc = parse_rel(banner, s + 7, e, &m)) != VG_OK)
          return rc;
      }
      prev_noforn = nf;
      stage = ST_DISSEM + 1;
    } else {
      if (stage > ST_CAVEATS)
        return bad(stage > ST_DISSEM + 1 ? "caveats after the TLP block"
                   : stage > ST_DISSEM   ? "caveats after the NOFORN / REL TO block"
                                         : "second caveats block (use '/' within one block)",
                   banner, s, n);
      if ((rc = parse_caveats(banner, s, e, &m)) != VG_OK)
        return rc;
      stage = ST_CAVEATS + 1;
    }
  }
  *out = m;
  return VG_OK;
}

/* ---- format --------------------------------------------------------------------- */

typedef struct wr {
  char *p;
  size_t cap, n; /* n counts every byte asked for, written or not */
} wr;

static void put(wr *w, const char *s)
{
  size_t k = strlen(s);
  if (w->n + k < w->cap)
    memcpy(w->p + w->n, s, k);
  w->n += k;
}

int vg_marking_format(const vg_marking *m, char *out, size_t cap)
{
  wr w = {out, cap, 0};
  const char *why;
  if (out && cap)
    out[0] = '\0';
  if (!m || !out)
    return vg_error_set(VG_E_INVALID, "vg_marking_format: %s is NULL", m ? "out" : "marking");
  if ((why = marking_invalid(m)) != NULL)
    return vg_error_set(VG_E_INVALID, "vg_marking_format: cannot format the marking: %s", why);
  put(&w, class_names[m->cls]);
  for (int i = 0; i < m->ncaveats; i++) {
    put(&w, i ? "/" : "//");
    put(&w, m->caveats[i]);
  }
  if (m->noforn)
    put(&w, "//NOFORN");
  for (int i = 0; i < m->nrel; i++) {
    put(&w, i ? ", " : "//REL TO ");
    put(&w, m->rel[i]);
  }
  if (m->tlp != VG_TLP_NONE) {
    put(&w, "//TLP:");
    put(&w, tlp_names[m->tlp]);
  }
  if (w.n >= cap) {
    if (cap)
      out[0] = '\0';
    return vg_error_set(VG_E_LIMIT, "vg_marking_format: the banner needs %zu bytes, the buffer has %zu",
                        w.n + 1, cap);
  }
  out[w.n] = '\0';
  return VG_OK;
}

/* ---- derive --------------------------------------------------------------------- */

void vg_marking_derive(vg_marking *acc, const vg_marking *in)
{
  vg_marking r;
  int i, j;
  if (!acc)
    return;
  /* an unmarked, missing or malformed input makes the product unmarked (the STIG rule) */
  if (!in || marking_invalid(acc) || marking_invalid(in)) {
    vg_marking_unmarked(acc);
    return;
  }
  memset(&r, 0, sizeof r);
  r.cls = acc->cls > in->cls ? acc->cls : in->cls;
  r.tlp = acc->tlp > in->tlp ? acc->tlp : in->tlp;
  r.noforn = acc->noforn || in->noforn;
  if (!r.noforn) /* intersection, in acc's (canonical) order */
    for (i = 0; i < acc->nrel; i++)
      if (in_rel(in, acc->rel[i]))
        memcpy(r.rel[r.nrel++], acc->rel[i], 4);
  /* union of two ascending lists of known caveats: at most N_CAVEATS */
  for (i = 0, j = 0; i < acc->ncaveats || j < in->ncaveats;) {
    const char *c;
    int d = i == acc->ncaveats ? 1 : j == in->ncaveats ? -1 : strcmp(acc->caveats[i], in->caveats[j]);
    c = d <= 0 ? acc->caveats[i] : in->caveats[j];
    i += d <= 0;
    j += d >= 0;
    if (r.ncaveats >= VG_MARKING_MAX_CAVEATS) { /* cannot happen (static assert); refuse anyway */
      vg_marking_unmarked(acc);
      return;
    }
    memcpy(r.caveats[r.ncaveats++], c, strlen(c)); /* r is zeroed: NUL stays */
  }
  *acc = r;
}

/* ---- ST 0102 -------------------------------------------------------------------- */

/* Fails the ST 0102 mapping (*out stays unmarked): "marking: ST 0102 <what> '<token>'". */
static int bad0102(const char *what, const char *p, size_t n)
{
  char t[TOK_SHOW_MAX + 4];
  return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 %s '%s'", what, tok_show(t, p ? p : "", p ? n : 0));
}

static int text_item(const vg_klv_item *it, const char **p, size_t *n)
{
  if (it->type != VG_KLV_T_STRING || (it->flags & VG_KLV_F_BAD_TEXT) || (it->v.s.n && !it->v.s.p))
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag %u is not text", (unsigned)it->tag);
  *p = it->v.s.p;
  *n = it->v.s.n;
  return VG_OK;
}

static int uint_item(const vg_klv_item *it, uint64_t lo, uint64_t hi, const char *what, uint64_t *v)
{
  if (it->type != VG_KLV_T_UINT)
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag %u (%s) is not an integer", (unsigned)it->tag,
                        what);
  if (it->v.u < lo || it->v.u > hi)
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag %u (%s): value %llu outside %llu..%llu",
                        (unsigned)it->tag, what, (unsigned long long)it->v.u, (unsigned long long)lo,
                        (unsigned long long)hi);
  *v = it->v.u;
  return VG_OK;
}

/* Inserts @p code (3 bytes, known) into m->rel keeping the canonical order; duplicates merge. */
static int rel_insert(vg_marking *m, const char *code)
{
  int i = m->nrel;
  if (in_rel(m, code))
    return VG_OK;
  if (m->nrel >= VG_MARKING_MAX_REL)
    return vg_error_set(VG_E_MALFORMED,
                        "marking: ST 0102 tag 6 lists more than VG_MARKING_MAX_REL (64) countries");
  while (i > 0 && rel_cmp(m->rel[i - 1], code) > 0) {
    memcpy(m->rel[i], m->rel[i - 1], 4);
    i--;
  }
  memcpy(m->rel[i], code, 3);
  m->rel[i][3] = '\0';
  m->nrel++;
  return VG_OK;
}

static void caveat_insert(vg_marking *m, int k)
{
  int i = m->ncaveats;
  for (int j = 0; j < m->ncaveats; j++)
    if (strcmp(m->caveats[j], caveat_names[k]) == 0)
      return;
  /* distinct known caveats: at most N_CAVEATS <= VG_MARKING_MAX_CAVEATS */
  while (i > 0 && strcmp(m->caveats[i - 1], caveat_names[k]) > 0) {
    memcpy(m->caveats[i], m->caveats[i - 1], VG_MARKING_CAVEAT_LEN);
    i--;
  }
  memset(m->caveats[i], 0, VG_MARKING_CAVEAT_LEN);
  memcpy(m->caveats[i], caveat_names[k], strlen(caveat_names[k]));
  m->ncaveats++;
}

/* Tag 6: space-separated trigraphs, or "NOFORN" alone. */
static int st0102_rel(const char *p, size_t n, vg_marking *m)
{
  size_t i = 0;
  int rc, tokens = 0, noforn = 0;
  while (i < n) {
    size_t j;
    if (p[i] == ' ') {
      i++;
      continue;
    }
    for (j = i; j < n && p[j] != ' '; j++)
      ;
    tokens++;
    if (j - i == 6 && memcmp(p + i, "NOFORN", 6) == 0) {
      noforn = 1;
    } else {
      if (j - i != 3 || !is_upper3(p + i))
        return bad0102("tag 6: not a country trigraph (space-separated, upper case):", p + i, j - i);
      if (!genc3_has(p + i))
        return bad0102("tag 6: unknown country code", p + i, 3);
      if ((rc = rel_insert(m, p + i)) != VG_OK)
        return rc;
    }
    i = j;
  }
  if (noforn && tokens > 1)
    return bad0102("tag 6: NOFORN must stand alone in", p, n);
  m->noforn = noforn;
  return VG_OK;
}

/* Tag 5: known caveats separated by '/' or ' '. */
static int st0102_caveats(const char *p, size_t n, vg_marking *m)
{
  size_t i = 0;
  while (i < n) {
    size_t j;
    int k;
    if (p[i] == ' ' || p[i] == '/') {
      i++;
      continue;
    }
    for (j = i; j < n && p[j] != ' ' && p[j] != '/'; j++)
      ;
    if ((k = caveat_index(p + i, j - i)) < 0)
      return bad0102("tag 5: unknown caveat", p + i, j - i);
    caveat_insert(m, k);
    i = j;
  }
  return VG_OK;
}

int vg_marking_from_st0102(const vg_klv_set *set, vg_marking *out)
{
  static const uint32_t once[] = {1, 2, 4, 5, 6};
  const vg_klv_item *it;
  vg_marking m;
  const char *p = NULL;
  size_t n = 0;
  uint64_t v = 0;
  int rc;
  if (!out)
    return vg_error_set(VG_E_INVALID, "vg_marking_from_st0102: out is NULL");
  vg_marking_unmarked(out);
  if (!set || (set->n && !set->items))
    return vg_error_set(VG_E_INVALID, "vg_marking_from_st0102: no set");
  if (set->kind != VG_KLV_KIND_ST0102)
    return vg_error_set(VG_E_INVALID, "vg_marking_from_st0102: a %s set, not ST 0102",
                        vg_klv_kind_name(set->kind));
  /* a security item given twice is ambiguous (vg_klv_find would take the first) */
  for (size_t t = 0; t < sizeof once / sizeof once[0]; t++) {
    int seen = 0;
    for (size_t i = 0; i < set->n; i++)
      seen += set->items[i].tag == once[t];
    if (seen > 1)
      return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag %u appears %d times", (unsigned)once[t], seen);
  }
  vg_marking_unmarked(&m);
  if (!(it = vg_klv_find(set, 1)))
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag 1 (classification) missing");
  if ((rc = uint_item(it, VG_CLASS_U, VG_CLASS_TS, "classification 1..5", &v)) != VG_OK)
    return rc;
  m.cls = (vg_class)v;
  if (!(it = vg_klv_find(set, 2)))
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 tag 2 (country coding method) missing");
  if ((rc = uint_item(it, 0, 255, "country coding method", &v)) != VG_OK)
    return rc;
  if (v != 0x0E && v != 0x02)
    return vg_error_set(VG_E_MALFORMED,
                        "marking: ST 0102 tag 2: country coding method 0x%02llX is neither GENC (0x0E) nor "
                        "ISO-3166 (0x02) three-letter",
                        (unsigned long long)v);
  if ((it = vg_klv_find(set, 4)) != NULL) {
    if ((rc = text_item(it, &p, &n)) != VG_OK)
      return rc;
    if (n)
      return bad0102("tag 4: vigia markings cannot carry SCI/SHI", p, n);
  }
  if ((it = vg_klv_find(set, 5)) != NULL) {
    if ((rc = text_item(it, &p, &n)) != VG_OK || (rc = st0102_caveats(p, n, &m)) != VG_OK)
      return rc;
  }
  if ((it = vg_klv_find(set, 6)) != NULL) {
    if ((rc = text_item(it, &p, &n)) != VG_OK || (rc = st0102_rel(p, n, &m)) != VG_OK)
      return rc;
  }
  *out = m;
  return VG_OK;
}

/* ---- release -------------------------------------------------------------------- */

/* Writes the reason (when asked) and returns the decision. */
static int decide(char *why, int allow, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int decide(char *why, int allow, const char *fmt, ...)
{
  if (why) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, WHY_MAX, fmt, ap);
    va_end(ap);
  }
  return allow;
}

int vg_release_allowed(const vg_marking *m, const vg_recipient *r, char *why)
{
  const char *inv;
  if (!m)
    return decide(why, 0, "denied: no marking");
  if (m->cls == VG_CLASS_UNMARKED)
    return decide(why, 0, "denied: unmarked");
  if ((inv = marking_invalid(m)) != NULL)
    return decide(why, 0, "denied: invalid marking (%s)", inv);
  if (!r)
    return decide(why, 0, "denied: no recipient");
  if (!vg_genc3_known(r->country))
    return decide(why, 0, "denied: recipient country is not a known GENC code");
  if (r->cleared < VG_CLASS_U || r->cleared > VG_CLASS_TS)
    return decide(why, 0, "denied: recipient %s has no valid clearance", r->country);
  if (m->noforn)
    return decide(why, 0, "denied: NOFORN");
  if (!in_rel(m, r->country))
    return decide(why, 0, "denied: %s not in REL TO", r->country);
  if (m->cls > r->cleared)
    return decide(why, 0, "denied: %s above the clearance of %s (%s)", class_names[m->cls], r->country,
                  class_names[r->cleared]);
  if (m->tlp == VG_TLP_RED)
    return decide(why, 0, "denied: TLP:RED");
  return decide(why, 1, "allowed: %s in REL TO, cleared %s for %s, TLP:%s", r->country, class_names[r->cleared],
                class_names[m->cls], m->tlp ? tlp_names[m->tlp] : "none");
}
