extension ServiceIdentity {
    /// `service`, `env`, `version`, then `tags`, `development` and
    /// `instance_id`: the fields every event, entity and batch opens with.
    func writeFields(into writer: inout JSONWriter, includingEventFields: Bool = true) {
        writer.key("service")
        writer.string(service)
        writer.key("env")
        writer.string(environment)
        if let version {
            writer.key("version")
            writer.string(version)
        }
        if includingEventFields && !tags.isEmpty {
            writer.key("tags")
            writer.beginArray()
            for tag in tags { writer.string(tag) }
            writer.endArray()
        }
        if includingEventFields && isDevelopment {
            writer.key("development")
            writer.bool(true)
        }
        if let instanceID {
            writer.key("instance_id")
            writer.string(instanceID)
        }
    }
}
