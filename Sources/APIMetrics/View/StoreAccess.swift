import Synchronization

/// The view's way into the store: a reader opened on first use (the writer
/// creates the file's tables on its own queue, after the view exists) and
/// the writer's status.
final class StoreAccess: Sendable {
    let path: String
    let options: StoreOptions?
    let status: StoreStatusCell?
    private let reader = Mutex<StoreReader?>(nil)

    init(path: String, options: StoreOptions?, status: StoreStatusCell?) {
        self.path = path
        self.options = options
        self.status = status
    }

    /// The reader, or why there is none yet.
    func currentReader() -> Result<StoreReader, StoreReadError> {
        if let open = reader.withLock({ $0 }) { return .success(open) }
        do {
            let opened = try StoreReader(path: path)
            reader.withLock { $0 = opened }
            return .success(opened)
        } catch {
            return .failure(error)
        }
    }
}
