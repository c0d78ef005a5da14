/* The server module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_server_audit_run();
  failed += test_server_serve_run();
  failed += test_server_cot_run();
  return failed ? 1 : 0;
}
