import APIMetricsWire
import SocketServer

/// Hands a connection's bytes to its wire tap.
struct TapObserver: ConnectionObserver {
    let tap: WireTap

    func inbound(_ bytes: ArraySlice<UInt8>) {
        tap.inbound(bytes)
    }

    func outbound(_ bytes: ArraySlice<UInt8>) {
        tap.outbound(bytes)
    }

    func close() {
        tap.close()
    }

    var context: AnyObject? { tap }
}
