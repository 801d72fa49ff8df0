/* cli/cli.h: the subcommands and what they share. Only cli/ prints errors
 * and chooses exit codes: 0 success, 1 a failure while running, 2 a user
 * error (bad option, missing file, bad filter, no permission). */
#ifndef NP_CLI_CLI_H
#define NP_CLI_CLI_H

#include <signal.h>
#include <stdbool.h>

#include "core/err.h"

struct np_source;

int np_cmd_flows(int argc, char **argv);
int np_cmd_interfaces(int argc, char **argv);
int np_cmd_sample(int argc, char **argv);
int np_cmd_record(int argc, char **argv);
int np_cmd_sessions(int argc, char **argv);
int np_cmd_query(int argc, char **argv);
int np_cmd_replay(int argc, char **argv);
int np_cmd_export(int argc, char **argv);
int np_cmd_handshake(int argc, char **argv);
int np_cmd_stat(int argc, char **argv);

/* Prints "netpeek CMD: MSG" on stderr and returns the exit code for err->rc. */
int np_cli_fail(const char *cmd, const struct np_err *err);

/* Ctrl-C and SIGTERM ask src (may be NULL) to stop and set the stop flag;
 * a second Ctrl-C kills the process. */
void np_cli_catch_signals(struct np_source *src);
/* Non-zero once Ctrl-C or SIGTERM arrived (after np_cli_catch_signals). */
const volatile sig_atomic_t *np_cli_stop_flag(void);

struct np_opts;
struct np_cmd;

/* The start every command shares: parses argv into o (np_opts_init first),
 * answers --help and --version (then *done is set: exit 0), and for a
 * command that reads packets (one that takes -r) checks that one source was
 * given. NP_OK or NP_ERR_USAGE with err set. */
enum np_rc np_cli_start(struct np_opts *o, const struct np_cmd *cmd, int argc, char **argv,
                        bool *done, struct np_err *err);

/* Opens o's source. An input that cannot be opened is the user's to fix, so
 * every failure but memory is NP_ERR_USAGE (exit 2). NULL with err set. */
struct np_source *np_cli_open_source(const struct np_opts *o, struct np_err *err);

/* Live capture: tells the user (stderr) that capture runs, as tcpdump does:
 * "netpeek CMD: listening on IFACE, link-type NAME, snapshot length N bytes". */
void np_cli_listening(const char *cmd, const struct np_opts *o, struct np_source *src);

/* Opens path for writing (created or truncated); "-" or NULL is stdout.
 * Returns the fd or -1 with err set. */
int np_cli_open_output(const char *path, struct np_err *err);

#endif
