/*
 * Replays fuzz inputs without libFuzzer (DESIGN.md convention 10): the
 * harness is linked with this main() and run under ctest, with gcc, on its
 * committed corpus.
 *
 *   usage: <harness>_replay PATH...
 *
 * Each PATH is a file, or a directory whose regular files (one level, names
 * not starting with '.', in name order) are each an input. Prints
 * "N passed, M failed" and exits 0 only when at least one input ran and none
 * failed: a missing or empty corpus directory is a failure, not a silent
 * pass. An input "fails" when it cannot be read; a harness that finds a bug
 * aborts (or the sanitizer stops the process), and the death callback names
 * the input that did it.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional hooks: libFuzzer's initialiser, the sanitizers' death callback. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

/* Largest input replayed (libFuzzer's default -max_len is 4096; corpora stay small). */
#define DRIVER_MAX_INPUT ((size_t)64 << 20)

static const char *g_current = "";

static void on_death(void)
{
  fprintf(stderr, "standalone_driver: died on input %s\n", g_current);
}

/* A harness that finds a bug calls abort(): name the input, then die as asked. */
static void on_abort(int sig)
{
  static const char msg[] = "standalone_driver: aborted on input ";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  w = write(STDERR_FILENO, g_current, strlen(g_current));
  w = write(STDERR_FILENO, "\n", 1);
  (void)w;
  signal(sig, SIG_DFL);
  raise(sig);
}

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  int rc = -1;
  if (!f) {
    fprintf(stderr, "standalone_driver: %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    size_t got;
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 4096;
      uint8_t *nb;
      if (ncap > DRIVER_MAX_INPUT) {
        fprintf(stderr, "standalone_driver: %s: larger than %zu bytes\n", path,
                (size_t)DRIVER_MAX_INPUT);
        goto done;
      }
      if (!(nb = realloc(buf, ncap)))
        goto done;
      buf = nb;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        fprintf(stderr, "standalone_driver: %s: read error\n", path);
        goto done;
      }
      break;
    }
  }
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
done:
  free(buf);
  fclose(f);
  return rc;
}

/* Runs the harness on one file. @return 0 if it ran, -1 if the file could not be read. */
static int run_file(const char *path)
{
  uint8_t *data = NULL;
  size_t len = 0;
  if (read_file(path, &data, &len) != 0)
    return -1;
  g_current = path;
  /* Copy into an exact-size block so ASan sees reads one past the end. */
  {
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
      free(data);
      return -1;
    }
    if (len)
      memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
  }
  g_current = "";
  return 0;
}

static int skip_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

int main(int argc, char **argv)
{
  unsigned long passed = 0, failed = 0;
  int bad_arg = 0;

  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  if (__sanitizer_set_death_callback)
    __sanitizer_set_death_callback(on_death);
  signal(SIGABRT, on_abort);
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      fprintf(stderr, "standalone_driver: %s: %s\n", argv[a], strerror(errno));
      bad_arg = 1;
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      struct dirent **names = NULL;
      unsigned long ran = 0;
      int n = scandir(argv[a], &names, skip_dot, alphasort);
      if (n < 0) {
        fprintf(stderr, "standalone_driver: %s: %s\n", argv[a], strerror(errno));
        bad_arg = 1;
        continue;
      }
      for (int i = 0; i < n; i++) {
        size_t need = strlen(argv[a]) + strlen(names[i]->d_name) + 2;
        char *path = malloc(need);
        struct stat fst;
        if (path) {
          snprintf(path, need, "%s/%s", argv[a], names[i]->d_name);
          if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode)) {
            if (run_file(path) == 0) {
              passed++;
              ran++;
            } else {
              failed++;
            }
          }
        } else {
          failed++;
        }
        free(path);
        free(names[i]);
      }
      free(names);
      if (ran == 0) {
        fprintf(stderr, "standalone_driver: %s: no input in this directory\n", argv[a]);
        bad_arg = 1;
      }
    } else if (run_file(argv[a]) == 0) {
      passed++;
    } else {
      failed++;
    }
  }
  printf("%s: %lu passed, %lu failed\n", argv[0], passed, failed);
  if (passed == 0)
    fprintf(stderr, "standalone_driver: no input was run: a missing corpus is not a pass\n");
  return (failed || bad_arg || passed == 0) ? 1 : 0;
}
