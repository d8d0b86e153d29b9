/* bgthread: starting helper threads that never take process signals.
 *
 * SIGTERM/SIGINT/SIGHUP must reach ctl.h's handler, which works from any
 * thread, but helper threads (stderr forwarder, control, probe) have no
 * business being interrupted; they start with every signal blocked.
 *
 * Thread: any.
 */
#ifndef SSHMOUNTFS_FS_BGTHREAD_H
#define SSHMOUNTFS_FS_BGTHREAD_H

#include <pthread.h>

/* pthread_create with all signals blocked in the new thread. 0 or -errno. */
int bgthread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
