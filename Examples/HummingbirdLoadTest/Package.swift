// swift-tools-version:6.0
import PackageDescription

// The side-by-side load test's server: the Hummingbird example's own sources
// (linked, not copied) built with its comparison peers, Hummingbird's
// MetricsMiddleware bootstrapped to swift-prometheus (`--mode prometheus`).
// Kept apart so that depending on APIMetricsHummingbird resolves Hummingbird
// and swift-service-lifecycle only. Run it: bash loadtest.sh
let package = Package(
    name: "HummingbirdLoadTest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hummingbird-loadtest-server", targets: ["LoadTestServer"])
    ],
    dependencies: [
        .package(name: "APIMetrics", path: "../.."),
        .package(name: "APIMetricsHummingbird", path: "../APIMetricsHummingbird"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .executableTarget(
            name: "LoadTestServer",
            dependencies: [
                .product(name: "APIMetricsHummingbird", package: "APIMetricsHummingbird"),
                .product(name: "APIMetricsFoundation", package: "APIMetrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Turns on the example's `--mode prometheus`.
            swiftSettings: [.define("APIMETRICS_LOADTEST")]
        )
    ]
)

// The upcoming checks Hummingbird, swift-log and swift-service-lifecycle
// enable: a member is visible only in files that import its module,
// existentials say `any`, and imports are internal unless marked `public`.
for target in package.targets {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("InternalImportsByDefault"),
        ]
}
