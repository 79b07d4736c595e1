import Foundation
import HWGolden
import HWSpec
import HWSupport
import Testing

/// `hwgen simulate` on the shipped checkpoints: the default run, logits out
/// and the comparison against an external reference.
@Suite("hwgen simulate on the shipped checkpoints")
struct ShippedModelCLITests {
  /// One simulate run's output, JSON report and logits file.
  struct Run {
    var output: String
    var json: [String: Any]
    var logits: NumPyArray
    var lines: [Substring] { output.split(separator: "\n") }
    func ints(_ key: String) -> [Int] { json[key] as? [Int] ?? [] }
  }

  static func simulate(_ arguments: [String]) throws -> Run {
    let dir = temporaryDirectory()
    let json = dir.appendingPathComponent("run.json"), logits = dir.appendingPathComponent("logits.npy")
    let result = try HWGenProcess.run(["simulate", "--no-power", "--json", json.path, "--logits", logits.path] + arguments)
    #expect(result.succeeded, "\(arguments): \(result.output)")
    let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
    return Run(output: result.output, json: decoded, logits: try NumPyArray(contentsOf: logits))
  }

  /// The default run (kjv-2m, its default prompt), shared by the tests below.
  nonisolated(unsafe) static let defaultRun = Result { try simulate([]) }

  @Test("the default is kjv-2m: the prompt and the RTL's continuation as text come before the numbers, bit-exact")
  func defaultRunIsTheShippedCheckpoint() throws {
    let run = try Self.defaultRun.get()
    let lines = run.lines
    let reference = try ShippedModels.reference("kjv-2m")
    #expect(lines.first?.hasPrefix("hwgen simulate: model kjv-2m") == true, "\(run.output)")
    let prompt = try #require(lines.firstIndex { $0.hasPrefix("prompt: \"\(reference.prompt)\" (7 tokens: 1 362 323 409 457 386 1399)") })
    let text = try #require(lines.firstIndex { $0.hasPrefix("text: \"\(reference.prompt)\" -> \"") }, "\(run.output)")
    let numbers = try #require(lines.firstIndex { $0.hasPrefix("cycles per token:") })
    #expect(prompt < text && text < numbers)
    #expect(run.output.contains("check: all 96000 compared elements"), "\(run.output)")
    #expect(run.ints("prompt") == reference.promptIDs)
    reference.expectWithinTolerance(run.ints("generated"), "RTL")
  }

  @Test("kjv-7m from its Hugging Face directory through the RTL for 256 positions: bit-exact, the reference's continuation within tolerance")
  func sevenMillionThroughTheRTL() throws {
    let reference = try ShippedModels.reference("kjv-7m")
    let run = try Self.simulate(["--weights", ShippedModels.checkpoint("kjv-7m").path, "--text", reference.prompt, "--tokens", "253"])
    #expect(run.json["mismatches"] as? Int == 0 && run.ints("prompt") == reference.promptIDs, "\(run.output)")
    #expect(run.ints("inputs").count == 256 && run.logits.rows == 256)
    #expect(run.output.contains("check: all 1900544 compared elements"), "\(run.output)")
    reference.expectWithinTolerance(Array(run.ints("generated").prefix(24)), "RTL")
  }

  @Test("--logits: one float32 row per token fed, each row's argmax the token the RTL produced")
  func logitsFile() throws {
    let run = try Self.defaultRun.get()
    let inputs = run.ints("inputs"), outputs = run.ints("outputs")
    #expect(run.logits.rows == inputs.count && inputs.count == 7 + 24 - 1)
    #expect(run.logits.columns == 2048)
    for r in 0..<run.logits.rows {
      let row = Array(run.logits.row(r))
      #expect(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) } == outputs[r], "row \(r)")
      // Dequantized Q15.16: every value is a multiple of 2^-16.
      #expect(row.allSatisfy { ($0 * 65536).rounded() == $0 * 65536 })
    }
  }

  @Test("--reference against the Float32 model on the same tokens: small relative L2, the argmax agrees where margins are clear")
  func againstTheFloatReference() throws {
    let run = try Self.defaultRun.get()
    let dir = temporaryDirectory()
    let model = dir.appendingPathComponent("model")
    _ = try CheckpointImport.run(ShippedModels.checkpoint("kjv-2m"), to: model)
    var float = FloatReferenceModel(weights: try ModelDirectory.load(model).0)
    let rows = run.ints("inputs").map { float.step(token: $0).logits }
    let ref = dir.appendingPathComponent("ref.npy")
    try NumPyArray(rows: rows).write(to: ref)
    let compared = try Self.simulate(["--reference", ref.path])
    let comparison = try #require(compared.json["reference"] as? [String: Any], "\(compared.output)")
    let positions = try #require(comparison["positions"] as? [[String: Any]])
    #expect(positions.count == 30)
    for p in positions {
      let rel = p["relativeL2"] as? Double ?? 1
      #expect(rel < 0.05, "position \(p["position"] ?? -1): relative L2 \(rel)")
      if p["top1"] as? Int != p["referenceTop1"] as? Int {
        #expect((p["referenceMargin"] as? Double ?? 1) < ShippedModels.marginTolerance, "\(p)")
      }
    }
    #expect(compared.output.contains("reference (\(ref.path)): 30 positions; logits relative L2 median "), "\(compared.output)")
  }

  @Test("--reference names the first greedy step where the reference's argmax differs, and its margin")
  func divergenceIsReported() throws {
    let run = try Self.defaultRun.get()
    // The run's own logits, except that at position 10 (greedy step 4) token 5 leads by 0.5.
    var logits = run.logits
    let row = Array(logits.row(10))
    logits.values[10 * logits.columns + 5] = row.max()! + 0.5
    let dir = temporaryDirectory()
    let ref = dir.appendingPathComponent("ref.npy")
    try logits.write(to: ref)
    let compared = try Self.simulate(["--reference", ref.path])
    #expect(compared.output.contains("top-1 agreement 29/30"), "\(compared.output)")
    #expect(compared.output.contains("position 10: top-1 \(run.ints("outputs")[10]), reference 5 (reference margin 0.5"), "\(compared.output)")
    #expect(compared.output.contains("greedy text: the first 4 of 24 generated tokens agree; step 5 (position 10) generates"), "\(compared.output)")
    // The run's own logits as the reference: everything agrees.
    let same = dir.appendingPathComponent("same.npy")
    try run.logits.write(to: same)
    let identical = try Self.simulate(["--reference", same.path])
    #expect(identical.output.contains("logits relative L2 median 0, max 0; largest logit error 0; top-1 agreement 30/30"), "\(identical.output)")
    #expect(identical.output.contains("greedy text: all 24 generated tokens are the reference's argmax"))
  }

  @Test("--reference of the wrong shape is one error line before anything is built")
  func referenceShape() throws {
    let dir = temporaryDirectory()
    let ref = dir.appendingPathComponent("short.npy")
    try NumPyArray(rows: 3, columns: 2048, values: [Float](repeating: 0, count: 3 * 2048)).write(to: ref)
    let result = try HWGenProcess.run(["simulate", "--no-power", "--reference", ref.path])
    #expect(!result.succeeded)
    let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
    #expect(errors.count == 1 && errors[0].contains("shape (3, 2048); this run computes 30 positions"), "\(result.output)")
    #expect(!result.output.contains("verilator:"))
  }
}
