import Foundation
import HWGolden
import HWSupport
import Testing

private typealias F = TokenizerFixture

private func scratch() -> URL {
  ScratchDirectory.make("hwgen-tok")
}

private func tokenizer(_ text: String) throws -> Tokenizer {
  let dir = scratch()
  try F.write(text, into: dir)
  return try Tokenizer(contentsOf: dir.appendingPathComponent("tokenizer.json"))
}

/// The one-line error a malformed file gives.
private func loadError(_ text: String) -> String? {
  do {
    _ = try Tokenizer(data: Data(text.utf8), displayName: "ckpt/tokenizer.json")
    return nil
  } catch {
    return "\(error)"
  }
}

@Suite("tokenizer.json: SentencePiece-style BPE")
struct TokenizerTests {
  static let styles: [TokenizerFixture.Style] = [.normalizer, .metaspace]

  @Test(arguments: styles)
  func plainWordsMergeIntoTheirTokensAfterBOS(_ style: TokenizerFixture.Style) throws {
    let t = try tokenizer(F.text(style))
    #expect(t.encode("hello world") == [F.bos, F.id("▁hello"), F.id("▁world")])
    #expect(t.encode("hello") == [F.bos, F.id("▁hello")])
    #expect(t.encode("") == [F.bos])
  }

  @Test(arguments: styles)
  func mergesApplyByRankNotLeftToRight(_ style: TokenizerFixture.Style) throws {
    let t = try tokenizer(F.text(style))
    // "a b" is the leftmost mergeable pair, but "b c" ranks first: a + bc, never ab + c.
    #expect(t.encode("abc") == [F.bos, F.id("▁"), F.id("a"), F.id("bc")])
    #expect(t.encode("ab") == [F.bos, F.id("▁"), F.id("ab")])
    // With the ranks swapped, "a b" wins.
    var swapped = F.merges
    swapped.swapAt(10, 11)
    let u = try tokenizer(F.text(style, merges: swapped))
    #expect(u.encode("abc") == [F.bos, F.id("▁"), F.id("ab"), F.id("c")])
  }

  @Test func spacesAndALeadingSpace() throws {
    let t = try tokenizer(F.text(.normalizer))
    // The normalizer prepends "▁" and turns every space into "▁".
    #expect(t.encode(" hello") == [F.bos, F.id("▁"), F.id("▁hello")])
    #expect(t.encode("hello  world") == [F.bos, F.id("▁hello"), F.id("▁"), F.id("▁world")])
    // Metaspace "first": a text that starts with a space gets no second "▁".
    let m = try tokenizer(F.text(.metaspace))
    #expect(m.encode(" hello") == [F.bos, F.id("▁hello")])
    #expect(m.encode("hello  world") == [F.bos, F.id("▁hello"), F.id("▁"), F.id("▁world")])
  }

  @Test func metaspacePrependSchemes() throws {
    func scheme(_ s: String) throws -> Tokenizer {
      try tokenizer(F.text(.metaspace, preTokenizer: "{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"prepend_scheme\": \"\(s)\", \"split\": true}"))
    }
    // After a special token, "first" prepends nothing (the section does not start the text), "always" does.
    #expect(try scheme("first").encode("</s>hello") == [F.bos, F.eos, F.id("hello")])
    #expect(try scheme("always").encode("</s>hello") == [F.bos, F.eos, F.id("▁hello")])
    #expect(try scheme("never").encode("hello") == [F.bos, F.id("hello")])
    // The older spelling: add_prefix_space true is "always".
    let old = try tokenizer(F.text(.metaspace, preTokenizer: "{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"add_prefix_space\": true}"))
    #expect(old.encode("</s>hello") == [F.bos, F.eos, F.id("▁hello")])
    // The normalizer style normalizes each section, so it prepends after a special token too.
    #expect(try tokenizer(F.text(.normalizer)).encode("</s>hello") == [F.bos, F.eos, F.id("▁hello")])
  }

  @Test(arguments: styles)
  func byteFallbackForCharactersOutsideTheVocab(_ style: TokenizerFixture.Style) throws {
    let t = try tokenizer(F.text(style))
    // "é" precomposed is a token; "e" + U+0301 is canonically the same text but other bytes.
    #expect(t.encode("\u{E9}") == [F.bos, F.id("▁"), F.id("\u{E9}")])
    #expect(t.encode("e\u{301}") == [F.bos, F.id("▁"), F.id("e"), F.byte(0xCC), F.byte(0x81)])
    #expect(t.encode("x") == [F.bos, F.id("▁"), F.byte(0x78)])
    #expect(t.encode("👍") == [F.bos, F.id("▁"), F.byte(0xF0), F.byte(0x9F), F.byte(0x91), F.byte(0x8D)])
    // Without the precomposed token, "é" falls back to its two bytes.
    let vocab = F.vocab.filter { $0.0 != "\u{E9}" }
    let u = try tokenizer(F.text(style, vocab: vocab))
    #expect(u.encode("h\u{E9}") == [F.bos, F.id("▁"), F.id("h"), F.byte(0xC3), F.byte(0xA9)])
  }

  @Test func unkWhenByteFallbackIsOff() throws {
    let fused = try tokenizer(F.text(.normalizer, byteFallback: false, fuseUnk: true))
    #expect(fused.encode("hxxd") == [F.bos, F.id("▁"), F.id("h"), F.unk, F.id("d")])
    #expect(fused.encode("x👍") == [F.bos, F.id("▁"), F.unk])
    let separate = try tokenizer(F.text(.normalizer, byteFallback: false, fuseUnk: false))
    #expect(separate.encode("hxxd") == [F.bos, F.id("▁"), F.id("h"), F.unk, F.unk, F.id("d")])
  }

  @Test func bosComesFromThePostProcessor() throws {
    let none = try tokenizer(F.text(.normalizer, postProcessor: "null"))
    #expect(none.encode("hello") == [F.id("▁hello")])
    let both = """
      {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}
      """
    #expect(try tokenizer(F.text(.normalizer, postProcessor: both)).encode("hello") == [F.bos, F.id("▁hello"), F.eos])
  }

  static let roundTrips = ["hello world", " hello", "hello  world", "abc", "h\u{E9}llo w\u{F6}rld 👍", "a\nb\tc", "e\u{301}", "xyz 123", "", "日本語"]

  @Test(arguments: roundTrips)
  func decodeInvertsEncode(_ s: String) throws {
    let t = try tokenizer(F.text(.normalizer))
    let ids = t.encode(s)
    #expect(Array(t.decode(ids).utf8) == Array(s.utf8), "\(ids)")
    // The Metaspace style drops one leading space (prepend_scheme "first" adds none to strip).
    let m = try tokenizer(F.text(.metaspace))
    let expected = s.hasPrefix(" ") ? String(s.dropFirst()) : s
    #expect(Array(m.decode(m.encode(s)).utf8) == Array(expected.utf8))
  }

  @Test func decodeSkipsSpecialTokensAndJoinsBytes() throws {
    let t = try tokenizer(F.text(.normalizer))
    #expect(t.decode([F.bos, F.id("▁hello"), F.id("▁world"), F.eos]) == "hello world")
    #expect(t.decode([F.eos, F.id("▁"), F.id("h"), F.byte(0xC3), F.byte(0xA9)]) == "hé")
    // A lone continuation byte is one replacement character per byte.
    #expect(t.decode([F.id("h"), F.byte(0xA9), F.byte(0xA9), F.id("o")]) == "h\u{FFFD}\u{FFFD}o")
    // The continuation of a prompt keeps its word's leading space.
    #expect(t.decode([F.id("▁world")], after: [F.bos, F.id("▁hello")]) == " world")
    #expect(t.decode([F.id("▁world")]) == "world")
    // The Metaspace decoder drops the first token's "▁" and turns the others into spaces.
    let m = try tokenizer(F.text(.metaspace, decoder: "{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"prepend_scheme\": \"first\", \"split\": true}"))
    #expect(m.decode([F.bos, F.id("▁hello"), F.id("▁world")]) == "hello world")
    // No decoder: tokens joined by spaces.
    #expect(try tokenizer(F.text(.normalizer, decoder: "null")).decode([F.id("▁hello"), F.id("he")]) == "▁hello he")
  }

  @Test func encodingIsDeterministicAndLoadsFast() throws {
    // A Llama-sized vocab: 32000 tokens, every one past the letters the merge of its prefix and its last letter.
    var vocab = F.vocab
    var merges = F.merges
    var known = Set(vocab.map(\.0))
    let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
    for l in letters where known.insert(l).inserted { vocab.append((l, vocab.count)) }
    var level = letters
    while vocab.count < 32000 {
      var nextLevel: [String] = []
      for prefix in level {
        for l in letters where vocab.count < 32000 {
          let token = prefix + l
          nextLevel.append(token)
          guard known.insert(token).inserted else { continue }
          vocab.append((token, vocab.count))
          merges.append((prefix, l))
        }
      }
      level = nextLevel
    }
    let text = F.text(.normalizer, vocab: vocab, merges: merges)
    let start = Date()
    let t = try Tokenizer(data: Data(text.utf8), displayName: "big/tokenizer.json")
    let seconds = Date().timeIntervalSince(start)
    #expect(seconds < 20, "loading took \(seconds) s")
    let sample = String(repeating: "hello world habc h\u{E9}llo ", count: 50)
    #expect(t.encode(sample) == t.encode(sample))
    #expect(t.decode(t.encode(sample)) == sample)
  }

  static let malformed: [(String, String, [String])] = [
    ("unsupported model type", F.text(.normalizer, modelType: "WordPiece"), ["model type WordPiece is not supported"]),
    ("Unigram model", F.text(.normalizer, model: "{\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}"), ["model type Unigram is not supported"]),
    ("missing vocab", F.text(.normalizer, model: "{\"type\": \"BPE\", \"merges\": []}"), ["model: missing vocab"]),
    ("merge naming an unknown token", F.text(.normalizer, merges: F.merges + [("zz", "a")]), ["merge 13", "\"zz\", which is not in the vocab"]),
    ("merge whose result is not in the vocab", F.text(.normalizer, merges: [("a", "c")]), ["merge 1", "\"ac\", which is not in the vocab"]),
    ("merge that is not two tokens", F.text(.normalizer, model: "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a a\"]}"), ["merge 1 \"a a a\" is not two tokens"]),
    ("ByteLevel pre-tokenizer", F.text(.normalizer, preTokenizer: "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}"), ["pre_tokenizer ByteLevel is not supported"]),
    ("ByteLevel decoder", F.text(.normalizer, decoder: "{\"type\": \"ByteLevel\"}"), ["decoder ByteLevel is not supported"]),
    ("WordPiece decoder in a sequence", F.text(.normalizer, decoder: "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Fuse\"}, {\"type\": \"WordPiece\"}]}"), ["decoder WordPiece is not supported"]),
    ("NFKC normalizer", F.text(.normalizer, normalizer: "{\"type\": \"NFKC\"}"), ["normalizer NFKC is not supported"]),
    ("regex Replace", F.text(.normalizer, normalizer: "{\"type\": \"Replace\", \"pattern\": {\"Regex\": \" +\"}, \"content\": \"▁\"}"), ["normalizer Replace with a Regex pattern is not supported"]),
    ("ByteLevel post-processor", F.text(.normalizer, postProcessor: "{\"type\": \"ByteLevel\"}"), ["post_processor ByteLevel is not supported"]),
    ("template with an unknown special token", F.text(.normalizer, postProcessor: "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<bos>\", \"type_id\": 0}}], \"special_tokens\": {}}"), ["special token \"<bos>\" has no ids"]),
    ("unk token outside the vocab", F.text(.normalizer, vocab: Array(F.vocab.dropFirst())), ["unk_token \"<unk>\" is not in the vocab"]),
    ("two tokens with one id", F.text(.normalizer, vocab: F.vocab + [("zz", 5)]), ["vocab gives id 5 to both"]),
    ("dropout", F.text(.normalizer, model: "{\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {}, \"merges\": []}"), ["model: dropout 0.1 is not supported"]),
    ("truncation", F.text(.normalizer).replacingOccurrences(of: "\"truncation\": null", with: "\"truncation\": {\"max_length\": 8}"), ["truncation is not supported"]),
    ("malformed JSON", String(F.text(.normalizer).dropLast(3)), ["malformed JSON"]),
    ("not an object", "[1, 2]", ["malformed JSON: not an object"]),
  ]

  @Test(arguments: malformed.indices)
  func aMalformedFileIsOneClearError(_ i: Int) {
    let (label, text, expected) = Self.malformed[i]
    let message = loadError(text)
    #expect(message != nil, "\(label): loaded")
    guard let message else { return }
    #expect(message.hasPrefix("ckpt/tokenizer.json: "), "\(label): \(message)")
    #expect(!message.contains("\n"), "\(label): \(message)")
    for e in expected { #expect(message.contains(e), "\(label): expected '\(e)' in: \(message)") }
  }

  // MARK: Import

  @Test func importCopiesTheTokenizerAndLoadVerifiesIt() throws {
    let root = scratch()
    let source = root.appendingPathComponent("ckpt")
    try CheckpointFixture.checkpoint(seed: 5).write(to: source)
    let text = F.text(.normalizer)
    try F.write(text, into: source)
    let out = root.appendingPathComponent("model")
    let summary = try CheckpointImport.run(source, to: out)

    let entry = summary.manifest.files.first { $0.name == "tokenizer.json" }
    #expect(entry?.sha256 == SHA256.hex(text))
    #expect(entry?.bytes == text.utf8.count)
    #expect(try Data(contentsOf: out.appendingPathComponent("tokenizer.json")) == Data(text.utf8))

    let (_, info) = try ModelDirectory.load(out)
    let loaded = try #require(info.tokenizer)
    #expect(loaded.encode("hello world") == [F.bos, F.id("▁hello"), F.id("▁world")])

    // Without tokenizer.json the model directory has none.
    let plain = root.appendingPathComponent("plain")
    try CheckpointFixture.checkpoint(seed: 5).write(to: plain)
    _ = try CheckpointImport.run(plain, to: root.appendingPathComponent("plain-model"))
    #expect(try ModelDirectory.load(root.appendingPathComponent("plain-model")).1.tokenizer == nil)

    // A changed byte: the load fails on the hash, naming the file.
    let copy = out.appendingPathComponent("tokenizer.json")
    try Data(text.replacingOccurrences(of: "\"▁hello\": ", with: "\"▁hellp\": ").utf8).write(to: copy)
    let error = #expect(throws: CheckpointError.self) { try ModelDirectory.load(out) }
    #expect(error?.description.hasPrefix("\(copy.path): SHA-256") == true, "\(String(describing: error))")
    #expect(error?.description.contains("the file was changed") == true)
  }

  @Test func aBadTokenizerFailsTheImportAndLeavesNothing() throws {
    let root = scratch()
    let source = root.appendingPathComponent("ckpt")
    try CheckpointFixture.checkpoint(seed: 5).write(to: source)
    try F.write(F.text(.normalizer, modelType: "WordPiece"), into: source)
    let out = root.appendingPathComponent("model")
    let error = #expect(throws: CheckpointError.self) { try CheckpointImport.run(source, to: out) }
    #expect(
      error?.description
        == "\(source.appendingPathComponent("tokenizer.json").path): model type WordPiece is not supported (hwgen reads SentencePiece-style BPE tokenizers)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["ckpt"])
  }
}
