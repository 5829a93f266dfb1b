/// Counts every call the recorder sees into series (method, route,
/// status), on the request path: a lock held for a dictionary lookup and a
/// few additions, no allocation once the series exists. Once per window
/// the sender cuts the window (``cutWindow(at:isFinal:)``), which clears
/// the series' slots and adds them to the totals since start.
///
/// What only identified events know (consumers, server errors, validation
/// errors) is tallied as the sender processes each call
/// (``Attribution``) and added once a batch (``merge(_:)``), or added from
/// a batch's records (``attribute(_:validationErrors:)``).
///
/// Every axis a client controls is bounded, and each fold is counted:
/// methods outside the registry count as ``SeriesKey/otherMethod``
/// (``Totals/otherMethodRequests``), routes are cut to
/// ``SeriesKey/maxRouteBytes``, series past ``Options/maxSeries`` fold into
/// ``SeriesKey/otherRoute`` (``Totals/foldedRequests``), consumers past
/// ``Options/maxConsumers`` into one ``ConsumerMetrics/otherConsumersID``
/// row (``Totals/foldedConsumerRequests``), error groups past
/// ``Options/maxGroups`` are counted and left out, and every text kept is
/// cut in bytes.
final class Aggregator: CallObserver, Sendable {
    struct Options: Sendable {
        /// The most series; later ones fold into ``SeriesKey/otherRoute``.
        var maxSeries = 1_000
        /// The most consumers kept per window and in total; later ones
        /// count in the ``ConsumerMetrics/otherConsumersID`` row.
        var maxConsumers = 500
        /// The most paths remembered with their normalised template.
        var maxCachedPaths = 4_096
        /// The most error and validation groups kept per window and in total.
        var maxGroups = 200
        /// How many windows the recent history keeps (the dashboard's chart).
        var recentWindows = 60
        /// How many processed calls the recent list keeps.
        var recentCalls = 50
    }

    /// What identified events add to a window or to the totals.
    struct Attributed: Sendable {
        var consumers: [String: ConsumerMetrics] = [:]
        /// The calls of consumers past the limit.
        var otherConsumers = ConsumerMetrics(id: ConsumerMetrics.otherConsumersID)
        var anonymous: Double = 0
        var serverErrors: [[String]: ServerErrorGroup] = [:]
        var validationErrors: [[String]: ValidationErrorGroup] = [:]
        var foldedGroups = 0

        var attributedRequests: Double {
            consumers.values.reduce(anonymous + otherConsumers.requests) { $0 + $1.requests }
        }

        /// The consumers, most calls first, with the folded row when it counts any.
        var consumerRows: [ConsumerMetrics] {
            var rows = Array(consumers.values)
            if otherConsumers.requests > 0 { rows.append(otherConsumers) }
            return rows.sorted(by: Aggregator.byRequests)
        }

        mutating func merge(_ other: Attributed, maxGroups: Int, maxConsumers: Int) {
            for (id, consumer) in other.consumers {
                if consumers[id] != nil {
                    consumers[id]?.merge(consumer)
                } else if consumers.count < maxConsumers {
                    consumers[id] = consumer
                } else {
                    otherConsumers.merge(
                        ConsumerMetrics(
                            id: ConsumerMetrics.otherConsumersID, requests: consumer.requests,
                            clientErrors: consumer.clientErrors, serverErrors: consumer.serverErrors))
                }
            }
            otherConsumers.merge(other.otherConsumers)
            anonymous += other.anonymous
            for (key, group) in other.serverErrors {
                if serverErrors[key] != nil {
                    serverErrors[key]?.merge(group)
                } else if serverErrors.count < maxGroups {
                    serverErrors[key] = group
                } else {
                    foldedGroups += 1
                }
            }
            for (key, group) in other.validationErrors {
                if validationErrors[key] != nil {
                    validationErrors[key]?.count += group.count
                } else if validationErrors.count < maxGroups {
                    validationErrors[key] = group
                } else {
                    foldedGroups += 1
                }
            }
        }
    }

    private struct State {
        var slots: [SeriesKey: SeriesSlots] = [:]
        /// Series and paths found recently (see ``RecentCaches``).
        let recent = RecentCaches()
        var windowStart: Int64
        var windowFolded = 0
        /// Calls left out of the logs by an exclusion, this window and since start.
        var windowExcluded = 0
        var totalExcluded = 0
        var windowOtherMethods = 0
        var templates: [String: String] = [:]
        var window = Attributed()
        // Since start.
        var totals: [SeriesKey: SeriesMetrics] = [:]
        var totalFolded = 0
        var totalOtherMethods = 0
        var attributedTotals = Attributed()
        var windows: [WindowTotals] = []
        var recentCalls: [RecentCall] = []
    }

    static let cacheSize = 64
    static let pathCacheSize = 256

    let options: Options
    let startedAtNanoseconds: Int64
    private let state: AdaptiveMutex<State>

    init(options: Options = Options(), now: Int64 = CaptureClock.wallNanoseconds()) {
        self.options = options
        self.startedAtNanoseconds = now
        self.state = AdaptiveMutex(State(windowStart: now))
    }

    deinit {
        state.withLock { $0.recent.release() }
    }

    // MARK: - The request path

    func observe(_ call: borrowing CallSummary, outcome: AdmissionOutcome) {
        let isRegistered = HTTPMethods.isRegistered(call.method)
        let method = isRegistered ? call.method : SeriesKey.otherMethod
        let lock = self.state.unsafe
        let state = lock.lock()
        defer { lock.unlock() }
        if !isRegistered { state.pointee.windowOtherMethods += 1 }
        if outcome == .filtered { state.pointee.windowExcluded += 1 }
        let slots: Unmanaged<SeriesSlots>
        if let route = call.route {
            if route.utf8.count > SeriesKey.maxRouteBytes {
                let cut = TextLimit.cut(route, maxBytes: SeriesKey.maxRouteBytes)
                slots = lookUp(method: method, route: cut, status: call.status, isNamedRoute: true, &state.pointee)
            } else {
                slots = lookUp(method: method, route: route, status: call.status, isNamedRoute: true, &state.pointee)
            }
        } else {
            let route = routeOfUnnamed(call, &state.pointee)
            slots = lookUp(method: method, route: route, status: call.status, isNamedRoute: false, &state.pointee)
        }
        slots._withUnsafeGuaranteedRef {
            $0.add(
                status: call.status, durationNanoseconds: call.durationNanoseconds,
                requestBodyBytes: call.requestBodyBytes, responseBodyBytes: call.responseBodyBytes)
        }
    }

    /// The slots of a series: from the recent cache when its key is where
    /// the key's cheap hash (lengths and status) points, else from the
    /// dictionary (and then cached), else new.
    @inline(__always)
    private func lookUp(
        method: borrowing String, route: borrowing String, status: Int, isNamedRoute: Bool, _ state: inout State
    ) -> Unmanaged<SeriesSlots> {
        let index = (route.utf8.count &* 31 &+ method.utf8.count &* 7 &+ status) & (Self.cacheSize - 1)
        let cached = state.recent.keys + index
        if cached.pointee.status == status && cached.pointee.route == route && cached.pointee.method == method {
            let slots = state.recent.slots[index]
            // A route folded past the limit stays folded: each of its calls counts as folded, cached or not.
            if slots._withUnsafeGuaranteedRef({ $0.isFoldedSeries }) && route != SeriesKey.otherRoute { state.windowFolded += 1 }
            return slots
        }
        let key = SeriesKey(method: copy method, route: copy route, status: status)
        let slots = state.slots[key] ?? makeSlots(key, isNamedRoute: isNamedRoute, &state)
        cached.pointee = key
        state.recent.slots[index] = Unmanaged.passUnretained(slots)
        return state.recent.slots[index]
    }

    /// The series of a call the server named no route for: a path
    /// normalised into a template (remembered), or one folded route.
    private func routeOfUnnamed(_ call: borrowing CallSummary, _ state: inout State) -> String {
        if call.status == 404 || call.status == 405 { return SeriesKey.unmatchedRoute }
        guard let target = call.target else { return SeriesKey.unknownRoute }
        let cached = state.recent.paths + Self.pathCacheIndex(target)
        if cached.pointee.path == target { return cached.pointee.template }
        let template: String
        if let known = state.templates[target] {
            template = known
        } else {
            template = RouteNormalizer.template(ofTarget: target)
            if state.templates.count >= options.maxCachedPaths { state.templates.removeAll(keepingCapacity: true) }
            state.templates[target] = template
        }
        cached.pointee = (target, template)
        return template
    }

    /// Where a path goes in the recent-paths cache: FNV-1a over its first
    /// 64 bytes and its length. A collision costs a miss, nothing more.
    @inline(__always)
    private static func pathCacheIndex(_ path: String) -> Int {
        let hash =
            path.utf8.withContiguousStorageIfAvailable { bytes in
                var hash: UInt32 = 2_166_136_261
                for byte in bytes.prefix(64) { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
                return hash ^ UInt32(truncatingIfNeeded: bytes.count)
            } ?? UInt32(truncatingIfNeeded: path.utf8.count)
        return Int(hash) & (pathCacheSize - 1)
    }

    /// A new series' slots; past the limit, the folded series of its method
    /// and status.
    private func makeSlots(_ key: SeriesKey, isNamedRoute: Bool, _ state: inout State) -> SeriesSlots {
        if state.slots.count >= options.maxSeries && key.route != SeriesKey.otherRoute {
            state.windowFolded += 1
            let folded = SeriesKey(method: key.method, route: SeriesKey.otherRoute, status: key.status)
            return state.slots[folded] ?? makeSlots(folded, isNamedRoute: false, &state)
        }
        let slots = SeriesSlots(isNamedRoute: isNamedRoute)
        slots.isFoldedSeries = key.route == SeriesKey.otherRoute
        state.slots[key] = slots
        return slots
    }

    // MARK: - The sender

    /// Adds what the processed calls of a batch say of consumers, server
    /// errors and validation errors; each counts with its sampling weight.
    func attribute(_ records: [ExchangeRecord], validationErrors: (ExchangeRecord) -> [ValidationProblem]) {
        guard !records.isEmpty else { return }
        var attribution = Attribution()
        for index in records.indices {
            attribution.tally(records[index], validationErrors: validationErrors)
        }
        merge(attribution)
    }

    /// Adds a batch's attribution, tallied as its calls were processed.
    func merge(_ attribution: consuming Attribution) {
        guard !attribution.isEmpty else { return }
        let keep = options.recentCalls
        let (attributed, recent) = (attribution.attributed, attribution.recent)
        state.withLock { state in
            state.window.merge(attributed, maxGroups: options.maxGroups, maxConsumers: options.maxConsumers)
            state.recentCalls.append(contentsOf: recent.suffix(keep))
            if state.recentCalls.count > keep { state.recentCalls.removeFirst(state.recentCalls.count - keep) }
        }
    }

    /// What a batch's processed calls say of consumers, server errors,
    /// validation errors and the recent calls, tallied one call at a time
    /// where the call is made (on the processing thread, while the record
    /// is the processor's own: reading it from the batch's array afterwards
    /// copied every record, a retain of each of its fields), and added to
    /// the metrics at once by ``Aggregator/merge(_:)``.
    struct Attribution: Sendable {
        /// The most recent calls a batch keeps for the list; the list
        /// itself keeps ``Options/recentCalls`` of them.
        static let maxRecent = Options().recentCalls
        fileprivate var attributed = Attributed()
        fileprivate var recent: [RecentCall] = []
        /// The calls tallied.
        private(set) var count = 0

        var isEmpty: Bool { count == 0 }

        /// Adds one processed call.
        mutating func tally(
            _ record: borrowing ExchangeRecord,
            validationErrors: (ExchangeRecord) -> [ValidationProblem] = ValidationProblems.of
        ) {
            Aggregator.tally(record, into: &attributed, recent: &recent, validationErrors: validationErrors)
            count += 1
            if recent.count >= 2 * Self.maxRecent { recent.removeFirst(recent.count - Self.maxRecent) }
        }

        /// Adds another batch's tally (calls processed after this one's).
        mutating func append(_ other: consuming Attribution) {
            attributed.merge(other.attributed, maxGroups: .max, maxConsumers: .max)
            recent.append(contentsOf: other.recent)
            count += other.count
        }
    }

    fileprivate static func tally(
        _ record: borrowing ExchangeRecord, into batch: inout Attributed, recent: inout [RecentCall],
        validationErrors: (ExchangeRecord) -> [ValidationProblem]
    ) {
        let status = record.response?.status ?? 0
        let weight = record.weight
        if let consumer = record.consumer {
            batch.consumers[consumer.id, default: ConsumerMetrics(id: consumer.id, name: consumer.name, group: consumer.group)]
                .merge(
                    ConsumerMetrics(
                        id: consumer.id, requests: weight,
                        clientErrors: (400..<500).contains(status) ? weight : 0, serverErrors: status >= 500 ? weight : 0))
        } else {
            batch.anonymous += weight
        }
        // Grouped as the series are: a registered method or `_OTHER`, a
        // route cut in bytes, texts cut in bytes.
        let method = HTTPMethods.seriesMethod(record.request.method)
        let route =
            record.request.route.map { TextLimit.cut($0, maxBytes: SeriesKey.maxRouteBytes) }
            ?? RouteNormalizer.template(ofTarget: record.request.target)
        if status >= 500 || (status == 0 && !record.errors.isEmpty) {
            let error = record.errors.first?.bounded()
            let group = ServerErrorGroup(
                method: method, route: route, type: error?.type ?? "HTTP \(status)",
                message: error?.message ?? "", location: error?.location,
                causes: error?.causes ?? [], count: weight,
                firstSeenNanoseconds: record.startTimeNanoseconds, lastSeenNanoseconds: record.startTimeNanoseconds)
            if batch.serverErrors[group.groupKey] != nil {
                batch.serverErrors[group.groupKey]?.merge(group)
            } else {
                batch.serverErrors[group.groupKey] = group
            }
        }
        for problem in validationErrors(record) {
            let group = ValidationErrorGroup(
                method: method, route: route, field: problem.field, type: problem.type,
                message: problem.message, count: weight)
            if batch.validationErrors[group.groupKey] != nil {
                batch.validationErrors[group.groupKey]?.count += weight
            } else {
                batch.validationErrors[group.groupKey] = group
            }
        }
        recent.append(
            RecentCall(
                timeNanoseconds: record.startTimeNanoseconds,
                method: TextLimit.cut(record.request.method, maxBytes: HTTPMethods.maxRecordedBytes),
                target: TextLimit.cut(record.request.target, maxBytes: RecentCall.maxTargetBytes),
                route: record.request.route.map { TextLimit.cut($0, maxBytes: SeriesKey.maxRouteBytes) }, status: status,
                durationNanoseconds: record.durationNanoseconds, consumer: record.consumer?.id))
    }

    /// Ends the current window at `now` and starts the next: its series'
    /// slots are read and cleared, and everything is added to the totals.
    func cutWindow(at now: Int64 = CaptureClock.wallNanoseconds(), isFinal: Bool = false) -> MetricsWindow {
        let maxGroups = options.maxGroups, maxConsumers = options.maxConsumers, recentWindows = options.recentWindows
        return state.withLock { state in
            var series: [SeriesMetrics] = []
            for (key, slots) in state.slots {
                guard let metrics = slots.take(key) else { continue }
                series.append(metrics)
                if state.totals[key] != nil { state.totals[key]?.merge(metrics) } else { state.totals[key] = metrics }
            }
            series.sort { $0.key < $1.key }
            let window = MetricsWindow(
                startNanoseconds: state.windowStart, endNanoseconds: now, series: series,
                consumers: state.window.consumerRows,
                anonymousRequests: state.window.anonymous,
                unattributedRequests: max(
                    0,
                    Double(series.reduce(0) { $0 + $1.requests }) - state.window.attributedRequests - Double(state.windowExcluded)
                ),
                excludedRequests: Double(state.windowExcluded),
                serverErrors: state.window.serverErrors.values.sorted(by: Self.byCount),
                validationErrors: state.window.validationErrors.values.sorted(by: Self.byCount),
                foldedRequests: state.windowFolded, otherMethodRequests: state.windowOtherMethods,
                foldedConsumerRequests: state.window.otherConsumers.requests, isFinal: isFinal)
            state.attributedTotals.merge(state.window, maxGroups: maxGroups, maxConsumers: maxConsumers)
            state.totalFolded += state.windowFolded
            state.totalExcluded += state.windowExcluded
            state.windowExcluded = 0
            state.totalOtherMethods += state.windowOtherMethods
            state.window = Attributed()
            state.windowFolded = 0
            state.windowOtherMethods = 0
            state.windowStart = now
            state.windows.append(
                WindowTotals(
                    startNanoseconds: window.startNanoseconds, endNanoseconds: now, requests: window.requests,
                    clientErrors: series.reduce(0) { $0 + $1.clientErrors },
                    serverErrors: series.reduce(0) { $0 + $1.serverErrors }))
            if state.windows.count > recentWindows { state.windows.removeFirst(state.windows.count - recentWindows) }
            return window
        }
    }

    /// Everything since start, the current window included (read, not cleared).
    func totals() -> Totals {
        // Under the lock, only references to the state's collections (no
        // element is copied) and the current window's figures; the merges
        // and sorts after it. A copy of the totals to merge into, made
        // under the lock, held every request's count for as long as it took.
        let read = state.withLock { state in
            var current: [(SeriesKey, SeriesMetrics)] = []
            current.reserveCapacity(state.slots.count)
            for (key, slots) in state.slots {
                if let metrics = slots.peek(key) { current.append((key, metrics)) }
            }
            return (
                totals: state.totals, current: current, attributed: state.attributedTotals, window: state.window,
                excluded: state.totalExcluded + state.windowExcluded, folded: state.totalFolded + state.windowFolded,
                otherMethods: state.totalOtherMethods + state.windowOtherMethods, windows: state.windows,
                recentCalls: state.recentCalls
            )
        }
        var series = read.totals
        for (key, current) in read.current {
            if series[key] != nil { series[key]?.merge(current) } else { series[key] = current }
        }
        var attributed = read.attributed
        attributed.merge(read.window, maxGroups: options.maxGroups, maxConsumers: options.maxConsumers)
        let all = series.values.sorted { $0.key < $1.key }
        let total = Double(all.reduce(0) { $0 + $1.requests })
        return Totals(
            startedAtNanoseconds: startedAtNanoseconds, series: all,
            consumers: attributed.consumerRows,
            anonymousRequests: attributed.anonymous,
            unattributedRequests: max(0, total - attributed.attributedRequests - Double(read.excluded)),
            excludedRequests: Double(read.excluded),
            serverErrors: attributed.serverErrors.values.sorted(by: Self.byCount),
            validationErrors: attributed.validationErrors.values.sorted(by: Self.byCount),
            foldedRequests: read.folded, otherMethodRequests: read.otherMethods,
            foldedConsumerRequests: attributed.otherConsumers.requests, limits: options, windows: read.windows,
            recentCalls: read.recentCalls)
    }

    /// The route templates the server has named so far, as `METHOD route`.
    func namedRoutes() -> [String] {
        state.withLock { state in
            Set(state.slots.compactMap { $0.value.isNamedRoute ? "\($0.key.method) \($0.key.route)" : nil }).sorted()
        }
    }

    fileprivate static func byRequests(_ left: ConsumerMetrics, _ right: ConsumerMetrics) -> Bool {
        left.requests != right.requests ? left.requests > right.requests : left.id < right.id
    }

    private static func byCount(_ left: ServerErrorGroup, _ right: ServerErrorGroup) -> Bool {
        left.count != right.count ? left.count > right.count : left.groupKey.lexicographicallyPrecedes(right.groupKey)
    }

    private static func byCount(_ left: ValidationErrorGroup, _ right: ValidationErrorGroup) -> Bool {
        left.count != right.count ? left.count > right.count : left.groupKey.lexicographicallyPrecedes(right.groupKey)
    }
}
