// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "APIMetrics",
    products: [
        .library(name: "APIMetrics", targets: ["APIMetrics"]),
        .library(name: "APIMetricsWire", targets: ["APIMetricsWire"]),
        .library(name: "APIMetricsFoundation", targets: ["APIMetricsFoundation"]),
        .library(name: "APIMetricsTesting", targets: ["APIMetricsTesting"]),
        .executable(name: "apimetrics", targets: ["apimetrics"]),
        .executable(name: "apimetrics-demo", targets: ["DemoServer"]),
        .executable(name: "apimetrics-fuzz", targets: ["apimetrics-fuzz"]),
        .executable(name: "apimetrics-bench", targets: ["apimetrics-bench"]),
    ],
    dependencies: [],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // The local store: the system's SQLite (macOS's SDK carries it).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        .target(
            name: "APIMetrics",
            // SocketServer serves the metrics' view on a port of its own when asked.
            dependencies: ["CZlib", "CSQLite", "SocketServer"],
            path: "Sources/APIMetrics"
        ),
        .target(
            name: "APIMetricsWire",
            dependencies: ["APIMetrics"],
            path: "Sources/APIMetricsWire"
        ),
        .target(
            name: "APIMetricsFoundation",
            dependencies: ["APIMetrics"],
            path: "Sources/APIMetricsFoundation"
        ),
        // `apimetrics report|calls|usage`: the local stores (merged) and NDJSON files, as tables, CSV or JSON.
        .target(
            name: "APIMetricsReport",
            dependencies: ["APIMetrics"],
            path: "Sources/APIMetricsReport"
        ),
        .executableTarget(
            name: "apimetrics",
            dependencies: ["APIMetricsReport"],
            path: "Sources/apimetrics"
        ),
        // A small threaded HTTP/1.1 server on POSIX sockets. Not a product: the
        // demo serves its API with it and the tests run their collectors on it.
        .target(
            name: "SocketServer",
            path: "Sources/SocketServer"
        ),
        .executableTarget(
            name: "DemoServer",
            dependencies: ["APIMetrics", "APIMetricsWire", "APIMetricsFoundation", "SocketServer"],
            path: "Examples/DemoServer",
            // The demo's OpenAPI document, read by the spec check and the tests from the tree.
            exclude: ["openapi.yaml"]
        ),
        // The wire tap's corpus and mutators, shared by the tests and the fuzzer.
        .target(
            name: "WireFuzzing",
            dependencies: ["APIMetricsWire"],
            path: "Sources/WireFuzzing"
        ),
        .executableTarget(
            name: "apimetrics-fuzz",
            dependencies: ["APIMetrics", "APIMetricsWire", "WireFuzzing"],
            path: "Sources/apimetrics-fuzz"
        ),
        // Counts allocations for the benchmark by interposing malloc; linked
        // into apimetrics-bench only.
        .target(
            name: "CMallocCounter",
            path: "Benchmarks/Sources/CMallocCounter"
        ),
        .executableTarget(
            name: "apimetrics-bench",
            dependencies: ["APIMetrics", "APIMetricsWire", "SocketServer", "CMallocCounter", "WireFuzzing"],
            path: "Benchmarks/Sources/apimetrics-bench"
        ),
        // For the tests of an integration (the framework packages' and the
        // core's): a collecting exporter that can be waited on, a check of a
        // server executable's lifecycle.
        .target(
            name: "APIMetricsTesting",
            // SocketServer for ThreadSanitizer's locks only (SanitizerMutex+Alias.swift).
            dependencies: ["APIMetrics", "SocketServer"]
        ),
        // What the test targets share: exporters and collectors that are real
        // implementations, a raw socket client, temporary directories.
        .target(
            name: "APIMetricsTestSupport",
            dependencies: ["APIMetrics", "APIMetricsTesting", "SocketServer"],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "APIMetricsTestingTests",
            dependencies: ["APIMetrics", "APIMetricsTesting"]
        ),
        .testTarget(
            name: "APIMetricsTests",
            dependencies: ["APIMetricsTesting", "APIMetrics", "APIMetricsTestSupport", "WireFuzzing", "SocketServer", "CZlib"],
            path: "Tests/APIMetricsTests"
        ),
        .testTarget(
            name: "APIMetricsWireTests",
            dependencies: ["APIMetrics", "APIMetricsWire", "APIMetricsTestSupport", "WireFuzzing"],
            path: "Tests/APIMetricsWireTests"
        ),
        .testTarget(
            name: "APIMetricsFoundationTests",
            dependencies: ["APIMetricsTesting", "APIMetrics", "APIMetricsFoundation", "APIMetricsTestSupport", "SocketServer"],
            path: "Tests/APIMetricsFoundationTests"
        ),
        .testTarget(
            name: "APIMetricsReportTests",
            dependencies: ["APIMetrics", "APIMetricsReport", "APIMetricsTestSupport"],
            path: "Tests/APIMetricsReportTests"
        ),
        .testTarget(
            name: "SocketServerTests",
            dependencies: ["SocketServer", "APIMetricsTestSupport"],
            path: "Tests/SocketServerTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The upcoming checks Hummingbird, swift-log and swift-service-lifecycle
// enable: a member is visible only in files that import its module (no
// imports leaking from other files of the target), existentials say `any`,
// and an import is internal unless it says `public` (a module whose types
// the public API shows is imported publicly, and only then).
for target in package.targets where target.type != .system && target.name != "CMallocCounter" {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("InternalImportsByDefault"),
        ]
}
