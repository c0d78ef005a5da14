/*
 * Internals of lib/sites: the store interface. register.c holds the one
 * ingest algorithm (gate, fuse, create) and talks to a store only through
 * these primitives, so SQLite (store_sqlite.c) and PostgreSQL (store_pg.c)
 * behave the same by construction and pass the same test suite.
 *
 * Every primitive returns VG_OK or a VG_E_* code with vg_error_set's detail
 * (VG_E_DB for database errors, with the database's own message).
 */
#ifndef VG_SITES_INT_H
#define VG_SITES_INT_H

#include "vigia/sites.h"

typedef struct vg__store_ops {
  const char *kind; /* "sqlite", "postgresql" */
  /* One transaction around a batch; rollback never fails visibly. */
  int (*begin)(void *db);
  int (*commit)(void *db);
  void (*rollback)(void *db);
  /*
   * Inserts the observation (with its chip) unless one with the same
   * (flight, frame, detector, seq) exists: *inserted 1 and *obs_id set, or
   * *inserted 0 (and *obs_id of the existing one). @p fresh 1 is the
   * caller's guarantee that no observation has this key (obs_group_empty said
   * so of its group in this transaction, and the batch has not used its seq):
   * the store may skip looking it up.
   */
  int (*obs_insert)(void *db, const vg_obs *o, int fresh, int64_t *obs_id, int *inserted);
  /*
   * *empty 1 when no observation has this (flight, frame, detector), whatever
   * its seq. Optional (NULL): a store without it gets no fresh hints.
   */
  int (*obs_group_empty)(void *db, const vg_obs *o, int *empty);
  /* Links an observation to the site it was fused into. */
  int (*obs_assign)(void *db, int64_t obs_id, int64_t site_id);
  /*
   * Sites whose position lies in the box, ordered by id, at most max (0: all).
   * *out is malloc'd (free()), may be NULL when *n is 0.
   */
  int (*sites_box)(void *db, double lat_min, double lat_max, double lon_min, double lon_max,
                   size_t max, vg_site **out, size_t *n);
  int (*site_get)(void *db, int64_t id, vg_site *out); /* VG_E_NOTFOUND when absent */
  int (*site_insert)(void *db, vg_site *s);             /* sets s->id */
  int (*site_update)(void *db, const vg_site *s);       /* every field but id (pass state included) */
  /* Marks (flight, frame) as covered: *first 1 the first time, 0 after. */
  int (*pass_mark)(void *db, const char *flight, int64_t frame, int64_t time_us, int *first);
  /* The distinct markings of a site's observations, sorted ("" unmarked); malloc'd strings. */
  int (*site_markings)(void *db, int64_t site_id, char ***out, size_t *n);
  /*
   * The image chip (appended to out) of the site's highest-score observation
   * that has one (ties: lowest id) and that observation's id; VG_E_NOTFOUND
   * when none has a chip.
   */
  int (*site_chip)(void *db, int64_t site_id, vg_buf *out, int64_t *obs_id);
  /* Observations of a site, oldest first (time, then id), chips not loaded. */
  int (*history)(void *db, int64_t site_id, vg_obs **out, size_t *n);
  int (*counts)(void *db, int64_t *sites, int64_t *obs);
  void (*close)(void *db);
} vg__store_ops;

/* Opens (creating, migrating) the SQLite store at path. */
int vg__store_sqlite_open(const char *path, void **db, const vg__store_ops **ops);
/* Opens the PostgreSQL store at a postgresql:// URI (VG_E_UNSUPPORTED when built without libpq). */
int vg__store_pg_open(const char *uri, void **db, const vg__store_ops **ops);

#endif
