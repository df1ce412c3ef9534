import ArgumentParser
import DuetAPI

/// `duet openapi`: prints the HTTP API's OpenAPI 3.1 document (the same one the server serves).
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the OpenAPI 3.1 document of the HTTP API.")
    func run() { print(OpenAPIDocument.json) }
}
