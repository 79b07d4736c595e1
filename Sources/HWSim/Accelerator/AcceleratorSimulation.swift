import Foundation
import HWGenerators
import HWGolden
import HWSpec

/// Where a token's cycles went. Every simulated cycle is in exactly one bucket.
public struct CycleBreakdown: Hashable, Sendable, Codable {
  /// The ternary core taking weight beats, and draining its pipeline.
  public var matrix = 0
  /// The element-wise units: norm and quantize, rescale, MLGRU, vector unit.
  public var elementwise = 0
  /// Waiting for off-chip memory: the weight FIFO empty while the core wants
  /// a beat, or a vector operand not yet arrived.
  public var stalls = 0
  public var total: Int { matrix + elementwise + stalls }

  public static func + (a: Self, b: Self) -> Self {
    CycleBreakdown(matrix: a.matrix + b.matrix, elementwise: a.elementwise + b.elementwise, stalls: a.stalls + b.stalls)
  }
  public func scaled(_ f: Double) -> Self {
    CycleBreakdown(matrix: Int((Double(matrix) * f).rounded()), elementwise: Int((Double(elementwise) * f).rounded()),
                   stalls: Int((Double(stalls) * f).rounded()))
  }
}

/// Busy cycles of each unit and traffic, counted while the token ran.
public struct UnitCounters: Hashable, Sendable, Codable {
  public var coreBeats = 0
  public var normCycles = 0
  public var rescaleCycles = 0
  public var mlgruCycles = 0
  public var vectorCycles = 0
  public var weightStallCycles = 0
  public var vectorWaitCycles = 0
  public var weightBytes = 0
  public var vectorBytes = 0
  /// The same two counts as the RTL's performance counters see them
  /// (`matvec_datapath` perf_beats_o / perf_stalls_o; nil without it).
  public var rtlCoreBeats: Int? = nil
  public var rtlWeightStallCycles: Int? = nil
}

/// The first element where the RTL and the golden model differ.
public struct TokenMismatch: Hashable, Sendable, Codable, CustomStringConvertible {
  public var token: Int
  public var stage: String
  public var layer: Int?
  public var element: Int
  public var rtl: Int64
  public var golden: Int64
  public var description: String {
    "token \(token), \(layer.map { "layer \($0), " } ?? "")\(stage), element \(element): RTL \(rtl), golden \(golden)"
  }
}

/// One token through the accelerator.
public struct TokenRun: Sendable {
  public var input: Int
  /// The argmax the hardware produced (nil when the last layers were not simulated).
  public var next: Int
  public var goldenNext: Int
  /// Cycles of the simulated part (layers 0..<K, embedding, final norm, lm_head, argmax).
  public var measured: CycleBreakdown
  /// The same, with the unsimulated layers extrapolated from the simulated ones.
  public var estimated: CycleBreakdown
  public var counters: UnitCounters
  /// Bytes per token, off-chip, measured (extrapolated for unsimulated layers).
  public var bytes: Int
  public var mismatch: TokenMismatch?
  /// Elements compared with the golden model.
  public var compared: Int
  /// Wall time of the RTL simulation and of the golden model for this token.
  public var simulationSeconds: Double
  public var goldenSeconds: Double
}

/// The accelerator's datapath units, Verilated and driven by a sequencer that
/// runs the per-token schedule, with the off-chip memory model feeding the
/// ternary core's weight stream and the vector operands.
///
/// Every value of the token is computed by RTL: the embedding row comes from
/// the memory, norms and quantization from `norm_unit`, mat-vecs from
/// `ternary_core`, rescales from `rescale_unit`, the recurrence and SiLU
/// gating from `mlgru_unit` (its on-chip h memory carries the state across
/// tokens), residual adds and argmax from `vector_unit`. Each vector is checked
/// against `FixedPointModel.stepTraced`.
///
/// The sequencer is the harness itself (the schedule runs one operation after
/// another, each on its own unit model; the memory model keeps running through
/// the element-wise operations, filling the weight FIFO). A hardware
/// sequencer in one top module is not built yet.
public final class AcceleratorSimulation {
  public let config: AcceleratorConfig
  public let model: ModelConfig
  public let weights: FixedPointWeights
  public let memory: OffChipMemory
  public let layersSimulated: Int
  public private(set) var golden: FixedPointModel
  let core: VerilatedModel
  let norm: NormUnitSimulation
  let rescale: RescaleUnitSimulation
  let mlgru: MLGRUUnitSimulation
  let vector: VectorUnitSimulation
  let layout: TernaryCoreLayout
  let wValid, wReady, wData, wLast, aValid, aData, resValid, resReady, resData, coreRst: PortHandle
  /// Core and rescale unit in one RTL module (`matvec_datapath`) when the
  /// element lanes equal the core lanes; otherwise the core alone, its
  /// accumulators rescaled in a pass of their own.
  public let fused: Bool
  let scaleMantissa, scaleExponent, groupsPort, perfBeats, perfStalls: PortHandle?
  private var position = 0
  private var counters = UnitCounters()
  private var phase = CycleBreakdown()
  private var weightWords: [UInt64]
  private var layerVectorBytes = 0
  private var inLayers = false
  private var pendingVectors: [(id: Int, count: Int, bytes: Int)] = []

  public init(
    weights: ModelWeights, config: AcceleratorConfig, profile: DeviceProfile, clockMHz: Double, layers: Int? = nil,
    cache: VerilatorBuildCache = VerilatorBuildCache()
  ) throws {
    try config.validate(for: weights.config)
    self.config = config
    model = weights.config
    layersSimulated = layers.map { min(max(1, $0), weights.config.layers) } ?? weights.config.layers
    self.weights = FixedPointWeights(weights)
    golden = FixedPointModel(weights: self.weights)
    memory = OffChipMemory(profile: profile, clockMHz: clockMHz, config: config)
    layout = TernaryCoreLayout(config.core)
    fused = config.lanes == config.elementLanes
    if fused {
      let (design, files) = try MatVecDatapathGenerator.files(config)
      core = try VerilatedModel(library: cache.library(for: VerilatorBuildSpec(design: design, sources: files)))
    } else {
      let bundle = try RTLBundle(config: config.core)
      core = try VerilatedModel(library: cache.library(for: VerilatorBuildSpec(bundle: bundle)))
    }
    norm = try NormUnitSimulation(config: config.norm, cache: cache)
    rescale = try RescaleUnitSimulation(config: config.norm, cache: cache)
    mlgru = try MLGRUUnitSimulation(config: config.mlgru, cache: cache)
    vector = try VectorUnitSimulation(lanes: config.elementLanes, cache: cache)
    coreRst = try core.port("rst_ni")
    wValid = try core.port("w_valid_i")
    wReady = try core.port("w_ready_o")
    wData = try core.port("w_data_i")
    wLast = try core.port("w_last_i")
    aValid = try core.port("a_valid_i")
    aData = try core.port("a_data_i")
    resValid = try core.port(fused ? "y_valid_o" : "res_valid_o")
    resReady = try core.port(fused ? "y_ready_i" : "res_ready_i")
    resData = try core.port(fused ? "y_data_o" : "res_data_o")
    scaleMantissa = fused ? try core.port("scale_mantissa_i") : nil
    scaleExponent = fused ? try core.port("scale_exponent_i") : nil
    groupsPort = fused ? try core.port("groups_i") : nil
    perfBeats = fused ? try core.port("perf_beats_o") : nil
    perfStalls = fused ? try core.port("perf_stalls_o") : nil
    weightWords = [UInt64](repeating: 0, count: 2 * config.lanes)
    core.set(wValid, 0)
    core.set(aValid, 0)
    core.set(resReady, 0)
    core.set(coreRst, 0)
    try core.eval()
    try core.step(2)
    core.set(coreRst, 1)
    try core.eval()
  }

  /// Weight matrices of one token in the order the schedule uses them.
  func tokenMatrices() -> [PackedTernary] {
    var list: [PackedTernary] = []
    for l in 0..<layersSimulated {
      let layer = weights.layers[l]
      list += [layer.f.weight, layer.i.weight, layer.g.weight, layer.o.weight, layer.gate.weight, layer.down.weight]
    }
    list.append(weights.lmHead.weight)
    return list
  }

  // MARK: Operations

  /// Advances everything but the unit that just ran by `cycles` element-wise cycles.
  private func elementwise(_ cycles: Int) {
    memory.advance(cycles)
    phase.elementwise += cycles
  }

  /// Issues the vector reads of a schedule segment ahead of use: the
  /// sequencer knows the program, so it requests a layer's gammas and lower
  /// bound (into the scratchpad) while the previous layer runs.
  private func prefetch(_ lengths: [Int]) {
    for n in lengths {
      let id = memory.requestVector(bytes: 4 * n)
      let bytes = (4 * n + memory.burstBytes - 1) / memory.burstBytes * memory.burstBytes
      pendingVectors.append((id, n, bytes))
    }
  }

  /// The vector reads of layer `l` in the order the schedule uses them.
  private func layerVectors(_ l: Int) -> [Int] {
    let d = model.hiddenSize
    return [d, d, d, d, d, d, d, d, d, model.intermediateSize]
  }

  /// Waits until the next prefetched vector operand (of `count` elements) is in the scratchpad.
  private func fetchVector(_ count: Int) {
    precondition(!pendingVectors.isEmpty && pendingVectors[0].count == count, "vector schedule out of order")
    let (id, _, bytes) = pendingVectors.removeFirst()
    if inLayers { layerVectorBytes += bytes }
    while !memory.arrived(id) {
      memory.tick()
      phase.stalls += 1
      counters.vectorWaitCycles += 1
    }
  }

  private func runNorm(_ x: [Int32], gamma: [Int32]) throws -> [Int32] {
    fetchVector(gamma.count)
    let run = try norm.bench.run([NormJob(mode: .norm, x: x, gamma: gamma)])
    counters.normCycles += run.cycles
    elementwise(run.cycles)
    return run.results[0].values
  }

  /// A BitLinear: quantize (norm unit), ternary mat-vec (core, weights from
  /// memory), rescale (rescale unit).
  private func runBitLinear(_ x: [Int32], _ p: FixedBitLinear) throws -> [Int32] {
    fetchVector(p.gamma.count)
    let quant = try norm.bench.run([NormJob(mode: .quantize, x: x, gamma: p.gamma, beta: p.beta)])
    counters.normCycles += quant.cycles
    elementwise(quant.cycles)
    let q = quant.results[0].values.map { Int8(truncatingIfNeeded: $0) }
    let scale = quant.results[0].scale
    let acc = try matVec(p.weight, q, scale: scale)
    if fused { return acc.map { Int32(truncatingIfNeeded: $0) } }
    let scaled = try rescale.bench.run([RescaleJob(accumulators: acc, scale: scale)])
    counters.rescaleCycles += scaled.cycles
    elementwise(scaled.cycles)
    return scaled.outputs[0]
  }

  /// Streams one matrix's beats from the weight FIFO through the core against
  /// the activation buffer, collecting the accumulators.
  /// With the fused datapath the results are the rescaled Q15.16 values.
  private func matVec(_ m: PackedTernary, _ q: [Int8], scale: Scale) throws -> [Int64] {
    precondition(q.count == m.cols)
    let acts = layout.activationBeats(q)
    let aWords = layout.activationWordsPerBeat
    let chunks = m.wordsPerRow
    let groups = (m.rows + config.lanes - 1) / config.lanes
    let total = groups * chunks
    var taken = 0
    var present = false
    var results: [Int64] = []
    results.reserveCapacity(groups * config.lanes)
    var resultWords = [UInt32](repeating: 0, count: fused ? config.lanes : layout.resultWordsPerBeat)
    var shownChunk = -1
    if let scaleMantissa, let scaleExponent, let groupsPort {
      core.set(scaleMantissa, UInt64(scale.mantissa))
      core.set(scaleExponent, UInt64(bitPattern: Int64(scale.exponent)))
      core.set(groupsPort, UInt64(groups))
    }
    var cycles = 0
    core.set(resReady, 1)
    try acts.withUnsafeBufferPointer { aBuf in
      while results.count < groups * config.lanes {
        if !present && taken < total && memory.weightBeatAvailable {
          let last = weightWords.withUnsafeMutableBufferPointer { memory.popWeightBeat(into: $0.baseAddress!) }
          weightWords.withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: UInt32.self, capacity: 4 * config.lanes) { core.set(wData, words: $0) }
          }
          core.set(wLast, last ? 1 : 0)
          present = true
          let chunk = taken % chunks
          if chunk != shownChunk {
            core.set(aData, words: aBuf.baseAddress! + chunk * aWords)
            shownChunk = chunk
          }
        }
        core.set(wValid, present ? 1 : 0)
        core.set(aValid, taken < total ? 1 : 0)
        try core.eval()
        let fire = present && core.get(wReady) == 1
        if core.get(resValid) == 1 {
          resultWords.withUnsafeMutableBufferPointer { core.get(resData, into: $0.baseAddress!) }
          if fused {
            for w in resultWords { results.append(Int64(Int32(bitPattern: w))) }
          } else {
            results += resultWords.withUnsafeBufferPointer { layout.decodeResult($0) }
          }
        }
        try core.step(1)
        memory.tick()
        cycles += 1
        if fire {
          taken += 1
          present = false
          phase.matrix += 1
          counters.coreBeats += 1
        } else if taken < total && !present {
          phase.stalls += 1
          counters.weightStallCycles += 1
        } else {
          phase.matrix += 1  // pipeline drain
        }
        if cycles > 1000 + 64 * total { throw TestbenchError("core: no progress after \(cycles) cycles") }
      }
    }
    core.set(wValid, 0)
    core.set(aValid, 0)
    try core.eval()
    return Array(results.prefix(m.rows))
  }

  private func add(_ a: [Int32], _ b: [Int32]) throws -> [Int32] {
    let r = try vector.run(argmax: false, a, b)
    counters.vectorCycles += r.cycles
    elementwise(r.cycles)
    return r.values
  }

  private func mlgruOp(_ op: MLGRUUnitOperation, length: Int) throws -> [Int32] {
    let run = try mlgru.bench.run([op])
    counters.mlgruCycles += run.cycles
    elementwise(run.cycles)
    return Array(run.outputs[0].prefix(length))
  }

  // MARK: Token

  /// Runs one token through the RTL and the golden model, comparing every
  /// vector the schedule produces.
  public func step(token: Int) throws -> TokenRun {
    let goldenStart = DispatchTime.now().uptimeNanoseconds
    let trace = golden.stepTraced(token: token)
    let goldenSeconds = Double(DispatchTime.now().uptimeNanoseconds - goldenStart) / 1e9
    let simStart = DispatchTime.now().uptimeNanoseconds
    layerVectorBytes = 0
    counters = UnitCounters()
    phase = CycleBreakdown()
    let perfBefore = perfBeats.map { (core.get($0), core.get(perfStalls!)) }
    let bytesBefore = (memory.weightBytes, memory.vectorBytes)
    memory.startStream(tokenMatrices())
    var mismatch: TokenMismatch?
    var compared = 0
    func check(_ stage: String, _ layer: Int?, _ rtl: [Int32], _ gold: [Int32]) {
      compared += gold.count
      guard mismatch == nil else { return }
      if rtl.count != gold.count {
        mismatch = TokenMismatch(token: position, stage: stage + " (length)", layer: layer, element: min(rtl.count, gold.count),
                                 rtl: Int64(rtl.count), golden: Int64(gold.count))
      } else if let e = gold.indices.first(where: { rtl[$0] != gold[$0] }) {
        mismatch = TokenMismatch(token: position, stage: stage, layer: layer, element: e, rtl: Int64(rtl[e]), golden: Int64(gold[e]))
      }
    }
    let d = model.hiddenSize
    // EMBED: the row from off-chip memory into the scratchpad.
    prefetch([d] + layerVectors(0))
    fetchVector(d)
    var x = weights.embedding(token: token)
    var perLayer = CycleBreakdown()
    inLayers = true
    for l in 0..<layersSimulated {
      let before = phase
      let layer = weights.layers[l]
      prefetch(l + 1 < layersSimulated ? layerVectors(l + 1) : [d, d])
      let a = try runNorm(x, gamma: layer.attnNorm)
      let yf = try runBitLinear(a, layer.f)
      let yi = try runBitLinear(a, layer.i)
      fetchVector(d)  // lower bound
      let h = try mlgruOp(.recur(layer: l, yf: yf, yi: yi, lb: layer.lowerBound, fresh: position == 0), length: d)
      let yg = try runBitLinear(a, layer.g)
      let gn = try runNorm(yg, gamma: layer.gNorm)
      let o = try mlgruOp(.siluMul(h, gn), length: d)
      let y = try runBitLinear(o, layer.o)
      check("mixer output", l, y, trace.mixerOutputs[l])
      let s = try add(y, x)
      let mm = try runNorm(s, gamma: layer.mlpNorm)
      let gu = try runBitLinear(mm, layer.gate)
      let half = gu.count / 2
      let p = try mlgruOp(.siluMul(Array(gu[..<half]), Array(gu[half...])), length: half)
      let down = try runBitLinear(p, layer.down)
      x = try add(s, down)
      check("layer output", l, x, trace.layerOutputs[l])
      let spent = CycleBreakdown(
        matrix: phase.matrix - before.matrix, elementwise: phase.elementwise - before.elementwise,
        stalls: phase.stalls - before.stalls)
      perLayer = perLayer + spent
    }
    inLayers = false
    // With layers skipped, the final norm starts from the golden residual stream.
    if layersSimulated < model.layers { x = trace.layerOutputs[model.layers - 1] }
    let finalIn = try runNorm(x, gamma: weights.finalNorm)
    check("final norm", nil, finalIn, trace.finalNormOutput)
    let logits = try runBitLinear(finalIn, weights.lmHead)
    check("logits", nil, logits, trace.logits)
    let am = try vector.run(argmax: true, logits)
    counters.vectorCycles += am.cycles
    elementwise(am.cycles)
    if mismatch == nil && am.index != trace.next {
      mismatch = TokenMismatch(token: position, stage: "argmax", layer: nil, element: 0, rtl: Int64(am.index), golden: Int64(trace.next))
    }
    if let perfBefore, let perfBeats, let perfStalls {
      counters.rtlCoreBeats = Int(UInt32(truncatingIfNeeded: core.get(perfBeats) &- perfBefore.0))
      counters.rtlWeightStallCycles = Int(UInt32(truncatingIfNeeded: core.get(perfStalls) &- perfBefore.1))
    }
    counters.weightBytes = memory.weightBytes - bytesBefore.0
    counters.vectorBytes = memory.vectorBytes - bytesBefore.1
    let measuredBytes = counters.weightBytes + counters.vectorBytes
    // Drain: the stream must be fully consumed before the next token.
    precondition(memory.consumedBeats > 0)
    var estimated = phase
    var bytes = measuredBytes
    if layersSimulated < model.layers {
      let extra = Double(model.layers - layersSimulated) / Double(layersSimulated)
      estimated = phase + perLayer.scaled(extra)
      // Bytes of the simulated layers (weights and their vectors) scale the same way.
      let simulatedLayerBytes = tokenMatrices().dropLast().reduce(layerVectorBytes) { $0 + memory.beats(of: $1) * memory.beatBytes }
      bytes = measuredBytes + Int((Double(simulatedLayerBytes) * extra).rounded())
    }
    position += 1
    return TokenRun(
      input: token, next: am.index, goldenNext: trace.next, measured: phase, estimated: estimated,
      counters: counters, bytes: bytes, mismatch: mismatch, compared: compared,
      simulationSeconds: Double(DispatchTime.now().uptimeNanoseconds - simStart) / 1e9, goldenSeconds: goldenSeconds)
  }
}
