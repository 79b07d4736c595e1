import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The element-wise units as the later sections see them.
  struct UnitConnections {
    let norm: NormConnection
    let mlgru: MLGRUConnection
    let vector: VectorConnection
  }

  /// Scratchpad writes: a MATVEC result first, else a unit result at dst, else
  /// an embedding row from memory; parameter loads go to the parameter buffer.
  struct WriteBack {
    let scratchWrite, paramWrite: Expr

    init(_ t: Top, _ seq: SequencerRegisters, _ d: Decode, _ loads: VectorLoads, _ u: UnitConnections, _ mv: MatVec) {
      let m = t.m, sType = t.sType, mvYValid = seq.mvYValid
      let writePtr = m.register("write_ptr", sType, holds: true, comment: "scratchpad beat the next unit result goes to")
      let normWrite = m.wire("norm_write", u.norm.yValid && u.norm.yReady && d.opNorm)
      let mlgruWrite = m.wire("mlgru_write", u.mlgru.outValid && !mvYValid && d.usesMLGRU)
      let vectorWrite = m.wire("vector_write", u.vector.outValid && u.vector.outReady && d.opAdd)
      let unitWrite = m.wire("unit_write", normWrite || mlgruWrite || vectorWrite)
      let unitData = m.wire("unit_data", .mux(normWrite, u.norm.y, .mux(mlgruWrite, u.mlgru.out, u.vector.out)))
      // The program never overlaps the two: EMBED is followed by WAITV 0 before any unit writes.
      let loadWrite = m.wire("load_write", loads.responseValid && loads.headToScratch)
      let paramWrite = m.wire("param_write", loads.responseValid && !loads.headToScratch)
      let scratchWrite = m.wire("scratch_write", mvYValid || unitWrite || loadWrite)
      let scratchAddr = m.wire(
        "scratch_addr", .mux(mvYValid, mv.writeAddress, .mux(unitWrite, writePtr.state, t.fit(loads.loadAddr, sType))))
      let scratchData = m.wire("scratch_data", .mux(mvYValid, mv.mvY, .mux(unitWrite, unitData, loads.data)))
      m.write(t.scratch0, enable: scratchWrite, address: scratchAddr, data: scratchData)
      m.write(t.scratch1, enable: scratchWrite, address: scratchAddr, data: scratchData)
      m.write(t.params, enable: paramWrite, address: t.fit(loads.loadAddr, t.pType), data: loads.data)
      m.comb {
        If(d.issuing) { Assign(writePtr.next, t.fit(d.fieldDst, sType)) }
        If(unitWrite) { Assign(writePtr.next, writePtr.state + .literal(1, sType)) }
      }
      (self.scratchWrite, self.paramWrite) = (scratchWrite, paramWrite)
    }
  }

  /// Completion and control: when the executing instruction finishes, the
  /// prefetch, the jump at END, start and halt; the host-facing outputs.
  struct Control {
    let finish, running: Expr

    init(
      _ t: Top, _ seq: SequencerRegisters, _ d: Decode, _ loads: VectorLoads, _ f: OperandFetch, _ u: UnitConnections,
      _ dma: WeightDMA, loading: Expr
    ) {
      let m = t.m, io = t.io, state = seq.state, mvYValid = seq.mvYValid
      let (norm, mlgru, vector) = (u.norm, u.mlgru, u.vector)
      let streamDone = m.wire(
        "stream_done",
        d.inBusy
          && ((d.usesNorm && norm.yValid && norm.yReady && norm.yLast)
            || (d.usesMLGRU && mlgru.outValid && !mvYValid && mlgru.outLast)
            || (d.usesVector && vector.outValid && vector.outReady && vector.outLast)
            || (d.opCkpt && f.pop && f.opLast.state)))
      let quickDone = m.wire(
        "quick_done",
        d.issuing
          && (d.opSet || d.opEnd || ((d.opLoad || d.opEmbed) && loads.requested) || (d.opWait && loads.waitSatisfied)
            || ((d.opMatVec || d.opWaitMatVec) && !seq.mvBusy.state) || !d.known))
      let finish = m.wire("finish", streamDone || quickDone)
      let running = m.wire("running", !state.inState(.idle))
      let jump = m.wire("jump", finish && d.opEnd)
      let consume = m.wire(
        "consume", seq.nextValid.state && (state.inState(.fetch) || (finish && !d.opEnd)), comment: "next_instr -> instr")
      let fetch = m.wire("fetch", running && !jump && (!seq.nextValid.state || consume))
      m.comb {
        Assign(seq.nextValid.next, seq.nextValid.state && !consume)
        Assign(seq.tokenPulse.next, .low)
        Assign(seq.badOp.next, seq.badOp.state || (d.issuing && !d.known))
        If(fetch) {
          Assign(seq.next.next, io.programMemory.read(seq.pc.state))
          Assign(seq.nextValid.next, .high)
          Assign(seq.pc.next, seq.pc.state + .literal(1, io.pcType))
        }
        If(consume) {
          Assign(seq.ir.next, seq.next.state)
          state.goTo(.issue)
        }
        If(f.startStream) { state.goTo(.busy) }
        If(finish && !d.opEnd && !seq.nextValid.state) { state.goTo(.fetch) }
        If(jump) {
          Assign(seq.fresh.next, .low)
          Assign(seq.nextValid.next, .low)
          Assign(seq.pc.next, t.fit(d.immediate, io.pcType))
          Assign(seq.tokensLeft.next, seq.tokensLeft.state - .literal(1, .uint(tokenCountBits)))
          If(seq.tokensLeft.state.eq(1)) { state.goTo(.idle) }.Else { state.goTo(.fetch) }
        }
        If(d.inBusy && d.opArgmax && vector.outValid && vector.outLast) {
          if let stream = seq.stream {
            Assign(seq.token.next, .concat([stream.state, vector.index]))
            for (k, last) in seq.lastTokens.enumerated() {
              If(stream.state.eq(k)) { Assign(last.next, vector.index) }
            }
          } else {
            Assign(seq.token.next, vector.index)
          }
          Assign(seq.tokenPulse.next, .high)
        }
        If(state.inState(.idle) && io.start && io.tokens.ne(0)) {
          Assign(seq.pc.next, .zeros(io.pcType))
          Assign(seq.tokensLeft.next, io.tokens)
          Assign(seq.nextValid.next, .low)
          Assign(seq.fresh.next, .high)
          state.goTo(.fetch)
        }
      }
      (self.finish, self.running) = (finish, running)
      Self.assignOutputs(t, seq, d, f, busy: running || loading, mlgruErr: mlgru.err, dmaError: dma.error)
    }

    static func assignOutputs(
      _ t: Top, _ seq: SequencerRegisters, _ d: Decode, _ f: OperandFetch, busy: Expr, mlgruErr: Expr,
      dmaError: Expr
    ) {
      let m = t.m, io = t.io
      m.assign(io.busy, busy)
      m.assign(io.tokenValid, seq.tokenPulse.state)
      m.assign(io.tokenOut, seq.token.state)
      let axi = t.config.memoryMaster
      let portBits = io.memErrPort.width
      m.assign(io.memErrAddr, dmaError[axi.addressWidth - 1, 0])
      m.assign(io.memErrPort, dmaError[axi.addressWidth + portBits - 1, axi.addressWidth])
      m.assign(io.memErr, dmaError[dmaError.width - 1, axi.addressWidth + portBits])
      m.assign(io.err, seq.badOp.state || mlgruErr || io.memErr.ne(0))
      m.assign(io.ckptValid, d.inBusy && d.opCkpt && f.opValid.state)
      m.assign(io.ckptData, f.opA.state)
      m.assign(io.ckptLast, f.opLast.state)
      m.assign(io.ckptTag, d.immediate[15, 0])
      m.assign(io.ckptActive, (f.startStream || d.inBusy) && d.opCkpt)
    }
  }
}
