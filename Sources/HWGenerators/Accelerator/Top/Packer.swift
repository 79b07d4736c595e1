import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The activation packer: QUANT's int8 beats into 64-element bit-plane
  /// words, in two banks (a QUANT fills one while the running MATVEC reads
  /// the other), and the last QUANT's output scale. With several streams each
  /// stream has its two banks and its scale, and a QUANT fills the selected
  /// stream's.
  struct Packer {
    /// Bank b of stream s: `abuf[2 * s + b]`.
    let abuf: [ModuleBuilder.MemoryHandle]
    let abufType: HWType
    /// Bit s: the bank stream s's last QUANT filled.
    let quantBank: ModuleBuilder.RegisterHandle
    /// Each stream's last output scale.
    let scaleMantissa, scaleExponent: [ModuleBuilder.RegisterHandle]
    let wordDone: Expr

    init(_ t: Top, _ seq: SequencerRegisters, _ d: Decode, _ norm: NormConnection) {
      let m = t.m, e = t.e, c = t.config.core, streams = t.config.streams
      let slots = 64 / e
      let abufDepth = c.maxInputs / c.laneWidth
      let abuf = (0..<streams).flatMap { s in
        [0, 1].map { m.memory(streams == 1 ? "act_buf_\($0)" : "act_buf_\(s)_\($0)", depth: abufDepth, .uint(c.activationBeatBits)) }
      }
      let abufType = HWType.uint(abuf[0].addressWidth)
      let quantBank = m.register(
        "quant_bank", streams == 1 ? .bit : .uint(streams), comment: streams == 1 ? "the bank the last QUANT filled" : "bit s: the bank stream s's last QUANT filled")
      let slotType = HWType.uint(max(1, bitsToRepresent(slots - 1)))
      let packSlot = m.register("pack_slot", slotType, holds: true, comment: "the slot of the word the next int8 beat fills")
      let packWord = m.register("pack_word", abufType, holds: true, comment: "activation word being packed")
      let packed = (0..<slots).map { k in
        m.register("pack_\(k)", .uint(8 * e), reset: .none, comment: k == 0 ? "slot k: plane b at [\(e)*b +: \(e)]" : nil)
      }
      let quantBeat = m.wire("quant_beat", norm.yValid && d.opQuant)
      // Plane b of the incoming beat: bit b of every lane.
      let incoming = m.wire(
        "quant_planes",
        .concat((0..<8).reversed().map { b in .concat((0..<e).reversed().map { j in norm.q[8 * j + b] }) }))
      let slotIsLast = slots == 1 ? Expr.high : packSlot.state.eq(slots - 1)
      let wordDone = m.wire("pack_word_done", quantBeat && (slotIsLast || norm.yLast))
      let slotValues = (0..<slots).map { k in
        slots == 1 ? incoming : m.wire("pack_in_\(k)", .mux(packSlot.state.eq(k), incoming, packed[k].state))
      }
      // The word: plane b holds slots 0..<slots (slot k at bits [e*k +: e] of the plane).
      let wordValue = m.wire(
        "pack_word_data",
        .concat((0..<8).reversed().flatMap { b in (0..<slots).reversed().map { k in slotValues[k][e * b + e - 1, e * b] } }))
      // The QUANT's stream (one hot), whose bank flips when it issues.
      let selected = seq.stream.map { stream in
        m.wire("quant_stream", .concat((0..<streams).reversed().map { stream.state.eq($0) }), comment: "one hot")
      }
      for s in 0..<streams {
        let bank = streams == 1 ? quantBank.state : quantBank.state[s]
        let mine = selected.map { wordDone && $0[s] } ?? wordDone
        m.write(abuf[2 * s], enable: mine && !bank, address: packWord.state, data: wordValue)
        m.write(abuf[2 * s + 1], enable: mine && bank, address: packWord.state, data: wordValue)
      }
      let flipped = selected.map { quantBank.state ^ $0 } ?? !quantBank.state
      m.comb {
        for k in 0..<slots { Assign(packed[k].next, packed[k].state) }
        Assign(quantBank.next, .mux(d.issuing && d.opQuant, flipped, quantBank.state))
        If(d.issuing && d.opQuant) {
          Assign(packSlot.next, .zeros(slotType))
          Assign(packWord.next, .zeros(abufType))
          for k in 0..<slots { Assign(packed[k].next, .zeros(.uint(8 * e))) }
        }
        If(quantBeat) {
          for k in 0..<slots { Assign(packed[k].next, .mux(wordDone, .zeros(.uint(8 * e)), slotValues[k])) }
          if slots > 1 {
            Assign(packSlot.next, .mux(wordDone, .zeros(slotType), packSlot.state + .literal(1, slotType)))
          }
          Assign(packWord.next, .mux(wordDone, packWord.state + .literal(1, abufType), packWord.state))
        }
      }
      let name = { (base: String, s: Int) in streams == 1 ? base : "\(base)_\(s)" }
      let scaleMantissa = (0..<streams).map { s in
        m.register(
          name("scale_mantissa", s), .uint(32), reset: .none,
          comment: s > 0 ? nil : streams == 1 ? "the last QUANT's output scale" : "stream s's last QUANT's output scale")
      }
      let scaleExponent = (0..<streams).map { s in
        m.register(name("scale_exponent", s), .sint(NormUnitConfig.scaleExponentBits), reset: .none)
      }
      m.comb {
        for s in 0..<streams {
          let done = selected.map { quantBeat && norm.yLast && $0[s] } ?? (quantBeat && norm.yLast)
          Assign(scaleMantissa[s].next, .mux(done, norm.scaleMantissa, scaleMantissa[s].state))
          Assign(scaleExponent[s].next, .mux(done, norm.scaleExponent, scaleExponent[s].state))
        }
      }
      (self.abuf, self.abufType, self.quantBank, self.wordDone) = (abuf, abufType, quantBank, wordDone)
      (self.scaleMantissa, self.scaleExponent) = (scaleMantissa, scaleExponent)
    }
  }
}
