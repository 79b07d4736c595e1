import Foundation
import HWSupport

/// The installed Verilator and C++ compiler, probed once per process. Their versions are
/// part of every cache key; the flags come from Verilator's own `verilated.mk`, so the
/// library is compiled the way Verilator's Makefile would compile it on this machine.
struct VerilatorToolchain: Sendable {
  let verilator: String
  let verilatorVersion: String
  let verilatorRoot: String
  let cxx: String
  let cxxVersion: String
  /// `CFG_CXXFLAGS_NO_UNUSED`: `-faligned-new`, `-fcf-protection=none` and warning switches.
  let cxxFlags: [String]
  /// `CFG_CXXFLAGS_COROUTINES`, for designs built with `--timing`.
  let coroutineFlags: [String]
  /// `CFG_LDLIBS_THREADS`.
  let threadLibs: [String]

  var includeDirectory: String { verilatorRoot + "/include" }

  /// Everything that makes two machines' builds differ.
  var fingerprint: String {
    [verilator, verilatorVersion, verilatorRoot, cxx, cxxVersion].joined(separator: "\n")
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var probed: VerilatorToolchain?

  static func current() throws -> VerilatorToolchain {
    lock.lock()
    defer { lock.unlock() }
    if let probed { return probed }
    let toolchain = try probe()
    probed = toolchain
    return toolchain
  }

  private static func probe() throws -> VerilatorToolchain {
    let verilator = try ExternalTool.verilator.locate()
    let cxx = try ExternalTool.cxx.locate()
    let version = try ExternalTool.verilator.run(["--version"])
    guard version.succeeded else { throw VerilatorError.missingDependency("`verilator --version` failed: \(version.output)") }
    let root = try ExternalTool.verilator.run(["--getenv", "VERILATOR_ROOT"])
    let rootPath = root.output.trimmingCharacters(in: .whitespacesAndNewlines)
    guard root.succeeded, !rootPath.isEmpty else {
      throw VerilatorError.missingDependency("`verilator --getenv VERILATOR_ROOT` failed: \(root.output)")
    }
    let cxxVersion = try ExternalTool.cxx.run(["--version"])
    guard cxxVersion.succeeded else { throw VerilatorError.missingDependency("`\(cxx) --version` failed: \(cxxVersion.output)") }
    let makefile = rootPath + "/include/verilated.mk"
    guard let mk = try? String(contentsOfFile: makefile, encoding: .utf8) else {
      throw VerilatorError.missingDependency("cannot read \(makefile); reinstall with: apt-get install -y verilator")
    }
    return VerilatorToolchain(
      verilator: verilator,
      verilatorVersion: version.output.trimmingCharacters(in: .whitespacesAndNewlines),
      verilatorRoot: rootPath,
      cxx: cxx,
      cxxVersion: cxxVersion.output.split(separator: "\n").first.map(String.init) ?? "",
      cxxFlags: makeVariable("CFG_CXXFLAGS_NO_UNUSED", in: mk) ?? ["-faligned-new"],
      coroutineFlags: makeVariable("CFG_CXXFLAGS_COROUTINES", in: mk) ?? ["-fcoroutines"],
      threadLibs: makeVariable("CFG_LDLIBS_THREADS", in: mk) ?? ["-pthread", "-lpthread", "-latomic"])
  }

  /// The words of a simple one-line `NAME = value` assignment in a Makefile.
  static func makeVariable(_ name: String, in makefile: String) -> [String]? {
    for line in makefile.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1)
      guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
      return parts[1].split(separator: " ").map(String.init)
    }
    return nil
  }
}
