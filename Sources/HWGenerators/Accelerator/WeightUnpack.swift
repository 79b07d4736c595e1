import HWDSL
import HWSpec

/// The base-3 weight unpacker's shape: the memory beat it takes and the core beat it gives.
public struct WeightUnpackConfig: Sendable, Equatable {
  /// Core lanes: a core beat is `lanes` x 64 weights as (non-zero, negative) plane pairs.
  public var lanes: Int

  public init(lanes: Int) { self.lanes = lanes }

  public init(_ accelerator: AcceleratorConfig) { self.init(lanes: accelerator.lanes) }

  /// Bytes of a memory beat: as many as a core beat of 2-bit planes, so the weight FIFO and
  /// the memory ports keep their width; they carry 5/4 of a core beat's weights.
  public var inBytes: Int { lanes * 16 }
  public var inTrits: Int { inBytes * TritPacking.tritsPerByte }
  public var outTrits: Int { lanes * 64 }
  /// Memory and core beats both start on a multiple of this many weights of the stream
  /// (their greatest common divisor): a quarter of a core beat.
  public var stepTrits: Int { outTrits / 4 }
  /// Weights the buffer holds: enough for a memory beat behind less than a core beat.
  public var bufferTrits: Int { inTrits + outTrits - stepTrits }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  public func validate() throws {
    guard (1...256).contains(lanes) else {
      throw Invalid(description: "weight_unpack lanes must be between 1 and 256, got \(lanes)")
    }
  }
}

/// `weight_unpack`: base-3 weight bytes (`TritPacking`) in, the core's weight beats out.
///
/// A memory beat of `inBytes` bytes carries 5/4 of a core beat's weights. Every byte goes
/// through its own `trit_decode` (a 256-entry table, one case arm a code) into two 5-bit
/// planes; the decoded beat joins a buffer of `bufferTrits` weights at the fill level,
/// which is always a whole number of quarter core beats (`stepTrits`), so the insert is a
/// four-way choice per bit rather than a shifter. A core beat leaves from the bottom of
/// the buffer whenever it holds one, and the rest moves down by a core beat. A memory beat
/// is taken while less than a core beat would be left behind it, so while memory beats
/// are there the core gets a beat every cycle: four memory beats feed five core beats.
///
/// A matrix's stream is padded to whole memory beats: after its last memory beat
/// (`in_last_i`) the unpacker takes nothing until `flush_i` (the matrix's last core beat
/// taken) drops the padding, so the next matrix starts at the bottom of the buffer.
/// `hold_i` stops the input, as the weight FIFO's read side stops during a checkpoint.
public enum WeightUnpackGenerator: UnitGenerator {
  public static let unitName = "weight unpacker"
  public static let moduleName = "weight_unpack"
  public static let decoderName = "trit_decode"

  public static func generate(_ config: WeightUnpackConfig) throws -> Design {
    try config.validate()
    return try Design(top: try module(config))
  }

  public static func manifestParameters(_ config: WeightUnpackConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("inBytes", "\(config.inBytes)")]
  }

  /// `trit_decode`: one base-3 byte into five weights' (non-zero, negative) bits.
  static func decoder() throws -> Module {
    let m = ModuleBuilder(
      decoderName,
      comment: [
        "One base-3 weight byte: code = d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4, digit d = w mod 3 (0, +1, -1).",
        "Weight i's non-zero and negative bits at bit i of the planes; codes 243-255 are reserved",
        "(never written) and read as five zeros with reserved_o set.",
      ])
    let code = m.input("code", .uint(8))
    let nonZero = m.output("non_zero", .uint(TritPacking.tritsPerByte))
    let negative = m.output("negative", .uint(TritPacking.tritsPerByte))
    let reserved = m.output("reserved", .bit)
    let width = 2 * TritPacking.tritsPerByte + 1
    let entries = (0..<256).map { c -> Int in
      let planes = TritPacking.planes(UInt8(c))
      let bad = c >= TritPacking.codes ? 1 << (width - 1) : 0
      return bad | Int(planes.negative) << TritPacking.tritsPerByte | Int(planes.nonZero)
    }
    let table = m.rom(
      "TritTable", .uint(width), entries: entries, comment: "Entry k: {reserved, negative[4:0], non_zero[4:0]} of code k.")
    let entry = m.wire("entry", reading: table, at: code)
    m.assign(nonZero, entry[TritPacking.tritsPerByte - 1, 0])
    m.assign(negative, entry[2 * TritPacking.tritsPerByte - 1, TritPacking.tritsPerByte])
    m.assign(reserved, entry[width - 1])
    return try m.finish()
  }

  static func module(_ config: WeightUnpackConfig) throws -> Module {
    let inTrits = config.inTrits, outTrits = config.outTrits, step = config.stepTrits, size = config.bufferTrits
    let m = ModuleBuilder(
      moduleName,
      comment: [
        "Base-3 weight unpacker: \(config.inBytes)-byte memory beats (\(inTrits) weights) in,",
        "\(config.lanes)-lane core beats (\(outTrits) weights as plane pairs) out, through a \(size)-weight buffer",
        "filled in steps of \(step) weights. After a matrix's last memory beat it waits for flush_i.",
      ])
    let inTritsParam = m.localparam("InTrits", .constant(inTrits))
    let outTritsParam = m.localparam("OutTrits", .constant(outTrits))
    let stepParam = m.localparam("StepTrits", .constant(step))
    let bufferType = HWType.uint(inTritsParam + outTritsParam - stepParam)
    precondition(bufferType.width == size)
    _ = m.clock()
    _ = m.reset()
    let hold = m.input("hold", .bit, comment: "take nothing in (a checkpoint runs)")
    let inValid = m.input("in_valid", .bit)
    let inReady = m.output("in_ready", .bit)
    let inData = m.input("in_data", .uint(8 * config.inBytes), comment: "byte b at [8*b +: 8]")
    let inLast = m.input("in_last", .bit, comment: "the matrix's last memory beat")
    let outValid = m.output("out_valid", .bit)
    let outReady = m.input("out_ready", .bit)
    let outData = m.output("out_data", .uint(.constant(2) * outTritsParam), comment: "lane r at [128*r +: 128]: non-zero, negative")
    let flush = m.input("flush", .bit, comment: "the matrix's last core beat is taken: drop the padding")

    let decodedNonZero = m.wire("dec_non_zero", .uint(inTritsParam), comment: "the memory beat's weights, weight 0 lowest")
    let decodedNegative = m.wire("dec_negative", .uint(inTritsParam))
    let reserved = m.wire("dec_reserved", .uint(config.inBytes), comment: "bytes with a reserved code")
    // Only the ReservedCode assertion looks at them: a reserved byte decodes to zeros.
    NormDatapath.discard(m, "dec_reserved", reserved)
    let decoder = try decoder()
    m.generate("gen_code", count: config.inBytes) { g in
      g.instance(decoder, "u_decode", [
        ("code_i", g.slice(inData)),
        ("non_zero_o", g.slice(decodedNonZero)),
        ("negative_o", g.slice(decodedNegative)),
        ("reserved_o", g.slice(reserved)),
      ])
    }

    let steps = size / step
    let fillType = HWType.uint(bitsToRepresent(steps))
    let coreSteps = outTrits / step
    let bufferNonZero = m.register(
      "buf_non_zero", bufferType, reset: .none, holds: true, comment: "weights not yet given out, the next lowest")
    let bufferNegative = m.register("buf_negative", bufferType, reset: .none, holds: true)
    let fill = m.register("fill", fillType, holds: true, comment: "steps of StepTrits weights the buffer holds")
    let closing = m.register("closing", .bit, holds: true, comment: "the matrix's last memory beat is in")

    let outFire = m.wire("out_fire", fill.state.ge(.literal(coreSteps, fillType)) && outReady)
    let left = m.wire(
      "fill_left", .mux(outFire, fill.state - .literal(coreSteps, fillType), fill.state),
      comment: "steps left after this cycle's core beat")
    m.assign(inReady, !hold && !closing.state && left.lt(.literal(coreSteps, fillType)))
    let inFire = m.wire("in_fire", inValid && inReady)
    let slotType = HWType.uint(bitsToRepresent(coreSteps - 1))
    let slot = m.wire("insert_slot", left[slotType.width - 1, 0], comment: "where the memory beat goes, in steps")
    NormDatapath.discard(m, "fill_left_high", left[fillType.width - 1, slotType.width])

    func shifted(_ buffer: Expr) -> Expr {
      .mux(outFire, .concat([.zeros(.uint(outTrits)), buffer[size - 1, outTrits]]), buffer)
    }
    let keptNonZero = m.wire("kept_non_zero", bufferType, comment: "the buffer after this cycle's core beat")
    let keptNegative = m.wire("kept_negative", bufferType)
    m.assign(keptNonZero, shifted(bufferNonZero.state))
    m.assign(keptNegative, shifted(bufferNegative.state))
    /// The kept buffer with the decoded beat at step `s` on.
    func inserted(_ kept: Expr, _ decoded: Expr, at s: Int) -> Expr {
      let low = s * step, high = low + inTrits
      var parts: [Expr] = []
      if high < size { parts.append(kept[size - 1, high]) }
      parts.append(decoded)
      if low > 0 { parts.append(kept[low - 1, 0]) }
      return .concat(parts)
    }
    m.comb {
      Assign(bufferNonZero.next, keptNonZero)
      Assign(bufferNegative.next, keptNegative)
      If(inFire) {
        Switch(
          slot,
          cases: (0..<coreSteps).map { s in
            (values: [s], body: [
              Assign(bufferNonZero.next, inserted(keptNonZero, decodedNonZero, at: s)),
              Assign(bufferNegative.next, inserted(keptNegative, decodedNegative, at: s)),
            ])
          },
          default: [])
      }
      Assign(fill.next, .mux(inFire, left + .literal(inTrits / step, fillType), left))
      If(inFire && inLast) { Assign(closing.next, .high) }
      If(flush) {
        Assign(fill.next, .zeros(fillType))
        Assign(closing.next, .low)
      }
    }
    m.assign(outValid, fill.state.ge(.literal(coreSteps, fillType)))
    let lanes = (0..<config.lanes).reversed().flatMap { r -> [Expr] in
      [bufferNegative.state[64 * r + 63, 64 * r], bufferNonZero.state[64 * r + 63, 64 * r]]
    }
    m.assign(outData, .concat(lanes))

    m.assertValidReady("InStable", valid: inValid, ready: inReady, payload: [inData, inLast])
    m.assertAlways("ReservedCode", !(inFire && reserved.reduceOr()), "a weight byte with a reserved code (243-255)")
    m.assertAlways("FlushAfterLast", !flush || closing.state, "flush before the matrix's last memory beat")
    m.assertAlways("FlushTakesBeat", !flush || outFire, "flush without the last core beat taken")
    m.assertAlways("FillInRange", fill.state.le(.literal(steps, fillType)), "the buffer holds more than it has room for")
    return try m.finish()
  }
}
