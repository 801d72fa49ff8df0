/* cli/common.c: error printing, signals and output files for every command. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "cli/options.h"
#include "source/source.h"

int np_cli_fail(const char *cmd, const struct np_err *err)
{
    fprintf(stderr, "netpeek %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return err->rc == NP_ERR_USAGE ? 2 : 1;
}

static struct np_source *volatile stop_src;
static volatile sig_atomic_t stopped;

static void on_signal(int sig)
{
    (void)sig;
    stopped = 1;
    struct np_source *s = stop_src;
    if (s != NULL)
        np_source_stop(s);
}

const volatile sig_atomic_t *np_cli_stop_flag(void)
{
    return &stopped;
}

void np_cli_catch_signals(struct np_source *src)
{
    stop_src = src;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the process at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int np_cli_open_output(const char *path, struct np_err *err)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return STDOUT_FILENO;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        np_err_set(err,
                   errno == ENOENT || errno == EACCES || errno == EISDIR ? NP_ERR_USAGE : NP_ERR_IO,
                   "cannot write %s: %s", path, strerror(errno));
    return fd;
}

void np_cli_listening(const char *cmd, const struct np_opts *o, struct np_source *src)
{
    uint16_t lt = 0;
    uint32_t snap = 0;
    if (o->src.iface == NULL || !np_source_iface_info(src, 0, &lt, &snap))
        return;
    const char *name = pcap_datalink_val_to_name(lt);
    const char *desc = pcap_datalink_val_to_description(lt);
    fprintf(stderr, "netpeek %s: listening on %s, link-type %s (%s), snapshot length %u bytes\n",
            cmd, o->src.iface, name ? name : "?", desc ? desc : "?", snap);
}

enum np_rc np_cli_start(struct np_opts *o, const struct np_cmd *cmd, int argc, char **argv,
                        bool *done, struct np_err *err)
{
    *done = false;
    enum np_rc rc = np_opts_parse(o, cmd, argc, argv, err);
    if (rc != NP_OK)
        return rc;
    if (o->help || o->version) {
        if (o->help)
            np_opts_help(cmd, stdout);
        else
            printf("netpeek %s\n", NP_VERSION);
        *done = true;
        return NP_OK;
    }
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (cmd->opts[i].id == NP_OPT_READ)
            return np_opts_need_source(o, err);
    return NP_OK;
}

struct np_source *np_cli_open_source(const struct np_opts *o, struct np_err *err)
{
    struct np_source *src = np_source_create(&o->src, err);
    if (src == NULL && err->rc == NP_ERR_IO)
        err->rc = NP_ERR_USAGE;
    return src;
}
