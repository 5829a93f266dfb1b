// swift-tools-version:6.0
import PackageDescription

// APIMetrics for Vapor 4: the middleware (a library a server depends on by
// path, or copies), the example server, and their tests.
let package = Package(
    name: "APIMetricsVapor",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "APIMetricsVapor", targets: ["APIMetricsVapor"]),
        .executable(name: "vapor-example", targets: ["VaporExample"]),
    ],
    dependencies: [
        .package(name: "APIMetrics", path: "../.."),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
    ],
    targets: [
        .target(
            name: "APIMetricsVapor",
            dependencies: [
                .product(name: "APIMetrics", package: "APIMetrics"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .executableTarget(
            name: "VaporExample",
            dependencies: [
                "APIMetricsVapor",
                .product(name: "APIMetricsFoundation", package: "APIMetrics"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .testTarget(
            name: "APIMetricsVaporTests",
            dependencies: [
                "APIMetricsVapor",
                "VaporExample",
                .product(name: "VaporTesting", package: "vapor"),
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
