// swift-tools-version:6.0
// libFuzzer targets for localscale's readers, a package of their own so that the main package's
// `swift build` / `swift test` never see them. Build and run with `fuzz/run TARGET SECONDS`.
import PackageDescription

let core = Target.Dependency.product(name: "LocScaleCore", package: "localscale")

let package = Package(
    name: "localscale-fuzz",
    dependencies: [.package(name: "localscale", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Support"),
        .executableTarget(name: "fuzz-mrc", dependencies: ["FuzzSupport", core], path: "MRCReader"),
        .executableTarget(name: "fuzz-model", dependencies: ["FuzzSupport", core], path: "ModelReader"),
    ]
)
