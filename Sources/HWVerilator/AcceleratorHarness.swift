import Foundation

/// The off-chip memory model of `Sim/verilator/offchip_memory.h`, compiled into every model
/// library: `ports` weight ports and a vector port (port `ports`, reading port 0's bytes),
/// answering AXI4 read bursts cycle by cycle from DRAM channels with JEDEC timing.
/// `AcceleratorHarness` drives it from C++; the calls here are for tests that drive it
/// alone.
public final class MemoryModel {
  /// The model's ports and timing.
  public struct Shape: Sendable, Hashable {
    public var ports: Int
    public var portBeatBytes: Int
    public var vectorBeatBytes: Int
    public var maxOutstanding: Int
    /// Core lanes in a weight port's beat (16 bytes each: a non-zero and a negative word).
    public var lanesPerPort: Int
    /// `hw_mem_option`'s fields by name: channels, the clocks, the DRAM timing.
    public var options: [String: Double]

    public init(
      ports: Int, portBeatBytes: Int, vectorBeatBytes: Int, maxOutstanding: Int, lanesPerPort: Int,
      options: [String: Double]
    ) {
      self.ports = ports
      self.portBeatBytes = portBeatBytes
      self.vectorBeatBytes = vectorBeatBytes
      self.maxOutstanding = maxOutstanding
      self.lanesPerPort = lanesPerPort
      self.options = options
    }
  }

  public let shape: Shape
  let handle: UnsafeMutableRawPointer
  private let symbols: Symbols
  private let library: SharedLibrary

  /// A memory from `model`'s library (any hwgen Verilator library has it).
  public init(shape: Shape, library model: VerilatedModel) throws {
    guard let shim = model.shimHandle else { throw SimulationError.closed }
    library = shim.library
    symbols = try Symbols(shim.library)
    guard
      let created = symbols.create(
        Int32(shape.ports), Int32(shape.portBeatBytes), Int32(shape.vectorBeatBytes), UInt64(shape.maxOutstanding),
        Int32(shape.lanesPerPort))
    else {
      throw SimulationError.internalError("impossible memory shape \(shape)")
    }
    for (name, value) in shape.options.sorted(by: { $0.key < $1.key }) where symbols.option(created, name, value) != 0 {
      symbols.destroy(created)
      throw SimulationError.internalError("memory model: \(name) = \(value) is not a valid option")
    }
    self.shape = shape
    handle = created
  }

  deinit { symbols.destroy(handle) }

  /// Weight port `port`'s bytes from address 0.
  public func load(port: Int, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { symbols.load(handle, Int32(port), $0.baseAddress, UInt64($0.count)) }
  }
  public func acceptsBurst(port: Int) -> Bool { symbols.acceptsBurst(handle, Int32(port)) != 0 }
  public func acceptBurst(port: Int, address: Int, beats: Int) {
    symbols.acceptBurst(handle, Int32(port), UInt64(address), UInt64(beats))
  }
  public func beatAvailable(port: Int) -> Bool { symbols.beatAvailable(handle, Int32(port)) != 0 }
  /// The oldest arrived beat's address and RLAST.
  public func nextBeat(port: Int) -> (address: Int, last: Bool) {
    var last: Int32 = 0
    let address = symbols.nextBeat(handle, Int32(port), &last)
    return (Int(address), last != 0)
  }
  /// The beat at `address` into `words` (the port's beat bytes, little-endian); false past
  /// the port's bytes.
  public func readBeat(port: Int, address: Int, into words: UnsafeMutableRawPointer) -> Bool {
    symbols.readBeat(handle, Int32(port), UInt64(address), words.assumingMemoryBound(to: UInt32.self)) != 0
  }
  /// The R handshake of `port`'s oldest beat, whose data `words` held.
  public func takeBeat(port: Int, words: UnsafeRawPointer) {
    symbols.takeBeat(handle, Int32(port), words.assumingMemoryBound(to: UInt32.self))
  }
  public func tick() { symbols.tick(handle) }

  /// Cycles ticked, cycles the memory moved data, whole-beat bytes moved for the weight
  /// ports and the vector port, non-zero weights in the weight beats taken.
  public var cycles: Int { stat("cycles") }
  public var busyCycles: Int { stat("busy_cycles") }
  public var weightBytes: Int { stat("weight_bytes") }
  public var vectorBytes: Int { stat("vector_bytes") }
  public var nonZeroWeights: Int { stat("non_zero_weights") }
  /// Row activations and refreshes over all channels.
  public var activates: Int { stat("activates") }
  public var refreshes: Int { stat("refreshes") }

  private func stat(_ name: String) -> Int {
    let value = symbols.stat(handle, name)
    precondition(value != UInt64.max, "the memory model has no counter \(name)")
    return Int(value)
  }

  /// The memory's C functions, as `Sim/verilator/hw_shim.h` declares them.
  struct Symbols {
    typealias Handle = UnsafeMutableRawPointer
    let create: @convention(c) (Int32, Int32, Int32, UInt64, Int32) -> Handle?
    let option: @convention(c) (Handle?, UnsafePointer<CChar>?, Double) -> Int32
    let destroy: @convention(c) (Handle?) -> Void
    let load: @convention(c) (Handle?, Int32, UnsafePointer<UInt8>?, UInt64) -> Void
    let acceptsBurst: @convention(c) (Handle?, Int32) -> Int32
    let acceptBurst: @convention(c) (Handle?, Int32, UInt64, UInt64) -> Void
    let beatAvailable: @convention(c) (Handle?, Int32) -> Int32
    let nextBeat: @convention(c) (Handle?, Int32, UnsafeMutablePointer<Int32>?) -> UInt64
    let readBeat: @convention(c) (Handle?, Int32, UInt64, UnsafeMutablePointer<UInt32>?) -> Int32
    let takeBeat: @convention(c) (Handle?, Int32, UnsafePointer<UInt32>?) -> Void
    let tick: @convention(c) (Handle?) -> Void
    let stat: @convention(c) (Handle?, UnsafePointer<CChar>?) -> UInt64

    init(_ library: SharedLibrary) throws {
      create = try library.symbol("hw_mem_create")
      option = try library.symbol("hw_mem_option")
      destroy = try library.symbol("hw_mem_destroy")
      load = try library.symbol("hw_mem_load")
      acceptsBurst = try library.symbol("hw_mem_accepts_burst")
      acceptBurst = try library.symbol("hw_mem_accept_burst")
      beatAvailable = try library.symbol("hw_mem_beat_available")
      nextBeat = try library.symbol("hw_mem_next_beat")
      readBeat = try library.symbol("hw_mem_read_beat")
      takeBeat = try library.symbol("hw_mem_take_beat")
      tick = try library.symbol("hw_mem_tick")
      stat = try library.symbol("hw_mem_stat")
    }
  }
}

/// The C++ accelerator harness of `Sim/verilator/accel_harness.h`: a Verilated
/// `mmfree_accel` run cycle by cycle in C++, every AXI4 read port answered from a
/// `MemoryModel`, a host driver on the AXI4-Lite control port (the queued setup writes,
/// the prompt, interrupt service: tokens read back, errors, DONE), the checkpoint beats
/// collected. `run` returns at an event, before that cycle's clock edge; nothing crosses
/// into Swift per cycle.
public final class AcceleratorHarness {
  /// The memory's misbehaviour, seeded.
  public struct Faults: Sendable, Hashable {
    public var seed: UInt64 = 1
    /// Chance (percent) a port's ARREADY is low, and that it offers no beat, in a cycle.
    public var arStallPercent = 0
    public var rGapPercent = 0
    /// `[errorAddress, errorAddress + errorBytes)` of `errorPort` answers `errorResponse`
    /// (2 SLVERR, 3 DECERR).
    public var errorPort = 0
    public var errorAddress = 0
    public var errorBytes = 0
    public var errorResponse = 2
    /// This port never raises ARREADY.
    public var silentPort: Int?

    public init() {}
    public static let none = Faults()

    var options: [(String, Int64)] {
      [
        ("seed", Int64(bitPattern: seed)), ("ar_stall_percent", Int64(arStallPercent)),
        ("r_gap_percent", Int64(rGapPercent)), ("error_port", Int64(errorPort)),
        ("error_base", Int64(errorAddress)), ("error_size", Int64(errorBytes)),
        ("error_resp", Int64(errorResponse)), ("silent_port", Int64(silentPort ?? -1)),
      ]
    }
  }

  /// Where the host driver finds the control registers it services (`mmfree_csr`'s map).
  public struct ControlMap: Sendable, Hashable {
    public var prompt, token, irqStatus, error, errorAddressLow, errorAddressHigh: Int
    public var irqDoneBit, irqErrorBit, irqTokenBit, tokenValidBit: Int

    public init(
      prompt: Int, token: Int, irqStatus: Int, error: Int, errorAddressLow: Int, errorAddressHigh: Int,
      irqDoneBit: Int, irqErrorBit: Int, irqTokenBit: Int, tokenValidBit: Int
    ) {
      self.prompt = prompt
      self.token = token
      self.irqStatus = irqStatus
      self.error = error
      self.errorAddressLow = errorAddressLow
      self.errorAddressHigh = errorAddressHigh
      self.irqDoneBit = irqDoneBit
      self.irqErrorBit = irqErrorBit
      self.irqTokenBit = irqTokenBit
      self.tokenValidBit = tokenValidBit
    }

    var options: [(String, Int64)] {
      [
        ("reg_prompt", prompt), ("reg_token", token), ("reg_irq_status", irqStatus), ("reg_error", error),
        ("reg_error_addr_low", errorAddressLow), ("reg_error_addr_high", errorAddressHigh),
        ("bit_irq_done", irqDoneBit), ("bit_irq_error", irqErrorBit), ("bit_irq_token", irqTokenBit),
        ("bit_token_valid", tokenValidBit),
      ].map { ($0.0, Int64($0.1)) }
    }
  }

  /// What stopped a run (several can happen in one cycle); empty: the budget ran out.
  public struct Events: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let checkpoint = Events(rawValue: 1)
    public static let token = Events(rawValue: 2)
    /// The host read ERROR and ERROR_ADDR after an error interrupt (`hostError`).
    public static let error = Events(rawValue: 4)
    /// The host read DONE.
    public static let idle = Events(rawValue: 8)
    public static let violation = Events(rawValue: 16)
    public static let stopped = Events(rawValue: 32)
  }

  public let model: VerilatedModel
  public let memory: MemoryModel
  private let symbols: Symbols
  private let library: SharedLibrary
  private let handle: UnsafeMutableRawPointer

  public init(model: VerilatedModel, memory: MemoryModel, control: ControlMap, faults: Faults) throws {
    guard let shim = model.shimHandle else { throw SimulationError.closed }
    self.model = model
    self.memory = memory
    library = shim.library
    symbols = try Symbols(shim.library)
    guard let created = symbols.create(shim.model, memory.handle) else {
      throw SimulationError.internalError("out of memory creating the accelerator harness")
    }
    handle = created
    let missing = String(cString: symbols.error(created))
    guard missing.isEmpty else { throw VerilatorError.loadFailed("accelerator harness: \(missing)") }
    for (name, value) in faults.options + control.options where symbols.option(created, name, value) != 0 {
      throw VerilatorError.loadFailed("accelerator harness: no option \(name)")
    }
  }

  deinit { symbols.destroy(handle) }

  /// Queues prompt tokens; the driver writes them into PROMPT in order.
  public func prompt(_ tokens: [Int]) { for t in tokens { symbols.prompt(handle, UInt64(t)) } }

  /// Queues a setup write on the control port, done in order after the prompt; an answer
  /// other than OKAY ends the run with a `violation`.
  public func write(register address: Int, _ data: UInt32) { symbols.write(handle, UInt64(address), data) }

  /// Runs up to `cycles` cycles or until an event. Throws why the model stopped, if it did.
  public func run(cycles: Int) throws -> Events {
    let events = Events(rawValue: symbols.run(handle, UInt64(cycles)))
    if events.contains(.stopped) {
      try model.eval()
      throw SimulationError.internalError("the model stopped without a status")
    }
    return events
  }

  /// The ERROR register and the address in ERROR_ADDR as the host read them (after `error`).
  public var hostError: (error: UInt32, address: UInt64) {
    (UInt32(truncatingIfNeeded: symbols.stat(handle, "host_error")), symbols.stat(handle, "host_error_address"))
  }

  /// The tokens the host read from TOKEN, in order.
  public var hostTokens: [Int] {
    var tokens = [UInt64](repeating: 0, count: stat("host_tokens"))
    let count = tokens.withUnsafeMutableBufferPointer { symbols.hostTokens(handle, $0.baseAddress, UInt64($0.count)) }
    return tokens.prefix(Int(count)).map { Int($0) }
  }

  /// The AXI rule the design broke, or the setup write that failed (after a `violation`).
  public var violation: String { String(cString: symbols.error(handle)) }

  /// Clock edges run, and the handshakes the faults held back: cycles an address waited
  /// with ARREADY low, and cycles an arrived beat was not offered.
  public var cycles: Int { stat("cycles") }
  public var heldAddresses: Int { stat("held_addresses") }
  public var heldBeats: Int { stat("held_beats") }

  /// The checkpoint words collected since the last call (32-bit, in beat order).
  public func takeCheckpoint() -> [UInt32] {
    var words = [UInt32](repeating: 0, count: stat("checkpoint_words"))
    let count = words.withUnsafeMutableBufferPointer { symbols.checkpoint(handle, $0.baseAddress, UInt64($0.count)) }
    return Array(words.prefix(Int(count)))
  }

  private func stat(_ name: String) -> Int {
    let value = symbols.stat(handle, name)
    precondition(value != UInt64.max, "the accelerator harness has no counter \(name)")
    return Int(value)
  }

  /// The harness's C functions, as `Sim/verilator/hw_shim.h` declares them.
  struct Symbols {
    typealias Handle = UnsafeMutableRawPointer
    let create: @convention(c) (Handle?, Handle?) -> Handle?
    let destroy: @convention(c) (Handle?) -> Void
    let error: @convention(c) (Handle?) -> UnsafePointer<CChar>
    let option: @convention(c) (Handle?, UnsafePointer<CChar>?, Int64) -> Int32
    let prompt: @convention(c) (Handle?, UInt64) -> Void
    let write: @convention(c) (Handle?, UInt64, UInt32) -> Void
    let run: @convention(c) (Handle?, UInt64) -> Int32
    let hostTokens: @convention(c) (Handle?, UnsafeMutablePointer<UInt64>?, UInt64) -> UInt64
    let stat: @convention(c) (Handle?, UnsafePointer<CChar>?) -> UInt64
    let checkpoint: @convention(c) (Handle?, UnsafeMutablePointer<UInt32>?, UInt64) -> UInt64

    init(_ library: SharedLibrary) throws {
      create = try library.symbol("hw_accel_create")
      destroy = try library.symbol("hw_accel_destroy")
      error = try library.symbol("hw_accel_error")
      option = try library.symbol("hw_accel_option")
      prompt = try library.symbol("hw_accel_prompt")
      write = try library.symbol("hw_accel_write")
      run = try library.symbol("hw_accel_run")
      hostTokens = try library.symbol("hw_accel_host_tokens")
      stat = try library.symbol("hw_accel_stat")
      checkpoint = try library.symbol("hw_accel_checkpoint")
    }
  }
}
