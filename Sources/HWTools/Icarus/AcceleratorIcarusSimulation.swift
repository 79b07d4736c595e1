import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSimFiles
import HWSpec
import HWSupport

/// `mmfree_accel` under Icarus Verilog, the accelerator's second simulator: the bench
/// `Sim/icarus/accel_tb.sv` answers the AXI4 read ports from the same memory image the
/// Verilator harness serves, drives the AXI4-Lite port as a host would (program, prompt,
/// start, interrupts, tokens) and writes every checkpoint beat; each is compared here with
/// the golden model, element by element, as `AcceleratorSimulation` does.
public enum AcceleratorIcarusSimulation {
  /// What one run produced.
  public struct Run: Sendable {
    /// Every ARGMAX the host read from TOKEN, in order (one per token fed; with several
    /// streams, each step's in stream order, the stream in bits 16 and up).
    public var tokens: [Int]
    /// Clock cycles from reset to the last interrupt served.
    public var cycles: Int
    /// Checkpoint elements compared with the golden model, all equal.
    public var compared: Int
  }

  static let benchName = "accel_tb.sv"
  static let topModule = "accel_tb"
  static let marker = "hwgen-accel-tb:"

  /// Runs `prompt` and greedy generation to `tokens` tokens past it, checking every
  /// checkpoint (mixer and layer outputs, final norm, logits) and every token.
  ///
  /// - Parameter keep: copy the working directory (sources, memory files, logs) here.
  public static func run(
    weights: ModelWeights, config: AcceleratorConfig, prompt: [Int], tokens: Int, keep: URL? = nil
  ) throws -> Run {
    try run(weights: weights, config: config, prompts: [prompt], tokens: tokens, keep: keep)
  }

  /// One prompt per stream of `config`, all streams stepping together (`AcceleratorSimulation.run(prompts:tokens:)`).
  public static func run(
    weights: ModelWeights, config: AcceleratorConfig, prompts: [[Int]], tokens: Int, keep: URL? = nil
  ) throws -> Run {
    precondition(prompts.count == config.streams && prompts.allSatisfy { !$0.isEmpty } && tokens >= 1)
    try AcceleratorGenerator.validate(config)
    let fixed = FixedPointWeights(weights)
    let model = weights.config
    let (program, image) = try AcceleratorMemoryImage.build(
      model: model, weights: fixed, config: config, checkpoints: true)
    let steps = prompts.map(\.count).max()! + tokens - 1
    let (_, sources) = try AcceleratorGenerator.files(config)
    let bench = try benchFiles(config: config, program: program, image: image, prompt: tagged(prompts), steps: steps)

    return try IcarusSimulation.inWorkDirectory("hwgen-icarus-accel", keep: keep) { dir in
      try run(in: dir, files: bench + sources, sources: sources, program: program, fixed: fixed, prompts: prompts, steps: steps,
              elementLanes: config.elementLanes)
    }
  }

  /// The prompts as the host writes them: position by position, each token tagged with its stream.
  static func tagged(_ prompts: [[Int]]) -> [Int] {
    (0..<(prompts.map(\.count).max() ?? 0)).flatMap { t in
      prompts.indices.filter { t < prompts[$0].count }.map { $0 << AcceleratorConfig.tokenBits | prompts[$0][t] }
    }
  }

  static func run(
    in dir: URL, files: [(name: String, contents: String)], sources: [(name: String, contents: String)],
    program: AcceleratorProgram, fixed: FixedPointWeights, prompts: [[Int]], steps: Int, elementLanes: Int
  ) throws -> Run {
    for file in files { try Data(file.contents.utf8).write(to: dir.appendingPathComponent(file.name)) }
    let compiled = try ExternalTool.iverilog.run(
      ["-g2012", "-o", "sim.vvp", "-s", topModule, "-I", "."] + [benchName] + sources.map(\.name), in: dir)
    try? Data(compiled.output.utf8).write(to: dir.appendingPathComponent("iverilog.log"))
    guard compiled.succeeded else { throw IcarusError("iverilog -g2012 failed: \(IcarusSimulation.excerpt(compiled.output))") }
    let ran = try ExternalTool.vvp.run(["-n", "sim.vvp"], in: dir)
    try? Data(ran.output.utf8).write(to: dir.appendingPathComponent("vvp.log"))
    try IcarusSimulation.checkAssertions(ran.output)
    guard let summary = ran.output.split(separator: "\n").last(where: { $0.hasPrefix(marker) }) else {
      throw IcarusError("vvp ended (status \(ran.status)) without the bench's summary line: \(IcarusSimulation.excerpt(ran.output))")
    }
    let verdict = summary.dropFirst(marker.count + 1)
    guard verdict.hasPrefix("DONE"), ran.succeeded else { throw IcarusError("accel_tb: \(verdict)") }
    let words = verdict.split(separator: " ")
    let cycles = words.firstIndex(of: "cycles").flatMap { Int(words[$0 + 1]) } ?? 0

    let tokenText = try String(contentsOf: dir.appendingPathComponent("tokens.txt"), encoding: .utf8)
    let read = tokenText.split(whereSeparator: \.isNewline).compactMap { Int($0) }
    let checkpoints = try parseCheckpoints(
      try String(contentsOf: dir.appendingPathComponent("ckpt.txt"), encoding: .utf8), elementLanes: elementLanes)

    // The golden models token by token; the checkpoints come in program order (each one
    // stream after stream), the logits last.
    let streams = prompts.count
    var goldens = Array(repeating: FixedPointModel(weights: fixed), count: streams)
    var compared = 0
    var next = 0
    var nexts: [Int] = []
    var inputs = prompts.map { $0[0] }
    for step in 0..<steps {
      let traces = (0..<streams).map { goldens[$0].stepTraced(token: inputs[$0]) }
      for what in program.checkpoints {
        for stream in 0..<streams {
          let due = streams > 1 ? "stream \(stream)'s \(what)" : "\(what)"
          guard next < checkpoints.count else {
            throw IcarusError("token \(step): the bench wrote \(checkpoints.count) checkpoints, \(due) missing")
          }
          let (tag, values) = checkpoints[next]
          next += 1
          guard let found = program.checkpoint(tag: tag), found.what == what, found.stream == stream else {
            throw IcarusError("token \(step): checkpoint tag \(tag) where \(due) was due")
          }
          let gold = traces[stream].values(at: what)
          guard values.count >= gold.count else {
            throw IcarusError("token \(step): \(due) has \(values.count) elements, \(gold.count) expected")
          }
          if let i = gold.indices.first(where: { values[$0] != gold[$0] }) {
            throw IcarusError("token \(step): \(due) element \(i): Icarus \(values[i]), golden \(gold[i])")
          }
          compared += gold.count
        }
      }
      for stream in 0..<streams {
        nexts.append(stream << AcceleratorConfig.tokenBits | traces[stream].next)
        inputs[stream] = step + 1 < prompts[stream].count ? prompts[stream][step + 1] : traces[stream].next
      }
    }
    guard read == nexts else { throw IcarusError("the host read \(read) from TOKEN, the golden model gives \(nexts)") }
    return Run(tokens: read, cycles: cycles, compared: compared)
  }

  /// The bench, its per-design include files, the memory image and the host's inputs.
  static func benchFiles(
    config: AcceleratorConfig, program: AcceleratorProgram, image: AcceleratorMemoryImage, prompt: [Int], steps: Int
  ) throws -> [(name: String, contents: String)] {
    let portWords = image.ports.map { ($0.count + 3) / 4 }.max() ?? 0
    // Every port's 32-bit words, little-endian, padded to portWords.
    let memory = image.ports.map { bytes in
      let words = stride(from: 0, to: bytes.count, by: 4).map { at in
        (0..<4).reduce(UInt32(0)) { at + $1 < bytes.count ? $0 | UInt32(bytes[at + $1]) << (8 * $1) : $0 }
      }
      return IcarusTestbench.hex(words, bits: 32, words: 1, depth: portWords)
    }.joined()
    // A token takes a few thousand cycles at the tiny sizes Icarus runs; the limit catches a hang.
    let cycleLimit = 20_000 + 16 * image.programInstructions + steps * 200_000
    let b = AcceleratorCSRBit.self
    let params: [(String, Int)] = [
      ("MemoryPorts", config.memoryPorts), ("PortBits", config.memoryDataBits), ("VectorBits", config.vectorDataBits),
      ("CkptBits", 32 * config.elementLanes), ("VectorPortShift", config.vectorPortShift), ("PortWords", portWords),
      ("ProgramBase", image.programAddress), ("ProgramInstructions", image.programInstructions),
      ("PromptTokens", prompt.count), ("Steps", steps), ("CycleLimit", cycleLimit), ("BitStart", b.start), ("BitLoad", b.load), ("BitIrqDone", b.irqDone), ("BitIrqError", b.irqError), ("BitIrqToken", b.irqToken),
      ("BitTokenValid", b.tokenValid),
    ]
    // The register offsets the host uses, as the AXI4-Lite address's 8 bits.
    let registers: [(String, AcceleratorCSRRegister)] = [
      ("RegCtrl", .control), ("RegPrompt", .prompt), ("RegToken", .token), ("RegTokens", .tokens),
      ("RegIrqEnable", .irqEnable), ("RegIrqStatus", .irqStatus), ("RegError", .error),
      ("RegErrorAddrLow", .errorAddressLow), ("RegErrorAddrHigh", .errorAddressHigh),
      ("RegProgBaseLow", .programBaseLow), ("RegProgBaseHigh", .programBaseHigh), ("RegProgCount", .programCount),
    ]
    let configHeader = "// Written by hwgen for accel_tb.sv: this design's sizes and register map.\n"
      + params.map { "localparam int \($0.0) = \($0.1);\n" }.joined()
      + registers.map { "localparam logic [7:0] \($0.0) = 8'h\(String($0.1.rawValue, radix: 16));\n" }.joined()
    var ports = "// Written by hwgen for accel_tb.sv: the memory ports of this mmfree_accel.\n"
    for p in 0...config.memoryPorts {
      let name = p == config.memoryPorts ? "mvec" : "m\(p)"
      let bits = p == config.memoryPorts ? "VectorBits" : "PortBits"
      ports += """
        .\(name)_axi_arid_o    (),
        .\(name)_axi_araddr_o  (ar_addr[\(p)]),
        .\(name)_axi_arlen_o   (ar_len[\(p)]),
        .\(name)_axi_arsize_o  (),
        .\(name)_axi_arburst_o (),
        .\(name)_axi_arvalid_o (ar_valid[\(p)]),
        .\(name)_axi_arready_i (ar_ready[\(p)]),
        .\(name)_axi_rid_i     (4'd0),
        .\(name)_axi_rdata_i   (r_data[\(p)][\(bits)-1:0]),
        .\(name)_axi_rresp_i   (r_resp[\(p)]),
        .\(name)_axi_rlast_i   (r_last[\(p)]),
        .\(name)_axi_rvalid_i  (r_valid[\(p)]),
        .\(name)_axi_rready_o  (r_ready[\(p)]),

        """
      if p == config.memoryPorts - 1 { ports += ".w_level_o        (),\n" }
    }
    return [
      (benchName, try SimFiles.text("icarus", benchName)),
      ("accel_tb_config.svh", configHeader),
      ("accel_tb_ports.svh", ports),
      ("mem.hex", memory),
      ("prompt.hex", IcarusTestbench.hex(prompt.map { UInt32($0) }, bits: 32, words: 1, depth: prompt.count)),
    ]
  }

  /// `tag last hexdata` lines, a checkpoint's beats up to the one with last set, into
  /// (tag, elements): element i at bits [32 i +: 32] of its beat.
  static func parseCheckpoints(_ text: String, elementLanes: Int) throws -> [(tag: Int, values: [Int32])] {
    var result: [(tag: Int, values: [Int32])] = []
    var values: [Int32] = []
    for line in text.split(whereSeparator: \.isNewline) {
      let fields = line.split(separator: " ")
      guard fields.count == 3, let tag = Int(fields[0]), let last = Int(fields[1]) else {
        throw IcarusError("ckpt.txt: not a checkpoint beat: \(line.prefix(60))")
      }
      let digits = Array(fields[2])
      for e in 0..<elementLanes {
        let end = digits.count - 8 * e
        guard end - 8 >= 0, let word = UInt32(String(digits[(end - 8)..<end]), radix: 16) else {
          throw IcarusError("ckpt.txt: beat of tag \(tag) has unknown bits: \(line.prefix(60))")
        }
        values.append(Int32(bitPattern: word))
      }
      if last != 0 {
        result.append((tag, values))
        values = []
      }
    }
    return result
  }

}
