import HWDSL

/// An AXI4-Lite subordinate port (all five channels, 32-bit data), as a
/// typed bundle: `mmfree_csr` declares its bus from this table, and the
/// accelerator top will connect its control port through the same value.
/// No AWPROT/ARPROT: the register space does not tell privileged or secure
/// accesses apart.
public struct AXILiteBundle: PortBundle {
  public var awAddr = Expr.unconnected, awValid = Expr.unconnected, awReady = Expr.unconnected
  public var wData = Expr.unconnected, wStrb = Expr.unconnected, wValid = Expr.unconnected, wReady = Expr.unconnected
  public var bResp = Expr.unconnected, bValid = Expr.unconnected, bReady = Expr.unconnected
  public var arAddr = Expr.unconnected, arValid = Expr.unconnected, arReady = Expr.unconnected
  public var rData = Expr.unconnected, rResp = Expr.unconnected, rValid = Expr.unconnected, rReady = Expr.unconnected

  public init() {}

  /// BRESP/RRESP values (AXI4 A3.4.4).
  public static let okay = 0, slaveError = 2
  public static let dataBits = 32
  /// WSTRB bits: one per byte of WDATA.
  public static let strobeBits = dataBits / 8

  /// The subordinate's ports for a register space of `addressWidth` byte-address bits.
  public static func ports(_ addressWidth: Int) -> [PortSpec<Self>] {
    let address = HWType.uint(addressWidth), data = HWType.uint(dataBits), resp = HWType.uint(2)
    return [
      .input("s_axil_awaddr", address, \.awAddr), .input("s_axil_awvalid", .bit, \.awValid),
      .output("s_axil_awready", .bit, \.awReady),
      .input("s_axil_wdata", data, \.wData), .input("s_axil_wstrb", .uint(strobeBits), \.wStrb),
      .input("s_axil_wvalid", .bit, \.wValid), .output("s_axil_wready", .bit, \.wReady),
      .output("s_axil_bresp", resp, \.bResp, comment: "OKAY or SLVERR"), .output("s_axil_bvalid", .bit, \.bValid),
      .input("s_axil_bready", .bit, \.bReady),
      .input("s_axil_araddr", address, \.arAddr), .input("s_axil_arvalid", .bit, \.arValid),
      .output("s_axil_arready", .bit, \.arReady),
      .output("s_axil_rdata", data, \.rData), .output("s_axil_rresp", resp, \.rResp, comment: "OKAY or SLVERR"),
      .output("s_axil_rvalid", .bit, \.rValid), .input("s_axil_rready", .bit, \.rReady),
    ]
  }
}
