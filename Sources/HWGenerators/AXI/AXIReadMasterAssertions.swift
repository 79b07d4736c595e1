import HWDSL
import HWSpec

extension AXIReadMasterBuilder {
  /// The AXI rules the master keeps, and the engine's own invariants.
  func assertions(flight: FlightQueue, buffer: Buffer, push: Expr) {
    let shift = config.beatShift
    m.assertValidReady(
      "ArStable", valid: axi.arValid, ready: axi.arReady,
      payload: [axi.arID, axi.arAddr, axi.arLen, axi.arSize, axi.arBurst])
    let pageBeats = AXIReadMasterConfig.pageBytes / config.bytesPerBeat
    let wide = 10
    let end = axi.arAddr[11, shift].extended(to: wide) + axi.arLen.extended(to: wide) + .literal(1, .uint(wide))
    m.assertAlways("ArNoPageCrossing", !axi.arValid || end.le(.literal(pageBeats, .uint(wide))), "burst crosses 4 KiB")
    if config.maxBurstBeats < 256 {
      m.assertAlways(
        "ArLenLimit", !axi.arValid || axi.arLen.lt(.literal(config.maxBurstBeats, .uint(8))), "ARLEN over the limit")
    }
    m.assertAlways(
      "RNothingOutstanding", !(axi.rValid && axi.rReady && flight.accepted.eq(0)), "R beat with no burst outstanding")
    m.assertAlways("BufferNoOverflow", !(push && !buffer.inReady), "beat pushed into a full buffer")
    var counts = flight.accepted.le(flight.inFlight)
    if config.outstanding < (1 << flightType.width) - 1 {
      counts = counts && flight.inFlight.le(.literal(config.outstanding, flightType))
    }
    m.assertAlways("FlightInRange", counts, "flight counts out of range")
    let aligned = cmd["addr"][shift - 1, 0].eq(0) && cmd["len"][shift - 1, 0].eq(0)
      && cmd["len"][config.lengthBits - 1, shift].ne(0)
    m.assertAlways("CmdAligned", !cmd.valid || aligned, "command not beat-aligned or empty")
    m.assertValidReady("CmdStable", cmd)
    m.assertValidReady("RdStable", rd)
  }
}
