import HWGenerators
import HWGolden
import HWSim
import HWSimFiles
import HWSpec
import HWSupport

/// A self-checking SystemVerilog testbench for the ternary core, for simulators
/// other than Verilator (Icarus Verilog).
///
/// Everything the bench needs comes from the golden model and lives in
/// `$readmemh` files next to it: the weight and activation beats, the `last`
/// flags, the expected result beats, and a seeded valid/ready pattern. The
/// bench streams the beats (a source presents a beat when the pattern allows
/// and holds it until it is taken), compares every result beat with the
/// expected one, writes what it received to `received.hex`, and ends with one
/// line: `hwgen-tb: PASS ...` and `$finish`, or `hwgen-tb: FAIL ...` and `$fatal`.
///
/// The bench is a fixed SystemVerilog file, `Sim/icarus/hwgen_tb.sv`: test
/// infrastructure, not a generated design. What depends on the configuration and
/// the workload (widths, memory depths, beat and result counts, the cycle limit)
/// are its parameters, set with `iverilog -P` (`verilator -G` for the lint).
/// Every memory is a power of two deep (files padded with zeros), so each index
/// has exactly the array's address width and the bench is clean under
/// `verilator --lint-only -Wall`.
public struct IcarusTestbench: Sendable {
  public static let topModule = "hwgen_tb"
  public static let fileName = "hwgen_tb.sv"
  /// Cycles in the repeating valid/ready pattern (the bench's `PatternDepth`).
  public static let patternPeriod = 256
  /// The bench's last line starts with this (written out in `hwgen_tb.sv`).
  public static let marker = "hwgen-tb:"

  public let config: TernaryCoreConfig
  public let beats: Int
  public let results: Int
  public let cycleLimit: Int
  /// `fileName` and the memory files, ready to write into one directory.
  public let files: [(name: String, contents: String)]
  /// Values of the bench's parameters, in declaration order.
  public let parameters: [(name: String, value: Int)]

  /// `-P` switches for `iverilog`.
  public var iverilogParameters: [String] { parameters.map { "-P\(Self.topModule).\($0.name)=\($0.value)" } }
  /// `-G` switches for `verilator`.
  public var verilatorParameters: [String] { parameters.map { "-G\($0.name)=\($0.value)" } }

  /// One bit per stream and cycle: may the weight source present a beat, may
  /// the activation source, is the result sink ready.
  public struct Pattern: Sendable, Equatable {
    public var weightValid: [Bool]
    public var activationValid: [Bool]
    public var resultReady: [Bool]

    /// Each bit set with the probability `stalls` gives its stream.
    public init(stalls: StreamStalls, seed: UInt64) {
      var rng = SeededRandom(seed: seed).fork(0x1CA2)
      func draw(_ p: Double) -> [Bool] {
        (0..<IcarusTestbench.patternPeriod).map { _ in p >= 1 || Double(rng.next() >> 11) / Double(1 << 53) < p }
      }
      weightValid = draw(stalls.weightValid)
      activationValid = draw(stalls.activationValid)
      resultReady = draw(stalls.resultReady)
      // A sink that is never ready would hang the bench: keep one ready cycle per period.
      if !resultReady.contains(true) { resultReady[0] = true }
      if !weightValid.contains(true) { weightValid[0] = true }
      if !activationValid.contains(true) { activationValid[0] = true }
    }
  }

  public init(config: TernaryCoreConfig, jobs: [TernaryCoreJob], pattern: Pattern) throws {
    self.config = config
    let layout = TernaryCoreLayout(config)
    let streams = TernaryCoreStreams(jobs, layout: layout)
    beats = streams.lastFlags.count
    results = streams.groupsPerJob.reduce(0, +)
    // A correct core takes about one cycle per beat; stalls slow it by a small factor.
    cycleLimit = 1000 + 40 * (beats + results)

    // Expected result beats: each job's golden vector, padded rows read as zero.
    var expected: [UInt32] = []
    for job in jobs {
      let golden = try TernaryMatVec.multiply(job.matrix, job.activations, accumulatorWidth: config.accumulatorWidth)
      let groups = layout.rowGroups(rows: job.matrix.rows)
      for g in 0..<groups {
        let lanes = (0..<config.lanes).map { lane in
          let row = g * config.lanes + lane
          return row < golden.count ? golden[row] : 0
        }
        expected += Self.packResult(lanes, width: config.accumulatorWidth, words: layout.resultWordsPerBeat)
      }
    }

    let beatDepth = Self.depth(beats)
    let resultDepth = Self.depth(results)
    let patternWords = (0..<Self.patternPeriod).map { cycle -> UInt32 in
      (pattern.weightValid[cycle] ? 1 : 0) | (pattern.activationValid[cycle] ? 2 : 0) | (pattern.resultReady[cycle] ? 4 : 0)
    }
    parameters = [
      ("WeightBits", config.weightBeatBits), ("ActBits", config.activationBeatBits), ("ResultBits", config.resultBeatBits),
      ("BeatDepth", beatDepth), ("ResultDepth", resultDepth), ("Beats", beats), ("Results", results),
      ("CycleLimit", cycleLimit),
    ]
    files = [
      (Self.fileName, try SimFiles.text("icarus", Self.fileName)),
      ("weights.hex", Self.hex(streams.weightBeats, bits: config.weightBeatBits, words: layout.weightWordsPerBeat, depth: beatDepth)),
      ("acts.hex", Self.hex(streams.activationBeats, bits: config.activationBeatBits, words: layout.activationWordsPerBeat, depth: beatDepth)),
      ("last.hex", Self.hex(streams.lastFlags.map { $0 ? 1 : 0 }, bits: 1, words: 1, depth: beatDepth)),
      ("expected.hex", Self.hex(expected, bits: config.resultBeatBits, words: layout.resultWordsPerBeat, depth: resultDepth)),
      ("pattern.hex", Self.hex(patternWords, bits: 3, words: 1, depth: Self.patternPeriod)),
    ]
  }

  /// The received result beats in `received.hex`, decoded into one vector per
  /// job (padded rows dropped), like `TernaryCoreRun.outputs`.
  public static func decodeReceived(
    _ text: String, config: TernaryCoreConfig, rowsPerJob: [Int]
  ) throws -> [[Int64]] {
    let layout = TernaryCoreLayout(config)
    let expectedBeats = rowsPerJob.reduce(0) { $0 + layout.rowGroups(rows: $1) }
    // Entries past the last result were never written (x): only the first ones count.
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.hasPrefix("//") && !$0.hasPrefix("@") }
      .prefix(expectedBeats)
    var beats: [[Int64]] = []
    for line in lines {
      var words = [UInt32](repeating: 0, count: layout.resultWordsPerBeat)
      for (i, digit) in line.reversed().enumerated() {
        guard let nibble = digit.hexDigitValue else {
          throw TestbenchError("received.hex: result beat \(beats.count) is not a number: \(line.prefix(40))")
        }
        guard i / 8 < words.count else { continue }
        words[i / 8] |= UInt32(nibble) << UInt32(4 * (i % 8))
      }
      beats.append(words.withUnsafeBufferPointer { layout.decodeResult($0) })
    }
    var outputs: [[Int64]] = []
    var next = 0
    for rows in rowsPerJob {
      var vector: [Int64] = []
      for _ in 0..<layout.rowGroups(rows: rows) where next < beats.count {
        vector += beats[next]
        next += 1
      }
      outputs.append(Array(vector.prefix(rows)))
    }
    return outputs
  }

  // MARK: - Files

  /// Smallest power of two above `count` (so an index can also count to `count`), at least 2.
  static func depth(_ count: Int) -> Int {
    var depth = 2
    while depth <= count { depth *= 2 }
    return depth
  }


  static func packResult(_ values: [Int64], width: Int, words: Int) -> [UInt32] {
    var out = [UInt32](repeating: 0, count: words)
    for (lane, value) in values.enumerated() {
      let bits = UInt64(bitPattern: value)
      for b in 0..<width where (bits >> UInt64(b)) & 1 == 1 {
        let bit = lane * width + b
        out[bit / 32] |= 1 << UInt32(bit % 32)
      }
    }
    return out
  }

  /// One hex number per line, `bits` wide, most significant digit first; padded with zeros to `depth` lines.
  static func hex(_ words: [UInt32], bits: Int, words perBeat: Int, depth: Int) -> String {
    let digits = (bits + 3) / 4
    let count = words.count / perBeat
    var text = ""
    text.reserveCapacity((digits + 1) * depth)
    let hexDigits = Array("0123456789abcdef")
    for beat in 0..<depth {
      var line = ""
      for d in stride(from: digits - 1, through: 0, by: -1) {
        let nibble = beat < count ? (words[beat * perBeat + d / 8] >> UInt32(4 * (d % 8))) & 0xF : 0
        line.append(hexDigits[Int(nibble)])
      }
      text += line + "\n"
    }
    return text
  }
}
