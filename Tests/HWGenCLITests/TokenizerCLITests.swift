import Foundation
import HWSupport
import Testing

/// The fixture's tokens decoded the plain way, for the continuation of a
/// prompt that ends in a word: specials and ids past the vocab skipped, "▁"
/// as a space, runs of `<0xXX>` tokens as their bytes (one U+FFFD per byte
/// when a run is not UTF-8).
private func continuation(_ ids: [Int]) -> String {
  let vocab = Dictionary(uniqueKeysWithValues: TokenizerFixture.vocab.map { ($0.1, $0.0) })
  var text: [UInt8] = []
  var run: [UInt8] = []
  func flush() {
    text += String(validating: run, as: UTF8.self) != nil ? run : Array(String(repeating: "\u{FFFD}", count: run.count).utf8)
    run = []
  }
  for id in ids where id > TokenizerFixture.eos {
    guard let token = vocab[id] else { continue }
    if id < TokenizerFixture.byte(255) + 1 {
      run.append(UInt8(id - TokenizerFixture.byte(0)))
    } else {
      flush()
      text += Array(token.replacingOccurrences(of: "▁", with: " ").utf8)
    }
  }
  flush()
  return String(decoding: text, as: UTF8.self)
}

@Suite("hwgen simulate --text")
struct TokenizerCLITests {
  /// A tiny imported model whose checkpoint has the fixture's tokenizer.json (or none).
  private func importedModel(withTokenizer: Bool) throws -> URL {
    let root = temporaryDirectory()
    let source = root.appendingPathComponent("mmfree-tiny")
    try CheckpointFixture.checkpoint(seed: 8).write(to: source)
    if withTokenizer { try TokenizerFixture.write(TokenizerFixture.text(.normalizer), into: source) }
    let out = root.appendingPathComponent("model")
    let result = try HWGenProcess.run(["import", source.path, "--out", out.path])
    #expect(result.succeeded, "\(result.output)")
    #expect(result.output.contains("tokenizer.json") == withTokenizer, "\(result.output)")
    return out
  }

  @Test func textPromptRunsThroughTheRTLAndPrintsTheGeneratedText() throws {
    let model = try importedModel(withTokenizer: true)
    let run = try HWGenProcess.run(["simulate", "--weights", model.path, "--text", "hello world", "--tokens", "2", "--no-power"])
    #expect(run.succeeded, "\(run.output)")
    // The prompt is <s> ▁hello ▁world: 3 tokens.
    let tokensLine = run.output.split(separator: "\n").first { $0.hasPrefix("tokens: ") }.map(String.init) ?? ""
    #expect(tokensLine.contains(" run (prompt 3), generated "), "\(run.output)")
    let generated = tokensLine.components(separatedBy: "generated ").last!.split(separator: " ").compactMap { Int($0) }
    #expect(generated.count == 2, "\(tokensLine)")
    let expected = "text: \"hello world\" -> \(continuation(generated).debugDescription)"
    #expect(run.output.split(separator: "\n").contains { $0 == expected }, "expected '\(expected)' in:\n\(run.output)")
  }

  @Test func textNeedsATokenizerAndExcludesPrompt() throws {
    let plain = try importedModel(withTokenizer: false)
    let cases: [([String], String)] = [
      (["simulate", "--weights", plain.path, "--text", "hello", "--no-power"], "--text needs a model with tokenizer.json; \(plain.path) has none"),
      (["simulate", "--model", "tiny", "--text", "hello", "--no-power"], "--text needs a model with tokenizer.json"),
      (["simulate", "--weights", plain.path, "--text", "hello", "--prompt", "1", "--no-power"], "--text and --prompt are mutually exclusive"),
    ]
    for (arguments, message) in cases {
      let result = try HWGenProcess.run(arguments)
      #expect(!result.succeeded, "\(arguments)")
      let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
      #expect(errors.count == 1, "\(arguments): \(result.output)")
      #expect(errors.first?.contains(message) == true, "\(arguments): expected '\(message)' in: \(result.output)")
    }
  }
}
