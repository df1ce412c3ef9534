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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // C libraries from Debian, wrapped by the modules above them.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

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
        .target(
            name: "DuetFeatures",
            dependencies: [
                "CHiredis", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "duet",
            dependencies: [
                "DuetRouting", "DuetModels", "DuetFeatures",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Shared test helpers: free ports, a real redis-server, running the built `duet` binary.
        .target(name: "DuetTestSupport", path: "Tests/DuetTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CHiredis", "CBLAS", "CCurl"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetRoutingTests", dependencies: ["DuetRouting", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetModelsTests", dependencies: ["DuetModels", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetFeaturesTests", dependencies: ["DuetFeatures", "DuetTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DuetEndToEndTests", dependencies: ["DuetTestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
