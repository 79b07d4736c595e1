// axi_mem_slave.h: an AXI4 memory slave and the per-cycle harness around a Verilated
// AXI4 read master, in C++ next to the model (the extern "C" side is in hw_shim.h).
//
// The harness owns one model's clock for a run: each cycle it drives the slave's AR/R
// outputs, the command stream and the data stream's ready, settles the model, samples
// the master's outputs (the values at the coming edge), steps one edge, and then moves
// the handshakes that happened at it. Swift configures it once and runs N cycles or until
// an event; nothing crosses into Swift per cycle.
//
// What the slave models: a memory image at a base address (reads outside it answer
// DECERR), a fixed read latency from the AR handshake to a burst's first beat, a limit on
// accepted-but-unanswered bursts (ARREADY low at the limit), a bandwidth limit in beats per
// cycle (a token bucket, num/den beats per cycle), seeded random ARREADY backpressure and
// RVALID gaps, SLVERR or DECERR injected on an address range, and a mode that never
// answers (ARREADY stays low); one beat can carry a wrong RID or an inverted RLAST. Bursts are answered in order (one ID). Every AR handshake is
// checked: INCR, ARSIZE of the data width, ARLEN within the limit, aligned, no 4 KiB
// crossing; and the AR payload must hold while ARVALID waits. A violation stops the run.

#ifndef AXI_MEM_SLAVE_H_
#define AXI_MEM_SLAVE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "axi_rules.h"

namespace hw_axi {

// The slave's timing and fault settings; hw_axi_option sets them by name.
struct SlaveConfig {
  uint64_t latency = 10;           // cycles from the AR handshake to the first beat
  uint64_t maxOutstanding = 8;     // bursts accepted and not yet fully answered
  uint64_t bandwidthNum = 1;       // beats per cycle = num / den (at most 1)
  uint64_t bandwidthDen = 1;
  uint64_t seed = 1;
  uint64_t arStallPercent = 0;     // chance that ARREADY is low in a cycle
  uint64_t rGapPercent = 0;        // chance of no new beat in a cycle
  uint64_t rdStallPercent = 0;     // chance that the data stream's ready is low
  uint64_t errorBase = 0;          // [errorBase, errorBase + errorSize) answers errorResp
  uint64_t errorSize = 0;
  uint64_t errorResp = 2;          // 2 SLVERR, 3 DECERR
  uint64_t neverAnswer = 0;        // ARREADY never rises
  uint64_t maxBurstBeats = 256;    // the ARLEN + 1 the master may use
  uint64_t badIdBeat = 0;          // this beat of the run (1-based) carries a wrong RID
  uint64_t badLastBeat = 0;        // this beat of the run has RLAST inverted
};

// Counters of a run; hw_axi_stat reads them by name.
struct Stats {
  uint64_t cycles = 0;
  uint64_t arHandshakes = 0;
  uint64_t rBeats = 0;
  uint64_t dataBeats = 0;
  uint64_t commandsDone = 0;
  uint64_t maxAccepted = 0;        // most bursts accepted and unanswered at once
  uint64_t firstDataCycle = 0;     // cycle of the first data-stream beat (+1), 0: none
  uint64_t lastDataCycle = 0;
};

// One port of the model, found by name in the shim's port table.
struct Port {
  int index = -1;
  int width = 0;
  int words() const { return (width + 31) / 32; }
};

class ReadHarness {
 public:
  // The model's ports `bus` + "arvalid_o" ... (AXI), `cmd` + "valid_i" ... (commands) and
  // `data` + "valid_o" ... (the data stream). error() says what is missing, if anything.
  ReadHarness(void* model, const std::string& bus, const std::string& cmd, const std::string& data);

  const std::string& error() const { return error_; }
  SlaveConfig& config() { return config_; }
  const Stats& stats() const { return stats_; }

  void load(uint64_t base, const uint8_t* bytes, uint64_t count);
  void command(uint64_t address, uint64_t length);
  // Runs until `cycles` edges passed, every command's last beat came out, `stopPort`
  // (an output, -1 for none) reads non-zero, the model stopped, or a violation.
  int run(uint64_t cycles, int stopPort);
  int portIndex(const std::string& name) const;

  // The data stream's beats so far, `beatBytes()` each, and their `last` bits.
  const std::vector<uint8_t>& beats() const { return beats_; }
  const std::vector<uint8_t>& lasts() const { return lasts_; }
  int beatBytes() const { return beatBytes_; }

 private:
  struct Burst {
    uint64_t address;
    uint64_t beats;
    uint64_t id;
    uint64_t readyCycle;
    uint64_t sent = 0;
  };
  struct Command {
    uint64_t address;
    uint64_t length;
  };
  using ArSample = hw_axi_rules::ArSample;

  Port find(const std::string& name, bool output);
  bool percent(uint64_t chance);
  void drive();
  ArSample sampleAr() const;
  bool checkAr(const ArSample& ar);
  void moveR();
  void takeData();
  uint64_t beatResponse(uint64_t address) const;
  void beatData(uint64_t address, uint32_t* words) const;
  uint64_t get(const Port& port) const;
  void set(const Port& port, uint64_t value);

  void* model_;
  std::string error_;
  SlaveConfig config_;
  Stats stats_;
  hw_axi_rules::FaultDice dice_;
  int beatBytes_ = 0;

  Port arValid_, arReady_, arAddr_, arLen_, arSize_, arBurst_, arId_;
  Port rValid_, rReady_, rData_, rResp_, rLast_, rId_;
  Port cmdValid_, cmdReady_, cmdAddr_, cmdLen_;
  Port dValid_, dReady_, dData_, dLast_;

  std::vector<uint8_t> memory_;
  uint64_t memoryBase_ = 0;
  std::deque<Command> commands_;
  uint64_t commandsQueued_ = 0;
  std::deque<Burst> bursts_;
  // The slave's outputs in the current cycle.
  bool arReadyOut_ = false, rValidOut_ = false, dReadyOut_ = false, cmdValidOut_ = false;
  uint64_t credit_ = 0;
  ArSample heldAr_;  // ARVALID high and not accepted at the last edge
  std::vector<uint32_t> words_;
  std::vector<uint8_t> beats_;
  std::vector<uint8_t> lasts_;
};

}  // namespace hw_axi

#endif  // AXI_MEM_SLAVE_H_
