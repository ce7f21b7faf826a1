//! How good is Monte Carlo dropout's uncertainty? A 64-128-128-10 network trained with dropout
//! on scikit-learn's handwritten digits (1,797 8×8 images, `examples/data/digits.csv`), then
//! measured with `dropout::uncertainty` on the test split, in the deterministic evaluation pass
//! and with MC dropout (T = 100 sampled masks): accuracy, negative log-likelihood, Brier score,
//! expected calibration error (15 bins), and how well predictive entropy and mutual
//! information tell test digits from inputs of another distribution (uniform noise; digits
//! flipped left to right), as AUROC. Its int8 twin (`quantize: int8 as DigitsI8`), quantized
//! after training with the training rows, is measured the same way, with MC dropout in integers.
//!
//! ```text
//! cargo run --release --example uncertainty   # writes uncertainty.svg and uncertainty.csv beside the executable
//! ```
//!
//! `uncertainty.csv` has one row per test sample: the label, the 10 deterministic
//! probabilities, then the 10 MC mean probabilities, so that the table can be recomputed.

#[path = "data/mod.rs"]
mod datasets;
mod output;

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use dropout::ndarray::Array2;
use dropout::network;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::seq::SliceRandom as _;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::train::{Loss, Optimizer, Trainer};
use dropout::uncertainty as u;

network! {
    /// 8×8 grey levels to ten digit logits, with dropout on both hidden layers.
    pub struct Digits<f32> {
        input: 64,
        dense 128 relu, dropout(p = 0.5),
        dense 128 relu, dropout(p = 0.5),
        dense 10 identity,
        // Its int8 twin, quantized after training with the training rows as calibration.
        quantize: int8 as DigitsI8,
    }
}

const TRAIN_SIZE: usize = 1200;
const EPOCHS: usize = 40;
const BATCH_SIZE: usize = 32;
const LEARNING_RATE: f64 = 1e-3;
const PASSES: usize = 100;
const BINS: usize = 15;
const SEED: u64 = 0;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The results the example prints and the README quotes.
struct Report {
    /// (accuracy, NLL, Brier, ECE) of the deterministic pass, of MC dropout, and of the int8
    /// twin's deterministic pass and MC dropout in integers.
    scores: [[f64; 4]; 4],
    /// AUROC of (entropy, mutual information) against (noise, flipped digits).
    auroc: [[f64; 2]; 2],
    /// Per test sample: label, deterministic and MC probabilities.
    rows: Vec<(usize, Vec<f64>, Vec<f64>)>,
    /// Reliability bins of both passes.
    bins: [Vec<u::Bin>; 2],
}

fn run() -> Result<(), Box<dyn Error>> {
    let report = experiment()?;
    println!("{}", Digits::SPEC);
    println!(
        "trained {EPOCHS} epochs on {TRAIN_SIZE} digits (Adam, learning rate {LEARNING_RATE}, batches of {BATCH_SIZE}); {} test digits",
        report.rows.len()
    );
    print!("{}", table(&report));
    let svg = output::path("uncertainty.svg")?;
    draw(&svg, &report.bins)?;
    let csv = output::path("uncertainty.csv")?;
    std::fs::write(&csv, csv_text(&report))?;
    println!("wrote {} and {}", svg.display(), csv.display());
    Ok(())
}

/// The README's table.
fn table(report: &Report) -> String {
    let mut out =
        String::from("| pass | accuracy | NLL | Brier | ECE (15 bins) |\n|---|---|---|---|---|\n");
    let names = [
        "deterministic".to_owned(),
        format!("MC dropout, T = {PASSES}"),
        "int8 twin, deterministic".to_owned(),
        format!("int8 twin, MC dropout in integers, T = {PASSES}"),
    ];
    for (name, s) in names.iter().zip(&report.scores) {
        let _ = writeln!(
            out,
            "| {name} | {:.4} | {:.4} | {:.4} | {:.4} |",
            s[0], s[1], s[2], s[3]
        );
    }
    out.push_str("\n| AUROC, test digits against | predictive entropy | mutual information |\n|---|---|---|\n");
    for (name, a) in ["uniform noise", "digits flipped left-right"]
        .iter()
        .zip(&report.auroc)
    {
        let _ = writeln!(out, "| {name} | {:.4} | {:.4} |", a[0], a[1]);
    }
    out
}

fn experiment() -> Result<Report, Box<dyn Error>> {
    let (x, labels) = datasets::digits()?;
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SEED));
    let (train, test) = order.split_at(TRAIN_SIZE.min(order.len()));
    let rows = |idx: &[usize]| Array2::from_shape_fn((idx.len(), 64), |(r, c)| x[idx[r]][c]);
    let targets = Array2::from_shape_fn((train.len(), 1), |(r, _)| labels[train[r]] as f32);
    let mut net = Digits::init(&mut ChaCha8Rng::seed_from_u64(SEED));
    Trainer::new(Optimizer::adam(LEARNING_RATE), Loss::SoftmaxCrossEntropy)
        .epochs(EPOCHS)
        .batch_size(BATCH_SIZE)
        .seed(SEED)
        .fit(&mut net, (&rows(train), &targets), None, |_| {})?;

    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let test_x: Vec<[f32; 64]> = test.iter().map(|&i| x[i]).collect();
    let test_y: Vec<usize> = test.iter().map(|&i| labels[i]).collect();
    let noise: Vec<[f32; 64]> = (0..test.len())
        .map(|_| std::array::from_fn(|_| rng.random_range(0.0..1.0)))
        .collect();
    let flipped: Vec<[f32; 64]> = test_x
        .iter()
        .map(|image| std::array::from_fn(|i| image[(i / 8) * 8 + 7 - i % 8]))
        .collect();

    let deterministic = |xs: &[[f32; 64]]| -> Vec<Vec<f64>> {
        xs.iter().map(|x| softmax(&net.forward(x))).collect()
    };
    let mut mc = |xs: &[[f32; 64]]| -> Vec<Vec<Vec<f64>>> {
        xs.iter()
            .map(|x| {
                (0..PASSES)
                    .map(|_| softmax(&net.forward_masked(x, &net.sample_masks(&mut rng))))
                    .collect()
            })
            .collect()
    };
    let det = deterministic(&test_x);
    let mc_test = mc(&test_x);
    let mc_mean: Vec<Vec<f64>> = mc_test
        .iter()
        .map(|passes| u::mean_probabilities(&views(passes)))
        .collect::<Result<_, _>>()?;

    let measures = |passes: &[Vec<Vec<f64>>]| -> Result<(Vec<f64>, Vec<f64>), dropout::Error> {
        let mut entropy = Vec::new();
        let mut information = Vec::new();
        for p in passes {
            entropy.push(u::predictive_entropy(&views(p))?);
            information.push(u::mutual_information(&views(p))?);
        }
        Ok((entropy, information))
    };
    let (h_in, mi_in) = measures(&mc_test)?;
    let mut auroc = [[0.0; 2]; 2];
    for (k, ood) in [&noise, &flipped].into_iter().enumerate() {
        let (h_out, mi_out) = measures(&mc(ood))?;
        auroc[k] = [u::auroc(&h_in, &h_out)?, u::auroc(&mi_in, &mi_out)?];
    }
    // The twin, and its passes (its MC dropout masks units in integers).
    let twin = DigitsI8::quantize(&net, &rows_of(train, &x))?;
    let twin_det: Vec<Vec<f64>> = test_x.iter().map(|x| softmax(&twin.forward(x))).collect();
    let twin_mc: Vec<Vec<f64>> = test_x
        .iter()
        .map(|x| {
            let passes: Vec<Vec<f64>> = (0..PASSES)
                .map(|_| softmax(&twin.forward_masked(x, &twin.sample_masks(&mut rng))))
                .collect();
            u::mean_probabilities(&views(&passes))
        })
        .collect::<Result<_, _>>()?;
    let scores = [
        scores(&det, &test_y)?,
        scores(&mc_mean, &test_y)?,
        scores(&twin_det, &test_y)?,
        scores(&twin_mc, &test_y)?,
    ];
    let bins = [
        u::reliability(&views(&det), &test_y, BINS)?,
        u::reliability(&views(&mc_mean), &test_y, BINS)?,
    ];
    let rows = test_y
        .iter()
        .zip(det)
        .zip(mc_mean)
        .map(|((&y, d), m)| (y, d, m))
        .collect();
    Ok(Report {
        scores,
        auroc,
        rows,
        bins,
    })
}

fn rows_of(idx: &[usize], x: &[[f32; 64]]) -> Vec<[f32; 64]> {
    idx.iter().map(|&i| x[i]).collect()
}

fn views(rows: &[Vec<f64>]) -> Vec<&[f64]> {
    rows.iter().map(Vec::as_slice).collect()
}

fn scores(probs: &[Vec<f64>], labels: &[usize]) -> Result<[f64; 4], dropout::Error> {
    let p = views(probs);
    Ok([
        u::accuracy(&p, labels)?,
        u::negative_log_likelihood(&p, labels)?,
        u::brier_score(&p, labels)?,
        u::expected_calibration_error(&p, labels, BINS)?,
    ])
}

/// Probabilities from logits, in `f64`.
fn softmax(logits: &[f32; 10]) -> Vec<f64> {
    let top = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let exp: Vec<f64> = logits.iter().map(|&v| (f64::from(v) - top).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

fn csv_text(report: &Report) -> String {
    let mut out = String::from("label");
    for k in 0..10 {
        let _ = write!(out, ",deterministic_{k}");
    }
    for k in 0..10 {
        let _ = write!(out, ",mc_{k}");
    }
    out.push('\n');
    for (y, det, mc) in &report.rows {
        let _ = write!(out, "{y}");
        for v in det.iter().chain(mc) {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
    out
}

/// The reliability diagram of both passes: each bin's accuracy against its mean confidence.
fn draw(path: &Path, bins: &[Vec<u::Bin>; 2]) -> Result<(), Box<dyn Error>> {
    let svg = u::reliability_diagram(
        "Reliability on the test digits",
        &[("deterministic", &bins[0]), ("MC dropout", &bins[1])],
    )?;
    std::fs::write(path, svg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_tables_are_what_the_example_computes() {
        let report = super::experiment().unwrap();
        let readme = include_str!("../README.md");
        let table = super::table(&report);
        assert!(readme.contains(&table), "README.md lacks\n{table}");
        assert_eq!(report.rows.len(), 597);
    }
}
