/// Spellings of Swift identifiers in RTL: `weightFIFOWrites` is the words
/// weight, FIFO, writes, so `weight_fifo_writes` in snake case and
/// `WeightFifoWrites` in upper camel case. An acronym is one word; a digit
/// run stays with the word before it (`outScale2` is out, scale2).
public enum Naming {
  /// The words of a camelCase (or UpperCamelCase) identifier.
  public static func words(_ identifier: String) -> [String] {
    let chars = Array(identifier)
    var words: [String] = []
    var current = ""
    for (i, ch) in chars.enumerated() {
      if ch == "_" {
        if !current.isEmpty { words.append(current) }
        current = ""
        continue
      }
      if ch.isUppercase && !current.isEmpty {
        let previous = chars[i - 1]
        let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
        // A new word starts after a lower-case letter or digit (`weightFIFO`),
        // or at the last capital of an acronym followed by lower case (`FIFOWrites`).
        if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
          words.append(current)
          current = ""
        }
      }
      current.append(ch)
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  /// `weightFIFOWrites` -> `weight_fifo_writes`.
  public static func snakeCase(_ identifier: String) -> String {
    words(identifier).map { $0.lowercased() }.joined(separator: "_")
  }

  /// `rsqrtNormalize` -> `RsqrtNormalize`, `weightFIFOWrites` -> `WeightFifoWrites`:
  /// lowRISC's spelling of enum values and parameters.
  public static func upperCamelCase(_ identifier: String) -> String {
    words(identifier).map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined()
  }
}
