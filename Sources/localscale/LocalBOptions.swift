import ArgumentParser
import LocScaleCore
import LocScaleEngine

/// `scale`'s local B map (docs/KERNEL.md §8).
struct ScaleLocalBOptions: ParsableArguments {
    @Option(name: .customLong("bfactor-map"), help: ArgumentHelp("""
        Also write the local B map (MRC, mode 2, Å², the input's geometry; with --hdf5 also /bfactor): \
        per scaled voxel a Guinier fit of ln(power) against s² of the experimental map's own window \
        (minus its mean, Hann-apodised, unpadded FFT, the white noise of the confidence map's noise \
        region subtracted; none when that region is masked to zero, and the run says so), \
        B = −2 · slope; 0 outside the mask and where fewer than 3 shells from --guinier-from on \
        have power above 1.5 × the noise's (counted in the summary). The same definition for every --pad-factor and \
        both methods: fast mode also reads the experimental map's planes the windows need, rather \
        than using its filter bank's shell powers (those are the hard-edged window's spectra, which \
        follow the blur inversely). With --compat locscale2: LocScale 2's own definition (its emmer's \
        get_local_bfactor_emmap: the raw window's radial mean amplitude, ln A against s² from \
        --guinier-from, B = −4 · slope, no noise correction, every voxel; on the synthetic ribosome it \
        follows the blur inversely, r −0.83).
        """, valueName: "bfactor.mrc"))
    var path: String?

    @Option(name: .customLong("guinier-from"), help: ArgumentHelp("""
        Low-resolution end of the local B fit in Å (default 10); the high end is the model's \
        --resolution, else Nyquist.
        """, valueName: "Å"))
    var guinierFrom: Double?

    @Option(name: .customLong("bfactor-stride"), help: ArgumentHelp("""
        Fit B only on the voxels whose x, y and z are multiples of N; every other voxel takes its \
        nearest such voxel's B (1: every voxel). Default 2 with --method exact (measured +5–9 % \
        time), 4 with --method fast (+7–17 %); at 1 the map costs about half as much again as \
        exact pad 1.
        """, valueName: "N"))
    var stride: Int?

    /// The fit's settings.
    var options: LocalBOptions { LocalBOptions(guinierFrom: guinierFrom ?? 10, stride: stride) }

    /// Usage checks: the settings need `--bfactor-map`; the stride is positive; the fit's low end
    /// lies above its high end — the model's resolution, else Nyquist of `map` (checked when its
    /// header can be read; otherwise the run names the file).
    func validate(map: String, resolution: Double?, locscale2: Bool) throws {
        if path == nil {
            for (option, given) in [("--guinier-from", guinierFrom != nil), ("--bfactor-stride", stride != nil)]
            where given { throw ValidationError("\(option) needs --bfactor-map") }
            return
        }
        if let stride, stride < 1 { throw ValidationError("--bfactor-stride \(stride): must be at least 1") }
        if locscale2, stride != nil {
            throw ValidationError("--bfactor-stride: LocScale 2's local B (--compat locscale2) fits every voxel")
        }
        guard let guinierFrom else { return }
        let text = formatDecimal(guinierFrom)
        guard guinierFrom > 0 else { throw ValidationError("--guinier-from \(text): must be positive (Å)") }
        let upper: (Double, String)? = if let resolution {
            (resolution, "--resolution")
        } else if let grid = try? MRCFile.readHeader(path: map).grid {
            (2 * grid.meanVoxelSize, "Nyquist of \(map)")
        } else { nil }
        if let (limit, name) = upper, guinierFrom <= limit {
            throw ValidationError("""
                --guinier-from \(text): must be above the fit's high-resolution end, \(formatDecimal(limit)) Å \
                (\(name))
                """)
        }
    }
}
