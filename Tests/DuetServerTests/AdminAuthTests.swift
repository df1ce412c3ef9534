@testable import DuetServer
import Testing

@Suite struct AdminAuthTests {
    @Test func constantTimeComparisonIsExact() {
        #expect(AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AdminAuth.constantTimeEqual([], Array("a".utf8)))
    }
}
