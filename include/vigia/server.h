/*
 * vigia — the sharing server: what leaves for the partner, and the proof of it.
 *
 * The audit chain every release decision goes through (research/sharing.md 4,
 * "Proof"; the file format is docs/formats/audit.md), and the HTTPS server
 * (partner identity by mTLS, one release path on every egress, routes).
 */
#ifndef VIGIA_SERVER_H
#define VIGIA_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "vigia/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the audit chain (lib/server/audit.c) ------------------------------------------------ */

/*
 * An append-only, hash-chained log of release decisions, one JSON object per
 * line. Each entry carries the BLAKE2b-256 hash of a canonical encoding of its
 * fields and of the previous entry's hash; every N entries and at close a
 * checkpoint line signs (seq, hash of entry seq, time) with Ed25519. An offline
 * verifier holding only the public key recomputes every link and signature.
 *
 * Use: call vg_audit_append *before* the bytes leave (write-ahead); when it
 * fails, do not send. Denials are logged too.
 */

/** Bytes of a BLAKE2b-256 digest (entry hashes, the digest of the bytes sent). */
#define VG_AUDIT_HASH_BYTES 32
/** Bytes of an Ed25519 public key. */
#define VG_AUDIT_PUB_BYTES 32
/** Bytes of an Ed25519 secret key file (libsodium's seed || public key form). */
#define VG_AUDIT_SECRET_BYTES 64

/*
 * Limits of the entry strings, in bytes without the NUL. Beyond them append
 * fails with VG_E_LIMIT and verify calls the line malformed. They bound one
 * log line (VG_AUDIT_LINE_MAX); each is generous for what it holds.
 */
#define VG_AUDIT_PRODUCT_MAX 256   /**< product id: a site id, a file name, an OGC feature id */
#define VG_AUDIT_VERSION_MAX 64    /**< product version */
#define VG_AUDIT_MARKING_MAX 511   /**< banner; VG_MARKING_BANNER_MAX (products.h) less its NUL */
#define VG_AUDIT_RECIPIENT_MAX 128 /**< "MEX" or a certificate label with its fingerprint (95 hex+colons) */
#define VG_AUDIT_EGRESS_MAX 32     /**< "export", "ogcapi", "cot", ...: [a-z0-9._-] only */
#define VG_AUDIT_REASON_MAX 1024   /**< why: the release check's own sentence */
#define VG_AUDIT_POLICY_MAX 64     /**< policy version */
/** Longest line the writer produces and the verifier reads (escaped strings + hex + keys < 5 KiB). */
#define VG_AUDIT_LINE_MAX 8192
/** Default checkpoint interval in entries (vg_audit_opts.checkpoint_every). */
#define VG_AUDIT_CHECKPOINT_EVERY 64

/** The decision an entry records. */
typedef enum vg_audit_decision {
  VG_AUDIT_DENY = 0, /**< "deny": nothing left (or the bytes that would have) */
  VG_AUDIT_ALLOW = 1 /**< "allow": the bytes whose digest is recorded were released */
} vg_audit_decision;

/**
 * One release decision. On append the caller fills time_us (0: now), the
 * strings, digest and decision; seq, prev and hash are the library's (ignored
 * on input). In a replay callback every member is set and the strings are
 * borrowed until the callback returns.
 *
 * Strings: valid UTF-8 without control characters (U+0000-U+001F, U+007F-U+009F);
 * product, version, recipient, egress and policy non-empty; marking and
 * reason may be empty (an unmarked product, a denial without words).
 */
typedef struct vg_audit_entry {
  uint64_t seq;        /**< 1, 2, ... without gaps (set by append) */
  int64_t time_us;     /**< UTC microseconds since 1970; >= 0; 0 on append = now */
  const char *product; /**< product id */
  const char *version; /**< product version */
  uint8_t digest[VG_AUDIT_HASH_BYTES]; /**< BLAKE2b-256 of the exact bytes sent (deny: that would have been;
                                            all zero when none were produced): vg_audit_digest */
  const char *marking;   /**< the marking banner of those bytes */
  const char *recipient; /**< "MEX", or a certificate fingerprint label */
  const char *egress;    /**< "export", "ogcapi", "cot", "download", "map", ... */
  vg_audit_decision decision;
  const char *reason; /**< why (the release check's reason) */
  const char *policy; /**< the release policy's version */
  uint8_t prev[VG_AUDIT_HASH_BYTES]; /**< hash of the previous entry, zeros for seq 1 (set by append) */
  uint8_t hash[VG_AUDIT_HASH_BYTES]; /**< BLAKE2b-256 of this entry's canonical encoding (set by append) */
} vg_audit_entry;

/** Options of a writer. */
typedef struct vg_audit_opts {
  /** Write a checkpoint once this many entries are unsigned; 0: only at close and vg_audit_checkpoint. */
  unsigned checkpoint_every;
  /** Nonzero: wait for another writer of the log to close; 0: fail at once with VG_E_DENIED. */
  int wait_lock;
  /**
   * Nonzero: accept entries after the log's last checkpoint (left by a writer
   * that died before signing them) and sign them at the next checkpoint. 0:
   * open refuses such a log with VG_E_DENIED, because they cannot be told from
   * entries forged by whoever could write the file: someone must look first.
   */
  int adopt_tail;
} vg_audit_opts;
#define VG_AUDIT_OPTS_INIT {VG_AUDIT_CHECKPOINT_EVERY, 0, 0}

/** A writer of one log file (opaque; one per process and file: it holds the file's lock). */
typedef struct vg_audit vg_audit;

/**
 * Opens (creating it, mode 0640) the log at @p path for appending, signing
 * its checkpoints with the Ed25519 secret key in @p secret_key_path (64 raw
 * bytes, mode 0600 or stricter: vg_audit_keygen). Takes an exclusive flock on
 * the log for the writer's life, then reads and verifies the whole existing
 * log against the key's public half, and continues its chain (seq and prev).
 * @p opts may be NULL (VG_AUDIT_OPTS_INIT).
 * @return VG_OK and *out (the caller's: vg_audit_close), or
 *   VG_E_DENIED (another writer holds the log and wait_lock is 0; a key file
 *   readable by others; an unsigned tail and adopt_tail is 0),
 *   VG_E_TRUNCATED (a torn last line: vg_audit_repair), VG_E_CHECKSUM or
 *   VG_E_MALFORMED (the log does not verify: never appended to),
 *   VG_E_IO, VG_E_INVALID, VG_E_NOMEM. *out is untouched on failure.
 */
int vg_audit_open(vg_audit **out, const char *path, const char *secret_key_path, const vg_audit_opts *opts);

/**
 * Appends one decision: one line written with O_APPEND and fsync'd before the
 * call returns, then a checkpoint if checkpoint_every entries are unsigned.
 * Thread-safe. @p seq_out (may be NULL) receives the entry's seq whenever the
 * entry itself is on disk, even if the checkpoint after it failed.
 * @return VG_OK; VG_E_LIMIT (a string over its limit), VG_E_INVALID (an empty
 *   or non-text string, a bad decision or time), VG_E_IO (the line was rolled
 *   back; or the file changed under the writer: it then refuses every append).
 */
int vg_audit_append(vg_audit *a, const vg_audit_entry *e, uint64_t *seq_out);

/** Signs the chain now (no-op when the last entry is already signed). @return VG_OK or VG_E_IO. */
int vg_audit_checkpoint(vg_audit *a);
/**
 * Appends @p n entries as vg_audit_append would, one after the other in the chain, with one
 * write and one fsync for them all (one response's decisions): all are durable when it
 * returns VG_OK, none are when it fails (the log is rolled back).
 */
int vg_audit_append_many(vg_audit *a, const vg_audit_entry *e, size_t n);

/** The seq of the last entry in the log (0 when empty). Thread-safe. */
uint64_t vg_audit_last_seq(vg_audit *a);

/**
 * Writes a final checkpoint if any entry is unsigned, releases the lock and
 * frees @p a (accepts NULL). @return VG_OK, or the checkpoint's error (the
 * writer is freed anyway).
 */
int vg_audit_close(vg_audit *a);

/**
 * Creates a new Ed25519 key pair: the secret key at @p path (64 raw bytes,
 * mode 0600) and the public key at "<path>.pub" (64 lower-case hex digits and
 * a newline). Refuses to overwrite either (VG_E_INVALID). @p pub_hex_out (may
 * be NULL) receives the public key as hex (65 bytes with the NUL).
 */
int vg_audit_keygen(const char *path, char pub_hex_out[2 * VG_AUDIT_PUB_BYTES + 1]);

/** Reads a public key file (64 hex digits, surrounding white space allowed). @return VG_OK, VG_E_IO, VG_E_MALFORMED. */
int vg_audit_pub_load(const char *path, uint8_t pub[VG_AUDIT_PUB_BYTES]);

/** BLAKE2b-256 of @p n bytes at @p p (the digest an entry records). */
void vg_audit_digest(const void *p, size_t n, uint8_t out[VG_AUDIT_HASH_BYTES]);
/** BLAKE2b-256 of the whole file at @p path, read in pieces. @return VG_OK or VG_E_IO. */
int vg_audit_digest_file(const char *path, uint8_t out[VG_AUDIT_HASH_BYTES]);

/**
 * The hash of @p e: BLAKE2b-256 over its canonical encoding (seq, time_us,
 * strings, digest, decision, prev; docs/formats/audit.md). Checks the strings
 * as append does. @return VG_OK, VG_E_LIMIT or VG_E_INVALID.
 */
int vg_audit_entry_hash(const vg_audit_entry *e, uint8_t out[VG_AUDIT_HASH_BYTES]);

/** Verdict of a verification, the first problem found (checking stops there). */
typedef enum vg_audit_status {
  VG_AUDIT_OK = 0,      /**< every entry linked and signed by a checkpoint of the expected key */
  VG_AUDIT_UNCOVERED,   /**< links intact, but the last `uncovered` entries follow the last checkpoint:
                             they could be forged, and removing them would go unnoticed */
  VG_AUDIT_TORN,        /**< the last line is cut short (no newline): torn write or truncated file */
  VG_AUDIT_MALFORMED,   /**< a line is neither a well-formed entry nor a checkpoint */
  VG_AUDIT_MODIFIED,    /**< an entry's hash does not match its fields: the entry was modified */
  VG_AUDIT_LINK,        /**< seq gap or repeat, or prev not the previous hash: deleted, inserted, reordered */
  VG_AUDIT_CHECKPOINT,  /**< a checkpoint does not name the entry before it (seq or chain hash) */
  VG_AUDIT_SIGNATURE,   /**< a checkpoint's signature is bad, or made by another key */
  VG_AUDIT_UNREADABLE   /**< the log could not be read */
} vg_audit_status;

/** @return "ok", "uncovered", "torn", "malformed", "modified", "link", "checkpoint", "signature", "unreadable". */
const char *vg_audit_status_name(vg_audit_status s);

/** What a verification found. */
typedef struct vg_audit_report {
  vg_audit_status status;
  uint64_t line;        /**< 1-based line of the first problem (of the first unsigned entry), 0 when OK */
  char reason[384];     /**< one English sentence in printable ASCII, starting "line N: " ("" when OK) */
  uint64_t lines;       /**< complete lines read */
  uint64_t entries;     /**< entries that checked out before the first problem */
  uint64_t checkpoints; /**< checkpoints that checked out */
  uint64_t last_seq;    /**< seq of the last good entry */
  uint64_t covered_seq; /**< seq of the last signed entry (0: none) */
  uint64_t uncovered;   /**< good entries after the last checkpoint */
  uint64_t good_bytes;  /**< length of the prefix that checked out (whole lines) */
  uint8_t last_hash[VG_AUDIT_HASH_BYTES];    /**< hash of entry last_seq */
  uint8_t covered_hash[VG_AUDIT_HASH_BYTES]; /**< hash of entry covered_seq: keep it elsewhere as an anchor */
  uint8_t key[VG_AUDIT_PUB_BYTES];           /**< the key that signed the checkpoints (valid when checkpoints > 0) */
} vg_audit_report;

/**
 * Verifies the log at @p path against the expected public key @p pub (never
 * the key written in the log): every line, hash, link and signature, and that
 * the last entry is signed. @p r (required) says what was found.
 * @return VG_OK only when r->status is VG_AUDIT_OK; otherwise VG_E_CHECKSUM
 *   (modified, link, checkpoint, signature, uncovered), VG_E_TRUNCATED (torn),
 *   VG_E_MALFORMED, VG_E_LIMIT (a line over VG_AUDIT_LINE_MAX; status
 *   malformed), VG_E_IO (unreadable), VG_E_INVALID (NULL key).
 */
int vg_audit_verify(const char *path, const uint8_t pub[VG_AUDIT_PUB_BYTES], vg_audit_report *r);

/** vg_audit_verify over a log held in memory (@p len bytes at @p buf). */
int vg_audit_verify_mem(const uint8_t *buf, size_t len, const uint8_t pub[VG_AUDIT_PUB_BYTES], vg_audit_report *r);

/**
 * Receives one entry of a replay; @p line is its line in the log. Return
 * VG_OK to go on, or an error code to stop the replay with it.
 */
typedef int (*vg_audit_entry_fn)(const vg_audit_entry *e, uint64_t line, void *ud);

/**
 * The deliveries recorded in the log at @p path: calls @p fn for every
 * "allow" entry (to @p recipient only, unless NULL), in log order, while
 * verifying the log as vg_audit_verify does. With @p pub NULL the signatures
 * are checked against the key written in the log's checkpoints (all must use
 * the same one; r->key), which proves consistency, not authorship.
 * Entries are passed as soon as their own line and link check out: a caller
 * that must show only proven deliveries keeps them until the return value
 * is VG_OK. @return as vg_audit_verify, or the callback's error.
 */
int vg_audit_replay(const char *path, const uint8_t pub[VG_AUDIT_PUB_BYTES], const char *recipient,
                    vg_audit_entry_fn fn, void *ud, vg_audit_report *r);

/**
 * Removes a torn last line (bytes after the last newline) left by a crash in
 * the middle of an append, after saving them to "<path>.torn" (appended, so
 * the evidence stays). Takes the writer's lock (VG_E_DENIED if a writer holds
 * it). Never touches a complete line. @p removed (may be NULL) receives the
 * number of bytes removed (0: nothing was torn).
 */
int vg_audit_repair(const char *path, uint64_t *removed);

/* ---- the server (lib/server/serve.c) ----------------------------------------------------- */

/*
 * The HTTPS server through which a partner receives what is released to it
 * (docs/formats/server.md). Identity is mutual TLS only: on every request the
 * client's certificate chain is verified against the partners' CA and its
 * SHA-256 fingerprint looked up in the partners file, which alone gives the
 * recipient (country, clearance) and role. Every route that carries register
 * data goes through one release path: vg_products_collect (confirmed sites
 * only), vg_product_write, the audit chain (every decision, before the
 * response is queued; no record, no response), then the bytes.
 */

/** Bytes of a partners file read at most. */
#define VG_SERVER_PARTNERS_FILE_MAX (1u << 20)
/** Partners in one file at most. */
#define VG_SERVER_PARTNERS_MAX 1024
/** Longest partner name (bytes, without the NUL): [a-z0-9._-] only. */
#define VG_SERVER_NAME_MAX 63
/** Bytes of a PEM file (certificate, key, CA bundle) read at most. */
#define VG_SERVER_PEM_MAX (1u << 20)
/** OGC API items: default and largest `limit` (OGC API Features 1 /req/core/fc-limit-response). */
#define VG_SERVER_LIMIT_DEFAULT 100
#define VG_SERVER_LIMIT_MAX 10000
/** Per-connection memory MHD may use: bounds the request line and headers. */
#define VG_SERVER_CONN_MEMORY (32u * 1024u)
/** Default simultaneous connections, per client address, idle timeout (s). */
#define VG_SERVER_CONN_MAX 64
#define VG_SERVER_CONN_PER_IP 16
#define VG_SERVER_TIMEOUT_S 30
/** A connection's verified client chain is trusted for requests presenting the same bytes for
 *  this long (us) before it is verified again (expiry is seen within this bound). */
#define VG_SERVER_REVERIFY_US 1000000
/** Largest response body (a download of every site in every format fits). */
#define VG_SERVER_BODY_MAX (256u << 20)

/**
 * Checks a partners file held in memory (docs/formats/server.md, "Partners file"): a JSON array
 * of objects with exactly fingerprint (64 hex), name ([a-z0-9._-]), country (GENC alpha-3),
 * cleared (a classification), role ("partner" or "analyst") and revoked (boolean); no two share
 * a fingerprint or a name. @p what names it in errors. *count (may be NULL): the partners.
 * @return VG_OK, VG_E_MALFORMED (what and where), VG_E_LIMIT, VG_E_NOMEM.
 */
int vg_server_partners_check(const uint8_t *buf, size_t len, const char *what, size_t *count);

/** Options of vg_server_start. */
typedef struct vg_server_opts {
  int version;                /**< VG_SERVER_OPTS_VERSION */
  const char *db;             /**< the register (SQLite path or postgresql://...) */
  const char *cert;           /**< the server's certificate chain (PEM file) */
  const char *key;            /**< its private key (PEM file) */
  const char *ca;             /**< the CA bundle that signed the partners' client certificates (PEM) */
  const char *partners;       /**< the partners file (JSON, docs/formats/server.md) */
  const char *audit;          /**< the audit chain (vg_audit_open) */
  const char *audit_key;      /**< its Ed25519 secret key; "<audit_key>.pub" its public key */
  const char *bind;           /**< IPv4 address to listen on (NULL: "127.0.0.1") */
  unsigned port;              /**< TCP port (0: any free one, see vg_server_port) */
  unsigned max_connections;   /**< 0: VG_SERVER_CONN_MAX */
  unsigned timeout_s;         /**< 0: VG_SERVER_TIMEOUT_S */
  FILE *log;                  /**< one line per request (NULL: none) */
  /* version 2 */
  const char *web;            /**< folder of the map page's files (NULL: the /map routes answer 503) */
  const char *banner;         /**< banner of /map/banner.json when no site is released (NULL: "UNCLASSIFIED") */
} vg_server_opts;
#define VG_SERVER_OPTS_VERSION 2
#define VG_SERVER_OPTS_INIT                                                                                          \
  {VG_SERVER_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL}

/** A running server (opaque). */
typedef struct vg_server vg_server;

/**
 * Loads the TLS material, the partners file, the register and the audit
 * chain, then starts serving on its own threads.
 * @return VG_OK and *out (the caller's: vg_server_stop), or VG_E_IO,
 *   VG_E_MALFORMED (partners file, PEM), VG_E_LIMIT, VG_E_DENIED (audit log
 *   held), VG_E_INVALID, VG_E_NOMEM. *out is untouched on failure.
 */
int vg_server_start(vg_server **out, const vg_server_opts *o);
/** The TCP port the server listens on. */
unsigned vg_server_port(const vg_server *s);
/**
 * Stops serving (waits for requests in progress), closes the audit chain
 * with a final checkpoint and the register, frees @p s (accepts NULL).
 * @return VG_OK or the audit close's error.
 */
int vg_server_stop(vg_server *s);
/** The server's audit writer (borrowed: valid until vg_server_stop), to share with the CoT stream. */
vg_audit *vg_server_audit(vg_server *s);
/** Called (on a server thread) after a partner was revoked through the admin API. */
typedef void (*vg_server_revoke_fn)(void *ud, const char *partner);
/** Sets the revocation hook (e.g. vg_cot_stream_revoke), before any request may revoke. */
void vg_server_on_revoke(vg_server *s, vg_server_revoke_fn fn, void *ud);

/** What a route gives out. */
typedef enum vg_route_kind {
  VG_ROUTE_META = 0, /**< fixed metadata: nothing from the register reaches it */
  VG_ROUTE_RELEASE,  /**< register data: only through the release path (collect, write, audit) */
  VG_ROUTE_ADMIN     /**< analyst-only administration */
} vg_route_kind;

/** Who may call a route. */
typedef enum vg_route_role {
  VG_ROLE_PARTNER = 0, /**< any identified partner (analysts included) */
  VG_ROLE_ANALYST      /**< role "analyst" in the partners file */
} vg_route_role;

/** One entry of the route table (borrowed, static). */
typedef struct vg_server_route {
  const char *name;    /**< e.g. "ogc-items" */
  const char *method;  /**< "GET" or "POST" */
  const char *pattern; /**< path, "{x}" matching one segment of [A-Za-z0-9._-] */
  const char *egress;  /**< the audit entries' egress label */
  vg_route_role role;
  vg_route_kind kind;
} vg_server_route;

/** Route @p i of the table, NULL past its end (for the census test and docs). */
const vg_server_route *vg_server_route_at(size_t i);

/* ---- the CoT stream (lib/server/cot.c) --------------------------------------------------- */

/*
 * Cursor on Target for TAK clients: TAK protocol v0 (CoT XML <event>s back
 * to back on a TLS stream, as TAK Server's 8089 streaming port), beside the
 * HTTPS server (docs/formats/server.md, "CoT stream"). Mutual TLS: a client
 * certificate is required by the handshake, then checked as the HTTPS server
 * does (chain against the partners' CA, SHA-256 fingerprint in the partners
 * file, not revoked); a refused client gets its connection closed without a
 * byte of data and an audit "deny" entry (egress "cot").
 *
 * On connect and on every vg_cot_stream_publish, each client gets one event
 * per released, confirmed site whose event changed since its last send (new,
 * moved, state, marking, confidence), and a retraction (type "t-x-d-d", same
 * uid) for each site it had received that is no longer released to it. Every
 * event is on the audit chain (allow, egress "cot", product "site/ID" or
 * "retract/ID", the BLAKE2b of its bytes) before it is sent.
 */

/** Clients connected at once at most (further connections are closed at once). */
#define VG_COT_CLIENTS_MAX 64
/** Seconds a client has to complete the TLS handshake, and a send may block. */
#define VG_COT_TIMEOUT_S 10

/** Options of vg_cot_stream_open. */
typedef struct vg_cot_opts {
  int version;          /**< VG_COT_OPTS_VERSION */
  const char *db;       /**< the register (SQLite path or postgresql://...): the stream opens its own connection */
  const char *cert;     /**< the server's certificate chain (PEM file) */
  const char *key;      /**< its private key (PEM file) */
  const char *ca;       /**< the CA bundle that signed the partners' client certificates (PEM) */
  const char *partners; /**< the partners file (read once at open) */
  vg_audit *audit;      /**< the audit chain (borrowed; thread-safe; must outlive the stream) */
  const char *bind;     /**< IPv4 address to listen on (NULL: "127.0.0.1") */
  unsigned port;        /**< TCP port (0: any free one, see vg_cot_stream_port) */
  unsigned max_clients; /**< 0: VG_COT_CLIENTS_MAX (and never more) */
  int exercise;         /**< events with opex "e-TEST" (test fixtures) instead of "o-" */
} vg_cot_opts;
#define VG_COT_OPTS_VERSION 1
#define VG_COT_OPTS_INIT {VG_COT_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0}

/** A running CoT stream (opaque). */
typedef struct vg_cot_stream vg_cot_stream;

/**
 * Loads the TLS material and the partners file, opens the register, listens
 * and accepts clients on its own threads (one per client).
 * @return VG_OK and *out (vg_cot_stream_close), or VG_E_IO, VG_E_MALFORMED,
 *   VG_E_LIMIT, VG_E_INVALID, VG_E_NOMEM. *out is untouched on failure.
 */
int vg_cot_stream_open(vg_cot_stream **out, const vg_cot_opts *o);
/** The TCP port the stream listens on. */
unsigned vg_cot_stream_port(const vg_cot_stream *st);
/**
 * Re-collects the register for every connected client and sends what
 * changed (events, retractions), each audited first. A client whose send or
 * audit append fails is disconnected. @return VG_OK, or the first error met
 * (the other clients are still served).
 */
int vg_cot_stream_publish(vg_cot_stream *st);
/**
 * Revokes @p partner (in the stream's partners table; the partners file is
 * not rewritten): nothing more is sent to it, its connections are closed and
 * new ones refused. An audit "deny" entry (product "partner/NAME") records it.
 * @return VG_OK, VG_E_NOTFOUND (no such partner), or the append's error (the
 *   revocation stands anyway).
 */
int vg_cot_stream_revoke(vg_cot_stream *st, const char *partner);
/**
 * Sends a retraction of site @p site_id to every connected client that had
 * received it (each audited first, product "retract/ID"), and forgets it for
 * them: a later publish sends the site again only if it is released again.
 * @return VG_OK or the first error met.
 */
int vg_cot_stream_retract_site(vg_cot_stream *st, int64_t site_id);
/** Closes every connection, stops listening and frees @p st (accepts NULL). Does not close the audit chain. */
void vg_cot_stream_close(vg_cot_stream *st);

#ifdef __cplusplus
}
#endif
#endif
