/*
 * vigia detect / eval / had / change: the detectors of lib/detect on rasters.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "vigia/detect.h"
#include "vigia/raster.h"

static int mkdir_p(const char *d)
{
  if (mkdir(d, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "vigia: cannot create '%s': %s\n", d, strerror(errno));
    return -1;
  }
  return 0;
}

/* A truth map: the file's `map` variable (MAT) or its first band, nonzero = target. */
static int read_truth(const char *path, int rows, int cols, uint8_t **out)
{
  vg_cube *t = NULL;
  uint8_t *m;
  if (vg_raster_read(&t, path, "map") != VG_OK)
    return -1;
  if (t->rows != rows || t->cols != cols) {
    vg_error_set(VG_E_INVALID, "%s is %d x %d, the scores %d x %d", path, t->rows, t->cols, rows, cols);
    vg_cube_free(t);
    return -1;
  }
  m = malloc((size_t)rows * (size_t)cols);
  if (!m) {
    vg_cube_free(t);
    return -1;
  }
  for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
    m[i] = t->data[i * (size_t)t->bands] != 0.0f;
  vg_cube_free(t);
  *out = m;
  return 0;
}

/* Map coordinates of a pixel position (pixel centres at +0.5) through the geotransform. */
static void px_to_map(const vg_cube *c, double row, double col, double *x, double *y)
{
  *x = c->gt[0] + col * c->gt[1] + row * c->gt[2];
  *y = c->gt[3] + col * c->gt[4] + row * c->gt[5];
}

static void write_detections(FILE *f, const vg_cube *c, const char *method, const vg_blob *b,
                             size_t nb, double thr)
{
  fprintf(f, "{\"method\":\"%s\",\"threshold\":%.6g,\"rows\":%d,\"cols\":%d,\"count\":%zu,"
             "\"detections\":[", method, thr, c->rows, c->cols, nb);
  for (size_t i = 0; i < nb; i++) {
    fprintf(f, "%s\n {\"row\":%.3f,\"col\":%.3f,\"area\":%d,\"peak\":%.6g,\"mean\":%.6g,"
               "\"bbox\":[%d,%d,%d,%d]", i ? "," : "", b[i].row, b[i].col, b[i].area,
            (double)b[i].peak, (double)b[i].mean, b[i].r0, b[i].c0, b[i].r1, b[i].c1);
    if (c->has_gt) {
      double x, y;
      px_to_map(c, b[i].row, b[i].col, &x, &y);
      fprintf(f, ",\"x\":%.9g,\"y\":%.9g", x, y);
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n]}\n");
}

/* ---- detect ---------------------------------------------------------------------------- */

static int ends_with_ci(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcasecmp(s + a - b, suf);
}

static int read_rows(void *ctx, int row0, int nrows, float *buf)
{
  return vg_raster_read_rows(ctx, row0, nrows, buf);
}

#ifndef VG_CLI_DATA_DIR
#define VG_CLI_DATA_DIR "../shared/data"
#endif

/* MF / ACE / CEM against a library spectrum (resampled to the image's bands) or a pixel's. */
static int score_target(const vg_cube *c, const vg_detect_opts *o, const char *tname, const char *lib,
                        int at_r, int at_c, float *score)
{
  size_t n = (size_t)c->rows * (size_t)c->cols;
  float *tgt = malloc((size_t)c->bands * sizeof *tgt);
  vg_stats *bg = NULL;
  vg_speclib *l = NULL;
  int rc = VG_OK;
  if (!tgt)
    return vg_error_set(VG_E_NOMEM, "target");
  if (at_r >= 0) {
    if (at_r >= c->rows || at_c >= c->cols) {
      rc = vg_error_set(VG_E_RANGE, "--target-at %d,%d is outside the %d x %d image", at_r, at_c,
                        c->rows, c->cols);
      goto done;
    }
    memcpy(tgt, vg_cube_px(c, at_r, at_c), (size_t)c->bands * sizeof *tgt);
  } else {
    char def[4096];
    long k;
    if (!c->wavelength_um) {
      rc = vg_error_set(VG_E_NOTFOUND, "the image carries no band wavelengths: a library spectrum "
                                       "cannot be resampled to it (use --target-at ROW,COL)");
      goto done;
    }
    if (!lib) {
      const char *d = getenv("VIGIA_DATA");
      snprintf(def, sizeof def, "%s/spectra/index.csv", d && *d ? d : VG_CLI_DATA_DIR);
      lib = def;
    }
    if ((rc = vg_speclib_read(&l, lib)) != VG_OK)
      goto done;
    k = vg_speclib_find(l, tname ? tname : "tarp");
    if (k < 0) {
      rc = vg_error_set(VG_E_NOTFOUND, "no spectrum named like '%s' in %s", tname ? tname : "tarp", lib);
      goto done;
    }
    if ((rc = vg_speclib_resample(l, (size_t)k, c->wavelength_um, c->bands, tgt)) != VG_OK)
      goto done;
    fprintf(stderr, "vigia detect: target %s\n", vg_speclib_name(l, (size_t)k));
  }
  if (o->method != VG_DETECT_CEM &&
      (rc = vg_stats_compute(&bg, c->data, n, c->bands, NULL, o->eps)) != VG_OK)
    goto done;
  rc = vg_detect_target(c->data, n, c->bands, bg, tgt, o->method, score);
done:
  vg_stats_free(bg);
  vg_speclib_free(l);
  free(tgt);
  return rc;
}

void vg_cmd_detect_help(void)
{
  printf("usage: vigia detect [options] IMAGE --out DIR\n\n"
         "Scores every pixel of an image (any GDAL raster, or a MATLAB v5 .mat) with a\n"
         "detector, cuts the score map into detections (connected blobs: centroid, area,\n"
         "peak and mean score, bounding box, map coordinates when georeferenced) and\n"
         "writes DIR/scores.tif (float32 GeoTIFF, georeferenced as the input),\n"
         "DIR/scores.png (preview, detections in red) and DIR/detections.json.\n\n"
         "options:\n"
         "  --method M        rxp (default anomaly detector), rx (global, loaded), lrx (local,\n"
         "                    on 30 principal components); mf, ace, cem against a target\n"
         "                    spectrum; thermal (one band of temperatures in deg C)\n"
         "  --target NAME     target spectrum from the library (first name containing NAME;\n"
         "                    default: polyethylene tarp); needs the image's wavelengths\n"
         "  --lib FILE        spectral library (docs/formats/speclib.md; default\n"
         "                    $VIGIA_DATA/spectra/index.csv, the USGS library)\n"
         "  --target-at R,C   or the spectrum of pixel (row R, column C) of the image\n"
         "  --log             score log(1 + DN): for camera digital numbers, where shading\n"
         "                    multiplies every band alike (RGB, multispectral DN)\n"
         "  --var NAME        variable of a .mat file (default: the first 3-D array)\n"
         "  --eps E           covariance loading eps*tr/B (default 1e-3)\n"
         "  --gsd M           ground sample distance (m), for lrx's windows\n"
         "  --target-size M   largest target (m, default 10), for lrx's windows\n"
         "  --quantile Q      keep scores above this quantile (default 0.999)\n"
         "  --pfa P           rx only: the chi-square CFAR threshold of false-alarm probability P\n"
         "  --threshold T     or above this score\n"
         "  --min-area N      smallest blob in pixels (default 1)\n"
         "  --max-count N     keep the N strongest blobs (default 100)\n"
         "  --truth MAP       a truth map (.mat `map` or raster): print the ROC AUC\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 done, 1 failed, 2 usage\n");
}

int vg_cmd_detect(int argc, char **argv)
{
  enum { O_METHOD = 256, O_VAR, O_EPS, O_GSD, O_TSIZE, O_Q, O_T, O_MINA, O_MAXC, O_TRUTH, O_TGT,
         O_LIB, O_TAT, O_LOG, O_PFA };
  static const struct option lo[] = {
    {"method", required_argument, NULL, O_METHOD}, {"var", required_argument, NULL, O_VAR},
    {"eps", required_argument, NULL, O_EPS},       {"gsd", required_argument, NULL, O_GSD},
    {"target-size", required_argument, NULL, O_TSIZE}, {"quantile", required_argument, NULL, O_Q},
    {"threshold", required_argument, NULL, O_T},   {"min-area", required_argument, NULL, O_MINA},
    {"max-count", required_argument, NULL, O_MAXC}, {"truth", required_argument, NULL, O_TRUTH},
    {"target", required_argument, NULL, O_TGT},    {"lib", required_argument, NULL, O_LIB},
    {"target-at", required_argument, NULL, O_TAT}, {"log", no_argument, NULL, O_LOG},
    {"pfa", required_argument, NULL, O_PFA},
    {"out", required_argument, NULL, 'o'},         {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  vg_detect_opts o = VG_DETECT_OPTS_INIT;
  vg_blob_opts bo = {0.999, 0, 1, 100};
  const char *out = NULL, *var = NULL, *truth = NULL, *tname = NULL, *lib = NULL;
  int at_r = -1, at_c = -1, use_log = 0, streamed = 0, nbands = 0;
  double pfa = 0;
  vg_cube *c = NULL, *sc = NULL;
  vg_blob *b = NULL;
  size_t nb = 0;
  uint8_t *mask = NULL, *tm = NULL;
  double thr = 0;
  int ch, status = VG_EXIT_FAILED;
  char path[4096];

  optind = 1;
  while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
    switch (ch) {
    case O_METHOD:
      if (vg_detect_method_parse(optarg, &o.method) != VG_OK) {
        fprintf(stderr, "vigia detect: %s\n", vg_error_last());
        return VG_EXIT_USAGE;
      }
      break;
    case O_VAR: var = optarg; break;
    case O_EPS: o.eps = atof(optarg); break;
    case O_GSD: o.gsd_m = atof(optarg); break;
    case O_TSIZE: o.target_m = atof(optarg); break;
    case O_Q:
      bo.quantile = atof(optarg);
      if (!(bo.quantile > 0 && bo.quantile < 1)) {
        fprintf(stderr, "vigia detect: --quantile wants a number in (0, 1)\n");
        return VG_EXIT_USAGE;
      }
      break;
    case O_T: bo.threshold = atof(optarg); bo.quantile = 0; break;
    case O_MINA: bo.min_area = atoi(optarg); break;
    case O_MAXC: bo.max_count = atoi(optarg); break;
    case O_TRUTH: truth = optarg; break;
    case O_TGT: tname = optarg; break;
    case O_LIB: lib = optarg; break;
    case O_LOG: use_log = 1; break;
    case O_PFA:
      pfa = atof(optarg);
      if (!(pfa > 0 && pfa < 1)) {
        fprintf(stderr, "vigia detect: --pfa wants a probability in (0, 1)\n");
        return VG_EXIT_USAGE;
      }
      break;
    case O_TAT:
      if (sscanf(optarg, "%d,%d", &at_r, &at_c) != 2 || at_r < 0 || at_c < 0) {
        fprintf(stderr, "vigia detect: --target-at wants ROW,COL\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'o': out = optarg; break;
    case 'h': vg_cmd_detect_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_detect_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1 || !out) {
    fprintf(stderr, "vigia detect: expected one IMAGE and --out DIR\n");
    return VG_EXIT_USAGE;
  }
  if (pfa > 0 && o.method != VG_DETECT_RX) {
    fprintf(stderr, "vigia detect: --pfa (chi-square CFAR) goes with rx, whose scores are chi-square "
                    "on a Gaussian background; use --quantile for %s\n", vg_detect_method_name(o.method));
    return VG_EXIT_USAGE;
  }
  if (use_log && o.method != VG_DETECT_MF && o.method != VG_DETECT_ACE && o.method != VG_DETECT_CEM) {
    fprintf(stderr, "vigia detect: --log goes with mf, ace or cem\n");
    return VG_EXIT_USAGE;
  }
  if (mkdir_p(out))
    return VG_EXIT_FAILED;
  if ((o.method == VG_DETECT_RX || o.method == VG_DETECT_RXP) && !ends_with_ci(argv[optind], ".mat")) {
    /* read by rows: a raster larger than memory runs; the result is the same */
    vg_raster *ras = NULL;
    const vg_cube *info;
    if (vg_raster_open(&ras, argv[optind]) != VG_OK) {
      fprintf(stderr, "vigia detect: %s\n", vg_error_last());
      goto done;
    }
    info = vg_raster_info(ras);
    if (vg_cube_new(&c, info->rows, info->cols, 1) != VG_OK || vg_cube_copy_georef(c, info) != VG_OK ||
        vg_cube_new(&sc, info->rows, info->cols, 1) != VG_OK || vg_cube_copy_georef(sc, info) != VG_OK ||
        vg_detect_anomaly_rows(info->rows, info->cols, info->bands, read_rows, ras, &o, sc->data) != VG_OK) {
      fprintf(stderr, "vigia detect: %s: %s\n", argv[optind], vg_error_last());
      vg_raster_close(ras);
      goto done;
    }
    nbands = info->bands; /* c only carries the size and georeferencing */
    vg_raster_close(ras);
    streamed = 1;
  } else if (vg_raster_read(&c, argv[optind], var) != VG_OK) {
    fprintf(stderr, "vigia detect: %s\n", vg_error_last());
    goto done;
  }
  if (use_log && !streamed)
    vg_detect_log_dn(c->data, (size_t)c->rows * (size_t)c->cols * (size_t)c->bands);
  if (!streamed && (vg_cube_new(&sc, c->rows, c->cols, 1) != VG_OK || vg_cube_copy_georef(sc, c) != VG_OK)) {
    fprintf(stderr, "vigia detect: %s: %s\n", argv[optind], vg_error_last());
    goto done;
  }
  mask = malloc((size_t)c->rows * (size_t)c->cols);
  if (!mask) {
    fprintf(stderr, "vigia detect: out of memory\n");
    goto done;
  }
  if (o.method == VG_DETECT_THERMAL) {
    /* the contextual test decides; blobs are its connected hot pixels */
    vg_thermal_opts to;
    size_t n = (size_t)c->rows * (size_t)c->cols;
    float *t = malloc(n * sizeof *t), *m = malloc(n * sizeof *m);
    int rc;
    if (!t || !m) {
      free(t);
      free(m);
      fprintf(stderr, "vigia detect: out of memory\n");
      goto done;
    }
    for (size_t i = 0; i < n; i++)
      t[i] = c->data[i * (size_t)c->bands];
    vg_thermal_opts_default(&to);
    rc = vg_thermal_detect(t, c->rows, c->cols, &to, mask, sc->data);
    for (size_t i = 0; i < n; i++)
      m[i] = mask[i] ? (isfinite(sc->data[i]) && sc->data[i] > 0 ? sc->data[i] : 1.0f) : 0.0f;
    bo.quantile = 0;
    bo.threshold = 0;
    if (rc == VG_OK)
      rc = vg_blobs_find(m, c->rows, c->cols, &bo, &b, &nb, mask, &thr);
    free(t);
    free(m);
    if (rc != VG_OK) {
      fprintf(stderr, "vigia detect: %s: %s\n", argv[optind], vg_error_last());
      goto done;
    }
  } else if (!streamed) {
    int rc;
    if (o.method == VG_DETECT_MF || o.method == VG_DETECT_ACE || o.method == VG_DETECT_CEM)
      rc = score_target(c, &o, tname, lib, at_r, at_c, sc->data);
    else
      rc = vg_detect_anomaly(c, &o, sc->data);
    if (rc != VG_OK) {
      fprintf(stderr, "vigia detect: %s: %s\n", argv[optind], vg_error_last());
      goto done;
    }
  }
  if (pfa > 0) {
    bo.quantile = 0;
    bo.threshold = vg_detect_chi2_quantile(streamed ? nbands : c->bands, pfa);
  }
  if (o.method != VG_DETECT_THERMAL &&
      vg_blobs_find(sc->data, c->rows, c->cols, &bo, &b, &nb, mask, &thr) != VG_OK) {
    fprintf(stderr, "vigia detect: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/scores.tif", out);
  if (vg_raster_write_tiff(path, sc, 0) != VG_OK) {
    fprintf(stderr, "vigia detect: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/scores.png", out);
  if (vg_raster_write_png(path, sc->data, sc->rows, sc->cols, mask) != VG_OK) {
    fprintf(stderr, "vigia detect: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/detections.json", out);
  {
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "vigia detect: cannot write '%s'\n", path);
      goto done;
    }
    write_detections(f, c, vg_detect_method_name(o.method), b, nb, thr);
    fclose(f);
  }
  printf("%s: %d x %d x %d%s, method %s: %zu detections above %.6g -> %s/\n", argv[optind], c->rows,
         c->cols, streamed ? nbands : c->bands, streamed ? " (read by rows)" : "",
         vg_detect_method_name(o.method), nb, thr, out);
  if (truth) {
    if (read_truth(truth, c->rows, c->cols, &tm)) {
      fprintf(stderr, "vigia detect: truth %s: %s\n", truth, vg_error_last());
      goto done;
    }
    printf("AUC %.4f\n", vg_roc_auc(sc->data, tm, (size_t)c->rows * (size_t)c->cols));
  }
  status = VG_EXIT_CLEAN;
done:
  free(b);
  free(mask);
  free(tm);
  vg_cube_free(c);
  vg_cube_free(sc);
  return status;
}

/* ---- eval ------------------------------------------------------------------------------ */

void vg_cmd_eval_help(void)
{
  printf("usage: vigia eval SCORES --truth MAP [--roc OUT.png]\n\n"
         "ROC AUC of a score map (the scores.tif of vigia detect, or any one-band raster)\n"
         "against a truth map (nonzero = target; a .mat file's `map` variable or a raster),\n"
         "as the Mann-Whitney statistic with ties counted half; --roc draws the curve.\n\n"
         "exit status: 0 done, 1 failed, 2 usage\n");
}

int vg_cmd_eval(int argc, char **argv)
{
  static const struct option lo[] = {{"truth", required_argument, NULL, 't'},
                                     {"roc", required_argument, NULL, 'r'},
                                     {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *truth = NULL, *roc = NULL;
  vg_cube *s = NULL;
  uint8_t *tm = NULL;
  int ch, status = VG_EXIT_FAILED;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 't': truth = optarg; break;
    case 'r': roc = optarg; break;
    case 'h': vg_cmd_eval_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_eval_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1 || !truth) {
    fprintf(stderr, "vigia eval: expected SCORES and --truth MAP\n");
    return VG_EXIT_USAGE;
  }
  if (vg_raster_read(&s, argv[optind], NULL) != VG_OK || s->bands != 1) {
    fprintf(stderr, "vigia eval: %s: %s\n", argv[optind], s ? "not a one-band score map" : vg_error_last());
    goto done;
  }
  if (read_truth(truth, s->rows, s->cols, &tm)) {
    fprintf(stderr, "vigia eval: truth %s: %s\n", truth, vg_error_last());
    goto done;
  }
  {
    size_t n = (size_t)s->rows * (size_t)s->cols, pos = 0;
    double auc = vg_roc_auc(s->data, tm, n);
    for (size_t i = 0; i < n; i++)
      pos += tm[i];
    printf("%s: %zu pixels, %zu targets, AUC %.4f\n", argv[optind], n, pos, auc);
    if (roc) {
      double pfa[512], pd[512];
      size_t k = vg_roc_curve(s->data, tm, n, pfa, pd, 512);
      const double *a[1] = {pfa}, *b[1] = {pd};
      const char *lab[1] = {argv[optind]};
      if (vg_roc_png(roc, a, b, &k, lab, 1, 1) != VG_OK) {
        fprintf(stderr, "vigia eval: %s\n", vg_error_last());
        goto done;
      }
    }
  }
  status = VG_EXIT_CLEAN;
done:
  vg_cube_free(s);
  free(tm);
  return status;
}

/* ---- had ------------------------------------------------------------------------------- */

/*
 * Published AUCs beside which `vigia had` prints its own: RX, CRD and GT-HAD
 * from the GT-HAD paper (Lian et al., IEEE TNNLS 2024) as quoted in SM-HAD's
 * README (research/detection.md Table A), RX of the other ABU scenes from
 * Kang et al. 2017 (Table B). NAN: not published for this scene.
 */
static const struct {
  const char *file;
  double rx, crd, gthad;
} k_published[] = {
  {"abu-airport-1", 0.8221, 0.9212, 0.9515}, {"abu-airport-2", 0.8404, 0.9681, 0.9666},
  {"abu-airport-4", 0.9526, 0.9445, 0.9888}, {"abu-urban-1", 0.9907, 0.9940, 0.9969},
  {"abu-beach-1", 0.9807, 0.9946, 0.9984},   {"abu-beach-3", 0.9999, NAN, NAN},
  {"abu-urban-2", 0.9946, NAN, NAN},         {"abu-urban-4", 0.9887, NAN, NAN},
  {"abu-urban-5", 0.9692, NAN, NAN},         {"sandiego-aviris2", 0.9403, NAN, NAN},
};

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void vg_cmd_had_help(void)
{
  printf("usage: vigia had [--method M] [--roc OUT.png] DIR\n\n"
         "Runs the anomaly detector (default rxp) on every .mat scene of DIR (variables\n"
         "`data` and `map`) and prints each scene's ROC AUC beside plain global RX\n"
         "computed here and the published RX, CRD and GT-HAD figures; then the mean and\n"
         "the worst scene. --roc draws every scene's ROC curve.\n\n"
         "exit status: 0 done, 1 failed, 2 usage\n");
}

static void pub_cell(double v)
{
  if (isnan(v))
    printf("      -");
  else
    printf(" %6.4f", v);
}

int vg_cmd_had(int argc, char **argv)
{
  static const struct option lo[] = {{"method", required_argument, NULL, 'm'},
                                     {"roc", required_argument, NULL, 'r'},
                                     {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  vg_detect_opts o = VG_DETECT_OPTS_INIT;
  const char *roc = NULL;
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t nn = 0, cap = 0;
  int ch, status = VG_EXIT_FAILED, ok = 0;
  double sum = 0, sum_rx = 0, worst = 2;
  const char *worst_name = "";
  double *pfa_all = NULL, *pd_all = NULL;
  size_t *np_all = NULL;

  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'm':
      if (vg_detect_method_parse(optarg, &o.method) != VG_OK) {
        fprintf(stderr, "vigia had: %s\n", vg_error_last());
        return VG_EXIT_USAGE;
      }
      break;
    case 'r': roc = optarg; break;
    case 'h': vg_cmd_had_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_had_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia had: expected one DIR\n");
    return VG_EXIT_USAGE;
  }
  if (!(d = opendir(argv[optind]))) {
    fprintf(stderr, "vigia had: cannot open '%s': %s\n", argv[optind], strerror(errno));
    return VG_EXIT_FAILED;
  }
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcasecmp(e->d_name + l - 4, ".mat")) {
      if (nn == cap) {
        char **p = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *p);
        if (!p)
          break;
        names = p;
      }
      names[nn++] = strdup(e->d_name);
    }
  }
  closedir(d);
  if (!nn) {
    fprintf(stderr, "vigia had: no .mat scene in %s\n", argv[optind]);
    goto done;
  }
  qsort(names, nn, sizeof *names, cmp_str);
  pfa_all = malloc(nn * 512 * sizeof *pfa_all);
  pd_all = malloc(nn * 512 * sizeof *pd_all);
  np_all = calloc(nn, sizeof *np_all);
  if (!pfa_all || !pd_all || !np_all)
    goto done;
  printf("%-20s %-13s %7s %7s | %7s %7s %7s  (published)\n", "scene", "size", vg_detect_method_name(o.method),
         "rx", "RX", "CRD", "GT-HAD");
  for (size_t i = 0; i < nn; i++) {
    char path[4096], base[256];
    vg_cube *c = NULL, *t = NULL;
    float *s = NULL, *s_rx = NULL;
    uint8_t *tm = NULL;
    vg_detect_opts orx = o;
    size_t n;
    double auc, auc_rx;
    snprintf(path, sizeof path, "%s/%s", argv[optind], names[i]);
    snprintf(base, sizeof base, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
    if (vg_raster_mat_read(&c, path, "data") != VG_OK || vg_raster_mat_read(&t, path, "map") != VG_OK) {
      fprintf(stderr, "vigia had: %s\n", vg_error_last());
      vg_cube_free(c);
      goto done;
    }
    n = (size_t)c->rows * (size_t)c->cols;
    s = malloc(n * sizeof *s);
    s_rx = malloc(n * sizeof *s_rx);
    tm = malloc(n);
    orx.method = VG_DETECT_RX;
    orx.eps = 1e-12; /* plain RX: loading only to factor */
    if (!s || !s_rx || !tm || t->rows != c->rows || t->cols != c->cols ||
        vg_detect_anomaly(c, &o, s) != VG_OK || vg_detect_anomaly(c, &orx, s_rx) != VG_OK) {
      fprintf(stderr, "vigia had: %s: %s\n", names[i], vg_error_last());
      free(s);
      free(s_rx);
      free(tm);
      vg_cube_free(c);
      vg_cube_free(t);
      goto done;
    }
    for (size_t k = 0; k < n; k++)
      tm[k] = t->data[k] != 0.0f;
    auc = vg_roc_auc(s, tm, n);
    auc_rx = vg_roc_auc(s_rx, tm, n);
    np_all[i] = vg_roc_curve(s, tm, n, pfa_all + i * 512, pd_all + i * 512, 512);
    {
      char size[32];
      snprintf(size, sizeof size, "%dx%dx%d", c->rows, c->cols, c->bands);
      printf("%-20s %-13s %7.4f %7.4f |", base, size, auc, auc_rx);
    }
    {
      int found = 0;
      for (size_t k = 0; k < sizeof k_published / sizeof k_published[0]; k++)
        if (!strcmp(k_published[k].file, base)) {
          pub_cell(k_published[k].rx);
          pub_cell(k_published[k].crd);
          pub_cell(k_published[k].gthad);
          found = 1;
        }
      if (!found)
        printf("      -       -       -");
    }
    printf("\n");
    sum += auc;
    sum_rx += auc_rx;
    if (auc < worst) {
      worst = auc;
      worst_name = names[i];
    }
    ok++;
    free(s);
    free(s_rx);
    free(tm);
    vg_cube_free(c);
    vg_cube_free(t);
  }
  printf("%-20s %-13s %7.4f %7.4f\n", "mean", "", sum / ok, sum_rx / ok);
  printf("worst: %s %.4f\n", worst_name, worst);
  if (roc) {
    const double **a = malloc(nn * sizeof *a), **b = malloc(nn * sizeof *b);
    const char **lab = malloc(nn * sizeof *lab);
    if (a && b && lab) {
      for (size_t i = 0; i < nn; i++) {
        a[i] = pfa_all + i * 512;
        b[i] = pd_all + i * 512;
        lab[i] = names[i];
      }
      if (vg_roc_png(roc, a, b, np_all, lab, (int)nn, 1) != VG_OK)
        fprintf(stderr, "vigia had: %s\n", vg_error_last());
    }
    free(a);
    free(b);
    free(lab);
  }
  status = VG_EXIT_CLEAN;
done:
  for (size_t i = 0; i < nn; i++)
    free(names[i]);
  free(names);
  free(pfa_all);
  free(pd_all);
  free(np_all);
  return status;
}

/* ---- change ---------------------------------------------------------------------------- */

void vg_cmd_change_help(void)
{
  printf("usage: vigia change [options] A B --out DIR\n\n"
         "Change between two co-registered passes of the same scene (same size and bands)\n"
         "by IR-MAD: invariant to an affine radiometric difference between them. Writes\n"
         "DIR/change.tif (chi-square statistic), DIR/change.png and DIR/detections.json\n"
         "(blobs whose probability of change exceeds 1 - PFA).\n\n"
         "options:\n"
         "  --var NAME        variable of .mat files (default: the first 3-D array)\n"
         "  --pfa P           false alarm probability of a no-change pixel (default 1e-6)\n"
         "  --min-area N      smallest blob in pixels (default 1)\n"
         "  --max-count N     keep the N strongest blobs (default 100)\n"
         "  --truth MAP       a change map: print the ROC AUC\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 done, 1 failed, 2 usage\n");
}

int vg_cmd_change(int argc, char **argv)
{
  static const struct option lo[] = {
    {"var", required_argument, NULL, 'v'},      {"pfa", required_argument, NULL, 'p'},
    {"min-area", required_argument, NULL, 'a'}, {"max-count", required_argument, NULL, 'm'},
    {"truth", required_argument, NULL, 't'},    {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  const char *var = NULL, *out = NULL, *truth = NULL;
  double pfa = 1e-6, thr;
  vg_blob_opts bo = {0, 0, 1, 100};
  vg_change_opts co = VG_CHANGE_OPTS_INIT;
  vg_change_info info;
  vg_cube *a = NULL, *b = NULL, *sc = NULL;
  float *pc = NULL;
  uint8_t *mask = NULL, *tm = NULL;
  vg_blob *bl = NULL;
  size_t nb = 0, n;
  int ch, status = VG_EXIT_FAILED;
  char path[4096];

  optind = 1;
  while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
    switch (ch) {
    case 'v': var = optarg; break;
    case 'p':
      pfa = atof(optarg);
      if (!(pfa > 0 && pfa < 1)) {
        fprintf(stderr, "vigia change: --pfa wants a probability in (0, 1)\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'a': bo.min_area = atoi(optarg); break;
    case 'm': bo.max_count = atoi(optarg); break;
    case 't': truth = optarg; break;
    case 'o': out = optarg; break;
    case 'h': vg_cmd_change_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_change_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 2 || !out) {
    fprintf(stderr, "vigia change: expected A, B and --out DIR\n");
    return VG_EXIT_USAGE;
  }
  if (mkdir_p(out))
    return VG_EXIT_FAILED;
  if (vg_raster_read(&a, argv[optind], var) != VG_OK || vg_raster_read(&b, argv[optind + 1], var) != VG_OK) {
    fprintf(stderr, "vigia change: %s\n", vg_error_last());
    goto done;
  }
  n = (size_t)a->rows * (size_t)a->cols;
  pc = malloc(n * sizeof *pc);
  mask = malloc(n);
  if (!pc || !mask || vg_cube_new(&sc, a->rows, a->cols, 1) != VG_OK || vg_cube_copy_georef(sc, a) != VG_OK ||
      vg_change_irmad(a, b, &co, sc->data, pc, &info) != VG_OK) {
    fprintf(stderr, "vigia change: %s\n", vg_error_last());
    goto done;
  }
  bo.threshold = 1.0 - pfa;
  if (vg_blobs_find(pc, a->rows, a->cols, &bo, &bl, &nb, mask, &thr) != VG_OK) {
    fprintf(stderr, "vigia change: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/change.tif", out);
  if (vg_raster_write_tiff(path, sc, 0) != VG_OK) {
    fprintf(stderr, "vigia change: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/change.png", out);
  if (vg_raster_write_png(path, sc->data, sc->rows, sc->cols, mask) != VG_OK) {
    fprintf(stderr, "vigia change: %s\n", vg_error_last());
    goto done;
  }
  snprintf(path, sizeof path, "%s/detections.json", out);
  {
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "vigia change: cannot write '%s'\n", path);
      goto done;
    }
    write_detections(f, a, "irmad", bl, nb, thr);
    fclose(f);
  }
  printf("%s -> %s: %d x %d x %d, IR-MAD %d iterations, rho[0] %.4f: %zu changes at PFA %g -> %s/\n",
         argv[optind], argv[optind + 1], a->rows, a->cols, a->bands, info.iterations, info.rho[0], nb,
         pfa, out);
  if (truth) {
    if (read_truth(truth, a->rows, a->cols, &tm)) {
      fprintf(stderr, "vigia change: truth %s: %s\n", truth, vg_error_last());
      goto done;
    }
    printf("AUC %.4f\n", vg_roc_auc(sc->data, tm, n));
  }
  status = VG_EXIT_CLEAN;
done:
  vg_cube_free(a);
  vg_cube_free(b);
  vg_cube_free(sc);
  free(pc);
  free(mask);
  free(tm);
  free(bl);
  return status;
}
