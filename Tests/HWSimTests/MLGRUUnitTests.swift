import Foundation
import HWDSL
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import HWTools
import HWVerilator
import Testing

/// Builds each MLGRU configuration's Verilated library once per test process
/// (serialized, so parallel tests do not race to build it twice); every test
/// then loads its own model instance.
enum MLGRUModels {
  private static let lock = NSLock()

  static func simulation(_ config: MLGRUUnitConfig) throws -> MLGRUUnitSimulation {
    lock.lock()
    defer { lock.unlock() }
    return try MLGRUUnitSimulation(config: config)
  }
}

/// The default unit (the 2.7B model's 32 layers x 2560), three lanes (every
/// length a non-multiple, a layer index port that can go out of range, and h
/// shorter than the longest vector, as in the accelerator where D < I), and
/// the degenerate single lane.
let mlgruConfigs = [
  MLGRUUnitConfig(),
  MLGRUUnitConfig(lanes: 3, maxLayers: 3, maxHidden: 2560, stateLength: 1000),
  MLGRUUnitConfig(lanes: 1, maxLayers: 2, maxHidden: 7),
]

/// Small configurations for the gates: two lanes with a tiny h memory for
/// Yosys (which maps the banks to flip-flops and the 32 x 32 multipliers to
/// gates, some 30 s a lane pair), and the one-word memory.
let mlgruSynthesisConfigs = [
  MLGRUUnitConfig(lanes: 2, maxLayers: 2, maxHidden: 5),
  MLGRUUnitConfig(lanes: 1, maxLayers: 1, maxHidden: 1),
]

/// Operand values: typical activations, any Int32, and the corners.
enum MLGRUValues {
  static let corners: [Int32] = [
    0, 1, -1, Int32.max, Int32.min, Int32.max - 1, Int32.min + 1, 32767 << 16, -32767 << 16,
    Fixed.one, -Fixed.one, Fixed.one - 1, Fixed.one / 2, 16 << 16, -16 << 16, (16 << 16) - 1, -(16 << 16) + 1,
    4095, 4096, -4096, 2048, -2048, 1 << 20, -(1 << 20),
  ]

  /// Uniform in [-range, range) in real terms.
  static func typical(_ range: Double, _ rng: inout SeededRandom) -> Int32 {
    let bound = UInt64(range * 65536)
    return Int32(Int64(rng.next() % (2 * bound)) - Int64(bound))
  }

  static func any(_ rng: inout SeededRandom) -> Int32 { Int32(truncatingIfNeeded: rng.next()) }

  /// Mostly typical, some of any size, some corners.
  static func mixed(_ rng: inout SeededRandom) -> Int32 {
    switch rng.next() % 20 {
    case 0..<12: return typical(12, &rng)
    case 12..<16: return any(&rng)
    default: return corners[Int(rng.next() % UInt64(corners.count))]
    }
  }

  /// A lower bound as the model has them, [0, 1], with 0 and 1 - 2^-16 often.
  static func lowerBound(_ rng: inout SeededRandom) -> Int32 {
    switch rng.next() % 8 {
    case 0: return 0
    case 1: return Fixed.one - 1
    case 2: return Fixed.one
    case 3: return any(&rng)  // outside the model's range: still defined, still bit-exact
    default: return Int32(rng.next() % UInt64(Fixed.one))
    }
  }

  static func vector(_ n: Int, _ rng: inout SeededRandom, _ draw: (inout SeededRandom) -> Int32) -> [Int32] {
    (0..<n).map { _ in draw(&rng) }
  }

  static func recur(layer: Int, n: Int, fresh: Bool = false, _ rng: inout SeededRandom) -> MLGRUUnitOperation {
    .recur(
      layer: layer, yf: vector(n, &rng, mixed), yi: vector(n, &rng, mixed), lb: vector(n, &rng, lowerBound), fresh: fresh)
  }

  static func siluMul(n: Int, _ rng: inout SeededRandom) -> MLGRUUnitOperation {
    .siluMul(vector(n, &rng, mixed), vector(n, &rng, mixed))
  }
}

/// The golden element functions against double-precision math. The bounds
/// asserted are the worst cases measured on these sweeps, rounded up.
@Suite struct MLGRUGoldenTests {
  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
  static func silu(_ x: Double) -> Double { x * sigmoid(x) }

  @Test func lowerBoundZeroLeavesTheGateExactlyUnchanged() {
    var x = Int32.min
    var checked = 0
    while true {
      #expect(MLGRUGolden.forgetGate(yf: x, lb: 0) == Fixed.sigmoid(x), "yf \(x)")
      checked += 1
      guard x <= Int32.max - 65_521 else { break }
      x += 65_521
    }
    for x in MLGRUValues.corners { #expect(MLGRUGolden.forgetGate(yf: x, lb: 0) == Fixed.sigmoid(x)) }
    // lb = 1 pins the gate at one; then h = h_prev and c = 0.
    for x in MLGRUValues.corners {
      #expect(MLGRUGolden.forgetGate(yf: x, lb: Fixed.one) == Fixed.one)
      #expect(MLGRUGolden.recur(yf: x, yi: x, lb: Fixed.one, hPrev: 12345) == 12345)
    }
    #expect(checked > 60_000)
  }

  @Test func oneMinusSaturatesInsteadOfTrapping() {
    #expect(MLGRUGolden.oneMinus(0) == Fixed.one)
    #expect(MLGRUGolden.oneMinus(Fixed.one) == 0)
    #expect(MLGRUGolden.oneMinus(Int32.min) == Int32.max)
    #expect(MLGRUGolden.oneMinus(Int32.max) == Fixed.one - Int32.max)
    // lb = Int32.min: 1 - lb saturates, f = lb + (1 - lb) / 2 = -2^14, and f * h_prev saturates low.
    #expect(MLGRUGolden.forgetGate(yf: 0, lb: Int32.min) == Int32.min / 2)
    #expect(MLGRUGolden.recur(yf: 0, yi: 0, lb: Int32.min, hPrev: Int32.max) == Int32.min)
  }

  @Test func recurrenceAndSiluMulTrackDoubleMath() {
    var rng = SeededRandom(seed: 91)
    var worstRecur = 0.0, worstGate = 0.0, worstSiluMul = 0.0
    for _ in 0..<200_000 {
      let yf = MLGRUValues.typical(12, &rng), yi = MLGRUValues.typical(12, &rng)
      let lb = Int32(rng.next() % UInt64(Fixed.one)), hPrev = MLGRUValues.typical(16, &rng)
      let (dyf, dyi, dlb, dh) = (Fixed.toDouble(yf), Fixed.toDouble(yi), Fixed.toDouble(lb), Fixed.toDouble(hPrev))
      let f = dlb + (1 - dlb) * Self.sigmoid(dyf)
      let c = Self.silu(dyi) * (1 - f)
      let h = f * dh + c
      worstGate = max(worstGate, abs(Fixed.toDouble(MLGRUGolden.forgetGate(yf: yf, lb: lb)) - f))
      // Relative to the operands' scale: f is absolute-accurate, so f * h_prev is accurate to |h_prev|.
      let scale = abs(dh) + abs(Self.silu(dyi)) + 1
      worstRecur = max(worstRecur, abs(Fixed.toDouble(MLGRUGolden.recur(yf: yf, yi: yi, lb: lb, hPrev: hPrev)) - h) / scale)

      let a = MLGRUValues.typical(12, &rng), b = MLGRUValues.typical(16, &rng)
      let (da, db) = (Fixed.toDouble(a), Fixed.toDouble(b))
      let o = Self.silu(da) * db
      worstSiluMul = max(worstSiluMul, abs(Fixed.toDouble(MLGRUGolden.siluMul(a, b)) - o) / (max(1, abs(da)) * abs(db) + 1))
    }
    print("MLGRU golden vs double: gate \(worstGate), recur \(worstRecur) of (|h_prev| + |SiLU(yi)| + 1), "
      + "siluMul \(worstSiluMul) of (max(1,|a|) |b| + 1)")
    // Measured: 5.83e-5, 9.19e-5 and 5.80e-5 (the sigmoid table's interpolation error, 4.7e-5, plus roundings).
    #expect(worstGate < 6e-5, "forget gate error \(worstGate)")
    #expect(worstRecur < 1e-4, "recur error \(worstRecur)")
    #expect(worstSiluMul < 6e-5, "siluMul error \(worstSiluMul)")
  }

  @Test func hiddenStateDriftStaysBoundedOverManyTokens() {
    // 256 tokens of one 64-element layer: f < 1 contracts the error, so it does not grow with the sequence.
    var rng = SeededRandom(seed: 92)
    let n = 64
    let lb = (0..<n).map { _ in Int32(rng.next() % UInt64(Fixed.one)) }
    var h = [Int32](repeating: 0, count: n)
    var exact = [Double](repeating: 0, count: n)
    var worst = 0.0
    for _ in 0..<256 {
      let yf = MLGRUValues.vector(n, &rng) { MLGRUValues.typical(6, &$0) }
      let yi = MLGRUValues.vector(n, &rng) { MLGRUValues.typical(6, &$0) }
      h = MLGRUGolden.recur(yf: yf, yi: yi, lb: lb, hPrev: h)
      for i in 0..<n {
        let dlb = Fixed.toDouble(lb[i])
        let f = dlb + (1 - dlb) * Self.sigmoid(Fixed.toDouble(yf[i]))
        exact[i] = f * exact[i] + Self.silu(Fixed.toDouble(yi[i])) * (1 - f)
        worst = max(worst, abs(Fixed.toDouble(h[i]) - exact[i]))
      }
    }
    print("MLGRU golden: worst |h - h_double| over 256 tokens: \(worst)")
    #expect(worst < 1e-3, "h drift \(worst)")  // measured 4.6e-4
  }
}

/// The MLGRU unit in Verilator against `MLGRUGolden`, bit for bit; the
/// failing seed is in every message.
@Suite struct MLGRUUnitTests {
  func lengths(_ config: MLGRUUnitConfig) -> [Int] {
    let wanted = [1, config.lanes - 1, config.lanes + 1, 100, 2560, config.maxHidden]
    var seen: [Int] = []
    for n in wanted where n >= 1 && n <= config.maxHidden && !seen.contains(n) { seen.append(n) }
    return seen
  }

  func check(
    _ sim: MLGRUUnitSimulation, _ operations: [MLGRUUnitOperation], reference: inout MLGRUUnitReference,
    stalls: MLGRUStalls = .none, seed: UInt64
  ) throws -> MLGRUUnitRun {
    let run = try sim.bench.run(operations, stalls: stalls, seed: seed)
    try MLGRUUnitCheck.compare(run, operations, reference: &reference, seed: seed)
    #expect(!run.error, "seed \(seed): err_o rose on a well-formed stream")
    return run
  }

  @Test(arguments: mlgruConfigs)
  func randomVectorsOfEveryLengthMatchGolden(config: MLGRUUnitConfig) throws {
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    for (k, n) in lengths(config).enumerated() {
      let seed = UInt64(100 + k)
      var rng = SeededRandom(seed: seed)
      let layer = k % config.maxLayers
      let h = min(n, config.stateLength)  // ops on h stop at a layer's h
      let operations = [
        MLGRUValues.recur(layer: layer, n: h, fresh: true, &rng),
        MLGRUValues.siluMul(n: n, &rng),
        MLGRUValues.recur(layer: layer, n: h, &rng),
        MLGRUValues.recur(layer: layer, n: h, &rng),
      ]
      _ = try check(sim, operations, reference: &reference, seed: seed)
    }
  }

  @Test(arguments: mlgruConfigs)
  func hiddenStateCarriesAcrossTokensAndLayersStayIndependent(config: MLGRUUnitConfig) throws {
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    let seed: UInt64 = 200
    var rng = SeededRandom(seed: seed)
    let layers = [0, 1, config.maxLayers - 1].reduce(into: [Int]()) { if $1 < config.maxLayers && !$0.contains($1) { $0.append($1) } }
    let n = min(config.stateLength, 2 * config.lanes + 1)
    // Start every layer: one from zero by recur-fresh, the others by clear.
    var operations: [MLGRUUnitOperation] = [MLGRUValues.recur(layer: layers[0], n: n, fresh: true, &rng)]
    for layer in layers.dropFirst() { operations.append(.clear(layer: layer, length: config.stateLength)) }
    // Tokens: every layer in turn, with GLU work in between, as the model runs.
    for _ in 0..<4 {
      for layer in layers {
        operations.append(MLGRUValues.recur(layer: layer, n: n, &rng))
        operations.append(MLGRUValues.siluMul(n: n, &rng))
      }
    }
    _ = try check(sim, operations, reference: &reference, seed: seed)
    // Back to back on one layer, short vectors: every beat waits for the previous token's h.
    for short in [1, min(config.stateLength, config.lanes), min(config.stateLength, config.lanes + 1)] {
      let tokens = (0..<6).map { _ in MLGRUValues.recur(layer: layers.last!, n: short, &rng) }
      _ = try check(sim, tokens, reference: &reference, seed: seed)
    }
    // The other layers kept their h: one more token each still matches.
    let more = layers.map { MLGRUValues.recur(layer: $0, n: n, &rng) }
    _ = try check(sim, more, reference: &reference, seed: seed)
  }

  @Test(arguments: mlgruConfigs)
  func cornerValues(config: MLGRUUnitConfig) throws {
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    let seed: UInt64 = 300
    var rng = SeededRandom(seed: seed)
    let corners = MLGRUValues.corners
    let n = min(config.stateLength, corners.count)
    let layer = config.maxLayers - 1
    func repeated(_ v: Int32) -> [Int32] { [Int32](repeating: v, count: n) }
    func cycle(_ shift: Int) -> [Int32] { (0..<n).map { corners[($0 + shift) % corners.count] } }
    var operations: [MLGRUUnitOperation] = [
      // Zero vectors.
      .recur(layer: layer, yf: repeated(0), yi: repeated(0), lb: repeated(0), fresh: true),
      .recur(layer: layer, yf: repeated(0), yi: repeated(0), lb: repeated(0)),
      .siluMul(repeated(0), repeated(0)),
      // Saturate h upwards: h_prev = max, SiLU(yi) = max, f = 1/2.
      .recur(layer: layer, yf: repeated(0), yi: repeated(Int32.max), lb: repeated(0)),
      .recur(layer: layer, yf: repeated(0), yi: repeated(Int32.max), lb: repeated(0)),
      // ... and downwards, through an out-of-range lower bound that saturates every gate product.
      .recur(layer: layer, yf: repeated(Int32.max), yi: repeated(Int32.min), lb: repeated(Int32.min)),
      .recur(layer: layer, yf: repeated(Int32.min), yi: repeated(Int32.max), lb: repeated(Int32.max)),
      // Lower bound 0 and close to one, max-magnitude gates.
      .recur(layer: layer, yf: cycle(0), yi: cycle(5), lb: repeated(0)),
      .recur(layer: layer, yf: cycle(7), yi: cycle(3), lb: repeated(Fixed.one - 1)),
      .recur(layer: layer, yf: cycle(11), yi: cycle(1), lb: repeated(Fixed.one)),
      .recur(layer: layer, yf: repeated(Int32.min), yi: repeated(Int32.min), lb: repeated(Fixed.one - 1)),
      .recur(layer: layer, yf: repeated(Int32.max), yi: repeated(Int32.max), lb: repeated(0)),
      // SiLU * b on extremes.
      .siluMul(cycle(0), cycle(9)),
      .siluMul(repeated(Int32.max), repeated(Int32.max)),
      .siluMul(repeated(Int32.min), repeated(Int32.min)),
      .siluMul(repeated(Int32.max), repeated(Int32.min)),
      .siluMul(cycle(4), repeated(Int32.min)),
    ]
    // Every pair of corners through both operations.
    var pairs: [(Int32, Int32)] = []
    for a in corners { for b in corners { pairs.append((a, b)) } }
    for start in stride(from: 0, to: pairs.count, by: n) {
      let chunk = pairs[start..<min(start + n, pairs.count)]
      operations.append(.siluMul(chunk.map(\.0), chunk.map(\.1)))
      let lb = chunk.map { _ in MLGRUValues.lowerBound(&rng) }
      operations.append(.recur(layer: 0, yf: chunk.map(\.0), yi: chunk.map(\.1), lb: lb, fresh: true))
      operations.append(.recur(layer: 0, yf: chunk.map(\.1), yi: chunk.map(\.0), lb: lb))
    }
    _ = try check(sim, operations, reference: &reference, seed: seed)
    // The saturating corners really saturate (the golden model says so too).
    let up = MLGRUGolden.recur(yf: 0, yi: Int32.max, lb: 0, hPrev: Int32.max)
    #expect(up == Int32.max)
  }

  @Test(arguments: mlgruConfigs)
  func randomStallsOnBothStreams(config: MLGRUUnitConfig) throws {
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    for seed: UInt64 in [400, 401, 402] {
      var rng = SeededRandom(seed: seed)
      let longest = min(config.stateLength, 5 * config.lanes + 2)
      let a = Int(rng.next() % UInt64(config.maxLayers)), b = (a + 1) % config.maxLayers
      // Define h of two layers up to `longest`, then a random mix at random lengths.
      var operations = [MLGRUValues.recur(layer: a, n: longest, fresh: true, &rng), .clear(layer: b, length: longest)]
      for _ in 0..<10 {
        let n = 1 + Int(rng.next() % UInt64(longest))
        switch rng.next() % 4 {
        case 0: operations.append(MLGRUValues.recur(layer: a, n: n, &rng))
        case 1: operations.append(MLGRUValues.recur(layer: b, n: n, &rng))
        case 2: operations.append(MLGRUValues.siluMul(n: n, &rng))
        default: operations.append(MLGRUValues.recur(layer: a, n: longest, fresh: true, &rng))
        }
      }
      _ = try check(sim, operations, reference: &reference, stalls: .heavy, seed: seed)
    }
  }

  @Test(arguments: mlgruConfigs)
  func resetInTheMiddleOfAVector(config: MLGRUUnitConfig) throws {
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    let seed: UInt64 = 500
    var rng = SeededRandom(seed: seed)
    let n = min(config.stateLength, 4 * config.lanes)
    let kept = 0, cut = config.maxLayers - 1
    var setup = [MLGRUValues.recur(layer: kept, n: n, fresh: true, &rng)]
    if cut != kept { setup.append(MLGRUValues.recur(layer: cut, n: n, fresh: true, &rng)) }
    _ = try check(sim, setup, reference: &reference, seed: seed)
    // Cut a recur of layer `cut` short after two beats (some of its h may be written), with stalls.
    let long = MLGRUValues.recur(layer: cut, n: n, &rng)
    _ = try sim.bench.run([long], stalls: .heavy, seed: seed, abortAfterBeats: min(2, long.beats(config) - 1))
    try sim.bench.reset()
    reference.forget(layer: cut)
    #expect(!sim.bench.errorFlag)
    // The next beat is a first beat again; the untouched layer kept its h.
    var after = [MLGRUValues.siluMul(n: n, &rng), MLGRUValues.recur(layer: cut, n: n, fresh: true, &rng)]
    if cut != kept { after.append(MLGRUValues.recur(layer: kept, n: n, &rng)) }
    after.append(MLGRUValues.recur(layer: cut, n: n, &rng))
    _ = try check(sim, after, reference: &reference, stalls: .heavy, seed: seed)
  }

  @Test func streamsOneBeatPerCycleWithTheStatedLatency() throws {
    let config = mlgruConfigs[0]
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    let seed: UInt64 = 600
    var rng = SeededRandom(seed: seed)
    let n = config.maxHidden
    var operations = (0..<4).map { MLGRUValues.recur(layer: $0, n: n, fresh: true, &rng) }
    operations += (0..<4).map { MLGRUValues.recur(layer: $0, n: n, &rng) }
    operations += (0..<4).map { _ in MLGRUValues.siluMul(n: n, &rng) }
    let run = try check(sim, operations, reference: &reference, seed: seed)
    let beats = operations.count * config.beatsPerLayer
    #expect(run.beats == beats)
    #expect(run.latency == MLGRUUnitGenerator.latency, "latency \(String(describing: run.latency))")
    // Full rate: every cycle takes a beat; the pipeline adds its latency once.
    #expect(run.cycles == beats + MLGRUUnitGenerator.latency, "\(run.cycles) cycles for \(beats) beats")
    print("MLGRU unit: \(beats) beats in \(run.cycles) cycles, latency \(run.latency ?? -1) cycles")

    // One-beat tokens on one layer: each waits until the previous token's h is written.
    let tokens = [MLGRUValues.recur(layer: 5, n: config.lanes, fresh: true, &rng)]
      + (1..<16).map { _ in MLGRUValues.recur(layer: 5, n: config.lanes, &rng) }
    let short = try check(sim, tokens, reference: &reference, seed: seed)
    let perToken = Double(short.cycles - MLGRUUnitGenerator.latency) / Double(tokens.count)
    print("MLGRU unit: back-to-back one-beat recur on one layer: \(perToken) cycles per token")
    #expect(perToken <= 4.01, "\(perToken) cycles per one-beat token")
  }

  @Test func protocolErrorsRaiseTheFlagAndCorruptNothing() throws {
    // 3 layers: the 2-bit layer port can name a fourth; h of 1000 elements, vectors up to 2560.
    let config = mlgruConfigs[1]
    let sim = try MLGRUModels.simulation(config)
    var reference = MLGRUUnitReference(config: config)
    let seed: UInt64 = 700
    var rng = SeededRandom(seed: seed)
    let n = 10
    let setup = (0..<3).map { MLGRUValues.recur(layer: $0, n: n, fresh: true, &rng) }
    _ = try check(sim, setup, reference: &reference, seed: seed)

    var wrongLast = MLGRUValues.siluMul(n: n, &rng)
    wrongLast.wrongLast = true
    var zeroLength = MLGRUValues.siluMul(n: 1, &rng)
    zeroLength.length = 0
    var tooLong = MLGRUValues.siluMul(n: config.maxHidden, &rng)
    tooLong.length = config.maxHidden + 5
    tooLong.x += [Int32](repeating: 7, count: 5)
    tooLong.y += [Int32](repeating: 7, count: 5)
    tooLong.lb += [Int32](repeating: 7, count: 5)
    let badLayer = MLGRUValues.recur(layer: 3, n: n, &rng)  // reads h as 0, writes nothing
    // Longer than a layer's h: reads h as 0, writes nothing (layer 1's h and layer 2's after it survive).
    let pastState = MLGRUValues.recur(layer: 1, n: config.stateLength + 1, &rng)
    let clearPastState = MLGRUUnitOperation.clear(layer: 2, length: config.maxHidden)
    let cases: [(String, MLGRUUnitOperation)] = [
      ("in_last_i off the count", wrongLast), ("n = 0", zeroLength), ("n > maxHidden", tooLong),
      ("layer >= maxLayers", badLayer), ("recur n > stateLength", pastState), ("clear n > stateLength", clearPastState),
    ]
    for (what, operation) in cases {
      try sim.bench.reset()
      #expect(!sim.bench.errorFlag)
      let run = try sim.bench.run([operation], seed: seed)
      try MLGRUUnitCheck.compare(run, [operation], reference: &reference, seed: seed)
      #expect(run.error, "\(what): err_o stayed low")
    }
    try sim.bench.reset()
    // Every layer's h survived.
    let after = (0..<3).map { MLGRUValues.recur(layer: $0, n: n, &rng) }
    _ = try check(sim, after, reference: &reference, seed: seed)
  }

  // MARK: RTL quality gates

  static func gateFiles(_ config: MLGRUUnitConfig) throws -> RTLGates.Files {
    let (design, files) = try MLGRUUnitGenerator.files(config)
    return RTLGates.Files(top: design.top.name, sources: files)
  }

  @Test(arguments: mlgruConfigs + mlgruSynthesisConfigs)
  func verilatorLintIsClean(config: MLGRUUnitConfig) throws {
    let warnings = try RTLGates.verilatorLint(Self.gateFiles(config))
    #expect(warnings.isEmpty, "\(config): \(warnings.joined(separator: "\n"))")
  }

  @Test(arguments: mlgruConfigs + mlgruSynthesisConfigs)
  func icarusCompiles(config: MLGRUUnitConfig) throws {
    // Icarus 11 says "sorry" about `unique case` and selects in always_comb; anything else fails.
    let messages = try RTLGates.iverilogCompile(Self.gateFiles(config)).filter { !$0.contains("sorry:") }
    #expect(messages.isEmpty, "\(config): \(messages.joined(separator: "\n"))")
  }

  @Test(arguments: [mlgruSynthesisConfigs[0]])
  func yosysFindsNoLatchesAndTheIRsMultipliers(config: MLGRUUnitConfig) throws {
    let report = try RTLGates.yosysSynthesize(Self.gateFiles(config))
    let census = try MLGRUUnitGenerator.generate(config).top.multipliers
    #expect(report.latches == 0)
    #expect(report.multipliers == census.total, "\(report.multipliers) multipliers, the IR has \(census)")
    #expect(census.total == 6 * config.lanes, "six a lane: \(census)")
    #expect((report.cells ?? 0) > 0)
  }

  @Test func emittingTwiceGivesIdenticalBytesAndDistinctModuleNames() throws {
    for config in mlgruConfigs {
      let a = try MLGRUUnitGenerator.files(config).files
      let b = try MLGRUUnitGenerator.files(config).files
      #expect(a.map(\.name) == b.map(\.name))
      #expect(a.map(\.contents) == b.map(\.contents))
      #expect(a.map(\.name) == ["mlgru_sigmoid.sv", "mlgru_lane.sv", "mlgru_unit.sv"])
    }
  }

  @Test func configValidationGivesOneLine() {
    let bad = [
      MLGRUUnitConfig(lanes: 0), MLGRUUnitConfig(lanes: 300), MLGRUUnitConfig(maxLayers: 0),
      MLGRUUnitConfig(maxHidden: 0), MLGRUUnitConfig(maxHidden: 100_000),
      MLGRUUnitConfig(lanes: 256, maxLayers: 1024, maxHidden: 65536),
      MLGRUUnitConfig(maxHidden: 100, stateLength: 101), MLGRUUnitConfig(stateLength: 0),
    ]
    for config in bad {
      #expect(throws: MLGRUUnitConfig.Invalid.self) { try config.validate() }
      do {
        try config.validate()
      } catch {
        #expect(!"\(error)".contains("\n"))
      }
    }
    #expect(throws: Never.self) { try MLGRUUnitConfig().validate() }
    #expect(MLGRUUnitConfig().beatsPerLayer == 160)
    #expect(MLGRUUnitConfig().stateDepth == 5120)
    // The accelerator's unit: vectors up to I = 6912, h of D = 2560 a layer.
    #expect(MLGRUUnitConfig(maxHidden: 6912, stateLength: 2560).stateDepth == 5120)
  }
}
