import DuetTestSupport
import Foundation
import Testing

// Replaced by the module's real tests.
@Suite struct DuetEndToEndTestsPlaceholder {
    @Test func packageRootHoldsTheManifest() {
        #expect(FileManager.default.fileExists(atPath: TestSupport.packageRoot.appendingPathComponent("Package.swift").path))
    }
}
