/// ReadMe's mask of a secret: `sha512-` + the base64 of its SHA-512 + `?`
/// + its last four characters, as ReadMe's SDKs write it (the integrity
/// string of the `ssri` library, the last four characters as its option).
enum ReadMeMask {
    static func mask(_ value: String) -> String {
        // The last four code points, as Python's \`value[-4:]\` takes them.
        "sha512-" + Base64.encode(SHA512.hash(value.utf8)) + "?"
            + String(String.UnicodeScalarView(value.unicodeScalars.suffix(4)))
    }
}
