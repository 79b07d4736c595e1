// swift-tools-version:6.0
import PackageDescription

// One library target per layer; the `hwgen` executable is a thin front end.
//   HWSupport    hashing, deterministic RNG, atomic file output, subprocesses
//   HWDSL        hardware IR, builder, checking passes, SystemVerilog printer
//   HWSpec       configs and number formats shared by generators, golden model and testbench
//   HWGenerators accelerator generators written in the DSL
//   HWGolden     bit-exact software golden models
//   HWSimFiles   the top-level Sim/ folder as resources: the Verilator shim's C++ and the
//                Icarus bench (SwiftPM does not compile them)
//   HWVerilator  Verilator bridge: build specs, the content-addressed build cache, the shim,
//                VerilatedModel; depends on nothing but support code and Sim/
//   HWSim        testbenches on the bridge: accelerator simulation, unit and core benches
//   HWTools      regress, RTL gates (lint), synthesis, the Icarus bench
//   HWReport     text reports, benchmarks output and the power model
//   HWGenCLI     the subcommands
let package = Package(
  name: "hwgen",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "hwgen", targets: ["hwgen"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .target(name: "HWSupport"),
    .target(name: "HWDSL", dependencies: ["HWSupport"]),
    .target(name: "HWSpec", dependencies: ["HWSupport"], resources: [.copy("Profiles")]),
    .target(name: "HWGenerators", dependencies: ["HWDSL", "HWSpec"]),
    .target(name: "HWGolden", dependencies: ["HWSpec", "HWSupport"]),
    .target(
      name: "HWSimFiles", path: "Sim", exclude: ["README.md"], sources: ["SimFiles.swift"],
      resources: [.copy("verilator"), .copy("icarus")]),
    .target(name: "HWVerilator", dependencies: ["HWSimFiles", "HWSupport"]),
    .target(
      name: "HWSim",
      dependencies: ["HWVerilator", "HWDSL", "HWGenerators", "HWGolden", "HWReport", "HWSpec", "HWSupport"]),
    .target(
      name: "HWTools",
      dependencies: [
        "HWSim", "HWVerilator", "HWSimFiles", "HWDSL", "HWGenerators", "HWGolden", "HWReport", "HWSpec", "HWSupport",
      ]),
    .target(name: "HWReport", dependencies: ["HWSpec"]),
    .target(
      name: "HWGenCLI",
      dependencies: [
        "HWDSL", "HWGenerators", "HWGolden", "HWSim", "HWTools", "HWVerilator", "HWReport", "HWSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "hwgen", dependencies: ["HWGenCLI"]),
    .testTarget(name: "HWDSLTests", dependencies: ["HWDSL", "HWSupport"]),
    .testTarget(name: "HWGoldenTests", dependencies: ["HWGolden", "HWSpec", "HWSupport"]),
    .testTarget(
      name: "HWSimTests",
      dependencies: [
        "HWSim", "HWTools", "HWVerilator", "HWSimFiles", "HWDSL", "HWGenerators", "HWGolden", "HWReport", "HWSpec",
        "HWSupport",
      ]),
    .testTarget(name: "HWGenCLITests", dependencies: ["HWGenCLI", "HWGolden", "HWSim", "HWSpec", "HWSupport"]),
    .testTarget(
      name: "HWReportTests",
      dependencies: ["HWReport", "HWSim", "HWTools", "HWGenerators", "HWSpec", "HWSupport"]),
  ]
)
