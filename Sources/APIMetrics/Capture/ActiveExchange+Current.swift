extension ActiveExchange {
    /// The exchange being served by the current task, inside a handler
    /// wrapped by ``Recorder/instrument(route:_:)``; use it to name the route
    /// or the consumer, or to report an error, from deep in the handler.
    @TaskLocal public static var current: ActiveExchange?
}
