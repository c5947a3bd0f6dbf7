import Foundation

/// Exact shell powers of the lowest shells at every listed voxel, by sliding DFTs (FASTMODE.md
/// step 4): the coefficient `F(k)` of a voxel's cube is, up to a phase, the cube sum of the map
/// modulated by `exp(−2πi k·x/P)`, so `|F(k)|²` for all voxels costs two cube sums (real and
/// imaginary part) per frequency pair `±k`. Shells 0 and 1 (19 frequencies, 10 pairs) carry the
/// largest gains and most of the fast estimate's remaining error.
struct LowShellPowers {
    /// Shells `0 ... shells`; −1 for none.
    let shells: Int
    let layout: SpectrumLayout
    let grid: SlabGrid
    let sums: CubeSums

    /// Per shell, per voxel: experimental and model powers `Σ_{k∈s} |F(k)|²`.
    struct Powers {
        var experimental: [[Double]]
        var model: [[Double]]
    }

    /// One frequency of a `±k` pair on the `P` grid, its shell, and how many of the two it
    /// stands for (1 when `k ≡ −k`).
    private struct Frequency {
        let k: XYZ<Int>
        let shell: Int
        let multiplicity: Double
    }

    init(shells: Int, layout: SpectrumLayout, grid: SlabGrid, sums: CubeSums) {
        self.shells = shells
        self.layout = layout
        self.grid = grid
        self.sums = sums
    }

    /// The frequencies of shells `0 ... shells`, one per `±k` pair.
    private var frequencies: [Frequency] {
        let p = layout.padded
        func wrapped(_ j: Int) -> Int { j <= p / 2 ? j : j - p }
        var seen = Set<Int>(), result: [Frequency] = []
        for kz in 0..<p {
            for ky in 0..<p {
                for kx in 0..<p {
                    let (a, b, c) = (wrapped(kx), wrapped(ky), wrapped(kz))
                    let shell = Int(Double(a * a + b * b + c * c).squareRoot().rounded())
                    guard shell <= shells else { continue }
                    let index = (kz * p + ky) * p + kx
                    let mirror = (((p - kz) % p) * p + (p - ky) % p) * p + (p - kx) % p
                    guard !seen.contains(index) else { continue }
                    seen.insert(index)
                    seen.insert(mirror)
                    result.append(Frequency(k: XYZ(kx, ky, kz), shell: shell, multiplicity: index == mirror ? 1 : 2))
                }
            }
        }
        return result
    }

    /// The powers of both maps (this process's planes, x fastest) at `positions` (indices into
    /// the grid's buffer layout).
    func measure(experimental: UnsafeBufferPointer<Float>, model: UnsafeBufferPointer<Float>,
                 at positions: [Int]) throws -> Powers {
        let zero = [[Double]](repeating: [Double](repeating: 0, count: positions.count), count: max(shells + 1, 0))
        var powers = Powers(experimental: zero, model: zero)
        guard shells >= 0 else { return powers }
        let real = grid.makeBuffer(), imaginary = grid.makeBuffer()
        for frequency in frequencies {
            for (map, isModel) in [(experimental, false), (model, true)] {
                modulate(map, by: frequency.k, real: real, imaginary: imaginary)
                try sums.apply(to: real, grid: grid, squared: false)
                try sums.apply(to: imaginary, grid: grid, squared: false)
                for (n, i) in positions.enumerated() {
                    let re = Double(real.pointer[i]), im = Double(imaginary.pointer[i])
                    let power = frequency.multiplicity * (re * re + im * im)
                    if isModel { powers.model[frequency.shell][n] += power } else { powers.experimental[frequency.shell][n] += power }
                }
            }
        }
        return powers
    }

    /// `map · exp(−2πi k·x/P)` split into real and imaginary buffers (grid layout), `x` the
    /// grid coordinates; the phase is looked up from `k·x mod P`, so it is exact.
    private func modulate(_ map: UnsafeBufferPointer<Float>, by k: XYZ<Int>, real: AlignedBuffer<Float>,
                          imaginary: AlignedBuffer<Float>) {
        let p = layout.padded, size = grid.size, rowLength = grid.rowLength
        let cosine = (0..<p).map { Float(cos(2 * Double.pi * Double($0) / Double(p))) }
        let sine = (0..<p).map { Float(-sin(2 * Double.pi * Double($0) / Double(p))) }
        let first = grid.planes.lowerBound
        let pointers = UnsafeSendable((map, real.pointer, imaginary.pointer))
        parallelChunks(grid.planes.count, threads: sums.threads) { chunk in
            let (source, re, im) = pointers.value
            for plane in chunk {
                for y in 0..<size.y {
                    let phase = (k.z * (first + plane) + k.y * y) % p
                    let from = (plane * size.y + y) * size.x
                    let row = (plane * size.y + y) * rowLength
                    for x in 0..<size.x {
                        let m = (phase + k.x * x) % p
                        re[row + x] = source[from + x] * cosine[m]
                        im[row + x] = source[from + x] * sine[m]
                    }
                }
            }
        }
    }
}
