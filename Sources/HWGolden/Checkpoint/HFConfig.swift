import Foundation
import HWSpec

/// The `config.json` of a Hugging Face HGRN-Bit checkpoint (the reference's
/// `HGRNBitConfig`), checked for what the golden model and the hardware
/// implement: model_type `hgrn_bit`, architecture `HGRNBitForCausalLM`, one
/// head, no expansion, no short convolution, untied lm_head, lower bounds on,
/// RMSNorm eps 1e-6. The keys that carry a shape must be present.
public struct HGRNBitConfig: Hashable, Sendable {
  public var hiddenSize: Int
  public var layers: Int
  /// The GLU width: `intermediate_size`, or when that is null the reference's
  /// rule `256 * ceil(int(hidden_size * hidden_ratio * 2 / 3) / 256)`.
  public var intermediateSize: Int
  /// True when `intermediate_size` was null and derived from `hidden_ratio`.
  public var intermediateSizeDerived: Bool
  /// The `hidden_ratio` the intermediate size was derived from (nil when config.json gives it).
  public var hiddenRatio: Int?
  public var vocabSize: Int
  public var rmsNormEps: Double
  /// `_name_or_path`, when the file has one.
  public var nameOrPath: String?

  /// The keys read from the file (for the manifest).
  public static let shapeKeys = ["hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size", "rms_norm_eps", "use_lower_bound"]

  public static func load(_ url: URL, displayName: String) throws -> HGRNBitConfig {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw CheckpointError(file: displayName, "cannot read: \((error as NSError).localizedDescription)")
    }
    return try parse(data, displayName: displayName)
  }

  public static func parse(_ data: Data, displayName file: String) throws -> HGRNBitConfig {
    func fail(_ message: String) -> CheckpointError { CheckpointError(file: file, message) }
    let json: Any
    do { json = try JSONSerialization.jsonObject(with: data) } catch {
      throw fail("malformed JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)")")
    }
    guard let c = json as? [String: Any] else { throw fail("malformed JSON: not an object") }

    guard c["model_type"] != nil else { throw fail("missing key model_type (an HGRN-Bit config has \"model_type\": \"hgrn_bit\")") }
    guard let modelType = c["model_type"] as? String, modelType == "hgrn_bit" else {
      throw fail("model_type \(describe(c["model_type"]!)) is not an HGRN-Bit model (expected \"hgrn_bit\")")
    }
    guard c["architectures"] != nil else { throw fail("missing key architectures (expected [\"HGRNBitForCausalLM\"])") }
    guard let architectures = c["architectures"] as? [String], architectures.contains("HGRNBitForCausalLM") else {
      throw fail("architectures \(describe(c["architectures"]!)) does not name HGRNBitForCausalLM")
    }

    func positive(_ key: String) throws -> Int {
      guard let value = c[key] else { throw fail("missing key \(key)") }
      guard let n = JSONScalar.integer(value), n >= 1 else { throw fail("\(key) must be a positive integer, got \(describe(value))") }
      return n
    }
    let hidden = try positive("hidden_size")
    let layers = try positive("num_hidden_layers")
    let vocab = try positive("vocab_size")

    guard let intermediateValue = c["intermediate_size"] else { throw fail("missing key intermediate_size (null derives it from hidden_ratio)") }
    let intermediate: Int
    let derived: Bool
    var hiddenRatio: Int?
    if intermediateValue is NSNull {
      var ratio = 4
      if let r = c["hidden_ratio"], !(r is NSNull) {
        guard let n = JSONScalar.integer(r), n >= 1 else { throw fail("hidden_ratio must be a positive integer, got \(describe(r))") }
        ratio = n
      }
      // int(hidden_size * hidden_ratio * 2 / 3), then up to a multiple of 256.
      let (product, overflow) = hidden.multipliedReportingOverflow(by: ratio)
      guard !overflow, product <= Int.max / 4 else {
        throw fail("hidden_size \(hidden) x hidden_ratio \(ratio) is too large for an intermediate size")
      }
      let raw = product * 2 / 3
      intermediate = 256 * ((raw + 255) / 256)
      derived = true
      hiddenRatio = ratio
    } else {
      intermediate = try positive("intermediate_size")
      derived = false
    }

    guard let epsValue = c["rms_norm_eps"] else { throw fail("missing key rms_norm_eps") }
    guard !JSONScalar.isBoolean(epsValue), let eps = epsValue as? Double, eps > 0 else { throw fail("rms_norm_eps must be a positive number, got \(describe(epsValue))") }
    guard eps == ModelConfig.defaultRMSNormEps else {
      throw fail("rms_norm_eps \(eps) is not supported: the golden model and the RTL norms use \(ModelConfig.defaultRMSNormEps)")
    }

    guard let lowerBound = c["use_lower_bound"] else { throw fail("missing key use_lower_bound") }
    guard let useLowerBound = JSONScalar.bool(lowerBound) else {
      throw fail("use_lower_bound must be true or false, got \(describe(lowerBound))")
    }
    guard useLowerBound else { throw fail("use_lower_bound false is not supported: the MLGRU applies per-layer lower bounds") }

    // Switches that would change the network; absent means the reference's default.
    let unsupported: [(key: String, isDefault: (Any) -> Bool, expected: String)] = [
      ("num_heads", { JSONScalar.integer($0) == 1 }, "1"),
      ("expand_ratio", { JSONScalar.integer($0) == 1 }, "1"),
      ("use_short_conv", { JSONScalar.bool($0) == false }, "false"),
      ("tie_word_embeddings", { JSONScalar.bool($0) == false }, "false"),
      ("hidden_act", { ($0 as? String) == "swish" }, "\"swish\""),
    ]
    for rule in unsupported {
      guard let value = c[rule.key], !(value is NSNull) else { continue }
      guard rule.isDefault(value) else { throw fail("\(rule.key) \(describe(value)) is not supported (HGRN-Bit as the hardware runs it has \(rule.key) \(rule.expected))") }
    }

    return HGRNBitConfig(
      hiddenSize: hidden, layers: layers, intermediateSize: intermediate, intermediateSizeDerived: derived,
      hiddenRatio: hiddenRatio, vocabSize: vocab, rmsNormEps: eps, nameOrPath: c["_name_or_path"] as? String)
  }

  /// The golden model's shape description of this config.
  public func modelConfig(name: String) -> ModelConfig {
    ModelConfig(name: name, hiddenSize: hiddenSize, layers: layers, intermediateSize: intermediateSize, vocabSize: vocabSize, rmsNormEps: rmsNormEps)
  }

  /// A JSON value as it would read in the file.
  static func describe(_ value: Any) -> String {
    if value is NSNull { return "null" }
    if let b = JSONScalar.bool(value) { return b ? "true" : "false" }
    if let s = value as? String { return "\"\(s)\"" }
    if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
      let text = String(data: data, encoding: .utf8)
    {
      return text
    }
    return "\(value)"
  }
}

/// Typed reads of `JSONSerialization` values, which hand back numbers and
/// booleans alike as `NSNumber`.
enum JSONScalar {
  /// A JSON `true`/`false` (Foundation's boolean `NSNumber` subclass), not a number.
  static func isBoolean(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Boolean") }

  static func bool(_ value: Any) -> Bool? { isBoolean(value) ? value as? Bool : nil }

  /// A JSON number with an integral value (not a boolean, not 1.5).
  static func integer(_ value: Any) -> Int? {
    guard !isBoolean(value), !(value is String) else { return nil }
    if let n = value as? Int { return n }
    if let d = value as? Double, d.rounded() == d, abs(d) < 9e15 { return Int(d) }
    return nil
  }
}
