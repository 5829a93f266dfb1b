/// Sees every byte a connection reads and writes, in order, and its close.
public protocol ConnectionObserver: Sendable {
    /// Bytes read from the peer.
    func inbound(_ bytes: ArraySlice<UInt8>)
    /// Bytes written to the peer, once written.
    func outbound(_ bytes: ArraySlice<UInt8>)
    /// The connection closed.
    func close()
    /// What the handler may want of the observer (a wire tap, say), as an
    /// object: a class cast of it is a pointer compare, where casting the
    /// observer itself to its type is a full dynamic cast on every request.
    var context: AnyObject? { get }
}

extension ConnectionObserver {
    /// None by default.
    public var context: AnyObject? { nil }
}
