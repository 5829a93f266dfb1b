/// The duration histogram's bucket bounds: OpenTelemetry's recommended
/// boundaries for `http.server.request.duration`.
public enum PrometheusBuckets {
    /// Upper bounds in seconds, from 5 ms to 10 s; a last bucket (`+Inf`)
    /// holds everything slower.
    public static let durationSeconds: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]

    /// The same bounds in nanoseconds, compared with on the request path.
    static let durationNanoseconds: [Int64] = durationSeconds.map { Int64(($0 * 1e9).rounded()) }

    /// The bucket a duration falls in: the first whose bound it does not
    /// exceed (`le`, as Prometheus counts).
    @inline(__always)
    static func durationBucket(ofNanoseconds duration: Int64) -> Int {
        var bucket = 0
        for bound in durationNanoseconds {
            if duration <= bound { return bucket }
            bucket += 1
        }
        return bucket
    }
}
