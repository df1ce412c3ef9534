import DuetModels
@testable import DuetServer
import Testing

@Suite struct AffinitiesTests {
    @Test func numbersAreCanonicalDecimalsOnly() {
        #expect(Affinities.number("0") == 0)
        #expect(Affinities.number("17") == 17)
        #expect(Affinities.number("999999999") == 999_999_999)
        for id in ["", "017", "00", "+1", "-1", "1.0", "1e3", " 1", "1000000000", "a1", "١"] {
            #expect(Affinities.number(id) == nil, "\(id)")
        }
    }

    /// Dense, sparse and non-numeric ids all answer exactly what the dictionary holds.
    @Test func everyFormAnswersLikeTheDictionary() {
        let f = { (i: UInt32) in Feature(index: i, value: Float(i) / 10) }
        let forms: [[String: Feature]] = [
            [:],
            Dictionary(uniqueKeysWithValues: (0..<80).map { ("\($0)", f(UInt32($0))) }),
            ["3": f(3), "500000": f(5)],
            ["7": f(7), "sku-9": f(9)],
        ]
        let probes = ["0", "3", "7", "79", "80", "500000", "sku-9", "07", "x", ""]
        for byID in forms {
            var answers: [Feature?] = []
            Affinities(byID).forEach(ids: probes, numbers: probes.map { Affinities.number($0) ?? -1 }) { answers.append($0) }
            for (id, answer) in zip(probes, answers) {
                #expect(answer == byID[id], "\(id) in \(byID.count)")
            }
            #expect(answers.count == probes.count)
        }
        if case .dense = Affinities(forms[1]) {} else { Issue.record("80 numbered items should be dense") }
        if case .keyed = Affinities(forms[2]) {} else { Issue.record("sparse numbers should be keyed") }
    }
}
