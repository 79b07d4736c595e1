import HWDSL
import HWSpec

/// `axi_read_master`: a read DMA engine. A command (byte address and byte
/// length, both beat-aligned) becomes INCR bursts on an AXI4 AR/R port, split
/// at `maxBurstBeats` and at every 4 KiB boundary; the beats leave on the `rd`
/// stream in address order, `rd_last_o` on a command's final beat.
///
/// Several bursts are outstanding at once, all with one ID (`readID`): AXI
/// returns the reads of one ID in order, so no reorder buffer is needed and
/// the data stays in address order. A burst's address goes out only when the
/// data buffer (`outstanding * maxBurstBeats` beats, a `StreamFIFOGenerator`)
/// has room for all its beats besides those already promised, so RREADY is
/// high whenever a burst is outstanding and every beat taken is kept, however
/// long the `rd` consumer stalls.
///
/// Every beat is checked: RRESP SLVERR or DECERR, an RID other than `readID`
/// or an RLAST off the burst's length latch `error_o` with the beat's address
/// in `error_addr_o`; `timeoutCycles` cycles without an AR or R handshake
/// while a read waits latch a timeout (the address of the read waited for).
/// After an error no further command or burst is issued; bursts already
/// outstanding drain, their beats dropped. The error holds until reset.
public enum AXIReadMasterGenerator: UnitGenerator {
  public static let unitName = "axi read master"
  public static let moduleName = "axi_read_master"

  public static func manifestParameters(_ config: AXIReadMasterConfig) -> [(key: String, value: String)] {
    [
      ("dataWidth", "\(config.dataWidth)"), ("addressWidth", "\(config.addressWidth)"),
      ("maxBurstBeats", "\(config.maxBurstBeats)"), ("outstanding", "\(config.outstanding)"),
      ("readID", "\(config.readID)"), ("timeoutCycles", "\(config.timeoutCycles)"),
    ]
  }

  public static func generate(_ config: AXIReadMasterConfig) throws -> Design {
    try generate(config, name: moduleName)
  }

  /// The engine under another module name: a design with engines of two
  /// configurations names the second after its use
  /// (`axi_read_master_vector`, the accelerator's vector port).
  public static func generate(_ config: AXIReadMasterConfig, name: String) throws -> Design {
    try config.validate()
    let buffer = try StreamFIFOGenerator.module(
      StreamFIFOConfig(width: config.dataWidth + 1, depth: max(2, config.bufferBeats)))
    return try Design(top: AXIReadMasterBuilder(config, buffer: buffer, name: name).build())
  }

  /// The `cmd` stream's payload.
  static func commandFields(_ config: AXIReadMasterConfig) -> [Stream.Field] {
    [
      Stream.Field("addr", .uint(config.addressWidth), comment: "byte address, beat-aligned"),
      Stream.Field("len", .uint(config.lengthBits), comment: "bytes, beat-aligned, not zero"),
    ]
  }

  /// The `rd` stream's payload.
  static func dataFields(_ config: AXIReadMasterConfig) -> [Stream.Field] {
    [Stream.Field("data", .uint(config.dataWidth)), Stream.Field("last", .bit, comment: "a command's final beat")]
  }
}
