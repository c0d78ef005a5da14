/* The vigia command: shared declarations of its subcommands. */
#ifndef VG_CLI_H
#define VG_CLI_H

/* Exit statuses of every subcommand (docs/cli.md). */
#define VG_EXIT_CLEAN 0   /* everything read, nothing damaged */
#define VG_EXIT_FAILED 1  /* could not do the job */
#define VG_EXIT_USAGE 2   /* bad command line */
#define VG_EXIT_PARTIAL 3 /* done, but some input was damaged: counted and skipped */

typedef struct vg_cmd {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
  void (*help)(void);
} vg_cmd;

int vg_cmd_klv(int argc, char **argv);
void vg_cmd_klv_help(void);
int vg_cmd_probe(int argc, char **argv);
void vg_cmd_probe_help(void);
int vg_cmd_frames(int argc, char **argv);
void vg_cmd_frames_help(void);
int vg_cmd_geolocate(int argc, char **argv);
void vg_cmd_geolocate_help(void);
int vg_cmd_footprints(int argc, char **argv);
void vg_cmd_footprints_help(void);
int vg_cmd_geocheck(int argc, char **argv);
void vg_cmd_geocheck_help(void);
int vg_cmd_detect(int argc, char **argv);
void vg_cmd_detect_help(void);
int vg_cmd_eval(int argc, char **argv);
void vg_cmd_eval_help(void);
int vg_cmd_had(int argc, char **argv);
void vg_cmd_had_help(void);
int vg_cmd_exploit(int argc, char **argv);
void vg_cmd_exploit_help(void);
int vg_cmd_sites(int argc, char **argv);
void vg_cmd_sites_help(void);
int vg_cmd_change(int argc, char **argv);
void vg_cmd_change_help(void);
int vg_cmd_worker(int argc, char **argv);
void vg_cmd_worker_help(void);
int vg_cmd_jobs(int argc, char **argv);
void vg_cmd_jobs_help(void);
int vg_cmd_simulate(int argc, char **argv);
void vg_cmd_simulate_help(void);
int vg_cmd_demo(int argc, char **argv);
void vg_cmd_demo_help(void);
int vg_cmd_export(int argc, char **argv);
void vg_cmd_export_help(void);
int vg_cmd_score(int argc, char **argv);
void vg_cmd_score_help(void);
int vg_cmd_audit(int argc, char **argv);
void vg_cmd_audit_help(void);
int vg_cmd_plan(int argc, char **argv);
void vg_cmd_plan_help(void);
int vg_cmd_schedule(int argc, char **argv);
void vg_cmd_schedule_help(void);
int vg_cmd_serve(int argc, char **argv);
void vg_cmd_serve_help(void);

#endif
