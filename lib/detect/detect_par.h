/* Parallel chunks with thread-count-independent results (par.c). */
#ifndef VG_DETECT_PAR_H
#define VG_DETECT_PAR_H

#include <stddef.h>

typedef void (*vg__par_fn)(void *ctx, size_t chunk);
/* Threads used (and OpenBLAS set to one thread, once). */
int vg__detect_threads(void);
/* Overrides the thread count (tests). */
void vg__detect_set_threads(int n);
/* Runs fn(ctx, k) for k in [0, nchunks) over the threads; returns when all are done. */
void vg__detect_par(size_t nchunks, vg__par_fn fn, void *ctx);

#endif
