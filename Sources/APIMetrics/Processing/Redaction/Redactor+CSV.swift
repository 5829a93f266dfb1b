extension Redactor {
    /// CSV (`text/csv`) and TSV (`text/tab-separated-values`): the columns
    /// whose heading (the first line) names a secret are hidden in every
    /// row, and the cells are then read as text (`name=value`, card
    /// numbers). Quoted cells may hold the separator and doubled quotes; a
    /// quoted cell running over a line break is not followed across it, so
    /// such a body is read as text only from there on.
    func redactDelimited(_ bytes: [UInt8], separator: UInt8, fields: NameSet) -> [UInt8] {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let heading = lines.first else { return bytes }
        let names = Self.cells(of: heading, separator: separator).map { range -> String in
            var cell = heading[range]
            while let first = cell.first, first == 0x20 || first == UInt8(ascii: "\"") { cell = cell.dropFirst() }
            while let last = cell.last, last == 0x20 || last == 0x0D || last == UInt8(ascii: "\"") { cell = cell.dropLast() }
            return String(decoding: cell, as: UTF8.self)
        }
        let hidden = Set(names.indices.filter { hides(names[$0], deny: fields) })
        guard !hidden.isEmpty else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let replacementBytes = Array(replacement.utf8)
        for (lineIndex, line) in lines.enumerated() {
            if lineIndex > 0 { output.append(0x0A) }
            guard lineIndex > 0 else {
                output.append(contentsOf: line)
                continue
            }
            var position = line.startIndex
            for (column, range) in Self.cells(of: line, separator: separator).enumerated() where hidden.contains(column) {
                var end = range.upperBound
                if end > range.lowerBound, line[end - 1] == 0x0D { end -= 1 }
                guard end > range.lowerBound else { continue }
                output.append(contentsOf: line[position..<range.lowerBound])
                output.append(contentsOf: replacementBytes)
                position = end
            }
            output.append(contentsOf: line[position...])
        }
        return output
    }

    /// Where each cell of a line lies.
    private static func cells(of line: ArraySlice<UInt8>, separator: UInt8) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = line.startIndex
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if byte == separator, !quoted {
                ranges.append(start..<index)
                start = index + 1
            }
            index += 1
        }
        ranges.append(start..<line.endIndex)
        return ranges
    }
}
