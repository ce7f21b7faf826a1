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
//! cargo run --release --example uncertainty -- --seeds 5     # mean ± std over 5 trainings
//! cargo run --release --example uncertainty -- --split FILE  # the training rows, for PyTorch
//! ```
//!
//! `--seeds N` trains N networks on the same split, seeds 0 to N − 1 for their weights, batches
//! and masks, and prints the table of both passes as mean ± standard deviation with the median
//! training time: the side of the comparison with PyTorch that `tools/uncertainty_torch.py`
//! prints the other side of, from the rows `--split` writes.
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
use std::time::{Duration, Instant};

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args.get(i + 1).ok_or(format!("{flag} needs a value")))
            .transpose()
    };
    if let Some(path) = value("--split")? {
        // The training rows' indices, one per line, for `tools/uncertainty_torch.py`.
        let data = data()?;
        let lines: Vec<String> = data.train.iter().map(ToString::to_string).collect();
        std::fs::write(path, lines.join("\n") + "\n")?;
        return Ok(());
    }
    if let Some(seeds) = value("--seeds")? {
        let seeds: u64 = seeds
            .parse()
            .map_err(|err| format!("--seeds {seeds}: {err}"))?;
        if seeds == 0 {
            return Err("--seeds needs at least 1".into());
        }
        let (table, seconds) = seeds_table(&data()?, seeds)?;
        print!("{table}");
        println!("\ntraining time, median of {seeds}: {seconds:.2} s");
        return Ok(());
    }
    if let Some(arg) = args.first() {
        return Err(format!(
            "unexpected argument `{arg}`: the example takes --seeds N or --split PATH"
        )
        .into());
    }
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

/// The digits, split as every run splits them: the first `TRAIN_SIZE` of a shuffle seeded
/// with `SEED` train, the rest test.
struct Data {
    x: Vec<[f32; 64]>,
    labels: Vec<usize>,
    train: Vec<usize>,
    test: Vec<usize>,
}

fn data() -> Result<Data, Box<dyn Error>> {
    let (x, labels) = datasets::digits()?;
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SEED));
    let test = order.split_off(TRAIN_SIZE.min(order.len()));
    Ok(Data {
        x,
        labels,
        train: order,
        test,
    })
}

/// The network trained on `data`'s training rows, its weights and batches drawn from `seed`,
/// and how long training took.
fn train(data: &Data, seed: u64) -> Result<(Digits, Duration), Box<dyn Error>> {
    let (x, train) = (&data.x, &data.train);
    let rows = Array2::from_shape_fn((train.len(), 64), |(r, c)| x[train[r]][c]);
    let targets = Array2::from_shape_fn((train.len(), 1), |(r, _)| data.labels[train[r]] as f32);
    let mut net = Digits::init(&mut ChaCha8Rng::seed_from_u64(seed));
    let start = Instant::now();
    Trainer::new(Optimizer::adam(LEARNING_RATE), Loss::SoftmaxCrossEntropy)
        .epochs(EPOCHS)
        .batch_size(BATCH_SIZE)
        .seed(seed)
        .fit(&mut net, (&rows, &targets), None, |_| {})?;
    Ok((net, start.elapsed()))
}

/// One training's (accuracy, NLL, Brier, ECE) of both passes and its training time.
type SeedRun = ([[f64; 4]; 2], Duration);

/// (accuracy, NLL, Brier, ECE) of the deterministic pass and of MC dropout on the test rows,
/// for a network trained from `seed` (its masks drawn from `seed + 1`), and the training time.
fn seed_scores(data: &Data, seed: u64) -> Result<SeedRun, Box<dyn Error>> {
    let (net, time) = train(data, seed)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let test_y: Vec<usize> = data.test.iter().map(|&i| data.labels[i]).collect();
    let (mut det, mut mc) = (Vec::new(), Vec::new());
    for &i in &data.test {
        let x = &data.x[i];
        det.push(softmax(&net.forward(x)));
        let passes: Vec<Vec<f64>> = (0..PASSES)
            .map(|_| softmax(&net.forward_masked(x, &net.sample_masks(&mut rng))))
            .collect();
        mc.push(u::mean_probabilities(&views(&passes))?);
    }
    Ok(([scores(&det, &test_y)?, scores(&mc, &test_y)?], time))
}

/// The table of `seeds` trainings (mean ± standard deviation over the seeds) and their median
/// training time in seconds.
fn seeds_table(data: &Data, seeds: u64) -> Result<(String, f64), Box<dyn Error>> {
    let mut runs = Vec::new();
    for seed in 0..seeds {
        runs.push(seed_scores(data, seed)?);
    }
    let mut times: Vec<f64> = runs.iter().map(|(_, t)| t.as_secs_f64()).collect();
    times.sort_by(f64::total_cmp);
    let mut out = format!(
        "| dropout-nn, {seeds} seeds | accuracy | NLL | Brier | ECE (15 bins) |\n|---|---|---|---|---|\n"
    );
    for (pass, name) in ["deterministic", "MC dropout, T = 100"].iter().enumerate() {
        let _ = write!(out, "| {name} |");
        for measure in 0..4 {
            let values: Vec<f64> = runs.iter().map(|(s, _)| s[pass][measure]).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / (values.len().max(2) - 1) as f64;
            let _ = write!(out, " {mean:.4} ± {:.4} |", var.sqrt());
        }
        out.push('\n');
    }
    Ok((out, times[times.len() / 2]))
}

/// The network of the README's tables: trained from `SEED`.
fn train_network(data: &Data) -> Result<(Digits, Duration), Box<dyn Error>> {
    train(data, SEED)
}

fn experiment() -> Result<Report, Box<dyn Error>> {
    let data = data()?;
    let (x, labels) = (&data.x, &data.labels);
    let (train, test) = (&data.train[..], &data.test[..]);
    let (net, _) = train_network(&data)?;

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
    let twin = DigitsI8::quantize(&net, &rows_of(train, x))?;
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

    #[test]
    fn the_readme_table_of_five_seeds_is_what_the_example_computes() {
        let (table, _) = super::seeds_table(&super::data().unwrap(), 5).unwrap();
        let readme = include_str!("../README.md");
        assert!(readme.contains(&table), "README.md lacks\n{table}");
    }
}
