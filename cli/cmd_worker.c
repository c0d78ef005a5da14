/* vigia worker / vigia jobs: the PostgreSQL job queue (lib/sites/jobs.c) and the process that drains it. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigia/exploit.h"
#include "vigia/jobs.h"
#include "vigia/sites.h"

/* Default lease (s): longer than any one input takes between two heartbeats. */
#define WORKER_LEASE_DEFAULT 600
/* How often an idle worker looks for work (ms). */
#define WORKER_POLL_MS 500

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
  (void)sig;
  g_stop = 1;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* a signal cuts it short: the loop looks at g_stop */
}

/* Heartbeats from the pipeline's progress callback (about once a second, between frames):
 * the lease is extended once a third of it has gone. */
typedef struct beat_ud {
  vg_jobs *jobs;
  int64_t id;
  int lease;
  double last;
} beat_ud;

static void on_progress(void *ud, const char *in, const vg_exploit_stats *s, int done)
{
  beat_ud *b = ud;
  double t = now_s();
  (void)in;
  (void)s;
  if (done || t - b->last < b->lease / 3.0)
    return;
  if (vg_jobs_heartbeat(b->jobs, b->id, b->lease) != VG_OK)
    vg_log(VG_LOG_WARN, "worker", "job %lld: heartbeat: %s", (long long)b->id, vg_error_last());
  b->last = t;
}

void vg_cmd_worker_help(void)
{
  printf("usage: vigia worker --db postgresql://... [options]\n\n"
         "Takes jobs from the register's job queue (`vigia jobs add`) and runs each\n"
         "through the exploitation pipeline (as `vigia exploit`) into the register on the\n"
         "same database. Run any number of workers on any number of machines: each job\n"
         "is claimed by one of them (SELECT ... FOR UPDATE SKIP LOCKED) under a lease.\n"
         "A job that fails goes back to the queue, and to dead after 3 attempts with its\n"
         "error kept. A worker that dies (killed, machine lost) leaves its job running\n"
         "until the lease runs out; then another worker takes it again. Rerunning is\n"
         "safe: observations already stored are skipped. While it works the worker\n"
         "extends its lease between frames (once a third of it has gone); one frame or\n"
         "raster that takes longer than the lease lets another worker start the same\n"
         "job, which is harmless but wasted work: keep the lease well above that.\n\n"
         "options:\n"
         "  --db URI          the PostgreSQL register (required)\n"
         "  --name NAME       this worker's name in the queue (default host:pid)\n"
         "  --lease S         lease of a claimed job in seconds (default 600)\n"
         "  --once            stop after one job\n"
         "  --idle-exit S     stop after S seconds without a job (default: never)\n"
         "  --every N, --quantile Q, --dem FILE, --geoid FILE   as `vigia exploit`\n"
         "  -h, --help        this text\n\n"
         "SIGINT / SIGTERM: stop after the current job.\n"
         "exit status: 0 stopped (idle, --once, signal), 1 failed (database), 2 usage\n");
}

int vg_cmd_worker(int argc, char **argv)
{
  static const struct option lo[] = {
    {"db", required_argument, NULL, 'd'},       {"name", required_argument, NULL, 'n'},
    {"lease", required_argument, NULL, 'l'},    {"once", no_argument, NULL, 'o'},
    {"idle-exit", required_argument, NULL, 'i'}, {"every", required_argument, NULL, 'e'},
    {"quantile", required_argument, NULL, 'Q'}, {"dem", required_argument, NULL, 'D'},
    {"geoid", required_argument, NULL, 'g'},    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  vg_exploit_opts eo;
  vg_exploit *x = NULL;
  vg_register *reg = NULL;
  vg_jobs *jobs = NULL;
  const char *db = NULL;
  char name[VG_JOBS_WORKER_MAX + 1] = "";
  int ch, lease = WORKER_LEASE_DEFAULT, once = 0, status = VG_EXIT_FAILED, ndone = 0, nfail = 0;
  double idle_exit = -1, idle_since;
  beat_ud beat;
  struct sigaction sa;
  vg_job *job = NULL;

  vg_exploit_opts_default(&eo);
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    char *end;
    switch (ch) {
    case 'd': db = optarg; break;
    case 'n':
      if (!*optarg || strlen(optarg) > VG_JOBS_WORKER_MAX) {
        fprintf(stderr, "vigia worker: --name wants 1..%d bytes\n", VG_JOBS_WORKER_MAX);
        return VG_EXIT_USAGE;
      }
      snprintf(name, sizeof name, "%s", optarg);
      break;
    case 'l': {
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > VG_JOBS_LEASE_MAX) {
        fprintf(stderr, "vigia worker: --lease wants seconds in 1..%d\n", VG_JOBS_LEASE_MAX);
        return VG_EXIT_USAGE;
      }
      lease = (int)v;
      break;
    }
    case 'o': once = 1; break;
    case 'i':
      idle_exit = strtod(optarg, &end);
      if (*end || !(idle_exit >= 0)) {
        fprintf(stderr, "vigia worker: --idle-exit wants seconds >= 0\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'e':
      eo.every = atoi(optarg);
      if (eo.every < 1) {
        fprintf(stderr, "vigia worker: --every wants a positive count\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'Q':
      eo.quantile = atof(optarg);
      if (!(eo.quantile > 0 && eo.quantile < 1)) {
        fprintf(stderr, "vigia worker: --quantile wants a number in (0, 1)\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'D': eo.dem_path = optarg; break;
    case 'g': eo.geoid_path = optarg; break;
    case 'h': vg_cmd_worker_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_worker_help(); return VG_EXIT_USAGE;
    }
  }
  if (!db || optind < argc) {
    fprintf(stderr, "vigia worker: expected --db postgresql://... and no other argument\n");
    return VG_EXIT_USAGE;
  }
  if (!name[0]) {
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
      snprintf(host, sizeof host, "localhost");
    snprintf(name, sizeof name, "%s:%ld", host, (long)getpid());
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a sleep ends at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (!(job = malloc(sizeof *job))) {
    fprintf(stderr, "vigia worker: out of memory\n");
    goto done;
  }
  if (vg_jobs_open(&jobs, db) != VG_OK || vg_register_open(&reg, db) != VG_OK ||
      vg_exploit_new(&x, reg, &eo) != VG_OK) {
    fprintf(stderr, "vigia worker: %s\n", vg_error_last());
    goto done;
  }
  beat.jobs = jobs;
  beat.lease = lease;
  vg_exploit_set_progress(x, on_progress, &beat);
  fprintf(stderr, "worker %s: waiting for jobs (lease %d s)\n", name, lease);
  idle_since = now_s();
  status = VG_EXIT_CLEAN;
  while (!g_stop) {
    vg_exploit_stats before;
    int rc = vg_jobs_claim(jobs, name, lease, job);
    if (rc == VG_E_NOTFOUND) {
      if (idle_exit >= 0 && now_s() - idle_since >= idle_exit) {
        fprintf(stderr, "worker %s: idle for %g s, stopping\n", name, idle_exit);
        break;
      }
      sleep_ms(WORKER_POLL_MS);
      continue;
    }
    if (rc != VG_OK) {
      fprintf(stderr, "worker %s: claiming: %s\n", name, vg_error_last());
      status = VG_EXIT_FAILED;
      break;
    }
    fprintf(stderr, "worker %s: job %lld %s%s%s (attempt %d of %d)\n", name, (long long)job->id,
            job->input, job->flight[0] ? " as " : "", job->flight, job->attempts, job->max_attempts);
    before = *vg_exploit_stats_get(x);
    beat.id = job->id;
    beat.last = now_s();
    rc = vg_exploit_run(x, job->input, job->flight[0] ? job->flight : NULL);
    if (rc == VG_OK) {
      const vg_exploit_stats *s = vg_exploit_stats_get(x);
      fprintf(stderr,
              "worker %s: job %lld done: %zu frames, %zu detections, observations %zu new, %zu "
              "already there%s\n",
              name, (long long)job->id, s->frames - before.frames, s->detections - before.detections,
              s->ingest.obs_new - before.ingest.obs_new, s->ingest.obs_dup - before.ingest.obs_dup,
              s->errors > before.errors ? " (damaged input skipped)" : "");
      ndone++;
      if (vg_jobs_done(jobs, job->id) != VG_OK)
        fprintf(stderr, "worker %s: job %lld: marking done: %s\n", name, (long long)job->id,
                vg_error_last());
    } else {
      char err[VG_JOBS_ERROR_MAX + 1];
      int dead = 0;
      snprintf(err, sizeof err, "%s: %s", vg_err_name(rc), vg_error_last());
      fprintf(stderr, "worker %s: job %lld failed: %s\n", name, (long long)job->id, err);
      nfail++;
      if (vg_jobs_fail(jobs, job->id, err, &dead) != VG_OK)
        fprintf(stderr, "worker %s: job %lld: marking failed: %s\n", name, (long long)job->id,
                vg_error_last());
      else if (dead)
        fprintf(stderr, "worker %s: job %lld is dead after %d attempts\n", name, (long long)job->id,
                job->attempts);
    }
    idle_since = now_s();
    if (once)
      break;
  }
  printf("worker %s: %d jobs done, %d failed\n", name, ndone, nfail);
done:
  vg_exploit_free(x);
  vg_register_close(reg);
  vg_jobs_close(jobs);
  free(job);
  return status;
}

/* ---- vigia jobs ------------------------------------------------------------------------- */

void vg_cmd_jobs_help(void)
{
  printf("usage: vigia jobs --db postgresql://... add INPUT... [--flight NAME]\n"
         "       vigia jobs --db postgresql://... list\n"
         "       vigia jobs --db postgresql://... counts\n\n"
         "The register's job queue, drained by `vigia worker`. add queues inputs (video\n"
         "or georeferenced rasters, paths that the workers can read) under a flight name\n"
         "(default: the input's file name); an (input, flight) already queued, running,\n"
         "done or dead is left as it is. list prints one job a line: id, state,\n"
         "attempts/max, worker, flight, input, last error. counts prints the number of\n"
         "jobs in each state.\n\n"
         "options:\n"
         "  --db URI          the PostgreSQL register (required)\n"
         "  --flight NAME     add: flight name (one input only)\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 done, 1 failed, 2 usage\n");
}

int vg_cmd_jobs(int argc, char **argv)
{
  static const struct option lo[] = {{"db", required_argument, NULL, 'd'},
                                     {"flight", required_argument, NULL, 'f'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};
  const char *db = NULL, *flight = NULL, *verb;
  vg_jobs *jobs = NULL;
  int ch, status = VG_EXIT_FAILED;

  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': db = optarg; break;
    case 'f': flight = optarg; break;
    case 'h': vg_cmd_jobs_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_jobs_help(); return VG_EXIT_USAGE;
    }
  }
  if (!db || optind >= argc) {
    fprintf(stderr, "vigia jobs: expected --db postgresql://... and add, list or counts\n");
    return VG_EXIT_USAGE;
  }
  verb = argv[optind++];
  if (!strcmp(verb, "add")) {
    if (optind >= argc) {
      fprintf(stderr, "vigia jobs add: expected INPUT...\n");
      return VG_EXIT_USAGE;
    }
    if (flight && argc - optind > 1) {
      fprintf(stderr, "vigia jobs add: --flight names one input\n");
      return VG_EXIT_USAGE;
    }
    if (flight && (!*flight || strlen(flight) > VG_SITES_NAME_MAX)) {
      fprintf(stderr, "vigia jobs add: --flight wants 1..%d bytes\n", VG_SITES_NAME_MAX);
      return VG_EXIT_USAGE;
    }
  } else if (strcmp(verb, "list") != 0 && strcmp(verb, "counts") != 0) {
    fprintf(stderr, "vigia jobs: no verb '%s' (add, list, counts)\n", verb);
    return VG_EXIT_USAGE;
  } else if (optind < argc || flight) {
    fprintf(stderr, "vigia jobs %s: takes no argument but --db\n", verb);
    return VG_EXIT_USAGE;
  }
  if (vg_jobs_open(&jobs, db) != VG_OK) {
    fprintf(stderr, "vigia jobs: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  if (!strcmp(verb, "add")) {
    int failed = 0;
    for (int i = optind; i < argc; i++) {
      int64_t id = 0;
      int added = 0;
      if (vg_jobs_add(jobs, argv[i], flight, &id, &added) != VG_OK) {
        fprintf(stderr, "vigia jobs add: %s: %s\n", argv[i], vg_error_last());
        failed++;
        continue;
      }
      printf("%lld\t%s\t%s\n", (long long)id, added ? "queued" : "already there", argv[i]);
    }
    status = failed ? VG_EXIT_FAILED : VG_EXIT_CLEAN;
  } else if (!strcmp(verb, "list")) {
    vg_job *v = NULL;
    size_t n = 0;
    if (vg_jobs_list(jobs, 0, &v, &n) != VG_OK) {
      fprintf(stderr, "vigia jobs list: %s\n", vg_error_last());
      goto done;
    }
    printf("id\tstate\tattempts\tworker\tflight\tinput\tlast_error\n");
    for (size_t i = 0; i < n; i++)
      printf("%lld\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", (long long)v[i].id, vg_job_state_name(v[i].state),
             v[i].attempts, v[i].max_attempts, v[i].worker[0] ? v[i].worker : "-",
             v[i].flight[0] ? v[i].flight : "-", v[i].input, v[i].last_error);
    free(v);
    status = VG_EXIT_CLEAN;
  } else {
    int64_t c[VG_JOB__COUNT];
    if (vg_jobs_counts(jobs, c) != VG_OK) {
      fprintf(stderr, "vigia jobs counts: %s\n", vg_error_last());
      goto done;
    }
    printf("queued %lld running %lld done %lld dead %lld\n", (long long)c[VG_JOB_QUEUED],
           (long long)c[VG_JOB_RUNNING], (long long)c[VG_JOB_DONE], (long long)c[VG_JOB_DEAD]);
    status = VG_EXIT_CLEAN;
  }
done:
  vg_jobs_close(jobs);
  return status;
}
