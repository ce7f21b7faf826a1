//! Single-sample passes allocate nothing: a counting global allocator watches every mode.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dropout::network;
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

use dropout::toy::{Toy, ToyMasks};

/// The system allocator, counting the allocations made by the current thread (tests run on
/// several threads; each counts only its own).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

#[expect(
    unsafe_code,
    reason = "a global allocator is an `unsafe impl`; this one only forwards to the system allocator"
)]
// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System.alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number of allocations `f` makes on this thread.
fn allocations_of<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

network! {
    /// 784-128-10, big enough to take the dispatched kernels.
    struct Mnist<f32> {
        input: 784, dropout(p = 0.5),
        dense 128 relu, dropout(p = 0.5),
        dense 10 softmax,
    }
}

#[test]
fn the_counter_sees_allocations() {
    let (count, v) = allocations_of(|| vec![1_u8; 10]);
    assert_eq!(count, 1);
    assert_eq!(v.len(), 10);
}

#[test]
fn toy_passes_do_not_allocate() {
    let net = Toy::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (count, y) = allocations_of(|| net.forward(&[1.0, 1.0]));
    assert_eq!((count, y), (0, [1.5625]));
    let (count, y) = allocations_of(|| net.forward_masked(&[1.0, 1.0], &ToyMasks::ALL_KEPT));
    assert_eq!((count, y), (0, [7.0]));
    let (count, _) = allocations_of(|| net.sample_masks(&mut rng));
    assert_eq!(count, 0);
    let (count, (y, used)) = allocations_of(|| net.forward_train(&[1.0, 1.0], &mut rng));
    assert_eq!(count, 0);
    assert_eq!(y, net.forward_masked(&[1.0, 1.0], &used));
}

#[test]
fn large_passes_do_not_allocate() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    // A network of 400 KB lives on the heap here only to spare the test thread's stack.
    let net = Box::new(Mnist::init(&mut rng));
    let x = [0.25_f32; 784];
    let masks = net.sample_masks(&mut rng);
    let (count, y) = allocations_of(|| net.forward(&x));
    assert_eq!(count, 0);
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let (count, _) = allocations_of(|| net.forward_masked(&x, &masks));
    assert_eq!(count, 0);
    let (count, _) = allocations_of(|| net.forward_train(&x, &mut rng));
    assert_eq!(count, 0);
}
