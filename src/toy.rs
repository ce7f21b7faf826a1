//! The toy network of "Comprehend Dropout: Deep Learning by doing toy examples", declared with
//! [`network!`](crate::network) — the network this crate grew from, ready to use, and an example
//! of what the macro generates: [`Toy`] and [`ToyMasks`] are exactly what any declaration
//! produces.
//!
//! Two inputs, three ReLU hidden layers with dropout sites μ¹…μ³ (p = 0.5), one linear output,
//! under the article's `classic` scaling. The site μ⁰ on the input keeps everything (keep = 1),
//! as in the article. For x = (1, 1) and the article's masks μ⁰ = (1, 1), μ¹ = (1, 0, 1),
//! μ² = (1, 1, 0), μ³ = (1, 1), a training pass gives −5; every mask all ones gives 7; the
//! evaluation pass gives 1.5625.
//!
//! ```
//! use dropout::toy::{Toy, ToyMasks};
//!
//! static TOY: Toy = Toy::new();
//! let article = ToyMasks {
//!     input: [true, true],
//!     h1: [true, false, true],
//!     h2: [true, true, false],
//!     h3: [true, true],
//! };
//! assert_eq!(TOY.forward_masked(&[1.0, 1.0], &article), [-5.0]);
//! assert_eq!(TOY.forward_masked(&[1.0, 1.0], &ToyMasks::ALL_KEPT), [7.0]);
//! assert_eq!(TOY.forward(&[1.0, 1.0]), [1.5625]);
//! ```
//!
//! The declaration is this module's source; `cargo run --example toy` walks through it layer by
//! layer.

crate::network! {
    /// The toy network of "Comprehend Dropout": 2 inputs, three ReLU hidden layers with dropout
    /// sites μ¹…μ³, one linear output. The article computes by hand with classic scaling.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Toy<f32> {
        scaling: classic,
        input: 2, dropout(keep = 1.0),              // μ⁰: all ones
        dense 3 relu {
            weights: [[ 1.0, -1.0],
                      [ 2.0,  1.0],
                      [-1.0,  3.0]],
            bias:     [ 0.5, -1.0, 0.0],
        }, dropout(p = 0.5),                        // μ¹
        dense 3 relu {
            weights: [[ 1.0,  1.0, -1.0],
                      [ 0.5, -2.0,  1.0],
                      [-1.0,  1.0,  2.0]],
            bias:     [ 0.0,  0.5, -1.0],
        }, dropout(p = 0.5),                        // μ²
        dense 2 relu {
            weights: [[ 2.0, -1.0,  1.0],
                      [ 1.0,  1.0, -1.0]],
            bias:     [ 1.0,  0.0],
        }, dropout(p = 0.5),                        // μ³
        dense 1 identity {
            weights: [[ 1.0, -2.0]],
            bias:     [ 0.5],
        },

        tests: auto,                                // property tests of the conventions
        test article {
            input: [1.0, 1.0],
            masks: [[1, 1], [1, 0, 1], [1, 1, 0], [1, 1]],
            expect: [-5.0],
        }
        test all_kept {
            input: [1.0, 1.0],
            masks: [[1, 1], [1, 1, 1], [1, 1, 1], [1, 1]],
            expect: [7.0],
        }
        test evaluation { input: [1.0, 1.0], expect: [1.5625] }
    }
}
