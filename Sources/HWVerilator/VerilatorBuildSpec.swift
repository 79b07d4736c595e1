/// A top-level port of a design, as the Verilator bridge sees it. Together with the
/// SystemVerilog text this is all the bridge knows about a design.
public struct SimPort: Hashable, Sendable {
  public enum Direction: Hashable, Sendable { case input, output }

  public var name: String
  public var width: Int
  public var direction: Direction

  public init(_ name: String, width: Int, _ direction: Direction) {
    self.name = name
    self.width = width
    self.direction = direction
  }

  public static func input(_ name: String, width: Int = 1) -> SimPort { SimPort(name, width: width, .input) }
  public static func output(_ name: String, width: Int = 1) -> SimPort { SimPort(name, width: width, .output) }

  /// Number of 32-bit words the value occupies (Verilator's `VlWide` layout, least significant word first).
  public var words: Int { (width + 31) / 32 }
}

/// Everything that determines a Verilated shared library. Two equal specs give the same
/// cache key, so the same library.
public struct VerilatorBuildSpec: Hashable, Sendable {
  public struct SourceFile: Hashable, Sendable {
    /// A plain file name (no directories). `.sv` and `.v` files are passed to Verilator;
    /// other files (`.svh`, `.vh`) are only written, for `include.
    public var fileName: String
    public var text: String

    public init(fileName: String, text: String) {
      self.fileName = fileName
      self.text = text
    }
  }

  public enum TraceFormat: String, Hashable, Sendable {
    case vcd, fst
  }

  /// Fast code, deterministic zero initial values, assertions on, and warnings that do
  /// not fail the build (they are kept in build.log; `verilator --lint-only -Wall` is
  /// a separate gate).
  public static let defaultVerilatorFlags = ["-O3", "--x-assign", "fast", "--x-initial", "fast", "--assert", "-Wno-fatal"]
  // -O3 over -O2: 1.37 vs 0.91 G weights/s on the 16 x 64 core (`hwgen bench core`).
  public static let defaultCompilerFlags = ["-O3"]

  public var topModule: String
  public var sources: [SourceFile]
  public var ports: [SimPort]
  /// The 1-bit input that `step` toggles; `nil` for a purely combinational design.
  public var clockPort: String?
  public var verilatorFlags: [String]
  /// Flags for the C++ compiler, applied to the model's hot code, the shim and the
  /// Verilator runtime. Model code Verilator marks as slow (construction, initial
  /// blocks) is compiled with `-O0` appended, to keep builds short.
  public var compilerFlags: [String]
  /// Waveform support compiled into the library; a model writes one only when given a path.
  public var trace: TraceFormat?
  /// Verilator `--threads`.
  public var threads: Int

  public init(
    topModule: String,
    sources: [SourceFile],
    ports: [SimPort],
    clockPort: String? = "clk_i",
    verilatorFlags: [String] = VerilatorBuildSpec.defaultVerilatorFlags,
    compilerFlags: [String] = VerilatorBuildSpec.defaultCompilerFlags,
    trace: TraceFormat? = nil,
    threads: Int = 1
  ) {
    self.topModule = topModule
    self.sources = sources
    self.ports = ports
    self.clockPort = clockPort
    self.verilatorFlags = verilatorFlags
    self.compilerFlags = compilerFlags
    self.trace = trace
    self.threads = threads
  }

  /// Source files handed to Verilator on its command line, in the given order.
  var compiledSources: [SourceFile] {
    sources.filter { $0.fileName.hasSuffix(".sv") || $0.fileName.hasSuffix(".v") }
  }

  /// Rejects specs the shim generator cannot turn into valid C++, with one line per problem.
  func validate() throws {
    var problems: [String] = []
    if !Self.isPlainIdentifier(topModule) {
      problems.append("top module name '\(topModule)' is not a plain identifier")
    }
    if compiledSources.isEmpty { problems.append("no .sv or .v source file") }
    var fileNames: Set<String> = []
    for file in sources {
      if file.fileName.isEmpty || file.fileName.contains("/") || file.fileName.hasPrefix(".") {
        problems.append("source file name '\(file.fileName)' must be a plain file name")
      }
      if !fileNames.insert(file.fileName).inserted { problems.append("source file '\(file.fileName)' given twice") }
    }
    if ports.isEmpty { problems.append("no ports") }
    var portNames: Set<String> = []
    for port in ports {
      // Verilator renames identifiers with double underscores; the shim would not find them.
      if !Self.isPlainIdentifier(port.name) || port.name.contains("__") {
        problems.append("port name '\(port.name)' is not a plain identifier without '__'")
      }
      if port.width < 1 { problems.append("port '\(port.name)' has width \(port.width)") }
      if !portNames.insert(port.name).inserted { problems.append("port '\(port.name)' given twice") }
    }
    if let clockPort {
      if let clock = ports.first(where: { $0.name == clockPort }) {
        if clock.direction != .input || clock.width != 1 {
          problems.append("clock port '\(clockPort)' must be a 1-bit input")
        }
      } else {
        problems.append("clock port '\(clockPort)' is not in the port list")
      }
    }
    if threads < 1 { problems.append("threads must be at least 1, got \(threads)") }
    if !problems.isEmpty { throw VerilatorError.invalidSpec(problems) }
  }

  static func isPlainIdentifier(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
      return false
    }
    return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
  }
}

/// Why a Verilated library could not be built or loaded.
public enum VerilatorError: Error, CustomStringConvertible {
  case invalidSpec([String])
  /// The spec's ports differ from the ports Verilator found in the design.
  case portMismatch([String])
  /// Verilator rejected the design; the excerpt holds the first relevant lines, the log all of it.
  case verilatorFailed(excerpt: String, log: String)
  case compileFailed(excerpt: String, log: String)
  case unknownPort(String, available: [String])
  case missingDependency(String)
  case loadFailed(String)
  case cacheFailed(String)

  public var description: String {
    switch self {
    case .invalidSpec(let problems):
      return "invalid Verilator build spec:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    case .portMismatch(let problems):
      return "the design's ports do not match the spec:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    case .verilatorFailed(let excerpt, let log):
      return "verilator failed (full log: \(log)):\n\(excerpt)"
    case .compileFailed(let excerpt, let log):
      return "compiling the Verilated model failed (full log: \(log)):\n\(excerpt)"
    case .unknownPort(let name, let available):
      return "no port '\(name)'; the design has \(available.joined(separator: ", "))"
    case .missingDependency(let message), .loadFailed(let message), .cacheFailed(let message):
      return message
    }
  }
}
