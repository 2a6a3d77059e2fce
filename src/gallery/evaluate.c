/* The whole system on LFW, the way a company would run it: every test person with at least
 * two images is enrolled from their first image only; their other images are probes of
 * enrolled people, and the images of the test people with a single image are strangers who
 * were never enrolled. Identification runs through the same gallery (device search) as
 * `facedb identify`, verification through the same exact distances as `facedb verify`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siamcl/eval.h"
#include "siamcl/gallery.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct eval_state {
    sc_embedder em;
    sc_lfw lfw;
    sc_people people;
    sc_dataset ds;
    sc_gallery g;
    int *ids;       /* every image used: gallery, genuine probes, strangers */
    int *truth;     /* probe -> gallery person (-1: stranger) */
    float *emb;     /* [ids, D] */
    sc_match *best; /* probe -> nearest person */
    int *found;
    double *stranger; /* nearest distance of each stranger, sorted */
    double *vd;       /* verification claims */
    int *vl;
} eval_state;

static void eval_free(eval_state *s)
{
    sc_gallery_free(&s->g);
    sc_dataset_close(&s->ds);
    sc_people_free(&s->people);
    sc_lfw_close(&s->lfw);
    sc_embedder_close(&s->em);
    free(s->ids), free(s->truth), free(s->emb), free(s->best), free(s->found);
    free(s->stranger), free(s->vd), free(s->vl);
}

/* Image ids: enrolled people's first images (gallery order), then their other images, then
 * the strangers'. */
static int choose_images(eval_state *s, sc_system_eval *r, int *n_ids)
{
    const sc_lfw *lfw = &s->lfw;
    int total = 0;
    for (int i = 0; i < s->people.n; i++)
        total += lfw->people[s->people.person[i]].count;
    s->ids = malloc(sizeof *s->ids * (size_t)total);
    s->truth = malloc(sizeof *s->truth * (size_t)total);
    if (!s->ids || !s->truth)
        return sc_fail("out of memory");
    int n = 0;
    for (int i = 0; i < s->people.n; i++) {
        const sc_lfw_person *p = &lfw->people[s->people.person[i]];
        if (p->count >= 2)
            s->ids[n++] = p->first, r->enrolled++;
    }
    int gal = 0;
    for (int i = 0; i < s->people.n; i++) {
        const sc_lfw_person *p = &lfw->people[s->people.person[i]];
        if (p->count < 2)
            continue;
        for (int k = 1; k < p->count; k++) {
            s->truth[n - r->enrolled] = gal;
            s->ids[n++] = p->first + k, r->genuine++;
        }
        gal++;
    }
    for (int i = 0; i < s->people.n; i++) {
        const sc_lfw_person *p = &lfw->people[s->people.person[i]];
        if (p->count == 1) {
            s->truth[n - r->enrolled] = -1;
            s->ids[n++] = p->first, r->strangers++;
        }
    }
    if (r->enrolled < 2 || r->genuine < 1 || r->strangers < 1)
        return sc_fail("the people list has %d people with two or more images and %d with one: "
                       "the evaluation needs at least 2 and 1", r->enrolled, r->strangers);
    *n_ids = n;
    return SC_OK;
}

/* Open-set figures at threshold t (accept distance <= t). */
static void open_set_at(const eval_state *s, const sc_system_eval *r, double t, double *dir,
                        double *false_alarm)
{
    int hit = 0, alarms = 0;
    for (int i = 0; i < r->genuine; i++)
        hit += s->found[i] && s->best[i].person == s->truth[i] && s->best[i].distance <= t;
    for (int i = 0; i < r->strangers; i++)
        alarms += s->stranger[i] <= t;
    *dir = (double)hit / r->genuine;
    if (false_alarm)
        *false_alarm = (double)alarms / r->strangers;
}

static int run(eval_state *s, sc_ctx *ctx, const char *ckpt_path, const sc_system_eval_opts *o,
               sc_system_eval *r)
{
    SC_TRY(sc_embedder_open(&s->em, ctx, ckpt_path, o->batch > 0 ? o->batch : 64));
    int D = s->em.dim;
    SC_TRY(sc_lfw_open(&s->lfw, o->lfw_root, SC_LFW_NO_FILE_CHECK));
    SC_TRY(sc_lfw_people_load(&s->lfw, o->people ? o->people : "peopleDevTest.txt", &s->people));
    int n = 0;
    SC_TRY(choose_images(s, r, &n));
    sc_dataset_opts dopt;
    sc_dataset_opts_default(&dopt);
    dopt.cache_dir = o->cache_dir;
    SC_TRY(sc_dataset_open_lfw(&s->ds, ctx, &s->lfw, s->ids, n, &s->em.info.prep, &dopt));
    s->emb = malloc(sizeof *s->emb * (size_t)n * D);
    if (!s->emb)
        return sc_fail("out of memory");
    double t0 = now_s();
    SC_TRY(sc_embed_dataset(&s->em, &s->ds, s->ids, n, s->emb));
    r->seconds_embed = now_s() - t0;
    r->images_per_s = n / (r->seconds_embed > 0 ? r->seconds_embed : 1e-9);

    /* enroll: one template per person, named by LFW name */
    SC_TRY(sc_gallery_init(&s->g, ctx, D));
    int gal = 0;
    for (int i = 0; i < s->people.n; i++) {
        const sc_lfw_person *p = &s->lfw.people[s->people.person[i]];
        if (p->count >= 2) {
            SC_TRY(sc_gallery_add(&s->g, p->name, 0, s->emb + (size_t)gal * D, 1));
            gal++;
        }
    }
    /* identify every probe: genuine ones, then strangers */
    int np = r->genuine + r->strangers;
    const float *probes = s->emb + (size_t)r->enrolled * D;
    s->best = malloc(sizeof *s->best * (size_t)np);
    s->found = malloc(sizeof *s->found * (size_t)np);
    s->stranger = malloc(sizeof *s->stranger * (size_t)r->strangers);
    if (!s->best || !s->found || !s->stranger)
        return sc_fail("out of memory");
    t0 = now_s();
    SC_TRY(sc_gallery_identify(&s->g, probes, np, 1, s->best, s->found));
    r->seconds_search = now_s() - t0;
    int right = 0;
    for (int i = 0; i < r->genuine; i++)
        right += s->found[i] && s->best[i].person == s->truth[i];
    r->rank1 = (double)right / r->genuine;
    for (int i = 0; i < r->strangers; i++)
        s->stranger[i] = s->found[r->genuine + i] ? s->best[r->genuine + i].distance : INFINITY;
    qsort(s->stranger, (size_t)r->strangers, sizeof *s->stranger, cmp_double);

    /* DIR at a false-alarm rate: with S strangers, at most floor(far * S) of them may be
     * matched; the threshold sits just below the next stranger's distance */
    r->far_target[0] = 0.01, r->far_target[1] = 0.001;
    for (int f = 0; f < 2; f++) {
        int allowed = (int)floor(r->far_target[f] * r->strangers);
        double t = allowed >= r->strangers ? INFINITY : nextafter(s->stranger[allowed], -INFINITY);
        r->dir_threshold[f] = t;
        open_set_at(s, r, t, &r->dir[f], NULL);
    }

    /* 1:1 claims: each genuine probe claims its own identity and one other, chosen at random */
    r->claims = 2 * r->genuine;
    s->vd = malloc(sizeof *s->vd * (size_t)r->claims);
    s->vl = malloc(sizeof *s->vl * (size_t)r->claims);
    if (!s->vd || !s->vl)
        return sc_fail("out of memory");
    uint64_t rng = o->seed;
    for (int i = 0; i < r->genuine; i++) {
        const float *q = probes + (size_t)i * D;
        int own = s->truth[i];
        int other = (int)(splitmix(&rng) % (uint64_t)(r->enrolled - 1));
        other += other >= own;
        s->vd[2 * i] = sc_gallery_distance(&s->g, own, q);
        s->vl[2 * i] = SC_SAME;
        s->vd[2 * i + 1] = sc_gallery_distance(&s->g, other, q);
        s->vl[2 * i + 1] = SC_DIFFERENT;
    }
    sc_verif_metrics vm;
    double fars[2] = {0.01, 0.001};
    SC_TRY(sc_verif_evaluate(s->vd, s->vl, (size_t)r->claims, NAN, fars, 2, &vm));
    r->verif_auc = vm.auc;
    r->verif_eer = vm.eer;

    const sc_model_info *mi = &s->em.info;
    double cal[SC_SYSEVAL_THRESHOLDS] = {mi->threshold_eer, mi->threshold_far_1e2,
                                         mi->threshold_far_1e3};
    static const char *names[SC_SYSEVAL_THRESHOLDS] = {"eer", "far_0.01", "far_0.001"};
    for (int c = 0; c < SC_SYSEVAL_THRESHOLDS; c++) {
        r->cal_name[c] = names[c];
        r->cal_threshold[c] = cal[c];
        r->cal_dir[c] = r->cal_false_alarm[c] = NAN;
        r->cal_tar[c] = r->cal_far[c] = r->cal_accuracy[c] = NAN;
        if (isnan(cal[c]))
            continue;
        open_set_at(s, r, cal[c], &r->cal_dir[c], &r->cal_false_alarm[c]);
        int ta = 0, fa = 0;
        for (int i = 0; i < r->genuine; i++)
            ta += s->vd[2 * i] <= cal[c], fa += s->vd[2 * i + 1] <= cal[c];
        r->cal_tar[c] = (double)ta / r->genuine;
        r->cal_far[c] = (double)fa / r->genuine;
        r->cal_accuracy[c] = (double)(ta + (r->genuine - fa)) / r->claims;
    }
    return SC_OK;
}

int sc_system_evaluate(sc_ctx *ctx, const char *ckpt_path, const sc_system_eval_opts *o,
                       sc_system_eval *r)
{
    memset(r, 0, sizeof *r);
    if (!o || !o->lfw_root || !*o->lfw_root)
        return sc_fail("evaluate: no LFW folder given (--lfw DIR or $LFW_DIR)");
    eval_state s;
    memset(&s, 0, sizeof s);
    int rc = run(&s, ctx, ckpt_path, o, r);
    eval_free(&s);
    return rc == SC_OK ? SC_OK : sc_fail_context("facedb evaluate");
}
