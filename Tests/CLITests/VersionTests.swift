import Foundation
import Testing

/// `localscale --version` and the shell completions swift-argument-parser generates.
@Suite("version and completions")
struct VersionTests {
    static let version = "0.1.0"

    @Test("--version: version and commit, then one line each for FFTW, MPI and HDF5, with no NUL byte")
    func versionLines() throws {
        let result = try CLITests.run(["--version"])
        #expect(result.status == 0)
        #expect(!result.stdout.utf8.contains(0), "\(Array(result.stdout.utf8))")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5 && lines[4].isEmpty, "\(lines)")
        guard lines.count == 5 else { return }
        let commit = lines[0].firstMatch(of: /^localscale 0\.1\.0 \(commit (unknown|[0-9a-f]{7,40}(-dirty)?)\)$/)
        #expect(commit != nil, "\(lines[0])")
        #expect(lines[1] == "FFTW   fftw-3.3.10-sse2-avx")
        #expect(lines[2].hasPrefix("MPI    Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, "), "\(lines[2])")
        #expect(lines[2].hasSuffix(", May 26, 2022 (MPI 3.1)"), "\(lines[2])")
        #expect(lines[3] == "HDF5   1.10.8")
    }

    @Test("the commit is the tree's when ./cmake-free-build.sh wrote BuildCommit.generated.swift")
    func commitFromBuildScript() throws {
        let generated = StaticBinary.root + "/Sources/localscale/BuildCommit.generated.swift"
        guard let source = try? String(contentsOfFile: generated, encoding: .utf8),
              let recorded = source.firstMatch(of: /static var commit: String \{ "([^"]+)" \}/)?.1 else { return }
        let line = try CLITests.run(["--version"]).stdout.split(separator: "\n").first ?? ""
        #expect(line == "localscale \(Self.version) (commit \(recorded))")
    }

    @Test("completion scripts for bash, zsh and fish", arguments: [("bash", "complete -o filenames -F _localscale localscale"),
                                                                  ("zsh", "#compdef localscale"),
                                                                  ("fish", "complete -c 'localscale'")])
    func completions(shell: String, marker: String) throws {
        let result = try CLITests.run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(marker), "\(result.stdout.prefix(400))")
        #expect(result.stdout.contains("--pad-factor"))
    }
}
