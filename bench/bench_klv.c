/*
 * bench_klv: how fast vigia decodes MISB KLV, against a peer in the same run
 * (DESIGN.md convention 11).
 *
 * Inputs (from VIGIA_DATA, else the VG_DATA_DIR the build was configured with):
 *   klv/vectors/st0601_reference_packet_v17.json  field "packet_hex": the ST 0601
 *       reference packet (2422 bytes, 140 items, nested ST 0102 / ST 0903 sets),
 *       repeated REF_COPIES times back to back so that a pass is not dominated
 *       by loop overhead;
 *   klv/streams/cheyenne_st0601v1.klv: 407 real ST 0601 packets (105 KB).
 *
 * For each input, every measurement is one pass over the same buffer:
 *   decode   vg_klv_decode of every packet, walking the buffer by `consumed`
 *   scanner  vg_klv_scanner_feed of the buffer, then vg_klv_scanner_next until dry
 *   frame    peer: key + BER length of every packet, value skipped (framing only)
 *   plain    peer: a byte sum over the buffer (memory speed: every byte read once)
 * Passes repeat until a run lasts at least VIGIA_BENCH_SECONDS (default 1 s);
 * the best of BENCH_RUNS runs is kept (CLOCK_MONOTONIC). Ratios are
 * time(decode)/time(plain) and time(scanner)/time(plain).
 *
 * Target: >= 1,000,000 packets/s per core for full decoding of Cheyenne.
 * Exit status: 0 (whatever the speed), 77 when the data is absent.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigia/klv.h"

#ifndef VG_BENCH_DATA_DIR
#define VG_BENCH_DATA_DIR "../shared/data"
#endif

/* Runs per measurement; the best one is reported. */
#define BENCH_RUNS 5
/* Copies of the reference packet in its buffer (about 155 KB, like Cheyenne). */
#define REF_COPIES 64
/* Largest data file read (the inputs are 105 KB and 10 KB). */
#define BENCH_MAX_FILE ((size_t)64 << 20)
/* Exit status that tells a test runner "skipped". */
#define EXIT_SKIP 77
/* The target of the KLV stage (packets per second per core on Cheyenne). */
#define TARGET_PPS 1.0e6

/* Sink that keeps the compiler from removing the measured work. */
static volatile uint64_t g_sink;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0, got;
  if (!f)
    return -1;
  do {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 65536;
      uint8_t *nb;
      if (ncap > BENCH_MAX_FILE || !(nb = realloc(buf, ncap))) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
  } while (got > 0);
  if (ferror(f)) {
    free(buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  *out = buf;
  *out_len = len;
  return 0;
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Finds "field": "hex..." in a JSON text by string search and decodes the hex. */
static int json_hex_field(const char *json, size_t n, const char *field, uint8_t **out,
                          size_t *out_len)
{
  char pat[64];
  const char *p, *end = json + n, *q;
  uint8_t *buf;
  size_t k = 0;
  snprintf(pat, sizeof pat, "\"%s\"", field);
  p = strstr(json, pat);
  if (!p)
    return -1;
  p += strlen(pat);
  while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  if (p >= end || *p != '"')
    return -1;
  q = ++p;
  while (q < end && *q != '"')
    q++;
  if (q >= end || (q - p) % 2 != 0 || q == p)
    return -1;
  if (!(buf = malloc((size_t)(q - p) / 2)))
    return -1;
  for (; p < q; p += 2) {
    int hi = hexval((unsigned char)p[0]), lo = hexval((unsigned char)p[1]);
    if (hi < 0 || lo < 0) {
      free(buf);
      return -1;
    }
    buf[k++] = (uint8_t)(hi << 4 | lo);
  }
  *out = buf;
  *out_len = k;
  return 0;
}

/* ---- the passes: each returns the packets it saw (or 0 on a decoding failure) ---- */

typedef struct input {
  const char *name;
  const uint8_t *buf;
  size_t len;
  size_t packets; /* expected per pass */
} input;

typedef struct ctx {
  vg_klv_decoder *dec;
  vg_klv_scanner *scan;
} ctx;

static size_t pass_decode(ctx *c, const input *in)
{
  size_t at = 0, n = 0;
  uint64_t items = 0;
  while (at < in->len) {
    const vg_klv_packet *p;
    size_t used = 0;
    if (vg_klv_decode(c->dec, &p, in->buf + at, in->len - at, &used) != VG_OK || used == 0)
      return 0;
    items += p->set.n;
    at += used;
    n++;
  }
  g_sink += items;
  return n;
}

static size_t pass_scanner(ctx *c, const input *in)
{
  const vg_klv_packet *p;
  size_t n = 0;
  uint64_t items = 0;
  if (vg_klv_scanner_feed(c->scan, in->buf, in->len) != VG_OK)
    return 0;
  while (vg_klv_scanner_next(c->scan, &p) == VG_OK) {
    items += p->set.n;
    n++;
  }
  g_sink += items;
  return n;
}

/* Peer: framing only (key check, BER length, skip the value). */
static size_t pass_frame(ctx *c, const input *in)
{
  size_t at = 0, n = 0;
  (void)c;
  while (in->len - at >= 17) {
    const uint8_t *p = in->buf + at;
    size_t k = 17;
    uint64_t vlen = p[16];
    if (p[0] != 0x06 || p[1] != 0x0e || p[2] != 0x2b || p[3] != 0x34)
      return 0;
    if (vlen & 0x80) {
      size_t nb = vlen & 0x7f;
      if (nb == 0 || nb > 8 || in->len - at < 17 + nb)
        return 0;
      vlen = 0;
      for (size_t i = 0; i < nb; i++)
        vlen = vlen << 8 | p[17 + i];
      k += nb;
    }
    if (vlen > in->len - at - k)
      return 0;
    g_sink += p[k];
    at += k + (size_t)vlen;
    n++;
  }
  return at == in->len ? n : 0;
}

/* Peer: reads every byte once. */
static size_t pass_plain(ctx *c, const input *in)
{
  uint64_t sum = 0;
  (void)c;
  for (size_t i = 0; i < in->len; i++)
    sum += in->buf[i];
  g_sink += sum;
  return in->packets;
}

typedef size_t (*pass_fn)(ctx *c, const input *in);

typedef struct result {
  double best_s;   /* best time of one pass */
  int ok;          /* every pass saw the expected packets */
} result;

static double g_min_run_s = 1.0;

static result measure(pass_fn fn, ctx *c, const input *in, int fresh_scanner)
{
  result r = {1e30, 1};
  uint64_t iters = 1;
  /* Calibrate: double the pass count until one run takes a tenth of the minimum. */
  for (;;) {
    double t0 = now_s(), dt;
    for (uint64_t i = 0; i < iters; i++)
      if (fn(c, in) != in->packets)
        r.ok = 0;
    dt = now_s() - t0;
    if (dt >= g_min_run_s / 10 || iters > ((uint64_t)1 << 40))
      break;
    iters *= 2;
  }
  {
    double t0 = now_s(), dt;
    for (uint64_t i = 0; i < iters; i++)
      fn(c, in);
    dt = now_s() - t0;
    if (dt < g_min_run_s)
      iters = (uint64_t)((double)iters * (g_min_run_s / (dt > 0 ? dt : 1e-9)) * 1.05) + 1;
  }
  for (int run = 0; run < BENCH_RUNS; run++) {
    double t0, dt;
    if (fresh_scanner) {
      vg_klv_scanner_free(c->scan);
      c->scan = NULL;
      if (vg_klv_scanner_new(&c->scan, NULL) != VG_OK) {
        r.ok = 0;
        return r;
      }
    }
    t0 = now_s();
    for (uint64_t i = 0; i < iters; i++)
      if (fn(c, in) != in->packets)
        r.ok = 0;
    dt = (now_s() - t0) / (double)iters;
    if (dt < r.best_s)
      r.best_s = dt;
  }
  return r;
}

static void row(const char *what, const input *in, result r, double plain_s)
{
  double pps = (double)in->packets / r.best_s;
  double mbs = (double)in->len / r.best_s / 1e6;
  printf("  %-9s %14.0f %10.1f %12.1f %10.2f%s\n", what, pps, mbs,
         r.best_s * 1e9 / (double)in->packets, r.best_s / plain_s, r.ok ? "" : "  (PASS FAILED)");
}

static void bench_input(ctx *c, const input *in, double *decode_pps)
{
  result dec, scn, frm, pln;
  printf("\n%s: %zu bytes, %zu packets per pass (%.0f bytes/packet)\n", in->name, in->len,
         in->packets, (double)in->len / (double)in->packets);
  pln = measure(pass_plain, c, in, 0);
  dec = measure(pass_decode, c, in, 0);
  scn = measure(pass_scanner, c, in, 1);
  frm = measure(pass_frame, c, in, 0);
  printf("  %-9s %14s %10s %12s %10s\n", "pass", "packets/s", "MB/s", "ns/packet", "x plain");
  row("decode", in, dec, pln.best_s);
  row("scanner", in, scn, pln.best_s);
  row("frame", in, frm, pln.best_s);
  row("plain", in, pln, pln.best_s);
  printf("  ratio decode_time/plain_time = %.1f, scanner_time/plain_time = %.1f\n",
         dec.best_s / pln.best_s, scn.best_s / pln.best_s);
  *decode_pps = dec.ok ? (double)in->packets / dec.best_s : 0;
}

/* Counts the packets of a buffer with the decoder; 0 if any fails. */
static size_t count_packets(ctx *c, const uint8_t *buf, size_t len)
{
  size_t n = 0, at = 0;
  while (at < len) {
    const vg_klv_packet *p;
    size_t used = 0;
    int rc = vg_klv_decode(c->dec, &p, buf + at, len - at, &used);
    if (rc != VG_OK || used == 0) {
      fprintf(stderr, "bench_klv: packet %zu at offset %zu does not decode: %s: %s\n", n, at,
              vg_err_name(rc), vg_error_last());
      return 0;
    }
    if (p->cksum != VG_KLV_CK_VALID)
      fprintf(stderr, "bench_klv: packet %zu at offset %zu: checksum not valid\n", n, at);
    at += used;
    n++;
  }
  return n;
}

int main(void)
{
  const char *dir = getenv("VIGIA_DATA");
  const char *secs = getenv("VIGIA_BENCH_SECONDS");
  char ref_path[4096], chey_path[4096];
  uint8_t *json = NULL, *pkt = NULL, *chey = NULL, *refbuf = NULL;
  size_t json_len = 0, pkt_len = 0, chey_len = 0;
  ctx c = {NULL, NULL};
  input ref, ch;
  double ref_pps = 0, chey_pps = 0;

  if (!dir || !dir[0])
    dir = VG_BENCH_DATA_DIR;
  if (secs && atof(secs) > 0)
    g_min_run_s = atof(secs);
  snprintf(ref_path, sizeof ref_path, "%s/klv/vectors/st0601_reference_packet_v17.json", dir);
  snprintf(chey_path, sizeof chey_path, "%s/klv/streams/cheyenne_st0601v1.klv", dir);

  if (read_file(ref_path, &json, &json_len) != 0 || read_file(chey_path, &chey, &chey_len) != 0) {
    printf("bench_klv: DATA ABSENT: cannot read %s or %s (%s)\n"
           "bench_klv: set VIGIA_DATA or configure with -DVG_DATA_DIR=...; nothing measured\n",
           ref_path, chey_path, strerror(errno));
    free(json);
    free(chey);
    return EXIT_SKIP;
  }
  {
    char *text = malloc(json_len + 1);
    int rc;
    if (!text)
      return 1;
    memcpy(text, json, json_len);
    text[json_len] = 0;
    rc = json_hex_field(text, json_len, "packet_hex", &pkt, &pkt_len);
    free(text);
    if (rc != 0) {
      printf("bench_klv: DATA ABSENT: no packet_hex field in %s\n", ref_path);
      free(json);
      free(chey);
      return EXIT_SKIP;
    }
  }
  if (!(refbuf = malloc(pkt_len * REF_COPIES)))
    return 1;
  for (size_t i = 0; i < REF_COPIES; i++)
    memcpy(refbuf + i * pkt_len, pkt, pkt_len);

  if (vg_klv_decoder_new(&c.dec, NULL) != VG_OK || vg_klv_scanner_new(&c.scan, NULL) != VG_OK) {
    fprintf(stderr, "bench_klv: cannot create a decoder: %s\n", vg_error_last());
    return 1;
  }

  ref.name = "ST 0601 reference packet v17 (x64 copies)";
  ref.buf = refbuf;
  ref.len = pkt_len * REF_COPIES;
  ref.packets = count_packets(&c, refbuf, ref.len);
  ch.name = "Cheyenne cheyenne_st0601v1.klv";
  ch.buf = chey;
  ch.len = chey_len;
  ch.packets = count_packets(&c, chey, chey_len);

  printf("bench_klv: vigia %s, data %s, best of %d runs of >= %.1f s each, one core\n",
         vg_version(), dir, BENCH_RUNS, g_min_run_s);
  printf("  decode = vg_klv_decode per packet; scanner = feed + vg_klv_scanner_next;\n"
         "  frame = key + BER length only (peer); plain = byte sum over the buffer (peer)\n");
  if (ref.packets == 0 || ch.packets == 0) {
    printf("bench_klv: WARNING: the decoder fails on the benchmark data; no measurement\n");
  } else {
    bench_input(&c, &ref, &ref_pps);
    bench_input(&c, &ch, &chey_pps);
    printf("\nTarget: >= %.0f packets/s per core for full decoding of Cheyenne: %.0f packets/s, %s\n",
           TARGET_PPS, chey_pps,
           chey_pps >= TARGET_PPS ? "MET" : "BELOW TARGET");
    printf("(reference packet: %.0f packets/s, %.1f MB/s)\n", ref_pps,
           ref_pps * (double)pkt_len / 1e6);
  }

  vg_klv_scanner_free(c.scan);
  vg_klv_decoder_free(c.dec);
  free(refbuf);
  free(pkt);
  free(json);
  free(chey);
  return 0;
}
