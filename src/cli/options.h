/* cli/options.h: the one canonical table of long options, shared by every
 * command.
 *
 * Each command lists the options it accepts and the short letters it keeps
 * from the tool its users know (the same letter may mean different things in
 * different commands). Parsing fills struct np_opts; help text is generated
 * from the same table, so --help cannot drift from what is parsed.
 */
#ifndef NP_CLI_OPTIONS_H
#define NP_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "flow/track.h"
#include "source/source.h"

enum np_opt_id {
    NP_OPT_READ = 1,
    NP_OPT_IFACE,
    NP_OPT_FILTER,
    NP_OPT_SNAPLEN,
    NP_OPT_BUFFER_SIZE,
    NP_OPT_READ_TIMEOUT,
    NP_OPT_PROMISC,
    NP_OPT_NO_PROMISC,
    NP_OPT_IMMEDIATE,
    NP_OPT_COUNT,
    NP_OPT_DURATION,
    NP_OPT_LIBPCAP_READER,
    NP_OPT_FLOW_TIMEOUT_TCP,
    NP_OPT_FLOW_TIMEOUT_UDP,
    NP_OPT_FLOW_TIMEOUT_ICMP,
    NP_OPT_TCP_CLOSE_DELAY,
    NP_OPT_MAX_FLOWS,
    NP_OPT_NUMBER,
    NP_OPT_MIDSTREAM,
    NP_OPT_SESSION_TIMEOUT,
    NP_OPT_MAX_SESSIONS,
    NP_OPT_TIME_PRECISION,
    NP_OPT_VERBOSE,
    NP_OPT_FORMAT,
    NP_OPT_OUTPUT,
    NP_OPT_JSON,
    NP_OPT_QUIET,
    NP_OPT_DATABASE,
    NP_OPT_NAME,
    NP_OPT_SESSION,
    NP_OPT_LIMIT,
    NP_OPT_OFFSET,
    NP_OPT_SHOW_DATA,
    NP_OPT_HOST,
    NP_OPT_PORT,
    NP_OPT_FLOW,
    NP_OPT_SINCE,
    NP_OPT_UNTIL,
    NP_OPT_SPEED,
    NP_OPT_DISPLAY_ONLY,
    NP_OPT_DELETE,
    NP_OPT_HELP,
    NP_OPT_VERSION,
    NP_OPT_USER,
    NP_OPT_SOCKET,
    NP_OPT_CHECKSUM,
    NP_OPT_TIMEOUT,
    NP_OPT_BUFFER_MB,
    NP_OPT_LOGLEVEL,
    NP_OPT_ICMP,
    NP_OPT_LOCAL,
    NP_OPT_NO_SOCKET,
    NP_OPT_LINGER,
    NP_OPT_GMETRIC,
    NP_OPT_GMETRIC_PATH,
    NP_OPT_PROMETHEUS,
    NP_OPT_MAX,
};

/* One option a command accepts, with its short letter (0 for none). */
struct np_cmd_opt {
    enum np_opt_id id;
    char short_name;
    const char *help; /* NULL: the table's text */
};

struct np_cmd {
    const char *name;
    const char *usage;   /* after "netpeek NAME " */
    const char *summary; /* one paragraph */
    const struct np_cmd_opt *opts;
    size_t n_opts;
    const char *footer; /* examples, notes; may be NULL */
};

struct np_opts {
    struct np_source_opts src;
    const char **files; /* owned array; strings borrowed from argv */
    struct np_track_cfg track;
    const char *format;          /* borrowed from argv; NULL = command default */
    const char *output;          /* -o; NULL = stdout */
    uint32_t number;             /* sample: packets per session (10) */
    bool midstream;              /* sample: sessions already under way */
    uint64_t session_timeout_ns; /* sample: idle timeout (60 s) */
    uint32_t max_sessions;       /* sample: sessions at once (1000000) */
    unsigned time_prec;          /* sample: 6 or 9; 0 = as the input */
    bool verbose;
    /* the recorder's commands */
    const char *database;  /* -d (packets.db) */
    const char *name;      /* record --name */
    const char *session;   /* -s ID or a unique prefix; borrowed from argv */
    const char *delete_id; /* sessions --delete */
    uint64_t limit;        /* query -l (10; 0: all) */
    uint64_t offset;       /* query --offset */
    bool show_data;        /* query --show-data */
    bool has_host;         /* query --host */
    uint8_t host_ver;      /* 4 or 6 */
    uint8_t host[16];
    int32_t port;  /* query --port; -1: none */
    bool has_flow; /* query --flow */
    uint64_t flow_id;
    uint64_t since_ns, until_ns; /* query --since/--until (0 .. UINT64_MAX) */
    double speed;                /* replay --speed (1.0; 0: as fast as possible) */
    bool display_only;           /* replay --display-only */
    bool json;
    bool quiet;
    bool help, version;
    /* handshake and stat (tcpeek) */
    const char *user;        /* -u: drop to this user; borrowed from argv */
    const char *socket_path; /* -U (/var/run/netpeek/handshake.sock) */
    unsigned checksum;       /* -c: 0, 1 or 2 */
    uint64_t hs_timeout_ns;  /* -t (60 s) */
    int loglevel;            /* -l: a syslog level (LOG_NOTICE) */
    bool icmp;               /* --icmp */
    const char **locals;     /* --local, in order; owned array, strings borrowed */
    size_t n_locals;
    /* the statistics socket (handshake) and its reader (stat) */
    bool socket_given;        /* -U was given */
    bool no_socket;           /* --no-socket */
    bool linger;              /* --linger: serve the socket after the input ends */
    bool gmetric;             /* stat -g */
    const char *gmetric_path; /* stat --gmetric-path (gmetric) */
    bool prometheus;          /* stat --prometheus */
    /* Positional arguments: refused unless the command sets args_ok before
     * parsing; then args points into argv (n_args of them, in order). */
    bool args_ok;
    char **args;
    int n_args;
};

/* Sets every default. */
void np_opts_init(struct np_opts *o);
void np_opts_fini(struct np_opts *o);

/* Parses argv (argv[0] is the command name). On a user error returns
 * NP_ERR_USAGE with one line in err. Positional arguments are refused
 * unless o->args_ok was set (then they are in o->args). */
enum np_rc np_opts_parse(struct np_opts *o, const struct np_cmd *cmd, int argc, char **argv,
                         struct np_err *err);

/* Writes the command's help: usage, summary, every option with its letters,
 * argument and default. */
void np_opts_help(const struct np_cmd *cmd, FILE *f);

/* A time as --since takes it: RFC 3339 (a date alone is its midnight UTC;
 * with a time, Z or an offset is required) or seconds since the epoch with
 * an optional fraction. NP_OK or NP_ERR_USAGE. */
enum np_rc np_parse_time(const char *v, uint64_t *ns, struct np_err *err);

/* Checks that exactly one source (-r or -i) was given. */
enum np_rc np_opts_need_source(const struct np_opts *o, struct np_err *err);

#endif
