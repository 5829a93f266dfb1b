/// The hops a list header (`Forwarded`, `X-Forwarded-For`) names, leftmost
/// (furthest from this server) first, as far as they could be read.
///
/// Bounded: at most ``ClientAddressResolver/maxHops`` hops are kept (the
/// rightmost ones, the only ones a walk from this server can reach) and at
/// most ``ClientAddressResolver/maxHeaderBytes`` of the header's lines are
/// read, from the right end back; what lies beyond either bound is not
/// parsed and `isCut` says so.
///
/// The byte bound is a window on the right end, not a rule that skips a
/// long line: proxies append to the line the client sent, so a client that
/// pads its own `X-Forwarded-For` would otherwise hide the address the
/// proxy appended to it. The line the window cuts is read from its first
/// comma inside the window; the element cut in two counts as one malformed
/// hop, which stops a walk that gets that far as any unreadable value does.
struct ForwardedChain: Equatable {
    enum Hop: Equatable {
        case address(IPAddress)
        /// `unknown`, an obfuscated identifier such as `_hidden`, or a
        /// `Forwarded` element without `for`: a hop that chose not to say.
        case hidden
        /// A value that could not be read.
        case malformed
    }

    enum Kind {
        /// RFC 7239: `for=` parameters of `;`-separated pairs.
        case forwarded
        /// A comma-separated list of addresses.
        case xForwardedFor
    }

    var hops: [Hop] = []
    var isCut = false
    /// Whether any element had a `for` parameter (or, for
    /// `X-Forwarded-For`, any element at all): a `Forwarded` header that
    /// only carries `proto` or `host` says nothing about addresses.
    var namesAnyNode = false

    init() {}

    /// Reads `lines` (the header's field lines in order) as `kind`.
    init(_ kind: Kind, lines: [ArraySlice<UInt8>], maxHops: Int, maxBytes: Int) {
        var first = lines.endIndex
        var budget = maxBytes
        while first > lines.startIndex, lines[first - 1].count <= budget {
            budget -= lines[first - 1].count
            first -= 1
        }
        isCut = first > lines.startIndex
        if isCut, budget > 0 {
            readWindow(kind, lines[first - 1].suffix(budget), maxHops: maxHops)
        }
        for line in lines[first...] {
            read(kind, line, maxHops: maxHops)
        }
        if hops.count > maxHops {
            hops.removeFirst(hops.count - maxHops)
            isCut = true
        }
    }

    private mutating func read(_ kind: Kind, _ line: ArraySlice<UInt8>, maxHops: Int) {
        switch kind {
        case .forwarded: readForwarded(line)
        case .xForwardedFor: readXForwardedFor(line)
        }
        if hops.count > 2 * maxHops {
            hops.removeFirst(hops.count - maxHops)
            isCut = true
        }
    }

    /// The right end of a line longer than what the byte bound leaves.
    /// Its first comma may sit inside a quoted string a client opened left
    /// of the window (for `Forwarded`); reading from there is then no worse
    /// than reading a header the client wrote itself, since the client
    /// controls every byte left of what its proxies appended: the
    /// recovery after a malformed element (see `readForwarded`) still
    /// reaches the elements that lie whole inside the window.
    private mutating func readWindow(_ kind: Kind, _ window: ArraySlice<UInt8>, maxHops: Int) {
        namesAnyNode = true
        hops.append(.malformed)
        guard let comma = window.firstIndex(of: UInt8(ascii: ",")) else { return }
        read(kind, window[(comma + 1)...], maxHops: maxHops)
    }

    private mutating func readXForwardedFor(_ line: ArraySlice<UInt8>) {
        for item in line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let trimmed = Self.trimmed(item)
            // RFC 9110 §5.6.1: empty list elements are ignored.
            guard !trimmed.isEmpty else { continue }
            namesAnyNode = true
            hops.append(Self.node(trimmed))
        }
    }

    /// RFC 7239 §4: `Forwarded = 1#forwarded-element`, an element being
    /// `[pair] *(";" [pair])`, a pair `token "=" (token / quoted-string)`.
    /// An element that breaks the grammar becomes one malformed hop and
    /// reading goes on after the first comma past the element's start, so
    /// that a broken value a client sent (an open quote, say) cannot swallow
    /// the well-formed element a proxy appended after it on the same line.
    private mutating func readForwarded(_ line: ArraySlice<UInt8>) {
        var index = line.startIndex
        while index < line.endIndex {
            let start = index
            switch Self.element(line, from: &index) {
            case let .node(value):
                namesAnyNode = true
                hops.append(Self.node(value[...]))
            case .withoutFor:
                hops.append(.hidden)
            case .empty:
                break
            case .malformed:
                namesAnyNode = true
                hops.append(.malformed)
                index = line[start...].firstIndex(of: UInt8(ascii: ",")).map { $0 + 1 } ?? line.endIndex
            }
        }
    }

    private enum Element {
        /// The element's `for` value, unquoted.
        case node([UInt8])
        case withoutFor
        /// Nothing between two commas (RFC 9110 §5.6.1: ignored).
        case empty
        case malformed
    }

    /// Reads one element up to and including its comma.
    private static func element(_ line: ArraySlice<UInt8>, from index: inout Int) -> Element {
        var forValue: [UInt8]?
        var sawPair = false
        while true {
            skipWhitespace(line, &index)
            guard index < line.endIndex else { break }
            let byte = line[index]
            if byte == UInt8(ascii: ",") {
                index += 1
                break
            }
            if byte == UInt8(ascii: ";") {
                index += 1
                continue
            }
            // A pair.
            let nameStart = index
            while index < line.endIndex, isTokenByte(line[index]) { index += 1 }
            let name = line[nameStart..<index]
            guard !name.isEmpty, index < line.endIndex, line[index] == UInt8(ascii: "=") else { return .malformed }
            index += 1
            let value: [UInt8]
            if index < line.endIndex, line[index] == UInt8(ascii: "\"") {
                guard let quoted = quotedString(line, from: &index) else { return .malformed }
                value = quoted
            } else {
                let valueStart = index
                while index < line.endIndex, isTokenByte(line[index]) { index += 1 }
                guard index > valueStart else { return .malformed }
                value = Array(line[valueStart..<index])
            }
            sawPair = true
            if name.count == 3, name.elementsEqual("for".utf8, by: { $0 | 0x20 == $1 }) {
                // RFC 7239 §4: a parameter occurs at most once per element.
                guard forValue == nil else { return .malformed }
                forValue = value
            }
            skipWhitespace(line, &index)
            guard index == line.endIndex || line[index] == UInt8(ascii: ";") || line[index] == UInt8(ascii: ",") else {
                return .malformed
            }
        }
        if let forValue { return .node(forValue) }
        return sawPair ? .withoutFor : .empty
    }

    /// RFC 9110 §5.6.4, from the opening quote; `nil` when it never closes
    /// or holds a control character.
    private static func quotedString(_ line: ArraySlice<UInt8>, from index: inout Int) -> [UInt8]? {
        var value: [UInt8] = []
        index += 1
        while index < line.endIndex {
            let byte = line[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return value
            case UInt8(ascii: "\\"):
                guard index < line.endIndex,
                    isQuotedTextByte(line[index]) || line[index] == UInt8(ascii: "\"") || line[index] == UInt8(ascii: "\\")
                else {
                    return nil
                }
                value.append(line[index])
                index += 1
            default:
                guard isQuotedTextByte(byte) else { return nil }
                value.append(byte)
            }
        }
        return nil
    }

    /// RFC 7239 §6 `node` (and the bare forms seen in `X-Forwarded-For`):
    /// `unknown`, `_obfuscated`, `IPv4[:port]`, `[IPv6]`, `[IPv6]:port`, or a
    /// bare IPv6; a port may itself be obfuscated (`_p1`).
    static func node(_ value: ArraySlice<UInt8>) -> Hop {
        guard !value.isEmpty else { return .malformed }
        let colon = UInt8(ascii: ":")
        var host = value
        var port: ArraySlice<UInt8>?
        if value.first == UInt8(ascii: "[") {
            guard let close = value.firstIndex(of: UInt8(ascii: "]")) else { return .malformed }
            host = value[(value.startIndex + 1)..<close]
            let rest = value[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == colon else { return .malformed }
                port = rest.dropFirst()
            }
            guard let address = IPAddress(host) else { return .malformed }
            return isPort(port) ? .address(address) : .malformed
        }
        let colons = value.lazy.filter { $0 == colon }.count
        if colons > 1 {
            // Only an IPv6 address has several colons; without brackets it
            // cannot carry a port.
            return IPAddress(value).map(Hop.address) ?? .malformed
        }
        if colons == 1, let at = value.firstIndex(of: colon) {
            host = value[..<at]
            port = value[(at + 1)...]
        }
        guard isPort(port) else { return .malformed }
        if host.count == 7, host.elementsEqual("unknown".utf8, by: { $0 | 0x20 == $1 }) { return .hidden }
        if host.first == UInt8(ascii: "_") {
            return host.count > 1 && host.dropFirst().allSatisfy(isObfuscatedByte) ? .hidden : .malformed
        }
        guard let ipv4 = IPAddress.parseIPv4(host) else { return .malformed }
        return .address(IPAddress(ipv4: ipv4))
    }

    /// `port = 1*5DIGIT` or `obfport = "_" 1*(ALPHA / DIGIT / "." / "_" / "-")`.
    private static func isPort(_ port: ArraySlice<UInt8>?) -> Bool {
        guard let port else { return true }
        if port.first == UInt8(ascii: "_") { return port.count > 1 && port.dropFirst().allSatisfy(isObfuscatedByte) }
        guard (1...5).contains(port.count), port.allSatisfy({ IPAddress.decimalValue($0) != nil }) else { return false }
        return port.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 65535
    }

    private static func isObfuscatedByte(_ byte: UInt8) -> Bool {
        IPAddress.decimalValue(byte) != nil || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if IPAddress.decimalValue(byte) != nil || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `qdtext` and the visible part of `quoted-pair`: HTAB, SP, VCHAR, obs-text.
    private static func isQuotedTextByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    private static func skipWhitespace(_ line: ArraySlice<UInt8>, _ index: inout Int) {
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var bytes = bytes
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return bytes
    }
}
