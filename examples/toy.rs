//! The toy network of "Comprehend Dropout: Deep Learning by doing toy examples", computed layer
//! by layer.
//!
//! ```text
//! cargo run --example toy              # the article's masks
//! cargo run --example toy -- --seed 7  # fresh masks drawn from ChaCha8 with seed 7
//! ```

mod output;

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use dropout::network;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::toy::{Toy, ToyMasks};

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

network! {
    /// The toy with DropConnect (Wan et al. 2013) on the weights into `h3` instead of the unit
    /// site μ² in front of them: each of those six weights has its own mask bit. The weights are
    /// copied from `Toy`.
    pub struct ToyConnect<f32> {
        scaling: classic,
        input: 2, dropout(keep = 1.0),
        dense 3 relu, dropout(p = 0.5),
        dense 3 relu,
        dense 2 relu dropconnect(p = 0.5), dropout(p = 0.5),
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
    let masks = match seed {
        None => ARTICLE_MASKS,
        Some(seed) => toy.sample_masks(&mut ChaCha8Rng::seed_from_u64(seed)),
    };
    let text = walk_through(&toy, seed, &masks).map_err(|err| err.to_string());
    let (walk, ensemble) = match (text, ensemble(&toy, seed).map_err(|err| err.to_string())) {
        (Ok(walk), Ok(ensemble)) => (walk, ensemble),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    print!("{walk}");
    match write_diagram(&toy, &masks) {
        Ok(picture) => println!(
            "(the network with these masks is drawn in {})\n",
            picture.display()
        ),
        Err(err) => eprintln!("warning: the diagram was not written: {err}"),
    }
    print!("{ensemble}");
    match write_explorer(&toy, &masks) {
        Ok(page) => println!(
            "\nExplore it: open {} in a browser, click units to drop them.",
            page.display()
        ),
        Err(err) => eprintln!("warning: the explorer page was not written: {err}"),
    }
    ExitCode::SUCCESS
}

/// The training pass under `masks`, the same masks under inverted scaling, and the evaluation
/// passes, as text.
fn walk_through(toy: &Toy, seed: Option<u64>, masks: &ToyMasks) -> Result<String, fmt::Error> {
    let x = [1.0, 1.0];
    let mut out = String::new();
    writeln!(out, "{}\n", Toy::SPEC)?;
    match seed {
        None => writeln!(
            out,
            "Training pass for x = (1, 1) with the article's masks {masks}:\n"
        )?,
        Some(seed) => writeln!(
            out,
            "Training pass for x = (1, 1) with masks drawn from ChaCha8 (seed {seed}): {masks}\n"
        )?,
    }
    writeln!(out, "{}", toy.trace(&x, masks))?;
    let [all_kept] = toy.forward_masked(&x, &ToyMasks::ALL_KEPT);
    writeln!(
        out,
        "Every mask all ones (the undropped network): prediction {all_kept}"
    )?;
    let [classic] = toy.forward(&x);
    writeln!(
        out,
        "Evaluation mode, classic scaling (each site's activations × its keep probability): {classic}"
    )?;
    let inverted = ToyInverted {
        h1: toy.h1,
        h2: toy.h2,
        h3: toy.h3,
        output: toy.output,
    };
    let [inverted_eval] = inverted.forward(&x);
    writeln!(
        out,
        "Evaluation mode, inverted scaling (evaluation is the undropped network): {inverted_eval}"
    )?;
    let [inverted_masked] = inverted.forward_masked(&x, &ToyInverted::masks_from(masks));
    writeln!(
        out,
        "The same masks under inverted scaling (kept units × 1/keep = 2): prediction {inverted_masked}"
    )?;
    writeln!(
        out,
        "\nEvaluation pass under classic scaling, layer by layer:\n\n{}",
        toy.trace_eval(&x)
    )?;
    drop_connect(&mut out, toy, masks)?;
    Ok(out)
}

/// DropConnect on the weights into `h3`: with every neuron's row equal to μ² it is the unit
/// pass; with rows of its own it is a pass unit dropout cannot express.
fn drop_connect(out: &mut String, toy: &Toy, masks: &ToyMasks) -> fmt::Result {
    let x = [1.0, 1.0];
    let connect = ToyConnect {
        h1: toy.h1,
        h2: toy.h2,
        h3: toy.h3,
        output: toy.output,
    };
    let as_units = ToyConnectMasks {
        input: masks.input,
        h1: masks.h1,
        h3: masks.h3,
        h3_weights: [masks.h2; 2],
    };
    let [same] = connect.forward_masked(&x, &as_units);
    let own_rows = ToyConnectMasks {
        h3_weights: [[false, true, true], [true, true, false]],
        ..as_units
    };
    let [other] = connect.forward_masked(&x, &own_rows);
    let [eval] = connect.forward(&x);
    writeln!(
        out,
        "DropConnect on the weights into h3 (p = 0.5) instead of the unit site μ²:"
    )?;
    writeln!(
        out,
        "  every row of M(h3) equal to μ² = {}: prediction {same}",
        Bits(&masks.h2)
    )?;
    writeln!(
        out,
        "  M(h3) = ((0, 1, 1), (1, 1, 0)), a row per neuron of h3: prediction {other}"
    )?;
    writeln!(
        out,
        "  evaluation (each weight × keep = 0.5, as a unit site × keep): {eval}"
    )
}

/// Mask bits as `(1, 0, 1)`.
struct Bits<'a>(&'a [bool]);

impl fmt::Display for Bits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (idx, &kept) in self.0.iter().enumerate() {
            if idx > 0 {
                f.write_str(", ")?;
            }
            f.write_str(if kept { "1" } else { "0" })?;
        }
        f.write_str(")")
    }
}

/// Training-mode dropout makes the network an ensemble of 2⁸ thinned networks (μ⁰ keeps
/// everything); the evaluation pass only approximates the ensemble's mean.
fn ensemble(toy: &Toy, seed: Option<u64>) -> Result<String, dropout::Error> {
    let x = [1.0, 1.0];
    let mc_seed = seed.unwrap_or(0);
    let exact = toy.exact_moments(&x)?;
    let mc = toy.predict_mc(&x, MC_SAMPLES, &mut ChaCha8Rng::seed_from_u64(mc_seed))?;
    let [classic] = toy.forward(&x);
    Ok(format!(
        "The training-mode ensemble for x = (1, 1):\n  \
         evaluation pass (weight scaling)     {classic}\n  \
         exact mean ± std over {} masks      {:.4} ± {:.4}\n  \
         Monte Carlo dropout, {} samples   {:.4} ± {:.4}  (ChaCha8, seed {mc_seed})\n",
        exact.passes, exact.mean[0], exact.std_dev[0], mc.passes, mc.mean[0], mc.std_dev[0]
    ))
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

/// Draws the network under `masks` into `toy.svg` beside this example's executable.
fn write_diagram(toy: &Toy, masks: &ToyMasks) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let picture = output::path("toy.svg")?;
    std::fs::write(&picture, toy.diagram(Some(masks))?)?;
    Ok(picture)
}

/// Writes the interactive page for x = (1, 1) under `masks` into `toy.html` beside this
/// example's executable.
fn write_explorer(toy: &Toy, masks: &ToyMasks) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let page = output::path("toy.html")?;
    toy.explorer(&[1.0, 1.0]).masks(masks).save(&page)?;
    Ok(page)
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

#[cfg(test)]
mod tests {
    use super::{ARTICLE_MASKS, Toy, ensemble, walk_through};

    /// The `text` blocks of README.md's section `title`.
    fn readme_blocks(title: &str) -> Vec<String> {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with(title))
            .unwrap_or("");
        section
            .split("```text\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_readme_quotes_this_example() {
        let toy = Toy::new();
        let output =
            walk_through(&toy, None, &ARTICLE_MASKS).unwrap() + &ensemble(&toy, None).unwrap();
        let quoted = readme_blocks("The toy network, layer by layer")
            .into_iter()
            .chain(readme_blocks("Two scaling conventions"))
            .chain(readme_blocks("Dropout as an ensemble"));
        let mut lines = 0;
        for block in quoted {
            for line in block.lines().filter(|line| !line.is_empty()) {
                assert!(
                    output.lines().any(|printed| printed == line),
                    "README.md quotes a line the example does not print:\n{line}\n\nit prints:\n{output}"
                );
                lines += 1;
            }
        }
        assert_eq!(lines, 20, "the README's excerpts were not found");
    }
}
