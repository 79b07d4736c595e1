import HWDSL
import HWSpec

/// The norm unit's phase machine (`NormUnitGenerator.Phase`): the first pass,
/// then the scalar program on the shared multiplier and normalizer (rsqrt,
/// r, and in quantize mode 127 / M and the output scale), then the second
/// pass. Each group of phases is one function, in execution order.
struct NormSequencer {
  typealias Phase = NormUnitGenerator.Phase
  typealias Arm = NormUnitGenerator.NormPhaseArm

  let config: NormUnitConfig
  let io: NormUnitPorts
  let input: NormFirstPass
  let output: NormSecondPass
  let scalars: NormScalarDatapath

  private var sc: NormScalarRegisters { scalars.registers }
  private var expType: HWType { .sint(NormUnitConfig.scaleExponentBits) }
  private var normBits: Int { config.normalizerBits }
  private var addressBits: Int { output.readAddress.state.width }

  /// The scalar datapath's inputs, zero in every phase that does not set them, and the
  /// phase register's next state. Two blocks: the second reads the multiplier's and the
  /// normalizer's results, which the first block's assignments feed.
  func build(_ m: ModuleBuilder) {
    let s = scalars
    let arms = firstPassArms() + rsqrtArms() + rmsArms() + quantizeArms() + outputScaleArms() + [outputArm()]
    let operands = [s.mulA, s.mulB, s.normIn, s.normExponent]
    let split = arms.map { arm in (state: arm.state, parts: arm.body.partitioned(assigning: operands)) }
    m.comb {
      Assign(s.mulA, .zeros(.uint(32)))
      Assign(s.mulB, .zeros(.uint(32)))
      Assign(s.normIn, .zeros(.uint(normBits)))
      Assign(s.normExponent, .zeros(expType))
      // Every phase listed (slang's case-enum-explicit): those that drive nothing share one arm.
      let driving = split.filter { !$0.parts.assigning.isEmpty }.map { (values: [$0.state], body: $0.parts.assigning) }
      let idle = split.filter { $0.parts.assigning.isEmpty }.map(\.state)
      Switch(input.phase.current, Phase.self, cases: driving + [(values: idle, body: [])], default: [])
    }
    m.comb {
      Assign(s.product.next, s.productNext)
      input.phase.transitions(split.map { (state: $0.state, body: $0.parts.rest) }, default: Statements { go(.input) })
    }
    m.assertLegal("PhaseLegal", input.phase.current, Phase.self)
  }

  private func go(_ p: Phase) -> Statement { input.phase.goTo(p) }
  private func literal32(_ value: UInt32) -> Expr { .literal(Int(value), .uint(32)) }
  private func exponent(_ value: Int) -> Expr { .literal(value, expType) }

  /// The second pass starts from address 0.
  private func enterOutput() -> [Statement] {
    Statements {
      go(.output)
      Assign(output.readAddress.next, .zeros(.uint(addressBits)))
      Assign(output.issuing.next, .high)
    }
  }

  /// `normIn` (times 2^`exponent`) as a scale into `mantissa`/`exponent` registers.
  private func normalize(
    _ value: Expr, exponent: Expr, into mantissa: ModuleBuilder.RegisterHandle,
    _ exponentRegister: ModuleBuilder.RegisterHandle
  ) -> [Statement] {
    Statements {
      Assign(scalars.normIn, value.extended(to: normBits))
      Assign(scalars.normExponent, exponent)
      Assign(mantissa.next, scalars.normScale.mantissa)
      Assign(exponentRegister.next, scalars.normScale.exponent)
    }
  }

  private func multiply(_ a: Expr, _ b: Expr) -> [Statement] {
    Statements {
      Assign(scalars.mulA, a)
      Assign(scalars.mulB, b)
    }
  }

  private func firstPassArms() -> [Arm] {
    [
      (state: .input, body: Statements {
        If(input.fire) {
          Assign(input.first.next, .low)
          If(io.xLast) { go(.drain) }
        }
      }),
      (state: .drain, body: Statements {
        If(!input.s0Valid.state && !input.s1Valid.state && !input.s2Valid.state) { go(.sum) }
      }),
      (state: .sum, body: Statements {
        Assign(sc.v.next, input.sumOfSquares.state.extended(to: normBits) + input.eps.state.extended(to: normBits))
        go(.rsqrtNormalize)
      }),
    ]
  }

  /// Norms.rsqrt: v normalized evenly, the seed, one Newton step, y1 as a scale.
  private func rsqrtArms() -> [Arm] {
    let product = scalars.product.state
    let rsqrt = scalars.rsqrt
    return [
      (state: .rsqrtNormalize, body: Statements {
        Assign(scalars.normIn, sc.v.state)
        Assign(sc.mRsqrt.next, rsqrt.mFromNorm)
        Assign(sc.rsqrtBase.next, rsqrt.baseExponentNext)
        go(.seed)
      }),
      (state: .seed, body: Statements {
        Assign(sc.y0.next, rsqrt.seed)
        go(.square)
      }),
      (state: .square, body: Statements {
        multiply(sc.y0.state.extended(to: 32), sc.y0.state.extended(to: 32))
        go(.test)
      }),
      (state: .test, body: Statements {
        multiply(sc.mRsqrt.state.extended(to: 32), product[61, 30])  // y0^2 >> 30 < 2^31
        go(.newton)
      }),
      (state: .newton, body: Statements {
        multiply(sc.y0.state.extended(to: 32), rsqrt.correction[31, 0])
        go(.rsqrtScale)
      }),
      (state: .rsqrtScale, body: Statements {
        normalize(rsqrt.y1, exponent: sc.rsqrtBase.state, into: sc.rsqrtMantissa, sc.rsqrtExponent)
        go(.rmsMultiply)
      }),
    ]
  }

  /// r = sqrtLength * rsqrt; norm mode goes straight to the second pass with r.
  private func rmsArms() -> [Arm] {
    [
      (state: .rmsMultiply, body: Statements {
        multiply(input.sqrtMantissa.state, sc.rsqrtMantissa.state)
        go(.rms)
      }),
      (state: .rms, body: Statements {
        normalize(
          scalars.product.state, exponent: scalars.sqrtExponentWide + sc.rsqrtExponent.state,
          into: sc.rMantissa, sc.rExponent)
        Assign(output.applyMantissa.next, scalars.normScale.mantissa)
        Assign(output.applyExponent.next, scalars.normScale.exponent)
        If(input.mode.state) {
          go(.maxScale)
        }.Else {
          Assign(sc.outMantissa.next, .zeros(.uint(32)))
          Assign(sc.outExponent.next, .zeros(expType))
          enterOutput()
        }
      }),
    ]
  }

  /// Quantize mode: M as a scale, 32 divider steps, 127 / M as the apply scale.
  private func quantizeArms() -> [Arm] {
    let scale127 = Norms.scale127
    let divider = scalars.divider
    return [
      (state: .maxScale, body: Statements {
        Assign(scalars.normIn, input.maxMagnitude.state.extended(to: normBits))
        Assign(sc.maxMantissa.next, scalars.normScale.mantissa)
        Assign(sc.maxExponent.next, scalars.normScale.exponent)
        Assign(sc.remainder.next, literal32(UInt32(Int32.max)))  // (2^63 - 1) >> 32
        Assign(sc.quotient.next, .zeros(.uint(32)))
        Assign(sc.divCount.next, .zeros(.uint(5)))
        If(scalars.maxIsZero) {
          // An all-zero vector: q = 0 and a zero output scale.
          Assign(output.applyMantissa.next, .zeros(.uint(32)))
          Assign(output.applyExponent.next, .zeros(expType))
          Assign(sc.outMantissa.next, .zeros(.uint(32)))
          Assign(sc.outExponent.next, .zeros(expType))
          enterOutput()
        }.Else {
          go(.divide)
        }
      }),
      (state: .divide, body: Statements {
        Assign(sc.remainder.next, divider.remainderNext[31, 0])
        Assign(sc.quotient.next, .concat([sc.quotient.state[30, 0], divider.fits]))
        Assign(sc.divCount.next, sc.divCount.state + .literal(1, .uint(5)))
        If(sc.divCount.state.eq(31)) { go(.toInt8Multiply) }
      }),
      (state: .toInt8Multiply, body: Statements {
        // The quotient lies in [2^31, 2^32): already a normalized mantissa.
        multiply(literal32(scale127.mantissa), sc.quotient.state)
        go(.toInt8)
      }),
      (state: .toInt8, body: Statements {
        // scale127 * (quotient, -63 - maxExponent)
        normalize(
          scalars.product.state, exponent: exponent(scale127.exponent - 63) - sc.maxExponent.state,
          into: output.applyMantissa, output.applyExponent)
        multiply(input.betaMantissa.state, sc.rMantissa.state)
        go(.outScale1)
      }),
    ]
  }

  /// Quantize mode's output scale, beta * r * M * inverse127, one product at a time.
  private func outputScaleArms() -> [Arm] {
    let product = scalars.product.state
    let inverse127 = Norms.inverse127
    return [
      (state: .outScale1, body: Statements {
        normalize(
          product, exponent: scalars.betaExponentWide + sc.rExponent.state, into: sc.outMantissa, sc.outExponent)
        go(.outScale2Multiply)
      }),
      (state: .outScale2Multiply, body: Statements {
        multiply(sc.outMantissa.state, sc.maxMantissa.state)
        go(.outScale2)
      }),
      (state: .outScale2, body: Statements {
        normalize(
          product, exponent: sc.outExponent.state + sc.maxExponent.state, into: sc.outMantissa, sc.outExponent)
        go(.outScale3Multiply)
      }),
      (state: .outScale3Multiply, body: Statements {
        multiply(sc.outMantissa.state, literal32(inverse127.mantissa))
        go(.outScale3)
      }),
      (state: .outScale3, body: Statements {
        normalize(
          product, exponent: sc.outExponent.state - exponent(-inverse127.exponent), into: sc.outMantissa,
          sc.outExponent)
        enterOutput()
      }),
    ]
  }

  /// The second pass: issue the vector's addresses, then wait for its last result.
  private func outputArm() -> Arm {
    (state: .output, body: Statements {
      If(output.issue) {
        Assign(output.readAddress.next, output.readAddress.state + .literal(1, .uint(addressBits)))
        If(output.readAddress.state.eq(input.lastAddress.state)) { Assign(output.issuing.next, .low) }
      }
      If(output.finish) {
        Assign(input.first.next, .high)
        go(.input)
      }
    })
  }
}
