/*
 * mps.c - child processes and NVIDIA MPS for the capture tool, with no
 * CUDA in this process: MPS clients must be processes of their own, and a
 * process that has a CUDA context of its own would hold the GPU outside
 * MPS. So `igniter-capture mps` starts a control daemon of its own, runs
 * every workload as a child `igniter-capture infer` with
 * CUDA_MPS_ACTIVE_THREAD_PERCENTAGE set, reads its JSON line, and stops
 * the daemon on success, error and Ctrl-C alike.
 *
 * Children are remembered in a small table so that cap_children_kill()
 * (called on Ctrl-C and on errors) can end every one still running.
 */
#include "capture/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KIDS 16

static pid_t kids[MAX_KIDS];

static void remember(pid_t pid)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] == 0) {
            kids[i] = pid;
            return;
        }
}

static void forget(pid_t pid)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] == pid)
            kids[i] = 0;
}

static int spawn(char *const argv[], const char *const *env, cap_child *c,
                 int with_in, ut_err *err)
{
    int fd[2], in[2] = {-1, -1};
    c->pid = 0;
    c->out = NULL;
    c->in = -1;
    if (pipe(fd) < 0)
        return ut_errf(err, "pipe: %s", strerror(errno));
    if (with_in && pipe(in) < 0) {
        int e = errno;
        close(fd[0]);
        close(fd[1]);
        return ut_errf(err, "pipe: %s", strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd[0]);
        close(fd[1]);
        if (with_in) {
            close(in[0]);
            close(in[1]);
        }
        return ut_errf(err, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);          /* its own group: its children end with it */
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        if (with_in) {
            dup2(in[0], 0);
            close(in[0]);
            close(in[1]);
        }
        for (size_t i = 0; env && env[i]; i++) {
            char kv[512];
            snprintf(kv, sizeof kv, "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                setenv(kv, eq + 1, 1);
            } else {
                unsetenv(kv);           /* a bare NAME: not set */
            }
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        fprintf(stderr, "igniter-capture: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    if (with_in) {
        close(in[0]);
        c->in = in[1];
    }
    setpgid(pid, pid);          /* also here: no race with a signal */
    c->pid = pid;
    c->out = fdopen(fd[0], "r");
    remember(pid);
    return 0;
}

int cap_child_spawn(char *const argv[], const char *const *env,
                    cap_child *c, ut_err *err)
{
    return spawn(argv, env, c, 0, err);
}

int cap_child_spawn_io(char *const argv[], const char *const *env,
                       cap_child *c, ut_err *err)
{
    return spawn(argv, env, c, 1, err);
}

void cap_children_signal(int sig)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] > 0)
            kill(-kids[i], sig);
}

/* Forgets a child that has been waited for; its exit status in *status. */
static void reaped(cap_child *c, int st, int *status)
{
    if (c->out)
        fclose(c->out);
    c->out = NULL;
    if (c->in >= 0)
        close(c->in);
    c->in = -1;
    forget(c->pid);
    c->pid = 0;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int cap_child_wait(cap_child *c, int *status)
{
    int st = 0;
    pid_t r;
    do
        r = waitpid(c->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    reaped(c, st, status);
    return r < 0 ? -1 : 0;
}

int cap_child_wait_timeout(cap_child *c, double seconds, int *status)
{
    int st = 0;
    pid_t r = 0;
    for (double t = 0; t < seconds; t += 0.05) {
        r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid || (r < 0 && errno != EINTR))
            break;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    int timed_out = r != c->pid;
    if (timed_out) {
        kill(-c->pid, SIGTERM);
        struct timespec ts = {0, 500000000};
        nanosleep(&ts, NULL);
        kill(-c->pid, SIGKILL);
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    reaped(c, st, status);
    return timed_out ? 1 : 0;
}

void cap_children_kill(void)
{
    int any = 0;
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] > 0 && kill(-kids[i], SIGTERM) == 0)
            any = 1;
    /* two seconds to go, then no choice */
    for (int t = 0; any && t < 20; t++) {
        any = 0;
        for (int i = 0; i < MAX_KIDS; i++)
            if (kids[i] > 0) {
                if (waitpid(kids[i], NULL, WNOHANG) == kids[i])
                    kids[i] = 0;
                else
                    any = 1;
            }
        struct timespec ts = {0, 100000000};
        if (any)
            nanosleep(&ts, NULL);
    }
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] > 0) {
            kill(-kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            kids[i] = 0;
        }
}

/* ---- the MPS control daemon ---------------------------------------------- */

static char mps_dir[256];       /* pipe and log folder of ours, "" if none */

static const char *control_bin(void)
{
    const char *e = getenv("IGNITER_MPS_CONTROL");
    if (e && *e)
        return e;
    static const char *const where[] = {
        "/usr/local/nvidia/bin/nvidia-cuda-mps-control",
        "/usr/bin/nvidia-cuda-mps-control",
        "/usr/local/bin/nvidia-cuda-mps-control", NULL};
    for (int i = 0; where[i]; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return "nvidia-cuda-mps-control";
}

/* 1 and a description if an MPS control daemon we did not start is
 * running: its control socket in the pipe folder the environment names
 * (default /tmp/nvidia-mps), or a process of that name. */
int cap_mps_foreign(char *why, size_t n)
{
    const char *dir = getenv("CUDA_MPS_PIPE_DIRECTORY");
    char path[512];
    snprintf(path, sizeof path, "%s/control",
             dir && *dir ? dir : "/tmp/nvidia-mps");
    struct stat st;
    if ((!mps_dir[0] || strncmp(path, mps_dir, strlen(mps_dir))) &&
        stat(path, &st) == 0) {
        snprintf(why, n, "an MPS control daemon is listening at %s", path);
        return 1;
    }
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char comm[64] = "", cp[300];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(cp, sizeof cp, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(cp, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        if (!strcmp(comm, "nvidia-cuda-mps") ||
            !strcmp(comm, "nvidia-cuda-mps-control")) {
            snprintf(why, n, "process %s (%s) is running", e->d_name, comm);
            closedir(d);
            return 1;
        }
    }
    if (d)
        closedir(d);
    return 0;
}

static int run_control(const char *input, ut_err *err)
{
    char *argv[] = {(char *)control_bin(), input ? NULL : (char *)"-d",
                    NULL};
    int fd[2];
    if (pipe(fd) < 0)
        return ut_errf(err, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return ut_errf(err, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0)
            dup2(nul, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[0]);
    if (input && write(fd[1], input, strlen(input)) < 0)
        (void)0;
    close(fd[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return ut_errf(err, "%s%s: exit status %d%s", argv[0],
                       input ? "" : " -d",
                       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                       WIFEXITED(st) && WEXITSTATUS(st) == 127
                           ? " (not found: set IGNITER_MPS_CONTROL)"
                           : "");
    return 0;
}

int cap_mps_start(ut_err *err)
{
    char why[400];
    if (mps_dir[0])
        return 0;
    if (cap_mps_foreign(why, sizeof why))
        return ut_errf(err, "MPS: %s, and this tool only uses a daemon it "
                       "starts and stops itself: stop that one (echo quit | "
                       "nvidia-cuda-mps-control) or leave out the MPS step",
                       why);
    snprintf(mps_dir, sizeof mps_dir, "/tmp/igniter-mps-XXXXXX");
    if (!mkdtemp(mps_dir)) {
        int e = errno;
        mps_dir[0] = '\0';
        return ut_errf(err, "MPS: mkdtemp: %s", strerror(e));
    }
    setenv("CUDA_MPS_PIPE_DIRECTORY", mps_dir, 1);
    setenv("CUDA_MPS_LOG_DIRECTORY", mps_dir, 1);
    if (run_control(NULL, err) < 0) {
        cap_mps_stop();
        return ut_errprefix(err, "MPS: starting the control daemon");
    }
    return 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void cap_mps_stop(void)
{
    if (!mps_dir[0])
        return;
    ut_err e;
    char ctl[300];
    snprintf(ctl, sizeof ctl, "%s/control", mps_dir);
    if (access(ctl, F_OK) == 0)
        run_control("quit\n", &e);
    /* the daemon removes its socket when it has quit: up to 5 s */
    for (int t = 0; t < 50 && access(ctl, F_OK) == 0; t++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    remove_tree(mps_dir);
    unsetenv("CUDA_MPS_PIPE_DIRECTORY");
    unsetenv("CUDA_MPS_LOG_DIRECTORY");
    mps_dir[0] = '\0';
}

const char *cap_mps_dir(void) { return mps_dir; }

/*
 * One way to start an MPS client, for the campaign's clients and serve's
 * workers alike. The pipe and log folders are given explicitly (they are
 * also in our environment since cap_mps_start) so that a client can never
 * reach another daemon. The percentage is written "%g": the share asked
 * for, not rounded to a whole percent (37.5 stays 37.5; six significant
 * digits, as the raw records' active_thread_pct).
 */
int cap_mps_client_spawn(char *const argv[], double thread_pct,
                         int with_stdin, cap_child *c, ut_err *err)
{
    if (!mps_dir[0])
        return ut_errf(err, "MPS: no control daemon of ours runs (start one "
                       "first)");
    if (!(thread_pct > 0 && thread_pct <= 100))
        return ut_errf(err, "MPS: active thread percentage: expected a "
                       "number in (0, 100], got %g", thread_pct);
    char pipe_dir[300], log_dir[300], pct[64];
    snprintf(pipe_dir, sizeof pipe_dir, "CUDA_MPS_PIPE_DIRECTORY=%s",
             mps_dir);
    snprintf(log_dir, sizeof log_dir, "CUDA_MPS_LOG_DIRECTORY=%s", mps_dir);
    snprintf(pct, sizeof pct, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=%g",
             thread_pct);
    /* A client runs one stream: it needs few hardware queues, and every
     * client's queues come out of the one MPS server's. With the 32 that
     * our tools ask for by default, a 4th client could not start on the
     * H200 (cudaFree(0): cudaErrorMemoryAllocation); IGNITER_MPS_QUEUES
     * overrides the 2 here. */
    char queues[64];
    const char *q = getenv("IGNITER_MPS_QUEUES");
    snprintf(queues, sizeof queues, "CUDA_DEVICE_MAX_CONNECTIONS=%s",
             q && *q ? q : "2");
    /* The daemon sees the devices our CUDA_VISIBLE_DEVICES names, and its
     * server numbers them again from 0: a client that kept "1" would find
     * no device 1 (cuInit: CUDA_ERROR_NO_DEVICE). NVIDIA's MPS guide: do
     * not set it in a client's environment. */
    const char *env[] = {pipe_dir, log_dir, pct, queues,
                         "CUDA_VISIBLE_DEVICES", NULL};
    return spawn(argv, env, c, with_stdin, err);
}
