/* vigia frames: decoded video frames as PNG, each with a JSON sidecar of its aligned pose. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "vigia/fmv.h"

void vg_cmd_frames_help(void)
{
  printf("usage: vigia frames [options] FILE|URL|-\n\n"
         "Decodes the video of a transport stream and gives every frame the sensor pose\n"
         "that was true when it was taken: by PTS where the KLV has it, else by the\n"
         "ST 0601 precision time stamp against video time with an offset that is\n"
         "estimated from the multiplex (or given), interpolated between packets with\n"
         "angles taken the short way round. Writes one JSON line per frame on standard\n"
         "output (frame, PTS, alignment method, age of the metadata, pose), and with\n"
         "--out the frames as PNG with a .json sidecar each.\n\n"
         "options:\n"
         "  --out DIR         write frame_NNNNNN.png and frame_NNNNNN.json into DIR (created)\n"
         "  --every N         keep one frame in N (default 1)\n"
         "  --max N           stop after N kept frames\n"
         "  --rgb             RGB PNG instead of gray\n"
         "  --no-decode       metadata only: one record per video packet, no pixels (fast)\n"
         "  --klv-pid PID     follow this KLV PID (default: the first that carries a pose)\n"
         "  --klv-offset-ms X MISP time minus video time for KLV without PTS (default: estimated)\n"
         "  --max-age S       farthest metadata may be from a frame, in s (default 10)\n"
         "  -q, --quiet       no JSON lines on standard output, no progress\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 clean, 1 failed, 2 usage, 3 partial (damaged input counted and skipped)\n");
}

static int write_file(const char *path, const void *p, size_t n)
{
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f)
    return -1;
  ok = fwrite(p, 1, n, f) == n;
  ok &= fclose(f) == 0;
  return ok ? 0 : -1;
}

int vg_cmd_frames(int argc, char **argv)
{
  static const struct option lopts[] = {
    {"out", required_argument, NULL, 'o'},      {"every", required_argument, NULL, 'e'},
    {"max", required_argument, NULL, 'm'},      {"rgb", no_argument, NULL, 'r'},
    {"no-decode", no_argument, NULL, 'n'},      {"klv-pid", required_argument, NULL, 'P'},
    {"klv-offset-ms", required_argument, NULL, 'O'}, {"max-age", required_argument, NULL, 'A'},
    {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  const char *outdir = NULL;
  long every = 1, max = -1, kept = 0;
  int quiet = 0, c, status = VG_EXIT_FAILED, rc;
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  vg_buf line, png;
  uint64_t aligned[VG_FMV_ALIGN__COUNT] = {0};
  long total = 0;
  char *end;
  vg_buf_init(&line, (size_t)1 << 20);
  vg_buf_init(&png, (size_t)512 << 20);
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:qh", lopts, NULL)) != -1) {
    switch (c) {
    case 'o': outdir = optarg; break;
    case 'e':
      every = strtol(optarg, &end, 10);
      if (*end || every < 1) {
        fprintf(stderr, "vigia frames: --every wants a positive integer, not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      break;
    case 'm':
      max = strtol(optarg, &end, 10);
      if (*end || max < 0) {
        fprintf(stderr, "vigia frames: --max wants a count, not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      break;
    case 'r': ro.fmt = VG_FMV_RGB24; break;
    case 'n': ro.decode = 0; break;
    case 'P': {
      long pid = strtol(optarg, &end, 0);
      if (*end || pid < 0 || pid > 0x1FFE) {
        fprintf(stderr, "vigia frames: --klv-pid wants a PID (0x101 or 257), not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      ro.timeline.pid = (int)pid;
      break;
    }
    case 'O': {
      double ms = strtod(optarg, &end);
      if (*end) {
        fprintf(stderr, "vigia frames: --klv-offset-ms wants milliseconds, not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      ro.timeline.have_offset = 1;
      ro.timeline.offset_us = (int64_t)(ms * 1000.0);
      break;
    }
    case 'A':
      ro.timeline.max_age_s = strtod(optarg, &end);
      if (*end || ro.timeline.max_age_s <= 0) {
        fprintf(stderr, "vigia frames: --max-age wants seconds > 0, not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      break;
    case 'q': quiet = 1; break;
    case 'h': vg_cmd_frames_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_frames_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia frames: expected one input (file, URL or -)\n");
    return VG_EXIT_USAGE;
  }
  if (outdir && !ro.decode) {
    fprintf(stderr, "vigia frames: --out needs pixels; drop --no-decode\n");
    return VG_EXIT_USAGE;
  }
  if (outdir && mkdir(outdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "vigia frames: cannot create '%s': %s\n", outdir, strerror(errno));
    return VG_EXIT_FAILED;
  }
  if (vg_fmv_source_open(&src, argv[optind]) != VG_OK) {
    fprintf(stderr, "vigia frames: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  if (vg_fmv_reader_new(&rd, src, &ro) != VG_OK) {
    fprintf(stderr, "vigia frames: %s: %s\n", argv[optind], vg_error_last());
    goto done;
  }
  for (;;) {
    const vg_fmv_frame *f;
    vg_jw w;
    rc = vg_fmv_reader_next(rd, &f);
    if (rc == VG_E_TRUNCATED)
      break;
    if (rc != VG_OK) {
      fprintf(stderr, "vigia frames: %s: frame %ld: %s\n", argv[optind], total, vg_error_last());
      goto done;
    }
    total++;
    aligned[f->meta.align]++;
    if (f->index % every)
      continue;
    if (quiet && !outdir) { /* nothing to write: only the counts at the end */
      if (++kept == max)
        break;
      continue;
    }
    vg_buf_reset(&line);
    vg_jw_init(&w, &line, 0);
    vg_fmv_frame_meta_to_json(&w, f);
    if (vg_jw_finish(&w) != VG_OK)
      continue;
    if (!quiet) {
      fwrite(line.data, 1, line.len, stdout);
      fputc('\n', stdout);
    }
    if (outdir) {
      char path[4096];
      vg_buf_reset(&png);
      if (vg_fmv_frame_png(f, &png) != VG_OK) {
        fprintf(stderr, "vigia frames: frame %lld: %s\n", (long long)f->index, vg_error_last());
        goto done;
      }
      snprintf(path, sizeof path, "%s/frame_%06lld.png", outdir, (long long)f->index);
      if (write_file(path, png.data, png.len) != 0) {
        fprintf(stderr, "vigia frames: cannot write '%s': %s\n", path, strerror(errno));
        goto done;
      }
      snprintf(path, sizeof path, "%s/frame_%06lld.json", outdir, (long long)f->index);
      vg_buf_putc(&line, '\n');
      if (write_file(path, line.data, line.len) != 0) {
        fprintf(stderr, "vigia frames: cannot write '%s': %s\n", path, strerror(errno));
        goto done;
      }
    }
    if (++kept == max)
      break;
  }
  {
    vg_fmv_demux *dm = vg_fmv_reader_demux(rd);
    const vg_fmv_demux_stats *s = vg_fmv_demux_stats_get(dm);
    int64_t off;
    int est;
    size_t np;
    int pid = vg_fmv_timeline_info(vg_fmv_reader_timeline(rd), &off, &est, &np);
    vg_fmv_event ev;
    int damaged = vg_fmv_demux_damaged(dm) || s->junk_bytes || vg_fmv_reader_decode_errors(rd);
    while (vg_fmv_demux_event(dm, &ev))
      if (!quiet && ev.err != VG_OK)
        fprintf(stderr, "vigia frames: %s: offset %llu: %s\n", argv[optind], (unsigned long long)ev.offset, ev.what);
    if (!quiet || damaged) {
      fprintf(stderr, "vigia frames: %s: %ld frames, %ld kept; metadata PID ", argv[optind], total, kept);
      if (pid >= 0)
        fprintf(stderr, "0x%04X (%zu packets%s", pid, np, "");
      else
        fprintf(stderr, "none (");
      if (off || est)
        fprintf(stderr, ", offset %.3f ms %s", (double)off / 1000.0, est ? "estimated" : "given");
      fprintf(stderr, "); aligned:");
      for (int a = 0; a < VG_FMV_ALIGN__COUNT; a++)
        if (aligned[a])
          fprintf(stderr, " %s %llu", vg_fmv_align_name((vg_fmv_align)a), (unsigned long long)aligned[a]);
      fprintf(stderr, "; damage: %llu CC errors, %llu sync losses, %llu bad PES, %llu decode errors\n",
              (unsigned long long)s->cc_errors, (unsigned long long)s->sync_losses, (unsigned long long)s->pes_bad,
              (unsigned long long)vg_fmv_reader_decode_errors(rd));
    }
    status = damaged ? VG_EXIT_PARTIAL : VG_EXIT_CLEAN;
  }
done:
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  vg_buf_free(&line);
  vg_buf_free(&png);
  fflush(stdout);
  return status;
}
