import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The vector DMA: LOADV's and EMBED's reads (`VectorLoads` gives the byte
  /// address and the whole element beats to read) through one
  /// `axi_read_master` on the vector port `mvec_axi_*`. An element beat wider
  /// than the port (more than 16 element lanes) is gathered from
  /// `vectorBeatsPerElementBeat` AXI beats, first beat lowest. The response
  /// stream has no backpressure: the buffers always take a load beat. While a
  /// CKPT runs no beat moves.
  struct VectorDMA {
    init(_ t: Top, _ loads: VectorLoads, master: Module) {
      let m = t.m, io = t.io, config = t.config, axi = config.vectorMaster
      let parts = config.vectorBeatsPerElementBeat
      let rdValid = m.wire("vdma_rd_valid", .bit)
      let rdData = m.wire("vdma_rd_data", .uint(axi.dataWidth))
      let rdLast = m.wire("vdma_rd_last", .bit)
      let busy = m.wire("vdma_busy", .bit)
      NormDatapath.discard(m, "vdma_status", .concat([rdLast, busy]))
      let take = m.wire("vdma_take", rdValid && !io.ckptActive, comment: "a CKPT holds the loads still")
      // Bytes of whole element beats: the request's beats times the beat's bytes.
      let beatShift = (4 * t.e).trailingZeroBitCount
      let length = m.wire(
        "vdma_len", loads.requestBeats.extended(to: 32).shiftLeft(beatShift), comment: "bytes: whole element beats")
      var connections: [(String, Expr)] = [
        ("clk_i", io.clk), ("rst_ni", io.rst),
        ("cmd_valid_i", loads.requesting), ("cmd_ready_o", loads.commandReady),
        ("cmd_addr_i", loads.requestAddress[axi.addressWidth - 1, 0]), ("cmd_len_i", length),
        ("rd_valid_o", rdValid), ("rd_ready_i", !io.ckptActive), ("rd_data_o", rdData), ("rd_last_o", rdLast),
      ]
      connections += AXIReadBundle.ports(axi).map { ($0.portName, io.vectorMemory[keyPath: $0.field]) }
      connections += [("busy_o", busy), ("error_o", io.vectorErr), ("error_addr_o", io.vectorErrAddr)]
      m.instance(master, "u_vdma", connections)
      NormDatapath.discard(
        m, "vdma_address_high", loads.requestAddress[loads.requestAddress.width - 1, axi.addressWidth])
      if parts == 1 {
        m.assign(loads.responseValid, take)
        m.assign(loads.responseData, rdData)
      } else {
        let partType = HWType.uint(bitsToRepresent(parts - 1))
        let part = m.register("vdma_part", partType, holds: true, comment: "AXI beats of the element beat gathered")
        let gather = m.register(
          "vdma_gather", .uint(t.beatBits), reset: .none, holds: true, comment: "the element beat, last AXI beat on top")
        let full = m.register("vdma_full", .bit, comment: "gather holds a whole element beat")
        let lastPart = m.wire("vdma_last_part", part.state.eq(parts - 1))
        m.comb {
          Assign(full.next, (full.state && io.ckptActive) || (take && lastPart))
          If(take) {
            Assign(gather.next, .concat([rdData, gather.state[t.beatBits - 1, axi.dataWidth]]))
            Assign(part.next, .mux(lastPart, .zeros(partType), part.state + .literal(1, partType)))
          }
        }
        m.assign(loads.responseValid, full.state && !io.ckptActive)
        m.assign(loads.responseData, gather.state)
      }
    }
  }
}
