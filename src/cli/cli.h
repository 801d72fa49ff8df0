/* cli/cli.h: the subcommands and what they share. Only cli/ prints errors
 * and chooses exit codes: 0 success, 1 a failure while running, 2 a user
 * error (bad option, missing file, bad filter, no permission). */
#ifndef NP_CLI_CLI_H
#define NP_CLI_CLI_H

#include "core/err.h"

struct np_source;

int np_cmd_flows(int argc, char **argv);
int np_cmd_interfaces(int argc, char **argv);

/* Prints "netpeek CMD: MSG" on stderr and returns the exit code for err->rc. */
int np_cli_fail(const char *cmd, const struct np_err *err);

/* Ctrl-C and SIGTERM ask src to stop; a second Ctrl-C kills the process. */
void np_cli_catch_signals(struct np_source *src);

struct np_opts;
/* Live capture: tells the user (stderr) that capture runs, as tcpdump does:
 * "netpeek CMD: listening on IFACE, link-type NAME, snapshot length N bytes". */
void np_cli_listening(const char *cmd, const struct np_opts *o, struct np_source *src);

/* Opens path for writing (created or truncated); "-" or NULL is stdout.
 * Returns the fd or -1 with err set. */
int np_cli_open_output(const char *path, struct np_err *err);

#endif
