//! Property checks for any declared network: the tests that `tests: auto` in a `network!`
//! declaration generates, also callable from hand-written tests.
//!
//! Each check draws inputs from a seeded generator, compares the network's generated passes
//! with [`reference`](mod@crate::reference) passes that spell out what the scaling convention
//! promises, and panics with a description of the first disagreement.
//!
//! # Example
//! ```
//! use dropout::rand::SeedableRng as _;
//! use dropout::rand::rngs::ChaCha8Rng;
//! use dropout::{network, testing};
//!
//! network! {
//!     struct Net<f64> {
//!         scaling: classic,
//!         input: 3, dropout(p = 0.25),
//!         dense 4 tanh, dropout(p = 0.5),
//!         dense 2 softmax,
//!     }
//! }
//! let net = Net::init(&mut ChaCha8Rng::seed_from_u64(1));
//! testing::check_all_kept(&net, 16, 7);
//! testing::check_eval(&net, 16, 7);
//! testing::check_site_dropped(&net, 16, 7);
//! testing::check_sampling(&net, 7);
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt as _, SeedableRng as _};

use crate::{Float, Masks, Network, reference};

/// The tolerance of comparisons with the reference: |got − want| ≤ tol · max(1, |want|).
fn tolerance<N: Network>() -> f64 {
    N::Scalar::SCALAR.reference_tolerance()
}

fn random_input<N: Network>(rng: &mut Xoshiro256PlusPlus) -> (N::Input, Vec<f64>) {
    let values: Vec<f64> = (0..N::SPEC.n_inputs)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let scalars: Vec<N::Scalar> = values.iter().map(|&v| N::Scalar::from_f64(v)).collect();
    // Round-trip through the scalar type, so that the reference sees exactly the same input.
    let exact: Vec<f64> = scalars.iter().map(|v| v.to_f64()).collect();
    let Ok(input) = N::Input::try_from(&scalars[..]) else {
        panic!(
            "`{}::Input` is not {} values long, as its SPEC says",
            N::SPEC.name,
            N::SPEC.n_inputs
        )
    };
    (input, exact)
}

fn assert_matches<N: Network>(got: &N::Output, want: &[f64], what: &str, input: &[f64]) {
    let got: Vec<f64> = got.as_ref().iter().map(|v| v.to_f64()).collect();
    let tol = tolerance::<N>();
    let close = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| (g - w).abs() <= tol * w.abs().max(1.0));
    assert!(
        close,
        "{}: {what}\n  input     {input:?}\n  network   {got:?}\n  reference {want:?}",
        N::SPEC.name
    );
}

/// The keep probability of each site, in order.
fn keeps<N: Network>() -> Vec<f64> {
    N::SPEC
        .sites()
        .map(|(_, _, dropout)| dropout.keep())
        .collect()
}

/// Random masks in which every site keeps each unit, and every layer with DropConnect each
/// weight, with probability ½; Gaussian noise is uniform in [0, 2).
fn random_masks<N: Network>(rng: &mut Xoshiro256PlusPlus) -> N::Masks {
    let mut masks = N::Masks::ALL_KEPT;
    for site in 0..N::Masks::N_SITES {
        if let Some(bits) = masks.site_mut(site) {
            for bit in bits.iter_mut() {
                *bit = rng.random_bool(0.5);
            }
        } else if let Some(noise) = masks.noise_mut(site) {
            for e in noise.iter_mut() {
                *e = N::Scalar::from_f64(rng.random_range(0.0..2.0));
            }
        }
    }
    for layer in 0..N::SPEC.connections().count() {
        if let Some(bits) = masks.connections_mut(layer) {
            for bit in bits.iter_mut() {
                *bit = rng.random_bool(0.5);
            }
        }
    }
    masks
}

/// A training pass with every mask all ones equals the undropped network under `classic`
/// scaling, and the undropped network with each site's activations × 1/keep under `inverted`.
///
/// # Panics
/// On the first input where the network and the reference disagree.
pub fn check_all_kept<N: Network>(net: &N, cases: usize, seed: u64) {
    let what = "a training pass keeping every unit differs from the undropped network as the scaling convention defines it";
    check_inputs(net, cases, seed, |net, x, exact, _| {
        let want = reference_pass(reference::forward_with_weights(
            net,
            exact,
            reference::training_sites::<N>(&N::Masks::ALL_KEPT),
            reference::training_weights::<N>(&N::Masks::ALL_KEPT),
        ));
        (
            net.forward_masked(x, &N::Masks::ALL_KEPT),
            want,
            what.into(),
        )
    });
}

/// Evaluation mode is the expectation the convention promises: the undropped network under
/// `inverted` scaling, each site's activations × keep under `classic`.
///
/// # Panics
/// On the first input where the network and the reference disagree.
pub fn check_eval<N: Network>(net: &N, cases: usize, seed: u64) {
    let what = "evaluation mode differs from the convention's expectation";
    check_inputs(net, cases, seed, |net, x, exact, _| {
        let want = reference_pass(reference::forward_with_weights(
            net,
            exact,
            reference::evaluation_sites::<N>(),
            reference::evaluation_weights::<N>(),
        ));
        (net.forward(x), want, what.into())
    });
}

/// Random masks: the training pass equals the reference that multiplies each unit by its bit
/// (and by 1/keep under `inverted` scaling).
///
/// # Panics
/// On the first input and masks where the network and the reference disagree.
pub fn check_masked<N: Network>(net: &N, cases: usize, seed: u64) {
    check_inputs(net, cases, seed, |net, x, exact, rng| {
        let masks = random_masks::<N>(rng);
        let want = reference_pass(reference::forward_with_weights(
            net,
            exact,
            reference::training_sites::<N>(&masks),
            reference::training_weights::<N>(&masks),
        ));
        let what = format!("a training pass under masks {masks:?} differs from the reference");
        (net.forward_masked(x, &masks), want, what)
    });
}

/// The reference's output; its inputs here are drawn for the network's own sizes, so an error
/// means the network's `SPEC` disagrees with its types.
fn reference_pass(output: Result<Vec<f64>, crate::Error>) -> Vec<f64> {
    match output {
        Ok(values) => values,
        Err(err) => panic!("the reference pass refused a network's own sizes: {err}"),
    }
}

/// Draws `cases` random inputs and compares, for each, what `pass` returns: the network's
/// output, the reference's, and what a disagreement means. `pass` may draw more from the same
/// generator (masks, say).
fn check_inputs<N: Network>(
    net: &N,
    cases: usize,
    seed: u64,
    mut pass: impl FnMut(
        &N,
        &N::Input,
        &[f64],
        &mut Xoshiro256PlusPlus,
    ) -> (N::Output, Vec<f64>, String),
) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..cases {
        let (x, exact) = random_input::<N>(&mut rng);
        let (got, want, what) = pass(net, &x, &exact, &mut rng);
        assert_matches::<N>(&got, &want, &what, &exact);
    }
}

/// Dropping every unit of a site leaves the next layer only its biases: the output no longer
/// depends on the input and equals the reference started from that layer with zero inputs
/// (z = b), every other unit kept. (An alpha-dropout site gives the next layer A·α′ + B in
/// every unit instead of zeros; a Gaussian site is dropped by noise of all zeros.)
///
/// # Panics
/// On the first site and input where this fails.
pub fn check_site_dropped<N: Network>(net: &N, cases: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let sites: Vec<(usize, usize)> = N::SPEC
        .sites()
        .map(|(_, size, _)| size)
        .enumerate()
        .collect();
    // The layer that reads site k: the first layer after the input, or after the k-th site's layer.
    let readers: Vec<usize> = N::SPEC
        .input_dropout
        .map(|_| 0)
        .into_iter()
        .chain(
            N::SPEC
                .layers
                .iter()
                .enumerate()
                .filter(|(_, l)| l.dropout.is_some())
                .map(|(idx, _)| idx + 1),
        )
        .collect();
    for ((site, size), reader) in sites.into_iter().zip(readers) {
        let Some(masks) = N::Masks::dropping_site(site) else {
            panic!(
                "{}: SPEC lists site {site}, which its masks do not have",
                N::SPEC.name
            );
        };
        // Every later site keeps everything: what the reference does to its units then.
        let all_kept = N::Masks::ALL_KEPT;
        let mut later_sites = reference::training_sites::<N>(&all_kept);
        let later_sites = |k: usize, a: &mut [f64]| {
            if k > site {
                later_sites(k, a);
            }
        };
        let dropped = match N::SPEC.sites().nth(site).map(|(_, _, d)| d) {
            Some(d) if d.kind() == crate::DropoutKind::Alpha => {
                let (a, b) = d.alpha_affine();
                a * crate::ALPHA_PRIME + b
            }
            _ => 0.0,
        };
        let want = reference_pass(reference::run_from_with_weights(
            net,
            reader,
            alloc::vec![dropped; size],
            later_sites,
            reference::training_weights::<N>(&all_kept),
        ));
        let units = format!("every unit of site {site}");
        outputs_only_biases(
            net,
            &masks,
            &want,
            (cases, &mut rng),
            &units,
            "the next layer's",
        );
    }
}

/// Under `masks`, which drop `dropped`, the output is `want` (what `whose` biases give) for at
/// least two random inputs, and the same for all of them.
fn outputs_only_biases<N: Network>(
    net: &N,
    masks: &N::Masks,
    want: &[f64],
    (cases, rng): (usize, &mut Xoshiro256PlusPlus),
    dropped: &str,
    whose: &str,
) {
    let mut first: Option<N::Output> = None;
    for _ in 0..cases.max(2) {
        let (x, exact) = random_input::<N>(rng);
        let got = net.forward_masked(&x, masks);
        let what = format!("with {dropped} dropped, the output is not that of {whose} biases");
        assert_matches::<N>(&got, want, &what, &exact);
        if let Some(first) = &first {
            assert!(
                first.as_ref() == got.as_ref(),
                "{}: with {dropped} dropped the output still depends on the input",
                N::SPEC.name
            );
        }
        first.get_or_insert(got);
    }
}

/// Sampled masks keep each unit with a frequency within 5σ binomial bounds of its site's keep
/// probability, and the same seed gives the same masks.
///
/// # Panics
/// If a unit's frequency is out of bounds or a seed does not reproduce its masks.
pub fn check_sampling<N: Network>(net: &N, seed: u64) {
    const SAMPLES: usize = 4000;
    let again = |seed| net.sample_masks(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    assert!(
        again(seed) == again(seed),
        "{}: the same seed gave different masks",
        N::SPEC.name
    );
    let sites: Vec<crate::Dropout> = N::SPEC.sites().map(|(_, _, d)| d).collect();
    let mut kept: Vec<Vec<usize>> = N::SPEC
        .sites()
        .map(|(_, size, _)| alloc::vec![0; size])
        .collect();
    let mut weights_kept: Vec<Vec<usize>> = N::SPEC
        .connections()
        .map(|(_, _, size, _)| alloc::vec![0; size])
        .collect();
    // Per Gaussian site and unit: the sum and the sum of squares of its noise.
    let mut sums: Vec<Vec<(f64, f64)>> = N::SPEC
        .sites()
        .map(|(_, size, _)| alloc::vec![(0.0, 0.0); size])
        .collect();
    let count = |counts: &mut [usize], bits: Option<&[bool]>| {
        for (count, &bit) in counts.iter_mut().zip(bits.unwrap_or(&[])) {
            *count += usize::from(bit);
        }
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..SAMPLES {
        let masks = net.sample_masks(&mut rng);
        for (site, counts) in kept.iter_mut().enumerate() {
            count(counts, masks.site(site));
            for ((sum, square), e) in sums[site].iter_mut().zip(masks.noise(site).unwrap_or(&[])) {
                let e = e.to_f64();
                *sum += e;
                *square += e * e;
            }
        }
        for (mask, counts) in weights_kept.iter_mut().enumerate() {
            count(counts, masks.connections(mask));
        }
    }
    let n = SAMPLES as f64;
    for (site, (dropout, counts)) in sites.iter().zip(&kept).enumerate() {
        if dropout.kind() != crate::DropoutKind::Gaussian {
            kept_at_rate::<N>(counts, dropout.keep(), SAMPLES, |unit| {
                format!("unit {unit} of site {site}")
            });
            continue;
        }
        // Noise from N(1, σ²): the mean within 5 standard errors of 1, the variance within 5
        // standard errors of σ² (its standard error is σ²·√(2/(n − 1)) for normal draws).
        let variance = dropout.p() / dropout.keep();
        let mean_bound = 5.0 * (variance / n).sqrt() + 1e-6;
        let variance_bound = 5.0 * variance * (2.0 / (n - 1.0)).sqrt() + 1e-6;
        for (unit, &(sum, square)) in sums[site].iter().enumerate() {
            let mean = sum / n;
            let sample_variance = (square - n * mean * mean) / (n - 1.0);
            assert!(
                (mean - 1.0).abs() <= mean_bound
                    && (sample_variance - variance).abs() <= variance_bound,
                "{}: the noise of unit {unit} of site {site} has mean {mean} and variance {sample_variance} in {SAMPLES} samples; N(1, {variance}) allows 1 ± {mean_bound:.4} and {variance} ± {variance_bound:.4}",
                N::SPEC.name,
            );
        }
    }
    for ((layer, _, _, dropout), counts) in N::SPEC.connections().zip(&weights_kept) {
        kept_at_rate::<N>(counts, dropout.keep(), SAMPLES, |weight| {
            format!("weight {weight} of layer `{layer}`")
        });
    }
}

/// Each of `counts`, how often a unit or weight (`what` of its index) was kept in `samples`
/// draws, lies within 5σ binomial bounds of `keep`.
fn kept_at_rate<N: Network>(
    counts: &[usize],
    keep: f64,
    samples: usize,
    what: impl Fn(usize) -> String,
) {
    let n = samples as f64;
    let bound = 5.0 * (n * keep * (1.0 - keep)).sqrt();
    for (idx, &count) in counts.iter().enumerate() {
        let off = (count as f64 - n * keep).abs();
        assert!(
            off <= bound,
            "{}: {} was kept {count} times in {samples} samples; keep = {keep} allows {} ± {bound:.1}",
            N::SPEC.name,
            what(idx),
            n * keep
        );
    }
}

/// Dropping every weight of a layer with DropConnect leaves it only its biases: the output no
/// longer depends on the input and equals the reference started from that layer with its
/// weights zero, every other unit and weight kept.
///
/// # Panics
/// On the first layer and input where this fails.
pub fn check_weights_dropped<N: Network>(net: &N, cases: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for (mask, (name, layer, _, _)) in N::SPEC.connections().enumerate() {
        let mut masks = N::Masks::ALL_KEPT;
        if let Some(bits) = masks.connections_mut(mask) {
            bits.fill(false);
        }
        let fan_in = N::SPEC.layers[layer].fan_in;
        // Sites after the layer keep everything; the one on the layer itself comes after it.
        let later_sites = reference::training_sites::<N>(&masks);
        let want = reference_pass(reference::run_from_with_weights(
            net,
            layer,
            alloc::vec![0.0; fan_in],
            later_sites,
            reference::training_weights::<N>(&masks),
        ));
        let weights = format!("every weight of layer `{name}`");
        outputs_only_biases(net, &masks, &want, (cases, &mut rng), &weights, "its");
    }
}

/// A site with keep = 1 (p = 0) leaves values unchanged, in training and evaluation passes
/// alike: the network equals the reference in which that site does nothing.
///
/// # Panics
/// On the first input where this fails.
pub fn check_keep_one_sites<N: Network>(net: &N, cases: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let keeps = keeps::<N>();
    for (site, _) in keeps.iter().enumerate().filter(|(_, keep)| **keep == 1.0) {
        for _ in 0..cases {
            let (x, exact) = random_input::<N>(&mut rng);
            let mut masks = random_masks::<N>(&mut rng);
            if let Some(bits) = masks.site_mut(site) {
                bits.fill(true);
            }
            if let Some(noise) = masks.noise_mut(site) {
                noise.fill(N::Scalar::ONE);
            }
            let mut others = reference::training_sites::<N>(&masks);
            let want_masked = reference_pass(reference::forward_with_weights(
                net,
                &exact,
                |k, a| {
                    if k != site {
                        others(k, a);
                    }
                },
                reference::training_weights::<N>(&masks),
            ));
            let what = format!("site {site} has p = 0 but changes the values of a training pass");
            assert_matches::<N>(&net.forward_masked(&x, &masks), &want_masked, &what, &exact);
            let mut others = reference::evaluation_sites::<N>();
            let want_eval = reference_pass(reference::forward_with_weights(
                net,
                &exact,
                |k, a| {
                    if k != site {
                        others(k, a);
                    }
                },
                reference::evaluation_weights::<N>(),
            ));
            let what =
                format!("site {site} has p = 0 but changes the values of an evaluation pass");
            assert_matches::<N>(&net.forward(&x), &want_eval, &what, &exact);
        }
    }
}

/// The input, output, layer and mask sizes are those written in the declaration.
///
/// # Panics
/// On the first size that differs.
pub fn check_shapes<N: Network>(n_inputs: usize, layer_sizes: &[usize], site_sizes: &[usize]) {
    let spec = N::SPEC;
    let name = spec.name;
    assert_eq!(spec.n_inputs, n_inputs, "{name}: input size");
    let sizes: Vec<usize> = spec.layers.iter().map(|l| l.size).collect();
    assert_eq!(sizes, layer_sizes, "{name}: layer sizes");
    let fan_ins: Vec<usize> = spec.layers.iter().map(|l| l.fan_in).collect();
    let expected_fan_ins: Vec<usize> = core::iter::once(n_inputs)
        .chain(layer_sizes.iter().copied())
        .take(layer_sizes.len())
        .collect();
    assert_eq!(fan_ins, expected_fan_ins, "{name}: fan-ins");
    let zeros: Vec<N::Scalar> = alloc::vec![N::Scalar::ZERO; n_inputs];
    assert!(
        N::Input::try_from(&zeros[..]).is_ok(),
        "{name}: the input type does not hold {n_inputs} values"
    );
    let longer: Vec<N::Scalar> = alloc::vec![N::Scalar::ZERO; n_inputs + 1];
    assert!(
        N::Input::try_from(&longer[..]).is_err(),
        "{name}: the input type holds more than {n_inputs} values"
    );
    let all_kept = N::Masks::ALL_KEPT;
    let site_lengths: Vec<usize> = (0..N::Masks::N_SITES)
        .map(|k| match (all_kept.site(k), all_kept.noise(k)) {
            (Some(bits), None) => bits.len(),
            (None, Some(noise)) => noise.len(),
            _ => 0,
        })
        .collect();
    assert_eq!(site_lengths, site_sizes, "{name}: mask lengths");
    assert!(
        all_kept.site(N::Masks::N_SITES).is_none() && all_kept.noise(N::Masks::N_SITES).is_none(),
        "{name}: more mask sites than declared"
    );
    let declared_sites: Vec<usize> = spec.sites().map(|(_, size, _)| size).collect();
    assert_eq!(declared_sites, site_sizes, "{name}: dropout sites");
}

/// The output size of a network, checked against its declaration.
///
/// # Panics
/// If a forward pass returns a different number of values.
pub fn check_output_size<N: Network>(net: &N, n_outputs: usize) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let (x, _) = random_input::<N>(&mut rng);
    assert_eq!(
        net.forward(&x).as_ref().len(),
        n_outputs,
        "{}: output size",
        N::SPEC.name
    );
    assert_eq!(
        N::SPEC.n_outputs(),
        n_outputs,
        "{}: SPEC output size",
        N::SPEC.name
    );
}
