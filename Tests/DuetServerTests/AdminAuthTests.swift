@testable import DuetServer
import Testing

@Suite struct ServerConfigurationTests {
    @Test func tokensParseNamedAndBare() throws {
        #expect(try ServerConfiguration.parseTokens("alice:s3cret, bob:t0ken") == ["alice": "s3cret", "bob": "t0ken"])
        #expect(try ServerConfiguration.parseTokens("plain") == ["admin": "plain"])
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.parseTokens("alice:") }
    }

    @Test func environmentOverridesAndRejectsBadValues() throws {
        var config = ServerConfiguration()
        try config.apply(environment: ["DUET_PORT": "9090", "DUET_REDIS": "redis://x:1", "OTHER": "1"])
        #expect(config.port == 9090)
        #expect(config.redisURL == "redis://x:1")
        #expect(throws: ConfigurationError.self) { try config.apply(environment: ["DUET_PORT": "http"]) }
        #expect(throws: ConfigurationError.self) { try config.apply(key: "colour", value: "red", source: "duet.yaml") }
    }

    @Test func constantTimeComparisonIsExact() {
        #expect(AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AdminAuth.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AdminAuth.constantTimeEqual([], Array("a".utf8)))
    }
}
