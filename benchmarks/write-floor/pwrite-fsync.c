/* The write floor of benchmarks/RESULTS.md §21/§23: one process writes N bytes (already in memory)
 * to a new file with 8 MiB pwrite calls, then fsync; prints the seconds from open to the end of
 * fsync. Usage: pwrite-fsync FILE N (the file is removed afterwards). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: pwrite-fsync FILE BYTES\n"); return 2; }
    size_t n = strtoull(argv[2], 0, 10), block = 8 << 20;
    char *bytes = malloc(n);
    if (!bytes) { perror("malloc"); return 1; }
    memset(bytes, 1, n);
    unlink(argv[1]);
    double start = now();
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror(argv[1]); return 1; }
    for (size_t at = 0; at < n; at += block) {
        size_t count = n - at < block ? n - at : block;
        if (pwrite(fd, bytes + at, count, at) != (ssize_t)count) { perror("pwrite"); return 1; }
    }
    if (fsync(fd) != 0) { perror("fsync"); return 1; }
    close(fd);
    printf("%.4f\n", now() - start);
    unlink(argv[1]);
    return 0;
}
