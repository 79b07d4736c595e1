/// Text that may break across lines, laid out by Wadler's "prettier printer"
/// algorithm: a group prints flat when it fits in what is left of the line,
/// otherwise its breaks become newlines at the group's nesting. A group whose
/// breaks follow it in the rest of the line counts as breakable there, so a
/// list whose separators are each a group of their own fills lines greedily.
indirect enum Doc {
  case text(String)
  /// `flat` when the enclosing group fits; a newline at the nesting otherwise.
  case line(String)
  case nest(Int, [Doc])
  case group([Doc])
  case seq([Doc])

  static let space = Doc.line(" ")

  /// `items` separated by `separator` (e.g. ","), breaking after a separator
  /// only where the next item does not fit on the line.
  static func fill(_ items: [Doc], separator: String) -> Doc {
    var docs: [Doc] = []
    for (i, item) in items.enumerated() {
      let last = i == items.count - 1
      let body: [Doc] = last ? [item] : [item, .text(separator)]
      docs.append(i == 0 ? .seq(body) : .group([.space] + body))
    }
    return .seq(docs)
  }

  /// Prints the document starting at column `indent` (the caller has written
  /// the indentation) within `width` columns.
  func render(indent: Int, width: Int) -> String {
    var out = ""
    var column = indent
    var stack: [(indent: Int, flat: Bool, doc: Doc)] = [(indent, false, self)]
    while let (i, flat, doc) = stack.popLast() {
      switch doc {
      case .text(let s):
        out += s
        column += s.count
      case .line(let s):
        if flat {
          out += s
          column += s.count
        } else {
          out += "\n" + String(repeating: " ", count: i)
          column = i
        }
      case .nest(let k, let docs):
        for d in docs.reversed() { stack.append((i + k, flat, d)) }
      case .seq(let docs):
        for d in docs.reversed() { stack.append((i, flat, d)) }
      case .group(let docs):
        let flatHere = flat || Doc.fits(width - column, docs, rest: stack)
        for d in docs.reversed() { stack.append((i, flatHere, d)) }
      }
    }
    return out
  }

  /// Whether `docs` printed flat, and the rest up to its next possible break, take at most `width` columns.
  private static func fits(_ width: Int, _ docs: [Doc], rest: [(indent: Int, flat: Bool, doc: Doc)]) -> Bool {
    var remaining = width
    var work: [(flat: Bool, doc: Doc)] = docs.reversed().map { (true, $0) }
    var restIndex = rest.count
    while remaining >= 0 {
      guard let (flat, doc) = work.popLast() else {
        if restIndex == 0 { return true }
        restIndex -= 1
        work.append((rest[restIndex].flat, rest[restIndex].doc))
        continue
      }
      switch doc {
      case .text(let s): remaining -= s.count
      case .line(let s):
        if !flat { return true }
        remaining -= s.count
      case .nest(_, let ds), .seq(let ds), .group(let ds):
        // A group not yet laid out can break at its first line.
        for d in ds.reversed() { work.append((flat, d)) }
      }
    }
    return false
  }
}
