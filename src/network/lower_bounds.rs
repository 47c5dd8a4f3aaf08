//! The best *certified lower* bound on Lip(f) that lipcert can find by
//! looking at the network's real behaviour:
//!
//! (a) sampled pairs: ‖f(x) − f(y)‖/‖x − y‖ for random x and y at several
//!     distances;
//! (b) the spectral norm of the Jacobian at sampled points, by power
//!     iteration on JᵀJ with forward-mode (J·v) and reverse-mode (Jᵀ·w)
//!     products through the layers, converted into a pair (x − tv, x + tv)
//!     along the top right singular vector v;
//! (c) gradient ascent on the pair ratio r(x, y) = ‖f(x) − f(y)‖/‖x − y‖
//!     (whose gradient needs one reverse-mode product per point), starting
//!     from the best pairs of (a) and (b).
//!
//! (d) a multi-start ascent on σ(J(x)) itself (see `jacobian_ascent`).
//!
//! A budget bounds the whole search — of seconds
//! ([`LowerBoundOptions::budget_seconds`]), or of network passes
//! ([`SearchWork::Passes`], [`SearchWork::Auto`]: the CLI's default), which
//! counts work instead of time so that the result does not depend on the
//! machine's speed or load; the stages below are the same with either,
//! "time" meaning the budget's units. With a budget: each stage stops
//! starting new work at its share of the budget (cumulative deadlines at
//! 10 %, 25 %, 40 % and 100 % of it, so time a stage does not use passes
//! to the next), and the first sampled pair is always evaluated, so even a
//! budget of 0 gives a certified ratio.
//! One unit of work (a forward pass, one power step, one ascent step) is
//! never interrupted, so the overrun is at most one unit plus the rigorous
//! conversion of the points already found — and, on a network whose plain
//! pairs are swamped by rounding (below), one compensated evaluation: it is
//! timed once, and the compensated stage's cost (two compensated
//! evaluations per certified pair and the plain probes) is then held back
//! from the other stages' shares, or the stage is skipped, and
//! [`LowerBoundReport::compensated`] says so with the budget it would need
//! (with a budget of passes the compensated stage is outside it, as
//! without a budget).
//!
//! On deep networks the certified forward error of a plain f64 evaluation
//! (each layer's rounding carried through the later layers' bounds) can
//! swamp every pair's difference. When the best certified ratio is below
//! half the best floating-point ratio seen, the three pairs with the largest
//! floating-point ratios and the best sampled pair, each widened or narrowed
//! about its midpoint, are evaluated again with the compensated dot product
//! ([`rigorous_pair_ratio_accurate`]; see `compensated_reevaluation`);
//! each keeps its stage.
//!
//! Every *reported* number is a rigorous lower bound on Lip(f): each pair
//! ratio is evaluated with [`rigorous_pair_ratio`], which subtracts the
//! certified forward rounding error of both evaluations. The Jacobian norm
//! estimate of (b) itself is a floating-point estimate and is reported
//! separately as `jacobian_estimate` (not a bound).

use super::evaluate::{forward, forward_with_error, forward_with_error_accurate, jvp, vjp};
use super::layer::Network;
use super::softmax_balance::SoftmaxBalance;
use crate::error::Result;
use crate::rounding::{div_down, mul_up, norm2_down, norm2_up, sub_down, UNIT_ROUNDOFF};
use serde::Serialize;

/// How hard to search.
#[derive(Debug, Clone, PartialEq)]
pub struct LowerBoundOptions {
    /// Random pairs for (a).
    pub pairs: usize,
    /// Random points for (b).
    pub jacobian_points: usize,
    /// Power-iteration steps per point in (b).
    pub power_steps: usize,
    /// Gradient-ascent steps in (c) (per start).
    pub ascent_steps: usize,
    /// Standard deviation of the random inputs.
    pub input_scale: f64,
    /// Seed of the sampler.
    pub seed: u64,
    /// Restarts of the multi-start Jacobian ascent (d) when there is no
    /// budget (0 skips it); with a budget it restarts until the budget is
    /// spent.
    pub ascent_restarts: usize,
    /// Wall-clock budget in seconds for the whole search (see the module
    /// docs); when set, `work` is ignored.
    pub budget_seconds: Option<f64>,
    /// Without `budget_seconds`, what bounds the search: the fixed counts
    /// above (the default here, fast, for tests) or a number of network
    /// passes (the CLI's and Python's default, [`SearchWork::Auto`]);
    /// either way the result does not depend on the machine's speed.
    pub work: SearchWork,
    /// Threads of the compensated convolutions (0: all cores, the default;
    /// the results do not depend on the count, only the time does).
    pub threads: usize,
}

/// Without a time budget, what bounds the lower-bound search. Every choice
/// is deterministic: the same network, options and seed give the same
/// bounds on every run, however fast or loaded the machine (bit for bit
/// where the matrix kernels use the same SIMD width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchWork {
    /// The fixed counts of [`LowerBoundOptions`] (`pairs`,
    /// `jacobian_points`, `ascent_restarts`, …): a short search.
    Counts,
    /// The staged search of a time budget (module docs: the stage shares,
    /// restarts until the ascent's share is spent, the smoothing homotopy,
    /// the polish), with the budget measured in network passes instead of
    /// seconds (counted per thread: a forward pass 1, a JVP or VJP 2, a
    /// forward pass with its certified error 2, the m rows of a Jacobian
    /// 1 + m).
    Passes(u64),
    /// [`SearchWork::Passes`] with [`auto_passes`] of the network: work
    /// growing slowly with the network's cost per pass (a few seconds on
    /// small networks), between [`AUTO_PASSES_MIN`] and
    /// [`AUTO_PASSES_MAX`] passes.
    Auto,
}

/// Restarts of the multi-start Jacobian ascent without a time budget.
pub const DEFAULT_ASCENT_RESTARTS: usize = 8;

impl Default for LowerBoundOptions {
    fn default() -> Self {
        Self {
            pairs: 64,
            jacobian_points: 12,
            power_steps: 20,
            ascent_steps: 40,
            ascent_restarts: DEFAULT_ASCENT_RESTARTS,
            input_scale: 1.0,
            seed: 0x6e65_7477_6f72_6b21,
            budget_seconds: None,
            work: SearchWork::Counts,
            threads: 0,
        }
    }
}

/// [`SearchWork::Auto`]'s passes are [`AUTO_SCALE`] / √cost for a
/// network of [`pass_cost`] cost: the search's work grows as √cost, so a
/// network a hundred times costlier gets ten times the time (a larger
/// input has more linear regions to search), between [`AUTO_WORK_MIN`]
/// and [`AUTO_WORK_MAX`]. Calibrated on this project's 2-vCPU machines
/// (release build, one pass unit ≈ 0.12 ns): 2.8 s of search on MTCNN's
/// PNet, 3.0 s on the bundled example CNN, 7.7 s on RNet, 14 s on ONet,
/// 6.6 s on a 384 → 1536 → 384 GELU block. The fixed counts that were the
/// default before spent 0.8, 0.7, 6.3 and 91 s on the first four; with
/// cost^−0.7 (RNet 12 700 passes) RNet's bound was half the old one.
pub const AUTO_SCALE: f64 = 3.5e7;

/// The least work of [`SearchWork::Auto`], in [`pass_cost`] units (about
/// 3 s here): on MTCNN's PNet the √cost rule alone gave 57 800 passes and
/// 23.3–25.4 over four seeds, this floor 90 000 passes and 25.1–27.0 over
/// six; the example CNN's passes rise from 43 000 to 49 000.
pub const AUTO_WORK_MIN: f64 = 3.1e10;

/// The most work of [`SearchWork::Auto`], in [`pass_cost`] units (about
/// 30 s here; a ResNet-18 at 224×224 gets about 100 passes).
pub const AUTO_WORK_MAX: f64 = 2.5e11;

/// The fewest passes of [`SearchWork::Auto`]: enough for a sampled pair and
/// a few Jacobian products on a network so large that [`AUTO_WORK_MAX`]
/// buys fewer (give such networks `--lower-budget`).
pub const AUTO_PASSES_MIN: u64 = 20;

/// The most passes of [`SearchWork::Auto`].
pub const AUTO_PASSES_MAX: u64 = 200_000;

/// A network's cost per pass, for [`auto_passes`], in units of about
/// 0.12 ns here: summed over its nodes, each node's multiply-adds
/// (convolutions: taps times output positions; dense layers: rows·columns),
/// [`OUTPUT_COST`] per output value (elementwise work, allocation,
/// im2col copies) and a fixed [`NODE_OVERHEAD`] (dispatch); residual blocks
/// and concatenations add their branches'. Fitted to measured times per
/// pass: PNet 39 µs (model 34), the example CNN 67 µs (73), RNet 0.34 ms
/// (0.41), ONet 1.5 ms (2.4), the GELU block 0.21 ms (0.16).
pub fn pass_cost(net: &Network) -> f64 {
    net.nodes.iter().map(node_pass_cost).sum()
}

/// One node's share of [`pass_cost`].
fn node_pass_cost(n: &super::layer::Node) -> f64 {
    let out: usize = n.shape_out.iter().product();
    let inner = match n.nested() {
        Some(nodes) => nodes.into_iter().map(node_pass_cost).sum(),
        None => n.multiply_adds().map_or(0.0, |m| m as f64),
    };
    inner + OUTPUT_COST * out as f64 + NODE_OVERHEAD
}

/// [`pass_cost`] per output value of a node.
pub const OUTPUT_COST: f64 = 30.0;

/// [`pass_cost`] per node.
pub const NODE_OVERHEAD: f64 = 15_000.0;

/// The passes of [`SearchWork::Auto`]: [`AUTO_SCALE`] / √c for
/// c = [`pass_cost`], at least [`AUTO_WORK_MIN`] / c and at most
/// [`AUTO_WORK_MAX`] / c, clamped to [[`AUTO_PASSES_MIN`],
/// [`AUTO_PASSES_MAX`]].
pub fn auto_passes(net: &Network) -> u64 {
    let cost = pass_cost(net);
    let passes = (AUTO_SCALE / cost.sqrt())
        .max(AUTO_WORK_MIN / cost)
        .min(AUTO_WORK_MAX / cost);
    (passes as u64).clamp(AUTO_PASSES_MIN, AUTO_PASSES_MAX)
}

/// What each search found (all but `jacobian_estimate` are rigorous lower
/// bounds on Lip(f)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowerBoundReport {
    /// max of the three rigorous bounds.
    pub best: f64,
    /// (a) best certified sampled-pair ratio.
    pub sampled_pairs: f64,
    /// (b) best certified ratio along top Jacobian singular vectors.
    pub jacobian_pairs: f64,
    /// (c) best certified ratio after gradient ascent.
    pub gradient_ascent: f64,
    /// (d) best certified ratio of the multi-start ascent on σ(J(x)).
    pub jacobian_ascent: f64,
    /// Which search gave `best`: `sampled_pairs`, `jacobian_pairs`,
    /// `gradient_ascent` or `jacobian_ascent`.
    pub best_source: String,
    /// Largest Jacobian spectral norm estimate (floating point, no guarantee).
    pub jacobian_estimate: f64,
    /// Whether the compensated re-evaluation ran (module docs).
    pub compensated: CompensatedStage,
    /// Network passes the search evaluated ([`SearchWork::Passes`]'s units;
    /// the compensated evaluations and the blocks' own searches not
    /// counted).
    pub passes: u64,
}

/// What became of the compensated re-evaluation of a search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CompensatedStage {
    /// The plain certified pairs were not swamped by rounding.
    NotNeeded,
    /// It ran, for this many seconds.
    Ran {
        /// Wall-clock seconds of the stage.
        seconds: f64,
    },
    /// It was needed but did not fit in the budget.
    Skipped {
        /// The budget that would have held the stage, from the measured
        /// cost of one compensated evaluation (two per certified pair) and
        /// the plain probes; `None` when the budget was spent before it
        /// could be measured.
        needed_seconds: Option<f64>,
    },
}

/// A small deterministic generator (SplitMix64 with Box–Muller normals).
pub(crate) struct Sampler(u64);

impl Sampler {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Standard normal.
    pub(crate) fn normal(&mut self) -> f64 {
        let (a, b) = (self.uniform(), self.uniform());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
    pub(crate) fn normal_vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| scale * self.normal()).collect()
    }
}

/// A rigorous lower bound on ‖f(x) − f(y)‖/‖x − y‖ (hence on Lip(f)) for the
/// exact network, from floating-point evaluations:
/// ‖f(x) − f(y)‖ ≥ ‖fl(f̂(x) − f̂(y))‖/(1 + u) − e_x − e_y with e the
/// certified forward error bounds, and ‖x − y‖ ≤ ‖fl(x − y)‖/(1 − u);
/// norms rounded down/up. Returns 0 when x = y or rounding swamps the
/// difference, and when a certified forward error bound overflows f64 (a
/// valid network with huge layer constants: this pair then proves nothing,
/// which is not an error — found by the spec fuzz harness, where it turned
/// a certifiable network into exit 2). Needs certified layer bounds.
pub fn rigorous_pair_ratio(net: &Network, x: &[f64], y: &[f64]) -> Result<f64> {
    Ok(pair_ratios(net, x, y, &forward_with_error)?.0)
}

/// [`rigorous_pair_ratio`] with the dense and convolution layers evaluated
/// by the compensated dot product
/// ([`crate::network::evaluate::forward_with_error_accurate`]): several
/// times slower, but on deep networks its certified forward error is orders
/// of magnitude smaller, so pairs survive whose plain ratio is swamped.
/// Convolutions run on `threads` threads (0: all cores; the result does not
/// depend on the count).
pub fn rigorous_pair_ratio_accurate(
    net: &Network,
    x: &[f64],
    y: &[f64],
    threads: usize,
) -> Result<f64> {
    let eval = |n: &Network, v: &[f64]| forward_with_error_accurate(n, v, threads);
    Ok(pair_ratios(net, x, y, &eval)?.0)
}

/// An evaluation with a certified error bound (plain or compensated).
type WithError<'a> = &'a dyn Fn(&Network, &[f64]) -> Result<(Vec<f64>, f64)>;

/// (rigorous ratio as in [`rigorous_pair_ratio`], floating-point ratio
/// ‖f̂(x) − f̂(y)‖/‖x − y‖) from one evaluation of each point.
fn pair_ratios(net: &Network, x: &[f64], y: &[f64], eval: WithError<'_>) -> Result<(f64, f64)> {
    let with_error = |v: &[f64]| match eval(net, v) {
        Err(crate::Error::Overflow { .. }) => Ok(None),
        other => other.map(Some),
    };
    let (Some((fx, ex)), Some((fy, ey))) = (with_error(x)?, with_error(y)?) else {
        return Ok((0.0, float_ratio(net, x, y)?));
    };
    let dout: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
    let din: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let float = {
        let n = norm(&din);
        if n == 0.0 {
            0.0
        } else {
            norm(&dout) / n
        }
    };
    let den = mul_up(norm2_up(&din), 1.0 + 2.0 * UNIT_ROUNDOFF);
    if den == 0.0 {
        return Ok((0.0, float));
    }
    let num = sub_down(
        sub_down(div_down(norm2_down(&dout), 1.0 + 2.0 * UNIT_ROUNDOFF), ex),
        ey,
    );
    if num <= 0.0 {
        return Ok((0.0, float));
    }
    Ok((div_down(num, den), float))
}

/// How many pairs with the largest floating-point ratios are kept for the
/// compensated re-evaluation.
const SHORTLIST: usize = 3;

/// When the best plain certified ratio is below this fraction of the best
/// floating-point ratio, rounding swamped the pairs and the shortlist is
/// re-evaluated with the compensated dot product.
const SWAMPED: f64 = 0.5;

/// One candidate pair: (floating-point ratio, stage 0–3 for (a)–(d), x, y).
type Candidate = (f64, usize, Vec<f64>, Vec<f64>);

/// The pairs with the largest floating-point ratios seen, and the best
/// sampled pair of stage (a) (the widest separations, the most robust to
/// rounding).
#[derive(Default)]
struct Shortlist {
    top: Vec<Candidate>,
    sampled: Option<Candidate>,
}

impl Shortlist {
    fn offer(&mut self, float: f64, stage: usize, x: &[f64], y: &[f64]) {
        if !float.is_finite() {
            return;
        }
        if stage == 0 && self.sampled.as_ref().is_none_or(|c| c.0 < float) {
            self.sampled = Some((float, stage, x.to_vec(), y.to_vec()));
        }
        if self.top.len() == SHORTLIST {
            match self.top.last() {
                Some(last) if last.0 >= float => return,
                _ => {
                    self.top.pop();
                }
            }
        }
        self.top.push((float, stage, x.to_vec(), y.to_vec()));
        self.top.sort_by(|a, b| b.0.total_cmp(&a.0));
    }

    fn best_float(&self) -> f64 {
        self.top.first().map_or(0.0, |c| c.0)
    }

    /// The top pairs, then the best sampled pair if it is not among them.
    fn candidates(&self) -> Vec<&Candidate> {
        let mut all: Vec<&Candidate> = self.top.iter().collect();
        if let Some(c) = &self.sampled {
            if !self.top.iter().any(|t| t.2 == c.2 && t.3 == c.3) {
                all.push(c);
            }
        }
        all
    }
}

/// Half widths r of the pairs m ± r·(1 + ‖m‖)·u tried by the compensated
/// re-evaluation for a candidate with midpoint m and direction u (unit):
/// a wider pair has a larger output difference against about the same
/// certified error, a narrower one stays inside one linear region.
const RELATIVE_HALF_WIDTHS: [f64; 4] = [1e-3, 1e-2, 1e-1, 1.0];

/// Plain evaluations of the compensated stage's probes: both points of
/// every candidate (at most [`SHORTLIST`] + 1) at every width.
const PROBES: usize = 2 * RELATIVE_HALF_WIDTHS.len() * (SHORTLIST + 1);

/// One compensated evaluation of a reference point x₀: its certified error
/// e₀ (orders the compensated stage's work) and its wall-clock cost (plans
/// the stage under a budget).
#[derive(Clone, Copy)]
struct Reference {
    err: f64,
    norm: f64,
    seconds: f64,
}

/// The compensated evaluation of `x` as a [`Reference`]; `None` when its
/// certified error overflows f64 (the stage can then certify nothing).
fn reference(net: &Network, x: &[f64], threads: usize) -> Result<Option<Reference>> {
    let start = std::time::Instant::now();
    let timer = crate::timing::stage();
    let err = match forward_with_error_accurate(net, x, threads) {
        Ok((_, e)) => e,
        Err(crate::Error::Overflow { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    timer.done(|| "compensated: error of one point".into());
    Ok(Some(Reference {
        err,
        norm: norm(x),
        seconds: start.elapsed().as_secs_f64(),
    }))
}

/// Predicted seconds of the compensated stage once its reference is known:
/// the [`PROBES`] (each at most one evaluation of a plain certified pair's
/// point, `pair_seconds`/2) and one certified pair (two compensated
/// evaluations), plus 10 %.
fn compensated_cost(reference: &Reference, pair_seconds: f64) -> f64 {
    1.1 * (PROBES as f64 * 0.5 * pair_seconds + 2.0 * reference.seconds)
}

/// The compensated stage's plan, decided as soon as rounding is seen to
/// swamp the plain pairs.
enum Plan {
    /// Not decided yet (no swamping seen, or no budget).
    Open,
    /// Its cost is held back from the other stages.
    Reserved(Reference),
    /// It does not fit: this many seconds would be needed (when known).
    Skip(Option<f64>),
    /// The compensated error overflows: nothing to gain.
    Hopeless,
}

/// The compensated re-evaluation (module docs): every candidate's direction
/// is tried at the [`RELATIVE_HALF_WIDTHS`] around its midpoint in plain
/// floating point, and the pairs (a, b) are ranked by their predicted
/// certified ratio (‖Δf‖ − 2.5e)/‖Δx‖ with
/// e = e₀·(1 + (‖a‖ + ‖b‖)/2)/(1 + ‖x₀‖) from the [`Reference`] x₀ (errors
/// grow about like the activations; the prediction only orders the work,
/// every reported ratio is certified on its own). The best is always
/// certified, the next ones while the budget holds two more compensated
/// evaluations (at most [`SHORTLIST`] + 1). Returns each stage's best
/// certified ratio.
fn compensated_reevaluation(
    net: &Network,
    shortlist: &Shortlist,
    deadline: &Deadline,
    reference: &Reference,
    mut stage_best: [f64; 4],
    threads: usize,
) -> Result<[f64; 4]> {
    let candidates = shortlist.candidates();
    let timer = crate::timing::stage();
    let mut ranked: Vec<(f64, usize, Vec<f64>, Vec<f64>)> = Vec::new();
    for &&(_, stage, ref x, ref y) in &candidates {
        let m: Vec<f64> = x.iter().zip(y).map(|(x, y)| 0.5 * (x + y)).collect();
        let h: Vec<f64> = x.iter().zip(y).map(|(x, y)| 0.5 * (y - x)).collect();
        let hn = norm(&h);
        if hn == 0.0 || !hn.is_finite() {
            continue;
        }
        let mn = norm(&m);
        for r in RELATIVE_HALF_WIDTHS {
            let k = r * (1.0 + mn) / hn;
            let a: Vec<f64> = m.iter().zip(&h).map(|(m, h)| m - k * h).collect();
            let b: Vec<f64> = m.iter().zip(&h).map(|(m, h)| m + k * h).collect();
            let (fa, fb) = (forward(net, &a)?, forward(net, &b)?);
            let dout = norm(&fa.iter().zip(&fb).map(|(p, q)| p - q).collect::<Vec<_>>());
            let din = norm(&a.iter().zip(&b).map(|(p, q)| p - q).collect::<Vec<_>>());
            // Rounding errors grow about like the activations, i.e. like
            // the input's norm (only an ordering heuristic).
            let e = reference.err * (1.0 + 0.5 * (norm(&a) + norm(&b))) / (1.0 + reference.norm);
            if din > 0.0 && (dout - 2.5 * e) > 0.0 {
                ranked.push(((dout - 2.5 * e) / din, stage, a, b));
            }
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    timer.done(|| format!("compensated: {} widths probed", 4 * candidates.len()));
    for (k, (_, stage, a, b)) in ranked.iter().take(SHORTLIST + 1).enumerate() {
        if k > 0 && !deadline.holds(2.0 * reference.seconds) {
            break;
        }
        let r = rigorous_pair_ratio_accurate(net, a, b, threads)?;
        stage_best[*stage] = stage_best[*stage].max(r);
    }
    Ok(stage_best)
}

/// Cumulative stage deadlines of a budgeted search: stage k may start new
/// work while less than `share_k` of the budget — less the seconds held
/// back for the compensated stage — has passed.
struct Deadline {
    clock: Clock,
    /// The budget in the clock's units.
    budget: Option<f64>,
    /// Seconds at the end of the budget held back for the compensated stage.
    reserve: std::cell::Cell<f64>,
    /// Share of the budget after which the ascent stops moving points.
    moves: std::cell::Cell<f64>,
}

/// What a [`Deadline`] measures.
#[derive(Debug, Clone, Copy)]
enum Clock {
    /// Seconds since this instant.
    Seconds(std::time::Instant),
    /// Network passes on this thread since this count.
    Passes(u64),
}

/// Shares of the budget after which (a), (b) and (c) stop; (d) runs to 1.
const STAGE_SHARES: [f64; 3] = [0.10, 0.25, 0.40];

/// Share of the budget after which (d) stops moving points and turns the
/// ones found into certified pairs (until the whole budget is spent), at
/// least: once a certified pair has been timed, the share grows to leave
/// [`CONVERTED_PAIRS`] such pairs' time, twice over, up to
/// [`ASCENT_MOVES_SHARE_MAX`] (see [`Deadline::plan_moves`]).
const ASCENT_MOVES_SHARE: f64 = 0.85;

/// The largest share of the budget the ascent's moves may use.
const ASCENT_MOVES_SHARE_MAX: f64 = 0.97;

/// The ascent's best points turned into certified pairs.
const CONVERTED_POINTS: usize = 4;

/// Half widths t of the certified pairs x ± t·‖x‖-scale·v of each converted
/// point, from long to short: on a deep network the forward errors swamp a
/// short pair's difference (ResNet-18: 15 at 1e-3 against σ(J) ≈ 39), on a
/// smooth one a long pair loses O(t²).
const CONVERSION_WIDTHS: [f64; 5] = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6];

/// Certified pairs the ascent's conversion evaluates at most.
const CONVERTED_PAIRS: usize = CONVERTED_POINTS * CONVERSION_WIDTHS.len();

impl Deadline {
    /// A deadline `budget_seconds` from now; without one, `passes`
    /// network passes from now ([`super::pass_count`]); without either,
    /// none.
    fn new(budget_seconds: Option<f64>, passes: Option<u64>) -> Self {
        let (clock, budget) = match (budget_seconds, passes) {
            (Some(b), _) => (Clock::Seconds(std::time::Instant::now()), Some(b)),
            (None, Some(p)) => (Clock::Passes(super::pass_count::passes()), Some(p as f64)),
            (None, None) => (Clock::Seconds(std::time::Instant::now()), None),
        };
        Self {
            clock,
            budget,
            reserve: std::cell::Cell::new(0.0),
            moves: std::cell::Cell::new(ASCENT_MOVES_SHARE),
        }
    }
    /// Once one certified pair is known to take `pair_cost` (in the
    /// clock's units): the ascent may move points until all but
    /// 2·[`CONVERTED_PAIRS`] such pairs' cost is spent, between [`ASCENT_MOVES_SHARE`] and
    /// [`ASCENT_MOVES_SHARE_MAX`] of the budget (on a small network the
    /// conversion takes milliseconds, on ResNet-18 seconds).
    fn plan_moves(&self, pair_cost: f64) {
        if let Some(b) = self.budget {
            let left = (b - self.reserve.get()).max(0.0);
            if left > 0.0 {
                let share = 1.0 - 2.0 * CONVERTED_PAIRS as f64 * pair_cost / left;
                self.moves
                    .set(share.clamp(ASCENT_MOVES_SHARE, ASCENT_MOVES_SHARE_MAX));
            }
        }
    }
    /// Share of the budget after which the ascent stops moving points.
    fn moves_share(&self) -> f64 {
        self.moves.get()
    }
    /// Share of the budget after which the ascent stops restarting and
    /// polishes its best points ([`POLISH_SHARE_BEFORE_MOVES`] before
    /// [`Deadline::moves_share`]).
    fn polish_share(&self) -> f64 {
        self.moves_share() - POLISH_SHARE_BEFORE_MOVES
    }
    /// The budget's units spent so far: seconds, or network passes.
    fn elapsed(&self) -> f64 {
        match self.clock {
            Clock::Seconds(start) => start.elapsed().as_secs_f64(),
            Clock::Passes(start) => (super::pass_count::passes() - start) as f64,
        }
    }
    /// True when the search is bounded, by seconds or by passes (the
    /// staged search of the module docs; otherwise the fixed counts).
    fn bounded(&self) -> bool {
        self.budget.is_some()
    }
    /// True when the search is bounded by seconds (only then is the
    /// compensated stage planned into the budget).
    fn timed(&self) -> bool {
        self.bounded() && matches!(self.clock, Clock::Seconds(_))
    }
    /// True when `share` of the budget less the reserve is spent (never
    /// without a budget).
    fn passed(&self, share: f64) -> bool {
        self.budget
            .is_some_and(|b| self.elapsed() >= share * (b - self.reserve.get()).max(0.0))
    }
    /// True when `seconds` more still fit in the whole time budget (always
    /// without one, and with a budget of passes: the compensated stage that
    /// asks is outside it).
    fn holds(&self, seconds: f64) -> bool {
        !self.timed() || self.budget.is_none_or(|b| self.elapsed() + seconds <= b)
    }
}

/// Once the plain pairs are seen to be swamped: one compensated evaluation
/// of `x` measures the compensated stage's cost, which is then held back
/// from the other stages if it fits in what is left of the budget (always
/// without one); otherwise the stage is skipped.
fn plan_compensated(
    net: &Network,
    x: &[f64],
    pair_seconds: f64,
    deadline: &Deadline,
    threads: usize,
) -> Result<Plan> {
    let Some(reference) = reference(net, x, threads)? else {
        return Ok(Plan::Hopeless);
    };
    let cost = compensated_cost(&reference, pair_seconds);
    Ok(if deadline.holds(cost) {
        if deadline.timed() {
            deadline.reserve.set(cost);
        }
        Plan::Reserved(reference)
    } else {
        Plan::Skip(Some(deadline.elapsed() + cost))
    })
}

/// The dot product of two vectors (plain f64, for the search).
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// 1 + ‖x‖/√n: the length unit of steps and pairs around x (1 near the
/// origin, the entries' RMS size far from it).
fn length_unit(x: &[f64]) -> f64 {
    1.0 + norm(x) / (x.len() as f64).sqrt()
}

fn float_ratio(net: &Network, x: &[f64], y: &[f64]) -> Result<f64> {
    let fx = forward(net, x)?;
    let fy = forward(net, y)?;
    let d: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
    let dx: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let n = norm(&dx);
    Ok(if n == 0.0 { 0.0 } else { norm(&d) / n })
}

/// Runs the three searches (see the module docs). Needs certified layer
/// bounds ([`crate::network::certify::certify_layers`]).
pub fn empirical_lower_bounds(
    net: &Network,
    options: &LowerBoundOptions,
) -> Result<LowerBoundReport> {
    let n = net.input_len();
    let s = options.input_scale;
    let mut rng = Sampler::new(options.seed);
    let passes = match (options.budget_seconds, options.work) {
        (Some(_), _) | (None, SearchWork::Counts) => None,
        (None, SearchWork::Passes(p)) => Some(p),
        (None, SearchWork::Auto) => Some(auto_passes(net)),
    };
    let passes_at_start = super::pass_count::passes();
    let deadline = Deadline::new(options.budget_seconds, passes);
    let mut plan = Plan::Open;
    let mut pair_seconds = 0.0;
    let mut shortlist = Shortlist::default();
    let mut starts: Vec<(f64, Vec<f64>, Vec<f64>)> = Vec::new();

    // (a) sampled pairs at several distances.
    let timer = crate::timing::stage();
    let mut best_pairs = 0.0f64;
    for k in 0..options.pairs {
        if k > 0 && deadline.passed(STAGE_SHARES[0]) {
            break;
        }
        let x = rng.normal_vec(n, s);
        let delta = s * [1.0, 1e-1, 1e-2, 1e-3][k % 4];
        let y: Vec<f64> = x.iter().map(|&v| v + delta * rng.normal()).collect();
        let pair_start = std::time::Instant::now();
        let pair_units = deadline.elapsed();
        let (r, float) = pair_ratios(net, &x, &y, &forward_with_error)?;
        if k == 0 {
            pair_seconds = pair_start.elapsed().as_secs_f64();
            deadline.plan_moves(deadline.elapsed() - pair_units);
            if deadline.timed() && r < SWAMPED * float {
                plan = plan_compensated(net, &x, pair_seconds, &deadline, options.threads)?;
            }
        }
        best_pairs = best_pairs.max(r);
        shortlist.offer(float, 0, &x, &y);
        starts.push((float, x, y));
    }

    timer.done(|| format!("lower bound (a): {} sampled pairs", starts.len()));

    // (b) top Jacobian singular vector by power iteration on JᵀJ.
    let timer = crate::timing::stage();
    let mut best_jac = 0.0f64;
    let mut estimate = 0.0f64;
    for _ in 0..options.jacobian_points {
        if deadline.passed(STAGE_SHARES[1]) {
            break;
        }
        let x = rng.normal_vec(n, s);
        let mut v = rng.normal_vec(n, 1.0);
        let mut sigma = 0.0;
        for step in 0..options.power_steps {
            if step > 0 && deadline.passed(STAGE_SHARES[1]) {
                break;
            }
            let nv = norm(&v);
            if nv == 0.0 || !nv.is_finite() {
                break;
            }
            v.iter_mut().for_each(|e| *e /= nv);
            let (_, jv) = jvp(net, &x, &v)?;
            sigma = norm(&jv);
            if sigma == 0.0 {
                break;
            }
            v = vjp(net, &x, &jv)?;
        }
        let nv = norm(&v);
        if nv == 0.0 || !nv.is_finite() {
            continue;
        }
        v.iter_mut().for_each(|e| *e /= nv);
        estimate = estimate.max(sigma);
        let scale = length_unit(&x);
        for (i, t) in [1e-2, 1e-3, 1e-4, 1e-5].into_iter().enumerate() {
            // The first conversion of a power iteration that ran is kept
            // even past the deadline (its steps would be wasted otherwise).
            if i > 0 && deadline.passed(STAGE_SHARES[1]) {
                break;
            }
            let a: Vec<f64> = x.iter().zip(&v).map(|(x, v)| x - t * scale * v).collect();
            let b: Vec<f64> = x.iter().zip(&v).map(|(x, v)| x + t * scale * v).collect();
            let (r, float) = pair_ratios(net, &a, &b, &forward_with_error)?;
            best_jac = best_jac.max(r);
            shortlist.offer(float, 1, &a, &b);
            starts.push((float, a, b));
        }
    }

    timer.done(|| "lower bound (b): Jacobian power iteration".into());

    // (c) gradient ascent on the pair ratio from the best starts.
    let timer = crate::timing::stage();
    starts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best_ascent = 0.0f64;
    for (r0, x0, y0) in starts.into_iter().take(3) {
        if deadline.passed(STAGE_SHARES[2]) {
            break;
        }
        let (x, y) = ascend(net, x0, y0, r0, options.ascent_steps, &deadline)?;
        let (r, float) = pair_ratios(net, &x, &y, &forward_with_error)?;
        best_ascent = best_ascent.max(r);
        shortlist.offer(float, 2, &x, &y);
    }

    timer.done(|| "lower bound (c): pair ascent".into());

    // (d) multi-start ascent on σ(J(x)).
    let timer = crate::timing::stage();
    let (best_jac_ascent, est_ascent) = jacobian_ascent(
        net,
        &mut rng,
        s,
        options.ascent_restarts,
        &deadline,
        &mut shortlist,
    )?;
    timer.done(|| {
        format!(
            "lower bound (d): Jacobian ascent ({} network passes since (a), budget {:?})",
            super::pass_count::passes() - passes_at_start,
            passes
        )
    });
    let estimate = estimate.max(est_ascent);

    // Rounding swamped the plain pairs (deep networks): re-evaluate the
    // most promising ones with the compensated dot product, as planned
    // under a budget (module docs).
    let mut stage_best = [best_pairs, best_jac, best_ascent, best_jac_ascent];
    let plain_best = stage_best.iter().fold(0.0f64, |a, &b| a.max(b));
    let mut compensated = CompensatedStage::NotNeeded;
    if plain_best < SWAMPED * shortlist.best_float() && !shortlist.top.is_empty() {
        let stage_start = std::time::Instant::now();
        let timer = crate::timing::stage();
        if let Plan::Open = plan {
            // Not seen in (a): measure now, and run only what still fits.
            plan = if deadline.holds(0.0) {
                let x = &shortlist.top[0].2;
                plan_compensated(net, x, pair_seconds, &deadline, options.threads)?
            } else {
                Plan::Skip(None)
            };
        }
        compensated = match plan {
            Plan::Reserved(reference) => {
                stage_best = compensated_reevaluation(
                    net,
                    &shortlist,
                    &deadline,
                    &reference,
                    stage_best,
                    options.threads,
                )?;
                CompensatedStage::Ran {
                    seconds: stage_start.elapsed().as_secs_f64(),
                }
            }
            Plan::Skip(needed_seconds) => CompensatedStage::Skipped { needed_seconds },
            Plan::Hopeless | Plan::Open => CompensatedStage::Ran {
                seconds: stage_start.elapsed().as_secs_f64(),
            },
        };
        timer.done(|| "lower bound: compensated re-evaluation".into());
    }
    let [best_pairs, best_jac, best_ascent, best_jac_ascent] = stage_best;

    let sources = [
        ("sampled_pairs", best_pairs),
        ("jacobian_pairs", best_jac),
        ("gradient_ascent", best_ascent),
        ("jacobian_ascent", best_jac_ascent),
    ];
    let (best_source, best) = sources
        .iter()
        .fold(("sampled_pairs", 0.0f64), |acc, &(n, v)| {
            if v > acc.1 {
                (n, v)
            } else {
                acc
            }
        });
    Ok(LowerBoundReport {
        best,
        sampled_pairs: best_pairs,
        jacobian_pairs: best_jac,
        gradient_ascent: best_ascent,
        jacobian_ascent: best_jac_ascent,
        best_source: best_source.to_string(),
        jacobian_estimate: estimate,
        compensated,
        passes: super::pass_count::passes() - passes_at_start,
    })
}

/// Top singular value estimate and unit right singular vector of J(x) by
/// `steps` power iterations on JᵀJ from `v` (JVP then VJP per step).
/// Stops after the first step once `deadline` has passed `share`.
fn top_singular(
    net: &Network,
    x: &[f64],
    mut v: Vec<f64>,
    steps: usize,
    deadline: &Deadline,
    share: f64,
) -> Result<(f64, Vec<f64>)> {
    if net.output_len() <= EXACT_JACOBIAN_OUTPUTS {
        return exact_top_singular(net, x, v);
    }
    let mut sigma = 0.0;
    for step in 0..steps {
        if step > 0 && deadline.passed(share) {
            break;
        }
        let nv = norm(&v);
        if nv == 0.0 || !nv.is_finite() {
            return Ok((0.0, v));
        }
        v.iter_mut().for_each(|e| *e /= nv);
        let (_, jv) = jvp(net, x, &v)?;
        sigma = norm(&jv);
        if sigma == 0.0 || !sigma.is_finite() {
            return Ok((0.0, v));
        }
        v = vjp(net, x, &jv)?;
    }
    let nv = norm(&v);
    if nv == 0.0 || !nv.is_finite() {
        return Ok((0.0, v));
    }
    v.iter_mut().for_each(|e| *e /= nv);
    Ok((sigma, v))
}

/// Networks with at most this many outputs get σ(J(x)) and its right
/// singular vector from the explicit Jacobian ([`exact_top_singular`]).
const EXACT_JACOBIAN_OUTPUTS: usize = 16;

/// σ_max(J(x)) and a unit top right singular vector from the explicit m×n
/// Jacobian (m reverse-mode passes): the largest eigenpair (λ, u) of the
/// m×m Gram matrix JJᵀ (nalgebra's symmetric eigensolver), σ = √λ and
/// v = Jᵀu/σ. Falls back to `v` when J(x) = 0. An estimate like the power
/// iteration's, but with no iteration error: the ascent's comparisons of
/// σ between nearby points are then exact up to rounding.
fn exact_top_singular(net: &Network, x: &[f64], v: Vec<f64>) -> Result<(f64, Vec<f64>)> {
    let rows = super::evaluate::jacobian_rows(net, x)?;
    let m = rows.len();
    let gram = nalgebra::DMatrix::from_fn(m, m, |i, j| dot(&rows[i], &rows[j]));
    if gram.iter().any(|g| !g.is_finite()) {
        return Ok((0.0, v));
    }
    let eig = nalgebra::SymmetricEigen::new(gram);
    let Some(k) = (0..m).max_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b])) else {
        return Ok((0.0, v));
    };
    let sigma = eig.eigenvalues[k].max(0.0).sqrt();
    let u = eig.eigenvectors.column(k);
    let mut top = vec![0.0; x.len()];
    for (row, ui) in rows.iter().zip(u.iter()) {
        top.iter_mut().zip(row).for_each(|(t, r)| *t += ui * r);
    }
    let nt = norm(&top);
    if sigma == 0.0 || nt == 0.0 || !nt.is_finite() {
        return Ok((0.0, v));
    }
    top.iter_mut().for_each(|t| *t /= nt);
    Ok((sigma, top))
}

/// Multi-start ascent on σ(J(x)) (issue item 6). Starts of
/// [`START_KINDS`] kinds (standard normal·s, uniform [0, 1], normal·10s,
/// normal·s/10, normal·0.3s, normal·0.03s: small inputs are where the
/// biases decide the activation pattern), each once in the first round;
/// then every third restart takes the kinds in turn and the others draw a
/// kind with probability ∝ (the best σ its ascents reached)⁴ — σ(J) has
/// many local maxima, which kind reaches the high ones depends on the
/// network, and one unlucky first draw must not rule a kind out (a greedy
/// choice did, on MTCNN's PNet). On a network with a softmax output each
/// start is first moved to balanced logits ([`SoftmaxBalance`]: a
/// saturated softmax flattens σ(J) and its gradient; on PNet this took a
/// 140 000-pass search from 14.8–23.6 over six seeds to 25.7–27.2). From
/// each start:
///
/// 0. with a budget (of seconds or passes), on networks of at most [`SMOOTHING_MAX_INPUTS`]
///    inputs, the smoothing homotopy ([`smoothed_ascent`]): L-BFGS on
///    σ(J) of the network with its piecewise-linear activations smoothed,
///    for decreasing widths, which finds the linear regions where the exact
///    σ(J) is large;
/// 1. the smooth phase ([`smooth_ascent`], L-BFGS on σ(J(x)) with the
///    gradient of [`sigma_gradient`]) climbs to a local maximum on a smooth
///    network (GELU, SiLU, tanh); on a piecewise-linear one the gradient
///    vanishes inside a region and the phase ends at once;
/// 2. [`ASCENT_MOVES`] moves: each tries a step along the gradient taken
///    over a segment as long as the current step (on a piecewise-linear
///    network it sees the region boundaries nearby), then x ± t·d along the
///    top right singular vector v or a random direction (J is constant on
///    regions, so these moves change the activation pattern). A move is
///    kept when the estimated σ(J(x)) grows; the step t grows on success
///    and shrinks on failure.
///
/// With a budget, at [`Deadline::polish_share`] the best [`POLISHED`]
/// points are polished by hill climbing ([`polish`]) and the restarts go on
/// in whatever time the polish leaves until the moves' deadline; without
/// one, each is polished for at most [`POLISH_ROUNDS`] (or
/// [`POLISH_ROUNDS_POWER`]) rounds after the
/// restarts. On networks with at most [`EXACT_JACOBIAN_OUTPUTS`] outputs
/// every σ(J(x)) is computed from the explicit Jacobian
/// ([`exact_top_singular`]), which made restarts about 3.5× cheaper on
/// PNet (6 outputs). Measured on PNet (`--lower-budget 20`, seeds 1–5 of
/// `--lower-seed`): 23.7–25.8, against 21.0 before these changes.
///
/// The best points are turned into rigorous pair ratios along v
/// ([`rigorous_pair_ratio`]; on a piecewise-linear network a pair inside one
/// region attains ‖J(x)v‖, on a smooth one the symmetric pair is within
/// O(t²) of it). With a budget (of seconds or passes), restarts until the
/// deadline passes (none when it passed before the stage began); without
/// one, a fixed `restarts`
/// (default [`DEFAULT_ASCENT_RESTARTS`]).
/// Returns (certified ratio, σ estimate).
fn jacobian_ascent(
    net: &Network,
    rng: &mut Sampler,
    s: f64,
    restarts: usize,
    deadline: &Deadline,
    shortlist: &mut Shortlist,
) -> Result<(f64, f64)> {
    let restarts = if deadline.bounded() {
        usize::MAX
    } else {
        restarts
    };
    let n = net.input_len();
    let sqrt_n = (n as f64).sqrt();
    let mut found: Vec<(f64, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut restart = 0usize;
    let mut kind_best = [f64::NEG_INFINITY; START_KINDS];
    let moving = || deadline.passed(deadline.moves_share());
    let mut polished = false;
    let balance = SoftmaxBalance::find(net);
    loop {
        // With a budget: polish once the restarts' share is spent, then
        // restart again while the moves' share lasts (the polish stops
        // early when it finds nothing).
        if !polished && deadline.passed(deadline.polish_share()) {
            polish_best(net, rng, &mut found, balance.as_ref(), deadline)?;
            polished = true;
        }
        if restart >= restarts || moving() {
            break;
        }
        let kind = if restart < START_KINDS {
            FIRST_ROUND[restart]
        } else if restart % 3 == 0 {
            (restart / 3) % START_KINDS
        } else {
            draw_kind(rng, &kind_best).unwrap_or(restart % START_KINDS)
        };
        let mut x: Vec<f64> = match kind {
            0 => rng.normal_vec(n, s),
            1 => (0..n).map(|_| rng.uniform()).collect(),
            2 => rng.normal_vec(n, 10.0 * s),
            3 => rng.normal_vec(n, 0.1 * s),
            4 => rng.normal_vec(n, 0.3 * s),
            _ => rng.normal_vec(n, 0.03 * s),
        };
        restart += 1;
        let (mut sigma, mut v) = top_singular(
            net,
            &x,
            rng.normal_vec(n, 1.0),
            20,
            deadline,
            deadline.moves_share(),
        )?;
        // A softmax output saturated at the start would stay saturated
        // (σ(J) and its gradient vanish with p₁p₂): start from balanced
        // logits instead.
        if let Some(b) = balance.as_ref().and_then(|b| b.balanced(&x)) {
            x = b;
            (sigma, v) = top_singular(net, &x, v, 20, deadline, deadline.moves_share())?;
        }
        // With a budget, small networks also climb a smoothed σ(J) first.
        if n <= SMOOTHING_MAX_INPUTS && deadline.bounded() {
            (x, sigma, v) = smoothed_ascent(net, x, sigma, v, deadline)?;
        }
        (x, sigma, v) = smooth_ascent(net, x, sigma, v, SMOOTH_ITERATIONS, deadline)?;

        let mut step = 0.3 * (norm(&x) / sqrt_n).max(1e-3);
        for it in 0..ASCENT_MOVES {
            if moving() {
                break;
            }
            let mut directions = Vec::with_capacity(2);
            let h = 1e-3 * step * sqrt_n;
            if let Some(g) = sigma_gradient(net, &x, &v, h)? {
                let k = sqrt_n / norm(&g);
                directions.push((g.into_iter().map(|e| e * k).collect(), false));
            }
            directions.push(if it % 2 == 0 {
                (v.iter().map(|e| e * sqrt_n).collect(), true)
            } else {
                (rng.normal_vec(n, 1.0), true)
            });
            let mut improved = false;
            'moves: for (dir, both_signs) in &directions {
                let signs: &[f64] = if *both_signs { &[1.0, -1.0] } else { &[1.0] };
                for sign in signs {
                    let xn: Vec<f64> = x
                        .iter()
                        .zip(dir)
                        .map(|(a, d)| a + sign * step * d)
                        .collect();
                    let (sn, vn) =
                        top_singular(net, &xn, v.clone(), 6, deadline, deadline.moves_share())?;
                    if sn > sigma {
                        x = xn;
                        sigma = sn;
                        v = vn;
                        improved = true;
                        break 'moves;
                    }
                }
            }
            step *= if improved { 1.5 } else { 0.6 };
            if step < 1e-8 {
                break;
            }
        }
        let (sn, vn) = top_singular(net, &x, v, 20, deadline, deadline.moves_share())?;
        kind_best[kind] = kind_best[kind].max(sn);
        found.push((sn, x, vn));
    }
    if !polished {
        polish_best(net, rng, &mut found, balance.as_ref(), deadline)?;
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let estimate = found.first().map(|f| f.0).unwrap_or(0.0);
    let mut best = 0.0f64;
    'convert: for (k, (_, x, v)) in found.iter().take(CONVERTED_POINTS).enumerate() {
        let scale = length_unit(x);
        for (i, t) in CONVERSION_WIDTHS.into_iter().enumerate() {
            if (k, i) != (0, 0) && deadline.passed(1.0) {
                break 'convert;
            }
            let a: Vec<f64> = x.iter().zip(v).map(|(x, v)| x - t * scale * v).collect();
            let b: Vec<f64> = x.iter().zip(v).map(|(x, v)| x + t * scale * v).collect();
            let (r, float) = pair_ratios(net, &a, &b, &forward_with_error)?;
            best = best.max(r);
            shortlist.offer(float, 3, &a, &b);
        }
    }
    Ok((best, estimate))
}

/// With a budget, restarts of the Jacobian ascent stop this share of it
/// before the moves' deadline ([`Deadline::moves_share`]); the time between
/// polishes the best points ([`polish`]).
const POLISH_SHARE_BEFORE_MOVES: f64 = 0.2;

/// How many of the best points of the Jacobian ascent are polished.
const POLISHED: usize = 3;

/// Rounds of [`polish`] per point without a budget at most, on networks
/// whose σ(J) comes from the explicit Jacobian (a round is 24 estimates of
/// m + 1 passes each, m ≤ [`EXACT_JACOBIAN_OUTPUTS`]): the last 0.15 % of a
/// smooth maximum (`tests/lower_ascent.rs`) needed more than 5.
const POLISH_ROUNDS: usize = 30;

/// Rounds of [`polish`] per point without a budget at most on other
/// networks (a round is 24 power iterations of 16 passes each: 30 rounds
/// would double the default search).
const POLISH_ROUNDS_POWER: usize = 5;

/// [`polish`] for the [`POLISHED`] best points of `found`, each in its
/// slice of the time from [`Deadline::polish_share`] to
/// [`Deadline::moves_share`].
fn polish_best(
    net: &Network,
    rng: &mut Sampler,
    found: &mut [(f64, Vec<f64>, Vec<f64>)],
    balance: Option<&SoftmaxBalance>,
    deadline: &Deadline,
) -> Result<()> {
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let count = found.len().min(POLISHED);
    for (k, entry) in found.iter_mut().take(count).enumerate() {
        let slice =
            deadline.polish_share() + POLISH_SHARE_BEFORE_MOVES * (k + 1) as f64 / count as f64;
        *entry = polish(net, rng, std::mem::take(entry), balance, deadline, slice)?;
    }
    Ok(())
}

/// Hill climbing on the estimated σ(J(x)) from a point of the Jacobian
/// ascent (the end of a restart, usually inside a region where σ(J) is
/// large): each round tries x ± t·v along the top right singular vector v
/// for t = c·{10⁻⁴, 10⁻³, 10⁻², 0.1, 0.3, 1} (c = ‖x‖/√n + 10⁻³) — steps
/// that cross into neighbouring regions at several distances — and x + r·g
/// for four Gaussian g at each r = c·{10⁻³, 10⁻², 0.1}, and, on a network
/// with a softmax output, x with its logits balanced
/// ([`SoftmaxBalance::balanced`]), and moves to the best candidate when it
/// raises σ. With a budget it runs until `share`
/// of it, else at most [`POLISH_ROUNDS`] or [`POLISH_ROUNDS_POWER`] rounds;
/// either way it stops after
/// two rounds in a row that found nothing higher. The point is (σ, x, v),
/// as returned.
fn polish(
    net: &Network,
    rng: &mut Sampler,
    (mut sigma, mut x, mut v): (f64, Vec<f64>, Vec<f64>),
    balance: Option<&SoftmaxBalance>,
    deadline: &Deadline,
    share: f64,
) -> Result<(f64, Vec<f64>, Vec<f64>)> {
    let n = x.len();
    let rounds = if deadline.bounded() {
        usize::MAX
    } else if net.output_len() <= EXACT_JACOBIAN_OUTPUTS {
        POLISH_ROUNDS
    } else {
        POLISH_ROUNDS_POWER
    };
    let mut idle = 0;
    for _ in 0..rounds {
        if deadline.passed(share) || idle == 2 {
            break;
        }
        let c = norm(&x) / (n as f64).sqrt() + 1e-3;
        let mut candidates: Vec<Vec<f64>> = Vec::new();
        for t in [1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0] {
            for sign in [1.0, -1.0] {
                candidates.push(
                    x.iter()
                        .zip(&v)
                        .map(|(a, d)| a + sign * t * c * d)
                        .collect(),
                );
            }
        }
        for r in [1e-3, 1e-2, 0.1] {
            for _ in 0..4 {
                let g = rng.normal_vec(n, r * c);
                candidates.push(x.iter().zip(&g).map(|(a, d)| a + d).collect());
            }
        }
        if let Some(b) = balance.and_then(|b| b.balanced(&x)) {
            candidates.push(b);
        }
        let mut best: Option<(f64, Vec<f64>, Vec<f64>)> = None;
        for xn in candidates {
            if deadline.passed(share) {
                break;
            }
            let (sn, vn) = top_singular(net, &xn, v.clone(), 8, deadline, share)?;
            if sn > best.as_ref().map_or(sigma, |b| b.0) {
                best = Some((sn, xn, vn));
            }
        }
        match best {
            Some((sn, xn, vn)) => {
                (sigma, x, v) = (sn, xn, vn);
                idle = 0;
            }
            None => idle += 1,
        }
    }
    Ok((sigma, x, v))
}

/// A kind of start drawn with probability ∝ (the best σ its ascents
/// reached)⁴; `None` when those weights do not sum to a positive finite
/// number (one uniform draw is taken either way).
fn draw_kind(rng: &mut Sampler, kind_best: &[f64; START_KINDS]) -> Option<usize> {
    let weights = kind_best.map(|b| b.max(0.0).powi(4));
    let total: f64 = weights.iter().sum();
    let mut r = rng.uniform() * total;
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    for (k, w) in weights.iter().enumerate() {
        if r < *w {
            return Some(k);
        }
        r -= w;
    }
    Some(START_KINDS - 1)
}

/// Kinds of start of the Jacobian ascent.
const START_KINDS: usize = 6;

/// The order of the first round of kinds: the small scales first (0.1·s,
/// 0.03·s, then s, 0.3·s, uniform [0, 1], 10·s), where the biases decide
/// the activation pattern; under a small budget the first round may not
/// finish. Measured with the default work budget over four seeds: RNet
/// 17.2–22.2 against 5.4–9.9 in the order s, U, 10·s, 0.1·s, 0.3·s,
/// 0.03·s (its best kind, 0.03·s, came last), ONet 6.6–8.9 against
/// 1.6–3.8, PNet 23.3–25.4 against 24.3–26.2.
const FIRST_ROUND: [usize; START_KINDS] = [3, 5, 0, 4, 1, 2];

/// Moves per restart of the Jacobian ascent (each shrinks or grows the
/// step; a restart also ends when the step falls below 1e-8).
const ASCENT_MOVES: usize = 60;

/// Iterations of the quasi-Newton phase of a restart ([`smooth_ascent`]).
const SMOOTH_ITERATIONS: usize = 200;

/// Pairs (s, y) kept by the quasi-Newton phase.
const SMOOTH_MEMORY: usize = 8;

/// The smooth phase of a Jacobian-ascent restart: L-BFGS (Nocedal & Wright,
/// *Numerical Optimization*, 2nd ed., Algorithm 7.4, two-loop recursion,
/// with the scaling γ = sᵀy/yᵀy) on −σ(J(x)), with the gradient of
/// [`sigma_gradient`] and a backtracking line search that keeps a step only
/// when the estimated σ grows by the Armijo fraction 10⁻⁴ of the predicted
/// gain; a pair with sᵀy ≤ 0 is not stored. Stops when the gradient
/// vanishes (a piecewise-linear network, inside one region), when the line
/// search fails, or at the moves' deadline. Returns the point, its σ
/// estimate and its top right singular vector (the start's when no step was
/// taken).
fn smooth_ascent(
    net: &Network,
    mut x: Vec<f64>,
    mut sigma: f64,
    mut v: Vec<f64>,
    iterations: usize,
    deadline: &Deadline,
) -> Result<(Vec<f64>, f64, Vec<f64>)> {
    let n = x.len();
    let h_of = |x: &[f64]| 1e-5 * length_unit(x);
    let Some(mut g) = sigma_gradient(net, &x, &v, h_of(&x))? else {
        return Ok((x, sigma, v));
    };
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>)> = Default::default();
    let mut first_length = 0.1 * length_unit(&x) * (n as f64).sqrt();
    for _ in 0..iterations {
        if deadline.passed(deadline.moves_share()) {
            break;
        }
        // p = H·g by the two-loop recursion (ascent: F = −σ, ∇F = −g).
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(pairs.len());
        for (s, y) in pairs.iter().rev() {
            let a = dot(s, &q) / dot(y, s);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        if let Some((s, y)) = pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|q| *q *= gamma);
        } else {
            let k = first_length / norm(&g);
            q.iter_mut().for_each(|q| *q *= k);
        }
        for ((s, y), a) in pairs.iter().zip(alphas.into_iter().rev()) {
            let b = dot(y, &q) / dot(y, s);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        let slope = dot(&g, &q);
        if !(slope > 0.0 && slope.is_finite()) {
            break;
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..20 {
            let xn: Vec<f64> = x.iter().zip(&q).map(|(a, p)| a + t * p).collect();
            let (sn, vn) = top_singular(net, &xn, v.clone(), 8, deadline, deadline.moves_share())?;
            if sn >= sigma + 1e-4 * t * slope {
                accepted = Some((xn, sn, vn));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, sn, vn)) = accepted else {
            break;
        };
        let Some(gn) = sigma_gradient(net, &xn, &vn, h_of(&xn))? else {
            (x, sigma, v) = (xn, sn, vn);
            break;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g.iter().zip(&gn).map(|(a, b)| a - b).collect();
        first_length = norm(&s);
        if dot(&s, &y) > 0.0 {
            if pairs.len() == SMOOTH_MEMORY {
                pairs.pop_front();
            }
            pairs.push_back((s, y));
        }
        (x, sigma, v, g) = (xn, sn, vn, gn);
    }
    Ok((x, sigma, v))
}

/// The gradient of σ(J(x)) at x (an estimate), or `None` when it vanishes.
///
/// With u = J(x)v/‖J(x)v‖ for the top right singular vector v, the gradient
/// of a simple top singular value is ∇ₓ(uᵀJ(x)v) (u, v held fixed: the
/// envelope theorem), and uᵀJ(x)v = ∂ᵥ⟨u, f⟩(x), so the gradient is the
/// Hessian-vector product H⟨u,f⟩(x)·v = ∂ᵥ(J(x)ᵀu), here by the symmetric
/// difference (J(x + hv)ᵀu − J(x − hv)ᵀu)/(2h) — two reverse-mode products.
/// On a piecewise-linear network the exact gradient is zero almost
/// everywhere; a difference over a longer segment x ± hv then sees the
/// region boundaries it crosses. Only a search direction: every move is
/// kept or rejected on the estimated σ itself.
fn sigma_gradient(net: &Network, x: &[f64], v: &[f64], h: f64) -> Result<Option<Vec<f64>>> {
    let (_, jv) = jvp(net, x, v)?;
    let nj = norm(&jv);
    if nj == 0.0 || !nj.is_finite() {
        return Ok(None);
    }
    let u: Vec<f64> = jv.iter().map(|e| e / nj).collect();
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let gp = vjp(net, &xp, &u)?;
    let gm = vjp(net, &xm, &u)?;
    let g: Vec<f64> = gp
        .iter()
        .zip(&gm)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect();
    let ng = norm(&g);
    if ng == 0.0 || !ng.is_finite() {
        return Ok(None);
    }
    Ok(Some(g))
}

/// Gradient ascent on r(x, y) = ‖f(x) − f(y)‖/‖x − y‖ with
/// ∇ₓr = J(x)ᵀΔf/(‖Δf‖‖Δx‖) − rΔx/‖Δx‖² and ∇ᵧr = −J(y)ᵀΔf/(‖Δf‖‖Δx‖) + rΔx/‖Δx‖²
/// (Δf = f(x) − f(y), Δx = x − y); steps of length proportional to ‖Δx‖,
/// halved on failure, kept only when r increases; stops early when stage
/// (c)'s share of the budget is spent.
fn ascend(
    net: &Network,
    mut x: Vec<f64>,
    mut y: Vec<f64>,
    mut r: f64,
    steps: usize,
    deadline: &Deadline,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut step = 0.5;
    for _ in 0..steps {
        if deadline.passed(STAGE_SHARES[2]) {
            break;
        }
        let fx = forward(net, &x)?;
        let fy = forward(net, &y)?;
        let df: Vec<f64> = fx.iter().zip(&fy).map(|(a, b)| a - b).collect();
        let dx: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        let (nf, nx) = (norm(&df), norm(&dx));
        if nf == 0.0 || nx == 0.0 {
            break;
        }
        let gx = vjp(net, &x, &df)?;
        let gy = vjp(net, &y, &df)?;
        let c = 1.0 / (nf * nx);
        let k = r / (nx * nx);
        let grad_x: Vec<f64> = gx.iter().zip(&dx).map(|(g, d)| c * g - k * d).collect();
        let grad_y: Vec<f64> = gy.iter().zip(&dx).map(|(g, d)| -c * g + k * d).collect();
        let gn = (norm(&grad_x).powi(2) + norm(&grad_y).powi(2)).sqrt();
        if gn == 0.0 || !gn.is_finite() {
            break;
        }
        let mut improved = false;
        for _ in 0..6 {
            let len = step * nx / gn;
            let xn: Vec<f64> = x.iter().zip(&grad_x).map(|(a, g)| a + len * g).collect();
            let yn: Vec<f64> = y.iter().zip(&grad_y).map(|(a, g)| a + len * g).collect();
            let rn = float_ratio(net, &xn, &yn)?;
            if rn > r {
                x = xn;
                y = yn;
                r = rn;
                step *= 1.5;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }
    Ok((x, y))
}

/// With a time budget, networks with at most this many inputs get the
/// smoothing homotopy of [`smoothed_ascent`] in every restart (its L-BFGS
/// iterations cost a JVP and two VJPs each plus line searches; on a
/// ResNet-sized input one restart would take the whole share of the stage).
/// Without a budget (fixed counts) it is not run: on the bundled example it
/// would triple the time of the search (7.7 → 26 s) for a 9 % higher
/// lower bound.
const SMOOTHING_MAX_INPUTS: usize = 20_000;

/// Widths κ of the smoothing homotopy, relative to each activation's mean
/// |input| at the restart's start.
const SMOOTHING_WIDTHS: [f64; 4] = [0.3, 0.1, 0.03, 0.01];

/// L-BFGS iterations per smoothing width.
const SMOOTHING_ITERATIONS: usize = 200;

/// The smoothing homotopy of a Jacobian-ascent restart on a network with
/// piecewise-linear activations, where σ(J(x)) is constant on each linear
/// region and its gradient vanishes: for each width κ in
/// [`SMOOTHING_WIDTHS`], L-BFGS ([`smooth_ascent`]) on the network whose
/// top-level ReLU, LeakyReLU and PReLU layers are replaced by their softplus
/// smoothings ([`smoothed_network`]), whose σ(J) is smooth and points to
/// the regions where the exact one is large; each end point is kept when
/// the *exact* network's σ(J) estimate there is larger. (The idea of
/// annealed smoothing: graduated non-convexity, Blake & Zisserman, *Visual
/// Reconstruction*, 1987.) Only the exact network's points are ever turned
/// into certified pairs, so the smoothing cannot affect soundness.
fn smoothed_ascent(
    net: &Network,
    mut x: Vec<f64>,
    mut sigma: f64,
    mut v: Vec<f64>,
    deadline: &Deadline,
) -> Result<(Vec<f64>, f64, Vec<f64>)> {
    for kappa in SMOOTHING_WIDTHS {
        if deadline.passed(deadline.moves_share()) {
            break;
        }
        let Some(smooth) = smoothed_network(net, &x, kappa) else {
            break;
        };
        // The smoothed network's own σ at x: the line search compares with it.
        let (smooth_sigma, sv) =
            top_singular(&smooth, &x, v.clone(), 20, deadline, deadline.moves_share())?;
        let (sx, _, sv) = smooth_ascent(
            &smooth,
            x.clone(),
            smooth_sigma,
            sv,
            SMOOTHING_ITERATIONS,
            deadline,
        )?;
        let (sn, vn) = top_singular(net, &sx, sv, 20, deadline, deadline.moves_share())?;
        if sn > sigma {
            (x, sigma, v) = (sx, sn, vn);
        }
    }
    Ok((x, sigma, v))
}

/// The network with each top-level piecewise-linear activation (ReLU,
/// LeakyReLU, PReLU: φ(z) = a·z + (1 − a)·relu(z)) replaced by the smooth
/// φ_w(z) = a·z + (1 − a)·w·softplus(z/w), w = κ·mean|z| over the layer's
/// input at x (|φ_w − φ| ≤ (1 − a)·w·ln 2), built from existing layers: a
/// residual block with body [×1/w, softplus, ×(1 − a)w] and shortcut [×a].
/// `None` when there is nothing to smooth.
fn smoothed_network(net: &Network, x: &[f64], kappa: f64) -> Option<Network> {
    use super::elementwise::Elementwise;
    use super::layer::{Layer, Node};
    let mut nodes = Vec::with_capacity(net.nodes.len());
    let mut cur = x.to_vec();
    let mut any = false;
    for node in &net.nodes {
        let len = cur.len();
        let slopes: Option<Vec<f64>> = match &node.layer {
            Layer::Relu => Some(vec![0.0; len]),
            Layer::LeakyRelu(a) => Some(vec![*a; len]),
            Layer::Elementwise(e) => match &**e {
                Elementwise::PRelu { slopes } => Some(slopes.clone()),
                _ => None,
            },
            _ => None,
        };
        let next = super::evaluate::node_forward(node, &cur);
        match slopes {
            Some(a) if a.len() == len => {
                let mean = cur.iter().map(|v| v.abs()).sum::<f64>() / len.max(1) as f64;
                let w = kappa * mean.max(1e-12);
                let scale = |factor: Vec<f64>, kind: &'static str| Node {
                    kind,
                    layer: Layer::Elementwise(Box::new(Elementwise::Affine {
                        factor,
                        divide: false,
                        shift: vec![0.0; len],
                    })),
                    shape_in: node.shape_in.clone(),
                    shape_out: node.shape_in.clone(),
                    bound: None,
                };
                let softplus = Node {
                    kind: "softplus",
                    layer: Layer::Elementwise(Box::new(Elementwise::Softplus)),
                    shape_in: node.shape_in.clone(),
                    shape_out: node.shape_in.clone(),
                    bound: None,
                };
                let body = vec![
                    scale(vec![1.0 / w; len], "scale_shift"),
                    softplus,
                    scale(a.iter().map(|a| (1.0 - a) * w).collect(), "scale_shift"),
                ];
                nodes.push(Node {
                    kind: "residual",
                    layer: Layer::Residual {
                        body,
                        shortcut: Some(vec![scale(a, "scale_shift")]),
                    },
                    shape_in: node.shape_in.clone(),
                    shape_out: node.shape_out.clone(),
                    bound: None,
                });
                any = true;
            }
            _ => nodes.push(node.clone()),
        }
        cur = next;
    }
    any.then(|| Network {
        input_shape: net.input_shape.clone(),
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{NetworkSpec, Tensor, Weights};

    /// f(x) = W₂ relu(W₁x + b) with W₁ 9×7, W₂ 5×9: at a point x the
    /// Jacobian is W₂·D·W₁ with D the 0/1 diagonal of the active units,
    /// built here by hand; its σ and top right singular vector from
    /// nalgebra's SVD of that explicit matrix (not the Gram eigenproblem
    /// the search uses) are what `exact_top_singular` must return.
    #[test]
    fn exact_top_singular_matches_the_svd_of_the_jacobian() {
        let (n, h, m) = (7, 9, 5);
        let mut rng = Sampler::new(41);
        for trial in 0..20 {
            let w1 = rng.normal_vec(h * n, 1.0);
            let b = rng.normal_vec(h, 0.5);
            let w2 = rng.normal_vec(m * h, 1.0);
            let spec = NetworkSpec::from_json(&format!(
                r#"{{"weights": "m.safetensors", "input_shape": [{n}], "layers": [
                    {{"type": "linear", "weight": "w1", "bias": "b"}},
                    {{"type": "relu"}},
                    {{"type": "linear", "weight": "w2"}}]}}"#
            ))
            .unwrap();
            let mut w = Weights::new();
            w.insert("w1", Tensor::new(vec![h, n], w1.clone()).unwrap());
            w.insert("b", Tensor::new(vec![h], b.clone()).unwrap());
            w.insert("w2", Tensor::new(vec![m, h], w2.clone()).unwrap());
            let net = Network::from_spec(&spec, &w).unwrap();
            let x = rng.normal_vec(n, 1.0);
            let active: Vec<bool> = (0..h)
                .map(|i| dot(&w1[i * n..(i + 1) * n], &x) + b[i] > 0.0)
                .collect();
            let jac = nalgebra::DMatrix::from_fn(m, n, |r, c| {
                (0..h)
                    .filter(|&i| active[i])
                    .map(|i| w2[r * h + i] * w1[i * n + c])
                    .sum::<f64>()
            });
            let svd = jac.clone().svd(false, false);
            let expected = svd.singular_values.max();
            let (sigma, v) = exact_top_singular(&net, &x, vec![1.0; n]).unwrap();
            assert!(
                (sigma - expected).abs() <= 1e-12 * expected.max(1e-300),
                "trial {trial}: {sigma} against the SVD's {expected}"
            );
            if expected > 0.0 {
                assert!((norm(&v) - 1.0).abs() < 1e-12, "trial {trial}: v not unit");
                let jv = &jac * nalgebra::DVector::from_column_slice(&v);
                assert!(
                    (jv.norm() - expected).abs() <= 1e-10 * expected,
                    "trial {trial}: ‖Jv‖ = {} against σ = {expected}",
                    jv.norm()
                );
            }
        }
    }

    /// The batched reverse pass of `jacobian_rows` (one forward pass, each
    /// diagonal node's derivatives once) gives, bit for bit, the rows that
    /// one `vjp` per output gives: on the bundled example CNN (conv, batch
    /// norm, ReLU, max pool, a residual block, average pool, linear), on its
    /// smoothed version (residual blocks of affine maps and softplus), and
    /// on a softmax-headed MLP (a node the batch passes one row at a time).
    #[test]
    fn jacobian_rows_match_one_vjp_per_output() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let spec = NetworkSpec::from_file(&root.join("cnn.json")).unwrap();
        let weights = Weights::from_safetensors_file(&root.join("cnn.safetensors")).unwrap();
        let cnn = Network::from_spec(&spec, &weights).unwrap();
        let mlp_spec = NetworkSpec::from_json(
            r#"{"weights": "m.safetensors", "input_shape": [6], "layers": [
                {"type": "linear", "weight": "w1", "bias": "b1"},
                {"type": "gelu"},
                {"type": "linear", "weight": "w2"},
                {"type": "softmax"}]}"#,
        )
        .unwrap();
        let mut rng = Sampler::new(5);
        let mut w = Weights::new();
        w.insert(
            "w1",
            Tensor::new(vec![8, 6], rng.normal_vec(48, 1.0)).unwrap(),
        );
        w.insert("b1", Tensor::new(vec![8], rng.normal_vec(8, 1.0)).unwrap());
        w.insert(
            "w2",
            Tensor::new(vec![4, 8], rng.normal_vec(32, 1.0)).unwrap(),
        );
        let mlp = Network::from_spec(&mlp_spec, &w).unwrap();
        for (name, net) in [("cnn", cnn), ("mlp", mlp)] {
            let x = rng.normal_vec(net.input_len(), 1.0);
            let smooth = smoothed_network(&net, &x, 0.1);
            assert_eq!(smooth.is_some(), name == "cnn");
            for (what, net) in
                std::iter::once(("plain", &net)).chain(smooth.iter().map(|s| ("smoothed", s)))
            {
                let rows = super::super::evaluate::jacobian_rows(net, &x).unwrap();
                assert_eq!(rows.len(), net.output_len());
                for (i, row) in rows.iter().enumerate() {
                    let mut e = vec![0.0; net.output_len()];
                    e[i] = 1.0;
                    let expected = vjp(net, &x, &e).unwrap();
                    assert!(
                        row.iter().any(|r| *r != 0.0),
                        "{name} {what}: row {i} is zero"
                    );
                    assert_eq!(row, &expected, "{name} {what}: row {i}");
                }
            }
        }
    }
}
