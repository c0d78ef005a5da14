/* Logging with levels and a replaceable sink. */
#include <stdio.h>
#include <string.h>

#include "vigia/util.h"

static vg_log_level g_level = VG_LOG_WARN;
static vg_log_fn g_sink;
static void *g_sink_ud;

static const char *const g_names[] = {"error", "warn", "info", "debug", "trace"};

void vg_log_set_level(vg_log_level lvl) { g_level = lvl; }
vg_log_level vg_log_get_level(void) { return g_level; }

void vg_log_set_sink(vg_log_fn fn, void *ud)
{
  g_sink = fn;
  g_sink_ud = ud;
}

int vg_log_parse_level(const char *s, vg_log_level *out)
{
  for (int i = 0; i < 5; i++) {
    if (strcmp(s, g_names[i]) == 0) {
      *out = (vg_log_level)i;
      return 0;
    }
  }
  return -1;
}

void vg_log(vg_log_level lvl, const char *module, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  if (lvl > g_level)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g_sink)
    g_sink(lvl, module, msg, g_sink_ud);
  else
    fprintf(stderr, "vigia: %s: %s: %s\n", g_names[lvl], module ? module : "-", msg);
}
