import HWSupport

/// The instruction set of the accelerator's sequencer (`mmfree_accel`): one
/// 128-bit word per instruction, executed in order. The Swift side derives a
/// program from the model's shape (`AcceleratorProgram`); the generated
/// hardware knows no model, so one design runs every model that fits its
/// memories.
///
/// Operands name on-chip vectors by beat address (`elementLanes` Q15.16
/// elements a beat) in the activation scratchpad (`a`, `b`, `dst`) or in the
/// parameter buffer (`b` of NORM/QUANT, the low 16 bits of RECUR's
/// immediate), and off-chip data by byte address (the immediate of LOADV,
/// EMBED and MATVEC).
///
/// Word layout, bit 0 first (`AcceleratorInstruction.fields`, the one table
/// that the Swift encoder and the RTL package `mmfree_pkg` are both made from):
///
///     [3:0] opcode  [19:4] length  [35:20] a  [51:36] b  [67:52] dst  [127:68] immediate
public enum AcceleratorOpcode: Int, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
  /// End of the token: jump to `immediate` (the loop start) while the host
  /// keeps `run_i` high, else halt.
  case end = 0
  /// Off-chip `length` elements at byte `immediate` into the parameter buffer
  /// at `dst`. Does not wait: the data arrives while later instructions run.
  case loadVector = 1
  /// The token's embedding row: `length` elements at byte `immediate +
  /// token * 4 * length` into the scratchpad at `dst`. The token is the
  /// host's prompt token when one is offered, else the last ARGMAX.
  case embed = 2
  /// Wait until at most `immediate` vector loads are outstanding.
  case waitLoads = 3
  /// Constant register `b` = `immediate` (see `AcceleratorConstant`).
  case setConstant = 4
  /// RMSNorm of scratchpad `a` with gamma at parameter `b` into `dst`.
  case norm = 5
  /// BitLinear front end: RMSNorm of `a` with gamma at parameter `b`,
  /// quantized to int8 into the activation buffer; the output scale is kept
  /// for the next MATVEC.
  case quantize = 6
  /// Ternary mat-vec of `length` row groups (`lanes` rows each) by `b`
  /// 64-column words, weights streaming from off-chip byte `immediate`,
  /// against the last QUANT's activation bank; rescaled Q15.16 results into
  /// `dst`. Runs on its own once started (after the previous MATVEC): later
  /// instructions execute alongside until a WAITMV. With base-3 weights the
  /// immediate's bits from `matVecAddressBits` up give the memory beats each
  /// port reads (`AcceleratorConfig.memoryBeats`), which the DMA cannot derive
  /// without dividing by five.
  case matVec = 7
  /// MLGRU recurrence of layer `immediate[31:16]`: yi at `a`, yf at `b`,
  /// the lower bound at parameter `immediate[15:0]`; h into `dst`.
  case recur = 8
  /// SiLU(a) * b into `dst`.
  case siluMul = 9
  /// Saturating a + b into `dst`.
  case add = 10
  /// Index of the largest element of `a` becomes the next token.
  case argmax = 11
  /// Debug: stream `a` out of the checkpoint port with tag `immediate`
  /// (after any running MATVEC).
  case checkpoint = 12
  /// Wait until the running MATVEC has written its last result.
  case waitMatVec = 13

  public static let bits = 4

  public var description: String {
    switch self {
    case .end: return "END"
    case .loadVector: return "LOADV"
    case .embed: return "EMBED"
    case .waitLoads: return "WAITV"
    case .setConstant: return "SETC"
    case .norm: return "NORM"
    case .quantize: return "QUANT"
    case .matVec: return "MATVEC"
    case .recur: return "RECUR"
    case .siluMul: return "SILUMUL"
    case .add: return "ADD"
    case .argmax: return "ARGMAX"
    case .checkpoint: return "CKPT"
    case .waitMatVec: return "WAITMV"
    }
  }
}

/// The constant registers SETC writes; the norm unit reads them.
public enum AcceleratorConstant: Int, Hashable, Sendable, Codable, CaseIterable {
  /// `Norms.LengthConstants.epsTerm` of the next norm's length.
  case epsTerm = 0
  /// `Norms.LengthConstants.sqrtLength`: mantissa in [31:0], exponent in [39:32].
  case sqrtLength = 1
  /// The next projection's beta: mantissa in [31:0], exponent in [41:32].
  case beta = 2
  /// With several streams: the stream the following QUANT, EMBED and ARGMAX
  /// serve (its activation bank and scale, its prompt and its last token).
  case stream = 3
}

/// One decoded instruction.
public struct AcceleratorInstruction: Hashable, Sendable, CustomStringConvertible {
  public var opcode: AcceleratorOpcode
  public var length: Int
  public var a: Int
  public var b: Int
  public var dst: Int
  public var immediate: UInt64

  /// One field of the instruction word: bits `[low + width - 1 : low]`.
  public struct Field: Hashable, Sendable {
    public let name: String
    public let low: Int
    public let width: Int
    public var high: Int { low + width - 1 }
  }

  /// The instruction word's fields, bit 0 first, without gaps: the layout,
  /// written once. `encoded`, `init(low:high:)`, the sequencer's decode and
  /// the localparams of `mmfree_pkg` all come from it.
  public static let fields: [Field] = {
    var low = 0
    return [
      ("opcode", AcceleratorOpcode.bits), ("length", 16), ("a", 16), ("b", 16), ("dst", 16), ("immediate", 60),
    ].map { name, width in
      defer { low += width }
      return Field(name: name, low: low, width: width)
    }
  }()

  public static func field(_ name: String) -> Field {
    guard let f = fields.first(where: { $0.name == name }) else { preconditionFailure("no instruction field \(name)") }
    return f
  }

  public static let opcodeField = field("opcode")
  public static let lengthField = field("length")
  public static let aField = field("a")
  public static let bField = field("b")
  public static let dstField = field("dst")
  public static let immediateField = field("immediate")

  /// Bits of a MATVEC's byte address, the low bits of its immediate.
  public static let matVecAddressBits = 36

  public static let lengthBits = lengthField.width
  public static let addressBits = aField.width
  public static let immediateBits = immediateField.width
  public static let bits = fields.last!.high + 1

  /// The field values in `fields` order.
  var fieldValues: [UInt64] {
    [UInt64(opcode.rawValue), UInt64(length), UInt64(a), UInt64(b), UInt64(dst), immediate]
  }

  public init(_ opcode: AcceleratorOpcode, length: Int = 0, a: Int = 0, b: Int = 0, dst: Int = 0, immediate: UInt64 = 0) {
    precondition((0..<(1 << Self.lengthBits)).contains(length), "length \(length) does not fit \(Self.lengthBits) bits")
    for (name, v) in [("a", a), ("b", b), ("dst", dst)] {
      precondition((0..<(1 << Self.addressBits)).contains(v), "\(name) \(v) does not fit \(Self.addressBits) bits")
    }
    precondition(immediate < 1 << UInt64(Self.immediateBits), "immediate \(immediate) does not fit \(Self.immediateBits) bits")
    self.opcode = opcode
    self.length = length
    self.a = a
    self.b = b
    self.dst = dst
    self.immediate = immediate
  }

  /// The 128-bit word as (bits 63:0, bits 127:64).
  public var encoded: (low: UInt64, high: UInt64) {
    var word: [UInt64] = [0, 0]
    for (field, value) in zip(Self.fields, fieldValues) {
      for bit in 0..<field.width where value >> UInt64(bit) & 1 == 1 {
        let at = field.low + bit
        word[at / 64] |= 1 << UInt64(at % 64)
      }
    }
    return (word[0], word[1])
  }

  /// Field `field` of the word (`low`, `high`).
  static func extract(_ field: Field, low: UInt64, high: UInt64) -> UInt64 {
    let word = [low, high]
    var value: UInt64 = 0
    for bit in 0..<field.width {
      let at = field.low + bit
      value |= (word[at / 64] >> UInt64(at % 64) & 1) << UInt64(bit)
    }
    return value
  }

  /// The word as four 32-bit words, least significant first (a port's layout).
  public var words: [UInt32] {
    let (low, high) = encoded
    return [UInt32(truncatingIfNeeded: low), UInt32(truncatingIfNeeded: low >> 32),
            UInt32(truncatingIfNeeded: high), UInt32(truncatingIfNeeded: high >> 32)]
  }

  public init?(low: UInt64, high: UInt64) {
    func value(_ f: Field) -> Int { Int(Self.extract(f, low: low, high: high)) }
    guard let op = AcceleratorOpcode(rawValue: value(Self.opcodeField)) else { return nil }
    self.init(
      op, length: value(Self.lengthField), a: value(Self.aField), b: value(Self.bField), dst: value(Self.dstField),
      immediate: Self.extract(Self.immediateField, low: low, high: high))
  }

  /// A SETC of a scale (`Scale`) with a `exponentBits`-bit two's complement exponent.
  public static func setScale(_ register: AcceleratorConstant, _ scale: Scale, exponentBits: Int) -> AcceleratorInstruction {
    let mask = (UInt64(1) << UInt64(exponentBits)) - 1
    return AcceleratorInstruction(
      .setConstant, b: register.rawValue, immediate: UInt64(scale.mantissa) | (UInt64(bitPattern: Int64(scale.exponent)) & mask) << 32)
  }

  public var description: String {
    switch opcode {
    case .end: return "END        loop \(immediate)"
    case .loadVector: return "LOADV      p\(dst) <- mem[0x\(String(immediate, radix: 16))] x\(length)"
    case .embed: return "EMBED      s\(dst) <- mem[0x\(String(immediate, radix: 16)) + token] x\(length)"
    case .waitLoads: return "WAITV      <= \(immediate) outstanding"
    case .setConstant: return "SETC       c\(b) = 0x\(String(immediate, radix: 16))"
    case .norm: return "NORM       s\(dst) <- s\(a) gamma p\(b) x\(length)"
    case .quantize: return "QUANT      act <- s\(a) gamma p\(b) x\(length)"
    case .matVec:
      let beats = immediate >> UInt64(Self.matVecAddressBits), address = immediate ^ beats << UInt64(Self.matVecAddressBits)
      let memory = beats > 0 ? ", \(beats) memory beats" : ""
      return "MATVEC     s\(dst) <- W[0x\(String(address, radix: 16))] (\(length) groups x \(b) words\(memory)) . act"
    case .recur: return "RECUR      s\(dst) <- layer \(immediate >> 16) yi s\(a) yf s\(b) lb p\(immediate & 0xFFFF) x\(length)"
    case .siluMul: return "SILUMUL    s\(dst) <- silu(s\(a)) * s\(b) x\(length)"
    case .add: return "ADD        s\(dst) <- s\(a) + s\(b) x\(length)"
    case .argmax: return "ARGMAX     token <- argmax s\(a) x\(length)"
    case .checkpoint: return "CKPT       tag \(immediate) <- s\(a) x\(length)"
    case .waitMatVec: return "WAITMV"
    }
  }
}

/// The accelerator's performance counters, in `perf_sel_i` order: what the
/// hardware did, counted by the hardware. Cycle counters skip checkpoint
/// cycles (debug only), so a run with checkpoints counts what a run without
/// them would.
public enum AcceleratorCounter: Int, Hashable, Sendable, Codable, CaseIterable {
  /// Cycles the sequencer ran.
  case cycles
  /// Cycles a MATVEC ran (weight beats, stalls for them, the pipeline drain).
  case matVecCycles
  /// MATVEC cycles with an activation word waiting and no weight beat on chip.
  case weightStallCycles
  /// Cycles an EMBED/LOADV/WAITV waited for the memory or for loads, no MATVEC running.
  case loadWaitCycles
  /// Cycles in NORM, QUANT, RECUR, SILUMUL, ADD, ARGMAX with no MATVEC running.
  case elementwiseCycles
  /// Weight beats the core took.
  case weightBeats
  /// Beats into the norm unit, the MLGRU unit, the vector unit.
  case normBeats
  case mlgruBeats
  case vectorBeats
  /// Beats read from / written to the scratchpad (both copies count).
  case scratchpadReadBeats
  case scratchpadWriteBeats
  /// Beats read from / written to the parameter buffer.
  case parameterReadBeats
  case parameterWriteBeats
  /// Activation-buffer words (8 x 64 bits) written by the packer, read by MATVEC.
  case activationWordWrites
  case activationWordReads
  /// Weight beats written into the weight FIFO.
  case weightFIFOWrites
  /// Instructions completed.
  case instructions
  /// Cycles spent in checkpoints (not in `cycles`).
  case checkpointCycles
  /// Element-wise cycles while a MATVEC ran (in `matVecCycles`, not in `elementwiseCycles`).
  case hiddenElementwiseCycles

  /// The counter's register name in the RTL (`perf_<name>_q`).
  /// An acronym is one word: `weightFIFOWrites` is `weight_fifo_writes`.
  public var rtlName: String { Naming.snakeCase(String(describing: self)) }
}
