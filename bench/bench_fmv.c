/*
 * bench_fmv: how fast vigia reads STANAG 4609 transport streams, against
 * FFmpeg in the same run (DESIGN.md convention 11).
 *
 *   usage: bench_fmv [MB]      size of the long streams (default BENCH_DEFAULT_MB)
 *
 * Inputs (from VIGIA_DATA, else the VG_DATA_DIR the build was configured with):
 *   fmv/h264_klv.ts        H.264 160x120, 30 frames, 30 ST 0601 packets (async KLV);
 *   fmv/aphill_klv_10s.ts  MPEG-2 360x240, 10 frames, 300 EG 0104 packets (hybrid).
 * Each is looped into a long stream in a temporary folder, once per run:
 *   ffmpeg -stream_loop N-1 -i IN -map 0 -c copy -f mpegts TMP.ts
 * and kept only if vigia's own demultiplexer finds exactly N times the KLV
 * packets of IN in it; otherwise (FFmpeg drops KLV packets at the loop
 * points) IN is concatenated N times byte for byte, and the demultiplexer
 * sees continuity and PTS jumps at each junction. The table says which.
 *
 * Passes over the long stream, each timed on the wall clock (CLOCK_MONOTONIC),
 * best of BENCH_RUNS:
 *   a  vigia metadata: vg_fmv_probe_run over vg_fmv_source_open(TMP) (what
 *      `vigia probe` does: demultiplexer + KLV decoding + libavformat's video facts);
 *   a' the demultiplexer alone, fed BENCH_READ-byte reads, every packet taken;
 *   b  peer: ffmpeg -v error -i TMP -map 0:d -c copy -f data -y /dev/null;
 *   c  vigia decode: vg_fmv_reader, decode on, GRAY8 and RGB24, threads 0
 *      (libavcodec's choice), every frame taken; c' GRAY8 with the time line
 *      following the null PID (no pose alignment: what decoding costs without
 *      it); c0 decode off (the tee alone);
 *   d  peer: ffmpeg -v error -i TMP -f null - (FFmpeg's default, automatic threads).
 * The peers run through posix_spawn + waitpid, each vigia pass in a child
 * process of its own (fork), so that a pass that crashes is reported and the
 * others still run; the stream is read from the page cache by both. Ratios
 * are speed ratios: time(peer) / time(vigia). Frames per second of both
 * decoders use vigia's frame count (FFmpeg's -progress count is of frames out
 * of its sync stage; a difference is printed).
 *
 * Looping repeats the MISP time stamps (and, concatenated, the PTS), which a
 * real flight does not: c' shows the cost of decoding without pose alignment.
 *
 * Targets: metadata pass >= 1x FFmpeg's data copy; decode pass >= 0.9x FFmpeg's decode.
 * Exit status: 0 (whatever the speed), 77 when the data or ffmpeg is absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigia/fmv.h"

#ifndef VG_BENCH_DATA_DIR
#define VG_BENCH_DATA_DIR "../shared/data"
#endif

/* Runs per measurement; the best one is reported. */
#define BENCH_RUNS 3
/* Default size of each long stream (MB). */
#define BENCH_DEFAULT_MB 200
/* Read size of the demultiplexer pass (the probe's own read size). */
#define BENCH_READ ((size_t)256 << 10)
/* Exit status that tells a test runner "skipped". */
#define EXIT_SKIP 77
/* Targets: vigia speed / FFmpeg speed. */
#define TARGET_META 1.0
#define TARGET_DECODE 0.9

extern char **environ;

/* Sink that keeps the compiler from removing the measured work. */
static volatile uint64_t g_sink;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/*
 * Runs argv[0] (searched in PATH) with stdout to /dev/null, stderr kept.
 * @return its exit status, or -1 when it could not be started; *secs gets the wall time.
 */
static int run_cmd(char *const argv[], double *secs)
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0, rc;
  double t0;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  t0 = now_s();
  rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return -1;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (secs)
    *secs = now_s() - t0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- what a stream holds, by vigia's demultiplexer ---- */

typedef struct ts_facts {
  uint64_t bytes, klv, cc_errors, ts_packets;
  vg_fmv_carriage carriage; /* of the first KLV stream */
} ts_facts;

/* One pass of the demultiplexer over a file in BENCH_READ reads. @return 0, or -1 on error. */
static int demux_file(const char *path, uint8_t *buf, ts_facts *out)
{
  FILE *f = fopen(path, "rb");
  vg_fmv_demux *d = NULL;
  vg_fmv_klv k;
  vg_fmv_event ev;
  size_t n, ns;
  uint64_t items = 0;
  const vg_fmv_stream *ss;
  const vg_fmv_demux_stats *st;
  if (!f || vg_fmv_demux_new(&d, NULL) != VG_OK) {
    if (f)
      fclose(f);
    return -1;
  }
  do {
    n = fread(buf, 1, BENCH_READ, f);
    if (n)
      vg_fmv_demux_feed(d, buf, n);
    else
      vg_fmv_demux_finish(d);
    while (vg_fmv_demux_next(d, &k) == VG_OK)
      items += k.pkt->set.n;
    while (vg_fmv_demux_event(d, &ev))
      ;
  } while (n);
  fclose(f);
  g_sink += items;
  st = vg_fmv_demux_stats_get(d);
  memset(out, 0, sizeof *out);
  out->bytes = st->bytes;
  out->klv = st->klv_packets;
  out->cc_errors = st->cc_errors;
  out->ts_packets = st->ts_packets;
  ss = vg_fmv_demux_streams(d, &ns);
  for (size_t i = 0; i < ns; i++)
    if (ss[i].kind == VG_FMV_ES_KLV) {
      out->carriage = ss[i].carriage;
      break;
    }
  vg_fmv_demux_free(d);
  return 0;
}

/* ---- the long stream ---- */

/* Writes `loops` copies of in_path into out_path. @return 0 or -1. */
static int concat_file(const char *in_path, const char *out_path, unsigned loops, uint8_t *buf)
{
  FILE *out = fopen(out_path, "wb");
  int rc = 0;
  if (!out)
    return -1;
  for (unsigned i = 0; i < loops && rc == 0; i++) {
    FILE *in = fopen(in_path, "rb");
    size_t n;
    if (!in) {
      rc = -1;
      break;
    }
    while ((n = fread(buf, 1, BENCH_READ, in)) > 0)
      if (fwrite(buf, 1, n, out) != n) {
        rc = -1;
        break;
      }
    fclose(in);
  }
  if (fclose(out) != 0)
    rc = -1;
  return rc;
}

typedef struct long_stream {
  char path[4096];
  const char *how;   /* "ffmpeg -stream_loop" or "byte concatenation" */
  unsigned loops;
  ts_facts one, all;
} long_stream;

/* Builds the long stream of in_path (about target bytes). @return 0 or -1. */
static int make_long(const char *in_path, const char *dir, const char *name, uint64_t target,
                     uint8_t *buf, long_stream *ls)
{
  char loops_arg[32];
  int64_t sz = file_size(in_path);
  if (sz <= 0 || demux_file(in_path, buf, &ls->one) != 0)
    return -1;
  ls->loops = (unsigned)((target + (uint64_t)sz - 1) / (uint64_t)sz);
  if (ls->loops < 1)
    ls->loops = 1;
  if ((size_t)snprintf(ls->path, sizeof ls->path, "%s/%s", dir, name) >= sizeof ls->path)
    return -1;
  snprintf(loops_arg, sizeof loops_arg, "%u", ls->loops - 1);
  {
    char *argv[] = {"ffmpeg", "-v", "error", "-nostdin", "-stream_loop", loops_arg, "-i",
                    (char *)in_path, "-map", "0", "-c", "copy", "-f", "mpegts", "-y", ls->path,
                    NULL};
    if (run_cmd(argv, NULL) == 0 && demux_file(ls->path, buf, &ls->all) == 0 &&
        ls->all.klv == ls->one.klv * ls->loops && ls->all.carriage == ls->one.carriage) {
      ls->how = "ffmpeg -stream_loop -c copy";
      return 0;
    }
    if (ls->all.bytes)
      printf("  ffmpeg -stream_loop %u -c copy: %llu KLV packets, expected %llu (%u x %llu): "
             "KLV not kept whole, concatenating bytes instead\n",
             ls->loops - 1, (unsigned long long)ls->all.klv,
             (unsigned long long)(ls->one.klv * ls->loops), ls->loops,
             (unsigned long long)ls->one.klv);
  }
  if (concat_file(in_path, ls->path, ls->loops, buf) != 0 ||
      demux_file(ls->path, buf, &ls->all) != 0)
    return -1;
  ls->how = "byte concatenation";
  return 0;
}

/* ---- the passes ---- */

typedef struct result {
  double best_s;
  uint64_t klv, frames;
  int ok;
  int signal; /* the vigia pass's child died of this signal */
} result;

static int count_klv(void *ctx, const vg_fmv_klv *k)
{
  (void)k;
  (*(uint64_t *)ctx)++;
  return VG_OK;
}

/* a: vg_fmv_probe_run over vg_fmv_source_open. */
static int pass_probe(const char *path, uint8_t *buf, result *r)
{
  vg_fmv_source *src = NULL;
  vg_fmv_probe p;
  uint64_t seen = 0;
  int rc;
  (void)buf;
  if (vg_fmv_source_open(&src, path) != VG_OK)
    return -1;
  rc = vg_fmv_probe_run(&p, src, NULL, count_klv, &seen);
  if (rc == VG_OK) {
    r->klv = seen;
    g_sink += p.stats.klv_packets + (uint64_t)p.nstreams;
    vg_fmv_probe_clear(&p);
  }
  vg_fmv_source_free(src);
  return rc == VG_OK ? 0 : -1;
}

/* a': the demultiplexer alone. */
static int pass_demux(const char *path, uint8_t *buf, result *r)
{
  ts_facts f;
  if (demux_file(path, buf, &f) != 0)
    return -1;
  r->klv = f.klv;
  return 0;
}

static vg_fmv_pixfmt g_fmt;
static int g_decode;
/* Nonzero: the time line follows the null PID, which never carries KLV (no pose alignment). */
static int g_tl_off;

/* c: the frame reader, every frame taken. */
static int pass_reader(const char *path, uint8_t *buf, result *r)
{
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  vg_fmv_reader_opts o = VG_FMV_READER_OPTS_INIT;
  const vg_fmv_frame *fr;
  uint64_t frames = 0, px = 0;
  int rc;
  (void)buf;
  o.decode = g_decode;
  o.fmt = g_fmt;
  o.threads = 0;
  if (g_tl_off)
    o.timeline.pid = 0x1FFF;
  if (vg_fmv_source_open(&src, path) != VG_OK)
    return -1;
  if ((rc = vg_fmv_reader_new(&rd, src, &o)) != VG_OK) {
    vg_fmv_source_free(src);
    return -1;
  }
  while ((rc = vg_fmv_reader_next(rd, &fr)) == VG_OK) {
    frames++;
    if (fr->pixels)
      px += fr->pixels[(size_t)(fr->height / 2) * fr->stride + (size_t)fr->width / 2];
    px += (uint64_t)fr->meta.align;
  }
  r->frames = frames;
  r->klv = vg_fmv_demux_stats_get(vg_fmv_reader_demux(rd))->klv_packets;
  g_sink += px;
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  return rc == VG_E_TRUNCATED ? 0 : -1;
}

typedef int (*pass_fn)(const char *path, uint8_t *buf, result *r);

/* The runs of one vigia pass, in this process. */
static result measure_here(pass_fn fn, const char *path, uint8_t *buf)
{
  result r = {1e30, 0, 0, 1, 0};
  for (int i = 0; i < BENCH_RUNS; i++) {
    result one = {0, 0, 0, 1, 0};
    double t0 = now_s(), dt;
    if (fn(path, buf, &one) != 0) {
      r.ok = 0;
      return r;
    }
    dt = now_s() - t0;
    if (dt < r.best_s)
      r.best_s = dt;
    r.klv = one.klv;
    r.frames = one.frames;
  }
  return r;
}

/*
 * The runs of one vigia pass, in a child process (as the peers run in
 * theirs): a pass that crashes is reported and the others still run.
 */
static result measure(pass_fn fn, const char *path, uint8_t *buf)
{
  result r = {1e30, 0, 0, 0, 0};
  int fd[2], status = 0;
  pid_t pid;
  fflush(stdout);
  if (pipe(fd) != 0)
    return r;
  if ((pid = fork()) < 0) {
    close(fd[0]);
    close(fd[1]);
    return r;
  }
  if (pid == 0) {
    result c;
    close(fd[0]);
    c = measure_here(fn, path, buf);
    _exit(write(fd[1], &c, sizeof c) == (ssize_t)sizeof c ? 0 : 1);
  }
  close(fd[1]);
  if (read(fd[0], &r, sizeof r) != (ssize_t)sizeof r)
    r.ok = 0;
  close(fd[0]);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      break;
  if (WIFSIGNALED(status)) {
    r.ok = 0;
    r.signal = WTERMSIG(status);
  }
  return r;
}

/* Peers: best wall time of BENCH_RUNS runs of argv; frames read from a -progress file if given. */
static result measure_cmd(char *const argv[], const char *progress)
{
  result r = {1e30, 0, 0, 1, 0};
  for (int i = 0; i < BENCH_RUNS; i++) {
    double dt = 0;
    if (run_cmd(argv, &dt) != 0) {
      r.ok = 0;
      return r;
    }
    if (dt < r.best_s)
      r.best_s = dt;
  }
  if (progress) {
    /* The last "frame=N" line FFmpeg wrote. */
    FILE *f = fopen(progress, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
      if (!strncmp(line, "frame=", 6))
        r.frames = strtoull(line + 6, NULL, 10);
    if (f)
      fclose(f);
  }
  return r;
}

static void row(const char *what, const result *r, uint64_t bytes)
{
  if (!r->ok) {
    if (r->signal)
      printf("  %-44s %9s (killed by signal %d: %s)\n", what, "CRASHED", r->signal,
             strsignal(r->signal));
    else
      printf("  %-44s %9s\n", what, "FAILED");
    return;
  }
  printf("  %-44s %9.3f %9.1f", what, r->best_s, (double)bytes / r->best_s / 1e6);
  if (r->klv)
    printf(" %11.0f", (double)r->klv / r->best_s);
  else
    printf(" %11s", "-");
  if (r->frames)
    printf(" %10.0f", (double)r->frames / r->best_s);
  else
    printf(" %10s", "-");
  printf("\n");
}

static double ratio(const result *vigia, const result *peer)
{
  return vigia->ok && peer->ok ? peer->best_s / vigia->best_s : 0.0;
}

typedef struct summary {
  double meta, meta_demux, dec_gray, dec_rgb, dec_nopose;
} summary;

static void bench_stream(const long_stream *ls, const char *label, const char *dir, uint8_t *buf,
                         summary *sm)
{
  result a, a2, b, cg, cr, cn, c0, d;
  char progress[4096];
  const char *codec = "?";
  int w = 0, h = 0;
  double fps = 0;
  {
    vg_fmv_source *src = NULL;
    vg_fmv_reader *rd = NULL;
    vg_fmv_reader_opts o = VG_FMV_READER_OPTS_INIT;
    o.decode = 0;
    if (vg_fmv_source_open(&src, ls->path) == VG_OK && vg_fmv_reader_new(&rd, src, &o) == VG_OK)
      vg_fmv_reader_video(rd, &codec, &w, &h, &fps);
    vg_fmv_reader_free(rd);
    vg_fmv_source_free(src);
  }
  printf("\n%s x %u (%s): %.1f MB, %s %dx%d, %llu KLV packets (%s), %llu CC errors\n", label,
         ls->loops, ls->how, (double)ls->all.bytes / 1e6, codec, w, h,
         (unsigned long long)ls->all.klv, vg_fmv_carriage_name(ls->all.carriage),
         (unsigned long long)ls->all.cc_errors);
  fflush(stdout);

  a = measure(pass_probe, ls->path, buf);
  a2 = measure(pass_demux, ls->path, buf);
  {
    char *argv[] = {"ffmpeg", "-v", "error", "-nostdin", "-i", (char *)ls->path, "-map", "0:d",
                    "-c", "copy", "-f", "data", "-y", "/dev/null", NULL};
    b = measure_cmd(argv, NULL);
  }
  g_decode = 1;
  g_fmt = VG_FMV_GRAY8;
  cg = measure(pass_reader, ls->path, buf);
  g_fmt = VG_FMV_RGB24;
  cr = measure(pass_reader, ls->path, buf);
  g_fmt = VG_FMV_GRAY8;
  g_tl_off = 1;
  cn = measure(pass_reader, ls->path, buf);
  g_tl_off = 0;
  g_decode = 0;
  g_fmt = VG_FMV_GRAY8;
  c0 = measure(pass_reader, ls->path, buf);
  if ((size_t)snprintf(progress, sizeof progress, "%s/progress.txt", dir) >= sizeof progress)
    progress[0] = 0;
  {
    char *argv[] = {"ffmpeg", "-v", "error", "-nostdin", "-progress", progress, "-i",
                    (char *)ls->path, "-f", "null", "-", NULL};
    d = measure_cmd(argv, progress);
  }

  printf("  %-44s %9s %9s %11s %10s\n", "pass (best of 3)", "s", "MB/s", "KLV/s", "frames/s");
  row("a  vigia probe_run (metadata)", &a, ls->all.bytes);
  row("a' vigia demux, 256 KB reads", &a2, ls->all.bytes);
  row("b  ffmpeg -map 0:d -c copy -f data", &b, ls->all.bytes);
  row("c  vigia reader decode GRAY8 (threads auto)", &cg, ls->all.bytes);
  row("c  vigia reader decode RGB24 (threads auto)", &cr, ls->all.bytes);
  row("c' vigia reader GRAY8, time line off", &cn, ls->all.bytes);
  row("c0 vigia reader decode off (tee only)", &c0, ls->all.bytes);
  /* FFmpeg's own count is of frames out of its sync stage; the decoded ones are vigia's count. */
  if (d.frames && cg.frames && d.frames != cg.frames)
    printf("  (ffmpeg -f null reports %llu frames out, vigia decodes %llu: frames/s below uses vigia's count)\n",
           (unsigned long long)d.frames, (unsigned long long)cg.frames);
  d.frames = cg.frames ? cg.frames : d.frames;
  row("d  ffmpeg -f null (threads auto)", &d, ls->all.bytes);
  if (a.klv != ls->all.klv || a2.klv != ls->all.klv || cg.klv != ls->all.klv)
    printf("  WARNING: KLV counts differ between passes: probe %llu, demux %llu, reader %llu\n",
           (unsigned long long)a.klv, (unsigned long long)a2.klv, (unsigned long long)cg.klv);
  sm->meta = ratio(&a, &b);
  sm->meta_demux = ratio(&a2, &b);
  sm->dec_gray = ratio(&cg, &d);
  sm->dec_rgb = ratio(&cr, &d);
  sm->dec_nopose = ratio(&cn, &d);
  printf("  ratio vigia/ffmpeg metadata: probe_run %.2f, demux %.2f (target >= %.1f: %s)\n",
         sm->meta, sm->meta_demux, TARGET_META, sm->meta >= TARGET_META ? "MET" : "BELOW TARGET");
  printf("  ratio vigia/ffmpeg decode:   GRAY8 %.2f, RGB24 %.2f, GRAY8 without pose %.2f "
         "(target >= %.1f: %s)\n",
         sm->dec_gray, sm->dec_rgb, sm->dec_nopose, TARGET_DECODE,
         sm->dec_gray >= TARGET_DECODE ? "MET" : "BELOW TARGET");
  fflush(stdout);
}

int main(int argc, char **argv)
{
  static const struct {
    const char *file, *label, *tmpname;
  } inputs[] = {
      {"fmv/h264_klv.ts", "h264_klv.ts (H.264, ST 0601 async)", "h264_klv_long.ts"},
      {"fmv/aphill_klv_10s.ts", "aphill_klv_10s.ts (MPEG-2, EG 0104 hybrid)", "aphill_long.ts"},
  };
  const char *dir = getenv("VIGIA_DATA");
  const char *tmp = getenv("TMPDIR");
  char tdir[2048], in_path[4096];
  uint64_t target;
  uint8_t *buf;
  double t_probe;
  summary sm[2];
  int done[2] = {0, 0}, ran = 0;

  if (!dir || !dir[0])
    dir = VG_BENCH_DATA_DIR;
  if (!tmp || !tmp[0])
    tmp = "/tmp";
  target = (uint64_t)(argc > 1 && atof(argv[1]) > 0 ? atof(argv[1]) : BENCH_DEFAULT_MB) * 1000000u;
  snprintf(in_path, sizeof in_path, "%s/%s", dir, inputs[0].file);
  if (file_size(in_path) <= 0) {
    printf("bench_fmv: DATA ABSENT: cannot read %s\n"
           "bench_fmv: set VIGIA_DATA or configure with -DVG_DATA_DIR=...; nothing measured\n",
           in_path);
    return EXIT_SKIP;
  }
  {
    char *v[] = {"ffmpeg", "-v", "error", "-nostdin", "-version", NULL};
    if (run_cmd(v, &t_probe) != 0) {
      printf("bench_fmv: PEER ABSENT: cannot run ffmpeg from PATH; nothing measured\n");
      return EXIT_SKIP;
    }
  }
  snprintf(tdir, sizeof tdir, "%s/bench_fmv_XXXXXX", tmp);
  if (!mkdtemp(tdir) || !(buf = malloc(BENCH_READ))) {
    fprintf(stderr, "bench_fmv: cannot make a temporary folder under %s: %s\n", tmp,
            strerror(errno));
    return 1;
  }
  vg_log_set_level(VG_LOG_ERROR);

  printf("bench_fmv: vigia %s, data %s, long streams of ~%.0f MB in %s, best of %d runs, "
         "%ld cores online\n",
         vg_version(), dir, (double)target / 1e6, tdir, BENCH_RUNS, sysconf(_SC_NPROCESSORS_ONLN));
  printf("  ratios are speed ratios, time(ffmpeg) / time(vigia); both read from the page cache\n");
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    long_stream ls;
    memset(&ls, 0, sizeof ls);
    snprintf(in_path, sizeof in_path, "%s/%s", dir, inputs[i].file);
    if (file_size(in_path) <= 0) {
      printf("\n%s: absent, skipped\n", inputs[i].label);
      continue;
    }
    if (make_long(in_path, tdir, inputs[i].tmpname, target, buf, &ls) != 0) {
      printf("\n%s: cannot build the long stream in %s, skipped\n", inputs[i].label, tdir);
      continue;
    }
    bench_stream(&ls, inputs[i].label, tdir, buf, &sm[i]);
    remove(ls.path);
    done[i] = 1;
    ran++;
  }
  if (ran) {
    printf("\nSummary: speed ratio vigia/ffmpeg (>= 1: vigia faster)\n");
    printf("  %-44s %8s %8s %8s %8s %8s\n", "input", "probe", "demux", "GRAY8", "RGB24",
           "no pose");
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
      if (done[i])
        printf("  %-44s %8.2f %8.2f %8.2f %8.2f %8.2f\n", inputs[i].label, sm[i].meta,
               sm[i].meta_demux, sm[i].dec_gray, sm[i].dec_rgb, sm[i].dec_nopose);
    printf("  targets: metadata (probe) >= %.1f, decode (GRAY8) >= %.1f\n", TARGET_META,
           TARGET_DECODE);
  }
  {
    char progress[4096 + 16];
    if ((size_t)snprintf(progress, sizeof progress, "%s/progress.txt", tdir) < sizeof progress)
      remove(progress);
  }
  rmdir(tdir);
  free(buf);
  if (!ran)
    return EXIT_SKIP;
  return 0;
}
