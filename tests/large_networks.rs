//! A network larger than a thread's stack is built, saved, loaded, trained and evaluated on a
//! thread whose stack holds less than a third of it: every step goes through the heap paths.
//! CI runs this test in the test profile and with `--release`.

use dropout::io;
use dropout::network;
use dropout::train::{Loss, Optimizer, Trainer};
use ndarray::Array2;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};

network! {
    /// 1,863,690 parameters: 7.45 MB of `f32`.
    struct Big<f32> {
        input: 784, dropout(p = 0.2),
        dense 1024 relu, dropout(p = 0.5),
        dense 1024 relu, dropout(p = 0.5),
        dense 10 identity,
    }
}

/// A spawned thread's default stack (2 MiB).
const STACK: usize = 2 << 20;

fn on_a_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("the work on the small stack completes");
}

#[test]
fn a_network_of_7_mb_lives_on_a_2_mib_stack() {
    assert!(std::mem::size_of::<Big>() > 3 * STACK);
    on_a_small_stack(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let net = Big::init_boxed(&mut rng);
        // The same seed draws the same weights (`tests/networks.rs` checks that they are those
        // of the by-value `init`, on a network small enough for the stack).
        let again = Big::init_boxed(&mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!(again.h2.weight(700, 3), net.h2.weight(700, 3));
        assert_eq!(again.output.row(9), net.output.row(9));

        let x: [f32; 784] = std::array::from_fn(|i| (i % 13) as f32 / 13.0 - 0.4);
        let y = net.forward(&x);
        assert!(y.iter().all(|v| v.is_finite()));

        // Every way to save and load, each into a network on the heap.
        let bytes = io::to_safetensors(&*net).unwrap();
        let loaded: Box<Big> = io::from_safetensors_boxed(&bytes).unwrap();
        assert_eq!(loaded.forward(&x), y);
        let mut into = Big::zeros_boxed();
        io::from_safetensors_into(&mut *into, &bytes).unwrap();
        assert_eq!(into.forward(&x), y);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.safetensors");
        io::save_safetensors(&*net, &path).unwrap();
        assert_eq!(
            io::load_safetensors_boxed::<Big>(&path)
                .unwrap()
                .forward(&x),
            y
        );
        let json = io::to_json(&*net).unwrap();
        assert_eq!(io::from_json_boxed::<Big>(&json).unwrap().forward(&x), y);
        let path = dir.path().join("big.json");
        io::save_json(&*net, &path).unwrap();
        let mut into = Big::zeros_boxed();
        io::load_json_into(&mut *into, &path).unwrap();
        assert_eq!(into.forward(&x), y);

        // One training step, then the trained network evaluates and differs.
        let mut trained = loaded;
        let inputs = Array2::from_shape_fn((8, 784), |_| rng.random_range(-1.0..1.0));
        let mut targets = Array2::zeros((8, 10));
        for r in 0..8 {
            targets[[r, r]] = 1.0;
        }
        let history = Trainer::new(Optimizer::adam(1e-3), Loss::SoftmaxCrossEntropy)
            .epochs(1)
            .batch_size(8)
            .progress(false)
            .fit(&mut *trained, (&inputs, &targets), None, |_| {})
            .unwrap();
        assert_eq!(history.len(), 1);
        let after = trained.forward(&x);
        assert!(after.iter().all(|v| v.is_finite()));
        assert_ne!(after, y);
        let masks = trained.sample_masks(&mut rng);
        assert!(
            trained
                .forward_masked(&x, &masks)
                .iter()
                .all(|v| v.is_finite())
        );
    });
}
