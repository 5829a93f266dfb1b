import Foundation
import Testing
import APIMetricsTestSupport
@testable import APIMetrics

@Suite("SHA-512 and ReadMe's mask")
struct SHA512Tests {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // FIPS 180-4 examples and the NIST CAVS short and long messages.
    @Test(arguments: [
        (
            "",
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        ),
        (
            "abc",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        ),
    ])
    func matchesTheNISTVectors(message: String, digest: String) {
        #expect(hex(SHA512.hash(message.utf8)) == digest)
    }

    @Test func oneMillionAs() {
        var hasher = SHA512()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(
            hex(hasher.finalize())
                == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"
        )
    }

    @Test func matchesTheSha512sumProgramOnEveryPaddingLength() throws {
        // Lengths 0…260 cross every padding case (111, 112, 127, 128, 239, 240 bytes).
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator.replayable()
        var script = ""
        var expected: [String] = []
        for length in 0...260 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let file = directory.file("m\(length)")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            script += "sha512sum '\(file)' | cut -d' ' -f1\n"
            expected.append(hex(SHA512.hash(bytes)))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }

    /// The masks in ReadMe's own SDK tests and documentation
    /// (readmeio/metrics-sdks: the Python, Node and Ruby tests, the Node setup guide).
    @Test(arguments: [
        ("deadbeef", "sha512-ETo7x4PYUfwDcyFLGep76fo95UHsuf4CbVLGA+jqGcF0zA6XBfi5DTEiEsDDpthFPd+z4xQUCc9L7cjvAzWQtA==?beef"),
        ("Bearer 123456", "sha512-31rXi6lhQcMvMwee0P6yu9xyHuAWDUEuDzcSBQCCUUvlQ6BZXcu67qy1hrD2nbrjeDLKrYrBbQoMOrLnJVmbCw==?3456"),
        (
            "5afa21b97011c63320226ef3",
            "sha512-+MnFCkFeabWc/YaeOiMTjE5giOSFEQnar9xWSjm/BSYjNAoDmRQJvSyPZ3mYv0u9orXbfYWBqepmtY0SGBTF1A==?6ef3"
        ),
        (
            "Bearer: a-random-api-key",
            "sha512-7S+L0vUE8Fn6HI3836rtz4b6fVf6H4JFur6SGkOnL3bFpC856+OSZkpIHphZ0ipNO+kUw1ePb5df2iYrNQCpXw==?-key"
        ),
        (
            "1999e4893f732ba38b948dbe8d34ed48cd54f058",
            "sha512-/0bFzsk3a5wrmdTxA6qstL9TExGVTr9BUgZvhIjVrTa2M/KsNkW+AF8wJtgYd1OIvHc5qGgB9WfUbCA8PPbE8w==?f058"
        ),
        (
            "owlbert-api-key",
            "sha512-u2GbQ83jIqNa+a8v110+8IDztQQr4joL1xSE+wFH51zSOA1qQKPwOC8t2n2LWJQA1mX4ZLZ45SEokITzLed/ow==?-key"
        ),
    ])
    func masksMatchReadMesVectors(value: String, mask: String) {
        #expect(ReadMeMask.mask(value) == mask)
    }

    @Test func aShortValueKeepsWhatItHas() {
        #expect(ReadMeMask.mask("ab").hasSuffix("?ab"))
        #expect(ReadMeMask.mask("").hasSuffix("?"))
    }
}
