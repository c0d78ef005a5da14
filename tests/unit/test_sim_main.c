/* The simulator module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_sim_score_run();
  failed += test_sim_sim_run();
  return failed ? 1 : 0;
}
