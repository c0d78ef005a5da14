/* The one error table turned into names and messages, and the thread-local detail. */
#include <stdio.h>
#include <string.h>

#include "vigia/util.h"

/* Detail messages longer than this are cut; they are one line for a human. */
#define VG_ERROR_DETAIL_MAX 512

static _Thread_local char g_detail[VG_ERROR_DETAIL_MAX];

const char *vg_err_name(int e)
{
  switch (e) {
#define VG__ERR_NAME(name, code, msg) \
  case code:                          \
    return #name;
    VG_ERROR_TABLE(VG__ERR_NAME)
#undef VG__ERR_NAME
  }
  return "E_UNKNOWN";
}

const char *vg_strerror(int e)
{
  switch (e) {
#define VG__ERR_MSG(name, code, msg) \
  case code:                         \
    return msg;
    VG_ERROR_TABLE(VG__ERR_MSG)
#undef VG__ERR_MSG
  }
  return "unknown error";
}

const char *vg_error_last(void) { return g_detail; }

void vg_error_clear(void) { g_detail[0] = '\0'; }

int vg_error_set(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_detail, sizeof g_detail, fmt, ap);
  va_end(ap);
  return code;
}

const char *vg_version(void) { return VG_VERSION_STRING; }
