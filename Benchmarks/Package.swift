// swift-tools-version:6.0
// Benchmarks live in their own package so users never build them. Run with `scripts/bench-*`
// (release build): `swift run -c release --package-path Benchmarks RoutingBenchmark`.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repo was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "duet-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "RoutingBenchmark", dependencies: [.product(name: "DuetRouting", package: root)]),
        .executableTarget(name: "ModelsBenchmark", dependencies: [.product(name: "DuetModels", package: root)]),
        .executableTarget(name: "FeaturesBenchmark", dependencies: [.product(name: "DuetFeatures", package: root)]),
        .executableTarget(
            name: "ModelDeltaBenchmark",
            dependencies: [.product(name: "DuetModels", package: root), .product(name: "DuetIngest", package: root)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
