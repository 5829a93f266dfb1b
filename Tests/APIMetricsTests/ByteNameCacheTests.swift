import Testing
@testable import APIMetrics

/// The cache of answers by a name's bytes that header redaction asks for
/// every captured field: answers are found again in any ASCII case (or
/// only in the case seen, when it does not fold), never confused between
/// names, and the table is bounded by names and by bytes.
@Suite("Byte name cache")
struct ByteNameCacheTests {
    private func bytes(_ text: String) -> ArraySlice<UInt8> { ArraySlice(Array(text.utf8)) }

    @Test func answersAreFoundInAnyASCIICase() {
        let cache = ByteNameCache()
        #expect(cache.answer(for: bytes("X-API-Key")) == nil)
        cache.remember(true, for: bytes("X-API-Key"))
        cache.remember(false, for: bytes("Accept"))
        #expect(cache.answer(for: bytes("x-api-key")) == true)
        #expect(cache.answer(for: bytes("X-Api-KEY")) == true)
        #expect(cache.answer(for: bytes("ACCEPT")) == false)
        // A prefix, an extension and a neighbour are other names.
        #expect(cache.answer(for: bytes("X-API-Ke")) == nil)
        #expect(cache.answer(for: bytes("X-API-Keys")) == nil)
        #expect(cache.answer(for: bytes("X-API-Kez")) == nil)
        #expect(cache.answer(for: bytes("")) == nil)
    }

    @Test func aCacheThatDoesNotFoldKeepsEachCaseApart() {
        let cache = ByteNameCache(foldsCase: false)
        cache.remember(true, for: bytes("apiKey"))
        #expect(cache.answer(for: bytes("apiKey")) == true)
        #expect(cache.answer(for: bytes("apikey")) == nil)
        cache.remember(false, for: bytes("apikey"))
        #expect(cache.answer(for: bytes("apikey")) == false)
        #expect(cache.answer(for: bytes("apiKey")) == true)
    }

    @Test func aNameRememberedTwiceKeepsItsFirstAnswer() {
        let cache = ByteNameCache()
        cache.remember(true, for: bytes("Cookie"))
        cache.remember(false, for: bytes("COOKIE"))
        #expect(cache.answer(for: bytes("cookie")) == true)
    }

    /// Generated names, thousands of them, many sharing hash slots: every
    /// answer read back is the one remembered, or none after a reset.
    @Test func generatedNamesNeverGetAnotherNamesAnswer() {
        let cache = ByteNameCache()
        var generator = SystemRandomNumberGenerator()
        var remembered: [String: Bool] = [:]
        for index in 0..<5_000 {
            let length = Int.random(in: 1...24, using: &generator)
            let name = String((0..<length).map { _ in "abcXYZ-_09é".randomElement(using: &generator) ?? "a" }) + "\(index % 7)"
            let answer = Bool.random(using: &generator)
            if remembered[name.lowercased()] == nil {
                cache.remember(answer, for: bytes(name))
                remembered[name.lowercased()] = answer
            }
            let probe = remembered.randomElement(using: &generator)
            if let (key, expected) = probe, let found = cache.answer(for: bytes(key)) {
                #expect(found == expected, "\(key)")
            }
        }
    }

    @Test func theTableStartsOverPastItsNamesAndItsBytes() {
        let cache = ByteNameCache()
        cache.remember(true, for: bytes("first"))
        for index in 0..<1_024 { cache.remember(false, for: bytes("name-\(index)")) }
        // The 1,025th name started a new table: the first is forgotten.
        #expect(cache.answer(for: bytes("first")) == nil)
        #expect(cache.answer(for: bytes("name-1023")) == false)

        let byBytes = ByteNameCache()
        byBytes.remember(true, for: bytes("first"))
        let long = String(repeating: "x", count: 40_000)
        byBytes.remember(false, for: bytes(long + "1"))
        #expect(byBytes.answer(for: bytes("first")) == true)
        // Past 64 KiB of names, it starts over too.
        byBytes.remember(false, for: bytes(long + "2"))
        #expect(byBytes.answer(for: bytes("first")) == nil)
        #expect(byBytes.answer(for: bytes(long + "1")) == nil)
        #expect(byBytes.answer(for: bytes(long + "2")) == false)
    }

    @Test func namesReadInPlaceShareTheAnswers() {
        let cache = ByteNameCache()
        let name = Array("Set-Cookie".utf8)
        name.withUnsafeBufferPointer { cache.remember(true, for: $0) }
        #expect(cache.answer(for: bytes("set-cookie")) == true)
        let upper = Array("SET-COOKIE".utf8)
        #expect(upper.withUnsafeBufferPointer { cache.answer(for: $0) } == true)
    }
}
