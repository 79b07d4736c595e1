import Foundation
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWVerilator
import Testing

/// The configurations of `mmfree_csr` the tests simulate: the accelerator's,
/// and a small one at the edges (7 address bits filled by 8 counters,
/// 20-bit counters and memory addresses, 31-bit tokens, a 6-instruction
/// program at a 20-bit base on 16 bytes, 8-bit error fields, FIFOs of 2).
let csrConfigs = [
  AcceleratorConfig().csr,
  AcceleratorCSRConfig(
    addressWidth: 7, programDepth: 6, programBaseBits: 20, programAlignBits: 4, tokenBits: 31, tokensBits: 5, counters: 8,
    counterBits: 20, memoryErrorCodeBits: 8, memoryErrorPortBits: 8, memoryAddressBits: 20, promptDepth: 2,
    tokenDepth: 2),
]

/// Builds each configuration's library once per test process (serialized).
enum CSRModels {
  private static let lock = NSLock()

  static func bench(_ config: AcceleratorCSRConfig = csrConfigs[0]) throws -> AcceleratorCSRTestbench {
    lock.lock()
    defer { lock.unlock() }
    return try AcceleratorCSRSimulation(config: config).bench
  }
}

typealias Reg = AcceleratorCSRRegister

@Suite struct AcceleratorCSRTests {
  /// The accelerator's CSR has the widths of `mmfree_accel`'s ports.
  @Test func acceleratorConfigMatchesTheTop() throws {
    let csr = AcceleratorConfig().csr
    #expect(csr.programDepth == 2048 && csr.programCountBits == 12)
    #expect(csr.programBaseBits == 36 && csr.programAlignBytes == 64, "a 16-lane element beat")
    #expect(csr.tokensBits == 32)
    #expect(csr.tokenBits == 16)
    #expect(csr.counters == AcceleratorCounter.allCases.count)
    #expect(csr.counterSelectBits == 5)
    #expect(csr.counterBits == 48)
    #expect(csr.memoryErrorCodeBits == 3 && csr.memoryErrorPortBits == 3 && csr.memoryAddressBits == 36)
    #expect(csr == AcceleratorCSRConfig())
    try csr.validate()
    // The top instantiates it (the design checks every connection's width) and exposes its
    // AXI4-Lite port and interrupt; the core's host signals are internal.
    let top = try AcceleratorGenerator.generate(AcceleratorConfig()).top
    #expect(top.instances.contains { $0.module.name == AcceleratorCSRGenerator.moduleName })
    for (name, width) in [
      ("s_axil_awaddr_i", csr.addressWidth), ("s_axil_araddr_i", csr.addressWidth), ("s_axil_wdata_i", 32),
      ("irq_o", 1), ("token_o", csr.tokenBits), ("perf_sel_i", csr.counterSelectBits),
    ] {
      #expect(top.port(named: name)?.type.width == width, "\(name)")
    }
    for gone in ["prog_we_i", "load_i", "start_i", "tokens_i", "prompt_valid_i", "busy_o", "err_o", "mem_err_o"] {
      #expect(top.port(named: gone) == nil, "\(gone)")
    }
  }

  @Test func invalidConfigurationsAreRejected() {
    let bad = [
      AcceleratorCSRConfig(addressWidth: 6), AcceleratorCSRConfig(addressWidth: 7, counters: 9),
      AcceleratorCSRConfig(programDepth: 1), AcceleratorCSRConfig(programBaseBits: 36, programAlignBits: 32),
      AcceleratorCSRConfig(programBaseBits: 4, programAlignBits: 4), AcceleratorCSRConfig(tokenBits: 32),
      AcceleratorCSRConfig(counterBits: 65), AcceleratorCSRConfig(memoryErrorPortBits: 9),
      AcceleratorCSRConfig(promptDepth: 1), AcceleratorCSRConfig(tokenDepth: 0),
    ]
    for config in bad { #expect(throws: AcceleratorCSRConfig.Invalid.self, "\(config)") { try config.validate() } }
  }

  /// The register map is in the RTL as localparams, and the read mux decodes by them.
  @Test func offsetsAreLocalparams() throws {
    let text = try AcceleratorCSRGenerator.sources(csrConfigs[0]).first { $0.name == "mmfree_csr.sv" }!.contents
    #expect(text.contains("localparam logic [7:0]  AddrIrqStatus   = 8'h18;  // IRQ_STATUS"))
    #expect(text.contains("      AddrProgBaseLo: begin"))
    #expect(text.contains("assign wr_prog_count = wr_addr == AddrProgCount;"))
    #expect(text.contains("localparam logic [31:0] Identifier      = 32'h4d4d4641;"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 })
  }

  @Test(arguments: csrConfigs)
  func readWriteRegistersHoldWhatIsWritten(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    for r in Reg.allCases where r.readable && r != .identifier && r != .counters {
      #expect(try b.read(r) == (0, .okay), "\(r) after reset")
    }
    let tokensMask = UInt32(truncatingIfNeeded: (UInt64(1) << config.tokensBits) - 1)
    #expect(try b.write(.tokens, 0xdead_beef) == .okay)
    #expect(try b.read(.tokens) == (0xdead_beef & tokensMask, .okay))
    #expect(b.tokenCount == UInt64(0xdead_beef & tokensMask))
    #expect(try b.write(.irqEnable, 0xffff_ffff) == .okay)
    #expect(try b.read(.irqEnable) == (7, .okay))
    let base = UInt64(0x9_8765_4321) & (UInt64(1) << config.programBaseBits - 1) & ~UInt64(config.programAlignBytes - 1)
    #expect(try b.write(.programBaseLow, UInt32(truncatingIfNeeded: base)) == .okay)
    #expect(try b.write(.programBaseHigh, UInt32(base >> 32)) == .okay)
    #expect(try b.read(.programBaseLow) == (UInt32(truncatingIfNeeded: base), .okay))
    #expect(try b.read(.programBaseHigh) == (UInt32(base >> 32), .okay))
    #expect(try b.write(.programCount, UInt32(config.programDepth)) == .okay)
    #expect(try b.read(.programCount) == (UInt32(config.programDepth), .okay))
    #expect(try b.read(.identifier) == (0x4d4d_4641, .okay))
    #expect(try b.read(.counters) == (UInt32(config.counters), .okay))
    #expect(b.starts.isEmpty && b.snapshots.isEmpty && b.programLoads.isEmpty)
  }

  /// Unlisted offsets, reads of write-only and writes of read-only
  /// registers, and writes with a partial strobe answer SLVERR and change nothing.
  @Test(arguments: csrConfigs)
  func everyOtherAccessAnswersSlaveError(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    #expect(try b.write(.tokens, 5) == .okay)
    #expect(try b.write(.irqEnable, 2) == .okay)
    #expect(try b.write(.programCount, 3) == .okay)
    func snapshot() throws -> [UInt32] {
      try Reg.allCases.filter(\.readable).map { try b.read($0).data }
    }
    let before = try snapshot()
    let end = AcceleratorCSRConfig.counterBase + 8 * config.counters
    var unmapped = [0x3c] + (end < 1 << config.addressWidth ? [end, (1 << config.addressWidth) - 4] : [])
    unmapped += [0x3c + 3]
    for address in unmapped {
      #expect(try b.bus.read(address) == (0, .slaveError), "read 0x\(String(address, radix: 16))")
      #expect(try b.bus.write(address, 0xffff_ffff) == .slaveError, "write 0x\(String(address, radix: 16))")
    }
    for r in Reg.allCases where !r.readable { #expect(try b.read(r) == (0, .slaveError), "read \(r)") }
    for r in Reg.allCases where !r.writable { #expect(try b.write(r, 0xffff_ffff) == .slaveError, "write \(r)") }
    for strobe in [0x0, 0x1, 0x7, 0xe, 0x8] {
      for r in [Reg.tokens, .irqEnable, .programBaseLow, .programBaseHigh, .programCount, .control, .prompt, .irqStatus] {
        #expect(try b.write(r, 0xffff_ffff, strobe: strobe) == .slaveError, "\(r) strobe \(strobe)")
      }
    }
    #expect(try snapshot() == before)
    try b.idle(4)
    #expect(b.starts.isEmpty && b.snapshots.isEmpty && b.programLoads.isEmpty && b.promptTaken.isEmpty)
    // Byte offsets within a register select the register.
    #expect(try b.bus.read(Reg.tokens.rawValue + 2) == (5, .okay))
  }

  @Test func startPulsesOnceAndIsIgnoredWhileBusy() throws {
    let b = try CSRModels.bench()
    #expect(try b.write(.tokens, 7) == .okay)
    #expect(try b.write(.control, 1) == .okay)
    try b.idle(3)
    #expect(b.starts.count == 1)
    b.busy = true
    try b.idle()
    #expect(try b.read(.status).data & 1 == 1)
    #expect(try b.write(.control, 1) == .okay)
    try b.idle(3)
    #expect(b.starts.count == 1, "START while busy")
    #expect(try b.write(.control, 2) == .okay)
    try b.idle(2)
    #expect(b.snapshots.count == 1, "SNAPSHOT while busy too")
    #expect(b.starts.count == 1)
  }

  @Test func doneSetsWhenBusyFallsAndStartClearsIt() throws {
    let b = try CSRModels.bench()
    #expect(try b.write(.control, 1) == .okay)
    b.busy = true
    try b.idle(5)
    #expect(try b.read(.status).data == 1 << AcceleratorCSRBit.busy)
    b.busy = false
    try b.idle()
    #expect(try b.read(.status).data == 1 << AcceleratorCSRBit.done)
    #expect(try b.read(.irqStatus).data == 1 << AcceleratorCSRBit.irqDone)
    #expect(try b.read(.status).data == 1 << AcceleratorCSRBit.done, "DONE stays")
    #expect(try b.write(.control, 1) == .okay)
    #expect(try b.read(.status).data == 0)
    #expect(b.starts.count == 2)
  }

  @Test(arguments: csrConfigs)
  func fullPromptFIFOAnswersSlaveErrorAndPushesNothing(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    var held = false
    b.promptReady = { _ in held }
    let capacity = config.promptDepth + 1
    let mask = (1 << config.tokenBits) - 1
    for i in 0..<capacity {
      #expect(try b.write(.prompt, UInt32(0x7000_0000 | (100 + i))) == .okay, "token \(i)")
    }
    #expect(try b.read(.status).data & (1 << AcceleratorCSRBit.promptFull) != 0)
    #expect(try b.write(.prompt, 999) == .slaveError)
    #expect(try b.write(.prompt, 998) == .slaveError)
    held = true
    try b.idle(capacity + 4)
    #expect(b.promptTaken == (0..<capacity).map { (0x7000_0000 | (100 + $0)) & mask })
    #expect(try b.read(.status).data & (1 << AcceleratorCSRBit.promptFull) == 0)
  }

  @Test(arguments: [1, 2, 3, 4] as [UInt64])
  func promptStreamDeliversInOrderUnderRandomReady(seed: UInt64) throws {
    let b = try CSRModels.bench()
    var rng = SeededRandom(seed: seed)
    var readiness = SeededRandom(seed: seed &* 977)
    var ready: [UInt64: Bool] = [:]
    b.promptReady = { cycle in
      if let r = ready[cycle] { return r }
      let r = readiness.next() % 16 == 0
      ready[cycle] = r
      return r
    }
    var pushed: [Int] = []
    var rejected = 0
    while pushed.count < 60 {
      let t = Int(rng.next() % 65536)
      switch try b.write(.prompt, UInt32(t), timing: .random(&rng, maximum: 2)) {
      case .okay: pushed.append(t)
      case .slaveError: rejected += 1
      default: Issue.record("seed \(seed): unexpected response")
      }
    }
    b.promptReady = { _ in true }
    try b.idle(40)
    #expect(b.promptTaken == pushed, "seed \(seed)")
    #expect(rejected > 0, "seed \(seed): the FIFO never filled")
  }

  @Test(arguments: csrConfigs)
  func tokensAreReadInOrderAndOverflowIsSticky(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    #expect(try b.read(.token) == (0, .okay), "empty")
    let mask = (1 << config.tokenBits) - 1
    let capacity = config.tokenDepth + 1
    let tokens = (0..<capacity).map { (0x5a5a_5a5a &+ $0 * 7919) & mask }
    b.generated = tokens
    try b.idle(capacity + 3)
    let status = try b.read(.status).data
    #expect(status & (1 << AcceleratorCSRBit.tokenAvailable) != 0)
    #expect(status & (1 << AcceleratorCSRBit.tokenOverflow) == 0)
    b.generated = [1, 2]
    try b.idle(4)
    #expect(try b.read(.status).data & (1 << AcceleratorCSRBit.tokenOverflow) != 0)
    var read: [Int] = []
    for _ in 0..<capacity {
      let (data, response) = try b.read(.token)
      #expect(response == .okay)
      #expect(data >> 31 == 1)
      read.append(Int(data & 0x7fff_ffff))
    }
    #expect(read == tokens, "the lost tokens were not kept")
    let empty = try b.read(.token)
    #expect(empty == (0, .okay), "\(empty)")
    let after = try b.read(.status).data
    #expect(after & (1 << AcceleratorCSRBit.tokenAvailable) == 0)
    #expect(after & (1 << AcceleratorCSRBit.tokenOverflow) != 0, "sticky")
    #expect(try b.write(.control, 1) == .okay)
    #expect(try b.read(.status).data & (1 << AcceleratorCSRBit.tokenOverflow) == 0, "START clears it")
  }

  @Test func interruptsFollowStatusAndEnable() throws {
    let b = try CSRModels.bench()
    b.generated = [42]
    try b.idle(3)
    #expect(try b.read(.irqStatus).data == 1 << AcceleratorCSRBit.irqToken)
    #expect(!b.interrupt, "not enabled")
    #expect(try b.write(.irqEnable, 1 << AcceleratorCSRBit.irqToken) == .okay)
    #expect(b.interrupt)
    #expect(try b.write(.irqStatus, 1 << AcceleratorCSRBit.irqDone) == .okay)
    #expect(b.interrupt, "clearing another bit leaves it")
    #expect(try b.write(.irqStatus, 1 << AcceleratorCSRBit.irqToken) == .okay)
    #expect(!b.interrupt)
    #expect(try b.read(.irqStatus).data == 0)
    // error rises once: set once, cleared stays cleared while err_i holds.
    b.err = true
    try b.idle(2)
    #expect(try b.read(.irqStatus).data == 1 << AcceleratorCSRBit.irqError)
    #expect(try b.read(.status).data & (1 << AcceleratorCSRBit.error) != 0)
    #expect(!b.interrupt)
    #expect(try b.write(.irqEnable, 0x7) == .okay)
    #expect(b.interrupt)
    #expect(try b.write(.irqStatus, 0xffff_ffff) == .okay)
    try b.idle(3)
    #expect(!b.interrupt)
    #expect(try b.read(.irqStatus).data == 0, "err_i held high does not set it again")
    // done: busy falls.
    b.busy = true
    try b.idle(2)
    b.busy = false
    try b.idle(1)
    #expect(b.interrupt)
    #expect(try b.read(.irqStatus).data == 1 << AcceleratorCSRBit.irqDone)
    #expect(try b.write(.irqEnable, 0) == .okay)
    #expect(!b.interrupt)
  }

  @Test(arguments: csrConfigs)
  func errorRegistersShowTheMemoryError(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    let code = (1 << config.memoryErrorCodeBits) - 1
    let port = (1 << config.memoryErrorPortBits) - 2
    let address = (UInt64(0xf_edcb_a987) & ((UInt64(1) << config.memoryAddressBits) - 1))
    b.memoryError = code
    b.memoryErrorPort = port
    b.memoryErrorAddress = address
    b.err = true
    try b.idle()
    #expect(try b.read(.error) == (UInt32(code | port << 8 | 1 << 16), .okay))
    #expect(try b.read(.errorAddressLow) == (UInt32(truncatingIfNeeded: address), .okay))
    #expect(try b.read(.errorAddressHigh) == (UInt32(address >> 32), .okay))
    b.err = false
    b.memoryError = 0
    try b.idle()
    #expect(try b.read(.error) == (UInt32(port << 8), .okay))
  }

  /// PROG_BASE and PROG_COUNT hold the load's parameters; CTRL.LOAD pulses `load_o` once
  /// with them. Refused (SLVERR, nothing changes, no pulse): a base off the alignment or
  /// beyond the address, a count above the program memory, LOAD of no instructions, LOAD
  /// with START, LOAD and the program registers while busy.
  @Test(arguments: csrConfigs)
  func programLoadIsPulsedWithItsParametersAndBadOnesAreRefused(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    let load = UInt32(1 << AcceleratorCSRBit.load), start = UInt32(1 << AcceleratorCSRBit.start)
    #expect(try b.write(.control, load) == .slaveError, "PROG_COUNT 0")
    let align = UInt64(config.programAlignBytes)
    let base = (UInt64(0x5_0000_0000) | 7 * align) & (UInt64(1) << config.programBaseBits - 1)
    #expect(try b.write(.programBaseLow, UInt32(truncatingIfNeeded: base)) == .okay)
    #expect(try b.write(.programBaseHigh, UInt32(base >> 32)) == .okay)
    #expect(try b.write(.programCount, UInt32(config.programDepth)) == .okay)
    #expect(try b.write(.control, load | start) == .slaveError, "LOAD with START")
    try b.idle(2)
    #expect(b.programLoads.isEmpty && b.starts.isEmpty)
    #expect(try b.write(.control, load) == .okay)
    try b.idle(2)
    #expect(b.programLoads.map(\.base) == [base] && b.programLoads.map(\.count) == [config.programDepth])
    // Bad parameters.
    if config.programAlignBits > 0 {
      #expect(try b.write(.programBaseLow, UInt32(truncatingIfNeeded: base) | 1) == .slaveError, "off the alignment")
      #expect(try b.write(.programBaseLow, UInt32(truncatingIfNeeded: base + align / 2)) == .slaveError)
    }
    let high = config.programBaseBits > 32 ? UInt32(1) << (config.programBaseBits - 32) : 1
    #expect(try b.write(.programBaseHigh, high) == .slaveError, "beyond the address")
    if config.programBaseBits < 32 {
      #expect(try b.write(.programBaseLow, UInt32(1) << config.programBaseBits) == .slaveError, "beyond the address")
    }
    #expect(try b.write(.programCount, UInt32(config.programDepth + 1)) == .slaveError, "above the depth")
    #expect(try b.write(.programCount, 0x8000_0001) == .slaveError)
    #expect(try b.read(.programBaseLow).data == UInt32(truncatingIfNeeded: base))
    #expect(try b.read(.programBaseHigh).data == UInt32(base >> 32))
    #expect(try b.read(.programCount).data == UInt32(config.programDepth))
    // While busy: LOAD and every program register refused.
    b.busy = true
    #expect(try b.write(.control, load) == .slaveError, "LOAD while busy")
    #expect(try b.write(.programCount, 1) == .slaveError)
    #expect(try b.write(.programBaseLow, 0) == .slaveError)
    #expect(try b.write(.programBaseHigh, 0) == .slaveError)
    try b.idle(2)
    #expect(b.programLoads.count == 1)
    #expect(try b.read(.programCount).data == UInt32(config.programDepth))
    b.busy = false
    #expect(try b.write(.programCount, 1) == .okay)
    #expect(try b.write(.control, load) == .okay)
    try b.idle(2)
    #expect(b.programLoads.map(\.count) == [config.programDepth, 1])
  }

  @Test(arguments: csrConfigs)
  func counterReadsSelectTheirCounter(config: AcceleratorCSRConfig) throws {
    let b = try CSRModels.bench(config)
    var rng = SeededRandom(seed: 7)
    let mask = config.counterBits == 64 ? UInt64.max : (UInt64(1) << config.counterBits) - 1
    b.counters = (0..<config.counters).map { _ in rng.next() & mask }
    #expect(try b.write(.control, 2) == .okay)
    try b.idle(1)
    #expect(b.snapshots.count == 1)
    for i in (0..<config.counters).reversed() {
      let base = Reg.counter(i)
      #expect(try b.bus.read(base) == (UInt32(truncatingIfNeeded: b.counters[i]), .okay), "counter \(i) low")
      #expect(b.selectsAtResponse.last == i)
      #expect(try b.bus.read(base + 4) == (UInt32(truncatingIfNeeded: b.counters[i] >> 32), .okay), "counter \(i) high")
      #expect(b.selectsAtResponse.last == i)
    }
  }

  /// Random AW/W order, BREADY and RREADY delays: every write lands once
  /// (TOKENS and PROG_COUNT read back, each OKAY PROMPT token delivered once),
  /// reads answer what was written.
  @Test(arguments: [11, 12, 13, 14, 15] as [UInt64])
  func randomHandshakeTimingLosesAndDuplicatesNothing(seed: UInt64) throws {
    let b = try CSRModels.bench()
    var rng = SeededRandom(seed: seed)
    var readiness = SeededRandom(seed: seed &+ 1000)
    var ready: [UInt64: Bool] = [:]
    b.promptReady = { cycle in
      if let r = ready[cycle] { return r }
      let r = readiness.next() % 3 == 0
      ready[cycle] = r
      return r
    }
    var tokens: UInt32 = 0
    var pushed: [Int] = []
    var count: UInt32 = 0
    for step in 0..<300 {
      let timing = AXILiteMaster.Timing.random(&rng, maximum: 5)
      let value = UInt32(truncatingIfNeeded: rng.next())
      switch rng.next() % 5 {
      case 0:
        #expect(try b.write(.tokens, value, timing: timing) == .okay, "seed \(seed) step \(step) \(timing)")
        tokens = value
      case 1:
        let r = try b.write(.prompt, value, timing: timing)
        if r == .okay { pushed.append(Int(value & 0xffff)) }
        #expect(r == .okay || r == .slaveError, "seed \(seed) step \(step)")
      case 2:
        let depth = UInt32(b.config.programDepth), c = value % (depth + depth / 4)
        #expect(try b.write(.programCount, c, timing: timing) == (c <= depth ? .okay : .slaveError), "seed \(seed) step \(step)")
        if c <= depth { count = c }
      case 3:
        #expect(try b.read(.tokens, timing: timing) == (tokens, .okay), "seed \(seed) step \(step) \(timing)")
      default:
        #expect(try b.read(.programCount, timing: timing) == (count, .okay), "seed \(seed) step \(step)")
      }
      #expect(b.tokenCount == UInt64(tokens), "seed \(seed) step \(step)")
    }
    b.promptReady = { _ in true }
    try b.idle(30)
    #expect(b.promptTaken == pushed, "seed \(seed)")
    #expect(b.bus.writes + b.bus.reads == 300, "seed \(seed)")
  }
}
