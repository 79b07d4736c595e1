import HWDSL
import HWSpec

/// The body of `axi_read_master`, one section per method: the command side
/// that splits commands into bursts and drives AR, the queue of bursts in
/// flight, the R side that checks beats into the buffer, the credit count, the
/// error status and the assertions. The sections share the signals below.
final class AXIReadMasterBuilder {
  let config: AXIReadMasterConfig
  let m: ModuleBuilder
  let axi: AXIReadBundle
  let cmd: Stream
  let rd: Stream
  let bufferModule: Module
  let clock: Expr
  let reset: Expr

  // The types of the counts.
  let beatsType: HWType
  let burstType: HWType
  let creditType: HWType
  let flightType: HWType
  let addressType: HWType

  init(_ config: AXIReadMasterConfig, buffer: Module, name: String = AXIReadMasterGenerator.moduleName) {
    self.config = config
    bufferModule = buffer
    m = ModuleBuilder(
      name,
      comment: [
        "AXI4 read DMA: \(config.dataWidth)-bit data, INCR bursts of up to \(config.maxBurstBeats) beats that never",
        "cross 4 KiB, \(config.outstanding) bursts outstanding, all with ARID \(config.readID) (in-order data).",
        "A command (cmd_addr_i, cmd_len_i in bytes, both beat-aligned) streams its beats out on rd_*",
        "in address order, rd_last_o on its final beat. A burst is issued only when the buffer",
        "(\(config.bufferBeats) beats) has room for all of it, so RREADY never waits on the rd consumer.",
        "error_o (0 none, 1 SLVERR, 2 DECERR, 3 RID, 4 RLAST, 5 timeout) and error_addr_o are sticky;",
        "after an error no command or burst is issued. Timeout: \(config.timeoutCycles) cycles without progress.",
      ])
    clock = m.clock()
    reset = m.reset()
    cmd = m.streamInput("cmd", AXIReadMasterGenerator.commandFields(config))
    rd = m.streamOutput("rd", AXIReadMasterGenerator.dataFields(config))
    axi = m.ports(AXIReadBundle.self, config)
    addressType = .uint(config.addressWidth)
    beatsType = .uint(config.lengthBits - config.beatShift)
    burstType = .uint(bitsToRepresent(config.maxBurstBeats))
    creditType = .uint(bitsToRepresent(2 * config.bufferBeats + config.maxBurstBeats))
    flightType = .uint(bitsToRepresent(config.outstanding))
  }

  func build() throws -> Module {
    let status = StatusPorts(self)
    let buffer = bufferInstance()
    let flight = FlightQueue(self)
    let reserved = m.register("reserved", creditType, comment: "beats promised to bursts in flight")
    let issue = commandSide(stopped: status.latched, level: buffer.level, reserved: reserved.state, flight: flight)
    let beat = responseSide(flight: flight, buffer: buffer, stopped: status.latched)
    flight.update(push: issue.load, word: issue.word, pop: beat.burstDone, arFire: issue.arFire)
    // A burst's beats are promised when its address loads, and released one by one as they arrive.
    let promised = Expr.mux(issue.load, issue.burst.extended(to: creditType.width), .zeros(creditType))
    m.assign(reserved.next, reserved.state + promised - beat.taken.extended(to: creditType.width))
    status.update(
      beat: beat, progress: issue.arFire || beat.taken, flight: flight, arAddress: axi.arAddr, arValid: axi.arValid)
    m.assign(status.busy, issue.active || flight.inFlight.ne(0) || buffer.level.ne(0))
    assertions(flight: flight, buffer: buffer, push: beat.push)
    return try m.finish()
  }

  // MARK: The buffer

  struct Buffer {
    let push: Expr
    let data: Expr
    let inReady: Expr
    let level: Expr
  }

  /// The data buffer, first word falling through to `rd`.
  func bufferInstance() -> Buffer {
    let width = config.dataWidth + 1
    let depth = max(2, config.bufferBeats)
    let push = m.wire("buf_push", .bit, comment: "a checked beat into the buffer")
    let data = m.wire("buf_data", .uint(width), comment: "{last, rdata}")
    let inReady = m.wire("buf_in_ready", .bit)
    let outValid = m.wire("buf_out_valid", .bit)
    let outData = m.wire("buf_out_data", .uint(width))
    let level = m.wire("buf_level", .uint(bitsToRepresent(depth + 1)), comment: "beats in the buffer")
    m.instance(
      bufferModule, "u_buffer",
      [
        ("clk_i", clock), ("rst_ni", reset), ("in_valid_i", push), ("in_ready_o", inReady),
        ("in_data_i", data), ("out_valid_o", outValid), ("out_ready_i", rd.ready), ("out_data_o", outData),
        ("hold_i", .low), ("level_o", level),
      ])
    m.assign(rd.valid, outValid)
    m.assign(rd["data"], outData[config.dataWidth - 1, 0])
    m.assign(rd["last"], outData[config.dataWidth])
    return Buffer(push: push, data: data, inReady: inReady, level: level)
  }
}
