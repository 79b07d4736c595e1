// Self-checking testbench for ternary_core, run by hwgen regress under Icarus Verilog
// (iverilog -g2012). Test infrastructure, not a design.
//
// Stimulus, expected results and a seeded valid/ready pattern come from the golden model
// in $readmemh files next to this bench (IcarusTestbench writes them and sets the
// parameters with iverilog -P): the weight and activation beats, their `last` flags, the
// expected result beats, and one pattern entry per cycle. A source presents a beat when
// the pattern allows and holds it until it is taken; the sink is ready when the pattern
// says so. Every result beat is compared with the expected one and written to
// received.hex. The last line is "hwgen-tb: PASS ..." and $finish, or "hwgen-tb: FAIL ..."
// and $fatal.
//
// Every memory is a power of two deep (the files are padded with zeros), so each index
// has exactly its array's address width and the bench is clean under
// `verilator --lint-only -Wall`.
module hwgen_tb #(
  parameter int WeightBits  = 8,     // w_data_i width
  parameter int ActBits     = 8,     // a_data_i width
  parameter int ResultBits  = 32,    // res_data_o width
  parameter int BeatDepth   = 2,     // weights/acts/last entries, a power of two > Beats
  parameter int ResultDepth = 2,     // expected entries, a power of two > Results
  parameter int Beats       = 1,     // weight (and activation) beats to stream
  parameter int Results     = 1,     // result beats to expect
  parameter int CycleLimit  = 1000   // cycles after reset before giving up
);
  localparam int PatternDepth = 256;
  localparam int BeatIdxBits = $clog2(BeatDepth);
  localparam int ResultIdxBits = $clog2(ResultDepth);
  localparam int PatternIdxBits = $clog2(PatternDepth);
  localparam logic [BeatIdxBits-1:0] BeatCount = Beats[BeatIdxBits-1:0];
  localparam logic [BeatIdxBits-1:0] BeatStep = 1;
  localparam logic [ResultIdxBits-1:0] ResultCount = Results[ResultIdxBits-1:0];
  localparam logic [ResultIdxBits-1:0] ResultStep = 1;
  localparam logic [31:0] CycleCount = CycleLimit;

  logic                  clk;
  logic                  rst_n;
  logic [WeightBits-1:0] weights [BeatDepth];
  logic [ActBits-1:0]    acts [BeatDepth];
  logic                  last [BeatDepth];
  logic [ResultBits-1:0] expected [ResultDepth];
  logic [ResultBits-1:0] received [ResultDepth];
  logic [2:0]            pattern [PatternDepth];  // {result ready, activation valid, weight valid}

  logic [BeatIdxBits-1:0]   w_idx, a_idx;
  logic [ResultIdxBits-1:0] r_idx;
  logic [31:0]              cycle, mismatches;
  logic                     w_valid, a_valid, res_ready;
  logic                     w_ready, a_ready, res_valid;
  logic [ResultBits-1:0]    res_data;
  logic                     w_fire, a_fire, r_fire;
  logic [BeatIdxBits-1:0]   w_next, a_next;
  logic [2:0]               gate;

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
  assign w_next = w_fire ? w_idx + BeatStep : w_idx;
  assign a_next = a_fire ? a_idx + BeatStep : a_idx;
  assign gate = pattern[cycle[PatternIdxBits-1:0]];

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
      w_valid <= (w_valid && !w_fire) || (w_next < BeatCount && gate[0]);
      a_valid <= (a_valid && !a_fire) || (a_next < BeatCount && gate[1]);
      res_ready <= gate[2];
      if (w_fire != a_fire) begin
        $display("hwgen-tb: FAIL cycle %0d: the core took a %s beat without its partner", cycle,
                 w_fire ? "weight" : "activation");
        $fatal(1, "stream join violated");
      end
      if (r_fire) begin
        received[r_idx] <= res_data;
        r_idx <= r_idx + ResultStep;
        if (res_data !== expected[r_idx]) begin
          mismatches <= mismatches + 32'd1;
          if (mismatches < 32'd5) begin
            $display("mismatch: result beat %0d: got %h, expected %h", r_idx, res_data, expected[r_idx]);
          end
        end
      end
      if (cycle == CycleCount) begin
        $display("hwgen-tb: FAIL no progress: %0d of %0d results after %0d cycles", r_idx, Results, cycle);
        $fatal(1, "timeout");
      end
    end
  end

  // Every result is in: report and end.
  always_ff @(posedge clk) begin
    if (r_idx == ResultCount) begin
      $writememh("received.hex", received);
      if (mismatches == 32'd0) begin
        $display("hwgen-tb: PASS %0d results, 0 mismatches, %0d cycles", r_idx, cycle);
        $finish;
      end else begin
        $display("hwgen-tb: FAIL %0d results, %0d mismatches, %0d cycles", r_idx, mismatches, cycle);
        $fatal(1, "results differ from the golden model");
      end
    end
  end
endmodule
