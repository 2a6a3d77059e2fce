/* The ablation table's configs (docs/ablation.md): every row loads, and each row differs
 * from the one before only in the keys its change names, so the table really is one
 * change at a time. Host only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/checkpoint.h"
#include "siamcl/config.h"

/* Resolved config text of configs/<name>, with LFW_DIR pointing nowhere (no data read). */
static char *resolved(const char *name)
{
    const char *src = getenv("SIAMCL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/%s", src ? src : ".", name);
    setenv("LFW_DIR", "/nonexistent/lfw", 1);
    sc_config cfg;
    cr_assert_eq(sc_config_load(&cfg, path), SC_OK, "%s", sc_last_error());
    char *text = sc_config_format(&cfg);
    cr_assert(text, "%s", sc_last_error());
    return text;
}

/* The section.key of each line of a that is not in b (all [model] layers count as
 * "model.layer"), appended to out once each. */
static void changed_keys(const char *a, const char *b, char *out, size_t size)
{
    char section[64] = "", line[512];
    const char *p = a;
    while (*p) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
        if (line[0] == '[') {
            snprintf(section, sizeof section, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
            continue;
        }
        if (!line[0] || line[0] == ';')
            continue;
        /* A line is unchanged when b holds it under the same section. */
        char head[80], *sec = strstr(b, (snprintf(head, sizeof head, "[%s]\n", section), head));
        const char *end = sec ? strstr(sec + 1, "\n[") : NULL;
        const char *hit = sec ? strstr(sec, line) : NULL;
        if (hit && (!end || hit < end) && hit[-1] == '\n' && hit[strlen(line)] == '\n')
            continue;
        char key[128];
        snprintf(key, sizeof key, "%s.%.*s", section, (int)strcspn(line, " ="), line);
        if (strcmp(key, "experiment.name") && !strstr(out, key))
            snprintf(out + strlen(out), size - strlen(out), "%s ", key);
    }
}

static void expect_one_change(const char *before, const char *after, const char *allowed)
{
    char *a = resolved(before), *b = resolved(after);
    char keys[1024] = "";
    changed_keys(a, b, keys, sizeof keys);
    changed_keys(b, a, keys, sizeof keys);
    cr_expect(keys[0], "%s and %s are identical", before, after);
    for (char *k = strtok(keys, " "); k; k = strtok(NULL, " ")) {
        char padded[160];
        snprintf(padded, sizeof padded, " %s ", k);
        cr_expect(strstr(allowed, padded), "%s -> %s changes %s, not part of this row's change",
                  before, after, k);
    }
    free(a);
    free(b);
}

Test(ablation, each_row_is_one_change)
{
    expect_one_change("lfw_contrastive.ini", "ablation/01_crop64.ini",
                      " data.crop data.image_size experiment.eval_every ");
    expect_one_change("ablation/01_crop64.ini", "ablation/02_balanced.ini",
                      " data.sampler data.train_people ");
    expect_one_change("ablation/02_balanced.ini", "ablation/03_adam.ini",
                      " train.optimizer train.weight_decay train.schedule train.warmup_epochs ");
    expect_one_change("ablation/03_adam.ini", "ablation/04_augment.ini",
                      " data.flip data.jitter data.test_flip ");
    expect_one_change("ablation/04_augment.ini", "ablation/05_triplet.ini",
                      " data.sampler data.p data.k data.batches_per_epoch model.layer "
                      "train.loss train.margin train.mining train.batch ");
    expect_one_change("ablation/05_triplet.ini", "ablation/06_bnnet.ini",
                      " model.layer model.init ");
}

/* Row 6 is the published triplet recipe, apart from how often it evaluates. */
Test(ablation, row_6_is_the_triplet_config)
{
    expect_one_change("ablation/06_bnnet.ini", "lfw_triplet.ini", " experiment.eval_every ");
}

/* The last row: the chosen recipe, row 6 trained for 32 epochs instead of 30. */
Test(ablation, best_is_row_6_trained_longer)
{
    expect_one_change("ablation/06_bnnet.ini", "lfw_best.ini", " train.epochs ");
}

/* View 2 runs the chosen recipe on the ten folds, shorter to fit its time budget. */
Test(ablation, view2_is_the_best_recipe)
{
    expect_one_change("lfw_best.ini", "lfw_view2.ini",
                      " data.train_pairs data.test_pairs data.train_people data.view2_pairs "
                      "eval.view2 eval.people eval.folds train.epochs ");
}

/* facedb's default model is an intact checkpoint of the lfw_best.ini network, with the
 * thresholds and preprocessing facedb needs. */
Test(ablation, default_model_is_lfw_best)
{
    const char *src = getenv("SIAMCL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/lfw_best.ini", src ? src : ".");
    setenv("LFW_DIR", "/nonexistent/lfw", 1);
    sc_config cfg;
    cr_assert_eq(sc_config_load(&cfg, path), SC_OK, "%s", sc_last_error());
    snprintf(path, sizeof path, "%s/data/models/lfw_best.ckpt", src ? src : ".");
    sc_ckpt ck;
    cr_assert_eq(sc_ckpt_read(path, &ck), SC_OK, "%s", sc_last_error());
    cr_assert_eq(ck.nlayers, cfg.model.n_layers);
    for (int i = 0; i < ck.nlayers; i++) {
        const sc_layer_desc *a = &ck.layers[i], *b = &cfg.model.layer[i];
        cr_expect(a->kind == b->kind && a->out == b->out && a->k == b->k &&
                      a->stride == b->stride && a->pad == b->pad && a->bias == b->bias,
                  "layer %d differs from lfw_best.ini's", i + 1);
    }
    cr_expect_eq(ck.in_h, cfg.data.image_size);
    char v[128];
    cr_expect_eq(sc_ckpt_meta_get(&ck, "name", v, sizeof v), SC_OK);
    cr_expect_str_eq(v, "lfw_best");
    const char *keys[] = {"threshold_eer", "threshold_far_0.01", "threshold_far_0.001", "crop",
                          "image_size", "test_flip"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_expect_eq(sc_ckpt_meta_get(&ck, keys[i], v, sizeof v), SC_OK, "no %s", keys[i]);
    sc_ckpt_free(&ck);
}
