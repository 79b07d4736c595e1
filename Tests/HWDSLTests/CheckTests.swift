import HWDSL
import Testing

/// Each pass rejects its kind of mistake and points at the generator line.
@Suite struct CheckTests {
  func issues(_ build: (ModuleBuilder) -> Void) -> DesignError? {
    let m = ModuleBuilder("dut")
    build(m)
    do {
      _ = try m.finish()
      return nil
    } catch let error as DesignError {
      return error
    } catch {
      return nil
    }
  }

  @Test func widthMismatchPointsAtTheAssignment() {
    var line = 0
    let error = issues { m in
      let a = m.input("a", .uint(8))
      let y = m.output("y", .uint(9))
      line = #line + 1
      m.assign(y, a)
    }
    #expect(error?.has(.width) == true)
    #expect(error?.issues.first?.location == SourceLocation(file: #fileID, line: line))
    #expect(error?.description.contains("y_o is 9-bit but is assigned a 8-bit value") == true)
  }

  @Test func mixedSignednessIsAWidthError() {
    let error = issues { m in
      let a = m.input("a", .uint(8))
      let b = m.input("b", .sint(8))
      let y = m.output("y", .uint(8))
      m.assign(y, a + b.asUnsigned)
      let z = m.output("z", .uint(8))
      m.assign(z, (a + b).asUnsigned)
    }
    #expect(error?.has(.width) == true)
    #expect(error?.issues.count == 1)
  }

  @Test func undrivenOutput() {
    let error = issues { m in
      _ = m.output("y", .bit)
    }
    #expect(error?.has(.undriven) == true)
    #expect(error?.description.contains("y_o is never driven") == true)
  }

  @Test func registerWithoutNextState() {
    let error = issues { m in
      _ = m.clock()
      _ = m.reset()
      let r = m.register("r", .bit)
      let y = m.output("y", .bit)
      m.assign(y, r.state)
    }
    #expect(error?.has(.undriven) == true)
  }

  @Test func multipleDrivers() {
    let error = issues { m in
      let a = m.input("a", .bit)
      let y = m.output("y", .bit)
      m.assign(y, a)
      m.comb { Assign(y, !a) }
    }
    #expect(error?.has(.multipleDrivers) == true)
  }

  @Test func incompleteCombinationalAssignmentIsALatch() {
    var line = 0
    let error = issues { m in
      let a = m.input("a", .bit)
      let b = m.input("b", .bit)
      let y = m.output("y", .bit)
      m.comb {
        If(a) {
          Assign(y, b)
        }
      }
      line = #line - 3
    }
    #expect(error?.has(.latch) == true)
    #expect(error?.issues.first?.location.line == line)
  }

  @Test func ifElseAndCaseWithDefaultAreNotLatches() {
    let error = issues { m in
      let a = m.input("a", .bit)
      let s = m.input("s", .uint(2))
      let y = m.output("y", .bit)
      let z = m.output("z", .bit)
      m.comb {
        If(a) { Assign(y, .high) }.Else { Assign(y, .low) }
        Switch(s, cases: [(values: [0], body: Statements { Assign(z, a) })], default: Statements { Assign(z, .low) })
      }
    }
    #expect(error == nil)
  }

  @Test func combinationalLoop() {
    let error = issues { m in
      let a = m.input("a", .bit)
      let x = m.wire("x", .bit)
      let w = m.wire("w", x ^ a)
      m.assign(x, !w)
      let y = m.output("y", .bit)
      m.assign(y, w)
    }
    #expect(error?.has(.combinationalLoop) == true)
    #expect(error?.description.contains("x -> w -> x") == true || error?.description.contains("w -> x -> w") == true)
  }

  /// A block that drives a shared multiplier's operands and reads its product: no loop signal
  /// by signal, but it settles only if the block runs again on its own changes, which Icarus
  /// does not do (norm_unit's scalar product read back stale). Split, it is accepted.
  @Test func blockReadingWhatItsOwnAssignmentsFeedIsRejected() {
    func build(split: Bool) -> DesignError? {
      issues { m in
        _ = m.clock()
        let phase = m.input("phase", .bit)
        let a = m.input("a", .uint(8))
        let y = m.output("y", .uint(16))
        let operand = m.wire("operand", .uint(8))
        let product = m.wire("product", operand.times(a))
        let held = m.register("held", .uint(16), reset: .none)
        m.assign(y, held.state)
        let body = Statements {
          Assign(operand, .zeros(.uint(8)))
          Assign(held.next, held.state)
          If(phase) {
            Assign(operand, a)
            Assign(held.next, product)
          }
        }
        if split {
          let (drive, read) = body.partitioned(assigning: [operand])
          m.comb { drive }
          m.comb { read }
        } else {
          m.comb { body }
        }
      }
    }
    let error = build(split: false)
    #expect(error?.has(.blockFeedback) == true)
    #expect(error?.description.contains("assigns operand and reads product") == true)
    #expect(build(split: true) == nil)
  }

  @Test func loopThroughAChildModuleIsFound() throws {
    let child = ModuleBuilder("passthrough")
    let i = child.input("d", .bit)
    let o = child.output("q", .bit)
    child.assign(o, !i)
    let pass = try child.finish()
    #expect(pass.combinationalPaths == ["q_o": ["d_i"]])
    let error = issues { m in
      let w = m.wire("w", .bit)
      m.instance(pass, "u_pass", [("d_i", w), ("q_o", w)])
      let y = m.output("y", .bit)
      m.assign(y, w)
    }
    #expect(error?.has(.combinationalLoop) == true)
  }

  @Test func registerBreaksALoop() {
    let error = issues { m in
      _ = m.clock()
      _ = m.reset()
      let r = m.register("toggle", .bit)
      m.comb { Assign(r.next, !r.state) }
      let y = m.output("y", .bit)
      m.assign(y, r.state)
    }
    #expect(error == nil)
  }

  @Test func oneResetIsEitherSynchronousOrAsynchronous() {
    let error = issues { m in
      _ = m.clock()
      _ = m.reset()
      let a = m.register("a", .bit)
      let b = m.register("b", .bit, reset: .synchronous)
      m.comb {
        Assign(a.next, b.state)
        Assign(b.next, a.state)
      }
      let y = m.output("y", .bit)
      m.assign(y, a.state)
    }
    #expect(error?.has(.structure) == true)
  }

  @Test func productsAreAssignedWhole() {
    let error = issues { m in
      let a = m.input("a", .uint(8))
      let b = m.input("b", .uint(8))
      let y = m.output("y", .uint(16))
      let z = m.output("z", .uint(17))
      m.assign(y, a.times(b))  // fine: the whole right side, full width
      m.assign(z, .concat([.low, a.times(b)]))  // truncated in SystemVerilog: rejected
    }
    #expect(error?.issues.count == 1)
    #expect(error?.issues.first?.message.contains("product") == true)
  }

  @Test func fullWidthSliceIsTheSignal() throws {
    let m = ModuleBuilder("whole")
    let a = m.input("a", .sint(8))
    let bit = m.input("bit", .bit)
    let y = m.output("y", .uint(9))
    m.assign(y, .concat([bit[0], a[7, 0]]))
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("assign y_o = {bit_i, $unsigned(a_i)};"))
  }

  @Test func unusedDeclarations() {
    let error = issues { m in
      _ = m.input("a", .bit)
      let y = m.output("y", .bit)
      m.assign(y, .high)
    }
    #expect(error?.has(.unused) == true)
  }

  @Test func badSliceAndExtension() {
    let error = issues { m in
      let a = m.input("a", .uint(8))
      let y = m.output("y", .uint(4))
      m.assign(y, a[9, 6])
    }
    #expect(error?.has(.width) == true)
  }

  @Test func instanceConnectionsAreChecked() throws {
    let counter = try Fixtures.counter()
    let error = issues { m in
      let clk = m.clock()
      let rst = m.reset()
      let wide = m.input("go", .uint(2))
      let count = m.output("count", .uint(8))
      m.instance(counter, "u_counter", [("clk_i", clk), ("rst_ni", rst), ("enable_i", wide), ("value_o", count), ("bogus_i", clk)])
    }
    #expect(error?.has(.width) == true)
    #expect(error?.issues.contains { $0.message.contains("no port bogus_i") } == true)
  }

  @Test func differentModulesWithOneNameAreRejected() throws {
    let a = ModuleBuilder("leaf")
    let ai = a.input("d", .bit)
    let ao = a.output("q", .bit)
    a.assign(ao, ai)
    let b = ModuleBuilder("leaf")
    let bi = b.input("d", .bit)
    let bo = b.output("q", .bit)
    b.assign(bo, !bi)
    let leafA = try a.finish()
    let leafB = try b.finish()
    let top = ModuleBuilder("top")
    let d = top.input("d", .bit)
    let q1 = top.output("q1", .bit)
    let q2 = top.output("q2", .bit)
    top.instance(leafA, "u_a", [("d_i", d), ("q_o", q1)])
    top.instance(leafB, "u_b", [("d_i", d), ("q_o", q2)])
    #expect(throws: DesignError.self) { try Design(top: try top.finish()) }
  }
}
