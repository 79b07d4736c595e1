import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The host's side of the top: `mmfree_csr` on the AXI4-Lite port `s_axil_*`. A host
  /// driver has the program loaded (PROG_BASE, PROG_COUNT, CTRL.LOAD), writes TOKENS and
  /// the prompt tokens, starts a run (CTRL.START), and reads the generated tokens, the status, the error
  /// registers and the counters' snapshot, polling or waiting for `irq_o`.
  static func hostControl(_ t: Top, csr: Module) {
    let m = t.m, io = t.io
    var connections: [(String, Expr)] = [("clk_i", io.clk), ("rst_ni", io.rst)]
    connections += AXILiteBundle.ports(t.config.csr.addressWidth).map { ($0.portName, io.control[keyPath: $0.field]) }
    connections += [
      ("irq_o", io.irq),
      ("load_o", io.load), ("prog_base_o", io.progBase), ("prog_count_o", io.progCount),
      ("start_o", io.start), ("tokens_o", io.tokens), ("busy_i", io.busy),
      ("prompt_valid_o", io.promptValid), ("prompt_ready_i", io.promptReady), ("prompt_token_o", io.promptToken),
      ("token_valid_i", io.tokenValid), ("token_i", io.tokenOut),
      ("err_i", io.err), ("mem_err_i", io.memErr), ("mem_err_port_i", io.memErrPort),
      ("mem_err_addr_i", io.memErrAddr),
      ("perf_snapshot_o", io.csrPerfSnapshot), ("perf_sel_o", io.csrPerfSel), ("perf_data_i", io.csrPerfData),
    ]
    m.instance(csr, "u_csr", connections)
  }
}
