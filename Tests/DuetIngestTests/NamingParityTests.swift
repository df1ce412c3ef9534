@testable import DuetIngest
import DuetModels
import DuetTestSupport
import Foundation
import Testing

@Suite struct NamingParityTests {
    @Test func trainAndServeNameOneRowTheSame() throws {
        // One OBD row through the training reader and through the serving path's naming.
        var fromLog: [NamedFeature] = []
        try ReferenceLogReader.read(TestSupport.packageRoot.appendingPathComponent("data/obd/random/men.csv").path, format: .obd) { ex in
            if fromLog.isEmpty { fromLog = ex.features }
        }
        let header = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("data/obd/random/men.csv"), encoding: .utf8)
            .split(separator: "\n")[0...1].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var user: [String: FeatureValue] = [:]
        for (name, value) in zip(header[0], header[1]) {
            if name.hasPrefix("user_feature_") { user[name] = .string(value) }
            if name.hasPrefix(FeatureNaming.affinityPrefix) { user[name] = .number(Double(value)!) }
        }
        let itemID = header[1][header[0].firstIndex(of: "item_id")!]
        let items = try LogReader.readItems(TestSupport.packageRoot.appendingPathComponent("data/obd/random/item_context.csv").path)
        let served = FeatureNaming.userFeatures(user: user, context: ["position": .string(header[1][header[0].firstIndex(of: "position")!])])
            + FeatureNaming.itemFeatures(itemID: itemID, item: items[itemID]!, user: user)
        #expect(Set(served) == Set(fromLog))
        #expect(fromLog.contains(NamedFeature("item_id", .string(itemID))))
    }
}
