import Synchronization

/// Remembered answers of a ``NameSet``, bounded: past 4,096 names it starts over.
final class NameCache: Sendable {
    private let answers = Mutex<[String: Bool]>([:])

    func answer(for name: String) -> Bool? {
        answers.withLock { $0[name] }
    }

    func remember(_ answer: Bool, for name: String) {
        answers.withLock { answers in
            if answers.count >= 4096 { answers.removeAll(keepingCapacity: true) }
            answers[name] = answer
        }
    }
}
