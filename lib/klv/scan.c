/*
 * Stream scanner: finds KLV packets in any byte stream (a raw .klv file, the
 * reassembled payload of a TS data PID), and keeps going through damage.
 *
 * In sync, the next bytes must be a packet. Otherwise the scanner searches
 * forward for the SMPTE prefix 06 0E 2B 34 and accepts a candidate only if
 * its key is one vigia decodes (a random 06 0E 2B 34 in garbage followed by
 * nonsense is skipped), counting every byte it passes. A packet whose framing
 * holds but whose value is corrupt is counted and stepped over whole; one
 * whose length is impossible is given up byte by byte. The scanner holds at
 * most one packet (VG_KLV_MAX_VALUE) plus what the caller fed since the last
 * drain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klv_int.h"

/* Cap on the scanner's buffer: one maximal packet, its header, and a resync window of input. */
#define SCAN_BUF_MAX ((size_t)VG_KLV_MAX_VALUE + 32 + VG_KLV_RESYNC_WINDOW)

struct vg_klv_scanner {
  vg_klv_scanner_opts opts;
  vg_klv_decoder *dec;
  vg_buf buf;         /* unconsumed bytes */
  size_t pos;         /* first unconsumed byte of buf */
  uint64_t base;      /* stream offset of buf.data[0] */
  int finished;
  int synced;
  vg_klv_scan_stats st;
  vg_klv_packet fpkt;  /* the packet handed out in frame_only mode */
  vg_klv_scan_event ev[VG_KLV_SCAN_MAX_EVENTS];
  size_t ev_head, ev_n;
  uint64_t ev_dropped;
};

int vg_klv_scanner_new(vg_klv_scanner **out, const vg_klv_scanner_opts *opts)
{
  vg_klv_scanner *s = calloc(1, sizeof *s);
  vg_klv_decoder_opts dopts = VG_KLV_DECODER_OPTS_INIT;
  int rc;
  if (!s)
    return vg_error_set(VG_E_NOMEM, "cannot allocate a KLV scanner");
  s->opts = opts ? *opts : (vg_klv_scanner_opts)VG_KLV_SCANNER_OPTS_INIT;
  dopts.strict = s->opts.strict;
  if ((rc = vg_klv_decoder_new(&s->dec, &dopts)) != VG_OK) {
    free(s);
    return rc;
  }
  vg_buf_init(&s->buf, SCAN_BUF_MAX);
  s->synced = 1; /* trust the first bytes of a stream */
  *out = s;
  return VG_OK;
}

void vg_klv_scanner_free(vg_klv_scanner *s)
{
  if (!s)
    return;
  vg_klv_decoder_free(s->dec);
  vg_buf_free(&s->buf);
  free(s);
}

static void event(vg_klv_scanner *s, uint64_t off, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void event(vg_klv_scanner *s, uint64_t off, int err, const char *fmt, ...)
{
  vg_klv_scan_event *e;
  va_list ap;
  if (s->ev_n == VG_KLV_SCAN_MAX_EVENTS) {
    s->ev_head = (s->ev_head + 1) % VG_KLV_SCAN_MAX_EVENTS;
    s->ev_n--;
    s->ev_dropped++;
  }
  e = &s->ev[(s->ev_head + s->ev_n) % VG_KLV_SCAN_MAX_EVENTS];
  s->ev_n++;
  e->offset = off;
  e->err = err;
  va_start(ap, fmt);
  vsnprintf(e->what, sizeof e->what, fmt, ap);
  va_end(ap);
}

int vg_klv_scanner_event(vg_klv_scanner *s, vg_klv_scan_event *ev)
{
  if (!s->ev_n)
    return 0;
  *ev = s->ev[s->ev_head];
  s->ev_head = (s->ev_head + 1) % VG_KLV_SCAN_MAX_EVENTS;
  s->ev_n--;
  return 1;
}

const vg_klv_scan_stats *vg_klv_scanner_stats(const vg_klv_scanner *s) { return &s->st; }

/* Drops consumed bytes from the front of the buffer. */
static void compact(vg_klv_scanner *s)
{
  if (s->pos == 0)
    return;
  memmove(s->buf.data, s->buf.data + s->pos, s->buf.len - s->pos);
  s->buf.len -= s->pos;
  s->base += s->pos;
  s->pos = 0;
}

int vg_klv_scanner_feed(vg_klv_scanner *s, const uint8_t *buf, size_t len)
{
  compact(s);
  return vg_buf_append(&s->buf, buf, len);
}

void vg_klv_scanner_finish(vg_klv_scanner *s) { s->finished = 1; }

void vg_klv_scanner_gap(vg_klv_scanner *s)
{
  size_t held = s->buf.len - s->pos;
  s->st.gaps++;
  if (held) {
    s->st.gap_bytes += held;
    event(s, s->base + s->pos, VG_E_TRUNCATED,
          "bytes missing after offset %llu: unfinished packet of %zu bytes dropped",
          (unsigned long long)(s->base + s->pos), held);
    s->pos += held;
  }
  /* What follows a gap is most likely the middle of a packet: search, don't trust. */
  s->synced = 0;
}

/* Skips n bytes as junk. */
static void junk(vg_klv_scanner *s, size_t n)
{
  s->pos += n;
  s->st.bytes_junk += n;
}

/*
 * Looks for the next plausible key from pos+from. Returns its index relative
 * to pos, or -1 when there is none in the bytes at hand.
 */
static long find_key(const uint8_t *p, size_t n, size_t from)
{
  for (size_t i = from; i + 4 <= n; i++) {
    if (p[i] == 0x06 && p[i + 1] == 0x0e && p[i + 2] == 0x2b && p[i + 3] == 0x34) {
      if (i + 16 > n)
        return (long)i; /* need more bytes to judge the key */
      if (vg_klv_key_kind(p + i) != VG_KLV_KIND_UNKNOWN)
        return (long)i;
    }
  }
  return -1;
}

/*
 * frame_only: key, BER length, and the checksum of sets that carry one as
 * their last item (tag, length 2, value: ST 0601 tag 1), as vg_klv_decode
 * would judge them, without decoding the items.
 */
static int frame(vg_klv_scanner *s, const uint8_t *p, size_t avail, const vg_klv_packet **out, size_t *consumed)
{
  vg_rd r;
  uint64_t vlen;
  int nonmin, rc;
  vg_klv_packet *k = &s->fpkt;
  const vg__klv_setdef *sd;
  size_t hdr;
  rd_init(&r, p, avail);
  if ((rc = rd_skip(&r, 16)) != VG_OK)
    return vg_error_set(rc, "KLV key cut short");
  if ((rc = rd_ber_len(&r, &vlen, &nonmin)) != VG_OK)
    return vg_error_set(rc, "bad BER length after the key");
  if (vlen > VG_KLV_MAX_VALUE)
    return vg_error_set(VG_E_LIMIT, "value of %llu bytes (max %zu)", (unsigned long long)vlen,
                        (size_t)VG_KLV_MAX_VALUE);
  if (vlen > rd_left(&r))
    return vg_error_set(VG_E_TRUNCATED, "KLV value of %llu bytes, %zu available", (unsigned long long)vlen,
                        rd_left(&r));
  hdr = rd_pos(&r);
  memset(k, 0, sizeof *k);
  k->kind = vg_klv_key_kind(p);
  memcpy(k->key, p, 16);
  k->value_len = vlen;
  k->total_len = hdr + (size_t)vlen;
  k->bytes = p;
  k->version = -1;
  k->set.kind = k->kind;
  if (nonmin)
    k->flags |= VG_KLV_P_NONMIN_LEN;
  sd = k->kind != VG_KLV_KIND_UNKNOWN ? vg__klv_setdef_of(k->kind) : NULL;
  if (sd && sd->cksum_tag && sd->cksum_tag < 128) {
    const uint8_t *e = p + k->total_len;
    if (vlen >= 4 && e[-4] == sd->cksum_tag && e[-3] == 2) {
      k->cksum_stored = (uint16_t)((e[-2] << 8) | e[-1]);
      k->cksum_computed = vg_klv_checksum16(p, k->total_len - 2);
      k->cksum = k->cksum_stored == k->cksum_computed ? VG_KLV_CK_VALID : VG_KLV_CK_INVALID;
    } else {
      k->cksum = VG_KLV_CK_MISSING;
    }
  }
  *out = k;
  *consumed = k->total_len;
  return VG_OK;
}

int vg_klv_scanner_next(vg_klv_scanner *s, const vg_klv_packet **out)
{
  for (;;) {
    const uint8_t *p;
    size_t avail = s->buf.len - s->pos, consumed = 0;
    uint64_t off = s->base + s->pos;
    const vg_klv_packet *pkt;
    int rc, at_key;

    if (avail == 0) /* also before the first feed, when buf.data is still NULL */
      return VG_E_TRUNCATED;
    p = s->buf.data + s->pos;
    at_key = avail >= 4 && memcmp(p, "\x06\x0e\x2b\x34", 4) == 0 &&
             (s->synced || avail < 16 || vg_klv_key_kind(p) != VG_KLV_KIND_UNKNOWN);
    if (!at_key) {
      long k = find_key(p, avail, 1);
      if (k < 0) {
        /* Keep 3 bytes that may begin a key split across feeds. */
        size_t drop = avail > 3 ? avail - 3 : 0;
        if (s->finished)
          drop = avail;
        if (drop) {
          if (s->synced) {
            s->synced = 0;
            s->st.resyncs++;
            event(s, off, VG_E_MALFORMED, "lost sync: no KLV key at offset %llu",
                  (unsigned long long)off);
          }
          junk(s, drop);
        }
        return VG_E_TRUNCATED;
      }
      if (k > 0) {
        if (s->synced) {
          s->st.resyncs++;
          event(s, off, VG_E_MALFORMED, "no KLV key at offset %llu: skipping junk",
                (unsigned long long)off);
        }
        junk(s, (size_t)k);
        s->synced = 0;
        continue;
      }
    }
    if (!s->finished) {
      /*
       * Not decoded until the whole packet is in: a stream fed in small
       * pieces (TS payloads of 184 bytes) would otherwise be decoded, and
       * fail as truncated, once per piece.
       */
      vg_rd r;
      uint64_t vlen;
      int nonmin;
      rd_init(&r, p, avail);
      if (avail < 17 || (rd_skip(&r, 16) == VG_OK && rd_ber_len(&r, &vlen, &nonmin) == VG_E_TRUNCATED) ||
          (r.err == VG_OK && vlen <= VG_KLV_MAX_VALUE && vlen > rd_left(&r))) {
        compact(s);
        return VG_E_TRUNCATED;
      }
    }
    rc = s->opts.frame_only ? frame(s, p, avail, &pkt, &consumed) : vg_klv_decode(s->dec, &pkt, p, avail, &consumed);
    if (rc == VG_OK) {
      vg_klv_packet *mp = (vg_klv_packet *)pkt; /* ours: the decoder belongs to this scanner */
      mp->offset = (size_t)off;
      s->pos += consumed;
      if (pkt->kind == VG_KLV_KIND_UNKNOWN) {
        if (!s->synced) { /* an unknown key while searching is not evidence of sync */
          junk(s, consumed);
          continue;
        }
        s->st.unknown_keys++;
        if (!s->opts.keep_unknown)
          continue;
      } else {
        if (!s->synced)
          event(s, off, VG_OK, "resynchronised at offset %llu", (unsigned long long)off);
        s->synced = 1;
      }
      s->st.packets++;
      if (pkt->cksum == VG_KLV_CK_INVALID) {
        s->st.cksum_bad++;
        event(s, off, VG_E_CHECKSUM, "%s packet at offset %llu: checksum stored 0x%04X, computed 0x%04X%s",
              vg_klv_kind_name(pkt->kind), (unsigned long long)off, pkt->cksum_stored,
              pkt->cksum_computed,
              (pkt->flags & VG_KLV_P_CHECKSUM_PAYLOAD) ? " (matches a payload-only checksum)" : "");
      } else if (pkt->cksum == VG_KLV_CK_MISSING) {
        s->st.cksum_missing++;
        event(s, off, VG_E_CHECKSUM, "%s packet at offset %llu has no checksum",
              vg_klv_kind_name(pkt->kind), (unsigned long long)off);
      }
      *out = pkt;
      return VG_OK;
    }
    if (rc == VG_E_TRUNCATED) {
      if (!s->finished) {
        compact(s);
        return VG_E_TRUNCATED;
      }
      if (s->synced) {
        s->st.truncated_tail += avail;
        event(s, off, VG_E_TRUNCATED, "stream ends inside a packet at offset %llu (%zu bytes): %s",
              (unsigned long long)off, avail, vg_error_last());
        s->pos += avail;
        return VG_E_TRUNCATED;
      }
      /* Not in sync: the candidate may be a false key; look past it. */
      junk(s, 1);
      continue;
    }
    if (consumed > 0 && (rc == VG_E_MALFORMED || rc == VG_E_CHECKSUM || rc == VG_E_LIMIT)) {
      /* The framing holds: step over the whole packet. */
      s->st.packets_bad++;
      event(s, off, rc, "packet at offset %llu skipped: %s", (unsigned long long)off, vg_error_last());
      s->pos += consumed;
      if (s->opts.strict)
        return rc;
      continue;
    }
    if (rc == VG_E_NOMEM)
      return rc;
    /* Impossible length (indefinite, absurd): the key is not a packet. */
    s->st.packets_bad++;
    event(s, off, rc, "packet at offset %llu skipped: %s", (unsigned long long)off, vg_error_last());
    if (s->opts.strict) {
      s->pos += 1;
      return rc;
    }
    s->synced = 0;
    s->st.resyncs++;
    junk(s, 1);
  }
}
