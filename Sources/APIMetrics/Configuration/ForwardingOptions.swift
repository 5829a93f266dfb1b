/// How the client's address is found when requests come through reverse
/// proxies: which peers are trusted to say who their client was, and in
/// which headers.
///
/// The sender (never the request's own task) reads the headers right to
/// left from the socket peer: while the hop it stands on is a trusted proxy,
/// it steps to the address that proxy names; the first address that is not
/// a trusted proxy is the client (`client_ip`, `client.address`, and what
/// the vendor exporters send). A peer that is not trusted is the client
/// itself, whatever its headers claim. The socket peer is kept beside it
/// (``RequestHead/peerAddress``).
///
/// ```swift
/// config.forwarding.trustedProxies = .cidrs(["10.0.0.0/8", "2001:db8:1::/48"])
/// config.forwarding.headers = [.xForwardedFor, .cfConnectingIP]
/// ```
public struct ForwardingOptions: Sendable, Hashable {
    /// The peers whose forwarding headers are believed; ``TrustedProxies/privateNetworks``
    /// by default (`APIMETRICS_TRUSTED_PROXIES`).
    public var trustedProxies: TrustedProxies
    /// The headers read; ``ForwardingHeaders/standard`` (`Forwarded` and
    /// `X-Forwarded-For`) by default (`APIMETRICS_FORWARDED_HEADERS`).
    public var headers: ForwardingHeaders

    /// Creates forwarding options.
    public init(trustedProxies: TrustedProxies = .privateNetworks, headers: ForwardingHeaders = .standard) {
        self.trustedProxies = trustedProxies
        self.headers = headers
    }

    /// Proxies on loopback, private, link-local and unique-local addresses,
    /// read from `Forwarded` and `X-Forwarded-For`.
    public static let `default` = ForwardingOptions()

    func validate(field: String) throws(ConfigurationError) {
        _ = try trustedProxies.ranges(field: "\(field).trustedProxies")
        try headers.validate(field: "\(field).headers")
    }
}

/// The addresses of the reverse proxies whose forwarding headers are
/// believed, as CIDR blocks (`10.0.0.0/8`, `fc00::/7`) or single addresses.
///
/// An IPv4 block also matches the IPv4-mapped IPv6 form (`::ffff:10.1.2.3`)
/// a dual-stack socket reports.
public struct TrustedProxies: Sendable, Hashable {
    /// The blocks, as written.
    public var cidrs: [String]

    /// Loopback (`127.0.0.0/8`, `::1`), the private IPv4 networks
    /// (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`), link-local
    /// (`169.254.0.0/16`, `fe80::/10`) and unique-local IPv6 (`fc00::/7`):
    /// what Rails trusts by default and Express's `loopback, linklocal,
    /// uniquelocal`. Right when the proxies in front of the server sit in
    /// its own network; a CDN's public addresses have to be named.
    public static let privateNetworks = TrustedProxies(cidrs: [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
        "169.254.0.0/16", "fe80::/10", "fc00::/7",
    ])

    /// No proxy is trusted: the client is always the socket peer and
    /// forwarding headers are never read (`APIMETRICS_TRUSTED_PROXIES=none`).
    public static let none = TrustedProxies(cidrs: [])

    /// These blocks and addresses, such as `["10.0.0.0/8", "203.0.113.7"]`.
    /// Each must be an IPv4 or IPv6 address with an optional prefix length
    /// and no bits set past it; a bad entry stops startup with a
    /// ``ConfigurationError`` naming it. Add them to the default with
    /// `.cidrs(TrustedProxies.privateNetworks.cidrs + [...])`.
    public static func cidrs(_ cidrs: [String]) -> TrustedProxies {
        TrustedProxies(cidrs: cidrs)
    }

    /// Creates a list from blocks as written; see ``cidrs(_:)``.
    public init(cidrs: [String]) {
        self.cidrs = cidrs
    }

    /// The parsed blocks; the error names the entry and the reason.
    func ranges(field: String) throws(ConfigurationError) -> [IPRange] {
        var ranges: [IPRange] = []
        ranges.reserveCapacity(cidrs.count)
        for (index, cidr) in cidrs.enumerated() {
            do {
                ranges.append(try IPRange(parsing: cidr))
            } catch {
                throw ConfigurationError(field: "\(field)[\(index)]", reason: error.reason)
            }
        }
        return ranges
    }
}

/// The request headers a trusted proxy names its client in.
///
/// `Forwarded` (RFC 7239) and `X-Forwarded-For` are lists, one hop per
/// proxy, read right to left. The others carry one address, the client as
/// the proxy nearest this server saw it, and are read only when named here,
/// because a proxy that does not set them passes a client's own value
/// through: name only those your proxies set. A header carrying one address
/// is believed before the lists, in the order given.
///
/// ```swift
/// config.forwarding.headers = [.xForwardedFor]                 // nginx, an AWS load balancer
/// config.forwarding.headers = .standard.union([.cfConnectingIP])  // behind Cloudflare
/// ```
public struct ForwardingHeaders: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// Whether `Forwarded` is read.
    var readsForwarded: Bool
    /// Whether `X-Forwarded-For` is read.
    var readsXForwardedFor: Bool
    /// Headers holding one address, lowercased, in the order they are tried.
    var singleAddressNames: [String]

    private init(forwarded: Bool, xForwardedFor: Bool, singleAddressNames: [String]) {
        readsForwarded = forwarded
        readsXForwardedFor = xForwardedFor
        self.singleAddressNames = singleAddressNames
    }

    /// `Forwarded` (RFC 7239): `for=` of each element, quoted IPv6 with
    /// brackets and ports, obfuscated identifiers (`_hidden`) and `unknown`.
    public static let forwarded = ForwardingHeaders(forwarded: true, xForwardedFor: false, singleAddressNames: [])
    /// `X-Forwarded-For`: a comma-separated list of addresses.
    public static let xForwardedFor = ForwardingHeaders(forwarded: false, xForwardedFor: true, singleAddressNames: [])
    /// `X-Real-IP`, as nginx's `proxy_set_header X-Real-IP $remote_addr` sets it.
    public static let xRealIP = singleAddress("x-real-ip")
    /// `CF-Connecting-IP`, set by Cloudflare.
    public static let cfConnectingIP = singleAddress("cf-connecting-ip")
    /// `True-Client-IP`, set by Akamai and Cloudflare Enterprise.
    public static let trueClientIP = singleAddress("true-client-ip")
    /// `Forwarded` and `X-Forwarded-For`, the default. When a request
    /// carries both and they name different clients, neither is believed
    /// and the socket peer stays the client: a proxy that writes only one
    /// of them passes a client's own copy of the other through, and which
    /// is which cannot be told from the request. Name the one your proxies
    /// write to avoid that.
    public static let standard: ForwardingHeaders = [.forwarded, .xForwardedFor]
    /// No header: the client is always the socket peer.
    public static let none = ForwardingHeaders(forwarded: false, xForwardedFor: false, singleAddressNames: [])

    /// Any header that carries one address set by your proxy, such as
    /// `Fastly-Client-IP`; the name must be an HTTP token.
    public static func singleAddress(_ name: String) -> ForwardingHeaders {
        ForwardingHeaders(forwarded: false, xForwardedFor: false, singleAddressNames: [name.lowercased()])
    }

    /// Both sets' headers; single-address headers keep their order, this
    /// one's first.
    public func union(_ other: ForwardingHeaders) -> ForwardingHeaders {
        var result = self
        result.readsForwarded = readsForwarded || other.readsForwarded
        result.readsXForwardedFor = readsXForwardedFor || other.readsXForwardedFor
        for name in other.singleAddressNames where !result.singleAddressNames.contains(name) {
            result.singleAddressNames.append(name)
        }
        return result
    }

    /// The union of the elements.
    public init(arrayLiteral elements: ForwardingHeaders...) {
        self = elements.reduce(ForwardingHeaders.none) { $0.union($1) }
    }

    /// The most single-address headers read.
    static let maxSingleAddressHeaders = 8

    /// The header names read, lowercased: the single-address ones, then
    /// `forwarded`, then `x-forwarded-for`.
    var names: [String] {
        singleAddressNames + (readsForwarded ? ["forwarded"] : []) + (readsXForwardedFor ? ["x-forwarded-for"] : [])
    }

    /// Parses a comma-separated list of header names, as in
    /// `APIMETRICS_FORWARDED_HEADERS`; `none` for none.
    init(names: [String]) {
        self = .none
        for name in names.map({ $0.lowercased() }) where name != "none" {
            switch name {
            case "forwarded": self = union(.forwarded)
            case "x-forwarded-for": self = union(.xForwardedFor)
            default: self = union(.singleAddress(name))
            }
        }
    }

    func validate(field: String) throws(ConfigurationError) {
        guard singleAddressNames.count <= Self.maxSingleAddressHeaders else {
            throw ConfigurationError(
                field: field,
                reason: "names \(singleAddressNames.count) single-address headers; at most \(Self.maxSingleAddressHeaders)")
        }
        for name in singleAddressNames {
            guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(ForwardedChain.isTokenByte) else {
                throw ConfigurationError(
                    field: field, reason: "\"\(name)\" is not a header name (letters, digits and !#$%&'*+-.^_`|~, 1 to 64 bytes)")
            }
            guard name != "forwarded", name != "x-forwarded-for" else {
                throw ConfigurationError(
                    field: field,
                    reason:
                        "\(name) is a list of hops, not one address: use .\(name == "forwarded" ? "forwarded" : "xForwardedFor")")
            }
        }
    }
}
