import Foundation
import HWSupport
import Testing

/// `simulate --logits` and `--reference` exchange logits with NumPy through this format.
@Suite struct NumPyArrayTests {
  let sample = NumPyArray(rows: [[1.5, -2, 0.1], [0.25, 3, -1e-3]])

  @Test("the bytes are what numpy.save writes for the same float32 array")
  func matchesNumPy() {
    // numpy 2.4: numpy.save(f, numpy.array([[1.5, -2, 0.1], [0.25, 3, -1e-3]], dtype=numpy.float32))
    let data = sample.npyData()
    #expect(data.count == 152)
    var hasher = SHA256()
    hasher.update(data)
    #expect(hasher.hexDigest() == "98390ca0b88e6e6528307ff955c1bc6e63d64cbed12fdd0b8c22bce7cb5e5440")
  }

  @Test("round trip, and float64 and float16 files as numpy writes them")
  func reads() throws {
    #expect(try NumPyArray(npy: sample.npyData()) == sample)
    let f8 = Self.hex(
      "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c2027"
        + "7368617065273a2028322c2033292c207d" + String(repeating: "20", count: 58) + "0a"
        + "000000000000f83f00000000000000c0000000a09999b93f000000000000d03f0000000000000840000000e04d6250bf")
    #expect(try NumPyArray(npy: f8) == sample)
    let f2 = Self.hex(
      "934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c2027"
        + "7368617065273a2028322c292c207d" + String(repeating: "20", count: 60) + "0a" + "003800bc")
    let half = try NumPyArray(npy: f2)
    #expect(half.rows == 1 && half.columns == 2 && half.values == [0.5, -1])
  }

  @Test("bad files are one error naming the file", arguments: [
    ("not numpy", "not a NumPy"),
    ("truncated", "data holds"),
    ("int32", "dtype <i4"),
    ("3-D", "expected a 2-D array"),
  ])
  func rejects(_ bad: String, _ message: String) {
    var data = sample.npyData()
    switch bad {
    case "not numpy": data = Data("hello, world".utf8)
    case "truncated": data = data.prefix(data.count - 3)
    case "int32": data = Self.replacing("<f4", with: "<i4", in: data)
    default: data = Self.replacing("(2, 3), }", with: "(1,2,3),}", in: data)
    }
    #expect {
      _ = try NumPyArray(npy: data, name: "ref.npy")
    } throws: { error in
      "\(error)".hasPrefix("ref.npy: ") && "\(error)".contains(message) && !"\(error)".contains("\n")
    }
  }

  static func hex(_ s: String) -> Data {
    var data = Data()
    var i = s.startIndex
    while i < s.endIndex {
      let j = s.index(i, offsetBy: 2)
      data.append(UInt8(s[i..<j], radix: 16)!)
      i = j
    }
    return data
  }

  /// `data` with the first occurrence of the ASCII text `a` in its header replaced by `b`.
  static func replacing(_ a: String, with b: String, in data: Data) -> Data {
    let bytes = [UInt8](data), needle = [UInt8](a.utf8)
    guard let at = (0...(bytes.count - needle.count)).first(where: { Array(bytes[$0..<($0 + needle.count)]) == needle }) else {
      return data
    }
    return Data(bytes[..<at] + [UInt8](b.utf8) + bytes[(at + needle.count)...])
  }
}
