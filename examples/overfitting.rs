//! Overfitting and dropout on real data: the diabetes set of Efron et al. (2004), 442 patients.
//!
//! A small training set (80 patients) and a large network overfit: the validation loss turns
//! and climbs while the training loss keeps falling. The same architecture is trained twice
//! from the same initial weights and seed, without dropout and with the declared dropout, and
//! both runs are drawn on one chart.
//!
//! ```text
//! cargo run --release --example overfitting                 # writes overfitting.svg beside the executable
//! cargo run --release --example overfitting -- --seed 3      # another split, weights and masks
//! cargo run --release --example overfitting -- --every 1     # a table row for every epoch
//! ```

#[path = "data/mod.rs"]
mod datasets;
mod output;

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

use dropout::ndarray::Array2;
use dropout::network;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::train::{EpochReport, Loss, Optimizer, Trainer};
use plotters::prelude::*;

network! {
    /// Ten clinical variables to disease progression: two wide ReLU layers with dropout.
    #[derive(Clone)]
    pub struct Progression<f32> {
        input: 10, dropout(p = 0.2),
        dense 64 relu, dropout(p = 0.5),
        dense 64 relu, dropout(p = 0.5),
        dense 1 identity,
        // Its int8 twin, quantized after training with the training rows as calibration.
        quantize: int8 as ProgressionI8,
    }
}

const TRAIN_SIZE: usize = 80;
const EPOCHS: usize = 300;
const BATCH_SIZE: usize = 16;
const LEARNING_RATE: f64 = 1e-3;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let Options { seed, every } = parse_options(std::env::args().skip(1))?;
    let (train_x, train_y, val_x, val_y) = data(seed)?;
    println!(
        "Diabetes progression (Efron et al. 2004): {} training and {} validation patients, split with seed {seed}",
        train_x.nrows(),
        val_x.nrows()
    );
    println!("{}\n", Progression::SPEC);

    let (plain, dropped, trained) = train_twice(seed, (&train_x, &train_y), (&val_x, &val_y))?;

    println!(
        "Mean squared error of the standardised target, evaluation mode (every {every}th epoch):\n"
    );
    println!("epoch   without dropout: train  validation   with dropout: train  validation");
    for (a, b) in plain.iter().zip(&dropped) {
        if a.epoch % every == 0 || a.epoch == 1 {
            println!(
                "{:>5}   {:>22.4}  {:>10.4}   {:>19.4}  {:>10.4}",
                a.epoch,
                a.train_eval_loss,
                a.validation_loss.unwrap_or(f64::NAN),
                b.train_eval_loss,
                b.validation_loss.unwrap_or(f64::NAN)
            );
        }
    }
    println!();
    for (name, history) in [("without dropout", &plain), ("with dropout   ", &dropped)] {
        let (train, validation, best, epoch) = summary(history)?;
        println!(
            "{name}: final train {train:.4}, final validation {validation:.4}; best validation {best:.4} at epoch {epoch}"
        );
    }

    let (float, int8) = quantized(&trained, &train_x, (&val_x, &val_y))?;
    println!(
        "\nThe network trained with dropout, in f32 and as its int8 twin (calibrated on the training rows):"
    );
    println!("  validation MSE, f32 {float:.4}, int8 {int8:.4}");

    let out = output::path("overfitting.svg")?;
    draw(&out, &plain, &dropped)?;
    println!("\nwrote {}", out.display());
    Ok(())
}

/// Training inputs and targets, then validation inputs and targets.
type Split = (Array2<f32>, Array2<f32>, Array2<f32>, Array2<f32>);

/// The diabetes data, split with `seed` and standardised.
fn data(seed: u64) -> Result<Split, Box<dyn Error>> {
    let (x, y) = datasets::diabetes()?;
    Ok(datasets::split_and_standardise(&x, &y, TRAIN_SIZE, seed))
}

/// The validation MSE of `net` in evaluation mode and of its int8 twin, quantized with the
/// training rows as calibration.
fn quantized(
    net: &Progression,
    train_x: &Array2<f32>,
    validation: (&Array2<f32>, &Array2<f32>),
) -> Result<(f64, f64), Box<dyn Error>> {
    let rows = |x: &Array2<f32>| -> Vec<[f32; 10]> {
        x.rows()
            .into_iter()
            .map(|row| std::array::from_fn(|i| row[i]))
            .collect()
    };
    let twin = ProgressionI8::quantize(net, &rows(train_x))?;
    let (mut float, mut int8) = (0.0, 0.0);
    let val_rows = rows(validation.0);
    for (x, y) in val_rows.iter().zip(validation.1.iter()) {
        float += f64::from(net.forward(x)[0] - y).powi(2);
        int8 += f64::from(twin.forward(x)[0] - y).powi(2);
    }
    let n = val_rows.len() as f64;
    Ok((float / n, int8 / n))
}

/// The same initial weights trained twice with the same seed: without dropout, then with the
/// declared dropout. Returns both histories and the network trained with dropout.
fn train_twice(
    seed: u64,
    train: (&Array2<f32>, &Array2<f32>),
    validation: (&Array2<f32>, &Array2<f32>),
) -> Result<(Vec<EpochReport>, Vec<EpochReport>, Progression), dropout::Error> {
    let initial = Progression::init(&mut ChaCha8Rng::seed_from_u64(seed));
    let trainer = Trainer::new(Optimizer::adam(LEARNING_RATE), Loss::MeanSquaredError)
        .epochs(EPOCHS)
        .batch_size(BATCH_SIZE)
        .seed(seed);
    let mut plain_net = initial.clone();
    let plain = trainer.clone().dropout(0.0).fit(
        &mut plain_net,
        (train.0, train.1),
        Some((validation.0, validation.1)),
        |_| {},
    )?;
    let mut dropout_net = initial;
    let dropped = trainer.fit(
        &mut dropout_net,
        (train.0, train.1),
        Some((validation.0, validation.1)),
        |_| {},
    )?;
    Ok((plain, dropped, dropout_net))
}

/// The final training and validation losses, the best validation loss and its epoch.
fn summary(history: &[EpochReport]) -> Result<(f64, f64, f64, usize), Box<dyn Error>> {
    let best = best_epoch(history);
    let last = history.last().ok_or("no epochs were run")?;
    Ok((
        last.train_eval_loss,
        last.validation_loss.unwrap_or(f64::NAN),
        best.validation_loss.unwrap_or(f64::NAN),
        best.epoch,
    ))
}

fn best_epoch(history: &[EpochReport]) -> &EpochReport {
    history
        .iter()
        .min_by(|a, b| {
            a.validation_loss
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.validation_loss.unwrap_or(f64::INFINITY))
        })
        .unwrap_or(&history[0])
}

fn draw(path: &Path, plain: &[EpochReport], dropped: &[EpochReport]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    // The first epochs' losses are off the scale of everything after; clip them to keep the
    // interesting part readable.
    let later = plain.iter().chain(dropped).filter(|r| r.epoch > 10);
    let top = later
        .flat_map(|r| [r.train_eval_loss, r.validation_loss.unwrap_or(0.0)])
        .fold(0.0_f64, f64::max)
        * 1.3;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Diabetes progression: 80 training patients, 10 → 64 → 64 → 1",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..plain.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("mean squared error (standardised target)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let series = [
        (
            "without dropout: training",
            plain,
            false,
            RGBColor(214, 39, 40),
            false,
        ),
        (
            "without dropout: validation",
            plain,
            true,
            RGBColor(214, 39, 40),
            true,
        ),
        (
            "with dropout: training",
            dropped,
            false,
            RGBColor(31, 119, 180),
            false,
        ),
        (
            "with dropout: validation",
            dropped,
            true,
            RGBColor(31, 119, 180),
            true,
        ),
    ];
    for (label, history, validation, color, thick) in series {
        let points = history.iter().map(|r| {
            let loss = if validation {
                r.validation_loss.unwrap_or(f64::NAN)
            } else {
                r.train_eval_loss
            };
            (r.epoch as f64, loss.min(top))
        });
        let style = ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: if thick { 3 } else { 1 },
        };
        chart
            .draw_series(LineSeries::new(points, style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}

struct Options {
    seed: u64,
    every: usize,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { seed: 0, every: 20 };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a number"))?;
        match flag.as_str() {
            "--seed" => {
                options.seed = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a seed"))?;
            }
            "--every" => {
                options.every = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("`{value}` is not a positive number"))?;
            }
            _ => {
                return Err(format!(
                    "unknown argument `{flag}`; usage: overfitting [--seed N] [--every N]"
                ));
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::{data, quantized, summary, train_twice};

    /// README.md's table of this experiment is what a run with seed 0 computes.
    #[test]
    fn the_readme_table_is_what_the_example_computes() {
        let (train_x, train_y, val_x, val_y) = data(0).unwrap();
        let (plain, dropped, trained) =
            train_twice(0, (&train_x, &train_y), (&val_x, &val_y)).unwrap();
        let readme = include_str!("../README.md");
        for (name, history) in [("without dropout", &plain), ("with dropout", &dropped)] {
            let (train, validation, best, epoch) = summary(history).unwrap();
            let row =
                format!("| {name} | {train:.4} | {validation:.4} | {best:.4} (epoch {epoch}) |");
            assert!(readme.contains(&row), "README.md lacks the row\n{row}");
        }
        let (float, int8) = quantized(&trained, &train_x, (&val_x, &val_y)).unwrap();
        let row = format!("| validation MSE | {float:.4} | {int8:.4} |");
        assert!(readme.contains(&row), "README.md lacks the row\n{row}");
    }
}
