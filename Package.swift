// swift-tools-version: 6.0
//
// librelcon: the RelCon accelerometer encoder runtime.
//
//   swift build -c release   ->  .build/release/librelcon.so   (Embedded Swift; needs only libc/libm;
//                                 exports only relcon_*, see Sources/relcon-exports.map)
//   swift test               ->  Swift Testing suites against RelConRuntimeHosted (the same sources,
//                                 compiled as a normal module; Sources/RelConRuntimeHosted is a symlink)
//
// Kernels per ISA level, chosen at run time (Sources/RelConRuntime/Kernels/Dispatch.swift): the portable ones
// inside RelConRuntime (x86-64 baseline), RelConKernelsV3 (-march=x86-64-v3) and RelConKernelsV4
// (-march=x86-64-v4 + VNNI), all linked into the one librelcon.so, which still runs on any x86-64.
// Optional: RELCON_MARCH=x86-64-v3 swift build -c release   adds -Xcc -march=<value> to the runtime module
// (its portable kernels; the library then needs that CPU).
// RELCON_HOSTED_ONLY=1 swift test --sanitize=address|thread   the manifest without the Embedded targets, the .so
// and the CLI (SwiftPM applies --sanitize to every target, and the Embedded .so cannot take it): the hosted twin
// and the Swift Testing suites only (mk/sanitize-swift.mk, docs/reliability.md).
import Foundation
import PackageDescription

let root = Context.packageDirectory

var runtimeFlags: [String] = []
if let march = ProcessInfo.processInfo.environment["RELCON_MARCH"], !march.isEmpty {
    runtimeFlags += ["-Xcc", "-march=\(march)"]
}

let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo", "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections"]),
]
let v3Flags = ["-Xcc", "-march=x86-64-v3"]
let v4Flags = ["-Xcc", "-march=x86-64-v4", "-Xcc", "-mavx512vnni"]

let package = Package(
    name: "relcon",
    products: [
        .library(name: "relcon", type: .dynamic, targets: ["RelConRuntime"]),
        // The `relcon` command-line tool (docs/cli.md). Product names must be unique and `relcon` is the
        // library's, so the binary is .build/<config>/relcon-cli (its help calls itself `relcon`).
        .executable(name: "relcon-cli", targets: ["RelConCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The public header include/relcon.h (through the symlink include -> ../../include) and
        // compile-time ABI checks.
        .target(name: "CRelCon", path: "Sources/CRelCon"),

        // Internal C header: the kernel argument block and the CPUID probe (static inline, nothing exported).
        .target(name: "CRelConKernels", path: "Sources/CRelConKernels"),

        // Per-ISA kernel modules (Embedded Swift, each with its own CPU flags).
        .target(name: "RelConKernelsV3", dependencies: ["CRelConKernels"], path: "Sources/RelConKernelsV3",
                swiftSettings: embedded + [.unsafeFlags(v3Flags)]),
        .target(name: "RelConKernelsV4", dependencies: ["CRelConKernels"], path: "Sources/RelConKernelsV4",
                swiftSettings: embedded + [.unsafeFlags(v4Flags)]),

        // The shipped runtime: Embedded Swift, no Swift runtime library, no allocation.
        .target(
            name: "RelConRuntime",
            dependencies: ["CRelCon", "CRelConKernels", "RelConKernelsV3", "RelConKernelsV4"],
            path: "Sources/RelConRuntime",
            swiftSettings: [
                .enableExperimentalFeature("Embedded"),
                .unsafeFlags(["-wmo", "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections"]
                             + runtimeFlags),
            ],
            linkerSettings: [
                .unsafeFlags([
                    // lld (shipped with the toolchain): unlike gold it honours the version script when
                    // collecting unused sections, so the unused Embedded runtime (allocator, hashing) goes.
                    "-use-ld=lld",
                    "-Xlinker", "--version-script=\(root)/Sources/relcon-exports.map",
                    "-Xlinker", "-soname=librelcon.so",
                    "-Xlinker", "-z", "-Xlinker", "defs",         // no unresolved symbol may remain
                    "-Xlinker", "--gc-sections",                  // with -function-sections above
                    "-Xlinker", "--strip-all",
                ]),
            ]
        ),

        // The same sources as normal (hosted) modules, so Swift Testing can import them.
        .target(name: "RelConKernelsV3Hosted", dependencies: ["CRelConKernels"], path: "Sources/RelConKernelsV3Hosted",
                swiftSettings: [.unsafeFlags(v3Flags)]),
        .target(name: "RelConKernelsV4Hosted", dependencies: ["CRelConKernels"], path: "Sources/RelConKernelsV4Hosted",
                swiftSettings: [.unsafeFlags(v4Flags)]),
        .target(
            name: "RelConRuntimeHosted",
            dependencies: ["CRelCon", "CRelConKernels", "RelConKernelsV3Hosted", "RelConKernelsV4Hosted"],
            path: "Sources/RelConRuntimeHosted",
            swiftSettings: [.define("RELCON_HOSTED"), .unsafeFlags(runtimeFlags)]
        ),
        // The CLI (docs/cli.md): hosted Swift. RelConSwift (readers, resampler, windowing, a thin wrapper over
        // the C API) calls the runtime only through include/relcon.h; the symbols come from the hosted twin,
        // linked in statically, so there is one runtime implementation and no .so to locate at run time.
        .target(name: "RelConSwift", dependencies: ["RelConRuntimeHosted", "CRelCon"], path: "Sources/RelConSwift"),
        .executableTarget(
            name: "RelConCLI",
            dependencies: ["RelConSwift", "CRelCon",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/RelConCLI"
        ),
        .testTarget(name: "CLITests", dependencies: ["RelConSwift", "CRelCon"], path: "Tests/CLITests"),
        .testTarget(
            name: "RelConRuntimeTests",
            dependencies: ["RelConRuntimeHosted", "CRelCon"],
            path: "Tests/RelConRuntimeTests"
        ),
    ]
)

// RELCON_HOSTED_ONLY=1: hosted modules and test targets only (see the top of this file).
if ProcessInfo.processInfo.environment["RELCON_HOSTED_ONLY"] == "1" {
    let notHosted: Set<String> = ["RelConKernelsV3", "RelConKernelsV4", "RelConRuntime", "RelConCLI"]
    package.targets.removeAll { notHosted.contains($0.name) }
    package.products = []
    package.dependencies = []
}
