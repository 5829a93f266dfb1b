import APIMetrics

/// The response side of the tap: each response event matched to the
/// exchange it answers, and the exchanges ended, captured or shed.
extension WireTap {
    func feedResponses(
        _ bytes: ArraySlice<UInt8>, _ responses: inout HTTPStreamParser, _ requests: inout HTTPStreamParser, _ state: inout State
    ) {
        guard !responses.isStopped else { return }
        // Response fields are kept only when an exchange waiting for one was
        // captured (or one may be made for a response nobody asked for).
        responses.collectsFields = state.pending.isEmpty || state.pending.contains { $0.exchange != nil }
        responses.feed(bytes) { handleResponse($0, &requests, &state) }
    }

    /// Acts on one response event; for a head, answers how its body is
    /// framed, which depends on the method of the request it answers. The
    /// request parser is at hand for a switch of protocols.
    func handleResponse(
        _ event: HTTPStreamParser.Event, _ requests: inout HTTPStreamParser, _ state: inout State
    ) -> HTTPStreamParser.Framing {
        switch event {
        case .messageStart:
            break
        case let .head(head):
            let status = head.status
            if (100..<200).contains(status) && status != 101 {
                state.isInterim = true
                let method = state.pending.first { !$0.hasResponseHead }?.method ?? .other
                return HTTPStreamParser.responseFraming(head, requestMethod: method)
            }
            if !state.pending.contains(where: { !$0.hasResponseHead }) {
                // Every response is a call, one the tap read a request for or not.
                pairUnaskedResponse(&requests, &state)
            }
            guard let index = state.pending.firstIndex(where: { !$0.hasResponseHead }) else { return .switched }
            if head.closesConnection { state.serverCloses = true }
            state.pending[index].hasResponseHead = true
            state.pending[index].shed.status = status
            let pending = state.pending[index]
            pending.exchange?.recordResponseHead(ResponseHead(status: status, headers: head.makeHeaders()))
            let switched = status == 101 || (pending.method == .connect && (200..<300).contains(status))
            if switched {
                pending.exchange?.setMetadata("switched", forKey: "connection")
                state.isHoldingInbound = false
                state.held = []
                requests.stop()
            } else if pending.awaitsSwitch {
                if state.switchesAfterBody {
                    // Declined while the body still arrives: it stays HTTP.
                    state.switchesAfterBody = false
                } else {
                    resumeInbound(&requests, &state)
                }
            }
            if pending.method == .head, pending.isResynchronised, head.counts.contentLength == 1,
                head.counts.transferEncoding == 0, let length = head.counts.plainContentLength, length > 0
            {
                // A HEAD found after the tap lost the framing may not be one
                // to the server: should a body follow, it is passed over.
                return .noneUnlessSent(length)
            }
            return HTTPStreamParser.responseFraming(head, requestMethod: pending.method)
        case let .body(bytes):
            if !state.isInterim, let front = state.pending.firstIndex(where: \.hasResponseHead) {
                if let exchange = state.pending[front].exchange {
                    exchange.recordResponseBody(bytes)
                } else {
                    state.pending[front].shed.responseBodyBytes += bytes.count
                }
            }
        case .end:
            if state.isInterim {
                state.isInterim = false
                return .none
            }
            guard let index = state.pending.firstIndex(where: \.hasResponseHead) else { return .none }
            // The request being received is the newest entry, unless that
            // one was made for a response with no request read.
            let isNewest = index == state.pending.count - 1 && !state.pending[index].isUnparsed
            if let exchange = state.pending[index].exchange, exchange === state.receiving {
                // Answered before its request ended (a 413 before the
                // upload finished): the rest of the body is still its own,
                // and it ends when its request does.
                state.pending.remove(at: index)
                state.finishesWithRequest = true
                return .none
            }
            if isNewest, state.pending[index].isShed, state.isReceivingShed {
                // The same for a shed exchange.
                let position = Self.shedPosition(of: index, in: state)
                let pending = state.pending.remove(at: index)
                state.shedFinishingWithRequest = (pending.shed, state.shedNames.remove(at: position))
                return .none
            }
            guard let exchange = end(at: index, &state) else {
                // The request being read is always the newest pending one:
                // if it was this shed exchange, what still arrives of it is
                // no longer its.
                if isNewest { state.isReceivingShed = false }
                return .none
            }
            if exchange === state.receiving { state.receiving = nil }
        case let .failure(reason, _):
            if let index = state.pending.firstIndex(where: { $0.hasResponseHead }) ?? state.pending.indices.first {
                end(at: index, &state, error: WireError.malformedResponse(reason))
            }
        }
        return .none
    }

    /// Where the summary of the shed entry at `index` of the pending list
    /// is: how many shed entries come before it (the list is short).
    static func shedPosition(of index: Int, in state: State) -> Int {
        if index == 0 { return 0 }
        var position = 0
        for earlier in state.pending[..<index] where earlier.isShed { position += 1 }
        return position
    }

    /// Takes the pending entry at `index` out and ends it: finishes a
    /// captured exchange (reporting `error` first, when given) and returns
    /// it; hands a shed one's summary to the recorder.
    ///
    /// The entry is most often the only one (no pipelining): taken off the
    /// end then, with no shifting. Nothing is returned in a tuple or an
    /// optional: the names are strings, and each copy of them would cost.
    @discardableResult
    func end(at index: Int, _ state: inout State, error: WireError? = nil) -> ActiveExchange? {
        let pending = index == state.pending.count - 1 ? state.pending.removeLast() : state.pending.remove(at: index)
        if let exchange = pending.exchange {
            if let error { exchange.reportError(error, location: nil) }
            exchange.finish()
            return exchange
        }
        guard pending.isShed else { return nil }
        // The entries before `index` are still in place: its names' position is theirs to count.
        let position = Self.shedPosition(of: index, in: state)
        if position == state.shedNames.count - 1 {
            recordShed(pending.shed, state.shedNames.removeLast())
        } else {
            recordShed(pending.shed, state.shedNames.remove(at: position))
        }
        return nil
    }

    /// Hands a shed exchange's summary to the recorder as it ends; the
    /// summary is made only if the metrics read it.
    func recordShed(_ shed: ShedFigures, _ names: borrowing ShedNames) {
        guard !names.isLeftOut else { return }
        let end = CaptureInstant.monotonicNow()
        recorder.recordShedCall {
            CallSummary(
                method: names.method, route: names.route, status: shed.status,
                durationNanoseconds: max(0, end - shed.start),
                requestBodyBytes: shed.requestBodyBytes, responseBodyBytes: shed.responseBodyBytes)
        }
    }

    /// The server answered a CONNECT or Upgrade request without switching:
    /// what the client sent meanwhile is HTTP after all.
    func resumeInbound(_ requests: inout HTTPStreamParser, _ state: inout State) {
        state.isHoldingInbound = false
        requests = HTTPStreamParser(role: .request, limits: limits)
        let held = state.held
        state.held = []
        if !held.isEmpty { feedRequests(held[...], &requests, &state) }
    }
}
