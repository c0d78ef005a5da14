/*
 * The PostgreSQL + PostGIS store of the register (the shared one: several
 * analysts' and workers' processes on one database). It implements the
 * primitives of sites_int.h; register.c holds the algorithm.
 *
 * Schema (same meaning and names as store_sqlite.c), versioned:
 *
 *   meta    (key text PRIMARY KEY, value bigint)      ('schema_version')
 *   sites   (id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up,
 *            logodds, first_us, last_us, nobs, nmiss, kinds, note,
 *            geom geometry(Point, 4326) GENERATED from (lon, lat), GiST index,
 *            flight, frame, flight_kinds, flight_missed: the pass state, v2)
 *   obs     (id, site_id -> sites(id), flight, frame, detector, seq, kind,
 *            time_us, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, score,
 *            r0, c0, r1, c1, chip bytea), UNIQUE (flight, frame, detector, seq)
 *   passes  (flight, frame, time_us) PRIMARY KEY (flight, frame)
 *
 * Versions: 1 the register; 2 the sites' pass state (vg_site.flight, frame,
 * flight_kinds, flight_missed: fuse.c counts evidence once per flight) as
 * columns with defaults '' / 0 / 0 / 0, and obs_site_pass dropped (it served
 * only the per-site "seen in this frame" query that the pass state replaced).
 *
 * The covariance is symmetric: its off-diagonal is stored once (the mean of
 * the two, which fusion keeps equal), as in the SQLite store.
 *
 * Ids are max(id) + 1, as SQLite gives them (not a sequence, which never
 * gives numbers back): a rolled-back batch returns its ids and a rerun makes
 * the very same register, ids included. This is race-free because every
 * insert runs under the writer lock described below.
 *
 * geom is a generated column, so it cannot fall out of step with lat/lon.
 * geometry (planar degrees, SRID 4326) rather than geography: sites_box is a
 * lat/lon box, which is exactly `geom && ST_MakeEnvelope(...)` on geometry;
 * the exact BETWEEN tests beside it make the answer identical to the SQLite
 * store's (the GiST box is float4 and rounded outwards).
 *
 * Migrations: opening takes a transaction-scoped advisory lock
 * (pg_advisory_xact_lock) and applies each missing migration in its own
 * transaction under that lock, reading the version again after taking it,
 * so processes opening a new register at once create the schema once. A
 * version newer than this code knows is VG_E_UNSUPPORTED.
 *
 * Concurrency of writers. register.c reads sites (sites_box) and then
 * writes them (site_update / site_insert) inside one transaction per batch.
 * Under READ COMMITTED two ingests racing near one site would both read it,
 * and the second update would overwrite the first's fusion (a lost update);
 * both could also find no site and each create one (a phantom: a duplicate
 * site). SELECT ... FOR UPDATE in sites_box stops the first but not the
 * second (there is no row to lock yet), and row locks taken in batch order
 * deadlock between batches touching the same sites in another order, which
 * PostgreSQL resolves by aborting one batch; the store cannot retry it
 * (register.c owns the transaction and has no retry). So `begin` takes a
 * second transaction-scoped advisory lock: the register's writers (ingest,
 * coverage, analyst decisions) run one at a time, each seeing everything
 * committed before it, exactly as with SQLite's single writer. Readers
 * (queries outside a transaction) never wait: MVCC. sites_box therefore
 * takes no row locks, and behaves the same for ingests and for queries.
 * Observations can be neither lost nor duplicated in any case: the UNIQUE
 * key with INSERT ... ON CONFLICT DO NOTHING decides which batch stores one.
 *
 * All statements are prepared once per connection; parameters and results
 * are in binary format (IEEE doubles round-trip exactly, and nothing depends
 * on the process locale).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_int.h"
#include "sites_int.h"

/* The schema version this code writes and understands. */
#define PG_SCHEMA_VERSION 3
/* Advisory lock keys: "vigia" then 1 (schema migration: VG__PG_LOCK_MIGRATE, pg_int.h) or 2 (writer). Their scope is the
 * database, so two registers in two schemas of one database share the writer lock: they
 * only wait for each other, never see each other's data. */
#define PG_LOCK_WRITE "8532464671326732290"   /* 0x7669676961000002 */
#define PG_MAX_PARAMS 24
/* Most rows one query returns into memory (libpq holds the whole result, then
 * the vg_site array: about 1.1 KiB a site, its note): about 1 GiB each. As the
 * SQLite store's VG_SQLITE_ROWS_MAX; more is VG_E_LIMIT: ask for a box or a max. */
#define VG_PG_ROWS_MAX ((size_t)1 << 20)

/* Type OIDs (pg_type.dat; stable across versions). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT4 23
#define OID_TEXT 25
#define OID_FLOAT8 701

typedef struct pg_store {
  PGconn *conn;
} pg_store;

/* ---- errors ---------------------------------------------------------------------------- */

/* VG_E_DB with what was being done and PostgreSQL's own message (one line). */
static int pg_fail(pg_store *s, const PGresult *res, const char *what)
{
  return vg__pg_fail(s->conn, res, "postgresql", what);
}

/* ---- statements ------------------------------------------------------------------------ */

/* Parameter signature letters: s text, l int8, i int4, d float8, b bytea. */
typedef struct stmt_def {
  const char *name, *sig, *sql;
} stmt_def;

#define SITE_COLS                                                                              \
  "id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds, first_us, last_us, "  \
  "nobs, nmiss, kinds, note, flight, frame, flight_kinds, flight_missed"

enum {
  S_OBS_INSERT,
  S_OBS_FIND,
  S_OBS_ASSIGN,
  S_SITES_BOX,
  S_SITE_GET,
  S_SITE_INSERT,
  S_SITE_UPDATE,
  S_PASS_MARK,
  S_HISTORY,
  S_COUNTS,
  S_MARKINGS,
  S_CHIP,
  S__COUNT
};

static const stmt_def k_stmt[S__COUNT] = {
    [S_OBS_INSERT] = {"vg_obs_insert", "slsiilddddddddiiiibs",
                      "INSERT INTO obs (id, flight, frame, detector, seq, kind, time_us, lat, lon,"
                      " hae, cov_ee, cov_en, cov_nn, sigma_up, score, r0, c0, r1, c1, chip, marking)"
                      " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                      " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20 FROM obs"
                      " ON CONFLICT (flight, frame, detector, seq) DO NOTHING RETURNING id"},
    [S_OBS_FIND] = {"vg_obs_find", "slsi",
                    "SELECT id FROM obs WHERE flight = $1 AND frame = $2 AND detector = $3"
                    " AND seq = $4"},
    [S_OBS_ASSIGN] = {"vg_obs_assign", "ll", "UPDATE obs SET site_id = $2 WHERE id = $1"},
    [S_SITES_BOX] = {"vg_sites_box", "ddddl",
                     "SELECT " SITE_COLS " FROM sites"
                     " WHERE geom && ST_MakeEnvelope($3, $1, $4, $2, 4326)"
                     " AND lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4"
                     " ORDER BY id LIMIT $5"},
    [S_SITE_GET] = {"vg_site_get", "l", "SELECT " SITE_COLS " FROM sites WHERE id = $1"},
    [S_SITE_INSERT] = {"vg_site_insert", "iddddddddlllllsslli",
                       "INSERT INTO sites (id, state, lat, lon, hae, cov_ee, cov_en, cov_nn,"
                       " sigma_up, logodds, first_us, last_us, nobs, nmiss, kinds, note,"
                       " flight, frame, flight_kinds, flight_missed)"
                       " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                       " $11, $12, $13, $14, $15, $16, $17, $18, $19 FROM sites RETURNING id"},
    [S_SITE_UPDATE] = {"vg_site_update", "liddddddddlllllsslli",
                       "UPDATE sites SET state = $2, lat = $3, lon = $4, hae = $5, cov_ee = $6,"
                       " cov_en = $7, cov_nn = $8, sigma_up = $9, logodds = $10, first_us = $11,"
                       " last_us = $12, nobs = $13, nmiss = $14, kinds = $15, note = $16,"
                       " flight = $17, frame = $18, flight_kinds = $19, flight_missed = $20"
                       " WHERE id = $1"},
    [S_PASS_MARK] = {"vg_pass_mark", "sll",
                     "INSERT INTO passes (flight, frame, time_us) VALUES ($1, $2, $3)"
                     " ON CONFLICT (flight, frame) DO NOTHING RETURNING 1"},
    [S_HISTORY] = {"vg_history", "ll",
                   "SELECT flight, frame, detector, seq, kind, time_us, lat, lon, hae, cov_ee,"
                   " cov_en, cov_nn, sigma_up, score, r0, c0, r1, c1"
                   " FROM obs WHERE site_id = $1 ORDER BY time_us, id LIMIT $2"},
    [S_MARKINGS] = {"vg_markings", "l", "SELECT DISTINCT marking FROM obs WHERE site_id = $1 ORDER BY marking"},
    [S_CHIP] = {"vg_chip", "l",
                "SELECT id, chip FROM obs WHERE site_id = $1 AND chip IS NOT NULL ORDER BY score DESC, id LIMIT 1"},
    [S_COUNTS] = {"vg_counts", "",
                  "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM obs)"},
};

static int prepare_all(pg_store *s)
{
  for (int i = 0; i < S__COUNT; i++) {
    Oid types[PG_MAX_PARAMS];
    int n = (int)strlen(k_stmt[i].sig);
    PGresult *res;
    for (int j = 0; j < n; j++) {
      switch (k_stmt[i].sig[j]) {
      case 's': types[j] = OID_TEXT; break;
      case 'l': types[j] = OID_INT8; break;
      case 'i': types[j] = OID_INT4; break;
      case 'd': types[j] = OID_FLOAT8; break;
      default: types[j] = OID_BYTEA; break;
      }
    }
    res = PQprepare(s->conn, k_stmt[i].name, k_stmt[i].sql, n, types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      char what[96];
      snprintf(what, sizeof what, "preparing %s", k_stmt[i].name);
      int rc = pg_fail(s, res, what);
      PQclear(res);
      return rc;
    }
    PQclear(res);
  }
  return VG_OK;
}

/* Binary parameters, each kept in its own network-order slot. */
typedef struct params {
  int n;
  const char *val[PG_MAX_PARAMS];
  int len[PG_MAX_PARAMS];
  int fmt[PG_MAX_PARAMS];
  unsigned char num[PG_MAX_PARAMS][8];
} params;

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--, v >>= 8)
    p[i] = (unsigned char)(v & 0xff);
}

static void p_i64(params *p, int64_t v)
{
  put_be(p->num[p->n], (uint64_t)v, 8);
  p->val[p->n] = (const char *)p->num[p->n];
  p->len[p->n] = 8;
  p->fmt[p->n++] = 1;
}

static void p_i32(params *p, int32_t v)
{
  put_be(p->num[p->n], (uint64_t)(uint32_t)v, 4);
  p->val[p->n] = (const char *)p->num[p->n];
  p->len[p->n] = 4;
  p->fmt[p->n++] = 1;
}

static void p_dbl(params *p, double v)
{
  uint64_t u;
  memcpy(&u, &v, 8);
  put_be(p->num[p->n], u, 8);
  p->val[p->n] = (const char *)p->num[p->n];
  p->len[p->n] = 8;
  p->fmt[p->n++] = 1;
}

/* Text (binary format of text is its bytes) or bytea; NULL pointer: SQL NULL. */
static void p_bytes(params *p, const void *v, size_t len)
{
  p->val[p->n] = v;
  p->len[p->n] = (int)len;
  p->fmt[p->n++] = 1;
}

static void p_null(params *p)
{
  p->val[p->n] = NULL;
  p->len[p->n] = 0;
  p->fmt[p->n++] = 1;
}

/* Runs a prepared statement; binary results. *res set on success (PQclear it). */
static int run(pg_store *s, int which, const params *p, const char *what, PGresult **res)
{
  PGresult *r = PQexecPrepared(s->conn, k_stmt[which].name, p ? p->n : 0, p ? p->val : NULL,
                               p ? p->len : NULL, p ? p->fmt : NULL, 1);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    int rc = pg_fail(s, r, what);
    PQclear(r);
    return rc;
  }
  *res = r;
  return VG_OK;
}

/* Plain SQL (no parameters, text results): transactions, locks. */
static int exec_sql(pg_store *s, const char *sql, const char *what)
{
  return vg__pg_exec(s->conn, sql, "postgresql", what);
}

/* ---- binary results -------------------------------------------------------------------- */

static uint64_t get_be(const unsigned char *p, int bytes)
{
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++)
    v = v << 8 | p[i];
  return v;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
  const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
  if (PQgetisnull(r, row, col))
    return 0;
  switch (PQgetlength(r, row, col)) {
  case 8: return (int64_t)get_be(v, 8);
  case 4: return (int32_t)(uint32_t)get_be(v, 4);
  case 2: return (int16_t)(uint16_t)get_be(v, 2);
  case 1: return v[0];
  default: return 0;
  }
}

static double col_dbl(const PGresult *r, int row, int col)
{
  uint64_t u;
  double d;
  if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
    return NAN;
  u = get_be((const unsigned char *)PQgetvalue(r, row, col), 8);
  memcpy(&d, &u, 8);
  return d;
}

static void col_str(const PGresult *r, int row, int col, char *out, size_t cap)
{
  size_t len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
  if (len > cap - 1)
    len = cap - 1;
  memcpy(out, PQgetvalue(r, row, col), len);
  out[len] = 0;
}

/* ---- schema ---------------------------------------------------------------------------- */

/* Migration k (1-based) takes the schema from version k - 1 to k. */
static const char *const k_migrations[PG_SCHEMA_VERSION] = {
    /* 1: the first schema. */
    "CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE sites ("
    " id bigint PRIMARY KEY,"
    " state integer NOT NULL,"
    " lat double precision NOT NULL, lon double precision NOT NULL,"
    " hae double precision NOT NULL,"
    " cov_ee double precision NOT NULL, cov_en double precision NOT NULL,"
    " cov_nn double precision NOT NULL,"
    " sigma_up double precision NOT NULL, logodds double precision NOT NULL,"
    " first_us bigint NOT NULL, last_us bigint NOT NULL,"
    " nobs bigint NOT NULL, nmiss bigint NOT NULL, kinds bigint NOT NULL,"
    " note text NOT NULL DEFAULT '',"
    " geom geometry(Point, 4326) GENERATED ALWAYS AS"
    "  (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED);"
    "CREATE INDEX sites_geom ON sites USING gist (geom);"
    "CREATE TABLE obs ("
    " id bigint PRIMARY KEY,"
    " site_id bigint REFERENCES sites (id),"
    " flight text NOT NULL, frame bigint NOT NULL, detector text NOT NULL,"
    " seq integer NOT NULL, kind integer NOT NULL, time_us bigint NOT NULL,"
    " lat double precision NOT NULL, lon double precision NOT NULL,"
    " hae double precision NOT NULL,"
    " cov_ee double precision NOT NULL, cov_en double precision NOT NULL,"
    " cov_nn double precision NOT NULL,"
    " sigma_up double precision NOT NULL, score double precision NOT NULL,"
    " r0 integer NOT NULL, c0 integer NOT NULL, r1 integer NOT NULL, c1 integer NOT NULL,"
    " chip bytea,"
    " UNIQUE (flight, frame, detector, seq));"
    "CREATE INDEX obs_site ON obs (site_id, time_us, id);"
    "CREATE INDEX obs_site_pass ON obs (site_id, flight, frame);"
    "CREATE TABLE passes ("
    " flight text NOT NULL, frame bigint NOT NULL, time_us bigint NOT NULL,"
    " PRIMARY KEY (flight, frame));",
    /* 2: the pass state of sites (evidence counts once per flight). */
    "ALTER TABLE sites ADD COLUMN flight text NOT NULL DEFAULT '',"
    " ADD COLUMN frame bigint NOT NULL DEFAULT 0,"
    " ADD COLUMN flight_kinds bigint NOT NULL DEFAULT 0,"
    " ADD COLUMN flight_missed integer NOT NULL DEFAULT 0;"
    "DROP INDEX IF EXISTS obs_site_pass;",
    /* 3: the marking of each observation's source (products derive a site's from them) */
    "ALTER TABLE obs ADD COLUMN marking text NOT NULL DEFAULT '';",
};

/* PostGIS must be in the database; creates it when allowed (needs a superuser). */
static int ensure_postgis(PGconn *c)
{
  PGresult *r = PQexec(c, "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'postgis'");
  int have, rc;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    rc = vg__pg_fail(c, r, "postgresql", "looking for the postgis extension");
    PQclear(r);
    return rc;
  }
  have = PQntuples(r) > 0;
  PQclear(r);
  if (have)
    return VG_OK;
  return vg__pg_exec(c, "CREATE EXTENSION IF NOT EXISTS postgis", "postgresql",
                     "the register needs PostGIS (CREATE EXTENSION postgis, as a superuser)");
}

static const vg__pg_schema k_schema = {
  .ctx = "postgresql",
  .meta_table = "meta",
  .version_key = "schema_version",
  .not_ours = "table meta has no schema_version: not a vigia register",
  .steps = k_migrations,
  .nsteps = PG_SCHEMA_VERSION,
  .before_first = ensure_postgis,
};

/* ---- the primitives -------------------------------------------------------------------- */

static int pg_begin(void *db)
{
  pg_store *s = db;
  int rc = exec_sql(s, "BEGIN", "beginning a transaction");
  if (rc == VG_OK)
    rc = exec_sql(s, "SELECT pg_advisory_xact_lock(" PG_LOCK_WRITE ")",
                  "waiting for the register's writer lock");
  if (rc != VG_OK)
    PQclear(PQexec(s->conn, "ROLLBACK"));
  return rc;
}

static int pg_commit(void *db)
{
  pg_store *s = db;
  PGresult *r = PQexec(s->conn, "COMMIT");
  int rc = VG_OK;
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = pg_fail(s, r, "committing");
  /* COMMIT of a failed transaction "succeeds" as a rollback: say so. */
  else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
    rc = vg_error_set(VG_E_DB, "postgresql: committing: the transaction was rolled back (%s)",
                      PQcmdStatus(r));
  PQclear(r);
  return rc;
}

static void pg_rollback(void *db)
{
  pg_store *s = db;
  PQclear(PQexec(s->conn, "ROLLBACK"));
}

static void obs_params(params *p, const vg_obs *o)
{
  p_bytes(p, o->flight, strnlen(o->flight, VG_SITES_NAME_MAX));
  p_i64(p, o->frame);
  p_bytes(p, o->detector, strnlen(o->detector, VG_SITES_NAME_MAX));
  p_i32(p, o->seq);
}

/* @p fresh is not needed: ON CONFLICT checks the key in the same round trip. */
static int pg_obs_insert(void *db, const vg_obs *o, int fresh, int64_t *obs_id, int *inserted)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  (void)fresh;
  obs_params(&p, o);
  p_i32(&p, (int32_t)o->kind);
  p_i64(&p, o->time_us);
  p_dbl(&p, o->lat);
  p_dbl(&p, o->lon);
  p_dbl(&p, o->hae);
  p_dbl(&p, o->cov_en[0]);
  p_dbl(&p, o->cov_en[1]);
  p_dbl(&p, o->cov_en[3]);
  p_dbl(&p, o->sigma_up);
  p_dbl(&p, o->score);
  p_i32(&p, o->r0);
  p_i32(&p, o->c0);
  p_i32(&p, o->r1);
  p_i32(&p, o->c1);
  if (o->chip && o->chip_len)
    p_bytes(&p, o->chip, o->chip_len);
  else
    p_null(&p);
  p_bytes(&p, o->marking ? o->marking : "", o->marking ? strlen(o->marking) : 0);
  if ((rc = run(s, S_OBS_INSERT, &p, "inserting an observation", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) == 1) {
    *obs_id = col_i64(r, 0, 0);
    *inserted = 1;
    PQclear(r);
    return VG_OK;
  }
  PQclear(r);
  /* Already there (ON CONFLICT waited for a concurrent inserter to commit). */
  p.n = 0;
  obs_params(&p, o);
  if ((rc = run(s, S_OBS_FIND, &p, "looking up an existing observation", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) != 1)
    rc = vg_error_set(VG_E_DB, "postgresql: observation %s/%lld/%s/%d conflicts but is not found",
                      o->flight, (long long)o->frame, o->detector, o->seq);
  else {
    *obs_id = col_i64(r, 0, 0);
    *inserted = 0;
  }
  PQclear(r);
  return rc;
}

static int pg_obs_assign(void *db, int64_t obs_id, int64_t site_id)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  p_i64(&p, obs_id);
  p_i64(&p, site_id);
  if ((rc = run(s, S_OBS_ASSIGN, &p, "assigning an observation to a site", &r)) != VG_OK)
    return rc;
  if (strcmp(PQcmdTuples(r), "1") != 0)
    rc = vg_error_set(VG_E_NOTFOUND, "postgresql: no observation %lld to assign", (long long)obs_id);
  PQclear(r);
  return rc;
}

/* Row of SITE_COLS into a site. */
static void site_row(const PGresult *r, int row, vg_site *o)
{
  memset(o, 0, sizeof *o);
  o->id = col_i64(r, row, 0);
  o->state = (vg_site_state)col_i64(r, row, 1);
  o->lat = col_dbl(r, row, 2);
  o->lon = col_dbl(r, row, 3);
  o->hae = col_dbl(r, row, 4);
  o->cov_en[0] = col_dbl(r, row, 5);
  o->cov_en[1] = o->cov_en[2] = col_dbl(r, row, 6);
  o->cov_en[3] = col_dbl(r, row, 7);
  o->sigma_up = col_dbl(r, row, 8);
  o->logodds = col_dbl(r, row, 9);
  o->first_us = col_i64(r, row, 10);
  o->last_us = col_i64(r, row, 11);
  o->nobs = col_i64(r, row, 12);
  o->nmiss = col_i64(r, row, 13);
  o->kinds = (uint32_t)col_i64(r, row, 14);
  col_str(r, row, 15, o->note, sizeof o->note);
  col_str(r, row, 16, o->flight, sizeof o->flight);
  o->frame = col_i64(r, row, 17);
  o->flight_kinds = (uint32_t)col_i64(r, row, 18);
  o->flight_missed = col_i64(r, row, 19) != 0;
}

static int pg_sites_box(void *db, double lat_min, double lat_max, double lon_min, double lon_max,
                        size_t max, vg_site **out, size_t *n)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  vg_site *v = NULL;
  int rc, rows;
  *out = NULL;
  *n = 0;
  p_dbl(&p, lat_min);
  p_dbl(&p, lat_max);
  p_dbl(&p, lon_min);
  p_dbl(&p, lon_max);
  /* One row past the limit tells a full answer from a truncated one. */
  p_i64(&p, (int64_t)(max && max <= VG_PG_ROWS_MAX ? max : VG_PG_ROWS_MAX + 1));
  if ((rc = run(s, S_SITES_BOX, &p, "finding sites in a box", &r)) != VG_OK)
    return rc;
  rows = PQntuples(r);
  if ((size_t)rows > VG_PG_ROWS_MAX) {
    PQclear(r);
    return vg_error_set(VG_E_LIMIT, "postgresql: box (%g..%g, %g..%g) holds more than %zu sites "
                        "(VG_PG_ROWS_MAX): ask for fewer", lat_min, lat_max, lon_min, lon_max,
                        VG_PG_ROWS_MAX);
  }
  if (rows > 0) {
    v = malloc((size_t)rows * sizeof *v);
    if (!v) {
      PQclear(r);
      return vg_error_set(VG_E_NOMEM, "%d sites", rows);
    }
    for (int i = 0; i < rows; i++)
      site_row(r, i, &v[i]);
  }
  PQclear(r);
  *out = v;
  *n = (size_t)rows;
  return VG_OK;
}

static int pg_site_get(void *db, int64_t id, vg_site *out)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  p_i64(&p, id);
  if ((rc = run(s, S_SITE_GET, &p, "reading a site", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) == 1)
    site_row(r, 0, out);
  else
    rc = vg_error_set(VG_E_NOTFOUND, "no site %lld", (long long)id);
  PQclear(r);
  return rc;
}

/* Every column of a site but id, in SITE_COLS order. */
static void site_params(params *p, const vg_site *x)
{
  p_i32(p, (int32_t)x->state);
  p_dbl(p, x->lat);
  p_dbl(p, x->lon);
  p_dbl(p, x->hae);
  p_dbl(p, x->cov_en[0]);
  p_dbl(p, x->cov_en[1] == x->cov_en[2] ? x->cov_en[1] : 0.5 * (x->cov_en[1] + x->cov_en[2]));
  p_dbl(p, x->cov_en[3]);
  p_dbl(p, x->sigma_up);
  p_dbl(p, x->logodds);
  p_i64(p, x->first_us);
  p_i64(p, x->last_us);
  p_i64(p, x->nobs);
  p_i64(p, x->nmiss);
  p_i64(p, (int64_t)x->kinds);
  p_bytes(p, x->note, strnlen(x->note, VG_SITES_NOTE_MAX));
  p_bytes(p, x->flight, strnlen(x->flight, VG_SITES_NAME_MAX));
  p_i64(p, x->frame);
  p_i64(p, (int64_t)x->flight_kinds);
  p_i32(p, x->flight_missed != 0);
}

static int pg_site_insert(void *db, vg_site *x)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  site_params(&p, x);
  if ((rc = run(s, S_SITE_INSERT, &p, "inserting a site", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) == 1)
    x->id = col_i64(r, 0, 0);
  else
    rc = vg_error_set(VG_E_DB, "postgresql: inserting a site returned no id");
  PQclear(r);
  return rc;
}

static int pg_site_update(void *db, const vg_site *x)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  p_i64(&p, x->id);
  site_params(&p, x);
  if ((rc = run(s, S_SITE_UPDATE, &p, "updating a site", &r)) != VG_OK)
    return rc;
  if (strcmp(PQcmdTuples(r), "1") != 0)
    rc = vg_error_set(VG_E_NOTFOUND, "no site %lld", (long long)x->id);
  PQclear(r);
  return rc;
}

static int pg_pass_mark(void *db, const char *flight, int64_t frame, int64_t time_us, int *first)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  p_bytes(&p, flight, strnlen(flight, VG_SITES_NAME_MAX));
  p_i64(&p, frame);
  p_i64(&p, time_us);
  if ((rc = run(s, S_PASS_MARK, &p, "marking a pass", &r)) != VG_OK)
    return rc;
  *first = PQntuples(r) == 1;
  PQclear(r);
  return VG_OK;
}

static int pg_history(void *db, int64_t site_id, vg_obs **out, size_t *n)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  vg_obs *v = NULL;
  int rc, rows;
  *out = NULL;
  *n = 0;
  p_i64(&p, site_id);
  p_i64(&p, (int64_t)VG_PG_ROWS_MAX + 1);
  if ((rc = run(s, S_HISTORY, &p, "reading a site's observations", &r)) != VG_OK)
    return rc;
  rows = PQntuples(r);
  if ((size_t)rows > VG_PG_ROWS_MAX) {
    PQclear(r);
    return vg_error_set(VG_E_LIMIT, "postgresql: site %lld has more than %zu observations "
                        "(VG_PG_ROWS_MAX)", (long long)site_id, VG_PG_ROWS_MAX);
  }
  if (rows > 0) {
    v = calloc((size_t)rows, sizeof *v);
    if (!v) {
      PQclear(r);
      return vg_error_set(VG_E_NOMEM, "%d observations", rows);
    }
  }
  for (int i = 0; i < rows; i++) {
    vg_obs *o = &v[i];
    col_str(r, i, 0, o->flight, sizeof o->flight);
    o->frame = col_i64(r, i, 1);
    col_str(r, i, 2, o->detector, sizeof o->detector);
    o->seq = (int)col_i64(r, i, 3);
    o->kind = (vg_evidence)col_i64(r, i, 4);
    o->time_us = col_i64(r, i, 5);
    o->lat = col_dbl(r, i, 6);
    o->lon = col_dbl(r, i, 7);
    o->hae = col_dbl(r, i, 8);
    o->cov_en[0] = col_dbl(r, i, 9);
    o->cov_en[1] = o->cov_en[2] = col_dbl(r, i, 10);
    o->cov_en[3] = col_dbl(r, i, 11);
    o->sigma_up = col_dbl(r, i, 12);
    o->score = col_dbl(r, i, 13);
    o->r0 = (int)col_i64(r, i, 14);
    o->c0 = (int)col_i64(r, i, 15);
    o->r1 = (int)col_i64(r, i, 16);
    o->c1 = (int)col_i64(r, i, 17);
  }
  PQclear(r);
  *out = v;
  *n = (size_t)rows;
  return VG_OK;
}

static int pg_site_markings(void *db, int64_t site_id, char ***out, size_t *n)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  char **v = NULL;
  int rc, rows;
  p_i64(&p, site_id);
  if ((rc = run(s, S_MARKINGS, &p, "reading a site's markings", &r)) != VG_OK)
    return rc;
  rows = PQntuples(r);
  if (rows > 4096) {
    PQclear(r);
    return vg_error_set(VG_E_LIMIT, "postgresql: site %lld has more than 4096 markings", (long long)site_id);
  }
  if (rows > 0 && !(v = calloc((size_t)rows, sizeof *v))) {
    PQclear(r);
    return vg_error_set(VG_E_NOMEM, "markings");
  }
  for (int i = 0; i < rows; i++) {
    size_t len = PQgetisnull(r, i, 0) ? 0 : (size_t)PQgetlength(r, i, 0);
    if (!(v[i] = malloc(len + 1))) {
      vg_register_markings_free(v, (size_t)i);
      PQclear(r);
      return vg_error_set(VG_E_NOMEM, "markings");
    }
    memcpy(v[i], PQgetvalue(r, i, 0), len);
    v[i][len] = 0;
  }
  PQclear(r);
  *out = v;
  *n = (size_t)rows;
  return VG_OK;
}

/* The chip of the site's highest-score observation that has one (ties: the oldest id). */
static int pg_site_chip(void *db, int64_t site_id, vg_buf *out, int64_t *obs_id)
{
  pg_store *s = db;
  params p = {0};
  PGresult *r = NULL;
  int rc;
  p_i64(&p, site_id);
  if ((rc = run(s, S_CHIP, &p, "reading a site's chip", &r)) != VG_OK)
    return rc;
  if (PQntuples(r) < 1) {
    PQclear(r);
    return vg_error_set(VG_E_NOTFOUND, "postgresql: site %lld has no observation with a chip", (long long)site_id);
  }
  if (obs_id)
    *obs_id = col_i64(r, 0, 0);
  rc = PQgetlength(r, 0, 1) > 0 ? vg_buf_append(out, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1)) : VG_OK;
  PQclear(r);
  return rc;
}

static int pg_counts(void *db, int64_t *sites, int64_t *obs)
{
  pg_store *s = db;
  PGresult *r = NULL;
  int rc;
  if ((rc = run(s, S_COUNTS, NULL, "counting sites and observations", &r)) != VG_OK)
    return rc;
  if (sites)
    *sites = col_i64(r, 0, 0);
  if (obs)
    *obs = col_i64(r, 0, 1);
  PQclear(r);
  return VG_OK;
}

static void pg_close(void *db)
{
  pg_store *s = db;
  if (!s)
    return;
  PQfinish(s->conn);
  free(s);
}

static const vg__store_ops k_pg_ops = {
    .kind = "postgresql",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .obs_insert = pg_obs_insert,
    .obs_assign = pg_obs_assign,
    .sites_box = pg_sites_box,
    .site_get = pg_site_get,
    .site_insert = pg_site_insert,
    .site_update = pg_site_update,
    .pass_mark = pg_pass_mark,
    .history = pg_history,
    .site_markings = pg_site_markings,
    .site_chip = pg_site_chip,
    .counts = pg_counts,
    .close = pg_close,
};

int vg__store_pg_open(const char *uri, void **db, const vg__store_ops **ops)
{
  pg_store *s;
  int rc;
  s = calloc(1, sizeof *s);
  if (!s)
    return vg_error_set(VG_E_NOMEM, "postgresql store");
  if ((rc = vg__pg_connect(uri, "postgresql", "sites", &s->conn)) != VG_OK) {
    free(s);
    return rc;
  }
  if ((rc = vg__pg_migrate(s->conn, &k_schema)) == VG_OK)
    rc = prepare_all(s);
  if (rc != VG_OK) {
    pg_close(s);
    return rc;
  }
  *db = s;
  *ops = &k_pg_ops;
  return VG_OK;
}
