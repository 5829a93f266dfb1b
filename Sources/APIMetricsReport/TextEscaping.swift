/// Writes values that came from clients (routes, paths, consumer ids) so
/// that they cannot act on whatever reads the output: a terminal (escape
/// sequences), a spreadsheet (formulas) or a CSV or JSON reader (quoting).
package enum TextEscaping {
    /// `text` made inert for a terminal: control characters (C0, DEL, C1),
    /// the line and paragraph separators and the bidirectional overrides
    /// (which reorder what the eye reads) are written as escapes, and the
    /// backslash is doubled so that an escape cannot be forged.
    package static func terminal(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsTerminalEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsTerminalEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{1B}": result += "\\e"
            default:
                result += scalar.value < 0x80 ? "\\x" + hex(scalar.value, digits: 2) : "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
        }
        return result
    }

    static func needsTerminalEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x5C, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// One CSV field (RFC 4180): quoted when it holds a comma, a quote, a
    /// carriage return or a line feed, quotes doubled. A field that a
    /// spreadsheet would run as a formula (starting with `=`, `+`, `-`,
    /// `@`, a tab or a carriage return) gets a leading `'`.
    ///
    /// - Parameter forTerminal: also escape control characters as
    ///   ``terminal(_:)`` does (when the output is a terminal, not a file).
    package static func csvField(_ text: String, forTerminal: Bool = false) -> String {
        var field = text
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { field = "'" + field }
        if forTerminal { field = terminal(field) }
        // Scalars, not characters: a quote followed by a combining mark is
        // one character in Swift and still a quote to a CSV reader.
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        var quoted = "\""
        for scalar in field.unicodeScalars {
            if scalar == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(scalar) }
        }
        return quoted + "\""
    }

    /// One CSV record: the fields, escaped, joined by commas, ended by CRLF.
    package static func csvRecord(_ fields: [String], forTerminal: Bool = false) -> String {
        fields.map { csvField($0, forTerminal: forTerminal) }.joined(separator: ",") + "\r\n"
    }

    /// A JSON string literal. Every control character, DEL, the C1 range,
    /// the line and paragraph separators and the bidirectional overrides
    /// are written as `\u` escapes, so the output is inert on a terminal
    /// and still decodes to the very same text.
    package static func jsonString(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if needsTerminalEscape(scalar) {
                    result += "\\u" + hex(scalar.value, digits: 4)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// Numbers as the CSV and JSON outputs write them.
package enum NumberText {
    /// A count that may be weighted: an integer when whole, else up to six
    /// decimals.
    package static func count(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if isWhole(value) { return String(Int64(value.rounded())) }
        return decimals(value, places: 6)
    }

    /// Whether a weighted count is a whole number (sums of weights carry
    /// the rounding of floating point).
    package static func isWhole(_ value: Double) -> Bool {
        value.isFinite && abs(value - value.rounded()) <= 1e-9 * max(1, abs(value))
    }

    /// Milliseconds from nanoseconds, to the microsecond; `nil` stays `nil`.
    package static func milliseconds(_ nanoseconds: Double?) -> String? {
        guard let nanoseconds, nanoseconds.isFinite else { return nil }
        return decimals(nanoseconds / 1e6, places: 3)
    }

    /// `value` with exactly `places` decimals.
    package static func fixed(_ value: Double, places: Int) -> String {
        let text = decimals(value, places: places)
        guard places > 0 else { return text }
        let present = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? -1
        return text + (present < 0 ? "." : "") + String(repeating: "0", count: places - max(0, present))
    }

    /// `value` with at most `places` decimals, trailing zeros dropped.
    package static func decimals(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(Int64(value.rounded())) }
        let units = Int64(scaled)
        guard places > 0 else { return (value < 0 && units != 0 ? "-" : "") + String(units) }
        let whole = units / Int64(scale)
        var fraction = String(units % Int64(scale))
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        let sign = value < 0 && units != 0 ? "-" : ""
        return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }
}
