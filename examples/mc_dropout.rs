//! Monte Carlo dropout (Gal & Ghahramani 2016) on a 1-D regression: the spread of the
//! predictions under sampled masks grows away from the training data.
//!
//! ```text
//! cargo run --release --example mc_dropout     # writes mc_dropout.svg beside the executable
//! ```

mod output;

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

use dropout::ndarray::Array2;
use dropout::network;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::train::{Loss, Optimizer, Trainer};
use plotters::prelude::*;

network! {
    /// One input, two ReLU layers with dropout, one output.
    pub struct Curve<f64> {
        input: 1,
        dense 128 relu, dropout(p = 0.2),
        dense 128 relu, dropout(p = 0.2),
        dense 1 identity,
    }
}

/// The training data lie in [−DATA_EDGE, DATA_EDGE]; predictions cover [−PLOT_EDGE, PLOT_EDGE].
const DATA_EDGE: f64 = 1.5;
const PLOT_EDGE: f64 = 4.0;
const MC_SAMPLES: usize = 500;
const SEED: u64 = 7;

fn truth(x: f64) -> f64 {
    x.sin() * 1.5 + 0.3 * x
}

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
    let Experiment { x, y, grid } = experiment()?;
    let n = x.nrows();
    let spread = |inside: bool| spread(&grid, inside);
    println!("{}", Curve::SPEC);
    println!(
        "trained on {n} noisy samples of 1.5·sin(x) + 0.3·x with x in [−{DATA_EDGE}, {DATA_EDGE}]"
    );
    println!("MC dropout with {MC_SAMPLES} sampled masks per point (ChaCha8, seed {SEED}):");
    println!(
        "  mean standard deviation inside the data range   {:.3}",
        spread(true)
    );
    println!(
        "  mean standard deviation outside it (to ±{PLOT_EDGE})     {:.3}",
        spread(false)
    );
    for &(x, eval, mean, std) in grid.iter().step_by(20) {
        println!("  x = {x:>5.1}: evaluation {eval:>7.3}, MC mean {mean:>7.3} ± {std:.3}");
    }

    let out = output::path("mc_dropout.svg")?;
    draw(&out, &x, &y, &grid)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The training data and, on a grid over [−PLOT_EDGE, PLOT_EDGE], the evaluation-mode prediction
/// and the Monte Carlo mean and standard deviation.
struct Experiment {
    x: Array2<f64>,
    y: Array2<f64>,
    /// (x, evaluation-mode prediction, MC mean, MC standard deviation).
    grid: Vec<(f64, f64, f64, f64)>,
}

fn experiment() -> Result<Experiment, dropout::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let n = 96;
    let x = Array2::from_shape_fn((n, 1), |_| rng.random_range(-DATA_EDGE..DATA_EDGE));
    let y = x.mapv(|v| truth(v) + rng.random_range(-0.15..0.15));

    let mut net = Curve::init(&mut rng);
    Trainer::new(Optimizer::adam(2e-3), Loss::MeanSquaredError)
        .epochs(600)
        .batch_size(32)
        .seed(SEED)
        .fit(&mut net, (&x, &y), None, |_| {})?;

    let mut grid = Vec::new();
    for k in 0..=160 {
        let xk = -PLOT_EDGE + 2.0 * PLOT_EDGE * f64::from(k) / 160.0;
        let mc = net.predict_mc(&[xk], MC_SAMPLES, &mut rng)?;
        grid.push((xk, net.forward(&[xk])[0], mc.mean[0], mc.std_dev[0]));
    }
    Ok(Experiment { x, y, grid })
}

/// The mean MC standard deviation inside the data range, or outside it.
fn spread(grid: &[(f64, f64, f64, f64)], inside: bool) -> f64 {
    let stds: Vec<f64> = grid
        .iter()
        .filter(|(x, ..)| (x.abs() <= DATA_EDGE) == inside)
        .map(|&(.., s)| s)
        .collect();
    stds.iter().sum::<f64>() / stds.len().max(1) as f64
}

fn draw(
    path: &Path,
    x: &Array2<f64>,
    y: &Array2<f64>,
    grid: &[(f64, f64, f64, f64)],
) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Monte Carlo dropout: mean ± 2 standard deviations over 500 masks",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(50)
        .build_cartesian_2d(-PLOT_EDGE..PLOT_EDGE, -6.0..6.0)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let blue = RGBColor(31, 119, 180);
    let band: Vec<(f64, f64)> = grid
        .iter()
        .map(|&(x, _, m, s)| (x, m + 2.0 * s))
        .chain(grid.iter().rev().map(|&(x, _, m, s)| (x, m - 2.0 * s)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, blue.mix(0.25).filled())))?
        .label("MC mean ± 2σ")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 24, y + 5)], blue.mix(0.25).filled())
        });
    chart
        .draw_series(LineSeries::new(
            grid.iter().map(|&(x, _, m, _)| (x, m)),
            blue.stroke_width(3),
        ))?
        .label("MC mean")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], blue.stroke_width(3)));
    let orange = RGBColor(255, 127, 14);
    chart
        .draw_series(LineSeries::new(
            grid.iter().map(|&(x, e, _, _)| (x, e)),
            orange.stroke_width(1),
        ))?
        .label("evaluation pass")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], orange.stroke_width(1)));
    chart
        .draw_series(
            x.iter()
                .zip(y.iter())
                .map(|(&x, &y)| Circle::new((x, y), 3, BLACK.filled())),
        )?
        .label("training data")
        .legend(|(x, y)| Circle::new((x + 12, y), 3, BLACK.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{experiment, spread};

    /// README.md quotes the spreads this experiment computes.
    #[test]
    fn the_readme_quotes_what_the_example_computes() {
        let grid = experiment().unwrap().grid;
        let sentence = format!(
            "the mean standard deviation is {:.3}\ninside the data range and {:.3} outside it",
            spread(&grid, true),
            spread(&grid, false)
        );
        let readme = include_str!("../README.md");
        assert!(readme.contains(&sentence), "README.md lacks\n{sentence}");
    }
}
