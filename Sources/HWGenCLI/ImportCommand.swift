import ArgumentParser
import Foundation
import HWGolden
import HWReport
import HWSpec

/// `hwgen import`: a Hugging Face HGRN-Bit checkpoint to an hwgen model directory.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import a Hugging Face HGRN-Bit checkpoint (config.json + safetensors, BF16/F16/F32, sharded or not) into an hwgen model directory.",
    discussion: """
      Ternarizes every projection as the reference does (beta = max(mean |W|, 1e-5), round half to even), \
      precomputes the lower bounds, and writes the 2-bit ternary planes the accelerator streams (or, with \
      --packing base3, five weights a byte), the betas, \
      gammas, lower bounds, embedding and manifest.json (shapes, offsets, SHA-256 of every source and \
      output file). All or nothing: on any error no output directory is left. See docs/import.md.
      """)

  @Argument(help: "Checkpoint directory, its model.safetensors, or its model.safetensors.index.json.")
  var source: String

  @Option(help: "Model directory to write (must not exist, or be empty).") var out: String

  @Option(help: "How ternary.bin holds the weights: planes (the 2-bit planes the core streams) or base3 (five a byte, 1.6 bits; decoded on load).")
  var packing: WeightPacking = .planes

  func run() throws {
    let clock = Stopwatch()
    let summary = try CheckpointImport.run(URL(fileURLWithPath: source), to: URL(fileURLWithPath: out), packing: packing)
    let m = summary.manifest
    let seconds = clock.seconds
    print("hwgen import: \(m.checkpoint.name) (\(m.config)), \(summary.shards) shard\(summary.shards == 1 ? "" : "s"), \(m.checkpoint.dtypes.joined(separator: ", "))")
    print("ternarized \(m.config.layers * 6 + 1) projections: \(Format.percent(summary.zeroFraction)) zeros, beta \(Format.significant(Double(summary.betaRange.lowerBound), 4))...\(Format.significant(Double(summary.betaRange.upperBound), 4))")
    let sizes = m.files.map { "\($0.name) \(Format.si(Double($0.bytes), "B"))" }.joined(separator: ", ")
    print("wrote \(out): \(sizes), manifest.json")
    print("source sha256 \(m.checkpoint.sourceHash)")
    print("time: \(Format.seconds(seconds)) for \(Format.si(Double(summary.sourceBytes), "B")) (\(Format.si(Double(summary.sourceBytes) / max(seconds, 1e-9), "B/s")))")
  }
}
