/*
 * vigia serve: the HTTPS server through which partners receive what is
 * released to them (docs/formats/server.md). Runs until SIGINT or SIGTERM,
 * then stops taking requests and closes the audit chain with a checkpoint.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigia/server.h"

void vg_cmd_serve_help(void)
{
  printf("usage: vigia serve --db REGISTER --cert SERVER.pem --key SERVER.key --ca PARTNERS_CA.pem\n"
         "                   --partners partners.json --audit LOG --audit-key KEY [options]\n\n"
         "Serves the register's confirmed sites over HTTPS with mutual TLS: each partner sees\n"
         "only what is released to the country and clearance its client certificate maps to in\n"
         "the partners file (OGC API Features under /collections, downloads under /products,\n"
         "an analyst-only admin API under /admin). Every release decision, denials included,\n"
         "goes to the audit chain before the response leaves. One line per request on stderr.\n\n"
         "options:\n"
         "  --db REGISTER       the register (SQLite path or postgresql://...)\n"
         "  --cert FILE         the server's certificate chain (PEM)\n"
         "  --key FILE          its private key (PEM)\n"
         "  --ca FILE           the CA bundle that signed the partners' client certificates\n"
         "  --partners FILE     the partners file (JSON: fingerprint, name, country, cleared,\n"
         "                      role, revoked; docs/formats/server.md)\n"
         "  --audit LOG         the audit chain (docs/formats/audit.md)\n"
         "  --audit-key KEY     its Ed25519 secret key (vigia audit keygen; KEY.pub beside it)\n"
         "  --port N            TCP port (default 8443)\n"
         "  --bind ADDR         IPv4 address to listen on (default 127.0.0.1)\n"
         "  --web DIR           the analyst map page's files (/map; default: the build's web/)\n"
         "  --banner BANNER     the map's banner when no site is released (default UNCLASSIFIED)\n"
         "  --cot-port PORT     also stream CoT to TAK clients over mutual TLS on PORT (0: any free\n"
         "                      port; TAK's is 8089); revocations through /admin reach it too\n"
         "  --publish S         push register changes to the CoT clients every S seconds (default 10)\n"
         "  -h, --help          this text\n\n"
         "exit status: 0 stopped by a signal, 1 failed, 2 usage\n");
}

static void revoke_cot(void *ud, const char *partner)
{
  if (vg_cot_stream_revoke(ud, partner) != VG_OK)
    fprintf(stderr, "vigia serve: CoT stream: revoking %s: %s\n", partner, vg_error_last());
}

int vg_cmd_serve(int argc, char **argv)
{
  static const struct option lo[] = {
    {"db", required_argument, NULL, 'd'},       {"cert", required_argument, NULL, 'c'},
    {"key", required_argument, NULL, 'k'},      {"ca", required_argument, NULL, 'C'},
    {"partners", required_argument, NULL, 'p'}, {"audit", required_argument, NULL, 'a'},
    {"audit-key", required_argument, NULL, 'K'}, {"port", required_argument, NULL, 'P'},
    {"bind", required_argument, NULL, 'b'},     {"help", no_argument, NULL, 'h'},
    {"web", required_argument, NULL, 'w'},      {"banner", required_argument, NULL, 'B'},
    {"cot-port", required_argument, NULL, 'T'}, {"publish", required_argument, NULL, 'u'},
    {NULL, 0, NULL, 0}};
  vg_server_opts o = VG_SERVER_OPTS_INIT;
  vg_server *s = NULL;
  vg_cot_stream *cot = NULL;
  sigset_t set;
  int ch, sig = 0, cot_port = -1, publish_s = 10;
  o.port = 8443;
  o.log = stderr;
#ifdef VG_WEB_DIR
  o.web = VG_WEB_DIR; /* the build's vendored map files (web/CMakeLists.txt) */
#endif
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': o.db = optarg; break;
    case 'c': o.cert = optarg; break;
    case 'k': o.key = optarg; break;
    case 'C': o.ca = optarg; break;
    case 'p': o.partners = optarg; break;
    case 'a': o.audit = optarg; break;
    case 'K': o.audit_key = optarg; break;
    case 'b': o.bind = optarg; break;
    case 'w': o.web = optarg; break;
    case 'B': o.banner = optarg; break;
    case 'T':
    case 'u': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || !*optarg || v < (ch == 'T' ? 0 : 1) || v > (ch == 'T' ? 65535 : 86400)) {
        fprintf(stderr, "vigia serve: --%s '%s' out of range\n", ch == 'T' ? "cot-port" : "publish", optarg);
        return VG_EXIT_USAGE;
      }
      if (ch == 'T')
        cot_port = (int)v;
      else
        publish_s = (int)v;
      break;
    }
    case 'P': {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || !*optarg || v < 1 || v > 65535) {
        fprintf(stderr, "vigia serve: --port '%s': 1 to 65535\n", optarg);
        return VG_EXIT_USAGE;
      }
      o.port = (unsigned)v;
      break;
    }
    case 'h': vg_cmd_serve_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_serve_help(); return VG_EXIT_USAGE;
    }
  }
  if (!o.db || !o.cert || !o.key || !o.ca || !o.partners || !o.audit || !o.audit_key || optind < argc) {
    fprintf(stderr, "vigia serve: expected --db --cert --key --ca --partners --audit --audit-key\n");
    return VG_EXIT_USAGE;
  }
  /* the server's threads inherit this mask: the signals wait for sigwait below */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
    fprintf(stderr, "vigia serve: cannot block signals\n");
    return VG_EXIT_FAILED;
  }
  if (vg_server_start(&s, &o) != VG_OK) {
    fprintf(stderr, "vigia serve: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  fprintf(stderr, "vigia serve: listening on https://%s:%u/\n", o.bind ? o.bind : "127.0.0.1", vg_server_port(s));
  if (cot_port >= 0) { /* the CoT stream beside it, sharing its audit chain and its revocations */
    vg_cot_opts co = VG_COT_OPTS_INIT;
    co.db = o.db;
    co.cert = o.cert;
    co.key = o.key;
    co.ca = o.ca;
    co.partners = o.partners;
    co.audit = vg_server_audit(s);
    co.bind = o.bind;
    co.port = (unsigned)cot_port;
    if (vg_cot_stream_open(&cot, &co) != VG_OK) {
      fprintf(stderr, "vigia serve: CoT stream: %s\n", vg_error_last());
      vg_server_stop(s);
      return VG_EXIT_FAILED;
    }
    vg_server_on_revoke(s, revoke_cot, cot);
    fprintf(stderr, "vigia serve: CoT stream (TLS, TAK protocol v0) on %s:%u, published every %d s\n",
            o.bind ? o.bind : "127.0.0.1", vg_cot_stream_port(cot), publish_s);
  }
  for (;;) {
    struct timespec ts = {publish_s, 0};
    sig = cot ? sigtimedwait(&set, NULL, &ts) : (sigwait(&set, &sig) == 0 ? sig : -1);
    if (sig > 0)
      break;
    if (cot && vg_cot_stream_publish(cot) != VG_OK)
      fprintf(stderr, "vigia serve: CoT publish: %s\n", vg_error_last());
    if (!cot && sig < 0)
      break;
  }
  fprintf(stderr, "vigia serve: signal %d, stopping\n", sig);
  vg_cot_stream_close(cot); /* before the server: the stream borrows its audit writer */
  if (vg_server_stop(s) != VG_OK) {
    fprintf(stderr, "vigia serve: closing the audit chain: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  return VG_EXIT_CLEAN;
}
