/// The request log's unit of storage: one row of `call_blocks` holds the
/// calls of one commit (up to ``maxCalls`` of them, or ``maxRecordBytes`` of
/// records), so that a call costs the writer its encoding and not a row of
/// its own and an entry in each index of a table of calls.
///
/// A block's `calls` column is JSON text, an array with one array a call:
///
///     [time, event_hi, event_lo, parent_hi, parent_lo, direction, endpoint_id,
///      status, duration, path, request_bytes, response_bytes, consumer_id,
///      error_type, error_message, trace_id]
///
/// with trailing nulls left out. SQLite's own JSON functions read it, so the
/// `calls` view gives `sqlite3` users a table of calls as before; the
/// library reads it with ``CallBlockDecoder``. The `records` column holds
/// each call's full record (``RecordCodec``) in the same order, each after
/// its length as a varint. The block's row also carries what lets a read
/// skip it: its time range, its endpoints and consumers (`,3,17,`), the
/// status classes of each (`,e3:2,c17:5,`), and its server errors.
struct StoredCall: Sendable, Equatable {
    var time: Int64
    var id: EventID
    var parent: EventID?
    var isOutgoing: Bool
    var endpointID: Int64
    var status: Int
    var durationNanoseconds: Int64
    var path: String
    var requestBytes: Int
    var responseBytes: Int
    var consumerID: Int64?
    var errorType: String?
    var errorMessage: String?
    var traceID: String?

    /// Whether the call's id begins with the millisecond of its `time`, as
    /// ids made by the library do: then it is found through the blocks'
    /// time range; otherwise through `call_untimed`.
    var isTimed: Bool {
        let milliseconds = Int64(bitPattern: (id.high >> 16) & 0xFFFF_FFFF_FFFF)
        guard milliseconds < Int64.max / 1_000_000 - 1 else { return false }
        return time >= milliseconds * 1_000_000 && time < milliseconds * 1_000_000 + 1_000_000
    }
}

/// A block's calls being gathered by the writer.
struct CallBlockBuilder: ~Copyable {
    /// The most calls in one block.
    static let maxCalls = 1_024
    /// A block is closed once its records pass this many bytes (bodies make
    /// records large; a read of one call's detail reads its block's records).
    static let maxRecordBytes = 1 << 20

    private(set) var count = 0
    private(set) var firstTime = Int64.max
    private(set) var lastTime = Int64.min
    private(set) var serverErrors = 0
    private(set) var endpoints: Set<Int64> = []
    private(set) var consumers: Set<Int64> = []
    /// Each endpoint's and each consumer's status classes (`id << 3 | class`).
    private(set) var endpointClasses: Set<Int64> = []
    private(set) var consumerClasses: Set<Int64> = []
    private var lastEndpoint = Int64.min
    private var lastConsumer = Int64.min
    private var lastClass = -1
    /// The ids of the calls that `call_untimed` must find.
    private(set) var untimed: [(index: Int, id: EventID)] = []
    private var calls = JSONWriter(capacity: 16_384)
    var records = BinaryWriter()

    init() {
        calls.beginArray()
    }

    var isFull: Bool {
        count >= Self.maxCalls || records.bytes.count >= Self.maxRecordBytes || calls.byteCount >= Self.maxRecordBytes
    }

    /// Adds a call whose record is already appended to ``records`` (after
    /// its length; see ``appendRecord(_:)``).
    mutating func append(_ call: borrowing StoredCall) {
        if call.time < firstTime { firstTime = call.time }
        if call.time > lastTime { lastTime = call.time }
        if call.status >= 500 { serverErrors += 1 }
        // Most calls of a commit repeat the endpoint, consumer and status
        // class of the one before.
        let statusClass = Self.statusClass(call.status)
        if call.endpointID != lastEndpoint || statusClass != lastClass {
            endpoints.insert(call.endpointID)
            endpointClasses.insert(call.endpointID << 3 | Int64(statusClass))
        }
        if let consumer = call.consumerID, consumer != lastConsumer || statusClass != lastClass {
            consumers.insert(consumer)
            consumerClasses.insert(consumer << 3 | Int64(statusClass))
        }
        lastEndpoint = call.endpointID
        lastConsumer = call.consumerID ?? .min
        lastClass = statusClass
        if !call.isTimed { untimed.append((count, call.id)) }
        count += 1
        calls.beginArray()
        calls.int(Int(call.time))
        calls.int(Int(Int64(bitPattern: call.id.high)))
        calls.int(Int(Int64(bitPattern: call.id.low)))
        if let parent = call.parent {
            calls.int(Int(Int64(bitPattern: parent.high)))
            calls.int(Int(Int64(bitPattern: parent.low)))
        } else {
            calls.null()
            calls.null()
        }
        calls.int(call.isOutgoing ? 1 : 0)
        calls.int(Int(call.endpointID))
        calls.int(call.status)
        calls.int(Int(call.durationNanoseconds))
        calls.string(call.path)
        calls.int(call.requestBytes)
        calls.int(call.responseBytes)
        // Trailing nulls are left out: most calls end here.
        let last =
            call.traceID != nil ? 3 : call.errorMessage != nil ? 2 : call.errorType != nil ? 1 : call.consumerID != nil ? 0 : -1
        if last >= 0 { if let consumer = call.consumerID { calls.int(Int(consumer)) } else { calls.null() } }
        if last >= 1 { optional(call.errorType) }
        if last >= 2 { optional(call.errorMessage) }
        if last >= 3 { optional(call.traceID) }
        calls.endArray()
    }

    private mutating func optional(_ text: String?) {
        if let text { calls.string(text) } else { calls.null() }
    }

    /// Appends one call's encoded record after its length.
    mutating func appendRecord(_ bytes: UnsafeRawBufferPointer) {
        records.count(bytes.count)
        records.bytes.append(contentsOf: bytes)
    }

    /// The `calls` column: the JSON array, closed.
    mutating func finishCalls() -> UnsafeRawBufferPointer {
        calls.endArray()
        return UnsafeRawBufferPointer(start: calls.base, count: calls.byteCount)
    }

    /// A status's class, as the log's filter takes it: 1 to 5, and 0 for
    /// no response or a status outside them.
    static func statusClass(_ status: Int) -> Int {
        status >= 100 && status < 600 ? status / 100 : 0
    }

    /// The `classes` column: `,e3:2,e3:5,c17:5,` for each endpoint's (`e`)
    /// and consumer's (`c`) status classes in the block.
    var classList: String {
        var tokens: [String] = []
        tokens.reserveCapacity(endpointClasses.count + consumerClasses.count)
        for key in endpointClasses.sorted() { tokens.append("e\(key >> 3):\(key & 7)") }
        for key in consumerClasses.sorted() { tokens.append("c\(key >> 3):\(key & 7)") }
        return tokens.isEmpty ? "" : "," + tokens.joined(separator: ",") + ","
    }

    /// `,3,17,` for a set of ids; empty for none.
    static func idList(_ ids: Set<Int64>) -> String {
        guard !ids.isEmpty else { return "" }
        return "," + ids.sorted().map(String.init).joined(separator: ",") + ","
    }
}

/// Reads a block's `calls` column (``CallBlockBuilder``'s JSON). A block
/// that does not parse, written by anyone, is an error, never a crash.
struct CallBlockDecoder {
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "a block of calls cannot be read at byte \(offset): \(reason)" }
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    /// The calls whose texts (path, error, trace id) are made into
    /// strings: those of this status or above; the others' are read past
    /// and left empty (a read that counts calls needs none of them).
    private let textsFromStatus: Int64

    init(_ bytes: UnsafeRawBufferPointer, textsFromStatus: Int64 = 0) {
        self.bytes = bytes
        self.textsFromStatus = textsFromStatus
    }

    /// Every call of the block, in the order written.
    static func calls(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [StoredCall] {
        var result: [StoredCall] = []
        var decoder = CallBlockDecoder(bytes)
        try decoder.visitCalls { result.append($0) }
        return result
    }

    /// Each call of the block in turn, in the order written; the path,
    /// error and trace id of a call below `textsFromStatus` are empty.
    static func visitCalls(
        _ bytes: UnsafeRawBufferPointer, textsFromStatus: Int64, _ body: (StoredCall) -> Void
    ) throws(Failure) {
        var decoder = CallBlockDecoder(bytes, textsFromStatus: textsFromStatus)
        try decoder.visitCalls(body)
    }

    /// The most calls a block is read with: a row id keeps a call's place
    /// in 16 bits.
    static let maxCalls = 65_535
    /// The most bytes of calls a block is read with (the writer closes a
    /// block past 1 MiB): a longer one was not written by it.
    static let maxBytes = 64 << 20

    mutating func visitCalls(_ body: (StoredCall) -> Void) throws(Failure) {
        guard bytes.count <= Self.maxBytes else { throw fail("the block is longer than \(Self.maxBytes) bytes") }
        var count = 0
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            offset += 1
        } else {
            while true {
                count += 1
                guard count <= Self.maxCalls else { throw fail("the block holds more than \(Self.maxCalls) calls") }
                body(try call())
                skipSpace()
                guard let next = take() else { throw fail("the array ends early") }
                if next == UInt8(ascii: "]") { break }
                guard next == UInt8(ascii: ",") else { throw fail("a comma or ] was expected") }
            }
        }
        skipSpace()
        guard offset == bytes.count else { throw fail("bytes follow the array") }
    }

    private mutating func call() throws(Failure) -> StoredCall {
        try expect(UInt8(ascii: "["))
        let time = try integer()
        try comma()
        let high = try integer()
        try comma()
        let low = try integer()
        try comma()
        let parentHigh = try optionalInteger()
        try comma()
        let parentLow = try optionalInteger()
        try comma()
        let direction = try integer()
        try comma()
        let endpoint = try integer()
        try comma()
        let status = try integer()
        try comma()
        let duration = try integer()
        try comma()
        let keepsTexts = status >= textsFromStatus
        let path = try string(keeping: keepsTexts)
        try comma()
        let requestBytes = try integer()
        try comma()
        let responseBytes = try integer()
        var consumer: Int64?
        var texts: [String?] = [nil, nil, nil]
        if try more() {
            consumer = try optionalInteger()
            for index in 0..<3 {
                guard try more() else { break }
                texts[index] = try optionalString(keeping: keepsTexts)
            }
        }
        skipSpace()
        try expect(UInt8(ascii: "]"))
        // Any status and size the writer was handed reads back as it was
        // (a record handed over by an adapter may carry any Int).
        var parent: EventID?
        if let parentHigh, let parentLow {
            parent = EventID(high: UInt64(bitPattern: parentHigh), low: UInt64(bitPattern: parentLow))
        }
        return StoredCall(
            time: time, id: EventID(high: UInt64(bitPattern: high), low: UInt64(bitPattern: low)), parent: parent,
            isOutgoing: direction == 1, endpointID: endpoint, status: Int(status), durationNanoseconds: duration, path: path,
            requestBytes: Int(requestBytes), responseBytes: Int(responseBytes), consumerID: consumer, errorType: texts[0],
            errorMessage: texts[1], traceID: texts[2])
    }

    // MARK: Scalars

    private func fail(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    private func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func take() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipSpace()
        guard take() == byte else { throw fail("\(Character(Unicode.Scalar(byte))) was expected") }
    }

    private mutating func comma() throws(Failure) { try expect(UInt8(ascii: ",")) }

    /// Whether another element follows (a comma, taken) or the array ends (not taken).
    private mutating func more() throws(Failure) -> Bool {
        skipSpace()
        if peek() == UInt8(ascii: ",") {
            offset += 1
            return true
        }
        return false
    }

    private mutating func isNull() -> Bool {
        skipSpace()
        guard bytes.count - offset >= 4, bytes[offset] == UInt8(ascii: "n"), bytes[offset + 1] == UInt8(ascii: "u"),
            bytes[offset + 2] == UInt8(ascii: "l"), bytes[offset + 3] == UInt8(ascii: "l")
        else { return false }
        offset += 4
        return true
    }

    private mutating func optionalInteger() throws(Failure) -> Int64? {
        try isNull() ? nil : integer()
    }

    private mutating func optionalString(keeping: Bool) throws(Failure) -> String? {
        try isNull() ? nil : string(keeping: keeping)
    }

    /// A JSON integer in Int64's range (no fraction, no exponent).
    private mutating func integer() throws(Failure) -> Int64 {
        skipSpace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        var magnitude: UInt64 = 0
        var digits = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowSum else { throw fail("an integer is out of range") }
            magnitude = sum
            digits += 1
            offset += 1
        }
        guard digits > 0 else { throw fail("an integer was expected") }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("an integer is out of range") }
            return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("an integer is out of range") }
        return Int64(magnitude)
    }

    /// A string; read past, and empty, unless `keeping`.
    private mutating func string(keeping: Bool) throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = offset
        // The common case: no escape; the bytes are the string's.
        while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw fail("a control character is in a string") }
            offset += 1
        }
        guard let stop = peek() else { throw fail("a string is not closed") }
        if stop == UInt8(ascii: "\"") {
            offset += 1
            if !keeping { return "" }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset - 1]), as: UTF8.self)
        }
        var text = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while true {
            guard let byte = take() else { throw fail("a string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                return keeping ? String(decoding: text, as: UTF8.self) : ""
            case UInt8(ascii: "\\"):
                if let failed = JSONEscape.decode(bytes, at: &offset, into: &text) {
                    offset = failed
                    throw fail("a string holds an escape that is not valid")
                }
            default:
                guard byte >= 0x20 else { throw fail("a control character is in a string") }
                text.append(byte)
            }
        }
    }
}

/// The records of a block, each after its length.
enum CallBlockRecords {
    /// The bytes of record `index`, or `nil` when the column holds fewer
    /// or its lengths do not add up.
    static func record(at index: Int, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var offset = 0
        var current = 0
        while offset < bytes.count {
            var length: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else { return nil }
                let byte = bytes[offset]
                offset += 1
                length |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard length <= UInt64(bytes.count - offset) else { return nil }
            if current == index { return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)]) }
            offset += Int(length)
            current += 1
        }
        return nil
    }
}
