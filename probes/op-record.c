/* SPDX-License-Identifier: MIT */
#include <sys/mman.h>

#include "op-record.h"

void op_record_begin(OpRecord *rec) {
        rec->start_usec = now_usec(CLOCK_MONOTONIC);
        rec->latency_usec = 0;
        rec->error = 0;
        /* Release: the agent must see start_usec before the state that makes it meaningful. */
        __atomic_store_n(&rec->state, OP_IN_PROGRESS, __ATOMIC_RELEASE);
}

bool op_record_end(OpRecord *rec, int error) {
        rec->latency_usec = now_usec(CLOCK_MONOTONIC) - rec->start_usec;
        rec->error = error;
        __atomic_store_n(&rec->state, OP_FINISHED, __ATOMIC_RELEASE);
        return error == 0;
}

int op_records_in_progress(const OpRecord *recs, int n) {
        for (int i = n - 1; i >= 0; i--)
                if (__atomic_load_n(&recs[i].state, __ATOMIC_ACQUIRE) == OP_IN_PROGRESS)
                        return i;
        return -1;
}

usec_t op_record_latency(const OpRecord *rec, usec_t now) {
        if (rec->state == OP_FINISHED)
                return rec->latency_usec;
        if (rec->state == OP_IN_PROGRESS && now > rec->start_usec)
                return now - rec->start_usec;
        return 0;
}

void *probe_shared_new(size_t size) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

void *probe_shared_free(void *p, size_t size) {
        if (p)
                munmap(p, size);
        return NULL;
}
