/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store.h"
#include "time-util.h"

enum {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_PUT_NODE,
        STMT_SET_STALE,
        STMT_ADD_EVENT,
        STMT_PRUNE_AGE,
        STMT_PRUNE_ROWS,
        _STMT_WRITE_MAX,
};

enum {
        QUERY_SINCE,
        QUERY_SINCE_NODE,
        QUERY_LATEST,
        QUERY_LATEST_NODE,
        _QUERY_MAX,
};

/*
 * Checkpoints (copying the WAL back into the database file) are done by a background thread on its
 * own connection, so that the writer never stalls on one: SQLite's automatic checkpoint runs inside
 * the COMMIT that crosses the threshold and held every waiting report for the time of a few
 * thousand page writes and two fsyncs (5 ms and more, every thousand pages). The background
 * checkpoints are PASSIVE: they never block the writer, and copy what was committed when they
 * start. The WAL file can only start over once everything in it was copied, which under
 * continuous writes the background thread alone never quite reaches; so past
 * CHECKPOINT_WRITER_FRAMES the writer finishes the copy itself (only the few frames committed since
 * the last background pass), and its next transaction restarts the WAL from the beginning.
 * Durability does not depend on any of this: a commit is durable once its WAL frames are synced.
 */
#define CHECKPOINT_BACKGROUND_FRAMES 1000
#define CHECKPOINT_WRITER_FRAMES 4000
#define CHECKPOINT_PACE (10 * USEC_PER_MSEC)

struct Store {
        sqlite3 *db; /* read-write: the writer thread */
        sqlite3_stmt *stmt[_STMT_WRITE_MAX];
        sqlite3 *rdb; /* read-only: event queries from any thread, under rlock */
        sqlite3_stmt *query[_QUERY_MAX];
        pthread_mutex_t rlock;

        sqlite3 *cdb; /* the checkpointer's connection */
        pthread_t checkpointer;
        pthread_mutex_t ckpt_lock;
        pthread_cond_t ckpt_wake;
        int ckpt_frames; /* guarded by ckpt_lock: WAL size at the last commit; 0: nothing to do */
        bool ckpt_started, ckpt_stop;
};

static const char *const write_sql[_STMT_WRITE_MAX] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_PUT_NODE] =
                "INSERT INTO nodes (name, cluster, boot_id, seq, last_seen_ms, interval_ms, status, "
                "stale, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                "ON CONFLICT(name) DO UPDATE SET cluster = ?2, boot_id = ?3, seq = ?4, "
                "last_seen_ms = ?5, interval_ms = ?6, status = ?7, stale = ?8, report = ?9",
        [STMT_SET_STALE] = "UPDATE nodes SET stale = ?2 WHERE name = ?1",
        [STMT_ADD_EVENT] = "INSERT INTO events (time_ms, node, check_name, target, from_status, to_status, "
                           "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [STMT_PRUNE_AGE] = "DELETE FROM events WHERE id IN "
                           "(SELECT id FROM events WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2)",
        /* ids only grow, so the newest max_rows events are those with the largest ids. */
        [STMT_PRUNE_ROWS] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= "
                            "(SELECT max(id) FROM events) - ?1 ORDER BY id LIMIT ?2)",
};

#define EVENT_COLUMNS "id, time_ms, node, check_name, target, from_status, to_status, message"
static const char *const query_sql[_QUERY_MAX] = {
        [QUERY_SINCE] =
                "SELECT " EVENT_COLUMNS " FROM events WHERE time_ms >= ?1 ORDER BY time_ms, id LIMIT ?3",
        [QUERY_SINCE_NODE] = "SELECT " EVENT_COLUMNS " FROM events INDEXED BY events_node_time "
                             "WHERE node = ?2 AND time_ms >= ?1 ORDER BY time_ms, id LIMIT ?3",
        [QUERY_LATEST] = "SELECT * FROM (SELECT " EVENT_COLUMNS " FROM events ORDER BY id DESC LIMIT ?3) "
                         "ORDER BY id",
        [QUERY_LATEST_NODE] =
                "SELECT * FROM (SELECT " EVENT_COLUMNS " FROM events INDEXED BY events_node_time "
                "WHERE node = ?2 ORDER BY time_ms DESC, id DESC LIMIT ?3) "
                "ORDER BY time_ms, id",
};

/*
 * Schema migrations: migrations[v] brings a database from user_version v to v + 1. Add new ones
 * at the end, never edit a released one.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
        "CREATE TABLE nodes ("
        "  name TEXT PRIMARY KEY NOT NULL,"
        "  cluster TEXT NOT NULL DEFAULT '',"
        "  boot_id TEXT NOT NULL DEFAULT '',"
        "  seq INTEGER NOT NULL DEFAULT 0,"
        "  last_seen_ms INTEGER NOT NULL,"
        "  interval_ms INTEGER NOT NULL DEFAULT 0,"
        "  status TEXT NOT NULL,"
        "  stale INTEGER NOT NULL DEFAULT 0,"
        "  report BLOB NOT NULL"
        ");"
        "CREATE TABLE events ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  time_ms INTEGER NOT NULL,"
        "  node TEXT NOT NULL,"
        "  check_name TEXT NOT NULL,"
        "  target TEXT NOT NULL DEFAULT '',"
        "  from_status TEXT NOT NULL,"
        "  to_status TEXT NOT NULL,"
        "  message TEXT NOT NULL DEFAULT ''"
        ");"
        "CREATE INDEX events_time ON events (time_ms);"
        "CREATE INDEX events_node_time ON events (node, time_ms);",
        /* 1 -> 2: named values kept across restarts (the etcd outage start) */
        "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);",
};

/* The one translation of SQLite result codes into negative errno values. */
static int sqlite_to_errno(sqlite3 *db, int rc) {
        int sys;

        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
                return -EINVAL;
        case SQLITE_INTERRUPT:
                return -EINTR;
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
                /* The OS error behind it says more ("No such file", "Permission denied"). */
                sys = db ? sqlite3_system_errno(db) : 0;
                if (sys > 0)
                        return -sys;
                return (rc & 0xff) == SQLITE_CANTOPEN ? -ENOENT : -EIO;
        default:
                return -EIO;
        }
}

static int exec_sql(sqlite3 *db, const char *sql) {
        return sqlite_to_errno(db, sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Runs a statement that returns no rows and resets it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_to_errno(db, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *ret) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqlite_to_errno(db, rc);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EIO : sqlite_to_errno(db, rc);
        sqlite3_finalize(st);
        return r;
}

static int migrate(sqlite3 *db) {
        int64_t version = 0;
        int r;

        r = pragma_int(db, "PRAGMA user_version", &version);
        if (r < 0)
                return r;
        if (version > STORE_SCHEMA_VERSION)
                return -EPROTONOSUPPORT;
        for (int64_t v = version; v < STORE_SCHEMA_VERSION; v++) {
                char sql[64];
                r = exec_sql(db, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v + 1);
                r = exec_sql(db, migrations[v]);
                if (r >= 0)
                        r = exec_sql(db, sql);
                if (r >= 0)
                        r = exec_sql(db, "COMMIT");
                if (r < 0) {
                        (void)exec_sql(db, "ROLLBACK");
                        return r;
                }
        }
        return 0;
}

static int open_db(const char *path, int flags, sqlite3 **ret) {
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                int r = sqlite_to_errno(db, rc);
                sqlite3_close(db);
                return r;
        }
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, 5000);
        *ret = db;
        return 0;
}

/*
 * Called by SQLite on the writer's connection after each commit (the write lock released) with the
 * number of frames in the WAL.
 */
static int wal_hook(void *userdata, sqlite3 *db, const char *name, int n_frames) {
        Store *s = userdata;

        if (n_frames >= (s->ckpt_started ? CHECKPOINT_WRITER_FRAMES : CHECKPOINT_BACKGROUND_FRAMES)) {
                /* Copies what the background thread has not yet; SQLITE_BUSY while it runs: next time. */
                (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
                return SQLITE_OK;
        }
        if (s->ckpt_started && n_frames >= CHECKPOINT_BACKGROUND_FRAMES) {
                pthread_mutex_lock(&s->ckpt_lock);
                if (s->ckpt_frames == 0)
                        pthread_cond_signal(&s->ckpt_wake);
                s->ckpt_frames = n_frames;
                pthread_mutex_unlock(&s->ckpt_lock);
        }
        return SQLITE_OK;
}

static void *checkpoint_thread(void *userdata) {
        Store *s = userdata;

        (void)pthread_setname_np(pthread_self(), "vigil-ckpt");
        pthread_mutex_lock(&s->ckpt_lock);
        for (;;) {
                while (s->ckpt_frames == 0 && !s->ckpt_stop)
                        pthread_cond_wait(&s->ckpt_wake, &s->ckpt_lock);
                if (s->ckpt_stop)
                        break;
                int frames = s->ckpt_frames;
                s->ckpt_frames = 0;
                pthread_mutex_unlock(&s->ckpt_lock);
                /* Errors (SQLITE_BUSY while the writer finishes one) just wait for the next commit. */
                (void)sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
                pthread_mutex_lock(&s->ckpt_lock);
                /*
                 * One pass per commit would cost two fsyncs per commit; pacing them lets each copy
                 * what a few hundred reports wrote. Close to the writer's threshold they follow
                 * every commit, so that the writer has next to nothing left to copy.
                 */
                if (frames >= CHECKPOINT_WRITER_FRAMES * 3 / 4)
                        continue;
                usec_t until = now_usec(CLOCK_MONOTONIC) + CHECKPOINT_PACE;
                struct timespec ts = {.tv_sec = (time_t)(until / USEC_PER_SEC),
                        .tv_nsec = (long)(until % USEC_PER_SEC) * 1000};
                while (!s->ckpt_stop && now_usec(CLOCK_MONOTONIC) < until)
                        (void)pthread_cond_timedwait(&s->ckpt_wake, &s->ckpt_lock, &ts);
        }
        pthread_mutex_unlock(&s->ckpt_lock);
        return NULL;
}

static void stop_checkpointer(Store *s) {
        if (!s->ckpt_started)
                return;
        pthread_mutex_lock(&s->ckpt_lock);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ckpt_wake);
        pthread_mutex_unlock(&s->ckpt_lock);
        pthread_join(s->checkpointer, NULL);
        s->ckpt_started = false;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        stop_checkpointer(s);
        sqlite3_close(s->cdb);
        for (size_t i = 0; i < _STMT_WRITE_MAX; i++)
                sqlite3_finalize(s->stmt[i]);
        for (size_t i = 0; i < _QUERY_MAX; i++)
                sqlite3_finalize(s->query[i]);
        if (s->db && !sqlite3_get_autocommit(s->db))
                (void)exec_sql(s->db, "ROLLBACK");
        sqlite3_close(s->rdb);
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->rlock);
        pthread_mutex_destroy(&s->ckpt_lock);
        pthread_cond_destroy(&s->ckpt_wake);
        return mfree(s);
}

int store_open(const char *path, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        int64_t v;
        int r;

        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->rlock, NULL);
        pthread_mutex_init(&s->ckpt_lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&s->ckpt_wake, &attr);
        pthread_condattr_destroy(&attr);

        r = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->db);
        if (r < 0)
                return r;
        /* WAL + FULL: a COMMIT returns only once the WAL is on stable storage. */
        r = exec_sql(s->db, "PRAGMA journal_mode = WAL");
        if (r < 0)
                return r;
        r = exec_sql(s->db, "PRAGMA synchronous = FULL");
        if (r < 0)
                return r;
        r = pragma_int(s->db, "PRAGMA synchronous", &v);
        if (r < 0)
                return r;
        if (v != 2)
                return -EIO;
        r = migrate(s->db);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _STMT_WRITE_MAX; i++) {
                int rc = sqlite3_prepare_v3(
                        s->db, write_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
                if (rc != SQLITE_OK)
                        return sqlite_to_errno(s->db, rc);
        }

        r = open_db(path, SQLITE_OPEN_READONLY, &s->rdb);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _QUERY_MAX; i++) {
                int rc = sqlite3_prepare_v3(
                        s->rdb, query_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->query[i], NULL);
                if (rc != SQLITE_OK)
                        return sqlite_to_errno(s->rdb, rc);
        }

        /* Replaces SQLite's automatic checkpoint (itself a WAL hook) with ours. */
        sqlite3_wal_hook(s->db, wal_hook, s);
        r = open_db(path, SQLITE_OPEN_READWRITE, &s->cdb);
        if (r < 0)
                return r;
        /* A connection finds the WAL on its first read; until then a checkpoint does nothing. */
        r = pragma_int(s->cdb, "PRAGMA user_version", &v);
        if (r < 0)
                return r;
        r = pthread_create(&s->checkpointer, NULL, checkpoint_thread, s);
        if (r != 0)
                return -r;
        s->ckpt_started = true;

        *ret = TAKE_PTR(s);
        return 0;
}

int store_begin(Store *s) {
        return step_done(s->db, s->stmt[STMT_BEGIN]);
}

int store_commit(Store *s) {
        return step_done(s->db, s->stmt[STMT_COMMIT]);
}

void store_rollback(Store *s) {
        if (!sqlite3_get_autocommit(s->db))
                (void)step_done(s->db, s->stmt[STMT_ROLLBACK]);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
        sqlite3_bind_text(st, i, strempty(v), -1, SQLITE_STATIC);
}

int store_put_node(Store *s, const StoreNode *n) {
        sqlite3_stmt *st = s->stmt[STMT_PUT_NODE];

        bind_text(st, 1, n->name);
        bind_text(st, 2, n->cluster);
        bind_text(st, 3, n->boot_id);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)n->seq);
        sqlite3_bind_int64(st, 5, n->last_seen_ms);
        sqlite3_bind_int64(st, 6, n->interval_ms);
        bind_text(st, 7, n->status);
        sqlite3_bind_int(st, 8, n->stale);
        sqlite3_bind_blob(st, 9, n->report ?: "", (int)n->report_size, SQLITE_STATIC);
        return step_done(s->db, st);
}

int store_set_stale(Store *s, const char *name, bool stale) {
        sqlite3_stmt *st = s->stmt[STMT_SET_STALE];

        bind_text(st, 1, name);
        sqlite3_bind_int(st, 2, stale);
        return step_done(s->db, st);
}

int store_add_event(Store *s, const StoreEvent *e) {
        sqlite3_stmt *st = s->stmt[STMT_ADD_EVENT];

        sqlite3_bind_int64(st, 1, e->time_ms);
        bind_text(st, 2, e->node);
        bind_text(st, 3, e->check_name);
        bind_text(st, 4, e->target);
        bind_text(st, 5, e->from_status);
        bind_text(st, 6, e->to_status);
        bind_text(st, 7, e->message);
        return step_done(s->db, st);
}

static const char *column_text(sqlite3_stmt *st, int i) {
        return (const char *)sqlite3_column_text(st, i) ?: "";
}

/* Runs one statement with text parameters; for the rare statements not worth keeping prepared.
 * With ret_first, returns the first column of the first row (-ENOENT when there is none). */
static int run_once(sqlite3 *db, const char *sql, const char *const *params, size_t n, char **ret_first) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL), r = 0;

        if (rc != SQLITE_OK)
                return sqlite_to_errno(db, rc);
        for (size_t i = 0; i < n; i++)
                bind_text(st, (int)i + 1, params[i]);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && ret_first) {
                char *v = strdup(column_text(st, 0));
                if (!v)
                        r = -ENOMEM;
                else
                        *ret_first = v;
        } else if (rc == SQLITE_DONE && ret_first)
                r = -ENOENT;
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = sqlite_to_errno(db, rc);
        sqlite3_finalize(st);
        return r;
}

int store_set_meta(Store *s, const char *key, const char *value) {
        const char *p[] = {key, value};
        return run_once(s->db,
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", p,
                2, NULL);
}

int store_get_meta(Store *s, const char *key, char **ret) {
        const char *p[] = {key};
        return run_once(s->db, "SELECT value FROM meta WHERE key = ?1", p, 1, ret);
}

int store_load_nodes(Store *s, store_node_fn fn, void *userdata) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(s->db,
                "SELECT name, cluster, boot_id, seq, last_seen_ms, interval_ms, status, stale, report FROM "
                "nodes",
                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqlite_to_errno(s->db, rc);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreNode n = {
                        .name = column_text(st, 0),
                        .cluster = column_text(st, 1),
                        .boot_id = column_text(st, 2),
                        .seq = (uint64_t)sqlite3_column_int64(st, 3),
                        .last_seen_ms = sqlite3_column_int64(st, 4),
                        .interval_ms = (uint32_t)sqlite3_column_int64(st, 5),
                        .status = column_text(st, 6),
                        .stale = sqlite3_column_int(st, 7) != 0,
                        .report = sqlite3_column_blob(st, 8),
                        .report_size = (size_t)sqlite3_column_bytes(st, 8),
                };
                r = fn(&n, userdata);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = sqlite_to_errno(s->db, rc);
        sqlite3_finalize(st);
        return r < 0 ? r : 0;
}

int store_query_events(
        Store *s, int64_t since_ms, const char *node, unsigned limit, store_event_fn fn, void *userdata) {
        sqlite3_stmt *st;
        int rc, r = 0;

        pthread_mutex_lock(&s->rlock);
        st = s->query[since_ms >= 0 ? (node ? QUERY_SINCE_NODE : QUERY_SINCE)
                                    : (node ? QUERY_LATEST_NODE : QUERY_LATEST)];
        sqlite3_bind_int64(st, 1, since_ms);
        if (node)
                bind_text(st, 2, node);
        sqlite3_bind_int64(st, 3, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreEvent e = {
                        .id = sqlite3_column_int64(st, 0),
                        .time_ms = sqlite3_column_int64(st, 1),
                        .node = column_text(st, 2),
                        .check_name = column_text(st, 3),
                        .target = column_text(st, 4),
                        .from_status = column_text(st, 5),
                        .to_status = column_text(st, 6),
                        .message = column_text(st, 7),
                };
                r = fn(&e, userdata);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = sqlite_to_errno(s->rdb, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        pthread_mutex_unlock(&s->rlock);
        return r < 0 ? r : 0;
}

int store_prune_events(Store *s, int64_t before_ms, uint64_t max_rows, unsigned batch) {
        sqlite3_stmt *st;
        int r, total = 0;

        st = s->stmt[STMT_PRUNE_AGE];
        sqlite3_bind_int64(st, 1, before_ms);
        sqlite3_bind_int64(st, 2, batch);
        r = step_done(s->db, st);
        if (r < 0)
                return r;
        total += sqlite3_changes(s->db);
        if (max_rows > 0 && (unsigned)total < batch) {
                st = s->stmt[STMT_PRUNE_ROWS];
                sqlite3_bind_int64(st, 1, (sqlite3_int64)MIN(max_rows, (uint64_t)INT64_MAX));
                sqlite3_bind_int64(st, 2, batch - total);
                r = step_done(s->db, st);
                if (r < 0)
                        return r;
                total += sqlite3_changes(s->db);
        }
        return total;
}
