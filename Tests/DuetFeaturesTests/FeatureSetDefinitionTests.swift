import DuetFeatures
import Testing

@Suite struct FeatureSetDefinitionTests {
    @Test func shippedDefinitionsMatchTheOBDData() throws {
        let defs = try shippedDefinitions()
        let user = try #require(defs.first { $0.name == "user_profile" })
        #expect(user.entity == "user")
        #expect(user.fields.count == 38)
        #expect(user.fields[0] == FieldDefinition(name: "user_feature_0", type: .string, defaultValue: .string("")))
        #expect(user.fields.last == FieldDefinition(name: "user-item_affinity_33", type: .float, defaultValue: .float(0)))
        #expect(user.ttl == .seconds(30))
        let item = try #require(defs.first { $0.name == "item_catalog" })
        #expect(item.entity == "item")
        #expect(item.fieldNames == ["item_feature_0", "item_feature_1", "item_feature_2", "item_feature_3"])
        #expect(item.fields[0].type == .float)
    }

    @Test func invalidDefinitionsAreRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("entity: user\nfields: [{name: a, type: string}]", "name"),
            ("name: x\nentity: user\nfields: [{name: a, type: bytes}]", "type must be"),
            ("name: x\nentity: user\nfields: [{name: a, type: int, default: abc}]", "default"),
            ("name: x\nentity: user\nfields: [{name: a, type: int}, {name: a, type: int}]", "twice"),
            ("name: x\nentity: user\nttl: forever\nfields: [{name: a, type: int}]", "ttl"),
            ("name: x\nentity: user\nfields: []", "fields"),
        ]
        for (yaml, needle) in cases {
            #expect {
                _ = try FeatureSetDefinition.parse(yaml: yaml, source: "t.yaml")
            } throws: { e in
                "\(e)".contains(needle) && "\(e)".contains("t.yaml")
            }
        }
    }

    @Test func ttlAndDefaultsParse() throws {
        let d = try FeatureSetDefinition.parse(yaml: """
            name: s
            entity: item
            ttl: 500ms
            fields:
              - {name: f, type: float, default: 1.5}
              - {name: i, type: int, default: 3}
              - {name: s, type: string}
            """)
        #expect(d.ttl == .milliseconds(500))
        #expect(d.fields.map(\.defaultValue) == [.float(1.5), .int(3), .string("")])
        let row = d.row(id: "x", texts: ["2.5", "oops", nil])
        #expect(row.values == ["f": .float(2.5), "i": .int(3), "s": .string("")])
        #expect(row.found)
        #expect(!d.row(id: "y", texts: [nil, nil, nil]).found)
    }
}
