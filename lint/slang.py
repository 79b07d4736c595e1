#!/usr/bin/env python3
"""slang's command line through pyslang (the pip package ships no `slang`
binary): `python3 lint/slang.py -Weverything --top TOP FILES...`. Prints
slang's diagnostics and exits non-zero on any error."""
import shlex
import sys

import pyslang

driver = pyslang.driver.Driver()
driver.addStandardArgs()
driver.setTerminalColorsEnabled(False)
command = shlex.join(["slang"] + sys.argv[1:])
if not driver.parseCommandLine(command, pyslang.driver.CommandLineOptions()) or not driver.processOptions():
    sys.exit(2)
if not driver.parseAllSources():
    sys.exit(1)
sys.exit(0 if driver.runFullCompilation(quiet=False) else 1)
