import HWDSL

/// One stream FIFO's size: `width` bits a beat, `depth` beats in block RAM.
public struct StreamFIFOConfig: Sendable, Equatable {
  public var width: Int
  public var depth: Int

  public init(width: Int, depth: Int) {
    self.width = width
    self.depth = depth
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  public func validate() throws {
    guard width >= 1 else { throw Invalid(description: "a FIFO beat needs at least one bit, got \(width)") }
    guard depth >= 2 else { throw Invalid(description: "a FIFO needs a depth of at least 2, got \(depth)") }
  }
}

/// A first-word-fall-through stream FIFO in block RAM, `stream_fifo`: `Depth`
/// entries in a memory with one synchronous read into an output register,
/// so the head is on `out_data_o` whenever `out_valid_o` is high and a beat
/// a cycle moves through at full rate. Holds `Depth + 1` beats (the memory
/// and the output register); `level_o` counts them.
///
/// Like OpenTitan's prim_fifo_sync the module takes its size as parameters
/// (`Width`, `Depth`), so every FIFO of a design is one file; the generator
/// elaborates at the configuration's numbers for the checks.
///
/// `hold_i` freezes the read side (nothing moves into the output register):
/// the accelerator holds its weight stream while a debug checkpoint runs, so
/// that checkpoints take no simulated time.
public enum StreamFIFOGenerator: UnitGenerator {
  public static let unitName = "stream fifo"
  public static let moduleName = "stream_fifo"

  public static func generate(_ config: StreamFIFOConfig) throws -> Design {
    try config.validate()
    return try Design(top: try module(config))
  }

  public static func manifestParameters(_ config: StreamFIFOConfig) -> [(key: String, value: String)] {
    [("width", "\(config.width)"), ("depth", "\(config.depth)")]
  }

  static func module(_ config: StreamFIFOConfig) throws -> Module {
    let m = ModuleBuilder(
      moduleName, comment: ["Stream FIFO: Depth x Width bits in block RAM plus an output register (first word falls through)."])
    let width = m.parameter("Width", default: config.width)
    let depth = m.parameter("Depth", default: config.depth)
    let addrWidth = m.localparam("AddrWidth", .clog2(depth))
    let countWidth = m.localparam("CountWidth", .clog2(depth + 2))
    _ = m.clock()
    _ = m.reset()
    let inValid = m.input("in_valid", .bit)
    let inReady = m.output("in_ready", .bit)
    let inData = m.input("in_data", .uint(width))
    let outValid = m.output("out_valid", .bit)
    let outReady = m.input("out_ready", .bit)
    let outData = m.output("out_data", .uint(width))
    let hold = m.input("hold", .bit, comment: "freeze the read side")
    let countType = HWType.uint(countWidth)
    let level = m.output("level", countType, comment: "beats held, output register included")

    let memory = m.memory("mem", depth: depth, .uint(width))
    let pointerType = HWType.uint(addrWidth)
    precondition(pointerType.width == memory.addressWidth)
    let writePointer = m.register("wr_ptr", pointerType)
    let readPointer = m.register("rd_ptr", pointerType)
    let count = m.register("count", countType, holds: true, comment: "beats in the memory")
    let headValid = m.register("head_valid", .bit)
    let head = m.register("head", .uint(width), reset: .none, comment: "the output register")

    let push = m.wire("push", inValid && count.state.ne(depth))
    let load = m.wire("load", count.state.ne(0) && !hold && (!headValid.state || outReady), comment: "memory -> output register")
    func advanced(_ p: Expr) -> Expr {
      .mux(p.eq(depth - 1), .zeros(pointerType), p + .literal(1, pointerType))
    }
    m.write(memory, enable: push, address: writePointer.state, data: inData)
    m.comb {
      Assign(writePointer.next, .mux(push, advanced(writePointer.state), writePointer.state))
      Assign(readPointer.next, .mux(load, advanced(readPointer.state), readPointer.state))
      If(push && !load) { Assign(count.next, count.state + .literal(1, countType)) }
      If(load && !push) { Assign(count.next, count.state - .literal(1, countType)) }
      Assign(headValid.next, .mux(load, .high, headValid.state && !outReady))
      Assign(head.next, .mux(load, memory.read(readPointer.state), head.state))
    }
    m.assign(inReady, count.state.ne(depth))
    m.assign(outValid, headValid.state)
    m.assign(outData, head.state)
    m.assign(level, count.state + headValid.state.extended(to: countType))

    m.assertValidReady("InStable", valid: inValid, ready: inReady, payload: [inData])
    m.assertValidReady("OutStable", valid: outValid, ready: outReady, payload: [outData])
    m.assertAlways("CountInRange", count.state.le(depth), "the memory holds more than Depth beats")
    m.assertAlways("NoUnderflow", !(load && count.state.eq(0)), "a beat loaded from an empty memory")
    return try m.finish()
  }
}
