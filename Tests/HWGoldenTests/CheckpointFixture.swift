import Foundation

/// Hugging Face HGRN-Bit checkpoints written byte by byte for the import tests,
/// independently of the reader under test: safetensors files (8-byte
/// little-endian header length, JSON header with dtype/shape/data_offsets and
/// `__metadata__`, data), `config.json`, and for sharded checkpoints
/// `model.safetensors.index.json`. Foundation only, so the CLI and RTL test
/// targets share this file (symlinked there).
enum CheckpointFixture {
  /// One tensor: its header fields and its data bytes.
  struct Tensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var data: Data
    /// Written into the header instead of the true offsets (malformed files).
    var offsetsOverride: (Int, Int)?

    /// `values` encoded as `dtype` (BF16 rounds to nearest even; F16 must be exact).
    init(_ name: String, _ shape: [Int], _ values: [Float], dtype: String = "BF16") {
      precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
      self.name = name
      self.dtype = dtype
      self.shape = shape
      var data = Data()
      for v in values {
        switch dtype {
        case "BF16": Self.appendLE(&data, UInt64(CheckpointFixture.bf16Bits(v)), bytes: 2)
        case "F16": Self.appendLE(&data, UInt64(CheckpointFixture.f16Bits(v)), bytes: 2)
        case "F32": Self.appendLE(&data, UInt64(v.bitPattern), bytes: 4)
        default: preconditionFailure("fixture writes BF16, F16 or F32, not \(dtype)")
        }
      }
      self.data = data
    }

    /// Raw header fields and bytes, for dtypes and shapes the reader must refuse.
    init(raw name: String, dtype: String, shape: [Int], data: Data) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.data = data
    }

    static func appendLE(_ data: inout Data, _ value: UInt64, bytes: Int) {
      for i in 0..<bytes { data.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
    }
  }

  // MARK: Number formats

  /// Float32 to BF16, round to nearest even.
  static func bf16Bits(_ x: Float) -> UInt16 {
    if x.isNaN { return 0x7FC0 | UInt16(x.bitPattern >> 16 & 0x8000) }
    let bits = x.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
  }

  static func bf16(_ x: Float) -> Float { Float(bitPattern: UInt32(bf16Bits(x)) << 16) }

  /// Float32 to IEEE half for values a half holds exactly (normal, subnormal, zero, inf).
  static func f16Bits(_ x: Float) -> UInt16 {
    let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
    let a = abs(x)
    if a == 0 { return sign }
    if a.isInfinite { return sign | 0x7C00 }
    if a < 0x1p-14 {
      let m = a / 0x1p-24
      precondition(m == m.rounded(), "\(x) is not exact in half precision")
      return sign | UInt16(m)
    }
    let e = Int(a.exponent)
    let m = (a.significand - 1) * 1024
    precondition(e >= -14 && e <= 15 && m == m.rounded(), "\(x) is not exact in half precision")
    return sign | UInt16(e + 15) << 10 | UInt16(m)
  }

  // MARK: Files

  /// The safetensors bytes of `tensors`, data in the given order, header keys
  /// sorted, the header padded with spaces to a multiple of 8 (as the reference writer does).
  static func safetensors(_ tensors: [Tensor], metadata: [String: String]? = ["format": "pt"]) -> Data {
    var entries: [String] = []
    if let metadata {
      let fields = metadata.keys.sorted().map { "\(json($0)):\(json(metadata[$0]!))" }
      entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
    }
    var offset = 0
    var body = Data()
    var fields: [(String, String)] = []
    for t in tensors {
      let (begin, end) = t.offsetsOverride ?? (offset, offset + t.data.count)
      offset += t.data.count
      body.append(t.data)
      let shape = t.shape.map(String.init).joined(separator: ",")
      fields.append((t.name, "\(json(t.name)):{\"dtype\":\(json(t.dtype)),\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}"))
    }
    entries += fields.sorted { $0.0 < $1.0 }.map(\.1)
    var header = Data(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
    var file = Data()
    Tensor.appendLE(&file, UInt64(header.count), bytes: 8)
    file.append(header)
    file.append(body)
    return file
  }

  static func json(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  // MARK: HGRN-Bit checkpoints

  struct Shape {
    var hidden = 128
    var layers = 2
    var intermediate = 512
    var vocab = 512
  }

  /// A checkpoint in memory: config.json's fields and every tensor.
  struct Checkpoint {
    var config: [String: Any]
    var tensors: [Tensor]

    subscript(name: String) -> Tensor? {
      get { tensors.first { $0.name == name } }
      set {
        if let i = tensors.firstIndex(where: { $0.name == name }) {
          if let newValue { tensors[i] = newValue } else { tensors.remove(at: i) }
        } else if let newValue {
          tensors.append(newValue)
        }
      }
    }

    /// Writes config.json and either model.safetensors or `shards` shards with an index.
    func write(to dir: URL, shards: Int = 1) throws {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
        .write(to: dir.appendingPathComponent("config.json"))
      if shards == 1 {
        try safetensors(tensors).write(to: dir.appendingPathComponent("model.safetensors"))
        return
      }
      var weightMap: [String: String] = [:]
      for s in 0..<shards {
        let name = String(format: "model-%05d-of-%05d.safetensors", s + 1, shards)
        let part = tensors.enumerated().filter { $0.offset % shards == s }.map(\.element)
        for t in part { weightMap[t.name] = name }
        try safetensors(part, metadata: nil).write(to: dir.appendingPathComponent(name))
      }
      let total = tensors.reduce(0) { $0 + $1.data.count }
      let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": weightMap]
      try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .prettyPrinted])
        .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
    }
  }

  static func config(_ s: Shape) -> [String: Any] {
    [
      "architectures": ["HGRNBitForCausalLM"], "model_type": "hgrn_bit", "hidden_size": s.hidden,
      "num_hidden_layers": s.layers, "intermediate_size": s.intermediate, "vocab_size": s.vocab,
      "rms_norm_eps": 1e-6, "use_lower_bound": true,
    ]
  }

  /// The projections of a layer: module path, rows, cols.
  static func projections(_ s: Shape, layer l: Int) -> [(String, Int, Int)] {
    [
      ("model.layers.\(l).attn.i_proj", s.hidden, s.hidden), ("model.layers.\(l).attn.f_proj", s.hidden, s.hidden),
      ("model.layers.\(l).attn.g_proj", s.hidden, s.hidden), ("model.layers.\(l).attn.o_proj", s.hidden, s.hidden),
      ("model.layers.\(l).mlp.gate_proj", 2 * s.intermediate, s.hidden), ("model.layers.\(l).mlp.down_proj", s.hidden, s.intermediate),
    ]
  }

  /// Every tensor of an HGRN-Bit model of shape `s` with seeded, latent-looking
  /// BF16 values: projections ~ uniform with per-matrix scale 0.01-0.05,
  /// gammas around 1, embedding rows of different norms, raw lower bounds ~ N(0, 1).
  static func checkpoint(_ s: Shape = Shape(), seed: UInt64 = 1, dtype: String = "BF16") -> Checkpoint {
    var rng = SplitMix(seed)
    func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
    func matrix(_ rows: Int, _ cols: Int) -> [Float] {
      let scale = 0.01 + 0.04 * (uniform() + 1) / 2
      return (0..<rows * cols).map { _ in bf16(scale * (uniform() + uniform() + uniform())) }
    }
    func gamma(_ n: Int) -> [Float] { (0..<n).map { _ in bf16(1 + 0.4 * uniform()) } }
    var tensors = [
      Tensor("model.embeddings.weight", [s.vocab, s.hidden], (0..<s.vocab * s.hidden).map { _ in bf16(0.5 * uniform()) }, dtype: dtype),
      Tensor("model.lower_bounds", [s.layers, s.hidden], (0..<s.layers * s.hidden).map { _ in bf16(uniform() + uniform()) }, dtype: dtype),
    ]
    for l in 0..<s.layers {
      for v in ["attn_norm", "attn.g_norm", "mlp_norm"] { tensors.append(Tensor("model.layers.\(l).\(v).weight", [s.hidden], gamma(s.hidden), dtype: dtype)) }
      for (module, rows, cols) in projections(s, layer: l) {
        tensors.append(Tensor("\(module).weight", [rows, cols], matrix(rows, cols), dtype: dtype))
        tensors.append(Tensor("\(module).norm.weight", [cols], gamma(cols), dtype: dtype))
      }
    }
    tensors.append(Tensor("model.norm.weight", [s.hidden], gamma(s.hidden), dtype: dtype))
    tensors.append(Tensor("lm_head.weight", [s.vocab, s.hidden], matrix(s.vocab, s.hidden), dtype: dtype))
    tensors.append(Tensor("lm_head.norm.weight", [s.hidden], gamma(s.hidden), dtype: dtype))
    return Checkpoint(config: config(s), tensors: tensors)
  }

  /// The values of a tensor written by this fixture (BF16, F16 or F32).
  static func values(_ t: Tensor) -> [Float] {
    let bytes = [UInt8](t.data)
    switch t.dtype {
    case "BF16": return stride(from: 0, to: bytes.count, by: 2).map { Float(bitPattern: (UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8) << 16) }
    case "F32": return stride(from: 0, to: bytes.count, by: 4).map { i in Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) }) }
    default: preconditionFailure("values(_:) reads BF16 and F32")
    }
  }

  struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }
}
