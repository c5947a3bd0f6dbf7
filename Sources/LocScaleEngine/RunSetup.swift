import LocScaleCore
import LocScaleParallel

/// What rank 0 learns from the inputs and every rank needs: the box, the rule, the work per
/// plane, the extension values, and rank 0's FFT plans (so that every rank computes with the
/// same algorithms and an N-rank map equals the 1-rank map bit for bit).
struct RunSetup: Codable {
    var shape: XYZ<Int>
    var window: Int
    var rule: ScalingRule
    /// Voxels to scale in each z-plane.
    var planeCounts: [Int]
    /// Float bit patterns, so that the values arrive exactly.
    var experimentalOutside: UInt32
    var modelOutside: UInt32
    var wisdom: String
    var method: MethodPlan
    /// The powers of two the maps are computed at (the outside values above are already scaled).
    var normalisation: MapNormalisation
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

/// Rank 0's whole maps and voxel list while they are handed out (empty on other ranks); each
/// method releases them as soon as its copies exist.
struct WholeMaps {
    var experimental: [Float]
    var model: [Float]
    var voxels: [Int]
}
