/*
 * The SQLite store of the register (sites_int.h primitives), the embedded default.
 *
 * Durability. The file is opened with journal_mode=WAL and synchronous=NORMAL:
 * a transaction is one append of pages to the -wal file ended by a commit
 * frame with a checksum, and a reader or a recovering opener takes only the
 * frames up to the last valid commit. A process killed at any moment
 * (SIGKILL, crash) therefore leaves the register exactly as of its last
 * COMMIT: the write()s of a commit are in the OS page cache as soon as
 * sqlite3_step returns, and the OS writes them out whether the process lives
 * or not. NORMAL skips only the fsync of the WAL at each commit (the WAL is
 * still fsynced before every checkpoint), so a power loss or OS crash may
 * lose the last commits, never corrupt the file (sqlite.org/wal.html, "WAL
 * mode with synchronous=NORMAL is consistent and safe from corruption").
 * Losing the last batch is harmless here: ingest is idempotent, a rerun of
 * the flight does it again.
 *
 * Schema: versioned (meta.schema_version) with migrations, an ordered array
 * of SQL steps each applied in its own transaction with the version bump;
 * a file whose version is newer than this code knows is VG_E_UNSUPPORTED.
 * The file is stamped with PRAGMA application_id 'VGIA' so that another
 * program's database is refused instead of having tables added to it.
 *
 *   meta    key TEXT PRIMARY KEY, value INTEGER            ('schema_version')
 *   sites   id INTEGER PRIMARY KEY, state, lat, lon, hae, cov_ee, cov_en,
 *           cov_nn, sigma_up, logodds, first_us, last_us, nobs, nmiss, kinds, note,
 *           flight, frame, flight_kinds, flight_missed (the pass state, version 2)
 *   sites_rtree  R*Tree (id, lat0, lat1, lon0, lon1): a small box (SLACK)
 *           containing each site's position, kept in step with sites by
 *           triggers (insert; an update that moves the site out of its box;
 *           delete), so no code path can forget it; sites_box queries it.
 *   obs     id INTEGER PRIMARY KEY, site_id -> sites(id), flight, frame,
 *           detector, seq, kind, time_us, lat, lon, hae, cov_ee, cov_en,
 *           cov_nn, sigma_up, score, r0, c0, r1, c1, chip BLOB,
 *           UNIQUE(flight, frame, detector, seq)
 *   passes  flight, frame, time_us, PRIMARY KEY(flight, frame)
 *
 * Versions: 1 the register; 2 the sites' pass state (vg_site.flight, frame,
 * flight_kinds, flight_missed: fuse.c counts evidence once per flight),
 * added as columns with defaults '' / 0 / 0 / 0, so an existing site starts
 * with no flight and its next evidence counts in full.
 *
 * Ids are INTEGER PRIMARY KEY without AUTOINCREMENT: a new row gets
 * max(id) + 1, so a rolled-back or killed batch gives back its ids and a
 * rerun produces the very same register, ids included.
 *
 * R*Tree coordinates are 32-bit floats rounded outwards (the stored box
 * always contains the point) and boxes have a slack, so sites_box filters the
 * R*Tree hits again on the exact double positions of sites.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sites_int.h"

/* Milliseconds a writer waits for another one's transaction (BEGIN IMMEDIATE) before VG_E_DB. */
#define VG_SQLITE_BUSY_MS 10000
/* Page cache per connection (KiB, as PRAGMA cache_size takes it when negative): holds the
 * R*Tree and the id indexes of about a million sites. */
#define VG_SQLITE_CACHE_KIB 65536
/* 'VGIA': PRAGMA application_id of a vigia register (sqlite.org/fileformat2.html, offset 68). */
#define VG_SQLITE_APP_ID 0x56474941
/* Most rows one query returns into memory: a vg_site is about 1.1 KiB (its note), so this
 * is about 1 GiB. Larger results are VG_E_LIMIT: ask for a box or a max. */
#define VG_SQLITE_ROWS_MAX ((size_t)1 << 20)

/* ---- schema ------------------------------------------------------------------------------ */

/* Half side (deg, about 11 m of latitude) of the box a site has in the R*Tree: fusion moves a
 * site by metres, so its box is rewritten only when the site leaves it (an R*Tree update is a
 * delete and a reinsert, the dearest step of an ingest). Queries test the exact position after
 * the R*Tree, so the slack costs only a few more candidates at a box's edges. */
#define SLACK "1e-4"

/* Migration i brings a file from schema version i to i + 1. Append only, never edit. */
static const char *const k_migrations[] = {
  /* 1: the register */
  "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
  "CREATE TABLE sites("
  " id INTEGER PRIMARY KEY,"
  " state INTEGER NOT NULL,"
  " lat REAL NOT NULL, lon REAL NOT NULL, hae REAL NOT NULL,"
  " cov_ee REAL NOT NULL, cov_en REAL NOT NULL, cov_nn REAL NOT NULL,"
  " sigma_up REAL NOT NULL, logodds REAL NOT NULL,"
  " first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
  " nobs INTEGER NOT NULL, nmiss INTEGER NOT NULL, kinds INTEGER NOT NULL,"
  " note TEXT NOT NULL DEFAULT '');"
  "CREATE VIRTUAL TABLE sites_rtree USING rtree(id, lat0, lat1, lon0, lon1);"
  "CREATE TRIGGER sites_rtree_ins AFTER INSERT ON sites BEGIN"
  " INSERT INTO sites_rtree(id, lat0, lat1, lon0, lon1)"
  " VALUES(new.id, new.lat - " SLACK ", new.lat + " SLACK ", new.lon - " SLACK ", new.lon + " SLACK ");"
  " END;"
  "CREATE TRIGGER sites_rtree_upd AFTER UPDATE OF lat, lon ON sites"
  " WHEN NOT EXISTS(SELECT 1 FROM sites_rtree WHERE id = new.id AND lat0 <= new.lat AND lat1 >= new.lat"
  " AND lon0 <= new.lon AND lon1 >= new.lon) BEGIN"
  " UPDATE sites_rtree SET lat0 = new.lat - " SLACK ", lat1 = new.lat + " SLACK ","
  " lon0 = new.lon - " SLACK ", lon1 = new.lon + " SLACK " WHERE id = new.id;"
  " END;"
  "CREATE TRIGGER sites_rtree_del AFTER DELETE ON sites BEGIN"
  " DELETE FROM sites_rtree WHERE id = old.id;"
  " END;"
  "CREATE TABLE obs("
  " id INTEGER PRIMARY KEY,"
  " site_id INTEGER REFERENCES sites(id),"
  " flight TEXT NOT NULL, frame INTEGER NOT NULL, detector TEXT NOT NULL, seq INTEGER NOT NULL,"
  " kind INTEGER NOT NULL, time_us INTEGER NOT NULL,"
  " lat REAL NOT NULL, lon REAL NOT NULL, hae REAL NOT NULL,"
  " cov_ee REAL NOT NULL, cov_en REAL NOT NULL, cov_nn REAL NOT NULL,"
  " sigma_up REAL NOT NULL, score REAL NOT NULL,"
  " r0 INTEGER NOT NULL, c0 INTEGER NOT NULL, r1 INTEGER NOT NULL, c1 INTEGER NOT NULL,"
  " chip BLOB,"
  " UNIQUE(flight, frame, detector, seq));"
  "CREATE INDEX obs_site ON obs(site_id, time_us, id);"
  "CREATE TABLE passes(flight TEXT NOT NULL, frame INTEGER NOT NULL, time_us INTEGER NOT NULL,"
  " PRIMARY KEY(flight, frame));",
  /* 2: the pass state of sites (evidence counts once per flight) */
  "ALTER TABLE sites ADD COLUMN flight TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE sites ADD COLUMN frame INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sites ADD COLUMN flight_kinds INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE sites ADD COLUMN flight_missed INTEGER NOT NULL DEFAULT 0;",
  /* 3: the marking of each observation's source (products derive a site's from them) */
  "ALTER TABLE obs ADD COLUMN marking TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS ((int)(sizeof k_migrations / sizeof k_migrations[0]))

/* ---- cached statements ------------------------------------------------------------------- */

#define SITE_COLS                                                                              \
  "id, state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds, first_us, last_us, " \
  "nobs, nmiss, kinds, note, flight, frame, flight_kinds, flight_missed"

enum {
  ST_BEGIN,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_OBS_INSERT,
  ST_OBS_FIND,
  ST_OBS_GROUP,
  ST_OBS_NEXT_ID,
  ST_OBS_ASSIGN,
  ST_BOX,
  ST_BOX_ALL,
  ST_SITE_GET,
  ST_SITE_INSERT,
  ST_SITE_UPDATE,
  ST_PASS_MARK,
  ST_HISTORY,
  ST_COUNT_SITES,
  ST_MARKINGS,
  ST_CHIP,
  ST_COUNT_OBS,
  ST_READ_BEGIN,
  ST__COUNT
};

static const char *const k_sql[ST__COUNT] = {
  [ST_BEGIN] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_OBS_INSERT] =
    "INSERT INTO obs(flight, frame, detector, seq, kind, time_us, lat, lon, hae, cov_ee, cov_en,"
    " cov_nn, sigma_up, score, r0, c0, r1, c1, chip, id, site_id, marking)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
  [ST_OBS_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM obs",
  [ST_OBS_FIND] = "SELECT id FROM obs WHERE flight = ?1 AND frame = ?2 AND detector = ?3 AND seq = ?4",
  [ST_OBS_GROUP] = "SELECT 1 FROM obs WHERE flight = ?1 AND frame = ?2 AND detector = ?3 LIMIT 1",
  [ST_OBS_ASSIGN] = "UPDATE obs SET site_id = ?2 WHERE id = ?1",
  /* CROSS JOIN keeps the R*Tree as the outer loop (the planner would otherwise walk sites
   * in id order for the ORDER BY and probe the R*Tree per row); the second pair of
   * conditions is the exact test on the doubles. */
  [ST_BOX] = "SELECT s.id, s.state, s.lat, s.lon, s.hae, s.cov_ee, s.cov_en, s.cov_nn, s.sigma_up,"
             " s.logodds, s.first_us, s.last_us, s.nobs, s.nmiss, s.kinds, s.note, s.flight, s.frame,"
             " s.flight_kinds, s.flight_missed"
             " FROM sites_rtree AS r CROSS JOIN sites AS s ON s.id = r.id"
             " WHERE r.lat1 >= ?1 AND r.lat0 <= ?2 AND r.lon1 >= ?3 AND r.lon0 <= ?4"
             " AND s.lat >= ?1 AND s.lat <= ?2 AND s.lon >= ?3 AND s.lon <= ?4"
             " ORDER BY s.id LIMIT ?5",
  /* without a limit: no ORDER BY (no temporary B-tree per query), sorted in C */
  [ST_BOX_ALL] = "SELECT s.id, s.state, s.lat, s.lon, s.hae, s.cov_ee, s.cov_en, s.cov_nn, s.sigma_up,"
                 " s.logodds, s.first_us, s.last_us, s.nobs, s.nmiss, s.kinds, s.note, s.flight, s.frame,"
                 " s.flight_kinds, s.flight_missed"
                 " FROM sites_rtree AS r CROSS JOIN sites AS s ON s.id = r.id"
                 " WHERE r.lat1 >= ?1 AND r.lat0 <= ?2 AND r.lon1 >= ?3 AND r.lon0 <= ?4"
                 " AND s.lat >= ?1 AND s.lat <= ?2 AND s.lon >= ?3 AND s.lon <= ?4",
  [ST_SITE_GET] = "SELECT " SITE_COLS " FROM sites WHERE id = ?1",
  [ST_SITE_INSERT] = "INSERT INTO sites(state, lat, lon, hae, cov_ee, cov_en, cov_nn, sigma_up, logodds,"
                     " first_us, last_us, nobs, nmiss, kinds, note, flight, frame, flight_kinds, flight_missed)"
                     " VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
  [ST_SITE_UPDATE] = "UPDATE sites SET state = ?2, lat = ?3, lon = ?4, hae = ?5, cov_ee = ?6, cov_en = ?7,"
                     " cov_nn = ?8, sigma_up = ?9, logodds = ?10, first_us = ?11, last_us = ?12,"
                     " nobs = ?13, nmiss = ?14, kinds = ?15, note = ?16, flight = ?17, frame = ?18,"
                     " flight_kinds = ?19, flight_missed = ?20 WHERE id = ?1",
  [ST_PASS_MARK] = "INSERT INTO passes(flight, frame, time_us) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(flight, frame) DO NOTHING",
  [ST_HISTORY] = "SELECT flight, frame, detector, seq, kind, time_us, lat, lon, hae, cov_ee, cov_en,"
                 " cov_nn, sigma_up, score, r0, c0, r1, c1 FROM obs WHERE site_id = ?1"
                 " ORDER BY time_us, id",
  [ST_COUNT_SITES] = "SELECT count(*) FROM sites",
  [ST_MARKINGS] = "SELECT DISTINCT marking FROM obs WHERE site_id = ?1 ORDER BY marking",
  [ST_CHIP] = "SELECT id, chip FROM obs WHERE site_id = ?1 AND chip IS NOT NULL ORDER BY score DESC, id LIMIT 1",
  [ST_COUNT_OBS] = "SELECT count(*) FROM obs",
  [ST_READ_BEGIN] = "BEGIN",
};

typedef struct store {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *st[ST__COUNT];
  vg_obs pend;     /* a new observation waiting for its site (see obs_write); chip borrowed */
  int64_t pend_id;
  int has_pend;
  int64_t next_id; /* the next observation id in this transaction, 0 until read */
} store;

/* VG_E_DB with SQLite's own message and what was being done. */
static int db_err(store *s, const char *what)
{
  return vg_error_set(VG_E_DB, "sqlite '%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The cached statement @p k, reset and unbound, or NULL (error set). */
static sqlite3_stmt *stmt(store *s, int k)
{
  if (!s->st[k]) {
    if (sqlite3_prepare_v3(s->db, k_sql[k], -1, SQLITE_PREPARE_PERSISTENT, &s->st[k], NULL) != SQLITE_OK) {
      db_err(s, "preparing a statement");
      s->st[k] = NULL;
      return NULL;
    }
  }
  sqlite3_reset(s->st[k]);
  sqlite3_clear_bindings(s->st[k]);
  return s->st[k];
}

/* Runs a statement that returns no row (or ignores it); resets it. */
static int run_done(store *s, sqlite3_stmt *q, const char *what)
{
  int rc = sqlite3_step(q);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    rc = db_err(s, what);
    sqlite3_reset(q);
    return rc;
  }
  sqlite3_reset(q);
  return VG_OK;
}

/* A name field of vg_obs: at most its array, even when the caller forgot the NUL. */
static void bind_name(sqlite3_stmt *q, int i, const char *name, size_t cap)
{
  sqlite3_bind_text(q, i, name, (int)strnlen(name, cap), SQLITE_TRANSIENT);
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
  size_t n = src ? strlen((const char *)src) : 0;
  if (n >= cap)
    n = cap - 1;
  if (n)
    memcpy(dst, src, n);
  dst[n] = 0;
}

/* ---- transactions ------------------------------------------------------------------------ */

static int sq_begin(void *h)
{
  store *s = h;
  sqlite3_stmt *q = stmt(s, ST_BEGIN);
  s->next_id = 0;
  return q ? run_done(s, q, "BEGIN IMMEDIATE (another writer may hold the register)") : VG_E_DB;
}

static int flush(store *s);

static int sq_commit(void *h)
{
  store *s = h;
  sqlite3_stmt *q;
  int rc = flush(s);
  s->next_id = 0;
  if (rc != VG_OK)
    return rc;
  q = stmt(s, ST_COMMIT);
  return q ? run_done(s, q, "COMMIT") : VG_E_DB;
}

static void sq_rollback(void *h)
{
  store *s = h;
  sqlite3_stmt *q;
  s->has_pend = 0;
  s->next_id = 0;
  if (sqlite3_get_autocommit(s->db))
    return; /* SQLite already rolled back (e.g. after SQLITE_FULL), or nothing began */
  if ((q = stmt(s, ST_ROLLBACK)) != NULL)
    (void)run_done(s, q, "ROLLBACK");
}

/* ---- observations ------------------------------------------------------------------------ */

/* Binds the key (flight, frame, detector[, seq]) as ?1..?3[4]. */
static void bind_key(sqlite3_stmt *q, const vg_obs *o, int with_seq)
{
  bind_name(q, 1, o->flight, sizeof o->flight);
  sqlite3_bind_int64(q, 2, o->frame);
  bind_name(q, 3, o->detector, sizeof o->detector);
  if (with_seq)
    sqlite3_bind_int(q, 4, o->seq);
}

/*
 * A new observation is written once, with its site: obs_insert looks its key up (unless the
 * caller knows it is fresh) and, when it is new, keeps it pending with the id it will get
 * (max(id) + 1, as INTEGER PRIMARY KEY would give); obs_assign then inserts it with site_id
 * set. That saves an UPDATE of every new row and of the obs_site index per detection. Every
 * other primitive that reads observations or ends the transaction writes a pending one first
 * (without a site), so none is ever lost; rollback drops it with the rest.
 */
static int obs_write(store *s, int64_t site_id)
{
  const vg_obs *o = &s->pend;
  sqlite3_stmt *q = stmt(s, ST_OBS_INSERT);
  int rc;
  s->has_pend = 0;
  if (!q)
    return VG_E_DB;
  bind_key(q, o, 1);
  sqlite3_bind_int(q, 5, (int)o->kind);
  sqlite3_bind_int64(q, 6, o->time_us);
  sqlite3_bind_double(q, 7, o->lat);
  sqlite3_bind_double(q, 8, o->lon);
  sqlite3_bind_double(q, 9, o->hae);
  sqlite3_bind_double(q, 10, o->cov_en[0]);
  sqlite3_bind_double(q, 11, o->cov_en[1] == o->cov_en[2] ? o->cov_en[1] : 0.5 * (o->cov_en[1] + o->cov_en[2]));
  sqlite3_bind_double(q, 12, o->cov_en[3]);
  sqlite3_bind_double(q, 13, o->sigma_up);
  sqlite3_bind_double(q, 14, o->score);
  sqlite3_bind_int(q, 15, o->r0);
  sqlite3_bind_int(q, 16, o->c0);
  sqlite3_bind_int(q, 17, o->r1);
  sqlite3_bind_int(q, 18, o->c1);
  if (o->chip && o->chip_len)
    sqlite3_bind_blob64(q, 19, o->chip, o->chip_len, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, 19);
  sqlite3_bind_int64(q, 20, s->pend_id);
  if (site_id > 0)
    sqlite3_bind_int64(q, 21, site_id);
  else
    sqlite3_bind_null(q, 21);
  sqlite3_bind_text(q, 22, o->marking ? o->marking : "", -1, SQLITE_STATIC);
  rc = run_done(s, q, "inserting an observation");
  sqlite3_clear_bindings(q); /* drop the borrowed chip and marking */
  return rc;
}

static int flush(store *s)
{
  return s->has_pend ? obs_write(s, 0) : VG_OK;
}

static int sq_obs_insert(void *h, const vg_obs *o, int fresh, int64_t *obs_id, int *inserted)
{
  store *s = h;
  sqlite3_stmt *q;
  int rc;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!fresh) {
    if (!(q = stmt(s, ST_OBS_FIND)))
      return VG_E_DB;
    bind_key(q, o, 1);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      *obs_id = sqlite3_column_int64(q, 0);
      *inserted = 0;
      sqlite3_reset(q);
      return VG_OK;
    }
    if (rc != SQLITE_DONE) {
      rc = db_err(s, "looking an observation up");
      sqlite3_reset(q);
      return rc;
    }
    sqlite3_reset(q);
  }
  /* Inside the write transaction nobody else inserts: max(id) + 1 is read once. */
  if (!s->next_id) {
    if (!(q = stmt(s, ST_OBS_NEXT_ID)))
      return VG_E_DB;
    if (sqlite3_step(q) != SQLITE_ROW) {
      rc = db_err(s, "reading the next observation id");
      sqlite3_reset(q);
      return rc;
    }
    s->next_id = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
  }
  s->pend_id = s->next_id++;
  s->pend = *o;
  s->has_pend = 1;
  *obs_id = s->pend_id;
  *inserted = 1;
  return VG_OK;
}

static int sq_obs_group_empty(void *h, const vg_obs *o, int *empty)
{
  store *s = h;
  sqlite3_stmt *q;
  int rc;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!(q = stmt(s, ST_OBS_GROUP)))
    return VG_E_DB;
  bind_key(q, o, 0);
  rc = sqlite3_step(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    rc = db_err(s, "looking a frame's observations up");
    sqlite3_reset(q);
    return rc;
  }
  *empty = rc == SQLITE_DONE;
  sqlite3_reset(q);
  return VG_OK;
}

static int sq_obs_assign(void *h, int64_t obs_id, int64_t site_id)
{
  store *s = h;
  sqlite3_stmt *q;
  int rc;
  if (s->has_pend && s->pend_id == obs_id)
    return obs_write(s, site_id);
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!(q = stmt(s, ST_OBS_ASSIGN)))
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, obs_id);
  sqlite3_bind_int64(q, 2, site_id);
  return run_done(s, q, "linking an observation to its site");
}

/* ---- sites ------------------------------------------------------------------------------- */

/* Reads the SITE_COLS columns of the current row. */
static void read_site(sqlite3_stmt *q, vg_site *o)
{
  memset(o, 0, sizeof *o);
  o->id = sqlite3_column_int64(q, 0);
  o->state = (vg_site_state)sqlite3_column_int(q, 1);
  o->lat = sqlite3_column_double(q, 2);
  o->lon = sqlite3_column_double(q, 3);
  o->hae = sqlite3_column_double(q, 4);
  o->cov_en[0] = sqlite3_column_double(q, 5);
  o->cov_en[1] = o->cov_en[2] = sqlite3_column_double(q, 6);
  o->cov_en[3] = sqlite3_column_double(q, 7);
  o->sigma_up = sqlite3_column_double(q, 8);
  o->logodds = sqlite3_column_double(q, 9);
  o->first_us = sqlite3_column_int64(q, 10);
  o->last_us = sqlite3_column_int64(q, 11);
  o->nobs = sqlite3_column_int64(q, 12);
  o->nmiss = sqlite3_column_int64(q, 13);
  o->kinds = (uint32_t)sqlite3_column_int64(q, 14);
  copy_text(o->note, sizeof o->note, sqlite3_column_text(q, 15));
  copy_text(o->flight, sizeof o->flight, sqlite3_column_text(q, 16));
  o->frame = sqlite3_column_int64(q, 17);
  o->flight_kinds = (uint32_t)sqlite3_column_int64(q, 18);
  o->flight_missed = sqlite3_column_int(q, 19) != 0;
}

/* Binds ?2..?20 of ST_SITE_INSERT / ST_SITE_UPDATE. The covariance is symmetric: its
 * off-diagonal is stored once, as the mean of the two (fusion keeps them equal). */
static void bind_site(sqlite3_stmt *q, const vg_site *v)
{
  size_t nl = strnlen(v->note, sizeof v->note);
  sqlite3_bind_int(q, 2, (int)v->state);
  sqlite3_bind_double(q, 3, v->lat);
  sqlite3_bind_double(q, 4, v->lon);
  sqlite3_bind_double(q, 5, v->hae);
  sqlite3_bind_double(q, 6, v->cov_en[0]);
  sqlite3_bind_double(q, 7, v->cov_en[1] == v->cov_en[2] ? v->cov_en[1] : 0.5 * (v->cov_en[1] + v->cov_en[2]));
  sqlite3_bind_double(q, 8, v->cov_en[3]);
  sqlite3_bind_double(q, 9, v->sigma_up);
  sqlite3_bind_double(q, 10, v->logodds);
  sqlite3_bind_int64(q, 11, v->first_us);
  sqlite3_bind_int64(q, 12, v->last_us);
  sqlite3_bind_int64(q, 13, v->nobs);
  sqlite3_bind_int64(q, 14, v->nmiss);
  sqlite3_bind_int64(q, 15, (sqlite3_int64)v->kinds);
  sqlite3_bind_text(q, 16, v->note, (int)(nl < VG_SITES_NOTE_MAX ? nl : VG_SITES_NOTE_MAX), SQLITE_TRANSIENT);
  bind_name(q, 17, v->flight, VG_SITES_NAME_MAX);
  sqlite3_bind_int64(q, 18, v->frame);
  sqlite3_bind_int64(q, 19, (sqlite3_int64)v->flight_kinds);
  sqlite3_bind_int(q, 20, v->flight_missed != 0);
}

static int cmp_site_id(const void *a, const void *b)
{
  int64_t x = ((const vg_site *)a)->id, y = ((const vg_site *)b)->id;
  return x < y ? -1 : x > y;
}

static int sq_sites_box(void *h, double lat_min, double lat_max, double lon_min, double lon_max,
                        size_t max, vg_site **out, size_t *n)
{
  store *s = h;
  sqlite3_stmt *q;
  vg_site *v = NULL, *t;
  size_t k = 0, cap = 0;
  int rc = VG_OK, sr;
  *out = NULL;
  *n = 0;
  if (!(q = stmt(s, max ? ST_BOX : ST_BOX_ALL)))
    return VG_E_DB;
  sqlite3_bind_double(q, 1, lat_min);
  sqlite3_bind_double(q, 2, lat_max);
  sqlite3_bind_double(q, 3, lon_min);
  sqlite3_bind_double(q, 4, lon_max);
  if (max)
    sqlite3_bind_int64(q, 5, (sqlite3_int64)max);
  while ((sr = sqlite3_step(q)) == SQLITE_ROW) {
    if (k == cap) {
      size_t nc = cap ? 2 * cap : 16;
      if (k >= VG_SQLITE_ROWS_MAX) {
        rc = vg_error_set(VG_E_LIMIT, "sqlite '%s': box (%g..%g, %g..%g) holds more than %zu sites "
                          "(VG_SQLITE_ROWS_MAX): ask for fewer", s->path, lat_min, lat_max, lon_min,
                          lon_max, (size_t)VG_SQLITE_ROWS_MAX);
        goto done;
      }
      if (nc > VG_SQLITE_ROWS_MAX)
        nc = VG_SQLITE_ROWS_MAX;
      if (!(t = realloc(v, nc * sizeof *v))) {
        rc = vg_error_set(VG_E_NOMEM, "%zu sites", nc);
        goto done;
      }
      v = t;
      cap = nc;
    }
    read_site(q, &v[k++]);
  }
  if (sr != SQLITE_DONE)
    rc = db_err(s, "querying sites in a box (R*Tree)");
done:
  sqlite3_reset(q);
  if (rc != VG_OK) {
    free(v);
    return rc;
  }
  if (!max && k > 1)
    qsort(v, k, sizeof *v, cmp_site_id);
  *out = v;
  *n = k;
  return VG_OK;
}

static int sq_site_get(void *h, int64_t id, vg_site *out)
{
  store *s = h;
  sqlite3_stmt *q = stmt(s, ST_SITE_GET);
  int rc;
  if (!q)
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, id);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    read_site(q, out);
    rc = VG_OK;
  } else if (rc == SQLITE_DONE) {
    rc = vg_error_set(VG_E_NOTFOUND, "register '%s' has no site %lld", s->path, (long long)id);
  } else {
    rc = db_err(s, "reading a site");
  }
  sqlite3_reset(q);
  return rc;
}

static int sq_site_insert(void *h, vg_site *v)
{
  store *s = h;
  sqlite3_stmt *q = stmt(s, ST_SITE_INSERT);
  int rc;
  if (!q)
    return VG_E_DB;
  bind_site(q, v);
  if ((rc = run_done(s, q, "inserting a site")) != VG_OK)
    return rc;
  v->id = sqlite3_last_insert_rowid(s->db);
  return VG_OK;
}

static int sq_site_update(void *h, const vg_site *v)
{
  store *s = h;
  sqlite3_stmt *q = stmt(s, ST_SITE_UPDATE);
  int rc;
  if (!q)
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, v->id);
  bind_site(q, v);
  if ((rc = run_done(s, q, "updating a site")) != VG_OK)
    return rc;
  if (sqlite3_changes(s->db) != 1)
    return vg_error_set(VG_E_NOTFOUND, "register '%s' has no site %lld to update", s->path, (long long)v->id);
  return VG_OK;
}

/* ---- passes ------------------------------------------------------------------------------ */

static int sq_pass_mark(void *h, const char *flight, int64_t frame, int64_t time_us, int *first)
{
  store *s = h;
  sqlite3_stmt *q = stmt(s, ST_PASS_MARK);
  int rc;
  if (!q)
    return VG_E_DB;
  bind_name(q, 1, flight, VG_SITES_NAME_MAX + 1);
  sqlite3_bind_int64(q, 2, frame);
  sqlite3_bind_int64(q, 3, time_us);
  if ((rc = run_done(s, q, "marking a pass")) != VG_OK)
    return rc;
  *first = sqlite3_changes(s->db) == 1;
  return VG_OK;
}

/* ---- reading ----------------------------------------------------------------------------- */

static int sq_history(void *h, int64_t site_id, vg_obs **out, size_t *n)
{
  store *s = h;
  sqlite3_stmt *q;
  vg_obs *v = NULL, *t, *o;
  size_t k = 0, cap = 0;
  int rc, sr;
  *out = NULL;
  *n = 0;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!(q = stmt(s, ST_HISTORY)))
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, site_id);
  while ((sr = sqlite3_step(q)) == SQLITE_ROW) {
    if (k == cap) {
      size_t nc = cap ? 2 * cap : 16;
      if (k >= VG_SQLITE_ROWS_MAX) {
        rc = vg_error_set(VG_E_LIMIT, "sqlite '%s': site %lld has more than %zu observations (VG_SQLITE_ROWS_MAX)",
                          s->path, (long long)site_id, (size_t)VG_SQLITE_ROWS_MAX);
        goto done;
      }
      if (nc > VG_SQLITE_ROWS_MAX)
        nc = VG_SQLITE_ROWS_MAX;
      if (!(t = realloc(v, nc * sizeof *v))) {
        rc = vg_error_set(VG_E_NOMEM, "%zu observations", nc);
        goto done;
      }
      v = t;
      cap = nc;
    }
    o = &v[k++];
    memset(o, 0, sizeof *o);
    copy_text(o->flight, sizeof o->flight, sqlite3_column_text(q, 0));
    o->frame = sqlite3_column_int64(q, 1);
    copy_text(o->detector, sizeof o->detector, sqlite3_column_text(q, 2));
    o->seq = sqlite3_column_int(q, 3);
    o->kind = (vg_evidence)sqlite3_column_int(q, 4);
    o->time_us = sqlite3_column_int64(q, 5);
    o->lat = sqlite3_column_double(q, 6);
    o->lon = sqlite3_column_double(q, 7);
    o->hae = sqlite3_column_double(q, 8);
    o->cov_en[0] = sqlite3_column_double(q, 9);
    o->cov_en[1] = o->cov_en[2] = sqlite3_column_double(q, 10);
    o->cov_en[3] = sqlite3_column_double(q, 11);
    o->sigma_up = sqlite3_column_double(q, 12);
    o->score = sqlite3_column_double(q, 13);
    o->r0 = sqlite3_column_int(q, 14);
    o->c0 = sqlite3_column_int(q, 15);
    o->r1 = sqlite3_column_int(q, 16);
    o->c1 = sqlite3_column_int(q, 17);
  }
  if (sr != SQLITE_DONE)
    rc = db_err(s, "reading a site's history");
done:
  sqlite3_reset(q);
  if (rc != VG_OK) {
    free(v);
    return rc;
  }
  *out = v;
  *n = k;
  return VG_OK;
}

static int sq_site_markings(void *h, int64_t site_id, char ***out, size_t *n)
{
  store *s = h;
  sqlite3_stmt *q;
  char **v = NULL;
  size_t k = 0;
  int rc = VG_OK, sr;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!(q = stmt(s, ST_MARKINGS)))
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, site_id);
  while ((sr = sqlite3_step(q)) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(q, 0);
    char **nv;
    if (k >= 4096) {
      rc = vg_error_set(VG_E_LIMIT, "sqlite '%s': site %lld has more than 4096 markings", s->path, (long long)site_id);
      break;
    }
    if (!(nv = realloc(v, (k + 1) * sizeof *v)) || !(nv[k] = strdup(t ? (const char *)t : ""))) {
      if (nv)
        v = nv;
      rc = vg_error_set(VG_E_NOMEM, "markings");
      break;
    }
    v = nv;
    k++;
  }
  if (rc == VG_OK && sr != SQLITE_DONE)
    rc = db_err(s, "reading a site's markings");
  sqlite3_reset(q);
  if (rc != VG_OK) {
    vg_register_markings_free(v, k);
    return rc;
  }
  *out = v;
  *n = k;
  return VG_OK;
}

/* The chip of the site's highest-score observation that has one (ties: the oldest id). */
static int sq_site_chip(void *h, int64_t site_id, vg_buf *out, int64_t *obs_id)
{
  store *s = h;
  sqlite3_stmt *q;
  int rc, sr;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (!(q = stmt(s, ST_CHIP)))
    return VG_E_DB;
  sqlite3_bind_int64(q, 1, site_id);
  sr = sqlite3_step(q);
  if (sr == SQLITE_ROW) {
    const void *b = sqlite3_column_blob(q, 1);
    size_t len = (size_t)sqlite3_column_bytes(q, 1);
    if (obs_id)
      *obs_id = sqlite3_column_int64(q, 0);
    rc = len ? vg_buf_append(out, b, len) : VG_OK;
  } else if (sr == SQLITE_DONE) {
    rc = vg_error_set(VG_E_NOTFOUND, "sqlite '%s': site %lld has no observation with a chip", s->path,
                      (long long)site_id);
  } else {
    rc = db_err(s, "reading a site's chip");
  }
  sqlite3_reset(q);
  return rc;
}

static int count_one(store *s, int k, int64_t *out, const char *what)
{
  sqlite3_stmt *q = stmt(s, k);
  int rc;
  if (!q)
    return VG_E_DB;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(q, 0);
    rc = VG_OK;
  } else {
    rc = db_err(s, what);
  }
  sqlite3_reset(q);
  return rc;
}

/* Both counts from one snapshot (one read transaction) when none is open. */
static int sq_counts(void *h, int64_t *sites, int64_t *obs)
{
  store *s = h;
  int own = sqlite3_get_autocommit(s->db), rc;
  sqlite3_stmt *q;
  if ((rc = flush(s)) != VG_OK)
    return rc;
  if (own) {
    if (!(q = stmt(s, ST_READ_BEGIN)))
      return VG_E_DB;
    if ((rc = run_done(s, q, "BEGIN (counts)")) != VG_OK)
      return rc;
  }
  rc = count_one(s, ST_COUNT_SITES, sites, "counting sites");
  if (rc == VG_OK)
    rc = count_one(s, ST_COUNT_OBS, obs, "counting observations");
  if (own) {
    if (rc == VG_OK && (q = stmt(s, ST_COMMIT)) != NULL)
      rc = run_done(s, q, "COMMIT (counts)");
    if (!sqlite3_get_autocommit(s->db))
      sq_rollback(s);
  }
  return rc;
}

/* ---- open, migrate, close ---------------------------------------------------------------- */

static void sq_close(void *h)
{
  store *s = h;
  if (!s)
    return;
  for (int i = 0; i < ST__COUNT; i++)
    sqlite3_finalize(s->st[i]);
  if (s->db)
    sqlite3_close_v2(s->db);
  free(s->path);
  free(s);
}

static const vg__store_ops k_ops = {
  .kind = "sqlite",
  .begin = sq_begin,
  .commit = sq_commit,
  .rollback = sq_rollback,
  .obs_insert = sq_obs_insert,
  .obs_group_empty = sq_obs_group_empty,
  .obs_assign = sq_obs_assign,
  .sites_box = sq_sites_box,
  .site_get = sq_site_get,
  .site_insert = sq_site_insert,
  .site_update = sq_site_update,
  .pass_mark = sq_pass_mark,
  .history = sq_history,
  .site_markings = sq_site_markings,
  .site_chip = sq_site_chip,
  .counts = sq_counts,
  .close = sq_close,
};

/* One integer from a one-row query (PRAGMA or SELECT); *found 0 when it returns no row. */
static int query_int(store *s, const char *sql, int64_t *out, int *found, const char *what)
{
  sqlite3_stmt *q = NULL;
  int rc;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
    return db_err(s, what);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(q, 0);
    if (found)
      *found = 1;
    rc = VG_OK;
  } else if (rc == SQLITE_DONE) {
    if (found)
      *found = 0;
    rc = VG_OK;
  } else {
    rc = db_err(s, what);
  }
  sqlite3_finalize(q);
  return rc;
}

static int exec(store *s, const char *sql, const char *what)
{
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_err(s, what);
  return VG_OK;
}

/* schema_version of the file: 0 for a new (empty) file. An existing database of another
 * program (tables but no vigia stamp) is VG_E_UNSUPPORTED. */
static int schema_version(store *s, int64_t *ver)
{
  int64_t app = 0, ntab = 0, v = 0;
  int found = 0, rc;
  if ((rc = query_int(s, "PRAGMA application_id", &app, NULL, "reading the application id")) != VG_OK ||
      (rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &ntab, NULL, "reading the schema")) != VG_OK)
    return rc;
  if (ntab == 0 && app == 0) {
    *ver = 0;
    return VG_OK;
  }
  if (app != VG_SQLITE_APP_ID)
    return vg_error_set(VG_E_UNSUPPORTED, "'%s' is an SQLite database of another program (application_id "
                        "0x%08llx), not a vigia register", s->path, (unsigned long long)app);
  if ((rc = query_int(s, "SELECT value FROM meta WHERE key = 'schema_version'", &v, &found,
                      "reading the schema version")) != VG_OK)
    return rc;
  if (!found)
    return vg_error_set(VG_E_MALFORMED, "register '%s' has no schema_version in its meta table", s->path);
  *ver = v;
  return VG_OK;
}

/* Applies the missing migrations, each in its own IMMEDIATE transaction; the version is
 * read again inside it, so two processes opening a new file at once migrate it once. */
static int migrate(store *s)
{
  int64_t ver = 0;
  int rc;
  char sql[256];
  /* the common case, a register already up to date, takes no write lock */
  if ((rc = schema_version(s, &ver)) != VG_OK)
    return rc;
  if (ver == NMIGRATIONS)
    return VG_OK;
  for (;;) {
    if ((rc = exec(s, "BEGIN IMMEDIATE", "BEGIN IMMEDIATE (migration)")) != VG_OK)
      return rc;
    if ((rc = schema_version(s, &ver)) != VG_OK)
      goto fail;
    if (ver > NMIGRATIONS) {
      rc = vg_error_set(VG_E_UNSUPPORTED, "register '%s' has schema version %lld, newer than this vigia "
                        "knows (%d): upgrade vigia", s->path, (long long)ver, NMIGRATIONS);
      goto fail;
    }
    if (ver < 0) {
      rc = vg_error_set(VG_E_MALFORMED, "register '%s' has schema version %lld", s->path, (long long)ver);
      goto fail;
    }
    if (ver == NMIGRATIONS)
      break;
    if ((rc = exec(s, k_migrations[ver], "applying a schema migration")) != VG_OK)
      goto fail;
    snprintf(sql, sizeof sql,
             "INSERT INTO meta(key, value) VALUES('schema_version', %lld)"
             " ON CONFLICT(key) DO UPDATE SET value = excluded.value; PRAGMA application_id = %d",
             (long long)ver + 1, VG_SQLITE_APP_ID);
    if ((rc = exec(s, sql, "recording the schema version")) != VG_OK ||
        (rc = exec(s, "COMMIT", "COMMIT (migration)")) != VG_OK)
      goto fail;
  }
  return exec(s, "COMMIT", "COMMIT (schema check)");
fail:
  if (!sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int vg__store_sqlite_open(const char *path, void **db, const vg__store_ops **ops)
{
  store *s = NULL;
  char sql[160], mode[16] = "";
  sqlite3_stmt *q = NULL;
  int rc = VG_OK;
  s = calloc(1, sizeof *s);
  if (!s || !(s->path = malloc(strlen(path) + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "register '%s'", path);
    goto done;
  }
  memcpy(s->path, path, strlen(path) + 1);
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    rc = s->db ? db_err(s, "opening") : vg_error_set(VG_E_NOMEM, "sqlite handle for '%s'", path);
    goto done;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, VG_SQLITE_BUSY_MS);
  /* WAL: readers never block the writer and a commit is one append (see the top of the file). */
  if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) != SQLITE_OK ||
      sqlite3_step(q) != SQLITE_ROW) {
    rc = db_err(s, "setting journal_mode = WAL (is it an SQLite file?)");
    goto done;
  }
  copy_text(mode, sizeof mode, sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  q = NULL;
  if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
    rc = vg_error_set(VG_E_DB, "sqlite '%s': journal mode is '%s', WAL refused (network file system?)", path, mode);
    goto done;
  }
  snprintf(sql, sizeof sql, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%d",
           VG_SQLITE_CACHE_KIB);
  if ((rc = exec(s, sql, "setting synchronous, foreign_keys, cache_size")) != VG_OK)
    goto done;
  if ((rc = migrate(s)) != VG_OK)
    goto done;
  *db = s;
  *ops = &k_ops;
  s = NULL;
done:
  sqlite3_finalize(q);
  sq_close(s);
  return rc;
}
