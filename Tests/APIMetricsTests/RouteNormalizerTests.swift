@testable import APIMetrics
import APIMetricsTestSupport
import Testing

@Suite("Route normalizer")
struct RouteNormalizerTests {
    @Test(arguments: [
        ("/orders/8812", "/orders/{id}"),
        ("/orders/8812/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "/orders/{id}/items/{id}"),
        ("/users/3F2504E0-4F89-11D3-9A0C-0305E82C3301?x=1", "/users/{id}"),
        ("/blobs/5d41402abc4b2a76b9719d911017c592", "/blobs/{id}"),
        ("/t/eyJhbGciOiJIUzI1NiJ9_abcDEF123xyz", "/t/{id}"),
        ("/api/v1/health", "/api/v1/health"),
        ("/authentication-settings/notifications", "/authentication-settings/notifications"),
        ("/feed#top", "/feed"),
        ("", "/"),
        ("/", "/"),
        ("//a//12/", "//a//{id}/"),
        ("http://example.com/orders/1?x", "/orders/{id}"),
        ("https://example.com", "/"),
        ("/deadbeef", "/deadbeef"),
        ("/caf%C3%A9/42", "/caf%C3%A9/{id}"),
        ("/v2", "/v2"),
    ])
    func templates(target: String, expected: String) {
        #expect(RouteNormalizer.template(ofTarget: target) == expected)
    }

    @Test func generatedPathsNeverCrashAndKeepTheirShape() {
        var random = SeededGenerator(seed: 99)
        let alphabet = Array("abcXYZ0189-_~=+/%?#.é".unicodeScalars)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...60, using: &random)
            var target = ""
            for _ in 0..<length { target.unicodeScalars.append(alphabet.randomElement(using: &random)!) }
            let template = RouteNormalizer.template(ofTarget: target)
            let path =
                target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" } ?? ""
            // As many segments as the path, each kept or replaced whole.
            #expect(
                template.split(separator: "/", omittingEmptySubsequences: false).count
                    == (path.isEmpty ? 2 : path.split(separator: "/", omittingEmptySubsequences: false).count))
            #expect(!template.contains("?") && !template.contains("#"))
            // Normalising twice changes nothing.
            #expect(RouteNormalizer.template(ofTarget: template) == template)
        }
    }
}

@Suite("Route templates and path parameters")
struct RoutePathParameterTests {
    @Test func pathParametersNeverReachARoute() {
        #expect(RouteNormalizer.template(ofTarget: "/login;jsessionid=0123456789ABCDEF0123456789ABCDEF") == "/login")
        #expect(RouteNormalizer.template(ofTarget: "/a;x=1/b;y=2?q=1") == "/a/b")
        #expect(RouteNormalizer.template(ofTarget: "/orders/12;token=abc") == "/orders/{id}")
        #expect(RouteNormalizer.template(ofTarget: "/;s=1") == "/")
        // One session per client: one series.
        let routes = Set((0..<200).map { RouteNormalizer.template(ofTarget: "/cart;jsessionid=S\($0)x\($0 * 7919)") })
        #expect(routes == ["/cart"])
    }
}
