import Foundation

/// An external program hwgen drives (verilator, iverilog, yosys, a C++ compiler),
/// with the Debian package that provides it, so a missing tool is one clear line.
public struct ExternalTool: Sendable {
  public let executable: String
  public let debianPackage: String

  public init(_ executable: String, debianPackage: String) {
    self.executable = executable
    self.debianPackage = debianPackage
  }

  public static let verilator = ExternalTool("verilator", debianPackage: "verilator")
  public static let iverilog = ExternalTool("iverilog", debianPackage: "iverilog")
  public static let vvp = ExternalTool("vvp", debianPackage: "iverilog")
  public static let yosys = ExternalTool("yosys", debianPackage: "yosys")
  public static let cxx = ExternalTool("g++", debianPackage: "g++")
  public static let make = ExternalTool("make", debianPackage: "make")

  /// The absolute path found on PATH, or an error naming the package.
  public func locate() throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(executable)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    throw ToolError("\(executable) not found on PATH; install it with: apt-get install -y \(debianPackage)")
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
