import Foundation
import HWSupport

/// A Hugging Face `tokenizer.json` of the SentencePiece-BPE kind the
/// MMfreeLM checkpoints ship (Llama/Mistral style), read and applied as the
/// `tokenizers` library does:
///
/// - added tokens (`added_tokens`) are cut out of the text first, leftmost
///   longest, honouring `lstrip`, `rstrip`, `single_word` and `normalized`;
/// - normalizer: `Sequence`, `Prepend`, `Replace` with a string pattern, or none;
/// - pre-tokenizer: `Metaspace` (`prepend_scheme` always / first / never, or
///   the older `add_prefix_space`; `split`), or none;
/// - model `BPE`: each word's characters (Unicode scalars) looked up in the
///   vocab, a character that is not there becomes its UTF-8 bytes as `<0xXX>`
///   tokens (`byte_fallback`) or `unk_token` (fused when `fuse_unk`); then the
///   lowest-ranked adjacent pair is merged, leftmost first, until none is left
///   (`ignore_merges` keeps a whole word that is in the vocab);
/// - post-processor `TemplateProcessing` (its `single` template: `<s>` first)
///   or none;
/// - decoder: `Sequence`, `Replace`, `ByteFallback`, `Fuse`, `Strip`,
///   `Metaspace`, or none (tokens joined by spaces); special tokens are skipped.
///
/// Anything else (ByteLevel, WordPiece, Unigram, regex patterns, other
/// normalizers, dropout, truncation, padding) is refused with one error naming
/// the component. Tokens are compared as UTF-8 bytes, never as Swift strings
/// (which would equate canonically equivalent spellings), so the JSON is read
/// by its own byte-level parser.
public final class Tokenizer: Hashable, Sendable {
  public static let fileName = "tokenizer.json"

  /// What error messages call the file.
  public let displayName: String
  /// SHA-256 of the file's bytes: two tokenizers from the same bytes are equal.
  public let sha256: String

  private let vocab: [[UInt8]: Int]
  /// Every id's token (model vocab, then added tokens over it).
  private let tokens: [Int: [UInt8]]
  /// (left id << 32 | right id) -> (rank, merged id).
  private let merges: [UInt64: (rank: Int32, id: Int32)]
  private let unkID: Int?
  private let fuseUnk: Bool
  private let byteFallback: Bool
  private let ignoreMerges: Bool
  /// `<0xXX>` token ids, when byte fallback is on and all 256 are present or not.
  private let byteIDs: [Int?]
  private let added: [AddedToken]
  private let specialIDs: Set<Int>
  private let normalizer: [Normalizer]?
  private let metaspace: Metaspace?
  private let template: [TemplatePiece]?
  private let decoder: [Decoder]?

  struct AddedToken: Sendable {
    let id: Int
    let content: [UInt8]
    let singleWord, lstrip, rstrip, normalized, special: Bool
    /// The pattern matched in normalized text (`content` normalized), for `normalized` tokens.
    var pattern: [UInt8]
  }

  enum Normalizer: Sendable {
    case prepend([UInt8])
    case replace([UInt8], [UInt8])
  }

  struct Metaspace: Sendable {
    enum Prepend: String, Sendable { case always, first, never }
    let replacement: [UInt8]
    let prepend: Prepend
    let split: Bool
  }

  enum TemplatePiece: Sendable {
    case sequence
    case special([Int])
  }

  enum Decoder: Sendable {
    case replace([UInt8], [UInt8])
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case metaspace(replacement: Unicode.Scalar, prependFirst: Bool)
  }

  // MARK: Loading

  public convenience init(contentsOf url: URL, displayName: String? = nil) throws {
    let name = displayName ?? url.path
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw CheckpointError(file: name, "cannot read: \((error as NSError).localizedDescription)")
    }
    try self.init(data: data, displayName: name)
  }

  public init(data: Data, displayName file: String) throws {
    func fail(_ message: String) -> CheckpointError { CheckpointError(file: file, message) }
    displayName = file
    var hasher = SHA256()
    data.withUnsafeBytes { hasher.update($0) }
    sha256 = hasher.hexDigest()

    let root: JSON
    do { root = try JSON.parse([UInt8](data)) } catch let error as JSON.ParseError {
      throw fail("malformed JSON: \(error.message)")
    }
    guard case .object = root else { throw fail("malformed JSON: not an object") }

    for key in ["truncation", "padding"] {
      if let value = root[key], !value.isNull { throw fail("\(key) is not supported (encoding one prompt must not cut or pad it); expected null") }
    }

    // Model.
    guard let model = root["model"], case .object = model else { throw fail("missing key model") }
    let modelType = model["type"]?.string ?? (model["merges"] != nil ? "BPE" : "?")
    guard modelType == "BPE" else {
      throw fail("model type \(modelType) is not supported (hwgen reads SentencePiece-style BPE tokenizers)")
    }
    guard let vocabJSON = model["vocab"], case .object(let vocabEntries) = vocabJSON else { throw fail("model: missing vocab (an object of token: id)") }
    var vocab: [[UInt8]: Int] = [:]
    vocab.reserveCapacity(vocabEntries.count)
    var tokens: [Int: [UInt8]] = [:]
    tokens.reserveCapacity(vocabEntries.count)
    for (token, value) in vocabEntries {
      guard let id = value.integer, id >= 0, id < Int(Int32.max) else {
        throw fail("model: vocab entry \(Self.quoted(token)) has id \(value), not a non-negative integer")
      }
      guard vocab.updateValue(id, forKey: token) == nil else { throw fail("model: vocab lists \(Self.quoted(token)) twice") }
      if let other = tokens.updateValue(token, forKey: id) {
        throw fail("model: vocab gives id \(id) to both \(Self.quoted(other)) and \(Self.quoted(token))")
      }
    }
    for key in ["dropout", "continuing_subword_prefix", "end_of_word_suffix"] {
      if let value = model[key], !value.isNull { throw fail("model: \(key) \(value) is not supported; expected null") }
    }
    fuseUnk = try model["fuse_unk"].map { try Self.bool($0, "model: fuse_unk", fail) } ?? false
    byteFallback = try model["byte_fallback"].map { try Self.bool($0, "model: byte_fallback", fail) } ?? false
    ignoreMerges = try model["ignore_merges"].map { try Self.bool($0, "model: ignore_merges", fail) } ?? false
    if let unk = model["unk_token"], !unk.isNull {
      guard let name = unk.bytes else { throw fail("model: unk_token \(unk) is not a string") }
      guard let id = vocab[name] else { throw fail("model: unk_token \(Self.quoted(name)) is not in the vocab") }
      unkID = id
    } else {
      unkID = nil
    }
    byteIDs = (0..<256).map { vocab[Array(String(format: "<0x%02X>", $0).utf8)] }

    guard let mergesJSON = model["merges"], case .array(let mergeList) = mergesJSON else { throw fail("model: missing merges (a list)") }
    var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
    merges.reserveCapacity(mergeList.count)
    var rank: Int32 = 0
    for (line, entry) in mergeList.enumerated() {
      let pair: ([UInt8], [UInt8])
      switch entry {
      case .string(let text):
        if text.starts(with: Array("#version".utf8)) { continue }
        let parts = text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw fail("model: merge \(line + 1) \(Self.quoted(text)) is not two tokens separated by one space") }
        pair = (Array(parts[0]), Array(parts[1]))
      case .array(let parts) where parts.count == 2 && parts.allSatisfy({ $0.bytes != nil }):
        pair = (parts[0].bytes!, parts[1].bytes!)
      default:
        throw fail("model: merge \(line + 1) is \(entry), neither \"a b\" nor [\"a\", \"b\"]")
      }
      for part in [pair.0, pair.1, pair.0 + pair.1] where vocab[part] == nil {
        throw fail("model: merge \(line + 1) (\(Self.quoted(pair.0)) \(Self.quoted(pair.1))) names \(Self.quoted(part)), which is not in the vocab")
      }
      let key = UInt64(vocab[pair.0]!) << 32 | UInt64(vocab[pair.1]!)
      // A pair listed again keeps its later rank, as the reference's map does.
      merges[key] = (rank, Int32(vocab[pair.0 + pair.1]!))
      rank += 1
    }
    self.vocab = vocab
    self.merges = merges

    // Added tokens.
    var added: [AddedToken] = []
    if let list = root["added_tokens"], !list.isNull {
      guard case .array(let entries) = list else { throw fail("added_tokens is not a list") }
      for (i, entry) in entries.enumerated() {
        guard let id = entry["id"]?.integer, id >= 0, let content = entry["content"]?.bytes, !content.isEmpty else {
          throw fail("added_tokens[\(i)] needs an id and a non-empty content")
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
          try entry[key].map { try Self.bool($0, "added_tokens[\(i)] \(key)", fail) } ?? fallback
        }
        let special = try flag("special", false)
        added.append(AddedToken(
          id: id, content: content, singleWord: try flag("single_word", false), lstrip: try flag("lstrip", false),
          rstrip: try flag("rstrip", false), normalized: try flag("normalized", !special), special: special, pattern: content))
        tokens[id] = content
      }
    }
    self.tokens = tokens
    specialIDs = Set(added.filter(\.special).map(\.id))

    // Normalizer.
    if let n = root["normalizer"], !n.isNull {
      normalizer = try Self.normalizers(n, fail)
    } else {
      normalizer = nil
    }
    // A normalized added token matches its normalized spelling.
    for i in added.indices where added[i].normalized {
      added[i].pattern = Self.normalize(added[i].content, normalizer ?? [])
    }
    self.added = added

    // Pre-tokenizer.
    if let p = root["pre_tokenizer"], !p.isNull {
      let type = p["type"]?.string ?? "?"
      guard type == "Metaspace" else { throw fail("pre_tokenizer \(type) is not supported (Metaspace or none)") }
      guard let replacement = p["replacement"]?.bytes, String(decoding: replacement, as: UTF8.self).unicodeScalars.count == 1 else {
        throw fail("pre_tokenizer Metaspace: replacement must be one character")
      }
      var scheme = Metaspace.Prepend.always
      if let value = p["prepend_scheme"], !value.isNull {
        guard let text = value.string, let s = Metaspace.Prepend(rawValue: text) else {
          throw fail("pre_tokenizer Metaspace: prepend_scheme \(value) is not \"always\", \"first\" or \"never\"")
        }
        scheme = s
      }
      if let value = p["add_prefix_space"], !value.isNull, try !Self.bool(value, "pre_tokenizer Metaspace: add_prefix_space", fail) {
        guard p["prepend_scheme"] == nil || scheme == .never else { throw fail("pre_tokenizer Metaspace: add_prefix_space false does not match prepend_scheme \(scheme.rawValue)") }
        scheme = .never
      }
      let split = try p["split"].map { $0.isNull ? true : try Self.bool($0, "pre_tokenizer Metaspace: split", fail) } ?? true
      metaspace = Metaspace(replacement: replacement, prepend: scheme, split: split)
    } else {
      metaspace = nil
    }

    // Post-processor.
    if let p = root["post_processor"], !p.isNull {
      template = try Self.template(p, vocab: vocab, fail)
    } else {
      template = nil
    }

    // Decoder.
    if let d = root["decoder"], !d.isNull {
      decoder = try Self.decoders(d, fail)
    } else {
      decoder = nil
    }
  }

  private static func bool(_ value: JSON, _ what: String, _ fail: (String) -> CheckpointError) throws -> Bool {
    guard case .bool(let b) = value else { throw fail("\(what) must be true or false, got \(value)") }
    return b
  }

  private static func normalizers(_ n: JSON, _ fail: (String) -> CheckpointError) throws -> [Normalizer] {
    let type = n["type"]?.string ?? "?"
    switch type {
    case "Sequence":
      guard case .array(let parts)? = n["normalizers"] else { throw fail("normalizer Sequence: missing normalizers list") }
      return try parts.flatMap { try normalizers($0, fail) }
    case "Prepend":
      guard let text = n["prepend"]?.bytes else { throw fail("normalizer Prepend: missing prepend string") }
      return [.prepend(text)]
    case "Replace":
      let (pattern, content) = try replacement(n, "normalizer", fail)
      return [.replace(pattern, content)]
    default:
      throw fail("normalizer \(type) is not supported (Sequence, Prepend, Replace with a string pattern)")
    }
  }

  private static func replacement(_ n: JSON, _ what: String, _ fail: (String) -> CheckpointError) throws -> ([UInt8], [UInt8]) {
    guard let pattern = n["pattern"], let content = n["content"]?.bytes else { throw fail("\(what) Replace: needs pattern and content") }
    guard let text = pattern["String"]?.bytes, !text.isEmpty else {
      if pattern["Regex"] != nil { throw fail("\(what) Replace with a Regex pattern is not supported (string patterns only)") }
      throw fail("\(what) Replace: pattern \(pattern) is not {\"String\": ...}")
    }
    return (text, content)
  }

  private static func template(_ p: JSON, vocab: [[UInt8]: Int], _ fail: (String) -> CheckpointError) throws -> [TemplatePiece] {
    let type = p["type"]?.string ?? "?"
    if type == "Sequence" {
      guard case .array(let parts)? = p["processors"] else { throw fail("post_processor Sequence: missing processors list") }
      // Applied in order: each template wraps what the previous produced.
      var result: [TemplatePiece] = [.sequence]
      for part in parts {
        let outer = try template(part, vocab: vocab, fail)
        result = outer.flatMap { piece -> [TemplatePiece] in
          if case .sequence = piece { return result }
          return [piece]
        }
      }
      return result
    }
    guard type == "TemplateProcessing" else {
      throw fail("post_processor \(type) is not supported (TemplateProcessing or none)")
    }
    guard case .array(let single)? = p["single"] else { throw fail("post_processor TemplateProcessing: missing single template") }
    let specials = p["special_tokens"]
    var pieces: [TemplatePiece] = []
    for piece in single {
      if let sequence = piece["Sequence"] {
        guard sequence["id"]?.string == "A" else { throw fail("post_processor TemplateProcessing: the single template may only hold sequence A, got \(sequence)") }
        pieces.append(.sequence)
      } else if let special = piece["SpecialToken"], let name = special["id"]?.bytes {
        guard let entry = specials?[String(decoding: name, as: UTF8.self)], case .array(let ids)? = entry["ids"],
          !ids.isEmpty, ids.allSatisfy({ $0.integer.map { $0 >= 0 } == true })
        else {
          throw fail("post_processor TemplateProcessing: special token \(quoted(name)) has no ids in special_tokens")
        }
        pieces.append(.special(ids.map { $0.integer! }))
      } else {
        throw fail("post_processor TemplateProcessing: template piece \(piece) is neither Sequence nor SpecialToken")
      }
    }
    return pieces
  }

  private static func decoders(_ d: JSON, _ fail: (String) -> CheckpointError) throws -> [Decoder] {
    let type = d["type"]?.string ?? "?"
    func scalar(_ bytes: [UInt8]?, _ what: String) throws -> Unicode.Scalar {
      let scalars = bytes.map { Array(String(decoding: $0, as: UTF8.self).unicodeScalars) } ?? []
      guard scalars.count == 1 else { throw fail("decoder \(type): \(what) must be one character") }
      return scalars[0]
    }
    func count(_ key: String) throws -> Int {
      guard let n = d[key]?.integer, n >= 0 else { throw fail("decoder Strip: \(key) must be a non-negative integer") }
      return n
    }
    switch type {
    case "Sequence":
      guard case .array(let parts)? = d["decoders"] else { throw fail("decoder Sequence: missing decoders list") }
      return try parts.flatMap { try decoders($0, fail) }
    case "Replace":
      let (pattern, content) = try replacement(d, "decoder", fail)
      return [.replace(pattern, content)]
    case "ByteFallback": return [.byteFallback]
    case "Fuse": return [.fuse]
    case "Strip":
      return [.strip(content: try scalar(d["content"]?.bytes, "content"), start: try count("start"), stop: try count("stop"))]
    case "Metaspace":
      var prependFirst = true
      if let s = d["prepend_scheme"]?.string { prependFirst = s != "never" }
      if case .bool(false)? = d["add_prefix_space"] { prependFirst = false }
      return [.metaspace(replacement: try scalar(d["replacement"]?.bytes, "replacement"), prependFirst: prependFirst)]
    default:
      throw fail("decoder \(type) is not supported (Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace)")
    }
  }

  // MARK: Encoding

  /// The ids of `text`: added tokens, normalizer, pre-tokenizer, BPE, then
  /// the post-processor's template (`<s>` first for the Llama-style files).
  public func encode(_ text: String) -> [Int] {
    var ids: [Int] = []
    let original = Array(text.utf8)
    // 1. Added tokens that match the raw text.
    for (piece, start, id) in split(original, matching: added.filter { !$0.normalized }, at: 0) {
      if let id { ids.append(id); continue }
      // 2. Normalize, then the added tokens that match normalized text.
      let normalized = Self.normalize(piece, normalizer ?? [])
      for (section, offset, id) in split(normalized, matching: added.filter(\.normalized), at: start) {
        if let id { ids.append(id); continue }
        for word in preTokenize(section, startsText: offset == 0) { ids += bpe(word) }
      }
    }
    guard let template else { return ids }
    return template.flatMap { piece -> [Int] in
      switch piece {
      case .sequence: return ids
      case .special(let s): return s
      }
    }
  }

  /// `text` cut at the added tokens it holds (leftmost, then longest), as
  /// (bytes, offset of the piece in the original text, added token id).
  /// `base` is the offset of `text` itself.
  private func split(_ text: [UInt8], matching candidates: [AddedToken], at base: Int) -> [([UInt8], Int, Int?)] {
    guard !candidates.isEmpty, !text.isEmpty else { return text.isEmpty ? [] : [(text, base, nil)] }
    var pieces: [([UInt8], Int, Int?)] = []
    var done = 0
    var i = 0
    while i < text.count {
      var best: AddedToken?
      for token in candidates where token.pattern.count > (best?.pattern.count ?? 0) && i + token.pattern.count <= text.count {
        if text[i..<(i + token.pattern.count)].elementsEqual(token.pattern) { best = token }
      }
      guard let token = best else { i += 1; continue }
      var start = i, stop = i + token.pattern.count
      if token.singleWord && (Self.endsWithWordCharacter(text[..<start]) || Self.startsWithWordCharacter(text[stop...])) {
        i += 1
        continue
      }
      if token.lstrip {
        while start > done, let s = Self.lastScalar(text[done..<start]), s.properties.isWhitespace { start -= String(s).utf8.count }
      }
      if token.rstrip {
        while stop < text.count, let s = Self.firstScalar(text[stop...]), s.properties.isWhitespace { stop += String(s).utf8.count }
      }
      if done < start { pieces.append((Array(text[done..<start]), base + done, nil)) }
      pieces.append((Array(text[start..<stop]), base + start, token.id))
      done = stop
      i = stop
    }
    if done < text.count { pieces.append((Array(text[done...]), base + done, nil)) }
    return pieces
  }

  private static func normalize(_ text: [UInt8], _ steps: [Normalizer]) -> [UInt8] {
    var text = text
    for step in steps {
      switch step {
      case .prepend(let p): if !text.isEmpty { text = p + text }
      case .replace(let pattern, let content): text = replace(text, pattern, content)
      }
    }
    return text
  }

  /// The words of one section: Metaspace replaces spaces, prepends the
  /// replacement (always, or only to the section that starts the text) and
  /// splits before each replacement; without a pre-tokenizer the section is one word.
  private func preTokenize(_ section: [UInt8], startsText: Bool) -> [[UInt8]] {
    guard let m = metaspace else { return [section] }
    var text = Self.replace(section, [UInt8(ascii: " ")], m.replacement)
    let prepend = m.prepend == .always || (m.prepend == .first && startsText)
    if prepend && !text.starts(with: m.replacement) { text = m.replacement + text }
    guard m.split else { return [text] }
    var words: [[UInt8]] = []
    var start = 0, i = 0
    while i < text.count {
      if i > start && text[i...].starts(with: m.replacement) {
        words.append(Array(text[start..<i]))
        start = i
      }
      i += text[i...].starts(with: m.replacement) ? m.replacement.count : 1
    }
    if start < text.count { words.append(Array(text[start...])) }
    return words
  }

  /// One word through the BPE model.
  private func bpe(_ word: [UInt8]) -> [Int] {
    guard !word.isEmpty else { return [] }
    if ignoreMerges, let id = vocab[word] { return [id] }
    // Symbols: one per character (Unicode scalar), or its bytes, or unk.
    var ids: [Int] = []
    var pendingUnk = false
    for scalar in String(decoding: word, as: UTF8.self).unicodeScalars {
      let bytes = Array(String(scalar).utf8)
      if let id = vocab[bytes] {
        if pendingUnk { ids.append(unkID!); pendingUnk = false }
        ids.append(id)
        continue
      }
      if byteFallback, bytes.allSatisfy({ byteIDs[Int($0)] != nil }) {
        if pendingUnk { ids.append(unkID!); pendingUnk = false }
        ids += bytes.map { byteIDs[Int($0)]! }
        continue
      }
      guard unkID != nil else { continue }  // no unk token: the character is dropped, as the reference does
      if pendingUnk && !fuseUnk { ids.append(unkID!) }
      pendingUnk = true
    }
    if pendingUnk { ids.append(unkID!) }
    return merge(ids)
  }

  /// Merges by rank: the adjacent pair with the lowest rank, leftmost among
  /// equals, until no adjacent pair has a merge (a heap of candidate pairs,
  /// stale entries skipped, as the reference's `Word::merge_all`).
  private func merge(_ ids: [Int]) -> [Int] {
    guard ids.count > 1 else { return ids }
    var symbol = ids
    var next = Array(1...ids.count)
    next[ids.count - 1] = -1
    var prev = Array(-1..<(ids.count - 1))
    var alive = [Bool](repeating: true, count: ids.count)
    var heap = MergeHeap()
    func candidate(_ left: Int) {
      let right = next[left]
      guard right >= 0, let m = merges[UInt64(symbol[left]) << 32 | UInt64(symbol[right])] else { return }
      heap.push(MergeHeap.Entry(rank: m.rank, position: left, id: m.id))
    }
    for i in 0..<(ids.count - 1) { candidate(i) }
    while let top = heap.pop() {
      let left = top.position
      guard alive[left], next[left] >= 0 else { continue }
      let right = next[left]
      guard let m = merges[UInt64(symbol[left]) << 32 | UInt64(symbol[right])], m.id == top.id, m.rank == top.rank else { continue }
      symbol[left] = Int(m.id)
      alive[right] = false
      next[left] = next[right]
      if next[right] >= 0 { prev[next[right]] = left }
      if prev[left] >= 0 { candidate(prev[left]) }
      candidate(left)
    }
    return (0..<ids.count).filter { alive[$0] }.map { symbol[$0] }
  }

  // MARK: Decoding

  /// The text of `ids`: special tokens skipped, ids with no token skipped
  /// (as the reference does), then the decoder.
  public func decode(_ ids: [Int]) -> String {
    var pieces: [[UInt8]] = []
    for id in ids where !specialIDs.contains(id) {
      if let token = tokens[id] { pieces.append(token) }
    }
    guard let decoder else { return pieces.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }
    for step in decoder {
      switch step {
      case .replace(let pattern, let content):
        pieces = pieces.map { Self.replace($0, pattern, content) }
      case .byteFallback:
        var out: [[UInt8]] = []
        var bytes: [UInt8] = []
        func flush() {
          guard !bytes.isEmpty else { return }
          if String(validating: bytes, as: UTF8.self) != nil {
            out.append(bytes)
          } else {
            out += [[UInt8]](repeating: Array("\u{FFFD}".utf8), count: bytes.count)
          }
          bytes = []
        }
        for piece in pieces {
          if let byte = Self.byteToken(piece) { bytes.append(byte) } else { flush(); out.append(piece) }
        }
        flush()
        pieces = out
      case .fuse:
        pieces = [pieces.flatMap { $0 }]
      case .strip(let content, let start, let stop):
        pieces = pieces.map { piece in
          var scalars = Array(String(decoding: piece, as: UTF8.self).unicodeScalars)
          var cut = 0
          while cut < start, cut < scalars.count, scalars[cut] == content { cut += 1 }
          scalars.removeFirst(cut)
          cut = 0
          while cut < stop, let last = scalars.last, last == content { scalars.removeLast(); cut += 1 }
          var s = String.UnicodeScalarView()
          s.append(contentsOf: scalars)
          return Array(String(s).utf8)
        }
      case .metaspace(let replacement, let prependFirst):
        pieces = pieces.enumerated().map { i, piece in
          var s = String.UnicodeScalarView()
          for scalar in String(decoding: piece, as: UTF8.self).unicodeScalars {
            if scalar == replacement {
              if i == 0 && prependFirst { continue }
              s.append(" ")
            } else {
              s.append(scalar)
            }
          }
          return Array(String(s).utf8)
        }
      }
    }
    return String(decoding: pieces.flatMap { $0 }, as: UTF8.self)
  }

  /// The text `generated` adds after `prompt`: decode(prompt + generated)
  /// past decode(prompt), so a word's leading space survives; when the
  /// prompt's text is not a prefix (a character split across the boundary),
  /// decode(generated) alone.
  public func decode(_ generated: [Int], after prompt: [Int]) -> String {
    let whole = Array(decode(prompt + generated).utf8)
    let head = Array(decode(prompt).utf8)
    guard whole.starts(with: head) else { return decode(generated) }
    return String(decoding: whole[head.count...], as: UTF8.self)
  }

  // MARK: Helpers

  /// `<0xXX>` -> XX.
  private static func byteToken(_ t: [UInt8]) -> UInt8? {
    guard t.count == 6, t.starts(with: Array("<0x".utf8)), t[5] == UInt8(ascii: ">") else { return nil }
    return UInt8(String(decoding: t[3..<5], as: UTF8.self), radix: 16)
  }

  private static func replace(_ text: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, text.count >= pattern.count else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
      if text[i] == pattern[0], i + pattern.count <= text.count, text[i..<(i + pattern.count)].elementsEqual(pattern) {
        out += content
        i += pattern.count
      } else {
        out.append(text[i])
        i += 1
      }
    }
    return out
  }

  private static func firstScalar(_ bytes: ArraySlice<UInt8>) -> Unicode.Scalar? {
    String(decoding: bytes.prefix(4), as: UTF8.self).unicodeScalars.first
  }

  private static func lastScalar(_ bytes: ArraySlice<UInt8>) -> Unicode.Scalar? {
    var start = bytes.endIndex
    while start > bytes.startIndex {
      start -= 1
      if bytes[start] & 0xC0 != 0x80 { break }
    }
    return String(decoding: bytes[start...], as: UTF8.self).unicodeScalars.last
  }

  private static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    s.properties.isAlphabetic || s.properties.numericType != nil || s == "_"
  }

  private static func endsWithWordCharacter(_ bytes: ArraySlice<UInt8>) -> Bool { lastScalar(bytes).map(isWordCharacter) ?? false }
  private static func startsWithWordCharacter(_ bytes: ArraySlice<UInt8>) -> Bool { firstScalar(bytes).map(isWordCharacter) ?? false }

  static func quoted(_ bytes: [UInt8]) -> String { "\"\(String(decoding: bytes, as: UTF8.self))\"" }

  public static func == (a: Tokenizer, b: Tokenizer) -> Bool { a.sha256 == b.sha256 }
  public func hash(into hasher: inout Hasher) { hasher.combine(sha256) }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
private struct MergeHeap {
  struct Entry {
    let rank: Int32
    let position: Int
    let id: Int32
    func precedes(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : position < o.position }
  }
  private var items: [Entry] = []

  mutating func push(_ e: Entry) {
    items.append(e)
    var i = items.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard items[i].precedes(items[parent]) else { break }
      items.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> Entry? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < items.count && items[l].precedes(items[m]) { m = l }
        if r < items.count && items[r].precedes(items[m]) { m = r }
        if m == i { break }
        items.swapAt(i, m)
        i = m
      }
    }
    return top
  }
}

/// JSON read byte by byte, strings kept as their UTF-8 bytes and objects as
/// ordered (key, value) lists: `JSONSerialization` would hand back Swift
/// strings and dictionaries, which merge keys that are canonically equivalent
/// but different tokens.
enum JSON: CustomStringConvertible, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string([UInt8])
  case array([JSON])
  case object([([UInt8], JSON)])

  struct ParseError: Error {
    let message: String
  }

  var isNull: Bool { if case .null = self { return true } else { return false } }
  var bytes: [UInt8]? { if case .string(let b) = self { return b } else { return nil } }
  var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
  var integer: Int? {
    guard case .number(let d) = self, d.rounded() == d, abs(d) < 9e15 else { return nil }
    return Int(d)
  }

  /// The value of `key` in an object (the last one, if the key repeats).
  subscript(key: String) -> JSON? {
    guard case .object(let entries) = self else { return nil }
    let k = Array(key.utf8)
    return entries.last { $0.0 == k }?.1
  }

  /// The value as it would read in the file (short).
  var description: String {
    let text: String
    switch self {
    case .null: text = "null"
    case .bool(let b): text = b ? "true" : "false"
    case .number(let d): text = d.rounded() == d && abs(d) < 9e15 ? String(Int(d)) : String(d)
    case .string(let b): text = Tokenizer.quoted(b)
    case .array(let a): text = "[" + a.map(\.description).joined(separator: ", ") + "]"
    case .object(let o): text = "{" + o.map { "\(Tokenizer.quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    return text.count > 80 ? String(text.prefix(77)) + "..." : text
  }

  static func parse(_ bytes: [UInt8]) throws -> JSON {
    var p = Parser(bytes: bytes)
    p.skipSpace()
    let value = try p.value(depth: 0)
    p.skipSpace()
    guard p.i == bytes.count else { throw p.error("unexpected text after the value") }
    return value
  }

  private struct Parser {
    let bytes: [UInt8]
    var i = 0

    func error(_ message: String) -> ParseError { ParseError(message: "\(message) at byte \(i)") }

    mutating func skipSpace() {
      while i < bytes.count {
        switch bytes[i] {
        case 0x20, 0x0A, 0x0D, 0x09: i += 1
        default: return
        }
      }
    }

    mutating func expect(_ word: String) throws {
      let w = Array(word.utf8)
      guard i + w.count <= bytes.count, bytes[i..<(i + w.count)].elementsEqual(w) else { throw error("invalid literal") }
      i += w.count
    }

    mutating func value(depth: Int) throws -> JSON {
      guard depth < 512 else { throw error("nested too deeply") }
      guard i < bytes.count else { throw error("unexpected end of the file") }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var entries: [([UInt8], JSON)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
        while true {
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
          let key = try string()
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
          i += 1
          skipSpace()
          entries.append((key, try value(depth: depth + 1)))
          skipSpace()
          guard i < bytes.count else { throw error("unterminated object") }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          guard bytes[i] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
          i += 1
          return .object(entries)
        }
      case UInt8(ascii: "["):
        i += 1
        var items: [JSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
          skipSpace()
          items.append(try value(depth: depth + 1))
          skipSpace()
          guard i < bytes.count else { throw error("unterminated array") }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          guard bytes[i] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
          i += 1
          return .array(items)
        }
      case UInt8(ascii: "\""):
        return .string(try string())
      case UInt8(ascii: "t"): try expect("true"); return .bool(true)
      case UInt8(ascii: "f"): try expect("false"); return .bool(false)
      case UInt8(ascii: "n"): try expect("null"); return .null
      default:
        let start = i
        while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
        guard i > start, let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
          i = start
          throw error("unexpected character")
        }
        return .number(d)
      }
    }

    /// A string's bytes, escapes resolved (\uXXXX with surrogate pairs to UTF-8).
    mutating func string() throws -> [UInt8] {
      i += 1
      var out: [UInt8] = []
      let start = i
      while true {
        guard i < bytes.count else { throw error("unterminated string") }
        let b = bytes[i]
        if b == UInt8(ascii: "\"") { i += 1; break }
        guard b >= 0x20 else { throw error("control character in a string") }
        guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
        i += 1
        guard i < bytes.count else { throw error("unterminated string") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var code = try hex4()
          if (0xD800..<0xDC00).contains(code) {
            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
            i += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
            code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
          }
          guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
          out += Array(String(scalar).utf8)
        default: throw error("invalid escape")
        }
      }
      guard String(validating: out, as: UTF8.self) != nil else {
        i = start
        throw error("string is not valid UTF-8")
      }
      return out
    }

    mutating func hex4() throws -> UInt32 {
      guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { throw error("invalid \\u escape") }
      i += 4
      return v
    }
  }
}
