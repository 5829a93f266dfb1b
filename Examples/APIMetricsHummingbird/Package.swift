// swift-tools-version:6.0
import PackageDescription

// APIMetrics for Hummingbird 2: the middleware (a library a server depends
// on by path, or copies), the example server, and their tests. Its only
// dependencies are Hummingbird and swift-service-lifecycle; the load test's
// comparison peers are in Examples/HummingbirdLoadTest.
let package = Package(
    name: "APIMetricsHummingbird",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "APIMetricsHummingbird", targets: ["APIMetricsHummingbird"]),
        .executable(name: "hummingbird-example", targets: ["HummingbirdExample"]),
    ],
    dependencies: [
        .package(name: "APIMetrics", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "APIMetricsHummingbird",
            dependencies: [
                .product(name: "APIMetrics", package: "APIMetrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "HummingbirdExample",
            dependencies: [
                "APIMetricsHummingbird",
                .product(name: "APIMetricsFoundation", package: "APIMetrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "APIMetricsHummingbirdTests",
            dependencies: [
                "APIMetricsHummingbird",
                "HummingbirdExample",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "APIMetricsTesting", package: "APIMetrics"),
            ]
        ),
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
