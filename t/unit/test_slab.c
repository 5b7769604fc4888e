/*
 * test_slab.c: the slab allocator in a shared zone (size classes, filling
 * up and emptying back to one free run, hostile frees, statistics), and the
 * robust zone lock across fork: three processes counting under the lock,
 * and a child killed with SIGKILL while it holds the lock.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_shmem.h"
#include "sl_shmtx.h"
#include "sl_slab.h"
#include "sl_tap.h"

#include <poll.h>

/* sl_log.o refers to these; the real ones live in sl_cycle.c and sl_conf_file.c. */
__attribute__((weak)) sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    (void) cycle;
    (void) name;
    return NULL;
}

__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;
}

/* The slab and the lock log on the cycle's log; sl_cycle.c defines it in the server. */
__attribute__((weak)) volatile sl_cycle_t *sl_cycle;

#define ZONE_SIZE (4 * 1024 * 1024)
#define COUNT_ITERATIONS 100000

static sl_cycle_t cycle;
static sl_open_file_t log_file;
static sl_log_t log;
static char log_path[] = "/tmp/sl_test_slab_XXXXXX";

/* Occurrences of text in the log so far. */
static int
log_count(const char *text)
{
    static char buf[1 << 20];
    char *p;
    ssize_t n;
    int count;

    n = pread(log_file.fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        return 0;
    }

    buf[n] = '\0';
    count = 0;

    for (p = strstr(buf, text); p; p = strstr(p + 1, text)) {
        count++;
    }

    return count;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits at most seconds for pid; returns its wait status, or -1 (killed) on timeout. */
static int
reap(pid_t pid, double seconds)
{
    int status;
    double deadline;
    pid_t r;

    deadline = now() + seconds;

    for (;;) {
        r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return status;
        }

        if (r == -1 && errno != EINTR) {
            return -1;
        }

        if (now() > deadline) {
            kill(pid, SIGKILL);
            (void) waitpid(pid, &status, 0);
            return -1;
        }

        usleep(10000);
    }
}

static sl_slab_pool_t *
make_pool(sl_shm_t *shm, size_t size, const char *name)
{
    sl_slab_pool_t *pool;

    sl_memzero(shm, sizeof(sl_shm_t));
    shm->size = size;
    shm->name.len = strlen(name);
    shm->name.data = (u_char *) name;
    shm->log = &log;

    if (sl_shm_alloc(shm) != SL_OK) {
        return NULL;
    }

    pool = (sl_slab_pool_t *) shm->addr;
    pool->end = shm->addr + shm->size;
    pool->name = shm->name;

    if (sl_slab_init(pool) != SL_OK) {
        sl_shm_free(shm);
        return NULL;
    }

    return pool;
}

static void
test_init(void)
{
    sl_shm_t shm;
    sl_slab_pool_t *pool;

    sl_memzero(&shm, sizeof(shm));
    shm.size = 0;
    shm.log = &log;
    shm.name.len = 4;
    shm.name.data = (u_char *) "zero";
    is_int(sl_shm_alloc(&shm), SL_ERROR, "a zero-size shared zone is refused");

    shm.size = 8192;
    is_int(sl_shm_alloc(&shm), SL_OK, "an 8 KB zone maps");
    pool = (sl_slab_pool_t *) shm.addr;
    pool->end = shm.addr + 300;
    pool->name.len = 4;
    pool->name.data = (u_char *) "tiny";
    is_int(sl_slab_init(pool), SL_ERROR, "a 300-byte slab pool is refused");
    ok(log_count("too small for a slab pool in zone \"tiny\"") == 1, "and the log says why");

    pool->end = shm.addr + 4096;
    is_int(sl_slab_init(pool), SL_ERROR, "4 KB cannot hold the header and one aligned page");
    ok(log_count("too small for a slab pool in zone \"tiny\"") == 2, "logged again");

    pool->end = shm.addr + shm.size;
    is_int(sl_slab_init(pool), SL_OK, "8 KB holds the header and one page");
    is_int(pool->npages, 1, "exactly one page");
    ok(sl_slab_alloc(pool, 4096) == pool->start, "the page can be allocated whole");
    ok(sl_slab_alloc(pool, 8) == NULL, "then nothing is left");

    sl_shm_free(&shm);
    ok(shm.addr == NULL, "sl_shm_free clears the address");
    sl_shm_free(&shm);
    ok(1, "freeing twice is harmless");

    pool = make_pool(&shm, 3 * SL_SLAB_PAGE_SIZE, "three");
    ok(pool != NULL && pool->npages >= 1, "a 3-page zone holds at least one page");
    if (pool) {
        ok(((uintptr_t) pool->start & (SL_SLAB_PAGE_SIZE - 1)) == 0, "pages are page-aligned");
        ok(pool->start + pool->npages * SL_SLAB_PAGE_SIZE <= pool->end, "pages end in the zone");
        ok(pool->name.data >= (u_char *) pool && pool->name.data < pool->end && pool->name.len == 5
               && memcmp(pool->name.data, "three", 5) == 0,
           "the name is copied into the zone");
        sl_shm_free(&shm);
    }
}

static void
test_sizes(sl_slab_pool_t *pool)
{
    size_t sizes[] = { 0,   1,    7,    8,    9,    16,   17,   63,   64,   65,   100,         128,
                       200, 1000, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 3 * 4096 + 1 };
    u_char *p[sizeof(sizes) / sizeof(sizes[0])];
    sl_uint_t i, n, good, pfree;
    size_t align;

    n = sizeof(sizes) / sizeof(sizes[0]);
    pfree = pool->pfree;
    good = 1;

    for (i = 0; i < n; i++) {
        p[i] = sl_slab_alloc(pool, sizes[i]);

        if (p[i] == NULL) {
            good = 0;
            continue;
        }

        align = sizes[i] <= 8 ? 8 : sizes[i] > 2048 ? 4096 : 1;
        while (sizes[i] <= 2048 && align < sizes[i]) {
            align <<= 1;
        }

        if ((uintptr_t) p[i] % align != 0) {
            printf("# size %zu at %p not aligned to %zu\n", sizes[i], (void *) p[i], align);
            good = 0;
        }

        memset(p[i], (int) i, sizes[i]);
    }

    ok(good, "every size class allocates, aligned to its chunk size");

    good = 1;
    for (i = 0; i < n; i++) {
        size_t j;

        for (j = 0; p[i] && j < sizes[i]; j++) {
            if (p[i][j] != (u_char) i) {
                good = 0;
            }
        }
    }
    ok(good, "no allocation overlaps another");

    is_int(pool->stats[0].used, 4, "sizes 0, 1, 7 and 8 took 8-byte chunks");
    is_int(pool->stats[1].used, 2, "sizes 9 and 16 took 16-byte chunks");

    for (i = 0; i < n; i++) {
        sl_slab_free(pool, p[i]);
    }

    is_int(pool->pfree, pfree, "freeing everything returns every page");
}

static void
test_fill(sl_slab_pool_t *pool)
{
    void **ptrs, *p;
    sl_uint_t i, n, max, good, shift, reqs, fails;
    size_t size;

    ptrs = malloc(sizeof(void *) * (ZONE_SIZE / 8 + 1));
    if (ptrs == NULL) {
        ok(0, "test memory");
        return;
    }

    for (shift = 3; shift <= 13; shift++) {
        size = (size_t) 1 << shift;

        n = 0;
        while ((p = sl_slab_alloc(pool, size)) != NULL) {
            ptrs[n++] = p;
        }

        max = (pool->npages * SL_SLAB_PAGE_SIZE) / size;
        if (size > SL_SLAB_PAGE_SIZE) {
            max = pool->npages / (size / SL_SLAB_PAGE_SIZE);
        }

        is_int(n, max, "%zu-byte allocations fill the zone exactly (%lu)", size, (unsigned long) n);
        is_int(pool->pfree, pool->npages % (size > 4096 ? size / 4096 : 1),
               "no free page left after %zu-byte allocations", size);

        if (shift < SL_SLAB_PAGE_SHIFT) {
            is_int(pool->stats[shift - 3].used, n, "stats: %lu chunks of %zu used",
                   (unsigned long) n, size);
        }

        /* free in an interleaved order so that runs merge from both sides */
        for (i = 0; i < n; i += 2) {
            sl_slab_free(pool, ptrs[i]);
        }
        for (i = 1; i < n; i += 2) {
            sl_slab_free(pool, ptrs[i]);
        }

        is_int(pool->pfree, pool->npages, "all pages free again after %zu-byte round", size);
        if (shift < SL_SLAB_PAGE_SHIFT) {
            ok(pool->stats[shift - 3].used == 0 && pool->stats[shift - 3].total == 0,
               "stats back to zero for %zu", size);
        }

        p = sl_slab_alloc(pool, pool->npages * SL_SLAB_PAGE_SIZE);
        ok(p == pool->start, "then one allocation of the whole zone succeeds");
        sl_slab_free(pool, p);
    }

    /* the failure is counted and logged once per failed request */
    good = log_count("sl_slab_alloc() failed: no memory in zone \"test_zone\"");
    ok(good >= 11, "each failure logged at crit with the zone name (%lu lines)",
       (unsigned long) good);

    n = 0;
    while ((p = sl_slab_alloc(pool, 100)) != NULL) {
        ptrs[n++] = p;
    }
    good = log_count("sl_slab_alloc() failed: no memory in zone \"test_zone\"");
    reqs = pool->stats[4].reqs;
    fails = pool->stats[4].fails;
    pool->log_nomem = 0;
    ok(sl_slab_alloc(pool, 100) == NULL, "full zone refuses another 128-byte chunk");
    is_int(pool->stats[4].reqs, reqs + 1, "the request is counted");
    is_int(pool->stats[4].fails, fails + 1, "and so is the failure");
    is_int(log_count("sl_slab_alloc() failed: no memory in zone \"test_zone\""), good + 0,
           "log_nomem 0 keeps the log quiet");
    pool->log_nomem = 1;

    for (i = 0; i < n; i++) {
        sl_slab_free(pool, ptrs[i]);
    }

    /* hostile sizes */
    ok(sl_slab_alloc(pool, (size_t) -1) == NULL, "SIZE_MAX is refused, no overflow");
    ok(sl_slab_alloc(pool, pool->npages * SL_SLAB_PAGE_SIZE + 1) == NULL,
       "one byte more than the zone is refused");
    is_int(pool->pfree, pool->npages, "refusals leak nothing");

    /* random mixed sizes, contents checked before each free */
    {
        u_char *live[2000];
        size_t live_size[2000];
        sl_uint_t k, j, corrupt, failed;

        memset(live, 0, sizeof(live));
        corrupt = 0;
        failed = 0;
        srandom(7);

        for (k = 0; k < 200000; k++) {
            j = (sl_uint_t) random() % 2000;

            if (live[j]) {
                size_t b;

                for (b = 0; b < live_size[j]; b++) {
                    if (live[j][b] != (u_char) j) {
                        corrupt++;
                        break;
                    }
                }

                sl_slab_free(pool, live[j]);
                live[j] = NULL;
                continue;
            }

            size = (random() % 8 == 0) ? (size_t) (random() % 20000) + 1
                                       : (size_t) (random() % 600) + 1;
            live[j] = sl_slab_alloc_locked(pool, size);
            if (live[j] == NULL) {
                failed++;
                continue;
            }
            live_size[j] = size;
            memset(live[j], (int) j, size);
        }

        for (j = 0; j < 2000; j++) {
            if (live[j]) {
                sl_slab_free_locked(pool, live[j]);
            }
        }

        is_int(corrupt, 0, "200000 random alloc/free steps: no allocation was overwritten");
        ok(failed < 100, "and almost none failed (%lu)", (unsigned long) failed);
        is_int(pool->pfree, pool->npages, "every page comes back");
        p = sl_slab_alloc(pool, pool->npages * SL_SLAB_PAGE_SIZE);
        ok(p != NULL, "the maximal allocation succeeds after the random run");
        sl_slab_free(pool, p);
    }

    /* calloc zeroes reused memory */
    p = sl_slab_alloc(pool, 256);
    memset(p, 0xAB, 256);
    sl_slab_free(pool, p);
    p = sl_slab_calloc(pool, 256);
    for (i = 0, good = 1; i < 256; i++) {
        if (((u_char *) p)[i] != 0) {
            good = 0;
        }
    }
    ok(good, "sl_slab_calloc returns zeroed memory");
    sl_slab_free(pool, p);

    free(ptrs);
}

static void
test_hostile_free(sl_slab_pool_t *pool)
{
    char local;
    u_char *a, *b, *big;
    sl_uint_t pfree, used;

    pfree = pool->pfree;

    sl_slab_free(pool, &local);
    is_int(log_count("sl_slab_free(): outside of pool in zone \"test_zone\""), 1,
           "a stack pointer is refused and logged");
    sl_slab_free(pool, NULL);
    is_int(log_count("sl_slab_free(): outside of pool"), 2, "NULL is refused and logged");
    sl_slab_free(pool, pool->end);
    is_int(log_count("sl_slab_free(): outside of pool"), 3, "the zone's end is refused");
    sl_slab_free(pool, pool);
    is_int(log_count("sl_slab_free(): outside of pool"), 4, "the pool header is refused");

    sl_slab_free(pool, pool->start);
    is_int(log_count("sl_slab_free(): page is already free"), 1, "a free page is refused");

    a = sl_slab_alloc(pool, 64);
    b = sl_slab_alloc(pool, 64);
    used = pool->stats[3].used;

    sl_slab_free(pool, a + 8);
    is_int(log_count("sl_slab_free(): pointer to wrong chunk"), 1,
           "a pointer inside a chunk is refused");
    sl_slab_free(pool, a);
    sl_slab_free(pool, a);
    is_int(log_count("sl_slab_free(): chunk is already free"), 1, "a double free is refused");
    is_int(pool->stats[3].used, used - 1, "and counted once");

    big = sl_slab_alloc(pool, 3 * SL_SLAB_PAGE_SIZE);
    sl_slab_free(pool, big + 100);
    is_int(log_count("sl_slab_free(): pointer to wrong page"), 1,
           "a pointer inside a first page is refused");
    sl_slab_free(pool, big + SL_SLAB_PAGE_SIZE);
    is_int(log_count("sl_slab_free(): pointer to wrong page"), 2,
           "a pointer to a later page is refused");
    sl_slab_free(pool, big);
    sl_slab_free(pool, big);
    is_int(log_count("sl_slab_free(): page is already free"), 2, "a double page free is refused");

    sl_slab_free(pool, b);
    is_int(pool->pfree, pfree, "after all that the pool is whole");
    a = sl_slab_alloc(pool, pool->npages * SL_SLAB_PAGE_SIZE);
    ok(a != NULL, "and the maximal allocation still succeeds");
    sl_slab_free(pool, a);
}

/* A child: count under the lock and churn allocations; exit 0 when all went well. */
static void
count_child(sl_slab_pool_t *pool, sl_uint_t *counter, int id)
{
    u_char *live[64];
    size_t sizes[64];
    sl_uint_t i, j, b;
    int bad;

    memset(live, 0, sizeof(live));
    bad = 0;
    srandom((unsigned) (getpid() ^ id));

    for (i = 0; i < COUNT_ITERATIONS; i++) {
        sl_shmtx_lock(&pool->mutex);
        (*counter)++;
        sl_shmtx_unlock(&pool->mutex);

        if (i % 8) {
            continue;
        }

        j = (sl_uint_t) random() % 64;

        if (live[j]) {
            for (b = 0; b < sizes[j]; b++) {
                if (live[j][b] != (u_char) (id * 64 + j)) {
                    bad = 1;
                }
            }

            sl_slab_free(pool, live[j]);
            live[j] = NULL;

        } else {
            sizes[j] = (size_t) (random() % 5000) + 1;
            live[j] = sl_slab_alloc(pool, sizes[j]);
            if (live[j]) {
                memset(live[j], id * 64 + (int) j, sizes[j]);
            }
        }
    }

    for (j = 0; j < 64; j++) {
        if (live[j]) {
            sl_slab_free(pool, live[j]);
        }
    }

    _exit(bad ? 2 : 0);
}

static void
test_fork_counter(sl_slab_pool_t *pool)
{
    int status[2];
    pid_t pid[2];
    sl_uint_t *counter, i;

    counter = sl_slab_calloc(pool, sizeof(sl_uint_t));
    ok(counter != NULL, "counter allocated in the zone");
    if (counter == NULL) {
        return;
    }

    fflush(stdout);

    for (i = 0; i < 2; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            count_child(pool, counter, (int) i + 1);
        }
    }

    if (pid[0] > 0 && pid[1] > 0) {
        /* the parent counts too; count_child would exit, so inline it */
        for (i = 0; i < COUNT_ITERATIONS; i++) {
            sl_shmtx_lock(&pool->mutex);
            (*counter)++;
            sl_shmtx_unlock(&pool->mutex);

            if (i % 64 == 0) {
                void *p = sl_slab_alloc(pool, (i % 3000) + 1);
                if (p) {
                    sl_slab_free(pool, p);
                }
            }
        }
    }

    for (i = 0; i < 2; i++) {
        status[i] = pid[i] > 0 ? reap(pid[i], 120) : -1;
        ok(status[i] != -1 && WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0,
           "child %lu finished cleanly with intact allocations", (unsigned long) i + 1);
    }

    is_int(*counter, 3 * COUNT_ITERATIONS, "3 processes x 100000 increments under the lock");

    sl_slab_free(pool, counter);
    is_int(pool->pfree, pool->npages, "the children freed everything they allocated");
}

static void
test_owner_died(sl_slab_pool_t *pool)
{
    int fds[2], status, logged;
    char c;
    double t0, elapsed;
    pid_t pid;
    struct pollfd pfd;
    void *p;

    logged = log_count("a process died holding the lock");

    ok(pipe(fds) == 0, "pipe");
    fflush(stdout);

    pid = fork();

    if (pid == 0) {
        close(fds[0]);
        sl_shmtx_lock(&pool->mutex);
        (void) write(fds[1], "L", 1);
        for (;;) {
            pause();
        }
    }

    close(fds[1]);

    pfd.fd = fds[0];
    pfd.events = POLLIN;
    ok(pid > 0 && poll(&pfd, 1, 10000) == 1 && read(fds[0], &c, 1) == 1, "child took the lock");
    close(fds[0]);

    is_int(sl_shmtx_trylock(&pool->mutex), 0, "trylock fails while a live child holds it");

    kill(pid, SIGKILL);
    status = reap(pid, 10);
    ok(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
       "child killed with SIGKILL while holding the lock, and reaped");

    alarm(10); /* a lock that never comes back ends the test here */
    t0 = now();
    sl_shmtx_lock(&pool->mutex);
    elapsed = now() - t0;
    alarm(0);

    ok(elapsed < 1.0, "the parent's next lock succeeded in %.3f s (EOWNERDEAD recovered)", elapsed);
    is_int(log_count("a process died holding the lock"), logged + 1,
           "the recovery was logged at alert");
    ok(log_count("[alert]") >= 1, "at alert level");

    p = sl_slab_alloc_locked(pool, 100);
    ok(p != NULL, "the zone is usable under the recovered lock");
    sl_slab_free_locked(pool, p);
    sl_shmtx_unlock(&pool->mutex);

    ok(sl_shmtx_trylock(&pool->mutex) == 1, "the recovered lock can be taken again");
    sl_shmtx_unlock(&pool->mutex);

    /* the same through trylock */
    ok(pipe(fds) == 0, "pipe");
    fflush(stdout);

    pid = fork();

    if (pid == 0) {
        close(fds[0]);
        sl_shmtx_lock(&pool->mutex);
        (void) write(fds[1], "L", 1);
        for (;;) {
            pause();
        }
    }

    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    ok(pid > 0 && poll(&pfd, 1, 10000) == 1 && read(fds[0], &c, 1) == 1,
       "second child took the lock");
    close(fds[0]);
    kill(pid, SIGKILL);
    status = reap(pid, 10);
    ok(status != -1 && WIFSIGNALED(status), "second child killed and reaped");

    is_int(sl_shmtx_trylock(&pool->mutex), 1, "trylock takes a lock whose owner died");
    is_int(log_count("recovered on trylock"), 1, "and logs it");
    sl_shmtx_unlock(&pool->mutex);
}

int
main(void)
{
    sl_shm_t shm;
    sl_slab_pool_t *pool;

    log_file.fd = mkstemp(log_path);
    if (log_file.fd == -1) {
        perror("mkstemp");
        return 1;
    }
    unlink(log_path);

    log.log_level = SL_LOG_NOTICE;
    log.file = &log_file;
    cycle.log = &log;
    sl_cycle = &cycle;

    test_init();

    pool = make_pool(&shm, ZONE_SIZE, "test_zone");
    ok(pool != NULL, "4 MB zone with a slab pool");
    if (pool == NULL) {
        return sl_tap_done();
    }

    ok(pool->npages > 1000 && pool->pfree == pool->npages, "%lu pages, all free",
       (unsigned long) pool->npages);
    ok(pool->addr == pool && pool->data == NULL && pool->log_nomem == 1,
       "init sets addr, data and log_nomem");

    test_sizes(pool);
    test_fill(pool);
    test_hostile_free(pool);
    test_fork_counter(pool);
    test_owner_died(pool);

    sl_shmtx_destroy(&pool->mutex);
    sl_shm_free(&shm);
    close(log_file.fd);

    return sl_tap_done();
}
