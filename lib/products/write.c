/*
 * Product writers: released sites as GeoJSON (RFC 7946), KML 2.2, Cursor on
 * Target 2.0 events, a STIX 2.1 bundle, a self-contained HTML report and a KMZ
 * (ZIP of the KML and the sites' image chips), each carrying its marking.
 *
 * The product's own marking is the derivation of its sites' (highest
 * classification, intersection of REL TO): it appears as the GeoJSON
 * collection's "marking" member, the KML document's name and ExtendedData,
 * each CoT event's access attribute (with TAK's caveat and releasableTo
 * attributes, research/sharing.md 1), and STIX statement and TLP 2.0
 * marking-definitions referenced by every object. TLP defaults to
 * AMBER+STRICT when a marking states none: the partner may act on it but not
 * pass it on.
 *
 * STIX ids are UUIDs made from a BLAKE2b hash of the site's id and the
 * object's type (version nibble 4, RFC 4122 variant), so the same site is the
 * same object in every bundle and products are reproducible.
 */
#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZLIB_CONST
#include <zlib.h>

#include "vigia/geo.h"
#include "vigia/products.h"

/* TLP 2.0 marking-definition ids (oasis-open/cti-stix-common-objects). */
/* The CE90 collect computed (and cached), or computed here for a site built another way. */
static double site_ce90(const vg_product_site *p)
{
  return p->ce90_m > 0 ? p->ce90_m : vg_geo_ce90(p->site.cov_en);
}

static const char *const k_tlp_id[] = {
  [VG_TLP_NONE] = NULL,
  [VG_TLP_CLEAR] = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
  [VG_TLP_GREEN] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
  [VG_TLP_AMBER] = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
  [VG_TLP_AMBER_STRICT] = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
  [VG_TLP_RED] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};
static const char *const k_tlp_name[] = {NULL, "clear", "green", "amber", "amber+strict", "red"};
#define TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

int vg_product_format_parse(const char *s, vg_product_format *out)
{
  static const char *const k[] = {"geojson", "kml", "cot", "stix", "html", "kmz"};
  for (int i = 0; i < 6; i++)
    if (s && !strcmp(s, k[i])) {
      *out = (vg_product_format)i;
      return VG_OK;
    }
  return vg_error_set(VG_E_INVALID, "product format '%s' (geojson, kml, cot, stix, html, kmz)", s ? s : "(null)");
}

static int64_t now_us(const vg_product_opts *o)
{
  struct timespec t;
  if (o->now_us)
    return o->now_us;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ISO 8601 UTC, millisecond precision: 2026-06-01T16:09:48.000Z */
static void iso_time(int64_t us, char out[48])
{
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  int ms = (int)((us % 1000000) / 1000);
  if (us < 0) {
    t = 0;
    ms = 0;
  }
  gmtime_r(&t, &tm);
  snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ms);
}

/* Appends printf output (the writers' text is bounded: the buffer's own limit stops runaways). */
static int put(vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(vg_buf *b, const char *fmt, ...)
{
  char tmp[1024];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp)
    return vg_error_set(VG_E_LIMIT, "product text longer than %zu bytes", sizeof tmp);
  return vg_buf_append(b, tmp, (size_t)n);
}

/* Markup text or attribute value: the five special characters as entities (the apostrophe as
 * @p apos), control characters other than tab and newline as '?' (they have no place in XML 1.0). */
static int put_escaped(vg_buf *b, const char *s, const char *apos)
{
  int rc = VG_OK;
  for (; *s && rc == VG_OK; s++) {
    switch (*s) {
    case '&': rc = vg_buf_append(b, "&amp;", 5); break;
    case '<': rc = vg_buf_append(b, "&lt;", 4); break;
    case '>': rc = vg_buf_append(b, "&gt;", 4); break;
    case '"': rc = vg_buf_append(b, "&quot;", 6); break;
    case '\'': rc = vg_buf_append(b, apos, strlen(apos)); break;
    default:
      if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
        rc = vg_buf_append(b, "?", 1);
      else
        rc = vg_buf_append(b, s, 1);
    }
  }
  return rc;
}

/* XML text or attribute value, escaped. */
static int put_xml(vg_buf *b, const char *s)
{
  return put_escaped(b, s, "&apos;");
}

/* The product's marking: the derivation of its sites'. */
static void doc_marking(const vg_product_site *s, size_t n, vg_marking *m, char banner[VG_MARKING_BANNER_MAX])
{
  if (!n)
    vg_marking_unmarked(m);
  for (size_t i = 0; i < n; i++) {
    if (i == 0)
      *m = s[i].marking;
    else
      vg_marking_derive(m, &s[i].marking);
  }
  if (vg_marking_format(m, banner, VG_MARKING_BANNER_MAX) != VG_OK)
    snprintf(banner, VG_MARKING_BANNER_MAX, "UNMARKED");
}

static vg_tlp tlp_of(const vg_marking *m)
{
  return m->tlp == VG_TLP_NONE ? VG_TLP_AMBER_STRICT : m->tlp;
}

/* REL TO as "USA MEX" (space separated, the TAK releasableTo form). */
static void rel_spaced(const vg_marking *m, char *out, size_t cap)
{
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < m->nrel && len + 5 < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, i ? " %s" : "%s", m->rel[i]);
}

static void caveats_joined(const vg_marking *m, char *out, size_t cap)
{
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < m->ncaveats && len + VG_MARKING_CAVEAT_LEN < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, i ? "/%s" : "%s", m->caveats[i]);
}

/* One-sigma circular error (m) of a covariance: sqrt of the mean variance. */
static double sigma_circ(const double cov[4])
{
  return sqrt(0.5 * (cov[0] + cov[3]));
}

static void kinds_list(uint32_t kinds, char *out, size_t cap)
{
  size_t len = 0;
  out[0] = 0;
  for (int k = 0; k < VG_EVID__COUNT; k++)
    if (kinds & (1u << k))
      len += (size_t)snprintf(out + len, cap - len, len ? " %s" : "%s", vg_evidence_name((vg_evidence)k));
}

/* ---- GeoJSON ------------------------------------------------------------------------------- */

static int write_geojson(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o)
{
  vg_marking dm;
  char banner[VG_MARKING_BANNER_MAX], t[48];
  vg_jw w;
  doc_marking(s, n, &dm, banner);
  iso_time(now_us(o), t);
  vg_jw_init(&w, out, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "type");
  vg_jw_str(&w, "FeatureCollection");
  vg_jw_key(&w, "name");
  vg_jw_str(&w, o->title ? o->title : "vigia sites");
  vg_jw_key(&w, "marking");
  vg_jw_str(&w, banner);
  vg_jw_key(&w, "tlp");
  vg_jw_str(&w, k_tlp_name[tlp_of(&dm)]);
  vg_jw_key(&w, "generated");
  vg_jw_str(&w, t);
  vg_jw_key(&w, "features");
  vg_jw_arr_begin(&w);
  for (size_t i = 0; i < n; i++) {
    const vg_site *x = &s[i].site;
    char kinds[64], first[48], last[48];
    kinds_list(x->kinds, kinds, sizeof kinds);
    iso_time(x->first_us, first);
    iso_time(x->last_us, last);
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "Feature");
    vg_jw_key(&w, "id");
    vg_jw_int(&w, x->id);
    vg_jw_key(&w, "geometry");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "type");
    vg_jw_str(&w, "Point");
    vg_jw_key(&w, "coordinates");
    vg_jw_arr_begin(&w);
    vg_jw_real(&w, round(x->lon * 1e7) / 1e7);
    vg_jw_real(&w, round(x->lat * 1e7) / 1e7);
    vg_jw_arr_end(&w);
    vg_jw_obj_end(&w);
    vg_jw_key(&w, "properties");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "marking");
    vg_jw_str(&w, s[i].banner);
    vg_jw_key(&w, "state");
    vg_jw_str(&w, vg_site_state_name(x->state));
    vg_jw_key(&w, "confidence");
    vg_jw_real(&w, round(vg_fuse_prob(x->logodds) * 1000) / 1000);
    vg_jw_key(&w, "ce90_m");
    vg_jw_real(&w, round(site_ce90(&s[i]) * 10) / 10);
    vg_jw_key(&w, "evidence");
    vg_jw_str(&w, kinds);
    vg_jw_key(&w, "observations");
    vg_jw_int(&w, x->nobs);
    vg_jw_key(&w, "first_seen");
    vg_jw_str(&w, first);
    vg_jw_key(&w, "last_seen");
    vg_jw_str(&w, last);
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
  }
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  return vg_jw_finish(&w);
}

/* ---- KML 2.2 ----------------------------------------------------------------------------- */

static int kml_data(vg_buf *out, const char *name, const char *value)
{
  int rc = put(out, "<Data name=\"%s\"><value>", name);
  if (rc == VG_OK)
    rc = put_xml(out, value);
  if (rc == VG_OK)
    rc = put(out, "</value></Data>");
  return rc;
}

/* @p chip (may be NULL): per site, 1 when the KMZ holds files/site-ID.png, which its
 * Placemark's description then shows. */
static int write_kml(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o,
                     const unsigned char *chip)
{
  vg_marking dm;
  char banner[VG_MARKING_BANNER_MAX], t[48];
  int rc;
  doc_marking(s, n, &dm, banner);
  iso_time(now_us(o), t);
  rc = put(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n"
                "<Document><name>");
  if (rc == VG_OK)
    rc = put_xml(out, banner);
  if (rc == VG_OK)
    rc = put(out, "</name><description>");
  if (rc == VG_OK)
    rc = put_xml(out, o->title ? o->title : "vigia sites");
  if (rc == VG_OK)
    rc = put(out, "</description><ExtendedData>");
  if (rc == VG_OK)
    rc = kml_data(out, "marking", banner);
  if (rc == VG_OK)
    rc = kml_data(out, "tlp", k_tlp_name[tlp_of(&dm)]);
  if (rc == VG_OK)
    rc = kml_data(out, "generated", t);
  if (rc == VG_OK)
    rc = put(out, "</ExtendedData>\n");
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    const vg_site *x = &s[i].site;
    char kinds[64], v[64], last[48];
    kinds_list(x->kinds, kinds, sizeof kinds);
    iso_time(x->last_us, last);
    rc = put(out, "<Placemark id=\"site-%lld\"><name>site %lld (%s)</name>", (long long)x->id, (long long)x->id,
             vg_site_state_name(x->state));
    if (rc == VG_OK && chip && chip[i]) /* HTML in the description, escaped as KML text */
      rc = put(out, "<description>&lt;img src=&quot;files/site-%lld.png&quot;/&gt;</description>", (long long)x->id);
    if (rc == VG_OK)
      rc = put(out, "<TimeStamp><when>%s</when></TimeStamp><ExtendedData>", last);
    if (rc == VG_OK)
      rc = kml_data(out, "marking", s[i].banner);
    snprintf(v, sizeof v, "%.3f", vg_fuse_prob(x->logodds));
    if (rc == VG_OK)
      rc = kml_data(out, "confidence", v);
    snprintf(v, sizeof v, "%.1f", site_ce90(&s[i]));
    if (rc == VG_OK)
      rc = kml_data(out, "ce90_m", v);
    if (rc == VG_OK)
      rc = kml_data(out, "evidence", kinds);
    if (rc == VG_OK)
      rc = put(out, "</ExtendedData><Point><coordinates>%.7f,%.7f</coordinates></Point></Placemark>\n", x->lon,
               x->lat);
  }
  if (rc == VG_OK)
    rc = put(out, "</Document>\n</kml>\n");
  return rc;
}

/* ---- Cursor on Target 2.0 --------------------------------------------------------------------- */

static int write_cot(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o)
{
  int64_t now = now_us(o), stale = now + (o->stale_s > 0 ? o->stale_s : 86400) * 1000000LL;
  char tnow[48], tstale[48];
  int rc = VG_OK;
  iso_time(now, tnow);
  iso_time(stale, tstale);
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    const vg_site *x = &s[i].site;
    char rel[4 * VG_MARKING_MAX_REL + 1], cav[VG_MARKING_MAX_CAVEATS * VG_MARKING_CAVEAT_LEN], kinds[64];
    double ce = sigma_circ(x->cov_en), le = x->sigma_up > 0 ? x->sigma_up : 9999999.0;
    rel_spaced(&s[i].marking, rel, sizeof rel);
    caveats_joined(&s[i].marking, cav, sizeof cav);
    kinds_list(x->kinds, kinds, sizeof kinds);
    /* how: fused from several observations (m-f), or one detection in one image (m-i) */
    rc = put(out, "<event version=\"2.0\" uid=\"vigia-site-%lld\" type=\"a-u-G\" how=\"%s\" time=\"%s\" start=\"%s\""
                  " stale=\"%s\" opex=\"%s\" access=\"",
             (long long)x->id, x->nobs > 1 ? "m-f" : "m-i", tnow, tnow, tstale, o->exercise ? "e-TEST" : "o-");
    if (rc == VG_OK)
      rc = put_xml(out, s[i].banner);
    if (rc == VG_OK && cav[0]) {
      rc = put(out, "\" caveat=\"");
      if (rc == VG_OK)
        rc = put_xml(out, cav);
    }
    if (rc == VG_OK)
      rc = put(out, "\" releasableTo=\"%s\">", rel);
    if (rc == VG_OK)
      rc = put(out, "<point lat=\"%.7f\" lon=\"%.7f\" hae=\"%.1f\" ce=\"%.1f\" le=\"%.1f\"/>", x->lat, x->lon,
               x->sigma_up > 0 ? x->hae : 9999999.0, ce, le);
    if (rc == VG_OK)
      rc = put(out, "<detail><remarks>vigia site %lld: %s, confidence %.3f, evidence %s, %lld observations</remarks>"
                    "</detail></event>\n",
               (long long)x->id, vg_site_state_name(x->state), vg_fuse_prob(x->logodds), kinds, (long long)x->nobs);
  }
  return rc;
}

/* ---- STIX 2.1 ------------------------------------------------------------------------------ */

/* A deterministic UUID (version nibble 4, RFC 4122 variant) for (what, id). */
static void stix_id(char out[80], const char *type, const char *what, int64_t id)
{
  unsigned char h[16];
  char in[128];
  int n = snprintf(in, sizeof in, "vigia/%s/%s/%lld", type, what, (long long)id);
  crypto_generichash(h, sizeof h, (const unsigned char *)in, (unsigned long long)n, NULL, 0);
  h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
  h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
  snprintf(out, 80, "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type, h[0], h[1],
           h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static void stix_common(vg_jw *w, const char *type, const char *id, const char *t, const char *producer)
{
  vg_jw_key(w, "type");
  vg_jw_str(w, type);
  vg_jw_key(w, "spec_version");
  vg_jw_str(w, "2.1");
  vg_jw_key(w, "id");
  vg_jw_str(w, id);
  vg_jw_key(w, "created");
  vg_jw_str(w, t);
  if (producer) {
    vg_jw_key(w, "created_by_ref");
    vg_jw_str(w, producer);
  }
}

static void stix_markings(vg_jw *w, const char *statement_id, vg_tlp tlp)
{
  vg_jw_key(w, "object_marking_refs");
  vg_jw_arr_begin(w);
  vg_jw_str(w, statement_id);
  vg_jw_str(w, k_tlp_id[tlp]);
  vg_jw_arr_end(w);
}

static int write_stix(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o)
{
  vg_marking dm;
  char banner[VG_MARKING_BANNER_MAX], t[48], ident[80], stmt[80], grp[80], bundle[80];
  vg_tlp tlp;
  vg_jw w;
  int64_t now = now_us(o);
  doc_marking(s, n, &dm, banner);
  tlp = tlp_of(&dm);
  iso_time(now, t);
  stix_id(ident, "identity", "producer", 0);
  /* the statement's id follows its text: the same marking is the same definition */
  {
    unsigned char h[8];
    int64_t key = 0;
    crypto_generichash(h, sizeof h, (const unsigned char *)banner, strlen(banner), NULL, 0);
    memcpy(&key, h, sizeof key);
    stix_id(stmt, "marking-definition", "statement", key);
  }
  stix_id(grp, "grouping", "sites", now);
  stix_id(bundle, "bundle", "bundle", now);
  vg_jw_init(&w, out, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "type");
  vg_jw_str(&w, "bundle");
  vg_jw_key(&w, "id");
  vg_jw_str(&w, bundle);
  vg_jw_key(&w, "objects");
  vg_jw_arr_begin(&w);
  /* the producer */
  vg_jw_obj_begin(&w);
  stix_common(&w, "identity", ident, "2026-01-01T00:00:00.000Z", NULL);
  vg_jw_key(&w, "modified");
  vg_jw_str(&w, "2026-01-01T00:00:00.000Z");
  vg_jw_key(&w, "name");
  vg_jw_str(&w, "vigia");
  vg_jw_key(&w, "identity_class");
  vg_jw_str(&w, "system");
  vg_jw_obj_end(&w);
  /* the statement marking (the banner) and the TLP 2.0 definition it is used with */
  vg_jw_obj_begin(&w);
  stix_common(&w, "marking-definition", stmt, "2026-01-01T00:00:00.000Z", ident);
  vg_jw_key(&w, "name");
  vg_jw_str(&w, banner);
  vg_jw_key(&w, "definition_type");
  vg_jw_str(&w, "statement");
  vg_jw_key(&w, "definition");
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "statement");
  vg_jw_str(&w, banner);
  vg_jw_obj_end(&w);
  vg_jw_obj_end(&w);
  vg_jw_obj_begin(&w);
  stix_common(&w, "marking-definition", k_tlp_id[tlp], "2022-10-01T00:00:00.000Z", NULL);
  {
    char name[32];
    snprintf(name, sizeof name, "TLP:%s", k_tlp_name[tlp]);
    for (char *c = name; *c; c++)
      if (*c >= 'a' && *c <= 'z')
        *c = (char)(*c - 'a' + 'A');
    vg_jw_key(&w, "name");
    vg_jw_str(&w, name);
  }
  vg_jw_key(&w, "extensions");
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, TLP_EXT);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "extension_type");
  vg_jw_str(&w, "property-extension");
  vg_jw_key(&w, "tlp_2_0");
  vg_jw_str(&w, k_tlp_name[tlp]);
  vg_jw_obj_end(&w);
  vg_jw_obj_end(&w);
  vg_jw_obj_end(&w);
  for (size_t i = 0; i < n; i++) {
    const vg_site *x = &s[i].site;
    char loc[80], inf[80], rel[80], sig[80], first[48], last[48], name[64];
    stix_id(loc, "location", "site", x->id);
    stix_id(inf, "infrastructure", "site", x->id);
    stix_id(rel, "relationship", "site-located-at", x->id);
    stix_id(sig, "sighting", "site", x->id);
    iso_time(x->first_us, first);
    iso_time(x->last_us > x->first_us ? x->last_us : x->first_us, last);
    snprintf(name, sizeof name, "vigia site %lld", (long long)x->id);
    vg_jw_obj_begin(&w);
    stix_common(&w, "location", loc, t, ident);
    vg_jw_key(&w, "modified");
    vg_jw_str(&w, t);
    vg_jw_key(&w, "name");
    vg_jw_str(&w, name);
    vg_jw_key(&w, "latitude");
    vg_jw_real(&w, round(x->lat * 1e7) / 1e7);
    vg_jw_key(&w, "longitude");
    vg_jw_real(&w, round(x->lon * 1e7) / 1e7);
    vg_jw_key(&w, "precision");
    vg_jw_real(&w, round(site_ce90(&s[i]) * 10) / 10);
    stix_markings(&w, stmt, tlp);
    vg_jw_obj_end(&w);
    vg_jw_obj_begin(&w);
    stix_common(&w, "infrastructure", inf, t, ident);
    vg_jw_key(&w, "modified");
    vg_jw_str(&w, t);
    vg_jw_key(&w, "name");
    vg_jw_str(&w, name);
    vg_jw_key(&w, "description");
    {
      char d[160], kinds[64];
      kinds_list(x->kinds, kinds, sizeof kinds);
      snprintf(d, sizeof d, "Suspected production site (%s), confidence %.3f, evidence: %s",
               vg_site_state_name(x->state), vg_fuse_prob(x->logodds), kinds);
      vg_jw_str(&w, d);
    }
    vg_jw_key(&w, "infrastructure_types");
    vg_jw_arr_begin(&w);
    vg_jw_str(&w, "unknown");
    vg_jw_arr_end(&w);
    vg_jw_key(&w, "confidence");
    vg_jw_int(&w, (int64_t)lround(100 * vg_fuse_prob(x->logodds)));
    stix_markings(&w, stmt, tlp);
    vg_jw_obj_end(&w);
    vg_jw_obj_begin(&w);
    stix_common(&w, "relationship", rel, t, ident);
    vg_jw_key(&w, "modified");
    vg_jw_str(&w, t);
    vg_jw_key(&w, "relationship_type");
    vg_jw_str(&w, "located-at");
    vg_jw_key(&w, "source_ref");
    vg_jw_str(&w, inf);
    vg_jw_key(&w, "target_ref");
    vg_jw_str(&w, loc);
    stix_markings(&w, stmt, tlp);
    vg_jw_obj_end(&w);
    vg_jw_obj_begin(&w);
    stix_common(&w, "sighting", sig, t, ident);
    vg_jw_key(&w, "modified");
    vg_jw_str(&w, t);
    vg_jw_key(&w, "sighting_of_ref");
    vg_jw_str(&w, inf);
    vg_jw_key(&w, "where_sighted_refs");
    vg_jw_arr_begin(&w);
    vg_jw_str(&w, ident);
    vg_jw_arr_end(&w);
    vg_jw_key(&w, "first_seen");
    vg_jw_str(&w, first);
    vg_jw_key(&w, "last_seen");
    vg_jw_str(&w, last);
    vg_jw_key(&w, "count");
    vg_jw_int(&w, x->nobs > 999999999 ? 999999999 : x->nobs);
    stix_markings(&w, stmt, tlp);
    vg_jw_obj_end(&w);
  }
  /* the grouping of the whole product */
  vg_jw_obj_begin(&w);
  stix_common(&w, "grouping", grp, t, ident);
  vg_jw_key(&w, "modified");
  vg_jw_str(&w, t);
  vg_jw_key(&w, "name");
  vg_jw_str(&w, o->title ? o->title : "vigia sites");
  vg_jw_key(&w, "context");
  vg_jw_str(&w, "suspicious-activity");
  vg_jw_key(&w, "object_refs");
  vg_jw_arr_begin(&w);
  vg_jw_str(&w, ident);
  for (size_t i = 0; i < n; i++) {
    char id[80];
    stix_id(id, "location", "site", s[i].site.id);
    vg_jw_str(&w, id);
    stix_id(id, "infrastructure", "site", s[i].site.id);
    vg_jw_str(&w, id);
    stix_id(id, "sighting", "site", s[i].site.id);
    vg_jw_str(&w, id);
  }
  vg_jw_arr_end(&w);
  stix_markings(&w, stmt, tlp);
  vg_jw_obj_end(&w);
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  return vg_jw_finish(&w);
}

/* ---- chips (vg_product_write_reg) ------------------------------------------------------- */

static const uint8_t k_png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static void free_chips(vg_buf *c, size_t n)
{
  for (size_t i = 0; c && i < n; i++)
    vg_buf_free(&c[i]);
  free(c);
}

/* Each site's chip from the register (vg_register_site_chip): a PNG, or empty when the site has
 * none (or what it has is not a PNG: nothing else is shown as one). *out: free_chips. */
static int load_chips(vg_register *reg, const vg_product_site *s, size_t n, vg_buf **out)
{
  vg_buf *c = calloc(n ? n : 1, sizeof *c);
  int rc = VG_OK;
  if (!c)
    return vg_error_set(VG_E_NOMEM, "%zu chips", n);
  for (size_t i = 0; i < n; i++)
    vg_buf_init(&c[i], VG_SITES_CHIP_MAX);
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    rc = vg_register_site_chip(reg, s[i].site.id, &c[i], NULL);
    if (rc == VG_E_NOTFOUND)
      rc = VG_OK;
    if (rc == VG_OK && (c[i].len < sizeof k_png_sig || memcmp(c[i].data, k_png_sig, sizeof k_png_sig)))
      vg_buf_free(&c[i]);
  }
  if (rc != VG_OK) {
    free_chips(c, n);
    return rc;
  }
  *out = c;
  return VG_OK;
}

/* ---- KMZ: a ZIP archive of doc.kml and files/site-ID.png ---------------------------------- */

/*
 * Written here with zlib: per entry a local header, its data (raw deflate, or stored when
 * deflate does not make it smaller: PNGs are compressed already), then the central
 * directory and its end record (APPNOTE 6.3.10, sections 4.3.7, 4.3.12, 4.3.16). Fixed
 * timestamps (1980-01-01 00:00, the first DOS date) and a fixed entry order make the same
 * sites the same bytes. No zip64: entries, sizes and offsets past 32 bits are VG_E_LIMIT.
 */
#define ZIP_DOS_TIME 0x0000u
#define ZIP_DOS_DATE 0x0021u /* (1980 - 1980) << 9 | 1 << 5 | 1 */
#define ZIP_MAX 0xfffffffeu  /* 0xffffffff means "see zip64" */
#define ZIP_MAX_ENTRIES 0xfffeu

typedef struct zip {
  vg_buf *out;
  size_t base; /* where the archive starts in out */
  vg_buf cd;   /* the central directory, written at the end */
  unsigned n;
} zip;

static void le16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v & 0xff);
  p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void le32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++, v >>= 8)
    p[i] = (uint8_t)(v & 0xff);
}

static int zip_add(zip *z, const char *name, const void *data, size_t len)
{
  size_t nlen = strlen(name), off = z->out->len - z->base, csize;
  uint8_t h[30], c[46], *def = NULL;
  unsigned method = 8;
  uLong bound;
  uint32_t crc;
  z_stream zs;
  int rc, zr;
  if (len > ZIP_MAX || off > ZIP_MAX || nlen > 0xffff || z->n >= ZIP_MAX_ENTRIES)
    return vg_error_set(VG_E_LIMIT, "KMZ entry %s: beyond a ZIP without zip64 (4 GB, %u entries)", name,
                        ZIP_MAX_ENTRIES);
  crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)data, (uInt)len);
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return vg_error_set(VG_E_NOMEM, "KMZ entry %s: deflateInit2", name);
  bound = deflateBound(&zs, (uLong)len);
  if (bound > ZIP_MAX) {
    deflateEnd(&zs);
    return vg_error_set(VG_E_LIMIT, "KMZ entry %s: %zu bytes", name, len);
  }
  if (!(def = malloc(bound ? bound : 1))) {
    deflateEnd(&zs);
    return vg_error_set(VG_E_NOMEM, "KMZ entry %s: %lu bytes", name, (unsigned long)bound);
  }
  zs.next_in = (const Bytef *)data;
  zs.avail_in = (uInt)len;
  zs.next_out = def;
  zs.avail_out = (uInt)bound;
  zr = deflate(&zs, Z_FINISH);
  csize = (size_t)zs.total_out;
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(def);
    return vg_error_set(VG_E_NOMEM, "KMZ entry %s: deflate (%d)", name, zr);
  }
  if (csize >= len) { /* stored: deflate did not help */
    method = 0;
    csize = len;
  }
  le32(h, 0x04034b50u);
  le16(h + 4, method ? 20 : 10); /* version needed */
  le16(h + 6, 0);                /* flags */
  le16(h + 8, method);
  le16(h + 10, ZIP_DOS_TIME);
  le16(h + 12, ZIP_DOS_DATE);
  le32(h + 14, crc);
  le32(h + 18, (uint32_t)csize);
  le32(h + 22, (uint32_t)len);
  le16(h + 26, (unsigned)nlen);
  le16(h + 28, 0); /* extra */
  rc = vg_buf_append(z->out, h, sizeof h);
  if (rc == VG_OK)
    rc = vg_buf_append(z->out, name, nlen);
  if (rc == VG_OK && csize)
    rc = vg_buf_append(z->out, method ? def : data, csize);
  free(def);
  if (rc != VG_OK)
    return rc;
  le32(c, 0x02014b50u);
  le16(c + 4, 20);              /* made by: MS-DOS attributes, spec 2.0 */
  memcpy(c + 6, h + 4, 28 - 4); /* needed .. name length, as in the local header */
  le16(c + 30, 0);              /* extra */
  le16(c + 32, 0);              /* comment */
  le16(c + 34, 0);              /* disk */
  le16(c + 36, 0);              /* internal attributes */
  le32(c + 38, 0);              /* external attributes */
  le32(c + 42, (uint32_t)off);
  rc = vg_buf_append(&z->cd, c, sizeof c);
  if (rc == VG_OK)
    rc = vg_buf_append(&z->cd, name, nlen);
  if (rc == VG_OK)
    z->n++;
  return rc;
}

static int zip_end(zip *z)
{
  size_t off = z->out->len - z->base;
  uint8_t e[22];
  int rc;
  if (off > ZIP_MAX || z->cd.len > ZIP_MAX || off + z->cd.len > ZIP_MAX)
    return vg_error_set(VG_E_LIMIT, "KMZ: beyond a ZIP without zip64 (4 GB)");
  le32(e, 0x06054b50u);
  le16(e + 4, 0); /* this disk */
  le16(e + 6, 0); /* the central directory's disk */
  le16(e + 8, z->n);
  le16(e + 10, z->n);
  le32(e + 12, (uint32_t)z->cd.len);
  le32(e + 16, (uint32_t)off);
  le16(e + 20, 0); /* comment */
  rc = z->cd.len ? vg_buf_append(z->out, z->cd.data, z->cd.len) : VG_OK;
  if (rc == VG_OK)
    rc = vg_buf_append(z->out, e, sizeof e);
  return rc;
}

/* doc.kml first (what KMZ readers open), then each site's chip as files/site-ID.png. */
static int write_kmz(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o, const vg_buf *chips)
{
  unsigned char *has = calloc(n ? n : 1, 1);
  vg_buf kml;
  zip z;
  int rc;
  if (!has)
    return vg_error_set(VG_E_NOMEM, "KMZ: %zu sites", n);
  for (size_t i = 0; i < n; i++)
    has[i] = chips[i].len > 0;
  vg_buf_init(&kml, out->max ? out->max : ZIP_MAX);
  memset(&z, 0, sizeof z);
  z.out = out;
  z.base = out->len;
  vg_buf_init(&z.cd, ZIP_MAX);
  rc = write_kml(&kml, s, n, o, has);
  if (rc == VG_OK)
    rc = zip_add(&z, "doc.kml", kml.data, kml.len);
  for (size_t i = 0; i < n && rc == VG_OK; i++)
    if (has[i]) {
      char name[48];
      snprintf(name, sizeof name, "files/site-%lld.png", (long long)s[i].site.id);
      rc = zip_add(&z, name, chips[i].data, chips[i].len);
    }
  if (rc == VG_OK)
    rc = zip_end(&z);
  vg_buf_free(&kml);
  vg_buf_free(&z.cd);
  free(has);
  return rc;
}

/* ---- HTML report ------------------------------------------------------------------------- */

/* HTML text or attribute value, escaped as for XML (the apostrophe as &#39;: HTML 4 has no &apos;). */
static int put_html(vg_buf *b, const char *s)
{
  return put_escaped(b, s, "&#39;");
}

/* The banner's colour class (the usual colours of classification banners). */
static const char *banner_class(const vg_marking *m)
{
  switch (m->cls) {
  case VG_CLASS_U: return "u";
  case VG_CLASS_R: return "r";
  case VG_CLASS_C: return "c";
  case VG_CLASS_S: return "s";
  case VG_CLASS_TS: return "ts";
  case VG_CLASS_UNMARKED: break;
  }
  return "x";
}

static int html_banner(vg_buf *out, const vg_marking *m, const char *banner, const char *where)
{
  int rc = put(out, "<div class=\"banner %s\" id=\"banner-%s\">", banner_class(m), where);
  if (rc == VG_OK)
    rc = put_html(out, banner);
  if (rc == VG_OK)
    rc = put(out, "</div>\n");
  return rc;
}

#define MAP_W 640.0
#define MAP_H 360.0
#define MAP_M 24.0   /* margin (px) */
#define MAP_BAR 28.0 /* room for the scale bar under the plot (px) */
#define MAP_R_EARTH 6371008.8
#define MAP_DEG (3.14159265358979323846 / 180.0)

/*
 * All sites as a plain scatter on a local equirectangular projection (east and north metres
 * from the centre of their extent, the same scale on both axes), with a scale bar and north
 * up. No tiles: nothing is fetched. Sites spanning the antimeridian are drawn apart.
 */
static int html_map(vg_buf *out, const vg_product_site *s, size_t n)
{
  double la0 = 90, la1 = -90, lo0 = 180, lo1 = -180, lat_c, lon_c, kx, ky, ex, ey, sc, cx, cy, bar_m, bar_px;
  int rc = put(out, "<svg class=\"map\" role=\"img\" aria-label=\"map of the sites\" width=\"%.0f\" height=\"%.0f\""
                    " viewBox=\"0 0 %.0f %.0f\">\n"
                    "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#f6f6f0\"/>\n",
               MAP_W, MAP_H, MAP_W, MAP_H, MAP_W, MAP_H);
  if (rc != VG_OK)
    return rc;
  if (!n)
    return put(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no sites</text>\n</svg>\n", MAP_W / 2,
               MAP_H / 2);
  for (size_t i = 0; i < n; i++) {
    const vg_site *x = &s[i].site;
    la0 = fmin(la0, x->lat);
    la1 = fmax(la1, x->lat);
    lo0 = fmin(lo0, x->lon);
    lo1 = fmax(lo1, x->lon);
  }
  lat_c = 0.5 * (la0 + la1);
  lon_c = 0.5 * (lo0 + lo1);
  ky = MAP_R_EARTH * MAP_DEG;
  kx = ky * cos(lat_c * MAP_DEG);
  ex = fmax((lo1 - lo0) * kx, 200.0); /* at least 200 m across: one site is not a point at infinite scale */
  ey = fmax((la1 - la0) * ky, 200.0);
  sc = fmin((MAP_W - 2 * MAP_M) / ex, (MAP_H - 2 * MAP_M - MAP_BAR) / ey); /* px per m */
  cx = MAP_W / 2;
  cy = MAP_M + 0.5 * (MAP_H - 2 * MAP_M - MAP_BAR);
  /* the scale bar: the longest 1, 2 or 5 x 10^k m that fits a quarter of the width */
  {
    double target = 0.25 * (MAP_W - 2 * MAP_M) / sc, p = pow(10, floor(log10(target)));
    bar_m = target >= 5 * p ? 5 * p : target >= 2 * p ? 2 * p : p;
    bar_px = bar_m * sc;
  }
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    const vg_site *x = &s[i].site;
    double px = cx + (x->lon - lon_c) * kx * sc, py = cy - (x->lat - lat_c) * ky * sc;
    const char *fill = x->state == VG_SITE_CONFIRMED   ? "#c8102e"
                       : x->state == VG_SITE_CANDIDATE ? "#e0a000"
                                                       : "#888888";
    rc = put(out, "<g><title>site %lld (%s)</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\""
                  " stroke=\"#222\" stroke-width=\"1\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%lld</text></g>\n",
             (long long)x->id, vg_site_state_name(x->state), px, py, fill, px + 7, py + 4, (long long)x->id);
  }
  if (rc == VG_OK) {
    double y = MAP_H - MAP_M;
    char label[32];
    if (bar_m >= 1000)
      snprintf(label, sizeof label, "%g km", bar_m / 1000);
    else
      snprintf(label, sizeof label, "%g m", bar_m);
    rc = put(out, "<g class=\"scale\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\""
                  " stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text></g>\n",
             MAP_M, y, MAP_M + bar_px, y, MAP_M + bar_px + 6, y + 4, label);
  }
  if (rc == VG_OK)
    rc = put(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\">N &#8593;"
                  "</text>\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">centre %.5f, %.5f;"
                  " local equirectangular</text>\n</svg>\n",
             MAP_W - MAP_M, MAP_M, MAP_W - MAP_M, MAP_H - MAP_M + 4, lat_c, lon_c);
  return rc;
}

static const char k_html_css[] =
  "body{font-family:sans-serif;margin:0;color:#222;background:#fff}"
  ".banner{font-weight:bold;text-align:center;padding:4px;color:#fff;background:#555}"
  ".banner.u{background:#007a33}.banner.r{background:#8b4513}.banner.c{background:#0033a0}"
  ".banner.s{background:#c8102e}.banner.ts{background:#ff8c00;color:#000}"
  "main{padding:0 16px 16px}table{border-collapse:collapse;margin-top:12px}"
  "th,td{border:1px solid #bbb;padding:3px 6px;font-size:13px;text-align:left;vertical-align:top}"
  "img.chip{image-rendering:pixelated;width:96px;height:auto}svg.map{border:1px solid #bbb}";

static int write_html(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o, const vg_buf *chips)
{
  vg_marking dm;
  char banner[VG_MARKING_BANNER_MAX], t[48];
  const char *title = o->title ? o->title : "vigia sites";
  int rc;
  doc_marking(s, n, &dm, banner);
  iso_time(now_us(o), t);
  /* the policy forbids every fetch: the page is whole as it is */
  rc = put(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:;"
                " style-src 'unsafe-inline'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
  if (rc == VG_OK)
    rc = put_html(out, banner);
  if (rc == VG_OK)
    rc = put(out, " - ");
  if (rc == VG_OK)
    rc = put_html(out, title);
  if (rc == VG_OK)
    rc = put(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", k_html_css);
  if (rc == VG_OK)
    rc = html_banner(out, &dm, banner, "top");
  if (rc == VG_OK)
    rc = put(out, "<main>\n<h1>");
  if (rc == VG_OK)
    rc = put_html(out, title);
  if (rc == VG_OK)
    rc = put(out, "</h1>\n<p>Generated <time datetime=\"%s\">%s</time>; %zu sites; marking <span class=\"marking\">", t,
             t, n);
  if (rc == VG_OK)
    rc = put_html(out, banner);
  if (rc == VG_OK)
    rc = put(out, "</span>, TLP:%s.</p>\n", k_tlp_name[tlp_of(&dm)]);
  if (rc == VG_OK)
    rc = html_map(out, s, n);
  if (rc == VG_OK)
    rc = put(out, "<table>\n<thead><tr><th>site</th><th>state</th><th>confidence</th><th>position (lat, lon)</th>"
                  "<th>CE90</th><th>evidence</th><th>first seen</th><th>last seen</th><th>marking</th><th>chip</th>"
                  "</tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    const vg_site *x = &s[i].site;
    char kinds[64], first[48], last[48];
    kinds_list(x->kinds, kinds, sizeof kinds);
    iso_time(x->first_us, first);
    iso_time(x->last_us, last);
    rc = put(out, "<tr data-site=\"%lld\" id=\"site-%lld\"><td>%lld</td><td>%s</td><td>%.3f</td><td>%.6f, %.6f</td>"
                  "<td>%.1f m</td><td>",
             (long long)x->id, (long long)x->id, (long long)x->id, vg_site_state_name(x->state),
             vg_fuse_prob(x->logodds), x->lat, x->lon, site_ce90(&s[i]));
    if (rc == VG_OK)
      rc = put_html(out, kinds);
    if (rc == VG_OK)
      rc = put(out, "</td><td>%s</td><td>%s</td><td>", first, last);
    if (rc == VG_OK)
      rc = put_html(out, s[i].banner);
    if (rc == VG_OK)
      rc = put(out, "</td><td>");
    if (rc == VG_OK && chips[i].len) {
      size_t cap = sodium_base64_ENCODED_LEN(chips[i].len, sodium_base64_VARIANT_ORIGINAL);
      char *b64 = malloc(cap);
      if (!b64)
        rc = vg_error_set(VG_E_NOMEM, "chip of site %lld", (long long)x->id);
      else {
        sodium_bin2base64(b64, cap, chips[i].data, chips[i].len, sodium_base64_VARIANT_ORIGINAL);
        rc = put(out, "<img class=\"chip\" alt=\"site %lld chip\" src=\"data:image/png;base64,", (long long)x->id);
        if (rc == VG_OK)
          rc = vg_buf_append(out, b64, strlen(b64));
        if (rc == VG_OK)
          rc = put(out, "\">");
        free(b64);
      }
    } else if (rc == VG_OK) {
      rc = put(out, "none");
    }
    if (rc == VG_OK)
      rc = put(out, "</td></tr>\n");
  }
  if (rc == VG_OK)
    rc = put(out, "</tbody>\n</table>\n</main>\n");
  if (rc == VG_OK)
    rc = html_banner(out, &dm, banner, "bottom");
  if (rc == VG_OK)
    rc = put(out, "</body>\n</html>\n");
  return rc;
}

static const char *format_name(vg_product_format f)
{
  static const char *const k[] = {"geojson", "kml", "cot", "stix", "html", "kmz"};
  return (unsigned)f < sizeof k / sizeof k[0] ? k[f] : "?";
}

static int write_any(vg_buf *out, vg_product_format f, vg_register *reg, const vg_product_site *s, size_t n,
                     const vg_product_opts *o_in)
{
  vg_product_opts o = VG_PRODUCT_OPTS_INIT;
  vg_buf *chips = NULL;
  int rc;
  if (o_in)
    o = *o_in;
  if (!out || (n && !s))
    return vg_error_set(VG_E_INVALID, "vg_product_write: no %s", out ? "sites" : "buffer");
  if (sodium_init() < 0)
    return vg_error_set(VG_E_UNSUPPORTED, "libsodium cannot initialise");
  switch (f) {
  case VG_PRODUCT_GEOJSON: return write_geojson(out, s, n, &o);
  case VG_PRODUCT_KML: return write_kml(out, s, n, &o, NULL);
  case VG_PRODUCT_COT: return write_cot(out, s, n, &o);
  case VG_PRODUCT_STIX: return write_stix(out, s, n, &o);
  case VG_PRODUCT_HTML:
  case VG_PRODUCT_KMZ:
    if (!reg)
      return vg_error_set(VG_E_INVALID, "product format %s needs the register for the sites' chips", format_name(f));
    if ((rc = load_chips(reg, s, n, &chips)) != VG_OK)
      return rc;
    rc = f == VG_PRODUCT_HTML ? write_html(out, s, n, &o, chips) : write_kmz(out, s, n, &o, chips);
    free_chips(chips, n);
    return rc;
  }
  return vg_error_set(VG_E_INVALID, "product format %d", (int)f);
}

int vg_product_write(vg_buf *out, vg_product_format f, const vg_product_site *s, size_t n, const vg_product_opts *o)
{
  if (f == VG_PRODUCT_HTML || f == VG_PRODUCT_KMZ)
    return vg_error_set(VG_E_INVALID, "product format %s carries the sites' image chips: use vg_product_write_reg",
                        format_name(f));
  return write_any(out, f, NULL, s, n, o);
}

int vg_product_write_reg(vg_buf *out, vg_product_format f, vg_register *reg, const vg_product_site *s, size_t n,
                         const vg_product_opts *o)
{
  return write_any(out, f, reg, s, n, o);
}
