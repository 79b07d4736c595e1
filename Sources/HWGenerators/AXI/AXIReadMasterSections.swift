import HWDSL
import HWSpec

/// `value` at `width` bits: zero-extended or truncated.
func resized(_ value: Expr, _ width: Int) -> Expr {
  width >= value.width ? value.extended(to: width) : value.truncated(to: width)
}

/// Bursts whose address is in the AR register or on the bus and whose last
/// beat has not been taken, oldest first: a small memory of {last burst of
/// its command, ARLEN, address}. `accepted` counts those past the AR
/// handshake, the ones the slave may answer.
final class FlightQueue {
  let headAddr: Expr
  let headLen: Expr
  let headLast: Expr
  let inFlight: Expr
  let accepted: Expr
  let full: Expr
  private let b: AXIReadMasterBuilder
  private let memory: ModuleBuilder.MemoryHandle
  private let writePointer: ModuleBuilder.RegisterHandle
  private let readPointer: ModuleBuilder.RegisterHandle
  private let inFlightCount: ModuleBuilder.RegisterHandle
  private let acceptedCount: ModuleBuilder.RegisterHandle

  init(_ b: AXIReadMasterBuilder) {
    self.b = b
    let m = b.m
    let a = b.config.addressWidth
    memory = m.memory("flight_mem", depth: b.config.outstanding, .uint(a + 9))
    let pointer = HWType.uint(memory.addressWidth)
    writePointer = m.register("flight_wr_ptr", pointer)
    readPointer = m.register("flight_rd_ptr", pointer)
    inFlightCount = m.register("in_flight", b.flightType, comment: "bursts issued, last beat not taken")
    acceptedCount = m.register("accepted", b.flightType, comment: "... of which past the AR handshake")
    let head = m.wire("flight_head", memory.read(readPointer.state), comment: "the oldest burst in flight")
    headAddr = m.wire("head_addr", head[a - 1, 0])
    headLen = m.wire("head_len", head[a + 7, a])
    headLast = m.wire("head_last", head[a + 8], comment: "the command's final burst")
    inFlight = inFlightCount.state
    accepted = acceptedCount.state
    full = m.wire("flight_full", inFlight.eq(b.config.outstanding))
  }

  /// Pushes `word` when the AR register loads, pops when a burst's last beat is taken.
  func update(push: Expr, word: Expr, pop: Expr, arFire: Expr) {
    let m = b.m
    let depth = b.config.outstanding
    let type = writePointer.state.type
    func advanced(_ p: Expr) -> Expr { .mux(p.eq(depth - 1), .zeros(type), p + .literal(1, type)) }
    m.write(memory, enable: push, address: writePointer.state, data: word)
    let width = b.flightType.width
    m.assign(writePointer.next, .mux(push, advanced(writePointer.state), writePointer.state))
    m.assign(readPointer.next, .mux(pop, advanced(readPointer.state), readPointer.state))
    m.assign(inFlightCount.next, inFlight + push.extended(to: width) - pop.extended(to: width))
    m.assign(acceptedCount.next, accepted + arFire.extended(to: width) - pop.extended(to: width))
  }
}

extension AXIReadMasterBuilder {
  struct Issue {
    /// The AR register takes the next burst.
    let load: Expr
    let burst: Expr
    /// The burst's flight-queue entry.
    let word: Expr
    let arFire: Expr
    let active: Expr
  }

  /// Takes a command, splits it into bursts at `maxBurstBeats` and at 4 KiB
  /// boundaries, and drives AR from registers. A burst loads when the AR
  /// register is free or moves on, a queue entry is free and the buffer has
  /// room for all its beats (`level` held, `reserved` promised).
  func commandSide(stopped: Expr, level: Expr, reserved: Expr, flight: FlightQueue) -> Issue {
    let shift = config.beatShift
    let active = m.register("active", .bit, holds: true, comment: "a command is being split into bursts")
    let next = m.register("next_addr", addressType, reset: .none, holds: true, comment: "the next burst's address")
    let remaining = m.register("remaining", beatsType, reset: .none, holds: true, comment: "beats not yet issued")
    let arValid = m.register("ar_valid", .bit, holds: true)
    let arAddr = m.register("ar_addr", addressType, reset: .none, holds: true)
    let arLen = m.register("ar_len", .uint(8), reset: .none, holds: true)

    let pageBeats = AXIReadMasterConfig.pageBytes / config.bytesPerBeat
    let wide = HWType.uint(max(beatsType.width, bitsToRepresent(pageBeats)))
    let pageLeft = m.wire(
      "page_beats_left", .literal(pageBeats, wide) - next.state[11, shift].extended(to: wide.width),
      comment: "beats up to the next 4 KiB boundary")
    let limit = Expr.literal(config.maxBurstBeats, wide)
    let left = remaining.state.extended(to: wide.width)
    let capped = m.wire("page_capped", pageLeft.lt(limit), comment: "the boundary comes before the burst limit")
    let cappedBeats = Expr.mux(capped, pageLeft[burstType.width - 1, 0], .literal(config.maxBurstBeats, burstType))
    let short = m.wire("short_burst", left.lt(.mux(capped, pageLeft, limit)), comment: "the command ends first")
    let burst = m.wire(
      "burst_beats", .mux(short, resized(remaining.state, burstType.width), cappedBeats),
      comment: "beats of the next burst")
    let lastBurst = m.wire("last_burst", left.eq(burst.extended(to: wide.width)), comment: "the command's final burst")
    let room = m.wire(
      "room",
      (level.extended(to: creditType.width) + reserved + burst.extended(to: creditType.width))
        .le(.literal(config.bufferBeats, creditType)) && !flight.full,
      comment: "the buffer keeps every beat of the burst; a queue entry is free")
    let arFire = m.wire("ar_fire", arValid.state && axi.arReady)
    let load = m.wire("ar_load", active.state && (!arValid.state || axi.arReady) && !stopped && room)
    let length = m.wire("burst_len", burstLength(burst), comment: "ARLEN")

    let commandBeats = m.wire("cmd_beats", cmd["len"][config.lengthBits - 1, shift])
    let commandAddress = m.wire(
      "cmd_addr_aligned", .concat([cmd["addr"][config.addressWidth - 1, shift], .zeros(.uint(shift))]))
    m.assign(cmd.ready, !active.state && !stopped)
    let cmdFire = cmd.fire
    let step = burst.extended(to: config.addressWidth).shiftLeft(shift)
    let burstBeats = m.wire("burst_beats_left", resized(burst, beatsType.width))
    m.comb {
      If(cmdFire) {
        Assign(active.next, commandBeats.ne(0))
        Assign(next.next, commandAddress)
        Assign(remaining.next, commandBeats)
      }
      If(load) {
        Assign(arValid.next, .high)
        Assign(arAddr.next, next.state)
        Assign(arLen.next, length)
        Assign(next.next, next.state + step)
        Assign(remaining.next, remaining.state - burstBeats)
        If(lastBurst) { Assign(active.next, .low) }
      }.Else {
        If(arFire) { Assign(arValid.next, .low) }
      }
    }
    m.assign(axi.arValid, arValid.state)
    m.assign(axi.arAddr, arAddr.state)
    m.assign(axi.arLen, arLen.state)
    m.assign(axi.arID, .literal(config.readID, .uint(config.idWidth)))
    m.assign(axi.arSize, .literal(shift, .uint(3)))
    m.assign(axi.arBurst, .literal(AXIReadBundle.incrementing, .uint(2)))
    let word = Expr.concat([lastBurst, length, next.state])
    return Issue(load: load, burst: burst, word: word, arFire: arFire, active: active.state)
  }

  /// ARLEN, `burst - 1` in 8 bits; a 256-beat limit drops the difference's
  /// top bit, zero for every burst of 1...256 beats.
  func burstLength(_ burst: Expr) -> Expr {
    let wide = m.wire("burst_minus_one", burst - .literal(1, burstType))
    guard wide.width > 8 else { return wide.extended(to: 8) }
    NormDatapath.discard(m, "burst_minus_one", wide[wide.width - 1, 8])
    return wide[7, 0]
  }

  struct Beat {
    let taken: Expr
    let push: Expr
    let burstDone: Expr
    /// The beat's `AXIReadError` (none when it is good).
    let code: Expr
    let failed: Expr
    /// The address of the beat the oldest burst expects next.
    let address: Expr
  }

  /// Takes R beats while a burst is outstanding, checks each against the
  /// oldest burst in flight, and pushes the good ones (until an error) into
  /// the buffer, `last` on the command's final beat.
  func responseSide(flight: FlightQueue, buffer: Buffer, stopped: Expr) -> Beat {
    let beat = m.register("beat", .uint(8), holds: true, comment: "beats of the oldest burst taken")
    let ready = m.wire("r_ready", flight.accepted.ne(0) && buffer.inReady, comment: "a burst is outstanding")
    m.assign(axi.rReady, ready)
    let taken = m.wire("r_fire", axi.rValid && ready)
    let burstEnd = m.wire("burst_end", beat.state.eq(flight.headLen), comment: "the oldest burst's last beat")
    let address = m.wire(
      "beat_addr", flight.headAddr + beat.state.extended(to: config.addressWidth).shiftLeft(config.beatShift))
    let code3 = HWType.uint(AXIReadError.bits)
    func code(_ e: AXIReadError) -> Expr { .literal(e.rawValue, code3) }
    let resp = axi.rResp
    let code = m.wire(
      "beat_error",
      .mux(resp.eq(AXIReadBundle.decodeError), code(.decodeError),
           .mux(resp.eq(AXIReadBundle.slaveError), code(.slaveError),
                .mux(axi.rID.ne(config.readID), code(.idMismatch),
                     .mux(axi.rLast.ne(burstEnd), code(.lastMismatch), code(.none))))),
      comment: "RRESP, RID and RLAST checks (EXOKAY passes)")
    let failed = m.wire("beat_failed", taken && code.ne(0))
    let push = taken && code.eq(0) && !stopped
    m.assign(buffer.push, push)
    m.assign(buffer.data, .concat([burstEnd && flight.headLast, axi.rData]))
    let burstDone = m.wire("burst_done", taken && burstEnd)
    m.comb {
      If(taken) { Assign(beat.next, .mux(burstEnd, .zeros(.uint(8)), beat.state + .literal(1, .uint(8)))) }
    }
    return Beat(taken: taken, push: buffer.push, burstDone: burstDone, code: code, failed: failed, address: address)
  }
}

/// `busy_o`, `error_o` and `error_addr_o`, and the timeout counter.
final class StatusPorts {
  let busy: Expr
  /// An error is latched: no further command or burst.
  let latched: Expr
  private let b: AXIReadMasterBuilder
  private let error: ModuleBuilder.RegisterHandle
  private let address: ModuleBuilder.RegisterHandle

  init(_ b: AXIReadMasterBuilder) {
    self.b = b
    let m = b.m
    busy = m.output("busy", .bit, comment: "a command, burst or beat is in the engine")
    let errorOut = m.output("error", .uint(AXIReadError.bits), comment: "the first error, sticky")
    let addressOut = m.output("error_addr", b.addressType, comment: "the failing beat's byte address")
    error = m.register("error", .uint(AXIReadError.bits), holds: true)
    address = m.register("error_addr", b.addressType, holds: true)
    m.assign(errorOut, error.state)
    m.assign(addressOut, address.state)
    latched = m.wire("stopped", error.state.ne(0), comment: "an error is latched")
  }

  /// Latches the first failing beat, or a timeout: `timeoutCycles` cycles
  /// without `progress` while a read waits (on the AR handshake or for beats).
  func update(beat: AXIReadMasterBuilder.Beat, progress: Expr, flight: FlightQueue, arAddress: Expr, arValid: Expr) {
    let m = b.m
    let limit = b.config.timeoutCycles - 1
    let counter = HWType.uint(bitsToRepresent(limit))
    let waiting = m.wire("waiting", flight.accepted.ne(0) || arValid, comment: "a read waits on the slave")
    let idle = m.register("idle_cycles", counter, holds: true, comment: "cycles without progress")
    let timedOut = m.wire("timed_out", waiting && !progress && idle.state.eq(limit))
    let waitedFor = m.wire("waited_addr", .mux(flight.accepted.ne(0), beat.address, arAddress))
    let latched = self.latched, error = self.error, address = self.address
    m.comb {
      If(!waiting || progress) {
        Assign(idle.next, .zeros(counter))
      }.Else {
        If(idle.state.ne(limit)) { Assign(idle.next, idle.state + .literal(1, counter)) }
      }
      If(!latched) {
        If(beat.failed) {
          Assign(error.next, beat.code)
          Assign(address.next, beat.address)
        }.Else {
          If(timedOut) {
            Assign(error.next, .literal(AXIReadError.timeout.rawValue, .uint(AXIReadError.bits)))
            Assign(address.next, waitedFor)
          }
        }
      }
    }
  }
}
