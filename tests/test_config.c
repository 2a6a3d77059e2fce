/* The experiment config parser: every kind of error names its file and line (or its --set),
 * --set validates like the file does, the resolved config reads back identical, and the
 * shipped configs load with the baseline recipe exactly. Host only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exp/config_internal.h"
#include "siamcl/config.h"

#define HEAD "[experiment]\nname = t\n[data]\nroot = /data\n[model]\nlayer = linear out=2\n"

static void setup(void)
{
    unsetenv("LFW_DIR");
}

TestSuite(config, .init = setup);

/* Reads text as "test.ini"; returns the status. */
static int parse(sc_config *cfg, const char *text)
{
    sc_config_init(cfg);
    int rc = sc_config_read_string(cfg, text, "test.ini");
    if (rc == SC_OK)
        rc = sc_config_check(cfg);
    return rc;
}

/* The text must fail with a message containing `want`. */
static void expect_error(const char *text, const char *want)
{
    sc_config cfg;
    cr_expect_eq(parse(&cfg, text), SC_ERR, "accepted:\n%s", text);
    cr_expect(strstr(sc_last_error(), want), "message\n  %s\nlacks\n  %s", sc_last_error(), want);
}

Test(config, defaults_all_parse)
{
    char why[256];
    sc_config cfg;
    sc_config_init(&cfg);
    for (int i = 0; i < sc_cfg_nkeys; i++) {
        const cfg_key *k = &sc_cfg_keys[i];
        if (k->def)
            cr_expect_eq(sc_cfg_parse_value(&cfg, k, k->def, why, sizeof why), SC_OK,
                         "default of %s.%s: %s", k->section, k->name, why);
    }
}

Test(config, minimal_config_and_defaults)
{
    sc_config cfg;
    cr_assert_eq(parse(&cfg, HEAD), SC_OK, "%s", sc_last_error());
    cr_expect_str_eq(cfg.experiment.name, "t");
    cr_expect_eq(cfg.experiment.seed, 0);
    cr_expect_eq(cfg.experiment.eval_every, 1);
    cr_expect_str_eq(cfg.data.root, "/data");
    cr_expect_str_eq(cfg.data.train_pairs, "pairsDevTrain.txt");
    cr_expect_str_eq(cfg.data.test_pairs, "pairsDevTest.txt");
    cr_expect_eq(cfg.data.image_size, 128);
    cr_expect_eq(cfg.data.crop_w, 0);
    cr_expect_eq(cfg.data.normalize, SC_NORM_UNIT);
    cr_expect_eq(cfg.data.sampler, SC_SAMPLER_PAIRS);
    cr_expect_eq(cfg.model.n_layers, 1);
    cr_expect_eq(cfg.model.layer[0].kind, SC_LAYER_LINEAR);
    cr_expect_eq(cfg.model.layer[0].out, 2);
    cr_expect_eq(cfg.model.layer[0].bias, 1);
    cr_expect_eq(cfg.model.layer[0].line, 6);
    cr_expect_eq(cfg.train.loss, SC_LOSS_CONTRASTIVE);
    cr_expect_eq(cfg.train.optimizer, SC_OPT_SGD);
    cr_expect_eq(cfg.train.lr, 0.001);
    cr_expect_eq(cfg.train.margin, 1.0);
    cr_expect_eq(cfg.train.batch, 16);
    cr_expect_eq(cfg.train.epochs, 30);
    cr_expect_eq(cfg.eval.n_far, 3);
    cr_expect_eq(cfg.eval.far[1], 0.01);
    cr_expect_eq(cfg.eval.folds, 0);
    cr_expect_eq(cfg.eval.view2, 0);
}

Test(config, syntax_comments_whitespace)
{
    sc_config cfg;
    const char *text = "; comment\n# comment\n\n  [experiment]   \r\n  name = t ; inline\r\n"
                       "seed = 42 # inline too\n[data]\nroot = /d\nflip = yes\n"
                       "[model]\n  layer = conv out=8 k=3   ; indented, not a continuation\n"
                       "    layer = relu\n";
    cr_assert_eq(parse(&cfg, text), SC_OK, "%s", sc_last_error());
    cr_expect_str_eq(cfg.experiment.name, "t");
    cr_expect_eq(cfg.experiment.seed, 42);
    cr_expect_eq(cfg.data.flip, 1);
    cr_expect_eq(cfg.model.n_layers, 2);
    cr_expect_eq(cfg.model.layer[1].kind, SC_LAYER_RELU);
    cr_expect_eq(cfg.model.layer[1].line, 12);
}

Test(config, unknown_section_names_line)
{
    expect_error(HEAD "[trian]\nlr = 0.1\n", "test.ini:7: [trian]: unknown section");
    /* even with no keys in it */
    expect_error(HEAD "\n[extra]\n", "test.ini:8: [extra]: unknown section");
    expect_error("name = t\n", "test.ini:1: name: key outside any section");
}

Test(config, unknown_key_names_line)
{
    expect_error(HEAD "[train]\nlrate = 0.1\n", "test.ini:8: [train] lrate: unknown key");
    expect_error(HEAD "[train]\nlrate = 0.1\n", "margin");
}

Test(config, wrong_type_names_line)
{
    expect_error(HEAD "[train]\nepochs = ten\n", "test.ini:8: [train] epochs: 'ten' is not an integer");
    expect_error(HEAD "[train]\nepochs = 3.5\n", "test.ini:8: [train] epochs: '3.5' is not an integer");
    expect_error(HEAD "[train]\nlr = fast\n", "test.ini:8: [train] lr: 'fast' is not a number");
    expect_error(HEAD "[train]\nlr = nan\n", "test.ini:8: [train] lr: 'nan' is not a number");
    expect_error(HEAD "[data]\nflip = maybe\n", "test.ini:8: [data] flip: 'maybe' is not on/off");
    expect_error(HEAD "[train]\noptimizer = rmsprop\n",
                 "test.ini:8: [train] optimizer: 'rmsprop' is not one of: sgd, adam");
    expect_error(HEAD "[experiment]\nseed = -1\n", "test.ini:8: [experiment] seed:");
    expect_error(HEAD "[data]\ncrop = 1,2,3\n", "test.ini:8: [data] crop:");
    expect_error(HEAD "[eval]\nfar = 0.1,x\n", "test.ini:8: [eval] far: 'x' is not a number");
    expect_error(HEAD "[eval]\nfolds = 1,1\n", "test.ini:8: [eval] folds: fold 1 listed twice");
    expect_error("[experiment]\nname = my run\n", "test.ini:2: [experiment] name:");
}

Test(config, out_of_range_names_line)
{
    expect_error(HEAD "[data]\nimage_size = 4\n",
                 "test.ini:8: [data] image_size: 4 is out of range 8 .. 1024");
    expect_error(HEAD "[train]\nlr = 0\n", "test.ini:8: [train] lr: 0 is out of range (0, 10]");
    expect_error(HEAD "[train]\nmomentum = 1\n", "test.ini:8: [train] momentum: 1 is out of range [0, 1)");
    expect_error(HEAD "[eval]\nfar = 0.1,1\n", "test.ini:8: [eval] far: 1 is out of range (0, 1)");
    expect_error(HEAD "[eval]\nfar = 0.1,0.01,0.1\n",
                 "test.ini:8: [eval] far: '0.1' is listed twice");
    expect_error(HEAD "[eval]\nfolds = 11\n", "test.ini:8: [eval] folds: 11 is out of range 1 .. 10");
    expect_error(HEAD "[data]\ncrop = 0,0,0,10\n", "test.ini:8: [data] crop:");
    expect_error(HEAD "[data]\np = 1\n", "test.ini:8: [data] p: 1 is out of range 2 .. 10000");
}

Test(config, repeated_key_names_both_lines)
{
    expect_error(HEAD "[train]\nlr = 0.1\nepochs = 2\nlr = 0.2\n",
                 "test.ini:10: [train] lr: given twice (first on line 8)");
    /* across two [train] sections as well */
    expect_error(HEAD "[train]\nlr = 0.1\n[train]\nlr = 0.2\n", "test.ini:10: [train] lr: given twice");
}

Test(config, missing_required_keys)
{
    expect_error("[data]\nroot = /d\n[model]\nlayer = relu\n",
                 "test.ini: [experiment] name: required key missing");
    expect_error("[experiment]\nname = t\n[data]\nroot = /d\n",
                 "test.ini: [model] layer: required key missing");
}

Test(config, layer_errors_name_line)
{
    expect_error(HEAD "layer = conv out=16\n", "test.ini:7: [model] layer: conv needs k=N");
    expect_error(HEAD "layer = conv k=3\n", "test.ini:7: [model] layer: conv needs out=N");
    expect_error(HEAD "layer = conv out=16 k=3 size=2\n",
                 "test.ini:7: [model] layer: conv: unknown parameter 'size' (conv takes out, k, stride, pad, bias)");
    expect_error(HEAD "layer = relu out=3\n", "relu takes no parameters");
    expect_error(HEAD "layer = fancy\n", "test.ini:7: [model] layer: unknown layer kind 'fancy'");
    expect_error(HEAD "layer = dropout p=1\n", "test.ini:7: [model] layer: dropout p: 1 is out of range [0, 1)");
    expect_error(HEAD "layer = conv out=16 k=3 stride=0\n", "conv stride: 0 is out of range 1 .. 64");
    expect_error(HEAD "layer = maxpool k=2 pad=2\n", "maxpool pad: 2 is more than half the window");
    expect_error(HEAD "layer = linear out=4 out=5\n", "parameter 'out' given twice");
    expect_error(HEAD "layer = linear out\n", "'out' is not key=value");
    expect_error(HEAD "layer =\n", "test.ini:7: [model] layer: empty layer");
}

Test(config, layers_parse_with_defaults)
{
    sc_config cfg;
    const char *text = "[experiment]\nname = t\n[data]\nroot = /d\n[model]\n"
                       "layer = conv out=16 k=7 stride=2 pad=3\n"
                       "layer = maxpool k=3\n"
                       "layer = avgpool\n"
                       "layer = batchnorm momentum=0.01\n"
                       "layer = leaky_relu slope=0.2\n"
                       "layer = dropout p=0.3\n"
                       "layer = linear out=32 bias=off\n"
                       "layer = l2norm\n";
    cr_assert_eq(parse(&cfg, text), SC_OK, "%s", sc_last_error());
    const sc_layer_desc *L = cfg.model.layer;
    cr_assert_eq(cfg.model.n_layers, 8);
    cr_expect(L[0].kind == SC_LAYER_CONV && L[0].out == 16 && L[0].k == 7 && L[0].stride == 2 &&
              L[0].pad == 3 && L[0].bias == 1);
    cr_expect(L[1].kind == SC_LAYER_MAXPOOL && L[1].k == 3 && L[1].stride == 3 && L[1].pad == 0,
              "pool stride defaults to k");
    cr_expect(L[2].kind == SC_LAYER_AVGPOOL && L[2].k == 0, "avgpool is global by default");
    cr_expect(L[3].kind == SC_LAYER_BATCHNORM && L[3].eps == 1e-5f && L[3].momentum == 0.01f);
    cr_expect(L[4].kind == SC_LAYER_LEAKY_RELU && L[4].slope == 0.2f);
    cr_expect(L[5].kind == SC_LAYER_DROPOUT && L[5].p == 0.3f);
    cr_expect(L[6].kind == SC_LAYER_LINEAR && L[6].out == 32 && L[6].bias == 0);
    cr_expect(L[7].kind == SC_LAYER_L2NORM && L[7].eps == 1e-12f);
    cr_expect_eq(L[7].line, 13);
}

Test(config, syntax_error_and_long_line)
{
    expect_error(HEAD "[train]\nthis line has no equals sign\n", "test.ini:8: syntax error");
    expect_error(HEAD "[train\nlr = 1\n", "test.ini:7: syntax error");
    expect_error(HEAD "[train] lr = 1\n", "test.ini:7: [train]: unexpected text after the section header");
    char text[600];
    snprintf(text, sizeof text, HEAD "[experiment]\ndevice = %0300d\n", 7);
    expect_error(text, "test.ini:8: line longer than");
}

Test(config, environment_in_paths)
{
    sc_config cfg;
    setenv("SC_TEST_ROOT", "/x/y", 1);
    cr_assert_eq(parse(&cfg, "[experiment]\nname = t\n[data]\nroot = ${SC_TEST_ROOT}/lfw\n"
                             "cache = $SC_TEST_ROOT/c$$\n[model]\nlayer = relu\n"), SC_OK, "%s",
                 sc_last_error());
    cr_expect_str_eq(cfg.data.root, "/x/y/lfw");
    cr_expect_str_eq(cfg.data.cache, "/x/y/c$");
    unsetenv("SC_TEST_ROOT");
    expect_error("[experiment]\nname = t\n[data]\nroot = $SC_TEST_ROOT/lfw\n",
                 "test.ini:4: [data] root: environment variable SC_TEST_ROOT is not set");
    /* an empty root comes from LFW_DIR, and is an error without it */
    expect_error("[experiment]\nname = t\n[model]\nlayer = relu\n",
                 "test.ini: [data] root: not set, and LFW_DIR is not in the environment");
    setenv("LFW_DIR", "/lfw", 1);
    cr_assert_eq(parse(&cfg, "[experiment]\nname = t\n[model]\nlayer = relu\n"), SC_OK, "%s",
                 sc_last_error());
    cr_expect_str_eq(cfg.data.root, "/lfw");
    char path[256];
    cr_assert_eq(sc_config_data_path(&cfg, cfg.data.test_pairs, path, sizeof path), SC_OK);
    cr_expect_str_eq(path, "/lfw/pairsDevTest.txt");
    cr_assert_eq(sc_config_data_path(&cfg, "/abs/list.txt", path, sizeof path), SC_OK);
    cr_expect_str_eq(path, "/abs/list.txt");
    unsetenv("LFW_DIR");
}

Test(config, checks_across_keys_name_the_line)
{
    expect_error(HEAD "[train]\nloss = triplet\n",
                 "test.ini:8: [train] loss: triplet needs [data] sampler = pk");
    expect_error(HEAD "[data]\nsampler = pk\n", "test.ini:8: [data] sampler: pk batches need");
    expect_error(HEAD "[train]\nwarmup_epochs = 30\n",
                 "test.ini:8: [train] warmup_epochs: 30 is not less than epochs (30)");
    expect_error(HEAD "[data]\nimage_size = 32\njitter = 17\n",
                 "test.ini:9: [data] jitter: 17 is more than half of image_size (32)");
}

Test(config, set_overrides_with_validation)
{
    sc_config cfg;
    cr_assert_eq(parse(&cfg, HEAD), SC_OK);
    cr_assert_eq(sc_config_set(&cfg, "train.lr=0.01"), SC_OK, "%s", sc_last_error());
    cr_expect_eq(cfg.train.lr, 0.01);
    cr_assert_eq(sc_config_set(&cfg, " data.crop = 60, 60, 130, 130 "), SC_OK, "%s", sc_last_error());
    cr_expect(cfg.data.crop_x == 60 && cfg.data.crop_w == 130 && cfg.data.crop_h == 130);
    cr_assert_eq(sc_config_set(&cfg, "experiment.out=/tmp/run=1"), SC_OK, "%s", sc_last_error());
    cr_expect_str_eq(cfg.experiment.out, "/tmp/run=1");

    cr_expect_eq(sc_config_set(&cfg, "train.epochs=abc"), SC_ERR);
    cr_expect_str_eq(sc_last_error(), "--set train.epochs=abc: [train] epochs: 'abc' is not an integer");
    cr_expect_eq(cfg.train.epochs, 30, "a failed --set leaves the value alone");
    cr_expect_eq(sc_config_set(&cfg, "train.epochs=0"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "--set train.epochs=0: [train] epochs: 0 is out of range 1 .. 100000"),
              "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "train.foo=1"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "--set train.foo=1: [train] foo: unknown key"), "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "nosuch.lr=1"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "[nosuch]: unknown section"), "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "lr=1"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "--set lr=1: expected section.key=value"), "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "train.lr"), SC_ERR);
    cr_expect_eq(sc_config_set(&cfg, "experiment.device=gpu ; x"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "comment marker"), "%s", sc_last_error());

    /* a --set that breaks a rule across keys is named by the check */
    cr_assert_eq(sc_config_set(&cfg, "train.loss=triplet"), SC_OK);
    cr_expect_eq(sc_config_check(&cfg), SC_ERR);
    cr_expect(strstr(sc_last_error(), "--set train.loss: [train] loss: triplet needs"), "%s",
              sc_last_error());
}

Test(config, set_layers)
{
    sc_config cfg;
    char spec[128];
    cr_assert_eq(parse(&cfg, HEAD), SC_OK);
    cr_assert_eq(sc_config_set(&cfg, "model.layer.2=l2norm"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_set(&cfg, "model.layer.1=linear out=64 bias=0"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(cfg.model.n_layers, 2);
    cr_assert_eq(sc_config_get(&cfg, "model.layer.1", spec, sizeof spec), SC_OK);
    cr_expect_str_eq(spec, "linear out=64 bias=0");
    cr_assert_eq(sc_config_get(&cfg, "model.layer.2", spec, sizeof spec), SC_OK);
    cr_expect_str_eq(spec, "l2norm eps=1e-12");
    cr_assert_eq(sc_config_set(&cfg, "model.layer.1=none"), SC_OK, "%s", sc_last_error());
    cr_assert_eq(cfg.model.n_layers, 1);
    cr_expect_eq(cfg.model.layer[0].kind, SC_LAYER_L2NORM);
    cr_expect_eq(sc_config_set(&cfg, "model.layer.3=relu"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "'3' is not a layer number 1 .. 2"), "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "model.layer=relu"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "model.layer.N=SPEC"), "%s", sc_last_error());
    cr_expect_eq(sc_config_set(&cfg, "model.layer.1=conv out=4"), SC_ERR);
    cr_expect(strstr(sc_last_error(), "--set model.layer.1=conv out=4: [model] layer: conv needs k=N"),
              "%s", sc_last_error());
    cr_assert_eq(sc_config_set(&cfg, "model.layer.1=none"), SC_OK);
    cr_expect_eq(sc_config_check(&cfg), SC_ERR, "no layers left");
}

/* format -> read -> equal, and formatting again gives the same text */
static void round_trip(const sc_config *a)
{
    char *text = sc_config_format(a);
    cr_assert(text, "%s", sc_last_error());
    sc_config b;
    sc_config_init(&b);
    cr_assert_eq(sc_config_read_string(&b, text, "resolved.ini"), SC_OK, "%s\n%s", sc_last_error(), text);
    cr_assert_eq(sc_config_check(&b), SC_OK, "%s", sc_last_error());
    char key[64] = "";
    cr_expect_eq(sc_config_diff(a, &b, key, sizeof key), 0, "differs in %s", key);
    char *again = sc_config_format(&b);
    cr_expect_str_eq(again, text);
    free(text);
    free(again);
}

Test(config, round_trip_every_kind_of_value)
{
    sc_config cfg;
    const char *text =
        "[experiment]\nname = rt.1\nseed = 18446744073709551615\ndevice = NVIDIA GeForce\n"
        "out = runs/x\neval_every = 3\n"
        "[data]\nroot = /d\ncrop = 1,2,3,4\nnormalize = meanstd\nsampler = pk\np = 3\nk = 5\n"
        "flip = on\njitter = 2\nbrightness = 0.1\ncontrast = 0.3\ntest_flip = true\n"
        "cache = c/$$HOME/x\n"
        "[model]\nlayer = conv out=16 k=7 stride=2 pad=3 bias=0\nlayer = batchnorm eps=0.001 momentum=0.3\n"
        "layer = leaky_relu slope=0.1\nlayer = maxpool k=3 stride=2 pad=1\nlayer = avgpool\n"
        "layer = dropout p=0.3\nlayer = linear out=7\nlayer = l2norm\ninit = xavier\n"
        "[train]\nloss = triplet\nmargin = 0.2\nmining = batch_hard\nsquared = on\noptimizer = adam\n"
        "lr = 0.0003\nmomentum = 0.9\nweight_decay = 5e-4\nbeta1 = 0.8\nbeta2 = 0.99\n"
        "schedule = cosine\nstep_epochs = 4\ngamma = 0.5\nmin_lr = 1e-6\nwarmup_epochs = 2\n"
        "batch = 7\nepochs = 9\ncheckpoint_every = 2\nlog_every = 3\n"
        "[eval]\nview2 = on\npeople = p.txt\nfolds = 2,5,10\nfar = 0.3,1e-4\nerrors = 0\nlog_far = on\n";
    cr_assert_eq(parse(&cfg, text), SC_OK, "%s", sc_last_error());
    cr_expect_eq(cfg.experiment.seed, 18446744073709551615ull);
    cr_expect_eq(cfg.eval.folds, (1u << 1) | (1u << 4) | (1u << 9));
    cr_expect_str_eq(cfg.data.cache, "c/$HOME/x", "$$ is a literal $");
    round_trip(&cfg);
    /* and the defaults */
    cr_assert_eq(parse(&cfg, HEAD), SC_OK);
    round_trip(&cfg);
}

Test(config, write_and_read_back_a_file)
{
    char dir[] = "/tmp/siamcl-config-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/config.ini", dir);
    sc_config a, b;
    cr_assert_eq(parse(&a, HEAD "[train]\nlr = 0.1\n"), SC_OK);
    cr_assert_eq(sc_config_write(&a, path), SC_OK, "%s", sc_last_error());
    cr_assert_eq(sc_config_load(&b, path), SC_OK, "%s", sc_last_error());
    cr_expect_eq(sc_config_diff(&a, &b, NULL, 0), 0);
    cr_expect_str_eq(b.path, path);
    /* an error in a real file names the file */
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("[experiment]\nname = x\nbogus = 1\n", f);
    fclose(f);
    cr_expect_eq(sc_config_load(&b, path), SC_ERR);
    char want[128];
    snprintf(want, sizeof want, "%s:3: [experiment] bogus: unknown key", path);
    cr_expect(strstr(sc_last_error(), want), "%s", sc_last_error());
    remove(path);
    cr_expect_eq(sc_config_load(&b, path), SC_ERR);
    cr_expect(strstr(sc_last_error(), "cannot open"), "%s", sc_last_error());
    cr_expect_eq(rmdir(dir), 0, "temporary file left behind");
}

Test(config, diff_and_get)
{
    sc_config a, b;
    char key[64], v[64];
    cr_assert_eq(parse(&a, HEAD), SC_OK);
    cr_assert_eq(parse(&b, HEAD), SC_OK);
    cr_expect_eq(sc_config_diff(&a, &b, key, sizeof key), 0);
    cr_assert_eq(sc_config_set(&b, "train.lr=0.1"), SC_OK);
    cr_expect_eq(sc_config_diff(&a, &b, key, sizeof key), 1);
    cr_expect_str_eq(key, "train.lr");
    cr_assert_eq(parse(&b, HEAD), SC_OK);
    cr_assert_eq(sc_config_set(&b, "model.layer.2=relu"), SC_OK);
    cr_expect_eq(sc_config_diff(&a, &b, key, sizeof key), 1);
    cr_expect_str_eq(key, "model.layers");
    cr_assert_eq(sc_config_get(&a, "train.lr", v, sizeof v), SC_OK);
    cr_expect_str_eq(v, "0.001");
    cr_assert_eq(sc_config_get(&a, "eval.far", v, sizeof v), SC_OK);
    cr_expect_str_eq(v, "0.1,0.01,0.001");
    cr_assert_eq(sc_config_get(&a, "data.crop", v, sizeof v), SC_OK);
    cr_expect_str_eq(v, "none");
    cr_expect_eq(sc_config_get(&a, "train.nope", v, sizeof v), SC_ERR);
}

static void load_shipped(sc_config *cfg, const char *name)
{
    const char *src = getenv("SIAMCL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/%s", src ? src : ".", name);
    setenv("LFW_DIR", "/nonexistent/lfw", 1);
    cr_assert_eq(sc_config_load(cfg, path), SC_OK, "%s", sc_last_error());
    unsetenv("LFW_DIR");
    cr_expect_str_eq(cfg->data.root, "/nonexistent/lfw");
    round_trip(cfg);
}

Test(config, baseline_config_is_the_recipe)
{
    sc_config cfg;
    load_shipped(&cfg, "lfw_contrastive.ini");
    const char *want[] = {
        "conv out=16 k=7 stride=2 pad=3 bias=1", "relu",
        "conv out=32 k=5 stride=2 pad=2 bias=1", "relu",
        "conv out=64 k=5 stride=2 pad=2 bias=1", "relu",
        "conv out=128 k=3 stride=2 pad=1 bias=1", "relu",
        "maxpool k=2 stride=2 pad=0", "linear out=256 bias=1", "relu", "linear out=32 bias=1",
    };
    cr_assert_eq(cfg.model.n_layers, 12);
    for (int i = 0; i < 12; i++) {
        char spec[128], key[32];
        snprintf(key, sizeof key, "model.layer.%d", i + 1);
        cr_assert_eq(sc_config_get(&cfg, key, spec, sizeof spec), SC_OK);
        cr_expect_str_eq(spec, want[i]);
    }
    cr_expect_str_eq(cfg.data.train_pairs, "pairsDevTrain.txt");
    cr_expect_str_eq(cfg.data.test_pairs, "pairsDevTest.txt");
    cr_expect_eq(cfg.data.sampler, SC_SAMPLER_PAIRS);
    cr_expect_eq(cfg.data.image_size, 128);
    cr_expect_eq(cfg.data.crop_w, 0, "whole frame");
    cr_expect_eq(cfg.data.normalize, SC_NORM_UNIT);
    cr_expect(!cfg.data.flip && !cfg.data.jitter && cfg.data.brightness == 0 &&
              cfg.data.contrast == 0 && !cfg.data.test_flip, "no augmentation");
    cr_expect_eq(cfg.model.init, SC_INITK_TORCH);
    cr_expect_eq(cfg.train.loss, SC_LOSS_CONTRASTIVE);
    cr_expect_eq(cfg.train.optimizer, SC_OPT_SGD);
    cr_expect_eq(cfg.train.lr, 0.001);
    cr_expect_eq(cfg.train.momentum, 0.0);
    cr_expect_eq(cfg.train.weight_decay, 0.0);
    cr_expect_eq(cfg.train.schedule, SC_SCHED_CONSTANT);
    cr_expect_eq(cfg.train.batch, 16);
    cr_expect_eq(cfg.train.epochs, 30);
    cr_expect_eq(cfg.train.margin, 1.0);
    cr_expect_eq(cfg.eval.view2, 0);
}

Test(config, triplet_and_view2_configs_load)
{
    sc_config cfg;
    load_shipped(&cfg, "lfw_triplet.ini");
    cr_expect_eq(cfg.train.loss, SC_LOSS_TRIPLET);
    cr_expect_eq(cfg.data.sampler, SC_SAMPLER_PK);
    cr_expect_eq(cfg.train.mining, SC_MINING_SEMI_HARD);
    cr_expect_eq(cfg.model.layer[cfg.model.n_layers - 1].kind, SC_LAYER_L2NORM);
    load_shipped(&cfg, "lfw_view2.ini");
    cr_expect_eq(cfg.eval.view2, 1);
    cr_expect_str_eq(cfg.eval.people, "people.txt");
    cr_expect_str_eq(cfg.data.view2_pairs, "pairs.txt");
}
