/* Makes every fsync and fdatasync of the process it is preloaded into take
 * SLOW_FSYNC_MS longer (default 20 ms): what one commit costs on a Raspberry
 * Pi's SD card, where this machine's disk takes about 0.4 ms.
 *
 *   gcc -shared -fPIC -O2 -o slow_fsync.so slow_fsync.c -ldl
 *   LD_PRELOAD=./slow_fsync.so queue-server ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void pause_like_an_sd_card(void) {
    static long ms = -1;
    if (ms < 0) {
        const char *v = getenv("SLOW_FSYNC_MS");
        ms = v ? atol(v) : 20;
    }
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int r = real(fd);
    pause_like_an_sd_card();
    return r;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int r = real(fd);
    pause_like_an_sd_card();
    return r;
}
