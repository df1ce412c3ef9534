/// Encodes commands in the Redis protocol (RESP) into one buffer, for big pipelines:
/// hiredis sends the buffer as is (`redisAppendFormattedCommand`), with no per-argument C strings.
public struct RESPEncoder {
    public var bytes: [UInt8] = []
    public var commands = 0

    public init(reserve: Int = 1 << 16) { bytes.reserveCapacity(reserve) }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        commands = 0
    }

    public mutating func beginCommand(arguments: Int) {
        bytes.append(UInt8(ascii: "*"))
        appendDecimal(arguments)
        bytes.append(13); bytes.append(10)
        commands += 1
    }

    public mutating func argument(_ s: String) {
        var s = s
        s.withUTF8 { argument(bytes: $0) }
    }

    public mutating func argument<C: Collection>(bytes b: C) where C.Element == UInt8 {
        bytes.append(UInt8(ascii: "$"))
        appendDecimal(b.count)
        bytes.append(13); bytes.append(10)
        bytes.append(contentsOf: b)
        bytes.append(13); bytes.append(10)
    }

    public mutating func command(_ args: [String]) {
        beginCommand(arguments: args.count)
        for a in args { argument(a) }
    }

    private mutating func appendDecimal(_ n: Int) {
        if n < 10 { bytes.append(UInt8(48 + n)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = n, count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while v > 0 { buf[count] = UInt8(48 + v % 10); v /= 10; count += 1 }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buf[i]) }
        }
    }
}
