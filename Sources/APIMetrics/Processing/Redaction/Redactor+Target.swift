extension Redactor {
    /// Hides secrets inside a request target (or a URL-valued header),
    /// keeping its shape and every name as written, so that `url` and the
    /// `query` derived from it agree: the user information of an absolute
    /// URL, path parameters (`/a;jsessionid=…`), query pairs split at `&`
    /// and `;`, and pairs in the fragment (`#access_token=…`).
    func redactTarget(_ target: String) -> String {
        guard allowlist != nil || !query.isEmpty || masksCards else { return target }
        // Most targets hold none of the characters anything below looks for.
        guard
            target.utf8.contains(where: {
                $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "@")
            })
        else { return target }
        var rest = Substring(target)
        var output = ""
        if let authority = Self.authorityStart(in: rest) {
            output += rest[..<authority]
            rest = rest[authority...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                output += replacement + "@"
                rest = rest[rest.index(after: at)...]
            }
        }
        let pathEnd = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        output += redactPathParameters(rest[..<pathEnd])
        rest = rest[pathEnd...]
        if rest.first == "?" {
            let queryEnd = rest.firstIndex(of: "#") ?? rest.endIndex
            output += "?" + redactPairs(rest[rest.index(after: rest.startIndex)..<queryEnd], deny: query, separators: "&;")
            rest = rest[queryEnd...]
        }
        if rest.first == "#" {
            let fragment = rest.dropFirst()
            output += "#" + (fragment.contains("=") ? redactPairs(fragment, deny: query, separators: "&;") : String(fragment))
        }
        return output
    }

    /// Where the authority of an absolute URL (`scheme://authority/…`) starts.
    private static func authorityStart(in target: Substring) -> Substring.Index? {
        guard let colon = target.firstIndex(of: ":"),
            target[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
            !target[..<colon].isEmpty, target[colon...].hasPrefix("://")
        else { return nil }
        return target.index(colon, offsetBy: 3)
    }

    /// `;name=value` parameters inside path segments.
    private func redactPathParameters(_ path: Substring) -> String {
        guard path.contains(";") else { return String(path) }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard let semicolon = segment.firstIndex(of: ";") else { return String(segment) }
            return String(segment[...semicolon])
                + redactPairs(segment[segment.index(after: semicolon)...], deny: query, separators: ";")
        }.joined(separator: "/")
    }

    /// Redacts `name=value` pairs joined by any of `separators`, as in a
    /// query or a form body, keeping each separator as it was; a value that
    /// is a card number is hidden whatever its name.
    func redactPairs(_ text: Substring, deny names: NameSet, separators: String = "&;") -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var start = text.startIndex
        while true {
            let end = text[start...].firstIndex { separators.contains($0) } ?? text.endIndex
            let part = text[start..<end]
            if let equals = part.firstIndex(of: "=") {
                let rawName = part[..<equals]
                let rawValue = part[part.index(after: equals)...]
                if hides(URLTarget.decode(rawName), deny: names)
                    || (masksCards && CardNumber.matches(Substring(URLTarget.decode(rawValue))))
                {
                    output += rawName + "=" + replacement
                } else {
                    output += part
                }
            } else {
                output += part
            }
            guard end < text.endIndex else { break }
            output.append(text[end])
            start = text.index(after: end)
        }
        return output
    }
}
