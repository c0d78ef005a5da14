/*
 * The score of a site register against a simulation's truth.
 *
 * Truth (truth.geojson, RFC 7946 subset, read with jansson):
 *
 *   { "type": "FeatureCollection",
 *     "features": [
 *       { "type": "Feature",
 *         "geometry": { "type": "Point", "coordinates": [lon, lat] | [lon, lat, h] },
 *         "properties": { "id": "S1", "role": "site" | "distractor", "type": "tarp",
 *                         "pass": 2 (optional, >= 1), ...other keys ignored } }, ... ] }
 *
 * Strict: anything else is refused with the file and the feature (index and
 * id when known) in the message.
 *
 * Score:
 *   scored   = sites of the register in the state asked (confirmed; or
 *              candidate or confirmed) within margin_m of some truth item;
 *   matching = every (scored site, truth site) pair within tolerance_m, by
 *              distance ascending (ties: lower site id, then lower truth
 *              index), taken greedily one-to-one;
 *   distance = horizontal, on the local tangent plane at the truth item
 *              (vg_fuse_en: the sphere of lib/sites, R = 6371008.8 m); at the
 *              tolerances and margins used here (metres to a kilometre) it
 *              differs from the geodesic by far less than a centimetre;
 *   percentiles (median, p90) by linear interpolation between closest ranks
 *              (Hyndman & Fan type 7, numpy's default): h = (n - 1) q,
 *              x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vigia/geo.h"
#include "vigia/sim.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8 /* the sphere of vg_fuse_en (lib/sites/fuse.c) */

/* Most features a truth file may hold: a scenario has tens of objects; the
 * matching looks at every (site, truth) pair, so this bounds its work too. */
#define SCORE_TRUTH_MAX 100000
/* Most register sites scored in one call (the box around the truth). */
#define SCORE_SITES_MAX 1000000
/* Below this cosine of the latitude the box spans every longitude. */
#define SCORE_COS_MIN 1e-6

/* ---- truth ------------------------------------------------------------------------------- */

/* Copies a required string property into dst[cap]; errors name the file and the feature. */
static int prop_str(const char *path, size_t i, const char *fid, json_t *props, const char *key, char *dst,
                    size_t cap)
{
  json_t *v = json_object_get(props, key);
  const char *s;
  size_t len;
  if (!v)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu%s%s%s: property \"%s\" is missing", path, i,
                        fid ? " (" : "", fid ? fid : "", fid ? ")" : "", key);
  if (!json_is_string(v))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu%s%s%s: property \"%s\" is not a string", path, i,
                        fid ? " (" : "", fid ? fid : "", fid ? ")" : "", key);
  s = json_string_value(v);
  len = json_string_length(v);
  if (!len)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu%s%s%s: property \"%s\" is empty", path, i,
                        fid ? " (" : "", fid ? fid : "", fid ? ")" : "", key);
  if (len >= cap || strlen(s) != len)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu%s%s%s: property \"%s\" is %s (at most %zu bytes)",
                        path, i, fid ? " (" : "", fid ? fid : "", fid ? ")" : "", key,
                        len >= cap ? "too long" : "holds a NUL", cap - 1);
  memcpy(dst, s, len + 1);
  return VG_OK;
}

/* One feature into *it. */
static int read_feature(const char *path, size_t i, json_t *f, vg_truth_item *it)
{
  json_t *g, *c, *props, *pass;
  const char *gt;
  double v[3];
  size_t nc;
  int rc;
  memset(it, 0, sizeof *it);
  if (!json_is_object(f) || !json_is_string(json_object_get(f, "type")) ||
      strcmp(json_string_value(json_object_get(f, "type")), "Feature"))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu: not an object of type \"Feature\"", path, i);
  props = json_object_get(f, "properties");
  if (!json_is_object(props))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu: no \"properties\" object", path, i);
  /* the id first, so the other messages can name the feature */
  if ((rc = prop_str(path, i, NULL, props, "id", it->id, sizeof it->id)) != VG_OK)
    return rc;
  g = json_object_get(f, "geometry");
  if (!json_is_object(g) || !json_is_string(json_object_get(g, "type")))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): no geometry object with a type", path, i, it->id);
  gt = json_string_value(json_object_get(g, "type"));
  if (strcmp(gt, "Point"))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): geometry is a %s, not a Point", path, i, it->id,
                        gt);
  c = json_object_get(g, "coordinates");
  nc = json_is_array(c) ? json_array_size(c) : 0;
  if (nc != 2 && nc != 3)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): coordinates are not [lon, lat] or [lon, lat, h]",
                        path, i, it->id);
  for (size_t k = 0; k < nc; k++) {
    json_t *e = json_array_get(c, k);
    if (!json_is_number(e) || !isfinite(json_number_value(e)))
      return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): coordinate %zu is not a number", path, i, it->id,
                          k);
    v[k] = json_number_value(e);
  }
  if (v[1] < -90 || v[1] > 90)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): latitude %g outside [-90, 90]", path, i, it->id,
                        v[1]);
  if (v[0] < -180 || v[0] > 180)
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): longitude %g outside [-180, 180]", path, i,
                        it->id, v[0]);
  it->lon = v[0];
  it->lat = v[1];
  if ((rc = prop_str(path, i, it->id, props, "role", it->role, sizeof it->role)) != VG_OK)
    return rc;
  if (strcmp(it->role, "site") && strcmp(it->role, "distractor"))
    return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): role \"%s\" is neither \"site\" nor \"distractor\"",
                        path, i, it->id, it->role);
  if ((rc = prop_str(path, i, it->id, props, "type", it->type, sizeof it->type)) != VG_OK)
    return rc;
  pass = json_object_get(props, "pass");
  if (pass) {
    json_int_t p = json_is_integer(pass) ? json_integer_value(pass) : 0;
    if (p < 1 || p > INT32_MAX)
      return vg_error_set(VG_E_MALFORMED, "%s: feature %zu (%s): pass is not an integer >= 1", path, i, it->id);
    it->pass = (int)p;
  }
  return VG_OK;
}

/* The truth in a parsed document (@p path names it in messages). */
static int truth_from_json(const char *path, json_t *root, vg_truth_item **out, size_t *n)
{
  json_t *feats, *t;
  vg_truth_item *items = NULL;
  size_t m = 0;
  int rc = VG_OK;
  t = json_object_get(root, "type");
  if (!json_is_object(root) || !json_is_string(t) || strcmp(json_string_value(t), "FeatureCollection")) {
    rc = vg_error_set(VG_E_MALFORMED, "%s: not a GeoJSON FeatureCollection", path);
    goto done;
  }
  feats = json_object_get(root, "features");
  if (!json_is_array(feats)) {
    rc = vg_error_set(VG_E_MALFORMED, "%s: the FeatureCollection has no \"features\" array", path);
    goto done;
  }
  m = json_array_size(feats);
  if (m > SCORE_TRUTH_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "%s: %zu features (at most %d)", path, m, SCORE_TRUTH_MAX);
    goto done;
  }
  items = calloc(m ? m : 1, sizeof *items);
  if (!items) {
    rc = vg_error_set(VG_E_NOMEM, "%s: %zu features", path, m);
    goto done;
  }
  for (size_t i = 0; i < m; i++)
    if ((rc = read_feature(path, i, json_array_get(feats, i), &items[i])) != VG_OK)
      goto done;
  *out = items;
  *n = m;
  items = NULL;
done:
  free(items);
  return rc;
}

int vg_truth_read(const char *path, vg_truth_item **out, size_t *n)
{
  json_error_t je;
  json_t *root;
  int rc;
  if (!path || !out || !n)
    return vg_error_set(VG_E_INVALID, "vg_truth_read: NULL argument");
  root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    if (json_error_code(&je) == json_error_cannot_open_file)
      return vg_error_set(VG_E_IO, "%s: %s", path, je.text);
    return vg_error_set(VG_E_MALFORMED, "%s:%d:%d: %s", path, je.line, je.column, je.text);
  }
  rc = truth_from_json(path, root, out, n);
  json_decref(root);
  return rc;
}

int vg_truth_parse(const char *text, size_t len, const char *name, vg_truth_item **out, size_t *n)
{
  json_error_t je;
  json_t *root;
  int rc;
  if (!text || !name || !out || !n)
    return vg_error_set(VG_E_INVALID, "vg_truth_parse: NULL argument");
  root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return vg_error_set(VG_E_MALFORMED, "%s:%d:%d: %s", name, je.line, je.column, je.text);
  rc = truth_from_json(name, root, out, n);
  json_decref(root);
  return rc;
}

/* ---- score ------------------------------------------------------------------------------- */

/* Horizontal distance (m) of a site from a truth item, on the tangent plane at the item. */
static double dist_m(const vg_truth_item *t, double lat, double lon)
{
  double en[2];
  vg_fuse_en(t->lat, t->lon, lat, lon, en);
  return hypot(en[0], en[1]);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Percentile q in [0, 1] of x[0..n) (sorted here), linear interpolation; NAN when n = 0. */
static double percentile(double *x, size_t n, double q)
{
  double h, f;
  size_t k;
  if (!n)
    return NAN;
  qsort(x, n, sizeof *x, cmp_double);
  h = (double)(n - 1) * q;
  f = floor(h);
  k = (size_t)f;
  if (k + 1 >= n)
    return x[n - 1];
  return x[k] + (h - f) * (x[k + 1] - x[k]);
}

typedef struct pair {
  double d;
  int64_t id;
  size_t site;  /* index into the scored sites */
  size_t truth; /* index into the truth */
} pair;

static int cmp_pair(const void *a, const void *b)
{
  const pair *x = a, *y = b;
  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return x->truth < y->truth ? -1 : x->truth > y->truth;
}

static int cmp_site_id(const void *a, const void *b)
{
  const vg_site *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The box (deg) around every truth item, widened by margin_m. */
static void truth_box(const vg_truth_item *t, size_t n, double margin_m, double box[4])
{
  double la0 = 90, la1 = -90, lo0 = 180, lo1 = -180, dlat = margin_m / (R_EARTH * DEG), c, dlon;
  for (size_t i = 0; i < n; i++) {
    la0 = fmin(la0, t[i].lat);
    la1 = fmax(la1, t[i].lat);
    lo0 = fmin(lo0, t[i].lon);
    lo1 = fmax(lo1, t[i].lon);
  }
  la0 = fmax(la0 - dlat, -90);
  la1 = fmin(la1 + dlat, 90);
  /* the longitude span of margin_m is widest at the box's latitude farthest from the equator */
  c = cos(fmax(fabs(la0), fabs(la1)) * DEG);
  dlon = c > SCORE_COS_MIN ? margin_m / (R_EARTH * DEG * c) : 360;
  lo0 -= dlon;
  lo1 += dlon;
  if (lo0 < -180 || lo1 > 180) {
    /* across the antimeridian (or at a pole): every longitude; the distance filter decides */
    lo0 = -180;
    lo1 = 180;
  }
  box[0] = la0;
  box[1] = la1;
  box[2] = lo0;
  box[3] = lo1;
}

int vg_score_register(vg_register *reg, const vg_truth_item *truth, size_t n, const vg_score_opts *o,
                      vg_score *out)
{
  vg_score_opts def = VG_SCORE_OPTS_INIT;
  vg_score s;
  vg_site *all = NULL, *sc = NULL;
  pair *pairs = NULL;
  int *site_truth = NULL, *truth_taken = NULL;
  double *err = NULL, *ce50 = NULL, box[4];
  size_t nall = 0, nsc = 0, npairs = 0, cap_pairs = 0, ntruth_sites = 0, nmiss, within = 0;
  int rc = VG_OK;

  memset(&s, 0, sizeof s);
  if (!o)
    o = &def;
  if (!reg || !out || (n && !truth))
    return vg_error_set(VG_E_INVALID, "vg_score_register: NULL argument");
  if (o->version != VG_SCORE_OPTS_VERSION)
    return vg_error_set(VG_E_INVALID, "vg_score_opts version %d (this library: %d)", o->version,
                        VG_SCORE_OPTS_VERSION);
  if (!(o->tolerance_m >= 0) || !isfinite(o->tolerance_m) || !(o->margin_m >= 0) || !isfinite(o->margin_m))
    return vg_error_set(VG_E_INVALID, "score: tolerance %g m and margin %g m must be finite and >= 0",
                        o->tolerance_m, o->margin_m);
  if (n > SCORE_TRUTH_MAX)
    return vg_error_set(VG_E_LIMIT, "score: %zu truth items (at most %d)", n, SCORE_TRUTH_MAX);
  for (size_t j = 0; j < n; j++) {
    if (!isfinite(truth[j].lat) || !isfinite(truth[j].lon) || fabs(truth[j].lat) > 90 || fabs(truth[j].lon) > 180)
      return vg_error_set(VG_E_INVALID, "score: truth item %zu (%.63s) at (%g, %g)", j, truth[j].id, truth[j].lat,
                          truth[j].lon);
    ntruth_sites += !strcmp(truth[j].role, "site");
  }

  /* the register's sites near the truth */
  if (n) {
    truth_box(truth, n, o->margin_m, box);
    if ((rc = vg_register_box(reg, box[0], box[1], box[2], box[3], SCORE_SITES_MAX + 1, &all, &nall)) != VG_OK)
      goto done;
    if (nall > SCORE_SITES_MAX) {
      rc = vg_error_set(VG_E_LIMIT, "score: more than %d register sites around the truth", SCORE_SITES_MAX);
      goto done;
    }
  }
  sc = malloc((nall ? nall : 1) * sizeof *sc);
  if (!sc) {
    rc = vg_error_set(VG_E_NOMEM, "score: %zu sites", nall);
    goto done;
  }
  for (size_t i = 0; i < nall; i++) {
    const vg_site *x = &all[i];
    int state_ok = x->state == VG_SITE_CONFIRMED || (o->any_state && x->state == VG_SITE_CANDIDATE);
    int near = 0;
    if (!state_ok)
      continue;
    for (size_t j = 0; j < n && !near; j++)
      near = dist_m(&truth[j], x->lat, x->lon) <= o->margin_m;
    if (near)
      sc[nsc++] = *x;
  }
  qsort(sc, nsc, sizeof *sc, cmp_site_id);

  /* candidate pairs, nearest first, taken one-to-one */
  for (size_t i = 0; i < nsc; i++)
    for (size_t j = 0; j < n; j++) {
      double d;
      if (strcmp(truth[j].role, "site"))
        continue;
      d = dist_m(&truth[j], sc[i].lat, sc[i].lon);
      if (!(d <= o->tolerance_m))
        continue;
      if (npairs == cap_pairs) {
        size_t nc = cap_pairs ? 2 * cap_pairs : 64;
        pair *np = realloc(pairs, nc * sizeof *np);
        if (!np) {
          rc = vg_error_set(VG_E_NOMEM, "score: %zu pairs", nc);
          goto done;
        }
        pairs = np;
        cap_pairs = nc;
      }
      pairs[npairs++] = (pair){d, sc[i].id, i, j};
    }
  if (npairs)
    qsort(pairs, npairs, sizeof *pairs, cmp_pair);
  site_truth = malloc((nsc ? nsc : 1) * sizeof *site_truth);
  truth_taken = calloc(n ? n : 1, sizeof *truth_taken);
  err = malloc((nsc ? nsc : 1) * sizeof *err);
  ce50 = malloc((nsc ? nsc : 1) * sizeof *ce50);
  if (!site_truth || !truth_taken || !err || !ce50) {
    rc = vg_error_set(VG_E_NOMEM, "score: %zu sites, %zu truth items", nsc, n);
    goto done;
  }
  for (size_t i = 0; i < nsc; i++)
    site_truth[i] = -1;
  for (size_t k = 0; k < npairs; k++)
    if (site_truth[pairs[k].site] < 0 && !truth_taken[pairs[k].truth]) {
      site_truth[pairs[k].site] = (int)pairs[k].truth;
      truth_taken[pairs[k].truth] = 1;
      s.found++;
    }

  /* rows: the scored sites by id, then the truth sites nobody found */
  nmiss = ntruth_sites - s.found;
  s.nrows = nsc + nmiss;
  s.rows = calloc(s.nrows ? s.nrows : 1, sizeof *s.rows);
  if (!s.rows) {
    rc = vg_error_set(VG_E_NOMEM, "score: %zu rows", s.nrows);
    goto done;
  }
  for (size_t i = 0; i < nsc; i++) {
    vg_score_row *r = &s.rows[i];
    r->site_id = sc[i].id;
    r->state = sc[i].state;
    r->p = vg_fuse_prob(sc[i].logodds);
    r->truth = site_truth[i];
    r->distractor = -1;
    r->error_m = NAN;
    r->ce50_m = vg_geo_ce(sc[i].cov_en, 0.5);
    r->ce90_m = vg_geo_ce90(sc[i].cov_en);
    if (r->truth >= 0) {
      r->error_m = dist_m(&truth[r->truth], sc[i].lat, sc[i].lon);
    } else {
      double best = INFINITY;
      for (size_t j = 0; j < n; j++) {
        double d;
        if (strcmp(truth[j].role, "distractor"))
          continue;
        d = dist_m(&truth[j], sc[i].lat, sc[i].lon);
        if (d <= o->tolerance_m && d < best) {
          best = d;
          r->distractor = (int)j;
        }
      }
      s.false_pos++;
      s.on_distractor += r->distractor >= 0;
    }
  }
  {
    size_t k = nsc;
    for (size_t j = 0; j < n; j++) {
      vg_score_row *r;
      if (strcmp(truth[j].role, "site") || truth_taken[j])
        continue;
      r = &s.rows[k++];
      r->site_id = 0;
      r->state = VG_SITE_CANDIDATE;
      r->p = NAN;
      r->truth = (int)j;
      r->distractor = -1;
      r->error_m = r->ce50_m = r->ce90_m = NAN;
    }
  }

  /* statistics */
  s.truth_sites = ntruth_sites;
  s.scored = nsc;
  s.recall = ntruth_sites ? (double)s.found / (double)ntruth_sites : NAN;
  s.precision = nsc ? (double)s.found / (double)nsc : NAN;
  {
    size_t m = 0;
    for (size_t i = 0; i < nsc; i++) {
      const vg_score_row *r = &s.rows[i];
      if (r->truth < 0)
        continue;
      err[m] = r->error_m;
      ce50[m] = r->ce50_m;
      within += r->error_m <= r->ce90_m;
      m++;
    }
    s.err_median_m = percentile(err, m, 0.5);
    s.err_p90_m = percentile(err, m, 0.9);
    s.err_max_m = m ? err[m - 1] : NAN; /* sorted by percentile() */
    s.ce50_median_m = percentile(ce50, m, 0.5);
    s.err_over_ce50 = m && s.ce50_median_m > 0 ? s.err_median_m / s.ce50_median_m : NAN;
    s.within_ce90 = m ? (double)within / (double)m : NAN;
  }
  *out = s;
  s.rows = NULL;
done:
  free(s.rows);
  free(all);
  free(sc);
  free(pairs);
  free(site_truth);
  free(truth_taken);
  free(err);
  free(ce50);
  return rc;
}

void vg_score_free(vg_score *s)
{
  if (!s)
    return;
  free(s->rows);
  memset(s, 0, sizeof *s);
}
