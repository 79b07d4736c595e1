import Foundation

/// Small Hugging Face `tokenizer.json` files in the format the MMfreeLM
/// (Llama/Mistral-style) checkpoints ship, written as JSON text so tokens that
/// Swift strings would equate (canonically equivalent spellings) stay
/// distinct. Foundation only, so the CLI test target shares this file
/// (symlinked there).
enum TokenizerFixture {
  /// How the file spells the SentencePiece conventions.
  enum Style {
    /// Older files: normalizer Sequence[Prepend("▁"), Replace(" " -> "▁")], no pre-tokenizer, merges as "a b".
    case normalizer
    /// Newer files: pre-tokenizer Metaspace (prepend_scheme "first", split), no normalizer, merges as ["a", "b"].
    case metaspace
  }

  static let unk = 0, bos = 1, eos = 2
  /// `<0xXX>` is id 3 + XX.
  static func byte(_ b: UInt8) -> Int { 3 + Int(b) }

  /// Characters, then merge results, after the 3 specials and 256 bytes.
  static let pieces = [
    "▁", "h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "\u{E9}" /* é precomposed */,
    "he", "ll", "hell", "hello", "▁hello", "or", "▁w", "▁wor", "ld", "▁world", "bc", "ab",
  ]

  /// The merges in rank order. "b c" ranks before "a b": "abc" is a + bc,
  /// although "a b" is the leftmost mergeable pair.
  static let merges: [(String, String)] = [
    ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("▁", "hello"), ("o", "r"), ("▁", "w"), ("▁w", "or"), ("l", "d"),
    ("▁wor", "ld"), ("b", "c"), ("a", "b"),
  ]

  static func id(_ piece: String) -> Int {
    guard let i = pieces.firstIndex(of: piece) else { preconditionFailure("\(piece) is not in the fixture vocab") }
    return 259 + i
  }

  /// Every (token, id) of the vocab, in id order.
  static var vocab: [(String, Int)] {
    [("<unk>", unk), ("<s>", bos), ("</s>", eos)] + (0...255).map { (String(format: "<0x%02X>", $0), byte(UInt8($0))) }
      + pieces.enumerated().map { ($0.element, 259 + $0.offset) }
  }

  static func json(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// The file's text. `model`, `normalizer`, `preTokenizer`, `decoder` and
  /// `postProcessor` replace the style's JSON for that key when given.
  static func text(
    _ style: Style, byteFallback: Bool = true, fuseUnk: Bool = true, vocab: [(String, Int)] = vocab,
    merges: [(String, String)] = merges, modelType: String = "BPE", model: String? = nil, normalizer: String? = nil,
    preTokenizer: String? = nil, decoder: String? = nil, postProcessor: String? = nil
  ) -> String {
    let added = [("<unk>", unk), ("<s>", bos), ("</s>", eos)].map { t, i in
      "{\"id\": \(i), \"content\": \(json(t)), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
    }
    let mergeList = merges.map { a, b in style == .normalizer ? json("\(a) \(b)") : "[\(json(a)), \(json(b))]" }
    let vocabText = vocab.map { "\(json($0.0)): \($0.1)" }.joined(separator: ",\n      ")
    let modelText = model ?? """
      {"type": \(json(modelType)), "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
          "end_of_word_suffix": null, "fuse_unk": \(fuseUnk), "byte_fallback": \(byteFallback),
          "vocab": {
            \(vocabText)
          },
          "merges": [\(mergeList.joined(separator: ", "))]}
      """
    let defaultNormalizer = style == .normalizer
      ? """
        {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
        """
      : "null"
    let defaultPreTokenizer = style == .metaspace
      ? "{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"prepend_scheme\": \"first\", \"split\": true}" : "null"
    let defaultDecoder = """
      {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
      """
    let defaultPost = """
      {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
      """
    return """
      {
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [\(added.joined(separator: ", "))],
        "normalizer": \(normalizer ?? defaultNormalizer),
        "pre_tokenizer": \(preTokenizer ?? defaultPreTokenizer),
        "post_processor": \(postProcessor ?? defaultPost),
        "decoder": \(decoder ?? defaultDecoder),
        "model": \(modelText)
      }
      """
  }

  /// Writes `text` as `tokenizer.json` into `directory`.
  static func write(_ text: String, into directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
  }
}
