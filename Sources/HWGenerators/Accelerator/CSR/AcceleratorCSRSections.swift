import HWDSL
import HWSpec

extension AcceleratorCSRBuilder {
  struct Status {
    /// STATUS as read.
    let status: Expr
    let irqEnable: Expr
    let irqStatus: Expr
  }

  /// DONE and TOKEN_OVERFLOW, the interrupt enable and status, and `irq_o`.
  /// DONE sets when `busy_i` falls; START clears it (START wins). An event
  /// sets its IRQ_STATUS bit in the cycle a write of 1 would clear it.
  func statusBits(_ write: AcceleratorCSRBuilder.Write, _ fifos: FIFOs) -> Status {
    let irqType = HWType.uint(AcceleratorCSRBit.irqBits)
    let busyLast = m.register("busy_last", .bit, comment: "busy_i a cycle ago")
    let errLast = m.register("err_last", .bit, comment: "err_i a cycle ago")
    let busyFell = m.wire("busy_fell", busyLast.state && !busy, comment: "a run ended")
    let errRose = m.wire("err_rose", err && !errLast.state)
    let done = m.register("done", .bit, holds: true, comment: "STATUS.DONE")
    let overflow = m.register("token_overflow", .bit, holds: true, comment: "STATUS.TOKEN_OVERFLOW, sticky")
    let enable = m.register("irq_enable", irqType, holds: true)
    let pending = m.register("irq_status", irqType)
    let clear = m.wire(
      "irq_clear", .mux(write.go && write.hits(.irqStatus), write.data[AcceleratorCSRBit.irqBits - 1, 0], .zeros(irqType)),
      comment: "IRQ_STATUS bits written 1")
    let events = m.wire(
      "irq_events", .concat([fifos.tokenPush, errRose, busyFell]), comment: "{token, error, done}")
    m.comb {
      Assign(busyLast.next, busy)
      Assign(errLast.next, err)
      If(busyFell) { Assign(done.next, .high) }
      If(write.startRequest) {
        Assign(done.next, .low)
        Assign(overflow.next, .low)
      }
      If(fifos.tokenLost) { Assign(overflow.next, .high) }
      If(write.go && write.hits(.irqEnable)) {
        Assign(enable.next, write.data[AcceleratorCSRBit.irqBits - 1, 0])
      }
      Assign(pending.next, (pending.state & ~clear) | events)
    }
    m.assign(irq, (pending.state & enable.state).reduceOr())
    let status = m.wire(
      "status", word([overflow.state, fifos.tokenHeadValid, fifos.promptFull, err, done.state, busy]),
      comment: "STATUS")
    return Status(status: status, irqEnable: enable.state, irqStatus: pending.state)
  }

  /// AR into a holding register; the next cycle the read is decoded from it
  /// (`perf_sel_o` too), answered on R, and TOKEN's head popped.
  func readSide(_ status: Status, _ fifos: FIFOs) {
    let a = config.addressWidth
    let arHeld = m.register("ar_held", .bit, holds: true, comment: "an AR is held")
    let arAddr = m.register("ar_addr", addressType, holds: true)
    let rValid = m.register("r_valid", .bit, holds: true)
    let rData = m.register("r_data", .uint(AXILiteBundle.dataBits), holds: true)
    let rResp = m.register("r_resp", .uint(2), holds: true)
    m.assign(axi.arReady, !arHeld.state && !rValid.state)
    let arFire = m.wire("ar_fire", axi.arValid && !arHeld.state && !rValid.state)
    let serve = m.wire("rd_en", arHeld.state, comment: "answer the held read")
    let address = m.wire(
      "rd_addr", .concat([arAddr.state[a - 1, 2], .zeros(.uint(2))]), comment: "the register's offset")
    NormDatapath.discard(m, "rd_addr_byte", arAddr.state[1, 0])

    // Counter i at CounterBase + 8 i: the index is the offset's bits above 3, less 8.
    let indexType = HWType.uint(a - 3)
    let base = AcceleratorCSRConfig.counterBase
    let counterBase = m.constant("CounterBase", base, addressType, comment: "counter 0's low word")
    let index = m.wire(
      "rd_counter", arAddr.state[a - 1, 3] - .literal(base / 8, indexType), comment: "the counter an offset names")
    let selectBits = config.counterSelectBits
    m.assign(perfSel, index[selectBits - 1, 0])
    if selectBits < indexType.width { NormDatapath.discard(m, "rd_counter", index[indexType.width - 1, selectBits]) }
    let counterHit = m.wire(
      "rd_counter_hit", arAddr.state.ge(counterBase) && index.lt(.literal(config.counters, indexType)))
    let cb = config.counterBits
    let low = cb >= 32 ? perfData[31, 0] : perfData.extended(to: 32)
    let high = cb > 32 ? perfData[cb - 1, 32].extended(to: 32) : Expr.zeros(.uint(32))
    let counterWord = m.wire("rd_counter_word", .mux(arAddr.state[2], high, low), comment: "its low or high word")

    let ma = config.memoryAddressBits
    let addressLow = ma >= 32 ? memErrAddr[31, 0] : memErrAddr.extended(to: 32)
    let addressHigh = ma > 32 ? memErrAddr[ma - 1, 32].extended(to: 32) : Expr.zeros(.uint(32))
    let error = word(
      [err] + pad(AcceleratorCSRBit.errorCore - AcceleratorCSRBit.errorPort - config.memoryErrorPortBits) + [memErrPort]
        + pad(AcceleratorCSRBit.errorPort - config.memoryErrorCodeBits) + [memErr])
    let tokenWord = m.wire(
      "rd_token",
      .mux(
        fifos.tokenHeadValid, .concat([Expr.high] + pad(AcceleratorCSRBit.tokenValid - config.tokenBits) + [fifos.tokenHead]),
        .zeros(.uint(32))),
      comment: "TOKEN: {valid, the head}, or 0 when empty")
    let pb = config.programBaseBits
    let baseLow = pb >= 32 ? programBase[31, 0] : programBase.extended(to: 32)
    let baseHigh = pb > 32 ? programBase[min(pb, 64) - 1, 32].extended(to: 32) : Expr.zeros(.uint(32))
    let identifier = m.constant("Identifier", AcceleratorCSRConfig.identifier, .uint(32), comment: "ID: \"MMFA\"")
    let counters = m.constant("CounterCount", config.counters, .uint(32), comment: "COUNTERS")
    let values: [(AcceleratorCSRRegister, Expr)] = [
      (.status, status.status), (.tokens, tokens.extended(to: 32)), (.token, tokenWord),
      (.irqEnable, status.irqEnable.extended(to: 32)), (.irqStatus, status.irqStatus.extended(to: 32)),
      (.error, error), (.errorAddressLow, addressLow), (.errorAddressHigh, addressHigh),
      (.programBaseLow, baseLow), (.programBaseHigh, baseHigh), (.identifier, identifier), (.counters, counters),
      (.programCount, programCount.extended(to: 32)),
    ]
    precondition(values.map(\.0) == AcceleratorCSRRegister.allCases.filter(\.readable), "read mux out of map order")
    let value = m.wire("rd_value", .uint(AXILiteBundle.dataBits), comment: "the register read")
    let ok = m.wire("rd_ok", .bit, comment: "a readable register: OKAY, else SLVERR")
    let cases = values.map { register, v in
      (labels: [offset(register)], body: Statements {
        Assign(value, v)
        Assign(ok, .high)
      })
    }
    m.comb {
      Assign(value, .zeros(.uint(32)))
      Assign(ok, .low)
      Switch(address, labels: cases, default: Statements {
        If(counterHit) {
          Assign(value, counterWord)
          Assign(ok, .high)
        }
      })
    }
    m.assign(fifos.tokenPop, serve && address.eq(offset(.token)) && fifos.tokenHeadValid)
    m.comb {
      If(arFire) {
        Assign(arHeld.next, .high)
        Assign(arAddr.next, axi.arAddr)
      }
      If(serve) {
        Assign(arHeld.next, .low)
        Assign(rValid.next, .high)
        Assign(rData.next, value)
        Assign(rResp.next, .mux(ok, .literal(AXILiteBundle.okay, .uint(2)), .literal(AXILiteBundle.slaveError, .uint(2))))
      }.ElseIf(axi.rReady) {
        Assign(rValid.next, .low)
      }
    }
    m.assign(axi.rValid, rValid.state)
    m.assign(axi.rData, rData.state)
    m.assign(axi.rResp, rResp.state)
  }

  /// The AXI4-Lite rules the port keeps.
  func assertions(_ write: AcceleratorCSRBuilder.Write, _ fifos: FIFOs) {
    m.assertValidReady("BStable", valid: axi.bValid, ready: axi.bReady, payload: [axi.bResp])
    m.assertValidReady("RStable", valid: axi.rValid, ready: axi.rReady, payload: [axi.rData, axi.rResp])
    m.assertAlways(
      "OneReadOutstanding", !(axi.rValid && axi.arReady), "AR taken while an R response waits")
    m.assertAlways("PromptPushRoom", !(write.go && write.hits(.prompt) && !write.promptRoom), "prompt FIFO overrun")
    m.assertAlways("TokenPopValid", !(fifos.tokenPop && !fifos.tokenHeadValid), "TOKEN popped an empty FIFO")
  }
}
