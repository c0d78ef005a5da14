/*
 * Areas of interest and no-fly zones from outside files (docs/formats/plan.md).
 *
 *   GeoJSON (RFC 7946)  FeatureCollection | Feature | Polygon | MultiPolygon; a polygon is
 *                       [[lon, lat(, h)] ...] rings, the first the outer one; properties
 *                       name, kind ("aoi" | "nofly"), priority, revisit_h, last_visit
 *   KML 2.2             every Placemark's Polygon (also in MultiGeometry): outerBoundaryIs /
 *                       innerBoundaryIs LinearRing coordinates "lon,lat[,h] ..."; name from
 *                       <name>, the properties from ExtendedData Data/value or SimpleData
 *   GML 2 / 3           every gml:Polygon: outerBoundaryIs|exterior / innerBoundaryIs|interior
 *                       rings of gml:coordinates ("x,y x,y") or gml:posList ("lat lon ..." in
 *                       EPSG:4326 axis order, "lon lat" for CRS84/EPSG:4258 as the GAOS files
 *                       write them with gml:coordinates); properties from the attributes of the
 *                       polygon's ancestors (name, kind, priority, revisit_h, last_visit)
 *
 * JSON is parsed by jansson, XML by libxml2 (no network, no entities, no DTD loading). A ring
 * closed by repeating its first vertex is opened; rings need 3 distinct vertices.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vigia/plan.h"

typedef struct acc {
  vg_plan_area *a;
  size_t n, cap;
  const char *what;
} acc;

static void ring_free(vg_plan_ring *r)
{
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

static void area_free(vg_plan_area *a)
{
  ring_free(&a->outer);
  for (size_t i = 0; i < a->nholes; i++)
    ring_free(&a->holes[i]);
  free(a->holes);
  memset(a, 0, sizeof *a);
}

void vg_plan_areas_free(vg_plan_areas *a)
{
  if (!a)
    return;
  for (size_t i = 0; i < a->n; i++)
    area_free(&a->a[i]);
  free(a->a);
  a->a = NULL;
  a->n = 0;
}

/* Copies @p s into the name, cut at VG_PLAN_NAME_MAX bytes on a UTF-8 boundary, control characters as '?'. */
static void set_name(vg_plan_area *a, const char *s)
{
  size_t n = 0;
  for (; s[n] && n < VG_PLAN_NAME_MAX; n++)
    ;
  while (n > 0 && s[n] && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--; /* do not cut a character in two */
  for (size_t i = 0; i < n; i++)
    a->name[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  a->name[n] = 0;
}

/* RFC 3339 UTC ("2026-06-01T08:00:00Z", fraction optional) -> UNIX microseconds. */
static int parse_time(const char *s, int64_t *out)
{
  int Y, M, D, h, m, n = 0;
  double sec;
  struct tm tm;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || (s[n] != 'Z' || s[n + 1]) ||
      M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || !(sec >= 0 && sec < 61) || Y < 1970)
    return -1;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  *out = (int64_t)timegm(&tm) * 1000000 + (int64_t)llround(sec * 1e6);
  return 0;
}

/* One property by name (string value): name, kind, priority, revisit_h, last_visit. */
static int set_prop(acc *c, vg_plan_area *a, const char *key, const char *val, const char *where)
{
  char *end;
  double d;
  if (!strcasecmp(key, "name"))
    set_name(a, val);
  else if (!strcmp(key, "kind")) {
    if (!strcmp(val, "aoi"))
      a->kind = VG_PLAN_AOI;
    else if (!strcmp(val, "nofly") || !strcmp(val, "no-fly"))
      a->kind = VG_PLAN_NOFLY;
    else
      return vg_error_set(VG_E_MALFORMED, "%s: %s: kind '%.40s' is neither aoi nor nofly", c->what, where, val);
  } else if (!strcmp(key, "priority") || !strcmp(key, "revisit_h")) {
    errno = 0;
    d = strtod(val, &end);
    if (end == val || *end || errno || !isfinite(d) || d <= 0 || d > 1e9)
      return vg_error_set(VG_E_MALFORMED, "%s: %s: %s '%.40s' is not a positive number", c->what, where, key, val);
    if (key[0] == 'p')
      a->priority = d;
    else
      a->revisit_s = d * 3600;
  } else if (!strcmp(key, "last_visit")) {
    if (parse_time(val, &a->last_visit_us))
      return vg_error_set(VG_E_MALFORMED, "%s: %s: last_visit '%.40s' is not an RFC 3339 UTC time", c->what,
                          where, val);
  }
  return VG_OK;
}

/* Appends a vertex, dropping a repeat of the one before. */
static int ring_push(vg_plan_ring *r, size_t *cap, double lat, double lon, const char *what, const char *where)
{
  if (!isfinite(lat) || !isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
    return vg_error_set(VG_E_MALFORMED, "%s: %s: position (lon %g, lat %g) outside WGS84", what, where, lon, lat);
  if (r->n && r->v[r->n - 1].lat == lat && r->v[r->n - 1].lon == lon)
    return VG_OK;
  if (r->n == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    vg_plan_ll *t;
    if (*cap >= VG_PLAN_RING_MAX)
      return vg_error_set(VG_E_LIMIT, "%s: %s: more than %u vertices in a ring", what, where, VG_PLAN_RING_MAX);
    if (nc > VG_PLAN_RING_MAX)
      nc = VG_PLAN_RING_MAX;
    if (!(t = realloc(r->v, nc * sizeof *t)))
      return vg_error_set(VG_E_NOMEM, "%s: ring", what);
    r->v = t;
    *cap = nc;
  }
  r->v[r->n].lat = lat;
  r->v[r->n].lon = lon;
  r->n++;
  return VG_OK;
}

/* Opens a closed ring and checks it has 3 distinct vertices. */
static int ring_finish(vg_plan_ring *r, const char *what, const char *where)
{
  if (r->n > 1 && r->v[0].lat == r->v[r->n - 1].lat && r->v[0].lon == r->v[r->n - 1].lon)
    r->n--;
  if (r->n < 3)
    return vg_error_set(VG_E_MALFORMED, "%s: %s: a ring of %zu distinct vertices (at least 3)", what, where, r->n);
  return VG_OK;
}

static int acc_push(acc *c, vg_plan_area *a)
{
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 8;
    vg_plan_area *t;
    if (c->n >= VG_PLAN_AREAS_MAX)
      return vg_error_set(VG_E_LIMIT, "%s: more than %u areas", c->what, VG_PLAN_AREAS_MAX);
    if (!(t = realloc(c->a, nc * sizeof *t)))
      return vg_error_set(VG_E_NOMEM, "%s: areas", c->what);
    c->a = t;
    c->cap = nc;
  }
  c->a[c->n++] = *a;
  memset(a, 0, sizeof *a);
  return VG_OK;
}

static void area_init(vg_plan_area *a)
{
  memset(a, 0, sizeof *a);
  a->priority = 1;
  a->last_visit_us = VG_PLAN_NEVER;
}

static int add_hole(vg_plan_area *a, const char *what)
{
  vg_plan_ring *t;
  if (a->nholes >= VG_PLAN_HOLES_MAX)
    return vg_error_set(VG_E_LIMIT, "%s: more than %u holes in a polygon", what, VG_PLAN_HOLES_MAX);
  if (!(t = realloc(a->holes, (a->nholes + 1) * sizeof *t)))
    return vg_error_set(VG_E_NOMEM, "%s: holes", what);
  a->holes = t;
  memset(&a->holes[a->nholes++], 0, sizeof *t);
  return VG_OK;
}

/* ---- GeoJSON -------------------------------------------------------------------------------- */

static int gj_ring(acc *c, json_t *ring, vg_plan_ring *out, const char *where)
{
  size_t cap = 0, i;
  json_t *pos;
  char w[160];
  int rc = VG_OK;
  if (!json_is_array(ring))
    return vg_error_set(VG_E_MALFORMED, "%s: %s: a ring is not an array of positions", c->what, where);
  json_array_foreach(ring, i, pos)
  {
    snprintf(w, sizeof w, "%.100s[%zu]", where, i);
    if (!json_is_array(pos) || json_array_size(pos) < 2 || !json_is_number(json_array_get(pos, 0)) ||
        !json_is_number(json_array_get(pos, 1)))
      return vg_error_set(VG_E_MALFORMED, "%s: %s: a position is [lon, lat] numbers", c->what, w);
    if ((rc = ring_push(out, &cap, json_number_value(json_array_get(pos, 1)),
                        json_number_value(json_array_get(pos, 0)), c->what, w)) != VG_OK)
      return rc;
  }
  return ring_finish(out, c->what, where);
}

static int gj_polygon(acc *c, json_t *coords, json_t *props, const char *where)
{
  vg_plan_area a;
  size_t i;
  json_t *ring;
  char w[160];
  int rc = VG_OK;
  area_init(&a);
  if (!json_is_array(coords) || json_array_size(coords) < 1)
    return vg_error_set(VG_E_MALFORMED, "%s: %s: Polygon coordinates are not an array of rings", c->what, where);
  if (json_array_size(coords) - 1 > VG_PLAN_HOLES_MAX)
    return vg_error_set(VG_E_LIMIT, "%s: %s: more than %u holes", c->what, where, VG_PLAN_HOLES_MAX);
  json_array_foreach(coords, i, ring)
  {
    snprintf(w, sizeof w, "%.100s.coordinates[%zu]", where, i);
    if (i && (rc = add_hole(&a, c->what)) != VG_OK)
      goto done;
    if ((rc = gj_ring(c, ring, i ? &a.holes[a.nholes - 1] : &a.outer, w)) != VG_OK)
      goto done;
  }
  if (json_is_object(props)) {
    const char *key;
    json_t *v;
    snprintf(a.name, sizeof a.name, "area %zu", c->n + 1);
    json_object_foreach(props, key, v)
    {
      char num[64];
      const char *sv = NULL;
      snprintf(w, sizeof w, "%.100s.properties.%.40s", where, key);
      if (json_is_string(v))
        sv = json_string_value(v);
      else if (json_is_number(v)) {
        snprintf(num, sizeof num, "%.17g", json_number_value(v));
        sv = num;
      }
      if (sv && (rc = set_prop(c, &a, key, sv, w)) != VG_OK)
        goto done;
      if (!sv && (!strcmp(key, "priority") || !strcmp(key, "revisit_h") || !strcmp(key, "kind") ||
                  !strcmp(key, "last_visit"))) {
        rc = vg_error_set(VG_E_MALFORMED, "%s: %s: not a string or number", c->what, w);
        goto done;
      }
    }
  } else
    snprintf(a.name, sizeof a.name, "area %zu", c->n + 1);
  rc = acc_push(c, &a);
done:
  area_free(&a);
  return rc;
}

static int gj_geometry(acc *c, json_t *g, json_t *props, const char *where)
{
  const char *t = json_string_value(json_object_get(g, "type"));
  json_t *co = json_object_get(g, "coordinates");
  char w[160];
  if (!json_is_object(g) || !t)
    return vg_error_set(VG_E_MALFORMED, "%s: %s: a geometry without a type", c->what, where);
  if (!strcmp(t, "Polygon"))
    return gj_polygon(c, co, props, where);
  if (!strcmp(t, "MultiPolygon")) {
    size_t i;
    json_t *p;
    int rc;
    if (!json_is_array(co))
      return vg_error_set(VG_E_MALFORMED, "%s: %s: MultiPolygon coordinates are not an array", c->what, where);
    json_array_foreach(co, i, p)
    {
      snprintf(w, sizeof w, "%.100s.coordinates[%zu]", where, i);
      if ((rc = gj_polygon(c, p, props, w)) != VG_OK)
        return rc;
    }
    return VG_OK;
  }
  return vg_error_set(VG_E_UNSUPPORTED, "%s: %s: a %.20s is not an area (Polygon or MultiPolygon)", c->what, where,
                      t);
}

static int read_geojson(acc *c, const uint8_t *buf, size_t len)
{
  json_error_t e;
  json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &e), *fs;
  const char *t;
  int rc = VG_OK;
  char w[64];
  if (!root)
    return vg_error_set(VG_E_MALFORMED, "%s: line %d column %d: %s", c->what, e.line, e.column, e.text);
  t = json_string_value(json_object_get(root, "type"));
  if (!t)
    rc = vg_error_set(VG_E_MALFORMED, "%s: the top-level object has no type", c->what);
  else if (!strcmp(t, "FeatureCollection")) {
    size_t i;
    json_t *f;
    fs = json_object_get(root, "features");
    if (!json_is_array(fs))
      rc = vg_error_set(VG_E_MALFORMED, "%s: features is not an array", c->what);
    else
      json_array_foreach(fs, i, f)
      {
        snprintf(w, sizeof w, "features[%zu]", i);
        if (!json_is_object(f) || !json_object_get(f, "geometry") || json_is_null(json_object_get(f, "geometry")))
          rc = vg_error_set(VG_E_MALFORMED, "%s: %s: a Feature without a geometry", c->what, w);
        else
          rc = gj_geometry(c, json_object_get(f, "geometry"), json_object_get(f, "properties"), w);
        if (rc != VG_OK)
          break;
      }
  } else if (!strcmp(t, "Feature"))
    rc = gj_geometry(c, json_object_get(root, "geometry"), json_object_get(root, "properties"), "geometry");
  else
    rc = gj_geometry(c, root, NULL, "the geometry");
  json_decref(root);
  return rc;
}

/* ---- KML and GML ------------------------------------------------------------------------------ */

static int is(const xmlNode *n, const char *name)
{
  return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
  for (const xmlNode *k = n ? n->children : NULL; k; k = k->next)
    if (is(k, name))
      return k;
  return NULL;
}

/* "x,y[,z] x,y[,z] ..." (KML, gml:coordinates: longitude first) or, with @p poslist, "a b a b ..."
 * (gml:posList; @p latfirst: EPSG:4326 axis order). */
static int coords(acc *c, const char *s, int poslist, int latfirst, int dim, vg_plan_ring *r, const char *where)
{
  size_t cap = 0;
  const char *p = s;
  int rc = VG_OK;
  while (rc == VG_OK) {
    double v[3];
    int k = 0, want = poslist ? dim : 0;
    char *end;
    while (*p && isspace((unsigned char)*p))
      p++;
    if (!*p)
      break;
    for (k = 0; k < 3; k++) {
      errno = 0;
      v[k] = strtod(p, &end);
      if (end == p || errno)
        return vg_error_set(VG_E_MALFORMED, "%s: %s: '%.20s' is not a number", c->what, where, p);
      p = end;
      if (poslist) {
        if (k + 1 == want)
          break;
        while (*p && isspace((unsigned char)*p))
          p++;
      } else {
        if (*p != ',')
          break;
        p++;
      }
    }
    if (!poslist && k < 1)
      return vg_error_set(VG_E_MALFORMED, "%s: %s: a tuple of one number", c->what, where);
    rc = latfirst ? ring_push(r, &cap, v[0], v[1], c->what, where) : ring_push(r, &cap, v[1], v[0], c->what, where);
  }
  if (rc == VG_OK)
    rc = ring_finish(r, c->what, where);
  return rc;
}

/* The text of the first descendant element named @p name (NULL: none). Caller frees. */
static const xmlNode *find(const xmlNode *n, const char *name)
{
  for (const xmlNode *k = n ? n->children : NULL; k; k = k->next) {
    const xmlNode *f;
    if (is(k, name))
      return k;
    if ((f = find(k, name)))
      return f;
  }
  return NULL;
}

/* A ring element (LinearRing, or the boundary holding one): its coordinates. */
static int xml_ring(acc *c, const xmlNode *bound, vg_plan_ring *r, int latfirst, const char *where)
{
  const xmlNode *co = find(bound, "coordinates"), *pl = find(bound, "posList");
  xmlChar *txt;
  int rc, dim = 2;
  if (!co && !pl)
    return vg_error_set(VG_E_MALFORMED, "%s: %s: a ring without coordinates or posList", c->what, where);
  if (pl) {
    xmlChar *sd = xmlGetProp(pl, (const xmlChar *)"srsDimension");
    if (sd) {
      dim = atoi((const char *)sd) == 3 ? 3 : 2;
      xmlFree(sd);
    }
  }
  txt = xmlNodeGetContent(co ? co : pl);
  if (!txt)
    return vg_error_set(VG_E_NOMEM, "%s: ring text", c->what);
  rc = coords(c, (const char *)txt, co == NULL, co == NULL && latfirst, dim, r, where);
  xmlFree(txt);
  return rc;
}

/* Properties of an XML Placemark (KML) or the attributes on a GML polygon's ancestors. */
static int xml_props(acc *c, const xmlNode *n, vg_plan_area *a, int kml, const char *where)
{
  int rc = VG_OK;
  if (kml) {
    const xmlNode *nm = child(n, "name"), *ed = child(n, "ExtendedData");
    if (nm) {
      xmlChar *t = xmlNodeGetContent(nm);
      if (t) {
        set_name(a, (const char *)t);
        xmlFree(t);
      }
    }
    for (const xmlNode *k = ed ? ed->children : NULL; k && rc == VG_OK; k = k->next) {
      if (is(k, "Data")) {
        xmlChar *key = xmlGetProp(k, (const xmlChar *)"name");
        const xmlNode *vn = child(k, "value");
        xmlChar *val = vn ? xmlNodeGetContent(vn) : NULL;
        if (key && val)
          rc = set_prop(c, a, (const char *)key, (const char *)val, where);
        xmlFree(key);
        xmlFree(val);
      } else if (is(k, "SchemaData"))
        for (const xmlNode *d = k->children; d && rc == VG_OK; d = d->next) {
          xmlChar *key, *val;
          if (!is(d, "SimpleData"))
            continue;
          key = xmlGetProp(d, (const xmlChar *)"name");
          val = xmlNodeGetContent(d);
          if (key && val)
            rc = set_prop(c, a, (const char *)key, (const char *)val, where);
          xmlFree(key);
          xmlFree(val);
        }
    }
  } else {
    for (const xmlNode *p = n; p && p->type == XML_ELEMENT_NODE && rc == VG_OK; p = p->parent) {
      static const char *const keys[] = {"name", "kind", "priority", "revisit_h", "last_visit"};
      for (size_t i = 0; i < sizeof keys / sizeof *keys && rc == VG_OK; i++) {
        xmlChar *v = xmlGetProp(p, (const xmlChar *)keys[i]);
        if (v && !(i == 0 && a->name[0]))
          rc = set_prop(c, a, keys[i], (const char *)v, where);
        xmlFree(v);
      }
      if (!a->name[0]) {
        xmlChar *id = xmlGetProp(p, (const xmlChar *)"id");
        if (id && p->parent && p->parent->type == XML_DOCUMENT_NODE)
          set_name(a, (const char *)id);
        xmlFree(id);
      }
    }
  }
  return rc;
}

static int xml_polygon(acc *c, const xmlNode *poly, const xmlNode *owner, int kml, int latfirst)
{
  vg_plan_area a;
  char w[96];
  int rc = VG_OK;
  size_t k = 0;
  area_init(&a);
  snprintf(w, sizeof w, "polygon %zu", c->n + 1);
  for (const xmlNode *b = poly->children; b && rc == VG_OK; b = b->next) {
    int outer = is(b, "outerBoundaryIs") || is(b, "exterior"), inner = is(b, "innerBoundaryIs") || is(b, "interior");
    if (!outer && !inner)
      continue;
    if (outer && a.outer.n) {
      rc = vg_error_set(VG_E_MALFORMED, "%s: %s: two outer boundaries", c->what, w);
      break;
    }
    if (inner && (rc = add_hole(&a, c->what)) != VG_OK)
      break;
    rc = xml_ring(c, b, outer ? &a.outer : &a.holes[a.nholes - 1], latfirst, w);
    k++;
  }
  if (rc == VG_OK && !a.outer.n)
    rc = vg_error_set(VG_E_MALFORMED, "%s: %s: no outer boundary", c->what, w);
  if (rc == VG_OK)
    rc = xml_props(c, owner, &a, kml, w);
  if (rc == VG_OK && !a.name[0])
    snprintf(a.name, sizeof a.name, "area %zu", c->n + 1);
  if (rc == VG_OK)
    rc = acc_push(c, &a);
  area_free(&a);
  (void)k;
  return rc;
}

/* Every Polygon under @p n: in KML the nearest Placemark above it gives its properties. */
static int xml_walk(acc *c, const xmlNode *n, const xmlNode *placemark, int kml, int latfirst, int depth)
{
  int rc = VG_OK;
  if (depth > 64)
    return vg_error_set(VG_E_LIMIT, "%s: elements nested deeper than 64", c->what);
  for (const xmlNode *k = n->children; k && rc == VG_OK; k = k->next) {
    if (k->type != XML_ELEMENT_NODE)
      continue;
    if (is(k, "Polygon")) {
      int lf = latfirst;
      if (!kml) {
        xmlChar *srs = xmlGetProp(k, (const xmlChar *)"srsName");
        if (srs) { /* the OGC URN and URI forms of geographic CRSs are latitude first (posList) */
          const char *t = (const char *)srs;
          lf = (strstr(t, "urn:ogc:def:crs:EPSG::") || strstr(t, "/def/crs/EPSG/0/")) &&
               (strstr(t, "4326") || strstr(t, "4258"));
          xmlFree(srs);
        }
      }
      rc = xml_polygon(c, k, kml ? placemark : k, kml, lf);
    } else
      rc = xml_walk(c, k, is(k, "Placemark") ? k : placemark, kml, latfirst, depth + 1);
  }
  return rc;
}

static int read_xml(acc *c, const uint8_t *buf, size_t len)
{
  xmlDocPtr doc;
  const xmlNode *root;
  int rc, kml;
  if (len > (size_t)INT32_MAX)
    return vg_error_set(VG_E_LIMIT, "%s: too large", c->what);
  doc = xmlReadMemory((const char *)buf, (int)len, NULL, NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
  if (!doc) {
    const xmlError *e = xmlGetLastError();
    return vg_error_set(VG_E_MALFORMED, "%s: not well-formed XML (line %d: %s)", c->what, e ? e->line : 0,
                        e && e->message ? e->message : "?");
  }
  root = xmlDocGetRootElement(doc);
  kml = root && !strcmp((const char *)root->name, "kml");
  rc = root ? xml_walk(c, (const xmlNode *)doc, NULL, kml, 0, 0) : vg_error_set(VG_E_MALFORMED, "%s: empty", c->what);
  xmlFreeDoc(doc);
  return rc;
}

/* ---- entry points ----------------------------------------------------------------------------- */

int vg_plan_areas_read(vg_plan_areas *out, const uint8_t *buf, size_t len, const char *what)
{
  acc c = {NULL, 0, 0, what ? what : "areas"};
  size_t i = 0;
  int rc;
  if (!out || (!buf && len))
    return vg_error_set(VG_E_INVALID, "areas: no buffer");
  if (len > VG_PLAN_FILE_MAX)
    return vg_error_set(VG_E_LIMIT, "%s: %zu bytes (at most %u)", c.what, len, VG_PLAN_FILE_MAX);
  if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
    i = 3; /* a UTF-8 byte order mark */
  while (i < len && isspace(buf[i]))
    i++;
  if (i < len && buf[i] == '{')
    rc = read_geojson(&c, buf + i, len - i);
  else if (i < len && buf[i] == '<')
    rc = read_xml(&c, buf + i, len - i);
  else
    rc = vg_error_set(VG_E_UNSUPPORTED, "%s: neither GeoJSON nor KML/GML (first byte 0x%02x)", c.what,
                      i < len ? buf[i] : 0);
  if (rc == VG_OK && !c.n)
    rc = vg_error_set(VG_E_MALFORMED, "%s: no polygon", c.what);
  if (rc != VG_OK) {
    vg_plan_areas a = {c.a, c.n};
    vg_plan_areas_free(&a);
    return rc;
  }
  out->a = c.a;
  out->n = c.n;
  return VG_OK;
}

int vg_plan_areas_load(vg_plan_areas *out, const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  int rc = VG_OK;
  if (!f)
    return vg_error_set(VG_E_IO, "%s: %s", path, strerror(errno));
  while (rc == VG_OK) {
    size_t got;
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 65536;
      uint8_t *t;
      if (cap > VG_PLAN_FILE_MAX) {
        rc = vg_error_set(VG_E_LIMIT, "%s: more than %u bytes", path, VG_PLAN_FILE_MAX);
        break;
      }
      if (!(t = realloc(buf, nc))) {
        rc = vg_error_set(VG_E_NOMEM, "%s", path);
        break;
      }
      buf = t;
      cap = nc;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        rc = vg_error_set(VG_E_IO, "%s: read error", path);
      break;
    }
  }
  fclose(f);
  if (rc == VG_OK)
    rc = vg_plan_areas_read(out, buf, n, path);
  free(buf);
  return rc;
}
