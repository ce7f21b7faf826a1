//! What the generated code looks like where users read it: in `cargo doc`, the public types
//! spell sizes as written (`[f32; 2]`, not `[f32; 2usize]`), and the trait implementations users
//! do not call are hidden.

use dropout_macros_backend::try_expand;

fn expansion() -> String {
    let declaration = "
        pub struct Toy<f32> {
            input: 2, dropout(p = 0.5),
            dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] },
            dense 1 identity { weights: [[1, -2, 0.5]], bias: [0.5] },
        }";
    try_expand(declaration.parse().unwrap())
        .expect("a valid declaration")
        .to_string()
}

#[test]
fn sizes_are_plain_literals_in_public_items() {
    let code = expansion();
    for public in [
        "pub h1 : :: dropout :: __private :: Dense < f32 , 2 , 3 >",
        "pub input : [bool ; 2]",
        "pub fn forward (& self , x : & [f32 ; 2]) -> [f32 ; 1]",
        "pub const N_INPUTS : usize = 2 ;",
        "n_inputs : 2 ,",
        "fan_in : 2 , size : 3 ,",
    ] {
        assert!(code.contains(public), "the expansion lacks `{public}`");
    }
}

#[test]
fn internal_impls_are_hidden_and_trait_impls_marked_derived() {
    let code = expansion();
    for header in [
        "impl :: dropout :: __private :: Network for Toy",
        "impl :: dropout :: __private :: Masks for ToyMasks",
        "impl :: core :: fmt :: Display for ToyMasks",
    ] {
        let at = code.find(header).unwrap_or_else(|| panic!("no `{header}`"));
        assert!(
            code[..at].trim_end().ends_with("# [automatically_derived]"),
            "`{header}` is not marked `#[automatically_derived]`"
        );
    }
    for hidden in [
        "unsafe impl :: dropout :: __private :: ZeroBits for Toy",
        "impl :: dropout :: __private :: ForwardLanes < f32 , 2 , 1 > for Toy",
    ] {
        let at = code.find(hidden).unwrap_or_else(|| panic!("no `{hidden}`"));
        assert!(
            code[..at].trim_end().ends_with("# [doc (hidden)]"),
            "`{hidden}` is not hidden from the documentation"
        );
    }
}
