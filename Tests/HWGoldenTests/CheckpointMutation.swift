import Foundation

/// Seeded damage to a real Hugging Face checkpoint directory, of the kinds a
/// bad download or a careless edit shows: bytes of the safetensors header
/// changed, a wrong header length, a truncated or padded file, NaN or
/// infinite weights, JSON edits of a tensor's shape, dtype or data_offsets,
/// entries removed, renamed or extended, config.json values replaced or
/// removed, a damaged tokenizer.json. Foundation only, so the golden-model
/// and the CLI test targets share this file (symlinked into HWGenCLITests).
enum CheckpointMutation {
  /// What one seed did, and what the one error line must then contain.
  struct Applied: CustomStringConvertible, Sendable {
    let seed: UInt64
    /// The mutation in words ("config.json: num_hidden_layers = 1000000000").
    let what: String
    /// Strings the error must contain if the import fails (the file, and the key or tensor).
    let expected: [String]
    /// The import must fail (NaN and infinities: the reference would compute NaN everywhere).
    let mustFail: Bool

    var description: String { "seed \(seed): \(what)" }
  }

  static let model = "model.safetensors"
  static let config = "config.json"
  static let tokenizer = "tokenizer.json"

  /// A trained checkpoint shipped with the repository (`models/NAME` next to
  /// Package.swift above this file), else `$HWGEN_MODELS/NAME` or
  /// `shared/models/NAME` in an ancestor directory; nil when none exists.
  static func trainedModel(_ name: String, from file: String = #filePath) -> URL? {
    let fm = FileManager.default
    func holds(_ url: URL) -> Bool { fm.fileExists(atPath: url.appendingPathComponent(config).path) }
    var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    var candidates: [URL] = []
    while dir.path != "/" {
      if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { candidates.insert(dir.appendingPathComponent("models/\(name)"), at: 0) }
      candidates.append(dir.appendingPathComponent("shared/models/\(name)"))
      dir = dir.deletingLastPathComponent()
    }
    if let root = ProcessInfo.processInfo.environment["HWGEN_MODELS"] { candidates.insert(URL(fileURLWithPath: root).appendingPathComponent(name), at: 1) }
    return candidates.first(where: holds)
  }

  /// `destination` made a checkpoint directory of symbolic links to `source`'s
  /// files; `apply` replaces the one it damages by a file of its own (an
  /// atomic write renames over the link), so the original stays untouched.
  static func link(_ source: URL, to destination: URL) throws {
    let fm = FileManager.default
    try fm.createDirectory(at: destination, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: source.path).sorted() {
      try fm.createSymbolicLink(at: destination.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
    }
  }

  // MARK: Applying

  private struct Random {
    var mix: CheckpointFixture.SplitMix
    init(_ seed: UInt64) { mix = CheckpointFixture.SplitMix(seed &* 0x2545_F491_4F6C_DD1D &+ 7) }
    mutating func below(_ n: Int) -> Int { Int(mix.next() % UInt64(max(1, n))) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
  }

  /// The parsed safetensors file: header object and the data after it.
  private struct SafeTensors {
    var header: [String: Any]
    var headerBytes: Data
    var data: Data

    init(_ file: Data) {
      let n = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(file[$1]) << (8 * UInt64($1)) })
      headerBytes = file.subdata(in: 8..<(8 + n))
      header = try! JSONSerialization.jsonObject(with: headerBytes) as! [String: Any]
      data = file.subdata(in: (8 + n)..<file.count)
    }

    var tensorNames: [String] { header.keys.filter { $0 != "__metadata__" }.sorted() }

    /// Header (re-serialized, padded with spaces to a multiple of 8) and data.
    func bytes() -> Data {
      var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
      json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
      var out = Data()
      CheckpointFixture.Tensor.appendLE(&out, UInt64(json.count), bytes: 8)
      return out + json + data
    }
  }

  /// Damages the checkpoint in `dir` as seed `seed` says; returns what it did.
  static func apply(seed: UInt64, to dir: URL) throws -> Applied {
    var rng = Random(seed)
    let modelURL = dir.appendingPathComponent(model)
    let configURL = dir.appendingPathComponent(config)
    var file = try Data(contentsOf: modelURL)
    var st = SafeTensors(file)
    let headerLength = st.headerBytes.count
    let modelPath = modelURL.path
    func done(_ what: String, _ expected: [String] = [], mustFail: Bool = false) -> Applied {
      Applied(seed: seed, what: what, expected: [modelPath] + expected, mustFail: mustFail)
    }
    func writeModel(_ data: Data) throws { try data.write(to: modelURL, options: .atomic) }

    // Kinds, weighted: the cheap-to-check ones more often than those that import successfully.
    let roll = rng.below(100)
    switch roll {
    case 0..<17:  // A byte of the JSON header.
      let at = 8 + rng.below(headerLength)
      let old = file[at]
      let new: UInt8 = rng.pick([
        UInt8(32 + rng.below(95)), UInt8(rng.below(256)), UInt8(ascii: "0") + UInt8(rng.below(10)),
        UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: ","), 0,
      ])
      file[at] = new
      try writeModel(file)
      return done("\(model): header byte \(at) 0x\(String(old, radix: 16)) -> 0x\(String(new, radix: 16))")

    case 17..<25:  // The header length.
      let n = UInt64(headerLength), size = UInt64(file.count)
      let value: UInt64 = rng.pick([
        n - 1, n + 1, n - UInt64(1 + rng.below(headerLength)), n + UInt64(1 + rng.below(1000)), 0, 1, 7,
        UInt64.max, 1 << 63, size, size - 8, rng.mix.next(), 100_000_001,
      ])
      file.replaceSubrange(0..<8, with: (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
      try writeModel(file)
      return done("\(model): header length \(n) -> \(value)")

    case 25..<33:  // Truncated, in the length field, the header or the data.
      let cut = rng.pick([rng.below(8), 8 + rng.below(headerLength), 8 + headerLength + rng.below(st.data.count), file.count - 1 - rng.below(4)])
      try writeModel(file.prefix(cut))
      return done("\(model): truncated to \(cut) of \(file.count) bytes")

    case 33..<36:  // Bytes after the last tensor.
      let extra = 1 + rng.below(64)
      try writeModel(file + Data((0..<extra).map { _ in UInt8(rng.below(256)) }))
      return done("\(model): \(extra) bytes appended")

    case 36..<43:  // A NaN or an infinity in a tensor.
      let name = rng.pick(st.tensorNames)
      let entry = st.header[name] as! [String: Any]
      let offsets = entry["data_offsets"] as! [Int]
      precondition(entry["dtype"] as? String == "BF16", "the shared checkpoints are BF16")
      let element = rng.below((offsets[1] - offsets[0]) / 2)
      let (label, bits): (String, UInt16) = rng.pick([
        ("NaN", 0x7FC0), ("NaN", 0xFFC1 | UInt16(rng.below(0x3F))), ("+inf", 0x7F80), ("-inf", 0xFF80),
      ])
      let at = 8 + headerLength + offsets[0] + 2 * element
      file[at] = UInt8(bits & 0xFF)
      file[at + 1] = UInt8(bits >> 8)
      try writeModel(file)
      return done("\(model): \(name) element \(element) = \(label)", ["tensor \(name)", label == "NaN" ? "is NaN" : "is infinite"], mustFail: true)

    case 43..<44:  // A byte of the data (mostly a different weight; sometimes a non-finite one).
      let at = 8 + headerLength + rng.below(st.data.count)
      let old = file[at]
      file[at] ^= UInt8(1 << rng.below(8))
      try writeModel(file)
      return done("\(model): data byte \(at) 0x\(String(old, radix: 16)) -> 0x\(String(file[at], radix: 16))")

    case 44..<55:  // A tensor's shape.
      let name = rng.pick(st.tensorNames)
      var entry = st.header[name] as! [String: Any]
      let shape = entry["shape"] as! [Int]
      let i = rng.below(shape.count)
      func with(_ v: Int) -> [Int] { var s = shape; s[i] = v; return s }
      let new: Any = rng.pick([
        Array(shape.reversed()), with(shape[i] + 1), with(shape[i] - 1), with(shape[i] * 2), Array(shape.dropLast()), shape + [1],
        with(0), with(-1), with(1_000_000_000_000), [Int](), [1_000_000_000, 1_000_000_000, 1_000_000_000] as [Int],
        [2.5] as [Double], ["128"], NSNull(), shape.map { Double($0) + 0.5 },
      ])
      entry["shape"] = new
      st.header[name] = entry
      try writeModel(st.bytes())
      return done("\(model): \(name) shape \(shape) -> \(describe(new))")

    case 55..<61:  // A tensor's dtype.
      let name = rng.pick(st.tensorNames)
      var entry = st.header[name] as! [String: Any]
      let new: Any = rng.pick(["F16", "F32", "I8", "U16", "I16", "F64", "BOOL", "F8_E4M3", "bf16", "BF17", "", 16, NSNull()] as [Any])
      entry["dtype"] = new
      st.header[name] = entry
      try writeModel(st.bytes())
      return done("\(model): \(name) dtype BF16 -> \(describe(new))")

    case 61..<70:  // A tensor's data_offsets.
      let names = st.tensorNames
      let name = rng.pick(names)
      var entry = st.header[name] as! [String: Any]
      let o = entry["data_offsets"] as! [Int]
      let other = (st.header[rng.pick(names)] as! [String: Any])["data_offsets"] as! [Int]
      let k = 1 + rng.below(16)
      let new: Any = rng.pick([
        [o[0] + k, o[1] + k], [o[0] - k, o[1] - k], [o[1], o[0]], [o[0] + k, o[1]], [o[0], o[1] - k], [-k, o[1]],
        [o[0], 1 << 62], [o[0], Int.max], other, [o[0]], [o[0], o[1], o[1]], [Double(o[0]) + 0.5, Double(o[1])], ["0", "2"], NSNull(),
      ] as [Any])
      entry["data_offsets"] = new
      st.header[name] = entry
      try writeModel(st.bytes())
      return done("\(model): \(name) data_offsets \(o) -> \(describe(new))")

    case 70..<76:  // Header entries: removed, renamed, an unknown field, metadata.
      let name = rng.pick(st.tensorNames)
      let what: String
      switch rng.below(5) {
      case 0:
        st.header[name] = nil
        what = "entry \(name) removed"
      case 1:
        let renamed = rng.pick([
          name.replacingOccurrences(of: "layers.", with: "layers.1"), name + "x", "model.layers.999999999.attn_norm.weight",
          "model.layers.-1.attn_norm.weight", name.uppercased(),
        ])
        st.header[renamed] = st.header.removeValue(forKey: name)
        what = "entry \(name) renamed \(renamed)"
      case 2:
        var entry = st.header[name] as! [String: Any]
        entry["quantized"] = true
        st.header[name] = entry
        what = "entry \(name) gets a field quantized"
      case 3:
        st.header["__metadata__"] = ["format": rng.pick([1, NSNull(), ["pt"]] as [Any])]
        what = "__metadata__ format is not a string"
      default:
        st.header[name] = rng.pick(["x", 1, NSNull(), [1, 2]] as [Any])
        what = "entry \(name) is not an object"
      }
      try writeModel(st.bytes())
      return done("\(model): \(what)")

    case 76..<97:  // config.json values.
      var c = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
      let key = rng.pick([
        "num_hidden_layers", "num_hidden_layers", "hidden_size", "hidden_size", "vocab_size", "vocab_size", "intermediate_size",
        "hidden_ratio", "rms_norm_eps", "use_lower_bound", "model_type", "architectures", "num_heads", "expand_ratio",
        "use_short_conv", "tie_word_embeddings", "hidden_act",
      ])
      let original = c[key].map(describe) ?? "absent"
      let value: Any? = rng.pick([
        0, -1, 1, 3, 64, 1_000_000_000, 1e9, 1e18, 1e300, 2.5, Int64.max, "4", NSNull(), true, false, [Int](), ["x": 1], nil,
      ] as [Any?])
      c[key] = value
      try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys, .prettyPrinted]).write(to: configURL, options: .atomic)
      let text = value.map(describe) ?? "removed"
      // A hidden_ratio only matters while intermediate_size is null; everything else must be named.
      return Applied(seed: seed, what: "\(config): \(key) \(original) -> \(text)", expected: [configURL.path, key], mustFail: false)

    case 97..<99:  // config.json itself.
      let bytes = try Data(contentsOf: configURL)
      let new = rng.pick([bytes.prefix(rng.below(bytes.count)), Data("[]".utf8), Data(), Data("{\"model_type\": \"hgrn_bit\"}".utf8)])
      try new.write(to: configURL, options: .atomic)
      return Applied(seed: seed, what: "\(config): replaced by \(new.count) bytes", expected: [configURL.path], mustFail: true)

    default:  // tokenizer.json.
      let url = dir.appendingPathComponent(tokenizer)
      var bytes = try Data(contentsOf: url)
      let what: String
      if rng.below(2) == 0 {
        let cut = rng.below(bytes.count)
        bytes = bytes.prefix(cut)
        what = "truncated to \(cut) bytes"
      } else {
        let at = rng.below(bytes.count)
        bytes[at] = UInt8(32 + rng.below(95))
        what = "byte \(at) -> \(String(UnicodeScalar(bytes[at])))"
      }
      try bytes.write(to: url, options: .atomic)
      return Applied(seed: seed, what: "\(tokenizer): \(what)", expected: [url.path], mustFail: false)
    }
  }

  /// A JSON value as it reads in the file.
  static func describe(_ value: Any) -> String {
    if value is NSNull { return "null" }
    if let s = value as? String { return "\"\(s)\"" }
    if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
      return String(decoding: data, as: UTF8.self)
    }
    return "\(value)"
  }
}
