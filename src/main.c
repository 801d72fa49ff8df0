/* main.c: subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} cmds[] = {
    { "flows", np_cmd_flows, "one record per flow, as table, CSV, JSON or JSON Lines" },
    { "sample", np_cmd_sample, "the first N packets of every TCP session, into a pcap" },
    { "record", np_cmd_record, "capture or import packets into a session of a database" },
    { "sessions", np_cmd_sessions, "list (or delete) the sessions of a database" },
    { "query", np_cmd_query, "print a session's packets, by host, port, flow, time or BPF" },
    { "replay", np_cmd_replay, "send a session onto an interface, or print it, on time" },
    { "export", np_cmd_export, "write a session to a pcap or pcapng file" },
    { "handshake", np_cmd_handshake, "TCP handshake monitor: successes, rejects, timeouts" },
    { "stat", np_cmd_stat, "read the statistics socket of a running handshake monitor" },
    { "interfaces", np_cmd_interfaces, "list capture interfaces" },
};

static void usage(FILE *f)
{
    fputs("Usage: netpeek COMMAND [options]\n\n"
          "Captures and analyzes network traffic, live or from pcap/pcapng files.\n\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].what);
    fputs("\n'netpeek COMMAND --help' describes a command's options.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(c, "-V") == 0 || strcmp(c, "--version") == 0) {
        printf("netpeek %s\n", NP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(c, cmds[i].name) == 0)
            return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "netpeek: unknown command '%s' (see 'netpeek --help')\n", c);
    return 2;
}
