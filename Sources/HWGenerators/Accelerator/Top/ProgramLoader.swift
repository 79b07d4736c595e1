import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The program loader: CTRL.LOAD (`csr_load`, only while idle) reads
  /// PROG_COUNT instructions from PROG_BASE into the program memory through
  /// the vector DMA, the core busy meanwhile (so DONE follows the load). Its
  /// one request waits until no vector load is outstanding, then enters the
  /// DMA's request queue as a read of whole element beats in one port (like
  /// an EMBED row); the element beats after it are the program's.
  ///
  /// An element beat wider than an instruction holds `beatBits / 128` of
  /// them, written one a cycle; the loader holds the DMA's responses while
  /// more than one waits (`hold`). A narrower beat is gathered: `128 /
  /// beatBits` beats, first beat lowest, make one instruction. Instructions
  /// past PROG_COUNT in the last beat are dropped. An AXI error during the
  /// load leaves it busy, with ERROR and its interrupt telling the host.
  struct ProgramLoader {
    /// A load runs: the core is busy.
    let active: Expr
    /// Its request for the vector DMA: the byte address and the whole element beats.
    let requesting, address, beats: Expr
    /// The DMA's request queue took it (driven by `VectorDMA`).
    let accepted: Expr
    /// The element beats are the program's.
    let receiving: Expr
    /// The loader takes no beat this cycle; nil when a beat holds one instruction or less.
    let hold: Expr?
    /// An element beat for the loader (driven by `VectorDMA`).
    let beatValid, beatData: Expr

    init(_ t: Top, _ loads: VectorLoads) {
      let m = t.m, io = t.io
      let instructionBits = AcceleratorInstruction.bits, beatBits = t.beatBits
      let perBeat = max(1, beatBits / instructionBits), parts = max(1, instructionBits / beatBits)
      let countType = HWType.uint(io.progCount.width)
      let beatsType = HWType.uint(io.progCount.width + parts.trailingZeroBitCount)
      let slotType = HWType.uint(bitsToRepresent(perBeat))
      let bufferBits = max(beatBits, instructionBits)

      let active = m.register("prog_active", .bit, holds: true, comment: "CTRL.LOAD: the program is being read")
      let requested = m.register("prog_requested", .bit, holds: true, comment: "the DMA queue holds or has served the request")
      let beatsLeft = m.register("prog_beats_left", beatsType, holds: true, comment: "element beats still to come")
      let left = m.register("prog_left", countType, holds: true, comment: "instructions still to write")
      let writeAddress = m.register("prog_waddr", io.pcType, holds: true, comment: "the next instruction's address")
      let buffer = m.register(
        "prog_buf", .uint(bufferBits), reset: .none, holds: true,
        comment: perBeat > 1 ? "the beat's instructions, the next lowest" : "the instruction, last beat on top")
      let slots = m.register("prog_slots", slotType, holds: true, comment: "instructions in prog_buf to write")

      let count = io.progCount
      // Rounding up to whole beats: wide enough for the largest count plus a beat less one.
      let sumType = HWType.uint(max(countType.width, bitsToRepresent(t.config.programDepth + perBeat - 1)))
      let total: Expr = perBeat > 1
        ? (count.extended(to: sumType.width) + .literal(perBeat - 1, sumType)).shiftRight(perBeat.trailingZeroBitCount)
        : count.extended(to: beatsType.width).shiftLeft(parts.trailingZeroBitCount)
      let totalBeats = m.wire("prog_total_beats", t.fit(total, beatsType), comment: "element beats of PROG_COUNT instructions")
      let requesting = m.wire(
        "prog_requesting", active.state && !requested.state && loads.empty, comment: "after every vector load")
      let accepted = m.wire("prog_accepted", .bit)
      let receiving = m.wire("prog_receiving", active.state && requested.state)
      let beatValid = m.wire("prog_beat_valid", .bit)
      let beatData = m.wire("prog_beat_data", .uint(beatBits))
      let write = m.wire("prog_write", slots.state.ne(0) && left.state.ne(0))
      let lastWrite = m.wire("prog_last_write", write && left.state.eq(1))
      let done = m.wire(
        "prog_done", receiving && beatsLeft.state.eq(0) && (slots.state.eq(0) || left.state.eq(0)))
      m.write(io.programMemory, enable: write, address: writeAddress.state, data: buffer.state[instructionBits - 1, 0])

      let partType = HWType.uint(max(1, parts.trailingZeroBitCount))
      let part = parts > 1
        ? m.register("prog_part", partType, holds: true, comment: "beats of the instruction gathered") : nil
      m.comb {
        If(io.load) {
          Assign(active.next, .high)
          Assign(requested.next, .low)
          Assign(beatsLeft.next, totalBeats)
          Assign(left.next, count)
          Assign(writeAddress.next, .zeros(io.pcType))
          Assign(slots.next, .zeros(slotType))
          if let part { Assign(part.next, .zeros(partType)) }
        }
        If(accepted) { Assign(requested.next, .high) }
        If(write) {
          Assign(writeAddress.next, writeAddress.state + .literal(1, io.pcType))
          Assign(left.next, left.state - .literal(1, countType))
          Assign(slots.next, .mux(lastWrite, .zeros(slotType), slots.state - .literal(1, slotType)))
          if perBeat > 1 {
            Assign(buffer.next, .concat([.zeros(.uint(instructionBits)), buffer.state[bufferBits - 1, instructionBits]]))
          }
        }
        If(beatValid) {
          Assign(beatsLeft.next, beatsLeft.state - .literal(1, beatsType))
          if let part {
            Assign(buffer.next, .concat([beatData, buffer.state[bufferBits - 1, beatBits]]))
            Assign(part.next, part.state + .literal(1, partType))
            If(part.state.eq(parts - 1)) { Assign(slots.next, .literal(1, slotType)) }
          } else {
            Assign(buffer.next, beatData)
            Assign(slots.next, .literal(perBeat, slotType))
          }
        }
        If(done) {
          Assign(active.next, .low)
          Assign(requested.next, .low)
        }
      }
      m.assertAlways("ProgBeatExpected", !(beatValid && beatsLeft.state.eq(0)), "a program beat past the request")
      if perBeat > 1 {
        m.assertAlways(
          "ProgBeatRoom", !(beatValid && slots.state.gt(.literal(1, slotType))), "a program beat over unwritten ones")
      }
      self.active = active.state
      (self.requesting, self.address, self.beats, self.accepted) = (requesting, io.progBase, totalBeats, accepted)
      self.receiving = receiving
      hold = perBeat > 1 ? m.wire("prog_hold", slots.state.gt(.literal(1, slotType)), comment: "beats wait") : nil
      (self.beatValid, self.beatData) = (beatValid, beatData)
    }
  }
}
