@testable import DuetServer
import Testing

@Suite struct BearerAuthTests {
    @Test func constantTimeComparisonIsExact() {
        #expect(BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!BearerAuth.constantTimeEqual([], Array("a".utf8)))
    }
}
