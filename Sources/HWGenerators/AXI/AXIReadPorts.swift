import HWDSL
import HWSpec

/// The read half of an AXI4 manager port (the AR and R channels), as a typed
/// bundle: `axi_read_master` declares its bus from this table, and the
/// accelerator top will connect its memory ports through the same value.
/// Only the signals a read DMA needs: no ARLOCK/ARCACHE/ARPROT/ARQOS (the
/// interconnect's defaults), no user bits.
public struct AXIReadBundle: PortBundle {
  public var arID = Expr.unconnected, arAddr = Expr.unconnected, arLen = Expr.unconnected
  public var arSize = Expr.unconnected, arBurst = Expr.unconnected
  public var arValid = Expr.unconnected, arReady = Expr.unconnected
  public var rID = Expr.unconnected, rData = Expr.unconnected, rResp = Expr.unconnected, rLast = Expr.unconnected
  public var rValid = Expr.unconnected, rReady = Expr.unconnected

  public init() {}

  /// RRESP values (AXI4 A3.4.4).
  public static let okay = 0, slaveError = 2, decodeError = 3
  /// ARBURST INCR.
  public static let incrementing = 1

  public static func ports(_ config: AXIReadMasterConfig) -> [PortSpec<Self>] {
    let id = HWType.uint(config.idWidth)
    return [
      .output("axi_arid", id, \.arID), .output("axi_araddr", .uint(config.addressWidth), \.arAddr),
      .output("axi_arlen", .uint(8), \.arLen, comment: "beats - 1"),
      .output("axi_arsize", .uint(3), \.arSize, comment: "log2(bytes per beat)"),
      .output("axi_arburst", .uint(2), \.arBurst, comment: "INCR"),
      .output("axi_arvalid", .bit, \.arValid), .input("axi_arready", .bit, \.arReady),
      .input("axi_rid", id, \.rID), .input("axi_rdata", .uint(config.dataWidth), \.rData),
      .input("axi_rresp", .uint(2), \.rResp), .input("axi_rlast", .bit, \.rLast),
      .input("axi_rvalid", .bit, \.rValid), .output("axi_rready", .bit, \.rReady),
    ]
  }
}
