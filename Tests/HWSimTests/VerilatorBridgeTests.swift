import Foundation
import HWSim
import HWSupport
import Testing

@testable import HWVerilator

/// Designs and builds shared by the bridge tests. Each Verilator build costs seconds, so a
/// design is built once per run, into a cache root of its own (never the user's cache).
private enum Bridge {
  static let cache = VerilatorBuildCache(
    root: ScratchDirectory.make("hwgen-bridge-tests"))

  static let widths = [1, 8, 9, 16, 17, 32, 33, 64, 65, 128]

  /// Registers every input to an output of the same width; two inverted combinational paths.
  static let portWidthsSpec: VerilatorBuildSpec = {
    var ports: [SimPort] = [.input("clk_i")]
    ports += widths.map { .input("a\($0)_i", width: $0) }
    ports += widths.map { .output("q\($0)_o", width: $0) }
    ports += [.output("c65_o", width: 65), .output("c128_o", width: 128)]
    let declarations = ports.map { port in
      let direction = port.direction == .input ? "input " : "output"
      let range = port.width == 1 ? "" : "[\(port.width - 1):0]"
      return "  \(direction) logic \(range.padding(toLength: 8, withPad: " ", startingAt: 0)) \(port.name)"
    }.joined(separator: ",\n")
    let text = """
      // Registers each input to the output of the same width.
      module port_widths (
      \(declarations)
      );
        always_ff @(posedge clk_i) begin
      \(widths.map { "    q\($0)_o <= a\($0)_i;" }.joined(separator: "\n"))
        end

        assign c65_o  = ~a65_i;
        assign c128_o = ~a128_i;
      endmodule

      """
    return VerilatorBuildSpec(
      topModule: "port_widths", sources: [.init(fileName: "port_widths.sv", text: text)], ports: ports)
  }()

  static let fatalProbeSpec = VerilatorBuildSpec(
    topModule: "fatal_probe",
    sources: [
      .init(
        fileName: "fatal_probe.sv",
        text: """
          // Stops the simulation in the way mode_i selects when the count reaches 5.
          module fatal_probe (
            input  logic       clk_i,
            input  logic [2:0] mode_i,
            output logic [7:0] count_o
          );
            logic [7:0] count_d, count_q;
            logic [7:0] snapshot_q [2];

            assign count_d = count_q + 8'd1;

            always_ff @(posedge clk_i) begin
              count_q <= count_d;
              snapshot_q[0] <= count_q;
              snapshot_q[1] <= count_d;
              if (count_q == 8'd5) begin
                unique case (mode_i)
                  3'd1: $fatal(1, "probe fatal at count %0d", count_q);
                  3'd2: $finish;
                  3'd3: $stop;
                  3'd4: assert (count_q != 8'd5) else $error("probe assertion at count %0d", count_q);
                  3'd5: $writememh("/nonexistent-hwgen-dir/snapshot.hex", snapshot_q);
                  default: ;
                endcase
              end
            end

            assign count_o = count_q;
          endmodule

          """)
    ],
    ports: [.input("clk_i"), .input("mode_i", width: 3), .output("count_o", width: 8)])

  /// Concurrent assertions in the form the generated RTL uses (clocked, disabled in reset,
  /// labeled); `mode_i` picks which one fails when the count reaches 5. Verilator reports
  /// the line of the property expression.
  static let assertionProbeSpec = VerilatorBuildSpec(
    topModule: "assertion_probe",
    sources: [
      .init(
        fileName: "assertion_probe.sv",
        text: """
          // Fails one of two concurrent assertions when the count reaches 5.
          module assertion_probe (
            input  logic       clk_i,
            input  logic       rst_ni,
            input  logic [1:0] mode_i,
            output logic [7:0] count_o
          );
            logic [7:0] count_q;

            always_ff @(posedge clk_i) begin
              if (!rst_ni) count_q <= 8'd0;
              else         count_q <= count_q + 8'd1;
            end

            assign count_o = count_q;

          `ifndef SYNTHESIS
            // No action block: Verilator names the assertion by its label.
            CountNeverFive_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
              !(mode_i == 2'd1 && count_q == 8'd5));
            // With an action block: the message is the design's.
            CountNeverFiveMsg_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
              !(mode_i == 2'd2 && count_q == 8'd5))
              else $error("count reached %0d", count_q);
          `endif
          endmodule

          """)
    ],
    ports: [.input("clk_i"), .input("rst_ni"), .input("mode_i", width: 2), .output("count_o", width: 8)])

  static func counterSpec(trace: VerilatorBuildSpec.TraceFormat? = nil) -> VerilatorBuildSpec {
    VerilatorBuildSpec(
      topModule: "counter",
      sources: [
        .init(
          fileName: "counter.sv",
          text: """
            // A free-running counter with a synchronous active-low reset.
            module counter (
              input  logic       clk_i,
              input  logic       rst_ni,
              input  logic [7:0] step_i,
              output logic [7:0] count_o
            );
              logic [7:0] count_d, count_q;

              assign count_d = count_q + step_i;

              always_ff @(posedge clk_i) begin
                if (!rst_ni) count_q <= 8'd0;
                else         count_q <= count_d;
              end

              assign count_o = count_q;
            endmodule

            """)
      ],
      ports: [.input("clk_i"), .input("rst_ni"), .input("step_i", width: 8), .output("count_o", width: 8)],
      trace: trace)
  }

  static let portWidths = Result { try cache.library(for: portWidthsSpec) }
  static let fatalProbe = Result { try cache.library(for: fatalProbeSpec) }
}

/// `width` random bits as 32-bit words, least significant first.
private func randomWords(_ width: Int, _ rng: inout SeededRandom) -> [UInt32] {
  masked((0..<(width + 31) / 32).map { _ in UInt32(truncatingIfNeeded: rng.next()) }, width)
}

private func masked(_ words: [UInt32], _ width: Int) -> [UInt32] {
  var words = Array(words.prefix((width + 31) / 32))
  while words.count < (width + 31) / 32 { words.append(0) }
  if width % 32 != 0 { words[words.count - 1] &= (1 << UInt32(width % 32)) - 1 }
  return words
}

private func low64(_ words: [UInt32]) -> UInt64 {
  UInt64(words[0]) | (words.count > 1 ? UInt64(words[1]) << 32 : 0)
}

@Suite("Verilator bridge")
struct VerilatorBridgeTests {
  @Test("every bit of every port width round-trips, and bits above the width are masked")
  func portWidthsRoundTrip() throws {
    let model = try VerilatedModel(library: Bridge.portWidths.get())
    let seed = UInt64.random(in: 0...UInt64.max)
    var rng = SeededRandom(seed: seed)
    let clock = try model.port("clk_i")
    #expect(clock.width == 1)
    let inputs = try Bridge.widths.map { try model.port("a\($0)_i") }
    let outputs = try Bridge.widths.map { try model.port("q\($0)_o") }
    let c65 = try model.port("c65_o")
    let c128 = try model.port("c128_o")

    // Directed corners first (zero, all ones, top bit only, bottom bit only), then random values.
    let corners: [(Int) -> [UInt32]] = [
      { masked([], $0) },
      { masked(Array(repeating: .max, count: 5), $0) },
      { width in masked((0..<(width + 31) / 32).map { $0 == (width - 1) / 32 ? 1 << UInt32((width - 1) % 32) : 0 }, width) },
      { masked([1], $0) },
    ]
    for round in 0..<(corners.count + 200) {
      var expected: [[UInt32]] = []
      for (port, width) in zip(inputs, Bridge.widths) {
        let value = round < corners.count ? corners[round](width) : randomWords(width, &rng)
        expected.append(value)
        // Drive garbage above the width through one of the three setters; the shim masks it.
        var dirty = value + [UInt32(truncatingIfNeeded: rng.next())]
        if width % 32 != 0 { dirty[dirty.count - 2] |= ~0 << UInt32(width % 32) }
        switch (round + width) % 3 {
        case 0 where width <= 64:
          model.set(port, low64(value) | (width < 64 ? ~0 << UInt64(width) : 0))
        case 1:
          dirty.withUnsafeBufferPointer { model.set(port, words: $0.baseAddress!) }
        default:
          model.set(port, words: dirty)
        }
      }
      try model.eval()
      let wantC65 = masked(expected[8].map { ~$0 }, 65)
      let wantC128 = expected[9].map { ~$0 }
      #expect(model.getWords(c65) == wantC65, "seed \(seed) round \(round): c65_o")
      #expect(model.getWords(c128) == wantC128, "seed \(seed) round \(round): c128_o")

      try model.step()
      for (index, (port, width)) in zip(outputs, Bridge.widths).enumerated() {
        let want = expected[index]
        #expect(model.getWords(port) == want, "seed \(seed) round \(round): q\(width)_o")
        #expect(model.get(port) == low64(want), "seed \(seed) round \(round): q\(width)_o low 64 bits")
        var buffer = [UInt32](repeating: 0xDEAD_BEEF, count: port.words)
        buffer.withUnsafeMutableBufferPointer { model.get(port, into: $0.baseAddress!) }
        #expect(buffer == want, "seed \(seed) round \(round): q\(width)_o via get(into:)")
      }
      // Inputs read back masked too.
      #expect(model.getWords(inputs[8]) == expected[8], "seed \(seed) round \(round): a65_i read back")
    }
    #expect(model.cycle == UInt64(corners.count + 200))

    // Missing words are zero.
    model.set(inputs[9], words: [])
    try model.eval()
    #expect(model.getWords(c128) == [.max, .max, .max, .max])
  }

  @Test("two models from one library run independently")
  func twoModelsAtOnce() throws {
    let library = try Bridge.portWidths.get()
    let first = try VerilatedModel(library: library)
    let second = try VerilatedModel(library: library)
    let a = try first.port("a128_i")
    let q = try first.port("q128_o")
    first.set(a, words: [1, 2, 3, 4])
    second.set(a, words: [5, 6, 7, 8])
    try first.step(3)
    #expect(first.getWords(q) == [1, 2, 3, 4])
    #expect(second.getWords(q) == [0, 0, 0, 0])
    try second.step(5)
    #expect(second.getWords(q) == [5, 6, 7, 8])
    #expect(first.getWords(q) == [1, 2, 3, 4])
    #expect(first.cycle == 3)
    #expect(second.cycle == 5)
    first.close()
    second.set(a, 9)
    try second.step()
    #expect(second.get(q) == 9)
  }

  @Test("a second lookup of the same spec comes from the cache; other inputs give other keys")
  func cacheHit() throws {
    let built = try Bridge.portWidths.get()
    #expect(!built.fromCache)
    #expect(built.buildSeconds > 0)
    let modified = try FileManager.default.attributesOfItem(atPath: built.path.path)[.modificationDate] as? Date

    let start = Date()
    let again = try Bridge.cache.library(for: Bridge.portWidthsSpec)
    let lookup = Date().timeIntervalSince(start)
    print("port_widths: cold build \(built.buildSeconds) s, cached lookup \(lookup) s")
    #expect(again.fromCache)
    #expect(again.buildSeconds == 0)
    #expect(again.path == built.path)
    #expect(again.key == built.key)
    #expect(try FileManager.default.attributesOfItem(atPath: again.path.path)[.modificationDate] as? Date == modified)
    let log = try String(contentsOf: again.buildLog, encoding: .utf8)
    #expect(log.contains("verilator"))

    var otherCompilerFlags = Bridge.portWidthsSpec
    otherCompilerFlags.compilerFlags = ["-O1"]
    var otherVerilatorFlags = Bridge.portWidthsSpec
    otherVerilatorFlags.verilatorFlags.append("--no-assert")
    var otherText = Bridge.portWidthsSpec
    otherText.sources[0].text += "\n"
    var traced = Bridge.portWidthsSpec
    traced.trace = .vcd
    let keys = try [otherCompilerFlags, otherVerilatorFlags, otherText, traced].map { try Bridge.cache.key(for: $0) }
    #expect(Set(keys + [built.key]).count == 5)
    #expect(try Bridge.cache.key(for: Bridge.portWidthsSpec) == built.key)
  }

  @Test("a corrupted cache entry is deleted and rebuilt")
  func corruptedEntryIsRebuilt() throws {
    let spec = Bridge.counterSpec()
    let built = try Bridge.cache.library(for: spec)
    let fm = FileManager.default

    // Truncated library. A new file is renamed over it: this process keeps the library
    // mapped, and truncating a mapped file in place would crash the process (SIGBUS).
    let bytes = try Data(contentsOf: built.path)
    try FileOutput.writeAtomically(bytes.prefix(bytes.count / 2), to: built.path)
    let rebuilt = try Bridge.cache.library(for: spec)
    #expect(!rebuilt.fromCache)
    #expect(try Data(contentsOf: rebuilt.path).count == bytes.count)

    // Missing library.
    try fm.removeItem(at: rebuilt.path)
    let again = try Bridge.cache.library(for: spec)
    #expect(!again.fromCache)

    // A library that does not load, in a cache this process has never loaded from (dlopen
    // would reuse an already loaded library of the same path). Garbage of the right size.
    let otherRoot = ScratchDirectory.make("hwgen-bridge-tests-copy")
    defer { try? fm.removeItem(at: otherRoot) }
    let otherDirectory = otherRoot.appendingPathComponent("verilator", isDirectory: true)
    try fm.createDirectory(at: otherDirectory, withIntermediateDirectories: true)
    let entry = again.path.deletingLastPathComponent()
    let copy = otherDirectory.appendingPathComponent(entry.lastPathComponent, isDirectory: true)
    try fm.copyItem(at: entry, to: copy)
    // Share the compiled Verilator runtime so the rebuild stays quick.
    try fm.createSymbolicLink(
      at: otherDirectory.appendingPathComponent("runtime"),
      withDestinationURL: entry.deletingLastPathComponent().appendingPathComponent("runtime"))
    try Data(repeating: 0x5A, count: bytes.count).write(to: copy.appendingPathComponent("libmodel.so"))
    let otherCache = VerilatorBuildCache(root: otherRoot)
    let replaced = try otherCache.library(for: spec)
    #expect(!replaced.fromCache)

    let model = try VerilatedModel(library: replaced)
    model.set(try model.port("rst_ni"), 1)
    model.set(try model.port("step_i"), 3)
    try model.step(4)
    #expect(model.get(try model.port("count_o")) == 12)
  }

  @Test(
    "the design stopping is a Swift error, and the process goes on",
    arguments: [
      (mode: 1, expected: SimulationError.fatal("fatal_probe.sv:18: Assertion failed in TOP.fatal_probe: probe fatal at count 5")),
      (mode: 2, expected: .finished("fatal_probe.sv:19: $finish")),
      (mode: 3, expected: .fatal("fatal_probe.sv:20: $stop")),
      (mode: 4, expected: .fatal("fatal_probe.sv:21: Assertion failed in TOP.fatal_probe: probe assertion at count 5")),
      (mode: 5, expected: .internalError("/nonexistent-hwgen-dir/snapshot.hex:0: $writemem file not found")),
    ])
  func designStops(mode: Int, expected: SimulationError) throws {
    let library = try Bridge.fatalProbe.get()
    let model = try VerilatedModel(library: library)
    model.set(try model.port("mode_i"), UInt64(mode))
    #expect(throws: expected) { try model.step(100) }
    // The edge where count_q was 5 is the sixth; the model stays stopped.
    #expect(model.cycle == 6)
    #expect(throws: expected) { try model.step() }
    #expect(throws: expected) { try model.eval() }
    model.close()
    #expect(throws: SimulationError.closed) { try model.step() }

    let fresh = try VerilatedModel(library: library)
    try fresh.step(300)
    #expect(fresh.get(try fresh.port("count_o")) == 300 % 256)
  }

  @Test(
    "a failing concurrent assertion ends step with an error naming it",
    arguments: [
      (mode: 1, expected: SimulationError.fatal(
        "assertion_probe.sv:19: Assertion failed in TOP.assertion_probe.CountNeverFive_A: 'assert' failed.")),
      (mode: 2, expected: .fatal(
        "assertion_probe.sv:24: Assertion failed in TOP.assertion_probe.CountNeverFiveMsg_A: count reached 5")),
    ])
  func concurrentAssertionFails(mode: Int, expected: SimulationError) throws {
    #expect(VerilatorBuildSpec.defaultVerilatorFlags.contains("--assert"))
    let library = try Bridge.cache.library(for: Bridge.assertionProbeSpec)
    let model = try VerilatedModel(library: library)
    let resetN = try model.port("rst_ni"), modeIn = try model.port("mode_i"), count = try model.port("count_o")
    // In reset the count sits at 0 and the assertion is disabled.
    model.set(modeIn, UInt64(mode))
    try model.applyReset(resetN, idle: [], cycles: 8)
    #expect(model.get(count) == 0)
    #expect(throws: expected) { try model.step(100) }
    // Eight edges in reset; the edge that samples count_q == 5 is the sixth after release.
    #expect(model.cycle == 8 + 6)
    #expect(throws: expected) { try model.step() }

    // The same library with the assertion not provoked runs on.
    let fresh = try VerilatedModel(library: library)
    try fresh.applyReset(try fresh.port("rst_ni"), idle: [], cycles: 2)
    try fresh.step(300)
    #expect(fresh.get(try fresh.port("count_o")) == 300 % 256)
  }

  @Test("the shim is Sim/verilator's files, and their bytes are part of the cache key")
  func shimFilesAreInTheKey() throws {
    let files = try VerilatorShim.files()
    #expect(
      files.contents.map(\.name) == [
        "hw_shim.h", "hw_shim.cpp", "hw_runtime.cpp", "axi_rules.h", "axi_mem_slave.h", "axi_mem_slave.cpp",
        "offchip_memory.h", "offchip_memory.cpp", "accel_harness.h", "accel_harness.cpp",
      ])
    let header = String(decoding: files.contents[0].data, as: UTF8.self)
    #expect(header.contains("#define HW_SHIM_ABI_VERSION \(VerilatorShim.abiVersion)\n"))
    #expect(files.digest.count == 64)

    let built = try Bridge.portWidths.get()
    let toolchain = try VerilatorToolchain.current()
    let spec = Bridge.portWidthsSpec
    #expect(VerilatorBuildCache.key(for: spec, toolchain: toolchain, shimDigest: files.digest) == built.key)
    #expect(VerilatorBuildCache.key(for: spec, toolchain: toolchain, shimDigest: String(repeating: "0", count: 64)) != built.key)

    // The generated part is only the design's names and switches.
    let design = VerilatorShim.designHeader(for: Bridge.counterSpec(trace: .fst), key: "k")
    #expect(design.contains("#define HW_TOP_CLASS Vcounter\n"))
    #expect(design.contains("#define HW_CLOCK clk_i\n"))
    #expect(design.contains("#define HW_TRACE_FST 1\n"))
    #expect(design.contains("  INPUT(2, step_i, 8) \\\n  OUTPUT(3, count_o, 8) \\\n"))
  }

  @Test("VCD tracing writes the port names and value changes")
  func vcdTrace() throws {
    let library = try Bridge.cache.library(for: Bridge.counterSpec(trace: .vcd))
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hwgen-bridge-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).vcd")
    defer { try? FileManager.default.removeItem(at: file) }
    let model = try VerilatedModel(library: library, traceFile: file)
    let reset = try model.port("rst_ni")
    model.set(try model.port("step_i"), 1)
    try model.step(2)
    model.set(reset, 1)
    try model.step(20)
    #expect(model.get(try model.port("count_o")) == 20)
    model.close()
    let text = try String(contentsOf: file, encoding: .utf8)
    for name in ["clk_i", "rst_ni", "step_i", "count_o", "$enddefinitions"] {
      #expect(text.contains(name), "trace lacks \(name)")
    }
    #expect(text.contains("#44"), "trace lacks the last time step")

    // The same library runs without a trace file.
    let quiet = try VerilatedModel(library: library)
    try quiet.step(3)
    #expect(quiet.cycle == 3)
  }

  @Test("ports that differ from the design are reported before compiling")
  func portMismatch() throws {
    var spec = Bridge.counterSpec()
    spec.ports[2] = .input("step_i", width: 9)
    spec.ports.removeLast()
    spec.ports.append(.input("missing_i", width: 4))
    do {
      _ = try Bridge.cache.library(for: spec)
      Issue.record("expected a port mismatch")
    } catch let error as VerilatorError {
      guard case .portMismatch(let problems) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(problems.count == 3, "\(problems)")
      #expect(problems.contains { $0.contains("step_i") && $0.contains("8-bit") })
    }
  }

  @Test("a Verilator error names the file and line")
  func verilatorError() throws {
    var spec = Bridge.counterSpec()
    spec.sources[0].text = spec.sources[0].text.replacingOccurrences(of: "assign count_o", with: "asign count_o")
    do {
      _ = try Bridge.cache.library(for: spec)
      Issue.record("expected a Verilator error")
    } catch let error as VerilatorError {
      guard case .verilatorFailed(let excerpt, let log) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(excerpt.contains("%Error"))
      #expect(excerpt.contains("counter.sv:"))
      #expect(FileManager.default.fileExists(atPath: log))
    }
  }

  @Test("invalid specs are rejected with every problem")
  func invalidSpec() throws {
    var spec = Bridge.counterSpec()
    spec.ports.append(.input("bad__name", width: 0))
    spec.clockPort = "clock"
    #expect(throws: VerilatorError.self) { try Bridge.cache.key(for: spec) }
  }
}
