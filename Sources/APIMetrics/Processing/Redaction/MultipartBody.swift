/// Splits a `multipart/*` body (RFC 2046 §5.1, RFC 7578) into its parts,
/// for the redactor: every byte a client sent is hostile, so the split is
/// strict (CRLF line ends only, in part headers and before every delimiter;
/// the boundary of the `Content-Type` only) and
/// bounded (at most ``maxParts`` parts, ``maxHeaderBytes`` of headers
/// each); a body that does not split is not read at all, and the redactor
/// replaces it by the marker. Work is linear in the body (times the
/// boundary's length, at most 70 bytes).
struct MultipartBody {
    /// One part: its header block (without the blank line after it) and
    /// its content, as ranges of the body.
    struct Part {
        var headers: Range<Int>
        var content: Range<Int>
    }

    /// The most parts a body may have.
    static let maxParts = 1000
    /// The most bytes one part's header block may have.
    static let maxHeaderBytes = 16 * 1024
    /// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
    static let maxBoundaryBytes = 70

    /// The text before the first delimiter, kept as sent.
    var preamble: Range<Int>
    var parts: [Part]
    /// The text after the closing delimiter, or an empty range at the end
    /// when the body was cut before it.
    var epilogue: Range<Int>

    /// The body split at `boundary`, or `nil` when it is not a multipart
    /// body with that boundary. A body cut at the capture limit may end
    /// anywhere: its last part runs to the end.
    init?(_ bytes: [UInt8], boundary: [UInt8], isTruncated: Bool) {
        let crlf: [UInt8] = [0x0D, 0x0A]
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        let lineDelimiter = crlf + delimiter
        // A server that takes a bare LF for a line end would see a part
        // where this sees content: such a body is not read at all.
        var lfDelimiter = Self.find([0x0A] + delimiter, in: bytes, from: 0)
        while let found = lfDelimiter {
            guard found > 0, bytes[found - 1] == 0x0D else { return nil }
            lfDelimiter = Self.find([0x0A] + delimiter, in: bytes, from: found + 1)
        }
        var position: Int
        if bytes.starts(with: delimiter) {
            position = 0
        } else if let found = Self.find(lineDelimiter, in: bytes, from: 0) {
            position = found + 2
        } else {
            return nil
        }
        preamble = 0..<position
        parts = []
        epilogue = bytes.count..<bytes.count
        while true {
            var index = position + delimiter.count
            if index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 1] == UInt8(ascii: "-") {
                epilogue = (index + 2)..<bytes.count
                return
            }
            // Transport padding, then the end of the delimiter line.
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            if index + 2 > bytes.count {
                // The body stops inside a delimiter line.
                guard isTruncated else { return nil }
                epilogue = index..<bytes.count
                return
            }
            guard bytes[index] == 0x0D, bytes[index + 1] == 0x0A else { return nil }
            let headerStart = index + 2
            guard parts.count < Self.maxParts else { return nil }
            // An empty header block is the CRLF that ended the delimiter line
            // followed by one more.
            guard let headerEnd = Self.find(crlf + crlf, in: bytes, from: index, limit: Self.maxHeaderBytes + 4) else {
                guard isTruncated, bytes.count - headerStart <= Self.maxHeaderBytes,
                    Self.hasOnlyCRLFLineEnds(bytes[headerStart...].dropLast(bytes.last == 0x0D ? 1 : 0))
                else { return nil }
                parts.append(Part(headers: headerStart..<bytes.count, content: bytes.count..<bytes.count))
                return
            }
            let contentStart = headerEnd + 4
            let headers = headerStart..<max(headerStart, headerEnd)
            // The same for the header lines: a bare CR or LF in them could
            // end them earlier for a server than here.
            guard Self.hasOnlyCRLFLineEnds(bytes[headers]) else { return nil }
            // The content starts after the blank line: a delimiter is looked
            // for from there, as a server reads it (a `--boundary` line right
            // after the blank line is content).
            guard let contentEnd = Self.find(lineDelimiter, in: bytes, from: contentStart) else {
                guard isTruncated else { return nil }
                parts.append(Part(headers: headers, content: contentStart..<bytes.count))
                return
            }
            parts.append(Part(headers: headers, content: contentStart..<contentEnd))
            position = contentEnd + 2
        }
    }

    /// Whether every CR in `bytes` is followed by an LF and every LF
    /// preceded by a CR.
    static func hasOnlyCRLFLineEnds(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x0D:
                guard index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A else { return false }
                index += 2
            case 0x0A:
                return false
            default:
                index += 1
            }
        }
        return true
    }

    /// Where `needle` first occurs in `bytes` at or after `start`, looking
    /// at most `limit` bytes past `start`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int, limit: Int = .max) -> Int? {
        guard !needle.isEmpty, start >= 0 else { return nil }
        let last = min(bytes.count - needle.count, limit == .max ? .max : start + limit - needle.count)
        guard start <= last else { return nil }
        let first = needle[0]
        var index = start
        while index <= last {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// The header fields of a part's header block (lines `name: value`
    /// split at CRLF); a line without a colon is left out.
    static func headerFields(_ block: ArraySlice<UInt8>) -> HeaderFields {
        var pairs: [(String, String)] = []
        let text = String(decoding: block, as: UTF8.self)
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            pairs.append(
                (
                    String(line[..<colon]).trimmingOptionalWhitespace,
                    String(line[line.index(after: colon)...]).trimmingOptionalWhitespace
                ))
        }
        return HeaderFields(pairs)
    }

    /// The parameters after a header value's first `;` (`form-data;
    /// name="a"; filename="b"`), names lowercase, quoted values unquoted
    /// (a backslash keeps the next character). At most 64 are read.
    static func parameters(of value: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var scalars = Substring(value).unicodeScalars[...]
        guard let semicolon = scalars.firstIndex(of: ";") else { return [] }
        scalars = scalars[scalars.index(after: semicolon)...]
        while !scalars.isEmpty, result.count < 64 {
            while let first = scalars.first, first == " " || first == "\t" || first == ";" { scalars.removeFirst() }
            var name = ""
            while let first = scalars.first, first != "=", first != ";" {
                name.unicodeScalars.append(first)
                scalars.removeFirst()
            }
            var parameter = ""
            if scalars.first == "=" {
                scalars.removeFirst()
                while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
                if scalars.first == "\"" {
                    scalars.removeFirst()
                    while let first = scalars.first, first != "\"" {
                        scalars.removeFirst()
                        if first == "\\", let escaped = scalars.first {
                            parameter.unicodeScalars.append(escaped)
                            scalars.removeFirst()
                        } else {
                            parameter.unicodeScalars.append(first)
                        }
                    }
                    if !scalars.isEmpty { scalars.removeFirst() }
                    while let first = scalars.first, first != ";" { scalars.removeFirst() }
                } else {
                    while let first = scalars.first, first != ";" {
                        parameter.unicodeScalars.append(first)
                        scalars.removeFirst()
                    }
                    parameter = parameter.trimmingOptionalWhitespace
                }
            }
            let trimmed = name.trimmingOptionalWhitespace.lowercased()
            if !trimmed.isEmpty { result.append((trimmed, parameter)) }
        }
        return result
    }

    /// The boundary every multipart `Content-Type` field names, or `nil`
    /// when one has none, one is not a valid boundary (1 to 70 bytes, no
    /// control characters), or two name different ones.
    static func boundary(of headers: HeaderFields) -> [UInt8]? {
        var found: [UInt8]?
        for value in headers.values(for: "content-type") {
            let mediaType = String(value.prefix { $0 != ";" }).trimmingOptionalWhitespace.lowercased()
            guard mediaType.hasPrefix("multipart/") else { continue }
            guard let parameter = parameters(of: value).last(where: { $0.name == "boundary" }) else { return nil }
            let bytes = Array(parameter.value.utf8)
            guard (1...maxBoundaryBytes).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            if let found, found != bytes { return nil }
            found = bytes
        }
        return found
    }

    /// The names a part's `Content-Disposition` gives it: `name`, and
    /// `name*` (RFC 8187, percent-decoded after its charset and language),
    /// which RFC 7578 forbids but a server may still read.
    static func names(in headers: HeaderFields) -> [String] {
        var names: [String] = []
        for value in headers.values(for: "content-disposition") {
            for parameter in parameters(of: value) {
                if parameter.name == "name" {
                    names.append(parameter.value)
                } else if parameter.name == "name*" {
                    let encoded = parameter.value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false).last ?? ""
                    names.append(URLTarget.decode(encoded))
                }
            }
        }
        return names
    }
}
