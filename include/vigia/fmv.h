/*
 * vigia — full-motion video: STANAG 4609 transport streams, their KLV
 * metadata however it is carried, decoded frames, and the sensor pose that was
 * true when each frame was taken.
 *
 * Three layers, each usable alone:
 *  - a byte source (file, memory, live URL, or the caller's callbacks);
 *  - the TS demultiplexer (vg_fmv_demux): push bytes in, get KLV packets out
 *    with their PID, carriage, PTS and position, plus the stream table and the
 *    damage counts. It does not need libav* and is what `vigia probe` and
 *    `vigia klv FILE.ts` run;
 *  - the frame reader (vg_fmv_reader): libavformat + libavcodec + libswscale
 *    decode the video from the same source while the bytes also go through
 *    the demultiplexer, and every frame comes out with its aligned pose.
 *
 * Times: PTS are 90 kHz ticks unwrapped to 64 bits (33-bit wraps are
 * followed); VG_FMV_NOPTS marks "none". MISP times are microseconds (ST 0603).
 */
#ifndef VIGIA_FMV_H
#define VIGIA_FMV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vigia/klv.h"
#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** "No timestamp". */
#define VG_FMV_NOPTS INT64_MIN

/* ---- byte sources -------------------------------------------------------------------- */

typedef struct vg_fmv_source vg_fmv_source;

/** Callbacks of a caller-made source (convention 7: tests and fuzzers feed memory). */
typedef struct vg_fmv_source_ops {
  /** Reads up to n bytes. @return bytes read (> 0), 0 at the end, or a negative VG_E_*. */
  ssize_t (*read)(void *ctx, uint8_t *buf, size_t n);
  /** Optional (NULL for live input): moves to absolute offset @p off. @return VG_OK or VG_E_*. */
  int (*seek)(void *ctx, uint64_t off);
  /** Optional: total size in bytes, or -1 when unknown. */
  int64_t (*size)(void *ctx);
  /** Optional: releases ctx. */
  void (*close)(void *ctx);
} vg_fmv_source_ops;

/**
 * Opens @p what: a file path, "-" for standard input, or a URL that
 * libavformat's protocols read (udp://, rtp://, tcp://, http://, srt://, ...).
 * rtp:// payloads are taken out of their RTP headers (RFC 3550/2250) so the
 * demultiplexer sees plain TS. *out belongs to the caller.
 */
int vg_fmv_source_open(vg_fmv_source **out, const char *what);
/** A source over @p len bytes at @p buf (borrowed: must outlive the source). Seekable. */
int vg_fmv_source_mem(vg_fmv_source **out, const uint8_t *buf, size_t len);
/** A source over the caller's callbacks; @p name is used in messages (copied). */
int vg_fmv_source_custom(vg_fmv_source **out, const vg_fmv_source_ops *ops, void *ctx, const char *name);
/** Closes and frees @p s (accepts NULL). */
void vg_fmv_source_free(vg_fmv_source *s);
/** @return bytes read (> 0), 0 at the end, or a negative VG_E_*. */
ssize_t vg_fmv_source_read(vg_fmv_source *s, uint8_t *buf, size_t n);
/** @return VG_OK, or VG_E_UNSUPPORTED for a live source. */
int vg_fmv_source_seek(vg_fmv_source *s, uint64_t off);
/** @return the size in bytes, or -1 when unknown (live input). */
int64_t vg_fmv_source_size(vg_fmv_source *s);
/** @return the name given at opening. Borrowed. */
const char *vg_fmv_source_name(const vg_fmv_source *s);
/** @return 1 when the source can seek (files, memory). */
int vg_fmv_source_seekable(const vg_fmv_source *s);

/* ---- transport stream demultiplexer ---------------------------------------------------- */

/** How a stream carries its KLV. */
typedef enum vg_fmv_carriage {
  VG_FMV_CARRIAGE_NONE = 0, /**< not KLV */
  VG_FMV_CARRIAGE_ASYNC,    /**< stream_type 0x06 + `KLVA`, PES stream_id 0xBD (ST 1402 asynchronous) */
  VG_FMV_CARRIAGE_SYNC,     /**< stream_type 0x15 metadata in 5-byte AU cells, PES stream_id 0xFC, PTS */
  VG_FMV_CARRIAGE_HYBRID,   /**< stream_type 0x06 + `KLVA` but PES stream_id 0xFC with PTS (legacy) */
  VG_FMV_CARRIAGE_PES_ID,   /**< no KLV signalling: found by PES stream_id 0xFC/0xBD and the UL in the payload */
  VG_FMV_CARRIAGE__COUNT
} vg_fmv_carriage;

/** @return "async", "sync", "hybrid", "pes_id" or "none". Static. */
const char *vg_fmv_carriage_name(vg_fmv_carriage c);

/** What kind of elementary stream a PID carries. */
typedef enum vg_fmv_es_kind {
  VG_FMV_ES_UNKNOWN = 0, VG_FMV_ES_VIDEO, VG_FMV_ES_AUDIO, VG_FMV_ES_KLV, VG_FMV_ES_DATA
} vg_fmv_es_kind;

/** Most distinct LS versions listed per stream. */
#define VG_FMV_MAX_VERSIONS 8

/** One elementary stream as the PMT declares it and as the demultiplexer saw it. */
typedef struct vg_fmv_stream {
  uint16_t pid;
  uint16_t program;           /**< program_number of the PMT that declares it; 0 when undeclared */
  uint8_t stream_type;        /**< from the PMT (0 when undeclared) */
  uint8_t pes_stream_id;      /**< last PES stream_id seen (0 = none yet) */
  vg_fmv_es_kind kind;
  vg_fmv_carriage carriage;   /**< for KLV streams */
  const char *codec;          /**< "h264", "hevc", "mpeg2video", "aac", "klv", ... or "unknown". Static */
  int klva;                   /**< registration or metadata descriptor says `KLVA` */
  int metadata_descriptor;    /**< PMT has the 0x26 metadata_descriptor */
  int declared;               /**< listed in a PMT */
  uint64_t ts_packets;        /**< TS packets on the PID */
  uint64_t pes_packets;       /**< PES headers seen */
  uint64_t pes_with_pts;
  uint64_t au_cells;          /**< metadata AU cells (sync carriage) */
  uint64_t cc_errors;         /**< continuity counter jumps (lost or duplicated TS packets) */
  uint64_t pes_bad;           /**< PES headers that did not parse, or PES cut short */
  uint64_t klv_packets;       /**< KLV packets delivered */
  uint64_t klv_bad;           /**< KLV packets framed but undecodable (skipped) */
  uint64_t cksum_ok, cksum_bad, cksum_missing;
  uint64_t junk_bytes;        /**< payload bytes that were not KLV */
  uint64_t gap_bytes;         /**< bytes of partial KLV packets dropped at a discontinuity */
  uint32_t size_min, size_max;/**< KLV packet sizes (bytes) */
  int64_t pts_first, pts_last;/**< first and last PTS of the stream's PES (VG_FMV_NOPTS if none) */
  uint64_t time_first_us, time_last_us; /**< precision timestamps (ST 0601 tag 2 / EG 0104) seen; 0 if none */
  uint64_t kinds[VG_KLV_KIND__COUNT];   /**< KLV packets per kind (ST 0601, EG 0104, ...) */
  int versions[VG_FMV_MAX_VERSIONS];    /**< distinct LS versions seen (ST 0601 tag 65), in order */
  uint64_t version_count[VG_FMV_MAX_VERSIONS];
  int nversions;
} vg_fmv_stream;

/** One KLV packet out of the demultiplexer. */
typedef struct vg_fmv_klv {
  const vg_klv_packet *pkt;   /**< borrowed: valid until the next vg_fmv_demux_* call */
  uint16_t pid;
  int stream;                 /**< index into the stream table */
  vg_fmv_carriage carriage;
  int64_t pts;                /**< PTS of the PES the packet starts in, or VG_FMV_NOPTS */
  /**
   * Position in the multiplex, as a time: the DTS (or PTS) of the first video
   * PES of the same program that starts after the PES the packet starts in (a
   * real-time encoder muxes metadata ahead of the frame it describes).
   * Packets without a PTS are held until it is known (at most one video PES);
   * others carry it when it was known as they were handed out. VG_FMV_NOPTS
   * when there is none (no video, end of input).
   */
  int64_t mux_pts;
  uint64_t ts_offset;         /**< byte offset in the input of the TS packet that starts the PES */
  uint64_t seq;               /**< 0-based order of delivery over all PIDs */
} vg_fmv_klv;

/** Whole-multiplex counts. */
typedef struct vg_fmv_demux_stats {
  uint64_t bytes;             /**< bytes fed */
  uint64_t ts_packets;        /**< packets parsed */
  unsigned packet_size;       /**< 188, 192 (M2TS timecode prefix) or 204 (Reed-Solomon); 0 before detection */
  uint64_t sync_losses;       /**< times the 0x47 rhythm broke */
  uint64_t junk_bytes;        /**< bytes skipped to find it again */
  uint64_t tei_packets;       /**< packets flagged transport_error_indicator (skipped) */
  uint64_t cc_errors;         /**< continuity errors on all PIDs */
  uint64_t psi_crc_errors;    /**< PAT/PMT sections with a bad CRC-32 (ignored) */
  uint64_t psi_bad;           /**< PAT/PMT sections that did not parse */
  uint64_t pes_bad;
  uint64_t klv_packets, klv_bad, cksum_bad, cksum_missing;
  uint64_t truncated_bytes;   /**< bytes of an unfinished packet at the end of input */
  int64_t pcr_first, pcr_last;/**< 90 kHz base of the first/last PCR (VG_FMV_NOPTS if none) */
} vg_fmv_demux_stats;

/** A problem the demultiplexer met, with where. */
typedef struct vg_fmv_event {
  uint64_t offset;            /**< byte offset in the input */
  uint16_t pid;               /**< 0x1FFF when not tied to a PID */
  int err;                    /**< VG_E_* (VG_OK for notes such as "resynchronised") */
  char what[160];
} vg_fmv_event;
#define VG_FMV_MAX_EVENTS 1024

typedef struct vg_fmv_demux vg_fmv_demux;

typedef struct vg_fmv_demux_opts {
  int version;                /**< VG_FMV_DEMUX_OPTS_VERSION */
  int strict;                 /**< nonzero: KLV checksum failures are errors (packets skipped, not returned) */
  int keep_unknown;           /**< nonzero: KLV packets with keys vigia does not decode are returned */
} vg_fmv_demux_opts;
#define VG_FMV_DEMUX_OPTS_VERSION 1
#define VG_FMV_DEMUX_OPTS_INIT {VG_FMV_DEMUX_OPTS_VERSION, 0, 0}

/** Maximum PIDs tracked (a TS has 8192; real files use a dozen). */
#define VG_FMV_MAX_STREAMS 64

/** Creates a demultiplexer. *out belongs to the caller. */
int vg_fmv_demux_new(vg_fmv_demux **out, const vg_fmv_demux_opts *opts);
void vg_fmv_demux_free(vg_fmv_demux *d);
/**
 * Pushes input bytes (any split; copied as needed). KLV packets completed by
 * them wait for vg_fmv_demux_next(). @return VG_OK or VG_E_NOMEM / VG_E_LIMIT.
 */
int vg_fmv_demux_feed(vg_fmv_demux *d, const uint8_t *buf, size_t len);
/** Declares the end of input: unfinished PES are flushed, a partial packet is counted. */
void vg_fmv_demux_finish(vg_fmv_demux *d);
/**
 * The next KLV packet, in order of completion. @return VG_OK with *out filled
 * (its packet borrowed until the next call), or VG_E_TRUNCATED when none is waiting.
 */
int vg_fmv_demux_next(vg_fmv_demux *d, vg_fmv_klv *out);
/** The stream table (borrowed; grows as PMTs and PIDs appear). */
const vg_fmv_stream *vg_fmv_demux_streams(const vg_fmv_demux *d, size_t *n);
/** Borrowed running counts. */
const vg_fmv_demux_stats *vg_fmv_demux_stats_get(const vg_fmv_demux *d);
/** Pops the oldest waiting problem. @return 1 with *ev filled, or 0. */
int vg_fmv_demux_event(vg_fmv_demux *d, vg_fmv_event *ev);
/** @return nonzero when anything was damaged (sync, TEI, CC, PSI, PES or KLV). */
int vg_fmv_demux_damaged(const vg_fmv_demux *d);

/* ---- pose time line and alignment ---------------------------------------------------- */

/** How a frame's pose was found. */
typedef enum vg_fmv_align {
  VG_FMV_ALIGN_NONE = 0,      /**< no metadata for this frame */
  VG_FMV_ALIGN_PTS,           /**< metadata PTS bracket the frame PTS: interpolated */
  VG_FMV_ALIGN_PTS_HOLD,      /**< metadata PTS on one side only: nearest packet held */
  VG_FMV_ALIGN_TIMESTAMP,     /**< no PTS: precision timestamps bracket frame time + offset: interpolated */
  VG_FMV_ALIGN_TIMESTAMP_HOLD,/**< as above, one side only */
  VG_FMV_ALIGN_MUX,           /**< neither: nearest packet by position in the multiplex */
  VG_FMV_ALIGN__COUNT
} vg_fmv_align;

/** @return "pts", "pts_hold", "timestamp", "timestamp_hold", "mux" or "none". Static. */
const char *vg_fmv_align_name(vg_fmv_align a);

/** The pose of one frame and how it was obtained. */
typedef struct vg_fmv_frame_meta {
  vg_fmv_align align;
  vg_klv_pose pose;           /**< interpolated (angles wrap-aware); fields valid per pose.present */
  uint16_t pid;               /**< metadata stream used */
  /** Frame time minus the time of the newest packet at or before it, in s (negative: only later packets). */
  double age_s;
  /** Time between the two bracketing packets in s (0 when held). */
  double gap_s;
  double weight;              /**< interpolation weight of the later packet (0..1) */
  uint64_t seq0, seq1;        /**< delivery order of the packets used */
  /** MISP time minus video time, in µs, used by timestamp alignment (0 otherwise). */
  int64_t offset_us;
  int offset_estimated;       /**< 1 when estimated from the multiplex, 0 when given */
} vg_fmv_frame_meta;

typedef struct vg_fmv_timeline vg_fmv_timeline;

typedef struct vg_fmv_timeline_opts {
  int version;                /**< VG_FMV_TIMELINE_OPTS_VERSION */
  int pid;                    /**< metadata PID to follow; -1 picks the first one that carries a pose */
  int have_offset;            /**< nonzero: use offset_us instead of estimating it */
  int64_t offset_us;          /**< MISP time minus video time (µs) for streams without PTS */
  /** Packets farther than this from the frame are not used (s); 0 means VG_FMV_DEFAULT_MAX_AGE_S. */
  double max_age_s;
} vg_fmv_timeline_opts;
#define VG_FMV_TIMELINE_OPTS_VERSION 1
#define VG_FMV_TIMELINE_OPTS_INIT {VG_FMV_TIMELINE_OPTS_VERSION, -1, 0, 0, 0.0}
/**
 * Farthest a packet may be from a frame and still give it a pose. ST 0601
 * packets come at 1-60 Hz; sparse encoders (FFmpeg's Day Flight sample) send
 * a few per minute, so the default is generous and the age is always reported.
 */
#define VG_FMV_DEFAULT_MAX_AGE_S 10.0
/** Packets used to estimate the MISP-to-video offset (median). */
#define VG_FMV_OFFSET_SAMPLES 32
/** Most packets the time line keeps (older ones are dropped once frames pass them). */
#define VG_FMV_TIMELINE_MAX 65536

int vg_fmv_timeline_new(vg_fmv_timeline **out, const vg_fmv_timeline_opts *opts);
void vg_fmv_timeline_free(vg_fmv_timeline *t);
/**
 * Adds a KLV packet (ST 0601 or EG 0104 with a pose; others are ignored, return VG_OK).
 * Items missing from a packet keep their last value (ST 0601 sends changes only).
 */
int vg_fmv_timeline_add(vg_fmv_timeline *t, const vg_fmv_klv *k);
/**
 * Finds the pose at video time @p pts (90 kHz). @return VG_OK (meta->align
 * may still be NONE when nothing is near enough).
 */
int vg_fmv_timeline_at(vg_fmv_timeline *t, int64_t pts, vg_fmv_frame_meta *meta);
/**
 * @return 1 when the time line already holds a packet at or after @p pts, so
 * the pose at @p pts will not change with more input.
 */
int vg_fmv_timeline_covers(const vg_fmv_timeline *t, int64_t pts);
/** Drops packets older than needed for frames at or after @p pts. */
void vg_fmv_timeline_trim(vg_fmv_timeline *t, int64_t pts);
/** @return the PID followed (-1 until chosen) and the offset in use through *offset_us. */
int vg_fmv_timeline_info(const vg_fmv_timeline *t, int64_t *offset_us, int *estimated, size_t *npackets);

/* ---- frame reader -------------------------------------------------------------------- */

/** Pixel layout handed out. */
typedef enum vg_fmv_pixfmt {
  VG_FMV_GRAY8 = 0,           /**< 1 byte per pixel (luma) */
  VG_FMV_RGB24                /**< 3 bytes per pixel */
} vg_fmv_pixfmt;

/** One decoded frame. Everything is borrowed until the next vg_fmv_reader_next(). */
typedef struct vg_fmv_frame {
  int64_t index;              /**< 0-based order of output */
  int64_t pts;                /**< 90 kHz, or VG_FMV_NOPTS */
  double time_s;              /**< seconds from the first frame */
  int width, height;
  vg_fmv_pixfmt fmt;
  const uint8_t *pixels;      /**< rows of stride bytes */
  size_t stride;
  int key_frame;
  int corrupt;                /**< the decoder flagged it (missing references, damaged slice) */
  vg_fmv_frame_meta meta;
} vg_fmv_frame;

typedef struct vg_fmv_reader vg_fmv_reader;

typedef struct vg_fmv_reader_opts {
  int version;                /**< VG_FMV_READER_OPTS_VERSION */
  vg_fmv_pixfmt fmt;
  int decode;                 /**< 0: metadata only (frames come out with no pixels; width and height are the stream's) */
  vg_fmv_timeline_opts timeline;
  vg_fmv_demux_opts demux;
  int threads;                /**< decoder threads; 0 = libavcodec's choice */
} vg_fmv_reader_opts;
#define VG_FMV_READER_OPTS_VERSION 1
#define VG_FMV_READER_OPTS_INIT \
  {VG_FMV_READER_OPTS_VERSION, VG_FMV_GRAY8, 1, VG_FMV_TIMELINE_OPTS_INIT, VG_FMV_DEMUX_OPTS_INIT, 0}
/** Decoded frames held while waiting for the metadata that follows them. */
#define VG_FMV_READER_MAX_QUEUE 64

/**
 * Opens a reader on @p src (borrowed: must outlive the reader; it is read
 * from its current position). Fails with VG_E_NOTFOUND when there is no video stream.
 */
int vg_fmv_reader_new(vg_fmv_reader **out, vg_fmv_source *src, const vg_fmv_reader_opts *opts);
void vg_fmv_reader_free(vg_fmv_reader *r);
/**
 * The next frame in display order. @return VG_OK with *out (borrowed until the
 * next call), VG_E_TRUNCATED at the end, or VG_E_IO / VG_E_NOMEM.
 */
int vg_fmv_reader_next(vg_fmv_reader *r, const vg_fmv_frame **out);
/** The demultiplexer inside (stream table, counts, events). Borrowed. */
vg_fmv_demux *vg_fmv_reader_demux(vg_fmv_reader *r);
/** The time line inside. Borrowed. */
vg_fmv_timeline *vg_fmv_reader_timeline(vg_fmv_reader *r);
/** Video stream facts: codec name (static), size, frame rate (0 when unknown). */
int vg_fmv_reader_video(const vg_fmv_reader *r, const char **codec, int *width, int *height, double *fps);
/** Frames the decoder flagged as corrupt or could not decode, and packets it refused. */
uint64_t vg_fmv_reader_decode_errors(const vg_fmv_reader *r);

/** Writes a frame as PNG (libavcodec's encoder) into @p out. */
int vg_fmv_frame_png(const vg_fmv_frame *f, vg_buf *out);
/** Writes a frame's pose and alignment as one JSON object. */
int vg_fmv_frame_meta_to_json(vg_jw *w, const vg_fmv_frame *f);
/** Writes a pose (present fields only) as one JSON object. */
int vg_fmv_pose_to_json(vg_jw *w, const vg_klv_pose *p);

/* ---- probe --------------------------------------------------------------------------- */

/** What `vigia probe` reports about an input. */
typedef struct vg_fmv_probe {
  char format[32];            /**< "mpegts" (own demux); libavformat's name otherwise */
  int64_t bytes;
  vg_fmv_stream *streams;     /**< owned by the probe */
  size_t nstreams;
  vg_fmv_demux_stats stats;
  uint16_t programs[16];
  size_t nprograms;
  /* video facts from libavformat/libavcodec, for the first video stream */
  char video_codec[32];
  int width, height;
  double fps;
  double duration_s;          /**< from PTS / PCR span; 0 when unknown */
  int64_t video_frames;       /**< -1 unless counted */
  vg_fmv_event *events;       /**< owned: the first problems (at most VG_FMV_MAX_EVENTS) */
  size_t nevents;
  uint64_t events_dropped;
} vg_fmv_probe;

/**
 * Reads the whole source through the demultiplexer (every KLV packet decoded
 * and counted) and asks libavformat for the video facts.
 * @p on_klv, if not NULL, sees each packet. *out's members belong to the caller: vg_fmv_probe_clear().
 */
int vg_fmv_probe_run(vg_fmv_probe *out, vg_fmv_source *src, const vg_fmv_demux_opts *opts,
                     int (*on_klv)(void *ctx, const vg_fmv_klv *k), void *ctx);
void vg_fmv_probe_clear(vg_fmv_probe *p);
/** Writes the probe as JSON. */
int vg_fmv_probe_to_json(vg_jw *w, const vg_fmv_probe *p, const char *name);
/** @return nonzero when the first bytes look like a transport stream (188/192/204). */
int vg_fmv_looks_like_ts(const uint8_t *buf, size_t len);

/* ---- writing (lib/fmv/writer.c): STANAG 4609 transport streams ------------------------ */

/*
 * An MPEG-2 TS with one video stream encoded by libavcodec and one KLV
 * metadata stream (the simulator's output, test fixtures). Deterministic: the
 * same frames and KLV give the same bytes (bit-exact encoder and muxer flags,
 * one encoder thread, no wall-clock anywhere).
 */
typedef struct vg_fmv_writer vg_fmv_writer;

typedef struct vg_fmv_writer_opts {
  int version;       /**< VG_FMV_WRITER_OPTS_VERSION */
  int width, height; /**< even */
  int fps_num, fps_den; /**< frame rate (default 30/1) */
  const char *codec; /**< libavcodec encoder name: "mpeg2video" (default), "libx264", ... */
  int64_t bitrate;   /**< bits/s; 0: constant quality (qscale 4 for MPEG-2) */
  int gop;           /**< frames per group of pictures (0: one second) */
  int klv_sync;      /**< 1: synchronous metadata (stream type 0x15, AU cells); 0: asynchronous KLVA (0x06) */
} vg_fmv_writer_opts;
#define VG_FMV_WRITER_OPTS_VERSION 1
#define VG_FMV_WRITER_OPTS_INIT {VG_FMV_WRITER_OPTS_VERSION, 0, 0, 30, 1, NULL, 0, 0, 0}

/** Creates @p path (a file; "-" is not accepted). @p *out belongs to the caller (vg_fmv_writer_close). */
int vg_fmv_writer_open(vg_fmv_writer **out, const char *path, const vg_fmv_writer_opts *o);
/**
 * Appends frame number n (0, 1, ...: PTS = n / fps) from RGB24 pixels
 * (@p stride bytes per row), with @p klv_len bytes of KLV (one or more whole
 * packets, may be 0) stamped with the frame's PTS.
 */
int vg_fmv_writer_frame(vg_fmv_writer *w, const uint8_t *rgb, size_t stride, const uint8_t *klv,
                        size_t klv_len);
/** Flushes the encoder, writes the trailer and frees @p w (also on error); NULL is a no-op. */
int vg_fmv_writer_close(vg_fmv_writer *w);

#ifdef __cplusplus
}
#endif
#endif
