/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>

#include "json-util.h"
#include "sqlite-util.h"
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
        STMT_LOG_LAST_BATCH,
        STMT_LOG_SET_BATCH,
        STMT_LOG_SOURCE,
        STMT_LOG_MINUTE,
        STMT_LOG_SIGNATURE,
        STMT_LOG_PRUNE_MINUTES,
        STMT_LOG_PRUNE_SIGNATURES,
        STMT_LOG_PRUNE_SOURCES,
        STMT_METRIC_POINT,
        STMT_METRIC_PRUNE,
        STMT_METRIC_LABEL_CLEAR,
        STMT_METRIC_LABEL_POINT,
        STMT_METRIC_LABEL_PRUNE,
        _STMT_WRITE_MAX,
};

enum {
        QUERY_SINCE,
        QUERY_SINCE_NODE,
        QUERY_LATEST,
        QUERY_LATEST_NODE,
        QUERY_READ_BEGIN,
        QUERY_READ_END,
        QUERY_LOG_SOURCES,
        QUERY_LOG_SIGNATURES,
        QUERY_METRIC_WINDOW,
        QUERY_METRIC_LABEL_WINDOW,
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

/* The columns of the series of a metrics point, in the order of MetricSeries (metric_series_name()). */
#define METRIC_COLUMNS                                                                                      \
        "requests_per_s, fuse_ops_per_s, fuse_concurrency, cached_read_bytes_per_s, ufs_read_bytes_per_s, " \
        "ufs_write_bytes_per_s, ufs_errors_per_s"
_Static_assert(_METRIC_SERIES_MAX == 7, "METRIC_COLUMNS and the metric_points statements name 7 series");

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
        [STMT_LOG_LAST_BATCH] = "SELECT last_batch FROM log_states WHERE node = ?1 AND state_id = ?2",
        [STMT_LOG_SET_BATCH] = "INSERT INTO log_states (node, state_id, last_batch, updated_ms) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(node, state_id) DO UPDATE SET "
                               "last_batch = ?3, updated_ms = ?4",
        /* ?9 and ?10 are NULL when the batch has no previous-container evidence: keep the last. */
        [STMT_LOG_SOURCE] =
                "INSERT INTO log_sources (node, source, lines, bytes, lines_cut, bytes_lost, restart_count, "
                "updated_ms, previous_restart_count, previous) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, 0), ?10) "
                "ON CONFLICT(node, source) DO UPDATE SET lines = lines + ?3, bytes = bytes + ?4, "
                "lines_cut = lines_cut + ?5, bytes_lost = bytes_lost + ?6, restart_count = ?7, "
                "updated_ms = ?8, previous_restart_count = coalesce(?9, previous_restart_count), "
                "previous = coalesce(?10, previous)",
        [STMT_LOG_MINUTE] = "INSERT INTO log_minutes (node, source, minute_ms, warn, error, fatal, info) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(node, source, minute_ms) DO "
                            "UPDATE SET warn = warn + ?4, error = error + ?5, fatal = fatal + ?6, "
                            "info = info + ?7",
        /* The right-hand sides see the row as it was: the sample is replaced by a later one only. */
        [STMT_LOG_SIGNATURE] =
                "INSERT INTO log_signatures (node, source, hash, level, pattern, count, first_ms, last_ms, "
                "sample, context, sample_cut) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                "ON CONFLICT(node, source, hash) DO UPDATE SET level = ?4, pattern = ?5, "
                "count = count + ?6, first_ms = min(first_ms, ?7), last_ms = max(last_ms, ?8), "
                "sample = iif(?8 >= last_ms, ?9, sample), context = iif(?8 >= last_ms, ?10, context), "
                "sample_cut = iif(?8 >= last_ms, ?11, sample_cut)",
        [STMT_LOG_PRUNE_MINUTES] = "DELETE FROM log_minutes WHERE rowid IN "
                                   "(SELECT rowid FROM log_minutes WHERE minute_ms < ?1 LIMIT ?2)",
        [STMT_LOG_PRUNE_SIGNATURES] = "DELETE FROM log_signatures WHERE rowid IN "
                                      "(SELECT rowid FROM log_signatures WHERE last_ms < ?1 LIMIT ?2)",
        /* Signatures are pruned by the time of their lines, sources by the collector's: a source
         * goes only with its last signature, so that no signature is left without its source. */
        [STMT_LOG_PRUNE_SOURCES] =
                "DELETE FROM log_sources WHERE rowid IN (SELECT rowid FROM log_sources s WHERE "
                "updated_ms < ?1 AND NOT EXISTS (SELECT 1 FROM log_signatures g WHERE g.node = s.node AND "
                "g.source = s.source) LIMIT ?2)",
        [STMT_METRIC_POINT] = "INSERT OR REPLACE INTO metric_points (node, minute_ms, " METRIC_COLUMNS
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        [STMT_METRIC_PRUNE] = "DELETE FROM metric_points WHERE (node, minute_ms) IN (SELECT node, minute_ms "
                              "FROM metric_points WHERE minute_ms < ?1 LIMIT ?2)",
        /* ?1 node, ?2 series, ?3 minute_ms */
        [STMT_METRIC_LABEL_CLEAR] =
                "DELETE FROM metric_label_points WHERE node = ?1 AND series = ?2 AND minute_ms = ?3",
        [STMT_METRIC_LABEL_POINT] = "INSERT INTO metric_label_points (node, series, minute_ms, key, value) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(node, series, minute_ms, key) "
                                    "DO UPDATE SET value = value + ?5",
        [STMT_METRIC_LABEL_PRUNE] =
                "DELETE FROM metric_label_points WHERE (node, series, minute_ms, key) IN "
                "(SELECT node, series, minute_ms, key FROM metric_label_points "
                "WHERE minute_ms < ?1 LIMIT ?2)",
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
        /* Queries that read one snapshot (the log queries, the metrics windows) go between these. */
        [QUERY_READ_BEGIN] = "BEGIN",
        [QUERY_READ_END] = "COMMIT",
        /* ?1 node or NULL, ?2 source or GLOB pattern or NULL, ?3 since_ms, ?4 level, ?5 limit */
        [QUERY_LOG_SOURCES] =
                "SELECT s.node, s.source, s.lines, s.bytes, s.lines_cut, s.bytes_lost, s.restart_count, "
                "s.updated_ms, s.previous_restart_count, s.previous, coalesce(m.warn, 0), "
                "coalesce(m.error, 0), coalesce(m.fatal, 0) FROM log_sources s LEFT JOIN "
                "(SELECT node, source, sum(warn) AS warn, sum(error) AS error, sum(fatal) AS fatal "
                "FROM log_minutes WHERE minute_ms + 60000 > ?3 AND (?1 IS NULL OR node = ?1) AND "
                "(?2 IS NULL OR source = ?2 OR source GLOB ?2) GROUP BY node, source) m "
                "ON m.node = s.node AND m.source = s.source "
                "WHERE (?1 IS NULL OR s.node = ?1) AND (?2 IS NULL OR s.source = ?2 OR s.source GLOB ?2) "
                "ORDER BY s.node, s.source",
        [QUERY_LOG_SIGNATURES] =
                "SELECT node, source, level, pattern, count, first_ms, last_ms, sample, context, sample_cut "
                "FROM (SELECT *, row_number() OVER (PARTITION BY node, source ORDER BY last_ms DESC, hash) "
                "AS n FROM log_signatures WHERE (?1 IS NULL OR node = ?1) AND "
                "(?2 IS NULL OR source = ?2 OR source GLOB ?2) AND last_ms >= ?3 AND level >= ?4) "
                "WHERE n <= ?5 ORDER BY node, source, last_ms DESC, hash",
        /* ?1 node, [?2, ?3) the window */
        [QUERY_METRIC_WINDOW] = "SELECT count(*), total(requests_per_s), total(fuse_ops_per_s), "
                                "total(fuse_concurrency), total(cached_read_bytes_per_s), "
                                "total(ufs_read_bytes_per_s), total(ufs_write_bytes_per_s), "
                                "total(ufs_errors_per_s) FROM metric_points "
                                "WHERE node = ?1 AND minute_ms >= ?2 AND minute_ms < ?3",
        /* ?1 node, ?2 series, [?3, ?4) the window */
        [QUERY_METRIC_LABEL_WINDOW] =
                "SELECT key, total(value) FROM metric_label_points WHERE node = ?1 AND "
                "series = ?2 AND minute_ms >= ?3 AND minute_ms < ?4 GROUP BY key",
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
        /* 2 -> 3: log findings. context: a JSON array of strings; previous: a packed
         * vigil.LogSourceBatch holding only `previous` (the signatures as the agent sent them). */
        "CREATE TABLE log_states ("
        "  node TEXT NOT NULL,"
        "  state_id TEXT NOT NULL,"
        "  last_batch INTEGER NOT NULL,"
        "  updated_ms INTEGER NOT NULL,"
        "  PRIMARY KEY (node, state_id)"
        ");"
        "CREATE TABLE log_sources ("
        "  node TEXT NOT NULL,"
        "  source TEXT NOT NULL,"
        "  lines INTEGER NOT NULL DEFAULT 0,"
        "  bytes INTEGER NOT NULL DEFAULT 0,"
        "  lines_cut INTEGER NOT NULL DEFAULT 0,"
        "  bytes_lost INTEGER NOT NULL DEFAULT 0,"
        "  restart_count INTEGER NOT NULL DEFAULT 0,"
        "  updated_ms INTEGER NOT NULL,"
        "  previous_restart_count INTEGER NOT NULL DEFAULT 0,"
        "  previous BLOB,"
        "  PRIMARY KEY (node, source)"
        ");"
        "CREATE TABLE log_minutes ("
        "  node TEXT NOT NULL,"
        "  source TEXT NOT NULL,"
        "  minute_ms INTEGER NOT NULL,"
        "  warn INTEGER NOT NULL DEFAULT 0,"
        "  error INTEGER NOT NULL DEFAULT 0,"
        "  fatal INTEGER NOT NULL DEFAULT 0,"
        "  info INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (node, source, minute_ms)"
        ");"
        "CREATE INDEX log_minutes_time ON log_minutes (minute_ms);"
        "CREATE TABLE log_signatures ("
        "  node TEXT NOT NULL,"
        "  source TEXT NOT NULL,"
        "  hash INTEGER NOT NULL,"
        "  level INTEGER NOT NULL,"
        "  pattern TEXT NOT NULL,"
        "  count INTEGER NOT NULL,"
        "  first_ms INTEGER NOT NULL,"
        "  last_ms INTEGER NOT NULL,"
        "  sample TEXT NOT NULL,"
        "  context TEXT NOT NULL DEFAULT '[]',"
        "  sample_cut INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (node, source, hash)"
        ");"
        "CREATE INDEX log_signatures_last ON log_signatures (last_ms);",
        /* 3 -> 4: metrics history, one point per minute per node and for the cluster (node
         * "(cluster)"), every series per second; clustered by node for the window queries. */
        "CREATE TABLE metric_points ("
        "  node TEXT NOT NULL,"
        "  minute_ms INTEGER NOT NULL,"
        "  requests_per_s REAL NOT NULL DEFAULT 0,"
        "  fuse_ops_per_s REAL NOT NULL DEFAULT 0,"
        "  fuse_concurrency REAL NOT NULL DEFAULT 0,"
        "  cached_read_bytes_per_s REAL NOT NULL DEFAULT 0,"
        "  ufs_read_bytes_per_s REAL NOT NULL DEFAULT 0,"
        "  ufs_write_bytes_per_s REAL NOT NULL DEFAULT 0,"
        "  ufs_errors_per_s REAL NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (node, minute_ms)"
        ") WITHOUT ROWID;"
        "CREATE INDEX metric_points_minute ON metric_points (minute_ms);",
        /* 4 -> 5: the breakdowns' history (MetricLabelSeries: 0 FUSE operations by operation, 1 UFS
         * errors by code), one point per minute, node, series and key (at most 32 keys per node,
         * series and minute); clustered by node, series and minute for the window queries, and
         * indexed by minute for the retention. */
        "CREATE TABLE metric_label_points ("
        "  node TEXT NOT NULL,"
        "  series INTEGER NOT NULL,"
        "  minute_ms INTEGER NOT NULL,"
        "  key TEXT NOT NULL,"
        "  value REAL NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (node, series, minute_ms, key)"
        ") WITHOUT ROWID;"
        "CREATE INDEX metric_label_points_minute ON metric_label_points (minute_ms);",
};

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

/* Steps st, calling row(st, ctx) for each row until done or row() fails; then resets st. */
static int for_each_row(sqlite3 *db, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx) {
        int rc, r = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = row(st, ctx);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = sqlite_to_errno(db, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r < 0 ? r : 0;
}

typedef struct EventQuery {
        store_event_fn fn;
        void *userdata;
} EventQuery;

static int event_row(sqlite3_stmt *st, void *ctx) {
        EventQuery *q = ctx;
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
        return q->fn(&e, q->userdata);
}

int store_query_events(
        Store *s, int64_t since_ms, const char *node, unsigned limit, store_event_fn fn, void *userdata) {
        sqlite3_stmt *st;
        int r;

        pthread_mutex_lock(&s->rlock);
        st = s->query[since_ms >= 0 ? (node ? QUERY_SINCE_NODE : QUERY_SINCE)
                                    : (node ? QUERY_LATEST_NODE : QUERY_LATEST)];
        sqlite3_bind_int64(st, 1, since_ms);
        if (node)
                bind_text(st, 2, node);
        sqlite3_bind_int64(st, 3, limit);
        r = for_each_row(s->rdb, st, event_row, &(EventQuery){fn, userdata});
        pthread_mutex_unlock(&s->rlock);
        return r;
}

/* Runs a pruning statement (?1: its bound, ?2: at most this many rows); returns the rows deleted. */
static int prune_rows(Store *s, int stmt, int64_t bound, unsigned batch) {
        sqlite3_stmt *st = s->stmt[stmt];
        int r;

        sqlite3_bind_int64(st, 1, bound);
        sqlite3_bind_int64(st, 2, batch);
        r = step_done(s->db, st);
        return r < 0 ? r : sqlite3_changes(s->db);
}

int store_prune_events(Store *s, int64_t before_ms, uint64_t max_rows, unsigned batch) {
        int r, total;

        total = prune_rows(s, STMT_PRUNE_AGE, before_ms, batch);
        if (total < 0 || max_rows == 0 || (unsigned)total >= batch)
                return total;
        r = prune_rows(s, STMT_PRUNE_ROWS, (int64_t)MIN(max_rows, (uint64_t)INT64_MAX), batch - total);
        return r < 0 ? r : total + r;
}

/* ---- log findings ---- */

#define CONTEXT_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
        sqlite3_bind_int64(st, i, (sqlite3_int64)MIN(v, (uint64_t)INT64_MAX));
}

/* The parameters every log statement starts with, and n counters from parameter first on. */
static void bind_log_row(
        sqlite3_stmt *st, const char *node, const char *source, int first, const uint64_t *v, size_t n) {
        bind_text(st, 1, node);
        bind_text(st, 2, source);
        for (size_t i = 0; i < n; i++)
                bind_u64(st, first + (int)i, v[i]);
}

static int log_last_batch(Store *s, const char *node, const char *state_id, uint64_t *ret) {
        sqlite3_stmt *st = s->stmt[STMT_LOG_LAST_BATCH];
        int rc, r = 0;

        bind_text(st, 1, node);
        bind_text(st, 2, state_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (uint64_t)sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE)
                *ret = 0;
        else
                r = sqlite_to_errno(s->db, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r;
}

static int apply_log_signature(
        Store *s, const char *node, const char *source, const Vigil__LogSignature *sig) {
        sqlite3_stmt *st = s->stmt[STMT_LOG_SIGNATURE];
        _cleanup_json_ json_object *context = json_object_new_array();
        const char *text;

        if (!context)
                return -ENOMEM;
        for (size_t i = 0; i < sig->n_context; i++) {
                json_object *line = json_object_new_string(strempty(sig->context[i]));
                if (!line || json_object_array_add(context, line) < 0) {
                        json_object_put(line);
                        return -ENOMEM;
                }
        }
        text = json_object_to_json_string_ext(context, CONTEXT_JSON_FLAGS);
        if (!text)
                return -ENOMEM;
        bind_log_row(st, node, source, 6, &sig->count, 1);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)sig->hash);
        sqlite3_bind_int(st, 4, sig->level);
        bind_text(st, 5, sig->pattern);
        sqlite3_bind_int64(st, 7, sig->first_ms);
        sqlite3_bind_int64(st, 8, sig->last_ms);
        bind_text(st, 9, sig->sample);
        bind_text(st, 10, text);
        sqlite3_bind_int(st, 11, sig->sample_cut);
        return step_done(s->db, st);
}

static int apply_log_minute(Store *s, const char *node, const char *source, const Vigil__LogMinute *m) {
        sqlite3_stmt *st = s->stmt[STMT_LOG_MINUTE];

        bind_log_row(st, node, source, 4, (const uint64_t[]){m->warn, m->error, m->fatal, m->info}, 4);
        sqlite3_bind_int64(st, 3, m->minute_ms);
        return step_done(s->db, st);
}

static int apply_log_source(Store *s, const char *node, const Vigil__LogSourceBatch *src, int64_t now_ms) {
        sqlite3_stmt *st = s->stmt[STMT_LOG_SOURCE];
        _cleanup_(freep) uint8_t *previous = NULL;
        size_t previous_size = 0;
        int r;

        if (src->n_previous > 0) {
                Vigil__LogSourceBatch only = VIGIL__LOG_SOURCE_BATCH__INIT;
                only.previous = src->previous;
                only.n_previous = src->n_previous;
                previous_size = vigil__log_source_batch__get_packed_size(&only);
                previous = malloc(previous_size);
                if (!previous)
                        return -ENOMEM;
                vigil__log_source_batch__pack(&only, previous);
        }
        bind_log_row(st, node, src->source, 3,
                (const uint64_t[]){src->lines, src->bytes, src->lines_cut, src->bytes_lost}, 4);
        sqlite3_bind_int64(st, 7, src->restart_count);
        sqlite3_bind_int64(st, 8, now_ms);
        if (previous) {
                sqlite3_bind_int64(st, 9, src->previous_restart_count);
                sqlite3_bind_blob(
                        st, 10, previous, (int)MIN(previous_size, (size_t)INT32_MAX), SQLITE_STATIC);
        }
        r = step_done(s->db, st);
        for (size_t i = 0; r >= 0 && i < src->n_minutes; i++)
                r = apply_log_minute(s, node, src->source, src->minutes[i]);
        for (size_t i = 0; r >= 0 && i < src->n_signatures; i++)
                r = apply_log_signature(s, node, src->source, src->signatures[i]);
        return r;
}

int store_apply_log_batch(
        Store *s, const char *node, const char *state_id, const Vigil__LogBatch *b, int64_t now_ms) {
        sqlite3_stmt *st = s->stmt[STMT_LOG_SET_BATCH];
        uint64_t last = 0;
        int r;

        r = log_last_batch(s, node, state_id, &last);
        if (r < 0)
                return r;
        if (b->id <= last)
                return 0;
        bind_text(st, 1, node);
        bind_text(st, 2, state_id);
        bind_u64(st, 3, b->id);
        sqlite3_bind_int64(st, 4, now_ms);
        r = step_done(s->db, st);
        for (size_t i = 0; r >= 0 && i < b->n_sources; i++)
                r = apply_log_source(s, node, b->sources[i], now_ms);
        return r < 0 ? r : 1;
}

int store_prune_logs(Store *s, int64_t before_ms, unsigned batch) {
        /* Signatures before sources: a source whose last signature goes now goes with it. */
        static const int prune[] = {
                STMT_LOG_PRUNE_MINUTES, STMT_LOG_PRUNE_SIGNATURES, STMT_LOG_PRUNE_SOURCES};
        int total = 0;

        for (size_t i = 0; i < ELEMENTSOF(prune); i++) {
                int r = prune_rows(s, prune[i], before_ms, batch);
                if (r < 0)
                        return r;
                total += r;
        }
        return total;
}

typedef struct LogQuery {
        const StoreLogQuery *q;
        store_log_source_fn source_fn;
        store_log_signature_fn signature_fn;
        void *userdata;
} LogQuery;

static int compare_most_recent_first(const void *a, const void *b) {
        const Vigil__LogSignature *x = *(Vigil__LogSignature *const *)a,
                                  *y = *(Vigil__LogSignature *const *)b;
        return (x->last_ms < y->last_ms) - (x->last_ms > y->last_ms);
}

static bool log_signature_wanted(const StoreLogQuery *q, const Vigil__LogSignature *sig) {
        return (int)sig->level >= q->min_level && sig->last_ms >= q->since_ms;
}

static int log_source_row(sqlite3_stmt *st, void *ctx) {
        LogQuery *lq = ctx;
        Vigil__LogSourceBatch *prev = NULL;
        _cleanup_(freep) Vigil__LogSignature **v = NULL;
        size_t n = 0;
        int r;

        /* Evidence that does not decode (it was never written so) is left out rather than failing. */
        if (sqlite3_column_type(st, 9) == SQLITE_BLOB)
                prev = vigil__log_source_batch__unpack(
                        NULL, (size_t)sqlite3_column_bytes(st, 9), sqlite3_column_blob(st, 9));
        if (prev && prev->n_previous > 0) {
                v = calloc(prev->n_previous, sizeof(Vigil__LogSignature *));
                if (!v) {
                        vigil__log_source_batch__free_unpacked(prev, NULL);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < prev->n_previous; i++)
                        if (log_signature_wanted(lq->q, prev->previous[i]))
                                v[n++] = prev->previous[i];
                qsort(v, n, sizeof(Vigil__LogSignature *), compare_most_recent_first);
                if (lq->q->limit > 0)
                        n = MIN(n, (size_t)lq->q->limit);
        }
        StoreLogSource src = {
                .node = column_text(st, 0),
                .source = column_text(st, 1),
                .lines = (uint64_t)sqlite3_column_int64(st, 2),
                .bytes = (uint64_t)sqlite3_column_int64(st, 3),
                .lines_cut = (uint64_t)sqlite3_column_int64(st, 4),
                .bytes_lost = (uint64_t)sqlite3_column_int64(st, 5),
                .restart_count = (uint32_t)sqlite3_column_int64(st, 6),
                .updated_ms = sqlite3_column_int64(st, 7),
                .previous_restart_count = (uint32_t)sqlite3_column_int64(st, 8),
                .previous = v,
                .n_previous = n,
                .warn = (uint64_t)sqlite3_column_int64(st, 10),
                .error = (uint64_t)sqlite3_column_int64(st, 11),
                .fatal = (uint64_t)sqlite3_column_int64(st, 12),
        };
        r = lq->source_fn(&src, lq->userdata);
        if (prev)
                vigil__log_source_batch__free_unpacked(prev, NULL);
        return r;
}

static int log_signature_row(sqlite3_stmt *st, void *ctx) {
        LogQuery *lq = ctx;
        Vigil__LogSignature sig = VIGIL__LOG_SIGNATURE__INIT;
        _cleanup_json_ json_object *context = json_tokener_parse(column_text(st, 8));
        _cleanup_(freep) char **lines = NULL;

        if (json_object_is_type(context, json_type_array) && json_object_array_length(context) > 0) {
                sig.n_context = json_object_array_length(context);
                lines = calloc(sig.n_context, sizeof(char *));
                if (!lines)
                        return -ENOMEM;
                for (size_t i = 0; i < sig.n_context; i++)
                        lines[i] = (char *)strempty(
                                json_object_get_string(json_object_array_get_idx(context, i)));
                sig.context = lines;
        }
        sig.level = (Vigil__LogLevel)sqlite3_column_int(st, 2);
        sig.pattern = (char *)column_text(st, 3);
        sig.count = (uint64_t)sqlite3_column_int64(st, 4);
        sig.first_ms = sqlite3_column_int64(st, 5);
        sig.last_ms = sqlite3_column_int64(st, 6);
        sig.sample = (char *)column_text(st, 7);
        sig.sample_cut = sqlite3_column_int(st, 9) != 0;
        return lq->signature_fn(column_text(st, 0), column_text(st, 1), &sig, lq->userdata);
}

static void bind_log_filter(sqlite3_stmt *st, const StoreLogQuery *q) {
        if (q->node)
                bind_text(st, 1, q->node);
        if (q->source)
                bind_text(st, 2, q->source);
        sqlite3_bind_int64(st, 3, q->since_ms);
}

int store_query_logs(Store *s, const StoreLogQuery *q, store_log_source_fn source_fn,
        store_log_signature_fn signature_fn, void *userdata) {
        sqlite3_stmt *sources = s->query[QUERY_LOG_SOURCES], *signatures = s->query[QUERY_LOG_SIGNATURES];
        LogQuery lq = {.q = q, .source_fn = source_fn, .signature_fn = signature_fn, .userdata = userdata};
        int r;

        pthread_mutex_lock(&s->rlock);
        r = step_done(s->rdb, s->query[QUERY_READ_BEGIN]);
        if (r >= 0) {
                bind_log_filter(sources, q);
                r = for_each_row(s->rdb, sources, log_source_row, &lq);
        }
        if (r >= 0) {
                bind_log_filter(signatures, q);
                sqlite3_bind_int(signatures, 4, q->min_level);
                sqlite3_bind_int64(signatures, 5, q->limit > 0 ? (sqlite3_int64)q->limit : INT64_MAX);
                r = for_each_row(s->rdb, signatures, log_signature_row, &lq);
        }
        if (!sqlite3_get_autocommit(s->rdb))
                (void)step_done(s->rdb, s->query[QUERY_READ_END]);
        pthread_mutex_unlock(&s->rlock);
        return r;
}

/* ---- metrics history ---- */

int store_put_metric_point(Store *s, const char *node, int64_t minute_ms, const MetricValues *v) {
        sqlite3_stmt *st = s->stmt[STMT_METRIC_POINT];

        bind_text(st, 1, node);
        sqlite3_bind_int64(st, 2, minute_ms);
        for (size_t k = 0; k < _METRIC_SERIES_MAX; k++)
                sqlite3_bind_double(st, 3 + (int)k, v->v[k]);
        return step_done(s->db, st);
}

int store_put_metric_label_points(Store *s, const char *node, int64_t minute_ms, MetricLabelSeries series,
        const MetricKeyRate *keys, size_t n) {
        sqlite3_stmt *st = s->stmt[STMT_METRIC_LABEL_CLEAR];
        int r;

        bind_text(st, 1, node);
        sqlite3_bind_int(st, 2, (int)series);
        sqlite3_bind_int64(st, 3, minute_ms);
        r = step_done(s->db, st);
        st = s->stmt[STMT_METRIC_LABEL_POINT];
        for (size_t i = 0; r >= 0 && i < n; i++) {
                bind_text(st, 1, node);
                sqlite3_bind_int(st, 2, (int)series);
                sqlite3_bind_int64(st, 3, minute_ms);
                bind_text(st, 4, keys[i].key);
                sqlite3_bind_double(st, 5, keys[i].per_s);
                r = step_done(s->db, st);
        }
        return r;
}

int store_prune_metric_points(Store *s, int64_t before_ms, unsigned batch) {
        int r, total;

        total = prune_rows(s, STMT_METRIC_PRUNE, before_ms, batch);
        if (total < 0 || (unsigned)total >= batch)
                return total;
        r = prune_rows(s, STMT_METRIC_LABEL_PRUNE, before_ms, batch - total);
        return r < 0 ? r : total + r;
}

static int metric_window_row(sqlite3_stmt *st, void *ctx) {
        MetricWindow *w = ctx;

        w->points = (unsigned)sqlite3_column_int64(st, 0);
        for (size_t k = 0; k < _METRIC_SERIES_MAX; k++)
                w->sum.v[k] = sqlite3_column_double(st, 1 + (int)k);
        return 0;
}

/* Under rlock, in a read transaction: the windows of node. */
static int query_windows(Store *s, const char *node, MetricWindow *windows, size_t n) {
        sqlite3_stmt *st = s->query[QUERY_METRIC_WINDOW];
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                bind_text(st, 1, node);
                sqlite3_bind_int64(st, 2, windows[i].from_ms);
                sqlite3_bind_int64(st, 3, windows[i].to_ms);
                r = for_each_row(s->rdb, st, metric_window_row, &windows[i]);
        }
        return r;
}

int store_query_metric_windows(Store *s, const char *node, MetricWindow *windows, size_t n) {
        int r;

        pthread_mutex_lock(&s->rlock);
        r = step_done(s->rdb, s->query[QUERY_READ_BEGIN]);
        if (r >= 0)
                r = query_windows(s, node, windows, n);
        if (!sqlite3_get_autocommit(s->rdb))
                (void)step_done(s->rdb, s->query[QUERY_READ_END]);
        pthread_mutex_unlock(&s->rlock);
        return r;
}

typedef struct LabelWindowQuery {
        MetricBreakdown *b;
        const MetricWindow *totals;
        MetricWindowKind k;
} LabelWindowQuery;

static int metric_label_window_row(sqlite3_stmt *st, void *ctx) {
        LabelWindowQuery *q = ctx;
        return metric_breakdown_add_sum(
                q->b, column_text(st, 0), q->totals, q->k, sqlite3_column_double(st, 1));
}

int store_query_metric_history(Store *s, const char *node, MetricWindow windows[_METRIC_WINDOW_MAX],
        MetricBreakdown breakdowns[_METRIC_LABEL_SERIES_MAX]) {
        sqlite3_stmt *st = s->query[QUERY_METRIC_LABEL_WINDOW];
        int r;

        pthread_mutex_lock(&s->rlock);
        r = step_done(s->rdb, s->query[QUERY_READ_BEGIN]);
        if (r >= 0)
                r = query_windows(s, node, windows, _METRIC_WINDOW_MAX);
        for (size_t l = 0; r >= 0 && l < _METRIC_LABEL_SERIES_MAX; l++)
                for (MetricWindowKind k = 0; r >= 0 && k < _METRIC_WINDOW_MAX; k++) {
                        bind_text(st, 1, node);
                        sqlite3_bind_int(st, 2, (int)breakdowns[l].series);
                        sqlite3_bind_int64(st, 3, windows[k].from_ms);
                        sqlite3_bind_int64(st, 4, windows[k].to_ms);
                        r = for_each_row(s->rdb, st, metric_label_window_row,
                                &(LabelWindowQuery){.b = &breakdowns[l], .totals = windows, .k = k});
                }
        if (!sqlite3_get_autocommit(s->rdb))
                (void)step_done(s->rdb, s->query[QUERY_READ_END]);
        pthread_mutex_unlock(&s->rlock);
        return r;
}
