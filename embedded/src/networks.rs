// The networks the firmware runs and the values it checks. This file is compiled twice: into
// the firmware, and into its build script on the host (`include!`), where `checks()` computes
// the values the microcontroller must reproduce bit for bit.

use dropout::network;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
pub use dropout::toy::{Toy, ToyMasks};

network! {
    /// `f64` with every other activation, through `libm`; its first layer (16 × 80 weights,
    /// two storage panels) takes the path of big layers. Initialised from a seeded generator.
    pub struct Wide<f64> {
        input: 16, dropout(p = 0.2),
        dense 80 tanh, dropout(p = 0.5),
        dense 8 leaky_relu(0.1), dropout(p = 0.25),
        dense 5 sigmoid,
        dense 3 softmax,
    }
}

network! {
    /// The model trained in PyTorch that `tests/torch_fixture.rs` checks, its weights read from
    /// the committed safetensors file at compile time.
    pub struct TorchModel<f32> {
        input: 4, dropout(p = 0.1),
        l1: dense 16 relu {
            weights: file("../tests/fixtures/torch_model.safetensors", "1.weight"),
            bias: file("../tests/fixtures/torch_model.safetensors", "1.bias"),
        }, dropout(p = 0.5),
        l4: dense 8 tanh {
            weights: file("../tests/fixtures/torch_model.safetensors", "4.weight"),
            bias: file("../tests/fixtures/torch_model.safetensors", "4.bias"),
        }, dropout(p = 0.25),
        l7: dense 3 identity {
            weights: file("../tests/fixtures/torch_model.safetensors", "7.weight"),
            bias: file("../tests/fixtures/torch_model.safetensors", "7.bias"),
        },
    }
}

network! {
    /// Weights from `tests/fixtures/formula.safetensors`: a layer of 130 neurons in three
    /// storage panels.
    pub struct Formula<f32> {
        input: 3,
        hidden: dense 130 relu {
            weights: file("../tests/fixtures/formula.safetensors", "hidden.weight"),
            bias: file("../tests/fixtures/formula.safetensors", "hidden.bias"),
        }, dropout(p = 0.5),
        output: dense 2 identity {
            weights: file("../tests/fixtures/formula.safetensors", "head.weight"),
            bias: [0.5, -0.25],
        },
    }
}

network! {
    /// The int8 sine model converted by TensorFlow (`tools/tflite_int8.py`), imported from its
    /// `.tflite` file, with dropout declared on its hidden layers for Monte Carlo dropout in
    /// integers.
    pub struct SineI8<i8> {
        input: 1,
        dense 16 relu, dropout(p = 0.2),
        dense 16 relu, dropout(p = 0.2),
        dense 1 identity,
        from: tflite("../models/sine.tflite"),
    }
}

network! {
    /// The same model before quantization: its float weights, for the footprint comparison, and
    /// its int8 twin quantized by the macro (calibrated at compile time on the rows TensorFlow's
    /// converter calibrated with), which runs Monte Carlo dropout in integers as the imported
    /// model does.
    pub struct SineF32<f32> {
        input: 1,
        dense 16 relu {
            weights: file("../models/float/sine.safetensors", "0.weight"),
            bias: file("../models/float/sine.safetensors", "0.bias"),
        }, dropout(p = 0.2),
        dense 16 relu {
            weights: file("../models/float/sine.safetensors", "1.weight"),
            bias: file("../models/float/sine.safetensors", "1.bias"),
        }, dropout(p = 0.2),
        dense 1 identity {
            weights: file("../models/float/sine.safetensors", "2.weight"),
            bias: file("../models/float/sine.safetensors", "2.bias"),
        },
        quantize: int8 as SineTwin,
        calibrate: file("../models/float/sine.safetensors", "x"),
    }
}

network! {
    /// A model with per-tensor weight scales (`tools/tflite_int8.py`): the one fixture the
    /// `microflow` crate also builds, for the footprint of both.
    pub struct PerTensorI8<i8> {
        input: 3, dense 8 relu, dense 6 relu6, dense 2 identity,
        from: tflite("../models/per_tensor.tflite"),
    }
}

/// As [`TOY`].
pub static PER_TENSOR: PerTensorI8 = PerTensorI8::new();
/// The int8 input of the per-tensor model's measurements.
pub const PER_TENSOR_X: [i8; 3] = [-3, 40, 127];

/// As [`TOY`].
pub static SINE_TWIN: SineTwin = SineTwin::new();
/// As [`TOY`].
pub static SINE_I8: SineI8 = SineI8::new();
/// As [`TOY`].
pub static SINE_F32: SineF32 = SineF32::new();
/// The float inputs of the sine checks.
pub const SINE_X: [f32; 4] = [-2.0, -0.3, 0.5, 1.75];

/// Declared weights are `const` data: in flash, never copied to RAM.
pub static TOY: Toy = Toy::new();
/// As [`TOY`].
pub static TORCH: TorchModel = TorchModel::new();
/// As [`TOY`].
pub static FORMULA: Formula = Formula::new();

/// The article's masks μ⁰…μ³.
pub const ARTICLE: ToyMasks = ToyMasks {
    input: [true, true],
    h1: [true, false, true],
    h2: [true, true, false],
    h3: [true, true],
};

/// The inputs of the checks.
pub const WIDE_X: [f64; 16] = [
    0.5, -1.25, 2.0, 0.125, -0.75, 1.5, -2.5, 0.0, 3.0, -0.375, 0.875, -1.0, 0.25, 1.75, -0.5, 2.25,
];
/// As [`WIDE_X`].
pub const TORCH_X: [f32; 4] = [0.271_276_5, -1.272_918_3, 0.502_697_05, 0.418_080_7];
/// As [`WIDE_X`].
pub const FORMULA_X: [f32; 3] = [1.5, -0.5, 2.0];

/// The `Wide` network the checks use.
pub fn wide() -> Wide {
    Wide::init(&mut ChaCha8Rng::seed_from_u64(3))
}

/// The groups of checked values, in order, with how many values each has.
pub const GROUPS: [(&str, usize); 25] = [
    ("toy, training pass, the article's masks", 1),
    ("toy, evaluation pass", 1),
    ("toy, masks sampled from ChaCha8 seed 7", 1),
    ("toy, forward_train from ChaCha8 seed 7", 1),
    ("wide f64, weights from ChaCha8 seed 3", 4),
    ("wide f64, evaluation pass", 3),
    ("wide f64, masks sampled from ChaCha8 seed 5", 2),
    ("wide f64, training pass under them", 3),
    ("torch fixture, evaluation pass", 3),
    ("torch fixture, masks sampled from ChaCha8 seed 9", 1),
    ("torch fixture, training pass under them", 3),
    ("formula fixture, evaluation pass", 2),
    ("formula fixture, masks sampled from ChaCha8 seed 13", 3),
    ("formula fixture, training pass under them", 2),
    ("int8 sine, forward_quantized at every int8 input", 32),
    ("int8 sine, forward at four floats", 4),
    ("int8 sine, masks sampled from ChaCha8 seed 17", 1),
    (
        "int8 sine, forward_quantized_masked under them at 8 inputs",
        1,
    ),
    (
        "int8 sine, MC dropout: mean of 64 dequantized passes, ChaCha8 seed 19",
        1,
    ),
    ("f32 sine, evaluation pass at four floats", 4),
    (
        "int8 twin of the f32 sine, forward_quantized at every int8 input",
        32,
    ),
    ("int8 twin, forward at four floats", 4),
    ("int8 twin, masks sampled from ChaCha8 seed 23", 1),
    (
        "int8 twin, forward_quantized_masked under them at 8 inputs",
        1,
    ),
    (
        "int8 twin, MC dropout: mean of 64 dequantized passes, ChaCha8 seed 29",
        1,
    ),
];

/// The number of checked values.
pub const VALUES: usize = {
    let mut total = 0;
    let mut k = 0;
    while k < GROUPS.len() {
        total += GROUPS[k].1;
        k += 1;
    }
    total
};

/// Collects bit patterns in the order of [`GROUPS`].
struct Values {
    bits: [u64; VALUES],
    len: usize,
}

impl Values {
    fn push(&mut self, bits: u64) {
        if let Some(slot) = self.bits.get_mut(self.len) {
            *slot = bits;
        }
        self.len += 1;
    }

    fn f32s(&mut self, values: &[f32]) {
        for v in values {
            self.push(u64::from(v.to_bits()));
        }
    }

    /// Int8 values, 8 to a value.
    fn i8s(&mut self, values: &[i8]) {
        for chunk in values.chunks(8) {
            let mut word = [0_u8; 8];
            for (byte, v) in word.iter_mut().zip(chunk) {
                *byte = v.cast_unsigned();
            }
            self.push(u64::from_le_bytes(word));
        }
    }

    fn f64s(&mut self, values: &[f64]) {
        for v in values {
            self.push(v.to_bits());
        }
    }

    /// Mask bits, 64 to a value.
    fn masks(&mut self, sites: &[&[bool]]) {
        let mut word = 0_u64;
        let mut count = 0;
        for &bit in sites.iter().flat_map(|site| site.iter()) {
            word |= u64::from(bit) << (count % 64);
            count += 1;
            if count % 64 == 0 {
                self.push(word);
                word = 0;
            }
        }
        if count % 64 != 0 {
            self.push(word);
        }
    }
}

/// Every checked value as bits (`f32`s widened), in the order of [`GROUPS`].
pub fn checks() -> [u64; VALUES] {
    let mut v = Values {
        bits: [0; VALUES],
        len: 0,
    };
    v.f32s(&TOY.forward_masked(&[1.0, 1.0], &ARTICLE));
    v.f32s(&TOY.forward(&[1.0, 1.0]));
    let m = TOY.sample_masks(&mut ChaCha8Rng::seed_from_u64(7));
    v.masks(&[&m.input, &m.h1, &m.h2, &m.h3]);
    v.f32s(
        &TOY.forward_train(&[1.0, 1.0], &mut ChaCha8Rng::seed_from_u64(7))
            .0,
    );

    let wide = wide();
    // A few weights and biases of each layer, as drawn.
    v.f64s(&[
        wide.h1.weight(0, 0).unwrap_or(f64::NAN),
        wide.h1.weight(79, 15).unwrap_or(f64::NAN),
        wide.h2.weight(7, 79).unwrap_or(f64::NAN),
        wide.output.weight(2, 4).unwrap_or(f64::NAN),
    ]);
    v.f64s(&wide.forward(&WIDE_X));
    let m = wide.sample_masks(&mut ChaCha8Rng::seed_from_u64(5));
    v.masks(&[&m.input, &m.h1, &m.h2]);
    v.f64s(&wide.forward_masked(&WIDE_X, &m));

    v.f32s(&TORCH.forward(&TORCH_X));
    let m = TORCH.sample_masks(&mut ChaCha8Rng::seed_from_u64(9));
    v.masks(&[&m.input, &m.l1, &m.l4]);
    v.f32s(&TORCH.forward_masked(&TORCH_X, &m));

    v.f32s(&FORMULA.forward(&FORMULA_X));
    let m = FORMULA.sample_masks(&mut ChaCha8Rng::seed_from_u64(13));
    v.masks(&[&m.hidden]);
    v.f32s(&FORMULA.forward_masked(&FORMULA_X, &m));

    let mut every = [0_i8; 256];
    for (slot, x) in every.iter_mut().zip(-128..=127_i8) {
        *slot = SINE_I8.forward_quantized(&[x])[0];
    }
    v.i8s(&every);
    for x in SINE_X {
        v.f32s(&SINE_I8.forward(&[x]));
    }
    let m = SINE_I8.sample_masks(&mut ChaCha8Rng::seed_from_u64(17));
    v.masks(&[&m.h1, &m.h2]);
    // Inputs −128, −96, …, 96.
    let masked: [i8; 8] = core::array::from_fn(|k| {
        let x = i8::MIN.wrapping_add_unsigned(32 * k as u8);
        SINE_I8.forward_quantized_masked(&[x], &m)[0]
    });
    v.i8s(&masked);
    v.f32s(&[sine_mc(&mut ChaCha8Rng::seed_from_u64(19))]);
    for x in SINE_X {
        v.f32s(&SINE_F32.forward(&[x]));
    }

    for (slot, x) in every.iter_mut().zip(-128..=127_i8) {
        *slot = SINE_TWIN.forward_quantized(&[x])[0];
    }
    v.i8s(&every);
    for x in SINE_X {
        v.f32s(&SINE_TWIN.forward(&[x]));
    }
    let m = SINE_TWIN.sample_masks(&mut ChaCha8Rng::seed_from_u64(23));
    v.masks(&[&m.h1, &m.h2]);
    let masked: [i8; 8] = core::array::from_fn(|k| {
        let x = i8::MIN.wrapping_add_unsigned(32 * k as u8);
        SINE_TWIN.forward_quantized_masked(&[x], &m)[0]
    });
    v.i8s(&masked);
    v.f32s(&[twin_mc(&mut ChaCha8Rng::seed_from_u64(29))]);
    v.bits
}

/// Monte Carlo dropout in integers without an allocator: the mean of 64 dequantized masked
/// passes of the int8 sine model at 0.5.
pub fn sine_mc(rng: &mut ChaCha8Rng) -> f32 {
    let mut sum = 0.0_f32;
    for _ in 0..64 {
        let masks = SINE_I8.sample_masks(rng);
        sum += SINE_I8.forward_masked(&[0.5], &masks)[0];
    }
    sum / 64.0
}

/// As [`sine_mc`], for the twin.
pub fn twin_mc(rng: &mut ChaCha8Rng) -> f32 {
    let mut sum = 0.0_f32;
    for _ in 0..64 {
        let masks = SINE_TWIN.sample_masks(rng);
        sum += SINE_TWIN.forward_masked(&[0.5], &masks)[0];
    }
    sum / 64.0
}
