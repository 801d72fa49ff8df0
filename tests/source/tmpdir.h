/* tests/source/tmpdir.h: one temporary directory per test program, for the
 * capture files its tests write.
 *
 * Test helper only. make_tmpdir and remove_tmpdir are the cmocka group setup
 * and teardown; in between, tmpdir names the directory, /tmp/np-<program>-*.
 */
#ifndef NP_TESTS_SOURCE_TMPDIR_H
#define NP_TESTS_SOURCE_TMPDIR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

static inline int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/np-%s-XXXXXX", program_invocation_short_name);
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static inline int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[sizeof(tmpdir) + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
