import APIMetrics
import APIMetricsWire
import Foundation
import SocketServer

/// The demo's JSON API. Handlers know nothing of APIMetrics: each
/// connection's `WireTap` records the calls from the bytes on the wire.
struct DemoAPI: Sendable {
    struct HandlerError: Error, ResponseStatusProviding, CustomStringConvertible {
        var responseStatus: Int
        var description: String
    }

    /// Thrown by `GET /drop`: the connection is closed with no answer, as
    /// a server that crashes mid-request would.
    struct DropConnection: Error, CustomStringConvertible {
        var description: String { "the demo dropped the connection on purpose" }
    }

    /// What `PUT /account/plan` tells the metrics: the consumer, its
    /// company and the company's subscription to a plan.
    typealias PlanChange = @Sendable (_ consumer: String, _ plan: String, _ status: String) -> Void

    struct Route: Sendable {
        var method: String
        var template: String
        var respond: @Sendable (SocketRequest, [String: String], ActiveExchange?) throws -> SocketResponse
    }

    let routes: [Route]
    /// The routes, as `METHOD template`, declared up front in the startup record.
    static var routeNames: [String] {
        DemoAPI(client: OutgoingClient(instrumented: nil), view: nil, baseURL: { "" }, planChanged: { _, _, _ in }).routes.map {
            "\($0.method) \($0.template)"
        }
    }

    /// The metrics' dashboard and Prometheus exposition, mounted beside the API.
    let view: MetricsView?

    /// - Parameters:
    ///   - client: how `/proxy` calls out, recorded as outgoing events.
    ///   - baseURL: where this server listens, known once it has started.
    ///   - planChanged: what `PUT /account/plan` does beside answering.
    init(client: OutgoingClient, view: MetricsView?, baseURL: @escaping @Sendable () -> String, planChanged: @escaping PlanChange)
    {
        self.routes = Self.makeRoutes(store: OrderStore(), client: client, baseURL: baseURL, planChanged: planChanged)
        self.view = view
    }

    /// Answers the metrics' view on the request head, before any body is
    /// read: a client cannot make the server hold a body it will refuse.
    func handleHead(_ request: SocketRequest, _ writer: SocketHTTPServer.ResponseWriter) {
        guard let view,
            let answer = view.response(
                method: request.method, target: request.target, headers: HeaderFields(request.headers),
                peerAddress: request.clientAddress)
        else { return }
        // The view never records itself.
        (writer.observer?.context as? WireTap)?.leaveOutCurrentExchange()
        writer.write(
            SocketResponse(
                status: answer.status, headers: answer.headers.map { (String($0.name), String($0.value)) }, body: answer.body))
    }

    /// Serves one request. The connection's wire tap records the exchange
    /// from the bytes; the handler only names the route and reports errors.
    func handle(_ request: SocketRequest, _ writer: SocketHTTPServer.ResponseWriter) {
        let tap = writer.observer?.context as? WireTap
        let match = self.match(request)
        // The route reaches the metrics whether or not the call is captured.
        if let template = match?.route.template {
            tap?.setRoute(template)
        }
        // Asked once: `nil` when recording is off, or when the queue was full
        // as the request arrived and the call was shed (still counted).
        let exchange = tap?.currentExchange
        let response: SocketResponse
        do {
            response = try respondThrowing(request, match, exchange: exchange)
        } catch let error as DropConnection {
            exchange?.reportError(error)
            writer.abort()
            return
        } catch {
            exchange?.reportError(error)
            let status = (error as? any ResponseStatusProviding)?.responseStatus ?? 500
            response = .json(status, #"{"error":"\#(escape(String(describing: error)))"}"#)
        }
        writer.write(response)
    }

    private func respondThrowing(
        _ request: SocketRequest, _ match: (route: Route, parameters: [String: String])?, exchange: ActiveExchange?
    ) throws -> SocketResponse {
        guard let match else {
            let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
            if routes.contains(where: { Self.parameters(template: $0.template, path: path) != nil }) {
                return .json(405, #"{"error":"method not allowed"}"#)
            }
            return .json(404, #"{"error":"not found"}"#)
        }
        return try match.route.respond(request, match.parameters, exchange)
    }

    private func match(_ request: SocketRequest) -> (route: Route, parameters: [String: String])? {
        let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let method = request.method == "HEAD" ? "GET" : request.method
        for route in routes where route.method == method {
            if let parameters = Self.parameters(template: route.template, path: path) {
                return (route, parameters)
            }
        }
        return nil
    }

    /// Matches `/orders/{id}` against `/orders/7`, giving `["id": "7"]`.
    static func parameters(template: String, path: String) -> [String: String]? {
        let templateParts = template.split(separator: "/")
        let pathParts = path.split(separator: "/")
        guard templateParts.count == pathParts.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(templateParts, pathParts) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                parameters[String(expected.dropFirst().dropLast())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }

    private static func makeRoutes(
        store: OrderStore, client: OutgoingClient, baseURL: @escaping @Sendable () -> String, planChanged: @escaping PlanChange
    ) -> [Route] {
        [
            Route(method: "GET", template: "/health") { _, _, _ in
                .json(200, #"{"status":"ok"}"#)
            },
            Route(method: "GET", template: "/orders") { request, _, _ in
                let page = Int(Self.query(request.target)["page"] ?? "1") ?? 1
                let orders = store.page(max(1, page), size: 10)
                return .json(200, #"{"page":\#(page),"orders":[\#(orders.map(Self.json).joined(separator: ","))]}"#)
            },
            Route(method: "GET", template: "/orders/{id}") { _, parameters, _ in
                guard let id = parameters["id"].flatMap(Int.init), let order = store.order(id) else {
                    return .json(404, #"{"error":"order not found"}"#)
                }
                return .json(200, Self.json(order))
            },
            Route(method: "POST", template: "/orders") { request, _, exchange in
                guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
                    return .json(400, #"{"error":"expected a JSON object"}"#)
                }
                let item = object["item"] as? String ?? "item"
                let quantity = object["quantity"] as? Int ?? 1
                guard (1...1_000).contains(quantity) else {
                    // Reported to the metrics as it is answered: the count
                    // needs no captured body.
                    exchange?.reportValidationError(field: "quantity", type: "range", message: "must be from 1 to 1000")
                    return .json(422, #"{"errors":[{"field":"quantity","type":"range","message":"must be from 1 to 1000"}]}"#)
                }
                let order = store.create(item: item, quantity: quantity)
                return .json(201, Self.json(order))
            },
            Route(method: "DELETE", template: "/orders/{id}") { _, parameters, _ in
                if let id = parameters["id"].flatMap(Int.init) { store.delete(id) }
                return SocketResponse(status: 204)
            },
            Route(method: "POST", template: "/login") { request, _, _ in
                guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
                    let username = object["username"] as? String, object["password"] is String
                else {
                    return .json(400, #"{"error":"expected {\"username\",\"password\"}"}"#)
                }
                return .json(200, #"{"token":"\#(Self.unsignedJWT(subject: username))"}"#)
            },
            Route(method: "GET", template: "/slow") { request, _, _ in
                let millis = min(10_000, max(0, Int(Self.query(request.target)["ms"] ?? "100") ?? 100))
                usleep(useconds_t(millis * 1000))
                return .json(200, #"{"slept_ms":\#(millis)}"#)
            },
            Route(method: "GET", template: "/fail") { _, _, _ in
                throw HandlerError(responseStatus: 500, description: "the demo failed on purpose")
            },
            Route(method: "GET", template: "/drop") { _, _, _ in
                throw DropConnection()
            },
            Route(method: "POST", template: "/echo") { request, _, _ in
                // The body back as it came, with its type and encoding: binary,
                // compressed and non-UTF-8 bodies both ways.
                let kept = request.headers.filter { ["content-type", "content-encoding"].contains($0.name.lowercased()) }
                return SocketResponse(status: 200, headers: kept, body: request.body)
            },
            Route(method: "PUT", template: "/account/plan") { request, _, _ in
                guard let key = request.headers.first(where: { $0.name.lowercased() == "x-api-key" })?.value,
                    key.hasPrefix(DemoConsumers.keyPrefix), key.count > DemoConsumers.keyPrefix.count
                else {
                    return .json(401, #"{"error":"expected X-API-Key: demo-key-NAME"}"#)
                }
                guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
                    let plan = object["plan"] as? String, let status = object["status"] as? String
                else {
                    return .json(400, #"{"error":"expected {\"plan\",\"status\"}"}"#)
                }
                planChanged(String(key.dropFirst(DemoConsumers.keyPrefix.count)), plan, status)
                return .json(200, #"{"plan":"\#(escape(plan))","status":"\#(escape(status))"}"#)
            },
            Route(method: "GET", template: "/proxy") { request, _, exchange in
                // Calls this server itself, so that one request shows an
                // incoming event and a linked outgoing one.
                guard let path = Self.query(request.target)["to"]?.removingPercentEncoding, path.hasPrefix("/"),
                    let url = URL(string: baseURL() + path)
                else {
                    return .json(400, #"{"error":"expected ?to=/path"}"#)
                }
                let (status, body) = try client.get(url, parent: exchange)
                return SocketResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
            },
        ]
    }

    /// A JWT naming `subject`, unsigned (`alg: none`): the demo has no users
    /// to authenticate, and APIMetrics only reads the `sub` claim.
    static func unsignedJWT(subject: String) -> String {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = base64URL(#"{"alg":"none","typ":"JWT"}"#)
        let payload = base64URL(#"{"sub":"\#(escape(subject))","name":"\#(escape(subject))"}"#)
        return "\(header).\(payload)."
    }

    static func json(_ order: OrderStore.Order) -> String {
        #"{"id":\#(order.id),"item":"\#(escape(order.item))","quantity":\#(order.quantity),"status":"\#(order.status)"}"#
    }

    static func query(_ target: String) -> [String: String] {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }
}

/// Escapes a string for a JSON string literal.
func escape(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}
