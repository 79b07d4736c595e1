import HWDSL
import HWSpec

/// The token-level accelerator, `mmfree_accel`: the BitLinear datapath
/// (`matvec_datapath`: ternary core -> rescale), the RMSNorm/quantize unit,
/// the MLGRU unit and the vector unit around on-chip buffers, run by a
/// sequencer that executes an `AcceleratorProgram` (AcceleratorISA.swift).
/// A MATVEC runs on its own once started; the sequencer goes on until a
/// WAITMV, and the MATVEC's results take the scratchpad write port first.
///
/// On-chip buffers:
/// - the activation scratchpad: `scratchpadBeats` beats of `elementLanes`
///   Q15.16 elements, two copies written together so two operands read in
///   the same cycle (ports a and b);
/// - the parameter buffer: gammas and lower bounds loaded from off-chip;
/// - the activation buffer: the quantized input of a MATVEC as the core's
///   bit-plane beats (8 planes of 64 elements), packed from the norm unit's
///   int8 output, in two banks (the next QUANT fills one while a MATVEC
///   reads the other);
/// - the weight FIFO (`u_weight_fifo`, `StreamFIFOGenerator`): weight beats from
///   off-chip ahead of the core, so the memory keeps streaming while the
///   element-wise units work;
/// - the program memory, written by the program loader.
///
/// Off-chip memory is outside, behind AXI4: the weight DMA (`WeightDMA`)
/// walks the program ahead of the sequencer and reads every MATVEC's matrix
/// through `memoryPorts` AXI4 read ports `m<p>_axi_*` (one `axi_read_master`
/// each, every weight beat striped across them); the vector DMA (`VectorDMA`)
/// reads LOADV's and EMBED's vectors, and the program, through the vector
/// port `mvec_axi_*`.
/// Only AXI4 signals cross the memory boundary.
///
/// Host interface: the AXI4-Lite port `s_axil_*` of `mmfree_csr`
/// (`hostControl`, docs/control-registers.md) and `irq_o`. While idle the
/// host has the program read from memory (PROG_BASE, PROG_COUNT, CTRL.LOAD:
/// `ProgramLoader`, through the vector DMA); CTRL.START runs TOKENS
/// tokens from address 0 with fresh MLGRU state (the sequencer halts at the
/// last one's END, the DMA reads no further). Each token's EMBED takes a
/// token from the PROMPT FIFO when one waits, else the previous ARGMAX:
/// greedy generation needs no host. Generated tokens queue in TOKEN; DONE,
/// errors and tokens raise interrupts. Trace and debug: `token_valid_o`
/// pulses with each generated token; CKPT streams a vector out on `ckpt_*`
/// while the rest of the accelerator holds still (`ckpt_active_o`), so
/// checkpoints cost no simulated time; the performance counters
/// (`AcceleratorCounter`) read live through `perf_sel_i`/`perf_data_o`, and
/// for the host from a snapshot bank (CTRL.SNAPSHOT).
public enum AcceleratorGenerator: UnitGenerator {
  public static let unitName = "accelerator"
  public static let moduleName = "mmfree_accel"
  public static let tokenBits = AcceleratorConfig.tokenBits
  public static let addressBits = 48
  public static let counterBits = AcceleratorConfig.counterBits
  public static let loadQueueDepth = 32
  /// Bits of TOKENS, the tokens one start runs.
  public static let tokenCountBits = AcceleratorConfig.tokenCountBits

  public static func generate(_ config: AcceleratorConfig) throws -> Design {
    try validate(config)
    let datapath = try MatVecDatapathGenerator.generate(config).top
    let norm = try NormUnitGenerator.generate(config.norm).top
    let mlgru = try MLGRUUnitGenerator.generate(config.mlgru).top
    let vector = try VectorUnitGenerator.generate(VectorUnitConfig(lanes: config.elementLanes)).top
    let fifo = try StreamFIFOGenerator.generate(weightFIFO(config)).top
    let unpack = config.weightPacking == .base3
      ? try WeightUnpackGenerator.generate(WeightUnpackConfig(config)).top : nil
    let master = try AXIReadMasterGenerator.generate(config.memoryMaster).top
    let csr = try AcceleratorCSRGenerator.generate(config.csr).top
    let vectorMaster = config.vectorMaster == config.memoryMaster
      ? master
      : try AXIReadMasterGenerator.generate(
        config.vectorMaster, name: "\(AXIReadMasterGenerator.moduleName)_vector").top
    return try Design(
      top: topModule(
        config, datapath: datapath, norm: norm, mlgru: mlgru, vector: vector, fifo: fifo, unpack: unpack, csr: csr,
        masters: (
          weights: master, vectors: vectorMaster,
          requestQueue: try StreamFIFOGenerator.module(VectorDMA.requestQueue(config))
        )),
      packages: [MMFreePackage.package])
  }

  public static func manifestParameters(_ a: AcceleratorConfig) -> [(key: String, value: String)] {
    [
      ("lanes", "\(a.lanes)"), ("elementLanes", "\(a.elementLanes)"), ("scratchpadBeats", "\(a.scratchpadBeats)"),
      ("parameterBeats", "\(a.parameterBeats)"), ("weightFIFOBeats", "\(a.weightFIFOBeats)"),
      ("programDepth", "\(a.programDepth)"), ("instructionBits", "\(AcceleratorInstruction.bits)"),
      ("memoryPorts", "\(a.memoryPorts)"), ("memoryDataBits", "\(a.memoryDataBits)"),
      ("vectorDataBits", "\(a.vectorDataBits)"),
    ] + (a.weightPacking == .planes ? [] : [("weightPacking", "\"\(a.weightPacking)\"")])
      + (a.streams == 1 ? [] : [("streams", "\(a.streams)")])
  }

  /// The top's own limits on top of `AcceleratorConfig.validate`.
  public static func validate(_ config: AcceleratorConfig) throws {
    try config.validate()
    guard config.lanes <= 64 ? 64 % config.lanes == 0 : config.lanes % 64 == 0 else {
      throw AcceleratorConfig.Invalid(
        description: "the accelerator top packs whole element beats into 64-element activation words and splits wider result beats into 64-element ones: lanes must be 1, 2, 4, 8, 16, 32, 64 or a multiple of 64, got \(config.lanes)")
    }
    try config.memoryMaster.validate()
    try config.vectorMaster.validate()
  }

  /// `mmfree_accel`, section by section in declaration order: ports and
  /// buffers, the sequencer and decode, vector loads, SETC constants, operand
  /// fetch, the element-wise units, the activation packer, MATVEC, scratchpad
  /// writes, completion and control, the performance counters.
  static func topModule(
    _ config: AcceleratorConfig, datapath: Module, norm: Module, mlgru: Module, vector: Module, fifo: Module,
    unpack: Module?, csr: Module, masters: (weights: Module, vectors: Module, requestQueue: Module)
  ) throws -> Module {
    let m = ModuleBuilder(moduleName, comment: topComment(config))
    let t = Top(m, config)
    let seq = SequencerRegisters(t)
    let decode = Decode(t, seq)
    let loads = VectorLoads(t, seq, decode)
    let loader = ProgramLoader(t, loads)
    _ = VectorDMA(t, loads, loader, master: masters.vectors, queue: masters.requestQueue)
    let constants = Constants(t, seq, decode)
    let fetch = OperandFetch(t, seq, decode)
    let units = UnitConnections(
      norm: NormConnection(t, norm, seq, decode, fetch, constants),
      mlgru: MLGRUConnection(t, mlgru, seq, decode, fetch),
      vector: VectorConnection(t, vector, seq, decode, fetch))
    connectConsumer(t, decode, fetch, units.norm, units.mlgru, units.vector)
    let packer = Packer(t, seq, decode, units.norm)
    let dma = WeightDMA(t, master: masters.weights)
    let matVec = MatVec(t, (datapath, fifo, unpack), seq, decode, packer, dma)
    let writeBack = WriteBack(t, seq, decode, loads, units, matVec)
    let control = Control(t, seq, decode, loads, fetch, units, dma, loading: loader.active)
    performanceCounters(
      t,
      CounterSources(
        seq: seq, decode: decode, loads: loads, fetch: fetch, units: units, packer: packer, matVec: matVec,
        writeBack: writeBack, control: control, dma: dma))
    hostControl(t, csr: csr)
    return try m.finish()
  }

  static func topComment(_ config: AcceleratorConfig) -> [String] {
    let c = config.core, beatBits = 32 * config.elementLanes
    return [
      "MatMul-free LM accelerator: sequencer, scratchpad (\(config.scratchpadBeats) x \(beatBits) bits, two copies),",
      "parameter buffer (\(config.parameterBeats) beats), activation buffer, weight FIFO (\(config.weightFIFOBeats) beats),",
      "matvec_datapath (\(c.lanes) x \(c.laneWidth) ternary core + rescale), norm_unit, mlgru_unit, vector_unit.",
      "Weight DMA: \(config.memoryPorts) AXI4 read port(s) m<p>_axi_* of \(config.memoryDataBits) bits, each weight beat striped across them;",
      "vector DMA: the \(config.vectorDataBits)-bit AXI4 read port mvec_axi_* (LOADV, EMBED).",
      "Instruction word: [3:0] op, [19:4] length, [35:20] a, [51:36] b, [67:52] dst, [127:68] immediate.",
    ] + (config.weightPacking == .base3
      ? ["Weights in base 3, five a byte: weight_unpack turns memory beats into core beats."] : [])
      + (config.streams == 1
        ? []
        : ["\(config.streams) streams: one core each on every weight beat; SETC stream selects QUANT's, EMBED's and",
           "ARGMAX's stream; tokens carry the stream in bits 16 and up."])
  }
}

/// The sequencer's states: prefetch (`fetch`), decode and start (`issue`),
/// and wait for the instruction's unit (`busy`).
enum SequencerState: Int, CaseIterable, HardwareEnum {
  case idle, fetch, issue, busy
  static let hardwareName = "state"
  static let valuePrefix = "St"
}

extension AcceleratorGenerator {
  /// The top's ports (and its program memory), declared in the order the
  /// module lists them.
  struct TopPorts {
    let clk: Expr
    let rst: Expr
    let programMemory: ModuleBuilder.MemoryHandle
    let pcType: HWType
    /// The host's AXI4-Lite port `s_axil_*` (`mmfree_csr`) and its interrupt.
    let control: AXILiteBundle
    let irq: Expr
    /// Between `mmfree_csr` and the core: the program load, start, the prompt stream, and
    /// the status the registers show.
    let load: Expr
    let progBase: Expr
    let progCount: Expr
    let start: Expr
    let tokens: Expr
    let busy: Expr
    let tokenType: HWType
    let promptValid: Expr
    let promptReady: Expr
    let promptToken: Expr
    /// Trace outputs: each ARGMAX's token, as the CSR's token FIFO receives it.
    let tokenValid: Expr
    let tokenOut: Expr
    /// The AXI4 read ports toward memory, port p's signals `m<p>_axi_*`.
    let memory: [AXIReadBundle]
    let memErr: Expr
    let memErrPort: Expr
    let memErrAddr: Expr
    let levelType: HWType
    let wLevel: Expr
    /// The vector port `mvec_axi_*` and its read engine's error.
    let vectorMemory: AXIReadBundle
    let vectorErr: Expr
    let vectorErrAddr: Expr
    let ckptValid: Expr
    let ckptReady: Expr
    let ckptData: Expr
    let ckptLast: Expr
    let ckptTag: Expr
    let ckptActive: Expr
    /// Debug: any counter's live value; the CSR reads the snapshot bank instead.
    let perfSel: Expr
    let perfData: Expr
    let csrPerfSnapshot: Expr
    let csrPerfSel: Expr
    let csrPerfData: Expr
    let err: Expr

    /// An AXI4 read port of the top, its signals named `<prefix>axi_*`.
    static func axiPorts(_ m: ModuleBuilder, prefix: String, _ axi: AXIReadMasterConfig) -> AXIReadBundle {
      var bus = AXIReadBundle()
      for spec in AXIReadBundle.ports(axi) {
        let name = prefix + spec.name
        bus[keyPath: spec.field] =
          spec.direction == .input
          ? m.input(name, spec.type, comment: spec.comment) : m.output(name, spec.type, comment: spec.comment)
      }
      return bus
    }

    init(_ m: ModuleBuilder, _ config: AcceleratorConfig) {
      let beatBits = 32 * config.elementLanes
      clk = m.clock()
      rst = m.reset()
      programMemory = m.memory("prog_mem", depth: config.programDepth, .uint(AcceleratorInstruction.bits))
      pcType = HWType.uint(programMemory.addressWidth)
      var control = AXILiteBundle()
      for spec in AXILiteBundle.ports(config.csr.addressWidth) {
        control[keyPath: spec.field] =
          spec.direction == .input
          ? m.input(spec.name, spec.type, comment: spec.comment) : m.output(spec.name, spec.type, comment: spec.comment)
      }
      self.control = control
      irq = m.output("irq", .bit, comment: "an enabled interrupt is pending (IRQ_STATUS & IRQ_ENABLE)")
      load = m.wire("csr_load", .bit, comment: "read the program from memory (while idle)")
      progBase = m.wire("csr_prog_base", .uint(config.csr.programBaseBits), comment: "its byte address")
      progCount = m.wire("csr_prog_count", .uint(config.csr.programCountBits), comment: "its instructions")
      start = m.wire("csr_start", .bit, comment: "run the program from address 0 with fresh state")
      tokens = m.wire("csr_tokens", .uint(tokenCountBits), comment: "tokens a start runs (0: none)")
      busy = m.wire("core_busy", .bit)
      tokenType = HWType.uint(config.taggedTokenBits)
      promptValid = m.wire("csr_prompt_valid", .bit, comment: "a prompt token for the next EMBED")
      promptReady = m.wire("csr_prompt_ready", .bit)
      promptToken = m.wire("csr_prompt_token", tokenType)
      tokenValid = m.output("token_valid", .bit, comment: "trace: ARGMAX produced token_o")
      tokenOut = m.output("token", tokenType)
      let axi = config.memoryMaster
      memory = (0..<config.memoryPorts).map { Self.axiPorts(m, prefix: "m\($0)_", axi) }
      memErr = m.wire("mem_err", .uint(AXIReadError.bits), comment: "first memory error: 1 SLVERR ... 5 timeout")
      memErrPort = m.wire(
        "mem_err_port", .uint(config.memoryErrorPortBits), comment: "weight port p, or memoryPorts: the vector port")
      memErrAddr = m.wire("mem_err_addr", .uint(axi.addressWidth), comment: "the failing beat's port address")
      levelType = HWType.uint(bitsToRepresent(config.weightFIFOBeats + 1))
      wLevel = m.output("w_level", levelType, comment: "weight beats held on chip")
      vectorMemory = Self.axiPorts(m, prefix: "mvec_", config.vectorMaster)
      vectorErr = m.wire("vdma_err", .uint(AXIReadError.bits))
      vectorErrAddr = m.wire("vdma_err_addr", .uint(config.vectorMaster.addressWidth))
      ckptValid = m.output("ckpt_valid", .bit)
      ckptReady = m.input("ckpt_ready", .bit)
      ckptData = m.output("ckpt_data", .uint(beatBits))
      ckptLast = m.output("ckpt_last", .bit)
      ckptTag = m.output("ckpt_tag", .uint(16))
      ckptActive = m.output("ckpt_active", .bit, comment: "a CKPT runs: the host excludes this cycle")
      perfSel = m.input("perf_sel", .uint(5), comment: "debug: a live counter on perf_data_o")
      perfData = m.output("perf_data", .uint(64))
      csrPerfSnapshot = m.wire("csr_perf_snapshot", .bit, comment: "copy every counter into the snapshot bank")
      csrPerfSel = m.wire("csr_perf_sel", .uint(config.csr.counterSelectBits))
      csrPerfData = m.wire("csr_perf_data", .uint(counterBits), comment: "the selected counter's snapshot")
      err = m.wire("core_err", .bit, comment: "sticky: unknown opcode, an MLGRU protocol or a memory error")
    }
  }
}
