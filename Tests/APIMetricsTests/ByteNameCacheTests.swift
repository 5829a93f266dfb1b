import APIMetricsTestSupport
import Foundation
import Testing
@testable import APIMetrics

/// The cache of answers by a name's bytes that header redaction asks for
/// every captured field: answers are found again in any ASCII case (or
/// only in the case seen, when it does not fold), never confused between
/// names, and the table is bounded by names and by bytes.
@Suite("Byte name cache")
struct ByteNameCacheTests {
    private func bytes(_ text: String) -> ArraySlice<UInt8> { ArraySlice(Array(text.utf8)) }

    /// `text` with its ASCII letters in upper case, every other byte kept.
    private func asciiUppercased(_ text: String) -> ArraySlice<UInt8> {
        ArraySlice(text.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })
    }

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

    /// Generated names, thousands of them: a name just remembered is found
    /// with its answer, and every answer read back later is the one
    /// remembered, or none after the table started over. Run once with the
    /// real hash and once with every name on the same hash, where only the
    /// bytes tell names apart.
    @Test(arguments: [false, true]) func generatedNamesNeverGetAnotherNamesAnswer(colliding: Bool) {
        let cache = colliding ? ByteNameCache(everyNameCollidingForTesting: ()) : ByteNameCache()
        var generator = SeededGenerator.replayable()
        var remembered: [String: Bool] = [:]
        var keys: [String] = []
        let letters = Array("abcXYZ-_09é")
        // Colliding names probe the whole table: fewer of them.
        for index in 0..<(colliding ? 1_500 : 5_000) {
            let length = Int.random(in: 1...24, using: &generator)
            let picked = (0..<length).map { _ in letters[Int.random(in: 0..<letters.count, using: &generator)] }
            let name = String(picked) + "\(index % 7)"
            let answer = Bool.random(using: &generator)
            if remembered[name.lowercased()] == nil {
                cache.remember(answer, for: bytes(name))
                remembered[name.lowercased()] = answer
                keys.append(name.lowercased())
                #expect(cache.answer(for: asciiUppercased(name)) == answer, "\(name)")
            }
            let key = keys[Int.random(in: 0..<keys.count, using: &generator)]
            if let found = cache.answer(for: bytes(key)) {
                #expect(found == remembered[key], "\(key)")
            }
        }
    }

    @Test func namesThatShareAHashAreToldApartByTheirBytes() {
        let cache = ByteNameCache(everyNameCollidingForTesting: ())
        cache.remember(true, for: bytes("Authorization"))
        cache.remember(false, for: bytes("Accept"))
        cache.remember(true, for: bytes("Cookie"))
        #expect(cache.answer(for: bytes("authorization")) == true)
        #expect(cache.answer(for: bytes("ACCEPT")) == false)
        #expect(cache.answer(for: bytes("cookie")) == true)
        // Same length as a stored name, other bytes: not found.
        #expect(cache.answer(for: bytes("Cookif")) == nil)
        #expect(cache.answer(for: bytes("Accepts")) == nil)
    }

    @Test func theTableStartsOverPastItsNamesAndItsBytes() {
        let cache = ByteNameCache()
        cache.remember(true, for: bytes("first"))
        for index in 0..<1_024 { cache.remember(false, for: bytes("name-\(index)")) }
        // The 1,025th name started a new table: the first is forgotten.
        #expect(cache.answer(for: bytes("first")) == nil)
        #expect(cache.answer(for: bytes("name-1023")) == false)

        // Past 64 KiB of names it starts over too: 300 names of 250 bytes
        // are 75,000 bytes.
        let byBytes = ByteNameCache()
        byBytes.remember(true, for: bytes("first"))
        for index in 0..<300 {
            byBytes.remember(false, for: bytes(String(format: "%03d", index) + String(repeating: "x", count: 247)))
        }
        #expect(byBytes.answer(for: bytes("first")) == nil)
        #expect(byBytes.answer(for: bytes("299" + String(repeating: "x", count: 247))) == false)

        // A name longer than 256 bytes is not remembered, and leaves the
        // table as it was.
        let long = ByteNameCache()
        long.remember(true, for: bytes("first"))
        long.remember(false, for: bytes(String(repeating: "y", count: 257)))
        #expect(long.answer(for: bytes(String(repeating: "y", count: 257))) == nil)
        #expect(long.answer(for: bytes("first")) == true)
        long.remember(false, for: bytes(String(repeating: "y", count: 256)))
        #expect(long.answer(for: bytes(String(repeating: "y", count: 256))) == false)
    }

    @Test func rememberingAKnownNameAtTheBoundKeepsTheTable() {
        let cache = ByteNameCache()
        for index in 0..<1_024 { cache.remember(false, for: bytes("name-\(index)")) }
        // Full: a name it knows does not start it over; a new one does.
        cache.remember(false, for: bytes("NAME-0"))
        #expect(cache.answer(for: bytes("name-1")) == false)
        cache.remember(true, for: bytes("another"))
        #expect(cache.answer(for: bytes("name-1")) == nil)
        #expect(cache.answer(for: bytes("another")) == true)
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
