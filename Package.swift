// swift-tools-version: 6.0
// swrun: a small system-container runtime for Linux, in Swift, with no liblxc.
import PackageDescription

let systemPackage = Target.Dependency.product(name: "SystemPackage", package: "swift-system")

let package = Package(
    name: "swrun",
    products: [
        .executable(name: "swrun", targets: ["swrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // What Swift cannot call directly: raw syscalls, variadic prctl/ioctl, W* macros, SCM_RIGHTS.
        .target(name: "CLinux"),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CTLS", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "liblzma-dev", "libzstd-dev", "libbz2-dev"])]),

        .target(name: "SwrunSystem", dependencies: ["CLinux", "CCap", systemPackage]),
        .target(name: "SwrunNetlink", dependencies: ["CLinux", "SwrunSystem"]),
        .target(name: "SwrunConfig", dependencies: ["SwrunSystem"]),
        .target(name: "SwrunSeccomp", dependencies: ["SwrunSystem"]),
        .target(name: "SwrunCgroups", dependencies: ["CLinux", "SwrunSystem"]),
        .target(name: "SwrunJSON"),
        .target(name: "SwrunHTTP", dependencies: ["CTLS", "SwrunSystem"]),
        .target(name: "SwrunImages", dependencies: ["CLinux", "CCompression", "SwrunSystem", "SwrunConfig", "SwrunJSON", "SwrunHTTP"]),
        .target(name: "SwrunRuntime", dependencies: ["CLinux", "SwrunSystem", "SwrunNetlink", "SwrunConfig", "SwrunImages", "SwrunJSON", "SwrunCgroups", "SwrunSeccomp", systemPackage]),
        .target(name: "SwrunCLI", dependencies: ["CLinux", "SwrunRuntime", "SwrunConfig", "SwrunSystem", "SwrunCgroups", "SwrunNetlink", "SwrunImages", "SwrunHTTP"]),
        .executableTarget(name: "swrun", dependencies: ["SwrunCLI"]),

        .testTarget(name: "SwrunJSONTests", dependencies: ["SwrunJSON"]),
        .testTarget(name: "SwrunHTTPTests", dependencies: ["SwrunHTTP", "SwrunSystem"]),
        .testTarget(name: "SwrunImagesTests", dependencies: ["SwrunImages", "SwrunSystem", "SwrunJSON", "SwrunHTTP", "CLinux"]),
        .testTarget(name: "SwrunConfigTests", dependencies: ["SwrunConfig", "SwrunSystem"]),
        .testTarget(name: "SwrunNetlinkTests", dependencies: ["SwrunNetlink"]),
        .testTarget(name: "SwrunSeccompTests", dependencies: ["SwrunSeccomp", "SwrunSystem"]),
        .testTarget(name: "SwrunCgroupsTests", dependencies: ["SwrunCgroups", "SwrunSystem"]),
        .testTarget(name: "SwrunRuntimeTests", dependencies: ["SwrunRuntime", "SwrunConfig", "SwrunImages", "SwrunSystem", "SwrunCgroups", "SwrunNetlink", "CLinux"]),
        .testTarget(name: "SwrunCLITests", dependencies: ["CLinux", "SwrunCLI", "SwrunSystem", "SwrunRuntime"]),
        .testTarget(name: "SwrunIntegrationTests", dependencies: ["CLinux"]),
    ]
)

// libFuzzer targets for the parsers of untrusted bytes, built only by scripts/fuzz.sh
// (SWRUN_FUZZ=1, with -sanitize=fuzzer,address, in .build-fuzz): libFuzzer supplies their main.
if Context.environment["SWRUN_FUZZ"] == "1" {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzTarReader", ["SwrunImages", "SwrunSystem"]),
        ("FuzzJSON", ["SwrunJSON"]),
        ("FuzzLXCConfig", ["SwrunConfig", "SwrunImages", "SwrunSystem"]),
        ("FuzzHTTPResponse", ["SwrunHTTP", "SwrunSystem"]),
        ("FuzzNetlink", ["SwrunNetlink"]),
        ("FuzzImageIndex", ["SwrunImages", "SwrunJSON", "SwrunSystem"]),
    ]
    // The tar reader skips header checksums there, which random bytes would never match.
    for target in package.targets where target.name == "SwrunImages" {
        target.swiftSettings = (target.swiftSettings ?? []) + [.define("FUZZING")]
    }
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies, path: "Fuzz/Targets/" + name,
                                                 swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
