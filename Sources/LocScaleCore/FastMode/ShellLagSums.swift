/// `D_s(d) = Σ_{k∈s} exp(2πi k·d/P)` for every integer lag `d` on the `P³` grid, one shell at a
/// time: the inverse FFT of the shell's indicator on exact mode's half-spectrum (FASTMODE.md,
/// notation). Real and even, because every shell is closed under `k → −k`.
final class ShellLagSums {
    let layout: SpectrumLayout
    private let plan: ComplexToRealPlan3D
    private let indicator: AlignedBuffer<Float>
    private let lags: AlignedBuffer<Float>

    init(layout: SpectrumLayout) {
        self.layout = layout
        let p = layout.padded
        indicator = AlignedBuffer(count: 2 * p * p * (p / 2 + 1))
        lags = AlignedBuffer(count: p * p * p)
        plan = ComplexToRealPlan3D(nz: p, ny: p, nx: p, buffers: (indicator, lags))
    }

    /// `D_s` for shell `s`, (z, y, x) with x fastest; valid until the next call.
    func sums(shell s: Int) -> UnsafeBufferPointer<Float> {
        let shell = layout.shell
        for j in 0..<layout.coefficientCount {
            indicator.pointer[2 * j] = shell[j] == s ? 1 : 0
            indicator.pointer[2 * j + 1] = 0
        }
        plan.execute(indicator, lags)
        return UnsafeBufferPointer(lags.buffer)
    }
}
