import CMallocCounter
import Foundation

/// One case's figures, as printed and written to the JSON file.
struct CaseResult {
    var name: String
    var nsMedian: Double
    var nsP99: Double
    /// Allocations per operation, `nil` where they cannot be counted.
    var allocations: Double?
    var opsPerSecond: Double
    /// Extra figures, such as MB/s.
    var notes: [(String, Double)] = []

    var json: String {
        var fields = [
            #""name":"\#(name)""#,
            #""ns_median":\#(Self.number(nsMedian))"#,
            #""ns_p99":\#(Self.number(nsP99))"#,
            #""allocs":\#(allocations.map(Self.number) ?? "null")"#,
            #""ops_per_s":\#(Self.number(opsPerSecond))"#,
        ]
        for (key, value) in notes { fields.append(#""\#(key)":\#(Self.number(value))"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3f", value) : "null"
    }
}

/// Runs a body in timed samples and reduces them to median and p99.
struct Harness {
    var samples: Int
    var warmupSamples: Int

    static func allocationCount() -> Int64? {
        let count = apimetrics_allocation_count()
        return count < 0 ? nil : count
    }

    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    /// Times `body(opsPerSample)` `samples` times; `between` runs untimed
    /// after each sample (to drain a queue, say).
    func measure(
        _ name: String,
        opsPerSample: Int,
        between: () -> Void = {},
        _ body: (Int) -> Void
    ) -> CaseResult {
        for _ in 0..<warmupSamples {
            body(opsPerSample)
            between()
        }
        var nanosPerOp: [Double] = []
        var allocsPerOp: [Double] = []
        for _ in 0..<samples {
            let allocationsBefore = Self.allocationCount()
            let start = Self.now()
            body(opsPerSample)
            let end = Self.now()
            let allocationsAfter = Self.allocationCount()
            between()
            nanosPerOp.append(Double(end - start) / Double(opsPerSample))
            if let before = allocationsBefore, let after = allocationsAfter {
                allocsPerOp.append(Double(after - before) / Double(opsPerSample))
            }
        }
        return Self.reduce(name, nanosPerOp, allocsPerOp)
    }

    static func reduce(_ name: String, _ nanosPerOp: [Double], _ allocsPerOp: [Double]) -> CaseResult {
        let sorted = nanosPerOp.sorted()
        let median = percentile(sorted, 0.5)
        let p99 = percentile(sorted, 0.99)
        let mean = sorted.reduce(0, +) / Double(max(sorted.count, 1))
        let allocs = allocsPerOp.isEmpty ? nil : percentile(allocsPerOp.sorted(), 0.5)
        return CaseResult(name: name, nsMedian: median, nsP99: p99, allocations: allocs, opsPerSecond: 1e9 / mean)
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded(.up)))
        return sorted[index]
    }
}

/// Starts `count` threads at once, each running `body(index)`; returns when
/// all are done.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            start.wait()
            body(index)
            group.leave()
        }
        thread.start()
    }
    for _ in 0..<count { start.signal() }
    group.wait()
}
