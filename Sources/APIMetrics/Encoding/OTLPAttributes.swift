/// `KeyValue` attributes (`common/v1/common.proto`), written as elements
/// of the message's attribute field (9 in a span), inside its
/// ``OTLPWriter/repeated(_:_:_:)``.
enum OTLPAttributes {
    static func string<W: OTLPWriter & ~Copyable>(_ key: String, _ value: String, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.presentString(1, "stringValue", value) }
        }
    }

    static func int<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Int64, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.int64(3, "intValue", value, isPresent: true) }
        }
    }

    static func strings<W: OTLPWriter & ~Copyable>(_ key: String, _ values: [String], into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in
                any.message(5, "arrayValue") { array in
                    array.repeated(1, "values") { list in
                        for value in values { list.element(1) { item in item.presentString(1, "stringValue", value) } }
                    }
                }
            }
        }
    }

    /// A `true` attribute (a false one is left out: proto3 would not tell it from none).
    static func bool<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Bool, into writer: inout W, field: Int = 9) {
        guard value else { return }
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.bool(2, "boolValue", true) }
        }
    }

    static func double<W: OTLPWriter & ~Copyable>(_ key: String, _ value: Double, into writer: inout W, field: Int = 9) {
        writer.element(field) { keyValue in
            keyValue.string(1, "key", key)
            keyValue.message(2, "value") { any in any.double(4, "doubleValue", value, isPresent: true) }
        }
    }

    /// One attribute per header name, its values as a string array; names
    /// lowercased, as the conventions ask. Read in place: the values of a
    /// name are gathered by comparing the few fields there are (any case),
    /// and bytes that are not UTF-8 are replaced, not sent as they are.
    static func headers<W: OTLPWriter & ~Copyable>(
        _ headers: HeaderFields, prefix: StaticString, into writer: inout W, field: Int = 9
    ) {
        let count = headers.count
        guard count > 0 else { return }
        var taken = [Bool](repeating: false, count: count)
        var key = [UInt8]()
        key.reserveCapacity(prefix.utf8CodeUnitCount + 32)
        headers.withRawStorage { storage, spans in
            guard let base = storage.baseAddress else { return }
            func name(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(start: base + Int(spans[index].start), count: Int(spans[index].nameLength))
            }
            func value(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(
                    start: base + Int(spans[index].start) + Int(spans[index].nameLength), count: Int(spans[index].valueLength))
            }
            for first in 0..<count where !taken[first] {
                let firstName = name(first)
                key.removeAll(keepingCapacity: true)
                prefix.withUTF8Buffer { key.append(contentsOf: $0) }
                if EventEncoder.isValidUTF8(firstName) {
                    for byte in firstName { key.append(ASCII.lowercased(byte)) }
                } else {
                    key.append(contentsOf: String(decoding: firstName, as: UTF8.self).utf8.map(ASCII.lowercased))
                }
                writer.element(field) { keyValue in
                    key.withUnsafeBufferPointer { keyValue.presentUTF8(1, "key", $0) }
                    keyValue.message(2, "value") { any in
                        any.message(5, "arrayValue") { array in
                            array.repeated(1, "values") { list in
                                for other in first..<count where !taken[other] {
                                    let otherName = name(other)
                                    guard
                                        other == first
                                            || (otherName.count == firstName.count
                                                && ASCII.equalIgnoringCase(otherName, firstName))
                                    else { continue }
                                    taken[other] = true
                                    let text = value(other)
                                    list.element(1) { item in
                                        if EventEncoder.isValidUTF8(text) {
                                            item.presentUTF8(1, "stringValue", text)
                                        } else {
                                            item.presentString(1, "stringValue", String(decoding: text, as: UTF8.self))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
