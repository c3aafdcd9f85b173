/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A collector store and cluster in a fresh temp directory, for the cmocka tests of the collector
 * (include after cmocka.h). setup/teardown are cmocka group or test fixtures.
 */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "store.h"

#define T0_MS 1700000000000LL
#define T0_MONO (1000 * USEC_PER_SEC)

typedef struct Fixture {
        char dir[64];
        char path[96]; /* the database */
        Store *store;
        Cluster *cluster;
} Fixture;

static int fixture_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        strcpy(f->dir, "/tmp/vigil-collector-test-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/collector.db", f->dir);
        assert_int_equal(store_open(f->path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cluster_free(f->cluster);
        store_free(f->store);
        nftw(f->dir, fixture_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}
