//! How long `network!` takes to parse, check and expand declarations with literal weights.
//!
//! ```text
//! cargo bench --bench expand
//! ```
//!
//! It calls `dropout-macros-backend` directly: the `proc-macro` crate is only a shim over it,
//! and a benchmark cannot link a `proc-macro` crate.

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
        dropout_macros_backend::try_expand(big.clone()).is_ok(),
        "the declaration is valid"
    );
    c.bench_function("C1/expand_100k_weights", |b| {
        b.iter(|| dropout_macros_backend::try_expand(black_box(big.clone())));
    });
    c.bench_function("expand_toy", |b| {
        b.iter(|| dropout_macros_backend::try_expand(black_box(toy.clone())));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = expansion
}
criterion_main!(benches);
