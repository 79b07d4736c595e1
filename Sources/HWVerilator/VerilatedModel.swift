import Foundation

/// Why a running model stopped. Once a model stops, every later `eval` or `step`
/// throws the same error again.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
  /// `$fatal`, `$stop`, `$error` or a failed immediate or concurrent assertion (Verilator
  /// 5.006 stops the simulation on each), with `file:line: message`; an assertion without
  /// an action block is named by its hierarchical label
  /// (`Assertion failed in TOP.top.Label_A: 'assert' failed.`).
  case fatal(String)
  /// `$finish`, with `file:line`.
  case finished(String)
  /// Verilator's runtime reported a fatal error (e.g. `$writememh` to an unwritable path)
  /// or C++ threw; the model cannot go on.
  case internalError(String)
  case closed

  public var description: String {
    switch self {
    case .fatal(let message): return "simulation stopped: \(message)"
    case .finished(let message): return "simulation finished: \(message)"
    case .internalError(let message): return "Verilator runtime error: \(message)"
    case .closed: return "the model is closed"
    }
  }
}

/// A port of a loaded model: its index in the shim's port table and its width.
/// Cheap to copy; look it up once with `VerilatedModel.port(_:)`, use it every cycle.
public struct PortHandle: Hashable, Sendable {
  public let index: Int32
  public let width: Int
  public let direction: SimPort.Direction
  /// 32-bit words of the value, least significant first.
  public var words: Int { (width + 31) / 32 }
}

/// One instance of a Verilated design, loaded from a `BuiltLibrary` with `dlopen`.
/// Each instance has its own `VerilatedContext`, so several can live in one process.
/// Not thread-safe: use a model from one thread at a time.
///
/// Values wider than a port are masked to the port's width: `set` keeps the low `width`
/// bits (missing high words are zero), and Verilator only ever sees clean values.
public final class VerilatedModel {
  public let library: BuiltLibrary
  public var ports: [SimPort] { library.ports }
  private let symbols: ShimSymbols
  private var handle: UnsafeMutableRawPointer?
  private var stopped: SimulationError?

  /// Loads the library and creates the model; with `traceFile`, also opens the waveform
  /// (the library must have been built with `trace`). Initial blocks run here.
  public init(library: BuiltLibrary, traceFile: URL? = nil) throws {
    self.library = library
    symbols = try ShimSymbols(try SharedLibrary(library.path))
    try symbols.check(library)
    if traceFile != nil, library.trace == nil {
      throw VerilatorError.loadFailed("cannot trace: \(library.path.path) was built without trace support")
    }
    guard let created = symbols.create(traceFile?.path) else {
      throw SimulationError.internalError("out of memory creating the model")
    }
    handle = created
    if let error = status(symbols.status(created)) {
      close()
      throw error
    }
  }

  /// Builds or fetches the library for `spec`, then creates a model.
  public convenience init(spec: VerilatorBuildSpec, cache: VerilatorBuildCache = VerilatorBuildCache(), traceFile: URL? = nil)
    throws
  {
    try self.init(library: try cache.library(for: spec), traceFile: traceFile)
  }

  deinit { close() }

  /// Destroys the model: runs `final` blocks and flushes and closes the trace.
  public func close() {
    guard let handle else { return }
    symbols.destroy(handle)
    self.handle = nil
    stopped = .closed
  }

  /// The loaded library and the model's handle, for the C++ harnesses that drive the
  /// model themselves (`AXIReadHarness`); nil once closed.
  var shimHandle: (library: SharedLibrary, model: UnsafeMutableRawPointer)? {
    handle.map { (symbols.library, $0) }
  }

  public func port(_ name: String) throws -> PortHandle {
    guard let index = library.ports.firstIndex(where: { $0.name == name }) else {
      throw VerilatorError.unknownPort(name, available: library.ports.map(\.name))
    }
    let port = library.ports[index]
    return PortHandle(index: Int32(index), width: port.width, direction: port.direction)
  }

  /// Rising clock edges applied so far.
  public var cycle: UInt64 {
    guard let handle else { return 0 }
    return symbols.cycles(handle)
  }

  // MARK: - Driving and reading ports

  /// Sets an input to the low `width` bits of `value` (higher bits of wide ports become 0).
  public func set(_ port: PortHandle, _ value: UInt64) {
    _ = symbols.set64(live(input: port), port.index, value)
  }

  /// Sets an input from `port.words` words at `words`, least significant first.
  public func set(_ port: PortHandle, words: UnsafePointer<UInt32>) {
    _ = symbols.set(live(input: port), port.index, words, UInt32(port.words))
  }

  /// Sets an input from `words`, least significant first; missing words are 0, extra ones ignored.
  public func set(_ port: PortHandle, words: [UInt32]) {
    let handle = live(input: port)
    words.withUnsafeBufferPointer { buffer in
      _ = symbols.set(handle, port.index, buffer.baseAddress, UInt32(buffer.count))
    }
  }

  /// The low 64 bits of a port.
  public func get(_ port: PortHandle) -> UInt64 {
    symbols.get64(live(port), port.index)
  }

  /// Writes `port.words` words, least significant first.
  public func get(_ port: PortHandle, into words: UnsafeMutablePointer<UInt32>) {
    _ = symbols.get(live(port), port.index, words, UInt32(port.words))
  }

  public func getWords(_ port: PortHandle) -> [UInt32] {
    let handle = live(port)
    return [UInt32](unsafeUninitializedCapacity: port.words) { buffer, count in
      _ = symbols.get(handle, port.index, buffer.baseAddress, UInt32(port.words))
      count = port.words
    }
  }

  // MARK: - Running

  /// Settles combinational logic after inputs changed, without a clock edge.
  public func eval() throws {
    let handle = try running()
    if let error = status(symbols.eval(handle)) { throw error }
  }

  /// Runs `cycles` clock cycles in C (clock high, eval, clock low, eval; two time units
  /// each). Stops at the cycle where the design stops and throws why; `cycle` tells when.
  public func step(_ cycles: Int = 1) throws {
    precondition(cycles >= 0, "step(\(cycles)): negative cycle count")
    precondition(library.clockPort != nil, "step: the design has no clock port; use eval()")
    let handle = try running()
    if let error = status(symbols.step(handle, UInt64(cycles))) { throw error }
  }

  private func running() throws -> UnsafeMutableRawPointer {
    if let stopped { throw stopped }
    return handle!
  }

  private func live(_ port: PortHandle) -> UnsafeMutableRawPointer {
    guard let handle else { preconditionFailure("VerilatedModel used after close()") }
    precondition(port.index >= 0 && Int(port.index) < library.ports.count, "port handle from another model")
    return handle
  }

  private func live(input port: PortHandle) -> UnsafeMutableRawPointer {
    precondition(port.direction == .input, "cannot set output port \(library.ports[Int(port.index)].name)")
    return live(port)
  }

  /// Maps a shim status to the error it means, and makes it sticky.
  private func status(_ code: Int32) -> SimulationError? {
    guard code != 0, let handle else { return nil }
    let message = symbols.errorMessage(handle).map { String(cString: $0) } ?? ""
    let error: SimulationError
    switch code {
    case 1: error = .fatal(message)
    case 2: error = .finished(message)
    default: error = .internalError(message.isEmpty ? "status \(code)" : message)
    }
    stopped = error
    return error
  }
}

/// A `dlopen`ed library, closed when the last reference goes.
final class SharedLibrary {
  private let handle: UnsafeMutableRawPointer
  let path: URL

  init(_ path: URL) throws {
    guard let handle = dlopen(path.path, RTLD_NOW | RTLD_LOCAL) else {
      throw VerilatorError.loadFailed("cannot load \(path.path): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
    }
    self.handle = handle
    self.path = path
  }

  deinit { dlclose(handle) }

  func symbol<T>(_ name: String) throws -> T {
    guard let address = dlsym(handle, name) else {
      throw VerilatorError.loadFailed("\(path.path) has no symbol \(name); not an hwgen Verilator library")
    }
    return unsafeBitCast(address, to: T.self)
  }
}

/// The shim's C functions, as `Sim/verilator/hw_shim.h` declares them.
struct ShimSymbols {
  typealias Model = UnsafeMutableRawPointer
  let library: SharedLibrary
  let abiVersion: @convention(c) () -> Int32
  let cacheKey: @convention(c) () -> UnsafePointer<CChar>?
  let portCount: @convention(c) () -> Int32
  let portName: @convention(c) (Int32) -> UnsafePointer<CChar>?
  let portWidth: @convention(c) (Int32) -> Int32
  let portIsOutput: @convention(c) (Int32) -> Int32
  let create: @convention(c) (UnsafePointer<CChar>?) -> Model?
  let destroy: @convention(c) (Model?) -> Void
  let status: @convention(c) (Model?) -> Int32
  let errorMessage: @convention(c) (Model?) -> UnsafePointer<CChar>?
  let cycles: @convention(c) (Model?) -> UInt64
  let eval: @convention(c) (Model?) -> Int32
  let step: @convention(c) (Model?, UInt64) -> Int32
  let set: @convention(c) (Model?, Int32, UnsafePointer<UInt32>?, UInt32) -> Int32
  let set64: @convention(c) (Model?, Int32, UInt64) -> Int32
  let get: @convention(c) (Model?, Int32, UnsafeMutablePointer<UInt32>?, UInt32) -> Int32
  let get64: @convention(c) (Model?, Int32) -> UInt64

  init(_ library: SharedLibrary) throws {
    self.library = library
    abiVersion = try library.symbol("hw_abi_version")
    cacheKey = try library.symbol("hw_cache_key")
    portCount = try library.symbol("hw_port_count")
    portName = try library.symbol("hw_port_name")
    portWidth = try library.symbol("hw_port_width")
    portIsOutput = try library.symbol("hw_port_is_output")
    create = try library.symbol("hw_create")
    destroy = try library.symbol("hw_destroy")
    status = try library.symbol("hw_status")
    errorMessage = try library.symbol("hw_error_message")
    cycles = try library.symbol("hw_cycles")
    eval = try library.symbol("hw_eval")
    step = try library.symbol("hw_step")
    set = try library.symbol("hw_set")
    set64 = try library.symbol("hw_set64")
    get = try library.symbol("hw_get")
    get64 = try library.symbol("hw_get64")
  }

  /// The library must be the one `built` describes: same key, shim version and port table.
  func check(_ built: BuiltLibrary) throws {
    let path = built.path.path
    guard abiVersion() == VerilatorShim.abiVersion else {
      throw VerilatorError.loadFailed("\(path): shim ABI version \(abiVersion()), expected \(VerilatorShim.abiVersion)")
    }
    guard let key = cacheKey(), String(cString: key) == built.key else {
      throw VerilatorError.loadFailed("\(path) was built for another spec")
    }
    var table: [SimPort] = []
    for index in 0..<portCount() {
      let name = portName(index).map { String(cString: $0) } ?? ""
      table.append(SimPort(name, width: Int(portWidth(index)), portIsOutput(index) != 0 ? .output : .input))
    }
    guard table == built.ports else {
      throw VerilatorError.loadFailed("\(path): the library's port table differs from the spec")
    }
  }
}
