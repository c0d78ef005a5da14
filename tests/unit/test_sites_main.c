/* The sites module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_sites_fuse_run();
  failed += test_sites_store_run();
  failed += test_sites_pg_run();
  failed += test_sites_jobs_run();
  failed += test_sites_live_run();
  return failed ? 1 : 0;
}
