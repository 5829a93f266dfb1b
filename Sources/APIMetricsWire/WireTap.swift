public import APIMetrics
import Synchronization

/// Records the HTTP/1.1 exchanges of one connection from the bytes a
/// hand-rolled server reads and writes, with no knowledge of its types.
///
/// Hand it every byte read from the connection (`inbound(_:)`), every byte
/// written to it (`outbound(_:)`), and tell it when the connection closes
/// (``close()``). It parses both directions incrementally — any split, down
/// to one byte at a time — pairs pipelined requests with their responses in
/// order, and records each exchange from the request's first byte to the
/// response's last. It only reads the bytes; what the server sends and
/// receives is never touched.
///
/// ```swift
/// let tap = WireTap(recorder: metrics.recorder, clientAddress: peer)
/// let count = recv(fd, &buffer, buffer.count, 0)
/// tap.inbound(buffer[..<count])
/// // … the router matched: tap.setRoute("/orders/{id}")
/// tap.outbound(responseBytes); send(fd, responseBytes, responseBytes.count, 0)
/// tap.close()
/// ```
///
/// When the queue is full as a request's head arrives, the exchange is
/// counted as dropped and not captured at all (the bytes are still read, to
/// keep the stream's framing): under overload the tap costs little more
/// than the scan.
///
/// A request the tap judges malformed, or past the ``Limits``, is recorded
/// with an error (what was read of it, with a `MalformedRequest`), and the
/// tap keeps following the connection from the server's side: it looks for
/// the next request line (RFC 9112's framing, strict where smuggling lives)
/// and pairs what it finds with the responses that come out, in order; a
/// response left with no request it could read is still a call, its
/// request marked `UnparsedRequest`. Exchanges read after such a failure
/// carry the metadata `wire: resynchronised`. Each response the server
/// sends is one call; a request the server did not answer is recorded
/// (`NoResponse`) only when it was the one the server was serving as the
/// connection closed, never when the server had said it would close or the
/// tap had lost the stream's framing: those are counted in
/// ``unrecordedRequests``. Malformed responses stop the tap for that
/// direction. Upgrade and CONNECT stop parsing once the server switches
/// protocols; the exchange is recorded as switched.
public final class WireTap: Sendable {
    /// Bounds on what one message's head may hold.
    public struct Limits: Sendable, Hashable {
        /// The longest request or status line, in bytes.
        public var startLineBytes: Int
        /// The largest header section, in bytes.
        public var headerSectionBytes: Int
        /// The most header fields.
        public var headerCount: Int

        /// Creates limits.
        ///
        /// - Parameters:
        ///   - startLineBytes: the longest request or status line, in bytes;
        ///     8 KiB by default.
        ///   - headerSectionBytes: the largest header section, in bytes;
        ///     64 KiB by default.
        ///   - headerCount: the most header fields; 100 by default.
        public init(startLineBytes: Int = 8 * 1024, headerSectionBytes: Int = 64 * 1024, headerCount: Int = 100) {
            self.startLineBytes = startLineBytes
            self.headerSectionBytes = headerSectionBytes
            self.headerCount = headerCount
        }

        /// 8 KiB start line, 64 KiB header section, 100 fields.
        public static let `default` = Limits()
    }

    /// The most bytes held after a CONNECT or Upgrade request while waiting
    /// to see whether the server switches protocols.
    static let maxHeldBytes = 64 * 1024

    struct Pending {
        /// `nil` when the exchange was shed because the queue was full.
        var exchange: ActiveExchange?
        var method: HTTPStreamParser.MethodKind
        var hasResponseHead = false
        var awaitsSwitch = false
        /// Read after the tap lost the stream's framing: whether the server
        /// read it as the tap did is not known.
        var isResynchronised = false
        /// Made for a response with no request read: never the request
        /// being received, though it may be the newest entry.
        var isUnparsed = false
        /// Whether the exchange was shed: its names are then in
        /// ``State/shedNames``, at its place among the shed entries.
        var isShed = false
        /// A shed exchange's figures, counted as it runs: plain integers,
        /// kept in the entry so that counting them moves nothing.
        var shed = ShedFigures()
    }

    /// What a shed exchange counts for the metrics besides its names.
    struct ShedFigures {
        /// When its request started, on the monotonic clock.
        var start: Int64 = 0
        var status = 0
        var requestBodyBytes = 0
        var responseBodyBytes = 0
    }

    /// A shed exchange's method and route. Kept apart from the pending
    /// list, so that a pending entry holds no string and copies fast, shed
    /// or not.
    struct ShedNames {
        var method: String
        var route: String?
        /// Left out by the server (``WireTap/leaveOutCurrentExchange()``): not counted.
        var isLeftOut = false
    }

    /// What the lock guards: the two parsers and the exchanges' state, apart,
    /// so that a parser runs in place while its events change the state (no
    /// parser is moved out and back for each read).
    private struct Connection {
        var requests: HTTPStreamParser
        var responses: HTTPStreamParser
        var state = State()
    }

    struct State {
        var pending: [Pending] = []
        /// The names of the shed entries of ``pending``, in the same order.
        var shedNames: [ShedNames] = []
        var receiving: ActiveExchange?
        /// Whether the request whose body is being read was shed: a failure
        /// now belongs to it (already counted), not to a new exchange.
        var isReceivingShed = false
        var requestStart: CaptureInstant?
        /// When the request being read started, on the monotonic clock: a
        /// shed exchange's duration runs from here.
        var requestStartMonotonic: Int64 = 0
        var isInterim = false
        var isHoldingInbound = false
        /// An Upgrade request's body is being read: once it ends, what
        /// follows is held until the server says whether it switches.
        var switchesAfterBody = false
        /// The exchange being received was answered before its request
        /// ended (a 413 before the upload finished): it ends with its request.
        var finishesWithRequest = false
        /// The same for a shed exchange: its figures and names, out of the
        /// pending list, counted until its request ends.
        var shedFinishingWithRequest: (figures: ShedFigures, names: ShedNames)?
        var held: [UInt8] = []
        var isClosed = false
        /// A request failed on this connection: where the server's reading
        /// of the stream and the tap's part may not be known, so its
        /// responses lead from now on.
        var isUnsynced = false
        /// The connection is closing: a request failure now is its end, not
        /// a loss of the stream's framing.
        var isClosing = false
        /// A final response said the server closes the connection after
        /// it: it reads no further request.
        var serverCloses = false
        /// When the bytes the tap is passing over after a failure started
        /// to arrive: the start of an exchange whose request it cannot read.
        var unparsedStart: CaptureInstant?
        /// Requests read that the server never answered nor served.
        var unrecorded = 0
    }

    let recorder: Recorder
    let clientAddress: String?
    let limits: HTTPStreamParser.Limits
    private let connection: Mutex<Connection>

    /// Creates a tap for one connection.
    ///
    /// - Parameters:
    ///   - recorder: where exchanges are recorded (`APIMetricsService.recorder`).
    ///   - clientAddress: the socket peer's address; the sender finds the
    ///     client behind trusted proxies (`client_ip`) and keeps the peer
    ///     (`peer_ip` when it differs).
    ///   - limits: bounds on each message's head.
    public init(recorder: Recorder, clientAddress: String? = nil, limits: Limits = .default) {
        self.recorder = recorder
        self.clientAddress = clientAddress
        let parserLimits = HTTPStreamParser.Limits(
            startLine: limits.startLineBytes, headerSection: limits.headerSectionBytes, headerCount: limits.headerCount)
        self.limits = parserLimits
        self.connection = Mutex(
            Connection(
                requests: HTTPStreamParser(role: .request, limits: parserLimits),
                // The server writes the responses itself: they get the default
                // limits, whatever is asked of requests.
                responses: HTTPStreamParser(role: .response, limits: HTTPStreamParser.Limits())))
    }

    /// Whether the server may switch protocols after this request (CONNECT,
    /// or an Upgrade field that Connection names): then the bytes that follow
    /// are held until the response says.
    private static func awaitsSwitch(_ head: HTTPStreamParser.Head) -> Bool {
        if head.methodKind == .connect { return true }
        guard head.counts.upgrade > 0 else { return false }
        return head.values("connection").contains { $0.lowercased().contains("upgrade") }
    }

    /// The exchange the server is answering now: the oldest whose response
    /// has not started. Use it to name the consumer or report an error.
    /// `nil` also when that exchange was shed: the queue was full when its
    /// head arrived (`Recorder.isQueueFull`), so it was counted as dropped
    /// and not captured.
    public var currentExchange: ActiveExchange? {
        connection.withLock { $0.state.pending.first { !$0.hasResponseHead }?.exchange }
    }

    /// How many requests the tap read on this connection that it did not
    /// record, because the server never answered them and was not serving
    /// them: sent after a response that closes the connection, pipelined
    /// behind another unanswered request, or read after the tap lost the
    /// stream's framing (where it cannot know whether the server saw a
    /// request there at all).
    public var unrecordedRequests: Int {
        connection.withLock { $0.state.unrecorded }
    }

    /// Names the route template of the exchange the server is answering now
    /// (a shed one too: its route still counts in the metrics).
    public func setRoute(_ route: String) {
        let exchange = connection.withLock { connection -> ActiveExchange? in
            guard let index = connection.state.pending.firstIndex(where: { !$0.hasResponseHead }) else { return nil }
            if connection.state.pending[index].isShed {
                connection.state.shedNames[Self.shedPosition(of: index, in: connection.state)].route = route
            }
            return connection.state.pending[index].exchange
        }
        exchange?.setRoute(route)
    }

    /// Leaves the exchange the server is answering now out of everything
    /// (events and metrics), shed or not: for the server's own housekeeping
    /// that must not count as API traffic, such as the metrics' view it
    /// serves (`MetricsView`).
    public func leaveOutCurrentExchange() {
        let exchange = connection.withLock { connection -> ActiveExchange? in
            guard let index = connection.state.pending.firstIndex(where: { !$0.hasResponseHead }) else { return nil }
            if connection.state.pending[index].isShed {
                connection.state.shedNames[Self.shedPosition(of: index, in: connection.state)].isLeftOut = true
            }
            return connection.state.pending[index].exchange
        }
        exchange?.discard()
    }

    /// Bytes the server read from the connection, in order.
    public func inbound(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        connection.withLock { connection in
            guard !connection.state.isClosed else { return }
            feedRequests(bytes, &connection.requests, &connection.state)
        }
    }

    /// Bytes the server read from the connection, in order.
    public func inbound(_ bytes: [UInt8]) {
        inbound(bytes[...])
    }

    /// Bytes the server read from the connection, in order (any collection;
    /// arrays and slices are taken without a copy).
    public func inbound<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        inbound(Array(bytes)[...])
    }

    /// Bytes the server wrote to the connection, in order.
    public func outbound(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        connection.withLock { connection in
            guard !connection.state.isClosed else { return }
            feedResponses(bytes, &connection.responses, &connection.requests, &connection.state)
        }
    }

    /// Bytes the server wrote to the connection, in order.
    public func outbound(_ bytes: [UInt8]) {
        outbound(bytes[...])
    }

    /// Bytes the server wrote to the connection, in order (any collection;
    /// arrays and slices are taken without a copy).
    public func outbound<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        outbound(Array(bytes)[...])
    }

    /// The connection closed: a close-delimited response ends here, and any
    /// request left without a response is recorded with an error saying so.
    public func close() {
        connection.withLock { connection in
            guard !connection.state.isClosed else { return }
            finish(&connection.responses, &connection.requests, &connection.state)
        }
    }

    // MARK: - Requests

    func feedRequests(_ bytes: ArraySlice<UInt8>, _ requests: inout HTTPStreamParser, _ state: inout State) {
        if state.isHoldingInbound {
            hold(bytes, &requests, &state)
            return
        }
        guard !requests.isStopped else { return }
        if requests.isResynchronising && state.unparsedStart == nil { state.unparsedStart = CaptureInstant.now() }
        // While the queue is full the exchanges that start now are shed:
        // their fields need not be copied (those that decide framing are).
        requests.collectsFields = !recorder.isQueueFull
        // Each event is handled as it is read, with the state at hand: no
        // list of events, no copies.
        let consumed = requests.feed(bytes) { handleRequest($0, &state) }
        if state.isHoldingInbound && consumed < bytes.count {
            hold(bytes[(bytes.startIndex + consumed)...], &requests, &state)
        }
    }

    private func hold(_ bytes: ArraySlice<UInt8>, _ requests: inout HTTPStreamParser, _ state: inout State) {
        if state.held.count + bytes.count > Self.maxHeldBytes {
            // Past the bound it is tunnel traffic, not HTTP: stop looking.
            state.held = []
            state.isHoldingInbound = false
            requests.stop()
            return
        }
        state.held.append(contentsOf: bytes)
    }

    /// Acts on one request event; for a head, answers how its body is framed.
    func handleRequest(_ event: HTTPStreamParser.Event, _ state: inout State) -> HTTPStreamParser.Framing {
        switch event {
        case .messageStart:
            if state.serverCloses {
                // The server said it closes: it reads no further request.
                state.unrecorded += 1
                return .switched
            }
            // A request that starts while the queue is full is most likely
            // shed: only the monotonic clock is read for it, for its
            // duration (should the queue have room by the end of its head,
            // its exchange starts then).
            if recorder.isQueueFull {
                state.requestStart = nil
                state.requestStartMonotonic = CaptureInstant.monotonicNow()
            } else {
                let now = CaptureInstant.now()
                state.requestStart = now
                state.requestStartMonotonic = now.monotonicNanoseconds
            }
        case let .head(head):
            let exchange: ActiveExchange?
            var isShed = false
            if recorder.isQueueFull || !head.counts.hasAllFields {
                // It would be dropped when it finishes: skip the capture (no
                // copy of fields or body); only its summary is kept, for the
                // metrics, and handed over when it ends.
                state.shedNames.append(ShedNames(method: head.method))
                isShed = true
                exchange = nil
            } else {
                exchange = recorder.begin(
                    RequestHead(
                        method: head.method, target: head.makeTarget(), headers: head.makeHeaders(),
                        clientAddress: clientAddress, protocolVersion: head.version),
                    startedAt: state.requestStart)
                if state.isUnsynced { exchange?.setMetadata("resynchronised", forKey: "wire") }
            }
            state.requestStart = nil
            state.unparsedStart = nil
            // A CONNECT or Upgrade found after the tap lost the framing may
            // not be one to the server: only a 101 switches then.
            let awaitsSwitch = !state.isUnsynced && Self.awaitsSwitch(head)
            state.pending.append(
                Pending(
                    exchange: exchange, method: state.isUnsynced && head.methodKind == .connect ? .other : head.methodKind,
                    awaitsSwitch: awaitsSwitch,
                    isResynchronised: state.isUnsynced, isShed: isShed, shed: ShedFigures(start: state.requestStartMonotonic)))
            state.receiving = exchange
            state.isReceivingShed = exchange == nil
            let framing = HTTPStreamParser.requestFraming(head)
            if awaitsSwitch {
                switch framing {
                case .chunked, .length(1...):
                    // Its body is part of the request, read as such; the
                    // bytes after it are held once it ends.
                    state.switchesAfterBody = true
                    return framing
                case .invalid:
                    return framing
                default:
                    state.isHoldingInbound = true
                    return .switched
                }
            }
            return framing
        case let .body(bytes):
            if let receiving = state.receiving {
                receiving.recordRequestBody(bytes)
            } else if state.isReceivingShed, state.shedFinishingWithRequest != nil {
                state.shedFinishingWithRequest?.figures.requestBodyBytes += bytes.count
            } else if state.isReceivingShed, let newest = state.pending.last, !newest.isUnparsed {
                // The request being read is always the newest pending one.
                state.pending[state.pending.count - 1].shed.requestBodyBytes += bytes.count
            }
        case .end:
            if state.finishesWithRequest {
                state.receiving?.finish()
                state.finishesWithRequest = false
            }
            if let shed = state.shedFinishingWithRequest.take() {
                recordShed(shed.figures, shed.names)
            }
            state.receiving = nil
            state.isReceivingShed = false
            if state.switchesAfterBody {
                state.switchesAfterBody = false
                state.isHoldingInbound = true
                return .switched
            }
        case let .failure(reason, partial):
            let error = WireError.malformedRequest(reason)
            state.switchesAfterBody = false
            if !state.isClosing { state.isUnsynced = true }
            if let receiving = state.receiving {
                receiving.reportError(error, location: nil)
                if state.finishesWithRequest {
                    receiving.finish()
                    state.finishesWithRequest = false
                }
            } else if state.isReceivingShed {
                if let shed = state.shedFinishingWithRequest.take() { recordShed(shed.figures, shed.names) }
                // The request was shed; it is counted when its response ends
                // or the connection closes.
            } else {
                // No whole head was read: record what arrived, so that the
                // server's error response has an exchange to belong to.
                let exchange = recorder.begin(
                    RequestHead(
                        method: partial?.method ?? "INVALID", target: partial?.makeTarget() ?? "", clientAddress: clientAddress),
                    startedAt: state.requestStart)
                exchange.reportError(error, location: nil)
                state.pending.append(Pending(exchange: exchange, method: .other))
            }
            state.receiving = nil
            state.isReceivingShed = false
            state.requestStart = nil
        }
        return .none
    }
}
