extension ServiceIdentity {
    /// `service`, `env`, `version`, then `tags`, `development` and
    /// `instance_id`: the fields every event, entity and batch opens with.
    func writeFields(into writer: inout JSONWriter, includingEventFields: Bool = true) {
        writer.field("service", service)
        writer.field("env", environment)
        writer.field("version", version)
        if includingEventFields && !tags.isEmpty {
            writer.key("tags")
            writer.beginArray()
            for tag in tags { writer.string(tag) }
            writer.endArray()
        }
        if includingEventFields && isDevelopment {
            writer.field("development", true)
        }
        writer.field("instance_id", instanceID)
    }
}
