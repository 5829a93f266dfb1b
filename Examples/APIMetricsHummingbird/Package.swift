// swift-tools-version:6.0
import PackageDescription

// APIMetrics for Hummingbird 2: the middleware (a library a server depends
// on by path, or copies), the example server, and their tests.
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
        // For the load test's comparison with Hummingbird's own MetricsMiddleware.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "APIMetricsHummingbirdTests",
            dependencies: [
                "APIMetricsHummingbird",
                "HummingbirdExample",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
