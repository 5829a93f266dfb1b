import Synchronization

/// Learns the API from the calls, in the sender, before redaction: per
/// operation (method and route template) the path, query and header
/// parameters, the request and response bodies' JSON shapes per status and
/// media type, and how callers authenticated. Only shapes and counts are
/// kept, never a value.
///
/// Bounded: ``DiscoveryOptions/maxOperations`` operations (calls of later
/// ones are counted in ``Figures/unlearnt``), 32 query parameters and
/// headers, 4 media types and 32 statuses per operation, and the shape
/// limits of ``JSONShapeLimits``. Once an operation's shapes have not
/// changed for ``DiscoveryOptions/stableAfter`` calls, one call in
/// ``DiscoveryOptions/sampleEvery`` teaches it (statuses are counted on
/// every call, and a new status is always learnt).
final class APIDiscovery: Sendable {
    let options: DiscoveryOptions
    /// The headers the consumer identification reads an API key from.
    let apiKeyHeaders: [String]
    /// The schemes the consumer identification reads (declared even before a call uses them).
    let configuredSchemes: SecuritySchemes
    /// The team's spec each call is checked against (``DiscoveryOptions/specPath``), if any.
    let conformance: SpecConformance?
    private let state: Mutex<State>

    struct Key: Hashable, Sendable {
        var method: String
        var route: String
    }

    struct State: Sendable {
        var operations: [Key: OperationShape] = [:]
        /// Operations changed since they were last handed to the store.
        var dirty = Set<Key>()
        /// The latest changes, newest last (at most ``APIDiscovery/maxChanges``).
        var changes: [APIChange] = []
        /// Changes not yet handed to the sender (at most ``APIDiscovery/maxChanges``; older ones counted as dropped).
        var unsentChanges: [APIChange] = []

        mutating func noteChanges(_ new: [APIChange]) {
            figures.changes += new.count
            changes.append(contentsOf: new)
            if changes.count > APIDiscovery.maxChanges { changes.removeFirst(changes.count - APIDiscovery.maxChanges) }
            unsentChanges.append(contentsOf: new)
            if unsentChanges.count > APIDiscovery.maxChanges {
                figures.droppedChanges += unsentChanges.count - APIDiscovery.maxChanges
                unsentChanges.removeFirst(unsentChanges.count - APIDiscovery.maxChanges)
            }
        }
        /// Hosts seen in `Host` with the scheme they were reached on, and how often.
        var servers: [String: Int] = [:]
        /// The last server counted, as sent and where it is in ``servers``:
        /// most calls reach the one before, counted without building its URL.
        var lastServer: (host: String, isHTTPS: Bool, index: Dictionary<String, Int>.Index)?
        var figures = Figures()
        /// Calls learnt from so far: each call's number.
        var calls: UInt64 = 0
        /// Places held by every operation's body shapes.
        var nodes = 0
        /// Whether an earlier run's operations are still being read from the
        /// store: until then no change is reported (each would look new).
        var isLoading = false
        /// Calls that came while loading, learnt from once it is done.
        var waiting: [ExchangeRecord] = []
        /// The bytes of their bodies.
        var waitingBytes = 0
    }

    /// What discovery saw and did, for the pipeline's counters.
    struct Figures: Sendable, Hashable {
        /// Calls folded into the shapes.
        var learnt = 0
        /// Calls of a stable operation that the sampling passed over.
        var sampledOut = 0
        /// Calls without a route template (or outgoing), which name no operation.
        var unrouted = 0
        /// Calls of operations past ``DiscoveryOptions/maxOperations``.
        var unlearnt = 0
        /// JSON bodies that were not JSON, cut short, or still encoded.
        var unreadBodies = 0
        /// Changes of the API seen.
        var changes = 0
        /// Changes past an operation's ``APIDiscovery/maxChangesPerOperation`` this run, not logged.
        var suppressedChanges = 0
        /// Changes that could not be handed to the store in time (more than
        /// ``APIDiscovery/maxChanges`` waiting).
        var droppedChanges = 0
    }

    /// The most changes one operation logs in a run.
    static let maxChangesPerOperation = 100

    /// The most changes kept in memory and waiting for the store.
    static let maxChanges = 1_000

    /// The most servers listed.
    static let maxServers = 8

    init(options: DiscoveryOptions, identification: ConsumerIdentifier?, conformance: SpecConformance? = nil) {
        self.options = options
        self.conformance = conformance
        configuredSchemes = identification?.securitySchemes ?? SecuritySchemes()
        apiKeyHeaders = configuredSchemes.apiKeyHeaders
        state = Mutex(State())
    }

    /// Learns from one call (before redaction).
    func observe(_ record: ExchangeRecord) {
        conformance?.check(record)
        // Methods of the HTTP registry only: a route that takes any method
        // would otherwise let a client name operations.
        guard record.direction == .incoming, let route = record.request.route, !route.isEmpty,
            route != SeriesKey.otherRoute, Self.isLearnt(method: record.request.method)
        else {
            state.withLock { $0.figures.unrouted += 1 }
            return
        }
        state.withLock { state in
            // While an earlier run's operations are read, calls wait (so that
            // what they change is told against what was learnt before).
            guard !state.isLoading else {
                let bytes = record.requestBody.bytes.count + record.responseBody.bytes.count
                if state.waiting.count < Self.maxWaiting, state.waitingBytes + bytes <= Self.maxWaitingBytes {
                    state.waiting.append(record)
                    state.waitingBytes += bytes
                } else {
                    state.figures.unlearnt += 1
                }
                return
            }
            learn(record, route: route, in: &state)
        }
    }

    /// Whether operations are learnt for `method`: OpenAPI's methods only.
    static func isLearnt(method: String) -> Bool {
        switch method {
        case "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE": true
        default: false
        }
    }

    /// The most places (members and items) all body shapes hold together:
    /// at about 200 bytes a place, 20 MB at the most.
    static let maxNodes = 100_000

    /// The most calls that wait for the store's operations to be read.
    static let maxWaiting = 1_000
    /// The most body bytes those calls hold.
    static let maxWaitingBytes = 8 << 20

    private func learn(_ record: ExchangeRecord, route: String, in state: inout State) {
        let key = Key(method: record.request.method, route: route)
        state.calls &+= 1
        var reporter = OperationLearner.Reporter(
            isOn: false, time: record.startTimeNanoseconds, method: key.method, route: key.route, example: record.id,
            call: state.calls)
        reporter.nodeBudget = Self.maxNodes - state.nodes
        var found = state.operations.index(forKey: key)
        if found == nil {
            guard state.operations.count < options.maxOperations else {
                state.figures.unlearnt += 1
                return
            }
            state.operations[key] = OperationShape(
                method: key.method, route: key.route, time: record.startTimeNanoseconds, call: record.id)
            reporter.isOn = true
            reporter.add(.newEndpoint, "\(key.method) \(key.route)")
            found = state.operations.index(forKey: key)
        }
        guard let index = found else { return }
        let learnt = OperationLearner.fold(
            record, into: &state.operations.values[index], options: options, limits: options.shapeLimits,
            apiKeyHeaders: apiKeyHeaders, reporter: &reporter)
        state.nodes += reporter.nodesAdded
        if !reporter.changes.isEmpty {
            // At most maxChangesPerOperation each run: a client cannot flood the log.
            let allowed = max(0, Self.maxChangesPerOperation - state.operations.values[index].changesReported)
            state.operations.values[index].changesReported += min(allowed, reporter.changes.count)
            state.figures.suppressedChanges += max(0, reporter.changes.count - allowed)
            if allowed > 0 { state.noteChanges(Array(reporter.changes.prefix(allowed))) }
        }
        state.dirty.insert(key)
        switch learnt {
        case .learnt:
            state.figures.learnt += 1
            Self.noteServer(record.request.headers, in: &state)
        case .sampledOut:
            state.figures.sampledOut += 1
        }
        state.figures.unreadBodies += learnt.unreadBodies
    }

    /// The operations learnt so far, by path and method, with the servers and figures.
    func snapshot() -> Snapshot {
        let limits = options.shapeLimits
        return state.withLock { state in
            // Routes that differ only in how they are written (`/a` and `a`,
            // `{id}` and `:id`) are one operation of the document.
            var byPath: [String: OperationShape] = [:]
            for operation in state.operations.values {
                let key = operation.method + " " + operation.openAPIPath
                if var existing = byPath[key] {
                    existing.merge(operation, limits: limits)
                    byPath[key] = existing
                } else {
                    byPath[key] = operation
                }
            }
            let operations = byPath.values.sorted {
                ($0.openAPIPath, $0.method) < ($1.openAPIPath, $1.method)
            }
            let servers =
                options.servers.isEmpty
                ? Array(state.servers.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(Self.maxServers).map(\.key))
                : options.servers
            return Snapshot(
                operations: operations, servers: servers, serversAreConfigured: !options.servers.isEmpty, figures: state.figures)
        }
    }

    /// The operations changed since the last call, encoded for the store;
    /// each is handed over once.
    func takeUnsaved() -> [(method: String, route: String, shape: [UInt8])] {
        // Copied under the lock (the shapes are shared, not copied), encoded outside it.
        let operations = state.withLock { state in
            defer { state.dirty.removeAll(keepingCapacity: true) }
            return state.dirty.compactMap { state.operations[$0] }
        }
        return operations.map { ($0.method, $0.route, OperationShapeCodec.encode($0)) }
    }

    /// Marks operations as changed again (a write of them failed).
    func markUnsaved(_ keys: [Key]) {
        state.withLock { $0.dirty.formUnion(keys) }
    }

    /// The changes seen since the last call, oldest first, for the sender
    /// to hand to every exporter with the metrics window.
    func takeChanges() -> [APIChange] {
        state.withLock { state in
            defer { state.unsentChanges.removeAll(keepingCapacity: true) }
            return state.unsentChanges
        }
    }

    /// The heartbeat's counts.
    var counts: Heartbeat.DiscoveryCounts {
        state.withLock { state in
            Heartbeat.DiscoveryCounts(
                operations: state.operations.count, changes: state.figures.changes, learntCalls: state.figures.learnt)
        }
    }

    /// Merges operations learnt before (an earlier run's, read from the
    /// store) into what this run learnt; past ``DiscoveryOptions/maxOperations``
    /// the rest are left out.
    func merge(stored: [OperationShape]) {
        let limits = options.shapeLimits
        state.withLock { state in
            for var operation in stored {
                // The places the stored shapes hold count against the budget.
                for index in operation.requestBodies.indices {
                    operation.requestBodies[index].nodes = operation.requestBodies[index].shape.nodeCount
                }
                for status in operation.responses.indices {
                    for index in operation.responses[status].bodies.indices {
                        operation.responses[status].bodies[index].nodes =
                            operation.responses[status].bodies[index].shape.nodeCount
                    }
                }
                let nodes =
                    operation.requestBodies.reduce(0) { $0 + $1.nodes }
                    + operation.responses.reduce(0) { total, response in total + response.bodies.reduce(0) { $0 + $1.nodes } }
                guard state.nodes + nodes <= Self.maxNodes else { continue }
                state.nodes += nodes
                let key = Key(method: operation.method, route: operation.route)
                if let index = state.operations.index(forKey: key) {
                    state.operations.values[index].merge(operation, limits: limits)
                } else if state.operations.count < options.maxOperations {
                    state.operations[key] = operation
                }
            }
        }
    }

    /// Says that an earlier run's operations are on their way from the
    /// store (``merge(stored:)``, then ``finishLoading()``).
    func startLoading() {
        state.withLock { $0.isLoading = true }
    }

    /// Learns from the calls that waited for the store's operations.
    func finishLoading() {
        state.withLock { state in
            state.isLoading = false
            let waiting = state.waiting
            state.waiting = []
            state.waitingBytes = 0
            for record in waiting { learn(record, route: record.request.route ?? "", in: &state) }
        }
    }

    /// The latest changes, newest first.
    func recentChanges(limit: Int) -> [APIChange] {
        state.withLock { Array($0.changes.suffix(limit).reversed()) }
    }

    /// What ``snapshot()`` hands the document's writer.
    struct Snapshot: Sendable {
        var operations: [OperationShape]
        var servers: [String]
        /// Whether the servers are ``DiscoveryOptions/servers`` rather than the `Host` headers seen.
        var serversAreConfigured = false
        var figures: Figures
    }

    /// Counts the server the call reached: the scheme from
    /// `X-Forwarded-Proto` (http or https; http otherwise) and `Host`,
    /// when it reads as a host and port.
    private static func noteServer(_ headers: HeaderFields, in state: inout State) {
        guard let host = headers["host"] else { return }
        let isHTTPS = headers["x-forwarded-proto"].map { $0.utf8.count == 5 && $0.lowercased() == "https" } ?? false
        if let last = state.lastServer, last.host == host, last.isHTTPS == isHTTPS {
            state.servers.values[last.index] += 1
            return
        }
        guard HostName.isHostAndPort(host) else { return }
        let url = "\(isHTTPS ? "https" : "http")://\(host.lowercased())"
        if state.servers[url] != nil || state.servers.count < Self.maxServers * 4 {
            state.servers[url, default: 0] += 1
            // An insertion moves the indices: the cached one is taken again after each.
            state.lastServer = state.servers.index(forKey: url).map { (host, isHTTPS, $0) }
        }
    }
}

/// Checks that a `Host` value is a host name or address with an optional
/// port, nothing else (it is written into the document's `servers`).
enum HostName {
    static func isHostAndPort(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= 255 else { return false }
        var index = 0
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            for byte in bytes[1..<close] where !(isHex(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")) {
                return false
            }
            index = close + 1
        } else {
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                let byte = bytes[index]
                guard
                    isHex(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                else { return false }
                index += 1
            }
            guard index > 0 else { return false }
        }
        guard index < bytes.count else { return true }
        guard bytes[index] == UInt8(ascii: ":"), index + 1 < bytes.count, bytes.count - index - 1 <= 5 else { return false }
        return bytes[(index + 1)...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }
}
