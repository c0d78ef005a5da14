/*
 * Fuzz harness: the frame reader's tee (DESIGN.md convention 10):
 * libavformat demultiplexes the input from a memory source while every byte
 * it reads also goes, once and in order, through vigia's demultiplexer, whose
 * packets fill the pose time line. Decoding is off (frames come out as
 * metadata-only records), so the fuzzing stays on vigia's side of the tee:
 * reading, seeking back, the hand-over at the end of input, frame queueing
 * and alignment.
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     options: bit 0 strict, bit 1 keep_unknown, bit 2 a second
 *                 time line setting: the MISP offset is given as 0 instead of estimated
 *   1       1     m: at most 1 + m frames are taken
 *   2       n     the stream
 *
 * Checked (abort on failure): frames come out with no pixels, consecutive
 * indexes, alignments in range with weights in [0, 1]; the demultiplexer
 * inside saw no more bytes than the input and counted at least the KLV
 * packets its streams did. Set VIGIA_FUZZ_VERBOSE=1 to see what each input
 * went through.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/fmv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, uint64_t a, uint64_t b)
{
  fprintf(stderr, "fuzz_fmv_reader: invariant broken: %s (%llu, %llu)\n", what,
          (unsigned long long)a, (unsigned long long)b);
  abort();
}

static volatile uint64_t g_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  vg_fmv_reader_opts o = VG_FMV_READER_OPTS_INIT;
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  const vg_fmv_frame *f;
  const vg_fmv_demux_stats *st;
  const vg_fmv_stream *ss;
  const char *codec = NULL;
  size_t ns, maxf;
  uint64_t klv = 0;
  int64_t frames = 0;
  int w = 0, h = 0, rc;
  double fps = 0;

  if (!quiet) {
    vg_log_set_level(VG_LOG_ERROR); /* libavformat's complaints about damage are expected */
    quiet = 1;
  }
  if (size < 2)
    return 0;
  o.decode = 0;
  o.demux.strict = data[0] & 1;
  o.demux.keep_unknown = (data[0] >> 1) & 1;
  if (data[0] & 4) {
    o.timeline.have_offset = 1;
    o.timeline.offset_us = 0;
  }
  maxf = 1 + (size_t)data[1];
  if (vg_fmv_source_mem(&src, data + 2, size - 2) != VG_OK)
    fail("source_mem", 0, 0);
  if (vg_fmv_reader_new(&rd, src, &o) != VG_OK) {
    vg_error_clear();
    goto done;
  }
  vg_fmv_reader_video(rd, &codec, &w, &h, &fps);
  g_sink += (uint64_t)(w + h) + (codec ? (uint8_t)codec[0] : 0);
  while ((size_t)frames < maxf && (rc = vg_fmv_reader_next(rd, &f)) == VG_OK) {
    if (f->pixels)
      fail("a metadata-only reader handed out pixels (index)", (uint64_t)f->index, 0);
    if (f->index != frames)
      fail("frame index not consecutive (index, expected)", (uint64_t)f->index, (uint64_t)frames);
    if ((unsigned)f->meta.align >= VG_FMV_ALIGN__COUNT)
      fail("alignment out of range", (uint64_t)f->meta.align, 0);
    if (f->meta.align != VG_FMV_ALIGN_NONE && !(f->meta.weight >= 0.0 && f->meta.weight <= 1.0))
      fail("interpolation weight outside [0, 1] (index)", (uint64_t)f->index, 0);
    g_sink += (uint64_t)f->key_frame + (uint64_t)f->corrupt + (uint64_t)f->pts + f->meta.seq0;
    frames++;
  }
  st = vg_fmv_demux_stats_get(vg_fmv_reader_demux(rd));
  if (st->bytes > size - 2)
    fail("the demultiplexer saw more bytes than the input (bytes, size)", st->bytes, size - 2);
  ss = vg_fmv_demux_streams(vg_fmv_reader_demux(rd), &ns);
  for (size_t i = 0; i < ns; i++)
    klv += ss[i].klv_packets;
  if (klv > st->klv_packets)
    fail("streams' KLV packets exceed the multiplex's", klv, st->klv_packets);
  {
    int64_t off = 0;
    int est = 0;
    size_t np = 0;
    g_sink += (uint64_t)vg_fmv_timeline_info(vg_fmv_reader_timeline(rd), &off, &est, &np) + np;
  }
  g_sink += vg_fmv_reader_decode_errors(rd);
  if (getenv("VIGIA_FUZZ_VERBOSE"))
    fprintf(stderr,
            "fuzz_fmv_reader: %zu bytes, %s %dx%d, %lld frames taken (max %zu), demux saw %llu "
            "bytes, %llu KLV packets\n",
            size - 2, codec ? codec : "?", w, h, (long long)frames, maxf,
            (unsigned long long)st->bytes, (unsigned long long)st->klv_packets);
done:
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  return 0;
}
