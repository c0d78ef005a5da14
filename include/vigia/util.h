/*
 * vigia — utilities shared by every module: the one error table, bounded
 * buffers, logging and a streaming JSON writer.
 */
#ifndef VIGIA_UTIL_H
#define VIGIA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The one error table: X(NAME, code, message). `VG_OK` is 0, every error is
 * negative. The same table yields the enum, vg_err_name() and vg_strerror().
 */
#define VG_ERROR_TABLE(X)                                                      \
  X(OK,          0,   "success")                                               \
  X(E_TRUNCATED, -1,  "input ends before the unit it announces")               \
  X(E_MALFORMED, -2,  "malformed input")                                       \
  X(E_LIMIT,     -3,  "a named limit was exceeded")                            \
  X(E_CHECKSUM,  -4,  "checksum mismatch")                                     \
  X(E_UNSUPPORTED, -5, "unsupported format or feature")                        \
  X(E_NOMEM,     -6,  "out of memory")                                         \
  X(E_IO,        -7,  "input/output error")                                    \
  X(E_NOTFOUND,  -8,  "not found")                                             \
  X(E_DB,        -9,  "database error")                                        \
  X(E_DENIED,    -10, "permission denied")                                     \
  X(E_INVALID,   -11, "invalid argument")                                      \
  X(E_RANGE,     -12, "value outside its representable range")                 \
  X(E_USAGE,     -13, "command-line usage error")                              \
  X(E_NOHIT,     -14, "the ray does not reach the ground")

/** Error codes: `VG_OK` (0) or a negative `VG_E_*`. */
typedef enum vg_err {
#define VG__ERR_ENUM(name, code, msg) VG_##name = (code),
  VG_ERROR_TABLE(VG__ERR_ENUM)
#undef VG__ERR_ENUM
} vg_err;

/** @return the enum name of @p e without the prefix ("E_TRUNCATED"), or "E_UNKNOWN". Static string. */
const char *vg_err_name(int e);
/** @return a short English message for @p e. Static string. */
const char *vg_strerror(int e);
/**
 * @return the detail message of the last error set on this thread (what and
 * where), or "" when none. Borrowed: valid until the next error on this thread.
 */
const char *vg_error_last(void);
/** Clears this thread's detail message. */
void vg_error_clear(void);
/**
 * Records a detail message for this thread and returns @p code, so a failing
 * path reads `return vg_error_set(VG_E_MALFORMED, "tag %u: ...", tag);`.
 */
int vg_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- bounded growable buffer ------------------------------------------ */

/** A growable byte buffer that never grows past its maximum (curl dynbuf). */
typedef struct vg_buf {
  uint8_t *data; /**< owned; NULL until the first append */
  size_t len;    /**< bytes in use */
  size_t cap;    /**< bytes allocated */
  size_t max;    /**< hard cap on len; an append past it fails with VG_E_LIMIT */
} vg_buf;

/** Initialises @p b empty with the hard cap @p max (bytes). Allocates nothing. */
void vg_buf_init(vg_buf *b, size_t max);
/** Frees the storage of @p b (accepts NULL) and leaves it empty, same cap. */
void vg_buf_free(vg_buf *b);
/** Sets the length to 0, keeping the storage. */
void vg_buf_reset(vg_buf *b);
/** Makes room for @p extra more bytes. @return VG_OK, VG_E_LIMIT or VG_E_NOMEM. */
int vg_buf_reserve(vg_buf *b, size_t extra);
/** Appends @p n bytes. On failure @p b is unchanged. */
int vg_buf_append(vg_buf *b, const void *p, size_t n);
/** Appends one byte. */
int vg_buf_putc(vg_buf *b, uint8_t c);
/** Appends formatted text (no terminating NUL is counted in len). */
int vg_buf_printf(vg_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- overflow-checked size arithmetic ---------------------------------- */

/** Sets *out = a*b. @return 0 on success, -1 if it overflows size_t. */
int vg_mul_size(size_t *out, size_t a, size_t b);
/** Sets *out = a+b. @return 0 on success, -1 if it overflows size_t. */
int vg_add_size(size_t *out, size_t a, size_t b);

/* ---- logging ------------------------------------------------------------ */

typedef enum vg_log_level {
  VG_LOG_ERROR = 0,
  VG_LOG_WARN = 1,
  VG_LOG_INFO = 2,
  VG_LOG_DEBUG = 3,
  VG_LOG_TRACE = 4
} vg_log_level;

/** Receives every message at or below the current level. */
typedef void (*vg_log_fn)(vg_log_level lvl, const char *module, const char *msg, void *ud);

/** Sets the process-wide level (default VG_LOG_WARN). */
void vg_log_set_level(vg_log_level lvl);
/** @return the current level. */
vg_log_level vg_log_get_level(void);
/** Replaces the sink (default: "vigia: level: module: msg" on stderr). NULL restores it. */
void vg_log_set_sink(vg_log_fn fn, void *ud);
/** Parses "error", "warn", "info", "debug", "trace". @return 0 or -1. */
int vg_log_parse_level(const char *s, vg_log_level *out);
/** Logs a message for @p module if @p lvl is enabled. */
void vg_log(vg_log_level lvl, const char *module, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- streaming JSON writer ---------------------------------------------- */

/** Maximum nesting depth of a JSON document written by vg_jw. */
#define VG_JW_MAX_DEPTH 32

/**
 * A streaming JSON writer: commas and escaping are its business, numbers are
 * written with '.' whatever the process locale, non-finite reals become null.
 * Output goes to a vg_buf; the caller flushes it where it wants.
 */
typedef struct vg_jw {
  vg_buf *out;                       /**< borrowed output buffer */
  int depth;                         /**< current nesting depth */
  uint8_t first[VG_JW_MAX_DEPTH + 1]; /**< 1 while the container at that depth is empty */
  uint8_t after_key;                 /**< 1 right after a key was written */
  int err;                           /**< sticky: first error, VG_OK if none */
  int pretty;                        /**< indent with two spaces when nonzero */
} vg_jw;

/** Starts a writer over @p out (borrowed, must outlive the writer). */
void vg_jw_init(vg_jw *w, vg_buf *out, int pretty);
void vg_jw_obj_begin(vg_jw *w);
void vg_jw_obj_end(vg_jw *w);
void vg_jw_arr_begin(vg_jw *w);
void vg_jw_arr_end(vg_jw *w);
/** Writes an object key (NUL-terminated, escaped). */
void vg_jw_key(vg_jw *w, const char *k);
/** Writes a string of @p n bytes; invalid UTF-8 bytes become U+FFFD. */
void vg_jw_strn(vg_jw *w, const char *s, size_t n);
void vg_jw_str(vg_jw *w, const char *s);
void vg_jw_int(vg_jw *w, int64_t v);
void vg_jw_uint(vg_jw *w, uint64_t v);
/** Writes the shortest decimal that reads back as @p v; NaN and infinities as null. */
void vg_jw_real(vg_jw *w, double v);
void vg_jw_bool(vg_jw *w, int v);
void vg_jw_null(vg_jw *w);
/** Writes @p n bytes as a lower-case hex string. */
void vg_jw_hex(vg_jw *w, const uint8_t *p, size_t n);
/** @return VG_OK if the document is complete and no write failed. */
int vg_jw_finish(vg_jw *w);

/**
 * Formats @p v as the shortest round-trip decimal into @p dst (at least 32
 * bytes), with '.' as decimal point whatever the locale. @return its length.
 */
size_t vg_fmt_real(char *dst, size_t cap, double v);

/* ---- library ------------------------------------------------------------ */

/** @return the library version, "MAJOR.MINOR.PATCH". Static string. */
const char *vg_version(void);

#ifdef __cplusplus
}
#endif
#endif
