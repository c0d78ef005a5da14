/* vigia klv: a raw KLV stream to JSON Lines, or a summary of it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigia/fmv.h"
#include "vigia/klv.h"

/* Read size for the input stream. */
#define KLV_READ_CHUNK ((size_t)64 << 10)
/* Tags counted one by one in the summary; larger ones are counted together. */
#define KLV_SUMMARY_TAGS 2048
/* Problems listed in the summary; past that they are only counted. */
#define KLV_SUMMARY_MAX_ERRORS 10000

void vg_cmd_klv_help(void)
{
  printf("usage: vigia klv [options] FILE|URL|-\n\n"
         "Reads a raw KLV byte stream (SMPTE ST 336 packets back to back, with or without\n"
         "garbage between them) and writes one JSON object per packet (JSON Lines): its\n"
         "offset, kind, version, checksum verdict, flags and every item with tag, name,\n"
         "value in natural units, units and flags. Damaged packets are counted, reported\n"
         "on stderr with their byte offset, and skipped; the stream goes on.\n\n"
         "An MPEG-2 transport stream (recognised by its 0x47 sync rhythm, or any URL such\n"
         "as udp://@:5000) is demultiplexed first: every KLV stream however it is carried,\n"
         "and each object also gets \"pid\", \"carriage\" and \"pts_s\" (the PTS of its PES,\n"
         "null for asynchronous KLV, which gets \"mux_pts_s\", the time of the next video\n"
         "PES); \"offset\" is then the byte offset of the PES that starts the packet.\n\n"
         "options:\n"
         "  --summary      print one JSON summary instead of the packets: packets per kind,\n"
         "                 per-tag counts, versions seen, checksum results, skipped bytes,\n"
         "                 and every problem with its byte offset\n"
         "  --strict       stop at the first bad packet (bad or missing checksum included);\n"
         "                 in a transport stream, drop packets with a bad checksum\n"
         "  --ts, --raw    force the input type instead of recognising it\n"
         "  --pid PID      transport stream: only this PID (0x101 or 257)\n"
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

/* Reader of the input for the transport-stream path: a FILE (with bytes already peeked) or a source. */
typedef struct ts_in {
  FILE *f;
  vg_fmv_source *src;
  const uint8_t *peek;
  size_t npeek;
} ts_in;

static long ts_read(ts_in *in, uint8_t *buf, size_t cap)
{
  if (in->npeek) {
    size_t k = in->npeek < cap ? in->npeek : cap;
    memcpy(buf, in->peek, k);
    in->peek += k;
    in->npeek -= k;
    return (long)k;
  }
  if (in->src)
    return (long)vg_fmv_source_read(in->src, buf, cap);
  {
    size_t n = fread(buf, 1, cap, in->f);
    return n ? (long)n : ferror(in->f) ? -1 : 0;
  }
}

static void jw_pts_s(vg_jw *w, const char *key, int64_t pts)
{
  vg_jw_key(w, key);
  if (pts == VG_FMV_NOPTS)
    vg_jw_null(w);
  else
    vg_jw_real(w, (double)pts / 90000.0);
}

static int run_ts(ts_in *in, const char *path, int opt_summary, int opt_strict, int opt_pretty, int opt_quiet,
                  long only_pid)
{
  vg_fmv_demux *d = NULL;
  vg_fmv_demux_opts o = VG_FMV_DEMUX_OPTS_INIT;
  uint8_t *chunk = malloc(KLV_READ_CHUNK);
  summary *sum = calloc(1, sizeof *sum);
  vg_buf line;
  int status = VG_EXIT_FAILED, read_err = 0;
  uint64_t delivered = 0;
  vg_buf_init(&line, (size_t)256 << 20);
  o.strict = opt_strict;
  if (!chunk || !sum || vg_fmv_demux_new(&d, &o) != VG_OK) {
    fprintf(stderr, "vigia klv: out of memory\n");
    goto done;
  }
  for (;;) {
    long n = ts_read(in, chunk, KLV_READ_CHUNK);
    vg_fmv_klv k;
    vg_fmv_event ev;
    if (n < 0) {
      fprintf(stderr, "vigia klv: %s: read error: %s\n", path, vg_error_last());
      read_err = 1;
      n = 0;
    }
    if (n == 0)
      vg_fmv_demux_finish(d);
    else if (vg_fmv_demux_feed(d, chunk, (size_t)n) != VG_OK) {
      fprintf(stderr, "vigia klv: %s: %s\n", path, vg_error_last());
      goto done;
    }
    while (vg_fmv_demux_next(d, &k) == VG_OK) {
      if (only_pid >= 0 && k.pid != only_pid)
        continue;
      delivered++;
      sum_packet(sum, k.pkt);
      if (!opt_summary) {
        vg_jw w;
        char pid[8];
        vg_buf_reset(&line);
        vg_jw_init(&w, &line, opt_pretty);
        vg_jw_obj_begin(&w);
        snprintf(pid, sizeof pid, "0x%04X", k.pid);
        vg_jw_key(&w, "pid");
        vg_jw_str(&w, pid);
        vg_jw_key(&w, "carriage");
        vg_jw_str(&w, vg_fmv_carriage_name(k.carriage));
        jw_pts_s(&w, "pts_s", k.pts);
        if (k.pts == VG_FMV_NOPTS)
          jw_pts_s(&w, "mux_pts_s", k.mux_pts);
        vg_klv_packet_json_fields(&w, k.pkt);
        vg_jw_obj_end(&w);
        if (vg_jw_finish(&w) == VG_OK) {
          fwrite(line.data, 1, line.len, stdout);
          fputc('\n', stdout);
        }
      }
    }
    while (vg_fmv_demux_event(d, &ev)) {
      vg_klv_scan_event se;
      se.offset = ev.offset;
      se.err = ev.err;
      snprintf(se.what, sizeof se.what, "%s", ev.what);
      sum_event(sum, &se);
      if (!opt_quiet && ev.err != VG_OK)
        fprintf(stderr, "vigia klv: %s: offset %llu: %s\n", path, (unsigned long long)ev.offset, ev.what);
    }
    if (n == 0)
      break;
  }
  {
    const vg_fmv_demux_stats *ds = vg_fmv_demux_stats_get(d);
    size_t ns, nklv = 0;
    const vg_fmv_stream *ss = vg_fmv_demux_streams(d, &ns);
    vg_klv_scan_stats st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < ns; i++)
      if (ss[i].kind == VG_FMV_ES_KLV) {
        nklv++;
        st.bytes_junk += ss[i].junk_bytes;
        st.gap_bytes += ss[i].gap_bytes;
      }
    st.packets = delivered;
    st.packets_bad = ds->klv_bad;
    st.cksum_bad = ds->cksum_bad;
    st.cksum_missing = ds->cksum_missing;
    st.resyncs = ds->sync_losses;
    st.truncated_tail = ds->truncated_bytes;
    if (read_err || !ds->packet_size)
      status = VG_EXIT_FAILED;
    else if (vg_fmv_demux_damaged(d) || st.bytes_junk || ds->junk_bytes)
      status = VG_EXIT_PARTIAL;
    else
      status = VG_EXIT_CLEAN;
    if (!ds->packet_size)
      fprintf(stderr, "vigia klv: %s: not a transport stream (no 0x47 sync rhythm)\n", path);
    else if (!nklv && !opt_quiet)
      fprintf(stderr, "vigia klv: %s: no KLV stream in this transport stream\n", path);
    if (opt_summary)
      write_summary(sum, &st, path, opt_pretty, status);
    if (!opt_quiet && status == VG_EXIT_PARTIAL)
      fprintf(stderr,
              "vigia klv: %s: %llu KLV packets; damage: %llu sync losses, %llu CC errors, %llu transport errors, "
              "%llu bad PES, %llu undecodable and %llu bad-checksum KLV packets, %llu truncated bytes\n",
              path, (unsigned long long)delivered, (unsigned long long)ds->sync_losses,
              (unsigned long long)ds->cc_errors, (unsigned long long)ds->tei_packets, (unsigned long long)ds->pes_bad,
              (unsigned long long)ds->klv_bad, (unsigned long long)ds->cksum_bad,
              (unsigned long long)ds->truncated_bytes);
  }
done:
  if (sum)
    free(sum->errs);
  free(sum);
  free(chunk);
  vg_buf_free(&line);
  vg_fmv_demux_free(d);
  fflush(stdout);
  return status;
}

int vg_cmd_klv(int argc, char **argv)
{
  static const struct option lopts[] = {
    {"summary", no_argument, NULL, 's'}, {"strict", no_argument, NULL, 'S'},
    {"pretty", no_argument, NULL, 'p'},  {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},    {"ts", no_argument, NULL, 'T'},
    {"raw", no_argument, NULL, 'R'},     {"pid", required_argument, NULL, 'P'},
    {NULL, 0, NULL, 0}};
  int opt_summary = 0, opt_strict = 0, opt_pretty = 0, opt_quiet = 0, c, force = 0;
  long only_pid = -1;
  char *end;
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
  const uint8_t *pending = NULL;
  size_t npending = 0;

  vg_buf_init(&line, (size_t)256 << 20);
  optind = 1;
  while ((c = getopt_long(argc, argv, "qh", lopts, NULL)) != -1) {
    switch (c) {
    case 's': opt_summary = 1; break;
    case 'S': opt_strict = 1; break;
    case 'p': opt_pretty = 1; break;
    case 'q': opt_quiet = 1; break;
    case 'T': force = 1; break;
    case 'R': force = -1; break;
    case 'P':
      only_pid = strtol(optarg, &end, 0);
      if (*end || only_pid < 0 || only_pid > 0x1FFE) {
        fprintf(stderr, "vigia klv: --pid wants a PID (0x101 or 257), not '%s'\n", optarg);
        return VG_EXIT_USAGE;
      }
      break;
    case 'h': vg_cmd_klv_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_klv_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia klv: expected one input file (or - for standard input)\n");
    return VG_EXIT_USAGE;
  }
  path = argv[optind];
  if (force >= 0 && strstr(path, "://") && strncmp(path, "file://", 7)) {
    /* a live URL is a transport stream */
    ts_in tin = {NULL, NULL, NULL, 0};
    if (vg_fmv_source_open(&tin.src, path) != VG_OK) {
      fprintf(stderr, "vigia klv: %s\n", vg_error_last());
      return VG_EXIT_FAILED;
    }
    status = run_ts(&tin, path, opt_summary, opt_strict, opt_pretty, opt_quiet, only_pid);
    vg_fmv_source_free(tin.src);
    return status;
  }
  in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "vigia klv: cannot open '%s': %s\n", path, strerror(errno));
    return VG_EXIT_FAILED;
  }
  if (force >= 0) {
    /* Recognise a transport stream by its first bytes (kept and replayed). */
    static uint8_t peek[4 * 204 + 8];
    size_t np = fread(peek, 1, sizeof peek, in);
    if (force == 1 || vg_fmv_looks_like_ts(peek, np)) {
      ts_in tin = {in, NULL, peek, np};
      status = run_ts(&tin, path, opt_summary, opt_strict, opt_pretty, opt_quiet, only_pid);
      if (in != stdin)
        fclose(in);
      return status;
    }
    if (only_pid >= 0) {
      fprintf(stderr, "vigia klv: --pid applies to transport streams; '%s' is raw KLV\n", path);
      if (in != stdin)
        fclose(in);
      return VG_EXIT_USAGE;
    }
    /* raw KLV: the peeked bytes go first */
    pending = peek;
    npending = np;
  }
  so.strict = opt_strict;
  if ((rc = vg_klv_scanner_new(&sc, &so)) != VG_OK || !(chunk = malloc(KLV_READ_CHUNK)) ||
      !(sum = calloc(1, sizeof *sum))) {
    fprintf(stderr, "vigia klv: out of memory\n");
    goto done;
  }

  for (;;) {
    size_t n;
    const vg_klv_packet *p;
    if (npending) {
      n = npending;
      memcpy(chunk, pending, n);
      npending = 0;
    } else {
      n = fread(chunk, 1, KLV_READ_CHUNK, in);
    }
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
