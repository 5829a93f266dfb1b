import Foundation

/// Moesif's remote sampling configuration (`GET /v1/config`), applied as its
/// server SDKs apply it: the first regex rule whose conditions all match
/// gives the rate; else the consumer's own rate, else its company's, else
/// the application's `sample_rate`. Rates are percentages; an event kept at
/// rate `r` carries `weight = 100 / r` (rounded down).
struct MoesifSampling: Sendable {
    struct Rule: Sendable {
        /// (`request.verb`, `request.route`, `request.ip_address` or
        /// `response.status`, the pattern searched in it).
        var conditions: [(path: String, pattern: NSRegularExpressionBox)]
        var rate: Double
    }

    var rate: Double = 100
    var userRates: [String: Double] = [:]
    var companyRates: [String: Double] = [:]
    var rules: [Rule] = []

    /// Everything sent, at weight 1: what applies until a configuration is read.
    static let all = MoesifSampling()

    /// Reads a `/v1/config` document; `nil` when it is not a JSON object.
    /// A rule with a pattern that does not compile is left out.
    init?(json bytes: [UInt8]) {
        guard case let .object(members)? = try? JSONParser.parse(bytes) else { return nil }
        for member in members {
            switch member.key {
            case "sample_rate":
                if let rate = Self.number(member.value) { self.rate = Self.clamped(rate) }
            case "user_sample_rate":
                userRates = Self.rates(member.value)
            case "company_sample_rate":
                companyRates = Self.rates(member.value)
            case "regex_config":
                guard case let .array(items) = member.value else { continue }
                rules = items.compactMap(Self.rule)
            default:
                continue
            }
        }
    }

    private init() {}

    /// The rate, in percent, for one call.
    func rate(for record: ExchangeRecord) -> Double {
        if !rules.isEmpty {
            let fields = Self.fields(of: record)
            for rule in rules
            where rule.conditions.allSatisfy({ condition in
                guard let value = fields[condition.path] else { return false }
                return condition.pattern.matches(value)
            }) {
                return rule.rate
            }
        }
        if let user = record.consumer?.id, let rate = userRates[user] { return rate }
        if let company = record.consumer?.company, let rate = companyRates[company] { return rate }
        return rate
    }

    /// Whether the call with this id is kept at `rate` percent. The draw
    /// comes from the id, not from a new random number: a batch retried,
    /// halved or read back from the spool keeps the same calls.
    static func keeps(_ id: EventID, atRate rate: Double) -> Bool {
        guard rate < 100 else { return true }
        let draw = Double((id.low &* 0xD6E8_FEB8_6659_FD93) >> 11) / Double(UInt64(1) << 53) * 100
        return draw < rate
    }

    /// The weight Moesif's SDKs give an event kept at `rate` percent.
    static func weight(atRate rate: Double) -> Int {
        rate <= 0 ? 1 : max(1, Int((100 / rate).rounded(.down)))
    }

    /// The values the rules' condition paths name, for one call.
    static func fields(of record: ExchangeRecord) -> [String: String] {
        var fields: [String: String] = ["request.verb": record.request.method]
        fields["request.route"] = URLTarget(record.request.target).path
        if let address = record.request.clientAddress.flatMap(MoesifEncoding.ipAddress) { fields["request.ip_address"] = address }
        if let status = record.response?.status { fields["response.status"] = String(status) }
        return fields
    }

    private static func rule(_ value: JSONValue) -> Rule? {
        guard case let .object(members) = value else { return nil }
        var rate: Double?
        var conditions: [(path: String, pattern: NSRegularExpressionBox)] = []
        for member in members {
            if member.key == "sample_rate" { rate = number(member.value).map(clamped) }
            guard member.key == "conditions", case let .array(items) = member.value else { continue }
            for item in items {
                guard case let .object(fields) = item else { return nil }
                var path: String?, pattern: String?
                for field in fields {
                    if field.key == "path", case let .string(text) = field.value { path = text }
                    if field.key == "value", case let .string(text) = field.value { pattern = text }
                }
                guard let path, let pattern, let compiled = NSRegularExpressionBox(pattern) else { return nil }
                conditions.append((path, compiled))
            }
        }
        guard let rate, !conditions.isEmpty else { return nil }
        return Rule(conditions: conditions, rate: rate)
    }

    private static func rates(_ value: JSONValue) -> [String: Double] {
        guard case let .object(members) = value else { return [:] }
        var rates: [String: Double] = [:]
        for member in members {
            if let rate = number(member.value) { rates[member.key] = clamped(rate) }
        }
        return rates
    }

    private static func number(_ value: JSONValue) -> Double? {
        guard case let .number(text) = value else { return nil }
        return Double(text)
    }

    private static func clamped(_ rate: Double) -> Double { min(100, max(0, rate)) }
}

/// A compiled pattern, searched anywhere in a value (as Python's
/// `re.search`, which Moesif's SDKs use).
struct NSRegularExpressionBox: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as safe to use from
    // several threads at once.
    private let expression: NSRegularExpression

    init?(_ pattern: String) {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.expression = expression
    }

    func matches(_ value: String) -> Bool {
        expression.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
    }
}
