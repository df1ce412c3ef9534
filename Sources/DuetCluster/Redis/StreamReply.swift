import DuetRedis

/// The entries of an `XREAD` (one stream) or `XRANGE` reply, each with its fields as text: the one
/// parser of the cluster's streams.
enum StreamReply {
    /// `[[key, [[id, [field, value, …]], …]]]` (XREAD) or `[[id, [field, value, …]], …]` (XRANGE).
    static func entries(_ reply: RedisValue, xread: Bool = true) -> [(id: String, fields: [String: String])] {
        let list: [RedisValue]
        if xread {
            guard let stream = reply.array.first?.array, stream.count == 2 else { return [] }
            list = stream[1].array
        } else {
            list = reply.array
        }
        return list.compactMap { entry in
            let e = entry.array
            guard e.count == 2, let id = e[0].text else { return nil }
            let flat = e[1].array.compactMap(\.text)
            var fields: [String: String] = [:]
            var i = 0
            while i + 1 < flat.count {
                fields[flat[i]] = flat[i + 1]
                i += 2
            }
            return (id, fields)
        }
    }
}
