//! The instruction sets the kernels are compiled for, and the choice among them at run time.

use core::fmt;

/// The vector instructions that a network's large layers and batched passes run on.
///
/// The inner loops are compiled once for each set; with the `std` feature the widest one the
/// CPU supports is chosen at run time ([`InstructionSet::detected`]), without it the portable
/// code runs. Layers with fewer than 1024 weights are compiled inline for the build's own target
/// instead, where the choice would cost more than it saves.
///
/// Single-sample, masked, traced and lane-parallel passes give bit-identical results on every
/// set: each output is summed in the same order with separate multiplies and adds. Batched
/// matrix products (the `forward_batch` of large networks, and training) use fused
/// multiply-adds where the set has them, so their results may differ from the single-sample
/// pass in the last bits of each term.
///
/// # Example
/// ```
/// use dropout::InstructionSet;
/// use dropout::toy::Toy;
///
/// let net = Toy::new();
/// let x = [1.0, 1.0];
/// // Every set this CPU has gives the same bits.
/// for set in InstructionSet::ALL.into_iter().filter(|set| set.is_available()) {
///     let y = set.run(|| net.forward(&x))?;
///     assert_eq!(y, net.forward(&x));
/// }
/// # Ok::<(), dropout::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum InstructionSet {
    /// Plain Rust for the build's target: what runs without `std`, on other architectures and on
    /// x86-64 CPUs without AVX2 and FMA.
    Portable,
    /// 256-bit vectors: AVX2 with FMA (x86-64).
    Avx2,
    /// 512-bit vectors: AVX-512F with AVX2 and FMA (x86-64).
    Avx512,
}

impl InstructionSet {
    /// Every set, narrowest first.
    pub const ALL: [InstructionSet; 3] = [
        InstructionSet::Portable,
        InstructionSet::Avx2,
        InstructionSet::Avx512,
    ];

    /// The widest set this CPU supports, which is what the kernels run on unless
    /// [`InstructionSet::run`] narrows it.
    pub fn detected() -> InstructionSet {
        Self::ALL
            .into_iter()
            .rev()
            .find(|set| set.is_available())
            .unwrap_or(InstructionSet::Portable)
    }

    /// Whether this CPU can run the set (always true for [`InstructionSet::Portable`]; without
    /// the `std` feature, false for the others, which are then never chosen).
    pub fn is_available(self) -> bool {
        match self {
            InstructionSet::Portable => true,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            InstructionSet::Avx2 => {
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            }
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            InstructionSet::Avx512 => {
                std::is_x86_feature_detected!("avx512f") && InstructionSet::Avx2.is_available()
            }
            #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
            _ => false,
        }
    }

    /// The set the kernels run on in this thread now: [`InstructionSet::detected`], or the set
    /// [`InstructionSet::run`] chose.
    pub fn current() -> InstructionSet {
        #[cfg(feature = "std")]
        if let Some(set) = choice::get() {
            return set;
        }
        Self::detected()
    }

    /// Runs `work` on this thread with the kernels limited to this set, then restores the
    /// previous choice: to compare results across sets, or to measure one.
    ///
    /// # Errors
    /// [`Error::InstructionSet`](crate::Error::InstructionSet) if this CPU cannot run the set.
    #[cfg(feature = "std")]
    pub fn run<R>(self, work: impl FnOnce() -> R) -> Result<R, crate::Error> {
        if !self.is_available() {
            return Err(crate::Error::InstructionSet(self));
        }
        let previous = choice::replace(Some(self));
        // Restored on unwinding too, so a panic in `work` does not leave the thread narrowed.
        let _restore = choice::Restore(previous);
        Ok(work())
    }
}

impl fmt::Display for InstructionSet {
    /// `portable`, `AVX2` or `AVX-512`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstructionSet::Portable => "portable",
            InstructionSet::Avx2 => "AVX2",
            InstructionSet::Avx512 => "AVX-512",
        })
    }
}

/// The per-thread choice of [`InstructionSet::run`].
#[cfg(feature = "std")]
mod choice {
    use core::cell::Cell;

    use super::InstructionSet;

    std::thread_local! {
        static CHOICE: Cell<Option<InstructionSet>> = const { Cell::new(None) };
    }

    pub(super) fn get() -> Option<InstructionSet> {
        CHOICE.with(Cell::get)
    }

    pub(super) fn replace(set: Option<InstructionSet>) -> Option<InstructionSet> {
        CHOICE.with(|choice| choice.replace(set))
    }

    /// Puts the previous choice back when dropped.
    pub(super) struct Restore(pub(super) Option<InstructionSet>);

    impl Drop for Restore {
        fn drop(&mut self) {
            replace(self.0);
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::InstructionSet;

    #[test]
    fn run_narrows_then_restores() {
        let outside = InstructionSet::current();
        let inside = InstructionSet::Portable
            .run(InstructionSet::current)
            .unwrap();
        assert_eq!(inside, InstructionSet::Portable);
        assert_eq!(InstructionSet::current(), outside);
        let unwound = std::panic::catch_unwind(|| {
            InstructionSet::Portable.run(|| panic!("inside")).unwrap();
        });
        assert!(unwound.is_err());
        assert_eq!(InstructionSet::current(), outside);
    }

    #[test]
    fn detected_is_available_and_the_widest() {
        let detected = InstructionSet::detected();
        assert!(detected.is_available());
        assert!(
            InstructionSet::ALL
                .iter()
                .all(|set| !set.is_available() || *set <= detected)
        );
        for set in InstructionSet::ALL {
            assert_eq!(set.run(|| ()).is_ok(), set.is_available(), "{set}");
        }
    }
}
