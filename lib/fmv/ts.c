/*
 * MPEG-2 transport stream demultiplexer for the metadata path (ISO/IEC
 * 13818-1, MISB ST 1402 / STANAG 4609 carriage). It finds KLV however it is
 * carried, reassembles it whole, and keeps going through damage. It does not
 * reassemble video: video PES headers are read only for their timestamps.
 *
 * Transport packet (188 bytes; 192 with a 4-byte M2TS time code before it;
 * 204 with 16 Reed-Solomon bytes after it):
 *
 *   byte 0    sync 0x47
 *   byte 1    TEI(1) PUSI(1) priority(1) PID[12:8](5)
 *   byte 2    PID[7:0]
 *   byte 3    scrambling(2) adaptation_field_control(2) continuity_counter(4)
 *   [adaptation field: length(1), flags(1) discontinuity(0x80) PCR(0x10), PCR 6 bytes ...]
 *   payload
 *
 * PSI section (PAT table_id 0x00 on PID 0, PMT table_id 0x02):
 *   table_id(8) syntax(1) 0(1) reserved(2) section_length(12) ... CRC_32(32)
 *   PAT entries: program_number(16) reserved(3) PID(13)
 *   PMT: program_number(16) ver(8) sec(8) last(8) reserved(3) PCR_PID(13)
 *        reserved(4) program_info_length(12) descriptors
 *        { stream_type(8) reserved(3) PID(13) reserved(4) ES_info_length(12) descriptors }
 *   descriptors used: 0x05 registration (format_identifier "KLVA"),
 *   0x26 metadata_descriptor (application format(16) [id(32) if 0xFFFF],
 *   metadata_format(8) [format_identifier(32) if 0xFF], ...), 0x27 metadata_STD.
 *
 * PES: 00 00 01 stream_id(8) PES_packet_length(16) then, for the stream ids
 * that have it, '10' flags(14) header_data_length(8) [PTS 5 bytes] [DTS 5 bytes] ...
 *   KLV uses stream_id 0xBD (private_stream_1, asynchronous) or 0xFC
 *   (metadata_stream, synchronous); PES_packet_length 0 means "unbounded".
 *
 * Metadata AU cell (13818-1 §2.12.4), the payload of stream_type 0x15 PES:
 *   metadata_service_id(8) sequence_number(8) cell_fragment_indication(2)
 *   decoder_config_flag(1) random_access_indicator(1) reserved(4)
 *   AU_cell_data_length(16) then the data. Cells never span PES.
 *
 * Damage policy: a lost or duplicated TS packet (continuity counter), a TEI
 * flag, a broken sync rhythm, a PES cut short or a PSI section with a bad
 * CRC is counted and reported with its byte offset; the KLV scanner of the
 * PID is told of the gap so that the partial packet is dropped and the next
 * whole one is found again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmv_int.h"
#include "util/rd.h"

#define TS_SYNC 0x47
#define TS_PKT 188
#define TS_PID_PAT 0x0000
#define TS_PID_NULL 0x1FFF
#define TS_NPIDS 8192
/* Input staged per call: sync search needs a few packets of look-ahead. */
#define TS_STAGE ((size_t)256 << 10)
/* Packets whose sync bytes must line up before the packet size is trusted. */
#define TS_SYNC_CONFIRM 4
/* ISO 13818-1 §2.4.4: a section is at most 1024 bytes (PAT/PMT), 4096 for private ones. */
#define TS_SECTION_MAX 4096
/* PES header: 9 fixed bytes + header_data_length (8 bits). */
#define TS_PES_HDR_MAX (9 + 255)
/* PES starts remembered per KLV PID to give each KLV packet its PTS. */
#define TS_MARKS 64
/* Packets waiting for the next video PES (their multiplex time) before they are handed out. */
#define TS_OUTQ_MAX 4096
/* PIDs with state (PAT, PMTs and elementary streams). */
#define TS_MAX_PIDSTATE (VG_FMV_MAX_STREAMS + 32)

enum { PID_NONE = 0, PID_PAT, PID_PMT, PID_ES };

typedef struct mark {
  uint64_t fed;   /* scanner stream offset where the PES payload starts */
  int64_t pts;
  int64_t mux;    /* DTS of the first video PES of the program that starts after this PES */
  uint64_t ts_off;
} mark;

typedef struct pidst {
  uint16_t pid;
  uint8_t role;
  int stream;         /* index in the stream table, -1 for PSI */
  uint16_t program;   /* for PMT PIDs */
  int have_cc;
  uint8_t cc;
  /* PSI section assembly */
  uint8_t *sec;
  size_t sec_len, sec_need;
  int sec_on;
  /* PES state */
  int pes_on;         /* inside a PES whose header is read */
  int pes_klv;        /* that PES goes to the KLV scanner (decided at its start) */
  int pes_skip;       /* ignore payload until the next PUSI */
  uint8_t hdr[TS_PES_HDR_MAX];
  size_t hdr_len;
  int pes_bounded;
  uint64_t pes_left;
  int64_t pes_pts;
  uint64_t pes_off;
  /* KLV */
  int cells;          /* payload is metadata AU cells */
  uint8_t cell_hdr[5];
  size_t cell_hdr_len;
  size_t cell_left;
  vg_klv_scanner *scan;
  uint64_t scan_bad;  /* the scanner's packets_bad already counted */
  uint64_t fed;
  mark marks[TS_MARKS];
  size_t nmarks, mark_head;
} pidst;

typedef struct outent {
  uint8_t *bytes;
  size_t len;
  vg_fmv_klv k;
  uint16_t program;
  int waiting;
} outent;

struct vg_fmv_demux {
  vg_fmv_demux_opts opts;
  uint8_t *stage;
  size_t stage_len;
  uint64_t stage_base;  /* input offset of stage[0] */
  int finished;
  int synced;
  unsigned psize;       /* 188, 192, 204 or 0 while unknown */
  int16_t slot[TS_NPIDS];
  pidst *ps[TS_MAX_PIDSTATE];
  size_t nps;
  uint64_t pid_overflow;
  vg_fmv_stream streams[VG_FMV_MAX_STREAMS];
  size_t nstreams;
  int have_pmt;
  vg_fmv_demux_stats st;
  int64_t ts_ref;
  int have_ts_ref;
  int64_t pcr_ref;
  int have_pcr_ref;
  outent q[TS_OUTQ_MAX];
  size_t q_head, q_n;
  uint64_t seq;
  vg_klv_decoder *dec;
  uint8_t *cur;         /* bytes of the packet handed out last (owned) */
  vg_fmv_event ev[VG_FMV_MAX_EVENTS];
  size_t ev_head, ev_n;
  uint64_t ev_dropped;
};

/* ---- small helpers ---- */

static void event(vg_fmv_demux *d, uint64_t off, uint16_t pid, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void event(vg_fmv_demux *d, uint64_t off, uint16_t pid, int err, const char *fmt, ...)
{
  vg_fmv_event *e;
  va_list ap;
  if (d->ev_n == VG_FMV_MAX_EVENTS) {
    d->ev_head = (d->ev_head + 1) % VG_FMV_MAX_EVENTS;
    d->ev_n--;
    d->ev_dropped++;
  }
  e = &d->ev[(d->ev_head + d->ev_n) % VG_FMV_MAX_EVENTS];
  d->ev_n++;
  e->offset = off;
  e->pid = pid;
  e->err = err;
  va_start(ap, fmt);
  vsnprintf(e->what, sizeof e->what, fmt, ap);
  va_end(ap);
}

int vg_fmv_demux_event(vg_fmv_demux *d, vg_fmv_event *ev)
{
  if (!d->ev_n)
    return 0;
  *ev = d->ev[d->ev_head];
  d->ev_head = (d->ev_head + 1) % VG_FMV_MAX_EVENTS;
  d->ev_n--;
  return 1;
}

int64_t vg__fmv_unwrap(int64_t raw33, int64_t *ref, int *have_ref)
{
  int64_t v = raw33, k;
  if (!*have_ref) {
    *have_ref = 1;
    *ref = raw33;
    return raw33;
  }
  /* nearest raw + k * 2^33 to the reference */
  k = (*ref - raw33 + VG__FMV_PTS_WRAP / 2);
  k = k >= 0 ? k / VG__FMV_PTS_WRAP : -((-k + VG__FMV_PTS_WRAP - 1) / VG__FMV_PTS_WRAP);
  v = raw33 + k * VG__FMV_PTS_WRAP;
  *ref = v;
  return v;
}

const char *vg_fmv_carriage_name(vg_fmv_carriage c)
{
  static const char *const n[] = {"none", "async", "sync", "hybrid", "pes_id"};
  return (unsigned)c < VG_FMV_CARRIAGE__COUNT ? n[c] : "none";
}

const char *vg__fmv_stream_type_codec(uint8_t t, vg_fmv_es_kind *kind)
{
  vg_fmv_es_kind k = VG_FMV_ES_UNKNOWN;
  const char *n = "unknown";
  switch (t) {
  case 0x01: k = VG_FMV_ES_VIDEO; n = "mpeg1video"; break;
  case 0x02: k = VG_FMV_ES_VIDEO; n = "mpeg2video"; break;
  case 0x10: k = VG_FMV_ES_VIDEO; n = "mpeg4"; break;
  case 0x1B: k = VG_FMV_ES_VIDEO; n = "h264"; break;
  case 0x20: k = VG_FMV_ES_VIDEO; n = "h264_mvc"; break;
  case 0x24: k = VG_FMV_ES_VIDEO; n = "hevc"; break;
  case 0x33: k = VG_FMV_ES_VIDEO; n = "vvc"; break;
  case 0x42: k = VG_FMV_ES_VIDEO; n = "cavs"; break;
  case 0xD1: k = VG_FMV_ES_VIDEO; n = "dirac"; break;
  case 0xEA: k = VG_FMV_ES_VIDEO; n = "vc1"; break;
  case 0x03: k = VG_FMV_ES_AUDIO; n = "mp2"; break;
  case 0x04: k = VG_FMV_ES_AUDIO; n = "mp3"; break;
  case 0x0F: k = VG_FMV_ES_AUDIO; n = "aac"; break;
  case 0x11: k = VG_FMV_ES_AUDIO; n = "aac_latm"; break;
  case 0x81: k = VG_FMV_ES_AUDIO; n = "ac3"; break;
  case 0x87: k = VG_FMV_ES_AUDIO; n = "eac3"; break;
  case 0x15: k = VG_FMV_ES_DATA; n = "metadata"; break;
  case 0x06: k = VG_FMV_ES_DATA; n = "private"; break;
  case 0x86: k = VG_FMV_ES_DATA; n = "scte35"; break;
  case 0x0D: k = VG_FMV_ES_DATA; n = "dsmcc"; break;
  default: break;
  }
  if (kind)
    *kind = k;
  return n;
}

/* CRC-32/MPEG-2: poly 0x04C11DB7, init all ones, no reflection; over a whole section it gives 0. */
static uint32_t crc32_mpeg(const uint8_t *p, size_t n)
{
  static uint32_t tab[256];
  static int init;
  uint32_t c = 0xFFFFFFFFu;
  if (!init) { /* idempotent: racing threads write the same table */
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t r = i << 24;
      for (int b = 0; b < 8; b++)
        r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
      tab[i] = r;
    }
    init = 1;
  }
  for (size_t i = 0; i < n; i++)
    c = (c << 8) ^ tab[((c >> 24) ^ p[i]) & 0xFF];
  return c;
}

static int64_t read_ts33(const uint8_t *p)
{
  return ((int64_t)(p[0] & 0x0E) << 29) | ((int64_t)p[1] << 22) | ((int64_t)(p[2] & 0xFE) << 14) |
         ((int64_t)p[3] << 7) | (p[4] >> 1);
}

/* PES stream ids without the optional header (13818-1 Table 2-22 and §2.4.3.7). */
static int sid_has_opt_header(uint8_t sid)
{
  return sid != 0xBC && sid != 0xBE && sid != 0xBF && sid != 0xF0 && sid != 0xF1 && sid != 0xF2 &&
         sid != 0xF8 && sid != 0xFF;
}

/* ---- state ---- */

static pidst *pid_get(vg_fmv_demux *d, uint16_t pid, int create)
{
  pidst *p;
  if (d->slot[pid] >= 0)
    return d->ps[d->slot[pid]];
  if (!create)
    return NULL;
  if (d->nps == TS_MAX_PIDSTATE) {
    d->pid_overflow++;
    return NULL;
  }
  if (!(p = calloc(1, sizeof *p)))
    return NULL;
  p->pid = pid;
  p->stream = -1;
  d->ps[d->nps] = p;
  d->slot[pid] = (int16_t)d->nps++;
  return p;
}

static vg_fmv_stream *stream_of(vg_fmv_demux *d, pidst *p)
{
  return p->stream >= 0 ? &d->streams[p->stream] : NULL;
}

/* Gives an elementary-stream PID its table entry. */
static vg_fmv_stream *stream_add(vg_fmv_demux *d, pidst *p)
{
  vg_fmv_stream *s;
  if (p->stream >= 0)
    return &d->streams[p->stream];
  if (d->nstreams == VG_FMV_MAX_STREAMS) {
    d->pid_overflow++;
    return NULL;
  }
  s = &d->streams[d->nstreams];
  memset(s, 0, sizeof *s);
  s->pid = p->pid;
  s->codec = "unknown";
  s->pts_first = s->pts_last = VG_FMV_NOPTS;
  p->stream = (int)d->nstreams++;
  p->role = PID_ES;
  return s;
}

static int ensure_scanner(vg_fmv_demux *d, pidst *p)
{
  vg_klv_scanner_opts so = VG_KLV_SCANNER_OPTS_INIT;
  if (p->scan)
    return VG_OK;
  so.keep_unknown = d->opts.keep_unknown;
  so.frame_only = 1; /* each packet is decoded once, when it is handed out */
  return vg_klv_scanner_new(&p->scan, &so);
}

int vg_fmv_demux_new(vg_fmv_demux **out, const vg_fmv_demux_opts *opts)
{
  vg_fmv_demux *d = calloc(1, sizeof *d);
  int rc;
  if (!d)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a TS demultiplexer");
  d->opts = opts ? *opts : (vg_fmv_demux_opts)VG_FMV_DEMUX_OPTS_INIT;
  for (size_t i = 0; i < TS_NPIDS; i++)
    d->slot[i] = -1;
  d->st.pcr_first = d->st.pcr_last = VG_FMV_NOPTS;
  if (!(d->stage = malloc(TS_STAGE))) {
    free(d);
    return vg_error_set(VG_E_NOMEM, "cannot allocate the TS staging buffer");
  }
  if ((rc = vg_klv_decoder_new(&d->dec, NULL)) != VG_OK) {
    free(d->stage);
    free(d);
    return rc;
  }
  {
    pidst *pat = pid_get(d, TS_PID_PAT, 1);
    if (!pat) {
      vg_fmv_demux_free(d);
      return vg_error_set(VG_E_NOMEM, "cannot allocate PID state");
    }
    pat->role = PID_PAT;
  }
  *out = d;
  return VG_OK;
}

void vg_fmv_demux_free(vg_fmv_demux *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->nps; i++) {
    vg_klv_scanner_free(d->ps[i]->scan);
    free(d->ps[i]->sec);
    free(d->ps[i]);
  }
  for (size_t i = 0; i < d->q_n; i++)
    free(d->q[(d->q_head + i) % TS_OUTQ_MAX].bytes);
  vg_klv_decoder_free(d->dec);
  free(d->cur);
  free(d->stage);
  free(d);
}

const vg_fmv_stream *vg_fmv_demux_streams(const vg_fmv_demux *d, size_t *n)
{
  *n = d->nstreams;
  return d->streams;
}

const vg_fmv_demux_stats *vg_fmv_demux_stats_get(const vg_fmv_demux *d) { return &d->st; }

int vg_fmv_demux_damaged(const vg_fmv_demux *d)
{
  const vg_fmv_demux_stats *s = &d->st;
  return s->sync_losses || s->tei_packets || s->cc_errors || s->psi_crc_errors || s->psi_bad ||
         s->pes_bad || s->klv_bad || s->cksum_bad || s->truncated_bytes;
}

/* ---- output queue ---- */

static int q_push(vg_fmv_demux *d, const vg_klv_packet *pkt, pidst *p, const mark *m)
{
  int64_t pts = m ? m->pts : VG_FMV_NOPTS;
  uint64_t ts_off = m ? m->ts_off : 0;
  vg_fmv_stream *s = stream_of(d, p);
  outent *e;
  if (d->q_n >= TS_OUTQ_MAX / 2 && d->q[d->q_head].waiting) {
    /* No video PES for a long time: hand the waiting packets out without a multiplex time. */
    for (size_t i = 0; i < d->q_n; i++)
      d->q[(d->q_head + i) % TS_OUTQ_MAX].waiting = 0;
  }
  if (d->q_n == TS_OUTQ_MAX) {
    /* The caller does not drain between feeds: the packet cannot be kept. */
    d->st.klv_bad++;
    event(d, ts_off, p->pid, VG_E_LIMIT, "PID 0x%04X: %d KLV packets waiting to be read: packet dropped", p->pid,
          TS_OUTQ_MAX);
    return VG_OK;
  }
  e = &d->q[(d->q_head + d->q_n) % TS_OUTQ_MAX];
  memset(e, 0, sizeof *e);
  if (!(e->bytes = malloc(pkt->total_len ? pkt->total_len : 1)))
    return vg_error_set(VG_E_NOMEM, "cannot queue a KLV packet of %zu bytes", pkt->total_len);
  memcpy(e->bytes, pkt->bytes, pkt->total_len);
  e->len = pkt->total_len;
  e->k.pid = p->pid;
  e->k.stream = p->stream;
  e->k.carriage = s ? s->carriage : VG_FMV_CARRIAGE_NONE;
  e->k.pts = pts;
  e->k.mux_pts = m ? m->mux : VG_FMV_NOPTS;
  e->k.ts_offset = ts_off;
  e->k.seq = d->seq++;
  e->program = s ? s->program : 0;
  /* Without a PTS the packet's time is its place in the multiplex: wait for the next video PES. */
  e->waiting = pts == VG_FMV_NOPTS && e->k.mux_pts == VG_FMV_NOPTS;
  if (e->waiting) {
    int video = 0;
    for (size_t i = 0; i < d->nstreams; i++)
      if (d->streams[i].kind == VG_FMV_ES_VIDEO &&
          (!e->program || !d->streams[i].program || d->streams[i].program == e->program))
        video = 1;
    e->waiting = video;
  }
  d->q_n++;
  return VG_OK;
}

static void q_release(vg_fmv_demux *d, uint16_t program, int64_t t)
{
  for (size_t i = 0; i < d->q_n; i++) {
    outent *e = &d->q[(d->q_head + i) % TS_OUTQ_MAX];
    if (e->waiting && (!program || !e->program || e->program == program)) {
      e->waiting = 0;
      e->k.mux_pts = t;
    }
  }
}

/*
 * A video PES of a program starts: it is the multiplex time of every KLV PES
 * of the program that started before it and has none yet (packets still
 * being assembled get it through their mark), and of queued packets waiting.
 */
static void mux_time(vg_fmv_demux *d, uint16_t program, int64_t t)
{
  for (size_t i = 0; i < d->nps; i++) {
    pidst *p = d->ps[i];
    const vg_fmv_stream *s = p->stream >= 0 ? &d->streams[p->stream] : NULL;
    if (!s || s->kind != VG_FMV_ES_KLV || (program && s->program && s->program != program))
      continue;
    for (size_t k = p->nmarks; k > 0; k--) {
      mark *m = &p->marks[(p->mark_head + k - 1) % TS_MARKS];
      if (m->mux != VG_FMV_NOPTS)
        break; /* older marks have theirs */
      m->mux = t;
    }
  }
  q_release(d, program, t);
}

static void klv_stats(vg_fmv_demux *d, int stream, const vg_klv_packet *pkt);

int vg_fmv_demux_next(vg_fmv_demux *d, vg_fmv_klv *out)
{
  while (d->q_n) {
    outent *e = &d->q[d->q_head];
    const vg_klv_packet *pkt;
    if (e->waiting && !d->finished)
      return VG_E_TRUNCATED;
    d->q_head = (d->q_head + 1) % TS_OUTQ_MAX;
    d->q_n--;
    free(d->cur);
    d->cur = e->bytes;
    e->bytes = NULL;
    /* The scanner framed these bytes; this is their one decode. */
    if (vg_klv_decode(d->dec, &pkt, d->cur, e->len, NULL) != VG_OK) {
      d->st.klv_bad++;
      if (e->k.stream >= 0 && (size_t)e->k.stream < d->nstreams)
        d->streams[e->k.stream].klv_bad++;
      event(d, e->k.ts_offset, e->k.pid, VG_E_MALFORMED, "PID 0x%04X: KLV packet of %zu bytes skipped: %s",
            e->k.pid, e->len, vg_error_last());
      continue;
    }
    ((vg_klv_packet *)pkt)->offset = (size_t)e->k.ts_offset; /* ours: our decoder's packet */
    klv_stats(d, e->k.stream, pkt);
    *out = e->k;
    out->pkt = pkt;
    return VG_OK;
  }
  return VG_E_TRUNCATED;
}

/* ---- KLV payload ---- */

static void klv_stats(vg_fmv_demux *d, int stream, const vg_klv_packet *pkt)
{
  vg_fmv_stream *s = stream >= 0 && (size_t)stream < d->nstreams ? &d->streams[stream] : NULL;
  const vg_klv_item *ts;
  d->st.klv_packets++;
  if (pkt->cksum == VG_KLV_CK_INVALID)
    d->st.cksum_bad++;
  else if (pkt->cksum == VG_KLV_CK_MISSING)
    d->st.cksum_missing++;
  if (!s)
    return;
  s->klv_packets++;
  if ((unsigned)pkt->kind < VG_KLV_KIND__COUNT)
    s->kinds[pkt->kind]++;
  if (pkt->cksum == VG_KLV_CK_VALID)
    s->cksum_ok++;
  else if (pkt->cksum == VG_KLV_CK_INVALID)
    s->cksum_bad++;
  else if (pkt->cksum == VG_KLV_CK_MISSING)
    s->cksum_missing++;
  if (s->klv_packets == 1 || pkt->total_len < s->size_min)
    s->size_min = (uint32_t)pkt->total_len;
  if (pkt->total_len > s->size_max)
    s->size_max = (uint32_t)pkt->total_len;
  if (pkt->kind == VG_KLV_KIND_ST0601 && pkt->version >= 0) {
    int i;
    for (i = 0; i < s->nversions && s->versions[i] != pkt->version; i++)
      ;
    if (i == s->nversions && s->nversions < VG_FMV_MAX_VERSIONS) {
      s->versions[i] = pkt->version;
      s->nversions++;
    }
    if (i < s->nversions)
      s->version_count[i]++;
  }
  if ((ts = vg_klv_find(&pkt->set, 2)) && ts->type == VG_KLV_T_TIME && ts->v.u) {
    if (!s->time_first_us)
      s->time_first_us = ts->v.u;
    s->time_last_us = ts->v.u;
  }
}

static const mark *mark_for(const pidst *p, uint64_t off)
{
  const mark *best = NULL;
  for (size_t i = 0; i < p->nmarks; i++) {
    const mark *m = &p->marks[(p->mark_head + i) % TS_MARKS];
    if (m->fed <= off)
      best = m;
  }
  return best;
}

/* Takes every packet the scanner of p has completed. */
static int drain(vg_fmv_demux *d, pidst *p)
{
  const vg_klv_packet *pkt;
  vg_fmv_stream *s = stream_of(d, p);
  vg_klv_scan_event sev;
  int rc = VG_OK;
  while (vg_klv_scanner_next(p->scan, &pkt) == VG_OK) {
    const mark *m = mark_for(p, pkt->offset);
    if (d->opts.strict && pkt->cksum != VG_KLV_CK_VALID && pkt->kind == VG_KLV_KIND_ST0601) {
      klv_stats(d, p->stream, pkt); /* counted, not handed out */
      continue;
    }
    rc = q_push(d, pkt, p, m);
    if (rc != VG_OK)
      break;
  }
  while (vg_klv_scanner_event(p->scan, &sev)) {
    const mark *m = mark_for(p, sev.offset);
    event(d, m ? m->ts_off : 0, p->pid, sev.err, "PID 0x%04X: %s", p->pid, sev.what);
  }
  if (s) {
    const vg_klv_scan_stats *ss = vg_klv_scanner_stats(p->scan);
    d->st.klv_bad += ss->packets_bad - p->scan_bad;
    s->klv_bad += ss->packets_bad - p->scan_bad;
    p->scan_bad = ss->packets_bad;
    s->junk_bytes = ss->bytes_junk;
    s->gap_bytes = ss->gap_bytes;
  }
  return rc;
}

static int klv_feed(vg_fmv_demux *d, pidst *p, const uint8_t *b, size_t n)
{
  int rc;
  if (!n)
    return VG_OK;
  if ((rc = vg_klv_scanner_feed(p->scan, b, n)) != VG_OK)
    return rc;
  p->fed += n;
  return drain(d, p);
}

static void klv_gap(vg_fmv_demux *d, pidst *p)
{
  if (!p->scan)
    return;
  drain(d, p);
  vg_klv_scanner_gap(p->scan);
  drain(d, p);
}

/* Hands PES payload bytes of a KLV PID to its scanner, through AU cells when it has them. */
static int klv_payload(vg_fmv_demux *d, pidst *p, const uint8_t *b, size_t n)
{
  vg_fmv_stream *s = stream_of(d, p);
  int rc = VG_OK;
  if (!p->cells)
    return klv_feed(d, p, b, n);
  while (n && rc == VG_OK) {
    if (p->cell_hdr_len < 5) {
      size_t k = 5 - p->cell_hdr_len;
      if (k > n)
        k = n;
      memcpy(p->cell_hdr + p->cell_hdr_len, b, k);
      p->cell_hdr_len += k;
      b += k;
      n -= k;
      if (p->cell_hdr_len == 5) {
        p->cell_left = ((size_t)p->cell_hdr[3] << 8) | p->cell_hdr[4];
        if (s)
          s->au_cells++;
        if (!p->cell_left)
          p->cell_hdr_len = 0;
      }
      continue;
    }
    {
      size_t k = p->cell_left < n ? p->cell_left : n;
      rc = klv_feed(d, p, b, k);
      b += k;
      n -= k;
      p->cell_left -= k;
      if (!p->cell_left)
        p->cell_hdr_len = 0;
    }
  }
  return rc;
}

/* ---- PES ---- */

/* Decides what a PID with a PES but no KLV signalling carries, from its first payload bytes. */
static void classify_payload(vg_fmv_demux *d, pidst *p, vg_fmv_stream *s, uint8_t sid, const uint8_t *pl, size_t n)
{
  static const uint8_t ul[4] = {0x06, 0x0E, 0x2B, 0x34};
  int plain = n >= 4 && memcmp(pl, ul, 4) == 0;
  int celled = n >= 9 && memcmp(pl + 5, ul, 4) == 0;
  (void)d;
  if (s->kind == VG_FMV_ES_KLV)
    return;
  if ((sid == 0xBD || sid == 0xFC || s->stream_type == 0x15 || s->stream_type == 0x06) && (plain || celled)) {
    s->kind = VG_FMV_ES_KLV;
    s->codec = "klv";
    s->carriage = VG_FMV_CARRIAGE_PES_ID;
    p->cells = !plain && celled;
    return;
  }
  if (!s->declared && sid >= 0xE0 && sid <= 0xEF) {
    s->kind = VG_FMV_ES_VIDEO;
    s->codec = "video";
  } else if (!s->declared && sid >= 0xC0 && sid <= 0xDF) {
    s->kind = VG_FMV_ES_AUDIO;
    s->codec = "audio";
  } else if (s->kind == VG_FMV_ES_UNKNOWN) {
    s->kind = VG_FMV_ES_DATA;
  }
}

/* Called once the whole PES header is in p->hdr. */
static int pes_header_done(vg_fmv_demux *d, pidst *p, uint64_t off)
{
  vg_fmv_stream *s = stream_of(d, p);
  vg_rd r;
  uint8_t sid;
  uint16_t plen;
  int64_t pts = VG_FMV_NOPTS, dts = VG_FMV_NOPTS;
  rd_init(&r, p->hdr, p->hdr_len);
  if (rd_uint_be(&r, 3) != 1) {
    d->st.pes_bad++;
    if (s)
      s->pes_bad++;
    event(d, off, p->pid, VG_E_MALFORMED, "PID 0x%04X: payload unit does not start with a PES start code", p->pid);
    p->pes_skip = 1;
    return VG_OK;
  }
  sid = rd_u8(&r);
  plen = rd_u16be(&r);
  if (sid_has_opt_header(sid) && p->hdr_len >= 9) {
    uint8_t f2;
    (void)rd_u8(&r);
    f2 = rd_u8(&r);
    (void)rd_u8(&r);
    if ((f2 & 0x80) && rd_left(&r) >= 5)
      pts = read_ts33(rd_bytes(&r, 5));
    if ((f2 & 0xC0) == 0xC0 && rd_left(&r) >= 5)
      dts = read_ts33(rd_bytes(&r, 5));
  }
  if (pts != VG_FMV_NOPTS)
    pts = vg__fmv_unwrap(pts, &d->ts_ref, &d->have_ts_ref);
  if (dts != VG_FMV_NOPTS)
    dts = vg__fmv_unwrap(dts, &d->ts_ref, &d->have_ts_ref);
  p->pes_on = 1;
  p->pes_pts = pts;
  p->pes_off = off;
  p->pes_bounded = plen != 0;
  p->pes_left = plen >= p->hdr_len - 6 ? plen - (p->hdr_len - 6) : 0;
  if (p->pes_bounded && plen < p->hdr_len - 6) {
    d->st.pes_bad++;
    if (s)
      s->pes_bad++;
    event(d, off, p->pid, VG_E_MALFORMED, "PID 0x%04X: PES length %u shorter than its header", p->pid, plen);
    p->pes_skip = 1;
    return VG_OK;
  }
  if (s) {
    s->pes_packets++;
    s->pes_stream_id = sid;
    if (pts != VG_FMV_NOPTS) {
      s->pes_with_pts++;
      if (s->pts_first == VG_FMV_NOPTS)
        s->pts_first = pts;
      s->pts_last = pts;
    }
    if (s->kind == VG_FMV_ES_VIDEO && (dts != VG_FMV_NOPTS || pts != VG_FMV_NOPTS))
      mux_time(d, s->program, dts != VG_FMV_NOPTS ? dts : pts);
    if (s->kind == VG_FMV_ES_KLV && s->carriage == VG_FMV_CARRIAGE_ASYNC && sid == 0xFC)
      s->carriage = VG_FMV_CARRIAGE_HYBRID;
  }
  return VG_OK;
}

/* Payload of one TS packet on an elementary-stream PID. */
static int es_packet(vg_fmv_demux *d, pidst *p, int pusi, const uint8_t *pl, size_t n, uint64_t off)
{
  vg_fmv_stream *s = stream_of(d, p);
  int is_klv;
  int examine = s && (s->kind == VG_FMV_ES_KLV || s->kind == VG_FMV_ES_DATA || s->kind == VG_FMV_ES_UNKNOWN);
  int rc = VG_OK;
  if (pusi) {
    /* The previous PES ends here. */
    if (p->pes_on && !p->pes_skip && p->pes_klv) {
      if ((p->pes_bounded && p->pes_left) || (p->cells && (p->cell_hdr_len || p->cell_left))) {
        d->st.pes_bad++;
        if (s)
          s->pes_bad++;
        event(d, off, p->pid, VG_E_TRUNCATED, "PID 0x%04X: PES cut short (%llu bytes missing)", p->pid,
              (unsigned long long)p->pes_left);
        klv_gap(d, p);
      }
    }
    p->pes_on = p->pes_skip = p->pes_klv = 0;
    p->hdr_len = 0;
    p->cell_hdr_len = 0;
    p->cell_left = 0;
  } else if (!p->pes_on && p->hdr_len == 0) {
    return VG_OK; /* continuation of a PES whose start we did not see */
  }
  if (p->pes_skip)
    return VG_OK;
  if (!p->pes_on) {
    /* Gather the PES header (it may in theory span TS packets). */
    size_t need = 9, k;
    if (p->hdr_len < 9) {
      k = 9 - p->hdr_len < n ? 9 - p->hdr_len : n;
      memcpy(p->hdr + p->hdr_len, pl, k);
      p->hdr_len += k;
      pl += k;
      n -= k;
    }
    if (p->hdr_len >= 4 && !sid_has_opt_header(p->hdr[3]))
      need = 6;
    else if (p->hdr_len >= 9)
      need = 9 + (size_t)p->hdr[8];
    if (p->hdr_len > need) { /* six-byte header: give back what belongs to the payload */
      size_t extra = p->hdr_len - need;
      pl -= extra;
      n += extra;
      p->hdr_len = need;
    }
    if (p->hdr_len < need) {
      k = need - p->hdr_len < n ? need - p->hdr_len : n;
      memcpy(p->hdr + p->hdr_len, pl, k);
      p->hdr_len += k;
      pl += k;
      n -= k;
    }
    if (p->hdr_len < need) {
      if (p->hdr_len >= 3 && (p->hdr[0] || p->hdr[1] || p->hdr[2] != 1)) {
        pes_header_done(d, p, off); /* reports the bad start code */
        p->pes_skip = 1;
      }
      return VG_OK;
    }
    if ((rc = pes_header_done(d, p, off)) != VG_OK || p->pes_skip)
      return rc;
    s = stream_of(d, p);
    if (examine && s && s->kind != VG_FMV_ES_KLV)
      classify_payload(d, p, s, p->hdr[3], pl, n);
    /* A PMT that re-declares the PID later does not change what this PES is. */
    p->pes_klv = s && s->kind == VG_FMV_ES_KLV;
    if (p->pes_klv) {
      mark *m;
      if ((rc = ensure_scanner(d, p)) != VG_OK)
        return rc;
      if (p->nmarks == TS_MARKS) {
        p->mark_head = (p->mark_head + 1) % TS_MARKS;
        p->nmarks--;
      }
      m = &p->marks[(p->mark_head + p->nmarks++) % TS_MARKS];
      m->fed = p->fed;
      m->pts = p->pes_pts;
      m->mux = VG_FMV_NOPTS;
      m->ts_off = off;
    }
  }
  is_klv = p->pes_klv && p->scan;
  if (!is_klv || !n)
    return VG_OK;
  if (p->pes_bounded) {
    if (n > p->pes_left)
      n = (size_t)p->pes_left; /* the rest of the packet is stuffing past the PES */
    p->pes_left -= n;
  }
  return klv_payload(d, p, pl, n);
}

/* ---- PSI ---- */

static void parse_descriptors(vg_rd *r, size_t len, int *klva, int *mdesc, int *other_reg)
{
  vg_rd dr;
  const uint8_t *b = rd_bytes(r, len);
  if (!b)
    return;
  rd_init(&dr, b, len);
  while (rd_left(&dr) >= 2) {
    uint8_t tag = rd_u8(&dr), dl = rd_u8(&dr);
    const uint8_t *v = rd_bytes(&dr, dl);
    vg_rd vr;
    if (!v)
      break;
    rd_init(&vr, v, dl);
    if (tag == 0x05 && dl >= 4) {
      if (!memcmp(v, "KLVA", 4))
        *klva = 1;
      else if (other_reg)
        *other_reg = 1;
    } else if (tag == 0x26) {
      uint16_t app = rd_u16be(&vr);
      uint8_t fmt;
      *mdesc = 1;
      if (app == 0xFFFF)
        (void)rd_u32be(&vr);
      fmt = rd_u8(&vr);
      if (!vr.err && fmt == 0xFF && rd_left(&vr) >= 4 && !memcmp(rd_ptr(&vr), "KLVA", 4))
        *klva = 1;
    } else if (tag == 0x25 && dl >= 6) { /* metadata_pointer_descriptor */
      if (!memcmp(v + 2, "KLVA", 4) || (dl >= 7 && v[2] == 0xFF && !memcmp(v + 3, "KLVA", 4)))
        *klva = 1;
    }
  }
}

static void pmt_section(vg_fmv_demux *d, pidst *pp, const uint8_t *b, size_t n, uint64_t off)
{
  vg_rd r;
  uint16_t program, pinfo;
  int prog_klva = 0, dummy = 0;
  rd_init(&r, b, n - 4); /* without the CRC */
  (void)rd_bytes(&r, 3);
  program = rd_u16be(&r);
  (void)rd_bytes(&r, 3);
  (void)rd_u16be(&r); /* PCR PID */
  pinfo = rd_u16be(&r) & 0x0FFF;
  if (r.err || pinfo > rd_left(&r)) {
    d->st.psi_bad++;
    event(d, off, pp->pid, VG_E_MALFORMED, "PMT on PID 0x%04X: program info length %u past the section", pp->pid, pinfo);
    return;
  }
  parse_descriptors(&r, pinfo, &prog_klva, &dummy, NULL);
  d->have_pmt = 1;
  while (rd_left(&r) >= 5) {
    uint8_t type = rd_u8(&r);
    uint16_t pid = rd_u16be(&r) & 0x1FFF;
    uint16_t esl = rd_u16be(&r) & 0x0FFF;
    int klva = 0, mdesc = 0, other = 0;
    pidst *p;
    vg_fmv_stream *s;
    if (esl > rd_left(&r)) {
      d->st.psi_bad++;
      event(d, off, pp->pid, VG_E_MALFORMED, "PMT on PID 0x%04X: ES info of PID 0x%04X runs past the section",
            pp->pid, pid);
      return;
    }
    parse_descriptors(&r, esl, &klva, &mdesc, &other);
    if (pid == TS_PID_PAT || pid == TS_PID_NULL)
      continue;
    if (!(p = pid_get(d, pid, 1)) || (p->role != PID_NONE && p->role != PID_ES) || !(s = stream_add(d, p)))
      continue;
    if (s->declared && s->stream_type == type && s->program == program)
      continue; /* repeated PMT */
    s->declared = 1;
    s->program = program;
    s->stream_type = type;
    s->klva = klva;
    s->metadata_descriptor = mdesc;
    s->codec = vg__fmv_stream_type_codec(type, &s->kind);
    if (klva && (type == 0x06 || type == 0x15)) {
      s->kind = VG_FMV_ES_KLV;
      s->codec = "klv";
      s->carriage = type == 0x15 ? VG_FMV_CARRIAGE_SYNC : VG_FMV_CARRIAGE_ASYNC;
      p->cells = type == 0x15;
    } else if (type == 0x06 && other) {
      s->codec = "private";
    }
  }
}

static void pat_section(vg_fmv_demux *d, const uint8_t *b, size_t n, uint64_t off)
{
  vg_rd r;
  rd_init(&r, b, n - 4);
  (void)rd_bytes(&r, 8);
  while (rd_left(&r) >= 4) {
    uint16_t prog = rd_u16be(&r), pid = rd_u16be(&r) & 0x1FFF;
    pidst *p;
    if (!prog || pid == TS_PID_NULL || pid == TS_PID_PAT)
      continue; /* network PID */
    if (!(p = pid_get(d, pid, 1)))
      continue;
    if (p->role == PID_ES) {
      event(d, off, pid, VG_E_MALFORMED, "PAT names PID 0x%04X as a PMT but it carries a stream", pid);
      continue;
    }
    p->role = PID_PMT;
    p->program = prog;
  }
}

static void section_done(vg_fmv_demux *d, pidst *p, uint64_t off)
{
  const uint8_t *b = p->sec;
  size_t n = p->sec_len;
  p->sec_on = 0;
  if (n < 12) { /* 8 header bytes of a long section + CRC */
    d->st.psi_bad++;
    return;
  }
  if (!(b[1] & 0x80)) /* not a long-form section: nothing of ours */
    return;
  if (crc32_mpeg(b, n) != 0) {
    d->st.psi_crc_errors++;
    event(d, off, p->pid, VG_E_CHECKSUM, "PSI section (table 0x%02X) on PID 0x%04X: CRC-32 mismatch, ignored",
          b[0], p->pid);
    return;
  }
  if (!(b[5] & 0x01)) /* current_next_indicator 0: not yet valid */
    return;
  if (p->role == PID_PAT && b[0] == 0x00)
    pat_section(d, b, n, off);
  else if (p->role == PID_PMT && b[0] == 0x02)
    pmt_section(d, p, b, n, off);
}

/* Appends section bytes; completes sections as their lengths are met. Returns bytes used. */
static size_t section_bytes(vg_fmv_demux *d, pidst *p, const uint8_t *b, size_t n, uint64_t off)
{
  size_t used = 0;
  while (p->sec_on && used < n) {
    size_t k;
    if (p->sec_len < 3) {
      p->sec[p->sec_len++] = b[used++];
      if (p->sec_len == 3) {
        p->sec_need = 3 + ((((size_t)p->sec[1] & 0x0F) << 8) | p->sec[2]);
        if (p->sec[0] == 0xFF) { /* stuffing: the rest of the packet is padding */
          p->sec_on = 0;
          return n;
        }
        if (p->sec_need > TS_SECTION_MAX) {
          d->st.psi_bad++;
          event(d, off, p->pid, VG_E_LIMIT, "PSI section on PID 0x%04X announces %zu bytes (max %d)", p->pid,
                p->sec_need, TS_SECTION_MAX);
          p->sec_on = 0;
          return n;
        }
      }
      continue;
    }
    k = p->sec_need - p->sec_len;
    if (k > n - used)
      k = n - used;
    memcpy(p->sec + p->sec_len, b + used, k);
    p->sec_len += k;
    used += k;
    if (p->sec_len == p->sec_need)
      section_done(d, p, off);
  }
  return used;
}

static void psi_packet(vg_fmv_demux *d, pidst *p, int pusi, const uint8_t *pl, size_t n, uint64_t off)
{
  if (!p->sec && !(p->sec = malloc(TS_SECTION_MAX)))
    return;
  if (!pusi) {
    if (p->sec_on)
      section_bytes(d, p, pl, n, off);
    return;
  }
  {
    size_t ptr = pl[0], pos;
    if (1 + ptr > n) {
      d->st.psi_bad++;
      event(d, off, p->pid, VG_E_MALFORMED, "PSI pointer_field %zu past the packet on PID 0x%04X", ptr, p->pid);
      p->sec_on = 0;
      return;
    }
    if (p->sec_on)
      section_bytes(d, p, pl + 1, ptr, off);
    p->sec_on = 0;
    pos = 1 + ptr;
    /* New sections, back to back, until stuffing or the end of the packet. */
    while (pos < n && pl[pos] != 0xFF) {
      p->sec_on = 1;
      p->sec_len = 0;
      pos += section_bytes(d, p, pl + pos, n - pos, off);
      if (p->sec_on)
        break; /* continues in the next packet */
    }
  }
}

/* ---- transport packets ---- */

static void ts_packet(vg_fmv_demux *d, const uint8_t *b, uint64_t off)
{
  uint16_t pid = (uint16_t)(((b[1] & 0x1F) << 8) | b[2]);
  int pusi = (b[1] & 0x40) != 0, afc = (b[3] >> 4) & 3, disc = 0;
  uint8_t cc = b[3] & 0x0F;
  size_t pos = 4;
  pidst *p;
  d->st.ts_packets++;
  if (b[1] & 0x80) {
    /* transport_error_indicator: the header itself may be wrong; skip the packet. */
    d->st.tei_packets++;
    event(d, off, pid, VG_E_CHECKSUM, "TS packet at offset %llu flagged transport error: skipped",
          (unsigned long long)off);
    return;
  }
  if (pid == TS_PID_NULL)
    return;
  if (afc & 2) {
    size_t al = b[4];
    if (al > 183 || (al > 182 && (afc & 1))) {
      p = pid_get(d, pid, 0);
      event(d, off, pid, VG_E_MALFORMED, "TS packet at offset %llu: adaptation field of %zu bytes: skipped",
            (unsigned long long)off, al);
      d->st.pes_bad++;
      if (p && p->scan)
        klv_gap(d, p);
      return;
    }
    if (al >= 1) {
      disc = (b[5] & 0x80) != 0;
      if ((b[5] & 0x10) && al >= 7) {
        int64_t pcr = ((int64_t)b[6] << 25) | ((int64_t)b[7] << 17) | ((int64_t)b[8] << 9) |
                      ((int64_t)b[9] << 1) | (b[10] >> 7);
        pcr = vg__fmv_unwrap(pcr, &d->pcr_ref, &d->have_pcr_ref);
        if (d->st.pcr_first == VG_FMV_NOPTS)
          d->st.pcr_first = pcr;
        d->st.pcr_last = pcr;
      }
    }
    pos = 5 + al;
  }
  p = pid_get(d, pid, 0);
  if (!p) {
    /* Undeclared PID: worth a state only when it starts a PES (found by stream id). */
    if (!(afc & 1) || !pusi || pos + 4 > TS_PKT || b[pos] || b[pos + 1] || b[pos + 2] != 1)
      return;
    if (!(p = pid_get(d, pid, 1)) || !stream_add(d, p))
      return;
  }
  if (p->stream >= 0)
    d->streams[p->stream].ts_packets++;
  if (!(afc & 1))
    return;
  /* Continuity: +1 per packet with payload; one duplicate is allowed (13818-1 §2.4.3.3). */
  if (p->have_cc && !disc) {
    if (cc == p->cc)
      return; /* duplicate */
    if (cc != ((p->cc + 1) & 0x0F)) {
      d->st.cc_errors++;
      if (p->stream >= 0)
        d->streams[p->stream].cc_errors++;
      event(d, off, pid, VG_E_TRUNCATED, "PID 0x%04X: continuity counter %u after %u at offset %llu: %u packet(s) lost",
            pid, cc, p->cc, (unsigned long long)off, (unsigned)((cc - p->cc - 1) & 0x0F));
      if (p->role == PID_PAT || p->role == PID_PMT) {
        p->sec_on = 0;
      } else if (p->pes_on || p->hdr_len) {
        if (p->pes_klv) {
          klv_gap(d, p);
          /* The byte counts of this PES no longer hold; AU cell framing is lost until the next PES. */
          p->pes_bounded = 0;
          if (p->cells)
            p->pes_skip = 1;
        }
        if (!p->pes_on)
          p->hdr_len = 0, p->pes_skip = 1;
      }
    }
  }
  p->have_cc = 1;
  p->cc = cc;
  if (pos >= TS_PKT)
    return;
  if (p->role == PID_PAT || p->role == PID_PMT)
    psi_packet(d, p, pusi, b + pos, TS_PKT - pos, off);
  else
    es_packet(d, p, pusi, b + pos, TS_PKT - pos, off);
}

/* Offset of the sync byte inside a unit of the given size. */
static size_t sync_off(unsigned psize) { return psize == 192 ? 4 : 0; }

/* Does the sync rhythm of packet size s hold at sync position q for `count` packets? */
static int rhythm(const uint8_t *b, size_t len, size_t q, unsigned s, int count)
{
  for (int i = 0; i < count; i++) {
    size_t at = q + (size_t)i * s;
    if (at >= len || b[at] != TS_SYNC)
      return 0;
  }
  return 1;
}

int vg_fmv_looks_like_ts(const uint8_t *buf, size_t len)
{
  static const unsigned sizes[] = {188, 192, 204};
  for (size_t i = 0; i < 3; i++) {
    size_t q = sync_off(sizes[i]);
    int need = len >= q + 2 * (size_t)sizes[i] + 1 ? 3 : len >= q + sizes[i] + 1 ? 2 : 1;
    if (len > q && rhythm(buf, len, q, sizes[i], need))
      return 1;
  }
  return 0;
}

/* Processes the staged bytes; keeps what cannot be judged yet. */
static void process(vg_fmv_demux *d)
{
  static const unsigned sizes[] = {188, 192, 204};
  size_t pos = 0, len = d->stage_len;
  const uint8_t *b = d->stage;
  for (;;) {
    size_t left = len - pos;
    if (!d->psize) {
      /* Find the packet size: sync bytes lined up TS_SYNC_CONFIRM times (fewer at the end of input). */
      size_t found = SIZE_MAX;
      for (size_t q = 0; q + 1 <= left && found == SIZE_MAX; q++) {
        if (b[pos + q] != TS_SYNC)
          continue;
        for (size_t i = 0; i < 3; i++) {
          unsigned s = sizes[i];
          int need = TS_SYNC_CONFIRM;
          if (d->finished) {
            size_t fit = (left - q + s - 1) / s;
            if ((size_t)need > fit)
              need = (int)fit;
          } else if (q + (size_t)(TS_SYNC_CONFIRM - 1) * s >= left) {
            continue; /* not enough bytes yet to judge this size */
          }
          if (rhythm(b + pos, left, q, s, need) && q >= sync_off(s)) {
            d->psize = s;
            found = q - sync_off(s);
            break;
          }
        }
        if (!d->psize && !d->finished && q + (size_t)(TS_SYNC_CONFIRM - 1) * 204 >= left)
          break; /* wait for more bytes */
      }
      if (!d->psize) {
        size_t keep = d->finished ? 0 : (left > (size_t)TS_SYNC_CONFIRM * 204 ? (size_t)TS_SYNC_CONFIRM * 204 : left);
        d->st.junk_bytes += left - keep;
        pos += left - keep;
        break;
      }
      d->st.packet_size = d->psize;
      d->st.junk_bytes += found;
      if (found)
        event(d, d->stage_base + pos, TS_PID_NULL, VG_E_MALFORMED, "%zu bytes before the first TS packet skipped", found);
      pos += found;
      d->synced = 1;
      continue;
    }
    {
      unsigned s = d->psize;
      size_t so = sync_off(s);
      if (left < so + TS_PKT || (!d->finished && left < s))
        break; /* partial packet (a 204-byte one includes its 16 check bytes): wait, or at the end count it */
      /*
       * A packet counts when its sync byte is followed by another one 1 or 2
       * packets on (the next packet's own sync byte may be the damaged one).
       * Otherwise it is the fragment a cut left: parsing it would swallow the
       * head of the next whole packet. Near the end of input, what is there.
       */
      if (b[pos + so] == TS_SYNC && !d->synced) {
        /* Out of sync (a candidate the search could not judge yet): the rhythm must hold first. */
        if (left < so + 2 * (size_t)s + 1 && !d->finished)
          break;
        if (!rhythm(b, len, pos + so, s, left >= so + 2 * (size_t)s + 1 ? 3 : left >= so + (size_t)s + 1 ? 2 : 1)) {
          d->st.junk_bytes++;
          pos++;
          continue;
        }
      }
      if (b[pos + so] == TS_SYNC) {
        int next_ok;
        if (left >= so + 2 * (size_t)s + 1)
          next_ok = b[pos + so + s] == TS_SYNC || b[pos + so + 2 * s] == TS_SYNC;
        else if (!d->finished)
          break; /* wait for the look-ahead */
        else
          next_ok = left < so + (size_t)s + 1 || b[pos + so + s] == TS_SYNC;
        if (!next_ok) {
          /*
           * No sync where the next packets should start. The packet is a
           * fragment only if the rhythm starts again less than a packet after
           * it; a whole packet followed by junk is kept.
           */
          size_t q0 = pos + so, lim = q0 + s, q;
          int frag = 0;
          if (!d->finished && lim + 2 * (size_t)s >= len)
            break; /* cannot judge every candidate yet */
          for (q = q0 + 1; q < lim && q < len && !frag; q++) {
            int need = 3;
            if (b[q] != TS_SYNC)
              continue;
            if (q + 2 * (size_t)s >= len)
              need = q + s < len ? 2 : 1;
            frag = rhythm(b, len, q, s, need);
          }
          next_ok = !frag;
        }
        if (next_ok) {
          ts_packet(d, b + pos + so, d->stage_base + pos + so);
          pos += left >= s ? s : left;
          d->synced = 1;
          continue;
        }
      }
      /* Lost the rhythm. A damaged sync byte between good ones: skip one packet. */
      if (b[pos + so] != TS_SYNC && left >= so + 2 * (size_t)s + 1 && b[pos + so + s] == TS_SYNC &&
          b[pos + so + 2 * s] == TS_SYNC) {
        d->st.sync_losses++;
        d->st.junk_bytes += s;
        event(d, d->stage_base + pos, TS_PID_NULL, VG_E_MALFORMED,
              "no sync byte at offset %llu (0x%02X): one packet skipped", (unsigned long long)(d->stage_base + pos),
              b[pos + so]);
        pos += s;
        continue;
      }
      if (!d->finished && left < so + 3 * (size_t)s + 1)
        break; /* need look-ahead */
      {
        size_t q;
        int ok = 0;
        for (q = pos + so + 1; q < len; q++) {
          int need = 3;
          if (b[q] != TS_SYNC)
            continue;
          if (!d->finished && q + 2 * (size_t)s >= len)
            break; /* cannot judge this candidate yet */
          if (d->finished && q + 2 * (size_t)s >= len)
            need = q + s < len ? 2 : 1;
          if (rhythm(b, len, q, s, need)) {
            ok = 1;
            break;
          }
        }
        if (d->synced) {
          d->st.sync_losses++;
          event(d, d->stage_base + pos, TS_PID_NULL, VG_E_MALFORMED, "lost TS sync at offset %llu",
                (unsigned long long)(d->stage_base + pos));
        }
        d->synced = 0;
        {
          /* Skip to the candidate (found, or still to be judged), or past everything. */
          size_t np = q < len ? q - so : len;
          if (np < pos)
            np = pos;
          d->st.junk_bytes += np - pos;
          pos = np;
        }
        if (ok)
          continue;
        break;
      }
    }
  }
  if (d->finished && pos < len) {
    d->st.truncated_bytes += len - pos;
    event(d, d->stage_base + pos, TS_PID_NULL, VG_E_TRUNCATED, "input ends inside a TS packet (%zu bytes)", len - pos);
    pos = len;
  }
  if (pos) {
    memmove(d->stage, d->stage + pos, len - pos);
    d->stage_len = len - pos;
    d->stage_base += pos;
  }
}

int vg_fmv_demux_feed(vg_fmv_demux *d, const uint8_t *buf, size_t len)
{
  d->st.bytes += len;
  while (len) {
    size_t room = TS_STAGE - d->stage_len, k = len < room ? len : room;
    memcpy(d->stage + d->stage_len, buf, k);
    d->stage_len += k;
    buf += k;
    len -= k;
    process(d);
    if (d->stage_len == TS_STAGE) { /* cannot happen: process keeps at most a few packets */
      d->st.junk_bytes += d->stage_len;
      d->stage_base += d->stage_len;
      d->stage_len = 0;
    }
  }
  return VG_OK;
}

void vg_fmv_demux_finish(vg_fmv_demux *d)
{
  if (d->finished)
    return;
  d->finished = 1;
  process(d);
  for (size_t i = 0; i < d->nps; i++) {
    pidst *p = d->ps[i];
    vg_fmv_stream *s = stream_of(d, p);
    if (!p->scan)
      continue;
    if (p->pes_on && !p->pes_skip && p->pes_bounded && p->pes_left && s) {
      d->st.pes_bad++;
      s->pes_bad++;
      event(d, p->pes_off, p->pid, VG_E_TRUNCATED, "PID 0x%04X: input ends inside a PES (%llu bytes missing)",
            p->pid, (unsigned long long)p->pes_left);
    }
    vg_klv_scanner_finish(p->scan);
    drain(d, p);
    if (s)
      d->st.truncated_bytes += vg_klv_scanner_stats(p->scan)->truncated_tail;
  }
}
