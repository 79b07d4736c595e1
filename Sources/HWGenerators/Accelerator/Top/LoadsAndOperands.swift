import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// Vector loads: the requests the vector DMA reads, and the queue of
  /// outstanding loads, whose head the response beats are written for.
  struct VectorLoads {
    let requested: Expr
    /// No load is outstanding: every requested beat has been written.
    let empty: Expr
    /// The head load goes to the scratchpad (EMBED), else to the parameter buffer.
    let headToScratch: Expr
    let loadAddr: Expr
    let waitSatisfied: Expr
    /// A request (byte address, whole element beats) for the vector DMA, and
    /// its `cmd_ready`, driven by `VectorDMA`.
    let requesting, requestAddress, requestBeats, commandReady: Expr
    /// The request reads a vector dealt out in stripes (LOADV), not an embedding row (EMBED).
    let requestStriped: Expr
    /// The DMA's element beats (driven by `VectorDMA`), and the beat the
    /// buffers write: elements past the load's length zero.
    let responseValid, responseData, data: Expr

    init(_ t: Top, _ seq: SequencerRegisters, _ d: Decode) {
      let m = t.m, io = t.io, e = t.e, dstType = t.dstType
      let queueDepth = loadQueueDepth
      let queue = m.memory("load_queue", depth: queueDepth, .uint(1 + dstType.width + 16))
      let queuePtr = HWType.uint(queue.addressWidth)
      let queueCount = HWType.uint(bitsToRepresent(queueDepth))
      let qHead = m.register("load_head", queuePtr)
      let qTail = m.register("load_tail", queuePtr)
      let qCount = m.register("load_count", queueCount, holds: true, comment: "loads requested, data not all written")
      let embedToken: Expr, promptTaken: Expr?
      if let stream = seq.stream {
        // A prompt token is the selected stream's when its tag says so; else the stream's last ARGMAX.
        let tokenType = HWType.uint(tokenBits)
        let promptOwn = m.wire(
          "prompt_own", io.promptValid && io.promptToken[io.promptToken.width - 1, tokenBits].eq(stream.state),
          comment: "the waiting prompt token is the selected stream's")
        let last = m.wire("stream_last_token", tokenType)
        m.comb {
          Assign(last, seq.lastTokens[0].state)
          Switch(stream.state, cases: seq.lastTokens.indices.dropFirst().map { k in
            (values: [k], body: [Assign(last, seq.lastTokens[k].state)])
          }, default: [])
        }
        embedToken = m.wire("embed_token", .mux(promptOwn, io.promptToken[tokenBits - 1, 0], last))
        promptTaken = promptOwn
      } else {
        embedToken = m.wire("embed_token", .mux(io.promptValid, io.promptToken, seq.token.state))
        promptTaken = nil
      }
      let rowOffset = m.wire("row_offset", .uint(32), comment: "token * length elements")
      m.assign(rowOffset, embedToken.times(d.length))
      let rowBytes = Expr.concat([.zeros(.uint(addressBits - 34)), rowOffset, .zeros(.uint(2))])
      let loadAddress = m.wire(
        "load_address", d.immediate[addressBits - 1, 0] + .mux(d.opEmbed, rowBytes, .zeros(.uint(addressBits))))
      NormDatapath.discard(m, "immediate_high", d.immediate[AcceleratorInstruction.immediateBits - 1, addressBits])
      let requesting = m.wire("requesting", d.issuing && (d.opLoad || d.opEmbed) && qCount.state.ne(queueDepth))
      let commandReady = m.wire("vdma_cmd_ready", .bit)
      let requested = m.wire("requested", requesting && commandReady)
      let beatsType = HWType.uint(AcceleratorInstruction.lengthBits)
      let requestBeats = m.wire(
        "load_request_beats", (d.length + .literal(e - 1, beatsType)).shiftRight(e.trailingZeroBitCount),
        comment: "whole element beats of the request")
      let responseValid = m.wire("vdma_rsp_valid", .bit)
      let responseData = m.wire("vdma_rsp_data", .uint(t.beatBits))
      m.assign(io.promptReady, promptTaken.map { requested && d.opEmbed && $0 } ?? (requested && d.opEmbed))
      m.write(queue, enable: requested, address: qTail.state, data: .concat([d.opEmbed, d.fieldDst, d.length]))
      let head = m.wire("load_entry", queue.read(qHead.state))
      let headToScratch = m.wire("load_to_scratch", head[dstType.width + 16])
      let headDst = m.wire("load_dst", head[dstType.width + 15, 16])
      let headLen = m.wire("load_len", head[15, 0])
      let loadBeat = m.register("load_beat", dstType, holds: true, comment: "beats of the head load written")
      let loadElems = m.register("load_elems", .uint(17), holds: true, comment: "elements of the head load written")
      let loadLastBeat = m.wire("load_last_beat", (loadElems.state + .literal(e, .uint(17))).ge(headLen.extended(to: 17)))
      let loadDone = m.wire("load_done", responseValid && loadLastBeat)
      // The last beat of a load keeps only its elements (the memory holds what follows the vector there).
      let remaining = m.wire("load_remaining", headLen.extended(to: 17) - loadElems.state, comment: "elements still to write")
      let keep = (0..<e).reversed().map { j in remaining.gt(.literal(j, .uint(17))).replicated(32) }
      let data = m.wire("load_data", responseData & .concat(keep))
      let loadAddr = m.wire("load_write_addr", headDst + loadBeat.state)
      for (name, type) in [("scratch", t.sType), ("param", t.pType)] where type.width < dstType.width {
        NormDatapath.discard(m, "load_addr_\(name)", loadAddr[dstType.width - 1, type.width])
      }
      m.comb {
        Assign(qTail.next, .mux(requested, qTail.state + .literal(1, queuePtr), qTail.state))
        Assign(qHead.next, .mux(loadDone, qHead.state + .literal(1, queuePtr), qHead.state))
        If(requested && !loadDone) { Assign(qCount.next, qCount.state + .literal(1, queueCount)) }
        If(loadDone && !requested) { Assign(qCount.next, qCount.state - .literal(1, queueCount)) }
        If(responseValid) {
          Assign(loadBeat.next, .mux(loadLastBeat, .zeros(dstType), loadBeat.state + .literal(1, dstType)))
          Assign(loadElems.next, .mux(loadLastBeat, .zeros(.uint(17)), loadElems.state + .literal(e, .uint(17))))
        }
      }
      self.requested = requested
      empty = m.wire("loads_empty", qCount.state.eq(0))
      requestStriped = d.opLoad
      (self.requesting, self.requestAddress, self.requestBeats, self.commandReady) =
        (requesting, loadAddress, requestBeats, commandReady)
      (self.responseValid, self.responseData, self.data) = (responseValid, responseData, data)
      self.headToScratch = headToScratch
      self.loadAddr = loadAddr
      waitSatisfied = m.wire("wait_satisfied", qCount.state.extended(to: 60).le(d.immediate))
    }
  }

  /// The constant registers SETC writes, held for the norm unit.
  struct Constants {
    let epsTerm, sqrtMantissa, sqrtExponent, betaMantissa, betaExponent: ModuleBuilder.RegisterHandle

    init(_ t: Top, _ seq: SequencerRegisters, _ d: Decode) {
      let m = t.m, sqrtBits = NormUnitConfig.sqrtLengthExponentBits, betaBits = NormUnitConfig.betaExponentBits
      let epsTerm = m.register("eps_term", .uint(64), reset: .none, holds: true)
      let sqrtMantissa = m.register("sqrt_len_mantissa", .uint(32), reset: .none, holds: true)
      let sqrtExponent = m.register("sqrt_len_exponent", .sint(sqrtBits), reset: .none, holds: true)
      let betaMantissa = m.register("beta_mantissa", .uint(32), reset: .none, holds: true)
      let betaExponent = m.register("beta_exponent", .sint(betaBits), reset: .none, holds: true)
      let setting = m.wire("setting", d.issuing && d.opSet)
      let immediate = d.immediate
      m.comb {
        If(setting && d.fieldB.eq(AcceleratorConstant.epsTerm.rawValue)) {
          Assign(epsTerm.next, immediate.extended(to: 64))
        }
        If(setting && d.fieldB.eq(AcceleratorConstant.sqrtLength.rawValue)) {
          Assign(sqrtMantissa.next, immediate[31, 0])
          Assign(sqrtExponent.next, immediate[31 + sqrtBits, 32].asSigned)
        }
        If(setting && d.fieldB.eq(AcceleratorConstant.beta.rawValue)) {
          Assign(betaMantissa.next, immediate[31, 0])
          Assign(betaExponent.next, immediate[31 + betaBits, 32].asSigned)
        }
        if let stream = seq.stream {
          If(setting && d.fieldB.eq(AcceleratorConstant.stream.rawValue)) {
            Assign(stream.next, immediate[stream.state.width - 1, 0])
          }
        }
      }
      (self.epsTerm, self.sqrtMantissa, self.sqrtExponent) = (epsTerm, sqrtMantissa, sqrtExponent)
      (self.betaMantissa, self.betaExponent) = (betaMantissa, betaExponent)
    }
  }

  /// Operand fetch: beats of a, b (scratchpad copies 0 and 1) and p
  /// (parameters) read in lockstep into one operand register set, which the
  /// active unit (or the checkpoint port) takes.
  struct OperandFetch {
    let opA, opB, opP, opValid, opLast: ModuleBuilder.RegisterHandle
    /// The active unit takes the operand beat; assigned by `connectConsumer`.
    let consumerReady: Expr
    let pop, fetchBeat, startStream: Expr

    init(_ t: Top, _ seq: SequencerRegisters, _ d: Decode) {
      let m = t.m, sType = t.sType, pType = t.pType, beatBits = t.beatBits
      let readA = m.register("read_a", sType, holds: true)
      let readB = m.register("read_b", sType, holds: true)
      let readP = m.register("read_p", pType, holds: true)
      let readLeft = m.register("read_left", .uint(17), holds: true, comment: "elements still to read")
      let opA = m.register("operand_a", .uint(beatBits), reset: .none, holds: true)
      let opB = m.register("operand_b", .uint(beatBits), reset: .none, holds: true)
      let opP = m.register("operand_p", .uint(beatBits), reset: .none, holds: true)
      let opValid = m.register("operand_valid", .bit)
      let opLast = m.register("operand_last", .bit, reset: .none, holds: true)
      consumerReady = m.wire("consumer_ready", .bit, comment: "the active unit takes the operand beat")
      let pop = m.wire("operand_pop", opValid.state && consumerReady)
      let fetchBeat = m.wire(
        "operand_fetch", d.inBusy && d.streams && readLeft.state.ne(0) && (!opValid.state || pop))
      // A checkpoint waits for a running MATVEC, so that it finds the accelerator idle.
      let startStream = m.wire("start_stream", d.issuing && d.streams && !(d.opCkpt && seq.mvBusy.state))
      let eWide = Expr.literal(t.e, .uint(17))
      let (scratch0, scratch1, params) = (t.scratch0, t.scratch1, t.params)
      m.comb {
        Assign(opValid.next, opValid.state && !pop)
        If(startStream) {
          Assign(readA.next, d.fieldA)
          Assign(readB.next, t.fit(d.fieldB, sType))
          Assign(readP.next, .mux(d.opRecur, t.fit(d.lowerBoundAddr, pType), t.fit(d.fieldB, pType)))
          Assign(readLeft.next, d.length.extended(to: 17))
        }
        If(fetchBeat) {
          Assign(opA.next, scratch0.read(readA.state))
          Assign(opB.next, scratch1.read(readB.state))
          Assign(opP.next, params.read(readP.state))
          Assign(opValid.next, .high)
          Assign(opLast.next, readLeft.state.le(eWide))
          Assign(readA.next, readA.state + .literal(1, sType))
          Assign(readB.next, readB.state + .literal(1, sType))
          Assign(readP.next, readP.state + .literal(1, pType))
          Assign(readLeft.next, .mux(readLeft.state.le(eWide), .zeros(.uint(17)), readLeft.state - eWide))
        }
      }
      (self.opA, self.opB, self.opP, self.opValid, self.opLast) = (opA, opB, opP, opValid, opLast)
      (self.pop, self.fetchBeat, self.startStream) = (pop, fetchBeat, startStream)
    }
  }
}
