/* The run folder: where it is, its log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

void sc_run_path(const sc_run *r, const char *name, char *buf, size_t size)
{
    if (snprintf(buf, size, "%s/%s", r->dir, name) >= (int)size)
        buf[0] = '\0'; /* too long: the open that follows fails with a message */
}

void sc_run_msg(sc_run *r, const char *fmt, ...)
{
    char line[16384]; /* the SIAMCL_PROFILE table is up to 8 KB */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->log) {
        time_t t = time(NULL);
        struct tm tm;
        char stamp[32];
        localtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(r->log, "%s %s\n", stamp, line);
        fflush(r->log);
    }
    if (r->o->on_message)
        r->o->on_message(r->o->user, line);
}

/* mkdir -p */
int sc_mkdirs(const char *path)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return sc_fail("path too long: %s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return sc_fail("cannot create folder %s: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return sc_fail("cannot create folder %s: %s", tmp, strerror(errno));
    return SC_OK;
}
