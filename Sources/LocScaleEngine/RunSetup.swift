import LocScaleCore
import LocScaleParallel

/// What rank 0 plans and every rank needs: the box, the rule, the work per plane, the method,
/// and rank 0's FFT plans (so that every rank computes with the same algorithms and an N-rank
/// map equals the 1-rank map bit for bit).
struct RunSetup: Codable {
    var shape: XYZ<Int>
    var window: Int
    var rule: ScalingRule
    /// Voxels to scale in each z-plane.
    var planeCounts: [Int]
    var wisdom: String
    var method: MethodPlan
}

/// How the shell powers are found, with what each method needs.
enum MethodPlan: Codable {
    case exact
    /// The filter bank on `box`, at `padFactor` (fast mode estimates exact mode), with exact
    /// powers of shells 0 … `exactShells`.
    case fast(FastPlan)

    var method: ScalingMethod {
        switch self {
        case .exact: return .exact
        case .fast: return .fast
        }
    }
}

/// Fast mode's grid placement and parameters.
struct FastPlan: Codable {
    var box: FastBox
    var padFactor: Double
    var exactShells: Int
}

/// The phases of a scaling run, in order, as `/timing` and the timing table name them.
enum Phase: Int, CaseIterable {
    case read, scatter, halo, compute, gather, write

    var name: String { "\(self)" }
}

/// Seconds per phase of this rank's run, as phases end.
final class PhaseClock {
    var timings = RankTimings()
    let started = Communicator.time
    private lazy var phaseStart = started

    /// Ends `phase` now: it lasted since the previous phase ended (or the run started).
    func end(_ phase: Phase) {
        let now = Communicator.time
        timings.seconds[phase.rawValue] = now - phaseStart
        phaseStart = now
    }
}
