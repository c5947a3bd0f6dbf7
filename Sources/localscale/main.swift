import ArgumentParser
import Foundation

// Exit status: 0 success (and --help, --version), 2 bad usage, 1 bad input or any failure.
let command: ParsableCommand
do {
    command = try LocalScaleCommand.parseAsRoot()
} catch {
    let code = LocalScaleCommand.exitCode(for: error)
    let message = LocalScaleCommand.fullMessage(for: error)
    if code == .success {
        print(message)
        exit(0)
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

do {
    var runnable = command
    try runnable.run()
} catch is ReportedOnRankZero {
    exit(1)
} catch let exit as ExitCode {
    Foundation.exit(exit.rawValue)
} catch {
    FileHandle.standardError.write(Data("localscale: error: \(error)\n".utf8))
    exit(1)
}
