import Foundation
import Testing

/// benchmarks/hostile-inputs.py on the binary under test: ~60 kinds of hostile input (headers,
/// map values, atomic models, outputs, options), each refused with one line or accepted with a
/// finite map; none crashes, hangs, overwrites an input or leaves a temporary file.
@Suite("Hostile inputs")
struct HostileInputTests {
    @Test("every kind of hostile input is refused with one line or gives a finite map")
    func sweep() throws {
        let script = URL(fileURLWithPath: CLITests.fixtures).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("benchmarks/hostile-inputs.py").path
        let result = try CLITests.launch("/usr/bin/env", ["python3", script, CLITests.binary, "--limit", "30"],
                                         limit: 900)
        let lines = result.stdout.split(separator: "\n")
        let failures = lines.dropFirst().dropLast().filter { !$0.contains("  ok  ") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(lines.count > 50)
        #expect(lines.last.map(String.init)?.hasSuffix(" passed, 0 failed") == true, "\(result.stderr)")
        #expect(result.status == 0)
    }
}
