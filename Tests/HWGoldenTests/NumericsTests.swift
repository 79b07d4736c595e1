import Foundation
import HWSpec
import HWSupport
import Testing

/// The fixed-point primitives against exact double arithmetic. The bounds
/// asserted here are the ones docs/numerics.md states.
@Suite struct NumericsTests {
  @Test func roundingIsHalfAwayFromZeroAndProductsSaturate() {
    #expect(Fixed.roundShift(3, 1) == 2)  // 1.5 -> 2
    #expect(Fixed.roundShift(-3, 1) == -2)  // -1.5 -> -2
    #expect(Fixed.roundShift(5, 2) == 1)  // 1.25 -> 1
    #expect(Fixed.mul(Fixed.one, Fixed.one) == Fixed.one)
    #expect(Fixed.mul(Fixed.fromDouble(-1.5), Fixed.fromDouble(2)) == Fixed.fromDouble(-3))
    #expect(Fixed.mul(Int32.max, Int32.max) == Int32.max)
    #expect(Fixed.mul(Int32.min, Int32.max) == Int32.min)
    #expect(Fixed.add(Int32.max, 1) == Int32.max)
    #expect(Fixed.fromDouble(1e9) == Int32.max)
    #expect(Fixed.fromDouble(-0.5 / 65536) == -1)
  }

  @Test func sigmoidErrorIsBounded() {
    var worst = 0.0
    var x = Int32(-20 << 16)
    while x < 20 << 16 {
      let exact = 1 / (1 + exp(-Fixed.toDouble(x)))
      worst = max(worst, abs(Fixed.toDouble(Fixed.sigmoid(x)) - exact))
      x += 97
    }
    // Interpolation over 1/16 segments (<= h^2/8 * max|sigmoid''| = 4.7e-5) plus two roundings.
    #expect(worst < 6e-5, "max sigmoid error \(worst)")
    #expect(Fixed.sigmoid(0) == Fixed.one / 2)
    #expect(Fixed.sigmoid(Int32.max) == Fixed.one)
    #expect(Fixed.sigmoid(Int32.min) == 0)
    for v: Int32 in [1, 1000, 65536, 300_000] { #expect(Fixed.sigmoid(v) + Fixed.sigmoid(-v) == Fixed.one) }
  }

  @Test func siluMatchesDoubleWithinItsBound() {
    var worst = 0.0
    var x = Int32(-30 << 16)
    while x < 30 << 16 {
      let xd = Fixed.toDouble(x)
      let exact = xd / (1 + exp(-xd))
      worst = max(worst, abs(Fixed.toDouble(Fixed.silu(x)) - exact) / max(1, abs(xd)))
      x += 1013
    }
    #expect(worst < 6e-5, "max SiLU error (relative to max(1,|x|)) \(worst)")
  }

  @Test func scalesMultiplyAndApplyAccurately() {
    var rng = SeededRandom(seed: 3)
    for _ in 0..<2000 {
      let a = Double(rng.next() % 1_000_000 + 1) * 1e-7
      let b = Double(rng.next() % 1_000_000 + 1) * 1e-3
      let product = (Scale(a) * Scale(b)).doubleValue
      #expect(abs(product - a * b) / (a * b) < 1e-9)
      let x = Int64(Int32(truncatingIfNeeded: rng.next()))
      let applied = Scale(a).apply(x)
      let exact = (Double(x) * Scale(a).doubleValue).rounded(.toNearestOrAwayFromZero)
      #expect(Double(applied) == exact, "x \(x) scale \(a)")
      let r = Scale(b).reciprocal.doubleValue
      #expect(abs(r * b - 1) < 1e-9)
    }
    #expect(Scale(1e6).apply(1 << 40) == Int32.max)
    #expect(Scale(1e6).apply(-(1 << 40)) == Int32.min)
    #expect(Scale.zero.apply(12345) == 0)
    #expect(Scale(0.5).apply(3) == 2)
    #expect(Scale(0.5).apply(-3) == -2)
  }

  @Test func rsqrtRelativeErrorIsBelow25ppm() {
    var rng = SeededRandom(seed: 5)
    var worst = 0.0
    for i in 0..<20000 {
      let v = i < 64 ? UInt64(i + 1) : rng.next() >> (rng.next() % 63)
      guard v > 0 else { continue }
      let got = Norms.rsqrt(UInt128(v)).doubleValue
      let exact = 1 / Double(v).squareRoot()
      worst = max(worst, abs(got - exact) / exact)
    }
    // One Newton step from a 2^-8 seed: 1.5 * (2^-8)^2 = 2.3e-5.
    #expect(worst < 2.5e-5, "max relative rsqrt error \(worst)")
  }

  @Test func rmsNormTracksDoubleArithmetic() {
    var rng = SeededRandom(seed: 9)
    for n in [7, 64, 1024, 2560, 6912] {
      let x = (0..<n).map { _ in Fixed.fromDouble(Double(Int64(bitPattern: rng.next()) % 4000) / 1000) }
      let gamma = (0..<n).map { _ in Fixed.fromDouble(Double(rng.next() % 3000) / 1000) }
      let got = Norms.rmsNorm(x, gamma: gamma, Norms.LengthConstants(length: n))
      let xd = x.map(Fixed.toDouble)
      let r = 1 / (xd.reduce(0) { $0 + $1 * $1 } / Double(n) + 1e-6).squareRoot()
      for i in 0..<n {
        let exact = xd[i] * Fixed.toDouble(gamma[i]) * r
        #expect(abs(Fixed.toDouble(got[i]) - exact) < 1e-3 * max(1, abs(exact)), "n \(n) i \(i)")
      }
    }
    // A zero vector normalizes to zero, not to a division by zero.
    #expect(Norms.rmsNorm([0, 0, 0], gamma: [1, 1, 1], Norms.LengthConstants(length: 3)) == [0, 0, 0])
  }

  @Test func quantizationMatchesTheReferenceFormula() {
    var rng = SeededRandom(seed: 12)
    var differ = 0
    var total = 0
    for n in [5, 100, 2048] {
      let x = (0..<n).map { _ in Fixed.fromDouble(Double(Int64(bitPattern: rng.next()) % 5000) / 1000) }
      let gamma = (0..<n).map { _ in Fixed.fromDouble(0.5 + Double(rng.next() % 1000) / 1000) }
      let beta = Scale(0.0231)
      let q = Norms.quantize(x, gamma: gamma, beta: beta, Norms.LengthConstants(length: n))
      // The reference: xn = x / rms * gamma; sx = 127 / max|xn|; xq = round(xn * sx).
      let xd = x.map(Fixed.toDouble)
      let rms = (xd.reduce(0) { $0 + $1 * $1 } / Double(n) + 1e-6).squareRoot()
      let xn = (0..<n).map { xd[$0] / rms * Fixed.toDouble(gamma[$0]) }
      let sx = 127 / xn.map(abs).max()!
      for i in 0..<n {
        let ref = max(-128, min(127, (xn[i] * sx).rounded(.toNearestOrAwayFromZero)))
        total += 1
        if Double(q.activations[i]) != ref {
          differ += 1
          #expect(abs(Double(q.activations[i]) - ref) <= 1, "n \(n) i \(i)")
        }
      }
      // One accumulator unit is worth beta / sx in the reference.
      let unit = 0.0231 / sx
      #expect(abs(q.outputScale.doubleValue / 65536 - unit) / unit < 1e-4)
    }
    #expect(Double(differ) / Double(total) < 0.01, "\(differ) of \(total) int8 values differ by one")
  }
}
