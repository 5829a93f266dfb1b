#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import APIMetrics

/// The names and values of the head being read, back to back, and where
/// each lies, in raw memory kept from message to message: a field costs a
/// copy of its bytes, and the head's list is made in one go at its end (two
/// allocations of exactly the size needed).
final class HeadScratch {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity: Int
    private var byteCount = 0
    private var spans: UnsafeMutablePointer<HeaderFields.Span>
    private var spanCapacity: Int
    /// The number of fields held.
    private(set) var count = 0
    /// A request's target, kept until its head is handled.
    private var target: UnsafeMutablePointer<UInt8>
    private var targetCapacity = 256
    private var targetCount = 0

    init(byteCapacity: Int = 1024, spanCapacity: Int = 16) {
        self.byteCapacity = byteCapacity
        self.spanCapacity = spanCapacity
        bytes = .allocate(capacity: byteCapacity)
        spans = .allocate(capacity: spanCapacity)
        target = .allocate(capacity: targetCapacity)
    }

    deinit {
        bytes.deallocate()
        spans.deallocate()
        target.deallocate()
    }

    func removeAll() {
        byteCount = 0
        count = 0
        targetCount = 0
    }

    func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let needed = byteCount + name.count + value.count
        if needed > byteCapacity { growBytes(to: needed) }
        if count == spanCapacity { growSpans() }
        if let source = name.baseAddress { (bytes + byteCount).initialize(from: source, count: name.count) }
        if let source = value.baseAddress { (bytes + byteCount + name.count).initialize(from: source, count: value.count) }
        (spans + count).initialize(
            to: HeaderFields.Span(
                start: UInt32(truncatingIfNeeded: byteCount), nameLength: UInt32(truncatingIfNeeded: name.count),
                valueLength: UInt32(truncatingIfNeeded: value.count)))
        byteCount = needed
        count += 1
    }

    func setTarget(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.count > targetCapacity {
            target.deallocate()
            targetCapacity = max(bytes.count, targetCapacity * 2)
            target = .allocate(capacity: targetCapacity)
        }
        if let source = bytes.baseAddress { target.initialize(from: source, count: bytes.count) }
        targetCount = bytes.count
    }

    func makeTarget() -> String {
        String(decoding: UnsafeBufferPointer(start: target, count: targetCount), as: UTF8.self)
    }

    func makeHeaderFields() -> HeaderFields {
        HeaderFields(
            copyingBytes: UnsafeBufferPointer(start: bytes, count: byteCount),
            spans: UnsafeBufferPointer(start: spans, count: count))
    }

    private func growBytes(to needed: Int) {
        let capacity = max(needed, byteCapacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: bytes, count: byteCount)
        bytes.deallocate()
        bytes = grown
        byteCapacity = capacity
    }

    private func growSpans() {
        let capacity = spanCapacity * 2
        let grown = UnsafeMutablePointer<HeaderFields.Span>.allocate(capacity: capacity)
        grown.initialize(from: spans, count: count)
        spans.deallocate()
        spans = grown
        spanCapacity = capacity
    }
}
