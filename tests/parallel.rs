//! `dropout::parallel`: batches and Monte Carlo dropout on 1, 2, 3 and 8 threads give the same
//! bits, and the same bits as the passes on one thread.

use dropout::ndarray::Array2;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::{Error, network, parallel, stats};

network! {
    /// Small: its batches run sample-parallel in lanes.
    struct Small<f64> {
        input: 4,
        dense 16 tanh, dropout(p = 0.3),
        dense 3 softmax,
    }
}

network! {
    /// Large: its batches run as matrix products.
    #[derive(Clone)]
    struct Large<f32> {
        input: 32,
        dense 128 relu, dropout(p = 0.5),
        dense 128 relu dropconnect(p = 0.2), dropout(p = 0.5),
        dense 10 identity,
    }
}

const THREADS: [usize; 4] = [1, 2, 3, 8];

fn batch<T: dropout::Float>(rows: usize, width: usize, seed: u64) -> Array2<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::from_shape_fn((rows, width), |_| T::from_f64(rng.random_range(-3.0..3.0)));
    // Non-finite inputs stay what they are on every thread.
    x[[5, 0]] = T::NAN;
    x[[rows / 2, 1]] = T::from_f64(f64::INFINITY);
    x
}

/// `f` on each thread count: every result the same as the first, NaN included (compared as
/// printed: `{:?}` prints each float's shortest exact form).
fn same_on_every_count<R: std::fmt::Debug + Send>(f: impl Fn() -> R + Sync) -> R {
    let results: Vec<R> = THREADS
        .iter()
        .map(|&n| parallel::with_threads(n, &f).unwrap())
        .collect();
    for (n, result) in THREADS.iter().zip(&results) {
        assert_eq!(
            format!("{result:?}"),
            format!("{:?}", results[0]),
            "{n} threads"
        );
    }
    results.into_iter().next().unwrap()
}

/// Bitwise equality, NaN included.
fn bits<T: dropout::Float>(a: &Array2<T>) -> Vec<u64> {
    a.iter()
        .map(|&v| dropout::Float::to_f64(v).to_bits())
        .collect()
}

#[test]
fn batches_are_the_same_bits_on_any_number_of_threads() {
    let small = Small::init(&mut ChaCha8Rng::seed_from_u64(1));
    let x = batch::<f64>(1000, 4, 2);
    let y = same_on_every_count(|| {
        bits(&parallel::rows(&x, |rows| small.forward_batch(rows)).unwrap())
    });
    // Sample-parallel batches are `forward` row by row, so the chunks change nothing.
    let rows: Vec<f64> = x
        .rows()
        .into_iter()
        .flat_map(|row| small.forward(&[row[0], row[1], row[2], row[3]]))
        .collect();
    assert_eq!(y, rows.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    assert!(rows[15..18].iter().all(|v| v.is_nan()), "the NaN row");

    let large = Large::init(&mut ChaCha8Rng::seed_from_u64(3));
    let x = batch::<f32>(700, 32, 4);
    let y = same_on_every_count(|| {
        bits(&parallel::rows(&x, |rows| large.forward_batch(rows)).unwrap())
    });
    assert_eq!(y.len(), 700 * 10);
    // The chunks are the rows [0, 256), [256, 512), [512, 700): each the batch pass of its rows.
    let chunk = large
        .forward_batch(x.slice(dropout::ndarray::s![256..512, ..]))
        .unwrap();
    assert_eq!(bits(&chunk), y[2560..5120]);
}

#[test]
fn masked_batches_are_the_same_bits_on_any_number_of_threads() {
    let large = Large::init(&mut ChaCha8Rng::seed_from_u64(5));
    let x = batch::<f32>(520, 32, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let masks: Vec<_> = (0..520).map(|_| large.sample_masks(&mut rng)).collect();
    let y = same_on_every_count(|| {
        bits(
            &parallel::rows_masked(&x, &masks, |rows, masks| {
                large.forward_batch_masked(rows, masks)
            })
            .unwrap(),
        )
    });
    let eval = bits(&large.forward_batch(x.view()).unwrap());
    assert_ne!(y, eval, "the masks drop units");

    let small = Small::init(&mut ChaCha8Rng::seed_from_u64(8));
    let x = batch::<f64>(513, 4, 9);
    let masks: Vec<_> = (0..513).map(|_| small.sample_masks(&mut rng)).collect();
    let y = same_on_every_count(|| {
        bits(
            &parallel::rows_masked(&x, &masks, |rows, masks| {
                small.forward_batch_masked(rows, masks)
            })
            .unwrap(),
        )
    });
    assert_eq!(
        y,
        bits(&small.forward_batch_masked(x.view(), &masks).unwrap())
    );
}

#[test]
fn monte_carlo_dropout_is_the_same_bits_on_any_number_of_threads() {
    let large = Large::init(&mut ChaCha8Rng::seed_from_u64(10));
    let x: [f32; 32] = std::array::from_fn(|i| (i as f32 - 16.0) / 8.0);
    for samples in [1, 300] {
        let serial =
            stats::predict_mc(&large, &x, samples, &mut ChaCha8Rng::seed_from_u64(11)).unwrap();
        let threaded = same_on_every_count(|| {
            parallel::predict_mc(&large, &x, samples, &mut ChaCha8Rng::seed_from_u64(11)).unwrap()
        });
        assert_eq!(
            format!("{serial:?}"),
            format!("{threaded:?}"),
            "{samples} samples"
        );
        assert_eq!(threaded.passes, samples);
    }
}

#[test]
fn a_batch_of_masks_is_drawn_alike_on_any_number_of_threads() {
    let large = Large::init(&mut ChaCha8Rng::seed_from_u64(10));
    // Unit and weight masks; 0, 1 and more rows than a thread's share.
    for rows in [0, 1, 300] {
        let drawn = same_on_every_count(|| {
            parallel::sample_masks(&large, rows, &mut ChaCha8Rng::seed_from_u64(14))
        });
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let one_by_one: Vec<_> = (0..rows)
            .map(|_| large.sample_masks(&mut stats::pass_rng(&mut rng)))
            .collect();
        assert!(drawn == one_by_one, "{rows} rows");
    }
    // Rows differ from each other (each has a generator of its own).
    let drawn = parallel::sample_masks(&large, 2, &mut ChaCha8Rng::seed_from_u64(14));
    assert!(drawn[0] != drawn[1]);
}

#[test]
fn bad_arguments_are_errors() {
    assert!(matches!(
        parallel::with_threads(0, || ()),
        Err(Error::Threads(_))
    ));
    let small = Small::init(&mut ChaCha8Rng::seed_from_u64(12));
    let x = batch::<f64>(300, 4, 13);
    let masks: Vec<_> = (0..299)
        .map(|_| small.sample_masks(&mut ChaCha8Rng::seed_from_u64(0)))
        .collect();
    let err = parallel::rows_masked(&x, &masks, |rows, m| small.forward_batch_masked(rows, m))
        .unwrap_err();
    assert_eq!(
        err,
        Error::MaskCount {
            expected: 300,
            found: 299
        }
    );
    let wide = batch::<f64>(600, 5, 14);
    let err = parallel::rows(&wide, |rows| small.forward_batch(rows)).unwrap_err();
    assert_eq!(
        err,
        Error::BatchWidth {
            expected: 4,
            found: 5
        }
    );
    let err =
        parallel::predict_mc(&small, &[0.0; 4], 0, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
    assert_eq!(err, Error::NoSamples);
}

/// Every weight and bias of `net`, layer by layer, as bits.
fn parameters<N: dropout::Network>(net: &N) -> Vec<u64> {
    (0..N::SPEC.layers.len())
        .filter_map(|idx| net.layer(idx))
        .flat_map(|layer| {
            layer
                .storage()
                .iter()
                .chain(layer.biases())
                .map(|&v| dropout::Float::to_f64(v).to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A regression data set of `rows` rows for a network of `inputs` inputs and `outputs` outputs.
fn data<T: dropout::Float>(
    rows: usize,
    inputs: usize,
    outputs: usize,
    seed: u64,
) -> (Array2<T>, Array2<T>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((rows, inputs), |_| T::from_f64(rng.random_range(-1.0..1.0)));
    let y = Array2::from_shape_fn((rows, outputs), |(r, k)| {
        T::from_f64(if (r + k) % outputs == 0 { 1.0 } else { 0.0 })
    });
    (x, y)
}

#[test]
fn training_is_the_same_bits_on_any_number_of_threads() {
    use dropout::train::{Loss, Optimizer, Trainer};
    // Batches of 100 rows: chunks of 32, 32, 32 and 4; 600 rows: losses in chunks of 256.
    let (x, y) = data::<f64>(600, 4, 3, 20);
    let (vx, vy) = data::<f64>(300, 4, 3, 21);
    let trainer = Trainer::new(Optimizer::adam(0.01), Loss::SoftmaxCrossEntropy)
        .epochs(3)
        .batch_size(100)
        .seed(5)
        .progress(false);
    let (small, history) = same_on_every_count(|| {
        let mut net = Small::init(&mut ChaCha8Rng::seed_from_u64(22));
        let history = trainer
            .fit_parallel(&mut net, (&x, &y), Some((&vx, &vy)), |_| {})
            .unwrap();
        (parameters(&net), history)
    });
    // The same training on one thread without chunks: the same steps, to rounding.
    let mut serial = Small::init(&mut ChaCha8Rng::seed_from_u64(22));
    let serial_history = trainer
        .fit(&mut serial, (&x, &y), Some((&vx, &vy)), |_| {})
        .unwrap();
    assert_ne!(
        small,
        parameters(&serial),
        "the chunks add in another order"
    );
    for (a, b) in small.iter().zip(parameters(&serial)) {
        let (a, b) = (f64::from_bits(*a), f64::from_bits(b));
        assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}");
    }
    for (a, b) in history.iter().zip(&serial_history) {
        assert!((a.train_loss - b.train_loss).abs() < 1e-9, "{a:?} vs {b:?}");
        let validation = a.validation_loss.unwrap() - b.validation_loss.unwrap();
        assert!(validation.abs() < 1e-9, "{a:?} vs {b:?}");
    }

    // DropConnect, f32, mean squared error.
    let (x, y) = data::<f32>(300, 32, 10, 23);
    let trainer = Trainer::new(Optimizer::sgd(0.05), Loss::MeanSquaredError)
        .epochs(2)
        .batch_size(70)
        .progress(false);
    same_on_every_count(|| {
        let mut net = Large::init(&mut ChaCha8Rng::seed_from_u64(24));
        let history = trainer
            .fit_parallel(&mut net, (&x, &y), None, |_| {})
            .unwrap();
        (parameters(&net), history)
    });
}

#[test]
fn training_in_one_chunk_is_the_bits_of_the_trainer() {
    use dropout::train::{Loss, Optimizer, Trainer};
    // Batches of at most 32 rows and data sets of at most 256: one chunk each, computed as
    // `Trainer::fit` computes them.
    let (x, y) = data::<f32>(200, 32, 10, 25);
    let trainer = Trainer::new(Optimizer::adam(0.001), Loss::SoftmaxCrossEntropy)
        .epochs(2)
        .batch_size(32)
        .progress(false);
    let (threaded, history) = same_on_every_count(|| {
        let mut net = Large::init(&mut ChaCha8Rng::seed_from_u64(26));
        let history = trainer
            .fit_parallel(&mut net, (&x, &y), None, |_| {})
            .unwrap();
        (parameters(&net), history)
    });
    let mut serial = Large::init(&mut ChaCha8Rng::seed_from_u64(26));
    let serial_history = trainer.fit(&mut serial, (&x, &y), None, |_| {}).unwrap();
    assert_eq!(threaded, parameters(&serial));
    assert_eq!(history, serial_history);
    assert_eq!(dropout::train::STEP_CHUNK, 32);
}

#[test]
fn optimizer_steps_are_the_bits_of_one_thread() {
    use dropout::train::{Loss, Optimizer, OptimizerState, gradients_batch};
    // 21,898 parameters: the largest layer cut into blocks, the last block short.
    let (x, y) = data::<f32>(40, 32, 10, 29);
    let start = Large::init(&mut ChaCha8Rng::seed_from_u64(30));
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let masks: Vec<_> = (0..40).map(|_| start.sample_masks(&mut rng)).collect();
    let (_, grads) = gradients_batch(&start, &x, &masks, &y, Loss::MeanSquaredError).unwrap();
    for optimizer in [
        Optimizer::sgd(0.1)
            .with_momentum(0.9)
            .with_weight_decay(0.01),
        Optimizer::adam(0.01).with_weight_decay(0.1),
    ] {
        let steps = |parallel: bool| {
            let mut net = start.clone();
            let mut state = OptimizerState::new(optimizer).unwrap();
            for _ in 0..3 {
                if parallel {
                    state.step_parallel(&mut net, &grads).unwrap();
                } else {
                    state.step(&mut net, &grads).unwrap();
                }
            }
            parameters(&net)
        };
        let serial = steps(false);
        assert_ne!(serial, parameters(&start));
        assert_eq!(same_on_every_count(|| steps(true)), serial, "{optimizer:?}");
    }
    // A step that would overflow is refused on every thread count, leaving the network as it
    // was, as the step on one thread refuses it.
    let mut net = start.clone();
    let mut state = OptimizerState::new(Optimizer::sgd(1e300)).unwrap();
    let serial = state.step(&mut net, &grads).unwrap_err();
    let threaded = same_on_every_count(|| {
        let mut net = start.clone();
        let err = state.clone().step_parallel(&mut net, &grads).unwrap_err();
        (err, parameters(&net) == parameters(&start))
    });
    assert_eq!(threaded, (serial, true));
    // Gradients that are not finite are named as such, before the new values they would give,
    // by both optimizers on every thread count, and the network and state stay as they were.
    let mut poisoned = x.clone();
    poisoned[[3, 7]] = f32::NAN;
    let (_, nan_grads) =
        gradients_batch(&start, &poisoned, &masks, &y, Loss::MeanSquaredError).unwrap();
    assert!(!nan_grads.is_finite());
    for optimizer in [
        Optimizer::sgd(0.1).with_momentum(0.9),
        Optimizer::adam(0.01),
    ] {
        let mut state = OptimizerState::new(optimizer).unwrap();
        let mut net = start.clone();
        state.step(&mut net, &grads).unwrap();
        let stepped = parameters(&net);
        let refuse = |parallel: bool| {
            let (mut state, mut net) = (state.clone(), net.clone());
            let err = if parallel {
                state.step_parallel(&mut net, &nan_grads)
            } else {
                state.step(&mut net, &nan_grads)
            };
            // The state is as it was: the next good step gives the bits it gave before.
            let mut again = net.clone();
            state.step(&mut again, &grads).unwrap();
            (err, parameters(&net), parameters(&again))
        };
        let mut expected_next = net.clone();
        state.clone().step(&mut expected_next, &grads).unwrap();
        let diverged = Err(dropout::Error::Diverged {
            epoch: 0,
            step: 0,
            what: "gradient",
        });
        let serial = refuse(false);
        assert_eq!(serial.0, diverged, "{optimizer:?}");
        assert!(serial.1 == stepped, "{optimizer:?}: the network changed");
        assert!(
            serial.2 == parameters(&expected_next),
            "{optimizer:?}: the state changed"
        );
        assert!(
            same_on_every_count(|| refuse(true)) == serial,
            "{optimizer:?}: threads refuse otherwise"
        );
    }
}

#[test]
fn a_workspace_gives_the_bits_of_fresh_buffers() {
    use dropout::train::{Loss, Workspace, gradients_batch, gradients_batch_parallel};
    // Batches of 100 (four chunks), 20 (one) and 70 (three) rows in turn, through one
    // workspace: each call's gradients are those of the functions with fresh buffers, whatever
    // the calls before left in it.
    let net = Large::init(&mut ChaCha8Rng::seed_from_u64(32));
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let batches: Vec<_> = [100, 20, 70]
        .into_iter()
        .map(|rows| {
            let (x, y) = data::<f32>(rows, 32, 10, rows as u64);
            let masks: Vec<_> = (0..rows).map(|_| net.sample_masks(&mut rng)).collect();
            (x, y, masks)
        })
        .collect();
    let loss = Loss::SoftmaxCrossEntropy;
    same_on_every_count(|| {
        let mut workspace = Workspace::new();
        let mut all = Vec::new();
        for (x, y, masks) in &batches {
            let fresh = gradients_batch_parallel(&net, x, masks, y, loss).unwrap();
            let (value, grads) = workspace
                .gradients_batch_parallel(&net, x, masks, y, loss)
                .unwrap();
            assert_eq!((value, grads), (fresh.0, &fresh.1));
            let serial = gradients_batch(&net, x, masks, y, loss).unwrap();
            let (value, grads) = workspace.gradients_batch(&net, x, masks, y, loss).unwrap();
            assert_eq!((value, grads), (serial.0, &serial.1));
            all.push(fresh);
        }
        all
    });
}

#[test]
fn training_errors_are_the_trainers() {
    use dropout::train::{Loss, Optimizer, Trainer};
    let (x, y) = data::<f64>(100, 4, 3, 27);
    let trainer = Trainer::new(Optimizer::sgd(0.1), Loss::SoftmaxCrossEntropy).progress(false);
    let mut net = Small::init(&mut ChaCha8Rng::seed_from_u64(28));
    let narrow = x.slice(dropout::ndarray::s![.., ..3]).to_owned();
    assert_eq!(
        trainer
            .fit_parallel(&mut net, (&narrow, &y), None, |_| {})
            .unwrap_err(),
        trainer
            .fit(&mut net, (&narrow, &y), None, |_| {})
            .unwrap_err(),
    );
    let mut bad = x.clone();
    bad[[40, 2]] = f64::NAN;
    let err = trainer
        .fit_parallel(&mut net, (&bad, &y), None, |_| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteData {
                row: 40,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

network! {
    /// The int8 sine model: its batches split across threads.
    struct Sine<i8> {
        input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

network! {
    /// An int8 twin large enough for the packed kernel, quantized at run time.
    struct Wide<f32> { input: 40, dense 64 tanh, dense 32 relu, dense 3 identity, quantize: int8 as WideI8 }
}

#[test]
fn int8_batches_are_the_same_bits_on_any_number_of_threads() {
    let sine = Sine::new();
    let x: Vec<[i8; 1]> = (0..1100_u32).map(|k| [(k as u8).cast_signed()]).collect();
    let y = same_on_every_count(|| {
        let mut y = vec![[0i8; 1]; x.len()];
        parallel::slices(&x, &mut y, |x, y| sine.forward_quantized_batch(x, y)).unwrap();
        y
    });
    let single: Vec<[i8; 1]> = x.iter().map(|x| sine.forward_quantized(x)).collect();
    assert_eq!(y, single);

    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let float = Wide::init(&mut rng);
    let rows: Vec<[f32; 40]> = (0..300)
        .map(|_| std::array::from_fn(|_| rng.random_range(-1.0..1.0)))
        .collect();
    let twin = WideI8::quantize(&float, &rows).unwrap();
    let x: Vec<[i8; 40]> = (0..700)
        .map(|_| std::array::from_fn(|_| rng.random()))
        .collect();
    let y = same_on_every_count(|| {
        let mut y = vec![[0i8; 3]; x.len()];
        parallel::slices(&x, &mut y, |x, y| twin.forward_quantized_batch(x, y)).unwrap();
        y
    });
    let single: Vec<[i8; 3]> = x.iter().map(|x| twin.forward_quantized(x)).collect();
    assert_eq!(y, single);

    let mut short = vec![[0i8; 3]; 5];
    assert_eq!(
        parallel::slices(&x, &mut short, |x, y| twin.forward_quantized_batch(x, y)),
        Err(Error::OutputRows {
            expected: 700,
            found: 5
        })
    );
}
