/// An immutable weight array split into fixed pages that versions share: publishing a new version
/// copies only the pages the learner changed since the last one, so a version of 2^20 weights costs
/// what changed, not 4 MB, and the 16 kept versions mostly share memory.
public struct WeightPages: Sendable {
    public static let pageShift = 12
    public static let pageSize = 1 << pageShift

    /// One page of weights; never mutated after it is published.
    public final class Page: Sendable {
        public let values: [Float]
        init(_ values: [Float]) { self.values = values }
    }

    public let count: Int
    @usableFromInline let pages: [Page]

    init(count: Int, pages: [Page]) {
        self.count = count
        self.pages = pages
    }

    /// Pages holding `values` (all copied).
    public init(_ values: [Float]) {
        self.count = values.count
        var pages: [Page] = []
        var start = 0
        while start < values.count {
            let end = min(values.count, start + Self.pageSize)
            pages.append(Page(Array(values[start..<end])))
            start = end
        }
        self.pages = pages
    }

    @inlinable
    public subscript(i: Int) -> Float {
        pages[i >> Self.pageShift].values[i & (Self.pageSize - 1)]
    }

    /// A new version: this one's pages, with the pages flagged in `dirty` copied from `source`.
    func updating(from source: [Float], dirty: inout [Bool]) -> WeightPages {
        var next = pages
        for p in dirty.indices where dirty[p] {
            let start = p << Self.pageShift
            next[p] = Page(Array(source[start..<min(source.count, start + Self.pageSize)]))
            dirty[p] = false
        }
        return WeightPages(count: count, pages: next)
    }

    /// The values that differ bitwise from `base`'s (which has the same count), by increasing index.
    /// Pages shared with `base` are not read: a learner's versions share every page it did not touch.
    func differences(from base: WeightPages) -> (indices: [Int], values: [Float]) {
        precondition(count == base.count, "differences between weight arrays of different counts")
        var indices: [Int] = [], values: [Float] = []
        for p in pages.indices where pages[p] !== base.pages[p] {
            let start = p << Self.pageShift
            pages[p].values.withUnsafeBufferPointer { new in
                base.pages[p].values.withUnsafeBufferPointer { old in
                    for i in new.indices where new[i].bitPattern != old[i].bitPattern {
                        indices.append(start + i)
                        values.append(new[i])
                    }
                }
            }
        }
        return (indices, values)
    }

    /// A new version: these pages with `values[j]` at `indices[j]` (strictly increasing, each below
    /// `count`). Only the pages written to are copied; the others are shared.
    func replacing(_ indices: [Int], with values: [Float]) -> WeightPages {
        precondition(indices.count == values.count, "one value per index")
        var next = pages
        var j = 0
        while j < indices.count {
            let p = indices[j] >> Self.pageShift, start = p << Self.pageShift
            var page = pages[p].values
            page.withUnsafeMutableBufferPointer { page in
                while j < indices.count && indices[j] >> Self.pageShift == p {
                    page[indices[j] - start] = values[j]
                    j += 1
                }
            }
            next[p] = Page(page)
        }
        return WeightPages(count: count, pages: next)
    }

    /// All values, flattened (for files and warm starts).
    public func flattened() -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(count)
        for p in pages { out.append(contentsOf: p.values) }
        return out
    }
}
