// accel_tb.sv: mmfree_accel under Icarus Verilog, driven the way a host would.
//
// Memory: one AXI4 read slave per weight port and one for the vector port, answering from
// the memory image (mem.hex: every port's 32-bit words, port p from word p*PortWords). A
// slave takes up to four bursts, answers them in order after Latency cycles, one beat a
// cycle; the vector port reads the port its address names in bits VectorPortShift and up.
// Host: an AXI4-Lite master has the design read its program from the image (PROG_BASE,
// PROG_COUNT, CTRL.LOAD, then waits for DONE), writes the prompt (prompt.hex) into PROMPT,
// TOKENS, IRQ_ENABLE and CTRL.START, then serves the interrupt: IRQ_STATUS read and cleared,
// TOKEN drained into tokens.txt, ERROR read on an error. Every checkpoint beat goes into
// ckpt.txt as "tag last hexdata".
// The per-design parts (register offsets, widths, the port list) come from accel_tb_config.svh,
// which hwgen writes next to this file.
//
// Ends with one line: "hwgen-accel-tb: DONE cycles N tokens T", or "hwgen-accel-tb: FAIL why".

`timescale 1ns / 1ps

module accel_tb;
  `include "accel_tb_config.svh"

  localparam int Ports = MemoryPorts + 1;  // the weight ports, then the vector port
  localparam int MaxBits = PortBits > VectorBits ? PortBits : VectorBits;
  localparam logic [63:0] Latency = 64'd4;

  logic clk;
  logic rst_n = 1'b0;
  initial begin
    clk = 1'b0;
    forever #5 clk = ~clk;
  end

  // --- AXI4-Lite host port -------------------------------------------------------------
  logic [7:0]  awaddr = '0, araddr = '0;
  logic        awvalid = 1'b0, wvalid = 1'b0, bready = 1'b0, arvalid = 1'b0, rready = 1'b0;
  logic [31:0] wdata = '0;
  wire         awready, wready, bvalid, arready, rvalid, irq;
  wire  [1:0]  bresp, rresp;
  wire  [31:0] rdata;

  // --- AXI4 read ports: index MemoryPorts is the vector port -------------------------------
  wire  [35:0]        ar_addr  [Ports];
  wire  [7:0]         ar_len   [Ports];
  wire                ar_valid [Ports];
  wire                r_ready  [Ports];
  logic               ar_ready [Ports];
  logic [MaxBits-1:0] r_data   [Ports];
  logic [1:0]         r_resp   [Ports];
  logic               r_last   [Ports];
  logic               r_valid  [Ports];

  wire                ckpt_valid, ckpt_last;
  wire  [15:0]        ckpt_tag;
  wire  [CkptBits-1:0] ckpt_data;

  // Outputs the bench does not look at are left open.
  /* verilator lint_off PINCONNECTEMPTY */
  mmfree_accel u_dut (
    .clk_i            (clk),
    .rst_ni           (rst_n),
    .s_axil_awaddr_i  (awaddr),
    .s_axil_awvalid_i (awvalid),
    .s_axil_awready_o (awready),
    .s_axil_wdata_i   (wdata),
    .s_axil_wstrb_i   (4'hf),
    .s_axil_wvalid_i  (wvalid),
    .s_axil_wready_o  (wready),
    .s_axil_bresp_o   (bresp),
    .s_axil_bvalid_o  (bvalid),
    .s_axil_bready_i  (bready),
    .s_axil_araddr_i  (araddr),
    .s_axil_arvalid_i (arvalid),
    .s_axil_arready_o (arready),
    .s_axil_rdata_o   (rdata),
    .s_axil_rresp_o   (rresp),
    .s_axil_rvalid_o  (rvalid),
    .s_axil_rready_i  (rready),
    .irq_o            (irq),
    .token_valid_o    (),
    .token_o          (),
    `include "accel_tb_ports.svh"
    .ckpt_valid_o     (ckpt_valid),
    .ckpt_ready_i     (1'b1),
    .ckpt_data_o      (ckpt_data),
    .ckpt_last_o      (ckpt_last),
    .ckpt_tag_o       (ckpt_tag),
    .ckpt_active_o    (),
    .perf_sel_i       (5'd0),
    .perf_data_o      ()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // --- Memory ------------------------------------------------------------------------------
  logic [31:0] mem [MemoryPorts * PortWords];
  initial $readmemh("mem.hex", mem);

  // One slave per port: a queue of accepted bursts (address, beats, due cycle). Its outputs
  // are registers, set at each rising edge for the cycle that follows (a combinational read
  // of the whole memory array would make every word a sensitivity of the slave).
  longint unsigned cycle = 0;
  always @(posedge clk) cycle <= cycle + 1;

  for (genvar p = 0; p < Ports; p++) begin : g_slave
    localparam int Bits = p == MemoryPorts ? VectorBits : PortBits;
    localparam logic [63:0] BeatBytes = 64'(Bits) / 64'd8, BeatWords = 64'(Bits) / 64'd32;
    logic [63:0]     q_addr  [4];
    logic [8:0]      q_beats [4];
    longint unsigned q_due   [4];
    int              count = 0, head = 0, tail = 0, sent = 0;

    initial begin
      ar_ready[p] = 1'b1;
      r_valid[p] = 1'b0;
      r_last[p] = 1'b0;
      r_resp[p] = 2'd0;
      r_data[p] = '0;
    end

    // The slave's queue is the bench's own state, updated in order within the edge.
    /* verilator lint_off BLKSEQ */
    always @(posedge clk) begin : serve
      logic [63:0] address, local_address;
      logic [MaxBits-1:0] data;
      int owner;
      // The handshakes of the cycle that ends (the DUT's outputs before this edge).
      if (r_valid[p] && r_ready[p]) begin
        if (r_last[p]) begin
          head = (head + 1) % 4;
          count = count - 1;
          sent = 0;
        end else begin
          sent = sent + 1;
        end
      end
      if (ar_valid[p] && ar_ready[p]) begin
        q_addr[tail] = 64'(ar_addr[p]);
        q_beats[tail] = 9'(ar_len[p]) + 9'd1;
        q_due[tail] = cycle + Latency;
        tail = (tail + 1) % 4;
        count = count + 1;
      end
      // The next cycle's beat: the head burst's next one, from the port's words (or the ones
      // the vector port's address names); past the image, DECERR.
      address = q_addr[head] + 64'(sent) * BeatBytes;
      owner = p == MemoryPorts ? int'(address >> VectorPortShift) : p;
      local_address = p == MemoryPorts ? address & ((64'd1 << VectorPortShift) - 1) : address;
      data = '0;
      if (count != 0 && owner < MemoryPorts && local_address / 4 + BeatWords <= 64'(PortWords)) begin
        for (int i = 0; i < Bits / 32; i++) begin
          data[32 * i +: 32] = mem[owner * PortWords + int'(local_address / 4) + i];
        end
      end
      r_data[p] <= data;
      r_resp[p] <= count != 0 && (owner >= MemoryPorts || local_address / 4 + BeatWords > 64'(PortWords))
          ? 2'd3 : 2'd0;
      r_valid[p] <= count != 0 && q_due[head] <= cycle + 1;
      r_last[p] <= count != 0 && sent + 1 == int'(q_beats[head]);
      ar_ready[p] <= count < 4;
    end
    /* verilator lint_on BLKSEQ */
  end

  // --- Checkpoints -------------------------------------------------------------------------
  integer ckpt_file;
  initial ckpt_file = $fopen("ckpt.txt", "w");
  always @(posedge clk) begin
    if (ckpt_valid) $fdisplay(ckpt_file, "%0d %0d %h", ckpt_tag, ckpt_last, ckpt_data);
  end

  // --- Host --------------------------------------------------------------------------------
  // Inputs change at the falling edge; a handshake is seen just before the rising edge.
  task automatic lite_write(input logic [7:0] addr, input logic [31:0] data, output logic [1:0] resp);
    logic aw_done, w_done;
    @(negedge clk);
    awaddr = addr;
    wdata = data;
    awvalid = 1'b1;
    wvalid = 1'b1;
    aw_done = 1'b0;
    w_done = 1'b0;
    while (!(aw_done && w_done)) begin
      #1;
      if (awvalid && awready) aw_done = 1'b1;
      if (wvalid && wready) w_done = 1'b1;
      @(negedge clk);
      if (aw_done) awvalid = 1'b0;
      if (w_done) wvalid = 1'b0;
    end
    bready = 1'b1;
    #1;
    while (!bvalid) begin
      @(negedge clk);
      #1;
    end
    resp = bresp;
    @(negedge clk);
    bready = 1'b0;
  endtask

  task automatic lite_read(input logic [7:0] addr, output logic [31:0] data);
    @(negedge clk);
    araddr = addr;
    arvalid = 1'b1;
    #1;
    while (!arready) begin
      @(negedge clk);
      #1;
    end
    @(negedge clk);
    arvalid = 1'b0;
    rready = 1'b1;
    #1;
    while (!rvalid) begin
      @(negedge clk);
      #1;
    end
    data = rdata;
    if (rresp != 2'd0) begin
      $display("hwgen-accel-tb: FAIL register 0x%h read answered %0d", addr, rresp);
      $finish;
    end
    @(negedge clk);
    rready = 1'b0;
  endtask

  task automatic fail(input string why);
    $display("hwgen-accel-tb: FAIL %s (cycle %0d)", why, cycle);
    $fclose(ckpt_file);
    $finish;
  endtask

  // Waits for irq_o, reads IRQ_STATUS and clears what it read; an error interrupt ends the
  // bench with ERROR and ERROR_ADDR, naming what the host was waiting for.
  task automatic take_interrupt(input string during, output logic [31:0] status);
    logic [1:0] resp;
    logic [31:0] value, address_low, address_high;
    while (!irq) begin
      @(negedge clk);
      if (cycle > longint'(CycleLimit)) begin
        fail($sformatf("no interrupt within the cycle limit (%s)", during));
      end
    end
    lite_read(RegIrqStatus, status);
    lite_write(RegIrqStatus, status, resp);
    if (resp != 2'd0) fail("the IRQ_STATUS write answered an error");
    if (status[BitIrqError]) begin
      lite_read(RegError, value);
      lite_read(RegErrorAddrLow, address_low);
      lite_read(RegErrorAddrHigh, address_high);
      fail($sformatf("ERROR 0x%h at address 0x%h%h (%s)", value, address_high, address_low,
                     during));
    end
  endtask

  logic [31:0] prompt [PromptTokens];
  initial begin
    logic [1:0] resp;
    logic [31:0] status, value;
    integer token_file;
    int generated;
    bit done;
    $readmemh("prompt.hex", prompt);
    token_file = $fopen("tokens.txt", "w");
    repeat (4) @(negedge clk);
    rst_n = 1'b1;
    // The program: read by the design's own DMA from the image's program region.
    lite_write(RegIrqEnable, (32'd1 << BitIrqDone) | (32'd1 << BitIrqError), resp);
    lite_write(RegProgBaseLow, ProgramBase, resp);
    if (resp != 2'd0) fail("PROG_BASE_LO write answered an error");
    lite_write(RegProgBaseHigh, 32'd0, resp);
    lite_write(RegProgCount, ProgramInstructions, resp);
    if (resp != 2'd0) fail("PROG_COUNT write answered an error");
    lite_write(RegCtrl, 32'd1 << BitLoad, resp);
    if (resp != 2'd0) fail("CTRL.LOAD answered an error");
    take_interrupt("the program load", status);
    if (!status[BitIrqDone]) fail("the program load raised no DONE");
    for (int i = 0; i < PromptTokens; i++) begin
      lite_write(RegPrompt, prompt[i], resp);
      if (resp != 2'd0) fail("the prompt does not fit the PROMPT FIFO");
    end
    lite_write(RegTokens, Steps, resp);
    lite_write(RegIrqEnable, (32'd1 << BitIrqDone) | (32'd1 << BitIrqError) | (32'd1 << BitIrqToken), resp);
    lite_write(RegCtrl, 32'd1 << BitStart, resp);
    generated = 0;
    done = 1'b0;
    while (!done) begin
      take_interrupt($sformatf("token %0d", generated), status);
      if (status[BitIrqToken] || status[BitIrqDone]) begin
        lite_read(RegToken, value);
        while (value[BitTokenValid]) begin
          $fdisplay(token_file, "%0d", value[BitTokenValid-1:0]);  // the token and its stream
          generated++;
          lite_read(RegToken, value);
        end
      end
      done = status[BitIrqDone];
    end
    $fclose(token_file);
    $fclose(ckpt_file);
    $display("hwgen-accel-tb: DONE cycles %0d tokens %0d", cycle, generated);
    $finish;
  end
endmodule
