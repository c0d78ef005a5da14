/*
 * The fmv module against the real transport streams of shared/data/fmv:
 *  - the demultiplexer against the independent TS/PES/KLV analysis of every
 *    file (probe/FILE.probe.json), stream by stream;
 *  - every top-level KLV value against KWIVER's own decode of the same files
 *    (expected/kwiver_*.json.zz);
 *  - frames and their metadata as KWIVER associates them, AP Hill's EG 0104
 *    poses, the negative controls;
 *  - recovery from damage (bit flips, lost packets, a cut) measured against
 *    the test's own TS walker; chunking and packet-size (188/192/204) invariance.
 * Expected values come from the data files; none is typed in here.
 */
#include <dirent.h>
#include <math.h>
#include <string.h>

#include <zlib.h>

#include "testutil.h"
#include "vigia/fmv.h"

#define TSP 188

/* ---- small helpers ------------------------------------------------------------------- */

/* xorshift64*: deterministic damage, chunk sizes and seeds. */
static uint64_t xs_next(uint64_t *s)
{
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static uint8_t *load_data(const char *rel, size_t *n)
{
  char *p = VG_REQUIRE_DATA(rel);
  uint8_t *b = NULL;
  if (vg_test_read_file(p, &b, n) != 0)
    fail_msg("cannot read %s", p);
  free(p);
  return b;
}

static uint8_t *load_ts(const char *name, size_t *n)
{
  char rel[256];
  snprintf(rel, sizeof rel, "fmv/%s", name);
  return load_data(rel, n);
}

static json_t *load_probe(const char *name)
{
  char rel[256];
  snprintf(rel, sizeof rel, "fmv/probe/%s.probe.json", name);
  return vg_test_load_json(rel);
}

static long hexnum(const char *s) { return s ? strtol(s, NULL, 16) : -1; }

/* "0x101"-keyed member of the probe's ts_analysis.streams, or NULL. */
static json_t *analysis_stream(json_t *pj, uint16_t pid)
{
  json_t *ss = json_object_get(json_object_get(pj, "ts_analysis"), "streams"), *v;
  const char *k;
  json_object_foreach(ss, k, v)
  {
    if (hexnum(k) == pid)
      return v;
  }
  return NULL;
}

/* PID of ffprobe's stream number @p index (KWIVER's stream-index is libavformat's). */
static int ffprobe_pid(json_t *pj, json_int_t index)
{
  json_t *arr = json_object_get(json_object_get(pj, "ffprobe"), "streams"), *s;
  size_t i;
  json_array_foreach(arr, i, s)
  {
    if (json_integer_value(json_object_get(s, "index")) == index)
      return (int)hexnum(json_string_value(json_object_get(s, "id")));
  }
  return -1;
}

/* ffprobe's first video stream of the probe JSON (NULL if none). */
static json_t *ffprobe_video(json_t *pj)
{
  json_t *arr = json_object_get(json_object_get(pj, "ffprobe"), "streams"), *s;
  size_t i;
  json_array_foreach(arr, i, s)
  {
    const char *t = json_string_value(json_object_get(s, "codec_type"));
    if (t && !strcmp(t, "video"))
      return s;
  }
  return NULL;
}

static long ffprobe_video_frames(json_t *pj)
{
  json_t *v = ffprobe_video(pj);
  assert_non_null(v);
  return strtol(json_string_value(json_object_get(v, "nb_read_packets")), NULL, 10);
}

/* Does the descriptor list hold (tag, hex value)? value NULL: any value. */
static int has_descriptor(json_t *descs, long tag, const char *value)
{
  json_t *d;
  size_t i;
  json_array_foreach(descs, i, d)
  {
    if (hexnum(json_string_value(json_array_get(d, 0))) == tag &&
        (!value || !strcmp(json_string_value(json_array_get(d, 1)), value)))
      return 1;
  }
  return 0;
}

/* ---- KLV packets collected from the demultiplexer ---------------------------------- */

typedef struct kpkt {
  uint16_t pid;
  int stream;
  vg_fmv_carriage carriage;
  int64_t pts, mux_pts;
  uint64_t ts_offset, seq;
  uint8_t *b;
  size_t n;
} kpkt;

typedef struct klist {
  kpkt *v;
  size_t n, cap;
} klist;

static void klist_add(klist *l, const vg_fmv_klv *k)
{
  kpkt *e;
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2 * l->cap : 64;
    kpkt *nv = realloc(l->v, nc * sizeof *nv);
    assert_non_null(nv);
    l->v = nv;
    l->cap = nc;
  }
  e = &l->v[l->n++];
  e->pid = k->pid;
  e->stream = k->stream;
  e->carriage = k->carriage;
  e->pts = k->pts;
  e->mux_pts = k->mux_pts;
  e->ts_offset = k->ts_offset;
  e->seq = k->seq;
  e->n = k->pkt->total_len;
  e->b = malloc(e->n ? e->n : 1);
  assert_non_null(e->b);
  memcpy(e->b, k->pkt->bytes, e->n);
}

static void klist_free(klist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].b);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static size_t klist_count_pid(const klist *l, uint16_t pid)
{
  size_t c = 0;
  for (size_t i = 0; i < l->n; i++)
    c += l->v[i].pid == pid;
  return c;
}

/*
 * Feeds @p n bytes through a new demultiplexer: whole (chunk 0), in chunks of
 * @p chunk bytes, or (rng given) in random chunks of 1..chunk bytes; every KLV
 * packet goes to @p out. Returns the demultiplexer (the caller frees it).
 */
static vg_fmv_demux *demux_all(const uint8_t *b, size_t n, size_t chunk, uint64_t *rng, klist *out)
{
  vg_fmv_demux *d = NULL;
  vg_fmv_klv k;
  size_t off = 0;
  assert_int_equal(vg_fmv_demux_new(&d, NULL), VG_OK);
  while (off < n) {
    size_t c = chunk == 0 ? n - off : rng ? 1 + (size_t)(xs_next(rng) % chunk) : chunk;
    if (c > n - off)
      c = n - off;
    assert_int_equal(vg_fmv_demux_feed(d, b + off, c), VG_OK);
    off += c;
    while (vg_fmv_demux_next(d, &k) == VG_OK)
      klist_add(out, &k);
  }
  vg_fmv_demux_finish(d);
  while (vg_fmv_demux_next(d, &k) == VG_OK)
    klist_add(out, &k);
  return d;
}

static const vg_fmv_stream *find_stream(const vg_fmv_stream *ss, size_t n, uint16_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (ss[i].pid == pid)
      return &ss[i];
  return NULL;
}

/* Names of the .ts files of data/fmv, sorted; NULL-terminated, malloc'd. */
static char **list_ts_files(size_t *count)
{
  char *dir = VG_REQUIRE_DATA("fmv");
  DIR *dh = opendir(dir);
  struct dirent *de;
  char **names = NULL;
  size_t n = 0;
  assert_non_null(dh);
  while ((de = readdir(dh))) {
    size_t l = strlen(de->d_name);
    char **nn;
    if (l < 4 || strcmp(de->d_name + l - 3, ".ts"))
      continue;
    nn = realloc(names, (n + 2) * sizeof *names);
    assert_non_null(nn);
    names = nn;
    names[n] = strdup(de->d_name);
    assert_non_null(names[n]);
    n++;
  }
  closedir(dh);
  free(dir);
  for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  if (names)
    names[n] = NULL;
  *count = n;
  return names;
}

static void free_names(char **names)
{
  for (size_t i = 0; names && names[i]; i++)
    free(names[i]);
  free(names);
}

/* ---- 1. demultiplexer against the independent TS analysis ---------------------------- */

static int collect_klv(void *ctx, const vg_fmv_klv *k)
{
  klist_add(ctx, k);
  return VG_OK;
}

static void check_probe_file(const char *name)
{
  json_t *pj = load_probe(name), *ta = json_object_get(pj, "ts_analysis");
  json_t *streams = json_object_get(ta, "streams"), *rates = json_object_get(pj, "klv_rates"), *js, *vid;
  size_t n, json_klv_total = 0, json_klv_streams = 0;
  uint8_t *buf = load_ts(name, &n);
  vg_fmv_source *src = NULL;
  vg_fmv_probe p;
  klist kl = {0};
  const char *key;
  assert_int_equal(vg_fmv_source_mem(&src, buf, n), VG_OK);
  assert_int_equal(vg_fmv_probe_run(&p, src, NULL, collect_klv, &kl), VG_OK);

  /* Whole multiplex: size, packet size, nothing damaged. */
  assert_int_equal((size_t)json_integer_value(json_object_get(pj, "bytes")), n);
  assert_int_equal(p.bytes, (int64_t)n);
  assert_string_equal(p.format, "mpegts");
  assert_int_equal(p.stats.packet_size, json_integer_value(json_object_get(ta, "packet_size")));
  assert_int_equal(p.stats.ts_packets, n / p.stats.packet_size);
  assert_int_equal(p.stats.sync_losses, json_integer_value(json_object_get(ta, "bad_sync")));
  assert_int_equal(p.stats.junk_bytes, 0);
  assert_int_equal(p.stats.tei_packets, 0);
  assert_int_equal(p.stats.cc_errors, 0);
  assert_int_equal(p.stats.psi_crc_errors, 0);
  assert_int_equal(p.stats.psi_bad, 0);
  assert_int_equal(p.stats.pes_bad, 0);
  assert_int_equal(p.stats.klv_bad, 0);
  assert_int_equal(p.stats.cksum_bad, 0);
  assert_int_equal(p.stats.truncated_bytes, 0);
  for (size_t i = 0; i < p.nevents; i++)
    if (p.events[i].err != VG_OK)
      fail_msg("%s: unexpected problem at offset %llu: %s", name, (unsigned long long)p.events[i].offset,
               p.events[i].what);
  /* Every stream the analysis lists, and no other. */
  assert_int_equal(p.nstreams, json_object_size(streams));

  /* Video facts (libavformat's side of the probe) against ffprobe. */
  vid = ffprobe_video(pj);
  assert_non_null(vid);
  assert_string_equal(p.video_codec, json_string_value(json_object_get(vid, "codec_name")));
  assert_int_equal(p.width, json_integer_value(json_object_get(vid, "width")));
  assert_int_equal(p.height, json_integer_value(json_object_get(vid, "height")));

  json_object_foreach(streams, key, js)
  {
    uint16_t pid = (uint16_t)hexnum(key);
    const vg_fmv_stream *s = find_stream(p.streams, p.nstreams, pid);
    long st = hexnum(json_string_value(json_object_get(js, "stream_type")));
    json_t *descs = json_object_get(js, "descriptors"), *sids = json_object_get(js, "pes_stream_ids");
    int klva = has_descriptor(descs, 0x05, "4b4c5641");
    int is_klv = klva && (st == 0x06 || st == 0x15);
    if (!s)
      fail_msg("%s: PID %s missing from the stream table", name, key);
    assert_true(s->declared);
    assert_int_equal(s->stream_type, st);
    assert_int_equal(!!s->klva, klva);
    assert_int_equal(!!s->metadata_descriptor, has_descriptor(descs, 0x26, NULL));
    assert_int_equal(s->cc_errors, 0);
    assert_int_equal(s->pes_bad, 0);
    if (!is_klv) {
      if (s->kind == VG_FMV_ES_KLV)
        fail_msg("%s: PID %s (stream_type 0x%02lX) taken for KLV", name, key, st);
      assert_int_equal(s->klv_packets, 0);
      assert_int_equal(klist_count_pid(&kl, pid), 0);
      continue;
    }
    json_klv_streams++;
    if (s->kind != VG_FMV_ES_KLV)
      fail_msg("%s: PID %s is not recognised as KLV", name, key);
    if (!json_object_get(js, "pes_packets")) {
      /* Declared but never sent (h265_tricky_klv.ts PID 0x103). */
      print_message("%s: PID %s declared KLV, empty: carriage %s\n", name, key, vg_fmv_carriage_name(s->carriage));
      assert_int_equal(s->pes_packets, 0);
      assert_int_equal(s->klv_packets, 0);
      assert_int_equal(s->pes_stream_id, 0);
      assert_int_equal(s->pts_first, VG_FMV_NOPTS);
      assert_int_equal(s->carriage, st == 0x15 ? VG_FMV_CARRIAGE_SYNC : VG_FMV_CARRIAGE_ASYNC);
      assert_int_equal(klist_count_pid(&kl, pid), 0);
      continue;
    }
    {
      json_int_t pes = json_integer_value(json_object_get(js, "pes_packets"));
      json_int_t nk = json_integer_value(json_object_get(js, "klv_packets"));
      json_t *rate = json_object_get(rates, key), *kv, *vers = json_object_get(js, "st0601_versions");
      const char *sidk, *kk;
      vg_fmv_carriage want;
      size_t nsid = 0, got_n = 0;
      int64_t first_pts = VG_FMV_NOPTS, last_pts = VG_FMV_NOPTS;
      uint32_t mn = UINT32_MAX, mx = 0;
      json_klv_total += (size_t)nk;
      assert_int_equal(s->pes_packets, pes);
      assert_int_equal(s->pes_with_pts, json_integer_value(json_object_get(js, "pes_with_pts")));
      assert_int_equal(s->klv_packets, nk);
      assert_int_equal(s->au_cells, json_integer_value(json_object_get(js, "au_cells")));
      assert_int_equal(s->junk_bytes, json_integer_value(json_object_get(js, "junk_bytes")));
      /* The analysis counts truncated KLV packets; vigia the bytes of those dropped at a gap. */
      assert_int_equal(!!s->gap_bytes, !!json_integer_value(json_object_get(js, "truncated")));
      assert_int_equal(s->klv_bad, 0);
      assert_int_equal(s->cksum_ok, json_integer_value(json_object_get(js, "st0601_checksum_ok")));
      assert_int_equal(s->cksum_bad, json_integer_value(json_object_get(js, "st0601_checksum_bad")));
      /* PES stream ids: one id per stream in these files, the last one seen is kept. */
      json_object_foreach(sids, sidk, kv)
      {
        nsid++;
        assert_int_equal(s->pes_stream_id, hexnum(sidk));
        assert_int_equal(json_integer_value(kv), pes);
      }
      assert_int_equal(nsid, 1);
      /* Carriage from the signalling the analysis saw. */
      if (st == 0x15)
        want = VG_FMV_CARRIAGE_SYNC;
      else if (json_object_get(sids, "0xfc"))
        want = VG_FMV_CARRIAGE_HYBRID;
      else
        want = VG_FMV_CARRIAGE_ASYNC;
      if (s->carriage != want)
        fail_msg("%s: PID %s carriage %s, expected %s", name, key, vg_fmv_carriage_name(s->carriage),
                 vg_fmv_carriage_name(want));
      /* Packets per kind, from the universal labels counted by the analysis. */
      json_object_foreach(json_object_get(js, "keys"), kk, kv)
      {
        uint8_t *ul;
        size_t ulen;
        vg_klv_kind kind;
        assert_int_equal(vg_test_unhex(kk, &ul, &ulen), 0);
        assert_int_equal(ulen, 16);
        kind = vg_klv_key_kind(ul);
        free(ul);
        assert_int_not_equal(kind, VG_KLV_KIND_UNKNOWN);
        assert_int_equal(s->kinds[kind], json_integer_value(kv));
      }
      /* LS versions. */
      assert_int_equal((size_t)s->nversions, json_object_size(vers));
      for (int v = 0; v < s->nversions; v++) {
        char vs[16];
        snprintf(vs, sizeof vs, "%d", s->versions[v]);
        assert_non_null(json_object_get(vers, vs));
        assert_int_equal(s->version_count[v], json_integer_value(json_object_get(vers, vs)));
      }
      /* The packets handed out: count, sizes, PTS, carriage. */
      for (size_t i = 0; i < kl.n; i++) {
        const kpkt *k = &kl.v[i];
        if (k->pid != pid)
          continue;
        got_n++;
        assert_int_equal(k->carriage, want);
        if (k->n < mn)
          mn = (uint32_t)k->n;
        if (k->n > mx)
          mx = (uint32_t)k->n;
        if (got_n == 1)
          first_pts = k->pts;
        last_pts = k->pts;
      }
      assert_int_equal(got_n, nk);
      assert_non_null(rate);
      assert_int_equal(json_integer_value(json_object_get(rate, "klv_packets")), nk);
      assert_int_equal(s->size_min, json_integer_value(json_object_get(rate, "packet_size_min")));
      assert_int_equal(s->size_max, json_integer_value(json_object_get(rate, "packet_size_max")));
      assert_int_equal(mn, s->size_min);
      assert_int_equal(mx, s->size_max);
      if (json_object_get(js, "pts_first_s")) {
        double f = json_number_value(json_object_get(js, "pts_first_s"));
        double l = json_number_value(json_object_get(js, "pts_last_s"));
        assert_int_not_equal(s->pts_first, VG_FMV_NOPTS);
        if (fabs((double)s->pts_first / 90000.0 - f) > 1e-6 || fabs((double)s->pts_last / 90000.0 - l) > 1e-6)
          fail_msg("%s: PID %s PTS %.9f..%.9f s, analysis %.9f..%.9f s", name, key, (double)s->pts_first / 90000.0,
                   (double)s->pts_last / 90000.0, f, l);
        assert_true(fabs((double)first_pts / 90000.0 - f) <= 1e-6);
        assert_true(fabs((double)last_pts / 90000.0 - l) <= 1e-6);
      } else {
        assert_int_equal(s->pts_first, VG_FMV_NOPTS);
        assert_int_equal(first_pts, VG_FMV_NOPTS);
        assert_int_equal(last_pts, VG_FMV_NOPTS);
      }
      print_message("%s: PID %s %s, %llu PES, %llu KLV (%u..%u bytes), %llu AU cells, checksums %llu ok\n", name, key,
                    vg_fmv_carriage_name(s->carriage), (unsigned long long)s->pes_packets,
                    (unsigned long long)s->klv_packets, s->size_min, s->size_max, (unsigned long long)s->au_cells,
                    (unsigned long long)s->cksum_ok);
    }
  }
  /* Our KLV streams are exactly the analysis' (no KLV found where it saw none). */
  {
    size_t ours = 0;
    for (size_t i = 0; i < p.nstreams; i++)
      ours += p.streams[i].kind == VG_FMV_ES_KLV;
    assert_int_equal(ours, json_klv_streams);
  }
  assert_int_equal(p.stats.klv_packets, json_klv_total);
  assert_int_equal(kl.n, json_klv_total);
  if (!json_klv_total)
    print_message("%s: negative control: no KLV stream, no damage\n", name);
  klist_free(&kl);
  vg_fmv_probe_clear(&p);
  vg_fmv_source_free(src);
  free(buf);
  json_decref(pj);
}

static void probe_matches_analysis(void **st)
{
  size_t count;
  char **names = list_ts_files(&count);
  (void)st;
  assert_true(count > 0);
  for (size_t i = 0; i < count; i++)
    check_probe_file(names[i]);
  free_names(names);
}

/* ---- 2. every value against KWIVER's decode -------------------------------------------- */

/* Inflates a zlib file of the data folder and parses it as JSON. */
static json_t *load_zz_json(const char *rel)
{
  size_t n, cap, outn = 0;
  uint8_t *z = load_data(rel, &n), *out;
  z_stream zs;
  json_error_t e;
  json_t *j;
  int zr;
  memset(&zs, 0, sizeof zs);
  cap = n * 8;
  out = malloc(cap);
  assert_non_null(out);
  assert_int_equal(inflateInit(&zs), Z_OK);
  zs.next_in = z;
  zs.avail_in = (uInt)n;
  do {
    if (outn == cap) {
      uint8_t *no = realloc(out, cap * 2);
      assert_non_null(no);
      out = no;
      cap *= 2;
    }
    zs.next_out = out + outn;
    zs.avail_out = (uInt)(cap - outn);
    zr = inflate(&zs, Z_NO_FLUSH);
    if (zr != Z_OK && zr != Z_STREAM_END)
      fail_msg("%s: inflate: %d", rel, zr);
    outn = cap - zs.avail_out;
  } while (zr != Z_STREAM_END);
  inflateEnd(&zs);
  j = json_loadb((const char *)out, outn, JSON_ALLOW_NUL, &e); /* KWIVER writes UTF-16 text with its NULs */
  if (!j)
    fail_msg("%s: %s at line %d", rel, e.text, e.line);
  free(out);
  free(z);
  return j;
}

typedef struct kw_stats {
  size_t mappable;   /* scalar values in KWIVER's JSON */
  size_t compared;
  size_t mismatches;
  size_t nested;     /* nested sets, lists, packs, nulls: not compared */
  size_t reals;
  double max_rel;    /* largest relative difference of reals */
} kw_stats;

/* Quantum of a mapped item of @p len bytes (0 when not a mapped format). */
static double item_quantum(const vg_klv_tagdef *td, uint32_t len)
{
  double span, full;
  if (!td || !len || len > 8)
    return 0;
  span = td->hi - td->lo;
  full = ldexp(1.0, 8 * (int)len);
  switch (td->fmt) {
  case VG_KLV_FMT_UMAP: return span / (full - 1);
  case VG_KLV_FMT_SMAP: return span / (full - 2);
  case VG_KLV_FMT_IMAPB: return ldexp(1.0, (int)ceil(log2(span)) - (8 * (int)len - 1));
  default: return 0;
  }
}

static void kw_compare_item(const vg_klv_set *set, json_t *entry, kw_stats *ks, const char *where)
{
  json_t *val = json_object_get(entry, "value");
  uint32_t tag = (uint32_t)json_integer_value(json_object_get(json_object_get(entry, "key"), "integer"));
  const char *tname = json_string_value(json_object_get(json_object_get(entry, "key"), "string"));
  const vg_klv_item *it = vg_klv_find(set, tag);
  char got[160] = "", want[160] = "";
  int ok = 0;
  int scalar = json_is_integer(val) || json_is_string(val) ||
               (json_is_object(val) && json_object_size(val) == 2 &&
                ((json_object_get(val, "length") && json_is_number(json_object_get(val, "value"))) ||
                 (json_is_integer(json_object_get(val, "integer")) && json_object_get(val, "string"))));
  if (!scalar) {
    ks->nested++;
    return;
  }
  ks->mappable++;
  if (!it) {
    ks->mismatches++;
    print_message("MISMATCH %s tag %u (%s): absent from vigia's decode\n", where, tag, tname);
    return;
  }
  if (json_is_integer(val)) {
    json_int_t x = json_integer_value(val);
    snprintf(want, sizeof want, "%lld", (long long)x);
    if (it->type == VG_KLV_T_UINT || it->type == VG_KLV_T_TIME) {
      ok = it->v.u == (uint64_t)x;
      snprintf(got, sizeof got, "%llu", (unsigned long long)it->v.u);
    } else if (it->type == VG_KLV_T_INT) {
      ok = it->v.i == (int64_t)x;
      snprintf(got, sizeof got, "%lld", (long long)it->v.i);
    } else {
      snprintf(got, sizeof got, "type %d", it->type);
    }
  } else if (json_is_string(val)) {
    const char *w = json_string_value(val);
    snprintf(want, sizeof want, "'%s'", w);
    ok = it->type == VG_KLV_T_STRING && it->v.s.n == strlen(w) && !memcmp(it->v.s.p, w, it->v.s.n);
    if (it->type == VG_KLV_T_STRING)
      snprintf(got, sizeof got, "'%.*s'", (int)it->v.s.n, it->v.s.p);
    else
      snprintf(got, sizeof got, "type %d", it->type);
  } else if (json_object_get(val, "length")) {
    json_int_t wl = json_integer_value(json_object_get(val, "length"));
    double x = json_number_value(json_object_get(val, "value"));
    snprintf(want, sizeof want, "%.17g (%lld bytes)", x, (long long)wl);
    if (it->type == VG_KLV_T_REAL) {
      double q = item_quantum(vg_klv_tagdef_find(set->kind, tag), it->len);
      double tol = 1e-9 * fmax(1.0, fabs(x)), rel = fabs(it->v.f - x) / fmax(1.0, fabs(x));
      if (q > 0 && q / 4 < tol)
        tol = q / 4;
      ok = fabs(it->v.f - x) <= tol;
      ks->reals++;
      if (rel > ks->max_rel)
        ks->max_rel = rel;
      snprintf(got, sizeof got, "%.17g (%u bytes, tol %.3g)", it->v.f, it->len, tol);
    } else if (it->type == VG_KLV_T_UINT) {
      ok = (double)it->v.u == x;
      snprintf(got, sizeof got, "%llu (%u bytes)", (unsigned long long)it->v.u, it->len);
    } else if (it->type == VG_KLV_T_INT) {
      ok = (double)it->v.i == x;
      snprintf(got, sizeof got, "%lld (%u bytes)", (long long)it->v.i, it->len);
    } else {
      snprintf(got, sizeof got, "type %d", it->type);
    }
    ok = ok && (json_int_t)it->len == wl;
  } else {
    json_int_t x = json_integer_value(json_object_get(val, "integer"));
    snprintf(want, sizeof want, "enum %lld (%s)", (long long)x, json_string_value(json_object_get(val, "string")));
    if (it->type == VG_KLV_T_UINT) {
      ok = it->v.u == (uint64_t)x;
      snprintf(got, sizeof got, "%llu", (unsigned long long)it->v.u);
    } else {
      snprintf(got, sizeof got, "type %d", it->type);
    }
  }
  ks->compared++;
  if (!ok) {
    ks->mismatches++;
    print_message("MISMATCH %s tag %u (%s): vigia %s, KWIVER %s\n", where, tag, tname, got, want);
  }
}

/*
 * Count of compared values measured per file (h264_klv.ts: 30 packets x 114
 * scalar items; h265_tricky_klv.ts: the same plus 60 packets x 3): a floor that
 * catches a test that silently stops comparing. The exact count is also
 * required to equal the number of scalar values in KWIVER's JSON.
 */
#define KW_MIN_COMPARED_KLV 3420
#define KW_MIN_COMPARED_TRICKY 3600

static void kwiver_file(const char *ts, const char *gold, size_t min_compared)
{
  json_t *pj = load_probe(ts), *kw = load_zz_json(gold), *pk;
  size_t n, i, cursor[VG_FMV_MAX_STREAMS] = {0}, npid = 0;
  uint16_t pids[VG_FMV_MAX_STREAMS];
  uint8_t *buf = load_ts(ts, &n);
  klist kl = {0};
  vg_fmv_demux *d = demux_all(buf, n, 0, NULL, &kl);
  vg_klv_decoder *dec = NULL;
  kw_stats ks = {0};
  assert_int_equal(vg_klv_decoder_new(&dec, NULL), VG_OK);
  assert_true(json_is_array(kw));
  json_array_foreach(kw, i, pk)
  {
    int pid = ffprobe_pid(pj, json_integer_value(json_object_get(pk, "stream-index")));
    size_t slot, j;
    const vg_klv_packet *p;
    uint8_t *ul;
    size_t ulen, used;
    char where[96], hex[64];
    const char *h;
    json_t *ent;
    size_t e, hl = 0;
    assert_true(pid > 0);
    for (slot = 0; slot < npid && pids[slot] != pid; slot++)
      ;
    if (slot == npid) {
      assert_true(npid < VG_FMV_MAX_STREAMS);
      pids[npid++] = (uint16_t)pid;
    }
    /* The next packet of that PID, in order. */
    for (j = cursor[slot]; j < kl.n && kl.v[j].pid != pid; j++)
      ;
    if (j == kl.n)
      fail_msg("%s: KWIVER packet %zu (PID 0x%X): vigia has no more packets on that PID", ts, i, pid);
    cursor[slot] = j + 1;
    /* Same universal label. */
    for (h = json_string_value(json_object_get(json_object_get(pk, "key"), "hex")); *h && hl + 1 < sizeof hex; h++)
      if (*h != ' ')
        hex[hl++] = *h;
    hex[hl] = 0;
    assert_int_equal(vg_test_unhex(hex, &ul, &ulen), 0);
    assert_int_equal(ulen, 16);
    assert_memory_equal(kl.v[j].b, ul, 16);
    free(ul);
    assert_int_equal(vg_klv_decode(dec, &p, kl.v[j].b, kl.v[j].n, &used), VG_OK);
    assert_int_equal(used, kl.v[j].n);
    snprintf(where, sizeof where, "%s packet %zu (frame %lld, PID 0x%X)", ts, i,
             (long long)json_integer_value(json_object_get(pk, "frame")), pid);
    json_array_foreach(json_object_get(pk, "value"), e, ent)
    {
      kw_compare_item(&p->set, ent, &ks, where);
    }
  }
  /* Every packet of vigia's was matched. */
  for (size_t s = 0; s < npid; s++) {
    size_t left = 0;
    for (size_t j = cursor[s]; j < kl.n; j++)
      left += kl.v[j].pid == pids[s];
    assert_int_equal(left, 0);
  }
  assert_int_equal(kl.n, json_array_size(kw));
  print_message("%s vs KWIVER: %zu packets, %zu values compared (%zu reals, max relative difference %.3g), "
                "%zu nested values not compared, %zu mismatches\n",
                ts, kl.n, ks.compared, ks.reals, ks.max_rel, ks.nested, ks.mismatches);
  assert_int_equal(ks.mismatches, 0);
  assert_int_equal(ks.compared, ks.mappable);
  assert_true(ks.compared >= min_compared);
  vg_klv_decoder_free(dec);
  vg_fmv_demux_free(d);
  klist_free(&kl);
  free(buf);
  json_decref(kw);
  json_decref(pj);
}

static void kwiver_h264_klv(void **st)
{
  (void)st;
  kwiver_file("h264_klv.ts", "fmv/expected/kwiver_video_stream_klv.json.zz", KW_MIN_COMPARED_KLV);
}

static void kwiver_h265_tricky(void **st)
{
  (void)st;
  kwiver_file("h265_tricky_klv.ts", "fmv/expected/kwiver_video_stream_tricky_klv.json.zz", KW_MIN_COMPARED_TRICKY);
}

/* ---- frames out of the reader ----------------------------------------------------------- */

typedef struct frec {
  int64_t pts;
  int w, h;
  size_t stride;
  int fmt, has_pixels, nonflat, corrupt;
  vg_fmv_frame_meta meta;
} frec;

typedef struct frun {
  frec *f;
  size_t n;
  int last_rc;
  uint64_t decode_errors;
  int damaged;
} frun;

/* Reads every frame of @p b (decoded, GRAY8 unless told) and keeps what the tests look at. */
static void read_frames(const uint8_t *b, size_t n, const vg_fmv_reader_opts *opts, frun *out)
{
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  vg_fmv_source *src = NULL;
  vg_fmv_reader *r = NULL;
  size_t cap = 0;
  int rc;
  if (opts)
    ro = *opts;
  memset(out, 0, sizeof *out);
  assert_int_equal(vg_fmv_source_mem(&src, b, n), VG_OK);
  rc = vg_fmv_reader_new(&r, src, &ro);
  if (rc != VG_OK)
    fail_msg("vg_fmv_reader_new: %s: %s", vg_err_name(rc), vg_error_last());
  for (;;) {
    const vg_fmv_frame *f;
    frec *e;
    rc = vg_fmv_reader_next(r, &f);
    if (rc != VG_OK)
      break;
    if (out->n == cap) {
      frec *nf;
      cap = cap ? 2 * cap : 32;
      nf = realloc(out->f, cap * sizeof *nf);
      assert_non_null(nf);
      out->f = nf;
    }
    e = &out->f[out->n++];
    memset(e, 0, sizeof *e);
    assert_int_equal(f->index, (int64_t)out->n - 1);
    e->pts = f->pts;
    e->w = f->width;
    e->h = f->height;
    e->stride = f->stride;
    e->fmt = f->fmt;
    e->corrupt = f->corrupt;
    e->meta = f->meta;
    e->has_pixels = f->pixels != NULL;
    if (f->pixels && f->width > 0 && f->height > 0) {
      uint8_t lo = 255, hi = 0;
      for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
          uint8_t v = f->pixels[(size_t)y * f->stride + (size_t)x];
          lo = v < lo ? v : lo;
          hi = v > hi ? v : hi;
        }
      e->nonflat = hi > lo;
    }
  }
  out->last_rc = rc;
  out->decode_errors = vg_fmv_reader_decode_errors(r);
  out->damaged = vg_fmv_demux_damaged(vg_fmv_reader_demux(r));
  vg_fmv_reader_free(r);
  vg_fmv_source_free(src);
}

static void check_pixels(const frun *fr, json_t *pj)
{
  json_t *v = ffprobe_video(pj);
  int w = (int)json_integer_value(json_object_get(v, "width")), h = (int)json_integer_value(json_object_get(v, "height"));
  size_t nonflat = 0;
  for (size_t i = 0; i < fr->n; i++) {
    const frec *e = &fr->f[i];
    assert_true(e->has_pixels);
    assert_int_equal(e->fmt, VG_FMV_GRAY8);
    assert_int_equal(e->w, w);
    assert_int_equal(e->h, h);
    assert_true(e->stride >= (size_t)w);
    assert_int_not_equal(e->pts, VG_FMV_NOPTS);
    if (i)
      assert_true(e->pts > fr->f[i - 1].pts); /* display order */
    nonflat += e->nonflat;
  }
  assert_true(nonflat > 0); /* decoded pictures, not blank buffers */
}

/* KWIVER's precision time stamp of the packet it associates with 1-based frame @p frame on stream 1. */
static json_int_t kwiver_frame_time(json_t *kw, json_int_t frame)
{
  json_t *pk, *ent;
  size_t i, e;
  json_array_foreach(kw, i, pk)
  {
    if (json_integer_value(json_object_get(pk, "frame")) != frame ||
        json_integer_value(json_object_get(pk, "stream-index")) != 1)
      continue;
    json_array_foreach(json_object_get(pk, "value"), e, ent)
    {
      if (json_integer_value(json_object_get(json_object_get(ent, "key"), "integer")) == 2)
        return json_integer_value(json_object_get(ent, "value"));
    }
  }
  return -1;
}

/* ---- 3. frames and metadata as KWIVER associates them ------------------------------------ */

static void association_file(const char *ts, const char *gold, int want_pts_align)
{
  json_t *pj = load_probe(ts), *kw = load_zz_json(gold);
  size_t n;
  uint8_t *buf = load_ts(ts, &n);
  frun fr;
  int want_pid = ffprobe_pid(pj, 1);
  read_frames(buf, n, NULL, &fr);
  assert_int_equal(fr.last_rc, VG_E_TRUNCATED);
  assert_int_equal(fr.n, ffprobe_video_frames(pj));
  assert_false(fr.damaged);
  check_pixels(&fr, pj);
  for (size_t i = 0; i < fr.n; i++) {
    const vg_fmv_frame_meta *m = &fr.f[i].meta;
    json_int_t want = kwiver_frame_time(kw, (json_int_t)i + 1);
    assert_true(want > 0);
    if (m->align == VG_FMV_ALIGN_NONE)
      fail_msg("%s frame %zu: no metadata", ts, i);
    if (want_pts_align)
      assert_true(m->align == VG_FMV_ALIGN_PTS || m->align == VG_FMV_ALIGN_PTS_HOLD);
    else {
      assert_true(m->align == VG_FMV_ALIGN_TIMESTAMP || m->align == VG_FMV_ALIGN_TIMESTAMP_HOLD);
      assert_true(m->offset_estimated);
    }
    assert_int_equal(m->pid, want_pid);
    assert_true(vg_klv_pose_has(&m->pose, VG_POSE_TIME));
    if ((json_int_t)m->pose.time_us != want)
      fail_msg("%s frame %zu (pts %.6f s, align %s, age %.6f s, offset %lld us): pose time %llu, KWIVER %lld", ts, i,
               (double)fr.f[i].pts / 90000.0, vg_fmv_align_name(m->align), m->age_s, (long long)m->offset_us,
               (unsigned long long)m->pose.time_us, (long long)want);
  }
  print_message("%s: %zu frames, each with the pose of KWIVER's packet (align %s, offset %lld us)\n", ts, fr.n,
                vg_fmv_align_name(fr.f[0].meta.align), (long long)fr.f[0].meta.offset_us);
  free(fr.f);
  free(buf);
  json_decref(kw);
  json_decref(pj);
}

static void association_h264_async(void **st)
{
  (void)st;
  association_file("h264_klv.ts", "fmv/expected/kwiver_video_stream_klv.json.zz", 0);
}

static void association_h265_sync(void **st)
{
  (void)st;
  association_file("h265_tricky_klv.ts", "fmv/expected/kwiver_video_stream_tricky_klv.json.zz", 1);
}

/* ---- 4. AP Hill: EG 0104 at 29.97 Hz under 1 fps video ------------------------------------ */

static int pose_of(vg_klv_decoder *dec, const kpkt *k, vg_klv_pose *pose)
{
  const vg_klv_packet *p;
  size_t used;
  if (vg_klv_decode(dec, &p, k->b, k->n, &used) != VG_OK)
    return -1;
  return vg_klv_pose_from_packet(pose, p);
}

static const kpkt *by_seq(const klist *l, uint64_t seq)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].seq == seq)
      return &l->v[i];
  return NULL;
}

static void aphill(void **st)
{
  const char *ts = "aphill_klv_10s.ts";
  json_t *pj = load_probe(ts), *rates = json_object_get(pj, "klv_rates"), *ja, *rate;
  const char *klv_pid_key = json_object_iter_key(json_object_iter(rates)); /* its one KLV stream */
  int klv_pid = (int)hexnum(klv_pid_key);
  size_t n, interp = 0;
  uint8_t *buf = load_ts(ts, &n);
  klist kl = {0};
  vg_fmv_demux *d = demux_all(buf, n, 0, NULL, &kl);
  vg_klv_decoder *dec = NULL;
  vg_fmv_timeline *tl = NULL;
  uint64_t *times;
  double period_us;
  frun fr;
  (void)st;
  assert_int_equal(json_object_size(rates), 1);
  ja = analysis_stream(pj, (uint16_t)klv_pid);
  rate = json_object_get(rates, klv_pid_key);
  assert_non_null(ja);
  assert_int_equal(vg_klv_decoder_new(&dec, NULL), VG_OK);
  assert_int_equal(kl.n, json_integer_value(json_object_get(ja, "klv_packets")));
  period_us = 1e6 / json_number_value(json_object_get(rate, "packets_per_s_from_pts"));
  /* Every packet's own time stamp, for the frames to be checked against. */
  times = calloc(kl.n, sizeof *times);
  assert_non_null(times);
  for (size_t i = 0; i < kl.n; i++) {
    vg_klv_pose pose;
    assert_int_equal(pose_of(dec, &kl.v[i], &pose), VG_OK);
    assert_int_equal(pose.source, VG_KLV_KIND_EG0104);
    assert_true(vg_klv_pose_has(&pose, VG_POSE_TIME));
    times[i] = pose.time_us;
  }

  read_frames(buf, n, NULL, &fr);
  assert_int_equal(fr.last_rc, VG_E_TRUNCATED);
  assert_int_equal(fr.n, ffprobe_video_frames(pj));
  check_pixels(&fr, pj);
  for (size_t i = 0; i < fr.n; i++) {
    const vg_fmv_frame_meta *m = &fr.f[i].meta;
    uint64_t best = UINT64_MAX;
    if (m->align != VG_FMV_ALIGN_PTS && m->align != VG_FMV_ALIGN_PTS_HOLD)
      fail_msg("%s frame %zu: align %s", ts, i, vg_fmv_align_name(m->align));
    assert_int_equal(m->pid, klv_pid);
    assert_true(vg_klv_pose_has(&m->pose, VG_POSE_SENSOR_LAT) && vg_klv_pose_has(&m->pose, VG_POSE_SENSOR_LON));
    /* Fort A.P. Hill, Virginia (SOURCES.md: ~38.16 N, 77.36 W). */
    if (m->pose.sensor_lat < 38.0 || m->pose.sensor_lat > 38.35 || m->pose.sensor_lon < -77.55 ||
        m->pose.sensor_lon > -77.15)
      fail_msg("%s frame %zu: sensor at %.6f, %.6f", ts, i, m->pose.sensor_lat, m->pose.sensor_lon);
    for (size_t k = 0; k < kl.n; k++) {
      uint64_t dt = times[k] > m->pose.time_us ? times[k] - m->pose.time_us : m->pose.time_us - times[k];
      best = dt < best ? dt : best;
    }
    if ((double)best > period_us)
      fail_msg("%s frame %zu: pose time %llu is %llu us from the nearest packet (period %.0f us)", ts, i,
               (unsigned long long)m->pose.time_us, (unsigned long long)best, period_us);
    /* Interpolated: the latitude lies between the two packets'. */
    if (m->seq0 != m->seq1 && m->weight > 0 && m->weight < 1) {
      const kpkt *a = by_seq(&kl, m->seq0), *b = by_seq(&kl, m->seq1);
      vg_klv_pose pa, pb;
      assert_non_null(a);
      assert_non_null(b);
      assert_int_equal(pose_of(dec, a, &pa), VG_OK);
      assert_int_equal(pose_of(dec, b, &pb), VG_OK);
      assert_true(m->pose.sensor_lat >= fmin(pa.sensor_lat, pb.sensor_lat) - 1e-12);
      assert_true(m->pose.sensor_lat <= fmax(pa.sensor_lat, pb.sensor_lat) + 1e-12);
      interp++;
    }
  }

  /*
   * The time line directly: a frame half-way between two packets gets the
   * interpolation of both, whatever the reader's frames happened to fall on.
   */
  assert_int_equal(vg_fmv_timeline_new(&tl, NULL), VG_OK);
  {
    vg_fmv_klv k;
    for (size_t i = 0; i < kl.n; i++) {
      const vg_klv_packet *p;
      size_t used;
      assert_int_equal(vg_klv_decode(dec, &p, kl.v[i].b, kl.v[i].n, &used), VG_OK);
      memset(&k, 0, sizeof k);
      k.pkt = p;
      k.pid = kl.v[i].pid;
      k.stream = kl.v[i].stream;
      k.carriage = kl.v[i].carriage;
      k.pts = kl.v[i].pts;
      k.mux_pts = kl.v[i].mux_pts;
      k.ts_offset = kl.v[i].ts_offset;
      k.seq = kl.v[i].seq;
      assert_int_equal(vg_fmv_timeline_add(tl, &k), VG_OK);
    }
  }
  {
    size_t checked = 0;
    for (size_t i = 0; i + 1 < kl.n; i += 37) {
      vg_fmv_frame_meta m;
      vg_klv_pose pa, pb;
      int64_t mid = kl.v[i].pts + (kl.v[i + 1].pts - kl.v[i].pts) / 2;
      assert_int_equal(vg_fmv_timeline_at(tl, mid, &m), VG_OK);
      assert_int_equal(m.align, VG_FMV_ALIGN_PTS);
      assert_int_equal(m.seq0, kl.v[i].seq);
      assert_int_equal(m.seq1, kl.v[i + 1].seq);
      assert_true(fabs(m.weight - 0.5) < 0.02);
      assert_int_equal(pose_of(dec, &kl.v[i], &pa), VG_OK);
      assert_int_equal(pose_of(dec, &kl.v[i + 1], &pb), VG_OK);
      assert_true(m.pose.sensor_lat >= fmin(pa.sensor_lat, pb.sensor_lat) - 1e-12);
      assert_true(m.pose.sensor_lat <= fmax(pa.sensor_lat, pb.sensor_lat) + 1e-12);
      assert_true(m.pose.time_us >= fmin(times[i], times[i + 1]) && m.pose.time_us <= fmax(times[i], times[i + 1]));
      checked++;
    }
    print_message("%s: %zu frames posed (%zu interpolated by the reader), %zu mid-packet time line checks\n", ts,
                  fr.n, interp, checked);
    assert_true(checked > 0);
  }
  vg_fmv_timeline_free(tl);
  free(times);
  free(fr.f);
  vg_klv_decoder_free(dec);
  vg_fmv_demux_free(d);
  klist_free(&kl);
  free(buf);
  json_decref(pj);
}

/* ---- 5. negative controls through the reader ------------------------------------------- */

static void negative_controls(void **st)
{
  static const char *const files[] = {"h264_no_klv.ts", "h264_audio.ts"};
  (void)st;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    json_t *pj = load_probe(files[f]);
    size_t n;
    uint8_t *buf = load_ts(files[f], &n);
    frun fr;
    assert_int_equal(json_object_size(json_object_get(pj, "klv_rates")), 0);
    read_frames(buf, n, NULL, &fr);
    assert_int_equal(fr.last_rc, VG_E_TRUNCATED);
    assert_int_equal(fr.n, ffprobe_video_frames(pj));
    assert_false(fr.damaged);
    assert_int_equal(fr.decode_errors, 0);
    check_pixels(&fr, pj);
    for (size_t i = 0; i < fr.n; i++)
      assert_int_equal(fr.f[i].meta.align, VG_FMV_ALIGN_NONE);
    print_message("%s: %zu frames, none with metadata\n", files[f], fr.n);
    free(fr.f);
    free(buf);
    json_decref(pj);
  }
}

/* ---- 6. damage ------------------------------------------------------------------------- */

/* One KLV packet as the test's own TS walker frames it, with the TS packets its bytes came from. */
typedef struct owned {
  uint16_t pid;
  const uint8_t *b; /* into the walker's PID stream */
  size_t n;
  uint32_t *pk;     /* distinct TS packet indices, ascending */
  size_t npk;
} owned;

typedef struct wpid {
  uint16_t pid;
  int cells;
  /* KLV bytes of the PID, each with its TS packet and the TS packet of its PES header */
  uint8_t *b;
  uint32_t *own, *hdr;
  size_t n, cap;
  /* the PES being gathered */
  uint8_t *pes;
  uint32_t *pown;
  size_t pn, pcap;
  uint32_t pes_hdr;
  int in_pes;
  long pes_left; /* payload bytes left by PES_packet_length, -1 unbounded */
} wpid;

static void wpid_append(wpid *w, const uint8_t *b, size_t n, const uint32_t *owners, uint32_t hdr)
{
  if (w->n + n > w->cap) {
    size_t nc = (w->n + n) * 2;
    w->b = realloc(w->b, nc);
    w->own = realloc(w->own, nc * sizeof *w->own);
    w->hdr = realloc(w->hdr, nc * sizeof *w->hdr);
    assert_true(w->b && w->own && w->hdr);
    w->cap = nc;
  }
  memcpy(w->b + w->n, b, n);
  for (size_t i = 0; i < n; i++) {
    w->own[w->n + i] = owners[i];
    w->hdr[w->n + i] = hdr;
  }
  w->n += n;
}

/* The PES gathered is complete: its payload (AU cells taken apart for sync carriage) joins the PID's bytes. */
static void wpid_flush(wpid *w)
{
  if (!w->in_pes)
    return;
  if (w->cells) {
    size_t q = 0;
    while (q + 5 <= w->pn) {
      size_t cl = ((size_t)w->pes[q + 3] << 8) | w->pes[q + 4];
      q += 5;
      if (cl > w->pn - q)
        cl = w->pn - q;
      wpid_append(w, w->pes + q, cl, w->pown + q, w->pes_hdr);
      q += cl;
    }
  } else {
    wpid_append(w, w->pes, w->pn, w->pown, w->pes_hdr);
  }
  w->in_pes = 0;
  w->pn = 0;
}

static void wpid_pes_bytes(wpid *w, const uint8_t *b, size_t n, uint32_t owner)
{
  if (w->pes_left >= 0 && (long)n > w->pes_left)
    n = (size_t)w->pes_left;
  if (w->pes_left >= 0)
    w->pes_left -= (long)n;
  if (w->pn + n > w->pcap) {
    size_t nc = (w->pn + n) * 2;
    w->pes = realloc(w->pes, nc);
    w->pown = realloc(w->pown, nc * sizeof *w->pown);
    assert_true(w->pes && w->pown);
    w->pcap = nc;
  }
  memcpy(w->pes + w->pn, b, n);
  for (size_t i = 0; i < n; i++)
    w->pown[w->pn + i] = owner;
  w->pn += n;
}

static void wpid_free(wpid *w)
{
  free(w->b);
  free(w->own);
  free(w->hdr);
  free(w->pes);
  free(w->pown);
}

/*
 * The test's own walk of a clean 188-byte TS: for each KLV PID (from the
 * analysis JSON: PIDs with KLV packets; stream_type 0x15 means AU cells), the
 * KLV byte stream with the TS packet index of every byte, then the KLV
 * packets framed by their 16-byte key and BER length.
 */
static owned *walk_klv(const uint8_t *ts, size_t n, json_t *pj, wpid *w, size_t *nw, size_t *nowned)
{
  json_t *ss = json_object_get(json_object_get(pj, "ts_analysis"), "streams"), *js;
  const char *key;
  owned *o = NULL;
  size_t no = 0, cap = 0;
  *nw = 0;
  json_object_foreach(ss, key, js)
  {
    if (json_integer_value(json_object_get(js, "klv_packets")) <= 0)
      continue;
    assert_true(*nw < 8);
    memset(&w[*nw], 0, sizeof w[*nw]);
    w[*nw].pid = (uint16_t)hexnum(key);
    w[*nw].cells = hexnum(json_string_value(json_object_get(js, "stream_type"))) == 0x15;
    (*nw)++;
  }
  assert_int_equal(n % TSP, 0);
  for (size_t i = 0; i < n / TSP; i++) {
    const uint8_t *p = ts + i * TSP;
    uint16_t pid = (uint16_t)(((p[1] & 0x1F) << 8) | p[2]);
    int pusi = (p[1] & 0x40) != 0, afc = (p[3] >> 4) & 3;
    size_t pos = 4;
    wpid *wp = NULL;
    assert_int_equal(p[0], 0x47);
    for (size_t k = 0; k < *nw; k++)
      if (w[k].pid == pid)
        wp = &w[k];
    if (!wp)
      continue;
    if (afc & 2)
      pos = 5 + p[4];
    if (!(afc & 1) || pos >= TSP)
      continue;
    if (pusi) {
      size_t hl;
      unsigned plen;
      wpid_flush(wp);
      assert_true(pos + 9 <= TSP);
      assert_true(p[pos] == 0 && p[pos + 1] == 0 && p[pos + 2] == 1);
      plen = ((unsigned)p[pos + 4] << 8) | p[pos + 5];
      hl = 9 + (size_t)p[pos + 8];
      assert_true(pos + hl <= TSP);
      wp->in_pes = 1;
      wp->pes_hdr = (uint32_t)i;
      wp->pes_left = plen ? (long)plen - (long)(hl - 6) : -1;
      pos += hl;
    } else if (!wp->in_pes) {
      continue;
    }
    wpid_pes_bytes(wp, p + pos, TSP - pos, (uint32_t)i);
  }
  for (size_t k = 0; k < *nw; k++)
    wpid_flush(&w[k]);
  /* Frame the KLV packets of each PID. */
  for (size_t k = 0; k < *nw; k++) {
    size_t q = 0;
    while (q < w[k].n) {
      size_t lenlen = 1, total;
      uint64_t vlen;
      owned *e;
      assert_true(q + 17 <= w[k].n);
      assert_true(w[k].b[q] == 0x06 && w[k].b[q + 1] == 0x0E && w[k].b[q + 2] == 0x2B && w[k].b[q + 3] == 0x34);
      vlen = w[k].b[q + 16];
      if (vlen & 0x80) {
        size_t nl = vlen & 0x7F;
        assert_true(nl >= 1 && nl <= 4 && q + 17 + nl <= w[k].n);
        vlen = 0;
        for (size_t j = 0; j < nl; j++)
          vlen = vlen << 8 | w[k].b[q + 17 + j];
        lenlen += nl;
      }
      total = 16 + lenlen + (size_t)vlen;
      assert_true(q + total <= w[k].n);
      if (no == cap) {
        cap = cap ? 2 * cap : 64;
        o = realloc(o, cap * sizeof *o);
        assert_non_null(o);
      }
      e = &o[no++];
      e->pid = w[k].pid;
      e->b = w[k].b + q;
      e->n = total;
      e->pk = malloc((total + 1) * sizeof *e->pk);
      assert_non_null(e->pk);
      e->npk = 0;
      e->pk[e->npk++] = w[k].hdr[q];
      for (size_t j = q; j < q + total; j++)
        if (w[k].own[j] != e->pk[e->npk - 1])
          e->pk[e->npk++] = w[k].own[j];
      q += total;
    }
  }
  *nowned = no;
  return o;
}

static void owned_free(owned *o, size_t n, wpid *w, size_t nw)
{
  for (size_t i = 0; i < n; i++)
    free(o[i].pk);
  free(o);
  for (size_t k = 0; k < nw; k++)
    wpid_free(&w[k]);
}

typedef struct damaged {
  uint8_t *b;
  size_t n;
  uint8_t *bad;       /* per original TS packet: 1 flipped, 2 dropped, 3 in the cut, 0 intact */
  size_t flips, drops, cut_at, cut_len;
} damaged;

/*
 * Damages 1% of the TS packets (each either 1-8 random bit flips anywhere in
 * it, header included, or dropped), then removes one run of bytes from the
 * middle, neither starting nor ending on a packet boundary.
 */
static void make_damage(const uint8_t *src, size_t n, uint64_t seed, damaged *out)
{
  size_t npk = n / TSP, ndmg = (npk + 99) / 100, on = 0, s, l, first, last;
  uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 1;
  uint8_t *kind = calloc(npk, 1);
  uint32_t *origin = malloc(npk * sizeof *origin);
  memset(out, 0, sizeof *out);
  out->b = malloc(n);
  out->bad = calloc(npk, 1);
  assert_true(kind && origin && out->b && out->bad);
  for (size_t i = 0; i < ndmg; i++) {
    size_t at;
    do
      at = (size_t)(xs_next(&rng) % npk);
    while (kind[at]);
    kind[at] = (uint8_t)(1 + xs_next(&rng) % 2);
    out->bad[at] = kind[at];
  }
  for (size_t i = 0; i < npk; i++) {
    if (kind[i] == 2) {
      out->drops++;
      continue;
    }
    memcpy(out->b + on, src + i * TSP, TSP);
    if (kind[i] == 1) {
      int nb = 1 + (int)(xs_next(&rng) % 8);
      for (int k = 0; k < nb; k++) {
        size_t bit = (size_t)(xs_next(&rng) % (TSP * 8));
        out->b[on + bit / 8] ^= (uint8_t)(1u << (bit % 8));
      }
      out->flips++;
    }
    origin[on / TSP] = (uint32_t)i;
    on += TSP;
  }
  /* The cut: [s, s + l) of the output, away from packet boundaries. */
  s = on / 4 + (size_t)(xs_next(&rng) % (on / 2));
  if (s % TSP == 0)
    s++;
  l = 1 + (size_t)(xs_next(&rng) % 1000);
  if ((s + l) % TSP == 0)
    l++;
  first = s / TSP;
  last = (s + l - 1) / TSP;
  for (size_t k = first; k <= last; k++)
    if (!out->bad[origin[k]])
      out->bad[origin[k]] = 3;
  memmove(out->b + s, out->b + s + l, on - s - l);
  out->n = on - l;
  out->cut_at = s;
  out->cut_len = l;
  free(kind);
  free(origin);
}

static void damaged_free(damaged *d)
{
  free(d->b);
  free(d->bad);
}

#define DAMAGE_SEEDS 20
/* Seeds whose damaged bytes also go through the frame reader (all: the videos are small). */
#define DAMAGE_READER_SEEDS DAMAGE_SEEDS

static void damage_file(const char *ts)
{
  json_t *pj = load_probe(ts);
  size_t n, nw, no, tot_intact = 0, tot_rec = 0, tot_spurious = 0, tot_spurious_ck = 0;
  uint8_t *buf = load_ts(ts, &n);
  wpid w[8];
  owned *o = walk_klv(buf, n, pj, w, &nw, &no);
  klist clean = {0};
  vg_fmv_demux *d = demux_all(buf, n, 0, NULL, &clean);
  vg_klv_decoder *dec = NULL;
  double worst = 1.0;
  uint64_t tot_cc = 0, tot_sync = 0, tot_pes = 0;
  assert_int_equal(vg_klv_decoder_new(&dec, NULL), VG_OK);
  /* The walker agrees with the analysis and with the clean demultiplex, byte for byte. */
  for (size_t k = 0; k < nw; k++) {
    json_t *js = analysis_stream(pj, w[k].pid);
    size_t c = 0;
    for (size_t i = 0; i < no; i++)
      c += o[i].pid == w[k].pid;
    assert_int_equal(c, json_integer_value(json_object_get(js, "klv_packets")));
  }
  assert_int_equal(clean.n, no);
  for (size_t k = 0; k < nw; k++) {
    size_t j = 0;
    for (size_t i = 0; i < clean.n; i++) {
      if (clean.v[i].pid != w[k].pid)
        continue;
      while (j < no && o[j].pid != w[k].pid)
        j++;
      assert_true(j < no);
      assert_int_equal(clean.v[i].n, o[j].n);
      assert_memory_equal(clean.v[i].b, o[j].b, o[j].n);
      j++;
    }
  }
  vg_fmv_demux_free(d);

  for (uint64_t seed = 1; seed <= DAMAGE_SEEDS; seed++) {
    damaged dm;
    klist rec = {0};
    uint64_t rng = seed ^ 0xD1B54A32D192ED03ULL;
    size_t intact = 0, got = 0, spurious = 0, spurious_ck = 0;
    uint8_t *used;
    const vg_fmv_demux_stats *ds;
    make_damage(buf, n, seed, &dm);
    d = demux_all(dm.b, dm.n, 4096, &rng, &rec);
    ds = vg_fmv_demux_stats_get(d);
    used = calloc(rec.n + 1, 1);
    assert_non_null(used);
    for (size_t i = 0; i < no; i++) {
      int ok = 1;
      size_t r;
      for (size_t j = 0; j < o[i].npk && ok; j++)
        ok = !dm.bad[o[i].pk[j]];
      if (!ok)
        continue;
      intact++;
      for (r = 0; r < rec.n; r++)
        if (!used[r] && rec.v[r].pid == o[i].pid && rec.v[r].n == o[i].n && !memcmp(rec.v[r].b, o[i].b, o[i].n)) {
          used[r] = 1;
          got++;
          break;
        }
      if (r == rec.n) {
        /* Say where it was and what was damaged near it, to tell a loss of the demultiplexer's from bad luck. */
        print_message("%s seed %llu: intact packet %zu (PID 0x%X, TS packets %u..%u) not recovered; damage near it:",
                      ts, (unsigned long long)seed, i, o[i].pid, o[i].pk[0], o[i].pk[o[i].npk - 1]);
        for (size_t t = 0; t < n / TSP; t++)
          if (dm.bad[t] && t + 40 >= o[i].pk[0] && t <= o[i].pk[o[i].npk - 1] + 40)
            print_message(" %zu(%s, PID 0x%X)", t, dm.bad[t] == 1 ? "flip" : dm.bad[t] == 2 ? "drop" : "cut",
                          ((buf[t * TSP + 1] & 0x1F) << 8) | buf[t * TSP + 2]);
        print_message("\n");
      }
    }
    /* Recovered packets that are no clean packet: damaged ones the decoder still framed. */
    for (size_t r = 0; r < rec.n; r++) {
      int same = 0;
      if (used[r])
        continue;
      for (size_t i = 0; i < no && !same; i++)
        same = rec.v[r].pid == o[i].pid && rec.v[r].n == o[i].n && !memcmp(rec.v[r].b, o[i].b, o[i].n);
      if (!same) {
        const vg_klv_packet *p;
        size_t u;
        spurious++;
        if (vg_klv_decode(dec, &p, rec.v[r].b, rec.v[r].n, &u) == VG_OK && p->cksum == VG_KLV_CK_VALID)
          spurious_ck++;
      }
    }
    print_message("%s seed %2llu: %zu flipped, %zu dropped, cut %zu bytes at %zu; intact %zu/%zu, recovered %zu "
                  "(%.3f); other packets %zu (%zu with a valid checksum); cc %llu sync %llu pes_bad %llu junk %llu\n",
                  ts, (unsigned long long)seed, dm.flips, dm.drops, dm.cut_len, dm.cut_at, intact, no, got,
                  intact ? (double)got / (double)intact : 1.0, spurious, spurious_ck,
                  (unsigned long long)ds->cc_errors, (unsigned long long)ds->sync_losses,
                  (unsigned long long)ds->pes_bad, (unsigned long long)ds->junk_bytes);
    /* The damage is seen. */
    assert_true(ds->cc_errors || ds->sync_losses || ds->pes_bad);
    assert_true(vg_fmv_demux_damaged(d));
    tot_cc += ds->cc_errors;
    tot_sync += ds->sync_losses;
    tot_pes += ds->pes_bad;
    tot_intact += intact;
    tot_rec += got;
    tot_spurious += spurious;
    tot_spurious_ck += spurious_ck;
    if (intact && (double)got / (double)intact < worst)
      worst = (double)got / (double)intact;
    if (seed <= DAMAGE_READER_SEEDS) {
      /* The reader gets through the same bytes and still yields pictures. */
      frun fr;
      read_frames(dm.b, dm.n, NULL, &fr);
      if (fr.last_rc != VG_E_TRUNCATED)
        fail_msg("%s seed %llu: reader stopped with %s: %s", ts, (unsigned long long)seed, vg_err_name(fr.last_rc),
                 vg_error_last());
      assert_true(fr.n > 0);
      assert_true(fr.damaged);
      print_message("%s seed %2llu: reader: %zu frames, %llu decode errors\n", ts, (unsigned long long)seed, fr.n,
                    (unsigned long long)fr.decode_errors);
      free(fr.f);
    }
    free(used);
    vg_fmv_demux_free(d);
    klist_free(&rec);
    damaged_free(&dm);
  }
  print_message("%s: %d seeds: intact KLV packets %zu, recovered byte-identical %zu (%.4f, worst seed %.3f); "
                "other packets %zu (%zu with a valid checksum); cc errors %llu, sync losses %llu, bad PES %llu\n",
                ts, DAMAGE_SEEDS, tot_intact, tot_rec, tot_intact ? (double)tot_rec / (double)tot_intact : 1.0,
                worst, tot_spurious, tot_spurious_ck, (unsigned long long)tot_cc, (unsigned long long)tot_sync,
                (unsigned long long)tot_pes);
  assert_true(tot_intact > 0);
  assert_true((double)tot_rec >= 0.95 * (double)tot_intact);
  /* No damaged packet passes for a good one (ST 0601 checksum). */
  assert_int_equal(tot_spurious_ck, 0);
  vg_klv_decoder_free(dec);
  klist_free(&clean);
  owned_free(o, no, w, nw);
  free(buf);
  json_decref(pj);
}

static void damage_h264_klv(void **st)
{
  (void)st;
  damage_file("h264_klv.ts");
}

static void damage_h265_tricky(void **st)
{
  (void)st;
  damage_file("h265_tricky_klv.ts");
}

static void damage_aphill(void **st)
{
  (void)st;
  damage_file("aphill_klv_10s.ts");
}

/* ---- 7. any split of the input gives the same packets ---------------------------------- */

static void same_packets(const klist *a, const klist *b, const char *what)
{
  if (a->n != b->n)
    fail_msg("%s: %zu packets against %zu", what, a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    const kpkt *x = &a->v[i], *y = &b->v[i];
    if (x->pid != y->pid || x->pts != y->pts || x->n != y->n || memcmp(x->b, y->b, x->n))
      fail_msg("%s: packet %zu differs (PID 0x%X/0x%X, pts %lld/%lld, %zu/%zu bytes)", what, i, x->pid, y->pid,
               (long long)x->pts, (long long)y->pts, x->n, y->n);
  }
}

static void chunking_invariance(void **st)
{
  size_t n;
  uint8_t *buf = load_ts("h265_tricky_klv.ts", &n);
  klist whole = {0}, bytes = {0}, sevens = {0};
  vg_fmv_demux *d1 = demux_all(buf, n, 0, NULL, &whole);
  vg_fmv_demux *d2 = demux_all(buf, n, 1, NULL, &bytes);
  vg_fmv_demux *d3 = demux_all(buf, n, 7, NULL, &sevens);
  (void)st;
  assert_true(whole.n > 0);
  same_packets(&whole, &bytes, "byte by byte");
  same_packets(&whole, &sevens, "7-byte chunks");
  for (size_t i = 0; i < whole.n; i++) {
    assert_int_equal(whole.v[i].mux_pts, bytes.v[i].mux_pts);
    assert_int_equal(whole.v[i].mux_pts, sevens.v[i].mux_pts);
    assert_int_equal(whole.v[i].ts_offset, bytes.v[i].ts_offset);
    assert_int_equal(whole.v[i].ts_offset, sevens.v[i].ts_offset);
    assert_int_equal(whole.v[i].carriage, bytes.v[i].carriage);
  }
  assert_memory_equal(vg_fmv_demux_stats_get(d1), vg_fmv_demux_stats_get(d2), sizeof(vg_fmv_demux_stats));
  assert_memory_equal(vg_fmv_demux_stats_get(d1), vg_fmv_demux_stats_get(d3), sizeof(vg_fmv_demux_stats));
  print_message("h265_tricky_klv.ts: %zu KLV packets whole, byte by byte and in 7-byte chunks\n", whole.n);
  vg_fmv_demux_free(d1);
  vg_fmv_demux_free(d2);
  vg_fmv_demux_free(d3);
  klist_free(&whole);
  klist_free(&bytes);
  klist_free(&sevens);
  free(buf);
}

/* ---- 8. 192-byte (M2TS) and 204-byte packets -------------------------------------------- */

/* One M2TS or 204-byte version of the stream, fed whole or in chunks: the same packets and counts as 188. */
static void check_size_variant(const klist *ref, vg_fmv_demux *d0, const uint8_t *b, size_t len, unsigned ps,
                               uint64_t *rng)
{
  const vg_fmv_demux_stats *s0 = vg_fmv_demux_stats_get(d0), *s;
  const vg_fmv_stream *ss0, *ss;
  size_t ns0, ns;
  klist got = {0};
  char what[48];
  vg_fmv_demux *d = demux_all(b, len, rng ? 4096 : 0, rng, &got);
  s = vg_fmv_demux_stats_get(d);
  snprintf(what, sizeof what, "%u-byte packets%s", ps, rng ? " in random chunks" : " fed whole");
  same_packets(ref, &got, what);
  assert_int_equal(s->packet_size, ps);
  assert_int_equal(s->ts_packets, s0->ts_packets);
  assert_int_equal(s->klv_packets, s0->klv_packets);
  assert_int_equal(s->bytes, (uint64_t)len);
  if (vg_fmv_demux_damaged(d) || s->junk_bytes) {
    vg_fmv_event ev;
    for (int i = 0; i < 5 && vg_fmv_demux_event(d, &ev); i++)
      print_message("  %s: offset %llu: %s\n", what, (unsigned long long)ev.offset, ev.what);
    fail_msg("%s: damage reported on a clean stream (sync losses %llu, junk %llu, cc %llu, bad PES %llu)", what,
             (unsigned long long)s->sync_losses, (unsigned long long)s->junk_bytes,
             (unsigned long long)s->cc_errors, (unsigned long long)s->pes_bad);
  }
  ss0 = vg_fmv_demux_streams(d0, &ns0);
  ss = vg_fmv_demux_streams(d, &ns);
  assert_int_equal(ns, ns0);
  for (size_t i = 0; i < ns; i++) {
    assert_int_equal(ss[i].pid, ss0[i].pid);
    assert_int_equal(ss[i].carriage, ss0[i].carriage);
    assert_int_equal(ss[i].ts_packets, ss0[i].ts_packets);
    assert_int_equal(ss[i].pes_packets, ss0[i].pes_packets);
    assert_int_equal(ss[i].klv_packets, ss0[i].klv_packets);
    assert_int_equal(ss[i].cksum_ok, ss0[i].cksum_ok);
    assert_int_equal(ss[i].size_min, ss0[i].size_min);
    assert_int_equal(ss[i].size_max, ss0[i].size_max);
  }
  print_message("h264_klv.ts as %s: %zu KLV packets, same as 188\n", what, got.n);
  vg_fmv_demux_free(d);
  klist_free(&got);
}

static void packet_sizes(void **st)
{
  static const unsigned sizes[] = {192, 204};
  size_t n;
  uint8_t *buf = load_ts("h264_klv.ts", &n);
  size_t npk = n / TSP;
  klist ref = {0};
  vg_fmv_demux *d0 = demux_all(buf, n, 0, NULL, &ref);
  (void)st;
  assert_int_equal(vg_fmv_demux_stats_get(d0)->packet_size, TSP);
  assert_true(ref.n > 0);
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    unsigned ps = sizes[z];
    uint8_t *b = malloc(npk * ps);
    uint64_t rng = 0x1234567ULL + ps;
    assert_non_null(b);
    for (size_t i = 0; i < npk; i++) {
      uint8_t *o = b + i * ps;
      if (ps == 192) {
        /* M2TS: 2 copy-permission bits + 30-bit arrival time stamp (27 MHz), then the packet. */
        uint32_t ats = (uint32_t)(i * 27000u * 3u) & 0x3FFFFFFFu;
        o[0] = (uint8_t)(ats >> 24);
        o[1] = (uint8_t)(ats >> 16);
        o[2] = (uint8_t)(ats >> 8);
        o[3] = (uint8_t)ats;
        memcpy(o + 4, buf + i * TSP, TSP);
      } else {
        /* The packet, then 16 parity-like bytes. */
        memcpy(o, buf + i * TSP, TSP);
        for (size_t k = 0; k < 16; k++)
          o[TSP + k] = (uint8_t)xs_next(&rng);
      }
    }
    check_size_variant(&ref, d0, b, npk * ps, ps, NULL);
    check_size_variant(&ref, d0, b, npk * ps, ps, &rng);
    free(b);
  }
  vg_fmv_demux_free(d0);
  klist_free(&ref);
  free(buf);
}

/*
 * Every KLV packet of every file, taken out of the transport stream, decodes
 * and re-encodes to the same bytes: EG 0104 of the real AP Hill clip (16-byte
 * keys, IEEE values), and the ST 0601 v17 packets of the synthetic files.
 */
static void reencode_from_ts(void **st)
{
  static const char *const files[] = {"aphill_klv_10s.ts", "h264_klv.ts", "h265_tricky_klv.ts"};
  vg_klv_decoder *dec = NULL;
  vg_buf out;
  (void)st;
  assert_int_equal(vg_klv_decoder_new(&dec, NULL), VG_OK);
  vg_buf_init(&out, (size_t)1 << 24);
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    size_t n, same = 0;
    uint8_t *buf = load_ts(files[f], &n);
    json_t *pj = load_probe(files[f]), *rates = json_object_get(pj, "klv_rates"), *r;
    const char *key;
    size_t want = 0;
    klist kl = {0};
    vg_fmv_demux *d = demux_all(buf, n, 0, NULL, &kl);
    json_object_foreach(rates, key, r)
      want += (size_t)json_integer_value(json_object_get(r, "klv_packets"));
    for (size_t i = 0; i < kl.n; i++) {
      const vg_klv_packet *p;
      assert_int_equal(vg_klv_decode(dec, &p, kl.v[i].b, kl.v[i].n, NULL), VG_OK);
      vg_buf_reset(&out);
      assert_int_equal(vg_klv_encode(&out, p), VG_OK);
      if (out.len == kl.v[i].n && memcmp(out.data, kl.v[i].b, out.len) == 0)
        same++;
    }
    printf("%s: %zu of %zu KLV packets re-encode byte for byte\n", files[f], same, kl.n);
    assert_true(want > 0);
    assert_int_equal(kl.n, want);
    assert_int_equal(same, kl.n);
    klist_free(&kl);
    vg_fmv_demux_free(d);
    json_decref(pj);
    free(buf);
  }
  vg_buf_free(&out);
  vg_klv_decoder_free(dec);
}

/*
 * The gray pixels are libswscale's: the first frames of AP Hill (MPEG-2,
 * limited-range 4:2:0) and h264_klv (4:4:4) from the reader equal, byte for
 * byte, what `ffmpeg -pix_fmt gray` writes (ffmpeg is a build dependency).
 */
static void gray_matches_ffmpeg(void **st)
{
  static const char *const files[] = {"aphill_klv_10s.ts", "h264_klv.ts"};
  (void)st;
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    char rel[64], cmd[4096], *path;
    FILE *pp;
    uint8_t *ref;
    size_t nref, n, same = 0, total;
    uint8_t *buf;
    vg_fmv_source *src = NULL;
    vg_fmv_reader *r = NULL;
    vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
    const vg_fmv_frame *f;
    snprintf(rel, sizeof rel, "fmv/%s", files[k]);
    path = VG_REQUIRE_DATA(rel);
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -nostdin -i '%s' -frames:v 1 -pix_fmt gray -f rawvideo - 2>/dev/null", path);
    pp = popen(cmd, "r");
    if (!pp || !(ref = malloc((size_t)1 << 22))) {
      if (getenv("CI") && !strcmp(getenv("CI"), "true"))
        fail_msg("cannot run ffmpeg (a build dependency under CI)");
      printf("ffmpeg not available: gray comparison skipped\n");
      free(path);
      if (pp)
        pclose(pp);
      skip();
    }
    nref = fread(ref, 1, (size_t)1 << 22, pp);
    if (pclose(pp) != 0 || nref == 0) {
      if (getenv("CI") && !strcmp(getenv("CI"), "true"))
        fail_msg("ffmpeg failed on %s", path);
      printf("ffmpeg failed: gray comparison skipped\n");
      free(ref);
      free(path);
      skip();
    }
    buf = load_ts(files[k], &n);
    assert_int_equal(vg_fmv_source_mem(&src, buf, n), VG_OK);
    assert_int_equal(vg_fmv_reader_new(&r, src, &ro), VG_OK);
    assert_int_equal(vg_fmv_reader_next(r, &f), VG_OK);
    total = (size_t)f->width * (size_t)f->height;
    assert_int_equal(nref, total);
    for (int y = 0; y < f->height; y++)
      for (int x = 0; x < f->width; x++)
        same += f->pixels[(size_t)y * f->stride + (size_t)x] == ref[(size_t)y * (size_t)f->width + (size_t)x];
    printf("%s: frame 0 gray %dx%d: %zu of %zu pixels equal to ffmpeg -pix_fmt gray\n", files[k], f->width, f->height,
           same, total);
    assert_int_equal(same, total);
    vg_fmv_reader_free(r);
    vg_fmv_source_free(src);
    free(buf);
    free(ref);
    free(path);
  }
}

int test_fmv_data_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(probe_matches_analysis), cmocka_unit_test(kwiver_h264_klv),
    cmocka_unit_test(kwiver_h265_tricky),     cmocka_unit_test(association_h264_async),
    cmocka_unit_test(association_h265_sync),  cmocka_unit_test(aphill),
    cmocka_unit_test(negative_controls),      cmocka_unit_test(damage_h264_klv),
    cmocka_unit_test(damage_h265_tricky),     cmocka_unit_test(damage_aphill),
    cmocka_unit_test(chunking_invariance),    cmocka_unit_test(packet_sizes),
    cmocka_unit_test(reencode_from_ts),       cmocka_unit_test(gray_matches_ffmpeg),
  };
  return cmocka_run_group_tests_name("fmv.data", tests, NULL, NULL);
}
