import Foundation
import HWReport
import HWSpec
import Testing

@Suite("hwgen sweep: points, Pareto fronts, CSV and plots")
struct SweepTests {
  static func result(
    _ device: String, _ lanes: Int, _ packing: WeightPacking, tokens: Double, logic: Int, joules: Double, share: Double = 0.5
  ) -> SweepResult {
    SweepResult(
      point: SweepPoint(device: device, lanes: lanes, packing: packing, fifoKiB: 256), model: "1.3b", seed: 1, tokens: 1,
      clockMHz: 300, layersSimulated: 2, layers: 24, extrapolationBound: 0.01, elementsCompared: 1000,
      cyclesPerToken: 300e6 / tokens, tokensPerSecond: tokens, bytesPerToken: 3e8, rooflineTokensPerSecond: 1.1 * tokens,
      flow: "synth_xilinx -family xcup", logic: logic, flipFlops: logic / 2, blockRAMBlocks: 100, dsps: 10,
      largestShare: share, watts: joules * tokens, joulesPerToken: joules)
  }

  static let results = [
    result("u250", 16, .planes, tokens: 100, logic: 1000, joules: 0.10),
    result("u250", 32, .planes, tokens: 200, logic: 2000, joules: 0.12),
    result("u250", 32, .base3, tokens: 150, logic: 2500, joules: 0.09),  // behind 32 planes on tokens/LUT
    result("u250", 64, .base3, tokens: 300, logic: 500, joules: 0.01, share: 1.2),  // does not fit
  ]

  @Test("a point's id names it and parses back; the grid lists every combination once, in order")
  func pointIDs() throws {
    let grid = SweepPoint.grid(devices: ["u250", "u280"], lanes: [16, 32], packings: [.planes, .base3], fifoKiB: [256, 1024])
    #expect(grid.count == 16 && Set(grid).count == 16)
    #expect(grid.first?.id == "u250-16-planes-256" && grid.last?.id == "u280-32-base3-1024")
    for p in grid { #expect(SweepPoint(id: p.id) == p) }
    #expect(SweepPoint(id: "u250-16-trits-256") == nil && SweepPoint(id: "u250-16") == nil)
    // Streams: a fifth axis, named only when there is more than one.
    let batched = SweepPoint.grid(devices: ["u250"], lanes: [32], packings: [.base3], fifoKiB: [1024], streams: [1, 4])
    #expect(batched.map(\.id) == ["u250-32-base3-1024", "u250-32-base3-1024-s4"])
    for p in batched { #expect(SweepPoint(id: p.id) == p) }
    #expect(SweepPoint(id: "u250-32-base3-1024-s1") == nil && SweepPoint(id: "u250-32-base3-1024-4") == nil)
    // A point stored before streams existed reads back with one.
    let old = #"{"device":"u250","fifoKiB":256,"lanes":16,"packing":"planes"}"#
    #expect(try JSONDecoder().decode(SweepPoint.self, from: Data(old.utf8)) == SweepPoint(id: "u250-16-planes-256"))
  }

  @Test("the fronts keep the points nothing that fits beats on both axes, and never a point that does not fit")
  func paretoFronts() {
    #expect(SweepSummary.throughputFront(Self.results) == [0, 1])
    // Energy: 32 base3 has the fewest joules of those that fit; 32 planes the most tokens/s.
    #expect(SweepSummary.energyFront(Self.results) == [1, 2])
    // A tie is no domination.
    let twins = [Self.results[0], Self.results[0]]
    #expect(SweepSummary.throughputFront(twins) == [0, 1])
  }

  @Test("the CSV, JSON and plots are the same bytes for the same results, whatever their order")
  func deterministicOutputs() throws {
    let a = SweepSummary(Self.results), b = SweepSummary(Self.results.reversed())
    #expect(a.csv == b.csv)
    #expect(try a.json() == b.json())
    let lines = a.csv.split(separator: "\n")
    #expect(lines.count == 5 && lines[0] == Substring(SweepSummary.csvHeader.joined(separator: ",")))
    #expect(lines[1].hasSuffix(",true,false") && lines[4].contains(",1.2,false,"))
    let plot = SweepPlot.throughput(a.results, title: "t")
    #expect(plot == SweepPlot.throughput(b.results, title: "t"))
    #expect(plot.contains("<polyline") && plot.contains("fill=\"#b0b0b0\"") && plot.contains("LUTs (Yosys synth_xilinx"))
    #expect(plot.hasPrefix("<svg") && plot.hasSuffix("</svg>\n"))
    let decoded = try JSONDecoder().decode([SweepResult].self, from: a.json())
    #expect(decoded == a.results)
  }
}
