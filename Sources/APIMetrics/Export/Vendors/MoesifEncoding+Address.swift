#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MoesifEncoding {
    /// The client address as the IP literal Moesif's `ip_address` takes
    /// ("IP address of the requester"): brackets and a port taken off
    /// (`[2001:db8::1]:443`, `203.0.113.9:5000`), and `nil` for anything
    /// that is not an IPv4 or IPv6 address (a Unix socket's path, an
    /// obfuscated `Forwarded` name such as `_hidden`), which Moesif would
    /// otherwise show as the client. Without one, Moesif takes the sender's.
    static func ipAddress(_ address: String) -> String? {
        var text = Substring(address)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let port = text[text.index(after: close)...]
            guard port.isEmpty || (port.first == ":" && port.count > 1 && port.dropFirst().allSatisfy { ("0"..."9").contains($0) }) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = text[..<colon]
        }
        // A zone (`fe80::1%eth0`) names an interface of the host, not of the client.
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let literal = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 { return literal }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 { return literal.lowercased() }
        return nil
    }
}
