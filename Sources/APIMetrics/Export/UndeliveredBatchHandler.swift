/// Takes the batches the sender gives up on: the give-up seam, where a disk
/// spool or a dead-letter store of your own plugs in.
///
/// The sender calls ``handle(_:)`` once per batch and exporter it abandons:
/// after the retry budget is spent, when the exporter refuses the batch for
/// good, and when the shutdown deadline passes (then also for what was still
/// queued, processed without your closures). It runs on the sender and
/// delays the next batch, and at shutdown the shutdown itself: return quickly.
///
/// ```swift
/// struct DeadLetters: UndeliveredBatchHandler {
///     let directory: String
///     func handle(_ batch: UndeliveredBatch) async {
///         guard batch.reason.isWorthRetrying else { return }
///         let path = "\(directory)/\(batch.abandonedAtNanoseconds).batch"
///         FileManager.default.createFile(atPath: path, contents: Data(batch.serialized()))
///     }
/// }
/// config.undeliveredBatchHandler = DeadLetters(directory: "/var/spool/orders-api")
/// ```
public protocol UndeliveredBatchHandler: Sendable {
    /// Takes one abandoned batch of one exporter.
    func handle(_ batch: UndeliveredBatch) async
}
