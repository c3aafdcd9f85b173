/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>

#include "log-state.h"
#include "sqlite-util.h"

enum {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_GET_POSITION,
        STMT_PUT_POSITION,
        STMT_DEL_POSITION,
        STMT_PUT_BATCH,
        STMT_SET_META,
        STMT_PRUNE,
        STMT_PENDING,
        STMT_ACK,
        _STMT_MAX,
};

static const char *const sql[_STMT_MAX] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_GET_POSITION] = "SELECT position FROM positions WHERE source = ?",
        [STMT_PUT_POSITION] = "INSERT OR REPLACE INTO positions (source, position) VALUES (?, ?)",
        [STMT_DEL_POSITION] = "DELETE FROM positions WHERE source = ?",
        [STMT_PUT_BATCH] = "INSERT INTO batches (id, batch) VALUES (?, ?)",
        [STMT_SET_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [STMT_PRUNE] = "DELETE FROM batches WHERE id <= (SELECT max(id) FROM batches) - ?",
        [STMT_PENDING] = "SELECT batch FROM batches ORDER BY id LIMIT ?",
        [STMT_ACK] = "DELETE FROM batches WHERE id <= ?",
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS positions (source TEXT PRIMARY KEY NOT NULL, position BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, batch BLOB NOT NULL);";

struct LogState {
        sqlite3 *db;
        sqlite3_stmt *stmt[_STMT_MAX];
        char id[SD_ID128_STRING_MAX];
        uint64_t last_batch;
};

static int step(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        int r = rc == SQLITE_ROW ? 1 : sqlite_to_errno(sqlite3_db_handle(st), rc);
        if (rc != SQLITE_ROW)
                sqlite3_reset(st);
        return r;
}

static int get_meta(LogState *st, const char *key, char **ret) {
        sqlite3_stmt *q;
        int rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL);
        if (rc != SQLITE_OK)
                return sqlite_to_errno(st->db, rc);
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlite_to_errno(st->db, rc);
        if (r == 0 && !(*ret = strdup((const char *)sqlite3_column_text(q, 0) ?: "")))
                r = -ENOMEM;
        sqlite3_finalize(q);
        return r;
}

static int set_meta(LogState *st, const char *key, const char *value) {
        sqlite3_stmt *q = st->stmt[STMT_SET_META];
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
        return step(q);
}

int log_state_open(const char *dir, LogState **ret) {
        _cleanup_(log_state_freep) LogState *st = calloc(1, sizeof(LogState));
        _cleanup_(freep) char *path = NULL, *id = NULL, *last = NULL;
        int r, rc;

        if (!st || asprintf(&path, "%s/agent.db", dir) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return -errno;
        rc = sqlite3_open_v2(
                path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                /* Say why the file cannot be opened the way the system would. */
                return sqlite_to_errno(st->db, rc);
        }
        sqlite3_busy_timeout(st->db, 2000);
        rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(st->db, schema, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                return sqlite_to_errno(st->db, rc);
        }
        for (size_t i = 0; i < _STMT_MAX; i++) {
                rc = sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
                if (rc != SQLITE_OK)
                        return sqlite_to_errno(st->db, rc);
        }
        r = get_meta(st, "state_id", &id);
        if (r == -ENOENT) {
                sd_id128_t rnd;
                r = sd_id128_randomize(&rnd);
                if (r < 0)
                        return r;
                sd_id128_to_string(rnd, st->id);
                r = set_meta(st, "state_id", st->id);
        } else if (r >= 0)
                snprintf(st->id, sizeof(st->id), "%s", id);
        if (r < 0)
                return r;
        r = get_meta(st, "last_batch", &last);
        if (r >= 0)
                st->last_batch = strtoull(last, NULL, 10);
        else if (r != -ENOENT)
                return r;
        *ret = TAKE_PTR(st);
        return 0;
}

LogState *log_state_free(LogState *st) {
        if (!st)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(st->stmt[i]);
        sqlite3_close_v2(st->db);
        return mfree(st);
}

const char *log_state_id(const LogState *st) {
        return st->id;
}

int log_state_get_position(LogState *st, const char *source, Vigil__LogPosition **ret) {
        sqlite3_stmt *q = st->stmt[STMT_GET_POSITION];
        sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
        int r = step(q);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        *ret = vigil__log_position__unpack(
                NULL, (size_t)sqlite3_column_bytes(q, 0), sqlite3_column_blob(q, 0));
        sqlite3_reset(q);
        return *ret ? 0 : -EBADMSG;
}

/* Binds a packed copy of a protobuf message (freed by SQLite). */
static int bind_message(sqlite3_stmt *q, int col, const ProtobufCMessage *m) {
        size_t size = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(MAX(size, (size_t)1));
        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(m, buf);
        return sqlite_to_errno(NULL, sqlite3_bind_blob64(q, col, buf, size, free));
}

static int seal_in_transaction(
        LogState *st, const LogStatePut *puts, size_t n, Vigil__LogBatch *batch, unsigned max_batches) {
        int r;

        for (size_t i = 0; i < n; i++) {
                sqlite3_stmt *q = st->stmt[puts[i].position ? STMT_PUT_POSITION : STMT_DEL_POSITION];
                sqlite3_bind_text(q, 1, puts[i].source, -1, SQLITE_STATIC);
                if (puts[i].position && (r = bind_message(q, 2, &puts[i].position->base)) < 0)
                        return r;
                if ((r = step(q)) < 0)
                        return r;
        }
        if (!batch)
                return 0;
        char idbuf[32];
        batch->id = st->last_batch + 1;
        snprintf(idbuf, sizeof(idbuf), "%" PRIu64, batch->id);
        sqlite3_stmt *q = st->stmt[STMT_PUT_BATCH];
        sqlite3_bind_int64(q, 1, (sqlite3_int64)batch->id);
        if ((r = bind_message(q, 2, &batch->base)) < 0 || (r = step(q)) < 0 ||
                (r = set_meta(st, "last_batch", idbuf)) < 0)
                return r;
        if (max_batches > 0) {
                q = st->stmt[STMT_PRUNE];
                sqlite3_bind_int64(q, 1, max_batches);
                if ((r = step(q)) < 0)
                        return r;
                return sqlite3_changes(st->db);
        }
        return 0;
}

int log_state_seal(
        LogState *st, const LogStatePut *puts, size_t n, Vigil__LogBatch *batch, unsigned max_batches) {
        int r = step(st->stmt[STMT_BEGIN]);
        if (r < 0)
                return r;
        r = seal_in_transaction(st, puts, n, batch, max_batches);
        if (r >= 0) {
                int k = step(st->stmt[STMT_COMMIT]);
                if (k < 0)
                        r = k;
        }
        if (r < 0) {
                (void)step(st->stmt[STMT_ROLLBACK]);
                if (batch)
                        batch->id = 0;
                return r;
        }
        if (batch)
                st->last_batch = batch->id;
        return r;
}

void log_batches_free(Vigil__LogBatch **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                vigil__log_batch__free_unpacked(v[i], NULL);
        free(v);
}

int log_state_pending(LogState *st, size_t max, Vigil__LogBatch ***ret, size_t *ret_n) {
        sqlite3_stmt *q = st->stmt[STMT_PENDING];
        Vigil__LogBatch **v = NULL;
        size_t n = 0;
        int r;

        sqlite3_bind_int64(q, 1, (sqlite3_int64)MIN(max, (size_t)INT64_MAX));
        while ((r = step(q)) > 0) {
                Vigil__LogBatch **nv = realloc(v, sizeof(*v) * (n + 1));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[n] = vigil__log_batch__unpack(
                        NULL, (size_t)sqlite3_column_bytes(q, 0), sqlite3_column_blob(q, 0));
                if (!v[n]) {
                        r = -EBADMSG;
                        break;
                }
                n++;
        }
        if (r < 0) {
                sqlite3_reset(q);
                log_batches_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int log_state_ack(LogState *st, uint64_t id) {
        sqlite3_stmt *q = st->stmt[STMT_ACK];
        sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
        return step(q);
}
