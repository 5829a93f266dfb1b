package import APIMetrics
import Foundation

/// A file named on the command line: a store (an SQLite file, one per
/// instance) or APIMetrics' NDJSON.
package enum InputFile {
    case store(StoreReader)
    case ndjson(path: String, text: String)

    /// The first 16 bytes of every SQLite 3 database.
    static let sqliteHeader = Array("SQLite format 3\0".utf8)
    /// The largest NDJSON file read (it is read whole).
    package static let maxNDJSONBytes = 1 << 30

    /// Opens `path`: a store when it starts with SQLite's header, NDJSON
    /// otherwise.
    ///
    /// - Throws: ``InputError`` when it cannot be read, is an SQLite file
    ///   that is no store, or holds bytes no text file has.
    package static func open(_ path: String) throws(InputError) -> InputFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(path: path, reason: "does not exist")
        }
        guard !isDirectory.boolValue else {
            throw InputError(path: path, reason: "is a directory, not a store or an NDJSON file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path: path, reason: "cannot be read (permission?)")
        }
        defer { try? handle.close() }
        let head: Data
        do {
            head = try handle.read(upToCount: 16) ?? Data()
        } catch {
            throw InputError(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        if Array(head) == sqliteHeader {
            do {
                return .store(try StoreReader(path: path))
            } catch {
                // The reader's "holds no store yet" is also what any other SQLite database says.
                let reason =
                    error.reason == "holds no store yet"
                    ? "holds no APIMetrics store (an SQLite database of something else, or a store not yet written)"
                    : error.reason
                throw InputError(path: path, reason: reason)
            }
        }
        let rest: Data
        do {
            rest = try handle.read(upToCount: maxNDJSONBytes) ?? Data()
            if try handle.read(upToCount: 1)?.isEmpty == false {
                throw InputError(
                    path: path, reason: "is over \(maxNDJSONBytes >> 20) MiB: split it (the rotated files are read one by one)")
            }
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        let bytes = head + rest
        guard !bytes.contains(0) else {
            throw InputError(path: path, reason: "is neither an APIMetrics store nor NDJSON (it holds binary data)")
        }
        return .ndjson(path: path, text: String(decoding: bytes, as: UTF8.self))
    }

    /// The store, or an error saying that the command reads stores only.
    package func store(for command: String) throws(InputError) -> StoreReader {
        switch self {
        case .store(let reader): return reader
        case .ndjson(let path, _):
            throw InputError(
                path: path, reason: "is not a store: \(command) reads stores only (apimetrics.sqlite); report also reads NDJSON")
        }
    }
}

/// A file that cannot be used: which one, and why.
package struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    package var description: String { "\(path) \(reason)" }
}
