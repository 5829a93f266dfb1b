import FlyingFox
import FlyingSocks
import Foundation

/// A body of known length, read from `base` and handed on unchanged: each
/// chunk goes to `onChunk` as it is read, and `onEnd` runs once the last
/// byte has been handed on (the writer reads exactly `count` bytes and may
/// never ask for more).
struct RecordingBytes: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let base: HTTPBodySequence
    let count: Int
    let onChunk: @Sendable (Data) -> Void
    let onEnd: @Sendable () -> Void

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), remaining: count, onChunk: onChunk, onEnd: onEnd)
    }

    struct Iterator: AsyncBufferedIteratorProtocol {
        var base: HTTPBodySequence.Iterator
        var remaining: Int
        let onChunk: @Sendable (Data) -> Void
        let onEnd: @Sendable () -> Void
        var pending = Data()
        var ended = false

        mutating func next() async throws -> UInt8? {
            guard let buffer = try await nextBuffer(suggested: 1) else { return nil }
            return buffer.first
        }

        mutating func nextBuffer(suggested count: Int) async throws -> Data? {
            if pending.isEmpty {
                guard let chunk = try await base.next(), !chunk.isEmpty else {
                    end()
                    return nil
                }
                onChunk(chunk)
                pending = chunk
            }
            let taken = Data(pending.prefix(Swift.max(1, count)))
            pending.removeFirst(taken.count)
            remaining -= taken.count
            if remaining <= 0 && pending.isEmpty { end() }
            return taken
        }

        private mutating func end() {
            guard !ended else { return }
            ended = true
            onEnd()
        }
    }
}
