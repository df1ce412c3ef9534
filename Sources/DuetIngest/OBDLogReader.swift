import DuetJSON
import DuetModels
import Foundation

/// The Open Bandit Dataset reader of `duet train` and `duet replay`: reads the log's bytes and
/// yields hashed features directly, the same features as `LogReader.read` → `FeatureNaming.example`
/// → `FeatureHasher.hash` (the parity tests hold it to that), without a String or a dictionary per row.
///
/// Features come in one fixed order: the user fields in column order, `position`, `item_id`, the
/// item's fields by name, `affinity`. (The naming layer's order follows its dictionaries, so it
/// changes from row to row; the learner only sees the order through float rounding.)
struct OBDLogReader {
    /// One item as the rows refer to it: its hashed features (`item_id` first) and its affinity column.
    struct Item {
        var features: [Feature]
        var roles: [Int32]
        var affinityColumn: Int
    }

    let path: String
    let header: [String]
    let itemColumn: Int, clickColumn: Int, positionColumn: Int
    /// `propensity_score`, when the log has it; `headerLine` for errors about the header.
    let propensityColumn: Int?, headerLine: Int
    /// User fields: column, hash state after `name=`, hash of the name, interaction role.
    let userColumns: [(column: Int, prefix: Murmur3Stream, field: UInt32, role: Int32)]
    let positionPrefix: Murmur3Stream, positionField: UInt32, positionRole: Int32
    let affinityField: UInt32, affinityRole: Int32
    /// Items whose id is a small canonical decimal, by that number (-1: none) …
    let itemBySmallID: [Int32]
    /// … and all items by id text.
    let itemByID: [String: Int32]
    /// The items' features and roles, one after another (no per-row reference counting) …
    let itemFeatures: [Feature]
    let itemRoles: [Int32]
    /// … and where each item's are.
    let itemSpans: [(start: Int, end: Int, affinityColumn: Int)]
    let affinityColumns: [String: Int]
    let itemHasher: FeatureHasher

    /// Reads `path` (an OBD log) with `item_context.csv` at `itemsPath`; calls `body(features, label, weight)` per row.
    static func read(_ path: String, items itemsPath: String, hasher: FeatureHasher, _ body: ([Feature], Double, Double) throws -> Void) throws {
        let (reader, lines, start) = try open(path, items: itemsPath, hasher: hasher)
        var builder = start
        try reader.readRows(lines, &builder, body)
    }

    /// Reads `path` for off-policy evaluation: calls `body` per row with the row's round (every
    /// catalog item's features at the row's position, the logged one among them).
    static func readRounds(_ path: String, items itemsPath: String, hasher: FeatureHasher, _ body: (LoggedRound) throws -> Void) throws {
        let (reader, lines, start) = try open(path, items: itemsPath, hasher: hasher)
        var builder = start
        try reader.readRounds(lines, &builder, body)
    }

    /// The reader of `path`'s header, its line reader past the header, and a row builder.
    static func open(_ path: String, items itemsPath: String, hasher: FeatureHasher) throws -> (OBDLogReader, LineReader, FeatureRowBuilder) {
        let itemFields = try LogReader.readItems(itemsPath)
        let lines = try LineReader(path: path)
        var header: [String]?
        while let line = try lines.next() {
            if !line.isEmpty {
                header = String(decoding: line, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                break
            }
        }
        guard let header else { throw LogError("\(path): empty file") }
        let builder = FeatureRowBuilder(hasher: hasher)
        let reader = try OBDLogReader(path: path, header: header, headerLine: lines.lineNumber, itemFields: itemFields, hasher: hasher, builder: builder)
        return (reader, lines, builder)
    }

    init(path: String, header: [String], headerLine: Int, itemFields: [String: [String: FeatureValue]], hasher: FeatureHasher, builder: FeatureRowBuilder) throws {
        self.path = path
        self.header = header
        guard let itemCol = header.firstIndex(of: "item_id"), let clickCol = header.firstIndex(of: "click"),
              let posCol = header.firstIndex(of: "position")
        else { throw LogError("\(path):\(headerLine): not an OBD log (needs item_id, position, click columns)") }
        itemColumn = itemCol
        clickColumn = clickCol
        positionColumn = posCol
        propensityColumn = header.firstIndex(of: "propensity_score")
        self.headerLine = headerLine
        // Like the naming layer's user dictionary: one feature per distinct name, the last column wins.
        var user: [(column: Int, prefix: Murmur3Stream, field: UInt32, role: Int32)] = []
        for c in header.indices where header[c].hasPrefix("user_feature_") {
            var prefix = Murmur3Stream(header[c])
            let field = prefix.finish()
            prefix.add(UInt8(ascii: "="))
            let entry = (column: c, prefix: prefix, field: field, role: builder.role(of: header[c]))
            if let i = user.firstIndex(where: { header[$0.column] == header[c] }) { user[i] = entry } else { user.append(entry) }
        }
        userColumns = user
        var position = Murmur3Stream("position")
        positionField = position.finish()
        position.add(UInt8(ascii: "="))
        positionPrefix = position
        positionRole = builder.role(of: "position")
        affinityField = Murmur3Stream("affinity").finish()
        affinityRole = builder.role(of: "affinity")
        var affinity: [String: Int] = [:]
        for c in header.indices where header[c].hasPrefix(FeatureNaming.affinityPrefix) {
            affinity[String(header[c].dropFirst(FeatureNaming.affinityPrefix.count))] = c
        }
        affinityColumns = affinity
        // Every item the table or an affinity column knows, hashed once.
        itemHasher = FeatureHasher(bits: hasher.bits)
        var items: [Item] = []
        var byID: [String: Int32] = [:]
        var bySmall: [Int32] = []
        for id in Set(itemFields.keys).union(affinity.keys).sorted() {
            let item = Self.item(id, fields: itemFields[id], affinity: affinity, hasher: itemHasher, builder: builder)
            byID[id] = Int32(items.count)
            if let n = Self.smallID(id.utf8), n < 1 << 16 {
                if bySmall.count <= n { bySmall += Array(repeating: -1, count: n + 1 - bySmall.count) }
                bySmall[n] = Int32(items.count)
            }
            items.append(item)
        }
        itemFeatures = items.flatMap(\.features)
        itemRoles = items.flatMap(\.roles)
        var spans: [(start: Int, end: Int, affinityColumn: Int)] = []
        for item in items { spans.append((spans.last?.end ?? 0, (spans.last?.end ?? 0) + item.features.count, item.affinityColumn)) }
        itemSpans = spans
        itemByID = byID
        itemBySmallID = bySmall
    }

    /// `item_id=<id>`, then the item's fields by name (empty strings skipped, as the naming layer does).
    static func item(_ id: String, fields: [String: FeatureValue]?, affinity: [String: Int], hasher: FeatureHasher, builder: FeatureRowBuilder) -> Item {
        let named = FeatureNaming.itemFeatures(itemID: id, item: fields ?? [:], user: [:])
        let ordered = [named[0]] + named.dropFirst().sorted { $0.field < $1.field }
        return Item(features: hasher.hash(ordered), roles: ordered.map { builder.role(of: $0.field) }, affinityColumn: affinity[id] ?? -1)
    }

    /// The value of a canonical decimal (`0`, or no leading zero), at most 6 digits.
    static func smallID<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= 6, bytes.first != UInt8(ascii: "0") || bytes.count == 1 else { return nil }
        var n = 0
        for b in bytes {
            guard b &- 48 < 10 else { return nil }
            n = n * 10 + Int(b &- 48)
        }
        return n
    }

    /// One split line: the bytes of each field.
    struct Row {
        let base: UnsafeRawPointer
        let starts: UnsafeMutablePointer<Int>
        @inline(__always) func field(_ c: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + starts[c], count: starts[c + 1] - 1 - starts[c])
        }
    }

    /// Calls `body` with every non-empty line, split into its columns (an error when a line has
    /// another number of columns than the header).
    func forEachRow(_ lines: LineReader, _ body: (Row) throws -> Void) throws {
        let columns = header.count
        // starts[c] = offset of column c; starts[columns] = line length + 1.
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: columns + 1)
        defer { starts.deallocate() }
        while let line = try lines.next() {
            guard !line.isEmpty else { continue }
            let base = line.baseAddress!
            let found = Self.splitCommas(base, line.count, starts, capacity: columns)
            guard found == columns else { throw LogError("\(path):\(lines.lineNumber): expected \(columns) columns, got \(found)") }
            starts[columns] = line.count + 1
            try body(Row(base: UnsafeRawPointer(base), starts: starts))
        }
    }

    func readRows(_ lines: LineReader, _ builder: inout FeatureRowBuilder, _ body: ([Feature], Double, Double) throws -> Void) throws {
        try forEachRow(lines) { row in
            let click = try self.click(row, line: lines.lineNumber)
            builder.removeAll()
            appendContext(row, &builder)
            let idBytes = row.field(itemColumn)
            try appendItem(itemIndex(idBytes), idBytes: idBytes, row, line: lines.lineNumber, &builder)
            builder.addInteractions()
            try body(builder.features, click, 1)
        }
    }

    func readRounds(_ lines: LineReader, _ builder: inout FeatureRowBuilder, _ body: (LoggedRound) throws -> Void) throws {
        guard let propensityColumn else {
            throw LogError("\(path):\(headerLine): no propensity_score column (the logging policy's propensities)")
        }
        var candidates = [[Feature]](repeating: [], count: itemSpans.count)
        try forEachRow(lines) { row in
            let line = lines.lineNumber
            let click = try self.click(row, line: line)
            let propensityBytes = row.field(propensityColumn)
            guard let propensity = ByteNumber.double(propensityBytes) else {
                throw LogError("\(path):\(line): propensity_score '\(String(decoding: propensityBytes, as: UTF8.self))' is not a number")
            }
            let idBytes = row.field(itemColumn)
            let logged = itemIndex(idBytes)
            guard logged >= 0 else {
                throw LogError("\(path):\(line): item_id '\(String(decoding: idBytes, as: UTF8.self))' is not in the catalog (item_context.csv)")
            }
            builder.removeAll()
            appendContext(row, &builder)
            let context = builder.features.count
            for i in candidates.indices {
                builder.truncate(to: context)
                try appendItem(Int32(i), idBytes: idBytes, row, line: line, &builder)
                builder.addInteractions()
                candidates[i] = builder.features
            }
            try body(LoggedRound(
                line: line, click: click, position: String(decoding: row.field(positionColumn), as: UTF8.self), propensity: propensity,
                loggedItem: Int(logged), candidates: candidates))
        }
    }

    /// The `click` column's value.
    @inline(__always)
    func click(_ row: Row, line: Int) throws -> Double {
        let clickBytes = row.field(clickColumn)
        if clickBytes.count == 1, clickBytes[0] &- 48 < 2 { return Double(clickBytes[0] &- 48) }
        if let c = ByteNumber.double(clickBytes) { return c }
        throw LogError("\(path):\(line): click '\(String(decoding: clickBytes, as: UTF8.self))' is not a number")
    }

    /// The user's features and `position`: what every item of the row shares.
    @inline(__always)
    func appendContext(_ row: Row, _ builder: inout FeatureRowBuilder) {
        for u in userColumns {
            let value = row.field(u.column)
            if value.isEmpty { continue }
            var m = u.prefix
            m.add(value)
            builder.appendCategorical(field: u.field, hash: m.finish(), role: u.role)
        }
        var m = positionPrefix
        m.add(row.field(positionColumn))
        builder.appendCategorical(field: positionField, hash: m.finish(), role: positionRole)
    }

    /// The item's index among the known items, or -1.
    @inline(__always)
    func itemIndex(_ idBytes: UnsafeRawBufferPointer) -> Int32 {
        if let n = Self.smallID(idBytes), n < itemBySmallID.count, itemBySmallID[n] >= 0 { return itemBySmallID[n] }
        return itemByID[String(decoding: idBytes, as: UTF8.self)] ?? -1
    }

    /// The item's features and the row's affinity to it; an unknown item (-1) is `item_id` alone,
    /// named by `idBytes`.
    @inline(__always)
    func appendItem(_ itemIndex: Int32, idBytes: UnsafeRawBufferPointer, _ row: Row, line: Int, _ builder: inout FeatureRowBuilder) throws {
        let affinityColumn: Int
        if itemIndex >= 0 {
            let span = itemSpans[Int(itemIndex)]
            for i in span.start..<span.end { builder.append(itemFeatures[i], role: itemRoles[i]) }
            affinityColumn = span.affinityColumn
        } else {
            // An item neither the table nor the affinity columns know: item_id alone.
            let item = Self.item(String(decoding: idBytes, as: UTF8.self), fields: nil, affinity: [:], hasher: itemHasher, builder: builder)
            builder.append(item.features[0], role: item.roles[0])
            affinityColumn = -1
        }
        if affinityColumn >= 0 {
            let text = row.field(affinityColumn)
            guard let a = ByteNumber.double(text) else {
                throw LogError("\(path):\(line): \(header[affinityColumn]) '\(String(decoding: text, as: UTF8.self))' is not a number")
            }
            builder.appendNumeric(field: affinityField, value: a, role: affinityRole)
        }
    }

    /// Writes the start offset of each comma-separated field to `starts` (at most `capacity`) and
    /// returns the number of fields. Eight bytes at a time: a comma byte becomes a set high bit.
    @inline(__always)
    static func splitCommas(_ p: UnsafeRawPointer, _ count: Int, _ starts: UnsafeMutablePointer<Int>, capacity: Int) -> Int {
        starts[0] = 0
        var found = 1
        var i = 0
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, commas: UInt64 = 0x2C2C_2C2C_2C2C_2C2C
        while i + 8 <= count {
            let x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ commas
            var hits = ~(((x & low7) &+ low7) | x | low7)
            while hits != 0 {
                let at = i + hits.trailingZeroBitCount >> 3
                if found < capacity { starts[found] = at + 1 }
                found += 1
                hits &= hits &- 1
            }
            i += 8
        }
        while i < count {
            if p.load(fromByteOffset: i, as: UInt8.self) == 0x2C {
                if found < capacity { starts[found] = i + 1 }
                found += 1
            }
            i += 1
        }
        return found
    }
}
