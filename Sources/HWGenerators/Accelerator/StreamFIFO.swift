import HWDSL

/// A first-word-fall-through stream FIFO in block RAM: `depth` entries in a
/// memory with one synchronous read into an output register, so the head
/// is on `out_data_o` whenever `out_valid_o` is high and a beat a cycle moves
/// through at full rate. Holds `depth + 1` beats (the memory and the output
/// register); `level_o` counts them.
///
/// `hold_i` freezes the read side (nothing moves into the output register):
/// the accelerator holds its weight stream while a debug checkpoint runs, so
/// that checkpoints take no simulated time.
public enum StreamFIFOGenerator {
  public static func module(name: String, width: Int, depth: Int) throws -> Module {
    precondition(width >= 1 && depth >= 2)
    let m = ModuleBuilder(
      name, comment: ["Stream FIFO: \(depth) x \(width) bits in block RAM plus an output register (first word falls through)."])
    _ = m.clock()
    _ = m.reset()
    let inValid = m.input("in_valid", .bit)
    let inReady = m.output("in_ready", .bit)
    let inData = m.input("in_data", .uint(width))
    let outValid = m.output("out_valid", .bit)
    let outReady = m.input("out_ready", .bit)
    let outData = m.output("out_data", .uint(width))
    let hold = m.input("hold", .bit, comment: "freeze the read side")
    let countType = HWType.uint(bitsToRepresent(depth + 1))
    let level = m.output("level", countType, comment: "beats held, output register included")

    let memory = m.memory("mem", depth: depth, .uint(width))
    let pointerType = HWType.uint(memory.addressWidth)
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
    m.assign(level, count.state + headValid.state.extended(to: countType.width))

    m.assertValidReady("InStable", valid: inValid, ready: inReady, payload: [inData])
    m.assertValidReady("OutStable", valid: outValid, ready: outReady, payload: [outData])
    m.assertAlways("CountInRange", count.state.le(.literal(depth, countType)), "the memory holds more than \(depth) beats")
    m.assertAlways("NoUnderflow", !(load && count.state.eq(0)), "a beat loaded from an empty memory")
    return try m.finish()
  }
}
