import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The activation packer: QUANT's int8 beats into 64-element bit-plane
  /// words, in two banks (a QUANT fills one while the running MATVEC reads
  /// the other), and the last QUANT's output scale.
  struct Packer {
    let abuf: [ModuleBuilder.MemoryHandle]
    let abufType: HWType
    let quantBank, scaleMantissa, scaleExponent: ModuleBuilder.RegisterHandle
    let wordDone: Expr

    init(_ t: Top, _ d: Decode, _ norm: NormConnection) {
      let m = t.m, e = t.e, c = t.config.core
      let slots = 64 / e
      let abufDepth = c.maxInputs / c.laneWidth
      let abuf = [0, 1].map { m.memory("act_buf_\($0)", depth: abufDepth, .uint(c.activationBeatBits)) }
      let abufType = HWType.uint(abuf[0].addressWidth)
      let quantBank = m.register("quant_bank", .bit, comment: "the bank the last QUANT filled")
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
      m.write(abuf[0], enable: wordDone && !quantBank.state, address: packWord.state, data: wordValue)
      m.write(abuf[1], enable: wordDone && quantBank.state, address: packWord.state, data: wordValue)
      m.comb {
        for k in 0..<slots { Assign(packed[k].next, packed[k].state) }
        Assign(quantBank.next, .mux(d.issuing && d.opQuant, !quantBank.state, quantBank.state))
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
      let scaleMantissa = m.register("scale_mantissa", .uint(32), reset: .none, comment: "the last QUANT's output scale")
      let scaleExponent = m.register("scale_exponent", .sint(NormUnitConfig.scaleExponentBits), reset: .none)
      m.comb {
        Assign(scaleMantissa.next, .mux(quantBeat && norm.yLast, norm.scaleMantissa, scaleMantissa.state))
        Assign(scaleExponent.next, .mux(quantBeat && norm.yLast, norm.scaleExponent, scaleExponent.state))
      }
      (self.abuf, self.abufType, self.quantBank, self.wordDone) = (abuf, abufType, quantBank, wordDone)
      (self.scaleMantissa, self.scaleExponent) = (scaleMantissa, scaleExponent)
    }
  }
}
