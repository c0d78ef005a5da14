/*
 * vigia jobs: a queue of inputs (flights, rasters) to run through the
 * exploitation pipeline, shared by any number of `vigia worker` processes on
 * any number of machines. PostgreSQL only (the table lives beside the
 * register's, in the URI's current schema): a SQLite path is
 * VG_E_UNSUPPORTED.
 *
 * A job is queued, running (claimed by a worker, under a lease), done, or
 * dead (the dead-letter state: it failed max_attempts times, default
 * VG_JOBS_MAX_ATTEMPTS). Workers claim with SELECT ... FOR UPDATE SKIP
 * LOCKED, so two never take the same job and none waits for another. A
 * worker that dies leaves its job running until the lease runs out; the next
 * claim then takes it again (that is the retry path). Rerunning a job is safe
 * because ingest is idempotent (vigia/sites.h): observations already stored
 * by the dead worker are skipped. All times are the database server's
 * (now()), so the workers' clocks do not matter.
 */
#ifndef VIGIA_JOBS_H
#define VIGIA_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/sites.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Attempts a job gets before it is dead (the table's default). */
#define VG_JOBS_MAX_ATTEMPTS 3
/** Longest input (path or URL) kept, bytes without the NUL. */
#define VG_JOBS_INPUT_MAX 4095
/** Longest worker name kept. */
#define VG_JOBS_WORKER_MAX 127
/** Longest error message kept (longer ones are cut). */
#define VG_JOBS_ERROR_MAX 1023
/** Longest lease (s): a day. */
#define VG_JOBS_LEASE_MAX 86400

typedef enum vg_job_state {
  VG_JOB_QUEUED = 0,
  VG_JOB_RUNNING,
  VG_JOB_DONE,
  VG_JOB_DEAD,
  VG_JOB__COUNT
} vg_job_state;

/** "queued", "running", "done", "dead" (the words stored in the table). */
const char *vg_job_state_name(vg_job_state s);

typedef struct vg_job {
  int64_t id;
  char input[VG_JOBS_INPUT_MAX + 1];
  char flight[VG_SITES_NAME_MAX + 1]; /**< "" : the input's file name (vg_exploit_run's NULL) */
  vg_job_state state;
  int attempts, max_attempts;
  char worker[VG_JOBS_WORKER_MAX + 1]; /**< last worker that claimed it, "" when none */
  int64_t lease_until_us;              /**< UNIX microseconds, 0 when none */
  char last_error[VG_JOBS_ERROR_MAX + 1];
} vg_job;

typedef struct vg_jobs vg_jobs;

/**
 * Connects to the PostgreSQL database at @p uri ("postgresql://..." or
 * "postgres://") and creates (migrates) the jobs table when needed, under the
 * register's transaction-scoped migration lock, so workers starting at once
 * create it once. Anything else is VG_E_UNSUPPORTED. @p *out belongs to the
 * caller (vg_jobs_close).
 */
int vg_jobs_open(vg_jobs **out, const char *uri);
void vg_jobs_close(vg_jobs *j);

/**
 * Queues @p input under @p flight (NULL or "": the input's file name).
 * Idempotent on (input, flight): a pair already in the table, whatever its
 * state, is left as it is. @p id (may be NULL) gets the job's id, @p added
 * (may be NULL) 1 when it was queued now, 0 when it was there already.
 */
int vg_jobs_add(vg_jobs *j, const char *input, const char *flight, int64_t *id, int *added);

/**
 * Claims the oldest claimable job (queued, or running with its lease run
 * out) in one transaction: it becomes running, attempts + 1, worker
 * @p worker, lease now + @p lease_s seconds (1..VG_JOBS_LEASE_MAX). A job
 * whose lease ran out at max_attempts goes to dead instead (last_error says
 * the lease ran out, after the error before it if any) and the next is
 * looked at. @return VG_OK and @p *job, or VG_E_NOTFOUND when there is
 * nothing to claim.
 */
int vg_jobs_claim(vg_jobs *j, const char *worker, int lease_s, vg_job *job);

/** A running job is done. VG_E_NOTFOUND when job @p id is not running. */
int vg_jobs_done(vg_jobs *j, int64_t id);
/**
 * A running job failed with @p error: queued again, or dead when it has had
 * max_attempts. The error is kept in last_error. @p dead (may be NULL): 1
 * when it went to dead. VG_E_NOTFOUND when job @p id is not running.
 */
int vg_jobs_fail(vg_jobs *j, int64_t id, const char *error, int *dead);
/** Extends a running job's lease to now + @p lease_s. VG_E_NOTFOUND when it is not running. */
int vg_jobs_heartbeat(vg_jobs *j, int64_t id, int lease_s);
/** Number of jobs in each state, indexed by vg_job_state. */
int vg_jobs_counts(vg_jobs *j, int64_t counts[VG_JOB__COUNT]);
/** One job. VG_E_NOTFOUND when there is none with that id. */
int vg_jobs_get(vg_jobs *j, int64_t id, vg_job *out);
/** All jobs by id, at most @p max (0: no limit). *out (free()) holds *n jobs. */
int vg_jobs_list(vg_jobs *j, size_t max, vg_job **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
