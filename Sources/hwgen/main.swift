import HWGenCLI

HWGen.installInterruptHandlers()
HWGen.main()
