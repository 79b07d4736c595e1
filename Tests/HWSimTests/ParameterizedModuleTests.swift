import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWSupport
import Testing

@testable import HWTools

/// Module parameters: a parameterized module prints the same text at every
/// elaboration (only the defaults differ), and the printed module, built by
/// Icarus and Verilator at parameter values other than its defaults, has the
/// ports and the behavior the generator elaborates at those values.
@Suite struct ParameterizedModuleTests {
  static let sizes = [
    StreamFIFOConfig(width: 8, depth: 2), StreamFIFOConfig(width: 13, depth: 5), StreamFIFOConfig(width: 2048, depth: 1024),
  ]

  static func fifo(_ config: StreamFIFOConfig) throws -> Module { try StreamFIFOGenerator.generate(config).top }

  @Test func theFIFOPrintsTheSameTextAtEverySize() throws {
    let printer = SystemVerilogPrinter()
    let modules = try Self.sizes.map(Self.fifo)
    #expect(Set(modules.map(printer.genericText)).count == 1)
    // The full texts differ in the two defaults and nowhere else.
    let texts = modules.map { printer.print($0).split(separator: "\n", omittingEmptySubsequences: false) }
    for (config, text) in zip(Self.sizes, texts).dropFirst() {
      #expect(text.count == texts[0].count)
      let differing = zip(texts[0], text).filter { $0 != $1 }.map { String($0.1) }
      #expect(differing == [
        "  parameter  logic [31:0] Width = 32'd\(config.width),", "  parameter  logic [31:0] Depth = 32'd\(config.depth),",
      ])
    }
  }

  /// The check the test above relies on: a width taken from a parameter's
  /// value, not its expression, makes the generic texts differ.
  @Test func aNumberInPlaceOfItsExpressionChangesTheGenericText() throws {
    func module(_ width: Int, leak: Bool) throws -> Module {
      let m = ModuleBuilder("leaky")
      let w = m.parameter("Width", default: width)
      let a = m.input("a", .uint(w))
      let y = m.output("y", leak ? .uint(w.value) : .uint(w))
      m.assign(y, a)
      return try m.finish()
    }
    let printer = SystemVerilogPrinter()
    #expect(printer.genericText(try module(4, leak: false)) == printer.genericText(try module(9, leak: false)))
    #expect(printer.genericText(try module(4, leak: true)) != printer.genericText(try module(9, leak: true)))
  }

  @Test func theCorePrintsTheSameTextAtEveryLaneCount() throws {
    let printer = SystemVerilogPrinter()
    let cores = try [1, 3, 16].map { try TernaryCoreGenerator.generate(TernaryCoreConfig(lanes: $0, laneWidth: 5)).top }
    #expect(Set(cores.map(printer.genericText)).count == 1)
    let text = printer.print(cores[1])
    #expect(text.contains("parameter  logic [31:0] Lanes = 32'd3"))
    #expect(text.contains("for (genvar i = 0; i < Lanes; i++) begin : gen_lane"))
    #expect(text.contains("output logic [Lanes*AccumulatorWidth-1:0]"))
  }

  @Test func verilatorLintsThePrintedCoreAtOtherLaneCounts() throws {
    let files = RTLGates.Files(
      top: "ternary_core", sources: try TernaryCoreGenerator.sources(TernaryCoreConfig(lanes: 4, laneWidth: 5)))
    for lanes in [1, 7] {
      let output = try RTLGates.withDirectory(files) { dir, names in
        try ExternalTool.verilator.run(["--lint-only", "-Wall", "--top-module", "ternary_core", "-GLanes=\(lanes)"] + names, in: dir).output
      }
      #expect(!output.contains("%Warning") && !output.contains("%Error"), "Lanes=\(lanes): \(output)")
    }
  }

  @Test func anInstancePassesItsChildsParameters() throws {
    let accelerator = try AcceleratorGenerator.generate(AcceleratorConfig(lanes: 8, weightFIFOKiB: 64))
    let fifo = AcceleratorGenerator.weightFIFO(AcceleratorConfig(lanes: 8, weightFIFOKiB: 64))
    let top = SystemVerilogPrinter().print(accelerator.top)
    #expect(top.contains("  stream_fifo #(\n    .Width(\(fifo.width)),\n    .Depth(\(fifo.depth))\n  ) u_weight_fifo ("))
  }

  /// A bench that instantiates the printed FIFO at its own `W` and `D` (set
  /// with `iverilog -P`): for `Fill` cycles it offers beats with the read
  /// side stalled, then drains the FIFO (still offering the beat it offered
  /// last, as valid/ready requires), and prints what it saw.
  static let bench = """
    module fifo_tb;
      parameter int W = 8;
      parameter int D = 2;
      localparam int Fill = 4 * D + 8;
      logic clk = 1'b0, rst_n = 1'b0, in_valid = 1'b0, out_ready = 1'b0, hold = 1'b0, fire;
      logic in_ready, out_valid;
      logic [W-1:0] in_data = '0, out_data;
      logic [$clog2(D + 2)-1:0] level;
      integer accepted = 0, drained = 0, mismatches = 0, cycle;
      stream_fifo #(.Width(W), .Depth(D)) dut (
        .clk_i(clk), .rst_ni(rst_n), .in_valid_i(in_valid), .in_ready_o(in_ready), .in_data_i(in_data),
        .out_valid_o(out_valid), .out_ready_i(out_ready), .out_data_o(out_data), .hold_i(hold), .level_o(level));
      always #1 clk = ~clk;
      initial begin
        $display("widths %0d %0d %0d", $bits(dut.in_data_i), $bits(dut.out_data_o), $bits(dut.level_o));
        @(negedge clk) rst_n = 1'b1;
        for (cycle = 0; cycle < 2 * Fill; cycle++) begin
          if (cycle == Fill) begin
            $display("held %0d level %0d", accepted, level);
            out_ready = 1'b1;
          end
          if (out_valid && out_ready) begin
            if (out_data != W'(drained * 37 + 5)) mismatches++;
            drained++;
          end
          in_valid = cycle < Fill || in_valid;
          in_data = W'(accepted * 37 + 5);
          fire = in_valid && in_ready;
          @(posedge clk);
          if (fire) accepted++;
          @(negedge clk);
          if (fire && cycle >= Fill) in_valid = 1'b0;
        end
        $display("drained %0d mismatches %0d", drained, mismatches);
        $finish;
      end
    endmodule
    """

  @Test(arguments: [StreamFIFOConfig(width: 13, depth: 5), StreamFIFOConfig(width: 1, depth: 2), StreamFIFOConfig(width: 70, depth: 9)])
  func icarusRunsThePrintedFIFOAtOtherParameters(config: StreamFIFOConfig) throws {
    // Printed with the defaults 8 x 4; built at `config`.
    let printed = try StreamFIFOGenerator.sources(StreamFIFOConfig(width: 8, depth: 4))
    let expected = try Self.fifo(config)
    let files = RTLGates.Files(top: "fifo_tb", sources: printed + [(name: "fifo_tb.sv", contents: Self.bench)])
    let output = try RTLGates.withDirectory(files) { dir, names -> String in
      let compile = try ExternalTool.iverilog.run(
        ["-g2012", "-Pfifo_tb.W=\(config.width)", "-Pfifo_tb.D=\(config.depth)", "-s", "fifo_tb", "-o", "fifo.vvp"] + names, in: dir)
      guard compile.succeeded else { return compile.output }
      return try ExternalTool.vvp.run(["-n", "fifo.vvp"], in: dir).output
    }
    let widths = ["in_data_i", "out_data_o", "level_o"].map { expected.port(named: $0)!.type.width }
    #expect(output.contains("widths \(widths.map(String.init).joined(separator: " "))\n"), "\(output)")
    // The generator's FIFO holds `depth` beats in memory and one in the output
    // register; the drain also passes the beat that waited at the input.
    #expect(output.contains("held \(config.depth + 1) level \(config.depth + 1)\n"), "\(output)")
    #expect(output.contains("drained \(config.depth + 2) mismatches 0\n"), "\(output)")
    #expect(!output.contains("ERROR"), "\(output)")
  }

  @Test func verilatorLintsThePrintedFIFOAtOtherParameters() throws {
    let files = RTLGates.Files(top: "stream_fifo", sources: try StreamFIFOGenerator.sources(StreamFIFOConfig(width: 8, depth: 4)))
    for config in [StreamFIFOConfig(width: 1, depth: 2), StreamFIFOConfig(width: 70, depth: 1000)] {
      let output = try RTLGates.withDirectory(files) { dir, names in
        try ExternalTool.verilator.run(
          ["--lint-only", "-Wall", "-GWidth=\(config.width)", "-GDepth=\(config.depth)"] + names, in: dir).output
      }
      #expect(!output.contains("%Warning") && !output.contains("%Error"), "\(config): \(output)")
    }
  }
}
