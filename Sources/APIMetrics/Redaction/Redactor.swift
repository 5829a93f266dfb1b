/// Applies ``RedactionOptions`` to a record in the background sender.
struct Redactor: Sendable {
    private let headerNames: Set<String>
    private let replacement: String

    init(options: RedactionOptions) {
        self.headerNames = Set(options.headers.map { $0.lowercased() })
        self.replacement = options.replacement
    }

    func redact(_ record: inout ExchangeRecord) {
        redactHeaders(&record.request.headers)
        if var response = record.response {
            redactHeaders(&response.headers)
            record.response = response
        }
    }

    private func redactHeaders(_ headers: inout HeaderFields) {
        guard !headerNames.isEmpty, !headers.isEmpty else { return }
        headers.mapValues { name, value in
            headerNames.contains(name.lowercased()) ? replacement : value
        }
    }
}
