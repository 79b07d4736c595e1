// hw_shim.h: the C interface of a Verilated hwgen model.
//
// Swift cannot import Verilator's C++ classes, so every model library (libmodel.so) exports
// these plain C functions, and HWVerilator's VerilatedModel finds them with dlsym. The
// Swift declarations (ShimSymbols in VerilatedModel.swift) must match this file; a change
// to any signature bumps HW_SHIM_ABI_VERSION here and VerilatorShim.abiVersion in Swift
// (the build refuses to compile when the two differ).
//
// A model handle comes from hw_create and goes back to hw_destroy. One handle is used by
// one thread at a time; several handles (each with its own VerilatedContext) may live in
// one process.

#ifndef HW_SHIM_H_
#define HW_SHIM_H_

#include <stdint.h>

#define HW_SHIM_ABI_VERSION 5

// What hw_create, hw_eval and hw_step return, and hw_status reports. The first non-zero
// status is sticky: once a model has stopped, every later call returns the same status.
enum HwStatus {
  // The model can go on.
  HW_RUNNING = 0,
  // The design stopped: $stop, $fatal, $error, or a failed immediate or concurrent
  // assertion (Verilator 5.006 compiles all of them to VL_STOP_MT).
  HW_STOPPED = 1,
  // The design called $finish.
  HW_FINISHED = 2,
  // Verilator's runtime called vl_fatal, or C++ threw; the model is unusable.
  HW_FATAL = 3,
};

#ifdef __cplusplus
extern "C" {
#endif

// --- The library --------------------------------------------------------------------------

// HW_SHIM_ABI_VERSION of the shim the library was built from.
int hw_abi_version(void);
// The cache key the library was built for (a hex SHA-256).
const char* hw_cache_key(void);

// The port table, in the order of the build spec. Out-of-range indices give
// nullptr, 0 and 0.
int hw_port_count(void);
const char* hw_port_name(int port);
int hw_port_width(int port);
int hw_port_is_output(int port);

// --- A model ------------------------------------------------------------------------------

// Creates a model and runs its initial blocks; with a non-empty trace_path (and a library
// built with tracing) also opens the waveform there. Returns nullptr only when out of
// memory; check hw_status before using the model.
void* hw_create(const char* trace_path);
// Runs final blocks, flushes and closes the trace, frees the model. Accepts nullptr.
void hw_destroy(void* model);

int hw_status(const void* model);
// Why the model stopped ("file:line: message"); empty while it runs.
const char* hw_error_message(const void* model);
// Rising clock edges applied so far.
uint64_t hw_cycles(const void* model);

// Settles combinational logic without a clock edge.
int hw_eval(void* model);
// Runs n clock cycles; the clock is low between calls. Each cycle: time + 1, clock high,
// eval, time + 1, clock low, eval. Returns at the first edge where the design stops.
// Returns -1 for a design without a clock port.
int hw_step(void* model, uint64_t n);

// Port values are 32-bit words, least significant first. Setters keep the low `width`
// bits (missing words read as zero); hw_get writes exactly `count` words (zero-filled
// above the port's width). Each returns 0, or -1 for a bad port index (or an output
// given to a setter).
int hw_set(void* model, int port, const uint32_t* words, uint32_t count);
int hw_set64(void* model, int port, uint64_t value);
int hw_get(const void* model, int port, uint32_t* words, uint32_t count);
// The low 64 bits of a port; 0 for a bad index.
uint64_t hw_get64(const void* model, int port);

// --- An AXI4 read harness (axi_mem_slave.h) ----------------------------------------------
//
// Drives one model's AXI4 read port with a memory slave, its command stream and its data
// stream, cycle by cycle in C++: Swift configures it, runs N cycles or until an event, and
// reads the beats and counters afterwards. It owns the model's clock during hw_axi_run.

// What hw_axi_run returns.
enum HwAxiRun {
  // The cycle budget ran out.
  HW_AXI_CYCLES = 0,
  // Every command's last beat came out of the data stream.
  HW_AXI_DONE = 1,
  // The stop port read non-zero.
  HW_AXI_STOP_PORT = 2,
  // The model stopped (an assertion); hw_status and hw_error_message say why.
  HW_AXI_MODEL_STOPPED = 3,
  // The master broke an AXI rule the slave checks, or a port is missing; hw_axi_error.
  HW_AXI_VIOLATION = 4,
};

// A harness on `model`'s ports `<bus>arvalid_o`, ... (AXI), `<cmd>valid_i`, `<cmd>addr_i`,
// `<cmd>len_i`, ... and `<data>valid_o`, `<data>data_o`, `<data>last_o`, ...; nullptr only
// when out of memory. A missing port shows in hw_axi_error.
void* hw_axi_create(void* model, const char* bus_prefix, const char* cmd_prefix, const char* data_prefix);
void hw_axi_destroy(void* harness);
// The violation that stopped the last run, or a missing port; empty when there is none.
const char* hw_axi_error(const void* harness);
// Sets a slave option by name (latency, max_outstanding, bandwidth_num, bandwidth_den, seed,
// ar_stall_percent, r_gap_percent, rd_stall_percent, error_base, error_size, error_resp,
// never_answer, max_burst_beats, bad_id_beat, bad_last_beat); -1 for an unknown name.
int hw_axi_option(void* harness, const char* name, uint64_t value);
// The memory image: `count` bytes at byte address `base`; reads outside answer DECERR.
void hw_axi_load(void* harness, uint64_t base, const uint8_t* bytes, uint64_t count);
// Queues a command (byte address, byte length) for the command stream.
void hw_axi_command(void* harness, uint64_t address, uint64_t length);
// The index of a port by name, -1 if the model has none.
int hw_axi_port(const void* harness, const char* name);
// Runs up to `cycles` cycles, stopping early as HwAxiRun says; `stop_port` is an output
// index or -1.
int hw_axi_run(void* harness, uint64_t cycles, int stop_port);
// A counter by name (cycles, ar_handshakes, r_beats, data_beats, commands_done,
// max_accepted, first_data_cycle, last_data_cycle); UINT64_MAX for an unknown name.
uint64_t hw_axi_stat(const void* harness, const char* name);
int hw_axi_beat_bytes(const void* harness);
// Copies up to `capacity` beats of the data stream (hw_axi_beat_bytes each, least
// significant byte first) and their last bits; returns how many. Either pointer may be null.
uint64_t hw_axi_beats(const void* harness, uint8_t* data, uint8_t* lasts, uint64_t capacity);

// --- The off-chip memory model (offchip_memory.h) ----------------------------------------
//
// The DDR4/HBM model behind the accelerator's AXI4 read ports: `ports` weight ports and
// the vector port (port `ports`, reading port 0's bytes). The calls mirror the AXI
// handshakes: hw_mem_accepts_burst is ARREADY, hw_mem_accept_burst an AR handshake,
// hw_mem_beat_available RVALID, hw_mem_take_beat an R handshake, hw_mem_tick a clock.

// nullptr for an impossible configuration (no port, beats not whole 32-bit words, more
// lanes than a weight beat holds) or when out of memory. The timing is one DDR4-2400
// channel at an accelerator clock of 300 MHz until hw_mem_option sets it.
void* hw_mem_create(int ports, int port_beat_bytes, int vector_beat_bytes, uint64_t max_outstanding,
                    int lanes_per_port);
// Before the first tick, a field of the memory by name: channels, clock_mhz (the
// accelerator's), front_latency_ns, vector_port_shift, and each channel's organisation
// and JEDEC timing (dram_clock_mhz, burst_bytes, burst_cycles, bank_groups, banks_per_group, row_bytes; in
// tCK: cl, rcd, rp, ras, rtp, ccd_s, ccd_l, rrd_s, rrd_l, faw, refi, rfc). 0, or -1 for an
// unknown name or a value out of range.
int hw_mem_option(void* memory, const char* name, double value);
void hw_mem_destroy(void* memory);
// Weight port `port`'s bytes from address 0.
void hw_mem_load(void* memory, int port, const uint8_t* bytes, uint64_t count);
int hw_mem_accepts_burst(const void* memory, int port);
void hw_mem_accept_burst(void* memory, int port, uint64_t address, uint64_t beats);
int hw_mem_beat_available(const void* memory, int port);
// The oldest arrived beat's address (and RLAST in *last); only while a beat is available.
uint64_t hw_mem_next_beat(const void* memory, int port, int* last);
// The beat at `address` into `words`; 0 (and zero words) past the port's bytes.
int hw_mem_read_beat(const void* memory, int port, uint64_t address, uint32_t* words);
void hw_mem_take_beat(void* memory, int port, const uint32_t* words);
void hw_mem_tick(void* memory);
// A counter by name (cycles, busy_cycles, weight_bytes, vector_bytes, non_zero_weights,
// activates, refreshes); UINT64_MAX for an unknown name.
uint64_t hw_mem_stat(const void* memory, const char* name);

// --- The accelerator harness (accel_harness.h) --------------------------------------------
//
// Runs a Verilated mmfree_accel cycle by cycle in C++: every AXI4 read port answered from an
// hw_mem memory, a host driver on the AXI4-Lite control port (setup writes, the prompt,
// interrupt service: tokens, errors, DONE), checkpoint beats collected. It owns the
// model's clock while hw_accel_run runs; the memory must outlive it.

// What hw_accel_run returns: a mask of these, 0 when the cycle budget ran out. Every event
// returns before the cycle's clock edge (counters read now are that cycle's); the next run
// completes the edge.
enum HwAccelEvent {
  HW_ACCEL_CHECKPOINT = 1,  // a checkpoint's last beat; hw_accel_checkpoint has its words
  HW_ACCEL_TOKEN = 2,       // token_valid_o
  HW_ACCEL_ERROR = 4,       // the host read ERROR/ERROR_ADDR after an error interrupt
  HW_ACCEL_IDLE = 8,        // the host read DONE in IRQ_STATUS
  HW_ACCEL_VIOLATION = 16,  // an AXI rule broken or a port missing: hw_accel_error
  HW_ACCEL_STOPPED = 32,    // the model stopped: hw_status, hw_error_message
};

// nullptr only when out of memory; a missing port shows in hw_accel_error.
void* hw_accel_create(void* model, void* memory);
void hw_accel_destroy(void* harness);
const char* hw_accel_error(const void* harness);
// An option by name: faults (seed, ar_stall_percent, r_gap_percent, error_port, error_base,
// error_size, error_resp, silent_port; -1 for none) and the CSR map (reg_prompt, reg_token,
// reg_irq_status, reg_error, reg_error_addr_low, reg_error_addr_high, bit_irq_done,
// bit_irq_error, bit_irq_token, bit_token_valid); -1 for an unknown name.
int hw_accel_option(void* harness, const char* name, int64_t value);
// Queues a prompt token; the driver writes the queue into PROMPT.
void hw_accel_prompt(void* harness, uint64_t token);
// Queues a setup write on the control port (in order, after the prompt is written); a
// response other than OKAY ends the run with HW_ACCEL_VIOLATION.
void hw_accel_write(void* harness, uint64_t address, uint32_t data);
int hw_accel_run(void* harness, uint64_t cycles);
// A counter by name (cycles, held_addresses, held_beats, checkpoint_words, host_tokens,
// host_error: the ERROR register read, host_error_address); UINT64_MAX for an unknown name.
uint64_t hw_accel_stat(const void* harness, const char* name);
// Copies up to `capacity` of the tokens the host read from TOKEN; returns how many.
uint64_t hw_accel_host_tokens(const void* harness, uint64_t* tokens, uint64_t capacity);
// Copies up to `capacity` collected checkpoint words and forgets all of them; returns how
// many it copied.
uint64_t hw_accel_checkpoint(void* harness, uint32_t* words, uint64_t capacity);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HW_SHIM_H_
