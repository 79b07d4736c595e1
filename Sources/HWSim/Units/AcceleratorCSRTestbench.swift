import HWDSL
import HWGenerators
import HWSpec
import HWSupport
import HWVerilator

/// A configuration of `mmfree_csr`, generated, verilated (or cached) and loaded, out of reset.
public struct AcceleratorCSRSimulation {
  public let design: Design
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let bench: AcceleratorCSRTestbench

  public init(
    config: AcceleratorCSRConfig, cache: VerilatorBuildCache = VerilatorBuildCache(),
    options: VerilatorOptions = VerilatorOptions()
  ) throws {
    design = try AcceleratorCSRGenerator.generate(config)
    let sources = try AcceleratorCSRGenerator.sources(config)
    library = try cache.library(for: VerilatorBuildSpec(design: design, sources: sources, options: options))
    model = try VerilatedModel(library: library)
    bench = try AcceleratorCSRTestbench(config: config, model: model)
    try bench.reset()
  }
}

/// Drives the Verilated `mmfree_csr` from the host side (`bus`, an
/// `AXILiteMaster`) and plays the accelerator core on the other: `busy_i`,
/// `err_i` and the memory error are whatever the test sets, tokens queued in
/// `generated` arrive one a cycle on `token_valid_i`, the prompt stream is
/// taken when `promptReady` says so, and `perf_data_i` is `counters[perf_sel_o]`
/// (combinational, as in the top). Every pulse is recorded with its cycle, a
/// LOAD with the PROG_BASE and PROG_COUNT it asks for.
public final class AcceleratorCSRTestbench: ClockedEnvironment {
  public let config: AcceleratorCSRConfig
  public let model: VerilatedModel
  public private(set) var bus: AXILiteMaster!

  // The core's side, as the test sets it.
  public var busy = false
  public var err = false
  public var memoryError = 0, memoryErrorPort = 0
  public var memoryErrorAddress: UInt64 = 0
  public var counters: [UInt64]
  /// Tokens the core generates, one a cycle from the next cycle on.
  public var generated: [Int] = []
  /// Whether the core takes a prompt token this cycle (by cycle number).
  public var promptReady: (UInt64) -> Bool = { _ in true }

  // What the CSR did.
  public private(set) var starts: [UInt64] = []
  public private(set) var snapshots: [UInt64] = []
  public private(set) var programLoads: [(base: UInt64, count: Int)] = []
  public private(set) var promptTaken: [Int] = []
  /// `perf_sel_o` in each cycle `rvalid_o` rose.
  public private(set) var selectsAtResponse: [Int] = []

  let rstN, irq, load, progBase, progCount, start, tokens, busyIn, promptValid, promptReadyIn, promptToken: PortHandle
  let tokenValid, token, errIn, memErr, memErrPort, memErrAddr, perfSnapshot, perfSel, perfData, rValid: PortHandle
  private var rValidLast = false

  public init(config: AcceleratorCSRConfig, model: VerilatedModel) throws {
    self.config = config
    self.model = model
    counters = [UInt64](repeating: 0, count: config.counters)
    rstN = try model.port("rst_ni")
    irq = try model.port("irq_o")
    load = try model.port("load_o")
    progBase = try model.port("prog_base_o")
    progCount = try model.port("prog_count_o")
    start = try model.port("start_o")
    tokens = try model.port("tokens_o")
    busyIn = try model.port("busy_i")
    promptValid = try model.port("prompt_valid_o")
    promptReadyIn = try model.port("prompt_ready_i")
    promptToken = try model.port("prompt_token_o")
    tokenValid = try model.port("token_valid_i")
    token = try model.port("token_i")
    errIn = try model.port("err_i")
    memErr = try model.port("mem_err_i")
    memErrPort = try model.port("mem_err_port_i")
    memErrAddr = try model.port("mem_err_addr_i")
    perfSnapshot = try model.port("perf_snapshot_o")
    perfSel = try model.port("perf_sel_o")
    perfData = try model.port("perf_data_i")
    rValid = try model.port("s_axil_rvalid_o")
    bus = try AXILiteMaster(model: model, environment: self)
  }

  public func reset() throws {
    try model.applyReset(rstN, idle: bus.idleInputs + [busyIn, tokenValid, errIn, promptReadyIn])
  }

  /// The CSR's `tokens_o` and `irq_o` now.
  public var tokenCount: UInt64 { model.get(tokens) }
  public var interrupt: Bool { model.get(irq) == 1 }

  public func settle() throws {
    model.set(busyIn, busy ? 1 : 0)
    model.set(errIn, err ? 1 : 0)
    model.set(memErr, UInt64(memoryError))
    model.set(memErrPort, UInt64(memoryErrorPort))
    model.set(memErrAddr, memoryErrorAddress)
    if let t = generated.first {
      model.set(tokenValid, 1)
      model.set(token, UInt64(t))
    } else {
      model.set(tokenValid, 0)
    }
    model.set(promptReadyIn, promptReady(model.cycle) ? 1 : 0)
    try model.eval()
    let selected = Int(model.get(perfSel))
    model.set(perfData, selected < counters.count ? counters[selected] : 0)
    try model.eval()
  }

  public func edge() throws {
    let cycle = model.cycle
    if model.get(start) == 1 { starts.append(cycle) }
    if model.get(perfSnapshot) == 1 { snapshots.append(cycle) }
    if model.get(load) == 1 { programLoads.append((model.get(progBase), Int(model.get(progCount)))) }
    if model.get(promptValid) == 1 && model.get(promptReadyIn) == 1 { promptTaken.append(Int(model.get(promptToken))) }
    let rValidNow = model.get(rValid) == 1
    if rValidNow && !rValidLast { selectsAtResponse.append(Int(model.get(perfSel))) }
    rValidLast = rValidNow
    if !generated.isEmpty { generated.removeFirst() }
    try model.step(1)
  }

  /// `cycles` cycles with the bus idle.
  public func idle(_ cycles: Int = 1) throws {
    bus.idle()
    for _ in 0..<cycles {
      try settle()
      try edge()
    }
  }

  // Register access by name.
  public func write(
    _ register: AcceleratorCSRRegister, _ value: UInt32, strobe: Int = 0xf, timing: AXILiteMaster.Timing = .init()
  ) throws -> AXILiteResponse {
    try bus.write(register.rawValue, value, strobe: strobe, timing: timing)
  }

  public func read(_ register: AcceleratorCSRRegister, timing: AXILiteMaster.Timing = .init()) throws -> (
    data: UInt32, response: AXILiteResponse
  ) {
    try bus.read(register.rawValue, timing: timing)
  }
}
