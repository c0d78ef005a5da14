/* vigia: one binary, one subcommand per stage. No logic lives here that the library lacks. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vigia/util.h"

static const vg_cmd k_cmds[] = {
  {"klv", "decode KLV (MISB ST 0601/0102/0903, EG 0104) from a raw stream or a TS to JSON Lines", vg_cmd_klv,
   vg_cmd_klv_help},
  {"probe", "what a video file or stream holds: programs, streams, KLV carriage, damage", vg_cmd_probe,
   vg_cmd_probe_help},
  {"frames", "decode video frames to PNG with the aligned sensor pose of each (JSON)", vg_cmd_frames,
   vg_cmd_frames_help},
  {"geolocate", "put a pixel of a frame on the ground, with its uncertainty (CE90/LE90)", vg_cmd_geolocate,
   vg_cmd_geolocate_help},
  {"footprints", "the track, frame footprints and centres of a stream as GeoJSON or KML", vg_cmd_footprints,
   vg_cmd_footprints_help},
  {"geocheck", "check a stream's own frame centre and corners against the sensor model", vg_cmd_geocheck,
   vg_cmd_geocheck_help},
  {"detect", "score an image with a detector and cut the scores into detections", vg_cmd_detect,
   vg_cmd_detect_help},
  {"exploit", "a flight through read, detect, geolocate and fuse into the site register", vg_cmd_exploit,
   vg_cmd_exploit_help},
  {"sites", "the site register: list, show, near, history; confirm, dismiss, note", vg_cmd_sites,
   vg_cmd_sites_help},
  {"jobs", "the PostgreSQL job queue of inputs for the workers: add, list, counts", vg_cmd_jobs,
   vg_cmd_jobs_help},
  {"worker", "take jobs from the PostgreSQL queue and run each through exploit (scale-out)",
   vg_cmd_worker, vg_cmd_worker_help},
  {"export", "the register's sites released to one partner as GeoJSON, KML, CoT or STIX, with markings",
   vg_cmd_export, vg_cmd_export_help},
  {"demo", "the whole system on a simulated flight: simulate, exploit every pass, score against the truth",
   vg_cmd_demo, vg_cmd_demo_help},
  {"simulate", "render a surveillance flight over hidden sites: video with KLV, cube, thermal, truth",
   vg_cmd_simulate, vg_cmd_simulate_help},
  {"serve", "the HTTPS server (mutual TLS) through which a partner receives what is released to it",
   vg_cmd_serve, vg_cmd_serve_help},
  {"plan", "the coverage flight of an area of interest for a fixed-wing drone, written as a mission",
   vg_cmd_plan, vg_cmd_plan_help},
  {"schedule", "sorties within endurance over areas with revisit periods, simulated over days",
   vg_cmd_schedule, vg_cmd_schedule_help},
  {"audit", "the audit chain of release decisions: keygen, append, verify, replay, repair", vg_cmd_audit,
   vg_cmd_audit_help},
  {"score", "score a site register against a simulation's truth: recall, precision, location error",
   vg_cmd_score, vg_cmd_score_help},
  {"change", "change between two passes (IR-MAD), invariant to radiometric differences", vg_cmd_change,
   vg_cmd_change_help},
  {"eval", "ROC AUC of a score map against a truth map", vg_cmd_eval, vg_cmd_eval_help},
  {"had", "run the anomaly detector on every benchmark scene of a folder, beside published AUCs",
   vg_cmd_had, vg_cmd_had_help},
};
#define NCMDS (sizeof k_cmds / sizeof k_cmds[0])

static void usage(FILE *f)
{
  fprintf(f, "usage: vigia [--version] [--log LEVEL] <command> [options]\n\n"
             "vigia finds clandestine production sites in drone surveillance data and\n"
             "shares them with a partner under control.\n\ncommands:\n");
  for (size_t i = 0; i < NCMDS; i++)
    fprintf(f, "  %-10s %s\n", k_cmds[i].name, k_cmds[i].summary);
  fprintf(f, "  %-10s %s\n", "help", "show this list, or `vigia help <command>`");
  fprintf(f, "\nexit status: 0 clean, 1 failed, 2 usage error, 3 partial (damage counted and skipped)\n");
}

int main(int argc, char **argv)
{
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
      printf("vigia %s\n", vg_version());
      return VG_EXIT_CLEAN;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return VG_EXIT_CLEAN;
    } else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
      vg_log_level lvl;
      if (vg_log_parse_level(argv[i + 1], &lvl) != 0) {
        fprintf(stderr, "vigia: unknown log level '%s' (error, warn, info, debug, trace)\n", argv[i + 1]);
        return VG_EXIT_USAGE;
      }
      vg_log_set_level(lvl);
      i += 2;
    } else {
      fprintf(stderr, "vigia: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return VG_EXIT_USAGE;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return VG_EXIT_USAGE;
  }
  if (!strcmp(argv[i], "help")) {
    if (i + 1 < argc) {
      for (size_t k = 0; k < NCMDS; k++)
        if (!strcmp(argv[i + 1], k_cmds[k].name)) {
          k_cmds[k].help();
          return VG_EXIT_CLEAN;
        }
      fprintf(stderr, "vigia: no command '%s'\n", argv[i + 1]);
      return VG_EXIT_USAGE;
    }
    usage(stdout);
    return VG_EXIT_CLEAN;
  }
  for (size_t k = 0; k < NCMDS; k++)
    if (!strcmp(argv[i], k_cmds[k].name))
      return k_cmds[k].run(argc - i, argv + i);
  fprintf(stderr, "vigia: no command '%s' (see `vigia help`)\n", argv[i]);
  return VG_EXIT_USAGE;
}
