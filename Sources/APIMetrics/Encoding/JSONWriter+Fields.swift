/// Fields: a key and its value in one call, left out when the value is
/// absent (`nil`), as every encoder here leaves out what a call did not have.
extension JSONWriter {
    /// Writes `"name":"value"`, escaped; nothing when `value` is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// Writes `"name":value`; nothing when `value` is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    /// Writes `"name":value` in its shortest exact form (`null` when not
    /// finite); nothing when `value` is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    /// Writes `"name":true` or `false`; nothing when `value` is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    /// Writes an event id as `"name":"<32 hex digits>"`; nothing when `id`
    /// is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, _ id: EventID?) {
        guard let id else { return }
        key(name)
        string(id)
    }

    /// Writes an instant as `"name":"<RFC 3339 UTC>"`; nothing when
    /// `nanoseconds` is `nil`.
    @inline(__always)
    mutating func field(_ name: StaticString, timestamp nanoseconds: Int64?) {
        guard let nanoseconds else { return }
        key(name)
        timestamp(nanosecondsSinceEpoch: nanoseconds)
    }
}
