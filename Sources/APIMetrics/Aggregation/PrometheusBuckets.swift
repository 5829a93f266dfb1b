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

    /// How many buckets, `+Inf` included.
    static let bucketCount = 15

    /// The bucket a duration falls in: the first whose bound it does not
    /// exceed (`le`, as Prometheus counts). The bounds are written out as
    /// constants: this runs on the request path, where reading a global
    /// array would cost its lazy initialisation check on every call.
    @inline(__always)
    static func durationBucket(ofNanoseconds duration: Int64) -> Int {
        if duration <= 100_000_000 {
            if duration <= 5_000_000 { return 0 }
            if duration <= 10_000_000 { return 1 }
            if duration <= 25_000_000 { return 2 }
            if duration <= 50_000_000 { return 3 }
            if duration <= 75_000_000 { return 4 }
            return 5
        }
        if duration <= 250_000_000 { return 6 }
        if duration <= 500_000_000 { return 7 }
        if duration <= 750_000_000 { return 8 }
        if duration <= 1_000_000_000 { return 9 }
        if duration <= 2_500_000_000 { return 10 }
        if duration <= 5_000_000_000 { return 11 }
        if duration <= 7_500_000_000 { return 12 }
        if duration <= 10_000_000_000 { return 13 }
        return 14
    }
}
