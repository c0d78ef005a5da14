/*
 * Parallel chunks for lib/detect, with results that do not depend on the
 * thread count: work is cut into chunks fixed by the data alone, each chunk
 * computed whole by one thread with single-threaded BLAS calls, and partial
 * sums combined in chunk order. OpenBLAS's own threads are turned off the
 * first time (openblas_set_num_threads(1), process-wide): a threaded BLAS
 * splits its sums by thread and changes the last bits of the results.
 * Threads: $VIGIA_THREADS, else the online processors.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "detect_par.h"

void openblas_set_num_threads(int n);

static int n_threads;

void vg__detect_set_threads(int n)
{
  vg__detect_threads();
  n_threads = n < 1 ? 1 : n > 64 ? 64 : n;
}

int vg__detect_threads(void)
{
  int n = n_threads;
  if (!n) {
    const char *e = getenv("VIGIA_THREADS");
    long v = e ? strtol(e, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    n = v < 1 ? 1 : v > 64 ? 64 : (int)v;
    openblas_set_num_threads(1);
    n_threads = n;
  }
  return n;
}

typedef struct {
  vg__par_fn fn;
  void *ctx;
  size_t n;
  atomic_size_t next;
} par_job;

static void *worker(void *arg)
{
  par_job *j = arg;
  for (;;) {
    size_t k = atomic_fetch_add(&j->next, 1);
    if (k >= j->n)
      break;
    j->fn(j->ctx, k);
  }
  return NULL;
}

void vg__detect_par(size_t nchunks, vg__par_fn fn, void *ctx)
{
  int nt = vg__detect_threads();
  pthread_t th[64];
  int started = 0;
  par_job j;
  openblas_set_num_threads(1); /* again: the caller may have changed it */
  j.fn = fn;
  j.ctx = ctx;
  j.n = nchunks;
  atomic_init(&j.next, 0);
  if (nt > 1 && nchunks > 1) {
    for (int i = 1; i < nt && (size_t)i < nchunks; i++)
      if (pthread_create(&th[started], NULL, worker, &j) == 0)
        started++;
  }
  worker(&j);
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
}
