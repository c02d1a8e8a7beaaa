/*
 * igniter_mpi.c - `mpirun -n P build/igniter-mpi SWEEP.json --out DIR`: a
 * sweep's cells over the ranks of an MPI job (Open MPI; built only where
 * mpicc exists, so the library and the igniter binary never need MPI).
 *
 * Rank 0 hands out cells one at a time as ranks ask for them, so uneven
 * cells balance: a rank that finishes a cell sends its outcome and gets
 * the next index, or -1 when none is left. Rank 0 works too: it runs its
 * own cells in a child process and answers requests while that runs, so
 * P ranks are P workers. Every rank loads the same sweep file and
 * enumerates the same cells, so only indices travel; the cells' files go
 * to DIR, which every rank must see (one machine, or a shared file
 * system). When every cell is done rank 0 gathers, as `igniter sweep`
 * does. Each cell runs in a child process of its rank (fork, the child
 * never calls MPI), as with --jobs: a crash takes only its cell down and a
 * rank's memory stays flat over thousands of cells.
 */
#include <mpi.h>

#include "lab/lab.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { TAG_ASK = 1, TAG_CELL = 2 };

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Starts cell k in a child process; its pid. */
static int cell_flags;   /* LAB_SWEEP_COMPACT with --compact */

/* Waits for cell k's child; its outcome. */
static int finish(const lab_sweep *s, size_t k, const char *out, pid_t p)
{
    int ws;
    while (waitpid(p, &ws, 0) < 0)
        if (errno != EINTR)
            return LAB_CELL_FAILED;
    return lab_sweep_cell_reaped(s, k, out, ws);
}


/* Rank 0: hand out cells, run some itself, count outcomes. */
static void master(const lab_sweep *s, const char *out, int nranks,
                   lab_sweep_stats *st, int quiet)
{
    size_t next = 0;
    int working = nranks - 1;        /* workers not yet told to stop */
    pid_t mine = -1;
    long my_cell = -1;
    st->total = s->ncells;
    struct timespec nap = {0, 200000};
    while (working > 0 || mine > 0 || (next < s->ncells && !stop_flag)) {
        int busy = 0;
        /* answer every rank that asks */
        int flag;
        MPI_Status ms;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_ASK, MPI_COMM_WORLD, &flag, &ms);
        if (flag) {
            long msg[2];   /* the cell it finished (-1: none), its status */
            MPI_Recv(msg, 2, MPI_LONG, ms.MPI_SOURCE, TAG_ASK, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            if (msg[0] >= 0) {
                lab_sweep_count(st, (int)msg[1]);
                if (!quiet)
                    fprintf(stderr, "[%zu/%zu] %s (rank %d): status %ld\n",
                            st->done + st->kept + st->failed + st->stopped,
                            st->total, s->cells[msg[0]].id, ms.MPI_SOURCE,
                            msg[1]);
            }
            long k = next < s->ncells && !stop_flag ? (long)next++ : -1;
            MPI_Send(&k, 1, MPI_LONG, ms.MPI_SOURCE, TAG_CELL, MPI_COMM_WORLD);
            if (k < 0)
                working--;
            busy = 1;
        }
        /* and work: one cell of its own at a time, in a child */
        if (mine > 0) {
            int ws;
            pid_t r = waitpid(mine, &ws, WNOHANG);
            if (r == mine) {
                int status = lab_sweep_cell_reaped(s, (size_t)my_cell, out,
                                                   ws);
                lab_sweep_count(st, status);
                if (!quiet)
                    fprintf(stderr, "[%zu/%zu] %s (rank 0): status %d\n",
                            st->done + st->kept + st->failed + st->stopped,
                            st->total, s->cells[my_cell].id, status);
                mine = -1;
            }
        }
        if (mine <= 0 && next < s->ncells && !stop_flag) {
            my_cell = (long)next++;
            mine = lab_sweep_fork_cell(s, (size_t)my_cell, out, cell_flags,
                                       &stop_flag);
            busy = 1;
        }
        if (!busy)
            nanosleep(&nap, NULL);
    }
}

static void worker(const lab_sweep *s, const char *out)
{
    long msg[2] = {-1, 0};
    for (;;) {
        long k;
        MPI_Send(msg, 2, MPI_LONG, 0, TAG_ASK, MPI_COMM_WORLD);
        MPI_Recv(&k, 1, MPI_LONG, 0, TAG_CELL, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        if (k < 0)
            return;
        pid_t p = lab_sweep_fork_cell(s, (size_t)k, out, cell_flags,
                                      &stop_flag);
        msg[0] = k;
        msg[1] = p > 0 ? finish(s, (size_t)k, out, p) : LAB_CELL_FAILED;
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    const char *path = NULL, *out = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (!strcmp(argv[i], "--compact"))
            cell_flags |= LAB_SWEEP_COMPACT;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            if (rank == 0)
                fprintf(stderr, "igniter-mpi: unknown argument '%s'\n"
                        "usage: mpirun -n P igniter-mpi SWEEP.json --out DIR "
                        "[--quiet] [--compact]\n", argv[i]);
            MPI_Finalize();
            return 2;
        }
    }
    if (!path || !out) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n P igniter-mpi SWEEP.json --out "
                    "DIR [--quiet] [--compact]\n");
        MPI_Finalize();
        return 2;
    }
    ut_err err;
    lab_sweep s;
    int ok = lab_sweep_load(path, &s, &err) == 0;
    char cells[UT_PATH_MAX + 16];
    snprintf(cells, sizeof cells, "%s/cells", out);
    if (ok && rank == 0 && ut_mkdir_p(cells, &err) < 0) {
        lab_sweep_free(&s);
        ok = 0;
    }
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        if (!ok)
            fprintf(stderr, "igniter-mpi (rank %d): %s\n", rank, err.msg);
        if (ok)
            lab_sweep_free(&s);
        MPI_Finalize();
        return 2;
    }
    static const int stop_signals[2] = {SIGINT, SIGTERM};
    ut_catch_signals(stop_signals, 2, on_signal, NULL);
    lab_sweep_stats st;
    memset(&st, 0, sizeof st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rank == 0)
        master(&s, out, nranks, &st, quiet);
    else
        worker(&s, out);
    MPI_Barrier(MPI_COMM_WORLD);
    int rc = 0;
    if (rank == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) +
                      (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        printf("sweep: %zu cells on %d ranks: %zu run, %zu kept, %zu failed%s "
               "in %.1f s (%.2f cells/s)\n", st.total, nranks, st.done,
               st.kept, st.failed, stop_flag ? ", interrupted" : "", secs,
               secs > 0 ? (double)(st.done + st.kept) / secs : 0);
        size_t missing;
        if (lab_sweep_gather(&s, out, &missing, &err) < 0) {
            fprintf(stderr, "igniter-mpi: %s\n", err.msg);
            rc = 2;
        } else {
            printf("gathered: %s/gather.csv, %s/gather-summary.csv\n", out,
                   out);
        }
        if (stop_flag)
            rc = 130;
        else if (st.failed)
            rc = 10 + (int)(st.failed < 100 ? st.failed : 100);
    }
    lab_sweep_free(&s);
    MPI_Finalize();
    return rc;
}
