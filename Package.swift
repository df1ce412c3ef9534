// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "duet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "duet", targets: ["duet"]),
        .library(name: "DuetRouting", targets: ["DuetRouting"]),
        .library(name: "DuetModels", targets: ["DuetModels"]),
        .library(name: "DuetFeatures", targets: ["DuetFeatures"]),
        .library(name: "DuetIngest", targets: ["DuetIngest"]),
        .library(name: "DuetAPI", targets: ["DuetAPI"]),
        .library(name: "DuetEvaluation", targets: ["DuetEvaluation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian, wrapped by the modules above them.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "DuetJSON", swiftSettings: swiftSettings),
        .target(
            name: "DuetRedis",
            dependencies: ["CHiredis", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetRouting",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetModels",
            dependencies: [
                "CBLAS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "DuetEvaluation", swiftSettings: swiftSettings),
        .target(
            name: "DuetIngest",
            dependencies: ["DuetModels", "DuetJSON"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetAPI",
            dependencies: ["DuetJSON"],
            resources: [.embedInCode("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetFeatures",
            dependencies: [
                "DuetRedis", "DuetJSON", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetCluster",
            dependencies: ["DuetRedis", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DuetServer",
            dependencies: [
                "DuetRouting", "DuetModels", "DuetFeatures", "DuetStore", "DuetAPI", "DuetJSON", "DuetCluster", "DuetEvaluation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "duet",
            dependencies: [
                "DuetRouting", "DuetModels", "DuetIngest", "DuetEvaluation", "DuetFeatures", "DuetStore", "DuetAPI", "DuetCluster",
                "DuetServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // Shared test helpers: free ports, a real redis-server and moto_server, a request recorder, running the built `duet` binary,
        // hostile model files.
        .target(
            name: "DuetTestSupport", dependencies: ["DuetServer", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/DuetTestSupport", swiftSettings: swiftSettings
        ),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CHiredis", "CBLAS", "CCurl"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetRoutingTests", dependencies: ["DuetRouting", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetModelsTests", dependencies: ["DuetModels", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetJSONTests", dependencies: ["DuetJSON"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetEvaluationTests", dependencies: ["DuetEvaluation", "DuetModels"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetIngestTests", dependencies: ["DuetIngest", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetAPITests", dependencies: ["DuetAPI", "DuetModels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DuetFeaturesTests",
            dependencies: ["DuetFeatures", "DuetRedis", "DuetTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DuetClusterTests", dependencies: ["DuetCluster", "DuetModels", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetStoreTests", dependencies: ["DuetStore", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DuetServerTests",
            dependencies: [
                "DuetServer", "DuetTestSupport", "DuetIngest",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DuetEndToEndTests", dependencies: ["DuetTestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
