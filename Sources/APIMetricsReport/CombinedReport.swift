package import APIMetrics

/// The rows of `apimetrics report` over every file named: stores (one per
/// instance) and NDJSON files. Counts are summed and latency sketches
/// merged bucket by bucket, so the percentiles are those of every call in
/// every file, within 1%, as if one process had served them all.
package struct CombinedReport: Sendable {
    /// One method and route.
    package struct EndpointRow: Sendable, Equatable {
        package var method: String
        package var route: String
        package var calls = 0
        package var clientErrors = 0
        package var serverErrors = 0
        package var latency = LatencySketch()
        package var requestBytes: Int64 = 0
        package var responseBytes: Int64 = 0

        package var meanRequestBytes: Double? { calls == 0 ? nil : Double(requestBytes) / Double(calls) }
        package var meanResponseBytes: Double? { calls == 0 ? nil : Double(responseBytes) / Double(calls) }
    }

    /// One consumer; counts are weighted as the metrics count them (a
    /// sampled call stands for several).
    package struct ConsumerRow: Sendable, Equatable {
        package var id: String
        package var name: String?
        package var calls: Double = 0
        package var clientErrors: Double = 0
        package var serverErrors: Double = 0
    }

    package var range: StoreTimeRange
    /// Whether NDJSON windows are filtered by `range` (only when the user
    /// gave `--since` or `--until`).
    package var filtersNDJSON: Bool
    package private(set) var stores = 0
    package private(set) var ndjsonFiles = 0
    /// Every call, over all endpoints.
    package private(set) var calls = 0
    /// Calls identified as made by no consumer.
    package private(set) var anonymousCalls: Double = 0
    /// NDJSON lines that could not be read, left out and counted.
    package private(set) var malformedLines = 0
    /// Of those, the lines that were not JSON objects at all.
    package private(set) var nonObjectLines = 0
    /// NDJSON metrics windows read, and those left out by the range.
    package private(set) var windows = 0
    package private(set) var windowsOutsideRange = 0
    private var endpointRows: [String: EndpointRow] = [:]
    private var consumerRows: [String: ConsumerRow] = [:]

    package init(range: StoreTimeRange, filtersNDJSON: Bool) {
        self.range = range
        self.filtersNDJSON = filtersNDJSON
    }

    /// Calls left out of the logs on purpose by an exclusion (health checks, probes, the view).
    package private(set) var excludedCalls: Double = 0

    /// Calls attributed to no consumer, to no anonymous caller and not
    /// excluded: events dropped or not yet processed when their window closed.
    package var unattributedCalls: Double {
        max(0, Double(calls) - excludedCalls - consumerRows.values.reduce(anonymousCalls) { $0 + $1.calls })
    }

    /// The endpoints, most calls first, then by route and method.
    package var endpoints: [EndpointRow] {
        endpointRows.values.sorted { $0.calls != $1.calls ? $0.calls > $1.calls : ($0.route, $0.method) < ($1.route, $1.method) }
    }

    /// The consumers, most calls first, then by id.
    package var consumers: [ConsumerRow] {
        consumerRows.values.sorted { $0.calls != $1.calls ? $0.calls > $1.calls : $0.id < $1.id }
    }

    /// Adds one store's figures over the range.
    package mutating func add(store: StoreReader) throws(StoreReadError) {
        let totals = try store.totals(range)
        let endpoints = try store.endpoints(range)
        let (consumers, anonymous, excluded, _) = try store.consumers(range)
        stores += 1
        calls += totals.requests
        anonymousCalls += anonymous
        excludedCalls += excluded
        for endpoint in endpoints {
            add(
                endpoint: EndpointRow(
                    method: endpoint.method, route: endpoint.route, calls: endpoint.figures.requests,
                    clientErrors: endpoint.figures.clientErrors, serverErrors: endpoint.figures.serverErrors,
                    latency: endpoint.figures.latency, requestBytes: endpoint.figures.requestBytes,
                    responseBytes: endpoint.figures.responseBytes))
        }
        for consumer in consumers {
            add(
                consumer: ConsumerRow(
                    id: consumer.id, name: consumer.name, calls: consumer.requests, clientErrors: consumer.clientErrors,
                    serverErrors: consumer.serverErrors))
        }
    }

    /// Adds the metrics windows of one NDJSON file's text (those ending
    /// within the range when it filters NDJSON).
    package mutating func add(ndjson text: String) {
        var report = MetricsReport()
        report.add(ndjson: text, endingWithin: filtersNDJSON ? range : nil)
        add(report)
    }

    /// Adds an NDJSON report.
    package mutating func add(_ report: MetricsReport) {
        ndjsonFiles += 1
        calls += report.requests
        anonymousCalls += report.anonymousRequests
        excludedCalls += report.excludedRequests
        malformedLines += report.malformedLines
        nonObjectLines += report.nonObjectLines
        windows += report.windowCount
        windowsOutsideRange += report.windowsOutsideRange
        for endpoint in report.endpoints {
            add(
                endpoint: EndpointRow(
                    method: endpoint.method, route: endpoint.route, calls: endpoint.requests, clientErrors: endpoint.clientErrors,
                    serverErrors: endpoint.serverErrors, latency: endpoint.latency, requestBytes: endpoint.requestSizes.sumBytes,
                    responseBytes: endpoint.responseSizes.sumBytes))
        }
        for consumer in report.consumers {
            add(
                consumer: ConsumerRow(
                    id: consumer.id, name: consumer.name, calls: consumer.requests, clientErrors: consumer.clientErrors,
                    serverErrors: consumer.serverErrors))
        }
    }

    private mutating func add(endpoint: EndpointRow) {
        // The method and the route, unambiguously (a route may hold spaces).
        let key = "\(endpoint.method.utf8.count):\(endpoint.method) \(endpoint.route)"
        guard var row = endpointRows[key] else {
            endpointRows[key] = endpoint
            return
        }
        row.calls += endpoint.calls
        row.clientErrors += endpoint.clientErrors
        row.serverErrors += endpoint.serverErrors
        row.latency.merge(endpoint.latency)
        row.requestBytes &+= endpoint.requestBytes
        row.responseBytes &+= endpoint.responseBytes
        endpointRows[key] = row
    }

    private mutating func add(consumer: ConsumerRow) {
        guard var row = consumerRows[consumer.id] else {
            consumerRows[consumer.id] = consumer
            return
        }
        row.name = row.name ?? consumer.name
        row.calls += consumer.calls
        row.clientErrors += consumer.clientErrors
        row.serverErrors += consumer.serverErrors
        consumerRows[consumer.id] = row
    }
}
