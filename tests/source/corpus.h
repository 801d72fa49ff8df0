/* tests/source/corpus.h: finding ../shared/corpus and listing its files.
 *
 * Test helper only. The corpus directory is the first argument (meson passes
 * it). When it is missing the test is skipped (exit 77), except under CI
 * (CI=true), where the corpus must be there and its absence fails the test.
 */
#ifndef NP_TESTS_SOURCE_CORPUS_H
#define NP_TESTS_SOURCE_CORPUS_H

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

/* The regular files in dir, sorted by name; *n of them. Owned by the caller. */
static inline char **corpus_list(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (d == NULL)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
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

#endif
