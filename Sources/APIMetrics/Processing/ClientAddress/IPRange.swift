/// A CIDR block such as `10.0.0.0/8` or `fc00::/7`, or one address.
///
/// IPv4 blocks are held in the IPv4-mapped space (`/8` becomes `/104`), so
/// that they also match the IPv4-mapped form a dual-stack socket reports.
struct IPRange: Hashable, Sendable {
    let base: IPAddress
    /// Prefix length in the 128-bit space.
    let prefixLength: Int

    init(base: IPAddress, prefixLength: Int) {
        self.base = base
        self.prefixLength = prefixLength
    }

    /// Why a CIDR text could not be read, in words for a ``ConfigurationError``.
    struct ParseError: Error, Hashable {
        let reason: String
    }

    /// Parses `address/length` or a bare address (the block of that one
    /// address). Bits past the prefix must be zero: `10.0.0.1/8` is more
    /// likely a typo than a wish, and the error names the block meant.
    init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = String(parts[0])
        guard !addressText.contains("%") else {
            throw ParseError(reason: "\"\(text)\" has a zone id (%…); a range cannot name an interface")
        }
        guard let address = IPAddress(addressText) else {
            throw ParseError(reason: "\"\(addressText)\" is not an IPv4 or IPv6 address")
        }
        let isIPv4Text = IPAddress.parseIPv4(Array(addressText.utf8)[...]) != nil
        let width = isIPv4Text ? 32 : 128
        var length = width
        if parts.count == 2 {
            let lengthText = parts[1]
            guard !lengthText.isEmpty, lengthText.utf8.count <= 3,
                lengthText.utf8.allSatisfy({ IPAddress.decimalValue($0) != nil }),
                !(lengthText.count > 1 && lengthText.hasPrefix("0")), let parsed = Int(lengthText), parsed <= width
            else {
                throw ParseError(reason: "\"\(text)\": the prefix length must be a whole number from 0 to \(width)")
            }
            length = parsed
        }
        let full = isIPv4Text ? length + 96 : length
        let masked = Self.mask(address, prefixLength: full)
        guard masked == address else {
            let suggestion = Self(base: masked, prefixLength: full).description
            throw ParseError(reason: "\"\(text)\" has bits set past the prefix length; the block is \(suggestion)")
        }
        self.init(base: address, prefixLength: full)
    }

    func contains(_ address: IPAddress) -> Bool {
        Self.mask(address, prefixLength: prefixLength) == base
    }

    static func mask(_ address: IPAddress, prefixLength: Int) -> IPAddress {
        func bits(_ count: Int) -> UInt64 {
            count <= 0 ? 0 : count >= 64 ? .max : ~(UInt64.max >> UInt64(count))
        }
        return IPAddress(high: address.high & bits(prefixLength), low: address.low & bits(prefixLength - 64))
    }

    /// `10.0.0.0/8`, `fc00::/7`: IPv4 blocks in their own notation.
    var description: String {
        if base.isIPv4 && prefixLength >= 96 { return "\(base.description)/\(prefixLength - 96)" }
        return "\(base.description)/\(prefixLength)"
    }
}
