/* sink/unix_sock.c: one line in, bytes out, on a UNIX stream socket; poll-driven.
 *
 * A connection is a slot of a fixed array; when every slot is taken, a new
 * connection takes the oldest one's place, so the longest any client waits
 * for a slot is one serve call, whatever other clients do. */
#include "sink/unix_sock.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ACCEPTS_PER_CALL 64u /* accepts per serve call, kept or refused */

struct conn {
    int fd;               /* -1: free slot */
    bool writing;         /* the line was read; reply is being sent */
    uint32_t len;         /* bytes of the line read */
    uint64_t deadline_ms; /* CLOCK_MONOTONIC */
    uint64_t serial;      /* accept order: the oldest has the smallest */
    size_t off;           /* reply bytes sent */
    char *line;           /* owned; max_line_bytes + 1 */
    struct np_unix_sock_reply reply;
};

struct np_unix_sock {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev; /* of the socket file created: removed at the end only if still ours */
    ino_t ino;
    bool bound;
    struct np_unix_sock_cfg cfg;
    np_unix_sock_line_fn *fn;
    void *ctx;
    struct conn *conns; /* owned; cfg.max_conns */
    uint32_t n_open;
    struct pollfd *pfds; /* owned; 1 + cfg.max_conns */
    uint32_t *pidx;      /* owned; the conn of pfds[i + 1] */
    struct np_unix_sock_stats st;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void np_unix_sock_reply_add(struct np_unix_sock_reply *r, const void *p, size_t n)
{
    if (r->overflow || n == 0)
        return;
    if (n > r->max - r->len) {
        r->overflow = true;
        return;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > r->max)
            cap = r->max;
        char *b = realloc(r->buf, cap);
        if (b == NULL) {
            r->overflow = true;
            return;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

/* mkdir -p of path's directory, each directory made mode 0755 whatever the
 * umask (clients of the socket's group must reach it); the socket's own
 * directory, if made, is given to uid/gid. */
static enum np_rc make_dir(const struct np_unix_sock_cfg *cfg, struct np_err *err)
{
    char d[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(d, sizeof(d), "%s", cfg->path);
    char *slash = strrchr(d, '/');
    if (slash == NULL || slash == d)
        return NP_OK;
    *slash = '\0';
    bool made = false;
    for (char *p = d + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(d, 0755) == 0) {
            made = true;
            if (chmod(d, 0755) != 0)
                return np_err_set(err, NP_ERR_USAGE, "cannot set the mode of %s: %s", d,
                                  strerror(errno));
        } else if (errno != EEXIST) {
            return np_err_set(err, NP_ERR_USAGE, "cannot create directory %s: %s", d,
                              strerror(errno));
        }
        *p = c;
        if (c == '\0')
            break;
    }
    /* so that the socket can be removed after dropping privileges */
    if (made && (cfg->uid != (uid_t)-1 || cfg->gid != (gid_t)-1) &&
        chown(d, cfg->uid, cfg->gid) != 0)
        return np_err_set(err, NP_ERR_USAGE, "cannot give %s to the -u user: %s", d,
                          strerror(errno));
    return NP_OK;
}

/* A socket file left at path: removed if nobody answers on it. */
static enum np_rc clear_stale(const char *path, const struct sockaddr_un *sa, struct np_err *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return NP_OK;
        return np_err_set(err, NP_ERR_USAGE, "cannot use socket %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(sb.st_mode))
        return np_err_set(err, NP_ERR_USAGE, "%s exists and is not a socket: not replaced", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return np_err_set(err, NP_ERR_IO, "socket: %s", strerror(errno));
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN || e == EINPROGRESS)
        return np_err_set(err, NP_ERR_USAGE,
                          "another process answers on %s (another netpeek handshake?): "
                          "give another -U",
                          path);
    if (e != ECONNREFUSED)
        return np_err_set(err, NP_ERR_USAGE, "cannot use socket %s: %s", path, strerror(e));
    if (unlink(path) != 0 && errno != ENOENT)
        return np_err_set(err, NP_ERR_USAGE, "cannot replace stale socket %s: %s", path,
                          strerror(errno));
    return NP_OK;
}

struct np_unix_sock *np_unix_sock_create(const struct np_unix_sock_cfg *cfg,
                                         np_unix_sock_line_fn *fn, void *ctx, struct np_err *err)
{
    struct np_unix_sock *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->cfg = *cfg;
    s->cfg.path = s->path;
    if (s->cfg.max_conns == 0)
        s->cfg.max_conns = 32;
    if (s->cfg.max_line_bytes == 0)
        s->cfg.max_line_bytes = 256;
    if (s->cfg.conn_timeout_ms == 0)
        s->cfg.conn_timeout_ms = 5000;
    if (s->cfg.max_reply_bytes == 0)
        s->cfg.max_reply_bytes = 1u << 20;
    s->fn = fn;
    s->ctx = ctx;
    uint32_t n = s->cfg.max_conns;
    s->conns = calloc(n, sizeof(*s->conns));
    s->pfds = calloc(n + 1u, sizeof(*s->pfds));
    s->pidx = calloc(n, sizeof(*s->pidx));
    if (s->conns == NULL || s->pfds == NULL || s->pidx == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        s->conns[i].fd = -1;
        s->conns[i].line = malloc(s->cfg.max_line_bytes + 1u);
        if (s->conns[i].line == NULL) {
            np_err_set(err, NP_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }

    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (cfg->path == NULL || cfg->path[0] == '\0' || strlen(cfg->path) >= sizeof(sa.sun_path)) {
        np_err_set(err, NP_ERR_USAGE, "socket path '%s' is empty or longer than %zu bytes",
                   cfg->path ? cfg->path : "", sizeof(sa.sun_path) - 1);
        goto fail;
    }
    memcpy(s->path, cfg->path, strlen(cfg->path) + 1);
    memcpy(sa.sun_path, cfg->path, strlen(cfg->path) + 1);
    if (make_dir(&s->cfg, err) != NP_OK || clear_stale(s->path, &sa, err) != NP_OK)
        goto fail;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        np_err_set(err, NP_ERR_IO, "socket: %s", strerror(errno));
        goto fail;
    }
    /* no wider access than asked for, even for a moment */
    mode_t old = umask(0777 & ~(mode_t)s->cfg.mode);
    int r = bind(s->fd, (const struct sockaddr *)&sa, sizeof(sa));
    int e = errno;
    umask(old);
    if (r != 0) {
        np_err_set(err, e == EADDRINUSE || e == EACCES || e == ENOENT ? NP_ERR_USAGE : NP_ERR_IO,
                   "cannot create socket %s: %s", s->path, strerror(e));
        goto fail;
    }
    struct stat sb;
    if (lstat(s->path, &sb) == 0) {
        s->dev = sb.st_dev;
        s->ino = sb.st_ino;
        s->bound = true;
    }
    if (chmod(s->path, (mode_t)s->cfg.mode) != 0 ||
        ((s->cfg.uid != (uid_t)-1 || s->cfg.gid != (gid_t)-1) &&
         chown(s->path, s->cfg.uid, s->cfg.gid) != 0)) {
        np_err_set(err, NP_ERR_USAGE, "cannot set the mode or owner of %s: %s", s->path,
                   strerror(errno));
        goto fail;
    }
    if (listen(s->fd, SOMAXCONN) != 0) {
        np_err_set(err, NP_ERR_IO, "listen on %s: %s", s->path, strerror(errno));
        goto fail;
    }
    return s;
fail:
    np_unix_sock_destroy(s);
    return NULL;
}

static void conn_close(struct np_unix_sock *s, struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->writing = false;
    c->len = 0;
    c->off = 0;
    c->reply.len = 0;
    c->reply.overflow = false;
    s->n_open--;
}

void np_unix_sock_destroy(struct np_unix_sock *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->conns != NULL && i < s->cfg.max_conns; i++) {
        if (s->conns[i].fd >= 0)
            conn_close(s, &s->conns[i]);
        free(s->conns[i].line);
        free(s->conns[i].reply.buf);
    }
    if (s->fd >= 0)
        close(s->fd);
    struct stat sb;
    if (s->bound && lstat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
        unlink(s->path);
    free(s->conns);
    free(s->pfds);
    free(s->pidx);
    free(s);
}

/* Sends what the socket takes; closes the connection once all is sent. */
static void conn_write(struct np_unix_sock *s, struct conn *c)
{
    while (c->off < c->reply.len) {
        ssize_t w = send(c->fd, c->reply.buf + c->off, c->reply.len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            conn_close(s, c);
            return;
        }
        c->off += (size_t)w;
    }
    s->st.replies_sent++;
    conn_close(s, c);
}

static void conn_answer(struct np_unix_sock *s, struct conn *c, uint32_t n)
{
    if (n > 0 && c->line[n - 1] == '\r')
        n--;
    c->line[n] = '\0';
    c->reply.len = 0;
    c->reply.overflow = false;
    c->reply.max = s->cfg.max_reply_bytes;
    s->fn(c->line, n, &c->reply, s->ctx);
    if (c->reply.overflow) {
        s->st.replies_too_long++;
        conn_close(s, c);
        return;
    }
    if (c->reply.len == 0) {
        conn_close(s, c);
        return;
    }
    c->writing = true;
    c->off = 0;
    conn_write(s, c);
}

static void conn_read(struct np_unix_sock *s, struct conn *c)
{
    uint32_t cap = s->cfg.max_line_bytes;
    ssize_t r;
    do
        r = recv(c->fd, c->line + c->len, cap - c->len, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (r <= 0) {
        if (r == 0 && c->len > 0) { /* a last line without its end */
            conn_answer(s, c, c->len);
            return;
        }
        s->st.conns_closed_early++;
        conn_close(s, c);
        return;
    }
    char *lf = memchr(c->line + c->len, '\n', (size_t)r);
    c->len += (uint32_t)r;
    if (lf != NULL) {
        conn_answer(s, c, (uint32_t)(lf - c->line));
        return;
    }
    if (c->len == cap) {
        s->st.lines_too_long++;
        conn_close(s, c);
    }
}

/* Frees a slot when every one is taken. The oldest connection still
 * waiting for its line is read once more, since its line may have come
 * after the last poll (then it is answered, and leaves or starts writing);
 * if it is still waiting, it is closed. A connection sending its answer
 * goes only when no connection waits for a line. Each round closes one or
 * moves one to writing, so max_conns + 1 rounds free a slot. */
static void make_room(struct np_unix_sock *s)
{
    for (uint32_t round = 0; s->n_open == s->cfg.max_conns && round <= s->cfg.max_conns; round++) {
        struct conn *old = NULL;
        for (uint32_t i = 0; i < s->cfg.max_conns; i++) {
            struct conn *c = &s->conns[i];
            if (c->fd < 0)
                continue;
            if (old == NULL || (old->writing && !c->writing) ||
                (old->writing == c->writing && c->serial < old->serial))
                old = c;
        }
        if (!old->writing) {
            conn_read(s, old);
            if (old->fd < 0 || old->writing)
                continue;
        }
        s->st.conns_evicted++;
        conn_close(s, old);
    }
}

static void accept_some(struct np_unix_sock *s, uint64_t now)
{
    for (uint32_t k = 0; k < ACCEPTS_PER_CALL; k++) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a client gone already */
        if (s->n_open == s->cfg.max_conns)
            make_room(s);
        assert(s->n_open < s->cfg.max_conns);
        for (uint32_t i = 0; i < s->cfg.max_conns; i++) {
            struct conn *c = &s->conns[i];
            if (c->fd >= 0)
                continue;
            c->fd = fd;
            c->len = 0;
            c->writing = false;
            c->deadline_ms = now + s->cfg.conn_timeout_ms;
            c->serial = ++s->st.conns_accepted;
            s->n_open++;
            break;
        }
    }
}

uint32_t np_unix_sock_serve(struct np_unix_sock *s, int timeout_ms)
{
    uint32_t np = 1;
    s->pfds[0].fd = s->fd;
    s->pfds[0].events = POLLIN;
    s->pfds[0].revents = 0;
    for (uint32_t i = 0; i < s->cfg.max_conns; i++) {
        struct conn *c = &s->conns[i];
        if (c->fd < 0)
            continue;
        s->pfds[np].fd = c->fd;
        s->pfds[np].events = c->writing ? POLLOUT : POLLIN;
        s->pfds[np].revents = 0;
        s->pidx[np - 1] = i;
        np++;
    }
    int r = poll(s->pfds, np, timeout_ms);
    uint64_t now = mono_ms();
    if (r > 0) {
        for (uint32_t k = 1; k < np; k++) {
            short ev = s->pfds[k].revents;
            struct conn *c = &s->conns[s->pidx[k - 1]];
            if (ev == 0 || c->fd < 0)
                continue;
            if (c->writing)
                conn_write(s, c);
            else
                conn_read(s, c);
        }
        if (s->pfds[0].revents & POLLIN)
            accept_some(s, now);
    }
    for (uint32_t i = 0; i < s->cfg.max_conns; i++) {
        struct conn *c = &s->conns[i];
        if (c->fd >= 0 && now >= c->deadline_ms) {
            s->st.conns_timed_out++;
            conn_close(s, c);
        }
    }
    return s->n_open;
}

const struct np_unix_sock_stats *np_unix_sock_stats(const struct np_unix_sock *s)
{
    return &s->st;
}

bool np_unix_sock_removable(const struct np_unix_sock *s)
{
    char d[sizeof(s->path)];
    memcpy(d, s->path, sizeof(d));
    char *slash = strrchr(d, '/');
    if (slash == NULL)
        snprintf(d, sizeof(d), ".");
    else if (slash == d)
        d[1] = '\0';
    else
        *slash = '\0';
    struct stat ds, ss;
    if (faccessat(AT_FDCWD, d, W_OK | X_OK, AT_EACCESS) != 0 || stat(d, &ds) != 0)
        return false;
    if (!(ds.st_mode & S_ISVTX))
        return true;
    uid_t me = geteuid();
    return ds.st_uid == me || (lstat(s->path, &ss) == 0 && ss.st_uid == me);
}
