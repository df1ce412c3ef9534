/// Read access to a weight array, flat (the learner's) or paged (a published version's).
protocol WeightLookup {
    subscript(i: Int) -> Float { get }
}

extension Array: WeightLookup where Element == Float {}
extension UnsafeMutableBufferPointer: WeightLookup where Element == Float {}
extension WeightPages: WeightLookup {}

/// The one implementation of the model's arithmetic, shared by scoring, batch scoring and learning.
enum FactorizationMachine {
    /// For a group of features: the linear part Σ wᵢxᵢ, the factor sums s_f = Σ v_if xᵢ (written to
    /// `sums[offset..<offset+k]`) and the group's own pairwise term Σ_f (s_f² − Σ v_if² xᵢ²).
    @inline(__always)
    static func parts<C: Collection<Feature>, W: WeightLookup, V: WeightLookup, S: MutableCollection<Float>>(
        _ features: C, weights: W, factors: V, k: Int, mask: UInt32, sums: inout S, offset: Int = 0
    ) -> (linear: Float, pairwise: Float) where S.Index == Int {
        var linear: Float = 0
        for f in features { linear += weights[Int(f.index & mask)] * f.value }
        var pairwise: Float = 0
        for j in 0..<k {
            var s: Float = 0, q: Float = 0
            for f in features {
                let v = factors[Int(f.index & mask) * k + j] * f.value
                s += v
                q += v * v
            }
            sums[offset + j] = s
            pairwise += s * s - q
        }
        return (linear, pairwise)
    }

    /// The margin (log-odds) of one example: bias + scale · (linear + ½ pairwise).
    @inline(__always)
    static func margin<W: WeightLookup, V: WeightLookup>(
        _ features: [Feature], bias: Float, scale: Float, weights: W, factors: V, k: Int, mask: UInt32, sums: inout [Float]
    ) -> Float {
        let (linear, pairwise) = parts(features, weights: weights, factors: factors, k: k, mask: mask, sums: &sums)
        return bias + scale * (linear + 0.5 * pairwise)
    }
}
