/*
 * PostgreSQL plumbing shared by the register's store (store_pg.c) and the job
 * queue (jobs.c): one connection routine, one error format, one migration
 * discipline. Only lib/sites includes libpq.
 */
#ifndef VG_SITES_PG_INT_H
#define VG_SITES_PG_INT_H

#include <libpq-fe.h>

/*
 * Transaction-scoped advisory lock taken around every migration, by the
 * register and the job queue alike ('vigia' + 1), so processes opening a
 * database at once create each table once.
 */
#define VG__PG_LOCK_MIGRATE "8532464671326732289" /* 0x7669676961000001 */

/* VG_E_DB "<ctx>: <what>: <PostgreSQL's message on one line>". */
int vg__pg_fail(PGconn *c, const PGresult *res, const char *ctx, const char *what);
/* Plain SQL (no parameters, text results): transactions, locks, migrations. */
int vg__pg_exec(PGconn *c, const char *sql, const char *ctx, const char *what);
/*
 * Connects to @p uri (a postgresql:// URI), server notices to the debug log
 * of @p module, client encoding UTF8. @p *out belongs to the caller (PQfinish).
 */
int vg__pg_connect(const char *uri, const char *ctx, const char *module, PGconn **out);

/* A versioned schema: steps[v] takes version v to v + 1. */
typedef struct vg__pg_schema {
  const char *ctx;            /* message prefix: "postgresql", "postgresql jobs" */
  const char *meta_table;     /* table holding the version (created by steps[0]) */
  const char *version_key;    /* its key column value */
  const char *not_ours;       /* message when the meta table lacks the key */
  const char *const *steps;
  int nsteps;                 /* = the version this code writes */
  /* Run before steps[0] inside the migration transaction (PostGIS), may be NULL. */
  int (*before_first)(PGconn *c);
} vg__pg_schema;

/*
 * Brings the schema to sch->nsteps: each step in its own transaction under
 * VG__PG_LOCK_MIGRATE, the version read again after taking the lock; a newer
 * version than known is VG_E_UNSUPPORTED.
 */
int vg__pg_migrate(PGconn *c, const vg__pg_schema *sch);

#endif
