/*
 * The register: one ingest algorithm over the store primitives of
 * sites_int.h, so every store behaves the same.
 *
 * Ingest of a batch (one transaction): for each observation not already
 * stored (key flight, frame, detector, seq), the sites within the search box
 * around it are gated by Mahalanobis distance; the nearest inside the gate
 * (smallest d2, then lowest id) absorbs it, else it starts a site. Sites made
 * earlier in the batch are seen by later observations (the transaction sees
 * its own writes). A failure rolls the whole batch back, so a killed or
 * failed ingest leaves the register as it was and a rerun does it again.
 *
 * Coverage gives each site in a frame's footprint that the flight has not
 * detected a miss, once per flight (fuse.c: evidence counts per pass). The
 * site's own pass state says whether the flight detected it, because a
 * frame's detections are ingested before its coverage; no observation is
 * looked up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sites_int.h"

/* Search radius for candidate sites: sqrt(gate) sigmas of the observation
 * plus this much for the site's own uncertainty (m). A site whose sigma is
 * larger than this may be missed by a far detection, which then starts a new
 * site: kept honest by VG_SITES_SEARCH_SITE_SIGMA being well above the CE90
 * of metadata geolocation (research/geo-plan.md A5: tens of metres). */
#define VG_SITES_SEARCH_SITE_SIGMA 200.0
#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8

struct vg_register {
  void *db;
  const vg__store_ops *ops;
};

static int starts_with(const char *s, const char *p)
{
  return !strncmp(s, p, strlen(p));
}

int vg_register_open(vg_register **out, const char *uri)
{
  vg_register *r;
  int rc;
  if (!uri || !*uri)
    return vg_error_set(VG_E_INVALID, "no register given (a file path, or postgresql://...)");
  r = calloc(1, sizeof *r);
  if (!r)
    return vg_error_set(VG_E_NOMEM, "register");
  if (starts_with(uri, "postgresql://") || starts_with(uri, "postgres://"))
    rc = vg__store_pg_open(uri, &r->db, &r->ops);
  else
    rc = vg__store_sqlite_open(uri, &r->db, &r->ops);
  if (rc != VG_OK) {
    free(r);
    return rc;
  }
  *out = r;
  return VG_OK;
}

void vg_register_close(vg_register *r)
{
  if (!r)
    return;
  if (r->ops)
    r->ops->close(r->db);
  free(r);
}

const char *vg_register_kind(const vg_register *r)
{
  return r->ops->kind;
}

/* Box (deg) of a radius (m) around a point. */
static void box_of(double lat, double lon, double radius, double *la0, double *la1, double *lo0,
                   double *lo1)
{
  double dlat = radius / (R_EARTH * DEG);
  double c = cos(lat * DEG), dlon = radius / (R_EARTH * DEG * (c > 1e-6 ? c : 1e-6));
  *la0 = lat - dlat;
  *la1 = lat + dlat;
  *lo0 = lon - dlon;
  *lo1 = lon + dlon;
}

static int check_obs(const vg_obs *o)
{
  if (!memchr(o->flight, 0, sizeof o->flight) || !memchr(o->detector, 0, sizeof o->detector))
    return vg_error_set(VG_E_INVALID, "observation flight or detector name is not terminated");
  if (!isfinite(o->lat) || !isfinite(o->lon) || fabs(o->lat) > 90 || fabs(o->lon) > 360)
    return vg_error_set(VG_E_INVALID, "observation %s/%lld/%s/%d at (%g, %g): not a position",
                        o->flight, (long long)o->frame, o->detector, o->seq, o->lat, o->lon);
  if (!(o->cov_en[0] > 0) || !(o->cov_en[3] > 0) || !isfinite(o->cov_en[1]) ||
      o->cov_en[1] != o->cov_en[2] || o->cov_en[0] * o->cov_en[3] - o->cov_en[1] * o->cov_en[2] <= 0)
    return vg_error_set(VG_E_INVALID, "observation %s/%lld/%s/%d: covariance is not symmetric positive definite",
                        o->flight, (long long)o->frame, o->detector, o->seq);
  if ((unsigned)o->kind >= VG_EVID__COUNT)
    return vg_error_set(VG_E_INVALID, "observation %s/%lld/%s/%d: evidence kind %d", o->flight,
                        (long long)o->frame, o->detector, o->seq, (int)o->kind);
  if (o->marking && strnlen(o->marking, VG_SITES_MARKING_MAX + 1) > VG_SITES_MARKING_MAX)
    return vg_error_set(VG_E_LIMIT, "observation %s/%lld/%s/%d: marking longer than VG_SITES_MARKING_MAX",
                        o->flight, (long long)o->frame, o->detector, o->seq);
  if (o->chip_len > VG_SITES_CHIP_MAX)
    return vg_error_set(VG_E_LIMIT, "observation %s/%lld/%s/%d: chip of %zu bytes exceeds VG_SITES_CHIP_MAX",
                        o->flight, (long long)o->frame, o->detector, o->seq, o->chip_len);
  return VG_OK;
}

/*
 * A batch's working set: the sites read so far (later copies replaced by the
 * cached ones, which may have been fused in this batch) and the boxes already
 * read, so that neighbouring detections (a frame's, a strip's) read the store
 * once per area rather than once per detection; modified sites are written
 * once, at the end of the batch. Inside the batch's transaction nobody else
 * writes (SQLite BEGIN IMMEDIATE; PostgreSQL's writer lock), so the cache is
 * the truth.
 */
/* Cached sites are found through a grid of CACHE_CELL degrees: each site is
 * filed under the cell of the position it had when cached, and lookups widen
 * the box by CACHE_DRIFT, more than fusion can move a site within a batch
 * (moves are bounded by the gate: a few hundred metres at most). */
#define CACHE_CELL 0.01
#define CACHE_DRIFT 0.005
#define CACHE_HASH 4096
/* A batch spanning at most this many cells is read in one query. */
#define CACHE_PRELOAD_CELLS 2500

typedef struct {
  vg_site *s;
  uint8_t *dirty;
  int32_t *next;            /* chain in the cell's bucket */
  size_t n, cap;
  int32_t head[CACHE_HASH]; /* first site of each bucket, -1 */
  int64_t *cells;           /* open-addressing set of cells read (key = a * 2^32 + b + 1; 0 empty) */
  size_t ncells, capcells;  /* capcells a power of two */
} batch_cache;

static uint32_t cell_hash(long a, long b)
{
  uint64_t h = (uint64_t)(a * 73856093L) ^ (uint64_t)(b * 19349663L);
  return (uint32_t)(h ^ (h >> 17)) % CACHE_HASH;
}

static void cache_init(batch_cache *c)
{
  memset(c, 0, sizeof *c);
  for (int i = 0; i < CACHE_HASH; i++)
    c->head[i] = -1;
}

static void cache_free(batch_cache *c)
{
  free(c->s);
  free(c->dirty);
  free(c->next);
  free(c->cells);
}

/* A cell as a nonzero key (0 marks an empty slot): both indices as 32-bit
 * patterns, the top bits flipped so that only cell (-2^31, -2^31), far off
 * the Earth, could map to 0. */
static int64_t cell_key(long a, long b)
{
  uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint64_t)(uint32_t)b;
  return (int64_t)(k ^ 0x8000000080000000ull);
}

static int cells_has(const batch_cache *c, int64_t k)
{
  if (!c->capcells)
    return 0;
  for (size_t i = (size_t)((uint64_t)k * 0x9E3779B97F4A7C15ull >> 20) & (c->capcells - 1);; i = (i + 1) & (c->capcells - 1)) {
    if (c->cells[i] == k)
      return 1;
    if (!c->cells[i])
      return 0;
  }
}

static int cells_put(batch_cache *c, int64_t k)
{
  if (2 * (c->ncells + 1) > c->capcells) { /* keep it at most half full */
    size_t nc = c->capcells ? 2 * c->capcells : 1024;
    int64_t *old = c->cells, *nw = calloc(nc, sizeof *nw);
    size_t oc = c->capcells;
    if (!nw)
      return vg_error_set(VG_E_NOMEM, "ingest cache cells");
    c->cells = nw;
    c->capcells = nc;
    c->ncells = 0;
    for (size_t i = 0; i < oc; i++)
      if (old[i])
        cells_put(c, old[i]);
    free(old);
  }
  for (size_t i = (size_t)((uint64_t)k * 0x9E3779B97F4A7C15ull >> 20) & (c->capcells - 1);; i = (i + 1) & (c->capcells - 1)) {
    if (c->cells[i] == k)
      return VG_OK;
    if (!c->cells[i]) {
      c->cells[i] = k;
      c->ncells++;
      return VG_OK;
    }
  }
}

static long cell_of(double deg)
{
  return (long)floor(deg / CACHE_CELL);
}

/* Index of the cached site with this id, or -1 (looked up around its position). */
static long cache_find(const batch_cache *c, const vg_site *s)
{
  for (long a = cell_of(s->lat - CACHE_DRIFT); a <= cell_of(s->lat + CACHE_DRIFT); a++)
    for (long b = cell_of(s->lon - CACHE_DRIFT); b <= cell_of(s->lon + CACHE_DRIFT); b++)
      for (int32_t i = c->head[cell_hash(a, b)]; i >= 0; i = c->next[i])
        if (c->s[i].id == s->id)
          return i;
  return -1;
}

static int cache_add(batch_cache *c, const vg_site *s)
{
  uint32_t h;
  if (cache_find(c, s) >= 0)
    return VG_OK; /* the cached copy is the newer one */
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 256;
    vg_site *ns = realloc(c->s, nc * sizeof *ns);
    uint8_t *nd;
    int32_t *nx;
    if (!ns)
      return vg_error_set(VG_E_NOMEM, "ingest cache of %zu sites", nc);
    c->s = ns;
    if (!(nd = realloc(c->dirty, nc)))
      return vg_error_set(VG_E_NOMEM, "ingest cache of %zu sites", nc);
    c->dirty = nd;
    if (!(nx = realloc(c->next, nc * sizeof *nx)))
      return vg_error_set(VG_E_NOMEM, "ingest cache of %zu sites", nc);
    c->next = nx;
    c->cap = nc;
  }
  h = cell_hash(cell_of(s->lat), cell_of(s->lon));
  c->s[c->n] = *s;
  c->dirty[c->n] = 0;
  c->next[c->n] = c->head[h];
  c->head[h] = (int32_t)c->n;
  c->n++;
  return VG_OK;
}

/* Makes sure every site in the box is cached: the cells it overlaps are read
 * from the store (their whole area, once per batch). */
static int cache_cover(vg_register *r, batch_cache *c, double la0, double la1, double lo0, double lo1)
{
  long a0 = cell_of(la0), a1 = cell_of(la1), b0 = cell_of(lo0), b1 = cell_of(lo1);
  vg_site *got = NULL;
  size_t n = 0;
  int rc = VG_OK, all = 1;
  for (long a = a0; a <= a1 && all; a++)
    for (long b = b0; b <= b1 && all; b++)
      all = cells_has(c, cell_key(a, b));
  if (all)
    return VG_OK;
  if ((rc = r->ops->sites_box(r->db, a0 * CACHE_CELL, (a1 + 1) * CACHE_CELL, b0 * CACHE_CELL,
                              (b1 + 1) * CACHE_CELL, 0, &got, &n)) != VG_OK)
    return rc;
  for (size_t i = 0; i < n && rc == VG_OK; i++)
    rc = cache_add(c, &got[i]);
  free(got);
  for (long a = a0; a <= a1 && rc == VG_OK; a++)
    for (long b = b0; b <= b1 && rc == VG_OK; b++)
      rc = cells_put(c, cell_key(a, b));
  return rc;
}

/*
 * Observation keys known to be new. A batch is mostly one frame's detections
 * (or a few frames', by a few detectors): the store is asked once per
 * (flight, frame, detector) group whether it holds any of its observations;
 * when it holds none, a detection of the group is new unless the batch has
 * already used its seq, and the store is spared a lookup per detection.
 */
typedef struct {
  int32_t *group;   /* per observation: its group when the store has none of it, else -1 */
  uint64_t *seqs;   /* open-addressing set of (group + 1) << 32 | seq used (0 empty) */
  size_t cap;       /* of seqs: a power of two >= 2 n */
} fresh_keys;

static uint64_t key_hash(const vg_obs *o)
{
  uint64_t h = 1469598103934665603ull;
  size_t nf = strnlen(o->flight, sizeof o->flight), nd = strnlen(o->detector, sizeof o->detector);
  for (size_t i = 0; i < nf; i++)
    h = (h ^ (uint8_t)o->flight[i]) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (size_t i = 0; i < nd; i++)
    h = (h ^ (uint8_t)o->detector[i]) * 1099511628211ull;
  return (h ^ (uint64_t)o->frame) * 0x9E3779B97F4A7C15ull;
}

static int same_group(const vg_obs *a, const vg_obs *b)
{
  return a->frame == b->frame && strncmp(a->flight, b->flight, sizeof a->flight) == 0 &&
         strncmp(a->detector, b->detector, sizeof a->detector) == 0;
}

static void fresh_free(fresh_keys *f)
{
  free(f->group);
  free(f->seqs);
  memset(f, 0, sizeof *f);
}

/* Groups the batch and asks the store about each group once. */
static int fresh_build(vg_register *r, const vg_obs *obs, size_t n, fresh_keys *f)
{
  int32_t *slot = NULL, *rep = NULL, *empty = NULL;
  size_t cap = 16, ng = 0;
  int rc = VG_OK;
  memset(f, 0, sizeof *f);
  if (!n || !r->ops->obs_group_empty || n > INT32_MAX / 4)
    return VG_OK; /* no hints: every observation is looked up */
  while (cap < 2 * n)
    cap *= 2;
  f->group = malloc(n * sizeof *f->group);
  f->seqs = calloc(cap, sizeof *f->seqs);
  slot = malloc(cap * sizeof *slot);
  rep = malloc(n * sizeof *rep);
  empty = malloc(n * sizeof *empty);
  if (!f->group || !f->seqs || !slot || !rep || !empty) {
    rc = vg_error_set(VG_E_NOMEM, "ingest keys of %zu observations", n);
    goto out;
  }
  f->cap = cap;
  memset(slot, 0xff, cap * sizeof *slot);
  for (size_t i = 0; i < n; i++) {
    size_t k = (size_t)(key_hash(&obs[i]) >> 20) & (cap - 1);
    while (slot[k] >= 0 && !same_group(&obs[rep[slot[k]]], &obs[i]))
      k = (k + 1) & (cap - 1);
    if (slot[k] < 0) {
      rep[ng] = (int32_t)i;
      slot[k] = (int32_t)ng++;
    }
    f->group[i] = slot[k];
  }
  for (size_t g = 0; g < ng && rc == VG_OK; g++) {
    int e = 0;
    rc = r->ops->obs_group_empty(r->db, &obs[rep[g]], &e);
    empty[g] = e;
  }
  for (size_t i = 0; i < n && rc == VG_OK; i++)
    if (!empty[f->group[i]])
      f->group[i] = -1;
out:
  free(slot);
  free(rep);
  free(empty);
  if (rc != VG_OK)
    fresh_free(f);
  return rc;
}

/* 1 when observation i is known new (its first use of its key in the batch). */
static int fresh_take(fresh_keys *f, size_t i, int seq)
{
  uint64_t key;
  size_t k;
  if (!f->group || f->group[i] < 0)
    return 0;
  key = ((uint64_t)(f->group[i] + 1) << 32) | (uint32_t)seq;
  for (k = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (f->cap - 1); f->seqs[k];
       k = (k + 1) & (f->cap - 1))
    if (f->seqs[k] == key)
      return 0; /* a duplicate within the batch: the store finds the first one */
  f->seqs[k] = key;
  return 1;
}

static int ingest_one(vg_register *r, batch_cache *c, const vg_obs *o, int fresh,
                      const vg_fuse_params *p, vg_ingest_stats *st)
{
  const vg__store_ops *ops = r->ops;
  int64_t obs_id, site_id;
  int inserted, rc;
  double rad, la0, la1, lo0, lo1, best = INFINITY;
  size_t bi = 0;

  if ((rc = check_obs(o)) != VG_OK)
    return rc;
  if ((rc = ops->obs_insert(r->db, o, fresh, &obs_id, &inserted)) != VG_OK)
    return rc;
  if (!inserted) {
    st->obs_dup++;
    return VG_OK;
  }
  st->obs_new++;
  /* sqrt(trace) bounds the major axis of the observation's ellipse */
  rad = sqrt(p->gate) * (sqrt(o->cov_en[0] + o->cov_en[3]) + VG_SITES_SEARCH_SITE_SIGMA);
  box_of(o->lat, o->lon, rad, &la0, &la1, &lo0, &lo1);
  if ((rc = cache_cover(r, c, la0, la1, lo0, lo1)) != VG_OK)
    return rc;
  /* the nearest in the gate; ties to the lowest id, as the store's order would give */
  for (long a = cell_of(la0 - CACHE_DRIFT); a <= cell_of(la1 + CACHE_DRIFT); a++)
    for (long b = cell_of(lo0 - CACHE_DRIFT); b <= cell_of(lo1 + CACHE_DRIFT); b++)
      for (int32_t i = c->head[cell_hash(a, b)]; i >= 0; i = c->next[i]) {
        const vg_site *s = &c->s[i];
        double d2;
        if (s->lat < la0 || s->lat > la1 || s->lon < lo0 || s->lon > lo1)
          continue;
        if (vg_fuse_distance(s, o, &d2) == VG_OK && d2 <= p->gate &&
            (d2 < best || (d2 == best && s->id < c->s[bi].id))) {
          best = d2;
          bi = (size_t)i;
        }
      }
  if (isfinite(best)) {
    vg_fuse_update(&c->s[bi], o, p);
    c->dirty[bi] = 1;
    site_id = c->s[bi].id;
    st->sites_updated++;
  } else {
    vg_site ns;
    vg_fuse_init(&ns, o, p);
    if ((rc = ops->site_insert(r->db, &ns)) != VG_OK)
      return rc;
    if ((rc = cache_add(c, &ns)) != VG_OK)
      return rc;
    site_id = ns.id;
    st->sites_new++;
  }
  return ops->obs_assign(r->db, obs_id, site_id);
}

int vg_register_ingest(vg_register *r, const vg_obs *obs, size_t n, const vg_fuse_params *p_in,
                       vg_ingest_stats *st_out)
{
  vg_fuse_params p;
  vg_ingest_stats st;
  batch_cache c;
  fresh_keys fk;
  int rc;
  if (p_in)
    p = *p_in;
  else
    vg_fuse_params_default(&p);
  memset(&st, 0, sizeof st);
  cache_init(&c);
  if ((rc = r->ops->begin(r->db)) != VG_OK)
    return rc;
  /* A batch is usually one area (a frame, a strip of a flight): read all of
   * it in one query when it spans at most CACHE_PRELOAD_CELLS cells, rather
   * than cell by cell as detections reach them. */
  {
    double la0 = INFINITY, la1 = -INFINITY, lo0 = INFINITY, lo1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
      double a0, a1, b0, b1, tr = obs[i].cov_en[0] + obs[i].cov_en[3];
      if (!isfinite(obs[i].lat) || !isfinite(obs[i].lon) || !(tr >= 0) || !isfinite(tr))
        continue; /* check_obs reports it */
      box_of(obs[i].lat, obs[i].lon, sqrt(p.gate) * (sqrt(tr) + VG_SITES_SEARCH_SITE_SIGMA), &a0, &a1,
             &b0, &b1);
      la0 = a0 < la0 ? a0 : la0;
      la1 = a1 > la1 ? a1 : la1;
      lo0 = b0 < lo0 ? b0 : lo0;
      lo1 = b1 > lo1 ? b1 : lo1;
    }
    if (la0 <= la1 && lo0 <= lo1 &&
        (double)(cell_of(la1) - cell_of(la0) + 1) * (double)(cell_of(lo1) - cell_of(lo0) + 1) <=
            CACHE_PRELOAD_CELLS)
      rc = cache_cover(r, &c, la0, la1, lo0, lo1);
  }
  if (rc == VG_OK)
    rc = fresh_build(r, obs, n, &fk);
  else
    memset(&fk, 0, sizeof fk);
  for (size_t i = 0; i < n && rc == VG_OK; i++)
    rc = ingest_one(r, &c, &obs[i], fresh_take(&fk, i, obs[i].seq), &p, &st);
  fresh_free(&fk);
  /* the fused sites, once each */
  for (size_t i = 0; i < c.n && rc == VG_OK; i++)
    if (c.dirty[i])
      rc = r->ops->site_update(r->db, &c.s[i]);
  cache_free(&c);
  if (rc == VG_OK)
    rc = r->ops->commit(r->db);
  if (rc != VG_OK) {
    r->ops->rollback(r->db);
    return rc;
  }
  if (st_out) {
    st_out->obs_new += st.obs_new;
    st_out->obs_dup += st.obs_dup;
    st_out->sites_new += st.sites_new;
    st_out->sites_updated += st.sites_updated;
    st_out->misses += st.misses;
  }
  return VG_OK;
}

/* Point in polygon (lat/lon as a plane; footprints are small), even-odd rule. */
static int inside(double lat, double lon, const double *la, const double *lo, int n)
{
  int in = 0;
  for (int i = 0, j = n - 1; i < n; j = i++)
    if ((la[i] > lat) != (la[j] > lat) &&
        lon < (lo[j] - lo[i]) * (lat - la[i]) / (la[j] - la[i]) + lo[i])
      in = !in;
  return in;
}

int vg_register_coverage(vg_register *r, const char *flight, int64_t frame, int64_t time_us,
                         const double *lat, const double *lon, int npts, uint32_t kinds,
                         const vg_fuse_params *p_in, vg_ingest_stats *st)
{
  const vg__store_ops *ops = r->ops;
  vg_fuse_params p;
  double la0 = INFINITY, la1 = -INFINITY, lo0 = INFINITY, lo1 = -INFINITY;
  vg_site *c = NULL;
  size_t n = 0, misses = 0;
  int first = 0, rc;
  if (!flight)
    return vg_error_set(VG_E_INVALID, "coverage without a flight");
  if (npts < 3)
    return vg_error_set(VG_E_INVALID, "coverage polygon of %d points", npts);
  if (p_in)
    p = *p_in;
  else
    vg_fuse_params_default(&p);
  for (int i = 0; i < npts; i++) {
    if (!isfinite(lat[i]) || !isfinite(lon[i]))
      return vg_error_set(VG_E_INVALID, "coverage polygon point %d is not a position", i);
    la0 = lat[i] < la0 ? lat[i] : la0;
    la1 = lat[i] > la1 ? lat[i] : la1;
    lo0 = lon[i] < lo0 ? lon[i] : lo0;
    lo1 = lon[i] > lo1 ? lon[i] : lo1;
  }
  if ((rc = ops->begin(r->db)) != VG_OK)
    return rc;
  rc = ops->pass_mark(r->db, flight, frame, time_us, &first);
  if (rc == VG_OK && first)
    rc = ops->sites_box(r->db, la0, la1, lo0, lo1, 0, &c, &n);
  /* A site that this flight detected (its detections in this frame are ingested before the
   * frame's coverage) or already missed is left alone: vg_fuse_miss counts one miss per site
   * and flight, and only the sites it changed are written. */
  for (size_t i = 0; rc == VG_OK && first && i < n; i++) {
    int64_t nmiss = c[i].nmiss;
    if (!(c[i].kinds & kinds) || !inside(c[i].lat, c[i].lon, lat, lon, npts))
      continue;
    vg_fuse_miss(&c[i], flight, &p);
    if (c[i].nmiss == nmiss)
      continue;
    rc = ops->site_update(r->db, &c[i]);
    misses++;
  }
  free(c);
  if (rc == VG_OK)
    rc = ops->commit(r->db);
  if (rc != VG_OK) {
    ops->rollback(r->db);
    return rc;
  }
  if (st)
    st->misses += misses;
  return VG_OK;
}

int vg_register_site(vg_register *r, int64_t id, vg_site *out)
{
  return r->ops->site_get(r->db, id, out);
}

int vg_register_box(vg_register *r, double lat_min, double lat_max, double lon_min, double lon_max,
                    size_t max, vg_site **out, size_t *n)
{
  return r->ops->sites_box(r->db, lat_min, lat_max, lon_min, lon_max, max, out, n);
}

typedef struct {
  vg_site s;
  double d;
} near_t;

static int cmp_near(const void *a, const void *b)
{
  const near_t *x = a, *y = b;
  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  return x->s.id < y->s.id ? -1 : x->s.id > y->s.id;
}

int vg_register_near(vg_register *r, double lat, double lon, double radius_m, size_t max,
                     vg_site **out, size_t *n)
{
  double la0, la1, lo0, lo1;
  vg_site *c = NULL;
  near_t *t;
  size_t m = 0, k = 0;
  int rc;
  *out = NULL;
  *n = 0;
  if (!(radius_m > 0) || !isfinite(lat) || !isfinite(lon))
    return vg_error_set(VG_E_INVALID, "near (%g, %g) within %g m", lat, lon, radius_m);
  box_of(lat, lon, radius_m, &la0, &la1, &lo0, &lo1);
  if ((rc = r->ops->sites_box(r->db, la0, la1, lo0, lo1, 0, &c, &m)) != VG_OK)
    return rc;
  t = malloc((m ? m : 1) * sizeof *t);
  if (!t) {
    free(c);
    return vg_error_set(VG_E_NOMEM, "%zu sites", m);
  }
  for (size_t i = 0; i < m; i++) {
    double en[2], d;
    vg_fuse_en(lat, lon, c[i].lat, c[i].lon, en);
    d = hypot(en[0], en[1]);
    if (d <= radius_m) {
      t[k].s = c[i];
      t[k++].d = d;
    }
  }
  free(c);
  qsort(t, k, sizeof *t, cmp_near);
  if (max && k > max)
    k = max;
  c = malloc((k ? k : 1) * sizeof *c);
  if (!c) {
    free(t);
    return vg_error_set(VG_E_NOMEM, "%zu sites", k);
  }
  for (size_t i = 0; i < k; i++)
    c[i] = t[i].s;
  free(t);
  *out = c;
  *n = k;
  return VG_OK;
}

int vg_register_history(vg_register *r, int64_t id, vg_obs **out, size_t *n)
{
  return r->ops->history(r->db, id, out, n);
}

int vg_register_site_markings(vg_register *r, int64_t id, char ***out, size_t *n)
{
  *out = NULL;
  *n = 0;
  return r->ops->site_markings(r->db, id, out, n);
}

int vg_register_site_chip(vg_register *r, int64_t site_id, vg_buf *out, int64_t *obs_id)
{
  if (!r || !out)
    return vg_error_set(VG_E_INVALID, "vg_register_site_chip: no register or buffer");
  return r->ops->site_chip(r->db, site_id, out, obs_id);
}

void vg_register_markings_free(char **m, size_t n)
{
  for (size_t i = 0; m && i < n; i++)
    free(m[i]);
  free(m);
}

int vg_register_set_state(vg_register *r, int64_t id, vg_site_state state, const char *note)
{
  vg_site s;
  int rc;
  if (state != VG_SITE_CONFIRMED && state != VG_SITE_DISMISSED && state != VG_SITE_CANDIDATE)
    return vg_error_set(VG_E_INVALID, "an analyst sets confirmed, dismissed or candidate, not %s",
                        vg_site_state_name(state));
  if ((rc = r->ops->begin(r->db)) != VG_OK)
    return rc;
  if ((rc = r->ops->site_get(r->db, id, &s)) == VG_OK) {
    s.state = state;
    if (note) {
      strncpy(s.note, note, VG_SITES_NOTE_MAX);
      s.note[VG_SITES_NOTE_MAX] = 0;
    }
    rc = r->ops->site_update(r->db, &s);
  }
  if (rc == VG_OK)
    rc = r->ops->commit(r->db);
  if (rc != VG_OK)
    r->ops->rollback(r->db);
  return rc;
}

int vg_register_note(vg_register *r, int64_t id, const char *note)
{
  vg_site s;
  int rc;
  if ((rc = r->ops->begin(r->db)) != VG_OK)
    return rc;
  if ((rc = r->ops->site_get(r->db, id, &s)) == VG_OK) {
    strncpy(s.note, note ? note : "", VG_SITES_NOTE_MAX);
    s.note[VG_SITES_NOTE_MAX] = 0;
    rc = r->ops->site_update(r->db, &s);
  }
  if (rc == VG_OK)
    rc = r->ops->commit(r->db);
  if (rc != VG_OK)
    r->ops->rollback(r->db);
  return rc;
}

int vg_register_counts(vg_register *r, int64_t *sites, int64_t *obs)
{
  return r->ops->counts(r->db, sites, obs);
}
