/*
 * standin_worker.h - the worker's init tested on its own: es_spawn_worker
 * starts tests/fault_at_0x40 (found through $ES_FAULT_AT_0x40) in place of
 * expert-worker, waits for its init and returns init's report.  As root the
 * init is the PID namespace's; otherwise it has none.  Check assertions:
 * for test files only.
 */
#ifndef TESTS_STANDIN_WORKER_H
#define TESTS_STANDIN_WORKER_H

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker_spawn.h"

static inline struct es_worker_status run_fault_at_0x40(void)
{
    const char *path = getenv("ES_FAULT_AT_0x40");
    ck_assert_msg(path != NULL, "ES_FAULT_AT_0x40 is not set (run the tests with meson test)");
    int output = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(output, 0);
    struct es_spawn_request req = {
        .worker_path = path,
        .expert_name = "fault_at_0x40",
        .control_fd = -1,
        .expert_fd = -1,
        .output_fd = output,
        .pid_namespace = geteuid() == 0,
    };
    struct es_child child;
    ck_assert_int_eq(es_spawn_worker(&req, &child), 0);
    close(output);
    ck_assert_int_ge(child.status_fd, 0);
    siginfo_t info;
    ck_assert_int_eq(waitid(P_PIDFD, (id_t)child.pidfd, &info, WEXITED), 0);
    struct es_worker_status status;
    ck_assert_msg(es_spawn_read_status(&child, &status), "init reported nothing");
    close(child.pidfd);
    close(child.status_fd);
    return status;
}

#endif
