import DuetFeatures
import DuetModels

extension FieldValue {
    /// A stored feature field as the model names it: strings stay categorical, numbers stay numeric.
    var featureValue: FeatureValue {
        switch self {
        case .string(let s): .string(s)
        case .float(let d): .number(d)
        case .int(let i): .number(Double(i))
        }
    }
}
