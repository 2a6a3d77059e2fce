/* runexp: runs one experiment described by an INI file. Argument parsing and printing only;
 * the work is in src/exp. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siamcl/experiment.h"
#include "siamcl/runtime.h"

static const char usage[] =
    "usage: runexp CONFIG.ini [--set section.key=value]... [--out DIR] [--device SEL]\n"
    "              [--eval-only CHECKPOINT] [--resume CHECKPOINT] [--quiet]\n"
    "       runexp --devices\n"
    "       runexp --help\n"
    "\n"
    "Trains and evaluates the experiment CONFIG.ini describes and writes a run folder\n"
    "(default runs/<name>-<timestamp>/): config.ini, log.txt, metrics.jsonl, metrics.json,\n"
    "model.ckpt, roc.csv, scores.csv, roc.png, loss.png, errors.png.\n"
    "\n"
    "  --set S.K=V        override any config key (repeatable), e.g. --set train.epochs=5\n"
    "  --out DIR          run folder\n"
    "  --device SEL       OpenCL device: index or name substring (see --devices);\n"
    "                     default: [experiment] device, $SIAMCL_DEVICE, first GPU, any device\n"
    "  --eval-only CKPT   evaluate a checkpoint without training\n"
    "  --resume CKPT      continue an interrupted run exactly where it stopped\n"
    "  --quiet            print only errors and the final result\n"
    "  --devices          list OpenCL devices\n"
    "\n"
    "Ctrl-C writes a checkpoint and stops; --resume continues from it.\n"
    "Exit status: 0 done, 1 error, 130 interrupted (checkpoint written).\n";

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    if (stop_flag) /* a second Ctrl-C: give up at once */
        _exit(130);
    stop_flag = 1;
}

static int list_devices(void)
{
    sc_device_info *list;
    int n;
    if (sc_device_list(&list, &n) != SC_OK) {
        fprintf(stderr, "runexp: %s\n", sc_last_error());
        return 1;
    }
    printf("%-3s %-28s %-36s %-11s %4s %10s  %s\n", "#", "platform", "device", "type", "CUs",
           "memory", "OpenCL");
    for (int i = 0; i < n; i++)
        printf("%-3d %-28.28s %-36.36s %-11s %4u %7.1f GiB  %s\n", list[i].index,
               list[i].platform_name, list[i].name, sc_device_type_name(list[i].type),
               list[i].compute_units, list[i].global_mem / 1073741824.0, list[i].version);
    free(list);
    return 0;
}

typedef struct {
    int quiet, tty;
} ui;

static void on_message(void *user, const char *line)
{
    ui *u = user;
    if (u->quiet)
        return;
    if (u->tty)
        fputs("\r\033[K", stdout);
    printf("%s\n", line);
    fflush(stdout);
}

static void on_progress(void *user, const sc_progress *p)
{
    ui *u = user;
    if (u->quiet)
        return;
    char fold[16] = "";
    if (p->fold)
        snprintf(fold, sizeof fold, "fold %d ", p->fold);
    int eta = (int)p->eta_s;
    if (u->tty) {
        int width = 24, fill = p->steps ? width * p->step / p->steps : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        printf("\r\033[K%sepoch %d/%d [%s] %d/%d loss %.4f %.0f img/s ETA %dm%02ds", fold, p->epoch,
               p->epochs, bar, p->step, p->steps, p->loss, p->images_per_s, eta / 60, eta % 60);
    } else {
        printf("%sepoch %d/%d step %d/%d loss %.5f %.0f images/s ETA %dm%02ds\n", fold, p->epoch,
               p->epochs, p->step, p->steps, p->loss, p->images_per_s, eta / 60, eta % 60);
    }
    fflush(stdout);
}

static int need_arg(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "runexp: %s needs a value (runexp --help)\n", opt);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    sc_run_opts o;
    memset(&o, 0, sizeof o);
    ui u = {0, isatty(STDOUT_FILENO)};
    const char **sets = calloc((size_t)argc, sizeof *sets);
    int nsets = 0;
    if (!sets)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            free(sets);
            return 0;
        } else if (!strcmp(a, "--devices")) {
            free(sets);
            return list_devices();
        } else if (!strcmp(a, "--set")) {
            if (!need_arg(i, argc, a))
                goto fail;
            sets[nsets++] = argv[++i];
        } else if (!strcmp(a, "--out")) {
            if (!need_arg(i, argc, a))
                goto fail;
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--device")) {
            if (!need_arg(i, argc, a))
                goto fail;
            o.device = argv[++i];
        } else if (!strcmp(a, "--eval-only")) {
            if (!need_arg(i, argc, a))
                goto fail;
            o.eval_only = argv[++i];
        } else if (!strcmp(a, "--resume")) {
            if (!need_arg(i, argc, a))
                goto fail;
            o.resume = argv[++i];
        } else if (!strcmp(a, "--quiet")) {
            u.quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "runexp: unknown option %s (runexp --help)\n", a);
            goto fail;
        } else if (config) {
            fprintf(stderr, "runexp: one config file only (got %s and %s)\n", config, a);
            goto fail;
        } else {
            config = a;
        }
    }
    if (!config) {
        fputs(usage, stderr);
        goto fail;
    }
    if (o.eval_only && o.resume) {
        fprintf(stderr, "runexp: --eval-only and --resume exclude each other\n");
        goto fail;
    }
    sc_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        goto fail;
    sc_config_init(cfg);
    int ok = sc_config_read(cfg, config) == SC_OK;
    for (int i = 0; ok && i < nsets; i++)
        ok = sc_config_set(cfg, sets[i]) == SC_OK;
    ok = ok && sc_config_check(cfg) == SC_OK;
    if (!ok) {
        fprintf(stderr, "runexp: %s\n", sc_last_error());
        free(cfg);
        goto fail;
    }
    free(sets);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stop_flag;
    o.on_message = on_message;
    o.on_progress = on_progress;
    o.user = &u;
    int rc = sc_experiment_run(cfg, &o);
    free(cfg);
    if (u.tty && !u.quiet)
        fputs("\r\033[K", stdout);
    if (rc != SC_OK) {
        fprintf(stderr, "runexp: %s\n", sc_last_error());
        return 1;
    }
    if (o.interrupted) {
        if (o.resume_from[0])
            fprintf(stderr, "runexp: interrupted; continue with --resume %s\n", o.resume_from);
        else
            fprintf(stderr, "runexp: interrupted; this run cannot be resumed (see %s/log.txt)\n",
                    o.run_dir);
        return 130;
    }
    if (u.quiet)
        printf("%s/metrics.json\n", o.run_dir);
    return 0;
fail:
    free(sets);
    return 1;
}
