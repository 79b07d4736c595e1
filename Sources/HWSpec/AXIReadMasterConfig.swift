/// Parameters of the AXI4 read DMA engine (`axi_read_master`): one value feeds
/// the generator, the C++ slave model's checks and the tests.
public struct AXIReadMasterConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// RDATA bits: 512 for a DDR4 channel (D5005, U250), 256 for an HBM2
  /// pseudo-channel (U280); narrower for an accelerator whose weight beat is
  /// narrower than one port.
  public var dataWidth: Int
  /// ARADDR bits (byte addresses).
  public var addressWidth: Int
  /// Longest burst in beats (ARLEN + 1); a power of two, at most 256 (AXI4
  /// INCR) and at most a 4 KiB page of beats.
  public var maxBurstBeats: Int
  /// Bursts in flight at once (address issued, last beat not yet taken); the
  /// data buffer holds `outstanding * maxBurstBeats` beats.
  public var outstanding: Int
  /// ARID/RID bits. Every read uses `readID`: the slave returns reads of one
  /// ID in order, so data leaves in address order without a reorder buffer.
  public var idWidth: Int
  public var readID: Int
  /// Bits of a command's byte length (`cmd_len_i`).
  public var lengthBits: Int
  /// Cycles without progress (no AR or R handshake) while a read waits that
  /// latch the timeout error.
  public var timeoutCycles: Int

  public static let dataWidths = [32, 64, 128, 256, 512]
  public static let pageBytes = 4096

  public init(
    dataWidth: Int = 512, addressWidth: Int = 32, maxBurstBeats: Int = 16, outstanding: Int = 4, idWidth: Int = 4,
    readID: Int = 0, lengthBits: Int = 24, timeoutCycles: Int = 4096
  ) {
    self.dataWidth = dataWidth
    self.addressWidth = addressWidth
    self.maxBurstBeats = maxBurstBeats
    self.outstanding = outstanding
    self.idWidth = idWidth
    self.readID = readID
    self.lengthBits = lengthBits
    self.timeoutCycles = timeoutCycles
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws one line saying what is wrong and what is allowed.
  public func validate() throws {
    func fail(_ text: String) -> Invalid { Invalid(description: "axi read master: " + text) }
    guard Self.dataWidths.contains(dataWidth) else { throw fail("data width must be 32, 64, 128, 256 or 512 bits, got \(dataWidth)") }
    guard (13...64).contains(addressWidth) else { throw fail("address width must be 13...64 bits, got \(addressWidth)") }
    let pageBeats = Self.pageBytes / bytesPerBeat
    guard maxBurstBeats >= 1, maxBurstBeats <= min(256, pageBeats), maxBurstBeats & (maxBurstBeats - 1) == 0 else {
      throw fail("max burst must be a power of two of 1...\(min(256, pageBeats)) beats, got \(maxBurstBeats)")
    }
    guard (1...32).contains(outstanding) else { throw fail("outstanding bursts must be 1...32, got \(outstanding)") }
    guard (1...16).contains(idWidth) else { throw fail("ID width must be 1...16 bits, got \(idWidth)") }
    guard readID >= 0, readID < 1 << idWidth else { throw fail("read ID \(readID) does not fit \(idWidth) bits") }
    guard lengthBits > beatShift, lengthBits <= addressWidth else {
      throw fail("length bits must be \(beatShift + 1)...\(addressWidth), got \(lengthBits)")
    }
    guard (2...(1 << 20)).contains(timeoutCycles) else {
      throw fail("timeout must be 2...2^20 cycles, got \(timeoutCycles)")
    }
  }

  /// Bytes of one beat.
  public var bytesPerBeat: Int { dataWidth / 8 }
  /// ARSIZE: log2 of the bytes per beat.
  public var beatShift: Int { bytesPerBeat.trailingZeroBitCount }
  /// Beats of the data buffer: every outstanding burst's beats fit.
  public var bufferBeats: Int { outstanding * maxBurstBeats }

  public var description: String {
    "\(dataWidth)-bit AXI4 reads, bursts of up to \(maxBurstBeats) beats, \(outstanding) outstanding"
  }
}

/// What `axi_read_master`'s `error_o` reports; sticky until reset.
public enum AXIReadError: Int, CaseIterable, Sendable, CustomStringConvertible {
  case none = 0
  case slaveError = 1
  case decodeError = 2
  case idMismatch = 3
  case lastMismatch = 4
  case timeout = 5

  public static let bits = 3

  public var description: String {
    switch self {
    case .none: return "no error"
    case .slaveError: return "SLVERR response"
    case .decodeError: return "DECERR response"
    case .idMismatch: return "RID does not match ARID"
    case .lastMismatch: return "RLAST does not match the burst length"
    case .timeout: return "timeout"
    }
  }
}
