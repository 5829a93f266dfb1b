/// One change of the API as observed: a new endpoint, status, media type,
/// parameter or field, a type that changed, a field that became optional
/// or went missing from every recent instance; with when it was first
/// seen and the call that showed it.
struct APIChange: Sendable, Hashable {
    /// What changed.
    enum Kind: String, Sendable, Hashable, CaseIterable {
        case newEndpoint = "new_endpoint"
        case newStatus = "new_status"
        case newMediaType = "new_media_type"
        case newParameter = "new_parameter"
        case newField = "new_field"
        case typeChanged = "type_changed"
        case fieldOptional = "field_optional"
        case fieldGone = "field_gone"
    }

    var time: Int64
    var method: String
    var route: String
    var kind: Kind
    /// Where: `response 200 application/json $.items[].sku`, `query page`.
    var location: String
    /// What it was and is, when that says more (`integer → integer, string`).
    var detail: String
    /// The call that showed it.
    var example: EventID
}

/// A change the scanner saw in a body, where the learner can still name it.
struct ShapeChange: Sendable {
    var kind: APIChange.Kind
    /// Member indices from the body's root; -1 steps into array items.
    var path: [Int]
    var detail: String
}

extension JSONShape {
    /// `$.a.b[].c` for a path of member indices (-1 for items); `nil` when
    /// a member on the way is not confirmed (its name may be a value).
    func location(of path: [Int]) -> String? {
        var text = "$"
        var place = self
        for step in path {
            if step < 0 {
                text += "[]"
                guard let item = place.items.first else { return nil }
                place = item
            } else {
                guard step < place.properties.count, place.properties[step].isConfirmed else { return nil }
                text += "." + place.properties[step].name
                place = place.properties[step].shape
            }
        }
        return text
    }
}
