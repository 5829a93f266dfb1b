/// Decides whether a header, query parameter or body field name names a
/// credential, by the words it is made of rather than by the whole string:
/// `newPassword`, `X-Hub-Signature-256`, `user[password]` and
/// `AWSAccessKeyId` are split into words (at `-`, `_`, `.`, brackets, any
/// other punctuation, lower-to-upper case changes, the end of a run of
/// capitals, and between letters and digits) and each word is looked up.
///
/// The vocabulary joins Apitally's default masking patterns (`auth`,
/// `api-key`, `secret`, `token`, `password`, `pwd`, `cookie`, card number,
/// `ccv`, `ssn`), OpenTelemetry's URL query sanitisation list
/// (`AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`) and the names
/// attackers were seen to pass through. Matching whole words keeps look-alikes
/// out: `author`, `keyboard`, `monkey`, `turnkey`, `passenger`.
enum CredentialWords {
    /// Where a name was found: some words are credentials in one place and
    /// ordinary in another (`code` alone is an OAuth code in a query, an
    /// error code in a body).
    enum Scope: Sendable, Hashable {
        case header, query, field
    }

    /// Words that make a name secret wherever they stand (a trailing `s` is
    /// also accepted: `tokens`, `secrets`).
    static let words: Set<String> = [
        "password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw",
        "secret", "token", "auth", "authorization", "credential", "cookie",
        "apikey", "accesskey", "secretkey", "privatekey", "clientsecret", "authtoken",
        "signature", "sig", "otp", "totp", "pin", "cvv", "cvc", "ccv", "cvn", "ssn", "pan",
        "jsessionid", "sessionid", "phpsessid", "aspsessionid", "creditcard", "cardnumber", "ccnumber",
        "csrf", "xsrf", "bearer", "jwt",
    ]

    /// Credential words run together in lowercase (`newpassword`,
    /// `accesstoken`, `jsessionid`): a word ending with one of them.
    static let suffixes: [String] = ["password", "passwd", "secret", "token", "apikey", "sessionid", "passphrase"]

    /// A word starting with one of these (`passwordhash`).
    static let prefixes: [String] = ["password", "passwd"]

    /// `key` is a credential after one of these (`api_key`, `privateKey`,
    /// `Ocp-Apim-Subscription-Key`, `X-Functions-Key`), when it ends the
    /// name or only `id` follows (`AWSAccessKeyId`), and so is one of these
    /// run together with `key` into one word (`clientkey`, `appkey`).
    static let keyQualifiers: Set<String> = [
        "api", "access", "private", "client", "secret", "subscription", "signing", "encryption",
        "master", "auth", "license", "app", "application", "consumer", "shared", "session", "ssh",
        "function", "functions",
    ]

    /// `code` is a credential after one of these (`security_code`, `mfa_code`).
    static let codeQualifiers: Set<String> = [
        "security", "mfa", "otp", "verification", "auth", "authorization", "recovery", "backup",
        "sms", "totp", "reset", "access", "pin",
    ]

    /// `number` (or `num`, `no`) is a credential after one of these.
    static let numberQualifiers: Set<String> = ["card", "cc", "pan", "account", "iban"]

    /// The name's words, lowercase. Case changes are read from the scalars
    /// as written (U+212A KELVIN SIGN is a capital K, as it lowercases to
    /// `k`); any scalar outside ASCII that is not a capital stays inside
    /// its word, combining marks included.
    static func words(of original: String, lowered: String) -> [Substring] {
        let scalars = Array(original.unicodeScalars)
        func kind(_ scalar: Unicode.Scalar) -> Int {
            switch scalar.value {
            case 0x61...0x7A: return 1
            case 0x41...0x5A: return 2
            case 0x30...0x39: return 3
            case 0x80...: return scalar.properties.isUppercase ? 2 : 1
            default: return 0
            }
        }
        var result: [Substring] = []
        var word = ""
        func close() {
            if !word.isEmpty { result.append(Substring(word.lowercased())) }
            word = ""
        }
        for index in scalars.indices {
            let current = kind(scalars[index])
            if current == 0 {
                close()
                continue
            }
            if !word.isEmpty {
                let previous = kind(scalars[index - 1])
                let next = index + 1 < scalars.count ? kind(scalars[index + 1]) : 0
                let splits =
                    (current == 2 && (previous == 1 || previous == 3))
                    || (current == 2 && previous == 2 && next == 1)
                    || (current == 3) != (previous == 3)
                if splits { close() }
            }
            word.unicodeScalars.append(scalars[index])
        }
        close()
        return result
    }

    /// Whether `original` (lowercased as `lowered`) names a credential.
    static func isCredential(_ original: String, lowered: String, scope: Scope) -> Bool {
        let words = words(of: original, lowered: lowered)
        if scope == .query, words.count == 1, words[0] == "key" || words[0] == "code" { return true }
        for (index, word) in words.enumerated() {
            if isCredentialWord(word) { return true }
            if scope != .field, word == "session" { return true }
            guard index > 0 else { continue }
            let previous = String(words[index - 1])
            let isLast = index == words.count - 1
            switch word {
            case "key":
                if keyQualifiers.contains(previous), isLast || (index == words.count - 2 && words[index + 1] == "id") {
                    return true
                }
            case "code":
                if codeQualifiers.contains(previous) { return true }
            case "number", "num", "no":
                if numberQualifiers.contains(previous) { return true }
            case "card":
                if previous == "credit" { return true }
            case "id", "token", "cookie":
                if previous == "session" { return true }
            case "answer":
                if previous == "security" { return true }
            default:
                break
            }
        }
        return false
    }

    private static func isCredentialWord(_ word: Substring) -> Bool {
        let text = String(word)
        if words.contains(text) { return true }
        if text.count > 2, text.hasSuffix("s"), words.contains(String(text.dropLast())) { return true }
        for suffix in suffixes where text.count > suffix.count && text.hasSuffix(suffix) { return true }
        for prefix in prefixes where text.hasPrefix(prefix) { return true }
        if text.count > 3, text.hasSuffix("key"), keyQualifiers.contains(String(text.dropLast(3))) { return true }
        return false
    }
}
