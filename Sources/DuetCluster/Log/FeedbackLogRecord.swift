/// One record of the feedback log: its sequence number (1, 2, … for the life of the log, never
/// reused) and the payload the appender gave.
public struct FeedbackLogRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var payload: [UInt8]
    public init(sequence: UInt64, payload: [UInt8]) {
        self.sequence = sequence
        self.payload = payload
    }

    /// Bytes before the payload: length (u32), CRC-32 of sequence and payload (u32), sequence (u64),
    /// all little-endian.
    static let headerSize = 16
    /// The most a payload may hold; a longer length in a header means a damaged record.
    public static let maxPayload = 1 << 20

    /// Appends the record's bytes to `out`.
    func encode(into out: inout [UInt8]) {
        var seqLE = sequence.littleEndian
        var crc = withUnsafeBytes(of: &seqLE) { CRC32.update(0, $0) }
        crc = payload.withUnsafeBytes { CRC32.update(crc, $0) }
        append(UInt32(payload.count), to: &out)
        append(crc, to: &out)
        append(sequence, to: &out)
        out.append(contentsOf: payload)
    }

    private func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    /// The record at `offset` of `bytes` and the offset after it; nil when the bytes there are not a
    /// whole, intact record (the end, a torn tail or damage).
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (FeedbackLogRecord, next: Int)? {
        guard bytes.count - offset >= headerSize else { return nil }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length <= maxPayload, bytes.count - offset - headerSize >= length else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + headerSize + length)])
        guard CRC32.update(0, body) == crc else { return nil }
        let sequence = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        let payload = Array(bytes[(offset + headerSize)..<(offset + headerSize + length)])
        return (FeedbackLogRecord(sequence: sequence, payload: payload), offset + headerSize + length)
    }
}
