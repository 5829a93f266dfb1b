import APIMetrics
import APIMetricsFoundation
import APIMetricsHummingbird
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The request context of the example: Hummingbird's basic one, plus the
/// client's address for the middleware to record.
struct ExampleContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// JSON with its keys in order: the same bytes for the same value.
    var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

/// Orders go out as JSON responses.
extension Order: ResponseCodable {}

/// What records the example's calls: APIMetrics, or for the load test's
/// comparison nothing, a middleware that only passes the response body
/// through, or (in the load test's build, `Examples/HummingbirdLoadTest`, which defines `APIMETRICS_LOADTEST`)
/// Hummingbird's own `MetricsMiddleware`.
enum Variant: String, CaseIterable, Sendable {
    case apimetrics, bare, noop
    #if APIMETRICS_LOADTEST
    case prometheus
    #endif
}

/// A middleware that wraps every response body in a writer that passes it
/// on: the least any middleware that sees the body costs.
struct PassThroughMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Writer: ResponseBodyWriter {
        var base: any ResponseBodyWriter
        mutating func write(_ buffer: ByteBuffer) async throws { try await base.write(buffer) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws { try await base.finish(trailingHeaders) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        var response = try await next(request, context)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(Writer(base: writer))
        }
        return response
    }
}

enum ExampleServer {
    /// The routes as the metrics' startup record names them.
    static let routeNames = [
        "GET /orders/{id}", "POST /orders", "GET /stream", "GET /fail", "GET /proxy", "GET /health",
    ]

    /// The example's configuration, before the `APIMETRICS_*` variables.
    static func baseConfiguration() -> APIMetricsConfiguration {
        ExampleDefaults.configuration(service: "hummingbird-example", routes: routeNames)
    }

    /// The router: the middleware first (it also serves the metrics' view),
    /// then the routes. `baseURL` is where `/proxy` sends its outgoing
    /// calls; the tests build it without the middleware too, to compare,
    /// and the load test with each of the variants.
    static func router(
        metrics: APIMetricsService, variant: Variant = .apimetrics, baseURL: @escaping @Sendable () -> String
    ) -> Router<ExampleContext> {
        let router = Router(context: ExampleContext.self)
        switch variant {
        case .apimetrics:
            router.add(middleware: APIMetricsMiddleware(metrics))
        case .bare:
            break
        case .noop:
            router.add(middleware: PassThroughMiddleware())
        #if APIMETRICS_LOADTEST
        case .prometheus:
            // swift-metrics is bootstrapped to swift-prometheus by main.
            router.add(middleware: MetricsMiddleware())
        #endif
        }
        let store = OrderStore()
        let client = InstrumentedURLSession(recorder: metrics.recorder)

        router.get("/health") { _, _ in
            #"{"status":"ok"}"#
        }
        router.get("/orders/{id}") { _, context -> Order in
            guard let order = context.parameters.get("id", as: Int.self).flatMap(store.order) else {
                throw HTTPError(.notFound, message: "order not found")
            }
            return order
        }
        router.post("/orders") { request, context -> EditedResponse<Order> in
            let order = try await request.decode(as: NewOrder.self, context: context)
            guard (1...1_000).contains(order.quantity) else {
                ActiveExchange.current?.reportValidationError(field: "quantity", type: "range", message: "must be from 1 to 1000")
                throw HTTPError(.unprocessableContent, message: "quantity must be from 1 to 1000")
            }
            return EditedResponse(status: .created, response: store.create(order))
        }
        router.get("/stream") { request, _ -> Response in
            // A body of unknown length, written in pieces: sent chunked.
            let count = request.uri.queryParameters.get("chunks", as: Int.self) ?? 3
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody { writer in
                    for index in 0..<max(0, min(count, 1_000)) {
                        try await writer.write(ByteBuffer(string: "chunk \(index)\n"))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("/fail") { _, _ -> String in
            throw ExampleFailure()
        }
        router.get("/proxy") { request, _ -> Response in
            // An outgoing call, linked to this one by the current exchange.
            guard let path = request.uri.queryParameters.get("to"), path.hasPrefix("/"),
                let url = URL(string: baseURL() + path)
            else {
                throw HTTPError(.badRequest, message: "expected ?to=/path")
            }
            let (data, response) = try await client.data(for: URLRequest(url: url))
            let status = (response as? HTTPURLResponse)?.statusCode ?? 502
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }
}
