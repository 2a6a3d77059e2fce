/* An experiment from config to run folder: View 1 (train on DevTrain, test on DevTest) or
 * the View 2 protocol (one model per fold, trained without that fold's people). */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "siamcl/plot.h"

int sc_mkdirs(const char *path);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- data --------------------------------------------------------------------------- */

static int load_pairs(sc_run *r, const char *list, sc_pairs *out)
{
    return sc_lfw_pairs_load(&r->lfw, list, out);
}

static int open_dataset(sc_run *r, int *ids, int n)
{
    const sc_data_cfg *d = &r->cfg->data;
    sc_prep prep = {d->image_size, d->crop_x, d->crop_y, d->crop_w, d->crop_h, 0, 0};
    sc_dataset_opts o;
    sc_dataset_opts_default(&o);
    o.cache_dir = d->cache[0] ? d->cache : NULL;
    double t0 = now();
    SC_TRY(sc_dataset_open_lfw(&r->ds, r->ctx, &r->lfw, ids, n, &prep, &o));
    if (d->crop_w > 0 && n > 0) { /* the frame the box is set on, for facedb's photos */
        char rel[1024], path[2100];
        sc_image img;
        SC_TRY(sc_lfw_image_relpath(&r->lfw, ids[0], rel, sizeof rel));
        snprintf(path, sizeof path, "%s/%s", r->lfw.root, rel);
        SC_TRY(sc_image_load(path, &img));
        r->frame_w = img.w, r->frame_h = img.h;
        sc_image_free(&img);
    }
    sc_run_msg(r, "data: %d images %dx%d ready on the device in %.1f s (%.1f MiB)%s%s", r->ds.count,
               r->ds.size, r->ds.size, now() - t0, sc_dataset_device_bytes(&r->ds) / 1048576.0,
               r->ds.cache_status == SC_CACHE_HIT ? ", from the cache " : "",
               r->ds.cache_status == SC_CACHE_HIT ? r->ds.cache_path : "");
    if (r->ds.cache_note[0])
        sc_run_msg(r, "data cache: %s", r->ds.cache_note);
    return SC_OK;
}

/* Every image id of the given pairs and people, sorted and distinct. */
static int image_set(const sc_run *r, const sc_pairs **pairs, int np, const sc_people *people,
                     int **ids, int *n)
{
    unsigned char *used = calloc((size_t)r->lfw.n_images, 1);
    if (!used)
        return sc_fail("out of host memory");
    for (int i = 0; i < np; i++)
        for (int k = 0; k < pairs[i]->n; k++)
            used[pairs[i]->p[k].a] = used[pairs[i]->p[k].b] = 1;
    for (int i = 0; people && i < people->n; i++) {
        const sc_lfw_person *p = &r->lfw.people[people->person[i]];
        memset(used + p->first, 1, (size_t)p->count);
    }
    int m = 0;
    for (int i = 0; i < r->lfw.n_images; i++)
        m += used[i];
    *ids = malloc(sizeof **ids * (size_t)(m ? m : 1));
    if (!*ids) {
        free(used);
        return sc_fail("out of host memory");
    }
    *n = 0;
    for (int i = 0; i < r->lfw.n_images; i++)
        if (used[i])
            (*ids)[(*n)++] = i;
    free(used);
    return SC_OK;
}

/* Refuses to evaluate on people the model trains on: the training people are `who`, or the
 * people of `train` when the fixed pair list is the training set. */
static int refuse_leak(sc_run *r, const sc_pairs *test, const char *test_name, const sc_pairs *train,
                       const sc_people *who)
{
    unsigned char *trained = calloc((size_t)r->lfw.n_people, 1);
    if (!trained)
        return sc_fail("out of host memory");
    if (who)
        for (int i = 0; i < who->n; i++)
            trained[who->person[i]] = 1;
    else
        for (int i = 0; i < train->n; i++)
            trained[r->lfw.image_person[train->p[i].a]] = trained[r->lfw.image_person[train->p[i].b]] = 1;
    int bad = 0, first = -1;
    for (int i = 0; i < test->n; i++) {
        int hit = trained[r->lfw.image_person[test->p[i].a]] || trained[r->lfw.image_person[test->p[i].b]];
        bad += hit;
        if (hit && first < 0)
            first = r->lfw.image_person[trained[r->lfw.image_person[test->p[i].a]] ? test->p[i].a
                                                                                  : test->p[i].b];
    }
    free(trained);
    if (bad)
        return sc_fail("refusing to evaluate: %d of the %d test pairs (%s) include people the "
                       "model trains on (e.g. %s); choose training people disjoint from the test "
                       "people", bad, test->n, test_name, r->lfw.people[first].name);
    return SC_OK;
}

/* ---- progress and files --------------------------------------------------------------- */

typedef struct progress_ctx {
    sc_run *r;
    sc_trainer *t;
    int fold;
    double start;
    long start_step;
} progress_ctx;

static void on_step(void *user, int step, int steps, double loss, double ips)
{
    progress_ctx *p = user;
    const sc_config *c = p->r->cfg;
    if (!p->r->o->on_progress)
        return;
    long total = (long)c->train.epochs * steps, done = p->t->step - p->start_step;
    double el = now() - p->start;
    sc_progress pr = {p->t->epoch + 1, c->train.epochs, step, steps, loss, ips,
                      done > 0 ? el / done * (total - p->t->step) : 0, p->fold};
    p->r->o->on_progress(p->r->o->user, &pr);
}

/* "tar_at_far_1e-2" for a power of ten, "tar_at_far_0.05" otherwise (prefix + "_" unless
 * the prefix ends in '='). */
static void far_key(char *buf, size_t size, const char *prefix, double far)
{
    double e = log10(far);
    const char *sep = prefix[0] && prefix[strlen(prefix) - 1] == '=' ? "" : "_";
    if (fabs(e - round(e)) < 1e-9)
        snprintf(buf, size, "%s%s1e%d", prefix, sep, (int)round(e));
    else
        snprintf(buf, size, "%s%s%g", prefix, sep, far);
}

static void json_run_info(sc_run *r, sc_json *j)
{
    sc_json_str(j, "name", r->cfg->experiment.name);
    sc_json_int(j, "seed", (long long)r->cfg->experiment.seed);
    sc_json_str(j, "device", r->ctx->dev.name);
    sc_json_str(j, "platform", r->ctx->dev.platform_name);
    sc_json_str(j, "driver", r->ctx->dev.driver);
    sc_json_str(j, "git", sc_git_revision());
}

static void json_v1(sc_json *j, const sc_v1_result *v, const sc_eval_cfg *e)
{
    sc_json_num(j, "auc", v->m.auc);
    sc_json_num(j, "eer", v->m.eer);
    sc_json_num(j, "accuracy", v->m.accuracy);
    sc_json_num(j, "threshold", v->m.threshold);
    sc_json_num(j, "train_accuracy", v->train_accuracy);
    for (int i = 0; i < v->m.n_far && i < e->n_far; i++) {
        char key[64];
        far_key(key, sizeof key, "tar_at_far", v->m.far[i]);
        sc_json_num(j, key, v->m.tar[i]);
    }
}

static int meta_num(sc_ckpt *ck, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", v);
    return sc_ckpt_meta_set(ck, key, buf);
}

/* The checkpoint's record of how images are prepared, as metadata key = text. */
static const char *const prep_keys[] = {"crop", "image_size", "prep_size", "norm_mean",
                                        "norm_std", "test_flip", "crop_frame"};
#define N_PREP_KEYS (sizeof prep_keys / sizeof prep_keys[0])

static void prep_value(const sc_run *r, const sc_trainer *t, size_t key, char *buf, size_t n)
{
    const sc_data_cfg *d = &r->cfg->data;
    const float *v = key == 3 ? t->aug.mean : t->aug.std;
    switch (key) {
    case 0:
        if (d->crop_w > 0)
            snprintf(buf, n, "%d,%d,%d,%d", d->crop_x, d->crop_y, d->crop_w, d->crop_h);
        else
            snprintf(buf, n, "none");
        break;
    case 1:
        snprintf(buf, n, "%.9g", (double)t->in_size);
        break;
    case 2:
        snprintf(buf, n, "%.9g", (double)r->ds.size);
        break;
    case 3:
    case 4:
        snprintf(buf, n, "%.9g,%.9g,%.9g", v[0], v[1], v[2]);
        break;
    case 5:
        snprintf(buf, n, "%.9g", (double)d->test_flip);
        break;
    default: /* the training images' size (LFW: 250x250), where the box is in pixels */
        if (d->crop_w > 0 && r->frame_w > 0)
            snprintf(buf, n, "%dx%d", r->frame_w, r->frame_h);
        else
            snprintf(buf, n, "none");
    }
}

/* --eval-only must prepare the test images as the checkpoint's training did: the network
 * checks only shapes, and another crop or normalisation gives a plausible, wrong AUC. */
static int check_eval_prep(const sc_run *r, const sc_trainer *t, const sc_ckpt *ck,
                           const char *from)
{
    char want[256], have[256];
    for (size_t i = 0; i < N_PREP_KEYS; i++) {
        if (sc_ckpt_meta_get(ck, prep_keys[i], want, sizeof want) != SC_OK)
            continue; /* not recorded: nothing to compare */
        prep_value(r, t, i, have, sizeof have);
        if (strcmp(want, have) != 0)
            return sc_fail("--eval-only %s: the checkpoint's images were prepared with %s = %s, "
                           "this config gives %s: evaluate with its run's config.ini",
                           from, prep_keys[i], want, have);
    }
    return SC_OK;
}

/* model.ckpt (or another name): parameters, position, history, and what the verification
 * system needs to prepare images exactly as in training. */
static int save_checkpoint(sc_run *r, sc_trainer *t, const char *name, const sc_v1_result *res)
{
    sc_ckpt ck;
    SC_TRY(sc_trainer_checkpoint(t, &ck));
    char buf[256], path[1200];
    int rc = SC_OK;
    for (size_t i = 0; i < N_PREP_KEYS; i++) {
        prep_value(r, t, i, buf, sizeof buf);
        rc |= sc_ckpt_meta_set(&ck, prep_keys[i], buf);
    }
    rc |= meta_num(&ck, "embedding_dim", sc_net_out_dim(t->net));
    rc |= meta_num(&ck, "seed", (double)r->cfg->experiment.seed);
    rc |= sc_ckpt_meta_set(&ck, "name", r->cfg->experiment.name);
    rc |= sc_ckpt_meta_set(&ck, "git", sc_git_revision());
    if (res) {
        rc |= meta_num(&ck, "threshold_eer", res->thr_eer);
        rc |= meta_num(&ck, "threshold_far_0.01", res->thr_far2);
        rc |= meta_num(&ck, "threshold_far_0.001", res->thr_far3);
        rc |= meta_num(&ck, "threshold_accuracy", res->m.threshold);
        rc |= meta_num(&ck, "test_auc", res->m.auc);
    }
    float hl[4096], ha[4096], he[4096];
    for (int i = 0; i < r->n_loss; i++)
        hl[i] = (float)r->loss_hist[i];
    for (int i = 0; i < r->n_auc; i++)
        ha[i] = (float)r->auc_hist[i], he[i] = (float)r->auc_epoch[i];
    if (rc == SC_OK)
        rc = sc_ckpt_blob_add(&ck, "hist.loss", hl, (size_t)r->n_loss);
    if (rc == SC_OK)
        rc = sc_ckpt_blob_add(&ck, "hist.auc", ha, (size_t)r->n_auc);
    if (rc == SC_OK)
        rc = sc_ckpt_blob_add(&ck, "hist.auc_epoch", he, (size_t)r->n_auc);
    sc_run_path(r, name, path, sizeof path);
    if (rc == SC_OK)
        rc = sc_ckpt_write(path, &ck);
    sc_ckpt_free(&ck);
    return rc == SC_OK ? SC_OK : SC_ERR;
}

static int restore_history(sc_run *r, const sc_ckpt *ck)
{
    const sc_ckpt_blob *l = sc_ckpt_blob_find(ck, "hist.loss"), *a = sc_ckpt_blob_find(ck, "hist.auc"),
                       *e = sc_ckpt_blob_find(ck, "hist.auc_epoch");
    if (!l || !a || !e || a->n != e->n || l->n > 4096 || a->n > 4096)
        return sc_fail("checkpoint has no training history: not written by runexp training");
    r->n_loss = (int)l->n;
    for (size_t i = 0; i < l->n; i++)
        r->loss_hist[i] = l->data[i];
    r->n_auc = (int)a->n;
    for (size_t i = 0; i < a->n; i++)
        r->auc_hist[i] = a->data[i], r->auc_epoch[i] = (int)e->data[i];
    return SC_OK;
}

static int write_loss_png(sc_run *r)
{
    char path[1200];
    sc_run_path(r, "loss.png", path, sizeof path);
    return sc_plot_loss(path, r->loss_hist, r->n_loss, r->auc_epoch, r->auc_hist, r->n_auc);
}

/* ---- training ----------------------------------------------------------------------- */

/* Trains to the configured number of epochs, evaluating on `test` every eval_every epochs
 * and checkpointing to `ckpt_name` after every epoch. */
static int train_loop(sc_run *r, sc_trainer *t, const sc_pairs *train, const sc_pairs *test,
                      int fold, const char *ckpt_name, double *sec_per_epoch)
{
    const sc_config *c = r->cfg;
    char jsonl[1200];
    sc_run_path(r, "metrics.jsonl", jsonl, sizeof jsonl);
    progress_ctx pc = {r, t, fold, now(), t->step};
    int logged_start = 0;
    sc_epoch_hooks h = {r->o->stop, r->o->stop_after_steps, on_step, &pc};
    double total_s = 0;
    int epochs_run = 0;
    while (t->epoch < c->train.epochs) {
        double loss, secs;
        int stopped;
        double lr = sc_trainer_lr(t);
        if (r->ctx->profile) /* this epoch's training only, not the evaluation before it */
            sc_profile_reset(r->ctx);
        SC_TRY(sc_trainer_epoch(t, &h, &loss, &stopped, &secs));
        if (!logged_start && t->first_step_done > 0) {
            logged_start = 1;
            sc_run_msg(r, "startup: %.2f s from start to the end of the first training step",
                       t->first_step_done - r->t_start);
        }
        if (stopped) {
            SC_TRY(save_checkpoint(r, t, ckpt_name, NULL));
            r->o->interrupted = 1;
            if (fold) { /* view2() refuses --resume: say so rather than advise it */
                sc_run_msg(r, "interrupted in fold %d at epoch %d, step %d: View 2 runs cannot "
                              "be resumed (each fold trains from scratch); run again",
                           fold, t->epoch + 1, t->pos);
                return SC_OK;
            }
            sc_run_path(r, ckpt_name, r->o->resume_from, sizeof r->o->resume_from);
            sc_run_msg(r, "interrupted at epoch %d, step %d: checkpoint %s written; continue "
                          "with --resume %s", t->epoch + 1, t->pos, r->o->resume_from,
                       r->o->resume_from);
            return SC_OK;
        }
        if (r->ctx->profile) { /* training kernels only: reported before any evaluation */
            char prof[8192];
            sc_profile_report(r->ctx, prof, sizeof prof);
            sc_run_msg(r, "kernel time this epoch (%d steps):\n%s", t->steps_per_epoch, prof);
        }
        total_s += secs, epochs_run++;
        double ips = t->steps_per_epoch * (double)t->batch_images / (secs > 0 ? secs : 1e-9);
        if (r->n_loss < 4096)
            r->loss_hist[r->n_loss++] = loss;
        sc_json j;
        sc_json_begin(&j);
        if (fold)
            sc_json_int(&j, "fold", fold);
        sc_json_int(&j, "epoch", t->epoch);
        sc_json_num(&j, "loss", loss);
        sc_json_num(&j, "seconds", secs);
        sc_json_num(&j, "images_per_s", ips);
        sc_json_num(&j, "lr", lr);
        char line[160] = "";
        int ev = c->experiment.eval_every;
        if (test && ev > 0 && t->epoch % ev == 0 && t->epoch < c->train.epochs) {
            sc_v1_result v;
            if (sc_eval_view1(r, t, train, test, 0, &v) != SC_OK) {
                sc_json_free(&j);
                return SC_ERR;
            }
            sc_json_num(&j, "auc", v.m.auc);
            sc_json_num(&j, "accuracy", v.m.accuracy);
            if (r->n_auc < 4096)
                r->auc_epoch[r->n_auc] = t->epoch, r->auc_hist[r->n_auc++] = v.m.auc;
            snprintf(line, sizeof line, ", test AUC %.4f, accuracy %.4f", v.m.auc, v.m.accuracy);
        }
        int rc = sc_json_append(&j, jsonl);
        sc_json_free(&j);
        SC_TRY(rc);
        char which[32] = "";
        if (fold)
            snprintf(which, sizeof which, "fold %d, ", fold);
        sc_run_msg(r, "%sepoch %d/%d: loss %.5f, %.1f s, %.0f images/s%s", which, t->epoch,
                   c->train.epochs, loss, secs, ips, line);
        SC_TRY(save_checkpoint(r, t, ckpt_name, NULL));
        int every = c->train.checkpoint_every;
        if (every > 0 && t->epoch % every == 0) {
            char name[96];
            snprintf(name, sizeof name, "epoch%03d.ckpt", t->epoch);
            SC_TRY(save_checkpoint(r, t, name, NULL));
        }
    }
    *sec_per_epoch = epochs_run ? total_s / epochs_run : NAN; /* null: none timed here */
    return SC_OK;
}

/* ---- View 1 ------------------------------------------------------------------------- */

static int view1(sc_run *r)
{
    const sc_config *c = r->cfg;
    sc_pairs train = {0}, test = {0};
    sc_people who = {0};
    sc_trainer t = {0};
    int *ids = NULL, n = 0, has_who = c->data.sampler != SC_SAMPLER_PAIRS, rc = SC_ERR;
    if (load_pairs(r, c->data.train_pairs, &train) != SC_OK ||
        load_pairs(r, c->data.test_pairs, &test) != SC_OK ||
        (has_who && sc_lfw_people_load(&r->lfw, c->data.train_people, &who) != SC_OK) ||
        refuse_leak(r, &test, c->data.test_pairs, &train, has_who ? &who : NULL) != SC_OK)
        goto out;
    const sc_pairs *lists[2] = {&train, &test};
    if (image_set(r, lists, 2, has_who ? &who : NULL, &ids, &n) != SC_OK ||
        open_dataset(r, ids, n) != SC_OK ||
        sc_trainer_init(&t, c, r->ctx, &r->lfw, &r->ds, &train, has_who ? &who : NULL) != SC_OK)
        goto out;
    char desc[4096];
    sc_net_describe(t.net, desc, sizeof desc);
    sc_run_msg(r, "network: %zu parameters, input 3x%dx%d, embedding %d; %d steps of %d images "
                  "per epoch", sc_net_param_count(t.net), t.in_size, t.in_size,
               sc_net_out_dim(t.net), t.steps_per_epoch, t.batch_images);
    if (r->log)
        fprintf(r->log, "%s", desc);
    const char *from = r->o->eval_only ? r->o->eval_only : r->o->resume;
    if (from) {
        sc_ckpt ck;
        if (sc_ckpt_read(from, &ck) != SC_OK)
            goto out;
        int ok = r->o->eval_only
                     ? (check_eval_prep(r, &t, &ck, from) == SC_OK ? sc_ckpt_to_net(&ck, t.net)
                                                                    : SC_ERR)
                     : (sc_trainer_restore(&t, &ck) == SC_OK ? restore_history(r, &ck) : SC_ERR);
        sc_ckpt_free(&ck);
        if (ok != SC_OK) {
            sc_fail_context("%s", from);
            goto out;
        }
        char done[1200];
        sc_run_path(r, "metrics.json", done, sizeof done);
        if (r->o->resume && t.epoch >= c->train.epochs && access(done, F_OK) == 0) {
            sc_fail("--resume %s: that run finished its %d epochs (results in %s): nothing to "
                    "train; --eval-only %s evaluates it again in a new folder",
                    from, t.epoch, done, from);
            goto out;
        }
        if (r->o->resume && t.epoch < c->train.epochs)
            sc_run_msg(r, "resuming at epoch %d, step %d of %d", t.epoch + 1, t.pos + 1,
                       t.steps_per_epoch);
        else if (r->o->resume)
            sc_run_msg(r, "resuming: training is done, the final evaluation is not");
    }
    double spe = 0;
    if (!r->o->eval_only) {
        if (train_loop(r, &t, &train, &test, 0, "model.ckpt", &spe) != SC_OK)
            goto out;
        if (r->o->interrupted) {
            rc = SC_OK;
            goto out;
        }
    }
    sc_v1_result v;
    if (sc_eval_view1(r, &t, &train, &test, 1, &v) != SC_OK)
        goto out;
    if (!r->o->eval_only) {
        if (r->n_auc == 0 || r->auc_epoch[r->n_auc - 1] != t.epoch)
            r->auc_epoch[r->n_auc] = t.epoch, r->auc_hist[r->n_auc++] = v.m.auc;
        if (save_checkpoint(r, &t, "model.ckpt", &v) != SC_OK || write_loss_png(r) != SC_OK)
            goto out;
    }
    sc_json j;
    sc_json_begin(&j);
    json_v1(&j, &v, &c->eval);
    sc_json_int(&j, "epochs", r->o->eval_only ? 0 : t.epoch);
    sc_json_num(&j, "seconds_per_epoch", spe);
    sc_json_int(&j, "test_pairs", test.n);
    sc_json_num(&j, "threshold_eer", v.thr_eer);
    sc_json_num(&j, "threshold_far_1e-2", v.thr_far2);
    sc_json_num(&j, "threshold_far_1e-3", v.thr_far3);
    json_run_info(r, &j);
    char path[1200];
    sc_run_path(r, "metrics.json", path, sizeof path);
    int wrc = sc_json_write(&j, path);
    sc_json_free(&j);
    if (wrc != SC_OK)
        goto out;
    char tars[256] = "";
    for (int i = 0, len = 0; i < v.m.n_far && len < (int)sizeof tars; i++) {
        char key[64];
        far_key(key, sizeof key, "TAR@FAR=", v.m.far[i]);
        len += snprintf(tars + len, sizeof tars - (size_t)len, ", %s %.4f", key, v.m.tar[i]);
    }
    sc_run_msg(r, "test (%s, %d pairs): AUC %.4f, EER %.4f, accuracy %.4f at threshold %.4f "
                  "(chosen on the training pairs)%s",
               c->data.test_pairs, test.n, v.m.auc, v.m.eer, v.m.accuracy, v.m.threshold, tars);
    rc = SC_OK;
out:
    sc_trainer_free(&t);
    sc_pairs_free(&train), sc_pairs_free(&test);
    sc_people_free(&who);
    free(ids);
    return rc;
}

/* ---- View 2 ------------------------------------------------------------------------- */

static int view2_fold(sc_run *r, const sc_pairs *all, const sc_people *people, int f,
                      double *dist_out, int *label_out, double *acc, double *auc, double *spe)
{
    const sc_config *c = r->cfg;
    sc_pairs train = {0}, test = {0};
    sc_people who = {0};
    sc_trainer t = {0};
    int rc = SC_ERR;
    if (sc_pairs_fold(all, f, 0, &train) != SC_OK || sc_pairs_fold(all, f, 1, &test) != SC_OK ||
        sc_people_select(people, ~(1u << f), &who) != SC_OK)
        goto out;
    char name[600];
    snprintf(name, sizeof name, "fold %d of %.500s", f + 1, c->data.view2_pairs);
    if (refuse_leak(r, &test, name, &train, c->data.sampler == SC_SAMPLER_PAIRS ? NULL : &who) != SC_OK ||
        sc_trainer_init(&t, c, r->ctx, &r->lfw, &r->ds, &train, &who) != SC_OK)
        goto out;
    r->n_loss = r->n_auc = 0;
    snprintf(name, sizeof name, "fold%02d.ckpt", f + 1);
    if (train_loop(r, &t, &train, &test, f + 1, name, spe) != SC_OK)
        goto out;
    if (r->o->interrupted) { /* not an error: view2() stops cleanly */
        rc = SC_OK;
        goto out;
    }
    sc_v1_result v;
    if (sc_eval_view1(r, &t, &train, &test, 0, &v) != SC_OK ||
        save_checkpoint(r, &t, name, &v) != SC_OK)
        goto out;
    /* this fold's distances, from this fold's model, for the pooled scores */
    int *ids, n, dim;
    float *emb;
    if (sc_pairs_images(&test, &ids, &n) != SC_OK)
        goto out;
    if (sc_trainer_embed(&t, ids, n, &emb, &dim) != SC_OK) {
        free(ids);
        goto out;
    }
    rc = sc_pair_distances(&test, ids, n, emb, dim, dist_out, label_out);
    free(ids), free(emb);
    *acc = v.m.accuracy, *auc = v.m.auc;
    sc_run_msg(r, "fold %d: accuracy %.4f (threshold %.4f from the other folds), AUC %.4f", f + 1,
               v.m.accuracy, v.m.threshold, v.m.auc);
out:
    sc_trainer_free(&t);
    sc_pairs_free(&train), sc_pairs_free(&test);
    sc_people_free(&who);
    return rc;
}

static int view2(sc_run *r)
{
    const sc_config *c = r->cfg;
    sc_pairs all = {0};
    sc_people people = {0};
    int *ids = NULL, n = 0, rc = SC_ERR;
    double *dist = NULL;
    int *label = NULL, *fold = NULL;
    if (r->o->resume || r->o->eval_only)
        return sc_fail("--resume and --eval-only are for View 1 runs; the View 2 protocol trains "
                       "one model per fold from scratch");
    if (load_pairs(r, c->data.view2_pairs, &all) != SC_OK ||
        sc_lfw_people_load(&r->lfw, c->eval.people, &people) != SC_OK)
        goto out;
    if (all.folds != people.folds || all.folds < 2) {
        sc_fail("%s has %d folds but %s has %d", c->data.view2_pairs, all.folds, c->eval.people,
                people.folds);
        goto out;
    }
    const sc_pairs *lists[1] = {&all};
    dist = malloc(sizeof *dist * (size_t)all.n);
    label = malloc(sizeof *label * (size_t)all.n);
    fold = malloc(sizeof *fold * (size_t)all.n);
    if (!dist || !label || !fold) {
        sc_fail("out of host memory");
        goto out;
    }
    if (image_set(r, lists, 1, &people, &ids, &n) != SC_OK || open_dataset(r, ids, n) != SC_OK)
        goto out;
    double acc[32], auc[32], spe_sum = 0;
    int nf = 0, m = 0;
    for (int f = 0; f < all.folds && f < 32; f++) {
        if (c->eval.folds && !(c->eval.folds >> f & 1u))
            continue;
        sc_run_msg(r, "fold %d of %d: training on the other folds' people", f + 1, all.folds);
        int cnt = 0;
        for (int i = 0; i < all.n; i++)
            cnt += all.p[i].fold == f;
        double spe;
        if (view2_fold(r, &all, &people, f, dist + m, label + m, &acc[nf], &auc[nf], &spe) != SC_OK)
            goto out;
        if (r->o->interrupted) {
            rc = SC_OK;
            goto out;
        }
        for (int i = 0; i < cnt; i++)
            fold[m + i] = f;
        m += cnt, spe_sum += spe, nf++;
    }
    double ma = 0, mu = 0, va = 0;
    for (int i = 0; i < nf; i++)
        ma += acc[i] / nf, mu += auc[i] / nf;
    for (int i = 0; i < nf; i++)
        va += (acc[i] - ma) * (acc[i] - ma) / (nf > 1 ? nf - 1 : 1);
    double se = sqrt(va / nf);
    sc_verif_metrics pooled;
    sc_roc roc = {0};
    char p1[1200], p2[1200], p3[1200], p4[1200];
    sc_run_path(r, "scores.csv", p1, sizeof p1);
    sc_run_path(r, "roc.csv", p2, sizeof p2);
    sc_run_path(r, "roc.png", p3, sizeof p3);
    sc_run_path(r, "metrics.json", p4, sizeof p4);
    if (sc_verif_evaluate(dist, label, (size_t)m, NAN, c->eval.far, c->eval.n_far, &pooled) != SC_OK ||
        sc_scores_write_csv(dist, label, fold, (size_t)m, p1) != SC_OK ||
        sc_roc_compute(dist, label, (size_t)m, &roc) != SC_OK || sc_roc_write_csv(&roc, p2) != SC_OK ||
        sc_plot_roc(p3, &roc, pooled.auc, c->experiment.name, c->eval.log_far) != SC_OK ||
        write_loss_png(r) != SC_OK) {
        sc_roc_free(&roc);
        goto out;
    }
    sc_roc_free(&roc);
    sc_json j;
    sc_json_begin(&j);
    sc_json_str(&j, "protocol", "view2");
    sc_json_int(&j, "folds", nf);
    sc_json_num(&j, "accuracy", ma);
    sc_json_num(&j, "accuracy_se", se);
    sc_json_num(&j, "auc", mu);
    sc_json_nums(&j, "fold_accuracy", acc, (size_t)nf);
    sc_json_nums(&j, "fold_auc", auc, (size_t)nf);
    sc_json_num(&j, "pooled_auc", pooled.auc);
    sc_json_num(&j, "eer", pooled.eer);
    for (int i = 0; i < pooled.n_far; i++) {
        char key[64];
        far_key(key, sizeof key, "tar_at_far", pooled.far[i]);
        sc_json_num(&j, key, pooled.tar[i]);
    }
    sc_json_int(&j, "epochs", c->train.epochs);
    sc_json_num(&j, "seconds_per_epoch", nf ? spe_sum / nf : 0);
    json_run_info(r, &j);
    int wrc = sc_json_write(&j, p4);
    sc_json_free(&j);
    if (wrc != SC_OK)
        goto out;
    sc_run_msg(r, "View 2 (%d folds): accuracy %.4f +- %.4f (standard error), mean AUC %.4f", nf, ma,
               se, mu);
    rc = SC_OK;
out:
    sc_pairs_free(&all);
    sc_people_free(&people);
    free(ids), free(dist), free(label), free(fold);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------ */

static int choose_dir(sc_run *r)
{
    const sc_run_opts *o = r->o;
    const char *dir = o->out_dir && *o->out_dir ? o->out_dir : r->cfg->experiment.out;
    if (dir && *dir)
        snprintf(r->dir, sizeof r->dir, "%s", dir);
    else if (o->resume) { /* the run the checkpoint belongs to */
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", o->resume);
        snprintf(r->dir, sizeof r->dir, "%s", dirname(tmp));
    } else {
        char stamp[32];
        time_t tt = time(NULL);
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(r->dir, sizeof r->dir, "runs/%s%s-%s", r->cfg->experiment.name,
                 o->eval_only ? "-eval" : "", stamp);
    }
    return sc_mkdirs(r->dir);
}

/* A resumed run must continue with the config it started with. */
static int check_resume_config(sc_run *r)
{
    char path[1200], key[128];
    sc_run_path(r, "config.ini", path, sizeof path);
    sc_config *old = malloc(sizeof *old);
    if (!old)
        return sc_fail("out of host memory");
    int rc = sc_config_load(old, path);
    if (rc == SC_OK) {
        memcpy(old->experiment.device, r->cfg->experiment.device, sizeof old->experiment.device);
        memcpy(old->experiment.out, r->cfg->experiment.out, sizeof old->experiment.out);
        if (sc_config_diff(r->cfg, old, key, sizeof key))
            rc = sc_fail("--resume: %s differs from the run's %s; resume with the same config",
                         key, path);
    } else {
        sc_fail_context("--resume needs the run's config");
    }
    free(old);
    return rc;
}

/* A new run (not --resume) may not write into a folder that holds another run's results:
 * its config.ini and metrics would no longer match its model. A folder left by a run that
 * failed before training (config.ini and log.txt only) can be used again. */
static int refuse_finished(sc_run *r)
{
    static const char *results[] = {"model.ckpt", "metrics.jsonl", "metrics.json"};
    char path[1200];
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        sc_run_path(r, results[i], path, sizeof path);
        if (access(path, F_OK) == 0)
            return sc_fail("run folder %s already holds a run (%s): choose another --out, or "
                           "continue that run with --resume %s/model.ckpt",
                           r->dir, path, r->dir);
    }
    return SC_OK;
}

int sc_experiment_run(const sc_config *cfg, sc_run_opts *opts)
{
    sc_run *r = calloc(1, sizeof *r);
    if (!r)
        return sc_fail("out of host memory");
    r->cfg = cfg, r->o = opts;
    r->t_start = now();
    opts->interrupted = 0;
    opts->resume_from[0] = '\0';
    int rc = SC_ERR;
    if (choose_dir(r) != SC_OK || (!opts->resume && refuse_finished(r) != SC_OK))
        goto out;
    snprintf(opts->run_dir, sizeof opts->run_dir, "%s", r->dir);
    char path[1200];
    sc_run_path(r, "log.txt", path, sizeof path);
    r->log = fopen(path, "a");
    if (!r->log) {
        sc_fail("cannot write %s", path);
        goto out;
    }
    if (opts->resume ? check_resume_config(r) != SC_OK : 0)
        goto out;
    sc_run_path(r, "config.ini", path, sizeof path);
    if (!opts->resume && sc_config_write(cfg, path) != SC_OK)
        goto out;
    const char *dev = opts->device && *opts->device ? opts->device : cfg->experiment.device;
    /* SIAMCL_PROFILE=1: kernel time per family, logged after every epoch (issue 7's profile). */
    const char *prof = getenv("SIAMCL_PROFILE");
    if (sc_ctx_create(&r->ctx, dev, prof && *prof && *prof != '0' ? SC_CTX_PROFILE : 0) != SC_OK)
        goto out;
    sc_run_msg(r, "run %s: folder %s, seed %llu, git %s", cfg->experiment.name, r->dir,
               (unsigned long long)cfg->experiment.seed, sc_git_revision());
    sc_run_msg(r, "device: %s (%s, %s, driver %s)", r->ctx->dev.name, r->ctx->dev.platform_name,
               sc_device_type_name(r->ctx->dev.type), r->ctx->dev.driver);
    if (r->ctx->warning[0])
        sc_run_msg(r, "warning: %s", r->ctx->warning);
    if (sc_lfw_open(&r->lfw, cfg->data.root, SC_LFW_NO_FILE_CHECK) != SC_OK)
        goto out;
    rc = cfg->eval.view2 ? view2(r) : view1(r);
out:
    if (rc != SC_OK && r->log)
        fprintf(r->log, "error: %s\n", sc_last_error());
    sc_dataset_close(&r->ds);
    if (r->lfw.people)
        sc_lfw_close(&r->lfw);
    sc_ctx_destroy(r->ctx);
    if (r->log)
        fclose(r->log);
    free(r);
    return rc;
}
