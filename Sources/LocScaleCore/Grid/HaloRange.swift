/// The planes a rank needs beyond its own slab to cut every window of it: its slab widened by
/// `below` planes under and `above` planes over it, clipped to the box (cubes that leave the box
/// use the extension value, not data).
public struct HaloRange: Equatable, Sendable {
    /// Planes owned (core).
    public let core: Range<Int>
    /// Planes held: core plus halo, within `0 ..< depth`.
    public let held: Range<Int>

    public init(core: Range<Int>, below: Int, above: Int, depth: Int) {
        self.core = core
        held = core.isEmpty ? core : max(0, core.lowerBound - below) ..< min(depth, core.upperBound + above)
    }
}
