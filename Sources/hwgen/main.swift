import HWGenCLI

HWGen.main()
