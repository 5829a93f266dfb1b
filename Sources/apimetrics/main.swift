import APIMetricsReport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// apimetrics report|calls|usage FILE... [OPTIONS]: see `apimetrics --help`.
// The commands live in APIMetricsReport, where the tests run them.

let now = Int64((Date().timeIntervalSince1970 * 1_000_000_000).rounded())
let outcome = APIMetricsCommand.run(
    Array(CommandLine.arguments.dropFirst()), now: now, outputIsTerminal: isatty(STDOUT_FILENO) == 1)
FileHandle.standardOutput.write(Data(outcome.output.utf8))
FileHandle.standardError.write(Data(outcome.errorOutput.utf8))
exit(outcome.status)
