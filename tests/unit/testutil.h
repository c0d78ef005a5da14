/* Helpers shared by the unit tests: data paths, files, hex, JSON vectors. */
#ifndef VG_TESTUTIL_H
#define VG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "vigia/klv.h"

/*
 * Path of a file under the shared data folder (VG_DATA_DIR at build time, or
 * the environment variable VIGIA_DATA), or NULL when it is absent. Free it.
 */
char *vg_test_data_path(const char *rel);

/*
 * Resolves @p rel under the data folder or ends the test: when the data is
 * absent it says so and skips, except under CI (CI=true), where absent data
 * is a failure. Returns a malloc'd path.
 */
#define VG_REQUIRE_DATA(rel) vg_test_require_data(rel, __FILE__, __LINE__)
char *vg_test_require_data(const char *rel, const char *file, int line);

/* Reads a whole file; returns 0 or -1. *buf is malloc'd. */
int vg_test_read_file(const char *path, uint8_t **buf, size_t *len);
/* Decodes a hex string into a malloc'd buffer; returns 0 or -1. */
int vg_test_unhex(const char *hex, uint8_t **buf, size_t *len);
/* Loads a JSON file from the data folder (skips/fails as VG_REQUIRE_DATA). */
json_t *vg_test_load_json(const char *rel);

/* A lenient and a strict KLV decoder for one test, freed even when it fails. */
typedef struct vg_test_decoders {
  vg_klv_decoder *lenient, *strict;
} vg_test_decoders;
int vg_test_decoders_setup(void **state);
int vg_test_decoders_teardown(void **state);
/* vg_test_unhex that fails the test on bad hex; returns a malloc'd buffer. */
uint8_t *vg_test_unhex_or_fail(const char *hex, size_t *n);

/* Each test file of a module exposes one runner returning its failure count. */
int test_util_run(void);
int test_klv_core_run(void);
int test_klv_st0601_run(void);
int test_klv_st1201_run(void);
int test_klv_st0102_run(void);
int test_klv_st0903_run(void);
int test_klv_eg0104_run(void);
int test_klv_scan_run(void);
int test_fmv_data_run(void);
int test_fmv_synth_run(void);
int test_fmv_align_run(void);
int test_fmv_writer_run(void);
int test_sim_score_run(void);
int test_plan_core_run(void);
int test_plan_mission_run(void);
int test_plan_schedule_run(void);
int test_sim_sim_run(void);
int test_products_marking_run(void);
int test_server_audit_run(void);
int test_server_serve_run(void);
int test_server_cot_run(void);
int test_detect_core_run(void);
int test_detect_target_run(void);
int test_detect_thermal_run(void);
int test_detect_change_run(void);
int test_sites_fuse_run(void);
int test_sites_store_run(void);
int test_sites_pg_run(void);
int test_sites_jobs_run(void);
int test_sites_live_run(void);

#endif
