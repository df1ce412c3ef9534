import DuetIngest
import DuetModels
import Foundation
import Synchronization

// Model deltas (release build): replays an OBD log through an OnlineLearner with the default config
// (bits 20, k 4), publishing every N events, and for each published version compares what a trainer
// would send a replica: the whole model file, or the delta from the previous version. Every applied
// delta is checked bitwise against the version it stands for.
//
//     ModelDeltaBenchmark [log.csv (data/obd/random/men.csv)] [events per publish (250)]

func milliseconds(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int((p * Double(s.count - 1)).rounded()))]
}

let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "data/obd/random/men.csv"
let every = arguments.count > 2 ? Int(arguments[2])! : 250

let config = ModelConfig()
var examples: [OnlineLearner.Example] = []
try LogReader.readHashed(path, format: .obd, hasher: config.hasher) { features, label, weight in
    examples.append(.init(features: features, label: label, weight: weight, sequence: UInt64(examples.count + 1)))
}

struct Publish {
    var fileBytes: Int
    var fileEncode: Double
    var fileDecode: Double
    var deltaBytes: Int
    /// The child's JSON header's share of them.
    var headerBytes: Int
    var changedWeights: Int
    var changedFactors: Int
    var pagesTouched: Int
    var encode: Double
    var apply: Double
}

/// Measures each publish: the trainer encodes the delta from its previous version (sharing pages with
/// the new one), a replica applies it to its own copy of that version (built from the last delta).
final class Recorder: Sendable {
    struct State {
        var previous: ModelVersion
        var replica: ModelVersion
        var publishes: [Publish] = []
    }
    let state: Mutex<State>
    init(start: ModelVersion) { state = Mutex(State(previous: start, replica: start)) }

    func published(_ child: ModelVersion) {
        state.withLock { s in
            let parent = s.previous, replica = s.replica
            var t = ContinuousClock.now
            let file = try! ModelFile.encode(child)
            let fileEncode = milliseconds(ContinuousClock.now - t)
            t = ContinuousClock.now
            _ = try! ModelFile.decode(file)
            let fileDecode = milliseconds(ContinuousClock.now - t)
            t = ContinuousClock.now
            let delta = try! ModelDelta.encode(from: parent, to: child)
            let encode = milliseconds(ContinuousClock.now - t)
            precondition(try! ModelDelta.parentID(of: delta) == replica.id)
            t = ContinuousClock.now
            let applied = try! ModelDelta.apply(delta, to: replica)
            let apply = milliseconds(ContinuousClock.now - t)
            var changed: [Int] = []
            var touched = 0
            for (new, old, want) in [(applied.weights, replica.weights, child.weights), (applied.factors, replica.factors, child.factors)] {
                let a = new.flattened(), b = old.flattened(), c = want.flattened()
                precondition(a.map(\.bitPattern) == c.map(\.bitPattern), "applied delta differs from the child")
                changed.append(zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count)
                for p in stride(from: 0, to: a.count, by: WeightPages.pageSize) {
                    let end = min(a.count, p + WeightPages.pageSize)
                    if a[p..<end].map(\.bitPattern) != b[p..<end].map(\.bitPattern) { touched += 1 }
                }
            }
            precondition(applied.id == child.id && applied.feedbackOffset == child.feedbackOffset && applied.metrics == child.metrics)
            // Past the magic, the version, the parent id (its length, its bytes): the header's u32 length.
            let at = 10 + Int(delta[9])
            let headerBytes = (0..<4).reduce(0) { $0 | Int(delta[at + $1]) << (8 * $1) }
            s.publishes.append(Publish(
                fileBytes: file.count, fileEncode: fileEncode, fileDecode: fileDecode, deltaBytes: delta.count, headerBytes: headerBytes,
                changedWeights: changed[0], changedFactors: changed[1], pagesTouched: touched, encode: encode, apply: apply))
            s.previous = child
            s.replica = applied
        }
    }
}

var fresh = Learner(config: config)
let start = fresh.publish(id: "0", parentID: nil, kind: .online)
let recorder = Recorder(start: start)
let learner = OnlineLearner(
    slot: ModelSlot(name: "online", capacity: 2), start: start, publishEvery: every, onPublish: { recorder.published($0) })
learner.replay(examples)
learner.publishNow()

let publishes = recorder.state.withLock { $0.publishes }
let pages = (config.size + config.size * config.k) / WeightPages.pageSize
func row(_ what: String, _ xs: [Double], _ format: String) {
    let (p50, p99, top) = (percentile(xs, 0.5), percentile(xs, 0.99), xs.max()!)
    print("\(what): median \(String(format: format, p50)), p99 \(String(format: format, p99)), max \(String(format: format, top))")
}
print("\(path): \(examples.count) events, bits \(config.bits), k \(config.k), a version every \(every) events: \(publishes.count) publishes")
print("model file: \(publishes[0].fileBytes) bytes")
row("delta bytes", publishes.map { Double($0.deltaBytes) }, "%.0f")
row("of which the child's JSON header", publishes.map { Double($0.headerBytes) }, "%.0f")
row("delta / file", publishes.map { Double($0.deltaBytes) / Double($0.fileBytes) * 100 }, "%.3f%%")
row("changed weights", publishes.map { Double($0.changedWeights) }, "%.0f")
row("changed factor values", publishes.map { Double($0.changedFactors) }, "%.0f")
row("pages with a change (of \(pages))", publishes.map { Double($0.pagesTouched) }, "%.0f")
row("ModelDelta.encode ms", publishes.map(\.encode), "%.3f")
row("ModelDelta.apply ms", publishes.map(\.apply), "%.3f")
row("ModelFile.encode ms", publishes.map(\.fileEncode), "%.2f")
row("ModelFile.decode ms", publishes.map(\.fileDecode), "%.2f")
