/// Ascending sort of non-negative doubles (p-values) by their bit patterns, which order them
/// for non-negative values: least-significant-digit radix sort with 16-bit digits, stable,
/// O(n) — the FDR adjustment sorts millions of p-values, where a comparison sort is 10× slower.
public enum RadixSort {
    /// Sorts `values` ascending in place, permuting `payload` (one entry per value, or empty) with
    /// them; one spare array of each beside them. Every value must be non-negative and not NaN.
    public static func sort(_ values: inout [Double], carrying payload: inout [Int]) {
        precondition(payload.isEmpty || payload.count == values.count, "one payload entry per value")
        let n = values.count
        var spare = [Double](repeating: 0, count: n), spareLoad = [Int](repeating: 0, count: payload.count)
        var counts = [Int](repeating: 0, count: 1 << 16)
        for shift in stride(from: UInt64(0), to: 64, by: 16) {
            for i in counts.indices { counts[i] = 0 }
            for value in values { counts[Int((value.bitPattern >> shift) & 0xFFFF)] += 1 }
            if counts.contains(n) { continue }   // one digit for all: the pass would not move anything
            var start = 0
            for i in counts.indices {
                let count = counts[i]
                counts[i] = start
                start += count
            }
            values.withUnsafeBufferPointer { from in
                spare.withUnsafeMutableBufferPointer { to in
                    counts.withUnsafeMutableBufferPointer { next in
                        payload.withUnsafeBufferPointer { fromLoad in
                            spareLoad.withUnsafeMutableBufferPointer { toLoad in
                                for i in 0..<n {
                                    let digit = Int((from[i].bitPattern >> shift) & 0xFFFF)
                                    let at = next[digit]
                                    next[digit] = at + 1
                                    to[at] = from[i]
                                    if !fromLoad.isEmpty { toLoad[at] = fromLoad[i] }
                                }
                            }
                        }
                    }
                }
            }
            swap(&values, &spare)
            swap(&payload, &spareLoad)
        }
    }
}
