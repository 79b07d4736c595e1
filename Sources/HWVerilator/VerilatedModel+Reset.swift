extension VerilatedModel {
  /// The reset every testbench starts from: drive the handshake inputs in
  /// `idle` to 0, hold the active-low reset for `cycles` clock edges, release
  /// it, and settle the outputs.
  public func applyReset(_ resetN: PortHandle, idle: [PortHandle], cycles: Int = 2) throws {
    for port in idle { set(port, 0) }
    set(resetN, 0)
    try eval()
    try step(cycles)
    set(resetN, 1)
    try eval()
  }
}
