/// The batch as bytes and back: a versioned binary form, field by field,
/// that keeps every value exactly (header bytes included).
extension UndeliveredBatch {
    /// Why bytes could not be read back as a batch: the byte offset and the
    /// reason, such as a torn write's missing end.
    public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where in the input the problem was found.
        public var offset: Int
        /// What was wrong.
        public var reason: String

        /// `undelivered batch: at byte N: REASON`.
        public var description: String { "undelivered batch: at byte \(offset): \(reason)" }
    }

    /// `AMUB`, then the form's version. Versions 1 and 2 are the records'
    /// forms (``RecordCodec/version``) and are still read; 3 added the alert
    /// transitions, after the profile updates, with records of form 2.
    private static let magic: [UInt8] = Array("AMUB".utf8)
    private static let version: UInt8 = 3

    /// The records' form in a batch of form `version`: forms 1 and 2 are
    /// the records' own; form 3 holds records of form 2. A new records'
    /// form needs a new batch form.
    private static func recordVersion(_ version: UInt8) -> UInt8 { min(version, 2) }

    /// The batch as bytes that ``init(serialized:)`` reads back exactly:
    /// form 2 when it holds no alert transition (an earlier release reads
    /// it), else form 3.
    public func serialized() -> [UInt8] {
        var writer = BinaryWriter()
        let version: UInt8 = alerts.isEmpty ? 2 : Self.version
        writer.bytes.append(contentsOf: Self.magic)
        writer.byte(version)
        writer.string(exporterName)
        writer.byte(reason.code)
        writer.string(message)
        writer.signed(abandonedAtNanoseconds)
        writer.identity(identity)
        let recordVersion = Self.recordVersion(version)
        writer.array(records) { $0.record($1, version: recordVersion) }
        writer.array(entities) { $0.entity($1, version: recordVersion) }
        if version >= 3 { writer.array(alerts) { $0.alert($1) } }
        return writer.bytes
    }

    /// Reads a batch from what ``serialized()`` wrote.
    ///
    /// - Throws: ``FormatError`` when the bytes are not a whole batch of a
    ///   known version: torn, corrupted, or from another format.
    public init(serialized bytes: [UInt8]) throws(FormatError) {
        var reader = BinaryReader(bytes)
        do throws(BinaryReader.Failure) {
            for expected in Self.magic {
                guard try reader.byte() == expected else { throw reader.fail("not an undelivered batch") }
            }
            let version = try reader.byte()
            guard (1...Self.version).contains(version) else { throw reader.fail("version \(version) is not known") }
            exporterName = try reader.string()
            let code = try reader.byte()
            guard let reason = Reason(code: code) else { throw reader.fail("reason \(code) is not known") }
            self.reason = reason
            message = try reader.string()
            abandonedAtNanoseconds = try reader.signed()
            identity = try reader.identity()
            let recordVersion = Self.recordVersion(version)
            records = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in
                try reader.record(version: recordVersion)
            }
            entities = try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in
                try reader.entity(version: recordVersion)
            }
            alerts =
                version >= 3
                ? try reader.array { (reader: inout BinaryReader) throws(BinaryReader.Failure) in try reader.alert() } : []
            guard reader.isAtEnd else { throw reader.fail("bytes follow the batch") }
        } catch {
            throw FormatError(offset: error.offset, reason: error.reason)
        }
    }
}

extension BinaryWriter {
    mutating func alert(_ alert: AlertEvent) {
        string(alert.rule)
        byte(alert.state == .firing ? 0 : 1)
        double(alert.value)
        optional(alert.threshold) { $0.double($1) }
        string(alert.scope)
        string(alert.instance)
        signed(alert.timeNanoseconds)
        signed(alert.firingSinceNanoseconds)
        bool(alert.isRepeat)
        string(alert.summary)
    }
}

extension BinaryReader {
    mutating func alert() throws(Failure) -> AlertEvent {
        let rule = try string()
        let code = try byte()
        guard code <= 1 else { throw fail("alert state \(code) is not known") }
        return AlertEvent(
            rule: rule, state: code == 0 ? .firing : .resolved, value: try double(),
            threshold: try optional { (reader: inout BinaryReader) throws(Failure) in try reader.double() },
            scope: try string(), instance: try string(), timeNanoseconds: try signed(),
            firingSinceNanoseconds: try signed(), isRepeat: try bool(), summary: try string())
    }
}
