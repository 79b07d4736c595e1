import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The vector DMA: LOADV's and EMBED's reads (`VectorLoads` gives the byte
  /// address and the whole element beats to read) through one
  /// `axi_read_master` on the vector port `mvec_axi_*`. The requests wait in
  /// a queue as deep as the load queue (`u_vdma_requests`), so LOADV and
  /// EMBED issue without waiting for the engine, which takes a command only
  /// when its buffer has room for the command's bursts. An element beat wider
  /// than the port (more than 16 element lanes) is gathered from
  /// `vectorBeatsPerElementBeat` AXI beats, first beat lowest. The response
  /// stream has no backpressure: the buffers always take a load beat. While a
  /// CKPT runs no beat moves.
  struct VectorDMA {
    /// The request queue: `{address, bytes}` of each read not yet given to the engine.
    static func requestQueue(_ config: AcceleratorConfig) -> StreamFIFOConfig {
      StreamFIFOConfig(width: config.vectorMaster.addressWidth + config.vectorMaster.lengthBits, depth: loadQueueDepth)
    }

    init(_ t: Top, _ loads: VectorLoads, master: Module, queue: Module) {
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
      let cmdValid = m.wire("vdma_cmd_valid", .bit)
      let cmdReady = m.wire("vdma_cmd_ready_engine", .bit)
      let command = m.wire("vdma_cmd", .uint(axi.addressWidth + axi.lengthBits), comment: "{address, bytes}")
      let queueLevel = m.wire("vdma_requests_level", .uint(bitsToRepresent(loadQueueDepth + 1)))
      NormDatapath.discard(m, "vdma_requests_level", queueLevel)
      let queuePorts = StreamFIFOBundle(
        clk: io.clk, rst: io.rst, inValid: loads.requesting, inReady: loads.commandReady,
        inData: .concat([loads.requestAddress[axi.addressWidth - 1, 0], length]),
        outValid: cmdValid, outReady: cmdReady, outData: command, hold: .low, level: queueLevel)
      m.instance(queue, "u_vdma_requests", queuePorts, Self.requestQueue(config))
      var connections: [(String, Expr)] = [
        ("clk_i", io.clk), ("rst_ni", io.rst),
        ("cmd_valid_i", cmdValid), ("cmd_ready_o", cmdReady),
        ("cmd_addr_i", command[command.width - 1, axi.lengthBits]), ("cmd_len_i", command[axi.lengthBits - 1, 0]),
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
