import DuetModels

/// What the feedback log keeps of one accepted feedback event: the shown item's hashed features and
/// the label, all the learner needs to learn it again after a restart.
///
/// Layout (little-endian): format (u8, 1), label (f64), feature count (u32), then per feature its
/// index (u32), value (f32) and field hash (u32).
struct FeedbackRecord: Equatable {
    var features: [Feature]
    var label: Double

    static let format: UInt8 = 1

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(13 + 12 * features.count)
        out.append(Self.format)
        Self.put(label.bitPattern, &out)
        Self.put(UInt32(features.count), &out)
        for f in features {
            Self.put(f.index, &out)
            Self.put(f.value.bitPattern, &out)
            Self.put(f.fieldHash, &out)
        }
        return out
    }

    /// Nil for bytes that are not a record of this format (the log's checksum passed, so this means
    /// a record written by another version of Duet).
    init?(bytes: [UInt8]) {
        guard bytes.count >= 13, bytes[0] == Self.format else { return nil }
        let count = Int(Self.get(UInt32.self, bytes, 9))
        guard bytes.count == 13 + 12 * count else { return nil }
        label = Double(bitPattern: Self.get(UInt64.self, bytes, 1))
        guard label.isFinite, (0...1).contains(label) else { return nil }
        features = (0..<count).map { i in
            let o = 13 + 12 * i
            return Feature(index: Self.get(UInt32.self, bytes, o), value: Float(bitPattern: Self.get(UInt32.self, bytes, o + 4)),
                           fieldHash: Self.get(UInt32.self, bytes, o + 8))
        }
    }

    init(features: [Feature], label: Double) {
        self.features = features
        self.label = label
    }

    private static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func get<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
