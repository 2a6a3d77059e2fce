/* Errors: library code never prints or exits; it returns SC_ERR and leaves a message. */
#ifndef SIAMCL_ERROR_H
#define SIAMCL_ERROR_H

#define SC_OK 0
#define SC_ERR (-1)

#if defined(__GNUC__)
#define SC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SC_PRINTF(a, b)
#endif

/* Records a formatted message for the calling thread and returns SC_ERR. */
int sc_fail(const char *fmt, ...) SC_PRINTF(1, 2);
/* Prefixes the current message with more context ("loading x.ckpt: ...") and returns SC_ERR. */
int sc_fail_context(const char *fmt, ...) SC_PRINTF(1, 2);
/* The last message recorded on this thread ("" if none). */
const char *sc_last_error(void);
void sc_clear_error(void);

/* Propagate a failure: `SC_TRY(sc_x(...));` returns SC_ERR from the caller on error. */
#define SC_TRY(expr)                 \
    do {                             \
        if ((expr) != SC_OK)         \
            return SC_ERR;           \
    } while (0)

#endif
