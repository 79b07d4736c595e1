import HWGenerators
import HWSim
import HWSpec
import HWSupport
import Testing

@Suite("Base-3 weights: the byte code and weight_unpack against it")
struct WeightUnpackTests {
  @Test("every one of the 243 codes unpacks to its five weights and packs back; 243-255 are reserved")
  func codesRoundTrip() throws {
    var seen = Set<[Int8]>()
    for code in 0..<256 {
      let byte = UInt8(code)
      guard let weights = TritPacking.unpack(byte) else {
        #expect(code >= TritPacking.codes, "code \(code)")
        #expect(TritPacking.planes(byte) == (0, 0), "reserved code \(code) reads as zeros")
        continue
      }
      #expect(code < TritPacking.codes)
      #expect(TritPacking.pack(weights) == byte, "code \(code)")
      seen.insert(weights)
      let planes = TritPacking.planes(byte)
      for (i, w) in weights.enumerated() {
        #expect((planes.nonZero >> UInt8(i) & 1 == 1) == (w != 0), "code \(code) weight \(i)")
        #expect((planes.negative >> UInt8(i) & 1 == 1) == (w < 0), "code \(code) weight \(i)")
      }
    }
    #expect(seen.count == 243, "every five-weight tuple has its own code")
    #expect(TritPacking.pack(stream: [1, -1, 0, 0, 1, -1]) == [1 + 2 * 3 + 81, 2])
  }

  /// Matrices that put all 243 codes in every byte position of the memory beat, plus short
  /// ones whose padding is a quarter, half or a whole core beat.
  static func jobs(_ config: WeightUnpackConfig, seed: UInt64) -> [WeightUnpackJob] {
    var rng = SeededRandom(seed: seed)
    let every = WeightUnpackJob(config: config, coreBeats: 243 * 5 / 4) { b in
      let beat = b / config.inBytes, position = b % config.inBytes
      return UInt8((beat + 7 * position) % TritPacking.codes)
    }
    let short = [1, 4, 7, 2].map { n in
      WeightUnpackJob(config: config, coreBeats: n) { _ in UInt8(rng.next() % UInt64(TritPacking.codes)) }
    }
    return [short[0], every] + short.dropFirst()
  }

  @Test("weight_unpack: every code at every byte position, matrix after matrix with their padding dropped, under random valid, ready and hold",
        arguments: [(2, UInt64(1)), (2, 2), (16, 3), (16, 4)])
  func unpackerMatchesTheCode(lanes: Int, seed: UInt64) throws {
    let config = WeightUnpackConfig(lanes: lanes)
    let sim = try AcceleratorModels.locked { try WeightUnpackSimulation(config: config) }
    let jobs = Self.jobs(config, seed: seed)
    #expect(jobs[1].memoryBeats.count == 243)
    let (beats, _) = try sim.bench.run(jobs, inputValid: 0.7, outputReady: 0.6, holding: 0.1, seed: seed)
    for (j, job) in jobs.enumerated() {
      #expect(beats[j].count == job.coreBeats.count, "seed \(seed), lanes \(lanes), matrix \(j)")
      if let n = job.coreBeats.indices.first(where: { $0 >= beats[j].count || beats[j][$0] != job.coreBeats[$0] }) {
        Issue.record("seed \(seed), lanes \(lanes): matrix \(j), core beat \(n) differs from the code's weights")
      }
    }
  }

  @Test("weight_unpack at full rate: four memory beats feed five core beats with no bubble inside a matrix")
  func unpackerFullRate() throws {
    let config = WeightUnpackConfig(lanes: 16)
    let sim = try AcceleratorModels.locked { try WeightUnpackSimulation(config: config) }
    let jobs = Self.jobs(config, seed: 5)
    let (beats, cycles) = try sim.bench.run(jobs)
    #expect(beats.map(\.count) == jobs.map(\.coreBeats.count))
    let coreBeats = jobs.reduce(0) { $0 + $1.coreBeats.count }
    // One cycle to fill, one more between matrices (the next matrix waits for the flush).
    #expect(cycles <= coreBeats + 2 * jobs.count, "\(cycles) cycles for \(coreBeats) core beats")
  }
}
