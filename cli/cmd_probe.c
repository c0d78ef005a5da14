/* vigia probe: what a video file or stream holds, and where its KLV is. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigia/fmv.h"

void vg_cmd_probe_help(void)
{
  printf("usage: vigia probe [options] FILE|URL|-\n\n"
         "Reads a whole MPEG-2 transport stream (file, standard input, or a live\n"
         "udp:// rtp:// URL until it ends) and reports its programs and streams: which\n"
         "carry KLV metadata and how (async 0x06+KLVA/0xBD, sync 0x15 AU cells, legacy\n"
         "hybrid 0x06/0xFC, or found by PES stream id), KLV packets per stream and kind,\n"
         "LS versions, time span, checksum results, and the damage met (sync losses,\n"
         "continuity errors, transport errors, bad PSI/PES), each with its byte offset.\n\n"
         "options:\n"
         "  --json         one JSON object instead of the table\n"
         "  --pretty       indent the JSON\n"
         "  --events N     list at most N problems in the table (default 20)\n"
         "  -h, --help     this text\n\n"
         "exit status: 0 clean, 1 failed (unreadable, not a transport stream), 2 usage,\n"
         "3 partial (damage counted and skipped)\n");
}

static void table(const vg_fmv_probe *p, const char *name, size_t max_events)
{
  printf("%s: %s, %lld bytes", name, p->format[0] ? p->format : "unknown", (long long)p->bytes);
  if (p->stats.packet_size)
    printf(", %u-byte packets", p->stats.packet_size);
  printf(", %.3f s\n", p->duration_s);
  if (p->video_codec[0])
    printf("video: %s %dx%d %.3f fps, %lld frames\n", p->video_codec, p->width, p->height, p->fps,
           (long long)p->video_frames);
  printf("programs:");
  for (size_t i = 0; i < p->nprograms; i++)
    printf(" %u", p->programs[i]);
  printf("%s\n\n", p->nprograms ? "" : " none (no PAT/PMT seen)");
  printf("%-6s %-4s %-4s %-10s %-6s %-8s %-4s %7s %7s %5s  %s\n", "PID", "prog", "type", "codec", "kind",
         "carriage", "sid", "PES", "KLV", "CC err", "KLV detail");
  for (size_t i = 0; i < p->nstreams; i++) {
    const vg_fmv_stream *s = &p->streams[i];
    int klv = s->kind == VG_FMV_ES_KLV;
    static const char *const kinds[] = {"?", "video", "audio", "klv", "data"};
    printf("0x%04X %-4u 0x%02X %-10s %-6s %-8s ", s->pid, s->program, s->stream_type, s->codec, kinds[s->kind],
           klv ? vg_fmv_carriage_name(s->carriage) : "-");
    if (s->pes_stream_id)
      printf("0x%02X", s->pes_stream_id);
    else
      printf("%-4s", "-");
    printf(" %7llu %7llu %5llu  ", (unsigned long long)s->pes_packets, (unsigned long long)s->klv_packets,
           (unsigned long long)s->cc_errors);
    if (klv) {
      printf("%s%s", s->klva ? "KLVA " : "", s->metadata_descriptor ? "md " : "");
      for (int k = 0; k < VG_KLV_KIND__COUNT; k++)
        if (s->kinds[k])
          printf("%s:%llu ", vg_klv_kind_name((vg_klv_kind)k), (unsigned long long)s->kinds[k]);
      for (int v = 0; v < s->nversions; v++)
        printf("v%d:%llu ", s->versions[v], (unsigned long long)s->version_count[v]);
      printf("ck ok/bad/none %llu/%llu/%llu", (unsigned long long)s->cksum_ok, (unsigned long long)s->cksum_bad,
             (unsigned long long)s->cksum_missing);
      if (s->pts_first != VG_FMV_NOPTS)
        printf(" pts %.3f-%.3f s", (double)s->pts_first / 90000.0, (double)s->pts_last / 90000.0);
      else if (s->klv_packets)
        printf(" no PTS");
      if (s->klv_bad || s->junk_bytes || s->gap_bytes)
        printf(" undecodable %llu junk %llu gap %llu", (unsigned long long)s->klv_bad,
               (unsigned long long)s->junk_bytes, (unsigned long long)s->gap_bytes);
      if (!s->pes_packets)
        printf(" (declared, empty)");
    }
    printf("\n");
  }
  printf("\ndamage: %llu sync losses, %llu junk bytes, %llu transport errors, %llu CC errors, %llu PSI CRC errors, "
         "%llu bad PSI, %llu bad PES, %llu undecodable KLV, %llu bad KLV checksums, %llu truncated bytes\n",
         (unsigned long long)p->stats.sync_losses, (unsigned long long)p->stats.junk_bytes,
         (unsigned long long)p->stats.tei_packets, (unsigned long long)p->stats.cc_errors,
         (unsigned long long)p->stats.psi_crc_errors, (unsigned long long)p->stats.psi_bad,
         (unsigned long long)p->stats.pes_bad, (unsigned long long)p->stats.klv_bad,
         (unsigned long long)p->stats.cksum_bad, (unsigned long long)p->stats.truncated_bytes);
  for (size_t i = 0; i < p->nevents && i < max_events; i++)
    printf("  offset %llu: %s\n", (unsigned long long)p->events[i].offset, p->events[i].what);
  if (p->nevents > max_events)
    printf("  ... %zu more\n", p->nevents - max_events + (size_t)p->events_dropped);
}

int vg_cmd_probe(int argc, char **argv)
{
  static const struct option lopts[] = {{"json", no_argument, NULL, 'j'},
                                        {"pretty", no_argument, NULL, 'p'},
                                        {"events", required_argument, NULL, 'e'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int json = 0, pretty = 0, c, status = VG_EXIT_FAILED;
  size_t max_events = 20;
  vg_fmv_source *src = NULL;
  vg_fmv_probe p;
  vg_fmv_demux_opts dopts = VG_FMV_DEMUX_OPTS_INIT;
  memset(&p, 0, sizeof p);
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'p': pretty = 1; break;
    case 'e': max_events = strtoul(optarg, NULL, 10); break;
    case 'h': vg_cmd_probe_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_probe_help(); return VG_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia probe: expected one input (file, URL or -)\n");
    return VG_EXIT_USAGE;
  }
  if (vg_fmv_source_open(&src, argv[optind]) != VG_OK) {
    fprintf(stderr, "vigia probe: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  if (vg_fmv_probe_run(&p, src, &dopts, NULL, NULL) != VG_OK) {
    fprintf(stderr, "vigia probe: %s: %s\n", argv[optind], vg_error_last());
    goto done;
  }
  if (!p.stats.packet_size) {
    fprintf(stderr, "vigia probe: %s: not an MPEG-2 transport stream (no 0x47 sync rhythm in %llu bytes)\n",
            argv[optind], (unsigned long long)p.stats.bytes);
    goto done;
  }
  {
    vg_fmv_demux_stats s = p.stats;
    status = (s.sync_losses || s.junk_bytes || s.tei_packets || s.cc_errors || s.psi_crc_errors || s.psi_bad ||
              s.pes_bad || s.klv_bad || s.cksum_bad || s.truncated_bytes)
                 ? VG_EXIT_PARTIAL
                 : VG_EXIT_CLEAN;
  }
  if (json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, (size_t)64 << 20);
    vg_jw_init(&w, &b, pretty);
    vg_fmv_probe_to_json(&w, &p, argv[optind]);
    if (vg_jw_finish(&w) == VG_OK) {
      fwrite(b.data, 1, b.len, stdout);
      fputc('\n', stdout);
    }
    vg_buf_free(&b);
  } else {
    table(&p, argv[optind], max_events);
  }
done:
  vg_fmv_probe_clear(&p);
  vg_fmv_source_free(src);
  fflush(stdout);
  return status;
}
