extension BenchmarkHooks {
    /// The store's writer as the benchmark drives it: batches exported one
    /// at a time, retention on demand, and single-integer queries on the
    /// writer's own connection (page counts, `dbstat` sums) for the bytes
    /// the store takes.
    package final class StoreHandle: Sendable {
        private let writer: StoreWriter

        /// Opens (or creates) the store at `path`, as the library does.
        package init(options: StoreOptions, metricsInterval: Duration) throws {
            writer = try StoreWriter(options: options, metricsInterval: metricsInterval, field: "bench.store")
        }

        /// The writer itself, for an exporter's place in a configuration.
        package var exporter: any EventExporter { writer }

        /// Hands the batch over, as the sender does (it waits for a commit
        /// only when too many calls wait).
        package func export(_ batch: ExportBatch) async throws {
            try await writer.export(batch)
        }

        /// Commits what waits; returns when it is written.
        package func flush() async {
            await writer.flush()
        }

        /// Calls committed and calls lost since the writer started, the
        /// transactions, and the CPU time the writer's thread spent in them.
        package var counts: (written: Int, dropped: Int, commits: Int, commitCPUNanoseconds: Int64) {
            let status = writer.currentStatus
            return (status.writtenCalls, status.droppedCalls, status.commits, status.commitCPUNanoseconds)
        }

        /// Runs retention as if the wall clock read `now`; returns the calls deleted.
        package func enforceRetention(nowNanoseconds now: Int64) async -> Int {
            await writer.runForTesting { state in (try? state.enforceRetention(nowNanoseconds: now)) ?? -1 }
        }

        /// The single integer `sql` answers on the writer's connection, `nil`
        /// when it fails.
        package func integer(_ sql: String) async -> Int64? {
            await writer.runForTesting { state in try? state.connection?.integer(sql) }
        }

        /// Marks the store closed cleanly, checkpoints and closes it.
        package func close() async {
            await writer.shutdown()
        }
    }
}
