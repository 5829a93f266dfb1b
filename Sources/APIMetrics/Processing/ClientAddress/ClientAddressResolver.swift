import Synchronization

/// Finds the client behind trusted reverse proxies (see ``ForwardingOptions``).
/// Runs in the sender, once per incoming record, before redaction can strip
/// the headers it reads.
///
/// The walk starts at the socket peer. A peer that is not a trusted proxy
/// is the client, and its headers are not read at all: a client that forges
/// `X-Forwarded-For` changes nothing. From a trusted peer, the walk steps
/// right to left through the hops the headers name while the hop it
/// stands on is trusted; the first untrusted address is the client, and
/// when every hop is trusted, the leftmost is.
///
/// Where the chain cannot be followed (a malformed value, `unknown`, an
/// obfuscated identifier such as `_hidden`, a `Forwarded` element without
/// `for`, or the hop or byte bound), the walk stops and the client is the
/// last address it reached: the nearest one a trusted proxy vouched for.
/// This is the choice of Go's realclientip and of Express's `proxy-addr`
/// as far as the walk goes (both stop at the first hop they cannot trust
/// or read); unlike `proxy-addr`, which then reports the unreadable token
/// itself (`unknown`), the record keeps an address, since every reader of
/// `client_ip` (the vendors' ingests among them) expects one.
///
/// When `Forwarded` and `X-Forwarded-For` name different clients the
/// socket peer stays the client; the first time that happens the resolver
/// says so once through ``Diagnostics``, since from then on every such
/// call is recorded with the proxy's address.
struct ClientAddressResolver: Sendable {
    /// The most hops walked: far more proxies than any real chain has.
    static let maxHops = 32
    /// The most bytes of one header's lines read, from the right end back
    /// (see ``ForwardedChain``).
    static let maxHeaderBytes = 8192

    static let disagreementWarning =
        "the Forwarded and X-Forwarded-For headers of a request from a trusted proxy name different clients, so the socket peer is recorded as the client; set forwarding.headers (APIMETRICS_FORWARDED_HEADERS) to the one header your proxies write, e.g. x-forwarded-for behind nginx or an AWS load balancer (said once)"

    let trusted: [IPRange]
    let headers: ForwardingHeaders
    /// The header names read, in ``ForwardingHeaders/names``' order.
    private let names: [String]
    let diagnostics: Diagnostics
    /// Shared by copies, so that one resolver warns once however it is passed around.
    private let warnedOfDisagreement = OnceFlag()

    init(trusted: [IPRange], headers: ForwardingHeaders, diagnostics: Diagnostics = .silent) {
        self.trusted = trusted
        self.headers = headers
        self.names = headers.names
        self.diagnostics = diagnostics
    }

    /// Built from validated options; an entry that does not parse (which
    /// validation has already refused) is left out.
    init(options: ForwardingOptions, diagnostics: Diagnostics = .silent) {
        let ranges = (try? options.trustedProxies.ranges(field: "forwarding.trustedProxies")) ?? []
        self.init(trusted: ranges, headers: options.headers, diagnostics: diagnostics)
    }

    /// Whether any header could ever be read.
    var isActive: Bool { !trusted.isEmpty && headers != .none }

    func isTrusted(_ address: IPAddress) -> Bool {
        trusted.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` with `fields`:
    /// `peer` itself (as given) unless a trusted proxy names another.
    func resolve(peer: String?, fields: HeaderFields) -> String? {
        guard isActive, let peer, !fields.isEmpty else { return peer }
        // The common call names no proxy: known without building anything.
        guard names.contains(where: { fields.firstIndex(named: $0) != nil }) else { return peer }
        var lines: [[ArraySlice<UInt8>]] = Array(repeating: [], count: names.count)
        var anyPresent = false
        for (index, name) in names.enumerated() {
            lines[index] = Self.lines(named: name, in: fields)
            anyPresent = anyPresent || !lines[index].isEmpty
        }
        guard anyPresent, let peerAddress = Self.peerAddress(peer), isTrusted(peerAddress) else { return peer }

        let singles = headers.singleAddressNames.count
        for index in 0..<singles {
            // The proxy's own value comes last; earlier lines are what the
            // client sent, when the proxy appended rather than replaced.
            guard let last = lines[index].last else { continue }
            if case let .address(address) = ForwardedChain.node(ForwardedChain.trimmed(last)) { return address.description }
        }
        var results: [String] = []
        var listIndex = singles
        for kind in [ForwardedChain.Kind.forwarded, .xForwardedFor] {
            let reads = kind == .forwarded ? headers.readsForwarded : headers.readsXForwardedFor
            guard reads else { continue }
            defer { listIndex += 1 }
            guard !lines[listIndex].isEmpty else { continue }
            let chain = ForwardedChain(kind, lines: lines[listIndex], maxHops: Self.maxHops, maxBytes: Self.maxHeaderBytes)
            guard chain.namesAnyNode else { continue }
            results.append(walk(chain, from: peer))
        }
        guard let first = results.first else { return peer }
        // Two lists naming different clients: one of them came from the
        // client, and nothing in the request says which (see
        // ForwardingHeaders.standard).
        guard results.allSatisfy({ $0 == first }) else {
            if warnedOfDisagreement.claim() { diagnostics.log(.warning, Self.disagreementWarning) }
            return peer
        }
        return first
    }

    func walk(_ chain: ForwardedChain, from peer: String) -> String {
        var current = peer
        for hop in chain.hops.reversed() {
            switch hop {
            case let .address(address):
                current = address.description
                if !isTrusted(address) { return current }
            case .hidden, .malformed:
                // What lies left of this hop was written by a node no
                // trusted proxy vouched for: stop at the last good address.
                return current
            }
        }
        return current
    }

    /// The socket peer as adapters give it: an address, possibly in
    /// brackets and with a port (`[::1]:8080`, `127.0.0.1:5000`).
    static func peerAddress(_ text: String) -> IPAddress? {
        if let address = IPAddress(text) { return address }
        guard case let .address(address) = ForwardedChain.node(ArraySlice(text.utf8)) else { return nil }
        return address
    }

    /// The values of every field named `name`, in order.
    static func lines(named name: String, in fields: HeaderFields) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var name = name
        name.withUTF8 { nameBytes in
            fields.forEachIndex(namedBytes: nameBytes) { index in
                lines.append(fields.storage[fields.spans[index].valueRange])
                return true
            }
        }
        return lines
    }
}

/// True for the first caller of ``claim()`` only.
final class OnceFlag: Sendable {
    private let done = Atomic<Bool>(false)

    func claim() -> Bool {
        !done.exchange(true, ordering: .relaxed)
    }
}
