import APIMetrics
import Synchronization

// What the example servers share, the same in every framework's example
// (linked into each example's target): their configuration before the
// `APIMETRICS_*` variables, the demo's orders, and the failure `/fail`
// throws.

/// The examples' configuration.
enum ExampleDefaults {
    /// Who is calling: `X-API-Key: key-NAME` names the consumer `NAME`.
    static let consumers = ConsumerIdentifier.custom { request in
        guard let key = request.headers["x-api-key"], key.hasPrefix("key-"), key.count > 4 else { return nil }
        return Consumer(id: String(key.dropFirst(4)))
    }

    /// An example's configuration, before the `APIMETRICS_*` variables:
    /// the view on (as in the demo), consumers by API key, `routes` named
    /// at startup.
    static func configuration(service: String, routes: [String]) -> APIMetricsConfiguration {
        var base = APIMetricsConfiguration.default
        base.service = service
        base.identifyConsumer = consumers
        base.view.isDashboardEnabled = true
        base.view.isPrometheusEnabled = true
        base.metrics.routes = routes
        return base
    }
}

/// An order of the example's in-memory store.
struct Order: Codable, Sendable {
    var id: Int
    var item: String
    var quantity: Int
}

/// A new order as the client sends it.
struct NewOrder: Decodable, Sendable {
    var item: String
    var quantity: Int
}

/// A failure that is no HTTP error: each framework answers it 500.
struct ExampleFailure: Error, CustomStringConvertible {
    var description: String { "the example failed on purpose" }
}

/// The example's orders: 1 to 100 exist, new ones get the next number.
final class OrderStore: Sendable {
    private let next = Mutex(101)

    func order(_ id: Int) -> Order? {
        (1...100).contains(id) ? Order(id: id, item: "lamp", quantity: 1) : nil
    }

    func create(_ order: NewOrder) -> Order {
        Order(
            id: next.withLock { id in
                defer { id += 1 }; return id
            }, item: order.item, quantity: order.quantity)
    }
}
