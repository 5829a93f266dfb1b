import APIMetrics
import APIMetricsFoundation
import APIMetricsVapor
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Vapor

enum ExampleServer {
    /// The routes as the metrics' startup record names them.
    static let routeNames = [
        "GET /orders/{id}", "POST /orders", "GET /stream", "GET /fail", "GET /proxy", "GET /health",
    ]

    /// The example's configuration, before the `APIMETRICS_*` variables.
    static func baseConfiguration() -> APIMetricsConfiguration {
        ExampleDefaults.configuration(service: "vapor-example", routes: routeNames)
    }

    /// Installs the middleware (first, outside Vapor's error middleware;
    /// its error reporter last),
    /// the routes (the middleware serves the metrics' view). `baseURL` is where `/proxy` sends
    /// its outgoing calls; the tests configure an application without the
    /// middleware too, to compare.
    static func configure(
        _ app: Application, metrics: APIMetricsService, instrumented: Bool = true,
        baseURL: @escaping @Sendable () -> String
    ) {
        if instrumented {
            app.middleware.useAPIMetrics(metrics)
        }
        let store = OrderStore()
        let client = InstrumentedURLSession(recorder: metrics.recorder)

        app.get("health") { _ in
            #"{"status":"ok"}"#
        }
        app.get("orders", ":id") { request async throws -> Response in
            guard let order = request.parameters.get("id", as: Int.self).flatMap(store.order) else {
                throw Abort(.notFound, reason: "order not found")
            }
            return try json(order)
        }
        app.post("orders") { request async throws -> Response in
            let order = try request.content.decode(NewOrder.self)
            guard (1...1_000).contains(order.quantity) else {
                request.apiMetrics?.reportValidationError(field: "quantity", type: "range", message: "must be from 1 to 1000")
                throw Abort(.unprocessableEntity, reason: "quantity must be from 1 to 1000")
            }
            return try json(store.create(order), status: .created)
        }
        app.get("stream") { request async -> Response in
            // A body of unknown length, written in pieces: sent chunked, and
            // recorded as it goes out.
            let count = max(0, min(request.query[Int.self, at: "chunks"] ?? 3, 1_000))
            // swift-format-ignore
            return Response(status: .ok, headers: ["Content-Type": "text/plain"], body: .init(recordingFor: request) { writer in
                for index in 0..<count {
                    try await writer.writeBuffer(ByteBuffer(string: "chunk \(index)\n"))
                }
                try await writer.write(.end)
            })
        }
        app.get("fail") { _ async throws -> String in
            throw ExampleFailure()
        }
        app.get("proxy") { request async throws -> Response in
            // An outgoing call, linked to this one by the current exchange.
            guard let path = request.query[String.self, at: "to"], path.hasPrefix("/"),
                let url = URL(string: baseURL() + path)
            else {
                throw Abort(.badRequest, reason: "expected ?to=/path")
            }
            let (data, response) = try await client.data(for: URLRequest(url: url))
            let status = (response as? HTTPURLResponse)?.statusCode ?? 502
            return Response(
                status: HTTPResponseStatus(statusCode: status), headers: ["Content-Type": "application/json"],
                body: .init(data: data))
        }
    }

    /// `value` as JSON with its keys in order: the same bytes for the same
    /// value.
    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: status, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: .init(data: try encoder.encode(value)))
    }
}
