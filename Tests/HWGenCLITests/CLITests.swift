import Foundation
import HWSupport
import Testing

/// Runs the built `hwgen` executable, as a user would.
enum HWGenProcess {
  static var executable: String {
    // The test bundle sits next to the products in the build directory.
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("hwgen")
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue { return candidate.path }
      dir = dir.deletingLastPathComponent()
    }
    return "hwgen"
  }

  static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    try ProcessResult.run(executable, arguments, environment: environment)
  }
}

func temporaryDirectory() -> URL {
  ScratchDirectory.make("hwgen-cli")
}

@Suite struct CLITests {
  @Test func emitWritesSourcesFilelistAndManifest() throws {
    let dir = temporaryDirectory().appendingPathComponent("rtl")
    let result = try HWGenProcess.run(["emit", "--lanes", "4", "--lane-width", "8", "--out", dir.path])
    #expect(result.succeeded, "\(result.output)")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(names == [
      "hwgen.f", "manifest.json", "mlgru_lane.sv", "mlgru_sigmoid.sv", "mlgru_unit.sv", "norm_lane.sv", "norm_unit.sv",
      "rescale_lane.sv", "rescale_unit.sv", "ternary_core.sv", "ternary_lane.sv", "vector_unit.sv",
    ])
    let manifest = try String(contentsOf: dir.appendingPathComponent("manifest.json"), encoding: .utf8)
    #expect(manifest.contains("\"lanes\": 4,"))
    #expect(manifest.contains("\"laneWidth\": 8,"))
    let filelist = try String(contentsOf: dir.appendingPathComponent("hwgen.f"), encoding: .utf8)
    #expect(filelist.hasPrefix("ternary_lane.sv\nternary_core.sv\nnorm_lane.sv\n"))
    #expect(filelist.hasSuffix("mlgru_unit.sv\nvector_unit.sv\n"))
  }

  @Test func emitWritesTheAcceleratorTopForItsCoreShape() throws {
    let dir = temporaryDirectory().appendingPathComponent("rtl")
    let result = try HWGenProcess.run(["emit", "--lanes", "8", "--out", dir.path])
    #expect(result.succeeded, "\(result.output)")
    let filelist = try String(contentsOf: dir.appendingPathComponent("hwgen.f"), encoding: .utf8)
    #expect(
      filelist.hasSuffix(
        "stream_fifo.sv\naxi_read_master_vector.sv\naxi_read_master.sv\nmatvec_datapath.sv\nmmfree_csr.sv\nmmfree_accel.sv\n"),
      "\(filelist)")
    let manifest = try String(contentsOf: dir.appendingPathComponent("manifest.json"), encoding: .utf8)
    #expect(manifest.contains("\"top\": \"mmfree_accel\""))
    // A core the accelerator cannot use (24 lanes do not pack into 64-element words) gets the units only.
    let other = temporaryDirectory().appendingPathComponent("rtl")
    #expect(try HWGenProcess.run(["emit", "--lanes", "24", "--out", other.path]).succeeded)
    #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("mmfree_accel.sv").path))
  }

  @Test func simulateChecksEveryTokenAndReportsPower() throws {
    let dir = temporaryDirectory()
    let json = dir.appendingPathComponent("run.json"), report = dir.appendingPathComponent("report")
    let run = try HWGenProcess.run(["simulate", "--model", "tiny", "--tokens", "2", "--json", json.path, "--report", report.path])
    #expect(run.succeeded, "\(run.output)")
    for line in ["check: all 2304 compared elements", "power (ESTIMATE, d5005 at 300 MHz):", "energy (ESTIMATE):", "method: ESTIMATE"] {
      #expect(run.output.contains(line), "\(line) missing: \(run.output)")
    }
    let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(markdown.contains("**ESTIMATE**") && markdown.contains("![where the power goes](energy.svg)"))
    #expect(markdown.contains("## Performance (measured in the cycle-accurate simulation)"))
    let svg = try String(contentsOf: report.appendingPathComponent("energy.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("ESTIMATE"))
    let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
    let power = decoded?["power"] as? [String: Any]
    #expect((power?["totalWatts"] as? Double ?? 0) > 0, "\(String(describing: decoded?.keys))")
    #expect((decoded?["mismatches"] as? Int) == 0)
  }

  @Test func emitTwiceGivesIdenticalFiles() throws {
    let a = temporaryDirectory(), b = temporaryDirectory()
    #expect(try HWGenProcess.run(["emit", "--out", a.path]).succeeded)
    #expect(try HWGenProcess.run(["emit", "--out", b.path]).succeeded)
    for name in try FileManager.default.contentsOfDirectory(atPath: a.path) {
      #expect(FileManager.default.contentsEqual(atPath: a.appendingPathComponent(name).path, andPath: b.appendingPathComponent(name).path))
    }
  }

  static let badArguments: [([String], String)] = [
    (["emit", "--lanes", "0"], "lanes must be between 1 and 256, got 0"),
    (["emit", "--lanes", "-3"], "lanes"),
    (["emit", "--lanes", "sixteen"], "sixteen"),
    (["emit", "--lanes", "100000"], "lanes must be between 1 and 256"),
    (["emit", "--lanes", "256", "--lane-width", "1024"], "weights per cycle"),
    (["emit", "--lane-width", "0"], "lane width must be between 1 and 1024"),
    (["emit", "--frobnicate"], "frobnicate"),
    (["core", "--cols", "99999"], "cols must be between 1 and 11264"),
  ]

  @Test(arguments: badArguments)
  func badInputIsOneClearLineAndWritesNothing(arguments: [String], message: String) throws {
    let dir = temporaryDirectory().appendingPathComponent("out")
    let result = try HWGenProcess.run(arguments + (arguments[0] == "emit" ? ["--out", dir.path] : []))
    #expect(!result.succeeded)
    let errorLines = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
    #expect(errorLines.count == 1, "\(result.output)")
    #expect(result.output.contains(message), "\(result.output)")
    #expect(!FileManager.default.fileExists(atPath: dir.path))
  }

  @Test func unwritableOutputIsAnErrorAndLeavesNothing() throws {
    let parent = temporaryDirectory()
    let file = parent.appendingPathComponent("not-a-dir")
    try Data("x".utf8).write(to: file)
    let result = try HWGenProcess.run(["emit", "--out", file.appendingPathComponent("rtl").path])
    #expect(!result.succeeded)
    #expect(result.output.split(separator: "\n").count == 1, "\(result.output)")
    let readOnly = parent.appendingPathComponent("ro")
    try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly.path) }
    if getuid() != 0 {  // root ignores permission bits
      let ro = try HWGenProcess.run(["emit", "--out", readOnly.path])
      #expect(!ro.succeeded)
      #expect(try FileManager.default.contentsOfDirectory(atPath: readOnly.path).isEmpty)
    }
    // /proc refuses new entries even to root.
    let proc = try HWGenProcess.run(["emit", "--out", "/proc/hwgen-rtl"])
    #expect(!proc.succeeded)
    #expect(proc.output.split(separator: "\n").count == 1, "\(proc.output)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).sorted() == ["not-a-dir", "ro"])
  }

  @Test func missingVerilatorNamesTheDebianPackage() throws {
    let result = try HWGenProcess.run(["core", "--rows", "4", "--cols", "4", "--vectors", "1"], environment: ["PATH": "/nonexistent", "HWGEN_CACHE": temporaryDirectory().path])
    #expect(!result.succeeded)
    #expect(result.output.contains("apt-get install -y verilator"), "\(result.output)")
  }
}

@Suite struct SweepCLITests {
  @Test("sweep --write-jobs lists one command a point for GNU parallel and a Slurm array over them, the same bytes each time")
  func jobList() throws {
    let dir = temporaryDirectory().appendingPathComponent("sweep")
    let grid = ["sweep", "--model", "tiny", "--devices", "u250", "--lanes", "2,16", "--out", dir.path]
    let first = try HWGenProcess.run(grid + ["--write-jobs"])
    #expect(first.succeeded, "\(first.output)")
    let jobs = try String(contentsOf: dir.appendingPathComponent("jobs.txt"), encoding: .utf8)
    let lines = jobs.split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines.map { $0.split(separator: " ").last.map(String.init) ?? "" }
      == ["u250-2-planes-256", "u250-2-base3-256", "u250-16-planes-256", "u250-16-base3-256"])
    let slurm = try String(contentsOf: dir.appendingPathComponent("slurm.sh"), encoding: .utf8)
    #expect(slurm.contains("#SBATCH --array=0-3") && slurm.contains("SLURM_ARRAY_TASK_ID"))
    _ = try HWGenProcess.run(grid + ["--write-jobs"])
    #expect(try String(contentsOf: dir.appendingPathComponent("jobs.txt"), encoding: .utf8) == jobs)
  }

  @Test("a sweep of recorded designs runs each point bit-exact, resumes from its points and writes the same tables and plots again")
  func sweepRunsAndCollects() throws {
    let dir = temporaryDirectory().appendingPathComponent("sweep")
    // The default 16-lane design has recorded synthesis results for both flows: no Yosys run.
    let grid = ["sweep", "--model", "tiny", "--devices", "u250,d5005", "--lanes", "16", "--packing", "planes",
                "--layers", "0", "--out", dir.path]
    let run = try HWGenProcess.run(grid + ["--jobs", "2"])
    #expect(run.succeeded, "\(run.output)")
    #expect(run.output.contains("[2/2]"))
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(names == [
      "points", "sweep.csv", "sweep.json", "tiny-d5005-energy.svg", "tiny-d5005-throughput.svg", "tiny-u250-energy.svg",
      "tiny-u250-throughput.svg",
    ])
    let csv = try String(contentsOf: dir.appendingPathComponent("sweep.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 3)
    let again = try HWGenProcess.run(grid)
    #expect(again.succeeded && again.output.contains("2 already in"), "\(again.output)")
    #expect(try String(contentsOf: dir.appendingPathComponent("sweep.csv"), encoding: .utf8) == csv)
  }
}
