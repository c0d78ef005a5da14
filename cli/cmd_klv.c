/* vigia klv: a raw KLV stream to JSON Lines, or a summary of it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigia/klv.h"

/* Read size for the input stream. */
#define KLV_READ_CHUNK ((size_t)64 << 10)
/* Tags counted one by one in the summary; larger ones are counted together. */
#define KLV_SUMMARY_TAGS 2048
/* Problems listed in the summary; past that they are only counted. */
#define KLV_SUMMARY_MAX_ERRORS 10000

void vg_cmd_klv_help(void)
{
  printf("usage: vigia klv [options] FILE|-\n\n"
         "Reads a raw KLV byte stream (SMPTE ST 336 packets back to back, with or without\n"
         "garbage between them) and writes one JSON object per packet (JSON Lines): its\n"
         "offset, kind, version, checksum verdict, flags and every item with tag, name,\n"
         "value in natural units, units and flags. Damaged packets are counted, reported\n"
         "on stderr with their byte offset, and skipped; the stream goes on.\n\n"
         "options:\n"
         "  --summary      print one JSON summary instead of the packets: packets per kind,\n"
         "                 per-tag counts, versions seen, checksum results, skipped bytes,\n"
         "                 and every problem with its byte offset\n"
         "  --strict       stop at the first bad packet (bad or missing checksum included)\n"
         "  --pretty       indent the JSON\n"
         "  -q, --quiet    do not report problems on stderr\n"
         "  -h, --help     this text\n\n"
         "exit status: 0 clean, 1 failed (unreadable, strict failure, no packet in a\n"
         "non-empty input), 2 usage error, 3 partial (some damage counted and skipped)\n");
}

typedef struct summary {
  uint64_t kinds[VG_KLV_KIND__COUNT];
  uint64_t tags[VG_KLV_KIND__COUNT][KLV_SUMMARY_TAGS];
  uint64_t tags_other;
  uint64_t versions[VG_KLV_KIND__COUNT][256];
  uint64_t first_time, last_time;
  int have_time;
  vg_klv_scan_event *errs;
  size_t nerrs;
  uint64_t errs_dropped;
} summary;

static void sum_packet(summary *s, const vg_klv_packet *p)
{
  s->kinds[p->kind]++;
  for (size_t i = 0; i < p->set.n; i++) {
    uint32_t t = p->set.items[i].tag;
    if (t < KLV_SUMMARY_TAGS)
      s->tags[p->kind][t]++;
    else
      s->tags_other++;
  }
  if (p->version >= 0 && p->version < 256)
    s->versions[p->kind][p->version]++;
  {
    const vg_klv_item *ts = vg_klv_find(&p->set, 2);
    if (ts && ts->type == VG_KLV_T_TIME) {
      if (!s->have_time)
        s->first_time = ts->v.u;
      s->last_time = ts->v.u;
      s->have_time = 1;
    }
  }
}

static void sum_event(summary *s, const vg_klv_scan_event *e)
{
  if (s->nerrs >= KLV_SUMMARY_MAX_ERRORS) {
    s->errs_dropped++;
    return;
  }
  if (!s->errs && !(s->errs = calloc(KLV_SUMMARY_MAX_ERRORS, sizeof *s->errs))) {
    s->errs_dropped++;
    return;
  }
  s->errs[s->nerrs++] = *e;
}

static int write_summary(const summary *s, const vg_klv_scan_stats *st, const char *file,
                         int pretty, int status)
{
  vg_buf b;
  vg_jw w;
  int rc;
  static const char *const st_names[] = {"clean", "failed", "usage", "partial"};
  vg_buf_init(&b, (size_t)64 << 20);
  vg_jw_init(&w, &b, pretty);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "file");
  vg_jw_str(&w, file);
  vg_jw_key(&w, "status");
  vg_jw_str(&w, st_names[status]);
  vg_jw_key(&w, "packets");
  vg_jw_uint(&w, st->packets);
  vg_jw_key(&w, "packets_bad");
  vg_jw_uint(&w, st->packets_bad);
  vg_jw_key(&w, "checksum_bad");
  vg_jw_uint(&w, st->cksum_bad);
  vg_jw_key(&w, "checksum_missing");
  vg_jw_uint(&w, st->cksum_missing);
  vg_jw_key(&w, "junk_bytes");
  vg_jw_uint(&w, st->bytes_junk);
  vg_jw_key(&w, "resyncs");
  vg_jw_uint(&w, st->resyncs);
  vg_jw_key(&w, "truncated_tail_bytes");
  vg_jw_uint(&w, st->truncated_tail);
  vg_jw_key(&w, "unknown_keys");
  vg_jw_uint(&w, st->unknown_keys);
  if (s->have_time) {
    vg_jw_key(&w, "first_time_us");
    vg_jw_uint(&w, s->first_time);
    vg_jw_key(&w, "last_time_us");
    vg_jw_uint(&w, s->last_time);
  }
  vg_jw_key(&w, "kinds");
  vg_jw_obj_begin(&w);
  for (int k = 0; k < VG_KLV_KIND__COUNT; k++) {
    if (!s->kinds[k])
      continue;
    vg_jw_key(&w, vg_klv_kind_name((vg_klv_kind)k));
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "packets");
    vg_jw_uint(&w, s->kinds[k]);
    vg_jw_key(&w, "versions");
    vg_jw_obj_begin(&w);
    for (int v = 0; v < 256; v++)
      if (s->versions[k][v]) {
        char tmp[8];
        snprintf(tmp, sizeof tmp, "%d", v);
        vg_jw_key(&w, tmp);
        vg_jw_uint(&w, s->versions[k][v]);
      }
    vg_jw_obj_end(&w);
    vg_jw_key(&w, "tags");
    vg_jw_obj_begin(&w);
    for (int t = 0; t < KLV_SUMMARY_TAGS; t++)
      if (s->tags[k][t]) {
        char tmp[12];
        snprintf(tmp, sizeof tmp, "%d", t);
        vg_jw_key(&w, tmp);
        vg_jw_uint(&w, s->tags[k][t]);
      }
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
  }
  vg_jw_obj_end(&w);
  if (s->tags_other) {
    vg_jw_key(&w, "items_with_other_tags"); /* tags >= 2048, unknown EG 0104 keys */
    vg_jw_uint(&w, s->tags_other);
  }
  vg_jw_key(&w, "errors");
  vg_jw_arr_begin(&w);
  for (size_t i = 0; i < s->nerrs; i++) {
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "offset");
    vg_jw_uint(&w, s->errs[i].offset);
    vg_jw_key(&w, "error");
    vg_jw_str(&w, vg_err_name(s->errs[i].err));
    vg_jw_key(&w, "what");
    vg_jw_str(&w, s->errs[i].what);
    vg_jw_obj_end(&w);
  }
  vg_jw_arr_end(&w);
  if (s->errs_dropped) {
    vg_jw_key(&w, "errors_not_listed");
    vg_jw_uint(&w, s->errs_dropped);
  }
  vg_jw_obj_end(&w);
  rc = vg_jw_finish(&w);
  if (rc == VG_OK) {
    fwrite(b.data, 1, b.len, stdout);
    fputc('\n', stdout);
  }
  vg_buf_free(&b);
  return rc;
}

int vg_cmd_klv(int argc, char **argv)
{
  static const struct option lopts[] = {
    {"summary", no_argument, NULL, 's'}, {"strict", no_argument, NULL, 'S'},
    {"pretty", no_argument, NULL, 'p'},  {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0}};
  int opt_summary = 0, opt_strict = 0, opt_pretty = 0, opt_quiet = 0, c;
  int status = VG_EXIT_FAILED, rc = VG_OK, read_err = 0;
  const char *path;
  FILE *in = NULL;
  vg_klv_scanner *sc = NULL;
  vg_klv_scanner_opts so = VG_KLV_SCANNER_OPTS_INIT;
  uint8_t *chunk = NULL;
  summary *sum = NULL;
  vg_buf line;
  uint64_t total_in = 0;
  const vg_klv_scan_stats *st;

  vg_buf_init(&line, (size_t)256 << 20);
  optind = 1;
  while ((c = getopt_long(argc, argv, "qh", lopts, NULL)) != -1) {
    switch (c) {
    case 's': opt_summary = 1; break;
    case 'S': opt_strict = 1; break;
    case 'p': opt_pretty = 1; break;
    case 'q': opt_quiet = 1; break;
    case 'h': vg_cmd_klv_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_klv_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia klv: expected one input file (or - for standard input)\n");
    return VG_EXIT_USAGE;
  }
  path = argv[optind];
  in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "vigia klv: cannot open '%s': %s\n", path, strerror(errno));
    return VG_EXIT_FAILED;
  }
  so.strict = opt_strict;
  if ((rc = vg_klv_scanner_new(&sc, &so)) != VG_OK || !(chunk = malloc(KLV_READ_CHUNK)) ||
      !(sum = calloc(1, sizeof *sum))) {
    fprintf(stderr, "vigia klv: out of memory\n");
    goto done;
  }

  for (;;) {
    size_t n = fread(chunk, 1, KLV_READ_CHUNK, in);
    const vg_klv_packet *p;
    vg_klv_scan_event ev;
    if (n == 0) {
      if (ferror(in)) {
        fprintf(stderr, "vigia klv: %s: read error after %llu bytes\n", path,
                (unsigned long long)total_in);
        read_err = 1;
      }
      vg_klv_scanner_finish(sc);
    } else {
      total_in += n;
      if ((rc = vg_klv_scanner_feed(sc, chunk, n)) != VG_OK) {
        fprintf(stderr, "vigia klv: %s: %s\n", path, vg_error_last());
        goto done;
      }
    }
    while ((rc = vg_klv_scanner_next(sc, &p)) == VG_OK) {
      sum_packet(sum, p);
      if (!opt_summary) {
        vg_jw w;
        vg_buf_reset(&line);
        vg_jw_init(&w, &line, opt_pretty);
        vg_klv_packet_to_json(&w, p);
        if (vg_jw_finish(&w) == VG_OK) {
          fwrite(line.data, 1, line.len, stdout);
          fputc('\n', stdout);
        }
      }
    }
    while (vg_klv_scanner_event(sc, &ev)) {
      sum_event(sum, &ev);
      if (!opt_quiet && ev.err != VG_OK)
        fprintf(stderr, "vigia klv: %s: offset %llu: %s\n", path, (unsigned long long)ev.offset,
                ev.what);
    }
    if (rc != VG_E_TRUNCATED) {
      /* strict mode: the first bad packet ends the run */
      fprintf(stderr, "vigia klv: %s: stopped (--strict): %s\n", path, vg_error_last());
      status = VG_EXIT_FAILED;
      goto done;
    }
    if (n == 0)
      break;
  }
  st = vg_klv_scanner_stats(sc);
  if (read_err || (total_in > 0 && st->packets == 0))
    status = VG_EXIT_FAILED;
  else if (st->packets_bad || st->cksum_bad || st->cksum_missing || st->bytes_junk ||
           st->truncated_tail)
    status = VG_EXIT_PARTIAL;
  else
    status = VG_EXIT_CLEAN;
  if (opt_summary)
    write_summary(sum, st, path, opt_pretty, status);
  if (!opt_quiet && status != VG_EXIT_CLEAN)
    fprintf(stderr,
            "vigia klv: %s: %llu packets, %llu bad packets skipped, %llu bad and %llu missing "
            "checksums, %llu junk bytes, %llu truncated bytes at the end\n",
            path, (unsigned long long)st->packets, (unsigned long long)st->packets_bad,
            (unsigned long long)st->cksum_bad, (unsigned long long)st->cksum_missing,
            (unsigned long long)st->bytes_junk, (unsigned long long)st->truncated_tail);
done:
  if (in && in != stdin)
    fclose(in);
  if (sum)
    free(sum->errs);
  free(sum);
  free(chunk);
  vg_buf_free(&line);
  vg_klv_scanner_free(sc);
  fflush(stdout);
  return status;
}
