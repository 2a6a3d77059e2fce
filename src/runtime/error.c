#include "siamcl/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local so the data loader's worker threads can fail independently. */
static _Thread_local char last_error[2048];

int sc_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return SC_ERR;
}

int sc_fail_context(const char *fmt, ...)
{
    char prefix[1024], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* Long messages are cut at the buffer's end on purpose. */
    if (snprintf(last_error, sizeof last_error, "%s: %s", prefix, old) < 0)
        last_error[0] = '\0';
    return SC_ERR;
}

const char *sc_last_error(void) { return last_error; }

void sc_clear_error(void) { last_error[0] = '\0'; }
