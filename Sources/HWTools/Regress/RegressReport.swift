import HWSim
/// The deterministic parts of a regression's results: per-target summary rows
/// and JUnit XML. Neither contains a timing, a date or a host name, so two runs
/// of the same matrix give byte-identical reports.
public struct RegressReport: Sendable {
  public let outcomes: [RegressOutcome]

  /// Outcomes sorted by target (matrix order), simulator, then seed.
  public init(_ outcomes: [RegressOutcome], targets: [RegressTarget]) {
    func rank(_ o: RegressOutcome) -> (Int, Int, UInt64) {
      (targets.firstIndex(of: o.regressCase.target) ?? Int.max,
       RegressSimulator.allCases.firstIndex(of: o.regressCase.simulator)!,
       o.regressCase.seed)
    }
    self.outcomes = outcomes.sorted { rank($0) < rank($1) }
  }

  public var failures: [RegressOutcome] { outcomes.filter(\.failed) }
  public var passedCount: Int { outcomes.filter(\.passed).count }
  public var skippedCount: Int { outcomes.filter(\.skipped).count }

  /// One row per target and simulator: unit, config, simulator, seeds, passed,
  /// failed, skipped, outputs checked, simulated cycles.
  public var summaryRows: [[String]] {
    var rows: [[String]] = []
    var index = 0
    while index < outcomes.count {
      let first = outcomes[index].regressCase
      var end = index
      while end < outcomes.count, outcomes[end].regressCase.target == first.target,
        outcomes[end].regressCase.simulator == first.simulator
      { end += 1 }
      let group = outcomes[index..<end]
      rows.append([
        first.target.unit, first.target.spec, first.simulator.rawValue, String(group.count),
        String(group.filter(\.passed).count), String(group.filter(\.failed).count),
        String(group.filter(\.skipped).count), String(group.reduce(0) { $0 + $1.checked }),
        String(group.reduce(0) { $0 + $1.cycles }),
      ])
      index = end
    }
    return rows
  }

  public static let summaryHeader = ["unit", "config", "simulator", "seeds", "passed", "failed", "skipped", "outputs checked", "cycles"]

  /// JUnit XML: one `testsuite` per target, one `testcase` per seed and
  /// simulator; a failure carries the message and the command that reproduces it.
  public var junit: String {
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    xml += "<testsuites name=\"hwgen regress\" tests=\"\(outcomes.count)\" failures=\"\(failures.count)\" errors=\"0\" skipped=\"\(skippedCount)\">\n"
    var index = 0
    while index < outcomes.count {
      let target = outcomes[index].regressCase.target
      var end = index
      while end < outcomes.count, outcomes[end].regressCase.target == target { end += 1 }
      let group = outcomes[index..<end]
      let className = "\(target.unit).\(target.spec)"
      xml += "  <testsuite name=\"\(Self.escape(className))\" tests=\"\(group.count)\" failures=\"\(group.filter(\.failed).count)\" errors=\"0\" skipped=\"\(group.filter(\.skipped).count)\">\n"
      for outcome in group {
        let c = outcome.regressCase
        let open = "    <testcase classname=\"\(Self.escape(className))\" name=\"seed \(c.seed) \(c.simulator.rawValue)\""
        switch outcome.status {
        case .passed:
          xml += open + "/>\n"
        case .skipped(let reason):
          xml += open + ">\n      <skipped message=\"\(Self.escape(reason))\"/>\n    </testcase>\n"
        case .failed(let message):
          xml += open + ">\n      <failure message=\"\(Self.escape(message))\">\(Self.escape(message))\nreproduce: \(Self.escape(c.command))</failure>\n    </testcase>\n"
        }
      }
      xml += "  </testsuite>\n"
      index = end
    }
    xml += "</testsuites>\n"
    return xml
  }

  /// XML attribute and text escaping; control characters (invalid in XML 1.0) become spaces.
  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\n": out += "&#10;"
      case "\t": out += "&#9;"
      default:
        if scalar.value < 0x20 { out += " " } else { out.unicodeScalars.append(scalar) }
      }
    }
    return out
  }
}
