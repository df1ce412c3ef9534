import CBLAS
import CCurl
import CHiredis
import Testing

/// Each system library's module map is checked by calling one real function of it.
@Suite struct SystemLibraryTests {
    @Test func openBLASComputesADotProduct() {
        let x: [Float] = [1, 2, 3]
        let y: [Float] = [4, 5, 6]
        #expect(cblas_sdot(3, x, 1, y, 1) == 32)
    }

    @Test func curlReportsItsVersion() {
        #expect(String(cString: curl_version()).hasPrefix("libcurl/"))
    }

    @Test func hiredisParsesAReply() {
        let reader = redisReaderCreate()
        #expect(reader != nil)
        defer { redisReaderFree(reader) }
        let bytes = "+PONG\r\n"
        _ = redisReaderFeed(reader, bytes, bytes.utf8.count)
        var reply: UnsafeMutableRawPointer?
        #expect(redisReaderGetReply(reader, &reply) == REDIS_OK)
        let r = reply?.assumingMemoryBound(to: redisReply.self)
        #expect(r?.pointee.type == REDIS_REPLY_STATUS)
        #expect(r.map { String(cString: $0.pointee.str) } == "PONG")
        freeReplyObject(reply)
    }

    @Test func curlShimSetsAnOption() {
        let handle = curl_easy_init()
        #expect(handle != nil)
        defer { curl_easy_cleanup(handle) }
        #expect(duet_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
    }
}
