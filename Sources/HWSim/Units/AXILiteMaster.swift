import HWSupport
import HWVerilator

/// What an `AXILiteMaster` clocks through: the rest of the testbench drives
/// its own inputs and settles (`settle`), the master samples the bus, then
/// the environment records its outputs and takes the edge (`edge`). One
/// `settle` + `edge` is one cycle.
public protocol ClockedEnvironment: AnyObject {
  /// Drives this cycle's inputs (the bus's are set already) and evaluates.
  func settle() throws
  /// Records this cycle's outputs and applies the rising edge.
  func edge() throws
}

/// AXI4-Lite BRESP/RRESP.
public enum AXILiteResponse: Int, Sendable, CustomStringConvertible {
  case okay = 0, exclusiveOkay = 1, slaveError = 2, decodeError = 3

  public var description: String { ["OKAY", "EXOKAY", "SLVERR", "DECERR"][rawValue] }
}

public struct AXILiteError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A cycle-by-cycle AXI4-Lite manager for a Verilated subordinate whose
/// ports are named `<prefix>awaddr_i` ... `<prefix>rready_i` (`AXILiteBundle`).
/// One transaction at a time; each channel's VALID (or READY, for B and R)
/// can wait a number of cycles first (`Timing`), so AW before W, W before
/// AW, both together and slow BREADY/RREADY are all one call. It checks the
/// subordinate's side of the protocol: no B before both AW and W were taken,
/// no R before AR, BVALID/RVALID held with a stable payload until taken.
public final class AXILiteMaster {
  /// Cycles each side waits, counted from the transaction's first cycle
  /// (for AW, W, AR) or from the cycle the response could first be taken.
  public struct Timing: Sendable, CustomStringConvertible {
    public var awDelay = 0, wDelay = 0, bReadyDelay = 0
    public var arDelay = 0, rReadyDelay = 0

    public init(awDelay: Int = 0, wDelay: Int = 0, bReadyDelay: Int = 0, arDelay: Int = 0, rReadyDelay: Int = 0) {
      self.awDelay = awDelay
      self.wDelay = wDelay
      self.bReadyDelay = bReadyDelay
      self.arDelay = arDelay
      self.rReadyDelay = rReadyDelay
    }

    /// Each delay uniform in 0...`maximum`.
    public static func random(_ rng: inout SeededRandom, maximum: Int = 4) -> Timing {
      func d() -> Int { Int(rng.next() % UInt64(maximum + 1)) }
      return Timing(awDelay: d(), wDelay: d(), bReadyDelay: d(), arDelay: d(), rReadyDelay: d())
    }

    public var description: String {
      "aw +\(awDelay) w +\(wDelay) bready +\(bReadyDelay) ar +\(arDelay) rready +\(rReadyDelay)"
    }
  }

  let model: VerilatedModel
  let environment: ClockedEnvironment
  let awAddr, awValid, awReady, wData, wStrb, wValid, wReady, bResp, bValid, bReady: PortHandle
  let arAddr, arValid, arReady, rData, rResp, rValid, rReady: PortHandle
  /// Cycles a transaction may take before the master gives up.
  public var timeoutCycles = 1000
  /// Handshakes seen, for tests that count them.
  public private(set) var writes = 0, reads = 0

  public init(model: VerilatedModel, environment: ClockedEnvironment, prefix: String = "s_axil_") throws {
    self.model = model
    self.environment = environment
    func port(_ name: String) throws -> PortHandle { try model.port(prefix + name) }
    awAddr = try port("awaddr_i")
    awValid = try port("awvalid_i")
    awReady = try port("awready_o")
    wData = try port("wdata_i")
    wStrb = try port("wstrb_i")
    wValid = try port("wvalid_i")
    wReady = try port("wready_o")
    bResp = try port("bresp_o")
    bValid = try port("bvalid_o")
    bReady = try port("bready_i")
    arAddr = try port("araddr_i")
    arValid = try port("arvalid_i")
    arReady = try port("arready_o")
    rData = try port("rdata_o")
    rResp = try port("rresp_o")
    rValid = try port("rvalid_o")
    rReady = try port("rready_i")
  }

  /// The handshake inputs a reset holds low.
  public var idleInputs: [PortHandle] { [awValid, wValid, bReady, arValid, rReady] }

  /// Drives every bus input idle.
  public func idle() {
    for p in idleInputs { model.set(p, 0) }
  }

  /// Writes `data` at byte `address` with `strobe` and returns the B response.
  public func write(_ address: Int, _ data: UInt32, strobe: Int = 0xf, timing: Timing = Timing()) throws -> AXILiteResponse {
    var awDone = false, wDone = false
    var bAvailableAt: Int?
    var held: (resp: UInt64, since: Int)?
    for cycle in 0..<timeoutCycles {
      let presentAW = !awDone && cycle >= timing.awDelay
      let presentW = !wDone && cycle >= timing.wDelay
      let ready = bAvailableAt.map { cycle >= $0 + timing.bReadyDelay } ?? false
      model.set(awAddr, UInt64(address))
      model.set(awValid, presentAW ? 1 : 0)
      model.set(wData, UInt64(data))
      model.set(wStrb, UInt64(strobe))
      model.set(wValid, presentW ? 1 : 0)
      model.set(bReady, ready ? 1 : 0)
      try environment.settle()
      let bValidNow = model.get(bValid) == 1
      let resp = model.get(bResp)
      if bValidNow && !(awDone && wDone) { throw AXILiteError("cycle \(model.cycle): BVALID before AW and W were taken") }
      if let h = held, !bValidNow || h.resp != resp {
        throw AXILiteError("cycle \(model.cycle): B response dropped or changed while waiting for BREADY")
      }
      let awFire = presentAW && model.get(awReady) == 1
      let wFire = presentW && model.get(wReady) == 1
      let bFire = bValidNow && ready
      try environment.edge()
      awDone = awDone || awFire
      wDone = wDone || wFire
      if awDone && wDone && bAvailableAt == nil { bAvailableAt = cycle + 1 }
      if bFire {
        idle()
        writes += 1
        return AXILiteResponse(rawValue: Int(resp))!
      }
      held = bValidNow ? (resp, cycle) : nil
    }
    idle()
    throw AXILiteError("write of 0x\(String(address, radix: 16)): no B response in \(timeoutCycles) cycles")
  }

  /// Reads byte `address`; returns RDATA and RRESP.
  public func read(_ address: Int, timing: Timing = Timing()) throws -> (data: UInt32, response: AXILiteResponse) {
    var arDone = false
    var rAvailableAt: Int?
    var held: (data: UInt64, resp: UInt64)?
    for cycle in 0..<timeoutCycles {
      let presentAR = !arDone && cycle >= timing.arDelay
      let ready = rAvailableAt.map { cycle >= $0 + timing.rReadyDelay } ?? false
      model.set(arAddr, UInt64(address))
      model.set(arValid, presentAR ? 1 : 0)
      model.set(rReady, ready ? 1 : 0)
      try environment.settle()
      let rValidNow = model.get(rValid) == 1
      let data = model.get(rData), resp = model.get(rResp)
      if rValidNow && !arDone { throw AXILiteError("cycle \(model.cycle): RVALID before AR was taken") }
      if let h = held, !rValidNow || h.data != data || h.resp != resp {
        throw AXILiteError("cycle \(model.cycle): R response dropped or changed while waiting for RREADY")
      }
      let arFire = presentAR && model.get(arReady) == 1
      let rFire = rValidNow && ready
      try environment.edge()
      arDone = arDone || arFire
      if arDone && rAvailableAt == nil { rAvailableAt = cycle + 1 }
      if rFire {
        idle()
        reads += 1
        return (UInt32(truncatingIfNeeded: data), AXILiteResponse(rawValue: Int(resp))!)
      }
      held = rValidNow ? (data, resp) : nil
    }
    idle()
    throw AXILiteError("read of 0x\(String(address, radix: 16)): no R response in \(timeoutCycles) cycles")
  }
}
