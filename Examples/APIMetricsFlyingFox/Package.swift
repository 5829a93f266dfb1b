// swift-tools-version:6.0
import PackageDescription

// APIMetrics for FlyingFox: the handler that records (a library a server
// depends on by path, or copies), the example server, and their tests.
let package = Package(
    name: "APIMetricsFlyingFox",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "APIMetricsFlyingFox", targets: ["APIMetricsFlyingFox"]),
        .executable(name: "flyingfox-example", targets: ["FlyingFoxExample"]),
    ],
    dependencies: [
        .package(name: "APIMetrics", path: "../.."),
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "APIMetricsFlyingFox",
            dependencies: [
                .product(name: "APIMetrics", package: "APIMetrics"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "FlyingFoxExample",
            dependencies: [
                "APIMetricsFlyingFox",
                .product(name: "APIMetricsFoundation", package: "APIMetrics"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "APIMetricsFlyingFoxTests",
            dependencies: [
                "APIMetricsFlyingFox", "FlyingFoxExample",
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
