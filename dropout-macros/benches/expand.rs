//! How long `network!` takes to parse, check and expand declarations with literal weights.
//!
//! ```text
//! cargo bench -p dropout-macros --bench expand
//! ```
//!
//! The macro's modules are compiled here as ordinary modules (a proc-macro crate cannot be
//! linked into a benchmark), which is why its pipeline takes `proc_macro2` tokens.

// Items the macro uses only through its entry point, and the unit-test modules of the included
// files (compiled without their harness here), are unused in this benchmark.
#![allow(dead_code, missing_docs, unused_imports)]

#[path = "../src/ast.rs"]
mod ast;
#[path = "../src/check/mod.rs"]
mod check;
#[path = "../src/errors.rs"]
mod errors;
#[path = "../src/expand/mod.rs"]
mod expand;
#[path = "../src/files.rs"]
mod files;
#[path = "../src/model.rs"]
mod model;
#[path = "../src/pipeline.rs"]
mod pipeline;
#[path = "../src/suggest.rs"]
mod suggest;

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// A declaration `n_inputs → sizes…` with literal weights `((k % 201) − 100) / 1000`.
pub fn declaration(n_inputs: usize, sizes: &[usize]) -> String {
    let mut src = format!("struct Big<f32> {{ input: {n_inputs},");
    let mut fan_in = n_inputs;
    let mut k = 0_usize;
    let mut next = || {
        k += 1;
        (k * 7919 % 201) as f64 / 1000.0 - 0.1
    };
    for &size in sizes {
        src.push_str(" dense ");
        let _ = write!(src, "{size} relu {{ weights: [");
        for _ in 0..size {
            src.push('[');
            for _ in 0..fan_in {
                let _ = write!(src, "{:.3},", next());
            }
            src.push_str("],");
        }
        src.push_str("], bias: [");
        for _ in 0..size {
            let _ = write!(src, "{:.3},", next());
        }
        src.push_str("] },");
        fan_in = size;
    }
    src.push('}');
    src
}

fn expansion(c: &mut Criterion) {
    // 784·128 + 128·10 = 101,632 weights: the compile-time workload C1.
    let big: proc_macro2::TokenStream = declaration(784, &[128, 10]).parse().expect("valid tokens");
    let toy: proc_macro2::TokenStream =
        declaration(2, &[3, 3, 2, 1]).parse().expect("valid tokens");
    assert!(
        pipeline::try_expand(big.clone()).is_ok(),
        "the declaration is valid"
    );
    c.bench_function("C1/expand_100k_weights", |b| {
        b.iter(|| pipeline::try_expand(black_box(big.clone())));
    });
    c.bench_function("expand_toy", |b| {
        b.iter(|| pipeline::try_expand(black_box(toy.clone())));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = expansion
}
criterion_main!(benches);
