/// A valid/ready stream (SpinalHDL's `Stream`, the OpenTitan `prim_*`
/// handshake): `valid`, `ready` and named payload fields, one beat moving on
/// every edge where `fire` (valid and ready) holds. The producer keeps valid
/// and the payload stable while valid and not ready (`assertValidReady`).
///
/// A value is one side of a stream inside one module. A *source* (from
/// `streamInput` or `stage`) is read for valid and payload, and its `ready`
/// is assigned by whoever takes the beats; a *sink* (from `streamOutput`) is
/// assigned valid and payload, and its `ready` is read. `connect` joins a
/// source to a sink.
public struct Stream {
  /// One payload field: `data`, `last`, ... (printed as `x_data_i`, `x_last_i`).
  public struct Field: Sendable {
    public let name: String
    public let type: HWType
    public let comment: String?

    public init(_ name: String, _ type: HWType, comment: String? = nil) {
      self.name = name
      self.type = type
      self.comment = comment
    }
  }

  public let valid: Expr
  public let ready: Expr
  /// The payload, in field order.
  public let payload: [Expr]
  public let fields: [Field]

  public init(valid: Expr, ready: Expr, payload: [Expr], fields: [Field]) {
    precondition(valid.width == 1 && ready.width == 1, "valid and ready are single bits")
    precondition(payload.map(\.type) == fields.map(\.type), "the payload does not match its fields")
    self.valid = valid
    self.ready = ready
    self.payload = payload
    self.fields = fields
  }

  /// A stream over existing signals (a child's ports as the parent wires
  /// them), each payload field named.
  public init(valid: Expr, ready: Expr, _ payload: KeyValuePairs<String, Expr>) {
    self.init(
      valid: valid, ready: ready, payload: payload.map(\.value), fields: payload.map { Field($0.key, $0.value.type) })
  }

  /// The beat moves at this edge.
  public var fire: Expr { valid && ready }

  /// The payload field named `name`.
  public subscript(_ name: String) -> Expr {
    guard let index = fields.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("the stream has no field \(name)")
    }
    return payload[index]
  }
}

extension ModuleBuilder {
  /// A stream into this module, a source: `name_valid_i`, `name_ready_o`, then
  /// `name_<field>_i` for each field.
  public func streamInput(
    _ name: String, _ fields: [Stream.Field], file: StaticString = #fileID, line: UInt = #line
  ) -> Stream {
    let valid = input(name + "_valid", .bit, file: file, line: line)
    let ready = output(name + "_ready", .bit, file: file, line: line)
    let payload = fields.map { input(name + "_" + $0.name, $0.type, comment: $0.comment, file: file, line: line) }
    return Stream(valid: valid, ready: ready, payload: payload, fields: fields)
  }

  /// A stream out of this module, a sink: `name_valid_o`, `name_ready_i`, then
  /// `name_<field>_o` for each field.
  public func streamOutput(
    _ name: String, _ fields: [Stream.Field], file: StaticString = #fileID, line: UInt = #line
  ) -> Stream {
    let valid = output(name + "_valid", .bit, file: file, line: line)
    let ready = input(name + "_ready", .bit, file: file, line: line)
    let payload = fields.map { output(name + "_" + $0.name, $0.type, comment: $0.comment, file: file, line: line) }
    return Stream(valid: valid, ready: ready, payload: payload, fields: fields)
  }

  /// Drives `sink`'s valid and payload from `source`, and `source`'s ready from `sink`.
  public func connect(_ source: Stream, to sink: Stream, file: StaticString = #fileID, line: UInt = #line) {
    precondition(source.fields.map(\.type) == sink.fields.map(\.type), "the two streams carry different payloads")
    assign(sink.valid, source.valid, file: file, line: line)
    for (to, from) in zip(sink.payload, source.payload) { assign(to, from, file: file, line: line) }
    assign(source.ready, sink.ready, file: file, line: line)
  }

  /// A registered stage (a two-entry skid buffer) after `input`: the returned
  /// source's valid and payload come from registers, and `input`'s ready is a
  /// register too (not `skid` full), so no combinational path crosses the
  /// stage in either direction. A beat a cycle passes at full rate: the skid
  /// entry fills only when the output stalls with a beat arriving, and it
  /// drains before the output register takes a new beat. One cycle of latency.
  ///
  /// Registers: `name_valid_q` and `name_<field>_q` (the output), and
  /// `name_skid_valid_q` / `name_skid_<field>_q`; the returned ready is the
  /// wire `name_ready`, which the consumer assigns.
  public func stage(_ input: Stream, _ name: String, file: StaticString = #fileID, line: UInt = #line) -> Stream {
    let outValid = register(name + "_valid", .bit, holds: true, file: file, line: line)
    let outData = input.fields.map {
      register(name + "_" + $0.name, $0.type, reset: .none, holds: true, comment: $0.comment, file: file, line: line)
    }
    let skidValid = register(name + "_skid_valid", .bit, holds: true, comment: "the second entry", file: file, line: line)
    let skidData = input.fields.map {
      register(name + "_skid_" + $0.name, $0.type, reset: .none, holds: true, file: file, line: line)
    }
    let ready = wire(name + "_ready", .bit, file: file, line: line)
    assign(input.ready, !skidValid.state, file: file, line: line)
    let taken = wire(name + "_in_fire", input.fire, file: file, line: line)
    let free = wire(
      name + "_free", !outValid.state || ready, comment: "the output register is empty or moves on", file: file,
      line: line)
    comb(file: file, line: line) {
      If(free) {
        Assign(outValid.next, skidValid.state || taken)
        for k in outData.indices { Assign(outData[k].next, .mux(skidValid.state, skidData[k].state, input.payload[k])) }
        Assign(skidValid.next, .low)
      }.Else {
        If(taken) {
          Assign(skidValid.next, .high)
          for k in skidData.indices { Assign(skidData[k].next, input.payload[k]) }
        }
      }
    }
    return Stream(valid: outValid.state, ready: ready, payload: outData.map(\.state), fields: input.fields)
  }

  /// The valid/ready rule on `stream`: once valid and not ready, valid and the
  /// payload hold until the beat moves. The message is short enough that the
  /// `$error` line stays within 100 columns for names up to 30 characters.
  public func assertValidReady(_ name: String, _ stream: Stream, file: StaticString = #fileID, line: UInt = #line) {
    assertStable(
      name, .concat([stream.valid] + stream.payload), after: stream.valid && Self.inverted(stream.ready),
      "valid or payload changed while stalled", file: file, line: line)
  }

  /// `!x`, or `y` when `x` is already `!y` (a ready wired as `!busy`).
  static func inverted(_ x: Expr) -> Expr {
    if case .unary(.logicalNot, let y) = x.node { return y }
    return !x
  }
}
