/* Every config key: section, name, type, where it lives, its range and its default.
 * The documentation of each key is in include/siamcl/config.h; keep the two in step. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "exp/config_internal.h"

#define OFF(field) offsetof(sc_config, field)
#define BIG 1e300

static const char *const norm_names[] = {"none", "unit", "meanstd", NULL};
static const char *const sampler_names[] = {"pairs", "balanced", "pk", NULL};
static const char *const loss_names[] = {"contrastive", "triplet", NULL};
static const char *const mining_names[] = {"batch_all", "batch_hard", "semi_hard", NULL};
static const char *const opt_names[] = {"sgd", "adam", NULL};
static const char *const sched_names[] = {"constant", "step", "cosine", NULL};
static const char *const init_names[] = {"torch", "kaiming", "xavier", NULL};

const char *const sc_cfg_sections[] = {"experiment", "data", "model", "train", "eval", NULL};

/* {section, name, type, offset, lo, hi, lo_open, hi_open, choices, default} */
const cfg_key sc_cfg_keys[] = {
    {"experiment", "name", CT_NAME, OFF(experiment.name), 0, 0, 0, 0, NULL, NULL},
    {"experiment", "seed", CT_U64, OFF(experiment.seed), 0, 0, 0, 0, NULL, "0"},
    {"experiment", "device", CT_STR, OFF(experiment.device), 0, 0, 0, 0, NULL, ""},
    {"experiment", "out", CT_PATH, OFF(experiment.out), 0, 0, 0, 0, NULL, ""},
    {"experiment", "eval_every", CT_INT, OFF(experiment.eval_every), 0, 100000, 0, 0, NULL, "1"},

    {"data", "root", CT_PATH, OFF(data.root), 0, 0, 0, 0, NULL, ""},
    {"data", "train_pairs", CT_PATH, OFF(data.train_pairs), 0, 0, 0, 0, NULL, "pairsDevTrain.txt"},
    {"data", "test_pairs", CT_PATH, OFF(data.test_pairs), 0, 0, 0, 0, NULL, "pairsDevTest.txt"},
    {"data", "view2_pairs", CT_PATH, OFF(data.view2_pairs), 0, 0, 0, 0, NULL, "pairs.txt"},
    {"data", "train_people", CT_PATH, OFF(data.train_people), 0, 0, 0, 0, NULL, "peopleDevTrain.txt"},
    {"data", "image_size", CT_INT, OFF(data.image_size), 8, 1024, 0, 0, NULL, "128"},
    {"data", "crop", CT_CROP, OFF(data.crop_x), 0, 0, 0, 0, NULL, "none"},
    {"data", "normalize", CT_ENUM, OFF(data.normalize), 0, 0, 0, 0, norm_names, "unit"},
    {"data", "sampler", CT_ENUM, OFF(data.sampler), 0, 0, 0, 0, sampler_names, "pairs"},
    {"data", "pairs_per_epoch", CT_INT, OFF(data.pairs_per_epoch), 1, 10000000, 0, 0, NULL, "2200"},
    {"data", "p", CT_INT, OFF(data.p), 2, 10000, 0, 0, NULL, "16"},
    {"data", "k", CT_INT, OFF(data.k), 2, 1000, 0, 0, NULL, "4"},
    {"data", "batches_per_epoch", CT_INT, OFF(data.batches_per_epoch), 0, 10000000, 0, 0, NULL, "0"},
    {"data", "flip", CT_BOOL, OFF(data.flip), 0, 0, 0, 0, NULL, "off"},
    {"data", "jitter", CT_INT, OFF(data.jitter), 0, 512, 0, 0, NULL, "0"},
    {"data", "brightness", CT_DBL, OFF(data.brightness), 0, 1, 0, 0, NULL, "0"},
    {"data", "contrast", CT_DBL, OFF(data.contrast), 0, 1, 0, 0, NULL, "0"},
    {"data", "test_flip", CT_BOOL, OFF(data.test_flip), 0, 0, 0, 0, NULL, "off"},
    {"data", "cache", CT_PATH, OFF(data.cache), 0, 0, 0, 0, NULL, ""},

    {"model", "layer", CT_LAYER, OFF(model.layer), 0, 0, 0, 0, NULL, NULL},
    {"model", "init", CT_ENUM, OFF(model.init), 0, 0, 0, 0, init_names, "torch"},

    {"train", "loss", CT_ENUM, OFF(train.loss), 0, 0, 0, 0, loss_names, "contrastive"},
    {"train", "margin", CT_DBL, OFF(train.margin), 0, 1000, 1, 0, NULL, "1"},
    {"train", "mining", CT_ENUM, OFF(train.mining), 0, 0, 0, 0, mining_names, "semi_hard"},
    {"train", "squared", CT_BOOL, OFF(train.squared), 0, 0, 0, 0, NULL, "off"},
    {"train", "optimizer", CT_ENUM, OFF(train.optimizer), 0, 0, 0, 0, opt_names, "sgd"},
    {"train", "lr", CT_DBL, OFF(train.lr), 0, 10, 1, 0, NULL, "0.001"},
    {"train", "momentum", CT_DBL, OFF(train.momentum), 0, 1, 0, 1, NULL, "0"},
    {"train", "weight_decay", CT_DBL, OFF(train.weight_decay), 0, 1, 0, 0, NULL, "0"},
    {"train", "beta1", CT_DBL, OFF(train.beta1), 0, 1, 0, 1, NULL, "0.9"},
    {"train", "beta2", CT_DBL, OFF(train.beta2), 0, 1, 0, 1, NULL, "0.999"},
    {"train", "schedule", CT_ENUM, OFF(train.schedule), 0, 0, 0, 0, sched_names, "constant"},
    {"train", "step_epochs", CT_INT, OFF(train.step_epochs), 1, 100000, 0, 0, NULL, "10"},
    {"train", "gamma", CT_DBL, OFF(train.gamma), 0, 1, 1, 0, NULL, "0.1"},
    {"train", "min_lr", CT_DBL, OFF(train.min_lr), 0, 10, 0, 0, NULL, "0"},
    {"train", "warmup_epochs", CT_INT, OFF(train.warmup_epochs), 0, 100000, 0, 0, NULL, "0"},
    {"train", "batch", CT_INT, OFF(train.batch), 1, 65536, 0, 0, NULL, "16"},
    {"train", "epochs", CT_INT, OFF(train.epochs), 1, 100000, 0, 0, NULL, "30"},
    {"train", "checkpoint_every", CT_INT, OFF(train.checkpoint_every), 0, 100000, 0, 0, NULL, "0"},
    {"train", "log_every", CT_INT, OFF(train.log_every), 1, 1000000, 0, 0, NULL, "10"},

    {"eval", "view2", CT_BOOL, OFF(eval.view2), 0, 0, 0, 0, NULL, "off"},
    {"eval", "people", CT_PATH, OFF(eval.people), 0, 0, 0, 0, NULL, "people.txt"},
    {"eval", "folds", CT_FOLDS, OFF(eval.folds), 0, 0, 0, 0, NULL, "all"},
    {"eval", "far", CT_FAR, OFF(eval.n_far), 0, 1, 1, 1, NULL, "0.1,0.01,0.001"},
    {"eval", "errors", CT_INT, OFF(eval.errors), 0, 64, 0, 0, NULL, "8"},
    {"eval", "log_far", CT_BOOL, OFF(eval.log_far), 0, 0, 0, 0, NULL, "off"},
};

const int sc_cfg_nkeys = (int)(sizeof sc_cfg_keys / sizeof sc_cfg_keys[0]);

/* A key table larger than the origin array would be a silent overflow: refuse to build. */
_Static_assert(sizeof sc_cfg_keys / sizeof sc_cfg_keys[0] <= SC_CONFIG_MAX_KEYS,
               "raise SC_CONFIG_MAX_KEYS");

int sc_cfg_section_known(const char *section)
{
    for (int i = 0; sc_cfg_sections[i]; i++)
        if (strcmp(sc_cfg_sections[i], section) == 0)
            return 1;
    return 0;
}

int sc_cfg_find(const char *section, const char *name)
{
    for (int i = 0; i < sc_cfg_nkeys; i++)
        if (strcmp(sc_cfg_keys[i].section, section) == 0 && strcmp(sc_cfg_keys[i].name, name) == 0)
            return i;
    return -1;
}

void sc_cfg_key_list(const char *section, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < sc_cfg_nkeys; i++) {
        if (strcmp(sc_cfg_keys[i].section, section) != 0)
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", sc_cfg_keys[i].name);
        if (n < 0 || (size_t)n >= size - len)
            return;
        len += (size_t)n;
    }
}

static const char *enum_name(const char *const *names, int count, int v)
{
    return v >= 0 && v < count ? names[v] : "unknown";
}

const char *sc_loss_name(sc_loss v) { return enum_name(loss_names, 2, (int)v); }
const char *sc_sampler_name(sc_sampler v) { return enum_name(sampler_names, 3, (int)v); }
const char *sc_optimizer_name(sc_optimizer v) { return enum_name(opt_names, 2, (int)v); }
const char *sc_schedule_name(sc_schedule v) { return enum_name(sched_names, 3, (int)v); }
const char *sc_mining_name(sc_mining v) { return enum_name(mining_names, 3, (int)v); }
const char *sc_normalize_name(sc_normalize v) { return enum_name(norm_names, 3, (int)v); }
