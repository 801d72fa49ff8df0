/* tests/source/corpus.h: finding ../shared/corpus, listing its files, and
 * running one cmocka test per file.
 *
 * Test helper only. The corpus directory is the first argument (meson passes
 * it). When it is missing the test is skipped (exit 77), except under CI
 * (CI=true), where the corpus must be there and its absence fails the test.
 */
#ifndef NP_TESTS_SOURCE_CORPUS_H
#define NP_TESTS_SOURCE_CORPUS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Returns 0 with *dir set to argv[1]/sub, or the exit status for main. */
static inline int corpus_find(int argc, char **argv, const char *sub, char *dir, size_t n)
{
    const char *root = argc > 1 ? argv[1] : "../shared/corpus";
    snprintf(dir, n, "%s/%s", root, sub);
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    const char *ci = getenv("CI");
    if (ci != NULL && strcmp(ci, "true") == 0) {
        fprintf(stderr, "corpus missing: %s (required when CI=true)\n", dir);
        return 1;
    }
    fprintf(stderr, "corpus missing: %s; skipped\n", dir);
    return 77;
}

static int corpus_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files in dir, sorted by name; *n of them. Owned by the caller.
 * NULL (and *n = 0) when dir cannot be opened. */
static inline char **corpus_list(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (d == NULL)
        return NULL;
    size_t cap = 64;
    char **v = malloc(cap * sizeof(*v));
    if (v == NULL)
        abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
            if (v == NULL)
                abort();
        }
        v[*n] = strdup(e->d_name);
        if (v[*n] == NULL)
            abort();
        (*n)++;
    }
    closedir(d);
    if (*n > 0)
        qsort(v, *n, sizeof(*v), corpus_cmp);
    return v;
}

/* One corpus file: the state corpus_run() gives each test. */
struct corpus_file {
    const char *name; /* in the corpus directory */
    char *path;       /* directory and name */
};

/* The test to run on a file, or NULL to run none on it. */
typedef CMUnitTestFunction corpus_pick_fn(const char *name, const char *path);

/* Runs group 'group': one test per file of argv[1]/sub (see corpus_find),
 * named after the file, with a struct corpus_file as its state and the
 * function pick() chooses. Returns the exit status for main: the group's,
 * 77 or 1 from corpus_find(), or 1 when the directory holds no files. */
static inline int corpus_run(int argc, char **argv, const char *sub, const char *group,
                             corpus_pick_fn *pick)
{
    char dir[4096];
    int rc = corpus_find(argc, argv, sub, dir, sizeof(dir));
    if (rc != 0)
        return rc;
    size_t n;
    char **names = corpus_list(dir, &n);
    if (n == 0) {
        fprintf(stderr, "no files in %s\n", dir);
        return 1;
    }
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    struct corpus_file *files = calloc(n, sizeof(*files));
    if (tests == NULL || files == NULL)
        abort();
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        files[i].name = names[i];
        files[i].path = malloc(len);
        if (files[i].path == NULL)
            abort();
        snprintf(files[i].path, len, "%s/%s", dir, names[i]);
        CMUnitTestFunction fn = pick(names[i], files[i].path);
        if (fn == NULL)
            continue;
        tests[nt].name = names[i];
        tests[nt].test_func = fn;
        tests[nt].initial_state = &files[i];
        nt++;
    }
    rc = _cmocka_run_group_tests(group, tests, nt, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(files[i].path);
        free(names[i]);
    }
    free(files);
    free(names);
    free(tests);
    return rc;
}

#endif
