import APIMetrics
import APIMetricsFlyingFox
import APIMetricsFoundation
import FlyingFox
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

enum ExampleServer {
    /// The routes as the metrics' startup record names them.
    static let routeNames = ["GET /orders/{id}", "POST /orders", "GET /fail", "GET /proxy", "GET /health"]

    /// The example's configuration, before the `APIMETRICS_*` variables.
    static func baseConfiguration() -> APIMetricsConfiguration {
        ExampleDefaults.configuration(service: "flyingfox-example", routes: routeNames)
    }

    static func json(_ status: HTTPStatusCode, _ text: String) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: Data(text.utf8))
    }

    /// The routes (the handler serves the metrics' view); `baseURL` is where
    /// `/proxy` sends its outgoing calls.
    static func routes(metrics: APIMetricsService, baseURL: @escaping @Sendable () -> String) -> RoutedHTTPHandler {
        var routes = RoutedHTTPHandler()
        let next = Mutex(101)
        let client = InstrumentedURLSession(recorder: metrics.recorder)
        routes.appendRoute("GET /health") { _ in json(.ok, #"{"status":"ok"}"#) }
        routes.appendRoute("GET /orders/:id") { (id: Int) in
            guard (1...100).contains(id) else { return json(.notFound, #"{"error":"order not found"}"#) }
            return json(.ok, #"{"id":\#(id),"item":"lamp","quantity":1}"#)
        }
        routes.appendRoute("POST /orders") { request in
            let body = try await request.bodyData
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                return json(.badRequest, #"{"error":"expected a JSON object"}"#)
            }
            let item = object["item"] as? String ?? "item", quantity = object["quantity"] as? Int ?? 1
            guard (1...1_000).contains(quantity) else {
                ActiveExchange.current?.reportValidationError(field: "quantity", type: "range", message: "must be from 1 to 1000")
                return json(HTTPStatusCode(422, phrase: "Unprocessable Content"), #"{"error":"quantity must be from 1 to 1000"}"#)
            }
            let id = next.withLock { id in
                defer { id += 1 }; return id
            }
            let encoded = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: ["id": id, "item": item, "quantity": quantity], options: .sortedKeys), as: UTF8.self)
            return json(.created, encoded)
        }
        routes.appendRoute("GET /fail") { _ in throw ExampleFailure() }
        routes.appendRoute("GET /proxy") { request in
            // An outgoing call, linked to this one by the current exchange.
            guard let path = request.query["to"], path.hasPrefix("/"), let url = URL(string: baseURL() + path) else {
                return json(.badRequest, #"{"error":"expected ?to=/path"}"#)
            }
            let (data, response) = try await client.data(for: URLRequest(url: url))
            let status = (response as? HTTPURLResponse)?.statusCode ?? 502
            return HTTPResponse(
                statusCode: HTTPStatusCode(status, phrase: ""), headers: [.contentType: "application/json"], body: data)
        }
        return routes
    }
}
