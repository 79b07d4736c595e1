import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// Everything the performance counters count, by section.
  struct CounterSources {
    let seq: SequencerRegisters
    let decode: Decode
    let loads: VectorLoads
    let fetch: OperandFetch
    let units: UnitConnections
    let packer: Packer
    let matVec: MatVec
    let writeBack: WriteBack
    let control: Control
    let dma: WeightDMA
  }

  /// The performance counters, in `AcceleratorCounter` order: live through the
  /// debug port `perf_sel_i` / `perf_data_o`, and for the host through
  /// `mmfree_csr` from a snapshot bank that `CTRL.SNAPSHOT` loads.
  static func performanceCounters(_ t: Top, _ s: CounterSources) {
    let m = t.m, io = t.io, d = s.decode, mv = s.matVec, mvBusy = s.seq.mvBusy.state
    let counted = m.wire(
      "counted", s.control.running && !io.ckptActive, comment: "cycles that count: running, not in a checkpoint")
    let elementwise = m.wire("in_elementwise", d.inBusy && (d.usesNorm || d.usesMLGRU || d.usesVector))
    let loadWait = ((d.opWait && !s.loads.waitSatisfied) || ((d.opLoad || d.opEmbed) && !s.loads.requested))
    let operand = s.fetch.opValid.state && d.inBusy
    let events: [(AcceleratorCounter, Expr, Expr)] = [
      (.cycles, counted, .literal(1, .uint(8))),
      (.matVecCycles, counted && mvBusy, .literal(1, .uint(8))),
      (.weightStallCycles, counted && mvBusy && mv.mvActValid.state && !mv.fifoValid, .literal(1, .uint(8))),
      (.loadWaitCycles, counted && !mvBusy && d.issuing && loadWait, .literal(1, .uint(8))),
      (.elementwiseCycles, counted && !mvBusy && elementwise, .literal(1, .uint(8))),
      (.weightBeats, mv.fifoValid && mv.fifoReady && mv.mvActValid.state, .literal(1, .uint(8))),
      (.normBeats, s.units.norm.valid && s.units.norm.ready, .literal(1, .uint(8))),
      (.mlgruBeats, operand && d.usesMLGRU && s.units.mlgru.ready, .literal(1, .uint(8))),
      (.vectorBeats, operand && d.usesVector && s.units.vector.ready, .literal(1, .uint(8))),
      (.scratchpadReadBeats, s.fetch.fetchBeat && !d.opCkpt, .literal(2, .uint(8))),
      (.scratchpadWriteBeats, s.writeBack.scratchWrite, .literal(2, .uint(8))),
      (.parameterReadBeats, s.fetch.fetchBeat && (d.usesNorm || d.opRecur), .literal(1, .uint(8))),
      (.parameterWriteBeats, s.writeBack.paramWrite, .literal(1, .uint(8))),
      (.activationWordWrites, s.packer.wordDone, .literal(1, .uint(8))),
      // Every stream's core reads its own word.
      (.activationWordReads, mv.startMatVec || mv.mvFire, .literal(t.config.streams, .uint(8))),
      (.weightFIFOWrites, s.dma.beatValid && s.dma.fifoReady, .literal(1, .uint(8))),
      (.instructions, s.control.finish && counted, .literal(1, .uint(8))),
      (.checkpointCycles, io.ckptActive, .literal(1, .uint(8))),
      (.hiddenElementwiseCycles, counted && mvBusy && elementwise, .literal(1, .uint(8))),
    ]
    precondition(events.map(\.0) == AcceleratorCounter.allCases, "counter list out of order")
    let counterType = HWType.uint(counterBits)
    var values: [Expr] = []
    for (counter, event, step) in events {
      let r = m.register("perf_\(counter.rtlName)", counterType)
      m.assign(r.next, .mux(event, r.state + step.extended(to: counterBits), r.state))
      values.append(r.state)
    }
    let selected = m.wire("perf_selected", .uint(counterBits))
    select(m, selected, from: values, by: io.perfSel)
    m.assign(io.perfData, selected.extended(to: 64))
    // The host's view: every counter copied in the same cycle, so a set read over
    // AXI4-Lite is one instant's, however long the reads take.
    var snapshots: [Expr] = []
    for (counter, value) in zip(AcceleratorCounter.allCases, values) {
      let r = m.register("perf_snap_\(counter.rtlName)", counterType)
      m.assign(r.next, .mux(io.csrPerfSnapshot, value, r.state))
      snapshots.append(r.state)
    }
    select(m, io.csrPerfData, from: snapshots, by: io.csrPerfSel)
  }

  /// `target` = `values[index]`, zero past the list.
  private static func select(_ m: ModuleBuilder, _ target: Expr, from values: [Expr], by index: Expr) {
    let cases = values.enumerated().map { item in (values: [item.offset], body: [Assign(target, item.element)]) }
    m.comb {
      Assign(target, .zeros(target.type))
      Switch(index, cases: cases, default: [Assign(target, .zeros(target.type))])
    }
  }
}
