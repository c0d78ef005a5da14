/*
 * Product writers: released sites as GeoJSON (RFC 7946), KML 2.2, Cursor on
 * Target 2.0 events and a STIX 2.1 bundle, each carrying its marking.
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

#include "vigia/geo.h"
#include "vigia/products.h"

/* TLP 2.0 marking-definition ids (oasis-open/cti-stix-common-objects). */
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
  static const char *const k[] = {"geojson", "kml", "cot", "stix"};
  for (int i = 0; i < 4; i++)
    if (s && !strcmp(s, k[i])) {
      *out = (vg_product_format)i;
      return VG_OK;
    }
  return vg_error_set(VG_E_INVALID, "product format '%s' (geojson, kml, cot, stix)", s ? s : "(null)");
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

/* XML text or attribute value, escaped. */
static int put_xml(vg_buf *b, const char *s)
{
  int rc = VG_OK;
  for (; *s && rc == VG_OK; s++) {
    switch (*s) {
    case '&': rc = vg_buf_append(b, "&amp;", 5); break;
    case '<': rc = vg_buf_append(b, "&lt;", 4); break;
    case '>': rc = vg_buf_append(b, "&gt;", 4); break;
    case '"': rc = vg_buf_append(b, "&quot;", 6); break;
    case '\'': rc = vg_buf_append(b, "&apos;", 6); break;
    default:
      if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
        rc = vg_buf_append(b, "?", 1); /* control characters have no place in XML 1.0 */
      else
        rc = vg_buf_append(b, s, 1);
    }
  }
  return rc;
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
    vg_jw_real(&w, round(vg_geo_ce90(x->cov_en) * 10) / 10);
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

static int write_kml(vg_buf *out, const vg_product_site *s, size_t n, const vg_product_opts *o)
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
    rc = put(out, "<Placemark id=\"site-%lld\"><name>site %lld (%s)</name><TimeStamp><when>%s</when></TimeStamp>"
                  "<ExtendedData>",
             (long long)x->id, (long long)x->id, vg_site_state_name(x->state), last);
    if (rc == VG_OK)
      rc = kml_data(out, "marking", s[i].banner);
    snprintf(v, sizeof v, "%.3f", vg_fuse_prob(x->logodds));
    if (rc == VG_OK)
      rc = kml_data(out, "confidence", v);
    snprintf(v, sizeof v, "%.1f", vg_geo_ce90(x->cov_en));
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
    vg_jw_real(&w, round(vg_geo_ce90(x->cov_en) * 10) / 10);
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

int vg_product_write(vg_buf *out, vg_product_format f, const vg_product_site *s, size_t n, const vg_product_opts *o_in)
{
  vg_product_opts o = VG_PRODUCT_OPTS_INIT;
  if (o_in)
    o = *o_in;
  if (n && !s)
    return vg_error_set(VG_E_INVALID, "vg_product_write: no sites");
  if (sodium_init() < 0)
    return vg_error_set(VG_E_UNSUPPORTED, "libsodium cannot initialise");
  switch (f) {
  case VG_PRODUCT_GEOJSON: return write_geojson(out, s, n, &o);
  case VG_PRODUCT_KML: return write_kml(out, s, n, &o);
  case VG_PRODUCT_COT: return write_cot(out, s, n, &o);
  case VG_PRODUCT_STIX: return write_stix(out, s, n, &o);
  }
  return vg_error_set(VG_E_INVALID, "product format %d", (int)f);
}
