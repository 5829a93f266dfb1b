/// Validation failures of one field on one route: 400 and 422 responses
/// whose JSON body lists problems, or problems a server reported itself
/// (``ActiveExchange/reportValidationError(field:type:message:)``).
public struct ValidationErrorGroup: Sendable, Hashable {
    /// The request method.
    public var method: String
    /// The route template.
    public var route: String
    /// The field, as the body locates it (`body.email`, `items[0].sku`).
    public var field: String
    /// The kind of problem (`value_error.missing`, `invalid`…).
    public var type: String
    /// One message seen for it, as an example.
    public var message: String
    /// How many times it was seen, weighted.
    public var count: Double

    /// Creates a group.
    ///
    /// - Parameters:
    ///   - method: the request method.
    ///   - route: the route template.
    ///   - field: the field, as the body locates it (`body.email`,
    ///     `items[0].sku`).
    ///   - type: the kind of problem (`value_error.missing`, `invalid`…).
    ///   - message: one message seen for it, as an example.
    ///   - count: how many times it was seen, weighted.
    public init(method: String, route: String, field: String, type: String, message: String, count: Double) {
        self.method = method
        self.route = route
        self.field = field
        self.type = type
        self.message = message
        self.count = count
    }

    var groupKey: [String] { [method, route, field, type] }
}
