import HWDSL
import HWSpec
import HWSupport

/// The opcodes as `opcode_e` of `mmfree_pkg` (`OpEnd`, `OpLoadVector`, ...),
/// each commented with its assembler mnemonic.
extension AcceleratorOpcode: HardwareEnum {
  public static let hardwareName = "opcode"
  public static let valuePrefix = "Op"
  public static let hardwareWidth = AcceleratorInstruction.opcodeField.width
  public static let hardwarePackage: String? = MMFreePackage.name
  public var hardwareComment: String? { description }
  /// `description` is the mnemonic; the values are named after the cases.
  public var hardwareCaseName: String {
    switch self {
    case .end: return "end"
    case .loadVector: return "loadVector"
    case .embed: return "embed"
    case .waitLoads: return "waitLoads"
    case .setConstant: return "setConstant"
    case .norm: return "norm"
    case .quantize: return "quantize"
    case .matVec: return "matVec"
    case .recur: return "recur"
    case .siluMul: return "siluMul"
    case .add: return "add"
    case .argmax: return "argmax"
    case .checkpoint: return "checkpoint"
    case .waitMatVec: return "waitMatVec"
    }
  }
}

/// `mmfree_pkg`: the instruction set the sequencer decodes, made from the
/// tables the Swift encoder uses (`AcceleratorOpcode`,
/// `AcceleratorInstruction.fields`), so the layout is written once.
public enum MMFreePackage {
  public static let name = "mmfree_pkg"

  /// `InstrOpcodeLsb`, `InstrOpcodeWidth`, ...: field `name`'s constants.
  /// Field `field` of an instruction word, printed with the package's bounds
  /// (`word[mmfree_pkg::InstrOpcodeLsb +: mmfree_pkg::InstrOpcodeWidth]`).
  static func field(_ field: AcceleratorInstruction.Field, of word: Expr) -> Expr {
    let names = constantNames(field)
    return word.field(
      low: field.low, width: field.width, names: SliceNames(low: "\(name)::\(names.lsb)", width: "\(name)::\(names.width)"))
  }

  public static func constantNames(_ field: AcceleratorInstruction.Field) -> (lsb: String, width: String) {
    let base = "Instr" + Naming.upperCamelCase(field.name)
    return (base + "Lsb", base + "Width")
  }

  public static let package = Package(
    name: name,
    comment: [
      "The accelerator's instruction set: one \(AcceleratorInstruction.bits)-bit word an instruction,",
      "fields from bit 0 up; `AcceleratorInstruction` in Swift encodes the same layout.",
    ],
    enums: [AcceleratorOpcode.enumType],
    constants: [
      (comment: "Fields: instr[Instr<Field>Lsb +: Instr<Field>Width], without gaps from bit 0.",
       constants: AcceleratorInstruction.fields.flatMap { f -> [Package.Constant] in
         let names = constantNames(f)
         return [Package.Constant(names.lsb, f.low), Package.Constant(names.width, f.width)]
       }),
    ])
}
