// hw_runtime.cpp: one of Verilator's runtime sources (verilated.cpp, verilated_vcd_c.cpp,
// ...), named by HW_RUNTIME_SOURCE on the command line, with its console output routed
// through the shim: hw_vl_printf (hw_shim.cpp) echoes to stdout and keeps the first
// "%Error" line as the message a stopped model reports.
//
// The runtime objects are compiled once per toolchain and flags and shared by every
// design, so nothing here may depend on a design.

#include <cstdio>

void hw_vl_printf(const char* format, ...);

#define VL_PRINTF hw_vl_printf

#ifndef HW_RUNTIME_SOURCE
#error "compile with -DHW_RUNTIME_SOURCE='\"verilated.cpp\"'"
#endif
#include HW_RUNTIME_SOURCE
