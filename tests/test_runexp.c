/* runexp end to end on a small fake LFW the test writes itself (and, with LFW_DIR, a short
 * run on a subset of the real one): every run-folder file, --resume equals an uninterrupted
 * run, --eval-only, and refusing to test on trained people. */
#include "data_fixtures.h"

#include <math.h>

#include "siamcl/checkpoint.h"
#include "siamcl/experiment.h"
#include "support.h"

#define PEOPLE 12
#define IMAGES 4

/* Person p's images: a colour and stripe pattern of their own, plus per-image noise. */
static void fake_lfw(const char *dir)
{
    char path[4096], names[4096] = "";
    for (int p = 0; p < PEOPLE; p++) {
        char person[32];
        snprintf(person, sizeof person, "Person_%02d", p);
        snprintf(path, sizeof path, "%s/%s", dir, person);
        mkdir(path, 0755);
        for (int i = 1; i <= IMAGES; i++) {
            uint8_t px[40 * 40 * 3];
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 40; x++)
                    for (int c = 0; c < 3; c++) {
                        int stripe = ((x + y * (p % 3)) / (2 + p % 4)) % 2;
                        int v = 40 + 25 * ((p * (c + 1)) % 7) + 60 * stripe + (x * y * i * 7919 + c) % 23;
                        px[(y * 40 + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
                    }
            snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", dir, person, person, i);
            fx_jpeg(path, 40, 40, 3, px, 95);
        }
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s\t%d\n", person, IMAGES);
    }
    snprintf(path, sizeof path, "%s/lfw-names.txt", dir);
    fx_text(path, names);
    /* train: people 0..7, test: people 8..11 (disjoint, as View 1) */
    char tr[4096] = "10\n", te[4096] = "6\n";
    for (int k = 0; k < 10; k++)
        snprintf(tr + strlen(tr), sizeof tr - strlen(tr), "Person_%02d\t%d\t%d\n", k % 8, 1 + k % 3, 2 + k % 3);
    for (int k = 0; k < 10; k++)
        snprintf(tr + strlen(tr), sizeof tr - strlen(tr), "Person_%02d\t%d\tPerson_%02d\t%d\n", k % 8,
                 1 + k % 4, (k + 3) % 8, 1 + (k + 1) % 4);
    for (int k = 0; k < 6; k++)
        snprintf(te + strlen(te), sizeof te - strlen(te), "Person_%02d\t%d\t%d\n", 8 + k % 4, 1 + k % 3, 2 + k % 3);
    for (int k = 0; k < 6; k++)
        snprintf(te + strlen(te), sizeof te - strlen(te), "Person_%02d\t%d\tPerson_%02d\t%d\n", 8 + k % 4,
                 1 + k % 4, 8 + (k + 1) % 4, 1 + (k + 2) % 4);
    snprintf(path, sizeof path, "%s/pairsDevTrain.txt", dir);
    fx_text(path, tr);
    /* View 1 training people, and View 2: 3 folds of 4 people, 2 + 2 pairs per fold */
    char ptr[2048] = "8\n", v2[4096] = "3\t2\n", pe[2048] = "3\n";
    for (int q = 0; q < 8; q++)
        snprintf(ptr + strlen(ptr), sizeof ptr - strlen(ptr), "Person_%02d\t%d\n", q, IMAGES);
    for (int f = 0; f < 3; f++) {
        snprintf(pe + strlen(pe), sizeof pe - strlen(pe), "4\n");
        for (int q = 0; q < 4; q++)
            snprintf(pe + strlen(pe), sizeof pe - strlen(pe), "Person_%02d\t%d\n", 4 * f + q, IMAGES);
        for (int k = 0; k < 2; k++)
            snprintf(v2 + strlen(v2), sizeof v2 - strlen(v2), "Person_%02d\t%d\t%d\n", 4 * f + k, 1, 2 + k);
        for (int k = 0; k < 2; k++)
            snprintf(v2 + strlen(v2), sizeof v2 - strlen(v2), "Person_%02d\t%d\tPerson_%02d\t%d\n",
                     4 * f + k, 3, 4 * f + 2 + k, 4);
    }
    snprintf(path, sizeof path, "%s/peopleDevTrain.txt", dir);
    fx_text(path, ptr);
    snprintf(path, sizeof path, "%s/pairs.txt", dir);
    fx_text(path, v2);
    snprintf(path, sizeof path, "%s/people.txt", dir);
    fx_text(path, pe);
    snprintf(path, sizeof path, "%s/pairsDevTest.txt", dir);
    fx_text(path, te);
}

static const char *config_text =
    "[experiment]\nname = tiny\nseed = 3\n"
    "[data]\nimage_size = 16\n"
    "[model]\nlayer = conv out=4 k=3 stride=2 pad=1\nlayer = relu\nlayer = maxpool k=2\n"
    "layer = linear out=8\n"
    "[train]\nlr = 0.05\nmomentum = 0.9\nbatch = 4\nepochs = 2\nlog_every = 2\n"
    "[eval]\nerrors = 2\n";

static void load_config(sc_config *cfg, const char *root)
{
    char set[4200];
    sc_config_init(cfg);
    cr_assert_eq(sc_config_read_string(cfg, config_text, "tiny.ini"), SC_OK, "%s", sc_last_error());
    snprintf(set, sizeof set, "data.root=%s", root);
    cr_assert_eq(sc_config_set(cfg, set), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_check(cfg), SC_OK, "%s", sc_last_error());
}

/* A fake LFW in a fresh folder and the tiny config reading it, with `set` applied. */
static char *tiny_setup(sc_config *cfg, const char *set)
{
    char *root = fx_tmpdir();
    fake_lfw(root);
    load_config(cfg, root);
    if (set)
        cr_assert_eq(sc_config_set(cfg, set), SC_OK, "%s", sc_last_error());
    return root;
}

static void run(const sc_config *cfg, const char *out, const char *resume, const char *eval_only,
                long stop_after, int expect_interrupted)
{
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = out, o.resume = resume, o.eval_only = eval_only, o.stop_after_steps = stop_after;
    cr_assert_eq(sc_experiment_run(cfg, &o), SC_OK, "%s", sc_last_error());
    cr_assert_eq(o.interrupted, expect_interrupted);
    cr_assert_str_eq(o.run_dir, out);
}

static char *slurp(const char *dir, const char *name)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    uint8_t *d = fx_read(path, &n);
    char *s = realloc(d, n + 1);
    s[n] = '\0';
    return s;
}

static void expect_png(const char *dir, const char *name, int w, int h)
{
    size_t n;
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *d = fx_read(path, &n);
    cr_assert_gt(n, 33u, "%s is too small", name);
    cr_assert(memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", name);
    unsigned pw = (unsigned)d[16] << 24 | d[17] << 16 | d[18] << 8 | d[19];
    unsigned ph = (unsigned)d[20] << 24 | d[21] << 16 | d[22] << 8 | d[23];
    if (w > 0)
        cr_assert(pw == (unsigned)w && ph == (unsigned)h, "%s is %ux%u, want %dx%d", name, pw, ph, w, h);
    free(d);
}

Test(runexp, tiny_run_writes_every_file, .timeout = 240)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, NULL);
    char out[4200];
    snprintf(out, sizeof out, "%s/run", root);
    run(&cfg, out, NULL, NULL, 0, 0);
    const char *files[] = {"config.ini", "log.txt", "metrics.jsonl", "metrics.json", "model.ckpt",
                           "roc.csv", "scores.csv"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *s = slurp(out, files[i]);
        cr_assert_gt(strlen(s), 0u, "%s is empty", files[i]);
        free(s);
    }
    expect_png(out, "roc.png", 800, 600);
    expect_png(out, "loss.png", 800, 600);
    expect_png(out, "errors.png", 0, 0);
    char *m = slurp(out, "metrics.json");
    const char *keys[] = {"\"auc\"", "\"eer\"", "\"accuracy\"", "\"tar_at_far_1e-2\"",
                          "\"tar_at_far_1e-3\"", "\"epochs\": 2", "\"seconds_per_epoch\"",
                          "\"device\"", "\"git\"", "\"seed\": 3"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_assert(strstr(m, keys[i]), "metrics.json lacks %s: %s", keys[i], m);
    char *jl = slurp(out, "metrics.jsonl");
    int lines = 0;
    for (char *p = jl; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2, "one line per epoch: %s", jl);
    cr_assert(strstr(jl, "\"auc\""), "epoch 1 was evaluated: %s", jl);
    char *sc = slurp(out, "scores.csv");
    cr_assert(strncmp(sc, "pair,label,distance\n", 20) == 0);
    /* the resolved config reads back to the same experiment */
    sc_config back;
    char path[4300];
    snprintf(path, sizeof path, "%s/config.ini", out);
    cr_assert_eq(sc_config_load(&back, path), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_diff(&cfg, &back, NULL, 0), 0);
    /* the checkpoint carries what the verification system needs */
    sc_ckpt ck;
    snprintf(path, sizeof path, "%s/model.ckpt", out);
    cr_assert_eq(sc_ckpt_read(path, &ck), SC_OK, "%s", sc_last_error());
    char v[64];
    const char *meta[] = {"threshold_eer", "threshold_far_0.01", "threshold_far_0.001",
                          "image_size", "prep_size", "norm_mean", "norm_std", "crop", "crop_frame",
                          "embedding_dim"};
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++)
        cr_assert_eq(sc_ckpt_meta_get(&ck, meta[i], v, sizeof v), SC_OK, "%s", sc_last_error());
    sc_ckpt_free(&ck);
    /* --eval-only on the checkpoint reproduces the final AUC */
    char out2[4200];
    snprintf(out2, sizeof out2, "%s/eval", root);
    run(&cfg, out2, NULL, path, 0, 0);
    char *m2 = slurp(out2, "metrics.json");
    double a1 = strtod(strstr(m, "\"auc\": ") + 7, NULL), a2 = strtod(strstr(m2, "\"auc\": ") + 7, NULL);
    cr_assert_float_eq(a1, a2, 1e-12, "eval-only AUC %g vs run %g", a2, a1);
    /* ... and refuses a config that prepares the images otherwise */
    sc_config other = cfg;
    cr_assert_eq(sc_config_set(&other, "data.normalize=none"), SC_OK);
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    snprintf(out2, sizeof out2, "%s/eval2", root);
    o.out_dir = out2, o.eval_only = path;
    cr_assert_eq(sc_experiment_run(&other, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), "prepared with norm_std = "), "%s", sc_last_error());
    free(m), free(m2), free(jl), free(sc);
    fx_rmtree(root);
}

Test(runexp, resume_equals_uninterrupted, .timeout = 240)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, "experiment.eval_every=0");
    char a[4200], b[4200], ck[4300];
    snprintf(a, sizeof a, "%s/straight", root);
    snprintf(b, sizeof b, "%s/stopped", root);
    run(&cfg, a, NULL, NULL, 0, 0);
    snprintf(ck, sizeof ck, "%s/model.ckpt", b);
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = b, o.stop_after_steps = 3; /* 5 steps per epoch: stop in the middle of epoch 1 */
    cr_assert_eq(sc_experiment_run(&cfg, &o), SC_OK, "%s", sc_last_error());
    cr_assert_eq(o.interrupted, 1);
    cr_assert_str_eq(o.resume_from, ck, "the checkpoint to resume from");
    run(&cfg, b, ck, NULL, 4, 1);   /* stop again in epoch 2 */
    run(&cfg, b, ck, NULL, 0, 0);   /* and finish */
    char *ja = slurp(a, "metrics.jsonl"), *jb = slurp(b, "metrics.jsonl");
    /* same losses, bit for bit (times differ: compare the loss fields) */
    for (const char *pa = ja, *pb = jb; (pa = strstr(pa, "\"loss\": ")) && (pb = strstr(pb, "\"loss\": "));
         pa++, pb++) {
        double la = strtod(pa + 8, NULL), lb = strtod(pb + 8, NULL);
        cr_assert_eq(la, lb, "loss %.10g (uninterrupted) vs %.10g (resumed)", la, lb);
    }
    char *ma = slurp(a, "metrics.json"), *mb = slurp(b, "metrics.json");
    double x = strtod(strstr(ma, "\"auc\": ") + 7, NULL), y = strtod(strstr(mb, "\"auc\": ") + 7, NULL);
    cr_assert_eq(x, y);
    free(ja), free(jb), free(ma), free(mb);
    fx_rmtree(root);
}

/* A finished run's folder is never rewritten: not by a new run (its config.ini would no
 * longer match its model), not by resuming its final checkpoint. */
Test(runexp, refuses_to_overwrite_a_finished_run, .timeout = 240)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, "experiment.eval_every=0");
    char out[4200], ck[4300];
    snprintf(out, sizeof out, "%s/run", root);
    run(&cfg, out, NULL, NULL, 0, 0);
    char *conf = slurp(out, "config.ini"), *m = slurp(out, "metrics.json");
    sc_config other = cfg;
    cr_assert_eq(sc_config_set(&other, "experiment.seed=9"), SC_OK);
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = out;
    cr_assert_eq(sc_experiment_run(&other, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), "already holds a run"), "%s", sc_last_error());
    snprintf(ck, sizeof ck, "%s/model.ckpt", out);
    memset(&o, 0, sizeof o);
    o.out_dir = out, o.resume = ck;
    cr_assert_eq(sc_experiment_run(&cfg, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), "finished its 2 epochs"), "%s", sc_last_error());
    char *conf2 = slurp(out, "config.ini"), *m2 = slurp(out, "metrics.json");
    cr_assert_str_eq(conf2, conf, "config.ini was rewritten");
    cr_assert_str_eq(m2, m, "metrics.json was rewritten");
    free(conf), free(m), free(conf2), free(m2);
    fx_rmtree(root);
}

Test(runexp, refuses_to_test_on_trained_people, .timeout = 120)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, NULL);
    cr_assert_eq(sc_config_set(&cfg, "data.test_pairs=pairsDevTrain.txt"), SC_OK);
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    char out[4200];
    snprintf(out, sizeof out, "%s/leak", root);
    o.out_dir = out;
    cr_assert_eq(sc_experiment_run(&cfg, &o), SC_ERR);
    cr_assert(strstr(sc_last_error(), "refusing"), "%s", sc_last_error());
    fx_rmtree(root);
}

Test(runexp, triplet_pk_run, .timeout = 240)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, NULL);
    const char *sets[] = {"data.sampler=pk", "data.p=4", "data.k=2", "data.batches_per_epoch=3",
                          "train.loss=triplet", "train.mining=batch_hard", "train.margin=0.2",
                          "train.optimizer=adam", "train.lr=0.01", "model.layer.5=l2norm",
                          "data.flip=on", "data.jitter=2", "data.test_flip=on",
                          "data.normalize=meanstd"};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        cr_assert_eq(sc_config_set(&cfg, sets[i]), SC_OK, "%s: %s", sets[i], sc_last_error());
    cr_assert_eq(sc_config_check(&cfg), SC_OK, "%s", sc_last_error());
    char out[4200];
    snprintf(out, sizeof out, "%s/triplet", root);
    run(&cfg, out, NULL, NULL, 0, 0);
    char *jl = slurp(out, "metrics.jsonl");
    double l1 = strtod(strstr(jl, "\"loss\": ") + 8, NULL);
    cr_assert(isfinite(l1) && l1 >= 0, "%s", jl);
    free(jl);
    fx_rmtree(root);
}

Test(runexp, view2_protocol_trains_one_model_per_fold, .timeout = 300)
{
    sc_config cfg;
    char *root = tiny_setup(&cfg, NULL);
    cr_assert_eq(sc_config_set(&cfg, "eval.view2=on"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_set(&cfg, "train.epochs=1"), SC_OK);
    cr_assert_eq(sc_config_check(&cfg), SC_OK, "%s", sc_last_error());
    char out[4200];
    snprintf(out, sizeof out, "%s/v2", root);
    run(&cfg, out, NULL, NULL, 0, 0);
    char *m = slurp(out, "metrics.json");
    cr_assert(strstr(m, "\"folds\": 3"), "%s", m);
    cr_assert(strstr(m, "\"accuracy_se\""), "%s", m);
    cr_assert(strstr(m, "\"fold_accuracy\""), "%s", m);
    char *sc = slurp(out, "scores.csv");
    cr_assert(strncmp(sc, "pair,fold,label,distance\n", 25) == 0, "%s", sc);
    for (int f = 1; f <= 3; f++) {
        char name[32];
        snprintf(name, sizeof name, "fold%02d.ckpt", f);
        char *ck = slurp(out, name);
        free(ck);
    }
    free(m), free(sc);
    /* stopped in a fold: a clean interrupt (status 130 in runexp) that offers no --resume,
       which View 2 refuses */
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    snprintf(out, sizeof out, "%s/v2stop", root);
    o.out_dir = out, o.stop_after_steps = 1;
    cr_assert_eq(sc_experiment_run(&cfg, &o), SC_OK, "%s", sc_last_error());
    cr_assert_eq(o.interrupted, 1);
    cr_assert_str_eq(o.resume_from, "");
    char *log = slurp(out, "log.txt");
    cr_assert(strstr(log, "View 2 runs cannot be resumed"), "%s", log);
    free(log);
    fx_rmtree(root);
}

Test(runexp, command_line_errors_exit_nonzero)
{
    cr_assert_neq(system("./runexp >/dev/null 2>&1"), 0);
    cr_assert_neq(system("./runexp --no-such-flag x.ini >/dev/null 2>&1"), 0);
    cr_assert_neq(system("./runexp /nonexistent.ini >/dev/null 2>&1"), 0);
    cr_assert_eq(system("./runexp --help >/dev/null 2>&1"), 0);
    cr_assert_eq(system("./runexp --devices >/dev/null 2>&1"), 0);
}

/* Real LFW, a subset: the first 40 + 40 DevTrain pairs and 20 + 20 DevTest pairs, 1 epoch. */
Test(runexp, lfw_subset_end_to_end, .timeout = 300)
{
    const char *lfw = getenv("LFW_DIR");
    if (!lfw || !*lfw)
        cr_skip_test("LFW_DIR is not set: skipping the real-LFW run");
    char *tmp = fx_tmpdir();
    const char *lists[2] = {"pairsDevTrain.txt", "pairsDevTest.txt"};
    int keep[2] = {40, 20};
    for (int l = 0; l < 2; l++) {
        char src[4200], dst[4200], line[512];
        snprintf(src, sizeof src, "%s/%s", lfw, lists[l]);
        snprintf(dst, sizeof dst, "%s/%s", tmp, lists[l]);
        FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
        cr_assert(in && out);
        int n = 0, k = 0;
        cr_assert(fgets(line, sizeof line, in));
        n = atoi(line);
        fprintf(out, "%d\n", keep[l]);
        while (fgets(line, sizeof line, in)) {
            if ((k < keep[l]) || (k >= n && k < n + keep[l]))
                fputs(line, out);
            k++;
        }
        fclose(in), fclose(out);
    }
    sc_config cfg;
    load_config(&cfg, lfw);
    char set[4300];
    snprintf(set, sizeof set, "data.train_pairs=%s/pairsDevTrain.txt", tmp);
    cr_assert_eq(sc_config_set(&cfg, set), SC_OK, "%s", sc_last_error());
    snprintf(set, sizeof set, "data.test_pairs=%s/pairsDevTest.txt", tmp);
    cr_assert_eq(sc_config_set(&cfg, set), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_set(&cfg, "data.image_size=32"), SC_OK);
    cr_assert_eq(sc_config_set(&cfg, "train.epochs=1"), SC_OK);
    char out[4200];
    snprintf(out, sizeof out, "%s/run", tmp);
    run(&cfg, out, NULL, NULL, 0, 0);
    char *m = slurp(out, "metrics.json");
    double auc = strtod(strstr(m, "\"auc\": ") + 7, NULL);
    cr_assert(auc >= 0 && auc <= 1, "AUC %g", auc);
    cr_assert(strstr(m, "\"test_pairs\": 40"), "%s", m);
    free(m);
    fx_rmtree(tmp);
}
