import APIMetrics
import APIMetricsFoundation
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// The demo's HTTP client for `/proxy`: an instrumented `URLSession` when
/// recording, a plain one when not. Handlers run on connection threads, so
/// this waits for the async call there.
struct OutgoingClient: Sendable {
    struct UpstreamError: Error, ResponseStatusProviding, UnderlyingErrorProviding, CustomStringConvertible {
        var underlyingError: (any Error)?
        var responseStatus: Int { 502 }
        var description: String { "the upstream call failed" }
    }

    let instrumented: InstrumentedURLSession?

    func get(_ url: URL, parent: ActiveExchange?) throws -> (Int, [UInt8]) {
        let outcome = Mutex<Result<(Data, URLResponse), any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let request = URLRequest(url: url, timeoutInterval: 10)
        let instrumented = self.instrumented
        Task {
            do {
                let result: (Data, URLResponse)
                if let instrumented {
                    result = try await instrumented.data(for: request, parent: parent)
                } else {
                    result = try await URLSession.shared.data(for: request)
                }
                outcome.withLock { $0 = .success(result) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + 15) == .success, let result = outcome.withLock({ $0 }) else {
            throw UpstreamError(underlyingError: URLError(.timedOut))
        }
        switch result {
        case let .success((data, response)):
            return ((response as? HTTPURLResponse)?.statusCode ?? 502, Array(data))
        case let .failure(error):
            throw UpstreamError(underlyingError: error)
        }
    }
}
