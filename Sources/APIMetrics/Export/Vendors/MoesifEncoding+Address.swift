extension MoesifEncoding {
    /// The client address as the IP literal Moesif's `ip_address` takes
    /// ("IP address of the requester"): brackets, a port and a zone taken off
    /// (`[2001:db8::1]:443`, `203.0.113.9:5000`, `fe80::1%eth0`), written as
    /// the client-address resolution writes addresses, and `nil` for anything
    /// that is not an IPv4 or IPv6 address (a Unix socket's path, an
    /// obfuscated `Forwarded` name such as `_hidden`), which Moesif would
    /// otherwise show as the client. Without one, Moesif takes the sender's.
    static func ipAddress(_ address: String) -> String? {
        ClientAddressResolver.peerAddress(address)?.description
    }
}
