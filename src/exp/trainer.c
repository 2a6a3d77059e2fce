/* The training loop on the device: sample -> gather/augment -> forward -> loss head ->
 * backward -> one optimizer launch. No host synchronisation per step except reading the
 * loss every log_every steps; everything is allocated once in sc_trainer_init. */
#include "trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siamcl/ops.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int alloc(sc_trainer *t, sc_tensor *x, int ndim, const int *shape)
{
    return sc_tensor_alloc(t->ctx, x, ndim, shape);
}

static int setup_augment(sc_trainer *t, const int *train_ids, int n_train)
{
    const sc_data_cfg *d = &t->cfg->data;
    sc_augment_default(&t->aug);
    t->aug.out_size = d->image_size; /* jitter shifts the window, repeating edge pixels */
    t->aug.flip = d->flip ? SC_FLIP_RANDOM : SC_FLIP_NONE;
    t->aug.jitter = d->jitter;
    t->aug.brightness = (float)d->brightness;
    t->aug.contrast = (float)d->contrast;
    if (d->normalize == SC_NORM_NONE)
        for (int c = 0; c < 3; c++)
            t->aug.std[c] = 1.0f / 255.0f; /* raw 0..255 values */
    else if (d->normalize == SC_NORM_MEANSTD) /* training images only: no test leak */
        SC_TRY(sc_dataset_channel_stats(t->ds, train_ids, n_train, t->aug.mean, t->aug.std));
    SC_TRY(sc_augment_check(&t->aug, t->ds->size));
    t->aug_eval = t->aug;
    sc_augment_eval(&t->aug_eval);
    t->in_size = sc_augment_out_size(&t->aug, t->ds->size);
    return SC_OK;
}

/* Image ids the sampler can draw, for the normalisation statistics. */
static int train_image_ids(const sc_trainer *t, const sc_pairs *pairs, const sc_people *who,
                           int **ids, int *n)
{
    if (t->cfg->data.sampler == SC_SAMPLER_PAIRS)
        return sc_pairs_images(pairs, ids, n);
    int total = 0;
    int np = who ? who->n : t->lfw->n_people;
    for (int i = 0; i < np; i++)
        total += t->lfw->people[who ? who->person[i] : i].count;
    *ids = malloc(sizeof **ids * (size_t)(total ? total : 1));
    if (!*ids)
        return sc_fail("out of host memory");
    *n = 0;
    for (int i = 0; i < np; i++) {
        const sc_lfw_person *p = &t->lfw->people[who ? who->person[i] : i];
        for (int k = 0; k < p->count; k++)
            (*ids)[(*n)++] = p->first + k;
    }
    return SC_OK;
}

static int setup_sampler(sc_trainer *t, const sc_pairs *pairs, const sc_people *who)
{
    const sc_config *c = t->cfg;
    uint64_t seed = c->experiment.seed;
    switch (c->data.sampler) {
    case SC_SAMPLER_PAIRS:
        SC_TRY(sc_pair_sampler_fixed(&t->ps, t->lfw, pairs, who, seed));
        t->n_pairs = t->ps.n;
        break;
    case SC_SAMPLER_BALANCED:
        SC_TRY(sc_pair_sampler_balanced(&t->ps, t->lfw, who, c->data.pairs_per_epoch, seed));
        t->n_pairs = t->ps.n;
        break;
    case SC_SAMPLER_PK:
        SC_TRY(sc_pk_sampler_init(&t->pk, t->lfw, who, c->data.p, c->data.k, 1, seed));
        t->use_pk = 1;
        t->batch_images = c->data.p * c->data.k;
        t->steps_per_epoch = c->data.batches_per_epoch > 0 ? c->data.batches_per_epoch
                                                            : sc_pk_sampler_batches(&t->pk);
        if (t->steps_per_epoch <= 0)
            return sc_fail("pk sampler: fewer than p = %d eligible people", c->data.p);
        return SC_OK;
    }
    if (t->n_pairs <= 0)
        return sc_fail("the pair sampler has no pairs");
    int b = c->train.batch;
    t->batch_images = 2 * b;
    t->steps_per_epoch = (t->n_pairs + b - 1) / b; /* the last batch may be smaller */
    return SC_OK;
}

static int setup_buffers(sc_trainer *t)
{
    const sc_config *c = t->cfg;
    int N = t->batch_images, T = t->in_size, D = sc_net_out_dim(t->net);
    int B = t->use_pk ? N : N / 2;
    SC_TRY(alloc(t, &t->x, 4, (int[]){N, 3, T, T}));
    SC_TRY(alloc(t, &t->loss, 1, (int[]){1}));
    SC_TRY(alloc(t, &t->stats, 1, (int[]){4}));
    SC_TRY(alloc(t, &t->de, 2, (int[]){N, D}));
    SC_TRY(alloc(t, &t->loss_hist, 1, (int[]){t->steps_per_epoch}));
    size_t ws = t->use_pk ? sc_triplet_workspace(N) : sc_contrastive_workspace(B);
    SC_TRY(alloc(t, &t->ws, 1, (int[]){(int)(ws ? ws : 1)}));
    if (t->use_pk)
        SC_TRY(alloc(t, &t->dist, 2, (int[]){N, N}));
    else
        SC_TRY(alloc(t, &t->dist, 1, (int[]){B}));
    size_t np = t->net->params.n;
    if (c->train.optimizer == SC_OPT_SGD && c->train.momentum > 0)
        SC_TRY(alloc(t, &t->mom, 1, (int[]){(int)np}));
    if (c->train.optimizer == SC_OPT_ADAM) {
        SC_TRY(alloc(t, &t->adam_m, 1, (int[]){(int)np}));
        SC_TRY(alloc(t, &t->adam_v, 1, (int[]){(int)np}));
    }
    SC_TRY(sc_buffer_alloc(t->ctx, &t->labels, sizeof(float) * SC_LABEL_RING * N, "labels"));
    t->lab_host = calloc((size_t)SC_LABEL_RING * N, sizeof *t->lab_host);
    t->ids = calloc((size_t)N, sizeof *t->ids);
    if (!t->lab_host || !t->ids)
        return sc_fail("out of host memory");
    return SC_OK;
}

int sc_trainer_init(sc_trainer *t, const sc_config *cfg, sc_ctx *ctx, const sc_lfw *lfw,
                    sc_dataset *ds, const sc_pairs *train_pairs, const sc_people *train_people)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg, t->ctx = ctx, t->lfw = lfw, t->ds = ds;
    int *ids = NULL, n = 0;
    int rc = SC_ERR;
    if (setup_sampler(t, train_pairs, train_people) != SC_OK ||
        train_image_ids(t, train_pairs, train_people, &ids, &n) != SC_OK ||
        setup_augment(t, ids, n) != SC_OK)
        goto out;
    /* Evaluation reuses the network's buffers in chunks of at least 64 images. */
    int max_batch = t->batch_images > 64 ? t->batch_images : 64;
    if (sc_net_create(ctx, cfg->model.layer, cfg->model.n_layers, 3, t->in_size, t->in_size,
                      max_batch, &t->net) != SC_OK ||
        sc_net_init(t->net, (sc_init)cfg->model.init, cfg->experiment.seed) != SC_OK)
        goto out;
    t->net->seed = (uint32_t)(cfg->experiment.seed * 2654435761u + 12345u);
    if (setup_buffers(t) != SC_OK)
        goto out;
    rc = SC_OK;
out:
    free(ids);
    if (rc != SC_OK) {
        sc_fail_context("setting up training");
        sc_trainer_free(t);
    }
    return rc;
}

void sc_trainer_free(sc_trainer *t)
{
    if (t->ctx)
        clFinish(t->ctx->queue);
    for (int i = 0; i < SC_LABEL_RING; i++)
        if (t->lab_ev[i])
            clReleaseEvent(t->lab_ev[i]);
    if (t->labels)
        clReleaseMemObject(t->labels);
    sc_tensor *ts[] = {&t->x, &t->dist, &t->loss, &t->de, &t->ws, &t->stats, &t->loss_hist,
                       &t->mom, &t->adam_m, &t->adam_v};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        sc_tensor_free(ts[i]);
    sc_net_free(t->net);
    if (t->use_pk)
        sc_pk_sampler_free(&t->pk);
    else if (t->ps.cur || t->ps.base || t->ps.people)
        sc_pair_sampler_free(&t->ps);
    free(t->lab_host);
    free(t->ids);
    memset(t, 0, sizeof *t);
}

double sc_trainer_lr(const sc_trainer *t)
{
    const sc_train_cfg *c = &t->cfg->train;
    double steps = t->steps_per_epoch;
    double e = t->epoch + t->pos / steps; /* fractional epoch */
    if (c->warmup_epochs > 0 && e < c->warmup_epochs)
        return c->lr * (t->step + 1) / (c->warmup_epochs * steps);
    double after = e - c->warmup_epochs;
    switch (c->schedule) {
    case SC_SCHED_STEP:
        return c->lr * pow(c->gamma, floor((t->epoch - c->warmup_epochs) / (double)c->step_epochs));
    case SC_SCHED_COSINE: {
        double span = c->epochs - c->warmup_epochs;
        return c->min_lr + (c->lr - c->min_lr) * 0.5 * (1 + cos(3.14159265358979323846 * after / span));
    }
    case SC_SCHED_CONSTANT:
    default:
        return c->lr;
    }
}

/* Labels go up through a ring of slots so the upload never waits for the device. */
static int upload_labels(sc_trainer *t, const float *y, int n, sc_tensor *out)
{
    int slot = t->lab_pos;
    t->lab_pos = (t->lab_pos + 1) % SC_LABEL_RING;
    if (t->lab_ev[slot]) {
        SC_CL(clWaitForEvents(1, &t->lab_ev[slot])); /* long done: a ring's worth ago */
        clReleaseEvent(t->lab_ev[slot]);
        t->lab_ev[slot] = NULL;
    }
    size_t off = (size_t)slot * t->batch_images;
    memcpy(t->lab_host + off, y, sizeof *y * (size_t)n);
    SC_CL(clEnqueueWriteBuffer(t->ctx->queue, t->labels, CL_FALSE, off * sizeof(float),
                               sizeof(float) * (size_t)n, t->lab_host + off, 0, NULL,
                               &t->lab_ev[slot]));
    *out = sc_tensor_view(t->labels, off, 1, (int[]){n});
    return SC_OK;
}

static int optimizer_step(sc_trainer *t)
{
    const sc_train_cfg *c = &t->cfg->train;
    sc_net *net = t->net;
    int step = (int)t->step + 1;
    float lr = (float)sc_trainer_lr(t);
    if (c->optimizer == SC_OPT_ADAM) {
        sc_adam_opts o = {lr, (float)c->beta1, (float)c->beta2, 1e-8f, (float)c->weight_decay, 0};
        return sc_adam_step(t->ctx, &o, step, &net->params, &net->grads, &t->adam_m, &t->adam_v,
                            &net->decay_mask);
    }
    sc_sgd_opts o = {lr, (float)c->momentum, 0, (float)c->weight_decay, 0};
    return sc_sgd_step(t->ctx, &o, step, &net->params, &net->grads, t->mom.buf ? &t->mom : NULL,
                       &net->decay_mask);
}

/* One optimizer step on the next batch. */
static int train_step(sc_trainer *t)
{
    const sc_config *c = t->cfg;
    sc_ctx *ctx = t->ctx;
    int n, nlab;
    float y[4096];
    if (t->use_pk) {
        n = nlab = t->batch_images;
        if (n > 4096)
            return sc_fail("batch of %d images: at most 4096", n);
        SC_TRY(sc_pk_sampler_next(&t->pk, t->ids, y));
    } else {
        int b = c->train.batch, left = t->n_pairs - t->pos * b;
        b = left < b ? left : b;
        if (b > 2048)
            return sc_fail("batch of %d pairs: at most 2048", b);
        SC_TRY(sc_pair_sampler_next(&t->ps, b, t->ids, y));
        n = 2 * b, nlab = b;
    }
    sc_tensor x = sc_tensor_view(t->x.buf, t->x.off, 4, (int[]){n, 3, t->in_size, t->in_size});
    SC_TRY(sc_dataset_gather(ctx, t->ds, t->ids, n, &t->aug, c->experiment.seed,
                             (uint64_t)t->step, &x));
    sc_tensor labels, e;
    SC_TRY(upload_labels(t, y, nlab, &labels));
    t->net->step = (uint32_t)t->step; /* forward increments: dropout masks use step + 1 */
    SC_TRY(sc_net_forward(t->net, &x, 1, &e));
    int D = sc_net_out_dim(t->net);
    sc_tensor de = sc_tensor_view(t->de.buf, t->de.off, 2, (int[]){n, D});
    if (t->use_pk) {
        sc_triplet_opts o = {(sc_triplet_mining)c->train.mining, (float)c->train.margin,
                             c->train.squared};
        sc_tensor dist = sc_tensor_view(t->dist.buf, 0, 2, (int[]){n, n});
        SC_TRY(sc_triplet_head(ctx, &e, &labels, &o, &dist, &t->loss, &t->stats, &de, &t->ws));
    } else {
        sc_tensor dist = sc_tensor_view(t->dist.buf, 0, 1, (int[]){nlab});
        SC_TRY(sc_contrastive_siamese(ctx, &e, &labels, (float)c->train.margin, &dist, &t->loss,
                                      &de, &t->ws));
    }
    SC_CL(clEnqueueCopyBuffer(ctx->queue, t->loss.buf, t->loss_hist.buf, 0,
                              sizeof(float) * (size_t)t->pos, sizeof(float), 0, NULL, NULL));
    SC_TRY(sc_net_backward(t->net, &de, NULL));
    SC_TRY(optimizer_step(t));
    t->step++;
    t->pos++;
    return SC_OK;
}

/* Adds the losses of steps [from, to) of this epoch to the running sum; NaN is an error. */
static int collect_losses(sc_trainer *t, int from, int to)
{
    if (to <= from)
        return SC_OK;
    float *l = malloc(sizeof *l * (size_t)(to - from));
    if (!l)
        return sc_fail("out of host memory");
    cl_int err = clEnqueueReadBuffer(t->ctx->queue, t->loss_hist.buf, CL_TRUE,
                                     sizeof(float) * (size_t)from, sizeof(float) * (size_t)(to - from),
                                     l, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        free(l);
        return sc_cl_fail(err, "clEnqueueReadBuffer(losses)", __FILE__, __LINE__);
    }
    for (int i = 0; i < to - from; i++) {
        if (!isfinite(l[i])) {
            float v = l[i];
            free(l);
            return sc_fail("the training loss became %s at epoch %d, step %d: training stopped "
                           "(the last good checkpoint is kept); lower the learning rate",
                           isnan(v) ? "NaN" : "infinite", t->epoch + 1, from + i + 1);
        }
        t->epoch_loss_sum += l[i];
        t->epoch_loss_n++;
    }
    free(l);
    return SC_OK;
}

static int read_loss(sc_trainer *t, int at, float *v)
{
    SC_CL(clEnqueueReadBuffer(t->ctx->queue, t->loss_hist.buf, CL_TRUE, sizeof(float) * (size_t)at,
                              sizeof(float), v, 0, NULL, NULL));
    return SC_OK;
}

int sc_trainer_epoch(sc_trainer *t, const sc_epoch_hooks *h, double *mean_loss, int *stopped,
                     double *seconds)
{
    *stopped = 0;
    *mean_loss = NAN;
    int first = t->pos, steps = t->steps_per_epoch;
    int every = t->cfg->train.log_every > 0 ? t->cfg->train.log_every : steps;
    if (!t->use_pk)
        SC_TRY(sc_pair_sampler_seek(&t->ps, t->epoch, t->pos * t->cfg->train.batch));
    double t0 = now();
    long done = 0;
    while (t->pos < steps) {
        SC_TRY(train_step(t));
        done++;
        if (t->first_step_done == 0) { /* startup cost: wait for the first step once */
            SC_CL(clFinish(t->ctx->queue));
            t->first_step_done = now();
        }
        if (t->pos % every == 0 || t->pos == steps) {
            float l;
            SC_TRY(read_loss(t, t->pos - 1, &l));
            if (!isfinite(l))
                return collect_losses(t, first, t->pos);
            if (h && h->on_progress)
                h->on_progress(h->user, t->pos, steps, l,
                               done * t->batch_images / (now() - t0 + 1e-9));
        }
        if (t->pos < steps && h &&
            ((h->stop && *h->stop) || (h->stop_after_steps > 0 && done >= h->stop_after_steps))) {
            *stopped = 1;
            break;
        }
    }
    SC_TRY(collect_losses(t, first, t->pos));
    *seconds = now() - t0;
    if (*stopped)
        return SC_OK;
    *mean_loss = t->epoch_loss_sum / (t->epoch_loss_n ? t->epoch_loss_n : 1);
    t->epoch++;
    t->pos = 0;
    t->epoch_loss_sum = 0;
    t->epoch_loss_n = 0;
    return SC_OK;
}

static int put_meta_long(sc_ckpt *ck, const char *key, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return sc_ckpt_meta_set(ck, key, buf);
}

int sc_trainer_checkpoint(const sc_trainer *t, sc_ckpt *ck)
{
    SC_TRY(sc_ckpt_from_net(ck, t->net));
    char sum[64];
    snprintf(sum, sizeof sum, "%a", t->epoch_loss_sum); /* hex: exact across a resume */
    const sc_tensor *extra[3] = {&t->mom, &t->adam_m, &t->adam_v};
    const char *names[3] = {"opt.momentum", "opt.adam_m", "opt.adam_v"};
    int rc = SC_OK;
    for (int i = 0; i < 3 && rc == SC_OK; i++) {
        if (!extra[i]->buf)
            continue;
        float *h = malloc(sizeof *h * extra[i]->n);
        rc = !h ? sc_fail("out of host memory")
                : sc_tensor_download(t->ctx, extra[i], h) == SC_OK
                      ? sc_ckpt_blob_add(ck, names[i], h, extra[i]->n)
                      : SC_ERR;
        free(h);
    }
    if (rc == SC_OK)
        rc = put_meta_long(ck, "epoch", t->epoch) || put_meta_long(ck, "pos", t->pos) ||
             put_meta_long(ck, "step", t->step) ||
             put_meta_long(ck, "epoch_loss_n", t->epoch_loss_n) ||
             sc_ckpt_meta_set(ck, "epoch_loss_sum", sum);
    if (rc != SC_OK)
        sc_ckpt_free(ck);
    return rc == SC_OK ? SC_OK : SC_ERR;
}

static int meta_long(const sc_ckpt *ck, const char *key, long *v)
{
    char buf[64], *end;
    SC_TRY(sc_ckpt_meta_get(ck, key, buf, sizeof buf));
    *v = strtol(buf, &end, 10);
    return *end ? sc_fail("checkpoint: bad %s '%s'", key, buf) : SC_OK;
}

int sc_trainer_restore(sc_trainer *t, const sc_ckpt *ck)
{
    SC_TRY(sc_ckpt_to_net(ck, t->net));
    const sc_tensor *extra[3] = {&t->mom, &t->adam_m, &t->adam_v};
    const char *names[3] = {"opt.momentum", "opt.adam_m", "opt.adam_v"};
    for (int i = 0; i < 3; i++) {
        if (!extra[i]->buf)
            continue;
        const sc_ckpt_blob *b = sc_ckpt_blob_find(ck, names[i]);
        if (!b || b->n != extra[i]->n)
            return sc_fail("checkpoint has no optimizer state '%s' for this config", names[i]);
        SC_TRY(sc_tensor_upload(t->ctx, extra[i], b->data));
    }
    long epoch, pos, step, n;
    char sum[64];
    SC_TRY(meta_long(ck, "epoch", &epoch));
    SC_TRY(meta_long(ck, "pos", &pos));
    SC_TRY(meta_long(ck, "step", &step));
    SC_TRY(meta_long(ck, "epoch_loss_n", &n));
    SC_TRY(sc_ckpt_meta_get(ck, "epoch_loss_sum", sum, sizeof sum));
    if (pos < 0 || pos >= t->steps_per_epoch || epoch < 0 || step < 0)
        return sc_fail("checkpoint position (epoch %ld, step %ld) does not fit this config", epoch,
                       pos);
    t->epoch = (int)epoch, t->pos = (int)pos, t->step = step;
    t->epoch_loss_n = (int)n;
    t->epoch_loss_sum = strtod(sum, NULL);
    if (t->use_pk) /* the P x K stream has no seek: replay its draws (cheap, host only) */
        for (long i = 0; i < step; i++)
            SC_TRY(sc_pk_sampler_next(&t->pk, t->ids, t->lab_host));
    return SC_OK;
}

int sc_trainer_embed(sc_trainer *t, const int *ids, int n, float **emb, int *dim)
{
    sc_ctx *ctx = t->ctx;
    int D = sc_net_out_dim(t->net), chunk = t->net->max_batch, T = t->in_size;
    int views = t->cfg->data.test_flip ? 2 : 1;
    *dim = D;
    *emb = NULL;
    sc_tensor all;
    SC_TRY(sc_tensor_alloc(ctx, &all, 2, (int[]){views * n, D}));
    float *host = malloc(sizeof *host * (size_t)views * n * D);
    int rc = host ? SC_OK : sc_fail("out of host memory");
    for (int v = 0; v < views && rc == SC_OK; v++) {
        sc_augment a = t->aug_eval;
        a.flip = v ? SC_FLIP_ALL : SC_FLIP_NONE;
        for (int i = 0; i < n && rc == SC_OK; i += chunk) {
            int m = n - i < chunk ? n - i : chunk;
            sc_tensor x = sc_tensor_view(t->x.buf, t->x.off, 4, (int[]){m, 3, T, T}), e;
            if (t->x.n < x.n) { /* evaluation chunks may exceed the training batch */
                sc_tensor_free(&t->x);
                rc = sc_tensor_alloc(ctx, &t->x, 4, (int[]){chunk, 3, T, T});
                if (rc != SC_OK)
                    break;
                x = sc_tensor_view(t->x.buf, t->x.off, 4, (int[]){m, 3, T, T});
            }
            rc = sc_dataset_gather(ctx, t->ds, ids + i, m, &a, 0, 0, &x);
            if (rc == SC_OK)
                rc = sc_net_forward(t->net, &x, 0, &e);
            if (rc == SC_OK) {
                cl_int err = clEnqueueCopyBuffer(ctx->queue, e.buf, all.buf, e.off * sizeof(float),
                                                 ((size_t)v * n + i) * D * sizeof(float),
                                                 (size_t)m * D * sizeof(float), 0, NULL, NULL);
                if (err != CL_SUCCESS)
                    rc = sc_cl_fail(err, "clEnqueueCopyBuffer(embeddings)", __FILE__, __LINE__);
            }
        }
    }
    if (rc == SC_OK)
        rc = sc_tensor_download(ctx, &all, host);
    sc_tensor_free(&all);
    if (rc != SC_OK) {
        free(host);
        return sc_fail_context("embedding %d images", n);
    }
    if (views == 2) /* test-time flip: the mean of the two views' embeddings */
        for (size_t k = 0; k < (size_t)n * D; k++)
            host[k] = 0.5f * (host[k] + host[(size_t)n * D + k]);
    *emb = host;
    return SC_OK;
}
