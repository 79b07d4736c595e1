import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The vector DMA: LOADV's and EMBED's reads (`VectorLoads` gives the byte
  /// address and the whole element beats to read), and the program loader's
  /// (`ProgramLoader`, only while the sequencer is idle), through one
  /// `axi_read_master` on the vector port `mvec_axi_*`. The requests wait in
  /// a queue as deep as the load queue (`u_vdma_requests`), so LOADV and
  /// EMBED issue without waiting for the engine; `StripeSplitter` cuts each
  /// request into the engine's commands, which it takes only
  /// when its buffer has room for the command's bursts. An element beat wider
  /// than the port (more than 16 element lanes) is gathered from
  /// `vectorBeatsPerElementBeat` AXI beats, first beat lowest. The response
  /// stream has no backpressure from the buffers, which always take a load
  /// beat; it holds while a CKPT runs and while the program loader writes a
  /// beat's instructions.
  struct VectorDMA {
    /// The request queue: `{striped, address, bytes}` of each read not yet given to the engine.
    static func requestQueue(_ config: AcceleratorConfig) -> StreamFIFOConfig {
      StreamFIFOConfig(width: 1 + config.vectorMaster.addressWidth + config.vectorMaster.lengthBits, depth: loadQueueDepth)
    }

    init(_ t: Top, _ loads: VectorLoads, _ loader: ProgramLoader, master: Module, queue: Module) {
      let m = t.m, io = t.io, config = t.config, axi = config.vectorMaster
      let parts = config.vectorBeatsPerElementBeat
      let rdValid = m.wire("vdma_rd_valid", .bit)
      let rdData = m.wire("vdma_rd_data", .uint(axi.dataWidth))
      let rdLast = m.wire("vdma_rd_last", .bit)
      let busy = m.wire("vdma_busy", .bit)
      NormDatapath.discard(m, "vdma_status", .concat([rdLast, busy]))
      let hold = m.wire(
        "vdma_hold", loader.hold.map { io.ckptActive || $0 } ?? io.ckptActive, comment: "a CKPT or the program loader")
      let take = m.wire("vdma_take", rdValid && !hold)
      // Bytes of whole element beats: the request's beats times the beat's bytes.
      let beatShift = (4 * t.e).trailingZeroBitCount
      let beats = m.wire(
        "vdma_req_beats",
        .mux(loader.requesting, loader.beats.extended(to: 32), loads.requestBeats.extended(to: 32)),
        comment: "the loader's while the sequencer is idle, else the load's")
      let length = m.wire("vdma_len", beats.shiftLeft(beatShift), comment: "bytes: whole element beats")
      let queueReady = m.wire("vdma_requests_ready", .bit)
      m.assign(loads.commandReady, queueReady)
      m.assign(loader.accepted, loader.requesting && queueReady)
      m.assertAlways(
        "OneRequester", !(loads.requesting && loader.requesting), "a vector load while the program loads")
      let reqValid = m.wire("vdma_req_valid", .bit)
      let reqReady = m.wire("vdma_req_ready", .bit)
      let request = m.wire("vdma_req", .uint(1 + axi.addressWidth + axi.lengthBits), comment: "{striped, address, bytes}")
      let queueLevel = m.wire("vdma_requests_level", .uint(bitsToRepresent(loadQueueDepth + 1)))
      NormDatapath.discard(m, "vdma_requests_level", queueLevel)
      let queuePorts = StreamFIFOBundle(
        clk: io.clk, rst: io.rst, inValid: loads.requesting || loader.requesting, inReady: queueReady,
        inData: .concat([
          loads.requestStriped && !loader.requesting,
          .mux(loader.requesting, t.fit(loader.address, .uint(axi.addressWidth)), loads.requestAddress[axi.addressWidth - 1, 0]),
          length,
        ]),
        outValid: reqValid, outReady: reqReady, outData: request, hold: .low, level: queueLevel)
      m.instance(queue, "u_vdma_requests", queuePorts, Self.requestQueue(config))
      let command = StripeSplitter(t, request: request, valid: reqValid, ready: reqReady)
      var connections: [(String, Expr)] = [
        ("clk_i", io.clk), ("rst_ni", io.rst),
        ("cmd_valid_i", command.valid), ("cmd_ready_o", command.ready),
        ("cmd_addr_i", command.address), ("cmd_len_i", command.length),
        ("rd_valid_o", rdValid), ("rd_ready_i", !hold), ("rd_data_o", rdData), ("rd_last_o", rdLast),
      ]
      connections += AXIReadBundle.ports(axi).map { ($0.portName, io.vectorMemory[keyPath: $0.field]) }
      connections += [("busy_o", busy), ("error_o", io.vectorErr), ("error_addr_o", io.vectorErrAddr)]
      m.instance(master, "u_vdma", connections)
      NormDatapath.discard(
        m, "vdma_address_high", loads.requestAddress[loads.requestAddress.width - 1, axi.addressWidth])
      // An element beat goes to the loads, or to the program loader while it receives.
      let beatValid: Expr, beatData: Expr
      if parts == 1 {
        (beatValid, beatData) = (take, rdData)
      } else {
        let partType = HWType.uint(bitsToRepresent(parts - 1))
        let part = m.register("vdma_part", partType, holds: true, comment: "AXI beats of the element beat gathered")
        let gather = m.register(
          "vdma_gather", .uint(t.beatBits), reset: .none, holds: true, comment: "the element beat, last AXI beat on top")
        let full = m.register("vdma_full", .bit, comment: "gather holds a whole element beat")
        let lastPart = m.wire("vdma_last_part", part.state.eq(parts - 1))
        m.comb {
          Assign(full.next, (full.state && hold) || (take && lastPart))
          If(take) {
            Assign(gather.next, .concat([rdData, gather.state[t.beatBits - 1, axi.dataWidth]]))
            Assign(part.next, .mux(lastPart, .zeros(partType), part.state + .literal(1, partType)))
          }
        }
        (beatValid, beatData) = (full.state && !hold, gather.state)
      }
      m.assign(loads.responseValid, beatValid && !loader.receiving)
      m.assign(loads.responseData, beatData)
      m.assign(loader.beatValid, beatValid && loader.receiving)
      m.assign(loader.beatData, beatData)
    }
  }

  /// Cuts each vector request into the engine's commands. A LOADV's vector is dealt out in
  /// stripes of `vectorStripeBytes` (`AcceleratorProgram.Segment.stripes`): the command for
  /// each stripe names the next port in turn, one stripe further into the port's space each
  /// time the port number wraps. An EMBED's row lies whole in one port: its commands follow
  /// each other in that port. The engine returns the data in command order.
  struct StripeSplitter {
    let valid, ready, address, length: Expr

    init(_ t: Top, request: Expr, valid requestValid: Expr, ready requestReady: Expr) {
      let m = t.m, config = t.config, axi = config.vectorMaster
      let ports = config.memoryPorts, shift = config.vectorPortShift, stripe = config.vectorStripeBytes
      let lengthType = HWType.uint(axi.lengthBits), offsetType = HWType.uint(shift)
      let busy = m.register("split_busy", .bit, holds: true, comment: "a request is being cut into commands")
      let striped = m.register("split_striped", .bit, reset: .none, holds: true)
      let offset = m.register(
        "split_offset", offsetType, reset: .none, holds: true, comment: "the next command's address in its port")
      let left = m.register("split_left", lengthType, reset: .none, holds: true, comment: "bytes still to command")
      let requestLength = request[axi.lengthBits - 1, 0]
      let requestAddress = request[axi.lengthBits + axi.addressWidth - 1, axi.lengthBits]
      let stripeLength = Expr.literal(stripe, lengthType)
      let lastCommand = m.wire("split_last", left.state.le(stripeLength))
      let length = m.wire("split_len", .mux(lastCommand, left.state, stripeLength))
      let commandReady = m.wire("vdma_cmd_ready_engine", .bit)
      let take = m.wire("split_take", requestValid && !busy.state)
      let issue = m.wire("split_issue", busy.state && commandReady)
      m.assign(requestReady, !busy.state)
      // The offset moves on after an EMBED's every command, and after a LOADV's command to
      // the last port (with one port, after every command).
      var moveOn: Expr?
      var port: ModuleBuilder.RegisterHandle?
      if ports > 1 {
        let portType = HWType.uint(axi.addressWidth - shift)
        let p = m.register("split_port", portType, reset: .none, holds: true, comment: "the next command's port")
        let wraps = m.wire("split_port_wraps", p.state.eq(ports - 1))
        moveOn = !striped.state || wraps
        m.comb {
          If(take) { Assign(p.next, requestAddress[axi.addressWidth - 1, shift]) }
          If(issue && striped.state) { Assign(p.next, .mux(wraps, .zeros(portType), p.state + .literal(1, portType))) }
        }
        port = p
      }
      m.comb {
        If(take) { Assign(offset.next, requestAddress[shift - 1, 0]) }
        If(moveOn.map { issue && $0 } ?? issue) { Assign(offset.next, offset.state + .literal(stripe, offsetType)) }
      }
      m.comb {
        If(take) {
          Assign(busy.next, .high)
          Assign(striped.next, request[request.width - 1])
          Assign(left.next, requestLength)
        }
        If(issue) {
          Assign(left.next, left.state - length)
          If(lastCommand) { Assign(busy.next, .low) }
        }
      }
      valid = busy.state
      ready = commandReady
      address = port.map { .concat([$0.state, offset.state]) } ?? offset.state
      self.length = length
    }
  }
}
