/// The writer's prepared statements, compiled once per connection.
final class StoreStatements {
    let begin: SQLiteStatement
    let commit: SQLiteStatement
    let rollback: SQLiteStatement
    let insertBlock: SQLiteStatement
    let insertUntimed: SQLiteStatement
    let endpoint: SQLiteStatement
    let series: SQLiteStatement
    let consumer: SQLiteStatement
    let consumerSeen: SQLiteStatement
    let readMetrics: SQLiteStatement
    let writeMetrics: SQLiteStatement
    let addConsumerMetrics: SQLiteStatement
    let errorGroup: SQLiteStatement
    let addErrorCount: SQLiteStatement
    let run: SQLiteStatement
    let heartbeat: SQLiteStatement
    let pipeline: SQLiteStatement
    let profile: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(SQLiteError) {
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
        rollback = try connection.prepare("ROLLBACK")
        insertBlock = try connection.prepare(
            """
            INSERT INTO call_blocks(first_time, last_time, count, server_errors, endpoints, consumers, classes, calls, records)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?9, ?7, ?8) RETURNING id
            """)
        insertUntimed = try connection.prepare(
            "INSERT OR IGNORE INTO call_untimed(event_hi, event_lo, block_id) VALUES (?1, ?2, ?3)")
        endpoint = try connection.prepare(
            """
            INSERT INTO endpoints(method, route) VALUES (?1, ?2)
            ON CONFLICT(method, route) DO UPDATE SET method = excluded.method RETURNING id
            """)
        series = try connection.prepare(
            """
            INSERT INTO series(method, route, status) VALUES (?1, ?2, ?3)
            ON CONFLICT(method, route, status) DO UPDATE SET status = excluded.status RETURNING id
            """)
        consumer = try connection.prepare(
            """
            INSERT INTO consumers(consumer, name, email, company, grp, metadata, first_seen, last_seen)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
            ON CONFLICT(consumer) DO UPDATE SET
                name = coalesce(excluded.name, name), email = coalesce(excluded.email, email),
                company = coalesce(excluded.company, company), grp = coalesce(excluded.grp, grp),
                metadata = coalesce(excluded.metadata, metadata),
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            RETURNING id
            """)
        consumerSeen = try connection.prepare("UPDATE consumers SET last_seen = max(last_seen, ?2) WHERE id = ?1")
        readMetrics = try connection.prepare(
            """
            SELECT requests, client_errors, server_errors, request_bytes, response_bytes, sketch FROM metrics
            WHERE tier = ?1 AND series_id = ?2 AND start = ?3
            """)
        writeMetrics = try connection.prepare(
            """
            INSERT OR REPLACE INTO metrics(tier, series_id, start, requests, client_errors, server_errors,
                request_bytes, response_bytes, sketch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """)
        addConsumerMetrics = try connection.prepare(
            """
            INSERT INTO consumer_metrics(tier, consumer_id, start, requests, client_errors, server_errors)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT(tier, consumer_id, start) DO UPDATE SET requests = requests + excluded.requests,
                client_errors = client_errors + excluded.client_errors, server_errors = server_errors + excluded.server_errors
            """)
        errorGroup = try connection.prepare(
            """
            INSERT INTO error_groups(kind, method, route, type, message, field, location, first_seen, last_seen)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT(kind, method, route, type, message, field) DO UPDATE SET
                location = coalesce(excluded.location, location),
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            RETURNING id
            """)
        addErrorCount = try connection.prepare(
            """
            INSERT INTO error_counts(group_id, hour, count, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(group_id, hour) DO UPDATE SET count = count + excluded.count,
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """)
        run = try connection.prepare(
            """
            INSERT INTO runs(instance, started_at, last_seen, interval_ms, version, library_version)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT(instance, started_at) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen),
                version = coalesce(excluded.version, version), library_version = coalesce(excluded.library_version, library_version)
            RETURNING id
            """)
        heartbeat = try connection.prepare(
            """
            INSERT OR REPLACE INTO heartbeats(time, run_id, cpu_share, resident_bytes) VALUES (?1, ?2, ?3, ?4)
            """)
        pipeline = try connection.prepare("INSERT OR REPLACE INTO pipeline(time, run_id, statistics) VALUES (?1, ?2, ?3)")
        profile = try connection.prepare("INSERT OR REPLACE INTO profiles(kind, key, updated, profile) VALUES (?1, ?2, ?3, ?4)")
    }
}
