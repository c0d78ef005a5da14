/*
 * Sites as products: the marking of a site derived from the markings of the
 * sources its observations came from, and the collection of the sites
 * released to a recipient -- through vg_release_allowed, the one release
 * decision, every decision reported to the caller (the audit chain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/geo.h"
#include "vigia/products.h"

static const char *const k_class_word[] = {NULL, "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET",
                                           "TOP SECRET"};

static int cmp_code(const void *a, const void *b)
{
  const char *x = a, *y = b;
  /* USA first (CAPCO), then alphabetical */
  if (!strcmp(x, "USA") || !strcmp(y, "USA"))
    return strcmp(x, "USA") ? 1 : strcmp(y, "USA") ? -1 : 0;
  return strcmp(x, y);
}

int vg_marking_from_pose(const vg_klv_pose *p, vg_marking *out)
{
  char banner[VG_MARKING_BANNER_MAX], codes[VG_MARKING_MAX_REL][4];
  int nc = 0, noforn = 0;
  size_t len;
  vg_marking_unmarked(out);
  if (!p || !vg_klv_pose_has(p, VG_POSE_SECURITY))
    return vg_error_set(VG_E_MALFORMED, "marking: the video carries no ST 0102 security set");
  if (p->security_class < 1 || p->security_class > 5)
    return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 classification %u", p->security_class);
  if (p->security_method != 0x0E && p->security_method != 0x02)
    return vg_error_set(VG_E_MALFORMED,
                        "marking: ST 0102 country coding method %u (GENC or ISO 3166 three-letter wanted)",
                        p->security_method);
  /* releasing instructions: space-separated trigraphs, or NOFORN */
  {
    const char *r = p->security_rel;
    while (*r) {
      size_t k = strcspn(r, " ");
      if (k == 6 && !strncmp(r, "NOFORN", 6))
        noforn = 1;
      else if (k == 3 && nc < VG_MARKING_MAX_REL) {
        memcpy(codes[nc], r, 3);
        codes[nc][3] = 0;
        nc++;
      } else if (k)
        return vg_error_set(VG_E_MALFORMED, "marking: ST 0102 releasing instructions '%s'", p->security_rel);
      r += k;
      while (*r == ' ')
        r++;
    }
  }
  qsort(codes, (size_t)nc, sizeof codes[0], cmp_code);
  len = (size_t)snprintf(banner, sizeof banner, "%s", k_class_word[p->security_class]);
  if (p->security_caveats[0] && len < sizeof banner)
    len += (size_t)snprintf(banner + len, sizeof banner - len, "//%s", p->security_caveats);
  if (noforn && len < sizeof banner)
    len += (size_t)snprintf(banner + len, sizeof banner - len, "//NOFORN");
  for (int i = 0; i < nc && len < sizeof banner; i++)
    len += (size_t)snprintf(banner + len, sizeof banner - len, i ? ", %s" : "//REL TO %s", codes[i]);
  if (len >= sizeof banner)
    return vg_error_set(VG_E_LIMIT, "marking: ST 0102 set longer than a banner");
  return vg_marking_parse(banner, out);
}

int vg_site_marking(vg_register *reg, int64_t site_id, vg_marking *out)
{
  char **m = NULL;
  size_t n = 0;
  int rc;
  vg_marking_unmarked(out);
  if ((rc = vg_register_site_markings(reg, site_id, &m, &n)) != VG_OK)
    return rc;
  for (size_t i = 0; i < n; i++) {
    vg_marking one;
    if (!m[i][0] || vg_marking_parse(m[i], &one) != VG_OK)
      vg_marking_unmarked(&one); /* an unmarked or unreadable source taints the site */
    if (i == 0)
      *out = one;
    else
      vg_marking_derive(out, &one);
  }
  vg_register_markings_free(m, n);
  vg_error_clear();
  return VG_OK;
}

/*
 * The marking cache: a site's derived marking keyed by (id, number of observations). A
 * site's marking changes only when an observation joins it (observations are never edited,
 * moved or removed; a duplicate is refused before fusion and adds none), and every observation
 * fused raises nobs, so an entry whose nobs still matches is the marking the register would
 * give. Open addressing on the id; the caller serialises access (the server's register mutex).
 */
typedef struct {
  int64_t id, nobs; /* id 0: empty */
  double cov[4], ce90; /* the last CE90 computed for the site, and the covariance it is of */
  vg_marking m;
  char banner[VG_MARKING_BANNER_MAX];
} mc_entry;

struct vg_marking_cache {
  mc_entry *e;
  size_t n, cap; /* cap a power of two */
  uint64_t hits, misses;
};

int vg_marking_cache_new(vg_marking_cache **out)
{
  vg_marking_cache *c = calloc(1, sizeof *c);
  if (!c)
    return vg_error_set(VG_E_NOMEM, "marking cache");
  *out = c;
  return VG_OK;
}

void vg_marking_cache_free(vg_marking_cache *c)
{
  if (!c)
    return;
  free(c->e);
  free(c);
}

void vg_marking_cache_stats(const vg_marking_cache *c, uint64_t *hits, uint64_t *misses)
{
  *hits = c ? c->hits : 0;
  *misses = c ? c->misses : 0;
}

static size_t mc_slot(const vg_marking_cache *c, int64_t id)
{
  size_t i = (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 17) & (c->cap - 1);
  while (c->e[i].id && c->e[i].id != id)
    i = (i + 1) & (c->cap - 1);
  return i;
}

static int mc_put(vg_marking_cache *c, int64_t id, int64_t nobs, const vg_marking *m, const char *banner)
{
  size_t i;
  if (2 * (c->n + 1) > c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 1024, oc = c->cap;
    mc_entry *old = c->e, *ne = calloc(nc, sizeof *ne);
    if (!ne)
      return vg_error_set(VG_E_NOMEM, "marking cache of %zu sites", nc);
    c->e = ne;
    c->cap = nc;
    c->n = 0;
    for (size_t k = 0; k < oc; k++)
      if (old[k].id) {
        size_t j = mc_slot(c, old[k].id);
        c->e[j] = old[k];
        c->n++;
      }
    free(old);
  }
  i = mc_slot(c, id);
  if (!c->e[i].id)
    c->n++;
  if (c->e[i].id != id)
    c->e[i].ce90 = 0;
  c->e[i].id = id;
  c->e[i].nobs = nobs;
  c->e[i].m = *m;
  snprintf(c->e[i].banner, sizeof c->e[i].banner, "%s", banner);
  return VG_OK;
}

int vg_products_collect(vg_register *reg, const double box[4], const vg_recipient *r, vg_release_fn fn,
                        void *ud, vg_product_site **out, size_t *n)
{
  return vg_products_collect_cached(reg, box, r, fn, ud, NULL, out, n);
}

int vg_products_collect_cached(vg_register *reg, const double box[4], const vg_recipient *r, vg_release_fn fn,
                               void *ud, vg_marking_cache *cache, vg_product_site **out, size_t *n)
{
  vg_site *s = NULL;
  vg_product_site *v = NULL;
  size_t ns = 0, k = 0;
  int rc;
  *out = NULL;
  *n = 0;
  if ((rc = vg_register_box(reg, box[0], box[1], box[2], box[3], 0, &s, &ns)) != VG_OK)
    return rc;
  if (ns && !(v = calloc(ns, sizeof *v))) {
    free(s);
    return vg_error_set(VG_E_NOMEM, "%zu sites", ns);
  }
  for (size_t i = 0; i < ns; i++) {
    vg_product_site *p = &v[k];
    vg_release_event e;
    char why[256];
    if (s[i].state != VG_SITE_CANDIDATE && s[i].state != VG_SITE_CONFIRMED)
      continue; /* dismissed by an analyst, or gone inactive: not a product */
    {
      size_t slot = cache && cache->cap ? mc_slot(cache, s[i].id) : 0;
      if (cache && cache->cap && cache->e[slot].id == s[i].id && cache->e[slot].nobs == s[i].nobs) {
        p->marking = cache->e[slot].m;
        memcpy(p->banner, cache->e[slot].banner, sizeof p->banner);
        cache->hits++;
      } else {
        if ((rc = vg_site_marking(reg, s[i].id, &p->marking)) != VG_OK)
          break;
        if (vg_marking_format(&p->marking, p->banner, sizeof p->banner) != VG_OK)
          snprintf(p->banner, sizeof p->banner, "UNMARKED");
        if (cache) {
          cache->misses++;
          if ((rc = mc_put(cache, s[i].id, s[i].nobs, &p->marking, p->banner)) != VG_OK)
            break;
        }
      }
    }
    e.site_id = s[i].id;
    e.allowed = vg_release_allowed(&p->marking, r, why);
    e.banner = p->banner;
    e.why = why;
    if (fn)
      fn(ud, &e);
    if (!e.allowed)
      continue;
    p->site = s[i];
    /* CE90 (an integral solved by Newton's method) once per covariance the site takes */
    if (cache && cache->cap) {
      mc_entry *ce = &cache->e[mc_slot(cache, s[i].id)];
      if (ce->id == s[i].id && ce->ce90 > 0 && !memcmp(ce->cov, s[i].cov_en, sizeof ce->cov))
        p->ce90_m = ce->ce90;
      else {
        p->ce90_m = vg_geo_ce90(s[i].cov_en);
        if (ce->id == s[i].id) {
          memcpy(ce->cov, s[i].cov_en, sizeof ce->cov);
          ce->ce90 = p->ce90_m;
        }
      }
    } else
      p->ce90_m = vg_geo_ce90(s[i].cov_en);
    k++;
  }
  free(s);
  if (rc != VG_OK) {
    free(v);
    return rc;
  }
  *out = v;
  *n = k;
  return VG_OK;
}
