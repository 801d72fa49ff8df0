/* tests/sink/test_unix_sock.c: the line-in, bytes-out socket server
 * (sink/unix_sock.h).
 *
 * Server and clients live in this one process: clients are non-blocking
 * sockets, and every wait is a bounded loop of np_unix_sock_serve() calls
 * with a short poll timeout, reading the clients in between. The callback
 * answers "ans:" and the line, or nothing for "silent".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink/unix_sock.h"

static char dir[64];
static char path[128];
static int n_calls;

static void on_line(const char *line, size_t n, struct np_unix_sock_reply *r, void *ctx)
{
    (void)ctx;
    n_calls++;
    assert_int_equal(line[n], '\0');
    if (strcmp(line, "silent") == 0)
        return;
    if (strcmp(line, "big") == 0) {
        char b[1024];
        memset(b, 'x', sizeof(b));
        for (int i = 0; i < 2048; i++)
            np_unix_sock_reply_add(r, b, sizeof(b));
        return;
    }
    np_unix_sock_reply_add(r, "ans:", 4);
    np_unix_sock_reply_add(r, line, n);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/np_usock_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub/dir/s.sock", dir);
    n_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct np_unix_sock *make(uint32_t max_conns, uint32_t max_line, uint32_t timeout_ms)
{
    struct np_unix_sock_cfg cfg = { path,      0660,     (uid_t)-1,  (gid_t)-1,
                                    max_conns, max_line, timeout_ms, 64u << 10 };
    struct np_err err = { 0 };
    struct np_unix_sock *s = np_unix_sock_create(&cfg, on_line, NULL, &err);
    if (s == NULL)
        fail_msg("create: %s", err.msg);
    return s;
}

static int client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void put(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Serves until each of fds[0..n) was closed by the server (bounded), and
 * returns what each received in out[i] (NUL-terminated). */
static void answers(struct np_unix_sock *s, const int *fds, int n, char out[][256])
{
    size_t len[16] = { 0 };
    bool eof[16] = { false };
    int left = n;
    for (int round = 0; round < 500 && left > 0; round++) {
        np_unix_sock_serve(s, 10);
        for (int i = 0; i < n; i++) {
            while (!eof[i]) {
                char b[4096];
                ssize_t r = recv(fds[i], b, sizeof(b), 0);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0) {
                    eof[i] = true;
                    left--;
                    break;
                }
                size_t k = (size_t)r < 255 - len[i] ? (size_t)r : 255 - len[i];
                memcpy(out[i] + len[i], b, k);
                len[i] += k;
            }
        }
    }
    assert_int_equal(left, 0);
    for (int i = 0; i < n; i++)
        out[i][len[i]] = '\0';
}

static void test_lines(void **state)
{
    (void)state;
    struct np_unix_sock *s = make(0, 0, 0);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0660);

    /* several at once, in pieces, CRLF, LF, and a line cut by shutdown */
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = client();
    put(fds[0], "GE");
    put(fds[1], "REFRESH a\r\n");
    put(fds[2], "x\n");
    put(fds[3], "no end");
    put(fds[4], "R");
    np_unix_sock_serve(s, 10);
    np_unix_sock_serve(s, 10);
    put(fds[0], "T\r");
    np_unix_sock_serve(s, 10);
    put(fds[0], "\nignored after the line\n");
    shutdown(fds[3], SHUT_WR);
    put(fds[4], "EFRESH\n");
    char out[5][256];
    answers(s, fds, 5, out);
    assert_string_equal(out[0], "ans:GET");
    assert_string_equal(out[1], "ans:REFRESH a");
    assert_string_equal(out[2], "ans:x");
    assert_string_equal(out[3], "ans:no end");
    assert_string_equal(out[4], "ans:REFRESH");
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    assert_int_equal(np_unix_sock_stats(s)->replies_sent, 5);

    /* an empty answer closes silently; an answer too long is not sent */
    fds[0] = client();
    fds[1] = client();
    put(fds[0], "silent\n");
    put(fds[1], "big\n");
    answers(s, fds, 2, out);
    assert_string_equal(out[0], "");
    assert_string_equal(out[1], "");
    assert_int_equal(np_unix_sock_stats(s)->replies_too_long, 1);
    close(fds[0]);
    close(fds[1]);

    np_unix_sock_destroy(s);
    assert_int_equal(lstat(path, &sb), -1); /* removed */
    assert_int_equal(errno, ENOENT);
}

static void test_bad_clients(void **state)
{
    (void)state;
    struct np_unix_sock *s = make(2, 16, 100);
    char out[3][256];

    /* an over-long line: closed without an answer */
    int fd = client();
    put(fd, "0123456789abcdefgh\n");
    answers(s, &fd, 1, out);
    assert_string_equal(out[0], "");
    close(fd);
    assert_int_equal(np_unix_sock_stats(s)->lines_too_long, 1);
    assert_int_equal(n_calls, 0);

    /* gone before a line */
    fd = client();
    close(fd);
    for (int i = 0; i < 100 && np_unix_sock_stats(s)->conns_closed_early == 0; i++)
        np_unix_sock_serve(s, 10);
    assert_int_equal(np_unix_sock_stats(s)->conns_closed_early, 1);

    /* silent clients hold the two slots; a third, silent too, takes the
     * oldest's place; the other two time out */
    int a = client(), b = client();
    for (int i = 0; i < 5; i++)
        np_unix_sock_serve(s, 1);
    int c = client();
    int fds[3] = { a, b, c };
    answers(s, fds, 3, out); /* all closed: a at once, b and c after 100 ms */
    assert_string_equal(out[2], "");
    assert_int_equal(np_unix_sock_stats(s)->conns_evicted, 1);
    assert_int_equal(np_unix_sock_stats(s)->conns_timed_out, 2);
    close(a);
    close(b);
    close(c);

    /* still serving */
    fd = client();
    put(fd, "ok\n");
    answers(s, &fd, 1, out);
    assert_string_equal(out[0], "ans:ok");
    close(fd);
    np_unix_sock_destroy(s);
}

/* Reads fd until the server closes it (bounded); true when it was closed
 * without an answer. */
static bool closed_silently(struct np_unix_sock *s, int fd)
{
    char out[1][256];
    answers(s, &fd, 1, out);
    return out[0][0] == '\0';
}

static void a_new_client_is_served_while_silent_clients_hold_every_slot(void **state)
{
    (void)state;
    /* a timeout far beyond the test: nothing here may depend on it */
    struct np_unix_sock *s = make(3, 0, 600000);
    int silent[4];
    for (int i = 0; i < 3; i++)
        silent[i] = client();
    for (int i = 0; i < 5; i++)
        np_unix_sock_serve(s, 1);
    assert_int_equal(np_unix_sock_serve(s, 0), 3);

    /* each newcomer is answered at once; the oldest silent one makes room */
    for (int k = 0; k < 3; k++) {
        int fd = client();
        put(fd, "GET\n");
        char out[1][256];
        answers(s, &fd, 1, out);
        assert_string_equal(out[0], "ans:GET");
        close(fd);
        assert_true(closed_silently(s, silent[k]));
        assert_int_equal(np_unix_sock_stats(s)->conns_evicted, (uint64_t)k + 1);
        close(silent[k]);
        silent[k] = client(); /* and the slot is taken again */
        for (int i = 0; i < 5; i++)
            np_unix_sock_serve(s, 1);
    }
    assert_int_equal(np_unix_sock_stats(s)->conns_timed_out, 0);
    assert_int_equal(np_unix_sock_stats(s)->replies_sent, 3);
    for (int i = 0; i < 3; i++)
        close(silent[i]);
    np_unix_sock_destroy(s);
}

static void a_line_that_came_before_its_connection_was_polled_is_answered_not_evicted(void **state)
{
    (void)state;
    /* Four clients connect and send their lines before one serve call: the
     * accepts fill both slots, and the third and fourth each make room by
     * reading the oldest, whose line is there and is answered. */
    struct np_unix_sock *s = make(2, 0, 600000);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = client();
        char line[16];
        snprintf(line, sizeof(line), "n%d\n", i);
        put(fds[i], line);
    }
    char out[4][256];
    answers(s, fds, 4, out);
    for (int i = 0; i < 4; i++) {
        char want[16];
        snprintf(want, sizeof(want), "ans:n%d", i);
        assert_string_equal(out[i], want);
        close(fds[i]);
    }
    assert_int_equal(np_unix_sock_stats(s)->conns_evicted, 0);
    assert_int_equal(np_unix_sock_stats(s)->replies_sent, 4);
    np_unix_sock_destroy(s);
}

static void the_directory_made_for_the_socket_has_mode_0755_whatever_the_umask(void **state)
{
    (void)state;
    mode_t old = umask(077);
    struct np_unix_sock *s = make(0, 0, 0);
    umask(old);
    struct stat sb;
    char d[160];
    snprintf(d, sizeof(d), "%s/sub", dir);
    assert_int_equal(stat(d, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0755);
    snprintf(d, sizeof(d), "%s/sub/dir", dir);
    assert_int_equal(stat(d, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0755);
    assert_true(np_unix_sock_removable(s)); /* ours */
    np_unix_sock_destroy(s);
}

/* np_unix_sock_removable(s) as uid would see it. */
static bool removable_as(const struct np_unix_sock *s, uid_t uid)
{
    assert_int_equal(seteuid(uid), 0);
    bool ok = np_unix_sock_removable(s);
    assert_int_equal(seteuid(0), 0);
    return ok;
}

static void removable_says_whether_another_user_could_remove_the_socket(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || pw == NULL || pw->pw_uid == 0)
        skip(); /* needs to take another user's effective id */
    const uid_t nobody = pw->pw_uid;
    assert_int_equal(chmod(dir, 0755), 0); /* mkdtemp's 0700 would stop nobody first */
    struct np_unix_sock *s = make(0, 0, 0);
    char d[160];
    snprintf(d, sizeof(d), "%s/sub/dir", dir);

    /* the socket's directory belongs to root, 0755: not for nobody */
    assert_false(removable_as(s, nobody));

    /* given to nobody, as for a directory made for -u */
    assert_int_equal(chown(d, nobody, (gid_t)-1), 0);
    assert_true(removable_as(s, nobody));

    /* sticky and writable by all, as /tmp: only with the socket nobody's */
    assert_int_equal(chown(d, 0, (gid_t)-1), 0);
    assert_int_equal(chmod(d, 01777), 0);
    assert_false(removable_as(s, nobody));
    assert_int_equal(lchown(path, nobody, (gid_t)-1), 0);
    assert_true(removable_as(s, nobody));
    np_unix_sock_destroy(s);
}

static void test_stale_and_live(void **state)
{
    (void)state;
    struct np_unix_sock *s = make(0, 0, 0);
    /* a live one is refused, and left alone */
    struct np_unix_sock_cfg cfg = { path, 0660, (uid_t)-1, (gid_t)-1, 0, 0, 0, 0 };
    struct np_err err = { 0 };
    assert_null(np_unix_sock_create(&cfg, on_line, NULL, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "another process answers"));
    int fd = client();
    put(fd, "still\n");
    char out[1][256];
    answers(s, &fd, 1, out);
    assert_string_equal(out[0], "ans:still");
    close(fd);
    np_unix_sock_destroy(s);

    /* a stale socket (bound, nobody listening) is replaced */
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(st, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(st);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    s = make(0, 0, 0);
    fd = client();
    put(fd, "new\n");
    answers(s, &fd, 1, out);
    assert_string_equal(out[0], "ans:new");
    close(fd);

    /* the file replaced under us is not removed at the end */
    assert_int_equal(unlink(path), 0);
    int f = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(f >= 0);
    close(f);
    np_unix_sock_destroy(s);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));

    /* a path that is not a socket is refused and kept */
    memset(&err, 0, sizeof(err));
    assert_null(np_unix_sock_create(&cfg, on_line, NULL, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "not a socket"));
    assert_int_equal(lstat(path, &sb), 0);

    /* too long a path */
    char lp[200];
    memset(lp, 'a', sizeof(lp) - 1);
    lp[sizeof(lp) - 1] = '\0';
    cfg.path = lp;
    assert_null(np_unix_sock_create(&cfg, on_line, NULL, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    np_unix_sock_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_live, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_client_is_served_while_silent_clients_hold_every_slot,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
                a_line_that_came_before_its_connection_was_polled_is_answered_not_evicted, setup,
                teardown),
        cmocka_unit_test_setup_teardown(
                the_directory_made_for_the_socket_has_mode_0755_whatever_the_umask, setup,
                teardown),
        cmocka_unit_test_setup_teardown(removable_says_whether_another_user_could_remove_the_socket,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
