import APIMetrics

/// The ends of a connection's exchanges that the server's side decides: the
/// close, and responses to bytes the tap could not read as a request.
extension WireTap {
    /// Ends both directions at the close: a close-delimited response ends,
    /// and what was still waiting is recorded or counted.
    func finish(_ responses: inout HTTPStreamParser, _ requests: inout HTTPStreamParser, _ state: inout State) {
        // Only the request the server was serving as the connection closed
        // is a call without a response; behind it, or once the server said
        // it closes or the tap lost the framing, no request was served.
        var recordsUnanswered = !state.isUnsynced && !state.serverCloses
        state.isClosing = true
        responses.finish { handleResponse($0, &requests, &state) }
        if !state.isHoldingInbound {
            requests.finish { handleRequest($0, &state) }
        }
        if state.finishesWithRequest {
            // Its request can no longer end (the parser had stopped): it ends now.
            state.receiving?.finish()
            state.finishesWithRequest = false
        }
        if let shed = state.shedFinishingWithRequest.take() { recordShed(shed.figures, shed.names) }
        var shedPosition = 0
        for pending in state.pending {
            let isRecorded = pending.hasResponseHead || recordsUnanswered
            if !pending.hasResponseHead {
                recordsUnanswered = false
                if !isRecorded { state.unrecorded += 1 }
            }
            if let exchange = pending.exchange {
                if !isRecorded {
                    exchange.discard()
                    continue
                }
                if !pending.hasResponseHead { exchange.reportError(WireError.noResponse, location: nil) }
                exchange.finish()
            } else if pending.isShed {
                if isRecorded { recordShed(pending.shed, state.shedNames[shedPosition]) }
                shedPosition += 1
            }
        }
        state.pending.removeAll()
        state.shedNames.removeAll()
        state.receiving = nil
        state.isClosed = true
    }

    /// A final response came with no request read to pair it with. When
    /// the tap is in the middle of a request's head, the server answered
    /// that one (it read it otherwise: a limit, a byte it refuses): it
    /// fails here and is paired. Otherwise the server answered bytes the tap
    /// passed over: the call is recorded, its request marked unparsed.
    func pairUnaskedResponse(_ requests: inout HTTPStreamParser, _ state: inout State) {
        if requests.isInHead {
            requests.abandonHead("the server answered before the request's head ended") { handleRequest($0, &state) }
            if state.pending.contains(where: { !$0.hasResponseHead }) { return }
        }
        let start = state.unparsedStart
        state.unparsedStart = nil
        if recorder.isQueueFull {
            state.shedNames.append(ShedNames(method: "INVALID"))
            state.pending.append(
                Pending(
                    exchange: nil, method: .other, isUnparsed: true, isShed: true,
                    shed: ShedFigures(start: start?.monotonicNanoseconds ?? CaptureInstant.monotonicNow())))
            return
        }
        let exchange = recorder.begin(RequestHead(method: "INVALID", target: "", clientAddress: clientAddress), startedAt: start)
        exchange.reportError(WireError.unparsedRequest, location: nil)
        state.pending.append(Pending(exchange: exchange, method: .other, isUnparsed: true))
    }
}
