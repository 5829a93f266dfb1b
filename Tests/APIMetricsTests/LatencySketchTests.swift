@testable import APIMetrics
import APIMetricsTestSupport
import Foundation
import Testing

@Suite("Latency sketch")
struct LatencySketchTests {
    /// Latency distributions, in nanoseconds, as servers see them.
    enum Distribution: String, CaseIterable, Sendable {
        case uniform, logNormal, bimodal, heavyTail, subMicrosecond

        func sample(_ random: inout SeededGenerator) -> Int64 {
            func unit() -> Double { Double.random(in: Double.ulpOfOne..<1, using: &random) }
            func normal() -> Double { sqrt(-2 * log(unit())) * cos(2 * .pi * unit()) }
            switch self {
            case .uniform:
                return Int64.random(in: 1_000_000...200_000_000, using: &random)
            case .logNormal:
                // Median 20 ms, a long right tail.
                return Int64(exp(log(20e6) + 0.8 * normal()))
            case .bimodal:
                // A cache hit (~2 ms) or a miss (~150 ms), one in five.
                return unit() < 0.8
                    ? Int64(2e6 + 3e5 * normal()).clamped(to: 1...Int64.max)
                    : Int64(150e6 + 2e7 * normal()).clamped(to: 1...Int64.max)
            case .heavyTail:
                // Pareto, shape 1.2, from 1 ms: a few calls take minutes.
                return Int64(1e6 / pow(unit(), 1 / 1.2)).clamped(to: 1...(1 << 41))
            case .subMicrosecond:
                return Int64.random(in: 0...5_000, using: &random)
            }
        }
    }

    static let quantiles = [0.5, 0.9, 0.95, 0.99, 0.999]

    /// The exact percentile the sketch approximates: the value at rank
    /// floor(q × (n − 1)) of the sorted durations.
    static func exact(_ sorted: [Int64], _ quantile: Double) -> Double {
        Double(sorted[Int((quantile * Double(sorted.count - 1)).rounded(.down))])
    }

    @Test(arguments: Distribution.allCases)
    func everyPercentileIsWithinOnePercentOfTheExactOne(distribution: Distribution) {
        for seed in UInt64(1)...4 {
            var random = SeededGenerator(seed: seed &* 7919)
            let count = [1, 7, 1_000, 50_000][Int(seed - 1)]
            let values = (0..<count).map { _ in distribution.sample(&random) }
            var sketch = LatencySketch()
            for value in values { sketch.add(nanoseconds: value) }
            let sorted = values.sorted()
            #expect(sketch.count == UInt64(count))
            #expect(sketch.minNanoseconds == sorted.first && sketch.maxNanoseconds == sorted.last)
            for quantile in Self.quantiles {
                let expected = Self.exact(sorted, quantile)
                let reported = sketch.percentile(quantile) ?? -1
                let error = expected == 0 ? abs(reported) : abs(reported - expected) / expected
                #expect(
                    error <= 0.01, "\(distribution) seed \(seed) n=\(count) p\(quantile * 100): \(reported) against \(expected)")
            }
        }
    }

    @Test func mergedSketchesEqualOneSketchOfEverything() {
        var random = SeededGenerator(seed: 42)
        var whole = LatencySketch()
        var parts = [LatencySketch](repeating: LatencySketch(), count: 5)
        for _ in 0..<20_000 {
            let value = Distribution.allCases.randomElement(using: &random)!.sample(&random)
            whole.add(nanoseconds: value)
            parts[Int.random(in: 0..<5, using: &random)].add(nanoseconds: value)
        }
        var merged = LatencySketch()
        for part in parts.shuffled(using: &random) { merged.merge(part) }
        #expect(merged == whole)
    }

    @Test func everyValueFallsInsideItsBucketAndBucketsTileTheLine() {
        var previousUpper: Int64 = 0
        for index in 0...LatencySketch.maxIndex {
            let (lower, upper) = LatencySketch.bounds(ofIndex: index)
            #expect(lower == previousUpper, "bucket \(index) starts at \(lower), the last ended at \(previousUpper)")
            #expect(upper > lower)
            // At most 1/64 of its lower bound wide: a midpoint within 0.78%.
            #expect(lower < 128 || Double(upper - lower) / Double(lower) <= 1.0 / 64)
            for value in Set([lower, upper - 1, (lower + upper) / 2]) {
                #expect(LatencySketch.index(ofNanoseconds: value) == index)
            }
            previousUpper = upper
        }
        // Past the last bound, everything shares the last bucket.
        #expect(LatencySketch.index(ofNanoseconds: .max) == LatencySketch.maxIndex)
        #expect(LatencySketch.index(ofNanoseconds: -5) == 0)
    }

    @Test func hostileValuesAreRecordedNotTrappedOn() {
        var sketch = LatencySketch()
        for value: Int64 in [-1, .min, 0, .max, 1 << 62] { sketch.add(nanoseconds: value) }
        #expect(sketch.count == 5)
        #expect(sketch.minNanoseconds == 0)
        #expect(sketch.maxNanoseconds == .max)
        #expect(sketch.percentile(0) == 0)
        #expect(sketch.percentile(.nan) != nil)
        #expect(LatencySketch().percentile(0.5) == nil)
    }

    @Test func partsThatDoNotFitTogetherAreRefused() {
        #expect(
            LatencySketch(bucketIndices: [3, 2], bucketCounts: [1, 1], sumNanoseconds: 5, minNanoseconds: 2, maxNanoseconds: 3)
                == nil)
        #expect(
            LatencySketch(bucketIndices: [3], bucketCounts: [1, 1], sumNanoseconds: 5, minNanoseconds: 2, maxNanoseconds: 3)
                == nil)
        #expect(
            LatencySketch(
                bucketIndices: [LatencySketch.maxIndex + 1], bucketCounts: [1], sumNanoseconds: 5, minNanoseconds: 2,
                maxNanoseconds: 3) == nil)
        #expect(
            LatencySketch(bucketIndices: [3], bucketCounts: [0], sumNanoseconds: 0, minNanoseconds: 0, maxNanoseconds: 0) == nil)
        #expect(
            LatencySketch(
                bucketIndices: [1, 2], bucketCounts: [.max, 1], sumNanoseconds: 0, minNanoseconds: 1, maxNanoseconds: 2) == nil)
        let rebuilt = LatencySketch(
            bucketIndices: [2, 3], bucketCounts: [1, 2], sumNanoseconds: 8, minNanoseconds: 2, maxNanoseconds: 3)
        #expect(rebuilt?.count == 3 && rebuilt?.percentile(1) == 3)
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self {
        min(range.upperBound, max(range.lowerBound, self))
    }
}
