import Foundation
import HWGenerators
import HWGolden
import HWSpec
import HWSupport
import HWVerilator

/// Where a token's cycles went, from the accelerator's performance counters.
/// Every counted cycle is in exactly one bucket.
public struct CycleBreakdown: Hashable, Sendable, Codable {
  /// The ternary core taking weight beats, and draining its pipeline.
  public var matrix = 0
  /// The element-wise units: norm and quantize, MLGRU, vector unit.
  public var elementwise = 0
  /// Waiting for off-chip memory: no weight beat on chip while the core
  /// wants one, or a vector load not yet arrived.
  public var stalls = 0
  /// The sequencer between operations: issue, constants, prefetch requests.
  public var control = 0
  public var total: Int { matrix + elementwise + stalls + control }

  public init(matrix: Int = 0, elementwise: Int = 0, stalls: Int = 0, control: Int = 0) {
    self.matrix = matrix
    self.elementwise = elementwise
    self.stalls = stalls
    self.control = control
  }

  /// The buckets from counter deltas.
  init(_ c: [AcceleratorCounter: Int]) {
    let stall = c[.weightStallCycles, default: 0]
    matrix = c[.matVecCycles, default: 0] - stall
    stalls = stall + c[.loadWaitCycles, default: 0]
    elementwise = c[.elementwiseCycles, default: 0]
    control = c[.cycles, default: 0] - matrix - stalls - elementwise
  }

  public static func + (a: Self, b: Self) -> Self {
    CycleBreakdown(matrix: a.matrix + b.matrix, elementwise: a.elementwise + b.elementwise, stalls: a.stalls + b.stalls,
                   control: a.control + b.control)
  }
  public func scaled(_ f: Double) -> Self {
    func s(_ v: Int) -> Int { Int((Double(v) * f).rounded()) }
    return CycleBreakdown(matrix: s(matrix), elementwise: s(elementwise), stalls: s(stalls), control: s(control))
  }
}

/// What the hardware did: the RTL's performance counters and the memory
/// model's counts.
public struct AcceleratorActivity: Hashable, Sendable, Codable {
  /// `AcceleratorCounter` values by `rtlName`.
  public var counters: [String: Int] = [:]
  /// Bytes the off-chip memory moved for weights and for vectors (whole bursts).
  public var weightBytes = 0
  public var vectorBytes = 0
  /// Non-zero ternary weights the core took (each one add or subtract per
  /// activation bit plane lane).
  public var nonZeroWeights = 0
  /// Cycles the off-chip memory moved data.
  public var memoryBusyCycles = 0

  public init() {}

  public subscript(_ c: AcceleratorCounter) -> Int { counters[c.rtlName, default: 0] }

  public static func + (a: Self, b: Self) -> Self {
    var r = a
    r.counters.merge(b.counters, uniquingKeysWith: +)
    r.weightBytes += b.weightBytes
    r.vectorBytes += b.vectorBytes
    r.nonZeroWeights += b.nonZeroWeights
    r.memoryBusyCycles += b.memoryBusyCycles
    return r
  }
}

/// The first element where the RTL and the golden model differ.
public struct TokenMismatch: Hashable, Sendable, Codable, CustomStringConvertible {
  public var token: Int
  /// The stream, when the accelerator runs several.
  public var stream: Int?
  public var stage: String
  public var layer: Int?
  public var element: Int
  public var rtl: Int64
  public var golden: Int64
  public var description: String {
    "\(stream.map { "stream \($0), " } ?? "")token \(token), \(layer.map { "layer \($0), " } ?? "")\(stage), element \(element): RTL \(rtl), golden \(golden)"
  }
}

/// Misbehaviour of the memory behind the accelerator's AXI4 ports, for
/// tests: seeded ARREADY backpressure and RVALID gaps on every port, an
/// error response on a range of one port's addresses, a port that never
/// answers. The C++ harness applies them.
public typealias MemoryFaults = AcceleratorHarness.Faults

/// One token step through the accelerator: a token of every stream.
public struct TokenRun: Sendable {
  /// Each stream's input token, the token its ARGMAX produced and the golden model's.
  public var inputs: [Int]
  public var nexts: [Int]
  public var goldenNexts: [Int]
  /// Stream 0's (the only stream's, with one).
  public var input: Int { inputs[0] }
  public var next: Int { nexts[0] }
  public var goldenNext: Int { goldenNexts[0] }
  /// Counted cycles of the simulated program (its layers, embedding, final
  /// norm, lm_head, argmax), from the previous token's ARGMAX to this one's.
  public var measured: CycleBreakdown
  /// The same, with the model's unsimulated layers extrapolated from the simulated ones.
  public var estimated: CycleBreakdown
  public var activity: AcceleratorActivity
  /// Off-chip bytes moved during the token (extrapolated for unsimulated layers).
  public var bytes: Int
  /// How the unsimulated layers were charged (nil when every layer ran).
  public var extrapolation: LayerExtrapolation?
  /// The first difference from the golden model in any stream.
  public var mismatch: TokenMismatch?
  /// The logits the RTL streamed out for stream 0 (Q15.16), one per vocabulary entry.
  public var logits: [Int32]
  /// Elements compared with the golden model, over every stream.
  public var compared: Int
  /// Wall time of the RTL simulation and of the golden model for this token.
  public var simulationSeconds: Double
  public var goldenSeconds: Double
}

/// The whole accelerator (`mmfree_accel`) Verilated, running the program
/// `AcceleratorProgram` derives from the model, with the off-chip memory model
/// serving its weight stream and vector loads. The harness only loads the
/// program, serves memory, offers the prompt and watches the debug ports:
/// every operation of every token, the next-token feedback included, is
/// done by the RTL's sequencer.
///
/// Each token's checkpoints (every mixer output and layer output, the final
/// norm, the logits) and its ARGMAX are compared with
/// `FixedPointModel.stepTraced`. Checkpoints cost no simulated time: while
/// one runs the accelerator holds still, the memory model does not advance
/// and the cycle counters do not count.
///
/// With `layers` below the model's depth the program runs the first `layers`
/// blocks followed by the final norm, lm_head and argmax (a shorter network,
/// checked against the golden model cut the same way); the report
/// extrapolates the missing layers' cycles and bytes from the simulated ones.
public final class AcceleratorSimulation {
  public let config: AcceleratorConfig
  public let model: ModelConfig
  public let program: AcceleratorProgram
  public let weights: FixedPointWeights
  public let memory: OffChipMemory
  public let layersSimulated: Int
  public let faults: MemoryFaults
  /// Cycles the injected faults held back an address the RTL offered (ARVALID
  /// with ARREADY low) or a beat that had arrived (RVALID low).
  public var heldAddresses: Int { harness.heldAddresses }
  public var heldBeats: Int { harness.heldBeats }
  /// The off-chip memory's contents: what `hwgen image` writes for this model and configuration.
  public let image: AcceleratorMemoryImage
  /// Each stream's golden model (its own MLGRU state).
  public private(set) var goldens: [FixedPointModel]
  let top: VerilatedModel
  let tokenValid, token, ckptTag, perfSel, perfData: PortHandle
  /// The per-cycle loop in C++: the memory ports answered from `memoryModel`, the host driver
  /// on the control port, the checkpoints.
  let harness: AcceleratorHarness
  let memoryModel: MemoryModel
  /// Exact off-chip bytes of the layers the program leaves out (0 when every layer runs): their matrices in whole
  /// core beats and their vectors in whole bursts, from the full model's memory map.
  public let unsimulatedBytes: Int

  public init(
    weights: ModelWeights, config: AcceleratorConfig, profile: DeviceProfile, clockMHz: Double, layers: Int? = nil,
    checkpoints: Bool = true, faults: MemoryFaults = .none, cache: VerilatorBuildCache = VerilatorBuildCache()
  ) throws {
    self.faults = faults
    try AcceleratorGenerator.validate(config)
    try config.validate(for: weights.config)
    self.config = config
    model = weights.config
    layersSimulated = layers.map { min(max(1, $0), weights.config.layers) } ?? weights.config.layers
    let full = FixedPointWeights(weights)
    let cut = layersSimulated < model.layers ? full.firstLayers(layersSimulated) : full
    self.weights = cut
    goldens = Array(repeating: FixedPointModel(weights: cut), count: config.streams)
    let (program, image) = try AcceleratorMemoryImage.build(
      model: model, weights: cut, config: config, layers: layersSimulated, checkpoints: checkpoints)
    self.program = program
    self.image = image
    let memory = OffChipMemory(profile: profile, clockMHz: clockMHz, config: config)
    self.memory = memory
    // The layers left out, byte for byte from the whole model's memory map.
    var unsimulated = 0
    if layersSimulated < model.layers {
      let whole = try AcceleratorProgram(
        model: model, config: config,
        betas: { layer, p in layer.map { full.layers[$0].projection(p).beta } ?? full.lmHead.beta }, checkpoints: false)
      for segment in whole.segments {
        switch segment.data {
        case .vector(let v) where (v.layer ?? -1) >= layersSimulated:
          unsimulated += memory.vectorRequestBytes(elements: segment.bytes / 4)
        case .matrix(let layer?, _) where layer >= layersSimulated: unsimulated += segment.bytes
        default: break
        }
      }
    }
    unsimulatedBytes = unsimulated

    let (design, files) = try AcceleratorGenerator.files(config)
    let verilated = try VerilatedModel(library: cache.library(for: VerilatorBuildSpec(design: design, sources: files)))
    top = verilated
    func p(_ name: String) throws -> PortHandle { try verilated.port(name) }
    tokenValid = try p("token_valid_o"); token = try p("token_o"); ckptTag = try p("ckpt_tag_o")
    perfSel = try p("perf_sel_i"); perfData = try p("perf_data_o")
    let buses = (0..<config.memoryPorts).map { "m\($0)_" } + ["mvec_"]
    let ckptReady = try p("ckpt_ready_i")
    let host = ["awvalid", "wvalid", "bready", "arvalid", "rready"].map { "s_axil_\($0)_i" }
    try top.applyReset(
      try p("rst_ni"),
      idle: [ckptReady] + (try host.map(p))
        + buses.flatMap { [try p("\($0)axi_arready_i"), try p("\($0)axi_rvalid_i")] })
    top.set(ckptReady, 1)
    memoryModel = try memory.model(images: image.ports, library: verilated)
    harness = try AcceleratorHarness(model: verilated, memory: memoryModel, control: .mmfree, faults: faults)
  }

  /// Cycles the last program load took (CTRL.LOAD queued to DONE seen by the host); a run
  /// loads the program before its first token, outside the token's counts.
  public private(set) var programLoadCycles = 0

  /// Has the accelerator read its program from the image's program region with its own
  /// DMA, as a host driver does: PROG_BASE (the region's address in port 0, which is its
  /// address on the vector port too), PROG_COUNT, CTRL.LOAD, then the DONE interrupt.
  /// Returns the cycles from the LOAD write's queueing to DONE as the host saw it.
  @discardableResult
  public func loadProgram() throws -> Int {
    typealias R = AcceleratorCSRRegister
    let base = UInt64(image.programAddress)
    let interrupts = [AcceleratorCSRBit.irqDone, AcceleratorCSRBit.irqError]
    harness.write(register: R.irqEnable.rawValue, interrupts.reduce(0) { $0 | 1 << $1 })
    harness.write(register: R.programBaseLow.rawValue, UInt32(truncatingIfNeeded: base))
    harness.write(register: R.programBaseHigh.rawValue, UInt32(truncatingIfNeeded: base >> 32))
    harness.write(register: R.programCount.rawValue, UInt32(image.programInstructions))
    harness.write(register: R.control.rawValue, 1 << AcceleratorCSRBit.load)
    let start = harness.cycles
    // Longer than the DMA's timeout, so a port that never answers ends in its error first.
    let limit = config.vectorMaster.timeoutCycles + 64 * image.programInstructions + 10_000
    while true {
      let used = harness.cycles - start
      let events = used < limit ? try harness.run(cycles: limit - used) : []
      if events.isEmpty { throw TestbenchError("accelerator: no DONE within \(limit) cycles of CTRL.LOAD") }
      if events.contains(.violation) { throw TestbenchError("accelerator: \(harness.violation)") }
      if events.contains(.error) { throw hostErrorReport(during: "the program load") }
      if events.contains(.idle) {
        programLoadCycles = harness.cycles - start
        try idleUntilRefresh()
        return programLoadCycles
      }
    }
  }

  /// Idles until the memory's next all-bank refresh is over, so that every run starts from
  /// the same memory state whatever came before it (how long the program load took, which
  /// rows it left open): every row closed, a whole refresh interval ahead. Without it a run's
  /// stalls would depend on the length of its program. The refresh chosen lies at least a
  /// row cycle past the last read, so it never waits for the load's rows.
  func idleUntilRefresh() throws {
    let dram = memory.dram
    let perCycle = dram.clockMHz / memory.clockMHz  // tCK per accelerator cycle
    let now = Double(memoryModel.cycles) * perCycle
    let rowCycle = Double(dram.ras + dram.rtp + dram.rp + dram.cl)
    let refresh = (((now + rowCycle) / Double(dram.refi)).rounded(.down) + 1) * Double(dram.refi)
    let refreshed = refresh + Double(dram.rp + dram.rfc)
    let idle = Int((refreshed / perCycle).rounded(.up)) - memoryModel.cycles
    guard idle > 0 else { return }
    let events = try harness.run(cycles: idle)
    if events.contains(.violation) { throw TestbenchError("accelerator: \(harness.violation)") }
    if events.contains(.error) { throw hostErrorReport(during: "the wait after the program load") }
  }

  /// The error the host read from ERROR and ERROR_ADDR ([2:0] the memory error, [8 +: port
  /// bits] its port, bit 16 err_i) as one line.
  func hostErrorReport(during what: String) -> TestbenchError {
    let (error, address) = harness.hostError
    let code = Int(error) & (1 << AXIReadError.bits - 1)
    guard code != 0 else {
      return TestbenchError("accelerator: error interrupt (unknown opcode or MLGRU protocol error) in \(what)")
    }
    let kind = AXIReadError(rawValue: code).map { "\($0)" } ?? "error \(code)"
    let port = Int(error >> UInt32(AcceleratorCSRBit.errorPort)) & (1 << config.memoryErrorPortBits - 1)
    return TestbenchError(
      "accelerator: memory error on port \(portName(port)) at address 0x\(String(address, radix: 16)): \(kind) (\(what))")
  }

  /// A fresh memory model of this simulation's memory, from its model library, holding
  /// `images`: for tests that drive the memory alone.
  public func memoryModel(images: [[UInt8]]) throws -> MemoryModel { try memoryModel(memory, images: images) }

  /// A fresh model of another memory, from this simulation's model library.
  public func memoryModel(_ other: OffChipMemory, images: [[UInt8]]) throws -> MemoryModel {
    try other.model(images: images, library: top)
  }

  /// A memory port as the error lines name it: the weight ports by number, then `vector`.
  func portName(_ p: Int) -> String { p == config.memoryPorts ? "vector" : "\(p)" }

  /// Every performance counter, read through the counter port (no clock edge).
  func readCounters() throws -> [AcceleratorCounter: Int] {
    var values: [AcceleratorCounter: Int] = [:]
    for c in AcceleratorCounter.allCases {
      top.set(perfSel, UInt64(c.rawValue))
      try top.eval()
      values[c] = Int(top.get(perfData))
    }
    return values
  }

  /// Runs `prompt` and then greedy generation until `tokens` tokens past the
  /// prompt's last are generated (`prompt.count + tokens - 1` tokens through
  /// the accelerator), the hardware feeding each ARGMAX back itself.
  public func run(prompt: [Int], tokens: Int, progress: ((Int, Int, TokenRun) throws -> Void)? = nil) throws -> [TokenRun] {
    try run(prompts: [prompt], tokens: tokens, progress: progress)
  }

  /// One prompt per stream (`config.streams` of them), each followed by greedy
  /// generation, all streams stepping together: `max(prompt lengths) + tokens - 1`
  /// token steps, so a stream with a shorter prompt generates more tokens. Every
  /// stream's checkpoints and tokens are checked against its own golden model.
  /// The host writes the prompts interleaved by position, each token tagged with
  /// its stream (bits 16 and up), and reads the tagged tokens from TOKEN.
  public func run(
    prompts: [[Int]], tokens: Int, progress: ((Int, Int, TokenRun) throws -> Void)? = nil
  ) throws -> [TokenRun] {
    let streams = config.streams
    guard prompts.count == streams, prompts.allSatisfy({ !$0.isEmpty }), tokens >= 1 else {
      throw TestbenchError(
        "accelerator: \(streams) stream(s) need as many non-empty prompts and at least one token; got \(prompts.count) prompt(s), \(tokens) token(s)")
    }
    let steps = prompts.map(\.count).max()! + tokens - 1
    let tokenMask = 1 << AcceleratorConfig.tokenBits - 1
    var runs: [TokenRun] = []
    // The step in progress: each stream's input, trace and generated token.
    var inputs = prompts.map { $0[0] }
    var traces = [FixedPointModel.Trace](repeating: FixedPointModel.Trace(), count: streams)
    var nexts: [Int] = []
    var goldenSeconds = 0.0
    var compared = 0
    var mismatch: TokenMismatch?
    var logits: [Int32] = []
    // The program first, then the counters and the memory's totals each token starts from.
    try loadProgram()
    var tokenStart = try readCounters()
    let memory = memoryModel
    var memoryStart = (memory.weightBytes, memory.vectorBytes, memory.nonZeroWeights, memory.busyCycles)
    var layerMarks: [LayerExtrapolation.Mark] = []
    var wall = DispatchTime.now().uptimeNanoseconds

    func beginStep(_ step: Int) {
      let g0 = DispatchTime.now().uptimeNanoseconds
      for s in 0..<streams {
        inputs[s] = step < prompts[s].count ? prompts[s][step] : runs[step - 1].nexts[s]
        traces[s] = goldens[s].stepTraced(token: inputs[s])
      }
      goldenSeconds = Double(DispatchTime.now().uptimeNanoseconds - g0) / 1e9
      nexts = []
      compared = 0
      mismatch = nil
      logits = []
      layerMarks = []
    }
    func note(_ stream: Int, _ stage: String, _ layer: Int?, _ element: Int, rtl: Int64, golden: Int64) {
      guard mismatch == nil else { return }
      mismatch = TokenMismatch(
        token: runs.count, stream: streams > 1 ? stream : nil, stage: stage, layer: layer, element: element, rtl: rtl,
        golden: golden)
    }
    func check(_ what: AcceleratorProgram.Checkpoint, stream: Int, _ rtl: [Int32]) {
      let gold = traces[stream].values(at: what), layer: Int?
      switch what {
      case .mixerOutput(let l), .layerOutput(let l): layer = l
      case .finalNorm, .logits: layer = nil
      }
      let stage: String
      switch what {
      case .mixerOutput: stage = "mixer output"
      case .layerOutput: stage = "layer output"
      case .finalNorm: stage = "final norm"
      case .logits: stage = "logits"
      }
      compared += gold.count
      if let i = gold.indices.first(where: { rtl[$0] != gold[$0] }) {
        note(stream, stage, layer, i, rtl: Int64(rtl[i]), golden: Int64(gold[i]))
      }
    }

    beginStep(0)
    // Position by position, each stream's prompt token tagged with the stream: the
    // EMBED of stream s takes the head of the FIFO when it is s's.
    harness.prompt((0..<prompts.map(\.count).max()!).flatMap { t in
      (0..<streams).filter { t < prompts[$0].count }.map { $0 << AcceleratorConfig.tokenBits | prompts[$0][t] }
    })
    harness.write(register: AcceleratorCSRRegister.tokens.rawValue, UInt32(steps))
    let interrupts = [AcceleratorCSRBit.irqDone, AcceleratorCSRBit.irqError, AcceleratorCSRBit.irqToken]
    harness.write(register: AcceleratorCSRRegister.irqEnable.rawValue, interrupts.reduce(0) { $0 | 1 << $1 })
    harness.write(register: AcceleratorCSRRegister.control.rawValue, 1 << AcceleratorCSRBit.start)
    // A token longer than this is a hang: every weight beat eight times over, plus slack.
    let beatsPerToken = program.segments.filter(\.striped).reduce(0) { $0 + $1.bytes } / config.weightBeatBytes
    let cycleLimit = 8 * beatsPerToken + 1_000_000 * streams
    var lastToken = harness.cycles
    while true {
      let budget = cycleLimit - (harness.cycles - lastToken)
      let events = budget > 0 ? try harness.run(cycles: budget) : []
      if events.isEmpty {
        throw TestbenchError(
          runs.count == steps
            ? "accelerator: no DONE interrupt after the last token"
            : "accelerator: no token after \(cycleLimit) cycles (token \(runs.count))")
      }
      if events.contains(.violation) { throw TestbenchError("accelerator: \(harness.violation)") }
      if events.contains(.checkpoint) {
        let collected = harness.takeCheckpoint().map { Int32(bitPattern: $0) }
        let tag = Int(top.get(ckptTag))
        guard let (what, stream) = program.checkpoint(tag: tag) else {
          throw TestbenchError("accelerator: checkpoint tag \(tag) is not in the program")
        }
        let n: Int
        switch what {
        case .logits: n = model.vocabSize
        default: n = model.hiddenSize
        }
        check(what, stream: stream, Array(collected.prefix(n)))
        if case .logits = what, stream == 0 { logits = Array(collected.prefix(n)) }
        // A layer ends with its last stream's output.
        if case .layerOutput = what, stream == streams - 1 {
          layerMarks.append(.init(counters: try readCounters(), busyCycles: memory.busyCycles,
                                  bytes: memory.weightBytes + memory.vectorBytes))
        }
      }
      if events.contains(.token) {
        let value = Int(top.get(token))
        let stream = value >> AcceleratorConfig.tokenBits, next = value & tokenMask
        guard stream == nexts.count else {
          throw TestbenchError("accelerator: token \(runs.count) of stream \(stream) came after \(nexts.count) stream(s)' tokens")
        }
        nexts.append(next)
        if next != traces[stream].next {
          note(stream, "argmax", nil, 0, rtl: Int64(next), golden: Int64(traces[stream].next))
        }
      }
      if events.contains(.token), nexts.count == streams {
        let now = try readCounters()
        let delta = now.merging(tokenStart) { $0 - $1 }
        var activity = AcceleratorActivity()
        for (c, v) in delta { activity.counters[c.rtlName] = v }
        activity.weightBytes = memory.weightBytes - memoryStart.0
        activity.vectorBytes = memory.vectorBytes - memoryStart.1
        activity.nonZeroWeights = memory.nonZeroWeights - memoryStart.2
        activity.memoryBusyCycles = memory.busyCycles - memoryStart.3
        let measured = CycleBreakdown(delta)
        var estimated = measured
        var bytes = activity.weightBytes + activity.vectorBytes
        var extrapolation: LayerExtrapolation?
        if layersSimulated < model.layers, layerMarks.count == layersSimulated {
          let start = LayerExtrapolation.Mark(
            counters: tokenStart, busyCycles: memoryStart.3, bytes: memoryStart.0 + memoryStart.1)
          let e = LayerExtrapolation(
            start: start, marks: layerMarks, measured: measured, measuredBytes: bytes, layers: model.layers,
            unsimulatedBytes: unsimulatedBytes, bytesPerCycle: self.memory.bytesPerCycle)
          estimated = e.cycles
          bytes = e.bytes
          extrapolation = e
        }
        let now2 = DispatchTime.now().uptimeNanoseconds
        let tokenRun = TokenRun(
          inputs: inputs, nexts: nexts, goldenNexts: traces.map(\.next), measured: measured, estimated: estimated,
          activity: activity, bytes: bytes, extrapolation: extrapolation, mismatch: mismatch, logits: logits,
          compared: compared, simulationSeconds: Double(now2 - wall) / 1e9 - goldenSeconds, goldenSeconds: goldenSeconds)
        runs.append(tokenRun)
        try progress?(runs.count, steps, tokenRun)
        tokenStart = now
        memoryStart = (memory.weightBytes, memory.vectorBytes, memory.nonZeroWeights, memory.busyCycles)
        wall = now2
        lastToken = harness.cycles
        if runs.count < steps { beginStep(runs.count) }
      }
      if events.contains(.error) { throw hostErrorReport(during: "token \(runs.count)") }
      if events.contains(.idle) {
        guard runs.count == steps else {
          throw TestbenchError("accelerator: DONE after \(runs.count) of \(steps) tokens")
        }
        break
      }
    }
    // The host's view: the tokens read from TOKEN (tagged with their stream) are the ones the ARGMAXes produced.
    let read = harness.hostTokens
    let produced = runs.flatMap { r in r.nexts.enumerated().map { $0 << AcceleratorConfig.tokenBits | $1 } }
    guard read == produced else {
      throw TestbenchError("accelerator: the host read \(read) from TOKEN, the ARGMAX produced \(produced)")
    }
    return runs
  }
}

extension AcceleratorHarness.ControlMap {
  /// `mmfree_csr`'s map (docs/control-registers.md).
  static let mmfree = Self(
    prompt: AcceleratorCSRRegister.prompt.rawValue, token: AcceleratorCSRRegister.token.rawValue,
    irqStatus: AcceleratorCSRRegister.irqStatus.rawValue, error: AcceleratorCSRRegister.error.rawValue,
    errorAddressLow: AcceleratorCSRRegister.errorAddressLow.rawValue,
    errorAddressHigh: AcceleratorCSRRegister.errorAddressHigh.rawValue, irqDoneBit: AcceleratorCSRBit.irqDone,
    irqErrorBit: AcceleratorCSRBit.irqError, irqTokenBit: AcceleratorCSRBit.irqToken,
    tokenValidBit: AcceleratorCSRBit.tokenValid)
}

extension FixedPointModel.Trace {
  /// The golden values a checkpoint carries.
  public func values(at checkpoint: AcceleratorProgram.Checkpoint) -> [Int32] {
    switch checkpoint {
    case .mixerOutput(let l): mixerOutputs[l]
    case .layerOutput(let l): layerOutputs[l]
    case .finalNorm: finalNormOutput
    case .logits: logits
    }
  }
}

extension FixedPointWeights {
  /// A vector of the program's memory map.
  func vector(_ v: AcceleratorProgram.Vector) -> [Int32] {
    switch v {
    case .attnNorm(let l): return layers[l].attnNorm
    case .gNorm(let l): return layers[l].gNorm
    case .mlpNorm(let l): return layers[l].mlpNorm
    case .lowerBound(let l): return layers[l].lowerBound
    case .projectionGamma(let l, let p): return layers[l].projection(p).gamma
    case .finalNorm: return finalNorm
    case .lmHeadGamma: return lmHead.gamma
    }
  }
}
