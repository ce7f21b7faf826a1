//! Property tests: for several declared networks, the generated evaluation, masked and batched
//! passes agree with the plain-loop reference on random inputs and masks. Inputs include NaN and
//! ±∞ now and then: where the reference gives NaN or an infinity, every pass must give the same.

use dropout::{Masks, Network, Scaling, network, reference};
use ndarray::Array2;
use proptest::prelude::*;
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

use dropout::toy::Toy;

network! {
    /// f64, inverted scaling, softmax output, named layers, drawn weights.
    struct Classifier<f64> {
        input: 6, dropout(p = 0.2),
        encoder: dense 12 leaky_relu(0.05), dropout(p = 0.5),
        mixer: dense 8 tanh, dropout(keep = 0.9),
        scores: dense 4 softmax,
    }
}

network! {
    /// f32, classic scaling, sigmoid layers, no input site.
    struct Deep<f32> {
        scaling: classic,
        input: 16,
        dense 16 sigmoid, dropout(p = 0.3),
        dense 8 relu, dropout(p = 0.6),
        dense 8 identity, dropout(p = 0.1),
        dense 3 tanh,
    }
}

network! {
    /// f32, classic scaling with an input site, a layer too large for lanes: its batches are
    /// matrix products, the input scaled by its keep probability first.
    struct Scaled<f32> {
        scaling: classic,
        input: 20, dropout(p = 0.25),
        dense 24 relu, dropout(p = 0.5),
        dense 3 identity,
    }
}

/// What the convention does to site `k` in a training pass under `masks`.
fn masked_site<N: Network>(masks: &N::Masks) -> impl FnMut(usize, &mut [f64]) + '_ {
    let keeps: Vec<f64> = N::SPEC.sites().map(|(_, _, d)| d.keep()).collect();
    move |k, a| {
        let factor = if N::SPEC.scaling == Scaling::Inverted {
            1.0 / keeps[k]
        } else {
            1.0
        };
        // The mask multiplies: a dropped NaN or infinity becomes NaN, as in PyTorch.
        for (v, &kept) in a.iter_mut().zip(masks.site(k).unwrap_or(&[])) {
            *v *= if kept { factor } else { 0.0 };
        }
    }
}

/// What the convention does to site `k` in an evaluation pass.
fn eval_site<N: Network>() -> impl FnMut(usize, &mut [f64]) {
    let keeps: Vec<f64> = N::SPEC.sites().map(|(_, _, d)| d.keep()).collect();
    move |k, a| {
        if N::SPEC.scaling == Scaling::Classic {
            for v in a.iter_mut() {
                *v *= keeps[k];
            }
        }
    }
}

fn masks_from_bits<N: Network>(bits: &[bool]) -> N::Masks {
    let mut masks = N::Masks::ALL_KEPT;
    let mut bits = bits.iter().copied();
    for site in 0..N::Masks::N_SITES {
        if let Some(slots) = masks.site_mut(site) {
            for slot in slots {
                *slot = bits.next().unwrap_or(true);
            }
        }
    }
    masks
}

/// `got` equals `want` within `tolerance` · max(1, |want|); a NaN or an infinity in `want` must
/// stand in `got` exactly.
fn close(got: &[f64], want: &[f64], tolerance: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let agrees = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= tolerance * w.abs().max(1.0)
        };
        prop_assert!(agrees, "{:?} vs {:?}", got, want);
    }
    Ok(())
}

/// Mostly finite inputs, and NaN, +∞ or −∞ in about one value of eight.
fn input_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        21 => -3.0_f64..3.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

/// Generates the agreement properties for one network type.
macro_rules! agreement {
    ($module:ident, $net:ty, $make:expr, $tolerance:expr) => {
        mod $module {
            use super::*;

            fn to_f64(values: &[<$net as Network>::Scalar]) -> Vec<f64> {
                values.iter().map(|&v| f64::from(v)).collect()
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(128))]

                #[test]
                fn single_and_batched_passes_match_the_reference(
                    rows in proptest::collection::vec(
                        (
                            proptest::collection::vec(input_value(), <$net>::N_INPUTS),
                            proptest::collection::vec(any::<bool>(), <$net>::SPEC.n_droppable_units()),
                        ),
                        1..6,
                    )
                ) {
                    let net: $net = $make;
                    let mut batch = Array2::zeros((rows.len(), <$net>::N_INPUTS));
                    let mut all_masks = Vec::new();
                    for (r, (values, bits)) in rows.iter().enumerate() {
                        let x: [<$net as Network>::Scalar; <$net>::N_INPUTS] =
                            std::array::from_fn(|i| values[i] as <$net as Network>::Scalar);
                        let exact = to_f64(&x);
                        let masks = masks_from_bits::<$net>(bits);
                        for (i, v) in x.iter().enumerate() {
                            batch[[r, i]] = *v;
                        }
                        all_masks.push(masks);

                        let want = reference::forward_with(&net, &exact, eval_site::<$net>()).unwrap();
                        close(&to_f64(&net.forward(&x)), &want, $tolerance)?;
                        let want = reference::forward_with(&net, &exact, masked_site::<$net>(&masks)).unwrap();
                        close(&to_f64(&net.forward_masked(&x, &masks)), &want, $tolerance)?;
                    }
                    let eval = net.forward_batch(batch.view()).unwrap();
                    let masked = net.forward_batch_masked(batch.view(), &all_masks).unwrap();
                    for (r, masks) in all_masks.iter().enumerate() {
                        let x: [<$net as Network>::Scalar; <$net>::N_INPUTS] = std::array::from_fn(|i| batch[[r, i]]);
                        close(&to_f64(&eval.row(r).to_vec()), &to_f64(&net.forward(&x)), $tolerance)?;
                        close(&to_f64(&masked.row(r).to_vec()), &to_f64(&net.forward_masked(&x, masks)), $tolerance)?;
                    }
                }
            }
        }
    };
}

agreement!(toy, Toy, Toy::new(), 1e-5);
agreement!(
    classifier,
    Classifier,
    Classifier::init(&mut ChaCha8Rng::seed_from_u64(1)),
    1e-12
);
agreement!(
    deep,
    Deep,
    Deep::init(&mut ChaCha8Rng::seed_from_u64(2)),
    1e-5
);
agreement!(
    scaled,
    Scaled,
    Scaled::init(&mut ChaCha8Rng::seed_from_u64(3)),
    1e-5
);

network! {
    /// Alpha dropout (dropped units take a value, not zero) with SELU layers.
    struct Selu<f32> {
        input: 6, alpha_dropout(p = 0.1),
        dense 8 selu, alpha_dropout(p = 0.2),
        dense 3 identity,
    }
}

network! {
    /// Gaussian dropout: its masks are noise, so its batches go row by row.
    struct Noisy<f64> {
        input: 4, gaussian_dropout(p = 0.3),
        dense 5 relu,
        dense 2 identity,
    }
}

/// The bits of a value; every NaN alike (NaN stays NaN; its payload is not a promise).
fn bits_of(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// Generates, for one network type, the property that the masked batch pass of a small network
/// (sample-parallel lanes) gives every row the bits of `forward_masked` under that row's masks,
/// for batches that fill lane groups and batches that leave a partial one.
macro_rules! masked_lanes {
    ($module:ident, $net:ty, $make:expr) => {
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]

                #[test]
                fn masked_batches_are_the_bits_of_forward_masked(
                    rows in proptest::collection::vec(
                        (
                            proptest::collection::vec(input_value(), <$net>::N_INPUTS),
                            proptest::collection::vec(any::<bool>(), <$net>::SPEC.n_droppable_units()),
                        ),
                        1..20,
                    ),
                    negative_zero in any::<bool>(),
                ) {
                    let net: $net = $make;
                    let mut batch = Array2::zeros((rows.len(), <$net>::N_INPUTS));
                    let mut all_masks = Vec::new();
                    for (r, (values, bits)) in rows.iter().enumerate() {
                        for (i, v) in values.iter().enumerate() {
                            // −0.0 now and then, where a sum of kept products may stay −0.0.
                            let v = if negative_zero && *v == 0.0 { -0.0 } else { *v };
                            batch[[r, i]] = v as <$net as Network>::Scalar;
                        }
                        all_masks.push(masks_from_bits::<$net>(bits));
                    }
                    let masked = net.forward_batch_masked(batch.view(), &all_masks).unwrap();
                    for (r, masks) in all_masks.iter().enumerate() {
                        let x: [<$net as Network>::Scalar; <$net>::N_INPUTS] =
                            std::array::from_fn(|i| batch[[r, i]]);
                        let want: Vec<u64> = net.forward_masked(&x, masks).iter().map(|&v| bits_of(f64::from(v))).collect();
                        let got: Vec<u64> = masked.row(r).iter().map(|&v| bits_of(f64::from(v))).collect();
                        prop_assert_eq!(got, want, "row {}", r);
                    }
                }
            }
        }
    };
}

masked_lanes!(toy_lanes, Toy, Toy::new());
masked_lanes!(
    classifier_lanes,
    Classifier,
    Classifier::init(&mut ChaCha8Rng::seed_from_u64(1))
);
masked_lanes!(
    deep_lanes,
    Deep,
    Deep::init(&mut ChaCha8Rng::seed_from_u64(2))
);
masked_lanes!(
    selu_lanes,
    Selu,
    Selu::init(&mut ChaCha8Rng::seed_from_u64(3))
);

#[test]
fn masked_batches_of_noise_sites_are_the_bits_of_forward_masked() {
    use dropout::rand::RngExt as _;
    let net = Noisy::init(&mut ChaCha8Rng::seed_from_u64(4));
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = Array2::from_shape_fn((11, 4), |_| rng.random_range(-2.0..2.0));
    let masks: Vec<_> = (0..11).map(|_| net.sample_masks(&mut rng)).collect();
    let batch = net.forward_batch_masked(x.view(), &masks).unwrap();
    for (r, masks) in masks.iter().enumerate() {
        let row: [f64; 4] = std::array::from_fn(|i| x[[r, i]]);
        let want = net.forward_masked(&row, masks);
        assert_eq!(batch.row(r).to_vec(), want.to_vec(), "row {r}");
    }
}
