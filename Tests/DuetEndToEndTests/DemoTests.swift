import DuetTestSupport
import Foundation
import Testing

/// `duet demo`, the README's main command, run for real (fewer rounds than the default).
@Suite(.serialized) struct DemoTests {
    @Test func theOBDScenarioReportsHonestly() throws {
        let r = try TestSupport.run(["demo", "--scenario", "obd", "--limit", "400"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("OBD: the logged Open Bandit sample (real data; the models do not choose the logged items)"))
        #expect(r.stdout.contains("no model chose among candidates here"), "\(r.stdout)")
        #expect(r.stdout.contains("paired log loss online − static"), "\(r.stdout)")
        #expect(r.stdout.contains("next recommendation served by online@"))
    }

    @Test func theDriftScenarioPlaysEveryPhase() throws {
        let r = try TestSupport.run(["demo", "--scenario", "drift", "--rounds", "400"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in [
            "DRIFT: a simulated world (not real data", "phase 1, this phase only", "after the bot, this phase only",
            "online model's mean predicted click rate", "after the drift, this phase only", "CTR on users (each user's first feedback",
            "estimated from online's traffic (epsilon 0.2", "guardrail rollbacks in all:",
        ] {
            #expect(r.stdout.contains(line), "missing '\(line)' in:\n\(r.stdout)")
        }
        #expect(try TestSupport.run(["demo", "--scenario", "nope"]).status != 0)
    }
}
