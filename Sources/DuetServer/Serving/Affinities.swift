import DuetModels

/// A user's `affinity` feature per item id, looked up once per candidate on every request. Item ids
/// are often small numbers (a catalog's row ids); then the features sit in an array indexed by the
/// number, which costs no hashing per candidate and, when the numbers are dense, less memory than a
/// dictionary. Other ids use a dictionary.
enum Affinities: Sendable {
    case none
    /// Item n's feature at n (nil where the user has none).
    case dense([Feature?])
    case keyed([String: Feature])

    init(_ byID: [String: Feature]) {
        guard !byID.isEmpty else {
            self = .none
            return
        }
        var numbered: [(Int, Feature)] = []
        numbered.reserveCapacity(byID.count)
        for (id, f) in byID {
            guard let n = Self.number(id) else {
                self = .keyed(byID)
                return
            }
            numbered.append((n, f))
        }
        let top = numbered.map(\.0).max()!
        guard top < 2 * byID.count + 64 else {
            self = .keyed(byID)
            return
        }
        var dense = [Feature?](repeating: nil, count: top + 1)
        for (n, f) in numbered { dense[n] = f }
        self = .dense(dense)
    }

    /// The feature for item `id`, whose `number(id)` is `number`.
    @inline(__always)
    func callAsFunction(_ id: String, number: Int?) -> Feature? {
        switch self {
        case .none: return nil
        case .dense(let byNumber):
            guard let n = number, n < byNumber.count else { return nil }
            return byNumber[n]
        case .keyed(let byID): return byID[id]
        }
    }

    /// `id` as a number when it is one written canonically ("0", "17"; not "017", "+1" or "1.0"), below
    /// a billion: only then is it the same id as that number.
    static func number(_ id: String) -> Int? {
        let utf8 = id.utf8
        guard let first = utf8.first, utf8.count <= 9, utf8.count == 1 || first != UInt8(ascii: "0") else { return nil }
        var n = 0
        for b in utf8 {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(b - UInt8(ascii: "0"))
        }
        return n
    }
}
