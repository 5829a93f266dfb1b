/// How the sender retries a batch that an exporter could not take.
///
/// Delays grow as `baseDelay * 2^(attempt-1)`, capped at `maxDelay`, each
/// spread by up to `jitter` of itself either way. A `Retry-After` from the
/// collector replaces the computed delay, capped at `maxRetryAfter`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per batch and exporter, the first included.
    public var maxAttempts: Int
    /// The delay before the second attempt.
    public var baseDelay: Duration
    /// The longest computed delay between attempts.
    public var maxDelay: Duration
    /// The share of each delay, from 0 to 1, added or taken away at random.
    public var jitter: Double
    /// The longest `Retry-After` honoured; longer ones are cut to this.
    public var maxRetryAfter: Duration

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - maxAttempts: attempts per batch and exporter, the first included,
    ///     at least 1; 6 by default.
    ///   - baseDelay: the delay before the second attempt, positive;
    ///     0.5 seconds by default.
    ///   - maxDelay: the longest computed delay between attempts, at least
    ///     `baseDelay`; 30 seconds by default.
    ///   - jitter: the share of each delay, from 0 to 1, added or taken away
    ///     at random; 0.2 by default.
    ///   - maxRetryAfter: the longest `Retry-After` honoured, not negative;
    ///     120 seconds by default.
    public init(
        maxAttempts: Int = 6,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        jitter: Double = 0.2,
        maxRetryAfter: Duration = .seconds(120)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.maxRetryAfter = maxRetryAfter
    }

    /// Six attempts, from 0.5 s doubling up to 30 s, ±20 % jitter.
    public static let `default` = RetryPolicy()

    /// One attempt only.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before attempt `attempt + 1`, given `attempt` attempts failed.
    public func delay<G: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout G) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let base = baseDelay.seconds * Double(UInt64(1) << UInt64(exponent))
        let capped = min(base, maxDelay.seconds)
        let spread = capped * jitter
        let jittered = spread > 0 ? capped + Double.random(in: -spread...spread, using: &generator) : capped
        return .nanoseconds(Int64(max(0, jittered) * 1e9))
    }

    func validate(field: String) throws(ConfigurationError) {
        guard maxAttempts >= 1 else {
            throw ConfigurationError(field: "\(field).maxAttempts", reason: "must be at least 1, got \(maxAttempts)")
        }
        guard baseDelay > .zero else {
            throw ConfigurationError(field: "\(field).baseDelay", reason: "must be positive, got \(baseDelay)")
        }
        guard maxDelay >= baseDelay else {
            throw ConfigurationError(
                field: "\(field).maxDelay", reason: "must be at least baseDelay (\(baseDelay)), got \(maxDelay)")
        }
        guard jitter >= 0, jitter <= 1 else {
            throw ConfigurationError(field: "\(field).jitter", reason: "must be between 0 and 1, got \(jitter)")
        }
        guard maxRetryAfter >= .zero else {
            throw ConfigurationError(field: "\(field).maxRetryAfter", reason: "must not be negative, got \(maxRetryAfter)")
        }
    }
}

extension Duration {
    /// The duration in seconds as a double.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, saturating.
    var nanosecondsClamped: Int64 {
        let parts = components
        let (secondsPart, overflow) = parts.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return parts.seconds < 0 ? .min : .max }
        return secondsPart &+ parts.attoseconds / 1_000_000_000
    }
}
