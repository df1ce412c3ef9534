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

    /// `body` with each candidate's feature in order (candidate c: `ids[c]`, whose `number` is
    /// `numbers[c]`, -1 for none). The storage is opened once for all of them: taking the case's
    /// array or dictionary out per candidate was a reference count each time, on storage every
    /// request of this user shares.
    func forEach(ids: [String], numbers: [Int], _ body: (Feature?) -> Void) {
        switch self {
        case .none:
            for _ in ids.indices { body(nil) }
        case .dense(let byNumber):
            byNumber.withUnsafeBufferPointer { byNumber in
                for n in numbers { body(n >= 0 && n < byNumber.count ? byNumber[n] : nil) }
            }
        case .keyed(let byID):
            for id in ids { body(byID[id]) }
        }
    }

    /// `id` as a number when it is one written canonically ("0", "17"; not "017", "+1" or "1.0"), below
    /// a billion: only then is it the same id as that number.
    @inline(__always)
    static func number(_ id: String) -> Int? {
        id.utf8.withContiguousStorageIfAvailable { number(utf8: $0) } ?? number(utf8: Array(id.utf8))
    }

    /// `number` of an id's UTF-8 bytes.
    @inline(__always)
    static func number(utf8 b: some Collection<UInt8>) -> Int? {
        guard let first = b.first, b.count <= 9, b.count == 1 || first != UInt8(ascii: "0") else { return nil }
        var n = 0
        for c in b {
            let d = c &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            n = n &* 10 &+ Int(d)
        }
        return n
    }
}
