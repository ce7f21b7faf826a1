//! The toy network of "Comprehend Dropout: Deep Learning by doing toy examples", computed layer
//! by layer.
//!
//! ```text
//! cargo run --example toy              # the article's masks
//! cargo run --example toy -- --seed 7  # fresh masks drawn from ChaCha8 with seed 7
//! ```

use std::path::Path;
use std::process::ExitCode;

use dropout::network;
use dropout::toy::{Toy, ToyMasks};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// The same architecture as [`Toy`] (declared in `dropout::toy`) under inverted (PyTorch)
    /// scaling. It declares no weights: they are copied from `Toy` below, and the compiler checks
    /// that every layer's shape matches.
    pub struct ToyInverted<f32> {
        scaling: inverted,
        input: 2, dropout(keep = 1.0),
        dense 3 relu, dropout(p = 0.5),
        dense 3 relu, dropout(p = 0.5),
        dense 2 relu, dropout(p = 0.5),
        dense 1 identity,
    }
}

/// How many sampled masks the Monte Carlo estimate averages.
const MC_SAMPLES: usize = 10_000;

/// The article's masks μ⁰…μ³.
const ARTICLE_MASKS: ToyMasks = ToyMasks {
    input: [true, true],
    h1: [true, false, true],
    h2: [true, true, false],
    h3: [true, true],
};

fn main() -> ExitCode {
    let seed = match parse_seed(std::env::args().skip(1)) {
        Ok(seed) => seed,
        Err(message) => {
            eprintln!("error: {message}\nusage: toy [--seed N]");
            return ExitCode::from(2);
        }
    };
    let toy = Toy::new();
    let x = [1.0, 1.0];
    println!("{}\n", Toy::SPEC);

    let masks = match seed {
        None => {
            println!("Training pass for x = (1, 1) with the article's masks {ARTICLE_MASKS}:\n");
            ARTICLE_MASKS
        }
        Some(seed) => {
            let masks = toy.sample_masks(&mut ChaCha8Rng::seed_from_u64(seed));
            println!(
                "Training pass for x = (1, 1) with masks drawn from ChaCha8 (seed {seed}): {masks}\n"
            );
            masks
        }
    };
    println!("{}", toy.trace(&x, &masks));
    let picture = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/toy.svg");
    match toy
        .diagram(Some(&masks))
        .map(|svg| std::fs::write(&picture, svg))
    {
        Ok(Ok(())) => println!(
            "(the network with these masks is drawn in {})\n",
            picture.display()
        ),
        Ok(Err(err)) => eprintln!("warning: cannot write {}: {err}", picture.display()),
        Err(err) => eprintln!("warning: {err}"),
    }

    let [all_kept] = toy.forward_masked(&x, &ToyMasks::ALL_KEPT);
    println!("Every mask all ones (the undropped network): prediction {all_kept}");
    let [classic] = toy.forward(&x);
    println!(
        "Evaluation mode, classic scaling (each site's activations × its keep probability): {classic}"
    );
    let inverted = ToyInverted {
        h1: toy.h1,
        h2: toy.h2,
        h3: toy.h3,
        output: toy.output,
    };
    let [inverted_eval] = inverted.forward(&x);
    println!(
        "Evaluation mode, inverted scaling (evaluation is the undropped network): {inverted_eval}"
    );
    let [inverted_masked] = inverted.forward_masked(&x, &ToyInverted::masks_from(&masks));
    println!(
        "The same masks under inverted scaling (kept units × 1/keep = 2): prediction {inverted_masked}"
    );
    println!(
        "\nEvaluation pass under classic scaling, layer by layer:\n\n{}",
        toy.trace_eval(&x)
    );

    // Training-mode dropout makes the network an ensemble of 2⁸ thinned networks (μ⁰ keeps
    // everything); the evaluation pass only approximates the ensemble's mean.
    let mc_seed = seed.unwrap_or(0);
    let moments = toy.exact_moments(&x).and_then(|exact| {
        let mc = toy.predict_mc(&x, MC_SAMPLES, &mut ChaCha8Rng::seed_from_u64(mc_seed))?;
        Ok((exact, mc))
    });
    let (exact, mc) = match moments {
        Ok(moments) => moments,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("The training-mode ensemble for x = (1, 1):");
    println!("  evaluation pass (weight scaling)     {classic}");
    println!(
        "  exact mean ± std over {} masks      {:.4} ± {:.4}",
        exact.passes, exact.mean[0], exact.std_dev[0]
    );
    println!(
        "  Monte Carlo dropout, {} samples   {:.4} ± {:.4}  (ChaCha8, seed {mc_seed})",
        mc.passes, mc.mean[0], mc.std_dev[0]
    );
    ExitCode::SUCCESS
}

impl ToyInverted {
    /// The same mask bits, for the inverted network.
    fn masks_from(masks: &ToyMasks) -> ToyInvertedMasks {
        ToyInvertedMasks {
            input: masks.input,
            h1: masks.h1,
            h2: masks.h2,
            h3: masks.h3,
        }
    }
}

fn parse_seed(mut args: impl Iterator<Item = String>) -> Result<Option<u64>, String> {
    let Some(flag) = args.next() else {
        return Ok(None);
    };
    if flag != "--seed" {
        return Err(format!("unknown argument `{flag}`"));
    }
    let value = args.next().ok_or("`--seed` needs a number")?;
    let seed = value
        .parse()
        .map_err(|_| format!("`{value}` is not a seed (a number from 0 to {})", u64::MAX))?;
    match args.next() {
        Some(extra) => Err(format!("unexpected argument `{extra}`")),
        None => Ok(Some(seed)),
    }
}
