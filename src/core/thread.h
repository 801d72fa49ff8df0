/* core/thread.h: starting the helper threads of a command (output writers,
 * the store's writer and checkpointer).
 *
 * A helper thread starts with every signal blocked but SIGPIPE: SIGINT and
 * SIGTERM go to the thread that waits for them (cli/common.c), a write past
 * a file size limit fails with EFBIG instead of killing the process, and a
 * broken pipe still ends the process from a helper as it would from the
 * caller.
 */
#ifndef NP_CORE_THREAD_H
#define NP_CORE_THREAD_H

#include <pthread.h>

/* pthread_create with that mask; 0 or an errno value. */
int np_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
