import Foundation

/// The C++ AXI4 read harness of `Sim/verilator/axi_mem_slave.h`, compiled into every model
/// library: a memory slave on the model's AXI4 read port, a command source and a data
/// sink, run cycle by cycle in C++. Swift configures it, queues commands, runs N cycles or
/// until an event, and reads the beats and counters afterwards; no call crosses into Swift
/// per cycle. The harness drives the model's clock while it runs.
public final class AXIReadHarness {
  /// The slave's timing and faults.
  public struct Slave: Sendable {
    /// Cycles from the AR handshake to a burst's first beat.
    public var latency = 10
    /// Bursts accepted and not yet answered, at most (ARREADY is low at the limit).
    public var maxOutstanding = 8
    /// Beats per cycle the slave delivers at most, as numerator and denominator (<= 1).
    public var bandwidth = (beats: 1, cycles: 1)
    public var seed: UInt64 = 1
    /// Chance in percent, per cycle, that ARREADY is low / no new beat starts / the data
    /// stream's ready is low.
    public var arStallPercent = 0
    public var rGapPercent = 0
    public var dataStallPercent = 0
    /// Beats in this byte range answer `errorResponse` (2 SLVERR, 3 DECERR).
    public var errorRange: Range<UInt64>? = nil
    public var errorResponse = 2
    /// ARREADY never rises.
    public var neverAnswers = false
    /// The longest burst the master may issue; the slave stops the run on a longer one.
    public var maxBurstBeats = 256
    /// The beat of the run (1-based, 0 none) that carries a wrong RID / an inverted RLAST.
    public var badIDBeat = 0
    public var badLastBeat = 0

    public init() {}

    var options: [(String, UInt64)] {
      var list: [(String, UInt64)] = [
        ("latency", UInt64(latency)), ("max_outstanding", UInt64(maxOutstanding)),
        ("bandwidth_num", UInt64(bandwidth.beats)), ("bandwidth_den", UInt64(bandwidth.cycles)), ("seed", seed),
        ("ar_stall_percent", UInt64(arStallPercent)), ("r_gap_percent", UInt64(rGapPercent)),
        ("rd_stall_percent", UInt64(dataStallPercent)), ("error_resp", UInt64(errorResponse)),
        ("never_answer", neverAnswers ? 1 : 0), ("max_burst_beats", UInt64(maxBurstBeats)),
        ("bad_id_beat", UInt64(badIDBeat)), ("bad_last_beat", UInt64(badLastBeat)),
      ]
      if let range = errorRange {
        list += [("error_base", range.lowerBound), ("error_size", UInt64(range.count))]
      }
      return list
    }
  }

  /// Why `run` returned.
  public enum Stop: Equatable, Sendable {
    /// The cycle budget ran out.
    case cycles
    /// Every command's last beat came out.
    case done
    /// The stop port read non-zero.
    case stopPort
    /// The master broke an AXI rule the slave checks.
    case violation(String)
  }

  public let model: VerilatedModel
  private let symbols: Symbols
  private let library: SharedLibrary
  private var handle: UnsafeMutableRawPointer?

  /// A harness on `model`'s ports `<bus>arvalid_o`, ..., `<command>valid_i`, ... and
  /// `<data>valid_o`, ....
  public init(model: VerilatedModel, bus: String = "axi_", command: String = "cmd_", data: String = "rd_", slave: Slave)
    throws
  {
    guard let shim = model.shimHandle else { throw SimulationError.closed }
    self.model = model
    library = shim.library
    symbols = try Symbols(shim.library)
    guard let created = symbols.create(shim.model, bus, command, data) else {
      throw SimulationError.internalError("out of memory creating the AXI harness")
    }
    handle = created
    let missing = String(cString: symbols.error(created))
    guard missing.isEmpty else { throw VerilatorError.loadFailed("AXI harness: \(missing)") }
    for (name, value) in slave.options where symbols.option(created, name, value) != 0 {
      throw VerilatorError.loadFailed("AXI harness: no option \(name)")
    }
  }

  deinit { if let handle { symbols.destroy(handle) } }

  /// The memory image: `bytes` at byte address `base`; reads outside it answer DECERR.
  public func load(base: UInt64, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { symbols.load(handle, base, $0.baseAddress, UInt64($0.count)) }
  }

  public func command(address: UInt64, length: UInt64) { symbols.command(handle, address, length) }

  /// Runs up to `cycles` cycles, or until every command is done, `stopPort` (an output)
  /// reads non-zero or the master breaks an AXI rule. Throws why the model stopped (an
  /// assertion) if it did.
  public func run(cycles: Int, until stopPort: String? = nil) throws -> Stop {
    let port = try stopPort.map { try model.port($0).index } ?? -1
    switch symbols.run(handle, UInt64(cycles), port) {
    case 0: return .cycles
    case 1: return .done
    case 2: return .stopPort
    case 3:
      try model.eval()
      throw SimulationError.internalError("the model stopped without a status")
    default: return .violation(String(cString: symbols.error(handle)))
    }
  }

  /// A counter: cycles, ar_handshakes, r_beats, data_beats, commands_done, max_accepted,
  /// first_data_cycle, last_data_cycle.
  public func stat(_ name: String) -> UInt64 {
    let value = symbols.stat(handle, name)
    precondition(value != UInt64.max, "the AXI harness has no counter \(name)")
    return value
  }

  /// The data stream's beats so far (least significant byte first) and their last bits.
  public func beats() -> [(data: [UInt8], last: Bool)] {
    let count = Int(stat("data_beats"))
    let width = Int(symbols.beatBytes(handle))
    var data = [UInt8](repeating: 0, count: count * width)
    var lasts = [UInt8](repeating: 0, count: count)
    _ = data.withUnsafeMutableBufferPointer { d in
      lasts.withUnsafeMutableBufferPointer { l in symbols.beats(handle, d.baseAddress, l.baseAddress, UInt64(count)) }
    }
    return (0..<count).map { (Array(data[$0 * width..<($0 + 1) * width]), lasts[$0] != 0) }
  }

  /// The harness's C functions, as `Sim/verilator/hw_shim.h` declares them.
  struct Symbols {
    typealias Handle = UnsafeMutableRawPointer
    let create: @convention(c) (Handle?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Handle?
    let destroy: @convention(c) (Handle?) -> Void
    let error: @convention(c) (Handle?) -> UnsafePointer<CChar>
    let option: @convention(c) (Handle?, UnsafePointer<CChar>?, UInt64) -> Int32
    let load: @convention(c) (Handle?, UInt64, UnsafePointer<UInt8>?, UInt64) -> Void
    let command: @convention(c) (Handle?, UInt64, UInt64) -> Void
    let run: @convention(c) (Handle?, UInt64, Int32) -> Int32
    let stat: @convention(c) (Handle?, UnsafePointer<CChar>?) -> UInt64
    let beatBytes: @convention(c) (Handle?) -> Int32
    let beats: @convention(c) (Handle?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UInt64) -> UInt64

    init(_ library: SharedLibrary) throws {
      create = try library.symbol("hw_axi_create")
      destroy = try library.symbol("hw_axi_destroy")
      error = try library.symbol("hw_axi_error")
      option = try library.symbol("hw_axi_option")
      load = try library.symbol("hw_axi_load")
      command = try library.symbol("hw_axi_command")
      run = try library.symbol("hw_axi_run")
      stat = try library.symbol("hw_axi_stat")
      beatBytes = try library.symbol("hw_axi_beat_bytes")
      beats = try library.symbol("hw_axi_beats")
    }
  }
}
