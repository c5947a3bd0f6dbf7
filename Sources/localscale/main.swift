import ArgumentParser
import LocScaleEngine
import Foundation

// Exit status: 0 success (and --help, --version), 2 bad usage, 1 bad input or any failure.

/// Ends the process for an error of argument parsing (which may also surface from `run()`, as
/// for `--help`): help and version to stdout with 0, usage errors to stderr with 2.
func exitForParserError(_ error: Error) -> Never {
    let message = LocalScaleCommand.fullMessage(for: error)
    if LocalScaleCommand.exitCode(for: error) == .success {
        print(message)
        exit(0)
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let command: ParsableCommand
do {
    command = try LocalScaleCommand.parseAsRoot()
} catch {
    exitForParserError(error)
}

do {
    var runnable = command
    try runnable.run()
} catch is ReportedOnRankZero {
    exit(1)
} catch let exit as ExitCode {
    Foundation.exit(exit.rawValue)
} catch where [.success, .validationFailure].contains(LocalScaleCommand.exitCode(for: error)) {
    exitForParserError(error)
} catch {
    FileHandle.standardError.write(Data("localscale: error: \(error)\n".utf8))
    exit(1)
}
