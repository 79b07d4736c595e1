import HWSupport
import Testing

/// The cache keys and the import's source hashes rest on this SHA-256.
@Suite struct SHA256Tests {
  @Test("FIPS 180-4 test vectors")
  func knownAnswers() {
    #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
      == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    var million = SHA256()
    million.update([UInt8](repeating: 0x61, count: 1_000_000))
    #expect(million.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test("the digest does not depend on how the input is split")
  func splits() {
    var rng = SeededRandom(seed: 3)
    let data = (0..<10_007).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    var whole = SHA256()
    whole.update(data)
    let expected = whole.finalize()
    for chunk in [1, 7, 63, 64, 65, 1000] {
      var pieces = SHA256()
      var i = 0
      while i < data.count {
        let end = min(data.count, i + chunk)
        if chunk == 7 {
          pieces.update(data[i..<end].lazy.map { $0 })  // a non-contiguous sequence
        } else {
          data[i..<end].withUnsafeBytes { pieces.update($0) }
        }
        i = end
      }
      #expect(pieces.finalize() == expected, "chunks of \(chunk)")
    }
  }
}
