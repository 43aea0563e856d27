// swift-tools-version: 6.0
//
// librelcon: the RelCon accelerometer encoder runtime.
//
//   swift build -c release   ->  .build/release/librelcon.so   (Embedded Swift; needs only libc/libm;
//                                 exports only relcon_*, see Sources/relcon-exports.map)
//   swift test               ->  Swift Testing suites against RelConRuntimeHosted (the same sources,
//                                 compiled as a normal module; Sources/RelConRuntimeHosted is a symlink)
//
// Optional: RELCON_MARCH=x86-64-v3 swift build -c release   adds -Xcc -march=<value> to the runtime
// (faster kernels; the library then needs that CPU). The default build runs on any CPU of the target.
import Foundation
import PackageDescription

let root = Context.packageDirectory

var runtimeFlags: [String] = []
if let march = ProcessInfo.processInfo.environment["RELCON_MARCH"], !march.isEmpty {
    runtimeFlags += ["-Xcc", "-march=\(march)"]
}

let package = Package(
    name: "relcon",
    products: [
        .library(name: "relcon", type: .dynamic, targets: ["RelConRuntime"]),
    ],
    targets: [
        // The public header include/relcon.h (through the symlink include -> ../../include) and
        // compile-time ABI checks.
        .target(name: "CRelCon", path: "Sources/CRelCon"),

        // The shipped runtime: Embedded Swift, no Swift runtime library, no allocation.
        .target(
            name: "RelConRuntime",
            dependencies: ["CRelCon"],
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

        // The same sources as a normal (hosted) module, so Swift Testing can import them.
        .target(
            name: "RelConRuntimeHosted",
            dependencies: ["CRelCon"],
            path: "Sources/RelConRuntimeHosted",
            swiftSettings: [.unsafeFlags(runtimeFlags)]
        ),
        .testTarget(
            name: "RelConRuntimeTests",
            dependencies: ["RelConRuntimeHosted", "CRelCon"],
            path: "Tests/RelConRuntimeTests"
        ),
    ]
)
