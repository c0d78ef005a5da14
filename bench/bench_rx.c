/*
 * bench_rx: global RX (statistics + scoring) on a 1000 x 1000 x B cube tiled
 * from a real benchmark scene, against SPy's spectral.rx (Debian's
 * python3-spectral on numpy/OpenBLAS) on the same cube in the same run
 * (DESIGN.md convention 11).
 *
 *   usage: bench_rx [SIZE]   cube of SIZE x SIZE pixels (default 1000)
 *
 * Input: hsi/abu-urban-4.mat (100 x 100 x 205) from VIGIA_DATA (else the
 * configured data folder), tiled with mirrored copies so that the statistics
 * see a real scene. Both run with the BLAS's default threads (2 here); best of
 * 3, wall clock. The peer gets the cube as a float32 .npy file and is timed by
 * its own process around spectral.rx(X) only (loading excluded).
 * Targets: >= 0.8 Mpx/s and >= 2.5x SPy. Exit 0 whatever the speed, 77 when
 * the data or the peer is absent.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigia/detect.h"
#include "vigia/raster.h"

#ifndef VG_BENCH_DATA_DIR
#define VG_BENCH_DATA_DIR "../shared/data"
#endif
#define RUNS 3

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* numpy .npy v1.0 of a float32 (n, b) array */
static int write_npy(const char *path, const float *x, size_t n, int b)
{
  FILE *f = fopen(path, "wb");
  char hdr[128];
  int len;
  if (!f)
    return -1;
  len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }", n, b);
  while ((10 + len + 1) % 64)
    hdr[len++] = ' ';
  hdr[len++] = '\n';
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(len & 0xff, f);
  fputc(len >> 8, f);
  fwrite(hdr, 1, (size_t)len, f);
  fwrite(x, sizeof *x, n * (size_t)b, f);
  return fclose(f);
}

int main(int argc, char **argv)
{
  const char *data = getenv("VIGIA_DATA");
  char path[4096], npy[] = "/tmp/vigia_bench_rx_XXXXXX";
  vg_cube *src = NULL, *c = NULL;
  int size = argc > 1 ? atoi(argv[1]) : 1000, fd;
  double best = 1e30, peer = NAN;
  float *score;
  size_t n;

  if (!data)
    data = VG_BENCH_DATA_DIR;
  snprintf(path, sizeof path, "%s/hsi/abu-urban-4.mat", data);
  if (access(path, R_OK) != 0) {
    fprintf(stderr, "bench_rx: %s absent\n", path);
    return 77;
  }
  if (vg_raster_mat_read(&src, path, "data") != VG_OK) {
    fprintf(stderr, "bench_rx: %s\n", vg_error_last());
    return 1;
  }
  if (size < 100 || vg_cube_new(&c, size, size, src->bands) != VG_OK) {
    fprintf(stderr, "bench_rx: size %d\n", size);
    return 1;
  }
  /* mirrored tiling: tile (i, j) flipped on odd indices, so edges meet */
  for (int r = 0; r < size; r++)
    for (int k = 0; k < size; k++) {
      int tr = r / src->rows, tc = k / src->cols, rr = r % src->rows, cc = k % src->cols;
      if (tr & 1)
        rr = src->rows - 1 - rr;
      if (tc & 1)
        cc = src->cols - 1 - cc;
      memcpy(vg_cube_px(c, r, k), vg_cube_px(src, rr, cc), (size_t)src->bands * sizeof(float));
    }
  n = (size_t)size * (size_t)size;
  score = malloc(n * sizeof *score);
  printf("bench_rx: %d x %d x %d cube tiled from %s\n", size, size, c->bands, path);
  for (int i = 0; i < RUNS; i++) {
    vg_detect_opts o = VG_DETECT_OPTS_INIT;
    double t0 = now(), t;
    o.method = VG_DETECT_RX;
    if (vg_detect_anomaly(c, &o, score) != VG_OK) {
      fprintf(stderr, "bench_rx: %s\n", vg_error_last());
      return 1;
    }
    t = now() - t0;
    if (t < best)
      best = t;
  }
  /* the peer */
  fd = mkstemp(npy);
  if (fd >= 0) {
    char cmd[8192];
    FILE *p;
    close(fd);
    if (write_npy(npy, c->data, n, c->bands) == 0) {
      snprintf(cmd, sizeof cmd,
               "/usr/bin/python3 -c \""
               "import time, numpy as np, spectral\n"
               "X = np.load('%s').reshape(%d, %d, %d)\n"
               "best = 1e30\n"
               "for i in range(%d):\n"
               "    t = time.perf_counter(); s = spectral.rx(X); best = min(best, time.perf_counter() - t)\n"
               "print(best)\n\" 2>/dev/null",
               npy, size, size, c->bands, RUNS);
      if ((p = popen(cmd, "r"))) {
        if (fscanf(p, "%lf", &peer) != 1)
          peer = NAN;
        pclose(p);
      }
    }
    unlink(npy);
  }
  printf("  %-34s %8s %10s\n", "pass (best of 3)", "s", "Mpx/s");
  printf("  %-34s %8.3f %10.3f\n", "vigia global RX (stats + scores)", best, n / best / 1e6);
  if (isnan(peer))
    printf("  %-34s %8s %10s   (python3-spectral absent: apt-get install python3-spectral)\n",
           "SPy spectral.rx", "-", "-");
  else
    printf("  %-34s %8.3f %10.3f\n", "SPy spectral.rx", peer, n / peer / 1e6);
  printf("targets: >= 0.8 Mpx/s: %.3f %s", n / best / 1e6, n / best / 1e6 >= 0.8 ? "MET" : "BELOW TARGET");
  if (!isnan(peer))
    printf("; >= 2.5x SPy: %.2fx %s", peer / best, peer / best >= 2.5 ? "MET" : "BELOW TARGET");
  printf("\n");
  free(score);
  vg_cube_free(c);
  vg_cube_free(src);
  return isnan(peer) ? 77 : 0;
}
