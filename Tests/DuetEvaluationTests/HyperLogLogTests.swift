import DuetEvaluation
import Foundation
import Testing

/// The distinct-user counter against exact counts, merging, and its saved form.
@Suite struct HyperLogLogTests {
    @Test func countsAreWithinThreeStandardErrorsOfTheExactCount() {
        let sketch = HyperLogLog()
        #expect(sketch.registers.count == 4096 && abs(sketch.standardError - 0.01625) < 1e-9)
        #expect(sketch.count == 0)
        var rng = SeededGenerator(seed: 9)
        for n in [1, 10, 100, 1_000, 3_000, 10_000, 50_000, 100_000] {
            var h = HyperLogLog()
            var exact = Set<String>()
            for i in 0..<n {
                let id = "user-\(rng.next() % UInt64(n * 4))-\(i % 7)"
                exact.insert(id)
                h.insert(id)
                if i % 3 == 0 { h.insert(id) }  // repeats do not count
            }
            let error = abs(h.count - Double(exact.count)) / Double(exact.count)
            // Small counts are nearly exact; beyond, within 3 standard errors (4.9%).
            #expect(error < (exact.count <= 100 ? 0.02 : 3 * h.standardError), "n = \(exact.count): estimate \(h.count)")
        }
    }

    @Test func errorsAverageToTheStandardError() {
        // 40 independent sketches of 20,000 items each: the root mean square relative error is ~1.6%.
        var rng = SeededGenerator(seed: 10)
        var squares = 0.0, bias = 0.0
        for _ in 0..<40 {
            var h = HyperLogLog()
            for _ in 0..<20_000 { h.insert(hash: rng.next()) }
            let e = h.count / 20_000 - 1
            squares += e * e
            bias += e
        }
        let rmse = (squares / 40).squareRoot()
        #expect(rmse > 0.008 && rmse < 0.025, "rmse \(rmse)")
        #expect(abs(bias / 40) < 0.008, "bias \(bias / 40)")
    }

    @Test func mergeIsTheSketchOfTheUnion() throws {
        var a = HyperLogLog(), b = HyperLogLog(), union = HyperLogLog()
        for i in 0..<30_000 {
            let id = "u\(i)"
            if i < 20_000 { a.insert(id) }
            if i >= 10_000 { b.insert(id) }
            union.insert(id)
        }
        var merged = a
        merged.merge(b)
        #expect(merged == union)
        #expect(abs(merged.count - 30_000) / 30_000 < 3 * merged.standardError)
        let restored = try #require(HyperLogLog(registers: merged.registers))
        #expect(restored == merged && restored.precision == 12)
        #expect(HyperLogLog(registers: [UInt8](repeating: 0, count: 1000)) == nil)
        #expect(HyperLogLog(registers: [UInt8](repeating: 70, count: 4096)) == nil)
    }

    @Test func theHashIsStable() {
        // The same value in every process and machine, so saved or merged sketches agree.
        #expect(HyperLogLog.hash("user-1") == HyperLogLog.hash(String("user-1")))
        #expect(HyperLogLog.hash("user-1") != HyperLogLog.hash("user-2"))
        #expect(HyperLogLog.hash("") == 0xefd0_1f60_ba99_2926 && HyperLogLog.hash("duet") == 0x4943_1d13_5d7f_6d7b)
    }
}
