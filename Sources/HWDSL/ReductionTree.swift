/// A balanced binary reduction over `n` values (cf. Chisel's `reduceTree`,
/// OpenTitan's `prim_max_tree`): level 1 combines leaves 0 and 1, 2 and 3,
/// ...; an odd node out moves up a level unchanged, so `n` values take
/// `ceilLog2(n)` levels. Every combined node is one named wire per field
/// (`<name>_l<level>_<k>`, or `<name>_l<level>_<k>_<field>` for a node of
/// several fields), so the tree reads in the RTL and in a waveform as it is
/// drawn. With `registerEvery: k` every node of levels k, 2k, ... (the odd
/// one out too) goes through a register that loads when `enable` is high:
/// the result arrives `ReductionTree.latency(count:registerEvery:)` cycles
/// after the leaves.
public struct ReductionTree {
  /// What a node carries (its fields, one `Expr` each) and how two
  /// children make their parent.
  public struct Operation {
    /// Field names; one empty name for a node of one value.
    public let fields: [String]
    /// The parent of `left` (lower leaf indices) and `right`. `node` is the
    /// parent's name, for any helper wire the operation declares.
    public let combine: (_ m: ModuleBuilder, _ node: String, _ left: [Expr], _ right: [Expr]) -> [Expr]

    public init(
      fields: [String], combine: @escaping (_ m: ModuleBuilder, _ node: String, _ left: [Expr], _ right: [Expr]) -> [Expr]
    ) {
      self.fields = fields
      self.combine = combine
    }

    /// A sum; with `widening` each node is one bit wider than its wider
    /// child (operands extended by their signedness), so the root, at most
    /// `ceilLog2(n)` bits wider than a leaf, never wraps.
    public static func sum(widening: Bool = true) -> Operation {
      Operation(fields: [""]) { _, _, l, r in
        let width = max(l[0].width, r[0].width) + (widening ? 1 : 0)
        return [l[0].extended(to: width) + r[0].extended(to: width)]
      }
    }

    /// The larger of two values of one type (left on ties).
    public static var maximum: Operation {
      Operation(fields: [""]) { _, _, l, r in [.mux(l[0].ge(r[0]), l[0], r[0])] }
    }

    /// Argmax over nodes (valid, value, index): the largest valid value and
    /// its index, the lowest index on ties (the left child wins an equal
    /// value); invalid leaves never win. `valid` of the root: any leaf valid.
    public static var argmax: Operation {
      Operation(fields: ["valid", "value", "index"]) { m, node, l, r in
        let left = m.wire("\(node)_left", l[0] && (!r[0] || l[1].ge(r[1])), comment: "the left child wins")
        return [l[0] || r[0], .mux(left, l[1], r[1]), .mux(left, l[2], r[2])]
      }
    }
  }

  /// Cycles from the leaves to the root for `count` leaves.
  public static func latency(count: Int, registerEvery k: Int?) -> Int {
    guard let k else { return 0 }
    return ceilLog2(count) / k
  }
}

extension ModuleBuilder {
  /// The root of a `ReductionTree` over `leaves` (each a node: one `Expr`
  /// per field of `operation`). See `ReductionTree` for names and registers.
  public func reductionTree(
    _ name: String, _ leaves: [[Expr]], _ operation: ReductionTree.Operation, registerEvery k: Int? = nil,
    enable: Expr? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> [Expr] {
    precondition(!leaves.isEmpty && leaves.allSatisfy { $0.count == operation.fields.count })
    precondition(k.map { $0 >= 1 } ?? true, "registerEvery must be at least 1")
    var level = leaves
    var depth = 0
    while level.count > 1 {
      depth += 1
      level = stride(from: 0, to: level.count, by: 2).map { i in
        let node = "\(name)_l\(depth)_\(i / 2)"
        guard i + 1 < level.count else { return level[i] }
        let parent = operation.combine(self, node, level[i], level[i + 1])
        return zip(operation.fields, parent).map { field, value in
          wire(field.isEmpty ? node : "\(node)_\(field)", value, file: file, line: line)
        }
      }
      if let k, depth % k == 0 {
        level = treeStage(name, depth: depth, level, operation.fields, enable: enable, file: file, line: line)
      }
    }
    return level[0]
  }

  /// A single-field tree (a sum, a maximum): the root.
  public func reductionTree(
    _ name: String, _ leaves: [Expr], _ operation: ReductionTree.Operation, registerEvery k: Int? = nil,
    enable: Expr? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> Expr {
    precondition(operation.fields.count == 1)
    return reductionTree(
      name, leaves.map { [$0] }, operation, registerEvery: k, enable: enable, file: file, line: line)[0]
  }

  /// Every node of one level registered: `<node>_q` loads the node when
  /// `enable` is high (every cycle without one).
  private func treeStage(
    _ name: String, depth: Int, _ level: [[Expr]], _ fields: [String], enable: Expr?, file: StaticString, line: UInt
  ) -> [[Expr]] {
    var loads: [(next: Expr, value: Expr)] = []
    let registered = level.enumerated().map { i, values in
      zip(fields, values).map { field, value in
        let node = "\(name)_l\(depth)_\(i)"
        let r = register(
          field.isEmpty ? node : "\(node)_\(field)", value.type, reset: .none, holds: enable != nil,
          file: file, line: line)
        loads.append((r.next, value))
        return r.state
      }
    }
    if let enable {
      comb(file: file, line: line) {
        If(enable, file: file, line: line) {
          for load in loads { Assign(load.next, load.value, file: file, line: line) }
        }
      }
    } else {
      for load in loads { assign(load.next, load.value, file: file, line: line) }
    }
    return registered
  }
}
