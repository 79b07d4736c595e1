import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// MATVEC: the activation words of the packed bank against the weight
  /// stream from `u_weight_fifo` (filled by the weight DMA; base-3 weights
  /// through `u_weight_unpack`), through `u_matvec`; results go to the
  /// scratchpad from `mv_ptr` on.
  struct MatVec {
    let mvActValid: ModuleBuilder.RegisterHandle
    let mvPtr: ModuleBuilder.RegisterHandle
    /// The scratchpad beat the result on `mvY` goes to.
    let writeAddress: Expr
    let fifoValid, fifoReady, mvY, startMatVec, mvFire: Expr

    init(
      _ t: Top, _ units: (datapath: Module, fifo: Module, unpack: Module?), _ seq: SequencerRegisters, _ d: Decode, _ p: Packer,
      _ dma: WeightDMA
    ) {
      let m = t.m, sType = t.sType, abufType = p.abufType, c = t.config.core
      let groupType = HWType.uint(MatVecDatapathGenerator.groupWidth)
      let mvChunk = m.register("mv_chunk", abufType, holds: true)
      let mvGroup = m.register("mv_group", groupType, holds: true)
      let streams = t.config.streams, several = streams > 1
      let mvAct = m.register(
        "mv_act", .uint(streams * c.activationBeatBits), reset: .none, holds: true,
        comment: several ? "each stream's act_buf[mv_chunk]" : "act_buf[mv_chunk]")
      let mvActValid = m.register("mv_act_valid", .bit, holds: true)
      let mvChunks = m.register("mv_chunks", abufType, reset: .none, comment: "64-column words of the matrix")
      let mvGroups = m.register("mv_groups", groupType, reset: .none, comment: "row groups of the matrix")
      let mvBank = m.register(
        "mv_bank", p.quantBank.state.type, reset: .none,
        comment: several ? "bit s: the activation bank stream s reads" : "the activation bank it reads")
      let mvPtr = m.register(
        "mv_ptr", sType, comment: several ? "stream 0's scratchpad beat of the next results" : "scratchpad beat its next result goes to")
      let scaleExponentBits = NormUnitConfig.scaleExponentBits
      let mvScaleMantissa = m.register(
        "mv_scale_mantissa", .uint(32 * streams), reset: .none,
        comment: several ? "each stream's QUANT's output scale" : "its QUANT's output scale")
      let mvScaleExponent = m.register(
        "mv_scale_exponent", several ? .uint(scaleExponentBits * streams) : .sint(scaleExponentBits), reset: .none)
      let chunks = mvChunks.state, groups = mvGroups.state
      let fifo = AcceleratorGenerator.weightFIFO(t.config)
      let fifoValid = m.wire("wf_valid", .bit)
      let fifoReady = m.wire("wf_ready", .bit)
      let fifoData = m.wire("wf_data", .uint(fifo.width))
      let aReady = m.wire("mv_a_ready", .bit)
      let mvY = m.wire("mv_y_data", .uint(t.beatBits))
      let mvYLast = m.wire("mv_y_last", .bit)
      let perfBeats = m.wire("mv_perf_beats", .uint(32))
      let perfStalls = m.wire("mv_perf_stalls", .uint(32))
      NormDatapath.discard(m, "mv_perf", .concat([perfBeats, perfStalls]))
      let chunkLast = m.wire("mv_chunk_last", mvChunk.state.eq(chunks - .literal(1, abufType)))
      let groupLast = m.wire("mv_group_last", mvGroup.state.eq(groups - .literal(1, groupType)))
      let mvFire = m.wire("mv_fire", mvActValid.state && aReady)
      let startMatVec = m.wire("start_matvec", d.issuing && d.opMatVec && !seq.mvBusy.state)
      let mvDone = m.wire("mv_done", seq.mvYValid && mvYLast)
      /// Every stream's word `chunk` from its bank (bit s of `bank`), stream 0 lowest.
      func actWord(_ bank: Expr, _ chunk: Expr) -> Expr {
        guard several else { return .mux(bank, p.abuf[1].read(chunk), p.abuf[0].read(chunk)) }
        return .concat((0..<streams).reversed().map { s in .mux(bank[s], p.abuf[2 * s + 1].read(chunk), p.abuf[2 * s].read(chunk)) })
      }
      let nextChunk = m.wire("mv_next_chunk", .mux(chunkLast, .zeros(abufType), mvChunk.state + .literal(1, abufType)))
      let started = { (value: Expr, register: ModuleBuilder.RegisterHandle) in Expr.mux(startMatVec, value, register.state) }
      // The results come a row group's slice at a time, every stream's in turn
      // (matvec_datapath): stream s's go to its region, stream 0's beat plus
      // s regions; the pointer moves on after the last stream's.
      let yStream = several ? m.register("mv_y_stream", .uint(t.config.streamBits), holds: true, comment: "the stream of the next result") : nil
      let yLastStream = yStream.map { seq.mvYValid && $0.state.eq(streams - 1) } ?? seq.mvYValid
      let nextPtr = Expr.mux(yLastStream, mvPtr.state + .literal(1, sType), mvPtr.state)
      let writeAddress: Expr
      if let yStream {
        let address = m.wire("mv_write_addr", sType, comment: "stream mv_y_stream's beat of the result")
        let region = { (s: Int) in mvPtr.state + .literal(s * t.config.streamScratchpadBeats, sType) }
        m.comb {
          Assign(address, mvPtr.state)
          Switch(yStream.state, cases: (1..<streams).map { s in (values: [s], body: [Assign(address, region(s))]) }, default: [])
          If(startMatVec) { Assign(yStream.next, .zeros(yStream.state.type)) }
          If(seq.mvYValid) {
            Assign(yStream.next, .mux(yLastStream, .zeros(yStream.state.type), yStream.state + .literal(1, yStream.state.type)))
          }
        }
        writeAddress = address
      } else {
        writeAddress = mvPtr.state
      }
      let scales = (
        mantissa: several ? .concat(p.scaleMantissa.reversed().map(\.state)) : p.scaleMantissa[0].state,
        exponent: several ? .concat(p.scaleExponent.reversed().map(\.state)) : p.scaleExponent[0].state)
      m.comb {
        Assign(seq.mvBusy.next, .mux(startMatVec, .high, seq.mvBusy.state && !mvDone))
        Assign(mvChunks.next, started(t.fit(d.fieldB, abufType), mvChunks))
        Assign(mvGroups.next, started(t.fit(d.length, groupType), mvGroups))
        Assign(mvBank.next, started(p.quantBank.state, mvBank))
        Assign(mvScaleMantissa.next, started(scales.mantissa, mvScaleMantissa))
        Assign(mvScaleExponent.next, started(scales.exponent, mvScaleExponent))
        Assign(mvPtr.next, .mux(startMatVec, t.fit(d.fieldDst, sType), nextPtr))
        If(startMatVec) {
          Assign(mvChunk.next, .zeros(abufType))
          Assign(mvGroup.next, .zeros(groupType))
          Assign(mvAct.next, actWord(p.quantBank.state, .zeros(abufType)))
          Assign(mvActValid.next, .high)
        }
        If(mvFire) {
          Assign(mvChunk.next, nextChunk)
          Assign(mvGroup.next, .mux(chunkLast, mvGroup.state + .literal(1, groupType), mvGroup.state))
          Assign(mvAct.next, actWord(mvBank.state, nextChunk))
          Assign(mvActValid.next, !(chunkLast && groupLast))
        }
      }
      let io = t.io
      // The core's weight stream: the FIFO's head, or with base-3 weights the unpacker's output.
      let (coreValid, coreData): (Expr, Expr)
      var fifoPorts = StreamFIFOBundle(
        clk: io.clk, rst: io.rst, inValid: dma.beatValid, inReady: dma.fifoReady, inData: dma.beatData,
        outValid: fifoValid, outReady: fifoReady && mvActValid.state, outData: fifoData,
        hold: io.ckptActive, level: io.wLevel)
      if let unpack = units.unpack {
        coreValid = m.wire("wu_valid", .bit)
        coreData = m.wire("wu_data", .uint(c.weightBeatBits))
        let unpackReady = m.wire("wu_in_ready", .bit)
        fifoPorts.outReady = unpackReady
        let flush = m.wire(
          "wu_flush", coreValid && fifoReady && mvActValid.state && chunkLast && groupLast,
          comment: "the matrix's last core beat is taken")
        m.instance(unpack, "u_weight_unpack", [
          ("clk_i", io.clk), ("rst_ni", io.rst), ("hold_i", io.ckptActive),
          ("in_valid_i", fifoValid), ("in_ready_o", unpackReady),
          ("in_data_i", fifoData[c.weightBeatBits - 1, 0]), ("in_last_i", fifoData[c.weightBeatBits]),
          ("out_valid_o", coreValid), ("out_ready_i", fifoReady && mvActValid.state), ("out_data_o", coreData),
          ("flush_i", flush),
        ])
      } else {
        (coreValid, coreData) = (fifoValid, fifoData)
      }
      m.instance(units.fifo, "u_weight_fifo", fifoPorts, fifo)
      let matVecPorts = MatVecDatapathBundle(
        clk: io.clk, rst: io.rst,
        wValid: coreValid && mvActValid.state, wReady: fifoReady, wData: coreData, wLast: chunkLast,
        aValid: mvActValid.state, aReady: aReady, aData: mvAct.state,
        scaleMantissa: mvScaleMantissa.state, scaleExponent: mvScaleExponent.state, groups: groups,
        yValid: seq.mvYValid, yReady: .high, yData: mvY, yLast: mvYLast, perfBeats: perfBeats, perfStalls: perfStalls)
      m.instance(units.datapath, "u_matvec", matVecPorts, t.config)
      m.assertValidReady(
        "WeightFIFOInValidReady", Stream(valid: dma.beatValid, ready: dma.fifoReady, ["data": dma.beatData]))
      let fifoOut = Stream(valid: fifoValid, ready: fifoPorts.outReady, ["data": fifoData])
      m.assertValidReady("WeightFIFOOutValidReady", fifoOut)
      let weights = Stream(valid: matVecPorts.wValid, ready: fifoReady, ["data": coreData, "last": chunkLast])
      m.assertValidReady("MatVecWValidReady", weights)
      m.assertValidReady("MatVecAValidReady", Stream(valid: mvActValid.state, ready: aReady, ["data": mvAct.state]))
      (self.mvActValid, self.mvPtr, self.fifoValid, self.fifoReady) = (mvActValid, mvPtr, coreValid, fifoReady)
      self.writeAddress = writeAddress
      (self.mvY, self.startMatVec, self.mvFire) = (mvY, startMatVec, mvFire)
    }
  }
}
