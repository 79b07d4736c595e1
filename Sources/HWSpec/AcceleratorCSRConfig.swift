/// Parameters of the accelerator's AXI4-Lite control/status slave
/// (`mmfree_csr`): the widths of the core-side ports it drives and reads and
/// the depths of its two token FIFOs. One value feeds the generator, the
/// register map of docs/control-registers.md and the tests;
/// `AcceleratorConfig.csr` is the one `mmfree_accel` uses.
public struct AcceleratorCSRConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Byte-address bits of the register space (`s_axil_awaddr_i`, `s_axil_araddr_i`).
  public var addressWidth: Int
  /// Instructions the program memory holds: PROG_COUNT's largest value.
  public var programDepth: Int
  /// Bits of the program's byte address in memory (PROG_BASE, `prog_base_o`):
  /// an address on the vector port.
  public var programBaseBits: Int
  /// PROG_BASE's low bits that must be zero: the program starts on a whole
  /// element beat of the vector DMA.
  public var programAlignBits: Int
  /// Bits of a token (`prompt_token_o`, `token_i`).
  public var tokenBits: Int
  /// Bits of `tokens_o`, the tokens one start runs.
  public var tokensBits: Int
  /// Performance counters readable through `perf_sel_o` / `perf_data_i`.
  public var counters: Int
  /// Bits of one counter (`perf_data_i`).
  public var counterBits: Int
  /// Bits of the memory error code, its port and its address (`mem_err_*_i`).
  public var memoryErrorCodeBits: Int
  public var memoryErrorPortBits: Int
  public var memoryAddressBits: Int
  /// Depths of the prompt FIFO (host to core) and the token FIFO (core to
  /// host); each holds one token more (`stream_fifo`'s output register).
  public var promptDepth: Int
  public var tokenDepth: Int

  /// Byte offset of counter 0's low word; counter i's words are at
  /// `counterBase + 8 i` and `counterBase + 8 i + 4`.
  public static let counterBase = 0x40
  /// The ID register's value: "MMFA" in ASCII.
  public static let identifier = 0x4d4d_4641

  public init(
    addressWidth: Int = 8, programDepth: Int = 2048, programBaseBits: Int = 36, programAlignBits: Int = 6,
    tokenBits: Int = 16,
    tokensBits: Int = 32, counters: Int = 19, counterBits: Int = 48, memoryErrorCodeBits: Int = 3,
    memoryErrorPortBits: Int = 3, memoryAddressBits: Int = 36, promptDepth: Int = 16, tokenDepth: Int = 16
  ) {
    self.addressWidth = addressWidth
    self.programDepth = programDepth
    self.programBaseBits = programBaseBits
    self.programAlignBits = programAlignBits
    self.tokenBits = tokenBits
    self.tokensBits = tokensBits
    self.counters = counters
    self.counterBits = counterBits
    self.memoryErrorCodeBits = memoryErrorCodeBits
    self.memoryErrorPortBits = memoryErrorPortBits
    self.memoryAddressBits = memoryAddressBits
    self.promptDepth = promptDepth
    self.tokenDepth = tokenDepth
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws one line saying what is wrong and what is allowed.
  public func validate() throws {
    func fail(_ text: String) -> Invalid { Invalid(description: "accelerator csr: " + text) }
    guard (7...16).contains(addressWidth) else {
      throw fail("address width must be 7...16 bits, got \(addressWidth)")
    }
    guard counters >= 1, Self.counterBase + 8 * counters <= 1 << addressWidth else {
      throw fail("\(counters) counters need 1...\(((1 << addressWidth) - Self.counterBase) / 8) in a \(addressWidth)-bit register space")
    }
    guard (2...65536).contains(programDepth) else {
      throw fail("the program memory must hold 2...65536 instructions, got \(programDepth)")
    }
    guard (1...64).contains(programBaseBits) else {
      throw fail("program base bits must be 1...64, got \(programBaseBits)")
    }
    guard (0..<min(programBaseBits, 32)).contains(programAlignBits) else {
      throw fail("program alignment bits must be 0...\(min(programBaseBits, 32) - 1), got \(programAlignBits)")
    }
    guard (1...31).contains(tokenBits) else { throw fail("token bits must be 1...31 (bit 31 is TOKEN's valid), got \(tokenBits)") }
    guard (1...32).contains(tokensBits) else { throw fail("tokens bits must be 1...32, got \(tokensBits)") }
    guard (1...64).contains(counterBits) else { throw fail("counter bits must be 1...64, got \(counterBits)") }
    guard (1...8).contains(memoryErrorCodeBits) else {
      throw fail("memory error code bits must be 1...8, got \(memoryErrorCodeBits)")
    }
    guard (1...8).contains(memoryErrorPortBits) else {
      throw fail("memory error port bits must be 1...8, got \(memoryErrorPortBits)")
    }
    guard (1...64).contains(memoryAddressBits) else {
      throw fail("memory address bits must be 1...64, got \(memoryAddressBits)")
    }
    for (name, depth) in [("prompt", promptDepth), ("token", tokenDepth)] {
      guard (2...4096).contains(depth) else { throw fail("the \(name) FIFO depth must be 2...4096, got \(depth)") }
    }
  }

  /// Bits of PROG_COUNT (`prog_count_o`): 0...programDepth.
  public var programCountBits: Int { Self.bits(programDepth) }
  /// PROG_BASE's alignment in bytes.
  public var programAlignBytes: Int { 1 << programAlignBits }
  /// Bits of `perf_sel_o`: a counter index.
  public var counterSelectBits: Int { max(1, Self.bits(counters - 1)) }

  static func bits(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }

  public var description: String {
    "AXI4-Lite CSR: \(addressWidth)-bit addresses, \(programDepth)-instruction program, \(counters) counters, "
      + "prompt FIFO \(promptDepth), token FIFO \(tokenDepth)"
  }
}

/// The fixed registers of `mmfree_csr`, by byte offset (32-bit registers;
/// docs/control-registers.md). The counters follow at
/// `AcceleratorCSRConfig.counterBase`.
public enum AcceleratorCSRRegister: Int, CaseIterable, Sendable, CustomStringConvertible {
  case control = 0x00
  case status = 0x04
  case tokens = 0x08
  case prompt = 0x0c
  case token = 0x10
  case irqEnable = 0x14
  case irqStatus = 0x18
  case error = 0x1c
  case errorAddressLow = 0x20
  case errorAddressHigh = 0x24
  case programBaseLow = 0x28
  case programBaseHigh = 0x2c
  case identifier = 0x30
  case counters = 0x34
  case programCount = 0x38

  /// The register's name in the map (`CTRL`, `IRQ_STATUS`).
  public var description: String {
    switch self {
    case .control: return "CTRL"
    case .status: return "STATUS"
    case .tokens: return "TOKENS"
    case .prompt: return "PROMPT"
    case .token: return "TOKEN"
    case .irqEnable: return "IRQ_ENABLE"
    case .irqStatus: return "IRQ_STATUS"
    case .error: return "ERROR"
    case .errorAddressLow: return "ERROR_ADDR_LO"
    case .errorAddressHigh: return "ERROR_ADDR_HI"
    case .programBaseLow: return "PROG_BASE_LO"
    case .programBaseHigh: return "PROG_BASE_HI"
    case .identifier: return "ID"
    case .counters: return "COUNTERS"
    case .programCount: return "PROG_COUNT"
    }
  }

  /// The offset's `localparam` in the emitted RTL (`AddrIrqStatus`).
  public var constantName: String {
    "Addr" + description.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined()
  }

  /// A host may read it; a read of any other offset answers SLVERR.
  public var readable: Bool { ![.control, .prompt].contains(self) }
  /// A host may write it; a write of any other offset answers SLVERR.
  public var writable: Bool {
    [.control, .tokens, .prompt, .irqEnable, .irqStatus, .programBaseLow, .programBaseHigh, .programCount].contains(self)
  }
  /// The program load's registers: a write while busy answers SLVERR.
  public var program: Bool { [.programBaseLow, .programBaseHigh, .programCount].contains(self) }

  /// Byte offset of counter `index`'s low word (the high word is 4 bytes on).
  public static func counter(_ index: Int) -> Int { AcceleratorCSRConfig.counterBase + 8 * index }
}

/// Bits of CTRL, STATUS and the interrupt registers.
public enum AcceleratorCSRBit {
  /// CTRL.
  public static let start = 0, snapshot = 1, load = 2
  /// STATUS.
  public static let busy = 0, done = 1, error = 2, promptFull = 3, tokenAvailable = 4, tokenOverflow = 5
  /// IRQ_ENABLE and IRQ_STATUS.
  public static let irqDone = 0, irqError = 1, irqToken = 2
  public static let irqBits = 3
  /// TOKEN: the token is valid.
  public static let tokenValid = 31
  /// ERROR: the port's field starts at 8, err_i is bit 16.
  public static let errorPort = 8, errorCore = 16
}
