/* PostgreSQL plumbing shared by store_pg.c and jobs.c (pg_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"
#include "vigia/util.h"

int vg__pg_fail(PGconn *c, const PGresult *res, const char *ctx, const char *what)
{
  char msg[512];
  const char *m = res ? PQresultErrorMessage(res) : "";
  size_t len;
  if (!m || !*m)
    m = c ? PQerrorMessage(c) : "";
  snprintf(msg, sizeof msg, "%s", m && *m ? m : "unknown error");
  len = strlen(msg);
  while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
    msg[--len] = 0;
  for (size_t i = 0; i < len; i++)
    if (msg[i] == '\n')
      msg[i] = ' ';
  return vg_error_set(VG_E_DB, "%s: %s: %s", ctx, what, msg);
}

int vg__pg_exec(PGconn *c, const char *sql, const char *ctx, const char *what)
{
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  int rc = VG_OK;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    rc = vg__pg_fail(c, r, ctx, what);
  PQclear(r);
  return rc;
}

/* Server notices (e.g. "extension already exists") go to the debug log, not stderr. */
static void notice(void *arg, const char *msg)
{
  vg_log(VG_LOG_DEBUG, (const char *)arg, "postgresql: %s", msg);
}

int vg__pg_connect(const char *uri, const char *ctx, const char *module, PGconn **out)
{
  PGconn *c = PQconnectdb(uri);
  int rc;
  if (!c)
    return vg_error_set(VG_E_NOMEM, "postgresql connection");
  /* The URI may hold a password: the message names only what failed. */
  if (PQstatus(c) != CONNECTION_OK) {
    rc = vg__pg_fail(c, NULL, ctx, "connecting");
    PQfinish(c);
    return rc;
  }
  PQsetNoticeProcessor(c, notice, (void *)module);
  if (PQsetClientEncoding(c, "UTF8") != 0) {
    rc = vg__pg_fail(c, NULL, ctx, "setting client encoding UTF8");
    PQfinish(c);
    return rc;
  }
  *out = c;
  return VG_OK;
}

/* The schema version in the current schema (0: no meta table yet). */
static int schema_version(PGconn *c, const vg__pg_schema *sch, int *version)
{
  const char *params[1] = {sch->meta_table};
  PGresult *r = PQexecParams(c, "SELECT 1 FROM pg_catalog.pg_tables"
                                " WHERE schemaname = current_schema() AND tablename = $1",
                             1, NULL, params, NULL, NULL, 0);
  char sql[160], what[96];
  int rc = VG_OK;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    snprintf(what, sizeof what, "looking for the %s table", sch->meta_table);
    rc = vg__pg_fail(c, r, sch->ctx, what);
    PQclear(r);
    return rc;
  }
  if (PQntuples(r) == 0) {
    PQclear(r);
    *version = 0;
    return VG_OK;
  }
  PQclear(r);
  snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE key = '%s'", sch->meta_table, sch->version_key);
  r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    snprintf(what, sizeof what, "reading the %s", sch->version_key);
    rc = vg__pg_fail(c, r, sch->ctx, what);
  } else if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
    rc = vg_error_set(VG_E_DB, "%s: %s", sch->ctx, sch->not_ours);
  } else {
    const char *buf = PQgetvalue(r, 0, 0);
    char *end;
    long v = strtol(buf, &end, 10);
    if (*end || end == buf || v < 0 || v > 1000000)
      rc = vg_error_set(VG_E_DB, "%s: %s '%s' is not a version", sch->ctx, sch->version_key, buf);
    else
      *version = (int)v;
  }
  PQclear(r);
  return rc;
}

int vg__pg_migrate(PGconn *c, const vg__pg_schema *sch)
{
  for (;;) {
    int version = 0, rc;
    char sql[256], what[96];
    if ((rc = vg__pg_exec(c, "BEGIN", sch->ctx, "starting a schema migration")) != VG_OK)
      return rc;
    rc = vg__pg_exec(c, "SELECT pg_advisory_xact_lock(" VG__PG_LOCK_MIGRATE ")", sch->ctx,
                     "waiting for the schema migration lock");
    if (rc == VG_OK)
      rc = schema_version(c, sch, &version);
    if (rc == VG_OK && version > sch->nsteps)
      rc = vg_error_set(VG_E_UNSUPPORTED, "%s: %s %d is newer than this vigia's (%d)", sch->ctx,
                        sch->version_key, version, sch->nsteps);
    if (rc == VG_OK && version == sch->nsteps)
      return vg__pg_exec(c, "COMMIT", sch->ctx, "ending the schema check");
    if (rc == VG_OK && version == 0 && sch->before_first)
      rc = sch->before_first(c);
    if (rc == VG_OK) {
      snprintf(what, sizeof what, "migrating %s to version %d", sch->meta_table, version + 1);
      rc = vg__pg_exec(c, sch->steps[version], sch->ctx, what);
    }
    if (rc == VG_OK) {
      snprintf(sql, sizeof sql,
               "INSERT INTO %s (key, value) VALUES ('%s', %d)"
               " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               sch->meta_table, sch->version_key, version + 1);
      rc = vg__pg_exec(c, sql, sch->ctx, "recording the schema version");
    }
    if (rc == VG_OK)
      rc = vg__pg_exec(c, "COMMIT", sch->ctx, "committing a schema migration");
    if (rc != VG_OK) {
      PQclear(PQexec(c, "ROLLBACK"));
      return rc;
    }
  }
}
