import Foundation

/// Where scripts/fetch-test-data.sh put the reference data: `$BRIVL_TEST_DATA`, or `<package root>/.cache/test-data`
/// when that is unset.
public enum TestDataLocation {
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FileTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["BRIVL_TEST_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return packageRoot.appendingPathComponent(".cache/test-data", isDirectory: true)
    }

    /// CI sets BRIVL_REQUIRE_TEST_DATA=1 after fetching the data, so that missing data fails instead of skipping.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["BRIVL_REQUIRE_TEST_DATA"] == "1" }
}
