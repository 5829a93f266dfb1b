/// An error that knows which HTTP status it should answer with.
///
/// The recorder uses it for the status of a failed exchange whose server
/// sent no response head, instead of 500.
public protocol ResponseStatusProviding: Error {
    /// The HTTP status code this error stands for, such as 404.
    var responseStatus: Int { get }
}
