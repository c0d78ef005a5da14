/* The fmv module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_fmv_data_run();
  failed += test_fmv_synth_run();
  failed += test_fmv_align_run();
  failed += test_fmv_writer_run();
  return failed ? 1 : 0;
}
