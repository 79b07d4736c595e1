import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import HWVerilator

/// A self-checking SystemVerilog testbench for the ternary core, for simulators
/// other than Verilator (Icarus Verilog).
///
/// Everything the bench needs comes from the golden model and lives in
/// `$readmemh` files next to it: the weight and activation beats, the `last`
/// flags, the expected result beats, and a seeded valid/ready pattern. The
/// bench streams the beats (a source presents a beat when the pattern allows
/// and holds it until it is taken), compares every result beat with the
/// expected one, writes what it received to `received.hex`, and ends with one
/// line: `hwgen-tb: PASS ...` and `$finish`, or `hwgen-tb: FAIL ...` and `$fatal`.
///
/// The text is a template: this is test infrastructure, not a generated
/// design. Every memory is a power of two deep (files padded with zeros), so
/// each index has exactly the array's address width and the bench is clean
/// under `verilator --lint-only -Wall`.
public struct IcarusTestbench: Sendable {
  public static let topModule = "hwgen_tb"
  public static let fileName = "hwgen_tb.sv"
  /// Cycles in the repeating valid/ready pattern.
  public static let patternPeriod = 256
  /// The bench's last line starts with this.
  public static let marker = "hwgen-tb:"

  public let config: TernaryCoreConfig
  public let beats: Int
  public let results: Int
  public let cycleLimit: Int
  /// `fileName` and the memory files, ready to write into one directory.
  public let files: [(name: String, contents: String)]

  /// One bit per stream and cycle: may the weight source present a beat, may
  /// the activation source, is the result sink ready.
  public struct Pattern: Sendable, Equatable {
    public var weightValid: [Bool]
    public var activationValid: [Bool]
    public var resultReady: [Bool]

    /// Each bit set with the probability `stalls` gives its stream.
    public init(stalls: StreamStalls, seed: UInt64) {
      var rng = SeededRandom(seed: seed).fork(0x1CA2)
      func draw(_ p: Double) -> [Bool] {
        (0..<IcarusTestbench.patternPeriod).map { _ in p >= 1 || Double(rng.next() >> 11) / Double(1 << 53) < p }
      }
      weightValid = draw(stalls.weightValid)
      activationValid = draw(stalls.activationValid)
      resultReady = draw(stalls.resultReady)
      // A sink that is never ready would hang the bench: keep one ready cycle per period.
      if !resultReady.contains(true) { resultReady[0] = true }
      if !weightValid.contains(true) { weightValid[0] = true }
      if !activationValid.contains(true) { activationValid[0] = true }
    }
  }

  public init(config: TernaryCoreConfig, jobs: [TernaryCoreJob], pattern: Pattern) throws {
    self.config = config
    let layout = TernaryCoreLayout(config)
    let streams = TernaryCoreStreams(jobs, layout: layout)
    beats = streams.lastFlags.count
    results = streams.groupsPerJob.reduce(0, +)
    // A correct core takes about one cycle per beat; stalls slow it by a small factor.
    cycleLimit = 1000 + 40 * (beats + results)

    // Expected result beats: each job's golden vector, padded rows read as zero.
    var expected: [UInt32] = []
    for job in jobs {
      let golden = try TernaryMatVec.multiply(job.matrix, job.activations, accumulatorWidth: config.accumulatorWidth)
      let groups = layout.rowGroups(rows: job.matrix.rows)
      for g in 0..<groups {
        let lanes = (0..<config.lanes).map { lane in
          let row = g * config.lanes + lane
          return row < golden.count ? golden[row] : 0
        }
        expected += Self.packResult(lanes, width: config.accumulatorWidth, words: layout.resultWordsPerBeat)
      }
    }

    let beatDepth = Self.depth(beats)
    let resultDepth = Self.depth(results)
    let patternWords = (0..<Self.patternPeriod).map { cycle -> UInt32 in
      (pattern.weightValid[cycle] ? 1 : 0) | (pattern.activationValid[cycle] ? 2 : 0) | (pattern.resultReady[cycle] ? 4 : 0)
    }
    files = [
      (Self.fileName, Self.text(config: config, beats: beats, results: results, cycleLimit: cycleLimit)),
      ("weights.hex", Self.hex(streams.weightBeats, bits: config.weightBeatBits, words: layout.weightWordsPerBeat, depth: beatDepth)),
      ("acts.hex", Self.hex(streams.activationBeats, bits: config.activationBeatBits, words: layout.activationWordsPerBeat, depth: beatDepth)),
      ("last.hex", Self.hex(streams.lastFlags.map { $0 ? 1 : 0 }, bits: 1, words: 1, depth: beatDepth)),
      ("expected.hex", Self.hex(expected, bits: config.resultBeatBits, words: layout.resultWordsPerBeat, depth: resultDepth)),
      ("pattern.hex", Self.hex(patternWords, bits: 3, words: 1, depth: Self.patternPeriod)),
    ]
  }

  /// The received result beats in `received.hex`, decoded into one vector per
  /// job (padded rows dropped), like `TernaryCoreRun.outputs`.
  public static func decodeReceived(
    _ text: String, config: TernaryCoreConfig, rowsPerJob: [Int]
  ) throws -> [[Int64]] {
    let layout = TernaryCoreLayout(config)
    let expectedBeats = rowsPerJob.reduce(0) { $0 + layout.rowGroups(rows: $1) }
    // Entries past the last result were never written (x): only the first ones count.
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.hasPrefix("//") && !$0.hasPrefix("@") }
      .prefix(expectedBeats)
    var beats: [[Int64]] = []
    for line in lines {
      var words = [UInt32](repeating: 0, count: layout.resultWordsPerBeat)
      for (i, digit) in line.reversed().enumerated() {
        guard let nibble = digit.hexDigitValue else {
          throw TestbenchError("received.hex: result beat \(beats.count) is not a number: \(line.prefix(40))")
        }
        guard i / 8 < words.count else { continue }
        words[i / 8] |= UInt32(nibble) << UInt32(4 * (i % 8))
      }
      beats.append(words.withUnsafeBufferPointer { layout.decodeResult($0) })
    }
    var outputs: [[Int64]] = []
    var next = 0
    for rows in rowsPerJob {
      var vector: [Int64] = []
      for _ in 0..<layout.rowGroups(rows: rows) where next < beats.count {
        vector += beats[next]
        next += 1
      }
      outputs.append(Array(vector.prefix(rows)))
    }
    return outputs
  }

  // MARK: - Files

  /// Smallest power of two above `count` (so an index can also count to `count`), at least 2.
  static func depth(_ count: Int) -> Int {
    var depth = 2
    while depth <= count { depth *= 2 }
    return depth
  }

  static func addressBits(_ depth: Int) -> Int { depth.trailingZeroBitCount }

  static func packResult(_ values: [Int64], width: Int, words: Int) -> [UInt32] {
    var out = [UInt32](repeating: 0, count: words)
    for (lane, value) in values.enumerated() {
      let bits = UInt64(bitPattern: value)
      for b in 0..<width where (bits >> UInt64(b)) & 1 == 1 {
        let bit = lane * width + b
        out[bit / 32] |= 1 << UInt32(bit % 32)
      }
    }
    return out
  }

  /// One hex number per line, `bits` wide, most significant digit first; padded with zeros to `depth` lines.
  static func hex(_ words: [UInt32], bits: Int, words perBeat: Int, depth: Int) -> String {
    let digits = (bits + 3) / 4
    let count = words.count / perBeat
    var text = ""
    text.reserveCapacity((digits + 1) * depth)
    let hexDigits = Array("0123456789abcdef")
    for beat in 0..<depth {
      var line = ""
      for d in stride(from: digits - 1, through: 0, by: -1) {
        let nibble = beat < count ? (words[beat * perBeat + d / 8] >> UInt32(4 * (d % 8))) & 0xF : 0
        line.append(hexDigits[Int(nibble)])
      }
      text += line + "\n"
    }
    return text
  }

  /// The bench's SystemVerilog.
  static func text(config: TernaryCoreConfig, beats: Int, results: Int, cycleLimit: Int) -> String {
    let beatDepth = depth(beats), resultDepth = depth(results)
    let b = addressBits(beatDepth), r = addressBits(resultDepth), p = addressBits(patternPeriod)
    let wBits = config.weightBeatBits, aBits = config.activationBeatBits, resBits = config.resultBeatBits
    return """
      // Self-checking testbench written by hwgen regress for ternary_core
      // (\(config)). Stimulus, expected results and the valid/ready pattern
      // come from the golden model in $readmemh files; test infrastructure, not a design.
      module hwgen_tb;
        logic              clk;
        logic              rst_n;
        logic [\(wBits - 1):0] weights [0:\(beatDepth - 1)];
        logic [\(aBits - 1):0] acts [0:\(beatDepth - 1)];
        logic              last [0:\(beatDepth - 1)];
        logic [\(resBits - 1):0] expected [0:\(resultDepth - 1)];
        logic [\(resBits - 1):0] received [0:\(resultDepth - 1)];
        logic [2:0]        pattern [0:\(patternPeriod - 1)];  // {result ready, activation valid, weight valid}

        logic [\(b - 1):0]  w_idx, a_idx;
        logic [\(r - 1):0]  r_idx;
        logic [31:0]       cycle, mismatches;
        logic              w_valid, a_valid, res_ready;
        logic              w_ready, a_ready, res_valid;
        logic [\(resBits - 1):0] res_data;
        logic              w_fire, a_fire, r_fire;
        logic [\(b - 1):0]  w_next, a_next;
        logic [2:0]        gate;

        ternary_core u_dut (
          .clk_i      (clk),
          .rst_ni     (rst_n),
          .w_valid_i  (w_valid),
          .w_ready_o  (w_ready),
          .w_data_i   (weights[w_idx]),
          .w_last_i   (last[w_idx]),
          .a_valid_i  (a_valid),
          .a_ready_o  (a_ready),
          .a_data_i   (acts[a_idx]),
          .res_valid_o(res_valid),
          .res_ready_i(res_ready),
          .res_data_o (res_data)
        );

        initial begin
          $readmemh("weights.hex", weights);
          $readmemh("acts.hex", acts);
          $readmemh("last.hex", last);
          $readmemh("expected.hex", expected);
          $readmemh("pattern.hex", pattern);
          rst_n = 1'b0;
          repeat (2) @(negedge clk);
          rst_n = 1'b1;
        end

        initial begin
          clk = 1'b0;
          forever #5 clk = ~clk;
        end

        assign w_fire = w_valid && w_ready;
        assign a_fire = a_valid && a_ready;
        assign r_fire = res_valid && res_ready;
        assign w_next = w_fire ? w_idx + \(b)'d1 : w_idx;
        assign a_next = a_fire ? a_idx + \(b)'d1 : a_idx;
        assign gate = pattern[cycle[\(p - 1):0]];

        // A source holds a presented beat until it is taken, then presents the
        // next one when the pattern allows; the sink is ready when it says so.
        always_ff @(posedge clk or negedge rst_n) begin
          if (!rst_n) begin
            w_idx <= '0;
            a_idx <= '0;
            r_idx <= '0;
            cycle <= '0;
            mismatches <= '0;
            w_valid <= 1'b0;
            a_valid <= 1'b0;
            res_ready <= 1'b0;
          end else begin
            cycle <= cycle + 32'd1;
            w_idx <= w_next;
            a_idx <= a_next;
            w_valid <= (w_valid && !w_fire) || (w_next < \(b)'d\(beats) && gate[0]);
            a_valid <= (a_valid && !a_fire) || (a_next < \(b)'d\(beats) && gate[1]);
            res_ready <= gate[2];
            if (w_fire != a_fire) begin
              $display("\(marker) FAIL cycle %0d: the core took a %s beat without its partner", cycle, w_fire ? "weight" : "activation");
              $fatal(1, "stream join violated");
            end
            if (r_fire) begin
              received[r_idx] <= res_data;
              r_idx <= r_idx + \(r)'d1;
              if (res_data !== expected[r_idx]) begin
                mismatches <= mismatches + 32'd1;
                if (mismatches < 32'd5) begin
                  $display("mismatch: result beat %0d: got %h, expected %h", r_idx, res_data, expected[r_idx]);
                end
              end
            end
            if (cycle == 32'd\(cycleLimit)) begin
              $display("\(marker) FAIL no progress: %0d of \(results) results after %0d cycles", r_idx, cycle);
              $fatal(1, "timeout");
            end
          end
        end

        // Every result is in: report and end.
        always_ff @(posedge clk) begin
          if (r_idx == \(r)'d\(results)) begin
            $writememh("received.hex", received);
            if (mismatches == 32'd0) begin
              $display("\(marker) PASS %0d results, 0 mismatches, %0d cycles", r_idx, cycle);
              $finish;
            end else begin
              $display("\(marker) FAIL %0d results, %0d mismatches, %0d cycles", r_idx, mismatches, cycle);
              $fatal(1, "results differ from the golden model");
            end
          end
        end
      endmodule

      """
  }
}
