/// What an exchange keeps under its lock while it is being captured.
extension ActiveExchange {
    /// Noncopyable: built once, moved into the lock, never copied whole.
    struct State: ~Copyable {
        var request: RequestHead
        var requestBody: BodyAccumulator
        var response: ResponseHead?
        var responseBody: BodyAccumulator
        /// What few exchanges carry, out of line: the state is copied once
        /// as it is built, and a small one copies fast.
        var rareStorage: RareBox?
        var weight: Double = 1
        var end: Int64 = 0
        var isFinished = false

        init(
            request: RequestHead, requestBody: BodyAccumulator, responseBody: BodyAccumulator, traceID: String?,
            remoteParentSpanID: UInt64? = nil
        ) {
            self.request = request
            self.requestBody = requestBody
            self.responseBody = responseBody
            if let traceID { rareStorage = .value(Rare(traceID: traceID, remoteParentSpanID: remoteParentSpanID)) }
        }

        /// Read or replaced whole; replacing allocates a new box, which only
        /// the rare calls that set these fields do.
        var rare: Rare {
            get {
                if case let .value(rare)? = rareStorage { return rare }
                return Rare()
            }
            set { rareStorage = .value(newValue) }
        }

        /// A field-by-field copy, for a record built while the exchange keeps its own.
        func copy() -> State {
            var copy = State(request: request, requestBody: requestBody, responseBody: responseBody, traceID: nil)
            copy.response = response
            copy.rareStorage = rareStorage
            copy.weight = weight
            copy.end = end
            copy.isFinished = isFinished
            return copy
        }

        var errorCount: Int {
            if case let .value(rare)? = rareStorage { return rare.errors.count }
            return 0
        }
    }

    struct Rare {
        var consumer: Consumer?
        var errors: [RecordedError] = []
        var droppedErrors = 0
        var validationProblems: [ValidationProblem] = []
        var droppedValidationProblems = 0
        var metadata: [String: String] = [:]
        var traceID: String?
        var parentID: EventID?
        /// The span the incoming `traceparent` named as this call's parent.
        var remoteParentSpanID: UInt64?
    }

    /// An immutable box: a copy of the state shares it, a change replaces it.
    indirect enum RareBox {
        case value(Rare)
    }
}
