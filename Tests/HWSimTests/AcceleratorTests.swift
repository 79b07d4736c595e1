import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import HWTools
import Testing

/// Builds the accelerator's unit libraries once at a time (parallel tests
/// would race to build the same cache entries).
enum AcceleratorModels {
  private static let lock = NSLock()

  static func locked<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }

  static func simulation(
    _ model: ModelConfig, seed: UInt64, lanes: Int = 16, device: String = "d5005", layers: Int? = nil,
    packing: WeightPacking = .planes, streams: Int = 1
  ) throws -> (AcceleratorSimulation, DeviceProfile) {
    lock.lock()
    defer { lock.unlock() }
    let profile = try DeviceProfile.named(device)
    let config = AcceleratorConfig(lanes: lanes, weightPacking: packing, streams: streams)
    let sim = try AcceleratorSimulation(
      weights: ModelWeights.synthetic(model, seed: seed), config: config,
      profile: profile, clockMHz: profile.defaultClockMHz, layers: layers)
    return (sim, profile)
  }
}

@Suite("Accelerator: whole tokens through the RTL units against the golden model")
struct AcceleratorTests {
  static let tiny96 = ModelConfig(name: "tiny-96", hiddenSize: 96, layers: 3, vocabSize: 300)

  @Test("tiny models end to end through mmfree_accel, bit-exact on every element of every token, greedy generation in hardware (128 lanes: results handed to the rescale unit 64 at a time)",
        arguments: [(UInt64(1), 16, ModelConfig.tiny), (UInt64(2), 16, .tiny), (UInt64(3), 8, .tiny), (UInt64(4), 16, tiny96),
                    (UInt64(5), 128, .tiny)])
  func tinyEndToEnd(seed: UInt64, lanes: Int, model: ModelConfig) throws {
    let (sim, profile) = try AcceleratorModels.simulation(model, seed: seed, lanes: lanes)
    let prompt = [Int(seed * 7) % model.vocabSize, 3]
    let report = try AcceleratorRunner.run(
      sim, prompt: prompt, tokens: 4, seed: seed, device: profile, clockMHz: profile.defaultClockMHz)
    let context = "seed \(seed), lanes \(lanes), \(model.name)"
    #expect(report.firstMismatch == nil, "\(context): \(report.firstMismatch.map(\.description) ?? "")")
    #expect(report.mismatches == 0)
    // Every element: per layer the mixer and block outputs (D each), the final norm, the logits.
    let perToken = model.layers * 2 * model.hiddenSize + model.hiddenSize + model.vocabSize
    #expect(report.elementsCompared == perToken * report.tokens, "\(context)")
    var golden = FixedPointModel(weights: ModelWeights.synthetic(model, seed: seed))
    #expect(report.generated == golden.generate(prompt: prompt, tokens: 4), "\(context)")
    #expect(report.inputs == prompt + report.generated.dropLast(), "\(context)")
    #expect(report.tokens == 5 && !report.extrapolated)
  }

  @Test("base-3 weights end to end: bit-exact on every element of every token, each matrix read as 4/5 of its core beats in memory beats",
        arguments: [(UInt64(1), 16, ModelConfig.tiny), (UInt64(2), 2, .tiny), (UInt64(3), 8, .tiny), (UInt64(4), 16, tiny96)])
  func base3EndToEnd(seed: UInt64, lanes: Int, model: ModelConfig) throws {
    let (sim, profile) = try AcceleratorModels.simulation(model, seed: seed, lanes: lanes, packing: .base3)
    let prompt = [Int(seed * 11) % model.vocabSize, 5]
    let report = try AcceleratorRunner.run(
      sim, prompt: prompt, tokens: 3, seed: seed, device: profile, clockMHz: profile.defaultClockMHz)
    let context = "seed \(seed), lanes \(lanes), \(model.name), base3"
    #expect(report.firstMismatch == nil, "\(context): \(report.firstMismatch.map(\.description) ?? "")")
    let perToken = model.layers * 2 * model.hiddenSize + model.hiddenSize + model.vocabSize
    #expect(report.elementsCompared == perToken * report.tokens, "\(context)")
    var golden = FixedPointModel(weights: ModelWeights.synthetic(model, seed: seed))
    #expect(report.generated == golden.generate(prompt: prompt, tokens: 3), "\(context)")
    // Core beats as with planes; memory beats ceil(4/5 of them) per matrix, and only those moved.
    let config = sim.program.config
    var coreBeats = 0, memoryBeats = 0
    for m in sim.program.matrixOrder {
      let s = model.shape(of: m.projection)
      let beats = (s.rows + lanes - 1) / lanes * ((s.cols + 63) / 64)
      coreBeats += beats
      memoryBeats += (4 * beats + 4) / 5
      #expect(config.memoryBeats(coreBeats: beats) == (4 * beats + 4) / 5, "\(context)")
    }
    #expect(report.activity[.weightBeats] == report.tokens * coreBeats, "\(context)")
    #expect(report.activity[.weightFIFOWrites] == report.tokens * memoryBeats, "\(context)")
    #expect(report.activity.weightBytes == report.tokens * memoryBeats * config.weightBeatBytes, "\(context)")
  }

  @Test("several streams: each its own prompt (of its own length), MLGRU state and tokens, bit-exact against its own golden model on every element of every token; every weight beat read once for all of them",
        arguments: [(UInt64(1), 16, 2, WeightPacking.planes), (UInt64(2), 8, 3, .planes), (UInt64(3), 16, 4, .base3),
                    (UInt64(4), 2, 2, .planes), (UInt64(5), 128, 2, .planes)])
  func streams(seed: UInt64, lanes: Int, streams: Int, packing: WeightPacking) throws {
    let model = ModelConfig.tiny
    let (sim, profile) = try AcceleratorModels.simulation(model, seed: seed, lanes: lanes, packing: packing, streams: streams)
    var random = SeededRandom(seed: seed)
    let prompts = (0..<streams).map { s in (0..<(1 + s % 3)).map { _ in Int(random.next() % UInt64(model.vocabSize)) } }
    let tokens = 3
    let report = try AcceleratorRunner.run(
      sim, prompts: prompts, tokens: tokens, seed: seed, device: profile, clockMHz: profile.defaultClockMHz)
    let context = "seed \(seed), lanes \(lanes), \(streams) streams, \(packing), prompts \(prompts)"
    #expect(report.firstMismatch == nil, "\(context): \(report.firstMismatch.map(\.description) ?? "")")
    let steps = prompts.map(\.count).max()! + tokens - 1
    #expect(report.steps == steps && report.tokens == steps * streams, "\(context)")
    let perToken = model.layers * 2 * model.hiddenSize + model.hiddenSize + model.vocabSize
    #expect(report.elementsCompared == perToken * report.tokens, "\(context)")
    #expect(report.streamTokens.count == streams, "\(context)")
    for (s, prompt) in prompts.enumerated() {
      var golden = FixedPointModel(weights: ModelWeights.synthetic(model, seed: seed))
      let expected = golden.generate(prompt: prompt, tokens: steps - prompt.count + 1)
      #expect(report.streamTokens[s].generated == expected, "\(context): stream \(s)")
    }
    // One pass over the weights a step, whatever the number of streams.
    let coreBeats = sim.program.matrixOrder.reduce(0) { sum, m in
      let shape = model.shape(of: m.projection)
      return sum + (shape.rows + lanes - 1) / lanes * ((shape.cols + 63) / 64)
    }
    #expect(report.activity[.weightBeats] == steps * coreBeats, "\(context)")
    #expect(
      report.activity.weightBytes == steps * sim.program.segments.filter(\.striped).reduce(0) { $0 + $1.bytes }, "\(context)")
  }

  @Test("370m-shaped single layer: one layer cycle-accurate, then final norm, lm_head and argmax; the rest extrapolated and labelled")
  func singleLayer370m() throws {
    let (sim, profile) = try AcceleratorModels.simulation(.m370, seed: 5, layers: 1)
    let report = try AcceleratorRunner.run(sim, prompt: [17], tokens: 1, seed: 5, device: profile, clockMHz: profile.defaultClockMHz)
    #expect(report.firstMismatch == nil, "\(report.firstMismatch.map(\.description) ?? "")")
    #expect(report.extrapolated && report.layersSimulated == 1 && report.layers == 24)
    #expect(report.cycles.total > 10 * report.measuredCycles.total / 2)
    // The memory moved exactly what the one-layer program reads: layer 0's
    // weights (whole row groups, 2 bits a weight), the lm_head's, and the
    // vectors (each in whole 64-byte bursts); the layers not simulated add
    // layer 0's bytes each.
    let c = ModelConfig.m370
    func bursts(_ n: Int) -> Int { (4 * n + 63) / 64 * 64 }
    let layerVectors = 9 * bursts(c.hiddenSize) + bursts(c.intermediateSize)
    let layerBytes = c.ternaryWeightsPerLayer / 4 + layerVectors
    // Two layer-0 loads (the prologue's and the next token's, prefetched
    // under the lm_head), the embedding row, the final norm and lm_head gammas.
    let moved = c.ternaryWeightsPerLayer / 4 + c.lmHeadWeights / 4 + 2 * layerVectors + 3 * bursts(c.hiddenSize)
    #expect(report.activity.weightBytes + report.activity.vectorBytes == moved)
    #expect(report.bytes == moved + 23 * layerBytes)
    // DDR4 cannot keep 16 lanes busy: the core waits for weights, and the
    // RTL's beat counter saw every beat the memory delivered.
    #expect(report.activity[.weightStallCycles] > 0)
    #expect(report.activity[.weightBeats] * AcceleratorConfig().weightBeatBytes == report.activity.weightBytes)
  }

  @Test("report numbers are consistent: tokens/s from cycles, roofline from bytes, breakdown sums to the counted cycles")
  func reportConsistency() throws {
    let (sim, profile) = try AcceleratorModels.simulation(.tiny, seed: 9)
    let report = try AcceleratorRunner.run(sim, prompt: [5], tokens: 3, seed: 9, device: profile, clockMHz: 250)
    let c = report.cycles
    #expect(c.matrix + c.elementwise + c.stalls + c.control == c.total)
    #expect(c.total == report.activity[.cycles])
    #expect([c.matrix, c.elementwise, c.stalls, c.control].allSatisfy { $0 >= 0 })
    #expect(report.cycles == report.measuredCycles)
    #expect(abs(report.tokensPerSecond - 250e6 / report.cyclesPerToken) < 1e-6 * report.tokensPerSecond)
    #expect(abs(report.rooflineTokensPerSecond - profile.memory.usableGBps * 1e9 / report.bytesPerToken) < 1e-6 * report.rooflineTokensPerSecond)
    #expect(abs(report.rooflineFraction - report.tokensPerSecond / report.rooflineTokensPerSecond) < 1e-12)
    #expect(report.activity.weightBytes + report.activity.vectorBytes == report.bytes)
    // Every weight beat of every token, as the program lists them, went through the core once.
    let beatsPerToken = sim.program.matrixOrder.reduce(0) { sum, m in
      let s = ModelConfig.tiny.shape(of: m.projection)
      return sum + (s.rows + 15) / 16 * ((s.cols + 63) / 64)
    }
    #expect(report.activity[.weightBeats] == 3 * beatsPerToken)
    #expect(report.activity[.weightFIFOWrites] == report.activity[.weightBeats])
    #expect(report.activity[.instructions] > 0 && report.activity[.checkpointCycles] > 0)
    // Deterministic JSON.
    let json = try report.json()
    let decoded = try JSONDecoder().decode(SimulationReport.self, from: json)
    #expect(try decoded.json() == json)
  }

  @Test("checkpoints cost no simulated time: the same cycles, counters and bytes with and without them")
  func checkpointsAreFree() throws {
    let profile = try DeviceProfile.named("d5005")
    let weights = ModelWeights.synthetic(.tiny, seed: 11)
    var results: [[TokenRun]] = []
    for checkpoints in [true, false] {
      let sim = try AcceleratorModels.locked {
        try AcceleratorSimulation(
          weights: weights, config: AcceleratorConfig(lanes: 16), profile: profile, clockMHz: 300, checkpoints: checkpoints)
      }
      results.append(try sim.run(prompt: [3, 4], tokens: 2))
    }
    let (with, without) = (results[0], results[1])
    #expect(with.map(\.next) == without.map(\.next))
    #expect(with.map(\.measured) == without.map(\.measured))
    #expect(with.map(\.bytes) == without.map(\.bytes))
    #expect(with.allSatisfy { $0.compared > 0 } && without.allSatisfy { $0.compared == 0 })
    for (a, b) in zip(with, without) {
      for counter in AcceleratorCounter.allCases where ![.checkpointCycles, .scratchpadReadBeats, .instructions].contains(counter) {
        #expect(a.activity[counter] == b.activity[counter], "\(counter)")
      }
    }
  }

  @Test("the memory model answers every port's bursts at the DRAM channels' rate after their latency")
  func memoryBandwidth() throws {
    let (sim, _) = try AcceleratorModels.simulation(.tiny, seed: 1)
    let config = sim.config
    let spec = OffChipMemory(profile: try DeviceProfile.named("d5005"), clockMHz: 300, config: config)
    let matrix = PackedTernary.random(rows: 256, cols: 1024, beta: 0.02, rng: SeededRandom(seed: 1))
    let beats = spec.beats(of: matrix)
    // Port p's beat i: lanes 4p ..< 4p + 4 of core beat i, a (non-zero, negative) word pair each, little-endian.
    let ports = (0..<4).map { p in
      (0..<beats).flatMap { i -> [UInt8] in
        let (group, chunk) = i.quotientAndRemainder(dividingBy: matrix.wordsPerRow)
        return (0..<4).flatMap { r -> [UInt8] in
          let at = 2 * ((group * 16 + 4 * p + r) * matrix.wordsPerRow + chunk)
          return [matrix.planes[at], matrix.planes[at + 1]].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        }
      }
    }
    let memory = try sim.memoryModel(images: ports)
    #expect(spec.ports == 4 && spec.portBeatBytes == 64)
    // Every port reads its slice of every beat, in 16-beat bursts, all accepted up front.
    var queued = [Int](repeating: 0, count: spec.ports)
    var taken = [Int](repeating: 0, count: spec.ports)
    var words = [UInt64](repeating: 0, count: 8)
    var beatsSeen = [[UInt64]](repeating: [], count: spec.ports)
    while taken.reduce(0, +) < beats * spec.ports {
      for p in 0..<spec.ports where queued[p] < beats && memory.acceptsBurst(port: p) {
        let n = min(16, beats - queued[p])
        memory.acceptBurst(port: p, address: queued[p] * spec.portBeatBytes, beats: n)
        queued[p] += n
      }
      for p in 0..<spec.ports where memory.beatAvailable(port: p) {
        let beat = memory.nextBeat(port: p)
        #expect(beat.last == ((taken[p] + 1) % 16 == 0 || taken[p] + 1 == beats))
        #expect(words.withUnsafeMutableBufferPointer { memory.readBeat(port: p, address: beat.address, into: $0.baseAddress!) })
        words.withUnsafeBufferPointer { memory.takeBeat(port: p, words: $0.baseAddress!) }
        beatsSeen[p] += words
        taken[p] += 1
      }
      memory.tick()
    }
    // One DDR4 channel a port: a 64 B beat a cycle at 300 MHz is the channel's peak, so the
    // DRAM sets the pace: no faster than the peak, no slower than the usable rate (a refresh
    // or none falls into so short a run), after the closed-row latency.
    let bytes = Double(beats * config.weightBeatBytes)
    let fastest = bytes / (spec.bytesPerCycle / spec.profile.memory.usableFraction) + Double(spec.latencyCycles)
    let slowest = bytes / spec.bytesPerCycle + Double(spec.latencyCycles) + 2
    #expect(Double(memory.cycles) >= fastest - 2 && Double(memory.cycles) <= slowest, "\(memory.cycles) cycles, \(fastest) ... \(slowest)")
    #expect(memory.weightBytes == beats * config.weightBeatBytes)
    #expect(memory.nonZeroWeights == matrix.planes.enumerated().filter { $0.offset % 2 == 0 }.reduce(0) { $0 + $1.element.nonzeroBitCount })
    // Port p's beat i is lanes 4p..<4p+4 of core beat i: row group i / words, 64-column word i % words.
    for p in 0..<spec.ports {
      for i in [0, 1, beats / 2, beats - 1] {
        let (group, chunk) = i.quotientAndRemainder(dividingBy: matrix.wordsPerRow)
        for r in 0..<4 {
          let row = group * 16 + 4 * p + r
          #expect(beatsSeen[p][8 * i + 2 * r] == matrix.planes[2 * (row * matrix.wordsPerRow + chunk)])
          #expect(beatsSeen[p][8 * i + 2 * r + 1] == matrix.planes[2 * (row * matrix.wordsPerRow + chunk) + 1])
        }
      }
    }
    // An address past the matrix is no memory.
    #expect(!words.withUnsafeMutableBufferPointer { memory.readBeat(port: 0, address: beats * 64, into: $0.baseAddress!) })
  }

  @Test("vector unit: saturating adds and argmax with ties and padding lanes, against Fixed.add and argmax")
  func vectorUnit() throws {
    let unit = try VectorUnitSimulation(lanes: 16)
    var rng = SeededRandom(seed: 4)
    for n in [1, 15, 16, 17, 100] {
      let corners: [Int32] = [.max, .min, -1, 0, 1]
      let a = (0..<n).map { i in i < 5 ? corners[i] : Int32(truncatingIfNeeded: rng.next()) }
      let b = (0..<n).map { i in i < 5 ? corners[4 - i] : Int32(truncatingIfNeeded: rng.next()) }
      let sum = try unit.run(argmax: false, a, b)
      #expect(sum.values == (0..<n).map { Fixed.add(a[$0], b[$0]) }, "n \(n)")
      var logits = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next() % 7) }
      if n > 3 { logits[n - 1] = logits.max()! }  // a tie: the lower index wins
      let am = try unit.run(argmax: true, logits)
      #expect(am.index == FixedPointModel.argmax(logits) && am.max == logits.max()!, "n \(n)")
    }
  }

  @Test("vector unit RTL: verilator -Wall clean and iverilog silent", arguments: [16, 3, 1])
  func vectorUnitGates(lanes: Int) throws {
    let (design, files) = try VectorUnitGenerator.files(VectorUnitConfig(lanes: lanes))
    let gate = RTLGates.Files(top: design.top.name, sources: files)
    #expect(try RTLGates.verilatorLint(gate) == [], "lanes \(lanes)")
    #expect(try RTLGates.iverilogCompile(gate).filter { !$0.contains("sorry:") } == [], "lanes \(lanes)")
  }

  @Test("accelerator top RTL: verilator -Wall clean and iverilog silent", arguments: [16, 4])
  func acceleratorGates(lanes: Int) throws {
    let (design, files) = try AcceleratorGenerator.files(AcceleratorConfig(lanes: lanes))
    let gate = RTLGates.Files(top: design.top.name, sources: files)
    #expect(try RTLGates.verilatorLint(gate) == [], "lanes \(lanes)")
    #expect(try RTLGates.iverilogCompile(gate).filter { !$0.contains("sorry:") } == [], "lanes \(lanes)")
  }

  @Test("programs: every preset fits the default accelerator; encoding round-trips; a model too big is refused in one line")
  func programs() throws {
    for model in ModelConfig.presets {
      let program = try AcceleratorProgram(model: model, config: AcceleratorConfig(), betas: { _, _ in Scale(0.03) })
      #expect(program.instructions.count <= AcceleratorConfig.defaultProgramDepth, "\(model.name)")
      #expect(program.matrixOrder.count == 6 * model.layers + 1)
      for i in program.instructions {
        let (low, high) = i.encoded
        #expect(AcceleratorInstruction(low: low, high: high) == i)
      }
      // What lies in one port's space does not overlap; every port carries the vectors'
      // stripes, evenly, each a whole burst of the vector port at most.
      let config = AcceleratorConfig()
      let ports = config.memoryPorts
      let vectors = program.segments.filter { if case .vector = $0.data { true } else { false } }
      let pieces = vectors.flatMap { $0.stripes(ports: ports) }
      for port in 0..<ports {
        let whole = program.segments.filter { $0.striped || ($0.stripeBytes == 0 && $0.port == port) }
          .map { (address: $0.address, bytes: $0.span) }
        let mine = (whole + pieces.filter { $0.port == port }.map { ($0.address, $0.bytes) }).sorted { $0.address < $1.address }
        for (a, b) in zip(mine, mine.dropFirst()) { #expect(a.address + a.bytes <= b.address, "\(model.name) port \(port)") }
      }
      let perPort = (0..<ports).map { p in pieces.filter { $0.port == p }.count }
      #expect(perPort.max()! - perPort.min()! <= 1, "\(model.name): stripes per port \(perPort)")
      #expect(pieces.allSatisfy { $0.bytes <= config.vectorStripeBytes && $0.address % config.vectorStripeBytes == 0 })
      #expect(vectors.allSatisfy { $0.busAddress == $0.port << config.vectorPortShift | $0.address })
      #expect(vectors.map { $0.stripes(ports: ports).reduce(0) { $0 + $1.bytes } } == vectors.map(\.bytes))
      // The embedding comes last, in port 0 alone: nothing lies above it, so it pads no other
      // port's space (a 1.3B image for the U280's 32 ports grew to 16 GB when it did).
      let embedding = try #require(program.segments.first { $0.data == .embedding })
      #expect(program.segments.allSatisfy { $0.data == .embedding || $0.address + $0.span <= embedding.address })
    }
    let small = AcceleratorConfig(scratchpadElements: 4096)
    #expect(throws: AcceleratorProgram.Invalid.self) {
      try AcceleratorProgram(model: .b1_3, config: small, betas: { _, _ in Scale(0.03) })
    }
    // The h memory keeps D a layer, not the GLU's I: 2.7B's 2560 fits the default, not a 2048 one.
    #expect(AcceleratorConfig().mlgru.stateLength == ModelConfig.b2_7.hiddenSize)
    #expect(AcceleratorConfig().mlgru.maxHidden == ModelConfig.b2_7.intermediateSize)
    #expect(AcceleratorConfig.fitting(.b1_3).maxStateLength == 2048)
    let shortH = AcceleratorConfig(maxStateLength: 2048)
    #expect(throws: Never.self) { try shortH.validate(for: .b1_3) }
    #expect(throws: AcceleratorConfig.Invalid.self) { try shortH.validate(for: .b2_7) }
    do { try shortH.validate(for: .b2_7) } catch { #expect("\(error)" == "model 2.7b has D = 2560; the h memory holds 2048 a layer") }
  }

  @Test("mat-vec datapath RTL (core wired into rescale): verilator -Wall clean and iverilog silent", arguments: [16, 3])
  func matVecDatapathGates(lanes: Int) throws {
    let (design, files) = try MatVecDatapathGenerator.files(AcceleratorConfig(lanes: lanes))
    let gate = RTLGates.Files(top: design.top.name, sources: files)
    #expect(try RTLGates.verilatorLint(gate) == [], "lanes \(lanes)")
    #expect(try RTLGates.iverilogCompile(gate).filter { !$0.contains("sorry:") } == [], "lanes \(lanes)")
  }
}
