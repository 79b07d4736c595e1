import Foundation
import HWDSL
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWTools
import HWVerilator
import Testing

/// Builds each configuration's Verilated library once per test process
/// (serialized, so parallel tests do not race to build it twice); every test
/// then loads its own model instance.
enum NormModels {
  private static let lock = NSLock()

  static func norm(_ config: NormUnitConfig) throws -> NormUnitSimulation {
    lock.lock()
    defer { lock.unlock() }
    return try NormUnitSimulation(config: config)
  }

  static func rescale(_ config: NormUnitConfig) throws -> RescaleUnitSimulation {
    lock.lock()
    defer { lock.unlock() }
    return try RescaleUnitSimulation(config: config)
  }
}

/// The norm unit configurations simulated: the default, and three lanes so
/// that every length is a non-multiple.
let normConfigs = [
  NormUnitConfig(lanes: 16),
  NormUnitConfig(lanes: 3),
]

/// Rescale configurations: the core's layout, and odd lane counts and widths.
let rescaleConfigs = [
  NormUnitConfig(lanes: 16, accumulatorWidth: 22),
  NormUnitConfig(lanes: 3, accumulatorWidth: 7),
  NormUnitConfig(lanes: 1, accumulatorWidth: 32),
]

/// Seeded vectors that cover every magnitude class of Q15.16: each vector
/// draws one amplitude (2^-8 ... the full Int32 range) and adds outliers.
enum NormWorkload {
  static func uniform(_ amplitude: Int64, _ rng: inout SeededRandom) -> Int32 {
    let span = UInt64(2 * amplitude + 1)
    return Int32(clamping: Int64(rng.next() % span) - amplitude)
  }

  static func vector(_ n: Int, _ rng: inout SeededRandom) -> [Int32] {
    let amplitudes: [Int64] = [1 << 8, 1 << 14, 1 << 16, 1 << 18, 1 << 22, 1 << 26, Int64(Int32.max)]
    let amplitude = amplitudes[Int(rng.next() % UInt64(amplitudes.count))]
    var x = (0..<n).map { _ in uniform(amplitude, &rng) }
    for _ in 0..<(n / 50) {
      x[Int(rng.next() % UInt64(n))] = uniform(Int64(Int32.max), &rng)
    }
    return x
  }

  /// Gammas near 1.0, with a few outliers up to +-1024.
  static func gamma(_ n: Int, _ rng: inout SeededRandom) -> [Int32] {
    (0..<n).map { _ in
      rng.next() % 64 == 0 ? uniform(1 << 26, &rng) : Fixed.one + uniform(1 << 15, &rng)
    }
  }

  /// A beta like a checkpoint's absmean (0.002 ... 0.25), sometimes an extreme one.
  static func beta(_ rng: inout SeededRandom) -> Scale {
    switch rng.next() % 8 {
    case 0: return Scale(mantissa: UInt32(truncatingIfNeeded: rng.next()) | 1 << 31, exponent: -200 + Int(rng.next() % 300))
    default: return Scale(0.002 + Double(rng.next() % 1000) / 4000)
    }
  }

  static func job(_ mode: NormMode, _ n: Int, _ rng: inout SeededRandom) -> NormJob {
    NormJob(mode: mode, x: vector(n, &rng), gamma: gamma(n, &rng), beta: beta(&rng))
  }
}

@Suite struct NormUnitTests {
  static func lengths(_ config: NormUnitConfig) -> [Int] {
    [1, 7, config.lanes, config.lanes + 1, 100, 2560, 6912]
  }

  @Test(arguments: normConfigs)
  func randomVectorsWithStallsMatchGolden(config: NormUnitConfig) throws {
    let sim = try NormModels.norm(config)
    for seed: UInt64 in [101, 102] {
      var rng = SeededRandom(seed: seed)
      var jobs: [NormJob] = []
      for n in Self.lengths(config) {
        jobs.append(NormWorkload.job(.norm, n, &rng))
        jobs.append(NormWorkload.job(.quantize, n, &rng))
      }
      // Padding lanes carry noise: the unit must ignore everything past the length.
      let run = try sim.bench.run(jobs, stalls: .heavy, seed: seed, noisyPadding: true)
      try NormUnitCheck.compare(run, jobs, config: config, seed: seed)
    }
  }

  @Test(arguments: normConfigs)
  func backToBackLengthsAndModes(config: NormUnitConfig) throws {
    let sim = try NormModels.norm(config)
    let seed: UInt64 = 201
    var rng = SeededRandom(seed: seed)
    let plan: [(NormMode, Int)] = [
      (.norm, 2560), (.quantize, 2560), (.quantize, 7), (.norm, 100), (.norm, 1), (.quantize, 1),
      (.quantize, 6912), (.norm, config.lanes + 1), (.quantize, 2 * config.lanes), (.norm, 2816),
    ]
    let jobs = plan.map { NormWorkload.job($0.0, $0.1, &rng) }
    let run = try sim.bench.run(jobs, stalls: .none, seed: seed)
    try NormUnitCheck.compare(run, jobs, config: config, seed: seed)
    // Full rate: two cycles a beat (one in, one out) plus a fixed overhead a vector.
    for (j, job) in jobs.enumerated() {
      let beats = config.beats(length: job.length)
      let overhead = run.vectorCycles[j] - 2 * beats
      #expect(overhead > 0 && overhead <= (job.mode == .norm ? 20 : 60), "seed \(seed), \(config): vector \(j) (\(job.mode), n \(job.length)): \(run.vectorCycles[j]) cycles for \(beats) beats")
    }
    // Vectors follow each other with no idle cycle: each starts the cycle after the previous one ends.
    let total = run.vectorCycles.reduce(0, +)
    #expect(run.finishCycles.last == total, "seed \(seed), \(config): \(run.finishCycles.last ?? 0) cycles for vectors that took \(total)")
    if config.lanes == 16 {
      print("norm unit \(config): n = 2560 takes \(run.vectorCycles[0]) cycles in norm mode, \(run.vectorCycles[1]) in quantize mode (160 beats)")
    }
  }

  /// Directed corners, each checked against the golden model, and where the
  /// answer is known, against that too (so the golden model is checked as well).
  @Test(arguments: normConfigs)
  func directedCorners(config: NormUnitConfig) throws {
    let sim = try NormModels.norm(config)
    var rng = SeededRandom(seed: 301)
    let n = 2 * config.lanes + 1
    let ones = [Int32](repeating: Fixed.one, count: n)
    var jobs: [NormJob] = []
    var labels: [String] = []
    func add(_ label: String, _ mode: NormMode, _ x: [Int32], _ gamma: [Int32], beta: Scale = Scale(0.05)) {
      jobs.append(NormJob(mode: mode, x: x, gamma: gamma, beta: beta))
      labels.append("\(label) (\(mode))")
    }
    for mode in [NormMode.norm, .quantize] {
      let zeros = [Int32](repeating: 0, count: n)
      add("zero vector", mode, zeros, ones)
      add("zero vector, full length", mode, [Int32](repeating: 0, count: 6912), [Int32](repeating: Fixed.one, count: 6912))
      add("zero gamma", mode, NormWorkload.vector(n, &rng), zeros)
      var huge = [Int32](repeating: 3, count: n)
      huge[n / 2] = Int32.max
      add("one huge element", mode, huge, ones)
      var hot = [Int32](repeating: 0, count: 6912)
      hot[6911] = Fixed.fromDouble(-16)
      add("one-hot, big gamma (saturates)", mode, hot, [Int32](repeating: Fixed.fromDouble(1000), count: 6912))
      add("all negative", mode, (0..<n).map { _ in -1 - Int32(rng.next() % (1 << 24)) }, NormWorkload.gamma(n, &rng))
      add("Int32.min everywhere", mode, [Int32](repeating: Int32.min, count: n), ones)
      add("Int32.max everywhere", mode, [Int32](repeating: Int32.max, count: n), ones)
      add("limits times limits", mode, (0..<n).map { $0 % 2 == 0 ? Int32.min : Int32.max },
          (0..<n).map { $0 % 3 == 0 ? Int32.min : Int32.max })
      add("tiny values (ss = 0)", mode, (0..<n).map { $0 % 2 == 0 ? 1 : -1 }, ones)
      var outliers = ones
      for i in stride(from: 0, to: n, by: 5) { outliers[i] = i % 2 == 0 ? Fixed.fromDouble(1000) : Fixed.fromDouble(-500) }
      add("gamma outliers", mode, NormWorkload.vector(n, &rng), outliers)
      add("single element", mode, [Fixed.fromDouble(-2.5)], [Fixed.fromDouble(0.5)])
      // x * gamma exactly halfway between two Q15.16 values, both signs.
      let odd: [Int32] = (0..<n).map { i in
        let k = Int32(2 * i + 1)
        return i % 2 == 0 ? k : -k
      }
      add("rounding ties", mode, odd, [Int32](repeating: 1 << 15, count: n))
    }
    add("zero beta", .quantize, NormWorkload.vector(n, &rng), ones, beta: .zero)
    add("tiny beta", .quantize, NormWorkload.vector(n, &rng), ones, beta: Scale(mantissa: 1 << 31, exponent: -512))
    add("huge beta", .quantize, NormWorkload.vector(n, &rng), ones, beta: Scale(mantissa: UInt32.max, exponent: 511))

    let run = try sim.bench.run(jobs, stalls: NormStalls(xValid: 0.8, gammaValid: 0.9, yReady: 0.7), seed: 301)
    try NormUnitCheck.compare(run, jobs, config: config, seed: 301)
    for (j, label) in labels.enumerated() {
      let result = run.results[j]
      if label.hasPrefix("zero vector") || label.hasPrefix("zero gamma") {
        #expect(result.values.allSatisfy { $0 == 0 }, "seed 301, \(config): \(label): all outputs zero")
        #expect(result.scale == .zero, "seed 301, \(config): \(label): zero output scale")
      }
      if label.hasPrefix("one-hot") {
        let expected: Int32 = jobs[j].mode == .norm ? Int32.min : -127
        #expect(result.values[6911] == expected, "seed 301, \(config): \(label): \(result.values[6911])")
      }
      if label.hasPrefix("Int32.max everywhere") && jobs[j].mode == .quantize {
        #expect(result.values.allSatisfy { $0 == 127 }, "seed 301, \(config): \(label)")
      }
    }
  }

  /// z * 127 / M exactly halfway between two integers: q then depends on the
  /// last bit of 127 / M, so the reciprocal (the divider) and the products
  /// that round it must match the spec exactly.
  @Test(arguments: normConfigs)
  func quantizationTiesExerciseTheReciprocal(config: NormUnitConfig) throws {
    let sim = try NormModels.norm(config)
    let jobs: [NormJob] = (1...60).map { j in
      // M = 254 j; z = j (2i + 1) gives z * 127 / M = i + 1/2.
      var x: [Int32] = (0..<127).map { i in Int32(j * (2 * i + 1)) * (i % 3 == 0 ? -1 : 1) }
      x.append(Int32(254 * j))
      return NormJob(mode: .quantize, x: x, gamma: [Int32](repeating: Fixed.one, count: x.count), beta: Scale(0.03))
    }
    let run = try sim.bench.run(jobs, seed: 350)
    try NormUnitCheck.compare(run, jobs, config: config, seed: 350)
  }

  @Test(arguments: normConfigs)
  func resetInTheMiddleOfAVector(config: NormUnitConfig) throws {
    let sim = try NormModels.norm(config)
    let seed: UInt64 = 401
    var rng = SeededRandom(seed: seed)
    let long = NormWorkload.job(.quantize, 300, &rng)
    let beats = config.beats(length: 300)
    let jobs = [NormWorkload.job(.norm, 45, &rng), NormWorkload.job(.quantize, 64, &rng)]
    // Abandon a vector while it streams in, while its scalars are computed
    // (in the divider), and while its results stream out (the scalars take
    // about 56 cycles); each time reset and run fresh vectors.
    for (abortAt, resultBeats) in [(beats / 2, 0...0), (beats + 12, 0...0), (beats + 56 + beats / 2, 1...(beats - 1))] {
      let partial = try sim.bench.run([long], abortAfterCycles: abortAt)
      #expect(partial.results.isEmpty && resultBeats.contains(partial.resultBeats), "seed \(seed), \(config): aborted after \(partial.resultBeats) result beats")
      try sim.bench.reset()
      let run = try sim.bench.run(jobs, stalls: .heavy, seed: seed)
      try NormUnitCheck.compare(run, jobs, config: config, seed: seed)
    }
  }

  /// `Scale.apply` on accumulator beats: random accumulators of the full
  /// width against realistic output scales, and every regime of the exponent.
  @Test(arguments: rescaleConfigs)
  func rescaleMatchesScaleApply(config: NormUnitConfig) throws {
    let sim = try NormModels.rescale(config)
    let w = config.accumulatorWidth
    let top = Int64(1) << Int64(w - 1)
    for seed: UInt64 in [501, 502] {
      var rng = SeededRandom(seed: seed)
      func accumulators(_ n: Int) -> [Int64] {
        (0..<n).map { i in
          switch rng.next() % 8 {
          case 0: return [-top, top - 1, 0, 1, -1][i % 5]
          case 1, 2:
            let small = min(256, top)
            return Int64(rng.next() % UInt64(2 * small)) - small
          default: return Int64(rng.next() % UInt64(2 * top)) - top
          }
        }
      }
      var scales: [Scale] = [
        .zero, Scale(integer: 1), Scale(mantissa: 1 << 31, exponent: 0), Scale(mantissa: UInt32.max, exponent: -1),
        Scale(mantissa: UInt32.max, exponent: -32), Scale(mantissa: 1 << 31, exponent: -64), Scale(mantissa: UInt32.max, exponent: -65),
        Scale(mantissa: 1 << 31, exponent: -2048), Scale(mantissa: UInt32.max, exponent: 2047), Scale(mantissa: 3 << 30, exponent: -20),
        Scale(mantissa: 1 << 31, exponent: -32), Scale(mantissa: 1 << 31, exponent: -33),  // acc / 2, acc / 4: ties
      ]
      for _ in 0..<12 {
        // Output scales as the norm unit makes them, and random ones.
        let x = NormWorkload.vector(64, &rng)
        scales.append(Norms.quantize(x, gamma: NormWorkload.gamma(64, &rng), beta: NormWorkload.beta(&rng), Norms.LengthConstants(length: 64)).outputScale)
        scales.append(Scale(mantissa: UInt32(truncatingIfNeeded: rng.next()) | 1 << 31, exponent: -80 + Int(rng.next() % 90)))
      }
      let jobs = scales.enumerated().map { k, scale in
        RescaleJob(accumulators: accumulators(1 + (k * 7) % (3 * config.lanes + 2)), scale: scale)
      }
      for (inputValid, outputReady) in [(1.0, 1.0), (0.6, 0.5)] {
        let run = try sim.bench.run(jobs, inputValid: inputValid, outputReady: outputReady, seed: seed)
        #expect(run.outputs.count == jobs.count, "seed \(seed), \(config)")
        for (j, job) in jobs.enumerated() where j < run.outputs.count {
          let golden = job.expected
          if let i = golden.indices.first(where: { golden[$0] != run.outputs[j][$0] }) {
            Issue.record("seed \(seed), \(config): vector \(j) element \(i): acc \(job.accumulators[i]) * \(job.scale.mantissa) * 2^\(job.scale.exponent): RTL \(run.outputs[j][i]), golden \(golden[i])")
            break
          }
        }
        if inputValid == 1 && outputReady == 1 {
          let beats = jobs.reduce(0) { $0 + config.beats(length: $1.accumulators.count) }
          #expect(run.cycles <= beats + 3, "seed \(seed), \(config): \(run.cycles) cycles for \(beats) beats")
        }
      }
      // Reset with beats in flight, then run again.
      _ = try sim.bench.run(jobs, abortAfterCycles: 2)
      try sim.bench.reset()
      let again = try sim.bench.run(jobs, inputValid: 0.7, outputReady: 0.7, seed: seed)
      #expect(again.outputs == jobs.map(\.expected), "seed \(seed), \(config): after a reset")
    }
  }

  @Test func invalidConfigsAreRejected() {
    for bad in [NormUnitConfig(lanes: 0), NormUnitConfig(lanes: 65), NormUnitConfig(maxLength: 0),
                NormUnitConfig(maxLength: 1 << 17), NormUnitConfig(accumulatorWidth: 1), NormUnitConfig(accumulatorWidth: 33)] {
      #expect(throws: NormUnitConfig.Invalid.self) { try NormUnitGenerator.generate(bad) }
    }
  }
}

// MARK: RTL quality gates

/// Configurations for lint and Icarus: the defaults, odd lanes, the degenerate
/// single lane and the widest unit.
let normGateConfigs = [
  NormUnitConfig(),
  NormUnitConfig(lanes: 3, maxLength: 8192, accumulatorWidth: 7),
  NormUnitConfig(lanes: 1, maxLength: 1, accumulatorWidth: 32),
  NormUnitConfig(lanes: 64, maxLength: 1 << 16, accumulatorWidth: 2),
]

/// Yosys maps the vector memory to flip-flops (no block-RAM library) and
/// every multiplier to gates, so synthesis runs on one and two lanes and short
/// memories (20 and 35 s); the logic of a lane is the same for any count.
let normSynthesisConfigs = [
  NormUnitConfig(lanes: 1, maxLength: 4, accumulatorWidth: 32),
  NormUnitConfig(lanes: 2, maxLength: 8, accumulatorWidth: 7),
]

@Suite struct NormUnitGateTests {
  static func files(norm config: NormUnitConfig) throws -> RTLGates.Files {
    RTLGates.Files(top: "norm_unit", sources: try NormUnitGenerator.sources(config))
  }

  static func files(rescale config: NormUnitConfig) throws -> RTLGates.Files {
    RTLGates.Files(top: "rescale_unit", sources: try RescaleUnitGenerator.sources(config))
  }

  @Test(arguments: normGateConfigs)
  func verilatorLintIsClean(config: NormUnitConfig) throws {
    for files in [try Self.files(norm: config), try Self.files(rescale: config)] {
      let warnings = try RTLGates.verilatorLint(files)
      #expect(warnings.isEmpty, "\(files.top), \(config): \(warnings.joined(separator: "\n"))")
    }
  }

  @Test(arguments: normGateConfigs)
  func icarusCompiles(config: NormUnitConfig) throws {
    for files in [try Self.files(norm: config), try Self.files(rescale: config)] {
      // Icarus 11 says "sorry" about constructs it accepts but simplifies
      // (part selects in always_comb sensitivity, `unique`); anything else fails.
      let messages = try RTLGates.iverilogCompile(files).filter { !$0.contains("sorry:") }
      #expect(messages.isEmpty, "\(files.top), \(config): \(messages.joined(separator: "\n"))")
    }
  }

  @Test(arguments: normSynthesisConfigs)
  func yosysFindsNoLatchesAndCountsMultipliers(config: NormUnitConfig) throws {
    let norm = try RTLGates.yosysSynthesize(try Self.files(norm: config))
    #expect(norm.latches == 0)
    #expect(norm.multipliers == 2 * config.lanes + 1, "norm unit: two multipliers a lane and one for the scalars")
    #expect(norm.multipliers == (try NormUnitGenerator.generate(config).top.multipliers.total), "norm unit: Yosys and the IR")
    let rescale = try RTLGates.yosysSynthesize(try Self.files(rescale: config))
    #expect(rescale.latches == 0)
    #expect(rescale.multipliers == config.lanes, "rescale unit: one multiplier a lane")
    #expect(rescale.multipliers == (try RescaleUnitGenerator.generate(config).top.multipliers.total), "rescale unit: Yosys and the IR")
  }

  @Test func moduleNamesDoNotCollideWithTheCore() throws {
    let core = try TernaryCoreGenerator.generate(TernaryCoreConfig()).modules.map(\.name)
    let norm = try NormUnitGenerator.generate(NormUnitConfig()).modules.map(\.name)
    let rescale = try RescaleUnitGenerator.generate(NormUnitConfig()).modules.map(\.name)
    #expect(norm == ["norm_lane", "norm_unit"])
    #expect(rescale == ["rescale_lane", "rescale_unit"])
    #expect(Set(core).isDisjoint(with: norm + rescale))
  }

  @Test func emittingTwiceGivesIdenticalBytes() throws {
    for config in normGateConfigs {
      let a = try NormUnitGenerator.sources(config) + RescaleUnitGenerator.sources(config)
      let b = try NormUnitGenerator.sources(config) + RescaleUnitGenerator.sources(config)
      #expect(a.map(\.name) == b.map(\.name))
      #expect(a.map(\.contents) == b.map(\.contents))
    }
  }
}

