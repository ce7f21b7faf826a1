// Generated tests live in a module beside the network, which cannot see a network declared
// inside a function.
fn main() {
    dropout::network! {
        struct Local<f64> {
            input: 1,
            dense 1 identity { weights: [[3]], bias: [1] },
            test seven { input: [2], expect: [7] }
        }
    }
    let _ = Local::new();
}
