/* Decode + prepare a whole image list on every core. Work is handed out one image at a time
 * through an atomic counter (decode times vary with file size), each worker reusing one file
 * buffer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

typedef struct job {
    const char *root;
    const char *const *relpaths;
    int n;
    const sc_prep *prep;
    uint8_t *host;
    atomic_int next;
    atomic_int failed;
    pthread_mutex_t mu;
    char err[2048];
} job;

int sc_online_cores(void)
{
#ifdef _SC_NPROCESSORS_ONLN
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (n > 256 ? 256 : (int)n) : 1;
#else
    return 1;
#endif
}

static void record_failure(job *j)
{
    pthread_mutex_lock(&j->mu);
    if (!atomic_load(&j->failed)) {
        snprintf(j->err, sizeof j->err, "%s", sc_last_error());
        atomic_store(&j->failed, 1);
    }
    pthread_mutex_unlock(&j->mu);
}

static void *worker(void *arg)
{
    job *j = arg;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, bytes = (size_t)3 * j->prep->size * j->prep->size;
    size_t rl = strlen(j->root);
    char *path = NULL;
    size_t path_cap = 0;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || atomic_load(&j->failed))
            break;
        size_t need = rl + strlen(j->relpaths[i]) + 2;
        if (need > path_cap) {
            char *p = realloc(path, need);
            if (!p) {
                sc_fail("out of memory");
                record_failure(j);
                break;
            }
            path = p;
            path_cap = need;
        }
        snprintf(path, path_cap, "%s/%s", j->root, j->relpaths[i]);
        sc_image img;
        if (sc_file_read(path, &buf, &cap, &len) != SC_OK ||
            sc_image_decode(buf, len, path, &img) != SC_OK) {
            record_failure(j);
            break;
        }
        int rc = sc_image_prepare(&img, j->prep, path, j->host + (size_t)i * bytes);
        sc_image_free(&img);
        if (rc != SC_OK) {
            record_failure(j);
            break;
        }
    }
    free(buf);
    free(path);
    return NULL;
}

int sc_prepare_all(const char *root, const char *const *relpaths, int n, const sc_prep *prep,
                   int threads, uint8_t *host)
{
    SC_TRY(sc_prep_check(prep));
    if (threads <= 0)
        threads = sc_online_cores();
    if (threads > n)
        threads = n > 0 ? n : 1;
    job j = {.root = root, .relpaths = relpaths, .n = n, .prep = prep, .host = host};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.mu, NULL);
    pthread_t *tid = malloc(sizeof *tid * (size_t)threads);
    if (!tid) {
        pthread_mutex_destroy(&j.mu);
        return sc_fail("out of memory");
    }
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &j) != 0)
            break;
    if (started == 0) /* no threads at all: do the work here */
        worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    pthread_mutex_destroy(&j.mu);
    if (atomic_load(&j.failed))
        return sc_fail("%s", j.err);
    return SC_OK;
}
