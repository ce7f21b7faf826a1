//! Declared networks on a Cortex-M microcontroller: the toy network under the article's masks,
//! an `f64` network through `libm`, networks whose weights come from files, and masks drawn from
//! seeded generators — every value compared bit for bit with the host's (computed by the build
//! script from the same source). Runs in QEMU; the semihosting exit status says whether every
//! value matched.
//!
//! ```sh
//! cd embedded
//! cargo run --release --target thumbv7m-none-eabi      # Cortex-M3, lm3s6965evb
//! cargo run --release --target thumbv7em-none-eabihf   # Cortex-M4F, mps2-an386
//! ```

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;

#[allow(
    dead_code,
    reason = "each `measure-*` build uses one network; `allow`, not `expect`, as the full build uses all"
)]
mod networks;

#[cfg(not(measure))]
include!(concat!(env!("OUT_DIR"), "/expected.rs"));

/// The per-tensor fixture through `microflow`'s `#[model]`, measured beside this crate's.
#[cfg(any(not(measure), feature = "measure-microflow"))]
mod microflow_model {
    #[microflow::model("../models/per_tensor.tflite")]
    pub struct PerTensorMf;

    /// `microflow`'s int8 pass on `x` (its outputs dequantized, as it returns them).
    #[inline(never)]
    pub fn predict(x: [i8; 3]) -> [f32; 2] {
        let input = microflow::buffer::Buffer2D::<i8, 1, 3>::from_row_slice(&x);
        let y = PerTensorMf::predict_quantized(input);
        [y[0], y[1]]
    }
}

/// Without `panic-never`, a panic reports and fails the run.
#[cfg(not(feature = "panic-never"))]
mod panic_exit {
    use core::panic::PanicInfo;

    use cortex_m_semihosting::debug::{self, EXIT_FAILURE};
    use cortex_m_semihosting::hprintln;

    #[panic_handler]
    fn panic(info: &PanicInfo) -> ! {
        hprintln!("panic: {}", info);
        debug::exit(EXIT_FAILURE);
        loop {
            cortex_m::asm::wfi();
        }
    }
}

/// With `panic-never`, the panic handler calls a function that exists nowhere: if any panic
/// path survives optimization, the firmware does not link.
#[cfg(feature = "panic-never")]
#[panic_handler]
#[expect(
    unsafe_code,
    reason = "the check is a call to a function declared but defined nowhere"
)]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "C" {
        fn a_forward_pass_can_panic() -> !;
    }
    // SAFETY: never called in a program that links.
    unsafe { a_forward_pass_can_panic() }
}

#[entry]
fn main() -> ! {
    #[cfg(not(measure))]
    let status = checks();
    #[cfg(measure)]
    let status = {
        measure();
        debug::EXIT_SUCCESS
    };
    debug::exit(status);
    // Not reached under QEMU, whose semihosting exit ends the program.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Only the forwards of the network(s) the `measure-*` feature names, for the footprint.
#[cfg(measure)]
fn measure() {
    use core::hint::black_box;
    #[cfg(any(feature = "measure-toy", feature = "measure-all"))]
    {
        black_box(networks::TOY.forward(black_box(&[1.0, 1.0])));
        black_box(
            networks::TOY.forward_masked(black_box(&[1.0, 1.0]), black_box(&networks::ARTICLE)),
        );
    }
    #[cfg(any(feature = "measure-wide", feature = "measure-all"))]
    {
        // Zero weights: the forwards are what is measured (and, with `panic-never`, checked).
        let wide = black_box(networks::Wide::zeros());
        black_box(wide.forward(black_box(&networks::WIDE_X)));
        black_box(wide.forward_masked(
            black_box(&networks::WIDE_X),
            black_box(&networks::WideMasks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-torch", feature = "measure-all"))]
    {
        black_box(networks::TORCH.forward(black_box(&networks::TORCH_X)));
        black_box(networks::TORCH.forward_masked(
            black_box(&networks::TORCH_X),
            black_box(&networks::TorchModelMasks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-formula", feature = "measure-all"))]
    {
        black_box(networks::FORMULA.forward(black_box(&networks::FORMULA_X)));
        black_box(networks::FORMULA.forward_masked(
            black_box(&networks::FORMULA_X),
            black_box(&networks::FormulaMasks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-sine-i8", feature = "measure-all"))]
    {
        black_box(networks::SINE_I8.forward_quantized(black_box(&[-3])));
        black_box(networks::SINE_I8.forward_quantized_masked(
            black_box(&[-3]),
            black_box(&networks::SineI8Masks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-sine-twin", feature = "measure-all"))]
    {
        black_box(networks::SINE_TWIN.forward_quantized(black_box(&[-3])));
        black_box(networks::SINE_TWIN.forward_quantized_masked(
            black_box(&[-3]),
            black_box(&networks::SineTwinMasks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-sine-f32", feature = "measure-all"))]
    {
        black_box(networks::SINE_F32.forward(black_box(&[0.5])));
        black_box(networks::SINE_F32.forward_masked(
            black_box(&[0.5]),
            black_box(&networks::SineF32Masks::ALL_KEPT),
        ));
    }
    #[cfg(any(feature = "measure-per-tensor", feature = "measure-all"))]
    {
        black_box(networks::PER_TENSOR.forward_quantized(black_box(&networks::PER_TENSOR_X)));
        black_box(networks::PER_TENSOR.forward_quantized_masked(
            black_box(&networks::PER_TENSOR_X),
            black_box(&networks::PerTensorI8Masks::ALL_KEPT),
        ));
    }
    #[cfg(feature = "measure-microflow")]
    black_box(microflow_model::predict(black_box(networks::PER_TENSOR_X)));
}

/// Every value against the host's, then each network's stack use; the exit status.
#[cfg(not(measure))]
fn checks() -> debug::ExitStatus {
    use cortex_m_semihosting::hprintln;
    hprintln!("board {}", env!("FIRMWARE_BOARD"));
    hprintln!("weights toy {}", weight_bytes::<networks::Toy>());
    hprintln!("weights wide {}", weight_bytes::<networks::Wide>());
    hprintln!("weights torch {}", weight_bytes::<networks::TorchModel>());
    hprintln!("weights formula {}", weight_bytes::<networks::Formula>());
    hprintln!("weights sine-f32 {}", weight_bytes::<networks::SineF32>());
    // Int8: a byte per weight, four per bias.
    hprintln!(
        "weights sine-i8 {}",
        int8_weight_bytes::<networks::SineI8>()
    );
    hprintln!(
        "weights sine-twin {}",
        int8_weight_bytes::<networks::SineTwin>()
    );
    // The same file, the same bytes of weights and biases, in both crates.
    let per_tensor = int8_weight_bytes::<networks::PerTensorI8>();
    hprintln!("weights per-tensor {}", per_tensor);
    hprintln!("weights microflow {}", per_tensor);
    let masked = networks::TOY.forward_masked(&[1.0, 1.0], &networks::ARTICLE)[0];
    let eval = networks::TOY.forward(&[1.0, 1.0])[0];
    hprintln!("toy: masked {} eval {}", masked, eval);
    let mut values = networks::checks();
    if cfg!(feature = "tamper") {
        // One bit of one value flipped: the run must then fail.
        values[0] ^= 1;
    }
    let mut at = 0;
    let mut failed = 0;
    for (name, count) in networks::GROUPS {
        let got = values.get(at..at + count).unwrap_or(&[]);
        let want = EXPECTED.get(at..at + count).unwrap_or(&[]);
        if got == want {
            hprintln!("ok    {}", name);
        } else {
            failed += 1;
            hprintln!("FAIL  {}: {:x?}, the host computed {:x?}", name, got, want);
        }
        at += count;
    }
    stacks();
    instructions::report();
    if failed == 0 {
        hprintln!("PASS {} values", networks::VALUES);
        debug::EXIT_SUCCESS
    } else {
        hprintln!("FAIL {} of {} groups", failed, networks::GROUPS.len());
        debug::EXIT_FAILURE
    }
}

/// The stack each network's passes use ([`stack`]).
#[cfg(not(measure))]
fn stacks() {
    use core::hint::black_box;
    let wide = networks::wide();
    let all = networks::ToyMasks::ALL_KEPT;
    stack("toy", "forward", || {
        black_box(networks::TOY.forward(black_box(&[1.0, 1.0])))
    });
    stack("toy", "forward_masked", || {
        black_box(networks::TOY.forward_masked(black_box(&[1.0, 1.0]), black_box(&all)))
    });
    stack("wide", "forward", || {
        black_box(wide.forward(black_box(&networks::WIDE_X)))
    });
    stack("wide", "forward_masked", || {
        black_box(wide.forward_masked(
            black_box(&networks::WIDE_X),
            black_box(&networks::WideMasks::ALL_KEPT),
        ))
    });
    stack("torch", "forward", || {
        black_box(networks::TORCH.forward(black_box(&networks::TORCH_X)))
    });
    stack("torch", "forward_masked", || {
        black_box(networks::TORCH.forward_masked(
            black_box(&networks::TORCH_X),
            black_box(&networks::TorchModelMasks::ALL_KEPT),
        ))
    });
    stack("formula", "forward", || {
        black_box(networks::FORMULA.forward(black_box(&networks::FORMULA_X)))
    });
    stack("formula", "forward_masked", || {
        black_box(networks::FORMULA.forward_masked(
            black_box(&networks::FORMULA_X),
            black_box(&networks::FormulaMasks::ALL_KEPT),
        ))
    });
    let sine_i8_masks = networks::SineI8Masks::ALL_KEPT;
    stack("sine-i8", "forward", || {
        black_box(networks::SINE_I8.forward_quantized(black_box(&[-3])))
    });
    stack("sine-i8", "forward_masked", || {
        black_box(networks::SINE_I8.forward_quantized_masked(black_box(&[-3]), &sine_i8_masks))
    });
    let sine_twin_masks = networks::SineTwinMasks::ALL_KEPT;
    stack("sine-twin", "forward", || {
        black_box(networks::SINE_TWIN.forward_quantized(black_box(&[-3])))
    });
    stack("sine-twin", "forward_masked", || {
        black_box(networks::SINE_TWIN.forward_quantized_masked(black_box(&[-3]), &sine_twin_masks))
    });
    let sine_f32_masks = networks::SineF32Masks::ALL_KEPT;
    stack("sine-f32", "forward", || {
        black_box(networks::SINE_F32.forward(black_box(&[0.5])))
    });
    stack("sine-f32", "forward_masked", || {
        black_box(networks::SINE_F32.forward_masked(black_box(&[0.5]), &sine_f32_masks))
    });
    let per_tensor_masks = networks::PerTensorI8Masks::ALL_KEPT;
    stack("per-tensor", "forward", || {
        black_box(networks::PER_TENSOR.forward_quantized(black_box(&networks::PER_TENSOR_X)))
    });
    stack("per-tensor", "forward_masked", || {
        black_box(
            networks::PER_TENSOR
                .forward_quantized_masked(black_box(&networks::PER_TENSOR_X), &per_tensor_masks),
        )
    });
    stack("microflow", "forward", || {
        black_box(microflow_model::predict(black_box(networks::PER_TENSOR_X)))
    });
}

/// Instructions per inference, counted with SysTick under QEMU's `-icount` (which advances the
/// virtual clock by the same time per instruction, so the core clock's ticks count
/// instructions): each measurement is calibrated against a loop of known length.
#[cfg(not(measure))]
mod instructions {
    use core::hint::black_box;

    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m_semihosting::hprintln;

    use crate::networks;

    /// How many inferences one measurement runs.
    const RUNS: u32 = 50;
    /// The calibration loop's iterations (two instructions each).
    const LOOP: u32 = 200_000;

    /// SysTick ticks that `run` takes, counting down from 2²⁴ − 1 (`None` without SysTick, or
    /// if the count wrapped).
    fn ticks(syst: &mut cortex_m::peripheral::SYST, run: impl FnOnce()) -> Option<u32> {
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        // The counter starts at 0 and loads the reload value at its first tick; reading the
        // control register clears the flag that this first load may set.
        while cortex_m::peripheral::SYST::get_current() == 0 {}
        let _ = syst.has_wrapped();
        let start = cortex_m::peripheral::SYST::get_current();
        run();
        let end = cortex_m::peripheral::SYST::get_current();
        let wrapped = syst.has_wrapped();
        syst.disable_counter();
        (!wrapped && end <= start).then(|| start - end)
    }

    /// `subs; bne` `LOOP` times: 2 · `LOOP` instructions, written out so that the compiler can
    /// neither unroll nor fold them.
    #[expect(unsafe_code, reason = "a counted loop of two known instructions")]
    fn known_loop() {
        let mut n = black_box(LOOP);
        // SAFETY: the assembly only decrements a register the compiler gave it.
        unsafe {
            core::arch::asm!("2:", "subs {n}, {n}, #1", "bne 2b", n = inout(reg) n);
        }
        black_box(n);
    }

    pub fn report() {
        let Some(mut peripherals) = cortex_m::Peripherals::take() else {
            hprintln!("instructions: no SysTick");
            return;
        };
        let syst = &mut peripherals.SYST;
        syst.set_clock_source(SystClkSource::Core);
        let Some(calibration) = ticks(syst, known_loop).filter(|&t| t > 0) else {
            hprintln!("instructions: SysTick does not count");
            return;
        };
        let mut measure = |name: &str, run: &dyn Fn()| {
            let count = ticks(syst, || {
                for _ in 0..RUNS {
                    run();
                }
            });
            // count · (2 · LOOP / calibration) / RUNS, rounded.
            let scale = u64::from(calibration) * u64::from(RUNS);
            match count {
                Some(count) => hprintln!(
                    "instructions {} {}",
                    name,
                    (u64::from(count) * u64::from(2 * LOOP) + scale / 2) / scale
                ),
                None => hprintln!("instructions {}: the count wrapped", name),
            }
        };
        measure("sine-i8 forward_quantized", &|| {
            black_box(networks::SINE_I8.forward_quantized(black_box(&[-3])));
        });
        measure("sine-i8 forward", &|| {
            black_box(networks::SINE_I8.forward(black_box(&[0.5])));
        });
        measure("sine-twin forward_quantized", &|| {
            black_box(networks::SINE_TWIN.forward_quantized(black_box(&[-3])));
        });
        measure("sine-f32 forward", &|| {
            black_box(networks::SINE_F32.forward(black_box(&[0.5])));
        });
        measure("toy forward", &|| {
            black_box(networks::TOY.forward(black_box(&[1.0, 1.0])));
        });
        measure("per-tensor forward_quantized", &|| {
            black_box(networks::PER_TENSOR.forward_quantized(black_box(&networks::PER_TENSOR_X)));
        });
        measure("microflow predict_quantized (per-tensor)", &|| {
            black_box(crate::microflow_model::predict(black_box(
                networks::PER_TENSOR_X,
            )));
        });
    }
}

/// The bytes of a network's weights and biases.
#[cfg(not(measure))]
fn weight_bytes<N: dropout::Network>() -> usize {
    N::SPEC
        .layers
        .iter()
        .map(|l| (l.fan_in + 1) * l.size * core::mem::size_of::<N::Scalar>())
        .sum()
}

/// The bytes of an int8 network's weights and biases: a byte per weight, four per bias.
#[cfg(not(measure))]
fn int8_weight_bytes<N: dropout::int8::QuantizedNetwork>() -> usize {
    N::SPEC.layers.iter().map(|l| (l.fan_in + 4) * l.size).sum()
}

/// What every word of unused stack holds before a measured call.
#[cfg(not(measure))]
const PAINT: u32 = 0xC0DE_CAFE;

/// Runs `pass` and prints how many bytes of stack it used below this function's frame: the
/// free stack is painted first, and the lowest word no longer painted afterwards marks the
/// deepest point the pass reached.
#[cfg(not(measure))]
#[inline(never)]
#[expect(
    unsafe_code,
    reason = "painting the free stack writes and reads memory no Rust value owns"
)]
fn stack<R>(network: &str, pass: &str, run: impl FnOnce() -> R) {
    unsafe extern "C" {
        /// The end of `.bss` and `.uninit` (cortex-m-rt's linker script): the stack may grow down
        /// to here.
        static __sheap: u32;
    }
    let sp = cortex_m::register::msp::read() as usize;
    let bottom = core::ptr::addr_of!(__sheap) as usize;
    // This function calls nothing while painting, and ARM has no red zone: everything below
    // the stack pointer is free.
    let top = sp;
    for word in (bottom..top).step_by(4) {
        // SAFETY: the words between the end of static data and (below) the stack pointer are
        // free stack, which nothing else uses.
        unsafe { (word as *mut u32).write_volatile(PAINT) };
    }
    core::hint::black_box(run());
    let deepest = (bottom..top)
        .step_by(4)
        // SAFETY: as above; reading them back.
        .find(|&word| unsafe { (word as *const u32).read_volatile() } != PAINT)
        .unwrap_or(top);
    cortex_m_semihosting::hprintln!("stack {} {} {}", network, pass, sp - deepest);
}
