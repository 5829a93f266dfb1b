extension StoreReader {
    /// The operations discovery learnt, as stored (`nil` for a file made
    /// before discovery, whose tables come with the writer's next start).
    /// Rows that cannot be read are skipped.
    func apiOperations() throws(StoreReadError) -> [OperationShape] {
        try query { connection throws(SQLiteError) in
            guard try Self.hasDiscoveryTables(connection) else { return [] }
            let select = try connection.prepare("SELECT shape FROM api_operations ORDER BY route, method")
            var operations: [OperationShape] = []
            while try select.step() {
                if let operation = try? OperationShapeCodec.decode(select.blob(0)) { operations.append(operation) }
            }
            return operations
        }
    }

    /// The API's changes in `range`, newest first.
    func apiChanges(_ range: StoreTimeRange, limit: Int) throws(StoreReadError) -> [APIChange] {
        try query { connection throws(SQLiteError) in
            guard try Self.hasDiscoveryTables(connection) else { return [] }
            let select = try connection.prepare(
                """
                SELECT time, method, route, kind, location, detail, example_hi, example_lo FROM api_changes
                WHERE time >= ?1 AND time < ?2 ORDER BY time DESC, id DESC LIMIT ?3
                """)
            select.bind(1, range.from)
            select.bind(2, range.to)
            select.bind(3, limit)
            var changes: [APIChange] = []
            while try select.step() {
                guard let kind = APIChange.Kind(rawValue: select.text(3)) else { continue }
                changes.append(
                    APIChange(
                        time: select.int64(0), method: select.text(1), route: select.text(2), kind: kind,
                        location: select.text(4),
                        detail: select.text(5),
                        example: EventID(high: UInt64(bitPattern: select.int64(6)), low: UInt64(bitPattern: select.int64(7)))))
            }
            return changes
        }
    }

    /// The findings stored against the spec of `digest`, and how many
    /// rows were counted against other versions of the spec.
    func specFindings(digest: String) throws(StoreReadError) -> (findings: [SpecFinding], others: Int) {
        try query { connection throws(SQLiteError) in
            guard try connection.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'spec_findings'") > 0
            else {
                return ([], 0)
            }
            let select = try connection.prepare(
                """
                SELECT method, path, rule, location, count, first_seen, last_seen, example_hi, example_lo FROM spec_findings
                WHERE spec = ?1 ORDER BY count DESC LIMIT 10000
                """)
            select.bind(1, digest)
            var findings: [SpecFinding] = []
            while try select.step() {
                findings.append(
                    SpecFinding(
                        key: SpecConformance.FindingKey(
                            method: select.text(0), path: select.text(1), rule: select.text(2), location: select.text(3)),
                        finding: SpecConformance.Finding(
                            count: Int(select.int64(4)), firstSeen: select.int64(5), lastSeen: select.int64(6),
                            example: EventID(high: UInt64(bitPattern: select.int64(7)), low: UInt64(bitPattern: select.int64(8))))
                    ))
            }
            let others = try connection.prepare("SELECT count(*) FROM spec_findings WHERE spec <> ?1")
            others.bind(1, digest)
            _ = try others.step()
            return (findings.sorted(), Int(others.int64(0)))
        }
    }

    private static func hasDiscoveryTables(_ connection: SQLiteConnection) throws(SQLiteError) -> Bool {
        try connection.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'api_changes'") > 0
    }
}
